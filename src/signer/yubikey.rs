//! YubiKey PIV, natively over PC/SC with the `yubikey` crate (0.9.0-rc.0: AES management
//! keys, which firmware 5.7+ uses by default).
//!
//! This module only talks to the device: list tokens, reset the PIV application, set PIN,
//! PUK and management key, generate a key in slot 9c, read attestation certificates and
//! sign. The operator dialogue (which token, confirmations, PIN prompts and retry counts)
//! lives in `ceremony::tokens::yubikey`.
//!
//! Keys are ECDSA P-256 (TUF `ecdsa-sha2-nistp256`) or P-384, never Ed25519: the device
//! supports Ed25519 only from firmware 5.7, and the crate cannot send an Ed25519 message
//! longer than 1014 bytes, which is less than a root's canonical bytes. ECDSA is signed
//! over a prehash computed here (SHA-256 / SHA-384), so payload size does not matter.
//!
//! Secrets: PINs, PUKs and management keys are passed in as byte slices from zeroizing
//! buffers and never logged. Two copies escape our control, both inside the `yubikey`
//! crate: it caches the last verified PIN in its `YubiKey` handle (a plain `Vec<u8>`, used
//! to re-verify after a reconnect) and `MgmKey` has no zeroizing `Drop`. Both are freed
//! when the handle or key is dropped, which this module does as soon as it is done.

use super::{Signer, SignerError};
use crate::tuf::keys::{Algorithm, PublicKey, SigCheck};
use std::sync::Arc;
use yubikey::piv::{self, AlgorithmId, SlotId};
use yubikey::{Certificate, MgmAlgorithmId, MgmKey, PinPolicy, Serial, TouchPolicy, YubiKey};
use zeroize::Zeroizing;

/// The slot ceremony keys live in: 9c "Digital Signature" (PIN before every signature by
/// default, meant for document signing).
pub const SLOT: SlotId = SlotId::Signature;
/// Factory PIN and PUK, which a reset restores.
pub const DEFAULT_PIN: &[u8] = b"123456";
pub const DEFAULT_PUK: &[u8] = b"12345678";

/// Something shown to the operator from inside a signing operation ("touch now"), where the
/// ceremony `Ui` is not reachable. The terminal default writes to stderr.
pub type Notice = Arc<dyn Fn(&str) + Send + Sync>;

/// The default notice: a line on stderr.
pub fn stderr_notice() -> Notice {
    Arc::new(|s: &str| eprintln!("{s}"))
}

/// A YubiKey seen on a PC/SC reader.
#[derive(Clone, Debug)]
pub struct TokenInfo {
    pub serial: u32,
    /// Firmware (PIV application) version, e.g. "5.7.1".
    pub version: String,
    pub version_tuple: (u8, u8, u8),
    /// e.g. "USB-C keychain"; "unknown" when the management application does not say.
    pub form_factor: String,
    pub reader: String,
}

impl TokenInfo {
    pub fn describe(&self) -> String {
        format!("YubiKey serial {} (firmware {}, {})", self.serial, self.version, self.form_factor)
    }
}

/// Maps the crate's errors to the signer's typed ones.
pub fn map_err(e: yubikey::Error) -> SignerError {
    match e {
        yubikey::Error::WrongPin { tries: 0 } | yubikey::Error::PinLocked => SignerError::PinBlocked,
        yubikey::Error::WrongPin { tries } => SignerError::WrongPin { retries_left: Some(u32::from(tries)) },
        yubikey::Error::NotFound => SignerError::NotFound("no YubiKey found on any PC/SC reader".into()),
        yubikey::Error::PcscError { inner: Some(pcsc::Error::NoService) } | yubikey::Error::PcscError { inner: Some(pcsc::Error::NoReadersAvailable) } => {
            SignerError::NotFound("no smart-card reader: is pcscd running and the YubiKey inserted?".into())
        }
        other => SignerError::Device(format!("YubiKey: {other}")),
    }
}

