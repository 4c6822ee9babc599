//! The writer reproduces every byte of python-tuf 7.0.1's deterministic vectors
//! (fixtures/tuf-vectors, made by gen_vectors.py) from the same keys and fields, and the
//! reader round-trips and verifies them.

use chrono::{TimeZone, Utc};
use std::collections::BTreeMap;
use std::path::PathBuf;
use tuf_ceremony::signer::software::{SecretKey, SoftwareKey};
use tuf_ceremony::signer::{Signer, sign_metadata};
use tuf_ceremony::tuf::finding::Clients;
use tuf_ceremony::tuf::metadata::*;
use tuf_ceremony::tuf::verify::{check_delegated, check_top_level};
use tuf_ceremony::tuf::{keys, write};

fn vector(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/tuf-vectors").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn key(seed: u8) -> SoftwareKey {
    SoftwareKey::from_secret(SecretKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32])), format!("seed{seed}"))
}

/// Signs, writes through the checked writer (all three clients), and compares with the vector.
fn emit(signed: Signed, signer: &mut SoftwareKey, name: &str) -> Vec<u8> {
    let mut md = Metadata::new(signed);
    sign_metadata(&mut md, signer).unwrap();
    let must = if name.starts_with("succinct") { Clients::PYTHON.or(Clients::GO) } else { Clients::ALL };
    let bytes = write(&md, must).unwrap();
    assert_eq!(md.signed_bytes(), vector(&format!("{name}.canonical")), "{name}: canonical bytes");
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), String::from_utf8(vector(name)).unwrap(), "{name}: file bytes");
    bytes
}

#[test]
fn writer_reproduces_python_tuf_vectors_byte_for_byte() {
    let exp = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let (mut k_root, k_ts, k_snap, k_targets, mut k_deleg, mut k_bins) = (key(1), key(2), key(3), key(4), key(5), key(6));
    let (mut k_ts, mut k_snap, mut k_targets) = (k_ts, k_snap, k_targets);
    let pk = |k: &SoftwareKey| k.public_key().to_key();

    let mut root = Root::new(1, exp);
    for (role, k) in [("root", &k_root), ("timestamp", &k_ts), ("snapshot", &k_snap), ("targets", &k_targets)] {
        root.add_key(role, pk(k));
    }
    emit(Signed::Root(root), &mut k_root, "1.root.json");

    let mut projects = Targets::new(1, exp);
    projects.targets.insert("projects/a.txt".into(), TargetFile::from_data(b"a\n"));
    emit(Signed::Targets(projects), &mut k_deleg, "1.projects.json");
    emit(Signed::Targets(Targets::new(1, exp)), &mut k_deleg, "1.bin-00.json");

    let dk = pk(&k_deleg);
    let did = keys::keyid(&dk);
    let mut targets = Targets::new(1, exp);
    targets.targets.insert("files/hello.txt".into(), TargetFile::from_data(b"hello world\n"));
    targets.delegate(DelegatedRole::with_paths("projects", vec![did.clone()], 1, true, vec!["projects/*".into(), "projects/*/*".into()]), [dk.clone()]);
    targets.delegate(
        DelegatedRole {
            name: "bin-00".into(),
            keyids: vec![did],
            threshold: 1,
            terminating: Some(false),
            paths: PathSpec::HashPrefixes(vec!["00".into(), "01".into()]),
            extra: Default::default(),
        },
        [],
    );
    emit(Signed::Targets(targets), &mut k_targets, "1.targets.json");

    let bk = pk(&k_bins);
    let mut succ = Targets::new(1, exp);
    succ.delegations = Some(Delegations {
        keys: BTreeMap::from([(keys::keyid(&bk), bk.clone())]),
        roles: DelegatedRoles::Succinct(SuccinctRoles {
            keyids: vec![keys::keyid(&bk)],
            threshold: 1,
            bit_length: 4,
            name_prefix: "bin".into(),
            extra: Default::default(),
        }),
        extra: Default::default(),
    });
    emit(Signed::Targets(succ), &mut k_bins, "succinct_example.targets.json");

    let mut snap = Snapshot { header: Header::new(1, exp), meta: BTreeMap::new(), extra: Default::default() };
    for n in ["targets.json", "projects.json", "bin-00.json"] {
        snap.meta.insert(n.into(), MetaFile::version_only(1));
    }
    let sb = emit(Signed::Snapshot(snap), &mut k_snap, "1.snapshot.json");
    let ts =
        Timestamp { header: Header::new(1, exp), meta: BTreeMap::from([("snapshot.json".into(), MetaFile::from_data(1, &sb))]), extra: Default::default() };
    emit(Signed::Timestamp(ts), &mut k_ts, "timestamp.json");
}

#[test]
fn reader_round_trips_and_verifies_every_vector() {
    let root_md = Metadata::from_bytes(&vector("1.root.json"), Mode::Strict).unwrap();
    let root = root_md.signed.as_root().unwrap();
    let targets_md = Metadata::from_bytes(&vector("1.targets.json"), Mode::Strict).unwrap();
    let targets = targets_md.signed.as_targets().unwrap();
    for name in ["1.root.json", "1.targets.json", "1.snapshot.json", "timestamp.json", "1.projects.json", "1.bin-00.json", "succinct_example.targets.json"] {
        let bytes = vector(name);
        let md = Metadata::from_bytes(&bytes, Mode::Strict).unwrap();
        assert_eq!(md.to_pretty_bytes(), bytes, "{name} re-encodes to the same bytes");
        assert_eq!(md.signed_bytes(), vector(&format!("{name}.canonical")), "{name} canonical");
        let payload = md.signed_bytes();
        let check = match name {
            "1.projects.json" => check_delegated(targets, "projects", &md, &payload, false),
            "1.bin-00.json" => check_delegated(targets, "bin-00", &md, &payload, false),
            "succinct_example.targets.json" => continue,
            _ => check_top_level(root, md.signed.type_name(), &md, &payload, false),
        }
        .unwrap();
        assert!(check.met(), "{name}: {check:?}");
    }
}

#[test]
fn a_changed_byte_breaks_the_signature() {
    let mut bytes = vector("1.root.json");
    let at = String::from_utf8_lossy(&bytes).find("2030-01-01").unwrap();
    bytes[at + 3] = b'1';
    let md = Metadata::from_bytes(&bytes, Mode::Strict).unwrap();
    let root = md.signed.as_root().unwrap();
    let check = check_top_level(root, "root", &md, &md.signed_bytes(), false).unwrap();
    assert_eq!(check.valid(), 0);
}
