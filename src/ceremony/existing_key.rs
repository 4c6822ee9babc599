//! Keys from an earlier ceremony (issue #15): a plan keyholder whose `key = "FILE"` names a
//! public key made before, on a device the keyholder keeps, as the PSF's 2020 ceremony left
//! twelve (three YubiHSM 2 and three Nitrokey HSM, a root and a targets key each). Such a
//! key is never generated: the ceremony records it from the plan and only asks the device
//! to sign.
//!
//! The key file is read by what is in it, with the attestation audit's reader
//! ([`crate::attest::key_file`]: PEM or DER SubjectPublicKeyInfo, a raw SEC1 point as in the
//! PSF's YubiHSM `.pub` files) or as TUF key JSON (kept as written, so its keyid is the one
//! the metadata that listed it used). Attestation files, when the plan names them, are
//! verified with the pinned Yubico roots ([`crate::attest::verify_yubihsm`] /
//! [`crate::attest::verify`]) and must attest this very key, generated on the device, on the
//! plan's serial: otherwise the plan is refused, since witnesses would approve a claim
//! nothing supports. Pure: the caller reads the files.

use crate::attest::discover::Stores;
use crate::attest::{self, Attestation, Device, key_file, same_key};
use crate::tuf::keys::{Algorithm, PublicKey, keyid};
use crate::tuf::metadata::Key;
use chrono::{DateTime, Utc};

/// The kind of device a key from an earlier ceremony lives on (`device = "…"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    YubiHsm2,
    NitrokeyHsm,
    YubiKey,
    /// Another PKCS#11 token.
    Pkcs11,
    Software,
}

impl DeviceKind {
    pub const NAMES: [&'static str; 5] = ["yubihsm2", "nitrokey-hsm", "yubikey", "pkcs11", "software"];

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "yubihsm2" => DeviceKind::YubiHsm2,
            "nitrokey-hsm" => DeviceKind::NitrokeyHsm,
            "yubikey" => DeviceKind::YubiKey,
            "pkcs11" => DeviceKind::Pkcs11,
            "software" => DeviceKind::Software,
            _ => return None,
        })
    }

    /// The plan's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::YubiHsm2 => "yubihsm2",
            DeviceKind::NitrokeyHsm => "nitrokey-hsm",
            DeviceKind::YubiKey => "yubikey",
            DeviceKind::Pkcs11 => "pkcs11",
            DeviceKind::Software => "software",
        }
    }

    /// In words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            DeviceKind::YubiHsm2 => "YubiHSM 2",
            DeviceKind::NitrokeyHsm => "Nitrokey HSM",
            DeviceKind::YubiKey => "YubiKey",
            DeviceKind::Pkcs11 => "PKCS#11 token",
            DeviceKind::Software => "software key",
        }
    }

    /// The attestation family whose pinned roots check this device's attestations.
    fn attestation_device(self) -> Option<Device> {
        match self {
            DeviceKind::YubiHsm2 => Some(Device::YubiHsm2),
            DeviceKind::YubiKey => Some(Device::YubiKeyPiv),
            _ => None,
        }
    }
}

/// A key file's key: the TUF key object the metadata will list, the decoded key, and how
/// the file encodes it (`pem-spki`, `der-spki`, `sec1-point` or `tuf-json`).
pub fn read_key(bytes: &[u8]) -> Result<(Key, PublicKey, &'static str), String> {
    let (key, public, encoding) = if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let mut r = crate::tuf::json::Reader::new(bytes).map_err(|e| e.to_string())?;
        let key = crate::tuf::metadata::read_key(&mut r).map_err(|e| e.to_string())?;
        r.finish().map_err(|e| e.to_string())?;
        let public = PublicKey::from_key(&key, false).map_err(|e| e.to_string())?;
        (key, public, "tuf-json")
    } else {
        let (public, enc) = key_file::decode(bytes).map_err(|e| e.to_string())?;
        (public.to_key(), public, enc.name())
    };
    match public.algorithm() {
        Algorithm::Ed25519 | Algorithm::EcdsaP256 | Algorithm::EcdsaP384 => Ok((key, public, encoding)),
        other => Err(format!("a {} key; a keyholder's key is ed25519, ecdsa-p256 or ecdsa-p384", other.name())),
    }
}

/// Verifies `key_cert` (the key's attestation) issued by `device_cert` up to a pinned
/// Yubico root, and that it attests `key`, generated on the device, on `serial` when the
/// plan gives one. `now` only decides the validity warnings.
pub fn check_attestation(
    key: &PublicKey,
    device: Option<DeviceKind>,
    serial: Option<&str>,
    key_cert: &[u8],
    device_cert: &[u8],
    now: DateTime<Utc>,
) -> Result<Attestation, String> {
    let family = device
        .and_then(DeviceKind::attestation_device)
        .ok_or("attestations are checked for device = \"yubihsm2\" or \"yubikey\": name the device the key is on")?;
    let stores = Stores::bundled().map_err(|e| format!("the pinned Yubico roots: {e}"))?;
    let roots = stores.for_device(family);
    let a = match family {
        Device::YubiHsm2 => attest::verify_yubihsm(key_cert, device_cert, roots, now),
        Device::YubiKeyPiv => attest::verify(key_cert, device_cert, roots, now),
    }
    .map_err(|e| format!("the attestation does not verify: {e}"))?;
    if !same_key(&a.public_key, key) {
        return Err(format!(
            "the attestation is for another key ({} keyid {}…), not the key in `key`",
            a.public_key.algorithm().name(),
            crate::util::text::prefix(&keyid(&a.public_key.to_key()), 16)
        ));
    }
    if let Some(r) = a.refusals.first() {
        return Err(r.to_string());
    }
    if let (Some(want), Some(have)) = (serial, a.serial)
        && want.trim_start_matches('0').parse::<u64>().ok() != Some(u64::from(have))
    {
        return Err(format!("the attestation is from serial {have}, not the plan's serial {want}"));
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_form_gives_one_keyid() {
        let sk = p384::ecdsa::SigningKey::from_slice(&[9u8; 48]).unwrap();
        let pk = PublicKey::P384(*sk.verifying_key());
        let pem = pk.to_pem();
        let point = sk.verifying_key().to_sec1_point(false).as_bytes().to_vec();
        let json = crate::tuf::encode::pretty(&pk.to_key());
        let want = keyid(&pk.to_key());
        for (bytes, enc) in [(pem.into_bytes(), "pem-spki"), (point, "sec1-point"), (json, "tuf-json")] {
            let (key, _, e) = read_key(&bytes).unwrap();
            assert_eq!((keyid(&key), e), (want.clone(), enc));
        }
        assert!(read_key(b"not a key").is_err());
    }

    #[test]
    fn devices() {
        for n in DeviceKind::NAMES {
            assert_eq!(DeviceKind::parse(n).unwrap().as_str(), n);
        }
        assert!(DeviceKind::parse("YubiHSM").is_none());
    }
}
