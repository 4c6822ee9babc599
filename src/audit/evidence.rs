//! Ceremony evidence on the media: `SHA256SUMS` (every file listed, every listed file
//! matching), the hash-chained `transcript.jsonl` (chain intact, every file it records
//! matching, plan and program hashes), `SUMMARY.txt` (the transcript head read aloud, and
//! the file hashes it prints), and the keyholders' public keys in `keys/<holder>/`.
//!
//! Line-based files have no JSON path of their own: findings about them use `$[i]` for the
//! 0-based line `i` (and `$[i].field` for a field of a transcript line).

use super::layout::Inventory;
use super::set::AuditFinding;
use crate::ceremony::transcript;
use crate::tuf::finding::{Clients, Finding};
use crate::tuf::json::{JsonPath, Reader};
use crate::tuf::keys::{PublicKey, keyid, sha256_hex};
use crate::tuf::metadata::read_key;
use crate::util::fsx::{self, Kind};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// What the evidence says (for the report).
#[derive(Clone, Debug, Default)]
pub struct EvidenceReport {
    pub sha256sums: Option<SumsReport>,
    pub transcript: Option<TranscriptReport>,
    pub summary: Option<SummaryReport>,
    /// Files in the folder (relative paths), SHA256SUMS excluded.
    pub files: usize,
}

#[derive(Clone, Debug, Default)]
pub struct SumsReport {
    pub sha256: String,
    pub listed: usize,
    pub matching: usize,
}

#[derive(Clone, Debug, Default)]
pub struct TranscriptReport {
    pub sha256: String,
    pub entries: u64,
    /// sha256 of the last line: what is read aloud. `None` when the chain is broken.
    pub head: Option<String>,
    pub ceremony: Option<String>,
    pub tool: Option<String>,
    pub plan_sha256: Option<String>,
    pub binary_sha256: Option<String>,
    /// The clock the operator confirmed.
    pub clock: Option<String>,
    pub files_recorded: usize,
    pub files_matching: usize,
    pub keys: Vec<RecordedKey>,
    pub signatures: Vec<RecordedSignature>,
    /// role → canonical sha256 of its last `build` entry.
    pub builds: BTreeMap<String, String>,
    /// Every start and resume, with the program that ran it.
    pub programs: Vec<ProgramRun>,
}

/// A `ceremony.start` or `ceremony.resume` entry: when, and which program (by sha256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramRun {
    pub time: String,
    /// "start" or "resume".
    pub kind: &'static str,
    /// `None` when the entry does not record it (made by an older version).
    pub sha256: Option<String>,
    /// Why a program other than the expected one was confirmed by the operator.
    pub confirmed: Option<String>,
}

/// A `key` entry: a keyholder's key, as the ceremony recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedKey {
    pub keyholder: String,
    pub keyid: String,
    pub serial: Option<String>,
}

/// A `signature` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedSignature {
    pub line: usize,
    pub keyholder: String,
    pub role: String,
    pub keyid: String,
    pub sig: String,
    pub canonical_sha256: String,
}

#[derive(Clone, Debug, Default)]
pub struct SummaryReport {
    pub head: Option<String>,
    pub files_listed: usize,
}

/// A keyholder's exported public key (`keys/<holder>/<holder>.key.json`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HolderKey {
    pub keyholder: String,
    pub keyid: String,
    pub file: String,
}

fn push(out: &mut Vec<AuditFinding>, file: &str, f: Finding) {
    out.push(AuditFinding { file: file.to_string(), finding: f });
}

fn line(i: usize) -> JsonPath {
    JsonPath::root().index(i)
}

