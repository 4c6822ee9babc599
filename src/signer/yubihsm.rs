//! YubiHSM 2, natively with the `yubihsm` crate (iqlusion, 0.42.1): over USB (rusb) or
//! through Yubico's yubihsm-connector (HTTP), in an authenticated, encrypted session whose
//! key is derived from a password (PBKDF2-SHA256, salt "Yubico", 10 000 rounds: the same
//! derivation as yubihsm-shell, so a password set here opens the device there too).
//!
//! This module only talks to the device: open a session, read the serial and firmware,
//! factory-reset, generate a key, put and delete authentication keys, read the device
//! certificate (opaque object 0) and a key attestation, and sign. The operator dialogue
//! (typed RESET, passwords, serials, attestation verdicts) lives in
//! `ceremony::tokens::yubihsm`.
//!
//! Keys: Ed25519 (`sign-eddsa`), ECDSA P-256 or P-384 (`sign-ecdsa`), generated on the
//! device at object [`KEY_ID`] with that one capability: never `exportable-under-wrap`,
//! never any other. ECDSA signs a SHA-256 / SHA-384 hash made here (so a role's size does
//! not matter) and the device returns DER, TUF's encoding. Ed25519 sends the whole message:
//! the protocol's 2048-byte messages limit it to [`ED25519_MAX_MESSAGE`] bytes, and a larger
//! payload is refused here with a message naming the limit, before the device sees it.
//!
//! The crate brings the older RustCrypto generation (p256/p384 0.13, signature 2,
//! ed25519 2); keys and signatures cross into the project's generation only as bytes.
//!
//! Secrets: passwords arrive as byte slices from zeroizing buffers. The crate derives the
//! session key into its `authentication::Key`, which zeroizes on drop; sessions are opened
//! without reconnect, so the client keeps no copy of the credentials.

use super::{Signer, SignerError};
use crate::ceremony::plan::HsmConnector;
use crate::tuf::keys::{Algorithm, PublicKey};
use std::time::Duration;
use yubihsm::{Capability, Client, Connector, Credentials, Domain, asymmetric, object};

/// The factory authentication key: object 1, password "password". Provisioning deletes it.
pub const FACTORY_AUTH_KEY_ID: u16 = 1;
pub const FACTORY_PASSWORD: &[u8] = b"password";
/// Where the ceremony key lives on the device.
pub const KEY_ID: u16 = 0x0100;
/// Opaque object 0: the device's attestation certificate, signed by Yubico.
pub const DEVICE_CERT_ID: u16 = 0;
/// The longest message an Ed25519 signature can cover. A message to the device is at most
/// 2048 bytes (Yubico: the device's buffer): a 3-byte header, the session id, the encrypted
/// command (its own 3-byte header, the 2-byte key id, the message, ISO padding to a whole
/// 16-byte block) and an 8-byte MAC, which leaves 2026 bytes of message. The crate checks
/// only the encrypted part against 2048 bytes (2042 bytes of message), so without this
/// limit a message of 2027 to 2042 bytes would be sent and could fail on the device.
pub const ED25519_MAX_MESSAGE: usize = 2026;
/// How long a factory reset may take before the device answers again.
const RESET_TIMEOUT: Duration = Duration::from_secs(30);

/// A key's capabilities: signing with its own algorithm, nothing else.
pub fn key_capabilities(alg: Algorithm) -> Capability {
    match alg {
        Algorithm::Ed25519 => Capability::SIGN_EDDSA,
        _ => Capability::SIGN_ECDSA,
    }
}

/// The keyholder's authentication key: sign, read the device certificate, have a key
/// attested, and delete the factory authentication key (done once, at provisioning, from a
/// session of this key, as the crate's own setup does). No key generation, import, export,
/// wrap, reset or option: with this key nobody can add, replace or take out a key; only a
/// physical reset (which destroys the key) changes the device.
pub fn auth_key_capabilities() -> Capability {
    Capability::SIGN_ECDSA | Capability::SIGN_EDDSA | Capability::GET_OPAQUE | Capability::SIGN_ATTESTATION_CERTIFICATE | Capability::DELETE_AUTHENTICATION_KEY
}

/// What objects created through the keyholder's key could be given (none are: it cannot
/// generate), the signing capabilities only.
pub fn auth_key_delegated() -> Capability {
    Capability::SIGN_ECDSA | Capability::SIGN_EDDSA
}

/// The connector for a plan's `connector` (USB: the device with `serial` when given).
pub fn connector(c: &HsmConnector, serial: Option<u32>) -> Result<Connector, SignerError> {
    Ok(match c {
        HsmConnector::Usb => {
            let serial = match serial {
                Some(s) => Some(format!("{s:010}").parse().map_err(|e| SignerError::Device(format!("serial {s}: {e}")))?),
                None => None,
            };
            Connector::usb(&yubihsm::UsbConfig { serial, ..Default::default() })
        }
        HsmConnector::Http { host, port } => Connector::http(&yubihsm::HttpConfig { addr: host.clone(), port: *port, ..Default::default() }),
    })
}

