//! A simulated year of operations, as issue 6 asks: the initial ceremony; twelve monthly
//! `claimed` re-signings, each moving that month's projects from the online system's
//! `recently-claimed` (month 6 carries a conflicting registration, which is refused); one
//! root rotation that replaces a keyholder (month 9); and a targets re-signing done by
//! keyholders signing apart (month 12). The test plays the online system too (project
//! roles, recently-claimed, unclaimed, snapshot, timestamp), and after every step the whole
//! published repository must pass python-tuf (static checks and its real Updater) and
//! `tuf-ceremony verify`'s checks.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tuf_ceremony::audit::verify::{Options as VerifyOptions, verify_path};
use tuf_ceremony::ceremony::claims::{Batch, ClaimError};
use tuf_ceremony::ceremony::engine::{Engine, Options};
use tuf_ceremony::ceremony::job::{Job, Update, apply_claims, read_current, registrations_from_recently_claimed};
use tuf_ceremony::ceremony::plan::Plan;
use tuf_ceremony::ceremony::rehearse::passphrase_file;
use tuf_ceremony::ceremony::tokens::Tokens;
use tuf_ceremony::ops::signing_apart as sa;
use tuf_ceremony::signer::software::SoftwareKey;
use tuf_ceremony::signer::{Signer, sign_metadata};
use tuf_ceremony::tuf::finding::Clients;
use tuf_ceremony::tuf::keys::{Algorithm, keyid};
use tuf_ceremony::tuf::metadata::*;

/// The online system of the simulated PyPI: its keys, and the versions it has published.
struct Online {
    keys: BTreeMap<String, SoftwareKey>,
    /// project → (developer key, role version published)
    projects: BTreeMap<String, SoftwareKey>,
    recently_claimed: u64,
    snapshot: u64,
    timestamp: u64,
}

/// The year's state: the rehearsal folder (plan, tokens) and the published repository.
struct Year {
    tmp: PathBuf,
    dir: PathBuf,
    repo: PathBuf,
    online: Online,
    py: Option<PathBuf>,
}

fn load(p: &Path) -> Metadata {
    Metadata::from_bytes(&std::fs::read(p).unwrap(), Mode::Strict).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn newest(dir: &Path, role: &str) -> (u64, PathBuf) {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            let v: u64 = n.strip_suffix(&format!(".{role}.json"))?.parse().ok()?;
            Some((v, dir.join(n)))
        })
        .max()
        .unwrap_or_else(|| panic!("no {role} in {}", dir.display()))
}

impl Year {
    fn begin() -> Self {
        let tmp = tempfile::tempdir().unwrap().keep();
        let dir = tmp.join("ceremony");
        let out = Command::new(support::bin()).args(["rehearse", "--yes", "--out"]).arg(&dir).output().unwrap();
        assert!(out.status.success(), "initial ceremony: {}", String::from_utf8_lossy(&out.stderr));
        let media = std::fs::read_dir(dir.join("media")).unwrap().next().unwrap().unwrap().path();
        let repo = tmp.join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        for f in ["1.root.json", "1.targets.json", "1.claimed.json"] {
            std::fs::copy(media.join("metadata").join(f), repo.join(f)).unwrap();
        }
        let pass = std::fs::read_to_string(dir.join("online-keys/REHEARSAL-PASSPHRASE")).unwrap();
        let keys = ["snapshot", "timestamp", "recently-claimed", "unclaimed"]
            .iter()
            .map(|n| {
                let pem = std::fs::read_to_string(dir.join(format!("online-keys/{n}.key.pem"))).unwrap();
                (n.to_string(), SoftwareKey::from_encrypted_pem(&pem, pass.trim().as_bytes(), *n).unwrap())
            })
            .collect();
        let py = support::python();
        let mut y = Year { tmp, dir, repo, online: Online { keys, projects: BTreeMap::new(), recently_claimed: 0, snapshot: 0, timestamp: 0 }, py };
        y.publish_recently_claimed(&[]);
        y.write_online("1.unclaimed.json", Signed::Targets(Targets::new(1, chrono::Utc::now() + chrono::Duration::days(1))), "unclaimed");
        y.publish_snapshot();
        y.check("initial ceremony");
        y
    }

