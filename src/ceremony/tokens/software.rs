//! Software tokens: folders holding an encrypted PKCS#8 key and a serial. For rehearsals
//! and tests; a real ceremony uses hardware.

use super::{Peek, TokenBackend, TokenError, TokenKey};
use crate::ceremony::plan::Keyholder;
use crate::ceremony::ui::{SecretKind, Ui};
use crate::signer::software::SoftwareKey;
use crate::signer::{Signer, SignerError};
use std::path::{Path, PathBuf};

/// Software tokens: `DIR/<keyholder>/key.pem` (encrypted PKCS#8), `public.json` (the TUF
/// public key, readable without the passphrase, as a hardware token's public object is)
/// and `serial`. Meant for rehearsals and tests; a real ceremony uses hardware.
pub struct SoftwareTokens {
    pub dir: PathBuf,
}

/// The public key file in a software token's folder.
const PUBLIC: &str = "public.json";

/// How many wrong passphrases in a row before giving up on a software token.
const MAX_TRIES: u32 = 5;

impl SoftwareTokens {
    fn token_dir(&self, holder: &str) -> PathBuf {
        self.dir.join(holder)
    }
    fn read(path: &Path) -> Result<String, TokenError> {
        crate::util::fsx::read_text_in(path, crate::util::fsx::Kind::Key).map_err(|e| TokenError::File { path: path.to_path_buf(), what: e.to_string() })
    }
    fn serial(&self, holder: &str) -> Option<String> {
        Self::read(&self.token_dir(holder).join("serial")).ok().map(|s| s.trim().to_string())
    }
    fn describe(holder: &str, serial: Option<&str>) -> String {
        format!("software token {holder} (serial {})", serial.unwrap_or("?"))
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
            None
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
            let public_path = dir.join(PUBLIC);
            let public = crate::tuf::encode::pretty(&key.public_key().to_key());
            // Replaced, not created: a crash before key.pem below leaves a stale one.
            crate::util::fsx::replace_atomic(&public_path, &public).map_err(|e| TokenError::File { path: public_path.clone(), what: e.to_string() })?;
            crate::util::fsx::write_new(&key_path, pem.as_bytes(), true).map_err(|e| TokenError::File { path: key_path.clone(), what: e.to_string() })?;
            Some(key)
        };
        let serial = self.serial(&holder.name);
        if let (Some(want), Some(have)) = (&holder.serial, &serial)
            && want != have
        {
            return Err(TokenError::Refused(format!("{}'s token has serial {have}, but the plan expects {want}: wrong token?", holder.name)));
        }
        // The key just made is in memory; an existing one is read from its public file
        // (a token made before public files existed is unlocked once instead).
        let public = match &generated {
            Some(key) => key.public_key().clone(),
            None => match self.peek(holder, ui)? {
                Peek::Key(tk) => tk.public,
                _ => self.unlock(holder, ui)?.public_key().clone(),
            },
        };
        Ok(TokenKey { public, description: Self::describe(&holder.name, serial.as_deref()), serial, attestation: Vec::new(), generated: generated.is_some() })
    }

    fn peek(&mut self, holder: &Keyholder, _ui: &mut dyn Ui) -> Result<Peek, TokenError> {
        let dir = self.token_dir(&holder.name);
        if !crate::util::fsx::occupied(&dir.join("key.pem")) {
            return Ok(Peek::Empty(format!("there is no software token key in {}", dir.join("key.pem").display())));
        }
        let path = dir.join(PUBLIC);
        if !crate::util::fsx::occupied(&path) {
            return Ok(Peek::Unknown(format!("{} has no {PUBLIC} (made by an older version): its key is known only once unlocked", dir.display())));
        }
        let text = Self::read(&path)?;
        let bad = |what: String| TokenError::File { path: path.clone(), what };
        let mut r = crate::tuf::json::Reader::new(text.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let key = crate::tuf::metadata::read_key(&mut r).map_err(|e| bad(e.to_string()))?;
        let public = crate::tuf::keys::PublicKey::from_key(&key, false).map_err(|e| bad(e.to_string()))?;
        let serial = self.serial(&holder.name);
        Ok(Peek::Key(TokenKey { public, description: Self::describe(&holder.name, serial.as_deref()), serial, attestation: Vec::new(), generated: false }))
    }

    fn open(&mut self, holder: &Keyholder, expected: &TokenKey, ui: &mut dyn Ui) -> Result<Box<dyn Signer>, TokenError> {
        let key = self.unlock(holder, ui)?;
        if key.public_key().to_key() != expected.public.to_key() {
            return Err(TokenError::Refused(format!("{}'s token holds a different key than the one recorded in this ceremony: wrong token?", holder.name)));
        }
        Ok(Box::new(key))
    }
}
