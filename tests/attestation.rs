//! YubiKey PIV attestation (src/attest): Sigstore's real 2021-06-18 ceremony attestations
//! verify to the pinned Yubico root and bind to the root keys of 1.root.json; synthetic
//! chains (fixtures/attestation-synthetic, made by its make.sh) cover the negative cases, the
//! other signature algorithms, a five-level chain and a non-minimal serial INTEGER.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use p256::pkcs8::DecodePublicKey;
use tuf_ceremony::attest::{self, AttestError, AttestWarning, Attestation, Firmware, Holder, Layout, PinPolicy, Roots, TouchPolicy, bind, same_key};
use tuf_ceremony::tuf::finding::{Finding, Severity};
use tuf_ceremony::tuf::keys::PublicKey;
use tuf_ceremony::tuf::metadata::{Metadata, Mode};

const SERIALS: [u32; 5] = [13078778, 14454335, 14470876, 15938765, 15938791];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn read(p: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

fn sigstore_dir(serial: u32) -> PathBuf {
    support::real(&format!("sigstore-attestations/2021-06-18/keys/{serial}"))
}

/// (key certificate, device certificate, public key PEM) of one Sigstore YubiKey.
fn sigstore(serial: u32) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let d = sigstore_dir(serial);
    (read(d.join(format!("{serial}_key_cert.pem"))), read(d.join(format!("{serial}_device_cert.pem"))), read(d.join(format!("{serial}_pubkey.pem"))))
}

fn synth(name: &str) -> Vec<u8> {
    read(fixtures().join("attestation-synthetic").join(name))
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 15, 12, 0, 0).unwrap()
}

/// Inside the synthetic certificates' validity (made by make.sh for 100 years from the day it ran).
fn later() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap()
}

fn yubico() -> Roots {
    Roots::bundled().expect("bundled Yubico root matches its pin")
}

/// A trust store holding only the synthetic root `name` (pinned by its own fingerprint).
fn synthetic_roots(name: &str) -> Roots {
    let pem = synth(name);
    let mut r = Roots::empty();
    r.add_root(&pem, &attest::fingerprint(&pem).unwrap()).unwrap();
    r
}

/// Chain B's trust store: root-b, and the fingerprints of its two intermediates pinned (as
/// the bundled store pins Yubico's published ones), so the device file may carry them.
fn chain_b_roots() -> Roots {
    let mut r = synthetic_roots("root-b.pem");
    for i in ["piv-b.pem", "inter-b.pem"] {
        r.pin_intermediate(&attest::fingerprint(&synth(i)).unwrap());
    }
    r
}

fn sigstore_root(version: u32) -> BTreeMap<String, PublicKey> {
    let bytes = read(support::real(&format!("sigstore-root-chain/{version}.root.json")));
    let md = Metadata::from_bytes(&bytes, Mode::Lenient).unwrap();
    let root = md.signed.as_root().unwrap();
    root.keys.iter().map(|(id, k)| (id.clone(), PublicKey::from_key(k, true).unwrap())).collect()
}

fn codes(f: &[Finding], severity: Severity) -> Vec<&'static str> {
    f.iter().filter(|x| x.severity == severity).map(|x| x.code).collect()
}

fn count(f: &[Finding], code: &str) -> usize {
    f.iter().filter(|x| x.code == code).count()
}

fn pem_key(pem: &[u8]) -> PublicKey {
    let s = std::str::from_utf8(pem).unwrap();
    if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(s) {
        return PublicKey::P256(k);
    }
    if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_pem(s) {
        return PublicKey::P384(k);
    }
    if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(s) {
        return PublicKey::Ed25519(k);
    }
    PublicKey::RsaPss(Box::new(rsa::RsaPublicKey::from_public_key_pem(s).unwrap()))
}

fn sigstore_attestations() -> Vec<(String, Attestation)> {
    SERIALS
        .iter()
        .map(|s| {
            let (k, d, _) = sigstore(*s);
            (s.to_string(), attest::verify(&k, &d, &yubico(), now()).unwrap())
        })
        .collect()
}

// ---------------------------------------------------------------- real Sigstore data

