//! Public keys, keyids and signature checks.
//!
//! Interoperable key forms (tuf-format.md §1.3): ed25519 as 64 lowercase hex characters;
//! ECDSA as PEM SubjectPublicKeyInfo with 64-column base64 and a trailing newline (the
//! form securesystemslib writes — a keyid covers the exact string, so the formatting is
//! part of the key's identity); RSASSA-PSS-SHA256 for verification only. ECDSA signatures
//! are DER over a SHA-256 (P-256) or SHA-384 (P-384) prehash.

use super::encode::canonical_sized;
use super::json::Fields;
use super::metadata::Key;
use p256::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use sha2::{Digest, Sha256};

/// The two lowercase hex digits of a byte.
fn hex_pair(b: u8) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]
}

/// Lowercase hex, the only form the tool writes.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.extend(hex_pair(b).map(char::from));
    }
    s
}

/// Decodes hex; `strict` requires lowercase (what every client's writer emits).
pub fn unhex(s: &str, strict: bool) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' if !strict => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes().chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

/// Whether `s` is hex (`strict`: lowercase only), as `unhex(s, strict).is_some()` without
/// allocating.
pub fn is_hex(s: &str, strict: bool) -> bool {
    s.len().is_multiple_of(2) && s.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'a'..=b'f') || (!strict && matches!(c, b'A'..=b'F')))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// keyid = sha256 of the canonical key object exactly as written, unknown fields included
/// (the rule tough enforces and the spec states; §3).
pub fn keyid(key: &Key) -> String {
    let hint = 80 + key.keytype.len() + key.scheme.len() + key.public.len();
    sha256_hex(&canonical_sized(key, hint))
}

/// Whether `id` is `keyid(key)`, without allocating: the writer rules recompute one keyid
/// per key, 100,000 for a PEP 480 `claimed` role.
pub fn keyid_is(key: &Key, id: &str) -> bool {
    thread_local! {
        static BUF: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let mut out = super::encode::JsonOut::canonical_reusing(BUF.take());
    super::encode::ToJson::write_json(key, &mut out);
    let bytes = out.into_bytes();
    let digest = Sha256::digest(&bytes);
    BUF.set(bytes);
    id.len() == 64 && id.as_bytes().chunks_exact(2).zip(digest.iter()).all(|(pair, &b)| *pair == hex_pair(b))
}

/// The key algorithms the tool understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Ed25519,
    EcdsaP256,
    EcdsaP384,
    RsaPssSha256,
}

impl Algorithm {
    /// The algorithm a (keytype, scheme) pair names, if any client accepts it.
    pub fn from_key(key: &Key) -> Option<Self> {
        match (&*key.keytype, &*key.scheme) {
            ("ed25519", "ed25519") => Some(Algorithm::Ed25519),
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => Some(Algorithm::EcdsaP256),
            ("ecdsa" | "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384") => Some(Algorithm::EcdsaP384),
            ("rsa", "rsassa-pss-sha256") => Some(Algorithm::RsaPssSha256),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256 => "ecdsa-p256",
            Algorithm::EcdsaP384 => "ecdsa-p384",
            Algorithm::RsaPssSha256 => "rsassa-pss-sha256",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ed25519" => Some(Algorithm::Ed25519),
            "ecdsa-p256" | "p256" | "ecdsa-sha2-nistp256" => Some(Algorithm::EcdsaP256),
            "ecdsa-p384" | "p384" | "ecdsa-sha2-nistp384" => Some(Algorithm::EcdsaP384),
            _ => None,
        }
    }
}

/// A decoded public key.
#[derive(Clone, Debug)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    RsaPss(Box<rsa::RsaPublicKey>),
}

