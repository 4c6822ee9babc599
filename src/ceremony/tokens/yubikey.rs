//! YubiKey keyholders: the operator dialogue around `signer::yubikey`.
//!
//! Provisioning makes sure the keyholder's YubiKey holds an ECDSA key in PIV slot 9c:
//!
//! * the token is chosen by serial (the plan's `serial`, or the operator's answer when
//!   more than one YubiKey is connected) and its serial is always shown, to be read aloud
//!   and compared with the tamper-evident bag;
//! * a key already in slot 9c is kept unless the operator answers "no" to keeping it *and*
//!   then types RESET; nothing is ever regenerated silently;
//! * otherwise the PIV application is reset (after typing RESET; PIN and PUK are blocked on
//!   purpose first, as the device requires), the management key is replaced by a random
//!   one that is never stored (AES-192 on firmware 5.7+, 3DES below), a new PIN and PUK are
//!   chosen (twice each, hidden), the key is generated on the device with the plan's PIN
//!   and touch policies, a self-signed certificate is written next to it, and the
//!   attestation certificates are read: `<keyholder>.attestation.pem` (slot 9c, signed by
//!   the device key) and `<keyholder>.device.pem` (slot f9, signed by Yubico).
//!
//! Because the management key is discarded, generating another key on this token later
//! means resetting it. Ceremony tokens are single-purpose, so that is the intended state:
//! nobody, including the keyholder, can replace the key without wiping the token.
//!
//! Signing asks for the PIN with the tries left shown; a wrong PIN asks again, and with one
//! try left the ceremony stops instead of risking a lockout.

use super::{Peek, TokenBackend, TokenError, TokenKey};
use crate::ceremony::plan::Keyholder;
use crate::ceremony::ui::{SecretKind, Ui};
use crate::signer::yubikey::{self as yk, Attestation, Device, Notice, SlotState, TokenInfo};
use crate::signer::{Signer, SignerError};
use crate::tuf::keys::{Algorithm, PublicKey, keyid};
use zeroize::Zeroizing;

/// The YubiKey back end.
pub struct YubiKeyTokens {
    /// Where "touch your YubiKey now" goes during signing (the `Ui` is not reachable from
    /// inside a `Signer`). Defaults to stderr.
    pub notice: Notice,
}

impl Default for YubiKeyTokens {
    fn default() -> Self {
        YubiKeyTokens { notice: yk::stderr_notice() }
    }
}

impl YubiKeyTokens {
    pub fn new() -> Self {
        Self::default()
    }
}

fn refused(s: impl Into<String>) -> TokenError {
    TokenError::Refused(s.into())
}

/// Lists the connected YubiKeys and opens the one for `holder`: the one named by `wanted`
/// (plan or recorded serial), the only one, or the one the operator names.
pub fn select(holder: &str, wanted: Option<&str>, ui: &mut dyn Ui) -> Result<Device, TokenError> {
    let tokens = yk::list()?;
    if tokens.is_empty() {
        return Err(SignerError::NotFound(format!("no YubiKey found for {holder}: insert it (and check that pcscd is running)")).into());
    }
    for t in &tokens {
        ui.show(&format!("Found {} on reader {:?}", t.describe(), t.reader));
    }
    let pick = |serial: &str| -> Option<TokenInfo> { tokens.iter().find(|t| t.serial.to_string() == serial.trim()).cloned() };
    let info = match wanted {
        Some(s) => pick(s).ok_or_else(|| {
            let seen: Vec<String> = tokens.iter().map(|t| t.serial.to_string()).collect();
            refused(format!("{holder}'s YubiKey (serial {s}) is not connected; connected: {}. Wrong token?", seen.join(", ")))
        })?,
        None if tokens.len() == 1 => tokens[0].clone(),
        None => {
            let answer = ui.ask(&format!(
                "{} YubiKeys are connected and the plan names no serial for {holder}. Type the serial written on {holder}'s bag:",
                tokens.len()
            ))?;
            pick(&answer).ok_or_else(|| refused(format!("no connected YubiKey has serial {answer:?}; disconnect the others and start again")))?
        }
    };
    ui.show(&format!("Using {} for {holder}. Serial {}: compare it with the serial on the bag.", info.describe(), info.serial));
    Ok(Device::open(&info)?)
}

