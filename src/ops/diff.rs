//! What changed between two versions of a role, in plain words, for the people asked to
//! sign the new one. Lists are cut after `LIMIT` lines so a bins role stays readable.

use crate::tuf::encode::canonical;
use crate::tuf::json::Fields;
use crate::tuf::keys::keyid;
use crate::tuf::metadata::{DelegatedRole, DelegatedRoles, Delegations, Key, MetaFile, PathSpec, Root, Signed, Targets};
use std::collections::BTreeMap;

/// Lines per list before "… and N more".
pub const LIMIT: usize = 40;

fn short(id: &str) -> &str {
    crate::util::text::prefix(id, 16)
}

fn key_desc(id: &str, k: &Key) -> String {
    format!("{}… ({}/{})", short(id), k.keytype, k.scheme)
}

fn ids(v: &[String]) -> String {
    v.iter().map(|i| format!("{}…", short(i))).collect::<Vec<_>>().join(", ")
}

fn extra_changes(out: &mut Vec<String>, what: &str, a: &Fields, b: &Fields) {
    let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for n in names {
        match (a.get(n), b.get(n)) {
            (None, Some(_)) => out.push(format!("{what}: field {n:?} added")),
            (Some(_), None) => out.push(format!("{what}: field {n:?} removed")),
            (Some(x), Some(y)) if x != y => out.push(format!("{what}: field {n:?} changed")),
            _ => {}
        }
    }
}

/// Lines describing how `next` differs from `prev` (same role type); empty when only the
/// header is unchanged too.
pub fn changes(prev: &Signed, next: &Signed) -> Vec<String> {
    let mut out = Vec::new();
    let (a, b) = (prev.header(), next.header());
    if a.version != b.version {
        out.push(format!("version {} → {}", a.version, b.version));
    }
    if a.expires != b.expires {
        out.push(format!("expires {} → {}", a.expires.as_str(), b.expires.as_str()));
    }
    if a.spec_version != b.spec_version {
        out.push(format!("spec_version {} → {}", a.spec_version, b.spec_version));
    }
    let header_lines = out.len();
    match (prev, next) {
        (Signed::Root(p), Signed::Root(n)) => root_changes(&mut out, p, n),
        (Signed::Targets(p), Signed::Targets(n)) => targets_changes(&mut out, p, n),
        (Signed::Snapshot(p), Signed::Snapshot(n)) => {
            meta_changes(&mut out, &p.meta, &n.meta);
            extra_changes(&mut out, "signed", &p.extra, &n.extra);
        }
        (Signed::Timestamp(p), Signed::Timestamp(n)) => {
            meta_changes(&mut out, &p.meta, &n.meta);
            extra_changes(&mut out, "signed", &p.extra, &n.extra);
        }
        _ => out.push(format!("the role type changed from {} to {}", prev.type_name(), next.type_name())),
    }
    if out.len() == header_lines {
        out.push("nothing else changed: the content is the same as before (a re-signing)".into());
    }
    out
}

fn capped(out: &mut Vec<String>, lines: Vec<String>) {
    let n = lines.len();
    out.extend(lines.into_iter().take(LIMIT));
    if n > LIMIT {
        out.push(format!("… and {} more", n - LIMIT));
    }
}

fn root_changes(out: &mut Vec<String>, p: &Root, n: &Root) {
    if p.consistent_snapshot != n.consistent_snapshot {
        out.push(format!("consistent_snapshot {:?} → {:?}", p.consistent_snapshot, n.consistent_snapshot));
    }
    key_changes(out, "root keys", &p.keys, &n.keys);
    let names: std::collections::BTreeSet<&String> = p.roles.keys().chain(n.roles.keys()).collect();
    for r in names {
        match (p.roles.get(r), n.roles.get(r)) {
            (Some(a), Some(b)) => {
                let added: Vec<String> = b.keyids.iter().filter(|k| !a.keyids.contains(k)).cloned().collect();
                let removed: Vec<String> = a.keyids.iter().filter(|k| !b.keyids.contains(k)).cloned().collect();
                if !added.is_empty() {
                    out.push(format!("role {r}: keys added {}", ids(&added)));
                }
                if !removed.is_empty() {
                    out.push(format!("role {r}: keys removed {}", ids(&removed)));
                }
                if a.threshold != b.threshold {
                    out.push(format!("role {r}: threshold {} → {}", a.threshold, b.threshold));
                }
                extra_changes(out, &format!("role {r}"), &a.extra, &b.extra);
            }
            (None, Some(_)) => out.push(format!("role {r} added")),
            (Some(_), None) => out.push(format!("role {r} removed")),
            _ => {}
        }
    }
    extra_changes(out, "signed", &p.extra, &n.extra);
}

