//! The TUF metadata model: root, targets (with delegations), snapshot, timestamp.
//!
//! Lossless: every object keeps the fields it does not know in `extra`, and every value is
//! kept in the form it was written (`expires` as its original text, keys as their original
//! strings), so re-encoding reproduces the signed bytes exactly — the property all three
//! clients rely on (tuf-format.md §2.2). Parsing is permissive about legacy forms and then
//! `strictness_issues` lists what strict mode refuses, so there is one place that decides.

use super::encode::{JsonOut, ToJson};
use super::json::{Fields, JsonError, JsonErrorKind, JsonPath, Kind, Reader, Result, insert_unique, map_from_members};
use chrono::{DateTime, NaiveDateTime, Utc};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The `spec_version` this tool writes (python-tuf's and go-tuf's SPECIFICATION_VERSION).
pub const SPEC_VERSION: &str = "1.0.31";

/// The four top-level roles, the only names root's `roles` may hold.
pub const TOP_LEVEL_ROLES: [&str; 4] = ["root", "snapshot", "targets", "timestamp"];

/// How forgiving the reader is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// What the tool writes and what all clients accept.
    Strict,
    /// Also reads legacy published forms (hex ECDSA keys, offset or fractional `expires`,
    /// missing `terminating`/`consistent_snapshot`, unknown fields in delegations), each
    /// reported by `strictness_issues`.
    Lenient,
}

/// An `expires` timestamp, kept as written so legacy forms still verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expires {
    raw: String,
    at: DateTime<Utc>,
}

impl Expires {
    /// The strict form: `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn parse_strict(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let shape_ok = b.len() == 20
            && b.iter().enumerate().all(|(i, &c)| match i {
                4 | 7 => c == b'-',
                10 => c == b'T',
                13 | 16 => c == b':',
                19 => c == b'Z',
                _ => c.is_ascii_digit(),
            });
        if !shape_ok {
            return None;
        }
        let at = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ").ok()?.and_utc();
        Some(Expires { raw: s.to_string(), at })
    }
    /// Any RFC 3339 form (fractions, offsets), as legacy metadata used.
    pub fn parse_lenient(s: &str) -> Option<Self> {
        Self::parse_strict(s).or_else(|| DateTime::parse_from_rfc3339(s).ok().map(|d| Expires { raw: s.to_string(), at: d.with_timezone(&Utc) }))
    }
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        // Whole seconds only: python-tuf and tough both fail on fractions (§1.2).
        let at = DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at);
        Expires { raw: at.format("%Y-%m-%dT%H:%M:%SZ").to_string(), at }
    }
    pub fn is_strict(&self) -> bool {
        Self::parse_strict(&self.raw).is_some()
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }
}

/// Fields every role has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub spec_version: String,
    pub version: u64,
    pub expires: Expires,
}

impl Header {
    pub fn new(version: u64, expires: DateTime<Utc>) -> Self {
        Header { spec_version: SPEC_VERSION.to_string(), version, expires: Expires::from_datetime(expires) }
    }
}

/// A key type or scheme name. The few the spec defines are shared, not allocated, once per
/// key (a 100,000-key `claimed` role has 200,000 of them).
pub type Name = Cow<'static, str>;

/// `Name` of a string read from a file: a shared one when it is a known name.
fn known_name(s: Cow<'_, str>) -> Name {
    // A `match` on the strings (compiled to length and byte checks), not a scan of a list:
    // it runs twice for each of a 100,000-key role's keys.
    let known: Option<&'static str> = match s.as_ref() {
        "ed25519" => Some("ed25519"),
        "ecdsa" => Some("ecdsa"),
        "ecdsa-sha2-nistp256" => Some("ecdsa-sha2-nistp256"),
        "ecdsa-sha2-nistp384" => Some("ecdsa-sha2-nistp384"),
        "rsa" => Some("rsa"),
        "rsassa-pss-sha256" => Some("rsassa-pss-sha256"),
        "rsassa-pss-sha384" => Some("rsassa-pss-sha384"),
        "rsassa-pss-sha512" => Some("rsassa-pss-sha512"),
        "rsa-pkcs1v15-sha256" => Some("rsa-pkcs1v15-sha256"),
        "rsa-pkcs1v15-sha384" => Some("rsa-pkcs1v15-sha384"),
        "rsa-pkcs1v15-sha512" => Some("rsa-pkcs1v15-sha512"),
        "ml-dsa" => Some("ml-dsa"),
        "ml-dsa-44/1" => Some("ml-dsa-44/1"),
        "ml-dsa-65/1" => Some("ml-dsa-65/1"),
        "ml-dsa-87/1" => Some("ml-dsa-87/1"),
        super::keys::KEYLESS_KEYTYPE => Some(super::keys::KEYLESS_KEYTYPE),
        super::keys::KEYLESS_SCHEME => Some(super::keys::KEYLESS_SCHEME),
        _ => None,
    };
    match known {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(s.into_owned()),
    }
}

