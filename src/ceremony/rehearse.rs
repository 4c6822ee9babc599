//! A full rehearsal on the built-in default plan (PEP 480, three keyholders, threshold 2)
//! with software tokens kept outside the media.
//!
//! Layout of the rehearsal folder:
//! `plan.toml`, `online-keys/` (public keys, plus REHEARSAL-ONLY encrypted private keys so
//! the output can be extended into a full repository), `tokens/<keyholder>/` (simulated
//! tokens), `work/` (state, drafts, transcript) and `media/` (the export).

use super::plan::Plan;
use super::templates::{TemplateParams, online_keys, render};
use crate::signer::Signer;
use crate::signer::software::SoftwareKey;
use crate::tuf::keys::Algorithm;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub const KEYHOLDERS: [&str; 3] = ["alice", "bob", "carol"];
pub const TEMPLATE: &str = "pep480";

/// The file holding a simulated token's passphrase in unattended rehearsals.
pub fn passphrase_file(tokens: &Path, holder: &str) -> PathBuf {
    tokens.join(holder).join("REHEARSAL-PASSPHRASE")
}

/// Paths inside a rehearsal folder.
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    pub fn plan(&self) -> PathBuf {
        self.root.join("plan.toml")
    }
    pub fn tokens(&self) -> PathBuf {
        self.root.join("tokens")
    }
    pub fn work(&self) -> PathBuf {
        self.root.join("work")
    }
    pub fn media(&self) -> PathBuf {
        self.root.join("media")
    }
    pub fn online(&self) -> PathBuf {
        self.root.join("online-keys")
    }
}

fn random_passphrase() -> Result<Zeroizing<String>, String> {
    let mut b = Zeroizing::new([0u8; 16]);
    getrandom::fill(b.as_mut()).map_err(|e| e.to_string())?;
    Ok(Zeroizing::new(crate::tuf::keys::hex(b.as_ref())))
}

