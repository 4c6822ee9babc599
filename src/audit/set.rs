//! Checks over a set of metadata files (one repository or one ceremony's output): the root
//! chain from a trusted root, the top-level roles against the newest root, snapshot and
//! timestamp against the files they describe, every delegated role against its delegator
//! (recursively, with cycles, hashed-bin coverage and target paths), expiry and re-signing
//! windows, and the writer rules of tuf-format.md §7 on every file.
//!
//! # Severity policy (one rule, used by the ceremony before export and by `verify`)
//!
//! * Verification failures are errors whatever the clients: a threshold not met, a
//!   signature by a listed key that does not verify, a root version that is not exactly
//!   N+1, the same key under two keyids, a role file whose version, length or hashes differ
//!   from what snapshot or timestamp say, expired metadata, a delegation cycle, hashed bins
//!   that do not cover every prefix exactly once.
//! * A writer-rule finding (tuf-format.md §7; [`rules::check`]) names the clients that
//!   reject the file. It is an error exactly when a client in `clients` rejects it, else a
//!   warning: the same finding never turns from warning to error because another client is
//!   selected or not. On a *superseded* root (older than the newest root of the verified
//!   chain) the message says so: a client whose trusted root is older walks through it and
//!   fails there (Sigstore's root v11, whose key `7247f0db…` has a keyid tough 0.19 refuses,
//!   is the real example: `--clients python-tuf,go-tuf` passes, tough's verdict fails).
//! * Legacy forms (offset or fractional `expires`, hex ECDSA keys, missing
//!   `terminating`/`consistent_snapshot`, unsafe unknown fields) make a file unreadable in
//!   strict mode (an error, reported by whoever loaded the file); with `lenient` they are
//!   read, and follow the rule above: `--lenient` never overrides `--clients`, so a chain
//!   python-tuf cannot load fails `--clients python-tuf`, lenient or not.

use crate::tuf::bins::{path_hash, succinct_role_names};
use crate::tuf::encode::canonical_sized;
use crate::tuf::finding::{Clients, Finding, Severity};
use crate::tuf::json::JsonPath;
use crate::tuf::keys::{PublicKey, keyless_identity, sha256_hex};
use crate::tuf::metadata::{DelegatedRole, DelegatedRoles, Key, MetaFile, Metadata, PathSpec, Root, Signed, Targets};
use crate::tuf::rules::{self, MAX_EXPIRY_DAYS};
use crate::tuf::verify::{KeyOutcome, ThresholdCheck, check_root_rotation, check_threshold, check_top_level};
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// One parsed metadata file.
pub struct MetadataFile {
    /// The name reports use (relative to the folder checked, e.g. `metadata/1.root.json`).
    pub file: String,
    /// The file bytes. Empty when the loader dropped them after hashing and checking (large
    /// roles): `length` and `hashes` describe them.
    pub bytes: Vec<u8>,
    pub md: Metadata,
    /// Canonical bytes of `signed` (computed once; large roles are expensive).
    pub canonical: Vec<u8>,
    /// Length of the file bytes.
    pub length: u64,
    /// Lowercase hex digests of the file bytes by algorithm (always `sha256`; others when
    /// snapshot or timestamp list them and the loader knew in time).
    pub hashes: BTreeMap<String, String>,
    /// Writer-rule findings, when the loader already computed them (else computed here).
    pub rule_findings: Option<Vec<Finding>>,
    /// The signature check against a delegator, when the loader already did it (large
    /// delegated roles are checked on the loading thread, after which `canonical` may be
    /// dropped): the delegating role's name, and the result.
    pub prechecked: Option<(String, ThresholdCheck)>,
}

impl MetadataFile {
    pub fn new(file: String, bytes: Vec<u8>, md: Metadata) -> Self {
        let canonical = canonical_sized(&md.signed, bytes.len());
        let hashes = BTreeMap::from([("sha256".to_string(), sha256_hex(&bytes))]);
        MetadataFile { file, length: bytes.len() as u64, hashes, bytes, md, canonical, rule_findings: None, prechecked: None }
    }

    /// Every writer-rule finding for this file (the file-size rules need `bytes`).
    pub fn compute_rule_findings(&self) -> Vec<Finding> {
        let mut v = rules::check(&self.md, &self.canonical);
        if !self.bytes.is_empty() {
            v.extend(rules::check_file_bytes(&self.md, &self.bytes));
        }
        v
    }
}

/// The files of one repository: every root version, and the current file of each other role.
#[derive(Default)]
pub struct MetadataSet {
    pub roots: BTreeMap<u64, MetadataFile>,
    pub roles: BTreeMap<String, MetadataFile>,
    /// Root versions present but unreadable (file name); whoever loaded them reported why.
    pub unreadable_roots: BTreeMap<u64, String>,
    /// Roles present but unreadable (role → file name); reported by whoever loaded them.
    pub unreadable_roles: BTreeMap<String, String>,
}

/// A finding with the file it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditFinding {
    pub file: String,
    pub finding: Finding,
}

/// What was verified for one role file.
#[derive(Clone, Debug)]
pub struct RoleReport {
    pub role: String,
    pub file: String,
    pub version: u64,
    pub expires: String,
    pub days_left: i64,
    /// Who the signatures were checked against ("root v5", "targets", …).
    pub checked_by: String,
    /// The role's own threshold check (for a root: against its own root role).
    pub check: Option<ThresholdCheck>,
    /// Roots after the trusted one: the check against the previous root's root role.
    pub by_previous: Option<ThresholdCheck>,
    /// The re-signing window used for the expiry warning, in days.
    pub window_days: i64,
    /// A root older than the newest root of the verified chain (its expiry does not matter).
    pub superseded: bool,
}

/// A role that a root or delegator names but whose file is not in the set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbsentRole {
    pub role: String,
    /// "root" for the top-level roles, else the delegating role.
    pub named_by: String,
}

