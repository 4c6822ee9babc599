//! Binding verified attestations to metadata keys and keyholders.

use super::Attestation;
use crate::tuf::finding::{Clients, Finding};
use crate::tuf::json::JsonPath;
use crate::tuf::keys::PublicKey;
use crate::tuf::metadata::Key;
use std::collections::{BTreeMap, BTreeSet};

/// A keyholder as the plan or the ceremony records them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub name: String,
    /// The YubiKey serial recorded for this keyholder (written on the bag), if any.
    pub serial: Option<u32>,
    /// The keyid this keyholder's key has in the metadata, if known: then the attested key
    /// must be that very key, not just any key of the metadata.
    pub keyid: Option<String>,
}

impl Holder {
    pub fn new(name: impl Into<String>, serial: Option<u32>) -> Self {
        Holder { name: name.into(), serial, keyid: None }
    }
}

/// Decodes every key that decodes (`lenient` also reads hex ECDSA points, as in Sigstore's
/// early roots). Keys that do not decode are left out: the metadata rules report them.
pub fn decode_keys(keys: &BTreeMap<String, Key>, lenient: bool) -> BTreeMap<String, PublicKey> {
    keys.iter().filter_map(|(id, k)| PublicKey::from_key(k, lenient).ok().map(|p| (id.clone(), p))).collect()
}

/// Whether two decoded keys are the same key (compares key material, not encodings).
pub fn same_key(a: &PublicKey, b: &PublicKey) -> bool {
    match (a, b) {
        (PublicKey::Ed25519(x), PublicKey::Ed25519(y)) => x.as_bytes() == y.as_bytes(),
        (PublicKey::P256(x), PublicKey::P256(y)) => x == y,
        (PublicKey::P384(x), PublicKey::P384(y)) => x == y,
        (PublicKey::RsaPss(x), PublicKey::RsaPss(y)) => x == y,
        _ => false,
    }
}

/// Checks each `(keyholder, attestation)` pair against the metadata's decoded keys
/// (`keyid → key`) and the recorded keyholders:
///
/// * `attest-bound` (info): the attested key is metadata key(s) …, the serial matches;
/// * `attest-key-not-in-metadata`, `attest-key-mismatch` (not the keyholder's keyid),
///   `attest-serial-mismatch`, `attest-unknown-keyholder`, `attest-duplicate-serial`
///   (a serial recorded or attested for two keyholders), `attest-duplicate-key` (errors);
/// * `attest-serial-unrecorded`, `attest-missing` (a keyholder without attestation) and
///   each attestation's own warnings (warnings);
/// * each attestation's refusals ([`super::Refusal`]: a key not generated on its device),
///   errors that leave it unbound.
///
/// No TUF client reads attestations, so no finding names a rejecting client.
pub fn bind(attested: &[(String, Attestation)], metadata_keys: &BTreeMap<String, PublicKey>, holders: &[Holder]) -> Vec<Finding> {
    bind_each(attested, metadata_keys, holders).0
}

/// `bind`, and for each attestation whether it was bound (an `attest-bound` note): only
/// those make a key attested.
pub fn bind_each(attested: &[(String, Attestation)], metadata_keys: &BTreeMap<String, PublicKey>, holders: &[Holder]) -> (Vec<Finding>, Vec<bool>) {
    let mut out = Vec::new();
    let mut bound = vec![false; attested.len()];
    let none = Clients::NONE;
    let here = JsonPath::root;
    let key_path = |id: &str| JsonPath::root().key("signed").key("keys").key(id);

    // Serials: recorded ones and attested ones, by keyholder.
    let mut by_serial: BTreeMap<u32, BTreeSet<&str>> = BTreeMap::new();
    for h in holders {
        if let Some(s) = h.serial {
            by_serial.entry(s).or_default().insert(&h.name);
        }
    }
    for (name, a) in attested {
        if let Some(s) = a.serial {
            by_serial.entry(s).or_default().insert(name);
        }
    }
    for (serial, names) in &by_serial {
        if names.len() > 1 {
            let list: Vec<&str> = names.iter().copied().collect();
            out.push(Finding::error(
                "attest-duplicate-serial",
                here(),
                format!("device serial {serial} belongs to more than one keyholder ({}): each keyholder must hold their own device", list.join(", ")),
                none,
            ));
        }
    }

    for (i, (name, a)) in attested.iter().enumerate() {
        // Warnings, and refusals (a key not generated on its device): errors that unbind it.
        let mut ok = a.refusals.is_empty();
        out.extend(a.findings(name));
        let holder = holders.iter().find(|h| &h.name == name);
        match (holder, a.serial) {
            (None, _) => {
                ok = false;
                out.push(Finding::error("attest-unknown-keyholder", here(), format!("attestation for {name:?}, who is not a recorded keyholder"), none));
            }
            (Some(Holder { serial: Some(want), .. }), None) => {
                ok = false;
                out.push(Finding::error(
                    "attest-serial-mismatch",
                    here(),
                    format!("{name}: the attestation carries no serial, so it cannot be tied to {name}'s recorded serial {want}"),
                    none,
                ));
            }
            (Some(Holder { serial: None, .. }), Some(s)) => out.push(Finding::warning(
                "attest-serial-unrecorded",
                here(),
                format!("{name}: attested device serial {s}, but no serial is recorded for {name} to compare it with"),
                none,
            )),
            (Some(Holder { serial: Some(want), .. }), Some(s)) if *want != s => {
                ok = false;
                out.push(Finding::error(
                    "attest-serial-mismatch",
                    here(),
                    format!("{name}: the attestation is from device serial {s}, but {name}'s recorded serial is {want}"),
                    none,
                ));
            }
            _ => {}
        }
        let ids: Vec<&str> = metadata_keys.iter().filter(|(_, k)| same_key(k, &a.public_key)).map(|(id, _)| id.as_str()).collect();
        if ids.is_empty() {
            ok = false;
            out.push(Finding::error(
                "attest-key-not-in-metadata",
                JsonPath::root().key("signed").key("keys"),
                format!("{name}: the attested {} key is not a key of this metadata", a.public_key.algorithm().name()),
                none,
            ));
        } else if let Some(want) = holder.and_then(|h| h.keyid.as_deref())
            && !ids.contains(&want)
        {
            ok = false;
            out.push(Finding::error(
                "attest-key-mismatch",
                key_path(want),
                format!("{name}: the attested key is metadata key {}, not {name}'s key {want}", ids.join(", ")),
                none,
            ));
        }
        for (other, b) in &attested[..i] {
            if other != name && same_key(&a.public_key, &b.public_key) {
                ok = false;
                out.push(Finding::error("attest-duplicate-key", here(), format!("{name} and {other} present attestations of the same key"), none));
            }
        }
        bound[i] = ok;
        if ok {
            let serial = a.serial.map(|s| s.to_string()).unwrap_or_else(|| "(no serial)".into());
            let device = match a.device {
                super::Device::YubiKeyPiv => "YubiKey",
                super::Device::YubiHsm2 => "YubiHSM 2",
            };
            out.push(Finding::info("attest-bound", key_path(ids[0]), format!("{name}: {device} serial {serial} attests key {}", ids.join(", "))));
        }
    }

    for h in holders {
        if !attested.iter().any(|(n, _)| n == &h.name) {
            out.push(Finding::warning("attest-missing", here(), format!("{}: no attestation", h.name), none));
        }
    }
    (out, bound)
}
