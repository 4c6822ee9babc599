//! What the fuzz targets share (included with `#[path]`; not a target itself).

use std::path::{Path, PathBuf};

/// A fresh folder for this process under `$TMPDIR/tuf-ceremony-fuzz/<target>-<pid>`;
/// folders of processes that are gone are removed.
pub fn per_process_dir(target: &str) -> PathBuf {
    let root = std::env::temp_dir().join("tuf-ceremony-fuzz");
    std::fs::create_dir_all(&root).unwrap();
    if let Ok(rd) = std::fs::read_dir(&root) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix(&format!("{target}-")).and_then(|p| p.parse::<u32>().ok()) {
                if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
    let dir = root.join(format!("{target}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
