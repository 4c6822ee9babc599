//! The plan as approved, frozen in the working directory at the first step.
//!
//! Witnesses approve the plan digest (`plan::digest`): the plan's text and the content of
//! every file it points to. When a ceremony begins, the plan and those files are copied
//! into `<workdir>/plan/` with `MANIFEST` (the digest's text). The working directory
//! belongs to that digest (it is part of the state's fingerprint), so a resume with any of
//! them changed is refused; [`changed_since`] names the file that changed.

use super::plan::{Plan, manifest};
use crate::util::fsx;
use crate::util::text::one_line;
use std::path::{Path, PathBuf};

const DIR: &str = "plan";
const MANIFEST: &str = "MANIFEST";

fn dir(workdir: &Path) -> PathBuf {
    workdir.join(DIR)
}

/// Copies the plan and every file it points to into `<workdir>/plan/` (files named by
/// their plan field), with `MANIFEST`. Never overwrites: a copy already there with the
/// same bytes is kept, other bytes are an error.
pub fn freeze(workdir: &Path, plan: &Plan) -> Result<(), (PathBuf, std::io::Error)> {
    let d = dir(workdir);
    fsx::ensure_dir(&d).map_err(|e| (d.clone(), e))?;
    let mut items: Vec<(String, &[u8])> = vec![("plan.toml".into(), plan.text.as_bytes())];
    for f in &plan.files {
        items.push((format!("file.{}", f.field), &f.bytes));
    }
    let m = manifest(&plan.sha256, &plan.files);
    items.push((MANIFEST.into(), m.as_bytes()));
    for (name, bytes) in items {
        let p = d.join(&name);
        match fsx::create_atomic(&p, bytes, false) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let have = fsx::read_in(&p, fsx::Kind::Metadata).map_err(|e| (p.clone(), e))?;
                if have != bytes {
                    return Err((p, std::io::Error::other("already there with other content")));
                }
            }
            Err(e) => return Err((p, e)),
        }
    }
    Ok(())
}

/// Why the plan no longer matches what the working directory froze, in words naming the
/// file; `None` when the frozen manifest is missing or equal (another job, not another plan).
pub fn changed_since(workdir: &Path, plan: &Plan) -> Option<String> {
    let frozen_path = dir(workdir).join(MANIFEST);
    let frozen = fsx::read_text_in(&frozen_path, fsx::Kind::Plan).ok()?;
    let now = manifest(&plan.sha256, &plan.files);
    if frozen == now {
        return None;
    }
    let entries = |text: &str| -> Vec<(String, String)> {
        text.lines().skip(1).filter_map(|l| l.rsplit_once(' ')).map(|(a, b)| (a.to_string(), b.to_string())).collect()
    };
    let (then, now) = (entries(&frozen), entries(&now));
    let mut why = Vec::new();
    for (field, h) in &now {
        match then.iter().find(|(f, _)| f == field) {
            Some((_, old)) if old == h => {}
            Some((_, old)) => why.push(describe(plan, field, &format!("sha256 was {old}, is now {h}"))),
            None => why.push(describe(plan, field, "is new in the plan")),
        }
    }
    for (field, _) in then.iter().filter(|(f, _)| !now.iter().any(|(g, _)| g == f)) {
        why.push(format!("{} is no longer in the plan", one_line(field)));
    }
    Some(format!(
        "the plan is not the one this working directory began with: {}. Witnesses approved the plan digest over the plan and these files; the originals are kept in {}. Restore them, or use another --workdir for another plan",
        why.join("; "),
        dir(workdir).display()
    ))
}

fn describe(plan: &Plan, field: &str, what: &str) -> String {
    if field == "plan" {
        return format!("the plan file itself changed ({what})");
    }
    match plan.files.iter().find(|f| f.field == field) {
        Some(f) => format!("{field} ({}) changed: {what}", one_line(&f.path.display().to_string())),
        None => format!("{field}: {what}"),
    }
}
