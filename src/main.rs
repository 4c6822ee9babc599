//! The `tuf-ceremony` binary: parse arguments, run the command, render any error once.

use clap::Parser;
use std::process::ExitCode;
use tuf_ceremony::{cli::Cli, cmd, error::exit};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { exit::USAGE } else { exit::OK };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    use tuf_ceremony::cli::Command as C;
    if matches!(cli.command, C::Run(_) | C::Rehearse(_) | C::Resign(_) | C::Claim(_) | C::Sign(_)) {
        tuf_ceremony::util::interrupt::install(&tuf_ceremony::util::interrupt::command_line());
    }
    match cmd::run(cli.command) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("error: {}", tuf_ceremony::util::text::for_terminal(&e.to_string()));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
