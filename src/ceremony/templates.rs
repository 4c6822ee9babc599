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
            "[[keyholder]]\nname = {name:?}\ntoken = {token:?}          # software | yubikey | pkcs11\nalgorithm = \"ecdsa-p256\"\n# serial = \"\"          # the serial written on the token's bag, if known\n\n"
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