/// Maps the crate's errors to the signer's typed ones.
pub fn map_err(e: yubihsm::client::Error) -> SignerError {
    use yubihsm::client::ErrorKind as K;
    match (e.kind(), e.device_error()) {
        (K::AuthenticationError, _) => SignerError::WrongPin { retries_left: None },
        (_, Some(yubihsm::device::ErrorKind::AuthenticationFailed)) => SignerError::WrongPin { retries_left: None },
        (K::ConnectorError, _) => {
            SignerError::NotFound(format!("no YubiHSM 2 answered ({e}): is it plugged in (and yubihsm-connector running, if the plan names one)?"))
        }
        _ => SignerError::Device(format!("YubiHSM 2: {e}")),
    }
}

/// Firmware as "2.4.0".
fn firmware_of(i: &yubihsm::device::Info) -> (String, (u8, u8, u8)) {
    (format!("{}.{}.{}", i.major_version, i.minor_version, i.build_version), (i.major_version, i.minor_version, i.build_version))
}

/// An authenticated session with one YubiHSM 2.
pub struct Hsm {
    client: Client,
    pub serial: u32,
    pub firmware: String,
    pub firmware_tuple: (u8, u8, u8),
}

/// One object on the device, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    pub id: u16,
    pub kind: object::Type,
}

impl Hsm {
    /// Opens a session with authentication key `auth_key_id` and `password`.
    pub fn open(connector: Connector, auth_key_id: u16, password: &[u8]) -> Result<Hsm, SignerError> {
        let client = Client::open(connector, Credentials::from_password(auth_key_id, password), false).map_err(map_err)?;
        let mut hsm = Hsm { client, serial: 0, firmware: String::new(), firmware_tuple: (0, 0, 0) };
        hsm.read_info()?;
        Ok(hsm)
    }

    fn read_info(&mut self) -> Result<(), SignerError> {
        let info = self.client.device_info().map_err(map_err)?;
        self.serial = info.serial_number.to_string().parse().map_err(|_| SignerError::Device(format!("unreadable serial {}", info.serial_number)))?;
        (self.firmware, self.firmware_tuple) = firmware_of(&info);
        Ok(())
    }

    pub fn describe(&self) -> String {
        format!("YubiHSM 2 serial {} (firmware {})", self.serial, self.firmware)
    }

    /// Every object the session can see.
    pub fn objects(&self) -> Result<Vec<Object>, SignerError> {
        Ok(self.client.list_objects(&[]).map_err(map_err)?.into_iter().map(|e| Object { id: e.object_id, kind: e.object_type }).collect())
    }

    /// Factory reset: every object but the device certificate and its attestation key is
    /// erased and authentication key 1 returns with password "password"; the session is
    /// re-opened with it.
    pub fn factory_reset(&mut self) -> Result<(), SignerError> {
        self.client
            .reset_device_and_reconnect(RESET_TIMEOUT)
            .map_err(|e| SignerError::Device(format!("YubiHSM 2 {}: factory reset failed ({e})", self.serial)))?;
        self.read_info()
    }

    /// Generates the ceremony key at [`KEY_ID`] in domain 1 with [`key_capabilities`].
    pub fn generate(&self, alg: Algorithm, label: &str) -> Result<PublicKey, SignerError> {
        let device_alg = match alg {
            Algorithm::Ed25519 => asymmetric::Algorithm::Ed25519,
            Algorithm::EcdsaP256 => asymmetric::Algorithm::EcP256,
            Algorithm::EcdsaP384 => asymmetric::Algorithm::EcP384,
            other => return Err(SignerError::Device(format!("{} keys are not made on a YubiHSM 2 here", other.name()))),
        };
        self.client
            .generate_asymmetric_key(KEY_ID, object_label(label), Domain::DOM1, key_capabilities(alg), device_alg)
            .map_err(|e| SignerError::Device(format!("YubiHSM 2 {}: key generation failed ({e})", self.serial)))?;
        self.public_key()?.ok_or_else(|| SignerError::Device(format!("YubiHSM 2 {}: the generated key is not there", self.serial)))
    }

