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

/// Step ids and whether each is done, for `run --status`.
pub fn status(plan: &Plan, workdir: &Path, job: &Job, current: Option<&CurrentFiles>) -> Result<Vec<(String, String, bool)>> {
    let work = Workdir::new(workdir);
    let state = if fsx::occupied(&work.state_path()) { work.load_or_init(&fingerprint(plan, job, current))? } else { State::default() };
    Ok(steps_for(plan, job, None).into_iter().map(|s| (s.id(), s.title(), state.completed.contains(&s.id()))).collect())
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

/// This program's sha256: what the transcript records at every start and resume.
pub fn program_sha256() -> Result<String> {
    let exe = std::env::current_exe().map_err(|e| CeremonyError::File { path: "<current exe>".into(), what: e.to_string() })?;
    let bytes = fsx::read(&exe, Kind::Program).map_err(|e| CeremonyError::File { path: exe.clone(), what: e.to_string() })?;
    Ok(sha256_hex(&bytes))
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
            Err(StateError::OtherPlan { path, found, expected }) => {
                // The transcript says this job began here: the state file was edited.
                let began = fsx::read_in(&work.transcript_path(), Kind::Transcript)
                    .ok()
                    .and_then(|b| super::transcript::verify(&b).ok())
                    .and_then(|v| v.lines.iter().find(|l| l.get("kind").and_then(|k| k.as_str()) == Some("ceremony.start")).cloned())
                    .and_then(|l| l.get("job_fingerprint").and_then(|f| f.as_str()).map(String::from));
                if began.as_deref() == Some(expected.as_str()) {
                    return Err(StateError::Disagrees {
                        path,
                        field: "plan_sha256".into(),
                        what: format!("{} is not the transcript's job fingerprint {expected}", one_line(&found)),
                    }
                    .into());
                }
                return Err(match (super::freeze::changed_since(&work.root, plan), &opts.job) {
                    (Some(why), _) => CeremonyError::Refused(why),
                    (None, Job::Update(u)) => {
                        let other = work.load().unwrap_or_default();
                        CeremonyError::Stale(super::stale::explain(&work, &other, &opts.job, &u.current.decisive_digests()))
                    }
                    (None, Job::Ceremony) => StateError::OtherPlan { path, found, expected }.into(),
                });
            }
            r => r?,
        };
        if !fresh && !fsx::occupied(&work.transcript_path()) {
            return Err(CeremonyError::Refused(format!(
                "{} is missing, but {} says the ceremony has begun: restore the transcript (a new one would not record what was done)",
                work.transcript_path().display(),
                work.state_path().display()
            )));
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
                "tool" => concat!("tuf-ceremony ", env!("CARGO_PKG_VERSION")),
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
            Job::Update(u) => format!("{}-{}", self.plan.id, u.label),
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

    fn preflight_network(&mut self) -> Result<()> {
        let up = interfaces_up();
        if up.is_empty() {
            self.ui.show("No network interface other than loopback is up.");
            return self.record("preflight.network", fields! { "interfaces_up" => Vec::<String>::new() });
        }
        let list = up.join(", ");
        if self.opts.allow_network || self.opts.rehearsal {
            let why = if self.opts.allow_network { "--allow-network" } else { "rehearsal" };
            self.ui.show(&format!("WARNING: network interfaces are up ({list}); continuing because of {why}. This is recorded."));
            return self.record("preflight.network", fields! { "interfaces_up" => up, "override" => why });
        }
        Err(CeremonyError::Refused(format!(
            "network interfaces are up ({list}). An offline ceremony must run air-gapped: disconnect or disable them (e.g. `ip link set {} down`), or pass --allow-network to override (recorded in the transcript).",
            up[0]
        )))
    }

    fn preflight_clock(&mut self) -> Result<()> {
        let now = Utc::now();
        self.ui.show(&format!(
            "The machine clock reads {} UTC.\n{}\nEvery expiry date depends on it, and boards without a real-time clock start in 1970.",
            now.format("%Y-%m-%d %H:%M:%S"),
            say::CLOCK
        ));
        if !self.ui.confirm("Does the clock match the outside reference to within a few minutes?")? {
            return Err(CeremonyError::Refused(
                "the clock is wrong: set it (`date -u -s 'YYYY-MM-DD HH:MM:SS'`) and run again; the ceremony resumes at this step".into(),
            ));
        }
        self.state.ceremony_time = Some(now_str(now));
        self.record("clock.confirmed", fields! { "clock" => now_str(now) })
    }

    fn preflight_binary(&mut self) -> Result<()> {
        let h = self.program.clone();
        let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
        self.ui.show(&format!("This program is {}\n  sha256 {h}\n{}\n{}", one_line(&exe), pgp(&h, "  "), say::BINARY));
        self.state.binary_sha256 = Some(h.clone());
        self.record("preflight.binary", fields! { "sha256" => h })
    }

    fn preflight_media(&mut self) -> Result<()> {
        let needed = 16 * 1024 * 1024;
        let free = media::check_media(&self.opts.media, needed)?;
        self.ui.show(&format!("Media at {} is writable with {} MiB free.", self.opts.media.display(), free / (1024 * 1024)));
        let dir = self.opts.media.display().to_string();
        self.record("preflight.media", fields! { "media" => dir, "free_bytes" => free })
    }

    fn keys(&mut self, holder_name: &str) -> Result<()> {
        let plan = self.plan;
        let holder = plan.keyholder(holder_name).ok_or_else(|| CeremonyError::Refused(format!("no keyholder {holder_name}")))?;
        let serial_note = holder.serial.as_ref().map(|s| format!(" (the bag should say serial {s})")).unwrap_or_default();
        self.ui.wait(&format!("Keyholder {holder_name} ({} token{serial_note}): {}", holder.token.as_str(), say::INSERT_NEW))?;
        // Intent first: what the token held before anything was done to it, so a crash
        // between generating a key and recording it is not taken for "found existing".
        let before = match self.tokens.peek(holder, self.ui) {
            Ok(Peek::Key(tk)) => format!("key {}", keyid(&tk.public.to_key())),
            Ok(Peek::Empty(_)) => "empty".to_string(),
            Ok(Peek::Unknown(_)) | Err(_) => "unknown".to_string(),
        };
        let interrupted = self.interrupted_generation(holder_name);
        self.record("key.intent", fields! { "keyholder" => holder_name, "token_before" => before })?;
        let mut tk = self.tokens.provision(holder, self.ui)?;
        let key = tk.public.to_key();
        let id = keyid(&key);
        let how = match (&interrupted, tk.generated) {
            (_, true) => "generated".to_string(),
            (Some(at), false) => {
                // The token was empty when an earlier attempt began and holds a key now.
                tk.generated = true;
                format!("generated in the attempt interrupted at {}", one_line(at))
            }
            (None, false) => "found existing".to_string(),
        };
        self.ui.show(&format!(
            "{}: {how} key {}\n  keyid  {id}\n  serial {}",
            holder_name,
            tk.public.algorithm().name(),
            one_line(tk.serial.as_deref().unwrap_or("(none)"))
        ));
        if let Some(s) = &tk.serial
            && !self.ui.confirm(&format!("{}: does {} match the serial written on {holder_name}'s bag?", say::SERIAL, one_line(s)))?
        {
            return Err(CeremonyError::Refused(format!("serial {} does not match {holder_name}'s bag: stop and investigate before going on", one_line(s))));
        }
        self.record_key(holder_name, &tk, &key, &id)?;
        self.ui.wait(&format!("{holder_name}: {}", say::REMOVE))?;
        Ok(())
    }

    /// When an earlier attempt at `holder`'s keys step found the token empty and never
    /// recorded a key: the time it began.
    fn interrupted_generation(&self, holder: &str) -> Option<String> {
        let mut began = None;
        for l in self.transcript.opened() {
            let kind = l.get("kind").and_then(|k| k.as_str());
            if l.get("keyholder").and_then(|k| k.as_str()) != Some(holder) {
                continue;
            }
            match kind {
                Some("key.intent") if l.get("token_before").and_then(|t| t.as_str()) == Some("empty") => {
                    began = began.or_else(|| l.get("time").and_then(|t| t.as_str()).map(String::from))
                }
                Some("key") => began = None,
                _ => {}
            }
        }
        began
    }

    fn record_key(&mut self, holder: &str, tk: &TokenKey, key: &Key, id: &str) -> Result<()> {
        // One key, one device per keyholder: the same key for two would silently make a
        // 2-of-3 role 2-of-2 (the metadata lists a key once); a previous keyholder's token
        // still plugged in is the likely cause.
        for (other, rec) in self.state.keys.iter().filter(|(h, _)| h.as_str() != holder) {
            if rec.keyid == id {
                return Err(CeremonyError::Refused(format!(
                    "{holder}'s token holds the key already recorded for {other} (keyid {}…): take out {other}'s token, insert {holder}'s, and run the same command again",
                    crate::util::text::prefix(id, 16)
                )));
            }
            if let (Some(a), Some(b)) = (&rec.serial, &tk.serial)
                && a == b
            {
                return Err(CeremonyError::Refused(format!(
                    "{holder}'s token has serial {b}, already recorded for {other}: take out {other}'s token, insert {holder}'s, and run the same command again"
                )));
            }
        }
        let rec = KeyRecord {
            key_json: String::from_utf8_lossy(&pretty(key)).into_owned(),
            keyid: id.to_string(),
            serial: tk.serial.clone(),
            token: tk.description.clone(),
            pem: tk.public.to_pem(),
            attestation: tk.attestation.iter().map(|(n, b)| (n.clone(), String::from_utf8_lossy(b).into_owned())).collect(),
        };
        self.record(
            "key",
            fields! {
                "keyholder" => holder,
                "keyid" => id,
                "algorithm" => tk.public.algorithm().name(),
                "public_key" => rec.pem.clone(),
                "serial" => tk.serial.clone().unwrap_or_default(),
                "token" => tk.description.clone(),
                "generated" => tk.generated,
                "attestation_sha256" => super::state::attestation_digest(&rec.attestation),
            },
        )?;
        self.state.keys.insert(holder.to_string(), rec);
        self.work.save(&self.state)?;
        Ok(())
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

    /// The roles `holder` signs in this run: by the plan's keys for a ceremony, by the
    /// roles the plan names them for (and the current metadata lists their key) for an update.
    fn roles_to_sign(&self, holder: &str, keyid: Option<&str>) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for role in self.draft_roles() {
            let may_sign = match &self.opts.job {
                Job::Ceremony => signers_of(self.plan, &role, &self.keys_map()?).iter().any(|h| h == holder),
                Job::Update(_) => {
                    let named = self.plan.offline_roles().iter().any(|r| r.name == role && r.keyholders.iter().any(|k| k == holder));
                    named && keyid.is_none_or(|id| self.current_keyids(&role).iter().any(|k| k == id))
                }
            };
            if !may_sign {
                continue;
            }
            let done = keyid.is_some_and(|id| self.load_draft(&role).is_ok_and(|md| md.signatures.iter().any(|s| s.keyid == id && !s.sig.is_empty())));
            if !done {
                out.push(role);
            }
        }
        Ok(out)
    }

    /// Which key the inserted token holds, read before any PIN or passphrase is asked:
    /// the key recorded for `holder`, or in an update (which records keys as they sign)
    /// a key the current metadata lists for the roles `holder` signs. A token without the
    /// expected key is refused here, with nothing asked and nothing changed on it.
    fn identify(&mut self, holder: &super::plan::Keyholder, todo: &[String]) -> Result<super::state::KeyRecord> {
        let name = holder.name.as_str();
        let seen = self.tokens.peek(holder, self.ui)?;
        let wrong = |what: String| CeremonyError::Refused(format!("{what}: wrong token? Nothing was asked and nothing on the token was changed."));
        if let Some(rec) = self.state.keys.get(name).cloned() {
            return match seen {
                Peek::Key(tk) if keyid(&tk.public.to_key()) != rec.keyid => Err(wrong(format!(
                    "{name}'s token holds key {}…, not the key {}… recorded for {name}",
                    crate::util::text::prefix(&keyid(&tk.public.to_key()), 16),
                    crate::util::text::prefix(&rec.keyid, 16)
                ))),
                Peek::Empty(at) => Err(wrong(format!(
                    "{name}'s token holds no key ({}); {name}'s key {}… was recorded",
                    one_line(&at),
                    crate::util::text::prefix(&rec.keyid, 16)
                ))),
                _ => Ok(rec),
            };
        }
        let tk = match seen {
            Peek::Key(tk) => tk,
            Peek::Empty(at) => return Err(wrong(format!("{name}'s token holds no key ({}), and an update never generates one", one_line(&at)))),
            Peek::Unknown(why) => {
                return Err(CeremonyError::Refused(format!(
                    "{name}'s token does not show its public key without a PIN ({}); an update opens a token only for a key it has identified first. Nothing was asked.",
                    one_line(&why)
                )));
            }
        };
        let key = tk.public.to_key();
        let id = keyid(&key);
        if !todo.iter().any(|r| self.current_keyids(r).contains(&id)) {
            return Err(wrong(format!(
                "{name}'s token holds key {}…, which is not a key of {} in the current metadata",
                crate::util::text::prefix(&id, 16),
                todo.join(" or ")
            )));
        }
        self.ui.show(&format!("{name}'s token: {}\n  keyid {id}, a key of {}", one_line(&tk.description), todo.join(", ")));
        self.record_key(name, &tk, &key, &id)?;
        Ok(self.state.keys[name].clone())
    }

    fn sign(&mut self, holder_name: &str) -> Result<()> {
        let holder = self.plan.keyholder(holder_name).ok_or_else(|| CeremonyError::Refused(format!("no keyholder {holder_name}")))?.clone();
        let known = self.state.keys.get(holder_name).map(|r| r.keyid.clone());
        if matches!(self.opts.job, Job::Ceremony) && known.is_none() {
            return Err(CeremonyError::Refused(format!("no key recorded for {holder_name}")));
        }
        let todo = self.roles_to_sign(holder_name, known.as_deref())?;
        if todo.is_empty() {
            self.ui.show(&format!("{holder_name} has nothing (left) to sign."));
            return Ok(());
        }
        self.ui.wait(&format!("Keyholder {holder_name}: {} ({}). You will sign: {}.", say::INSERT, holder.token.as_str(), todo.join(", ")))?;
        let rec = self.identify(&holder, &todo)?;
        let todo = if known.is_none() { self.roles_to_sign(holder_name, Some(&rec.keyid))? } else { todo };
        let key = self.keys_map()?[holder_name].clone();
        let public = PublicKey::from_key(&key, false).map_err(|e| CeremonyError::Refused(e.to_string()))?;
        let expected =
            TokenKey { public: public.clone(), serial: rec.serial.clone(), description: rec.token.clone(), attestation: Vec::new(), generated: false };
        let built = self.built_hashes()?;
        let mut signer = self.tokens.open(&holder, &expected, self.ui)?;
        for role in &todo {
            let mut md = self.load_draft(role)?;
            let payload = md.signed_bytes();
            let hash = sha256_hex(&payload);
            // Only what the build step made, verified and recorded is signed: a draft
            // changed in the working directory since then is refused, not signed.
            if built.get(role.as_str()) != Some(&hash) {
                return Err(CeremonyError::Refused(format!(
                    "{}: its canonical sha256 is {hash}, but the transcript records {} for the build of {role}: the draft changed after it was built; nothing was signed",
                    self.work.draft(role).display(),
                    built.get(role.as_str()).map(String::as_str).unwrap_or("no build")
                )));
            }
            self.ui.show(&format!("Signing {role} (canonical sha256 {})…", &hash[..16]));
            let outcome = sign_payload(&mut md, &payload, signer.as_mut()).map_err(TokenError::from)?;
            if outcome == SignOutcome::Added {
                let path = self.work.draft(role);
                replace_atomic(&path, &md.to_pretty_bytes()).map_err(|e| CeremonyError::File { path, what: e.to_string() })?;
            }
            let sig = md.signatures.iter().find(|s| s.keyid == rec.keyid).map(|s| s.sig.clone()).unwrap_or_default();
            self.ui
                .show(&format!("  ✓ {role} signed by {holder_name} (keyid {}…), verified against the recorded key", crate::util::text::prefix(&rec.keyid, 16)));
            self.record(
                "signature",
                fields! {
                    "keyholder" => holder_name,
                    "role" => role.clone(),
                    "keyid" => rec.keyid.clone(),
                    "canonical_sha256" => sha256_hex(&payload),
                    "sig" => sig,
                },
            )?;
            if self.opts.crash_after.as_deref() == Some(format!("signature:{holder_name}:{role}").as_str()) {
                std::process::abort();
            }
        }
        // Close the token before asking the keyholder to pull it out.
        drop(signer);
        self.ui.wait(&format!("{holder_name}: {}", say::REMOVE))?;
        Ok(())
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

    fn export(&mut self) -> Result<()> {
        let files = self.verify(false)?;
        let mut items: Vec<Item> = files.into_iter().map(|(name, bytes)| Item { rel: format!("metadata/{name}"), bytes }).collect();
        for (holder, rec) in &self.state.keys {
            items.push(Item { rel: format!("keys/{holder}/{holder}.key.json"), bytes: rec.key_json.as_bytes().to_vec() });
            items.push(Item { rel: format!("keys/{holder}/{holder}.pub.pem"), bytes: rec.pem.as_bytes().to_vec() });
            for (name, pem) in &rec.attestation {
                items.push(Item { rel: format!("keys/{holder}/{name}"), bytes: pem.as_bytes().to_vec() });
            }
        }
        let media_id = self.media_id();
        if self.recover_export(&media_id)? {
            return Ok(());
        }
        for name in ["CHANGES.txt", "CHANGES.json"] {
            let changes = self.work.root.join(name);
            if fsx::occupied(&changes) {
                let bytes = fsx::read_in(&changes, Kind::Evidence).map_err(|e| CeremonyError::File { path: changes.clone(), what: e.to_string() })?;
                items.push(Item { rel: name.into(), bytes });
            }
        }
        media::check_media(&self.opts.media, items.iter().map(|i| i.bytes.len() as u64 * 2 + 65536).sum())?;
        let stage = media::begin_export(&self.opts.media, &media_id)?;
        let attempt = self.export_into(&stage, items);
        let placed = attempt.and_then(|(written, head, sums)| {
            let fin = media::finish_export(&self.opts.media, &media_id, &stage)?;
            if self.opts.crash_after.as_deref() == Some("export.renamed") {
                // Test hook: a power loss right after the rename, before it is recorded.
                std::process::abort();
            }
            let checked = media::check_in_place(&fin, &written).and_then(|()| media::check_in_place(&fin, std::slice::from_ref(&sums)));
            if let Err(e) = checked {
                media::set_aside(&self.opts.media, &media_id);
                return Err(e.into());
            }
            Ok((written, head, sums))
        });
        let (written, head, sums) = match placed {
            Ok(r) => r,
            Err(e) => {
                media::abandon_export(&stage);
                let _ = self.record("export.failed", fields! { "media" => self.opts.media.display().to_string(), "error" => e.to_string() });
                return Err(e);
            }
        };
        let dir = self.opts.media.join(&media_id);
        self.record("export.done", fields! { "media" => dir.display().to_string(), "transcript_head" => head.clone() })?;
        self.ui.show(&format!("Exported {} files to {}\n  SHA256SUMS sha256 {}", written.len() + 1, dir.display(), sums.sha256));
        self.state.exported.push(format!("{}|{head}", dir.display()));
        Ok(())
    }

    /// An export that was renamed into place but not recorded (a crash right after the
    /// rename): the folder of this name on this stick is this run's own only when its
    /// transcript is the start of this run's transcript, every file that transcript records
    /// as exported has the recorded sha256, and SUMMARY.txt and SHA256SUMS are exactly what
    /// this run makes from them. Then it is recorded as done and kept; anything else there
    /// is refused by `begin_export` as before.
    fn recover_export(&mut self, media_id: &str) -> Result<bool> {
        let fin = self.opts.media.join(media_id);
        if !fsx::occupied(&fin) {
            return Ok(false);
        }
        let Ok(theirs) = fsx::read_in(&fin.join("transcript.jsonl"), Kind::Transcript) else { return Ok(false) };
        let Ok(v) = super::transcript::verify(&theirs) else { return Ok(false) };
        let path = self.transcript.path().to_path_buf();
        let ours = fsx::read_in(&path, Kind::Transcript).map_err(|e| CeremonyError::File { path, what: e.to_string() })?;
        if !ours.starts_with(&theirs) {
            return Ok(false);
        }
        // The files the exported transcript records, from its last export attempt.
        let mut written: Vec<Exported> = Vec::new();
        for l in &v.lines {
            match l.get("kind").and_then(|k| k.as_str()) {
                Some("export.failed") => written.clear(),
                Some("export.file") => {
                    let get = |k: &str| l.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
                    let len = l.get("length").and_then(|x| x.as_u64()).unwrap_or(0);
                    written.push(Exported { rel: get("path"), sha256: get("sha256"), len });
                }
                _ => {}
            }
        }
        if written.is_empty() || media::check_in_place(&fin, &written).is_err() {
            return Ok(false);
        }
        written.push(Exported { rel: "transcript.jsonl".into(), sha256: sha256_hex(&theirs), len: theirs.len() as u64 });
        let summary = self.summary(&written, &v.head, &v.lines)?;
        if fsx::read_in(&fin.join("SUMMARY.txt"), Kind::Evidence).ok().as_deref() != Some(summary.as_bytes()) {
            return Ok(false);
        }
        written.push(Exported { rel: "SUMMARY.txt".into(), sha256: sha256_hex(summary.as_bytes()), len: summary.len() as u64 });
        if fsx::read_in(&fin.join("SHA256SUMS"), Kind::Evidence).ok() != Some(media::sha256sums(&written)) {
            return Ok(false);
        }
        let head = v.head;
        let dir = fin.display().to_string();
        self.ui.show(&format!("{dir} is this run's own export, interrupted after it was written; it verifies, and is kept."));
        self.record("export.recovered", fields! { "media" => dir.clone(), "transcript_head" => head.clone() })?;
        self.record("export.done", fields! { "media" => dir.clone(), "transcript_head" => head.clone() })?;
        self.state.exported.push(format!("{dir}|{head}"));
        Ok(true)
    }

    /// Writes the export into the staging folder: metadata and keys, then the transcript
    /// (which records them), SUMMARY.txt and SHA256SUMS. Returns the files and the
    /// transcript head as exported, and SHA256SUMS itself.
    fn export_into(&mut self, stage: &Path, items: Vec<Item>) -> Result<(Vec<Exported>, String, Exported)> {
        let mut written = media::write_into(stage, &items)?;
        for f in &written {
            self.record("export.file", fields! { "path" => f.rel.clone(), "sha256" => f.sha256.clone(), "length" => f.len })?;
        }
        let transcript = fsx::read_in(self.transcript.path(), Kind::Transcript)
            .map_err(|e| CeremonyError::File { path: self.transcript.path().to_path_buf(), what: e.to_string() })?;
        let head = self.transcript.head().to_string();
        let lines = super::transcript::verify(&transcript)?.lines;
        written.extend(media::write_into(stage, &[Item { rel: "transcript.jsonl".into(), bytes: transcript }])?);
        let summary = self.summary(&written, &head, &lines)?;
        written.extend(media::write_into(stage, &[Item { rel: "SUMMARY.txt".into(), bytes: summary.into_bytes() }])?);
        let sums = media::sha256sums(&written);
        let sums = media::write_into(stage, &[Item { rel: "SHA256SUMS".into(), bytes: sums }])?.remove(0);
        Ok((written, head, sums))
    }

    /// SUMMARY.txt, from the exported files and the exported transcript's entries.
    fn summary(&self, files: &[Exported], head: &str, lines: &[serde_json::Map<String, serde_json::Value>]) -> Result<String> {
        use std::fmt::Write;
        let plan = self.plan;
        let mut s = String::new();
        let _ =
            writeln!(s, "TUF key ceremony {}{}", self.media_id(), if plan.description.is_empty() { String::new() } else { format!(" — {}", plan.description) });
        let _ = writeln!(s, "Ceremony time (confirmed clock, UTC): {}", self.state.ceremony_time.as_deref().unwrap_or("?"));
        let _ = writeln!(s, "Plan digest:    {}", plan.digest);
        let _ = writeln!(s, "{}", pgp(&plan.digest, "  "));
        let _ = writeln!(s, "Plan sha256:    {}\n  (the plan file alone)", plan.sha256);
        for f in &plan.files {
            let _ = writeln!(s, "  {} = {}\n    {}", f.field, one_line(&f.written.display().to_string()), f.sha256);
        }
        let _ = writeln!(s, "Program sha256: {}", self.state.binary_sha256.as_deref().unwrap_or("?"));
        let _ = writeln!(s, "{}", pgp(self.state.binary_sha256.as_deref().unwrap_or(""), "  "));
        let _ = writeln!(s, "\nPrograms that ran this ceremony (every start and resume):");
        for (time, kind, sha, confirmed) in programs(lines) {
            let note = if confirmed.is_empty() { String::new() } else { format!("\n    confirmed by the operator: {}", one_line(&confirmed)) };
            let _ = writeln!(s, "  {} {:<6} {}{note}", one_line(&time), kind, one_line(&sha));
        }
        let absent = self.absent_signers();
        if !absent.is_empty() {
            let _ =
                writeln!(s, "\nAbsent keyholders: {}\n  Their signatures can be added later by signing apart (tuf-ceremony sign-request).", absent.join(", "));
        }
        let _ = writeln!(s, "\nTranscript head (read aloud at the end of the ceremony):\n  {head}\n{}", pgp(head, "  "));
        let _ = writeln!(s, "\nKeyholders and keys:");
        for (holder, rec) in &self.state.keys {
            let _ = writeln!(
                s,
                "  {holder}\n    keyid  {}\n    serial {}\n    token  {}",
                one_line(&rec.keyid),
                one_line(rec.serial.as_deref().unwrap_or("-")),
                one_line(&rec.token)
            );
        }
        let _ = writeln!(s, "\nRoles:");
        let at = self.ceremony_time()?;
        let names: BTreeMap<String, String> = self.state.keys.iter().map(|(h, r)| (r.keyid.clone(), h.clone())).collect();
        for r in plan.offline_roles() {
            if !self.draft_roles().contains(&r.name) {
                continue;
            }
            let _ = writeln!(
                s,
                "  {:<18} threshold {} of {} ({}), expires {}",
                r.name,
                r.threshold,
                r.keyholders.len(),
                r.keyholders.join(", "),
                r.expiry.resolve(at).format("%Y-%m-%dT%H:%M:%SZ")
            );
        }
        let _ = writeln!(s, "  {:<18} online key {}", "snapshot", keyid(&plan.snapshot_key));
        let _ = writeln!(s, "  {:<18} online key {}", "timestamp", keyid(&plan.timestamp_key));
        let _ = writeln!(s, "\nFiles (sha256 and its PGP words):");
        for f in files {
            let _ = writeln!(s, "  {}  ({} bytes)\n    {}", f.rel, f.len, f.sha256);
        }
        let _ = writeln!(s, "\nSignatures by keyid:");
        for role in self.draft_roles() {
            let md = self.load_draft(&role)?;
            let who: Vec<String> = md
                .signatures
                .iter()
                .filter(|x| !x.sig.is_empty())
                .map(|x| names.get(&x.keyid).cloned().unwrap_or_else(|| one_line(crate::util::text::prefix(&x.keyid, 16)).into_owned()))
                .collect();
            let _ = writeln!(s, "  {:<18} {}", one_line(&role), who.join(", "));
        }
        Ok(s)
    }

    /// Keyholders whose key signs a role written here but who did not sign it.
    fn absent_signers(&self) -> Vec<String> {
        let names: BTreeMap<&str, &str> = self.state.keys.iter().map(|(h, r)| (r.keyid.as_str(), h.as_str())).collect();
        let mut signed = std::collections::BTreeSet::new();
        for role in self.draft_roles() {
            if let Ok(md) = self.load_draft(&role) {
                signed.extend(md.signatures.iter().filter(|x| !x.sig.is_empty()).filter_map(|x| names.get(x.keyid.as_str()).map(|h| h.to_string())));
            }
        }
        presence::involved(self.plan, &self.opts.job).into_iter().filter(|k| !signed.contains(k)).collect()
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
            let super::job::Draft { md, lines, screen, current } = super::job::build_next(self.plan, &u, role, at).map_err(CeremonyError::Refused)?;
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
                    return Err(CeremonyError::Refused(format!(
                        "{} differs from what this update builds now; the working directory belongs to another run",
                        path.display()
                    )));
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

    fn finish(&mut self) -> Result<()> {
        let last = self.state.exported.last().cloned().unwrap_or_default();
        let (dir, head) = last.split_once('|').unwrap_or(("?", ""));
        self.ui.show(&format!(
            "The ceremony output is in {}.\nTranscript head, to read aloud and write on the paper record:\n  {head}\n{}",
            one_line(dir),
            pgp(head, "  ")
        ));
        self.ui.wait(say::READOUT)?;
        Ok(())
    }
}

/// Every program that ran a ceremony is recorded; one the plan does not expect, or another
/// than the one that ran this ceremony before, goes on only once the operator confirms.
/// Returns why it was confirmed ("" when nothing differed).
fn confirm_program(plan: &Plan, program: &str, lines: &[serde_json::Map<String, serde_json::Value>], ui: &mut dyn Ui) -> Result<String> {
    let mut why = Vec::new();
    if let Some(want) = &plan.binary_sha256
        && want != program
    {
        why.push(format!("the plan expects program sha256 {want}"));
    }
    let before = lines
        .iter()
        .rev()
        .filter(|l| matches!(l.get("kind").and_then(|k| k.as_str()), Some("ceremony.start" | "ceremony.resume")))
        .find_map(|l| Some((l.get("binary_sha256")?.as_str()?.to_string(), l.get("time").and_then(|t| t.as_str()).unwrap_or("?").to_string())));
    if let Some((h, at)) = before
        && h != program
    {
        why.push(format!("this ceremony last ran with program sha256 {} ({})", one_line(&h), one_line(&at)));
    }
    if why.is_empty() {
        return Ok(String::new());
    }
    ui.show(&format!("WARNING: this program is sha256 {program}\n{}\nbut {}.", pgp(program, "  "), why.join(", and ")));
    if !ui.confirm("Go on with this program (recorded in the transcript)?")? {
        return Err(CeremonyError::Refused("the program was not confirmed; nothing was done. Run the expected release.".into()));
    }
    Ok(why.join("; "))
}

/// Every start and resume in `lines`: (time, "start"/"resume", program sha256, why a
/// differing program was confirmed).
fn programs(lines: &[serde_json::Map<String, serde_json::Value>]) -> Vec<(String, &'static str, String, String)> {
    let s = |l: &serde_json::Map<String, serde_json::Value>, k: &str| l.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    lines
        .iter()
        .filter_map(|l| match l.get("kind").and_then(|k| k.as_str()) {
            Some("ceremony.start") => Some((s(l, "time"), "start", s(l, "binary_sha256"), s(l, "binary_confirmed"))),
            Some("ceremony.resume") => Some((s(l, "time"), "resume", s(l, "binary_sha256"), s(l, "binary_confirmed"))),
            _ => None,
        })
        .map(|(t, k, h, c)| (t, k, if h.is_empty() { "(not recorded)".to_string() } else { h }, c))
        .collect()
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

fn read_sums(dir: &Path) -> Vec<Exported> {
    let Ok(text) = fsx::read_text_in(&dir.join("SHA256SUMS"), Kind::Evidence) else { return Vec::new() };
    text.lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(h, p)| Exported { rel: p.to_string(), sha256: h.to_string(), len: std::fs::symlink_metadata(dir.join(p)).map(|m| m.len()).unwrap_or(0) })
        .collect()
}

/// Network interfaces other than loopback that are administratively up.
pub fn interfaces_up() -> Vec<String> {
    let Ok(rd) = std::fs::read_dir("/sys/class/net") else { return Vec::new() };
    let mut v: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lo")
        .filter(|n| {
            std::fs::read_to_string(format!("/sys/class/net/{n}/flags"))
                .ok()
                .and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok())
                .is_some_and(|flags| flags & 1 == 1)
        })
        .collect();
    v.sort();
    v
}
