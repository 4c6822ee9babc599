//! The media an update writes (`resign`, `claim`, a root rotation) holds only the new
//! versions: they are checked against the metadata they were made from (`verify --current
//! DIR`). The current roots and roles (but snapshot and timestamp, which the online system
//! re-issues listing the new versions) complete the set, so each new version is checked
//! against its delegator as a client would; each must be the next version of the current
//! one; and every metadata file on a ceremony's media must be, byte for byte of what it
//! signs, what the transcript records as built.

use super::layout::{FolderKind, Inventory};
use super::set::{AuditFinding, MetadataFile, MetadataSet};
use crate::ceremony::job::CurrentFiles;
use crate::tuf::finding::{Clients, Finding};
use crate::tuf::json::JsonPath;
use crate::util::text::one_line;

/// Where the files taken from `--current` are named in the report.
pub const CURRENT_PREFIX: &str = "--current/";

/// Whether a ceremony's media holds an update: no root, a lowest root above version 1, or
/// delegated roles without the targets that delegates them. Such media cannot be checked
/// alone.
pub fn needs_current(inv: &Inventory) -> bool {
    if inv.kind != FolderKind::CeremonyMedia {
        return false;
    }
    let lowest_root = inv.entries.get("root").and_then(|v| v.iter().filter_map(|e| e.version).min());
    let delegated = inv.entries.keys().any(|r| !matches!(r.as_str(), "root" | "targets" | "snapshot" | "timestamp"));
    lowest_root.is_none_or(|v| v > 1) || (delegated && !inv.entries.contains_key("targets"))
}

/// A role the media updates: its current version (from `--current`).
pub struct Updated {
    pub role: String,
    pub file: String,
    pub previous: MetadataFile,
}

/// Adds the current roots and roles the media does not hold to `set`; returns the roles
/// the media updates (a new version of a current role).
pub fn merge_current(set: &mut MetadataSet, cur: &CurrentFiles) -> Vec<Updated> {
    let copy = |f: &MetadataFile| MetadataFile::new(format!("{CURRENT_PREFIX}{}", f.file), f.bytes.clone(), f.md.clone());
    let mut updated = Vec::new();
    // A new root follows the newest current root.
    if let (Some((_, newest)), Some((_, lowest_new))) = (cur.set.roots.iter().next_back(), set.roots.iter().next()) {
        updated.push(Updated { role: "root".into(), file: lowest_new.file.clone(), previous: copy(newest) });
    }
    for (v, f) in &cur.set.roots {
        set.roots.entry(*v).or_insert_with(|| copy(f));
    }
    for (role, f) in cur.set.roles.iter().filter(|(r, _)| *r != "snapshot" && *r != "timestamp") {
        match set.roles.get(role) {
            Some(new) => updated.push(Updated { role: role.clone(), file: new.file.clone(), previous: copy(f) }),
            None => {
                set.roles.insert(role.clone(), copy(f));
            }
        }
    }
    updated
}

/// Each updated role is the next version of the current one; what else changed is noted.
pub fn check_updates(set: &MetadataSet, updated: &[Updated], out: &mut Vec<AuditFinding>) {
    for u in updated {
        let new = if u.role == "root" { set.roots.values().find(|f| f.file == u.file) } else { set.roles.get(&u.role) };
        let Some(new) = new else { continue };
        let (prev, next) = (u.previous.md.version(), new.md.version());
        let push = |out: &mut Vec<AuditFinding>, f: Finding| out.push(AuditFinding { file: u.file.clone(), finding: f });
        if next != prev + 1 {
            push(
                out,
                Finding::error(
                    "update-version",
                    JsonPath::root().key("signed").key("version"),
                    format!("{} is version {next}, but the current version (--current) is {prev}: an update writes version {}", one_line(&u.role), prev + 1),
                    Clients::ALL,
                ),
            );
        }
        let changes: Vec<String> = crate::ops::diff::changes(&u.previous.md.signed, &new.md.signed)
            .into_iter()
            .filter(|l| !l.starts_with("version ") && !l.starts_with("expires "))
            .collect();
        let what = if changes.is_empty() {
            "nothing changed but the version and expiry".to_string()
        } else {
            format!("{} change(s): {}", changes.len(), one_line(&changes.iter().take(5).cloned().collect::<Vec<_>>().join("; ")))
        };
        push(out, Finding::info("update-changes", JsonPath::root(), format!("{} v{prev} -> v{next} (--current): {what}", one_line(&u.role))));
    }
}
