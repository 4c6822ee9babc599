//! Persisted ceremony state: which steps are done, the confirmed ceremony time, and the
//! public keys found on each token. Written atomically after every change, so after a
//! crash or power loss `run` resumes at the first incomplete step. Metadata drafts (with
//! every signature made so far) live beside it in `metadata/`, also written atomically
//! after every signature, so no signature is ever lost.

use crate::util::fsx::{self, Kind, replace_atomic};
use crate::util::text::one_line;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KeyRecord {
    /// The TUF key object (pretty JSON) as it will appear in metadata.
    pub key_json: String,
    pub keyid: String,
    pub serial: Option<String>,
    pub token: String,
    /// SubjectPublicKeyInfo PEM (for the media).
    pub pem: String,
    /// Attestation certificate files: name → PEM.
    #[serde(default)]
    pub attestation: BTreeMap<String, String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub plan_sha256: String,
    /// The clock time the operator confirmed; every expiry date is computed from it, so a
    /// resumed ceremony builds exactly the same metadata.
    pub ceremony_time: Option<String>,
    pub binary_sha256: Option<String>,
    pub completed: Vec<String>,
    pub keys: BTreeMap<String, KeyRecord>,
    /// Media folders an export completed to.
    #[serde(default)]
    pub exported: Vec<String>,
}

/// The working directory of one ceremony.
#[derive(Clone, Debug)]
pub struct Workdir {
    pub root: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{}: {what}", path.display())]
    Io { path: PathBuf, what: String },
    #[error("{}: {what}", path.display())]
    Corrupt { path: PathBuf, what: String },
    #[error(
        "{} belongs to another run (its fingerprint is {found}, this one's {expected}): the plan, the job or the --current files differ; run the same command as when it began, or use another --workdir",
        path.display()
    )]
    OtherPlan { path: PathBuf, found: String, expected: String },
    #[error(
        "{}: {field} disagrees with the transcript: {what}. The working directory was changed outside the tool; nothing was done. Restore it, or begin again in another --workdir",
        path.display()
    )]
    Disagrees { path: PathBuf, field: String, what: String },
}

impl Workdir {
    pub fn new(root: &Path) -> Self {
        Workdir { root: root.to_path_buf() }
    }
    pub fn state_path(&self) -> PathBuf {
        self.root.join("state.json")
    }
    pub fn transcript_path(&self) -> PathBuf {
        self.root.join("transcript.jsonl")
    }
    pub fn metadata_dir(&self) -> PathBuf {
        self.root.join("metadata")
    }
    pub fn draft(&self, role: &str) -> PathBuf {
        self.metadata_dir().join(format!("{role}.json"))
    }

    /// Loads the state, or starts a new one for `plan_sha256`.
    pub fn load_or_init(&self, plan_sha256: &str) -> Result<State, StateError> {
        let p = self.state_path();
        if !fsx::occupied(&p) {
            let io = |d: &Path, e: std::io::Error| StateError::Io { path: d.to_path_buf(), what: e.to_string() };
            fsx::ensure_named_dir(&self.root).map_err(|e| io(&self.root, e))?;
            fsx::ensure_dir(&self.metadata_dir()).map_err(|e| io(&self.metadata_dir(), e))?;
            return Ok(State { plan_sha256: plan_sha256.to_string(), ..Default::default() });
        }
        // Drafts are written in metadata/: a link placed there is refused, never followed.
        fsx::ensure_dir(&self.metadata_dir()).map_err(|e| StateError::Io { path: self.metadata_dir(), what: e.to_string() })?;
        self.load_existing(plan_sha256)?.ok_or_else(|| StateError::Io { path: p, what: "was removed while it was read".into() })
    }

    /// Loads the state of the run `plan_sha256` without creating or changing anything
    /// (`--status`, `--dry-run`): `None` when no run began here, `OtherPlan` when another did.
    pub fn load_existing(&self, plan_sha256: &str) -> Result<Option<State>, StateError> {
        let p = self.state_path();
        if !fsx::occupied(&p) {
            return Ok(None);
        }
        let s = self.load()?;
        if s.plan_sha256 != plan_sha256 {
            return Err(StateError::OtherPlan { path: p, found: s.plan_sha256, expected: plan_sha256.into() });
        }
        Ok(Some(s))
    }

    pub fn load(&self) -> Result<State, StateError> {
        let p = self.state_path();
        let bytes = fsx::read_in(&p, Kind::State).map_err(|e| StateError::Io { path: p.clone(), what: e.to_string() })?;
        serde_json::from_slice(&bytes).map_err(|e| StateError::Corrupt { path: p, what: e.to_string() })
    }

    /// Replaces the state file atomically (temp file, fsync, rename, fsync directory).
    pub fn save(&self, s: &State) -> Result<(), StateError> {
        let bytes = serde_json::to_vec_pretty(s).map_err(|e| StateError::Corrupt { path: self.state_path(), what: e.to_string() })?;
        replace_atomic(&self.state_path(), &bytes).map_err(|e| StateError::Io { path: self.state_path(), what: e.to_string() })
    }
}

/// One entry of the transcript, as `transcript::verify` returns it.
type Line = serde_json::Map<String, serde_json::Value>;

fn field<'a>(l: &'a Line, k: &str) -> Option<&'a str> {
    l.get(k).and_then(|v| v.as_str())
}

