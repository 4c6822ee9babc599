//! Fixtures built once per test process (a finished rehearsal, rehearsals stopped after a
//! given step, a signature request with three signatures) and the setup helpers the table
//! uses: each copies what it changes into the case's folder, so cases never share state.

use super::{Ctx, RunOpts, run_setup};
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use tuf_ceremony::tuf::keys::sha256_hex;
use tuf_ceremony::tuf::metadata::{Metadata, Mode};

/// A folder for the fixtures of this test process (kept to the end, like
/// `support::shared_rehearsal`'s).
fn fixtures_root() -> &'static Path {
    static ROOT: OnceLock<tempfile::TempDir> = OnceLock::new();
    ROOT.get_or_init(|| tempfile::Builder::new().prefix("hostile-fixtures-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()).path()
}

/// The shared finished rehearsal: (rehearsal folder, media folder `<id>/`). Read only.
pub fn rehearsal() -> (&'static Path, &'static Path) {
    crate::support::shared_rehearsal()
}

/// A rehearsal stopped right after `step` (the crash hook), built once per step. Copy it
/// ([`Ctx::crashed`]) before changing anything.
pub fn crashed_template(step: &str) -> PathBuf {
    static TEMPLATES: OnceLock<Mutex<HashMap<String, Arc<OnceLock<PathBuf>>>>> = OnceLock::new();
    let slot = TEMPLATES.get_or_init(Default::default).lock().unwrap().entry(step.to_string()).or_default().clone();
    slot.get_or_init(|| {
        let dir = fixtures_root().join(format!("crashed-after-{}", step.replace(':', "-")));
        let o = run_setup(
            &["rehearse".as_ref(), "--yes".as_ref(), "--out".as_ref(), dir.as_os_str()],
            fixtures_root(),
            &RunOpts { crash_after: Some(step), stdin: None },
        );
        assert!(o.code.is_none(), "the crash hook did not stop the rehearsal after {step}: {:?}\n{}", o.code, o.text());
        let state: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("work/state.json")).unwrap()).unwrap();
        assert_eq!(state["completed"].as_array().and_then(|a| a.last()).and_then(|s| s.as_str()), Some(step), "stopped after {step}");
        dir
    })
    .clone()
}

/// A request to sign targets version 2 (a draft with one new target), made by
/// `sign-request` from the shared rehearsal, and alice's, bob's and carol's signatures.
pub struct Signing {
    pub request: PathBuf,
    pub hash: String,
    pub sigs: BTreeMap<&'static str, PathBuf>,
}

pub fn signing() -> &'static Signing {
    static S: OnceLock<Signing> = OnceLock::new();
    S.get_or_init(|| {
        let (dir, media) = rehearsal();
        let root = fixtures_root().join("signing");
        let draft = targets_draft(media, &root.join("draft"));
        let o = sign_request(&draft, &media.join("metadata"), &root.join("stick"));
        assert_eq!(o.code, Some(0), "sign-request: {}", o.text());
        let request = PathBuf::from(o.stdout.lines().find_map(|l| l.strip_prefix("Request folder: ")).expect("request folder printed"));
        let request = root.join("stick").join(request.file_name().unwrap());
        let hash = json(&request.join("request.json"))["canonical_sha256"].as_str().unwrap().to_string();
        let plan = tuf_ceremony::ceremony::plan::Plan::load(&dir.join("plan.toml"), chrono::Utc::now()).unwrap();
        let mut tokens = tuf_ceremony::ceremony::tokens::Tokens::new(dir.join("tokens"));
        let mut sigs = BTreeMap::new();
        for who in ["alice", "bob", "carol"] {
            let mut ui = crate::support::RemoteKeyholder::new(&dir.join("tokens"), &[&hash]);
            let input = tuf_ceremony::ops::signing_apart::SignInput {
                request_dir: &request,
                keyholder: who,
                plan: &plan,
                key: None,
                out_dir: Some(&root.join("sigs")),
                now: chrono::Utc::now(),
            };
            let w = tuf_ceremony::ops::signing_apart::sign(&input, &mut tokens, &mut ui).unwrap_or_else(|e| panic!("{who} signs: {e}\n{}", ui.shown));
            sigs.insert(who, w.path);
        }
        Signing { request, hash, sigs }
    })
}

