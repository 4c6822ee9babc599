//! The YubiHSM 2 back end through the real `yubihsm` crate (0.42.1) against its MockHsm (a
//! software YubiHSM 2 inside the test process, enabled by the dev-dependency feature
//! `mockhsm`): the encrypted, password-authenticated session protocol, key generation,
//! object info, authentication keys, deletion, factory reset and signing all run through
//! the crate's real client code.
//!
//! Covered here: a whole ceremony on three MockHsm devices (Ed25519 and P-256) whose output
//! python-tuf verifies; provisioning refused without a typed RESET (the device untouched);
//! the factory authentication key 1 deleted, the keyholder's authentication key and the
//! sign-only, never-exportable key as the device itself reports them; wrong passwords; the
//! Ed25519 message limit; attestation never claimed where Yubico's chain does not show it;
//! the plan fields of `token = "yubihsm2"` and OpenSC's (Nitrokey HSM) refusal of Ed25519.
//!
//! What the MockHsm cannot show, so a real device must (runbook/HARDWARE-YUBIHSM2.md):
//! * P-384: the mock panics generating a P-384 key ("MockHsm doesn't support this
//!   asymmetric algorithm"), so P-384 generation and signing are untested here;
//! * attestation: the mock has no device certificate (opaque object 0) and panics on
//!   Sign Attestation Certificate ("unsupported command"), so a key attestation signed by
//!   a device is never produced here; what the tool does with a device certificate that
//!   does not lead to Yubico (never asks for a key attestation, exports nothing, says NOT
//!   ATTESTED) is tested with a self-signed one planted in the mock, and
//!   `attest::verify_yubihsm` itself is tested on the PSF's real attestations
//!   (tests/attest_yubihsm.rs);
//! * capability enforcement (the mock does not enforce capabilities: that the keyholder's
//!   key cannot generate, export or reset is the device's job), the audit log, USB (rusb,
//!   serial selection) and yubihsm-connector over HTTP, the real reset timing, the device's
//!   own Ed25519 size limit (the 2026 bytes here are the protocol's 2048-byte message, which
//!   the crate enforces), and the serial: every MockHsm reports 123456789, so the tests give
//!   each of three mocks its own serial through `HsmPorts::serial`.

mod support;

use std::collections::BTreeMap;
use std::process::Command;
use tuf_ceremony::ceremony::engine::{Engine, Options};
use tuf_ceremony::ceremony::plan::{HsmConnector, Keyholder, Plan, TokenKind, YubiHsmSpec};
use tuf_ceremony::ceremony::tokens::yubihsm::{HsmPorts, YubiHsmTokens};
use tuf_ceremony::ceremony::tokens::{TokenBackend, TokenError, TokenKey, Tokens};
use tuf_ceremony::ceremony::ui::{SecretKind, Ui, UiError};
use tuf_ceremony::signer::SignerError;
use tuf_ceremony::signer::yubihsm::{self as hsm, Hsm};
use tuf_ceremony::tuf::keys::{Algorithm, SigCheck};
use tuf_ceremony::tuf::metadata::{Metadata, Mode};
use yubihsm::{Capability, Client, Connector, Credentials, Domain, object};
use zeroize::Zeroizing;

/// Three mocks by keyholder, each with its own serial.
struct MockPorts {
    devices: BTreeMap<String, (MockHsm, u32)>,
}

impl HsmPorts for MockPorts {
    fn connector(&mut self, holder: &Keyholder, _spec: &YubiHsmSpec) -> Result<Connector, SignerError> {
        let (mock, _) = self.devices.get(&holder.name).ok_or_else(|| SignerError::NotFound(format!("no mock for {}", holder.name)))?;
        Ok(connector(mock))
    }
    fn serial(&self, holder: &Keyholder, reported: u32) -> u32 {
        assert_eq!(reported, 123456789, "every MockHsm reports serial 0123456789");
        self.devices[&holder.name].1
    }
}

/// A MockHsm, as the crate offers it: `Connector::mockhsm()` (the `MockHsm` type itself is
/// private in 0.42.1). Clones of the connector share the one mock device.
type MockHsm = Connector;

fn new_mock() -> MockHsm {
    Connector::mockhsm()
}

fn connector(mock: &MockHsm) -> Connector {
    mock.clone()
}

