//! `tuf-ceremony plan new` and `plan check`.

use crate::ceremony::plan::{Plan, describe};
use crate::ceremony::templates::{TEMPLATES, TemplateParams, render};
use crate::cli::{PlanCheckArgs, PlanNewArgs};
use crate::error::{Error, Result, exit};
use crate::util::fsx;
use crate::util::text::for_terminal;

pub fn new(a: &PlanNewArgs) -> Result<i32> {
    if !TEMPLATES.contains(&a.template.as_str()) {
        return Err(Error::Usage(format!("unknown template {:?} (one of {})", a.template, TEMPLATES.join(", "))));
    }
    let names: Vec<String> = a.keyholders.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if names.is_empty() {
        return Err(Error::Usage("--keyholders needs at least one name".into()));
    }
    let holders: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), a.token.as_str())).collect();
    let text = render(&a.template, &TemplateParams { id: &a.id, keyholders: &holders, online_dir: &a.online_keys }).expect("template checked above");
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
        None => print!("{}", for_terminal(&text)),
    }
    Ok(exit::OK)
}

pub fn check(a: &PlanCheckArgs) -> Result<i32> {
    let now = crate::cmd::parse_at(a.at.as_deref())?;
    let plan = Plan::load(&a.plan, now).map_err(|e| Error::input(&a.plan, e))?;
    print!("{}", for_terminal(&describe(&plan, now)));
    Ok(exit::OK)
}