#[test]
fn sigstore_chains_verify_to_the_pinned_yubico_root() {
    let Some(_) = support::shared_real() else { return };
    for serial in SERIALS {
        let (key, device, pubkey) = sigstore(serial);
        let a = attest::verify(&key, &device, &yubico(), now()).unwrap_or_else(|e| panic!("{serial}: {e}"));
        assert_eq!(a.serial, Some(serial), "serial equals the folder name");
        let fw = if serial == 13078778 { Firmware(5, 2, 6) } else { Firmware(5, 2, 7) };
        assert_eq!(a.firmware, Some(fw));
        assert_eq!(a.pin_policy, Some(PinPolicy::Always));
        assert_eq!(a.touch_policy, Some(TouchPolicy::Always));
        assert_eq!(a.form_factor.unwrap().name(), "USB-C keychain");
        assert_eq!(a.slot.as_deref(), Some("9c"));
        assert_eq!(a.warnings, vec![AttestWarning::Ysa202403(fw)], "{serial}: only the firmware advisory");
        assert_eq!(a.chain, ["CN=YubiKey PIV Attestation 9c", "CN=Yubico PIV Attestation", "CN=Yubico PIV Root CA Serial 263751"].map(String::from));
        assert_eq!(a.root_sha256, attest::roots::YUBICO_PIV_ROOT_SHA256);
        assert!(same_key(&a.public_key, &pem_key(&pubkey)), "{serial}: attested key is the published public key");
        assert!(a.warnings[0].to_string().contains("YSA-2024-03"));
        assert_eq!(
            a.to_string(),
            format!("serial {serial}, firmware {fw}, slot 9c, ecdsa-p256 key, PIN always, touch always, form factor USB-C keychain (0x03)")
        );
    }
}

#[test]
fn sigstore_keys_bind_to_the_five_root_keys_of_1_root_json() {
    let Some(_) = support::shared_real() else { return };
    let keys = sigstore_root(1); // hex-encoded ECDSA keys, decoded leniently
    let holders: Vec<Holder> = SERIALS.iter().map(|s| Holder::new(s.to_string(), Some(*s))).collect();
    let att = sigstore_attestations();
    let f = bind(&att, &keys, &holders);
    assert_eq!(codes(&f, Severity::Error), Vec::<&str>::new(), "{f:#?}");
    assert_eq!(count(&f, "attest-bound"), 5);
    assert_eq!(count(&f, "attest-firmware-ysa-2024-03"), 5);
    assert_eq!(f.len(), 10);
    // Each bound key is a distinct root-role key.
    let md = Metadata::from_bytes(&read(support::real("sigstore-root-chain/1.root.json")), Mode::Lenient).unwrap();
    let root_ids = &md.signed.as_root().unwrap().roles["root"].keyids;
    let mut bound: Vec<String> = f.iter().filter(|x| x.code == "attest-bound").map(|x| x.path.0.last().map(|s| format!("{s:?}")).unwrap()).collect();
    bound.sort();
    bound.dedup();
    assert_eq!(bound.len(), 5);
    for (_, a) in &att {
        let id = keys.iter().find(|(_, k)| same_key(k, &a.public_key)).unwrap().0;
        assert!(root_ids.contains(id), "{id} is a root key");
    }
}

#[test]
fn keys_move_to_pem_and_three_are_still_root_keys_in_15() {
    let Some(_) = support::shared_real() else { return };
    // 15.root.json writes the same YubiKey keys as PEM under new keyids: decoded-key
    // comparison still finds them; two of the five left the root.
    let f = bind(&sigstore_attestations(), &sigstore_root(15), &SERIALS.map(|s| Holder::new(s.to_string(), Some(s))));
    assert_eq!(count(&f, "attest-bound"), 3, "{f:#?}");
    assert_eq!(count(&f, "attest-key-not-in-metadata"), 2);
}

#[test]
fn swapped_device_certificate_fails() {
    let Some(_) = support::shared_real() else { return };
    let (key_a, device_a, _) = sigstore(13078778);
    let (key_b, device_b, _) = sigstore(14454335);
    for (key, device) in [(&key_a, &device_b), (&key_b, &device_a)] {
        let e = attest::verify(key, device, &yubico(), now()).unwrap_err();
        assert!(matches!(e, AttestError::BadSignature { .. }), "{e}");
        assert!(e.to_string().contains("key certificate"), "{e}");
    }
    // Fact about the data: 14454335, 14470876, 15938765 and 15938791 carry byte-identical
    // device certificates (one F9 key for that batch), so swapping among them is not
    // detectable, and the serial binding rests on the key certificate's extension.
    let (key_c, _, _) = sigstore(14470876);
    assert_eq!(attest::verify(&key_c, &device_b, &yubico(), now()).unwrap().serial, Some(14470876));
}

#[test]
fn validity_is_reported_not_fatal() {
    let Some(_) = support::shared_real() else { return };
    let (key, device, _) = sigstore(15938791);
    let later = attest::verify(&key, &device, &yubico(), Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap()).unwrap();
    let expired: Vec<_> = later.warnings.iter().filter(|w| matches!(w, AttestWarning::Expired { .. })).collect();
    assert_eq!(expired.len(), 3, "key, device and root certificates end in 2052");
    assert!(expired[0].to_string().contains("2052-04-17T00:00:00Z"));
    let early = attest::verify(&key, &device, &yubico(), Utc.with_ymd_and_hms(2010, 1, 1, 0, 0, 0).unwrap()).unwrap();
    assert_eq!(early.warnings.iter().filter(|w| matches!(w, AttestWarning::NotYetValid { .. })).count(), 3);
    let f = bind(&[("15938791".into(), later)], &sigstore_root(1), &[Holder::new("15938791", Some(15938791))]);
    assert_eq!(count(&f, "attest-cert-expired"), 3);
    assert_eq!(count(&f, "attest-bound"), 1);
}

