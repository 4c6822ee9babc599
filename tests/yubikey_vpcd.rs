//! The YubiKey back end against a virtual PIV card over the REAL PC/SC path: our own
//! `pcscd` (private reader config, vsmartcard's vpcd driver) and `interop/vpiv` (Nitrokey's
//! piv-authenticator under trussed's software platform, shimmed to look like a YubiKey).
//! The `yubikey` crate cannot tell it from a device for: open/list, version and serial,
//! management-key authentication and change, PIN and PUK change and retry counters,
//! blocking and reset, P-256/P-384 generation in slot 9c, writing the slot certificate and
//! signing.
//!
//! What this card CANNOT show, and how it is covered instead:
//! * attestation (INS F9) and the F9 device certificate: the card answers "not supported",
//!   so these tests check the other branch (no attestation files, a note to the operator).
//!   The attestation verifier (`src/attest`, tests/attestation.rs) is tested with real
//!   YubiKey attestations published by Sigstore and with synthetic chains.
//! * PIN and touch policies: piv-authenticator ignores the policy tags at generation, so
//!   enforcement cannot be tested without hardware. What is tested: the plan's policies are
//!   passed to the device and the "Touch your YubiKey now" notice comes before each
//!   signature when the touch policy is not "never".
//! * AES-192 management keys (the firmware 5.7 default): the card has only 3DES and
//!   AES-256, so the harness reports firmware 5.4.3 and the 3DES branch runs. The 5.7
//!   branch (AES-192 via `MgmKey::get_default` / random AES-192 key) needs hardware.
//! * GET METADATA: empty for slot 9c, so these tests find existing keys through the
//!   certificate the back end writes into slot 9c (the fallback for firmware < 5.3).
//! * Ed25519: not offered on YubiKeys at all (the plan refuses it).
//! * Form factor: the card has no YubiKey management application ("form factor unknown").
//! * The card keeps the management-key authentication across SELECT and card resets (the
//!   harness clears the PIN-verified state there, as a YubiKey does).
//!
//! The tests share one card reader, so they run one at a time (a process-wide mutex and a
//! lock file against other `cargo test` runs on the machine). Each test starts its own
//! `pcscd -f -c <private dir>` and virtual cards, and stops them by PID.
//! Missing pcscd / vpcd / vpiv: skipped on a developer machine, a failure in CI
//! (`TUF_CEREMONY_REQUIRE_ALL=1`, `scripts/test.sh`).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tuf_ceremony::ceremony::engine::{Engine, Options};
use tuf_ceremony::ceremony::plan::{Keyholder, Plan, TokenKind};
use tuf_ceremony::ceremony::tokens::yubikey::YubiKeyTokens;
use tuf_ceremony::ceremony::tokens::{TokenBackend, TokenError, TokenKey, Tokens};
use tuf_ceremony::ceremony::ui::{SecretKind, Ui, UiError};
use tuf_ceremony::signer::software::SoftwareKey;
use tuf_ceremony::signer::yubikey::{self as yk, Device, SlotState};
use tuf_ceremony::signer::{Signer, SignerError};
use tuf_ceremony::tuf::keys::{Algorithm, SigCheck, keyid};
use zeroize::Zeroizing;

const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
/// Our private vpcd port (the Debian default config uses 35963).
const VPCD_PORT: u16 = 35973;
const READER_NAME: &str = "tuf-ceremony vpiv";

static SERIAL_TESTS: Mutex<()> = Mutex::new(());

// ------------------------------------------------------------------------------------
// The lab: pcscd + virtual cards
// ------------------------------------------------------------------------------------

fn find_pcscd() -> Option<PathBuf> {
    ["/usr/sbin/pcscd", "/usr/local/sbin/pcscd", "/sbin/pcscd"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// The vpiv binary: `VPIV_BIN`, or built once with `cargo build -p vpiv --locked`.
fn vpiv_bin() -> Result<PathBuf, String> {
    static BUILT: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            if let Some(p) = std::env::var_os("VPIV_BIN") {
                return Ok(PathBuf::from(p));
            }
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let out = Command::new(cargo)
                .current_dir(support::repo_root())
                .args(["build", "-p", "vpiv", "--locked", "--message-format=json-render-diagnostics"])
                .output()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                let tail: Vec<&str> = err.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
                return Err(format!("`cargo build -p vpiv` failed (needs libclang-dev):\n{}", tail.join("\n")));
            }
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "vpiv")
                .filter_map(|v| v["executable"].as_str().map(PathBuf::from))
                .next_back()
                .ok_or_else(|| "cargo built vpiv but named no executable".to_string())
        })
        .clone()
}

