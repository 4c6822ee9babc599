//! Atomic, no-overwrite file writes: temp file in the same directory, fsync, hard-link into
//! place (which, unlike rename, fails if the target exists), fsync the directory. A crash
//! leaves either no file or the complete file, never a half-written one.
//!
//! FAT and exFAT, the file systems of most USB sticks, have no hard links (`link` fails with
//! EPERM there). On them the temp file is renamed into place with `RENAME_NOREPLACE`, which
//! also never replaces a file; where even that flag is unsupported (some FUSE file systems)
//! the name is checked to be free just before a plain rename.

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Creates `path` with `bytes`; fails if it exists. `private` makes the file mode 0600.
pub fn create_atomic(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        place_no_replace(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Gives the complete file `tmp` the name `path`, failing (AlreadyExists) if `path` exists.
fn place_no_replace(tmp: &Path, path: &Path) -> std::io::Result<()> {
    match fs::hard_link(tmp, path) {
        Ok(()) => return fs::remove_file(tmp),
        Err(e) if !unsupported(&e, &[libc::EPERM, libc::EOPNOTSUPP, libc::ENOSYS]) => return Err(e),
        Err(_) => {} // no hard links here (FAT, exFAT)
    }
    match rename_no_replace(tmp, path) {
        Ok(()) => return Ok(()),
        Err(e) if !unsupported(&e, &[libc::EINVAL, libc::EOPNOTSUPP, libc::ENOSYS]) => return Err(e),
        Err(_) => {} // the flag is not supported either
    }
    match fs::symlink_metadata(path) {
        Ok(_) => Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "file exists")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fs::rename(tmp, path),
        Err(e) => Err(e),
    }
}

fn unsupported(e: &std::io::Error, codes: &[i32]) -> bool {
    e.raw_os_error().is_some_and(|c| codes.contains(&c))
}

/// `renameat2(.., RENAME_NOREPLACE)`: a rename that fails if the target exists.
#[cfg(target_os = "linux")]
fn rename_no_replace(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput));
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both are valid NUL-terminated paths; AT_FDCWD makes them relative to the
    // working directory, as std's own path functions are.
    let r = unsafe { libc::renameat2(libc::AT_FDCWD, from.as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::RENAME_NOREPLACE) };
    if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

#[cfg(not(target_os = "linux"))]
fn rename_no_replace(_from: &Path, _to: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from_raw_os_error(libc::ENOSYS))
}

/// `create_atomic` with the error rendered for the command line.
pub fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    create_atomic(path, bytes, private).map_err(|e| Error::io(path, e))
}

/// Reads a whole file, as `std::fs::read`, faster for the large roles (a 48 MB `claimed`).
///
/// Most of a cold read of a large file is the kernel zeroing fresh pages for the buffer and
/// copying the page cache into them, one core's work. From `PARALLEL_FROM` bytes on, the
/// two halves are read by two threads into one buffer sized up front (measured on the
/// 48 MB file: 47–50 ms with `std::fs::read`, 26–30 ms in halves). Transparent huge pages
/// were tried and dropped: on the benchmark machine their first faults stalled on
/// compaction as often as they helped (23–96 ms).
///
/// The result is what one read would return: if the file changes size while it is read,
/// it is read again the ordinary way.
pub fn read_large(path: &Path) -> std::io::Result<Vec<u8>> {
    const PARALLEL_FROM: u64 = 8 << 20;
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len < PARALLEL_FROM || !cfg!(unix) {
        return fs::read(path);
    }
    let Ok(len) = usize::try_from(len) else { return fs::read(path) };
    match read_halves(&file, len) {
        Ok(Some(buf)) => Ok(buf),
        Ok(None) => fs::read(path),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => fs::read(path),
        Err(e) => Err(e),
    }
}

/// Reads `len` bytes in two halves on two threads; `None` if the file turned out longer or
/// no second thread could be started.
#[cfg(unix)]
fn read_halves(file: &File, len: usize) -> std::io::Result<Option<Vec<u8>>> {
    use std::os::unix::fs::FileExt;
    // Zeroed through calloc: fresh pages, touched first by the read that fills them.
    let mut buf = vec![0u8; len];
    let (head, tail) = buf.split_at_mut(len / 2);
    let read = std::thread::scope(|s| {
        let Ok(tail_read) = std::thread::Builder::new().spawn_scoped(s, || file.read_exact_at(tail, (len / 2) as u64)) else {
            return None; // no thread to be had: read it the ordinary way
        };
        let head_read = file.read_exact_at(head, 0);
        Some(tail_read.join().unwrap_or_else(|_| Err(std::io::Error::other("reader thread panicked"))).and(head_read))
    });
    let Some(read) = read else { return Ok(None) };
    read?;
    let grew = file.read_at(&mut [0u8], len as u64)? != 0;
    Ok(if grew { None } else { Some(buf) })
}

#[cfg(not(unix))]
fn read_halves(_: &File, _: usize) -> std::io::Result<Option<Vec<u8>>> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_large_returns_the_same_bytes_as_a_plain_read() {
        let dir = tempfile::tempdir().unwrap();
        // Below the threshold, at it (even and odd lengths split unevenly), and empty.
        for len in [0usize, 1, 4097, 8 << 20, (8 << 20) + 3] {
            let path = dir.path().join(format!("f{len}"));
            let bytes: Vec<u8> = (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8).collect();
            fs::write(&path, &bytes).unwrap();
            assert!(read_large(&path).unwrap() == bytes, "length {len}");
        }
        assert!(read_large(&dir.path().join("missing")).is_err());
    }

    /// The FAT fallback (kernel vfat and exFAT take it): never replaces, and places the
    /// file when the name is free. (The link path and the check-then-rename path are
    /// covered on real file systems by tests/media_faults.rs.)
    #[cfg(target_os = "linux")]
    #[test]
    fn rename_no_replace_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
        fs::write(&a, b"new").unwrap();
        fs::write(&b, b"old").unwrap();
        let e = rename_no_replace(&a, &b).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
        assert_eq!(fs::read(&b).unwrap(), b"old");
        rename_no_replace(&a, &c).unwrap();
        assert_eq!(fs::read(&c).unwrap(), b"new");
        assert!(!a.exists());
        // And create_atomic keeps refusing an existing name.
        let e = create_atomic(&b, b"other", false).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
        assert_eq!(fs::read(&b).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "a temp file was left");
    }
}
