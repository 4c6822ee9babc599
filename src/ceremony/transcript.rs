//! The ceremony transcript: append-only JSON lines, each carrying the sha256 of the line
//! before it, so editing, deleting or reordering any line breaks the chain. It records the
//! plan and binary hashes, the confirmed clock, every step, public key, serial, signature
//! and file written — and never a PIN, PUK, passphrase or management key (entries are built
//! from typed values by the engine; no secret type can be serialised into one).

use crate::tuf::keys::sha256_hex;
use serde_json::{Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TranscriptError {
    #[error("line {line}: {what}")]
    Broken { line: usize, what: String },
    #[error("{0}")]
    Io(String),
}

/// An open transcript file.
pub struct Transcript {
    path: PathBuf,
    head: String,
    seq: u64,
    /// The entries the file held when it was opened (verified then).
    opened: Vec<Map<String, Value>>,
}

impl Transcript {
    /// Opens (verifying the existing chain) or creates the transcript at `path`.
    ///
    /// A last line without its newline is what a crash or power loss in the middle of an
    /// append leaves: it is cut off and a `transcript.repaired` entry records the length and
    /// sha256 of the bytes dropped, so the ceremony can resume and an auditor sees it. Any
    /// other damage is an error.
    pub fn open(path: &Path, time: &str) -> Result<Self, TranscriptError> {
        let io = |e: std::io::Error| TranscriptError::Io(format!("{}: {e}", path.display()));
        if !crate::util::fsx::occupied(path) {
            return Ok(Transcript { path: path.to_path_buf(), head: GENESIS.to_string(), seq: 0, opened: Vec::new() });
        }
        let bytes = crate::util::fsx::read_in(path, crate::util::fsx::Kind::Transcript).map_err(io)?;
        let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let v = verify(&bytes[..whole])?;
        let mut t = Transcript { path: path.to_path_buf(), head: v.head, seq: v.entries, opened: v.lines };
        if whole < bytes.len() {
            let torn = &bytes[whole..];
            let f = crate::util::fsx::open_write_existing(path).map_err(io)?;
            f.set_len(whole as u64).and_then(|()| f.sync_all()).map_err(io)?;
            t.append(
                time,
                "transcript.repaired",
                crate::fields! { "dropped_bytes" => torn.len(), "dropped_sha256" => sha256_hex(torn), "why" => "an incomplete last line (an append cut short by a crash) was cut off" },
            )?;
        }
        Ok(t)
    }

    /// The entries the file held when it was opened, verified then (none for a new one).
    pub fn opened(&self) -> &[Map<String, Value>] {
        &self.opened
    }

    pub fn head(&self) -> &str {
        &self.head
    }
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends an entry of `kind` with `fields`, fsyncs, and returns the new head.
    pub fn append(&mut self, time: &str, kind: &str, fields: Map<String, Value>) -> Result<String, TranscriptError> {
        let mut m = Map::new();
        m.insert("seq".into(), Value::from(self.seq + 1));
        m.insert("time".into(), Value::from(time));
        m.insert("kind".into(), Value::from(kind));
        m.insert("prev".into(), Value::from(self.head.clone()));
        for (k, v) in fields {
            m.insert(k, v);
        }
        let mut line = serde_json::to_vec(&Value::Object(m)).map_err(|e| TranscriptError::Io(e.to_string()))?;
        line.push(b'\n');
        let io = |e: std::io::Error| TranscriptError::Io(format!("{}: {e}", self.path.display()));
        let mut f = crate::util::fsx::open_append(&self.path).map_err(io)?;
        let before = f.metadata().map_err(io)?.len();
        if let Err(e) = f.write_all(&line).and_then(|_| f.sync_all()) {
            // No half line left behind (a full disk): the next append continues the chain.
            let _ = f.set_len(before).and_then(|()| f.sync_all());
            return Err(io(e));
        }
        self.seq += 1;
        self.head = sha256_hex(&line);
        Ok(self.head.clone())
    }
}

/// What a verified transcript says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub head: String,
    pub entries: u64,
    pub lines: Vec<Map<String, Value>>,
}

