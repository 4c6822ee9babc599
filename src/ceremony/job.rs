//! What a run of the engine produces: a whole new repository (or root rotation) from the
//! plan, or new versions of existing offline roles — re-signed before they expire, or with
//! projects moved into `claimed`. Both go through the same steps (tokens, signing,
//! verification, export, transcript); only the build step differs.

use super::claims::{self, Batch};
use crate::audit::{MetadataFile, MetadataSet};
use crate::tuf::keys::sha256_hex;
use crate::tuf::metadata::{Metadata, Mode};
use std::path::Path;

#[derive(Clone, Debug, Default)]
pub enum Job {
    /// The plan's ceremony: new root, targets and offline delegated roles (or a root rotation).
    #[default]
    Ceremony,
    Update(Update),
}

/// New versions of existing offline roles.
#[derive(Clone, Debug)]
pub struct Update {
    /// Short label naming the media folder and working directory (e.g. "resign-claimed-v3").
    pub label: String,
    /// Roles to write a new version of, in signing order.
    pub roles: Vec<String>,
    /// Projects to move into the role named `claims_role`.
    pub claims: Option<(String, Batch)>,
    /// Override the plan's expiry (days from the ceremony time).
    pub expires_days: Option<i64>,
    /// Also show (and export as CHANGES.json) a JSON diff of each role.
    pub json_diff: bool,
    /// The current metadata files (root history and the newest version of each role).
    pub current: std::sync::Arc<CurrentFiles>,
}

/// The repository as it is now, read from a metadata folder.
pub struct CurrentFiles {
    pub set: MetadataSet,
    /// sha256 of every file read, to fingerprint the job.
    pub digests: Vec<(String, String)>,
}

impl Job {
    /// A fingerprint of what this run produces: a working directory belongs to one job.
    pub fn fingerprint(&self, plan_sha256: &str) -> String {
        match self {
            Job::Ceremony => plan_sha256.to_string(),
            Job::Update(u) => {
                let mut s = format!("{plan_sha256}\n{}\n{:?}\n{:?}\n", u.label, u.roles, u.expires_days);
                if let Some((role, b)) = &u.claims {
                    s.push_str(&format!("{role} {:?} {:?} {}\n", b.rotate, b.remove, b.add.len()));
                    for r in &b.add {
                        s.push_str(&format!("{} {} {:?}\n", r.project, r.threshold, r.keys.iter().map(crate::tuf::keys::keyid).collect::<Vec<_>>()));
                    }
                }
                for (f, h) in &u.current.digests {
                    s.push_str(&format!("{f} {h}\n"));
                }
                sha256_hex(s.as_bytes())
            }
        }
    }
}

impl std::fmt::Debug for CurrentFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentFiles").field("files", &self.digests).finish()
    }
}

/// Reads a metadata folder (or a ceremony's media folder) strictly: every root version,
/// and the newest version of each other role. Which files are there and what their names
/// say is `audit::layout::inventory`'s answer, the same as `verify`'s and `status`'s.
pub fn read_current(dir: &Path) -> Result<CurrentFiles, String> {
    let inv = crate::audit::layout::inventory(dir).map_err(|e| e.to_string())?;
    let mut set = MetadataSet::default();
    let mut digests = Vec::new();
    for (role, entries) in &inv.entries {
        for e in entries {
            let name = e.rel.strip_prefix(inv.prefix.as_str()).unwrap_or(&e.rel).to_string();
            let bytes = crate::util::fsx::read_large_in(&e.path).map_err(|err| format!("{}: {err}", e.path.display()))?;
            let md = Metadata::from_bytes(&bytes, Mode::Strict).map_err(|err| format!("{}: {err}", e.path.display()))?;
            if let Some(v) = e.version
                && md.version() != v
            {
                return Err(format!("{}: the file name says version {v} but it holds version {}", e.path.display(), md.version()));
            }
            digests.push((name.clone(), sha256_hex(&bytes)));
            let f = MetadataFile::new(name, bytes, md);
            if role == "root" {
                if e.version.is_some() {
                    set.roots.insert(f.md.version(), f);
                }
            } else if set.roles.get(role).is_none_or(|old| old.md.version() < f.md.version()) {
                set.roles.insert(role.clone(), f);
            }
        }
    }
    digests.sort();
    if set.roots.is_empty() {
        return Err(format!("{}: no N.root.json here", inv.metadata_dir.display()));
    }
    Ok(CurrentFiles { set, digests })
}

