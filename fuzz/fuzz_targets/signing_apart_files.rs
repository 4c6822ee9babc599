//! The readers of signing-apart files on arbitrary bytes: a request folder's `request.json`
//! (`Request::load`) and a keyholder's signature file (`import`, which parses it and checks
//! it against the request).
//!
//! Once per process, four real request folders are made with `create_request` from the
//! python-tuf vectors (whose Ed25519 private keys are known: 32 bytes of 0x01..0x06), so
//! valid signatures exist and a fuzzed file close to a valid one gets deep:
//!
//! | kind | role | delegator | previous | signed by |
//! |---|---|---|---|---|
//! | 0 | targets v2 | 1.root.json | 1.targets.json | targets key (0x04) |
//! | 1 | root v2 (rotation: old and new root keys) | 1.root.json | 1.root.json | root key (0x01) |
//! | 2 | projects v2 (delegated) | 1.targets.json | 1.projects.json | deleg key (0x05) |
//! | 3 | snapshot v2 | 1.root.json | none | snapshot key (0x03) |
//!
//! Input: the first byte `b` chooses, the rest is the file's content.
//! * `b & 1 == 0`: the rest is `request.json` of a copy of request folder `kind = (b >> 1) & 3`;
//!   `Request::load` reads it. When it loads: both summaries, the authority's checks, and
//!   `import` of the kind's valid signature file (with `--partial`, for the request's clients).
//! * `b & 1 == 1`: the rest is a signature file, imported into the pristine request folder
//!   `kind` (also parsed as `SignatureFile` on its own); `b & 8` asks for `--partial`, `b & 16`
//!   passes the request's delegator as `--delegator`, `b & 32` imports the kind's valid
//!   signature file alongside it (duplicates, ordering).
//!
//! Invariants: never panics; an import that fails has written nothing; one that succeeds
//! wrote a file strict mode reads, named `.partial` exactly when below threshold. Every
//! output is removed again, so runs do not depend on each other.
//!
//! With `TUF_CEREMONY_FUZZ_SEEDS=DIR` set, the first run writes seeds (each kind's real
//! `request.json` and valid signature file, with their selector bytes) to DIR. With
//! `TUF_CEREMONY_FUZZ_VERBOSE=1`, each load's and import's outcome goes to stderr.

#![no_main]

#[path = "common.rs"]
mod common;
use common::per_process_dir;
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tuf_ceremony::ops::signing_apart::{
    self as sa, Authority, ImportInput, NewRequest, Request, SignatureFile, FORMAT_VERSION, SIGNATURE_FORMAT,
};
use tuf_ceremony::signer::software::{SecretKey, SoftwareKey};
use tuf_ceremony::signer::Signer;
use tuf_ceremony::tuf::finding::Clients;
use tuf_ceremony::tuf::keys::{hex, keyid};
use tuf_ceremony::tuf::metadata::{Metadata, Mode};

/// A fixed "now" (2026-01-01T00:00:00Z); the vectors expire 2030-01-01.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).expect("valid timestamp")
}

const ROOT: &[u8] = include_bytes!("../../fixtures/tuf-vectors/1.root.json");
const TARGETS: &[u8] = include_bytes!("../../fixtures/tuf-vectors/1.targets.json");
const PROJECTS: &[u8] = include_bytes!("../../fixtures/tuf-vectors/1.projects.json");
const SNAPSHOT: &[u8] = include_bytes!("../../fixtures/tuf-vectors/1.snapshot.json");

struct Kind {
    role: &'static str,
    draft: &'static [u8],
    draft_name: &'static str,
    delegator: &'static [u8],
    delegator_name: &'static str,
    previous: Option<(&'static [u8], &'static str)>,
    seed: u8,
    holder: &'static str,
}

const KINDS: [Kind; 4] = [
    Kind {
        role: "targets",
        draft: TARGETS,
        draft_name: "2.targets.json",
        delegator: ROOT,
        delegator_name: "1.root.json",
        previous: Some((TARGETS, "1.targets.json")),
        seed: 4,
        holder: "tess",
    },
    Kind {
        role: "root",
        draft: ROOT,
        draft_name: "2.root.json",
        delegator: ROOT,
        delegator_name: "1.root.json",
        previous: Some((ROOT, "1.root.json")),
        seed: 1,
        holder: "rudi",
    },
    Kind {
        role: "projects",
        draft: PROJECTS,
        draft_name: "2.projects.json",
        delegator: TARGETS,
        delegator_name: "1.targets.json",
        previous: Some((PROJECTS, "1.projects.json")),
        seed: 5,
        holder: "dora",
    },
    Kind {
        role: "snapshot",
        draft: SNAPSHOT,
        draft_name: "2.snapshot.json",
        delegator: ROOT,
        delegator_name: "1.root.json",
        previous: None,
        seed: 3,
        holder: "sam",
    },
];

