//! Every `--json` output a script calls (issue #16, item 5), run through the real binary on
//! real inputs, parsed, and validated against its documented schema in docs/schemas/ by an
//! independent validator (Python's `jsonschema`, tests/python/validate_schema.py). Key
//! fields are also checked against values computed apart from the tool: keyids as
//! securesystemslib computes them, versions and keyids as the metadata files say, hashes of
//! canonical bytes as securesystemslib encodes them.
//!
//! * `plan check --json`: the PSF's 2020 keys (../shared), a plan that does not validate
//!   (exit 2, the field named), a plan that cannot be read (exit 2, nothing on stdout).
//! * `run --status --json`: a finished rehearsal and one stopped after `build.root`.
//! * `resign … --dry-run --json` and `claim … --dry-run --json`: the changes, with standard
//!   input closed and nothing written; `--json` alone is a usage error.
//! * `sign-request --json`, `import-signatures --json` (accepted, refused, partial).
//! * `keygen --json` in a real terminal: prompts on the terminal, the JSON alone on stdout.
//! * `attest --json` on the PSF's ceremony products; `verify --json` on a rehearsal's media
//!   and Sigstore's root chain with its attestations; `status --json`.
//! * The schemas are not vacuous: each requires every field it describes, a document
//!   missing one is rejected, and each doc page names every field its schema requires.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tuf_ceremony::tuf::keys::sha256_hex;

fn cli(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(support::bin()).args(args).stdin(Stdio::null()).env_remove("TUF_CEREMONY_CRASH_AFTER").output().unwrap()
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// stdout as one JSON object (nothing else may be there).
fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}), exit {:?}:\n{}", o.status.code(), text(o)))
}

/// Validates `doc` against `docs/schemas/<name>.schema.json` (with `jsonschema`; without it,
/// where the require-or-skip policy allows, only the schema check is skipped), and checks
/// the envelope.
fn valid(py: Option<&Path>, name: &str, doc: &Value) {
    if let Some(py) = py
        && let Err(e) = support::schema_check(py, name, doc)
    {
        panic!("{name}: the output does not validate against its schema:\n{e}\n{}", serde_json::to_string_pretty(doc).unwrap());
    }
    assert_eq!(doc["schema"], format!("tuf-ceremony-{name}/1"));
    assert_eq!(doc["tool"], concat!("tuf-ceremony ", env!("CARGO_PKG_VERSION")));
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}")).iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

