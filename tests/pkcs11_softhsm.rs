//! The PKCS#11 back end against a real PKCS#11 module: SoftHSM2 (Debian `softhsm2`,
//! /usr/lib/softhsm/libsofthsm2.so). Key generation for Ed25519, P-256 and P-384 on the
//! token, signatures checked by the core and by OpenSSL, an existing key found and never
//! regenerated, wrong-PIN re-prompting that stops before a lockout, "deadly" token states
//! refused, token selection, blank-token initialisation behind INITIALIZE, and a whole
//! ceremony on three SoftHSM tokens whose output python-tuf verifies.
//!
//! Each test runs in a child process of this test binary with its own `SOFTHSM2_CONF` and
//! token directory in a tempdir: SoftHSM reads its configuration and scans its tokens once,
//! at C_Initialize, and a module is initialised once per process. Tokens are created with
//! `softhsm2-util` before the module is loaded. (The throwaway test PINs are on
//! softhsm2-util's command line; the code under test takes PINs only through `Ui::secret`.)

mod support;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use tuf_ceremony::ceremony::engine::{Engine, Options};
use tuf_ceremony::ceremony::plan::{Keyholder, Plan, TokenKind};
use tuf_ceremony::ceremony::tokens::pkcs11::Pkcs11Tokens;
use tuf_ceremony::ceremony::tokens::{TokenBackend, TokenError, TokenKey, Tokens};
use tuf_ceremony::ceremony::ui::{AutoUi, SecretKind, Ui, UiError};
use tuf_ceremony::signer::pkcs11 as p11;
use tuf_ceremony::signer::software::SoftwareKey;
use tuf_ceremony::signer::{Signer, SignerError};
use tuf_ceremony::tuf::keys::{Algorithm, SigCheck};
use tuf_ceremony::tuf::metadata::{Metadata, Mode};
use tuf_ceremony::tuf::verify::{check_delegated, check_top_level};
use zeroize::Zeroizing;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const CHILD: &str = "TUF_CEREMONY_SOFTHSM_CHILD";
const DIR: &str = "TUF_CEREMONY_SOFTHSM_DIR";
const PIN: &str = "483920";
const SO_PIN: &str = "71650294";

// CK_TOKEN_INFO flags (PKCS#11 2.40 §3.2).
const CKF_USER_PIN_COUNT_LOW: u64 = 0x0001_0000;
const CKF_USER_PIN_FINAL_TRY: u64 = 0x0002_0000;
const CKF_USER_PIN_LOCKED: u64 = 0x0004_0000;
const CKF_SO_PIN_FINAL_TRY: u64 = 0x0020_0000;
const CKF_SO_PIN_LOCKED: u64 = 0x0040_0000;
const CKF_ERROR_STATE: u64 = 0x0100_0000;

fn softhsm_present() -> Option<()> {
    let util = Command::new("softhsm2-util").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    (Path::new(MODULE).exists() && util).then_some(())
}

/// Runs `body` in a child process with a private SoftHSM2 configuration and token directory.
fn isolated(name: &str, body: impl FnOnce(&Path)) {
    if std::env::var(CHILD).as_deref() == Ok(name) {
        body(&PathBuf::from(std::env::var_os(DIR).expect("token dir")));
        return;
    }
    if support::require_or_skip(softhsm_present(), "SoftHSM2", "apt-get install softhsm2 (module /usr/lib/softhsm/libsofthsm2.so)").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tokens = tmp.path().join("softhsm-tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = tmp.path().join("softhsm2.conf");
    std::fs::write(&conf, format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens.display()))
        .unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        .env(DIR, tmp.path())
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("1 passed"), "child test {name} failed:\n{text}");
    eprintln!("{text}");
}

fn tokens_dir(dir: &Path) -> PathBuf {
    dir.join("softhsm-tokens")
}

