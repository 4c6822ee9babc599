//! Signature thresholds: the one place that counts signatures.
//!
//! Counting follows the spec and python-tuf (tuf-format.md §4.1, §5.1): only keyids listed
//! for the role count; each keyid at most once; only signatures that verify; signatures by
//! keys not in the role are ignored; a role keyid missing from `keys` is skipped (and
//! reported, because go-tuf refuses the whole role in that case). A signature by a keyless
//! Sigstore signer can only be checked online: it is neither valid nor invalid here, and a
//! threshold that only such signatures could meet is undecidable offline.

use super::keys::{PublicKey, SigCheck, SigStream, is_keyless, unhex};
use super::metadata::{DelegatedRoles, Key, Metadata, Root, Signature, Targets};
use std::collections::BTreeMap;

/// What happened to one keyid of a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOutcome {
    Valid,
    /// Valid RSA-PSS with a salt length tough refuses.
    ValidOddSalt,
    /// No signature, or an empty placeholder.
    Unsigned,
    Invalid,
    /// The signature is not hex or not in the key type's encoding.
    Malformed,
    /// The role lists this keyid but `keys` does not have it.
    KeyMissing,
    /// The key object cannot be decoded.
    KeyUnusable(String),
    /// Signed by a keyless Sigstore signer: the signature (a Sigstore bundle) can only be
    /// checked online, against Fulcio and Rekor, so it counts neither way.
    Undecidable,
}

/// The result of checking a role's signatures against its keys and threshold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThresholdCheck {
    pub threshold: u64,
    /// Per listed keyid, in the role's order.
    pub keys: Vec<(String, KeyOutcome)>,
    /// Signatures whose keyid the role does not list (ignored for counting).
    pub foreign_signatures: Vec<String>,
}

impl ThresholdCheck {
    /// Distinct keyids with a valid signature.
    pub fn valid(&self) -> u64 {
        self.keys.iter().filter(|(_, o)| matches!(o, KeyOutcome::Valid | KeyOutcome::ValidOddSalt)).count() as u64
    }
    pub fn met(&self) -> bool {
        self.valid() >= self.threshold
    }
    /// Distinct keyids whose signature cannot be checked offline (keyless signers).
    pub fn undecidable(&self) -> u64 {
        self.keys.iter().filter(|(_, o)| *o == KeyOutcome::Undecidable).count() as u64
    }
    /// Not met, but the signatures that cannot be checked offline could meet it: whether
    /// the role verifies cannot be decided here.
    pub fn undecidable_offline(&self) -> bool {
        !self.met() && self.valid() + self.undecidable() >= self.threshold
    }
    pub fn valid_keyids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter(|(_, o)| matches!(o, KeyOutcome::Valid | KeyOutcome::ValidOddSalt)).map(|(k, _)| k.as_str())
    }
}

/// Checks `signatures` over `payload` for a role given by `keyids`/`threshold`, with keys
/// looked up in `keys` (root's keys or the delegator's `delegations.keys`).
pub fn check_threshold(
    keyids: &[String],
    threshold: u64,
    keys: &BTreeMap<String, Key>,
    payload: &[u8],
    signatures: &[Signature],
    lenient: bool,
) -> ThresholdCheck {
    PendingThreshold::new(keyids, threshold, keys, signatures, lenient).over([payload])
}

/// A threshold check whose payload arrives in pieces (see `stream`): everything that can
/// be decided without the payload (which keyids count, missing keys, unusable keys, empty
/// or non-hex signatures) is decided up front; each remaining signature is checked by a
/// stream verifier that is fed every piece.
pub struct PendingThreshold {
    threshold: u64,
    keys: Vec<(String, Pending)>,
    foreign_signatures: Vec<String>,
}

enum Pending {
    Decided(KeyOutcome),
    /// Boxed: a stream verifier holds hash state, and there is one per listed key.
    Checking(Box<SigStream>),
}

impl PendingThreshold {
    pub fn new(keyids: &[String], threshold: u64, keys: &BTreeMap<String, Key>, signatures: &[Signature], lenient: bool) -> Self {
        let by_keyid: BTreeMap<&str, &Signature> = signatures.iter().map(|s| (s.keyid.as_str(), s)).collect();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::with_capacity(keyids.len());
        for id in keyids {
            if !seen.insert(id.as_str()) {
                continue;
            }
            let state = match (keys.get(id), by_keyid.get(id.as_str())) {
                (None, _) => Pending::Decided(KeyOutcome::KeyMissing),
                (Some(_), None) => Pending::Decided(KeyOutcome::Unsigned),
                (Some(_), Some(s)) if s.sig.is_empty() => Pending::Decided(KeyOutcome::Unsigned),
                (Some(k), Some(_)) if is_keyless(k) => Pending::Decided(KeyOutcome::Undecidable),
                (Some(k), Some(s)) => match PublicKey::from_key(k, lenient) {
                    Err(e) => Pending::Decided(KeyOutcome::KeyUnusable(e.to_string())),
                    Ok(pk) => match unhex(&s.sig, !lenient) {
                        None => Pending::Decided(KeyOutcome::Malformed),
                        Some(sig) => Pending::Checking(Box::new(pk.verifier(&sig))),
                    },
                },
            };
            out.push((id.clone(), state));
        }
        let foreign_signatures = signatures.iter().filter(|s| !seen.contains(s.keyid.as_str())).map(|s| s.keyid.clone()).collect();
        PendingThreshold { threshold, keys: out, foreign_signatures }
    }

