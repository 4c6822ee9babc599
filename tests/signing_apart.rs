//! Signing apart, end to end on a rehearsal's media with its software tokens: a draft of
//! targets version 2 → `sign-request` → two keyholders sign separately (through the
//! library, typing the hash they were given) → `import-signatures` writes a file python-tuf
//! accepts. Then bad input, each refused with a clear reason and nothing written: a
//! signature for other metadata, a key not in the role, a duplicate signature, a request
//! whose hash was altered, a mistyped hash, and too few signatures.

mod support;

use support::RemoteKeyholder;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tuf_ceremony::ceremony::plan::Plan;
use tuf_ceremony::ceremony::rehearse::passphrase_file;
use tuf_ceremony::ceremony::tokens::Tokens;

use tuf_ceremony::error::Error;
use tuf_ceremony::ops::signing_apart::{self as sa, SignInput, SignatureFile};
use tuf_ceremony::signer::Signer;
use tuf_ceremony::signer::software::SoftwareKey;
use tuf_ceremony::tuf::finding::Clients;
use tuf_ceremony::tuf::keys::{hex, keyid, sha256_hex, unhex};
use tuf_ceremony::tuf::metadata::{Metadata, Mode, TargetFile};
use tuf_ceremony::tuf::verify::check_top_level;
use tuf_ceremony::util::pgpwords;

fn rehearsal() -> (&'static Path, &'static Path) {
    support::shared_rehearsal()
}

