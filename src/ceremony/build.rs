//! Builds the ceremony's unsigned metadata from the plan and the keyholders' keys.
//! Deterministic: the same plan, keys and ceremony time give the same bytes, which is
//! what lets an interrupted ceremony resume and keep the signatures it already has.

use super::plan::{Plan, Signers};
use crate::tuf::bins::HashBins;
use crate::tuf::keys::keyid;
use crate::tuf::metadata::{DelegatedRole, Key, Metadata, PathSpec, Root, Signed, Targets};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// What the ceremony writes: role name → unsigned metadata, in signing order.
pub struct Drafts {
    pub roles: Vec<(String, Metadata)>,
}

/// The file name a role is exported under (consistent snapshots: `V.<role>.json`).
pub fn file_name(role: &str, md: &Metadata) -> String {
    format!("{}.{role}.json", md.version())
}

/// Whether this ceremony writes only a new root (a rotation) or a whole new repository.
pub fn rotation_only(plan: &Plan) -> bool {
    plan.previous_root.is_some()
}

pub fn build(plan: &Plan, keys: &BTreeMap<String, Key>, now: DateTime<Utc>) -> Result<Drafts, String> {
    let key_of = |holder: &str| keys.get(holder).cloned().ok_or_else(|| format!("no key recorded for keyholder {holder}"));
    let mut roles = Vec::new();

    let version = plan.previous_root.as_ref().map(|(md, _)| md.version() + 1).unwrap_or(1);
    let mut root = Root::new(version, plan.root.expiry.resolve(now));
    root.consistent_snapshot = Some(plan.consistent_snapshot);
    for h in &plan.root.keyholders {
        root.add_key("root", key_of(h)?);
    }
    for h in &plan.targets.keyholders {
        root.add_key("targets", key_of(h)?);
    }
    root.add_key("snapshot", plan.snapshot_key.clone());
    root.add_key("timestamp", plan.timestamp_key.clone());
    root.set_threshold("root", plan.root.threshold);
    root.set_threshold("targets", plan.targets.threshold);
    roles.push(("root".to_string(), Metadata::new(Signed::Root(root))));
    if rotation_only(plan) {
        return Ok(Drafts { roles });
    }

    let mut targets = Targets::new(1, plan.targets.expiry.resolve(now));
    add_children(plan, "targets", &mut targets, &key_of)?;
    roles.push(("targets".to_string(), Metadata::new(Signed::Targets(targets))));

    for d in &plan.delegations {
        let Signers::Offline(r) = &d.signers else { continue };
        let mut t = Targets::new(1, r.expiry.resolve(now));
        add_children(plan, &d.name, &mut t, &key_of)?;
        if let Some((bins, online)) = &d.bins {
            add_bins(&mut t, bins, online);
        }
        roles.push((d.name.clone(), Metadata::new(Signed::Targets(t))));
    }
    Ok(Drafts { roles })
}

/// Adds the delegations whose delegator is `parent`, in plan (search) order.
fn add_children(plan: &Plan, parent: &str, t: &mut Targets, key_of: &dyn Fn(&str) -> Result<Key, String>) -> Result<(), String> {
    for d in plan.delegations.iter().filter(|d| d.delegator == parent) {
        let (keys, threshold) = match &d.signers {
            Signers::Offline(r) => (r.keyholders.iter().map(|h| key_of(h)).collect::<Result<Vec<_>, _>>()?, r.threshold),
            Signers::Online(k) => (vec![k.clone()], 1),
        };
        let keyids = keys.iter().map(keyid).collect();
        t.delegate(DelegatedRole::with_paths(&d.name, keyids, threshold, d.terminating, d.paths.clone()), keys);
    }
    Ok(())
}

fn add_bins(t: &mut Targets, bins: &HashBins, online: &Key) {
    let id = keyid(online);
    let roles = bins.roles(std::slice::from_ref(&id), 1);
    let d = t.delegations.get_or_insert_with(|| crate::tuf::metadata::Delegations {
        keys: BTreeMap::new(),
        roles: crate::tuf::metadata::DelegatedRoles::Roles(Vec::new()),
        extra: Default::default(),
    });
    d.keys.entry(id).or_insert_with(|| online.clone());
    if let crate::tuf::metadata::DelegatedRoles::Roles(v) = &mut d.roles {
        v.extend(roles);
    }
    debug_assert!(t.delegated_roles().iter().all(|r| !matches!(&r.paths, PathSpec::Paths(p) if p.is_empty())));
}