/// The root chain as verified.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainReport {
    pub trusted: u64,
    /// Root versions that verified, in order (starts with `trusted`).
    pub verified: Vec<u64>,
    /// The first version that failed (or was missing while later ones exist).
    pub broken_at: Option<u64>,
}

impl ChainReport {
    pub fn newest(&self) -> Option<u64> {
        self.verified.last().copied()
    }
}

#[derive(Default)]
pub struct SetReport {
    pub roles: Vec<RoleReport>,
    pub findings: Vec<AuditFinding>,
    pub absent: Vec<AbsentRole>,
    pub chain: Option<ChainReport>,
    /// Role files no delegation reaches, as (file, role): clients never fetch them, so
    /// they are not checked and decide nothing.
    pub unreached: Vec<(String, String)>,
}

impl SetReport {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.finding.severity == Severity::Error).count()
    }
}

/// How to check a set.
pub struct SetOptions<'a> {
    /// Version of the trusted root (default: the lowest present).
    pub trusted: Option<u64>,
    pub at: DateTime<Utc>,
    /// Read legacy forms (then reported as warnings).
    pub lenient: bool,
    /// The clients the metadata must work for.
    pub clients: Clients,
    /// Each role's re-signing window in days.
    pub windows: &'a dyn Fn(&str) -> i64,
}

/// Verifies `set` with the root of version `trusted` (default: the lowest present) as the
/// trust anchor, at time `at`. `windows` gives each role's re-signing window in days.
pub fn check_set(set: &MetadataSet, trusted: Option<u64>, at: DateTime<Utc>, lenient: bool, clients: Clients, windows: &dyn Fn(&str) -> i64) -> SetReport {
    audit_set(set, &SetOptions { trusted, at, lenient, clients, windows })
}

fn sig_path(md: &Metadata, keyid: &str) -> JsonPath {
    match md.signatures.iter().position(|s| s.keyid == keyid) {
        Some(i) => JsonPath::root().key("signatures").index(i),
        None => JsonPath::root().key("signatures"),
    }
}

fn expires_path() -> JsonPath {
    JsonPath::root().key("signed").key("expires")
}

fn version_path() -> JsonPath {
    JsonPath::root().key("signed").key("version")
}

/// Collects findings for one set.
struct Out {
    findings: Vec<AuditFinding>,
    clients: Clients,
}

impl Out {
    fn push(&mut self, file: &str, f: Finding) {
        self.findings.push(AuditFinding { file: file.to_string(), finding: f });
    }

    /// An expiry more than ten years after `now`: no client refuses it, but a key that
    /// signs for that long cannot be revoked by letting it expire (a typo, or an attempt
    /// to make a role outlive its keys).
    fn far_future(&mut self, file: &str, name: &str, expires: DateTime<Utc>, now: DateTime<Utc>) {
        if now.checked_add_signed(chrono::Duration::days(MAX_EXPIRY_DAYS)).is_some_and(|limit| expires > limit) {
            self.push(
                file,
                Finding::warning(
                    "expires-far",
                    expires_path(),
                    format!(
                        "{name} expires more than ten years ahead ({}); the tool writes at most {MAX_EXPIRY_DAYS} days",
                        expires.format("%Y-%m-%dT%H:%M:%SZ")
                    ),
                    Clients::NONE,
                ),
            );
        }
    }

    /// Findings of one threshold check: `what` says which check it was.
    fn threshold(&mut self, file: &str, md: &Metadata, what: &str, c: &ThresholdCheck) {
        let offline = match c.undecidable() {
            0 => String::new(),
            1 => "; 1 signature by a keyless Sigstore signer cannot be checked offline".to_string(),
            n => format!("; {n} signatures by keyless Sigstore signers cannot be checked offline"),
        };
        if c.undecidable_offline() {
            // Neither met nor refused: only an online check (Fulcio, Rekor) could decide.
            self.push(
                file,
                Finding::error(
                    "threshold-offline",
                    JsonPath::root().key("signatures"),
                    format!("{what}: {} valid of threshold {}{offline}, so whether the threshold is met cannot be decided offline", c.valid(), c.threshold),
                    Clients::NONE,
                ),
            );
        } else if !c.met() {
            self.push(
                file,
                Finding::error(
                    "threshold",
                    JsonPath::root().key("signatures"),
                    format!("{what}: {} of {} required valid signatures{offline}", c.valid(), c.threshold),
                    Clients::ALL,
                ),
            );
        } else {
            let odd = c.keys.iter().filter(|(_, o)| *o == KeyOutcome::ValidOddSalt).count() as u64;
            if odd > 0 && c.valid() - odd < c.threshold && self.clients.tough {
                self.push(
                    file,
                    Finding::error(
                        "threshold-tough",
                        JsonPath::root().key("signatures"),
                        format!("{what}: only {} of {} required signatures count for tough (RSA-PSS salt length other than 32)", c.valid() - odd, c.threshold),
                        Clients::TOUGH,
                    ),
                );
            }
        }
        for (id, o) in &c.keys {
            match o {
                KeyOutcome::KeyMissing => self.push(
                    file,
                    Finding::warning(
                        "keyid-unknown",
                        JsonPath::root().key("signatures"),
                        format!("{what}: keyid {id} is not in the delegator's keys (go-tuf refuses the role)"),
                        Clients::GO,
                    ),
                ),
                KeyOutcome::ValidOddSalt => self.push(
                    file,
                    Finding::warning(
                        "rsa-salt",
                        sig_path(md, id),
                        format!("{what}: RSA-PSS signature by {id} uses a salt length other than 32 (tough refuses it)"),
                        Clients::TOUGH,
                    ),
                ),
                KeyOutcome::Invalid => self.push(
                    file,
                    Finding::error(
                        "bad-signature",
                        sig_path(md, id).key("sig"),
                        format!("{what}: the signature by {id} does not verify: the file was changed after signing, or signed over other content"),
                        Clients::NONE,
                    ),
                ),
                KeyOutcome::Malformed => self.push(
                    file,
                    Finding::error(
                        "bad-signature",
                        sig_path(md, id).key("sig"),
                        format!("{what}: the signature by {id} is malformed: not a signature in the encoding its key type uses (hex of a DER ECDSA signature, of 64 Ed25519 bytes, of an RSA block)"),
                        Clients::NONE,
                    ),
                ),
                KeyOutcome::KeyUnusable(e) => {
                    self.push(file, Finding::warning("key-unusable", sig_path(md, id), format!("{what}: key {id} cannot be used: {e}"), Clients::NONE))
                }
                // Reported with the threshold when it decides it; else it does not matter.
                KeyOutcome::Valid | KeyOutcome::Unsigned | KeyOutcome::Undecidable => {}
            }
        }
    }

