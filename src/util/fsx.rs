//! Every file the tool reads or creates goes through here: one place for the policy.
//!
//! **Reads** take only regular files, each kind with a size limit that fits it
//! ([`Kind`]): a FIFO, a device (`/dev/zero`), a socket or a folder is refused on the
//! opened descriptor before a byte is read (opened non-blocking, so a FIFO cannot hang the
//! open either), and a file that grows past its limit while it is read is refused too.
//! [`read`] follows a link the operator named on the command line; [`read_in`] is for a
//! file found inside a folder the tool reads, and never follows a link there.
//!
//! **Writes** never follow a link someone else placed. Every file is created with
//! `O_CREAT | O_EXCL | O_NOFOLLOW` under an unpredictable temporary name (the system
//! random generator), written, fsynced and then put in place: hard-linked (which, unlike
//! rename, fails if the target exists) for a new file, renamed over it for a replaced one
//! (a rename replaces a link itself, never what it points to), and the directory fsynced.
//! A crash leaves either no file or the complete file, never a half-written one.
//!
//! FAT and exFAT, the file systems of most USB sticks, have no hard links (`link` fails with
//! EPERM there). On them the temp file is renamed into place with `RENAME_NOREPLACE`, which
//! also never replaces a file; where even that flag is unsupported (some FUSE file systems)
//! the name is checked to be free just before a plain rename.
//!
//! Folders the tool writes into are checked to be real folders, not links ([`ensure_dir`]).

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What a file is, for its size limit and for the message that names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// TUF metadata (a 100,000-project `claimed` is about 48 MB).
    Metadata,
    /// A ceremony plan.
    Plan,
    /// A public or private key file (PEM, DER, TUF key JSON, a raw point).
    Key,
    /// An X.509 certificate (attestations).
    Certificate,
    /// A signature file of signing apart.
    Signature,
    /// A signature request's `request.json`.
    Request,
    /// A ceremony transcript.
    Transcript,
    /// A working directory's `state.json`.
    State,
    /// `SHA256SUMS`, `SUMMARY.txt`, `CHANGES.txt` and other evidence text.
    Evidence,
    /// A list of projects for `claim --list`.
    List,
    /// A passphrase file (rehearsals).
    Secret,
    /// This program's own binary (its sha256 is recorded).
    Program,
}

impl Kind {
    /// The most bytes a file of this kind may hold.
    pub fn limit(self) -> u64 {
        match self {
            Kind::Metadata => 256 << 20,
            Kind::Plan => 1 << 20,
            Kind::Key | Kind::Certificate | Kind::Signature | Kind::Secret => 64 << 10,
            Kind::Request => 1 << 20,
            Kind::Transcript => 256 << 20,
            Kind::State => 16 << 20,
            Kind::Evidence => 64 << 20,
            Kind::List => 64 << 20,
            Kind::Program => 1 << 30,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Metadata => "metadata file",
            Kind::Plan => "plan",
            Kind::Key => "key file",
            Kind::Certificate => "certificate",
            Kind::Signature => "signature file",
            Kind::Request => "request.json",
            Kind::Transcript => "transcript",
            Kind::State => "state file",
            Kind::Evidence => "evidence file",
            Kind::List => "project list",
            Kind::Secret => "passphrase file",
            Kind::Program => "program",
        }
    }
}

/// The limit in words: "64 KiB", "256 MiB".
fn human(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

fn invalid(what: String) -> std::io::Error {
    std::io::Error::new(ErrorKind::InvalidData, what)
}

/// What a file type is, in words, for a refusal.
pub fn type_name(t: &fs::FileType) -> &'static str {
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading as a regular file of at most `kind`'s limit; returns the file
/// and its length. `follow` says whether a link as the last part of the path is followed.
fn open_regular(path: &Path, kind: Kind, follow: bool) -> std::io::Result<(File, u64)> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
    // Non-blocking, so opening a FIFO returns at once; it is refused by type just below.
    opts.custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY | nofollow);
    let file = opts.open(path).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) if !follow => invalid("is a symbolic link; links inside a folder are not followed".into()),
        _ => e,
    })?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(invalid(format!("is {}, not a regular file; only regular files are read", type_name(&meta.file_type()))));
    }
    if meta.len() > kind.limit() {
        return Err(too_large(kind));
    }
    Ok((file, meta.len()))
}

