//! Attestations as one more audit check (item 7 of `verify`): YubiKey PIV and YubiHSM 2
//! attestations found under the media's `keys/` (or `--attestations DIR`, which may be laid
//! out as this tool, Sigstore, yubico-piv-tool or the PSF's YubiHSM products do) are
//! verified by [`crate::attest`] (chain to the pinned Yubico root of the device family,
//! serial, firmware, PIN and touch policies, YubiHSM origin and capabilities) and bound to
//! keys of the metadata and to the recorded keyholders
//! ([`crate::attest::bind`]); offline keys without an attestation are listed.
//!
//! [`gather`] is the only part that reads files; [`check`] takes its results, so other
//! sources of attestations plug in the same way.

use super::set::AuditFinding;
use crate::attest::{self, Attestation, Holder};
use crate::tuf::finding::{Clients, Finding, Severity};
use crate::tuf::json::JsonPath;
use crate::tuf::keys::PublicKey;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One attestation as found and verified.
pub struct AttestationResult {
    /// Keyholder (this tool's layout) or serial (Sigstore's) the files are named after.
    pub label: String,
    /// The key certificate's path as reports name it.
    pub file: String,
    /// Whether the label is a keyholder name (this tool's layout) rather than a serial/folder.
    pub names_keyholder: bool,
    pub result: Result<Attestation, String>,
}

/// What the metadata and the ceremony record say, to bind attestations to.
pub struct BindContext {
    /// keyid → decoded key, for every key an attestation may be bound to.
    pub metadata_keys: BTreeMap<String, PublicKey>,
    /// Recorded keyholders (name, serial, keyid).
    pub holders: Vec<Holder>,
    /// Offline keys (keyids) that should be attested.
    pub offline_keyids: Vec<String>,
    /// File to name for findings about metadata keys (the newest root).
    pub key_file: String,
    /// keyid → the newest file that lists the key (for findings about one key).
    pub key_files: BTreeMap<String, String>,
    /// Keyids listed only in targets' delegations (`$.signed.delegations.keys`), not in a root.
    pub delegation_keyids: BTreeSet<String>,
    /// File (folder) to name for other findings.
    pub source: String,
}

/// One attested key, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttestedKey {
    pub label: String,
    pub file: String,
    pub serial: Option<u32>,
    pub firmware: Option<String>,
    pub pin_policy: Option<String>,
    pub touch_policy: Option<String>,
    pub form_factor: Option<String>,
    pub slot: Option<String>,
    /// `yubikey` or `yubihsm2` (valid attestations).
    pub device: Option<&'static str>,
    /// YubiHSM 2: origin (`generated`, `imported`, `generated+imported-wrapped`, …).
    pub origin: Option<String>,
    /// YubiHSM 2: capability names.
    pub capabilities: Option<Vec<String>>,
    /// YubiHSM 2: object id and label.
    pub object_id: Option<u16>,
    pub object_label: Option<String>,
    /// Metadata keyids the attested key is.
    pub keyids: Vec<String>,
    /// Bound: valid, and its key, serial and keyholder all agree with the record (an
    /// `attest-bound` note). Only a bound attestation makes a key attested.
    pub bound: bool,
    /// Certificate subjects from the key certificate up to the root.
    pub chain: Vec<String>,
    /// Why the attestation is not valid, if it is not.
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttestationReport {
    pub source: String,
    pub keys: Vec<AttestedKey>,
    /// Offline keyids no valid attestation is bound to.
    pub unattested: Vec<String>,
}

/// Finds and verifies every attestation under `dir` (rel paths relative to `base`).
pub fn gather(dir: &Path, base: &Path, at: DateTime<Utc>) -> Result<Vec<AttestationResult>, String> {
    let bundles = attest::discover(dir).map_err(|e| e.to_string())?;
    let stores = attest::discover::Stores::bundled().map_err(|e| e.to_string())?;
    Ok(bundles
        .iter()
        .map(|b| AttestationResult {
            label: b.label.clone(),
            file: b.key_cert_path.strip_prefix(base).unwrap_or(&b.key_cert_path).display().to_string(),
            names_keyholder: b.layout == attest::Layout::Ceremony,
            result: b.verify_bundled(&stores, at).map_err(|e| e.to_string()),
        })
        .collect())
}

