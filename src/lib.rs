//! tuf-ceremony: offline key ceremonies for The Update Framework.
//!
//! * [`tuf`] — the pure core (metadata, canonical JSON, keys, verification, writer rules).
//! * [`signer`] — one small trait for every place a private key lives.
//! * [`cli`] and [`cmd`] — the command line, a thin layer over the above.

pub mod attest;
pub mod audit;
pub mod ceremony;
pub mod cli;
pub mod cmd;
pub mod error;
pub mod media;
pub mod ops;
pub mod signer;
pub mod tuf;
pub mod util;
