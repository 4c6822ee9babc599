//! YubiKey PIV and YubiHSM 2 attestation: proof that a key was generated inside a given
//! YubiKey or YubiHSM 2.
//!
//! Pure: bytes in, results out, the time passed in. The only functions that touch the
//! file system are in [`discover`], which reads certificate and key files from a folder tree.
//!
//! * [`verify`] checks one attestation: key certificate (slot 9c etc.) → device (F9)
//!   certificate → pinned intermediates → a pinned root of [`Roots`], **link by link by
//!   signature**, with issuer/subject names chaining byte for byte. It is deliberately not a
//!   generic path validator: old F9 certificates lack `basicConstraints CA:TRUE`, so
//!   basicConstraints, key usage and path length are not enforced; trust comes from the
//!   pinned root fingerprint ([`roots::YUBICO_PIV_ROOT_SHA256`]) and the signatures.
//!   Signature algorithms: sha256WithRSAEncryption (PKCS#1 v1.5), ecdsa-with-SHA256 and
//!   ecdsa-with-SHA384 (P-256 or P-384 issuer keys).
//! * Validity periods are checked against `now` but only **reported**
//!   ([`AttestWarning::Expired`], [`AttestWarning::NotYetValid`]): an attestation proves
//!   where a key was generated, which stays true after the certificate's end date (Yubico's
//!   are valid until 2052 or later, so in practice this flags a wrong clock or a forgery
//!   made with odd dates).
//! * Yubico's extensions are read from the key certificate: firmware, serial (read
//!   leniently), PIN/touch policy, form factor; the attested SubjectPublicKeyInfo becomes the
//!   core's [`PublicKey`] (P-256, P-384, Ed25519 or RSA).
//! * [`verify_yubihsm`] checks a YubiHSM 2 key attestation the same way (the same chain
//!   code, its own store [`Roots::yubihsm`]): key attestation → device certificate (opaque
//!   object 0, "YubiHSM Attestation (serial)") → "Yubico YubiHSM 6742036 Sub-CA" →
//!   "Yubico YubiHSM Root CA". Its extensions ([`hsm_ext`]) give firmware, serial, origin,
//!   domains, capabilities, object id, label and the FIPS fields. A key not generated on
//!   the device (origin imported, or imported under wrap) is refused
//!   ([`Refusal::NotGenerated`]); `exportable-under-wrap` and firmware named by a Yubico
//!   advisory ([`advisories`]) are warnings; a device certificate whose serial differs
//!   from the key attestation's is refused.
//! * [`products`] audits a folder of key products without metadata (`tuf-ceremony attest`).
//! * [`bind()`] turns verified attestations into [`Finding`](crate::tuf::finding::Finding)s:
//!   the attested key must be a key of the metadata, the serial the keyholder's recorded
//!   serial, and no serial may belong to two keyholders.
//!
//! File layouts [`discover`] recognises (a PEM file may hold DER instead):
//!
//! | layout | key certificate | device certificate |
//! | --- | --- | --- |
//! | this tool (`keys/<keyholder>/`) | `<keyholder>.attestation.pem` | `<keyholder>.device.pem` |
//! | Sigstore (`keys/<serial>/`) | `<serial>_key_cert.pem` | `<serial>_device_cert.pem` |
//! | yubico-piv-tool | `Slot9CAttestation.pem` (any slot) | `SlotF9Intermediate.pem` |
//!
//! The device file may carry more certificates after the F9 one (the intermediates of the
//! firmware ≥ 5.7.4 chain). One of them is used only if its fingerprint is pinned
//! (Yubico's published intermediates, [`roots::YUBICO_PUBLISHED`]): otherwise a genuine
//! key certificate, whose key its owner can sign anything with, could be passed off as an
//! intermediate and "attest" any key with any serial and policy.

pub mod advisories;
pub mod bind;
mod cert;
pub mod discover;
mod ext;
pub mod hsm_ext;
pub mod key_file;
pub mod products;
pub mod products_report;
pub mod roots;