struct Lab {
    dir: tempfile::TempDir,
    pcscd: Option<Child>,
    /// Running virtual cards: (vpcd slot, serial, process).
    cards: Vec<(u16, u32, Child)>,
    vpiv: PathBuf,
    _lock: std::fs::File,
    _guard: std::sync::MutexGuard<'static, ()>,
}

fn sigterm_and_wait(child: &mut Child) {
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) on the PID of a child we spawned and have not reaped yet.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn reader_names() -> Vec<String> {
    let Ok(ctx) = pcsc::Context::establish(pcsc::Scope::User) else { return Vec::new() };
    let Ok(names) = ctx.list_readers_owned() else { return Vec::new() };
    names.iter().map(|n| n.to_string_lossy().into_owned()).collect()
}

impl Lab {
    /// pcscd with only our vpcd reader, or None (skip) when the tools are missing.
    fn start() -> Option<Lab> {
        let guard = SERIAL_TESTS.lock().unwrap_or_else(|p| p.into_inner());
        let pcscd = support::require_or_skip(find_pcscd(), "pcscd", "apt-get install pcscd (scripts/debian-packages.txt)")?;
        support::require_or_skip(Path::new(VPCD_DRIVER).exists().then_some(()), "vsmartcard vpcd driver", "apt-get install vsmartcard-vpcd")?;
        let vpiv = match vpiv_bin() {
            Ok(p) => p,
            Err(why) => return support::require_or_skip(None, "vpiv virtual card", &why),
        };
        // One pcscd per machine: wait for other test runs using it.
        let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open("/tmp/tuf-ceremony-vpcd.lock").expect("lock file");
        // SAFETY: flock(2) on a file descriptor we own.
        unsafe {
            use std::os::fd::AsRawFd;
            libc::flock(lock.as_raw_fd(), libc::LOCK_EX);
        }
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("reader.conf.d");
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::write(
            conf.join("vpiv"),
            format!("FRIENDLYNAME \"{READER_NAME}\"\nDEVICENAME /dev/null:0x{VPCD_PORT:04X}\nLIBPATH {VPCD_DRIVER}\nCHANNELID 0x{VPCD_PORT:04X}\n"),
        )
        .unwrap();
        std::fs::create_dir_all("/run/pcscd").ok();
        let log = std::fs::File::create(dir.path().join("pcscd.log")).unwrap();
        let child = Command::new(pcscd)
            .args(if std::env::var_os("VPCD_TEST_PCSCD_DEBUG").is_some() { &["-f", "-d", "-c"][..] } else { &["-f", "-c"][..] })
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start pcscd");
        let mut lab = Lab { dir, pcscd: Some(child), cards: Vec::new(), vpiv, _lock: lock, _guard: guard };
        let start = Instant::now();
        while !reader_names().iter().any(|n| n.starts_with(READER_NAME)) {
            if let Some(Ok(Some(status))) = lab.pcscd.as_mut().map(|c| c.try_wait()) {
                panic!("pcscd exited ({status}); another pcscd running? log:\n{}", lab.log());
            }
            assert!(start.elapsed() < Duration::from_secs(15), "pcscd shows no vpcd reader; log:\n{}", lab.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(lab)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pcscd.log")).unwrap_or_default()
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("cards")
    }

    /// Plugs in the virtual YubiKey `serial` in vpcd slot 0 (replacing what is there). Its
    /// flash persists in the lab, so taking it out and back in keeps its keys.
    fn insert(&mut self, serial: u32) {
        self.insert_in(0, serial);
    }

    fn insert_in(&mut self, slot: u16, serial: u32) {
        self.remove_slot(slot);
        let child = Command::new(&self.vpiv)
            .args(["--serial", &serial.to_string(), "--port", &(VPCD_PORT + slot).to_string(), "--state"])
            .arg(self.state_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join(format!("vpiv-{serial}.log"))).unwrap())
            .spawn()
            .expect("start vpiv");
        self.cards.push((slot, serial, child));
        self.wait_for(|serials| serials.contains(&serial), &format!("YubiKey {serial} to appear"));
    }

    fn remove_slot(&mut self, slot: u16) {
        if let Some(i) = self.cards.iter().position(|(s, _, _)| *s == slot) {
            let (_, serial, mut child) = self.cards.remove(i);
            let _ = child.kill();
            let _ = child.wait();
            self.wait_for(|serials| !serials.contains(&serial), &format!("YubiKey {serial} to disappear"));
        }
    }

    fn wait_for(&self, ok: impl Fn(&[u32]) -> bool, what: &str) {
        let start = Instant::now();
        loop {
            let serials: Vec<u32> = yk::list().map(|l| l.iter().map(|t| t.serial).collect()).unwrap_or_default();
            if ok(&serials) {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}; pcscd log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Ok(rd) = std::fs::read_dir(self.dir.path())
        {
            for e in rd.flatten().filter(|e| e.file_name().to_string_lossy().starts_with("vpiv-")) {
                eprintln!("--- {}:\n{}", e.path().display(), std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
        for (_, _, mut c) in self.cards.drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(mut p) = self.pcscd.take() {
            sigterm_and_wait(&mut p);
        }
    }
}

// ------------------------------------------------------------------------------------
// A scripted operator
// ------------------------------------------------------------------------------------

type SecretFn<'a> = Box<dyn FnMut(&str, &SecretKind, &str) -> Option<String> + 'a>;

struct ScriptUi<'a> {
    secret: SecretFn<'a>,
    on_wait: Box<dyn FnMut(&str) + 'a>,
    /// Answer to yes/no questions (keep the existing key? serial matches? clock?).
    yes: bool,
    /// Whether the operator types the confirmation word (RESET).
    types_word: bool,
    /// Answer to free-text questions (the serial when several tokens are connected).
    answer: Option<String>,
    shown: Vec<String>,
    secrets_asked: Vec<(String, SecretKind, String)>,
}

impl<'a> ScriptUi<'a> {
    fn new(secret: impl FnMut(&str, &SecretKind, &str) -> Option<String> + 'a) -> Self {
        ScriptUi {
            secret: Box::new(secret),
            on_wait: Box::new(|_| {}),
            yes: true,
            types_word: true,
            answer: None,
            shown: Vec::new(),
            secrets_asked: Vec::new(),
        }
    }
    fn saw(&self, needle: &str) -> bool {
        self.shown.iter().any(|s| s.contains(needle))
    }
}

impl Ui for ScriptUi<'_> {
    fn show(&mut self, text: &str) {
        self.shown.push(text.to_string());
    }
    fn confirm(&mut self, question: &str) -> Result<bool, UiError> {
        self.shown.push(format!("? {question}"));
        Ok(self.yes)
    }
    fn confirm_word(&mut self, what: &str, word: &str) -> Result<bool, UiError> {
        self.shown.push(format!("?{word} {what}"));
        Ok(self.types_word)
    }
    fn wait(&mut self, instruction: &str) -> Result<(), UiError> {
        self.shown.push(format!("wait: {instruction}"));
        (self.on_wait)(instruction);
        Ok(())
    }
    fn ask(&mut self, question: &str) -> Result<String, UiError> {
        self.shown.push(format!("ask: {question}"));
        self.answer.clone().ok_or_else(|| UiError::Unattended(question.to_string()))
    }
    fn secret(&mut self, keyholder: &str, kind: SecretKind, prompt: &str) -> Result<Zeroizing<String>, UiError> {
        self.secrets_asked.push((keyholder.to_string(), kind.clone(), prompt.to_string()));
        (self.secret)(keyholder, &kind, prompt).map(Zeroizing::new).ok_or_else(|| UiError::Unattended(prompt.to_string()))
    }
}

/// A PIN and PUK per keyholder (digits, from the first letter), always the right ones.
fn digit_of(holder: &str) -> u8 {
    (holder.as_bytes()[0] - b'a') % 10
}
fn pin_of(holder: &str) -> String {
    format!("{}24680", digit_of(holder))
}
fn puk_of(holder: &str) -> String {
    format!("{}1357913", digit_of(holder))
}
fn right_secrets(holder: &str, kind: &SecretKind, _prompt: &str) -> Option<String> {
    Some(match kind {
        SecretKind::New | SecretKind::Unlock => pin_of(holder),
        SecretKind::Admin => puk_of(holder),
    })
}

fn keyholder(name: &str, serial: Option<u32>, alg: Algorithm, touch: &str) -> Keyholder {
    Keyholder {
        name: name.into(),
        token: TokenKind::YubiKey,
        algorithm: alg,
        serial: serial.map(|s| s.to_string()),
        module: None,
        token_label: None,
        pin_policy: "always".into(),
        touch_policy: touch.into(),
        yubihsm: None,
        existing: None,
    }
}

fn collecting_notice() -> (yk::Notice, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    (Arc::new(move |m: &str| s2.lock().unwrap().push(m.to_string())), seen)
}

fn open_device(serial: u32) -> Device {
    let info = yk::list().unwrap().into_iter().find(|t| t.serial == serial).expect("token listed");
    Device::open(&info).unwrap()
}

// ------------------------------------------------------------------------------------
// Device level: the yubikey crate over PC/SC
// ------------------------------------------------------------------------------------

#[test]
fn device_pin_puk_management_key_and_reset() {
    let Some(mut lab) = Lab::start() else { return };
    lab.insert(10_000_001);

    // Listing: serial, firmware, form factor.
    let list = yk::list().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].serial, 10_000_001);
    assert_eq!(list[0].version, "5.4.3");
    assert_eq!(list[0].form_factor, "form factor unknown", "the virtual card has no management application");
    assert!(list[0].reader.starts_with(READER_NAME));

    let mut dev = open_device(10_000_001);
    assert_eq!(dev.serial(), 10_000_001);

    // PIN retries: a wrong PIN decrements, the right one restores.
    assert_eq!(dev.pin_retries().unwrap(), 3);
    match dev.verify_pin(b"999999") {
        Err(SignerError::WrongPin { retries_left: Some(2) }) => {}
        other => panic!("wrong PIN: {other:?}"),
    }
    assert_eq!(dev.pin_retries().unwrap(), 2);
    dev.verify_pin(yk::DEFAULT_PIN).unwrap();
    assert_eq!(dev.pin_retries().unwrap(), 3);

    // PIN and PUK change.
    dev.change_pin(yk::DEFAULT_PIN, b"7654321").unwrap();
    assert!(matches!(dev.verify_pin(yk::DEFAULT_PIN), Err(SignerError::WrongPin { .. })));
    dev.verify_pin(b"7654321").unwrap();
    dev.change_puk(yk::DEFAULT_PUK, b"87654321").unwrap();
    assert!(dev.change_puk(yk::DEFAULT_PUK, b"11112222").is_err(), "old PUK still accepted");

    // Management key: the factory 3DES key (firmware < 5.7), then a random one.
    dev.authenticate_default().unwrap();
    assert_eq!(dev.management_algorithm(), yubikey::MgmAlgorithmId::ThreeDes);
    let alg = dev.set_random_management_key().unwrap();
    assert_eq!(alg, yubikey::MgmAlgorithmId::ThreeDes);
    drop(dev);
    let mut dev = open_device(10_000_001);
    assert!(dev.authenticate_default().is_err(), "the factory management key must no longer work");

    // Reset: refused while PIN/PUK have tries left, then done after blocking both.
    assert!(dev.reset().is_err(), "reset must be refused with PIN and PUK unblocked");
    let mut dev = open_device(10_000_001);
    dev.block_pin_and_puk().unwrap();
    assert!(matches!(dev.verify_pin(b"7654321"), Err(SignerError::PinBlocked)));
    let mut dev = dev.reset().unwrap();
    dev.authenticate_default().unwrap();
    dev.verify_pin(yk::DEFAULT_PIN).unwrap();
    assert_eq!(dev.pin_retries().unwrap(), 3);
    dev.change_puk(yk::DEFAULT_PUK, yk::DEFAULT_PUK).unwrap();
}

#[test]
fn device_generates_p256_and_p384_and_signs_verifiably() {
    let Some(mut lab) = Lab::start() else { return };
    lab.insert(10_000_002);
    let mut dev = open_device(10_000_002);
    dev.block_pin_and_puk().unwrap();
    let mut dev = dev.reset().unwrap();
    assert!(matches!(dev.slot_state().unwrap(), SlotState::Unknown | SlotState::Empty));
    dev.authenticate_default().unwrap();
    drop(dev);

    // A root-sized payload and a large one: ECDSA signs a host-side prehash.
    let payloads: [Vec<u8>; 2] = [b"{\"signed\":{}}".to_vec(), vec![b'x'; 3 * 1024 * 1024]];
    for (alg, sig_len) in [(Algorithm::EcdsaP256, 72), (Algorithm::EcdsaP384, 104)] {
        let mut dev = open_device(10_000_002);
        dev.authenticate_default().unwrap();
        let public = dev.generate(alg, "always", "never").unwrap();
        assert_eq!(public.algorithm(), alg);
        dev.write_self_signed_certificate(&public, "tester", yk::DEFAULT_PIN).unwrap();
        match dev.slot_state().unwrap() {
            SlotState::Key(found, source) => {
                assert_eq!(found.to_key(), public.to_key());
                assert_eq!(source, "the certificate in slot 9c");
            }
            _ => panic!("the generated key is not found again"),
        }
        let (notice, seen) = collecting_notice();
        let mut signer = dev.into_signer(public.clone(), Zeroizing::new(String::from_utf8(yk::DEFAULT_PIN.to_vec()).unwrap()), true, notice).unwrap();
        assert_eq!(signer.describe(), "YubiKey 10000002 slot 9c");
        for p in &payloads {
            let sig = signer.sign(p).unwrap();
            assert!(sig.len() <= sig_len && sig[0] == 0x30, "DER ECDSA signature expected, got {} bytes", sig.len());
            assert_eq!(public.verify(p, &sig), SigCheck::Valid, "{alg:?}");
            assert_eq!(public.verify(b"other bytes", &sig), SigCheck::Invalid);
        }
        assert_eq!(seen.lock().unwrap().len(), 2, "one touch notice per signature");
        assert!(seen.lock().unwrap()[0].starts_with("Touch your YubiKey now"));
    }

    // A signer whose expected key is not the slot's key is caught at once.
    let mut dev = open_device(10_000_002);
    dev.authenticate_default().unwrap();
    let _current = dev.generate(Algorithm::EcdsaP256, "always", "never").unwrap();
    let other = SoftwareKey::generate(Algorithm::EcdsaP256, "other").unwrap();
    let (notice, _) = collecting_notice();
    let mut signer = dev.into_signer(other.public_key().clone(), Zeroizing::new("123456".into()), false, notice).unwrap();
    assert!(matches!(signer.sign(b"x"), Err(SignerError::WrongKey { .. })));
}

// ------------------------------------------------------------------------------------
// Back end: provisioning, keeping, PIN prompts
// ------------------------------------------------------------------------------------

#[test]
fn provision_keeps_existing_keys_and_pin_prompts_stop_before_lockout() {
    let Some(mut lab) = Lab::start() else { return };
    lab.insert(10_000_003);
    let (notice, touches) = collecting_notice();
    let mut backend = YubiKeyTokens { notice };
    let holder = keyholder("alice", Some(10_000_003), Algorithm::EcdsaP256, "always");

    // Refusing the RESET leaves the token alone.
    let mut ui = ScriptUi::new(right_secrets);
    ui.types_word = false;
    let err = backend.provision(&holder, &mut ui).unwrap_err();
    assert!(matches!(err, TokenError::Refused(ref m) if m.contains("not confirmed")), "{err}");
    assert!(ui.secrets_asked.is_empty(), "no secret may be asked before the reset is confirmed");

    // Provision: reset, management key, PIN+PUK twice each, generate, certificate.
    let mut ui = ScriptUi::new(right_secrets);
    let tk = backend.provision(&holder, &mut ui).unwrap();
    assert!(tk.generated);
    assert_eq!(tk.serial.as_deref(), Some("10000003"));
    assert_eq!(tk.public.algorithm(), Algorithm::EcdsaP256);
    assert!(tk.attestation.is_empty(), "the virtual card has no attestation");
    assert!(ui.saw("NOTE: no attestation for alice's key"), "{:#?}", ui.shown);
    assert!(ui.saw("Serial 10000003: compare it with the serial on the bag"));
    assert!(ui.saw("random 3DES key"));
    assert!(ui.saw("Touch your YubiKey now"), "touch notice before the certificate signature");
    let kinds: Vec<&SecretKind> = ui.secrets_asked.iter().map(|(_, k, _)| k).collect();
    assert_eq!(kinds, [&SecretKind::New, &SecretKind::New, &SecretKind::Admin, &SecretKind::Admin]);
    assert!(ui.shown.iter().any(|s| s.starts_with("?RESET")));

    // Provisioning again finds the key and keeps it (no reset asked, nothing regenerated).
    let mut ui = ScriptUi::new(|_: &str, _: &SecretKind, _: &str| None);
    let again = backend.provision(&holder, &mut ui).unwrap();
    assert!(!again.generated);
    assert_eq!(keyid(&again.public.to_key()), keyid(&tk.public.to_key()));
    assert!(!ui.shown.iter().any(|s| s.starts_with("?RESET")), "keeping must not ask for RESET");
    assert!(ui.saw("already holds a ecdsa-p256 key in slot 9c"));

    // The plan asking another algorithm than the kept key is refused, not silently accepted.
    let p384 = keyholder("alice", Some(10_000_003), Algorithm::EcdsaP384, "always");
    let err = backend.provision(&p384, &mut ScriptUi::new(|_: &str, _: &SecretKind, _: &str| None)).unwrap_err();
    assert!(err.to_string().contains("plan asks ecdsa-p384"), "{err}");

    // New PIN validation: too short, factory value, mismatch — re-asked each time.
    // (Exercised on a reset: answer "no" to keeping, then RESET.)
    let mut answers = vec!["12345", "12a456", "123456", "024680", "024681", "024680", "024680", "1234567", "01357913", "01357913"].into_iter();
    let mut ui = ScriptUi::new(move |_: &str, _: &SecretKind, _: &str| answers.next().map(String::from));
    ui.yes = false;
    let tk = backend.provision(&holder, &mut ui).unwrap();
    assert!(tk.generated, "answering no to keeping and typing RESET replaces the key");
    assert!(ui.saw("must be 6-8 digits long; this one has 5"), "{:#?}", ui.shown);
    assert!(ui.saw("The PIN must be digits only"));
    assert!(ui.saw("That is the factory PIN"));
    assert!(ui.saw("The two PIN entries differ"));
    assert!(ui.saw("The PUK must be 8 digits long; this one has 7"));
    assert!(ui.saw("ERASE the key in slot 9c"));

    // Open: a wrong PIN decrements and re-prompts; then signing works, with a touch notice.
    let mut tries = vec!["099999", "024680"].into_iter();
    let mut ui = ScriptUi::new(move |_: &str, k: &SecretKind, _: &str| {
        assert_eq!(*k, SecretKind::Unlock);
        tries.next().map(String::from)
    });
    let mut signer = backend.open(&holder, &tk, &mut ui).unwrap();
    assert!(ui.saw("3 PIN tries left"), "{:#?}", ui.shown);
    assert!(ui.saw("Wrong PIN for YubiKey 10000003"));
    assert!(ui.saw("2 PIN tries left"));
    assert!(ui.secrets_asked[1].2.contains("(2 tries left)"));
    touches.lock().unwrap().clear();
    let sig = signer.sign(b"canonical bytes").unwrap();
    assert_eq!(tk.public.verify(b"canonical bytes", &sig), SigCheck::Valid);
    assert_eq!(touches.lock().unwrap().len(), 1);
    drop(signer);

    // Always wrong: 3 -> 2 -> 1, then STOP without a third try.
    let mut ui = ScriptUi::new(|_: &str, _: &SecretKind, _: &str| Some("000000".to_string()));
    let err = backend.open(&holder, &tk, &mut ui).err().expect("must stop");
    assert!(err.to_string().contains("only 1 PIN try is left"), "{err}");
    assert_eq!(ui.secrets_asked.len(), 2, "exactly two wrong tries, never the last one");
    let mut dev = open_device(10_000_003);
    assert_eq!(dev.pin_retries().unwrap(), 1, "the last try is left for the keyholder");
    // The right PIN restores the tries (done here on the device, as the operator would after finding the PIN).
    dev.verify_pin(b"024680").unwrap();
    drop(dev);

    // The wrong token (other serial) is refused by serial before any PIN is asked.
    lab.insert(10_000_004);
    let mut ui = ScriptUi::new(right_secrets);
    let err = backend.open(&holder, &tk, &mut ui).err().expect("wrong token");
    assert!(err.to_string().contains("not connected"), "{err}");
    assert!(ui.secrets_asked.is_empty());
}

#[test]
fn several_tokens_need_a_serial_and_a_wrong_key_is_refused() {
    let Some(mut lab) = Lab::start() else { return };
    lab.insert_in(0, 10_000_005);
    lab.insert_in(1, 10_000_006);
    let (notice, _) = collecting_notice();
    let mut backend = YubiKeyTokens { notice };

    // Two tokens, no serial in the plan, nobody to ask: refused.
    let anon = keyholder("bob", None, Algorithm::EcdsaP256, "never");
    let err = backend.provision(&anon, &mut ScriptUi::new(right_secrets)).unwrap_err();
    assert!(matches!(err, TokenError::Ui(UiError::Unattended(ref q)) if q.contains("2 YubiKeys are connected")), "{err}");

    // The operator names one.
    let mut ui = ScriptUi::new(right_secrets);
    ui.answer = Some("10000006".into());
    let tk6 = backend.provision(&anon, &mut ui).unwrap();
    assert_eq!(tk6.serial.as_deref(), Some("10000006"));

    // The plan names one.
    let named = keyholder("carol", Some(10_000_005), Algorithm::EcdsaP384, "never");
    let tk5 = backend.provision(&named, &mut ScriptUi::new(right_secrets)).unwrap();
    assert_eq!(tk5.serial.as_deref(), Some("10000005"));
    assert_eq!(tk5.public.algorithm(), Algorithm::EcdsaP384);
    assert_ne!(keyid(&tk5.public.to_key()), keyid(&tk6.public.to_key()), "different serials, different keys");

    // Opening 10000005 while expecting 10000006's key: the slot certificate gives it away.
    let wrong = TokenKey { serial: Some("10000005".into()), ..tk6.clone() };
    let err = backend.open(&named, &wrong, &mut ScriptUi::new(right_secrets)).err().expect("wrong key");
    assert!(err.to_string().contains("holds a different key"), "{err}");
}

// ------------------------------------------------------------------------------------
// A whole ceremony with three virtual YubiKeys, one at a time, checked by python-tuf
// ------------------------------------------------------------------------------------

#[test]
fn ceremony_with_three_virtual_yubikeys_verifies_in_python_tuf() {
    let Some(mut lab) = Lab::start() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("online")).unwrap();
    for f in ["snapshot.pub", "timestamp.pub"] {
        let k = SoftwareKey::generate(Algorithm::Ed25519, f).unwrap();
        std::fs::write(dir.join("online").join(f), k.public_key().to_pem()).unwrap();
    }
    let holders: BTreeMap<&str, u32> = [("alice", 20_000_001u32), ("bob", 20_000_002), ("carol", 20_000_003)].into_iter().collect();
    let mut plan_text = String::from(
        "[ceremony]\nid = \"yk-three\"\ndescription = \"three virtual YubiKeys\"\nclients = [\"python-tuf\", \"go-tuf\", \"tough\"]\nconsistent_snapshot = true\n\n",
    );
    for (name, serial) in &holders {
        let touch = if *name == "carol" { "never" } else { "always" };
        plan_text.push_str(&format!(
            "[[keyholder]]\nname = \"{name}\"\ntoken = \"yubikey\"\nalgorithm = \"ecdsa-p256\"\nserial = \"{serial}\"\npin_policy = \"always\"\ntouch_policy = \"{touch}\"\n\n"
        ));
    }
    plan_text.push_str(
        "[roles.root]\nkeyholders = [\"alice\", \"bob\", \"carol\"]\nthreshold = 2\nexpires_days = 365\n\n\
         [roles.targets]\nkeyholders = [\"alice\", \"bob\", \"carol\"]\nthreshold = 2\nexpires_days = 365\n\n\
         [roles.snapshot]\nkey = \"online/snapshot.pub\"\n\n[roles.timestamp]\nkey = \"online/timestamp.pub\"\n",
    );
    std::fs::write(dir.join("plan.toml"), &plan_text).unwrap();
    let plan = Plan::load(&dir.join("plan.toml"), chrono::Utc::now()).unwrap_or_else(|e| panic!("{e}"));

