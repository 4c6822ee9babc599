//! Token back ends behind one interface: the engine asks a back end to make sure a
//! keyholder's token holds a key (generating one only if it has none) and to open it for
//! signing. Software tokens are folders with an encrypted PKCS#8 key; hardware back ends
//! (YubiKey PIV, PKCS#11, YubiHSM 2) plug in here without the steps changing.

pub mod pkcs11;
pub mod software;
pub mod yubihsm;
pub mod yubikey;

pub use software::SoftwareTokens;

use super::plan::{Keyholder, TokenKind};
use super::ui::{Ui, UiError};
use crate::signer::{Signer, SignerError};
use crate::tuf::keys::PublicKey;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error(transparent)]
    Signer(#[from] SignerError),
    #[error(transparent)]
    Ui(#[from] UiError),
    #[error("{0}")]
    Refused(String),
    #[error("{}: {what}", path.display())]
    File { path: PathBuf, what: String },
    #[error("{0} tokens are not supported by this build")]
    Unsupported(&'static str),
    /// A key from an earlier ceremony on a device with no back end here (`token = "none"`).
    #[error(
        "{holder}'s key is on {whereabouts}, which this tool has no back end for: nothing here can sign with it. {holder} signs apart with a tool that drives the device (sign-request, then import-signatures)"
    )]
    NoBackEnd { holder: String, whereabouts: String },
}

/// A key on a token, as the ceremony records it.
#[derive(Clone, Debug)]
pub struct TokenKey {
    pub public: PublicKey,
    pub serial: Option<String>,
    /// e.g. "software token alice (serial 12345678)".
    pub description: String,
    /// Attestation certificates (file name, PEM bytes) when the token has them.
    pub attestation: Vec<(String, Vec<u8>)>,
    /// Whether the key was generated now (false: an existing key was found and kept).
    pub generated: bool,
}

/// What a token shows without any PIN or passphrase.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant, reason = "made once per token insertion")]
pub enum Peek {
    /// The key it holds (read from a public object, a certificate or a public file).
    Key(TokenKey),
    /// It holds no key (where it looked, in words).
    Empty(String),
    /// It cannot tell without unlocking (why, in words).
    Unknown(String),
}

pub trait TokenBackend {
    /// Reads which key `holder`'s token holds without asking any secret and without
    /// changing the token: updates and signing apart check it before a PIN is asked.
    fn peek(&mut self, holder: &Keyholder, ui: &mut dyn Ui) -> Result<Peek, TokenError>;
    /// Makes sure `holder`'s token holds a key; never replaces an existing one.
    fn provision(&mut self, holder: &Keyholder, ui: &mut dyn Ui) -> Result<TokenKey, TokenError>;
    /// Opens `holder`'s token for signing with `expected`'s key.
    fn open(&mut self, holder: &Keyholder, expected: &TokenKey, ui: &mut dyn Ui) -> Result<Box<dyn Signer>, TokenError>;
}

/// The refusal for a keyholder whose device has no back end here.
pub fn no_back_end(holder: &Keyholder) -> TokenError {
    let whereabouts = holder.existing.as_ref().map(|e| e.whereabouts(holder.serial.as_deref())).unwrap_or_else(|| "a device".into());
    TokenError::NoBackEnd { holder: holder.name.clone(), whereabouts }
}

/// Dispatches to the back end for each keyholder's token kind.
pub struct Tokens {
    pub software: SoftwareTokens,
    /// YubiKey PIV back end, when this build has one.
    pub yubikey: Option<Box<dyn TokenBackend>>,
    /// PKCS#11 back end (one per ceremony; the module path comes from each keyholder).
    pub pkcs11: Option<Box<dyn TokenBackend>>,
    /// YubiHSM 2 back end (`None` only when its bundled attestation store cannot be read).
    pub yubihsm: Option<Box<dyn TokenBackend>>,
}

impl Tokens {
    /// Software tokens in `software_dir`, plus every hardware back end this build has.
    pub fn new(software_dir: PathBuf) -> Self {
        // Hardware back ends register here, one line each.
        Tokens {
            software: SoftwareTokens { dir: software_dir },
            yubikey: Some(Box::new(yubikey::YubiKeyTokens::new())),
            pkcs11: Some(Box::new(pkcs11::Pkcs11Tokens)),
            yubihsm: yubihsm::YubiHsmTokens::new().ok().map(|t| Box::new(t) as Box<dyn TokenBackend>),
        }
    }

    fn backend(&mut self, holder: &Keyholder) -> Result<&mut (dyn TokenBackend + 'static), TokenError> {
        match holder.token {
            TokenKind::Software => Ok(&mut self.software),
            TokenKind::YubiKey => self.yubikey.as_deref_mut().ok_or(TokenError::Unsupported("YubiKey")),
            TokenKind::Pkcs11 => self.pkcs11.as_deref_mut().ok_or(TokenError::Unsupported("PKCS#11")),
            TokenKind::YubiHsm2 => self.yubihsm.as_deref_mut().ok_or(TokenError::Unsupported("YubiHSM 2")),
            TokenKind::None => Err(no_back_end(holder)),
        }
    }
}

impl TokenBackend for Tokens {
    fn peek(&mut self, holder: &Keyholder, ui: &mut dyn Ui) -> Result<Peek, TokenError> {
        self.backend(holder)?.peek(holder, ui)
    }
    fn provision(&mut self, holder: &Keyholder, ui: &mut dyn Ui) -> Result<TokenKey, TokenError> {
        self.backend(holder)?.provision(holder, ui)
    }
    fn open(&mut self, holder: &Keyholder, expected: &TokenKey, ui: &mut dyn Ui) -> Result<Box<dyn Signer>, TokenError> {
        self.backend(holder)?.open(holder, expected, ui)
    }
}
