//! End to end through a real terminal: `tuf-ceremony rehearse` (interactive, no `--yes`)
//! runs in a pseudo-terminal driven by tests/python/drive_tty.py (Python standard library
//! only), which types what a person would: y, Enter, passphrases — including the usual
//! mistakes (a too-short passphrase, two entries that differ, a wrong unlock passphrase).
//!
//! Checked: exit status, that the exported media verifies with `sha256sum -c`, that no
//! typed passphrase ever appears in the session output or in any file of the rehearsal
//! folder, that the transcript head is shown with its PGP words, and that answering "n" to
//! the clock question stops the run with a clear message and a later run resumes there.

mod support;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Seconds each prompt may take to appear.
const STEP_TIMEOUT: u64 = 60;

/// A python 3 with `pty` and `termios` (standard library only): `TUF_CEREMONY_PYTHON3`,
/// `python3` on PATH, or the repository venv. Require-or-skip policy when missing.
fn python3() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("TUF_CEREMONY_PYTHON3") {
        candidates.push(p.into());
    }
    candidates.push("python3".into());
    candidates.push(support::repo_root().join(".venv/bin/python"));
    let found = candidates
        .into_iter()
        .find(|p| Command::new(p).args(["-c", "import pty, termios, select, json"]).output().map(|o| o.status.success()).unwrap_or(false));
    support::require_or_skip(found, "python3 with pty/termios", "install python3 or set TUF_CEREMONY_PYTHON3")
}

/// One thing the person waits for, and what they type then.
#[derive(Clone, Debug)]
struct Step {
    expect: String,
    send: Option<String>,
    secret: bool,
    eof: bool,
}

fn wait_for(text: &str) -> Step {
    Step { expect: text.into(), send: None, secret: false, eof: false }
}
fn answer(prompt: &str, text: &str) -> Step {
    Step { expect: prompt.into(), send: Some(text.into()), secret: false, eof: false }
}
fn secret(prompt: &str, text: &str) -> Step {
    Step { expect: prompt.into(), send: Some(text.into()), secret: true, eof: false }
}

struct Session {
    exit: Option<i32>,
    signal: Option<i32>,
    output: Vec<u8>,
}

impl Session {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }
}

/// Runs `args` in a pseudo-terminal through the driver; panics (with the driver's report,
/// which holds the last 2 KB of output) when a prompt does not come in time.
fn drive(py: &Path, args: &[&str], steps: &[Step], log: &Path) -> Session {
    let mut argv = vec![support::bin().display().to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let steps_json: Vec<Value> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut v = json!({ "expect": s.expect, "note": format!("(expecting {:?})", s.expect) });
            if let Some(t) = &s.send {
                v["send"] = json!(t);
            }
            if s.secret {
                v["secret"] = json!(true);
                v["note"] = json!(format!("#{} secret prompt {:?}", i + 1, s.expect));
            }
            if s.eof {
                v["eof"] = json!(true);
            }
            v
        })
        .collect();
    let scenario = json!({
        "argv": argv,
        "env": { "TUF_CEREMONY_CRASH_AFTER": "" },
        "log": log,
        "timeout": STEP_TIMEOUT,
        "steps": steps_json,
    });
    // The scenario (with the passphrases) goes through a pipe, never a file or argv.
    let mut child = Command::new(py)
        .arg(support::repo_root().join("tests/python/drive_tty.py"))
        .env_remove("TUF_CEREMONY_CRASH_AFTER")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start drive_tty.py");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&serde_json::to_vec(&scenario).unwrap()).expect("write scenario");
    }
    let out = child.wait_with_output().expect("drive_tty.py");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the terminal session failed ({}):\n{stderr}", out.status);
    let res: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("driver output {:?}: {e}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
    Session { exit: res["exit"].as_i64().map(|c| c as i32), signal: res["signal"].as_i64().map(|c| c as i32), output: std::fs::read(log).expect("session log") }
}

/// The passphrases the people in the room type.
struct People {
    good: Vec<(&'static str, &'static str)>,
    /// alice first types this (7 characters): must be refused and asked again.
    too_short: &'static str,
    /// bob's second entry differs from his first: both must be asked again.
    mismatch: &'static str,
    /// carol mistypes when unlocking to sign: must be told it is wrong and asked again.
    wrong: &'static str,
}

impl People {
    fn new() -> Self {
        People {
            good: vec![("alice", "Alice-correct-horse-417"), ("bob", "Bob-battery-staple-529"), ("carol", "Carol-tr0ub4dor-638")],
            too_short: "zqShrt7",
            mismatch: "Bob-battery-stable-529",
            wrong: "Carol-tr0ub4dor-683",
        }
    }
    fn all_secrets(&self) -> Vec<&'static str> {
        let mut v: Vec<&str> = self.good.iter().map(|(_, p)| *p).collect();
        v.extend([self.too_short, self.mismatch, self.wrong]);
        v
    }
}

