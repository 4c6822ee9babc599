//! `resign ROLE… --apart DIR` and `claim … --apart DIR`: the draft the in-room command
//! would sign (next version, the plan's expiry, claims applied), written as a signature
//! request folder for keyholders who sign apart (`docs/signing-apart.md`), so nobody edits
//! JSON by hand. The draft, its delegator and its previous version are kept in the update's
//! working directory; the request folder goes to `DIR`.

use super::signing_apart::{CreatedRequest, NewRequest, create_request};
use crate::audit::MetadataFile;
use crate::ceremony::job::{Update, build_next};
use crate::ceremony::plan::Plan;
use crate::error::{Error, Result};
use crate::util::fsx;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

pub struct Apart<'a> {
    pub plan: &'a Plan,
    pub update: &'a Update,
    /// The update's working directory (drafts are kept in `<workdir>/apart/`).
    pub workdir: &'a Path,
    /// Where the request folders are created.
    pub out: &'a Path,
    /// The `--current` folder (its `../keys` names the keyholders when it is ceremony media).
    pub current_dir: &'a Path,
    pub now: DateTime<Utc>,
}

/// The metadata that delegates `role` in the current repository: the newest root for a
/// top-level role, the targets role that lists it for a delegated one.
pub(crate) fn delegator<'a>(u: &'a Update, role: &str) -> Option<(&'a str, &'a MetadataFile)> {
    let set = &u.current.set;
    let root = set.roots.values().next_back()?;
    if root.md.signed.as_root()?.roles.contains_key(role) {
        return Some(("root", root));
    }
    set.roles.iter().find(|(_, f)| f.md.signed.as_targets().is_some_and(|t| t.delegated_roles().iter().any(|d| d.name == role))).map(|(n, f)| (n.as_str(), f))
}

/// The current version of `role`, as read (its bytes travel as they are).
fn current<'a>(u: &'a Update, role: &str) -> Option<&'a MetadataFile> {
    if role == "root" { u.current.set.roots.values().next_back() } else { u.current.set.roles.get(role) }
}

fn keep(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let p = dir.join(name);
    fsx::replace_atomic(&p, bytes).map_err(|e| Error::io(&p, e))?;
    Ok(p)
}

/// Builds each role's next version and writes one request folder per role.
pub fn write_requests(a: &Apart) -> Result<Vec<CreatedRequest>> {
    let dir = a.workdir.join("apart");
    fsx::ensure_named_dir(a.workdir).map_err(|e| Error::io(a.workdir, e))?;
    fsx::ensure_dir(&dir).map_err(|e| Error::io(&dir, e))?;
    fsx::ensure_named_dir(a.out).map_err(|e| Error::io(a.out, e))?;
    let keys = a.current_dir.join("..").join("keys");
    let mut made = Vec::new();
    for role in &a.update.roles {
        let draft = build_next(a.plan, a.update, role, a.now).map_err(Error::Refused)?;
        let (dname, dmd) = delegator(a.update, role).ok_or_else(|| Error::Refused(format!("nothing in the current metadata delegates {role}")))?;
        let v = draft.md.version();
        let metadata = keep(&dir, &format!("{v}.{role}.json"), &draft.md.to_pretty_bytes())?;
        let cur = current(a.update, role).ok_or_else(|| Error::Refused(format!("the current metadata has no {role} role")))?;
        let previous = keep(&dir, &format!("{}.{role}.json", cur.md.version()), &cur.bytes)?;
        let delegator = if role == "root" { previous.clone() } else { keep(&dir, &format!("{}.{dname}.json", dmd.md.version()), &dmd.bytes)? };
        let created = create_request(&NewRequest {
            metadata: &metadata,
            role,
            delegator: &delegator,
            previous: Some(&previous),
            keys_dir: keys.is_dir().then_some(keys.as_path()),
            media: a.out,
            clients: a.plan.clients,
            now: a.now,
        })?;
        made.push(created);
    }
    Ok(made)
}