/// The check itself: verified attestations bound to metadata keys and keyholders.
pub fn check(results: &[AttestationResult], ctx: &BindContext, out: &mut Vec<AuditFinding>) -> AttestationReport {
    let mut rep = AttestationReport { source: ctx.source.clone(), ..Default::default() };
    let push = |out: &mut Vec<AuditFinding>, file: &str, f: Finding| out.push(AuditFinding { file: file.to_string(), finding: f });
    if results.is_empty() {
        rep.unattested = ctx.offline_keyids.clone();
        if !rep.unattested.is_empty() {
            push(
                out,
                &ctx.source,
                Finding::info("attest-none", JsonPath::root(), format!("no attestations found: {} offline keys unattested", rep.unattested.len())),
            );
        }
        return rep;
    }
    let mut attested: Vec<(String, Attestation)> = Vec::new();
    // rep.keys index of each entry of `attested`.
    let mut attested_at: Vec<usize> = Vec::new();
    let mut holders = ctx.holders.clone();
    for r in results {
        let mut k = AttestedKey { label: r.label.clone(), file: r.file.clone(), ..Default::default() };
        match &r.result {
            Err(e) => {
                push(out, &r.file, Finding::error("attest-invalid", JsonPath::root(), format!("{}: {e}", r.label), Clients::NONE));
                k.error = Some(e.clone());
            }
            Ok(a) => {
                k.serial = a.serial;
                k.firmware = a.firmware.map(|f| f.to_string());
                k.pin_policy = a.pin_policy.map(|p| p.to_string());
                k.touch_policy = a.touch_policy.map(|p| p.to_string());
                k.form_factor = a.form_factor.map(|p| p.to_string());
                k.slot = a.slot.clone();
                k.device = Some(a.device.name());
                if let Some(h) = &a.hsm {
                    k.origin = h.origin.map(|o| o.names().join("+"));
                    k.capabilities = h.capabilities.map(|c| c.names());
                    k.object_id = h.object_id;
                    k.object_label = h.label.clone();
                }
                k.chain = a.chain.clone();
                k.keyids = ctx.metadata_keys.iter().filter(|(_, m)| attest::same_key(m, &a.public_key)).map(|(id, _)| id.clone()).collect();
                // Sigstore's and yubico-piv-tool's layouts name a serial or a folder, not a
                // keyholder. An attested key that is a recorded keyholder's key is bound to
                // that keyholder (so their recorded serial is checked); otherwise the label
                // stands for the keyholder, with the serial it names.
                let owner = ctx.holders.iter().find(|h| h.keyid.as_ref().is_some_and(|id| k.keyids.contains(id)));
                let name = match owner {
                    Some(h) if !r.names_keyholder => {
                        // The folder names a serial (Sigstore's keys/<serial>/): with none
                        // recorded for the keyholder, that one is compared.
                        if let Some(held) = holders.iter_mut().find(|x| x.name == h.name)
                            && held.serial.is_none()
                        {
                            held.serial = r.label.parse().ok();
                        }
                        h.name.clone()
                    }
                    _ => {
                        if !r.names_keyholder && !holders.iter().any(|h| h.name == r.label) {
                            holders.push(Holder { name: r.label.clone(), serial: r.label.parse().ok(), keyid: None });
                        }
                        r.label.clone()
                    }
                };
                attested.push((name, a.clone()));
                attested_at.push(rep.keys.len());
            }
        }
        rep.keys.push(k);
    }
    let (findings, bound_each) = attest::bind::bind_each(&attested, &ctx.metadata_keys, &holders);
    for (&at, &bound) in attested_at.iter().zip(&bound_each) {
        rep.keys[at].bound = bound;
    }
    for mut f in findings {
        let path = f.path.to_string();
        let file = match path.strip_prefix("$.signed.keys.") {
            Some(id) => {
                if ctx.delegation_keyids.contains(id) {
                    f.path = JsonPath::root().key("signed").key("delegations").key("keys").key(id);
                }
                ctx.key_files.get(id).unwrap_or(&ctx.key_file)
            }
            None if path.starts_with("$.signed") => &ctx.key_file,
            None => &ctx.source,
        };
        push(out, file, f);
    }
    let bound: BTreeSet<&str> = rep.keys.iter().filter(|k| k.bound).flat_map(|k| k.keyids.iter().map(String::as_str)).collect();
    rep.unattested = ctx.offline_keyids.iter().filter(|id| !bound.contains(id.as_str())).cloned().collect();
    if !rep.unattested.is_empty() {
        let list = rep.unattested.iter().map(|id| crate::util::text::prefix(id, 16)).collect::<Vec<_>>().join(", ");
        push(
            out,
            &ctx.key_file,
            Finding {
                severity: Severity::Warning,
                code: "attest-unattested",
                path: JsonPath::root().key("signed").key("keys"),
                message: format!("{} offline keys have no valid attestation: {list}", rep.unattested.len()),
                rejected_by: Clients::NONE,
            },
        );
    }
    rep
}

/// keyid → "serial N" for keys an attestation is bound to.
pub fn serial_labels(rep: &AttestationReport) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for k in rep.keys.iter().filter(|k| k.bound) {
        if let Some(s) = k.serial {
            for id in &k.keyids {
                m.insert(id.clone(), format!("serial {s}"));
            }
        }
    }
    m
}
