//! Checking a hash a person typed: 64 hex digits, or the 32 PGP words of the hash.
//!
//! What a person can really do: listen to a coordinator reading the hash over the phone (or
//! read it from a message on another device) and type it. Hex is easy to mishear and
//! mistype; PGP words are easy to hear and type, and their two alternating lists catch a
//! skipped, doubled or swapped word. So both forms are accepted, case and spacing ignored,
//! and a mismatch says *where* (which word, which hex digit) so a typo can be fixed —
//! without ever showing the expected value, which would turn the check into copying.

use crate::util::pgpwords::{EVEN, ODD};

/// Why a typed hash was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Mismatch(pub String);

fn lookup(list: &[&str; 256], w: &str) -> Option<u8> {
    list.iter().position(|x| x.eq_ignore_ascii_case(w)).map(|i| i as u8)
}

/// Checks `typed` against `expected` (the raw digest bytes).
pub fn check(typed: &str, expected: &[u8]) -> Result<(), Mismatch> {
    let compact: String = typed.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    if compact.is_empty() {
        return Err(Mismatch("nothing was typed".into()));
    }
    if compact.chars().all(|c| c.is_ascii_hexdigit()) {
        let want = expected.len() * 2;
        if compact.len() != want {
            return Err(Mismatch(format!("{} hex digits typed; the hash has {want}", compact.len())));
        }
        let exp = crate::tuf::keys::hex(expected);
        return match compact.to_ascii_lowercase().chars().zip(exp.chars()).position(|(a, b)| a != b) {
            None => Ok(()),
            Some(i) => Err(Mismatch(format!("hex digit {} (counting from 1) differs", i + 1))),
        };
    }
    let words: Vec<&str> = typed.split(|c: char| c.is_whitespace() || c == ',' || c == '-').filter(|w| !w.is_empty()).collect();
    if words.len() != expected.len() {
        return Err(Mismatch(format!("{} words typed; the hash has {} PGP words (or {} hex digits)", words.len(), expected.len(), expected.len() * 2)));
    }
    for (i, (w, &b)) in words.iter().zip(expected).enumerate() {
        let (own, other) = if i % 2 == 0 { (&EVEN, &ODD) } else { (&ODD, &EVEN) };
        match lookup(own, w) {
            Some(v) if v == b => {}
            Some(_) => return Err(Mismatch(format!("word {} ({w:?}) differs", i + 1))),
            None if lookup(other, w).is_some() => {
                return Err(Mismatch(format!(
                    "word {} ({w:?}) belongs at an {} position: a word was skipped or doubled before it",
                    i + 1,
                    if i % 2 == 0 { "odd" } else { "even" }
                )));
            }
            None => return Err(Mismatch(format!("word {} ({w:?}) is not a PGP word: a typo?", i + 1))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::pgpwords::phrase;

    #[test]
    fn accepts_hex_and_words_in_any_case() {
        let h: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37)).collect();
        let hex = crate::tuf::keys::hex(&h);
        assert_eq!(check(&hex, &h), Ok(()));
        assert_eq!(check(&hex.to_uppercase(), &h), Ok(()));
        let spaced: String = hex.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" ");
        assert_eq!(check(&spaced, &h), Ok(()));
        assert_eq!(check(&phrase(&h), &h), Ok(()));
        assert_eq!(check(&phrase(&h).to_lowercase(), &h), Ok(()));
        assert_eq!(check(&format!("  {}\n", phrase(&h).replace(' ', "  ")), &h), Ok(()));
    }

    #[test]
    fn says_where_without_revealing() {
        let h = [0u8; 32];
        let mut w: Vec<String> = phrase(&h).split(' ').map(String::from).collect();
        w[5] = EVEN[1].to_string();
        let e = check(&w.join(" "), &h).unwrap_err().0;
        assert!(e.contains("word 6") && e.contains("skipped"), "{e}");
        w[5] = ODD[1].to_string();
        assert!(check(&w.join(" "), &h).unwrap_err().0.contains("word 6"));
        w[5] = "aardvarc".into();
        assert!(check(&w.join(" "), &h).unwrap_err().0.contains("not a PGP word"));
        w.pop();
        assert!(check(&w.join(" "), &h).unwrap_err().0.contains("31 words"));
        let mut hex = "0".repeat(64);
        hex.replace_range(10..11, "1");
        assert!(check(&hex, &h).unwrap_err().0.contains("hex digit 11"));
        assert!(check("abc", &h).unwrap_err().0.contains("3 hex digits"));
        assert!(check("", &h).is_err());
    }
}