fn too_large(kind: Kind) -> std::io::Error {
    invalid(format!("is larger than the {} a {} may have", human(kind.limit()), kind.name()))
}

/// Reads all of `file`, at most `kind`'s limit (a file growing while it is read is refused).
fn read_all(mut file: File, len: u64, kind: Kind) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    (&mut file).take(kind.limit() + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > kind.limit() {
        return Err(too_large(kind));
    }
    Ok(buf)
}

/// Reads a regular file the operator named (a link to one is followed), at most `kind`'s limit.
pub fn read(path: &Path, kind: Kind) -> std::io::Result<Vec<u8>> {
    let (file, len) = open_regular(path, kind, true)?;
    read_all(file, len, kind)
}

/// Reads a regular file found inside a folder: a link there is refused, never followed.
pub fn read_in(path: &Path, kind: Kind) -> std::io::Result<Vec<u8>> {
    let (file, len) = open_regular(path, kind, false)?;
    read_all(file, len, kind)
}

/// The first `n` bytes of a regular file found inside a folder (fewer if it is shorter).
pub fn read_prefix_in(path: &Path, n: usize) -> std::io::Result<Vec<u8>> {
    let (file, _) = open_regular(path, Kind::Program, false)?;
    let mut buf = Vec::with_capacity(n);
    file.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// [`read_in`] as UTF-8 text.
pub fn read_text_in(path: &Path, kind: Kind) -> std::io::Result<String> {
    String::from_utf8(read_in(path, kind)?).map_err(|_| invalid("is not UTF-8 text".into()))
}

/// [`read`] with the error rendered for the command line.
pub fn read_input(path: &Path, kind: Kind) -> Result<Vec<u8>> {
    read(path, kind).map_err(|e| Error::io(path, e))
}

/// An unpredictable name for a temporary file or folder next to `path`: `.<name>.<tag>-<hex>`.
fn temp_beside(path: &Path, tag: &str) -> std::io::Result<PathBuf> {
    let dir = parent_of(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut r = [0u8; 12];
    getrandom::fill(&mut r).map_err(|e| std::io::Error::other(format!("system random generator: {e}")))?;
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    Ok(dir.join(format!(".{name}.{tag}-{hex}")))
}

fn parent_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Creates a new file that cannot be a link someone placed: `O_CREAT | O_EXCL | O_NOFOLLOW`.
fn create_exclusive(path: &Path, private: bool) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    opts.mode(if private { 0o600 } else { 0o644 });
    opts.open(path)
}

/// Writes `bytes` to a new temporary file beside `path` and fsyncs it; returns its name.
fn write_temp(path: &Path, bytes: &[u8], private: bool, tag: &str) -> std::io::Result<PathBuf> {
    let tmp = temp_beside(path, tag)?;
    let res = (|| {
        let mut f = create_exclusive(&tmp, private)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = res {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// Creates `path` with `bytes`; fails if it exists. `private` makes the file mode 0600.
pub fn create_atomic(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    let tmp = write_temp(path, bytes, private, "partial")?;
    let result = place_no_replace(&tmp, path).and_then(|()| File::open(parent_of(path))?.sync_all());
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Replaces `path` with `bytes` atomically: a reader sees the old or the new file, whole.
/// A link at `path` is replaced itself, never followed.
pub fn replace_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = write_temp(path, bytes, false, "tmp")?;
    let result = fs::rename(&tmp, path).and_then(|()| File::open(parent_of(path))?.sync_all());
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Opens `path` for appending, creating it if missing; a link there is refused.
pub fn open_append(path: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.create(true).append(true).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC).mode(0o644);
    let f = opts.open(path)?;
    if !f.metadata()?.file_type().is_file() {
        return Err(invalid(format!("{} is not a regular file", path.display())));
    }
    Ok(f)
}

/// Opens an existing regular file for writing (to truncate it back); a link is refused.
pub fn open_write_existing(path: &Path) -> std::io::Result<File> {
    let f = OpenOptions::new().write(true).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK).open(path)?;
    if !f.metadata()?.file_type().is_file() {
        return Err(invalid(format!("{} is not a regular file", path.display())));
    }
    Ok(f)
}

/// Checks that files can be created in `dir`: creates and removes a file with an
/// unpredictable name, exclusively, never through a link.
pub fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let probe = temp_beside(&dir.join("tuf-ceremony-probe"), "probe")?;
    create_exclusive(&probe, true)?.write_all(b"probe")?;
    fs::remove_file(&probe)
}

/// Makes sure `dir` is a folder, creating it (and missing parents) if needed. A link, or
/// anything else that is not a folder, at `dir` is refused: the tool writes only into
/// folders it can see are folders.
pub fn ensure_dir(dir: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_dir() => return Ok(()),
        Ok(m) => return Err(invalid(format!("is {}, not a folder; the tool writes only into real folders", type_name(&m.file_type())))),
        Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        ensure_dir(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        // Made meanwhile by someone else: accepted only if it is a real folder.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => match fs::symlink_metadata(dir) {
            Ok(m) if m.file_type().is_dir() => Ok(()),
            _ => Err(invalid("appeared as something other than a folder while being created".into())),
        },
        Err(e) => Err(e),
    }
}

/// A folder the tool made earlier, if it is there, is still a real folder (not a link or
/// anything else put in its place). Nothing is created: a missing folder is the caller's
/// to report (a stick that is not mounted must not become a folder on the internal disk).
pub fn still_a_dir(dir: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) if !m.file_type().is_dir() => Err(invalid(format!("is {}, not a folder; the tool writes only into real folders", type_name(&m.file_type())))),
        _ => Ok(()),
    }
}

