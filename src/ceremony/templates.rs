//! Plan templates (`tuf-ceremony plan new --template pep458|pep480|minimal`).
//!
//! Defaults follow the PEPs: root t>1 of n and one year; targets one year; PEP 480's
//! `claimed` 3–6 months (we use 180 days); PEP 458's `bins` one year with 16384 bins.
//!
//! PEP 480 layout choice (the PEP is silent on `terminating`): `claimed` is searched first
//! and is *non*-terminating with paths `*/*`, while every project delegation inside it is
//! terminating. A claimed project therefore never falls through to the online roles, and a
//! project not yet claimed is still found in `recently-claimed` and then `unclaimed`. Making
//! `claimed` itself terminating on `*/*` would hide both online roles from every client.

/// Names of the built-in templates.
pub const TEMPLATES: [&str; 3] = ["pep458", "pep480", "minimal"];

/// Parameters a template is filled with.
pub struct TemplateParams<'a> {
    pub id: &'a str,
    pub keyholders: &'a [(&'a str, &'a str)], // (name, token kind)
    /// Directory (relative to the plan) holding the online public keys.
    pub online_dir: &'a str,
}

/// The online public key files a template refers to, relative to `online_dir`.
pub fn online_keys(template: &str) -> &'static [&'static str] {
    match template {
        "pep458" => &["snapshot.pub", "timestamp.pub", "bin-n.pub"],
        "pep480" => &["snapshot.pub", "timestamp.pub", "recently-claimed.pub", "unclaimed.pub"],
        _ => &["snapshot.pub", "timestamp.pub"],
    }
}

pub fn render(template: &str, p: &TemplateParams) -> Option<String> {
    if !TEMPLATES.contains(&template) {
        return None;
    }
    let n = p.keyholders.len();
    let root_t = if n >= 3 { 2.max(n / 2 + 1) } else { n };
    let names: Vec<String> = p.keyholders.iter().map(|(k, _)| format!("{k:?}")).collect();
    let all = names.join(", ");
    let two: Vec<String> = names.iter().take(2).cloned().collect();
    let mut s = String::new();
    s.push_str(&format!(
        "# tuf-ceremony plan ({template} template). Review every line, then run\n\
         #   tuf-ceremony plan check THIS_FILE\n\
         # and compare the printed sha256 with the one the participants approved.\n\n\
         [ceremony]\nid = {:?}\ndescription = \"\"\n\
         # Every client listed must accept the output byte for byte.\n\
         clients = [\"python-tuf\", \"go-tuf\", \"tough\"]\nconsistent_snapshot = true\n\n",
        p.id
    ));
    for (name, token) in p.keyholders {
        s.push_str(&format!(
            "[[keyholder]]\nname = {name:?}\ntoken = {token:?}          # software | yubikey | pkcs11 | yubihsm2\nalgorithm = \"ecdsa-p256\"\n# serial = \"\"          # the serial written on the token's bag, if known\n\n"
        ));
    }
    s.push_str(&format!(
        "# PEP 458: root is (t, n) with t > 1, expiring after one year.\n\
         [roles.root]\nkeyholders = [{all}]\nthreshold = {root_t}\nexpires_days = 365\nsigning_window_days = 60\n\n"
    ));
    let targets_holders = if template == "pep458" && n >= 2 { two.join(", ") } else { all.clone() };
    let targets_t = if template == "pep458" && n >= 2 { 2 } else { root_t };
    s.push_str(&format!(
        "[roles.targets]\nkeyholders = [{targets_holders}]\nthreshold = {targets_t}\nexpires_days = 365\nsigning_window_days = 60\n\n\
         # Online roles: only their public keys enter the ceremony.\n\
         [roles.snapshot]\nkey = \"{0}/snapshot.pub\"\n\n[roles.timestamp]\nkey = \"{0}/timestamp.pub\"\n",
        p.online_dir
    ));
    match template {
        "pep458" => s.push_str(&format!(
            "\n# PEP 458: targets -> bins (offline, (2,2), one year) -> 16384 bin-n roles (online key).\n\
             [[delegation]]\nname = \"bins\"\ndelegator = \"targets\"\nkeyholders = [{}]\nthreshold = {}\nterminating = false\npaths = [\"*\", \"*/*\", \"*/*/*\"]\nexpires_days = 365\nsigning_window_days = 60\nbins = 16384\nbins_online_key = \"{}/bin-n.pub\"\n",
            two.join(", "),
            two.len(),
            p.online_dir
        )),
        "pep480" => s.push_str(&format!(
            "\n# PEP 480, searched in this order. claimed: offline, re-signed every few weeks, expiring\n\
             # after 3-6 months; its project delegations are terminating (see the tool's docs).\n\
             [[delegation]]\nname = \"claimed\"\ndelegator = \"targets\"\nkeyholders = [{all}]\nthreshold = {root_t}\nterminating = false\npaths = [\"*/*\"]\nexpires_days = 180\nsigning_window_days = 30\n\n\
             [[delegation]]\nname = \"recently-claimed\"\ndelegator = \"targets\"\nonline_key = \"{0}/recently-claimed.pub\"\nterminating = false\npaths = [\"*/*\"]\n\n\
             [[delegation]]\nname = \"unclaimed\"\ndelegator = \"targets\"\nonline_key = \"{0}/unclaimed.pub\"\nterminating = false\npaths = [\"*/*\"]\n",
            p.online_dir
        )),
        _ => {}
    }
    Some(s)
}

/// Templates that build from keys made in an earlier ceremony (`plan new --template psf2020 --keys DIR`).
pub const EARLIER_KEY_TEMPLATES: [&str; 1] = ["psf2020"];

