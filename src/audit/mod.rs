//! Audit: verify a set of metadata files as a whole — root chain, every role against its
//! delegator, expiry, writer rules — and report findings per file. The ceremony runs the
//! same checks before it exports anything; `tuf-ceremony verify` runs them afterwards, on a
//! ceremony's media folder (with its evidence and attestations) or a repository's metadata.

pub mod attestations;
pub mod evidence;
pub mod layout;
pub mod load;
pub mod report;
pub mod set;
pub mod update;
pub mod verify;

pub use set::{AbsentRole, AuditFinding, ChainReport, MetadataFile, MetadataSet, RoleReport, SetOptions, SetReport, audit_set, check_set};
pub use verify::{Options, Report, VerifyError, verify_path};
