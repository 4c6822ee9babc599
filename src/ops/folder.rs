//! Minimal loading of a metadata folder: `N.root.json`, `V.<role>.json`, unversioned
//! `<role>.json` (e.g. a published `timestamp.json`) and `root_history/N.root.json`.
//!
//! `tuf-ceremony verify` (src/audit) is getting a full folder loader; when this was written
//! none existed yet, so this is the small piece `status` needs: every root version, and the
//! newest file of each other role, parsed leniently (a dashboard should read published
//! legacy forms; `verify` is the strict judge).

use crate::error::{Error, Result};
use crate::tuf::metadata::{Metadata, Mode, TOP_LEVEL_ROLES};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
}

/// `V.role.json` → (Some(V), role); `role.json` → (None, role).
pub fn parse_name(name: &str) -> Option<(Option<u64>, &str)> {
    let stem = name.strip_suffix(".json")?;
    if stem.is_empty() || stem.starts_with('.') {
        return None;
    }
    if let Some((v, role)) = stem.split_once('.')
        && !v.is_empty()
        && v.bytes().all(|b| b.is_ascii_digit())
    {
        return (!role.is_empty()).then(|| (v.parse().ok(), role)).filter(|(v, _)| v.is_some());
    }
    Some((None, stem))
}

/// The folder to read: `path` itself, or `path/metadata` when `path` is a ceremony's media
/// folder (`<id>/` holding `metadata/`, `keys/`, `SUMMARY.txt`, …).
pub fn resolve(path: &Path) -> PathBuf {
    let has_json = std::fs::read_dir(path).map(|rd| rd.filter_map(|e| e.ok()).any(|e| e.file_name().to_string_lossy().ends_with(".json"))).unwrap_or(false);
    if !has_json && path.join("metadata").is_dir() { path.join("metadata") } else { path.to_path_buf() }
}

fn json_files(dir: &Path) -> Result<Vec<String>> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut v: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
        .collect();
    v.sort();
    Ok(v)
}

/// Loads the folder (see `resolve` for ceremony media folders).
pub fn load(path: &Path) -> Result<Folder> {
    let dir = resolve(path);
    if !dir.is_dir() {
        return Err(Error::Usage(format!("{}: not a directory", dir.display())));
    }
    let mut f = Folder { dir: dir.clone(), roots: BTreeMap::new(), roles: BTreeMap::new() };
    let mut names: Vec<String> = json_files(&dir)?;
    let history = dir.join("root_history");
    if history.is_dir() {
        names.extend(json_files(&history)?.into_iter().map(|n| format!("root_history/{n}")));
    }
    for rel in names {
        let base = rel.rsplit('/').next().unwrap_or(&rel);
        let Some((version, role)) = parse_name(base) else { continue };
        let path = dir.join(&rel);
        if rel.starts_with("root_history/") && role != "root" {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let md = Metadata::from_bytes(&bytes, Mode::Lenient).map_err(|e| Error::input(&path, e))?;
        let ty = md.signed.type_name();
        let want = if TOP_LEVEL_ROLES.contains(&role) { role } else { "targets" };
        if ty != want {
            return Err(Error::input(&path, format!("the file name says role {role}, but it holds {ty} metadata")));
        }
        if let Some(v) = version
            && v != md.version()
        {
            return Err(Error::input(&path, format!("the file name says version {v}, but $.signed.version is {}", md.version())));
        }
        let canonical = md.signed_bytes();
        let loaded = LoadedFile { file: rel.clone(), md, canonical };
        // Two files of the same role and version (e.g. `3.root.json` and `root.json`) must
        // hold the same content; the versioned name is kept.
        let versioned = version.is_some();
        let v = loaded.md.version();
        let (existing, what) = if role == "root" { (f.roots.get(&v), "root".to_string()) } else { (f.roles.get(role), role.to_string()) };
        let keep = match existing {
            None => true,
            Some(old) if old.md.version() < v => true,
            Some(old) if old.md.version() > v => false,
            Some(old) => {
                if old.canonical != loaded.canonical {
                    return Err(Error::input(&path, format!("{what} version {v} differs from {}, also version {v}", old.file)));
                }
                versioned
            }
        };
        if keep {
            if role == "root" {
                f.roots.insert(v, loaded);
            } else {
                f.roles.insert(role.to_string(), loaded);
            }
        }
    }
    if f.roots.is_empty() && f.roles.is_empty() {
        return Err(Error::Usage(format!("{}: no metadata files (N.root.json, V.<role>.json, <role>.json) found", dir.display())));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::parse_name;

    #[test]
    fn names() {
        assert_eq!(parse_name("1.root.json"), Some((Some(1), "root")));
        assert_eq!(parse_name("12.bins.json"), Some((Some(12), "bins")));
        assert_eq!(parse_name("timestamp.json"), Some((None, "timestamp")));
        assert_eq!(parse_name("3.0000-0003.json"), Some((Some(3), "0000-0003")));
        assert_eq!(parse_name("a.b.json"), Some((None, "a.b")));
        assert_eq!(parse_name("x.txt"), None);
        assert_eq!(parse_name(".json"), None);
    }
}
