//! Loading a metadata folder for `status`: every root version, and the newest file of each
//! other role, parsed leniently (a dashboard should read published legacy forms; `verify`
//! is the strict judge). Which files are there and what their names say (media or
//! repository, `N.root.json`, `V.<role>.json`, `<role>.json`, `root_history/`, files an
//! operating system left) is `audit::layout::inventory`'s answer, the same as `verify`'s.

use crate::audit::layout::{self, LayoutError};
use crate::error::{Error, Result};
use crate::tuf::metadata::{Metadata, Mode, TOP_LEVEL_ROLES};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One parsed metadata file.
pub struct LoadedFile {
    /// Path relative to the folder, e.g. `1.root.json` or `root_history/3.root.json`.
    pub file: String,
    pub md: Metadata,
    /// Canonical bytes of `signed` (computed once).
    pub canonical: Vec<u8>,
}

/// A folder's metadata: every root version, and the newest file of each other role.
pub struct Folder {
    pub dir: PathBuf,
    pub roots: BTreeMap<u64, LoadedFile>,
    pub roles: BTreeMap<String, LoadedFile>,
    /// Entries that were not read: links (never followed) and FIFOs, devices, sockets.
    pub skipped: Vec<String>,
}

/// Loads the folder: a ceremony's media folder (its `metadata/`) or a metadata folder.
pub fn load(path: &std::path::Path) -> Result<Folder> {
    let inv = layout::inventory(path).map_err(|e| match e {
        LayoutError::Io { path, source } => Error::io(&path, source),
        LayoutError::NoMetadata { path, hint } => {
            Error::Usage(format!("{}: no metadata files (N.root.json, V.<role>.json, <role>.json) found{hint}", path.display()))
        }
        e => Error::Usage(e.to_string()),
    })?;
    let skipped = inv
        .links
        .iter()
        .map(|l| format!("{l}: a symbolic link, not followed"))
        .chain(inv.special.iter().map(|(n, what)| format!("{n}: {what}, not read")))
        .collect();
    let mut f = Folder { dir: inv.metadata_dir.clone(), roots: BTreeMap::new(), roles: BTreeMap::new(), skipped };
    // Each role's files come by version, an unversioned copy last.
    for (role, entries) in &inv.entries {
        for e in entries {
            let rel = e.rel.strip_prefix(inv.prefix.as_str()).unwrap_or(&e.rel).to_string();
            let bytes = crate::util::fsx::read_large_in(&e.path).map_err(|err| Error::io(&e.path, err))?;
            let md = Metadata::from_bytes(&bytes, Mode::Lenient).map_err(|err| Error::input(&e.path, err))?;
            let ty = md.signed.type_name();
            let want = if TOP_LEVEL_ROLES.contains(&role.as_str()) { role.as_str() } else { "targets" };
            if ty != want {
                return Err(Error::input(&e.path, format!("the file name says role {role}, but it holds {ty} metadata")));
            }
            if let Some(v) = e.version
                && v != md.version()
            {
                return Err(Error::input(&e.path, format!("the file name says version {v}, but $.signed.version is {}", md.version())));
            }
            let canonical = md.signed_bytes();
            let loaded = LoadedFile { file: rel, md, canonical };
            // Two files of the same role and version (e.g. `3.root.json` and `root.json`)
            // must hold the same content; the versioned name (seen first) is kept.
            let v = loaded.md.version();
            let existing = if role == "root" { f.roots.get(&v) } else { f.roles.get(role) };
            let keep = match existing {
                None => true,
                Some(old) if old.md.version() != v => old.md.version() < v,
                Some(old) if old.canonical != loaded.canonical => {
                    return Err(Error::input(&e.path, format!("{role} version {v} differs from {}, also version {v}", old.file)));
                }
                Some(_) => false,
            };
            if keep {
                if role == "root" {
                    f.roots.insert(v, loaded);
                } else {
                    f.roles.insert(role.clone(), loaded);
                }
            }
        }
    }
    Ok(f)
}
