//! Every built-in template yields a valid plan, and a whole ceremony on it (driven through
//! the library with the unattended UI and software tokens) exports metadata that verifies —
//! including PEP 458's `bins` role with 16384 hashed bins.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use tuf_ceremony::ceremony::engine::{Engine, Options};
use tuf_ceremony::ceremony::plan::Plan;
use tuf_ceremony::ceremony::templates::{TEMPLATES, TemplateParams, online_keys, render};
use tuf_ceremony::ceremony::tokens::Tokens;
use tuf_ceremony::ceremony::ui::{AutoUi, SecretKind};
use tuf_ceremony::signer::Signer;
use tuf_ceremony::signer::software::SoftwareKey;
use tuf_ceremony::tuf::keys::Algorithm;
use tuf_ceremony::tuf::metadata::{Metadata, Mode};
use tuf_ceremony::tuf::verify::{check_delegated, check_top_level};
use zeroize::Zeroizing;

fn make_plan(dir: &Path, template: &str, holders: &[&str]) -> Plan {
    std::fs::create_dir_all(dir.join("online")).unwrap();
    for f in online_keys(template) {
        let k = SoftwareKey::generate(Algorithm::Ed25519, *f).unwrap();
        std::fs::write(dir.join("online").join(f), k.public_key().to_pem()).unwrap();
    }
    let hs: Vec<(&str, &str)> = holders.iter().map(|h| (*h, "software")).collect();
    let text = render(template, &TemplateParams { id: &format!("t-{template}"), keyholders: &hs, online_dir: "online" }).unwrap();
    std::fs::write(dir.join("plan.toml"), text).unwrap();
    Plan::load(&dir.join("plan.toml"), chrono::Utc::now()).unwrap_or_else(|e| panic!("{template}: {e}"))
}

fn run_ceremony(dir: &Path, plan: &Plan) {
    let mut tokens = Tokens::new(dir.join("tokens"));
    let mut ui = AutoUi { secrets: |_: &str, _: &SecretKind| Some(Zeroizing::new("test passphrase".to_string())), quiet: true };
    std::fs::create_dir_all(dir.join("media")).unwrap();
    let opts = Options { media: dir.join("media"), rehearsal: true, ..Default::default() };
    let mut engine = Engine::open(plan, &dir.join("work"), &mut ui, &mut tokens, opts).unwrap();
    engine.run().unwrap_or_else(|e| panic!("{}: {e}", plan.id));
}

fn load(p: &Path) -> Metadata {
    Metadata::from_bytes(&std::fs::read(p).unwrap(), Mode::Strict).unwrap()
}

#[test]
fn every_template_runs_to_verified_output() {
    for template in TEMPLATES {
        let tmp = tempfile::tempdir().unwrap();
        let holders: &[&str] = if template == "minimal" { &["solo-a", "solo-b"] } else { &["a", "b", "c"] };
        let plan = make_plan(tmp.path(), template, holders);
        run_ceremony(tmp.path(), &plan);
        let md_dir = tmp.path().join("media").join(&plan.id).join("metadata");
        let root = load(&md_dir.join("1.root.json"));
        let r = root.signed.as_root().unwrap();
        assert!(check_top_level(r, "root", &root, &root.signed_bytes(), false).unwrap().met(), "{template} root");
        let targets = load(&md_dir.join("1.targets.json"));
        assert!(check_top_level(r, "targets", &targets, &targets.signed_bytes(), false).unwrap().met(), "{template} targets");
        let t = targets.signed.as_targets().unwrap();
        let mut offline: BTreeMap<&str, Metadata> = BTreeMap::new();
        for role in t.delegated_roles() {
            let p = md_dir.join(format!("1.{}.json", role.name));
            if p.exists() {
                let md = load(&p);
                assert!(check_delegated(t, &role.name, &md, &md.signed_bytes(), false).unwrap().met(), "{template} {}", role.name);
                offline.insert(Box::leak(role.name.clone().into_boxed_str()), md);
            }
        }
        match template {
            "pep458" => {
                let bins = offline.get("bins").expect("pep458 writes bins");
                let b = bins.signed.as_targets().unwrap();
                assert_eq!(b.delegated_roles().len(), 16384);
                assert_eq!(b.delegated_roles()[0].name, "0000-0003");
                assert_eq!(b.delegated_roles()[16383].name, "fffc-ffff");
                assert_eq!(t.delegated_roles().iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), vec!["bins"]);
            }
            "pep480" => {
                assert!(offline.contains_key("claimed"));
                assert_eq!(t.delegated_roles().iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), vec!["claimed", "recently-claimed", "unclaimed"]);
            }
            _ => assert!(t.delegated_roles().is_empty()),
        }
    }
}

#[test]
fn pep458_bins_role_is_accepted_by_python_tuf() {
    let Some(py) = support::python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let plan = make_plan(tmp.path(), "pep458", &["a", "b", "c"]);
    run_ceremony(tmp.path(), &plan);
    let md_dir = tmp.path().join("media").join(&plan.id).join("metadata");
    let script = r#"
import sys
from tuf.api.metadata import Metadata
d = sys.argv[1]
root = Metadata.from_file(f"{d}/1.root.json"); root.verify_delegate("root", root)
t = Metadata.from_file(f"{d}/1.targets.json"); root.verify_delegate("targets", t)
b = Metadata.from_file(f"{d}/1.bins.json"); t.verify_delegate("bins", b)
roles = b.signed.delegations.roles
assert len(roles) == 16384, len(roles)
r = b.signed.delegations.get_roles_for_target("django/Django-5.0.tar.gz")
print("bins ok", next(r)[0])
"#;
    let out = std::process::Command::new(&py).args(["-c", script]).arg(&md_dir).output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
