//! YubiHSM 2 attestation and `tuf-ceremony attest` (issue #15 items 1 and 2).
//!
//! Real data: the PSF's 2020 ceremony products, read from
//! `../shared/fixtures/real/psf-2020-ceremony/` (never copied into the project; a test copies
//! parts into a temporary folder to change them). Synthetic negatives: the project-made chain
//! in `fixtures/yubihsm-synthetic/` (made by its `make.sh`), whose root copies Yubico's names.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use tuf_ceremony::attest::discover::{self, Layout, Stores};
use tuf_ceremony::attest::{self, AttestError, AttestWarning, Device, Firmware, Refusal, Roots, products};
use tuf_ceremony::tuf::finding::Severity;

const PSF_SERIALS: [u32; 3] = [13200460, 13200461, 13200462];
/// Inside every certificate's validity (the PSF's run 2017..2071).
const AT: &str = "2026-12-01T00:00:00Z";

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
}

/// Inside the synthetic certificates' validity (100 years from the day make.sh ran).
fn later() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap()
}

fn products_dir() -> PathBuf {
    support::real("psf-2020-ceremony/ceremony-products")
}

fn read(p: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

fn synth(name: &str) -> Vec<u8> {
    read(support::fixture("yubihsm-synthetic").join(name))
}

/// A store that pins the synthetic root and sub-CA by their own fingerprints.
fn synthetic_store() -> Roots {
    let (root, subca) = (synth("root-x.pem"), synth("subca-x.pem"));
    let mut r = Roots::empty();
    r.add_root(&root, &attest::fingerprint(&root).unwrap()).unwrap();
    r.add_intermediate(&subca, &attest::fingerprint(&subca).unwrap()).unwrap();
    r
}

/// Runs `tuf-ceremony attest ARGS`: (exit code, stdout, stderr).
fn attest_cli(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(support::bin()).arg("attest").args(args).output().expect("run attest");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn attest_json(dir: &Path) -> (i32, Value) {
    let (code, out, err) = attest_cli(&[dir.as_os_str(), "--json".as_ref(), "--at".as_ref(), AT.as_ref()]);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}), exit {code}: {out}\n{err}"));
    (code, v)
}

/// (severity, code, file) of every finding of a JSON report.
fn findings(v: &Value) -> Vec<(String, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["severity"].as_str().unwrap().into(), f["code"].as_str().unwrap().into(), f["file"].as_str().unwrap().into()))
        .collect()
}

fn has_error(v: &Value, code: &str, file: &str) -> bool {
    findings(v).iter().any(|(s, c, f)| s == "error" && c == code && f == file)
}

