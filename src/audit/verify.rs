//! `verify_path`: everything `tuf-ceremony verify PATH` checks, as a library function (the
//! command is a thin layer that prints the [`Report`] and maps it to an exit code).
//!
//! 1. Find the files ([`super::layout`]) and choose, per role, the file clients would use:
//!    every root version; `timestamp.json`; the snapshot version timestamp lists; the
//!    version of every other role that snapshot lists (without them: the highest version).
//! 2. Load them in parallel ([`super::load`]): parse, canonical bytes, writer rules, hashes.
//!    Without `lenient`, a file holding legacy forms is unreadable (as strict clients find
//!    it); with it, the legacy forms are warnings.
//! 3. Check the set ([`super::set::audit_set`]) from the trusted root (`--trusted-root`, or
//!    the lowest root that can be read, reported as trust on first use).
//! 4. On a ceremony's media: the evidence ([`super::evidence`]) and the keyholders' keys.
//! 5. Attestations ([`super::attestations`]).

use super::attestations::{self, AttestationReport, BindContext};
use super::evidence::{self, EvidenceReport, HolderKey};
use super::layout::{self, Entry, FolderKind, Inventory};
use super::load::{self, Job, Loaded, Precheck};
use super::set::{AbsentRole, AuditFinding, ChainReport, MetadataFile, MetadataSet, RoleReport, SetOptions, audit_set};
use super::update;
use crate::attest::Holder;
use crate::tuf::finding::{Clients, Finding, Severity};
use crate::tuf::json::JsonPath;
use crate::tuf::keys::sha256_hex;
use crate::tuf::metadata::{MetaFile, Metadata, Mode, Signed};
use crate::util::text::one_line;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What to check and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// The root to trust (default: the lowest root in the folder, trust on first use).
    pub trusted_root: Option<PathBuf>,
    /// Where attestations are (default: the media's `keys/`).
    pub attestations: Option<PathBuf>,
    /// Time at which expiry is evaluated.
    pub at: DateTime<Utc>,
    /// Read legacy forms and report them as warnings.
    pub lenient: bool,
    /// Clients the metadata must work for (see the severity policy in [`super::set`]).
    pub clients: Clients,
    /// Worker threads for loading (0: the machine's parallelism).
    pub threads: usize,
    /// The metadata an update's media was made from (`--current`).
    pub current: Option<PathBuf>,
}

impl Options {
    pub fn new(at: DateTime<Utc>) -> Self {
        Options { trusted_root: None, attestations: None, at, lenient: false, clients: Clients::ALL, threads: 0, current: None }
    }
}

/// Why nothing could be checked (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Layout(#[from] layout::LayoutError),
    #[error("{}: {what}", path.display())]
    Input { path: PathBuf, what: String },
}

/// How the trust anchor was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedRoot {
    pub file: String,
    pub version: u64,
    /// `--trusted-root` was given (else: trust on first use of the lowest root that can be read).
    pub given: bool,
    pub sha256: String,
}

/// Everything `verify` found.
#[derive(Clone, Debug)]
pub struct Report {
    pub path: PathBuf,
    pub kind: FolderKind,
    pub naming: String,
    pub at: DateTime<Utc>,
    pub lenient: bool,
    pub clients: Clients,
    pub trusted: Option<TrustedRoot>,
    pub chain: Option<ChainReport>,
    pub roles: Vec<RoleReport>,
    pub absent: Vec<AbsentRole>,
    /// Files present but not verified, with why (older versions, roots older than the
    /// trusted one, files that are not metadata).
    pub not_checked: Vec<(String, String)>,
    pub evidence: Option<EvidenceReport>,
    pub attestations: Option<AttestationReport>,
    /// keyid → keyholder name and/or YubiKey serial.
    pub labels: BTreeMap<String, String>,
    /// Errors first, then warnings, then information; in check order within each.
    pub findings: Vec<AuditFinding>,
}

impl Report {
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.finding.severity == s).count()
    }
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }
    pub fn ok(&self) -> bool {
        self.errors() == 0
    }
    /// 0 when no check failed (warnings allowed), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.ok() { crate::error::exit::OK } else { crate::error::exit::FAILED }
    }
}

/// Re-signing windows `verify` uses: the plan defaults for offline roles (root, targets and
/// bins 60 days, other delegated roles 30), none for the online snapshot and timestamp.
pub fn window(role: &str) -> i64 {
    match role {
        "snapshot" | "timestamp" => 0,
        r => crate::ceremony::plan::default_window(r),
    }
}

