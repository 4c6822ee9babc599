//! The ceremony plan: one TOML file that fixes everything a ceremony will do, so it can be
//! reviewed and hashed before anyone touches a token (as Let's Encrypt's ceremony tool does
//! with its config). Parsed into `RawPlan` (serde, unknown fields refused), then validated
//! into `Plan`, a type that cannot hold an inconsistent ceremony.

pub use super::existing_key::DeviceKind;
use crate::tuf::finding::Clients;
use crate::tuf::keys::{Algorithm, PublicKey};
use crate::tuf::metadata::{Key, Metadata, Mode, Root};
use crate::tuf::rules::{MAX_EXPIRY_DAYS, path_pattern_ok, role_name_ok};
use crate::tuf::{bins::HashBins, keys};
use crate::util::text::one_line;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Something wrong with a plan: which field, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PlanError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> PlanError {
    PlanError { field: field.into(), message: message.into() }
}

// ---------------------------------------------------------------------------------------
// Raw form (what the TOML says)
// ---------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    pub ceremony: RawCeremony,
    #[serde(default, rename = "keyholder")]
    pub keyholders: Vec<RawKeyholder>,
    pub roles: RawTopRoles,
    #[serde(default, rename = "delegation")]
    pub delegations: Vec<RawDelegation>,
    pub previous_root: Option<RawPreviousRoot>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCeremony {
    pub id: String,
    #[serde(default)]
    pub description: String,
    /// Clients the output must satisfy (default: all three).
    pub clients: Option<Vec<String>>,
    pub consistent_snapshot: Option<bool>,
    /// The sha256 of the program release expected to run the ceremony: a start or resume
    /// with another waits for the operator's confirmation (recorded).
    pub binary_sha256: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeyholder {
    pub name: String,
    /// software | yubikey | pkcs11 | yubihsm2, or "none" (the default with `key`): no back end
    /// here, the keyholder signs apart with a tool that has one.
    pub token: Option<String>,
    pub algorithm: Option<String>,
    /// Expected token serial, when known (written on the tamper-evident bag).
    pub serial: Option<String>,
    /// PKCS#11 module path (token = "pkcs11").
    pub module: Option<PathBuf>,
    /// PKCS#11 token label (token = "pkcs11").
    pub token_label: Option<String>,
    /// YubiKey PIN policy for the generated key: always | once | never (default always).
    pub pin_policy: Option<String>,
    /// YubiKey touch policy: always | cached | never (default always).
    pub touch_policy: Option<String>,
    /// YubiHSM 2 (token = "yubihsm2"): `usb` (the default) or yubihsm-connector's
    /// `http://HOST:PORT`.
    pub connector: Option<String>,
    /// YubiHSM 2: the object id of the keyholder's authentication key (default 2; 1 is the
    /// factory key the provisioning deletes).
    pub auth_key_id: Option<u16>,
    /// A public key from an earlier ceremony (PEM or DER SubjectPublicKeyInfo, a raw SEC1
    /// point, TUF key JSON): never generated, only signed with.
    pub key: Option<PathBuf>,
    /// The device `key` is on: yubihsm2 | nitrokey-hsm | yubikey | pkcs11 | software.
    pub device: Option<String>,
    /// `[key attestation, device certificate]` for `key` (YubiHSM 2, YubiKey).
    pub attestation: Option<Vec<PathBuf>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopRoles {
    pub root: RawOfflineRole,
    pub targets: RawOfflineRole,
    pub snapshot: RawOnlineRole,
    pub timestamp: RawOnlineRole,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOfflineRole {
    pub keyholders: Vec<String>,
    pub threshold: i64,
    pub expires_days: Option<i64>,
    pub expires: Option<String>,
    pub signing_window_days: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOnlineRole {
    /// A public key file: TUF key JSON or SubjectPublicKeyInfo PEM.
    pub key: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDelegation {
    pub name: String,
    #[serde(default = "default_delegator")]
    pub delegator: String,
    /// Offline: signed in the ceremony by these keyholders.
    pub keyholders: Option<Vec<String>>,
    pub threshold: Option<i64>,
    /// Online: only its public key is brought into the ceremony.
    pub online_key: Option<PathBuf>,
    #[serde(default)]
    pub terminating: bool,
    pub paths: Option<Vec<String>>,
    pub expires_days: Option<i64>,
    pub expires: Option<String>,
    pub signing_window_days: Option<i64>,
    /// This (offline) role delegates to N hashed bins signed by `bins_online_key` (PEP 458).
    pub bins: Option<i64>,
    pub bins_online_key: Option<PathBuf>,
}

fn default_delegator() -> String {
    "targets".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPreviousRoot {
    /// The current trusted root (`N.root.json`) this ceremony rotates from.
    pub file: PathBuf,
}

// ---------------------------------------------------------------------------------------
// Validated form
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Software,
    YubiKey,
    Pkcs11,
    YubiHsm2,
    /// No back end here (a key from an earlier ceremony on a device this tool cannot drive):
    /// the keyholder signs apart.
    None,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Software => "software",
            TokenKind::YubiKey => "yubikey",
            TokenKind::Pkcs11 => "pkcs11",
            TokenKind::YubiHsm2 => "yubihsm2",
            TokenKind::None => "none",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Keyholder {
    pub name: String,
    pub token: TokenKind,
    pub algorithm: Algorithm,
    pub serial: Option<String>,
    pub module: Option<PathBuf>,
    pub token_label: Option<String>,
    pub pin_policy: String,
    pub touch_policy: String,
    /// Set for (and only for) `token = "yubihsm2"`.
    pub yubihsm: Option<YubiHsmSpec>,
    /// The key from an earlier ceremony (`key = "FILE"`), when the plan names one.
    pub existing: Option<ExistingKey>,
}

/// A keyholder's key from an earlier ceremony, as the plan names it.
#[derive(Clone, Debug)]
pub struct ExistingKey {
    pub key: Key,
    pub keyid: String,
    pub public: PublicKey,
    /// How the file encodes it: `pem-spki`, `der-spki`, `sec1-point` or `tuf-json`.
    pub encoding: &'static str,
    pub device: Option<DeviceKind>,
    /// The key file, as read (also in [`Plan::files`]).
    pub file: PlanFile,
    /// `[key attestation, device certificate]`, as read (also in [`Plan::files`]).
    pub attestation_files: Vec<PlanFile>,
    /// The verified attestation, when the plan names attestation files.
    pub attestation: Option<crate::attest::Attestation>,
}

impl ExistingKey {
    /// Where the key is, in words: "YubiHSM 2 serial 13200460".
    pub fn whereabouts(&self, serial: Option<&str>) -> String {
        let device = self.device.map(DeviceKind::describe).unwrap_or("a device");
        match serial {
            Some(s) => format!("{device} serial {}", one_line(s)),
            None => device.to_string(),
        }
    }

    /// "attested: …" or "not attested (…)", one line.
    pub fn attested(&self) -> String {
        match &self.attestation {
            Some(a) => format!("attested: {}", one_line(&a.to_string())),
            None => "not attested (the plan names no attestation for this key)".to_string(),
        }
    }
}

/// How a YubiHSM 2 keyholder's device is reached and authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YubiHsmSpec {
    pub connector: HsmConnector,
    /// The authentication key the provisioning creates and signing uses (never 1).
    pub auth_key_id: u16,
}

/// Where a YubiHSM 2 is: on this machine's USB, or behind yubihsm-connector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HsmConnector {
    Usb,
    Http { host: String, port: u16 },
}

impl HsmConnector {
    /// `usb` or `http://HOST:PORT` (yubihsm-connector speaks plain HTTP; it is meant to
    /// listen on the machine itself).
    pub fn parse(s: &str) -> Result<HsmConnector, String> {
        if s == "usb" {
            return Ok(HsmConnector::Usb);
        }
        let rest = s.strip_prefix("http://").ok_or_else(|| format!("{:?} is not `usb` or `http://HOST:PORT`", one_line(s)))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = rest.rsplit_once(':').ok_or_else(|| format!("{:?}: give the port, e.g. http://127.0.0.1:12345", one_line(s)))?;
        let port: u16 = port.parse().ok().filter(|p| *p > 0).ok_or_else(|| format!("{:?}: {port:?} is not a port number", one_line(s)))?;
        if host.is_empty() || host.len() > 253 || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') {
            return Err(format!("{:?}: {:?} is not a host name or IPv4 address", one_line(s), one_line(host)));
        }
        Ok(HsmConnector::Http { host: host.to_string(), port })
    }
}

impl std::fmt::Display for HsmConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HsmConnector::Usb => f.write_str("usb"),
            HsmConnector::Http { host, port } => write!(f, "http://{host}:{port}"),
        }
    }
}