/// Copies the PSF's folder of `serial` into `to/<serial>/`.
fn copy_psf(serial: &str, to: &Path) -> PathBuf {
    let dst = to.join(serial);
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(products_dir().join(serial)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    dst
}

// ------------------------------------------------------------------ the PSF's products

#[test]
fn psf_products_six_attested_six_nitrokeys_not_and_keyids_equal_python_tuf() {
    let Some(_) = support::shared_real() else { return };
    let (code, v) = attest_json(&products_dir());
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["schema"], "tuf-ceremony-attest/1");
    assert_eq!(v["result"], "ok");
    assert_eq!(v["exit_code"], 0);
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 12);
    assert_eq!(v["counts"]["attested"], 6);
    assert_eq!(v["counts"]["not_attested"], 6);
    assert_eq!(v["counts"]["error"], 0);

    let attested: Vec<&Value> = keys.iter().filter(|k| k["attested"] == true).collect();
    assert_eq!(attested.len(), 6);
    let mut per_serial: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for k in &attested {
        assert_eq!(k["device"], "yubihsm2", "{k:#}");
        assert_eq!(k["firmware"], "2.1.2");
        assert_eq!(k["origin"], "generated");
        assert_eq!(k["capabilities"], serde_json::json!(["sign-ecdsa"]));
        assert_eq!(k["domains"], serde_json::json!([1]));
        let serial = k["serial"].as_u64().unwrap();
        assert!(PSF_SERIALS.contains(&(serial as u32)));
        // Bound to the key file of its own name, in its own folder.
        let label = k["label"].as_str().unwrap();
        let role = label.strip_prefix("tuf-").unwrap();
        assert_eq!(k["object_id"], if role == "root" { 3 } else { 4 });
        assert_eq!(k["file"], format!("{0:010}/{0:010}_{role}_pubkey.pem", serial));
        assert_eq!(k["attestation"], format!("{0:010}/{0:010}_{role}_attestation.der", serial));
        assert_eq!(k["device_certificate"], format!("{0:010}/{0:010}_cert.der", serial));
        // The .pub file is a raw SEC1 point holding the same key.
        let encodings: Vec<&str> = k["files"].as_array().unwrap().iter().map(|f| f["encoding"].as_str().unwrap()).collect();
        assert_eq!(encodings, ["pem-spki", "sec1-point"]);
        assert_eq!(k["algorithm"], if serial == 13200460 { "ecdsa-p384" } else { "ecdsa-p256" });
        assert_eq!(k["root_sha256"], attest::roots::YUBIHSM_ROOT_SHA256);
        per_serial.entry(serial).or_default().push(label.to_string());
    }
    assert_eq!(per_serial.len(), 3);
    assert!(per_serial.values().all(|l| l.len() == 2));

    let nitrokeys: Vec<&Value> = keys.iter().filter(|k| k["attested"] == false).collect();
    assert_eq!(nitrokeys.len(), 6);
    for k in &nitrokeys {
        assert!(k["named_serial"].as_str().unwrap().starts_with("DENK"), "{k:#}");
        assert_eq!(k["device"], Value::Null);
        assert_eq!(k["device_hint"], "nitrokey-hsm");
        for f in ["serial", "firmware", "origin", "attestation"] {
            assert_eq!(k[f], Value::Null, "{f}");
        }
        // Nitrokey .pub files are DER SubjectPublicKeyInfo (pkcs11-tool's output).
        let encodings: Vec<&str> = k["files"].as_array().unwrap().iter().map(|f| f["encoding"].as_str().unwrap()).collect();
        assert_eq!(encodings, ["pem-spki", "der-spki"]);
    }
    // Each not-attested key is named in an attest-missing warning, and the firmware advisories
    // are warnings on each attestation.
    let f = findings(&v);
    assert_eq!(f.iter().filter(|(s, c, _)| s == "warning" && c == "attest-missing").count(), 6);
    assert_eq!(f.iter().filter(|(_, c, _)| c == "attest-firmware-ysa-2024-03").count(), 6);

    // Every keyid equals the one securesystemslib computes for the same PEM.
    let Some(py) = support::python() else { return };
    let pems: Vec<PathBuf> = keys.iter().map(|k| products_dir().join(k["file"].as_str().unwrap())).collect();
    let args: Vec<&std::ffi::OsStr> = pems.iter().map(|p| p.as_os_str()).collect();
    let (ok, out) = support::run_python(&py, "sslib_keyid.py", &args);
    assert!(ok, "{out}");
    let theirs: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(theirs.len(), 12);
    for (k, t) in keys.iter().zip(&theirs) {
        assert_eq!(k["keyid"], t["keyid"], "{}", k["file"]);
        assert_eq!(k["keytype"], t["keytype"]);
        assert_eq!(k["scheme"], t["scheme"]);
        assert_eq!(k["key"]["keyval"]["public"], t["public"]);
    }
    // And the Nitrokeys' DER .pub files give python the same keyids.
    let ders: Vec<PathBuf> = nitrokeys.iter().map(|k| products_dir().join(k["files"][1]["path"].as_str().unwrap())).collect();
    let args: Vec<&std::ffi::OsStr> = ders.iter().map(|p| p.as_os_str()).collect();
    let (ok, out) = support::run_python(&py, "sslib_keyid.py", &args);
    assert!(ok, "{out}");
    for (k, line) in nitrokeys.iter().zip(out.lines()) {
        let t: Value = serde_json::from_str(line).unwrap();
        assert_eq!(k["keyid"], t["keyid"]);
    }
}

