//! Signing apart: keyholders in different places each sign one request, and a coordinator
//! merges their signatures.
//!
//! 1. `sign-request` (coordinator): checks a draft against its delegator and writes a
//!    request folder to removable media — the draft as is (`metadata.json`), the delegator
//!    (`delegator.json`), optionally the previous version (`previous.json`), `request.json`
//!    (machine form), `SUMMARY.txt` (plain words) and `SHA256SUMS`. It prints the canonical
//!    sha256 (hex and PGP words), which the coordinator gives each keyholder over another
//!    channel (phone, video call, a message to another device).
//! 2. `sign` (each keyholder, air-gapped, with their token): re-derives everything from the
//!    files (never trusting `SUMMARY.txt` or `request.json`'s claims), shows the summary
//!    *without* the hash, makes the keyholder type the hash they were given (hex or PGP
//!    words), opens the token through the ceremony's token back ends, signs the canonical
//!    bytes, verifies the signature against the expected key and writes a small signature
//!    file. Nothing else is written; PINs and passphrases only pass through `Ui::secret`.
//! 3. `import-signatures` (coordinator): checks every signature file against the request
//!    and the delegator's keys, refuses the whole import on any bad one (nothing written),
//!    merges the rest and writes the metadata in python-tuf's layout once the threshold is
//!    met (or a clearly named `.partial` file with `--partial`).

use super::diff;
use super::hashconfirm;
use crate::ceremony::plan::{Plan, read_public_key};
use crate::ceremony::tokens::{Peek, TokenBackend, TokenKey};
use crate::ceremony::ui::Ui;
use crate::error::{Error, Result};
use crate::media::{self, Item};
use crate::tuf::bins::in_succinct;
use crate::tuf::finding::{Clients, Severity};
use crate::tuf::keys::{Algorithm, PublicKey, SigCheck, hex, keyid, sha256_hex, unhex};
use crate::tuf::metadata::{DelegatedRoles, Key, Metadata, Mode, Signature, TOP_LEVEL_ROLES};
use crate::tuf::rules;
use crate::tuf::verify::{ThresholdCheck, check_delegated, check_threshold, check_top_level};
use crate::util::fsx::{self, Kind};
use crate::util::pgpwords;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub const REQUEST_FORMAT: &str = "tuf-ceremony-sign-request";
pub const SIGNATURE_FORMAT: &str = "tuf-ceremony-signature";
pub const FORMAT_VERSION: u64 = 1;

/// File names inside a request folder.
pub const METADATA_FILE: &str = "metadata.json";
pub const DELEGATOR_FILE: &str = "delegator.json";
pub const PREVIOUS_FILE: &str = "previous.json";
pub const REQUEST_FILE: &str = "request.json";
pub const SUMMARY_FILE: &str = "SUMMARY.txt";

/// How many times a keyholder may mistype the hash before `sign` gives up.
pub const HASH_TRIES: u32 = 3;

/// The key field in which tuf-on-ci names a signer (e.g. "@jku").
const TUF_ON_CI_OWNER: &str = "x-tuf-on-ci-keyowner";

/// One value from a file, on one line.
fn ol(s: &str) -> String {
    crate::util::text::one_line(s).into_owned()
}

fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn short(id: &str) -> &str {
    crate::util::text::prefix(id, 16)
}

/// JSON text with every non-ASCII character as a `\\uXXXX` escape: the same JSON value,
/// and nothing a terminal could act on (control characters are escaped by the encoder).
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0u16; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// Hex digest → PGP words, in short groups on lines indented by two spaces.
pub fn words(hex: &str) -> String {
    pgpwords::grouped_of_hex(hex, "  ")
}

// ---------------------------------------------------------------------------------------
// Who may sign
// ---------------------------------------------------------------------------------------

/// One set of keys with a threshold (a root rotation needs two: the old root's and the new).
#[derive(Clone, Debug)]
pub struct KeyGroup {
    /// e.g. "root v1", "targets v3's delegation".
    pub by: String,
    pub keyids: Vec<String>,
    pub threshold: u64,
    pub keys: BTreeMap<String, Key>,
}

/// The keys that may sign a role, from its delegator.
#[derive(Clone, Debug)]
pub struct Authority {
    pub groups: Vec<KeyGroup>,
}

impl Authority {
    /// `role`'s signers: for `root` version N, the root keys of `delegator` (root N-1) and
    /// of the new root itself; for targets/snapshot/timestamp, `delegator` (a root); for a
    /// delegated role, the delegation in `delegator` (a targets role). Errors are reasons.
    pub fn new(role: &str, md: &Metadata, delegator: &Metadata, delegator_name: &str) -> std::result::Result<Self, String> {
        let ty = md.signed.type_name();
        let dv = delegator.version();
        if TOP_LEVEL_ROLES.contains(&role) {
            if ty != role {
                return Err(format!("the metadata is a {ty} role, not {role}"));
            }
            let Some(droot) = delegator.signed.as_root() else {
                return Err(format!("{role} is delegated by root, but the delegator file holds {} metadata", delegator.signed.type_name()));
            };
            let group = |r: &crate::tuf::metadata::Root, by: String| -> std::result::Result<KeyGroup, String> {
                let rk = r.roles.get(role).ok_or_else(|| format!("{by} has no {role} role"))?;
                let keys = rk.keyids.iter().filter_map(|id| r.keys.get(id).map(|k| (id.clone(), k.clone()))).collect();
                Ok(KeyGroup { by, keyids: rk.keyids.clone(), threshold: rk.threshold, keys })
            };
            if role == "root" {
                let v = md.version();
                let new_root = md.signed.as_root().expect("type checked");
                // The first root has no root before it: it is signed by its own root keys,
                // and is its own delegator (the same content, given as --delegator too).
                if v == 1 && dv == 1 && delegator.signed == md.signed {
                    return Ok(Authority { groups: vec![group(new_root, "root v1 (the first root, its own keys)".into())?] });
                }
                if dv + 1 != v {
                    return Err(format!(
                        "a new root version {v} is signed by the keys of the root before it: --delegator must be root version {}, not {dv} (for the first root, the draft itself)",
                        v.saturating_sub(1)
                    ));
                }
                return Ok(Authority { groups: vec![group(droot, format!("root v{dv}"))?, group(new_root, format!("root v{v} (the new root itself)"))?] });
            }
            return Ok(Authority { groups: vec![group(droot, format!("root v{dv}"))?] });
        }
        if !rules::role_name_ok(role) {
            return Err(format!("{role:?} is not a valid role name"));
        }
        if ty != "targets" {
            return Err(format!("a delegated role is a targets role, but the metadata is {ty}"));
        }
        let Some(t) = delegator.signed.as_targets() else {
            return Err(format!("a delegated role is delegated by a targets role, but the delegator file holds {} metadata", delegator.signed.type_name()));
        };
        let none = || format!("{delegator_name} v{dv} does not delegate to {role}");
        let d = t.delegations.as_ref().ok_or_else(none)?;
        let (keyids, threshold) = match &d.roles {
            DelegatedRoles::Roles(v) => v.iter().find(|r| r.name == role).map(|r| (r.keyids.clone(), r.threshold)).ok_or_else(none)?,
            DelegatedRoles::Succinct(s) if in_succinct(s, role) => (s.keyids.clone(), s.threshold),
            DelegatedRoles::Succinct(_) => return Err(none()),
        };
        let keys = keyids.iter().filter_map(|id| d.keys.get(id).map(|k| (id.clone(), k.clone()))).collect();
        Ok(Authority { groups: vec![KeyGroup { by: format!("{delegator_name} v{dv}"), keyids, threshold, keys }] })
    }