/// The authentication key id when the plan gives none.
pub const DEFAULT_AUTH_KEY_ID: u16 = 2;

/// How a role's expiry is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expiry {
    Days(i64),
    At(DateTime<Utc>),
}

impl Expiry {
    /// The expiry date for a ceremony held at `now`.
    pub fn resolve(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            // Saturating: a plan checked `--at` a far date must not overflow.
            Expiry::Days(d) => Duration::try_days(*d).and_then(|d| now.checked_add_signed(d)).unwrap_or(DateTime::<Utc>::MAX_UTC),
            Expiry::At(t) => *t,
        }
    }
}

/// An offline role: signed in the ceremony by keyholders.
#[derive(Clone, Debug)]
pub struct OfflineRole {
    pub name: String,
    pub keyholders: Vec<String>,
    pub threshold: u64,
    pub expiry: Expiry,
    pub signing_window_days: i64,
}

/// Who signs a delegated role.
#[derive(Clone, Debug)]
pub enum Signers {
    Offline(OfflineRole),
    Online(Key),
}

#[derive(Clone, Debug)]
pub struct Delegation {
    pub name: String,
    pub delegator: String,
    pub signers: Signers,
    pub terminating: bool,
    pub paths: Vec<String>,
    /// PEP 458 hashed bins under this role, signed by the given online key.
    pub bins: Option<(HashBins, Key)>,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub id: String,
    pub description: String,
    pub clients: Clients,
    pub consistent_snapshot: bool,
    /// The program's expected sha256 (`[ceremony] binary_sha256`), lowercase hex.
    pub binary_sha256: Option<String>,
    pub keyholders: Vec<Keyholder>,
    pub root: OfflineRole,
    pub targets: OfflineRole,
    pub snapshot_key: Key,
    pub timestamp_key: Key,
    pub delegations: Vec<Delegation>,
    /// The root this ceremony rotates from, with its bytes' sha256.
    pub previous_root: Option<(Metadata, String)>,
    /// sha256 of the plan file's bytes.
    pub sha256: String,
    /// The plan file's text.
    pub text: String,
    /// Every file the plan points to (online keys, the previous root), as read.
    pub files: Vec<PlanFile>,
    /// The plan digest: what witnesses approve. It covers the plan's text and the content
    /// of every file it points to ([`digest`]), so swapping a key file changes it.
    pub digest: String,
    /// The directory relative paths in the plan are resolved against.
    pub base_dir: PathBuf,
}