#[test]
fn psf_json_has_the_documented_fields_and_the_text_report_reads() {
    let Some(_) = support::shared_real() else { return };
    let (_, v) = attest_json(&products_dir());
    let doc = String::from_utf8(read(support::repo_root().join("docs/attest-json.md"))).unwrap();
    let top = ["schema", "tool", "path", "at", "result", "exit_code", "counts", "keys", "attestations", "not_checked", "findings"];
    for k in top {
        assert!(v.get(k).is_some(), "{k} missing");
        assert!(doc.contains(&format!("| `{k}` |")), "{k} not documented");
    }
    assert_eq!(v.as_object().unwrap().len(), top.len(), "a top-level field is not documented");
    let key_fields = [
        "keyid",
        "keytype",
        "scheme",
        "algorithm",
        "key",
        "file",
        "files",
        "named_serial",
        "attested",
        "device",
        "device_hint",
        "attestation",
        "device_certificate",
        "serial",
        "firmware",
        "origin",
        "capabilities",
        "domains",
        "object_id",
        "label",
        "fips_certified",
        "fips_mode",
        "slot",
        "pin_policy",
        "touch_policy",
        "chain",
        "root_sha256",
    ];
    for k in v["keys"].as_array().unwrap() {
        assert_eq!(k.as_object().unwrap().len(), key_fields.len(), "{k:#}");
        for f in key_fields {
            assert!(k.get(f).is_some(), "{f} missing");
        }
    }
    for f in key_fields {
        assert!(doc.contains(&format!("| `{f}` |")), "key field {f} not documented");
    }
    for f in ["file", "device_certificate", "valid", "accepted", "error", "keyid"] {
        assert!(v["attestations"][0].get(f).is_some(), "{f} missing");
        assert!(doc.contains(&format!("| `{f}` |")), "attestation field {f} not documented");
    }
    for (k, n) in [("keys", 12), ("attested", 6), ("not_attested", 6), ("attestations", 6), ("error", 0)] {
        assert_eq!(v["counts"][k], n, "counts.{k}");
    }

    let (code, text, _) = attest_cli(&[products_dir().as_os_str(), "--at".as_ref(), AT.as_ref()]);
    assert_eq!(code, 0);
    assert!(text.contains("12 keys, 6 attested, 6 attestation files"), "{text}");
    assert!(
        text.contains("YubiHSM 2 serial 13200460, firmware 2.1.2, object 0x0003 \"tuf-root\", ecdsa-p384 key, origin generated, capabilities sign-ecdsa"),
        "{text}"
    );
    assert!(text.contains("Yubico security advisory YSA-2024-03"), "{text}");
    assert!(text.contains("Result: OK (exit 0)"), "{text}");
}

/// `verify --attestations DIR` reads the PSF's layout: the same discovery and binding verify
/// runs (audit::attestations::gather and check), with the twelve keys as metadata keys.
#[test]
fn verify_reads_the_psf_layout_and_binds_to_metadata_keys() {
    use tuf_ceremony::audit::attestations::{BindContext, check, gather};
    let Some(_) = support::shared_real() else { return };
    let bundles = attest::discover(&products_dir()).unwrap();
    assert_eq!(bundles.len(), 6);
    assert!(bundles.iter().all(|b| b.layout == Layout::YubiHsm && b.device_cert.is_some()));
    let found = discover::products(&products_dir()).unwrap();
    let stores = Stores::bundled().unwrap();
    let r = products::audit(&found, &products_dir(), &stores, at());
    let metadata_keys: BTreeMap<String, _> = r.keys.iter().map(|k| (k.keyid.clone(), k.public_key.clone())).collect();
    let ctx = BindContext {
        metadata_keys,
        holders: Vec::new(),
        offline_keyids: r.keys.iter().map(|k| k.keyid.clone()).collect(),
        key_file: "1.root.json".into(),
        key_files: BTreeMap::new(),
        delegation_keyids: Default::default(),
        source: "ceremony-products".into(),
    };
    let results = gather(&products_dir(), &products_dir(), at()).unwrap();
    assert!(results.iter().all(|x| x.result.is_ok()), "{:?}", results.iter().map(|x| &x.result).collect::<Vec<_>>());
    let mut out = Vec::new();
    let rep = check(&results, &ctx, &mut out);
    assert_eq!(rep.keys.iter().filter(|k| k.bound).count(), 6);
    for k in &rep.keys {
        assert_eq!(k.device, Some("yubihsm2"));
        assert_eq!(k.origin.as_deref(), Some("generated"));
        assert_eq!(k.keyids.len(), 1);
    }
    assert_eq!(rep.unattested.len(), 6, "the six Nitrokey keys");
    assert!(out.iter().all(|f| f.finding.severity != Severity::Error), "{out:#?}");
    assert_eq!(out.iter().filter(|f| f.finding.code == "attest-bound").count(), 6);
}