    /// Signatures whose keyid no check looked at (`foreign` in every check given).
    fn unknown_signers(&mut self, file: &str, md: &Metadata, checks: &[&ThresholdCheck]) {
        for s in &md.signatures {
            if !s.sig.is_empty() && checks.iter().all(|c| c.foreign_signatures.contains(&s.keyid)) {
                self.push(
                    file,
                    Finding::warning(
                        "signature-unknown-key",
                        sig_path(md, &s.keyid).key("keyid"),
                        format!("signature by keyid {} is not by a key of this role (ignored by every client)", s.keyid),
                        Clients::NONE,
                    ),
                );
            }
        }
    }

    /// The trusted root's signatures by keys it does not list: normally the keys of the root
    /// before it (a rotation), which is not being checked.
    fn anchor_foreign_signers(&mut self, file: &str, md: &Metadata, c: &ThresholdCheck) {
        let ids: Vec<&str> = md.signatures.iter().filter(|s| !s.sig.is_empty() && c.foreign_signatures.contains(&s.keyid)).map(|s| s.keyid.as_str()).collect();
        if !ids.is_empty() {
            self.push(
                file,
                Finding::info(
                    "signature-earlier-key",
                    JsonPath::root().key("signatures"),
                    format!(
                        "{} signatures by keys this root does not list (an earlier root's, not checked): {}",
                        ids.len(),
                        ids.iter().map(|i| crate::util::text::prefix(i, 16)).collect::<Vec<_>>().join(", ")
                    ),
                ),
            );
        }
    }

    /// The same public key listed under two keyids: python-tuf and tough count it twice.
    #[allow(clippy::too_many_arguments)]
    fn distinct_keys(
        &mut self,
        file: &str,
        p: JsonPath,
        role: &str,
        keyids: &[String],
        threshold: u64,
        keys: &BTreeMap<String, Key>,
        check: Option<&ThresholdCheck>,
        lenient: bool,
    ) {
        let mut by_material: HashMap<String, &str> = HashMap::new();
        let mut dup: Vec<(String, String)> = Vec::new();
        for id in keyids {
            let Some(k) = keys.get(id) else { continue };
            let material = match (PublicKey::from_key(k, lenient), keyless_identity(k)) {
                (Ok(pk), _) => pk.to_pem(),
                // A keyless signer is its identity at its issuer.
                (Err(_), Some((identity, issuer))) => format!("keyless {identity} {issuer}"),
                (Err(_), None) => k.public.trim().to_ascii_lowercase(),
            };
            if let Some(first) = by_material.insert(material.clone(), id.as_str()) {
                dup.push((first.to_string(), id.clone()));
                by_material.insert(material, first);
            }
        }
        for (a, b) in &dup {
            self.push(
                file,
                Finding::error(
                    "duplicate-key",
                    p.clone(),
                    format!("{role}: keyids {a} and {b} are the same public key: python-tuf and tough count it twice toward the threshold, go-tuf once"),
                    Clients::NONE,
                ),
            );
        }
        if let (Some(c), false) = (check, dup.is_empty()) {
            let dupes: HashSet<&str> = dup.iter().map(|(_, b)| b.as_str()).collect();
            let distinct = c.valid_keyids().filter(|id| !dupes.contains(id)).count() as u64;
            if c.met() && distinct < threshold {
                self.push(
                    file,
                    Finding::error(
                        "threshold-distinct",
                        JsonPath::root().key("signatures"),
                        format!("{role}: only {distinct} distinct keys signed, threshold {threshold}"),
                        Clients::GO,
                    ),
                );
            }
        }
    }
}

fn role_threshold_keys<'a>(root: &'a Root, role: &str) -> Option<(&'a [String], u64)> {
    root.roles.get(role).map(|r| (r.keyids.as_slice(), r.threshold))
}

/// The severity policy for writer-rule findings (see the module documentation).
pub fn rule_severity(f: Finding, superseded: bool, clients: Clients) -> Finding {
    if f.severity != Severity::Error {
        return f;
    }
    let f = if superseded {
        let message = format!("{} (superseded root: published history; clients whose trusted root is older walk through it)", f.message);
        Finding { message, ..f }
    } else {
        f
    };
    if f.rejected_by.intersects(clients) { f } else { Finding { severity: Severity::Warning, ..f } }
}

