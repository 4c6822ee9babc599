//! The audit of a folder of key products with no metadata (`tuf-ceremony attest DIR`):
//! the public key files and attestations a key-generation ceremony leaves, as the PSF's
//! 2020 ceremony did (three YubiHSM 2 with attestations, three Nitrokey HSM without).
//!
//! Pure: [`audit`] takes what [`super::discover::products`] read. Per key (one entry per
//! distinct public key, whatever files hold it): the keyid python-tuf and securesystemslib
//! give it (`SSlibKey.from_pem`: keytype `ecdsa`, scheme by curve, `keyval.public` the PEM
//! SubjectPublicKeyInfo; ed25519 hex; RSA `rsassa-pss-sha256`), the files, and, when an
//! attestation binds to it, the device, serial, firmware, origin, capabilities and label.
//!
//! Findings (codes are stable; file = the file the finding is about):
//! * errors: `attest-invalid` (an attestation that does not verify), `attest-origin-imported`
//!   / `attest-origin-missing` (a ceremony key not generated on its device),
//!   `attest-no-key-file` (the attested key is in no key file), `attest-key-file-mismatch`
//!   (`S_k_attestation` and `S_k_pubkey.*` hold different keys), `attest-serial-mismatch`
//!   (files named for one serial, attestation from another), `key-file-unreadable`,
//!   `key-files-disagree` (`.pem` and `.pub` of one name hold different keys),
//!   `key-files-same-key` (one key under two names), `file-unreadable` (a key, attestation
//!   or device certificate file that could not be read: a link, a special or too large file);
//! * warnings: `attest-missing` (a key no valid attestation binds to), firmware advisories
//!   (`attest-firmware-ysa-…`), `attest-exportable-under-wrap`, validity warnings.

use super::discover::{AttestationBundle, Found, Layout, Stores};
use super::key_file::{self, KeyEncoding, KeyFileError};
use super::{Attestation, Device, same_key};
use crate::audit::set::AuditFinding;
use crate::tuf::finding::{Clients, Finding, Severity};
use crate::tuf::json::JsonPath;
use crate::tuf::keys::{PublicKey, keyid};
use crate::tuf::metadata::Key;
use chrono::{DateTime, Utc};
use std::path::Path;

/// One file holding a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFile {
    /// Relative to the folder audited.
    pub path: String,
    pub encoding: KeyEncoding,
}

/// One distinct public key of the folder.
#[derive(Clone, Debug)]
pub struct ProductKey {
    /// sha256 of the canonical key object, as python-tuf computes it.
    pub keyid: String,
    /// The TUF key object (keytype, scheme, keyval.public).
    pub key: Key,
    pub public_key: PublicKey,
    /// Every file holding this key, in path order.
    pub files: Vec<KeyFile>,
    /// The serial the first file's name carries (`0013200460` in `0013200460_root_pubkey.pem`).
    pub named_serial: Option<String>,
    /// Indexes into [`ProductsReport::attestations`] of the attestations of this key.
    pub attestations: Vec<usize>,
    /// A valid attestation binds to the key, with no refusal and no contradiction.
    pub attested: bool,
}

impl ProductKey {
    /// The file to name for the key: its first PEM file, else its first file.
    pub fn file(&self) -> &str {
        self.files.iter().find(|f| f.encoding == KeyEncoding::PemSpki).or(self.files.first()).map(|f| f.path.as_str()).unwrap_or("")
    }

    /// What the serial in the file name suggests when no attestation says: `nitrokey-hsm`
    /// for a Nitrokey HSM's `DENK…` serial. Proves nothing.
    pub fn device_hint(&self) -> Option<&'static str> {
        self.named_serial.as_deref().filter(|s| s.starts_with("DENK")).map(|_| "nitrokey-hsm")
    }
}

/// One attestation found, verified or not.
#[derive(Clone, Debug)]
pub struct AttestationEntry {
    pub file: String,
    pub device_file: Option<String>,
    pub layout: Layout,
    /// The serial (or keyholder, folder) the file names carry.
    pub label: String,
    pub result: Result<Attestation, String>,
    /// The key it binds to (index into [`ProductsReport::keys`]).
    pub key: Option<usize>,
    /// Valid, bound, and nothing refused or contradicted.
    pub ok: bool,
}

/// The audit's result.
#[derive(Clone, Debug)]
pub struct ProductsReport {
    pub path: String,
    pub at: DateTime<Utc>,
    pub keys: Vec<ProductKey>,
    pub attestations: Vec<AttestationEntry>,
    /// Files not used, with why (relative paths).
    pub not_checked: Vec<(String, String)>,
    pub findings: Vec<AuditFinding>,
}

