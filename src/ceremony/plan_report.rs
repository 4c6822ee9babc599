//! `plan check --json`: the plan as a script reads it (`docs/plan-check-json.md`,
//! `"schema": "tuf-ceremony-plan-check/1"`): its sha256 and digest, roles with keyholders,
//! thresholds and expiry, keyholders with their token kind (and, for a key from an earlier
//! ceremony, its keyid and whether it is attested), clients, and the findings; or, for a
//! plan that does not validate, the error naming its field.

use super::plan::{Plan, PlanError, Signers, TokenKind};
use crate::tuf::keys;
use crate::util::machine::{envelope, time};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::path::Path;

/// The schema identifier of this module's output.
pub const SCHEMA: &str = "tuf-ceremony-plan-check/1";

fn expiry_json(e: &super::plan::Expiry, at: DateTime<Utc>) -> Value {
    use super::plan::Expiry;
    json!({
        "expires": time(e.resolve(at)),
        "expires_days": match e { Expiry::Days(d) => Some(*d), Expiry::At(_) => None },
    })
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Value::Object(a), Value::Object(b)) = (&mut a, b) {
        a.extend(b);
    }
    a
}

/// The report of a plan that validates (exit 0).
pub fn to_json(plan: &Plan, path: &Path, at: DateTime<Utc>) -> Value {
    let offline = plan.offline_roles();
    let delegator_of = |role: &str| match role {
        "root" | "targets" => "root".to_string(),
        r => plan.delegations.iter().find(|d| d.name == r).map(|d| d.delegator.clone()).unwrap_or_default(),
    };
    let roles: Vec<Value> = offline
        .iter()
        .map(|r| {
            merge(
                json!({
                    "role": r.name,
                    "delegator": delegator_of(&r.name),
                    "keyholders": r.keyholders,
                    "threshold": r.threshold,
                    "signing_window_days": r.signing_window_days,
                }),
                expiry_json(&r.expiry, at),
            )
        })
        .collect();
    let mut online = vec![
        json!({"role": "snapshot", "delegator": "root", "keyid": keys::keyid(&plan.snapshot_key)}),
        json!({"role": "timestamp", "delegator": "root", "keyid": keys::keyid(&plan.timestamp_key)}),
    ];
    for d in &plan.delegations {
        if let Signers::Online(k) = &d.signers {
            online.push(json!({"role": d.name, "delegator": d.delegator, "keyid": keys::keyid(k)}));
        }
    }
    let delegations: Vec<Value> = plan
        .delegations
        .iter()
        .map(|d| {
            json!({
                "role": d.name,
                "delegator": d.delegator,
                "offline": matches!(d.signers, Signers::Offline(_)),
                "terminating": d.terminating,
                "paths": d.paths,
                "bins": d.bins.as_ref().map(|(b, k)| json!({
                    "count": b.count(),
                    "first": b.name(0),
                    "last": b.name(b.count() - 1),
                    "keyid": keys::keyid(k),
                })),
            })
        })
        .collect();
    let mut findings = Vec::new();
    let keyholders: Vec<Value> = plan
        .keyholders
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let e = k.existing.as_ref();
            let a = e.and_then(|e| e.attestation.as_ref());
            for w in a.iter().flat_map(|a| a.warnings.iter()) {
                findings.push(json!({
                    "severity": "warning",
                    "code": w.code(),
                    "field": format!("keyholder[{i}].attestation"),
                    "keyholder": k.name,
                    "message": w.to_string(),
                }));
            }
            json!({
                "name": k.name,
                "token": k.token.as_str(),
                "signs_here": k.token != TokenKind::None,
                "algorithm": k.algorithm.name(),
                "serial": k.serial,
                "signs": offline.iter().filter(|r| plan.signs(&k.name, r)).map(|r| r.name.clone()).collect::<Vec<_>>(),
                "earlier_key": e.is_some(),
                "keyid": e.map(|e| e.keyid.clone()),
                "keytype": e.map(|e| e.key.keytype.to_string()),
                "scheme": e.map(|e| e.key.scheme.to_string()),
                "key_file": e.map(|e| e.file.written.display().to_string()),
                "key_encoding": e.map(|e| e.encoding),
                "device": e.and_then(|e| e.device.map(|d| d.as_str())),
                "attested": e.map(|_| a.is_some()),
                "attestation": a.map(|a| a.to_string()),
            })
        })
        .collect();
    envelope(
        SCHEMA,
        json!({
            "path": path.display().to_string(),
            "at": time(at),
            "result": "ok",
            "exit_code": crate::error::exit::OK,
            "sha256": plan.sha256,
            "digest": plan.digest,
            "digest_words": crate::util::pgpwords::phrase_of_hex(&plan.digest),
            "id": plan.id,
            "description": plan.description,
            "clients": plan.clients.names(),
            "consistent_snapshot": plan.consistent_snapshot,
            "binary_sha256": plan.binary_sha256,
            "previous_root": plan.previous_root.as_ref().map(|(md, h)| json!({"version": md.version(), "sha256": h})),
            "files": plan.files.iter().map(|f| json!({"field": f.field, "path": f.written.display().to_string(), "sha256": f.sha256})).collect::<Vec<_>>(),
            "keyholders": keyholders,
            "roles": roles,
            "online_roles": online,
            "delegations": delegations,
            "findings": findings,
            "errors": [],
        }),
    )
}

/// The report of a plan file that was read (`bytes`) but does not validate (exit 2): the
/// error names the field. Every field describing the plan is null.
pub fn invalid_json(path: &Path, bytes: &[u8], at: DateTime<Utc>, e: &PlanError) -> Value {
    envelope(
        SCHEMA,
        json!({
            "path": path.display().to_string(),
            "at": time(at),
            "result": "invalid",
            "exit_code": crate::error::exit::USAGE,
            "sha256": keys::sha256_hex(bytes),
            "digest": null,
            "digest_words": null,
            "id": null,
            "description": null,
            "clients": null,
            "consistent_snapshot": null,
            "binary_sha256": null,
            "previous_root": null,
            "files": null,
            "keyholders": null,
            "roles": null,
            "online_roles": null,
            "delegations": null,
            "findings": [],
            "errors": [{"field": e.field, "message": e.message}],
        }),
    )
}
