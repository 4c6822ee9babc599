//! Keys from an earlier ceremony (issue #15, item 3): a plan keyholder naming an existing
//! public key is never provisioned, only asked to sign.
//!
//! * The PSF's 2020 keys (read from ../shared, never copied here): `plan new --template
//!   psf2020` names the twelve keys, `plan check` lists each keyid (equal to
//!   securesystemslib's for the same PEM) and marks the six YubiHSM 2 keys attested and the
//!   six Nitrokey keys not; `plan drafts` builds unsigned root and targets drafts that
//!   python-tuf loads with the same keyids and 4-of-6 thresholds; a signature request from
//!   them names the PSF's keyholders; `sign` and a rehearsal refuse, saying nothing here can
//!   sign with those keys.
//! * Every key encoding the PSF left (raw SEC1 point, DER and PEM SubjectPublicKeyInfo)
//!   gives one keyid; an attestation of another key or from another serial is a plan error.
//! * A ceremony with software tokens whose keys come from the plan: recorded from the plan
//!   (no intent entry, nothing generated, the key file's sha256 in the transcript), signed
//!   by the token that holds the plan's key, refused before any passphrase when the token
//!   holds another key, and resumed with the state checked against the transcript.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tuf_ceremony::ceremony::engine::{Engine, Options};
use tuf_ceremony::ceremony::plan::Plan;
use tuf_ceremony::ceremony::tokens::{TokenBackend, Tokens};
use tuf_ceremony::signer::Signer;
use tuf_ceremony::signer::software::SoftwareKey;
use tuf_ceremony::tuf::keys::sha256_hex;

