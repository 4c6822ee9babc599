//! Public keys, keyids and signature checks.
//!
//! Interoperable key forms (tuf-format.md §1.3): ed25519 as 64 lowercase hex characters;
//! ECDSA as PEM SubjectPublicKeyInfo with 64-column base64 and a trailing newline (the
//! form securesystemslib writes — a keyid covers the exact string, so the formatting is
//! part of the key's identity); RSASSA-PSS-SHA256 for verification only. ECDSA signatures
//! are DER over a SHA-256 (P-256) or SHA-384 (P-384) prehash.
//!
//! Verify-only, python-tuf only (securesystemslib registers them; go-tuf and tough do not):
//! the other RSA schemes (`rsassa-pss-sha384/512`, `rsa-pkcs1v15-sha256/384/512`) and
//! ML-DSA (TAP 21: `ml-dsa` with `ml-dsa-44/1`, `ml-dsa-65/1`, `ml-dsa-87/1`). Keyless
//! Sigstore signers (`sigstore-oidc`/`Fulcio`) are read and listed, but their signatures
//! can only be checked online (Fulcio and Rekor), so they are never decoded here.

use super::encode::canonical_sized;
use super::json::Fields;
use super::metadata::Key;
use p256::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The keytype of a keyless Sigstore signer (securesystemslib's `SigstoreKey`, which
/// python-tuf 7 does not register by default). Its `keyval` is `identity` and `issuer`.
pub const KEYLESS_KEYTYPE: &str = "sigstore-oidc";
/// The scheme of a keyless Sigstore signer.
pub const KEYLESS_SCHEME: &str = "Fulcio";

/// Whether `key` is a keyless Sigstore signer: its signatures carry a Sigstore bundle and
/// can only be checked online, so they are counted neither valid nor invalid.
pub fn is_keyless(key: &Key) -> bool {
    key.keytype == KEYLESS_KEYTYPE && key.scheme == KEYLESS_SCHEME
}

/// The `identity` and `issuer` of a keyless Sigstore signer, when both are strings (the
/// form securesystemslib requires).
pub fn keyless_identity(key: &Key) -> Option<(&str, &str)> {
    use super::json::Value;
    match (key.keyval_extra.get("identity"), key.keyval_extra.get("issuer")) {
        (Some(Value::Str(identity)), Some(Value::Str(issuer))) if is_keyless(key) => Some((identity, issuer)),
        _ => None,
    }
}

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

/// The key algorithms the tool understands. The tool generates and signs with the first
/// three; the others it only verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Ed25519,
    EcdsaP256,
    EcdsaP384,
    /// `rsa`/`rsassa-pss-sha256`, the RSA scheme all three clients read.
    RsaPssSha256,
    /// The other RSA schemes securesystemslib registers: python-tuf verifies them; tough
    /// refuses the whole file and go-tuf checks every `rsa` key as RSASSA-PSS-SHA256.
    RsaPssSha384,
    RsaPssSha512,
    RsaPkcs1v15Sha256,
    RsaPkcs1v15Sha384,
    RsaPkcs1v15Sha512,
    /// ML-DSA (FIPS 204, TAP 21): python-tuf verifies it; tough refuses the whole file and
    /// go-tuf every role that lists such a key.
    MlDsa44,
    MlDsa65,
    MlDsa87,
}

impl Algorithm {
    /// The algorithm a (keytype, scheme) pair names, if the tool can check its signatures.
    pub fn from_key(key: &Key) -> Option<Self> {
        match (&*key.keytype, &*key.scheme) {
            ("ed25519", "ed25519") => Some(Algorithm::Ed25519),
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => Some(Algorithm::EcdsaP256),
            ("ecdsa" | "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384") => Some(Algorithm::EcdsaP384),
            ("rsa", "rsassa-pss-sha256") => Some(Algorithm::RsaPssSha256),
            ("rsa", "rsassa-pss-sha384") => Some(Algorithm::RsaPssSha384),
            ("rsa", "rsassa-pss-sha512") => Some(Algorithm::RsaPssSha512),
            ("rsa", "rsa-pkcs1v15-sha256") => Some(Algorithm::RsaPkcs1v15Sha256),
            ("rsa", "rsa-pkcs1v15-sha384") => Some(Algorithm::RsaPkcs1v15Sha384),
            ("rsa", "rsa-pkcs1v15-sha512") => Some(Algorithm::RsaPkcs1v15Sha512),
            ("ml-dsa", "ml-dsa-44/1") => Some(Algorithm::MlDsa44),
            ("ml-dsa", "ml-dsa-65/1") => Some(Algorithm::MlDsa65),
            ("ml-dsa", "ml-dsa-87/1") => Some(Algorithm::MlDsa87),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256 => "ecdsa-p256",
            Algorithm::EcdsaP384 => "ecdsa-p384",
            Algorithm::RsaPssSha256 => "rsassa-pss-sha256",
            Algorithm::RsaPssSha384 => "rsassa-pss-sha384",
            Algorithm::RsaPssSha512 => "rsassa-pss-sha512",
            Algorithm::RsaPkcs1v15Sha256 => "rsa-pkcs1v15-sha256",
            Algorithm::RsaPkcs1v15Sha384 => "rsa-pkcs1v15-sha384",
            Algorithm::RsaPkcs1v15Sha512 => "rsa-pkcs1v15-sha512",
            Algorithm::MlDsa44 => "ml-dsa-44",
            Algorithm::MlDsa65 => "ml-dsa-65",
            Algorithm::MlDsa87 => "ml-dsa-87",
        }
    }
    /// An algorithm for new keys (plans, `keygen`): the ones the tool can generate.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ed25519" => Some(Algorithm::Ed25519),
            "ecdsa-p256" | "p256" | "ecdsa-sha2-nistp256" => Some(Algorithm::EcdsaP256),
            "ecdsa-p384" | "p384" | "ecdsa-sha2-nistp384" => Some(Algorithm::EcdsaP384),
            _ => None,
        }
    }
    /// The RSA schemes other than rsassa-pss-sha256.
    fn rsa_scheme(self) -> Option<RsaScheme> {
        match self {
            Algorithm::RsaPssSha384 => Some(RsaScheme { pss: true, hash: RsaHash::Sha384 }),
            Algorithm::RsaPssSha512 => Some(RsaScheme { pss: true, hash: RsaHash::Sha512 }),
            Algorithm::RsaPkcs1v15Sha256 => Some(RsaScheme { pss: false, hash: RsaHash::Sha256 }),
            Algorithm::RsaPkcs1v15Sha384 => Some(RsaScheme { pss: false, hash: RsaHash::Sha384 }),
            Algorithm::RsaPkcs1v15Sha512 => Some(RsaScheme { pss: false, hash: RsaHash::Sha512 }),
            _ => None,
        }
    }
}

