//! `resign ROLE… --dry-run` and `claim … --dry-run`: what the update will change, built as
//! the run builds it (`job::build_next`: next version, the plan's expiry, claims applied)
//! but before any token is opened, any question asked or anything written, and then stop.
//! Rendered for people, or with `--json` (which needs `--dry-run`) as
//! `docs/update-preview-json.md` (`"schema": "tuf-ceremony-update-preview/1"`).
//!
//! The working directory is read as the run would read it, never created or changed
//! (`engine::peek`): one that holds another run is refused with the run's own words; one
//! that holds this update is what the run resumes, so the preview shows its drafts, built
//! from the ceremony time confirmed there. Otherwise the expiry dates count from this
//! machine's clock now; the run counts them from the ceremony time its operator confirms,
//! so they may differ by the time in between.

use crate::ceremony::claims;
use crate::ceremony::engine::{self, CeremonyError};
use crate::ceremony::job::{Job, Update, build_next, current_authority};
use crate::ceremony::plan::Plan;
use crate::ceremony::presence;
use crate::ceremony::state::Workdir;
use crate::error::{Error, Result};
use crate::tuf::metadata::Metadata;
use crate::util::machine::{envelope, time};
use crate::util::text::one_line;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The schema identifier of [`Preview::to_json`]'s output.
pub const SCHEMA: &str = "tuf-ceremony-update-preview/1";

/// What the working directory holds for the update previewed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkdirState {
    /// Nothing yet (or not there): the run begins it.
    Fresh,
    /// This update, begun earlier: the run resumes it.
    Resume,
}

impl WorkdirState {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkdirState::Fresh => "fresh",
            WorkdirState::Resume => "resume",
        }
    }
}

/// One role's next version.
pub struct RolePreview {
    pub role: String,
    /// The current file it is built from, as named in `--current`.
    pub file: String,
    pub old_version: u64,
    pub new_version: u64,
    pub old_expires: String,
    pub new_expires: String,
    /// Who delegates the role: `root`, or the targets role that lists it.
    pub delegator: String,
    /// The keys that must sign (the delegator's entry for the role) and how many.
    pub keyids: Vec<String>,
    pub threshold: u64,
    /// The plan's keyholders for the role.
    pub keyholders: Vec<String>,
    /// What changes, in the words of CHANGES.txt.
    pub changes: Vec<String>,
    pub claims: Option<claims::Report>,
    /// The draft (for the keyids and thresholds of claimed projects); the working
    /// directory's, with the signatures made so far, when the run resumes one.
    pub draft: Metadata,
}

pub struct Preview {
    /// `"resign"` or `"claim"`.
    pub command: &'static str,
    pub ceremony: String,
    pub label: String,
    /// The folder the run exports to on the media.
    pub media_folder: String,
    pub plan_sha256: String,
    pub plan_digest: String,
    pub current: PathBuf,
    pub workdir: PathBuf,
    pub workdir_state: WorkdirState,
    /// What the expiry dates count from: the ceremony time confirmed in the working
    /// directory when the run resumes one that has it, else this machine's clock.
    pub at: DateTime<Utc>,
    /// `at` is the working directory's confirmed ceremony time.
    pub at_confirmed: bool,
    pub involved: Vec<String>,
    /// With `--keyholders`: who is present and absent (checked against every threshold as the
    /// run checks it); `None` without.
    pub presence: Option<presence::Presence>,
    pub roles: Vec<RolePreview>,
}

/// Builds every role's next version of the update `u` as the run would: at `now`, or for
/// a working directory holding this update, at its confirmed ceremony time and with the
/// drafts built there.
pub fn preview(
    command: &'static str,
    plan: &Plan,
    u: &Update,
    current: &Path,
    workdir: &Path,
    present: Option<&[String]>,
    now: DateTime<Utc>,
) -> Result<Preview> {
    let job = Job::Update(u.clone());
    // The working directory first, as the run opens it: another run's is refused before
    // the keyholders are counted.
    let found = engine::peek(plan, workdir, &job)?;
    let checked = presence::check(plan, &job, present, &|_| false).map_err(|e| Error::from(CeremonyError::Presence(e)))?;
    let confirmed = match found.as_ref().and_then(|s| s.ceremony_time.as_deref()) {
        Some(t) => Some(
            DateTime::parse_from_rfc3339(t).map_err(|e| Error::from(CeremonyError::Refused(format!("bad ceremony time in state: {e}"))))?.with_timezone(&Utc),
        ),
        None => None,
    };
    let at = confirmed.unwrap_or(now);
    let mut roles = Vec::new();
    for role in &u.roles {
        let mut draft = build_next(plan, u, role, at).map_err(Error::Refused)?;
        if found.is_some()
            && let Some(built) = engine::workdir_draft(workdir, role)?
        {
            // The run resumes with this draft; one that is not what it builds it refuses.
            if built.signed != draft.md.signed {
                return Err(engine::draft_differs(&Workdir::new(workdir).draft(role)).into());
            }
            draft.md = built;
        }
        let (keyids, threshold) =
            current_authority(&u.current, role).ok_or_else(|| Error::Refused(format!("nothing in the current metadata delegates {role}")))?;
        let delegator = super::apart::delegator(u, role).map(|(n, _)| n.to_string()).unwrap_or_default();
        let file =
            if role == "root" { u.current.set.roots.values().next_back() } else { u.current.set.roles.get(role) }.map(|f| f.file.clone()).unwrap_or_default();
        let plan_role = plan.offline_roles().into_iter().find(|r| &r.name == role);
        roles.push(RolePreview {
            role: role.clone(),
            file,
            old_version: draft.current.version(),
            new_version: draft.md.version(),
            old_expires: draft.current.signed.header().expires.as_str().to_string(),
            new_expires: draft.md.signed.header().expires.as_str().to_string(),
            delegator,
            keyids,
            threshold,
            keyholders: plan_role.map(|r| r.keyholders.clone()).unwrap_or_default(),
            changes: draft.lines.iter().flat_map(|l| l.lines()).map(str::to_string).collect(),
            claims: draft.claims,
            draft: draft.md,
        });
    }
    Ok(Preview {
        command,
        ceremony: plan.id.clone(),
        label: u.label.clone(),
        media_folder: u.media_folder(&plan.id),
        plan_sha256: plan.sha256.clone(),
        plan_digest: plan.digest.clone(),
        current: current.to_path_buf(),
        workdir: workdir.to_path_buf(),
        workdir_state: if found.is_some() { WorkdirState::Resume } else { WorkdirState::Fresh },
        at,
        at_confirmed: confirmed.is_some(),
        involved: presence::involved(plan, &job),
        presence: present.map(|_| checked),
        roles,
    })
}