    /// Feeds the next piece of the payload to every signature still being checked.
    pub fn update(&mut self, piece: &[u8]) {
        for (_, state) in &mut self.keys {
            if let Pending::Checking(v) = state {
                v.update(piece);
            }
        }
    }

    /// Feeds every piece, then finishes: the check over a payload that is all at hand.
    pub fn over<'p>(mut self, pieces: impl IntoIterator<Item = &'p [u8]>) -> ThresholdCheck {
        pieces.into_iter().for_each(|p| self.update(p));
        self.finish()
    }

    pub fn finish(self) -> ThresholdCheck {
        let keys = self
            .keys
            .into_iter()
            .map(|(id, state)| {
                let outcome = match state {
                    Pending::Decided(o) => o,
                    Pending::Checking(v) => match v.finish() {
                        SigCheck::Valid => KeyOutcome::Valid,
                        SigCheck::ValidOddSalt => KeyOutcome::ValidOddSalt,
                        SigCheck::Invalid => KeyOutcome::Invalid,
                        SigCheck::Malformed => KeyOutcome::Malformed,
                    },
                };
                (id, outcome)
            })
            .collect();
        ThresholdCheck { threshold: self.threshold, keys, foreign_signatures: self.foreign_signatures }
    }
}

/// Checks a top-level role's metadata against a root.
pub fn check_top_level(root: &Root, role: &str, md: &Metadata, payload: &[u8], lenient: bool) -> Option<ThresholdCheck> {
    Some(pending_top_level(root, role, &md.signatures, lenient)?.over([payload]))
}

/// `check_top_level` for a payload that arrives in pieces.
pub fn pending_top_level(root: &Root, role: &str, signatures: &[Signature], lenient: bool) -> Option<PendingThreshold> {
    let rk = root.roles.get(role)?;
    Some(PendingThreshold::new(&rk.keyids, rk.threshold, &root.keys, signatures, lenient))
}

/// Checks a delegated role's metadata against its delegator. `None` when the delegator
/// does not delegate to `name`.
pub fn check_delegated(delegator: &Targets, name: &str, md: &Metadata, payload: &[u8], lenient: bool) -> Option<ThresholdCheck> {
    Some(pending_delegated(delegator, name, &md.signatures, lenient)?.over([payload]))
}

/// `check_delegated` for a payload that arrives in pieces.
pub fn pending_delegated(delegator: &Targets, name: &str, signatures: &[Signature], lenient: bool) -> Option<PendingThreshold> {
    let d = delegator.delegations.as_ref()?;
    let (keyids, threshold) = match &d.roles {
        DelegatedRoles::Roles(roles) => {
            let r = roles.iter().find(|r| r.name == name)?;
            (&r.keyids, r.threshold)
        }
        DelegatedRoles::Succinct(s) => {
            if !super::bins::succinct_role_names(s).any(|n| n == name) {
                return None;
            }
            (&s.keyids, s.threshold)
        }
    };
    Some(PendingThreshold::new(keyids, threshold, &d.keys, signatures, lenient))
}

/// Root N → N+1 (spec 5.3.4–5.3.5): signed by a threshold of N's root keys and of its own,
/// and exactly one version higher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationCheck {
    pub previous_version: u64,
    pub new_version: u64,
    pub by_previous: ThresholdCheck,
    pub by_self: ThresholdCheck,
}

impl RotationCheck {
    pub fn version_ok(&self) -> bool {
        self.new_version == self.previous_version + 1
    }
    pub fn ok(&self) -> bool {
        self.version_ok() && self.by_previous.met() && self.by_self.met()
    }
}

/// Checks `next` (which must be a root) as the successor of `previous`.
pub fn check_root_rotation(previous: &Root, next: &Metadata, payload: &[u8], lenient: bool) -> Option<RotationCheck> {
    let new_root = next.signed.as_root()?;
    let by_previous = check_top_level(previous, "root", next, payload, lenient)?;
    let by_self = check_top_level(new_root, "root", next, payload, lenient)?;
    Some(RotationCheck { previous_version: previous.header.version, new_version: new_root.header.version, by_previous, by_self })
}