/// The hash of an RSA scheme (also MGF1's hash for PSS, as securesystemslib uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RsaHash {
    Sha256,
    Sha384,
    Sha512,
}

/// An RSA scheme other than rsassa-pss-sha256: padding and hash. PSS is verified with any
/// salt length (securesystemslib's `PSS.AUTO`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RsaScheme {
    /// RSASSA-PSS; else PKCS#1 v1.5.
    pub pss: bool,
    pub hash: RsaHash,
}

impl RsaScheme {
    pub fn algorithm(self) -> Algorithm {
        match (self.pss, self.hash) {
            (true, RsaHash::Sha256) => Algorithm::RsaPssSha256,
            (true, RsaHash::Sha384) => Algorithm::RsaPssSha384,
            (true, RsaHash::Sha512) => Algorithm::RsaPssSha512,
            (false, RsaHash::Sha256) => Algorithm::RsaPkcs1v15Sha256,
            (false, RsaHash::Sha384) => Algorithm::RsaPkcs1v15Sha384,
            (false, RsaHash::Sha512) => Algorithm::RsaPkcs1v15Sha512,
        }
    }
}

/// A decoded public key.
#[derive(Clone, Debug)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    /// `rsa`/`rsassa-pss-sha256`.
    RsaPss(Box<rsa::RsaPublicKey>),
    /// `rsa` with any other scheme python-tuf registers (verify only).
    Rsa(Box<rsa::RsaPublicKey>, RsaScheme),
    /// ML-DSA (verify only); the keys precompute their matrix on the heap.
    MlDsa44(ml_dsa::VerifyingKey<ml_dsa::MlDsa44>),
    MlDsa65(ml_dsa::VerifyingKey<ml_dsa::MlDsa65>),
    MlDsa87(ml_dsa::VerifyingKey<ml_dsa::MlDsa87>),
}

/// Why a key object cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("unsupported keytype/scheme {0:?}/{1:?} ({note})", note = unsupported_note(.0, .1))]
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
    #[error("RSA public key is not a PEM public key (SubjectPublicKeyInfo or PKCS#1) of at most 8192 bits")]
    BadRsaPem,
    #[error("ML-DSA public key is not a PEM SubjectPublicKeyInfo of the scheme's parameter set")]
    BadMlDsa,
    #[error("keyless Sigstore key: keyval must hold the strings identity and issuer")]
    BadKeyless,
    #[error("keyless Sigstore signer: its signatures can only be checked online, against Fulcio and Rekor")]
    Keyless,
}

/// What each client does with a (keytype, scheme) pair the tool cannot check.
fn unsupported_note(keytype: &str, scheme: &str) -> &'static str {
    if python_registers(keytype, scheme) {
        "python-tuf reads it and checks its signatures, this tool cannot; tough refuses the whole file"
    } else {
        "python-tuf and tough refuse the whole file"
    }
}

