//! `tuf-ceremony status`: a dashboard of a metadata folder for people and for cron/CI.
//!
//! Per role: version, expiry, days left, re-signing window, signatures k/t verified against
//! the delegator, and a state — `ok`, `signing-window` (an offline role is inside its
//! re-signing window: schedule a signing) or `expired`. Online roles (re-signed by a
//! machine) have no window; their expiry still counts. Exit codes: 1 when any role has
//! expired or does not carry a threshold of valid signatures, else 3 when any offline role
//! is inside its window, else 0.
//!
//! Which roles are offline, and their windows: with `--plan`, the plan's offline roles and
//! their `signing_window_days`; every other role the plan names is online. Roles the plan
//! does not name, and every role when there is no plan, follow PEP 458/480: snapshot,
//! timestamp and hashed-bin roles (delegated by hash prefix or succinct bins) are online;
//! every other role is offline with `default_window`.

use super::folder::{Folder, LoadedFile};
use crate::ceremony::plan::{Plan, Signers, default_window};
use crate::error::exit;
use crate::tuf::bins::in_succinct;
use crate::tuf::metadata::{DelegatedRoles, PathSpec, Signed};
use crate::tuf::verify::{ThresholdCheck, check_root_rotation, check_threshold, check_top_level};
use crate::util::style::{Tone, Toned};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The JSON form's `format` and `format_version` (docs/status-json.md).
pub const JSON_FORMAT: &str = "tuf-ceremony-status";
pub const JSON_FORMAT_VERSION: u64 = 1;
/// The same, in the form every other `--json` report names itself.
pub const SCHEMA: &str = "tuf-ceremony-status/1";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Ok,
    SigningWindow,
    Expired,
    /// No delegation reaches the role: no client fetches it, so it decides nothing.
    Unreached,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::SigningWindow => "signing-window",
            State::Expired => "expired",
            State::Unreached => "unreached",
        }
    }
}

/// One threshold check: who the signatures were checked against, and the count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigCount {
    pub by: String,
    pub valid: u64,
    pub threshold: u64,
}

impl SigCount {
    fn from(by: String, c: &ThresholdCheck) -> Self {
        SigCount { by, valid: c.valid(), threshold: c.threshold }
    }
    pub fn met(&self) -> bool {
        self.valid >= self.threshold
    }
}

#[derive(Clone, Debug)]
pub struct RoleStatus {
    pub role: String,
    pub file: String,
    pub version: u64,
    pub expires: String,
    pub expires_at: DateTime<Utc>,
    /// Whole days until expiry, rounded down (negative once expired).
    pub days_left: i64,
    /// `None` for an online role.
    pub window_days: Option<i64>,
    /// Who delegates this role (`None` when the delegator is not in the folder).
    pub delegator: Option<String>,
    /// Empty when the delegator is not in the folder (signatures not checked).
    pub signatures: Vec<SigCount>,
    pub state: State,
}

impl RoleStatus {
    pub fn online(&self) -> bool {
        self.window_days.is_none()
    }
    pub fn window_opens(&self) -> Option<DateTime<Utc>> {
        self.window_days.and_then(|d| Duration::try_days(d).and_then(|d| self.expires_at.checked_sub_signed(d)))
    }
    /// `Some(false)` when a threshold check failed, `None` when nothing was checked.
    pub fn signatures_met(&self) -> Option<bool> {
        (!self.signatures.is_empty()).then(|| self.signatures.iter().all(SigCount::met))
    }
}

pub struct StatusReport {
    pub dir: String,
    pub at: DateTime<Utc>,
    /// `Some(sha256)` when windows come from a plan.
    pub plan_sha256: Option<String>,
    /// The plan digest (the plan and every file it points to), with `--plan`.
    pub plan_digest: Option<String>,
    pub roles: Vec<RoleStatus>,
    /// Root versions in the folder older than the newest (history; not judged).
    pub older_roots: Vec<u64>,
    pub notes: Vec<String>,
}

/// How a loaded role is delegated.
struct Deleg {
    parent: String,
    /// Delegated by hash prefix (PEP 458 bins): online unless the plan says otherwise.
    bin: bool,
    keyids: Vec<String>,
    threshold: u64,
}