pub use bind::{Holder, bind, decode_keys, same_key};
pub use cert::pem;
pub use discover::{AttestationBundle, Layout, discover};
pub use ext::{Firmware, FormFactor, PinPolicy, TouchPolicy};
pub use hsm_ext::{Capabilities, Origin};
pub use roots::{Roots, fingerprint};

use crate::tuf::keys::PublicKey;
use cert::{Cert, LinkError, certificates};
use chrono::{DateTime, Utc};
use std::fmt;

/// File name of this tool's key attestation certificate in `keys/<keyholder>/`.
pub fn key_cert_file_name(keyholder: &str) -> String {
    format!("{keyholder}{KEY_CERT_SUFFIX}")
}
/// File name of this tool's device (F9) certificate in `keys/<keyholder>/`.
pub fn device_cert_file_name(keyholder: &str) -> String {
    format!("{keyholder}{DEVICE_CERT_SUFFIX}")
}
pub const KEY_CERT_SUFFIX: &str = ".attestation.pem";
pub const DEVICE_CERT_SUFFIX: &str = ".device.pem";

/// Firmware below this is affected by Yubico security advisory YSA-2024-03 (ECDSA side
/// channel in the Infineon library; needs physical access to the key).
pub const YSA_2024_03_FIXED: Firmware = Firmware(5, 7, 0);

/// Longest path accepted, key certificate and root included.
pub const MAX_CHAIN: usize = 8;

/// The kind of device an attestation comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Device {
    YubiKeyPiv,
    YubiHsm2,
}

impl Device {
    /// The stable name used in reports: `yubikey` or `yubihsm2`.
    pub fn name(self) -> &'static str {
        match self {
            Device::YubiKeyPiv => "yubikey",
            Device::YubiHsm2 => "yubihsm2",
        }
    }
}

/// What a YubiHSM 2 key attestation says about the key (extensions 41482.4.3 to .12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HsmKey {
    pub origin: Option<Origin>,
    pub domains: Option<Vec<u8>>,
    pub capabilities: Option<Capabilities>,
    pub object_id: Option<u16>,
    pub label: Option<String>,
    /// FIPS units: "FIPS certified" (41482.4.10).
    pub fips_certified: Option<u32>,
    /// FIPS units: FIPS-approved mode (41482.4.12).
    pub fips_mode: Option<bool>,
}

/// A verified attestation.
#[derive(Clone, Debug)]
pub struct Attestation {
    pub device: Device,
    /// YubiHSM 2 only: origin, capabilities, object id, label, FIPS fields.
    pub hsm: Option<HsmKey>,
    /// The YubiKey's serial number (extension 41482.3.7).
    pub serial: Option<u32>,
    pub firmware: Option<Firmware>,
    pub pin_policy: Option<PinPolicy>,
    pub touch_policy: Option<TouchPolicy>,
    pub form_factor: Option<FormFactor>,
    /// The attested key.
    pub public_key: PublicKey,
    /// The PIV slot from the key certificate's subject ("9c" in "YubiKey PIV Attestation 9c").
    pub slot: Option<String>,
    /// Subjects from the key certificate to the root, in order.
    pub chain: Vec<String>,
    /// SHA-256 fingerprint (uppercase hex) of the root the chain ends at.
    pub root_sha256: String,
    pub warnings: Vec<AttestWarning>,
    /// What makes the attested key unfit for a ceremony although every signature verifies.
    pub refusals: Vec<Refusal>,
}

