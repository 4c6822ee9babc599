//! Export to the media (staged, renamed into place, read back), recognising this run's own
//! export after a crash right after its rename, SUMMARY.txt, and the final read-out.

use super::*;

impl Engine<'_> {
    pub(super) fn export(&mut self) -> Result<()> {
        let files = self.verify(false)?;
        let mut items: Vec<Item> = files.into_iter().map(|(name, bytes)| Item { rel: format!("metadata/{name}"), bytes }).collect();
        for (holder, rec) in &self.state.keys {
            items.push(Item { rel: format!("keys/{holder}/{holder}.key.json"), bytes: rec.key_json.as_bytes().to_vec() });
            items.push(Item { rel: format!("keys/{holder}/{holder}.pub.pem"), bytes: rec.pem.as_bytes().to_vec() });
            for (name, pem) in &rec.attestation {
                items.push(Item { rel: format!("keys/{holder}/{name}"), bytes: pem.as_bytes().to_vec() });
            }
        }
        let media_id = self.media_id();
        if self.recover_export(&media_id)? {
            return Ok(());
        }
        for name in ["CHANGES.txt", "CHANGES.json"] {
            let changes = self.work.root.join(name);
            if fsx::occupied(&changes) {
                let bytes = fsx::read_in(&changes, Kind::Evidence).map_err(|e| CeremonyError::File { path: changes.clone(), what: e.to_string() })?;
                items.push(Item { rel: name.into(), bytes });
            }
        }
        media::check_media(&self.opts.media, items.iter().map(|i| i.bytes.len() as u64 * 2 + 65536).sum())?;
        let stage = media::begin_export(&self.opts.media, &media_id)?;
        let attempt = self.export_into(&stage, items);
        let placed = attempt.and_then(|(written, head, sums)| {
            let fin = media::finish_export(&self.opts.media, &media_id, &stage)?;
            if self.opts.crash_after.as_deref() == Some("export.renamed") {
                // Test hook: a power loss right after the rename, before it is recorded.
                std::process::abort();
            }
            let checked = media::check_in_place(&fin, &written).and_then(|()| media::check_in_place(&fin, std::slice::from_ref(&sums)));
            if let Err(e) = checked {
                media::set_aside(&self.opts.media, &media_id);
                return Err(e.into());
            }
            Ok((written, head, sums))
        });
        let (written, head, sums) = match placed {
            Ok(r) => r,
            Err(e) => {
                media::abandon_export(&stage);
                let _ = self.record("export.failed", fields! { "media" => self.opts.media.display().to_string(), "error" => e.to_string() });
                return Err(e);
            }
        };
        let dir = self.opts.media.join(&media_id);
        self.record("export.done", fields! { "media" => dir.display().to_string(), "transcript_head" => head.clone() })?;
        self.ui.show(&format!("Exported {} files to {}\n  SHA256SUMS sha256 {}", written.len() + 1, dir.display(), sums.sha256));
        self.state.exported.push(format!("{}|{head}", dir.display()));
        Ok(())
    }

    /// An export that was renamed into place but not recorded (a crash right after the
    /// rename): the folder of this name on this stick is this run's own only when its
    /// transcript is the start of this run's transcript, every file that transcript records
    /// as exported has the recorded sha256, and SUMMARY.txt and SHA256SUMS are exactly what
    /// this run makes from them. Then it is recorded as done and kept; anything else there
    /// is refused by `begin_export` as before.
    pub(super) fn recover_export(&mut self, media_id: &str) -> Result<bool> {
        let fin = self.opts.media.join(media_id);
        if !fsx::occupied(&fin) {
            return Ok(false);
        }
        let Ok(theirs) = fsx::read_in(&fin.join("transcript.jsonl"), Kind::Transcript) else { return Ok(false) };
        let Ok(v) = crate::ceremony::transcript::verify(&theirs) else { return Ok(false) };
        let path = self.transcript.path().to_path_buf();
        let ours = fsx::read_in(&path, Kind::Transcript).map_err(|e| CeremonyError::File { path, what: e.to_string() })?;
        if !ours.starts_with(&theirs) {
            return Ok(false);
        }
        // The files the exported transcript records, from its last export attempt.
        let mut written: Vec<Exported> = Vec::new();
        for l in &v.lines {
            match l.get("kind").and_then(|k| k.as_str()) {
                Some("export.failed") => written.clear(),
                Some("export.file") => {
                    let get = |k: &str| l.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
                    let len = l.get("length").and_then(|x| x.as_u64()).unwrap_or(0);
                    written.push(Exported { rel: get("path"), sha256: get("sha256"), len });
                }
                _ => {}
            }
        }
        if written.is_empty() || media::check_in_place(&fin, &written).is_err() {
            return Ok(false);
        }
        written.push(Exported { rel: "transcript.jsonl".into(), sha256: sha256_hex(&theirs), len: theirs.len() as u64 });
        let summary = self.summary(&written, &v.head, &v.lines)?;
        if fsx::read_in(&fin.join("SUMMARY.txt"), Kind::Evidence).ok().as_deref() != Some(summary.as_bytes()) {
            return Ok(false);
        }
        written.push(Exported { rel: "SUMMARY.txt".into(), sha256: sha256_hex(summary.as_bytes()), len: summary.len() as u64 });
        if fsx::read_in(&fin.join("SHA256SUMS"), Kind::Evidence).ok() != Some(media::sha256sums(&written)) {
            return Ok(false);
        }
        let head = v.head;
        let dir = fin.display().to_string();
        self.ui.show(&format!("{dir} is this run's own export, interrupted after it was written; it verifies, and is kept."));
        self.record("export.recovered", fields! { "media" => dir.clone(), "transcript_head" => head.clone() })?;
        self.record("export.done", fields! { "media" => dir.clone(), "transcript_head" => head.clone() })?;
        self.state.exported.push(format!("{dir}|{head}"));
        Ok(true)
    }

    /// Writes the export into the staging folder: metadata and keys, then the transcript
    /// (which records them), SUMMARY.txt and SHA256SUMS. Returns the files and the
    /// transcript head as exported, and SHA256SUMS itself.
    pub(super) fn export_into(&mut self, stage: &Path, items: Vec<Item>) -> Result<(Vec<Exported>, String, Exported)> {
        let mut written = media::write_into(stage, &items)?;
        for f in &written {
            self.record("export.file", fields! { "path" => f.rel.clone(), "sha256" => f.sha256.clone(), "length" => f.len })?;
        }
        let transcript = fsx::read_in(self.transcript.path(), Kind::Transcript)
            .map_err(|e| CeremonyError::File { path: self.transcript.path().to_path_buf(), what: e.to_string() })?;
        let head = self.transcript.head().to_string();
        let lines = crate::ceremony::transcript::verify(&transcript)?.lines;
        written.extend(media::write_into(stage, &[Item { rel: "transcript.jsonl".into(), bytes: transcript }])?);
        let summary = self.summary(&written, &head, &lines)?;
        written.extend(media::write_into(stage, &[Item { rel: "SUMMARY.txt".into(), bytes: summary.into_bytes() }])?);
        let sums = media::sha256sums(&written);
        let sums = media::write_into(stage, &[Item { rel: "SHA256SUMS".into(), bytes: sums }])?.remove(0);
        Ok((written, head, sums))
    }

    /// SUMMARY.txt, from the exported files and the exported transcript's entries.
    pub(super) fn summary(&self, files: &[Exported], head: &str, lines: &[serde_json::Map<String, serde_json::Value>]) -> Result<String> {
        use std::fmt::Write;
        let plan = self.plan;
        let mut s = String::new();
        let _ =
            writeln!(s, "TUF key ceremony {}{}", self.media_id(), if plan.description.is_empty() { String::new() } else { format!(" — {}", plan.description) });
        let _ = writeln!(s, "Ceremony time (confirmed clock, UTC): {}", self.state.ceremony_time.as_deref().unwrap_or("?"));
        let _ = writeln!(s, "Plan digest:    {}", plan.digest);
        let _ = writeln!(s, "{}", pgp(&plan.digest, "  "));
        let _ = writeln!(s, "Plan sha256:    {}\n  (the plan file alone)", plan.sha256);
        for f in &plan.files {
            let _ = writeln!(s, "  {} = {}\n    {}", f.field, one_line(&f.written.display().to_string()), f.sha256);
        }
        let _ = writeln!(s, "Program sha256: {}", self.state.binary_sha256.as_deref().unwrap_or("?"));
        let _ = writeln!(s, "{}", pgp(self.state.binary_sha256.as_deref().unwrap_or(""), "  "));
        let _ = writeln!(s, "\nPrograms that ran this ceremony (every start and resume):");
        for (time, kind, sha, confirmed) in programs(lines) {
            let note = if confirmed.is_empty() { String::new() } else { format!("\n    confirmed by the operator: {}", one_line(&confirmed)) };
            let _ = writeln!(s, "  {} {:<6} {}{note}", one_line(&time), kind, one_line(&sha));
        }
        let absent = self.absent_signers();
        if !absent.is_empty() {
            let _ =
                writeln!(s, "\nAbsent keyholders: {}\n  Their signatures can be added later by signing apart (tuf-ceremony sign-request).", absent.join(", "));
        }
        let _ = writeln!(s, "\nTranscript head (read aloud at the end of the ceremony):\n  {head}\n{}", pgp(head, "  "));
        let _ = writeln!(s, "\nKeyholders and keys:");
        for (holder, rec) in &self.state.keys {
            let _ = writeln!(
                s,
                "  {holder}\n    keyid  {}\n    serial {}\n    token  {}",
                one_line(&rec.keyid),
                one_line(rec.serial.as_deref().unwrap_or("-")),
                one_line(&rec.token)
            );
        }
        let _ = writeln!(s, "\nRoles:");
        let at = self.ceremony_time()?;
        let names: BTreeMap<String, String> = self.state.keys.iter().map(|(h, r)| (r.keyid.clone(), h.clone())).collect();
        for r in plan.offline_roles() {
            if !self.draft_roles().contains(&r.name) {
                continue;
            }
            let _ = writeln!(
                s,
                "  {:<18} threshold {} of {} ({}), expires {}",
                r.name,
                r.threshold,
                r.keyholders.len(),
                r.keyholders.join(", "),
                r.expiry.resolve(at).format("%Y-%m-%dT%H:%M:%SZ")
            );
        }
        let _ = writeln!(s, "  {:<18} online key {}", "snapshot", keyid(&plan.snapshot_key));
        let _ = writeln!(s, "  {:<18} online key {}", "timestamp", keyid(&plan.timestamp_key));
        let _ = writeln!(s, "\nFiles (sha256 and its PGP words):");
        for f in files {
            let _ = writeln!(s, "  {}  ({} bytes)\n    {}", f.rel, f.len, f.sha256);
        }
        let _ = writeln!(s, "\nSignatures by keyid:");
        for role in self.draft_roles() {
            let md = self.load_draft(&role)?;
            let who: Vec<String> = md
                .signatures
                .iter()
                .filter(|x| !x.sig.is_empty())
                .map(|x| names.get(&x.keyid).cloned().unwrap_or_else(|| one_line(crate::util::text::prefix(&x.keyid, 16)).into_owned()))
                .collect();
            let _ = writeln!(s, "  {:<18} {}", one_line(&role), who.join(", "));
        }
        Ok(s)
    }

    /// Keyholders whose key signs a role written here but who did not sign it.
    pub(super) fn absent_signers(&self) -> Vec<String> {
        let names: BTreeMap<&str, &str> = self.state.keys.iter().map(|(h, r)| (r.keyid.as_str(), h.as_str())).collect();
        let mut signed = std::collections::BTreeSet::new();
        for role in self.draft_roles() {
            if let Ok(md) = self.load_draft(&role) {
                signed.extend(md.signatures.iter().filter(|x| !x.sig.is_empty()).filter_map(|x| names.get(x.keyid.as_str()).map(|h| h.to_string())));
            }
        }
        presence::involved(self.plan, &self.opts.job).into_iter().filter(|k| !signed.contains(k)).collect()
    }

    pub(super) fn finish(&mut self) -> Result<()> {
        let last = self.state.exported.last().cloned().unwrap_or_default();
        let (dir, head) = last.split_once('|').unwrap_or(("?", ""));
        self.ui.show(&format!(
            "The ceremony output is in {}.\nTranscript head, to read aloud and write on the paper record:\n  {head}\n{}",
            one_line(dir),
            pgp(head, "  ")
        ));
        self.ui.wait(say::READOUT)?;
        Ok(())
    }
}

