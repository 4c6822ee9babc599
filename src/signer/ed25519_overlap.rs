//! Ed25519 signing of a large payload with its safety check overlapped.
//!
//! Every signature is verified against the expected key before it is attached
//! (`Signer::sign_checked`): a deterministic ed25519 signature computed with a fault can
//! leak the private key once a correct one over the same bytes exists, so a faulty one must
//! never leave the machine. For ed25519 that check hashes R ‖ A ‖ M, a third SHA-512 pass
//! over the payload after signing's two (0.07 s each for a 100,000-project `claimed`).
//!
//! R is fixed as soon as signing's first pass is done. So while dalek runs the second pass
//! for `k`, a second thread computes the verifier's hash of R ‖ A ‖ M from the payload on
//! its own: an independent computation (its own hasher, its own read of the bytes, the
//! expected key rather than the signer's), so a fault in either still shows. The check is
//! then that the R this hash covered is the R the signature carries, and ed25519's
//! verification equation, [s]B = R + [k]A, with dalek's curve arithmetic.
//! Signing itself stays inside dalek (`hazmat::raw_sign_byupdate`); the only thing added to
//! it is a hasher that notes the first 64 bytes it absorbs, which in the second pass are
//! R ‖ A (RFC 8032 §5.1.6 step 4).

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use digest::{FixedOutput, HashMarker, Output, OutputSizeUser, Update};
use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign_byupdate};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha512};
use std::cell::{Cell, RefCell};

/// Payloads from this size on take the overlapped path; below it a second thread costs
/// more than the pass it hides.
pub(super) const OVERLAP_FROM: usize = 1 << 20;

/// Why the overlapped path gave no signature.
#[derive(Debug)]
pub(super) enum Overlap {
    /// The signature failed its check: never use it.
    Refused,
    /// No second thread could be started: sign and verify one after the other instead.
    NoThread,
}

/// Signs `payload` with `key`; the signature only if it verifies against `expected`.
pub(super) fn sign_and_check(key: &SigningKey, expected: &VerifyingKey, payload: &[u8]) -> Result<[u8; 64], Overlap> {
    let esk = ExpandedSecretKey::from(key.as_bytes()); // zeroized on drop
    std::thread::scope(|s| {
        let calls = Cell::new(0u8);
        // (R as signing's second pass hashed it, the verifier's hash of R ‖ A ‖ M)
        let check = RefCell::new(None);
        let spawn_failed = Cell::new(false);
        let signed = raw_sign_byupdate::<NotingSha512, _>(
            &esk,
            |h| {
                calls.set(calls.get().saturating_add(1));
                match calls.get() {
                    // First pass: the noted bytes are the secret nonce prefix. Wipe them now,
                    // before the hasher is moved anywhere.
                    1 => h.forget_noted(),
                    2 if h.noted_len == 64 => {
                        let r: [u8; 32] = h.noted[..32].try_into().expect("32 of 64 bytes");
                        let a = expected.to_bytes();
                        let verifier =
                            std::thread::Builder::new().spawn_scoped(s, move || Sha512::new().chain_update(r).chain_update(a).chain_update(payload).finalize());
                        match verifier {
                            Ok(handle) => *check.borrow_mut() = Some((r, handle)),
                            Err(_) => {
                                spawn_failed.set(true);
                                return Err(ed25519_dalek::SignatureError::new());
                            }
                        }
                    }
                    _ => return Err(ed25519_dalek::SignatureError::new()),
                }
                Digest::update(h, payload);
                Ok(())
            },
            &key.verifying_key(),
        );
        if spawn_failed.get() {
            return Err(Overlap::NoThread);
        }
        let sig = signed.map_err(|_| Overlap::Refused)?.to_bytes();
        let (hashed_r, handle) = check.into_inner().ok_or(Overlap::Refused)?;
        let k_hash = handle.join().map_err(|_| Overlap::Refused)?;
        if accept(expected, &sig, &hashed_r, &k_hash.into()) { Ok(sig) } else { Err(Overlap::Refused) }
    })
}

/// The check: the verifier's hash covers the R the signature carries, and the equation
/// holds. Without the first part, a fault in the R that signing hashed (not the R it
/// output) would pass: k and the check would agree on the wrong R, while every verifier
/// rejects the signature, and with a correct one over the same bytes it reveals the key.
fn accept(expected: &VerifyingKey, sig: &[u8; 64], hashed_r: &[u8; 32], k_hash: &[u8; 64]) -> bool {
    hashed_r[..] == sig[..32] && equation_holds(expected, sig, k_hash)
}

/// Ed25519 verification (as dalek's `verify`) given the hash H(R ‖ A ‖ M): `s` canonical,
/// `A` a curve point, and [s]B − [k]A compresses to R.
fn equation_holds(expected: &VerifyingKey, sig: &[u8; 64], k_hash: &[u8; 64]) -> bool {
    let (r, s) = sig.split_at(32);
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s.try_into().expect("32 bytes"))) else { return false };
    let Some(a) = CompressedEdwardsY(expected.to_bytes()).decompress() else { return false };
    let k = Scalar::from_bytes_mod_order_wide(k_hash);
    EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &(-a), &s).compress().as_bytes() == r
}

