//! The `tuf-ceremony` binary: parse arguments, run the command, render any error once.

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;
use tuf_ceremony::{cli::Cli, cmd, error::exit};

fn main() -> ExitCode {
    // --version names the commit too (build.rs); clap wants a 'static string for it.
    let mut command = Cli::command().version(tuf_ceremony::cmd::version::line().leak() as &'static str);
    let parsed = command.try_get_matches_from_mut(std::env::args_os()).and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed.map_err(|e| e.format(&mut command)) {
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
