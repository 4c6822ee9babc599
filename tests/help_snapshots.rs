//! Every `--help` page, as the binary prints it, against its snapshot in
//! tests/snapshots/help/: a change to the command line shows up in review as a change to
//! these files. After an intended change: `TUF_CEREMONY_BLESS=1 cargo test --test
//! help_snapshots` rewrites them (and removes pages of commands that are gone).
//!
//! Also: every page fits 100 columns, every subcommand ends with real examples, and the
//! top-level page lists the exit codes.

mod support;

use clap::{CommandFactory, Parser};
use std::path::PathBuf;
use std::process::Command;
use tuf_ceremony::cli::Cli;

fn snapshot_dir() -> PathBuf {
    support::repo_root().join("tests/snapshots/help")
}

/// Every command path: [], ["plan"], ["plan", "check"], … (clap's own `help` excluded).
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(path.clone());
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            walk(sub, p, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), Vec::new(), &mut out);
    out
}

fn help_of(path: &[String]) -> String {
    let o = Command::new(support::bin()).args(path).arg("--help").env("NO_COLOR", "1").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{path:?} --help: {}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty(), "{path:?} --help wrote to stderr");
    String::from_utf8(o.stdout).unwrap()
}

fn file_name(path: &[String]) -> String {
    let mut n = String::from("tuf-ceremony");
    for p in path {
        n.push('-');
        n.push_str(p);
    }
    n + ".txt"
}

/// The first line where two texts differ, for the failure message.
fn first_difference(want: &str, got: &str) -> String {
    for (i, (a, b)) in want.lines().zip(got.lines()).enumerate() {
        if a != b {
            return format!("line {}:\n  snapshot: {a}\n  binary:   {b}", i + 1);
        }
    }
    format!("the snapshot has {} lines, the binary prints {}", want.lines().count(), got.lines().count())
}

#[test]
fn every_help_page_matches_its_snapshot() {
    let bless = std::env::var_os("TUF_CEREMONY_BLESS").is_some_and(|v| v == "1");
    let dir = snapshot_dir();
    let paths = command_paths();
    assert!(paths.len() >= 17, "the walk found every command: {paths:?}");
    let mut expected = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for path in &paths {
        let name = file_name(path);
        expected.insert(name.clone());
        let got = help_of(path);
        let file = dir.join(&name);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&file, &got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&file) {
            Ok(want) if want == got => {}
            Ok(want) => failures.push(format!("{name}: differs at {}", first_difference(&want, &got))),
            Err(_) => failures.push(format!("{name}: no snapshot")),
        }
    }
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !expected.contains(&name) {
            if bless {
                std::fs::remove_file(e.path()).unwrap();
            } else {
                failures.push(format!("{name}: a snapshot for a command that no longer exists"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "--help differs from tests/snapshots/help/ (review, then TUF_CEREMONY_BLESS=1 cargo test --test help_snapshots):\n{}",
        failures.join("\n")
    );
}

#[test]
fn help_pages_fit_a_screen_and_teach_by_example() {
    for path in command_paths() {
        let text = help_of(&path);
        for line in text.lines() {
            assert!(line.chars().count() <= 100, "{path:?} --help has a line over 100 columns: {line:?}");
        }
        let is_group = Cli::command().get_subcommands().any(|s| path.len() == 1 && s.get_name() == path[0] && s.has_subcommands());
        if !path.is_empty() && !is_group {
            let examples = text.split("\nExamples:\n").nth(1).unwrap_or_else(|| panic!("{path:?} --help has no examples:\n{text}"));
            let first = examples.lines().next().unwrap_or_default();
            let invoked = format!("tuf-ceremony {}", path.join(" "));
            assert!(
                examples.lines().any(|l| l.trim_start().starts_with(&invoked)),
                "{path:?}: an example runs the command itself ({invoked}), first is {first:?}"
            );
        }
    }
    let top = help_of(&[]);
    let codes = top.split("Exit codes:\n").nth(1).expect("the top-level help lists the exit codes");
    for code in ["0 ", "1 ", "2 ", "3 ", "130 "] {
        assert!(codes.lines().any(|l| l.trim_start().starts_with(code)), "exit code {code}missing:\n{codes}");
    }
}

/// The examples are real command lines: each parses (clap accepts its options and values).
#[test]
fn every_example_parses() {
    for path in command_paths() {
        let text = help_of(&path);
        let Some(examples) = text.split("\nExamples:\n").nth(1) else { continue };
        // Join continued lines (ending in a backslash), stop at the next blank line.
        let mut joined = Vec::new();
        let mut cur = String::new();
        for line in examples.lines().take_while(|l| !l.trim().is_empty()) {
            let l = line.trim();
            match l.strip_suffix('\\') {
                Some(head) => {
                    cur.push_str(head.trim_end());
                    cur.push(' ');
                }
                None => {
                    cur.push_str(l);
                    joined.push(std::mem::take(&mut cur));
                }
            }
        }
        for ex in joined {
            // Up to a pipe or redirection, and without the right-hand comment of the top page.
            let cmdline = ex.split(['|', '>']).next().unwrap().split("  ").next().unwrap();
            let words: Vec<&str> = cmdline.split_whitespace().collect();
            assert_eq!(words.first(), Some(&"tuf-ceremony"), "{path:?}: {ex:?}");
            if let Err(e) = Cli::try_parse_from(&words) {
                panic!("{path:?}: the example {ex:?} does not parse:\n{e}");
            }
        }
    }
}
