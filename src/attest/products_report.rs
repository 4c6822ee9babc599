//! Rendering a [`ProductsReport`] (`tuf-ceremony attest`): the human report, and the
//! machine report documented in `docs/attest-json.md` (`"schema": "tuf-ceremony-attest/1"`;
//! fields are only ever added within a schema version). Every value shown to a person goes
//! through [`one_line`]: file names and labels come from folders anyone can write.

use super::products::{ProductKey, ProductsReport};
use super::{Attestation, Device};
use crate::tuf::finding::Severity;
use crate::util::text::one_line;
use serde_json::{Value, json};
use std::fmt::Write;

/// The schema identifier of [`to_json`]'s output.
pub const SCHEMA: &str = "tuf-ceremony-attest/1";

/// `generated` for YubiKey PIV keys: a YubiKey attests only keys it generated.
fn origin(a: &Attestation) -> Option<String> {
    match (&a.hsm, a.device) {
        (Some(h), _) => h.origin.map(|o| o.names().join("+")),
        (None, Device::YubiKeyPiv) => Some("generated".into()),
        (None, Device::YubiHsm2) => None,
    }
}

fn key_json(r: &ProductsReport, k: &ProductKey) -> Value {
    let a = r.attestation(k);
    let e = r.entry(k);
    let h = a.and_then(|a| a.hsm.as_ref());
    // The key object as python-tuf writes it (`to_key` makes no other fields).
    let key = json!({"keytype": &*k.key.keytype, "scheme": &*k.key.scheme, "keyval": {"public": k.key.public}});
    json!({
        "keyid": k.keyid,
        "keytype": &*k.key.keytype,
        "scheme": &*k.key.scheme,
        "algorithm": k.public_key.algorithm().name(),
        "key": key,
        "file": k.file(),
        "files": k.files.iter().map(|f| json!({"path": f.path, "encoding": f.encoding.name()})).collect::<Vec<_>>(),
        "named_serial": k.named_serial,
        "attested": k.attested,
        "device": a.map(|a| a.device.name()),
        "device_hint": if a.is_none() { k.device_hint() } else { None },
        "attestation": e.map(|e| e.file.clone()),
        "device_certificate": e.and_then(|e| e.device_file.clone()),
        "serial": a.and_then(|a| a.serial),
        "firmware": a.and_then(|a| a.firmware.map(|f| f.to_string())),
        "origin": a.and_then(origin),
        "capabilities": h.and_then(|h| h.capabilities.map(|c| c.names())),
        "domains": h.and_then(|h| h.domains.clone()),
        "object_id": h.and_then(|h| h.object_id),
        "label": h.and_then(|h| h.label.clone()),
        "fips_certified": h.and_then(|h| h.fips_certified),
        "fips_mode": h.and_then(|h| h.fips_mode),
        "slot": a.and_then(|a| a.slot.clone()),
        "pin_policy": a.and_then(|a| a.pin_policy.map(|p| p.to_string())),
        "touch_policy": a.and_then(|a| a.touch_policy.map(|p| p.to_string())),
        "chain": a.map(|a| a.chain.clone()),
        "root_sha256": a.map(|a| a.root_sha256.clone()),
    })
}

/// The machine report (see `docs/attest-json.md`).
pub fn to_json(r: &ProductsReport) -> Value {
    let attested = r.keys.iter().filter(|k| k.attested).count();
    json!({
        "schema": SCHEMA,
        "tool": crate::util::machine::TOOL,
        "path": r.path,
        "at": r.at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "result": if r.exit_code() == 0 { "ok" } else { "failed" },
        "exit_code": r.exit_code(),
        "counts": {
            "keys": r.keys.len(),
            "attested": attested,
            "not_attested": r.keys.len() - attested,
            "attestations": r.attestations.len(),
            "error": r.count(Severity::Error),
            "warning": r.count(Severity::Warning),
            "info": r.count(Severity::Info),
        },
        "keys": r.keys.iter().map(|k| key_json(r, k)).collect::<Vec<_>>(),
        "attestations": r.attestations.iter().map(|e| json!({
            "file": e.file,
            "device_certificate": e.device_file,
            "valid": e.result.is_ok(),
            "accepted": e.ok,
            "error": e.result.as_ref().err(),
            "keyid": e.key.map(|i| r.keys[i].keyid.clone()),
        })).collect::<Vec<_>>(),
        "not_checked": r.not_checked.iter().map(|(f, why)| json!({"file": f, "reason": why})).collect::<Vec<_>>(),
        "findings": r.findings.iter().map(crate::audit::report::finding_json).collect::<Vec<_>>(),
    })
}

