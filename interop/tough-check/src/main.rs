//! tough-check: loads a TUF repository from local files with tough (awslabs/tough), an
//! implementation independent of tuf-ceremony, and reports what it loaded.
//!
//! Usage:
//!   tough-check --root <trusted root.json> --metadata-dir <dir> [--targets-dir <dir>]
//!               [--target <path>]... [--expect-missing <path>]...
//!
//! tough's `RepositoryLoader` performs the whole client workflow: root chain N -> N+1 (both
//! thresholds), timestamp, snapshot, targets, then *every* delegated role, eagerly and
//! recursively (each must be listed in snapshot, signed by its delegator's keys, and hold
//! only targets matching its delegation chain). `--target` additionally requires that a
//! target path be listed somewhere in the loaded tree; `--expect-missing` that it is not.
//!
//! Exit status: 0 when everything loaded and every expectation held, 1 on any failure
//! (the reason, with tough's error chain, on stderr), 2 on a usage error.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tough::schema::{DelegatedRole, Targets};
use tough::{ExpirationEnforcement, FilesystemTransport, RepositoryLoader, TargetName};
use url::Url;

struct Args {
    root: PathBuf,
    metadata_dir: PathBuf,
    targets_dir: Option<PathBuf>,
    targets: Vec<String>,
    missing: Vec<String>,
}

const USAGE: &str = "usage: tough-check --root <root.json> --metadata-dir <dir> [--targets-dir <dir>] [--target <path>]... [--expect-missing <path>]...";

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args_os().skip(1);
    let (mut root, mut metadata_dir, mut targets_dir) = (None, None, None);
    let (mut targets, mut missing) = (Vec::new(), Vec::new());
    while let Some(flag) = it.next() {
        let flag = flag.to_string_lossy().into_owned();
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--root" => root = Some(PathBuf::from(value)),
            "--metadata-dir" => metadata_dir = Some(PathBuf::from(value)),
            "--targets-dir" => targets_dir = Some(PathBuf::from(value)),
            "--target" => targets.push(value.to_string_lossy().into_owned()),
            "--expect-missing" => missing.push(value.to_string_lossy().into_owned()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args { root: root.ok_or("--root is required")?, metadata_dir: metadata_dir.ok_or("--metadata-dir is required")?, targets_dir, targets, missing })
}

/// A `file://` URL for a directory (with the trailing slash tough joins file names onto).
fn dir_url(dir: &Path) -> Result<Url, String> {
    let abs = std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Url::from_directory_path(&abs).map_err(|()| format!("{}: cannot make a file:// URL", abs.display()))
}

fn chain(e: &dyn Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(cause) = src {
        // tough's (snafu) messages often repeat their source's text already.
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        src = cause.source();
    }
    s
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every delegated role, depth first, with its depth and its own target count.
fn walk<'a>(t: &'a Targets, depth: usize, out: &mut Vec<(usize, &'a DelegatedRole)>) {
    if let Some(d) = &t.delegations {
        for role in &d.roles {
            out.push((depth, role));
            if let Some(signed) = &role.targets {
                walk(&signed.signed, depth + 1, out);
            }
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let root = std::fs::read(&args.root).map_err(|e| format!("{}: {e}", args.root.display()))?;
    let metadata_url = dir_url(&args.metadata_dir)?;
    let targets_url = dir_url(args.targets_dir.as_deref().unwrap_or(&args.metadata_dir))?;

    // tough is async; a current-thread runtime is all a one-shot load needs.
    let rt = tokio::runtime::Builder::new_current_thread().build().map_err(|e| format!("tokio runtime: {e}"))?;
    let repo = rt
        .block_on(
            RepositoryLoader::new(&root, metadata_url, targets_url).transport(FilesystemTransport).expiration_enforcement(ExpirationEnforcement::Safe).load(),
        )
        .map_err(|e| format!("tough refused the repository: {}", chain(&e)))?;

    let r = &repo.root().signed;
    println!(
        "tough {}: loaded root v{} (consistent_snapshot={}, {} keys), timestamp v{}, snapshot v{} ({} meta entries), targets v{}",
        TOUGH_VERSION,
        r.version,
        r.consistent_snapshot,
        r.keys.len(),
        repo.timestamp().signed.version,
        repo.snapshot().signed.version,
        repo.snapshot().signed.meta.len(),
        repo.targets().signed.version,
    );
    let mut roles = Vec::new();
    walk(&repo.targets().signed, 1, &mut roles);
    let loaded = roles.iter().filter(|(_, r)| r.targets.is_some()).count();
    println!("delegated roles: {} ({} loaded)", roles.len(), loaded);
    const SHOWN: usize = 40;
    for (depth, role) in roles.iter().take(SHOWN) {
        let n = role.targets.as_ref().map_or(0, |t| t.signed.targets.len());
        println!("  {:indent$}{} (threshold {}, terminating {}, {} targets)", "", role.name, role.threshold, role.terminating, n, indent = 2 * (depth - 1));
    }
    if roles.len() > SHOWN {
        println!("  ... and {} more", roles.len() - SHOWN);
    }
    if loaded != roles.len() {
        return Err(format!("{} delegated roles were not loaded", roles.len() - loaded));
    }
    let all: Vec<_> = repo.all_targets().collect();
    println!("targets in the whole tree: {}", all.len());
    for (name, t) in all.iter().take(SHOWN) {
        println!("  {} length={} sha256={}", name.raw(), t.length, hex(&t.hashes.sha256));
    }
    if all.len() > SHOWN {
        println!("  ... and {} more", all.len() - SHOWN);
    }

    let mut failures = Vec::new();
    for path in &args.targets {
        let name = TargetName::new(path.as_str()).map_err(|e| format!("target name {path:?}: {}", chain(&e)))?;
        match repo.targets().signed.find_target(&name) {
            Ok(t) => println!("FOUND {path} length={} sha256={}", t.length, hex(&t.hashes.sha256)),
            Err(e) => failures.push(format!("target {path:?} not found: {}", chain(&e))),
        }
    }
    for path in &args.missing {
        let name = TargetName::new(path.as_str()).map_err(|e| format!("target name {path:?}: {}", chain(&e)))?;
        match repo.targets().signed.find_target(&name) {
            Ok(_) => failures.push(format!("target {path:?} was expected to be missing but is listed")),
            Err(_) => println!("MISSING {path} (as expected)"),
        }
    }
    if failures.is_empty() {
        println!("OK");
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

const TOUGH_VERSION: &str = "0.19.0";

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("tough-check: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("FAIL: {e}");
            ExitCode::FAILURE
        }
    }
}
