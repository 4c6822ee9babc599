//! Text from files, for display. Keyids, hashes, role names, target paths and keyholder
//! names come from metadata or folders anyone can write, so they may hold any Unicode:
//! slicing a `str` at a byte offset inside a character panics ([`prefix`] counts
//! characters), and control characters sent to a terminal can move the cursor, erase or
//! hide what was printed, or reorder it ([`for_terminal`] makes them visible).

use std::borrow::Cow;

/// At most the first `n` characters of `s`.
pub fn prefix(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// `s` with every character that could change how a terminal shows it written as a
/// visible escape (`\u{1b}`): C0 and C1 controls but newline and tab, DEL, and the
/// bidirectional controls ("Trojan Source"). Everything the tool prints for people goes
/// through this, so a hostile name cannot hide or fake what a live-streamed ceremony shows.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    escape(s, |c| (c.is_control() && c != '\n' && c != '\t') || hidden(c))
}

/// The widest line the guided commands print: a ceremony is often live-streamed, and a
/// wider line wraps or is cut off on a stream or a projector.
pub const SCREEN_COLUMNS: usize = 100;

/// `s` (made safe with [`for_terminal`]) with every line longer than `width` characters
/// broken at its last space that fits; a continued line keeps the line's indentation plus
/// two spaces, and the spacing inside each piece (aligned columns) is kept. A single word
/// longer than the width (a long path) stays whole.
pub fn wrap(s: &str, width: usize) -> String {
    wrap_with(s, width, |indent, _| (indent, indent + 2))
}

/// As [`wrap`], for help text laid out in two columns (`  --media <DIR>   Where the …`): a
/// line whose text has a second column (after two or more spaces) is broken only inside
/// that column and continued under it, as a help page reads.
pub fn wrap_help(s: &str, width: usize) -> String {
    wrap_with(s, width, |indent, line| {
        let body = &line[indent..];
        let column = body.find("  ").and_then(|gap| {
            let after = gap + body[gap..].len() - body[gap..].trim_start_matches(' ').len();
            (after < body.len()).then_some(indent + after)
        });
        match column {
            Some(c) if c <= width / 2 => (c, c),
            _ => (indent, indent + 2),
        }
    })
}

