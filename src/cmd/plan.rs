//! `tuf-ceremony plan new`, `plan check` and `plan drafts`.

use crate::ceremony::plan::{Plan, describe};
use crate::ceremony::plan_report;
use crate::ceremony::templates::{EARLIER_KEY_TEMPLATES, TEMPLATES, TemplateParams, earlier_keys, render, render_earlier};
use crate::cli::{PlanCheckArgs, PlanDraftsArgs, PlanNewArgs};
use crate::error::{Error, Result, exit};
use crate::util::fsx;
use crate::util::text::{for_terminal, one_line};

pub fn new(a: &PlanNewArgs) -> Result<i32> {
    if EARLIER_KEY_TEMPLATES.contains(&a.template.as_str()) {
        let text = from_earlier_keys(a)?;
        return write_plan(a, &text);
    }
    if !TEMPLATES.contains(&a.template.as_str()) {
        let all: Vec<&str> = TEMPLATES.iter().chain(EARLIER_KEY_TEMPLATES.iter()).copied().collect();
        return Err(Error::Usage(format!("unknown template {:?} (one of {})", one_line(&a.template), all.join(", "))));
    }
    if a.keys.is_some() {
        return Err(Error::Usage(format!("--keys is for a template from an earlier ceremony's keys ({})", EARLIER_KEY_TEMPLATES.join(", "))));
    }
    let names: Vec<String> = a.keyholders.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if names.is_empty() {
        return Err(Error::Usage("--keyholders needs at least one name".into()));
    }
    let holders: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), a.token.as_str())).collect();
    let text = render(&a.template, &TemplateParams { id: &a.id, keyholders: &holders, online_dir: &a.online_keys }).expect("template checked above");
    write_plan(a, &text)
}

/// Writes the plan to `--out` (never over a file) or standard output.
fn write_plan(a: &PlanNewArgs, text: &str) -> Result<i32> {
    match &a.out {
        Some(p) => {
            if p.exists() {
                return Err(Error::Refused(format!("{} already exists; refusing to overwrite it", p.display())));
            }
            fsx::write_new(p, text.as_bytes(), false)?;
            eprintln!(
                "Wrote {}. Put the online public keys in {}/, review the plan, then run `tuf-ceremony plan check {}`.",
                p.display(),
                a.online_keys,
                p.display()
            );
        }
        None => outp!("{}", for_terminal(text)),
    }
    Ok(exit::OK)
}