/// Creates an initialised token with `softhsm2-util` (before the module is loaded in this
/// process); returns its token directory.
fn make_token(dir: &Path, label: &str) -> PathBuf {
    let before: Vec<PathBuf> = std::fs::read_dir(tokens_dir(dir)).unwrap().map(|e| e.unwrap().path()).collect();
    let out = Command::new("softhsm2-util").args(["--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SO_PIN]).output().unwrap();
    assert!(out.status.success(), "softhsm2-util: {}", String::from_utf8_lossy(&out.stderr));
    let mut new: Vec<PathBuf> = std::fs::read_dir(tokens_dir(dir)).unwrap().map(|e| e.unwrap().path()).filter(|p| !before.contains(p)).collect();
    assert_eq!(new.len(), 1);
    new.pop().unwrap()
}

/// Token serials by label, from `softhsm2-util --show-slots`.
fn serials() -> BTreeMap<String, String> {
    let out = Command::new("softhsm2-util").arg("--show-slots").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut m = BTreeMap::new();
    let mut serial = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(s) = line.strip_prefix("Serial number:") {
            serial = s.trim().to_string();
        } else if let Some(l) = line.strip_prefix("Label:")
            && !l.trim().is_empty()
        {
            m.insert(l.trim().to_string(), serial.clone());
        }
    }
    m
}

/// Sets CK_TOKEN_INFO flags in a SoftHSM token's object store (the CKA_OS_TOKENFLAGS
/// attribute, 0x8000534b, of token.object), which SoftHSM then reports from C_GetTokenInfo.
fn plant_flags(token_dir: &Path, flags: u64) {
    let p = token_dir.join("token.object");
    let mut b = std::fs::read(&p).unwrap();
    let mut tag = 0x8000_534bu64.to_be_bytes().to_vec();
    tag.extend_from_slice(&2u64.to_be_bytes()); // attribute kind: unsigned long
    let at = b.windows(tag.len()).position(|w| w == tag.as_slice()).expect("CKA_OS_TOKENFLAGS in token.object (SoftHSM file format changed?)") + tag.len();
    let v = u64::from_be_bytes(b[at..at + 8].try_into().unwrap());
    b[at..at + 8].copy_from_slice(&(v | flags).to_be_bytes());
    std::fs::write(&p, b).unwrap();
}

fn holder(name: &str, alg: Algorithm, label: Option<&str>, serial: Option<&str>) -> Keyholder {
    Keyholder {
        name: name.into(),
        token: TokenKind::Pkcs11,
        algorithm: alg,
        serial: serial.map(Into::into),
        module: Some(MODULE.into()),
        token_label: label.map(Into::into),
        pin_policy: "always".into(),
        touch_policy: "always".into(),
        yubihsm: None,
        existing: None,
    }
}

/// A scripted operator: answers secrets in order (checking their kind), records what was
/// shown and asked.
#[derive(Default)]
struct ScriptUi {
    secrets: VecDeque<(SecretKind, &'static str)>,
    type_word: bool,
    shown: Vec<String>,
    prompts: Vec<(SecretKind, String)>,
    words: Vec<String>,
}

impl ScriptUi {
    fn with(secrets: &[(SecretKind, &'static str)]) -> Self {
        ScriptUi { secrets: secrets.iter().cloned().collect(), type_word: true, ..Default::default() }
    }
    fn pins(n: usize) -> Self {
        Self::with(&vec![(SecretKind::Unlock, PIN); n])
    }
    fn saw(&self, what: &str) -> bool {
        self.shown.iter().any(|s| s.contains(what)) || self.prompts.iter().any(|(_, p)| p.contains(what))
    }
}

impl Ui for ScriptUi {
    fn show(&mut self, text: &str) {
        self.shown.push(text.to_string());
    }
    fn confirm(&mut self, q: &str) -> Result<bool, UiError> {
        self.shown.push(q.to_string());
        Ok(true)
    }
    fn confirm_word(&mut self, what: &str, word: &str) -> Result<bool, UiError> {
        self.shown.push(what.to_string());
        self.words.push(word.to_string());
        Ok(self.type_word)
    }
    fn wait(&mut self, i: &str) -> Result<(), UiError> {
        self.shown.push(i.to_string());
        Ok(())
    }
    fn ask(&mut self, q: &str) -> Result<String, UiError> {
        Err(UiError::Unattended(q.to_string()))
    }
    fn secret(&mut self, _holder: &str, kind: SecretKind, prompt: &str) -> Result<Zeroizing<String>, UiError> {
        self.prompts.push((kind.clone(), prompt.to_string()));
        let (want, v) = self.secrets.pop_front().ok_or(UiError::Closed("a PIN".into()))?;
        assert_eq!(kind, want, "secret kind for prompt {prompt:?}");
        Ok(Zeroizing::new(v.to_string()))
    }
}

/// Checks a signature with OpenSSL (independent of the Rust crypto stack).
fn openssl_verifies(dir: &Path, key: &TokenKey, msg: &[u8], sig: &[u8]) -> bool {
    let (pem, m, s) = (dir.join("pub.pem"), dir.join("msg"), dir.join("sig"));
    std::fs::write(&pem, key.public.to_pem()).unwrap();
    std::fs::write(&m, msg).unwrap();
    std::fs::write(&s, sig).unwrap();
    let mut c = Command::new("openssl");
    match key.public.algorithm() {
        Algorithm::Ed25519 => c.args(["pkeyutl", "-verify", "-pubin", "-inkey"]).arg(&pem).arg("-rawin").arg("-in").arg(&m).arg("-sigfile").arg(&s),
        Algorithm::EcdsaP256 => c.args(["dgst", "-sha256", "-verify"]).arg(&pem).arg("-signature").arg(&s).arg(&m),
        _ => c.args(["dgst", "-sha384", "-verify"]).arg(&pem).arg("-signature").arg(&s).arg(&m),
    };
    let out = c.output().unwrap();
    out.status.success()
}

fn refused(r: Result<impl Sized, TokenError>) -> String {
    match r {
        Err(TokenError::Refused(s)) => s,
        Err(e) => panic!("expected a refusal, got {e:?}"),
        Ok(_) => panic!("expected a refusal, got success"),
    }
}

#[test]
fn keygen_and_signing_for_each_algorithm() {
    isolated("keygen_and_signing_for_each_algorithm", |dir| {
        let algs = [("ed", Algorithm::Ed25519), ("p256", Algorithm::EcdsaP256), ("p384", Algorithm::EcdsaP384)];
        for (label, _) in algs {
            make_token(dir, label);
        }
        let serials = serials();
        let mut backend = Pkcs11Tokens;
        // A payload larger than a root (and than a smart card's APDU) and a small one.
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        for (label, alg) in algs {
            let h = holder(&format!("kh-{label}"), alg, Some(label), None);
            let mut ui = ScriptUi::pins(2);
            let tk = backend.provision(&h, &mut ui).unwrap_or_else(|e| panic!("{label}: {e}"));
            assert!(tk.generated, "{label}");
            assert_eq!(tk.public.algorithm(), alg);
            assert_eq!(tk.serial.as_deref(), Some(serials[label].as_str()));
            assert!(tk.description.contains("tuf-ceremony:kh-"), "{}", tk.description);
            let mut signer = backend.open(&h, &tk, &mut ui).unwrap();
            assert_eq!(signer.public_key().to_key(), tk.public.to_key());
            for msg in [b"tuf-ceremony".as_slice(), &big] {
                let sig = signer.sign(msg).unwrap();
                assert_eq!(tk.public.verify(msg, &sig), SigCheck::Valid, "{label}: core verification");
                assert!(openssl_verifies(dir, &tk, msg, &sig), "{label}: openssl verification");
                let mut other = msg.to_vec();
                other[0] ^= 1;
                assert_eq!(tk.public.verify(&other, &sig), SigCheck::Invalid, "{label}: signature bound to the message");
            }
            if alg == Algorithm::Ed25519 {
                assert_eq!(signer.sign(b"x").unwrap().len(), 64);
            }
            assert!(ui.secrets.is_empty());
        }
    });
}

#[test]
fn existing_key_is_found_and_never_regenerated() {
    isolated("existing_key_is_found_and_never_regenerated", |dir| {
        make_token(dir, "keep");
        let h = holder("alice", Algorithm::EcdsaP256, Some("keep"), None);
        let first = Pkcs11Tokens.provision(&h, &mut ScriptUi::pins(1)).unwrap();
        assert!(first.generated);
        let mut ui = ScriptUi::pins(1);
        let again = Tokens::new(dir.join("unused")).provision(&h, &mut ui).unwrap();
        assert!(!again.generated);
        assert_eq!(again.public.to_key(), first.public.to_key());
        assert!(ui.saw("already holds a key"));
        // The plan now says another algorithm: refused, nothing generated.
        let other = holder("alice", Algorithm::Ed25519, Some("keep"), None);
        let why = refused(Pkcs11Tokens.provision(&other, &mut ScriptUi::pins(1)));
        assert!(why.contains("never replaced"), "{why}");
        // Exactly one key pair with the label is on the token.
        let ctx = p11::module(Path::new(MODULE)).unwrap();
        let slot = p11::list_tokens(&ctx).unwrap().into_iter().find(|t| t.state.label == "keep").unwrap().slot;
        let s = ctx.open_ro_session(slot).unwrap();
        p11::login(&s, cryptoki::session::UserType::User, Some(PIN)).unwrap();
        use cryptoki::object::{Attribute, ObjectClass};
        for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
            let n = s.find_objects(&[Attribute::Class(class), Attribute::Label(b"tuf-ceremony:alice".to_vec())]).unwrap().len();
            assert_eq!(n, 1, "{class:?}");
        }
        // The private key is sensitive, non-extractable and was generated on the token.
        let pair = p11::find_key(&s, "tuf-ceremony:alice").unwrap().unwrap();
        assert!(pair.concerns().is_empty(), "{:?}", pair.concerns());
        assert_eq!((pair.local, pair.extractable, pair.sensitive), (Some(true), Some(false), Some(true)));
    });
}

#[test]
fn wrong_pin_reprompts_shows_count_low_and_stops_before_lockout() {
    isolated("wrong_pin_reprompts_shows_count_low_and_stops_before_lockout", |dir| {
        make_token(dir, "pins");
        let h = holder("bob", Algorithm::Ed25519, Some("pins"), None);
        // One wrong PIN, then the right one.
        let mut ui = ScriptUi::with(&[(SecretKind::Unlock, "000000"), (SecretKind::Unlock, PIN)]);
        let tk = Pkcs11Tokens.provision(&h, &mut ui).unwrap();
        assert_eq!(ui.prompts.len(), 2);
        assert!(ui.saw("Wrong user PIN"), "{:?}", ui.shown);
        // SoftHSM sets CKF_USER_PIN_COUNT_LOW after a wrong PIN; the operator is told.
        assert!(ui.saw("count low"), "{:?} {:?}", ui.shown, ui.prompts);
        // Two wrong PINs in a row: the tool stops and does not ask a third time.
        let mut ui = ScriptUi::with(&[(SecretKind::Unlock, "111111"), (SecretKind::Unlock, "222222"), (SecretKind::Unlock, PIN)]);
        let why = refused(Pkcs11Tokens.open(&h, &tk, &mut ui));
        assert!(why.contains("stopping before the token locks"), "{why}");
        assert_eq!(ui.prompts.len(), 2);
        assert!(ui.prompts[1].1.contains("count low"), "{:?}", ui.prompts);
        // Nothing is locked: the right PIN opens the token and signs.
        let mut signer = Pkcs11Tokens.open(&h, &tk, &mut ScriptUi::pins(1)).unwrap();
        let sig = signer.sign(b"after wrong PINs").unwrap();
        assert_eq!(tk.public.verify(b"after wrong PINs", &sig), SigCheck::Valid);
        // A correct login resets SoftHSM's count-low flag.
        let ctx = p11::module(Path::new(MODULE)).unwrap();
        let st = p11::list_tokens(&ctx).unwrap().into_iter().find(|t| t.state.label == "pins").unwrap().state;
        assert!(!st.user_pin_count_low);
    });
}

/// SoftHSM2 2.6.1 has no PIN retry counter: after a wrong PIN it sets only
/// CKF_USER_PIN_COUNT_LOW, and it never locks (checked by hand: eleven wrong PINs, then the
/// right one logs in). So the final-try, locked and error states cannot be reached by
/// entering wrong PINs here, and no real HSM (Nitrokey HSM, YubiHSM 2) is available on this
/// machine. Instead each state is planted in SoftHSM's own token store (the token-flags
/// attribute of token.object), which SoftHSM then reports through C_GetTokenInfo: the real
/// module path up to the flags, but not a real counter. A real HSM is needed to see the
/// flags appear from wrong entries.
#[test]
fn deadly_token_states_are_refused_before_any_pin() {
    isolated("deadly_token_states_are_refused_before_any_pin", |dir| {
        let cases = [
            ("user-final", CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY, "CKF_USER_PIN_FINAL_TRY"),
            ("user-locked", CKF_USER_PIN_LOCKED, "CKF_USER_PIN_LOCKED"),
            ("so-final", CKF_SO_PIN_FINAL_TRY, "CKF_SO_PIN_FINAL_TRY"),
            ("so-locked", CKF_SO_PIN_LOCKED, "CKF_SO_PIN_LOCKED"),
            ("error", CKF_ERROR_STATE, "CKF_ERROR_STATE"),
        ];
        for (label, flags, _) in cases {
            plant_flags(&make_token(dir, label), flags);
        }
        make_token(dir, "healthy");
        let ctx = p11::module(Path::new(MODULE)).unwrap();
        let listed = p11::list_tokens(&ctx).unwrap();
        for (label, _, flag) in cases {
            let st = &listed.iter().find(|t| t.state.label == label).unwrap().state;
            assert!(st.refusal().is_some(), "{label}: SoftHSM reports the planted flags: {st:?}");
            let h = holder(label, Algorithm::EcdsaP256, Some(label), None);
            let mut ui = ScriptUi::default();
            let why = refused(Pkcs11Tokens.provision(&h, &mut ui));
            assert!(why.contains(flag) && why.contains("refusing token"), "{label}: {why}");
            assert!(ui.prompts.is_empty(), "{label}: no PIN may be asked of a token in this state");
            let fake = TokenKey {
                public: SoftwareKey::generate(Algorithm::EcdsaP256, "x").unwrap().public_key().clone(),
                serial: None,
                description: String::new(),
                attestation: vec![],
                generated: false,
            };
            let why = refused(Pkcs11Tokens.open(&h, &fake, &mut ui));
            assert!(why.contains(flag), "{label}: {why}");
            assert!(ui.prompts.is_empty());
        }
        // The control token works.
        let h = holder("healthy", Algorithm::EcdsaP256, Some("healthy"), None);
        assert!(Pkcs11Tokens.provision(&h, &mut ScriptUi::pins(1)).unwrap().generated);
    });
}

#[test]
fn token_selection_refuses_ambiguous_and_missing_tokens() {
    isolated("token_selection_refuses_ambiguous_and_missing_tokens", |dir| {
        make_token(dir, "twin");
        make_token(dir, "twin");
        make_token(dir, "solo");
        let serials_now = Command::new("softhsm2-util").arg("--show-slots").output().unwrap();
        let twins: Vec<String> = String::from_utf8_lossy(&serials_now.stdout)
            .lines()
            .map(str::trim)
            .filter_map(|l| l.strip_prefix("Serial number:").map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(twins.len(), 3);
        // Same label twice: refused, listing what is present.
        let h = holder("carol", Algorithm::EcdsaP384, Some("twin"), None);
        let why = refused(Pkcs11Tokens.provision(&h, &mut ScriptUi::pins(1)));
        assert!(why.contains("2 tokens match") && why.contains("\"solo\""), "{why}");
        for s in &twins {
            assert!(why.contains(s.as_str()), "listing names serial {s}: {why}");
        }
        // The serial disambiguates.
        let serial = serials()["solo"].clone();
        let h = holder("carol", Algorithm::EcdsaP384, None, Some(&serial));
        let tk = Pkcs11Tokens.provision(&h, &mut ScriptUi::pins(1)).unwrap();
        assert_eq!(tk.serial.as_deref(), Some(serial.as_str()));
        // A serial that is not present: not found, listing what is.
        let h = holder("dave", Algorithm::EcdsaP256, None, Some("0000000000000000"));
        match Pkcs11Tokens.provision(&h, &mut ScriptUi::pins(1)) {
            Err(TokenError::Signer(SignerError::NotFound(s))) => assert!(s.contains("\"solo\"") && s.contains("serial 0000000000000000"), "{s}"),
            other => panic!("{:?}", other.map(|t| t.description)),
        }
        // No serial or label with several initialised tokens present: ambiguous.
        let h = holder("erin", Algorithm::EcdsaP256, None, None);
        assert!(refused(Pkcs11Tokens.provision(&h, &mut ScriptUi::pins(1))).contains("3 tokens match"));
        // Signing refuses a token whose serial is not the recorded one.
        let mut moved = tk.clone();
        moved.serial = Some(twins.iter().find(|s| **s != serial).unwrap().clone());
        let h = holder("carol", Algorithm::EcdsaP384, Some("twin"), None);
        let r = Pkcs11Tokens.open(&h, &moved, &mut ScriptUi::pins(1));
        assert!(r.is_err());
    });
}

#[test]
fn blank_token_is_initialised_only_after_typing_initialize() {
    isolated("blank_token_is_initialised_only_after_typing_initialize", |_dir| {
        // No token made: SoftHSM offers one blank token.
        let h = holder("frank", Algorithm::Ed25519, Some("frank-hsm"), None);
        let mut ui = ScriptUi { type_word: false, ..Default::default() };
        let why = refused(Pkcs11Tokens.provision(&h, &mut ui));
        assert!(why.contains("INITIALIZE"), "{why}");
        assert_eq!(ui.words, vec!["INITIALIZE"]);
        assert!(ui.prompts.is_empty());
        let ctx = p11::module(Path::new(MODULE)).unwrap();
        assert!(p11::list_tokens(&ctx).unwrap().iter().all(|t| !t.state.initialized), "nothing initialised");
        // Mismatched repeat, then SO PIN twice, user PIN twice, then the user PIN to log in.
        let new = SecretKind::New;
        let mut ui = ScriptUi::with(&[
            (new.clone(), "so-pin-1234"),
            (new.clone(), "so-pin-9999"),
            (new.clone(), "so-pin-1234"),
            (new.clone(), "so-pin-1234"),
            (new.clone(), "246810"),
            (new.clone(), "246810"),
            (SecretKind::Unlock, "246810"),
        ]);
        let tk = Pkcs11Tokens.provision(&h, &mut ui).unwrap();
        assert!(ui.secrets.is_empty(), "{:?}", ui.prompts);
        assert!(ui.saw("differ"));
        assert!(tk.generated);
        let st = p11::list_tokens(&ctx).unwrap().into_iter().find(|t| t.state.label == "frank-hsm").unwrap().state;
        assert!(st.initialized && st.user_pin_initialized);
        assert_eq!(tk.serial.as_deref(), Some(st.serial.as_str()));
        // The user PIN opens it; the SO PIN is the SO's.
        let mut ui = ScriptUi::with(&[(SecretKind::Unlock, "246810")]);
        let mut s = Pkcs11Tokens.open(&h, &tk, &mut ui).unwrap();
        assert_eq!(tk.public.verify(b"m", &s.sign(b"m").unwrap()), SigCheck::Valid);
        drop(s);
        let slot = p11::list_tokens(&ctx).unwrap().into_iter().find(|t| t.state.label == "frank-hsm").unwrap().slot;
        let session = ctx.open_rw_session(slot).unwrap();
        p11::login(&session, cryptoki::session::UserType::So, Some("so-pin-1234")).unwrap();
        // Provisioning again never re-initialises: the token is found by its label.
        drop(session);
        let mut ui = ScriptUi::with(&[(SecretKind::Unlock, "246810")]);
        let again = Pkcs11Tokens.provision(&h, &mut ui).unwrap();
        assert!(!again.generated && ui.words.is_empty());
    });
}

#[test]
fn initialised_token_without_user_pin_gets_one_with_the_so_pin() {
    isolated("initialised_token_without_user_pin_gets_one_with_the_so_pin", |_dir| {
        // C_InitToken only (no C_InitPIN): SoftHSM's blank token, initialised here.
        let ctx = p11::module(Path::new(MODULE)).unwrap();
        let blank = p11::list_tokens(&ctx).unwrap().into_iter().find(|t| !t.state.initialized).unwrap();
        p11::init_token(&ctx, blank.slot, "so-secret-77", "no-user-pin").unwrap();
        let st = p11::list_tokens(&ctx).unwrap().into_iter().find(|t| t.state.label == "no-user-pin").unwrap().state;
        assert!(st.initialized && !st.user_pin_initialized);
        let h = holder("gina", Algorithm::EcdsaP256, Some("no-user-pin"), None);
        // A wrong SO PIN is asked again (SecretKind::Admin), then the user PIN is set and used.
        let mut ui = ScriptUi::with(&[
            (SecretKind::Admin, "so-wrong-00"),
            (SecretKind::Admin, "so-secret-77"),
            (SecretKind::New, "135791"),
            (SecretKind::New, "135791"),
            (SecretKind::Unlock, "135791"),
        ]);
        let tk = Pkcs11Tokens.provision(&h, &mut ui).unwrap();
        assert!(ui.secrets.is_empty() && tk.generated);
        assert!(ui.saw("Wrong SO PIN"), "{:?}", ui.shown);
        let mut s = Pkcs11Tokens.open(&h, &tk, &mut ScriptUi::with(&[(SecretKind::Unlock, "135791")])).unwrap();
        assert_eq!(tk.public.verify(b"m", &s.sign(b"m").unwrap()), SigCheck::Valid);
    });
}

const PLAN: &str = r#"
[ceremony]
id = "softhsm-ceremony"
clients = ["python-tuf", "go-tuf"]

[[keyholder]]
name = "alice"
token = "pkcs11"
module = "MODULE"
token_label = "alice-hsm"
algorithm = "ed25519"

[[keyholder]]
name = "bob"
token = "pkcs11"
module = "MODULE"
serial = "BOB_SERIAL"
algorithm = "ecdsa-p256"

[[keyholder]]
name = "carol"
token = "pkcs11"
module = "MODULE"
token_label = "carol-hsm"
algorithm = "ecdsa-p384"

[roles.root]
keyholders = ["alice", "bob", "carol"]
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

[[delegation]]
name = "claimed"
keyholders = ["alice", "bob", "carol"]
threshold = 2
terminating = false
paths = ["*/*"]
expires_days = 180

[[delegation]]
name = "unclaimed"
online_key = "online/unclaimed.pub"
paths = ["*/*"]
"#;

/// A whole ceremony on three SoftHSM tokens (Ed25519, P-256, P-384): alice's and bob's
/// tokens are prepared with softhsm2-util (bob's found by serial), carol's is SoftHSM's
/// blank token, initialised by the ceremony. Keys generated on the tokens; root, targets
/// and claimed signed by all three; exported; checked by the core and by python-tuf.
#[test]
fn full_ceremony_on_softhsm_tokens() {
    isolated("full_ceremony_on_softhsm_tokens", |dir| {
        make_token(dir, "alice-hsm");
        make_token(dir, "bob-hsm");
        let bob_serial = serials()["bob-hsm"].clone();
        std::fs::create_dir_all(dir.join("online")).unwrap();
        for f in ["snapshot", "timestamp", "unclaimed"] {
            let k = SoftwareKey::generate(Algorithm::Ed25519, f).unwrap();
            std::fs::write(dir.join(format!("online/{f}.pub")), k.public_key().to_pem()).unwrap();
        }
        let text = PLAN.replace("MODULE", MODULE).replace("BOB_SERIAL", &bob_serial);
        std::fs::write(dir.join("plan.toml"), text).unwrap();
        let plan = Plan::load(&dir.join("plan.toml"), chrono::Utc::now()).unwrap_or_else(|e| panic!("{e}"));
        // Secrets by keyholder: carol's blank token asks New twice for the SO PIN, then
        // twice for the user PIN.
        let mut new_count = 0;
        let secrets = move |holder: &str, kind: &SecretKind| -> Option<Zeroizing<String>> {
            let v = match (holder, kind) {
                ("carol", SecretKind::New) => {
                    new_count += 1;
                    if new_count <= 2 { "carol-so-pin-5309" } else { "carol-pin-8675" }
                }
                ("carol", SecretKind::Unlock) => "carol-pin-8675",
                (_, SecretKind::Unlock) => PIN,
                _ => return None,
            };
            Some(Zeroizing::new(v.to_string()))
        };
        let mut ui = AutoUi { secrets, quiet: true };
        let mut tokens = Tokens::new(dir.join("software-tokens"));
        std::fs::create_dir_all(dir.join("media")).unwrap();
        let opts = Options { media: dir.join("media"), rehearsal: true, ..Default::default() };
        let done = {
            let mut engine = Engine::open(&plan, &dir.join("work"), &mut ui, &mut tokens, opts).unwrap();
            engine.run().unwrap_or_else(|e| panic!("ceremony: {e}"))
        };
        assert!(!dir.join("software-tokens").exists(), "no software token was used");
        let md_dir = done.media_dir.join("metadata");
        let load = |n: &str| Metadata::from_bytes(&std::fs::read(md_dir.join(n)).unwrap(), Mode::Strict).unwrap();
        let (root, targets, claimed) = (load("1.root.json"), load("1.targets.json"), load("1.claimed.json"));
        let r = root.signed.as_root().unwrap();
        let mut keytypes: Vec<String> = r.keys.values().map(|k| format!("{}/{}", k.keytype, k.scheme)).collect();
        keytypes.sort();
        assert!(
            keytypes.contains(&"ed25519/ed25519".to_string())
                && keytypes.contains(&"ecdsa/ecdsa-sha2-nistp256".to_string())
                && keytypes.contains(&"ecdsa/ecdsa-sha2-nistp384".to_string()),
            "{keytypes:?}"
        );
        for (name, md, check) in [
            ("root", &root, check_top_level(r, "root", &root, &root.signed_bytes(), false).unwrap()),
            ("targets", &targets, check_top_level(r, "targets", &targets, &targets.signed_bytes(), false).unwrap()),
            ("claimed", &claimed, check_delegated(targets.signed.as_targets().unwrap(), "claimed", &claimed, &claimed.signed_bytes(), false).unwrap()),
        ] {
            assert_eq!(md.signatures.len(), 3, "{name}");
            assert_eq!(check.valid(), 3, "{name}: {check:?}");
        }
        // The transcript records the token serials and that all three keys were generated.
        let transcript = std::fs::read_to_string(done.media_dir.join("transcript.jsonl")).unwrap();
        assert!(transcript.contains(&bob_serial));
        assert_eq!(transcript.matches("\"generated\":true").count(), 3, "{transcript}");
        let Some(py) = support::python() else { return };
        let script = r#"
import sys
from tuf.api.metadata import Metadata
d = sys.argv[1]
root = Metadata.from_file(f"{d}/1.root.json")
targets = Metadata.from_file(f"{d}/1.targets.json")
claimed = Metadata.from_file(f"{d}/1.claimed.json")
root.verify_delegate("root", root)
root.verify_delegate("targets", targets)
targets.verify_delegate("claimed", claimed)
for name, delegator, md in [("root", root, root), ("targets", root, targets), ("claimed", targets, claimed)]:
    res = delegator.signed.get_verification_result(name, md.signed_bytes, md.signatures)
    assert res.verified and len(res.signed) == 3 and not res.unsigned, (name, res)
print("python-tuf ok:", sorted({k.scheme for k in root.signed.keys.values()}))
"#;
        let out = Command::new(&py).args(["-c", script]).arg(&md_dir).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "python-tuf rejected the SoftHSM ceremony output:\n{text}");
        assert!(text.contains("ecdsa-sha2-nistp384") && text.contains("ed25519"), "{text}");
        eprintln!("{text}");
    });
}