struct Timer(Option<Instant>);

impl Timer {
    fn new() -> Self {
        Timer(std::env::var_os("TUF_CEREMONY_VERIFY_TIMINGS").map(|_| Instant::now()))
    }
    fn mark(&mut self, what: &str) {
        if let Some(t) = self.0 {
            eprintln!("verify timing: {what:<28} {:>8.3} s", t.elapsed().as_secs_f64());
            self.0 = Some(Instant::now());
        }
    }
}

fn push(out: &mut Vec<AuditFinding>, file: &str, f: Finding) {
    out.push(AuditFinding { file: file.to_string(), finding: f });
}

/// Files chosen for one role, and the others.
fn pick(entries: &[Entry], want: Option<u64>) -> (Option<&Entry>, Vec<&Entry>) {
    let chosen = match want {
        Some(v) => entries.iter().find(|e| e.version == Some(v)).or_else(|| entries.iter().find(|e| e.version.is_none())),
        None => entries.iter().rev().find(|e| e.version.is_some()).or_else(|| entries.iter().find(|e| e.version.is_none())),
    };
    let rest = entries.iter().filter(|e| Some(*e) != chosen).collect();
    (chosen, rest)
}

/// Why a file `pick` passed over is not checked: a copy of the chosen file (same bytes,
/// compared only when the lengths are equal), or another version.
fn passed_over(chosen: Option<&Entry>, e: &Entry, role: &str) -> (String, String) {
    let same = chosen.is_some_and(|c| {
        c.len == e.len && matches!((crate::util::fsx::read_large_in(&c.path), crate::util::fsx::read_large_in(&e.path)), (Ok(a), Ok(b)) if a == b)
    });
    let why = match chosen {
        Some(c) if same => format!("same bytes as {}", c.rel),
        _ => format!("another version of {role} is checked"),
    };
    (e.rel.clone(), why)
}

/// A load job for `e`; `listed` is what snapshot or timestamp say about the file (its
/// hashes are computed), `media` keeps every hash and canonical byte the evidence needs.
fn job<'a>(e: &Entry, listed: Option<&MetaFile>, media: bool) -> Job<'a> {
    let hashes: Vec<String> = listed.and_then(|m| m.hashes.as_ref()).map(|h| h.keys().cloned().collect()).unwrap_or_default();
    let mut j = Job::new(e.rel.clone(), e.path.clone(), e.len);
    j.sha256 = media || e.role == "root" || e.role == "snapshot" || hashes.iter().any(|h| h == "sha256");
    j.extra_hashes = hashes.into_iter().filter(|h| h != "sha256").collect();
    j.keep_canonical = media;
    j
}

/// A loaded file, sorted into usable or not, with findings for the latter.
struct Sorted {
    files: Vec<(Entry, MetadataFile)>,
    unreadable: Vec<Entry>,
    /// rel → sha256 of every file read.
    hashes: HashMap<String, String>,
}

fn sort_loaded(entries: Vec<&Entry>, loaded: Vec<Loaded>, lenient: bool, out: &mut Vec<AuditFinding>, sorted: &mut Sorted) {
    for (e, l) in entries.into_iter().zip(loaded) {
        match l {
            Loaded::Io { rel, message } => {
                push(out, &rel, Finding::error("unreadable", JsonPath::root(), format!("cannot read: {message}"), Clients::ALL));
                sorted.unreadable.push(e.clone());
            }
            Loaded::Unparsable { rel, path, message, sha256, .. } => {
                sorted.hashes.insert(rel.clone(), sha256);
                push(out, &rel, Finding::error("parse", path, format!("not readable as TUF metadata: {message}"), Clients::ALL));
                sorted.unreadable.push(e.clone());
            }
            Loaded::Ok(f) => {
                let f = *f;
                sorted.hashes.insert(f.file.clone(), f.hashes.get("sha256").cloned().unwrap_or_default());
                let legacy = f.rule_findings.as_ref().and_then(|v| v.iter().find(|x| x.code == "legacy-form").cloned());
                if let (Some(x), false) = (legacy, lenient) {
                    push(
                        out,
                        &f.file,
                        Finding::error(
                            "strict-parse",
                            x.path,
                            format!("{} — strict parsing refuses this legacy form (--lenient reads and reports it)", x.message),
                            x.rejected_by,
                        ),
                    );
                    sorted.unreadable.push(e.clone());
                    continue;
                }
                let type_ok = match e.role.as_str() {
                    "root" | "snapshot" | "timestamp" => f.md.signed.type_name() == e.role,
                    _ => f.md.signed.type_name() == "targets",
                };
                if !type_ok {
                    push(
                        out,
                        &f.file,
                        Finding::error(
                            "role-type",
                            JsonPath::root().key("signed").key("_type"),
                            format!("the file name says {} but it holds {} metadata", e.role, f.md.signed.type_name()),
                            Clients::ALL,
                        ),
                    );
                    sorted.unreadable.push(e.clone());
                    continue;
                }
                if let Some(v) = e.version.filter(|&v| v != f.md.version()) {
                    push(
                        out,
                        &f.file,
                        Finding::error(
                            "version-in-name",
                            JsonPath::root().key("signed").key("version"),
                            format!(
                                "the file name says version {v} but it holds version {}: clients fetch {v}.{}.json expecting version {v}",
                                f.md.version(),
                                e.role
                            ),
                            Clients::ALL,
                        ),
                    );
                }
                sorted.files.push((e.clone(), f));
            }
        }
    }
}

