//! Software key files are standard encrypted PKCS#8 PEM: OpenSSL opens them with the
//! passphrase and derives the same public key (so no proprietary format guards a key).

mod support;

use std::process::Command;
use tuf_ceremony::signer::Signer;
use tuf_ceremony::signer::software::SoftwareKey;
use tuf_ceremony::tuf::keys::Algorithm;

#[test]
fn openssl_reads_our_encrypted_key_files() {
    let Some(openssl) = support::require_or_skip(
        Command::new("openssl").arg("version").output().ok().filter(|o| o.status.success()).map(|_| "openssl"),
        "openssl",
        "apt-get install openssl",
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256, Algorithm::EcdsaP384] {
        let key = SoftwareKey::generate(alg, "t").unwrap();
        let path = tmp.path().join(format!("{}.pem", alg.name()));
        std::fs::write(&path, key.to_encrypted_pem(b"test passphrase").unwrap().as_bytes()).unwrap();
        let out = Command::new(openssl).args(["pkey", "-pubout", "-passin", "pass:test passphrase", "-in"]).arg(&path).output().unwrap();
        assert!(out.status.success(), "{}: {}", alg.name(), String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), key.public_key().to_pem(), "{}", alg.name());
        // A wrong passphrase is refused by openssl too.
        let bad = Command::new(openssl).args(["pkey", "-pubout", "-passin", "pass:wrong", "-in"]).arg(&path).output().unwrap();
        assert!(!bad.status.success(), "{}", alg.name());
    }
}
