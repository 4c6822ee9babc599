//! `tuf-ceremony status PATH [--at TIME] [--json] [--plan PLAN]`: expiry dashboard of a
//! metadata folder; exit 1 expired or below threshold, 3 inside a re-signing window, 0 ok.

use crate::ceremony::plan::Plan;
use crate::cli::StatusArgs;
use crate::error::{Error, Result};
use crate::ops::{folder, status};

pub fn run(a: &StatusArgs) -> Result<i32> {
    let at = crate::cmd::parse_at(a.at.as_deref())?;
    // The plan only supplies signing windows here. It is validated as of the Unix epoch so
    // that an absolute `expires` already past (an old ceremony's plan) does not stop it.
    let plan = match &a.plan {
        Some(p) => Some(Plan::load(p, chrono::DateTime::UNIX_EPOCH).map_err(|e| Error::input(p, e))?),
        None => None,
    };
    let f = folder::load(&a.path)?;
    let report = status::status(&f, at, plan.as_ref());
    crate::cmd::print_report(a.json, || report.to_json(), || report.to_toned())?;
    Ok(report.exit_code())
}
