//! Keyholders who are not all in one room (issue #14), through a real terminal as the
//! people would answer (tests/support/tty.rs): a 2-of-3 re-signing with one keyholder absent,
//! the same draft signed apart, a `--keyholders` set below threshold and a wrong token
//! refused before anything is asked, and a resume with another program recorded.
//!
//! The number of answers each keyholder gives is counted from the scenario the terminal is
//! driven through; the driver waits for every prompt in turn, so a question more or less
//! than the scenario has fails the run.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::tty::{
    Step, answer, answers_per_keyholder, assert_live_stream_safe, assert_output_fits, assert_says, drive, drive_program, python3, secret, wait_for,
};

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn cli(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(support::bin()).args(args).env_remove("TUF_CEREMONY_CRASH_AFTER").output().unwrap()
}

fn pass(dir: &Path, holder: &str) -> String {
    support::rehearsal_passphrase(&dir.join("tokens"), holder).expect("rehearsal passphrase").to_string()
}

fn tail(s: &str) -> &str {
    let mut i = s.len().saturating_sub(3000);
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

/// An update in the room from the clock question on, for the keyholders `signing`.
fn update_in_room(dir: &Path, signing: &[&str], first_change: &str) -> Vec<Step> {
    let mut s = vec![wait_for("[preflight.clock]"), wait_for("Does the clock match"), answer("[y/n]", "y")];
    s.push(wait_for("[build.update]"));
    s.push(wait_for(first_change));
    s.push(wait_for("Every change is listed in CHANGES.txt"));
    s.push(answer("Witnesses: check the changes above", ""));
    for h in signing {
        s.extend(sign_in_room(dir, h));
    }
    s.extend(finish());
    s
}

fn sign_in_room(dir: &Path, h: &str) -> Vec<Step> {
    vec![
        wait_for(&format!("[sign.keyholder:{h}]")),
        wait_for(&format!("Keyholder {h}: insert your token")),
        answer("Press Enter", ""),
        secret(&format!("Passphrase for {h}'s software token"), &pass(dir, h)),
        wait_for(&format!("{h}: remove your token")),
        answer("Press Enter", ""),
    ]
}

fn finish() -> Vec<Step> {
    vec![
        wait_for("[verify.result]"),
        wait_for("All roles verify"),
        wait_for("[export.media]"),
        wait_for("Exported"),
        wait_for("Read the hash aloud"),
        answer("Press Enter", ""),
        wait_for("Ceremony complete"),
    ]
}

/// `resign targets` on a rehearsal's plan and metadata, exporting to `stick`, as strings.
fn resign_targets(dir: &Path, current: &Path, stick: &Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec!["resign".into(), "targets".into(), "--plan".into()];
    for (p, flag) in [(dir.join("plan.toml"), "--current"), (current.to_path_buf(), "--media")] {
        v.push(p.display().to_string());
        v.push(flag.into());
    }
    v.push(stick.display().to_string());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn only_folder(d: &Path) -> PathBuf {
    let v: Vec<PathBuf> =
        std::fs::read_dir(d).unwrap().flatten().map(|e| e.path()).filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.')).collect();
    assert_eq!(v.len(), 1, "one folder in {}: {v:?}", d.display());
    v[0].clone()
}

fn transcript_lines(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// python-tuf checks `role` (a new version) against its delegator and returns how many
/// valid signatures it has.
fn python_tuf_accepts(delegator: &Path, role: &str, file: &Path) -> Option<usize> {
    let py = support::python()?;
    let script = r#"
import sys
from tuf.api.metadata import Metadata
d = Metadata.from_file(sys.argv[1])
m = Metadata.from_file(sys.argv[3])
d.verify_delegate(sys.argv[2], m)
print(len(d.signed.get_verification_result(sys.argv[2], m.signed_bytes, m.signatures).signed))
"#;
    let o = Command::new(&py).args(["-c", script]).arg(delegator).arg(role).arg(file).output().unwrap();
    assert!(o.status.success(), "python-tuf refuses {}: {}", file.display(), text(&o));
    Some(String::from_utf8_lossy(&o.stdout).trim().parse().unwrap())
}

/// A keyholder at their own machine signs a request through the terminal: insert the token
/// (checked before anything is typed), type the hash read out by the coordinator, type the
/// passphrase.
fn sign_apart(py: &Path, dir: &Path, req: &Path, h: &str, hash_typed: &str, out: &Path, log: &Path) -> (PathBuf, Vec<Step>) {
    let steps = vec![
        wait_for(&format!("[sign.keyholder:{h}]")),
        wait_for(&format!("{h}: insert your software token")),
        answer("Press Enter", ""),
        answer("Canonical sha256 (hex or PGP words):", hash_typed),
        wait_for("The hash matches"),
        secret(&format!("Passphrase for {h}'s software token"), &pass(dir, h)),
        wait_for("Signature file:"),
    ];
    let plan = dir.join("plan.toml");
    let args = ["sign", req.to_str().unwrap(), "--keyholder", h, "--plan", plan.to_str().unwrap(), "--out", out.to_str().unwrap()];
    // The scenario's first line only attributes the answers to the keyholder when counting.
    let s = drive(py, &args, &steps[1..], log);
    assert_eq!((s.exit, s.signal), (Some(0), None), "{h} signs apart:\n{}", tail(&s.text()));
    assert_output_fits(&s.text(), &[hash_typed]);
    (only_file(out), steps)
}

fn only_file(d: &Path) -> PathBuf {
    let v: Vec<PathBuf> = std::fs::read_dir(d).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(v.len(), 1, "{v:?}");
    v[0].clone()
}

#[test]
fn two_of_three_resign_with_carol_absent_then_claimed_signed_apart() {
    let Some(py) = python3() else { return };
    let (tmp, dir, media) = support::fresh_rehearsal("keyholders-");
    let current = media.join("metadata");
    let stick = tmp.path().join("stick");
    std::fs::create_dir_all(&stick).unwrap();
    let log = tmp.path().join("resign.log");
    let plan = dir.join("plan.toml");

    // 1. resign targets with alice and bob in the room; carol is away.
    let mut steps = vec![wait_for("Keyholders present: alice, bob. Absent: carol")];
    steps.extend(update_in_room(&dir, &["alice", "bob"], "targets: version 1 -> 2"));
    let args = resign_targets(&dir, &current, &stick, &["--keyholders", "alice,bob", "--allow-network"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let s = drive(&py, &args, &steps, &log);
    let out = s.text();
    assert_eq!((s.exit, s.signal), (Some(0), None), "{}", tail(&out));
    assert_live_stream_safe(&out);
    assert_says(&out, &["build.update", "sign.keyholder", "finish.readout"]);
    assert!(!out.contains("[keys.keyholder"), "an update has no keys step");
    assert!(!out.contains("New passphrase") && !out.contains("carol's software token"), "{}", tail(&out));
    let answers = answers_per_keyholder(&steps);
    eprintln!("re-signing in the room, answers per keyholder: {answers:?}");
    assert_eq!(answers.get("alice"), Some(&(3, 1)), "insert, passphrase, remove");
    assert_eq!(answers.get("bob"), Some(&(3, 1)));
    assert_eq!(answers.get("carol"), None);

    let folder = only_folder(&stick);
    let new_targets = folder.join("metadata/2.targets.json");
    if let Some(n) = python_tuf_accepts(&current.join("1.root.json"), "targets", &new_targets) {
        assert_eq!(n, 2, "alice's and bob's signatures");
    }
    let lines = transcript_lines(&folder.join("transcript.jsonl"));
    let start = lines.iter().find(|l| l["kind"] == "ceremony.start").unwrap();
    assert_eq!(start["keyholders_present"], serde_json::json!(["alice", "bob"]));
    assert_eq!(start["keyholders_absent"], serde_json::json!(["carol"]));
    let summary = std::fs::read_to_string(folder.join("SUMMARY.txt")).unwrap();
    assert!(summary.contains("Absent keyholders: carol"), "{summary}");
    // --status says the run is complete: the absent keyholder has no step left.
    let st = cli(&["resign".as_ref(), "targets".as_ref(), "--plan".as_ref(), plan.as_os_str(), "--current".as_ref(), current.as_os_str(), "--status".as_ref()]);
    assert!(text(&st).contains("steps done.") && !text(&st).contains("next:"), "{}", text(&st));
    assert_live_stream_safe(&summary);

    // Later, carol adds her signature to the same file by signing apart.
    let reqs = tmp.path().join("requests-targets");
    std::fs::create_dir_all(&reqs).unwrap();
    let o = cli(&[
        "sign-request".as_ref(),
        new_targets.as_os_str(),
        "--role".as_ref(),
        "targets".as_ref(),
        "--delegator".as_ref(),
        current.join("1.root.json").as_os_str(),
        "--previous".as_ref(),
        current.join("1.targets.json").as_os_str(),
        "--media".as_ref(),
        reqs.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let req = only_folder(&reqs);
    let hash = request_hash(&req);
    let (carol_sig, _) = sign_apart(&py, &dir, &req, "carol", &hash, &tmp.path().join("carol-out"), &tmp.path().join("carol.log"));
    let merged = tmp.path().join("merged");
    let o = cli(&["import-signatures".as_ref(), req.as_os_str(), carol_sig.as_os_str(), "--out".as_ref(), merged.as_os_str()]);
    assert!(o.status.success(), "{}", text(&o));
    if let Some(n) = python_tuf_accepts(&current.join("1.root.json"), "targets", &merged.join("2.targets.json")) {
        assert_eq!(n, 3, "carol's signature joined alice's and bob's");
    }

    // 2. resign claimed --apart: the same draft as in the room, as a request folder.
    let apart = tmp.path().join("apart");
    let o = cli(&[
        "resign".as_ref(),
        "claimed".as_ref(),
        "--plan".as_ref(),
        plan.as_os_str(),
        "--current".as_ref(),
        current.as_os_str(),
        "--apart".as_ref(),
        apart.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("claimed version 2") && text(&o).contains("nothing else changed"), "{}", text(&o));
    let req = only_folder(&apart);
    let draft: Value = serde_json::from_slice(&std::fs::read(req.join("metadata.json")).unwrap()).unwrap();
    assert_eq!(draft["signed"]["version"], 2);
    assert_eq!(draft["signatures"], serde_json::json!([]));
    let hash = request_hash(&req);
    let words = tuf_ceremony::util::pgpwords::phrase_of_hex(&hash);
    let (alice, alice_steps) = sign_apart(&py, &dir, &req, "alice", &words, &tmp.path().join("alice-out"), &tmp.path().join("alice.log"));
    let (bob, bob_steps) = sign_apart(&py, &dir, &req, "bob", &hash, &tmp.path().join("bob-out"), &tmp.path().join("bob.log"));
    let a = answers_per_keyholder(&alice_steps);
    let b = answers_per_keyholder(&bob_steps);
    eprintln!("signing apart, answers per keyholder: alice {a:?} bob {b:?}");
    assert_eq!((a.get("alice"), b.get("bob")), (Some(&(3, 1)), Some(&(3, 1))), "insert, hash, passphrase");
    let out = tmp.path().join("claimed-out");
    let o = cli(&["import-signatures".as_ref(), req.as_os_str(), alice.as_os_str(), bob.as_os_str(), "--out".as_ref(), out.as_os_str()]);
    assert!(o.status.success(), "{}", text(&o));
    if let Some(n) = python_tuf_accepts(&current.join("1.targets.json"), "claimed", &out.join("2.claimed.json")) {
        assert_eq!(n, 2);
    }
}

fn request_hash(req: &Path) -> String {
    let r: Value = serde_json::from_slice(&std::fs::read(req.join("request.json")).unwrap()).unwrap();
    r["canonical_sha256"].as_str().unwrap().to_string()
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn keyholders_below_threshold_are_refused_before_any_prompt_and_nothing_is_written() {
    let Some(py) = python3() else { return };
    let (tmp, dir, media) = support::fresh_rehearsal("keyholders-short-");
    let current = media.join("metadata");
    let stick = tmp.path().join("stick");
    std::fs::create_dir_all(&stick).unwrap();
    let plan = dir.join("plan.toml");
    let before = snapshot(&dir);

    // A re-signing: targets needs 2 of alice, bob, carol.
    let args = resign_targets(&dir, &current, &stick, &["--keyholders", "alice"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let s = drive(&py, &args, &[wait_for("cannot sign what this run signs")], &tmp.path().join("short.log"));
    let out = s.text();
    assert_eq!(s.exit, Some(1), "{out}");
    assert!(out.contains("targets needs 2 of its keyholders (alice, bob, carol); present: alice"), "{out}");
    for prompt in ["Press Enter", "[y/n]", "Passphrase", "Step 1/"] {
        assert!(!out.contains(prompt), "{prompt:?} before the refusal:\n{out}");
    }
    assert_eq!(snapshot(&dir), before, "nothing written in the rehearsal folder (no working directory)");
    assert_eq!(std::fs::read_dir(&stick).unwrap().count(), 0, "nothing on the stick");

    // A first ceremony: every keyholder generates a key, so every one must be there.
    let work = tmp.path().join("new.work");
    let o = cli(&[
        "run".as_ref(),
        plan.as_os_str(),
        "--media".as_ref(),
        stick.as_os_str(),
        "--workdir".as_ref(),
        work.as_os_str(),
        "--keyholders".as_ref(),
        "alice,bob".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("carol must be present: their keys are generated in this ceremony"), "{}", text(&o));
    assert!(!work.exists(), "no working directory made");

    // A name the plan does not have is a usage error.
    let o = cli(&[
        "resign".as_ref(),
        "targets".as_ref(),
        "--plan".as_ref(),
        plan.as_os_str(),
        "--current".as_ref(),
        current.as_os_str(),
        "--media".as_ref(),
        stick.as_os_str(),
        "--keyholders".as_ref(),
        "alice,mallory".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("\"mallory\" is not a keyholder in the plan"), "{}", text(&o));
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn a_wrong_token_during_resign_is_refused_before_its_passphrase_and_nothing_is_generated() {
    let Some(py) = python3() else { return };
    let (tmp, dir, media) = support::fresh_rehearsal("keyholders-wrong-");
    let (_other_tmp, other, _) = support::fresh_rehearsal("keyholders-other-");
    let current = media.join("metadata");
    let stick = tmp.path().join("stick");
    std::fs::create_dir_all(&stick).unwrap();
    // carol brings the token of another ceremony's carol.
    let carol = dir.join("tokens/carol");
    let kept = tmp.path().join("carol-real");
    std::fs::rename(&carol, &kept).unwrap();
    std::fs::create_dir_all(&carol).unwrap();
    for f in ["key.pem", "public.json", "serial", "REHEARSAL-PASSPHRASE"] {
        std::fs::copy(other.join("tokens/carol").join(f), carol.join(f)).unwrap();
    }
    let wrong_token = snapshot(&carol);

    let args = resign_targets(&dir, &current, &stick, &["--keyholders", "alice,carol", "--allow-network"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut steps = vec![wait_for("Does the clock match"), answer("[y/n]", "y"), answer("Witnesses: check the changes above", "")];
    steps.extend(sign_in_room(&dir, "alice"));
    steps.extend([wait_for("[sign.keyholder:carol]"), wait_for("Keyholder carol: insert your token"), answer("Press Enter", ""), wait_for("wrong token?")]);
    let s = drive(&py, &args, &steps, &tmp.path().join("wrong.log"));
    let out = s.text();
    assert_eq!(s.exit, Some(1), "{}", tail(&out));
    assert!(out.contains("which is not a key of targets in the current metadata") && out.contains("Nothing was asked"), "{}", tail(&out));
    assert!(!out.contains("Passphrase for carol"), "carol's passphrase was asked:\n{}", tail(&out));
    assert!(!out.contains("New passphrase"), "an update never provisions:\n{}", tail(&out));
    assert_eq!(snapshot(&carol), wrong_token, "nothing changed on the wrong token");
    assert_eq!(std::fs::read_dir(&stick).unwrap().count(), 0, "nothing exported");

    // An empty token (a spare, or the wrong --tokens folder) is refused the same way, and
    // nothing is generated on it.
    std::fs::remove_file(carol.join("key.pem")).unwrap();
    std::fs::remove_file(carol.join("public.json")).unwrap();
    let steps = vec![wait_for("[sign.keyholder:carol]"), answer("Press Enter", ""), wait_for("holds no key")];
    let s = drive(&py, &args, &steps, &tmp.path().join("empty.log"));
    assert_eq!(s.exit, Some(1), "{}", tail(&s.text()));
    assert!(s.text().contains("an update never generates one") && s.text().contains("tokens/carol/key.pem"), "{}", tail(&s.text()));
    assert!(!carol.join("key.pem").exists(), "no key was generated");

    // carol's real token: the same command resumes, alice's signature is kept, carol signs.
    std::fs::remove_dir_all(&carol).unwrap();
    std::fs::rename(&kept, &carol).unwrap();
    let mut steps = vec![wait_for("[sign.keyholder:alice]"), wait_for("already done")];
    steps.extend(sign_in_room(&dir, "carol"));
    steps.extend(finish());
    let s = drive(&py, &args, &steps, &tmp.path().join("right.log"));
    assert_eq!((s.exit, s.signal), (Some(0), None), "{}", tail(&s.text()));
    let folder = only_folder(&stick);
    if let Some(n) = python_tuf_accepts(&current.join("1.root.json"), "targets", &folder.join("metadata/2.targets.json")) {
        assert_eq!(n, 2, "alice's signature from the first attempt and carol's");
    }
}

#[test]
fn a_resume_with_another_program_is_confirmed_and_recorded() {
    let Some(py) = python3() else { return };
    let tmp = tempfile::Builder::new().prefix("keyholders-binary-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dir = tmp.path().join("r");
    let o =
        Command::new(support::bin()).args(["rehearse", "--yes", "--out"]).arg(&dir).env("TUF_CEREMONY_CRASH_AFTER", "sign.keyholder:carol").output().unwrap();
    assert!(!o.status.success(), "the crash hook stops the run");
    // Another build of the program: the same code with bytes appended (still runs).
    let other = tmp.path().join("tuf-ceremony-other");
    let mut bytes = std::fs::read(support::bin()).unwrap();
    bytes.extend_from_slice(b"\0another build\0");
    std::fs::write(&other, &bytes).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let steps = vec![
        wait_for("WARNING: this program is sha256"),
        wait_for("this ceremony last ran with program sha256"),
        answer("Go on with this program", "y"),
        wait_for("[verify.result]"),
        wait_for("Read the hash aloud"),
        answer("Press Enter", ""),
        wait_for("Ceremony complete"),
    ];
    let s = drive_program(&py, &other, &["rehearse", "--out", dir.to_str().unwrap()], &steps, &tmp.path().join("resume.log"));
    assert_eq!((s.exit, s.signal), (Some(0), None), "{}", tail(&s.text()));

    let media = only_folder(&dir.join("media"));
    let lines = transcript_lines(&media.join("transcript.jsonl"));
    let runs: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "ceremony.start" || l["kind"] == "ceremony.resume").collect();
    assert_eq!(runs.len(), 2, "one start, one resume");
    let shas: Vec<&str> = runs.iter().map(|l| l["binary_sha256"].as_str().unwrap()).collect();
    assert_ne!(shas[0], shas[1], "each program's own sha256");
    assert!(runs[1]["binary_confirmed"].as_str().unwrap().contains("last ran with program sha256"), "{}", runs[1]);
    let summary = std::fs::read_to_string(media.join("SUMMARY.txt")).unwrap();
    assert!(summary.contains(shas[0]) && summary.contains(shas[1]), "SUMMARY.txt lists both programs:\n{summary}");
    let o = Command::new(support::bin()).arg("verify").arg(&media).arg("--json").output().unwrap();
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    let programs = &report["evidence"]["transcript"]["programs"];
    assert_eq!(programs.as_array().map(Vec::len), Some(2), "{programs}");
    assert_eq!(programs[1]["sha256"], shas[1]);
    let o = Command::new(support::bin()).arg("verify").arg(&media).output().unwrap();
    assert!(text(&o).contains("transcript-programs-differ") && text(&o).contains(shas[1]), "{}", text(&o));
}

/// An update's working directory left by another run is explained in words (which job,
/// when, what it built, what differs in `--current`) and can be set aside, kept as it was.
#[test]
fn a_stale_update_workdir_is_explained_and_set_aside() {
    let (tmp, dir, media) = support::fresh_rehearsal("keyholders-stale-");
    let current = media.join("metadata");
    let plan = dir.join("plan.toml");
    let stick = tmp.path().join("stick");
    std::fs::create_dir_all(&stick).unwrap();
    let resign = |cur: &Path, extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "resign".as_ref(),
            "targets".as_ref(),
            "--plan".as_ref(),
            plan.as_os_str(),
            "--current".as_ref(),
            cur.as_os_str(),
            "--media".as_ref(),
            stick.as_os_str(),
            "--allow-network".as_ref(),
        ];
        args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
        cli(&args)
    };
    // A first attempt stops at the clock question (no terminal to answer it): its working
    // directory holds the start of that run.
    let o = resign(&current, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("standard input ended (no terminal?)"), "{}", text(&o));
    let work = dir.join(format!("{}-resign-targets-v2.work", only_folder(&dir.join("media")).file_name().unwrap().to_string_lossy()));
    assert!(work.join("transcript.jsonl").is_file(), "{}", work.display());

    // Since then claimed v2 was published: --current differs from what the run began with.
    let newer = tmp.path().join("current-newer");
    std::fs::create_dir_all(&newer).unwrap();
    for e in std::fs::read_dir(&current).unwrap().flatten() {
        std::fs::copy(e.path(), newer.join(e.file_name())).unwrap();
    }
    let mut claimed: Value = serde_json::from_slice(&std::fs::read(current.join("1.claimed.json")).unwrap()).unwrap();
    claimed["signed"]["version"] = 2.into();
    std::fs::write(newer.join("2.claimed.json"), serde_json::to_vec_pretty(&claimed).unwrap()).unwrap();
    let o = resign(&newer, &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    for s in [
        "holds another run",
        "update resign-targets-v2 of targets begun",
        "--current differs from the metadata it was built from",
        "now 2.claimed.json",
        "add --set-aside",
    ] {
        assert!(t.contains(s), "the explanation lacks {s:?}:\n{t}");
    }
    assert!(!t.contains("fingerprint"), "in words, not a hex fingerprint:\n{t}");

    // --set-aside keeps the old folder under a new name and begins this run.
    let before = std::fs::read(work.join("transcript.jsonl")).unwrap();
    let o = resign(&newer, &["--set-aside"]);
    let t = text(&o);
    assert!(t.contains("Set aside the other run's working directory as"), "{t}");
    let aside: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(".work.set-aside-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(aside[0].join("transcript.jsonl")).unwrap(), before, "the old run is kept as it was");
    assert!(work.join("transcript.jsonl").is_file(), "the new run began in the usual place");
    // The same run again: --set-aside refuses to set aside the run it would resume.
    let o = resign(&newer, &["--set-aside"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("holds this same run"), "{}", text(&o));
}

/// `rehearse --plan`: the operator's own plan (YubiKeys in it) with every token simulated,
/// under a `rehearsal-` id; a plan pinning another program's sha256 is confirmed (here by
/// --yes) and the confirmation recorded.
#[test]
fn rehearse_your_own_plan_with_simulated_tokens_and_a_pinned_program() {
    let (tmp, dir, _) = support::fresh_rehearsal("keyholders-own-");
    let own = tmp.path().join("own");
    std::fs::create_dir_all(own.join("online-keys")).unwrap();
    for e in std::fs::read_dir(dir.join("online-keys")).unwrap().flatten() {
        std::fs::copy(e.path(), own.join("online-keys").join(e.file_name())).unwrap();
    }
    let pin = "0".repeat(64);
    let text_plan = std::fs::read_to_string(dir.join("plan.toml")).unwrap().replace("token = \"software\"", "token = \"yubikey\"").replacen(
        "[ceremony]\n",
        &format!("[ceremony]\nbinary_sha256 = \"{pin}\"\n"),
        1,
    );
    assert!(text_plan.contains("token = \"yubikey\"") && text_plan.contains(&pin));
    std::fs::write(own.join("plan.toml"), &text_plan).unwrap();
    let o = cli(&["plan".as_ref(), "check".as_ref(), own.join("plan.toml").as_os_str()]);
    assert!(text(&o).contains(&format!("Expected program sha256: {pin}")), "{}", text(&o));

    let out = tmp.path().join("rehearsal-of-own");
    let o = cli(&["rehearse".as_ref(), "--plan".as_ref(), own.join("plan.toml").as_os_str(), "--out".as_ref(), out.as_os_str(), "--yes".as_ref()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("the plan expects program sha256") && text(&o).contains(&pin), "{}", text(&o));
    let media = only_folder(&out.join("media"));
    assert!(media.file_name().unwrap().to_string_lossy().starts_with("rehearsal-"), "{}", media.display());
    let lines = transcript_lines(&media.join("transcript.jsonl"));
    let start = lines.iter().find(|l| l["kind"] == "ceremony.start").unwrap();
    assert!(start["binary_confirmed"].as_str().unwrap().contains("the plan expects program sha256"), "{start}");
    assert!(out.join("tokens/alice/key.pem").is_file(), "alice's YubiKey was simulated by a software token");
    let o = cli(&["verify".as_ref(), media.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The rehearsal folder is tied to that plan: another plan is refused there.
    std::fs::write(own.join("plan.toml"), text_plan.replace("expires_days = 365", "expires_days = 300")).unwrap();
    let o = cli(&["rehearse".as_ref(), "--plan".as_ref(), own.join("plan.toml").as_os_str(), "--out".as_ref(), out.as_os_str(), "--yes".as_ref()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("rehearses another plan"), "{}", text(&o));
}

/// `claim` through the terminal: witnesses see the counts and, for at most 20 projects, the
/// keyids and thresholds, then the sha256 of CHANGES.txt (which lists every project), and
/// the program waits for them before anyone signs.
#[test]
fn a_claim_shows_a_summary_witnesses_can_check() {
    use tuf_ceremony::signer::Signer;
    let Some(py) = python3() else { return };
    let (tmp, dir, media) = support::fresh_rehearsal("keyholders-claim-");
    let current = media.join("metadata");
    let stick = tmp.path().join("stick");
    std::fs::create_dir_all(&stick).unwrap();
    let mut entries = Vec::new();
    for i in 0..25 {
        let k = tuf_ceremony::signer::software::SoftwareKey::generate(tuf_ceremony::tuf::keys::Algorithm::Ed25519, "dev").unwrap();
        let key = String::from_utf8(tuf_ceremony::tuf::encode::canonical(&k.public_key().to_key())).unwrap();
        entries.push(format!(r#"{{"project": "project-{i:02}", "keys": [{key}], "threshold": 1}}"#));
    }
    let list = tmp.path().join("list.json");
    std::fs::write(&list, format!("[{}]", entries.join(","))).unwrap();
    let plan = dir.join("plan.toml");
    let args = [
        "claim",
        "--plan",
        plan.to_str().unwrap(),
        "--current",
        current.to_str().unwrap(),
        "--media",
        stick.to_str().unwrap(),
        "--list",
        list.to_str().unwrap(),
        "--keyholders",
        "alice,bob",
        "--allow-network",
    ];
    let mut steps = vec![wait_for("Does the clock match"), answer("[y/n]", "y"), wait_for("[build.update]"), wait_for("25 projects: 25 added")];
    steps.push(wait_for("… and 5 more: every project is listed in CHANGES.txt"));
    steps.push(answer("Witnesses: check the changes above", ""));
    for h in ["alice", "bob"] {
        steps.extend(sign_in_room(&dir, h));
    }
    steps.extend(finish());
    let s = drive(&py, &args, &steps, &tmp.path().join("claim.log"));
    let out = s.text().replace("\r\n", "\n");
    assert_eq!((s.exit, s.signal), (Some(0), None), "{}", tail(&out));
    assert_live_stream_safe(&out);
    let listed = out.lines().filter(|l| l.trim_start().starts_with("added ")).count();
    assert_eq!(listed, 20, "20 projects on screen:\n{out}");
    let folder = only_folder(&stick);
    let changes = std::fs::read(folder.join("CHANGES.txt")).unwrap();
    let sha = {
        use sha2::{Digest, Sha256};
        Sha256::digest(&changes).iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    assert!(out.contains(&sha), "the screen shows CHANGES.txt's sha256 {sha}:\n{}", tail(&out));
    assert_eq!(String::from_utf8_lossy(&changes).matches("added project-").count(), 25, "CHANGES.txt lists every project");
    // What the screen says of project-00 is what claimed v2 delegates.
    let claimed: Value = serde_json::from_slice(&std::fs::read(folder.join("metadata/2.claimed.json")).unwrap()).unwrap();
    let role = claimed["signed"]["delegations"]["roles"].as_array().unwrap().iter().find(|r| r["name"] == "project-00").unwrap().clone();
    let id = role["keyids"][0].as_str().unwrap();
    let line = out.lines().find(|l| l.contains("project-00")).unwrap();
    assert!(line.contains("threshold 1 of 1") && line.contains(&id[..12]), "{line}");
}