/// The whole ceremony from the clock question on, as the people in the room answer it.
/// With `mistakes`, alice, bob and carol make one mistake each (see `People`).
fn ceremony(people: &People, mistakes: bool) -> Vec<Step> {
    let mut s = vec![wait_for("[preflight.clock]"), wait_for("Does the clock match"), answer("[y/n]", "y")];
    s.push(wait_for("[preflight.media]"));
    for (h, pass) in &people.good {
        let new = format!("New passphrase for {h}'s token");
        s.push(wait_for(&format!("[keys.keyholder:{h}]")));
        s.push(wait_for(&format!("Keyholder {h}: open your bag")));
        s.push(answer("Press Enter", ""));
        match (*h, mistakes) {
            ("alice", true) => {
                s.push(secret(&new, people.too_short));
                s.push(wait_for("Too short"));
                s.push(secret(&new, pass));
                s.push(secret("Repeat the passphrase", pass));
            }
            ("bob", true) => {
                s.push(secret(&new, pass));
                s.push(secret("Repeat the passphrase", people.mismatch));
                s.push(wait_for("The two entries differ"));
                s.push(secret(&new, pass));
                s.push(secret("Repeat the passphrase", pass));
            }
            _ => {
                s.push(secret(&new, pass));
                s.push(secret("Repeat the passphrase", pass));
            }
        }
        s.push(secret(&format!("Passphrase for {h}'s software token"), pass));
        s.push(wait_for("Read the serial aloud"));
        s.push(answer("[y/n]", "y"));
        s.push(wait_for(&format!("{h}: remove your token")));
        s.push(answer("Press Enter", ""));
    }
    for (h, pass) in &people.good {
        s.push(wait_for(&format!("[sign.keyholder:{h}]")));
        s.push(wait_for(&format!("Keyholder {h}: insert your token")));
        s.push(answer("Press Enter", ""));
        let unlock = format!("Passphrase for {h}'s software token");
        if mistakes && *h == "carol" {
            s.push(secret(&unlock, people.wrong));
            s.push(wait_for("Wrong passphrase"));
        }
        s.push(secret(&unlock, pass));
        s.push(wait_for(&format!("{h}: remove your token")));
        s.push(answer("Press Enter", ""));
    }
    s.push(wait_for("[verify.result]"));
    s.push(wait_for("All roles verify"));
    s.push(wait_for("[export.media]"));
    s.push(wait_for("Exported"));
    s.push(wait_for("Transcript head, to read aloud"));
    s.push(wait_for("Read the hash aloud"));
    s.push(answer("Press Enter", ""));
    s.push(wait_for("Ceremony complete"));
    s
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// No secret in the session output or in any file under `dir` (media, work, tokens, plan).
fn assert_no_secrets(secrets: &[&str], session: &Session, dir: &Path) {
    for s in secrets {
        assert!(!contains(&session.output, s.as_bytes()), "a typed passphrase appears in the terminal output");
        for f in files_under(dir) {
            let bytes = std::fs::read(&f).unwrap_or_default();
            assert!(!contains(&bytes, s.as_bytes()), "a typed passphrase appears in {}", f.display());
        }
    }
}

/// The single exported ceremony folder, `DIR/media/<id>`.
fn media_dir(dir: &Path) -> PathBuf {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir.join("media")).expect("media folder").flatten().map(|e| e.path()).collect();
    assert_eq!(entries.len(), 1, "one ceremony folder on the media: {entries:?}");
    entries[0].clone()
}

fn assert_sha256sums(media: &Path) {
    let out = Command::new("sha256sum").args(["-c", "--strict", "SHA256SUMS"]).current_dir(media).output().expect("run sha256sum");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "sha256sum -c failed in {}:\n{text}{}", media.display(), String::from_utf8_lossy(&out.stderr));
    let listed = std::fs::read_to_string(media.join("SHA256SUMS")).unwrap().lines().count();
    assert!(listed >= 10, "SHA256SUMS lists only {listed} files");
    // Every file on the media except SHA256SUMS itself is covered.
    let on_media = files_under(media).len();
    assert_eq!(listed + 1, on_media, "files on the media not covered by SHA256SUMS:\n{text}");
}

