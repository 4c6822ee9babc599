//! Rendering a verify [`Report`]: the human report, and the machine report whose schema is
//! documented in `docs/verify-json.md` (`"schema": "tuf-ceremony-verify/1"`; fields are only
//! ever added within a schema version).

use super::set::{AuditFinding, RoleReport};
use super::verify::Report;
use crate::tuf::finding::Severity;
use crate::tuf::verify::{KeyOutcome, ThresholdCheck};
use crate::util::style::{Tone, Toned};
use crate::util::text::one_line;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The schema identifier of [`to_json`]'s output.
pub const SCHEMA: &str = "tuf-ceremony-verify/1";

fn outcome(o: &KeyOutcome) -> &'static str {
    match o {
        KeyOutcome::Valid => "valid",
        KeyOutcome::ValidOddSalt => "valid-odd-salt",
        KeyOutcome::Unsigned => "unsigned",
        KeyOutcome::Invalid => "invalid",
        KeyOutcome::Malformed => "malformed",
        KeyOutcome::KeyMissing => "key-missing",
        KeyOutcome::KeyUnusable(_) => "key-unusable",
        KeyOutcome::Undecidable => "undecidable",
    }
}

fn check_json(c: &ThresholdCheck, labels: &BTreeMap<String, String>) -> Value {
    json!({
        "threshold": c.threshold,
        "valid": c.valid(),
        "met": c.met(),
        "keys": c.keys.iter().map(|(id, o)| json!({
            "keyid": id,
            "status": outcome(o),
            "keyholder": labels.get(id),
        })).collect::<Vec<_>>(),
        "foreign": c.foreign_signatures,
    })
}

pub(crate) fn finding_json(f: &AuditFinding) -> Value {
    json!({
        "severity": f.finding.severity.as_str(),
        "code": f.finding.code,
        "file": f.file,
        "path": f.finding.path.to_string(),
        "message": f.finding.message,
        "rejected_by": f.finding.rejected_by.names(),
    })
}

fn role_json(r: &RoleReport, at_expired: bool, labels: &BTreeMap<String, String>) -> Value {
    json!({
        "role": r.role,
        "file": r.file,
        "version": r.version,
        "expires": r.expires,
        "days_left": r.days_left,
        "expired": at_expired,
        "window_days": r.window_days,
        "superseded": r.superseded,
        "checked_by": r.checked_by,
        "signatures": r.check.as_ref().map(|c| check_json(c, labels)),
        "by_previous": r.by_previous.as_ref().map(|c| check_json(c, labels)),
    })
}

/// The machine report (see `docs/verify-json.md`).
pub fn to_json(r: &Report) -> Value {
    let expired = |x: &RoleReport| chrono::DateTime::parse_from_rfc3339(&x.expires).map(|e| e <= r.at).unwrap_or(x.days_left < 0);
    json!({
        "schema": SCHEMA,
        "tool": crate::util::machine::TOOL,
        "path": r.path.display().to_string(),
        "folder": r.kind.as_str(),
        "naming": r.naming,
        "at": r.at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "lenient": r.lenient,
        "clients": r.clients.names(),
        "result": if r.ok() { "ok" } else { "failed" },
        "exit_code": r.exit_code(),
        "counts": {
            "error": r.count(Severity::Error),
            "warning": r.count(Severity::Warning),
            "info": r.count(Severity::Info),
        },
        "trusted_root": r.trusted.as_ref().map(|t| json!({
            "file": t.file,
            "version": t.version,
            "source": if t.given { "given" } else { "trust-on-first-use" },
            "sha256": t.sha256,
        })),
        "chain": r.chain.as_ref().map(|c| json!({
            "trusted": c.trusted,
            "newest": c.newest(),
            "verified": c.verified,
            "broken_at": c.broken_at,
        })),
        "roles": r.roles.iter().map(|x| role_json(x, expired(x), &r.labels)).collect::<Vec<_>>(),
        "absent_roles": r.absent.iter().map(|a| json!({"role": a.role, "named_by": a.named_by})).collect::<Vec<_>>(),
        "not_checked": r.not_checked.iter().map(|(f, why)| json!({"file": f, "reason": why})).collect::<Vec<_>>(),
        "evidence": r.evidence.as_ref().map(|e| json!({
            "files": e.files,
            "sha256sums": e.sha256sums.as_ref().map(|s| json!({"sha256": s.sha256, "listed": s.listed, "matching": s.matching})),
            "transcript": e.transcript.as_ref().map(|t| json!({
                "sha256": t.sha256,
                "entries": t.entries,
                "head": t.head,
                "chain_intact": t.head.is_some(),
                "ceremony": t.ceremony,
                "tool": t.tool,
                "plan_sha256": t.plan_sha256,
                "binary_sha256": t.binary_sha256,
                "programs": t.programs.iter().map(|p| json!({"time": p.time, "kind": p.kind, "sha256": p.sha256, "confirmed": p.confirmed})).collect::<Vec<_>>(),
                "clock": t.clock,
                "files_recorded": t.files_recorded,
                "files_matching": t.files_matching,
            })),
            "summary": e.summary.as_ref().map(|s| json!({"transcript_head": s.head, "files_listed": s.files_listed})),
        })),
        "attestations": r.attestations.as_ref().map(|a| json!({
            "source": a.source,
            "keys": a.keys.iter().map(|k| json!({
                "label": k.label,
                "file": k.file,
                "valid": k.error.is_none(),
                "bound": k.bound,
                "error": k.error,
                "serial": k.serial,
                "firmware": k.firmware,
                "pin_policy": k.pin_policy,
                "touch_policy": k.touch_policy,
                "form_factor": k.form_factor,
                "slot": k.slot,
                "device": k.device,
                "origin": k.origin,
                "capabilities": k.capabilities,
                "object_id": k.object_id,
                "object_label": k.object_label,
                "keyids": k.keyids,
                "chain": k.chain,
            })).collect::<Vec<_>>(),
            "unattested": a.unattested,
        })),
        "keyholders": r.labels,
        "findings": r.findings.iter().map(finding_json).collect::<Vec<_>>(),
    })
}

