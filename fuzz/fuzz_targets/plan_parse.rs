//! The ceremony plan reader on arbitrary bytes: `Plan::parse` (TOML, then validation), with
//! the online public key files and the previous root it names read from a base folder that
//! holds valid key files of every supported form, so the fuzzer gets past the key and
//! previous-root checks into the delegation and expiry rules. `describe` runs on every plan
//! that parses, and `Plan::load` (the same bytes as a file in the base folder) must give the
//! same answer as `Plan::parse`.
//!
//! Input: a plan (TOML). Optionally followed by the line `#---key---` (a TOML comment, see
//! `KEY_SEPARATOR`): the bytes after it become the file `online/fuzz.pub`, so the public
//! key reader (`plan::read_public_key`) is fuzzed too; the plan is only the bytes before it.
//!
//! Invariants: never panics; every `Err` names a field (non-empty `field`) and says
//! something (non-empty `message`); `load` and `parse` agree.
//!
//! With `TUF_CEREMONY_FUZZ_SEEDS=DIR` set, the first run also writes seed plans (the three
//! templates for several keyholder sets, and hand-written plans using every base file) to
//! DIR; `fuzz/seed-corpus.sh` uses that. With `TUF_CEREMONY_FUZZ_VERBOSE=1`, each input's
//! outcome (the plan's id, or the error) goes to stderr, to see how deep seeds get.

#![no_main]

#[path = "common.rs"]
mod common;
use common::per_process_dir;
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tuf_ceremony::ceremony::plan::{Plan, PlanError, describe};
use tuf_ceremony::ceremony::templates::{self, TemplateParams};

/// Separates the plan from the content of `online/fuzz.pub`.
const KEY_SEPARATOR: &[u8] = b"\n#---key---\n";

/// A fixed "now" (2026-01-01T00:00:00Z), so a run is reproducible.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).expect("valid timestamp")
}

const ED25519_PEM: &[u8] = include_bytes!("../../fixtures/attestation-synthetic/key-a-ed25519.pub.pem");
const P256_PEM: &[u8] = include_bytes!("../../fixtures/attestation-synthetic/key-a-p256.pub.pem");
const P384_PEM: &[u8] = include_bytes!("../../fixtures/attestation-synthetic/key-b-p384.pub.pem");
const RSA_PEM: &[u8] = include_bytes!("../../fixtures/attestation-synthetic/key-b-rsa.pub.pem");
const VECTOR_ROOT: &[u8] = include_bytes!("../../fixtures/tuf-vectors/1.root.json");
const VECTOR_TARGETS: &[u8] = include_bytes!("../../fixtures/tuf-vectors/1.targets.json");
/// A real ceremony's root, read where it lies (real published data is never copied into the
/// project); empty when ../shared is not beside the clone.
fn sigstore_root_5() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/real/sigstore-root-chain/5.root.json")).unwrap_or_default()
}

fn ed25519_key_json(public_hex: &str) -> Vec<u8> {
    format!("{{\n \"keytype\": \"ed25519\",\n \"keyval\": {{\n  \"public\": \"{public_hex}\"\n }},\n \"scheme\": \"ed25519\"\n}}\n").into_bytes()
}

/// A TUF ECDSA key object whose value is a PEM (as the tool writes media keys).
fn ecdsa_key_json(pem: &[u8]) -> Vec<u8> {
    let pem = String::from_utf8_lossy(pem).trim().replace('\n', "\\n");
    format!("{{\"keytype\":\"ecdsa\",\"keyval\":{{\"public\":\"{pem}\\n\"}},\"scheme\":\"ecdsa-sha2-nistp256\"}}").into_bytes()
}

/// The files of the base folder, relative to it.
fn base_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        // Bare SubjectPublicKeyInfo PEMs.
        ("online/snapshot.pub", ED25519_PEM.to_vec()),
        ("online/timestamp.pub", P256_PEM.to_vec()),
        ("online/p384.pub", P384_PEM.to_vec()),
        ("online/rsa.pub", RSA_PEM.to_vec()),
        // TUF key JSON (the python-tuf vectors' bins and deleg keys), and ECDSA with a PEM value.
        ("online/bin-n.pub", ed25519_key_json("8a875fff1eb38451577acd5afee405456568dd7c89e090863a0557bc7af49f17")),
        ("online/unclaimed.pub", ed25519_key_json("6e7a1cdd29b0b78fd13af4c5598feff4ef2a97166e3ca6f2e4fbfccd80505bf1")),
        ("online/recently-claimed.pub", ecdsa_key_json(P256_PEM)),
        ("online/garbage.pub", b"-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n".to_vec()),
        // Previous roots: a valid self-signed root, a real ceremony's root, a non-root.
        ("1.root.json", VECTOR_ROOT.to_vec()),
        ("prev/5.root.json", sigstore_root_5()),
        ("targets.json", VECTOR_TARGETS.to_vec()),
    ]
}

