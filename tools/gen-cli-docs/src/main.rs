//! Writes tuf-ceremony's man pages (one per command and subcommand) and its bash, zsh and fish
//! completions from the very clap definitions the binary parses with (`src/cli.rs`).
//!
//! `gen-cli-docs OUTDIR [--date YYYY-MM-DD]` creates `OUTDIR/man/tuf-ceremony.1`,
//! `OUTDIR/man/tuf-ceremony-plan-check.1`, … and `OUTDIR/completions/tuf-ceremony.bash`,
//! `_tuf-ceremony` (zsh), `tuf-ceremony.fish`. The output depends only on `src/cli.rs`, the
//! version in the top-level `Cargo.toml` and `--date` (scripts/release.sh passes the commit's
//! date), so a release rebuilds it byte for byte.

#[allow(dead_code)]
#[path = "../../../src/cli.rs"]
mod cli;

use clap::CommandFactory;
use clap_complete::Shell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const NAME: &str = "tuf-ceremony";

fn main() -> ExitCode {
    let (out, date) = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}\nusage: gen-cli-docs OUTDIR [--date YYYY-MM-DD]");
            return ExitCode::from(2);
        }
    };
    match generate(&out, date.as_deref()) {
        Ok(n) => {
            println!("{n} man pages and 3 completions in {}", out.display());
            ExitCode::SUCCESS
        }
        Err((path, e)) => {
            eprintln!("error: {}: {e}", path.display());
            ExitCode::from(1)
        }
    }
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(PathBuf, Option<String>), String> {
    let mut out = None;
    let mut date = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--date" => {
                let d = args.next().ok_or("--date needs a value")?;
                let ok = d.len() == 10 && d.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
                if !ok {
                    return Err(format!("--date {d:?}: expected YYYY-MM-DD"));
                }
                date = Some(d);
            }
            _ if a.starts_with('-') => return Err(format!("unknown option {a}")),
            _ if out.is_none() => out = Some(PathBuf::from(a)),
            _ => return Err(format!("unexpected argument {a}")),
        }
    }
    Ok((out.ok_or("OUTDIR is missing")?, date))
}

/// The version of tuf-ceremony itself (not this generator's): `version` under `[package]`
/// in the top-level Cargo.toml.
fn tool_version() -> Option<&'static str> {
    let manifest = include_str!("../../../Cargo.toml");
    let package = manifest.split("\n[").find(|s| s.starts_with("[package]") || s.starts_with("package]"))?;
    package.lines().find_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"'))
}

type Failure = (PathBuf, std::io::Error);

fn generate(out: &Path, date: Option<&str>) -> Result<usize, Failure> {
    let manifest = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"));
    let no_version = || (manifest.to_path_buf(), std::io::Error::other("no version under [package]"));
    let version = tool_version().ok_or_else(no_version)?;
    let mut cmd = cli::Cli::command().version(version).disable_help_subcommand(true);
    cmd.build();

    let man = out.join("man");
    std::fs::create_dir_all(&man).map_err(|e| (man.clone(), e))?;
    let mut pages = 0;
    write_pages(&cmd, &man, version, date.unwrap_or(""), &mut pages)?;

    let completions = out.join("completions");
    std::fs::create_dir_all(&completions).map_err(|e| (completions.clone(), e))?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let path = clap_complete::generate_to(shell, &mut cmd, NAME, &completions).map_err(|e| (completions.clone(), e))?;
        if shell == Shell::Bash {
            let script = std::fs::read_to_string(&path).map_err(|e| (path.clone(), e))?;
            std::fs::write(&path, fix_bash(&script)).map_err(|e| (path.clone(), e))?;
        }
    }
    Ok(pages)
}

/// clap_complete 4.6.12 spells a hyphenated program's states two ways in bash: the loop over
/// the words sets `tuf__ceremony__subcmd__plan`, the arms match `tuf__subcmd__ceremony__subcmd__plan`,
/// so nothing after a subcommand completes (clap-rs/clap#6421, open). Spell the arms as the
/// loop does; once clap_complete is fixed this replaces nothing.
fn fix_bash(script: &str) -> String {
    let escaped = |sep: &str| NAME.replace('-', sep);
    script.replace(&format!("{}__subcmd__", escaped("__subcmd__")), &format!("{}__subcmd__", escaped("__")))
}

/// One page per command, named by its path (`tuf-ceremony-plan-check.1`), each carrying the
/// tool's version: clap gives subcommands no version of their own.
fn write_pages(cmd: &clap::Command, dir: &Path, version: &str, date: &str, pages: &mut usize) -> Result<(), Failure> {
    let man = clap_mangen::Man::new(cmd.clone()).date(date).source(format!("{NAME} {version}")).manual("tuf-ceremony manual");
    let path = dir.join(man.get_filename());
    let mut bytes = Vec::new();
    man.render(&mut bytes).map_err(|e| (path.clone(), e))?;
    std::fs::write(&path, bytes).map_err(|e| (path.clone(), e))?;
    *pages += 1;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, version, date, pages)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn bash_arms_are_spelled_as_the_loop_spells_them() {
        let broken = "cmd=\"tuf__ceremony__subcmd__plan\"\n        tuf__subcmd__ceremony__subcmd__plan)\n        tuf__ceremony)";
        let fixed = super::fix_bash(broken);
        assert_eq!(fixed, "cmd=\"tuf__ceremony__subcmd__plan\"\n        tuf__ceremony__subcmd__plan)\n        tuf__ceremony)");
    }

    #[test]
    fn the_version_is_the_tools() {
        let v = super::tool_version().unwrap();
        assert!(!v.is_empty() && v.chars().next().is_some_and(|c| c.is_ascii_digit()), "{v:?}");
        assert_ne!(v, env!("CARGO_PKG_VERSION"), "read the generator's own version");
    }
}