/// Asks for a new PIN (6-8 digits) or PUK (8 digits), twice, hidden; refuses factory values.
fn new_secret(holder: &str, ui: &mut dyn Ui, what: &str, kind: SecretKind, min: usize, max: usize, factory: &[u8]) -> Result<Zeroizing<String>, TokenError> {
    let range = if min == max { format!("{min}") } else { format!("{min}-{max}") };
    for _ in 0..5 {
        let a = ui.secret(holder, kind.clone(), &format!("New YubiKey {what} for {holder} ({range} digits, rolled with dice):"))?;
        let n = a.len();
        // Digits only: what the PIV standard (SP 800-73-4) allows on any card, and what a
        // roll of dice produces.
        if !a.bytes().all(|b| b.is_ascii_digit()) {
            ui.show(&format!("The {what} must be digits only (0-9)."));
            continue;
        }
        if n < min || n > max {
            ui.show(&format!("The {what} must be {range} digits long; this one has {n}."));
            continue;
        }
        if a.as_bytes() == factory {
            ui.show(&format!("That is the factory {what}; choose another."));
            continue;
        }
        let b = ui.secret(holder, kind.clone(), &format!("Repeat the new {what}:"))?;
        if *a == *b {
            return Ok(a);
        }
        ui.show(&format!("The two {what} entries differ; try again."));
    }
    Err(refused(format!("no valid new {what} for {holder} after 5 attempts")))
}

/// Verifies the PIN, showing the tries left; a wrong PIN asks again. With one try left it
/// stops (a wrong guess then would block the PIN) and explains what to do.
pub fn unlock(dev: &mut Device, holder: &str, ui: &mut dyn Ui) -> Result<Zeroizing<String>, TokenError> {
    let serial = dev.serial();
    let mut left = dev.pin_retries().ok().map(u32::from);
    loop {
        match left {
            Some(0) => {
                return Err(refused(format!(
                    "the PIN of YubiKey {serial} ({holder}) is blocked. Unblock it with the PUK (`ykman piv access unblock-pin`), then resume the ceremony."
                )));
            }
            Some(1) => {
                return Err(refused(format!(
                    "only 1 PIN try is left on YubiKey {serial} ({holder}): a wrong PIN now would block it. Stopping here. \
                     Find the right PIN (the keyholder's sealed envelope), or reset the tries with the PUK \
                     (`ykman piv access unblock-pin` sets a new PIN and restores the tries), then resume the ceremony."
                )));
            }
            Some(n) => ui.show(&format!("YubiKey {serial}: {n} PIN tries left.")),
            None => ui.show(&format!("YubiKey {serial}: the number of PIN tries left is unknown.")),
        }
        let tries = left.map(|n| format!(" ({n} tries left)")).unwrap_or_default();
        let pin = ui.secret(holder, SecretKind::Unlock, &format!("PIN for {holder}'s YubiKey {serial}{tries}:"))?;
        match dev.verify_pin(pin.as_bytes()) {
            Ok(()) => return Ok(pin),
            Err(SignerError::WrongPin { retries_left }) => {
                left = retries_left;
                ui.show(&format!("Wrong PIN for YubiKey {serial}."));
            }
            Err(SignerError::PinBlocked) => left = Some(0),
            Err(e) => return Err(e.into()),
        }
    }
}

