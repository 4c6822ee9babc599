//! Software keys in encrypted PKCS#8 PEM files, for rehearsals, tests and online roles.
//!
//! The file format is the standard one (`-----BEGIN ENCRYPTED PRIVATE KEY-----`, PBES2 with
//! scrypt and AES-256-CBC, parameters OpenSSL 3 reads), so `openssl pkey -in FILE` can open
//! it and nothing proprietary guards a key. Private key bytes live in zeroizing buffers.

use super::{Signer, SignerError, ed25519_overlap};
use crate::tuf::keys::{Algorithm, PublicKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use zeroize::Zeroizing;

/// A private key held in memory.
pub enum SecretKey {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

/// A software key with its public half, usable as a `Signer`.
pub struct SoftwareKey {
    secret: SecretKey,
    public: PublicKey,
    label: String,
}

fn os_random<const N: usize>() -> Result<Zeroizing<[u8; N]>, SignerError> {
    let mut b = Zeroizing::new([0u8; N]);
    getrandom::fill(b.as_mut()).map_err(|e| SignerError::Device(format!("system random generator: {e}")))?;
    Ok(b)
}

impl SoftwareKey {
    /// Generates a fresh key from the operating system's random generator.
    pub fn generate(alg: Algorithm, label: impl Into<String>) -> Result<Self, SignerError> {
        let secret = match alg {
            Algorithm::Ed25519 => SecretKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&*os_random::<32>()?)),
            // A uniformly random scalar is valid except with negligible probability; retry then.
            Algorithm::EcdsaP256 => loop {
                if let Ok(k) = p256::ecdsa::SigningKey::from_slice(os_random::<32>()?.as_ref()) {
                    break SecretKey::P256(k);
                }
            },
            Algorithm::EcdsaP384 => loop {
                if let Ok(k) = p384::ecdsa::SigningKey::from_slice(os_random::<48>()?.as_ref()) {
                    break SecretKey::P384(k);
                }
            },
            verify_only => {
                return Err(SignerError::KeyFile(format!("{} keys are verify-only in this tool", verify_only.name())));
            }
        };
        Ok(Self::from_secret(secret, label))
    }

    /// Wraps known key material (deterministic test vectors).
    pub fn from_secret(secret: SecretKey, label: impl Into<String>) -> Self {
        let public = match &secret {
            SecretKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
            SecretKey::P256(k) => PublicKey::P256(*k.verifying_key()),
            SecretKey::P384(k) => PublicKey::P384(*k.verifying_key()),
        };
        SoftwareKey { secret, public, label: label.into() }
    }

    /// The key as an encrypted PKCS#8 PEM document.
    pub fn to_encrypted_pem(&self, passphrase: &[u8]) -> Result<Zeroizing<String>, SignerError> {
        let doc = match &self.secret {
            SecretKey::Ed25519(k) => ed25519_pkcs8_v1_encrypted(k, passphrase),
            SecretKey::P256(k) => k.to_pkcs8_encrypted_der(passphrase),
            SecretKey::P384(k) => k.to_pkcs8_encrypted_der(passphrase),
        }
        .map_err(|e| SignerError::KeyFile(format!("cannot encrypt key: {e}")))?;
        doc.to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF).map_err(|e| SignerError::KeyFile(format!("cannot encode key: {e}")))
    }

    /// Opens an encrypted PKCS#8 PEM document. A wrong passphrase is `WrongPin`.
    pub fn from_encrypted_pem(pem: &str, passphrase: &[u8], label: impl Into<String>) -> Result<Self, SignerError> {
        if !pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(SignerError::KeyFile("not an encrypted PKCS#8 PEM file (-----BEGIN ENCRYPTED PRIVATE KEY-----)".into()));
        }
        let label = label.into();
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_encrypted_pem(pem, passphrase) {
            return Ok(Self::from_secret(SecretKey::Ed25519(k), label));
        }
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_encrypted_pem(pem, passphrase) {
            return Ok(Self::from_secret(SecretKey::P256(k), label));
        }
        if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_encrypted_pem(pem, passphrase) {
            return Ok(Self::from_secret(SecretKey::P384(k), label));
        }
        // Decryption with a wrong passphrase fails on padding; so does an unsupported
        // algorithm, but that is far rarer for files this tool wrote.
        Err(SignerError::WrongPin { retries_left: None })
    }
}

/// An Ed25519 key as encrypted RFC 8410 PKCS#8 *v1*: the private key is `CurvePrivateKey`,
/// an OCTET STRING of the 32-byte seed, with no public key attached. ed25519-dalek writes v2
/// (with the public key), which OpenSSL 3.0 cannot decode, and "openssl can read it" is the
/// point of using a standard format. Reading accepts both.
fn ed25519_pkcs8_v1_encrypted(k: &ed25519_dalek::SigningKey, passphrase: &[u8]) -> pkcs8::Result<pkcs8::SecretDocument> {
    const ED25519_OID: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.3.101.112");
    let mut curve_private_key = Zeroizing::new(vec![0x04, 0x20]);
    curve_private_key.extend_from_slice(k.as_bytes());
    let octets = pkcs8::der::asn1::OctetStringRef::new(&curve_private_key)?;
    pkcs8::PrivateKeyInfoRef::new(pkcs8::spki::AlgorithmIdentifier { oid: ED25519_OID, parameters: None }, octets).encrypt(passphrase)
}

impl Signer for SoftwareKey {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }
    fn sign_checked(&mut self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        match (&self.secret, &self.public) {
            (SecretKey::Ed25519(k), PublicKey::Ed25519(expected)) if payload.len() >= ed25519_overlap::OVERLAP_FROM => {
                match ed25519_overlap::sign_and_check(k, expected, payload) {
                    Ok(sig) => Ok(sig.to_vec()),
                    Err(ed25519_overlap::Overlap::Refused) => Err(super::wrong_key(self)),
                    Err(ed25519_overlap::Overlap::NoThread) => super::sign_then_verify(self, payload),
                }
            }
            _ => super::sign_then_verify(self, payload),
        }
    }
    fn describe(&self) -> String {
        format!("software key {}", self.label)
    }
    fn sign(&mut self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        use signature::Signer as _;
        Ok(match &self.secret {
            SecretKey::Ed25519(k) => k.sign(payload).to_bytes().to_vec(),
            SecretKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(payload);
                s.to_der().as_bytes().to_vec()
            }
            SecretKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(payload);
                s.to_der().as_bytes().to_vec()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuf::keys::SigCheck;

    #[test]
    fn encrypted_roundtrip_and_wrong_passphrase() {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256, Algorithm::EcdsaP384] {
            let mut k = SoftwareKey::generate(alg, "t").unwrap();
            let pem = k.to_encrypted_pem(b"correct horse").unwrap();
            let mut back = SoftwareKey::from_encrypted_pem(&pem, b"correct horse", "t").unwrap();
            assert_eq!(back.public_key().to_key(), k.public_key().to_key());
            let sig = back.sign(b"payload").unwrap();
            assert_eq!(k.public_key().verify(b"payload", &sig), SigCheck::Valid);
            let _ = k.sign(b"x").unwrap();
            assert!(matches!(SoftwareKey::from_encrypted_pem(&pem, b"wrong", "t"), Err(SignerError::WrongPin { .. })));
        }
    }
}
