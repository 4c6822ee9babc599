//! Finding attestation files in a folder tree (the one part of the module that reads files).

use super::{AttestError, Attestation, DEVICE_CERT_SUFFIX, KEY_CERT_SUFFIX, Roots};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// Which convention a bundle was found under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// This tool: `keys/<keyholder>/<keyholder>.attestation.pem` + `<keyholder>.device.pem`.
    Ceremony,
    /// Sigstore root-signing: `<serial>/<serial>_key_cert.pem` + `<serial>_device_cert.pem`.
    Sigstore,
    /// yubico-piv-tool: `Slot9CAttestation.pem` (any slot) + `SlotF9Intermediate.pem`.
    PivTool,
}

/// One key certificate with its device certificate, as read from disk.
#[derive(Clone, Debug)]
pub struct AttestationBundle {
    pub layout: Layout,
    /// Who or what the files name: the keyholder (Ceremony), the serial as written in the
    /// file names (Sigstore), or the containing folder's name (PivTool).
    pub label: String,
    pub key_cert_path: PathBuf,
    /// `None` when no device certificate sits next to the key certificate.
    pub device_cert_path: Option<PathBuf>,
    pub key_cert: Vec<u8>,
    pub device_cert: Option<Vec<u8>>,
}

impl AttestationBundle {
    /// [`super::verify`] on this bundle's bytes.
    pub fn verify(&self, roots: &Roots, now: DateTime<Utc>) -> Result<Attestation, AttestError> {
        let Some(device) = &self.device_cert else {
            return Err(AttestError::MissingDeviceCert { key_cert: self.key_cert_path.display().to_string() });
        };
        super::verify(&self.key_cert, device, roots, now)
    }
}

/// Deepest folder searched below `dir`.
const MAX_DEPTH: usize = 12;

/// Every attestation bundle under `dir`, in path order. Symbolic links are not followed.
pub fn discover(dir: &Path) -> Result<Vec<AttestationBundle>, AttestError> {
    let mut out = Vec::new();
    walk(dir, 0, &mut out)?;
    Ok(out)
}

fn io(path: &Path, e: impl std::fmt::Display) -> AttestError {
    AttestError::Io { path: path.display().to_string(), reason: e.to_string() }
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<AttestationBundle>) -> Result<(), AttestError> {
    let mut entries: Vec<(String, PathBuf, std::fs::FileType)> = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let e = e.map_err(|e| io(dir, e))?;
        let ft = e.file_type().map_err(|err| io(&e.path(), err))?;
        entries.push((e.file_name().to_string_lossy().into_owned(), e.path(), ft));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let has = |name: &str| entries.iter().any(|(n, _, ft)| n == name && ft.is_file());
    let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // What an operating system left on the media (AppleDouble `._` companions of the
    // certificates, volume folders) is not an attestation.
    let os = |name: &str, path: &Path, ft: &std::fs::FileType| crate::audit::layout::os_file(path, name, ft.is_dir(), depth == 0);
    for (name, path, ft) in &entries {
        if !ft.is_file() || os(name, path, ft) {
            continue;
        }
        let found = if let Some(stem) = name.strip_suffix(KEY_CERT_SUFFIX).filter(|s| !s.is_empty()) {
            Some((Layout::Ceremony, stem.to_string(), format!("{stem}{DEVICE_CERT_SUFFIX}")))
        } else if let Some(stem) = name.strip_suffix("_key_cert.pem").filter(|s| !s.is_empty()) {
            Some((Layout::Sigstore, stem.to_string(), format!("{stem}_device_cert.pem")))
        } else if is_piv_tool_key_cert(name) {
            Some((Layout::PivTool, folder.clone(), "SlotF9Intermediate.pem".to_string()))
        } else {
            None
        };
        let Some((layout, label, device_name)) = found else { continue };
        let device_path = has(&device_name).then(|| dir.join(&device_name));
        let device_cert = device_path.as_deref().map(read).transpose()?;
        out.push(AttestationBundle { layout, label, key_cert_path: path.clone(), device_cert_path: device_path, key_cert: read(path)?, device_cert });
    }
    if depth < MAX_DEPTH {
        for (name, path, ft) in &entries {
            if ft.is_dir() && !os(name, path, ft) {
                walk(path, depth + 1, out)?;
            }
        }
    }
    Ok(())
}

/// `Slot<XX>Attestation.pem` for a two-hex-digit slot other than F9.
fn is_piv_tool_key_cert(name: &str) -> bool {
    let Some(slot) = name.strip_prefix("Slot").and_then(|r| r.strip_suffix("Attestation.pem")) else { return false };
    slot.len() == 2 && slot.bytes().all(|b| b.is_ascii_hexdigit()) && !slot.eq_ignore_ascii_case("f9")
}

fn read(path: &Path) -> Result<Vec<u8>, AttestError> {
    crate::util::fsx::read_in(path, crate::util::fsx::Kind::Certificate).map_err(|e| io(path, e))
}

#[cfg(test)]
mod tests {
    /// Sigstore's real attestations, with what macOS and Windows add to a stick: the same
    /// bundles are found, nothing more.
    #[test]
    fn what_an_operating_system_leaves_is_not_an_attestation() {
        // Real published data is read where it lies (../shared), never copied here.
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/real/sigstore-attestations/2021-06-18/keys");
        if !src.is_dir() {
            let required = std::env::var("CI").is_ok_and(|v| v == "true") || std::env::var("TUF_CEREMONY_REQUIRE_ALL").is_ok_and(|v| v == "1");
            assert!(!required, "{} is required here but missing (CI has ../shared beside its clone)", src.display());
            eprintln!("SKIPPED: {} not available (CI has ../shared beside its clone)", src.display());
            return;
        }
        let t = tempfile::tempdir().unwrap();
        let names = |bundles: &[super::AttestationBundle]| bundles.iter().map(|b| b.label.clone()).collect::<Vec<_>>();
        for e in std::fs::read_dir(&src).unwrap() {
            let e = e.unwrap();
            std::fs::create_dir(t.path().join(e.file_name())).unwrap();
            for f in std::fs::read_dir(e.path()).unwrap() {
                let f = f.unwrap();
                std::fs::copy(f.path(), t.path().join(e.file_name()).join(f.file_name())).unwrap();
            }
        }
        let before = names(&super::discover(t.path()).unwrap());
        assert_eq!(before.len(), 5);
        let apple_double = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ";
        std::fs::write(t.path().join("13078778/._13078778_key_cert.pem"), apple_double).unwrap();
        std::fs::create_dir(t.path().join(".Trashes")).unwrap();
        std::fs::copy(src.join("13078778/13078778_key_cert.pem"), t.path().join(".Trashes/99999999_key_cert.pem")).unwrap();
        assert_eq!(names(&super::discover(t.path()).unwrap()), before);
    }

    #[test]
    fn piv_tool_names() {
        assert!(super::is_piv_tool_key_cert("Slot9CAttestation.pem"));
        assert!(super::is_piv_tool_key_cert("Slot9aAttestation.pem"));
        assert!(!super::is_piv_tool_key_cert("SlotF9Attestation.pem"));
        assert!(!super::is_piv_tool_key_cert("SlotF9Intermediate.pem"));
        assert!(!super::is_piv_tool_key_cert("Slot9CCAttestation.pem"));
    }
}