/// The full check; `check_set` is this with positional options.
pub fn audit_set(set: &MetadataSet, o: &SetOptions) -> SetReport {
    let mut out = Out { findings: Vec::new(), clients: o.clients };
    let mut report = SetReport::default();
    let expiry = |md: &Metadata| {
        let e = md.signed.header().expires.at();
        (md.signed.header().expires.as_str().to_string(), (e - o.at).num_seconds().div_euclid(86_400), e)
    };

    // 1. The root chain.
    let versions: BTreeSet<u64> = set.roots.keys().chain(set.unreadable_roots.keys()).copied().collect();
    let first = o.trusted.or_else(|| versions.first().copied());
    let mut newest: Option<&MetadataFile> = None;
    match first {
        None => out.push("(folder)", Finding::error("no-root", JsonPath::root(), "no root metadata found: nothing can be verified", Clients::ALL)),
        Some(first) if set.unreadable_roots.contains_key(&first) => {
            let file = &set.unreadable_roots[&first];
            out.push(
                file,
                Finding::error("root-chain", JsonPath::root(), format!("the trusted root (v{first}) cannot be read, so nothing can be verified"), Clients::ALL),
            );
            report.chain = Some(ChainReport { trusted: first, verified: Vec::new(), broken_at: Some(first) });
        }
        Some(first) => match set.roots.get(&first).filter(|f| f.md.signed.as_root().is_some()) {
            None => out.push("(folder)", Finding::error("no-root", JsonPath::root(), format!("trusted root version {first} not found"), Clients::ALL)),
            Some(anchor) => {
                let chain = walk_root_chain(set, anchor, first, o, &mut out, &mut report.roles, &expiry);
                newest = chain.newest().and_then(|v| set.roots.get(&v));
                report.chain = Some(chain);
            }
        },
    }

    // 2. Writer rules on every file, with the severity policy. A root is superseded when a
    // newer root exists, whether or not the chain reached it: history is history.
    let highest = set.roots.keys().chain(set.unreadable_roots.keys()).max().copied();
    let trusted = report.chain.as_ref().map(|c| c.trusted);
    for (&v, f) in &set.roots {
        if trusted.is_some_and(|t| v < t) {
            continue; // older than the trust anchor: not part of what is verified
        }
        let superseded = highest.is_some_and(|n| v < n);
        rules_of(f, superseded, o, &mut out);
    }
    // A role file no delegation reaches is read by no client: listed, not checked.
    let reach = reach(set);
    for (role, f) in &set.roles {
        if reach.contains(role) {
            rules_of(f, false, o, &mut out);
        } else {
            report.unreached.push((f.file.clone(), role.clone()));
        }
    }
    report.unreached.extend(set.unreadable_roles.iter().filter(|(r, _)| !reach.contains(r)).map(|(r, f)| (f.clone(), r.clone())));

    let Some(newest) = newest else {
        report.findings = out.findings;
        return report;
    };
    let newest_root = newest.md.signed.as_root().expect("chain holds roots");
    let nv = newest.md.version();

    // 3. Top-level roles against the newest root.
    for name in ["targets", "snapshot", "timestamp"] {
        let Some(f) = set.roles.get(name) else {
            if !set.unreadable_roles.contains_key(name) {
                report.absent.push(AbsentRole { role: name.into(), named_by: "root".into() });
            }
            continue;
        };
        if f.md.signed.type_name() != name {
            out.push(
                &f.file,
                Finding::error(
                    "role-type",
                    JsonPath::root().key("signed").key("_type"),
                    format!("the file for role {name} holds {} metadata", f.md.signed.type_name()),
                    Clients::ALL,
                ),
            );
            continue;
        }
        let c = check_top_level(newest_root, name, &f.md, &f.canonical, o.lenient);
        if let Some(c) = &c {
            out.threshold(&f.file, &f.md, &format!("{name} signed by root v{nv}"), c);
            out.unknown_signers(&f.file, &f.md, &[c]);
        }
        let (e, days, at) = expiry(&f.md);
        if at <= o.at {
            out.push(&f.file, Finding::error("expired", expires_path(), format!("{name} expired at {e}"), Clients::ALL));
        }
        out.far_future(&f.file, name, at, o.at);
        report.roles.push(RoleReport {
            role: name.into(),
            file: f.file.clone(),
            version: f.md.version(),
            expires: e,
            days_left: days,
            checked_by: format!("root v{nv}"),
            check: c,
            by_previous: None,
            window_days: (o.windows)(name),
            superseded: false,
        });
    }

    // 4. Snapshot and timestamp against the files they describe.
    check_meta_roles(set, &reach, &mut out);

    // 5. Delegations, recursively from targets.
    walk_delegations(set, o, &mut out, &mut report, &expiry);

    // Roles named but not in the set: reported, not errors (the folder is checked as it is).
    let mut absent_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for a in &report.absent {
        absent_by.entry(a.named_by.as_str()).or_default().push(&a.role);
    }
    for (by, roles) in absent_by {
        let file = if by == "root" { newest.file.as_str() } else { set.roles.get(by).map(|f| f.file.as_str()).unwrap_or("(folder)") };
        let list = if roles.len() > 8 { format!("{}, … {}", roles[..4].join(", "), roles[roles.len() - 1]) } else { roles.join(", ") };
        let what = if by == "root" { "top-level roles".to_string() } else { format!("roles {by} delegates") };
        out.push(file, Finding::info("absent-role", JsonPath::root(), format!("{} {what} are not in the folder, so not checked: {list}", roles.len())));
    }

    // 6. Re-signing windows: the newest root and every other role (not superseded roots).
    for r in &report.roles {
        if r.superseded || r.window_days <= 0 {
            continue;
        }
        if r.days_left >= 0 && r.days_left < r.window_days {
            out.push(
                &r.file,
                Finding::warning(
                    "signing-window",
                    expires_path(),
                    format!("{} v{} expires in {} days ({}), inside its {}-day re-signing window", r.role, r.version, r.days_left, r.expires, r.window_days),
                    Clients::NONE,
                ),
            );
        }
    }
    report.findings = out.findings;
    report
}

fn rules_of(f: &MetadataFile, superseded: bool, o: &SetOptions, out: &mut Out) {
    let computed;
    let found = match &f.rule_findings {
        Some(v) => v,
        None => {
            computed = f.compute_rule_findings();
            &computed
        }
    };
    // With `lenient`, a finding at or below a legacy form's path is that legacy form seen by
    // another rule (a hex ECDSA key is also a malformed PEM key): reported, not an error.
    let legacy: Vec<&JsonPath> = if o.lenient { found.iter().filter(|x| x.code == "legacy-form").map(|x| &x.path).collect() } else { Vec::new() };
    for x in found {
        let x = if x.severity == Severity::Error && x.code != "legacy-form" && legacy.iter().any(|p| x.path.0.starts_with(&p.0)) {
            Finding { severity: Severity::Warning, ..x.clone() }
        } else {
            rule_severity(x.clone(), superseded, o.clients)
        };
        out.push(&f.file, x);
    }
}

