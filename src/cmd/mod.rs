//! One file per subcommand: each takes its parsed arguments and returns a typed error.

pub mod attest;
pub mod canonical;
pub mod keygen;
pub mod plan;
pub mod run;
pub mod signing;
pub mod status;
pub mod update;
pub mod verify;
pub mod version;

use crate::cli::{Command, PlanCommand};
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};

/// Runs a command; returns the exit code on success (some commands report "attention").
pub fn run(cmd: Command) -> Result<i32> {
    match cmd {
        Command::Canonical(a) => canonical::run(&a),
        Command::Keygen(a) => keygen::run(&a),
        Command::Plan { command: PlanCommand::New(a) } => plan::new(&a),
        Command::Plan { command: PlanCommand::Check(a) } => plan::check(&a),
        Command::Plan { command: PlanCommand::Drafts(a) } => plan::drafts(&a),
        Command::Run(a) => run::run(&a),
        Command::Rehearse(a) => run::rehearse(&a),
        Command::Verify(a) => verify::run(&a),
        Command::Attest(a) => attest::run(&a),
        Command::Status(a) => status::run(&a),
        Command::SignRequest(a) => signing::request(&a),
        Command::Sign(a) => signing::sign(&a),
        Command::ImportSignatures(a) => signing::import(&a),
        Command::Resign(a) => update::resign(&a),
        Command::Claim(a) => update::claim(&a),
        Command::Version(a) => version::run(&a),
    }
}

/// Prints a report: its JSON (made safe for a terminal) with `--json`, else its text.
pub fn print_report(json: bool, as_json: impl FnOnce() -> serde_json::Value, as_text: impl FnOnce() -> String) {
    if json {
        let mut s = crate::util::text::json_for_output(&as_json());
        s.push('\n');
        print!("{s}");
    } else {
        print!("{}", crate::util::text::for_terminal(&as_text()));
    }
}

/// `--at` values: `now` (default) or an RFC 3339 time.
pub fn parse_at(at: Option<&str>) -> Result<DateTime<Utc>> {
    match at {
        None | Some("now") => Ok(Utc::now()),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| Error::Usage(format!("--at {s:?}: {e} (expected e.g. 2027-01-01T00:00:00Z)"))),
    }
}
