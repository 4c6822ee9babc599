//! What a folder holds: a ceremony's media folder (`<ceremony-id>/` with `metadata/`,
//! `keys/`, `transcript.jsonl`, `SUMMARY.txt`, `SHA256SUMS`) or a repository's metadata
//! folder, with consistent-snapshot names (`N.root.json`, `V.<role>.json`,
//! `timestamp.json`), unversioned names (`root.json`, `<role>.json`), or both, and
//! tuf-on-ci's `root_history/N.root.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which kind of folder was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FolderKind {
    /// A ceremony's media folder: `metadata/` plus ceremony evidence.
    CeremonyMedia,
    /// A repository's metadata folder.
    Repository,
}

impl FolderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FolderKind::CeremonyMedia => "ceremony-media",
            FolderKind::Repository => "repository",
        }
    }
}

/// One metadata file found by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the folder given (`metadata/1.root.json`, `root_history/3.root.json`).
    pub rel: String,
    pub path: PathBuf,
    /// The role its name says (percent-decoded).
    pub role: String,
    /// The version its name says (`N.` prefix), if any.
    pub version: Option<u64>,
    pub len: u64,
}

/// Everything found in the folder.
#[derive(Clone, Debug)]
pub struct Inventory {
    pub dir: PathBuf,
    pub kind: FolderKind,
    /// Where the metadata files are (`dir/metadata` for media, else `dir`).
    pub metadata_dir: PathBuf,
    /// `metadata/` for media, else empty: prefix of every metadata file's `rel`.
    pub prefix: String,
    /// Metadata files, by role, each role's entries sorted by version.
    pub entries: BTreeMap<String, Vec<Entry>>,
    /// Files in the metadata folder that are not metadata by name (ignored).
    pub ignored: Vec<String>,
    /// What an operating system wrote when the media was mounted (`os_file`), ignored.
    pub os_files: Vec<String>,
    /// Symbolic links, as `rel -> target`: never followed (a link can point anywhere on
    /// the machine, or back at its own folder), so what they name is not checked.
    pub links: Vec<String>,
    /// Entries that are neither files, folders nor links (FIFOs, devices, sockets), with
    /// what they are: never opened.
    pub special: Vec<(String, &'static str)>,
    /// Names: "consistent" (N. prefixes), "unversioned", "mixed", plus "+root_history".
    pub naming: String,
}

/// Why a folder cannot be checked at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: not a folder (give a ceremony's media folder or a repository's metadata folder)", .0.display())]
    NotAFolder(PathBuf),
    #[error("{}: no TUF metadata here (expected N.root.json, root.json, root_history/, or a ceremony's metadata/ folder){hint}", path.display())]
    NoMetadata { path: PathBuf, hint: String },
}

/// `%XX` decoding of a role's file name (python-tuf and tough quote role names).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = ((b[i + 1] as char).to_digit(16), (b[i + 2] as char).to_digit(16))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// Whether a directory entry is something an operating system writes on removable media
/// it mounts, so that an auditor's laptop touching the media does not make `verify` fail:
/// * files anywhere: macOS's AppleDouble companions `._<name>` (on FAT and exFAT, next to
///   every file it copies; recognised by their magic bytes, not by name alone) and
///   `.DS_Store`; Windows's `Thumbs.db` and `desktop.ini`;
/// * folders only at the top of the folder being checked (`top_level`), where volume-level
///   folders appear when the media folder is a whole volume: `.Spotlight-V100`,
///   `.fseventsd`, `.Trashes`, `.TemporaryItems`, `System Volume Information`,
///   `$RECYCLE.BIN`.
///
/// No TUF client and nothing in this tool reads such entries, and the tool never writes
/// such names. They are reported, not checked. A folder with such a name deeper down, or a
/// `._` file that is not AppleDouble, is an ordinary entry (checked, and an error when
/// `SHA256SUMS` does not list it), so the names cannot hide content the tool reads.
pub fn os_file(path: &Path, name: &str, is_dir: bool, top_level: bool) -> bool {
    const FOLDERS: [&str; 6] = [".Spotlight-V100", ".fseventsd", ".Trashes", ".TemporaryItems", "System Volume Information", "$RECYCLE.BIN"];
    const FILES: [&str; 3] = [".DS_Store", "Thumbs.db", "desktop.ini"];
    if is_dir {
        return top_level && FOLDERS.contains(&name);
    }
    FILES.contains(&name) || (name.starts_with("._") && apple_double(path))
}