fn metadata(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn plan_check_json_lists_the_psf_keys_and_names_the_field_of_a_bad_plan() {
    let Some(products) = support::psf_products() else { return };
    let Some(py) = support::python() else { return };
    let js = support::python_jsonschema();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let plan = support::psf_plan(dir, &products, "psf-2020");

    let o = cli(&[os("plan"), os("check"), plan.as_os_str(), os("--json")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "plan-check", &v);
    assert_eq!(v["result"], "ok");
    assert_eq!(v["sha256"], sha256_hex(&std::fs::read(&plan).unwrap()), "the plan file's own sha256");
    assert_eq!(v["id"], "psf-2020");
    // The digest is the one the text form shows witnesses.
    let t = cli(&[os("plan"), os("check"), plan.as_os_str()]);
    assert!(String::from_utf8_lossy(&t.stdout).contains(&format!("Plan digest: {}", v["digest"].as_str().unwrap())), "{}", text(&t));
    // Twelve keys from 2020: each keyid securesystemslib's for its file; the six YubiHSM 2 keys attested.
    let holders = v["keyholders"].as_array().unwrap();
    assert_eq!(holders.len(), 12);
    let files: Vec<PathBuf> = holders.iter().map(|k| dir.join(k["key_file"].as_str().unwrap())).collect();
    let sslib = support::sslib_keyids(&py, &files);
    for (k, f) in holders.iter().zip(&files) {
        assert_eq!(k["earlier_key"], true);
        assert_eq!(k["keyid"].as_str(), sslib.get(&f.display().to_string()).map(String::as_str), "{}", k["name"]);
        let hsm = k["name"].as_str().unwrap().starts_with("yubihsm2-");
        assert_eq!(k["attested"], hsm, "{}", k["name"]);
        // No back end here drives these devices: each signs apart; the plan names device and serial.
        assert_eq!((k["token"].as_str(), k["signs_here"].as_bool()), (Some("none"), Some(false)), "{}", k["name"]);
        assert_eq!(k["device"], if hsm { "yubihsm2" } else { "nitrokey-hsm" }, "{}", k["name"]);
        assert!(k["name"].as_str().unwrap().contains(&format!("-{}-", k["serial"].as_str().unwrap())), "{}", k["name"]);
    }
    // Roles: root and targets, each 4 of the 6 keyholders whose key file names the role.
    for r in v["roles"].as_array().unwrap() {
        let role = r["role"].as_str().unwrap();
        let want: Vec<String> = holders.iter().map(|k| k["name"].as_str().unwrap().to_string()).filter(|n| n.ends_with(&format!("-{role}"))).collect();
        assert_eq!(strs(&r["keyholders"]), want, "{role}");
        assert_eq!(r["threshold"], 4, "{role}");
    }
    assert_eq!(strs(&v["roles"].as_array().unwrap().iter().map(|r| r["role"].clone()).collect::<Value>()), ["root", "targets"]);

    // A plan that does not validate: exit 2 as for every command that reads it, the field named
    // on stdout (and on stderr for people).
    let bad = dir.join("bad.toml");
    let text_plan = std::fs::read_to_string(&plan).unwrap();
    let broken = text_plan.replacen("threshold = 4", "threshold = 9", 1);
    assert_ne!(broken, text_plan);
    std::fs::write(&bad, &broken).unwrap();
    let o = cli(&[os("plan"), os("check"), bad.as_os_str(), os("--json")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "plan-check", &v);
    assert_eq!((v["result"].as_str(), v["exit_code"].as_i64()), (Some("invalid"), Some(2)));
    assert_eq!(v["errors"][0]["field"], "roles.root.threshold", "{v}");
    assert_eq!(v["sha256"], sha256_hex(broken.as_bytes()));
    assert!(String::from_utf8_lossy(&o.stderr).contains("roles.root.threshold"), "{}", text(&o));

    // A plan that cannot be read: exit 2 and nothing on stdout, as verify.
    let o = cli(&[os("plan"), os("check"), dir.join("missing.toml").as_os_str(), os("--json")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(o.stdout.is_empty(), "{}", text(&o));
}

/// `run PLAN --status --json` on the rehearsal in `r`.
fn run_status(r: &Path) -> Output {
    cli(&[os("run"), r.join("plan.toml").as_os_str(), os("--workdir"), r.join("work").as_os_str(), os("--status"), os("--json")])
}

#[test]
fn run_status_json_says_where_a_ceremony_stands() {
    let js = support::python_jsonschema();
    // Finished.
    let (r, media) = support::shared_rehearsal();
    let o = run_status(r);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "run-status", &v);
    assert_eq!((v["state"].as_str(), v["next"].as_str()), (Some("complete"), None));
    assert_eq!(v["done"], v["total"]);
    assert_eq!(strs(&v["keyholders"]["present"]), ["alice", "bob", "carol"]);
    assert_eq!(v["ceremony"], media.file_name().unwrap().to_str().unwrap());
    assert!(v["exported"][0]["folder"].as_str().unwrap().ends_with(media.file_name().unwrap().to_str().unwrap()), "{v}");
    // The transcript head exported is the one SUMMARY.txt names.
    let summary = std::fs::read_to_string(media.join("SUMMARY.txt")).unwrap();
    assert!(summary.contains(v["exported"][0]["transcript_head"].as_str().unwrap()), "{v}");

    // Stopped right after build.root: in progress, the next step the first not done.
    let tmp = tempfile::Builder::new().prefix("json-status-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let r = tmp.path().join("r");
    let o = Command::new(support::bin())
        .args(["rehearse", "--yes", "--out"])
        .arg(&r)
        .env("TUF_CEREMONY_CRASH_AFTER", "build.root")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!o.status.success(), "the crash hook stops it: {}", text(&o));
    let o = run_status(&r);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "run-status", &v);
    assert_eq!(v["state"], "in-progress");
    let state: Value = metadata(&r.join("work/state.json"));
    let completed = strs(&state["completed"]);
    assert_eq!(completed.last().map(String::as_str), Some("build.root"));
    let steps = v["steps"].as_array().unwrap();
    let done: Vec<String> = steps.iter().filter(|s| s["done"] == true).map(|s| s["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(done, completed, "the steps done are the state's");
    assert_eq!(v["done"], completed.len());
    assert_eq!(v["next"], "build.targets");
    // The text form is unchanged by the JSON form's existence, and human text never on stdout with --json.
    let t = cli(&[os("run"), r.join("plan.toml").as_os_str(), os("--workdir"), r.join("work").as_os_str(), os("--status")]);
    assert!(String::from_utf8_lossy(&t.stdout).contains(&format!("{} of {} steps done; next: build.targets", completed.len(), steps.len())), "{}", text(&t));
    // --json needs --status.
    let o = cli(&[os("run"), r.join("plan.toml").as_os_str(), os("--json")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// `run --status` only reads: a working directory not made yet is not made, and one copied
/// without its (empty) `metadata/` folder is left as it is.
#[test]
fn run_status_creates_nothing() {
    let (r, _) = support::shared_rehearsal();
    let tmp = tempfile::tempdir().unwrap();
    let plan = r.join("plan.toml");
    let status = |work: &Path| {
        let o = cli(&[os("run"), plan.as_os_str(), os("--workdir"), work.as_os_str(), os("--status"), os("--json")]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        json_of(&o)
    };
    let before = tree(tmp.path());
    let v = status(&tmp.path().join("not-yet.work"));
    assert_eq!(v["state"], "not-started", "{v}");
    assert_eq!(tree(tmp.path()), before, "no working directory was made");
    // The state and transcript of a finished run, copied without the metadata/ folder.
    let copy = tmp.path().join("copy.work");
    std::fs::create_dir(&copy).unwrap();
    for f in ["state.json", "transcript.jsonl"] {
        std::fs::copy(r.join("work").join(f), copy.join(f)).unwrap();
    }
    let before = tree(tmp.path());
    let v = status(&copy);
    assert_eq!(v["state"], "complete", "{v}");
    assert_eq!(tree(tmp.path()), before, "nothing made or changed in the working directory");
}

/// A folder's entries (recursively), each with the sha256 of its content (folders and
/// links marked as such), to show nothing was created, removed or changed.
fn tree(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let t = e.file_type().unwrap();
        if t.is_symlink() {
            out.push((p.clone(), format!("link to {}", std::fs::read_link(&p).unwrap().display())));
        } else if t.is_dir() {
            out.push((p.clone(), "folder".into()));
            out.extend(tree(&p));
        } else {
            out.push((p.clone(), sha256_hex(&std::fs::read(&p).unwrap())));
        }
    }
    out.sort();
    out
}

/// `COMMAND ARGS… --plan PLAN --current METADATA` on the shared rehearsal.
fn update(command: &str, args: &[&str]) -> Output {
    let (r, media) = support::shared_rehearsal();
    let (plan, current) = (r.join("plan.toml"), media.join("metadata"));
    let mut all = vec![os(command)];
    all.extend(args.iter().map(os));
    all.extend([os("--plan"), plan.as_os_str(), os("--current"), current.as_os_str()]);
    cli(&all)
}

#[test]
fn resign_and_claim_dry_run_json_show_the_changes_and_touch_nothing() {
    let js = support::python_jsonschema();
    let (r, media) = support::shared_rehearsal();
    let current = media.join("metadata");
    let before = tree(r);
    let root = metadata(&current.join("1.root.json"));
    let targets = metadata(&current.join("1.targets.json"));

    // resign: standard input is closed (a prompt would fail); exit 0, nothing signed or written.
    let o = update("resign", &["targets", "claimed", "--dry-run", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "update-preview", &v);
    assert_eq!((v["command"].as_str(), v["signed"].as_bool()), (Some("resign"), Some(false)));
    let roles = v["roles"].as_array().unwrap();
    assert_eq!(roles.len(), 2);
    let (t, c) = (&roles[0], &roles[1]);
    assert_eq!((t["role"].as_str(), t["old_version"].as_u64(), t["new_version"].as_u64()), (Some("targets"), Some(1), Some(2)));
    assert_eq!(t["old_expires"], targets["signed"]["expires"]);
    assert_eq!(t["keyids"], root["signed"]["roles"]["targets"]["keyids"], "targets is signed by the keys root lists for it");
    assert_eq!(t["threshold"], root["signed"]["roles"]["targets"]["threshold"]);
    let claimed = targets["signed"]["delegations"]["roles"].as_array().unwrap().iter().find(|d| d["name"] == "claimed").unwrap();
    assert_eq!((c["role"].as_str(), c["delegator"].as_str()), (Some("claimed"), Some("targets")));
    assert_eq!((&c["keyids"], &c["threshold"]), (&claimed["keyids"], &claimed["threshold"]), "claimed is signed by the keys targets delegates it to");
    assert_eq!(strs(&t["keyholders"]), ["alice", "bob", "carol"]);
    assert!(strs(&t["changes"]).iter().any(|l| l.contains("nothing else changed")), "{t}");
    assert_eq!(v["workdir"]["state"], "fresh");
    assert!(!Path::new(v["workdir"]["path"].as_str().unwrap()).exists(), "no working directory was made");

    // With the keyholders present named: one of a 2-of-3 role is refused as the run refuses it.
    let o = update("resign", &["targets", "--dry-run", "--json", "--keyholders", "alice"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(o.stdout.is_empty() && String::from_utf8_lossy(&o.stderr).contains("needs 2"), "{}", text(&o));
    let o = update("resign", &["targets", "--dry-run", "--json", "--keyholders", "alice,carol"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "update-preview", &v);
    assert_eq!((strs(&v["keyholders"]["present"]), strs(&v["keyholders"]["absent"])), (vec!["alice".to_string(), "carol".into()], vec!["bob".to_string()]));

    // claim: a reviewed list of two projects, one key each.
    use tuf_ceremony::signer::Signer;
    let tmp = tempfile::tempdir().unwrap();
    let mut list = Vec::new();
    let mut ids = std::collections::BTreeMap::new();
    for p in ["json-demo", "json-other"] {
        let k = tuf_ceremony::signer::software::SoftwareKey::generate(tuf_ceremony::tuf::keys::Algorithm::Ed25519, p).unwrap();
        let key = k.public_key().to_key();
        let kv: Value = serde_json::from_slice(&tuf_ceremony::tuf::encode::pretty(&key)).unwrap();
        ids.insert(p, sha256_hex(&tuf_ceremony::tuf::encode::canonical(&key)));
        list.push(serde_json::json!({"project": p, "keys": [kv], "threshold": 1}));
    }
    let list_file = tmp.path().join("list.json");
    std::fs::write(&list_file, serde_json::to_vec(&list).unwrap()).unwrap();
    let o = update("claim", &["--list", list_file.to_str().unwrap(), "--dry-run", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "update-preview", &v);
    assert_eq!(v["command"], "claim");
    let c = &v["roles"][0];
    assert_eq!((c["role"].as_str(), c["new_version"].as_u64()), (Some("claimed"), Some(2)));
    let added = c["claims"]["added"].as_array().unwrap();
    assert_eq!(added.len(), 2);
    for a in added {
        let p = a["project"].as_str().unwrap();
        assert_eq!(strs(&a["keyids"]), [ids[p].clone()], "{p}: the keyid of the key listed");
        assert_eq!(a["threshold"], 1);
    }

    // --json is for a dry run only: alone, a usage error before anything is read.
    let o = update("resign", &["targets", "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(o.stdout.is_empty() && String::from_utf8_lossy(&o.stderr).contains("--dry-run"), "{}", text(&o));
    // resign/claim --status has no JSON form (docs/run-status-json.md: job "update" is not
    // written): --json with it is the same usage error, not the text form on stdout.
    for o in [update("resign", &["targets", "--status", "--json"]), update("claim", &["--remove", "x", "--status", "--json"])] {
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(o.stdout.is_empty() && String::from_utf8_lossy(&o.stderr).contains("--dry-run"), "{}", text(&o));
    }
    // The text form of a dry run says what changes and that nothing was signed.
    let o = update("resign", &["targets", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("targets: version 1 -> 2"), "{}", text(&o));
    // After every dry run above: no file or folder made, removed or changed, byte for byte.
    assert_eq!(tree(r), before, "nothing in the rehearsal folder changed");
}

/// sha256 of securesystemslib's canonical encoding of `file`'s `signed` (canonical_sslib.py).
fn sslib_canonical_sha256(py: &Path, file: &Path) -> String {
    use std::io::Write;
    let signed = metadata(file)["signed"].clone();
    let mut child =
        Command::new(py).arg(support::repo_root().join("tests/python/canonical_sslib.py")).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{}\n", serde_json::to_string(&signed).unwrap()).as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hex = String::from_utf8(out.stdout).unwrap();
    sha256_hex(&tuf_ceremony::tuf::keys::unhex(hex.trim(), true).unwrap())
}

/// A targets v2 draft of the rehearsal with one more target, unsigned.
fn targets_draft(media: &Path, dir: &Path) -> PathBuf {
    let mut md = tuf_ceremony::tuf::metadata::Metadata::from_bytes(
        &std::fs::read(media.join("metadata/1.targets.json")).unwrap(),
        tuf_ceremony::tuf::metadata::Mode::Strict,
    )
    .unwrap();
    md.signatures.clear();
    md.signed.header_mut().version = 2;
    if let tuf_ceremony::tuf::metadata::Signed::Targets(t) = &mut md.signed {
        t.targets.insert("json-outputs.txt".into(), tuf_ceremony::tuf::metadata::TargetFile::from_data(b"json-outputs"));
    }
    let p = dir.join("2.targets.json");
    std::fs::write(&p, md.to_pretty_bytes()).unwrap();
    p
}

fn import(request: &Path, sigs: &[&Path], out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec![os("import-signatures"), request.as_os_str()];
    args.extend(sigs.iter().map(|s| s.as_os_str()));
    args.extend([os("--out"), out.as_os_str(), os("--json")]);
    args.extend(extra.iter().map(os));
    cli(&args)
}

#[test]
fn sign_request_and_import_signatures_json() {
    let Some(py) = support::python() else { return };
    let js = support::python_jsonschema();
    let (r, media) = support::shared_rehearsal();
    let tmp = tempfile::tempdir().unwrap();
    let draft = targets_draft(media, tmp.path());
    let stick = tmp.path().join("stick");
    std::fs::create_dir(&stick).unwrap();
    let md = media.join("metadata");
    let (root1, targets1) = (md.join("1.root.json"), md.join("1.targets.json"));
    let request_args = [
        os("sign-request"),
        draft.as_os_str(),
        os("--role"),
        os("targets"),
        os("--delegator"),
        root1.as_os_str(),
        os("--previous"),
        targets1.as_os_str(),
        os("--media"),
        stick.as_os_str(),
        os("--json"),
    ];
    let o = cli(&request_args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "sign-request", &v);
    assert_eq!((v["role"].as_str(), v["version"].as_u64(), v["written"].as_bool()), (Some("targets"), Some(2), Some(true)));
    assert_eq!(v["canonical_sha256"], sslib_canonical_sha256(&py, &draft), "the hash of the draft's canonical bytes, as securesystemslib encodes them");
    assert_eq!(v["pgp_words"].as_str().unwrap().split(' ').count(), 32);
    assert_eq!(v["pgp_words"], tuf_ceremony::util::pgpwords::phrase_of_hex(v["canonical_sha256"].as_str().unwrap()));
    let request = PathBuf::from(v["request_dir"].as_str().unwrap());
    let on_disk = metadata(&request.join("request.json"));
    assert_eq!((&on_disk["canonical_sha256"], &on_disk["keyholders"]), (&v["canonical_sha256"], &v["keyholders"]), "what request.json says");
    let root = metadata(&md.join("1.root.json"));
    let group = &v["signers"][0];
    assert_eq!(group["threshold"], root["signed"]["roles"]["targets"]["threshold"]);
    let keyids: Vec<Value> = group["keys"].as_array().unwrap().iter().map(|k| k["keyid"].clone()).collect();
    assert_eq!(Value::Array(keyids), root["signed"]["roles"]["targets"]["keyids"]);
    // The keyholder names come from the media's keys/<holder>/<holder>.key.json.
    for k in group["keys"].as_array().unwrap() {
        let h = k["keyholder"].as_str().unwrap();
        let key_file = media.join(format!("keys/{h}/{h}.key.json"));
        let key: tuf_ceremony::tuf::metadata::Key = tuf_ceremony::ceremony::plan::read_public_key(&key_file).unwrap();
        assert_eq!(k["keyid"].as_str(), Some(tuf_ceremony::tuf::keys::keyid(&key).as_str()), "{h}");
    }
    // Made again: the same request, found identical, nothing written.
    let v2 = json_of(&cli(&request_args));
    valid(js.as_deref(), "sign-request", &v2);
    assert_eq!((v2["written"].as_bool(), &v2["request_dir"]), (Some(false), &v["request_dir"]));

    // Two keyholders sign apart, typing the words they were given.
    let words = v["pgp_words"].as_str().unwrap();
    let sigs = tmp.path().join("sigs");
    for h in ["alice", "bob"] {
        let (res, _) = support::sign_apart_as(r, h, &request, &sigs, &[words]);
        res.unwrap_or_else(|e| panic!("{h}: {e}"));
    }
    let alice = sigs.join("targets-v2.alice.sig.json");
    let bob = sigs.join("targets-v2.bob.sig.json");
    assert!(alice.exists() && bob.exists(), "{:?}", std::fs::read_dir(&sigs).unwrap().map(|e| e.unwrap().file_name()).collect::<Vec<_>>());

    // One signature, --partial: written below threshold.
    let out = tmp.path().join("out-partial");
    let o = import(&request, &[&alice], &out, &["--partial"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "import-signatures", &v);
    assert_eq!((v["result"].as_str(), v["threshold_met"].as_bool()), (Some("partial"), Some(false)));
    assert!(Path::new(v["output"]["file"].as_str().unwrap()).exists());

    // A signature of other content (bob's, altered to claim another hash) is refused with its reason; nothing written.
    let mut forged = metadata(&bob);
    forged["canonical_sha256"] = Value::String("0".repeat(64));
    let forged_file = tmp.path().join("forged.sig.json");
    std::fs::write(&forged_file, serde_json::to_vec_pretty(&forged).unwrap()).unwrap();
    let out = tmp.path().join("out-refused");
    let o = import(&request, &[&alice, &forged_file], &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "import-signatures", &v);
    assert_eq!(v["result"], "refused");
    assert_eq!((v["files"][0]["accepted"].as_bool(), v["files"][1]["accepted"].as_bool()), (Some(true), Some(false)));
    assert!(v["files"][1]["reason"].as_str().unwrap().contains("signs different metadata"), "{v}");
    assert_eq!(v["output"], Value::Null);
    assert!(!out.exists(), "nothing written");
    assert_eq!(v["refusal"].as_str().map(|r| r.starts_with("refused; nothing was written")), Some(true), "{v}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("signs different metadata"), "and on stderr for people: {}", text(&o));

    // Both: threshold met, the file written, and python-tuf... the keyids are the signing keyholders'.
    let out = tmp.path().join("out");
    let o = import(&request, &[&alice, &bob], &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "import-signatures", &v);
    assert_eq!((v["result"].as_str(), v["threshold_met"].as_bool()), (Some("ok"), Some(true)));
    let written = PathBuf::from(v["output"]["file"].as_str().unwrap());
    assert_eq!(written, out.join("2.targets.json"));
    let signed = metadata(&written);
    let sig_ids: Vec<&Value> = signed["signatures"].as_array().unwrap().iter().map(|s| &s["keyid"]).collect();
    for (f, file) in v["files"].as_array().unwrap().iter().zip([&alice, &bob]) {
        assert_eq!(f["keyid"], metadata(file)["keyid"]);
        assert!(sig_ids.contains(&&f["keyid"]));
    }
    assert_eq!(v["checks"][0]["valid"], 2);
}

#[test]
fn keygen_json_goes_to_stdout_and_the_prompts_to_the_terminal() {
    let Some(tty_py) = support::tty::python3() else { return };
    let Some(py) = support::python() else { return };
    let js = support::python_jsonschema();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (key, public, out) = (d.join("k.pem"), d.join("k.json"), d.join("out.json"));
    // A shell sends the tool's standard output to a file; the pseudo-terminal stays its terminal.
    let script =
        format!("exec \"$0\" keygen --algorithm ecdsa-p256 --out '{}' --public-out '{}' --json > '{}'", key.display(), public.display(), out.display());
    let pw = "json-outputs-passphrase";
    let s = support::tty::drive_program(
        &tty_py,
        Path::new("/bin/sh"),
        &["-c", &script, support::bin().to_str().unwrap()],
        &[support::tty::secret("New passphrase", pw), support::tty::secret("Repeat passphrase", pw)],
        &d.join("session.log"),
    );
    assert_eq!(s.exit, Some(0), "{}", s.text());
    assert!(!s.text().contains("\"schema\""), "no JSON on the terminal: {}", s.text());
    let bytes = std::fs::read(&out).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("passphrase"), "no prompt in the JSON output");
    let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
    valid(js.as_deref(), "keygen", &v);
    assert_eq!((v["keytype"].as_str(), v["scheme"].as_str(), v["algorithm"].as_str()), (Some("ecdsa"), Some("ecdsa-sha2-nistp256"), Some("ecdsa-p256")));
    // The keyid is securesystemslib's for the public key written, and the key object is the file's.
    let pem = d.join("k.pub.pem");
    std::fs::write(&pem, v["key"]["keyval"]["public"].as_str().unwrap()).unwrap();
    assert_eq!(v["keyid"].as_str(), support::sslib_keyids(&py, std::slice::from_ref(&pem)).get(&pem.display().to_string()).map(String::as_str));
    assert_eq!(v["key"], metadata(&public));
    assert_eq!((v["files"]["private_key"].as_str(), v["files"]["public_key"].as_str()), (key.to_str(), public.to_str()));
    assert!(std::fs::read_to_string(&key).unwrap().contains("ENCRYPTED PRIVATE KEY"));
}

#[test]
fn attest_json_matches_its_schema_on_the_psf_products() {
    let Some(products) = support::psf_products() else { return };
    let Some(py) = support::python() else { return };
    let js = support::python_jsonschema();
    let o = cli(&[os("attest"), products.as_os_str(), os("--json"), os("--at"), os("2026-08-22T00:00:00Z")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "attest", &v);
    let keys = v["keys"].as_array().unwrap();
    let pems: Vec<PathBuf> = keys.iter().map(|k| products.join(k["file"].as_str().unwrap())).collect();
    let sslib = support::sslib_keyids(&py, &pems);
    for (k, p) in keys.iter().zip(&pems) {
        assert_eq!(k["keyid"].as_str(), sslib.get(&p.display().to_string()).map(String::as_str), "{}", k["file"]);
    }
    assert_eq!(v["counts"]["attested"], 6);
}

#[test]
fn verify_and_status_json_match_their_schemas() {
    let js = support::python_jsonschema();
    let (_, media) = support::shared_rehearsal();
    // A ceremony's media (evidence), and Sigstore's real root chain with its YubiKey attestations.
    let o = cli(&[os("verify"), media.as_os_str(), os("--json")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "verify", &v);
    assert_eq!(v["folder"], "ceremony-media");
    assert_eq!(v["trusted_root"]["sha256"], sha256_hex(&std::fs::read(media.join("metadata/1.root.json")).unwrap()));
    assert_eq!(v["evidence"]["sha256sums"]["sha256"], sha256_hex(&std::fs::read(media.join("SHA256SUMS")).unwrap()));
    if support::shared_real().is_some() {
        let chain = support::real("sigstore-root-chain");
        let keys = support::real("sigstore-attestations/2021-06-18");
        let o = cli(&[os("verify"), chain.as_os_str(), os("--json"), os("--attestations"), keys.as_os_str()]);
        let v = json_of(&o);
        valid(js.as_deref(), "verify", &v);
        assert_eq!(v["exit_code"].as_i64(), o.status.code().map(i64::from));
        let newest = (1..).take_while(|n| chain.join(format!("{n}.root.json")).exists()).last().unwrap();
        assert_eq!(v["chain"]["newest"], newest, "every root in the folder verifies");
        assert!(v["attestations"]["keys"].as_array().unwrap().iter().any(|k| k["bound"] == true), "{}", v["attestations"]);
    }
    // status: the format/format_version pair names its schema.
    let o = cli(&[os("status"), media.as_os_str(), os("--json")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    if let Some(js) = &js
        && let Err(e) = support::schema_check(js, "status", &v)
    {
        panic!("status: {e}");
    }
    for r in v["roles"].as_array().unwrap() {
        let file = metadata(&media.join("metadata").join(r["file"].as_str().unwrap()));
        assert_eq!((&r["version"], &r["expires"]), (&file["signed"]["version"], &file["signed"]["expires"]), "{}", r["role"]);
    }
}

/// Every schema requires every field it describes (at the top level and in each `$defs`
/// object), so a document missing one fails; its doc page names each top-level field.
#[test]
fn the_schemas_are_not_vacuous() {
    let js = support::python_jsonschema();
    let dir = support::repo_root().join("docs/schemas");
    let all = ["plan-check", "run-status", "update-preview", "sign-request", "import-signatures", "keygen", "attest", "verify", "status"];
    for name in all {
        let schema = metadata(&dir.join(format!("{name}.schema.json")));
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema", "{name}");
        // status names its schema with format and format_version (docs/status-json.md).
        let (field, named) = if name == "status" { ("format", "tuf-ceremony-status".to_string()) } else { ("schema", format!("tuf-ceremony-{name}/1")) };
        assert_eq!(schema["properties"][field]["const"], named, "{name}");
        let mut objects = vec![("(top)".to_string(), schema.clone())];
        objects.extend(schema["$defs"].as_object().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())));
        for (what, o) in objects.iter().filter(|(_, o)| o["properties"].is_object()) {
            let props: std::collections::BTreeSet<String> = o["properties"].as_object().unwrap().keys().cloned().collect();
            let required: std::collections::BTreeSet<String> = strs(&o["required"]).into_iter().collect();
            assert_eq!(props, required, "{name} {what}: every field described is required");
        }
        let doc = std::fs::read_to_string(support::repo_root().join(format!("docs/{name}-json.md"))).unwrap();
        for f in strs(&schema["required"]) {
            assert!(doc.contains(&format!("| `{f}` |")), "docs/{name}-json.md has no row for `{f}`");
        }
        assert!(doc.contains(&named) && doc.contains(&format!("schemas/{name}.schema.json")), "docs/{name}-json.md names its schema");
    }
    // A real output passes, and fails once a required field is gone or has another type.
    let Some(js) = js else { return };
    let (r, _) = support::shared_rehearsal();
    let v = json_of(&run_status(r));
    assert!(support::schema_check(&js, "run-status", &v).is_ok());
    let mut missing = v.clone();
    missing.as_object_mut().unwrap().remove("next");
    let e = support::schema_check(&js, "run-status", &missing).unwrap_err();
    assert!(e.contains("'next' is a required property"), "{e}");
    let mut wrong = v.clone();
    wrong["steps"][0]["done"] = Value::String("yes".into());
    assert!(support::schema_check(&js, "run-status", &wrong).is_err());
    let mut other = v;
    other["schema"] = Value::String("tuf-ceremony-run-status/2".into());
    assert!(support::schema_check(&js, "run-status", &other).is_err(), "another schema version is refused");
}

/// A dry run reads the working directory as the run would, and changes nothing in it: one
/// holding this update (begun, clock confirmed, drafts built, stopped at a signature) shows
/// those drafts and the confirmed ceremony time; one holding another update is refused with
/// the run's own words and exit code.
#[test]
fn a_dry_run_reads_the_working_directory_as_the_run_would() {
    use std::sync::Arc;
    use tuf_ceremony::ceremony::engine::{Engine, Options};
    use tuf_ceremony::ceremony::job::{Job, Update, read_current};
    use tuf_ceremony::ceremony::plan::Plan;
    use tuf_ceremony::ceremony::tokens::Tokens;
    use tuf_ceremony::ceremony::ui::{AutoUi, SecretKind};
    let js = support::python_jsonschema();
    let (tmp, dir, media) = support::fresh_rehearsal("json-dry-resume-");
    let (plan_file, current) = (dir.join("plan.toml"), media.join("metadata"));
    // The update `resign targets` begins in the room: the clock is confirmed and targets v2
    // built, then it stops at the first passphrase (none is known here).
    let plan = Plan::load(&plan_file, chrono::Utc::now()).unwrap();
    let u = Update {
        label: "resign-targets-v2".into(),
        roles: vec!["targets".into()],
        claims: None,
        expires_days: None,
        json_diff: false,
        current: Arc::new(read_current(&current).unwrap()),
    };
    let work = dir.join(format!("{}-resign-targets-v2.work", plan.id));
    let stick = tmp.path().join("stick");
    std::fs::create_dir_all(&stick).unwrap();
    let mut ui = AutoUi { secrets: |_: &str, _: &SecretKind| None, quiet: true };
    let mut tokens = Tokens::new(dir.join("tokens"));
    let opts = Options { media: stick.clone(), rehearsal: true, job: Job::Update(u), ..Default::default() };
    let mut engine = Engine::open(&plan, &work, &mut ui, &mut tokens, opts).unwrap();
    assert!(engine.run().is_err(), "it stops at the first passphrase");
    drop(engine);
    let state = metadata(&work.join("state.json"));
    assert!(strs(&state["completed"]).contains(&"build.update".to_string()), "{state}");
    let draft = metadata(&work.join("metadata/targets.json"));
    // A second later, so the clock now and the ceremony time confirmed differ.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let before = tree(&dir);

    let dry = |roles: &[&str], extra: &[&str]| {
        let mut all = vec![os("resign")];
        all.extend(roles.iter().map(os));
        all.extend([os("--plan"), plan_file.as_os_str(), os("--current"), current.as_os_str()]);
        all.extend(extra.iter().map(os));
        cli(&all)
    };
    let o = dry(&["targets"], &["--dry-run", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    valid(js.as_deref(), "update-preview", &v);
    assert_eq!((v["workdir"]["state"].as_str(), v["workdir"]["path"].as_str()), (Some("resume"), work.to_str()));
    assert_eq!(v["at"], state["ceremony_time"], "the expiry dates count from the ceremony time confirmed there");
    let t = &v["roles"][0];
    assert_eq!((&t["new_version"], &t["new_expires"]), (&draft["signed"]["version"], &draft["signed"]["expires"]), "the draft built there");
    let o = dry(&["targets"], &["--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("holds this update, begun earlier; the run resumes it") && out.contains("ceremony time confirmed there"), "{out}");

    // Another update (claimed) in the same working directory: refused as the run refuses it.
    let w = work.to_str().unwrap();
    let o = dry(&["claimed"], &["--workdir", w, "--dry-run", "--json"]);
    let real = dry(&["claimed"], &["--workdir", w, "--media", stick.to_str().unwrap(), "--allow-network"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(o.stdout.is_empty(), "{}", text(&o));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("holds another run") && e.contains("update resign-targets-v2 of targets begun") && e.contains("--set-aside"), "{e}");
    assert_eq!((o.status.code(), &o.stderr), (real.status.code(), &real.stderr), "the same refusal as the run's:\n{}", text(&real));

    // A working directory not there yet: fresh, and not made.
    let elsewhere = tmp.path().join("other.work");
    let o = dry(&["targets"], &["--workdir", elsewhere.to_str().unwrap(), "--dry-run", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json_of(&o)["workdir"]["state"], "fresh");
    assert!(!elsewhere.exists());
    assert_eq!(tree(&dir), before, "nothing in the rehearsal folder (the working directory in it) changed");
}

/// A reader that leaves before anything is written (`… --json | head -c1`, `--help | true`)
/// is no panic: the tool ends as it would have, quietly (print! would panic, exit 101).
#[test]
fn a_reader_that_left_is_no_panic() {
    let (r, media) = support::shared_rehearsal();
    let plan = r.join("plan.toml");
    let runs: [(&[&std::ffi::OsStr], i32); 9] = [
        (&[os("--help")], 0),
        (&[os("plan"), os("new")], 0),
        (&[os("version")], 0),
        (&[os("plan"), os("check"), plan.as_os_str()], 0),
        (&[os("verify"), os("--help")], 0),
        (&[os("verify"), media.as_os_str(), os("--json")], 0),
        (&[os("verify"), media.as_os_str()], 0),
        (&[os("status"), media.as_os_str(), os("--json")], 0),
        (&[os("plan"), os("check"), plan.as_os_str(), os("--json")], 0),
    ];
    for (args, code) in runs {
        let mut child = Command::new(support::bin()).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // The read end is closed at once, before the program can have written.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: a reader that left is not an error: {err}");
    }
}