    let mut tokens = Tokens::new(dir.join("tokens"));
    let (notice, touches) = collecting_notice();
    tokens.yubikey = Some(Box::new(YubiKeyTokens { notice }));
    std::fs::create_dir_all(dir.join("media")).unwrap();
    let opts = Options { media: dir.join("media"), rehearsal: true, ..Default::default() };

    let inserted: Arc<Mutex<Vec<u32>>> = Arc::new(Mutex::new(Vec::new()));
    let finished;
    {
        let log = inserted.clone();
        let lab_ref = &mut lab;
        let holders_ref = &holders;
        let mut ui = ScriptUi::new(right_secrets);
        // The engine asks for each keyholder's token in turn: swap the virtual card then
        // (inserting one takes the previous one out first, so only one is ever present).
        // "Remove your token" is not acted on at once: the signer may still hold its PC/SC
        // handle then, and vpcd's reader can get stuck when a card process vanishes under
        // an open handle (a real token pulled out does not have that problem).
        ui.on_wait = Box::new(move |instruction: &str| {
            if let Some(rest) = instruction.strip_prefix("Keyholder ") {
                let name = rest.split([':', ' ']).next().unwrap_or_default();
                let serial = holders_ref[name];
                lab_ref.insert(serial);
                log.lock().unwrap().push(serial);
            }
        });
        let mut engine = Engine::open(&plan, &dir.join("work"), &mut ui, &mut tokens, opts).unwrap();
        finished = engine.run().unwrap_or_else(|e| panic!("ceremony: {e}"));
        drop(engine);
        assert!(ui.saw("Serial 20000001: compare it with the serial on the bag"));
        assert!(ui.shown.iter().any(|s| s.contains("Read the serial aloud: does 20000002 match")));
        assert!(ui.saw("Each signature by YubiKey 20000001 needs a touch"));
        assert!(!ui.saw("Each signature by YubiKey 20000003 needs a touch"), "carol's touch policy is never");
    }
    // Provisioned one at a time, then each inserted again to sign.
    let order = inserted.lock().unwrap().clone();
    assert_eq!(&order[..3], &[20_000_001, 20_000_002, 20_000_003], "{order:?}");
    assert!(order.len() >= 6, "each token comes back to sign: {order:?}");
    // alice and bob (touch "always") signed root and targets: a notice before each signature.
    assert!(touches.lock().unwrap().len() >= 4, "{:?}", touches.lock().unwrap());

