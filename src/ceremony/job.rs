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

impl Update {
    /// The folder the update exports to on the media, `<ceremony id>-<label>`.
    pub fn media_folder(&self, ceremony: &str) -> String {
        format!("{ceremony}-{}", self.label)
    }
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
                for (f, h) in u.current.decisive_digests() {
                    s.push_str(&format!("{f} {h}\n"));
                }
                sha256_hex(s.as_bytes())
            }
        }
    }
}

impl CurrentFiles {
    /// The files an update's output depends on: every one but snapshot and timestamp, which
    /// the online system re-signs every day and an update never reads. An interrupted run
    /// resumes with a fresher copy of the repository as long as these are the same.
    pub fn decisive_digests(&self) -> Vec<(String, String)> {
        self.digests
            .iter()
            .filter(|(f, _)| {
                let name = f.rsplit('/').next().unwrap_or(f);
                !matches!(crate::audit::layout::parse_name(name), Some((r, _)) if r == "snapshot" || r == "timestamp")
            })
            .cloned()
            .collect()
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

/// The keyids that may sign `role` in the current metadata and how many must: root's
/// entry for a top-level role, the delegating role's for a delegated one.
pub fn current_authority(current: &CurrentFiles, role: &str) -> Option<(Vec<String>, u64)> {
    let root = current.set.roots.values().next_back()?.md.signed.as_root()?;
    if let Some(rk) = root.roles.get(role) {
        return Some((rk.keyids.clone(), rk.threshold));
    }
    current
        .set
        .roles
        .values()
        .filter_map(|f| f.md.signed.as_targets())
        .find_map(|t| t.delegated_roles().iter().find(|r| r.name == role).map(|r| (r.keyids.clone(), r.threshold)))
}

/// The next version of one role of an update, as built before anyone signs: version + 1,
/// the plan's expiry (or the update's), claims applied, no signatures, nothing else changed.
pub struct Draft {
    pub md: Metadata,
    /// What changed, in plain words, one change per line (CHANGES.txt).
    pub lines: Vec<String>,
    /// What witnesses check on screen: the same, but a claims batch as counts and at most
    /// `SCREEN_PROJECTS` projects with their keyids and thresholds.
    pub screen: Vec<String>,
    /// The current version it was built from.
    pub current: Metadata,
    /// What a claims batch did to this role (`None` when the update claims nothing here).
    pub claims: Option<claims::Report>,
}

/// Builds `role`'s next version for the update `u` at the ceremony time `at`: the same
/// draft whether it is signed in the room or apart.
pub fn build_next(plan: &super::plan::Plan, u: &Update, role: &str, at: chrono::DateTime<chrono::Utc>) -> Result<Draft, String> {
    let current = if role == "root" { u.current.set.roots.values().next_back() } else { u.current.set.roles.get(role) }
        .ok_or_else(|| format!("the current metadata has no {role} role"))?;
    let mut md = current.md.clone();
    md.signatures.clear();
    let expiry = match (u.expires_days, plan.offline_roles().iter().find(|r| r.name == role)) {
        (Some(d), _) => chrono::Duration::try_days(d).and_then(|d| at.checked_add_signed(d)).ok_or_else(|| format!("--expires-days {d} is out of range"))?,
        (None, Some(r)) => r.expiry.resolve(at),
        (None, None) => return Err(format!("the plan has no expiry for {role}; pass --expires-days")),
    };
    let h = md.signed.header_mut();
    let old_version = h.version;
    let old_expires = h.expires.as_str().to_string();
    h.version += 1;
    h.expires = crate::tuf::metadata::Expires::from_datetime(expiry);
    let mut lines = vec![format!("{role}: version {old_version} -> {}, expires {old_expires} -> {}", old_version + 1, md.signed.header().expires.as_str())];
    let mut screen = lines.clone();
    let mut claimed = None;
    match &u.claims {
        Some((claims_role, batch)) if claims_role == role => {
            let report = apply_claims(&mut md, batch).map_err(|e| e.to_string())?;
            lines.push(report.render());
            screen.extend(claims_on_screen(&md, &report));
            claimed = Some(report);
        }
        _ => {
            // Everything else that differs, in plain words (nothing, for a re-signing).
            lines.extend(
                crate::ops::diff::changes(&current.md.signed, &md.signed)
                    .into_iter()
                    .filter(|l| !l.starts_with("version ") && !l.starts_with("expires "))
                    .map(|l| format!("{role}: {l}")),
            );
        }
    }
    if screen.len() == 1 {
        screen = lines.clone();
    }
    Ok(Draft { md, lines, screen, current: current.md.clone(), claims: claimed })
}

/// How many projects a claims summary lists on screen (all of them are in CHANGES.txt).
pub const SCREEN_PROJECTS: usize = 20;

/// A claims batch for witnesses: the counts, then each added or changed project with its
/// threshold and keyids, and removed projects, up to [`SCREEN_PROJECTS`].
fn claims_on_screen(md: &Metadata, r: &claims::Report) -> Vec<String> {
    use crate::util::text::{one_line, prefix};
    let mut out = vec![format!(
        "{} projects: {} added, {} changed (key rotation), {} removed, {} already claimed as given",
        r.added.len() + r.changed.len() + r.removed.len(),
        r.added.len(),
        r.changed.len(),
        r.removed.len(),
        r.unchanged.len()
    )];
    let roles = md.signed.as_targets().map(|t| t.delegated_roles()).unwrap_or(&[]);
    let listed: Vec<(&str, &String)> =
        r.added.iter().map(|p| ("added", p)).chain(r.changed.iter().map(|p| ("changed", p))).chain(r.removed.iter().map(|p| ("removed", p))).collect();
    for (what, p) in listed.iter().take(SCREEN_PROJECTS) {
        let detail = roles
            .iter()
            .find(|d| &d.name == *p)
            .map(|d| {
                let ids: Vec<String> = d.keyids.iter().map(|k| format!("{}…", prefix(k, 12))).collect();
                format!("  threshold {} of {}: {}", d.threshold, d.keyids.len(), ids.join(" "))
            })
            .unwrap_or_default();
        out.push(format!("  {what:<8} {}{detail}", one_line(p)));
    }
    if listed.len() > SCREEN_PROJECTS {
        out.push(format!("  … and {} more: every project is listed in CHANGES.txt", listed.len() - SCREEN_PROJECTS));
    }
    out
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