/// Why a key object cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("unsupported keytype/scheme {0:?}/{1:?} (python-tuf and tough refuse the whole file)")]
    Unsupported(String, String),
    #[error("ed25519 public key must be 64 lowercase hex characters")]
    BadEd25519,
    #[error("ECDSA public key is not a PEM SubjectPublicKeyInfo on the expected curve")]
    BadEcdsaPem,
    #[error("ECDSA public key is hex-encoded (legacy go-tuf v0 form; only lenient mode reads it)")]
    HexEcdsa,
    #[error("ECDSA public key is not a valid point on the expected curve")]
    BadEcdsaPoint,
    #[error("RSA public key is not a PEM SubjectPublicKeyInfo of 2048..=8192 bits")]
    BadRsa,
}

/// Checks a key object's form without decoding curve points (cheap enough for 100,000
/// delegated keys; full decoding happens only for keys whose signatures are checked).
pub fn check_key_shape(key: &Key) -> Result<(), String> {
    let Some(alg) = Algorithm::from_key(key) else {
        return Err(KeyError::Unsupported(key.keytype.to_string(), key.scheme.to_string()).to_string());
    };
    let p = &key.public;
    let ok = match alg {
        Algorithm::Ed25519 => p.len() == 64 && is_hex(p, true),
        Algorithm::EcdsaP256 | Algorithm::EcdsaP384 => {
            if !p.starts_with("-----BEGIN PUBLIC KEY-----") && is_hex(p, false) {
                return Err(KeyError::HexEcdsa.to_string());
            }
            p.starts_with("-----BEGIN PUBLIC KEY-----")
        }
        Algorithm::RsaPssSha256 => p.starts_with("-----BEGIN PUBLIC KEY-----"),
    };
    if ok {
        Ok(())
    } else {
        Err(match alg {
            Algorithm::Ed25519 => KeyError::BadEd25519,
            Algorithm::RsaPssSha256 => KeyError::BadRsa,
            _ => KeyError::BadEcdsaPem,
        }
        .to_string())
    }
}