/// Which keyholders sign `role`: the plan's signers, plus for a rotated root every
/// keyholder whose key is a root key of the previous version.
pub fn signers_of(plan: &Plan, role: &str, keys: &BTreeMap<String, Key>) -> Vec<String> {
    let mut v: Vec<String> = plan.offline_roles().into_iter().filter(|r| r.name == role).flat_map(|r| r.keyholders.clone()).collect();
    if role == "root"
        && let Some((prev, _)) = &plan.previous_root
    {
        let old: Vec<&String> = prev.signed.as_root().and_then(|r| r.roles.get("root")).map(|r| r.keyids.iter().collect()).unwrap_or_default();
        for k in &plan.keyholders {
            if !v.contains(&k.name) && keys.get(&k.name).is_some_and(|key| old.contains(&&keyid(key))) {
                v.push(k.name.clone());
            }
        }
    }
    v
}

/// For a root rotation run against the current repository: a new version of every role
/// whose own keys change (targets, offline delegated roles) and of every role that
/// delegates to an offline role whose keys change, nested ones included (a delegator is
/// always targets or an offline role defined above its children, so one pass in plan order
/// sees a parent before its children). Content is kept; only the version, the plan's expiry
/// and the delegation keys change, and there are no signatures yet. Without this, a
/// keyholder who left would keep signing power over a nested offline role.
pub fn rotation_followups(
    plan: &Plan,
    keys: &BTreeMap<String, Key>,
    now: DateTime<Utc>,
    current: &crate::ceremony::job::CurrentFiles,
) -> Result<Vec<(String, Metadata)>, String> {
    use std::collections::BTreeSet;
    let key_of = |holder: &str| keys.get(holder).cloned().ok_or_else(|| format!("no key recorded for keyholder {holder}"));
    let Some((prev, _)) = &plan.previous_root else { return Ok(Vec::new()) };
    if !current.set.roles.contains_key("targets") {
        return Ok(Vec::new());
    }
    let prev_root = prev.signed.as_root().ok_or("previous root is not a root")?;
    let new_targets_ids: BTreeSet<String> = plan.targets.keyholders.iter().map(|h| key_of(h).map(|k| keyid(&k))).collect::<Result<_, _>>()?;
    let old = prev_root.roles.get("targets").ok_or("previous root has no targets role")?;
    let targets_keys_changed = new_targets_ids != old.keyids.iter().cloned().collect() || old.threshold != plan.targets.threshold;

    let offline = plan.offline_roles();
    let expiry_of = |role: &str| -> Result<DateTime<Utc>, String> {
        if role == "targets" {
            return Ok(plan.targets.expiry.resolve(now));
        }
        offline.iter().find(|r| r.name == role).map(|r| r.expiry.resolve(now)).ok_or_else(|| format!("no expiry for {role}"))
    };
    let delegators = std::iter::once("targets").chain(plan.delegations.iter().filter(|d| matches!(d.signers, Signers::Offline(_))).map(|d| d.name.as_str()));
    let mut rekeyed: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for parent in delegators {
        let own_keys_changed = if parent == "targets" { targets_keys_changed } else { rekeyed.contains(parent) };
        let children: Vec<&super::plan::Delegation> = plan.delegations.iter().filter(|d| d.delegator == parent).collect();
        let offline_children: Vec<&str> = children.iter().filter(|d| matches!(d.signers, Signers::Offline(_))).map(|d| d.name.as_str()).collect();
        if !own_keys_changed && offline_children.is_empty() {
            continue; // nothing to re-sign (and no 100,000-project role copied for nothing)
        }
        let Some(f) = current.set.roles.get(parent) else {
            return Err(if own_keys_changed {
                format!("the current metadata has no {parent} role to re-sign with its new keys")
            } else {
                // Without it, whether the keys of its offline roles change cannot be told.
                format!("the current metadata has no {parent} role, which delegates to {}", offline_children.join(", "))
            });
        };
        let listed: Vec<&str> = f.md.signed.as_targets().map(|t| t.delegated_roles().iter().map(|r| r.name.as_str()).collect()).unwrap_or_default();
        if let Some(missing) = offline_children.iter().find(|c| !listed.contains(c)) {
            return Err(format!("the plan says {parent} delegates to {missing}, but the current {parent} does not: a rotation cannot add roles"));
        }
        let mut md = f.md.clone();
        let changed = rekey_offline_children(&mut md, &children, &key_of)?;
        if own_keys_changed || !changed.is_empty() {
            md.signatures.clear();
            let h = md.signed.header_mut();
            h.version += 1;
            h.expires = crate::tuf::metadata::Expires::from_datetime(expiry_of(parent)?);
            out.push((parent.to_string(), md));
        }
        rekeyed.extend(changed);
    }
    Ok(out)
}

