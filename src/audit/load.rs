//! Reading metadata files for an audit, in parallel: each file is read, hashed, parsed
//! (leniently: strictness is decided by the caller from the `legacy-form` findings),
//! canonicalised and checked against the writer rules on one worker thread, and its bytes
//! are dropped as soon as that is done, so a 48 MB role costs its model and canonical
//! bytes, not three copies.
//!
//! A large file also gets a helper thread: the file's sha256 is computed while it is parsed.
//! When the caller already has its delegator (see [`Precheck`]) and does not need its
//! canonical bytes, the signature check runs during the parse too (`tuf::stream`) and the
//! canonical bytes are never kept; otherwise it runs while the writer rules run.

use super::set::MetadataFile;
use crate::tuf::encode::canonical_sized;
use crate::tuf::json::{JsonError, JsonPath};
use crate::tuf::keys::{hex, sha256_hex};
use crate::tuf::metadata::{Key, Metadata, Mode, Signature};
use crate::tuf::rules;
use crate::tuf::stream::parse_checked;
use crate::tuf::verify::{PendingThreshold, check_threshold};
use crate::util::fsx;
use crate::util::par::both;
use sha2::{Digest, Sha512};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Files at least this large get a helper thread.
const LARGE: u64 = 1 << 20;

/// The delegation a role is checked against, when it is known before the role is loaded.
#[derive(Clone, Copy, Debug)]
pub struct Precheck<'a> {
    /// The delegating role's name.
    pub by: &'a str,
    pub keyids: &'a [String],
    pub threshold: u64,
    pub keys: &'a BTreeMap<String, Key>,
    pub lenient: bool,
}

/// One file to load.
#[derive(Clone, Debug)]
pub struct Job<'a> {
    pub rel: String,
    pub path: PathBuf,
    /// Compute the file's sha256 (evidence, snapshot/timestamp hashes, root copies).
    pub sha256: bool,
    /// Hash algorithms to compute besides sha256 (e.g. `sha512` when snapshot lists it).
    pub extra_hashes: Vec<String>,
    /// Size hint for scheduling (largest first).
    pub len: u64,
    pub precheck: Option<Precheck<'a>>,
    /// Keep the canonical bytes even after a precheck (the caller hashes or re-checks them).
    pub keep_canonical: bool,
}

impl Job<'_> {
    pub fn new(rel: String, path: PathBuf, len: u64) -> Self {
        Job { rel, path, sha256: true, extra_hashes: Vec::new(), len, precheck: None, keep_canonical: true }
    }
}

/// What loading one file gave.
pub enum Loaded {
    Ok(Box<MetadataFile>),
    /// Read, but not TUF metadata this tool can parse (even leniently).
    Unparsable {
        rel: String,
        path: JsonPath,
        message: String,
        length: u64,
        sha256: String,
    },
    /// Could not be read.
    Io {
        rel: String,
        message: String,
    },
}

impl Loaded {
    pub fn rel(&self) -> &str {
        match self {
            Loaded::Ok(f) => &f.file,
            Loaded::Unparsable { rel, .. } | Loaded::Io { rel, .. } => rel,
        }
    }
}

fn digest(alg: &str, bytes: &[u8]) -> Option<String> {
    match alg {
        "sha256" => Some(sha256_hex(bytes)),
        "sha512" => Some(hex(&Sha512::digest(bytes))),
        _ => None,
    }
}

fn hashes_of(job: &Job, bytes: &[u8]) -> BTreeMap<String, String> {
    let algs = job.sha256.then_some("sha256").into_iter().chain(job.extra_hashes.iter().map(String::as_str));
    algs.filter_map(|a| digest(a, bytes).map(|h| (a.to_string(), h))).collect()
}