impl PublicKey {
    /// Decodes a key object. `lenient` also accepts hex-encoded ECDSA points.
    pub fn from_key(key: &Key, lenient: bool) -> Result<Self, KeyError> {
        let alg = Algorithm::from_key(key).ok_or_else(|| KeyError::Unsupported(key.keytype.to_string(), key.scheme.to_string()))?;
        let p = key.public.as_str();
        let is_pem = p.starts_with("-----BEGIN PUBLIC KEY-----");
        match alg {
            Algorithm::Ed25519 => {
                let bytes: [u8; 32] = unhex(p, true).and_then(|b| b.try_into().ok()).ok_or(KeyError::BadEd25519)?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes).map(PublicKey::Ed25519).map_err(|_| KeyError::BadEd25519)
            }
            Algorithm::EcdsaP256 if is_pem => p256::ecdsa::VerifyingKey::from_public_key_pem(p).map(PublicKey::P256).map_err(|_| KeyError::BadEcdsaPem),
            Algorithm::EcdsaP384 if is_pem => p384::ecdsa::VerifyingKey::from_public_key_pem(p).map(PublicKey::P384).map_err(|_| KeyError::BadEcdsaPem),
            Algorithm::EcdsaP256 | Algorithm::EcdsaP384 => {
                if !lenient {
                    return Err(KeyError::HexEcdsa);
                }
                let sec1 = unhex(p, false).ok_or(KeyError::BadEcdsaPoint)?;
                if alg == Algorithm::EcdsaP256 {
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map(PublicKey::P256).map_err(|_| KeyError::BadEcdsaPoint)
                } else {
                    p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map(PublicKey::P384).map_err(|_| KeyError::BadEcdsaPoint)
                }
            }
            Algorithm::RsaPssSha256 => {
                use rsa::traits::PublicKeyParts;
                let k = rsa::RsaPublicKey::from_public_key_pem(p).map_err(|_| KeyError::BadRsa)?;
                let bits = k.n_bits_precision();
                if !(2048..=8192).contains(&bits) {
                    return Err(KeyError::BadRsa);
                }
                Ok(PublicKey::RsaPss(Box::new(k)))
            }
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Ed25519(_) => Algorithm::Ed25519,
            PublicKey::P256(_) => Algorithm::EcdsaP256,
            PublicKey::P384(_) => Algorithm::EcdsaP384,
            PublicKey::RsaPss(_) => Algorithm::RsaPssSha256,
        }
    }

    /// The key object the tool writes for this key: the forms all three clients read.
    /// P-384 keys use keytype `ecdsa` with scheme `ecdsa-sha2-nistp384` (python-tuf reads
    /// them; tough does not, which the writer rules report).
    pub fn to_key(&self) -> Key {
        let (keytype, scheme, public) = match self {
            PublicKey::Ed25519(k) => ("ed25519", "ed25519", hex(k.as_bytes())),
            PublicKey::P256(k) => ("ecdsa", "ecdsa-sha2-nistp256", pem_lf(k.to_public_key_pem(LineEnding::LF))),
            PublicKey::P384(k) => ("ecdsa", "ecdsa-sha2-nistp384", pem_lf(k.to_public_key_pem(LineEnding::LF))),
            PublicKey::RsaPss(k) => ("rsa", "rsassa-pss-sha256", pem_lf(k.to_public_key_pem(LineEnding::LF))),
        };
        Key { keytype: keytype.into(), scheme: scheme.into(), public, keyval_extra: Fields::new(), extra: Fields::new() }
    }

    /// The SubjectPublicKeyInfo PEM (for the media's `keys/` folder and for openssl).
    pub fn to_pem(&self) -> String {
        match self {
            PublicKey::Ed25519(k) => pem_lf(k.to_public_key_pem(LineEnding::LF)),
            PublicKey::P256(k) => pem_lf(k.to_public_key_pem(LineEnding::LF)),
            PublicKey::P384(k) => pem_lf(k.to_public_key_pem(LineEnding::LF)),
            PublicKey::RsaPss(k) => pem_lf(k.to_public_key_pem(LineEnding::LF)),
        }
    }

    /// Verifies a signature over `msg` in TUF's encoding for this key type.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> SigCheck {
        let mut v = self.verifier(sig);
        v.update(msg);
        v.finish()
    }

    /// A check of `sig` that takes the message in pieces, so a large role's signature can
    /// be checked while its canonical bytes are still being produced (`verify` is this
    /// with one piece: there is one verification path). Each scheme hashes the message
    /// once: ed25519 inside dalek's stream verifier, ECDSA and RSA-PSS as the prehash
    /// their `verify` would compute.
    pub fn verifier(&self, sig: &[u8]) -> SigStream {
        let state = match self {
            PublicKey::Ed25519(k) => match ed25519_dalek::Signature::from_slice(sig).ok().and_then(|s| k.verify_stream(&s).ok()) {
                Some(v) => Stream::Ed25519(Box::new(v)),
                None => Stream::Malformed,
            },
            PublicKey::P256(k) => match p256::ecdsa::Signature::from_der(sig) {
                Ok(s) => Stream::P256(*k, s, Sha256::new()),
                Err(_) => Stream::Malformed,
            },
            PublicKey::P384(k) => match p384::ecdsa::Signature::from_der(sig) {
                Ok(s) => Stream::P384(*k, s, sha2::Sha384::new()),
                Err(_) => Stream::Malformed,
            },
            PublicKey::RsaPss(k) => match rsa::pss::Signature::try_from(sig) {
                Ok(s) => Stream::RsaPss(k.clone(), s, Sha256::new()),
                Err(_) => Stream::Malformed,
            },
        };
        SigStream(state)
    }
}

/// A signature check in progress (see [`PublicKey::verifier`]).
pub struct SigStream(Stream);

enum Stream {
    Ed25519(Box<ed25519_dalek::StreamVerifier>),
    P256(p256::ecdsa::VerifyingKey, p256::ecdsa::Signature, Sha256),
    P384(p384::ecdsa::VerifyingKey, p384::ecdsa::Signature, sha2::Sha384),
    RsaPss(Box<rsa::RsaPublicKey>, rsa::pss::Signature, Sha256),
    Malformed,
}