/// AppleDouble files start with the magic number 0x00051607 (RFC 1740).
fn apple_double(path: &Path) -> bool {
    crate::util::fsx::read_prefix_in(path, 4).is_ok_and(|m| m == [0x00, 0x05, 0x16, 0x07])
}

/// Splits `N.role.json` / `role.json` into (role, version).
pub fn parse_name(name: &str) -> Option<(String, Option<u64>)> {
    let stem = name.strip_suffix(".json")?;
    if stem.is_empty() {
        return None;
    }
    if let Some((v, role)) = stem.split_once('.')
        && !v.is_empty()
        && v.bytes().all(|b| b.is_ascii_digit())
        && !role.is_empty()
    {
        return Some((percent_decode(role), Some(v.parse().ok()?)));
    }
    Some((percent_decode(stem), None))
}

/// A folder's entries by name, as they are: a link is listed as a link, never followed.
fn read_dir_sorted(dir: &Path) -> Result<Vec<(String, PathBuf, std::fs::Metadata)>, LayoutError> {
    let rd = std::fs::read_dir(dir).map_err(|e| LayoutError::Io { path: dir.to_path_buf(), source: e })?;
    let mut v = Vec::new();
    for e in rd {
        let e = e.map_err(|e| LayoutError::Io { path: dir.to_path_buf(), source: e })?;
        let p = e.path();
        let m = std::fs::symlink_metadata(&p).map_err(|e| LayoutError::Io { path: p.clone(), source: e })?;
        v.push((e.file_name().to_string_lossy().into_owned(), p, m));
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(v)
}

/// `rel -> target` for a link found at `path`.
pub fn link_entry(rel: &str, path: &Path) -> String {
    let target = std::fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_else(|_| "?".into());
    format!("{rel} -> {target}")
}

impl Inventory {
    /// Notes an entry that is never opened: a link (`links`) or a FIFO, device or socket
    /// (`special`); false for files and folders.
    fn set_aside(&mut self, rel: &str, path: &Path, m: &std::fs::Metadata) -> bool {
        if m.file_type().is_symlink() {
            self.links.push(link_entry(rel, path));
        } else if !m.is_dir() && !m.is_file() {
            self.special.push((rel.to_string(), crate::util::fsx::type_name(&m.file_type())));
        } else {
            return false;
        }
        true
    }
}

/// Whether `path` is a real folder (not a link to one).
pub fn real_dir(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_dir())
}

/// The evidence files that mark a ceremony's media folder.
pub const EVIDENCE: [&str; 3] = ["SHA256SUMS", "transcript.jsonl", "SUMMARY.txt"];