/// Points `md`'s delegations to offline `children` at the plan's keys and thresholds;
/// returns the names of those that changed. Keys no delegation uses any more are dropped.
fn rekey_offline_children(
    md: &mut Metadata,
    children: &[&super::plan::Delegation],
    key_of: &dyn Fn(&str) -> Result<Key, String>,
) -> Result<Vec<String>, String> {
    use crate::tuf::metadata::DelegatedRoles;
    use std::collections::BTreeSet;
    let Signed::Targets(t) = &mut md.signed else { return Ok(Vec::new()) };
    let Some(d) = &mut t.delegations else { return Ok(Vec::new()) };
    let DelegatedRoles::Roles(roles) = &mut d.roles else { return Ok(Vec::new()) };
    let mut changed = Vec::new();
    let mut new_keys = Vec::new();
    for del in children {
        let Signers::Offline(r) = &del.signers else { continue };
        let Some(entry) = roles.iter_mut().find(|e| e.name == del.name) else { continue };
        let ks = r.keyholders.iter().map(|h| key_of(h)).collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<String> = ks.iter().map(keyid).collect();
        let same = ids.iter().collect::<BTreeSet<_>>() == entry.keyids.iter().collect::<BTreeSet<_>>() && entry.threshold == r.threshold;
        if !same {
            entry.keyids = ids;
            entry.threshold = r.threshold;
            new_keys.extend(ks);
            changed.push(del.name.clone());
        }
    }
    if !changed.is_empty() {
        for k in new_keys {
            d.keys.entry(keyid(&k)).or_insert(k);
        }
        let used: BTreeSet<String> = roles.iter().flat_map(|r| r.keyids.iter().cloned()).collect();
        d.keys.retain(|id, _| used.contains(id));
    }
    Ok(changed)
}

/// The unsigned drafts of a plan whose signing keys are all in it (keys from an earlier
/// ceremony, `key = FILE`), built at `now` by [`build`] as a ceremony would, with no token:
/// what `sign-request` takes when the keyholders' devices sign apart (`plan drafts`). Files
/// as on a ceremony's media: `metadata/<V>.<role>.json` (writer rules for the plan's
/// clients) and `keys/<holder>/<holder>.key.json` / `.pub.pem`, where `sign-request` finds
/// the keyholders' names.
pub fn drafts_from_plan(plan: &Plan, now: DateTime<Utc>) -> Result<Vec<(String, Vec<u8>)>, String> {
    let needed: Vec<&str> = plan.offline_roles().iter().flat_map(|r| r.keyholders.iter()).map(String::as_str).collect();
    let missing: Vec<&str> = plan.keyholders.iter().filter(|k| k.existing.is_none() && needed.contains(&k.name.as_str())).map(|k| k.name.as_str()).collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} get their keys in the ceremony: drafts without one need every signing keyholder's key in the plan (key = FILE)",
            missing.join(", ")
        ));
    }
    let keys: BTreeMap<String, Key> = plan.keyholders.iter().filter_map(|k| k.existing.as_ref().map(|e| (k.name.clone(), e.key.clone()))).collect();
    let mut out = Vec::new();
    for (role, md) in build(plan, &keys, now)?.roles {
        let bytes = crate::tuf::write(&md, plan.clients).map_err(|e| format!("{role}: {e}"))?;
        out.push((format!("metadata/{}", file_name(&role, &md)), bytes));
    }
    for k in &plan.keyholders {
        if let Some(e) = &k.existing {
            out.push((format!("keys/{0}/{0}.key.json", k.name), crate::tuf::encode::pretty(&e.key)));
            out.push((format!("keys/{0}/{0}.pub.pem", k.name), e.public.to_pem().into_bytes()));
        }
    }
    Ok(out)
}