    /// The ceremony key's public half, `None` when the device has no key at [`KEY_ID`].
    pub fn public_key(&self) -> Result<Option<PublicKey>, SignerError> {
        match self.client.get_public_key(KEY_ID) {
            Ok(pk) => Ok(Some(public_from_device(&pk)?)),
            Err(e) if e.device_error() == Some(yubihsm::device::ErrorKind::ObjectNotFound) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    /// What the device says about the ceremony key (capabilities, origin, domains, label).
    pub fn key_info(&self) -> Result<object::Info, SignerError> {
        self.client.get_object_info(KEY_ID, object::Type::AsymmetricKey).map_err(map_err)
    }

    /// Puts the keyholder's authentication key (derived from `password`) at `id`.
    pub fn put_auth_key(&self, id: u16, password: &[u8], label: &str) -> Result<(), SignerError> {
        self.client
            .put_authentication_key(
                id,
                object_label(label),
                Domain::DOM1,
                auth_key_capabilities(),
                auth_key_delegated(),
                yubihsm::authentication::Algorithm::YubicoAes,
                yubihsm::authentication::Key::derive_from_password(password),
            )
            .map_err(|e| SignerError::Device(format!("YubiHSM 2 {}: cannot put authentication key {id} ({e})", self.serial)))?;
        Ok(())
    }

    /// Deletes the factory authentication key 1.
    pub fn delete_factory_auth_key(&self) -> Result<(), SignerError> {
        self.client
            .delete_object(FACTORY_AUTH_KEY_ID, object::Type::AuthenticationKey)
            .map_err(|e| SignerError::Device(format!("YubiHSM 2 {}: cannot delete the factory authentication key 1 ({e})", self.serial)))
    }

    /// The device certificate (opaque object 0), `None` when the device has none.
    pub fn device_certificate(&self) -> Result<Option<Vec<u8>>, SignerError> {
        match self.client.get_opaque(DEVICE_CERT_ID) {
            Ok(der) => Ok(Some(der)),
            Err(e) if e.device_error() == Some(yubihsm::device::ErrorKind::ObjectNotFound) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    /// A key attestation for the ceremony key, signed by the device's attestation key (the
    /// one opaque object 0 certifies).
    pub fn attest(&self) -> Result<Vec<u8>, SignerError> {
        Ok(self.client.sign_attestation_certificate(KEY_ID, None).map_err(map_err)?.into_vec())
    }

    /// A signer for the ceremony key, which must be `expected`.
    pub fn into_signer(self, expected: PublicKey) -> HsmSigner {
        let describe = format!("{} key {KEY_ID:#06x}", self.describe());
        HsmSigner { hsm: self, public: expected, describe }
    }
}

/// A label of at most 40 bytes (the device's limit), cut on a character boundary.
fn object_label(s: &str) -> object::Label {
    let mut end = s.len().min(object::LABEL_SIZE);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    object::Label::from_bytes(&s.as_bytes()[..end]).unwrap_or_default()
}

/// The device's public key bytes (Ed25519: 32 bytes; ECDSA: x ‖ y) as the core's key.
pub fn public_from_device(pk: &asymmetric::PublicKey) -> Result<PublicKey, SignerError> {
    let bad = |e: String| SignerError::Device(format!("YubiHSM 2 public key: {e}"));
    let sec1 = || [&[0x04u8][..], &pk.bytes].concat();
    match pk.algorithm {
        asymmetric::Algorithm::Ed25519 => {
            let b: [u8; 32] = pk.bytes.as_slice().try_into().map_err(|_| bad(format!("{} bytes for Ed25519", pk.bytes.len())))?;
            ed25519_dalek::VerifyingKey::from_bytes(&b).map(PublicKey::Ed25519).map_err(|e| bad(e.to_string()))
        }
        asymmetric::Algorithm::EcP256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1()).map(PublicKey::P256).map_err(|e| bad(e.to_string())),
        asymmetric::Algorithm::EcP384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1()).map(PublicKey::P384).map_err(|e| bad(e.to_string())),
        other => Err(bad(format!("{other:?} keys are not used here"))),
    }
}

/// Signs with the ceremony key of an open session.
pub struct HsmSigner {
    hsm: Hsm,
    public: PublicKey,
    describe: String,
}

impl Signer for HsmSigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn sign(&mut self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        use sha2::Digest;
        let client = &self.hsm.client;
        match &self.public {
            PublicKey::Ed25519(_) => {
                if payload.len() > ED25519_MAX_MESSAGE {
                    return Err(SignerError::Device(format!(
                        "{}: these canonical bytes are {} bytes, and a YubiHSM 2 signs at most {ED25519_MAX_MESSAGE} bytes with Ed25519 (it signs the whole message, no hash): \
                         nothing was sent to the device. Give this keyholder ecdsa-p256 for roles this large (runbook/HARDWARE-YUBIHSM2.md)",
                        self.describe,
                        payload.len()
                    )));
                }
                Ok(client.sign_ed25519(KEY_ID, payload).map_err(map_err)?.to_bytes().to_vec())
            }
            PublicKey::P256(_) => client.sign_ecdsa_prehash_raw(KEY_ID, sha2::Sha256::digest(payload).to_vec()).map_err(map_err),
            PublicKey::P384(_) => client.sign_ecdsa_prehash_raw(KEY_ID, sha2::Sha384::digest(payload).to_vec()).map_err(map_err),
            other => Err(SignerError::Device(format!("{} keys are not used on a YubiHSM 2 here", other.algorithm().name()))),
        }
    }
}