    fn write_online(&mut self, name: &str, signed: Signed, key: &str) {
        let mut md = Metadata::new(signed);
        let k = self.online.keys.get_mut(key).unwrap_or_else(|| self.online.projects.get_mut(key).expect("a key"));
        sign_metadata(&mut md, k).unwrap();
        std::fs::write(self.repo.join(name), tuf_ceremony::tuf::write(&md, Clients::ALL).unwrap()).unwrap();
    }

    /// New projects register: each gets a developer key and its own (developer-signed) role
    /// with one release; recently-claimed delegates to them. `extra` are (project, new key)
    /// registrations for projects that already exist (a conflict for the operator to refuse).
    fn register(&mut self, projects: &[String], conflicting: &[String]) {
        for p in projects {
            let k = SoftwareKey::generate(Algorithm::Ed25519, p.as_str()).unwrap();
            self.online.projects.insert(p.clone(), k);
            let mut t = Targets::new(1, chrono::Utc::now() + chrono::Duration::days(365));
            t.targets.insert(format!("{p}/{p}-1.0.tar.gz"), TargetFile::from_data(p.as_bytes()));
            self.write_online(&format!("1.{p}.json"), Signed::Targets(t), &p.clone());
        }
        let mut regs: Vec<(String, Key)> = projects.iter().map(|p| (p.clone(), self.online.projects[p].public_key().to_key())).collect();
        for p in conflicting {
            regs.push((p.clone(), SoftwareKey::generate(Algorithm::Ed25519, "impostor").unwrap().public_key().to_key()));
        }
        self.publish_recently_claimed(&regs);
    }

    fn publish_recently_claimed(&mut self, regs: &[(String, Key)]) {
        self.online.recently_claimed += 1;
        let mut rc = Targets::new(self.online.recently_claimed, chrono::Utc::now() + chrono::Duration::days(1));
        for (p, key) in regs {
            rc.delegate(DelegatedRole::with_paths(p, vec![keyid(key)], 1, true, vec![format!("{p}/*")]), [key.clone()]);
        }
        let name = format!("{}.recently-claimed.json", self.online.recently_claimed);
        self.write_online(&name, Signed::Targets(rc), "recently-claimed");
    }

    /// A new snapshot listing the newest version of every role, and a timestamp.
    fn publish_snapshot(&mut self) {
        self.online.snapshot += 1;
        let mut meta = BTreeMap::new();
        for role in ["targets", "claimed", "recently-claimed", "unclaimed"].iter().map(|s| s.to_string()).chain(self.online.projects.keys().cloned()) {
            let (v, _) = newest(&self.repo, &role);
            meta.insert(format!("{role}.json"), MetaFile::version_only(v));
        }
        let exp = chrono::Utc::now() + chrono::Duration::days(1);
        let snap = Snapshot { header: Header::new(self.online.snapshot, exp), meta, extra: Default::default() };
        let name = format!("{}.snapshot.json", self.online.snapshot);
        self.write_online(&name, Signed::Snapshot(snap), "snapshot");
        let sb = std::fs::read(self.repo.join(&name)).unwrap();
        self.online.timestamp += 1;
        let ts = Timestamp {
            header: Header::new(self.online.timestamp, exp),
            meta: BTreeMap::from([("snapshot.json".into(), MetaFile::from_data(self.online.snapshot, &sb))]),
            extra: Default::default(),
        };
        let _ = std::fs::remove_file(self.repo.join("timestamp.json"));
        self.write_online("timestamp.json", Signed::Timestamp(ts), "timestamp");
    }

