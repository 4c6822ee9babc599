//! Interoperability: repositories written by the library are accepted by two independent
//! TUF implementations.
//!
//! * python-tuf 7.0.1 (`tests/python/verify_repo.py`): loads every file with
//!   `Metadata.from_file`, verifies each by its delegator, then runs the real
//!   `ngclient.Updater` (bootstrapped from `1.root.json`, local fetcher): `refresh()` and
//!   `get_targetinfo()`.
//! * tough 0.19.0 (`interop/tough-check`): `RepositoryLoader` over `file://` URLs, which
//!   loads and verifies the root chain, timestamp, snapshot, targets and every delegated
//!   role eagerly.
//!
//! Every repository is built from freshly generated software keys, signed with
//! `sign_metadata` and encoded with the checked writer `tuf::write` (which refuses what a
//! required client would reject), into a tempdir. Each case also has negative controls
//! (a changed byte, a missing signature, a missing file) that both verifiers must refuse,
//! so a verifier that accepted everything would fail these tests.
//!
//! External verifiers follow `support`'s policy: skipped with a message on a developer's
//! quick `cargo test`, required with `CI=true` or `TUF_CEREMONY_REQUIRE_ALL=1`.

mod support;

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use tuf_ceremony::signer::software::SoftwareKey;
use tuf_ceremony::signer::{Signer, sign_metadata};
use tuf_ceremony::tuf::bins::{HashBins, path_hash};
use tuf_ceremony::tuf::finding::Clients;
use tuf_ceremony::tuf::keys::{Algorithm, keyid, sha256_hex};
use tuf_ceremony::tuf::metadata::*;
use tuf_ceremony::tuf::write;

// ---------------------------------------------------------------------------------------
// Building repositories
// ---------------------------------------------------------------------------------------

fn new_key(alg: Algorithm, label: &str) -> SoftwareKey {
    SoftwareKey::generate(alg, label).unwrap_or_else(|e| panic!("generate {label}: {e}"))
}

fn pk(k: &SoftwareKey) -> Key {
    k.public_key().to_key()
}

fn kid(k: &SoftwareKey) -> String {
    keyid(&pk(k))
}

fn expiry() -> DateTime<Utc> {
    Utc::now() + Duration::days(365)
}

/// A target's content: every target in these repositories is listed with the sha256 and
/// length of these bytes (the verifiers report both, and the tests compare).
fn content(path: &str) -> Vec<u8> {
    format!("contents of {path}\n").into_bytes()
}

/// A consistent-snapshot repository being written into a tempdir.
struct Repo {
    dir: tempfile::TempDir,
    /// The clients the writer must satisfy for every file.
    must: Clients,
    /// `<role>.json` entries for snapshot, filled as targets roles are published.
    meta: BTreeMap<String, MetaFile>,
}