/// `--template psf2020 --keys DIR`: a plan naming the keys `tuf-ceremony attest` finds in
/// DIR, with paths relative to where the plan goes.
fn from_earlier_keys(a: &PlanNewArgs) -> Result<String> {
    let dir = a.keys.as_deref().ok_or_else(|| Error::Usage(format!("--template {}: --keys DIR (the ceremony's key products) is required", a.template)))?;
    if !std::fs::metadata(dir).map_err(|e| Error::io(dir, e))?.is_dir() {
        return Err(Error::input(dir, "not a folder of key products"));
    }
    let found = crate::attest::discover::products(dir).map_err(|e| Error::input(dir, e))?;
    let stores = crate::attest::discover::Stores::bundled().map_err(|e| Error::Refused(format!("the bundled Yubico roots do not load: {e}")))?;
    let report = crate::attest::products::audit(&found, dir, &stores, chrono::Utc::now());
    let keys: Vec<_> = earlier_keys(&report).map_err(|w| Error::input(dir, w))?.into_iter().filter(|k| k.role == "root" || k.role == "targets").collect();
    for role in ["root", "targets"] {
        if !keys.iter().any(|k| k.role == role) {
            return Err(Error::input(dir, format!("holds no <serial>_{role}_pubkey key file")));
        }
    }
    let plan_dir = match a.out.as_deref().and_then(|p| p.parent()) {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let written = relative(dir, &plan_dir).map_err(|e| Error::io(dir, e))?;
    let written = written.to_str().ok_or_else(|| Error::input(dir, "its path is not UTF-8 text"))?.trim_end_matches('/').to_string();
    Ok(render_earlier(&a.template, &a.id, &a.online_keys, &written, &keys).expect("template checked by the caller"))
}

/// `target` as seen from the folder `from` (both must exist): relative when they share a
/// root, else absolute.
fn relative(target: &std::path::Path, from: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    let (t, f) = (target.canonicalize()?, from.canonicalize()?);
    let common = t.components().zip(f.components()).take_while(|(a, b)| a == b).count();
    if common <= 1 {
        return Ok(t);
    }
    let mut out: std::path::PathBuf = f.components().skip(common).map(|_| "..").collect();
    out.extend(t.components().skip(common));
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    Ok(out)
}

/// `plan drafts PLAN --out DIR`: the unsigned drafts of a plan whose keys are all from an
/// earlier ceremony, written as a folder that appears complete or not at all.
pub fn drafts(a: &PlanDraftsArgs) -> Result<i32> {
    let now = crate::cmd::parse_at(a.at.as_deref())?;
    let plan = Plan::load(&a.plan, now).map_err(|e| Error::input(&a.plan, e))?;
    let files = crate::ceremony::build::drafts_from_plan(&plan, now).map_err(|w| Error::input(&a.plan, w))?;
    let name = a.out.file_name().ok_or_else(|| Error::Usage(format!("--out {}: name a folder to create", a.out.display())))?.to_string_lossy().into_owned();
    let parent = match a.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let items: Vec<crate::media::Item> = files.iter().map(|(rel, bytes)| crate::media::Item { rel: rel.clone(), bytes: bytes.clone() }).collect();
    let refused = |e: crate::media::MediaError| Error::Refused(e.to_string());
    let stage = crate::media::begin_export(&parent, &name).map_err(refused)?;
    if let Err(e) = crate::media::write_into(&stage, &items).and_then(|_| crate::media::finish_export(&parent, &name, &stage)) {
        crate::media::abandon_export(&stage);
        return Err(refused(e));
    }
    outln!("Unsigned drafts of {} (ceremony time {}), nothing signed:", one_line(&plan.id), now.format("%Y-%m-%dT%H:%M:%SZ"));
    for (rel, bytes) in files.iter().filter(|(r, _)| r.starts_with("metadata/")) {
        outln!("  {}  canonical sha256 {}", one_line(rel), crate::tuf::keys::sha256_hex(&canonical_of(bytes)));
    }
    outln!(
        "In {}. Next: tuf-ceremony sign-request {}/metadata/1.root.json --role root --delegator {}/metadata/1.root.json --media STICK --clients {}",
        a.out.display(),
        a.out.display(),
        a.out.display(),
        plan.clients.names().join(",")
    );
    Ok(exit::OK)
}

/// The canonical bytes of a draft this command just wrote.
fn canonical_of(bytes: &[u8]) -> Vec<u8> {
    crate::tuf::metadata::Metadata::from_bytes(bytes, crate::tuf::metadata::Mode::Strict).map(|m| m.signed_bytes()).unwrap_or_default()
}

/// `plan check PLAN [--json]`: exit 0 for a valid plan; 2 when it cannot be read or does
/// not validate (an input error, as for every command that reads a plan). With `--json` a
/// plan that was read but does not validate still prints its report, naming the field.
pub fn check(a: &PlanCheckArgs) -> Result<i32> {
    let now = crate::cmd::parse_at(a.at.as_deref())?;
    let bytes = Plan::read(&a.plan).map_err(|e| Error::input(&a.plan, e))?;
    let plan = match Plan::parse(&bytes, &Plan::base_dir_of(&a.plan), now) {
        Ok(p) => p,
        Err(e) => {
            if a.json {
                // The input error below is the one to report, whatever became of this.
                let _ = super::print_report(true, || plan_report::invalid_json(&a.plan, &bytes, now, &e), String::new);
            }
            return Err(Error::input(&a.plan, e));
        }
    };
    super::print_report(a.json, || plan_report::to_json(&plan, &a.plan, now), || describe(&plan, now))?;
    Ok(exit::OK)
}
