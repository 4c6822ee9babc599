//! Writer rules: the intersection python-tuf 7, go-tuf (≥ PR #783) and tough 0.19 accept
//! (tuf-format.md §7). Each rule says which clients break, so a caller that only needs some
//! of them (e.g. a P-384 root for python-tuf and go-tuf) can say so explicitly.

use super::finding::{Clients, Finding};
use super::json::{JsonPath, MAX_SAFE_INT, Value};
use super::keys::{self, Algorithm};
use super::metadata::{DelegatedRoles, Delegations, Key, Metadata, PathSpec, Root, Signed, Snapshot, TOP_LEVEL_ROLES, Targets, Timestamp, strictness_issues};
use super::olpc::{self, OlpcIssue};
use std::collections::BTreeMap;

/// Membership in a `keys` map: a hash set of its keyids when many roles are checked against
/// it (100,000 delegated roles would otherwise cost a B-tree walk of 64-byte string
/// comparisons each), else the map itself.
enum KeyIndex<'a> {
    Map(&'a BTreeMap<String, Key>),
    Set(std::collections::HashSet<&'a str>),
}

impl<'a> KeyIndex<'a> {
    fn new(keys: &'a BTreeMap<String, Key>, lookups: usize) -> Self {
        if lookups > 64 { KeyIndex::Set(keys.keys().map(String::as_str).collect()) } else { KeyIndex::Map(keys) }
    }
    fn contains(&self, id: &str) -> bool {
        match self {
            KeyIndex::Map(m) => m.contains_key(id),
            KeyIndex::Set(s) => s.contains(id),
        }
    }
}

/// Default client size limit for timestamp.json (python-tuf and go-tuf).
pub const TIMESTAMP_MAX_LEN: usize = 16384;

/// python-tuf's `targets_max_length`, used when snapshot lists no length for a role.
pub const TARGETS_DEFAULT_MAX_LEN: usize = 5_000_000;

/// Every rule finding for one metadata file. `canonical` is `md.signed_bytes()`, passed in
/// so large roles are not encoded twice. The same as [`check_model`] followed by
/// [`check_canonical`].
pub fn check(md: &Metadata, canonical: &[u8]) -> Vec<Finding> {
    let mut f = check_model(md);
    f.extend(check_canonical(canonical));
    f
}

/// The rules that read the model only (everything but the canonical-bytes rules), so a
/// caller can run them while the canonical bytes are being encoded.
pub fn check_model(md: &Metadata) -> Vec<Finding> {
    let mut f = Vec::new();
    let signed = JsonPath::root().key("signed");
    for (path, what) in strictness_issues(md) {
        f.push(Finding::error("legacy-form", path, what, strictness_clients(md)));
    }
    let h = md.signed.header();
    if h.version > MAX_SAFE_INT as u64 {
        f.push(Finding::error("int-range", signed.clone().key("version"), "version above 2^53-1", Clients::GO));
    }
    check_signatures(md, &mut f);
    match &md.signed {
        Signed::Root(r) => check_root(r, &signed, &mut f),
        Signed::Targets(t) => check_targets(t, &signed, &mut f),
        Signed::Snapshot(s) => check_snapshot(s, &signed, &mut f),
        Signed::Timestamp(t) => check_timestamp(t, &signed, &mut f),
    }
    f
}

/// The rules on the canonical bytes of `signed`: where tough's olpc-cjson would encode
/// them differently.
pub fn check_canonical(canonical: &[u8]) -> Vec<Finding> {
    let signed = JsonPath::root().key("signed");
    olpc::divergences(canonical)
        .into_iter()
        .map(|(path, issue)| {
            let mut full = signed.clone();
            full.0.extend(path.0);
            let msg = match issue {
                OlpcIssue::NotNfc(s) => format!("string {s:?} is not Unicode NFC; tough normalises it before verifying and the signature fails"),
                OlpcIssue::KeyOrder(a, b) => format!("keys {a:?} and {b:?} sort differently in tough's canonical JSON; its signature check fails"),
            };
            Finding::error("olpc-divergence", full, msg, Clients::TOUGH)
        })
        .collect()
}

/// Checks the finished file bytes (size limits that depend on the exact encoding).
pub fn check_file_bytes(md: &Metadata, bytes: &[u8]) -> Vec<Finding> {
    let mut f = Vec::new();
    if matches!(md.signed, Signed::Targets(_)) && bytes.len() > TARGETS_DEFAULT_MAX_LEN {
        f.push(Finding::warning(
            "targets-size",
            JsonPath::root(),
            format!("this targets role is {} bytes, above python-tuf's 5,000,000-byte default limit (tough: 10 MiB): snapshot must list its length, or clients refuse it", bytes.len()),
            Clients::NONE,
        ));
    }
    if matches!(md.signed, Signed::Timestamp(_)) && bytes.len() > TIMESTAMP_MAX_LEN {
        f.push(Finding::error(
            "timestamp-size",
            JsonPath::root(),
            format!("timestamp.json is {} bytes, over the 16384-byte client default", bytes.len()),
            Clients::PYTHON.or(Clients::GO),
        ));
    }
    f
}

/// The clients that refuse the legacy forms `strictness_issues` lists.
fn strictness_clients(_md: &Metadata) -> Clients {
    // expires, hex keys, missing terminating: python-tuf and tough; missing
    // consistent_snapshot and unsafe unknown fields: tough and go-tuf. Reporting all three
    // keeps the writer from ever emitting any of them.
    Clients::ALL
}

fn check_signatures(md: &Metadata, f: &mut Vec<Finding>) {
    let mut seen = std::collections::HashSet::new();
    for (i, s) in md.signatures.iter().enumerate() {
        let p = JsonPath::root().key("signatures").index(i);
        if !seen.insert(s.keyid.as_str()) {
            f.push(Finding::error("duplicate-signature", p.clone(), format!("second signature by keyid {}", s.keyid), Clients::PYTHON.or(Clients::GO)));
        }
        if s.sig.is_empty() {
            f.push(Finding::info("placeholder-signature", p, format!("empty signature placeholder for keyid {}", s.keyid)));
        } else if s.extra.contains_key("bundle") && !keys::is_hex(&s.sig, true) {
            // A keyless Sigstore signature: python-tuf (with Sigstore support) reads the
            // bundle and never decodes `sig`; go-tuf and tough decode it as hex.
            f.push(Finding::error(
                "signature-hex",
                p.key("sig"),
                "Sigstore signature whose sig is not lowercase hex: go-tuf and tough refuse the whole file",
                Clients::GO.or(Clients::TOUGH),
            ));
        } else if !keys::is_hex(&s.sig, true) {
            f.push(Finding::error("signature-hex", p.key("sig"), "signature is not lowercase hex", Clients::ALL));
        }
    }
}

/// `p` builds the key's path, only when there is something to report (100,000-key roles).
fn check_key(id: &str, key: &Key, p: &dyn Fn() -> JsonPath, f: &mut Vec<Finding>) {
    if keys::is_keyless(key) {
        f.push(Finding::error(
            "key-keyless",
            p(),
            "keyless Sigstore signer (sigstore-oidc/Fulcio): python-tuf 7 refuses the whole file unless Sigstore support is registered, and then checks its signatures online; tough refuses the whole file (unknown keytype); go-tuf re-encodes the key with an empty \"public\" (so this file's signatures fail) and refuses every role that lists it; its signatures cannot be checked offline",
            Clients::ALL,
        ));
        // Its keyid is a name, not a hash (python-tuf and go-tuf never recompute it), and
        // its form is checked with the key shapes below.
        if let Err(e) = keys::check_key_shape(key) {
            f.push(Finding::error("key-form", p().key("keyval"), e, Clients::ALL));
        }
        return;
    }
    match Algorithm::from_key(key) {
        None => {
            // python-tuf refuses the whole file for a pair securesystemslib does not
            // register; tough for any pair but its four; go-tuf every role that lists it.
            let python = if keys::python_registers(&key.keytype, &key.scheme) { Clients::NONE } else { Clients::PYTHON };
            let e = keys::KeyError::Unsupported(key.keytype.to_string(), key.scheme.to_string());
            f.push(Finding::error("key-type", p(), e.to_string(), python.or(Clients::GO).or(Clients::TOUGH)));
            return;
        }
        Some(Algorithm::EcdsaP384) => {
            f.push(Finding::error("key-p384", p(), "ECDSA P-384 key: tough only reads P-256 (python-tuf and go-tuf accept it)", Clients::TOUGH))
        }
        Some(Algorithm::RsaPssSha384 | Algorithm::RsaPssSha512 | Algorithm::RsaPkcs1v15Sha256 | Algorithm::RsaPkcs1v15Sha384 | Algorithm::RsaPkcs1v15Sha512) => f.push(Finding::error(
            "key-rsa-scheme",
            p().key("scheme"),
            format!(
                "RSA key with scheme {}: python-tuf verifies it; tough refuses the whole file (it reads only rsassa-pss-sha256) and go-tuf checks every rsa key as RSASSA-PSS with SHA-256, so signatures by this key never count there",
                key.scheme
            ),
            Clients::GO.or(Clients::TOUGH),
        )),
        Some(Algorithm::MlDsa44 | Algorithm::MlDsa65 | Algorithm::MlDsa87) => f.push(Finding::error(
            "key-ml-dsa",
            p(),
            format!(
                "ML-DSA key (TAP 21, scheme {}): python-tuf verifies it; tough refuses the whole file (unknown keytype) and go-tuf refuses every role that lists it (unsupported public key type)",
                key.scheme
            ),
            Clients::GO.or(Clients::TOUGH),
        )),
        Some(Algorithm::Ed25519 | Algorithm::EcdsaP256 | Algorithm::RsaPssSha256) => {}
    }
    if key.keytype == "ecdsa-sha2-nistp256" {
        f.push(Finding::warning(
            "key-legacy-keytype",
            p().key("keytype"),
            "keytype ecdsa-sha2-nistp256 is the pre-1.0.32 name; new keys use \"ecdsa\"",
            Clients::NONE,
        ));
    }
    if key.extra.contains_key("keyid_hash_algorithms") {
        f.push(Finding::warning(
            "key-legacy-keyid-hash-algorithms",
            p().key("keyid_hash_algorithms"),
            "legacy keyid_hash_algorithms field (kept byte for byte; never written for new keys)",
            Clients::NONE,
        ));
    }
    if let Err(e) = keys::check_key_shape(key) {
        f.push(Finding::error("key-form", p().key("keyval").key("public"), e, Clients::ALL));
    }
    if !keys::keyid_is(key, id) {
        let computed = keys::keyid(key);
        f.push(Finding::error(
            "keyid-mismatch",
            p(),
            format!("keyid {id} is not sha256 of the key as written ({computed}); tough refuses the file"),
            Clients::TOUGH,
        ));
    }
}

fn check_keys(keys: &BTreeMap<String, Key>, p: &JsonPath, f: &mut Vec<Finding>) {
    for (id, key) in keys {
        check_key(id, key, &|| p.clone().key(id.as_str()), f);
    }
}

/// Role keyids must be known keys, unique, and able to meet the threshold. `p` builds
/// the role's path only when there is something to report.
fn check_role_keys(keyids: &[String], threshold: u64, keys: &KeyIndex, p: &dyn Fn() -> JsonPath, f: &mut Vec<Finding>) {
    if threshold == 0 {
        f.push(Finding::error("threshold-zero", p().key("threshold"), "threshold must be at least 1", Clients::ALL));
    }
    let mut distinct = 0;
    // Short lists (all real ones) are checked pairwise: no hash set per delegated role.
    let mut seen = (keyids.len() > 16).then(|| std::collections::HashSet::with_capacity(keyids.len()));
    for (i, id) in keyids.iter().enumerate() {
        let repeated = match &mut seen {
            Some(s) => !s.insert(id),
            None => keyids[..i].contains(id),
        };
        if repeated {
            f.push(Finding::error("keyid-duplicate", p().key("keyids").index(i), format!("keyid {id} listed twice"), Clients::PYTHON));
        } else {
            distinct += 1;
        }
        if !keys.contains(id) {
            f.push(Finding::error(
                "keyid-unknown",
                p().key("keyids").index(i),
                format!("keyid {id} is not in keys (go-tuf refuses the whole role)"),
                Clients::GO,
            ));
        }
    }
    if threshold as usize > distinct {
        f.push(Finding::error(
            "threshold-unreachable",
            p().key("threshold"),
            format!("threshold {threshold} but only {distinct} distinct keys: no client can ever verify this role"),
            Clients::ALL,
        ));
    }
}

fn check_root(r: &Root, p: &JsonPath, f: &mut Vec<Finding>) {
    check_keys(&r.keys, &p.clone().key("keys"), f);
    for name in TOP_LEVEL_ROLES {
        match r.roles.get(name) {
            Some(rk) => check_role_keys(&rk.keyids, rk.threshold, &KeyIndex::Map(&r.keys), &|| p.clone().key("roles").key(name), f),
            None => f.push(Finding::error("root-role-missing", p.clone().key("roles"), format!("role {name} is missing"), Clients::ALL)),
        }
    }
    for name in r.roles.keys() {
        if !TOP_LEVEL_ROLES.contains(&name.as_str()) {
            f.push(Finding::error(
                "root-role-extra",
                p.clone().key("roles").key(name.as_str()),
                format!("root may not define role {name:?}"),
                Clients::PYTHON.or(Clients::TOUGH),
            ));
        }
    }
}

/// Delegated role names the URL encodings of all clients leave unchanged (§1.8).
/// Findings the writer refuses although the clients read what they are about: the
/// clients would read it differently from one another.
pub const WRITER_REFUSES: &[&str] = &["role-name"];

/// The longest validity the tool writes (ten years), for every way a plan or an operator
/// gives one; `verify` warns past it.
pub const MAX_EXPIRY_DAYS: i64 = 3660;

pub fn role_name_ok(name: &str) -> bool {
    !name.is_empty()
        && !TOP_LEVEL_ROLES.contains(&name)
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
}

/// A target path every client resolves the same way: relative, `/`-separated, no empty,
/// `.` or `..` segments, no characters that break tough's canonical ordering or URLs.
pub fn target_path_ok(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("empty target path");
    }
    if path.starts_with('/') {
        return Err("target path is absolute");
    }
    if path.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err("target path has an empty, '.' or '..' segment");
    }
    if path.chars().any(|c| c.is_control() || c == ' ' || c == '!' || c == '"' || c == '\\') {
        return Err("target path contains a control character, space, '!', '\"' or '\\'");
    }
    Ok(())
}