struct Made {
    /// The request folder as `create_request` made it (signature case).
    pristine: PathBuf,
    /// A copy whose `request.json` is the fuzz input (request case).
    scratch: PathBuf,
    /// The folder's delegator file (for `--delegator`).
    delegator: PathBuf,
    /// A valid signature file for this request.
    valid_sig: PathBuf,
    valid_sig_bytes: Vec<u8>,
    request_bytes: Vec<u8>,
}

struct Setup {
    kinds: Vec<Made>,
    /// Where the fuzzed signature file is written.
    sig_file: PathBuf,
    /// Where import writes (emptied after every run).
    out: PathBuf,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let dir = per_process_dir("signing_apart_files");
        let kinds = KINDS.iter().enumerate().map(|(i, k)| make_request(&dir.join(format!("k{i}")), k)).collect::<Vec<_>>();
        let s = Setup { kinds, sig_file: dir.join("fuzz.sig.json"), out: dir.join("out") };
        if let Some(seeds) = std::env::var_os("TUF_CEREMONY_FUZZ_SEEDS") {
            write_seeds(Path::new(&seeds), &s);
        }
        s
    })
}

fn make_request(dir: &Path, k: &Kind) -> Made {
    // The coordinator's files: the delegator, the previous version, a draft (version 2,
    // unsigned) and a keys/ folder naming the signer.
    let src = dir.join("coordinator/metadata");
    std::fs::create_dir_all(&src).unwrap();
    let delegator = src.join(k.delegator_name);
    std::fs::write(&delegator, k.delegator).unwrap();
    let previous = k.previous.map(|(bytes, name)| {
        let p = src.join(format!("prev-{name}"));
        std::fs::write(&p, bytes).unwrap();
        p
    });
    let mut md = Metadata::from_bytes(k.draft, Mode::Strict).expect("vector parses");
    md.signatures.clear();
    md.signed.header_mut().version = 2;
    let draft = dir.join("coordinator").join(k.draft_name);
    std::fs::write(&draft, md.to_pretty_bytes()).unwrap();
    let mut signer = SoftwareKey::from_secret(SecretKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[k.seed; 32])), k.holder);
    let key = signer.public_key().to_key();
    let keys = dir.join("coordinator/keys").join(k.holder);
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::write(keys.join(format!("{}.key.json", k.holder)), tuf_ceremony::tuf::encode::pretty(&key)).unwrap();

    let media = dir.join("stick");
    std::fs::create_dir_all(&media).unwrap();
    let made = sa::create_request(&NewRequest {
        metadata: &draft,
        role: k.role,
        delegator: &delegator,
        previous: previous.as_deref(),
        keys_dir: None, // default: <delegator dir>/../keys
        media: &media,
        clients: Clients::ALL,
        now: now(),
    })
    .unwrap_or_else(|e| panic!("setup: create_request for {}: {e}", k.role));
    let req = Request::load(&made.dir).unwrap_or_else(|e| panic!("setup: the request for {} does not load: {e}", k.role));
    assert!(req.names.values().any(|n| n == k.holder), "setup: the request names no {}", k.holder);

    // A valid signature file, as `sign` writes it.
    let sig = hex(&signer.sign(&req.canonical).expect("software signing"));
    let file = SignatureFile {
        format: SIGNATURE_FORMAT.into(),
        format_version: FORMAT_VERSION,
        role: k.role.into(),
        version: 2,
        canonical_sha256: req.hash.clone(),
        keyid: keyid(&key),
        sig,
        keyholder: Some(k.holder.into()),
        token: Some(signer.describe()),
        signed_at: Some("2026-01-01T00:00:00Z".into()),
    };
    let valid_sig = dir.join(sa::signature_file_name(k.role, 2, k.holder));
    let valid_sig_bytes = file.to_bytes();
    std::fs::write(&valid_sig, &valid_sig_bytes).unwrap();

    // The scratch copy for fuzzed request.json files.
    let scratch = dir.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    for e in std::fs::read_dir(&made.dir).unwrap().flatten() {
        std::fs::copy(e.path(), scratch.join(e.file_name())).unwrap();
    }
    let request_bytes = std::fs::read(made.dir.join(sa::REQUEST_FILE)).unwrap();
    Made { delegator: made.dir.join(sa::DELEGATOR_FILE), pristine: made.dir, scratch, valid_sig, valid_sig_bytes, request_bytes }
}

fn verbose() -> bool {
    static V: OnceLock<bool> = OnceLock::new();
    *V.get_or_init(|| std::env::var_os("TUF_CEREMONY_FUZZ_VERBOSE").is_some())
}