/// A file the plan points to, as it was read when the plan was loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanFile {
    /// The plan field naming it (`roles.timestamp.key`, `delegation[2].online_key`).
    pub field: String,
    /// The path as the plan writes it.
    pub written: PathBuf,
    /// Where it was read from.
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// The plan digest's text: the plan file's sha256, then each file it points to by field
/// and content sha256, sorted by field. Paths are not part of it: the same plan and the
/// same files give the same digest wherever they are.
pub fn manifest(plan_sha256: &str, files: &[PlanFile]) -> String {
    let mut lines: Vec<String> = files.iter().map(|f| format!("{} {}\n", f.field, f.sha256)).collect();
    lines.sort();
    format!("tuf-ceremony plan digest v1\nplan {plan_sha256}\n{}", lines.concat())
}

/// sha256 of [`manifest`].
pub fn digest(plan_sha256: &str, files: &[PlanFile]) -> String {
    keys::sha256_hex(manifest(plan_sha256, files).as_bytes())
}

/// PEP 458 / 480 defaults for the re-signing window when the plan does not say.
pub fn default_window(role: &str) -> i64 {
    match role {
        "root" | "targets" | "bins" => 60,
        _ => 30,
    }
}

impl Plan {
    /// Reads and validates a plan file; `now` decides whether absolute expiry dates are past.
    pub fn load(path: &Path, now: DateTime<Utc>) -> Result<Plan, PlanError> {
        Self::parse(&Self::read(path)?, &Self::base_dir_of(path), now)
    }

    /// A plan file's bytes, as [`Plan::load`] reads them.
    pub fn read(path: &Path) -> Result<Vec<u8>, PlanError> {
        crate::util::fsx::read(path, crate::util::fsx::Kind::Plan).map_err(|e| err("(file)", format!("cannot read: {e}")))
    }

    /// The folder relative paths in the plan at `path` are resolved against.
    pub fn base_dir_of(path: &Path) -> PathBuf {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    pub fn parse(bytes: &[u8], base_dir: &Path, now: DateTime<Utc>) -> Result<Plan, PlanError> {
        let text = std::str::from_utf8(bytes).map_err(|_| err("(file)", "not UTF-8 text"))?;
        let raw: RawPlan = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            err(line.map(|l| format!("line {l}")).unwrap_or_else(|| "(toml)".into()), msg)
        })?;
        validate(raw, text, base_dir, now)
    }

    pub fn keyholder(&self, name: &str) -> Option<&Keyholder> {
        self.keyholders.iter().find(|k| k.name == name)
    }

    /// Every offline role (root, targets, offline delegations), in signing order.
    pub fn offline_roles(&self) -> Vec<&OfflineRole> {
        let mut v = vec![&self.root, &self.targets];
        for d in &self.delegations {
            if let Signers::Offline(r) = &d.signers {
                v.push(r);
            }
        }
        v
    }

    /// Whether the plan needs any keyholder's key to sign `role`.
    pub fn signs(&self, keyholder: &str, role: &OfflineRole) -> bool {
        role.keyholders.iter().any(|k| k == keyholder)
    }
}

fn name_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) && !s.starts_with('.')
}

fn parse_expiry(field: &str, days: Option<i64>, at: Option<&str>, now: DateTime<Utc>) -> Result<Expiry, PlanError> {
    match (days, at) {
        (Some(_), Some(_)) => Err(err(field, "give expires_days or expires, not both")),
        (None, None) => Err(err(field, "missing expires_days (or expires)")),
        (Some(d), None) if !(1..=MAX_EXPIRY_DAYS).contains(&d) => {
            Err(err(format!("{field}.expires_days"), format!("{d} is not between 1 and {MAX_EXPIRY_DAYS} days")))
        }
        (Some(d), None) => Ok(Expiry::Days(d)),
        (None, Some(s)) => {
            let e =
                crate::tuf::metadata::Expires::parse_strict(s).ok_or_else(|| err(format!("{field}.expires"), format!("{s:?} is not YYYY-MM-DDTHH:MM:SSZ")))?;
            if e.at() <= now {
                return Err(err(format!("{field}.expires"), format!("{s} is in the past (now is {})", now.format("%Y-%m-%dT%H:%M:%SZ"))));
            }
            if now.checked_add_signed(Duration::days(MAX_EXPIRY_DAYS)).is_none_or(|limit| e.at() > limit) {
                return Err(err(format!("{field}.expires"), format!("{s} is more than {MAX_EXPIRY_DAYS} days ahead, the longest validity the tool writes")));
            }
            Ok(Expiry::At(e.at()))
        }
    }
}