type Expiry<'e> = dyn Fn(&Metadata) -> (String, i64, DateTime<Utc>) + 'e;

fn walk_root_chain(
    set: &MetadataSet,
    anchor: &MetadataFile,
    first: u64,
    o: &SetOptions,
    out: &mut Out,
    roles: &mut Vec<RoleReport>,
    expiry: &Expiry,
) -> ChainReport {
    let mut chain = ChainReport { trusted: first, verified: vec![first], broken_at: None };
    let anchor_root = anchor.md.signed.as_root().expect("checked by the caller");
    let self_check = check_top_level(anchor_root, "root", &anchor.md, &anchor.canonical, o.lenient);
    if let Some(c) = &self_check {
        out.threshold(&anchor.file, &anchor.md, &format!("trusted root v{first} signed by its own root role"), c);
        out.anchor_foreign_signers(&anchor.file, &anchor.md, c);
        if let Some((ids, t)) = role_threshold_keys(anchor_root, "root") {
            out.distinct_keys(&anchor.file, JsonPath::root().key("signed").key("roles").key("root"), "root", ids, t, &anchor_root.keys, Some(c), o.lenient);
        }
    }
    let (e, days, _) = expiry(&anchor.md);
    roles.push(RoleReport {
        role: "root".into(),
        file: anchor.file.clone(),
        version: anchor.md.version(),
        expires: e,
        days_left: days,
        checked_by: format!("itself (trusted root v{first})"),
        check: self_check.clone(),
        by_previous: None,
        window_days: (o.windows)("root"),
        superseded: false,
    });
    // A trusted root below its own threshold is not trusted (python-tuf refuses to start
    // from it): nothing is verified from it.
    if !self_check.as_ref().is_some_and(|c| c.met()) {
        chain.verified.clear();
        chain.broken_at = Some(first);
        return chain;
    }
    let last_present = set.roots.keys().chain(set.unreadable_roots.keys()).copied().max().unwrap_or(first);
    let mut current = anchor;
    let mut v = first + 1;
    while chain.broken_at.is_none() && v <= last_present {
        let Some(next) = set.roots.get(&v) else {
            if let Some(file) = set.unreadable_roots.get(&v) {
                out.push(
                    file,
                    Finding::error("root-chain", JsonPath::root(), format!("root v{v} cannot be read: the chain stops at v{}", v - 1), Clients::ALL),
                );
            } else {
                out.push(
                    &format!("{v}.root.json"),
                    Finding::error(
                        "root-version-gap",
                        JsonPath::root(),
                        format!("root v{v} is missing but later roots exist: clients fetch every version in turn and stop at v{}", v - 1),
                        Clients::ALL,
                    ),
                );
            }
            chain.broken_at = Some(v);
            break;
        };
        let prev_root = current.md.signed.as_root().expect("chain holds roots");
        let Some(next_root) = next.md.signed.as_root() else {
            out.push(
                &next.file,
                Finding::error(
                    "role-type",
                    JsonPath::root().key("signed").key("_type"),
                    format!("a root file holds {} metadata", next.md.signed.type_name()),
                    Clients::ALL,
                ),
            );
            chain.broken_at = Some(v);
            break;
        };
        let (pv, nv) = (current.md.version(), next.md.version());
        if nv != pv + 1 {
            let by = if nv < pv { Clients::ALL } else { Clients::PYTHON.or(Clients::GO) };
            out.push(
                &next.file,
                Finding::error("root-version", version_path(), format!("root version {nv} follows version {pv}: it must be exactly {}", pv + 1), by),
            );
            chain.broken_at = Some(v);
            break;
        }
        let rc = check_root_rotation(prev_root, &next.md, &next.canonical, o.lenient).expect("both are roots");
        out.threshold(&next.file, &next.md, &format!("root v{nv} signed by root v{pv}'s root keys"), &rc.by_previous);
        out.threshold(&next.file, &next.md, &format!("root v{nv} signed by its own root keys"), &rc.by_self);
        out.unknown_signers(&next.file, &next.md, &[&rc.by_previous, &rc.by_self]);
        if let Some((ids, t)) = role_threshold_keys(next_root, "root") {
            out.distinct_keys(
                &next.file,
                JsonPath::root().key("signed").key("roles").key("root"),
                "root",
                ids,
                t,
                &next_root.keys,
                Some(&rc.by_self),
                o.lenient,
            );
        }
        let (e, days, _) = expiry(&next.md);
        let ok = rc.by_previous.met() && rc.by_self.met();
        roles.push(RoleReport {
            role: "root".into(),
            file: next.file.clone(),
            version: nv,
            expires: e,
            days_left: days,
            checked_by: format!("root v{pv} and itself"),
            check: Some(rc.by_self),
            by_previous: Some(rc.by_previous),
            window_days: (o.windows)("root"),
            superseded: false,
        });
        if !ok {
            chain.broken_at = Some(v);
            break;
        }
        chain.verified.push(v);
        current = next;
        v += 1;
    }
    if let Some(b) = chain.broken_at {
        let later: Vec<String> = set.roots.range(b + 1..).map(|(v, _)| format!("v{v}")).collect();
        if !later.is_empty() {
            out.push(
                &current.file,
                Finding::info(
                    "root-unverified",
                    JsonPath::root(),
                    format!("later roots not verified because the chain stops at v{}: {}", current.md.version(), later.join(", ")),
                ),
            );
        }
    }
    // Only the newest trusted root's expiry matters (spec 5.3.10); older ones are history.
    let newest_v = current.md.version();
    for r in roles.iter_mut() {
        r.superseded = r.version < newest_v;
    }
    let (e, _, at) = expiry(&current.md);
    if at <= o.at {
        out.push(&current.file, Finding::error("expired", expires_path(), format!("the newest root (v{newest_v}) expired at {e}"), Clients::ALL));
    }
    out.far_future(&current.file, &format!("the newest root (v{newest_v})"), at, o.at);
    // The newest root's other roles: distinct keys.
    let nr = current.md.signed.as_root().expect("chain holds roots");
    for role in ["targets", "snapshot", "timestamp"] {
        if let Some((ids, t)) = role_threshold_keys(nr, role) {
            out.distinct_keys(&current.file, JsonPath::root().key("signed").key("roles").key(role), role, ids, t, &nr.keys, None, o.lenient);
        }
    }
    chain
}

