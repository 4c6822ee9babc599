//! Finding attestation and public key files in a folder tree (the one part of the module
//! that reads files). Every read is size-limited and never follows a link
//! ([`crate::util::fsx::read_in`]); links and other special files are reported, not read.

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
    /// YubiHSM 2 as the PSF's 2020 ceremony (yubihsm-provision) wrote it:
    /// `<serial>_<key>_attestation.der` + `<serial>_cert.der` (opaque object 0), with the
    /// public key in `<serial>_<key>_pubkey.pem` / `.pub`. `.pem` in place of `.der` too.
    YubiHsm,
}

impl Layout {
    /// The device family whose trust store checks bundles of this layout.
    pub fn device(self) -> super::Device {
        match self {
            Layout::YubiHsm => super::Device::YubiHsm2,
            _ => super::Device::YubiKeyPiv,
        }
    }
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
    /// YubiHsm layout: the key's name in the file names (`root` in `S_root_attestation.der`),
    /// whose public key file is `S_root_pubkey.*`.
    pub key_name: Option<String>,
}

impl AttestationBundle {
    /// [`super::verify`] (YubiKey layouts) or [`super::verify_yubihsm`] (YubiHSM layout)
    /// on this bundle's bytes, with `roots` the store of the layout's device family.
    pub fn verify(&self, roots: &Roots, now: DateTime<Utc>) -> Result<Attestation, AttestError> {
        let Some(device) = &self.device_cert else {
            return Err(AttestError::MissingDeviceCert { key_cert: self.key_cert_path.display().to_string() });
        };
        match self.layout {
            Layout::YubiHsm => super::verify_yubihsm(&self.key_cert, device, roots, now),
            _ => super::verify(&self.key_cert, device, roots, now),
        }
    }

    /// [`Self::verify`] with the bundled store of the layout's device family.
    pub fn verify_bundled(&self, stores: &Stores, now: DateTime<Utc>) -> Result<Attestation, AttestError> {
        self.verify(stores.for_device(self.layout.device()), now)
    }
}

/// The bundled trust stores, one per device family.
#[derive(Clone, Debug)]
pub struct Stores {
    pub yubikey: Roots,
    pub yubihsm: Roots,
}

impl Stores {
    pub fn bundled() -> Result<Stores, AttestError> {
        Ok(Stores { yubikey: Roots::bundled()?, yubihsm: Roots::yubihsm()? })
    }

    pub fn for_device(&self, d: super::Device) -> &Roots {
        match d {
            super::Device::YubiKeyPiv => &self.yubikey,
            super::Device::YubiHsm2 => &self.yubihsm,
        }
    }
}

/// A file that may hold a public key (`*.pem`, `*.pub`, `*.der` that no layout names as a
/// certificate), as read.
#[derive(Clone, Debug)]
pub struct KeyFileBytes {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// Everything [`products`] found under a folder.
#[derive(Clone, Debug, Default)]
pub struct Found {
    pub bundles: Vec<AttestationBundle>,
    pub key_files: Vec<KeyFileBytes>,
    /// Files read by no check, with why: links (never followed), special files, files that
    /// could not be read, device certificates no key certificate names, other files.
    pub not_read: Vec<NotRead>,
}

/// A file [`products`] did not use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotRead {
    pub path: PathBuf,
    pub reason: String,
    /// A key, attestation or device certificate file by its name that could not be read
    /// (too large, not a regular file, a link, unreadable): the audit is incomplete.
    pub problem: bool,
}

/// Deepest folder searched below `dir`.
const MAX_DEPTH: usize = 12;

/// Every attestation bundle under `dir`, in path order. Symbolic links are not followed.
pub fn discover(dir: &Path) -> Result<Vec<AttestationBundle>, AttestError> {
    let mut out = Found::default();
    walk(dir, 0, false, &mut out)?;
    Ok(out.bundles)
}

/// Every attestation bundle and every file that may hold a public key under `dir`, and the
/// files not read, each list in path order. Symbolic links are not followed. An error only
/// when a folder cannot be listed; a file that cannot be read is listed in `not_read`.
pub fn products(dir: &Path) -> Result<Found, AttestError> {
    let mut out = Found::default();
    walk(dir, 0, true, &mut out)?;
    Ok(out)
}

fn io(path: &Path, e: impl std::fmt::Display) -> AttestError {
    AttestError::Io { path: path.display().to_string(), reason: e.to_string() }
}