/// Loads the trusted root given with `--trusted-root` (errors here are exit 2).
fn load_trusted(p: &Path, inv: &Inventory) -> Result<(PathBuf, Vec<u8>, Metadata), VerifyError> {
    let candidates = [p.to_path_buf(), inv.metadata_dir.join(p), inv.metadata_dir.join("root_history").join(p), inv.dir.join(p)];
    // Whatever is at the first name found is read, so a FIFO or a folder gets its own
    // message; the path as given may be a link the auditor chose, a link inside the folder
    // is not followed.
    let (i, path) = candidates.iter().enumerate().find(|(i, c)| if *i == 0 { c.exists() } else { crate::util::fsx::occupied(c) }).ok_or_else(|| {
        VerifyError::Input { path: p.to_path_buf(), what: "--trusted-root: no such file (looked as given, and in the metadata folder)".into() }
    })?;
    let path = path.clone();
    let read = if i == 0 { crate::util::fsx::read_large(&path) } else { crate::util::fsx::read_large_in(&path) };
    let bytes = read.map_err(|e| VerifyError::Input { path: path.clone(), what: format!("--trusted-root: {e}") })?;
    let md = Metadata::from_bytes(&bytes, Mode::Lenient)
        .map_err(|e| VerifyError::Input { path: path.clone(), what: format!("--trusted-root is not TUF metadata: {e}") })?;
    if md.signed.as_root().is_none() {
        return Err(VerifyError::Input { path, what: format!("--trusted-root holds {} metadata, not a root", md.signed.type_name()) });
    }
    Ok((path, bytes, md))
}

