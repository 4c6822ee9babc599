//! The machine reports of signing apart: `sign-request --json`
//! (`docs/sign-request-json.md`, `"schema": "tuf-ceremony-sign-request/1"`) and
//! `import-signatures --json` (`docs/import-signatures-json.md`,
//! `"schema": "tuf-ceremony-import-signatures/1"`).

use super::signing_apart::{Authority, CreatedRequest, ImportOutcome};
use crate::tuf::keys::Algorithm;
use crate::tuf::verify::ThresholdCheck;
use crate::util::machine::envelope;
use serde_json::{Value, json};

pub const REQUEST_SCHEMA: &str = "tuf-ceremony-sign-request/1";
pub const IMPORT_SCHEMA: &str = "tuf-ceremony-import-signatures/1";

/// Who may sign: one group per key set (a new root has two), each key with its keyholder.
fn signers(a: &Authority, names: &std::collections::BTreeMap<String, String>) -> Vec<Value> {
    a.groups
        .iter()
        .map(|g| {
            json!({
                "by": g.by,
                "threshold": g.threshold,
                "keys": g.keyids.iter().map(|id| json!({
                    "keyid": id,
                    "keyholder": names.get(id),
                    "algorithm": g.keys.get(id).and_then(Algorithm::from_key).map(|a| a.name()),
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// `sign-request --json`: the request folder made (or found identical), what it asks to sign
/// and who may sign it.
pub fn request_json(c: &CreatedRequest) -> Value {
    let r = &c.request;
    let fref = |f: &super::signing_apart::FileRef| json!({"file": f.file, "original_name": f.original_name, "sha256": f.sha256});
    envelope(
        REQUEST_SCHEMA,
        json!({
            "result": "ok",
            "exit_code": crate::error::exit::OK,
            "request_dir": c.dir.display().to_string(),
            "written": c.written,
            "role": r.role,
            "version": r.version,
            "expires": r.expires,
            "canonical_sha256": r.canonical_sha256,
            "pgp_words": crate::util::pgpwords::phrase_of_hex(&r.canonical_sha256),
            "metadata": fref(&r.metadata),
            "delegator": fref(&r.delegator),
            "previous": r.previous.as_ref().map(fref),
            "keyholders": r.keyholders,
            "signers": signers(&c.authority, &r.keyholders),
            "clients": r.clients,
        }),
    )
}

fn check_json((by, c): &(String, ThresholdCheck)) -> Value {
    json!({"by": by, "threshold": c.threshold, "valid": c.valid(), "met": c.met(), "valid_keyids": c.valid_keyids().collect::<Vec<_>>()})
}

/// `import-signatures --json`: each signature file accepted or refused with the reason, the
/// thresholds after the merge, and the file written (or why nothing was).
pub fn import_json(o: &ImportOutcome) -> Value {
    let result = match (&o.refusal, o.partial) {
        (Some(_), _) => "refused",
        (None, true) => "partial",
        (None, false) => "ok",
    };
    let exit = if o.refusal.is_some() { crate::error::exit::FAILED } else { crate::error::exit::OK };
    envelope(
        IMPORT_SCHEMA,
        json!({
            "result": result,
            "exit_code": exit,
            "role": o.role,
            "version": o.version,
            "canonical_sha256": o.canonical_sha256,
            "files": o.files.iter().map(|v| json!({
                "file": v.file.display().to_string(),
                "accepted": v.refused.is_none(),
                "reason": v.refused,
                "keyid": v.keyid,
                "keyholder": v.keyholder,
            })).collect::<Vec<_>>(),
            "dropped": o.dropped,
            // Not counted when a file was refused (nothing is merged then).
            "threshold_met": (!o.checks.is_empty()).then(|| o.checks.iter().all(|c| c.1.met())),
            "checks": o.checks.iter().map(check_json).collect::<Vec<_>>(),
            "output": o.path.as_ref().map(|p| json!({
                "file": p.display().to_string(),
                "partial": o.partial,
                "already_there": o.already_there,
            })),
            "refusal": o.refusal,
        }),
    )
}