/// The files under a folder, as `/`-separated relative paths, sorted.
#[derive(Debug, Default)]
pub struct Listing {
    /// Every regular file.
    pub files: Vec<String>,
    /// What an operating system wrote (`layout::os_file`): files, and top-level folders
    /// (with a trailing `/`, not entered).
    pub os_files: Vec<String>,
    /// Symbolic links, as `rel -> target`: never followed, so a link cannot make the walk
    /// leave the folder or go round in a loop.
    pub links: Vec<String>,
    /// Entries that are neither files, folders nor links (FIFOs, devices, sockets), with
    /// what they are: never opened.
    pub special: Vec<(String, &'static str)>,
}

/// Lists `dir` (see `Listing`).
pub fn list_files(dir: &Path) -> std::io::Result<Listing> {
    fn walk(base: &Path, rel: &str, out: &mut Listing, depth: usize) -> std::io::Result<()> {
        if depth > 16 {
            return Ok(());
        }
        for e in std::fs::read_dir(base.join(rel))? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            // The entry as it is: a link is reported, never followed.
            let t = e.file_type()?;
            let r = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            if t.is_symlink() {
                out.links.push(super::layout::link_entry(&r, &e.path()));
                continue;
            }
            if !t.is_dir() && !t.is_file() {
                out.special.push((r, fsx::type_name(&t)));
                continue;
            }
            let os = super::layout::os_file(&e.path(), &name, t.is_dir(), rel.is_empty());
            match (t.is_dir(), os) {
                (true, true) => out.os_files.push(format!("{r}/")),
                (true, false) => walk(base, &r, out, depth + 1)?,
                (false, true) if t.is_file() => out.os_files.push(r),
                (false, false) if t.is_file() => out.files.push(r),
                _ => {}
            }
        }
        Ok(())
    }
    let mut out = Listing::default();
    walk(dir, "", &mut out, 0)?;
    out.files.sort();
    out.os_files.sort();
    out.links.sort();
    Ok(out)
}

/// A path as `SHA256SUMS` or the transcript may name it: relative, no `.`/`..`/empty segments.
fn clean_rel(p: &str) -> bool {
    !p.is_empty() && !p.starts_with('/') && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..") && !p.contains('\\')
}

/// Hashes of the folder's files: `known` (rel → sha256, computed by the metadata loader)
/// completed by reading the others.
fn file_hashes(dir: &Path, files: &[String], known: &HashMap<String, String>, out: &mut Vec<AuditFinding>) -> HashMap<String, (String, u64)> {
    let mut m = HashMap::new();
    for f in files {
        let len = std::fs::symlink_metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0);
        if let Some(h) = known.get(f) {
            m.insert(f.clone(), (h.clone(), len));
            continue;
        }
        match fsx::read_large_in(&dir.join(f)) {
            Ok(b) => {
                m.insert(f.clone(), (sha256_hex(&b), b.len() as u64));
            }
            Err(e) => push(out, f, Finding::error("unreadable", JsonPath::root(), format!("cannot read: {e}"), Clients::NONE)),
        }
    }
    m
}

/// Checks the media's evidence. `known` maps metadata files already hashed to their sha256.
pub fn check(inv: &Inventory, known: &HashMap<String, String>, out: &mut Vec<AuditFinding>) -> EvidenceReport {
    let dir = &inv.dir;
    let mut rep = EvidenceReport::default();
    let Listing { files, os_files, links, special } = match list_files(dir) {
        Ok(f) => f,
        Err(e) => {
            push(out, "(folder)", Finding::error("unreadable", JsonPath::root(), format!("cannot list {}: {e}", dir.display()), Clients::NONE));
            return rep;
        }
    };
    for f in &os_files {
        push(
            out,
            f,
            Finding::warning(
                "os-file",
                JsonPath::root(),
                "written by an operating system that mounted the media (macOS, Windows), not by the ceremony: not listed in SHA256SUMS, not checked, read by no TUF client",
                Clients::NONE,
            ),
        );
    }
    for l in &links {
        let name = l.split(" -> ").next().unwrap_or(l);
        push(
            out,
            name,
            Finding::error(
                "symlink",
                JsonPath::root(),
                format!("a symbolic link ({l}) on the media: the ceremony writes none, and links are never followed"),
                Clients::NONE,
            ),
        );
    }
    for (name, what) in &special {
        push(
            out,
            name,
            Finding::error(
                "special-file",
                JsonPath::root(),
                format!("is {what}, not a regular file: the ceremony writes none, and it is never read"),
                Clients::NONE,
            ),
        );
    }
    let files: Vec<String> = files.into_iter().filter(|f| f != "SHA256SUMS").collect();
    rep.files = files.len();
    let hashes = file_hashes(dir, &files, known, out);

    // SHA256SUMS: exactly "<64 lowercase hex>  <path>\n" per line, every file listed once.
    match fsx::read_in(&dir.join("SHA256SUMS"), Kind::Evidence) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            push(out, "SHA256SUMS", Finding::error("unreadable", JsonPath::root(), format!("cannot read: {e}"), Clients::NONE))
        }
        Err(_) => push(
            out,
            "SHA256SUMS",
            Finding::error(
                "sums-missing",
                JsonPath::root(),
                "the media has no SHA256SUMS: its files cannot be checked against the ceremony's list",
                Clients::NONE,
            ),
        ),
        Ok(bytes) => rep.sha256sums = Some(check_sums(&bytes, &hashes, &files, out)),
    }

    // The transcript.
    let t_bytes = fsx::read_in(&dir.join("transcript.jsonl"), Kind::Transcript);
    match &t_bytes {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            push(out, "transcript.jsonl", Finding::error("unreadable", JsonPath::root(), format!("cannot read: {e}"), Clients::NONE))
        }
        Err(_) => push(out, "transcript.jsonl", Finding::error("transcript-missing", JsonPath::root(), "the media has no transcript.jsonl", Clients::NONE)),
        Ok(bytes) => rep.transcript = Some(check_transcript(bytes, &hashes, out)),
    }

    // SUMMARY.txt (listed in SHA256SUMS; its content is cross-checked when present).
    let summary = fsx::read_in(&dir.join("SUMMARY.txt"), Kind::Evidence);
    if let Err(e) = &summary
        && e.kind() != std::io::ErrorKind::NotFound
    {
        push(out, "SUMMARY.txt", Finding::error("unreadable", JsonPath::root(), format!("cannot read: {e}"), Clients::NONE));
    }
    if let Ok(text) = summary {
        rep.summary = Some(check_summary(&String::from_utf8_lossy(&text), rep.transcript.as_ref(), &hashes, out));
    }
    rep
}