#[test]
fn tampered_bytes_fail_and_never_panic() {
    let Some(_) = support::shared_real() else { return };
    let (key, device, _) = sigstore(14470876);
    let der = attest::der_certificates(&key).unwrap().remove(0);
    let device_der = attest::der_certificates(&device).unwrap().remove(0);
    // DER input works as well as PEM.
    assert!(attest::verify(&der, &device_der, &yubico(), now()).is_ok());
    // The last byte is inside the signature.
    let mut bad = der.clone();
    *bad.last_mut().unwrap() ^= 0x01;
    let e = attest::verify(&bad, &device, &yubico(), now()).unwrap_err();
    assert!(matches!(e, AttestError::BadSignature { .. }), "{e}");
    // Every single-bit change anywhere in the key certificate, and every truncation, fails.
    let mut outcomes = BTreeMap::<String, usize>::new();
    for i in 0..der.len() {
        let mut t = der.clone();
        t[i] ^= 0x01;
        let e = attest::verify(&t, &device, &yubico(), now()).expect_err(&format!("flip at {i} accepted"));
        *outcomes.entry(format!("{e:?}").split([' ', '{', '(']).next().unwrap().to_string()).or_default() += 1;
    }
    for n in 0..der.len() {
        assert!(attest::verify(&der[..n], &device, &yubico(), now()).is_err());
    }
    eprintln!("{} single-bit flips of the key certificate: {outcomes:?}", der.len());
    assert!(outcomes.get("BadSignature").copied().unwrap_or(0) > der.len() / 2, "{outcomes:?}");
    // The same for the device certificate (link device -> root).
    for i in 0..device_der.len() {
        let mut t = device_der.clone();
        t[i] ^= 0x01;
        assert!(attest::verify(&der, &t, &yubico(), now()).is_err(), "device flip at {i} accepted");
    }
}

