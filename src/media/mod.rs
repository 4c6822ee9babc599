//! Export to removable media.
//!
//! Layout: `DIR/<ceremony-id>/` holding `metadata/`, `keys/<keyholder>/`,
//! `transcript.jsonl`, `SUMMARY.txt` and `SHA256SUMS` (sha256sum format, so
//! `sha256sum -c SHA256SUMS` checks it). Every file is written atomically (temp file, fsync,
//! put in place without replacing anything — `util::fsx`, also on FAT and exFAT sticks —
//! fsync the directory), read back and hash-checked. Existing files are
//! never overwritten: a file already there with the same bytes is accepted, different bytes
//! are an error. A whole export is built in a hidden staging folder next to its final place
//! and renamed into place only when complete, so a stick never holds a half export: a full
//! or read-only medium gives a clear error, the staging folder is removed, the ceremony
//! state is untouched, and the export can be retried on the same stick or another. After
//! the rename every file is read back from its final place ([`check_in_place`]): a stick
//! that loses what the rename moved fails the export instead of passing for a good one.
//! Private key material is never passed here.

use crate::tuf::keys::sha256_hex;
use crate::util::fsx::{self, Kind};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    #[error("{}: the media is full (no space or no free file entries left; about {needed} bytes needed); free space or use a larger stick, and run the same command again", path.display())]
    Full { path: PathBuf, needed: u64 },
    #[error("{}: the media is read-only; check the write-protect switch or mount it read-write, or use another stick", path.display())]
    ReadOnly { path: PathBuf },
    #[error("{}: is not a mounted, writable directory ({what}); mount the stick there or pass another --media", path.display())]
    NotUsable { path: PathBuf, what: String },
    #[error("{}: already exists with different content; refusing to overwrite it", path.display())]
    Exists { path: PathBuf },
    #[error(
        "{}: a folder of that name is already on the media (an earlier export, perhaps interrupted, of this ceremony or another); it is left as it is: move it away or use another stick, and run the same command again",
        path.display()
    )]
    FolderExists { path: PathBuf },
    #[error("{}: read back differs from what was written (faulty media?)", path.display())]
    ReadBack { path: PathBuf },
    #[error(
        "{}: {what} after the export was moved into place (faulty media?); it was moved aside to a hidden .failed folder and nothing is lost (everything is still where it was written from): run the same command again, better on another stick",
        path.display()
    )]
    Moved { path: PathBuf, what: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

fn io(path: &Path, e: std::io::Error, needed: u64) -> MediaError {
    match e.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => MediaError::Full { path: path.to_path_buf(), needed },
        Some(libc::EROFS) => MediaError::ReadOnly { path: path.to_path_buf() },
        _ if e.kind() == ErrorKind::PermissionDenied => MediaError::ReadOnly { path: path.to_path_buf() },
        _ => MediaError::Io { path: path.to_path_buf(), source: e },
    }
}

/// Bytes free for an unprivileged writer on the filesystem holding `dir`.
pub fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a properly sized out-parameter.
    let r = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
    (r == 0).then(|| s.f_bavail as u64 * s.f_frsize as u64)
}

/// Checks that `dir` is a directory we can write with `needed` bytes free.
pub fn check_media(dir: &Path, needed: u64) -> Result<u64, MediaError> {
    let meta = std::fs::metadata(dir).map_err(|e| MediaError::NotUsable { path: dir.to_path_buf(), what: e.to_string() })?;
    if !meta.is_dir() {
        return Err(MediaError::NotUsable { path: dir.to_path_buf(), what: "not a directory".into() });
    }
    fsx::probe_writable(dir).map_err(|e| io(dir, e, needed))?;
    let free = free_bytes(dir).unwrap_or(u64::MAX);
    if free < needed {
        return Err(MediaError::Full { path: dir.to_path_buf(), needed });
    }
    Ok(free)
}

/// One file to export, relative to `DIR/<ceremony-id>/`.
pub struct Item {
    pub rel: String,
    pub bytes: Vec<u8>,
}

/// A file that is on the media, verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exported {
    pub rel: String,
    pub sha256: String,
    pub len: u64,
}

/// Starts an export of `id` on the media at `dir`: refuses if `dir/<id>` already exists
/// (never overwrite a finished export), clears staging folders failed attempts left, and
/// creates a new hidden staging folder with an unpredictable name
/// (`.<id>.incomplete-<hex>`), which it returns.
pub fn begin_export(dir: &Path, id: &str) -> Result<PathBuf, MediaError> {
    let fin = dir.join(id);
    if fsx::occupied(&fin) {
        return Err(MediaError::FolderExists { path: fin });
    }
    let prefix = format!(".{id}.incomplete");
    let stale: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e, 0))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    for s in stale {
        // A failed attempt's folder (or a link someone placed: removed, never followed).
        remove_entry(&s).map_err(|e| io(&s, e, 0))?;
    }
    fsx::create_temp_dir_beside(&fin, "incomplete").map_err(|e| io(dir, e, 0))
}