/// Whether securesystemslib 1.6 registers the pair by default (`KEY_FOR_TYPE_AND_SCHEME`):
/// python-tuf refuses the whole file at load for any other pair.
pub fn python_registers(keytype: &str, scheme: &str) -> bool {
    matches!(
        (keytype, scheme),
        ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256")
            | ("ecdsa" | "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384")
            | ("ecdsa" | "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521")
            | ("ed25519", "ed25519")
            | ("ml-dsa", "ml-dsa-44/1" | "ml-dsa-65/1" | "ml-dsa-87/1")
            | (
                "rsa",
                "rsassa-pss-sha256"
                    | "rsassa-pss-sha384"
                    | "rsassa-pss-sha512"
                    | "rsa-pkcs1v15-sha256"
                    | "rsa-pkcs1v15-sha384"
                    | "rsa-pkcs1v15-sha512"
                    | "pgp+rsa-pkcsv1.5"
            )
            | ("dsa", "pgp+dsa-fips-180-2")
            | ("eddsa", "pgp+eddsa-ed25519")
    )
}

const PEM_SPKI: &str = "-----BEGIN PUBLIC KEY-----";
const PEM_PKCS1_RSA: &str = "-----BEGIN RSA PUBLIC KEY-----";

/// Checks a key object's form without decoding curve points (cheap enough for 100,000
/// delegated keys; full decoding happens only for keys whose signatures are checked).
pub fn check_key_shape(key: &Key) -> Result<(), String> {
    if is_keyless(key) {
        return keyless_identity(key).map(|_| ()).ok_or_else(|| KeyError::BadKeyless.to_string());
    }
    let Some(alg) = Algorithm::from_key(key) else {
        return Err(KeyError::Unsupported(key.keytype.to_string(), key.scheme.to_string()).to_string());
    };
    let p = &key.public;
    let ok = match alg {
        Algorithm::Ed25519 => p.len() == 64 && is_hex(p, true),
        Algorithm::EcdsaP256 | Algorithm::EcdsaP384 => {
            if !p.starts_with(PEM_SPKI) && is_hex(p, false) {
                return Err(KeyError::HexEcdsa.to_string());
            }
            p.starts_with(PEM_SPKI)
        }
        Algorithm::RsaPssSha256 | Algorithm::MlDsa44 | Algorithm::MlDsa65 | Algorithm::MlDsa87 => p.starts_with(PEM_SPKI),
        // python-tuf's `load_pem_public_key` also reads PKCS#1 PEM.
        Algorithm::RsaPssSha384 | Algorithm::RsaPssSha512 | Algorithm::RsaPkcs1v15Sha256 | Algorithm::RsaPkcs1v15Sha384 | Algorithm::RsaPkcs1v15Sha512 => {
            p.starts_with(PEM_SPKI) || p.starts_with(PEM_PKCS1_RSA)
        }
    };
    if ok {
        Ok(())
    } else {
        Err(match alg {
            Algorithm::Ed25519 => KeyError::BadEd25519,
            Algorithm::EcdsaP256 | Algorithm::EcdsaP384 => KeyError::BadEcdsaPem,
            Algorithm::RsaPssSha256 => KeyError::BadRsa,
            Algorithm::MlDsa44 | Algorithm::MlDsa65 | Algorithm::MlDsa87 => KeyError::BadMlDsa,
            _ => KeyError::BadRsaPem,
        }
        .to_string())
    }
}

