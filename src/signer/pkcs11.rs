//! PKCS#11 tokens (HSMs such as the Nitrokey HSM or YubiHSM 2; SoftHSM2 in tests) through
//! the `cryptoki` crate.
//!
//! This module is the device layer: loading a module once per process, listing tokens and
//! their state, logging in with one PIN attempt, finding or generating the keyholder's key
//! pair on the token, and signing. Everything that talks to the operator (which token,
//! re-prompting a wrong PIN, initialising a blank token) is in
//! `ceremony::tokens::pkcs11`.
//!
//! Keys are found by label: `tuf-ceremony:<keyholder>` on both the private and the public
//! key object. The private key is generated on the token as sensitive and non-extractable.
//! Signatures are Ed25519 with CKM_EDDSA over the whole payload, and ECDSA with CKM_ECDSA
//! over a host-side SHA-256 (P-256) or SHA-384 (P-384) prehash (SoftHSM2 2.6 has no
//! CKM_ECDSA_SHA256), the raw r‖s converted to DER for TUF.
//!
//! PINs arrive as `&str` borrowed from the caller's zeroizing buffer and are copied only
//! into `cryptoki`'s `AuthPin` (a `secrecy` box that zeroizes on drop). They are never
//! printed, logged or put in an error message.

use super::{Signer, SignerError};
use crate::tuf::keys::{Algorithm, PublicKey};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::{Slot, TokenInfo};
use cryptoki::types::AuthPin;
use sha2::Digest;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The label prefix of key objects this tool generates.
pub const KEY_LABEL_PREFIX: &str = "tuf-ceremony:";

/// The label of `keyholder`'s key objects on their token.
pub fn key_label(keyholder: &str) -> String {
    format!("{KEY_LABEL_PREFIX}{keyholder}")
}

/// DER of the curve OIDs used in CKA_EC_PARAMS.
const OID_ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70]; // 1.3.101.112
const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]; // 1.2.840.10045.3.1.7
const OID_P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]; // 1.3.132.0.34
/// PrintableString "edwards25519": the older form some modules want instead of the OID.
const PS_ED25519: &[u8] = b"\x13\x0cedwards25519";

fn dev(what: &str, e: CkError) -> SignerError {
    SignerError::Device(format!("{what}: {e}"))
}

/// The module at `path`, loaded and initialised once per process (C_Initialize may be
/// called only once; the module stays loaded until the process ends).
pub fn module(path: &Path) -> Result<Pkcs11, SignerError> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let key = std::fs::canonicalize(path).map_err(|e| SignerError::NotFound(format!("PKCS#11 module {}: {e}", path.display())))?;
    let mut map = MODULES.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(m) = map.get(&key) {
        return Ok(m.clone());
    }
    let ctx = Pkcs11::new(&key).map_err(|e| SignerError::NotFound(format!("cannot load PKCS#11 module {}: {e}", key.display())))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(dev(&format!("C_Initialize of {}", key.display()), e)),
    }
    map.insert(key, ctx.clone());
    Ok(ctx)
}

/// What a token reports about itself: identity and the flags the ceremony acts on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenState {
    pub label: String,
    pub serial: String,
    pub manufacturer: String,
    pub model: String,
    pub initialized: bool,
    pub user_pin_initialized: bool,
    pub user_pin_count_low: bool,
    pub user_pin_final_try: bool,
    pub user_pin_locked: bool,
    pub user_pin_to_be_changed: bool,
    pub so_pin_count_low: bool,
    pub so_pin_final_try: bool,
    pub so_pin_locked: bool,
    pub so_pin_to_be_changed: bool,
    pub error_state: bool,
    /// A PIN pad on the reader: the PIN is entered there, not on this computer.
    pub protected_auth_path: bool,
    pub min_pin_len: usize,
    pub max_pin_len: usize,
}

