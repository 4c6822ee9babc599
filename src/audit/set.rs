//! Checks over a set of metadata files (one repository or one ceremony's output).

use crate::tuf::finding::{Clients, Finding, Severity};
use crate::tuf::json::JsonPath;
use crate::tuf::metadata::{DelegatedRoles, Metadata, PathSpec, Signed};
use crate::tuf::rules;
use crate::tuf::verify::{check_delegated, check_root_rotation, check_top_level, ThresholdCheck};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// One parsed metadata file.
pub struct MetadataFile {
    pub file: String,
    pub bytes: Vec<u8>,
    pub md: Metadata,
    /// Canonical bytes of `signed` (computed once; large roles are expensive).
    pub canonical: Vec<u8>,
}

impl MetadataFile {
    pub fn new(file: String, bytes: Vec<u8>, md: Metadata) -> Self {
        let canonical = md.signed_bytes();
        MetadataFile { file, bytes, md, canonical }
    }
}

/// The files of one repository: every root version, and the newest file of each other role.
#[derive(Default)]
pub struct MetadataSet {
    pub roots: BTreeMap<u64, MetadataFile>,
    pub roles: BTreeMap<String, MetadataFile>,
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
    pub check: Option<ThresholdCheck>,
}

pub struct SetReport {
    pub roles: Vec<RoleReport>,
    pub findings: Vec<AuditFinding>,
}

impl SetReport {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.finding.severity == Severity::Error).count()
    }
}

fn push(out: &mut Vec<AuditFinding>, file: &str, f: Finding) {
    out.push(AuditFinding { file: file.to_string(), finding: f });
}

fn threshold_finding(out: &mut Vec<AuditFinding>, file: &str, what: &str, c: &ThresholdCheck) {
    if !c.met() {
        push(out, file, Finding::error("threshold", JsonPath::root().key("signatures"), format!("{what}: {} of {} required valid signatures", c.valid(), c.threshold), Clients::ALL));
    }
    for (id, o) in &c.keys {
        use crate::tuf::verify::KeyOutcome::*;
        match o {
            KeyMissing => push(out, file, Finding::warning("keyid-unknown", JsonPath::root().key("signatures"), format!("{what}: keyid {id} is not in the delegator's keys (go-tuf refuses the role)"), Clients::GO)),
            ValidOddSalt => push(out, file, Finding::warning("rsa-salt", JsonPath::root().key("signatures"), format!("{what}: RSA-PSS signature by {id} uses a salt length other than 32 (tough refuses it)"), Clients::TOUGH)),
            Invalid | Malformed => push(out, file, Finding::warning("bad-signature", JsonPath::root().key("signatures"), format!("{what}: signature by {id} does not verify"), Clients::NONE)),
            _ => {}
        }
    }
}

