//! Canonical JSON, proven differentially:
//! * against securesystemslib 1.6.0's `encode_canonical` (the reference python-tuf signs
//!   with), over thousands of random documents full of awkward strings and keys;
//! * against the real olpc-cjson 0.1.4 crate (what tough verifies with): our bytes equal
//!   olpc-cjson's exactly when `olpc::divergences` finds nothing, so the writer's refusal
//!   of tough-incompatible content is neither too weak nor too strict.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use tuf_ceremony::tuf::encode::{canonical, pretty};
use tuf_ceremony::tuf::json::{Value, parse_value};
use tuf_ceremony::tuf::olpc;

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Fragments chosen to hit every documented divergence: prefixes followed by characters
/// below '"', quotes and backslashes, controls, NFD vs NFC, astral and separator characters.
const PIECES: &[&str] = &[
    "a", "b", "foo", "foo bar", " ", "!", "\"", "\\", "#", "\u{1}", "\n", "\t", "\u{7f}", "é", "e\u{301}", "\u{2028}", "😀", "Z", "_", "/", "ﬁ", "Å",
    "A\u{30a}", "0", "~",
];

fn rand_string(r: &mut Rng) -> String {
    (0..r.below(4)).map(|_| PIECES[r.below(PIECES.len() as u64) as usize]).collect()
}

fn rand_value(r: &mut Rng, depth: u32) -> Value {
    match if depth > 3 { r.below(4) } else { r.below(6) } {
        0 => Value::Null,
        1 => Value::Bool(r.below(2) == 1),
        2 => {
            let mag = [0i64, 1, 9, 10, 255, 1 << 31, (1 << 53) - 1][r.below(7) as usize];
            Value::Int(if r.below(2) == 0 { mag } else { -mag })
        }
        3 => Value::Str(rand_string(r)),
        4 => Value::Array((0..r.below(4)).map(|_| rand_value(r, depth + 1)).collect()),
        _ => {
            let mut m = BTreeMap::new();
            for _ in 0..r.below(5) {
                m.insert(rand_string(r), rand_value(r, depth + 1));
            }
            Value::Object(m)
        }
    }
}

fn to_serde(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Str(s) => serde_json::Value::String(s.clone()),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(to_serde).collect()),
        Value::Object(m) => serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), to_serde(v))).collect()),
    }
}

fn olpc_bytes(v: &Value) -> Vec<u8> {
    use serde::Serialize;
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, olpc_cjson::CanonicalFormatter::new());
    to_serde(v).serialize(&mut ser).unwrap();
    buf
}

fn corpus(n: usize, seed: u64) -> Vec<Value> {
    let mut r = Rng(seed);
    (0..n)
        .map(|_| {
            // Wrap in an object so every document has keys to order.
            let mut m = BTreeMap::new();
            for _ in 0..1 + r.below(4) {
                m.insert(rand_string(&mut r), rand_value(&mut r, 0));
            }
            Value::Object(m)
        })
        .collect()
}

#[test]
fn olpc_divergence_detection_is_exact() {
    let (mut same, mut differ) = (0, 0);
    for v in corpus(20000, 0x5eed) {
        let ours = canonical(&v);
        let theirs = olpc_bytes(&v);
        let found = olpc::divergences(&ours);
        assert_eq!(
            ours == theirs,
            found.is_empty(),
            "value {v:?}\nours   {:?}\nolpc   {:?}\nfound {found:?}",
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
        if ours == theirs { same += 1 } else { differ += 1 }
    }
    // Both branches must really be exercised for the equivalence to mean anything.
    assert!(same > 1000 && differ > 1000, "same {same}, differ {differ}");
}

#[test]
fn pretty_encoding_parses_back_to_the_same_value() {
    for v in corpus(5000, 42) {
        assert_eq!(parse_value(&pretty(&v)).unwrap(), v);
    }
}

#[test]
fn canonical_equals_securesystemslib() {
    let Some(py) = support::python() else { return };
    let docs = corpus(5000, 7);
    let mut child =
        Command::new(&py).arg(support::repo_root().join("tests/python/canonical_sslib.py")).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut input = Vec::new();
    for d in &docs {
        // Our pretty form is ASCII-escaped JSON (python's own), one document per line.
        let line: Vec<u8> = pretty(d).into_iter().filter(|&b| b != b'\n').collect();
        input.extend_from_slice(&line);
        input.push(b'\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(lines.len(), docs.len());
    for (d, hex) in docs.iter().zip(lines) {
        let ours = tuf_ceremony::tuf::keys::hex(&canonical(d));
        assert_eq!(ours, hex, "document {d:?}");
    }
}
