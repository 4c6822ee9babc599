//! Certificate decoding and link-by-link signature checks.
//!
//! Not a path validator: basicConstraints, key usage and path lengths are deliberately not
//! enforced, because Yubico's older F9 device certificates lack `CA:TRUE` and every generic
//! validator (openssl, webpki) refuses them. Trust comes from the pinned root fingerprint
//! and from each signature; names must chain byte for byte.

use super::AttestError;
use crate::tuf::keys::PublicKey;
use p256::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256, Sha384};
use x509_cert::certificate::{CertificateInner, Profile};
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{Decode, Encode, Header, Reader, SliceReader, Tagged};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

/// Largest certificate accepted (Yubico's are under 1 KiB; a 5-level chain under 4 KiB).
pub const MAX_CERT_LEN: usize = 16 * 1024;

const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// DER bytes as one PEM block (`label`: `CERTIFICATE`, `PUBLIC KEY`), LF line ends.
pub fn pem(label: &str, der: &[u8]) -> Vec<u8> {
    use x509_cert::der::pem::{LineEnding, encode_string};
    let mut s = encode_string(label, LineEnding::LF, der).unwrap_or_default();
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s.into_bytes()
}

/// Parsing profile: RFC 5280 except that certificate serial numbers of any length are
/// accepted (device firmware is not a conforming CA; the number is never used).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Lenient;

impl Profile for Lenient {
    fn check_serial_number(_: &x509_cert::serial_number::SerialNumber<Self>) -> x509_cert::der::Result<()> {
        Ok(())
    }
}

type Raw = Lenient;

/// A decoded certificate with the exact bytes its signature covers.
#[derive(Clone, Debug)]
pub(crate) struct Cert {
    pub der: Vec<u8>,
    /// The TBSCertificate exactly as received (never re-encoded).
    pub tbs: Vec<u8>,
    pub cert: CertificateInner<Raw>,
    pub subject_der: Vec<u8>,
    pub issuer_der: Vec<u8>,
    pub sha256: [u8; 32],
}

impl Cert {
    /// Decodes one DER certificate. `what` names it in errors.
    pub fn from_der(der: &[u8], what: &str) -> Result<Cert, AttestError> {
        let bad = |reason: String| AttestError::Parse { what: what.to_string(), reason };
        if der.len() > MAX_CERT_LEN {
            return Err(bad(format!("{} bytes is larger than the {MAX_CERT_LEN}-byte limit", der.len())));
        }
        let cert = CertificateInner::<Raw>::from_der(der).map_err(|e| bad(e.to_string()))?;
        // The signed bytes: the first element of the outer SEQUENCE, as received.
        let mut reader = SliceReader::new(der).map_err(|e| bad(e.to_string()))?;
        Header::decode(&mut reader).map_err(|e| bad(e.to_string()))?;
        let tbs = reader.tlv_bytes().map_err(|e| bad(e.to_string()))?.to_vec();
        let tbs_cert = cert.tbs_certificate();
        if tbs_cert.signature() != cert.signature_algorithm() {
            return Err(bad("the signature algorithm inside the signed part differs from the outer one".into()));
        }
        // RFC 5280 §4.2: one instance per extension. With two, which serial or policy a
        // reader takes would depend on the reader.
        if let Some(exts) = tbs_cert.extensions() {
            for (i, e) in exts.iter().enumerate() {
                if exts[..i].iter().any(|p| p.extn_id == e.extn_id) {
                    return Err(bad(format!("extension {} appears more than once", e.extn_id)));
                }
            }
        }
        let subject_der = tbs_cert.subject().to_der().map_err(|e| bad(e.to_string()))?;
        let issuer_der = tbs_cert.issuer().to_der().map_err(|e| bad(e.to_string()))?;
        Ok(Cert { der: der.to_vec(), tbs, subject_der, issuer_der, sha256: Sha256::digest(der).into(), cert })
    }

    pub fn subject(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }

    pub fn issuer(&self) -> String {
        self.cert.tbs_certificate().issuer().to_string()
    }

    /// The subject's first common name, if it is a string.
    pub fn common_name(&self) -> Option<String> {
        let cn = self.cert.tbs_certificate().subject().common_name().ok()??;
        Some(cn.value().into_owned())
    }

    pub fn spki(&self) -> &SubjectPublicKeyInfoOwned {
        self.cert.tbs_certificate().subject_public_key_info()
    }

    /// (notBefore, notAfter) as Unix seconds.
    pub fn validity(&self) -> (u64, u64) {
        let v = self.cert.tbs_certificate().validity();
        (v.not_before.to_unix_duration().as_secs(), v.not_after.to_unix_duration().as_secs())
    }