#[test]
fn hostile_and_wrong_inputs_are_errors() {
    let Some(_) = support::shared_real() else { return };
    let (key, device, pubkey) = sigstore(13078778);
    let cases: [(&[u8], &[u8]); 7] = [
        (b"", &device),
        (b"\x30\x82\xff\xff", &device),
        (b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", &device),
        (b"-----BEGIN CERTIFICATE-----\nMIIB\n", &device),
        (&pubkey, &device),
        (&key, b"not a certificate"),
        (&device, &key), // roles reversed
    ];
    for (k, d) in cases {
        assert!(attest::verify(k, d, &yubico(), now()).is_err());
    }
    // Two key certificates in one file are refused rather than guessed between.
    let two = [key.clone(), key.clone()].concat();
    assert!(matches!(attest::verify(&two, &device, &yubico(), now()), Err(AttestError::Parse { .. })));
}

// ---------------------------------------------------------------- roots and pins

#[test]
fn root_pin_is_checked() {
    let Some(_) = support::shared_real() else { return };
    let pem = read(fixtures().join("yubico/yubico-piv-root-ca.pem"));
    assert_eq!(attest::fingerprint(&pem).unwrap(), attest::roots::YUBICO_PIV_ROOT_SHA256);
    // The bundled copy is the fixture.
    assert_eq!(pem, read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/attest/roots/yubico-piv-root-ca.pem")));
    let wrong = "00".repeat(32);
    assert!(matches!(Roots::empty().add_root(&pem, &wrong), Err(AttestError::PinMismatch { .. })));
    // A certificate Yubico did not publish is refused by add_published.
    assert!(matches!(Roots::empty().add_published(&synth("root-b.pem")), Err(AttestError::NotPublished { .. })));
    // The ≥ 5.7.4 root is known but not bundled.
    let new_root = attest::roots::YUBICO_PUBLISHED.iter().find(|p| p.subject_cn == "Yubico Attestation Root 1").unwrap();
    assert!(!new_root.bundled);
    // With no roots nothing is trusted.
    let (key, device, _) = sigstore(13078778);
    assert!(matches!(attest::verify(&key, &device, &Roots::empty(), now()), Err(AttestError::Untrusted { .. })));
}

#[test]
fn foreign_root_fails() {
    // Chain A's root copies the name of Yubico's root: names chain, the signature does not.
    let e = attest::verify(&synth("key-a-p256.pem"), &synth("device-a.pem"), &yubico(), later()).unwrap_err();
    assert!(matches!(e, AttestError::BadSignature { .. }), "{e}");
    assert!(e.to_string().contains("device certificate") && e.to_string().contains("Yubico PIV Root CA"), "{e}");
    // Chain B's root has its own name: no trusted issuer at all (and its device file's
    // intermediates are not Yubico's published ones).
    let e = attest::verify(&synth("key-b-p384.pem"), &synth("device-b.pem"), &yubico(), later()).unwrap_err();
    assert!(matches!(e, AttestError::Untrusted { .. }), "{e}");
    let e = attest::verify(&synth("key-b-p384.pem"), &synth("device-b-with-intermediates.pem"), &yubico(), later()).unwrap_err();
    assert!(matches!(e, AttestError::UnpinnedIntermediate { .. }), "{e}");
    // Positive controls: the same chains verify once their own root is pinned.
    assert!(attest::verify(&synth("key-a-p256.pem"), &synth("device-a.pem"), &synthetic_roots("root-impostor.pem"), later()).is_ok());
    assert!(attest::verify(&synth("key-b-p384.pem"), &synth("device-b-with-intermediates.pem"), &chain_b_roots(), later()).is_ok());
    // Both roots trusted: each chain still ends at its own root.
    let mut both = chain_b_roots();
    let imp = synth("root-impostor.pem");
    both.add_root(&imp, &attest::fingerprint(&imp).unwrap()).unwrap();
    let a = attest::verify(&synth("key-a-p256.pem"), &synth("device-a.pem"), &both, later()).unwrap();
    assert_eq!(a.root_sha256, attest::fingerprint(&imp).unwrap());
}

#[test]
fn non_minimal_serial_integer_parses_and_old_f9_without_ca_flag_is_accepted() {
    // device-a has no basicConstraints at all (like old F9 certificates); the key
    // certificate's serial is 02 04 00 12 34 56, which strict DER refuses:
    use x509_cert::der::Decode;
    assert!(u32::from_der(&[0x02, 0x04, 0x00, 0x12, 0x34, 0x56]).is_err());
    let roots = synthetic_roots("root-impostor.pem");
    let a = attest::verify(&synth("key-a-p256.pem"), &synth("device-a.pem"), &roots, later()).unwrap();
    assert_eq!(a.serial, Some(0x123456));
    assert_eq!(a.firmware, Some(Firmware(5, 4, 3)));
    assert_eq!((a.pin_policy, a.touch_policy), (Some(PinPolicy::Once), Some(TouchPolicy::Never)));
    assert_eq!(a.slot.as_deref(), Some("9c"));
    assert_eq!(a.warnings, vec![AttestWarning::Ysa202403(Firmware(5, 4, 3)), AttestWarning::TouchPolicyNever]);
    assert!(same_key(&a.public_key, &pem_key(&synth("key-a-p256.pub.pem"))));
}

#[test]
fn five_level_chain_and_every_signature_algorithm() {
    let roots = chain_b_roots();
    let chained = synth("device-b-with-intermediates.pem");
    // key (ecdsa-with-SHA256 by a P-384 F9) -> F9 (ecdsa-with-SHA256 by P-256) -> PIV B
    // (ecdsa-with-SHA384 by P-384) -> Intermediate B (ecdsa-with-SHA384) -> root.
    let a = attest::verify(&synth("key-b-p384.pem"), &chained, &roots, later()).unwrap();
    assert_eq!(a.chain.len(), 5);
    assert_eq!(a.chain[4], "CN=Test Attestation Root 1");
    assert_eq!(a.serial, Some(7654321));
    assert_eq!(a.firmware, Some(Firmware(5, 7, 4)));
    assert_eq!((a.pin_policy, a.touch_policy), (Some(PinPolicy::Always), Some(TouchPolicy::Cached)));
    assert_eq!(a.form_factor.unwrap().name(), "USB-C nano");
    assert_eq!(a.slot.as_deref(), Some("9a"));
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert!(matches!(a.public_key, PublicKey::P384(_)));
    assert!(same_key(&a.public_key, &pem_key(&synth("key-b-p384.pub.pem"))));
    // RSA attested key, ecdsa-with-SHA384 from a P-384 F9.
    let r = attest::verify(&synth("key-b-rsa.pem"), &chained, &roots, later()).unwrap();
    assert!(matches!(r.public_key, PublicKey::RsaPss(_)) && same_key(&r.public_key, &pem_key(&synth("key-b-rsa.pub.pem"))));
    assert_eq!(r.slot.as_deref(), Some("9d"));
    // Ed25519 attested key, ecdsa-with-SHA384 from a P-256 F9 (digest longer than the curve).
    let e = attest::verify(&synth("key-a-ed25519.pem"), &synth("device-a.pem"), &synthetic_roots("root-impostor.pem"), later()).unwrap();
    assert!(matches!(e.public_key, PublicKey::Ed25519(_)) && same_key(&e.public_key, &pem_key(&synth("key-a-ed25519.pub.pem"))));
    assert_eq!(e.slot.as_deref(), Some("9e"));
    // Without its intermediates the F9 certificate does not reach the root...
    let e2 = attest::verify(&synth("key-b-p384.pem"), &synth("device-b.pem"), &roots, later()).unwrap_err();
    assert!(matches!(e2, AttestError::Untrusted { .. }), "{e2}");
    // ...unless the trust store carries them (pinned), as it will for Yubico's B-chain.
    let mut with = synthetic_roots("root-b.pem");
    for i in ["piv-b.pem", "inter-b.pem"] {
        let pem = synth(i);
        with.add_intermediate(&pem, &attest::fingerprint(&pem).unwrap()).unwrap();
    }
    assert_eq!(attest::verify(&synth("key-b-p384.pem"), &synth("device-b.pem"), &with, later()).unwrap().chain.len(), 5);
    // An intermediate out of order or a missing middle link: PIV B alone is not enough.
    let partial = [synth("device-b.pem"), synth("inter-b.pem")].concat();
    assert!(attest::verify(&synth("key-b-p384.pem"), &partial, &roots, later()).is_err());
}

#[test]
fn intermediates_from_the_device_file_must_be_pinned() {
    // The same five-level chain with only its root trusted: the device file's two
    // intermediates are not pinned, so they are reported and not used.
    let e = attest::verify(&synth("key-b-p384.pem"), &synth("device-b-with-intermediates.pem"), &synthetic_roots("root-b.pem"), later()).unwrap_err();
    assert!(matches!(&e, AttestError::UnpinnedIntermediate { subject, .. } if subject.contains("Test PIV Attestation B 1")), "{e}");
    // Pinning one is not enough: the next link is unpinned too.
    let mut one = synthetic_roots("root-b.pem");
    one.pin_intermediate(&attest::fingerprint(&synth("piv-b.pem")).unwrap());
    let e = attest::verify(&synth("key-b-p384.pem"), &synth("device-b-with-intermediates.pem"), &one, later()).unwrap_err();
    assert!(matches!(&e, AttestError::UnpinnedIntermediate { subject, .. } if subject.contains("Intermediate B 1")), "{e}");
    // A root given in the device file is trusted only if its fingerprint is pinned (as the
    // bundled store pins Yubico's published roots that it does not carry).
    let with_root = [synth("device-b-with-intermediates.pem"), synth("root-b.pem")].concat();
    let mut pins = Roots::empty();
    for i in ["piv-b.pem", "inter-b.pem"] {
        pins.pin_intermediate(&attest::fingerprint(&synth(i)).unwrap());
    }
    let e = attest::verify(&synth("key-b-p384.pem"), &with_root, &pins, later()).unwrap_err();
    assert!(matches!(&e, AttestError::UnpinnedIntermediate { subject, .. } if subject.contains("Test Attestation Root 1")), "{e}");
    pins.pin_root(&attest::fingerprint(&synth("root-b.pem")).unwrap());
    let a = attest::verify(&synth("key-b-p384.pem"), &with_root, &pins, later()).unwrap();
    assert_eq!((a.chain.len(), a.root_sha256), (5, attest::fingerprint(&synth("root-b.pem")).unwrap()));
    // The bundled store pins Yubico's published intermediates, not these.
    let e = attest::verify(&synth("key-b-p384.pem"), &synth("device-b-with-intermediates.pem"), &yubico(), later()).unwrap_err();
    assert!(matches!(e, AttestError::UnpinnedIntermediate { .. }), "{e}");
}

/// A forgery any YubiKey owner could make (fixtures/attestation-synthetic, chain C): the
/// owner's genuine key certificate (key-c, slot 9c) has a private key the owner can sign
/// anything with, so they issue a "key certificate" under it for a software key, with a
/// serial and policies of their choosing, and hand over key-c + device-c as the device file.
/// Every signature on that path verifies and it ends at the trusted root.
#[test]
fn a_key_certificate_cannot_vouch_for_another_key() {
    let roots = synthetic_roots("root-c.pem");
    // Positive control: the forger's own attestation is genuine.
    let own = attest::verify(&synth("key-c.pem"), &synth("device-c.pem"), &roots, later()).unwrap();
    assert_eq!(own.serial, Some(0x123456));
    // The forgery is refused: key-c is not a pinned intermediate.
    let e = attest::verify(&synth("forged-c.pem"), &synth("forged-c-device.pem"), &roots, later()).unwrap_err();
    assert!(matches!(e, AttestError::UnpinnedIntermediate { .. }), "{e}");
    // Nor does it pass with the device file in the other order (the device certificate
    // first): key-c must then be the device certificate's issuer, and it is not.
    let swapped = [synth("device-c.pem"), synth("key-c.pem")].concat();
    assert!(attest::verify(&synth("forged-c.pem"), &swapped, &roots, later()).is_err());
    // The forgery itself is sound (every signature on its path verifies): a store that
    // pinned the per-device F9 certificate would accept it, serial and policy included.
    let mut careless = synthetic_roots("root-c.pem");
    careless.pin_intermediate(&attest::fingerprint(&synth("device-c.pem")).unwrap());
    let forged = attest::verify(&synth("forged-c.pem"), &synth("forged-c-device.pem"), &careless, later()).unwrap();
    assert_eq!((forged.serial, forged.touch_policy), (Some(0x5A5A5A), Some(TouchPolicy::Always)));
}

#[test]
fn key_certificate_without_yubico_extensions() {
    let a = attest::verify(&synth("key-plain.pem"), &synth("device-b-with-intermediates.pem"), &chain_b_roots(), later()).unwrap();
    assert_eq!((a.serial, a.firmware, a.pin_policy, a.touch_policy, a.form_factor.is_none()), (None, None, None, None, true));
    assert_eq!(a.warnings, vec![AttestWarning::FirmwareMissing, AttestWarning::SerialMissing]);
    let keys: BTreeMap<String, PublicKey> = [("k".to_string(), pem_key(&synth("key-plain.pub.pem")))].into();
    let f = bind(&[("dana".into(), a)], &keys, &[Holder::new("dana", Some(1234))]);
    assert_eq!(codes(&f, Severity::Error), vec!["attest-serial-mismatch"], "{f:#?}");
}

// ---------------------------------------------------------------- binding

#[test]
fn binding_failures() {
    let Some(_) = support::shared_real() else { return };
    let keys = sigstore_root(1);
    let att = sigstore_attestations();
    let holders: Vec<Holder> = SERIALS.iter().map(|s| Holder::new(s.to_string(), Some(*s))).collect();

    // A key not in the root.
    let synthetic = attest::verify(&synth("key-a-p256.pem"), &synth("device-a.pem"), &synthetic_roots("root-impostor.pem"), later()).unwrap();
    let f = bind(&[("mallory".into(), synthetic)], &keys, &[Holder::new("mallory", Some(0x123456))]);
    assert_eq!(codes(&f, Severity::Error), vec!["attest-key-not-in-metadata"], "{f:#?}");
    assert_eq!(count(&f, "attest-bound"), 0);

    // Wrong recorded serial.
    let mut h = holders.clone();
    h[0].serial = Some(99999999);
    let f = bind(&att, &keys, &h);
    assert_eq!(codes(&f, Severity::Error), vec!["attest-serial-mismatch"]);
    assert!(f.iter().any(|x| x.message.contains("99999999") && x.message.contains("13078778")));
    assert_eq!(count(&f, "attest-bound"), 4);

    // Duplicate serial among keyholders.
    let mut h = holders.clone();
    h[4].serial = Some(SERIALS[3]);
    let f = bind(&att, &keys, &h);
    assert_eq!(count(&f, "attest-duplicate-serial"), 1, "{f:#?}");
    assert_eq!(count(&f, "attest-serial-mismatch"), 1); // 15938791's attestation vs the wrong record

    // Two keyholders presenting attestations from the same device (two slots of serial 7654321).
    let roots = chain_b_roots();
    let chained = synth("device-b-with-intermediates.pem");
    let p = attest::verify(&synth("key-b-p384.pem"), &chained, &roots, later()).unwrap();
    let r = attest::verify(&synth("key-b-rsa.pem"), &chained, &roots, later()).unwrap();
    let both: BTreeMap<String, PublicKey> = [("p".into(), p.public_key.clone()), ("r".into(), r.public_key.clone())].into();
    let f = bind(&[("erin".into(), p.clone()), ("frank".into(), r)], &both, &[Holder::new("erin", None), Holder::new("frank", None)]);
    assert_eq!(count(&f, "attest-duplicate-serial"), 1, "{f:#?}");
    assert_eq!(count(&f, "attest-serial-unrecorded"), 2);

    // The same attestation presented by two keyholders; an unknown keyholder; a keyid pin.
    let f = bind(&[("erin".into(), p.clone()), ("gina".into(), p.clone())], &both, &[Holder::new("erin", Some(7654321))]);
    assert_eq!(count(&f, "attest-duplicate-key"), 1);
    assert_eq!(count(&f, "attest-unknown-keyholder"), 1);
    let pinned = Holder { name: "erin".into(), serial: Some(7654321), keyid: Some("r".into()) };
    let f = bind(&[("erin".into(), p)], &both, &[pinned]);
    assert_eq!(codes(&f, Severity::Error), vec!["attest-key-mismatch"]);

    // A keyholder without attestation.
    let f = bind(&att[..4], &keys, &holders);
    assert_eq!(count(&f, "attest-missing"), 1);
    assert_eq!(count(&f, "attest-bound"), 4);
}

// ---------------------------------------------------------------- discovery

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

#[test]
fn discover_finds_all_three_layouts() {
    let Some(_) = support::shared_real() else { return };
    // Sigstore's published tree as it is.
    let found = attest::discover(&support::real("sigstore-attestations")).unwrap();
    assert_eq!(found.len(), 5);
    for (b, s) in found.iter().zip(SERIALS) {
        assert_eq!((b.layout, b.label.clone()), (Layout::Sigstore, s.to_string()));
        assert_eq!(b.verify(&yubico(), now()).unwrap().serial, Some(s));
    }

    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let src = sigstore_dir(13078778);
    // This tool's layout.
    copy(&src.join("13078778_key_cert.pem"), &t.join("media/keys/alice").join(attest::key_cert_file_name("alice")));
    copy(&src.join("13078778_device_cert.pem"), &t.join("media/keys/alice").join(attest::device_cert_file_name("alice")));
    // yubico-piv-tool's names.
    let s2 = sigstore_dir(14454335);
    copy(&s2.join("14454335_key_cert.pem"), &t.join("piv/bob/Slot9CAttestation.pem"));
    copy(&s2.join("14454335_device_cert.pem"), &t.join("piv/bob/SlotF9Intermediate.pem"));
    // Sigstore's, nested deeper.
    let s3 = sigstore_dir(15938765);
    copy(&s3.join("15938765_key_cert.pem"), &t.join("a/b/c/15938765/15938765_key_cert.pem"));
    copy(&s3.join("15938765_device_cert.pem"), &t.join("a/b/c/15938765/15938765_device_cert.pem"));
    // An orphan key certificate and unrelated files.
    copy(&s3.join("15938765_key_cert.pem"), &t.join("media/keys/carol/carol.attestation.pem"));
    copy(&s3.join("15938765_pubkey.pem"), &t.join("media/keys/carol/carol.pub.pem"));
    std::fs::write(t.join("piv/bob/SlotF9Attestation.pem"), b"ignored").unwrap();

    let found = attest::discover(t).unwrap();
    let summary: Vec<(Layout, String, bool)> = found.iter().map(|b| (b.layout, b.label.clone(), b.device_cert.is_some())).collect();
    assert_eq!(
        summary,
        vec![
            (Layout::Sigstore, "15938765".into(), true),
            (Layout::Ceremony, "alice".into(), true),
            (Layout::Ceremony, "carol".into(), false),
            (Layout::PivTool, "bob".into(), true),
        ]
    );
    let serials: Vec<Result<Option<u32>, String>> = found.iter().map(|b| b.verify(&yubico(), now()).map(|a| a.serial).map_err(|e| e.to_string())).collect();
    assert_eq!(serials[0], Ok(Some(15938765)));
    assert_eq!(serials[1], Ok(Some(13078778)));
    assert!(serials[2].as_ref().unwrap_err().contains("no device certificate"));
    assert_eq!(serials[3], Ok(Some(14454335)));

    // An oversized file is refused, not read.
    std::fs::write(t.join("piv/bob/Slot9CAttestation.pem"), vec![b'A'; 1 << 20]).unwrap();
    assert!(matches!(attest::discover(t), Err(AttestError::Io { .. })));
}

// ---------------------------------------------------------------- audit check

/// Sigstore's and yubico-piv-tool's layouts name a serial or a folder, not a keyholder.
/// An attestation of a recorded keyholder's key from another device must still be checked
/// against that keyholder's recorded serial, and a key whose attestation does not bind
/// must stay unattested (both found by review in session 4: before, the key was bound to a
/// made-up keyholder named after the folder and counted as attested).
#[test]
fn a_keyholders_key_attested_by_another_device_is_not_attested() {
    use tuf_ceremony::attest::Holder;
    use tuf_ceremony::audit::attestations::{AttestationResult, BindContext, check, serial_labels};
    let a = attest::verify(&synth("key-b-p384.pem"), &synth("device-b-with-intermediates.pem"), &chain_b_roots(), later()).unwrap();
    assert_eq!(a.serial, Some(7654321));
    let keys: BTreeMap<String, PublicKey> = [("k-alice".to_string(), pem_key(&synth("key-b-p384.pub.pem")))].into();
    let ctx = |serial| BindContext {
        metadata_keys: keys.clone(),
        holders: vec![Holder { name: "alice".into(), serial, keyid: Some("k-alice".into()) }],
        offline_keyids: vec!["k-alice".into()],
        key_file: "1.root.json".into(),
        key_files: BTreeMap::new(),
        delegation_keyids: Default::default(),
        source: "keys".into(),
    };
    let results =
        || vec![AttestationResult { label: "xyz".into(), file: "piv/xyz/Slot9AAttestation.pem".into(), names_keyholder: false, result: Ok(a.clone()) }];

    // alice's recorded serial is 111: the attestation is from another device.
    let mut out = Vec::new();
    let rep = check(&results(), &ctx(Some(111)), &mut out);
    let codes: Vec<&str> = out.iter().map(|f| f.finding.code).collect();
    assert!(codes.contains(&"attest-serial-mismatch"), "{codes:?}");
    assert!(!codes.contains(&"attest-bound") && !codes.contains(&"attest-missing"), "{codes:?}");
    assert!(!rep.keys[0].bound);
    assert_eq!(rep.unattested, vec!["k-alice".to_string()]);
    assert!(serial_labels(&rep).is_empty(), "a key is labelled with a serial that does not bind");

    // With her serial recorded as 7654321 it binds to alice.
    let mut out = Vec::new();
    let rep = check(&results(), &ctx(Some(7654321)), &mut out);
    let bound: Vec<&str> = out.iter().filter(|f| f.finding.code == "attest-bound").map(|f| f.finding.message.as_str()).collect();
    assert!(bound.len() == 1 && bound[0].starts_with("alice:"), "{bound:?}");
    assert!(rep.keys[0].bound && rep.unattested.is_empty());

    // A key listed only in targets' delegations: findings about it name that file and path.
    let mut delegated = ctx(Some(7654321));
    delegated.key_files.insert("k-alice".into(), "1.targets.json".into());
    delegated.delegation_keyids.insert("k-alice".into());
    let mut out = Vec::new();
    check(&results(), &delegated, &mut out);
    let f = out.iter().find(|f| f.finding.code == "attest-bound").unwrap();
    assert_eq!((f.file.as_str(), f.finding.path.to_string().as_str()), ("1.targets.json", "$.signed.delegations.keys.k-alice"));
}

/// One TLV of DER: (tag, header length, content length).
fn tlv(b: &[u8]) -> (u8, usize, usize) {
    let (tag, first) = (b[0], b[1] as usize);
    if first < 0x80 {
        return (tag, 2, first);
    }
    let n = first & 0x7f;
    let len = b[2..2 + n].iter().fold(0usize, |a, &x| a << 8 | x as usize);
    (tag, 2 + n, len)
}

fn der_encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        l if l < 0x80 => out.push(l as u8),
        l if l < 0x100 => out.extend([0x81, l as u8]),
        l => out.extend([0x82, (l >> 8) as u8, l as u8]),
    }
    out.extend_from_slice(content);
    out
}