impl TokenState {
    pub fn from_info(t: &TokenInfo) -> Self {
        TokenState {
            label: t.label().trim_end().to_string(),
            serial: t.serial_number().trim().to_string(),
            manufacturer: t.manufacturer_id().trim_end().to_string(),
            model: t.model().trim_end().to_string(),
            initialized: t.token_initialized(),
            user_pin_initialized: t.user_pin_initialized(),
            user_pin_count_low: t.user_pin_count_low(),
            user_pin_final_try: t.user_pin_final_try(),
            user_pin_locked: t.user_pin_locked(),
            user_pin_to_be_changed: t.user_pin_to_be_changed(),
            so_pin_count_low: t.so_pin_count_low(),
            so_pin_final_try: t.so_pin_final_try(),
            so_pin_locked: t.so_pin_locked(),
            so_pin_to_be_changed: t.so_pin_to_be_changed(),
            error_state: t.error_state(),
            protected_auth_path: t.protected_authentication_path(),
            min_pin_len: t.min_pin_length(),
            max_pin_len: t.max_pin_length(),
        }
    }

    /// One line for the operator, e.g. `"tuf alice" serial 94ddb8519c21e0bd (SoftHSM project SoftHSM v2)`.
    pub fn describe(&self) -> String {
        let label = if self.initialized { format!("{:?}", self.label) } else { "uninitialised token".to_string() };
        let serial = if self.serial.is_empty() { "no serial".to_string() } else { format!("serial {}", self.serial) };
        format!("{label} {serial} ({} {})", self.manufacturer, self.model)
    }

    /// Why this token must not be used at all, if it is in a state where one more wrong PIN
    /// (or any use) could lose it: a PIN on its final try or locked, or the token's error
    /// state. The PSF's Nitrokey provisioning refused the same "deadly" states.
    ///
    /// A blank (uninitialised) token has no PINs yet, and some modules report
    /// CKF_SO_PIN_LOCKED for it (SoftHSM2 does, with CKF_SO_PIN_TO_BE_CHANGED); there only
    /// the error state and an SO PIN on its final try (a device whose C_InitToken checks an
    /// existing SO PIN) are refused. A locked SO PIN would make C_InitToken fail, not lose
    /// anything.
    pub fn refusal(&self) -> Option<String> {
        const SO_FINAL: &str = "the SO PIN is on its final try: one more wrong SO PIN locks the token for good (CKF_SO_PIN_FINAL_TRY)";
        let mut why = Vec::new();
        if self.error_state {
            why.push("the token reports an error state (CKF_ERROR_STATE)");
        }
        if !self.initialized {
            if self.so_pin_final_try && !self.so_pin_locked {
                why.push(SO_FINAL);
            }
        } else {
            if self.user_pin_locked {
                why.push("the user PIN is locked (CKF_USER_PIN_LOCKED)");
            } else if self.user_pin_final_try {
                why.push("the user PIN is on its final try: one more wrong PIN locks it (CKF_USER_PIN_FINAL_TRY)");
            }
            if self.so_pin_locked {
                why.push("the SO PIN is locked (CKF_SO_PIN_LOCKED)");
            } else if self.so_pin_final_try {
                why.push(SO_FINAL);
            }
        }
        if why.is_empty() {
            return None;
        }
        Some(format!(
            "refusing token {}: {}. Do not use this token in the ceremony: set it aside, record this in the minutes, and recover or reset it outside the ceremony with the vendor's tool.",
            self.describe(),
            why.join("; ")
        ))
    }

    /// Conditions worth telling the operator that do not stop the ceremony.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.user_pin_count_low {
            w.push("the token reports earlier wrong user PIN entries (CKF_USER_PIN_COUNT_LOW): enter the PIN carefully".to_string());
        }
        if self.so_pin_count_low {
            w.push("the token reports earlier wrong SO PIN entries (CKF_SO_PIN_COUNT_LOW)".to_string());
        }
        w
    }
}

/// A slot with a token and what the token reported.
#[derive(Clone, Debug)]
pub struct TokenSlot {
    pub slot: Slot,
    pub state: TokenState,
}

