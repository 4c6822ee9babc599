//! Moving projects into `claimed` (PEP 480): a batch of project registrations becomes
//! terminating delegations with paths `<project>/*` in the offline `claimed` role.
//!
//! A batch comes either from the online system's `recently-claimed` metadata (verified
//! against its online key by the caller) or from a reviewed list. Conflicts — a project
//! already claimed with other keys — are refused unless the operator names the project as
//! a key rotation. Fast with 100,000+ projects: one pass builds a name index, each change is
//! O(log n) on the key map, and nothing is re-parsed.

use crate::tuf::json::{Reader, Result as JsonResult};
use crate::tuf::keys::{PublicKey, keyid};
use crate::tuf::metadata::{DelegatedRole, DelegatedRoles, Delegations, Key, Metadata, PathSpec, Targets};
use crate::tuf::rules::role_name_ok;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One project registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub project: String,
    pub keys: Vec<Key>,
    pub threshold: u64,
}

/// What to do to `claimed`.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    pub add: Vec<Registration>,
    /// Projects whose developer keys may be replaced by the batch (operator confirmed).
    pub rotate: BTreeSet<String>,
    pub remove: BTreeSet<String>,
}

/// What changed, for the change report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    /// Already claimed with exactly these keys: nothing to do.
    pub unchanged: Vec<String>,
}

