//! `tuf-ceremony status`: exit codes driven by `--at` on a rehearsal's media (0 well before
//! expiry, 3 inside a signing window, 1 after expiry, 1 winning over 3), the plan's windows
//! with `--plan`, the JSON form, and a role below threshold.

mod support;

use chrono::{DateTime, Duration, Utc};
use std::path::Path;
use std::process::{Command, Output};
use tuf_ceremony::tuf::metadata::{Metadata, Mode};

fn rehearsal() -> (&'static Path, &'static Path) {
    support::shared_rehearsal()
}

fn expires(media: &Path, file: &str) -> DateTime<Utc> {
    let md = Metadata::from_bytes(&std::fs::read(media.join("metadata").join(file)).unwrap(), Mode::Strict).unwrap();
    md.signed.header().expires.at()
}

fn at(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn status(path: &Path, extra: &[&str]) -> Output {
    Command::new(support::bin()).arg("status").arg(path).args(extra).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn exit_codes_follow_the_clock() {
    let (_, media) = rehearsal();
    let claimed = expires(media, "1.claimed.json"); // 180 days, window 30
    let targets = expires(media, "1.targets.json"); // 365 days, window 60

    // Now, and well before any window: 0.
    let o = status(media, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for role in ["root", "targets", "claimed"] {
        assert!(text(&o).contains(role), "{}", text(&o));
    }
    assert!(text(&o).contains("3/2"), "every role carries three valid signatures of two needed: {}", text(&o));
    let o = status(media, &["--at", &at(claimed - Duration::days(31))]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Inside claimed's 30-day window: 3, naming claimed.
    let o = status(media, &["--at", &at(claimed - Duration::days(10))]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("RE-SIGN NOW") && text(&o).contains("Inside the re-signing window: claimed"), "{}", text(&o));
    // One second before expiry is still the window; at the expiry instant it has expired.
    let o = status(media, &["--at", &at(claimed - Duration::seconds(1))]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let o = status(media, &["--at", &at(claimed)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // After expiry: 1.
    let o = status(media, &["--at", &at(claimed + Duration::days(1))]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("EXPIRED: claimed"), "{}", text(&o));

    // claimed expired and targets inside its window: 1 wins over 3.
    let o = status(media, &["--at", &at(targets - Duration::days(10))]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("Inside the re-signing window: root, targets"), "{}", text(&o));

    // The metadata folder itself is accepted as well as the media folder.
    let o = status(&media.join("metadata"), &["--at", &at(claimed - Duration::days(10))]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
}

#[test]
fn json_form_is_stable() {
    let (_, media) = rehearsal();
    let claimed = expires(media, "1.claimed.json");
    let when = at(claimed - Duration::days(10));
    let o = status(media, &["--json", "--at", &when]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["format"], "tuf-ceremony-status");
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["at"], when.as_str());
    assert_eq!(v["status"], "attention");
    assert_eq!(v["exit_code"], 3);
    assert_eq!(v["windows_from"], "defaults");
    assert!(v["plan_sha256"].is_null());
    let roles = v["roles"].as_array().unwrap();
    let names: Vec<&str> = roles.iter().map(|r| r["role"].as_str().unwrap()).collect();
    assert_eq!(names, ["root", "targets", "claimed"]);
    let c = &roles[2];
    assert_eq!(c["state"], "signing-window");
    assert_eq!(c["file"], "1.claimed.json");
    assert_eq!(c["version"], 1);
    assert_eq!(c["days_left"], 10);
    assert_eq!(c["online"], false);
    assert_eq!(c["signing_window_days"], 30);
    assert_eq!(c["window_opens"], at(claimed - Duration::days(30)).as_str());
    assert_eq!(c["delegator"], "targets");
    assert_eq!(c["signatures"]["met"], true);
    assert_eq!(c["signatures"]["checks"][0]["valid"], 3);
    assert_eq!(c["signatures"]["checks"][0]["threshold"], 2);
    assert_eq!(c["signatures"]["checks"][0]["by"], "targets v1");
    assert_eq!(roles[0]["state"], "ok");
    assert_eq!(roles[0]["signatures"]["checks"][0]["by"], "root v1 (itself)");
    // Every documented key is present on every role (docs/status-json.md).
    for r in roles {
        for k in ["role", "file", "version", "expires", "days_left", "online", "signing_window_days", "window_opens", "delegator", "signatures", "state"] {
            assert!(r.get(k).is_some(), "{k} missing in {r}");
        }
    }
    for k in ["format", "format_version", "folder", "at", "windows_from", "plan_sha256", "status", "exit_code", "roles", "older_root_versions", "notes"] {
        assert!(v.get(k).is_some(), "{k} missing");
    }
}

#[test]
fn plan_windows_replace_the_defaults() {
    let (dir, media) = rehearsal();
    let claimed = expires(media, "1.claimed.json");
    // Same plan, but claimed's window is 5 days instead of 30 (same folder: online keys resolve).
    let plan = std::fs::read_to_string(dir.join("plan.toml")).unwrap();
    let claimed_block = plan.find("name = \"claimed\"").unwrap();
    let (head, tail) = plan.split_at(claimed_block);
    let narrow = format!("{head}{}", tail.replacen("signing_window_days = 30", "signing_window_days = 5", 1));
    assert_ne!(narrow, plan);
    let narrow_path = dir.join("plan-narrow-window.toml");
    if !narrow_path.exists() {
        std::fs::write(&narrow_path, narrow).unwrap();
    }
    let when = at(claimed - Duration::days(10));
    let o = status(media, &["--at", &when, "--plan", narrow_path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "10 days left, outside a 5-day window: {}", text(&o));
    assert!(text(&o).contains("from the plan"), "{}", text(&o));
    let o = status(media, &["--at", &at(claimed - Duration::days(4)), "--plan", narrow_path.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["windows_from"], "plan");
    assert_eq!(v["roles"][2]["signing_window_days"], 5);
    // The original plan agrees with the defaults.
    let o = status(media, &["--at", &when, "--plan", dir.join("plan.toml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
}

#[test]
fn below_threshold_is_a_failure_and_bad_input_is_a_usage_error() {
    let (_, media) = rehearsal();
    let tmp = tempfile::tempdir().unwrap();
    for f in ["1.root.json", "1.targets.json", "1.claimed.json"] {
        std::fs::copy(media.join("metadata").join(f), tmp.path().join(f)).unwrap();
    }
    // claimed keeps one of its three signatures: 1 of 2 needed.
    let p = tmp.path().join("1.claimed.json");
    let mut md = Metadata::from_bytes(&std::fs::read(&p).unwrap(), Mode::Strict).unwrap();
    md.signatures.truncate(1);
    std::fs::write(&p, md.to_pretty_bytes()).unwrap();
    let o = status(tmp.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("BELOW THRESHOLD: claimed"), "{}", text(&o));
    assert!(text(&o).contains("1/2"), "{}", text(&o));

    let empty = tempfile::tempdir().unwrap();
    let o = status(empty.path(), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no metadata files"), "{}", text(&o));
    let o = status(media, &["--at", "next tuesday"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // A file whose name and content disagree is named.
    std::fs::copy(tmp.path().join("1.targets.json"), tmp.path().join("2.targets.json")).unwrap();
    let o = status(tmp.path(), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("2.targets.json") && text(&o).contains("version 2"), "{}", text(&o));
}

/// `status` and the `--current` reader see a folder as `verify` does: what macOS leaves on
/// a stick (AppleDouble `._` files) is set aside, and a media folder is read from its
/// `metadata/`.
#[test]
fn a_stick_a_mac_has_touched_reads_the_same() {
    let (_, media) = rehearsal();
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("media");
    std::fs::create_dir_all(copy.join("metadata")).unwrap();
    for e in std::fs::read_dir(media.join("metadata")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), copy.join("metadata").join(e.file_name())).unwrap();
    }
    std::fs::copy(media.join("SHA256SUMS"), copy.join("SHA256SUMS")).unwrap();
    let before = status(&copy, &["--json"]);
    assert_eq!(before.status.code(), Some(0), "{}", text(&before));
    for f in ["metadata/._1.root.json", "metadata/._1.claimed.json", "._SHA256SUMS"] {
        std::fs::write(copy.join(f), b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ").unwrap();
    }
    let after = status(&copy, &["--json"]);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after));
    let roles = |o: &Output| serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["roles"].clone();
    assert_eq!(roles(&after), roles(&before));

    let current = tuf_ceremony::ceremony::job::read_current(&copy).unwrap();
    let names: Vec<&str> = current.digests.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["1.claimed.json", "1.root.json", "1.targets.json"]);
}

/// Colour only at a terminal: the same expired report through a pseudo-terminal is coloured
/// (the EXPIRED row and summary red, the window yellow), and plain with `NO_COLOR=1`, with
/// `TERM=dumb`, and through a pipe. The coloured lines hold no other escape than the tool's.
#[test]
fn colour_only_at_a_terminal_and_never_with_no_color() {
    let Some(py) = support::tty::python3() else { return };
    let (_, media) = rehearsal();
    let claimed = expires(media, "1.claimed.json");
    let when = at(claimed + Duration::days(1));
    let args = ["status", media.to_str().unwrap(), "--at", when.as_str()];
    let tmp = tempfile::tempdir().unwrap();
    let run = |env: &[(&str, &str)], name: &str| {
        let s = support::tty::drive_env(&py, &args, env, &[support::tty::wait_for("Status:")], &tmp.path().join(name));
        assert_eq!(s.exit, Some(1), "{}", s.text());
        s.text()
    };
    let red = "\x1b[1;31m";
    let coloured = run(&[("TERM", "xterm-256color"), ("NO_COLOR", "")], "colour.log");
    let row = coloured.lines().find(|l| l.contains("claimed") && l.contains("EXPIRED")).unwrap_or_else(|| panic!("{coloured}"));
    assert!(row.starts_with(red) && row.trim_end().ends_with("\x1b[0m"), "the expired row is red: {row:?}");
    assert!(coloured.lines().any(|l| l.starts_with(&format!("{red}Status: failed"))), "{coloured:?}");
    assert!(!coloured.lines().any(|l| l.contains("root ") && l.starts_with('\x1b')), "a role that is fine is not coloured: {coloured:?}");

    for env in [[("NO_COLOR", "1"), ("TERM", "xterm")], [("NO_COLOR", ""), ("TERM", "dumb")]] {
        let plain = run(&env, "plain.log");
        assert!(!plain.contains('\x1b'), "{env:?}: no escape at all: {plain:?}");
        assert!(plain.contains("EXPIRED"), "{plain}");
    }
    let piped = status(media, &["--at", &when]);
    assert!(!piped.stdout.contains(&0x1b), "a pipe gets no colour: {}", text(&piped));
}
