//! Differential test on other people's data: every real repository state in
//! `../shared/fixtures/real/repos/` (and Sigstore's root chain) is verified by python-tuf
//! 7.0.1 (`tests/python/real_verdict.py`: python-tuf's own TrustedMetadataSet walking the
//! root chain, the top-level roles and every delegated role, at the given time) and by
//! `tuf-ceremony verify --clients python-tuf --at` that time. The verdicts and the valid
//! signature counts of every root and role must be equal. Where python-tuf cannot decide
//! offline (keyless Sigstore signers), the test says so and checks the tool's finding instead.
//!
//! The data is never copied into the project: without `../shared` the test says why it
//! skips, and it fails under CI.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One repository state: folder under `real/repos/` (or `real/`), trusted root, time.
struct State {
    folder: &'static str,
    trusted: &'static str,
    at: &'static str,
    /// The folder has no timestamp: only the root chain is compared.
    roots_only: bool,
    /// python-tuf cannot decide offline (keyless signers): the tool must fail saying so.
    undecidable: bool,
}

const STATES: &[State] = &[
    State { folder: "repos/sigstore-prod-head", trusted: "root_history/5.root.json", at: "2026-08-22T00:00:00Z", roots_only: false, undecidable: false },
    State { folder: "repos/sigstore-staging-head", trusted: "root_history/1.root.json", at: "2026-08-22T00:00:00Z", roots_only: false, undecidable: false },
    State { folder: "repos/jku-tuf-demo-head", trusted: "root_history/1.root.json", at: "2026-08-22T00:00:00Z", roots_only: false, undecidable: false },
    State { folder: "repos/thomsonreuters-head", trusted: "root_history/1.root.json", at: "2026-08-23T00:00:00Z", roots_only: false, undecidable: false },
    // The timestamp's expiry instant: expired for python-tuf (at >= expires).
    State { folder: "repos/thomsonreuters-head", trusted: "root_history/1.root.json", at: "2026-08-29T13:53:00Z", roots_only: false, undecidable: false },
    State { folder: "repos/tuf-pk-ledger-head", trusted: "root_history/1.root.json", at: "2023-12-22T00:00:00Z", roots_only: false, undecidable: true },
    State { folder: "repos/pytuf-fishy-rolenames", trusted: "1.root.json", at: "2026-12-03T00:00:00Z", roots_only: false, undecidable: false },
    State { folder: "repos/tough-testdata-consistent-snapshots", trusted: "1.root.json", at: "2026-12-03T00:00:00Z", roots_only: false, undecidable: false },
    State { folder: "repos/jku-pqc-test-repo2", trusted: "root_history/1.root.json", at: "2026-08-22T00:00:00Z", roots_only: false, undecidable: false },
    State { folder: "repos/taf-no-delegations-2020", trusted: "1.root.json", at: "2020-03-21T12:00:00Z", roots_only: false, undecidable: false },
    State { folder: "sigstore-root-chain", trusted: "5.root.json", at: "2026-08-22T00:00:00Z", roots_only: true, undecidable: false },
];

/// The metadata folder of a state: `metadata/` where there is one.
fn metadata_dir(real: &Path, s: &State) -> PathBuf {
    let d = real.join(s.folder);
    if d.join("metadata").is_dir() { d.join("metadata") } else { d }
}

fn python_verdict(py: &Path, dir: &Path, s: &State) -> Value {
    let mut args: Vec<std::ffi::OsString> = vec![dir.into(), dir.join(s.trusted).into(), s.at.into()];
    if s.roots_only {
        args.push("--roots-only".into());
    }
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (ok, text) = support::run_python(py, "real_verdict.py", &refs);
    assert!(ok, "{}: real_verdict.py failed:\n{text}", s.folder);
    let start = text.find('{').unwrap_or(0);
    serde_json::from_str(&text[start..]).unwrap_or_else(|e| panic!("{}: python output is not JSON ({e}):\n{text}", s.folder))
}

