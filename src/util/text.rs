//! Shortening text from files for display: keyids, hashes and names come from metadata
//! or folders anyone can write, so they may hold any Unicode, and slicing a `str` at a
//! byte offset inside a character panics.

/// At most the first `n` characters of `s`.
pub fn prefix(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::prefix;

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
