//! Operations on metadata outside a ceremony run: the `status` dashboard of a metadata
//! folder and signing apart (keyholders in different places sign one request each). This
//! is library code; `cmd/status.rs` and `cmd/signing.rs` only parse arguments and print.

pub mod apart;
pub mod diff;
pub mod folder;
pub mod hashconfirm;
pub mod preview;
pub mod signing_apart;
pub mod signing_apart_report;
pub mod status;