fn tool_verdict(dir: &Path, s: &State) -> (i32, Value) {
    let out = Command::new(support::bin())
        .arg("verify")
        .arg(dir)
        .arg("--trusted-root")
        .arg(dir.join(s.trusted))
        .args(["--at", s.at, "--clients", "python-tuf", "--json"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    // No report (exit 2): the error message stands in for it, and the verdicts differ.
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| serde_json::json!({ "error": String::from_utf8_lossy(&out.stderr) }));
    (code, json)
}

/// (valid, threshold) of a python-tuf result object, if it was computed.
fn counts(v: &Value, valid: &str, threshold: &str) -> Option<(u64, u64)> {
    Some((v[valid].as_u64()?, v[threshold].as_u64()?))
}

/// (valid, threshold) of one of the tool's signature checks.
fn tool_counts(check: &Value) -> Option<(u64, u64)> {
    Some((check["valid"].as_u64()?, check["threshold"].as_u64()?))
}

/// Every difference between python-tuf's and the tool's verdict on one state.
fn differences(s: &State, py: &Value, code: i32, tool: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    if let Some(e) = tool["error"].as_str() {
        return vec![format!("the tool gave no report (exit {code}): {}", e.trim())];
    }
    let roles = tool["roles"].as_array().cloned().unwrap_or_default();
    let find = |role: &str, version: Option<u64>| roles.iter().find(|r| r["role"] == role && version.is_none_or(|v| r["version"] == v)).cloned();
    // The root chain: each root python-tuf loaded, by itself and by its previous root.
    for r in py["roots"].as_array().into_iter().flatten() {
        let v = r["version"].as_u64();
        let Some(t) = find("root", v) else {
            if r["loaded"] == true {
                diffs.push(format!("root v{v:?}: python-tuf loaded it; the tool reports no such root"));
            }
            continue;
        };
        if let Some(p) = counts(r, "valid", "threshold")
            && tool_counts(&t["signatures"]) != Some(p)
        {
            diffs.push(format!("root v{v:?}: python-tuf {p:?}, tool {:?}", tool_counts(&t["signatures"])));
        }
        if let Some(p) = counts(r, "valid_by_previous", "threshold_previous")
            && tool_counts(&t["by_previous"]) != Some(p)
        {
            diffs.push(format!("root v{v:?} by the previous root: python-tuf {p:?}, tool {:?}", tool_counts(&t["by_previous"])));
        }
    }
    // Every other role python-tuf computed counts for.
    if !s.roots_only {
        for (name, r) in py["roles"].as_object().into_iter().flatten() {
            let Some(p) = counts(r, "valid", "threshold") else { continue };
            match find(name, r["version"].as_u64()) {
                Some(t) if tool_counts(&t["signatures"]) == Some(p) => {}
                Some(t) => diffs.push(format!("{name}: python-tuf {p:?}, tool {:?}", tool_counts(&t["signatures"]))),
                // A role python-tuf could not load (missing file) is not in the tool's list either.
                None if r["loaded"] == false && r["file"].is_null() => {}
                None => diffs.push(format!("{name} v{}: python-tuf {p:?}; the tool did not check it", r["version"])),
            }
        }
    }
    let py_ok = py["verdict"] == "ok";
    if s.undecidable {
        // python-tuf cannot decide offline; the tool must fail and say why.
        let said = tool["findings"].as_array().into_iter().flatten().any(|f| f["message"].as_str().is_some_and(|m| m.contains("cannot be checked offline")));
        if code != 1 || !said {
            diffs.push(format!("keyless signers: expected exit 1 with a finding saying they cannot be checked offline, got exit {code}"));
        }
    } else if py_ok != (code == 0) {
        let errors: Vec<String> = tool["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["severity"] == "error")
            .map(|f| format!("{} {}: {}", f["file"], f["code"], f["message"]))
            .collect();
        diffs.push(format!("verdict: python-tuf {} ({:?}), tool exit {code} ({errors:?})", py["verdict"], py["errors"]));
    }
    diffs
}

#[test]
fn verdicts_and_signature_counts_equal_python_tuf_on_real_repositories() {
    let Some(real) = support::shared_real() else { return };
    let Some(py) = support::python() else { return };
    let mut all = Vec::new();
    for s in STATES {
        let dir = metadata_dir(&real, s);
        let pv = python_verdict(&py, &dir, s);
        let (code, tv) = tool_verdict(&dir, s);
        let roles = pv["roles"].as_object().map(|m| m.len()).unwrap_or(0);
        let d = differences(s, &pv, code, &tv);
        eprintln!(
            "{:<45} {} python-tuf {:<6} tool exit {code}  roots {} roles {roles}  {}",
            s.folder,
            s.at,
            pv["verdict"].as_str().unwrap_or("?"),
            pv["roots"].as_array().map(|v| v.len()).unwrap_or(0),
            if d.is_empty() { "same".to_string() } else { format!("{} DIFFERENCES", d.len()) }
        );
        all.extend(d.into_iter().map(|x| format!("{} @ {}: {x}", s.folder, s.at)));
    }
    assert!(all.is_empty(), "tuf-ceremony disagrees with python-tuf:\n  {}", all.join("\n  "));
}
