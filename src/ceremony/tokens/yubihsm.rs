//! YubiHSM 2 keyholders: the operator dialogue around `signer::yubihsm`, following the PSF's
//! 2020 provisioning runbook.
//!
//! Provisioning a device:
//!
//! * the conductor says whether the device is new or factory-reset (its factory
//!   authentication key 1, password "password", is there). A device this tool provisioned
//!   has no key 1: its key is found with the keyholder's password and kept, never replaced;
//! * a factory-fresh device is opened with key 1 and its serial and firmware are shown;
//!   it is **factory-reset only after the conductor types RESET** at a prompt naming the
//!   serial and what the device holds; otherwise nothing is changed;
//! * the key is generated on the device (Ed25519, P-256 or P-384) at object 0x0100 with the
//!   one capability to sign with its algorithm: never `exportable-under-wrap`; the device's
//!   own report of the key (origin generated, those capabilities) is checked;
//! * the keyholder's password (from dice, typed twice, hidden) becomes a new authentication
//!   key (the plan's `auth_key_id`, default 2) that can sign and read but not generate,
//!   import, export or reset; a session is opened with it, and from that session the
//!   factory key 1 is deleted and checked gone;
//! * the device certificate (opaque object 0) is checked against Yubico's pinned YubiHSM
//!   chain; only then is a key attestation asked for and verified (`attest::verify_yubihsm`:
//!   the attested key must be this key, origin generated, capabilities as set). A verified
//!   attestation is exported as `<serial>_<keyholder>_attestation.pem` and
//!   `<serial>_cert.pem` (the PSF's layout, which `verify` reads). Anything else is said
//!   plainly ("NOT ATTESTED: …"), nothing is exported as an attestation, and the conductor
//!   decides whether to go on with an unattested key.
//!
//! The serial is always shown; the engine asks for it to be read aloud and compared with
//! the bag. Signing opens a session with the keyholder's password (the device has no retry
//! counter: this tool stops after three wrong passwords) and checks that the device holds
//! the recorded key before anything is signed.

use super::{Peek, TokenBackend, TokenError, TokenKey};
use crate::attest::{self, Roots};
use crate::ceremony::plan::{Keyholder, YubiHsmSpec};
use crate::ceremony::ui::{SecretKind, Ui};
use crate::signer::yubihsm::{self as hsm, Hsm};
use crate::signer::{Signer, SignerError};
use crate::tuf::keys::{Algorithm, PublicKey, keyid};
use zeroize::Zeroizing;

/// Wrong passwords in a row before this tool stops (the device itself never locks).
pub const MAX_WRONG_PASSWORDS: usize = 3;
/// The shortest password accepted for a new authentication key: the session protocol lets
/// whoever records the USB or connector traffic try passwords offline, so it must be long.
pub const MIN_PASSWORD: usize = 16;

/// Where each keyholder's YubiHSM 2 is reached.
pub trait HsmPorts {
    /// A connector for `holder`'s device.
    fn connector(&mut self, holder: &Keyholder, spec: &YubiHsmSpec) -> Result<yubihsm::Connector, SignerError>;
    /// The serial recorded for a device that reports `reported`: the device's own, except in
    /// tests of several MockHsm instances, which all report the one serial 123456789.
    fn serial(&self, _holder: &Keyholder, reported: u32) -> u32 {
        reported
    }
}

/// The plan's way: USB (the plan's serial picks the device, when given) or yubihsm-connector.
pub struct PlanPorts;

impl HsmPorts for PlanPorts {
    fn connector(&mut self, holder: &Keyholder, spec: &YubiHsmSpec) -> Result<yubihsm::Connector, SignerError> {
        hsm::connector(&spec.connector, holder.serial.as_deref().and_then(|s| s.parse().ok()))
    }
}

/// The YubiHSM 2 back end.
pub struct YubiHsmTokens {
    pub ports: Box<dyn HsmPorts>,
    /// Yubico's YubiHSM attestation store (pinned root and intermediates).
    pub roots: Roots,
}

impl YubiHsmTokens {
    /// Devices as the plan says, attestations checked against the bundled Yubico store.
    pub fn new() -> Result<Self, TokenError> {
        Self::with_ports(Box::new(PlanPorts))
    }