/// Checks the folder at `path` (see the module documentation).
pub fn verify_path(path: &Path, o: &Options) -> Result<Report, VerifyError> {
    let mut t = Timer::new();
    let inv = layout::inventory(path)?;
    let current = match &o.current {
        Some(d) => Some(crate::ceremony::job::read_current(d).map_err(|what| VerifyError::Input { path: d.clone(), what: format!("--current: {what}") })?),
        None if update::needs_current(&inv) => {
            return Err(VerifyError::Input {
                path: inv.dir.clone(),
                what: "this media holds an update (new versions only: resign, claim or a root rotation), which cannot be checked alone: pass --current DIR, the metadata folder the update was made from".into(),
            });
        }
        None => None,
    };
    let attest_dir = match &o.attestations {
        Some(d) if !d.is_dir() => return Err(VerifyError::Input { path: d.clone(), what: "--attestations: not a folder".into() }),
        Some(d) => Some(d.clone()),
        None if inv.kind == FolderKind::CeremonyMedia && layout::real_dir(&inv.dir.join("keys")) => Some(inv.dir.join("keys")),
        None => None,
    };
    let trusted_given = o.trusted_root.as_deref().map(|p| load_trusted(p, &inv)).transpose()?;
    let threads = if o.threads == 0 { load::default_threads() } else { o.threads };
    let mut out: Vec<AuditFinding> = Vec::new();
    let mut not_checked: Vec<(String, String)> = inv.ignored.iter().map(|f| (f.clone(), "not a metadata file name".to_string())).collect();
    not_checked.extend(inv.os_files.iter().map(|f| (f.clone(), "written by an operating system that mounted the media".to_string())));
    for (name, what) in &inv.special {
        not_checked.push((name.clone(), format!("is {what}, not a regular file: never opened")));
        if inv.kind == FolderKind::Repository {
            push(
                &mut out,
                name,
                Finding::warning("special-file", JsonPath::root(), format!("is {what}, not a regular file: never opened, so not checked"), Clients::NONE),
            );
        }
    }
    for l in &inv.links {
        let name = l.split(" -> ").next().unwrap_or(l).to_string();
        not_checked.push((name.clone(), format!("a symbolic link ({l}): links are never followed")));
        // (On a ceremony's media the evidence check reports every link, as an error.)
        if inv.kind == FolderKind::Repository {
            push(
                &mut out,
                &name,
                Finding::warning("symlink", JsonPath::root(), format!("a symbolic link ({l}): not followed, so what it names is not checked"), Clients::NONE),
            );
        }
    }
    let mut sorted = Sorted { files: Vec::new(), unreadable: Vec::new(), hashes: HashMap::new() };
    let empty = Vec::new();
    let entries = |role: &str| inv.entries.get(role).unwrap_or(&empty);

    let media = inv.kind == FolderKind::CeremonyMedia;
    // Phase A: every root, and timestamp.
    let mut a: Vec<&Entry> = entries("root").iter().collect();
    let (ts, ts_rest) = pick(entries("timestamp"), None);
    a.extend(ts);
    not_checked.extend(ts_rest.iter().map(|e| passed_over(ts, e, "timestamp")));
    let loaded = load::load_all(&a.iter().map(|e| job(e, None, media)).collect::<Vec<_>>(), threads);
    sort_loaded(a, loaded, o.lenient, &mut out, &mut sorted);
    t.mark("load roots and timestamp");

    // Phase B: the snapshot timestamp lists (or the newest), then the targets it lists.
    let ts_meta = sorted.files.iter().find_map(|(_, f)| match &f.md.signed {
        Signed::Timestamp(t) => t.meta.get("snapshot.json").cloned(),
        _ => None,
    });
    let (snap, snap_rest) = pick(entries("snapshot"), ts_meta.as_ref().map(|m| m.version));
    not_checked.extend(snap_rest.iter().map(|e| passed_over(snap, e, "snapshot")));
    if let Some(s) = snap {
        let loaded = load::load_all(&[job(s, ts_meta.as_ref(), media)], 1);
        sort_loaded(vec![s], loaded, o.lenient, &mut out, &mut sorted);
    }
    let snap_meta = sorted.files.iter().find_map(|(_, f)| match &f.md.signed {
        Signed::Snapshot(s) => Some(s.meta.clone()),
        _ => None,
    });
    let listed = |role: &str| snap_meta.as_ref().and_then(|m| m.get(&format!("{role}.json")));
    let (tg, tg_rest) = pick(entries("targets"), listed("targets").map(|m| m.version));
    not_checked.extend(tg_rest.iter().map(|e| passed_over(tg, e, "targets")));
    if let Some(e) = tg {
        let loaded = load::load_all(&[job(e, listed("targets"), media)], 1);
        sort_loaded(vec![e], loaded, o.lenient, &mut out, &mut sorted);
    }
    t.mark("load snapshot and targets");

    // Phase C: every other role, at the version snapshot lists. The roles targets delegates
    // to are checked against it while they load (then their canonical bytes can go).
    let targets = sorted.files.iter().find(|(e, _)| e.role == "targets").and_then(|(_, f)| f.md.signed.as_targets());
    let delegations = targets.and_then(|t| t.delegations.as_ref());
    let mut c: Vec<&Entry> = Vec::new();
    let mut c_jobs = Vec::new();
    for (role, es) in &inv.entries {
        if matches!(role.as_str(), "root" | "timestamp" | "snapshot" | "targets") {
            continue;
        }
        let (chosen, rest) = pick(es, listed(role).map(|m| m.version));
        not_checked.extend(rest.iter().map(|e| passed_over(chosen, e, role)));
        if let Some(e) = chosen {
            let mut j = job(e, listed(role), media);
            j.precheck = delegations.and_then(|d| {
                let (keyids, threshold) = super::set::delegation_of(targets?, role)?;
                Some(Precheck { by: "targets", keyids, threshold, keys: &d.keys, lenient: o.lenient })
            });
            c_jobs.push(j);
            c.push(e);
        }
    }
    let loaded = load::load_all(&c_jobs, threads);
    drop(c_jobs);
    sort_loaded(c, loaded, o.lenient, &mut out, &mut sorted);
    t.mark("load other roles");

    // The set, with the trust anchor.
    let mut set = MetadataSet::default();
    let mut root_copies: Vec<MetadataFile> = Vec::new();
    for (e, f) in std::mem::take(&mut sorted.files) {
        match (e.role.as_str(), e.version) {
            ("root", Some(v)) => match set.roots.get(&v) {
                // The same version twice (metadata/ and root_history/): must be the same bytes.
                Some(other) if other.hashes.get("sha256") != f.hashes.get("sha256") => {
                    push(
                        &mut out,
                        &f.file,
                        Finding::error(
                            "root-copy-differs",
                            JsonPath::root(),
                            format!("differs from {}, which holds the same root version {v}", other.file),
                            Clients::ALL,
                        ),
                    );
                }
                Some(_) => not_checked.push((f.file.clone(), format!("same bytes as {}", set.roots[&v].file))),
                None => {
                    set.roots.insert(v, f);
                }
            },
            ("root", None) => root_copies.push(f),
            _ => {
                set.roles.insert(e.role.clone(), f);
            }
        }
    }
    for e in std::mem::take(&mut sorted.unreadable) {
        match (e.role.as_str(), e.version) {
            ("root", Some(v)) => {
                set.unreadable_roots.insert(v, e.rel.clone());
            }
            ("root", None) => {}
            _ => {
                set.unreadable_roles.insert(e.role.clone(), e.rel.clone());
            }
        }
    }
    // An unversioned root.json: a copy of a versioned root, or a version of its own.
    for f in root_copies {
        let v = f.md.version();
        let newest = set.roots.keys().next_back().copied();
        match set.roots.get(&v) {
            Some(other) if other.hashes.get("sha256") != f.hashes.get("sha256") => {
                push(
                    &mut out,
                    &f.file,
                    Finding::error("root-copy-differs", JsonPath::root(), format!("holds root version {v} but differs from {}", other.file), Clients::ALL),
                );
            }
            Some(other) => not_checked.push((f.file.clone(), format!("same bytes as {}", other.file))),
            None => {
                set.roots.insert(v, f);
            }
        }
        if let Some(n) = newest.filter(|&n| n > v) {
            push(
                &mut out,
                &format!("{}root.json", inv.prefix),
                Finding::warning("root-json-stale", JsonPath::root(), format!("root.json holds version {v}, but version {n} is the newest"), Clients::NONE),
            );
        }
    }

    // An update's new versions, completed by the metadata they were made from.
    if let Some(cur) = &current {
        let updated = update::merge_current(&mut set, cur);
        update::check_updates(&set, &updated, &mut out);
    }

    let trusted = match trusted_given {
        Some((p, bytes, md)) => {
            let v = md.version();
            let sha = sha256_hex(&bytes);
            let name = p.display().to_string();
            let legacy = !o.lenient && !crate::tuf::metadata::strictness_issues(&md).is_empty();
            match set.roots.get(&v) {
                Some(f) if f.hashes.get("sha256") == Some(&sha) => {}
                Some(f) => {
                    push(
                        &mut out,
                        &f.file,
                        Finding::error(
                            "trusted-root-differs",
                            JsonPath::root(),
                            format!("the folder's root v{v} differs from the trusted root {name}: it is not the root you trust"),
                            Clients::ALL,
                        ),
                    );
                    set.roots.insert(v, MetadataFile::new(name.clone(), bytes, md));
                }
                None => {
                    let folder_copy = set.unreadable_roots.get(&v).cloned();
                    let same = folder_copy.as_ref().is_some_and(|rel| sorted.hashes.get(rel) == Some(&sha));
                    if let (Some(rel), false) = (&folder_copy, same) {
                        push(
                            &mut out,
                            rel,
                            Finding::error(
                                "trusted-root-differs",
                                JsonPath::root(),
                                format!("the folder's root v{v} differs from the trusted root {name}: it is not the root you trust"),
                                Clients::ALL,
                            ),
                        );
                    }
                    if legacy {
                        if !same {
                            let first = crate::tuf::metadata::strictness_issues(&md).remove(0);
                            push(
                                &mut out,
                                &name,
                                Finding::error(
                                    "strict-parse",
                                    first.0,
                                    format!("{} — strict parsing refuses this legacy form (--lenient reads and reports it)", first.1),
                                    Clients::ALL,
                                ),
                            );
                            set.unreadable_roots.insert(v, name.clone());
                        }
                    } else {
                        set.unreadable_roots.remove(&v);
                        set.roots.insert(v, MetadataFile::new(name.clone(), bytes, md));
                    }
                }
            }
            Some(TrustedRoot {
                file: set.roots.get(&v).map(|f| f.file.clone()).or_else(|| set.unreadable_roots.get(&v).cloned()).unwrap_or(name),
                version: v,
                given: true,
                sha256: sha,
            })
        }
        None => {
            // Trust on first use of the lowest root that can be read: older ones that cannot
            // (legacy forms, strict mode) are named, not a dead end.
            let lowest_any = set.roots.keys().chain(set.unreadable_roots.keys()).min().copied();
            let first = set.roots.keys().next().copied().or(lowest_any);
            if let (Some(f), Some(l)) = (first, lowest_any)
                && f > l
            {
                let older: Vec<String> = set.unreadable_roots.range(..f).map(|(v, _)| format!("v{v}")).collect();
                push(
                    &mut out,
                    &set.roots[&f].file,
                    Finding::warning(
                        "trust-on-first-use",
                        JsonPath::root(),
                        format!(
                            "the older roots ({}) cannot be read{}, so the lowest root that can, v{f}, is trusted on first use; pass --trusted-root to choose the anchor{}",
                            older.join(", "),
                            if o.lenient { "" } else { " strictly" },
                            if o.lenient { "" } else { ", or --lenient to read their legacy forms" }
                        ),
                        Clients::NONE,
                    ),
                );
            }
            first.map(|v| {
                let file = set.roots.get(&v).map(|f| f.file.clone()).or_else(|| set.unreadable_roots.get(&v).cloned()).unwrap_or_default();
                let sha = set.roots.get(&v).and_then(|f| f.hashes.get("sha256").cloned()).or_else(|| sorted.hashes.get(&file).cloned()).unwrap_or_default();
                TrustedRoot { file, version: v, given: false, sha256: sha }
            })
        }
    };
    if let Some(tr) = &trusted {
        if !tr.given {
            push(
                &mut out,
                &tr.file,
                Finding::info(
                    "trust-on-first-use",
                    JsonPath::root(),
                    format!("no --trusted-root: trusting the lowest root that can be read (v{}, sha256 {}) on first use", tr.version, tr.sha256),
                ),
            );
        }
        // Roots older than the anchor are not part of what is verified.
        let older: Vec<u64> = set.roots.range(..tr.version).map(|(v, _)| *v).chain(set.unreadable_roots.range(..tr.version).map(|(v, _)| *v)).collect();
        for v in older {
            if let Some(f) = set.roots.remove(&v) {
                not_checked.push((f.file, format!("older than the trusted root v{}", tr.version)));
            }
            if let Some(f) = set.unreadable_roots.remove(&v) {
                not_checked.push((f.clone(), format!("older than the trusted root v{}", tr.version)));
                // Its parse finding is moot: it is not part of the chain.
                out.retain(|x| x.file != f);
            }
        }
    }

    let win = window;
    let set_report =
        audit_set(&set, &SetOptions { trusted: trusted.as_ref().map(|t| t.version), at: o.at, lenient: o.lenient, clients: o.clients, windows: &win });
    t.mark("check set");
    out.extend(set_report.findings);
    // Role files no delegation reaches: no client fetches them, so what the loader said
    // about them (unreadable, say) decides nothing; each is listed as not checked.
    let unreached: BTreeMap<String, String> = set_report.unreached.iter().cloned().collect();
    for x in out.iter_mut().filter(|x| unreached.contains_key(&x.file) && x.finding.severity != Severity::Info) {
        x.finding.severity = Severity::Info;
        x.finding.message = format!("{} (no delegation reaches this role, so no client reads this file)", x.finding.message);
    }
    for (file, role) in &unreached {
        not_checked.push((file.clone(), format!("no delegation reaches {role}: clients never fetch it")));
    }

    // Ceremony evidence and keyholders.
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    let mut holders: Vec<HolderKey> = Vec::new();
    let mut evidence_rep = None;
    if inv.kind == FolderKind::CeremonyMedia {
        let rep = evidence::check(&inv, &sorted.hashes, &mut out);
        holders = evidence::holder_keys(&inv.dir, &mut out);
        if let Some(tr) = &rep.transcript {
            cross_check_transcript(tr, &holders, &set, &mut out);
        }
        evidence_rep = Some(rep);
        t.mark("evidence");
    }
    let recorded = evidence_rep.as_ref().and_then(|e| e.transcript.as_ref()).map(|t| t.keys.clone()).unwrap_or_default();
    for h in &holders {
        labels.insert(h.keyid.clone(), h.keyholder.clone());
    }
    for k in &recorded {
        let name = labels.entry(k.keyid.clone()).or_insert_with(|| k.keyholder.clone());
        if let Some(s) = &k.serial {
            *name = format!("{name} (serial {s})");
        }
    }

    // Attestations.
    let newest = set_report.chain.as_ref().and_then(|c| c.newest()).and_then(|v| set.roots.get(&v));
    let attestations = match (&attest_dir, newest) {
        (Some(dir), Some(newest)) => {
            let base = if dir.starts_with(&inv.dir) { inv.dir.clone() } else { dir.parent().map(Path::to_path_buf).unwrap_or_default() };
            let source = dir.strip_prefix(&base).unwrap_or(dir).display().to_string();
            let ctx = bind_context(&set, set_report.chain.as_ref(), newest, &holders, &recorded, source.clone());
            let rep = match attestations::gather(dir, &base, o.at) {
                Ok(results) => attestations::check(&results, &ctx, &mut out),
                Err(e) => {
                    push(&mut out, &source, Finding::error("attest-io", JsonPath::root(), e, Clients::NONE));
                    AttestationReport { source, ..Default::default() }
                }
            };
            for (id, serial) in attestations::serial_labels(&rep) {
                labels
                    .entry(id)
                    .and_modify(|l| {
                        if !l.contains("serial") {
                            *l = format!("{l} ({serial})")
                        }
                    })
                    .or_insert(serial);
            }
            t.mark("attestations");
            Some(rep)
        }
        _ => None,
    };

    // Freeing the model of a 48 MB role takes tens of milliseconds: off the caller's path.
    if set.roles.values().chain(set.roots.values()).map(|f| f.length).sum::<u64>() > 8 << 20 {
        // (Where no thread can be started, the closure and the set are dropped right here.)
        let _ = std::thread::Builder::new().spawn(move || drop(set));
    }
    out.sort_by_key(|f| f.finding.severity);
    not_checked.sort();
    Ok(Report {
        path: inv.dir.clone(),
        kind: inv.kind,
        naming: inv.naming.clone(),
        at: o.at,
        lenient: o.lenient,
        clients: o.clients,
        trusted,
        chain: set_report.chain,
        roles: set_report.roles,
        absent: set_report.absent,
        not_checked,
        evidence: evidence_rep,
        attestations,
        labels,
        findings: out,
    })
}

