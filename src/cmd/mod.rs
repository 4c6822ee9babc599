//! One file per subcommand: each takes its parsed arguments and returns a typed error.

/// `println!` for the commands, which never panics: the text goes through `util::out::stdout`
/// (a reader that left is no error; any other failure is returned with `?`).
macro_rules! outln {
    ($($t:tt)*) => {
        $crate::util::out::stdout(&format!("{}\n", format_args!($($t)*)))?
    };
}

/// `print!` for the commands, as [`outln!`] without the newline.
macro_rules! outp {
    ($($t:tt)*) => {
        $crate::util::out::stdout(&format!($($t)*))?
    };
}

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
use crate::util::style::Toned;
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

/// Whether Ctrl-C should say how to resume: only a command that can stop half-way and be
/// run again to go on. Not what only reads and prints (`--status`, `--dry-run`), which
/// Ctrl-C simply ends.
pub fn resumable(cmd: &Command) -> bool {
    match cmd {
        Command::Run(a) => !a.status,
        Command::Resign(a) => !(a.common.dry_run || a.common.status),
        Command::Claim(a) => !(a.common.dry_run || a.common.status),
        Command::Rehearse(_) | Command::Sign(_) => true,
        _ => false,
    }
}

/// Prints a report: its JSON (made safe for a terminal) with `--json`, else its text, made
/// safe for a terminal and coloured only where colour is wanted (`util::style`). A reader
/// that left early is no error (`util::out`).
pub fn print_report<T: Into<Toned>>(json: bool, as_json: impl FnOnce() -> serde_json::Value, as_text: impl FnOnce() -> T) -> Result<()> {
    if json {
        let mut s = crate::util::text::json_for_output(&as_json());
        s.push('\n');
        crate::util::out::stdout(&s)
    } else {
        crate::util::out::stdout(&as_text().into().render(crate::util::style::colour_on_stdout()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn command(args: &[&str]) -> Command {
        crate::cli::Cli::try_parse_from(std::iter::once("tuf-ceremony").chain(args.iter().copied())).unwrap().command
    }

    #[test]
    fn ctrl_c_says_how_to_resume_only_where_a_run_can_be_resumed() {
        let update = ["--plan", "p.toml", "--current", "m"];
        let resign = |extra: &[&'static str]| [&["resign", "targets"][..], &update, extra].concat();
        let claim = |extra: &[&'static str]| [&["claim", "--remove", "x"][..], &update, extra].concat();
        for args in [resign(&[]), claim(&[]), vec!["run", "p.toml", "--media", "m"], vec!["rehearse", "--out", "r"]] {
            assert!(resumable(&command(&args)), "{args:?}");
        }
        for args in [
            resign(&["--dry-run"]),
            resign(&["--dry-run", "--json"]),
            resign(&["--status"]),
            claim(&["--dry-run"]),
            claim(&["--status"]),
            vec!["run", "p.toml", "--status"],
            vec!["verify", "m"],
        ] {
            assert!(!resumable(&command(&args)), "{args:?}");
        }
    }
}