/// Every start and resume in `lines`: (time, "start"/"resume", program sha256, why a
/// differing program was confirmed).
pub(super) fn programs(lines: &[serde_json::Map<String, serde_json::Value>]) -> Vec<(String, &'static str, String, String)> {
    let s = |l: &serde_json::Map<String, serde_json::Value>, k: &str| l.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    lines
        .iter()
        .filter_map(|l| match l.get("kind").and_then(|k| k.as_str()) {
            Some("ceremony.start") => Some((s(l, "time"), "start", s(l, "binary_sha256"), s(l, "binary_confirmed"))),
            Some("ceremony.resume") => Some((s(l, "time"), "resume", s(l, "binary_sha256"), s(l, "binary_confirmed"))),
            _ => None,
        })
        .map(|(t, k, h, c)| (t, k, if h.is_empty() { "(not recorded)".to_string() } else { h }, c))
        .collect()
}

pub(super) fn read_sums(dir: &Path) -> Vec<Exported> {
    let Ok(text) = fsx::read_text_in(&dir.join("SHA256SUMS"), Kind::Evidence) else { return Vec::new() };
    text.lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(h, p)| Exported { rel: p.to_string(), sha256: h.to_string(), len: std::fs::symlink_metadata(dir.join(p)).map(|m| m.len()).unwrap_or(0) })
        .collect()
}