// ------------------------------------------------------------------ negatives

#[test]
fn a_swapped_device_certificate_is_refused() {
    let Some(_) = support::shared_real() else { return };
    let t = tempfile::tempdir().unwrap();
    let d = copy_psf("0013200460", t.path());
    std::fs::copy(products_dir().join("0013200461/0013200461_cert.der"), d.join("0013200460_cert.der")).unwrap();
    let (code, v) = attest_json(t.path());
    assert_eq!(code, 1);
    for key in ["root", "targets"] {
        let file = format!("0013200460/0013200460_{key}_attestation.der");
        assert!(has_error(&v, "attest-invalid", &file), "{:#?}", findings(&v));
    }
    let msg = v["attestations"][0]["error"].as_str().unwrap();
    assert!(msg.contains("13200461") && msg.contains("13200460"), "{msg}");
    assert_eq!(v["counts"]["attested"], 0);
}

#[test]
fn one_changed_byte_in_an_attestation_is_refused() {
    let Some(_) = support::shared_real() else { return };
    let t = tempfile::tempdir().unwrap();
    let d = copy_psf("0013200461", t.path());
    // The label "tuf-root" becomes "tuf-roou": inside the signed part.
    let f = d.join("0013200461_root_attestation.der");
    let mut der = read(&f);
    let last = der.windows(8).position(|w| w == b"tuf-root").unwrap() + 7;
    der[last] ^= 0x01;
    std::fs::write(&f, &der).unwrap();
    let (code, v) = attest_json(t.path());
    assert_eq!(code, 1);
    assert!(has_error(&v, "attest-invalid", "0013200461/0013200461_root_attestation.der"), "{:#?}", findings(&v));
    assert!(v["attestations"][0]["error"].as_str().unwrap().contains("signature"));
    // The other key of the device is still attested; the changed one is not.
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.iter().filter(|k| k["attested"] == true).count(), 1);

    // Library: every single-bit change anywhere in a key attestation or its device
    // certificate, and every truncation, fails, and none panics.
    let roots = Roots::yubihsm().unwrap();
    let key = read(products_dir().join("0013200462/0013200462_targets_attestation.der"));
    let device = read(products_dir().join("0013200462/0013200462_cert.der"));
    assert!(attest::verify_yubihsm(&key, &device, &roots, at()).is_ok());
    for i in 0..key.len() {
        let mut x = key.clone();
        x[i] ^= 0x01;
        assert!(attest::verify_yubihsm(&x, &device, &roots, at()).is_err(), "flip at {i} of the key attestation accepted");
    }
    for i in 0..device.len() {
        let mut x = device.clone();
        x[i] ^= 0x01;
        assert!(attest::verify_yubihsm(&key, &x, &roots, at()).is_err(), "flip at {i} of the device certificate accepted");
    }
    for n in 0..key.len() {
        assert!(attest::verify_yubihsm(&key[..n], &device, &roots, at()).is_err());
    }
}