/// The human report: one block per key, then the findings.
pub fn to_text(r: &ProductsReport) -> String {
    let ol = |s: &str| one_line(s).into_owned();
    let mut s = String::new();
    let attested = r.keys.iter().filter(|k| k.attested).count();
    let _ = writeln!(s, "tuf-ceremony attest {}", ol(&r.path));
    let _ = writeln!(s, "  at {}; {} keys, {attested} attested, {} attestation files", r.at.format("%Y-%m-%dT%H:%M:%SZ"), r.keys.len(), r.attestations.len());
    for k in &r.keys {
        let _ = writeln!(s, "\n{} {}", k.public_key.algorithm().name(), ol(k.file()));
        let _ = writeln!(s, "  keyid     {}", k.keyid);
        let files: Vec<String> = k.files.iter().map(|f| format!("{} ({})", ol(&f.path), f.encoding)).collect();
        let _ = writeln!(s, "  files     {}", files.join(", "));
        match (r.attestation(k), r.entry(k)) {
            (Some(a), Some(e)) => {
                let state = if k.attested { "ATTESTED" } else { "NOT ATTESTED (see the findings)" };
                let _ = writeln!(s, "  {state} by {}", ol(&e.file));
                let _ = writeln!(s, "  device    {}", ol(&a.to_string()));
                if let Some(h) = &a.hsm
                    && (h.fips_certified.is_some() || h.fips_mode.is_some())
                {
                    let _ = writeln!(s, "  FIPS      certified {:?}, approved mode {:?}", h.fips_certified, h.fips_mode);
                }
            }
            (None, Some(e)) => {
                let _ = writeln!(s, "  NOT ATTESTED: {} does not verify", ol(&e.file));
            }
            _ => {
                let hint = match (k.named_serial.as_deref(), k.device_hint()) {
                    (Some(sn), Some(h)) => format!(" (files named for serial {}: a {h} by its serial, which proves nothing)", ol(sn)),
                    (Some(sn), None) => format!(" (files named for serial {})", ol(sn)),
                    _ => String::new(),
                };
                let _ = writeln!(s, "  not attested{hint}");
            }
        }
    }
    for e in r.attestations.iter().filter(|e| e.key.is_none()) {
        let state = if e.result.is_ok() { "verifies but binds to no key file" } else { "does not verify" };
        let _ = writeln!(s, "\nattestation {}: {state}", ol(&e.file));
    }
    if !r.not_checked.is_empty() {
        let _ = writeln!(s, "\nNot checked");
        for (f, why) in &r.not_checked {
            let _ = writeln!(s, "  {}: {}", ol(f), ol(why));
        }
    }
    let (e, w, i) = (r.count(Severity::Error), r.count(Severity::Warning), r.count(Severity::Info));
    let _ = writeln!(s, "\nFindings: {e} errors, {w} warnings, {i} notes");
    for f in &r.findings {
        let _ = writeln!(s, "  {:<7} {}: [{}] {}", f.finding.severity.as_str(), ol(&f.file), f.finding.code, ol(&f.finding.message));
    }
    let _ = writeln!(s, "\nResult: {} (exit {})", if r.exit_code() == 0 { "OK" } else { "FAILED" }, r.exit_code());
    s
}

#[cfg(test)]
mod tests {
    /// The key object python-tuf would write, and its keyid, for a fixed P-256 key.
    #[test]
    fn key_object_is_securesystemslibs() {
        use crate::tuf::keys::PublicKey;
        let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let k = PublicKey::P256(*sk.verifying_key()).to_key();
        assert!(k.extra.is_empty() && k.keyval_extra.is_empty());
        let canonical = format!("{{\"keytype\":\"ecdsa\",\"keyval\":{{\"public\":\"{}\"}},\"scheme\":\"ecdsa-sha2-nistp256\"}}", k.public);
        assert!(k.public.starts_with("-----BEGIN PUBLIC KEY-----\n") && k.public.ends_with("-----END PUBLIC KEY-----\n"));
        assert_eq!(crate::tuf::encode::canonical(&k), canonical.as_bytes());
        assert_eq!(crate::tuf::keys::keyid(&k), crate::tuf::keys::sha256_hex(&crate::tuf::encode::canonical(&k)));
    }
}