impl fmt::Display for Attestation {
    /// One line, e.g. `serial 13078778, firmware 5.2.6, slot 9c, ecdsa-p256 key, PIN always, touch always, form factor USB-C keychain (0x03)`
    /// or `YubiHSM 2 serial 13200460, firmware 2.1.2, object 0x0003 "tuf-root", ecdsa-p384 key, origin generated, capabilities sign-ecdsa, domains 1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or = |o: Option<String>| o.unwrap_or_else(|| "unknown".into());
        if let Some(h) = &self.hsm {
            return write!(
                f,
                "YubiHSM 2 serial {}, firmware {}, object {}, {} key, origin {}, capabilities {}, domains {}",
                or(self.serial.map(|s| s.to_string())),
                or(self.firmware.map(|v| v.to_string())),
                or(h.object_id.map(|id| format!("{id:#06x}"))) + &h.label.as_ref().map(|l| format!(" {l:?}")).unwrap_or_default(),
                self.public_key.algorithm().name(),
                or(h.origin.map(|o| o.to_string())),
                or(h.capabilities.map(|c| c.to_string())),
                or(h.domains.as_ref().map(|d| d.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(","))),
            );
        }
        write!(
            f,
            "serial {}, firmware {}, slot {}, {} key, PIN {}, touch {}, {}",
            or(self.serial.map(|s| s.to_string())),
            or(self.firmware.map(|v| v.to_string())),
            or(self.slot.clone()),
            self.public_key.algorithm().name(),
            or(self.pin_policy.map(|p| p.to_string())),
            or(self.touch_policy.map(|p| p.to_string())),
            or(self.form_factor.map(|p| format!("form factor {p}"))),
        )
    }
}

/// Something worth telling that does not make the attestation invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttestWarning {
    /// Firmware below 5.7.0: Yubico advisory YSA-2024-03.
    Ysa202403(Firmware),
    FirmwareMissing,
    SerialMissing,
    TouchPolicyNever,
    PinPolicyNever,
    Expired {
        subject: String,
        not_after: String,
    },
    /// YubiHSM 2 firmware named by a Yubico security advisory.
    Advisory {
        advisory: &'static advisories::Advisory,
        firmware: Firmware,
    },
    /// YubiHSM 2 capability `exportable-under-wrap`: the key can leave the device.
    ExportableUnderWrap,
    NotYetValid {
        subject: String,
        not_before: String,
    },
}

impl AttestWarning {
    /// A stable code, used as the finding code.
    pub fn code(&self) -> &'static str {
        match self {
            AttestWarning::Ysa202403(_) => "attest-firmware-ysa-2024-03",
            AttestWarning::FirmwareMissing => "attest-firmware-missing",
            AttestWarning::SerialMissing => "attest-serial-missing",
            AttestWarning::TouchPolicyNever => "attest-touch-never",
            AttestWarning::PinPolicyNever => "attest-pin-never",
            AttestWarning::Expired { .. } => "attest-cert-expired",
            AttestWarning::NotYetValid { .. } => "attest-cert-not-yet-valid",
            AttestWarning::Advisory { advisory, .. } => advisory.code,
            AttestWarning::ExportableUnderWrap => "attest-exportable-under-wrap",
        }
    }
}

impl fmt::Display for AttestWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttestWarning::Ysa202403(v) => write!(
                f,
                "firmware {v} is below {YSA_2024_03_FIXED}: Yubico advisory YSA-2024-03 (ECDSA side channel; an attacker with the key in hand may recover ECDSA private keys)"
            ),
            AttestWarning::FirmwareMissing => {
                f.write_str("the key certificate has no firmware extension (1.3.6.1.4.1.41482.3.3 on a YubiKey, .4.1 on a YubiHSM 2)")
            }
            AttestWarning::SerialMissing => {
                f.write_str("the key certificate has no serial extension (1.3.6.1.4.1.41482.3.7 on a YubiKey, .4.2 on a YubiHSM 2): the key cannot be tied to a device serial")
            }
            AttestWarning::TouchPolicyNever => f.write_str("touch policy is \"never\": the key signs without anyone touching the YubiKey"),
            AttestWarning::PinPolicyNever => f.write_str("PIN policy is \"never\": the key signs without the PIN"),
            AttestWarning::Expired { subject, not_after } => write!(f, "certificate {subject} expired at {not_after}"),
            AttestWarning::NotYetValid { subject, not_before } => write!(f, "certificate {subject} is not valid before {not_before}"),
            AttestWarning::Advisory { advisory: a, firmware } => {
                write!(f, "YubiHSM 2 firmware {firmware} is below {}: Yubico security advisory {} ({}; {})", a.fixed_in, a.id, a.summary, a.url)
            }
            AttestWarning::ExportableUnderWrap => f.write_str(
                "the key has the capability exportable-under-wrap: whoever holds a wrap key on the device can export it (encrypted), so it may exist outside the device",
            ),
        }
    }
}