/// The children of a constructed TLV's content.
fn children(content: &[u8]) -> Vec<&[u8]> {
    let mut v = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (_, h, l) = tlv(rest);
        v.push(&rest[..h + l]);
        rest = &rest[h + l..];
    }
    v
}

/// A key certificate with its serial extension (41482.3.7) twice: another serial second.
/// RFC 5280 allows one instance per extension; which one a reader takes is up to the
/// reader, so the certificate is refused before anything is read from it.
#[test]
fn a_certificate_with_an_extension_twice_is_refused() {
    let der = attest::der_certificates(&synth("key-b-p384.pem")).unwrap().remove(0);
    let (_, h, l) = tlv(&der);
    let outer = children(&der[h..h + l]);
    let (_, th, tl) = tlv(outer[0]);
    let tbs: Vec<Vec<u8>> = children(&outer[0][th..th + tl]).into_iter().map(<[u8]>::to_vec).collect();
    let at = tbs.iter().position(|c| c[0] == 0xa3).expect("extensions");
    let (_, eh, el) = tlv(&tbs[at]);
    let (_, sh, sl) = tlv(&tbs[at][eh..eh + el]);
    let exts_seq = &tbs[at][eh..eh + el];
    let mut exts: Vec<Vec<u8>> = children(&exts_seq[sh..sh + sl]).into_iter().map(<[u8]>::to_vec).collect();
    let serial_oid = [0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xc4, 0x0a, 0x03, 0x07];
    let serial = exts.iter().find(|e| e.windows(serial_oid.len()).any(|w| w == serial_oid)).expect("serial extension").clone();
    let rebuild = |exts: &[Vec<u8>]| {
        let mut tbs = tbs.clone();
        tbs[at] = der_encode(0xa3, &der_encode(0x30, &exts.concat()));
        der_encode(0x30, &[der_encode(0x30, &tbs.concat()).as_slice(), outer[1], outer[2]].concat())
    };
    // The surgery is sound: without a duplicate it gives back the original bytes.
    assert_eq!(rebuild(&exts), der);
    let mut other = serial;
    *other.last_mut().unwrap() ^= 0x01; // another serial
    exts.push(other);
    let forged = rebuild(&exts);
    let e = attest::verify(&forged, &synth("device-b-with-intermediates.pem"), &chain_b_roots(), later()).unwrap_err();
    assert!(matches!(&e, AttestError::Parse { reason, .. } if reason.contains("more than once")), "{e}");
}

/// A certificate the store trusts above devices (a pinned intermediate or root) cannot be
/// the device certificate itself: the key certificate must be issued by an F9 certificate.
#[test]
fn a_pinned_intermediate_is_not_a_device() {
    // piv-b (pinned) presented as the device, "attesting" device-b's own F9 key.
    let e = attest::verify(&synth("device-b.pem"), &[synth("piv-b.pem"), synth("inter-b.pem")].concat(), &chain_b_roots(), later()).unwrap_err();
    assert!(matches!(e, AttestError::DeviceIsRoot { .. }), "{e}");
}
