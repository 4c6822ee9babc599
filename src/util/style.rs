//! Colour, for people at a terminal only. A report is written as text with a tone per line
//! (chosen by the report from what it knows, never from what a file says); the edge makes
//! each line safe for a terminal first ([`super::text::for_terminal`]) and only then wraps
//! it in colour, so no byte of a file can ever become an escape sequence. Colour is off when
//! standard output is not a terminal (a pipe, a file, a test), when `NO_COLOR` is set to
//! anything but the empty string, UTF-8 or not (<https://no-color.org>), and when `TERM`
//! is `dumb`.

use std::ffi::OsStr;
use std::fmt;
use std::io::IsTerminal;

/// How a line is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Plain,
    /// A check passed.
    Good,
    /// Needs attention soon (a warning, a signing window).
    Warn,
    /// A check failed.
    Bad,
}

impl Tone {
    fn sgr(self) -> Option<&'static str> {
        match self {
            Tone::Plain => None,
            Tone::Good => Some("\x1b[32m"),
            Tone::Warn => Some("\x1b[33m"),
            Tone::Bad => Some("\x1b[1;31m"),
        }
    }
}

/// Whether colour is wanted, from the three facts above. The variables are taken as the
/// environment holds them (any bytes): `NO_COLOR` set to anything not empty, even bytes
/// that are not UTF-8, turns colour off.
pub fn colour_wanted(stdout_is_terminal: bool, no_color: Option<&OsStr>, term: Option<&OsStr>) -> bool {
    stdout_is_terminal && no_color.is_none_or(OsStr::is_empty) && term.is_none_or(|t| t != "dumb")
}

/// Whether this process may colour its standard output.
pub fn colour_on_stdout() -> bool {
    let no_color = std::env::var_os("NO_COLOR");
    let term = std::env::var_os("TERM");
    colour_wanted(std::io::stdout().is_terminal(), no_color.as_deref(), term.as_deref())
}

/// Text built line by line with `write!`/`writeln!`, where [`Toned::tone`] sets the tone of
/// the lines that follow.
#[derive(Default)]
pub struct Toned {
    text: String,
    /// (byte offset where a tone starts, tone), in order.
    marks: Vec<(usize, Tone)>,
}

impl Toned {
    pub fn new() -> Self {
        Self::default()
    }

    /// The lines written from now on have this tone (until the next call).
    pub fn tone(&mut self, t: Tone) {
        self.marks.push((self.text.len(), t));
    }

    /// The plain text (what files, pipes and tests get).
    pub fn into_string(self) -> String {
        self.text
    }

    /// Made safe for a terminal line by line; coloured when `colour` is true.
    pub fn render(&self, colour: bool) -> String {
        let mut out = String::with_capacity(self.text.len() + 16 * self.marks.len());
        let mut offset = 0;
        for piece in self.text.split_inclusive('\n') {
            let tone = self.marks.iter().take_while(|(at, _)| *at <= offset).last().map_or(Tone::Plain, |(_, t)| *t);
            offset += piece.len();
            let (line, nl) = piece.strip_suffix('\n').map_or((piece, ""), |l| (l, "\n"));
            let safe = super::text::for_terminal(line);
            match tone.sgr().filter(|_| colour && !line.trim().is_empty()) {
                Some(on) => {
                    out.push_str(on);
                    out.push_str(&safe);
                    out.push_str("\x1b[0m");
                }
                None => out.push_str(&safe),
            }
            out.push_str(nl);
        }
        out
    }
}

impl From<String> for Toned {
    /// Text with no tones: plain throughout.
    fn from(text: String) -> Self {
        Toned { text, marks: Vec::new() }
    }
}

impl fmt::Write for Toned {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.text.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write;

    #[test]
    fn no_color_and_dumb_terminals_and_pipes_get_no_colour() {
        let os = |s: &'static str| Some(OsStr::new(s));
        assert!(colour_wanted(true, None, os("xterm-256color")));
        assert!(colour_wanted(true, os(""), None), "an empty NO_COLOR does not count (no-color.org)");
        assert!(!colour_wanted(true, os("1"), os("xterm")));
        assert!(!colour_wanted(true, None, os("dumb")));
        assert!(!colour_wanted(false, None, os("xterm")));
    }

    #[test]
    fn no_color_set_to_bytes_that_are_not_utf8_still_turns_colour_off() {
        use std::os::unix::ffi::OsStrExt;
        let odd = OsStr::from_bytes(b"\xff\xfe");
        assert!(!colour_wanted(true, Some(odd), Some(OsStr::new("xterm"))), "set and not empty, whatever its bytes");
        // A TERM that is not UTF-8 is not `dumb`.
        assert!(colour_wanted(true, None, Some(odd)));
    }

    #[test]
    fn tones_apply_to_their_lines_and_file_bytes_never_become_escapes() {
        let mut t = Toned::new();
        let _ = writeln!(t, "title");
        t.tone(Tone::Bad);
        let _ = writeln!(t, "error role \x1b[32mfake-green");
        t.tone(Tone::Plain);
        let _ = write!(t, "end");
        let plain = t.render(false);
        assert!(!plain.contains('\x1b'), "{plain:?}");
        assert_eq!(plain.lines().count(), 3);
        let coloured = t.render(true);
        let lines: Vec<&str> = coloured.lines().collect();
        assert_eq!(lines[0], "title");
        assert!(lines[1].starts_with("\x1b[1;31merror role ") && lines[1].ends_with("\x1b[0m"), "{coloured:?}");
        assert_eq!(lines[1].matches('\x1b').count(), 2, "only the tool's own two sequences: {coloured:?}");
        assert_eq!(lines[2], "end");
        assert_eq!(t.into_string().lines().nth(1), Some("error role \x1b[32mfake-green"));
    }
}