/// The attestation files for a key, or none with a note to the operator.
fn attestation_files(dev: &mut Device, holder: &str, public: &PublicKey, ui: &mut dyn Ui) -> Result<Vec<(String, Vec<u8>)>, TokenError> {
    use x509_cert::der::{Decode, Encode};
    match dev.attestation() {
        Attestation::Certs { key, device } => {
            // The attestation must be about this key.
            let cert =
                x509_cert::Certificate::from_der(&key).map_err(|e| refused(format!("YubiKey {}: unreadable attestation certificate ({e})", dev.serial())))?;
            let spki = cert.tbs_certificate().subject_public_key_info().clone();
            let attested = yk::spki_to_public(&spki)?;
            if attested.to_key() != public.to_key() {
                return Err(refused(format!("YubiKey {}: the attestation certificate is for another key than slot 9c's: do not use this token", dev.serial())));
            }
            let _ = cert.to_der();
            ui.show(&format!(
                "Read the attestation for {holder}'s key (slot 9c) and the device certificate (slot f9); they go to keys/{holder}/ on the media."
            ));
            Ok(vec![
                (format!("{holder}.attestation.pem"), crate::attest::pem("CERTIFICATE", &key)),
                (format!("{holder}.device.pem"), crate::attest::pem("CERTIFICATE", &device)),
            ])
        }
        Attestation::Unavailable(why) => {
            ui.show(&format!(
                "NOTE: no attestation for {holder}'s key: {why}. Nothing proves by certificate that this key was generated on a YubiKey; \
                 write this in the ceremony notes."
            ));
            Ok(Vec::new())
        }
    }
}

fn check_algorithm(holder: &Keyholder) -> Result<(), TokenError> {
    match holder.algorithm {
        Algorithm::EcdsaP256 | Algorithm::EcdsaP384 => Ok(()),
        other => Err(refused(format!(
            "{}: {} is not offered on YubiKeys (Ed25519 needs firmware 5.7+ and the yubikey crate cannot sign a root-sized message with it); use ecdsa-p256",
            holder.name,
            other.name()
        ))),
    }
}

fn token_key(dev: &Device, public: PublicKey, attestation: Vec<(String, Vec<u8>)>, generated: bool) -> TokenKey {
    TokenKey { public, serial: Some(dev.serial().to_string()), description: format!("{} slot 9c", dev.info.describe()), attestation, generated }
}

impl TokenBackend for YubiKeyTokens {
    fn peek(&mut self, holder: &Keyholder, ui: &mut dyn Ui) -> Result<Peek, TokenError> {
        let mut dev = select(&holder.name, holder.serial.as_deref(), ui)?;
        Ok(match dev.slot_state()? {
            SlotState::Key(public, _) => Peek::Key(token_key(&dev, *public, Vec::new(), false)),
            SlotState::Empty => Peek::Empty(format!("slot 9c of YubiKey {} is empty", dev.serial())),
            SlotState::Unknown => Peek::Unknown(format!("YubiKey {} shows no key metadata and no certificate in slot 9c", dev.serial())),
        })
    }

