//! `tuf-ceremony version [--json]` and the `--version` line: the version, the commit the
//! program was built from (build.rs), and the running program's sha256 (the number the
//! transcript records). Schema: docs/version-json.md.

use crate::cli::VersionArgs;
use crate::error::Result;
use serde_json::json;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit's 40 hex digits, or "" when the build did not know it.
const COMMIT: &str = env!("TUF_CEREMONY_COMMIT");
/// "clean", "modified", or "" when the commit is unknown.
const TREE: &str = env!("TUF_CEREMONY_TREE");

/// The commit the program was built from, when known.
pub fn commit() -> Option<&'static str> {
    (!COMMIT.is_empty()).then_some(COMMIT)
}

/// Whether the program's sources were as the commit has them (None when the commit is unknown).
pub fn clean() -> Option<bool> {
    commit().map(|_| TREE == "clean")
}

/// What follows the program name in `--version`: `0.1.0 (commit <40 hex>, clean)`.
pub fn line() -> String {
    match commit() {
        Some(c) => format!("{VERSION} (commit {c}, {})", if clean() == Some(true) { "clean" } else { "modified" }),
        None => format!("{VERSION} (commit unknown: built outside a git checkout)"),
    }
}

pub fn run(a: &VersionArgs) -> Result<i32> {
    let sha256 = crate::ceremony::engine::program_sha256()?;
    super::print_report(
        a.json,
        || {
            crate::util::machine::envelope(
                "tuf-ceremony-version/1",
                json!({
                    "version": VERSION,
                    "commit": commit(),
                    "clean": clean(),
                    "sha256": sha256,
                }),
            )
        },
        || {
            let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
            format!("tuf-ceremony {}\nprogram {exe}\nsha256 {sha256}\n{}\n", line(), crate::ceremony::engine::pgp(&sha256, "  "))
        },
    )?;
    Ok(crate::error::exit::OK)
}