fn offline_role(
    name: &str,
    field: &str,
    keyholders: &[String],
    threshold: i64,
    expiry: Expiry,
    window: Option<i64>,
    known: &BTreeSet<String>,
) -> Result<OfflineRole, PlanError> {
    if keyholders.is_empty() {
        return Err(err(format!("{field}.keyholders"), "no keyholders"));
    }
    let mut seen = BTreeSet::new();
    for k in keyholders {
        if !known.contains(k) {
            return Err(err(format!("{field}.keyholders"), format!("unknown keyholder {k:?} (define it in a [[keyholder]] table)")));
        }
        if !seen.insert(k) {
            return Err(err(format!("{field}.keyholders"), format!("keyholder {k:?} listed twice")));
        }
    }
    if threshold < 1 || threshold as usize > keyholders.len() {
        return Err(err(format!("{field}.threshold"), format!("threshold {threshold} must be between 1 and the number of keyholders ({})", keyholders.len())));
    }
    let window = window.unwrap_or_else(|| default_window(name));
    // A window no longer than the validity itself (else the role is always due).
    let longest = match &expiry {
        Expiry::Days(d) => *d,
        Expiry::At(_) => MAX_EXPIRY_DAYS,
    };
    if !(0..=longest).contains(&window) {
        return Err(err(format!("{field}.signing_window_days"), format!("{window} is not between 0 and {longest} days (the role's validity)")));
    }
    Ok(OfflineRole { name: name.into(), keyholders: keyholders.to_vec(), threshold: threshold as u64, expiry, signing_window_days: window })
}

/// Reads an online public key: TUF key JSON (`{"keytype":…}`) or SubjectPublicKeyInfo PEM.
pub fn read_public_key(path: &Path) -> Result<Key, String> {
    let bytes = crate::util::fsx::read(path, crate::util::fsx::Kind::Key).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_public_key(path, &bytes)
}

/// [`read_public_key`] on bytes already read from `path`.
pub fn parse_public_key(path: &Path, bytes: &[u8]) -> Result<Key, String> {
    let text = String::from_utf8_lossy(bytes);
    // A TUF key object is JSON even when its value is a PEM; only a bare PEM is read as one.
    if !text.trim_start().starts_with('{') && text.contains("-----BEGIN PUBLIC KEY-----") {
        use p256::pkcs8::DecodePublicKey;
        let pem = text.trim();
        let pk = if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            PublicKey::Ed25519(k)
        } else if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            PublicKey::P256(k)
        } else if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            PublicKey::P384(k)
        } else {
            return Err(format!("{}: not an ed25519, P-256 or P-384 public key", path.display()));
        };
        return Ok(pk.to_key());
    }
    let mut r = crate::tuf::json::Reader::new(bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let key = crate::tuf::metadata::read_key(&mut r).map_err(|e| format!("{}: {e}", path.display()))?;
    r.finish().map_err(|e| format!("{}: {e}", path.display()))?;
    PublicKey::from_key(&key, false).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(key)
}

/// Reads a file the plan points to at `field` (`p` relative to the plan's folder).
fn read_plan_file(base: &Path, field: &str, p: &Path, kind: crate::util::fsx::Kind) -> Result<PlanFile, PlanError> {
    let path = base.join(p);
    let bytes = crate::util::fsx::read(&path, kind).map_err(|e| err(field, format!("cannot read {}: {e}", path.display())))?;
    Ok(PlanFile { field: field.to_string(), written: p.to_path_buf(), sha256: keys::sha256_hex(&bytes), path, bytes })
}

/// Keyholder `f`'s key from an earlier ceremony: its file read and decoded, its device and
/// attestation checked ([`super::existing_key`]); the files go to `files` (the plan digest).
fn existing_key(
    k: &RawKeyholder,
    f: &str,
    p: &Path,
    token: TokenKind,
    base: &Path,
    now: DateTime<Utc>,
    files: &mut Vec<PlanFile>,
) -> Result<ExistingKey, PlanError> {
    let file = read_plan_file(base, &format!("{f}.key"), p, crate::util::fsx::Kind::Key)?;
    let (key, public, encoding) =
        super::existing_key::read_key(&file.bytes).map_err(|e| err(format!("{f}.key"), format!("{}: {e}", one_line(&p.display().to_string()))))?;
    let device = match &k.device {
        None => None,
        Some(d) => {
            Some(DeviceKind::parse(d).ok_or_else(|| err(format!("{f}.device"), format!("{:?} is not one of {}", one_line(d), DeviceKind::NAMES.join(", "))))?)
        }
    };
    let fits = match (token, device) {
        (_, None) | (TokenKind::None, _) => true,
        (TokenKind::Software, Some(d)) => d == DeviceKind::Software,
        (TokenKind::YubiKey, Some(d)) => d == DeviceKind::YubiKey,
        (TokenKind::Pkcs11, Some(d)) => !matches!(d, DeviceKind::Software | DeviceKind::YubiKey),
        (TokenKind::YubiHsm2, Some(d)) => d == DeviceKind::YubiHsm2,
    };
    if !fits {
        return Err(err(
            format!("{f}.device"),
            format!("a {} is not driven by the {} back end", device.map(DeviceKind::describe).unwrap_or(""), token.as_str()),
        ));
    }
    let attestation_files = match k.attestation.as_deref() {
        None => Vec::new(),
        Some([key_cert, device_cert]) => vec![
            read_plan_file(base, &format!("{f}.attestation[0]"), key_cert, crate::util::fsx::Kind::Certificate)?,
            read_plan_file(base, &format!("{f}.attestation[1]"), device_cert, crate::util::fsx::Kind::Certificate)?,
        ],
        Some(other) => {
            return Err(err(format!("{f}.attestation"), format!("{} files: give two, the key's attestation then the device certificate", other.len())));
        }
    };
    let attestation = match attestation_files.as_slice() {
        [key_cert, device_cert] => Some(
            super::existing_key::check_attestation(&public, device, k.serial.as_deref(), &key_cert.bytes, &device_cert.bytes, now)
                .map_err(|e| err(format!("{f}.attestation"), one_line(&e).into_owned()))?,
        ),
        _ => None,
    };
    files.push(file.clone());
    files.extend(attestation_files.iter().cloned());
    Ok(ExistingKey { keyid: keys::keyid(&key), key, public, encoding, device, file, attestation_files, attestation })
}