fn key_changes(out: &mut Vec<String>, what: &str, a: &BTreeMap<String, Key>, b: &BTreeMap<String, Key>) {
    let mut lines = Vec::new();
    for (id, k) in b.iter().filter(|(id, _)| !a.contains_key(*id)) {
        lines.push(format!("{what}: added {}", key_desc(id, k)));
    }
    for (id, k) in a.iter().filter(|(id, _)| !b.contains_key(*id)) {
        lines.push(format!("{what}: removed {}", key_desc(id, k)));
    }
    for (id, k) in b.iter().filter(|(id, k)| a.get(*id).is_some_and(|old| old != *k)) {
        let note = if keyid(k) != *id { " (its keyid no longer matches its content)" } else { "" };
        lines.push(format!("{what}: key {} changed{note}", key_desc(id, k)));
    }
    capped(out, lines);
}

fn targets_changes(out: &mut Vec<String>, p: &Targets, n: &Targets) {
    let mut lines = Vec::new();
    for (path, t) in n.targets.iter().filter(|(path, _)| !p.targets.contains_key(*path)) {
        let h = t.hashes.get("sha256").or_else(|| t.hashes.values().next()).map(|h| format!(", sha256 {}…", short(h))).unwrap_or_default();
        lines.push(format!("target added: {path} ({} bytes{h})", t.length));
    }
    for path in p.targets.keys().filter(|path| !n.targets.contains_key(*path)) {
        lines.push(format!("target removed: {path}"));
    }
    for (path, t) in n.targets.iter() {
        let Some(old) = p.targets.get(path) else { continue };
        if old == t {
            continue;
        }
        let mut what = Vec::new();
        if old.length != t.length {
            what.push(format!("length {} → {}", old.length, t.length));
        }
        if old.hashes != t.hashes {
            what.push("hashes".to_string());
        }
        if old.extra != t.extra {
            what.push("custom/other fields".to_string());
        }
        lines.push(format!("target changed: {path} ({})", what.join(", ")));
    }
    capped(out, lines);
    match (&p.delegations, &n.delegations) {
        (None, None) => {}
        (None, Some(d)) => {
            out.push("delegations added".into());
            delegation_changes(out, &empty_delegations(), d);
        }
        (Some(d), None) => out.push(format!("all delegations removed ({} roles)", role_count(d))),
        (Some(a), Some(b)) => delegation_changes(out, a, b),
    }
    extra_changes(out, "signed", &p.extra, &n.extra);
}

fn empty_delegations() -> Delegations {
    Delegations { keys: BTreeMap::new(), roles: DelegatedRoles::Roles(Vec::new()), extra: Fields::new() }
}

fn role_count(d: &Delegations) -> usize {
    match &d.roles {
        DelegatedRoles::Roles(r) => r.len(),
        DelegatedRoles::Succinct(_) => 1,
    }
}

fn paths_desc(p: &PathSpec) -> String {
    let (kind, v) = match p {
        PathSpec::Paths(v) => ("paths", v),
        PathSpec::HashPrefixes(v) => ("hash prefixes", v),
    };
    let shown: Vec<&str> = v.iter().take(6).map(String::as_str).collect();
    format!("{kind} {}{}", shown.join(" "), if v.len() > 6 { format!(" … ({} in all)", v.len()) } else { String::new() })
}