struct Base {
    dir: PathBuf,
    plan_file: PathBuf,
    fuzz_key: PathBuf,
}

/// A per-process folder under the temp dir: `tuf-ceremony-fuzz/plan_parse-<pid>`. Folders
/// of processes that are gone (fork mode starts one per job) are removed on the way.
fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = per_process_dir("plan_parse");
        for (rel, bytes) in base_files() {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, bytes).unwrap();
        }
        if let Some(seeds) = std::env::var_os("TUF_CEREMONY_FUZZ_SEEDS") {
            write_seeds(Path::new(&seeds), &dir);
        }
        Base { plan_file: dir.join("plan.toml"), fuzz_key: dir.join("online/fuzz.pub"), dir }
    })
}

fn verbose() -> bool {
    static V: OnceLock<bool> = OnceLock::new();
    *V.get_or_init(|| std::env::var_os("TUF_CEREMONY_FUZZ_VERBOSE").is_some())
}

fn check_err(e: &PlanError, what: &str) {
    assert!(!e.field.trim().is_empty(), "{what}: a plan error names no field: {e:?}");
    assert!(!e.message.trim().is_empty(), "{what}: a plan error says nothing: {e:?}");
}

fn exercise(plan: &Plan) -> String {
    let text = describe(plan, now());
    assert!(text.contains(&plan.sha256), "describe does not show the plan's sha256");
    for r in plan.offline_roles() {
        assert!(r.threshold >= 1 && r.threshold as usize <= r.keyholders.len(), "{}: threshold {} of {}", r.name, r.threshold, r.keyholders.len());
        for k in &r.keyholders {
            assert!(plan.keyholder(k).is_some(), "{}: keyholder {k} is not defined", r.name);
            assert!(plan.signs(k, r));
        }
        let _ = r.expiry.resolve(now());
    }
    text
}

fuzz_target!(|data: &[u8]| {
    let b = base();
    let (plan_bytes, key) = match data.windows(KEY_SEPARATOR.len()).position(|w| w == KEY_SEPARATOR) {
        Some(i) => (&data[..i], Some(&data[i + KEY_SEPARATOR.len()..])),
        None => (data, None),
    };
    match key {
        Some(k) => std::fs::write(&b.fuzz_key, k).unwrap(),
        None => {
            let _ = std::fs::remove_file(&b.fuzz_key);
        }
    }

    let parsed = Plan::parse(plan_bytes, &b.dir, now());
    if verbose() {
        match &parsed {
            Ok(p) => eprintln!("plan_parse: OK plan {:?}, {} delegation(s)", p.id, p.delegations.len()),
            Err(e) => eprintln!("plan_parse: Err {e}"),
        }
    }
    let described = match &parsed {
        Ok(plan) => Some(exercise(plan)),
        Err(e) => {
            check_err(e, "parse");
            None
        }
    };

    // `load` reads the same bytes from a file in the base folder: the same answer.
    std::fs::write(&b.plan_file, plan_bytes).unwrap();
    match (&parsed, Plan::load(&b.plan_file, now())) {
        (Ok(_), Ok(loaded)) => assert_eq!(Some(exercise(&loaded)), described, "load and parse describe different plans"),
        (Err(a), Err(l)) => {
            check_err(&l, "load");
            assert_eq!(a, &l, "load and parse refuse with different errors");
        }
        (a, l) => panic!("load and parse disagree: {:?} vs {:?}", a.as_ref().err(), l.err()),
    }
});

// ---------------------------------------------------------------------------------------
// Seeds (written once when TUF_CEREMONY_FUZZ_SEEDS is set)
// ---------------------------------------------------------------------------------------

