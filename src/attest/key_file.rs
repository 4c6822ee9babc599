//! Public key files as key ceremonies leave them, decoded by what is in them rather than by
//! their names: the PSF's YubiHSM `.pub` files are raw SEC1 points, its Nitrokey `.pub`
//! files DER SubjectPublicKeyInfo, and every `.pem` a PEM SubjectPublicKeyInfo.
//!
//! | encoding     | recognised by                                              |
//! | ------------ | ---------------------------------------------------------- |
//! | `pem-spki`   | one `-----BEGIN PUBLIC KEY-----` block                     |
//! | `der-spki`   | a DER SEQUENCE that decodes as a SubjectPublicKeyInfo      |
//! | `sec1-point` | 65 or 97 bytes starting 04 (uncompressed P-256 / P-384), 33 or 49 bytes starting 02/03 (compressed) |
//!
//! Keys: P-256, P-384, Ed25519 and RSA, as in attestations ([`super::cert::public_key`]).

use super::cert::{pem_blocks, public_key};
use crate::tuf::keys::PublicKey;
use std::fmt;
use x509_cert::der::Decode;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

/// How a key file encodes its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyEncoding {
    PemSpki,
    DerSpki,
    Sec1Point,
}

impl KeyEncoding {
    /// The stable name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            KeyEncoding::PemSpki => "pem-spki",
            KeyEncoding::DerSpki => "der-spki",
            KeyEncoding::Sec1Point => "sec1-point",
        }
    }
}

impl fmt::Display for KeyEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a file is not a public key the tool can read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    #[error("holds a certificate, not a public key")]
    Certificate,
    #[error("holds {0} PUBLIC KEY blocks; a key file holds one")]
    SeveralKeys(usize),
    #[error("PEM: {0}")]
    Pem(String),
    #[error("a {encoding} key that does not decode: {reason}")]
    Undecodable { encoding: KeyEncoding, reason: String },
    #[error("not a PEM or DER SubjectPublicKeyInfo nor a raw P-256/P-384 point ({0} bytes)")]
    Unknown(usize),
}

/// Decodes a public key file's bytes.
pub fn decode(bytes: &[u8]) -> Result<(PublicKey, KeyEncoding), KeyFileError> {
    let text_like = bytes.windows(11).any(|w| w == b"-----BEGIN ");
    if text_like {
        let blocks = pem_blocks(bytes, "PUBLIC KEY").map_err(KeyFileError::Pem)?;
        return match blocks.as_slice() {
            [der] => spki(der, KeyEncoding::PemSpki).map(|k| (k, KeyEncoding::PemSpki)),
            [] if bytes.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") => Err(KeyFileError::Certificate),
            [] => Err(KeyFileError::Pem("no -----BEGIN PUBLIC KEY----- block".into())),
            many => Err(KeyFileError::SeveralKeys(many.len())),
        };
    }
    match (bytes.first(), bytes.len()) {
        (Some(0x30), _) => {
            if x509_cert::Certificate::from_der(bytes).is_ok() {
                return Err(KeyFileError::Certificate);
            }
            spki(bytes, KeyEncoding::DerSpki).map(|k| (k, KeyEncoding::DerSpki))
        }
        (Some(0x04), 65) | (Some(0x02 | 0x03), 33) => p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map(|k| (PublicKey::P256(k), KeyEncoding::Sec1Point))
            .map_err(|_| KeyFileError::Undecodable { encoding: KeyEncoding::Sec1Point, reason: "not a point on P-256".into() }),
        (Some(0x04), 97) | (Some(0x02 | 0x03), 49) => p384::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map(|k| (PublicKey::P384(k), KeyEncoding::Sec1Point))
            .map_err(|_| KeyFileError::Undecodable { encoding: KeyEncoding::Sec1Point, reason: "not a point on P-384".into() }),
        (_, n) => Err(KeyFileError::Unknown(n)),
    }
}

fn spki(der: &[u8], encoding: KeyEncoding) -> Result<PublicKey, KeyFileError> {
    let undecodable = |reason: String| KeyFileError::Undecodable { encoding, reason };
    let info = SubjectPublicKeyInfoOwned::from_der(der).map_err(|e| undecodable(e.to_string()))?;
    public_key(&info).map_err(|e| undecodable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_of_one_key() {
        let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let pk = PublicKey::P256(*sk.verifying_key());
        let pem = pk.to_pem();
        let der = pem_blocks(pem.as_bytes(), "PUBLIC KEY").unwrap().remove(0);
        let point = sk.verifying_key().to_sec1_point(false).as_bytes().to_vec();
        let compressed = sk.verifying_key().to_sec1_point(true).as_bytes().to_vec();
        for (bytes, enc) in [
            (pem.as_bytes().to_vec(), KeyEncoding::PemSpki),
            (der, KeyEncoding::DerSpki),
            (point, KeyEncoding::Sec1Point),
            (compressed, KeyEncoding::Sec1Point),
        ] {
            let (k, e) = decode(&bytes).unwrap();
            assert_eq!(e, enc);
            assert_eq!(k.to_pem(), pem);
        }
    }

    #[test]
    fn what_is_not_a_key() {
        let err = |b: &[u8]| decode(b).expect_err("not a key");
        assert_eq!(err(b""), KeyFileError::Unknown(0));
        assert_eq!(err(&[0x04; 65]), KeyFileError::Undecodable { encoding: KeyEncoding::Sec1Point, reason: "not a point on P-256".into() });
        assert!(matches!(err(&[0x30, 3, 1, 2, 3]), KeyFileError::Undecodable { encoding: KeyEncoding::DerSpki, .. }));
        assert_eq!(err(b"-----BEGIN CERTIFICATE-----\nTWFu\n-----END CERTIFICATE-----\n"), KeyFileError::Certificate);
        assert!(matches!(err(b"-----BEGIN PUBLIC KEY-----\nTWFu\n"), KeyFileError::Pem(_)));
        let two = "-----BEGIN PUBLIC KEY-----\nTWFu\n-----END PUBLIC KEY-----\n".repeat(2);
        assert_eq!(err(two.as_bytes()), KeyFileError::SeveralKeys(2));
    }
}
