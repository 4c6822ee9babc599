//! Atomic, no-overwrite file writes: temp file in the same directory, fsync, hard-link into
//! place (which, unlike rename, fails if the target exists), fsync the directory. A crash
//! leaves either no file or the complete file, never a half-written one.

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
        fs::hard_link(&tmp, path)?;
        fs::remove_file(&tmp)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `create_atomic` with the error rendered for the command line.
pub fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    create_atomic(path, bytes, private).map_err(|e| Error::io(path, e))
}
