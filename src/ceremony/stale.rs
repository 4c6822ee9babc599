//! A working directory left by another run of an update (`resign`, `claim`): what it holds,
//! in words, and how to set it aside. It is never deleted: signatures already made in it
//! are never lost.

use super::job::Job;
use super::state::{State, Workdir};
use super::transcript;
use crate::util::fsx::{self, Kind};
use crate::util::text::one_line;
use std::path::{Path, PathBuf};

type Line = serde_json::Map<String, serde_json::Value>;

fn get<'a>(l: &'a Line, k: &str) -> Option<&'a str> {
    l.get(k).and_then(|v| v.as_str())
}

/// Says which job `work` holds, when it began, what it produced, and what differs from
/// the run asked for now; ends with how to set it aside.
pub fn explain(work: &Workdir, state: &State, job: &Job, current: &[(String, String)]) -> String {
    let lines: Vec<Line> =
        fsx::read_in(&work.transcript_path(), Kind::Transcript).ok().and_then(|b| transcript::verify(&b).ok()).map(|v| v.lines).unwrap_or_default();
    let start = lines.iter().find(|l| get(l, "kind") == Some("ceremony.start"));
    let mut s = format!("{} holds another run", work.root.display());
    match start {
        Some(l) => s.push_str(&format!(": {} begun {}", one_line(get(l, "job").unwrap_or("?")), one_line(get(l, "time").unwrap_or("?")))),
        None => s.push_str(" (its transcript cannot be read)"),
    }
    let signed: Vec<String> = lines
        .iter()
        .filter(|l| get(l, "kind") == Some("signature"))
        .map(|l| format!("{} by {}", one_line(get(l, "role").unwrap_or("?")), one_line(get(l, "keyholder").unwrap_or("?"))))
        .collect();
    let builds: Vec<String> = lines
        .iter()
        .filter(|l| get(l, "kind") == Some("build"))
        .map(|l| format!("{} v{}", one_line(get(l, "role").unwrap_or("?")), l.get("version").and_then(|v| v.as_u64()).unwrap_or(0)))
        .collect();
    if !builds.is_empty() {
        s.push_str(&format!("; it built {}", builds.join(", ")));
    }
    if !signed.is_empty() {
        s.push_str(&format!("; signatures made: {}", signed.join(", ")));
    }
    if let Some(e) = state.exported.last() {
        s.push_str(&format!("; it was finished and exported to {}", one_line(e.split('|').next().unwrap_or(e))));
    }
    s.push('.');
    // What differs: the metadata it was built from against --current now.
    let then: Vec<(String, String)> = start
        .and_then(|l| l.get("current_files"))
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|e| Some((e.get("file")?.as_str()?.to_string(), e.get("sha256")?.as_str()?.to_string()))).collect())
        .unwrap_or_default();
    if let Job::Update(u) = job
        && let Some(l) = start
    {
        let label = get(l, "job").unwrap_or("");
        if !label.contains(&u.label) {
            s.push_str(&format!(" This run is update {} of {}.", one_line(&u.label), u.roles.join(", ")));
        }
    }
    if !then.is_empty() {
        let gone: Vec<&str> = then.iter().filter(|t| !current.contains(t)).map(|(f, _)| f.as_str()).collect();
        let new: Vec<&str> = current.iter().filter(|c| !then.contains(c)).map(|(f, _)| f.as_str()).collect();
        if !gone.is_empty() || !new.is_empty() {
            s.push_str(&format!(
                " --current differs from the metadata it was built from: {}{}.",
                if gone.is_empty() { String::new() } else { format!("then {}", gone.iter().map(|f| one_line(f).into_owned()).collect::<Vec<_>>().join(", ")) },
                if new.is_empty() {
                    String::new()
                } else {
                    format!("{}now {}", if gone.is_empty() { "" } else { "; " }, new.iter().map(|f| one_line(f).into_owned()).collect::<Vec<_>>().join(", "))
                }
            ));
        }
    }
    if state.exported.is_empty() {
        s.push_str(" To finish that run, give the same plan, roles and --current as when it began.");
    } else {
        s.push_str(" If you meant a new update, --current must hold the metadata published since.");
    }
    s.push_str(" To set it aside (kept, never deleted) and begin this run, add --set-aside.");
    s
}

/// Renames `dir` to `<dir>.set-aside-<UTC time>` (never replacing anything) and returns
/// the new name.
pub fn set_aside(dir: &Path, now: chrono::DateTime<chrono::Utc>) -> std::io::Result<PathBuf> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "work".into());
    for n in 0..100 {
        let suffix = if n == 0 { String::new() } else { format!("-{n}") };
        let to = dir.with_file_name(format!("{name}.set-aside-{}{suffix}", now.format("%Y%m%dT%H%M%SZ")));
        match fsx::rename_no_replace_path(dir, &to) {
            Ok(()) => return Ok(to),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "too many set-aside folders of this name"))
}