/// Why a key whose attestation verifies still cannot be a ceremony key: every key of a
/// ceremony claims to have been generated on its device and never to leave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The origin is not "generated" alone (imported, imported under wrap, or both).
    NotGenerated(Origin),
    /// A YubiHSM 2 key attestation without the origin extension proves nothing about where the key was made.
    OriginMissing,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotGenerated(_) => "attest-origin-imported",
            Refusal::OriginMissing => "attest-origin-missing",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotGenerated(o) => {
                write!(f, "the key's origin is {o} (0x{:02x}), not generated on this device: it was made elsewhere and may exist outside the device", o.0)
            }
            Refusal::OriginMissing => {
                f.write_str("the key attestation has no origin extension (1.3.6.1.4.1.41482.4.3): nothing shows the key was generated on the device")
            }
        }
    }
}

impl Attestation {
    /// This attestation's own findings for the attestation named `name`: a warning per
    /// [`AttestWarning`], an error per [`Refusal`]. No TUF client reads attestations, so
    /// no finding names a rejecting client.
    pub fn findings(&self, name: &str) -> Vec<crate::tuf::finding::Finding> {
        use crate::tuf::finding::{Clients, Finding};
        use crate::tuf::json::JsonPath;
        let mut out: Vec<Finding> = self.refusals.iter().map(|r| Finding::error(r.code(), JsonPath::root(), format!("{name}: {r}"), Clients::NONE)).collect();
        out.extend(self.warnings.iter().map(|w| Finding::warning(w.code(), JsonPath::root(), format!("{name}: {w}"), Clients::NONE)));
        out
    }
}

/// Why an attestation cannot be accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttestError {
    #[error("{what}: not a readable X.509 certificate: {reason}")]
    Parse { what: String, reason: String },
    #[error("{what}: no certificate found")]
    NoCertificate { what: String },
    #[error("certificate {subject}: SHA-256 fingerprint {actual} differs from the pinned {expected}; refusing to trust it")]
    PinMismatch { subject: String, expected: String, actual: String },
    #[error("certificate with SHA-256 fingerprint {sha256} is not one of Yubico's published attestation certificates")]
    NotPublished { sha256: String },
    #[error("{child} names its issuer {issuer}, but the device certificate's subject is {device}")]
    NameMismatch { child: String, issuer: String, device: String },
    #[error("the signature on {child} does not verify with the key of {issuer}")]
    BadSignature { child: String, issuer: String },
    #[error("cannot check the signature on {child} with the key of {issuer}: {reason}")]
    UnsupportedSignature { child: String, issuer: String, reason: String },
    #[error(
        "the device file's certificate {subject} (SHA-256 {sha256}) is not a pinned intermediate: above the device certificate only Yubico's published intermediates are used"
    )]
    UnpinnedIntermediate { subject: String, sha256: String },
    #[error("{subject} is issued by {issuer}, which is neither a trusted root nor a known intermediate (trusted roots: {trusted})")]
    Untrusted { subject: String, issuer: String, trusted: String },
    #[error("the device certificate is the trusted root or intermediate {subject} itself: the key certificate must be issued by a device (F9) certificate")]
    DeviceIsRoot { subject: String },
    #[error("certificate path longer than {MAX_CHAIN} certificates")]
    ChainTooLong,
    #[error("Yubico extension {oid} is malformed: {reason}")]
    BadExtension { oid: String, reason: String },
    #[error("the attested public key is not usable as a TUF key: {0}")]
    UnsupportedKey(String),
    #[error("the device certificate is for serial {device}, but the key attestation is for serial {key}")]
    SerialMismatch { device: u32, key: u32 },
    #[error("{key_cert}: no device certificate next to it")]
    MissingDeviceCert { key_cert: String },
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
}

/// Verifies one attestation: `key_cert` (PEM or DER, one certificate) issued by the first
/// certificate in `device_cert` (PEM may hold intermediates after it), up to a root in
/// `roots`. `now` is only used for the validity warnings.
pub fn verify(key_cert: &[u8], device_cert: &[u8], roots: &Roots, now: DateTime<Utc>) -> Result<Attestation, AttestError> {
    let v = verify_chain(key_cert, device_cert, roots, now)?;
    read_extensions(&v.leaf, v.chain, v.root_sha256, v.warnings)
}