/// Makes sure the folder the operator named (a link to a folder is accepted: it was
/// named) exists, creating it if needed; what the tool makes inside uses [`ensure_dir`].
pub fn ensure_named_dir(dir: &Path) -> std::io::Result<()> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(m) => Err(invalid(format!("is {}, not a folder", type_name(&m.file_type())))),
        Err(e) if e.kind() == ErrorKind::NotFound => ensure_dir(dir),
        Err(e) => Err(e),
    }
}

/// Creates a new, empty folder beside `path` with an unpredictable name
/// (`.<name>.<tag>-<hex>`), for building something that is renamed to `path` when complete.
pub fn create_temp_dir_beside(path: &Path, tag: &str) -> std::io::Result<PathBuf> {
    let d = temp_beside(path, tag)?;
    fs::create_dir(&d)?;
    Ok(d)
}

/// Renames the folder (or file) `from` to `to`, failing if `to` exists, a link included:
/// `renameat2(RENAME_NOREPLACE)`, or where the file system does not support that flag (some
/// FUSE file systems) a check that the name is free just before a plain rename.
pub fn rename_no_replace_path(from: &Path, to: &Path) -> std::io::Result<()> {
    match rename_no_replace(from, to) {
        Ok(()) => Ok(()),
        Err(e) if !unsupported(&e, &[libc::EINVAL, libc::EOPNOTSUPP, libc::ENOSYS]) => Err(e),
        Err(_) => match fs::symlink_metadata(to) {
            Ok(_) => Err(std::io::Error::new(ErrorKind::AlreadyExists, "file exists")),
            Err(e) if e.kind() == ErrorKind::NotFound => fs::rename(from, to),
            Err(e) => Err(e),
        },
    }
}

