//! The ceremony engine: runs the plan's steps in order through a `Ui` and token back ends,
//! persisting state after every step and every signature, and recording everything in the
//! hash-chained transcript. The terminal is just one `Ui`; tests drive the same steps.

use super::build::{self, file_name, rotation_only, signers_of};
use super::job::{CurrentFiles, Job};
use super::plan::Plan;
use super::presence::{self, Presence, PresenceError};
use super::state::{KeyRecord, State, StateError, Workdir};
use super::steps::{Step, expand, say};
use super::tokens::{Peek, TokenBackend, TokenError, TokenKey};
use super::transcript::{Transcript, TranscriptError};
use super::ui::{Ui, UiError};
use crate::audit::{MetadataFile, MetadataSet, check_set};
use crate::fields;
use crate::media::{self, Exported, Item, MediaError};
use crate::signer::{Signed as SignOutcome, sign_payload};
use crate::tuf::encode::pretty;
use crate::tuf::finding::Severity;
use crate::tuf::keys::{PublicKey, keyid, sha256_hex};
use crate::tuf::metadata::{Key, Metadata, Mode};
use crate::util::fsx::{self, Kind, replace_atomic};
use crate::util::pgpwords;
use crate::util::text::one_line;
use chrono::{DateTime, Utc};

mod export;
mod keyholders;
mod preflight;

use export::read_sums;
use preflight::confirm_program;
pub use preflight::{interfaces_up, program_sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CeremonyError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("transcript: {0}")]
    Transcript(#[from] TranscriptError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Ui(#[from] UiError),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("{}: {what}", path.display())]
    File { path: PathBuf, what: String },
    #[error(transparent)]
    Presence(#[from] PresenceError),
    /// The working directory holds another run (explained in words).
    #[error("{0}")]
    Stale(String),
}

type Result<T> = std::result::Result<T, CeremonyError>;

/// A ceremony error at the command line: a working directory that is damaged or that
/// disagrees with its transcript, a file that cannot be read, and an unknown keyholder
/// are input errors (exit 2); everything else is a refusal (exit 1).
impl From<CeremonyError> for crate::error::Error {
    fn from(e: CeremonyError) -> Self {
        use crate::error::Error;
        match e {
            CeremonyError::State(s @ (StateError::Corrupt { .. } | StateError::Disagrees { .. } | StateError::Io { .. })) => Error::Usage(s.to_string()),
            CeremonyError::File { path, what } => Error::Input { path, what },
            t @ CeremonyError::Transcript(_) => Error::Usage(t.to_string()),
            CeremonyError::Presence(p @ PresenceError::Unknown(..)) => Error::Usage(p.to_string()),
            e => Error::Refused(e.to_string()),
        }
    }
}

/// How `run` behaves.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Where the removable media is mounted.
    pub media: PathBuf,
    /// Go on with a network interface up (recorded in the transcript).
    pub allow_network: bool,
    /// A rehearsal: a network interface up is a warning, not a refusal.
    pub rehearsal: bool,
    /// Test hook: abort the process right after this step id is persisted.
    pub crash_after: Option<String>,
    /// What this run produces.
    pub job: Job,
    /// The current repository, for a root rotation that also rotates targets or offline
    /// delegated roles' keys (their new versions are written too).
    pub current: Option<std::sync::Arc<super::job::CurrentFiles>>,
    /// The keyholders in the room (`--keyholders`); `None`: everyone the job involves.
    pub present: Option<Vec<String>>,
    /// Set aside (rename, never delete) a working directory that holds another run.
    pub set_aside: bool,
}

/// What a finished ceremony produced.
#[derive(Clone, Debug)]
pub struct Finished {
    pub media_dir: PathBuf,
    pub transcript_head: String,
    pub files: Vec<Exported>,
}

pub struct Engine<'a> {
    plan: &'a Plan,
    work: Workdir,
    state: State,
    transcript: Transcript,
    ui: &'a mut dyn Ui,
    tokens: &'a mut dyn TokenBackend,
    opts: Options,
    /// Who is here for this run.
    presence: Presence,
    /// This program's sha256, recorded at every start and resume.
    program: String,
    /// A rotation's roles (root plus follow-ups), decided once the keys are recorded;
    /// building them clones the current roles, so it is done once per run.
    rotation_roles: std::cell::OnceCell<Vec<String>>,
}

