//! Shared test helpers: locating external verifiers (python-tuf venv, tough checker) and
//! the policy for when they are missing.
//!
//! Policy: with `CI=true` or `TUF_CEREMONY_REQUIRE_ALL=1` (set by `scripts/test.sh`), a
//! missing external verifier is a test failure. Otherwise (a developer's quick
//! `cargo test`), the test prints why it is skipping and returns.

#![allow(dead_code)]

pub mod tty;

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("fixtures").join(rel)
}

/// `../shared/fixtures/real/`: real published data (Sigstore's root chain and attestations,
/// the PSF's ceremony products, real repository states), read where it lies and never copied
/// into the project. `None` (after saying why) when it is absent on a developer's machine;
/// a failure under CI, which has `../shared` beside its clone.
pub fn shared_real() -> Option<PathBuf> {
    let p = repo_root().join("../shared/fixtures/real");
    require_or_skip(p.is_dir().then_some(p), "../shared/fixtures/real (real published data, never copied here)", "CI has ../shared beside its clone")
}

/// A path under `../shared/fixtures/real/` (call [`shared_real`] first to skip without it).
pub fn real(rel: &str) -> PathBuf {
    repo_root().join("../shared/fixtures/real").join(rel)
}

fn required() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false) || std::env::var("TUF_CEREMONY_REQUIRE_ALL").map(|v| v == "1").unwrap_or(false)
}

/// Returns `None` (after saying why) when `what` is missing and not required; panics when required.
pub fn require_or_skip<T>(found: Option<T>, what: &str, how: &str) -> Option<T> {
    match found {
        Some(t) => Some(t),
        None if required() => panic!("{what} is required here but missing: {how}"),
        None => {
            eprintln!("SKIPPED: {what} not available ({how})");
            None
        }
    }
}

/// The python interpreter of the venv with pinned python-tuf, from `TUF_CEREMONY_PYTHON`
/// or `.venv/bin/python`.
pub fn python() -> Option<PathBuf> {
    let p = std::env::var_os("TUF_CEREMONY_PYTHON").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    let ok = p.exists() && Command::new(&p).args(["-c", "import tuf, securesystemslib"]).output().map(|o| o.status.success()).unwrap_or(false);
    require_or_skip(ok.then_some(p), "python-tuf venv", "run `bash scripts/test.sh` once, or set TUF_CEREMONY_PYTHON")
}

/// The venv's python with the `jsonschema` package (tests/python/requirements.txt), for
/// validating `--json` outputs against docs/schemas/. Require-or-skip policy when missing.
pub fn python_jsonschema() -> Option<PathBuf> {
    let p = std::env::var_os("TUF_CEREMONY_PYTHON").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    let ok = p.exists() && Command::new(&p).args(["-c", "import jsonschema"]).output().map(|o| o.status.success()).unwrap_or(false);
    require_or_skip(
        ok.then_some(p),
        "python with jsonschema",
        "run `bash scripts/test.sh` once (it installs tests/python/requirements.txt), or set TUF_CEREMONY_PYTHON",
    )
}

/// Validates `doc` against `docs/schemas/<name>.schema.json` with the jsonschema package
/// (tests/python/validate_schema.py): `Err` holds the validator's report.
pub fn schema_check(py: &Path, name: &str, doc: &serde_json::Value) -> Result<(), String> {
    use std::io::Write;
    let schema = repo_root().join("docs/schemas").join(format!("{name}.schema.json"));
    let mut child = Command::new(py)
        .arg(repo_root().join("tests/python/validate_schema.py"))
        .arg(&schema)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run validate_schema.py");
    child.stdin.take().unwrap().write_all(&serde_json::to_vec(doc).unwrap()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    match out.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(text),
        _ => panic!("validate_schema.py could not check against {}: {text}", schema.display()),
    }
}