/// Every YubiKey on every PC/SC reader, with serial, firmware and form factor.
pub fn list() -> Result<Vec<TokenInfo>, SignerError> {
    let mut ctx = match yubikey::reader::Context::open() {
        Ok(c) => c,
        Err(e) => return Err(map_err(e)),
    };
    let readers = match ctx.iter() {
        Ok(r) => r,
        // No reader at all is "no token", not a failure.
        Err(yubikey::Error::PcscError { inner: Some(pcsc::Error::NoReadersAvailable) }) => return Ok(Vec::new()),
        Err(e) => return Err(map_err(e)),
    };
    let mut found = Vec::new();
    for reader in readers {
        let name = reader.name().into_owned();
        let Ok(yk) = reader.open() else { continue };
        let v = yk.version();
        let serial = yk.serial().0;
        // Leave the card as it is (no reset) for whoever opens it next.
        let _ = yk.disconnect(pcsc::Disposition::LeaveCard);
        found.push(TokenInfo {
            serial,
            version: format!("{}.{}.{}", v.major, v.minor, v.patch),
            version_tuple: (v.major, v.minor, v.patch),
            form_factor: form_factor(&name).unwrap_or_else(|| "form factor unknown".into()),
            reader: name,
        });
    }
    found.sort_by_key(|t| t.serial);
    Ok(found)
}

/// The form factor from the YubiKey management application (SELECT a000000527471117, then
/// READ CONFIG, tag 0x04). `None` when the card has no such application (YubiKey 4, the
/// virtual test card).
fn form_factor(reader: &str) -> Option<String> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User).ok()?;
    let name = std::ffi::CString::new(reader).ok()?;
    let card = ctx.connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY).ok()?;
    let mut buf = [0u8; 258];
    let select = [0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00, 0x00, 0x05, 0x27, 0x47, 0x11, 0x17];
    let r = card.transmit(&select, &mut buf).ok()?;
    if r.len() < 2 || r[r.len() - 2..] != [0x90, 0x00] {
        let _ = card.disconnect(pcsc::Disposition::LeaveCard);
        return None;
    }
    let mut buf = [0u8; 258];
    let r = card.transmit(&[0x00, 0x1D, 0x00, 0x00, 0x00], &mut buf).ok()?.to_vec();
    let _ = card.disconnect(pcsc::Disposition::LeaveCard);
    if r.len() < 3 || r[r.len() - 2..] != [0x90, 0x00] {
        return None;
    }
    let body = &r[1..r.len() - 2];
    let mut i = 0;
    while i + 2 <= body.len() {
        let (tag, len) = (body[i], usize::from(body[i + 1]));
        let value = body.get(i + 2..i + 2 + len)?;
        if tag == 0x04 && len == 1 {
            let v = value[0];
            let base = match v & 0x0F {
                1 => "USB-A keychain",
                2 => "USB-A nano",
                3 => "USB-C keychain",
                4 => "USB-C nano",
                5 => "USB-C/Lightning",
                6 => "USB-A Bio",
                7 => "USB-C Bio",
                _ => "form factor unknown",
            };
            let fips = if v & 0x80 != 0 { " FIPS" } else { "" };
            return Some(format!("{base}{fips}"));
        }
        i += 2 + len;
    }
    None
}

/// What slot 9c holds, as far as the token can tell.
pub enum SlotState {
    /// A key, with where its public half was read from.
    Key(Box<PublicKey>, &'static str),
    /// The token says the slot is empty (GET METADATA, firmware 5.3+).
    Empty,
    /// The token cannot say (no GET METADATA and no certificate in the slot).
    Unknown,
}

/// Attestation certificates (DER) for slot 9c, or why there are none.
pub enum Attestation {
    Certs { key: Vec<u8>, device: Vec<u8> },
    Unavailable(String),
}

/// An open YubiKey (PIV application selected).
pub struct Device {
    yk: YubiKey,
    pub info: TokenInfo,
}

impl Device {
    /// Opens the YubiKey with `serial`.
    pub fn open(info: &TokenInfo) -> Result<Device, SignerError> {
        let yk = YubiKey::open_by_serial(Serial(info.serial)).map_err(|e| match e {
            yubikey::Error::NotFound => SignerError::NotFound(format!("YubiKey serial {} is not connected", info.serial)),
            other => map_err(other),
        })?;
        Ok(Device { yk, info: info.clone() })
    }

    pub fn serial(&self) -> u32 {
        self.info.serial
    }

    /// PIN tries left (does not use one up).
    pub fn pin_retries(&mut self) -> Result<u8, SignerError> {
        self.yk.get_pin_retries().map_err(map_err)
    }

    pub fn verify_pin(&mut self, pin: &[u8]) -> Result<(), SignerError> {
        self.yk.verify_pin(pin).map_err(map_err)
    }