const HAND_WRITTEN: &[(&str, &str)] = &[
    (
        "everything",
        r#"[ceremony]
id = "all-features.2026"
description = "every field"
clients = ["python-tuf", "go-tuf"]
consistent_snapshot = false

[previous_root]
file = "1.root.json"

[[keyholder]]
name = "alice"
token = "yubikey"
algorithm = "ecdsa-p256"
serial = "12345678"
pin_policy = "once"
touch_policy = "cached"

[[keyholder]]
name = "bob"
token = "pkcs11"
algorithm = "ecdsa-p384"
module = "/usr/lib/softhsm/libsofthsm2.so"
token_label = "bob-hsm"

[[keyholder]]
name = "carol"
token = "software"
algorithm = "ed25519"

[roles.root]
keyholders = ["alice", "bob", "carol"]
threshold = 2
expires = "2027-06-30T12:00:00Z"
signing_window_days = 90

[roles.targets]
keyholders = ["alice", "carol"]
threshold = 1
expires_days = 90
signing_window_days = 0

[roles.snapshot]
key = "online/p384.pub"

[roles.timestamp]
key = "online/recently-claimed.pub"

[[delegation]]
name = "bins"
keyholders = ["alice", "bob"]
threshold = 2
paths = ["*", "*/*"]
expires_days = 365
bins = 256
bins_online_key = "online/bin-n.pub"

[[delegation]]
name = "project-a"
delegator = "bins"
keyholders = ["carol"]
terminating = true
paths = ["a/*"]
expires = "2026-12-31T23:59:59Z"

[[delegation]]
name = "online-c"
delegator = "project-a"
online_key = "online/unclaimed.pub"
paths = ["a/c/*"]
"#,
    ),
    (
        "fuzz-key",
        "[ceremony]\nid = \"k\"\n\n[[keyholder]]\nname = \"a\"\ntoken = \"software\"\n\n[roles.root]\nkeyholders = [\"a\"]\nthreshold = 1\nexpires_days = 365\n\n[roles.targets]\nkeyholders = [\"a\"]\nthreshold = 1\nexpires_days = 3660\n\n[roles.snapshot]\nkey = \"online/fuzz.pub\"\n\n[roles.timestamp]\nkey = \"online/fuzz.pub\"\n\n#---key---\n-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAp5C1CYdi8r5FvpMp2OO7Kk7gFlAGZt2Rl8fSqXfLgr4=\n-----END PUBLIC KEY-----\n",
    ),
    (
        "fuzz-key-json",
        "[ceremony]\nid = \"k\"\n\n[[keyholder]]\nname = \"a\"\ntoken = \"software\"\n\n[roles.root]\nkeyholders = [\"a\"]\nthreshold = 1\nexpires_days = 61\n\n[roles.targets]\nkeyholders = [\"a\"]\nthreshold = 1\nexpires_days = 1\nsigning_window_days = 1\n\n[roles.snapshot]\nkey = \"online/fuzz.pub\"\n\n[roles.timestamp]\nkey = \"online/snapshot.pub\"\n\n#---key---\n{\"keytype\":\"ecdsa\",\"keyval\":{\"public\":\"-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEAD83Pbhm72sBV7cmHtMOMilmz/gU\\nxqa65f+ulbeQU+y22mdcHd0F3e1OwupwW687wqdVVXx1F2AwwliRcuF/Fg==\\n-----END PUBLIC KEY-----\\n\"},\"scheme\":\"ecdsa-sha2-nistp256\"}\n",
    ),
    (
        "rsa-key",
        "[ceremony]\nid = \"r\"\n\n[[keyholder]]\nname = \"a\"\ntoken = \"software\"\n\n[roles.root]\nkeyholders = [\"a\"]\nthreshold = 1\nexpires_days = 365\n\n[roles.targets]\nkeyholders = [\"a\"]\nthreshold = 1\nexpires_days = 365\n\n[roles.snapshot]\nkey = \"online/rsa.pub\"\n\n[roles.timestamp]\nkey = \"online/timestamp.pub\"\n",
    ),
    (
        "previous-sigstore",
        "[ceremony]\nid = \"rotate\"\nclients = [\"python-tuf\"]\n\n[previous_root]\nfile = \"prev/5.root.json\"\n\n[[keyholder]]\nname = \"a\"\ntoken = \"yubikey\"\n\n[[keyholder]]\nname = \"b\"\ntoken = \"yubikey\"\nalgorithm = \"ecdsa-p384\"\n\n[roles.root]\nkeyholders = [\"a\", \"b\"]\nthreshold = 2\nexpires_days = 365\n\n[roles.targets]\nkeyholders = [\"b\"]\nthreshold = 1\nexpires_days = 365\n\n[roles.snapshot]\nkey = \"online/snapshot.pub\"\n\n[roles.timestamp]\nkey = \"online/p384.pub\"\n",
    ),
];

fn write_seeds(out: &Path, _base: &Path) {
    std::fs::create_dir_all(out).unwrap();
    let holders: [&[(&str, &str)]; 4] = [
        &[("alice", "software")],
        &[("alice", "software"), ("bob", "yubikey")],
        &[("alice", "yubikey"), ("bob", "yubikey"), ("carol", "pkcs11")],
        &[("alice", "software"), ("bob", "software"), ("carol", "yubikey"), ("dave", "software"), ("erin", "yubikey")],
    ];
    let mut n = 0;
    for t in templates::TEMPLATES {
        for (i, kh) in holders.iter().enumerate() {
            let text = templates::render(t, &TemplateParams { id: &format!("{t}-{i}"), keyholders: kh, online_dir: "online" }).expect("a template");
            std::fs::write(out.join(format!("template-{t}-{}.toml", kh.len())), text).unwrap();
            n += 1;
        }
    }
    for (name, text) in HAND_WRITTEN {
        std::fs::write(out.join(format!("hand-{name}.toml")), text).unwrap();
        n += 1;
    }
    eprintln!("plan_parse: wrote {n} seeds to {}", out.display());
}