/// Runs a python script from tests/python with arguments; returns (success, stdout+stderr).
pub fn run_python(py: &Path, script: &str, args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = Command::new(py).arg(repo_root().join("tests/python").join(script)).args(args).output().expect("run python");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

// ---------------------------------------------------------------------------------------
// The PSF's 2020 ceremony products (../shared, never copied here).
// ---------------------------------------------------------------------------------------

/// `../shared/fixtures/real/psf-2020-ceremony/ceremony-products` (require-or-skip policy).
pub fn psf_products() -> Option<PathBuf> {
    shared_real()?;
    Some(real("psf-2020-ceremony/ceremony-products"))
}

/// `online/snapshot.pub` and `online/timestamp.pub` under `dir` (fresh ed25519 keys).
pub fn online_keys(dir: &Path) {
    use tuf_ceremony::signer::Signer;
    std::fs::create_dir_all(dir.join("online")).unwrap();
    for r in ["snapshot", "timestamp"] {
        let k = tuf_ceremony::signer::software::SoftwareKey::generate(tuf_ceremony::tuf::keys::Algorithm::Ed25519, r).unwrap();
        std::fs::write(dir.join(format!("online/{r}.pub")), k.public_key().to_pem()).unwrap();
    }
}

/// `dir/plan.toml` from the PSF's keys (`plan new --template psf2020`, ceremony id `id`),
/// with online keys in `dir/online/`.
pub fn psf_plan(dir: &Path, products: &Path, id: &str) -> PathBuf {
    online_keys(dir);
    let plan = dir.join("plan.toml");
    let o = Command::new(bin())
        .args(["plan", "new", "--template", "psf2020", "--keys"])
        .arg(products)
        .args(["--online-keys", "online", "--id", id, "--out"])
        .arg(&plan)
        .output()
        .unwrap();
    assert!(o.status.success(), "plan new: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    plan
}

/// file → keyid, as securesystemslib computes it for each public key file (PEM or DER
/// SubjectPublicKeyInfo; tests/python/sslib_keyid.py).
pub fn sslib_keyids(py: &Path, files: &[PathBuf]) -> std::collections::BTreeMap<String, String> {
    let args: Vec<&std::ffi::OsStr> = files.iter().map(|p| p.as_os_str()).collect();
    let (ok, out) = run_python(py, "sslib_keyid.py", &args);
    assert!(ok, "{out}");
    out.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| (v["file"].as_str().unwrap().to_string(), v["keyid"].as_str().unwrap().to_string()))
        .collect()
}

/// The path of the built `tuf-ceremony` binary (for CLI tests).
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tuf-ceremony"))
}

/// The `tough-check` binary (interop/tough-check: tough pinned, loading a repository from
/// files), from `TUF_CEREMONY_TOUGH_CHECK` or built once per test process with
/// `cargo build -p tough-check --locked` (a debug build; its dependencies are optimised by
/// the workspace profile). Applies the require-or-skip policy when it cannot be had.
pub fn tough_check() -> Option<PathBuf> {
    static BUILT: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    let found = BUILT.get_or_init(|| {
        if let Some(p) = std::env::var_os("TUF_CEREMONY_TOUGH_CHECK") {
            let p = PathBuf::from(p);
            return if p.is_file() { Ok(p) } else { Err(format!("TUF_CEREMONY_TOUGH_CHECK={} is not a file", p.display())) };
        }
        build_tough_check()
    });
    match found {
        Ok(p) => Some(p.clone()),
        Err(why) => require_or_skip(None, "tough-check (tough verifier)", why),
    }
}

fn build_tough_check() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(repo_root())
        .args(["build", "-p", "tough-check", "--locked", "--message-format=json-render-diagnostics"])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!("`cargo build -p tough-check --locked` failed ({}):\n{}", out.status, tail.join("\n")));
    }
    // The last compiler-artifact message for the tough-check binary names the executable.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "tough-check")
        .filter_map(|v| v["executable"].as_str().map(PathBuf::from))
        .next_back()
        .ok_or_else(|| "cargo built tough-check but reported no executable".to_string())
}