/// Imports, then checks and removes what was written.
fn import_and_check(s: &Setup, input: &ImportInput) {
    let result = sa::import(input);
    if verbose() {
        match &result {
            Ok(o) => eprintln!("signing_apart_files: import OK {} (partial {}, added {})", o.path.display(), o.partial, o.added.len()),
            Err(e) => eprintln!("signing_apart_files: import Err {}", e.to_string().replace('\n', " | ")),
        }
    }
    let written: Vec<PathBuf> = match std::fs::read_dir(&s.out) {
        Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    };
    match &result {
        Err(e) => {
            let _ = e.to_string();
            assert!(written.is_empty(), "import failed ({e}) but wrote {written:?}");
        }
        Ok(o) => {
            assert_eq!(written, vec![o.path.clone()], "import wrote other files than it reports");
            let name = o.path.file_name().unwrap().to_string_lossy().into_owned();
            assert_eq!(name.ends_with(".partial"), o.partial, "{name}: partial is {}", o.partial);
            let met = o.checks.iter().all(|(_, c)| c.met());
            assert_eq!(met, !o.partial, "checks met {met}, partial {}", o.partial);
            let bytes = std::fs::read(&o.path).unwrap();
            if let Err(e) = Metadata::from_bytes(&bytes, Mode::Strict) {
                panic!("import wrote {name}, which strict mode refuses: {e}");
            }
            let _ = Authority::describe(&o.checks);
        }
    }
    for p in written {
        std::fs::remove_file(&p).unwrap();
    }
}

fn request_case(s: &Setup, m: &Made, content: &[u8]) {
    std::fs::write(m.scratch.join(sa::REQUEST_FILE), content).unwrap();
    let req = match Request::load(&m.scratch) {
        Ok(r) => r,
        Err(e) => {
            let e = e.to_string();
            if verbose() {
                eprintln!("signing_apart_files: load Err {}", e.replace('\n', " | "));
            }
            return;
        }
    };
    if verbose() {
        eprintln!("signing_apart_files: load OK {} v{}", req.role(), req.md.version());
    }
    let _ = req.summary(now(), true);
    let _ = req.summary(now(), false);
    let checks = req.authority.checks(&req.canonical, &req.md.signatures);
    let _ = Authority::describe(&checks);
    for id in req.authority.keyids() {
        let _ = req.authority.key(&id);
    }
    import_and_check(
        s,
        &ImportInput {
            request_dir: &m.scratch,
            sig_files: std::slice::from_ref(&m.valid_sig),
            out_dir: &s.out,
            partial: true,
            trusted_delegator: None,
            clients: req.clients,
        },
    );
}

fn signature_case(s: &Setup, m: &Made, flags: u8, content: &[u8]) {
    // The parse `import` does first, on its own.
    if let Ok(sf) = SignatureFile::parse(content) {
        let again: SignatureFile = serde_json::from_slice(&sf.to_bytes()).expect("a signature file's own encoding reads back");
        assert_eq!(again, sf, "a signature file changes across to_bytes");
    }
    std::fs::write(&s.sig_file, content).unwrap();
    let mut files = vec![s.sig_file.clone()];
    if flags & 32 != 0 {
        files.push(m.valid_sig.clone());
    }
    import_and_check(
        s,
        &ImportInput {
            request_dir: &m.pristine,
            sig_files: &files,
            out_dir: &s.out,
            partial: flags & 8 != 0,
            trusted_delegator: (flags & 16 != 0).then_some(m.delegator.as_path()),
            clients: Clients::ALL,
        },
    );
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    let Some((&b, content)) = data.split_first() else { return };
    let m = &s.kinds[((b >> 1) & 3) as usize];
    if b & 1 == 0 {
        request_case(s, m, content);
    } else {
        signature_case(s, m, b, content);
    }
});

fn write_seeds(out: &Path, s: &Setup) {
    std::fs::create_dir_all(out).unwrap();
    let mut n = 0;
    for (i, m) in s.kinds.iter().enumerate() {
        let kind = (i as u8) << 1;
        let mut put = |name: String, first: u8, body: &[u8]| {
            let mut v = vec![first];
            v.extend_from_slice(body);
            std::fs::write(out.join(name), v).unwrap();
            n += 1;
        };
        put(format!("request-{}", KINDS[i].role), kind, &m.request_bytes);
        put(format!("sig-{}", KINDS[i].role), kind | 1, &m.valid_sig_bytes);
        // Partial, with --delegator, and the valid file twice (a duplicate).
        put(format!("sig-{}-dup-partial-delegator", KINDS[i].role), kind | 1 | 8 | 16 | 32, &m.valid_sig_bytes);
    }
    eprintln!("signing_apart_files: wrote {n} seeds to {}", out.display());
}