/// Every slot with a token present.
pub fn list_tokens(ctx: &Pkcs11) -> Result<Vec<TokenSlot>, SignerError> {
    let slots = ctx.get_slots_with_token().map_err(|e| dev("C_GetSlotList", e))?;
    slots.into_iter().map(|slot| Ok(TokenSlot { slot, state: token_state(ctx, slot)? })).collect()
}

/// The token's current state (flags change as PINs are tried).
pub fn token_state(ctx: &Pkcs11, slot: Slot) -> Result<TokenState, SignerError> {
    let info = ctx.get_token_info(slot).map_err(|e| dev(&format!("C_GetTokenInfo (slot {})", slot.id()), e))?;
    Ok(TokenState::from_info(&info))
}

fn auth_pin(pin: &str) -> AuthPin {
    AuthPin::from(pin.to_owned())
}

/// One login attempt. `None` logs in through the reader's PIN pad. A wrong PIN is
/// `WrongPin`, a locked one `PinBlocked`; already logged in counts as success.
pub fn login(session: &Session, user: UserType, pin: Option<&str>) -> Result<(), SignerError> {
    let pin = pin.map(auth_pin);
    match session.login(user, pin.as_ref()) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => Err(SignerError::WrongPin { retries_left: None }),
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(SignerError::PinBlocked),
        Err(CkError::Pkcs11(RvError::PinExpired, _)) => {
            Err(SignerError::Device("the token says this PIN has expired and must be changed first (CKR_PIN_EXPIRED)".into()))
        }
        Err(e) => Err(dev("C_Login", e)),
    }
}

/// Initialises a blank token: C_InitToken with the new SO PIN and `label`. Destroys
/// everything on the token; the caller has asked the operator first.
pub fn init_token(ctx: &Pkcs11, slot: Slot, so_pin: &str, label: &str) -> Result<(), SignerError> {
    ctx.init_token(slot, &auth_pin(so_pin), label).map_err(|e| dev("C_InitToken", e))
}

/// Sets the user PIN (C_InitPIN) in a session logged in as SO.
pub fn init_user_pin(session: &Session, user_pin: &str) -> Result<(), SignerError> {
    session.init_pin(&auth_pin(user_pin)).map_err(|e| dev("C_InitPIN", e))
}

/// A key pair found on (or generated on) a token.
#[derive(Clone, Debug)]
pub struct TokenKeyPair {
    pub private: ObjectHandle,
    pub public: PublicKey,
    /// CKA_LOCAL: generated on the token (false: imported).
    pub local: Option<bool>,
    /// CKA_EXTRACTABLE on the private key.
    pub extractable: Option<bool>,
    /// CKA_SENSITIVE on the private key.
    pub sensitive: Option<bool>,
}

impl TokenKeyPair {
    /// Properties of the private key that a ceremony should not accept silently.
    pub fn concerns(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.local == Some(false) {
            v.push("the private key was imported, not generated on the token (CKA_LOCAL false)");
        }
        if self.extractable == Some(true) {
            v.push("the private key is extractable (CKA_EXTRACTABLE true)");
        }
        if self.sensitive == Some(false) {
            v.push("the private key is not sensitive (CKA_SENSITIVE false)");
        }
        v
    }
}

/// Strips the DER OCTET STRING around a CKA_EC_POINT value (some modules return the bare
/// point; both are accepted by the caller trying each).
fn unwrap_octet_string(b: &[u8]) -> Option<&[u8]> {
    if b.len() < 2 || b[0] != 0x04 {
        return None;
    }
    let (len, hdr) = match b[1] {
        n if n < 0x80 => (n as usize, 2),
        0x81 if b.len() >= 3 => (b[2] as usize, 3),
        0x82 if b.len() >= 4 => (((b[2] as usize) << 8) | b[3] as usize, 4),
        _ => return None,
    };
    (hdr + len == b.len()).then(|| &b[hdr..])
}