/// Runs `tough-check` with arguments; returns (success, stdout+stderr).
pub fn run_tough_check(exe: &Path, args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = Command::new(exe).args(args).output().expect("run tough-check");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

// ---------------------------------------------------------------------------------------
// Operators for rehearsal tokens (simulated tokens whose passphrases are in
// `tokens/<holder>/REHEARSAL-PASSPHRASE`).
// ---------------------------------------------------------------------------------------

use std::collections::VecDeque;
use tuf_ceremony::ceremony::rehearse::passphrase_file;
use tuf_ceremony::ceremony::ui::{AutoUi, SecretKind, Ui, UiError};
use zeroize::Zeroizing;

/// A rehearsal token's passphrase.
pub fn rehearsal_passphrase(tokens: &Path, holder: &str) -> Option<Zeroizing<String>> {
    std::fs::read_to_string(passphrase_file(tokens, holder)).ok().map(|s| Zeroizing::new(s.trim().to_string()))
}

/// An unattended operator for a rehearsal's tokens (every confirmation yes).
pub fn rehearsal_ui(tokens: PathBuf) -> impl Ui {
    AutoUi { secrets: move |h: &str, _: &SecretKind| rehearsal_passphrase(&tokens, h), quiet: true }
}

/// A keyholder at their own machine: types the queued answers (e.g. the hash read out by
/// the coordinator), confirms everything, knows their token's passphrase, and remembers
/// what they were shown.
pub struct RemoteKeyholder {
    pub answers: VecDeque<String>,
    pub tokens: PathBuf,
    pub shown: String,
    pub secrets_asked: usize,
}

impl RemoteKeyholder {
    pub fn new(tokens: &Path, answers: &[&str]) -> Self {
        RemoteKeyholder { answers: answers.iter().map(|s| s.to_string()).collect(), tokens: tokens.to_path_buf(), shown: String::new(), secrets_asked: 0 }
    }
}

impl Ui for RemoteKeyholder {
    fn show(&mut self, text: &str) {
        self.shown.push_str(text);
        self.shown.push('\n');
    }
    fn confirm(&mut self, _: &str) -> Result<bool, UiError> {
        Ok(true)
    }
    fn confirm_word(&mut self, _: &str, _: &str) -> Result<bool, UiError> {
        Ok(true)
    }
    fn wait(&mut self, _: &str) -> Result<(), UiError> {
        Ok(())
    }
    fn ask(&mut self, q: &str) -> Result<String, UiError> {
        self.show(q);
        self.answers.pop_front().ok_or_else(|| UiError::Closed(q.to_string()))
    }
    fn secret(&mut self, holder: &str, _: SecretKind, _: &str) -> Result<Zeroizing<String>, UiError> {
        self.secrets_asked += 1;
        rehearsal_passphrase(&self.tokens, holder).ok_or_else(|| UiError::Io(format!("no rehearsal passphrase for {holder}")))
    }
}

/// A keyholder of the rehearsal in `rehearsal` signs the request folder `request` at their
/// own machine (through the library, with the rehearsal's software tokens), typing `typed`
/// when asked for the hash; the signature file goes to `out`.
pub fn sign_apart_as(
    rehearsal: &Path,
    holder: &str,
    request: &Path,
    out: &Path,
    typed: &[&str],
) -> (Result<tuf_ceremony::ops::signing_apart::SignatureWritten, tuf_ceremony::error::Error>, RemoteKeyholder) {
    use tuf_ceremony::ops::signing_apart::{SignInput, sign};
    let plan = tuf_ceremony::ceremony::plan::Plan::load(&rehearsal.join("plan.toml"), chrono::Utc::now()).unwrap();
    let mut tokens = tuf_ceremony::ceremony::tokens::Tokens::new(rehearsal.join("tokens"));
    let mut ui = RemoteKeyholder::new(&rehearsal.join("tokens"), typed);
    let input = SignInput { request_dir: request, keyholder: holder, plan: &plan, key: None, out_dir: Some(out), now: chrono::Utc::now() };
    let r = sign(&input, &mut tokens, &mut ui);
    (r, ui)
}

/// Runs a full unattended rehearsal (`tuf-ceremony rehearse --yes`) in a new folder under
/// target/tmp: returns (its TempDir, the rehearsal folder, the media folder `<id>/`).
pub fn fresh_rehearsal(prefix: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::Builder::new().prefix(prefix).tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dir = tmp.path().join("rehearsal");
    let out = Command::new(bin()).args(["rehearse", "--yes", "--out"]).arg(&dir).env_remove("TUF_CEREMONY_CRASH_AFTER").output().unwrap();
    assert!(out.status.success(), "rehearse: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let media = std::fs::read_dir(dir.join("media")).unwrap().next().unwrap().unwrap().path();
    (tmp, dir, media)
}

/// One rehearsal shared by every test of a test binary (read it, don't change it):
/// (rehearsal folder, media folder `<id>/`).
pub fn shared_rehearsal() -> (&'static Path, &'static Path) {
    static R: std::sync::OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = std::sync::OnceLock::new();
    let r = R.get_or_init(|| fresh_rehearsal("rehearsal-"));
    (&r.1, &r.2)
}