/// Looks at `dir` and lists its metadata files.
pub fn inventory(dir: &Path) -> Result<Inventory, LayoutError> {
    let meta = std::fs::metadata(dir).map_err(|e| LayoutError::Io { path: dir.to_path_buf(), source: e })?;
    if !meta.is_dir() {
        return Err(LayoutError::NotAFolder(dir.to_path_buf()));
    }
    let has_metadata_dir = real_dir(&dir.join("metadata"));
    let media = has_metadata_dir && (EVIDENCE.iter().any(|f| std::fs::symlink_metadata(dir.join(f)).is_ok()) || real_dir(&dir.join("keys")));
    let (kind, metadata_dir, prefix) = if media {
        (FolderKind::CeremonyMedia, dir.join("metadata"), "metadata/".to_string())
    } else if has_metadata_dir && !has_root_files(dir)? {
        // A repository checkout (tuf-on-ci keeps its metadata in metadata/).
        (FolderKind::Repository, dir.join("metadata"), "metadata/".to_string())
    } else {
        (FolderKind::Repository, dir.to_path_buf(), String::new())
    };
    let mut inv = Inventory {
        dir: dir.to_path_buf(),
        kind,
        metadata_dir: metadata_dir.clone(),
        prefix: prefix.clone(),
        entries: BTreeMap::new(),
        ignored: Vec::new(),
        os_files: Vec::new(),
        links: Vec::new(),
        special: Vec::new(),
        naming: String::new(),
    };
    let (mut versioned, mut unversioned) = (false, false);
    let top_level = kind == FolderKind::Repository && prefix.is_empty();
    for (name, path, m) in read_dir_sorted(&metadata_dir)? {
        if inv.set_aside(&format!("{prefix}{name}"), &path, &m) {
            continue;
        }
        if os_file(&path, &name, m.is_dir(), top_level) {
            inv.os_files.push(format!("{prefix}{name}{}", if m.is_dir() { "/" } else { "" }));
            continue;
        }
        if m.is_dir() {
            if name == "root_history" {
                for (hname, hpath, hm) in read_dir_sorted(&path)? {
                    if inv.set_aside(&format!("{prefix}root_history/{hname}"), &hpath, &hm) {
                        continue;
                    }
                    if os_file(&hpath, &hname, hm.is_dir(), false) {
                        inv.os_files.push(format!("{prefix}root_history/{hname}"));
                        continue;
                    }
                    match parse_name(&hname) {
                        Some((role, Some(v))) if role == "root" && hm.is_file() => {
                            inv.entries.entry(role.clone()).or_default().push(Entry {
                                rel: format!("{prefix}root_history/{hname}"),
                                path: hpath,
                                role,
                                version: Some(v),
                                len: hm.len(),
                            });
                        }
                        _ => inv.ignored.push(format!("{prefix}root_history/{hname}")),
                    }
                }
                inv.naming.push_str("+root_history");
            } else {
                inv.ignored.push(format!("{prefix}{name}/"));
            }
            continue;
        }
        match parse_name(&name) {
            Some((role, version)) if m.is_file() => {
                if version.is_some() {
                    versioned = true
                } else {
                    unversioned = true
                }
                inv.entries.entry(role.clone()).or_default().push(Entry { rel: format!("{prefix}{name}"), path, role, version, len: m.len() });
            }
            _ => inv.ignored.push(format!("{prefix}{name}")),
        }
    }
    for v in inv.entries.values_mut() {
        // Versioned files by version; an unversioned copy last.
        v.sort_by_key(|e| (e.version.is_none(), e.version));
    }
    let base = match (versioned, unversioned) {
        (true, false) => "consistent",
        (false, true) => "unversioned",
        (true, true) => "mixed",
        (false, false) => "none",
    };
    inv.naming = format!("{base}{}", inv.naming);
    if inv.entries.is_empty() {
        let mut hint = String::new();
        if let Ok(sub) = read_dir_sorted(dir) {
            let media: Vec<&String> = sub.iter().filter(|(_, p, m)| m.is_dir() && real_dir(&p.join("metadata"))).map(|(n, _, _)| n).collect();
            if !media.is_empty() {
                hint = format!("; did you mean {}?", media.iter().map(|n| dir.join(n).display().to_string()).collect::<Vec<_>>().join(" or "));
            }
        }
        return Err(LayoutError::NoMetadata { path: dir.to_path_buf(), hint });
    }
    Ok(inv)
}

fn has_root_files(dir: &Path) -> Result<bool, LayoutError> {
    Ok(read_dir_sorted(dir)?.iter().any(|(n, _, _)| matches!(parse_name(n), Some((r, _)) if r == "root")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_name("1.root.json"), Some(("root".into(), Some(1))));
        assert_eq!(parse_name("root.json"), Some(("root".into(), None)));
        assert_eq!(parse_name("5.registry.npmjs.org.json"), Some(("registry.npmjs.org".into(), Some(5))));
        assert_eq!(parse_name("registry.npmjs.org.json"), Some(("registry.npmjs.org".into(), None)));
        assert_eq!(parse_name("3.a%2Fb.json"), Some(("a/b".into(), Some(3))));
        assert_eq!(parse_name("SHA256SUMS"), None);
        assert_eq!(parse_name(".json"), None);
        assert_eq!(parse_name("12.bins.json"), Some(("bins".into(), Some(12))));
        assert_eq!(parse_name("timestamp.json"), Some(("timestamp".into(), None)));
        assert_eq!(parse_name("3.0000-0003.json"), Some(("0000-0003".into(), Some(3))));
        assert_eq!(parse_name("a.b.json"), Some(("a.b".into(), None)));
        assert_eq!(parse_name("x.txt"), None);
    }
}
