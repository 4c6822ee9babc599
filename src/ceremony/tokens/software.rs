//! Software tokens: folders holding an encrypted PKCS#8 key and a serial. For rehearsals
//! and tests; a real ceremony uses hardware.

use super::{TokenBackend, TokenError, TokenKey};
use crate::ceremony::plan::Keyholder;
use crate::ceremony::ui::{SecretKind, Ui};
use crate::signer::software::SoftwareKey;
use crate::signer::{Signer, SignerError};
use std::path::{Path, PathBuf};

/// Software tokens: `DIR/<keyholder>/key.pem` (encrypted PKCS#8) and `serial`. Meant for
/// rehearsals and tests; a real ceremony uses hardware.
pub struct SoftwareTokens {
    pub dir: PathBuf,
}

/// How many wrong passphrases in a row before giving up on a software token.
const MAX_TRIES: u32 = 5;

impl SoftwareTokens {
    fn token_dir(&self, holder: &str) -> PathBuf {
        self.dir.join(holder)
    }
    fn read(path: &Path) -> Result<String, TokenError> {
        crate::util::fsx::read_text_in(path, crate::util::fsx::Kind::Key).map_err(|e| TokenError::File { path: path.to_path_buf(), what: e.to_string() })
    }
    fn unlock(&self, holder: &Keyholder, ui: &mut dyn Ui) -> Result<SoftwareKey, TokenError> {
        let path = self.token_dir(&holder.name).join("key.pem");
        let pem = zeroize::Zeroizing::new(Self::read(&path)?);
        for attempt in 1..=MAX_TRIES {
            let pass = ui.secret(&holder.name, SecretKind::Unlock, &format!("Passphrase for {}'s software token:", holder.name))?;
            match SoftwareKey::from_encrypted_pem(&pem, pass.as_bytes(), holder.name.clone()) {
                Ok(k) => return Ok(k),
                Err(SignerError::WrongPin { .. }) if attempt < MAX_TRIES => ui.show("Wrong passphrase; try again."),
                Err(e) => return Err(e.into()),
            }
        }
        Err(TokenError::Refused(format!("too many wrong passphrases for {}'s token", holder.name)))
    }
}

impl TokenBackend for SoftwareTokens {
    fn provision(&mut self, holder: &Keyholder, ui: &mut dyn Ui) -> Result<TokenKey, TokenError> {
        let dir = self.token_dir(&holder.name);
        let key_path = dir.join("key.pem");
        let serial_path = dir.join("serial");
        let generated = if crate::util::fsx::occupied(&key_path) {
            ui.show(&format!("{}'s token already holds a key; keeping it (keys are never regenerated).", holder.name));
            false
        } else {
            crate::util::fsx::ensure_dir(&dir).map_err(|e| TokenError::File { path: dir.clone(), what: e.to_string() })?;
            let pass = loop {
                let a = ui.secret(&holder.name, SecretKind::New, &format!("New passphrase for {}'s token (8+ characters):", holder.name))?;
                if a.chars().count() < 8 {
                    ui.show("Too short: at least 8 characters.");
                    continue;
                }
                let b = ui.secret(&holder.name, SecretKind::New, "Repeat the passphrase:")?;
                if *a == *b {
                    break a;
                }
                ui.show("The two entries differ; try again.");
            };
            let key = SoftwareKey::generate(holder.algorithm, holder.name.clone())?;
            let pem = key.to_encrypted_pem(pass.as_bytes())?;
            let mut serial = [0u8; 4];
            getrandom::fill(&mut serial).map_err(|e| TokenError::Refused(format!("random generator: {e}")))?;
            let serial = format!("{:08}", u32::from_be_bytes(serial) % 100_000_000);
            crate::util::fsx::write_new(&serial_path, serial.as_bytes(), false)
                .map_err(|e| TokenError::File { path: serial_path.clone(), what: e.to_string() })?;
            crate::util::fsx::write_new(&key_path, pem.as_bytes(), true).map_err(|e| TokenError::File { path: key_path.clone(), what: e.to_string() })?;
            true
        };
        let serial = Self::read(&serial_path).ok().map(|s| s.trim().to_string());
        if let (Some(want), Some(have)) = (&holder.serial, &serial)
            && want != have
        {
            return Err(TokenError::Refused(format!("{}'s token has serial {have}, but the plan expects {want}: wrong token?", holder.name)));
        }
        let key = self.unlock(holder, ui)?;
        Ok(TokenKey {
            public: key.public_key().clone(),
            description: format!("software token {} (serial {})", holder.name, serial.as_deref().unwrap_or("?")),
            serial,
            attestation: Vec::new(),
            generated,
        })
    }

    fn open(&mut self, holder: &Keyholder, expected: &TokenKey, ui: &mut dyn Ui) -> Result<Box<dyn Signer>, TokenError> {
        let key = self.unlock(holder, ui)?;
        if key.public_key().to_key() != expected.public.to_key() {
            return Err(TokenError::Refused(format!("{}'s token holds a different key than the one recorded in this ceremony: wrong token?", holder.name)));
        }
        Ok(Box::new(key))
    }
}