/// A key of a products folder, as a `psf2020` plan names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlierKey {
    /// `yubihsm2-13200460-root`, `nitrokey-hsm-DENK0102947-targets`.
    pub name: String,
    /// The role the file name gives it (`root` in `S_root_pubkey.pem`).
    pub role: String,
    pub device: Option<&'static str>,
    pub serial: Option<String>,
    /// Relative to the products folder.
    pub file: String,
    /// `(key attestation, device certificate)`, relative to the products folder.
    pub attestation: Option<(String, String)>,
}

/// The keys of an audited products folder (`tuf-ceremony attest`'s reading of it): each
/// `<serial>_<role>_pubkey` key with the device and serial its attestation shows (YubiHSM 2),
/// or its file name suggests (a Nitrokey's `DENK…`). Refused when the audit finds an error.
pub fn earlier_keys(report: &crate::attest::products::ProductsReport) -> Result<Vec<EarlierKey>, String> {
    use crate::tuf::finding::Severity;
    if let Some(f) = report.findings.iter().find(|f| f.finding.severity == Severity::Error) {
        return Err(format!("the key products do not pass `tuf-ceremony attest`: {}", crate::util::text::one_line(&f.finding.to_string())));
    }
    let mut out = Vec::new();
    for k in &report.keys {
        let file = k.file().to_string();
        let name = file.rsplit('/').next().unwrap_or(&file);
        let role = name.split('.').next().and_then(|s| s.strip_suffix("_pubkey")).and_then(|s| s.split_once('_')).map(|(_, r)| r.to_string());
        let Some(role) = role else {
            return Err(format!("{file}: not named <serial>_<role>_pubkey as the PSF's products are"));
        };
        let (device, serial, attestation) = match (report.attestation(k), report.entry(k)) {
            (Some(a), Some(e)) if k.attested => {
                (Some(a.device.name()), a.serial.map(|s| s.to_string()).or(k.named_serial.clone()), e.device_file.clone().map(|d| (e.file.clone(), d)))
            }
            _ => (k.device_hint(), k.named_serial.clone(), None),
        };
        let name = format!("{}-{}-{role}", device.unwrap_or("key"), serial.as_deref().unwrap_or("unknown"));
        out.push(EarlierKey { name, role, device, serial, file, attestation });
    }
    out.sort_by(|a, b| (a.role != "root", &a.name).cmp(&(b.role != "root", &b.name)));
    Ok(out)
}

/// The `psf2020` plan: root and targets from the keys of the PSF's 2020 ceremony, for the
/// clients that read P-384 (python-tuf, go-tuf; tough does not). `keys_dir` is the products
/// folder as the plan writes it (relative to the plan).
///
/// Thresholds: the PSF's runbook and ceremony README name none. Each role gets a strict
/// majority of its keys (4 of 6): two disjoint groups of devices can never both sign, two
/// lost devices leave the role signable, and with three YubiHSM 2 and three Nitrokey HSM
/// every valid set spans both vendors, so a flaw in one vendor's devices (YubiHSM 2
/// firmware 2.1.2 is named by YSA-2024-03) is not enough to sign alone.
pub fn render_earlier(template: &str, id: &str, online_dir: &str, keys_dir: &str, keys: &[EarlierKey]) -> Option<String> {
    if !EARLIER_KEY_TEMPLATES.contains(&template) {
        return None;
    }
    let q = |s: &str| format!("{s:?}");
    let path = |f: &str| q(&format!("{keys_dir}/{f}"));
    let mut s = format!(
        "# tuf-ceremony plan (psf2020 template): root and targets from the keys of the PSF's\n\
         # 2020-10-30 ceremony, read from {keys_dir}. Review every line, then run\n\
         #   tuf-ceremony plan check THIS_FILE\n\
         # No key is generated: each keyholder's key is on its device. Build the unsigned drafts\n\
         # with `tuf-ceremony plan drafts THIS_FILE --out DIR` and have the devices sign apart.\n\n\
         [ceremony]\nid = {}\ndescription = \"PyPI root and targets from the PSF's 2020 keys\"\n\
         # P-384 keys: tough cannot read them, so only python-tuf and go-tuf are required.\n\
         clients = [\"python-tuf\", \"go-tuf\"]\nconsistent_snapshot = true\n\n",
        q(id)
    );
    for k in keys {
        s.push_str(&format!("[[keyholder]]\nname = {}\n", q(&k.name)));
        if let Some(d) = k.device {
            s.push_str(&format!("device = {}\n", q(d)));
        }
        if let Some(serial) = &k.serial {
            s.push_str(&format!("serial = {}\n", q(serial)));
        }
        s.push_str(&format!("key = {}\n", path(&k.file)));
        match &k.attestation {
            Some((a, d)) => s.push_str(&format!("attestation = [{}, {}]\n", path(a), path(d))),
            None => s.push_str("# no attestation: nothing shows this key was generated on its device\n"),
        }
        s.push_str("# token = \"none\": no back end here for this device; it signs apart\n\n");
    }
    for role in ["root", "targets"] {
        let names: Vec<String> = keys.iter().filter(|k| k.role == role).map(|k| q(&k.name)).collect();
        let t = names.len() / 2 + 1;
        s.push_str(&format!(
            "# A strict majority: every valid set of signers spans both vendors' devices.\n\
             [roles.{role}]\nkeyholders = [{}]\nthreshold = {t}\nexpires_days = 365\nsigning_window_days = 60\n\n",
            names.join(", ")
        ));
    }
    s.push_str(&format!(
        "# Online roles: only their public keys enter the ceremony.\n\
         [roles.snapshot]\nkey = \"{online_dir}/snapshot.pub\"\n\n[roles.timestamp]\nkey = \"{online_dir}/timestamp.pub\"\n"
    ));
    Some(s)
}