impl PublicKey {
    /// Decodes a key object. `lenient` also accepts hex-encoded ECDSA points.
    pub fn from_key(key: &Key, lenient: bool) -> Result<Self, KeyError> {
        if is_keyless(key) {
            return Err(KeyError::Keyless);
        }
        let alg = Algorithm::from_key(key).ok_or_else(|| KeyError::Unsupported(key.keytype.to_string(), key.scheme.to_string()))?;
        let p = key.public.as_str();
        let is_pem = p.starts_with(PEM_SPKI);
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
            Algorithm::RsaPssSha384 | Algorithm::RsaPssSha512 | Algorithm::RsaPkcs1v15Sha256 | Algorithm::RsaPkcs1v15Sha384 | Algorithm::RsaPkcs1v15Sha512 => {
                use rsa::pkcs1::DecodeRsaPublicKey;
                // Any size the rsa crate reads (at most 8192 bits): python-tuf sets no bound.
                let k = if is_pem { rsa::RsaPublicKey::from_public_key_pem(p).ok() } else { rsa::RsaPublicKey::from_pkcs1_pem(p).ok() };
                let scheme = alg.rsa_scheme().ok_or(KeyError::BadRsaPem)?;
                Ok(PublicKey::Rsa(Box::new(k.ok_or(KeyError::BadRsaPem)?), scheme))
            }
            Algorithm::MlDsa44 => ml_dsa::VerifyingKey::from_public_key_pem(p).map(PublicKey::MlDsa44).map_err(|_| KeyError::BadMlDsa),
            Algorithm::MlDsa65 => ml_dsa::VerifyingKey::from_public_key_pem(p).map(PublicKey::MlDsa65).map_err(|_| KeyError::BadMlDsa),
            Algorithm::MlDsa87 => ml_dsa::VerifyingKey::from_public_key_pem(p).map(PublicKey::MlDsa87).map_err(|_| KeyError::BadMlDsa),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Ed25519(_) => Algorithm::Ed25519,
            PublicKey::P256(_) => Algorithm::EcdsaP256,
            PublicKey::P384(_) => Algorithm::EcdsaP384,
            PublicKey::RsaPss(_) => Algorithm::RsaPssSha256,
            PublicKey::Rsa(_, scheme) => scheme.algorithm(),
            PublicKey::MlDsa44(_) => Algorithm::MlDsa44,
            PublicKey::MlDsa65(_) => Algorithm::MlDsa65,
            PublicKey::MlDsa87(_) => Algorithm::MlDsa87,
        }
    }

    /// The key object the tool writes for this key: the forms all three clients read.
    /// P-384 keys use keytype `ecdsa` with scheme `ecdsa-sha2-nistp384` (python-tuf reads
    /// them; tough does not, which the writer rules report).
    pub fn to_key(&self) -> Key {
        let (keytype, scheme) = match self {
            PublicKey::Ed25519(_) => ("ed25519", "ed25519"),
            PublicKey::P256(_) => ("ecdsa", "ecdsa-sha2-nistp256"),
            PublicKey::P384(_) => ("ecdsa", "ecdsa-sha2-nistp384"),
            PublicKey::RsaPss(_) | PublicKey::Rsa(..) => ("rsa", self.algorithm().name()),
            PublicKey::MlDsa44(_) => ("ml-dsa", "ml-dsa-44/1"),
            PublicKey::MlDsa65(_) => ("ml-dsa", "ml-dsa-65/1"),
            PublicKey::MlDsa87(_) => ("ml-dsa", "ml-dsa-87/1"),
        };
        let public = match self {
            PublicKey::Ed25519(k) => hex(k.as_bytes()),
            _ => self.to_pem(),
        };
        Key { keytype: keytype.into(), scheme: scheme.into(), public, has_public: true, keyval_extra: Fields::new(), extra: Fields::new() }
    }

    /// The SubjectPublicKeyInfo PEM (for the media's `keys/` folder and for openssl).
    pub fn to_pem(&self) -> String {
        match self {
            PublicKey::Ed25519(k) => pem_lf(k.to_public_key_pem(LineEnding::LF)),
            PublicKey::P256(k) => pem_lf(k.to_public_key_pem(LineEnding::LF)),
            PublicKey::P384(k) => pem_lf(k.to_public_key_pem(LineEnding::LF)),
            PublicKey::RsaPss(k) | PublicKey::Rsa(k, _) => pem_lf(k.to_public_key_pem(LineEnding::LF)),
            PublicKey::MlDsa44(k) => pem_lf(k.to_public_key_pem(LineEnding::LF)),
            PublicKey::MlDsa65(k) => pem_lf(k.to_public_key_pem(LineEnding::LF)),
            PublicKey::MlDsa87(k) => pem_lf(k.to_public_key_pem(LineEnding::LF)),
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
    /// once: ed25519 inside dalek's stream verifier, ECDSA and RSA as the prehash their
    /// `verify` would compute, ML-DSA as the SHA-512 of TUF's ML-DSA payload (TAP 21).
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
            // An RSA signature is exactly as long as the modulus (OpenSSL, which python-tuf
            // verifies with, and ring, tough's, refuse any other length; a leading zero byte
            // dropped would otherwise still verify here).
            PublicKey::RsaPss(k) if sig.len() != rsa::traits::PublicKeyParts::size(&**k) => Stream::Malformed,
            PublicKey::Rsa(k, _) if sig.len() != rsa::traits::PublicKeyParts::size(&**k) => Stream::Malformed,
            PublicKey::RsaPss(k) => match rsa::pss::Signature::try_from(sig) {
                Ok(s) => Stream::RsaPss(k.clone(), s, Sha256::new()),
                Err(_) => Stream::Malformed,
            },
            PublicKey::Rsa(k, scheme) => {
                let digest = match scheme.hash {
                    RsaHash::Sha256 => Hasher::Sha256(Sha256::new()),
                    RsaHash::Sha384 => Hasher::Sha384(Sha384::new()),
                    RsaHash::Sha512 => Hasher::Sha512(Sha512::new()),
                };
                Stream::Rsa(k.clone(), *scheme, sig.into(), digest)
            }
            PublicKey::MlDsa44(k) => ml_dsa_stream(k, sig, MlDsaCheck::L44),
            PublicKey::MlDsa65(k) => ml_dsa_stream(k, sig, MlDsaCheck::L65),
            PublicKey::MlDsa87(k) => ml_dsa_stream(k, sig, MlDsaCheck::L87),
        };
        SigStream(state)
    }
}

/// An ML-DSA check: the key and the decoded signature, for one parameter set.
enum MlDsaCheck {
    L44(ml_dsa::VerifyingKey<ml_dsa::MlDsa44>, ml_dsa::Signature<ml_dsa::MlDsa44>),
    L65(ml_dsa::VerifyingKey<ml_dsa::MlDsa65>, ml_dsa::Signature<ml_dsa::MlDsa65>),
    L87(ml_dsa::VerifyingKey<ml_dsa::MlDsa87>, ml_dsa::Signature<ml_dsa::MlDsa87>),
}