/// Verifies `set` with the root of version `trusted` (default: the lowest present) as the
/// trust anchor, at time `at`. `windows` gives each role's re-signing window in days.
pub fn check_set(set: &MetadataSet, trusted: Option<u64>, at: DateTime<Utc>, lenient: bool, clients: Clients, windows: &dyn Fn(&str) -> i64) -> SetReport {
    let mut findings = Vec::new();
    let mut roles = Vec::new();
    let expiry = |md: &Metadata| {
        let e = md.signed.header().expires.at();
        (md.signed.header().expires.as_str().to_string(), (e - at).num_days(), e)
    };
    // Writer rules on every file.
    for f in set.roots.values().chain(set.roles.values()) {
        for x in rules::check(&f.md, &f.canonical).into_iter().chain(rules::check_file_bytes(&f.md, &f.bytes)) {
            // Only errors against the required clients are errors here; others are warnings.
            let x = if x.severity == Severity::Error && !x.rejected_by.intersects(clients) { Finding { severity: Severity::Warning, ..x } } else { x };
            push(&mut findings, &f.file, x);
        }
    }
    // Root chain.
    let Some(first) = trusted.or_else(|| set.roots.keys().next().copied()) else {
        push(&mut findings, "(set)", Finding::error("no-root", JsonPath::root(), "no root metadata found", Clients::ALL));
        return SetReport { roles, findings };
    };
    let Some(anchor) = set.roots.get(&first) else {
        push(&mut findings, "(set)", Finding::error("no-root", JsonPath::root(), format!("trusted root version {first} not found"), Clients::ALL));
        return SetReport { roles, findings };
    };
    let mut current = anchor;
    let anchor_root = anchor.md.signed.as_root().expect("roots hold roots");
    let self_check = check_top_level(anchor_root, "root", &anchor.md, &anchor.canonical, lenient);
    let (e, days, _) = expiry(&anchor.md);
    if let Some(c) = &self_check {
        threshold_finding(&mut findings, &anchor.file, "root signed by its own root role", c);
    }
    roles.push(RoleReport { role: "root".into(), file: anchor.file.clone(), version: first, expires: e, days_left: days, checked_by: format!("itself (trusted root v{first})"), check: self_check });
    for (&v, next) in set.roots.range(first + 1..) {
        let prev_root = current.md.signed.as_root().expect("roots hold roots");
        if v != current.md.version() + 1 {
            push(&mut findings, &next.file, Finding::error("root-version-gap", JsonPath::root().key("signed").key("version"), format!("root version {v} follows version {}: clients need every version", current.md.version()), Clients::ALL));
            break;
        }
        let rc = check_root_rotation(prev_root, &next.md, &next.canonical, lenient).expect("roots hold roots");
        threshold_finding(&mut findings, &next.file, &format!("root v{v} signed by root v{} keys", v - 1), &rc.by_previous);
        threshold_finding(&mut findings, &next.file, &format!("root v{v} signed by its own root keys"), &rc.by_self);
        let (e, days, _) = expiry(&next.md);
        roles.push(RoleReport { role: "root".into(), file: next.file.clone(), version: v, expires: e, days_left: days, checked_by: format!("root v{} and itself", v - 1), check: Some(rc.by_self.clone()) });
        current = next;
    }
    let newest = current.md.signed.as_root().expect("roots hold roots");
    let (_, _, newest_exp) = expiry(&current.md);
    if newest_exp <= at {
        push(&mut findings, &current.file, Finding::error("expired", JsonPath::root().key("signed").key("expires"), format!("the newest root (v{}) expired at {}", current.md.version(), current.md.signed.header().expires.as_str()), Clients::ALL));
    }

    // Top-level roles against the newest root; delegated roles against their delegator.
    let mut delegator_of: BTreeMap<String, String> = BTreeMap::new();
    for name in ["targets", "snapshot", "timestamp"] {
        if let Some(f) = set.roles.get(name) {
            if f.md.signed.type_name() != name {
                push(&mut findings, &f.file, Finding::error("role-type", JsonPath::root().key("signed").key("_type"), format!("file for role {name} holds {}", f.md.signed.type_name()), Clients::ALL));
                continue;
            }
            let c = check_top_level(newest, name, &f.md, &f.canonical, lenient);
            if let Some(c) = &c {
                threshold_finding(&mut findings, &f.file, &format!("{name} signed by root v{}", current.md.version()), c);
            }
            let (e, days, _) = expiry(&f.md);
            roles.push(RoleReport { role: name.into(), file: f.file.clone(), version: f.md.version(), expires: e, days_left: days, checked_by: format!("root v{}", current.md.version()), check: c });
        }
    }
    // Walk delegations breadth-first from targets, detecting cycles and missing roles.
    let mut queue: Vec<String> = vec!["targets".into()];
    let mut visited: BTreeSet<String> = BTreeSet::new();
    while let Some(parent) = queue.pop() {
        if !visited.insert(parent.clone()) {
            continue;
        }
        let Some(pf) = set.roles.get(&parent) else { continue };
        let Signed::Targets(pt) = &pf.md.signed else { continue };
        let Some(d) = &pt.delegations else { continue };
        let DelegatedRoles::Roles(children) = &d.roles else { continue };
        check_bins_coverage(&mut findings, &pf.file, children);
        for child in children {
            if let Some(prev) = delegator_of.get(&child.name) {
                if *prev != parent {
                    push(&mut findings, &pf.file, Finding::warning("multiple-delegators", JsonPath::root(), format!("role {} is delegated by both {prev} and {parent}", child.name), Clients::NONE));
                }
                continue;
            }
            if visited.contains(&child.name) || child.name == parent {
                push(&mut findings, &pf.file, Finding::error("delegation-cycle", JsonPath::root(), format!("delegation cycle through {}", child.name), Clients::TOUGH));
                continue;
            }
            delegator_of.insert(child.name.clone(), parent.clone());
            let Some(cf) = set.roles.get(&child.name) else { continue };
            let c = check_delegated(pt, &child.name, &cf.md, &cf.canonical, lenient);
            if let Some(c) = &c {
                threshold_finding(&mut findings, &cf.file, &format!("{} signed by {parent}'s delegation", child.name), c);
            }
            if let (Signed::Targets(ct), PathSpec::Paths(pats)) = (&cf.md.signed, &child.paths) {
                for path in ct.targets.keys() {
                    if !pats.iter().any(|p| rules::path_matches(p, path)) {
                        push(&mut findings, &cf.file, Finding::error("target-outside-delegation", JsonPath::root().key("signed").key("targets").key(path.as_str()), format!("target {path} is outside the paths {parent} delegates to {}", child.name), Clients::TOUGH));
                    }
                }
            }
            let (e, days, _) = expiry(&cf.md);
            let w = windows(&child.name);
            if days < w && days >= 0 {
                push(&mut findings, &cf.file, Finding::warning("signing-window", JsonPath::root().key("signed").key("expires"), format!("{} expires in {days} days, inside its {w}-day re-signing window", child.name), Clients::NONE));
            }
            if days < 0 {
                push(&mut findings, &cf.file, Finding::error("expired", JsonPath::root().key("signed").key("expires"), format!("{} expired at {e}", child.name), Clients::PYTHON.or(Clients::GO)));
            }
            roles.push(RoleReport { role: child.name.clone(), file: cf.file.clone(), version: cf.md.version(), expires: e, days_left: days, checked_by: parent.clone(), check: c });
            queue.push(child.name.clone());
        }
    }
    for r in &roles {
        if r.role == "targets" || r.role == "root" {
            let w = windows(&r.role);
            if r.days_left >= 0 && r.days_left < w && !(r.role == "root" && r.version != current.md.version()) {
                push(&mut findings, &r.file, Finding::warning("signing-window", JsonPath::root().key("signed").key("expires"), format!("{} expires in {} days, inside its {w}-day re-signing window", r.role, r.days_left), Clients::NONE));
            }
        }
    }
    if let Some(t) = set.roles.get("targets") {
        if t.md.signed.header().expires.at() <= at {
            push(&mut findings, &t.file, Finding::error("expired", JsonPath::root().key("signed").key("expires"), "targets has expired", Clients::ALL));
        }
    }
    SetReport { roles, findings }
}