/// The roles a client can reach: root, targets, and every role the delegation tree from
/// targets names, through the roles present here. A role file nothing delegates to is
/// never fetched by a client, so it is never updated either.
pub fn reachable_roles(current: &CurrentFiles) -> std::collections::BTreeSet<String> {
    let mut seen: std::collections::BTreeSet<String> = ["root".to_string(), "targets".to_string()].into();
    let mut todo = vec!["targets".to_string()];
    while let Some(r) = todo.pop() {
        let Some(t) = current.set.roles.get(&r).and_then(|f| f.md.signed.as_targets()) else { continue };
        for d in t.delegated_roles() {
            if seen.insert(d.name.clone()) {
                todo.push(d.name.clone());
            }
        }
    }
    seen
}

/// Checks a role name given for an update: one the writer accepts, that the delegation
/// tree reaches, and that is here. `what` is the option or argument it came from.
pub fn updatable_role(current: &CurrentFiles, role: &str) -> Result<(), String> {
    let shown = crate::util::text::one_line(role);
    if role == "snapshot" || role == "timestamp" {
        return Err(format!("{shown} is an online role; the online system re-signs it"));
    }
    if role != "root" && role != "targets" && !crate::tuf::rules::role_name_ok(role) {
        return Err(format!("\"{shown}\" is not a role name this tool writes (letters, digits, . _ ~ -; not . or ..)"));
    }
    if role != "root" && !current.set.roles.contains_key(role) {
        let present: Vec<&str> = current.set.roles.keys().map(String::as_str).collect();
        return Err(format!("no {shown} role here (roles present: {})", one_line_list(&present)));
    }
    if !reachable_roles(current).contains(role) {
        return Err(format!("nothing delegates to {shown}: no client would fetch it, so it is not updated (a file named after a role is not a role)"));
    }
    Ok(())
}

fn one_line_list(v: &[&str]) -> String {
    v.iter().map(|s| crate::util::text::one_line(s).into_owned()).collect::<Vec<_>>().join(", ")
}

/// Applies a claims batch to a role's metadata, returning the change report.
pub fn apply_claims(md: &mut Metadata, batch: &Batch) -> Result<claims::Report, claims::ClaimError> {
    let crate::tuf::metadata::Signed::Targets(t) = &mut md.signed else {
        return Err(claims::ClaimError::NotTargets);
    };
    claims::apply(t, batch)
}

/// Registrations from the online system's `recently-claimed` metadata, accepted only if it
/// is signed by the key(s) targets delegates `recently-claimed` to and has not expired at
/// `now`. A forged or stale file is refused with the reason.
pub fn registrations_from_recently_claimed(
    current: &CurrentFiles,
    md: &Metadata,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<claims::Registration>, String> {
    let targets = current.set.roles.get("targets").and_then(|f| f.md.signed.as_targets()).ok_or("no targets role to check recently-claimed against")?;
    let check = crate::tuf::verify::check_delegated(targets, "recently-claimed", md, &md.signed_bytes(), false)
        .ok_or("targets does not delegate to recently-claimed")?;
    if !check.met() {
        return Err(format!(
            "not signed by the recently-claimed key targets delegates to ({} of {} valid signatures): refusing a forged or corrupted file",
            check.valid(),
            check.threshold
        ));
    }
    if md.signed.header().expires.at() <= now {
        return Err(format!("expired at {}", md.signed.header().expires.as_str()));
    }
    claims::from_recently_claimed(md)
}