/// A public key object as written in metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub keytype: Name,
    pub scheme: Name,
    /// `keyval.public`; empty when the key has none (`has_public`).
    pub public: String,
    /// Whether `keyval` has a `public` member. Only a keyless Sigstore key
    /// (`sigstore-oidc`, whose `keyval` is `identity` and `issuer`) may lack it; it is then
    /// not written either, so the signed bytes are reproduced exactly.
    pub has_public: bool,
    pub keyval_extra: Fields,
    pub extra: Fields,
}

/// `roles.X` in root: who signs a top-level role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleKeys {
    pub keyids: Vec<String>,
    pub threshold: u64,
    pub extra: Fields,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    pub header: Header,
    /// `None` only when a legacy file omitted it (lenient mode); always written.
    pub consistent_snapshot: Option<bool>,
    pub keys: BTreeMap<String, Key>,
    pub roles: BTreeMap<String, RoleKeys>,
    pub extra: Fields,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetFile {
    pub length: u64,
    pub hashes: BTreeMap<String, String>,
    /// Includes `custom`, which python-tuf also keeps as an unrecognized field.
    pub extra: Fields,
}

/// How a delegated role's targets are chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSpec {
    Paths(Vec<String>),
    HashPrefixes(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DelegatedRole {
    pub name: String,
    pub keyids: Vec<String>,
    pub threshold: u64,
    /// `None` only when a legacy file omitted it (lenient mode).
    pub terminating: Option<bool>,
    pub paths: PathSpec,
    /// Only ever non-empty in lenient mode: tough drops these, breaking its signature check.
    pub extra: Fields,
}

/// TAP 15 succinct hashed bins (read for auditing; tough cannot parse them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuccinctRoles {
    pub keyids: Vec<String>,
    pub threshold: u64,
    pub bit_length: u64,
    pub name_prefix: String,
    pub extra: Fields,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DelegatedRoles {
    Roles(Vec<DelegatedRole>),
    Succinct(SuccinctRoles),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delegations {
    pub keys: BTreeMap<String, Key>,
    pub roles: DelegatedRoles,
    /// Only ever non-empty in lenient mode (see `DelegatedRole::extra`).
    pub extra: Fields,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Targets {
    pub header: Header,
    pub targets: BTreeMap<String, TargetFile>,
    pub delegations: Option<Delegations>,
    pub extra: Fields,
}

/// An entry of snapshot's or timestamp's `meta`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaFile {
    pub version: u64,
    pub length: Option<u64>,
    pub hashes: Option<BTreeMap<String, String>>,
    pub extra: Fields,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub header: Header,
    pub meta: BTreeMap<String, MetaFile>,
    pub extra: Fields,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timestamp {
    pub header: Header,
    pub meta: BTreeMap<String, MetaFile>,
    pub extra: Fields,
}

/// The `signed` part of a metadata file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signed {
    Root(Root),
    Targets(Targets),
    Snapshot(Snapshot),
    Timestamp(Timestamp),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub keyid: String,
    /// Lowercase hex; empty for a placeholder of a keyholder who has not signed yet.
    pub sig: String,
    pub extra: Fields,
}

/// A whole metadata file: the signed role and its signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub signed: Signed,
    pub signatures: Vec<Signature>,
    pub extra: Fields,
}

impl Signed {
    pub fn type_name(&self) -> &'static str {
        match self {
            Signed::Root(_) => "root",
            Signed::Targets(_) => "targets",
            Signed::Snapshot(_) => "snapshot",
            Signed::Timestamp(_) => "timestamp",
        }
    }
    pub fn header(&self) -> &Header {
        match self {
            Signed::Root(r) => &r.header,
            Signed::Targets(t) => &t.header,
            Signed::Snapshot(s) => &s.header,
            Signed::Timestamp(t) => &t.header,
        }
    }
    pub fn header_mut(&mut self) -> &mut Header {
        match self {
            Signed::Root(r) => &mut r.header,
            Signed::Targets(t) => &mut t.header,
            Signed::Snapshot(s) => &mut s.header,
            Signed::Timestamp(t) => &mut t.header,
        }
    }
    pub fn as_root(&self) -> Option<&Root> {
        match self {
            Signed::Root(r) => Some(r),
            _ => None,
        }
    }
    pub fn as_targets(&self) -> Option<&Targets> {
        match self {
            Signed::Targets(t) => Some(t),
            _ => None,
        }
    }
}

impl Metadata {
    pub fn new(signed: Signed) -> Self {
        Metadata { signed, signatures: Vec::new(), extra: Fields::new() }
    }

    /// Parses a metadata file. In strict mode the first strictness issue is an error.
    pub fn from_bytes(bytes: &[u8], mode: Mode) -> Result<Self> {
        Self::read(bytes, mode, &mut NoHooks)
    }