fn ml_dsa_stream<P: ml_dsa::MlDsaParams>(
    k: &ml_dsa::VerifyingKey<P>,
    sig: &[u8],
    check: fn(ml_dsa::VerifyingKey<P>, ml_dsa::Signature<P>) -> MlDsaCheck,
) -> Stream {
    match ml_dsa::Signature::<P>::try_from(sig) {
        Ok(s) => Stream::MlDsa(Box::new(check(k.clone(), s)), Sha512::new()),
        Err(_) => Stream::Malformed,
    }
}

/// The message ML-DSA keys sign in TUF (TAP 21, securesystemslib `get_mldsa_payload`,
/// version 1): `b"tuf"`, the version byte, then SHA-512 of the canonical signed bytes.
/// Signed with pure ML-DSA and an empty context.
pub fn ml_dsa_payload(sha512_of_signed: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(4 + sha512_of_signed.len());
    m.extend_from_slice(b"tuf\x01");
    m.extend_from_slice(sha512_of_signed);
    m
}

/// A running digest of one of the RSA schemes' hashes.
enum Hasher {
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

/// A signature check in progress (see [`PublicKey::verifier`]).
pub struct SigStream(Stream);

enum Stream {
    Ed25519(Box<ed25519_dalek::StreamVerifier>),
    P256(p256::ecdsa::VerifyingKey, p256::ecdsa::Signature, Sha256),
    P384(p384::ecdsa::VerifyingKey, p384::ecdsa::Signature, sha2::Sha384),
    RsaPss(Box<rsa::RsaPublicKey>, rsa::pss::Signature, Sha256),
    Rsa(Box<rsa::RsaPublicKey>, RsaScheme, Box<[u8]>, Hasher),
    MlDsa(Box<MlDsaCheck>, Sha512),
    Malformed,
}

impl SigStream {
    pub fn update(&mut self, piece: &[u8]) {
        match &mut self.0 {
            Stream::Ed25519(v) => v.update(piece),
            Stream::P256(_, _, h) => h.update(piece),
            Stream::P384(_, _, h) => h.update(piece),
            Stream::RsaPss(_, _, h) => h.update(piece),
            Stream::Rsa(_, _, _, Hasher::Sha256(h)) => h.update(piece),
            Stream::Rsa(_, _, _, Hasher::Sha384(h)) => h.update(piece),
            Stream::Rsa(_, _, _, Hasher::Sha512(h)) => h.update(piece),
            Stream::MlDsa(_, h) => h.update(piece),
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
            Stream::Rsa(k, scheme, sig, h) => match h {
                Hasher::Sha256(h) => rsa_verify::<Sha256>(*k, scheme, &sig, &h.finalize()),
                Hasher::Sha384(h) => rsa_verify::<Sha384>(*k, scheme, &sig, &h.finalize()),
                Hasher::Sha512(h) => rsa_verify::<Sha512>(*k, scheme, &sig, &h.finalize()),
            },
            Stream::MlDsa(check, h) => {
                let m = ml_dsa_payload(&h.finalize());
                ok_or_bad(match *check {
                    MlDsaCheck::L44(k, s) => k.verify_with_context(&m, &[], &s),
                    MlDsaCheck::L65(k, s) => k.verify_with_context(&m, &[], &s),
                    MlDsaCheck::L87(k, s) => k.verify_with_context(&m, &[], &s),
                })
            }
            Stream::Malformed => SigCheck::Malformed,
        }
    }
}

/// Checks an RSA signature of one of the verify-only schemes over a digest made with `D`
/// (PSS: MGF1 with `D` and any salt length, as securesystemslib verifies).
fn rsa_verify<D>(k: rsa::RsaPublicKey, scheme: RsaScheme, sig: &[u8], digest: &[u8]) -> SigCheck
where
    D: Digest + digest::FixedOutputReset + pkcs8::der::oid::AssociatedOid,
{
    use signature::hazmat::PrehashVerifier;
    if scheme.pss {
        match rsa::pss::Signature::try_from(sig) {
            Ok(s) => ok_or_bad(rsa::pss::VerifyingKey::<D>::new_with_auto_salt_len(k).verify_prehash(digest, &s).is_ok()),
            Err(_) => SigCheck::Malformed,
        }
    } else {
        match rsa::pkcs1v15::Signature::try_from(sig) {
            Ok(s) => ok_or_bad(rsa::pkcs1v15::VerifyingKey::<D>::new(k).verify_prehash(digest, &s).is_ok()),
            Err(_) => SigCheck::Malformed,
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

    /// A 2048-bit RSA key (generated once: the RSA tests share it).
    fn rsa_test_key() -> &'static rsa::RsaPrivateKey {
        static KEY: std::sync::OnceLock<rsa::RsaPrivateKey> = std::sync::OnceLock::new();
        KEY.get_or_init(|| rsa::RsaPrivateKey::new(&mut getrandom::rand_core::UnwrapErr(getrandom::SysRng), 2048).unwrap())
    }

    fn key_object(keytype: &str, scheme: &str, public: String) -> Key {
        Key {
            keytype: keytype.to_string().into(),
            scheme: scheme.to_string().into(),
            public,
            has_public: true,
            keyval_extra: Fields::new(),
            extra: Fields::new(),
        }
    }

    /// Verifies `sig` over `msg` in two pieces (the stream path `verify` also takes).
    fn verify_in_pieces(pk: &PublicKey, msg: &[u8], sig: &[u8]) -> SigCheck {
        let mut v = pk.verifier(sig);
        let (a, b) = msg.split_at(msg.len() / 3);
        v.update(a);
        v.update(b);
        v.finish()
    }

    /// One-byte changes: of the message (the signature no longer covers it) and of the
    /// signature.
    fn assert_bound(pk: &PublicKey, msg: &[u8], sig: &[u8], label: &str) {
        assert_eq!(pk.verify(msg, sig), SigCheck::Valid, "{label}");
        assert_eq!(verify_in_pieces(pk, msg, sig), SigCheck::Valid, "{label} in pieces");
        let mut other = msg.to_vec();
        other[5] ^= 1;
        assert_eq!(pk.verify(&other, sig), SigCheck::Invalid, "{label}: changed message");
        let mut bad = sig.to_vec();
        let mid = bad.len() / 2;
        bad[mid] ^= 1;
        assert_ne!(pk.verify(msg, &bad), SigCheck::Valid, "{label}: changed signature");
        assert_ne!(pk.verify(msg, &sig[1..]), SigCheck::Valid, "{label}: shortened signature");
        // A leading zero byte dropped is the same number, but not a signature of the
        // modulus's length: malformed, as OpenSSL and ring have it.
        if matches!(pk, PublicKey::Rsa(..) | PublicKey::RsaPss(_)) {
            let mut padded = vec![0u8];
            padded.extend_from_slice(sig);
            assert_eq!(pk.verify(msg, &padded), SigCheck::Malformed, "{label}: a signature longer than the modulus");
            if sig[0] == 0 {
                assert_eq!(pk.verify(msg, &sig[1..]), SigCheck::Malformed, "{label}: the leading zero dropped");
            }
        }
    }

    #[test]
    fn rsa_schemes_python_tuf_registers_verify() {
        use rsa::pkcs1::EncodeRsaPublicKey;
        use signature::{RandomizedSigner, SignatureEncoding, Signer};
        let sk = rsa_test_key();
        let spki = pem_lf(sk.to_public_key().to_public_key_pem(LineEnding::LF));
        let pkcs1 = sk.to_public_key().to_pkcs1_pem(LineEnding::LF).unwrap();
        let msg = b"{\"signed\":{\"_type\":\"root\"},\"the canonical bytes\":1}";
        let rng = &mut getrandom::rand_core::UnwrapErr(getrandom::SysRng);
        let sigs: [(&str, Algorithm, Vec<u8>); 5] = [
            ("rsa-pkcs1v15-sha256", Algorithm::RsaPkcs1v15Sha256, rsa::pkcs1v15::SigningKey::<Sha256>::new(sk.clone()).sign(msg).to_vec()),
            ("rsa-pkcs1v15-sha384", Algorithm::RsaPkcs1v15Sha384, rsa::pkcs1v15::SigningKey::<Sha384>::new(sk.clone()).sign(msg).to_vec()),
            ("rsa-pkcs1v15-sha512", Algorithm::RsaPkcs1v15Sha512, rsa::pkcs1v15::SigningKey::<Sha512>::new(sk.clone()).sign(msg).to_vec()),
            ("rsassa-pss-sha384", Algorithm::RsaPssSha384, rsa::pss::SigningKey::<Sha384>::new(sk.clone()).sign_with_rng(rng, msg).to_vec()),
            ("rsassa-pss-sha512", Algorithm::RsaPssSha512, rsa::pss::SigningKey::<Sha512>::new(sk.clone()).sign_with_rng(rng, msg).to_vec()),
        ];
        for (scheme, alg, sig) in &sigs {
            for public in [&spki, &pkcs1] {
                let key = key_object("rsa", scheme, public.clone());
                assert_eq!(Algorithm::from_key(&key), Some(*alg));
                check_key_shape(&key).unwrap();
                let pk = PublicKey::from_key(&key, false).unwrap();
                assert_eq!(pk.algorithm(), *alg);
                assert_bound(&pk, msg, sig, scheme);
                // The writer's form of the key names the same scheme.
                assert_eq!(pk.to_key().scheme, *scheme);
            }
        }
        // Scheme binding: a PKCS#1 v1.5 signature is not a PSS one, nor with another hash.
        let pkcs1_256 = &sigs[0].2;
        for other in ["rsa-pkcs1v15-sha384", "rsassa-pss-sha384", "rsassa-pss-sha512"] {
            let pk = PublicKey::from_key(&key_object("rsa", other, spki.clone()), false).unwrap();
            assert_ne!(pk.verify(msg, pkcs1_256), SigCheck::Valid, "{other} must not accept an rsa-pkcs1v15-sha256 signature");
        }
        // PSS with another salt length verifies (securesystemslib's PSS.AUTO), and is not
        // the odd-salt case that only concerns tough's rsassa-pss-sha256.
        let salt0 = rsa::pss::SigningKey::<Sha512>::new_with_salt_len(sk.clone(), 0).sign_with_rng(rng, msg).to_vec();
        let pk = PublicKey::from_key(&key_object("rsa", "rsassa-pss-sha512", spki.clone()), false).unwrap();
        assert_eq!(pk.verify(msg, &salt0), SigCheck::Valid);
        // rsassa-pss-sha256 keeps reporting odd salt lengths (tough refuses them).
        let odd = rsa::pss::SigningKey::<Sha256>::new_with_salt_len(sk.clone(), 0).sign_with_rng(rng, msg).to_vec();
        let pk256 = PublicKey::from_key(&key_object("rsa", "rsassa-pss-sha256", spki.clone()), false).unwrap();
        assert_eq!(pk256.verify(msg, &odd), SigCheck::ValidOddSalt);
        // sha224 is not a scheme python-tuf registers.
        let sha224 = key_object("rsa", "rsassa-pss-sha224", spki.clone());
        assert!(matches!(PublicKey::from_key(&sha224, false), Err(KeyError::Unsupported(..))));
        assert!(check_key_shape(&sha224).unwrap_err().contains("python-tuf and tough refuse the whole file"));
        // A PEM that is not RSA.
        let ec = PublicKey::P256(*p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap().verifying_key()).to_pem();
        assert_eq!(PublicKey::from_key(&key_object("rsa", "rsa-pkcs1v15-sha256", ec), false).unwrap_err(), KeyError::BadRsaPem);
    }

    #[test]
    fn ml_dsa_verifies_over_the_tuf_prehash() {
        use ml_dsa::Keypair;
        fn check<P: ml_dsa::MlDsaParams>(scheme: &str, wrap: fn(ml_dsa::VerifyingKey<P>) -> PublicKey)
        where
            ml_dsa::VerifyingKey<P>: EncodePublicKey,
        {
            let sk = ml_dsa::SigningKey::<P>::from_seed(&[9u8; 32].into());
            let key = wrap(sk.verifying_key()).to_key();
            assert_eq!(key.keytype, "ml-dsa");
            assert_eq!(key.scheme, scheme);
            check_key_shape(&key).unwrap();
            let pk = PublicKey::from_key(&key, false).unwrap();
            let msg = b"{\"signed\":{\"_type\":\"targets\"},\"canonical\":true}";
            let payload = ml_dsa_payload(&Sha512::digest(msg));
            assert_eq!(payload.len(), 68);
            assert_eq!(&payload[..4], b"tuf\x01");
            let sig = sk.expanded_key().sign_deterministic(&payload, &[]).unwrap().encode().to_vec();
            assert_bound(&pk, msg, &sig, scheme);
            // Over the message itself (no TUF pre-hash), or with a context: not valid.
            let raw = sk.expanded_key().sign_deterministic(msg, &[]).unwrap().encode().to_vec();
            assert_eq!(pk.verify(msg, &raw), SigCheck::Invalid, "{scheme}: no pre-hash");
            let ctx = sk.expanded_key().sign_deterministic(&payload, b"tuf").unwrap().encode().to_vec();
            assert_eq!(pk.verify(msg, &ctx), SigCheck::Invalid, "{scheme}: non-empty context");
        }
        check::<ml_dsa::MlDsa44>("ml-dsa-44/1", PublicKey::MlDsa44);
        check::<ml_dsa::MlDsa65>("ml-dsa-65/1", PublicKey::MlDsa65);
        check::<ml_dsa::MlDsa87>("ml-dsa-87/1", PublicKey::MlDsa87);
        // A key of one parameter set under another's scheme does not decode.
        let k44 = PublicKey::MlDsa44(ml_dsa::SigningKey::<ml_dsa::MlDsa44>::from_seed(&[9u8; 32].into()).verifying_key()).to_pem();
        assert_eq!(PublicKey::from_key(&key_object("ml-dsa", "ml-dsa-65/1", k44), false).unwrap_err(), KeyError::BadMlDsa);
    }

    /// The real post-quantum repository (jku/pqc-test-repo2, tuf-on-ci, ML-DSA-44): its
    /// first root's signature by its own root key verifies, and a changed root does not.
    #[test]
    fn ml_dsa_real_root_signature_verifies() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/real/repos/jku-pqc-test-repo2/metadata/root_history");
        let Ok(bytes) = std::fs::read(dir.join("1.root.json")) else {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{} is required under CI", dir.display());
            eprintln!("SKIPPED: {} not available (the shared real-repository fixtures)", dir.display());
            return;
        };
        let md = crate::tuf::metadata::Metadata::from_bytes(&bytes, crate::tuf::metadata::Mode::Strict).unwrap();
        let root = md.signed.as_root().unwrap();
        let check = crate::tuf::verify::check_top_level(root, "root", &md, &md.signed_bytes(), false).unwrap();
        assert_eq!(check.valid(), 1, "{check:?}");
        let (id, _) = &check.keys[0];
        assert_eq!(PublicKey::from_key(&root.keys[id], false).unwrap().algorithm(), Algorithm::MlDsa44);
        let mut changed = md.clone();
        changed.signed.header_mut().version += 1;
        let again = crate::tuf::verify::check_top_level(root, "root", &changed, &changed.signed_bytes(), false).unwrap();
        assert_eq!(again.valid(), 0);
        assert_eq!(again.keys[0].1, crate::tuf::verify::KeyOutcome::Invalid);
    }

    /// A root whose timestamp role is a keyless Sigstore signer (tuf-on-ci's form).
    const KEYLESS_ROOT: &str = r#"{"signatures":[{"bundle":{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.2"},"keyid":"abcd","sig":"MEUCIQ=="}],"signed":{"_type":"root","consistent_snapshot":true,"expires":"2030-01-01T00:00:00Z","keys":{"abcd":{"keytype":"sigstore-oidc","keyval":{"identity":"https://github.com/o/r/.github/workflows/online-sign.yml@refs/heads/main","issuer":"https://token.actions.githubusercontent.com"},"scheme":"Fulcio","x-tuf-on-ci-online-uri":"sigstore:"}},"roles":{"root":{"keyids":["abcd"],"threshold":1},"snapshot":{"keyids":["abcd"],"threshold":1},"targets":{"keyids":["abcd"],"threshold":1},"timestamp":{"keyids":["abcd"],"threshold":1}},"spec_version":"1.0.31","version":1}}"#;

    #[test]
    fn keyless_key_parses_strictly_and_its_signature_is_undecidable() {
        use crate::tuf::metadata::{Metadata, Mode};
        use crate::tuf::verify::KeyOutcome;
        let md = Metadata::from_bytes(KEYLESS_ROOT.as_bytes(), Mode::Strict).unwrap();
        let root = md.signed.as_root().unwrap();
        let key = &root.keys["abcd"];
        assert!(is_keyless(key) && !key.has_public);
        assert_eq!(keyless_identity(key).map(|(_, issuer)| issuer), Some("https://token.actions.githubusercontent.com"));
        check_key_shape(key).unwrap();
        assert_eq!(PublicKey::from_key(key, true).unwrap_err(), KeyError::Keyless);
        // Lossless: no "public" is written back, so the signed bytes are the file's.
        let signed_start = KEYLESS_ROOT.find("\"signed\":").unwrap() + 9;
        assert_eq!(md.signed_bytes(), &KEYLESS_ROOT.as_bytes()[signed_start..KEYLESS_ROOT.len() - 1]);
        // Neither valid nor invalid: the threshold cannot be decided offline.
        let check = crate::tuf::verify::check_top_level(root, "timestamp", &md, &md.signed_bytes(), false).unwrap();
        assert_eq!(check.keys, vec![("abcd".to_string(), KeyOutcome::Undecidable)]);
        assert_eq!((check.valid(), check.undecidable()), (0, 1));
        assert!(!check.met() && check.undecidable_offline());
        // An empty placeholder is unsigned, and then the threshold is simply not met.
        let mut unsigned = md.clone();
        unsigned.signatures[0].sig.clear();
        let check = crate::tuf::verify::check_top_level(root, "timestamp", &unsigned, &unsigned.signed_bytes(), false).unwrap();
        assert_eq!(check.keys[0].1, KeyOutcome::Unsigned);
        assert!(!check.met() && !check.undecidable_offline());
    }

    #[test]
    fn keyless_key_needs_identity_and_issuer_and_only_it_may_lack_public() {
        use crate::tuf::metadata::{Metadata, Mode};
        let no_issuer = KEYLESS_ROOT.replace(r#","issuer":"https://token.actions.githubusercontent.com""#, "");
        let md = Metadata::from_bytes(no_issuer.as_bytes(), Mode::Lenient).unwrap();
        assert_eq!(check_key_shape(&md.signed.as_root().unwrap().keys["abcd"]).unwrap_err(), KeyError::BadKeyless.to_string());
        assert!(Metadata::from_bytes(no_issuer.as_bytes(), Mode::Strict).is_err());
        // Any other keytype without keyval.public is not TUF metadata.
        let not_keyless = KEYLESS_ROOT.replace("sigstore-oidc", "ed25519");
        let e = Metadata::from_bytes(not_keyless.as_bytes(), Mode::Lenient).unwrap_err();
        assert_eq!(e.to_string(), "at $.signed.keys.abcd.keyval: missing required field \"public\"");
    }

    #[test]
    fn unsupported_message_says_what_each_client_does() {
        let p521 = KeyError::Unsupported("ecdsa".into(), "ecdsa-sha2-nistp521".into()).to_string();
        assert!(p521.contains("python-tuf reads it") && p521.contains("tough refuses the whole file"), "{p521}");
        let unknown = KeyError::Unsupported("foo".into(), "bar".into()).to_string();
        assert!(unknown.contains("python-tuf and tough refuse the whole file"), "{unknown}");
        for (t, s) in [("rsa", "rsa-pkcs1v15-sha256"), ("rsa", "rsassa-pss-sha512"), ("ml-dsa", "ml-dsa-87/1")] {
            assert!(python_registers(t, s));
        }
        assert!(!python_registers("rsa", "rsassa-pss-sha224") && !python_registers(KEYLESS_KEYTYPE, KEYLESS_SCHEME));
    }
}