/// Where a role's window comes from.
fn window_for(role: &str, hashed_bin: bool, plan: Option<&Plan>) -> Option<i64> {
    if let Some(p) = plan {
        if let Some(r) = p.offline_roles().into_iter().find(|r| r.name == role) {
            return Some(r.signing_window_days);
        }
        if role == "snapshot" || role == "timestamp" || p.delegations.iter().any(|d| d.name == role && matches!(d.signers, Signers::Online(_))) {
            return None;
        }
    }
    if role == "snapshot" || role == "timestamp" || hashed_bin {
        return None;
    }
    Some(default_window(role))
}

fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Computes the dashboard for `folder` at time `at`.
pub fn status(folder: &Folder, at: DateTime<Utc>, plan: Option<&Plan>) -> StatusReport {
    let mut notes: Vec<String> = folder.skipped.clone();
    let mut roles = Vec::new();
    let lenient = true;

    let make = |name: &str, f: &LoadedFile, window: Option<i64>, delegator: Option<String>, signatures: Vec<SigCount>| {
        let e = f.md.signed.header().expires.at();
        let left = e - at;
        let days_left = left.num_seconds().div_euclid(86_400);
        let state = if e <= at {
            State::Expired
        } else if window.is_some_and(|w| Duration::try_days(w).is_none_or(|w| left < w)) {
            State::SigningWindow
        } else {
            State::Ok
        };
        RoleStatus {
            role: name.to_string(),
            file: f.file.clone(),
            version: f.md.version(),
            expires: f.md.signed.header().expires.as_str().to_string(),
            expires_at: e,
            days_left,
            window_days: window,
            delegator,
            signatures,
            state,
        }
    };

    // Root: the newest version; the one before it, when present, must also have signed it.
    let newest = folder.roots.iter().next_back();
    let mut older_roots: Vec<u64> = folder.roots.keys().copied().collect();
    older_roots.pop();
    if let Some((&v, f)) = newest {
        let root = f.md.signed.as_root().expect("loader keeps roots only");
        let mut sigs = Vec::new();
        if let Some(c) = check_top_level(root, "root", &f.md, &f.canonical, lenient) {
            sigs.push(SigCount::from(format!("root v{v} (itself)"), &c));
        }
        let mut delegator = format!("root v{v} (itself)");
        if let Some(prev) = v.checked_sub(1).and_then(|p| folder.roots.get(&p))
            && let Some(rc) = check_root_rotation(prev.md.signed.as_root().expect("root"), &f.md, &f.canonical, lenient)
        {
            sigs.push(SigCount::from(format!("root v{}", v - 1), &rc.by_previous));
            delegator = format!("root v{} and itself", v - 1);
        }
        roles.push(make("root", f, window_for("root", false, plan), Some(delegator), sigs));
    } else {
        notes.push("no root metadata in the folder: signatures of top-level roles cannot be checked".into());
    }
    let newest_root = newest.map(|(v, f)| (*v, f.md.signed.as_root().expect("root")));

    // Delegators, breadth-first from targets (search order), for every loaded role.
    let mut delegator_of: BTreeMap<String, Deleg> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut queue = std::collections::VecDeque::from(["targets".to_string()]);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    while let Some(parent) = queue.pop_front() {
        if !seen.insert(parent.clone()) {
            continue;
        }
        let Some(pf) = folder.roles.get(&parent) else { continue };
        let Signed::Targets(t) = &pf.md.signed else { continue };
        let Some(d) = &t.delegations else { continue };
        let mut found: Vec<(String, Deleg)> = Vec::new();
        match &d.roles {
            DelegatedRoles::Roles(children) => {
                for c in children {
                    if folder.roles.contains_key(&c.name) && c.name != "targets" {
                        let bin = matches!(c.paths, PathSpec::HashPrefixes(_));
                        found.push((c.name.clone(), Deleg { parent: parent.clone(), bin, keyids: c.keyids.clone(), threshold: c.threshold }));
                    }
                }
            }
            DelegatedRoles::Succinct(s) => {
                for name in folder.roles.keys().filter(|n| in_succinct(s, n)) {
                    found.push((name.clone(), Deleg { parent: parent.clone(), bin: true, keyids: s.keyids.clone(), threshold: s.threshold }));
                }
            }
        }
        for (name, dl) in found {
            if let std::collections::btree_map::Entry::Vacant(e) = delegator_of.entry(name.clone()) {
                e.insert(dl);
                order.push(name.clone());
                queue.push_back(name);
            }
        }
    }

    // Top-level targets, then delegated roles in search order, then snapshot and timestamp.
    let top = |name: &str, roles: &mut Vec<RoleStatus>| {
        if let Some(f) = folder.roles.get(name) {
            let (delegator, sigs) = match newest_root {
                Some((v, root)) => {
                    let c = check_top_level(root, name, &f.md, &f.canonical, lenient);
                    (Some(format!("root v{v}")), c.map(|c| vec![SigCount::from(format!("root v{v}"), &c)]).unwrap_or_default())
                }
                None => (None, Vec::new()),
            };
            roles.push(make(name, f, window_for(name, false, plan), delegator, sigs));
        }
    };
    top("targets", &mut roles);
    for name in &order {
        let f = &folder.roles[name];
        let dl = &delegator_of[name];
        let pf = &folder.roles[&dl.parent];
        let Signed::Targets(pt) = &pf.md.signed else { continue };
        let keys = pt.delegations.as_ref().map(|d| &d.keys).expect("a delegator has delegations");
        let c = check_threshold(&dl.keyids, dl.threshold, keys, &f.canonical, &f.md.signatures, lenient);
        let sigs = vec![SigCount::from(format!("{} v{}", dl.parent, pf.md.version()), &c)];
        roles.push(make(name, f, window_for(name, dl.bin, plan), Some(dl.parent.clone()), sigs));
    }
    top("snapshot", &mut roles);
    top("timestamp", &mut roles);
    for (name, f) in &folder.roles {
        if ["targets", "snapshot", "timestamp"].contains(&name.as_str()) || delegator_of.contains_key(name) {
            continue;
        }
        notes.push(format!("{}: no role in the folder delegates to {name}: clients never fetch it, so it is not checked and decides nothing", f.file));
        let mut r = make(name, f, window_for(name, false, plan), None, Vec::new());
        r.state = State::Unreached;
        roles.push(r);
    }
    StatusReport {
        dir: folder.dir.display().to_string(),
        at,
        plan_sha256: plan.map(|p| p.sha256.clone()),
        plan_digest: plan.map(|p| p.digest.clone()),
        roles,
        older_roots,
        notes,
    }
}