fn check_sums(bytes: &[u8], hashes: &HashMap<String, (String, u64)>, files: &[String], out: &mut Vec<AuditFinding>) -> SumsReport {
    let mut rep = SumsReport { sha256: sha256_hex(bytes), ..Default::default() };
    let file = "SHA256SUMS";
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        push(out, file, Finding::error("sums-format", JsonPath::root(), "the last line does not end with a newline", Clients::NONE));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => {
            push(out, file, Finding::error("sums-format", JsonPath::root(), "not UTF-8 text", Clients::NONE));
            return rep;
        }
    };
    let mut listed: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, l) in text.split_terminator('\n').enumerate() {
        let ok_shape = l.len() > 66 && l.as_bytes()[..64].iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) && &l.as_bytes()[64..66] == b"  ";
        if !ok_shape {
            push(out, file, Finding::error("sums-format", line(i), format!("line {} is not \"<64 lowercase hex>  <path>\": {l:?}", i + 1), Clients::NONE));
            continue;
        }
        let (h, p) = (&l[..64], &l[66..]);
        if !clean_rel(p) {
            push(out, file, Finding::error("sums-path", line(i), format!("line {}: {p:?} is not a clean relative path", i + 1), Clients::NONE));
            continue;
        }
        if listed.insert(p, i).is_some() {
            push(out, file, Finding::error("sums-duplicate", line(i), format!("{p} is listed twice"), Clients::NONE));
            continue;
        }
        rep.listed += 1;
        match hashes.get(p) {
            None => push(
                out,
                p,
                Finding::error("sums-file-missing", JsonPath::root(), format!("SHA256SUMS line {} lists {p}, which is not on the media", i + 1), Clients::NONE),
            ),
            Some((got, _)) if got != h => push(
                out,
                p,
                Finding::error(
                    "sums-mismatch",
                    JsonPath::root(),
                    format!("sha256 is {got}, but SHA256SUMS line {} says {h}: the file changed after the ceremony", i + 1),
                    Clients::NONE,
                ),
            ),
            Some(_) => rep.matching += 1,
        }
    }
    for f in files {
        if !listed.contains_key(f.as_str()) {
            push(
                out,
                f,
                Finding::error("sums-unlisted", JsonPath::root(), "this file is not listed in SHA256SUMS: it was added after the ceremony", Clients::NONE),
            );
        }
    }
    rep
}

fn get_str<'a>(m: &'a serde_json::Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