/// Compares one `meta` entry with the file it describes.
fn check_meta_entry(out: &mut Out, from: &MetadataFile, entry_path: JsonPath, name: &str, m: &MetaFile, target: &MetadataFile) {
    if m.version != target.md.version() {
        out.push(
            &from.file,
            Finding::error(
                "meta-version",
                entry_path.clone().key("version"),
                format!("{} lists {name} version {}, but {} holds version {}", from.md.signed.type_name(), m.version, target.file, target.md.version()),
                Clients::ALL,
            ),
        );
    }
    if let Some(l) = m.length
        && l != target.length
    {
        out.push(
            &from.file,
            Finding::error(
                "meta-length",
                entry_path.clone().key("length"),
                format!("{} lists {name} length {l}, but {} is {} bytes", from.md.signed.type_name(), target.file, target.length),
                Clients::ALL,
            ),
        );
    }
    for (alg, want) in m.hashes.iter().flatten() {
        match target.hashes.get(alg) {
            Some(got) if got == want => {}
            Some(got) => out.push(
                &from.file,
                Finding::error(
                    "meta-hash",
                    entry_path.clone().key("hashes").key(alg.as_str()),
                    format!("{} lists {name} {alg} {want}, but {} has {got}", from.md.signed.type_name(), target.file),
                    Clients::ALL,
                ),
            ),
            None => out.push(
                &from.file,
                Finding::warning(
                    "meta-hash-unchecked",
                    entry_path.clone().key("hashes").key(alg.as_str()),
                    format!("{alg} of {} was not computed, so it is not checked", target.file),
                    Clients::NONE,
                ),
            ),
        }
    }
}

/// The delegated roles a client can reach: every name the delegation tree from targets
/// gives (through the role files present), whether or not its file is here. Answers for
/// the role files of the set and the roles snapshot lists.
pub struct Reach<'a> {
    names: HashSet<&'a str>,
    succinct: Vec<&'a crate::tuf::metadata::SuccinctRoles>,
}

impl Reach<'_> {
    pub fn contains(&self, role: &str) -> bool {
        matches!(role, "root" | "targets" | "snapshot" | "timestamp")
            || self.names.contains(role)
            || self.succinct.iter().any(|s| crate::tuf::bins::in_succinct(s, role))
    }
}

pub fn reach(set: &MetadataSet) -> Reach<'_> {
    // Only names someone asks about are kept: the role files here and what snapshot lists
    // (a 100,000-project claimed names far more roles than either).
    let mut wanted: HashSet<&str> = set.roles.keys().chain(set.unreadable_roles.keys()).map(String::as_str).collect();
    if let Some(Signed::Snapshot(s)) = set.roles.get("snapshot").map(|f| &f.md.signed) {
        wanted.extend(s.meta.keys().map(|n| n.strip_suffix(".json").unwrap_or(n)));
    }
    let mut r = Reach { names: HashSet::new(), succinct: Vec::new() };
    let mut todo: Vec<&str> = vec!["targets"];
    let mut seen: HashSet<&str> = HashSet::new();
    while let Some(role) = todo.pop() {
        if !seen.insert(role) {
            continue;
        }
        let Some(t) = set.roles.get(role).and_then(|f| f.md.signed.as_targets()) else { continue };
        let Some(d) = &t.delegations else { continue };
        match &d.roles {
            DelegatedRoles::Roles(children) => {
                for c in children.iter().filter(|c| wanted.contains(c.name.as_str())) {
                    r.names.insert(c.name.as_str());
                    // Only a role whose file is here can delegate further (100,000 projects
                    // in claimed have none).
                    if set.roles.contains_key(&c.name) {
                        todo.push(c.name.as_str());
                    }
                }
            }
            DelegatedRoles::Succinct(s) => {
                r.succinct.push(s);
                todo.extend(set.roles.keys().filter(|n| crate::tuf::bins::in_succinct(s, n)).map(String::as_str));
            }
        }
    }
    r
}

fn check_meta_roles(set: &MetadataSet, reach: &Reach, out: &mut Out) {
    if let Some(ts) = set.roles.get("timestamp")
        && let Signed::Timestamp(t) = &ts.md.signed
    {
        match (t.meta.get("snapshot.json"), set.roles.get("snapshot")) {
            (Some(m), Some(snap)) => check_meta_entry(out, ts, JsonPath::root().key("signed").key("meta").key("snapshot.json"), "snapshot.json", m, snap),
            (Some(m), None) if !set.unreadable_roles.contains_key("snapshot") => out.push(
                &ts.file,
                Finding::info(
                    "absent-role",
                    JsonPath::root().key("signed").key("meta").key("snapshot.json"),
                    format!("timestamp lists snapshot version {}, which is not in the folder", m.version),
                ),
            ),
            _ => {}
        }
    }
    let Some(snap) = set.roles.get("snapshot") else { return };
    let Signed::Snapshot(s) = &snap.md.signed else { return };
    let meta = JsonPath::root().key("signed").key("meta");
    for (name, m) in &s.meta {
        let role = name.strip_suffix(".json").unwrap_or(name);
        if role == "root" || role == "snapshot" || role == "timestamp" {
            continue;
        }
        match set.roles.get(role) {
            // No client fetches a role nothing delegates to: its entry is not checked.
            _ if !reach.contains(role) => out.push(
                &snap.file,
                Finding::info(
                    "unreached-role",
                    meta.clone().key(name.as_str()),
                    format!("snapshot lists {role} version {}, but no delegation reaches it: clients never fetch it, so it is not checked", m.version),
                ),
            ),
            Some(f) => check_meta_entry(out, snap, meta.clone().key(name.as_str()), name, m, f),
            None if set.unreadable_roles.contains_key(role) => {}
            None => out.push(&snap.file, Finding::error("role-file-missing", meta.clone().key(name.as_str()), format!("snapshot lists {role} version {} but the folder does not hold it (tough loads every role and fails; python-tuf and go-tuf fail when they visit it)", m.version), Clients::ALL)),
        }
    }
    for (role, f) in &set.roles {
        if role == "root" || role == "snapshot" || role == "timestamp" {
            continue;
        }
        if !s.meta.contains_key(&format!("{role}.json")) {
            out.push(
                &f.file,
                Finding::error(
                    "snapshot-unlisted",
                    JsonPath::root(),
                    format!("{role} is not listed in snapshot (clients refuse a role snapshot does not list)"),
                    Clients::ALL,
                ),
            );
        }
    }
}

