//! Benchmark driver for the TUF core on PEP 458/480-sized roles (see bench/README.md).
//!
//! ```text
//! cargo run --release --example bench_core -- gen DIR [PROJECTS]
//! cargo run --release --example bench_core -- load-verify DIR FILE ROLE
//! cargo run --release --example bench_core -- sign-write DIR FILE [OUT]
//! cargo run --release --example bench_core -- profile DIR FILE ROLE
//! ```
//!
//! `gen` writes, deterministically (fixed seeds):
//! * `claimed.json`: a targets role delegating to PROJECTS (default 100,000) projects
//!   `project-NNNNNN`, each with its own ed25519 key, terminating, paths `["<project>/*"]`;
//! * `bins.json`: a targets role delegating to 16384 hashed bins (`HashBins`), one bin key;
//! * `targets.json`: delegates `claimed` and `bins` (paths `["*/*"]`, non-terminating);
//! * `keys.json`: the hex ed25519 seeds of the targets, claimed, bins and bin keys, so the
//!   python-tuf side signs with the very same keys.
//!
//! `profile` times each library step on its own (tokenizer alone, model building,
//! strictness checks, canonical and pretty encoding, writer rules, keyids, signing,
//! verifying, dropping the model) and counts heap allocations and live bytes with a
//! counting allocator that is switched on only for this subcommand, to find hot spots.
//!
//! The timed subcommands print one `name value` line per measurement (seconds as `*_s`),
//! so bench/core.sh can parse them; python_tuf_bench.py prints the same names.

use chrono::{TimeZone, Utc};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tuf_ceremony::signer::software::{SecretKey, SoftwareKey};
use tuf_ceremony::signer::{Signer, sign_metadata, sign_payload};
use tuf_ceremony::tuf::bins::HashBins;
use tuf_ceremony::tuf::encode::canonical_sized;
use tuf_ceremony::tuf::finding::Clients;
use tuf_ceremony::tuf::json::{Kind, Reader};
use tuf_ceremony::tuf::keys::{self, hex};
use tuf_ceremony::tuf::metadata::{DelegatedRole, DelegatedRoles, Delegations, Metadata, Mode, Signature, Signed, Targets, strictness_issues};
use tuf_ceremony::tuf::stream::parse_checked;
use tuf_ceremony::tuf::verify::{check_delegated, pending_delegated};
use tuf_ceremony::tuf::{olpc, rules};
use tuf_ceremony::tuf::{write, write_consuming, write_with_canonical};

type Res<T> = Result<T, String>;

/// Heap accounting for `profile` (off unless `COUNTING` is set, so it costs one relaxed
/// load per allocation in the timed subcommands).
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

    pub static COUNTING: AtomicBool = AtomicBool::new(false);
    pub static LIVE: AtomicUsize = AtomicUsize::new(0);
    pub static PEAK: AtomicUsize = AtomicUsize::new(0);
    pub static ALLOCS: AtomicUsize = AtomicUsize::new(0);

    pub struct Counting;

    fn grow(n: usize) {
        let live = LIVE.fetch_add(n, Relaxed) + n;
        PEAK.fetch_max(live, Relaxed);
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            if COUNTING.load(Relaxed) {
                ALLOCS.fetch_add(1, Relaxed);
                grow(l.size());
            }
            unsafe { System.alloc(l) }
        }
        // Without this, the default zeroes through `alloc` + memset, touching every page of
        // a zeroed buffer up front (calloc gets fresh, already-zero pages).
        unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
            if COUNTING.load(Relaxed) {
                ALLOCS.fetch_add(1, Relaxed);
                grow(l.size());
            }
            unsafe { System.alloc_zeroed(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            if COUNTING.load(Relaxed) {
                LIVE.fetch_sub(l.size(), Relaxed);
            }
            unsafe { System.dealloc(p, l) }
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
            if COUNTING.load(Relaxed) {
                ALLOCS.fetch_add(1, Relaxed);
                if new >= l.size() {
                    grow(new - l.size());
                } else {
                    LIVE.fetch_sub(l.size() - new, Relaxed);
                }
            }
            unsafe { System.realloc(p, l, new) }
        }
    }
}

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

/// Fixed seeds of the role keys (written to keys.json for the python side).
const SEEDS: [(&str, u8); 4] = [("targets", 0x11), ("claimed", 0x22), ("bins", 0x33), ("bin", 0x44)];