fn cli(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(support::bin()).args(args).env_remove("TUF_CEREMONY_CRASH_AFTER").output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

/// `plan check`'s section on keys from an earlier ceremony: name → (keyid, file, attested line).
fn earlier_keys_section(check: &str) -> Vec<(String, String, String, String)> {
    let section = check.split("Keys from an earlier ceremony").nth(1).expect("section").split("\n\n").next().unwrap();
    let mut out = Vec::new();
    let lines: Vec<&str> = section.lines().skip(1).collect();
    let mut i = 0;
    while i < lines.len() {
        let name = lines[i].trim().to_string();
        let keyid = lines[i + 1].trim().strip_prefix("keyid").unwrap().trim().to_string();
        let file = lines[i + 2].trim().strip_prefix("file").unwrap().trim().split(" (").next().unwrap().to_string();
        let attested = lines[i + 4].trim().to_string();
        out.push((name, keyid, file, attested));
        i += 5;
        while i < lines.len() && lines[i].trim().starts_with("warning:") {
            i += 1;
        }
    }
    out
}

#[test]
fn the_psf_example_plan_lists_twelve_keyids_and_builds_drafts_python_tuf_loads() {
    let Some(products) = support::psf_products() else { return };
    let Some(py) = support::python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let plan = support::psf_plan(dir, &products, "psf-2020");

    // plan check: twelve keyids, each securesystemslib's for its PEM; YubiHSM 2 attested.
    let o = cli(&[os("plan"), os("check"), plan.as_os_str()]);
    assert!(o.status.success(), "{}", text(&o));
    let check = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(check.contains("Keys from an earlier ceremony (12, 6 attested)"), "{check}");
    let keys = earlier_keys_section(&check);
    assert_eq!(keys.len(), 12, "{check}");
    let pems: Vec<PathBuf> = keys.iter().map(|k| dir.join(&k.2)).collect();
    let sslib = support::sslib_keyids(&py, &pems);
    for ((name, id, _, attested), pem) in keys.iter().zip(&pems) {
        assert_eq!(Some(id), sslib.get(&pem.display().to_string()), "{name}: keyid differs from securesystemslib's");
        if name.starts_with("yubihsm2-") {
            assert!(attested.starts_with("attested: YubiHSM 2 serial 132004") && attested.contains("origin generated"), "{name}: {attested}");
        } else {
            assert!(name.starts_with("nitrokey-hsm-DENK") && attested.starts_with("not attested"), "{name}: {attested}");
        }
    }
    let ids: std::collections::BTreeSet<&String> = keys.iter().map(|k| &k.1).collect();
    assert_eq!(ids.len(), 12);

    // plan drafts: unsigned root and targets that python-tuf loads with the same keyids and thresholds.
    let drafts = dir.join("drafts");
    let o = cli(&[os("plan"), os("drafts"), plan.as_os_str(), os("--out"), drafts.as_os_str(), os("--at"), os("2026-12-01T00:00:00Z")]);
    assert!(o.status.success(), "{}", text(&o));
    let md = drafts.join("metadata");
    let (ok, out) = support::run_python(&py, "check_drafts.py", &[md.join("1.root.json").as_os_str(), md.join("1.targets.json").as_os_str()]);
    assert!(ok, "python-tuf: {out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    for role in ["root", "targets"] {
        let want: Vec<&String> = {
            let mut w: Vec<&String> = keys.iter().filter(|k| k.0.ends_with(&format!("-{role}"))).map(|k| &k.1).collect();
            w.sort();
            w
        };
        let got: Vec<&str> = v["root"]["roles"][role]["keyids"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
        assert_eq!(got, want.iter().map(|s| s.as_str()).collect::<Vec<_>>(), "{role} keyids");
        assert_eq!(v["root"]["roles"][role]["threshold"], 4, "{role} threshold");
    }
    for (listed, computed) in v["root"]["keys"].as_object().unwrap() {
        assert_eq!(Some(listed.as_str()), computed.as_str(), "python-tuf computes another keyid for {listed}");
    }
    assert_eq!(v["root"]["keys"].as_object().unwrap().len(), 14, "12 offline keys and 2 online");
    assert_eq!((v["root"]["signatures"].as_u64(), v["targets"]["signatures"].as_u64()), (Some(0), Some(0)), "drafts are unsigned");
    let schemes: std::collections::BTreeSet<&str> = v["root"]["schemes"].as_object().unwrap().values().map(|s| s.as_str().unwrap()).collect();
    assert!(schemes.contains("ecdsa-sha2-nistp384") && schemes.contains("ecdsa-sha2-nistp256"), "{schemes:?}");

    // A signature request made from them names the PSF's keyholders.
    let stick = dir.join("stick");
    std::fs::create_dir(&stick).unwrap();
    for (role, delegator) in [("root", "1.root.json"), ("targets", "1.root.json")] {
        let draft = md.join(format!("1.{role}.json"));
        let o = cli(&[
            os("sign-request"),
            draft.as_os_str(),
            os("--role"),
            os(role),
            os("--delegator"),
            md.join(delegator).as_os_str(),
            os("--media"),
            stick.as_os_str(),
            os("--clients"),
            os("python-tuf,go-tuf"),
        ]);
        assert!(o.status.success(), "sign-request {role}: {}", text(&o));
        let req = std::fs::read_dir(&stick)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("sign-{role}-v1-")))
            .unwrap();
        let r: Value = serde_json::from_slice(&std::fs::read(req.join("request.json")).unwrap()).unwrap();
        let named: std::collections::BTreeMap<&str, &str> =
            r["keyholders"].as_object().unwrap().iter().map(|(k, n)| (k.as_str(), n.as_str().unwrap())).collect();
        let want: std::collections::BTreeMap<&str, &str> =
            keys.iter().filter(|k| k.0.ends_with(&format!("-{role}"))).map(|k| (k.1.as_str(), k.0.as_str())).collect();
        assert_eq!(named, want, "{role}: the request names the PSF's keyholders");
        let summary = std::fs::read_to_string(req.join("SUMMARY.txt")).unwrap();
        assert!(summary.contains("4 of these 6 keys") && summary.contains("yubihsm2-13200460") && summary.contains("nitrokey-hsm-DENK0200473"), "{summary}");

        // Nothing here can sign with the PSF's keys: sign refuses before anything is asked.
        let holder = format!("yubihsm2-13200461-{role}");
        let o = cli(&[os("sign"), req.as_os_str(), os("--keyholder"), os(&holder), os("--plan"), plan.as_os_str()]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let t = text(&o);
        assert!(
            t.contains("YubiHSM 2 serial 13200461")
                && t.contains("no back end")
                && t.contains("nothing here can sign with it")
                && t.contains("nothing was asked or signed"),
            "{t}"
        );
        assert!(!std::fs::read_dir(&req).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".sig.json")));
    }

    // A ceremony cannot sign either (no keyholder's device has a back end here) ...
    let o = cli(&[os("run"), plan.as_os_str(), os("--media"), stick.as_os_str(), os("--workdir"), dir.join("w").as_os_str(), os("--allow-network")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("root needs 4 of its keyholders") && text(&o).contains("plan drafts"), "{}", text(&o));
    assert!(!dir.join("w").exists(), "nothing was written");
    // ... nor a rehearsal, and it says why.
    let o = cli(&[os("rehearse"), os("--plan"), plan.as_os_str(), os("--yes"), os("--out"), dir.join("reh").as_os_str()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("a rehearsal cannot sign with keys from an earlier ceremony") && t.contains("private keys are on the keyholders' devices"), "{t}");
}

/// A plan naming one PSF key: `key` and `attestation` lines as given.
fn one_key_plan(dir: &Path, key_lines: &str) -> Result<Plan, String> {
    let text = format!(
        "[ceremony]\nid = \"x\"\nclients = [\"python-tuf\", \"go-tuf\"]\n\n[[keyholder]]\nname = \"k\"\n{key_lines}\n\n\
         [roles.root]\nkeyholders = [\"k\"]\nthreshold = 1\nexpires_days = 365\n[roles.targets]\nkeyholders = [\"k\"]\nthreshold = 1\nexpires_days = 365\n\
         [roles.snapshot]\nkey = \"online/snapshot.pub\"\n[roles.timestamp]\nkey = \"online/timestamp.pub\"\n"
    );
    Plan::parse(text.as_bytes(), dir, chrono::Utc::now()).map_err(|e| e.to_string())
}

#[test]
fn every_encoding_the_psf_left_gives_one_keyid_and_a_wrong_attestation_is_a_plan_error() {
    let Some(products) = support::psf_products() else { return };
    let tmp = tempfile::tempdir().unwrap();
    support::online_keys(tmp.path());
    let p = |rel: &str| products.join(rel).display().to_string();
    let keyid_of = |lines: String| one_key_plan(tmp.path(), &lines).unwrap().keyholders[0].existing.as_ref().unwrap().keyid.clone();
    for (serial, device) in [("0013200460", "yubihsm2"), ("DENK0200473", "nitrokey-hsm")] {
        let pem = keyid_of(format!("device = \"{device}\"\nkey = {:?}", p(&format!("{serial}/{serial}_root_pubkey.pem"))));
        let raw = keyid_of(format!("device = \"{device}\"\nkey = {:?}", p(&format!("{serial}/{serial}_root_pubkey.pub"))));
        assert_eq!(pem, raw, "{serial}: .pub (SEC1 point or DER SPKI) and .pem give one keyid");
    }
    let root = p("0013200460/0013200460_root_pubkey.pub");
    let att = |k: &str| format!("[{:?}, {:?}]", p(&format!("0013200460/0013200460_{k}_attestation.der")), p("0013200460/0013200460_cert.der"));
    let ok = one_key_plan(tmp.path(), &format!("device = \"yubihsm2\"\nserial = \"13200460\"\nkey = {root:?}\nattestation = {}", att("root"))).unwrap();
    let a = ok.keyholders[0].existing.as_ref().unwrap().attestation.as_ref().expect("attested");
    assert_eq!((a.serial, a.firmware.map(|f| f.to_string())), (Some(13200460), Some("2.1.2".into())));
    assert!(ok.files.iter().any(|f| f.field == "keyholder[0].attestation[1]"), "attestation files are in the plan digest");
    let e = one_key_plan(tmp.path(), &format!("device = \"yubihsm2\"\nkey = {root:?}\nattestation = {}", att("targets"))).unwrap_err();
    assert!(e.starts_with("keyholder[0].attestation: the attestation is for another key"), "{e}");
    let e = one_key_plan(tmp.path(), &format!("device = \"yubihsm2\"\nserial = \"13200461\"\nkey = {root:?}\nattestation = {}", att("root"))).unwrap_err();
    assert!(e.contains("from serial 13200460, not the plan's serial 13200461"), "{e}");
    let e = one_key_plan(tmp.path(), &format!("device = \"nitrokey-hsm\"\nkey = {root:?}\nattestation = {}", att("root"))).unwrap_err();
    assert!(e.contains("yubihsm2") && e.starts_with("keyholder[0].attestation"), "{e}");
    let e = one_key_plan(tmp.path(), &format!("key = {:?}", p("0013200460/0013200460_cert.der"))).unwrap_err();
    assert!(e.starts_with("keyholder[0].key:") && e.contains("certificate"), "{e}");
}

/// Software tokens for `holders` in `dir/tokens` (each with a REHEARSAL-PASSPHRASE, as the
/// tests' operators read), made by the software back end itself.
fn software_tokens(dir: &Path, holders: &[&str]) {
    support::online_keys(dir);
    let list: Vec<String> = holders.iter().map(|h| format!("[[keyholder]]\nname = {h:?}\ntoken = \"software\"\n")).collect();
    let names: Vec<String> = holders.iter().map(|h| format!("{h:?}")).collect();
    let text = format!(
        "[ceremony]\nid = \"t\"\n{}\n[roles.root]\nkeyholders = [{1}]\nthreshold = 1\nexpires_days = 365\n[roles.targets]\nkeyholders = [{1}]\nthreshold = 1\nexpires_days = 365\n\
         [roles.snapshot]\nkey = \"online/snapshot.pub\"\n[roles.timestamp]\nkey = \"online/timestamp.pub\"\n",
        list.join("\n"),
        names.join(", ")
    );
    let plan = Plan::parse(text.as_bytes(), dir, chrono::Utc::now()).unwrap();
    let tokens = dir.join("tokens");
    let mut backend = tuf_ceremony::ceremony::tokens::SoftwareTokens { dir: tokens.clone() };
    let mut ui = support::rehearsal_ui(tokens.clone());
    for h in &plan.keyholders {
        std::fs::create_dir_all(tokens.join(&h.name)).unwrap();
        std::fs::write(tuf_ceremony::ceremony::rehearse::passphrase_file(&tokens, &h.name), format!("passphrase-of-{}", h.name)).unwrap();
        backend.provision(h, &mut ui).unwrap();
    }
}

/// A plan for alice, bob (keys from the plan: `alice_key`, `bob_key`) and, if `carol`, carol
/// (a key made in the ceremony); root and targets 2 of them.
fn ceremony_plan(dir: &Path, alice_key: &str, bob_key: &str, carol: bool) -> PathBuf {
    let mut s = format!(
        "[ceremony]\nid = \"earlier\"\n\n[[keyholder]]\nname = \"alice\"\ntoken = \"software\"\ndevice = \"software\"\nkey = {alice_key:?}\n\n\
         [[keyholder]]\nname = \"bob\"\ntoken = \"software\"\nkey = {bob_key:?}\n\n"
    );
    let holders = if carol {
        s.push_str("[[keyholder]]\nname = \"carol\"\ntoken = \"software\"\n\n");
        "\"alice\", \"bob\", \"carol\""
    } else {
        "\"alice\", \"bob\""
    };
    s.push_str(&format!(
        "[roles.root]\nkeyholders = [{holders}]\nthreshold = 2\nexpires_days = 365\n[roles.targets]\nkeyholders = [{holders}]\nthreshold = 2\nexpires_days = 365\n\
         [roles.snapshot]\nkey = \"online/snapshot.pub\"\n[roles.timestamp]\nkey = \"online/timestamp.pub\"\n"
    ));
    let p = dir.join("plan.toml");
    std::fs::write(&p, s).unwrap();
    p
}

fn transcript_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn a_ceremony_records_plan_keys_without_a_token_and_signs_with_the_device_holding_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    software_tokens(dir, &["alice", "bob", "carol", "dave"]);
    // alice's key as the TUF key JSON her token shows; bob's as a PEM from "an earlier ceremony".
    let bob_pem = {
        let k = std::fs::read(dir.join("tokens/bob/public.json")).unwrap();
        let key = tuf_ceremony::ceremony::existing_key::read_key(&k).unwrap().1;
        std::fs::write(dir.join("bob.pem"), key.to_pem()).unwrap();
        "bob.pem"
    };
    for f in ["key.pem", "public.json", "serial"] {
        std::fs::remove_file(dir.join("tokens/carol").join(f)).unwrap(); // carol's key is made in the ceremony
    }
    let plan_path = ceremony_plan(dir, "tokens/alice/public.json", bob_pem, true);
    let plan = Plan::load(&plan_path, chrono::Utc::now()).unwrap();
    let alice_id = plan.keyholder("alice").unwrap().existing.as_ref().unwrap().keyid.clone();
    let media = dir.join("media");
    std::fs::create_dir(&media).unwrap();
    let work = dir.join("work");
    let opts = Options { media: media.clone(), rehearsal: true, ..Default::default() };
    let mut tokens = Tokens::new(dir.join("tokens"));
    let mut ui = support::rehearsal_ui(dir.join("tokens"));
    let done = Engine::open(&plan, &work, &mut ui, &mut tokens, opts.clone()).unwrap().run().unwrap();

    let lines = transcript_lines(&work.join("transcript.jsonl"));
    let key = |h: &str| lines.iter().find(|l| l["kind"] == "key" && l["keyholder"] == h).cloned().unwrap();
    for (h, file) in [("alice", "tokens/alice/public.json"), ("bob", "bob.pem")] {
        let k = key(h);
        assert_eq!(k["source"], "plan", "{k}");
        assert_eq!(k["generated"], false);
        assert_eq!(k["key_file"], file);
        assert_eq!(k["key_file_sha256"], sha256_hex(&std::fs::read(dir.join(file)).unwrap()));
        assert_eq!(k["attested"], false);
        assert!(!lines.iter().any(|l| l["kind"] == "key.intent" && l["keyholder"] == h), "{h}: no token was asked to make a key");
    }
    assert_eq!(key("alice")["keyid"], alice_id.as_str());
    assert_eq!(key("alice")["key_file_encoding"], "tuf-json");
    assert_eq!(key("bob")["key_file_encoding"], "pem-spki");
    assert_eq!(key("carol")["generated"], true, "carol's key is made in the ceremony");
    for h in ["alice", "bob", "carol"] {
        assert!(lines.iter().filter(|l| l["kind"] == "signature" && l["keyholder"] == h).count() == 2, "{h} signs root and targets");
    }
    let root = tuf_ceremony::tuf::metadata::Metadata::from_bytes(
        &std::fs::read(done.media_dir.join("metadata/1.root.json")).unwrap(),
        tuf_ceremony::tuf::metadata::Mode::Strict,
    )
    .unwrap();
    let r = root.signed.as_root().unwrap();
    assert!(r.roles["root"].keyids.contains(&alice_id));
    assert!(root.signatures.iter().any(|s| s.keyid == alice_id));
    // A resume checks the state against the transcript, plan keys included.
    let mut ui = support::rehearsal_ui(dir.join("tokens"));
    let again = Engine::open(&plan, &work, &mut ui, &mut tokens, opts).unwrap().run().unwrap();
    assert_eq!(again.transcript_head, done.transcript_head);
}