fn load(p: &Path) -> Metadata {
    Metadata::from_bytes(&std::fs::read(p).unwrap(), Mode::Strict).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A draft of targets: the rehearsal's version 1 with a new target, at `version`, unsigned.
fn draft(media: &Path, dir: &Path, version: u64, target: &str) -> PathBuf {
    let mut md = load(&media.join("metadata/1.targets.json"));
    md.signatures.clear();
    md.signed.header_mut().version = version;
    if let tuf_ceremony::tuf::metadata::Signed::Targets(t) = &mut md.signed {
        t.targets.insert(target.to_string(), TargetFile::from_data(target.as_bytes()));
    }
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(format!("{version}.targets.json"));
    std::fs::write(&p, md.to_pretty_bytes()).unwrap();
    p
}

fn cli(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(support::bin()).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Runs `sign-request` for a targets draft with `delegator` (and `previous`, if any) onto
/// the stick folder (created: the mounted stick).
fn sign_request_run(draft: &Path, delegator: &Path, previous: Option<&Path>, stick: &Path) -> Output {
    std::fs::create_dir_all(stick).unwrap();
    let mut args: Vec<&std::ffi::OsStr> =
        vec!["sign-request".as_ref(), draft.as_os_str(), "--role".as_ref(), "targets".as_ref(), "--delegator".as_ref(), delegator.as_os_str()];
    if let Some(p) = previous {
        args.extend(["--previous".as_ref(), p.as_os_str()]);
    }
    args.extend(["--media".as_ref(), stick.as_os_str()]);
    cli(&args)
}

/// The request folder `sign-request` printed.
fn request_folder(o: &Output) -> PathBuf {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    PathBuf::from(out.lines().find_map(|l| l.strip_prefix("Request folder: ")).expect("request folder printed"))
}

/// `sign-request` for a targets draft against the rehearsal's root and targets v1; returns
/// the request folder and the printed summary.
fn sign_request(media: &Path, draft: &Path, stick: &Path) -> (PathBuf, String) {
    let md = media.join("metadata");
    let o = sign_request_run(draft, &md.join("1.root.json"), Some(&md.join("1.targets.json")), stick);
    assert!(o.status.success(), "sign-request: {}", text(&o));
    (request_folder(&o), String::from_utf8_lossy(&o.stdout).into_owned())
}

/// A keyholder signs `request` on "their machine", typing `typed` as the hash.
fn sign_as(holder: &str, request: &Path, out: &Path, typed: &[&str]) -> (Result<sa::SignatureWritten, Error>, RemoteKeyholder) {
    support::sign_apart_as(rehearsal().0, holder, request, out, typed)
}

fn canonical_hash(request: &Path) -> String {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(request.join("request.json")).unwrap()).unwrap();
    v["canonical_sha256"].as_str().unwrap().to_string()
}

/// The PGP words of a hash as shown (grouped on lines) and as typed (one line).
fn words(hex_hash: &str) -> String {
    pgpwords::phrase(&unhex(hex_hash, true).unwrap())
}

fn shown_words(hex_hash: &str) -> String {
    pgpwords::grouped_of_hex(hex_hash, "  ")
}

fn import(request: &Path, sigs: &[&Path], out: &Path, extra: &[&str]) -> Output {
    let mut c = Command::new(support::bin());
    c.arg("import-signatures").arg(request).args(sigs).arg("--out").arg(out).args(extra);
    c.output().unwrap()
}

fn assert_refused(o: &Output, out: &Path, why: &[&str]) {
    assert_eq!(o.status.code(), Some(1), "{}", text(o));
    let t = text(o);
    assert!(t.to_lowercase().contains("nothing was written"), "{t}");
    for w in why {
        assert!(t.contains(w), "expected {w:?} in: {t}");
    }
    assert!(!out.exists(), "{} must not be created on a refusal", out.display());
}

#[test]
fn two_keyholders_sign_apart_and_python_tuf_accepts_the_result() {
    let (_, media) = rehearsal();
    let tmp = tempfile::tempdir().unwrap();
    let d = draft(media, &tmp.path().join("draft"), 2, "hello/world.txt");
    let (req, summary) = sign_request(media, &d, &tmp.path().join("stick"));
    let hash = canonical_hash(&req);
    // The coordinator's summary: keyholders named from the media's keys/, threshold, changes, hash.
    for s in [
        "Signature request: targets version 2",
        "2 of these 3 keys",
        "alice",
        "bob",
        "carol",
        "version 1 → 2",
        "(version 1; valid signatures by 3 of the keys 1.root.json gives targets, threshold 2)",
        "target added: hello/world.txt",
        &hash,
        &shown_words(&hash),
    ] {
        assert!(summary.contains(s), "summary lacks {s:?}:\n{summary}");
    }
    for f in ["metadata.json", "delegator.json", "previous.json", "request.json", "SUMMARY.txt", "SHA256SUMS"] {
        assert!(req.join(f).is_file(), "{f}");
    }
    assert_eq!(std::fs::read(req.join("metadata.json")).unwrap(), std::fs::read(&d).unwrap(), "the metadata travels as is");
    let sums = Command::new("sha256sum").args(["-c", "--quiet", "SHA256SUMS"]).current_dir(&req).output().unwrap();
    assert!(sums.status.success(), "{}", text(&sums));
    // Running it again is harmless (same folder, same bytes).
    let (again, _) = sign_request(media, &d, &tmp.path().join("stick"));
    assert_eq!(again, req);

    // alice types the PGP words she was read over the phone; bob types hex in upper case,
    // in groups, as he noted it down. Each signs on their own machine into their own folder.
    let alice_out = tmp.path().join("alice-stick");
    let (r, ui) = sign_as("alice", &req, &alice_out, &[&words(&hash)]);
    let alice = r.unwrap_or_else(|e| panic!("alice: {e}\n{}", ui.shown));
    assert!(!ui.shown.split("✓ The hash matches").next().unwrap().contains(&hash), "the hash is not shown before it is typed:\n{}", ui.shown);
    assert!(ui.shown.contains("target added: hello/world.txt"), "{}", ui.shown);
    let grouped: Vec<String> = hash.to_uppercase().as_bytes().chunks(8).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
    let (r, ui) = sign_as("bob", &req, &tmp.path().join("bob-stick"), &[&grouped.join(" ")]);
    let bob = r.unwrap_or_else(|e| panic!("bob: {e}\n{}", ui.shown));
    let sf: SignatureFile = serde_json::from_slice(&std::fs::read(&alice.path).unwrap()).unwrap();
    assert_eq!((sf.role.as_str(), sf.version, sf.canonical_sha256.as_str(), sf.keyid.as_str()), ("targets", 2, hash.as_str(), alice.keyid.as_str()));
    let raw = std::fs::read_to_string(&alice.path).unwrap();
    let pass = std::fs::read_to_string(passphrase_file(&rehearsal().0.join("tokens"), "alice")).unwrap();
    assert!(!raw.contains(pass.trim()) && !raw.contains("PRIVATE"), "no secret in the signature file");
    assert_eq!(std::fs::read_dir(&alice_out).unwrap().count(), 1, "sign writes exactly one file");

    // Import: threshold 2 of 3 met.
    let out = tmp.path().join("out");
    let o = import(&req, &[&alice.path, &bob.path], &out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("signatures: 2/2 by root v1"), "{}", text(&o));
    let written = out.join("2.targets.json");
    let md = load(&written);
    let root = load(&media.join("metadata/1.root.json"));
    let c = check_top_level(root.signed.as_root().unwrap(), "targets", &md, &md.signed_bytes(), false).unwrap();
    assert_eq!(c.valid(), 2);
    assert_eq!(md.signed, load(&d).signed, "the signed content is the draft's");
    assert_eq!(std::fs::read(&written).unwrap(), tuf_ceremony::tuf::write(&md, Clients::ALL).unwrap(), "python-tuf's layout via tuf::write");
    // Importing again is idempotent; importing in the other order gives the same bytes.
    let o = import(&req, &[&bob.path, &alice.path], &out, &[]);
    assert!(o.status.success() && text(&o).contains("already there, identical"), "{}", text(&o));

    // The new targets sits in the metadata folder and status is happy with it.
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for f in ["1.root.json", "1.targets.json", "1.claimed.json"] {
        std::fs::copy(media.join("metadata").join(f), repo.join(f)).unwrap();
    }
    std::fs::copy(&written, repo.join("2.targets.json")).unwrap();
    let o = cli(&["status".as_ref(), repo.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("targets        2"), "{}", text(&o));

    let Some(py) = support::python() else { return };
    let script = r#"
import sys
from tuf.api.metadata import Metadata
from tuf.api.serialization.json import JSONSerializer
root = Metadata.from_file(sys.argv[1])
t = Metadata.from_file(sys.argv[2])
root.verify_delegate("targets", t)
assert t.signed.version == 2
assert "hello/world.txt" in t.signed.targets
assert t.to_bytes(JSONSerializer()) == open(sys.argv[2], "rb").read(), "not python-tuf's own layout"
claimed = Metadata.from_file(sys.argv[3])
t.verify_delegate("claimed", claimed)
print("python-tuf ok")
"#;
    let o = Command::new(&py)
        .args(["-c", script])
        .arg(media.join("metadata/1.root.json"))
        .arg(&written)
        .arg(media.join("metadata/1.claimed.json"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn bad_signatures_and_altered_requests_are_refused_and_nothing_is_written() {
    let (dir, media) = rehearsal();
    let tmp = tempfile::tempdir().unwrap();
    let stick = tmp.path().join("stick");
    let (req, _) = sign_request(media, &draft(media, &tmp.path().join("a"), 2, "a.txt"), &stick);
    let hash = canonical_hash(&req);
    let sigs = tmp.path().join("sigs");
    let alice = sign_as("alice", &req, &sigs, &[&hash]).0.unwrap().path;
    let bob = sign_as("bob", &req, &sigs, &[&hash]).0.unwrap().path;
    let out = tmp.path().join("out");

    // 1. A signature file for other metadata: another version-2 draft with other content.
    let (other_req, _) = sign_request(media, &draft(media, &tmp.path().join("b"), 2, "b.txt"), &stick);
    assert_ne!(other_req, req);
    let other_hash = canonical_hash(&other_req);
    let carol_other = sign_as("carol", &other_req, &tmp.path().join("other-sigs"), &[&other_hash]).0.unwrap().path;
    let o = import(&req, &[&alice, &carol_other], &out, &[]);
    assert_refused(&o, &out, &["signs different metadata", &other_hash, &hash]);
    //    … and the same signature relabelled to claim this request's hash: it does not verify.
    let mut forged: SignatureFile = serde_json::from_slice(&std::fs::read(&carol_other).unwrap()).unwrap();
    forged.canonical_sha256 = hash.clone();
    let forged_path = tmp.path().join("forged.sig.json");
    std::fs::write(&forged_path, forged.to_bytes()).unwrap();
    let o = import(&req, &[&alice, &forged_path], &out, &[]);
    assert_refused(&o, &out, &["does not verify", &forged.keyid]);

    // 2. A signature by a key that is not one of targets' keys: the online snapshot key
    //    (it is in root, but not in the targets role).
    let online = dir.join("online-keys");
    let pass = std::fs::read_to_string(online.join("REHEARSAL-PASSPHRASE")).unwrap();
    let pem = std::fs::read_to_string(online.join("snapshot.key.pem")).unwrap();
    let mut snapshot_key = SoftwareKey::from_encrypted_pem(&pem, pass.trim().as_bytes(), "snapshot").unwrap();
    let canonical = load(&req.join("metadata.json")).signed_bytes();
    assert_eq!(sha256_hex(&canonical), hash);
    let sig = snapshot_key.sign(&canonical).unwrap();
    let stranger = SignatureFile {
        format: sa::SIGNATURE_FORMAT.into(),
        format_version: sa::FORMAT_VERSION,
        role: "targets".into(),
        version: 2,
        canonical_sha256: hash.clone(),
        keyid: keyid(&snapshot_key.public_key().to_key()),
        sig: hex(&sig),
        keyholder: Some("snapshot-service".into()),
        token: None,
        signed_at: None,
    };
    let stranger_path = tmp.path().join("stranger.sig.json");
    std::fs::write(&stranger_path, stranger.to_bytes()).unwrap();
    let o = import(&req, &[&alice, &bob, &stranger_path], &out, &[]);
    assert_refused(&o, &out, &["is not one of the keys that may sign targets", &stranger.keyid]);

    // 3. A duplicate signature: the same file twice, and a copy under another name.
    let o = import(&req, &[&alice, &alice], &out, &[]);
    assert_refused(&o, &out, &["duplicate signature", &format!("already signed in {}", alice.display())]);
    let copy = tmp.path().join("copy-of-alice.sig.json");
    std::fs::copy(&alice, &copy).unwrap();
    let o = import(&req, &[&alice, &bob, &copy], &out, &[]);
    assert_refused(&o, &out, &["duplicate signature", "(alice) already signed"]);

    // 4. A request whose hash was altered: request.json claims another canonical hash.
    let altered = tmp.path().join("altered");
    copy_dir(&req, &altered);
    let rj = std::fs::read_to_string(altered.join("request.json")).unwrap();
    std::fs::write(altered.join("request.json"), rj.replace(&hash, &other_hash)).unwrap();
    let o = import(&altered, &[&alice, &bob], &out, &[]);
    assert_refused(&o, &out, &["the request was altered", &other_hash]);
    //    `sign` refuses it too, before asking for anything.
    let (r, ui) = sign_as("carol", &altered, &tmp.path().join("carol-altered"), &[&other_hash]);
    let e = r.unwrap_err().to_string();
    assert!(e.contains("the request was altered"), "{e}");
    assert_eq!(ui.secrets_asked, 0);
    assert!(!tmp.path().join("carol-altered").exists());
    //    Metadata changed but request.json left alone: the file's sha256 gives it away.
    let altered2 = tmp.path().join("altered2");
    copy_dir(&req, &altered2);
    let m = std::fs::read_to_string(altered2.join("metadata.json")).unwrap();
    std::fs::write(altered2.join("metadata.json"), m.replace("a.txt", "evil.txt")).unwrap();
    let o = import(&altered2, &[&alice, &bob], &out, &[]);
    assert_refused(&o, &out, &["the request was altered", "metadata.json has sha256"]);
    //    A doctored delegator copy is caught with --delegator (the coordinator's own copy).
    let o = import(&req, &[&alice, &bob], &out, &["--delegator", media.join("metadata/1.targets.json").to_str().unwrap()]);
    assert_refused(&o, &out, &["is not"]);
    //    request.json narrowed to fewer clients (or none) on its way back: the import checks
    //    for the clients the coordinator names (--clients, default all three).
    let narrowed = tmp.path().join("narrowed");
    copy_dir(&req, &narrowed);
    let mut rj: serde_json::Value = serde_json::from_slice(&std::fs::read(narrowed.join("request.json")).unwrap()).unwrap();
    rj["clients"] = serde_json::json!(["python-tuf"]);
    std::fs::write(narrowed.join("request.json"), serde_json::to_vec_pretty(&rj).unwrap()).unwrap();
    let o = import(&narrowed, &[&alice, &bob], &out, &[]);
    assert_refused(&o, &out, &["names clients python-tuf", "otherwise request.json was altered"]);
    rj["clients"] = serde_json::json!([]);
    std::fs::write(narrowed.join("request.json"), serde_json::to_vec_pretty(&rj).unwrap()).unwrap();
    let o = import(&narrowed, &[&alice, &bob], &out, &["--clients", "python-tuf"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("clients: none named") && text(&o).contains("Nothing was written"), "{}", text(&o));
    assert!(!out.exists());

    // 5. A mistyped hash, three times: nothing is signed, the token is never opened.
    let carol_out = tmp.path().join("carol-stick");
    let mut wrong: Vec<String> = words(&hash).split(' ').map(String::from).collect();
    wrong.swap(3, 5);
    let (r, ui) = sign_as("carol", &req, &carol_out, &[&words(&other_hash), &wrong.join(" "), &hash[..40]]);
    let e = r.unwrap_err().to_string();
    assert!(e.contains("did not match") && e.contains("nothing was signed"), "{e}");
    assert!(ui.shown.contains("word 4") || ui.shown.contains("differs"), "{}", ui.shown);
    assert_eq!(ui.secrets_asked, 0, "no passphrase asked");
    assert!(!carol_out.exists());
    //    A typo then the right hash: signs.
    let (r, ui) = sign_as("carol", &req, &carol_out, &[&hash[1..], &hash]);
    r.unwrap_or_else(|e| panic!("{e}\n{}", ui.shown));
    assert!(ui.shown.contains("63 hex digits typed"), "{}", ui.shown);

    // 6. Below threshold: refused without --partial; with it, a clearly named .partial file.
    let o = import(&req, &[&alice], &out, &[]);
    assert_refused(&o, &out, &["below threshold", "1/2 by root v1", "--partial"]);
    let o = import(&req, &[&alice], &out, &["--partial"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("2.targets.json.partial").is_file());
    assert!(!out.join("2.targets.json").exists());
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    //    The full import then writes the real file beside it.
    let o = import(&req, &[&alice, &bob], &out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("2.targets.json").is_file());
}

#[test]
fn sign_request_refuses_what_clients_would_refuse() {
    let (_, media) = rehearsal();
    let tmp = tempfile::tempdir().unwrap();
    let md = media.join("metadata");
    let stick = tmp.path().join("stick");
    std::fs::create_dir_all(&stick).unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let mut a: Vec<&std::ffi::OsStr> = vec!["sign-request".as_ref()];
        a.extend_from_slice(args);
        a.extend_from_slice(&["--media".as_ref(), stick.as_os_str()]);
        cli(&a)
    };
    let d = draft(media, &tmp.path().join("d"), 2, "x.txt");
    // Wrong role for the file.
    let o = run(&[d.as_os_str(), "--role".as_ref(), "snapshot".as_ref(), "--delegator".as_ref(), md.join("1.root.json").as_os_str()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("not snapshot"), "{}", text(&o));
    // A delegated role whose delegator does not delegate it.
    let o = run(&[d.as_os_str(), "--role".as_ref(), "nobody".as_ref(), "--delegator".as_ref(), md.join("1.targets.json").as_os_str()]);
    assert!(text(&o).contains("does not delegate to nobody"), "{}", text(&o));
    // Not newer than the previous version (a rollback).
    let d1 = draft(media, &tmp.path().join("d1"), 1, "x.txt");
    let o = run(&[
        d1.as_os_str(),
        "--role".as_ref(),
        "targets".as_ref(),
        "--delegator".as_ref(),
        md.join("1.root.json").as_os_str(),
        "--previous".as_ref(),
        md.join("1.targets.json").as_os_str(),
    ]);
    assert!(text(&o).contains("rollback"), "{}", text(&o));
    assert_eq!(std::fs::read_dir(&stick).unwrap().count(), 0, "nothing written");
    // claimed, delegated by targets: allowed, names its keyholders.
    let mut c = load(&md.join("1.claimed.json"));
    c.signatures.clear();
    c.signed.header_mut().version = 2;
    let cp = tmp.path().join("2.claimed.json");
    std::fs::write(&cp, c.to_pretty_bytes()).unwrap();
    let o = run(&[
        cp.as_os_str(),
        "--role".as_ref(),
        "claimed".as_ref(),
        "--delegator".as_ref(),
        md.join("1.targets.json").as_os_str(),
        "--previous".as_ref(),
        md.join("1.claimed.json").as_os_str(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("delegated by targets v1") && text(&o).contains("nothing else changed"), "{}", text(&o));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn a_new_root_needs_the_old_and_the_new_root_keys() {
    let (_, media) = rehearsal();
    let tmp = tempfile::tempdir().unwrap();
    let md = media.join("metadata");
    // Root v2: same keys, root threshold raised to 3 — so the new root's own role needs all
    // three keyholders while root v1's needs two.
    let mut root = load(&md.join("1.root.json"));
    root.signatures.clear();
    root.signed.header_mut().version = 2;
    if let tuf_ceremony::tuf::metadata::Signed::Root(r) = &mut root.signed {
        r.set_threshold("root", 3);
    }
    let d = tmp.path().join("2.root.json");
    std::fs::write(&d, root.to_pretty_bytes()).unwrap();
    let stick = tmp.path().join("stick");
    std::fs::create_dir_all(&stick).unwrap();
    let o = cli(&[
        "sign-request".as_ref(),
        d.as_os_str(),
        "--role".as_ref(),
        "root".as_ref(),
        "--delegator".as_ref(),
        md.join("1.root.json").as_os_str(),
        "--previous".as_ref(),
        md.join("1.root.json").as_os_str(),
        "--media".as_ref(),
        stick.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("root v1") && t.contains("root v2 (the new root itself)") && t.contains("role root: threshold 2 → 3"), "{t}");
    let req = PathBuf::from(t.lines().find_map(|l| l.strip_prefix("Request folder: ")).unwrap());
    let hash = canonical_hash(&req);
    let sigs = tmp.path().join("sigs");
    let paths: Vec<PathBuf> = ["alice", "bob", "carol"].iter().map(|h| sign_as(h, &req, &sigs, &[&hash]).0.unwrap().path).collect();
    let out = tmp.path().join("out");
    let o = import(&req, &[&paths[0], &paths[1]], &out, &[]);
    assert_refused(&o, &out, &["2/2 by root v1", "2/3 by root v2 (the new root itself)"]);
    let o = import(&req, &[&paths[0], &paths[1], &paths[2]], &out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("3/2 by root v1, 3/3 by root v2"), "{}", text(&o));
    let new_root = load(&out.join("2.root.json"));
    let rc =
        tuf_ceremony::tuf::verify::check_root_rotation(load(&md.join("1.root.json")).signed.as_root().unwrap(), &new_root, &new_root.signed_bytes(), false)
            .unwrap();
    assert!(rc.ok(), "{rc:?}");
    // A wrong --delegator for a root (not version N-1) is refused.
    let o = cli(&[
        "sign-request".as_ref(),
        d.as_os_str(),
        "--role".as_ref(),
        "root".as_ref(),
        "--delegator".as_ref(),
        out.join("2.root.json").as_os_str(),
        "--media".as_ref(),
        stick.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("must be root version 1"), "{}", text(&o));
    // status over root v1 + v2: the new root checked by both.
    for f in ["1.root.json", "1.targets.json", "1.claimed.json"] {
        std::fs::copy(md.join(f), out.join(f)).unwrap();
    }
    let o = cli(&["status".as_ref(), out.as_os_str(), "--json".as_ref()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["roles"][0]["version"], 2);
    assert_eq!(v["roles"][0]["signatures"]["checks"].as_array().unwrap().len(), 2);
    assert_eq!(v["older_root_versions"], serde_json::json!([1]));
}

/// A delegator that lists a keyholder's key in a legacy form (PyPI-style roots carry
/// `keyid_hash_algorithms`), so its keyid is not the one the tool would compute for the
/// key it writes itself. `sign` must sign as the delegator lists the key. Before session 4
/// it signed, then looked for the signature under its own keyid, found none and refused:
/// the signature was made and thrown away.
#[test]
fn a_key_the_delegator_lists_in_a_legacy_form_signs() {
    use tuf_ceremony::tuf::json::Value;
    let (dir, media) = rehearsal();
    let tmp = tempfile::tempdir().unwrap();
    let alice = tuf_ceremony::ceremony::plan::read_public_key(&media.join("keys/alice/alice.key.json")).unwrap();
    let mut legacy = alice.clone();
    legacy.extra.insert("keyid_hash_algorithms".into(), Value::Array(vec![Value::Str("sha256".into()), Value::Str("sha512".into())]));
    let (old_id, new_id) = (keyid(&alice), keyid(&legacy));
    assert_ne!(old_id, new_id);
    let mut root = load(&media.join("metadata/1.root.json"));
    let tuf_ceremony::tuf::metadata::Signed::Root(r) = &mut root.signed else { panic!("not a root") };
    r.keys.remove(&old_id);
    r.keys.insert(new_id.clone(), legacy.clone());
    for role in r.roles.values_mut() {
        for id in role.keyids.iter_mut().filter(|id| **id == old_id) {
            *id = new_id.clone();
        }
    }
    let delegator = tmp.path().join("legacy-root.json");
    std::fs::write(&delegator, root.to_pretty_bytes()).unwrap();

    let d = draft(media, &tmp.path().join("draft"), 2, "legacy/key.txt");
    let o = sign_request_run(&d, &delegator, None, &tmp.path().join("stick"));
    assert!(o.status.success(), "sign-request: {}", text(&o));
    let req = request_folder(&o);
    let hash = canonical_hash(&req);

    let plan = Plan::load(&dir.join("plan.toml"), chrono::Utc::now()).unwrap();
    let mut tokens = Tokens::new(dir.join("tokens"));
    let mut ui = RemoteKeyholder::new(&dir.join("tokens"), &[&hash]);
    let sig_dir = tmp.path().join("alice-stick");
    let input = SignInput { request_dir: &req, keyholder: "alice", plan: &plan, key: Some(legacy), out_dir: Some(&sig_dir), now: chrono::Utc::now() };
    let written = sa::sign(&input, &mut tokens, &mut ui).unwrap_or_else(|e| panic!("alice: {e}\n{}", ui.shown));
    assert_eq!(written.keyid, new_id);
    let sf: SignatureFile = serde_json::from_slice(&std::fs::read(&written.path).unwrap()).unwrap();
    assert_eq!(sf.keyid, new_id);

    // Where the signature would go cannot take it (here a file stands where the folder
    // should be): refused before the token is asked for, so no signature is made to be lost.
    let blocked = tmp.path().join("not-a-folder");
    std::fs::write(&blocked, b"x").unwrap();
    let mut ui = RemoteKeyholder::new(&dir.join("tokens"), &[&hash]);
    let input = SignInput { out_dir: Some(&blocked), key: Some(input.key.clone().unwrap()), ..input };
    let e = sa::sign(&input, &mut tokens, &mut ui).unwrap_err();
    assert!(e.to_string().contains("not-a-folder"), "{e}");
    assert!(!ui.shown.contains("insert your"), "the token was asked for:\n{}", ui.shown);
}

/// A coordinator who doctors the previous version (here: the draft itself, unsigned, as
/// version 1) can make "What changed" read as nothing. The summary says the previous
/// version carries no threshold of signatures, in the coordinator's and the keyholder's.
#[test]
fn a_previous_version_without_its_signatures_is_called_out() {
    let (_, media) = rehearsal();
    let tmp = tempfile::tempdir().unwrap();
    let d = draft(media, &tmp.path().join("draft"), 2, "swapped/in.txt");
    let mut fake = load(&d);
    fake.signed.header_mut().version = 1;
    let fake_path = tmp.path().join("1.targets.json");
    std::fs::write(&fake_path, fake.to_pretty_bytes()).unwrap();
    let o = sign_request_run(&d, &media.join("metadata/1.root.json"), Some(&fake_path), &tmp.path().join("stick"));
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("WARNING: valid signatures by only 0 of the keys 1.root.json gives targets, threshold 2"), "{out}");
    assert!(!out.contains("target added"), "the doctored previous hides the change: {out}");
    let req = request_folder(&o);
    let (r, ui) = sign_as("alice", &req, &tmp.path().join("alice"), &[&canonical_hash(&req)]);
    r.unwrap_or_else(|e| panic!("{e}\n{}", ui.shown));
    assert!(ui.shown.contains("WARNING: valid signatures by only 0 of the keys 1.root.json gives targets, threshold 2"), "{}", ui.shown);
}

/// `sign-request` run again for the same draft, on another day (SUMMARY.txt counts the days
/// to expiry, so it differs): the same request folder, left as it is. A different request
/// under the same name is refused. The folder is built in a staging folder and renamed into
/// place, so none is left behind.
#[test]
fn sign_request_again_another_day_is_the_same_request() {
    let (_, media) = rehearsal();
    let tmp = tempfile::tempdir().unwrap();
    let stick = tmp.path().join("stick");
    let d = draft(media, &tmp.path().join("draft"), 2, "again/x.txt");
    let (req, _) = sign_request(media, &d, &stick);
    std::fs::write(req.join("SUMMARY.txt"), "as written yesterday\n").unwrap();
    let (again, _) = sign_request(media, &d, &stick);
    assert_eq!(again, req);
    assert_eq!(std::fs::read_to_string(req.join("SUMMARY.txt")).unwrap(), "as written yesterday\n", "the existing folder is not touched");
    let mut rj: serde_json::Value = serde_json::from_slice(&std::fs::read(req.join("request.json")).unwrap()).unwrap();
    rj["clients"] = serde_json::json!(["python-tuf"]);
    std::fs::write(req.join("request.json"), serde_json::to_vec_pretty(&rj).unwrap()).unwrap();
    let md = media.join("metadata");
    let o = sign_request_run(&d, &md.join("1.root.json"), Some(&md.join("1.targets.json")), &stick);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("holds another request"), "{}", text(&o));
    let names: Vec<String> = std::fs::read_dir(&stick).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

/// A draft made by another TUF system: a tuf-on-ci root (jku/tuf-demo, read from
/// ../shared, never copied here) with its previous version beside it. sign-request names
/// the signers as tuf-on-ci does (the key's `x-tuf-on-ci-keyowner`), says who has signed,
/// calls out tuf-on-ci's empty placeholder signature, and shows what changed; python-tuf,
/// as an independent check, finds the same one valid signature.
#[test]
fn a_tuf_on_ci_draft_with_its_previous_version_is_a_request() {
    let Some(_) = support::shared_real() else { return };
    let history = support::real("repos/jku-tuf-demo-head/metadata/root_history");
    let (draft, previous) = (history.join("5.root.json"), history.join("4.root.json"));
    let tmp = tempfile::tempdir().unwrap();
    let o = cli(&[
        "sign-request".as_ref(),
        draft.as_os_str(),
        "--role".as_ref(),
        "root".as_ref(),
        "--delegator".as_ref(),
        previous.as_os_str(),
        "--previous".as_ref(),
        previous.as_os_str(),
        "--media".as_ref(),
        tmp.path().as_os_str(),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for s in [
        "Signature request: root version 5",
        "@jku",
        "@rdimitrov",
        "already signed",
        "do not verify over this content",
        "compared with 4.root.json",
        "version 4 → 5",
    ] {
        assert!(t.contains(s), "the request summary lacks {s:?}:\n{t}");
    }
    let jku = t.lines().filter(|l| l.contains("@jku")).all(|l| l.contains("already signed"));
    let rd = t.lines().filter(|l| l.contains("@rdimitrov")).all(|l| !l.contains("already signed"));
    assert!(jku && rd, "who signed:\n{t}");
    let req = request_folder(&o);
    assert_eq!(std::fs::read(req.join("metadata.json")).unwrap(), std::fs::read(&draft).unwrap(), "the draft travels as is");
    let Some(py) = support::python() else { return };
    let script = r#"
import sys
from tuf.api.metadata import Metadata
prev = Metadata.from_file(sys.argv[1])
new = Metadata.from_file(sys.argv[2])
r = prev.signed.get_verification_result("root", new.signed_bytes, new.signatures)
print(sorted(prev.signed.keys[k].unrecognized_fields.get("x-tuf-on-ci-keyowner") for k in r.signed))
"#;
    let o = Command::new(&py).args(["-c", script]).arg(&previous).arg(&draft).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "['@jku']", "python-tuf: who has validly signed");
}