/// Creates the rehearsal folder (plan, online keys, media folder) unless it exists.
/// With `unattended`, each keyholder's token passphrase is generated and stored in the
/// token folder (rehearsals only: a real token's PIN is never stored).
pub fn prepare(layout: &Layout, ceremony_id: &str, unattended: bool) -> Result<(), String> {
    if layout.plan().exists() {
        return Ok(());
    }
    crate::util::fsx::ensure_named_dir(&layout.root).map_err(|e| format!("{}: {e}", layout.root.display()))?;
    for d in [layout.online(), layout.tokens(), layout.media()] {
        crate::util::fsx::ensure_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let online_pass = random_passphrase()?;
    crate::util::fsx::create_atomic(&layout.online().join("REHEARSAL-PASSPHRASE"), online_pass.as_bytes(), true).map_err(|e| e.to_string())?;
    for f in online_keys(TEMPLATE) {
        let k = SoftwareKey::generate(Algorithm::Ed25519, *f).map_err(|e| e.to_string())?;
        let pub_path = layout.online().join(f);
        crate::util::fsx::create_atomic(&pub_path, k.public_key().to_pem().as_bytes(), false).map_err(|e| format!("{}: {e}", pub_path.display()))?;
        let pem = k.to_encrypted_pem(online_pass.as_bytes()).map_err(|e| e.to_string())?;
        let priv_path = layout.online().join(f.replace(".pub", ".key.pem"));
        crate::util::fsx::create_atomic(&priv_path, pem.as_bytes(), true).map_err(|e| format!("{}: {e}", priv_path.display()))?;
    }
    if unattended {
        for h in KEYHOLDERS {
            let p = passphrase_file(&layout.tokens(), h);
            let dir = layout.tokens().join(h);
            crate::util::fsx::ensure_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            crate::util::fsx::create_atomic(&p, random_passphrase()?.as_bytes(), true).map_err(|e| format!("{}: {e}", p.display()))?;
        }
    }
    let holders: Vec<(&str, &str)> = KEYHOLDERS.iter().map(|h| (*h, "software")).collect();
    let plan = render(TEMPLATE, &TemplateParams { id: ceremony_id, keyholders: &holders, online_dir: "online-keys" }).expect("built-in template");
    crate::util::fsx::create_atomic(&layout.plan(), plan.as_bytes(), false).map_err(|e| format!("{}: {e}", layout.plan().display()))?;
    Ok(())
}

/// The file that marks a rehearsal of the operator's own plan (`rehearse --plan`).
pub const OWN_PLAN_MARKER: &str = "REHEARSAL-OF";

/// `rehearse --plan PLAN`: the operator's own plan, every keyholder's token replaced by a
/// simulated (software) token in the rehearsal's `tokens/`, the ceremony id prefixed with
/// `rehearsal-` so its media folder cannot be mistaken for the real one. The plan's own
/// files (online keys) are used where they are. A root rotation cannot be rehearsed: the
/// previous root's keys are on the real tokens.
pub fn own_plan(layout: &Layout, plan_path: &Path, unattended: bool, now: chrono::DateTime<chrono::Utc>) -> Result<Plan, String> {
    let mut plan = Plan::load(plan_path, now).map_err(|e| format!("{}: {e}", plan_path.display()))?;
    if plan.previous_root.is_some() {
        return Err(format!(
            "{}: a root rotation cannot be rehearsed with simulated tokens (the previous root's keys are on the real ones)",
            plan_path.display()
        ));
    }
    // A simulated token cannot hold a key made in an earlier ceremony: its private key is
    // on the keyholder's device, and a rehearsal must not make a new key in its place.
    let earlier: Vec<String> = plan
        .keyholders
        .iter()
        .filter_map(|k| {
            k.existing.as_ref().map(|e| format!("{} (keyid {}…, on {})", k.name, crate::util::text::prefix(&e.keyid, 16), e.whereabouts(k.serial.as_deref())))
        })
        .collect();
    if !earlier.is_empty() {
        return Err(format!(
            "{}: a rehearsal cannot sign with keys from an earlier ceremony: their private keys are on the keyholders' devices, and simulated tokens would hold other keys. Keys from the plan: {}. Rehearse a plan whose keys are made in the ceremony, or build this plan's unsigned drafts with `tuf-ceremony plan drafts` and have the keyholders sign apart",
            plan_path.display(),
            earlier.join("; ")
        ));
    }
    let marker = layout.root.join(OWN_PLAN_MARKER);
    let says = format!("{}\nplan digest {}\n", plan_path.display(), plan.digest);
    crate::util::fsx::ensure_named_dir(&layout.root).map_err(|e| format!("{}: {e}", layout.root.display()))?;
    match crate::util::fsx::read_text_in(&marker, crate::util::fsx::Kind::Evidence) {
        Ok(had) if had != says => {
            return Err(format!(
                "{} rehearses another plan ({}); use another folder",
                layout.root.display(),
                crate::util::text::one_line(had.lines().next().unwrap_or(""))
            ));
        }
        Ok(_) => {}
        Err(_) => crate::util::fsx::create_atomic(&marker, says.as_bytes(), false).map_err(|e| format!("{}: {e}", marker.display()))?,
    }
    for d in [layout.tokens(), layout.media()] {
        crate::util::fsx::ensure_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    for k in plan.keyholders.iter_mut() {
        k.token = super::plan::TokenKind::Software;
        k.serial = None;
        k.module = None;
        k.token_label = None;
        k.yubihsm = None;
        if unattended {
            let p = passphrase_file(&layout.tokens(), &k.name);
            if !crate::util::fsx::occupied(&p) {
                let dir = layout.tokens().join(&k.name);
                crate::util::fsx::ensure_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                crate::util::fsx::create_atomic(&p, random_passphrase()?.as_bytes(), true).map_err(|e| format!("{}: {e}", p.display()))?;
            }
        }
    }
    plan.id = format!("rehearsal-{}", plan.id);
    Ok(plan)
}

/// Loads the rehearsal plan.
pub fn load_plan(layout: &Layout, now: chrono::DateTime<chrono::Utc>) -> Result<Plan, String> {
    Plan::load(&layout.plan(), now).map_err(|e| format!("{}: {e}", layout.plan().display()))
}