/// A synthetic products folder `7654321/` with a device file, one key attestation and its key.
fn synthetic_folder(device_file: (&str, &str), attestation: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("7654321");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join(format!("7654321_cert.{}", device_file.1)), synth(device_file.0)).unwrap();
    std::fs::write(d.join("7654321_root_attestation.der"), synth(&format!("{attestation}.der"))).unwrap();
    std::fs::write(d.join("7654321_root_pubkey.pem"), synth(&format!("{attestation}.pub.pem"))).unwrap();
    std::fs::write(d.join("7654321_root_pubkey.pub"), synth(&format!("{attestation}.pub"))).unwrap();
    t
}

#[test]
fn a_foreign_root_is_refused() {
    let t = synthetic_folder(("device-x.der", "der"), "generated");
    let (code, v) = attest_json(t.path());
    assert_eq!(code, 1, "{v:#}");
    assert!(has_error(&v, "attest-invalid", "7654321/7654321_root_attestation.der"), "{:#?}", findings(&v));
    let msg = v["attestations"][0]["error"].as_str().unwrap();
    // Names chain to Yubico's sub-CA; its signature does not.
    assert!(msg.contains("does not verify") && msg.contains("Yubico YubiHSM 6742036 Sub-CA"), "{msg}");
    assert_eq!(v["keys"][0]["attested"], false);
    // Positive control: the same files verify with a store that pins the synthetic root.
    let a = attest::verify_yubihsm(&synth("generated.der"), &synth("device-x.der"), &synthetic_store(), later()).unwrap();
    assert_eq!((a.device, a.serial, a.firmware), (Device::YubiHsm2, Some(7654321), Some(Firmware(2, 4, 0))));
    assert!(a.refusals.is_empty() && a.warnings.is_empty(), "{:?} {:?}", a.refusals, a.warnings);
    // Yubico's root alone, without the synthetic sub-CA, does not help the impostor either.
    let e = attest::verify_yubihsm(&synth("generated.der"), &synth("device-x.der"), &Roots::yubihsm().unwrap(), later()).unwrap_err();
    assert!(matches!(e, AttestError::BadSignature { .. }), "{e}");
}

#[test]
fn an_unpinned_intermediate_is_refused() {
    let t = synthetic_folder(("device-x-with-subca.pem", "pem"), "generated");
    let (code, v) = attest_json(t.path());
    assert_eq!(code, 1, "{v:#}");
    assert!(has_error(&v, "attest-invalid", "7654321/7654321_root_attestation.der"), "{:#?}", findings(&v));
    let msg = v["attestations"][0]["error"].as_str().unwrap();
    assert!(msg.contains("is not a pinned intermediate"), "{msg}");
    let e = attest::verify_yubihsm(&synth("generated.der"), &synth("device-x-with-subca.pem"), &Roots::yubihsm().unwrap(), later()).unwrap_err();
    assert!(matches!(e, AttestError::UnpinnedIntermediate { .. }), "{e}");
}