    /// Every keyid that may sign, in order, once.
    pub fn keyids(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        self.groups.iter().flat_map(|g| g.keyids.iter()).filter(|k| seen.insert(k.to_string())).cloned().collect()
    }

    pub fn key(&self, id: &str) -> Option<&Key> {
        self.groups.iter().find_map(|g| g.keys.get(id))
    }

    /// Threshold checks of `sigs` over `payload`, one per group.
    pub fn checks(&self, payload: &[u8], sigs: &[Signature]) -> Vec<(String, ThresholdCheck)> {
        self.groups.iter().map(|g| (g.by.clone(), check_threshold(&g.keyids, g.threshold, &g.keys, payload, sigs, false))).collect()
    }

    pub fn met(&self, payload: &[u8], sigs: &[Signature]) -> bool {
        self.checks(payload, sigs).iter().all(|(_, c)| c.met())
    }

    /// Whether `sig` by `id` verifies over `payload` with the role's key for `id`.
    pub fn verify(&self, id: &str, payload: &[u8], sig: &str) -> std::result::Result<(), String> {
        let key = self.key(id).ok_or_else(|| format!("key {id} is not one of the keys that may sign this role"))?;
        let pk = PublicKey::from_key(key, false).map_err(|e| format!("key {id} cannot be used: {e}"))?;
        let bytes = unhex(sig, true).ok_or("the signature is not lowercase hex")?;
        match pk.verify(payload, &bytes) {
            SigCheck::Valid => Ok(()),
            SigCheck::ValidOddSalt => Err("RSA-PSS signature with a salt length tough refuses".into()),
            SigCheck::Malformed => Err(format!("the signature is not in {}'s encoding", Algorithm::from_key(key).map(|a| a.name()).unwrap_or("the key type"))),
            SigCheck::Invalid => Err(format!("the signature does not verify with key {}… over this metadata's canonical bytes", short(id))),
        }
    }

    /// `k/t` per group, e.g. "2/2 by root v1".
    pub fn describe(checks: &[(String, ThresholdCheck)]) -> String {
        checks.iter().map(|(by, c)| format!("{}/{} by {by}", c.valid(), c.threshold)).collect::<Vec<_>>().join(", ")
    }
}

/// The role name a delegator file's name gives (`1.root.json` → root), else its type.
fn delegator_name(file_name: &str, md: &Metadata) -> String {
    match crate::audit::layout::parse_name(file_name) {
        Some((role, _)) if TOP_LEVEL_ROLES.contains(&role.as_str()) || md.signed.type_name() == "targets" => role,
        _ => md.signed.type_name().to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// Name inside the request folder.
    pub file: String,
    /// sha256 of the file's bytes.
    pub sha256: String,
    /// The name the coordinator gave (e.g. `1.root.json`).
    pub original_name: String,
}

/// `request.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RequestFile {
    pub format: String,
    pub format_version: u64,
    pub role: String,
    pub version: u64,
    pub expires: String,
    /// sha256 of the canonical bytes every signature covers.
    pub canonical_sha256: String,
    pub metadata: FileRef,
    pub delegator: FileRef,
    #[serde(default)]
    pub previous: Option<FileRef>,
    /// keyid → keyholder name, when the coordinator knew them (informational).
    #[serde(default)]
    pub keyholders: BTreeMap<String, String>,
    /// Clients the merged file must satisfy.
    pub clients: Vec<String>,
    pub tool: String,
}

/// A keyholder's signature file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    pub format: String,
    pub format_version: u64,
    pub role: String,
    pub version: u64,
    pub canonical_sha256: String,
    pub keyid: String,
    /// Lowercase hex, TUF's encoding for the key type.
    pub sig: String,
    #[serde(default)]
    pub keyholder: Option<String>,
    /// The token that signed, as its back end describes it.
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub signed_at: Option<String>,
}

impl SignatureFile {
    /// Reads a signature file's bytes: the JSON shape and the format name and version
    /// (what each field says is checked against the request by `import`).
    pub fn parse(bytes: &[u8]) -> std::result::Result<SignatureFile, String> {
        let sf: SignatureFile = serde_json::from_slice(bytes).map_err(|e| format!("not a signature file: {e}"))?;
        if sf.format != SIGNATURE_FORMAT || sf.format_version != FORMAT_VERSION {
            return Err(format!("format {:?} version {} is not {SIGNATURE_FORMAT} version {FORMAT_VERSION}", ol(&sf.format), sf.format_version));
        }
        Ok(sf)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("plain struct");
        v.push(b'\n');
        v
    }
}

/// The file name a keyholder's signature is written under.
pub fn signature_file_name(role: &str, version: u64, keyholder: &str) -> String {
    format!("{role}-v{version}.{keyholder}.sig.json")
}