/// Verifies the chain: every line parses, `seq` counts up from 1, `prev` is the sha256 of
/// the previous line (including its newline), and the file ends with a newline.
pub fn verify(bytes: &[u8]) -> Result<Verified, TranscriptError> {
    let mut head = GENESIS.to_string();
    let mut lines = Vec::new();
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        return Err(TranscriptError::Broken { line: bytes.split(|&b| b == b'\n').count(), what: "last line is incomplete".into() });
    }
    for (i, raw) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        let v: Value = serde_json::from_slice(raw).map_err(|e| TranscriptError::Broken { line: n, what: format!("not JSON: {e}") })?;
        let Value::Object(m) = v else {
            return Err(TranscriptError::Broken { line: n, what: "not a JSON object".into() });
        };
        if m.get("seq").and_then(Value::as_u64) != Some(n as u64) {
            return Err(TranscriptError::Broken {
                line: n,
                what: format!(
                    "seq is {}, expected {n} (a line was removed or reordered)",
                    m.get("seq").map(|v| crate::util::text::one_line(&v.to_string()).into_owned()).unwrap_or_else(|| "missing".into())
                ),
            });
        }
        if m.get("prev").and_then(Value::as_str) != Some(head.as_str()) {
            return Err(TranscriptError::Broken { line: n, what: "prev does not match the sha256 of the line before (the transcript was edited)".into() });
        }
        head = sha256_hex(raw);
        lines.push(m);
    }
    Ok(Verified { head, entries: lines.len() as u64, lines })
}

/// Builds a JSON object from pairs, for transcript entries.
#[macro_export]
macro_rules! fields {
    ($($k:expr => $v:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut m = serde_json::Map::new();
        $( m.insert($k.to_string(), serde_json::Value::from($v)); )*
        m
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path) -> Vec<u8> {
        let p = dir.join("t.jsonl");
        let mut t = Transcript::open(&p, "2026-01-01T00:00:00Z").unwrap();
        for i in 0..5 {
            t.append("2026-01-01T00:00:00Z", "step", fields! {"n" => i}).unwrap();
        }
        std::fs::read(&p).unwrap()
    }

    #[test]
    fn chain_verifies_and_reopens() {
        let d = tempfile::tempdir().unwrap();
        let bytes = sample(d.path());
        let v = verify(&bytes).unwrap();
        assert_eq!(v.entries, 5);
        let mut t = Transcript::open(&d.path().join("t.jsonl"), "2026-01-01T00:00:00Z").unwrap();
        assert_eq!(t.head(), v.head);
        t.append("x", "more", fields! {}).unwrap();
        assert_eq!(verify(&std::fs::read(d.path().join("t.jsonl")).unwrap()).unwrap().entries, 6);
    }

    #[test]
    fn tampering_is_detected() {
        let d = tempfile::tempdir().unwrap();
        let bytes = sample(d.path());
        let lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
        // edit
        let edited = String::from_utf8(bytes.clone()).unwrap().replacen("\"n\":2", "\"n\":9", 1);
        assert!(matches!(verify(edited.as_bytes()), Err(TranscriptError::Broken { line: 4, .. })));
        // delete
        let deleted: Vec<u8> = lines.iter().enumerate().filter(|(i, _)| *i != 1).flat_map(|(_, l)| l.to_vec()).collect();
        assert!(verify(&deleted).is_err());
        // reorder
        let mut re = lines.clone();
        re.swap(2, 3);
        assert!(verify(&re.concat()).is_err());
        // truncate mid-line
        assert!(verify(&bytes[..bytes.len() - 3]).is_err());
        // delete the last line: still a valid (shorter) chain; the head changes, which is
        // why the head is read aloud and printed in SUMMARY.txt.
        let v = verify(&lines[..4].concat()).unwrap();
        assert_ne!(v.head, verify(&bytes).unwrap().head);
    }

    /// A crash in the middle of an append leaves a last line without its newline: the
    /// transcript reopens with that line cut off and the repair recorded; the chain verifies.
    #[test]
    fn a_torn_last_line_is_cut_off_and_recorded() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.jsonl");
        let bytes = sample(d.path());
        let torn = b"{\"seq\":6,\"time\":\"2026-01-0";
        std::fs::write(&p, [bytes.as_slice(), torn].concat()).unwrap();
        assert!(verify(&std::fs::read(&p).unwrap()).is_err());
        let t = Transcript::open(&p, "2026-01-02T00:00:00Z").unwrap();
        let v = verify(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!((v.entries, t.head()), (6, v.head.as_str()));
        let last = &v.lines[5];
        assert_eq!(last["kind"], "transcript.repaired");
        assert_eq!(last["dropped_bytes"], torn.len());
        assert_eq!(last["dropped_sha256"], sha256_hex(torn));
        // Damage before the last line is still an error, never repaired.
        let edited = String::from_utf8(bytes).unwrap().replacen("\"n\":2", "\"n\":9", 1);
        std::fs::write(&p, [edited.as_bytes(), torn].concat()).unwrap();
        assert!(Transcript::open(&p, "2026-01-02T00:00:00Z").is_err());
    }
}