/// `{project, keyids, threshold}` of each project as the draft delegates it.
fn projects(md: &Metadata, names: &[String]) -> Vec<Value> {
    let roles = md.signed.as_targets().map(|t| t.delegated_roles()).unwrap_or(&[]);
    names
        .iter()
        .map(|p| {
            let d = roles.iter().find(|d| &d.name == p);
            json!({"project": p, "keyids": d.map(|d| d.keyids.clone()), "threshold": d.map(|d| d.threshold)})
        })
        .collect()
}

impl Preview {
    pub fn to_json(&self) -> Value {
        let roles: Vec<Value> = self
            .roles
            .iter()
            .map(|r| {
                json!({
                    "role": r.role,
                    "file": r.file,
                    "old_version": r.old_version,
                    "new_version": r.new_version,
                    "old_expires": r.old_expires,
                    "new_expires": r.new_expires,
                    "delegator": r.delegator,
                    "keyids": r.keyids,
                    "threshold": r.threshold,
                    "keyholders": r.keyholders,
                    "changes": r.changes,
                    "claims": r.claims.as_ref().map(|c| json!({
                        "added": projects(&r.draft, &c.added),
                        "rotated": projects(&r.draft, &c.changed),
                        "removed": c.removed,
                        "unchanged": c.unchanged,
                    })),
                })
            })
            .collect();
        envelope(
            SCHEMA,
            json!({
                "command": self.command,
                "result": "preview",
                "exit_code": crate::error::exit::OK,
                "signed": false,
                "ceremony": self.ceremony,
                "label": self.label,
                "media_folder": self.media_folder,
                "plan_sha256": self.plan_sha256,
                "plan_digest": self.plan_digest,
                "current": self.current.display().to_string(),
                "workdir": {"path": self.workdir.display().to_string(), "state": self.workdir_state.as_str()},
                "at": time(self.at),
                "keyholders": {
                    "involved": self.involved,
                    "present": self.presence.as_ref().map(|p| p.present.clone()),
                    "absent": self.presence.as_ref().map(|p| p.absent.clone()),
                },
                "roles": roles,
            }),
        )
    }

    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "Dry run of {} {} (nothing is signed, asked or written).", self.command, one_line(&self.label));
        let dir = one_line(&self.workdir.display().to_string()).into_owned();
        match self.workdir_state {
            WorkdirState::Fresh => {
                let _ = writeln!(s, "Working directory {dir}: none yet; the run begins it.");
            }
            WorkdirState::Resume => {
                let _ = writeln!(s, "Working directory {dir}: holds this update, begun earlier; the run resumes it.");
            }
        }
        if self.at_confirmed {
            let _ = writeln!(s, "Expiry dates count from the ceremony time confirmed there, {} UTC.", self.at.format("%Y-%m-%d %H:%M:%S"));
        } else {
            let _ = writeln!(s, "Expiry dates count from this machine's clock, {} UTC.", self.at.format("%Y-%m-%d %H:%M:%S"));
        }
        for r in &self.roles {
            let who = if r.keyholders.is_empty() { "the plan names none".to_string() } else { r.keyholders.join(", ") };
            let _ =
                writeln!(s, "\n{}: {} of {} keys of {} must sign (keyholders: {who})", one_line(&r.role), r.threshold, r.keyids.len(), one_line(&r.delegator));
            for l in &r.changes {
                let _ = writeln!(s, "  {}", one_line(l));
            }
        }
        if let Some(p) = &self.presence {
            let absent = if p.absent.is_empty() { "none".to_string() } else { p.absent.join(", ") };
            let _ = writeln!(s, "\nKeyholders present: {}; absent: {absent}.", p.present.join(", "));
        }
        let _ = writeln!(s, "\nRun the same command without --dry-run to sign.");
        s
    }
}