/// Targets version 2 from the rehearsal's version 1, unsigned, with one more target,
/// written as `DIR/2.targets.json`.
pub fn targets_draft(media: &Path, dir: &Path) -> PathBuf {
    let mut md = load(&media.join("metadata/1.targets.json"));
    md.signatures.clear();
    md.signed.header_mut().version = 2;
    if let tuf_ceremony::tuf::metadata::Signed::Targets(t) = &mut md.signed {
        t.targets.insert("hostile/x.txt".into(), tuf_ceremony::tuf::metadata::TargetFile::from_data(b"x"));
    }
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("2.targets.json");
    std::fs::write(&p, md.to_pretty_bytes()).unwrap();
    p
}

/// `sign-request` of a targets draft against a metadata folder's root and targets v1.
pub fn sign_request(draft: &Path, metadata: &Path, stick: &Path) -> super::Outcome {
    std::fs::create_dir_all(stick).unwrap();
    let (root, previous) = (metadata.join("1.root.json"), metadata.join("1.targets.json"));
    let args: [&OsStr; 10] = [
        "sign-request".as_ref(),
        draft.as_os_str(),
        "--role".as_ref(),
        "targets".as_ref(),
        "--delegator".as_ref(),
        root.as_os_str(),
        "--previous".as_ref(),
        previous.as_os_str(),
        "--media".as_ref(),
        stick.as_os_str(),
    ];
    run_setup(&args, fixtures_root(), &RunOpts::default())
}

// ---------------------------------------------------------------------------------------
// Setup helpers on a case's folder
// ---------------------------------------------------------------------------------------

impl Ctx {
    /// A copy of a rehearsal stopped after `step`, at `{d}/r`.
    pub fn crashed(&self, step: &str) -> PathBuf {
        let to = self.path("r");
        copy_tree(&crashed_template(step), &to);
        to
    }

    /// A copy of the shared rehearsal's media folder, at `{d}/media`.
    pub fn media_copy(&self) -> PathBuf {
        let to = self.path("media");
        copy_tree(rehearsal().1, &to);
        to
    }

    /// A copy of the shared rehearsal's metadata folder, at `{d}/current`.
    pub fn metadata_copy(&self) -> PathBuf {
        let to = self.path("current");
        copy_tree(&rehearsal().1.join("metadata"), &to);
        to
    }

    /// The rehearsal's plan, changed by `edit`, at `{d}/plan.toml` beside a copy of its
    /// online keys (`{d}/online-keys/`).
    pub fn plan_copy(&self, edit: impl Fn(&str) -> String) -> PathBuf {
        let r = rehearsal().0;
        copy_tree(&r.join("online-keys"), &self.path("online-keys"));
        let text = std::fs::read_to_string(r.join("plan.toml")).unwrap();
        let p = self.path("plan.toml");
        std::fs::write(&p, edit(&text)).unwrap();
        p
    }

    /// A copy of the shared signature request, at `{d}/request`.
    pub fn request_copy(&self) -> PathBuf {
        let to = self.path("request");
        copy_tree(&signing().request, &to);
        to
    }

    /// An empty folder standing for a mounted stick, at `{d}/stick`.
    pub fn stick(&self) -> PathBuf {
        let p = self.path("stick");
        std::fs::create_dir_all(&p).unwrap();
        p
    }
}

// ---------------------------------------------------------------------------------------
// File helpers
// ---------------------------------------------------------------------------------------

/// `cp -a FROM TO`: links stay links, modes stay.
pub fn copy_tree(from: &Path, to: &Path) {
    let ok = std::process::Command::new("cp").arg("-a").arg(from).arg(to).status().map(|s| s.success()).unwrap_or(false);
    assert!(ok, "cp -a {} {}", from.display(), to.display());
}