impl Repo {
    fn new(must: Clients) -> Repo {
        Repo { dir: tempfile::Builder::new().prefix("interop-").tempdir().unwrap(), must, meta: BTreeMap::new() }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Signs with every signer (in order), encodes through the checked writer, writes `name`.
    fn publish(&self, name: &str, signed: Signed, signers: &mut [&mut SoftwareKey]) -> Vec<u8> {
        let md = signed_md(signed, signers);
        let bytes = write(&md, self.must).unwrap_or_else(|e| panic!("{name}: {e}"));
        std::fs::write(self.file(name), &bytes).unwrap();
        bytes
    }

    fn root(&self, root: Root, signers: &mut [&mut SoftwareKey]) {
        let name = format!("{}.root.json", root.header.version);
        self.publish(&name, Signed::Root(root), signers);
    }

    /// Publishes `V.<role>.json` (top-level `targets` or a delegated role) and lists it in
    /// snapshot.
    fn targets(&mut self, role: &str, t: Targets, signers: &mut [&mut SoftwareKey]) {
        let v = t.header.version;
        self.publish(&format!("{v}.{role}.json"), Signed::Targets(t), signers);
        self.meta.insert(format!("{role}.json"), MetaFile::version_only(v));
    }

    /// Snapshot listing every role published (version only), timestamp with the length
    /// and hashes of the exact snapshot bytes.
    fn finish(&mut self, snapshot: &mut SoftwareKey, timestamp: &mut SoftwareKey) {
        let snap = Snapshot { header: Header::new(1, expiry()), meta: std::mem::take(&mut self.meta), extra: Default::default() };
        let snap_bytes = self.publish("1.snapshot.json", Signed::Snapshot(snap), &mut [snapshot]);
        let ts = Timestamp {
            header: Header::new(1, expiry()),
            meta: BTreeMap::from([("snapshot.json".to_string(), MetaFile::from_data(1, &snap_bytes))]),
            extra: Default::default(),
        };
        self.publish("timestamp.json", Signed::Timestamp(ts), &mut [timestamp]);
    }
}

fn signed_md(signed: Signed, signers: &mut [&mut SoftwareKey]) -> Metadata {
    let mut md = Metadata::new(signed);
    for s in signers.iter_mut() {
        sign_metadata(&mut md, &mut **s).unwrap_or_else(|e| panic!("sign with {}: {e}", s.describe()));
    }
    md
}

/// A targets role listing `paths` (contents from `content`).
fn targets_with(version: u64, paths: &[&str]) -> Targets {
    let mut t = Targets::new(version, expiry());
    for p in paths {
        t.targets.insert(p.to_string(), TargetFile::from_data(&content(p)));
    }
    t
}

/// Online keys of the top-level roles other than root.
struct TopKeys {
    targets: SoftwareKey,
    snapshot: SoftwareKey,
    timestamp: SoftwareKey,
}

impl TopKeys {
    fn new(alg: Algorithm) -> TopKeys {
        TopKeys { targets: new_key(alg, "targets"), snapshot: new_key(alg, "snapshot"), timestamp: new_key(alg, "timestamp") }
    }