/// Loads one file (see the module documentation).
pub fn load_one(job: &Job) -> Loaded {
    let bytes = match fsx::read_large_in(&job.path) {
        Ok(b) => b,
        Err(e) => return Loaded::Io { rel: job.rel.clone(), message: e.to_string() },
    };
    let large = bytes.len() as u64 >= LARGE;
    if let (true, false, Some(p)) = (large, job.keep_canonical, job.precheck) {
        return load_one_pass(job, p, bytes);
    }
    let (parsed, mut hashes) = both(large, || Metadata::from_bytes(&bytes, Mode::Lenient), || hashes_of(job, &bytes));
    let md = match parsed {
        Ok(md) => md,
        Err(e) => return unparsable(job, e, &bytes, &mut hashes),
    };
    let mut size_findings = rules::check_file_bytes(&md, &bytes);
    let length = bytes.len() as u64;
    drop(bytes);
    let mut canonical = canonical_sized(&md.signed, length as usize);
    let (mut findings, prechecked) = both(
        large,
        || rules::check(&md, &canonical),
        || job.precheck.map(|p| (p.by.to_string(), check_threshold(p.keyids, p.threshold, p.keys, &canonical, &md.signatures, p.lenient))),
    );
    findings.append(&mut size_findings);
    if prechecked.is_some() && !job.keep_canonical {
        canonical = Vec::new();
    }
    Loaded::Ok(Box::new(MetadataFile { file: job.rel.clone(), bytes: Vec::new(), md, canonical, length, hashes, rule_findings: Some(findings), prechecked }))
}

/// A large role whose delegator is known and whose canonical bytes are not needed
/// afterwards (a 48 MB `claimed`): parsed and signature-checked in one pass
/// (`tuf::stream`: the canonical bytes are hashed on a second thread as the parser writes
/// them, and never kept), the file's own hashes on a third, the writer rules on the model
/// after. Same findings, in the same order, as the general path.
fn load_one_pass(job: &Job, p: Precheck, bytes: Vec<u8>) -> Loaded {
    let plan = |sigs: &[Signature]| Some(PendingThreshold::new(p.keyids, p.threshold, p.keys, sigs, p.lenient));
    let (parsed, mut hashes) = both(true, || parse_checked(&bytes, Mode::Lenient, plan), || hashes_of(job, &bytes));
    let checked = match parsed {
        Ok(c) => c,
        Err(e) => return unparsable(job, e, &bytes, &mut hashes),
    };
    let md = checked.md;
    let mut findings = rules::check_model(&md);
    if !checked.olpc_plain {
        findings.extend(rules::check_canonical(&md.signed_bytes()));
    }
    findings.extend(rules::check_file_bytes(&md, &bytes));
    let length = bytes.len() as u64;
    drop(bytes);
    let prechecked = checked.check.map(|c| (p.by.to_string(), c));
    Loaded::Ok(Box::new(MetadataFile {
        file: job.rel.clone(),
        bytes: Vec::new(),
        md,
        canonical: Vec::new(),
        length,
        hashes,
        rule_findings: Some(findings),
        prechecked,
    }))
}

fn unparsable(job: &Job, e: JsonError, bytes: &[u8], hashes: &mut BTreeMap<String, String>) -> Loaded {
    let message = match e.offset {
        Some(o) => format!("{} (byte {o})", e.kind),
        None => e.kind.to_string(),
    };
    let sha256 = hashes.remove("sha256").unwrap_or_else(|| sha256_hex(bytes));
    Loaded::Unparsable { rel: job.rel.clone(), path: e.path, message, length: bytes.len() as u64, sha256 }
}

/// Loads every job on up to `threads` worker threads (largest files first); results come
/// back in the order of `jobs`.
pub fn load_all(jobs: &[Job], threads: usize) -> Vec<Loaded> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].len));
    let threads = threads.clamp(1, jobs.len().max(1));
    if threads == 1 {
        return jobs.iter().map(load_one).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Loaded>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    let work = || {
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = order.get(k) else { break };
            let r = load_one(&jobs[i]);
            results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
        }
    };
    std::thread::scope(|s| {
        // This thread is one of the workers; helpers that cannot be started are not needed.
        for _ in 1..threads {
            if std::thread::Builder::new().spawn_scoped(s, work).is_err() {
                break;
            }
        }
        work();
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().map(|r| r.expect("every job ran")).collect()
}

/// Worker threads to use: the machine's parallelism, at most 8.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8)
}