/// The line breaker: `layout(indentation, line)` gives (no break before this byte on the
/// first line, the indentation of continued lines).
fn wrap_with(s: &str, width: usize, layout: impl Fn(usize, &str) -> (usize, usize)) -> String {
    let safe = for_terminal(s);
    let mut out = String::with_capacity(safe.len());
    for (i, line) in safe.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let (first_cut_after, cont_indent) = layout(indent, line);
        let cont = " ".repeat(cont_indent);
        let mut rest: &str = line;
        let mut lead = "";
        loop {
            let room = width.saturating_sub(lead.len());
            if rest.chars().count() <= room {
                out.push_str(lead);
                out.push_str(rest);
                break;
            }
            // The last space within the room, after the indentation; else the first one after.
            let limit = rest.char_indices().nth(room).map(|(b, _)| b).unwrap_or(rest.len());
            let start = if lead.is_empty() { first_cut_after } else { 0 };
            let cut = rest[..limit].rfind(' ').filter(|&c| c > start).or_else(|| rest[limit..].find(' ').map(|c| c + limit));
            let Some(cut) = cut else {
                out.push_str(lead);
                out.push_str(rest);
                break;
            };
            out.push_str(lead);
            out.push_str(rest[..cut].trim_end());
            out.push('\n');
            rest = rest[cut..].trim_start();
            lead = &cont;
            if rest.is_empty() {
                out.pop();
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod wrap_tests {
    use super::wrap;

    #[test]
    fn lines_fit_and_keep_their_columns() {
        let line = format!("    alice        keyid {}  ecdsa-p256 — already signed", "ab".repeat(32));
        let w = wrap(&line, 100);
        assert!(w.lines().all(|l| l.chars().count() <= 100), "{w}");
        assert!(w.starts_with("    alice        keyid "), "spacing kept: {w}");
        assert!(w.lines().nth(1).unwrap().starts_with("      "), "continued with the indentation plus two: {w}");
        assert_eq!(w.split_whitespace().collect::<Vec<_>>(), line.split_whitespace().collect::<Vec<_>>(), "no word lost or split");
        let long = format!("Output: /{}", "x".repeat(120));
        assert_eq!(wrap(&long, 100), format!("Output:\n  /{}", "x".repeat(120)), "a long word stays whole");
        assert_eq!(wrap("short\n\nlines", 100), "short\n\nlines");
    }

    #[test]
    fn help_lines_continue_under_their_second_column() {
        let line = format!("      --apart <DIR>      Sign apart instead: {}", "build the same draft and write ".repeat(4));
        let w = super::wrap_help(&line, 100);
        let lines: Vec<&str> = w.lines().collect();
        assert!(lines.len() > 1 && lines.iter().all(|l| l.chars().count() <= 100), "{w}");
        assert!(lines[0].starts_with("      --apart <DIR>      Sign apart"), "{w}");
        let column = lines[0].find("Sign").unwrap();
        assert!(lines[1..].iter().all(|l| l.len() - l.trim_start().len() == column), "continued under the description: {w}");
        assert_eq!(w.split_whitespace().collect::<Vec<_>>(), line.split_whitespace().collect::<Vec<_>>());
        let prose = format!("Audit a folder {}", "of key products ".repeat(10));
        let second = super::wrap_help(&prose, 100).lines().nth(1).unwrap().to_string();
        assert!(second.starts_with("  ") && !second.starts_with("   "), "one column: indentation plus two: {second:?}");
    }
}

/// One value (a file name, a role name, a finding) put into a line of a report: as
/// [`for_terminal`], and line breaks too, so a name cannot start a fake line of its own.
pub fn one_line(s: &str) -> Cow<'_, str> {
    escape(s, |c| c.is_control() || hidden(c) || matches!(c, '\u{2028}' | '\u{2029}'))
}

/// JSON for output: `value` pretty-printed, with every character [`one_line`] would escape
/// (C1 controls, DEL, bidirectional controls, line and paragraph separators; serde_json
/// already escapes C0) written as a `\uXXXX` escape. Still the same JSON value, and safe
/// to show on a terminal or paste into a log.
pub fn json_for_output(value: &serde_json::Value) -> String {
    let raw = serde_json::to_string_pretty(value).unwrap_or_default();
    escape_as(&raw, json_unsafe, |c| format!("\\u{:04x}", c as u32)).into_owned()
}

/// What JSON output escapes and a terminal must not be sent raw.
fn json_unsafe(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\t' | '\r')) || hidden(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Whether `bytes` would do anything to a terminal beyond printing text: control
/// characters other than newline, tab and carriage return, DEL, C1 or bidirectional controls.
pub fn unsafe_for_terminal(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.chars().any(json_unsafe),
        Err(_) => bytes.iter().any(|&b| (b < 0x20 && !matches!(b, b'\n' | b'\t' | b'\r')) || b == 0x7f),
    }
}

/// Characters that change what a terminal shows without being seen: bidirectional
/// controls ("Trojan Source").
pub fn hidden(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(s: &str, bad: impl Fn(char) -> bool) -> Cow<'_, str> {
    escape_as(s, bad, |c| format!("\\u{{{:x}}}", c as u32))
}

/// `s` with every character `bad` says written as `form` makes it.
fn escape_as(s: &str, bad: impl Fn(char) -> bool, form: impl Fn(char) -> String) -> Cow<'_, str> {
    if !s.chars().any(&bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if bad(c) {
            out.push_str(&form(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{for_terminal, prefix};

    #[test]
    fn json_output_escapes_c1_and_bidi_controls_and_stays_the_same_value() {
        let v = serde_json::json!({"file": "a\u{85}b\u{202e}c\u{2028}d\u{7f}", "plain": "é 中"});
        let out = super::json_for_output(&v);
        assert!(out.contains("a\\u0085b\\u202ec\\u2028d\\u007f") && out.contains("é 中"), "{out}");
        assert!(!out.chars().any(|c| matches!(c, '\u{85}' | '\u{202e}' | '\u{2028}' | '\u{7f}')));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), v);
    }

    #[test]
    fn one_value_stays_on_one_line() {
        assert_eq!(super::one_line("x\n  OK fake\tline\u{2028}"), "x\\u{a}  OK fake\\u{9}line\\u{2028}");
        assert!(matches!(super::one_line("1.root.json"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert!(matches!(for_terminal("alice\tbob\nline two, é 中"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(for_terminal("alice\u{1b}[8m hidden"), "alice\\u{1b}[8m hidden");
        assert_eq!(for_terminal("a\rb\u{7f}\u{9b}c"), "a\\u{d}b\\u{7f}\\u{9b}c");
        assert_eq!(for_terminal("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(for_terminal("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
    }

    #[test]
    fn prefix_counts_characters_not_bytes() {
        assert_eq!(prefix("0123456789abcdef0123", 16), "0123456789abcdef");
        assert_eq!(prefix("abc", 16), "abc");
        assert_eq!(prefix("", 8), "");
        // Byte 16 falls inside a character here; slicing there would panic.
        let s = format!("a{}", "é".repeat(20));
        assert_eq!(prefix(&s, 16), format!("a{}", "é".repeat(15)));
        assert_eq!(prefix("€€€", 2), "€€");
    }
}
