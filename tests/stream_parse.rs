//! The one-pass path (`tuf::stream`: canonical bytes tapped from the parser and hashed on a
//! second thread) gives exactly what the plain path gives (parse, encode the model, check)
//! on every metadata fixture, in every piece size, in both member orders, with keys out of
//! canonical order, and after tampering.

mod support;

use std::path::{Path, PathBuf};
use tuf_ceremony::tuf::json::{Value, parse_value};
use tuf_ceremony::tuf::metadata::{Metadata, Mode, Root, Signature, Targets};
use tuf_ceremony::tuf::stream::{Checked, parse_checked_in_pieces};
use tuf_ceremony::tuf::verify::{PendingThreshold, pending_delegated, pending_top_level};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel)
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Who checks a file: a root (for top-level roles) or a delegator.
enum By {
    Root(Root),
    Delegator(Targets, String),
}

fn plan<'a>(by: &'a By, role: &'a str, lenient: bool) -> impl Fn(&[Signature]) -> Option<PendingThreshold> + Sync + 'a {
    move |sigs| match by {
        By::Root(root) => pending_top_level(root, role, sigs, lenient),
        By::Delegator(t, name) => pending_delegated(t, name, sigs, lenient),
    }
}

/// Runs every path on `doc` and requires the same outcome; returns it.
/// `sorted`: whether the file's keys are in canonical order (then the one-pass path must
/// be taken), `None` when not known.
fn same_on_every_path(what: &str, doc: &[u8], mode: Mode, by: &By, role: &str, sorted: Option<bool>) -> Option<Checked> {
    let lenient = mode == Mode::Lenient;
    let plain = match parse_checked_in_pieces(doc, mode, plan(by, role, lenient), None) {
        Ok(c) => c,
        Err(e) => {
            for piece in [1, 64, 4096] {
                let err = parse_checked_in_pieces(doc, mode, plan(by, role, lenient), Some(piece)).unwrap_err();
                assert_eq!(err, e, "{what}: same error in pieces of {piece}");
            }
            return None;
        }
    };
    assert!(!plain.one_pass);
    for piece in [1, 7, 64, 4096, 1 << 20] {
        let c = parse_checked_in_pieces(doc, mode, plan(by, role, lenient), Some(piece)).unwrap();
        // Files whose keys are in canonical order take the one-pass path; others fall back.
        if let Some(sorted) = sorted {
            assert_eq!(c.one_pass, sorted, "{what}: path taken, pieces of {piece}");
        }
        assert_eq!(c.md, plain.md, "{what}: model, pieces of {piece}");
        assert_eq!(c.check, plain.check, "{what}: signature check, pieces of {piece}");
        assert_eq!(c.olpc_plain, plain.olpc_plain, "{what}: olpc verdict, pieces of {piece}");
    }
    Some(plain)
}

/// Writes a JSON value with every object's members in reverse (non-canonical) order.
fn reversed(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let members: Vec<String> = m.iter().rev().map(|(k, v)| format!("{}:{}", Value::Str(k.clone()).to_json(), reversed(v))).collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(reversed).collect::<Vec<_>>().join(",")),
        other => other.to_json(),
    }
}

trait ToJsonText {
    fn to_json(&self) -> String;
}
impl ToJsonText for Value {
    fn to_json(&self) -> String {
        String::from_utf8(tuf_ceremony::tuf::encode::pretty(self)).unwrap()
    }
}

/// The file's variants: as published, `signed` first, keys reversed, and a bumped version.
fn variants(doc: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let Value::Object(top) = parse_value(doc).unwrap() else { panic!("not an object") };
    let (signed, sigs) = (&top["signed"], &top["signatures"]);
    let signed_first = format!("{{\"signed\": {}, \"signatures\": {}}}", signed.to_json(), sigs.to_json());
    let out_of_order = format!("{{\"signatures\": {}, \"signed\": {}}}", sigs.to_json(), reversed(signed));
    let text = String::from_utf8(doc.to_vec()).unwrap();
    let v = match &signed {
        Value::Object(m) => match m["version"] {
            Value::Int(v) => v,
            _ => panic!("version"),
        },
        _ => panic!("signed"),
    };
    let bumped = text.replacen(&format!("\"version\": {v}"), &format!("\"version\": {}", v + 1), 1);
    assert_ne!(bumped, text, "the version is found in the file");
    vec![
        ("as published", doc.to_vec()),
        ("signed first", signed_first.into_bytes()),
        ("keys reversed", out_of_order.into_bytes()),
        ("version bumped", bumped.into_bytes()),
    ]
}

/// `sorted`: whether the published file has its keys in canonical order (python-tuf's
/// files do; Sigstore's, written in struct order, do not).
fn check_file(label: &str, doc: &[u8], mode: Mode, by: &By, role: &str, sorted: bool) {
    for (variant, bytes) in variants(doc) {
        let what = format!("{label} ({variant})");
        let expect = match variant {
            "keys reversed" => false,
            "signed first" => true, // re-encoded sorted
            _ => sorted,
        };
        let Some(c) = same_on_every_path(&what, &bytes, mode, by, role, Some(expect)) else { continue };
        let check = c.check.unwrap_or_else(|| panic!("{what}: no threshold for {role}"));
        if variant == "version bumped" {
            assert_eq!(check.valid(), 0, "{what}: a changed file verifies with no key");
        } else {
            assert!(check.valid() > 0, "{what}: {check:?}");
        }
    }
}

#[test]
fn python_tuf_vectors_check_the_same_on_every_path() {
    let root_doc = read(&fixture("tuf-vectors/1.root.json"));
    let root = Metadata::from_bytes(&root_doc, Mode::Strict).unwrap().signed.as_root().unwrap().clone();
    let targets_doc = read(&fixture("tuf-vectors/1.targets.json"));
    let targets = Metadata::from_bytes(&targets_doc, Mode::Strict).unwrap().signed.as_targets().unwrap().clone();
    let by_root = By::Root(root);
    for (file, role) in [("1.root.json", "root"), ("1.targets.json", "targets"), ("1.snapshot.json", "snapshot"), ("timestamp.json", "timestamp")] {
        check_file(file, &read(&fixture(&format!("tuf-vectors/{file}"))), Mode::Strict, &by_root, role, true);
    }
    let projects = By::Delegator(targets.clone(), "projects".into());
    check_file("1.projects.json", &read(&fixture("tuf-vectors/1.projects.json")), Mode::Strict, &projects, "projects", true);
}

#[test]
fn sigstore_roots_check_the_same_on_every_path() {
    let Some(_) = support::shared_real() else { return };
    // Each root checked by its own keys (the self-signature half of a rotation); 1–4 need
    // the lenient reader (hex ECDSA keys). 5–8 have `signed` in struct order, not sorted
    // (found with Python's json object_pairs_hook, independently of this code).
    for n in 1..=15 {
        let sorted = !(5..=8).contains(&n);
        let doc = read(&support::real(&format!("sigstore-root-chain/{n}.root.json")));
        let mode = if n <= 4 { Mode::Lenient } else { Mode::Strict };
        let root = Metadata::from_bytes(&doc, mode).unwrap().signed.as_root().unwrap().clone();
        check_file(&format!("sigstore {n}.root.json"), &doc, mode, &By::Root(root), "root", sorted);
    }
}
