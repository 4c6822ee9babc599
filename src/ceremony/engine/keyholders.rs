//! The keyholder steps: provisioning a key (a ceremony only, with an intent entry before
//! anything is done to the token) and signing, where the inserted token's key is read
//! before any PIN or passphrase is asked.

use super::*;

impl Engine<'_> {
    pub(super) fn keys(&mut self, holder_name: &str) -> Result<()> {
        let plan = self.plan;
        let holder = plan.keyholder(holder_name).ok_or_else(|| CeremonyError::Refused(format!("no keyholder {holder_name}")))?;
        if let Some(existing) = &holder.existing {
            return self.record_plan_key(holder, existing);
        }
        let serial_note = holder.serial.as_ref().map(|s| format!(" (the bag should say serial {s})")).unwrap_or_default();
        self.ui.wait(&format!("Keyholder {holder_name} ({} token{serial_note}): {}", holder.token.as_str(), say::INSERT_NEW))?;
        // Intent first: what the token held before anything was done to it, so a crash
        // between generating a key and recording it is not taken for "found existing".
        let before = match self.tokens.peek(holder, self.ui) {
            Ok(Peek::Key(tk)) => format!("key {}", keyid(&tk.public.to_key())),
            Ok(Peek::Empty(_)) => "empty".to_string(),
            Ok(Peek::Unknown(_)) | Err(_) => "unknown".to_string(),
        };
        let interrupted = self.interrupted_generation(holder_name);
        self.record("key.intent", fields! { "keyholder" => holder_name, "token_before" => before })?;
        let mut tk = self.tokens.provision(holder, self.ui)?;
        if self.opts.crash_after.as_deref() == Some(format!("key.provisioned:{holder_name}").as_str()) {
            // Test hook: a power loss after the token made its key, before it is recorded.
            std::process::abort();
        }
        let key = tk.public.to_key();
        let id = keyid(&key);
        let how = match (&interrupted, tk.generated) {
            (_, true) => "generated".to_string(),
            (Some(at), false) => {
                // The token was empty when an earlier attempt began and holds a key now.
                tk.generated = true;
                format!("generated in the attempt interrupted at {}", one_line(at))
            }
            (None, false) => "found existing".to_string(),
        };
        self.ui.show(&format!(
            "{}: {how} key {}\n  keyid  {id}\n  serial {}",
            holder_name,
            tk.public.algorithm().name(),
            one_line(tk.serial.as_deref().unwrap_or("(none)"))
        ));
        if let Some(s) = &tk.serial
            && !self.ui.confirm(&format!("{}: does {} match the serial written on {holder_name}'s bag?", say::SERIAL, one_line(s)))?
        {
            return Err(CeremonyError::Refused(format!("serial {} does not match {holder_name}'s bag: stop and investigate before going on", one_line(s))));
        }
        self.record_key(holder_name, &tk, &key, &id, Default::default())?;
        self.ui.wait(&format!("{holder_name}: {}", say::REMOVE))?;
        Ok(())
    }

    /// A key from an earlier ceremony: recorded from the plan, with no token and nothing
    /// generated. The transcript names the file it came from and its attestation.
    fn record_plan_key(&mut self, holder: &crate::ceremony::plan::Keyholder, e: &crate::ceremony::plan::ExistingKey) -> Result<()> {
        let name = holder.name.as_str();
        let whereabouts = e.whereabouts(holder.serial.as_deref());
        self.ui.show(&format!(
            "{name}: key from an earlier ceremony, on {whereabouts}; never generated here, no token needed now\n  keyid  {}\n  file   {} (sha256 {})\n  {}",
            e.keyid,
            one_line(&e.file.written.display().to_string()),
            e.file.sha256,
            e.attested()
        ));
        // Attestation files as PEM under names `verify` finds on the media (keys/<holder>/).
        let attestation: Vec<(String, Vec<u8>)> = match (e.device, e.attestation_files.as_slice()) {
            (_, []) => Vec::new(),
            (Some(crate::ceremony::plan::DeviceKind::YubiKey), [k, d]) => vec![
                (crate::attest::key_cert_file_name(name), crate::attest::pem("CERTIFICATE", &der_of(k)?)),
                (crate::attest::device_cert_file_name(name), crate::attest::pem("CERTIFICATE", &der_of(d)?)),
            ],
            (_, files) => files.iter().map(|f| Ok((pem_name(&f.written), crate::attest::pem("CERTIFICATE", &der_of(f)?)))).collect::<Result<_>>()?,
        };
        let tk = TokenKey {
            public: e.public.clone(),
            serial: holder.serial.clone(),
            description: format!("{whereabouts} (key from the plan, {})", e.file.field),
            attestation,
            generated: false,
        };
        let files: Vec<serde_json::Value> =
            e.attestation_files.iter().map(|f| serde_json::json!({"field": f.field, "path": f.written.display().to_string(), "sha256": f.sha256})).collect();
        let extra = fields! {
            "source" => "plan",
            "key_file" => e.file.written.display().to_string(),
            "key_file_sha256" => e.file.sha256.clone(),
            "key_file_encoding" => e.encoding,
            "device" => e.device.map(|d| d.as_str()).unwrap_or(""),
            "attested" => e.attestation.is_some(),
            "attestation_files" => files,
        };
        self.record_key(name, &tk, &e.key, &e.keyid, extra)
    }

    /// When an earlier attempt at `holder`'s keys step found the token empty and never
    /// recorded a key: the time it began.
    pub(super) fn interrupted_generation(&self, holder: &str) -> Option<String> {
        let mut began = None;
        for l in self.transcript.opened() {
            let kind = l.get("kind").and_then(|k| k.as_str());
            if l.get("keyholder").and_then(|k| k.as_str()) != Some(holder) {
                continue;
            }
            match kind {
                Some("key.intent") if l.get("token_before").and_then(|t| t.as_str()) == Some("empty") => {
                    began = began.or_else(|| l.get("time").and_then(|t| t.as_str()).map(String::from))
                }
                Some("key") => began = None,
                _ => {}
            }
        }
        began
    }

    pub(super) fn record_key(&mut self, holder: &str, tk: &TokenKey, key: &Key, id: &str, extra: serde_json::Map<String, serde_json::Value>) -> Result<()> {
        let from_plan = extra.contains_key("source");
        // One key, one device per keyholder: the same key for two would silently make a
        // 2-of-3 role 2-of-2 (the metadata lists a key once); a previous keyholder's token
        // still plugged in is the likely cause.
        for (other, rec) in self.state.keys.iter().filter(|(h, _)| h.as_str() != holder) {
            if rec.keyid == id {
                return Err(CeremonyError::Refused(format!(
                    "{holder}'s token holds the key already recorded for {other} (keyid {}…): take out {other}'s token, insert {holder}'s, and run the same command again",
                    crate::util::text::prefix(id, 16)
                )));
            }
            // One device may hold several keys from an earlier ceremony (the PSF's: a root and a targets key each).
            if let (Some(a), Some(b), false) = (&rec.serial, &tk.serial, from_plan)
                && a == b
            {
                return Err(CeremonyError::Refused(format!(
                    "{holder}'s token has serial {b}, already recorded for {other}: take out {other}'s token, insert {holder}'s, and run the same command again"
                )));
            }
        }
        let rec = KeyRecord {
            key_json: String::from_utf8_lossy(&pretty(key)).into_owned(),
            keyid: id.to_string(),
            serial: tk.serial.clone(),
            token: tk.description.clone(),
            pem: tk.public.to_pem(),
            attestation: tk.attestation.iter().map(|(n, b)| (n.clone(), String::from_utf8_lossy(b).into_owned())).collect(),
        };
        let mut f = fields! {
            "keyholder" => holder,
            "keyid" => id,
            "algorithm" => tk.public.algorithm().name(),
            "public_key" => rec.pem.clone(),
            "serial" => tk.serial.clone().unwrap_or_default(),
            "token" => tk.description.clone(),
            "generated" => tk.generated,
            "attestation_sha256" => crate::ceremony::state::attestation_digest(&rec.attestation),
        };
        f.extend(extra);
        self.record("key", f)?;
        self.state.keys.insert(holder.to_string(), rec);
        self.work.save(&self.state)?;
        Ok(())
    }

    /// The roles `holder` signs in this run: by the plan's keys for a ceremony, by the
    /// roles the plan names them for (and the current metadata lists their key) for an update.
    pub(super) fn roles_to_sign(&self, holder: &str, keyid: Option<&str>) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for role in self.draft_roles() {
            let may_sign = match &self.opts.job {
                Job::Ceremony => signers_of(self.plan, &role, &self.keys_map()?).iter().any(|h| h == holder),
                Job::Update(_) => {
                    let named = self.plan.offline_roles().iter().any(|r| r.name == role && r.keyholders.iter().any(|k| k == holder));
                    named && keyid.is_none_or(|id| self.current_keyids(&role).iter().any(|k| k == id))
                }
            };
            if !may_sign {
                continue;
            }
            let done = keyid.is_some_and(|id| self.load_draft(&role).is_ok_and(|md| md.signatures.iter().any(|s| s.keyid == id && !s.sig.is_empty())));
            if !done {
                out.push(role);
            }
        }
        Ok(out)
    }

    /// Which key the inserted token holds, read before any PIN or passphrase is asked:
    /// the key recorded for `holder`, or in an update (which records keys as they sign)
    /// a key the current metadata lists for the roles `holder` signs. A token without the
    /// expected key is refused here, with nothing asked and nothing changed on it.
    pub(super) fn identify(&mut self, holder: &crate::ceremony::plan::Keyholder, todo: &[String]) -> Result<crate::ceremony::state::KeyRecord> {
        let name = holder.name.as_str();
        let seen = self.tokens.peek(holder, self.ui)?;
        let wrong = |what: String| CeremonyError::Refused(format!("{what}: wrong token? Nothing was asked and nothing on the token was changed."));
        if let Some(rec) = self.state.keys.get(name).cloned() {
            return match seen {
                Peek::Key(tk) if keyid(&tk.public.to_key()) != rec.keyid => Err(wrong(format!(
                    "{name}'s token holds key {}…, not the key {}… recorded for {name}",
                    crate::util::text::prefix(&keyid(&tk.public.to_key()), 16),
                    crate::util::text::prefix(&rec.keyid, 16)
                ))),
                Peek::Empty(at) => Err(wrong(format!(
                    "{name}'s token holds no key ({}); {name}'s key {}… was recorded",
                    one_line(&at),
                    crate::util::text::prefix(&rec.keyid, 16)
                ))),
                _ => Ok(rec),
            };
        }
        let tk = match seen {
            Peek::Key(tk) => tk,
            Peek::Empty(at) => return Err(wrong(format!("{name}'s token holds no key ({}), and an update never generates one", one_line(&at)))),
            Peek::Unknown(why) => {
                return Err(CeremonyError::Refused(format!(
                    "{name}'s token does not show its public key without a PIN ({}); an update opens a token only for a key it has identified first. Nothing was asked.",
                    one_line(&why)
                )));
            }
        };
        let key = tk.public.to_key();
        let id = keyid(&key);
        if !todo.iter().any(|r| self.current_keyids(r).contains(&id)) {
            return Err(wrong(format!(
                "{name}'s token holds key {}…, which is not a key of {} in the current metadata",
                crate::util::text::prefix(&id, 16),
                todo.join(" or ")
            )));
        }
        self.ui.show(&format!("{name}'s token: {}\n  keyid {id}, a key of {}", one_line(&tk.description), todo.join(", ")));
        self.record_key(name, &tk, &key, &id, Default::default())?;
        Ok(self.state.keys[name].clone())
    }

    pub(super) fn sign(&mut self, holder_name: &str) -> Result<()> {
        let holder = self.plan.keyholder(holder_name).ok_or_else(|| CeremonyError::Refused(format!("no keyholder {holder_name}")))?.clone();
        let known = self.state.keys.get(holder_name).map(|r| r.keyid.clone());
        if matches!(self.opts.job, Job::Ceremony) && known.is_none() {
            return Err(CeremonyError::Refused(format!("no key recorded for {holder_name}")));
        }
        let todo = self.roles_to_sign(holder_name, known.as_deref())?;
        if todo.is_empty() {
            self.ui.show(&format!("{holder_name} has nothing (left) to sign."));
            return Ok(());
        }
        self.ui.wait(&format!("Keyholder {holder_name}: {} ({}). You will sign: {}.", say::INSERT, holder.token.as_str(), todo.join(", ")))?;
        let rec = self.identify(&holder, &todo)?;
        let todo = if known.is_none() { self.roles_to_sign(holder_name, Some(&rec.keyid))? } else { todo };
        let key = self.keys_map()?[holder_name].clone();
        let public = PublicKey::from_key(&key, false).map_err(|e| CeremonyError::Refused(e.to_string()))?;
        let expected =
            TokenKey { public: public.clone(), serial: rec.serial.clone(), description: rec.token.clone(), attestation: Vec::new(), generated: false };
        let built = self.built_hashes()?;
        let mut signer = self.tokens.open(&holder, &expected, self.ui)?;
        for role in &todo {
            let mut md = self.load_draft(role)?;
            let payload = md.signed_bytes();
            let hash = sha256_hex(&payload);
            // Only what the build step made, verified and recorded is signed: a draft
            // changed in the working directory since then is refused, not signed.
            if built.get(role.as_str()) != Some(&hash) {
                return Err(CeremonyError::Refused(format!(
                    "{}: its canonical sha256 is {hash}, but the transcript records {} for the build of {role}: the draft changed after it was built; nothing was signed",
                    self.work.draft(role).display(),
                    built.get(role.as_str()).map(String::as_str).unwrap_or("no build")
                )));
            }
            self.ui.show(&format!("Signing {role} (canonical sha256 {})…", &hash[..16]));
            let outcome = sign_payload(&mut md, &payload, signer.as_mut()).map_err(TokenError::from)?;
            if outcome == SignOutcome::Added {
                let path = self.work.draft(role);
                replace_atomic(&path, &md.to_pretty_bytes()).map_err(|e| CeremonyError::File { path, what: e.to_string() })?;
            }
            let sig = md.signatures.iter().find(|s| s.keyid == rec.keyid).map(|s| s.sig.clone()).unwrap_or_default();
            self.ui
                .show(&format!("  ✓ {role} signed by {holder_name} (keyid {}…), verified against the recorded key", crate::util::text::prefix(&rec.keyid, 16)));
            self.record(
                "signature",
                fields! {
                    "keyholder" => holder_name,
                    "role" => role.clone(),
                    "keyid" => rec.keyid.clone(),
                    "canonical_sha256" => sha256_hex(&payload),
                    "sig" => sig,
                },
            )?;
            if self.opts.crash_after.as_deref() == Some(format!("signature:{holder_name}:{role}").as_str()) {
                std::process::abort();
            }
        }
        // Close the token before asking the keyholder to pull it out.
        drop(signer);
        self.ui.wait(&format!("{holder_name}: {}", say::REMOVE))?;
        Ok(())
    }
}

/// The DER certificate in a plan's attestation file (PEM or DER).
fn der_of(f: &crate::ceremony::plan::PlanFile) -> Result<Vec<u8>> {
    crate::attest::der_certificates(&f.bytes)
        .ok()
        .and_then(|mut v| (!v.is_empty()).then(|| v.remove(0)))
        .ok_or_else(|| CeremonyError::Refused(format!("{}: not a certificate", f.written.display())))
}

/// `0013200460_root_attestation.der` → `0013200460_root_attestation.pem`.
fn pem_name(written: &std::path::Path) -> String {
    let stem = written.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "attestation".into());
    format!("{stem}.pem")
}
