//! tough-bench: the work of bench/core.sh's `load-verify` done with tough (awslabs/tough),
//! the Rust TUF client, so the benchmark can show a compiled peer beside python-tuf.
//!
//!   tough-bench load-verify DIR FILE ROLE
//!   tough-bench serde-floor FILE
//!
//! Reads DIR/targets.json (the delegator; untimed, as on the other two sides), then, timed:
//! reads FILE (relative to DIR unless it exists as given), deserialises it as tough's
//! `Signed<Targets>` (serde_json; tough recomputes every delegated keyid while doing so) and
//! checks it with `Delegations::verify_role(.., ROLE)` (olpc canonical JSON + signature
//! check). Prints `name value` lines with bench_core's names. Exit 1 when the role does not
//! verify, 2 on a usage error.
//!
//! `serde-floor` is a lower bound, not a TUF implementation: it reads FILE and deserialises
//! it with serde_json into plain derived structs shaped like a targets role with
//! delegations (strings and integers only: no keyid, key, date or signature check, no
//! canonical JSON), to show what parsing alone costs with Rust's usual JSON stack.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use tough::schema::{Signed, Targets};

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
        _ => {
            eprintln!("usage: tough-bench load-verify DIR FILE ROLE | tough-bench serde-floor FILE");
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
