//! The main job, end to end: `rehearse --yes` on the built-in plan produces media that
//! python-tuf accepts (every file by its delegator, and its real client once the online
//! roles are added as the online system would), `sha256sum -c` passes, and a crash after
//! any step or any single signature resumes to a complete, valid result with every
//! signature present exactly once.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tuf_ceremony::ceremony::steps::expand;
use tuf_ceremony::ceremony::transcript;
use tuf_ceremony::signer::sign_metadata;
use tuf_ceremony::signer::software::SoftwareKey;
use tuf_ceremony::tuf::finding::Clients;
use tuf_ceremony::tuf::metadata::*;
use tuf_ceremony::tuf::verify::{check_delegated, check_top_level};

fn rehearse(dir: &Path, crash_after: Option<&str>) -> Output {
    let mut c = Command::new(support::bin());
    c.args(["rehearse", "--yes", "--out"]).arg(dir);
    match crash_after {
        Some(s) => c.env("TUF_CEREMONY_CRASH_AFTER", s),
        None => c.env_remove("TUF_CEREMONY_CRASH_AFTER"),
    };
    c.output().unwrap()
}

fn media_dir(dir: &Path) -> PathBuf {
    let media = dir.join("media");
    let mut entries: Vec<_> = std::fs::read_dir(&media).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(entries.len(), 1, "one ceremony folder on the media");
    entries.pop().unwrap()
}