/// Verifies one YubiHSM 2 key attestation: `key_cert` (PEM or DER) issued by the device
/// certificate (opaque object 0; the first certificate of `device_cert`) up to a root of
/// `roots` (normally [`Roots::yubihsm`]), with the same chain rules as [`verify`].
pub fn verify_yubihsm(key_cert: &[u8], device_cert: &[u8], roots: &Roots, now: DateTime<Utc>) -> Result<Attestation, AttestError> {
    let v = verify_chain(key_cert, device_cert, roots, now)?;
    let device_serial = v.device.extension(&hsm_ext::SERIAL).map(hsm_ext::serial).transpose()?;
    let a = read_hsm_extensions(&v.leaf, v.chain, v.root_sha256, v.warnings)?;
    if let (Some(device), Some(key)) = (device_serial, a.serial)
        && device != key
    {
        return Err(AttestError::SerialMismatch { device, key });
    }
    Ok(a)
}

/// Checks a YubiHSM 2 device certificate alone (opaque object 0, PEM or DER, maybe followed
/// by intermediates) up to a root of `roots`, by the same rules as [`verify_yubihsm`]:
/// whether a key attestation the device signs can verify at all. Returns the subjects from
/// the device certificate to the root.
pub fn verify_yubihsm_device(device_cert: &[u8], roots: &Roots) -> Result<Vec<String>, AttestError> {
    let supplied = certificates(device_cert, "device certificate")?;
    let device = supplied.first().ok_or(AttestError::NoCertificate { what: "device certificate".into() })?;
    if roots.trusts_root(device) || roots.trusts_intermediate(device) {
        return Err(AttestError::DeviceIsRoot { subject: device.subject() });
    }
    Ok(climb(vec![device], &supplied, roots)?.iter().map(|c| c.subject()).collect())
}

/// A chain that verified: the key certificate, the device certificate, the subjects from
/// the key certificate to the root, the root's fingerprint and the validity warnings.
struct Verified {
    leaf: Cert,
    device: Cert,
    chain: Vec<String>,
    root_sha256: String,
    warnings: Vec<AttestWarning>,
}

fn verify_chain(key_cert: &[u8], device_cert: &[u8], roots: &Roots, now: DateTime<Utc>) -> Result<Verified, AttestError> {
    let mut leaf = certificates(key_cert, "key certificate")?;
    if leaf.len() != 1 {
        return Err(AttestError::Parse { what: "key certificate".into(), reason: format!("expected one certificate, found {}", leaf.len()) });
    }
    let leaf = leaf.remove(0);
    let supplied = certificates(device_cert, "device certificate")?;
    let path = build_path(&leaf, &supplied, roots)?;
    let mut warnings = Vec::new();
    let now_s = u64::try_from(now.timestamp()).unwrap_or(0);
    for c in &path {
        let (nb, na) = c.validity();
        if now_s < nb {
            warnings.push(AttestWarning::NotYetValid { subject: c.subject(), not_before: rfc3339(nb) });
        }
        if now_s > na {
            warnings.push(AttestWarning::Expired { subject: c.subject(), not_after: rfc3339(na) });
        }
    }
    let chain = path.iter().map(|c| c.subject()).collect();
    let root_sha256 = path.last().map(|r| cert::upper_hex(&r.sha256)).unwrap_or_default();
    let device = path[1].clone();
    Ok(Verified { leaf, device, chain, root_sha256, warnings })
}

/// The DER bytes of every certificate in `input` (PEM with any number of CERTIFICATE
/// blocks, or one DER certificate); each must decode as a certificate.
pub fn der_certificates(input: &[u8]) -> Result<Vec<Vec<u8>>, AttestError> {
    Ok(certificates(input, "input")?.into_iter().map(|c| c.der).collect())
}

