//! A person at a real terminal: runs the tool in a pseudo-terminal through
//! tests/python/drive_tty.py (Python standard library only), which waits for each prompt
//! and types what a person would (answers, passphrases, Ctrl-C).

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Seconds each prompt may take to appear.
const STEP_TIMEOUT: u64 = 60;

/// A python 3 with `pty` and `termios` (standard library only): `TUF_CEREMONY_PYTHON3`,
/// `python3` on PATH, or the repository venv. Require-or-skip policy when missing.
pub fn python3() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("TUF_CEREMONY_PYTHON3") {
        candidates.push(p.into());
    }
    candidates.push("python3".into());
    candidates.push(super::repo_root().join(".venv/bin/python"));
    let found = candidates
        .into_iter()
        .find(|p| Command::new(p).args(["-c", "import pty, termios, select, json"]).output().map(|o| o.status.success()).unwrap_or(false));
    super::require_or_skip(found, "python3 with pty/termios", "install python3 or set TUF_CEREMONY_PYTHON3")
}

/// One thing the person waits for, and what they type then.
#[derive(Clone, Debug)]
pub struct Step {
    pub expect: String,
    pub send: Option<String>,
    pub secret: bool,
    pub eof: bool,
    pub interrupt: bool,
}

pub fn wait_for(text: &str) -> Step {
    Step { expect: text.into(), send: None, secret: false, eof: false, interrupt: false }
}
pub fn answer(prompt: &str, text: &str) -> Step {
    Step { expect: prompt.into(), send: Some(text.into()), secret: false, eof: false, interrupt: false }
}
pub fn secret(prompt: &str, text: &str) -> Step {
    Step { expect: prompt.into(), send: Some(text.into()), secret: true, eof: false, interrupt: false }
}

/// Types Ctrl-C once `prompt` appears (after the terminal stops echoing, for a secret prompt).
pub fn interrupt(prompt: &str, at_secret: bool) -> Step {
    Step { expect: prompt.into(), send: None, secret: at_secret, eof: false, interrupt: true }
}

pub struct Session {
    pub exit: Option<i32>,
    pub signal: Option<i32>,
    pub output: Vec<u8>,
    /// Whether the terminal echoed input when the program had exited.
    pub echo: Option<bool>,
}

impl Session {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }
}

/// Runs `args` in a pseudo-terminal through the driver; panics (with the driver's report,
/// which holds the last 2 KB of output) when a prompt does not come in time.
pub fn drive(py: &Path, args: &[&str], steps: &[Step], log: &Path) -> Session {
    drive_program(py, &super::bin(), args, steps, log)
}

/// As [`drive`], running `program` (e.g. a copy of the tool that differs from it).
pub fn drive_program(py: &Path, program: &Path, args: &[&str], steps: &[Step], log: &Path) -> Session {
    drive_program_env(py, program, args, &[], steps, log)
}

/// As [`drive`], with `env` added to the program's environment.
pub fn drive_env(py: &Path, args: &[&str], env: &[(&str, &str)], steps: &[Step], log: &Path) -> Session {
    drive_program_env(py, &super::bin(), args, env, steps, log)
}

fn drive_program_env(py: &Path, program: &Path, args: &[&str], env: &[(&str, &str)], steps: &[Step], log: &Path) -> Session {
    let mut argv = vec![program.display().to_string()];
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
            if s.interrupt {
                v["interrupt"] = json!(true);
            }
            v
        })
        .collect();
    let mut env_json = json!({ "TUF_CEREMONY_CRASH_AFTER": "" });
    for (k, v) in env {
        env_json[*k] = json!(v);
    }
    let scenario = json!({
        "argv": argv,
        "env": env_json,
        "log": log,
        "timeout": STEP_TIMEOUT,
        "steps": steps_json,
    });

    // The scenario (with the passphrases) goes through a pipe, never a file or argv.
    let mut child = Command::new(py)
        .arg(super::repo_root().join("tests/python/drive_tty.py"))
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
    Session {
        exit: res["exit"].as_i64().map(|c| c as i32),
        signal: res["signal"].as_i64().map(|c| c as i32),
        output: std::fs::read(log).expect("session log"),
        echo: res["echo"].as_bool(),
    }
}

/// Every line at most 100 columns (a live stream or a projector cuts longer ones).
pub fn assert_live_stream_safe(text: &str) {
    assert_output_fits(text, &[]);
}

/// As [`assert_live_stream_safe`], for a session where a person typed `typed` (echoed by the
/// terminal, not printed by the program: left out of the measure).
pub fn assert_output_fits(text: &str, typed: &[&str]) {
    let mut text = text.to_string();
    for t in typed.iter().filter(|t| !t.is_empty()) {
        text = text.replace(t, "");
    }
    let text = text.as_str();
    let widest = text.lines().map(|l| l.trim_end_matches('\r').chars().count()).max().unwrap_or(0);
    let long: Vec<&str> = text.lines().filter(|l| l.trim_end_matches('\r').chars().count() > 100).collect();
    assert!(long.is_empty(), "{} lines wider than 100 columns (widest {widest}):\n{}", long.len(), long.join("\n"));
}

/// The instructions the step registry says these steps print are on screen.
pub fn assert_says(text: &str, ids: &[&str]) {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for s in tuf_ceremony::ceremony::steps::STEPS.iter().filter(|s| ids.contains(&s.id)) {
        for said in s.says {
            assert!(flat.contains(&said.split_whitespace().collect::<Vec<_>>().join(" ")), "step {} did not print {said:?}", s.id);
        }
    }
}

/// (answers, of which passphrase entries) each keyholder gives in `steps`, attributing
/// every answer to the keyholder whose step it is in.
pub fn answers_per_keyholder(steps: &[Step]) -> std::collections::BTreeMap<String, (usize, usize)> {
    let mut who: Option<String> = None;
    let mut out = std::collections::BTreeMap::new();
    for s in steps {
        if let Some(h) = s.expect.strip_prefix("[keys.keyholder:").or_else(|| s.expect.strip_prefix("[sign.keyholder:")) {
            who = Some(h.trim_end_matches(']').to_string());
        } else if s.expect.starts_with('[') && s.expect.contains('.') {
            who = None;
        }
        if let (Some(h), Some(_)) = (&who, &s.send) {
            let e: &mut (usize, usize) = out.entry(h.clone()).or_default();
            e.0 += 1;
            e.1 += usize::from(s.secret);
        }
    }
    out
}