/// What attestations are bound to: keys of every verified root and of targets'
/// delegations (the offline roles), the recorded keyholders, and the offline keys.
fn bind_context(
    set: &MetadataSet,
    chain: Option<&ChainReport>,
    newest: &MetadataFile,
    holders: &[HolderKey],
    recorded: &[evidence::RecordedKey],
    source: String,
) -> BindContext {
    let mut metadata_keys = BTreeMap::new();
    let mut key_files = BTreeMap::new();
    for v in chain.map(|c| c.verified.clone()).unwrap_or_default() {
        if let Some((f, r)) = set.roots.get(&v).and_then(|f| f.md.signed.as_root().map(|r| (f, r))) {
            metadata_keys.extend(crate::attest::decode_keys(&r.keys, true));
            key_files.extend(r.keys.keys().map(|id| (id.clone(), f.file.clone())));
        }
    }
    let mut delegation_keyids = std::collections::BTreeSet::new();
    if let Some((f, d)) = set.roles.get("targets").and_then(|f| f.md.signed.as_targets().and_then(|t| t.delegations.as_ref()).map(|d| (f, d)))
        && d.keys.len() <= 1024
    {
        for (id, key) in crate::attest::decode_keys(&d.keys, true) {
            if let std::collections::btree_map::Entry::Vacant(slot) = metadata_keys.entry(id.clone()) {
                slot.insert(key);
                key_files.insert(id.clone(), f.file.clone());
                delegation_keyids.insert(id);
            }
        }
    }
    let mut offline: Vec<String> = Vec::new();
    if let Some(r) = newest.md.signed.as_root() {
        for role in ["root", "targets"] {
            for id in r.roles.get(role).map(|x| x.keyids.as_slice()).unwrap_or_default() {
                if !offline.contains(id) {
                    offline.push(id.clone());
                }
            }
        }
    }
    let mut hs: Vec<Holder> = Vec::new();
    for h in holders {
        let serial = recorded.iter().find(|r| r.keyholder == h.keyholder).and_then(|r| r.serial.as_deref()).and_then(|s| s.parse().ok());
        hs.push(Holder { name: h.keyholder.clone(), serial, keyid: Some(h.keyid.clone()) });
        if metadata_keys.contains_key(&h.keyid) && !offline.contains(&h.keyid) {
            offline.push(h.keyid.clone());
        }
    }
    for r in recorded {
        if !hs.iter().any(|h| h.name == r.keyholder) {
            hs.push(Holder { name: r.keyholder.clone(), serial: r.serial.as_deref().and_then(|s| s.parse().ok()), keyid: Some(r.keyid.clone()) });
        }
    }
    BindContext { metadata_keys, holders: hs, offline_keyids: offline, key_file: newest.file.clone(), key_files, delegation_keyids, source }
}