/// Past the chain (a store pinning the synthetic root): origin, capabilities, firmware, FIPS.
#[test]
fn an_imported_key_is_refused_and_exportable_or_old_firmware_warned() {
    let store = synthetic_store();
    let dev = synth("device-x.der");
    let v = |name: &str| attest::verify_yubihsm(&synth(&format!("{name}.der")), &dev, &store, later()).unwrap();
    let imported = v("imported");
    assert_eq!(imported.refusals, vec![Refusal::NotGenerated(attest::Origin(0x02))]);
    assert_eq!(imported.findings("x")[0].code, "attest-origin-imported");
    assert_eq!(imported.findings("x")[0].severity, Severity::Error);
    let wrapped = v("wrapped");
    assert_eq!(wrapped.refusals, vec![Refusal::NotGenerated(attest::Origin(0x11))]);
    assert!(wrapped.refusals[0].to_string().contains("generated+imported-wrapped"));
    let exportable = v("exportable");
    assert!(exportable.refusals.is_empty());
    assert_eq!(exportable.warnings, vec![AttestWarning::ExportableUnderWrap]);
    assert_eq!(exportable.hsm.as_ref().unwrap().capabilities.unwrap().names(), ["sign-ecdsa", "exportable-under-wrap"]);
    let old = v("old-firmware");
    let codes: Vec<&str> = old.warnings.iter().map(|w| w.code()).collect();
    assert_eq!(codes, ["attest-firmware-ysa-2024-03"]);
    let fips = v("fips");
    let h = fips.hsm.as_ref().unwrap();
    assert_eq!((h.fips_certified, h.fips_mode, h.object_id, h.label.as_deref()), (Some(2), Some(true), Some(8), Some("tuf-fips")));

    // The audit of a products folder: an imported key is an error naming its attestation
    // (exit 1); exportable-under-wrap is a warning and the key stays attested (exit 0).
    let stores = Stores { yubikey: Roots::bundled().unwrap(), yubihsm: store };
    for (name, code, attested) in [("imported", 1, false), ("wrapped", 1, false), ("exportable", 0, true), ("generated", 0, true), ("old-firmware", 0, true)] {
        let t = synthetic_folder(("device-x.der", "der"), name);
        let found = discover::products(t.path()).unwrap();
        let r = products::audit(&found, t.path(), &stores, later());
        assert_eq!(r.exit_code(), code, "{name}: {:#?}", r.findings);
        assert_eq!(r.keys.len(), 1);
        assert_eq!(r.keys[0].attested, attested, "{name}");
        let errors: Vec<(&str, &str)> =
            r.findings.iter().filter(|f| f.finding.severity == Severity::Error).map(|f| (f.finding.code, f.file.as_str())).collect();
        if code == 1 {
            assert_eq!(errors, [("attest-origin-imported", "7654321/7654321_root_attestation.der")], "{name}");
        } else {
            assert!(errors.is_empty(), "{name}: {errors:?}");
        }
        let json = tuf_ceremony::attest::products_report::to_json(&r);
        assert_eq!(json["exit_code"], code);
    }
    // Through the command line the same imported key is refused too (there for its foreign root).
    let t = synthetic_folder(("device-x.der", "der"), "imported");
    assert_eq!(attest_json(t.path()).0, 1);
}

#[test]
fn an_attestation_and_a_key_file_that_disagree_are_refused() {
    let Some(_) = support::shared_real() else { return };
    let t = tempfile::tempdir().unwrap();
    let d = copy_psf("0013200462", t.path());
    // The root key's PEM now holds the targets key.
    std::fs::copy(d.join("0013200462_targets_pubkey.pem"), d.join("0013200462_root_pubkey.pem")).unwrap();
    let (code, v) = attest_json(t.path());
    assert_eq!(code, 1);
    // The root attestation's own key file holds another key; .pem and .pub of one name
    // disagree; the targets key now sits under two names.
    assert!(has_error(&v, "attest-key-file-mismatch", "0013200462/0013200462_root_attestation.der"), "{:#?}", findings(&v));
    assert!(has_error(&v, "key-files-disagree", "0013200462/0013200462_root_pubkey.pub"), "{:#?}", findings(&v));
    assert!(has_error(&v, "key-files-same-key", "0013200462/0013200462_root_pubkey.pem"), "{:#?}", findings(&v));
    // Attestation of a key no file holds.
    let t = tempfile::tempdir().unwrap();
    let d = copy_psf("0013200462", t.path());
    std::fs::remove_file(d.join("0013200462_root_pubkey.pem")).unwrap();
    std::fs::remove_file(d.join("0013200462_root_pubkey.pub")).unwrap();
    let (code, v) = attest_json(t.path());
    assert_eq!(code, 1);
    assert!(has_error(&v, "attest-no-key-file", "0013200462/0013200462_root_attestation.der"), "{:#?}", findings(&v));
}