    pub fn with_ports(ports: Box<dyn HsmPorts>) -> Result<Self, TokenError> {
        let roots = Roots::yubihsm().map_err(|e| refused(format!("the bundled YubiHSM attestation store: {e}")))?;
        Ok(YubiHsmTokens { ports, roots })
    }
}

fn refused(s: impl Into<String>) -> TokenError {
    TokenError::Refused(s.into())
}

fn spec(holder: &Keyholder) -> Result<&YubiHsmSpec, TokenError> {
    holder.yubihsm.as_ref().ok_or_else(|| refused(format!("{}: not a yubihsm2 keyholder", holder.name)))
}

fn check_algorithm(holder: &Keyholder) -> Result<(), TokenError> {
    match holder.algorithm {
        Algorithm::Ed25519 | Algorithm::EcdsaP256 | Algorithm::EcdsaP384 => Ok(()),
        other => Err(refused(format!("{}: {} keys are not made on a YubiHSM 2 here", holder.name, other.name()))),
    }
}

/// A new password for the keyholder's authentication key: asked twice, hidden.
fn new_password(holder: &str, ui: &mut dyn Ui) -> Result<Zeroizing<String>, TokenError> {
    for _ in 0..5 {
        let a =
            ui.secret(holder, SecretKind::New, &format!("New YubiHSM 2 password for {holder} (at least {MIN_PASSWORD} characters; 20 digits from the dice):"))?;
        let n = a.chars().count();
        if n < MIN_PASSWORD {
            ui.show(&format!("The password must have at least {MIN_PASSWORD} characters; this one has {n}."));
            continue;
        }
        if a.as_bytes() == hsm::FACTORY_PASSWORD {
            ui.show("That is the factory password; choose another.");
            continue;
        }
        let b = ui.secret(holder, SecretKind::New, "Repeat the new password:")?;
        if *a == *b {
            return Ok(a);
        }
        ui.show("The two entries differ; try again.");
    }
    Err(refused(format!("no valid new YubiHSM 2 password for {holder} after 5 attempts")))
}

impl YubiHsmTokens {
    /// The serial to record for `h`, checked against the plan's.
    fn serial(&self, holder: &Keyholder, h: &Hsm) -> Result<u32, TokenError> {
        let serial = self.ports.serial(holder, h.serial);
        if let Some(want) = &holder.serial
            && want.parse::<u32>().ok() != Some(serial)
        {
            return Err(refused(format!("{}'s YubiHSM 2 should have serial {want} (the plan), but this one has {serial}: wrong device?", holder.name)));
        }
        Ok(serial)
    }