/// Whether anything (a dangling link included) has the name `path`.
pub fn occupied(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Gives the complete file `tmp` the name `path`, failing (AlreadyExists) if `path` exists.
fn place_no_replace(tmp: &Path, path: &Path) -> std::io::Result<()> {
    match fs::hard_link(tmp, path) {
        Ok(()) => return fs::remove_file(tmp),
        Err(e) if !unsupported(&e, &[libc::EPERM, libc::EOPNOTSUPP, libc::ENOSYS]) => return Err(e),
        Err(_) => {}
    }
    // No hard links here (FAT, exFAT): a rename that never replaces.
    rename_no_replace_path(tmp, path)
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
    read_large_as(path, Kind::Metadata, true)
}

/// [`read_large`] for a metadata file found inside a folder: a link there is not followed.
pub fn read_large_in(path: &Path) -> std::io::Result<Vec<u8>> {
    read_large_as(path, Kind::Metadata, false)
}

fn read_large_as(path: &Path, kind: Kind, follow: bool) -> std::io::Result<Vec<u8>> {
    const PARALLEL_FROM: u64 = 8 << 20;
    let (file, len) = open_regular(path, kind, follow)?;
    let plain = |file: File| read_all(file, len, kind);
    if len < PARALLEL_FROM {
        return plain(file);
    }
    let Ok(n) = usize::try_from(len) else { return plain(file) };
    match read_halves(&file, n) {
        Ok(Some(buf)) => Ok(buf),
        // Changed size while read: once more, the ordinary way, from the start.
        Ok(None) => plain(open_regular(path, kind, follow)?.0),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => plain(open_regular(path, kind, follow)?.0),
        Err(e) => Err(e),
    }
}

/// Reads `len` bytes in two halves on two threads; `None` if the file turned out longer or
/// no second thread could be started.
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
        assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
        assert_eq!(fs::read(&b).unwrap(), b"old");
        rename_no_replace(&a, &c).unwrap();
        assert_eq!(fs::read(&c).unwrap(), b"new");
        assert!(!a.exists());
        // And create_atomic keeps refusing an existing name.
        let e = create_atomic(&b, b"other", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
        assert_eq!(fs::read(&b).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "a temp file was left");
    }

    #[test]
    fn only_regular_files_are_read_and_never_past_their_limit() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let fifo = d.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Would block forever with a plain open or read: refused at once by type.
        let e = read(&fifo, Kind::Plan).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        let e = read(Path::new("/dev/zero"), Kind::Metadata).unwrap_err();
        assert!(e.to_string().contains("a device"), "{e}");
        std::os::unix::fs::symlink("/dev/zero", d.join("zero")).unwrap();
        assert!(read(&d.join("zero"), Kind::Metadata).unwrap_err().to_string().contains("a device"));
        assert!(read(d, Kind::Plan).unwrap_err().to_string().contains("a folder"));
        let big = d.join("big");
        fs::write(&big, vec![b'x'; (Kind::Key.limit() + 1) as usize]).unwrap();
        let e = read(&big, Kind::Key).unwrap_err();
        assert_eq!(e.to_string(), "is larger than the 64 KiB a key file may have");
        assert_eq!(read(&big, Kind::Plan).unwrap().len() as u64, Kind::Key.limit() + 1);
        // A link inside a folder is not followed by read_in; read follows one given by name.
        fs::write(d.join("real"), b"ok").unwrap();
        std::os::unix::fs::symlink(d.join("real"), d.join("link")).unwrap();
        assert_eq!(read(&d.join("link"), Kind::Key).unwrap(), b"ok");
        assert!(read_in(&d.join("link"), Kind::Key).unwrap_err().to_string().contains("symbolic link"));
        assert!(read_large_in(&d.join("link")).is_err());
        assert_eq!(read_large(&d.join("link")).unwrap(), b"ok");
    }

    #[test]
    fn no_write_follows_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let (d, outside) = (dir.path().join("d"), dir.path().join("outside"));
        fs::create_dir_all(&d).unwrap();
        fs::write(&outside, b"canary").unwrap();
        // A link at the target name: create refuses, replace replaces the link itself.
        std::os::unix::fs::symlink(&outside, d.join("f")).unwrap();
        assert_eq!(create_atomic(&d.join("f"), b"x", false).unwrap_err().kind(), ErrorKind::AlreadyExists);
        replace_atomic(&d.join("f"), b"new").unwrap();
        assert!(fs::symlink_metadata(d.join("f")).unwrap().file_type().is_file());
        std::os::unix::fs::symlink(&outside, d.join("t")).unwrap();
        assert!(open_append(&d.join("t")).is_err());
        assert!(open_write_existing(&d.join("t")).is_err());
        probe_writable(&d).unwrap();
        // A link where a folder is wanted is refused.
        std::os::unix::fs::symlink(dir.path(), d.join("sub")).unwrap();
        assert!(ensure_dir(&d.join("sub")).unwrap_err().to_string().contains("symbolic link"));
        assert!(ensure_dir(&d.join("sub/deeper")).is_err());
        ensure_dir(&d.join("new/deeper")).unwrap();
        assert_eq!(fs::read(&outside).unwrap(), b"canary");
        // Nothing but what was asked for is left in the folder.
        let mut names: Vec<String> = fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["f", "new", "sub", "t"]);
    }
}