    /// The raw extnValue contents of the extension `oid`, if present (never more than once:
    /// `from_der` refuses duplicates).
    pub fn extension(&self, oid: &ObjectIdentifier) -> Option<&[u8]> {
        let exts = self.cert.tbs_certificate().extensions()?;
        exts.iter().find(|e| &e.extn_id == oid).map(|e| e.extn_value.as_bytes())
    }

    /// Checks that `issuer`'s key made this certificate's signature.
    pub fn verify_signed_by(&self, issuer: &Cert) -> Result<(), LinkError> {
        let alg = &self.cert.signature_algorithm().oid;
        let sig = self.cert.signature().as_bytes().ok_or(LinkError::Malformed("signature BIT STRING has unused bits"))?;
        let key = issuer.spki();
        let key_der = key.to_der().map_err(|_| LinkError::Malformed("issuer public key does not re-encode"))?;
        let key_alg = &key.algorithm.oid;
        if *alg == SHA256_WITH_RSA {
            if let Some(params) = &self.cert.signature_algorithm().parameters
                && (params.tag() != x509_cert::der::Tag::Null || !params.value().is_empty())
            {
                return Err(LinkError::Malformed("sha256WithRSAEncryption parameters are not NULL"));
            }
            if *key_alg != RSA_ENCRYPTION {
                return Err(LinkError::KeyMismatch { alg: "sha256WithRSAEncryption", key: key_name(key) });
            }
            use signature::Verifier;
            let pk = rsa::RsaPublicKey::from_public_key_der(&key_der).map_err(|_| LinkError::Malformed("issuer RSA key does not decode"))?;
            let vk = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(pk);
            let s = rsa::pkcs1v15::Signature::try_from(sig).map_err(|_| LinkError::Malformed("RSA signature does not decode"))?;
            return vk.verify(&self.tbs, &s).map_err(|_| LinkError::BadSignature);
        }
        let (digest, alg_name): (Vec<u8>, &'static str) = if *alg == ECDSA_WITH_SHA256 {
            (Sha256::digest(&self.tbs).to_vec(), "ecdsa-with-SHA256")
        } else if *alg == ECDSA_WITH_SHA384 {
            (Sha384::digest(&self.tbs).to_vec(), "ecdsa-with-SHA384")
        } else {
            return Err(LinkError::UnsupportedAlgorithm(alg.to_string()));
        };
        if self.cert.signature_algorithm().parameters.is_some() {
            return Err(LinkError::Malformed("ECDSA signature algorithm has parameters"));
        }
        use signature::hazmat::PrehashVerifier;
        match ec_curve(key) {
            Some(Curve::P256) => {
                let vk = p256::ecdsa::VerifyingKey::from_public_key_der(&key_der).map_err(|_| LinkError::Malformed("issuer P-256 key does not decode"))?;
                let s = p256::ecdsa::Signature::from_der(sig).map_err(|_| LinkError::Malformed("ECDSA signature is not DER"))?;
                vk.verify_prehash(&digest, &s).map_err(|_| LinkError::BadSignature)
            }
            Some(Curve::P384) => {
                let vk = p384::ecdsa::VerifyingKey::from_public_key_der(&key_der).map_err(|_| LinkError::Malformed("issuer P-384 key does not decode"))?;
                let s = p384::ecdsa::Signature::from_der(sig).map_err(|_| LinkError::Malformed("ECDSA signature is not DER"))?;
                vk.verify_prehash(&digest, &s).map_err(|_| LinkError::BadSignature)
            }
            None => Err(LinkError::KeyMismatch { alg: alg_name, key: key_name(key) }),
        }
    }
}