/// The algorithm named by CKA_KEY_TYPE and CKA_EC_PARAMS.
fn algorithm_of(key_type: Option<KeyType>, params: Option<&[u8]>) -> Option<Algorithm> {
    match (key_type, params) {
        (Some(KeyType::EC_EDWARDS), None) => Some(Algorithm::Ed25519),
        (Some(KeyType::EC_EDWARDS), Some(p)) if p == OID_ED25519 || p == PS_ED25519 => Some(Algorithm::Ed25519),
        (Some(KeyType::EC), Some(p)) if p == OID_P256 => Some(Algorithm::EcdsaP256),
        (Some(KeyType::EC), Some(p)) if p == OID_P384 => Some(Algorithm::EcdsaP384),
        _ => None,
    }
}

fn decode_point(alg: Algorithm, point: &[u8]) -> Option<PublicKey> {
    let candidates = [unwrap_octet_string(point), Some(point)];
    candidates.into_iter().flatten().find_map(|p| match alg {
        Algorithm::Ed25519 => <[u8; 32]>::try_from(p).ok().and_then(|a| ed25519_dalek::VerifyingKey::from_bytes(&a).ok()).map(PublicKey::Ed25519),
        Algorithm::EcdsaP256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(p).ok().map(PublicKey::P256),
        Algorithm::EcdsaP384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(p).ok().map(PublicKey::P384),
        _ => None,
    })
}

/// Reads a public key object (CKA_KEY_TYPE, CKA_EC_PARAMS, CKA_EC_POINT) into a `PublicKey`.
pub fn read_public_key(session: &Session, object: ObjectHandle) -> Result<PublicKey, SignerError> {
    let attrs = session
        .get_attributes(object, &[AttributeType::KeyType, AttributeType::EcParams, AttributeType::EcPoint])
        .map_err(|e| dev("C_GetAttributeValue (public key)", e))?;
    let (mut kt, mut params, mut point) = (None, None, None);
    for a in attrs {
        match a {
            Attribute::KeyType(k) => kt = Some(k),
            Attribute::EcParams(p) => params = Some(p),
            Attribute::EcPoint(p) => point = Some(p),
            _ => {}
        }
    }
    let alg = algorithm_of(kt, params.as_deref()).ok_or_else(|| {
        SignerError::Device(format!(
            "the public key on the token is not Ed25519, P-256 or P-384 (key type {kt:?}, EC params {:02x?})",
            params.unwrap_or_default()
        ))
    })?;
    let point = point.ok_or_else(|| SignerError::Device("the public key object has no CKA_EC_POINT".into()))?;
    decode_point(alg, &point).ok_or_else(|| SignerError::Device(format!("cannot decode the {} public point from CKA_EC_POINT", alg.name())))
}

fn find(session: &Session, template: &[Attribute]) -> Result<Vec<ObjectHandle>, SignerError> {
    session.find_objects(template).map_err(|e| dev("C_FindObjects", e))
}

fn bool_attr(session: &Session, object: ObjectHandle, t: AttributeType) -> Option<bool> {
    let attrs = session.get_attributes(object, &[t]).ok()?;
    attrs.into_iter().find_map(|a| match a {
        Attribute::Local(b) | Attribute::Extractable(b) | Attribute::Sensitive(b) => Some(b),
        _ => None,
    })
}

/// The public key labelled `label`, as any session sees it (no login): `Ok(None)` when the
/// token shows none (a token may keep even public keys private until login).
pub fn find_public(session: &Session, label: &str) -> Result<Option<PublicKey>, SignerError> {
    let pubs = find(session, &[Attribute::Class(ObjectClass::PUBLIC_KEY), Attribute::Label(label.as_bytes().to_vec())])?;
    match pubs.as_slice() {
        [] => Ok(None),
        [one] => read_public_key(session, *one).map(Some),
        _ => Err(SignerError::Device(format!("the token holds {} public keys labelled {label:?}", pubs.len()))),
    }
}