#[test]
fn links_are_not_followed_and_hostile_files_are_findings() {
    let Some(_) = support::shared_real() else { return };
    let t = tempfile::tempdir().unwrap();
    let d = copy_psf("0013200460", t.path());
    // A link to a real key elsewhere, and a link in place of an attestation.
    std::os::unix::fs::symlink(products_dir().join("DENK0102947/DENK0102947_root_pubkey.pem"), t.path().join("linked_root_pubkey.pem")).unwrap();
    std::fs::remove_file(d.join("0013200460_targets_attestation.der")).unwrap();
    std::os::unix::fs::symlink(products_dir().join("0013200460/0013200460_targets_attestation.der"), d.join("0013200460_targets_attestation.der")).unwrap();
    // Garbage and an oversized key file.
    std::fs::write(t.path().join("junk_x_pubkey.pub"), b"\x04not a point").unwrap();
    std::fs::write(t.path().join("huge_x_pubkey.pem"), vec![b'A'; 200 * 1024]).unwrap();
    let (code, v) = attest_json(t.path());
    assert_eq!(code, 1);
    // The linked key is not read: only 0013200460's two keys are listed.
    assert_eq!(v["keys"].as_array().unwrap().len(), 2, "{v:#}");
    let not_checked: BTreeMap<String, String> =
        v["not_checked"].as_array().unwrap().iter().map(|n| (n["file"].as_str().unwrap().to_string(), n["reason"].as_str().unwrap().to_string())).collect();
    assert!(not_checked["linked_root_pubkey.pem"].contains("symbolic link"), "{not_checked:?}");
    assert!(not_checked["0013200460/0013200460_targets_attestation.der"].contains("symbolic link"));
    assert!(not_checked["huge_x_pubkey.pem"].contains("larger than"), "{not_checked:?}");
    assert!(has_error(&v, "file-unreadable", "linked_root_pubkey.pem"));
    assert!(has_error(&v, "file-unreadable", "0013200460/0013200460_targets_attestation.der"));
    assert!(has_error(&v, "key-file-unreadable", "junk_x_pubkey.pub"), "{:#?}", findings(&v));
    // The targets key lost its attestation; the root key keeps its own.
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.iter().filter(|k| k["attested"] == true).count(), 1);
}

#[test]
fn an_unreadable_or_empty_folder_is_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let (code, out, err) = attest_cli(&[t.path().join("missing").as_os_str()]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    let (code, _, err) = attest_cli(&[t.path().as_os_str()]);
    assert_eq!(code, 2);
    assert!(err.contains("holds no public key"), "{err}");
    let file = t.path().join("a.pem");
    std::fs::write(&file, b"x").unwrap();
    let (code, _, err) = attest_cli(&[file.as_os_str()]);
    assert_eq!(code, 2);
    assert!(err.contains("not a folder"), "{err}");
    let (code, _, _) = attest_cli(&[t.path().as_os_str(), "--at".as_ref(), "yesterday".as_ref()]);
    assert_eq!(code, 2);
}

/// `verify --attestations DIR` on the PSF's products: the six YubiHSM 2 attestations are
/// found and verified; against a repository whose keys they are not, each is an error.
#[test]
fn verify_attestations_reads_the_psf_layout_from_the_command_line() {
    let Some(_) = support::shared_real() else { return };
    let repo = support::real("repos/jku-tuf-demo-head/metadata");
    let out = Command::new(support::bin())
        .arg("verify")
        .arg(&repo)
        .arg("--trusted-root")
        .arg(repo.join("root_history/1.root.json"))
        .args(["--at", "2026-08-22T00:00:00Z", "--json", "--attestations"])
        .arg(products_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys = v["attestations"]["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 6);
    for k in keys {
        assert_eq!((k["valid"].as_bool(), k["bound"].as_bool()), (Some(true), Some(false)), "{k:#}");
        assert_eq!(k["device"], "yubihsm2");
        assert_eq!(k["origin"], "generated");
        assert_eq!(k["capabilities"], serde_json::json!(["sign-ecdsa"]));
        assert_eq!(k["firmware"], "2.1.2");
    }
    let not_in_metadata = v["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "attest-key-not-in-metadata" && f["severity"] == "error").count();
    assert_eq!(not_in_metadata, 6);
}