/// Why one link failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LinkError {
    BadSignature,
    UnsupportedAlgorithm(String),
    KeyMismatch { alg: &'static str, key: String },
    Malformed(&'static str),
}

#[derive(Clone, Copy)]
enum Curve {
    P256,
    P384,
}

fn ec_curve(spki: &SubjectPublicKeyInfoOwned) -> Option<Curve> {
    if spki.algorithm.oid != EC_PUBLIC_KEY {
        return None;
    }
    let curve: ObjectIdentifier = spki.algorithm.parameters.as_ref()?.decode_as().ok()?;
    if curve == SECP256R1 {
        Some(Curve::P256)
    } else if curve == SECP384R1 {
        Some(Curve::P384)
    } else {
        None
    }
}

/// A short name for a key's type, for messages.
fn key_name(spki: &SubjectPublicKeyInfoOwned) -> String {
    let oid = &spki.algorithm.oid;
    match ec_curve(spki) {
        Some(Curve::P256) => "P-256".into(),
        Some(Curve::P384) => "P-384".into(),
        None if *oid == RSA_ENCRYPTION => "RSA".into(),
        None if *oid == ED25519 => "Ed25519".into(),
        None if *oid == EC_PUBLIC_KEY => "EC on an unsupported curve".into(),
        None => format!("key algorithm {oid}"),
    }
}

/// Converts an attested SubjectPublicKeyInfo into the core's key type.
pub(crate) fn public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<PublicKey, AttestError> {
    let unsupported = || AttestError::UnsupportedKey(key_name(spki));
    let der = spki.to_der().map_err(|_| unsupported())?;
    let oid = &spki.algorithm.oid;
    let bad = |what: &str| AttestError::UnsupportedKey(format!("{what} public key does not decode"));
    match ec_curve(spki) {
        Some(Curve::P256) => p256::ecdsa::VerifyingKey::from_public_key_der(&der).map(PublicKey::P256).map_err(|_| bad("P-256")),
        Some(Curve::P384) => p384::ecdsa::VerifyingKey::from_public_key_der(&der).map(PublicKey::P384).map_err(|_| bad("P-384")),
        None if *oid == ED25519 => ed25519_dalek::VerifyingKey::from_public_key_der(&der).map(PublicKey::Ed25519).map_err(|_| bad("Ed25519")),
        None if *oid == RSA_ENCRYPTION => rsa::RsaPublicKey::from_public_key_der(&der).map(|k| PublicKey::RsaPss(Box::new(k))).map_err(|_| bad("RSA")),
        None => Err(unsupported()),
    }
}

/// Every certificate in `input`: PEM (any number of CERTIFICATE blocks, text around them
/// ignored, CRLF and odd line lengths accepted) or a single DER certificate.
pub(crate) fn certificates(input: &[u8], what: &str) -> Result<Vec<Cert>, AttestError> {
    let ders = split_pem(input).map_err(|reason| AttestError::Parse { what: what.to_string(), reason })?;
    let ders = match ders {
        Some(d) if d.is_empty() => return Err(AttestError::NoCertificate { what: what.to_string() }),
        Some(d) => d,
        None => vec![input.to_vec()],
    };
    ders.iter().enumerate().map(|(i, d)| Cert::from_der(d, &if i == 0 { what.to_string() } else { format!("{what} #{}", i + 1) })).collect()
}

/// `None` if the input does not look like PEM text (then it is taken as DER).
fn split_pem(input: &[u8]) -> Result<Option<Vec<Vec<u8>>>, String> {
    if input.first() == Some(&0x30) {
        return Ok(None);
    }
    if !input.windows(11).any(|w| w == b"-----BEGIN ") {
        return if input.iter().all(|b| b.is_ascii()) { Ok(Some(Vec::new())) } else { Ok(None) };
    }
    pem_blocks(input, "CERTIFICATE").map(Some)
}

/// The decoded bodies of every `-----BEGIN <label>-----` block in `input` (text around
/// them ignored, CRLF and odd line lengths accepted; at most 16 blocks).
pub(crate) fn pem_blocks(input: &[u8], label: &str) -> Result<Vec<Vec<u8>>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = input;
    while let Some(start) = find(rest, begin.as_bytes()) {
        let body_start = start + begin.len();
        let Some(len) = find(&rest[body_start..], end.as_bytes()) else {
            return Err(format!("PEM block without {end}"));
        };
        out.push(base64_decode(&rest[body_start..body_start + len]).ok_or("PEM body is not base64")?);
        if out.len() > 16 {
            return Err(format!("more than 16 {label} blocks"));
        }
        rest = &rest[body_start + len + end.len()..];
    }
    Ok(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Standard base64 with padding; ASCII whitespace is skipped.
fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits, mut pad) = (0u32, 0u32, 0usize);
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            c if c.is_ascii_whitespace() => continue,
            _ => return None,
        };
        if pad > 0 {
            return None; // data after padding
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if pad > 2 || bits >= 6 { None } else { Some(out) }
}

/// Uppercase hex with no separators (the form fingerprints are published in).
pub(crate) fn upper_hex(bytes: &[u8]) -> String {
    crate::tuf::keys::hex(bytes).to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_refuses_junk() {
        assert_eq!(base64_decode(b"TWFu").unwrap(), b"Man");
        assert_eq!(base64_decode(b"TWE=").unwrap(), b"Ma");
        assert_eq!(base64_decode(b"TQ==\r\n").unwrap(), b"M");
        assert!(base64_decode(b"TQ==TQ==").is_none());
        assert!(base64_decode(b"T").is_none());
        assert!(base64_decode(b"TW!u").is_none());
    }

    #[test]
    fn pem_splitting() {
        assert_eq!(split_pem(b"\x30\x03abc").unwrap(), None);
        assert_eq!(split_pem(b"hello").unwrap(), Some(vec![]));
        let two = b"junk\n-----BEGIN CERTIFICATE-----\nTWFu\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\r\nTQ==\r\n-----END CERTIFICATE-----\r\n";
        assert_eq!(split_pem(two).unwrap(), Some(vec![b"Man".to_vec(), b"M".to_vec()]));
        assert!(split_pem(b"-----BEGIN CERTIFICATE-----\nTWFu\n").is_err());
    }
}
