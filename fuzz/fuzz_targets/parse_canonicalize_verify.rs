//! Parse arbitrary bytes as TUF metadata (strict and lenient), and for everything that
//! parses: canonicalize, re-read the pretty encoding (it must give an equal model and the
//! same canonical bytes), run the writer rules, the olpc-cjson divergence finder (checked
//! differentially against the real olpc-cjson crate), the checked writer, and verify the
//! signatures of a root against itself. The one-pass reader (`tuf::stream`: canonical bytes
//! tapped while parsing, hashed on a second thread) must agree with the plain path on every
//! input. Any panic or broken invariant is a finding.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tuf_ceremony::tuf::finding::Clients;
use tuf_ceremony::tuf::json::{parse_value, Value};
use tuf_ceremony::tuf::metadata::{strictness_issues, Metadata, Mode, Root, Signed, TOP_LEVEL_ROLES};
use tuf_ceremony::tuf::stream::parse_checked_in_pieces;
use tuf_ceremony::tuf::{self, olpc, rules, verify};

fuzz_target!(|data: &[u8]| {
    let strict = Metadata::from_bytes(data, Mode::Strict);
    let lenient = Metadata::from_bytes(data, Mode::Lenient);

    // Strict accepts a subset of lenient, with the same model and no strictness issue;
    // lenient with no strictness issue is exactly strict.
    match (&strict, &lenient) {
        (Ok(s), Ok(l)) => {
            assert_eq!(s, l, "strict and lenient models differ");
            assert!(strictness_issues(s).is_empty(), "strict accepted a file with strictness issues");
        }
        (Ok(_), Err(e)) => panic!("strict accepted what lenient refused: {e}"),
        (Err(e), Ok(l)) => assert!(!strictness_issues(l).is_empty(), "strict refused ({e}) but lenient lists no strictness issue"),
        (Err(s), Err(l)) => assert_eq!(s, l, "strict and lenient refuse with different errors"),
    }

    for mode in [Mode::Strict, Mode::Lenient] {
        one_pass_agrees(data, mode);
    }

    if let Ok(md) = &strict {
        exercise(md, Mode::Strict);
    }
    if let Ok(md) = &lenient {
        exercise(md, Mode::Lenient);
    }
});

fn exercise(md: &Metadata, mode: Mode) {
    let canonical = md.signed_bytes();
    let pretty = md.to_pretty_bytes();

    // Round trip: the pretty file reads back to an equal model with identical bytes.
    let again = match Metadata::from_bytes(&pretty, mode) {
        Ok(m) => m,
        Err(e) => panic!("pretty encoding does not re-parse in {mode:?}: {e}\n{}", String::from_utf8_lossy(&pretty)),
    };
    assert_eq!(&again, md, "pretty round trip changed the model");
    assert_eq!(again.signed_bytes(), canonical, "canonical bytes changed across a round trip");
    assert_eq!(again.to_pretty_bytes(), pretty, "pretty encoding is not a fixed point");

    // The canonical form is itself a readable `signed` (when it has no raw control
    // characters, which canonical JSON writes unescaped and JSON forbids).
    if !canonical.iter().any(|&b| b < 0x20) {
        let mut env = b"{\"signatures\":[],\"signed\":".to_vec();
        env.extend_from_slice(&canonical);
        env.push(b'}');
        match Metadata::from_bytes(&env, mode) {
            Ok(m) => assert_eq!(m.signed, md.signed, "canonical bytes read back to another model"),
            Err(e) => panic!("canonical bytes do not re-parse: {e}"),
        }
    }

    // Writer rules, the olpc-cjson divergence finder and the checked writer.
    let findings = rules::check(md, &canonical);
    let _ = rules::check_file_bytes(md, &pretty);
    let divergences = olpc::divergences(&canonical);
    for f in &findings {
        let _ = f.to_string();
    }
    olpc_differential(&pretty, &canonical, divergences.is_empty());
    if let Ok(written) = tuf::write(md, Clients::ALL) {
        assert_eq!(written, pretty, "write() bytes differ from to_pretty_bytes()");
        if let Err(e) = Metadata::from_bytes(&written, Mode::Strict) {
            panic!("write(ALL) produced a file strict mode refuses: {e}");
        }
    }

    // Signatures: a root against itself (every role), rotation onto itself, and a
    // delegator's first delegated role against the file itself.
    let lenient = mode == Mode::Lenient;
    match &md.signed {
        Signed::Root(root) => {
            for role in TOP_LEVEL_ROLES {
                if let Some(c) = verify::check_top_level(root, role, md, &canonical, lenient) {
                    assert!(c.valid() <= c.keys.len() as u64);
                    let _ = c.met();
                }
            }
            if let Some(r) = verify::check_root_rotation(root, md, &canonical, lenient) {
                assert!(!r.version_ok(), "a root is never its own successor");
            }
        }
        Signed::Targets(t) => {
            if let Some(first) = t.delegated_roles().first() {
                let _ = verify::check_delegated(t, &first.name, md, &canonical, lenient);
            }
        }
        _ => {}
    }
}

/// The python-tuf vectors' root (seeded into the corpus with its role files): its root and
/// targets keys check the signatures of every input, so inputs near a vector verify.
fn vector_root() -> &'static Root {
    static ROOT: std::sync::OnceLock<Root> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let md = Metadata::from_bytes(include_bytes!("../../fixtures/tuf-vectors/1.root.json"), Mode::Strict).expect("vector root parses");
        md.signed.as_root().expect("a root").clone()
    })
}

/// The one-pass path, in small pieces, against the plain path: the same model or the same
/// error, the same signature check, the same olpc verdict.
fn one_pass_agrees(data: &[u8], mode: Mode) {
    let lenient = mode == Mode::Lenient;
    for role in ["root", "targets"] {
        let plan = |sigs: &[tuf_ceremony::tuf::metadata::Signature]| verify::pending_top_level(vector_root(), role, sigs, lenient);
        let plain = parse_checked_in_pieces(data, mode, plan, None);
        for piece in [1 + data.len() % 13, 4096] {
            match (&plain, parse_checked_in_pieces(data, mode, plan, Some(piece))) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.md, b.md, "one-pass model differs ({mode:?}, pieces of {piece})");
                    assert_eq!(a.check, b.check, "one-pass signature check differs ({mode:?}, {role}, pieces of {piece})");
                    assert_eq!(a.olpc_plain, b.olpc_plain, "one-pass olpc verdict differs ({mode:?}, pieces of {piece})");
                }
                (Err(a), Err(b)) => assert_eq!(a, &b, "one-pass error differs ({mode:?}, pieces of {piece})"),
                (a, b) => panic!("one-pass and plain paths disagree ({mode:?}, pieces of {piece}): {:?} vs {:?}", a.as_ref().map(|_| ()), b.map(|_| ())),
            }
        }
    }
}

/// olpc-cjson's bytes equal ours exactly when `olpc::divergences` finds nothing.
fn olpc_differential(pretty: &[u8], canonical: &[u8], no_divergence: bool) {
    let Ok(Value::Object(mut top)) = parse_value(pretty) else { panic!("pretty bytes are not a JSON object") };
    let signed = top.remove("signed").expect("pretty has signed");
    use serde::Serialize;
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, olpc_cjson::CanonicalFormatter::new());
    if to_serde(&signed).serialize(&mut ser).is_err() {
        return;
    }
    assert_eq!(
        buf == canonical,
        no_divergence,
        "olpc::divergences disagrees with olpc-cjson\nours {:?}\nolpc {:?}",
        String::from_utf8_lossy(canonical),
        String::from_utf8_lossy(&buf)
    );
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
