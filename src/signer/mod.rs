//! Signers: anything that holds a private key and signs canonical bytes.
//!
//! The ceremony engine only sees this trait, so a software key file, a YubiKey PIV slot
//! and a PKCS#11 token are interchangeable. Every signature is verified against the
//! expected public key before it is attached: a wrong token, a wrong slot or a faulty
//! device is caught at once, never after the metadata has left the machine.

mod ed25519_overlap;
pub mod pkcs11;
pub mod software;
pub mod yubihsm;
pub mod yubikey;

use crate::tuf::keys::{PublicKey, SigCheck, hex, keyid};
use crate::tuf::metadata::{Metadata, Signature};

/// Errors a signer reports. Variants are typed so the UI can tell "wrong PIN, 2 tries left"
/// from "token unplugged" and act differently.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    #[error("wrong PIN or passphrase{}", retries_left.map(|n| format!(" ({n} tries left)")).unwrap_or_default())]
    WrongPin { retries_left: Option<u32> },
    #[error("the PIN is blocked")]
    PinBlocked,
    #[error("no token found: {0}")]
    NotFound(String),
    #[error("device error: {0}")]
    Device(String),
    #[error("key file: {0}")]
    KeyFile(String),
    #[error("the signature made by {signer} does not verify against key {keyid}: wrong token or slot?")]
    WrongKey { signer: String, keyid: String },
    #[error("metadata already has a different valid signature by key {0}")]
    AlreadySigned(String),
}

/// Something that signs with one key.
pub trait Signer {
    /// The public key this signer is expected to sign for.
    fn public_key(&self) -> &PublicKey;
    /// A short description for the operator, e.g. "YubiKey 12345678 slot 9c".
    fn describe(&self) -> String;
    /// Signs `payload` (the canonical bytes), returning the signature in TUF's encoding for
    /// the key type: 64 raw bytes for ed25519, DER for ECDSA.
    fn sign(&mut self, payload: &[u8]) -> Result<Vec<u8>, SignerError>;

    /// Signs `payload` and returns the signature only if it verifies against
    /// `public_key()`. The default signs, then verifies; a signer that can check its
    /// signature while still making it (software ed25519 on large payloads) overrides it.
    fn sign_checked(&mut self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        sign_then_verify(self, payload)
    }
}

/// `Signer::sign_checked`'s default: sign, then verify against the expected key.
pub(crate) fn sign_then_verify<S: Signer + ?Sized>(signer: &mut S, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
    let sig = signer.sign(payload)?;
    if signer.public_key().verify(payload, &sig) != SigCheck::Valid {
        return Err(wrong_key(signer));
    }
    Ok(sig)
}

/// The error for a signature that does not verify against the signer's expected key.
fn wrong_key<S: Signer + ?Sized>(signer: &S) -> SignerError {
    SignerError::WrongKey { signer: signer.describe(), keyid: keyid(&signer.public_key().to_key()) }
}

/// What `sign_metadata` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Signed {
    Added,
    /// The key had already signed these exact bytes; nothing changed.
    AlreadyPresent,
}

/// Signs `md` with `signer`, verifies the signature against the signer's expected key,
/// and attaches it (replacing an empty placeholder for the same keyid).
pub fn sign_metadata(md: &mut Metadata, signer: &mut dyn Signer) -> Result<Signed, SignerError> {
    let payload = md.signed_bytes();
    sign_payload(md, &payload, signer)
}

/// As `sign_metadata`, with the canonical bytes already computed (large roles).
pub fn sign_payload(md: &mut Metadata, payload: &[u8], signer: &mut dyn Signer) -> Result<Signed, SignerError> {
    let key = signer.public_key().clone();
    let id = keyid(&key.to_key());
    if let Some(existing) = md.signatures.iter().find(|s| s.keyid == id && !s.sig.is_empty()) {
        let ok = crate::tuf::keys::unhex(&existing.sig, true).map(|b| key.verify(payload, &b) == SigCheck::Valid).unwrap_or(false);
        return if ok { Ok(Signed::AlreadyPresent) } else { Err(SignerError::AlreadySigned(id)) };
    }
    let sig = signer.sign_checked(payload)?;
    let entry = Signature { keyid: id.clone(), sig: hex(&sig), extra: Default::default() };
    match md.signatures.iter_mut().find(|s| s.keyid == id) {
        Some(placeholder) => *placeholder = entry,
        None => md.signatures.push(entry),
    }
    Ok(Signed::Added)
}