fn delegation_changes(out: &mut Vec<String>, a: &Delegations, b: &Delegations) {
    key_changes(out, "delegated keys", &a.keys, &b.keys);
    match (&a.roles, &b.roles) {
        (DelegatedRoles::Roles(ra), DelegatedRoles::Roles(rb)) => {
            let by_name = |v: &[DelegatedRole]| -> BTreeMap<String, DelegatedRole> { v.iter().map(|r| (r.name.clone(), r.clone())).collect() };
            let (ma, mb) = (by_name(ra), by_name(rb));
            let mut lines = Vec::new();
            for r in rb.iter().filter(|r| !ma.contains_key(&r.name)) {
                lines.push(format!(
                    "delegation added: {} ({} of {} keys, {}terminating, {})",
                    r.name,
                    r.threshold,
                    r.keyids.len(),
                    if r.terminating == Some(true) { "" } else { "non-" },
                    paths_desc(&r.paths)
                ));
            }
            for r in ra.iter().filter(|r| !mb.contains_key(&r.name)) {
                lines.push(format!("delegation removed: {}", r.name));
            }
            for r in rb.iter() {
                let Some(old) = ma.get(&r.name) else { continue };
                if old == r {
                    continue;
                }
                let mut what = Vec::new();
                let added: Vec<String> = r.keyids.iter().filter(|k| !old.keyids.contains(k)).cloned().collect();
                let removed: Vec<String> = old.keyids.iter().filter(|k| !r.keyids.contains(k)).cloned().collect();
                if !added.is_empty() {
                    what.push(format!("keys added {}", ids(&added)));
                }
                if !removed.is_empty() {
                    what.push(format!("keys removed {}", ids(&removed)));
                }
                if old.threshold != r.threshold {
                    what.push(format!("threshold {} → {}", old.threshold, r.threshold));
                }
                if old.terminating != r.terminating {
                    what.push(format!("terminating {:?} → {:?}", old.terminating, r.terminating));
                }
                if old.paths != r.paths {
                    what.push(format!("{} → {}", paths_desc(&old.paths), paths_desc(&r.paths)));
                }
                if what.is_empty() {
                    what.push("other fields".into());
                }
                lines.push(format!("delegation changed: {}: {}", r.name, what.join("; ")));
            }
            capped(out, lines);
            let common_a: Vec<&str> = ra.iter().filter(|r| mb.contains_key(&r.name)).map(|r| r.name.as_str()).collect();
            let common_b: Vec<&str> = rb.iter().filter(|r| ma.contains_key(&r.name)).map(|r| r.name.as_str()).collect();
            if common_a != common_b {
                out.push("the delegations' search order changed (clients try roles in this order)".into());
            }
        }
        (x, y) if canonical_eq(x, y) => {}
        _ => out.push("delegated roles changed (succinct hashed bins)".into()),
    }
    extra_changes(out, "delegations", &a.extra, &b.extra);
}

fn canonical_eq(a: &DelegatedRoles, b: &DelegatedRoles) -> bool {
    match (a, b) {
        (DelegatedRoles::Succinct(x), DelegatedRoles::Succinct(y)) => canonical(x) == canonical(y),
        _ => false,
    }
}

fn meta_changes(out: &mut Vec<String>, a: &BTreeMap<String, MetaFile>, b: &BTreeMap<String, MetaFile>) {
    let mut lines = Vec::new();
    for (name, m) in b.iter().filter(|(n, _)| !a.contains_key(*n)) {
        lines.push(format!("meta added: {name} version {}", m.version));
    }
    for name in a.keys().filter(|n| !b.contains_key(*n)) {
        lines.push(format!("meta removed: {name}"));
    }
    for (name, m) in b {
        if let Some(old) = a.get(name) {
            if old.version != m.version {
                lines.push(format!("meta {name}: version {} → {}", old.version, m.version));
            } else if old != m {
                lines.push(format!("meta {name}: length or hashes changed at the same version"));
            }
        }
    }
    capped(out, lines);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuf::metadata::{TargetFile, Targets};
    use chrono::{Duration, Utc};

    #[test]
    fn targets_diff_lists_what_changed() {
        let now = Utc::now();
        let mut a = Targets::new(1, now + Duration::days(10));
        a.targets.insert("a.txt".into(), TargetFile::from_data(b"a"));
        a.targets.insert("b.txt".into(), TargetFile::from_data(b"b"));
        let mut b = a.clone();
        b.header.version = 2;
        b.targets.remove("a.txt");
        b.targets.insert("b.txt".into(), TargetFile::from_data(b"bb"));
        b.targets.insert("c.txt".into(), TargetFile::from_data(b"c"));
        let lines = changes(&Signed::Targets(a.clone()), &Signed::Targets(b));
        let text = lines.join("\n");
        assert!(text.contains("version 1 → 2"), "{text}");
        assert!(text.contains("target added: c.txt (1 bytes"), "{text}");
        assert!(text.contains("target removed: a.txt"), "{text}");
        assert!(text.contains("target changed: b.txt (length 1 → 2, hashes)"), "{text}");
        let mut same = a.clone();
        same.header.version = 2;
        let lines = changes(&Signed::Targets(a), &Signed::Targets(same));
        assert!(lines.last().unwrap().contains("nothing else changed"), "{lines:?}");
    }
}

