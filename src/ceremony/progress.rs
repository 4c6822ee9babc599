//! Where a run stands (`run --status`, and `resign/claim --status` as text): every step with
//! whether it is done, the keyholders present at the last start or resume, and the next
//! step. Read from the working directory only; nothing is asked, made or written. Rendered
//! for people, or as `run --status --json` (`docs/run-status-json.md`, `"schema":
//! "tuf-ceremony-run-status/1"`); `resign/claim` have no `--status --json`, so `job` is
//! `"update"` only in the text form's data.

use super::steps::Step;
use crate::util::machine::envelope;
use crate::util::text::one_line;
use serde_json::{Value, json};
use std::path::PathBuf;

/// The schema identifier of [`Progress::to_json`]'s output.
pub const SCHEMA: &str = "tuf-ceremony-run-status/1";

pub struct Progress {
    pub ceremony: String,
    /// `"ceremony"` or `"update"`.
    pub job: &'static str,
    /// An update's label (`resign-targets-v2`), `None` for a ceremony.
    pub label: Option<String>,
    pub plan_sha256: String,
    pub plan_digest: String,
    pub workdir: PathBuf,
    /// The working directory holds this run's state.
    pub started: bool,
    /// Every step of the run, in order, and whether it is done.
    pub steps: Vec<(Step, bool)>,
    /// The keyholders the job involves.
    pub involved: Vec<String>,
    /// Present and absent at the last start or resume (from the transcript); `None` before
    /// the run began.
    pub present: Option<Vec<String>>,
    pub absent: Option<Vec<String>>,
    /// The ceremony time the operator confirmed, once the clock step is done.
    pub ceremony_time: Option<String>,
    /// Media folders an export completed to, each `FOLDER|TRANSCRIPT-HEAD` as the state records it.
    pub exported: Vec<String>,
}

impl Progress {
    pub fn done(&self) -> usize {
        self.steps.iter().filter(|s| s.1).count()
    }

    /// The first step not done.
    pub fn next(&self) -> Option<&Step> {
        self.steps.iter().find(|s| !s.1).map(|s| &s.0)
    }

    /// `"not-started"`, `"in-progress"` or `"complete"`.
    pub fn state(&self) -> &'static str {
        match (self.done(), self.next()) {
            (_, None) => "complete",
            _ if !self.started => "not-started",
            _ => "in-progress",
        }
    }

    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ =
            writeln!(s, "Ceremony {}, working directory {}\n  plan digest {}", self.ceremony, one_line(&self.workdir.display().to_string()), self.plan_digest);
        for (step, ok) in &self.steps {
            let _ = writeln!(s, "  [{}] {:<28} {}", if *ok { "x" } else { " " }, step.id(), step.title());
        }
        match self.next() {
            Some(n) => {
                let _ = writeln!(s, "{} of {} steps done; next: {}", self.done(), self.steps.len(), n.id());
            }
            None => {
                let _ = writeln!(s, "All {} steps done.", self.steps.len());
            }
        }
        s
    }

    pub fn to_json(&self) -> Value {
        envelope(
            SCHEMA,
            json!({
                "ceremony": self.ceremony,
                "job": self.job,
                "label": self.label,
                "plan_sha256": self.plan_sha256,
                "plan_digest": self.plan_digest,
                "workdir": self.workdir.display().to_string(),
                "state": self.state(),
                "exit_code": crate::error::exit::OK,
                "steps": self.steps.iter().map(|(s, done)| json!({
                    "id": s.id(),
                    "kind": s.kind.id,
                    "keyholder": s.keyholder,
                    "title": s.title(),
                    "done": done,
                })).collect::<Vec<_>>(),
                "done": self.done(),
                "total": self.steps.len(),
                "next": self.next().map(Step::id),
                "keyholders": {
                    "involved": self.involved,
                    "present": self.present,
                    "absent": self.absent,
                },
                "ceremony_time": self.ceremony_time,
                "exported": self.exported.iter().map(|e| {
                    let (folder, head) = e.rsplit_once('|').unwrap_or((e.as_str(), ""));
                    json!({"folder": folder, "transcript_head": head})
                }).collect::<Vec<_>>(),
            }),
        )
    }
}