    /// A session with the keyholder's authentication key, asking the password (at most
    /// [`MAX_WRONG_PASSWORDS`] wrong ones).
    fn unlock(&mut self, holder: &Keyholder, spec: &YubiHsmSpec, ui: &mut dyn Ui) -> Result<Hsm, TokenError> {
        let name = holder.name.as_str();
        for wrong in 0..MAX_WRONG_PASSWORDS {
            let pw = ui.secret(name, SecretKind::Unlock, &format!("Password for {name}'s YubiHSM 2 (authentication key {}):", spec.auth_key_id))?;
            let conn = self.ports.connector(holder, spec)?;
            match Hsm::open(conn, spec.auth_key_id, pw.as_bytes()) {
                Ok(h) => return Ok(h),
                Err(SignerError::WrongPin { .. }) => {
                    let left = MAX_WRONG_PASSWORDS - wrong - 1;
                    if left > 0 {
                        ui.show(&format!(
                            "Wrong password for {name}'s YubiHSM 2 (or no authentication key {} on it). {left} more and this tool stops.",
                            spec.auth_key_id
                        ));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(refused(format!(
            "{MAX_WRONG_PASSWORDS} wrong passwords for {name}'s YubiHSM 2: stopping. The device does not lock, but every try is logged on it; \
             find the password on {name}'s sealed sheet and run the same command again"
        )))
    }

    /// Checks what the device says about the ceremony key: generated on it, the one signing
    /// capability, not exportable.
    fn check_key_object(h: &Hsm, alg: Algorithm) -> Result<(), TokenError> {
        let info = h.key_info()?;
        let want = hsm::key_capabilities(alg);
        if info.origin != yubihsm::object::Origin::Generated {
            return Err(refused(format!(
                "YubiHSM 2 {}: the key at object {:#06x} was not generated on the device (origin {:?})",
                h.serial,
                hsm::KEY_ID,
                info.origin
            )));
        }
        if info.capabilities != want {
            return Err(refused(format!(
                "YubiHSM 2 {}: the key at object {:#06x} has capabilities {:?}, not only {want:?}{}",
                h.serial,
                hsm::KEY_ID,
                info.capabilities,
                if info.capabilities.contains(yubihsm::Capability::EXPORTABLE_UNDER_WRAP) { " (it is exportable under wrap)" } else { "" }
            )));
        }
        Ok(())
    }

    /// The attestation files for the ceremony key, or none after saying why (and the
    /// conductor agreeing to go on unattested).
    fn attestation(&self, h: &Hsm, name: &str, public: &PublicKey, serial: u32, ui: &mut dyn Ui) -> Result<Vec<(String, Vec<u8>)>, TokenError> {
        let device = match h.device_certificate() {
            Ok(Some(d)) => d,
            Ok(None) => {
                return not_attested(
                    ui,
                    name,
                    serial,
                    "the device has no certificate in opaque object 0 (every genuine YubiHSM 2 leaves the factory with one)".into(),
                );
            }
            Err(e) => return not_attested(ui, name, serial, format!("its device certificate (opaque object 0) cannot be read: {e}")),
        };
        if let Err(e) = attest::verify_yubihsm_device(&device, &self.roots) {
            return not_attested(
                ui,
                name,
                serial,
                format!(
                    "its device certificate (opaque object 0) does not lead to Yubico's YubiHSM root ({e}); a key attestation it signs would prove nothing, so none was asked"
                ),
            );
        }
        let key_cert = match h.attest() {
            Ok(c) => c,
            Err(e) => return not_attested(ui, name, serial, format!("the device did not attest the key: {e}")),
        };
        let a = match attest::verify_yubihsm(&key_cert, &device, &self.roots, chrono::Utc::now()) {
            Ok(a) => a,
            Err(e) => return not_attested(ui, name, serial, format!("its key attestation does not verify: {e}")),
        };
        if !attest::same_key(&a.public_key, public) {
            return Err(refused(format!("YubiHSM 2 {serial}: the attestation is for another key than the one generated: do not use this device")));
        }
        if let Some(r) = a.refusals.first() {
            return Err(refused(format!("YubiHSM 2 {serial}: {r}")));
        }
        ui.show(&format!("Attested by Yubico's YubiHSM chain: {}", crate::util::text::one_line(&a.to_string())));
        for w in &a.warnings {
            ui.show(&format!("Warning: {}", crate::util::text::one_line(&w.to_string())));
        }
        Ok(vec![(format!("{serial}_{name}_attestation.pem"), pem(&key_cert)), (format!("{serial}_cert.pem"), pem(&device))])
    }

    /// Provisioning of a factory-fresh device (after RESET is typed).
    fn provision_fresh(&mut self, holder: &Keyholder, spec: &YubiHsmSpec, ui: &mut dyn Ui) -> Result<TokenKey, TokenError> {
        let name = holder.name.as_str();
        let conn = self.ports.connector(holder, spec)?;
        let mut h = Hsm::open(conn, hsm::FACTORY_AUTH_KEY_ID, hsm::FACTORY_PASSWORD).map_err(|e| match e {
            SignerError::WrongPin { .. } => refused(format!(
                "{name}'s YubiHSM 2 does not accept the factory authentication key 1: it is not factory-fresh. If this tool provisioned it, \
                 run the same command again and answer no to the first question; otherwise reset it physically (hold its contact for 10 seconds while inserting it) and start again"
            )),
            other => other.into(),
        })?;
        let serial = self.serial(holder, &h)?;
        ui.show(&format!("Found YubiHSM 2 serial {serial} (firmware {}) for {name}. Compare the serial with the one on the bag.", h.firmware));
        let others: Vec<String> = h
            .objects()?
            .into_iter()
            .filter(|o| o.id != 0 && !(o.id == hsm::FACTORY_AUTH_KEY_ID && o.kind == yubihsm::object::Type::AuthenticationKey))
            .map(|o| format!("{:?} {:#06x}", o.kind, o.id))
            .collect();
        let holds = if others.is_empty() {
            "it holds nothing but the factory key and its device certificate".to_string()
        } else {
            format!("it holds {}", others.join(", "))
        };
        let q = format!(
            "FACTORY RESET {name}'s YubiHSM 2 serial {serial} ({holds}). Every key, authentication key and object on it is erased (Yubico's device certificate stays). This cannot be undone."
        );
        if !ui.confirm_word(&q, "RESET")? {
            return Err(refused(format!("reset of YubiHSM 2 {serial} not confirmed: the device was left unchanged and {name} has no key yet")));
        }
        ui.show(&format!("Resetting YubiHSM 2 {serial}: it restarts, which takes a few seconds…"));
        h.factory_reset()?;
        if self.serial(holder, &h)? != serial {
            return Err(refused(format!("after the reset another device answers than YubiHSM 2 {serial}: disconnect every other YubiHSM 2 and start again")));
        }
        ui.show(&format!(
            "Generating a {} key on YubiHSM 2 {serial} (object {:#06x}, domain 1, capability {}, never exportable)…",
            holder.algorithm.name(),
            hsm::KEY_ID,
            if holder.algorithm == Algorithm::Ed25519 { "sign-eddsa" } else { "sign-ecdsa" }
        ));
        let public = h.generate(holder.algorithm, &format!("tuf-ceremony {name}"))?;
        Self::check_key_object(&h, holder.algorithm)?;
        if holder.algorithm == Algorithm::Ed25519 {
            ui.show(&format!(
                "Note: with Ed25519 a YubiHSM 2 signs roles of at most {} bytes of canonical JSON (a root with more than a few keys is larger); larger roles are refused when signing.",
                hsm::ED25519_MAX_MESSAGE
            ));
        }
        ui.show(&format!("Roll the dice for {name}'s YubiHSM 2 password now (20 digits) and write it on {name}'s sheet with the serial {serial}."));
        let pw = new_password(name, ui)?;
        h.put_auth_key(spec.auth_key_id, pw.as_bytes(), &format!("tuf-ceremony {name}"))?;
        drop(h);
        let conn = self.ports.connector(holder, spec)?;
        let mine = Hsm::open(conn, spec.auth_key_id, pw.as_bytes())
            .map_err(|e| refused(format!("YubiHSM 2 {serial}: the new authentication key {} does not open a session ({e})", spec.auth_key_id)))?;
        drop(pw);
        if self.serial(holder, &mine)? != serial || mine.public_key()?.is_none_or(|k| k.to_key() != public.to_key()) {
            return Err(refused(format!("YubiHSM 2 {serial}: the session of the new authentication key does not see the generated key: stop and investigate")));
        }
        mine.delete_factory_auth_key()?;
        if mine.objects()?.iter().any(|o| o.id == hsm::FACTORY_AUTH_KEY_ID && o.kind == yubihsm::object::Type::AuthenticationKey) {
            return Err(refused(format!("YubiHSM 2 {serial}: the factory authentication key 1 is still there after deleting it")));
        }
        ui.show(&format!(
            "Factory authentication key 1 deleted. {name}'s authentication key {} signs and reads; it cannot generate, import, export or reset: only a physical reset, which erases the key, changes this device.",
            spec.auth_key_id
        ));
        let att = self.attestation(&mine, name, &public, serial, ui)?;
        Ok(token_key(&mine, serial, public, att, true))
    }

    /// A device this tool provisioned before: its key is found with the keyholder's password
    /// and kept.
    fn provision_existing(&mut self, holder: &Keyholder, spec: &YubiHsmSpec, ui: &mut dyn Ui) -> Result<TokenKey, TokenError> {
        let name = holder.name.as_str();
        let h = self.unlock(holder, spec, ui)?;
        let serial = self.serial(holder, &h)?;
        let Some(public) = h.public_key()? else {
            return Err(refused(format!(
                "{name}'s YubiHSM 2 {serial} has no key at object {:#06x}. To provision it, reset it physically (hold its contact for 10 seconds while inserting it), then answer yes to the first question",
                hsm::KEY_ID
            )));
        };
        if public.algorithm() != holder.algorithm {
            return Err(refused(format!(
                "{name}'s YubiHSM 2 {serial} holds a {} key but the plan says {}: keys are never replaced; fix the plan or reset the device physically",
                public.algorithm().name(),
                holder.algorithm.name()
            )));
        }
        Self::check_key_object(&h, holder.algorithm)?;
        ui.show(&format!("{name}'s YubiHSM 2 {serial} already holds a {} key (keyid {}); keeping it.", public.algorithm().name(), keyid(&public.to_key())));
        let att = self.attestation(&h, name, &public, serial, ui)?;
        Ok(token_key(&h, serial, public, att, false))
    }
}

/// The key as the ceremony records it, with the serial recorded for the device.
fn token_key(h: &Hsm, serial: u32, public: PublicKey, attestation: Vec<(String, Vec<u8>)>, generated: bool) -> TokenKey {
    TokenKey { public, serial: Some(serial.to_string()), description: format!("{} key {:#06x}", h.describe(), hsm::KEY_ID), attestation, generated }
}

/// Says that a key is not attested and why; the conductor decides whether to go on.
fn not_attested(ui: &mut dyn Ui, name: &str, serial: u32, why: String) -> Result<Vec<(String, Vec<u8>)>, TokenError> {
    ui.show(&format!(
        "NOT ATTESTED: {name}'s key on YubiHSM 2 {serial}: {}. Nothing shows by a Yubico certificate that this key was generated on a genuine YubiHSM 2; \
         no attestation is exported for it. Write this in the paper record.",
        crate::util::text::one_line(&why)
    ));
    if !ui.confirm(&format!("Go on with {name}'s key unattested? (no = stop here; the key stays on the device)"))? {
        return Err(refused(format!("{name}'s key on YubiHSM 2 {serial} is not attested and the conductor stopped")));
    }
    Ok(Vec::new())
}

fn pem(der: &[u8]) -> Vec<u8> {
    use x509_cert::der::pem::{LineEnding, encode_string};
    let mut s = encode_string("CERTIFICATE", LineEnding::LF, der).unwrap_or_default();
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s.into_bytes()
}

impl TokenBackend for YubiHsmTokens {
    fn peek(&mut self, holder: &Keyholder, _ui: &mut dyn Ui) -> Result<Peek, TokenError> {
        Ok(Peek::Unknown(format!("{}'s YubiHSM 2 shows its keys only in a session opened with a password", holder.name)))
    }

    fn provision(&mut self, holder: &Keyholder, ui: &mut dyn Ui) -> Result<TokenKey, TokenError> {
        check_algorithm(holder)?;
        let spec = spec(holder)?.clone();
        let name = holder.name.as_str();
        ui.show(&format!("{name}'s YubiHSM 2 is reached over {}.", spec.connector));
        let fresh = ui.confirm(&format!(
            "Is {name}'s YubiHSM 2 new or factory-reset (its factory authentication key 1 is still on it)? Answer no if this tool provisioned it before: its key is then kept."
        ))?;
        if fresh { self.provision_fresh(holder, &spec, ui) } else { self.provision_existing(holder, &spec, ui) }
    }

    fn open(&mut self, holder: &Keyholder, expected: &TokenKey, ui: &mut dyn Ui) -> Result<Box<dyn Signer>, TokenError> {
        let spec = spec(holder)?.clone();
        let name = holder.name.as_str();
        let h = self.unlock(holder, &spec, ui)?;
        let serial = self.serial(holder, &h)?;
        if let Some(want) = &expected.serial
            && want != &serial.to_string()
        {
            return Err(refused(format!("{name}'s YubiHSM 2 has serial {serial}, but the key was recorded on serial {want}: wrong device?")));
        }
        match h.public_key()? {
            Some(k) if k.to_key() == expected.public.to_key() => {}
            _ => return Err(refused(format!("{name}'s YubiHSM 2 {serial} does not hold the key recorded for {name}: wrong device?"))),
        }
        ui.show(&format!("{name}'s YubiHSM 2 {serial} holds the recorded key."));
        Ok(Box::new(h.into_signer(expected.public.clone())))
    }
}
