//! The pure TUF core: metadata model, strict JSON, canonical JSON, keys, signatures,
//! verification and writer rules. Bytes in, bytes out: no files, clock, prompts or tokens.

pub mod bins;
pub mod encode;
pub mod finding;
pub mod json;
pub mod keys;
pub mod metadata;
pub mod olpc;
pub mod rules;
pub mod stream;
pub mod verify;

use finding::{Clients, Finding, Severity};
use metadata::Metadata;

/// The writer refused to produce a file because a required client would reject it.
#[derive(Debug, thiserror::Error)]
#[error("refusing to write {role} metadata that {clients} would reject:\n{}", list(.findings))]
pub struct WriteRefused {
    pub role: &'static str,
    pub clients: Clients,
    pub findings: Vec<Finding>,
}

fn list(f: &[Finding]) -> String {
    f.iter().map(|x| format!("  - {x}")).collect::<Vec<_>>().join("\n")
}

/// Encodes `md` in python-tuf's file layout after checking every writer rule; refuses if
/// any error finding concerns a client in `must_accept`.
pub fn write(md: &Metadata, must_accept: Clients) -> Result<Vec<u8>, WriteRefused> {
    let canonical = md.signed_bytes();
    write_with_canonical(md, &canonical, must_accept)
}

/// As `write_with_canonical`, taking the canonical bytes and freeing them once the rules
/// are checked, before the file bytes are encoded (peak memory of large roles).
pub fn write_consuming(md: &Metadata, canonical: Vec<u8>, must_accept: Clients) -> Result<Vec<u8>, WriteRefused> {
    let blocking = |f: &Finding| f.severity == Severity::Error && f.rejected_by.intersects(must_accept);
    let mut findings: Vec<Finding> = rules::check(md, &canonical).into_iter().filter(blocking).collect();
    // The pretty layout is the canonical text plus indentation: one allocation of about
    // the right size instead of a chain of doublings (which fragments the heap).
    let hint = canonical.len() + canonical.len() / 2;
    drop(canonical);
    let bytes = encode::pretty_sized(md, hint);
    findings.extend(rules::check_file_bytes(md, &bytes).into_iter().filter(blocking));
    if findings.is_empty() { Ok(bytes) } else { Err(WriteRefused { role: md.signed.type_name(), clients: must_accept, findings }) }
}

/// As `write`, reusing canonical bytes the caller already has (large roles).
pub fn write_with_canonical(md: &Metadata, canonical: &[u8], must_accept: Clients) -> Result<Vec<u8>, WriteRefused> {
    let blocking = |f: &Finding| f.severity == Severity::Error && f.rejected_by.intersects(must_accept);
    let mut findings: Vec<Finding> = rules::check(md, canonical).into_iter().filter(blocking).collect();
    let bytes = encode::pretty_sized(md, canonical.len() + canonical.len() / 2);
    findings.extend(rules::check_file_bytes(md, &bytes).into_iter().filter(blocking));
    if findings.is_empty() { Ok(bytes) } else { Err(WriteRefused { role: md.signed.type_name(), clients: must_accept, findings }) }
}
