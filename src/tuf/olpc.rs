//! Where tough's canonical JSON (olpc-cjson 0.1.4) would produce other bytes than ours.
//!
//! tough re-encodes `signed` with olpc-cjson before verifying, and that encoder differs from
//! securesystemslib's in two ways (tuf-format.md §2.3): it NFC-normalises every string, and
//! it sorts object members by their *escaped, quoted* key bytes, so a key that is a prefix
//! of a sibling followed by a character below `"` (space, `!`, controls), or a key holding
//! `"`, lands elsewhere. Any such content verifies in python-tuf and go-tuf and fails in
//! tough. This module finds it in canonical bytes, with the JSON path, so the writer can
//! refuse it and the auditor can report it. It is proven against the real olpc-cjson crate
//! in tests/canonical_differential.rs.

use super::json::JsonPath;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// One place where olpc-cjson's bytes differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OlpcIssue {
    /// A string (or key) that NFC normalisation changes.
    NotNfc(String),
    /// Two sibling keys that olpc-cjson orders the other way round.
    KeyOrder(String, String),
}

/// Whether `piece` (any part of canonical JSON) is ASCII without a byte that could make
/// olpc-cjson order keys differently: a document made only of such pieces cannot diverge.
/// One vectorisable pass; `divergences` starts with it, and `stream` runs it per piece.
pub fn plainly_same(piece: &[u8]) -> bool {
    // A `\"` escape needs a backslash, so documents without control characters, space,
    // '!' or '\\' cannot diverge in order (the walker in `divergences` decides the rest).
    piece.is_ascii() && !order_suspect(piece)
}

fn order_suspect(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |acc, &b| acc | u8::from(b < 0x22) | u8::from(b == b'\\')) != 0
}

/// Lists every divergence in `canonical` (canonical JSON as produced by `encode::canonical`).
pub fn divergences(canonical: &[u8]) -> Vec<(JsonPath, OlpcIssue)> {
    let ascii = canonical.is_ascii();
    let order_suspect = order_suspect(canonical);
    if ascii && !order_suspect {
        return Vec::new();
    }
    if !order_suspect {
        // Quick whole-document check: string boundaries are `"`, a starter that never
        // composes, so the document is NFC exactly when every string is.
        if let Ok(text) = std::str::from_utf8(canonical)
            && is_nfc(text)
        {
            return Vec::new();
        }
    }
    let mut w = Walker { s: canonical, pos: 0, out: Vec::new() };
    w.value(&JsonPath::root());
    w.out
}

fn is_nfc(s: &str) -> bool {
    match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => true,
        IsNormalized::No => false,
        IsNormalized::Maybe => s.nfc().eq(s.chars()),
    }
}

/// The bytes olpc-cjson sorts a key by: escaped NFC text followed by the closing quote.
fn olpc_sort_key(k: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(k.len() + 1);
    for c in k.nfc() {
        if c == '"' || c == '\\' {
            v.push(b'\\');
        }
        let mut buf = [0u8; 4];
        v.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    v.push(b'"');
    v
}

/// A minimal walker over canonical JSON (raw control characters allowed in strings, only
/// `\"` and `\\` escapes); input comes from our own encoder, so malformed input just stops.
struct Walker<'a> {
    s: &'a [u8],
    pos: usize,
    out: Vec<(JsonPath, OlpcIssue)>,
}

impl Walker<'_> {
    fn value(&mut self, path: &JsonPath) {
        match self.s.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                let mut keys: Vec<String> = Vec::new();
                while let Some(&b) = self.s.get(self.pos) {
                    match b {
                        b'}' => {
                            self.pos += 1;
                            break;
                        }
                        b',' => self.pos += 1,
                        b'"' => {
                            let k = self.string();
                            let p = path.clone().key(k.as_str());
                            if !is_nfc(&k) {
                                self.out.push((p.clone(), OlpcIssue::NotNfc(k.clone())));
                            }
                            self.pos += 1; // ':'
                            self.value(&p);
                            keys.push(k);
                        }
                        _ => return,
                    }
                }
                for pair in keys.windows(2) {
                    if olpc_sort_key(&pair[0]) > olpc_sort_key(&pair[1]) {
                        self.out.push((path.clone(), OlpcIssue::KeyOrder(pair[0].clone(), pair[1].clone())));
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut i = 0;
                while let Some(&b) = self.s.get(self.pos) {
                    match b {
                        b']' => {
                            self.pos += 1;
                            break;
                        }
                        b',' => self.pos += 1,
                        _ => {
                            let before = self.pos;
                            self.value(&path.clone().index(i));
                            i += 1;
                            if self.pos == before {
                                return;
                            }
                        }
                    }
                }
            }
            Some(b'"') => {
                let v = self.string();
                if !is_nfc(&v) {
                    self.out.push((path.clone(), OlpcIssue::NotNfc(v)));
                }
            }
            Some(_) => {
                while let Some(&b) = self.s.get(self.pos) {
                    if b == b',' || b == b']' || b == b'}' {
                        break;
                    }
                    self.pos += 1;
                }
            }
            None => {}
        }
    }

    fn string(&mut self) -> String {
        self.pos += 1;
        let mut out = Vec::new();
        while let Some(&b) = self.s.get(self.pos) {
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(&e) = self.s.get(self.pos) {
                        out.push(e);
                        self.pos += 1;
                    }
                }
                _ => out.push(b),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_documented_cases() {
        assert!(divergences(br#"{"a":1,"b":[1,"x"]}"#).is_empty());
        let d = divergences(br#"{"targets":{"foo":1,"foo bar":2}}"#);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].0.to_string(), "$.targets");
        assert!(!divergences(br#"{"a":1,"a!":2}"#).is_empty());
        assert!(!divergences(br#"{"a\"":1,"a#":2}"#).is_empty());
        let nfd = "{\"p\":\"e\u{301}\"}";
        assert_eq!(divergences(nfd.as_bytes()), vec![(JsonPath::root().key("p"), OlpcIssue::NotNfc("e\u{301}".into()))]);
        assert!(divergences("{\"p\":\"\u{e9}\"}".as_bytes()).is_empty());
    }
}
