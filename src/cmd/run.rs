//! `tuf-ceremony run PLAN --media DIR` and `rehearse --out DIR`.

use crate::ceremony::engine::{self, Engine, Options};
use crate::ceremony::job::Job;
use crate::ceremony::plan::Plan;
use crate::ceremony::rehearse::{self, Layout, passphrase_file};
use crate::ceremony::tokens::Tokens;
use crate::ceremony::ui::{AutoUi, SecretKind, TerminalUi, Ui};
use crate::cli::{RehearseArgs, RunArgs};
use crate::error::{Error, Result, exit};
use crate::util::text::one_line;
use chrono::Utc;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Test hook: `TUF_CEREMONY_CRASH_AFTER=<step id>` aborts the process right after that
/// step is persisted, to prove crash/resume. It can only make the tool stop, never skip.
pub(crate) fn crash_hook() -> Option<String> {
    std::env::var("TUF_CEREMONY_CRASH_AFTER").ok()
}

pub fn run(a: &RunArgs) -> Result<i32> {
    let plan = Plan::load(&a.plan, Utc::now()).map_err(|e| Error::input(&a.plan, e))?;
    let workdir = a.workdir.clone().unwrap_or_else(|| a.plan.with_file_name(format!("{}.work", plan.id)));
    let current = match &a.current {
        Some(dir) => Some(std::sync::Arc::new(crate::ceremony::job::read_current(dir).map_err(|e| Error::input(dir, e))?)),
        None => None,
    };
    if a.status {
        return status(&plan, &workdir, &Job::Ceremony, current.as_deref(), a.json);
    }
    let media = a.media.clone().ok_or_else(|| Error::Usage("--media DIR is required (where the removable media is mounted)".into()))?;
    let tokens_dir = a.tokens.clone().unwrap_or_else(|| crate::ceremony::plan::default_tokens_dir(&a.plan));
    let mut tokens = Tokens::new(tokens_dir);
    let mut ui = TerminalUi;
    if current.is_some() && plan.previous_root.is_none() {
        return Err(Error::Usage("--current is for a root rotation: the plan needs [previous_root]".into()));
    }
    let opts = Options {
        media,
        allow_network: a.allow_network,
        rehearsal: false,
        crash_after: crash_hook(),
        job: Job::Ceremony,
        current,
        present: a.keyholders.clone(),
        set_aside: false,
    };
    drive(&plan, &workdir, &mut ui, &mut tokens, opts)
}

pub(crate) fn status(plan: &Plan, workdir: &Path, job: &Job, current: Option<&crate::ceremony::job::CurrentFiles>, json: bool) -> Result<i32> {
    let p = engine::status(plan, workdir, job, current).map_err(Error::from)?;
    super::print_report(json, || p.to_json(), || p.to_text())?;
    Ok(exit::OK)
}

pub(crate) fn drive(plan: &Plan, workdir: &Path, ui: &mut dyn Ui, tokens: &mut Tokens, opts: Options) -> Result<i32> {
    let mut engine = Engine::open(plan, workdir, ui, tokens, opts).map_err(Error::from)?;
    let done = engine.run().map_err(Error::from)?;
    outln!("\nCeremony complete. Output:\n  {}\nTranscript head: {}", one_line(&done.media_dir.display().to_string()), done.transcript_head);
    Ok(exit::OK)
}

pub fn rehearse(a: &RehearseArgs) -> Result<i32> {
    let layout = Layout { root: a.out.clone() };
    let marked = layout.plan().exists() || layout.root.join(rehearse::OWN_PLAN_MARKER).exists();
    if !marked && a.out.exists() && std::fs::read_dir(&a.out).map(|mut d| d.next().is_some()).unwrap_or(false) {
        return Err(Error::Refused(format!("{} exists and is not a rehearsal folder; choose an empty or new folder", a.out.display())));
    }
    if let Some(own) = &a.plan {
        if layout.plan().exists() {
            return Err(Error::Refused(format!("{} rehearses the built-in plan; use another folder for --plan", a.out.display())));
        }
        let plan = rehearse::own_plan(&layout, own, a.yes, Utc::now()).map_err(Error::Refused)?;
        outln!("Rehearsal in {} of {} with simulated tokens.", a.out.display(), own.display());
        return rehearse_with(a, &layout, plan);
    }
    let id = format!("rehearsal-{}", Utc::now().format("%Y-%m-%d"));
    rehearse::prepare(&layout, &id, a.yes).map_err(Error::Refused)?;
    // The rehearsal made these folders itself: on a resume they must still be folders, not
    // links someone put in their place.
    for d in [layout.media(), layout.tokens()] {
        crate::util::fsx::still_a_dir(&d).map_err(|e| Error::io(&d, e))?;
    }
    let plan = rehearse::load_plan(&layout, Utc::now()).map_err(Error::Refused)?;
    outln!("Rehearsal in {} on the built-in {} plan.", a.out.display(), rehearse::TEMPLATE);
    rehearse_with(a, &layout, plan)
}

fn rehearse_with(a: &RehearseArgs, layout: &Layout, plan: Plan) -> Result<i32> {
    outln!("Simulated tokens are in {} — outside the media.", layout.tokens().display());
    let mut tokens = Tokens::new(layout.tokens());
    let opts = Options { media: layout.media(), rehearsal: true, crash_after: crash_hook(), ..Default::default() };
    if a.yes {
        let tokens_dir: PathBuf = layout.tokens();
        let mut ui = AutoUi {
            secrets: move |holder: &str, _kind: &SecretKind| {
                crate::util::fsx::read_text_in(&passphrase_file(&tokens_dir, holder), crate::util::fsx::Kind::Secret)
                    .ok()
                    .map(|s| Zeroizing::new(s.trim().to_string()))
            },
            quiet: false,
        };
        drive(&plan, &layout.work(), &mut ui, &mut tokens, opts)
    } else {
        drive(&plan, &layout.work(), &mut TerminalUi, &mut tokens, opts)
    }
}