    /// Blocks PIN and PUK on purpose with random wrong values (a reset is refused while
    /// either still has tries left).
    pub fn block_pin_and_puk(&mut self) -> Result<(), SignerError> {
        let mut pin_blocked = false;
        let mut puk_blocked = false;
        for _ in 0..64 {
            if pin_blocked && puk_blocked {
                return Ok(());
            }
            let wrong = random_digits()?;
            if !pin_blocked {
                match self.yk.verify_pin(&wrong[..8]) {
                    Err(yubikey::Error::WrongPin { tries: 0 } | yubikey::Error::PinLocked) => pin_blocked = true,
                    Err(yubikey::Error::WrongPin { .. }) | Ok(()) => {}
                    Err(e) => return Err(map_err(e)),
                }
                continue;
            }
            match self.yk.unblock_pin(&wrong[..8], &wrong[8..16]) {
                Err(yubikey::Error::WrongPin { tries: 0 } | yubikey::Error::PinLocked) => puk_blocked = true,
                Err(yubikey::Error::WrongPin { .. }) => {}
                // A random guess was the PUK (and unblocked the PIN): block both again.
                Ok(()) => pin_blocked = false,
                Err(e) => return Err(map_err(e)),
            }
        }
        Err(SignerError::Device(format!("YubiKey {}: could not block PIN and PUK for the reset", self.serial())))
    }

    /// Resets the PIV application (PIN and PUK must be blocked): keys, certificates, PIN,
    /// PUK and management key return to factory state. Other applications are untouched.
    pub fn reset(mut self) -> Result<Device, SignerError> {
        self.yk.reset_device().map_err(|e| SignerError::Device(format!("YubiKey {}: reset refused ({e}); are PIN and PUK blocked?", self.info.serial)))?;
        // A fresh session on the reset application (closing this one resets the card, so
        // it must be gone before the new one opens).
        let info = self.info.clone();
        drop(self);
        Device::open(&info)
    }

    /// Authenticates with the factory management key for this firmware (3DES below 5.7,
    /// AES-192 from 5.7).
    pub fn authenticate_default(&mut self) -> Result<(), SignerError> {
        let key = MgmKey::get_default(&self.yk).map_err(map_err)?;
        self.yk.authenticate(&key).map_err(|e| SignerError::Device(format!("YubiKey {}: the factory management key is not accepted ({e})", self.info.serial)))
    }

    /// The management-key algorithm for this firmware: AES-192 on 5.7+, 3DES below.
    pub fn management_algorithm(&self) -> MgmAlgorithmId {
        let v = self.yk.version();
        if (v.major, v.minor) >= (5, 7) { MgmAlgorithmId::Aes192 } else { MgmAlgorithmId::ThreeDes }
    }

    /// Replaces the management key (after authenticating with the current one) by a random
    /// key that is not kept anywhere, then proves the change by authenticating with it.
    pub fn set_random_management_key(&mut self) -> Result<MgmAlgorithmId, SignerError> {
        let alg = self.management_algorithm();
        let len = match alg {
            MgmAlgorithmId::ThreeDes | MgmAlgorithmId::Aes192 => 24,
            MgmAlgorithmId::Aes128 => 16,
            MgmAlgorithmId::Aes256 => 32,
        };
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut bytes[..len]).map_err(|e| SignerError::Device(format!("system random generator: {e}")))?;
        let key = MgmKey::from_bytes(&bytes[..len], Some(alg)).map_err(map_err)?;
        key.set_manual(&mut self.yk, false).map_err(|e| SignerError::Device(format!("YubiKey {}: cannot set the management key ({e})", self.info.serial)))?;
        self.yk.authenticate(&key).map_err(|e| SignerError::Device(format!("YubiKey {}: the new management key is not accepted ({e})", self.info.serial)))?;
        Ok(alg)
    }

    pub fn change_pin(&mut self, old: &[u8], new: &[u8]) -> Result<(), SignerError> {
        self.yk.change_pin(old, new).map_err(map_err)
    }

    pub fn change_puk(&mut self, old: &[u8], new: &[u8]) -> Result<(), SignerError> {
        self.yk.change_puk(old, new).map_err(map_err)
    }