fn validate(raw: RawPlan, text: &str, base: &Path, now: DateTime<Utc>) -> Result<Plan, PlanError> {
    let sha256 = keys::sha256_hex(text.as_bytes());
    let c = &raw.ceremony;
    if !name_ok(&c.id) {
        return Err(err("ceremony.id", format!("{:?} must be 1-64 characters of A-Z a-z 0-9 . _ - (it names the media folder)", c.id)));
    }
    if c.description.chars().count() > 200
        || c.description.chars().any(|ch| ch.is_control() || crate::util::text::hidden(ch) || matches!(ch, '\u{2028}' | '\u{2029}'))
    {
        return Err(err(
            "ceremony.description",
            "must be one line of at most 200 characters, without control or bidirectional characters (it is printed in every summary)",
        ));
    }
    let clients = match &c.clients {
        None => Clients::ALL,
        Some(list) => {
            let cl = Clients::parse(&list.join(",")).map_err(|e| err("ceremony.clients", e))?;
            if cl.is_empty() {
                return Err(err("ceremony.clients", "name at least one client"));
            }
            cl
        }
    };

    // Keyholders.
    let mut keyholders: Vec<Keyholder> = Vec::new();
    let mut names = BTreeSet::new();
    // serial → whether its keyholder's key is from an earlier ceremony (one device may hold several such keys).
    let mut serials: std::collections::BTreeMap<String, bool> = Default::default();
    let mut files: Vec<PlanFile> = Vec::new();
    if raw.keyholders.is_empty() {
        return Err(err("keyholder", "no [[keyholder]] defined"));
    }
    for (i, k) in raw.keyholders.iter().enumerate() {
        let f = format!("keyholder[{i}]");
        if !name_ok(&k.name) {
            return Err(err(format!("{f}.name"), format!("{:?} must be 1-64 characters of A-Z a-z 0-9 . _ -", k.name)));
        }
        if !names.insert(k.name.clone()) {
            return Err(err(format!("{f}.name"), format!("duplicate keyholder {:?}", k.name)));
        }
        let token = match (k.token.as_deref(), &k.key) {
            (Some("software"), _) => TokenKind::Software,
            (Some("yubikey"), _) => TokenKind::YubiKey,
            (Some("pkcs11"), _) => TokenKind::Pkcs11,
            (Some("yubihsm2"), _) => TokenKind::YubiHsm2,
            (Some("none") | None, Some(_)) => TokenKind::None,
            (Some("none"), None) => {
                return Err(err(format!("{f}.token"), "\"none\" is for a key from an earlier ceremony (give key): a new key needs a token to be made on"));
            }
            (None, None) => {
                return Err(err(format!("{f}.token"), "missing: software, yubikey, pkcs11 or yubihsm2 (or key = a public key from an earlier ceremony)"));
            }
            (Some(other), _) => {
                return Err(err(
                    format!("{f}.token"),
                    format!("{:?} is not software, yubikey, pkcs11 or yubihsm2 (or \"none\" for a key from an earlier ceremony)", one_line(other)),
                ));
            }
        };
        let existing = match &k.key {
            None => {
                if k.device.is_some() || k.attestation.is_some() {
                    return Err(err(format!("{f}.device"), "device and attestation describe a key from an earlier ceremony: give its public key file as key"));
                }
                None
            }
            Some(p) => Some(existing_key(k, &f, p, token, base, now, &mut files)?),
        };
        let algorithm = match (&k.algorithm, &existing) {
            (None, None) => Algorithm::EcdsaP256,
            (None, Some(e)) => e.public.algorithm(),
            (Some(a), e) => {
                let a =
                    Algorithm::parse(a).ok_or_else(|| err(format!("{f}.algorithm"), format!("{:?} is not ed25519, ecdsa-p256 or ecdsa-p384", one_line(a))))?;
                if let Some(e) = e.as_ref().filter(|e| e.public.algorithm() != a) {
                    return Err(err(
                        format!("{f}.algorithm"),
                        format!("{} holds an {} key, not {}", e.file.written.display(), e.public.algorithm().name(), a.name()),
                    ));
                }
                a
            }
        };
        if let Some(e) = &existing
            && let Some(other) = keyholders.iter().find(|o| o.existing.as_ref().is_some_and(|x| x.keyid == e.keyid))
        {
            return Err(err(format!("{f}.key"), format!("the same key as keyholder {:?} (keyid {}): one key, one keyholder", other.name, e.keyid)));
        }
        if token == TokenKind::YubiKey && algorithm == Algorithm::Ed25519 {
            return Err(err(
                format!("{f}.algorithm"),
                "Ed25519 is not offered on YubiKey PIV: it needs firmware 5.7+ and the yubikey crate cannot sign messages over 1014 bytes, smaller than a root (use ecdsa-p256)",
            ));
        }
        if algorithm == Algorithm::EcdsaP384 && clients.tough {
            return Err(err(format!("{f}.algorithm"), "tough cannot read ECDSA P-384 keys; use ecdsa-p256, or drop tough from ceremony.clients"));
        }
        if let Some(s) = &k.serial {
            if s.is_empty() || s.len() > 32 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(err(format!("{f}.serial"), format!("{s:?} is not a token serial")));
            }
            if let Some(other_existing) = serials.insert(s.clone(), existing.is_some())
                && !(other_existing && existing.is_some())
            {
                return Err(err(format!("{f}.serial"), format!("serial {s} is already another keyholder's token")));
            }
        }
        if token == TokenKind::Pkcs11 && k.module.is_none() {
            return Err(err(format!("{f}.module"), "a pkcs11 keyholder needs the module path"));
        }
        if token != TokenKind::Pkcs11 && (k.module.is_some() || k.token_label.is_some()) {
            return Err(err(format!("{f}.module"), "module and token_label only apply to pkcs11 tokens"));
        }
        // OpenSC's module is how the plan reaches a Nitrokey HSM (SmartCard-HSM), which
        // generates and signs ECDSA only (P-256, P-384): no Ed25519.
        if token == TokenKind::Pkcs11
            && algorithm == Algorithm::Ed25519
            && k.module.as_ref().and_then(|m| m.file_name()).is_some_and(|n| n.to_string_lossy().contains("opensc-pkcs11"))
        {
            return Err(err(
                format!("{f}.algorithm"),
                "Ed25519 is not offered through OpenSC's module: the Nitrokey HSM it drives signs ECDSA only (use ecdsa-p256 or ecdsa-p384)",
            ));
        }
        let yubihsm = yubihsm_spec(&f, token, k)?;
        let policy = |v: &Option<String>, field: &str, allowed: &[&str], default: &str| -> Result<String, PlanError> {
            let v = v.clone().unwrap_or_else(|| default.into());
            if token != TokenKind::YubiKey && v != default {
                return Err(err(format!("{f}.{field}"), "PIN and touch policies only apply to yubikey tokens"));
            }
            if !allowed.contains(&v.as_str()) {
                return Err(err(format!("{f}.{field}"), format!("{v:?} is not one of {}", allowed.join(", "))));
            }
            Ok(v)
        };
        let pin_policy = policy(&k.pin_policy, "pin_policy", &["always", "once", "never"], "always")?;
        let touch_policy = policy(&k.touch_policy, "touch_policy", &["always", "cached", "never"], "always")?;
        keyholders.push(Keyholder {
            name: k.name.clone(),
            token,
            algorithm,
            serial: k.serial.clone(),
            module: k.module.clone(),
            token_label: k.token_label.clone(),
            pin_policy,
            touch_policy,
            yubihsm,
            existing,
        });
    }

    let r = &raw.roles;
    let root = offline_role(
        "root",
        "roles.root",
        &r.root.keyholders,
        r.root.threshold,
        parse_expiry("roles.root", r.root.expires_days, r.root.expires.as_deref(), now)?,
        r.root.signing_window_days,
        &names,
    )?;
    let targets = offline_role(
        "targets",
        "roles.targets",
        &r.targets.keyholders,
        r.targets.threshold,
        parse_expiry("roles.targets", r.targets.expires_days, r.targets.expires.as_deref(), now)?,
        r.targets.signing_window_days,
        &names,
    )?;
    let mut online = |field: &str, p: &Path| -> Result<Key, PlanError> {
        let file = read_plan_file(base, field, p, crate::util::fsx::Kind::Key)?;
        let key = parse_public_key(&file.path, &file.bytes).map_err(|e| err(field, e))?;
        files.push(file);
        Ok(key)
    };
    let snapshot_key = online("roles.snapshot.key", &r.snapshot.key)?;
    let timestamp_key = online("roles.timestamp.key", &r.timestamp.key)?;
    for (field, k) in [("roles.snapshot.key", &snapshot_key), ("roles.timestamp.key", &timestamp_key)] {
        if Algorithm::from_key(k) == Some(Algorithm::EcdsaP384) && clients.tough {
            return Err(err(field, "tough cannot read ECDSA P-384 keys"));
        }
    }

    // Delegations, in search order; a delegator must be targets or an earlier offline role.
    let mut delegations: Vec<Delegation> = Vec::new();
    let mut role_names: BTreeSet<String> = BTreeSet::new();
    let mut offline_names: BTreeSet<String> = ["targets".to_string()].into();
    for (i, d) in raw.delegations.iter().enumerate() {
        let f = format!("delegation[{i}]");
        if !role_name_ok(&d.name) {
            return Err(err(format!("{f}.name"), format!("{:?} must match [A-Za-z0-9._~-]+ and not be a top-level role", d.name)));
        }
        if !role_names.insert(d.name.clone()) {
            return Err(err(format!("{f}.name"), format!("role {:?} delegated twice", d.name)));
        }
        if !offline_names.contains(&d.delegator) {
            return Err(err(format!("{f}.delegator"), format!("{:?} is not targets or an offline role defined above", d.delegator)));
        }
        let paths = d.paths.clone().unwrap_or_default();
        if paths.is_empty() {
            return Err(err(format!("{f}.paths"), "a delegation needs at least one path pattern"));
        }
        for p in &paths {
            path_pattern_ok(p).map_err(|why| err(format!("{f}.paths"), format!("{p:?}: {why}")))?;
        }
        let signers = match (&d.keyholders, &d.online_key) {
            (Some(_), Some(_)) => return Err(err(f.clone(), "give keyholders (offline role) or online_key (online role), not both")),
            (None, None) => return Err(err(f.clone(), "missing keyholders (offline role) or online_key (online role)")),
            (Some(kh), None) => {
                let exp = parse_expiry(&f, d.expires_days, d.expires.as_deref(), now)?;
                offline_names.insert(d.name.clone());
                Signers::Offline(offline_role(&d.name, &f, kh, d.threshold.unwrap_or(1), exp, d.signing_window_days, &names)?)
            }
            (None, Some(p)) => {
                if d.expires_days.is_some() || d.expires.is_some() || d.threshold.is_some() {
                    return Err(err(f.clone(), "an online role's expiry and threshold are set by the online system, not the plan"));
                }
                Signers::Online(online(&format!("{f}.online_key"), p)?)
            }
        };
        let bins = match (d.bins, &d.bins_online_key) {
            (None, None) => None,
            (Some(n), Some(p)) => {
                if !matches!(signers, Signers::Offline(_)) {
                    return Err(err(format!("{f}.bins"), "only an offline role written in the ceremony can delegate to hashed bins"));
                }
                let hb = u32::try_from(n)
                    .map_err(|_| ())
                    .and_then(|n| HashBins::new(n).map_err(|_| ()))
                    .map_err(|_| err(format!("{f}.bins"), format!("{n} is not a power of two from 1 to 16384")))?;
                Some((hb, online(&format!("{f}.bins_online_key"), p)?))
            }
            _ => return Err(err(format!("{f}.bins"), "bins and bins_online_key go together")),
        };
        delegations.push(Delegation { name: d.name.clone(), delegator: d.delegator.clone(), signers, terminating: d.terminating, paths, bins });
    }

    let binary_sha256 = match &c.binary_sha256 {
        None => None,
        Some(h) if h.len() == 64 && keys::is_hex(h, false) => Some(h.to_ascii_lowercase()),
        Some(h) => return Err(err("ceremony.binary_sha256", format!("{:?} is not a sha256 (64 hex digits)", crate::util::text::one_line(h)))),
    };
    let previous_root = match &raw.previous_root {
        None => None,
        Some(p) => {
            let path = base.join(&p.file);
            let bytes = crate::util::fsx::read_large(&path).map_err(|e| err("previous_root.file", format!("cannot read {}: {e}", path.display())))?;
            let md = Metadata::from_bytes(&bytes, Mode::Strict).map_err(|e| err("previous_root.file", format!("{}: {e}", path.display())))?;
            let Some(prev) = md.signed.as_root() else {
                return Err(err("previous_root.file", format!("{} is not a root", path.display())));
            };
            check_previous_root_signed(prev, &md).map_err(|e| err("previous_root.file", format!("{}: {e}", path.display())))?;
            let sha256 = keys::sha256_hex(&bytes);
            files.push(PlanFile { field: "previous_root.file".into(), written: p.file.clone(), path, sha256: sha256.clone(), bytes });
            Some((md, sha256))
        }
    };

    Ok(Plan {
        id: c.id.clone(),
        description: c.description.clone(),
        clients,
        consistent_snapshot: c.consistent_snapshot.unwrap_or(true),
        binary_sha256,
        keyholders,
        root,
        targets,
        snapshot_key,
        timestamp_key,
        delegations,
        previous_root,
        digest: digest(&sha256, &files),
        sha256,
        text: text.to_string(),
        files,
        base_dir: base.to_path_buf(),
    })
}

