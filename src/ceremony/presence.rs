//! Who is in the room. A threshold exists so that not every keyholder has to be: a run
//! names the keyholders present (`--keyholders`), and is refused before any prompt and
//! before anything is written when they cannot reach the threshold of every role it signs.
//! Absent keyholders' signatures can be added later by signing apart.

use super::job::{Job, current_authority};
use super::plan::{Plan, TokenKind};
use std::collections::BTreeSet;

/// The keyholders present and absent for one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Presence {
    pub present: Vec<String>,
    pub absent: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PresenceError {
    /// A name that is not a keyholder of the plan (a usage error).
    #[error("--keyholders: {0:?} is not a keyholder in the plan (it names {1})")]
    Unknown(String, String),
    /// The keyholders present cannot do what the run needs (a refusal).
    #[error("{0}")]
    Short(String),
}

/// The keyholders the job needs at all: every keyholder for a ceremony, those the plan
/// names for the updated roles for an update.
pub fn involved(plan: &Plan, job: &Job) -> Vec<String> {
    plan.keyholders
        .iter()
        .filter(|k| match job {
            Job::Ceremony => true,
            Job::Update(u) => plan.offline_roles().iter().any(|r| u.roles.contains(&r.name) && r.keyholders.contains(&k.name)),
        })
        .map(|k| k.name.clone())
        .collect()
}

/// Checks `present` (None: everyone) against what the job signs. `has_key(name)` says
/// whether a keyholder's key is already recorded (a ceremony resumed after its keys steps):
/// a key still to be generated needs its keyholder.
pub fn check(plan: &Plan, job: &Job, present: Option<&[String]>, has_key: &dyn Fn(&str) -> bool) -> Result<Presence, PresenceError> {
    let involved = involved(plan, job);
    let all: Vec<&str> = plan.keyholders.iter().map(|k| k.name.as_str()).collect();
    let here: BTreeSet<String> = match present {
        None => involved.iter().cloned().collect(),
        Some(names) => {
            for n in names {
                if !all.contains(&n.as_str()) {
                    return Err(PresenceError::Unknown(crate::util::text::one_line(n).into_owned(), all.join(", ")));
                }
            }
            names.iter().filter(|n| involved.contains(n)).cloned().collect()
        }
    };
    // A key from an earlier ceremony on a device with no back end here cannot sign in this
    // run: its keyholder is absent for it, whoever is in the room, and signs apart.
    let apart: Vec<&str> = plan.keyholders.iter().filter(|k| k.token == TokenKind::None && involved.contains(&k.name)).map(|k| k.name.as_str()).collect();
    let here: BTreeSet<String> = here.into_iter().filter(|k| !apart.contains(&k.as_str())).collect();
    let absent: Vec<String> = involved.iter().filter(|k| !here.contains(*k)).cloned().collect();
    let mut short = Vec::new();
    if let Job::Ceremony = job {
        let from_plan = |k: &str| plan.keyholder(k).is_some_and(|h| h.existing.is_some());
        let missing: Vec<&str> = absent.iter().map(String::as_str).filter(|k| !has_key(k) && !from_plan(k)).collect();
        if !missing.is_empty() {
            short.push(format!("{} must be present: their keys are generated in this ceremony", missing.join(", ")));
        }
    }
    for role in plan.offline_roles() {
        let threshold = match job {
            Job::Ceremony => role.threshold,
            Job::Update(u) if u.roles.contains(&role.name) => current_authority(&u.current, &role.name).map(|(_, t)| t).unwrap_or(role.threshold),
            Job::Update(_) => continue,
        };
        let signing: Vec<&str> = role.keyholders.iter().map(String::as_str).filter(|k| here.contains(*k)).collect();
        if (signing.len() as u64) < threshold {
            short.push(format!(
                "{} needs {threshold} of its keyholders ({}); present: {}",
                role.name,
                role.keyholders.join(", "),
                if signing.is_empty() { "none".to_string() } else { signing.join(", ") }
            ));
        }
    }
    if let Job::Update(u) = job {
        for r in u.roles.iter().filter(|r| !plan.offline_roles().iter().any(|o| &o.name == *r)) {
            short.push(format!("the plan names no keyholders for {r}"));
        }
    }
    if !short.is_empty() {
        let why_apart = if apart.is_empty() {
            String::new()
        } else {
            format!(
                " ({} hold keys from an earlier ceremony on devices this tool has no back end for: build the drafts with `tuf-ceremony plan drafts` and have them sign apart)",
                apart.join(", ")
            )
        };
        return Err(PresenceError::Short(format!(
            "the keyholders present cannot sign what this run signs: {}{why_apart}. Nothing was asked or written.",
            short.join("; ")
        )));
    }
    Ok(Presence { present: involved.iter().filter(|k| here.contains(*k)).cloned().collect(), absent })
}