impl StatusReport {
    fn expired(&self) -> Vec<&RoleStatus> {
        self.roles.iter().filter(|r| r.state == State::Expired).collect()
    }
    fn unsigned(&self) -> Vec<&RoleStatus> {
        self.roles.iter().filter(|r| r.signatures_met() == Some(false)).collect()
    }
    fn in_window(&self) -> Vec<&RoleStatus> {
        self.roles.iter().filter(|r| r.state == State::SigningWindow).collect()
    }

    /// 1 (expired or below threshold) wins over 3 (inside a signing window) over 0.
    pub fn exit_code(&self) -> i32 {
        if !self.expired().is_empty() || !self.unsigned().is_empty() {
            exit::FAILED
        } else if !self.in_window().is_empty() {
            exit::ATTENTION
        } else {
            exit::OK
        }
    }

    pub fn overall(&self) -> &'static str {
        match self.exit_code() {
            exit::FAILED => "failed",
            exit::ATTENTION => "attention",
            _ => "ok",
        }
    }

    /// The stable machine form (docs/status-json.md).
    pub fn to_json(&self) -> Value {
        let roles: Vec<Value> = self
            .roles
            .iter()
            .map(|r| {
                json!({
                    "role": r.role,
                    "file": r.file,
                    "version": r.version,
                    "expires": r.expires,
                    "days_left": r.days_left,
                    "online": r.online(),
                    "signing_window_days": r.window_days,
                    "window_opens": r.window_opens().map(fmt_time),
                    "delegator": r.delegator,
                    "signatures": {
                        "met": r.signatures_met(),
                        "checks": r.signatures.iter().map(|s| json!({"by": s.by, "valid": s.valid, "threshold": s.threshold})).collect::<Vec<_>>(),
                    },
                    "state": r.state.as_str(),
                })
            })
            .collect();
        // `schema` and `tool` as every other report has them; `format` and `format_version`
        // stay (the first consumers read them).
        crate::util::machine::envelope(
            SCHEMA,
            json!({
                "format": JSON_FORMAT,
                "format_version": JSON_FORMAT_VERSION,
                "folder": self.dir,
                "at": fmt_time(self.at),
                "windows_from": if self.plan_sha256.is_some() { "plan" } else { "defaults" },
                "plan_sha256": self.plan_sha256,
                "plan_digest": self.plan_digest,
                "status": self.overall(),
                "exit_code": self.exit_code(),
                "roles": roles,
                "older_root_versions": self.older_roots,
                "notes": self.notes,
            }),
        )
    }

    /// The human table, as plain text.
    pub fn to_table(&self) -> String {
        self.to_toned().into_string()
    }

    /// The human table with a tone per line: each role's row by its state, the summary.
    pub fn to_toned(&self) -> Toned {
        use std::fmt::Write;
        let mut s = Toned::new();
        let from = match &self.plan_sha256 {
            Some(h) => format!("signing windows from the plan (sha256 {}…)", &h[..16.min(h.len())]),
            None => "signing windows: PEP 458/480 defaults (give --plan for the plan's)".to_string(),
        };
        let ol = |x: &str| crate::util::text::one_line(x).into_owned();
        let _ = writeln!(s, "Metadata in {} at {} UTC; {from}", ol(&self.dir), self.at.format("%Y-%m-%d %H:%M:%S"));
        let w = self.roles.iter().map(|r| r.role.len()).max().unwrap_or(4).clamp(4, 32);
        let _ = writeln!(s, "{:<w$}  {:>7}  {:<20}  {:>9}  {:<8}  {:<10}  STATE", "ROLE", "VERSION", "EXPIRES", "DAYS LEFT", "WINDOW", "SIGNATURES");
        for r in &self.roles {
            let window = r.window_days.map(|d| format!("{d} days")).unwrap_or_else(|| "online".into());
            let sigs = if r.signatures.is_empty() {
                "?".to_string()
            } else {
                r.signatures.iter().map(|c| format!("{}/{}", c.valid, c.threshold)).collect::<Vec<_>>().join("+")
            };
            let state = match r.state {
                State::Ok if r.signatures_met() == Some(false) => "BELOW THRESHOLD".to_string(),
                State::Ok => "ok".to_string(),
                State::SigningWindow => {
                    format!("RE-SIGN NOW (window opened {})", r.window_opens().map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default())
                }
                State::Expired => "EXPIRED".to_string(),
                State::Unreached => "unreached (nothing delegates to it; not checked)".to_string(),
            };
            let state = if r.state != State::Ok && r.signatures_met() == Some(false) { format!("{state}, BELOW THRESHOLD") } else { state };
            s.tone(match r.state {
                State::Expired => Tone::Bad,
                _ if r.signatures_met() == Some(false) => Tone::Bad,
                State::SigningWindow => Tone::Warn,
                State::Ok | State::Unreached => Tone::Plain,
            });
            let _ = writeln!(s, "{:<w$}  {:>7}  {:<20}  {:>9}  {:<8}  {:<10}  {state}", ol(&r.role), r.version, ol(&r.expires), r.days_left, window, sigs);
        }
        s.tone(Tone::Plain);
        if !self.older_roots.is_empty() {
            let v: Vec<String> = self.older_roots.iter().map(|v| v.to_string()).collect();
            let _ = writeln!(s, "Older root versions in the folder (history, not judged): {}", v.join(", "));
        }
        for r in self.roles.iter().filter(|r| r.signatures.len() > 1) {
            let by: Vec<String> = r.signatures.iter().map(|c| format!("{}/{} by {}", c.valid, c.threshold, ol(&c.by))).collect();
            let _ = writeln!(s, "{} signatures: {}", ol(&r.role), by.join(", "));
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {}", ol(n));
        }
        let names = |v: Vec<&RoleStatus>| v.iter().map(|r| ol(&r.role)).collect::<Vec<_>>().join(", ");
        let (expired, unsigned, window) = (self.expired(), self.unsigned(), self.in_window());
        s.tone(Tone::Bad);
        if !expired.is_empty() {
            let _ = writeln!(s, "EXPIRED: {} — clients refuse expired metadata; re-sign at once.", names(expired));
        }
        if !unsigned.is_empty() {
            let _ = writeln!(s, "BELOW THRESHOLD: {} — not enough valid signatures from the delegator's keys.", names(unsigned));
        }
        s.tone(Tone::Warn);
        if !window.is_empty() {
            let _ = writeln!(s, "Inside the re-signing window: {} — schedule a signing before it expires.", names(window));
        }
        s.tone(match self.exit_code() {
            exit::OK => Tone::Good,
            exit::ATTENTION => Tone::Warn,
            _ => Tone::Bad,
        });
        let _ = writeln!(s, "Status: {} (exit {})", self.overall(), self.exit_code());
        s
    }
}