impl Report {
    pub fn render(&self) -> String {
        let mut s = format!(
            "claimed: {} added, {} changed (key rotation), {} removed, {} unchanged\n",
            self.added.len(),
            self.changed.len(),
            self.removed.len(),
            self.unchanged.len()
        );
        for (what, v) in [("added", &self.added), ("changed", &self.changed), ("removed", &self.removed), ("unchanged", &self.unchanged)] {
            for p in v {
                s.push_str(&format!("{what} {p}\n"));
            }
        }
        s
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimError {
    #[error("project {0:?}: name must be 1-64 characters of A-Z a-z 0-9 . _ - ~ and not a top-level role name")]
    BadName(String),
    #[error("project {0:?} is already claimed with other keys; refusing unless it is confirmed as a key rotation (--rotate {0})")]
    Conflict(String),
    #[error("project {0:?} appears twice in the batch")]
    Duplicate(String),
    #[error("project {0:?}: {1}")]
    BadKeys(String, String),
    #[error("project {0:?} is not claimed; cannot {1} it")]
    NotClaimed(String, &'static str),
    #[error("claimed delegates with succinct_roles; projects need explicit roles")]
    Succinct,
    #[error("claims go into a targets role")]
    NotTargets,
}

/// A project name: a role name the writer accepts, at most 64 characters, no leading dot.
pub fn project_name_ok(p: &str) -> bool {
    role_name_ok(p) && p.len() <= 64 && !p.starts_with('.')
}

/// Validates a registration's shape.
fn check(r: &Registration) -> Result<(), ClaimError> {
    if !project_name_ok(&r.project) {
        return Err(ClaimError::BadName(r.project.clone()));
    }
    if r.keys.is_empty() {
        return Err(ClaimError::BadKeys(r.project.clone(), "no developer keys".into()));
    }
    let distinct: BTreeSet<String> = r.keys.iter().map(keyid).collect();
    if r.threshold < 1 || r.threshold as usize > distinct.len() {
        return Err(ClaimError::BadKeys(r.project.clone(), format!("threshold {} with {} distinct keys", r.threshold, distinct.len())));
    }
    for k in &r.keys {
        PublicKey::from_key(k, false).map_err(|e| ClaimError::BadKeys(r.project.clone(), e.to_string()))?;
    }
    Ok(())
}

fn role_for(r: &Registration) -> DelegatedRole {
    let mut ids: Vec<String> = r.keys.iter().map(keyid).collect();
    ids.sort();
    ids.dedup();
    DelegatedRole {
        name: r.project.clone(),
        keyids: ids,
        threshold: r.threshold,
        terminating: Some(true),
        paths: PathSpec::Paths(vec![format!("{}/*", r.project)]),
        extra: Default::default(),
    }
}

/// Applies `batch` to `claimed`. All-or-nothing: on any error `claimed` is unchanged.
pub fn apply(claimed: &mut Targets, batch: &Batch) -> Result<Report, ClaimError> {
    let mut seen = BTreeSet::new();
    for r in &batch.add {
        check(r)?;
        if !seen.insert(r.project.as_str()) {
            return Err(ClaimError::Duplicate(r.project.clone()));
        }
    }
    let empty = Delegations { keys: BTreeMap::new(), roles: DelegatedRoles::Roles(Vec::new()), extra: Default::default() };
    let d = claimed.delegations.get_or_insert(empty);
    let DelegatedRoles::Roles(roles) = &mut d.roles else { return Err(ClaimError::Succinct) };
    // Decide everything before changing anything, with an index that borrows the names.
    let mut report = Report::default();
    let mut replace: Vec<(usize, DelegatedRole)> = Vec::new();
    let mut append: Vec<DelegatedRole> = Vec::new();
    {
        let index: HashMap<&str, usize> = roles.iter().enumerate().map(|(i, r)| (r.name.as_str(), i)).collect();
        for p in &batch.remove {
            if !index.contains_key(p.as_str()) {
                return Err(ClaimError::NotClaimed(p.clone(), "remove"));
            }
        }
        for p in &batch.rotate {
            if !index.contains_key(p.as_str()) {
                return Err(ClaimError::NotClaimed(p.clone(), "rotate"));
            }
        }
        for r in &batch.add {
            let new = role_for(r);
            match index.get(r.project.as_str()) {
                None => {
                    report.added.push(r.project.clone());
                    append.push(new);
                }
                Some(&i) => {
                    let old = &roles[i];
                    let same = old.keyids == new.keyids && old.threshold == new.threshold && old.paths == new.paths && old.terminating == Some(true);
                    if same {
                        report.unchanged.push(r.project.clone());
                    } else if batch.rotate.contains(&r.project) {
                        report.changed.push(r.project.clone());
                        replace.push((i, new));
                    } else {
                        return Err(ClaimError::Conflict(r.project.clone()));
                    }
                }
            }
        }
    }
    let drops_keys = !replace.is_empty() || !batch.remove.is_empty();
    for (i, role) in replace {
        roles[i] = role;
    }
    if !batch.remove.is_empty() {
        roles.retain(|r| !batch.remove.contains(&r.name));
        report.removed.extend(batch.remove.iter().cloned());
    }
    roles.extend(append);
    for r in &batch.add {
        for k in &r.keys {
            d.keys.entry(keyid(k)).or_insert_with(|| k.clone());
        }
    }
    // Drop keys no role uses any more (removed projects, rotated-out developer keys); only
    // a removal or a rotation can leave one behind.
    if drops_keys {
        let used: BTreeSet<&String> = roles.iter().flat_map(|r| r.keyids.iter()).collect();
        d.keys.retain(|id, _| used.contains(id));
    }
    Ok(report)
}

/// Registrations from a verified `recently-claimed` role: each of its delegated roles
/// (a project) with its keys and threshold.
pub fn from_recently_claimed(md: &Metadata) -> Result<Vec<Registration>, String> {
    let t = md.signed.as_targets().ok_or("recently-claimed is not a targets role")?;
    let Some(d) = &t.delegations else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for r in t.delegated_roles() {
        let keys = r
            .keyids
            .iter()
            .map(|id| d.keys.get(id).cloned().ok_or_else(|| format!("project {}: keyid {id} not in recently-claimed's keys", r.name)))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Registration { project: r.name.clone(), keys, threshold: r.threshold });
    }
    Ok(out)
}

/// A reviewed list: a JSON array of `{"project": NAME, "keys": [TUF key objects], "threshold": N}`.
pub fn parse_list(bytes: &[u8]) -> JsonResult<Vec<Registration>> {
    let mut r = Reader::new(bytes)?;
    let mut out = Vec::new();
    r.array(|r, _| {
        let (mut project, mut keys, mut threshold) = (None, None, None);
        r.object(|r, k| {
            match &*k {
                "project" => {
                    let p = r.string()?;
                    if !project_name_ok(&p) {
                        return Err(crate::tuf::json::JsonError::invalid(format!(
                            "\"{}\" is not a project name (1-64 characters of A-Z a-z 0-9 . _ - ~, not starting with a dot)",
                            crate::util::text::one_line(&p)
                        )));
                    }
                    project = Some(p)
                }
                "threshold" => {
                    let t = r.int()?;
                    if t < 1 {
                        return Err(crate::tuf::json::JsonError::invalid(format!("{t} is not a threshold (at least 1)")));
                    }
                    threshold = Some(t)
                }
                "keys" => {
                    let mut v = Vec::new();
                    r.array(|r, _| {
                        v.push(crate::tuf::metadata::read_key(r)?);
                        Ok(())
                    })?;
                    keys = Some(v);
                }
                other => return Err(crate::tuf::json::JsonError::invalid(format!("unknown field {other:?} (expected project, keys, threshold)"))),
            }
            Ok(())
        })?;
        let missing = |f: &'static str| crate::tuf::json::JsonError::new(crate::tuf::json::JsonErrorKind::MissingField(f));
        out.push(Registration {
            project: project.ok_or_else(|| missing("project"))?,
            keys: keys.ok_or_else(|| missing("keys"))?,
            threshold: threshold.map_or(1, |t| t as u64),
        });
        Ok(())
    })?;
    r.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signer::Signer;
    use crate::signer::software::SoftwareKey;
    use crate::tuf::keys::Algorithm;

    fn reg(p: &str, seed: u8) -> Registration {
        let k = SoftwareKey::from_secret(crate::signer::software::SecretKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32])), p);
        Registration { project: p.into(), keys: vec![k.public_key().to_key()], threshold: 1 }
    }

    fn claimed() -> Targets {
        Targets::new(1, chrono::Utc::now())
    }

    #[test]
    fn add_change_remove_and_conflicts() {
        let mut c = claimed();
        let r = apply(&mut c, &Batch { add: vec![reg("django", 1), reg("numpy", 2)], ..Default::default() }).unwrap();
        assert_eq!(r.added, vec!["django", "numpy"]);
        assert_eq!(c.delegated_roles()[0].paths, PathSpec::Paths(vec!["django/*".into()]));
        assert_eq!(c.delegated_roles()[0].terminating, Some(true));
        // Same again: unchanged.
        let r = apply(&mut c, &Batch { add: vec![reg("django", 1)], ..Default::default() }).unwrap();
        assert_eq!(r.unchanged, vec!["django"]);
        // Other keys: refused, and nothing changes.
        let before = c.clone();
        assert_eq!(apply(&mut c, &Batch { add: vec![reg("flask", 4), reg("django", 3)], ..Default::default() }), Err(ClaimError::Conflict("django".into())));
        assert_eq!(c, before);
        // Confirmed rotation.
        let r = apply(&mut c, &Batch { add: vec![reg("django", 3)], rotate: ["django".to_string()].into(), ..Default::default() }).unwrap();
        assert_eq!(r.changed, vec!["django"]);
        assert_eq!(c.delegations.as_ref().unwrap().keys.len(), 2, "the rotated-out key is dropped");
        let r = apply(&mut c, &Batch { remove: ["numpy".to_string()].into(), ..Default::default() }).unwrap();
        assert_eq!(r.removed, vec!["numpy"]);
        assert_eq!(c.delegated_roles().len(), 1);
        assert_eq!(c.delegations.as_ref().unwrap().keys.len(), 1);
        assert!(matches!(apply(&mut c, &Batch { add: vec![reg("a/b", 5)], ..Default::default() }), Err(ClaimError::BadName(_))));
        assert!(matches!(apply(&mut c, &Batch { add: vec![reg("x", 5), reg("x", 6)], ..Default::default() }), Err(ClaimError::Duplicate(_))));
        assert!(matches!(apply(&mut c, &Batch { remove: ["nope".to_string()].into(), ..Default::default() }), Err(ClaimError::NotClaimed(..))));
    }

    #[test]
    fn list_format() {
        let k = SoftwareKey::generate(Algorithm::Ed25519, "x").unwrap().public_key().to_key();
        let key_json = String::from_utf8(crate::tuf::encode::canonical(&k)).unwrap();
        let text = format!(r#"[{{"project": "django", "keys": [{key_json}], "threshold": 1}}]"#);
        let v = parse_list(text.as_bytes()).unwrap();
        assert_eq!(v[0].project, "django");
        assert!(parse_list(br#"[{"project": "x", "keys": [], "oops": 1}]"#).is_err());
    }
}