    /// A root with `root_keys` for root (threshold `threshold`) and these keys for the rest.
    fn root(&self, version: u64, root_keys: &[&SoftwareKey], threshold: u64) -> Root {
        let mut r = Root::new(version, expiry());
        for k in root_keys {
            r.add_key("root", pk(k));
        }
        r.set_threshold("root", threshold);
        r.add_key("targets", pk(&self.targets));
        r.add_key("snapshot", pk(&self.snapshot));
        r.add_key("timestamp", pk(&self.timestamp));
        r
    }
}

/// The simplest complete repository: one root, targets listing `paths`, snapshot, timestamp.
fn simple_repo(must: Clients, root: Root, root_signers: &mut [&mut SoftwareKey], top: &mut TopKeys, paths: &[&str]) -> Repo {
    let mut repo = Repo::new(must);
    repo.root(root, root_signers);
    repo.targets("targets", targets_with(1, paths), &mut [&mut top.targets]);
    repo.finish(&mut top.snapshot, &mut top.timestamp);
    repo
}

// ---------------------------------------------------------------------------------------
// Running the verifiers
// ---------------------------------------------------------------------------------------

/// What one verifier said about one repository.
struct Verdict {
    who: &'static str,
    ok: bool,
    out: String,
}

/// Target expectations, passed to both verifiers as `--target` / `--expect-missing`.
#[derive(Default, Clone)]
struct Expect {
    found: Vec<String>,
    missing: Vec<String>,
}

impl Expect {
    fn found(paths: &[&str]) -> Expect {
        Expect { found: paths.iter().map(|s| s.to_string()).collect(), missing: Vec::new() }
    }
    fn missing(mut self, paths: &[&str]) -> Expect {
        self.missing.extend(paths.iter().map(|s| s.to_string()));
        self
    }
    fn args(&self) -> Vec<OsString> {
        let mut a = Vec::new();
        for p in &self.found {
            a.push("--target".into());
            a.push(p.into());
        }
        for p in &self.missing {
            a.push("--expect-missing".into());
            a.push(p.into());
        }
        a
    }
}

/// python-tuf on `dir`, bootstrapped from `dir/1.root.json`. `None` when skipped.
fn python_tuf(dir: &Path, expect: &Expect) -> Option<Verdict> {
    let py = support::python()?;
    let mut args: Vec<OsString> = vec![dir.as_os_str().to_owned()];
    args.extend(expect.args());
    let refs: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let t = std::time::Instant::now();
    let (ok, out) = support::run_python(&py, "verify_repo.py", &refs);
    eprintln!("---- python-tuf on {} ({:.1?}) ----\n{out}", dir.display(), t.elapsed());
    Some(Verdict { who: "python-tuf", ok, out })
}

/// tough on `dir`, trusting `dir/1.root.json`. `None` when skipped.
fn tough(dir: &Path, expect: &Expect) -> Option<Verdict> {
    let exe = support::tough_check()?;
    let mut args: Vec<OsString> = vec!["--root".into(), dir.join("1.root.json").into(), "--metadata-dir".into(), dir.into()];
    args.extend(expect.args());
    let refs: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let t = std::time::Instant::now();
    let (ok, out) = support::run_tough_check(&exe, &refs);
    eprintln!("---- tough on {} ({:.1?}) ----\n{out}", dir.display(), t.elapsed());
    Some(Verdict { who: "tough", ok, out })
}

/// The verifier accepted the repository and reported each expected target with the
/// length and sha256 of its content.
fn accepted(v: Option<Verdict>, expect: &Expect) {
    let Some(v) = v else { return };
    assert!(v.ok, "{} rejected the repository:\n{}", v.who, v.out);
    for p in &expect.found {
        let data = content(p);
        let line = format!("FOUND {p} length={} sha256={}", data.len(), sha256_hex(&data));
        assert!(v.out.contains(&line), "{} did not report {line:?}:\n{}", v.who, v.out);
    }
    for p in &expect.missing {
        assert!(v.out.contains(&format!("MISSING {p}")), "{} did not report {p} missing:\n{}", v.who, v.out);
    }
}

/// The verifier refused the repository, and its output mentions every one of `because`
/// (so it failed for the reason the control introduced, not another).
fn rejected(v: Option<Verdict>, because: &[&str]) -> Option<String> {
    let v = v?;
    assert!(!v.ok, "{} ACCEPTED a repository it must refuse:\n{}", v.who, v.out);
    for b in because {
        assert!(v.out.contains(b), "{} failed, but its output does not mention {b:?}:\n{}", v.who, v.out);
    }
    Some(v.out)
}

fn both_accept(dir: &Path, expect: &Expect) {
    accepted(python_tuf(dir, expect), expect);
    accepted(tough(dir, expect), expect);
}

/// Changes one digit inside the signed part of `file` (the first `"length": N` value), so
/// the JSON still parses but no signature over it verifies.
fn tamper_length(file: &Path) {
    let mut bytes = std::fs::read(file).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let at = text.find("\"length\": ").unwrap_or_else(|| panic!("no length in {}", file.display())) + "\"length\": ".len();
    bytes[at] = if bytes[at] == b'1' { b'2' } else { b'1' };
    std::fs::write(file, bytes).unwrap();
}

// ---------------------------------------------------------------------------------------
// Root key types and thresholds
// ---------------------------------------------------------------------------------------

#[test]
fn ed25519_repository_is_accepted_by_python_tuf_and_tough() {
    let mut r1 = new_key(Algorithm::Ed25519, "root-1");
    let mut top = TopKeys::new(Algorithm::Ed25519);
    let root = top.root(1, &[&r1], 1);
    let paths = ["hello.txt", "files/world.txt"];
    let repo = simple_repo(Clients::ALL, root, &mut [&mut r1], &mut top, &paths);
    both_accept(repo.path(), &Expect::found(&paths).missing(&["not/listed.txt"]));

    // Negative control: one changed digit in the signed part of targets.
    tamper_length(&repo.file("1.targets.json"));
    let e = Expect::found(&paths);
    rejected(python_tuf(repo.path(), &e), &["1.targets.json: not verified as 'targets'", "UnsignedMetadataError"]);
    rejected(tough(repo.path(), &e), &["Failed to verify targets metadata: Signature threshold of 1 not met for role targets (0 valid signatures)"]);
}

#[test]
fn ecdsa_p256_repository_is_accepted_by_python_tuf_and_tough() {
    let mut r1 = new_key(Algorithm::EcdsaP256, "root-1");
    let mut top = TopKeys::new(Algorithm::EcdsaP256);
    let root = top.root(1, &[&r1], 1);
    let paths = ["ecdsa/signed-by-p256.bin"];
    let repo = simple_repo(Clients::ALL, root, &mut [&mut r1], &mut top, &paths);
    let text = std::fs::read_to_string(repo.file("1.root.json")).unwrap();
    assert_eq!(text.matches("\"scheme\": \"ecdsa-sha2-nistp256\"").count(), 4, "root should hold four P-256 keys");
    both_accept(repo.path(), &Expect::found(&paths));

    // Negative control: a changed byte in timestamp's signed part.
    let ts = repo.file("timestamp.json");
    let text = std::fs::read_to_string(&ts).unwrap();
    std::fs::write(&ts, text.replacen("\"version\": 1", "\"version\": 2", 1)).unwrap();
    rejected(python_tuf(repo.path(), &Expect::default()), &["timestamp.json: not verified as 'timestamp'"]);
    rejected(tough(repo.path(), &Expect::default()), &["Failed to verify timestamp metadata: Signature threshold of 1 not met for role timestamp"]);
}

#[test]
fn mixed_two_of_three_thresholds_are_accepted_and_one_of_three_is_not() {
    // Root and targets: 2 of {ed25519, P-256, ed25519}, signed by one of each type.
    let mut ra = new_key(Algorithm::Ed25519, "root-a");
    let mut rb = new_key(Algorithm::EcdsaP256, "root-b");
    let rc = new_key(Algorithm::Ed25519, "root-c");
    let mut ta = new_key(Algorithm::EcdsaP256, "targets-a");
    let tb = new_key(Algorithm::Ed25519, "targets-b");
    let mut tc = new_key(Algorithm::Ed25519, "targets-c");
    let mut top = TopKeys::new(Algorithm::Ed25519);
    let mut root = top.root(1, &[&ra, &rb, &rc], 2);
    for k in [&ta, &tb, &tc] {
        root.add_key("targets", pk(k));
    }
    root.set_threshold("targets", 2);
    // TopKeys::root added top.targets as well: drop it, so exactly these three count.
    let online = kid(&top.targets);
    root.roles.get_mut("targets").unwrap().keyids.retain(|k| *k != online);
    root.keys.remove(&online);
    assert_eq!(root.roles["targets"].keyids.len(), 3);
    assert_eq!(root.roles["root"].keyids.len(), 3);

    let paths = ["threshold/two-of-three.txt"];
    let mut repo = Repo::new(Clients::ALL);
    repo.root(root.clone(), &mut [&mut ra, &mut rb]);
    repo.targets("targets", targets_with(1, &paths), &mut [&mut ta, &mut tc]);
    repo.finish(&mut top.snapshot, &mut top.timestamp);
    both_accept(repo.path(), &Expect::found(&paths));

    // Negative control: the same root signed by only one of the three.
    let under = Repo::new(Clients::ALL);
    under.root(root, &mut [&mut rb]);
    std::fs::copy(repo.file("1.targets.json"), under.file("1.targets.json")).unwrap();
    std::fs::copy(repo.file("1.snapshot.json"), under.file("1.snapshot.json")).unwrap();
    std::fs::copy(repo.file("timestamp.json"), under.file("timestamp.json")).unwrap();
    rejected(python_tuf(under.path(), &Expect::default()), &["1.root.json NOT verified by itself (1/2, 1/2)", "Updater"]);
    rejected(
        tough(under.path(), &Expect::default()),
        &["Failed to verify trusted root metadata: Signature threshold of 2 not met for role root (1 valid signatures)"],
    );
}

#[test]
fn root_rotation_replacing_a_key_is_followed_by_both_clients() {
    // v1: root = 2 of {A, B}. v2: root = 2 of {A, C} (B replaced by C), and the timestamp
    // key rotated too, so a client that did not take v2 cannot verify timestamp.json.
    let mut a = new_key(Algorithm::Ed25519, "root-a");
    let mut b = new_key(Algorithm::EcdsaP256, "root-b");
    let mut c = new_key(Algorithm::Ed25519, "root-c");
    let mut top = TopKeys::new(Algorithm::Ed25519);
    let old_ts = kid(&top.timestamp);
    let v1 = top.root(1, &[&a, &b], 2);
    top.timestamp = new_key(Algorithm::EcdsaP256, "timestamp-2");
    let v2 = top.root(2, &[&a, &c], 2);
    assert!(!v2.keys.contains_key(&old_ts) && !v2.keys.contains_key(&kid(&b)));

    let paths = ["rotated/after-rotation.txt"];
    let mut repo = Repo::new(Clients::ALL);
    repo.root(v1, &mut [&mut a, &mut b]);
    // 2.root.json: threshold of the old root (A, B) and of the new one (A, C).
    repo.root(v2.clone(), &mut [&mut a, &mut b, &mut c]);
    repo.targets("targets", targets_with(1, &paths), &mut [&mut top.targets]);
    repo.finish(&mut top.snapshot, &mut top.timestamp);
    let expect = Expect::found(&paths);
    let py = python_tuf(repo.path(), &expect);
    if let Some(v) = &py {
        assert!(v.out.contains("2.root.json verified by root v1 and itself (2/2, 2/2)"), "{}", v.out);
        assert!(v.out.contains("fetched roots ['2.root.json']"), "the Updater did not take root v2:\n{}", v.out);
    }
    accepted(py, &expect);
    let t = tough(repo.path(), &expect);
    if let Some(v) = &t {
        assert!(v.out.contains("loaded root v2"), "{}", v.out);
    }
    accepted(t, &expect);

    // Negative control: 2.root.json signed only by the new keys (A, C): the old root's
    // threshold (2 of A, B) is not met, so neither client may take it.
    repo.root(v2, &mut [&mut a, &mut c]);
    rejected(python_tuf(repo.path(), &expect), &["2.root.json NOT verified by root v1 and itself (1/2, 2/2)", "Updater.refresh() failed"]);
    rejected(tough(repo.path(), &expect), &["Failed to verify root metadata: Signature threshold of 2 not met for role root (1 valid signatures)"]);
}

#[test]
fn p384_root_key_is_python_tuf_only_and_the_writer_refuses_it_for_tough() {
    // tough 0.19's key schema knows ECDSA only as P-256 (its key decoder checks the P-256
    // curve OID, its only ECDSA scheme is ecdsa-sha2-nistp256, verification is aws-lc-rs
    // ECDSA_P256_SHA256_ASN1): a P-384 key is a parse error for the whole root, so no tough
    // client can even start from such a root.
    // python-tuf (securesystemslib) and go-tuf verify P-384.
    let mut r384 = new_key(Algorithm::EcdsaP384, "root-p384");
    let mut top = TopKeys::new(Algorithm::Ed25519);
    let root = top.root(1, &[&r384], 1);
    let md = signed_md(Signed::Root(root.clone()), &mut [&mut r384]);
    let refused = write(&md, Clients::ALL).expect_err("the writer must refuse a P-384 root when tough must accept it");
    assert!(refused.findings.iter().any(|f| f.code == "key-p384" && f.rejected_by.tough), "{refused}");
    assert!(refused.findings.iter().all(|f| !f.rejected_by.python_tuf), "only tough should object: {refused}");
    write(&md, Clients::PYTHON.or(Clients::GO)).expect("python-tuf and go-tuf accept P-384");

    let paths = ["p384/root-signed-by-p384.txt"];
    let repo = simple_repo(Clients::PYTHON.or(Clients::GO), root, &mut [&mut r384], &mut top, &paths);
    assert!(std::fs::read_to_string(repo.file("1.root.json")).unwrap().contains("ecdsa-sha2-nistp384"));
    let expect = Expect::found(&paths);
    accepted(python_tuf(repo.path(), &expect), &expect);
    // tough fails, and on the key itself (not on something incidental): its ECDSA key
    // decoder accepts only a SubjectPublicKeyInfo with the P-256 curve OID.
    rejected(tough(repo.path(), &expect), &["Failed to parse trusted root metadata: Invalid SubjectPublicKeyInfo document"]);
}

// ---------------------------------------------------------------------------------------
// Delegations: PEP 480 tree and PEP 458 hashed bins
// ---------------------------------------------------------------------------------------

/// PEP 480-style tree:
///
/// ```text
/// targets ─┬─ claimed (terminating; django/*, requests/*, flask/*) ─┬─ django
///          │                                                       ├─ requests
///          │                                                       └─ flask
///          ├─ recently-claimed (*/*)
///          └─ unclaimed (*/*) ── 32 hashed bins (00-07 … f8-ff)
/// ```
#[test]
fn pep480_delegation_tree_is_accepted_by_python_tuf_and_tough() {
    let exp = expiry();
    let mut root_key = new_key(Algorithm::Ed25519, "root");
    let mut top = TopKeys::new(Algorithm::Ed25519);
    let mut claimed = new_key(Algorithm::EcdsaP256, "claimed");
    let mut recent = new_key(Algorithm::Ed25519, "recently-claimed");
    let mut unclaimed = new_key(Algorithm::Ed25519, "unclaimed");
    let mut bin_key = new_key(Algorithm::Ed25519, "unclaimed-bins");
    let mut projects: Vec<(&str, SoftwareKey)> = vec![
        ("django", new_key(Algorithm::Ed25519, "django")),
        ("requests", new_key(Algorithm::EcdsaP256, "requests")),
        ("flask", new_key(Algorithm::Ed25519, "flask")),
    ];

    let mut repo = Repo::new(Clients::ALL);
    repo.root(top.root(1, &[&root_key], 1), &mut [&mut root_key]);

    let mut targets = targets_with(1, &["simple/index.html"]);
    let claimed_paths: Vec<String> = projects.iter().map(|(p, _)| format!("{p}/*")).collect();
    targets.delegate(DelegatedRole::with_paths("claimed", vec![kid(&claimed)], 1, true, claimed_paths), [pk(&claimed)]);
    targets.delegate(DelegatedRole::with_paths("recently-claimed", vec![kid(&recent)], 1, false, vec!["*/*".into()]), [pk(&recent)]);
    targets.delegate(DelegatedRole::with_paths("unclaimed", vec![kid(&unclaimed)], 1, false, vec!["*/*".into()]), [pk(&unclaimed)]);
    repo.targets("targets", targets, &mut [&mut top.targets]);

    // claimed -> one terminating role per project.
    let mut claimed_md = Targets::new(1, exp);
    for (p, k) in &projects {
        claimed_md.delegate(DelegatedRole::with_paths(p, vec![kid(k)], 1, true, vec![format!("{p}/*")]), [pk(k)]);
    }
    repo.targets("claimed", claimed_md, &mut [&mut claimed]);
    let project_targets = |p: &str| -> Vec<String> { vec![format!("{p}/{p}-1.0.tar.gz"), format!("{p}/{p}-1.0-py3-none-any.whl")] };
    for (p, k) in projects.iter_mut() {
        let paths = project_targets(p);
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        repo.targets(p, targets_with(1, &refs), &mut [k]);
    }

    repo.targets("recently-claimed", targets_with(1, &["newproject/newproject-0.1.tar.gz"]), &mut [&mut recent]);

    // unclaimed -> 32 hashed bins; every bin published, each target in the bin of its hash.
    let bins = HashBins::new(32).unwrap();
    let mut unclaimed_md = Targets::new(1, exp);
    for role in bins.roles(&[kid(&bin_key)], 1) {
        unclaimed_md.delegate(role, [pk(&bin_key)]);
    }
    repo.targets("unclaimed", unclaimed_md, &mut [&mut unclaimed]);
    // django/django-6.6-evil.tar.gz sits in an unclaimed bin although claimed owns django/*:
    // python-tuf must not find it (claimed is terminating); tough ignores `terminating`
    // (tuf-format.md §5.2) and does.
    let shadowed = "django/django-6.6-evil.tar.gz";
    let in_bins = ["someproject/someproject-2.0.tar.gz", "another/another-0.3-py3-none-any.whl", "zzz/zzz-1.0.zip", shadowed];
    let mut per_bin: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for p in in_bins {
        let b = bins.bin_for(p);
        assert!(bins.prefixes(b).iter().any(|x| path_hash(p).starts_with(x.as_str())));
        per_bin.entry(b).or_default().push(p);
    }
    for i in 0..bins.count() {
        let paths = per_bin.get(&i).cloned().unwrap_or_default();
        repo.targets(&bins.name(i), targets_with(1, &paths), &mut [&mut bin_key]);
    }
    repo.finish(&mut top.snapshot, &mut top.timestamp);
    assert_eq!(std::fs::read_dir(repo.path()).unwrap().count(), 1 + 1 + 1 + 3 + 1 + 1 + 32 + 1 + 1);

    let mut found: Vec<String> = vec!["simple/index.html".into(), "newproject/newproject-0.1.tar.gz".into()];
    for (p, _) in &projects {
        found.extend(project_targets(p));
    }
    found.extend(in_bins[..3].iter().map(|s| s.to_string()));
    let found_refs: Vec<&str> = found.iter().map(String::as_str).collect();
    let expect = Expect::found(&found_refs).missing(&["flask/not-released.tar.gz"]);

    let py_expect = expect.clone().missing(&[shadowed]);
    let py = python_tuf(repo.path(), &py_expect);
    if let Some(v) = &py {
        assert!(v.out.contains(&format!("ok: {} delegated roles verified by their delegators", 3 + 3 + 32)), "{}", v.out);
    }
    accepted(py, &py_expect);
    let mut tough_expect = expect.clone();
    tough_expect.found.push(shadowed.into());
    let t = tough(repo.path(), &tough_expect);
    if let Some(v) = &t {
        assert!(v.out.contains(&format!("delegated roles: {} ({} loaded)", 3 + 3 + 32, 3 + 3 + 32)), "{}", v.out);
    }
    accepted(t, &tough_expect);

    // Negative control: a changed byte in a project role two levels down.
    tamper_length(&repo.file("1.django.json"));
    let e = Expect::found(&["requests/requests-1.0.tar.gz", "django/django-1.0.tar.gz"]);
    let out = rejected(python_tuf(repo.path(), &e), &["1.django.json: not verified as 'django'", "get_targetinfo('django/django-1.0.tar.gz') failed"]);
    if let Some(out) = out {
        // The lazy client still resolves targets that do not pass through django.
        assert!(out.contains("FOUND requests/requests-1.0.tar.gz"), "{out}");
        assert!(!out.contains("FOUND django/"), "{out}");
    }
    // tough reports every delegated role's threshold failure as "role targets" (its
    // `Delegations::verify_role` always names RoleType::Targets); only django was changed.
    rejected(tough(repo.path(), &Expect::default()), &["Signature threshold of 1 not met for role targets (0 valid signatures)"]);
}

/// PEP 458: targets -> bins -> 16384 hashed bins (the most PEP 458 asks for). tough loads
/// all 16386 targets files; python-tuf's Updater visits targets, bins and one bin.
#[test]
fn pep458_16384_hashed_bins_are_accepted_by_python_tuf_and_tough() {
    let started = std::time::Instant::now();
    let mut root_key = new_key(Algorithm::Ed25519, "root");
    let mut top = TopKeys::new(Algorithm::Ed25519);
    let mut bins_key = new_key(Algorithm::EcdsaP256, "bins");
    let mut bin_n = new_key(Algorithm::Ed25519, "bin-n");

    let mut repo = Repo::new(Clients::ALL);
    repo.root(top.root(1, &[&root_key], 1), &mut [&mut root_key]);
    let mut targets = Targets::new(1, expiry());
    let any_depth: Vec<String> = (1..=4).map(|n| vec!["*"; n].join("/")).collect();
    targets.delegate(DelegatedRole::with_paths("bins", vec![kid(&bins_key)], 1, false, any_depth), [pk(&bins_key)]);
    repo.targets("targets", targets, &mut [&mut top.targets]);

    let bins = HashBins::new(16384).unwrap();
    let mut bins_md = Targets::new(1, expiry());
    let roles = bins.roles(&[kid(&bin_n)], 1);
    assert_eq!(roles.len(), 16384);
    bins_md.delegations =
        Some(Delegations { keys: BTreeMap::from([(kid(&bin_n), pk(&bin_n))]), roles: DelegatedRoles::Roles(roles), extra: Default::default() });
    repo.targets("bins", bins_md, &mut [&mut bins_key]);

    let paths = ["example/example-1.0.tar.gz", "packages/ab/cd/sample-2.0-py3-none-any.whl", "top-level.txt", "a/b/c/d"];
    let mut per_bin: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for p in paths {
        per_bin.entry(bins.bin_for(p)).or_default().push(p);
    }
    for i in 0..bins.count() {
        let inside = per_bin.get(&i).cloned().unwrap_or_default();
        repo.targets(&bins.name(i), targets_with(1, &inside), &mut [&mut bin_n]);
    }
    repo.finish(&mut top.snapshot, &mut top.timestamp);
    let size = |f: &str| std::fs::metadata(repo.file(f)).unwrap().len();
    eprintln!(
        "16384-bin repository written in {:.1?}: 1.bins.json {} bytes, 1.snapshot.json {} bytes, timestamp.json {} bytes",
        started.elapsed(),
        size("1.bins.json"),
        size("1.snapshot.json"),
        size("timestamp.json")
    );
    // Snapshot lists no length for bins, so the clients' default caps apply: python-tuf
    // 5,000,000 bytes for a targets file, tough 10 MiB. (Snapshot itself is fetched with
    // the length timestamp lists, so its default caps do not apply.)
    assert!(size("1.bins.json") < 5_000_000, "bins role over python-tuf's default targets_max_length");

    let expect = Expect::found(&paths).missing(&["example/example-9.9.tar.gz"]);
    let py = python_tuf(repo.path(), &expect);
    if let Some(v) = &py {
        assert!(v.out.contains("ok: 16385 delegated roles verified by their delegators"), "{}", v.out);
    }
    accepted(py, &expect);
    let t = tough(repo.path(), &expect);
    if let Some(v) = &t {
        assert!(v.out.contains("delegated roles: 16385 (16385 loaded)"), "{}", v.out);
    }
    accepted(t, &expect);
    eprintln!("16384-bin repository verified by both in {:.1?} in all", started.elapsed());

    // Negative control: remove one empty bin's file. tough loads every role eagerly and
    // must refuse the whole repository; python-tuf's static pass reports the missing file
    // (its lazy Updater still finds the targets, which do not pass through that bin).
    let empty = (0..bins.count()).find(|i| !per_bin.contains_key(i)).unwrap();
    let gone = format!("1.{}.json", bins.name(empty));
    std::fs::remove_file(repo.file(&gone)).unwrap();
    let out = rejected(python_tuf(repo.path(), &expect), &[&format!("{gone} is missing")]);
    if let Some(out) = out {
        assert!(out.contains(&format!("FOUND {}", paths[0])), "{out}");
    }
    rejected(tough(repo.path(), &expect), &[&bins.name(empty)]);
}
