//! One file per subcommand: each takes its parsed arguments and returns a typed error.

pub mod canonical;
pub mod keygen;

use crate::cli::Command;
use crate::error::Result;

/// Runs a command; returns the exit code on success (some commands report "attention").
pub fn run(cmd: Command) -> Result<i32> {
    match cmd {
        Command::Canonical(a) => canonical::run(&a),
        Command::Keygen(a) => keygen::run(&a),
    }
}
