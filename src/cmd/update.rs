//! `tuf-ceremony resign` and `tuf-ceremony claim`: new versions of existing offline roles,
//! through the same guided steps as a ceremony (tokens, signing, verification, export).

use crate::ceremony::claims::{self, Batch};
use crate::ceremony::job::{Job, Update, read_current, updatable_role};
use crate::ceremony::plan::Plan;
use crate::ceremony::tokens::Tokens;
use crate::ceremony::ui::TerminalUi;
use crate::cli::{ClaimArgs, ResignArgs, UpdateArgs};
use crate::cmd::run::{crash_hook, drive, status};
use crate::error::{Error, Result};
use crate::tuf::metadata::{Metadata, Mode};
use crate::util::text::one_line;
use chrono::Utc;
use std::sync::Arc;

fn run_update(command: &'static str, common: &UpdateArgs, job: Update) -> Result<i32> {
    let plan = Plan::load(&common.plan, Utc::now()).map_err(|e| Error::input(&common.plan, e))?;
    let workdir = common.workdir.clone().unwrap_or_else(|| common.plan.with_file_name(format!("{}.work", job.media_folder(&plan.id))));
    if common.dry_run {
        // Before any token, question or file: a script never waits on a prompt here.
        let p = crate::ops::preview::preview(command, &plan, &job, &common.current, &workdir, common.keyholders.as_deref(), Utc::now())?;
        super::print_report(common.json, || p.to_json(), || p.to_text())?;
        return Ok(crate::error::exit::OK);
    }
    let job = Job::Update(job);
    if common.status {
        return status(&plan, &workdir, &job, None, false);
    }
    if let (Some(out), Job::Update(u)) = (&common.apart, &job) {
        return apart(&plan, u, &workdir, out, common);
    }
    let media = common.media.clone().ok_or_else(|| Error::Usage("--media DIR is required".into()))?;
    let mut tokens = Tokens::new(common.tokens.clone().unwrap_or_else(|| crate::ceremony::plan::default_tokens_dir(&common.plan)));
    let opts = crate::ceremony::engine::Options {
        media,
        allow_network: common.allow_network,
        rehearsal: false,
        crash_after: crash_hook(),
        job,
        current: None,
        present: common.keyholders.clone(),
        set_aside: common.set_aside,
    };
    drive(&plan, &workdir, &mut TerminalUi, &mut tokens, opts)
}

/// `--apart DIR`: the drafts as signature requests, one folder per role.
fn apart(plan: &Plan, u: &Update, workdir: &std::path::Path, out: &std::path::Path, common: &UpdateArgs) -> Result<i32> {
    use crate::ceremony::ui::Ui;
    if let Some((_, batch)) = &u.claims
        && !batch.rotate.is_empty()
    {
        let list: Vec<&str> = batch.rotate.iter().map(String::as_str).collect();
        if !TerminalUi
            .confirm_word(&format!("This replaces the developer keys of: {}.", list.join(", ")), "ROTATE")
            .map_err(|e| Error::Refused(e.to_string()))?
        {
            return Err(Error::Refused("key rotation not confirmed; nothing was written".into()));
        }
    }
    let now = Utc::now();
    outln!("Drafts built with this machine's clock, {} UTC (expiry dates count from it).", now.format("%Y-%m-%d %H:%M:%S"));
    let made = crate::ops::apart::write_requests(&crate::ops::apart::Apart { plan, update: u, workdir, out, current_dir: &common.current, now })?;
    for r in &made {
        outp!("\n{}", crate::util::text::for_terminal(&r.summary));
        outln!("\nRequest folder: {}", r.dir.display());
        outln!("Each keyholder runs: tuf-ceremony sign {} --keyholder NAME --plan PLAN", r.dir.display());
        outln!("Then: tuf-ceremony import-signatures {} SIGNATURE-FILE... --out DIR", r.dir.display());
    }
    Ok(crate::error::exit::OK)
}

/// `--json` is for `--dry-run` only. clap's `requires` does not hold once `--status` (which
/// `--dry-run` conflicts with) is given, so it is checked here too, before anything is read.
fn json_needs_dry_run(common: &UpdateArgs) -> Result<()> {
    if common.json && !common.dry_run {
        return Err(Error::Usage("--json needs --dry-run (resign and claim have no --status --json)".into()));
    }
    Ok(())
}

