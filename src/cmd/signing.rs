//! Signing apart: `sign-request`, `sign` and `import-signatures` (logic in ops/signing_apart).

use crate::ceremony::plan::Plan;
use crate::ceremony::tokens::Tokens;
use crate::ceremony::ui::TerminalUi;
use crate::cli::{ImportSignaturesArgs, SignArgs, SignRequestArgs};
use crate::error::{Error, Result, exit};
use crate::ops::signing_apart::{self as sa, Authority, NewRequest, SignInput};
use crate::ops::signing_apart_report as sa_report;
use crate::tuf::finding::Clients;
use crate::util::text::{for_terminal, one_line};
use chrono::Utc;

pub fn request(a: &SignRequestArgs) -> Result<i32> {
    let clients = Clients::parse(&a.clients).map_err(Error::Usage)?;
    if clients.is_empty() {
        return Err(Error::Usage("--clients: name at least one client".into()));
    }
    let created = sa::create_request(&NewRequest {
        metadata: &a.metadata,
        role: &a.role,
        delegator: &a.delegator,
        previous: a.previous.as_deref(),
        keys_dir: a.keys.as_deref(),
        media: &a.media,
        clients,
        now: Utc::now(),
    })?;
    if a.json {
        super::print_report(true, || sa_report::request_json(&created), String::new)?;
        return Ok(exit::OK);
    }
    outp!("{}", for_terminal(&created.summary));
    outln!("\nRequest folder: {}", created.dir.display());
    outln!("Each keyholder runs: tuf-ceremony sign {} --keyholder NAME --plan PLAN", created.dir.display());
    Ok(exit::OK)
}

pub fn sign(a: &SignArgs) -> Result<i32> {
    // The plan only supplies the keyholder's token entry; validated as of the Unix epoch so
    // an absolute expiry date in an old plan does not stop a signing.
    let plan = Plan::load(&a.plan, chrono::DateTime::UNIX_EPOCH).map_err(|e| Error::input(&a.plan, e))?;
    let key = match &a.key {
        Some(p) => Some(sa::read_key_file(p)?),
        None => None,
    };
    let tokens_dir = a.tokens.clone().unwrap_or_else(|| crate::ceremony::plan::default_tokens_dir(&a.plan));
    let mut tokens = Tokens::new(tokens_dir);
    let input = SignInput { request_dir: &a.request, keyholder: &a.keyholder, plan: &plan, key, out_dir: a.out.as_deref(), now: Utc::now() };
    sa::sign(&input, &mut tokens, &mut TerminalUi)?;
    Ok(exit::OK)
}

pub fn import(a: &ImportSignaturesArgs) -> Result<i32> {
    let clients = Clients::parse(&a.clients).map_err(|w| Error::Usage(format!("--clients: {w}")))?;
    let o = sa::import(&sa::ImportInput {
        request_dir: &a.request,
        sig_files: &a.signatures,
        out_dir: &a.out,
        partial: a.partial,
        trusted_delegator: a.delegator.as_deref(),
        clients,
    })?;
    if a.json {
        // The report on stdout; a refusal also goes to stderr, for people (exit 1).
        super::print_report(true, || sa_report::import_json(&o), String::new)?;
    }
    let o = o.or_refused()?;
    if a.json {
        return Ok(exit::OK);
    }
    for (id, who) in &o.added {
        let who = who.as_deref().map(|w| format!(" ({})", one_line(w))).unwrap_or_default();
        outln!("imported signature by {}{who}", one_line(id));
    }
    for id in &o.dropped {
        outln!("dropped a signature by {} from the draft: it does not verify over this content", one_line(id));
    }
    outln!("signatures: {}", for_terminal(&Authority::describe(&o.checks)));
    let what = if o.partial { "BELOW THRESHOLD — partial file, not for publishing" } else { "threshold met" };
    let how = if o.already_there { "already there, identical" } else { "written" };
    let path = o.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    outln!("{}: {how} ({what})", one_line(&path));
    Ok(exit::OK)
}
