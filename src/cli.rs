//! Command-line definitions only (clap). Each subcommand's behaviour lives in `cmd/`.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "tuf-ceremony", version, about = "Offline key ceremonies for The Update Framework (TUF)")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the exact bytes a metadata file's signatures cover (canonical JSON of `signed`)
    Canonical(CanonicalArgs),
    /// Generate an encrypted software key file (for rehearsals, tests and online roles)
    Keygen(KeygenArgs),
}

#[derive(clap::Args, Debug)]
pub struct CanonicalArgs {
    /// A TUF metadata file
    pub file: PathBuf,
    /// Also read legacy forms (hex ECDSA keys, offset or fractional expiry dates)
    #[arg(long)]
    pub lenient: bool,
}

#[derive(clap::Args, Debug)]
pub struct KeygenArgs {
    /// Key algorithm: ed25519, ecdsa-p256 or ecdsa-p384
    #[arg(long, default_value = "ecdsa-p256")]
    pub algorithm: String,
    /// Where to write the encrypted private key (PKCS#8 PEM); must not exist
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the TUF public key object (JSON) here
    #[arg(long)]
    pub public_out: Option<PathBuf>,
}