/// The YubiHSM 2 fields of a keyholder: only for `token = "yubihsm2"`, whose serial (when
/// given) is the device's decimal serial.
fn yubihsm_spec(f: &str, token: TokenKind, k: &RawKeyholder) -> Result<Option<YubiHsmSpec>, PlanError> {
    if token != TokenKind::YubiHsm2 {
        if k.connector.is_some() || k.auth_key_id.is_some() {
            return Err(err(format!("{f}.connector"), "connector and auth_key_id only apply to yubihsm2 tokens"));
        }
        return Ok(None);
    }
    if let Some(s) = &k.serial
        && (s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) || s.parse::<u32>().is_err())
    {
        return Err(err(format!("{f}.serial"), format!("{s:?} is not a YubiHSM 2 serial (decimal digits, as on the device's label)")));
    }
    let connector = match &k.connector {
        None => HsmConnector::Usb,
        Some(c) => HsmConnector::parse(c).map_err(|e| err(format!("{f}.connector"), e))?,
    };
    let auth_key_id = k.auth_key_id.unwrap_or(DEFAULT_AUTH_KEY_ID);
    if !(2..=0xfffe).contains(&auth_key_id) {
        return Err(err(
            format!("{f}.auth_key_id"),
            format!("{auth_key_id} is not an object id from 2 to 65534 (1 is the factory authentication key, which provisioning deletes)"),
        ));
    }
    Ok(Some(YubiHsmSpec { connector, auth_key_id }))
}