/// A `paths` pattern with the same meaning in python-tuf, go-tuf and tough (§5.3): literals
/// plus `*` and `?`, no character classes, braces, escapes, `**`, or odd segments.
pub fn path_pattern_ok(p: &str) -> Result<(), &'static str> {
    if p.is_empty() {
        return Err("empty pattern");
    }
    if p.starts_with('/') {
        return Err("pattern starts with '/'");
    }
    if p.contains("**") {
        return Err("'**' means different things to tough (globset) and python-tuf/go-tuf");
    }
    if p.chars().any(|c| matches!(c, '[' | ']' | '{' | '}' | '\\') || c.is_control() || c == ' ') {
        return Err("pattern uses [ ] { } \\ or whitespace, which the clients interpret differently");
    }
    if p.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err("pattern has an empty, '.' or '..' segment");
    }
    Ok(())
}

/// python-tuf's `paths` matching: same number of `/` segments, each matching with `*` and
/// `?` never crossing `/` (the strictest of the three clients).
pub fn path_matches(pattern: &str, target: &str) -> bool {
    let ps: Vec<&str> = pattern.split('/').collect();
    let ts: Vec<&str> = target.split('/').collect();
    ps.len() == ts.len() && ps.iter().zip(&ts).all(|(p, t)| glob_segment(p.as_bytes(), t.as_bytes()))
}