/// The file name import writes (`.partial` appended when below threshold).
pub fn output_file_name(role: &str, version: u64, partial: bool) -> String {
    format!("{version}.{role}.json{}", if partial { ".partial" } else { "" })
}

/// A file the operator named: metadata size limit, regular files only.
fn read(path: &Path) -> Result<Vec<u8>> {
    fsx::read_large(path).map_err(|e| Error::io(path, e))
}

/// A file inside a request folder: never through a link placed there.
fn read_in(path: &Path, kind: Kind) -> Result<Vec<u8>> {
    let res = if kind == Kind::Metadata { fsx::read_large_in(path) } else { fsx::read_in(path, kind) };
    res.map_err(|e| Error::io(path, e))
}

fn file_name_of(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Reads a public key file: TUF key JSON (`{"keytype": …}`) or SubjectPublicKeyInfo PEM.
/// (`plan::read_public_key` takes a key JSON whose PEM string contains the PEM header for a
/// PEM file, so JSON is recognised here first.)
pub fn read_key_file(path: &Path) -> Result<Key> {
    read_public_key(path).map_err(|w| Error::input(path, w))
}

/// keyid → keyholder name from a ceremony media `keys/` folder (`keys/<holder>/<holder>.key.json`).
pub fn keyholder_names(keys_dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let rd = std::fs::read_dir(keys_dir).map_err(|e| Error::io(keys_dir, e))?;
    for e in rd.filter_map(|e| e.ok()) {
        // Only real folders and files: a link in a media folder is never followed.
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let holder = e.file_name().to_string_lossy().into_owned();
        let p = e.path().join(format!("{holder}.key.json"));
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_file()) {
            let key = read_key_file(&p)?;
            out.insert(keyid(&key), holder);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The request, as loaded and re-checked from its files
// ---------------------------------------------------------------------------------------

pub struct Request {
    pub dir: PathBuf,
    pub file: RequestFile,
    pub md: Metadata,
    pub metadata_bytes: Vec<u8>,
    pub canonical: Vec<u8>,
    /// sha256 of `canonical`, lowercase hex.
    pub hash: String,
    pub delegator: Metadata,
    pub delegator_name: String,
    pub previous: Option<Metadata>,
    pub authority: Authority,
    /// keyid → keyholder name (only keyids that may sign).
    pub names: BTreeMap<String, String>,
    pub clients: Clients,
}

fn parse_md(path: &Path, bytes: &[u8], mode: Mode) -> Result<Metadata> {
    Metadata::from_bytes(bytes, mode).map_err(|e| Error::input(path, e))
}

impl Request {
    /// Loads a request folder and re-checks it: every file's sha256 against `request.json`,
    /// the metadata's canonical sha256, role, version and expiry, and the delegator's keys.
    /// A mismatch means the request was altered (or damaged) and is refused.
    pub fn load(dir: &Path) -> Result<Request> {
        let rpath = dir.join(REQUEST_FILE);
        let rbytes = read_in(&rpath, Kind::Request)?;
        let file: RequestFile = serde_json::from_slice(&rbytes).map_err(|e| Error::input(&rpath, format!("not a signature request: {e}")))?;
        if file.format != REQUEST_FORMAT || file.format_version != FORMAT_VERSION {
            return Err(Error::input(
                &rpath,
                format!("format {:?} version {} is not {REQUEST_FORMAT} version {FORMAT_VERSION}", file.format, file.format_version),
            ));
        }
        // The role names the files sign and import write: only names the writer accepts.
        if !(TOP_LEVEL_ROLES.contains(&file.role.as_str()) || rules::role_name_ok(&file.role)) {
            return Err(Error::input(&rpath, format!("role: \"{}\" is not a role name (letters, digits, . _ ~ -; not . or ..)", ol(&file.role))));
        }
        let altered = |what: String| {
            Error::Refused(format!("{}: the request was altered or damaged: {what}. Do not use it; ask the coordinator for a new request.", dir.display()))
        };
        let load_ref = |r: &FileRef, expected_name: &str| -> Result<(PathBuf, Vec<u8>)> {
            if r.file != expected_name {
                return Err(altered(format!("request.json names {:?} where {expected_name} belongs", r.file)));
            }
            let p = dir.join(&r.file);
            let b = read_in(&p, Kind::Metadata)?;
            let h = sha256_hex(&b);
            if h != r.sha256 {
                return Err(altered(format!("{} has sha256 {h}, but request.json records {}", r.file, r.sha256)));
            }
            Ok((p, b))
        };
        let (mpath, metadata_bytes) = load_ref(&file.metadata, METADATA_FILE)?;
        let md = parse_md(&mpath, &metadata_bytes, Mode::Strict)?;
        let canonical = md.signed_bytes();
        let hash = sha256_hex(&canonical);
        if hash != file.canonical_sha256 {
            return Err(altered(format!(
                "request.json records canonical sha256 {}, but {METADATA_FILE}'s signed content hashes to {hash}",
                file.canonical_sha256
            )));
        }
        if md.version() != file.version || md.signed.header().expires.as_str() != file.expires {
            return Err(altered(format!(
                "request.json says version {} expiring {}, but {METADATA_FILE} is version {} expiring {}",
                file.version,
                file.expires,
                md.version(),
                md.signed.header().expires.as_str()
            )));
        }
        let (dpath, dbytes) = load_ref(&file.delegator, DELEGATOR_FILE)?;
        let delegator = parse_md(&dpath, &dbytes, Mode::Lenient)?;
        let delegator_name = delegator_name(&file.delegator.original_name, &delegator);
        let previous = match &file.previous {
            None => None,
            Some(r) => {
                let (p, b) = load_ref(r, PREVIOUS_FILE)?;
                Some(parse_md(&p, &b, Mode::Lenient)?)
            }
        };
        let authority = Authority::new(&file.role, &md, &delegator, &delegator_name).map_err(|w| Error::input(&rpath, w))?;
        let may = authority.keyids();
        let names = file.keyholders.iter().filter(|(k, _)| may.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        let clients = Clients::parse(&file.clients.join(",")).map_err(|w| Error::input(&rpath, format!("clients: {w}")))?;
        if clients == Clients::NONE {
            return Err(Error::input(&rpath, "clients: none named, so the writer rules would check nothing"));
        }
        Ok(Request { dir: dir.to_path_buf(), file, md, metadata_bytes, canonical, hash, delegator, delegator_name, previous, authority, names, clients })
    }

    pub fn role(&self) -> &str {
        &self.file.role
    }

    /// The plain-words summary. `with_hash` adds the canonical sha256 (the coordinator's
    /// copy); `sign` shows it without, so the keyholder must type the one they were given.
    pub fn summary(&self, now: DateTime<Utc>, with_hash: bool) -> String {
        summary(&SummaryInput {
            role: &self.file.role,
            md: &self.md,
            canonical: &self.canonical,
            delegator: &self.delegator,
            delegator_file: &self.file.delegator.original_name,
            previous: self.previous.as_ref().map(|p| (p, self.file.previous.as_ref().map(|r| r.original_name.as_str()).unwrap_or(PREVIOUS_FILE))),
            authority: &self.authority,
            names: &self.names,
            now,
            with_hash,
        })
    }
}

/// Whether the previous version the changes are shown against is the one clients accept:
/// a request folder is the coordinator's work, and a doctored previous version (the draft
/// itself, say) would make a swapped key read as "nothing else changed". Checked against
/// the delegator's keys (for a new root N the delegator is root N-1, so a previous root
/// signed only by keys of its own choosing does not pass). Said, not refused: between the
/// two versions the delegator may have changed this role's keys.
fn previous_signed(role: &str, previous: &Metadata, delegator: &Metadata, delegator_file: &str) -> String {
    let payload = previous.signed_bytes();
    let check = match (delegator.signed.as_root(), delegator.signed.as_targets()) {
        (Some(root), _) if TOP_LEVEL_ROLES.contains(&role) => check_top_level(root, role, previous, &payload, true),
        (_, Some(t)) => check_delegated(t, role, previous, &payload, true),
        _ => None,
    }
    .map(|c| (c, format!("the keys {delegator_file} gives {role}")));
    match check {
        Some((c, by)) if c.met() => format!("valid signatures by {} of {by}, threshold {}", c.valid(), c.threshold),
        Some((c, by)) => format!(
            "WARNING: valid signatures by only {} of {by}, threshold {}, so it may not be the version clients have: ask the coordinator before trusting the changes below",
            c.valid(),
            c.threshold
        ),
        None => format!("WARNING: {delegator_file} does not say who signs it, so it may not be the version clients have"),
    }
}

struct SummaryInput<'a> {
    role: &'a str,
    md: &'a Metadata,
    canonical: &'a [u8],
    delegator: &'a Metadata,
    delegator_file: &'a str,
    previous: Option<(&'a Metadata, &'a str)>,
    authority: &'a Authority,
    names: &'a BTreeMap<String, String>,
    now: DateTime<Utc>,
    with_hash: bool,
}

fn summary(s: &SummaryInput) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let h = s.md.signed.header();
    let days = (h.expires.at() - s.now).num_seconds().div_euclid(86_400);
    let _ = writeln!(o, "Signature request: {} version {}", ol(s.role), h.version);
    let _ = writeln!(o, "  expires {} ({})", ol(h.expires.as_str()), if days >= 0 { format!("in {days} days") } else { "ALREADY EXPIRED".to_string() });
    let _ = writeln!(
        o,
        "  delegated by {} (file {}, version {})",
        s.authority.groups.iter().map(|g| ol(&g.by)).collect::<Vec<_>>().join(" and "),
        ol(s.delegator_file),
        s.delegator.version()
    );
    let _ = writeln!(o, "\nWho may sign:");
    let sigs_valid: BTreeSet<String> =
        s.md.signatures.iter().filter(|x| s.authority.verify(&x.keyid, s.canonical, &x.sig).is_ok()).map(|x| x.keyid.clone()).collect();
    for g in &s.authority.groups {
        let _ = writeln!(o, "  {} of these {} keys ({}):", g.threshold, g.keyids.len(), ol(&g.by));
        for id in &g.keyids {
            let alg = g.keys.get(id).and_then(Algorithm::from_key).map(|a| a.name()).unwrap_or("key missing from the delegator!");
            let who = s.names.get(id).map(|n| format!("{:<12}", ol(n))).unwrap_or_else(|| format!("{:<12}", "(unnamed)"));
            let done = if sigs_valid.contains(id) { "  — already signed" } else { "" };
            let _ = writeln!(o, "    {who} keyid {}  {alg}{done}", ol(id));
        }
    }
    let stale = s.md.signatures.iter().filter(|x| !sigs_valid.contains(&x.keyid)).count();
    if stale > 0 {
        let _ = writeln!(
            o,
            "  ({stale} signature(s) in the draft do not verify over this content — left over from an earlier version? — and are dropped when signatures are imported)"
        );
    }
    let _ = writeln!(o, "\nWhat changed:");
    match s.previous {
        Some((p, name)) => {
            let _ = writeln!(o, "  compared with {} (version {}; {}):", ol(name), p.version(), ol(&previous_signed(s.role, p, s.delegator, s.delegator_file)));
            for l in diff::changes(&p.signed, &s.md.signed) {
                let _ = writeln!(o, "  - {}", ol(&l));
            }
        }
        None => {
            let _ = writeln!(o, "  (no previous version was given: changes cannot be shown)");
        }
    }
    if s.with_hash {
        let hx = sha256_hex(s.canonical);
        let _ = writeln!(o, "\nCanonical sha256 (what every signature covers):\n  {hx}\n{}", words(&hx));
        let _ = writeln!(
            o,
            "Give this hash to each keyholder over a separate channel (phone, video call), never only inside this folder: whoever could alter the request could alter a hash stored with it."
        );
    }
    o
}

// ---------------------------------------------------------------------------------------
// sign-request
// ---------------------------------------------------------------------------------------

pub struct NewRequest<'a> {
    pub metadata: &'a Path,
    pub role: &'a str,
    pub delegator: &'a Path,
    pub previous: Option<&'a Path>,
    /// A ceremony media `keys/` folder naming keyholders; default `<delegator dir>/../keys`
    /// when it exists.
    pub keys_dir: Option<&'a Path>,
    /// Where the request folder is created.
    pub media: &'a Path,
    pub clients: Clients,
    pub now: DateTime<Utc>,
}

pub struct CreatedRequest {
    pub dir: PathBuf,
    pub canonical_sha256: String,
    /// The summary with the hash (what SUMMARY.txt holds).
    pub summary: String,
    /// `request.json` as written.
    pub request: RequestFile,
    /// Who may sign, from the delegator.
    pub authority: Authority,
    /// `false` when an identical request was already there (nothing was written).
    pub written: bool,
}

/// The request folder's name: role, version and the start of the canonical hash.
pub fn request_dir_name(role: &str, version: u64, hash: &str) -> String {
    format!("sign-{role}-v{version}-{}", crate::util::text::prefix(hash, 8))
}

pub fn create_request(r: &NewRequest) -> Result<CreatedRequest> {
    let mbytes = read(r.metadata)?;
    let md = parse_md(r.metadata, &mbytes, Mode::Strict)?;
    let dbytes = read(r.delegator)?;
    let delegator = parse_md(r.delegator, &dbytes, Mode::Lenient)?;
    let dname = delegator_name(&file_name_of(r.delegator), &delegator);
    let authority = Authority::new(r.role, &md, &delegator, &dname).map_err(|w| Error::Refused(format!("{}: {w}", r.metadata.display())))?;
    let canonical = md.signed_bytes();
    let hash = sha256_hex(&canonical);
    let h = md.signed.header();
    if h.expires.at() <= r.now {
        return Err(Error::Refused(format!(
            "{}: the draft expired at {}; set a later expiry before asking anyone to sign it",
            r.metadata.display(),
            h.expires.as_str()
        )));
    }
    // Writer rules now, so nobody signs something the merge would refuse to write.
    let mut unsigned = md.clone();
    unsigned.signatures.clear();
    let blocking: Vec<String> = rules::check(&unsigned, &canonical)
        .into_iter()
        .filter(|f| f.severity == Severity::Error && f.rejected_by.intersects(r.clients))
        .map(|f| format!("  - {f}"))
        .collect();
    if !blocking.is_empty() {
        return Err(Error::Refused(format!(
            "{}: {} would reject this metadata; fix the draft before asking for signatures:\n{}",
            r.metadata.display(),
            r.clients,
            blocking.join("\n")
        )));
    }
    let previous = match r.previous {
        None => None,
        Some(p) => {
            let b = read(p)?;
            let pm = parse_md(p, &b, Mode::Lenient)?;
            if pm.signed.type_name() != md.signed.type_name() {
                return Err(Error::Refused(format!(
                    "{}: the previous version is a {} role, the draft a {} role",
                    p.display(),
                    pm.signed.type_name(),
                    md.signed.type_name()
                )));
            }
            if pm.version() >= md.version() {
                return Err(Error::Refused(format!(
                    "{}: the draft's version {} is not higher than the previous version {}: clients would refuse it as a rollback",
                    r.metadata.display(),
                    md.version(),
                    pm.version()
                )));
            }
            Some((p, b, pm))
        }
    };
    let keys_dir = r.keys_dir.map(Path::to_path_buf).or_else(|| {
        let d = r.delegator.parent().unwrap_or(Path::new(".")).join("..").join("keys");
        d.is_dir().then_some(d)
    });
    let may = authority.keyids();
    let mut names: BTreeMap<String, String> = match &keys_dir {
        Some(d) => keyholder_names(d)?.into_iter().filter(|(k, _)| may.contains(k)).collect(),
        None => BTreeMap::new(),
    };
    // A draft from tuf-on-ci names each signer in the key itself.
    for id in &may {
        if let (false, Some(crate::tuf::json::Value::Str(owner))) = (names.contains_key(id), authority.key(id).and_then(|k| k.extra.get(TUF_ON_CI_OWNER))) {
            names.insert(id.clone(), owner.clone());
        }
    }
    let text = summary(&SummaryInput {
        role: r.role,
        md: &md,
        canonical: &canonical,
        delegator: &delegator,
        delegator_file: &file_name_of(r.delegator),
        previous: previous.as_ref().map(|(p, _, pm)| (pm, file_name_of(p))).as_ref().map(|(pm, n)| (*pm, n.as_str())),
        authority: &authority,
        names: &names,
        now: r.now,
        with_hash: true,
    });
    let fref = |file: &str, bytes: &[u8], original: &Path| FileRef { file: file.into(), sha256: sha256_hex(bytes), original_name: file_name_of(original) };
    let req = RequestFile {
        format: REQUEST_FORMAT.into(),
        format_version: FORMAT_VERSION,
        role: r.role.to_string(),
        version: md.version(),
        expires: h.expires.as_str().to_string(),
        canonical_sha256: hash.clone(),
        metadata: fref(METADATA_FILE, &mbytes, r.metadata),
        delegator: fref(DELEGATOR_FILE, &dbytes, r.delegator),
        previous: previous.as_ref().map(|(p, b, _)| fref(PREVIOUS_FILE, b, p)),
        keyholders: names,
        clients: r.clients.names().into_iter().map(String::from).collect(),
        tool: crate::util::machine::TOOL.into(),
    };
    let mut rjson = serde_json::to_vec_pretty(&req).expect("plain struct");
    rjson.push(b'\n');
    let mut items = vec![Item { rel: METADATA_FILE.into(), bytes: mbytes }, Item { rel: DELEGATOR_FILE.into(), bytes: dbytes }];
    if let Some((_, b, _)) = previous {
        items.push(Item { rel: PREVIOUS_FILE.into(), bytes: b });
    }
    items.push(Item { rel: REQUEST_FILE.into(), bytes: rjson.clone() });
    items.push(Item { rel: SUMMARY_FILE.into(), bytes: text.clone().into_bytes() });
    let name = request_dir_name(r.role, md.version(), &hash);
    let dir = r.media.join(&name);
    // Made before (SUMMARY.txt counts days, so it differs from one day to the next): the
    // same request if request.json, which names every other file by its hash, is the same.
    if let Ok(existing) = fsx::read_in(&dir.join(REQUEST_FILE), Kind::Request) {
        if existing == rjson {
            return Ok(CreatedRequest { dir, canonical_sha256: hash, summary: text, request: req, authority, written: false });
        }
        return Err(Error::Refused(format!("{} already exists and holds another request; refusing to overwrite it", dir.display())));
    }
    let needed: u64 = items.iter().map(|i| i.bytes.len() as u64 * 2 + 65536).sum();
    media::check_media(r.media, needed).map_err(|e| Error::Refused(e.to_string()))?;
    // Built in a staging folder and renamed into place complete, as an export is.
    let stage = media::begin_export(r.media, &name).map_err(|e| Error::Refused(e.to_string()))?;
    let built = media::write_into(&stage, &items).and_then(|written| {
        media::write_into(&stage, &[Item { rel: "SHA256SUMS".into(), bytes: media::sha256sums(&written) }])?;
        let fin = media::finish_export(r.media, &name, &stage)?;
        media::check_in_place(&fin, &written).inspect_err(|_| media::set_aside(r.media, &name))
    });
    if let Err(e) = built {
        media::abandon_export(&stage);
        return Err(Error::Refused(e.to_string()));
    }
    Ok(CreatedRequest { dir, canonical_sha256: hash, summary: text, request: req, authority, written: true })
}

// ---------------------------------------------------------------------------------------
// sign
// ---------------------------------------------------------------------------------------

pub struct SignInput<'a> {
    pub request_dir: &'a Path,
    pub keyholder: &'a str,
    pub plan: &'a Plan,
    /// The keyholder's public key, when the request does not name it.
    pub key: Option<Key>,
    /// Where the signature file goes (default: the request folder).
    pub out_dir: Option<&'a Path>,
    pub now: DateTime<Utc>,
}

