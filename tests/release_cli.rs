//! `tuf-ceremony --version` and `version --json` (docs/version-json.md): the sha256 is the
//! built program's, as `sha256sum` computes it; the commit and tree state are git's; the
//! schema file and the doc name every field the program prints.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_tuf-ceremony");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// What build.rs judges the tree state on.
const SOURCES: &[&str] = &["src", "build.rs", "Cargo.toml", "Cargo.lock", "rust-toolchain.toml", ".cargo"];

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(BIN).args(args).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap())
}

fn git(args: &[&str]) -> Option<String> {
    let o = Command::new("git").arg("-C").arg(ROOT).args(args).output().ok()?;
    o.status.success().then(|| String::from_utf8(o.stdout).unwrap().trim().to_string())
}

/// The commit and tree state the binary should report, found without its code.
fn expected_commit() -> (Option<String>, Option<bool>) {
    if let Some(c) = option_env!("TUF_CEREMONY_GIT_COMMIT") {
        return (Some(c.to_ascii_lowercase()), Some(option_env!("TUF_CEREMONY_GIT_TREE") != Some("modified")));
    }
    let top = git(&["rev-parse", "--show-toplevel"]);
    let in_checkout = top.is_some_and(|t| std::fs::canonicalize(t).ok() == std::fs::canonicalize(ROOT).ok());
    if !in_checkout {
        return (None, None);
    }
    let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    status.extend(SOURCES);
    (git(&["rev-parse", "HEAD"]), git(&status).map(|s| s.is_empty()))
}

fn sha256sum(path: &Path) -> String {
    let o = Command::new("sha256sum").arg(path).output().expect("sha256sum (coreutils) runs");
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

#[test]
fn version_json_reports_the_running_program() {
    let (code, out, err) = run(&["version", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "tuf-ceremony-version/1");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["sha256"].as_str().unwrap(), sha256sum(Path::new(BIN)));

    let (commit, clean) = expected_commit();
    assert_eq!(v["commit"].as_str().map(str::to_string), commit);
    assert_eq!(v["clean"].as_bool(), clean);
}

#[test]
fn version_line_names_the_commit() {
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    let line = out.trim_end();
    let (commit, clean) = expected_commit();
    let want = match (commit, clean) {
        (Some(c), Some(true)) => format!("tuf-ceremony {} (commit {c}, clean)", env!("CARGO_PKG_VERSION")),
        (Some(c), _) => format!("tuf-ceremony {} (commit {c}, modified)", env!("CARGO_PKG_VERSION")),
        (None, _) => format!("tuf-ceremony {} (commit unknown: built outside a git checkout)", env!("CARGO_PKG_VERSION")),
    };
    assert_eq!(line, want);

    // The text form starts with the same line and shows the sha256 to read aloud.
    let (code, text, _) = run(&["version"]);
    assert_eq!(code, 0);
    assert_eq!(text.lines().next(), Some(line));
    assert!(text.contains(&format!("sha256 {}", sha256sum(Path::new(BIN)))), "{text}");
}

#[test]
fn version_refuses_unknown_options() {
    let (code, out, err) = run(&["version", "--jsn"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty());
}

#[test]
fn schema_and_doc_name_every_field() {
    let (_, out, _) = run(&["version", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let fields: Vec<&String> = v.as_object().unwrap().keys().collect();

    let schema: Value = serde_json::from_str(&std::fs::read_to_string(Path::new(ROOT).join("docs/schemas/version.schema.json")).unwrap()).unwrap();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let props: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
    let mut required: Vec<&str> = schema["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    required.sort();
    assert_eq!(fields, props, "the schema's properties are the printed fields");
    assert_eq!(fields.iter().map(|f| f.as_str()).collect::<Vec<_>>(), required);
    assert_eq!(schema["properties"]["schema"]["const"], v["schema"]);
    assert_eq!(schema["properties"]["sha256"]["pattern"], "^[0-9a-f]{64}$");

    let doc = std::fs::read_to_string(Path::new(ROOT).join("docs/version-json.md")).unwrap();
    for f in fields {
        assert!(doc.contains(&format!("| `{f}` |")), "docs/version-json.md has no row for {f}");
    }
}