/// The transcript against the keys and metadata on the media: each keyholder's exported key
/// is the key the transcript recorded; every recorded signature is in the exported file;
/// every role's last build is what was exported.
fn cross_check_transcript(t: &evidence::TranscriptReport, holders: &[HolderKey], set: &MetadataSet, out: &mut Vec<AuditFinding>) {
    for h in holders {
        match t.keys.iter().find(|k| k.keyholder == h.keyholder) {
            Some(k) if k.keyid != h.keyid => push(
                out,
                &h.file,
                Finding::error(
                    "keyholder-key-mismatch",
                    JsonPath::root(),
                    format!("{}'s key here has keyid {}, but the transcript recorded {}", h.keyholder, h.keyid, k.keyid),
                    Clients::NONE,
                ),
            ),
            None => push(
                out,
                &h.file,
                Finding::warning("keyholder-unrecorded", JsonPath::root(), format!("the transcript records no key for {}", h.keyholder), Clients::NONE),
            ),
            _ => {}
        }
    }
    // The media's own files (not those `--current` completes the set with).
    let file_of = |role: &str| -> Option<&MetadataFile> {
        if role == "root" { set.roots.values().next_back() } else { set.roles.get(role) }.filter(|f| !f.file.starts_with(update::CURRENT_PREFIX))
    };
    let mut last: BTreeMap<(&str, &str), &evidence::RecordedSignature> = BTreeMap::new();
    for s in &t.signatures {
        last.insert((s.role.as_str(), s.keyid.as_str()), s);
    }
    for ((role, keyid), s) in last {
        let Some(f) = file_of(role) else { continue };
        let canon = sha256_hex(&f.canonical);
        if s.canonical_sha256 != canon {
            push(
                out,
                &f.file,
                Finding::warning(
                    "transcript-signed-other",
                    JsonPath::root().key("signed"),
                    format!(
                        "transcript line {} records {} signing {role} content with sha256 {}, but this file's signed content has {canon}",
                        s.line + 1,
                        s.keyholder,
                        s.canonical_sha256
                    ),
                    Clients::NONE,
                ),
            );
            continue;
        }
        match f.md.signatures.iter().position(|x| x.keyid == keyid) {
            Some(i) if f.md.signatures[i].sig == s.sig => {}
            Some(i) => push(
                out,
                &f.file,
                Finding::warning(
                    "transcript-signature-differs",
                    JsonPath::root().key("signatures").index(i),
                    format!("the signature by {} ({keyid}) differs from the one transcript line {} records", s.keyholder, s.line + 1),
                    Clients::NONE,
                ),
            ),
            None => push(
                out,
                &f.file,
                Finding::warning(
                    "transcript-signature-missing",
                    JsonPath::root().key("signatures"),
                    format!("transcript line {} records a signature by {} ({keyid}) that this file does not hold", s.line + 1, s.keyholder),
                    Clients::NONE,
                ),
            ),
        }
    }
    for (role, canon) in &t.builds {
        if let Some(f) = file_of(role) {
            let got = sha256_hex(&f.canonical);
            if &got != canon {
                push(
                    out,
                    &f.file,
                    Finding::error(
                        "transcript-build-differs",
                        JsonPath::root().key("signed"),
                        format!("the transcript's last build of {role} has canonical sha256 {canon}, this file {got}: it is not what the ceremony built"),
                        Clients::NONE,
                    ),
                );
            }
        }
    }
    // And every metadata file on the media was built by the ceremony.
    let media = set.roots.values().map(|f| ("root", f)).chain(set.roles.iter().map(|(r, f)| (r.as_str(), f)));
    for (role, f) in media.filter(|(_, f)| !f.file.starts_with(update::CURRENT_PREFIX)) {
        if !t.builds.contains_key(role) {
            push(
                out,
                &f.file,
                Finding::error(
                    "transcript-build-missing",
                    JsonPath::root(),
                    format!("the transcript records no build of {}: the ceremony did not make this file", one_line(role)),
                    Clients::NONE,
                ),
            );
        }
    }
}