#[test]
fn a_token_holding_another_key_than_the_plans_is_refused_before_any_passphrase() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    software_tokens(dir, &["alice", "bob", "zed"]);
    // The plan says alice's key is zed's: alice's own token holds another key.
    let plan_path = ceremony_plan(dir, "tokens/zed/public.json", "tokens/bob/public.json", false);
    let plan = Plan::load(&plan_path, chrono::Utc::now()).unwrap();
    let media = dir.join("media");
    std::fs::create_dir(&media).unwrap();
    let work = dir.join("work");
    let opts = Options { media, rehearsal: true, ..Default::default() };
    for attempt in 0..2 {
        // The second attempt resumes: the state (plan keys recorded) is checked against the transcript.
        let mut tokens = Tokens::new(dir.join("tokens"));
        let mut ui = support::RemoteKeyholder::new(&dir.join("tokens"), &[]);
        let err = Engine::open(&plan, &work, &mut ui, &mut tokens, opts.clone()).unwrap().run().expect_err("refused");
        let msg = err.to_string();
        assert!(msg.contains("alice's token holds key") && msg.contains("not the key") && msg.contains("Nothing was asked"), "attempt {attempt}: {msg}");
        assert_eq!(ui.secrets_asked, 0, "attempt {attempt}: no passphrase was asked");
    }
    let lines = transcript_lines(&work.join("transcript.jsonl"));
    assert_eq!(lines.iter().filter(|l| l["kind"] == "ceremony.resume").count(), 1);
    assert!(!lines.iter().any(|l| l["kind"] == "signature"), "nothing was signed");
    // The token itself is unchanged and still signs with its own key.
    let pass = std::fs::read_to_string(tuf_ceremony::ceremony::rehearse::passphrase_file(&dir.join("tokens"), "alice")).unwrap();
    let mut k =
        SoftwareKey::from_encrypted_pem(&std::fs::read_to_string(dir.join("tokens/alice/key.pem")).unwrap(), pass.as_bytes(), "alice".to_string()).unwrap();
    assert!(!k.sign_checked(b"x").unwrap().is_empty());
}