/// Replaces whatever is at `at` with a symbolic link to `target`.
pub fn link(target: &Path, at: &Path) {
    remove(at);
    std::os::unix::fs::symlink(target, at).unwrap_or_else(|e| panic!("ln -s {} {}: {e}", target.display(), at.display()));
}

/// Replaces whatever is at `at` with a FIFO (named pipe).
pub fn fifo(at: &Path) {
    use std::os::unix::ffi::OsStrExt;
    remove(at);
    let c = std::ffi::CString::new(at.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", at.display());
}

/// Removes a file, link or folder at `at`, if any.
pub fn remove(at: &Path) {
    match std::fs::symlink_metadata(at) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(at).unwrap(),
        Ok(_) => std::fs::remove_file(at).unwrap(),
        Err(_) => {}
    }
}

pub fn write(at: &Path, bytes: impl AsRef<[u8]>) {
    remove(at);
    std::fs::write(at, bytes).unwrap_or_else(|e| panic!("write {}: {e}", at.display()));
}

pub fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Rewrites a JSON file after `f` changed it.
pub fn edit_json(p: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v = json(p);
    f(&mut v);
    write(p, serde_json::to_vec_pretty(&v).unwrap());
}

/// Changes a text file (`f` must change it).
pub fn edit_text(p: &Path, f: impl FnOnce(&str) -> String) {
    let before = std::fs::read_to_string(p).unwrap();
    let after = f(&before);
    assert_ne!(before, after, "the edit of {} changed nothing", p.display());
    write(p, after);
}

/// Edits the entries of a hash-chained transcript and chains them again, so the edit is
/// not caught as a broken chain (what someone who can write the media could do).
pub fn rechain(p: &Path, f: impl Fn(&mut serde_json::Map<String, serde_json::Value>)) {
    let text = std::fs::read_to_string(p).unwrap();
    let mut prev = tuf_ceremony::ceremony::transcript::GENESIS.to_string();
    let mut out = String::new();
    for line in text.lines() {
        let mut m: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
        f(&mut m);
        m.insert("prev".into(), prev.clone().into());
        let mut l = serde_json::to_string(&m).unwrap();
        l.push('\n');
        prev = sha256_hex(l.as_bytes());
        out.push_str(&l);
    }
    write(p, out);
}

pub fn load(p: &Path) -> Metadata {
    Metadata::from_bytes(&std::fs::read(p).unwrap(), Mode::Strict).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The ceremony id of a rehearsal folder (from its plan).
pub fn ceremony_id(rehearsal: &Path) -> String {
    let plan = std::fs::read_to_string(rehearsal.join("plan.toml")).unwrap();
    let line = plan.lines().find(|l| l.trim_start().starts_with("id = ")).expect("id in plan");
    line.split('"').nth(1).unwrap().to_string()
}

/// A new ed25519 public key as PEM (another key in an online key's place).
pub fn other_public_key_pem() -> String {
    use tuf_ceremony::signer::Signer;
    let k = tuf_ceremony::signer::software::SoftwareKey::generate(tuf_ceremony::tuf::keys::Algorithm::Ed25519, "other").unwrap();
    k.public_key().to_pem()
}

/// The shared rehearsal's public key of `holder`, as TUF key JSON on one line.
pub fn key_json(holder: &str) -> String {
    serde_json::to_string(&json(&rehearsal().1.join(format!("keys/{holder}/{holder}.key.json")))).unwrap()
}

/// `md` signed again, with its signatures replaced by those of the rehearsal's tokens.
pub fn resign_with_tokens(md: &mut Metadata, holders: &[&str]) {
    let tokens = rehearsal().0.join("tokens");
    md.signatures.clear();
    for h in holders {
        let pem = std::fs::read_to_string(tokens.join(h).join("key.pem")).unwrap();
        let pass = crate::support::rehearsal_passphrase(&tokens, h).unwrap();
        let mut key = tuf_ceremony::signer::software::SoftwareKey::from_encrypted_pem(&pem, pass.as_bytes(), *h).unwrap();
        tuf_ceremony::signer::sign_metadata(md, &mut key).unwrap();
    }
}
