//! `tuf-ceremony verify PATH`: check a ceremony's media folder or a repository's metadata
//! folder and print the report (human, or `--json`). Exit 0 when no check failed (warnings
//! allowed), 1 when any did, 2 when PATH cannot be read or holds no TUF metadata.

use crate::audit::{Options, VerifyError, report, verify_path};
use crate::cli::VerifyArgs;
use crate::error::{Error, Result};
use crate::tuf::finding::Clients;

pub fn run(a: &VerifyArgs) -> Result<i32> {
    let at = super::parse_at(a.at.as_deref())?;
    let clients = Clients::parse(&a.clients).map_err(|e| Error::Usage(format!("--clients: {e}")))?;
    if clients.is_empty() {
        return Err(Error::Usage("--clients: name at least one client".into()));
    }
    let o = Options {
        trusted_root: a.trusted_root.clone(),
        attestations: a.attestations.clone(),
        at,
        lenient: a.lenient,
        clients,
        threads: 0,
        current: a.current.clone(),
    };
    let r = verify_path(&a.path, &o).map_err(|e| match e {
        VerifyError::Layout(l) => Error::input(&a.path, l.to_string().trim_start_matches(&format!("{}: ", a.path.display()))),
        VerifyError::Input { path, what } => Error::input(&path, what),
    })?;
    super::print_report(a.json, || report::to_json(&r), || report::to_toned(&r))?;
    Ok(r.exit_code())
}