impl ProductsReport {
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.finding.severity == s).count()
    }

    /// 0 when no finding is an error (every attestation present verifies and binds), else 1.
    pub fn exit_code(&self) -> i32 {
        if self.count(Severity::Error) > 0 { crate::error::exit::FAILED } else { crate::error::exit::OK }
    }

    /// The device an attested key's attestation names.
    pub fn device(&self, k: &ProductKey) -> Option<Device> {
        self.attestation(k).map(|a| a.device)
    }

    /// The first valid attestation bound to `k` (the one whose fields describe it).
    pub fn attestation(&self, k: &ProductKey) -> Option<&Attestation> {
        k.attestations.iter().filter_map(|&i| self.attestations[i].result.as_ref().ok()).next()
    }

    /// The attestation entry that describes `k`: the first valid one, else the first one.
    pub fn entry(&self, k: &ProductKey) -> Option<&AttestationEntry> {
        k.attestations.iter().map(|&i| &self.attestations[i]).find(|e| e.result.is_ok()).or_else(|| k.attestations.first().map(|&i| &self.attestations[i]))
    }
}

/// Audits what [`super::discover::products`] found under `base`, at time `at`.
pub fn audit(found: &Found, base: &Path, stores: &Stores, at: DateTime<Utc>) -> ProductsReport {
    let rel = |p: &Path| p.strip_prefix(base).unwrap_or(p).display().to_string();
    let mut rep =
        ProductsReport { path: base.display().to_string(), at, keys: Vec::new(), attestations: Vec::new(), not_checked: Vec::new(), findings: Vec::new() };
    let push = |out: &mut Vec<AuditFinding>, file: &str, f: Finding| out.push(AuditFinding { file: file.to_string(), finding: f });
    let err = |code: &'static str, msg: String| Finding::error(code, JsonPath::root(), msg, Clients::NONE);

    for n in &found.not_read {
        let file = rel(&n.path);
        if n.problem {
            push(&mut rep.findings, &file, err("file-unreadable", format!("{file}: {}", n.reason)));
        }
        rep.not_checked.push((file, n.reason.clone()));
    }

    // Keys, one per distinct key.
    let mut stems: Vec<(String, usize)> = Vec::new();
    for kf in &found.key_files {
        let file = rel(&kf.path);
        let (pk, encoding) = match key_file::decode(&kf.bytes) {
            Ok(x) => x,
            Err(KeyFileError::Certificate) => {
                rep.not_checked.push((file, "a certificate that is not a key attestation by its name".into()));
                continue;
            }
            Err(e) => {
                push(&mut rep.findings, &file, err("key-file-unreadable", format!("{file}: {e}")));
                continue;
            }
        };
        let stem = file_stem(&file);
        let at = match rep.keys.iter().position(|k| same_key(&k.public_key, &pk)) {
            Some(i) => {
                rep.keys[i].files.push(KeyFile { path: file.clone(), encoding });
                i
            }
            None => {
                let key = pk.to_key();
                rep.keys.push(ProductKey {
                    keyid: keyid(&key),
                    key,
                    public_key: pk,
                    files: vec![KeyFile { path: file.clone(), encoding }],
                    named_serial: named_serial(&file),
                    attestations: Vec::new(),
                    attested: false,
                });
                rep.keys.len() - 1
            }
        };
        if let Some((_, other)) = stems.iter().find(|(s, i)| *s == stem && *i != at) {
            let a = rep.keys[*other].file().to_string();
            push(&mut rep.findings, &file, err("key-files-disagree", format!("{file} and {a} have one name but hold different keys")));
        }
        stems.push((stem, at));
    }
    for k in &rep.keys {
        let mut names: Vec<String> = k.files.iter().map(|f| file_stem(&f.path)).collect();
        names.dedup();
        if names.len() > 1 {
            push(&mut rep.findings, k.file(), err("key-files-same-key", format!("one key under several names: {}", names.join(", "))));
        }
    }

    // Attestations.
    for b in &found.bundles {
        let idx = rep.attestations.len();
        let e = entry(b, stores, at, &rel);
        let file = e.file.clone();
        rep.attestations.push(e);
        let a = match &rep.attestations[idx].result {
            Err(why) => {
                push(&mut rep.findings, &file, err("attest-invalid", format!("{file}: {why}")));
                continue;
            }
            Ok(a) => a.clone(),
        };
        let mut ok = a.refusals.is_empty();
        for f in a.findings(&file) {
            push(&mut rep.findings, &file, f);
        }
        if let (Ok(named), Some(s)) = (b.label.parse::<u32>(), a.serial)
            && b.layout != Layout::Ceremony
            && named != s
        {
            ok = false;
            push(
                &mut rep.findings,
                &file,
                err("attest-serial-mismatch", format!("{file}: the files are named for serial {}, but the attestation is from serial {s}", b.label)),
            );
        }
        let bound = rep.keys.iter().position(|k| same_key(&k.public_key, &a.public_key));
        // YubiHSM layout: S_k_attestation.der attests the key of S_k_pubkey.*.
        if let Some(name) = &b.key_name {
            let want = format!("{}_{name}_pubkey", b.label);
            let folder = rel(b.key_cert_path.parent().unwrap_or(base));
            let want_path = if folder.is_empty() { want.clone() } else { format!("{folder}/{want}") };
            for (i, k) in rep.keys.iter().enumerate() {
                for f in k.files.iter().filter(|f| file_stem(&f.path) == want_path) {
                    if Some(i) != bound {
                        ok = false;
                        push(
                            &mut rep.findings,
                            &file,
                            err("attest-key-file-mismatch", format!("{file}: {} does not hold the key this attestation attests", f.path)),
                        );
                    }
                }
            }
        }
        match bound {
            Some(i) => {
                rep.keys[i].attestations.push(idx);
                rep.attestations[idx].key = Some(i);
            }
            None => {
                ok = false;
                push(
                    &mut rep.findings,
                    &file,
                    err("attest-no-key-file", format!("{file}: the attested {} key is in no public key file of the folder", a.public_key.algorithm().name())),
                );
            }
        }
        rep.attestations[idx].ok = ok;
        if let (true, Some(i)) = (ok, bound) {
            rep.keys[i].attested = true;
        }
    }

    // A key that was attested by one file and contradicted by another is not attested.
    for i in 0..rep.keys.len() {
        if rep.keys[i].attestations.iter().any(|&x| !rep.attestations[x].ok) {
            rep.keys[i].attested = false;
        }
    }
    rep.keys.sort_by(|a, b| a.file().cmp(b.file()));
    // Key indexes of attestations after sorting.
    for (i, k) in rep.keys.iter().enumerate() {
        for &x in &k.attestations {
            rep.attestations[x].key = Some(i);
        }
    }
    for k in &rep.keys {
        if !k.attested {
            let why = if k.attestations.is_empty() { "no attestation" } else { "no valid attestation" };
            push(
                &mut rep.findings,
                k.file(),
                Finding::warning(
                    "attest-missing",
                    JsonPath::root(),
                    format!("{}: {why}: nothing shows this key was generated on a device", k.file()),
                    Clients::NONE,
                ),
            );
        }
    }
    rep.not_checked.sort();
    rep.findings.sort_by_key(|f| f.finding.severity);
    rep
}