fn seed_of(name: &str) -> [u8; 32] {
    let b = SEEDS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b).expect("known key name");
    [b; 32]
}

fn key_from_seed(seed: [u8; 32], label: &str) -> SoftwareKey {
    SoftwareKey::from_secret(SecretKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)), label)
}

/// Project `i`'s seed: its index, little-endian, then a constant filler.
fn project_seed(i: u32) -> [u8; 32] {
    let mut s = [0x55u8; 32];
    s[..4].copy_from_slice(&i.to_le_bytes());
    s
}

/// The role a file's signing key belongs to, by file name (`claimed.json` → `claimed`).
fn role_key(role: &str) -> Res<SoftwareKey> {
    if !SEEDS.iter().any(|(n, _)| *n == role) {
        return Err(format!("no benchmark key for role {role:?}"));
    }
    Ok(key_from_seed(seed_of(role), role))
}

fn read(p: &Path) -> Res<Vec<u8>> {
    std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn put(p: &Path, bytes: &[u8]) -> Res<()> {
    std::fs::write(p, bytes).map_err(|e| format!("{}: {e}", p.display()))
}

fn signed_write(signed: Signed, signer: &mut SoftwareKey, path: &Path) -> Res<usize> {
    let mut md = Metadata::new(signed);
    sign_metadata(&mut md, signer).map_err(|e| e.to_string())?;
    let bytes = write(&md, Clients::ALL).map_err(|e| e.to_string())?;
    put(path, &bytes)?;
    Ok(bytes.len())
}

fn generate(dir: &Path, projects: u32) -> Res<()> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let exp = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let pk = |k: &SoftwareKey| k.public_key().to_key();
    let (mut k_targets, mut k_claimed, mut k_bins, k_bin) = (role_key("targets")?, role_key("claimed")?, role_key("bins")?, role_key("bin")?);

    // claimed: one terminating delegation per project, each with its own key.
    let t = Instant::now();
    let mut claimed = Targets::new(1, exp);
    let mut dkeys = BTreeMap::new();
    let mut roles = Vec::with_capacity(projects as usize);
    for i in 0..projects {
        let key = key_from_seed(project_seed(i), "project").public_key().to_key();
        let id = keys::keyid(&key);
        let name = format!("project-{i:06}");
        roles.push(DelegatedRole::with_paths(&name, vec![id.clone()], 1, true, vec![format!("{name}/*")]));
        dkeys.insert(id, key);
    }
    claimed.delegations = Some(Delegations { keys: dkeys, roles: DelegatedRoles::Roles(roles), extra: Default::default() });
    let n = signed_write(Signed::Targets(claimed), &mut k_claimed, &dir.join("claimed.json"))?;
    println!("claimed_bytes {n}");
    println!("claimed_projects {projects}");
    eprintln!("claimed.json: {n} bytes ({:.1} MB, {projects} projects) in {:.1?}", n as f64 / 1e6, t.elapsed());

    // bins: 16384 hashed bins sharing one key.
    let bk = pk(&k_bin);
    let bid = keys::keyid(&bk);
    let hb = HashBins::new(16384)?;
    let mut bins = Targets::new(1, exp);
    bins.delegations =
        Some(Delegations { keys: BTreeMap::from([(bid.clone(), bk)]), roles: DelegatedRoles::Roles(hb.roles(&[bid], 1)), extra: Default::default() });
    let n = signed_write(Signed::Targets(bins), &mut k_bins, &dir.join("bins.json"))?;
    println!("bins_bytes {n}");
    eprintln!("bins.json: {n} bytes ({:.1} MB, {} bins)", n as f64 / 1e6, hb.count());

    // targets: delegates both.
    let mut targets = Targets::new(1, exp);
    for (name, k) in [("claimed", &k_claimed), ("bins", &k_bins)] {
        let key = pk(k);
        let id = keys::keyid(&key);
        targets.delegate(DelegatedRole::with_paths(name, vec![id], 1, false, vec!["*/*".into()]), [key]);
    }
    let n = signed_write(Signed::Targets(targets), &mut k_targets, &dir.join("targets.json"))?;
    println!("targets_bytes {n}");

    // Seeds for the python side (benchmark keys only: never use these anywhere else).
    let mut json = String::from("{\n");
    for (i, (name, _)) in SEEDS.iter().enumerate() {
        let comma = if i + 1 < SEEDS.len() { "," } else { "" };
        json.push_str(&format!("  \"{name}\": \"{}\"{comma}\n", hex(&seed_of(name))));
    }
    json.push_str("}\n");
    put(&dir.join("keys.json"), json.as_bytes())
}

