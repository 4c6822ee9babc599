//! Persisted ceremony state: which steps are done, the confirmed ceremony time, and the
//! public keys found on each token. Written atomically after every change, so after a
//! crash or power loss `run` resumes at the first incomplete step. Metadata drafts (with
//! every signature made so far) live beside it in `metadata/`, also written atomically
//! after every signature, so no signature is ever lost.

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
        if !p.exists() {
            for d in [self.root.clone(), self.metadata_dir()] {
                std::fs::create_dir_all(&d).map_err(|e| StateError::Io { path: d.clone(), what: e.to_string() })?;
            }
            return Ok(State { plan_sha256: plan_sha256.to_string(), ..Default::default() });
        }
        let s = self.load()?;
        if s.plan_sha256 != plan_sha256 {
            return Err(StateError::OtherPlan { path: p, found: s.plan_sha256, expected: plan_sha256.into() });
        }
        Ok(s)
    }

    pub fn load(&self) -> Result<State, StateError> {
        let p = self.state_path();
        let bytes = std::fs::read(&p).map_err(|e| StateError::Io { path: p.clone(), what: e.to_string() })?;
        serde_json::from_slice(&bytes).map_err(|e| StateError::Corrupt { path: p, what: e.to_string() })
    }

    /// Replaces the state file atomically (temp file, fsync, rename, fsync directory).
    pub fn save(&self, s: &State) -> Result<(), StateError> {
        let bytes = serde_json::to_vec_pretty(s).map_err(|e| StateError::Corrupt { path: self.state_path(), what: e.to_string() })?;
        replace_atomic(&self.state_path(), &bytes).map_err(|e| StateError::Io { path: self.state_path(), what: e.to_string() })
    }
}

/// Replaces `path` with `bytes` atomically: a reader sees the old or the new file, whole.
pub fn replace_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp-{}", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(), std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}