fn read_extensions(leaf: &Cert, chain: Vec<String>, root_sha256: String, mut warnings: Vec<AttestWarning>) -> Result<Attestation, AttestError> {
    let firmware = leaf.extension(&ext::FIRMWARE).map(ext::firmware).transpose()?;
    let serial = leaf.extension(&ext::SERIAL).map(ext::serial).transpose()?;
    let policy = leaf.extension(&ext::POLICY).map(ext::policy).transpose()?;
    let form_factor = leaf.extension(&ext::FORM_FACTOR).map(ext::form_factor).transpose()?;
    let public_key = cert::public_key(leaf.spki())?;
    match firmware {
        Some(v) if v < YSA_2024_03_FIXED => warnings.push(AttestWarning::Ysa202403(v)),
        Some(_) => {}
        None => warnings.push(AttestWarning::FirmwareMissing),
    }
    if serial.is_none() {
        warnings.push(AttestWarning::SerialMissing);
    }
    if matches!(policy, Some((PinPolicy::Never, _))) {
        warnings.push(AttestWarning::PinPolicyNever);
    }
    if matches!(policy, Some((_, TouchPolicy::Never))) {
        warnings.push(AttestWarning::TouchPolicyNever);
    }
    let slot = leaf.common_name().and_then(|cn| {
        let s = cn.strip_prefix("YubiKey PIV Attestation ")?.trim().to_ascii_lowercase();
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_hexdigit())).then_some(s)
    });
    Ok(Attestation {
        device: Device::YubiKeyPiv,
        hsm: None,
        refusals: Vec::new(),
        serial,
        firmware,
        pin_policy: policy.map(|p| p.0),
        touch_policy: policy.map(|p| p.1),
        form_factor,
        public_key,
        slot,
        chain,
        root_sha256,
        warnings,
    })
}

fn read_hsm_extensions(leaf: &Cert, chain: Vec<String>, root_sha256: String, mut warnings: Vec<AttestWarning>) -> Result<Attestation, AttestError> {
    use hsm_ext as x;
    let firmware = leaf.extension(&x::FIRMWARE).map(x::firmware).transpose()?;
    let serial = leaf.extension(&x::SERIAL).map(x::serial).transpose()?;
    let hsm = HsmKey {
        origin: leaf.extension(&x::ORIGIN).map(x::origin).transpose()?,
        domains: leaf.extension(&x::DOMAINS).map(x::domains).transpose()?,
        capabilities: leaf.extension(&x::CAPABILITIES).map(x::capabilities).transpose()?,
        object_id: leaf.extension(&x::OBJECT_ID).map(x::object_id).transpose()?,
        label: leaf.extension(&x::LABEL).map(x::label).transpose()?,
        fips_certified: leaf.extension(&x::FIPS_CERTIFIED).map(x::fips_certified).transpose()?,
        fips_mode: leaf.extension(&x::FIPS_MODE).map(x::fips_mode).transpose()?,
    };
    let public_key = cert::public_key(leaf.spki())?;
    match firmware {
        Some(v) => warnings.extend(advisories::yubihsm2(v).into_iter().map(|advisory| AttestWarning::Advisory { advisory, firmware: v })),
        None => warnings.push(AttestWarning::FirmwareMissing),
    }
    if serial.is_none() {
        warnings.push(AttestWarning::SerialMissing);
    }
    if hsm.capabilities.is_some_and(|c| c.exportable_under_wrap()) {
        warnings.push(AttestWarning::ExportableUnderWrap);
    }
    let refusals = match hsm.origin {
        Some(o) if o.generated_here() => Vec::new(),
        Some(o) => vec![Refusal::NotGenerated(o)],
        None => vec![Refusal::OriginMissing],
    };
    Ok(Attestation {
        device: Device::YubiHsm2,
        hsm: Some(hsm),
        refusals,
        serial,
        firmware,
        pin_policy: None,
        touch_policy: None,
        form_factor: None,
        public_key,
        slot: None,
        chain,
        root_sha256,
        warnings,
    })
}