fn glob_segment(p: &[u8], t: &[u8]) -> bool {
    // Iterative wildcard matching with backtracking on the last '*'.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

fn check_hashes(hashes: &BTreeMap<String, String>, p: JsonPath, need_sha256: bool, f: &mut Vec<Finding>) {
    if hashes.is_empty() {
        f.push(Finding::error("hashes-empty", p.clone(), "hashes is empty", Clients::ALL));
    }
    if need_sha256 && !hashes.contains_key("sha256") {
        f.push(Finding::error("hashes-no-sha256", p.clone(), "hashes has no sha256 (tough requires it)", Clients::TOUGH));
    }
    for (alg, h) in hashes {
        let len = match alg.as_str() {
            "sha256" => 64,
            "sha512" => 128,
            _ => {
                f.push(Finding::error(
                    "hash-algorithm",
                    p.clone().key(alg.as_str()),
                    format!("hash algorithm {alg:?}: go-tuf only checks sha256 and sha512"),
                    Clients::GO,
                ));
                continue;
            }
        };
        if h.len() != len || !keys::is_hex(h, true) {
            f.push(Finding::error(
                "hash-hex",
                p.clone().key(alg.as_str()),
                format!("{alg} must be {len} lowercase hex characters"),
                Clients::PYTHON.or(Clients::GO),
            ));
        }
    }
}

fn check_targets(t: &Targets, p: &JsonPath, f: &mut Vec<Finding>) {
    for (path, tf) in &t.targets {
        let tp = p.clone().key("targets").key(path.as_str());
        if let Err(why) = target_path_ok(path) {
            f.push(Finding::error("target-path", tp.clone(), why, Clients::TOUGH));
        }
        check_hashes(&tf.hashes, tp.clone().key("hashes"), true, f);
        if tf.length > MAX_SAFE_INT as u64 {
            f.push(Finding::error("int-range", tp.clone().key("length"), "length above 2^53-1", Clients::GO));
        }
        match tf.extra.get("custom") {
            None => {}
            Some(Value::Object(m)) if !m.is_empty() => {}
            Some(Value::Object(_)) => {
                f.push(Finding::error("custom-empty", tp.clone().key("custom"), "empty custom object: tough drops it and fails the signature", Clients::TOUGH))
            }
            Some(_) => f.push(Finding::error("custom-type", tp.clone().key("custom"), "custom must be an object", Clients::TOUGH.or(Clients::GO))),
        }
    }
    let Some(d) = &t.delegations else { return };
    let dp = p.clone().key("delegations");
    // A 100,000-project role: its keys (a keyid recomputed per key) are checked on a second
    // core while its roles are checked here; findings keep their order (keys, then roles).
    let keys_path = dp.clone().key("keys");
    let (mut role_findings, mut key_findings) = crate::util::par::both(
        d.keys.len() >= 4096,
        || {
            let mut rf = Vec::new();
            check_delegated_roles(d, &dp, &mut rf);
            rf
        },
        || {
            let mut kf = Vec::new();
            check_keys(&d.keys, &keys_path, &mut kf);
            kf
        },
    );
    f.append(&mut key_findings);
    f.append(&mut role_findings);
}

/// The delegated roles of a targets role: names, keys, thresholds, paths, hashed bins.
fn check_delegated_roles(d: &Delegations, dp: &JsonPath, f: &mut Vec<Finding>) {
    match &d.roles {
        DelegatedRoles::Succinct(s) => {
            f.push(Finding::error("succinct-roles", dp.clone().key("succinct_roles"), "succinct_roles (TAP 15): tough cannot parse it", Clients::TOUGH));
            check_role_keys(&s.keyids, s.threshold, &KeyIndex::Map(&d.keys), &|| dp.clone().key("succinct_roles"), f);
        }
        DelegatedRoles::Roles(roles) => {
            let known = KeyIndex::new(&d.keys, roles.len());
            for (i, r) in roles.iter().enumerate() {
                let rp = || dp.clone().key("roles").index(i);
                if !role_name_ok(&r.name) {
                    // python-tuf refuses an empty or top-level name in a delegation; every
                    // other name is read by all three, which then name its file differently.
                    let rejected = if r.name.is_empty() || TOP_LEVEL_ROLES.contains(&r.name.as_str()) { Clients::PYTHON } else { Clients::NONE };
                    f.push(Finding::error(
                        "role-name",
                        rp().key("name"),
                        format!(
                            "role name {:?} is not one this tool writes: it must match [A-Za-z0-9._~-]+, not be . or .. and not be a top-level role; python-tuf and tough URL-encode other names in file names and go-tuf path-escapes them (differently for $ & + = : @), so each client asks for another file",
                            r.name
                        ),
                        rejected,
                    ));
                }
                check_role_keys(&r.keyids, r.threshold, &known, &rp, f);
                match &r.paths {
                    PathSpec::Paths(ps) => {
                        for (j, pat) in ps.iter().enumerate() {
                            if let Err(why) = path_pattern_ok(pat) {
                                f.push(Finding::error("path-pattern", rp().key("paths").index(j), format!("{pat:?}: {why}"), Clients::ALL));
                            }
                        }
                    }
                    PathSpec::HashPrefixes(ps) => {
                        for (j, pre) in ps.iter().enumerate() {
                            if pre.is_empty() || pre.len() > 64 || !pre.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                                f.push(Finding::error(
                                    "hash-prefix",
                                    rp().key("path_hash_prefixes").index(j),
                                    format!("{pre:?} is not a lowercase hex prefix"),
                                    Clients::ALL,
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
}

fn check_meta(meta: &BTreeMap<String, super::metadata::MetaFile>, p: &JsonPath, f: &mut Vec<Finding>) {
    for (name, m) in meta {
        let mp = p.clone().key("meta").key(name.as_str());
        if !name.ends_with(".json") {
            f.push(Finding::error("meta-name", mp.clone(), format!("meta entry {name:?} must be <role>.json"), Clients::ALL));
        }
        if m.length == Some(0) {
            f.push(Finding::error(
                "meta-length-zero",
                mp.clone().key("length"),
                "length 0: go-tuf omits it when re-encoding and fails the signature",
                Clients::GO,
            ));
        }
        if let Some(h) = &m.hashes {
            check_hashes(h, mp.clone().key("hashes"), false, f);
        }
    }
}

fn check_snapshot(s: &Snapshot, p: &JsonPath, f: &mut Vec<Finding>) {
    check_meta(&s.meta, p, f);
    if !s.meta.contains_key("targets.json") {
        f.push(Finding::error("snapshot-no-targets", p.clone().key("meta"), "snapshot does not list targets.json", Clients::ALL));
    }
}

fn check_timestamp(t: &Timestamp, p: &JsonPath, f: &mut Vec<Finding>) {
    check_meta(&t.meta, p, f);
    if t.meta.len() != 1 || !t.meta.contains_key("snapshot.json") {
        f.push(Finding::error("timestamp-meta", p.clone().key("meta"), "timestamp meta must hold exactly snapshot.json", Clients::ALL));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_path_semantics() {
        assert!(path_matches("projects/*", "projects/a"));
        assert!(!path_matches("projects/*", "projects/a/b"));
        assert!(path_matches("projects/*/*", "projects/a/b"));
        assert!(path_matches("f?o/bar", "foo/bar"));
        assert!(!path_matches("*.tgz", "targets/foo.tgz"));
        assert!(path_matches("*/*/*/*", "a/b/c/d"));
        assert!(!path_matches("*/bar", "foo//bar"));
        assert!(path_matches("a*b*c", "aXXbYYc"));
        assert!(!path_matches("a*b*c", "aXXbYY"));
    }

    #[test]
    fn names_and_patterns() {
        assert!(role_name_ok("claimed"));
        assert!(role_name_ok("registry.npmjs.org"));
        assert!(role_name_ok("0000-0003"));
        assert!(!role_name_ok("root"));
        assert!(!role_name_ok("a/b"));
        assert!(!role_name_ok(""));
        assert!(path_pattern_ok("django/*").is_ok());
        assert!(path_pattern_ok("a/**").is_err());
        assert!(path_pattern_ok("[ab]").is_err());
        assert!(path_pattern_ok("/a").is_err());
        assert!(target_path_ok("files/hello.txt").is_ok());
        assert!(target_path_ok("a/../b").is_err());
        assert!(target_path_ok("foo bar").is_err());
    }

    /// Keys python-tuf verifies and go-tuf and tough do not: the findings name only those
    /// two; keys no client (or only python-tuf) reads name who refuses them.
    #[test]
    fn keys_only_python_tuf_reads_name_go_tuf_and_tough() {
        use super::super::json::Fields;
        use super::super::keys::PublicKey;
        use super::super::metadata::Metadata;
        let mut root = Root::new(1, chrono::DateTime::from_timestamp(1_900_000_000, 0).unwrap());
        let mldsa = PublicKey::MlDsa44(ml_dsa::SigningKey::<ml_dsa::MlDsa44>::from_seed(&[3u8; 32].into()).expanded_key().verifying_key()).to_key();
        let rsa_pem = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n";
        let key = |t: &str, s: &str, public: &str| Key {
            keytype: t.to_string().into(),
            scheme: s.to_string().into(),
            public: public.into(),
            has_public: true,
            keyval_extra: Fields::new(),
            extra: Fields::new(),
        };
        let mut keyless = key("sigstore-oidc", "Fulcio", "");
        keyless.has_public = false;
        keyless.keyval_extra.insert("identity".into(), Value::Str("me@example.com".into()));
        keyless.keyval_extra.insert("issuer".into(), Value::Str("https://accounts.example.com".into()));
        let mldsa_id = root.add_key("root", mldsa);
        let rsa_id = root.add_key("targets", key("rsa", "rsa-pkcs1v15-sha256", rsa_pem));
        let p521_id = root.add_key("snapshot", key("ecdsa", "ecdsa-sha2-nistp521", rsa_pem));
        root.keys.insert("abcd".into(), keyless);
        root.roles.get_mut("timestamp").unwrap().keyids.push("abcd".into());
        let f = check_model(&Metadata::new(Signed::Root(root)));
        let about = |code: &str, id: &str| {
            f.iter().find(|x| x.code == code && x.path.to_string().contains(id)).unwrap_or_else(|| panic!("no {code} for {id}: {f:#?}")).rejected_by
        };
        let go_tough = Clients::GO.or(Clients::TOUGH);
        assert_eq!(about("key-ml-dsa", &mldsa_id), go_tough);
        assert_eq!(about("key-rsa-scheme", &rsa_id), go_tough);
        assert_eq!(about("key-type", &p521_id), go_tough, "python-tuf reads P-521 keys");
        assert_eq!(about("key-keyless", "abcd"), Clients::ALL);
        // A keyless key's keyid is a name: no keyid-mismatch, and its form is fine.
        assert!(!f.iter().any(|x| x.path.to_string().contains("abcd") && x.code != "key-keyless"), "{f:#?}");
        assert!(!f.iter().any(|x| x.code == "key-form"), "{f:#?}");
    }
}