fn load(p: &Path) -> Metadata {
    Metadata::from_bytes(&std::fs::read(p).unwrap(), Mode::Strict).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Checks the exported metadata: root, targets and claimed each carry exactly the three
/// keyholders' signatures, once each, all valid, and meet their thresholds.
fn assert_complete(media: &Path) {
    let root = load(&media.join("metadata/1.root.json"));
    let targets = load(&media.join("metadata/1.targets.json"));
    let claimed = load(&media.join("metadata/1.claimed.json"));
    let r = root.signed.as_root().unwrap();
    for (name, md, check) in [
        ("root", &root, check_top_level(r, "root", &root, &root.signed_bytes(), false).unwrap()),
        ("targets", &targets, check_top_level(r, "targets", &targets, &targets.signed_bytes(), false).unwrap()),
        ("claimed", &claimed, check_delegated(targets.signed.as_targets().unwrap(), "claimed", &claimed, &claimed.signed_bytes(), false).unwrap()),
    ] {
        assert_eq!(md.signatures.len(), 3, "{name}: {:?}", md.signatures);
        assert_eq!(check.valid(), 3, "{name}: {check:?}");
        assert!(check.met());
    }
    let sums = Command::new("sha256sum").args(["-c", "--quiet", "SHA256SUMS"]).current_dir(media).output().unwrap();
    assert!(sums.status.success(), "sha256sum -c: {}", String::from_utf8_lossy(&sums.stdout));
}

/// Transcript: intact chain; each (keyholder, role) signature recorded exactly once; each
/// key generated exactly once.
fn assert_transcript(media: &Path) {
    let v = transcript::verify(&std::fs::read(media.join("transcript.jsonl")).unwrap()).unwrap();
    let mut sigs: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut generated: BTreeMap<String, usize> = BTreeMap::new();
    for l in &v.lines {
        let s = |k: &str| l.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        match s("kind").as_str() {
            "signature" => *sigs.entry((s("keyholder"), s("role"))).or_default() += 1,
            "key" if l.get("generated").and_then(|g| g.as_bool()) == Some(true) => *generated.entry(s("keyholder")).or_default() += 1,
            _ => {}
        }
    }
    assert_eq!(sigs.len(), 9, "{sigs:?}");
    assert!(sigs.values().all(|&n| n == 1), "{sigs:?}");
    assert_eq!(generated.len(), 3, "{generated:?}");
    assert!(generated.values().all(|&n| n == 1), "{generated:?}");
    let summary = std::fs::read_to_string(media.join("SUMMARY.txt")).unwrap();
    assert!(summary.contains(&v.head), "SUMMARY.txt carries the transcript head");
}

fn online_key(dir: &Path, name: &str) -> SoftwareKey {
    let pass = std::fs::read_to_string(dir.join("online-keys/REHEARSAL-PASSPHRASE")).unwrap();
    let pem = std::fs::read_to_string(dir.join(format!("online-keys/{name}.key.pem"))).unwrap();
    SoftwareKey::from_encrypted_pem(&pem, pass.trim().as_bytes(), name).unwrap()
}

/// Plays the online system: signs the online roles, snapshot and timestamp, and lays out a
/// complete consistent-snapshot repository around the ceremony's files.
fn complete_repository(dir: &Path, media: &Path, out: &Path) {
    std::fs::create_dir_all(out).unwrap();
    for f in ["1.root.json", "1.targets.json", "1.claimed.json"] {
        std::fs::copy(media.join("metadata").join(f), out.join(f)).unwrap();
    }
    let exp = chrono::Utc::now() + chrono::Duration::days(1);
    let write = |name: &str, md: &Metadata| {
        let bytes = tuf_ceremony::tuf::write(md, Clients::ALL).unwrap();
        std::fs::write(out.join(name), &bytes).unwrap();
        bytes
    };
    for role in ["recently-claimed", "unclaimed"] {
        let mut t = Targets::new(1, exp);
        if role == "unclaimed" {
            t.targets.insert("example/example-1.0.tar.gz".into(), TargetFile::from_data(b"example"));
        }
        let mut md = Metadata::new(Signed::Targets(t));
        sign_metadata(&mut md, &mut online_key(dir, role)).unwrap();
        write(&format!("1.{role}.json"), &md);
    }
    let mut snap = Snapshot { header: Header::new(1, exp), meta: BTreeMap::new(), extra: Default::default() };
    for r in ["targets", "claimed", "recently-claimed", "unclaimed"] {
        snap.meta.insert(format!("{r}.json"), MetaFile::version_only(1));
    }
    let mut md = Metadata::new(Signed::Snapshot(snap));
    sign_metadata(&mut md, &mut online_key(dir, "snapshot")).unwrap();
    let sb = write("1.snapshot.json", &md);
    let ts =
        Timestamp { header: Header::new(1, exp), meta: BTreeMap::from([("snapshot.json".into(), MetaFile::from_data(1, &sb))]), extra: Default::default() };
    let mut md = Metadata::new(Signed::Timestamp(ts));
    sign_metadata(&mut md, &mut online_key(dir, "timestamp")).unwrap();
    write("timestamp.json", &md);
}

#[test]
fn rehearsal_output_is_accepted_by_python_tuf() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let out = rehearse(&dir, None);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let media = media_dir(&dir);
    assert_complete(&media);
    assert_transcript(&media);
    let Some(py) = support::python() else { return };
    let repo = tmp.path().join("repo");
    complete_repository(&dir, &media, &repo);
    let (ok, text) = support::run_python(
        &py,
        "verify_repo.py",
        &[repo.as_os_str(), "--target".as_ref(), "example/example-1.0.tar.gz".as_ref(), "--expect-missing".as_ref(), "django/Django-5.0.tar.gz".as_ref()],
    );
    assert!(ok, "python-tuf rejected the rehearsal output:\n{text}");
    // Negative control: one flipped byte in a signed file must make python-tuf fail.
    let p = repo.join("1.claimed.json");
    let mut b = std::fs::read(&p).unwrap();
    let at = String::from_utf8_lossy(&b).find("\"expires\"").unwrap() + 14;
    b[at] = if b[at] == b'1' { b'2' } else { b'1' };
    std::fs::write(&p, b).unwrap();
    let (ok, _) = support::run_python(&py, "verify_repo.py", &[repo.as_os_str()]);
    assert!(!ok, "python-tuf must reject a tampered claimed role");
}

#[test]
fn crash_after_any_step_or_signature_resumes_to_a_complete_result() {
    let names: Vec<String> = ["alice", "bob", "carol"].iter().map(|s| s.to_string()).collect();
    let mut points: Vec<String> = expand(&names, &names, false).iter().map(|s| s.id()).collect();
    for h in &names {
        for r in ["root", "targets", "claimed"] {
            points.push(format!("signature:{h}:{r}"));
        }
    }
    // Right after the export folder is renamed into place, before the transcript records it:
    // the resume recognises the folder as its own and completes (not "a folder of that name
    // is already on the media").
    points.push("export.renamed".into());
    assert!(points.len() >= 25);
    for point in points.iter().filter(|p| p.as_str() != "finish.readout") {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("r");
        let crashed = rehearse(&dir, Some(point));
        assert!(!crashed.status.success(), "{point}: the crash hook must stop the run");
        // A crash may happen again on resume before the point is passed; here it is not.
        let resumed = rehearse(&dir, None);
        assert!(resumed.status.success(), "{point}: resume failed\n{}{}", String::from_utf8_lossy(&resumed.stdout), String::from_utf8_lossy(&resumed.stderr));
        let media = media_dir(&dir);
        assert_complete(&media);
        assert_transcript(&media);
        let text = String::from_utf8_lossy(&resumed.stdout);
        assert!(text.contains("already done") || point.starts_with("preflight.network"), "{point}: resume should skip finished steps");
        if point == "export.renamed" {
            assert!(text.contains("is this run's own export"), "{point}: {text}");
            let t = std::fs::read_to_string(dir.join("work/transcript.jsonl")).unwrap();
            assert_eq!(t.matches("\"export.recovered\"").count(), 1, "{point}: the recovery is recorded");
        }
    }
}

