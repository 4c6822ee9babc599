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

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use support::tty::{Session, Step, answer, answers_per_keyholder, assert_live_stream_safe, assert_says, drive, interrupt, python3, secret, wait_for};

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
        s.push(wait_for(&format!("Keyholder {h} (software token): open your bag")));
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
        // The key just made is used as is: no passphrase is asked again in this insertion.
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
/// words are shown on the terminal once, at the read-out, and written in SUMMARY.txt.
fn assert_head_shown(media: &Path, output: &str) {
    use sha2::{Digest, Sha256};
    let transcript = std::fs::read(media.join("transcript.jsonl")).unwrap();
    tuf_ceremony::ceremony::transcript::verify(&transcript).expect("exported transcript chain verifies");
    let body = transcript.strip_suffix(b"\n").expect("transcript ends with a newline");
    let last = &transcript[body.iter().rposition(|b| *b == b'\n').map(|i| i + 1).unwrap_or(0)..];
    let head_bytes = Sha256::digest(last);
    let head: String = head_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let words = tuf_ceremony::util::pgpwords::grouped_of_hex(&head, "  ");
    assert_eq!(words.split_whitespace().count(), 32, "32 PGP words for a sha256: {words}");
    assert_eq!(words.lines().count(), 4, "in four lines of eight: {words}");
    assert_eq!(
        words.split_whitespace().collect::<Vec<_>>(),
        tuf_ceremony::util::pgpwords::words(&head_bytes),
        "the grouped words are the sha256's PGP words, in order"
    );
    let output = output.replace("\r\n", "\n");
    let shown = format!("{head}\n{words}\n");
    assert!(output.contains("Transcript head"), "the terminal does not announce the transcript head");
    assert!(output.contains(&shown), "the terminal does not show the transcript head {head} followed by its PGP words {words:?}");
    assert_eq!(output.matches(words.lines().next().unwrap().trim()).count(), 1, "the head's words are shown once");
    let after_complete = &output[output.rfind("Ceremony complete").expect("Ceremony complete")..];
    assert!(after_complete.contains(&head), "the closing lines do not name the head");
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
    assert_live_stream_safe(&text);
    assert_says(&text, &["keys.keyholder", "sign.keyholder", "preflight.clock", "preflight.binary", "finish.readout"]);
    // Answers per keyholder in a first ceremony, without mistakes (carol's keys step and
    // bob's signing have none): counted from the scenario the terminal was driven through,
    // which waits for each prompt in turn, so an extra or missing question fails the run.
    let answers = answers_per_keyholder(&ceremony(&people, false));
    eprintln!("first ceremony, answers per keyholder: {answers:?}");
    for (h, (n, secrets)) in &answers {
        assert_eq!((*n, *secrets), (8, 3), "{h}: 8 answers, of which 3 passphrase entries (a new one twice, then one unlock)");
    }
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

/// Ctrl-C at a hidden passphrase prompt: the program says how to resume, exits 130, gives
/// the terminal back with echo on, and the same command resumes where it stopped.
#[test]
fn ctrl_c_says_how_to_resume_and_restores_the_terminal() {
    let Some(py) = python3() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rehearsal");
    let logs = tempfile::tempdir().unwrap();
    let people = People::new();
    let out = ["rehearse", "--out", dir.to_str().unwrap()];
    let mut steps = vec![wait_for("Does the clock match"), answer("[y/n]", "y")];
    steps.push(wait_for("[keys.keyholder:alice]"));
    steps.push(answer("Press Enter", ""));
    steps.push(interrupt("New passphrase for alice's token", true));
    let first = drive(&py, &out, &steps, &logs.path().join("first.log"));
    let text = first.text();
    assert_eq!((first.exit, first.signal), (Some(130), None), "Ctrl-C exits 130:\n{}", tail(&text));
    assert!(text.contains("Interrupted (Ctrl-C)") && text.contains("run the same command again"), "{}", tail(&text));
    assert!(text.contains(&format!("rehearse --out {}", dir.display())), "the command to resume is shown:\n{}", tail(&text));
    assert_eq!(first.echo, Some(true), "the terminal echoes again after Ctrl-C at a hidden prompt");
    assert!(!dir.join("tokens/alice/key.pem").exists(), "no key was made");
    assert!(status(&dir).contains("next: keys.keyholder:alice"), "{}", status(&dir));
    // The same command resumes at alice's keys step and finishes.
    let mut steps = vec![wait_for("[preflight.clock] already done: Confirm the clock")];
    steps.extend(ceremony(&people, false).into_iter().skip(4));
    let second = drive(&py, &out, &steps, &logs.path().join("second.log"));
    assert_eq!((second.exit, second.signal), (Some(0), None), "resumed:\n{}", tail(&second.text()));
}

fn tail(s: &str) -> &str {
    let mut i = s.len().saturating_sub(2048);
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}