fn check_transcript(bytes: &[u8], hashes: &HashMap<String, (String, u64)>, out: &mut Vec<AuditFinding>) -> TranscriptReport {
    let file = "transcript.jsonl";
    let mut rep = TranscriptReport { sha256: sha256_hex(bytes), ..Default::default() };
    let v = match transcript::verify(bytes) {
        Ok(v) => v,
        Err(transcript::TranscriptError::Broken { line: n, what }) => {
            push(
                out,
                file,
                Finding::error("transcript-chain", line(n.saturating_sub(1)), format!("the hash chain is broken at line {n}: {what}"), Clients::NONE),
            );
            return rep;
        }
        Err(e) => {
            push(out, file, Finding::error("transcript-chain", JsonPath::root(), e.to_string(), Clients::NONE));
            return rep;
        }
    };
    rep.entries = v.entries;
    rep.head = Some(v.head.clone());
    let mut recorded: Vec<usize> = Vec::new();
    for (i, m) in v.lines.iter().enumerate() {
        if let kind @ ("ceremony.start" | "ceremony.resume") = get_str(m, "kind").unwrap_or_default() {
            rep.programs.push(ProgramRun {
                time: get_str(m, "time").unwrap_or_default().into(),
                kind: if kind == "ceremony.start" { "start" } else { "resume" },
                sha256: get_str(m, "binary_sha256").map(String::from),
                confirmed: get_str(m, "binary_confirmed").filter(|c| !c.is_empty()).map(String::from),
            });
        }
        match get_str(m, "kind").unwrap_or_default() {
            "ceremony.start" => {
                rep.ceremony = get_str(m, "ceremony").map(String::from);
                rep.tool = get_str(m, "tool").map(String::from);
                rep.plan_sha256 = get_str(m, "plan_sha256").map(String::from);
            }
            "preflight.binary" => rep.binary_sha256 = get_str(m, "sha256").map(String::from),
            "clock.confirmed" => rep.clock = get_str(m, "clock").map(String::from),
            "key" => {
                if let (Some(h), Some(k)) = (get_str(m, "keyholder"), get_str(m, "keyid")) {
                    rep.keys.retain(|x| x.keyholder != h);
                    rep.keys.push(RecordedKey { keyholder: h.into(), keyid: k.into(), serial: get_str(m, "serial").map(String::from) });
                }
            }
            "signature" => rep.signatures.push(RecordedSignature {
                line: i,
                keyholder: get_str(m, "keyholder").unwrap_or_default().into(),
                role: get_str(m, "role").unwrap_or_default().into(),
                keyid: get_str(m, "keyid").unwrap_or_default().into(),
                sig: get_str(m, "sig").unwrap_or_default().into(),
                canonical_sha256: get_str(m, "canonical_sha256").unwrap_or_default().into(),
            }),
            "build" => {
                if let (Some(r), Some(c)) = (get_str(m, "role"), get_str(m, "canonical_sha256")) {
                    rep.builds.insert(r.into(), c.into());
                }
            }
            // Files exported; entries of an attempt that failed (`export.failed`) are dropped,
            // only the attempt that produced this media counts.
            "file" | "export.file" => recorded.push(i),
            "export.failed" => recorded.clear(),
            _ => {}
        }
    }
    for i in recorded {
        let m = &v.lines[i];
        rep.files_recorded += 1;
        let p = get_str(m, "path").unwrap_or_default();
        let want = get_str(m, "sha256").unwrap_or_default();
        let len = m.get("length").and_then(Value::as_u64);
        if !clean_rel(p) {
            push(
                out,
                file,
                Finding::error("transcript-file", line(i).key("path"), format!("line {} records {p:?}, not a clean relative path", i + 1), Clients::NONE),
            );
            continue;
        }
        match hashes.get(p) {
            None => push(
                out,
                p,
                Finding::error(
                    "transcript-file-missing",
                    JsonPath::root(),
                    format!("transcript line {} records this file, but it is not on the media", i + 1),
                    Clients::NONE,
                ),
            ),
            Some((got, _)) if got != want => push(
                out,
                p,
                Finding::error(
                    "transcript-file-mismatch",
                    JsonPath::root(),
                    format!("sha256 is {got}, but transcript line {} recorded {want}", i + 1),
                    Clients::NONE,
                ),
            ),
            Some((_, l)) if len.is_some_and(|x| x != *l) => push(
                out,
                p,
                Finding::error(
                    "transcript-file-mismatch",
                    JsonPath::root(),
                    format!("{l} bytes, but transcript line {} recorded {}", i + 1, len.unwrap_or(0)),
                    Clients::NONE,
                ),
            ),
            Some(_) => rep.files_matching += 1,
        }
    }
    if rep.plan_sha256.is_none() {
        push(
            out,
            file,
            Finding::warning(
                "transcript-no-plan",
                JsonPath::root(),
                "the transcript does not record the plan's sha256 (no ceremony.start entry)",
                Clients::NONE,
            ),
        );
    }
    if rep.binary_sha256.is_none() {
        push(out, file, Finding::warning("transcript-no-binary", JsonPath::root(), "the transcript does not record the program's sha256", Clients::NONE));
    }
    let distinct: std::collections::BTreeSet<&str> = rep.programs.iter().filter_map(|p| p.sha256.as_deref()).collect();
    if distinct.len() > 1 {
        push(
            out,
            file,
            Finding::warning(
                "transcript-programs-differ",
                JsonPath::root(),
                format!(
                    "{} different programs ran this ceremony (every start and resume is listed with its sha256); check each against a published release",
                    distinct.len()
                ),
                Clients::NONE,
            ),
        );
    }
    rep
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn check_summary(text: &str, t: Option<&TranscriptReport>, hashes: &HashMap<String, (String, u64)>, out: &mut Vec<AuditFinding>) -> SummaryReport {
    let file = "SUMMARY.txt";
    let mut rep = SummaryReport::default();
    let lines: Vec<&str> = text.lines().collect();
    if let Some(i) = lines.iter().position(|l| l.starts_with("Transcript head")) {
        let head = lines.get(i + 1).map(|l| l.trim()).unwrap_or_default();
        if is_hex64(head) {
            rep.head = Some(head.to_string());
            if let Some(th) = t.and_then(|t| t.head.as_deref())
                && th != head
            {
                push(
                    out,
                    file,
                    Finding::error(
                        "summary-head",
                        line(i + 1),
                        format!("SUMMARY.txt says the transcript head is {head}, but transcript.jsonl's is {th}"),
                        Clients::NONE,
                    ),
                );
            }
        }
    }
    if rep.head.is_none() {
        push(
            out,
            file,
            Finding::warning("summary-unrecognized", JsonPath::root(), "no transcript head found in SUMMARY.txt: not cross-checked", Clients::NONE),
        );
    }
    // "  <rel>  (<n> bytes)" then "    <sha256>".
    for (i, l) in lines.iter().enumerate() {
        let Some(rest) = l.strip_prefix("  ") else { continue };
        let Some((p, tail)) = rest.split_once("  (") else { continue };
        if !tail.ends_with(" bytes)") || !clean_rel(p) {
            continue;
        }
        let Some(h) = lines.get(i + 1).map(|x| x.trim()).filter(|x| is_hex64(x)) else { continue };
        rep.files_listed += 1;
        match hashes.get(p) {
            Some((got, _)) if got != h => push(
                out,
                p,
                Finding::error("summary-mismatch", JsonPath::root(), format!("sha256 is {got}, but SUMMARY.txt line {} prints {h}", i + 2), Clients::NONE),
            ),
            None => push(
                out,
                p,
                Finding::error(
                    "summary-file-missing",
                    JsonPath::root(),
                    format!("SUMMARY.txt line {} lists this file, but it is not on the media", i + 1),
                    Clients::NONE,
                ),
            ),
            _ => {}
        }
    }
    rep
}

/// Keyholders' exported keys: `keys/<holder>/<holder>.key.json` (keyid computed from the key
/// as written) and, when present, `<holder>.pub.pem` (must be the same key).
pub fn holder_keys(dir: &Path, out: &mut Vec<AuditFinding>) -> Vec<HolderKey> {
    let mut v = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir.join("keys")) else { return v };
    let mut holders: Vec<String> =
        rd.filter_map(|e| e.ok()).filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    holders.sort();
    for h in holders {
        let rel = format!("keys/{h}/{h}.key.json");
        let bytes = match fsx::read_in(&dir.join(&rel), Kind::Key) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                push(out, &rel, Finding::error("unreadable", JsonPath::root(), format!("cannot read: {e}"), Clients::NONE));
                continue;
            }
        };
        let key = Reader::new(&bytes).and_then(|mut r| {
            let k = read_key(&mut r)?;
            r.finish()?;
            Ok(k)
        });
        let key = match key {
            Ok(k) => k,
            Err(e) => {
                push(out, &rel, Finding::error("keyholder-key", e.path.clone(), format!("not a TUF key object: {}", e.kind), Clients::NONE));
                continue;
            }
        };
        let id = keyid(&key);
        let pem_rel = format!("keys/{h}/{h}.pub.pem");
        if let Ok(pem) = fsx::read_text_in(&dir.join(&pem_rel), Kind::Key) {
            let same = PublicKey::from_key(&key, true).map(|pk| pk.to_pem().trim() == pem.trim()).unwrap_or(false);
            if !same {
                push(
                    out,
                    &pem_rel,
                    Finding::error("keyholder-pem-mismatch", JsonPath::root(), format!("{h}'s PEM public key is not the key in {rel}"), Clients::NONE),
                );
            }
        }
        v.push(HolderKey { keyholder: h, keyid: id, file: rel });
    }
    v
}