    /// The published repository passes `verify` and python-tuf (static and Updater).
    fn check(&self, when: &str) {
        let report = verify_path(&self.repo, &VerifyOptions::new(chrono::Utc::now())).unwrap_or_else(|e| panic!("{when}: verify: {e}"));
        let errors: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.finding.severity == tuf_ceremony::tuf::finding::Severity::Error)
            .map(|f| format!("{}: {}", f.file, f.finding))
            .collect();
        assert!(errors.is_empty(), "{when}: verify found errors:\n{}", errors.join("\n"));
        let Some(py) = &self.py else { return };
        let mut args: Vec<std::ffi::OsString> = vec![self.repo.clone().into_os_string()];
        for p in self.online.projects.keys().take(3).chain(self.online.projects.keys().last()) {
            args.push("--target".into());
            args.push(format!("{p}/{p}-1.0.tar.gz").into());
        }
        let argv: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let (ok, text) = support::run_python(py, "verify_repo.py", &argv);
        assert!(ok, "{when}: python-tuf rejected the repository:\n{text}");
    }

    fn plan(&self, file: &str) -> Plan {
        Plan::load(&self.dir.join(file), chrono::Utc::now()).unwrap()
    }

    /// Runs the engine for `job` with plan `plan_file`; returns the new metadata folder.
    fn run(&self, plan_file: &str, job: Job, name: &str) -> PathBuf {
        let plan = self.plan(plan_file);
        let mut ui = support::rehearsal_ui(self.dir.join("tokens"));
        let mut tokens = Tokens::new(self.dir.join("tokens"));
        let media = self.tmp.join(format!("{name}.media"));
        std::fs::create_dir_all(&media).unwrap();
        let opts = Options { media: media.clone(), rehearsal: true, job, ..Default::default() };
        Engine::open(&plan, &self.tmp.join(format!("{name}.work")), &mut ui, &mut tokens, opts).unwrap().run().unwrap_or_else(|e| panic!("{name}: {e}"));
        std::fs::read_dir(&media).unwrap().next().unwrap().unwrap().path().join("metadata")
    }

    fn publish_from(&mut self, metadata: &Path) -> Vec<String> {
        let mut names = Vec::new();
        for e in std::fs::read_dir(metadata).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), self.repo.join(e.file_name())).unwrap();
            names.push(e.file_name().to_string_lossy().into_owned());
        }
        names
    }
}