/// Does `target` match a delegation's path spec (python-tuf semantics)?
fn spec_matches(spec: &PathSpec, target: &str) -> bool {
    match spec {
        PathSpec::Paths(pats) => pats.iter().any(|p| rules::path_matches(p, target)),
        PathSpec::HashPrefixes(pre) => {
            let h = path_hash(target);
            pre.iter().any(|p| h.starts_with(p.as_str()))
        }
    }
}

/// A delegated role as the walk sees it: name, keyids, threshold, and its paths (none for
/// TAP 15 bins).
type Child<'a> = (Cow<'a, str>, &'a [String], u64, Option<&'a PathSpec>);

/// At most this many TAP 15 bin names are enumerated (2^16; bit_length may be 32).
const MAX_SUCCINCT_ENUMERATED: u64 = 1 << 16;

fn walk_delegations(set: &MetadataSet, o: &SetOptions, out: &mut Out, report: &mut SetReport, expiry: &Expiry) {
    struct Frame<'a> {
        role: &'a str,
        /// Role names from targets down to (excluding) this role.
        ancestors: Vec<&'a str>,
        /// Path specs of every delegation on the way down (tough checks them all).
        specs: Vec<&'a PathSpec>,
    }
    let Some(top) = set.roles.get("targets") else { return };
    if !matches!(top.md.signed, Signed::Targets(_)) {
        return;
    }
    let mut delegator_of: HashMap<&str, &str> = HashMap::new();
    let mut stack = vec![Frame { role: "targets", ancestors: Vec::new(), specs: Vec::new() }];
    while let Some(frame) = stack.pop() {
        let Some(pf) = set.roles.get(frame.role) else { continue };
        let Signed::Targets(pt) = &pf.md.signed else { continue };
        let Some(d) = &pt.delegations else { continue };
        let parent = frame.role;
        let children: Vec<Child> = match &d.roles {
            DelegatedRoles::Roles(children) => {
                check_bins_coverage(out, &pf.file, children);
                children.iter().map(|c| (Cow::Borrowed(c.name.as_str()), c.keyids.as_slice(), c.threshold, Some(&c.paths))).collect()
            }
            DelegatedRoles::Succinct(s) => {
                let count = 1u64 << s.bit_length.clamp(1, 32);
                if count > MAX_SUCCINCT_ENUMERATED {
                    out.push(
                        &pf.file,
                        Finding::warning(
                            "succinct-too-many",
                            JsonPath::root().key("signed").key("delegations").key("succinct_roles"),
                            format!("{count} succinct bins: only present bin files are checked"),
                            Clients::NONE,
                        ),
                    );
                    set.roles
                        .keys()
                        .filter(|n| n.starts_with(&format!("{}-", s.name_prefix)))
                        .map(|n| (Cow::Borrowed(n.as_str()), s.keyids.as_slice(), s.threshold, None))
                        .collect()
                } else {
                    succinct_role_names(s).map(|n| (Cow::Owned(n), s.keyids.as_slice(), s.threshold, None)).collect()
                }
            }
        };
        let mut pushed: Vec<Frame> = Vec::new();
        for (name, keyids, threshold, spec) in children {
            if name == parent || frame.ancestors.contains(&&*name) {
                out.push(
                    &pf.file,
                    Finding::error(
                        "delegation-cycle",
                        JsonPath::root().key("signed").key("delegations"),
                        format!("delegation cycle: {parent} delegates to its ancestor {name}"),
                        Clients::TOUGH,
                    ),
                );
                continue;
            }
            // Absent roles are only listed (100,000 of them in a PEP 480 `claimed`): no
            // per-role map, duplicates across delegators are found once at the end.
            let Some((role_key, cf)) = set.roles.get_key_value(&*name) else {
                if !set.unreadable_roles.contains_key(&*name) {
                    report.absent.push(AbsentRole { role: name.into_owned(), named_by: parent.to_string() });
                }
                continue;
            };
            if let Some(prev) = delegator_of.get(role_key.as_str()) {
                if *prev != parent {
                    out.push(
                        &pf.file,
                        Finding::warning(
                            "multiple-delegators",
                            JsonPath::root().key("signed").key("delegations"),
                            format!("role {name} is delegated by both {prev} and {parent}"),
                            Clients::NONE,
                        ),
                    );
                }
                continue;
            }
            delegator_of.insert(role_key.as_str(), parent);
            let Signed::Targets(ct) = &cf.md.signed else {
                out.push(
                    &cf.file,
                    Finding::error(
                        "role-type",
                        JsonPath::root().key("signed").key("_type"),
                        format!("delegated role {name} holds {} metadata", cf.md.signed.type_name()),
                        Clients::ALL,
                    ),
                );
                continue;
            };
            let c = match &cf.prechecked {
                Some((by, c)) if by == parent => c.clone(),
                // Checked against another delegator by the loader, which then dropped the
                // canonical bytes: say so rather than report signatures that cannot verify.
                Some((by, _)) if cf.canonical.is_empty() => {
                    out.push(
                        &cf.file,
                        Finding::error(
                            "not-checked",
                            JsonPath::root().key("signatures"),
                            format!("{name} was checked against {by} while loading, not against {parent}"),
                            Clients::NONE,
                        ),
                    );
                    continue;
                }
                _ => check_threshold(keyids, threshold, &d.keys, &cf.canonical, &cf.md.signatures, o.lenient),
            };
            out.threshold(&cf.file, &cf.md, &format!("{name} signed by {parent}'s delegation"), &c);
            out.unknown_signers(&cf.file, &cf.md, &[&c]);
            if threshold > 1 {
                out.distinct_keys(&cf.file, JsonPath::root().key("signatures"), &name, keyids, threshold, &d.keys, Some(&c), o.lenient);
            }
            let mut specs = frame.specs.clone();
            if let Some(s) = spec {
                specs.push(s);
            }
            for path in ct.targets.keys() {
                if let Some(bad) = specs.iter().position(|s| !spec_matches(s, path)) {
                    let whose = if bad + 1 == specs.len() { format!("{parent} delegates to {name}") } else { "an ancestor delegation allows".to_string() };
                    // Only tough refuses it, so it is an error only with tough selected (the
                    // severity policy); python-tuf and go-tuf load the role and never find it.
                    let f = Finding::error(
                        "target-outside-delegation",
                        JsonPath::root().key("signed").key("targets").key(path.as_str()),
                        format!("target {path} is outside the paths {whose} (tough refuses the whole repository; python-tuf and go-tuf never find it)"),
                        Clients::TOUGH,
                    );
                    let f = rule_severity(f, false, out.clients);
                    out.push(&cf.file, f);
                }
            }
            let (e, days, at) = expiry(&cf.md);
            if at <= o.at {
                out.push(&cf.file, Finding::error("expired", expires_path(), format!("{name} expired at {e}"), Clients::PYTHON.or(Clients::GO)));
            }
            out.far_future(&cf.file, &name, at, o.at);
            report.roles.push(RoleReport {
                role: name.to_string(),
                file: cf.file.clone(),
                version: cf.md.version(),
                expires: e,
                days_left: days,
                checked_by: parent.to_string(),
                check: Some(c),
                by_previous: None,
                window_days: (o.windows)(&name),
                superseded: false,
            });
            let mut ancestors = frame.ancestors.clone();
            ancestors.push(parent);
            pushed.push(Frame { role: role_key.as_str(), ancestors, specs });
        }
        // Depth first, in listed order.
        stack.extend(pushed.into_iter().rev());
    }
    // An absent role named by more than one delegator: listed once, with a warning.
    let first_delegated = report.absent.iter().position(|a| a.named_by != "root");
    if let Some(i) = first_delegated {
        let by = &report.absent[i].named_by;
        if report.absent[i..].iter().any(|a| &a.named_by != by) {
            let mut order: Vec<usize> = (i..report.absent.len()).collect();
            order.sort_by(|&a, &b| report.absent[a].role.cmp(&report.absent[b].role));
            let mut drop = vec![false; report.absent.len()];
            for w in order.windows(2) {
                let (a, b) = (&report.absent[w[0]], &report.absent[w[1]]);
                if a.role == b.role {
                    drop[w[1]] = true;
                    if a.named_by != b.named_by {
                        let file = set.roles.get(&b.named_by).map(|f| f.file.as_str()).unwrap_or("(folder)");
                        out.push(
                            file,
                            Finding::warning(
                                "multiple-delegators",
                                JsonPath::root().key("signed").key("delegations"),
                                format!("role {} is delegated by both {} and {}", a.role, a.named_by, b.named_by),
                                Clients::NONE,
                            ),
                        );
                    }
                }
            }
            let mut k = 0;
            report.absent.retain(|_| {
                k += 1;
                !drop[k - 1]
            });
        }
    }
}