    /// `from_bytes`, calling `hooks` around the `signed` member (see `stream`).
    pub(crate) fn read<'a>(bytes: &'a [u8], mode: Mode, hooks: &mut dyn SignedHooks<'a>) -> Result<Self> {
        let mut r = Reader::new(bytes)?;
        let md = read_metadata(&mut r, hooks)?;
        r.finish()?;
        if mode == Mode::Strict
            && let Some((path, what)) = strictness_issues(&md).into_iter().next()
        {
            return Err(JsonError { path, offset: None, kind: JsonErrorKind::Invalid(what) });
        }
        Ok(md)
    }

    /// The exact bytes signatures are made over: canonical JSON of `signed`.
    pub fn signed_bytes(&self) -> Vec<u8> {
        super::encode::canonical(&self.signed)
    }

    /// The file bytes in python-tuf's layout.
    pub fn to_pretty_bytes(&self) -> Vec<u8> {
        super::encode::pretty(self)
    }

    pub fn version(&self) -> u64 {
        self.signed.header().version
    }
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

fn dup(name: &str) -> JsonError {
    JsonError::new(JsonErrorKind::DuplicateKey(name.to_string()))
}

/// Fills a struct slot, refusing a second occurrence of the same key.
fn slot<T>(s: &mut Option<T>, name: &str, v: T) -> Result<()> {
    if s.is_some() {
        return Err(dup(name));
    }
    *s = Some(v);
    Ok(())
}

fn need<T>(s: Option<T>, name: &'static str) -> Result<T> {
    s.ok_or_else(|| JsonError::new(JsonErrorKind::MissingField(name)))
}

/// A positive integer (versions, thresholds, lengths).
fn read_u64(r: &mut Reader, min: u64) -> Result<u64> {
    let v = r.int()?;
    if v < min as i64 {
        return Err(JsonError::invalid(format!("must be an integer ≥ {min}, found {v}")));
    }
    Ok(v as u64)
}

fn read_string_list(r: &mut Reader) -> Result<Vec<String>> {
    let mut v = Vec::new();
    r.array(|r, _| {
        v.push(r.string()?);
        Ok(())
    })?;
    Ok(v)
}

fn read_string_map(r: &mut Reader) -> Result<BTreeMap<String, String>> {
    let mut m = BTreeMap::new();
    r.object(|r, k| {
        let v = r.string()?;
        insert_unique(&mut m, k, v)
    })?;
    Ok(m)
}

/// Collects the four header fields while a role's object is read.
#[derive(Default)]
struct HeaderSlots {
    ty: Option<String>,
    spec_version: Option<String>,
    version: Option<u64>,
    expires: Option<Expires>,
}