/// Finds the key pair labelled `label` (the session must be logged in: private keys are
/// private objects). `Ok(None)` if there is none; an error if the label is ambiguous or the
/// public half cannot be found.
pub fn find_key(session: &Session, label: &str) -> Result<Option<TokenKeyPair>, SignerError> {
    let lbl = Attribute::Label(label.as_bytes().to_vec());
    let privs = find(session, &[Attribute::Class(ObjectClass::PRIVATE_KEY), lbl.clone()])?;
    let pubs = find(session, &[Attribute::Class(ObjectClass::PUBLIC_KEY), lbl.clone()])?;
    let private = match privs.as_slice() {
        [] if pubs.is_empty() => return Ok(None),
        [] => {
            return Err(SignerError::Device(format!(
                "the token holds a public key labelled {label:?} but no private key with that label (not logged in, or the private key was deleted); refusing to generate another"
            )));
        }
        [one] => *one,
        _ => {
            return Err(SignerError::Device(format!(
                "the token holds {} private keys labelled {label:?}; remove the ambiguity outside the ceremony",
                privs.len()
            )));
        }
    };
    // The public half: by label, else by the private key's CKA_ID.
    let mut public_obj = match pubs.as_slice() {
        [one] => Some(*one),
        [] => None,
        _ => return Err(SignerError::Device(format!("the token holds {} public keys labelled {label:?}", pubs.len()))),
    };
    if public_obj.is_none() {
        let id = session.get_attributes(private, &[AttributeType::Id]).ok().and_then(|v| {
            v.into_iter().find_map(|a| match a {
                Attribute::Id(id) if !id.is_empty() => Some(id),
                _ => None,
            })
        });
        if let Some(id) = id
            && let [one] = find(session, &[Attribute::Class(ObjectClass::PUBLIC_KEY), Attribute::Id(id)])?.as_slice()
        {
            public_obj = Some(*one);
        }
    }
    let Some(public_obj) = public_obj else {
        return Err(SignerError::Device(format!(
            "the token holds a private key labelled {label:?} but its public key object is missing, so the key cannot be identified; refusing to generate another"
        )));
    };
    let public = read_public_key(session, public_obj)?;
    Ok(Some(TokenKeyPair {
        private,
        public,
        local: bool_attr(session, private, AttributeType::Local),
        extractable: bool_attr(session, private, AttributeType::Extractable),
        sensitive: bool_attr(session, private, AttributeType::Sensitive),
    }))
}

/// Generates a key pair labelled `label` on the token (session read-write, logged in as
/// user): private key sensitive, non-extractable, sign only; public key verify only. The
/// caller has checked that no key with this label exists.
pub fn generate_key(session: &Session, alg: Algorithm, label: &str) -> Result<TokenKeyPair, SignerError> {
    let (mech, params): (Mechanism, Vec<&[u8]>) = match alg {
        // The OID form is PKCS#11 3.0's; older modules want the PrintableString.
        Algorithm::Ed25519 => (Mechanism::EccEdwardsKeyPairGen, vec![OID_ED25519, PS_ED25519]),
        Algorithm::EcdsaP256 => (Mechanism::EccKeyPairGen, vec![OID_P256]),
        Algorithm::EcdsaP384 => (Mechanism::EccKeyPairGen, vec![OID_P384]),
        verify_only => return Err(SignerError::Device(format!("{} keys are verify-only in this tool", verify_only.name()))),
    };
    let id = sha2::Sha256::digest(label.as_bytes())[..16].to_vec();
    for p in params {
        let public_t = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::Encrypt(false),
            Attribute::Wrap(false),
            Attribute::EcParams(p.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
        ];
        let private_t = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Decrypt(false),
            Attribute::Unwrap(false),
            Attribute::Derive(false),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
        ];
        match session.generate_key_pair(&mech, &public_t, &private_t) {
            Ok((pub_h, priv_h)) => {
                let public = read_public_key(session, pub_h)?;
                if public.algorithm() != alg {
                    return Err(SignerError::Device(format!("asked the token for {} and it generated {}", alg.name(), public.algorithm().name())));
                }
                return Ok(TokenKeyPair {
                    private: priv_h,
                    public,
                    local: bool_attr(session, priv_h, AttributeType::Local),
                    extractable: bool_attr(session, priv_h, AttributeType::Extractable),
                    sensitive: bool_attr(session, priv_h, AttributeType::Sensitive),
                });
            }
            // Try the next encoding of the curve, if any.
            Err(CkError::Pkcs11(RvError::CurveNotSupported | RvError::AttributeValueInvalid | RvError::DomainParamsInvalid, _)) => {}
            Err(CkError::Pkcs11(RvError::MechanismInvalid, _)) => {
                return Err(SignerError::Device(format!("this token cannot generate {} keys (CKR_MECHANISM_INVALID)", alg.name())));
            }
            Err(e) => return Err(dev(&format!("C_GenerateKeyPair ({})", alg.name()), e)),
        }
    }
    Err(SignerError::Device(format!("this token does not support the {} curve", alg.name())))
}