fn short(id: &str) -> &str {
    crate::util::text::prefix(id, 8)
}

fn signers(c: &ThresholdCheck, labels: &BTreeMap<String, String>) -> String {
    let v: Vec<String> = c.valid_keyids().map(|id| labels.get(id).map(|l| ol(l)).unwrap_or_else(|| format!("{}…", ol(short(id))))).collect();
    if v.is_empty() { "-".into() } else { v.join(", ") }
}

/// One value from a file, on one line.
fn ol(s: &str) -> String {
    one_line(s).into_owned()
}

/// How many findings of one (severity, file, code) are printed before they are summarised.
const SHOW_SAME: usize = 3;

/// The human report, as plain text.
pub fn to_text(r: &Report) -> String {
    to_toned(r).into_string()
}

/// The human report with a tone per line: findings by severity, the result line.
pub fn to_toned(r: &Report) -> Toned {
    let mut s = Toned::new();
    let naming = match r.naming.split('+').next().unwrap_or_default() {
        "consistent" => "consistent-snapshot names",
        "unversioned" => "unversioned names",
        "mixed" => "versioned and unversioned names",
        _ => "no metadata names",
    };
    let history = if r.naming.contains("root_history") { ", root_history/" } else { "" };
    let kind = match r.kind {
        super::layout::FolderKind::CeremonyMedia => "a ceremony's media folder",
        super::layout::FolderKind::Repository => "a metadata folder",
    };
    let _ = writeln!(s, "tuf-ceremony verify {} ({kind}; {naming}{history})", ol(&r.path.display().to_string()));
    let _ = writeln!(s, "  at {}; clients {}; {} parsing", r.at.format("%Y-%m-%dT%H:%M:%SZ"), r.clients, if r.lenient { "lenient" } else { "strict" });
    if let Some(t) = &r.trusted {
        let how = if t.given { "given with --trusted-root" } else { "trust on first use: the lowest root that can be read" };
        let _ = writeln!(s, "  trusted root: {} (v{}, {how})", one_line(&t.file), t.version);
    }
    if let Some(c) = &r.chain {
        let verified = match (c.verified.first(), c.verified.last()) {
            (Some(a), Some(b)) if a != b => format!("v{a} → v{b} ({} versions)", c.verified.len()),
            (Some(a), _) => format!("v{a} only"),
            _ => "nothing verified".into(),
        };
        let broken = c.broken_at.map(|b| format!("; stops at v{b}")).unwrap_or_default();
        let _ = writeln!(s, "  root chain: {verified}{broken}");
    }

    let _ = writeln!(s, "\nRoles");
    let _ = writeln!(s, "  {:<18} {:>7}  {:<25} {:>5}  {:<16} signed by", "role", "version", "expires", "days", "signatures");
    for x in &r.roles {
        let sigs = match (&x.check, &x.by_previous) {
            (Some(c), Some(p)) => format!("{}/{}, prev {}/{}", c.valid(), c.threshold, p.valid(), p.threshold),
            (Some(c), None) => format!("{}/{}", c.valid(), c.threshold),
            _ => "-".into(),
        };
        let who = x.check.as_ref().map(|c| signers(c, &r.labels)).unwrap_or_else(|| "-".into());
        let mark = if x.superseded { " (superseded)" } else { "" };
        let _ = writeln!(s, "  {:<18} {:>7}  {:<25} {:>5}  {:<16} {}{mark}", one_line(&x.role), x.version, ol(&x.expires), x.days_left, sigs, one_line(&who));
    }
    if !r.absent.is_empty() {
        let mut by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for a in &r.absent {
            by.entry(a.named_by.as_str()).or_default().push(&a.role);
        }
        let by: BTreeMap<String, Vec<String>> = by.into_iter().map(|(k, v)| (ol(k), v.into_iter().map(ol).collect())).collect();
        let parts: Vec<String> = by
            .iter()
            .map(|(who, roles)| {
                let list = if roles.len() > 6 { format!("{}, … ({} roles)", roles[..3].join(", "), roles.len()) } else { roles.join(", ") };
                if who == "root" { format!("{list} (top-level)") } else { format!("{list} (delegated by {who})") }
            })
            .collect();
        let _ = writeln!(s, "  not in the folder: {}", parts.join("; "));
    }
    if !r.not_checked.is_empty() {
        let _ =
            writeln!(s, "  not checked: {}", r.not_checked.iter().take(6).map(|(f, why)| format!("{} ({})", ol(f), ol(why))).collect::<Vec<_>>().join("; "));
        if r.not_checked.len() > 6 {
            let _ = writeln!(s, "    … and {} more", r.not_checked.len() - 6);
        }
    }

    if let Some(e) = &r.evidence {
        let _ = writeln!(s, "\nCeremony evidence");
        match &e.sha256sums {
            Some(x) => {
                let _ = writeln!(s, "  SHA256SUMS: {} files listed, {} match; {} files on the media", x.listed, x.matching, e.files);
            }
            None => {
                let _ = writeln!(s, "  SHA256SUMS: missing");
            }
        }
        match &e.transcript {
            Some(t) => {
                match &t.head {
                    Some(h) => {
                        let _ = writeln!(s, "  transcript.jsonl: {} entries, hash chain intact, head {}", t.entries, ol(h));
                    }
                    None => {
                        let _ = writeln!(s, "  transcript.jsonl: hash chain BROKEN");
                    }
                }
                if let Some(c) = &t.ceremony {
                    let _ = writeln!(
                        s,
                        "    ceremony {}; {}; confirmed clock {}",
                        ol(c),
                        ol(t.tool.as_deref().unwrap_or("tool ?")),
                        ol(t.clock.as_deref().unwrap_or("?"))
                    );
                }
                let _ = writeln!(s, "    plan sha256    {}", ol(t.plan_sha256.as_deref().unwrap_or("(not recorded)")));
                let _ = writeln!(s, "    program sha256 {}", ol(t.binary_sha256.as_deref().unwrap_or("(not recorded)")));
                for p in &t.programs {
                    let note = p.confirmed.as_deref().map(|c| format!(" (confirmed: {})", ol(c))).unwrap_or_default();
                    let _ = writeln!(s, "      {} {:<6} {}{note}", ol(&p.time), p.kind, ol(p.sha256.as_deref().unwrap_or("(not recorded)")));
                }
                if t.head.is_some() {
                    let _ = writeln!(s, "    {} of {} files it records match", t.files_matching, t.files_recorded);
                }
            }
            None => {
                let _ = writeln!(s, "  transcript.jsonl: missing");
            }
        }
        if let Some(x) = &e.summary {
            let ok = x.head.is_some() && x.head == e.transcript.as_ref().and_then(|t| t.head.clone());
            let _ =
                writeln!(s, "  SUMMARY.txt: transcript head {}; {} file hashes cross-checked", if ok { "matches" } else { "does NOT match" }, x.files_listed);
        }
    }
    if let Some(a) = &r.attestations {
        let _ = writeln!(s, "\nAttestations ({})", ol(&a.source));
        if a.keys.is_empty() {
            let _ = writeln!(s, "  none found");
        }
        for k in &a.keys {
            match &k.error {
                Some(e) => {
                    let _ = writeln!(s, "  {}: INVALID: {}", ol(&k.label), ol(e));
                }
                None => {
                    let ids = if k.keyids.is_empty() {
                        "no metadata key".to_string()
                    } else {
                        k.keyids.iter().map(|i| format!("{}…", ol(short(i)))).collect::<Vec<_>>().join(", ")
                    };
                    let ids = if k.bound { ids } else { format!("{ids} (NOT bound: see the findings)") };
                    if k.device == Some("yubihsm2") {
                        let _ = writeln!(
                            s,
                            "  {}: YubiHSM 2 serial {}, firmware {}, object {} {}, origin {}, capabilities {} → {ids}",
                            ol(&k.label),
                            k.serial.map(|x| x.to_string()).unwrap_or_else(|| "?".into()),
                            ol(k.firmware.as_deref().unwrap_or("?")),
                            k.object_id.map(|x| format!("{x:#06x}")).unwrap_or_else(|| "?".into()),
                            ol(&format!("{:?}", k.object_label.as_deref().unwrap_or(""))),
                            ol(k.origin.as_deref().unwrap_or("?")),
                            ol(&k.capabilities.as_ref().map(|c| c.join(",")).unwrap_or_else(|| "?".into())),
                        );
                        continue;
                    }
                    let _ = writeln!(
                        s,
                        "  {}: serial {}, firmware {}, PIN {}, touch {} → {ids}",
                        ol(&k.label),
                        k.serial.map(|x| x.to_string()).unwrap_or_else(|| "?".into()),
                        ol(k.firmware.as_deref().unwrap_or("?")),
                        ol(k.pin_policy.as_deref().unwrap_or("?")),
                        ol(k.touch_policy.as_deref().unwrap_or("?"))
                    );
                }
            }
        }
        if !a.unattested.is_empty() {
            let names: Vec<String> = a.unattested.iter().map(|id| r.labels.get(id).map(|l| ol(l)).unwrap_or_else(|| format!("{}…", ol(short(id))))).collect();
            let _ = writeln!(s, "  unattested offline keys: {}", names.join(", "));
        }
    }

    let (e, w, i) = (r.count(Severity::Error), r.count(Severity::Warning), r.count(Severity::Info));
    let _ = writeln!(s, "\nFindings: {e} errors, {w} warnings, {i} notes");
    // Findings in order (errors, warnings, notes); a code seen more than SHOW_SAME times is
    // summarised after its last shown example.
    let mut total: BTreeMap<(Severity, &str), Vec<&str>> = BTreeMap::new();
    for f in &r.findings {
        total.entry((f.finding.severity, f.finding.code)).or_default().push(&f.file);
    }
    let mut shown: BTreeMap<(Severity, &str), usize> = BTreeMap::new();
    for f in &r.findings {
        let k = (f.finding.severity, f.finding.code);
        let n = shown.entry(k).or_default();
        *n += 1;
        s.tone(tone_of(f.finding.severity));
        if *n <= SHOW_SAME {
            let _ = writeln!(
                s,
                "  {:<7} {}: {} [{}] {}{}",
                f.finding.severity.as_str(),
                one_line(&f.file),
                one_line(&f.finding.path.to_string()),
                f.finding.code,
                one_line(&f.finding.message),
                rejected(f)
            );
        }
        let all = &total[&k];
        if *n == SHOW_SAME && all.len() > SHOW_SAME {
            let mut files: Vec<&str> = all[SHOW_SAME..].to_vec();
            files.dedup();
            let files: Vec<String> = files.into_iter().map(ol).collect();
            let list = if files.len() > 4 { format!("{} … {}", files[..2].join(", "), files[files.len() - 1]) } else { files.join(", ") };
            let _ = writeln!(s, "  {:<7} … and {} more [{}] in {list} (all in --json)", f.finding.severity.as_str(), all.len() - SHOW_SAME, f.finding.code);
        }
    }
    s.tone(Tone::Plain);
    let _ = writeln!(s);
    s.tone(if r.ok() { Tone::Good } else { Tone::Bad });
    let _ = writeln!(s, "Result: {} (exit {})", if r.ok() { "OK" } else { "FAILED" }, r.exit_code());
    s
}

fn tone_of(severity: Severity) -> Tone {
    match severity {
        Severity::Error => Tone::Bad,
        Severity::Warning => Tone::Warn,
        Severity::Info => Tone::Plain,
    }
}

fn rejected(f: &AuditFinding) -> String {
    if f.finding.rejected_by.is_empty() { String::new() } else { format!(" (rejected by {})", f.finding.rejected_by) }
}