fn password(holder: &str) -> String {
    // 20 digits, as the runbook has keyholders roll them.
    let n: u64 = holder.bytes().fold(7, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
    format!("{n:020}")
}

fn holder(name: &str, alg: Algorithm) -> Keyholder {
    Keyholder {
        name: name.into(),
        token: TokenKind::YubiHsm2,
        algorithm: alg,
        serial: None,
        module: None,
        token_label: None,
        pin_policy: "always".into(),
        touch_policy: "always".into(),
        yubihsm: Some(YubiHsmSpec { connector: HsmConnector::Usb, auth_key_id: 2 }),
        existing: None,
    }
}

/// A scripted conductor: answers every yes/no with `yes`, types the word when `type_word`,
/// gives each keyholder's password, and records what was shown.
struct ScriptUi {
    /// The answer to "new or factory-reset?".
    fresh: bool,
    yes: bool,
    type_word: bool,
    wrong_passwords: usize,
    shown: Vec<String>,
}

impl ScriptUi {
    fn new() -> Self {
        ScriptUi { fresh: true, yes: true, type_word: true, wrong_passwords: 0, shown: Vec::new() }
    }
    fn saw(&self, what: &str) -> bool {
        self.shown.iter().any(|s| s.contains(what))
    }
}

impl Ui for ScriptUi {
    fn show(&mut self, text: &str) {
        self.shown.push(text.to_string());
    }
    fn confirm(&mut self, q: &str) -> Result<bool, UiError> {
        self.shown.push(q.to_string());
        Ok(if q.contains("new or factory-reset") { self.fresh } else { self.yes })
    }
    fn confirm_word(&mut self, what: &str, _word: &str) -> Result<bool, UiError> {
        self.shown.push(what.to_string());
        Ok(self.type_word)
    }
    fn wait(&mut self, i: &str) -> Result<(), UiError> {
        self.shown.push(i.to_string());
        Ok(())
    }
    fn ask(&mut self, q: &str) -> Result<String, UiError> {
        Err(UiError::Unattended(q.to_string()))
    }
    fn secret(&mut self, holder: &str, kind: SecretKind, prompt: &str) -> Result<Zeroizing<String>, UiError> {
        self.shown.push(prompt.to_string());
        if kind == SecretKind::Unlock && self.wrong_passwords > 0 {
            self.wrong_passwords -= 1;
            return Ok(Zeroizing::new("not-the-password-0000".into()));
        }
        Ok(Zeroizing::new(password(holder)))
    }
}

fn backend(devices: &[(&str, &MockHsm, u32)]) -> YubiHsmTokens {
    let devices = devices.iter().map(|(n, m, s)| (n.to_string(), ((*m).clone(), *s))).collect();
    YubiHsmTokens::with_ports(Box::new(MockPorts { devices })).unwrap()
}

fn refused(r: Result<impl Sized, TokenError>) -> String {
    match r {
        Err(TokenError::Refused(s)) => s,
        Err(e) => panic!("expected a refusal, got {e:?}"),
        Ok(_) => panic!("expected a refusal, got success"),
    }
}

/// A session of the test itself (not the code under test) on `mock`.
fn session(mock: &MockHsm, id: u16, password: &[u8]) -> Client {
    Client::open(connector(mock), Credentials::from_password(id, password), false).unwrap()
}

/// A key left on a factory-fresh device before the ceremony, at object 0x0200.
fn plant_old_key(mock: &MockHsm) {
    let label = object::Label::from_bytes(b"old").unwrap();
    session(mock, 1, b"password").generate_asymmetric_key(0x0200, label, Domain::DOM1, Capability::SIGN_ECDSA, yubihsm::asymmetric::Algorithm::EcP256).unwrap();
}

/// What the device holds after provisioning, read through the crate's own API.
fn check_provisioned(mock: &MockHsm, name: &str, alg: Algorithm) {
    let c = session(mock, 2, password(name).as_bytes());
    let objects = c.list_objects(&[]).unwrap();
    assert!(
        !objects.iter().any(|o| o.object_id == 1 && o.object_type == object::Type::AuthenticationKey),
        "{name}: the factory authentication key 1 is deleted: {objects:?}"
    );
    let key = c.get_object_info(hsm::KEY_ID, object::Type::AsymmetricKey).unwrap();
    let want = if alg == Algorithm::Ed25519 { Capability::SIGN_EDDSA } else { Capability::SIGN_ECDSA };
    assert_eq!(key.capabilities, want, "{name}: sign-only");
    assert!(!key.capabilities.contains(Capability::EXPORTABLE_UNDER_WRAP));
    assert_eq!(key.origin, object::Origin::Generated);
    assert_eq!(key.domains, Domain::DOM1);
    let auth = c.get_object_info(2, object::Type::AuthenticationKey).unwrap();
    assert_eq!(auth.capabilities, hsm::auth_key_capabilities());
    for cap in [
        Capability::GENERATE_ASYMMETRIC_KEY,
        Capability::PUT_ASYMMETRIC_KEY,
        Capability::EXPORT_WRAPPED,
        Capability::RESET_DEVICE,
        Capability::PUT_AUTHENTICATION_KEY,
    ] {
        assert!(!auth.capabilities.contains(cap), "{name}: the keyholder's authentication key must not have {cap:?}");
    }
    assert_eq!(auth.delegated_capabilities, Capability::SIGN_ECDSA | Capability::SIGN_EDDSA);
}

/// Provisioning one P-256 and one Ed25519 device: the key, the capabilities and the
/// authentication keys as the device reports them; signing verified by the core.
#[test]
fn provisioning_sets_a_new_auth_key_deletes_key_1_and_makes_sign_only_keys() {
    for (name, alg) in [("bob", Algorithm::EcdsaP256), ("alice", Algorithm::Ed25519)] {
        let mock = new_mock();
        // Something left on the device before: the reset erases it.
        plant_old_key(&mock);
        let mut b = backend(&[(name, &mock, 13200460)]);
        let mut ui = ScriptUi::new();
        let h = holder(name, alg);
        let tk = b.provision(&h, &mut ui).unwrap();
        assert!(tk.generated);
        assert_eq!(tk.serial.as_deref(), Some("13200460"));
        assert_eq!(tk.public.algorithm(), alg);
        assert!(ui.saw("FACTORY RESET") && ui.saw("AsymmetricKey 0x0200"), "the RESET prompt names what the device holds: {:?}", ui.shown);
        check_provisioned(&mock, name, alg);
        let c = session(&mock, 2, password(name).as_bytes());
        assert!(c.get_object_info(0x0200, object::Type::AsymmetricKey).is_err(), "the reset erased the old key");
        // No device certificate on the mock: said plainly, nothing exported.
        assert!(tk.attestation.is_empty());
        assert!(ui.saw("NOT ATTESTED") && ui.saw("no certificate in opaque object 0"), "{:?}", ui.shown);
        // Signing through the keyholder's password.
        let mut s = b.open(&h, &tk, &mut ui).unwrap();
        let msg = b"{\"signed\":{}}".repeat(40);
        let sig = s.sign_checked(&msg).unwrap();
        assert_eq!(tk.public.verify(&msg, &sig), SigCheck::Valid);
        // Provisioning again: the conductor says it was provisioned before; the key is kept.
        let mut ui = ScriptUi::new();
        ui.fresh = false;
        let again = b.provision(&h, &mut ui).unwrap();
        assert!(!again.generated);
        assert_eq!(again.public.to_key(), tk.public.to_key());
        assert!(ui.saw("keeping it"), "{:?}", ui.shown);
    }
}

/// Without the typed RESET nothing on the device changes: key 1 and the old key are there.
#[test]
fn provisioning_refuses_without_the_typed_reset() {
    let mock = new_mock();
    plant_old_key(&mock);
    let mut b = backend(&[("carol", &mock, 13200462)]);
    let mut ui = ScriptUi::new();
    ui.type_word = false;
    let why = refused(b.provision(&holder("carol", Algorithm::EcdsaP256), &mut ui));
    assert!(why.contains("not confirmed") && why.contains("left unchanged"), "{why}");
    assert!(ui.saw("FACTORY RESET carol's YubiHSM 2 serial 13200462"), "{:?}", ui.shown);
    let c = session(&mock, 1, b"password");
    assert!(c.get_object_info(0x0200, object::Type::AsymmetricKey).is_ok(), "the old key is still there");
    assert!(c.get_object_info(hsm::KEY_ID, object::Type::AsymmetricKey).is_err(), "no key was generated");
    assert!(c.get_object_info(2, object::Type::AuthenticationKey).is_err(), "no authentication key was added");
}

/// A device certificate that does not lead to Yubico's YubiHSM root (a self-signed one
/// planted as opaque object 0): no key attestation is asked for, nothing is exported, the
/// conductor is told NOT ATTESTED and may stop.
#[test]
fn a_device_certificate_not_from_yubico_is_not_taken_as_attestation() {
    let t = tempfile::tempdir().unwrap();
    let (key, cert) = (t.path().join("k.pem"), t.path().join("c.der"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj", "/CN=YubiHSM Attestation (12345678)"])
        .arg("-keyout")
        .arg(&key)
        .args(["-outform", "DER", "-out"])
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    let der = std::fs::read(&cert).unwrap();
    let mock = new_mock();
    let mut b = backend(&[("dave", &mock, 13200461)]);
    let h = holder("dave", Algorithm::EcdsaP256);
    b.provision(&h, &mut ScriptUi::new()).unwrap();
    // The MockHsm's reset erases every object (a real device keeps opaque object 0), and it
    // does not enforce capabilities: the certificate is planted after provisioning, through
    // the keyholder's own session, and provisioning is run again on the provisioned device.
    session(&mock, 2, password("dave").as_bytes())
        .put_opaque(0, object::Label::from_bytes(b"device").unwrap(), Domain::DOM1, Capability::empty(), yubihsm::opaque::Algorithm::X509Certificate, der)
        .unwrap();
    for go_on in [true, false] {
        let mut ui = ScriptUi::new();
        ui.fresh = false;
        ui.yes = go_on;
        let r = b.provision(&h, &mut ui);
        assert!(ui.saw("NOT ATTESTED") && ui.saw("does not lead to Yubico's YubiHSM root") && ui.saw("none was asked"), "{:?}", ui.shown);
        assert!(!ui.saw("Attested by"), "{:?}", ui.shown);
        if go_on {
            let tk = r.unwrap();
            assert!(tk.attestation.is_empty(), "nothing exported as an attestation");
        } else {
            assert!(refused(r).contains("not attested"));
        }
    }
}

/// Wrong passwords are asked again; after three the tool stops (the device never locks).
#[test]
fn wrong_passwords_ask_again_and_stop_after_three() {
    let mock = new_mock();
    let mut b = backend(&[("erin", &mock, 13200463)]);
    let h = holder("erin", Algorithm::EcdsaP256);
    let tk = b.provision(&h, &mut ScriptUi::new()).unwrap();
    let mut ui = ScriptUi::new();
    ui.wrong_passwords = 2;
    assert!(b.open(&h, &tk, &mut ui).is_ok());
    assert!(ui.saw("Wrong password for erin's YubiHSM 2") && ui.saw("1 more and this tool stops"), "{:?}", ui.shown);
    let mut ui = ScriptUi::new();
    ui.wrong_passwords = 3;
    assert!(refused(b.open(&h, &tk, &mut ui)).contains("3 wrong passwords"));
    // A recorded serial that is not this device's is refused before signing.
    let other = TokenKey { serial: Some("99".into()), ..tk.clone() };
    assert!(refused(b.open(&h, &other, &mut ScriptUi::new())).contains("recorded on serial 99"));
}

/// Ed25519 signs the whole message: 2026 bytes go, 2027 are refused by the tool before the
/// device is asked (a whole message to the device is then over 2048 bytes).
#[test]
fn ed25519_message_limit() {
    let mock = new_mock();
    let mut b = backend(&[("alice", &mock, 13200460)]);
    let h = holder("alice", Algorithm::Ed25519);
    let tk = b.provision(&h, &mut ScriptUi::new()).unwrap();
    let mut s = b.open(&h, &tk, &mut ScriptUi::new()).unwrap();
    let at_limit = vec![b'x'; hsm::ED25519_MAX_MESSAGE];
    let sig = s.sign_checked(&at_limit).unwrap();
    assert_eq!(tk.public.verify(&at_limit, &sig), SigCheck::Valid);
    let over = vec![b'x'; hsm::ED25519_MAX_MESSAGE + 1];
    match s.sign_checked(&over) {
        Err(SignerError::Device(m)) => assert!(m.contains("2027 bytes") && m.contains("at most 2026") && m.contains("ecdsa-p256"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // The crate checks only the encrypted command against 2048 bytes: it sends up to 2042
    // bytes of message (a whole message of 2060 bytes, over the device's 2048) and refuses
    // 2043; the MockHsm has no buffer limit.
    let c = session(&mock, 2, password("alice").as_bytes());
    assert!(c.sign_ed25519(hsm::KEY_ID, vec![b'x'; 2042]).is_ok());
    assert!(c.sign_ed25519(hsm::KEY_ID, vec![b'x'; 2043]).is_err(), "the crate's own limit");
    // The session is still good after the refusal.
    let h2 = Hsm::open(connector(&mock), 2, password("alice").as_bytes()).unwrap();
    assert_eq!(h2.public_key().unwrap().unwrap().to_key(), tk.public.to_key());
}

const PLAN: &str = r#"
[ceremony]
id = "yubihsm-mock"
clients = ["python-tuf", "go-tuf"]

[[keyholder]]
name = "alice"
token = "yubihsm2"
algorithm = "ed25519"
serial = "13200460"

[[keyholder]]
name = "bob"
token = "yubihsm2"
algorithm = "ecdsa-p256"
connector = "http://127.0.0.1:12345"
auth_key_id = 2

[[keyholder]]
name = "carol"
token = "yubihsm2"
algorithm = "ecdsa-p256"
auth_key_id = 7

[roles.root]
keyholders = ["bob", "carol"]
threshold = 2
expires_days = 365

[roles.targets]
keyholders = ["alice", "bob", "carol"]
threshold = 2
expires_days = 365

[roles.snapshot]
key = "online/snapshot.pub"

[roles.timestamp]
key = "online/timestamp.pub"
"#;

/// A whole ceremony through the engine on three MockHsm devices: alice Ed25519 (targets
/// only: a root is larger than Ed25519 on a YubiHSM 2 can sign), bob and carol P-256 (root
/// and targets). Each device is reset after a typed RESET, gets its key and authentication
/// key, loses key 1; root and targets are signed, exported, and verified by python-tuf.
#[test]
fn full_ceremony_on_three_mockhsm_devices() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    support::online_keys(dir);
    std::fs::write(dir.join("plan.toml"), PLAN).unwrap();
    let plan = Plan::load(&dir.join("plan.toml"), chrono::Utc::now()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.keyholder("bob").unwrap().yubihsm.as_ref().unwrap().connector, HsmConnector::Http { host: "127.0.0.1".into(), port: 12345 });
    assert_eq!(plan.keyholder("carol").unwrap().yubihsm.as_ref().unwrap().auth_key_id, 7);
    let (a, b, c) = (new_mock(), new_mock(), new_mock());
    let mut tokens = Tokens::new(dir.join("software-tokens"));
    tokens.yubihsm = Some(Box::new(backend(&[("alice", &a, 13200460), ("bob", &b, 13200461), ("carol", &c, 13200462)])));
    let mut ui = ScriptUi::new();
    std::fs::create_dir_all(dir.join("media")).unwrap();
    let opts = Options { media: dir.join("media"), rehearsal: true, ..Default::default() };
    let done = {
        let mut engine = Engine::open(&plan, &dir.join("work"), &mut ui, &mut tokens, opts).unwrap();
        engine.run().unwrap_or_else(|e| panic!("ceremony: {e}"))
    };
    assert!(!dir.join("software-tokens").exists(), "no software token was used");
    assert_eq!(ui.shown.iter().filter(|s| s.contains("FACTORY RESET")).count(), 3);
    assert_eq!(ui.shown.iter().filter(|s| s.contains("NOT ATTESTED")).count(), 3, "the MockHsm gives no attestation");
    for (mock, name, alg) in [(&a, "alice", Algorithm::Ed25519), (&b, "bob", Algorithm::EcdsaP256)] {
        check_provisioned(mock, name, alg);
    }
    // carol's authentication key is the plan's 7.
    let cs = session(&c, 7, password("carol").as_bytes());
    assert!(!cs.list_objects(&[]).unwrap().iter().any(|o| o.object_id == 1 && o.object_type == object::Type::AuthenticationKey));
    let md_dir = done.media_dir.join("metadata");
    let load = |n: &str| Metadata::from_bytes(&std::fs::read(md_dir.join(n)).unwrap(), Mode::Strict).unwrap();
    let (root, targets) = (load("1.root.json"), load("1.targets.json"));
    assert_eq!(root.signatures.len(), 2);
    assert_eq!(targets.signatures.len(), 3);
    let transcript = std::fs::read_to_string(done.media_dir.join("transcript.jsonl")).unwrap();
    for s in ["13200460", "13200461", "13200462"] {
        assert!(transcript.contains(s), "serial {s} recorded");
    }
    assert_eq!(transcript.matches("\"generated\":true").count(), 3);
    // No attestation file was exported for a key the mock could not attest.
    for h in ["alice", "bob", "carol"] {
        let names: Vec<String> =
            std::fs::read_dir(done.media_dir.join("keys").join(h)).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(!names.iter().any(|n| n.contains("attestation") || n.ends_with("_cert.pem")), "{h}: {names:?}");
    }
    let Some(py) = support::python() else { return };
    let script = r#"
import sys
from tuf.api.metadata import Metadata
d = sys.argv[1]
root = Metadata.from_file(f"{d}/1.root.json")
targets = Metadata.from_file(f"{d}/1.targets.json")
root.verify_delegate("root", root)
root.verify_delegate("targets", targets)
for name, md, n in [("root", root, 2), ("targets", targets, 3)]:
    res = root.signed.get_verification_result(name, md.signed_bytes, md.signatures)
    assert res.verified and len(res.signed) == n and not res.unsigned, (name, res)
print("python-tuf ok:", sorted({k.scheme for k in root.signed.keys.values()}))
"#;
    let out = Command::new(&py).args(["-c", script]).arg(&md_dir).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "python-tuf rejected the MockHsm ceremony output:\n{text}");
    assert!(text.contains("ecdsa-sha2-nistp256") && text.contains("ed25519"), "{text}");
    eprintln!("{text}");
}

fn plan_with(keyholder: &str) -> Result<Plan, String> {
    let t = tempfile::tempdir().unwrap();
    support::online_keys(t.path());
    let text = format!(
        "[ceremony]\nid = \"p\"\nclients = [\"python-tuf\"]\n\n[[keyholder]]\nname = \"k\"\n{keyholder}\n\n[roles.root]\nkeyholders = [\"k\"]\nthreshold = 1\nexpires_days = 365\n\n[roles.targets]\nkeyholders = [\"k\"]\nthreshold = 1\nexpires_days = 365\n\n[roles.snapshot]\nkey = \"online/snapshot.pub\"\n\n[roles.timestamp]\nkey = \"online/timestamp.pub\"\n"
    );
    Plan::parse(text.as_bytes(), t.path(), chrono::Utc::now()).map_err(|e| e.to_string())
}

/// `token = "yubihsm2"` and its fields; Ed25519 through OpenSC's module (a Nitrokey HSM)
/// refused with a clear message.
#[test]
fn plan_fields_for_yubihsm2_and_nitrokey() {
    let p = plan_with("token = \"yubihsm2\"\nalgorithm = \"ecdsa-p384\"").unwrap();
    let k = &p.keyholders[0];
    assert_eq!(k.token, TokenKind::YubiHsm2);
    assert_eq!(k.yubihsm, Some(YubiHsmSpec { connector: HsmConnector::Usb, auth_key_id: 2 }));
    let p = plan_with("token = \"yubihsm2\"\nconnector = \"http://localhost:12345/\"\nserial = \"0013200460\"").unwrap();
    assert_eq!(p.keyholders[0].yubihsm.as_ref().unwrap().connector, HsmConnector::Http { host: "localhost".into(), port: 12345 });
    for (bad, says) in [
        ("token = \"yubihsm2\"\nauth_key_id = 1", "1 is the factory authentication key"),
        ("token = \"yubihsm2\"\nauth_key_id = 65535", "not an object id"),
        ("token = \"yubihsm2\"\nconnector = \"https://127.0.0.1:12345\"", "not `usb` or `http://HOST:PORT`"),
        ("token = \"yubihsm2\"\nconnector = \"http://127.0.0.1\"", "give the port"),
        ("token = \"yubihsm2\"\nserial = \"DENK01234\"", "not a YubiHSM 2 serial"),
        ("token = \"yubikey\"\nconnector = \"usb\"", "only apply to yubihsm2"),
        ("token = \"pkcs11\"\nmodule = \"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\"\nalgorithm = \"ed25519\"", "Nitrokey HSM"),
        ("token = \"hsm\"", "software, yubikey, pkcs11 or yubihsm2"),
    ] {
        let e = plan_with(bad).expect_err(bad);
        assert!(e.contains(says), "{bad}: {e}");
    }
    // OpenSC with ECDSA is a plan like any other.
    assert!(plan_with("token = \"pkcs11\"\nmodule = \"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\"\nalgorithm = \"ecdsa-p384\"").is_ok());
}

/// Signing goes through `Signer` like every other token: `describe` names the device.
#[test]
fn signer_describes_the_device() {
    let mock = new_mock();
    let mut b = backend(&[("frank", &mock, 13200464)]);
    let h = holder("frank", Algorithm::EcdsaP256);
    let tk = b.provision(&h, &mut ScriptUi::new()).unwrap();
    let s = b.open(&h, &tk, &mut ScriptUi::new()).unwrap();
    assert!(s.describe().contains("YubiHSM 2 serial 123456789") && s.describe().contains("0x0100"), "{}", s.describe());
}