/// The last entry of `kind` (with `key` = `value`, when given).
fn last<'a>(lines: &'a [Line], kind: &str, filter: Option<(&str, &str)>) -> Option<&'a Line> {
    lines.iter().rev().find(|l| field(l, "kind") == Some(kind) && filter.is_none_or(|(k, v)| field(l, k) == Some(v)))
}

/// sha256 over a keyholder's attestation files (name and content), as the transcript records it.
pub fn attestation_digest(files: &BTreeMap<String, String>) -> String {
    let text: String = files.iter().map(|(n, pem)| format!("{n}\n{}\n{pem}\n", crate::tuf::keys::sha256_hex(pem.as_bytes()))).collect();
    crate::tuf::keys::sha256_hex(text.as_bytes())
}

impl State {
    /// Checks everything in the state that decides output against the hash-chained
    /// transcript: the job fingerprint, the confirmed clock, the program's hash, each
    /// recorded key, every completed step and every export. The state is saved after the
    /// transcript entry it stands for, so the transcript may know more than the state (a
    /// crash in between), never less or otherwise. `path` is the state file, for the error.
    pub fn check_against(&self, lines: &[Line], path: &Path) -> Result<(), StateError> {
        let bad = |field: &str, what: String| StateError::Disagrees { path: path.to_path_buf(), field: field.to_string(), what };
        let start = lines.iter().find(|l| field(l, "kind") == Some("ceremony.start"));
        match start.and_then(|l| field(l, "job_fingerprint")) {
            Some(f) if f == self.plan_sha256 => {}
            Some(f) => return Err(bad("plan_sha256", format!("{} is not the transcript's job fingerprint {f}", one_line(&self.plan_sha256)))),
            None => return Err(bad("plan_sha256", "the transcript has no ceremony.start entry".into())),
        }
        if let Some(t) = &self.ceremony_time {
            match last(lines, "clock.confirmed", None).and_then(|l| field(l, "clock")) {
                Some(c) if c == t => {}
                Some(c) => return Err(bad("ceremony_time", format!("{} is not the clock the transcript records as confirmed ({c})", one_line(t)))),
                None => return Err(bad("ceremony_time", "the transcript records no confirmed clock".into())),
            }
        }
        if let Some(h) = &self.binary_sha256 {
            match last(lines, "preflight.binary", None).and_then(|l| field(l, "sha256")) {
                Some(r) if r == h => {}
                _ => return Err(bad("binary_sha256", format!("{} is not the program hash the transcript records", one_line(h)))),
            }
        }
        for step in &self.completed {
            if last(lines, "step.done", Some(("step", step))).is_none() {
                return Err(bad("completed", format!("step {} is marked done, but the transcript does not record it", one_line(step))));
            }
            // What a done step leaves in the state must still be there.
            let missing = match step.as_str() {
                "preflight.clock" if self.ceremony_time.is_none() => Some("ceremony_time".to_string()),
                "preflight.binary" if self.binary_sha256.is_none() => Some("binary_sha256".to_string()),
                s => s.strip_prefix("keys.keyholder:").filter(|h| !self.keys.contains_key(*h)).map(|h| format!("keys.{}", one_line(h))),
            };
            if let Some(field) = missing {
                return Err(bad(&field, format!("is missing, but step {} is done and the transcript records what it set", one_line(step))));
            }
        }
        for (holder, rec) in &self.keys {
            let f = format!("keys.{}", one_line(holder));
            let Some(l) = last(lines, "key", Some(("keyholder", holder))) else {
                return Err(bad(&f, "the transcript records no key for this keyholder".into()));
            };
            let same = field(l, "keyid") == Some(&rec.keyid)
                && field(l, "public_key") == Some(&rec.pem)
                && field(l, "serial") == Some(rec.serial.as_deref().unwrap_or(""))
                && field(l, "token") == Some(&rec.token)
                && field(l, "attestation_sha256").is_none_or(|a| a == attestation_digest(&rec.attestation));
            if !same {
                return Err(bad(&f, "the key, serial, token or attestation differs from the one the transcript records".into()));
            }
            rec.consistent().map_err(|what| bad(&f, what))?;
        }
        for e in &self.exported {
            let (dir, head) = e.split_once('|').unwrap_or((e, ""));
            let found =
                lines.iter().any(|l| field(l, "kind") == Some("export.done") && field(l, "media") == Some(dir) && field(l, "transcript_head") == Some(head));
            if !found {
                return Err(bad("exported", format!("{} is not an export the transcript records", one_line(e))));
            }
        }
        Ok(())
    }
}

impl KeyRecord {
    /// The key JSON, its keyid and its PEM are the same key.
    pub fn consistent(&self) -> Result<(), String> {
        let mut r = crate::tuf::json::Reader::new(self.key_json.as_bytes()).map_err(|e| format!("key_json: {e}"))?;
        let key = crate::tuf::metadata::read_key(&mut r).map_err(|e| format!("key_json: {e}"))?;
        if crate::tuf::keys::keyid(&key) != self.keyid {
            return Err("key_json is not the key of the recorded keyid".into());
        }
        let pk = crate::tuf::keys::PublicKey::from_key(&key, false).map_err(|e| format!("key_json: {e}"))?;
        if pk.to_pem().trim() != self.pem.trim() {
            return Err("pem is not the key in key_json".into());
        }
        Ok(())
    }
}