fn walk(dir: &Path, depth: usize, keys: bool, out: &mut Found) -> Result<(), AttestError> {
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
    let mut device_certs: Vec<String> = Vec::new();
    for (name, path, ft) in &entries {
        if os(name, path, ft) || ft.is_dir() {
            continue;
        }
        if !ft.is_file() {
            if keys {
                let problem = yubihsm_key_cert(name).is_some() || is_device_cert_name(name) || is_key_file_name(name) || name.ends_with(KEY_CERT_SUFFIX);
                out.not_read.push(NotRead { path: path.clone(), reason: format!("{}, not followed or read", crate::util::fsx::type_name(ft)), problem });
            }
            continue;
        }
        let found = if let Some(stem) = name.strip_suffix(KEY_CERT_SUFFIX).filter(|s| !s.is_empty()) {
            Some((Layout::Ceremony, stem.to_string(), format!("{stem}{DEVICE_CERT_SUFFIX}"), None))
        } else if let Some(stem) = name.strip_suffix("_key_cert.pem").filter(|s| !s.is_empty()) {
            Some((Layout::Sigstore, stem.to_string(), format!("{stem}_device_cert.pem"), None))
        } else if is_piv_tool_key_cert(name) {
            Some((Layout::PivTool, folder.clone(), "SlotF9Intermediate.pem".to_string(), None))
        } else if let Some((serial, key)) = yubihsm_key_cert(name) {
            let device = [".der", ".pem"].iter().map(|ext| format!("{serial}_cert{ext}")).find(|n| has(n)).unwrap_or_else(|| format!("{serial}_cert.der"));
            Some((Layout::YubiHsm, serial.to_string(), device, Some(key.to_string())))
        } else {
            None
        };
        let Some((layout, label, device_name, key_name)) = found else {
            if keys && is_device_cert_name(name) {
                device_certs.push(name.clone());
            } else if keys && is_key_file_name(name) {
                match read_key_file(path) {
                    Ok(bytes) => out.key_files.push(KeyFileBytes { path: path.clone(), bytes }),
                    Err(e) => out.not_read.push(NotRead { path: path.clone(), reason: format!("cannot be read: {e}"), problem: true }),
                }
            } else if keys {
                out.not_read.push(NotRead {
                    path: path.clone(),
                    reason: "not a key, attestation or device certificate file by its name".into(),
                    problem: false,
                });
            }
            continue;
        };
        let device_path = has(&device_name).then(|| dir.join(&device_name));
        // In an audit of products a file that cannot be read is a finding; for `verify` the
        // attestation folder as a whole is unreadable.
        let (key_cert, device_cert) = match (read(path), device_path.as_deref().map(read).transpose()) {
            (Ok(k), Ok(d)) => (k, d),
            (Err(e), _) if keys => {
                out.not_read.push(NotRead { path: path.clone(), reason: format!("cannot be read: {e}"), problem: true });
                continue;
            }
            (_, Err(e)) if keys => {
                let failed = device_path.clone().unwrap_or_else(|| path.clone());
                out.not_read.push(NotRead { path: failed, reason: format!("cannot be read: {e}"), problem: true });
                continue;
            }
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        out.bundles.push(AttestationBundle { layout, label, key_cert_path: path.clone(), device_cert_path: device_path, key_cert, device_cert, key_name });
    }
    // A device certificate no key certificate of this folder names is reported, not read.
    for name in device_certs {
        let p = dir.join(&name);
        if !out.bundles.iter().any(|b| b.device_cert_path.as_deref() == Some(p.as_path())) && !out.not_read.iter().any(|n| n.path == p) {
            out.not_read.push(NotRead { path: p, reason: "a device certificate no key attestation in its folder names".into(), problem: false });
        }
    }
    if depth < MAX_DEPTH {
        for (name, path, ft) in &entries {
            if ft.is_dir() && !os(name, path, ft) {
                walk(path, depth + 1, keys, out)?;
            }
        }
    } else if keys && entries.iter().any(|(_, _, ft)| ft.is_dir()) {
        out.not_read.push(NotRead { path: dir.to_path_buf(), reason: format!("folders deeper than {MAX_DEPTH} levels are not searched"), problem: true });
    }
    Ok(())
}

/// `<serial>_<key>_attestation.der` (or `.pem`) → (`<serial>`, `<key>`), both non-empty.
fn yubihsm_key_cert(name: &str) -> Option<(&str, &str)> {
    let stem = name.strip_suffix("_attestation.der").or_else(|| name.strip_suffix("_attestation.pem"))?;
    let (serial, key) = stem.split_once('_')?;
    (!serial.is_empty() && !key.is_empty()).then_some((serial, key))
}

/// Names of device certificates: this tool's, Sigstore's, yubico-piv-tool's, the YubiHSM layout's.
fn is_device_cert_name(name: &str) -> bool {
    name.ends_with(DEVICE_CERT_SUFFIX)
        || name.ends_with("_device_cert.pem")
        || name == "SlotF9Intermediate.pem"
        || name.strip_suffix("_cert.der").or_else(|| name.strip_suffix("_cert.pem")).is_some_and(|s| !s.is_empty() && !s.contains('_'))
}

/// Files that may hold a public key: `*.pem`, `*.pub`, `*.der`.
fn is_key_file_name(name: &str) -> bool {
    [".pem", ".pub", ".der"].iter().any(|ext| name.len() > ext.len() && name.ends_with(ext))
}

fn read_key_file(path: &Path) -> std::io::Result<Vec<u8>> {
    crate::util::fsx::read_in(path, crate::util::fsx::Kind::Key)
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