#[derive(Debug)]
pub struct SignatureWritten {
    pub path: PathBuf,
    pub keyid: String,
    pub canonical_sha256: String,
}

pub fn sign(input: &SignInput, tokens: &mut dyn TokenBackend, ui: &mut dyn Ui) -> Result<SignatureWritten> {
    let req = Request::load(input.request_dir)?;
    let name = input.keyholder;
    let holder = input
        .plan
        .keyholder(name)
        .ok_or_else(|| {
            Error::Usage(format!(
                "the plan has no keyholder {name:?} (it has {})",
                input.plan.keyholders.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?
        .clone();
    if holder.token == crate::ceremony::plan::TokenKind::None {
        // Said before anything is shown or asked: no hash is typed for nothing.
        return Err(Error::Refused(format!("{}; nothing was asked or signed", crate::ceremony::tokens::no_back_end(&holder))));
    }
    let may = req.authority.keyids();
    let id = match &input.key {
        Some(k) => {
            let id = keyid(k);
            if !may.contains(&id) {
                return Err(Error::Refused(format!("the key given with --key (keyid {id}) is not one of the keys that may sign {}", req.role())));
            }
            id
        }
        // The request's names, else the plan's key from an earlier ceremony.
        None => req.names.iter().find(|(_, n)| n.as_str() == name).map(|(k, _)| k.clone()).or_else(|| holder.existing.as_ref().map(|e| e.keyid.clone()).filter(|id| may.contains(id))).ok_or_else(|| {
            Error::Usage(format!(
                "the request does not say which key is {name}'s; give --key FILE ({name}'s public key, e.g. keys/{name}/{name}.key.json on the ceremony media)"
            ))
        })?,
    };
    let key = req
        .authority
        .key(&id)
        .cloned()
        .ok_or_else(|| Error::Refused(format!("the delegator lists keyid {id} for {} but does not hold the key", req.role())))?;
    let public = PublicKey::from_key(&key, false).map_err(|e| Error::Refused(format!("{name}'s key {id}: {e}")))?;
    if req.md.signatures.iter().any(|s| s.keyid == id && req.authority.verify(&id, &req.canonical, &s.sig).is_ok()) {
        return Err(Error::Refused(format!("{} v{} already carries {name}'s valid signature; nothing to sign", req.role(), req.md.version())));
    }
    if req.md.signed.header().expires.at() <= input.now {
        return Err(Error::Refused(format!(
            "{} v{} expired at {}; signing it is pointless — ask the coordinator for a new request",
            req.role(),
            req.md.version(),
            ol(&req.file.expires)
        )));
    }
    let out_dir = input.out_dir.unwrap_or(input.request_dir);
    let out = out_dir.join(signature_file_name(req.role(), req.md.version(), name));
    if fsx::occupied(&out) {
        return Err(Error::Refused(format!("{} already exists; refusing to overwrite it", out.display())));
    }

    ui.show(&req.summary(input.now, false));
    ui.show(&format!("You sign as {name}, key {id}."));
    let serial_note = holder.serial.as_ref().map(|s| format!(" (the bag should say serial {s})")).unwrap_or_default();
    ui.wait(&format!("{name}: insert your {} token{serial_note}. Only this one token may be connected.", holder.token.as_str()))
        .map_err(|e| Error::Refused(e.to_string()))?;
    // The token is checked before the hash is typed: 32 typed words are never lost to a
    // missing or wrong token. Nothing secret is asked here.
    match tokens.peek(&holder, ui).map_err(|e| Error::Refused(format!("{name}'s token: {e}")))? {
        Peek::Key(tk) if tk.public.to_key() != public.to_key() => {
            return Err(Error::Refused(format!(
                "{name}'s token holds key {}…, not {name}'s key {}… that this request needs: wrong token? Nothing was asked or signed.",
                crate::util::text::prefix(&keyid(&tk.public.to_key()), 16),
                crate::util::text::prefix(&id, 16)
            )));
        }
        Peek::Empty(at) => {
            return Err(Error::Refused(format!(
                "{name}'s token holds no key ({}): wrong token, or the wrong --tokens folder? Nothing was asked or signed.",
                ol(&at)
            )));
        }
        _ => {}
    }
    ui.show(
        "Now type the canonical sha256 the coordinator gave you over a separate channel (phone, video call) — 64 hex digits or the 32 PGP words. Do not copy it from this folder: a hash stored with the request proves nothing about it.",
    );
    let expected = unhex(&req.hash, true).expect("own hex");
    let mut tries = 0;
    loop {
        tries += 1;
        let typed = ui.ask("Canonical sha256 (hex or PGP words):").map_err(|e| Error::Refused(format!("cannot read the hash: {e}")))?;
        match hashconfirm::check(&typed, &expected) {
            Ok(()) => {
                ui.show(&format!("✓ The hash matches this metadata:\n  {}\n{}", req.hash, words(&req.hash)));
                break;
            }
            Err(e) if tries < HASH_TRIES => ui.show(&format!("✗ That does not match this metadata: {e}. Check it with the coordinator and type it again.")),
            Err(e) => {
                return Err(Error::Refused(format!(
                    "the hash typed did not match this metadata ({e}); nothing was signed. If you typed it as given, the request differs from what the coordinator made: do not sign, tell the coordinator."
                )));
            }
        }
    }

    // Where the signature goes must take it before the token is touched.
    fsx::ensure_named_dir(out_dir).map_err(|e| Error::io(out_dir, e))?;
    media::check_media(out_dir, 64 << 10).map_err(|e| Error::Refused(format!("{e}; nothing was signed")))?;
    let expected_key =
        TokenKey { public: public.clone(), serial: holder.serial.clone(), description: format!("{name}'s token"), attestation: Vec::new(), generated: false };
    let mut signer = tokens.open(&holder, &expected_key, ui).map_err(|e| Error::Refused(format!("{name}'s token: {e}")))?;
    // Signed as the delegator lists the key (`id`), whatever form the tool would write the
    // key in itself (a legacy keytype or a keyid_hash_algorithms field changes the keyid).
    // sign_checked verifies the signature against the token's expected key; check once
    // more as import will.
    let sig = hex(&signer.sign_checked(&req.canonical)?);
    req.authority.verify(&id, &req.canonical, &sig).map_err(Error::Refused)?;
    let file = SignatureFile {
        format: SIGNATURE_FORMAT.into(),
        format_version: FORMAT_VERSION,
        role: req.role().to_string(),
        version: req.md.version(),
        canonical_sha256: req.hash.clone(),
        keyid: id.clone(),
        sig,
        keyholder: Some(name.to_string()),
        token: Some(signer.describe()),
        signed_at: Some(fmt_time(Utc::now())),
    };
    drop(signer);
    if let Err(e) = fsx::write_new(&out, &file.to_bytes(), false) {
        // The signature is made and is not secret: show it so it is not lost.
        ui.show(&format!(
            "The signature could not be written to {}. It is not lost: save the text between the lines as that file (or any name) and hand it to the coordinator.\n----\n{}----",
            out.display(),
            ascii_json(&String::from_utf8_lossy(&file.to_bytes()))
        ));
        return Err(e);
    }
    ui.show(&format!(
        "✓ Signed {} v{} with {name}'s key {}…; the signature verifies.\nSignature file: {}",
        req.role(),
        req.md.version(),
        short(&id),
        out.display()
    ));
    // Alone at their own machine, the keyholder needs no Enter here: it is said, not asked.
    ui.show(&format!("{name}: remove your token and put it back in its bag."));
    Ok(SignatureWritten { path: out, keyid: id, canonical_sha256: req.hash })
}

// ---------------------------------------------------------------------------------------
// import-signatures
// ---------------------------------------------------------------------------------------

/// One signature file given to `import-signatures`, and what became of it.
#[derive(Clone, Debug)]
pub struct SignatureVerdict {
    pub file: PathBuf,
    /// The key it names (`None` when the file cannot be read as a signature file).
    pub keyid: Option<String>,
    /// The keyholder it names.
    pub keyholder: Option<String>,
    /// Why it is refused; `None` when it is accepted.
    pub refused: Option<String>,
}

#[derive(Debug)]
pub struct ImportOutcome {
    /// The request's role, version and canonical sha256.
    pub role: String,
    pub version: u64,
    pub canonical_sha256: String,
    /// Every signature file given, in order.
    pub files: Vec<SignatureVerdict>,
    /// Where the signed metadata is (`None` when refused: nothing was written).
    pub path: Option<PathBuf>,
    /// Below threshold (written only with `--partial`, as `V.ROLE.json.partial`).
    pub partial: bool,
    /// The file was already there with exactly these bytes.
    pub already_there: bool,
    /// Per key group, after the merge (of the signatures accepted).
    pub checks: Vec<(String, ThresholdCheck)>,
    /// (keyid, keyholder) of each signature imported.
    pub added: Vec<(String, Option<String>)>,
    /// Signatures of the draft dropped because they do not verify over it.
    pub dropped: Vec<String>,
    /// Why nothing was written, once the signature files were examined: a refused file,
    /// below threshold without `--partial`, another file in the output's place.
    pub refusal: Option<String>,
}

impl ImportOutcome {
    /// The outcome, or its refusal as the error the command line reports.
    pub fn or_refused(self) -> Result<ImportOutcome> {
        match self.refusal {
            Some(m) => Err(Error::Refused(m)),
            None => Ok(self),
        }
    }
}

/// Verifies and merges `sig_files` into the request's metadata and writes it to `out_dir`.
/// Any bad signature file refuses the whole import with every reason, and nothing is written
/// (the outcome's `refusal`; [`ImportOutcome::or_refused`] makes it an error). Errors are
/// what stops it before the signature files are examined.
/// `trusted_delegator`, when given, must be byte-identical to the request's delegator copy
/// (a request folder that travelled could carry a doctored delegator).
pub fn import(input: &ImportInput) -> Result<ImportOutcome> {
    import_inner(input).map_err(|e| match e {
        Error::Refused(m) if !m.contains("nothing was written") => Error::Refused(format!("{m}\nNothing was written.")),
        Error::Input { path, what } => Error::Input { path, what: format!("{what}\nNothing was written.") },
        other => other,
    })
}

/// What `import-signatures` is given.
pub struct ImportInput<'a> {
    pub request_dir: &'a Path,
    pub sig_files: &'a [PathBuf],
    pub out_dir: &'a Path,
    /// Write below threshold too, as `V.ROLE.json.partial`.
    pub partial: bool,
    pub trusted_delegator: Option<&'a Path>,
    /// The clients the coordinator imports for (`--clients`); they must be the ones the
    /// request names, so a request.json altered on its way back cannot switch the writer
    /// rules off or narrow them.
    pub clients: Clients,
}

fn import_inner(input: &ImportInput) -> Result<ImportOutcome> {
    let ImportInput { request_dir, sig_files, out_dir, partial, trusted_delegator, clients } = *input;
    let req = Request::load(request_dir)?;
    if req.clients != clients {
        return Err(Error::Refused(format!(
            "the request names clients {}, but you import for {clients}: if the request was made for {}, pass --clients {}; otherwise request.json was altered",
            req.clients,
            req.clients,
            req.clients.names().join(",")
        )));
    }
    if let Some(t) = trusted_delegator {
        let h = sha256_hex(&read(t)?);
        if h != req.file.delegator.sha256 {
            return Err(Error::Refused(format!(
                "the request's {DELEGATOR_FILE} (sha256 {}) is not {} (sha256 {h}); nothing was written",
                req.file.delegator.sha256,
                t.display()
            )));
        }
    }
    let may = req.authority.keyids();
    let mut md = req.md.clone();
    // Keep the draft's own signatures that verify; drop the rest (stale, placeholders, foreign).
    let mut dropped = Vec::new();
    let mut have: BTreeMap<String, String> = BTreeMap::new(); // keyid → where it came from
    md.signatures.retain(|s| {
        if may.contains(&s.keyid) && !have.contains_key(&s.keyid) && req.authority.verify(&s.keyid, &req.canonical, &s.sig).is_ok() {
            have.insert(s.keyid.clone(), "the request's metadata".into());
            true
        } else {
            dropped.push(s.keyid.clone());
            false
        }
    });
    let mut files: Vec<SignatureVerdict> = Vec::new();
    let mut added = Vec::new();
    for p in sig_files {
        let shown = ol(&p.display().to_string());
        let mut verdict = SignatureVerdict { file: p.clone(), keyid: None, keyholder: None, refused: None };
        let mut refuse = |why: String| {
            verdict.refused = Some(why);
            files.push(verdict.clone());
        };
        let bytes = match fsx::read(p, Kind::Signature) {
            Ok(b) => b,
            Err(e) => {
                refuse(format!("cannot read: {e}"));
                continue;
            }
        };
        let sf = match SignatureFile::parse(&bytes) {
            Ok(s) => s,
            Err(e) => {
                refuse(e.to_string());
                continue;
            }
        };
        verdict.keyid = Some(sf.keyid.clone());
        verdict.keyholder = sf.keyholder.clone();
        let mut refuse = |why: String| {
            verdict.refused = Some(why);
            files.push(verdict.clone());
        };
        if sf.canonical_sha256 != req.hash || sf.role != req.role() || sf.version != req.md.version() {
            refuse(format!(
                "signs different metadata ({} v{}, canonical sha256 {}), not this request ({} v{}, canonical sha256 {})",
                ol(&sf.role),
                sf.version,
                ol(&sf.canonical_sha256),
                ol(req.role()),
                req.md.version(),
                req.hash
            ));
            continue;
        }
        let who = sf.keyholder.as_deref().map(|k| format!(" ({})", ol(k))).unwrap_or_default();
        let sf_keyid = ol(&sf.keyid);
        if !may.contains(&sf.keyid) {
            refuse(format!(
                "key {sf_keyid}{who} is not one of the keys that may sign {} (they are: {})",
                req.role(),
                may.iter().map(|k| format!("{}…", short(k))).collect::<Vec<_>>().join(", ")
            ));
            continue;
        }
        if let Some(prev) = have.get(&sf.keyid) {
            refuse(format!("duplicate signature: key {sf_keyid}{who} already signed in {prev}"));
            continue;
        }
        if let Err(why) = req.authority.verify(&sf.keyid, &req.canonical, &sf.sig) {
            refuse(format!("key {sf_keyid}{who}: {}", ol(&why)));
            continue;
        }
        have.insert(sf.keyid.clone(), shown);
        added.push((sf.keyid.clone(), sf.keyholder.clone()));
        files.push(verdict);
        md.signatures.push(Signature { keyid: sf.keyid, sig: sf.sig, extra: Default::default() });
    }
    let mut outcome = ImportOutcome {
        role: req.role().to_string(),
        version: req.md.version(),
        canonical_sha256: req.hash.clone(),
        files,
        path: None,
        partial: false,
        already_there: false,
        checks: Vec::new(),
        added,
        dropped,
        refusal: None,
    };
    let refusals: Vec<String> =
        outcome.files.iter().filter_map(|v| v.refused.as_ref().map(|why| format!("{}: {why}", ol(&v.file.display().to_string())))).collect();
    if !refusals.is_empty() {
        outcome.refusal = Some(format!("refused; nothing was written:\n  - {}", refusals.join("\n  - ")));
        return Ok(outcome);
    }
    // Signatures in the role's key order, so the file does not depend on import order.
    md.signatures.sort_by_key(|s| may.iter().position(|k| *k == s.keyid).unwrap_or(usize::MAX));
    let checks = req.authority.checks(&req.canonical, &md.signatures);
    let met = checks.iter().all(|(_, c)| c.met());
    outcome.partial = !met;
    if !met && !partial {
        outcome.refusal = Some(format!(
            "{} v{} has valid signatures {} — below threshold; nothing was written. Collect more signatures, or pass --partial to write {}",
            req.role(),
            req.md.version(),
            Authority::describe(&checks),
            output_file_name(req.role(), req.md.version(), true)
        ));
        outcome.checks = checks;
        return Ok(outcome);
    }
    outcome.checks = checks;
    let bytes = crate::tuf::write_with_canonical(&md, &req.canonical, req.clients)?;
    let path = out_dir.join(output_file_name(req.role(), req.md.version(), !met));
    outcome.already_there = match fsx::read_large_in(&path) {
        Ok(existing) if existing == bytes => true,
        Ok(_) => {
            outcome.refusal = Some(format!("{} already exists with different content; refusing to overwrite it\nNothing was written.", path.display()));
            return Ok(outcome);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::io(&path, e)),
    };
    if !outcome.already_there {
        fsx::ensure_named_dir(out_dir).map_err(|e| Error::io(out_dir, e))?;
        fsx::write_new(&path, &bytes, false)?;
    }
    outcome.path = Some(path);
    Ok(outcome)
}