/// Hashed bins: every prefix of the bins' length covered exactly once.
fn check_bins_coverage(out: &mut Out, file: &str, children: &[DelegatedRole]) {
    let mut prefixes: Vec<&str> = Vec::new();
    for c in children {
        if let PathSpec::HashPrefixes(p) = &c.paths {
            prefixes.extend(p.iter().map(String::as_str));
        }
    }
    if prefixes.is_empty() {
        return;
    }
    let path = JsonPath::root().key("signed").key("delegations").key("roles");
    let len = prefixes[0].len();
    if prefixes.iter().any(|p| p.len() != len) || len > 5 {
        out.push(file, Finding::warning("bins-layout", path, "hash prefixes of different lengths (or longer than 5): coverage not checked", Clients::NONE));
        return;
    }
    let total = 16usize.pow(len as u32);
    let mut seen = vec![0u8; total];
    for p in &prefixes {
        if let Ok(v) = usize::from_str_radix(p, 16) {
            seen[v] = seen[v].saturating_add(1);
        }
    }
    let missing: Vec<usize> = (0..total).filter(|&i| seen[i] == 0).collect();
    let doubled: Vec<usize> = (0..total).filter(|&i| seen[i] > 1).collect();
    if !missing.is_empty() || !doubled.is_empty() {
        let show = |v: &[usize]| v.iter().take(4).map(|i| format!("{i:0len$x}")).collect::<Vec<_>>().join(", ");
        out.push(
            file,
            Finding::error(
                "bins-coverage",
                path,
                format!(
                    "hashed bins: {} prefixes not covered ({}), {} covered more than once ({})",
                    missing.len(),
                    show(&missing),
                    doubled.len(),
                    show(&doubled)
                ),
                Clients::NONE,
            ),
        );
    }
}

/// Where a delegator lists a role (for reports): the role entry's threshold and keyids.
pub fn delegation_of<'a>(delegator: &'a Targets, name: &str) -> Option<(&'a [String], u64)> {
    match &delegator.delegations.as_ref()?.roles {
        DelegatedRoles::Roles(v) => v.iter().find(|r| r.name == name).map(|r| (r.keyids.as_slice(), r.threshold)),
        DelegatedRoles::Succinct(s) => Some((s.keyids.as_slice(), s.threshold)),
    }
}
