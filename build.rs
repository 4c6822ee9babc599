//! Records which commit the program is built from, for `--version` and `version --json`.
//!
//! Exports to the crate:
//! - `TUF_CEREMONY_COMMIT`: the commit's 40 hex digits, or "" when unknown;
//! - `TUF_CEREMONY_TREE`: `clean`, `modified`, or "" when unknown.
//!
//! "clean" means the files the program is built from (`src/`, `build.rs`, `Cargo.toml`,
//! `Cargo.lock`, `rust-toolchain.toml`, `.cargo/`) are as the commit has them, so the commit
//! alone rebuilds this binary. Edits elsewhere (tests, docs, the runbook) do not change the
//! binary and do not count; untracked files do not count either: a new file can only change
//! the build through a tracked file that names it (a `mod` line, a `Cargo.toml` entry), and
//! that file then shows as modified. Release builds and target folders are often untracked
//! folders inside the checkout.
//!
//! A build from a source tarball has no git: set `TUF_CEREMONY_GIT_COMMIT` to the commit the
//! tarball was made from (40 hex digits) and, if its files were changed,
//! `TUF_CEREMONY_GIT_TREE=modified` (default `clean`). Without them the version says
//! "commit unknown".
//!
//! Reruns only when HEAD moves (the HEAD file, the branch's ref, packed-refs) or one of the
//! files above changes, so an ordinary edit to tests or docs rebuilds nothing more.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the tree state is judged on; keep in step with tests/release_cli.rs.
const SOURCES: &[&str] = &["src", "build.rs", "Cargo.toml", "Cargo.lock", "rust-toolchain.toml", ".cargo"];

fn main() {
    println!("cargo::rerun-if-env-changed=TUF_CEREMONY_GIT_COMMIT");
    println!("cargo::rerun-if-env-changed=TUF_CEREMONY_GIT_TREE");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    for s in SOURCES {
        if manifest_dir.join(s).exists() {
            println!("cargo::rerun-if-changed={s}");
        }
    }
    let (commit, tree) = match std::env::var("TUF_CEREMONY_GIT_COMMIT") {
        Ok(c) => from_override(&c),
        Err(_) => from_git(&manifest_dir).unwrap_or_default(),
    };
    println!("cargo::rustc-env=TUF_CEREMONY_COMMIT={commit}");
    println!("cargo::rustc-env=TUF_CEREMONY_TREE={tree}");
}

fn from_override(commit: &str) -> (String, String) {
    let tree = std::env::var("TUF_CEREMONY_GIT_TREE").unwrap_or_else(|_| "clean".into());
    if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        fail(&format!("TUF_CEREMONY_GIT_COMMIT={commit:?} is not a commit id (40 hex digits)"));
    }
    if tree != "clean" && tree != "modified" {
        fail(&format!("TUF_CEREMONY_GIT_TREE={tree:?}: expected clean or modified"));
    }
    (commit.to_ascii_lowercase(), tree)
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}

/// Commit and tree state from git, or None when this is not the top of a git checkout (a
/// crate unpacked inside some other repository must not take that repository's commit).
fn from_git(dir: &Path) -> Option<(String, String)> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(&top).ok()? != std::fs::canonicalize(dir).ok()? {
        return None;
    }
    let commit = git(dir, &["rev-parse", "--verify", "HEAD^{commit}"])?;
    watch_head(dir);
    // --no-optional-locks: status must not refresh the index, which would rerun us forever.
    let mut status = vec!["--no-optional-locks", "status", "--porcelain", "--untracked-files=no", "--"];
    status.extend(SOURCES);
    let changes = git(dir, &status)?;
    Some((commit, if changes.is_empty() { "clean" } else { "modified" }.to_string()))
}

/// Rerun when HEAD moves. In a worktree `.git` is a file; `--git-path` finds HEAD in the
/// worktree's git dir and refs in the common one.
fn watch_head(dir: &Path) {
    let path = |p: &str| git(dir, &["rev-parse", "--git-path", p]).map(|s| dir.join(s));
    let mut watch = Vec::new();
    watch.extend(path("HEAD"));
    watch.extend(path("packed-refs"));
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]).and_then(|r| path(&r)) {
        // A packed branch gets a loose file at its next commit: watch the folder it appears in.
        let existing = branch.ancestors().find(|p| p.exists()).map(Path::to_path_buf);
        watch.extend(existing);
    }
    for p in watch.iter().filter(|p| p.exists()) {
        println!("cargo::rerun-if-changed={}", p.display());
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}