    /// Reads what slot 9c holds: GET METADATA (firmware 5.3+), else the certificate this
    /// tool writes next to each key it generates.
    pub fn slot_state(&mut self) -> Result<SlotState, SignerError> {
        match piv::metadata(&mut self.yk, SLOT) {
            Ok(m) => {
                if let Some(spki) = m.public {
                    return Ok(SlotState::Key(Box::new(spki_to_public(&spki)?), "GET METADATA"));
                }
            }
            Err(yubikey::Error::NotFound) => return Ok(SlotState::Empty),
            Err(_) => {}
        }
        match Certificate::read(&mut self.yk, SLOT) {
            Ok(cert) => {
                let spki: x509_cert::spki::SubjectPublicKeyInfoOwned = cert.cert.tbs_certificate().subject_public_key_info().clone();
                Ok(SlotState::Key(Box::new(spki_to_public(&spki)?), "the certificate in slot 9c"))
            }
            Err(_) => Ok(SlotState::Unknown),
        }
    }

    /// Generates a key in slot 9c on the device (management key authenticated).
    pub fn generate(&mut self, alg: Algorithm, pin_policy: &str, touch_policy: &str) -> Result<PublicKey, SignerError> {
        let id = algorithm_id(alg)?;
        let pin = match pin_policy {
            "never" => PinPolicy::Never,
            "once" => PinPolicy::Once,
            _ => PinPolicy::Always,
        };
        let touch = match touch_policy {
            "never" => TouchPolicy::Never,
            "cached" => TouchPolicy::Cached,
            _ => TouchPolicy::Always,
        };
        let spki = piv::generate(&mut self.yk, SLOT, id, pin, touch)
            .map_err(|e| SignerError::Device(format!("YubiKey {}: key generation failed ({e})", self.info.serial)))?;
        spki_to_public(&spki)
    }

    /// Writes a self-signed certificate for the key in slot 9c (signed by the device: PIN
    /// verified just before, and a touch if the policy asks). It makes the key visible to
    /// other PIV tools and lets this tool find it again on tokens without GET METADATA.
    pub fn write_self_signed_certificate(&mut self, public: &PublicKey, label: &str, pin: &[u8]) -> Result<(), SignerError> {
        use std::str::FromStr;
        use x509_cert::der::{Decode, Encode};
        let spki_der = match public {
            PublicKey::P256(k) => p256::pkcs8::EncodePublicKey::to_public_key_der(k),
            PublicKey::P384(k) => p384::pkcs8::EncodePublicKey::to_public_key_der(k),
            _ => return Err(SignerError::Device("only ECDSA keys live on YubiKeys here".into())),
        }
        .map_err(|e| SignerError::Device(format!("encode public key: {e}")))?;
        let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes()).map_err(|e| SignerError::Device(format!("public key: {e}")))?;
        let cn: String = label.chars().filter(|c| c.is_ascii_alphanumeric() || "-_. ".contains(*c)).collect();
        let subject = x509_cert::name::Name::from_str(&format!("CN=tuf-ceremony {cn}")).map_err(|e| SignerError::Device(format!("certificate name: {e}")))?;
        let mut serial = [0u8; 16];
        getrandom::fill(&mut serial).map_err(|e| SignerError::Device(format!("system random generator: {e}")))?;
        serial[0] &= 0x7F;
        serial[0] |= 0x01;
        let serial = x509_cert::serial_number::SerialNumber::new(&serial).map_err(|e| SignerError::Device(format!("certificate serial: {e}")))?;
        let validity = x509_cert::time::Validity::infinity().map_err(|e| SignerError::Device(format!("certificate validity: {e}")))?;
        self.verify_pin(pin)?;
        let result = match public {
            PublicKey::P256(_) => Certificate::generate_self_signed::<_, p256::NistP256>(&mut self.yk, SLOT, serial, validity, subject, spki, |_| Ok(())),
            _ => Certificate::generate_self_signed::<_, p384::NistP384>(&mut self.yk, SLOT, serial, validity, subject, spki, |_| Ok(())),
        };
        let cert = result.map_err(|e| SignerError::Device(format!("YubiKey {}: cannot write the slot 9c certificate ({e}; no touch?)", self.info.serial)))?;
        let _ = cert.cert.to_der();
        Ok(())
    }

    /// The attestation certificate for slot 9c (INS F9) and the device certificate in slot
    /// F9 that signs it. Firmware 4.3+ has both; the virtual test card has neither.
    pub fn attestation(&mut self) -> Attestation {
        use x509_cert::der::Encode;
        let key = match piv::attest(&mut self.yk, SLOT) {
            Ok(der) => der.to_vec(),
            Err(e) => return Attestation::Unavailable(format!("the token does not attest slot 9c ({e})")),
        };
        let device = match Certificate::read(&mut self.yk, SlotId::Attestation) {
            Ok(c) => match c.cert.to_der() {
                Ok(d) => d,
                Err(e) => return Attestation::Unavailable(format!("the device certificate does not encode ({e})")),
            },
            Err(e) => return Attestation::Unavailable(format!("the token has no device attestation certificate in slot f9 ({e})")),
        };
        Attestation::Certs { key, device }
    }

    /// Into a signer for `expected` (the PIN is re-verified before every signature, as PIN
    /// policy "always" requires).
    pub fn into_signer(self, expected: PublicKey, pin: Zeroizing<String>, touch: bool, notice: Notice) -> Result<YubiKeySigner, SignerError> {
        let alg = algorithm_id(expected.algorithm())?;
        Ok(YubiKeySigner { dev: self, public: expected, alg, pin, touch, notice })
    }
}