/// A JSON diff of two versions of a role, for `--diff`: a list of `{"op": "add" | "remove"
/// | "change", "path": JSON path, "old": …, "new": …}`. Arrays of objects with a `name`
/// (delegated roles) are matched by name, so moving projects into `claimed` reads as
/// additions, not as every later entry changing.
pub fn json_diff(prev: &Signed, next: &Signed) -> serde_json::Value {
    let to_json = |s: &Signed| serde_json::from_slice::<serde_json::Value>(&crate::tuf::encode::pretty(s)).unwrap_or(serde_json::Value::Null);
    let mut out = Vec::new();
    diff_values("$", &to_json(prev), &to_json(next), &mut out);
    serde_json::Value::Array(out)
}

fn diff_values(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
    use serde_json::{Value, json};
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let p = format!("{path}.{k}");
                match y.get(k) {
                    Some(vb) => diff_values(&p, va, vb, out),
                    None => out.push(json!({"op": "remove", "path": p, "old": va})),
                }
            }
            for (k, vb) in y.iter().filter(|(k, _)| !x.contains_key(*k)) {
                out.push(json!({"op": "add", "path": format!("{path}.{k}"), "new": vb}));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.iter().chain(y).all(|v| v.get("name").and_then(Value::as_str).is_some()) => {
            let name = |v: &Value| v.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            let ys: BTreeMap<String, &Value> = y.iter().map(|v| (name(v), v)).collect();
            let xs: BTreeMap<String, &Value> = x.iter().map(|v| (name(v), v)).collect();
            for v in x {
                let p = format!("{path}[name={:?}]", name(v));
                match ys.get(&name(v)) {
                    Some(w) => diff_values(&p, v, w, out),
                    None => out.push(json!({"op": "remove", "path": p, "old": v})),
                }
            }
            for v in y.iter().filter(|v| !xs.contains_key(&name(v))) {
                out.push(json!({"op": "add", "path": format!("{path}[name={:?}]", name(v)), "new": v}));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff_values(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if a != b => out.push(json!({"op": "change", "path": path, "old": a, "new": b})),
        _ => {}
    }
}

#[cfg(test)]
mod json_diff_tests {
    use super::json_diff;
    use crate::tuf::metadata::{DelegatedRole, Signed, Targets};

    fn with_roles(names: &[&str]) -> Signed {
        let mut t = Targets::new(1, chrono::DateTime::from_timestamp(2_000_000_000, 0).unwrap());
        for n in names {
            t.delegate(DelegatedRole::with_paths(n, vec![], 1, true, vec![format!("{n}/*")]), []);
        }
        Signed::Targets(t)
    }

    #[test]
    fn delegated_roles_are_matched_by_name() {
        let d = json_diff(&with_roles(&["a", "b", "c"]), &with_roles(&["a", "c", "d"]));
        let ops: Vec<(String, String)> = d.as_array().unwrap().iter().map(|o| (o["op"].as_str().unwrap().into(), o["path"].as_str().unwrap().into())).collect();
        assert_eq!(
            ops,
            [("remove".to_string(), "$.delegations.roles[name=\"b\"]".to_string()), ("add".to_string(), "$.delegations.roles[name=\"d\"]".to_string())]
        );
        assert_eq!(json_diff(&with_roles(&["a"]), &with_roles(&["a"])), serde_json::json!([]));
    }
}