/// Moves a complete staging folder into place and makes the rename durable.
pub fn finish_export(dir: &Path, id: &str, stage: &Path) -> Result<PathBuf, MediaError> {
    let fin = dir.join(id);
    if fsx::occupied(&fin) {
        return Err(MediaError::FolderExists { path: fin });
    }
    fsx::rename_no_replace_path(stage, &fin).map_err(|e| match e.kind() {
        ErrorKind::AlreadyExists => MediaError::FolderExists { path: fin.clone() },
        _ => io(&fin, e, 0),
    })?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io(dir, e, 0))?;
    Ok(fin)
}

/// Reads every file of a finished export back from its final place: a stick (or a file
/// system driver) that loses what a rename moved must not pass for a good export.
pub fn check_in_place(fin: &Path, files: &[Exported]) -> Result<(), MediaError> {
    for f in files {
        let path = fin.join(&f.rel);
        match fsx::read_in(&path, Kind::Metadata) {
            Ok(back) if sha256_hex(&back) == f.sha256 => {}
            Ok(_) => return Err(MediaError::Moved { path, what: "holds other bytes".into() }),
            Err(e) => return Err(MediaError::Moved { path, what: e.to_string() }),
        }
    }
    Ok(())
}

/// Removes the staging folder of a failed export (best effort: the medium may be gone),
/// and moves a finished folder that failed its read-back out of the way (to a hidden
/// `.<id>.failed-N`), so what stays under the export's name is never a bad copy and the
/// same command can be run again on the same stick.
pub fn abandon_export(stage: &Path) {
    let _ = remove_entry(stage);
}

/// Moves `dir/<id>` out of the way after it failed [`check_in_place`] (best effort).
pub fn set_aside(dir: &Path, id: &str) {
    let fin = dir.join(id);
    if !fsx::occupied(&fin) {
        return;
    }
    for n in 1..1000 {
        match fsx::rename_no_replace_path(&fin, &dir.join(format!(".{id}.failed-{n}"))) {
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            _ => return,
        }
    }
}

/// Writes `items` under `base`, each atomically, never overwriting, read back.
pub fn write_into(base: &Path, items: &[Item]) -> Result<Vec<Exported>, MediaError> {
    let needed: u64 = items.iter().map(|i| i.bytes.len() as u64 + 4096).sum();
    let mut out = Vec::new();
    for item in items {
        // Only plain names below `base`: no absolute path, no `..`, nothing empty.
        let clean = !item.rel.is_empty()
            && std::path::Path::new(&item.rel).components().all(|c| matches!(c, std::path::Component::Normal(_)))
            && !item.rel.contains('\\');
        if !clean {
            return Err(MediaError::Io {
                path: base.to_path_buf(),
                source: std::io::Error::new(ErrorKind::InvalidInput, format!("{:?} is not a plain relative name", item.rel)),
            });
        }
        let path = base.join(&item.rel);
        let parent = path.parent().unwrap_or(base);
        fsx::ensure_dir(parent).map_err(|e| io(parent, e, needed))?;
        let want = sha256_hex(&item.bytes);
        match fsx::read_in(&path, Kind::Metadata) {
            Ok(existing) if sha256_hex(&existing) == want => {}
            Ok(_) => return Err(MediaError::Exists { path }),
            Err(e) if e.kind() == ErrorKind::NotFound => fsx::create_atomic(&path, &item.bytes, false).map_err(|e| io(&path, e, needed))?,
            Err(e) => return Err(io(&path, e, needed)),
        }
        let back = fsx::read_in(&path, Kind::Metadata).map_err(|e| io(&path, e, needed))?;
        if sha256_hex(&back) != want {
            return Err(MediaError::ReadBack { path });
        }
        out.push(Exported { rel: item.rel.clone(), sha256: want, len: item.bytes.len() as u64 });
    }
    Ok(out)
}

/// Removes a folder tree, or a link or file in its place (a link is removed, not followed).
fn remove_entry(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path)?.file_type().is_dir() {
        true => std::fs::remove_dir_all(path),
        false => std::fs::remove_file(path),
    }
}

/// `sha256sum` format: "<hex>  <path>\n", sorted by path.
pub fn sha256sums(files: &[Exported]) -> Vec<u8> {
    let mut v: Vec<&Exported> = files.iter().collect();
    v.sort_by(|a, b| a.rel.cmp(&b.rel));
    v.iter().map(|f| format!("{}  {}\n", f.sha256, f.rel)).collect::<String>().into_bytes()
}