    fn provision(&mut self, holder: &Keyholder, ui: &mut dyn Ui) -> Result<TokenKey, TokenError> {
        check_algorithm(holder)?;
        let name = holder.name.as_str();
        let mut dev = select(name, holder.serial.as_deref(), ui)?;
        let serial = dev.serial();

        // 1. A key already there is kept unless the operator deliberately resets.
        let reset_question = match dev.slot_state()? {
            SlotState::Key(public, source) => {
                ui.show(&format!(
                    "YubiKey {serial} already holds a {} key in slot 9c (read from {source}); keyid {}.",
                    public.algorithm().name(),
                    keyid(&public.to_key())
                ));
                if ui.confirm(&format!("Keep the existing key on YubiKey {serial}? (no = erase this token and generate a new key)"))? {
                    if public.algorithm() != holder.algorithm {
                        return Err(refused(format!(
                            "YubiKey {serial} holds a {} key but the plan asks {} for {name}: reset the token (answer no to keeping it) or fix the plan",
                            public.algorithm().name(),
                            holder.algorithm.name()
                        )));
                    }
                    ui.show(&format!("Keeping the existing key on YubiKey {serial} (keys are never regenerated without a reset)."));
                    let att = attestation_files(&mut dev, name, &public, ui)?;
                    return Ok(token_key(&dev, *public, att, false));
                }
                format!(
                    "ERASE the key in slot 9c of YubiKey {serial} and reset its PIV application (all PIV keys, certificates, PIN, PUK and management key). FIDO, OTP and OpenPGP are not touched. This cannot be undone."
                )
            }
            SlotState::Empty => format!(
                "Slot 9c of YubiKey {serial} is empty. Provisioning resets its PIV application (PIV keys, certificates, PIN, PUK, management key) to a known state; FIDO, OTP and OpenPGP are not touched."
            ),
            SlotState::Unknown => format!(
                "YubiKey {serial} cannot say whether slot 9c holds a key (no GET METADATA and no certificate there). Provisioning RESETS its PIV application: any PIV key on it is destroyed; FIDO, OTP and OpenPGP are not touched."
            ),
        };
        if !ui.confirm_word(&reset_question, "RESET")? {
            return Err(refused(format!("reset of YubiKey {serial} not confirmed: the token was left unchanged and {name} has no key yet")));
        }

        // 2. Reset: PIN and PUK must be blocked first.
        ui.show(&format!("Blocking the PIN and PUK of YubiKey {serial} on purpose (the reset requires it), then resetting PIV…"));
        dev.block_pin_and_puk()?;
        let mut dev = dev.reset()?;

        // 3. A random management key that nobody keeps.
        dev.authenticate_default()?;
        let mgm = dev.set_random_management_key()?;
        ui.show(&format!(
            "Management key replaced by a random {} key held only in memory and discarded: this token cannot get another key without a reset.",
            match mgm {
                yubikey::MgmAlgorithmId::ThreeDes => "3DES",
                yubikey::MgmAlgorithmId::Aes128 => "AES-128",
                yubikey::MgmAlgorithmId::Aes192 => "AES-192",
                yubikey::MgmAlgorithmId::Aes256 => "AES-256",
            }
        ));

        // 4. New PIN and PUK.
        let pin = new_secret(name, ui, "PIN", SecretKind::New, 6, 8, yk::DEFAULT_PIN)?;
        dev.change_pin(yk::DEFAULT_PIN, pin.as_bytes())?;
        {
            let puk = new_secret(name, ui, "PUK", SecretKind::Admin, 8, 8, yk::DEFAULT_PUK)?;
            dev.change_puk(yk::DEFAULT_PUK, puk.as_bytes())?;
        }
        ui.show(&format!("PIN and PUK of YubiKey {serial} set ({name} keeps them sealed; 3 tries each)."));

        // 5. The key, on the device.
        ui.show(&format!(
            "Generating a {} key in slot 9c on YubiKey {serial} (PIN policy {}, touch policy {})…",
            holder.algorithm.name(),
            holder.pin_policy,
            holder.touch_policy
        ));
        let public = dev.generate(holder.algorithm, &holder.pin_policy, &holder.touch_policy)?;
        if holder.touch_policy != "never" {
            ui.show(&format!("Touch your YubiKey now (serial {serial}): it signs its slot 9c certificate and waits about 15 seconds."));
        }
        dev.write_self_signed_certificate(&public, name, pin.as_bytes())?;
        drop(pin);

        // 6. Attestation.
        let att = attestation_files(&mut dev, name, &public, ui)?;
        Ok(token_key(&dev, public, att, true))
    }

    fn open(&mut self, holder: &Keyholder, expected: &TokenKey, ui: &mut dyn Ui) -> Result<Box<dyn Signer>, TokenError> {
        let name = holder.name.as_str();
        let wanted = expected.serial.as_deref().or(holder.serial.as_deref());
        let mut dev = select(name, wanted, ui)?;
        let serial = dev.serial();
        if let SlotState::Key(public, source) = dev.slot_state()?
            && public.to_key() != expected.public.to_key()
        {
            return Err(refused(format!("YubiKey {serial} holds a different key in slot 9c ({source}) than the one recorded for {name}: wrong token?")));
        }
        let pin = unlock(&mut dev, name, ui)?;
        let touch = holder.touch_policy != "never";
        if touch {
            ui.show(&format!("Each signature by YubiKey {serial} needs a touch: when told, touch its contact while it blinks."));
        }
        Ok(Box::new(dev.into_signer(expected.public.clone(), pin, touch, self.notice.clone())?))
    }
}