    let md_dir = finished.media_dir.join("metadata");
    let root_bytes = std::fs::read(md_dir.join("1.root.json")).unwrap();
    let root: serde_json::Value = serde_json::from_slice(&root_bytes).unwrap();
    let keys = root["signed"]["keys"].as_object().unwrap();
    let root_keyids: Vec<&str> = root["signed"]["roles"]["root"]["keyids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(root_keyids.len(), 3, "three distinct keys from three virtual YubiKeys");
    for id in &root_keyids {
        assert_eq!(keys[*id]["scheme"], "ecdsa-sha2-nistp256");
    }
    for name in holders.keys() {
        let kdir = finished.media_dir.join("keys").join(name);
        assert!(kdir.join(format!("{name}.pub.pem")).exists(), "{}", kdir.display());
        assert!(!kdir.join(format!("{name}.attestation.pem")).exists(), "the virtual card has no attestation");
    }

    let Some(py) = support::python() else { return };
    let script = r#"
import sys
from tuf.api.metadata import Metadata
from tuf.api.serialization.json import CanonicalJSONSerializer
d = sys.argv[1]
root = Metadata.from_file(f"{d}/1.root.json")
root.verify_delegate("root", root)
targets = Metadata.from_file(f"{d}/1.targets.json")
root.verify_delegate("targets", targets)
payload = CanonicalJSONSerializer().serialize(root.signed)
r = root.signed.get_verification_result("root", payload, root.signatures)
assert r.verified and len(r.signed) == 3, (r.verified, len(r.signed))
schemes = {root.signed.keys[k].scheme for k in root.signed.roles["root"].keyids}
assert schemes == {"ecdsa-sha2-nistp256"}, schemes
print("python-tuf ok: root signed by", len(r.signed), "of", len(root.signed.roles["root"].keyids), "YubiKey keys; targets verified")
"#;
    let out = Command::new(&py).args(["-c", script]).arg(&md_dir).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("python-tuf ok: root signed by 3 of 3"), "{text}");
}