/// Hashed bins: every prefix of the bins' length covered exactly once.
fn check_bins_coverage(out: &mut Vec<AuditFinding>, file: &str, children: &[crate::tuf::metadata::DelegatedRole]) {
    let mut prefixes: Vec<&str> = Vec::new();
    for c in children {
        if let PathSpec::HashPrefixes(p) = &c.paths {
            prefixes.extend(p.iter().map(String::as_str));
        }
    }
    if prefixes.is_empty() {
        return;
    }
    let len = prefixes[0].len();
    if prefixes.iter().any(|p| p.len() != len) || len > 5 {
        push(out, file, Finding::warning("bins-layout", JsonPath::root().key("signed").key("delegations"), "hash prefixes of different lengths: coverage not checked", Clients::NONE));
        return;
    }
    let total = 16usize.pow(len as u32);
    let mut seen = vec![0u8; total];
    for p in &prefixes {
        if let Ok(v) = usize::from_str_radix(p, 16) {
            seen[v] = seen[v].saturating_add(1);
        }
    }
    let missing = seen.iter().filter(|&&c| c == 0).count();
    let doubled = seen.iter().filter(|&&c| c > 1).count();
    if missing > 0 || doubled > 0 {
        push(out, file, Finding::error("bins-coverage", JsonPath::root().key("signed").key("delegations"), format!("hashed bins: {missing} prefixes not covered, {doubled} covered more than once"), Clients::NONE));
    }
}
