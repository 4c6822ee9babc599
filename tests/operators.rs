//! Operators after the first ceremony: re-signing an offline role (next version, new
//! expiry, nothing else changed) and moving projects into `claimed`, through the same
//! guided steps, on a real rehearsal's output. Bad batches are refused before anything runs.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tuf_ceremony::ceremony::claims::{Batch, Registration};
use tuf_ceremony::ceremony::engine::{Engine, Options};
use tuf_ceremony::ceremony::job::{Job, Update, read_current};
use tuf_ceremony::ceremony::plan::Plan;
use tuf_ceremony::ceremony::rehearse::passphrase_file;
use tuf_ceremony::ceremony::tokens::Tokens;
use tuf_ceremony::signer::software::SoftwareKey;
use tuf_ceremony::signer::{Signer, sign_metadata};
use tuf_ceremony::tuf::finding::Clients;
use tuf_ceremony::tuf::keys::Algorithm;
use tuf_ceremony::tuf::metadata::*;
use tuf_ceremony::tuf::verify::check_delegated;

/// A finished rehearsal: returns (rehearsal dir, its metadata folder).
fn rehearsal(tmp: &Path) -> (PathBuf, PathBuf) {
    let dir = tmp.join("r");
    let out = Command::new(support::bin()).args(["rehearse", "--yes", "--out"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let media = std::fs::read_dir(dir.join("media")).unwrap().next().unwrap().unwrap().path();
    (dir.clone(), media.join("metadata"))
}

fn run_update(dir: &Path, current: &Path, job: Update, media: &Path) -> Result<(), String> {
    let plan = Plan::load(&dir.join("plan.toml"), chrono::Utc::now()).unwrap();
    let mut ui = support::rehearsal_ui(dir.join("tokens"));
    let mut tokens = Tokens::new(dir.join("tokens"));
    std::fs::create_dir_all(media).unwrap();
    let _ = current;
    let work = media.with_extension("work");
    let opts = Options { media: media.to_path_buf(), rehearsal: true, job: Job::Update(job), ..Default::default() };
    let mut e = Engine::open(&plan, &work, &mut ui, &mut tokens, opts).map_err(|e| e.to_string())?;
    e.run().map(|_| ()).map_err(|e| e.to_string())
}

fn load(p: &Path) -> Metadata {
    Metadata::from_bytes(&std::fs::read(p).unwrap(), Mode::Strict).unwrap()
}

fn registration(project: &str) -> Registration {
    let k = SoftwareKey::generate(Algorithm::Ed25519, project).unwrap();
    Registration { project: project.into(), keys: vec![k.public_key().to_key()], threshold: 1 }
}

fn only_media_folder(media: &Path) -> PathBuf {
    std::fs::read_dir(media).unwrap().next().unwrap().unwrap().path()
}

/// `verify` of an update's media: with `--current` it passes; one changed byte in a new
/// file fails it; without `--current` it is an input error naming the option.
fn verify_update_media(media_folder: &Path, current: &Path, new_file: &str) {
    let verify = |dir: &Path, current: Option<&Path>| {
        let mut c = Command::new(support::bin());
        c.arg("verify").arg(dir);
        if let Some(cur) = current {
            c.arg("--current").arg(cur);
        }
        let o = c.output().unwrap();
        (o.status.code(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
    };
    let (code, text) = verify(media_folder, Some(current));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("update-changes"), "the update is checked against --current: {text}");
    let (code, text) = verify(media_folder, None);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("--current DIR"), "{text}");
    // One changed byte in the signed part of the new file: a digit of its expiry seconds.
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("m");
    assert!(Command::new("cp").arg("-a").arg(media_folder).arg(&copy).status().unwrap().success());
    let p = copy.join("metadata").join(new_file);
    let mut bytes = std::fs::read(&p).unwrap();
    let at = bytes.windows(12).position(|w| w == b"\"expires\": \"").expect("an expires field") + 12 + 18;
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    std::fs::write(&p, &bytes).unwrap();
    let (code, text) = verify(&copy, Some(current));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("transcript-build-differs") && text.contains(new_file), "{text}");
}

#[test]
fn resign_claimed_bumps_version_and_expiry_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, current) = rehearsal(tmp.path());
    let before = load(&current.join("1.claimed.json"));
    let cur = read_current(&current).unwrap();
    let job = Update {
        label: "resign-claimed-v2".into(),
        roles: vec!["claimed".into()],
        claims: None,
        expires_days: Some(200),
        json_diff: true,
        current: Arc::new(cur),
    };
    let media = tmp.path().join("stick");
    run_update(&dir, &current, job, &media).unwrap();
    let out = only_media_folder(&media);
    let after = load(&out.join("metadata/2.claimed.json"));
    assert_eq!(after.version(), 2);
    assert!(after.signed.header().expires.at() > before.signed.header().expires.at());
    // Nothing else changed: equal once version and expiry are put back.
    let mut same = after.signed.clone();
    *same.header_mut() = before.signed.header().clone();
    assert_eq!(same, before.signed);
    let targets = load(&current.join("1.targets.json"));
    let c = check_delegated(targets.signed.as_targets().unwrap(), "claimed", &after, &after.signed_bytes(), false).unwrap();
    assert_eq!((c.valid(), c.threshold), (3, 2));
    let sums = Command::new("sha256sum").args(["-c", "--quiet", "SHA256SUMS"]).current_dir(&out).output().unwrap();
    assert!(sums.status.success());
    let changes = std::fs::read_to_string(out.join("CHANGES.txt")).unwrap();
    assert!(changes.contains("claimed: version 1 -> 2") && changes.contains("claimed: nothing else changed"), "{changes}");
    // The JSON diff (--diff) holds exactly the version and expiry changes.
    let diff: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("CHANGES.json")).unwrap()).unwrap();
    let paths: Vec<&str> = diff["claimed"].as_array().unwrap().iter().map(|o| o["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["$.expires", "$.version"], "{diff:#}");
    verify_update_media(&out, &current, "2.claimed.json");
}

#[test]
fn claim_projects_from_a_reviewed_list() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, current) = rehearsal(tmp.path());
    let batch = Batch { add: vec![registration("django"), registration("numpy"), registration("requests")], ..Default::default() };
    let job = Update {
        label: "claim-claimed-v2".into(),
        roles: vec!["claimed".into()],
        claims: Some(("claimed".into(), batch)),
        expires_days: None,
        json_diff: true,
        current: Arc::new(read_current(&current).unwrap()),
    };
    let media = tmp.path().join("stick");
    run_update(&dir, &current, job, &media).unwrap();
    let out = only_media_folder(&media);
    let after = load(&out.join("metadata/2.claimed.json"));
    let roles: Vec<&str> = after.signed.as_targets().unwrap().delegated_roles().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(roles, ["django", "numpy", "requests"]);
    assert!(after.signed.as_targets().unwrap().delegated_roles().iter().all(|r| r.terminating == Some(true)));
    let changes = std::fs::read_to_string(out.join("CHANGES.txt")).unwrap();
    assert!(changes.contains("3 added") && changes.contains("added django"), "{changes}");
    let diff: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("CHANGES.json")).unwrap()).unwrap();
    // claimed v1 had no delegations yet: the diff adds the whole object, with the three projects.
    let ops = diff["claimed"].as_array().unwrap();
    let add = ops.iter().find(|o| o["op"] == "add" && o["path"] == "$.delegations").unwrap_or_else(|| panic!("{diff:#}"));
    let names: Vec<&str> = add["new"]["roles"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["django", "numpy", "requests"]);
    verify_update_media(&out, &current, "2.claimed.json");
    // python-tuf accepts the new claimed by its delegator.
    let Some(py) = support::python() else { return };
    let script = "import sys\nfrom tuf.api.metadata import Metadata\nt=Metadata.from_file(sys.argv[1]); c=Metadata.from_file(sys.argv[2]); t.verify_delegate('claimed', c); print('ok', len(c.signed.delegations.roles))";
    let o = Command::new(py).args(["-c", script]).arg(current.join("1.targets.json")).arg(out.join("metadata/2.claimed.json")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn cli_claim(dir: &Path, current: &Path, media: &Path, extra: &[&std::ffi::OsStr]) -> std::process::Output {
    std::fs::create_dir_all(media).unwrap();
    Command::new(support::bin())
        .args(["claim", "--allow-network", "--plan"])
        .arg(dir.join("plan.toml"))
        .arg("--current")
        .arg(current)
        .arg("--media")
        .arg(media)
        .arg("--tokens")
        .arg(dir.join("tokens"))
        .arg("--workdir")
        .arg(media.with_extension("work"))
        .args(extra)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn conflicting_or_forged_batches_are_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, current) = rehearsal(tmp.path());
    // A claimed role that already has django, as the next month's current metadata.
    let mut claimed = load(&current.join("1.claimed.json"));
    tuf_ceremony::ceremony::job::apply_claims(&mut claimed, &Batch { add: vec![registration("django")], ..Default::default() }).unwrap();
    let cur2 = tmp.path().join("current2");
    std::fs::create_dir_all(&cur2).unwrap();
    for f in ["1.root.json", "1.targets.json"] {
        std::fs::copy(current.join(f), cur2.join(f)).unwrap();
    }
    std::fs::write(cur2.join("1.claimed.json"), claimed.to_pretty_bytes()).unwrap();

    // 1. A reviewed list registering django with other keys: refused (a conflict).
    let list = tmp.path().join("list.json");
    let k = String::from_utf8(tuf_ceremony::tuf::encode::canonical(&registration("django").keys[0])).unwrap();
    std::fs::write(&list, format!(r#"[{{"project": "django", "keys": [{k}], "threshold": 1}}]"#)).unwrap();
    let media = tmp.path().join("m1");
    let out = cli_claim(&dir, &cur2, &media, &["--list".as_ref(), list.as_os_str()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("already claimed with other keys") && err.contains("--rotate django"), "{err}");
    assert_eq!(std::fs::read_dir(&media).unwrap().count(), 0);
    assert!(!media.with_extension("work").exists());

    // 2. A project name outside the charset: an input error naming the file and field.
    std::fs::write(&list, format!(r#"[{{"project": "bad/name", "keys": [{k}], "threshold": 1}}]"#)).unwrap();
    let out = cli_claim(&dir, &cur2, &tmp.path().join("m2"), &["--list".as_ref(), list.as_os_str()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad/name") && err.contains("list.json") && err.contains("$[0].project"), "{err}");

    // 3. A forged recently-claimed (signed by a key that is not the online key): refused.
    let mut rc = Targets::new(1, chrono::Utc::now() + chrono::Duration::days(1));
    let dev = registration("flask");
    let id = tuf_ceremony::tuf::keys::keyid(&dev.keys[0]);
    rc.delegate(DelegatedRole::with_paths("flask", vec![id], 1, true, vec!["flask/*".into()]), dev.keys.clone());
    let mut md = Metadata::new(Signed::Targets(rc));
    sign_metadata(&mut md, &mut SoftwareKey::generate(Algorithm::Ed25519, "mallory").unwrap()).unwrap();
    let forged = tmp.path().join("1.recently-claimed.json");
    std::fs::write(&forged, tuf_ceremony::tuf::write(&md, Clients::ALL).unwrap()).unwrap();
    let media = tmp.path().join("m3");
    let out = cli_claim(&dir, &cur2, &media, &["--recently-claimed".as_ref(), forged.as_os_str()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("forged"), "{err}");
    assert_eq!(std::fs::read_dir(&media).unwrap().count(), 0);
}

#[test]
fn root_rotation_replacing_a_keyholder_is_signed_by_old_and_new_thresholds() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, current) = rehearsal(tmp.path());
    // The new plan: carol's token is replaced by dave's. carol stays listed, in no role, so
    // her old token signs the new root (its key is a root key of version 1).
    let old_plan = std::fs::read_to_string(dir.join("plan.toml")).unwrap();
    std::fs::copy(current.join("1.root.json"), dir.join("1.root.json")).unwrap();
    let plan = old_plan
        .replace("[ceremony]", "[previous_root]\nfile = \"1.root.json\"\n\n[ceremony]")
        .replace("keyholders = [\"alice\", \"bob\", \"carol\"]", "keyholders = [\"alice\", \"bob\", \"dave\"]")
        .replace("[roles.root]", "[[keyholder]]\nname = \"dave\"\ntoken = \"software\"\nalgorithm = \"ecdsa-p256\"\n\n[roles.root]");
    std::fs::write(dir.join("plan2.toml"), &plan).unwrap();
    std::fs::create_dir_all(dir.join("tokens/dave")).unwrap();
    std::fs::write(passphrase_file(&dir.join("tokens"), "dave"), "dave's rehearsal passphrase").unwrap();
    let plan = Plan::load(&dir.join("plan2.toml"), chrono::Utc::now()).unwrap();
    let mut ui = support::rehearsal_ui(dir.join("tokens"));
    let mut tokens = Tokens::new(dir.join("tokens"));
    let media = tmp.path().join("stick");
    std::fs::create_dir_all(&media).unwrap();
    let opts = Options { media: media.clone(), rehearsal: true, ..Default::default() };
    Engine::open(&plan, &tmp.path().join("rot.work"), &mut ui, &mut tokens, opts).unwrap().run().unwrap();
    let out = only_media_folder(&media).join("metadata");
    let names: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["2.root.json"], "a rotation writes only the new root");
    let old = load(&current.join("1.root.json"));
    let new = load(&out.join("2.root.json"));
    let rc = tuf_ceremony::tuf::verify::check_root_rotation(old.signed.as_root().unwrap(), &new, &new.signed_bytes(), false).unwrap();
    assert!(rc.ok(), "{rc:?}");
    assert_eq!((rc.by_previous.valid(), rc.by_self.valid()), (3, 3), "alice, bob, carol for v1; alice, bob, dave for v2");
    assert_eq!(new.signatures.len(), 4, "alice, bob, carol (old token) and dave");
    let Some(py) = support::python() else { return };
    let script = "import sys\nfrom tuf.api.metadata import Metadata\nold=Metadata.from_file(sys.argv[1]); new=Metadata.from_file(sys.argv[2])\nold.verify_delegate('root', new); new.verify_delegate('root', new)\nassert new.signed.version == old.signed.version + 1\nprint('rotation ok')";
    let o = Command::new(py).args(["-c", script]).arg(current.join("1.root.json")).arg(out.join("2.root.json")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    verify_update_media(&only_media_folder(&media), &current, "2.root.json");
}

#[test]
fn rotation_of_targets_and_claimed_keys_writes_new_targets_and_claimed() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, current) = rehearsal(tmp.path());
    // carol leaves every role; dave takes her place in root, targets and claimed.
    std::fs::copy(current.join("1.root.json"), dir.join("1.root.json")).unwrap();
    let plan = std::fs::read_to_string(dir.join("plan.toml"))
        .unwrap()
        .replace("[ceremony]", "[previous_root]\nfile = \"1.root.json\"\n\n[ceremony]")
        .replace("keyholders = [\"alice\", \"bob\", \"carol\"]", "keyholders = [\"alice\", \"bob\", \"dave\"]")
        .replace("[roles.root]", "[[keyholder]]\nname = \"dave\"\ntoken = \"software\"\nalgorithm = \"ecdsa-p256\"\n\n[roles.root]");
    std::fs::write(dir.join("plan3.toml"), &plan).unwrap();
    std::fs::create_dir_all(dir.join("tokens/dave")).unwrap();
    std::fs::write(passphrase_file(&dir.join("tokens"), "dave"), "dave's rehearsal passphrase").unwrap();
    let plan = Plan::load(&dir.join("plan3.toml"), chrono::Utc::now()).unwrap();
    let mut ui = support::rehearsal_ui(dir.join("tokens"));
    let mut tokens = Tokens::new(dir.join("tokens"));
    let media = tmp.path().join("stick");
    std::fs::create_dir_all(&media).unwrap();
    let cur = Arc::new(read_current(&current).unwrap());
    let opts = Options { media: media.clone(), rehearsal: true, current: Some(cur.clone()), ..Default::default() };
    Engine::open(&plan, &tmp.path().join("rot.work"), &mut ui, &mut tokens, opts).unwrap().run().unwrap();
    // The working directory belongs to this rotation with these --current files: resumed
    // without them it would sign root alone, leaving carol's power over targets and claimed.
    let opts = Options { media: media.clone(), rehearsal: true, current: None, ..Default::default() };
    let e = Engine::open(&plan, &tmp.path().join("rot.work"), &mut ui, &mut tokens, opts).err().expect("refused without --current").to_string();
    assert!(e.contains("belongs to another run") && e.contains("--current"), "{e}");
    let opts = Options { media: media.clone(), rehearsal: true, current: Some(cur), ..Default::default() };
    assert!(Engine::open(&plan, &tmp.path().join("rot.work"), &mut ui, &mut tokens, opts).is_ok(), "the same --current resumes");
    let out = only_media_folder(&media).join("metadata");
    let mut names: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["2.claimed.json", "2.root.json", "2.targets.json"]);
    let (root2, targets2, claimed2) = (load(&out.join("2.root.json")), load(&out.join("2.targets.json")), load(&out.join("2.claimed.json")));
    let r2 = root2.signed.as_root().unwrap();
    let t = tuf_ceremony::tuf::verify::check_top_level(r2, "targets", &targets2, &targets2.signed_bytes(), false).unwrap();
    assert_eq!((t.valid(), t.threshold), (3, 2), "targets signed by its new keys");
    let c = check_delegated(targets2.signed.as_targets().unwrap(), "claimed", &claimed2, &claimed2.signed_bytes(), false).unwrap();
    assert_eq!((c.valid(), c.threshold), (3, 2), "claimed signed by its new keys");
    // Nothing else changed in targets or claimed.
    let (t1, c1) = (load(&current.join("1.targets.json")), load(&current.join("1.claimed.json")));
    assert_eq!(targets2.signed.as_targets().unwrap().targets, t1.signed.as_targets().unwrap().targets);
    let mut same = claimed2.signed.clone();
    *same.header_mut() = c1.signed.header().clone();
    assert_eq!(same, c1.signed);
    verify_update_media(&only_media_folder(&media), &current, "2.targets.json");
    let Some(py) = support::python() else { return };
    let script = "import sys\nfrom tuf.api.metadata import Metadata\nd=sys.argv[1]; o=sys.argv[2]\nr1=Metadata.from_file(d+'/1.root.json'); r2=Metadata.from_file(o+'/2.root.json'); r1.verify_delegate('root', r2); r2.verify_delegate('root', r2)\nt=Metadata.from_file(o+'/2.targets.json'); r2.verify_delegate('targets', t)\nc=Metadata.from_file(o+'/2.claimed.json'); t.verify_delegate('claimed', c); print('ok')";
    let o = Command::new(py).args(["-c", script]).arg(&current).arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A nested offline role (`legacy`, delegated by `claimed`, not by targets): when a
/// keyholder who signs it is replaced, its delegator must point at the new keys and the role
/// must be re-signed by them, or the keyholder who left keeps signing power over it.
#[test]
fn rotation_reaches_offline_roles_nested_under_claimed() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, rehearsed) = rehearsal(tmp.path());
    let nested = std::fs::read_to_string(dir.join("plan.toml")).unwrap()
        + "\n[[delegation]]\nname = \"legacy\"\ndelegator = \"claimed\"\nkeyholders = [\"alice\", \"bob\", \"carol\"]\nthreshold = 2\nterminating = true\npaths = [\"legacy/*\"]\nexpires_days = 180\nsigning_window_days = 30\n";
    std::fs::write(dir.join("nested.toml"), &nested).unwrap();
    let run = |plan: &str, work: &str, stick: &str, current: Option<Arc<tuf_ceremony::ceremony::job::CurrentFiles>>| {
        let plan = Plan::load(&dir.join(plan), chrono::Utc::now()).unwrap();
        let mut ui = support::rehearsal_ui(dir.join("tokens"));
        let mut tokens = Tokens::new(dir.join("tokens"));
        let media = tmp.path().join(stick);
        std::fs::create_dir_all(&media).unwrap();
        let opts = Options { media: media.clone(), rehearsal: true, current, ..Default::default() };
        Engine::open(&plan, &tmp.path().join(work), &mut ui, &mut tokens, opts).and_then(|mut e| e.run().map(|_| ())).map_err(|e| e.to_string())?;
        Ok::<_, String>(only_media_folder(&media).join("metadata"))
    };
    let v1 = run("nested.toml", "nested.work", "stick1", None).unwrap();
    let (claimed1, legacy1) = (load(&v1.join("1.claimed.json")), load(&v1.join("1.legacy.json")));
    assert_eq!(check_delegated(claimed1.signed.as_targets().unwrap(), "legacy", &legacy1, &legacy1.signed_bytes(), false).unwrap().valid(), 3);

    // carol leaves every role, legacy included; dave takes her place.
    std::fs::copy(v1.join("1.root.json"), dir.join("1.root.json")).unwrap();
    let rotation = nested
        .replace("[ceremony]", "[previous_root]\nfile = \"1.root.json\"\n\n[ceremony]")
        .replace("keyholders = [\"alice\", \"bob\", \"carol\"]", "keyholders = [\"alice\", \"bob\", \"dave\"]")
        .replace("[roles.root]", "[[keyholder]]\nname = \"dave\"\ntoken = \"software\"\nalgorithm = \"ecdsa-p256\"\n\n[roles.root]");
    std::fs::write(dir.join("rotation.toml"), &rotation).unwrap();
    std::fs::create_dir_all(dir.join("tokens/dave")).unwrap();
    std::fs::write(passphrase_file(&dir.join("tokens"), "dave"), "dave's rehearsal passphrase").unwrap();
    let v2 = run("rotation.toml", "rotation.work", "stick2", Some(Arc::new(read_current(&v1).unwrap()))).unwrap();

    let mut names: Vec<String> = std::fs::read_dir(&v2).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["2.claimed.json", "2.legacy.json", "2.root.json", "2.targets.json"]);
    let (claimed2, legacy2) = (load(&v2.join("2.claimed.json")), load(&v2.join("2.legacy.json")));
    let c2 = claimed2.signed.as_targets().unwrap();
    let c = check_delegated(c2, "legacy", &legacy2, &legacy2.signed_bytes(), false).unwrap();
    assert_eq!((c.valid(), c.threshold), (3, 2), "legacy signed by alice, bob and dave, as claimed v2 now says");
    // carol's key no longer counts for legacy: her v1 signature over the v2 bytes is not valid.
    let carol = &claimed1.signed.as_targets().unwrap().delegated_roles().iter().find(|r| r.name == "legacy").unwrap().keyids;
    let now = &c2.delegated_roles().iter().find(|r| r.name == "legacy").unwrap().keyids;
    assert_eq!(carol.iter().filter(|k| !now.contains(k)).count(), 1, "exactly one keyid (carol's) was replaced");
    assert!(now.iter().all(|k| c2.delegations.as_ref().unwrap().keys.contains_key(k)));
    // legacy itself: only version and expiry changed.
    let mut same = legacy2.signed.clone();
    *same.header_mut() = legacy1.signed.header().clone();
    assert_eq!(same, legacy1.signed);

    // Only legacy's keys change (erin replaces carol there): claimed gets a new version
    // signed by its unchanged keyholders, targets does not change.
    let (head, tail) = nested.rsplit_once("keyholders = [\"alice\", \"bob\", \"carol\"]").unwrap();
    let only_legacy = format!("{head}keyholders = [\"alice\", \"bob\", \"erin\"]{tail}")
        .replace("[ceremony]", "[previous_root]\nfile = \"1.root.json\"\n\n[ceremony]")
        .replace("[roles.root]", "[[keyholder]]\nname = \"erin\"\ntoken = \"software\"\nalgorithm = \"ecdsa-p256\"\n\n[roles.root]");
    std::fs::write(dir.join("only-legacy.toml"), &only_legacy).unwrap();
    std::fs::create_dir_all(dir.join("tokens/erin")).unwrap();
    std::fs::write(passphrase_file(&dir.join("tokens"), "erin"), "erin's rehearsal passphrase").unwrap();
    let v2 = run("only-legacy.toml", "only-legacy.work", "stick3", Some(Arc::new(read_current(&v1).unwrap()))).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&v2).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["2.claimed.json", "2.legacy.json", "2.root.json"]);
    let (claimed2, legacy2) = (load(&v2.join("2.claimed.json")), load(&v2.join("2.legacy.json")));
    let targets1 = load(&v1.join("1.targets.json"));
    let c = check_delegated(targets1.signed.as_targets().unwrap(), "claimed", &claimed2, &claimed2.signed_bytes(), false).unwrap();
    assert_eq!((c.valid(), c.threshold), (3, 2), "claimed v2 signed by alice, bob and carol, as targets v1 says");
    let l = check_delegated(claimed2.signed.as_targets().unwrap(), "legacy", &legacy2, &legacy2.signed_bytes(), false).unwrap();
    assert_eq!((l.valid(), l.threshold), (3, 2), "legacy v2 signed by alice, bob and erin");

    // Against a repository whose claimed does not delegate to legacy (the rehearsal's own),
    // the rotation is refused: it cannot add the role, and must not silently skip it.
    std::fs::copy(rehearsed.join("1.root.json"), dir.join("1.root.json")).unwrap();
    let err = run("only-legacy.toml", "refused.work", "stick4", Some(Arc::new(read_current(&rehearsed).unwrap()))).unwrap_err();
    assert!(err.contains("claimed delegates to legacy"), "{err}");
    assert_eq!(std::fs::read_dir(tmp.path().join("stick4")).unwrap().count(), 0, "nothing exported");
}

/// `--expires-days` outside 1..=3660 (0 would write expired metadata; a huge number
/// overflowed the date arithmetic) and a role given twice are usage errors (exit 2).
#[test]
fn out_of_range_expiry_and_a_role_twice_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, current) = rehearsal(tmp.path());
    let resign = |extra: &[&str]| {
        Command::new(support::bin())
            .arg("resign")
            .args(extra)
            .args(["--allow-network", "--plan"])
            .arg(dir.join("plan.toml"))
            .arg("--current")
            .arg(&current)
            .arg("--media")
            .arg(tmp.path().join("stick"))
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    for days in ["0", "-5", "3661", "99999999999"] {
        let o = resign(&["claimed", &format!("--expires-days={days}")]);
        assert_eq!(o.status.code(), Some(2), "{days}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains("--expires-days"), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = resign(&["claimed", "claimed"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("claimed is given twice"), "{}", String::from_utf8_lossy(&o.stderr));
}