/// Whether the token lists the mechanisms needed to generate and sign with `alg`.
pub fn supports(ctx: &Pkcs11, slot: Slot, alg: Algorithm) -> Result<bool, SignerError> {
    let list = ctx.get_mechanism_list(slot).map_err(|e| dev("C_GetMechanismList", e))?;
    let need: &[MechanismType] = match alg {
        Algorithm::Ed25519 => &[MechanismType::ECC_EDWARDS_KEY_PAIR_GEN, MechanismType::EDDSA],
        Algorithm::EcdsaP256 | Algorithm::EcdsaP384 => &[MechanismType::ECC_KEY_PAIR_GEN, MechanismType::ECDSA],
        _ => return Ok(false),
    };
    Ok(need.iter().all(|m| list.contains(m)))
}

/// Converts a raw r‖s ECDSA signature to DER.
pub fn raw_ecdsa_to_der(alg: Algorithm, raw: &[u8]) -> Result<Vec<u8>, SignerError> {
    let bad = |e: &dyn std::fmt::Display| SignerError::Device(format!("the token returned a malformed {} signature ({} bytes): {e}", alg.name(), raw.len()));
    match alg {
        Algorithm::EcdsaP256 => p256::ecdsa::Signature::from_slice(raw).map(|s| s.to_der().as_bytes().to_vec()).map_err(|e| bad(&e)),
        Algorithm::EcdsaP384 => p384::ecdsa::Signature::from_slice(raw).map(|s| s.to_der().as_bytes().to_vec()).map_err(|e| bad(&e)),
        _ => Err(bad(&"not an ECDSA key")),
    }
}

/// A logged-in session and the key pair to sign with.
pub struct Pkcs11Signer {
    session: Session,
    key: ObjectHandle,
    public: PublicKey,
    description: String,
}

impl Pkcs11Signer {
    /// `session` must be logged in as user and stays open (and logged in) while the signer lives.
    pub fn new(session: Session, key: ObjectHandle, public: PublicKey, description: String) -> Self {
        Pkcs11Signer { session, key, public, description }
    }
}

