//! Sigstore's real published root chain (../shared/fixtures/real/sigstore-root-chain): the core must
//! reproduce the known facts in fixtures/README.md — 5→15 verifies strictly, v11's keyid
//! mismatch is found, 1–4 parse only in lenient mode, and leniently every step 1→15
//! verifies with exactly the published signature counts.

mod support;

use tuf_ceremony::tuf::finding::Severity;
use tuf_ceremony::tuf::metadata::{Metadata, Mode};
use tuf_ceremony::tuf::rules;
use tuf_ceremony::tuf::verify::{check_root_rotation, check_top_level};

fn load(v: u32) -> Vec<u8> {
    std::fs::read(support::real(&format!("sigstore-root-chain/{v}.root.json"))).unwrap()
}

/// (own valid, previous valid) per version, threshold 3 throughout (fixtures/README.md).
const COUNTS: [(u32, u64, Option<u64>); 15] = [
    (1, 5, None),
    (2, 5, Some(5)),
    (3, 3, Some(3)),
    (4, 5, Some(4)),
    (5, 4, Some(4)),
    (6, 5, Some(5)),
    (7, 4, Some(4)),
    (8, 4, Some(4)),
    (9, 5, Some(5)),
    (10, 5, Some(5)),
    (11, 5, Some(5)),
    (12, 3, Some(3)),
    (13, 5, Some(4)),
    (14, 4, Some(4)),
    (15, 5, Some(5)),
];

#[test]
fn versions_1_to_4_need_lenient_mode_and_say_why() {
    let Some(_) = support::shared_real() else { return };
    for v in 1..=4 {
        let err = Metadata::from_bytes(&load(v), Mode::Strict).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("hex-encoded") || text.contains("expires"), "v{v}: {text}");
        assert!(Metadata::from_bytes(&load(v), Mode::Lenient).is_ok(), "v{v} lenient");
    }
    // v1's first problem is its offset/fractional expiry; v4's is a hex key.
    assert!(Metadata::from_bytes(&load(1), Mode::Strict).unwrap_err().path.to_string().ends_with("signed.expires"));
    assert!(Metadata::from_bytes(&load(4), Mode::Strict).unwrap_err().to_string().contains("hex-encoded"));
}

#[test]
fn chain_5_to_15_verifies_strictly_with_published_counts() {
    let Some(_) = support::shared_real() else { return };
    let mut prev = Metadata::from_bytes(&load(5), Mode::Strict).unwrap();
    let own = check_top_level(prev.signed.as_root().unwrap(), "root", &prev, &prev.signed_bytes(), false).unwrap();
    assert_eq!((own.valid(), own.threshold), (4, 3));
    for v in 6..=15 {
        let next = Metadata::from_bytes(&load(v), Mode::Strict).unwrap();
        let rc = check_root_rotation(prev.signed.as_root().unwrap(), &next, &next.signed_bytes(), false).unwrap();
        let (_, own, previous) = COUNTS[(v - 1) as usize];
        assert!(rc.ok(), "v{v}: {rc:?}");
        assert_eq!(rc.by_self.valid(), own, "v{v} own");
        assert_eq!(Some(rc.by_previous.valid()), previous, "v{v} previous");
        prev = next;
    }
}

#[test]
fn lenient_chain_1_to_15_reproduces_every_count() {
    let Some(_) = support::shared_real() else { return };
    let mut prev: Option<Metadata> = None;
    for (v, own, previous) in COUNTS {
        let md = Metadata::from_bytes(&load(v), Mode::Lenient).unwrap();
        let payload = md.signed_bytes();
        let self_check = check_top_level(md.signed.as_root().unwrap(), "root", &md, &payload, true).unwrap();
        assert_eq!((self_check.valid(), self_check.threshold), (own, 3), "v{v} own");
        if let Some(p) = &prev {
            let rc = check_root_rotation(p.signed.as_root().unwrap(), &md, &payload, true).unwrap();
            assert!(rc.version_ok());
            assert_eq!(Some(rc.by_previous.valid()), previous, "v{v} previous");
        }
        prev = Some(md);
    }
}

#[test]
fn version_4_to_5_does_not_verify_strictly_reading_4_leniently() {
    let Some(_) = support::shared_real() else { return };
    // The same YubiKeys got new keyids when keys moved from hex to PEM.
    let v4 = Metadata::from_bytes(&load(4), Mode::Lenient).unwrap();
    let v5 = Metadata::from_bytes(&load(5), Mode::Strict).unwrap();
    let rc = check_root_rotation(v4.signed.as_root().unwrap(), &v5, &v5.signed_bytes(), false).unwrap();
    assert_eq!(rc.by_previous.valid(), 0);
    assert!(!rc.ok());
}

#[test]
fn v11_keyid_mismatch_is_found_and_blamed_on_tough() {
    let Some(_) = support::shared_real() else { return };
    for v in 5..=15 {
        let md = Metadata::from_bytes(&load(v), Mode::Strict).unwrap();
        let findings = rules::check(&md, &md.signed_bytes());
        let mismatches: Vec<_> = findings.iter().filter(|f| f.code == "keyid-mismatch").collect();
        if v == 11 {
            assert_eq!(mismatches.len(), 1, "{findings:#?}");
            let f = mismatches[0];
            assert_eq!(f.severity, Severity::Error);
            assert!(f.path.to_string().contains("7247f0db"), "{}", f.path);
            assert_eq!(f.rejected_by.names(), vec!["tough"]);
        } else {
            assert!(mismatches.is_empty(), "v{v}: {mismatches:#?}");
        }
        // Legacy keyid_hash_algorithms is reported as a warning, never an error.
        assert!(findings.iter().filter(|f| f.code == "key-legacy-keyid-hash-algorithms").all(|f| f.severity == Severity::Warning));
    }
}

#[test]
fn newest_root_expired_before_today() {
    let Some(_) = support::shared_real() else { return };
    let md = Metadata::from_bytes(&load(15), Mode::Strict).unwrap();
    assert_eq!(md.signed.header().expires.as_str(), "2026-11-20T13:58:18Z");
    let today = chrono::DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z").unwrap();
    assert!(md.signed.header().expires.at() < today);
}

#[test]
fn reencoding_every_root_is_lossless() {
    let Some(_) = support::shared_real() else { return };
    for v in 1..=15 {
        let bytes = load(v);
        let md = Metadata::from_bytes(&bytes, Mode::Lenient).unwrap();
        let again = Metadata::from_bytes(&md.to_pretty_bytes(), Mode::Lenient).unwrap();
        assert_eq!(md, again, "v{v}");
    }
}