fn entry(b: &AttestationBundle, stores: &Stores, at: DateTime<Utc>, rel: &dyn Fn(&Path) -> String) -> AttestationEntry {
    AttestationEntry {
        file: rel(&b.key_cert_path),
        device_file: b.device_cert_path.as_deref().map(rel),
        layout: b.layout,
        label: b.label.clone(),
        result: b.verify_bundled(stores, at).map_err(|e| e.to_string()),
        key: None,
        ok: false,
    }
}

/// The path without its last extension: `a/S_root_pubkey.pem` → `a/S_root_pubkey`.
fn file_stem(path: &str) -> String {
    let name_start = path.rfind('/').map(|i| i + 1).unwrap_or(0);
    match path[name_start..].rfind('.') {
        Some(dot) if dot > 0 => path[..name_start + dot].to_string(),
        _ => path.to_string(),
    }
}

/// `S` of a file named `S_<key>_pubkey.<ext>`.
fn named_serial(path: &str) -> Option<String> {
    let name = path.rsplit('/').next()?;
    let stem = file_stem(name);
    let inner = stem.strip_suffix("_pubkey")?;
    let (serial, key) = inner.split_once('_')?;
    (!serial.is_empty() && !key.is_empty()).then(|| serial.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        assert_eq!(super::file_stem("a/S_root_pubkey.pem"), "a/S_root_pubkey");
        assert_eq!(super::file_stem("a.b/c"), "a.b/c");
        assert_eq!(super::file_stem(".pub"), ".pub");
        assert_eq!(super::named_serial("0013200460/0013200460_root_pubkey.pub").as_deref(), Some("0013200460"));
        assert_eq!(super::named_serial("DENK0102947_targets_pubkey.pem").as_deref(), Some("DENK0102947"));
        assert_eq!(super::named_serial("root.pem"), None);
        assert_eq!(super::named_serial("_x_pubkey.pem"), None);
    }
}