/// The transcript head (sha256 of the last line of the exported transcript) and its PGP
/// words are shown on the terminal and written in SUMMARY.txt.
fn assert_head_shown(media: &Path, output: &str) {
    use sha2::{Digest, Sha256};
    let transcript = std::fs::read(media.join("transcript.jsonl")).unwrap();
    tuf_ceremony::ceremony::transcript::verify(&transcript).expect("exported transcript chain verifies");
    let body = transcript.strip_suffix(b"\n").expect("transcript ends with a newline");
    let last = &transcript[body.iter().rposition(|b| *b == b'\n').map(|i| i + 1).unwrap_or(0)..];
    let head_bytes = Sha256::digest(last);
    let head: String = head_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let words = tuf_ceremony::util::pgpwords::phrase(&head_bytes);
    assert_eq!(words.split_whitespace().count(), 32, "32 PGP words for a sha256: {words}");
    let output = output.replace("\r\n", "\n");
    let shown = format!("{head}\n  {words}\n");
    assert!(output.contains("Transcript head"), "the terminal does not announce the transcript head");
    assert!(output.contains(&shown), "the terminal does not show the transcript head {head} followed by its PGP words {words:?}");
    let after_complete = &output[output.rfind("Ceremony complete").expect("Ceremony complete")..];
    assert!(after_complete.contains(&shown), "the closing lines do not show the head with its PGP words");
    let summary = std::fs::read_to_string(media.join("SUMMARY.txt")).unwrap();
    assert!(summary.contains(&head) && summary.contains(&words), "SUMMARY.txt lacks the head and its PGP words");
}

fn status(dir: &Path) -> String {
    let out = Command::new(support::bin())
        .args(["run"])
        .arg(dir.join("plan.toml"))
        .arg("--workdir")
        .arg(dir.join("work"))
        .arg("--status")
        .env_remove("TUF_CEREMONY_CRASH_AFTER")
        .output()
        .expect("run --status");
    assert!(out.status.success(), "run --status: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn interactive_rehearsal_through_a_terminal() {
    let Some(py) = python3() else { return };
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rehearsal");
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("session.log");
    let people = People::new();

    let session = drive(&py, &["rehearse", "--out", dir.to_str().unwrap()], &ceremony(&people, true), &log);
    let text = session.text();
    assert_eq!((session.exit, session.signal), (Some(0), None), "exit status; session output tail:\n{}", tail(&text));

    // The mistakes were caught and asked again (the driver waited for each message and the
    // following prompt, in order); they are also visible in the output.
    for msg in ["Too short: at least 8 characters.", "The two entries differ; try again.", "Wrong passphrase; try again."] {
        assert!(text.contains(msg), "missing {msg:?}");
    }

    let media = media_dir(&dir);
    assert_sha256sums(&media);
    assert_head_shown(&media, &text);
    assert_no_secrets(&people.all_secrets(), &session, &dir);
    let st = status(&dir);
    assert!(st.contains("steps done.") && !st.contains("next:"), "status after the run:\n{st}");
    eprintln!("interactive rehearsal: {:.1}s", t0.elapsed().as_secs_f64());
}

#[test]
fn clock_refused_then_resumed() {
    let Some(py) = python3() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rehearsal");
    let logs = tempfile::tempdir().unwrap();
    let people = People::new();
    let out = ["rehearse", "--out", dir.to_str().unwrap()];

    // The clock is wrong: the operator says so and the run stops.
    let first = drive(
        &py,
        &out,
        &[wait_for("[preflight.network]"), wait_for("[preflight.clock]"), wait_for("Does the clock match"), answer("[y/n]", "n")],
        &logs.path().join("first.log"),
    );
    let text = first.text();
    assert_eq!(first.signal, None);
    assert!(matches!(first.exit, Some(c) if c != 0), "answering n to the clock must fail the run: {:?}\n{}", first.exit, tail(&text));
    assert!(
        text.contains("the clock is wrong") && text.contains("set it") && text.contains("date -u -s"),
        "no message about setting the clock:\n{}",
        tail(&text)
    );
    assert!(!text.contains("[preflight.binary]"), "the run went past the clock step");
    let st = status(&dir);
    assert!(st.contains("next: preflight.clock"), "status after the refusal:\n{st}");
    let transcript = std::fs::read_to_string(dir.join("work/transcript.jsonl")).unwrap();
    assert!(!transcript.contains("clock.confirmed"), "an unconfirmed clock was recorded");

    // Later (clock set): the run resumes at the clock step and goes to the end.
    let mut steps = vec![wait_for("[preflight.network]"), wait_for("already done")];
    steps.extend(ceremony(&people, false));
    let second = drive(&py, &out, &steps, &logs.path().join("second.log"));
    let text2 = second.text();
    assert_eq!((second.exit, second.signal), (Some(0), None), "resumed run:\n{}", tail(&text2));
    let done_line = text2.lines().find(|l| l.contains("[preflight.network]")).unwrap_or_default().to_string();
    assert!(done_line.contains("already done"), "preflight.network was not skipped as done: {done_line:?}");
    assert_eq!(text2.matches("Does the clock match").count(), 1);
    let transcript = std::fs::read_to_string(dir.join("work/transcript.jsonl")).unwrap();
    assert!(transcript.contains("\"ceremony.resume\""), "the transcript does not record the resume");
    assert_eq!(transcript.matches("\"clock.confirmed\"").count(), 1);

    let media = media_dir(&dir);
    assert_sha256sums(&media);
    assert_head_shown(&media, &text2);
    assert_no_secrets(&people.all_secrets(), &second, &dir);
}

fn tail(s: &str) -> &str {
    let mut i = s.len().saturating_sub(2048);
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}