/// Loads the delegator (targets.json); not part of the timed work on either side.
fn delegator(dir: &Path) -> Res<Metadata> {
    Metadata::from_bytes(&read(&dir.join("targets.json"))?, Mode::Strict).map_err(|e| format!("targets.json: {e}"))
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// CPU time this thread has run, in seconds (from the scheduler; robust when other
/// processes compete for the cores). 0 where /proc is unavailable.
fn cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok().and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok()).map_or(0.0, |ns| ns as f64 / 1e9)
}

fn load_verify(dir: &Path, file: &Path, role: &str) -> Res<()> {
    let targets_md = delegator(dir)?;
    let targets = targets_md.signed.as_targets().ok_or("targets.json is not a targets role")?;

    let (t0, c0) = (Instant::now(), cpu());
    let bytes = tuf_ceremony::util::fsx::read_large(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let read_s = secs(t0);
    let t = Instant::now();
    // Parse, and on a second thread hash the canonical bytes of `signed` as the parser
    // produces them (tuf::stream): the signature check ends with the parse.
    let checked = parse_checked(&bytes, Mode::Strict, |sigs| pending_delegated(targets, role, sigs, false)).map_err(|e| format!("{}: {e}", file.display()))?;
    let parse_verify_s = secs(t);
    let file_len = bytes.len();
    drop(bytes);
    let (total, total_cpu) = (secs(t0), cpu() - c0);
    let check = checked.check.ok_or(format!("targets does not delegate {role:?}"))?;
    if !check.met() {
        return Err(format!("{role}: signature threshold not met: {check:?}"));
    }
    let md = checked.md;
    println!("file_bytes {file_len}");
    println!("delegations {}", md.signed.as_targets().map_or(0, |t| t.delegated_roles().len()));
    println!("read_s {read_s:.6}");
    println!("parse_verify_s {parse_verify_s:.6}");
    println!("load_s {:.6}", read_s + parse_verify_s);
    println!("load_verify_s {total:.6}");
    println!("load_verify_cpu_s {total_cpu:.6}");
    println!("valid_signatures {}", check.valid());
    Ok(())
}

fn sign_write(file: &Path, role: &str, out: &Path) -> Res<()> {
    let mut signer = role_key(role)?;
    let t = Instant::now();
    let bytes = read(file)?;
    let mut md = Metadata::from_bytes(&bytes, Mode::Strict).map_err(|e| format!("{}: {e}", file.display()))?;
    let file_len = bytes.len();
    drop(bytes);
    let load_s = secs(t);

    let (t0, c0) = (Instant::now(), cpu());
    md.signed.header_mut().version += 1;
    // Like python-tuf's `sign(append=False)`: the new version replaces the old signatures.
    let id = keys::keyid(&signer.public_key().to_key());
    md.signatures = vec![Signature { keyid: id, sig: String::new(), extra: Default::default() }];
    let t = Instant::now();
    let payload = canonical_sized(&md.signed, file_len); // = md.signed_bytes(), sized up front
    let canonical_s = secs(t);
    let t = Instant::now();
    sign_payload(&mut md, &payload, &mut signer).map_err(|e| e.to_string())?;
    let sig_s = secs(t);
    let sign_s = secs(t0);

    let t1 = Instant::now();
    // The canonical bytes are freed before the file bytes are encoded (peak memory).
    let out_bytes = write_consuming(&md, payload, Clients::ALL).map_err(|e| e.to_string())?;
    let encode_s = secs(t1);
    let t = Instant::now();
    put(out, &out_bytes)?;
    let file_write_s = secs(t);
    let write_s = secs(t1);
    let total_cpu = cpu() - c0;

    println!("out_bytes {}", out_bytes.len());
    println!("load_s {load_s:.6}");
    println!("canonical_s {canonical_s:.6}");
    println!("sig_s {sig_s:.6}");
    println!("sign_s {sign_s:.6}");
    println!("encode_s {encode_s:.6}");
    println!("file_write_s {file_write_s:.6}");
    println!("write_s {write_s:.6}");
    println!("sign_write_s {:.6}", sign_s + write_s);
    println!("sign_write_cpu_s {total_cpu:.6}");
    Ok(())
}

/// Runs one profiled step: wall time, allocations, live heap after, peak heap above start.
fn step<T>(name: &str, f: impl FnOnce() -> T) -> T {
    use counting::*;
    use std::sync::atomic::Ordering::Relaxed;
    let live0 = LIVE.load(Relaxed);
    PEAK.store(live0, Relaxed);
    let a0 = ALLOCS.load(Relaxed);
    let t = Instant::now();
    let v = f();
    let s = secs(t);
    let (live, peak, allocs) = (LIVE.load(Relaxed), PEAK.load(Relaxed), ALLOCS.load(Relaxed) - a0);
    let mb = |b: usize| b as f64 / 1e6;
    println!("{name:<28} {s:>9.4} s  {allocs:>9} allocs  live {:>7.1} MB  peak +{:>6.1} MB", mb(live), mb(peak - live0));
    v
}

/// Walks a document with the reader alone (no model): the tokenizer's floor.
fn skip(r: &mut Reader) -> tuf_ceremony::tuf::json::Result<()> {
    match r.peek_kind()? {
        Kind::Object => r.object(|r, _| skip(r)),
        Kind::Array => r.array(|r, _| skip(r)),
        Kind::String => r.str().map(|_| ()),
        Kind::Number => r.int().map(|_| ()),
        Kind::Bool => r.bool().map(|_| ()),
        Kind::Null => r.null(),
    }
}

fn profile(dir: &Path, file: &Path, role: &str) -> Res<()> {
    counting::COUNTING.store(true, std::sync::atomic::Ordering::Relaxed);
    let targets_md = delegator(dir)?;
    let targets = targets_md.signed.as_targets().ok_or("targets.json is not a targets role")?;
    let mut signer = role_key(role)?;
    let bytes = step("read file", || read(file))?;
    step("tokenize only (Reader)", || {
        let mut r = Reader::new(&bytes)?;
        skip(&mut r)?;
        r.finish()
    })
    .map_err(|e| e.to_string())?;
    let md = step("from_bytes(Lenient)", || Metadata::from_bytes(&bytes, Mode::Lenient)).map_err(|e| e.to_string())?;
    drop(md);
    let checked = step("stream::parse_checked", || parse_checked(&bytes, Mode::Strict, |sigs| pending_delegated(targets, role, sigs, false)))
        .map_err(|e| e.to_string())?;
    println!("  (threshold met: {:?})", checked.check.as_ref().map(|c| c.met()));
    drop(checked);
    let plain = step("parse_checked_in_pieces(None)", || {
        tuf_ceremony::tuf::stream::parse_checked_in_pieces(&bytes, Mode::Strict, |sigs| pending_delegated(targets, role, sigs, false), None)
    })
    .map_err(|e| e.to_string())?;
    drop(plain);
    let md = step("from_bytes(Strict)", || Metadata::from_bytes(&bytes, Mode::Strict)).map_err(|e| e.to_string())?;
    step("  strictness_issues", || strictness_issues(&md));
    step("drop file bytes", || drop(bytes));
    let payload = step("signed_bytes (canonical)", || md.signed_bytes());
    let check = step("check_delegated (verify)", || check_delegated(targets, role, &md, &payload, false));
    if !check.is_some_and(|c| c.met()) {
        return Err(format!("{role}: signature does not verify"));
    }
    let sig = step("Signer::sign (ed25519)", || signer.sign(&payload)).map_err(|e| e.to_string())?;
    step("PublicKey::verify (ed25519)", || signer.public_key().verify(&payload, &sig));
    let mut md2 = md.clone();
    let id = keys::keyid(&signer.public_key().to_key());
    md2.signatures = vec![Signature { keyid: id, sig: String::new(), extra: Default::default() }];
    step("sign_payload (sign+verify)", || sign_payload(&mut md2, &payload, &mut signer)).map_err(|e| e.to_string())?;
    drop(md2);
    let n = step("rules::check", || rules::check(&md, &payload).len());
    println!("  ({n} findings)");
    step("  olpc::divergences", || olpc::divergences(&payload));
    if let Some(d) = md.signed.as_targets().and_then(|t| t.delegations.as_ref()) {
        step("  keyid() of every key", || d.keys.values().map(keys::keyid).count());
    }
    let pretty = step("to_pretty_bytes", || md.to_pretty_bytes());
    let out = step("write_with_canonical", || write_with_canonical(&md, &payload, Clients::ALL)).map_err(|e| e.to_string())?;
    if out != pretty {
        return Err("write_with_canonical and to_pretty_bytes differ".into());
    }
    drop((out, pretty, payload));
    step("drop model", || drop(md));
    Ok(())
}

fn usage() -> String {
    "usage: bench_core gen DIR [PROJECTS]\n       bench_core load-verify DIR FILE ROLE\n       bench_core sign-write DIR FILE [OUT]\n       bench_core profile DIR FILE ROLE\n       bench_core claim DIR N".into()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let res = match a.as_slice() {
        ["gen", dir] => generate(Path::new(dir), 100_000),
        ["gen", dir, n] => n.parse().map_err(|_| usage()).and_then(|n| generate(Path::new(dir), n)),
        ["profile", dir, file, role] => profile(Path::new(dir), &resolve(dir, file), role),
        ["load-verify", dir, file, role] => load_verify(Path::new(dir), &resolve(dir, file), role),
        ["sign-write", dir, file] => sign_write_default(dir, file, None),
        ["sign-write", dir, file, out] => sign_write_default(dir, file, Some(out)),
        ["claim", dir, n] => n.parse().map_err(|_| usage()).and_then(|n| claim(Path::new(dir), n)),
        _ => Err(usage()),
    };
    if let Err(e) = res {
        eprintln!("bench_core: {e}");
        std::process::exit(1);
    }
}

/// Issue 6's operation: add `n` new projects (each with its own ed25519 key) to
/// `DIR/claimed.json`, bump the version, re-sign with the claimed key, write the new file.
fn claim(dir: &Path, n: usize) -> Res<()> {
    use tuf_ceremony::ceremony::claims::{Batch, Registration, apply};
    let (t0, c0) = (Instant::now(), cpu());
    let file = dir.join("claimed.json");
    let bytes = read(&file)?;
    let file_len = bytes.len();
    let mut md = Metadata::from_bytes(&bytes, Mode::Strict).map_err(|e| format!("{}: {e}", file.display()))?;
    drop(bytes);
    let load_s = secs(t0);
    let t = Instant::now();
    let add = (0..n)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1_000_000).to_le_bytes());
            let k = tuf_ceremony::signer::software::SoftwareKey::from_secret(
                tuf_ceremony::signer::software::SecretKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)),
                "dev",
            );
            Registration { project: format!("new-project-{i:06}"), keys: vec![k.public_key().to_key()], threshold: 1 }
        })
        .collect();
    let tuf_ceremony::tuf::metadata::Signed::Targets(t_role) = &mut md.signed else { return Err("claimed is not a targets role".into()) };
    let report = apply(t_role, &Batch { add, ..Default::default() }).map_err(|e| e.to_string())?;
    md.signed.header_mut().version += 1;
    md.signatures.clear();
    let apply_s = secs(t);
    let t = Instant::now();
    let mut signer = role_key("claimed")?;
    let payload = canonical_sized(&md.signed, file_len);
    sign_payload(&mut md, &payload, &mut signer).map_err(|e| e.to_string())?;
    let sign_s = secs(t);
    let t = Instant::now();
    let out_bytes = write_consuming(&md, payload, Clients::ALL).map_err(|e| e.to_string())?;
    put(&dir.join("claimed.claim-out.json"), &out_bytes)?;
    let write_s = secs(t);
    println!("projects_added {}", report.added.len());
    println!("projects_total {}", md.signed.as_targets().map(|t| t.delegated_roles().len()).unwrap_or(0));
    println!("file_bytes {file_len}");
    println!("out_bytes {}", out_bytes.len());
    println!("load_s {load_s:.6}");
    println!("apply_s {apply_s:.6}");
    println!("sign_s {sign_s:.6}");
    println!("write_s {write_s:.6}");
    println!("claim_total_s {:.6}", secs(t0));
    println!("claim_total_cpu_s {:.6}", cpu() - c0);
    Ok(())
}

/// The signing key is the role named by the file (`claimed.json` → claimed); OUT defaults
/// to `DIR/<role>.rust-out.json`.
fn sign_write_default(dir: &str, file: &str, out: Option<&str>) -> Res<()> {
    let path = resolve(dir, file);
    let role = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
    let out = out.map(PathBuf::from).unwrap_or_else(|| Path::new(dir).join(format!("{role}.rust-out.json")));
    sign_write(&path, &role, &out)
}

/// FILE relative to DIR unless it is a path that exists as given.
fn resolve(dir: &str, file: &str) -> PathBuf {
    let p = PathBuf::from(file);
    if p.exists() { p } else { Path::new(dir).join(file) }
}