/// The one default folder of software tokens for every command: `tokens/` beside the plan
/// (where a rehearsal keeps them).
pub fn default_tokens_dir(plan_path: &Path) -> PathBuf {
    plan_path.with_file_name("tokens")
}

/// The previous root must at least verify against itself; otherwise nobody trusts it.
fn check_previous_root_signed(root: &Root, md: &Metadata) -> Result<(), String> {
    let c = crate::tuf::verify::check_top_level(root, "root", md, &md.signed_bytes(), false).ok_or("root role missing")?;
    if !c.met() {
        return Err(format!("it is not signed by a threshold of its own root keys ({}/{})", c.valid(), c.threshold));
    }
    Ok(())
}

/// A human description of the plan: what will happen, in plain words.
pub fn describe(plan: &Plan, now: DateTime<Utc>) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let _ = writeln!(s, "Ceremony {} — {}", plan.id, if plan.description.is_empty() { "(no description)".into() } else { one_line(&plan.description) });
    let _ = writeln!(s, "Plan digest: {}", plan.digest);
    let _ = writeln!(s, "{}", crate::util::pgpwords::grouped_of_hex(&plan.digest, "  "));
    let _ = writeln!(s, "  covers the plan file (sha256 {}) and {} file(s) it points to:", plan.sha256, plan.files.len());
    for f in &plan.files {
        let _ = writeln!(s, "    {} = {}\n      {}", f.field, one_line(&f.written.display().to_string()), f.sha256);
    }
    match &plan.binary_sha256 {
        Some(h) => {
            let _ = writeln!(s, "Expected program sha256: {h}\n  (another program waits for a confirmation, recorded)");
        }
        None => {
            let _ = writeln!(s, "Expected program: not pinned (every program that runs it is recorded by its sha256)");
        }
    }
    let _ = writeln!(s, "Output must be accepted by: {}", plan.clients);
    match &plan.previous_root {
        None => {
            let _ = writeln!(s, "Creates a new root, version 1.");
        }
        Some((md, h)) => {
            let _ = writeln!(
                s,
                "Rotates root version {} (sha256 {h}) to version {}; the new root needs a threshold of the old root's keys and of its own.",
                md.version(),
                md.version() + 1
            );
        }
    }
    let _ = writeln!(s, "\nKeyholders ({}):", plan.keyholders.len());
    for k in &plan.keyholders {
        let token = match k.token {
            TokenKind::None => "no token back end here (signs apart)".to_string(),
            t => format!("{} token", t.as_str()),
        };
        let _ = writeln!(
            s,
            "  {:<16} {token}, {}{}{}",
            k.name,
            k.algorithm.name(),
            k.serial.as_ref().map(|x| format!(", serial {x}")).unwrap_or_default(),
            if k.existing.is_some() { ", key from an earlier ceremony" } else { "" }
        );
    }
    let earlier: Vec<&Keyholder> = plan.keyholders.iter().filter(|k| k.existing.is_some()).collect();
    if !earlier.is_empty() {
        let attested = earlier.iter().filter(|k| k.existing.as_ref().is_some_and(|e| e.attestation.is_some())).count();
        let _ = writeln!(
            s,
            "\nKeys from an earlier ceremony ({}, {attested} attested): never generated here; only the device holding each can sign with it:",
            earlier.len()
        );
        for k in earlier {
            let e = k.existing.as_ref().expect("filtered");
            let _ = writeln!(s, "  {}", k.name);
            let _ = writeln!(s, "    keyid    {}", e.keyid);
            let _ = writeln!(s, "    file     {} ({}, {})", one_line(&e.file.written.display().to_string()), e.encoding, e.public.algorithm().name());
            let _ = writeln!(s, "    on       {}", e.whereabouts(k.serial.as_deref()));
            let _ = writeln!(s, "    {}", e.attested());
            for w in e.attestation.iter().flat_map(|a| a.warnings.iter()) {
                let _ = writeln!(s, "    warning: {}", one_line(&w.to_string()));
            }
        }
    }
    let _ = writeln!(s, "\nOffline roles signed in this ceremony:");
    for r in plan.offline_roles() {
        let _ = writeln!(
            s,
            "  {:<16} {} of {} ({}), expires {} (re-sign within {} days of that)",
            r.name,
            r.threshold,
            r.keyholders.len(),
            r.keyholders.join(", "),
            fmt(r.expiry.resolve(now)),
            r.signing_window_days
        );
    }
    let _ = writeln!(s, "\nOnline keys brought in:");
    let _ = writeln!(s, "  {:<16} keyid {}", "snapshot", keys::keyid(&plan.snapshot_key));
    let _ = writeln!(s, "  {:<16} keyid {}", "timestamp", keys::keyid(&plan.timestamp_key));
    if !plan.delegations.is_empty() {
        let _ = writeln!(s, "\nDelegations (in search order):");
        for d in &plan.delegations {
            let who = match &d.signers {
                Signers::Offline(r) => format!("offline, {} of {}", r.threshold, r.keyholders.len()),
                Signers::Online(k) => format!("online key {}", &keys::keyid(k)[..16]),
            };
            let _ = writeln!(
                s,
                "  {} → {:<16} {who}, {}terminating, paths {}",
                d.delegator,
                d.name,
                if d.terminating { "" } else { "non-" },
                one_line(&d.paths.join(" "))
            );
            if let Some((b, k)) = &d.bins {
                let _ =
                    writeln!(s, "  {} → {} hashed bins ({} … {}), online key {}", d.name, b.count(), b.name(0), b.name(b.count() - 1), &keys::keyid(k)[..16]);
            }
        }
    }
    let _ = writeln!(s, "\nKeyholders sign: ");
    for k in &plan.keyholders {
        let roles: Vec<&str> = plan.offline_roles().into_iter().filter(|r| plan.signs(&k.name, r)).map(|r| r.name.as_str()).collect();
        let _ = writeln!(s, "  {:<16} {}", k.name, if roles.is_empty() { "(nothing)".to_string() } else { roles.join(", ") });
    }
    s
}