fn now_str(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Where the run in `workdir` stands, for `run --status`: every step and whether it is done.
pub fn status(plan: &Plan, workdir: &Path, job: &Job, current: Option<&CurrentFiles>) -> Result<super::progress::Progress> {
    let work = Workdir::new(workdir);
    // Read only: nothing is made or changed (load_or_init would make metadata/).
    let found = work.load_existing(&fingerprint(plan, job, current))?;
    let started = found.is_some();
    let state = found.unwrap_or_default();
    // The keyholders present at the last start or resume sign; the absent have no step.
    let last = fsx::read_in(&work.transcript_path(), Kind::Transcript)
        .ok()
        .and_then(|b| super::transcript::verify(&b).ok())
        .and_then(|v| v.lines.iter().rev().find(|l| matches!(l.get("kind").and_then(|k| k.as_str()), Some("ceremony.start" | "ceremony.resume"))).cloned());
    let names = |field: &str| -> Option<Vec<String>> {
        last.as_ref().and_then(|l| l.get(field)).and_then(|p| p.as_array()).map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
    };
    let (present, absent) = (names("keyholders_present"), names("keyholders_absent"));
    let presence = present.clone().map(|present| Presence { present, absent: Vec::new() });
    let steps = steps_for(plan, job, presence.as_ref()).into_iter().map(|s| {
        let done = state.completed.contains(&s.id());
        (s, done)
    });
    Ok(super::progress::Progress {
        ceremony: plan.id.clone(),
        job: if matches!(job, Job::Update(_)) { "update" } else { "ceremony" },
        label: if let Job::Update(u) = job { Some(u.label.clone()) } else { None },
        plan_sha256: plan.sha256.clone(),
        plan_digest: plan.digest.clone(),
        workdir: workdir.to_path_buf(),
        started,
        steps: steps.collect(),
        involved: presence::involved(plan, job),
        present,
        absent,
        ceremony_time: state.ceremony_time.clone(),
        exported: state.exported.clone(),
    })
}

/// The refusal of a working directory that holds another run (`e` is the
/// `StateError::OtherPlan` of loading it): a state file edited since the transcript began
/// it, a plan changed since, or another update, explained in words (`stale::explain`).
fn other_run(plan: &Plan, work: &Workdir, job: &Job, e: StateError) -> CeremonyError {
    let StateError::OtherPlan { path, found, expected } = e else { return e.into() };
    // The transcript says this job began here: the state file was edited.
    let began = fsx::read_in(&work.transcript_path(), Kind::Transcript)
        .ok()
        .and_then(|b| super::transcript::verify(&b).ok())
        .and_then(|v| v.lines.iter().find(|l| l.get("kind").and_then(|k| k.as_str()) == Some("ceremony.start")).cloned())
        .and_then(|l| l.get("job_fingerprint").and_then(|f| f.as_str()).map(String::from));
    if began.as_deref() == Some(expected.as_str()) {
        return StateError::Disagrees {
            path,
            field: "plan_sha256".into(),
            what: format!("{} is not the transcript's job fingerprint {expected}", one_line(&found)),
        }
        .into();
    }
    match (super::freeze::changed_since(&work.root, plan), job) {
        (Some(why), _) => CeremonyError::Refused(why),
        (None, Job::Update(u)) => {
            let other = work.load().unwrap_or_default();
            CeremonyError::Stale(super::stale::explain(work, &other, job, &u.current.decisive_digests()))
        }
        (None, Job::Ceremony) => StateError::OtherPlan { path, found, expected }.into(),
    }
}

fn transcript_missing(work: &Workdir) -> CeremonyError {
    CeremonyError::Refused(format!(
        "{} is missing, but {} says the ceremony has begun: restore the transcript (a new one would not record what was done)",
        work.transcript_path().display(),
        work.state_path().display()
    ))
}

/// What an update's working directory holds, read without creating or changing anything
/// (`resign/claim --dry-run`): `None` when no run began there; this update's state when it
/// did, checked against its transcript as a resume checks it; another run's is refused
/// with the same words as [`Engine::open`] refuses it.
pub fn peek(plan: &Plan, workdir: &Path, job: &Job) -> Result<Option<State>> {
    let work = Workdir::new(workdir);
    let state = match work.load_existing(&fingerprint(plan, job, None)) {
        Err(e @ StateError::OtherPlan { .. }) => return Err(other_run(plan, &work, job, e)),
        r => r?,
    };
    let Some(state) = state else { return Ok(None) };
    let path = work.transcript_path();
    if !fsx::occupied(&path) {
        return Err(transcript_missing(&work));
    }
    // Read as a resume reads it (`Transcript::open`), the same errors.
    let bytes = fsx::read_in(&path, Kind::Transcript).map_err(|e| TranscriptError::Io(format!("{}: {e}", path.display())))?;
    // Whole lines only, as a resume reads it (a torn last line it cuts off; here it is left).
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let v = super::transcript::verify(&bytes[..whole])?;
    state.check_against(&v.lines, &work.state_path())?;
    Ok(Some(state))
}

/// `role`'s draft in an update's working directory, with the signatures made so far:
/// `None` when it is not built yet.
pub fn workdir_draft(workdir: &Path, role: &str) -> Result<Option<Metadata>> {
    let path = Workdir::new(workdir).draft(role);
    if !fsx::occupied(&path) {
        return Ok(None);
    }
    let bytes = fsx::read_large_in(&path).map_err(|e| CeremonyError::File { path: path.clone(), what: e.to_string() })?;
    Metadata::from_bytes(&bytes, Mode::Strict).map(Some).map_err(|e| CeremonyError::File { path, what: e.to_string() })
}

/// The refusal of a draft in the working directory that is not what the update builds.
pub fn draft_differs(path: &Path) -> CeremonyError {
    CeremonyError::Refused(format!("{} differs from what this update builds now; the working directory belongs to another run", path.display()))
}

/// What a working directory belongs to: the plan and job, and for a root rotation the
/// `--current` files too. A rotation resumed without them (or with others) would decide
/// its follow-up roles differently from the drafts already built, so it is refused.
fn fingerprint(plan: &Plan, job: &Job, current: Option<&CurrentFiles>) -> String {
    let base = job.fingerprint(&plan.digest);
    match current {
        None => base,
        Some(c) => {
            let files: String = c.digests.iter().map(|(f, h)| format!("{f} {h}\n")).collect();
            sha256_hex(format!("{base}\n--current\n{files}").as_bytes())
        }
    }
}

/// A ceremony provisions every keyholder's key and the keyholders present sign; an update
/// has no keys step (it only uses keys the metadata already lists) and the keyholders
/// present for its roles sign.
fn steps_for(plan: &Plan, job: &Job, presence: Option<&Presence>) -> Vec<Step> {
    let involved = presence::involved(plan, job);
    let signers = presence.map(|p| p.present.clone()).unwrap_or_else(|| involved.clone());
    expand(&involved, &signers, matches!(job, Job::Update(_)))
}

impl<'a> Engine<'a> {
    pub fn open(plan: &'a Plan, workdir: &Path, ui: &'a mut dyn Ui, tokens: &'a mut dyn TokenBackend, opts: Options) -> Result<Self> {
        let work = Workdir::new(workdir);
        let print = fingerprint(plan, &opts.job, opts.current.as_deref());
        if opts.set_aside && fsx::occupied(&work.state_path()) {
            match work.load() {
                Ok(s) if s.plan_sha256 == print => {
                    return Err(CeremonyError::Refused(format!(
                        "--set-aside: {} holds this same run; resume it by running the command without --set-aside",
                        work.root.display()
                    )));
                }
                _ => {
                    presence::check(plan, &opts.job, opts.present.as_deref(), &|_| false)?;
                    let to = super::stale::set_aside(&work.root, Utc::now())
                        .map_err(|e| CeremonyError::File { path: work.root.clone(), what: format!("cannot set it aside: {e}") })?;
                    ui.show(&format!("Set aside the other run's working directory as {} (kept as it was).", to.display()));
                }
            }
        }
        let fresh = !fsx::occupied(&work.state_path());
        if fresh {
            // Refused before anything is written when the people here cannot do the job.
            presence::check(plan, &opts.job, opts.present.as_deref(), &|_| false)?;
        }
        let state = match work.load_or_init(&print) {
            Err(e @ StateError::OtherPlan { .. }) => return Err(other_run(plan, &work, &opts.job, e)),
            r => r?,
        };
        if !fresh && !fsx::occupied(&work.transcript_path()) {
            return Err(transcript_missing(&work));
        }
        let presence = presence::check(plan, &opts.job, opts.present.as_deref(), &|k| state.keys.contains_key(k))?;
        let program = program_sha256()?;
        let mut transcript = Transcript::open(&work.transcript_path(), &now_str(Utc::now()))?;
        let confirmed = confirm_program(plan, &program, transcript.opened(), ui)?;
        let people = fields! {
            "binary_sha256" => program.clone(),
            "binary_confirmed" => confirmed,
            "keyholders_present" => presence.present.clone(),
            "keyholders_absent" => presence.absent.clone(),
        };
        if fresh {
            super::freeze::freeze(&work.root, plan).map_err(|(path, e)| CeremonyError::File { path, what: e.to_string() })?;
            work.save(&state)?;
            let job = match &opts.job {
                Job::Ceremony => "ceremony".to_string(),
                Job::Update(u) => format!("update {} of {}", u.label, u.roles.join(", ")),
            };
            let mut f = fields! {
                "ceremony" => plan.id.clone(),
                "job" => job,
                "job_fingerprint" => state.plan_sha256.clone(),
                "plan_sha256" => plan.sha256.clone(),
                "plan_digest" => plan.digest.clone(),
                "plan_files" => plan.files.iter().map(|f| serde_json::json!({"field": f.field, "path": f.written.display().to_string(), "sha256": f.sha256})).collect::<Vec<_>>(),
                "tool" => crate::util::machine::TOOL,
            };
            f.extend(people);
            if let Job::Update(u) = &opts.job {
                let files: Vec<serde_json::Value> = u.current.decisive_digests().iter().map(|(f, h)| serde_json::json!({"file": f, "sha256": h})).collect();
                f.insert("current_files".into(), files.into());
            }
            transcript.append(&now_str(Utc::now()), "ceremony.start", f)?;
        } else {
            // Everything in the state that decides output must be what the transcript says.
            state.check_against(transcript.opened(), &work.state_path())?;
            let mut f = fields! { "completed_steps" => state.completed.len() };
            f.extend(people);
            transcript.append(&now_str(Utc::now()), "ceremony.resume", f)?;
        }
        ui.show(&format!("Plan digest (what the witnesses approved):\n  {}\n{}", plan.digest, pgp(&plan.digest, "  ")));
        if !presence.absent.is_empty() {
            ui.show(&format!(
                "Keyholders present: {}. Absent: {} (recorded; they can add their signatures later by signing apart).",
                presence.present.join(", "),
                presence.absent.join(", ")
            ));
        }
        Ok(Engine { plan, work, state, transcript, ui, tokens, opts, presence, program, rotation_roles: std::cell::OnceCell::new() })
    }

    pub fn steps(&self) -> Vec<Step> {
        steps_for(self.plan, &self.opts.job, Some(&self.presence))
    }

    /// The folder name on the media: the ceremony id, plus the update's label.
    fn media_id(&self) -> String {
        match &self.opts.job {
            Job::Ceremony => self.plan.id.clone(),
            Job::Update(u) => u.media_folder(&self.plan.id),
        }
    }

    fn record(&mut self, kind: &str, f: serde_json::Map<String, serde_json::Value>) -> Result<()> {
        self.transcript.append(&now_str(Utc::now()), kind, f)?;
        Ok(())
    }

    /// The time every expiry is computed from (confirmed at the clock step).
    fn ceremony_time(&self) -> Result<DateTime<Utc>> {
        let s = self.state.ceremony_time.as_deref().ok_or_else(|| CeremonyError::Refused("the clock has not been confirmed yet".into()))?;
        Ok(DateTime::parse_from_rfc3339(s).map_err(|e| CeremonyError::Refused(format!("bad ceremony time in state: {e}")))?.with_timezone(&Utc))
    }

    /// Runs every incomplete step in order.
    pub fn run(&mut self) -> Result<Finished> {
        let steps = self.steps();
        let total = steps.len();
        for (i, step) in steps.iter().enumerate() {
            let id = step.id();
            if self.state.completed.contains(&id) {
                self.ui.show(&format!("Step {}/{total} [{id}] already done: {}", i + 1, step.title()));
                continue;
            }
            self.ui.show(&format!("\n━━ Step {}/{total} [{id}] {}", i + 1, step.title()));
            self.run_step(step)?;
            // The transcript first: the state never says more than the transcript.
            self.record("step.done", fields! { "step" => id.clone() })?;
            self.state.completed.push(id.clone());
            self.work.save(&self.state)?;
            if self.opts.crash_after.as_deref() == Some(id.as_str()) {
                // Test hook: simulate a power loss right after the step was persisted.
                std::process::abort();
            }
        }
        let exported = self.state.exported.last().cloned().unwrap_or_default();
        let (dir, head) = exported.split_once('|').unwrap_or((&exported, ""));
        let media_dir = PathBuf::from(dir);
        let files = read_sums(&media_dir);
        Ok(Finished { media_dir, transcript_head: head.to_string(), files })
    }

    fn run_step(&mut self, step: &Step) -> Result<()> {
        match (step.kind.id, step.keyholder.as_deref()) {
            ("preflight.network", _) => self.preflight_network(),
            ("preflight.clock", _) => self.preflight_clock(),
            ("preflight.binary", _) => self.preflight_binary(),
            ("preflight.media", _) => self.preflight_media(),
            ("keys.keyholder", Some(k)) => self.keys(k),
            ("build.root", _) => self.build_roles(|r| r == "root"),
            ("build.targets", _) => self.build_roles(|r| r == "targets"),
            ("build.delegations", _) => self.build_roles(|r| r != "root" && r != "targets"),
            ("build.update", _) => self.build_update(),
            ("sign.keyholder", Some(k)) => self.sign(k),
            ("verify.result", _) => self.verify(true).map(|_| ()),
            ("export.media", _) => self.export(),
            ("finish.readout", _) => self.finish(),
            (other, _) => Err(CeremonyError::Refused(format!("unknown step {other}"))),
        }
    }

    /// The recorded keys, as metadata key objects.
    fn keys_map(&self) -> Result<BTreeMap<String, Key>> {
        let mut m = BTreeMap::new();
        for (holder, rec) in &self.state.keys {
            let mut r = crate::tuf::json::Reader::new(rec.key_json.as_bytes()).map_err(|e| CeremonyError::Refused(format!("state: key of {holder}: {e}")))?;
            let key = crate::tuf::metadata::read_key(&mut r).map_err(|e| CeremonyError::Refused(format!("state: key of {holder}: {e}")))?;
            m.insert(holder.clone(), key);
        }
        Ok(m)
    }

    fn build_roles(&mut self, which: impl Fn(&str) -> bool) -> Result<()> {
        let drafts = self.ceremony_drafts()?;
        let mut built = 0;
        for (role, md) in drafts.into_iter().filter(|(r, _)| which(r)) {
            let path = self.work.draft(&role);
            if fsx::occupied(&path) {
                // A crash after writing the draft: keep it (and any signatures) if it is the same role.
                let existing = self.load_draft(&role)?;
                if existing.signed != md.signed {
                    return Err(CeremonyError::Refused(format!(
                        "{} differs from what the plan builds now; the working directory belongs to another run",
                        path.display()
                    )));
                }
            } else {
                replace_atomic(&path, &md.to_pretty_bytes()).map_err(|e| CeremonyError::File { path: path.clone(), what: e.to_string() })?;
            }
            let h = md.signed.header();
            self.ui.show(&format!("Built {role} version {}, expires {}", h.version, h.expires.as_str()));
            let canonical = md.signed_bytes();
            let (version, expires) = (h.version, h.expires.as_str().to_string());
            self.record("build", fields! { "role" => role.clone(), "version" => version, "expires" => expires, "canonical_sha256" => sha256_hex(&canonical) })?;
            built += 1;
        }
        if built == 0 {
            let why = if rotation_only(self.plan) { "this ceremony rotates root only" } else { "the plan has none" };
            self.ui.show(&format!("Nothing to build here ({why})."));
        }
        Ok(())
    }

    fn load_draft(&self, role: &str) -> Result<Metadata> {
        let path = self.work.draft(role);
        let bytes = fsx::read_large_in(&path).map_err(|e| CeremonyError::File { path: path.clone(), what: e.to_string() })?;
        Metadata::from_bytes(&bytes, Mode::Strict).map_err(|e| CeremonyError::File { path, what: e.to_string() })
    }

    /// Role drafts present in the working directory, in signing order.
    fn draft_roles(&self) -> Vec<String> {
        if let Job::Update(u) = &self.opts.job {
            return u.roles.clone();
        }
        let mut v = vec!["root".to_string()];
        if !rotation_only(self.plan) {
            v.push("targets".into());
            v.extend(self.plan.offline_roles().iter().skip(2).map(|r| r.name.clone()));
        } else if self.opts.current.is_some() {
            // A rotation's follow-ups are decided by the keys, known after the keys steps.
            if let Some(r) = self.rotation_roles.get() {
                v = r.clone();
            } else if let Ok(d) = self.ceremony_drafts() {
                v = d.into_iter().map(|(r, _)| r).collect();
                let _ = self.rotation_roles.set(v.clone());
            }
        }
        v
    }

    /// The ceremony's drafts: the plan's roles, or for a rotation the new root plus the
    /// roles whose keys the rotation changes (when the current repository is given).
    fn ceremony_drafts(&self) -> Result<Vec<(String, Metadata)>> {
        let keys = self.keys_map()?;
        let now = self.ceremony_time()?;
        let mut roles = build::build(self.plan, &keys, now).map_err(CeremonyError::Refused)?.roles;
        if let (true, Some(cur)) = (rotation_only(self.plan), &self.opts.current) {
            roles.extend(build::rotation_followups(self.plan, &keys, now, cur).map_err(CeremonyError::Refused)?);
        }
        Ok(roles)
    }

    /// role → canonical sha256 of its latest `build` entry in the transcript.
    fn built_hashes(&self) -> Result<BTreeMap<String, String>> {
        let path = self.transcript.path();
        let bytes = fsx::read_in(path, Kind::Transcript).map_err(|e| CeremonyError::File { path: path.to_path_buf(), what: e.to_string() })?;
        let v = super::transcript::verify(&bytes)?;
        Ok(v.lines
            .iter()
            .filter(|l| l.get("kind").and_then(|k| k.as_str()) == Some("build"))
            .filter_map(|l| Some((l.get("role")?.as_str()?.to_string(), l.get("canonical_sha256")?.as_str()?.to_string())))
            .collect())
    }

    /// Verifies the drafts as an auditor would and returns the file bytes to export.
    fn verify(&mut self, show: bool) -> Result<Vec<(String, Vec<u8>)>> {
        let at = self.ceremony_time()?;
        let mut set = MetadataSet::default();
        let mut out = Vec::new();
        let mut trusted = None;
        if let Job::Update(u) = &self.opts.job {
            // The repository as it is, with the updated roles replaced by the new versions.
            for (v, f) in &u.current.set.roots {
                set.roots.insert(*v, MetadataFile::new(f.file.clone(), f.bytes.clone(), f.md.clone()));
            }
            // snapshot and timestamp are the online system's: it publishes new ones listing
            // the versions this run writes, so the current ones are not checked against them.
            for (r, f) in u.current.set.roles.iter().filter(|(r, _)| *r != "snapshot" && *r != "timestamp") {
                set.roles.insert(r.clone(), MetadataFile::new(f.file.clone(), f.bytes.clone(), f.md.clone()));
            }
            trusted = set.roots.keys().next().copied();
        }
        if let (Job::Ceremony, Some(cur)) = (&self.opts.job, &self.opts.current) {
            for (r, f) in cur.set.roles.iter().filter(|(r, _)| *r != "snapshot" && *r != "timestamp") {
                set.roles.insert(r.clone(), MetadataFile::new(f.file.clone(), f.bytes.clone(), f.md.clone()));
            }
        }
        if let Some((prev, _)) = &self.plan.previous_root {
            let bytes = prev.to_pretty_bytes();
            trusted = Some(prev.version());
            set.roots.insert(prev.version(), MetadataFile::new(format!("{}.root.json", prev.version()), bytes, prev.clone()));
        }
        let mut refusals = Vec::new();
        let mut drafts = Vec::new();
        for role in self.draft_roles() {
            let md = self.load_draft(&role)?;
            drafts.push((role.clone(), md.version()));
            let name = file_name(&role, &md);
            let bytes = match crate::tuf::write(&md, self.plan.clients) {
                Ok(b) => b,
                Err(e) => {
                    refusals.push(e.to_string());
                    md.to_pretty_bytes()
                }
            };
            out.push((name.clone(), bytes.clone()));
            let f = MetadataFile::new(name, bytes, md);
            if role == "root" {
                set.roots.insert(f.md.version(), f);
            } else {
                set.roles.insert(role, f);
            }
        }
        let plan = self.plan;
        let window =
            |r: &str| plan.offline_roles().iter().find(|o| o.name == r).map(|o| o.signing_window_days).unwrap_or_else(|| super::plan::default_window(r));
        let report = check_set(&set, trusted, at, false, plan.clients, &window);
        for r in report.roles.iter().filter(|_| show) {
            let sigs = r.check.as_ref().map(|c| format!("{}/{}", c.valid(), c.threshold)).unwrap_or_else(|| "-".into());
            self.ui.show(&format!(
                "  {:<14} v{:<3} {sigs:<5} signatures, expires {} ({} days)\n      checked by {}",
                one_line(&r.role),
                r.version,
                one_line(&r.expires),
                r.days_left,
                one_line(&r.checked_by)
            ));
        }
        let mut errors: Vec<String> =
            report.findings.iter().filter(|f| f.finding.severity == Severity::Error).map(|f| format!("{}: {}", one_line(&f.file), f.finding)).collect();
        // Nothing leaves the machine without a threshold of valid signatures, checked
        // against its delegator: a role nothing delegates to is never checked, so refused.
        for (role, version) in &drafts {
            let r = report.roles.iter().find(|r| &r.role == role && r.version == *version);
            let ok = r.is_some_and(|r| r.check.as_ref().is_some_and(|c| c.met()) && r.by_previous.as_ref().is_none_or(|c| c.met()));
            if !ok {
                let why = match r.and_then(|r| r.check.as_ref()) {
                    Some(c) => format!("{} valid signatures, threshold {}", c.valid(), c.threshold),
                    None => "no delegator's keys checked it (nothing delegates to it)".to_string(),
                };
                errors.push(format!("{} v{version}: not signed by a threshold of its delegator's keys ({why})", one_line(role)));
            }
        }
        let warnings = report.findings.iter().filter(|f| f.finding.severity == Severity::Warning).count();
        for f in report.findings.iter().filter(|f| show && f.finding.severity == Severity::Warning) {
            self.ui.show(&format!("  warning: {}: {}", one_line(&f.file), one_line(&f.finding.to_string())));
        }
        if !errors.is_empty() || !refusals.is_empty() {
            let all: Vec<String> = refusals.into_iter().chain(errors).collect();
            return Err(CeremonyError::Refused(format!("verification failed; nothing was exported:\n  {}", all.join("\n  "))));
        }
        if show {
            self.ui.show(&format!("All roles verify ({warnings} warnings)."));
            self.record("verify", fields! { "errors" => 0, "warnings" => warnings })?;
        }
        Ok(out)
    }

    /// The keyids that sign `role` in the current metadata (update jobs).
    fn current_keyids(&self, role: &str) -> Vec<String> {
        let Job::Update(u) = &self.opts.job else { return Vec::new() };
        let set = &u.current.set;
        let Some(root) = set.roots.values().next_back().and_then(|f| f.md.signed.as_root()) else { return Vec::new() };
        if let Some(rk) = root.roles.get(role) {
            return rk.keyids.clone();
        }
        for f in set.roles.values() {
            if let Some(t) = f.md.signed.as_targets()
                && let Some(r) = t.delegated_roles().iter().find(|r| r.name == role)
            {
                return r.keyids.clone();
            }
        }
        Vec::new()
    }

    /// Builds the next version of each role being updated: version + 1, the plan's new
    /// expiry, claims applied, no signatures. Nothing else in the role changes.
    fn build_update(&mut self) -> Result<()> {
        let Job::Update(u) = self.opts.job.clone() else { return Ok(()) };
        let at = self.ceremony_time()?;
        for role in &u.roles {
            let super::job::Draft { md, lines, screen, current, .. } = super::job::build_next(self.plan, &u, role, at).map_err(CeremonyError::Refused)?;
            let old_version = md.version() - 1;
            if u.json_diff {
                let diff = crate::ops::diff::json_diff(&current.signed, &md.signed);
                self.ui.show(&format!("JSON diff of {role}:\n{}", serde_json::to_string_pretty(&diff).unwrap_or_default()));
                let p = self.work.root.join("CHANGES.json");
                let mut all: serde_json::Map<String, serde_json::Value> = match read_optional(&p)? {
                    None => Default::default(),
                    Some(b) => serde_json::from_slice(&b).map_err(|e| CeremonyError::File { path: p.clone(), what: format!("not a JSON object: {e}") })?,
                };
                all.insert(role.clone(), diff);
                replace_atomic(&p, &serde_json::to_vec_pretty(&all).unwrap_or_default())
                    .map_err(|e| CeremonyError::File { path: p.clone(), what: e.to_string() })?;
            }
            let text = lines.join("\n");
            if let Some((_, batch)) = &u.claims
                && !batch.rotate.is_empty()
                && !self.state.completed.iter().any(|c| c == "build.update")
            {
                let list: Vec<&str> = batch.rotate.iter().map(String::as_str).collect();
                if !self.ui.confirm_word(&format!("This replaces the developer keys of: {}.", list.join(", ")), "ROTATE")? {
                    return Err(CeremonyError::Refused("key rotation not confirmed; nothing was changed".into()));
                }
            }
            for l in &screen {
                self.ui.show(l.trim_end());
            }
            let path = self.work.draft(role);
            if fsx::occupied(&path) {
                let existing = self.load_draft(role)?;
                if existing.signed != md.signed {
                    return Err(draft_differs(&path));
                }
            } else {
                replace_atomic(&path, &md.to_pretty_bytes()).map_err(|e| CeremonyError::File { path: path.clone(), what: e.to_string() })?;
            }
            let changes = self.work.root.join("CHANGES.txt");
            let mut all = match read_optional(&changes)? {
                None => String::new(),
                Some(b) => String::from_utf8(b).map_err(|_| CeremonyError::File { path: changes.clone(), what: "is not UTF-8 text".into() })?,
            };
            if !all.contains(&text) {
                all.push_str(&text);
                all.push('\n');
                replace_atomic(&changes, all.as_bytes()).map_err(|e| CeremonyError::File { path: changes.clone(), what: e.to_string() })?;
            }
            let canonical = md.signed_bytes();
            self.record("build", fields! { "role" => role.clone(), "version" => old_version + 1, "expires" => md.signed.header().expires.as_str(), "canonical_sha256" => sha256_hex(&canonical), "changes" => text })?;
        }
        let changes = fsx::read_in(&self.work.root.join("CHANGES.txt"), Kind::Evidence).map(|b| sha256_hex(&b)).unwrap_or_default();
        self.ui.show(&format!("Every change is listed in CHANGES.txt (exported with the metadata), sha256\n  {changes}"));
        self.ui.wait(say::CHANGES)?;
        Ok(())
    }
}

/// A working directory file the tool writes itself: its bytes, or `None` if it is not there yet.
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    if !fsx::occupied(path) {
        return Ok(None);
    }
    fsx::read_in(path, Kind::Evidence).map(Some).map_err(|e| CeremonyError::File { path: path.to_path_buf(), what: e.to_string() })
}

/// Hex digest → PGP words in short groups, each line starting with `indent`.
pub fn pgp(hex: &str, indent: &str) -> String {
    pgpwords::grouped_of_hex(hex, indent)
}