#[test]
fn a_simulated_year_of_operations() {
    let mut y = Year::begin();
    for month in 1..=12u32 {
        let projects: Vec<String> = ["a", "b", "c"].iter().map(|x| format!("p{month:02}-{x}")).collect();
        // Month 6: someone registers an already-claimed project with their own key.
        let conflicting: Vec<String> = if month == 6 { vec!["p01-a".into()] } else { Vec::new() };
        y.register(&projects, &conflicting);
        y.publish_snapshot();
        y.check(&format!("month {month}: online registrations"));

        let current = read_current(&y.repo).unwrap();
        let (_, rc_path) = newest(&y.repo, "recently-claimed");
        let regs = registrations_from_recently_claimed(&current, &load(&rc_path), chrono::Utc::now()).unwrap();
        let mut batch = Batch { add: regs, ..Default::default() };
        let mut probe = current.set.roles["claimed"].md.clone();
        if month == 6 {
            let refused = tuf_ceremony::ceremony::claims::apply(probe.signed.as_targets().cloned().as_mut().unwrap(), &batch);
            assert_eq!(refused, Err(ClaimError::Conflict("p01-a".into())), "month 6: the conflicting registration is refused");
            assert!(apply_claims(&mut probe, &batch).unwrap_err().to_string().contains("already claimed with other keys"));
            // The operator drops the refused registration and claims the rest.
            batch.add.retain(|r| r.project != "p01-a");
        }
        let label = format!("claim-claimed-m{month:02}");
        let job = Job::Update(Update {
            label: label.clone(),
            roles: vec!["claimed".into()],
            claims: Some(("claimed".into(), batch)),
            expires_days: None,
            json_diff: false,
            current: Arc::new(current),
        });
        let out = y.run("plan.toml", job, &label);
        let written = y.publish_from(&out);
        assert_eq!(written, [format!("{}.claimed.json", month + 1)], "month {month}");
        let claimed = load(&y.repo.join(format!("{}.claimed.json", month + 1)));
        let names: Vec<&str> = claimed.signed.as_targets().unwrap().delegated_roles().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names.len(), 3 * month as usize, "month {month}: every project claimed once");
        for p in &projects {
            assert!(names.contains(&p.as_str()));
        }
        y.publish_snapshot();
        y.check(&format!("month {month}: claimed v{}", month + 1));

        if month == 9 {
            // Root rotation: carol's token is replaced by dave's. carol's old token still
            // signs the new root, whose key is in root v1.
            let plan = std::fs::read_to_string(y.dir.join("plan.toml")).unwrap();
            std::fs::copy(y.repo.join("1.root.json"), y.dir.join("1.root.json")).unwrap();
            let plan2 = plan
                .replace("[ceremony]", "[previous_root]\nfile = \"1.root.json\"\n\n[ceremony]")
                .replacen("keyholders = [\"alice\", \"bob\", \"carol\"]", "keyholders = [\"alice\", \"bob\", \"dave\"]", 1)
                .replace("[roles.root]", "[[keyholder]]\nname = \"dave\"\ntoken = \"software\"\nalgorithm = \"ecdsa-p256\"\n\n[roles.root]");
            std::fs::write(y.dir.join("plan-rotation.toml"), plan2).unwrap();
            std::fs::create_dir_all(y.dir.join("tokens/dave")).unwrap();
            std::fs::write(passphrase_file(&y.dir.join("tokens"), "dave"), "dave rehearsal passphrase").unwrap();
            let out = y.run("plan-rotation.toml", Job::Ceremony, "rotation");
            assert_eq!(y.publish_from(&out), ["2.root.json"]);
            let root2 = load(&y.repo.join("2.root.json"));
            assert_eq!(root2.signatures.len(), 4, "alice, bob, dave, and carol's old token");
            y.publish_snapshot();
            y.check("month 9: root rotation");
        }
    }

    // Month 12, after the claims: targets is re-signed by keyholders in different places.
    let (tv, tpath) = newest(&y.repo, "targets");
    let mut draft = load(&tpath);
    draft.signatures.clear();
    draft.signed.header_mut().version = tv + 1;
    draft.signed.header_mut().expires = Expires::from_datetime(chrono::Utc::now() + chrono::Duration::days(365));
    let draft_path = y.tmp.join(format!("{}.targets.json", tv + 1));
    std::fs::write(&draft_path, draft.to_pretty_bytes()).unwrap();
    let (_, root_path) = newest(&y.repo, "root");
    // Keyholder names come from the first ceremony's media (keys/<holder>/<holder>.key.json).
    let keys_dir = std::fs::read_dir(y.dir.join("media")).unwrap().next().unwrap().unwrap().path().join("keys");
    let requests = y.tmp.join("requests");
    std::fs::create_dir_all(&requests).unwrap();
    let req = sa::create_request(&sa::NewRequest {
        metadata: &draft_path,
        role: "targets",
        delegator: &root_path,
        previous: Some(&tpath),
        keys_dir: Some(&keys_dir),
        media: &requests,
        clients: Clients::ALL,
        now: chrono::Utc::now(),
    })
    .unwrap();
    let plan = y.plan("plan.toml");
    let mut sig_files = Vec::new();
    for holder in ["alice", "bob"] {
        let mut ui = support::RemoteKeyholder::new(&y.dir.join("tokens"), &[req.canonical_sha256.as_str()]);
        let mut tokens = Tokens::new(y.dir.join("tokens"));
        let out_dir = y.tmp.join(format!("sig-{holder}"));
        std::fs::create_dir_all(&out_dir).unwrap();
        let input = sa::SignInput { request_dir: &req.dir, keyholder: holder, plan: &plan, key: None, out_dir: Some(&out_dir), now: chrono::Utc::now() };
        let w = sa::sign(&input, &mut tokens, &mut ui).unwrap_or_else(|e| panic!("{holder} signs apart: {e}"));
        sig_files.push(w.path);
    }
    let imported = y.tmp.join("imported");
    std::fs::create_dir_all(&imported).unwrap();
    let outcome = sa::import(&sa::ImportInput {
        request_dir: &req.dir,
        sig_files: &sig_files,
        out_dir: &imported,
        partial: false,
        trusted_delegator: Some(&root_path),
        clients: tuf_ceremony::tuf::finding::Clients::ALL,
    })
    .unwrap();
    assert!(!outcome.partial);
    y.publish_from(&imported);
    let t2 = load(&y.repo.join(format!("{}.targets.json", tv + 1)));
    assert_eq!(t2.signatures.len(), 2);
    y.publish_snapshot();
    y.check("month 12: targets re-signed apart");
    std::fs::remove_dir_all(&y.tmp).ok();
}
