//! Audit: verify a set of metadata files as a whole — root chain, every role against its
//! delegator, expiry, writer rules — and report findings per file. The ceremony runs the
//! same checks before it exports anything; `tuf-ceremony verify` runs them afterwards.

pub mod set;

pub use set::{check_set, AuditFinding, MetadataFile, MetadataSet, RoleReport, SetReport};