/// SHA-512 that keeps a copy of the first 64 bytes it absorbs: R ‖ A in signing's second
/// pass. In the first pass these are the secret nonce prefix, which `forget_noted` wipes at
/// once; `Drop` wipes whatever is left.
#[derive(Clone)]
struct NotingSha512 {
    inner: Sha512,
    noted: [u8; 64],
    noted_len: usize,
}

impl NotingSha512 {
    /// Wipes the noted bytes and notes nothing more.
    fn forget_noted(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.noted);
        self.noted_len = self.noted.len();
    }
}

impl Default for NotingSha512 {
    fn default() -> Self {
        NotingSha512 { inner: Sha512::default(), noted: [0; 64], noted_len: 0 }
    }
}

impl Drop for NotingSha512 {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.noted);
    }
}

impl HashMarker for NotingSha512 {}

impl OutputSizeUser for NotingSha512 {
    type OutputSize = <Sha512 as OutputSizeUser>::OutputSize;
}

impl Update for NotingSha512 {
    fn update(&mut self, data: &[u8]) {
        let take = data.len().min(64 - self.noted_len);
        self.noted[self.noted_len..self.noted_len + take].copy_from_slice(&data[..take]);
        self.noted_len += take;
        Digest::update(&mut self.inner, data);
    }
}

impl FixedOutput for NotingSha512 {
    fn finalize_into(mut self, out: &mut Output<Self>) {
        let inner = std::mem::take(&mut self.inner);
        FixedOutput::finalize_into(inner, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer as _;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn the_signature_is_dalek_s_own_and_verifies() {
        // Payload lengths around SHA-512's 128-byte block and the 64 noted bytes.
        for len in [0usize, 1, 63, 64, 65, 127, 128, 129, 1000, OVERLAP_FROM + 7] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
            let k = key(len as u8);
            let sig = sign_and_check(&k, &k.verifying_key(), &payload).expect("verifies");
            assert_eq!(sig, k.sign(&payload).to_bytes(), "length {len}");
            assert!(k.verifying_key().verify_strict(&payload, &ed25519_dalek::Signature::from_bytes(&sig)).is_ok());
        }
    }

    #[test]
    fn a_wrong_expected_key_is_refused() {
        assert!(matches!(sign_and_check(&key(1), &key(2).verifying_key(), b"payload"), Err(Overlap::Refused)));
    }

    #[test]
    fn the_equation_fails_for_any_changed_input() {
        let k = key(7);
        let payload = b"canonical bytes";
        let sig = k.sign(payload).to_bytes();
        let hash =
            |sig: &[u8; 64], a: &[u8; 32], m: &[u8]| -> [u8; 64] { Sha512::new().chain_update(&sig[..32]).chain_update(a).chain_update(m).finalize().into() };
        let a = k.verifying_key().to_bytes();
        assert!(equation_holds(&k.verifying_key(), &sig, &hash(&sig, &a, payload)));
        assert!(!equation_holds(&k.verifying_key(), &sig, &hash(&sig, &a, b"canonical bytez")));
        for byte in [0, 31, 32, 63] {
            let mut bad = sig;
            bad[byte] ^= 1;
            assert!(!equation_holds(&k.verifying_key(), &bad, &hash(&bad, &a, payload)), "byte {byte}");
        }
        assert!(!equation_holds(&key(8).verifying_key(), &sig, &hash(&sig, &key(8).verifying_key().to_bytes(), payload)));
    }

    /// A fault that changes R as signing's second pass hashes it, but not as it is output:
    /// k' = H(R' ‖ A ‖ M), s' = k'·a + r. Simulated here with dalek's own pieces.
    #[test]
    fn a_fault_in_the_hashed_r_is_refused() {
        let k = key(9);
        let m = b"canonical bytes";
        let esk = ExpandedSecretKey::from(k.as_bytes());
        let r = Scalar::from_hash(Sha512::new().chain_update(esk.hash_prefix).chain_update(m));
        let big_r = EdwardsPoint::mul_base(&r).compress().to_bytes();
        let a = k.verifying_key().to_bytes();
        let hash = |r: &[u8; 32]| -> [u8; 64] { Sha512::new().chain_update(r).chain_update(a).chain_update(m).finalize().into() };
        let mut faulty_r = big_r;
        faulty_r[5] ^= 0x10;
        let s = Scalar::from_bytes_mod_order_wide(&hash(&faulty_r)) * esk.scalar + r;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&big_r);
        sig[32..].copy_from_slice(s.as_bytes());
        assert!(equation_holds(&k.verifying_key(), &sig, &hash(&faulty_r)), "the equation alone is fooled");
        assert!(k.verifying_key().verify_strict(m, &ed25519_dalek::Signature::from_bytes(&sig)).is_err(), "a verifier is not");
        assert!(!accept(&k.verifying_key(), &sig, &faulty_r, &hash(&faulty_r)));
        let good = k.sign(m).to_bytes();
        assert!(accept(&k.verifying_key(), &good, &big_r, &hash(&big_r)));
    }
}