/// key certificate → supplied[0] (device) → supplied[1..] or the store's intermediates →
/// a trusted root. Returns the path, leaf first, root last.
fn build_path<'a>(leaf: &'a Cert, supplied: &'a [Cert], roots: &'a Roots) -> Result<Vec<&'a Cert>, AttestError> {
    let device = supplied.first().ok_or(AttestError::NoCertificate { what: "device certificate".into() })?;
    if leaf.issuer_der != device.subject_der {
        return Err(AttestError::NameMismatch { child: "the key certificate".into(), issuer: leaf.issuer(), device: device.subject() });
    }
    link(leaf, device, "the key certificate", "the device certificate")?;
    // A key certificate signed directly by a root is not a device attestation.
    if roots.trusts_root(device) || roots.trusts_intermediate(device) {
        return Err(AttestError::DeviceIsRoot { subject: device.subject() });
    }
    climb(vec![leaf, device], supplied, roots)
}

/// Extends `path` (ending at the device certificate, `supplied[0]`) through pinned
/// intermediates to a trusted root.
fn climb<'a>(mut path: Vec<&'a Cert>, supplied: &'a [Cert], roots: &'a Roots) -> Result<Vec<&'a Cert>, AttestError> {
    let device = supplied.first().ok_or(AttestError::NoCertificate { what: "device certificate".into() })?;
    let mut cur = device;
    loop {
        if path.len() >= MAX_CHAIN {
            return Err(AttestError::ChainTooLong);
        }
        let mut failure: Option<AttestError> = None;
        let pinned_roots = supplied[1..].iter().filter(|c| !roots.is_root(c) && roots.trusts_root(c));
        for r in roots.roots.iter().chain(pinned_roots).filter(|r| r.subject_der == cur.issuer_der) {
            match link(cur, r, &describe(cur, device), &format!("trusted root {}", r.subject())) {
                Ok(()) => {
                    path.push(r);
                    return Ok(path);
                }
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        // Above the device certificate only pinned certificates (see `Roots`): a name match
        // from the device file that is not pinned is reported, never used.
        let named = |c: &&Cert| c.subject_der == cur.issuer_der && !roots.trusts_root(c) && !path.iter().any(|p| p.sha256 == c.sha256);
        if failure.is_none() {
            failure = supplied[1..]
                .iter()
                .filter(named)
                .find(|c| !roots.trusts_intermediate(c))
                .map(|c| AttestError::UnpinnedIntermediate { subject: c.subject(), sha256: cert::upper_hex(&c.sha256) });
        }
        let candidates = supplied[1..].iter().filter(|c| roots.trusts_intermediate(c)).chain(roots.intermediates.iter());
        let mut next = None;
        for c in candidates.filter(named) {
            match link(cur, c, &describe(cur, device), &format!("intermediate {}", c.subject())) {
                Ok(()) => {
                    next = Some(c);
                    break;
                }
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        match next {
            Some(c) => {
                path.push(c);
                cur = c;
            }
            None => {
                return Err(failure.unwrap_or_else(|| AttestError::Untrusted {
                    subject: describe(cur, device),
                    issuer: cur.issuer(),
                    trusted: roots.root_subjects().join("; "),
                }));
            }
        }
    }
}

fn describe(c: &Cert, device: &Cert) -> String {
    if std::ptr::eq(c, device) { format!("the device certificate ({})", c.subject()) } else { format!("intermediate {}", c.subject()) }
}

fn link(child: &Cert, issuer: &Cert, child_name: &str, issuer_name: &str) -> Result<(), AttestError> {
    child.verify_signed_by(issuer).map_err(|e| match e {
        LinkError::BadSignature => AttestError::BadSignature { child: child_name.into(), issuer: issuer_name.into() },
        LinkError::UnsupportedAlgorithm(oid) => AttestError::UnsupportedSignature {
            child: child_name.into(),
            issuer: issuer_name.into(),
            reason: format!("signature algorithm {oid} (supported: sha256WithRSAEncryption, ecdsa-with-SHA256, ecdsa-with-SHA384)"),
        },
        LinkError::KeyMismatch { alg, key } => AttestError::UnsupportedSignature {
            child: child_name.into(),
            issuer: issuer_name.into(),
            reason: format!("a {alg} signature cannot come from a {key} key"),
        },
        LinkError::Malformed(why) => AttestError::UnsupportedSignature { child: child_name.into(), issuer: issuer_name.into(), reason: why.into() },
    })
}

fn rfc3339(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| format!("{secs} s after 1970"))
}