fn random_digits() -> Result<Zeroizing<[u8; 16]>, SignerError> {
    let mut b = Zeroizing::new([0u8; 16]);
    getrandom::fill(b.as_mut()).map_err(|e| SignerError::Device(format!("system random generator: {e}")))?;
    for x in b.iter_mut() {
        *x = b'0' + (*x % 10);
    }
    Ok(b)
}

/// The PIV algorithm for a TUF key algorithm; only ECDSA is offered on YubiKeys.
pub fn algorithm_id(alg: Algorithm) -> Result<AlgorithmId, SignerError> {
    match alg {
        Algorithm::EcdsaP256 => Ok(AlgorithmId::EccP256),
        Algorithm::EcdsaP384 => Ok(AlgorithmId::EccP384),
        Algorithm::Ed25519 => Err(SignerError::Device(
            "Ed25519 is not offered on YubiKeys: firmware 5.7+ only, and the yubikey crate cannot sign messages over 1014 bytes (less than a root)".into(),
        )),
        verify_only => Err(SignerError::Device(format!("{} keys are verify-only in this tool", verify_only.name()))),
    }
}

/// The TUF public key for a SubjectPublicKeyInfo the device returned.
pub fn spki_to_public(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> Result<PublicKey, SignerError> {
    use p256::pkcs8::DecodePublicKey;
    use x509_cert::der::Encode;
    let der = spki.to_der().map_err(|e| SignerError::Device(format!("public key from the YubiKey: {e}")))?;
    if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(&der) {
        return Ok(PublicKey::P256(k));
    }
    if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(&der) {
        return Ok(PublicKey::P384(k));
    }
    Err(SignerError::Device("the YubiKey returned a public key that is neither P-256 nor P-384".into()))
}

/// Signs with the key in slot 9c of one YubiKey.
pub struct YubiKeySigner {
    dev: Device,
    public: PublicKey,
    alg: AlgorithmId,
    pin: Zeroizing<String>,
    touch: bool,
    notice: Notice,
}

impl Signer for YubiKeySigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn describe(&self) -> String {
        format!("YubiKey {} slot 9c", self.dev.serial())
    }

    fn sign(&mut self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        use sha2::Digest;
        let digest: Zeroizing<Vec<u8>> = Zeroizing::new(match self.alg {
            AlgorithmId::EccP384 => sha2::Sha384::digest(payload).to_vec(),
            _ => sha2::Sha256::digest(payload).to_vec(),
        });
        // PIN policy "always" (the default) needs VERIFY right before each signature.
        self.dev.verify_pin(self.pin.as_bytes())?;
        if self.touch {
            (self.notice)(&format!("Touch your YubiKey now (serial {}): it is blinking and waits about 15 seconds.", self.dev.serial()));
        }
        let sig = piv::sign_data(&mut self.dev.yk, &digest, self.alg, SLOT).map_err(|e| match e {
            yubikey::Error::AuthenticationError => {
                SignerError::Device(format!("YubiKey {} refused to sign: PIN not verified or no touch within 15 seconds", self.dev.serial()))
            }
            other => map_err(other),
        })?;
        let sig = sig.to_vec();
        if self.public.verify(payload, &sig) != SigCheck::Valid {
            return Err(SignerError::WrongKey { signer: self.describe(), keyid: crate::tuf::keys::keyid(&self.public.to_key()) });
        }
        Ok(sig)
    }
}