#[test]
fn status_shows_where_a_ceremony_stands() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    assert!(!rehearse(&dir, Some("sign.keyholder:alice")).status.success());
    let out = Command::new(support::bin()).args(["run", "--status", "--workdir"]).arg(dir.join("work")).arg(dir.join("plan.toml")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("[x] sign.keyholder:alice"), "{text}");
    assert!(text.contains("[ ] sign.keyholder:bob"), "{text}");
    assert!(text.contains("next: sign.keyholder:bob"), "{text}");
}

#[test]
fn run_refuses_with_a_network_interface_up_unless_overridden() {
    let up = tuf_ceremony::ceremony::engine::interfaces_up();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    // Prepare a plan and tokens via a rehearsal stopped before any step runs.
    assert!(!rehearse(&dir, Some("preflight.network")).status.success());
    let media = tmp.path().join("stick");
    std::fs::create_dir_all(&media).unwrap();
    let run = |extra: &[&str]| {
        Command::new(support::bin())
            .args(["run", "--workdir"])
            .arg(tmp.path().join("w"))
            .arg("--tokens")
            .arg(dir.join("tokens"))
            .arg("--media")
            .arg(&media)
            .args(extra)
            .arg(dir.join("plan.toml"))
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    if up.is_empty() {
        eprintln!("no network interface is up here; the refusal path cannot be observed");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("network interfaces are up") && err.contains(&up[0]), "{err}");
    // With the override, it goes past the network step (and then waits for the clock
    // confirmation, which a closed stdin cannot give).
    let out = run(&["--allow-network"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--allow-network"), "{text}");
    assert!(text.contains("preflight.clock"), "{text}");
}

/// The previous keyholder's token still in the reader when the next one's key is loaded
/// (here: bob's simulated token is a copy of alice's): refused, naming both, instead of
/// recording one key for two keyholders (a 2-of-3 root would silently become 2-of-2).
/// After the right token is in, the same command finishes.
#[test]
fn one_key_cannot_be_recorded_for_two_keyholders() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let out = rehearse(&dir, Some("keys.keyholder:alice"));
    assert!(!out.status.success());
    let tokens = dir.join("tokens");
    let saved = tmp.path().join("bob-token");
    std::fs::rename(tokens.join("bob"), &saved).unwrap();
    std::fs::create_dir(tokens.join("bob")).unwrap();
    for f in ["key.pem", "serial", "REHEARSAL-PASSPHRASE"] {
        std::fs::copy(tokens.join("alice").join(f), tokens.join("bob").join(f)).unwrap();
    }
    let out = rehearse(&dir, None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("bob's token") && err.contains("already recorded for alice"), "{err}");
    std::fs::remove_dir_all(tokens.join("bob")).unwrap();
    std::fs::rename(&saved, tokens.join("bob")).unwrap();
    let out = rehearse(&dir, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_complete(&media_dir(&dir));
}

/// Power lost in the middle of a transcript append leaves a torn last line: the run
/// resumes, the torn bytes are cut off and recorded (`transcript.repaired`), and the
/// exported transcript verifies. A transcript that is gone while the state says the
/// ceremony has begun is refused, not started afresh.
#[test]
fn a_torn_transcript_resumes_and_a_missing_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    assert!(!rehearse(&dir, Some("keys.keyholder:bob")).status.success());
    let t = dir.join("work/transcript.jsonl");
    let mut bytes = std::fs::read(&t).unwrap();
    let saved = bytes.clone();
    bytes.extend_from_slice(b"{\"seq\":99,\"time\":\"2026-");
    std::fs::write(&t, &bytes).unwrap();
    std::fs::remove_file(&t).unwrap();
    let out = rehearse(&dir, None);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("transcript.jsonl is missing"), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(&t, &bytes).unwrap();
    let out = rehearse(&dir, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let media = media_dir(&dir);
    assert_complete(&media);
    let v = transcript::verify(&std::fs::read(media.join("transcript.jsonl")).unwrap()).unwrap();
    let repaired: Vec<_> = v.lines.iter().filter(|l| l["kind"] == "transcript.repaired").collect();
    assert_eq!(repaired.len(), 1);
    assert_eq!(repaired[0]["dropped_bytes"], bytes.len() - saved.len());
}

/// A draft changed in the working directory after it was built (here: a target slipped
/// into targets): signing refuses it before the token is used, naming the file and both
/// hashes, and nothing is signed. With the built draft back, the run completes.
#[test]
fn a_draft_changed_after_its_build_is_not_signed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    assert!(!rehearse(&dir, Some("build.delegations")).status.success());
    let draft = dir.join("work/metadata/targets.json");
    let built = std::fs::read(&draft).unwrap();
    let mut md = load(&draft);
    if let Signed::Targets(t) = &mut md.signed {
        t.targets.insert("evil/payload.tar.gz".into(), TargetFile::from_data(b"evil"));
    }
    std::fs::write(&draft, md.to_pretty_bytes()).unwrap();
    let out = rehearse(&dir, None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("targets.json") && err.contains("changed after it was built") && err.contains("nothing was signed"), "{err}");
    assert!(load(&draft).signatures.iter().all(|s| s.sig.is_empty()), "the changed draft was signed");
    std::fs::write(&draft, built).unwrap();
    let out = rehearse(&dir, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_complete(&media_dir(&dir));
}

/// After a crash right after the export's rename, a folder of that name whose files were
/// changed is not taken for this run's own, even with a SHA256SUMS that matches them and the
/// run's own transcript: the files must be what the transcript recorded.
#[test]
fn an_altered_export_is_not_taken_for_the_interrupted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    assert!(!rehearse(&dir, Some("export.renamed")).status.success());
    let media = media_dir(&dir);
    let p = media.join("metadata/1.targets.json");
    let mut bytes = std::fs::read(&p).unwrap();
    let at = bytes.windows(9).position(|w| w == b"\"version\"").unwrap();
    bytes.insert(at, b' ');
    std::fs::write(&p, &bytes).unwrap();
    let sums = Command::new("sh")
        .arg("-c")
        .arg("grep -v SHA256SUMS SHA256SUMS | cut -c67- | xargs sha256sum > S && mv S SHA256SUMS")
        .current_dir(&media)
        .status()
        .unwrap();
    assert!(sums.success());
    let ok = Command::new("sha256sum").args(["-c", "--quiet", "SHA256SUMS"]).current_dir(&media).status().unwrap();
    assert!(ok.success(), "the altered folder's SHA256SUMS matches its files");
    let before = std::fs::read(&p).unwrap();
    let resumed = rehearse(&dir, None);
    let text = format!("{}{}", String::from_utf8_lossy(&resumed.stdout), String::from_utf8_lossy(&resumed.stderr));
    assert!(!resumed.status.success(), "{text}");
    assert!(text.contains("already on the media") && !text.contains("this run's own export"), "{text}");
    assert_eq!(std::fs::read(&p).unwrap(), before, "the folder is left as it is");
}

/// A crash after a token generated its key but before the key was recorded: the resume finds
/// the key on the token and records it as generated in the interrupted attempt (the intent
/// entry says the token was empty then), not as "found existing".
#[test]
fn a_key_generated_before_a_crash_is_recorded_as_generated() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    assert!(!rehearse(&dir, Some("key.provisioned:bob")).status.success());
    assert!(dir.join("tokens/bob/key.pem").is_file(), "bob's token made its key before the crash");
    let resumed = rehearse(&dir, None);
    let text = String::from_utf8_lossy(&resumed.stdout).into_owned();
    assert!(resumed.status.success(), "{text}");
    assert!(text.contains("bob: generated in the attempt interrupted at"), "{text}");
    let t = std::fs::read_to_string(dir.join("work/transcript.jsonl")).unwrap();
    let entries: Vec<serde_json::Value> = t.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let intents: Vec<&serde_json::Value> = entries.iter().filter(|e| e["kind"] == "key.intent" && e["keyholder"] == "bob").collect();
    assert_eq!(intents.len(), 2, "one intent per attempt");
    assert_eq!(intents[0]["token_before"], "empty");
    assert!(intents[1]["token_before"].as_str().unwrap().starts_with("key "), "{}", intents[1]);
    let key = entries.iter().find(|e| e["kind"] == "key" && e["keyholder"] == "bob").unwrap();
    assert_eq!(key["generated"], true, "recorded as generated, not found existing");
    let alice = entries.iter().find(|e| e["kind"] == "key" && e["keyholder"] == "alice").unwrap();
    assert_eq!(alice["generated"], true);
}