impl Signer for Pkcs11Signer {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }
    fn describe(&self) -> String {
        self.description.clone()
    }
    fn sign(&mut self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        let map = |e: CkError| match e {
            CkError::Pkcs11(RvError::UserNotLoggedIn, _) => SignerError::Device("the token is no longer logged in (removed and re-inserted?)".into()),
            CkError::Pkcs11(RvError::DeviceRemoved | RvError::TokenNotPresent | RvError::SessionHandleInvalid, _) => {
                SignerError::NotFound(format!("{} was removed", self.description))
            }
            e => dev("C_Sign", e),
        };
        match self.public.algorithm() {
            Algorithm::Ed25519 => self.session.sign(&Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)), self.key, payload).map_err(map),
            Algorithm::EcdsaP256 => {
                let digest = sha2::Sha256::digest(payload);
                let raw = self.session.sign(&Mechanism::Ecdsa, self.key, &digest).map_err(map)?;
                raw_ecdsa_to_der(Algorithm::EcdsaP256, &raw)
            }
            Algorithm::EcdsaP384 => {
                let digest = sha2::Sha384::digest(payload);
                let raw = self.session.sign(&Mechanism::Ecdsa, self.key, &digest).map_err(map)?;
                raw_ecdsa_to_der(Algorithm::EcdsaP384, &raw)
            }
            verify_only => Err(SignerError::Device(format!("{} keys are verify-only in this tool", verify_only.name()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octet_string_unwrap() {
        let point = [0x04u8; 65];
        let mut wrapped = vec![0x04, 65];
        wrapped.extend_from_slice(&point);
        assert_eq!(unwrap_octet_string(&wrapped), Some(&point[..]));
        let mut long = vec![0x04, 0x81, 97];
        long.extend_from_slice(&[1u8; 97]);
        assert_eq!(unwrap_octet_string(&long).map(|s| s.len()), Some(97));
        assert_eq!(unwrap_octet_string(&point), None, "bare point: length byte does not fit");
    }

    #[test]
    fn bare_and_wrapped_points_decode() {
        let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let sec1 = sk.verifying_key().to_sec1_point(false);
        let bare = sec1.as_bytes().to_vec();
        let mut wrapped = vec![0x04, bare.len() as u8];
        wrapped.extend_from_slice(&bare);
        for b in [&bare, &wrapped] {
            let k = decode_point(Algorithm::EcdsaP256, b).unwrap();
            assert_eq!(k.to_key(), PublicKey::P256(*sk.verifying_key()).to_key());
        }
        let ed = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
        let mut w = vec![0x04, 32];
        w.extend_from_slice(ed.verifying_key().as_bytes());
        assert!(matches!(decode_point(Algorithm::Ed25519, &w), Some(PublicKey::Ed25519(_))));
        assert!(matches!(decode_point(Algorithm::Ed25519, ed.verifying_key().as_bytes()), Some(PublicKey::Ed25519(_))));
    }

    #[test]
    fn deadly_states_are_refused() {
        let ok = TokenState { initialized: true, user_pin_initialized: true, ..Default::default() };
        assert!(ok.refusal().is_none());
        for (name, st) in [
            ("user final try", TokenState { user_pin_final_try: true, ..ok.clone() }),
            ("user locked", TokenState { user_pin_locked: true, ..ok.clone() }),
            ("so final try", TokenState { so_pin_final_try: true, ..ok.clone() }),
            ("so locked", TokenState { so_pin_locked: true, ..ok.clone() }),
            ("error state", TokenState { error_state: true, ..ok.clone() }),
        ] {
            assert!(st.refusal().is_some(), "{name}");
        }
        let blank = TokenState { so_pin_locked: true, so_pin_to_be_changed: true, ..Default::default() };
        assert!(blank.refusal().is_none(), "SoftHSM's blank token reports SO PIN locked");
        assert!(TokenState { error_state: true, ..blank.clone() }.refusal().is_some());
        assert!(TokenState { so_pin_locked: false, so_pin_final_try: true, ..blank }.refusal().is_some());
        let low = TokenState { user_pin_count_low: true, ..ok };
        assert!(low.refusal().is_none());
        assert_eq!(low.warnings().len(), 1);
    }

    #[test]
    fn raw_to_der() {
        let sk = p384::ecdsa::SigningKey::from_slice(&[3u8; 48]).unwrap();
        use signature::Signer as _;
        let s: p384::ecdsa::Signature = sk.sign(b"m");
        let der = raw_ecdsa_to_der(Algorithm::EcdsaP384, &s.to_bytes()).unwrap();
        assert_eq!(PublicKey::P384(*sk.verifying_key()).verify(b"m", &der), crate::tuf::keys::SigCheck::Valid);
        assert!(raw_ecdsa_to_der(Algorithm::EcdsaP256, &[0u8; 63]).is_err());
    }
}