impl SigStream {
    pub fn update(&mut self, piece: &[u8]) {
        match &mut self.0 {
            Stream::Ed25519(v) => v.update(piece),
            Stream::P256(_, _, h) => h.update(piece),
            Stream::P384(_, _, h) => h.update(piece),
            Stream::RsaPss(_, _, h) => h.update(piece),
            Stream::Malformed => {}
        }
    }

    pub fn finish(self) -> SigCheck {
        use signature::hazmat::PrehashVerifier;
        match self.0 {
            Stream::Ed25519(v) => ok_or_bad(v.finalize_and_verify().is_ok()),
            Stream::P256(k, s, h) => ok_or_bad(k.verify_prehash(&h.finalize(), &s).is_ok()),
            Stream::P384(k, s, h) => ok_or_bad(k.verify_prehash(&h.finalize(), &s).is_ok()),
            Stream::RsaPss(k, s, h) => {
                let digest = h.finalize();
                let strict = rsa::pss::VerifyingKey::<Sha256>::new((*k).clone());
                if strict.verify_prehash(&digest, &s).is_ok() {
                    return SigCheck::Valid;
                }
                let auto = rsa::pss::VerifyingKey::<Sha256>::new_with_auto_salt_len(*k);
                if auto.verify_prehash(&digest, &s).is_ok() { SigCheck::ValidOddSalt } else { SigCheck::Invalid }
            }
            Stream::Malformed => SigCheck::Malformed,
        }
    }
}

fn ok_or_bad(ok: bool) -> SigCheck {
    if ok { SigCheck::Valid } else { SigCheck::Invalid }
}

/// The PEM text with exactly one trailing newline (securesystemslib's form).
fn pem_lf<E>(r: Result<String, E>) -> String {
    let s = r.unwrap_or_default();
    format!("{}\n", s.trim_end())
}

/// The outcome of checking one signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigCheck {
    Valid,
    /// RSA-PSS that verifies only with a salt length other than 32 (tough refuses it).
    ValidOddSalt,
    Invalid,
    /// Not in the key type's encoding (e.g. raw r‖s instead of DER).
    Malformed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyid_matches_vector() {
        // From shared/fixtures/tuf-vectors/README.txt (root key, seed 0x01 * 32).
        let sk = ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]);
        let key = PublicKey::Ed25519(sk.verifying_key()).to_key();
        assert_eq!(key.public, "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c");
        assert_eq!(keyid(&key), "7ab6b86cb2c9684b0ddc10896153aa2595decf4d4327a5ff1a8ab7422c828b12");
    }

    #[test]
    fn keyid_is_agrees_with_keyid() {
        let mut key = PublicKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]).verifying_key()).to_key();
        let id = keyid(&key);
        assert!(keyid_is(&key, &id));
        assert!(!keyid_is(&key, &id.to_uppercase()));
        assert!(!keyid_is(&key, &id[..63]));
        assert!(!keyid_is(&key, ""));
        // A longer key first (the reused buffer must not keep its tail), then the same key.
        key.extra.insert("x-long".into(), crate::tuf::json::Value::Str("y".repeat(500)));
        assert!(!keyid_is(&key, &id));
        assert!(keyid_is(&key, &keyid(&key)));
        key.extra.clear();
        assert!(keyid_is(&key, &id));
    }

    #[test]
    fn hex_roundtrip_and_case() {
        assert_eq!(unhex("00ff", true), Some(vec![0, 255]));
        assert_eq!(unhex("00FF", true), None);
        assert_eq!(unhex("00FF", false), Some(vec![0, 255]));
        assert_eq!(unhex("0", false), None);
        assert_eq!(hex(&[0xab, 0x01]), "ab01");
    }

    #[test]
    fn ecdsa_pem_form_is_securesystemslib_form() {
        let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let key = PublicKey::P256(*sk.verifying_key()).to_key();
        assert!(key.public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(key.public.ends_with("-----END PUBLIC KEY-----\n"));
        assert!(key.public.lines().all(|l| l.len() <= 64));
    }
}