fn next_version(current: &crate::ceremony::job::CurrentFiles, role: &str) -> u64 {
    let v = if role == "root" { current.set.roots.keys().next_back().copied() } else { current.set.roles.get(role).map(|f| f.md.version()) };
    v.unwrap_or(0) + 1
}

pub fn resign(a: &ResignArgs) -> Result<i32> {
    json_needs_dry_run(&a.common)?;
    let current = read_current(&a.common.current).map_err(|e| Error::input(&a.common.current, e))?;
    for (i, r) in a.roles.iter().enumerate() {
        if a.roles[..i].contains(r) {
            return Err(Error::Usage(format!("{} is given twice", one_line(r))));
        }
        updatable_role(&current, r).map_err(|e| Error::input(&a.common.current, e))?;
    }
    let label = format!("resign-{}-v{}", a.roles.join("-"), next_version(&current, &a.roles[0]));
    run_update(
        "resign",
        &a.common,
        Update { label, roles: a.roles.clone(), claims: None, expires_days: a.expires_days, json_diff: a.common.diff, current: Arc::new(current) },
    )
}

pub fn claim(a: &ClaimArgs) -> Result<i32> {
    json_needs_dry_run(&a.common)?;
    let current = read_current(&a.common.current).map_err(|e| Error::input(&a.common.current, e))?;
    let role = a.role.clone();
    updatable_role(&current, &role).map_err(|e| Error::input(&a.common.current, e))?;
    let mut add = Vec::new();
    // Which file each registration came from, for an error that names it.
    let mut source_of: std::collections::BTreeMap<String, std::path::PathBuf> = Default::default();
    if let Some(p) = &a.recently_claimed {
        let bytes = crate::util::fsx::read_large(p).map_err(|e| Error::io(p, e))?;
        let md = Metadata::from_bytes(&bytes, Mode::Strict).map_err(|e| Error::input(p, e))?;
        let regs = crate::ceremony::job::registrations_from_recently_claimed(&current, &md, Utc::now())
            .map_err(|e| Error::Refused(format!("{}: {e}", p.display())))?;
        source_of.extend(regs.iter().map(|r| (r.project.clone(), p.clone())));
        add.extend(regs);
    }
    if let Some(p) = &a.list {
        let bytes = crate::util::fsx::read_input(p, crate::util::fsx::Kind::List)?;
        let regs = claims::parse_list(&bytes).map_err(|e| Error::input(p, e))?;
        source_of.extend(regs.iter().map(|r| (r.project.clone(), p.clone())));
        add.extend(regs);
    }
    if add.is_empty() && a.rotate.is_empty() && a.remove.is_empty() {
        return Err(Error::Usage("nothing to do: give --list FILE or --recently-claimed FILE with projects to claim, or --remove PROJECT".into()));
    }
    let batch = Batch { add, rotate: a.rotate.iter().cloned().collect(), remove: a.remove.iter().cloned().collect() };
    // Check the batch against the current role now, so a conflict is refused before any step runs.
    let mut probe = current.set.roles[&role].md.clone();
    let report = crate::ceremony::job::apply_claims(&mut probe, &batch).map_err(|e| {
        use claims::ClaimError as C;
        let from = |p: &str| source_of.get(p).cloned().unwrap_or_else(|| a.common.current.clone());
        match &e {
            C::BadName(p) | C::BadKeys(p, _) | C::Duplicate(p) => Error::input(&from(p), e.to_string()),
            C::NotClaimed(..) => Error::Usage(e.to_string()),
            C::Succinct | C::NotTargets => Error::input(&a.common.current, e.to_string()),
            _ => Error::Refused(e.to_string()),
        }
    })?;
    if report.added.is_empty() && report.changed.is_empty() && report.removed.is_empty() {
        return Err(Error::Usage(format!("nothing to do: every project given ({}) is already claimed with these keys", report.unchanged.len())));
    }
    let label = format!("claim-{role}-v{}", next_version(&current, &role));
    run_update(
        "claim",
        &a.common,
        Update {
            label,
            roles: vec![role.clone()],
            claims: Some((role, batch)),
            expires_days: a.expires_days,
            json_diff: a.common.diff,
            current: Arc::new(current),
        },
    )
}
