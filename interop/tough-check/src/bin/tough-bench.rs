//! tough-bench: the work of bench/core.sh's `load-verify` done with tough (awslabs/tough),
//! the Rust TUF client, so the benchmark can show a compiled peer beside python-tuf.
//!
//!   tough-bench load-verify DIR FILE ROLE
//!   tough-bench serde-floor FILE
//!   tough-bench verify-folder DIR
//!
//! Reads DIR/targets.json (the delegator; untimed, as on the other two sides), then, timed:
//! reads FILE (relative to DIR unless it exists as given), deserialises it as tough's
//! `Signed<Targets>` (serde_json; tough recomputes every delegated keyid while doing so) and
//! checks it with `Delegations::verify_role(.., ROLE)` (olpc canonical JSON + signature
//! check). Prints `name value` lines with bench_core's names. Exit 1 when the role does not
//! verify, 2 on a usage error.
//!
//! `verify-folder` does what bench/python_verify.py's `verify` does, with tough: read and
//! deserialise every `*.json` metadata file of DIR (root as `Signed<Root>`, the others as
//! `Signed<Targets>`), check root against itself and targets against root
//! (`Root::verify_role`), then every delegated role present against its delegator
//! (`Delegations::verify_role`), recursively.
//!
//! `serde-floor` is a lower bound, not a TUF implementation: it reads FILE and deserialises
//! it with serde_json into plain derived structs shaped like a targets role with
//! delegations (strings and integers only: no keyid, key, date or signature check, no
//! canonical JSON), to show what parsing alone costs with Rust's usual JSON stack.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use std::collections::BTreeMap;

use tough::schema::{Root, Signed, Targets};

fn resolve(dir: &Path, file: &str) -> PathBuf {
    let p = PathBuf::from(file);
    if p.exists() {
        p
    } else {
        dir.join(file)
    }
}

fn load_verify(dir: &Path, file: &str, role: &str) -> Result<(), String> {
    let delegator_bytes = std::fs::read(dir.join("targets.json")).map_err(|e| format!("targets.json: {e}"))?;
    let delegator: Signed<Targets> = serde_json::from_slice(&delegator_bytes).map_err(|e| format!("targets.json: {e}"))?;
    let delegations = delegator.signed.delegations.as_ref().ok_or("targets.json delegates nothing")?;

    let t0 = Instant::now();
    let path = resolve(dir, file);
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let read_s = t0.elapsed().as_secs_f64();
    let t = Instant::now();
    let md: Signed<Targets> = serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let parse_s = t.elapsed().as_secs_f64();
    let file_bytes = bytes.len();
    drop(bytes);
    let t = Instant::now();
    delegations.verify_role(&md, role).map_err(|e| format!("{role}: {e}"))?;
    let verify_s = t.elapsed().as_secs_f64();
    let total = t0.elapsed().as_secs_f64();

    println!("file_bytes {file_bytes}");
    println!("delegations {}", md.signed.delegations.as_ref().map_or(0, |d| d.roles.len()));
    println!("read_s {read_s:.6}");
    println!("parse_s {parse_s:.6}");
    println!("verify_s {verify_s:.6}");
    println!("load_s {:.6}", read_s + parse_s);
    println!("load_verify_s {total:.6}");
    Ok(())
}

/// Role name of a metadata file name: `1.root.json`, `root.json`, `claimed.json`.
fn role_of(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".json")?;
    Some(match stem.split_once('.') {
        Some((head, rest)) if !rest.is_empty() && head.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => stem,
    })
}

fn verify_folder(dir: &Path) -> Result<(), String> {
    let t0 = Instant::now();
    let mut root: Option<Signed<Root>> = None;
    let mut roles: BTreeMap<String, Signed<Targets>> = BTreeMap::new();
    let mut names: Vec<String> =
        std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?.filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok())).collect();
    names.sort();
    for name in &names {
        let Some(role) = role_of(name) else { continue };
        if role == "keys" || name.ends_with("-out.json") {
            continue;
        }
        let bytes = std::fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
        if role == "root" {
            root = Some(serde_json::from_slice(&bytes).map_err(|e| format!("{name}: {e}"))?);
        } else {
            roles.insert(role.to_string(), serde_json::from_slice(&bytes).map_err(|e| format!("{name}: {e}"))?);
        }
    }
    let load_s = t0.elapsed().as_secs_f64();
    let t = Instant::now();
    let root = root.ok_or("no root")?;
    root.signed.verify_role(&root).map_err(|e| format!("root: {e}"))?;
    let targets = roles.get("targets").ok_or("no targets.json")?;
    root.signed.verify_role(targets).map_err(|e| format!("targets: {e}"))?;
    let mut checked = 2;
    let mut queue = vec!["targets".to_string()];
    while let Some(parent) = queue.pop() {
        let Some(d) = roles[&parent].signed.delegations.as_ref() else { continue };
        for child in &d.roles {
            if let Some(md) = roles.get(&child.name) {
                d.verify_role(md, &child.name).map_err(|e| format!("{}: {e}", child.name))?;
                checked += 1;
                queue.push(child.name.clone());
            }
        }
    }
    let verify_s = t.elapsed().as_secs_f64();
    println!("files {}", roles.len() + 1);
    println!("roles_verified {checked}");
    println!("load_s {load_s:.6}");
    println!("verify_s {verify_s:.6}");
    println!("total_s {:.6}", t0.elapsed().as_secs_f64());
    Ok(())
}

/// A targets role with delegations as plain data (serde-floor).
#[derive(serde::Deserialize)]
#[allow(dead_code)] // read only to be built
struct Plain {
    signatures: Vec<PlainSig>,
    signed: PlainSigned,
}
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PlainSig {
    keyid: String,
    sig: String,
}
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PlainSigned {
    _type: String,
    spec_version: String,
    version: u64,
    expires: String,
    targets: std::collections::BTreeMap<String, serde_json::Value>,
    delegations: Option<PlainDelegations>,
}
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PlainDelegations {
    keys: std::collections::BTreeMap<String, PlainKey>,
    roles: Vec<PlainRole>,
}
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PlainKey {
    keytype: String,
    scheme: String,
    keyval: std::collections::BTreeMap<String, String>,
}
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PlainRole {
    name: String,
    keyids: Vec<String>,
    threshold: u64,
    terminating: bool,
    paths: Option<Vec<String>>,
    path_hash_prefixes: Option<Vec<String>>,
}

fn serde_floor(file: &str) -> Result<(), String> {
    let t0 = Instant::now();
    let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    let read_s = t0.elapsed().as_secs_f64();
    let t = Instant::now();
    let md: Plain = serde_json::from_slice(&bytes).map_err(|e| format!("{file}: {e}"))?;
    let parse_s = t.elapsed().as_secs_f64();
    println!("file_bytes {}", bytes.len());
    println!("delegations {}", md.signed.delegations.as_ref().map_or(0, |d| d.roles.len()));
    println!("read_s {read_s:.6}");
    println!("parse_s {parse_s:.6}");
    println!("load_s {:.6}", read_s + parse_s);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [op, dir, file, role] if op == "load-verify" => load_verify(Path::new(dir), file, role),
        [op, file] if op == "serde-floor" => serde_floor(file),
        [op, dir] if op == "verify-folder" => verify_folder(Path::new(dir)),
        _ => {
            eprintln!("usage: tough-bench load-verify DIR FILE ROLE | serde-floor FILE | verify-folder DIR");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tough-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
