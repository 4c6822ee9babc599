//! The `tuf-ceremony` binary: parse arguments, run the command, render any error once.

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;
use tuf_ceremony::util::out;
use tuf_ceremony::util::text::{SCREEN_COLUMNS, wrap_help};
use tuf_ceremony::{cli::Cli, cmd, error::exit};

fn main() -> ExitCode {
    // --version names the commit too (build.rs); clap wants a 'static string for it.
    let mut command = Cli::command().version(tuf_ceremony::cmd::version::line().leak() as &'static str);
    let parsed = command.try_get_matches_from_mut(std::env::args_os()).and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed.map_err(|e| e.format(&mut command)) {
        Ok(c) => c,
        Err(e) => {
            // Help, version and usage errors, at most 100 columns wide (clap's own wrapping
            // would add a terminal-size crate): the same text on any terminal, in any test.
            let text = wrap_help(&e.render().to_string(), SCREEN_COLUMNS);
            if e.use_stderr() {
                out::stderr(&text);
                return ExitCode::from(exit::USAGE as u8);
            }
            // A reader that left early (`--help | head -1`) is no error.
            if let Err(e) = out::stdout(&text) {
                out::stderr(&format!("error: {e}\n"));
                return ExitCode::from(e.exit_code() as u8);
            }
            return ExitCode::from(exit::OK as u8);
        }
    };
    if cmd::resumable(&cli.command) {
        tuf_ceremony::util::interrupt::install(&tuf_ceremony::util::interrupt::command_line());
    }
    match cmd::run(cli.command) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            out::stderr(&format!("error: {}\n", tuf_ceremony::util::text::for_terminal(&e.to_string())));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