impl HeaderSlots {
    /// Consumes the member if it is a header field.
    fn take(&mut self, r: &mut Reader, k: &str) -> Result<bool> {
        match k {
            "_type" => slot(&mut self.ty, k, r.string()?)?,
            "spec_version" => slot(&mut self.spec_version, k, r.string()?)?,
            "version" => slot(&mut self.version, k, read_u64(r, 1)?)?,
            "expires" => {
                let s = r.str()?;
                let e = Expires::parse_lenient(&s).ok_or_else(|| JsonError::invalid(format!("{s:?} is not a date-time (expected YYYY-MM-DDTHH:MM:SSZ)")))?;
                slot(&mut self.expires, k, e)?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
    fn finish(self) -> Result<Header> {
        need(self.ty, "_type")?;
        let spec_version = need(self.spec_version, "spec_version")?;
        if !spec_version_ok(&spec_version) {
            return Err(
                JsonError::invalid(format!("spec_version {spec_version:?} is not 1.x or 1.x.y (python-tuf refuses the file)")).within_key("spec_version")
            );
        }
        Ok(Header { spec_version, version: need(self.version, "version")?, expires: need(self.expires, "expires")? })
    }
}

/// python-tuf's rule: `X.Y` or `X.Y.Z`, digits only, major 1.
fn spec_version_ok(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    (parts.len() == 2 || parts.len() == 3) && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) && parts[0] == "1"
}

/// Called just before and just after the `signed` member is read, with the signatures
/// when they come first in the file (as python-tuf and this tool write them).
pub(crate) trait SignedHooks<'a> {
    fn before_signed(&mut self, r: &mut Reader<'a>, signatures: Option<&[Signature]>);
    fn after_signed(&mut self, r: &mut Reader<'a>);
}

struct NoHooks;

impl<'a> SignedHooks<'a> for NoHooks {
    fn before_signed(&mut self, _: &mut Reader<'a>, _: Option<&[Signature]>) {}
    fn after_signed(&mut self, _: &mut Reader<'a>) {}
}

fn read_metadata<'a>(r: &mut Reader<'a>, hooks: &mut dyn SignedHooks<'a>) -> Result<Metadata> {
    let mut signed = None;
    let mut signatures: Option<Vec<Signature>> = None;
    let mut extra = Fields::new();
    r.object(|r, k| match &*k {
        "signed" => {
            hooks.before_signed(r, signatures.as_deref());
            let value = read_signed(r)?;
            hooks.after_signed(r);
            slot(&mut signed, "signed", value)
        }
        "signatures" => slot(&mut signatures, "signatures", read_signatures(r)?),
        _ => insert_unique(&mut extra, k, r.value()?),
    })?;
    Ok(Metadata { signed: need(signed, "signed")?, signatures: need(signatures, "signatures")?, extra })
}

fn read_signatures(r: &mut Reader) -> Result<Vec<Signature>> {
    let mut out: Vec<Signature> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    r.array(|r, _| {
        let mut keyid = None;
        let mut sig = None;
        let mut extra = Fields::new();
        r.object(|r, k| match &*k {
            "keyid" => slot(&mut keyid, "keyid", r.string()?),
            "sig" => slot(&mut sig, "sig", r.string()?),
            _ => insert_unique(&mut extra, k, r.value()?),
        })?;
        let keyid = need(keyid, "keyid")?;
        if !seen.insert(keyid.clone()) {
            return Err(JsonError::invalid(format!("second signature with keyid {keyid} (python-tuf and go-tuf refuse the file)")));
        }
        out.push(Signature { keyid, sig: need(sig, "sig")?, extra });
        Ok(())
    })?;
    Ok(out)
}

fn read_signed(r: &mut Reader) -> Result<Signed> {
    if r.peek_kind()? != Kind::Object {
        r.object(|_, _| Ok(()))?; // produces the type error
    }
    let ty = r.peek_member_str("_type")?.ok_or_else(|| JsonError::new(JsonErrorKind::MissingField("_type")))?;
    match ty.as_str() {
        "root" => read_root(r).map(Signed::Root),
        "targets" => read_targets(r).map(Signed::Targets),
        "snapshot" => read_meta_role(r).map(|(header, meta, extra)| Signed::Snapshot(Snapshot { header, meta, extra })),
        "timestamp" => read_meta_role(r).map(|(header, meta, extra)| Signed::Timestamp(Timestamp { header, meta, extra })),
        other => Err(JsonError::invalid(format!("unknown _type {other:?}")).within_key("_type")),
    }
}

fn read_root(r: &mut Reader) -> Result<Root> {
    let mut h = HeaderSlots::default();
    let mut consistent_snapshot = None;
    let mut keys = None;
    let mut roles = None;
    let mut extra = Fields::new();
    r.object(|r, k| {
        if h.take(r, &k)? {
            return Ok(());
        }
        match &*k {
            "consistent_snapshot" => slot(&mut consistent_snapshot, "consistent_snapshot", r.bool()?),
            "keys" => slot(&mut keys, "keys", read_keys(r)?),
            "roles" => slot(&mut roles, "roles", read_root_roles(r)?),
            _ => insert_unique(&mut extra, k, r.value()?),
        }
    })?;
    Ok(Root { header: h.finish()?, consistent_snapshot, keys: need(keys, "keys")?, roles: need(roles, "roles")?, extra })
}

fn read_keys(r: &mut Reader) -> Result<BTreeMap<String, Key>> {
    let mut v = Vec::new();
    r.object(|r, k| {
        v.push((k.into_owned(), read_key(r)?));
        Ok(())
    })?;
    map_from_members(v)
}

pub(crate) fn read_key(r: &mut Reader) -> Result<Key> {
    let mut keytype = None;
    let mut scheme = None;
    let mut keyval = None;
    let mut extra = Fields::new();
    r.object(|r, k| match &*k {
        "keytype" => slot(&mut keytype, "keytype", known_name(r.str()?)),
        "scheme" => slot(&mut scheme, "scheme", known_name(r.str()?)),
        "keyval" => {
            let mut public = None;
            let mut kv_extra = Fields::new();
            r.object(|r, k| match &*k {
                "public" => slot(&mut public, "public", r.string()?),
                _ => insert_unique(&mut kv_extra, k, r.value()?),
            })?;
            slot(&mut keyval, "keyval", (public, kv_extra))
        }
        _ => insert_unique(&mut extra, k, r.value()?),
    })?;
    let (public, keyval_extra) = need(keyval, "keyval")?;
    let keytype = need(keytype, "keytype")?;
    // Every key but a keyless Sigstore signer has its material in `public`; the others
    // must have it (python-tuf, go-tuf and tough all read it).
    let has_public = public.is_some();
    let public =
        if keytype == super::keys::KEYLESS_KEYTYPE { public.unwrap_or_default() } else { need(public, "public").map_err(|e| e.within_key("keyval"))? };
    Ok(Key { keytype, scheme: need(scheme, "scheme")?, public, has_public, keyval_extra, extra })
}

fn read_root_roles(r: &mut Reader) -> Result<BTreeMap<String, RoleKeys>> {
    let mut m = BTreeMap::new();
    r.object(|r, k| {
        if !TOP_LEVEL_ROLES.contains(&&*k) {
            return Err(JsonError::invalid(format!(
                "root may only list the roles root, snapshot, targets and timestamp, not {k:?} (python-tuf and tough refuse the file)"
            )));
        }
        let mut keyids = None;
        let mut threshold = None;
        let mut extra = Fields::new();
        r.object(|r, k| match &*k {
            "keyids" => slot(&mut keyids, "keyids", read_keyid_list(r)?),
            "threshold" => slot(&mut threshold, "threshold", read_u64(r, 1)?),
            _ => insert_unique(&mut extra, k, r.value()?),
        })?;
        let role = RoleKeys { keyids: need(keyids, "keyids")?, threshold: need(threshold, "threshold")?, extra };
        insert_unique(&mut m, k, role)
    })?;
    for name in TOP_LEVEL_ROLES {
        if !m.contains_key(name) {
            return Err(JsonError::invalid(format!("root does not define the {name:?} role")));
        }
    }
    Ok(m)
}

/// A keyid list, which must not repeat a keyid (python-tuf refuses the file otherwise).
fn read_keyid_list(r: &mut Reader) -> Result<Vec<String>> {
    let v = read_string_list(r)?;
    if let Some(i) = first_repeat(&v) {
        return Err(JsonError::invalid(format!("keyid {} listed twice", v[i])).within_index(i));
    }
    Ok(v)
}

/// Index of the first item equal to an earlier one. Short lists (every keyid list in
/// practice) are compared pairwise: no allocation or hashing per delegated role.
pub(crate) fn first_repeat<S: AsRef<str>>(v: &[S]) -> Option<usize> {
    if v.len() <= 16 {
        return (1..v.len()).find(|&i| v[..i].iter().any(|x| x.as_ref() == v[i].as_ref()));
    }
    // Long lists this tool and python-tuf write (project roles, bins) are in ascending
    // order, which already proves them distinct without hashing each one.
    if v.windows(2).all(|w| w[0].as_ref() < w[1].as_ref()) {
        return None;
    }
    let mut seen = std::collections::HashSet::with_capacity(v.len());
    v.iter().position(|x| !seen.insert(x.as_ref()))
}

fn read_targets(r: &mut Reader) -> Result<Targets> {
    let mut h = HeaderSlots::default();
    let mut targets = None;
    let mut delegations = None;
    let mut extra = Fields::new();
    r.object(|r, k| {
        if h.take(r, &k)? {
            return Ok(());
        }
        match &*k {
            "targets" => slot(&mut targets, "targets", read_target_files(r)?),
            "delegations" => slot(&mut delegations, "delegations", read_delegations(r)?),
            _ => insert_unique(&mut extra, k, r.value()?),
        }
    })?;
    Ok(Targets { header: h.finish()?, targets: need(targets, "targets")?, delegations, extra })
}

fn read_target_files(r: &mut Reader) -> Result<BTreeMap<String, TargetFile>> {
    let mut m = Vec::new();
    r.object(|r, path| {
        let mut length = None;
        let mut hashes = None;
        let mut extra = Fields::new();
        r.object(|r, k| match &*k {
            "length" => slot(&mut length, "length", read_u64(r, 0)?),
            "hashes" => slot(&mut hashes, "hashes", read_string_map(r)?),
            _ => insert_unique(&mut extra, k, r.value()?),
        })?;
        let hashes = need(hashes, "hashes")?;
        if hashes.is_empty() {
            return Err(JsonError::invalid("hashes is empty (python-tuf and go-tuf refuse it)").within_key("hashes"));
        }
        m.push((path.into_owned(), TargetFile { length: need(length, "length")?, hashes, extra }));
        Ok(())
    })?;
    map_from_members(m)
}

fn read_delegations(r: &mut Reader) -> Result<Delegations> {
    let mut keys = None;
    let mut roles = None;
    let mut succinct = None;
    let mut extra = Fields::new();
    r.object(|r, k| match &*k {
        "keys" => slot(&mut keys, "keys", read_keys(r)?),
        "roles" => {
            let mut v: Vec<DelegatedRole> = Vec::new();
            r.array(|r, _| {
                v.push(read_delegated_role(r)?);
                Ok(())
            })?;
            // Checked after the array so the names are borrowed, not cloned.
            let names: Vec<&str> = v.iter().map(|r| r.name.as_str()).collect();
            if let Some(i) = first_repeat(&names) {
                return Err(JsonError::invalid(format!("role name {:?} delegated twice", names[i])).within_index(i));
            }
            drop(names);
            slot(&mut roles, "roles", v)
        }
        "succinct_roles" => slot(&mut succinct, "succinct_roles", read_succinct(r)?),
        _ => insert_unique(&mut extra, k, r.value()?),
    })?;
    let roles = match (roles, succinct) {
        (Some(v), None) => DelegatedRoles::Roles(v),
        (None, Some(s)) => DelegatedRoles::Succinct(s),
        (Some(_), Some(_)) => return Err(JsonError::invalid("both roles and succinct_roles (exactly one is allowed)")),
        (None, None) => return Err(JsonError::new(JsonErrorKind::MissingField("roles"))),
    };
    Ok(Delegations { keys: need(keys, "keys")?, roles, extra })
}

fn read_delegated_role(r: &mut Reader) -> Result<DelegatedRole> {
    let mut name = None;
    let mut keyids = None;
    let mut threshold = None;
    let mut terminating = None;
    let mut paths = None;
    let mut prefixes = None;
    let mut extra = Fields::new();
    r.object(|r, k| match &*k {
        "name" => slot(&mut name, "name", r.string()?),
        "keyids" => slot(&mut keyids, "keyids", read_keyid_list(r)?),
        "threshold" => slot(&mut threshold, "threshold", read_u64(r, 1)?),
        "terminating" => slot(&mut terminating, "terminating", r.bool()?),
        "paths" => slot(&mut paths, "paths", read_string_list(r)?),
        "path_hash_prefixes" => slot(&mut prefixes, "path_hash_prefixes", read_string_list(r)?),
        _ => insert_unique(&mut extra, k, r.value()?),
    })?;
    let paths = match (paths, prefixes) {
        (Some(p), None) => PathSpec::Paths(p),
        (None, Some(p)) => PathSpec::HashPrefixes(p),
        _ => return Err(JsonError::invalid("exactly one of paths and path_hash_prefixes is required")),
    };
    Ok(DelegatedRole { name: need(name, "name")?, keyids: need(keyids, "keyids")?, threshold: need(threshold, "threshold")?, terminating, paths, extra })
}

fn read_succinct(r: &mut Reader) -> Result<SuccinctRoles> {
    let mut keyids = None;
    let mut threshold = None;
    let mut bit_length = None;
    let mut name_prefix = None;
    let mut extra = Fields::new();
    r.object(|r, k| match &*k {
        "keyids" => slot(&mut keyids, "keyids", read_keyid_list(r)?),
        "threshold" => slot(&mut threshold, "threshold", read_u64(r, 1)?),
        "bit_length" => slot(&mut bit_length, "bit_length", read_u64(r, 1)?),
        "name_prefix" => slot(&mut name_prefix, "name_prefix", r.string()?),
        _ => insert_unique(&mut extra, k, r.value()?),
    })?;
    let bit_length = need(bit_length, "bit_length")?;
    if bit_length > 32 {
        return Err(JsonError::invalid("bit_length must be 1..=32").within_key("bit_length"));
    }
    Ok(SuccinctRoles {
        keyids: need(keyids, "keyids")?,
        threshold: need(threshold, "threshold")?,
        bit_length,
        name_prefix: need(name_prefix, "name_prefix")?,
        extra,
    })
}

type MetaRole = (Header, BTreeMap<String, MetaFile>, Fields);

fn read_meta_role(r: &mut Reader) -> Result<MetaRole> {
    let mut h = HeaderSlots::default();
    let mut meta = None;
    let mut extra = Fields::new();
    r.object(|r, k| {
        if h.take(r, &k)? {
            return Ok(());
        }
        match &*k {
            "meta" => {
                let mut m = BTreeMap::new();
                r.object(|r, name| {
                    let f = read_meta_file(r)?;
                    insert_unique(&mut m, name, f)
                })?;
                slot(&mut meta, "meta", m)
            }
            _ => insert_unique(&mut extra, k, r.value()?),
        }
    })?;
    Ok((h.finish()?, need(meta, "meta")?, extra))
}

fn read_meta_file(r: &mut Reader) -> Result<MetaFile> {
    let mut version = None;
    let mut length = None;
    let mut hashes = None;
    let mut extra = Fields::new();
    r.object(|r, k| match &*k {
        "version" => slot(&mut version, "version", read_u64(r, 1)?),
        "length" => slot(&mut length, "length", read_u64(r, 0)?),
        "hashes" => slot(&mut hashes, "hashes", read_string_map(r)?),
        _ => insert_unique(&mut extra, k, r.value()?),
    })?;
    Ok(MetaFile { version: need(version, "version")?, length, hashes, extra })
}

// ---------------------------------------------------------------------------------------
// Strictness: the legacy forms lenient mode reads and strict mode refuses.
// ---------------------------------------------------------------------------------------

/// Lists every legacy form in `md`, with its path. Strict parsing fails on the first.
pub fn strictness_issues(md: &Metadata) -> Vec<(JsonPath, String)> {
    let mut out = Vec::new();
    let signed = JsonPath::root().key("signed");
    let h = md.signed.header();
    if !h.expires.is_strict() {
        out.push((
            signed.clone().key("expires"),
            format!("expires {:?} is not YYYY-MM-DDTHH:MM:SSZ (python-tuf refuses it; tough re-encodes it and fails the signature)", h.expires.as_str()),
        ));
    }
    // Paths are built only for issues: this walks every key and role of a 100,000-project role.
    let key_issues = |out: &mut Vec<(JsonPath, String)>, base: JsonPath, keys: &BTreeMap<String, Key>| {
        for (id, k) in keys {
            if let Err(why) = super::keys::check_key_shape(k) {
                out.push((base.clone().key(id.as_str()), why));
            }
        }
    };
    match &md.signed {
        Signed::Root(root) => {
            if root.consistent_snapshot.is_none() {
                out.push((
                    signed.clone().key("consistent_snapshot"),
                    "consistent_snapshot is missing (tough refuses the file; go-tuf re-adds it as false and fails the signature)".into(),
                ));
            }
            key_issues(&mut out, signed.clone().key("keys"), &root.keys);
        }
        Signed::Targets(t) => {
            if let Some(d) = &t.delegations {
                let dp = signed.clone().key("delegations");
                key_issues(&mut out, dp.clone().key("keys"), &d.keys);
                for k in d.extra.keys() {
                    out.push((dp.clone().key(k.as_str()), JsonErrorKind::UnsafeUnknownField(k.clone()).to_string()));
                }
                if let DelegatedRoles::Roles(roles) = &d.roles {
                    for (i, role) in roles.iter().enumerate() {
                        let rp = || dp.clone().key("roles").index(i);
                        if role.terminating.is_none() {
                            out.push((rp().key("terminating"), "terminating is missing (python-tuf and tough refuse the file)".into()));
                        }
                        for k in role.extra.keys() {
                            out.push((rp().key(k.as_str()), JsonErrorKind::UnsafeUnknownField(k.clone()).to_string()));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    out
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

struct Str<'a>(&'a str);
impl ToJson for Str<'_> {
    fn write_json(&self, out: &mut JsonOut) {
        out.str(self.0)
    }
}

/// One known member of a struct for `JsonOut::fields` (`None` when absent).
type Member<'a> = (&'a str, Option<&'a dyn ToJson>);

fn some<T: ToJson>(v: &T) -> Option<&dyn ToJson> {
    Some(v as &dyn ToJson)
}

fn header_members<'a>(ty: &'a Str<'a>, h: &'a Header) -> [Member<'a>; 4] {
    [("_type", Some(ty as &dyn ToJson)), ("spec_version", some(&h.spec_version)), ("version", some(&h.version)), ("expires", some(&h.expires))]
}

impl ToJson for Expires {
    fn write_json(&self, out: &mut JsonOut) {
        out.str(&self.raw)
    }
}

impl ToJson for Key {
    fn write_json(&self, out: &mut JsonOut) {
        struct KeyVal<'a>(&'a Key);
        impl ToJson for KeyVal<'_> {
            fn write_json(&self, out: &mut JsonOut) {
                let public = self.0.has_public.then_some(&self.0.public as &dyn ToJson);
                out.fields(&mut [("public", public)], &self.0.keyval_extra)
            }
        }
        let kv = KeyVal(self);
        out.fields(&mut [("keytype", some(&self.keytype)), ("keyval", some(&kv)), ("scheme", some(&self.scheme))], &self.extra)
    }
}

impl ToJson for RoleKeys {
    fn write_json(&self, out: &mut JsonOut) {
        out.fields(&mut [("keyids", some(&self.keyids)), ("threshold", some(&self.threshold))], &self.extra)
    }
}

impl ToJson for Root {
    fn write_json(&self, out: &mut JsonOut) {
        let ty = Str("root");
        let [a, b, c, d] = header_members(&ty, &self.header);
        let cs = self.consistent_snapshot.as_ref().map(|v| v as &dyn ToJson);
        out.fields(&mut [a, b, c, d, ("consistent_snapshot", cs), ("keys", some(&self.keys)), ("roles", some(&self.roles))], &self.extra)
    }
}

impl ToJson for TargetFile {
    fn write_json(&self, out: &mut JsonOut) {
        out.fields(&mut [("hashes", some(&self.hashes)), ("length", some(&self.length))], &self.extra)
    }
}

impl ToJson for DelegatedRole {
    fn write_json(&self, out: &mut JsonOut) {
        let (paths, prefixes) = match &self.paths {
            PathSpec::Paths(p) => (some(p), None),
            PathSpec::HashPrefixes(p) => (None, some(p)),
        };
        out.fields(
            &mut [
                ("keyids", some(&self.keyids)),
                ("name", some(&self.name)),
                ("threshold", some(&self.threshold)),
                ("terminating", self.terminating.as_ref().map(|t| t as &dyn ToJson)),
                ("paths", paths),
                ("path_hash_prefixes", prefixes),
            ],
            &self.extra,
        )
    }
}

impl ToJson for SuccinctRoles {
    fn write_json(&self, out: &mut JsonOut) {
        out.fields(
            &mut [
                ("bit_length", some(&self.bit_length)),
                ("keyids", some(&self.keyids)),
                ("name_prefix", some(&self.name_prefix)),
                ("threshold", some(&self.threshold)),
            ],
            &self.extra,
        )
    }
}

impl ToJson for Delegations {
    fn write_json(&self, out: &mut JsonOut) {
        let (roles, succinct) = match &self.roles {
            DelegatedRoles::Roles(r) => (some(r), None),
            DelegatedRoles::Succinct(s) => (None, some(s)),
        };
        out.fields(&mut [("keys", some(&self.keys)), ("roles", roles), ("succinct_roles", succinct)], &self.extra)
    }
}

impl ToJson for Targets {
    fn write_json(&self, out: &mut JsonOut) {
        let ty = Str("targets");
        let [a, b, c, d] = header_members(&ty, &self.header);
        let deleg = self.delegations.as_ref().map(|d| d as &dyn ToJson);
        out.fields(&mut [a, b, c, d, ("targets", some(&self.targets)), ("delegations", deleg)], &self.extra)
    }
}

impl ToJson for MetaFile {
    fn write_json(&self, out: &mut JsonOut) {
        let length = self.length.as_ref().map(|l| l as &dyn ToJson);
        let hashes = self.hashes.as_ref().map(|h| h as &dyn ToJson);
        out.fields(&mut [("version", some(&self.version)), ("length", length), ("hashes", hashes)], &self.extra)
    }
}

impl ToJson for Snapshot {
    fn write_json(&self, out: &mut JsonOut) {
        let ty = Str("snapshot");
        let [a, b, c, d] = header_members(&ty, &self.header);
        out.fields(&mut [a, b, c, d, ("meta", some(&self.meta))], &self.extra)
    }
}

impl ToJson for Timestamp {
    fn write_json(&self, out: &mut JsonOut) {
        let ty = Str("timestamp");
        let [a, b, c, d] = header_members(&ty, &self.header);
        out.fields(&mut [a, b, c, d, ("meta", some(&self.meta))], &self.extra)
    }
}

impl ToJson for Signed {
    fn write_json(&self, out: &mut JsonOut) {
        match self {
            Signed::Root(r) => r.write_json(out),
            Signed::Targets(t) => t.write_json(out),
            Signed::Snapshot(s) => s.write_json(out),
            Signed::Timestamp(t) => t.write_json(out),
        }
    }
}

impl ToJson for Signature {
    fn write_json(&self, out: &mut JsonOut) {
        out.fields(&mut [("keyid", some(&self.keyid)), ("sig", some(&self.sig))], &self.extra)
    }
}

impl ToJson for Metadata {
    fn write_json(&self, out: &mut JsonOut) {
        out.fields(&mut [("signatures", some(&self.signatures)), ("signed", some(&self.signed))], &self.extra)
    }
}

// ---------------------------------------------------------------------------------------
// Construction (python-tuf-like helpers for building new metadata)
// ---------------------------------------------------------------------------------------

impl Root {
    /// A new root with the four roles, no keys, threshold 1 and consistent snapshots on.
    pub fn new(version: u64, expires: DateTime<Utc>) -> Self {
        let roles = TOP_LEVEL_ROLES.iter().map(|r| (r.to_string(), RoleKeys { keyids: Vec::new(), threshold: 1, extra: Fields::new() })).collect();
        Root { header: Header::new(version, expires), consistent_snapshot: Some(true), keys: BTreeMap::new(), roles, extra: Fields::new() }
    }

    /// Adds `key` to `role` (once), returning its keyid.
    pub fn add_key(&mut self, role: &str, key: Key) -> String {
        let id = super::keys::keyid(&key);
        self.keys.entry(id.clone()).or_insert(key);
        if let Some(r) = self.roles.get_mut(role)
            && !r.keyids.contains(&id)
        {
            r.keyids.push(id.clone());
        }
        id
    }

    pub fn set_threshold(&mut self, role: &str, threshold: u64) {
        if let Some(r) = self.roles.get_mut(role) {
            r.threshold = threshold;
        }
    }
}

impl Targets {
    pub fn new(version: u64, expires: DateTime<Utc>) -> Self {
        Targets { header: Header::new(version, expires), targets: BTreeMap::new(), delegations: None, extra: Fields::new() }
    }

    /// Adds a delegated role (with `roles`, not succinct) and its keys.
    pub fn delegate(&mut self, role: DelegatedRole, keys: impl IntoIterator<Item = Key>) {
        let d = self.delegations.get_or_insert_with(|| Delegations { keys: BTreeMap::new(), roles: DelegatedRoles::Roles(Vec::new()), extra: Fields::new() });
        for k in keys {
            d.keys.entry(super::keys::keyid(&k)).or_insert(k);
        }
        if let DelegatedRoles::Roles(v) = &mut d.roles {
            v.push(role);
        }
    }

    /// The delegated roles, if this role delegates with `roles`.
    pub fn delegated_roles(&self) -> &[DelegatedRole] {
        match self.delegations.as_ref().map(|d| &d.roles) {
            Some(DelegatedRoles::Roles(v)) => v,
            _ => &[],
        }
    }
}

impl TargetFile {
    /// A target entry for `data` with a sha256 hash.
    pub fn from_data(data: &[u8]) -> Self {
        let mut hashes = BTreeMap::new();
        hashes.insert("sha256".to_string(), super::keys::sha256_hex(data));
        TargetFile { length: data.len() as u64, hashes, extra: Fields::new() }
    }
}

impl MetaFile {
    /// Just a version (what snapshot lists by default).
    pub fn version_only(version: u64) -> Self {
        MetaFile { version, length: None, hashes: None, extra: Fields::new() }
    }
    /// Version, length and sha256 of the exact file bytes (what timestamp lists).
    pub fn from_data(version: u64, data: &[u8]) -> Self {
        let mut hashes = BTreeMap::new();
        hashes.insert("sha256".to_string(), super::keys::sha256_hex(data));
        MetaFile { version, length: Some(data.len() as u64), hashes: Some(hashes), extra: Fields::new() }
    }
}

impl DelegatedRole {
    pub fn with_paths(name: &str, keyids: Vec<String>, threshold: u64, terminating: bool, paths: Vec<String>) -> Self {
        DelegatedRole { name: name.into(), keyids, threshold, terminating: Some(terminating), paths: PathSpec::Paths(paths), extra: Fields::new() }
    }
}
