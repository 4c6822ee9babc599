//! Hashed bins (PEP 458): a `bins` role delegating to N bin roles by `path_hash_prefixes`.
//!
//! Naming and prefix layout follow python-tuf's `hashed_bin_delegation.py` example and
//! Warehouse's `HashBins`: prefix length `L = len(hex(N-1))`, `16^L` prefixes split evenly,
//! bin names `"{low:0L x}-{high:0L x}"` (or the single prefix when a bin holds one). A
//! target belongs to the bin whose prefix starts `sha256(path)` in lowercase hex. Explicit
//! `roles` are used rather than TAP 15 `succinct_roles`, which tough cannot parse.

use super::keys::hex;
use super::metadata::{DelegatedRole, PathSpec, SuccinctRoles};
use sha2::{Digest, Sha256};

/// The largest bin count PEP 458 asks for.
pub const MAX_BINS: u32 = 16384;

/// A hashed-bin layout for a power-of-two number of bins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashBins {
    count: u32,
    prefix_len: usize,
    per_bin: u32,
}

impl HashBins {
    /// `count` must be a power of two from 1 to 16384.
    pub fn new(count: u32) -> Result<Self, String> {
        if count == 0 || !count.is_power_of_two() || count > MAX_BINS {
            return Err(format!("bin count must be a power of two from 1 to {MAX_BINS}, not {count}"));
        }
        let prefix_len = format!("{:x}", count - 1).len();
        let prefixes = 16u32.pow(prefix_len as u32);
        Ok(HashBins { count, prefix_len, per_bin: prefixes / count })
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    fn prefix(&self, n: u32) -> String {
        format!("{:0width$x}", n, width = self.prefix_len)
    }

    /// Name of bin `i` (0-based).
    pub fn name(&self, i: u32) -> String {
        let low = i * self.per_bin;
        let high = low + self.per_bin - 1;
        if self.per_bin == 1 { self.prefix(low) } else { format!("{}-{}", self.prefix(low), self.prefix(high)) }
    }

    /// Prefixes of bin `i`.
    pub fn prefixes(&self, i: u32) -> Vec<String> {
        let low = i * self.per_bin;
        (low..low + self.per_bin).map(|p| self.prefix(p)).collect()
    }

    /// Which bin a target path falls into.
    pub fn bin_for(&self, target_path: &str) -> u32 {
        let digest = Sha256::digest(target_path.as_bytes());
        let head = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        // The first prefix_len hex digits, as a number, divided into bins.
        let prefix_val = head >> (32 - 4 * self.prefix_len as u32);
        prefix_val / self.per_bin
    }

    /// The delegated role entries for every bin, all signed by `keyids`/`threshold`.
    /// Bins are non-terminating, as in python-tuf's example.
    pub fn roles(&self, keyids: &[String], threshold: u64) -> Vec<DelegatedRole> {
        (0..self.count)
            .map(|i| DelegatedRole {
                name: self.name(i),
                keyids: keyids.to_vec(),
                threshold,
                terminating: Some(false),
                paths: PathSpec::HashPrefixes(self.prefixes(i)),
                extra: Default::default(),
            })
            .collect()
    }
}

/// Lowercase hex sha256 of a target path (what `path_hash_prefixes` match against).
pub fn path_hash(target_path: &str) -> String {
    hex(&Sha256::digest(target_path.as_bytes()))
}

/// Bin role names of a TAP 15 `succinct_roles` object.
pub fn succinct_role_names(s: &SuccinctRoles) -> impl Iterator<Item = String> + '_ {
    let bits = s.bit_length.clamp(1, 32) as u32;
    let count: u64 = 1u64 << bits;
    let width = format!("{:x}", count - 1).len();
    (0..count).map(move |i| format!("{}-{:0width$x}", s.name_prefix, i, width = width))
}

/// Whether `name` is one of a TAP 15 succinct delegation's bins (without listing them all).
pub fn in_succinct(s: &crate::tuf::metadata::SuccinctRoles, name: &str) -> bool {
    let bits = s.bit_length.clamp(1, 32) as u32;
    let count: u64 = 1u64 << bits;
    let width = format!("{:x}", count - 1).len();
    let Some(suffix) = name.strip_prefix(s.name_prefix.as_str()).and_then(|r| r.strip_prefix('-')) else { return false };
    suffix.len() == width
        && suffix.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && u64::from_str_radix(suffix, 16).is_ok_and(|v| v < count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_tuf_naming() {
        let b = HashBins::new(16384).unwrap();
        assert_eq!(b.name(0), "0000-0003");
        assert_eq!(b.name(16383), "fffc-ffff");
        assert_eq!(b.prefixes(1), vec!["0004", "0005", "0006", "0007"]);
        let b = HashBins::new(16).unwrap();
        assert_eq!(b.name(10), "a");
        let b = HashBins::new(32).unwrap();
        assert_eq!(b.name(0), "00-07");
        let b = HashBins::new(1).unwrap();
        assert_eq!(b.name(0), "0-f");
        assert!(HashBins::new(3).is_err());
        assert!(HashBins::new(32768).is_err());
        assert!(HashBins::new(0).is_err());
    }

    #[test]
    fn target_lands_in_the_bin_whose_prefix_matches() {
        for n in [1, 2, 16, 256, 1024, 16384] {
            let b = HashBins::new(n).unwrap();
            for path in ["a", "files/hello.txt", "django/Django-4.2.tar.gz", "é"] {
                let i = b.bin_for(path);
                let h = path_hash(path);
                assert!(b.prefixes(i).iter().any(|p| h.starts_with(p.as_str())), "{n} {path}");
            }
        }
    }
}
