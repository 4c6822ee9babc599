//! Command-line definitions only (clap). Each subcommand's behaviour lives in `cmd/`.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
// `version` adds -V/--version; main.rs puts the commit into it (cmd::version::line).
#[command(
    name = "tuf-ceremony",
    version,
    about = "Offline key ceremonies for The Update Framework (TUF)",
    after_help = "\
Examples:
  tuf-ceremony rehearse --out /tmp/rehearsal        a whole ceremony on simulated tokens
  tuf-ceremony plan new --template pep480 --out plan.toml
  tuf-ceremony run plan.toml --media /media/ceremony
  tuf-ceremony verify /media/ceremony/pypi-2027

Exit codes:
  0    success
  1    a check failed, or the command refused
  2    usage or input error: a bad option, or a file that cannot be read or is malformed
  3    attention needed: a role is inside its re-signing window (status)
  130  interrupted (Ctrl-C): run the same command again to resume

The runbook (runbook/, or /usr/share/doc/tuf-ceremony/ when installed) says every step."
)]
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
    /// Create a ceremony plan from a template, or check one and print what it will do
    Plan {
        #[command(subcommand)]
        command: PlanCommand,
    },
    /// Run a ceremony from a plan, step by step (resumes where it stopped)
    Run(RunArgs),
    /// Rehearse a whole ceremony on the built-in default plan with simulated tokens
    Rehearse(RehearseArgs),
    /// Verify a ceremony's media folder or a repository's metadata folder (exit 0 ok, 1 failed, 2 unreadable)
    Verify(VerifyArgs),
    /// Audit a folder of key products without metadata: public keys and YubiHSM 2 / YubiKey attestations (exit 0 ok, 1 failed, 2 unreadable)
    Attest(AttestArgs),
    /// Dashboard of a metadata folder: versions, expiry, signing windows, signatures (exit 0 ok, 3 re-sign soon, 1 expired)
    Status(StatusArgs),
    /// Signing apart: write a request folder for keyholders in other places to sign
    SignRequest(SignRequestArgs),
    /// Signing apart: a keyholder signs a request with their token, giving a signature file
    Sign(SignArgs),
    /// Signing apart: verify keyholders' signature files and merge them into the metadata
    ImportSignatures(ImportSignaturesArgs),
    /// Re-sign offline roles before they expire: next version, new expiry, nothing else changed
    Resign(ResignArgs),
    /// Move projects into `claimed` (PEP 480) from recently-claimed or a reviewed list
    Claim(ClaimArgs),
    /// The version, the commit it was built from, and this program's sha256 (what the transcript records)
    Version(VersionArgs),
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony version
  tuf-ceremony version --json    the sha256 to compare with the transcript and SHA256SUMS")]
pub struct VersionArgs {
    /// Print the machine-readable report (schema: docs/version-json.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum PlanCommand {
    /// Write a new plan from a template (pep458, pep480, minimal, or psf2020 with --keys)
    New(PlanNewArgs),
    /// Validate a plan and print, in plain words, what the ceremony will do and the plan's sha256
    Check(PlanCheckArgs),
    /// Build the unsigned drafts of a plan whose keys are all from an earlier ceremony, for
    /// signing apart (no token is used)
    Drafts(PlanDraftsArgs),
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony plan new --template pep480 --id pypi-2027 --keyholders alice,bob,carol \\
      --out plan.toml
  tuf-ceremony plan new --template psf2020 --keys psf-2020-ceremony/ --out psf.toml")]
pub struct PlanNewArgs {
    /// The template (psf2020: the PSF's 2020 keys; needs --keys)
    #[arg(long, default_value = "pep480", value_name = "NAME", value_parser = ["pep458", "pep480", "minimal", "psf2020"])]
    pub template: String,
    /// psf2020: the PSF's ceremony-products folder (<serial>/<serial>_<role>_pubkey.pem and
    /// attestations); the plan names its files, relative to the plan
    #[arg(long, value_name = "DIR")]
    pub keys: Option<PathBuf>,
    /// Ceremony id (names the media folder)
    #[arg(long, default_value = "ceremony")]
    pub id: String,
    /// Comma-separated keyholder names
    #[arg(long, default_value = "keyholder-1,keyholder-2,keyholder-3", value_name = "NAME,...")]
    pub keyholders: String,
    /// Token kind for every keyholder
    #[arg(long, default_value = "yubikey", value_name = "KIND", value_parser = ["software", "yubikey", "pkcs11", "yubihsm2"])]
    pub token: String,
    /// Folder (relative to the plan) holding the online public keys
    #[arg(long, default_value = "online-keys", value_name = "DIR")]
    pub online_keys: String,
    /// Write the plan here (must not exist) instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony plan check plan.toml
  tuf-ceremony plan check plan.toml --at 2027-01-15T09:00:00Z --json")]
pub struct PlanCheckArgs {
    pub plan: PathBuf,
    /// Evaluate expiry dates at this time (RFC 3339, or "now", the default)
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Print the machine-readable report (schema: docs/plan-check-json.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony plan drafts psf.toml --out drafts/
  tuf-ceremony sign-request drafts/metadata/1.root.json --role root \\
      --delegator drafts/metadata/1.root.json --keys drafts/keys --media /media/stick")]
pub struct PlanDraftsArgs {
    pub plan: PathBuf,
    /// Folder to create (must not exist): metadata/1.root.json, 1.targets.json, … unsigned,
    /// and keys/<keyholder>/ (what sign-request reads the keyholders' names from)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Ceremony time every expiry is computed from (RFC 3339, or "now", the default)
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony run plan.toml --media /media/ceremony
  tuf-ceremony run plan.toml --media /media/ceremony --keyholders alice,bob
  tuf-ceremony run plan.toml --status --json")]
pub struct RunArgs {
    pub plan: PathBuf,
    /// Where the removable media is mounted
    #[arg(long, value_name = "DIR")]
    pub media: Option<PathBuf>,
    /// Working directory for state and drafts (default: <plan dir>/<ceremony id>.work)
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Folder of software tokens (default: tokens/ beside the plan)
    #[arg(long, value_name = "DIR")]
    pub tokens: Option<PathBuf>,
    /// Go on even though a network interface is up (recorded in the transcript)
    #[arg(long)]
    pub allow_network: bool,
    /// Show where the ceremony stands and exit
    #[arg(long)]
    pub status: bool,
    /// With --status: print the machine-readable report (schema: docs/run-status-json.md)
    #[arg(long, requires = "status")]
    pub json: bool,
    /// For a root rotation: the current metadata folder, so targets and offline roles whose
    /// keys the new plan changes get new versions too
    #[arg(long, value_name = "DIR")]
    pub current: Option<PathBuf>,
    /// The keyholders in the room (comma-separated; default: all). Refused at once when they
    /// cannot reach every role's threshold; the absent can sign apart later
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub keyholders: Option<Vec<String>>,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony rehearse --out /tmp/rehearsal
  tuf-ceremony rehearse --out /tmp/rehearsal --plan plan.toml")]
pub struct RehearseArgs {
    /// Rehearsal folder (created; an existing rehearsal there is resumed)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Unattended: answer every question yes, use generated passphrases
    #[arg(long)]
    pub yes: bool,
    /// Rehearse your own plan instead of the built-in one: every token is simulated (a
    /// software token in the rehearsal folder); the media folder is named rehearsal-<id>
    #[arg(long)]
    pub plan: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony canonical metadata/2.root.json | sha256sum
  tuf-ceremony canonical --lenient old/root.json > signed-bytes.json")]
pub struct CanonicalArgs {
    /// A TUF metadata file
    pub file: PathBuf,
    /// Also read legacy forms (hex ECDSA keys, offset or fractional expiry dates)
    #[arg(long)]
    pub lenient: bool,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony keygen --algorithm ed25519 --out online/timestamp.pem \\
      --public-out online-keys/timestamp.json")]
pub struct KeygenArgs {
    /// Key algorithm
    #[arg(long, default_value = "ecdsa-p256", value_parser = ["ed25519", "ecdsa-p256", "ecdsa-p384"])]
    pub algorithm: String,
    /// Where to write the encrypted private key (PKCS#8 PEM); must not exist
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Also write the TUF public key object (JSON) here
    #[arg(long, value_name = "FILE")]
    pub public_out: Option<PathBuf>,
    /// Print the machine-readable report (schema: docs/keygen-json.md); prompts stay on the terminal
    #[arg(long)]
    pub json: bool,
}

/// Options shared by the commands that update existing roles.
#[derive(clap::Args, Debug)]
pub struct UpdateArgs {
    /// The ceremony plan (keyholders, tokens, expiry per role, clients)
    #[arg(long)]
    pub plan: PathBuf,
    /// The current metadata folder (N.root.json, V.<role>.json, …)
    #[arg(long, value_name = "DIR")]
    pub current: PathBuf,
    /// Where the removable media is mounted
    #[arg(long, value_name = "DIR")]
    pub media: Option<PathBuf>,
    /// Working directory (default: <plan dir>/<id>-<what>.work)
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Folder of software tokens (default: tokens/ beside the plan)
    #[arg(long, value_name = "DIR")]
    pub tokens: Option<PathBuf>,
    /// Go on even though a network interface is up (recorded)
    #[arg(long)]
    pub allow_network: bool,
    /// Show where this update stands and exit
    #[arg(long)]
    pub status: bool,
    /// Also show a JSON diff of each role (exported as CHANGES.json)
    #[arg(long)]
    pub diff: bool,
    /// The keyholders in the room (comma-separated; default: all the plan names for these
    /// roles). Refused at once when they cannot reach the threshold
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub keyholders: Option<Vec<String>>,
    /// Sign apart instead: build the same draft and write a signature request folder into DIR
    /// for each role (keyholders then run `sign`; `import-signatures` merges)
    #[arg(long, value_name = "DIR", conflicts_with_all = ["media", "keyholders", "status"])]
    pub apart: Option<PathBuf>,
    /// When the working directory holds another run: rename it aside (kept, never deleted)
    /// and begin this one
    #[arg(long)]
    pub set_aside: bool,
    /// Show what the update will change and stop: no token, no question, nothing written
    #[arg(long, conflicts_with_all = ["status", "apart", "set_aside", "diff"])]
    pub dry_run: bool,
    /// With --dry-run: print the changes machine-readably (schema: docs/update-preview-json.md)
    #[arg(long, requires = "dry_run")]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony resign targets claimed --plan plan.toml --current metadata/ \\
      --media /media/ceremony --keyholders alice,bob
  tuf-ceremony resign claimed --plan plan.toml --current metadata/ --apart /media/stick
  tuf-ceremony resign targets --plan plan.toml --current metadata/ --dry-run --json")]
pub struct ResignArgs {
    /// Roles to re-sign (root, targets, claimed, bins, any offline delegated role)
    #[arg(required = true)]
    pub roles: Vec<String>,
    #[command(flatten)]
    pub common: UpdateArgs,
    /// New expiry in days from now (1 to 3660), instead of the plan's
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(i64).range(1..=3660))]
    pub expires_days: Option<i64>,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony claim --plan plan.toml --current metadata/ \\
      --recently-claimed online/recently-claimed.json --media /media/ceremony
  tuf-ceremony claim --plan plan.toml --current metadata/ --list reviewed.json \\
      --apart /media/stick
  tuf-ceremony claim --plan plan.toml --current metadata/ --list reviewed.json --dry-run")]
pub struct ClaimArgs {
    #[command(flatten)]
    pub common: UpdateArgs,
    /// The offline role projects are moved into
    #[arg(long, default_value = "claimed")]
    pub role: String,
    /// The online system's recently-claimed metadata (verified against targets' delegation)
    #[arg(long, value_name = "FILE")]
    pub recently_claimed: Option<PathBuf>,
    /// A reviewed list: JSON array of {"project", "keys": [TUF keys], "threshold"}
    #[arg(long, value_name = "FILE")]
    pub list: Option<PathBuf>,
    /// Confirm replacing this already-claimed project's developer keys (repeatable)
    #[arg(long)]
    pub rotate: Vec<String>,
    /// Remove this project from the role (repeatable)
    #[arg(long)]
    pub remove: Vec<String>,
    /// New expiry in days from now (1 to 3660), instead of the plan's
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(i64).range(1..=3660))]
    pub expires_days: Option<i64>,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony status metadata/ --plan plan.toml
  tuf-ceremony status /media/ceremony/pypi-2027 --at 2027-06-01T00:00:00Z --json")]
pub struct StatusArgs {
    /// A metadata folder (N.root.json, V.<role>.json, …) or a ceremony's media folder
    pub path: PathBuf,
    /// Evaluate at this time (RFC 3339, or "now", the default)
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Print the machine-readable report (schema: docs/status-json.md)
    #[arg(long)]
    pub json: bool,
    /// Take offline roles and signing windows from this plan (default: PEP 458/480 defaults)
    #[arg(long)]
    pub plan: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony sign-request draft/2.targets.json --role targets \\
      --delegator metadata/1.root.json --previous metadata/1.targets.json --media /media/stick")]
pub struct SignRequestArgs {
    /// The draft metadata to sign (taken as is)
    pub metadata: PathBuf,
    /// The role it is (root, targets, snapshot, timestamp or a delegated role's name)
    #[arg(long)]
    pub role: String,
    /// The delegator's metadata: the root for top-level roles (the previous root for a new
    /// root), the delegating targets role for a delegated role
    #[arg(long, value_name = "FILE")]
    pub delegator: PathBuf,
    /// Where the removable media is mounted (the request folder is created there)
    #[arg(long, value_name = "DIR")]
    pub media: PathBuf,
    /// The current version of the role, to show what changed
    #[arg(long, value_name = "FILE")]
    pub previous: Option<PathBuf>,
    /// A ceremony media keys/ folder naming the keyholders (default: <delegator dir>/../keys if present)
    #[arg(long, value_name = "DIR")]
    pub keys: Option<PathBuf>,
    /// Clients the merged metadata must satisfy
    #[arg(long, default_value = "python-tuf,go-tuf,tough", value_name = "LIST")]
    pub clients: String,
    /// Print the machine-readable report (schema: docs/sign-request-json.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony sign /media/stick/sign-targets-v2-7bbec38d --keyholder alice --plan plan.toml")]
pub struct SignArgs {
    /// A request folder made by sign-request
    pub request: PathBuf,
    /// Your keyholder name in the plan
    #[arg(long)]
    pub keyholder: String,
    /// The ceremony plan (for your token's entry)
    #[arg(long)]
    pub plan: PathBuf,
    /// Where to write the signature file (default: the request folder)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Folder of software tokens (default: tokens/ beside the plan)
    #[arg(long, value_name = "DIR")]
    pub tokens: Option<PathBuf>,
    /// Your public key (TUF key JSON or PEM), when the request does not name your key
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony import-signatures sign-targets-v2-7bbec38d/ alice.sig.json bob.sig.json \\
      --out metadata/ --delegator metadata/1.root.json")]
pub struct ImportSignaturesArgs {
    /// The request folder the signatures are for
    pub request: PathBuf,
    /// Signature files from the keyholders
    #[arg(required = true)]
    pub signatures: Vec<PathBuf>,
    /// Folder to write the signed metadata to
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write below threshold too, as V.ROLE.json.partial
    #[arg(long)]
    pub partial: bool,
    /// Your own copy of the delegator; the request's copy must be identical
    #[arg(long, value_name = "FILE")]
    pub delegator: Option<PathBuf>,
    /// Clients the metadata must work for, as given to sign-request (the request must name the same)
    #[arg(long, default_value = "python-tuf,go-tuf,tough", value_name = "LIST")]
    pub clients: String,
    /// Print the machine-readable report (schema: docs/import-signatures-json.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony verify /media/ceremony/pypi-2027
  tuf-ceremony verify metadata/ --trusted-root 1.root.json --clients python-tuf --json")]
pub struct VerifyArgs {
    /// A ceremony's media folder (<ceremony-id>/) or a repository's metadata folder
    pub path: PathBuf,
    /// The root to trust (default: the lowest N.root.json present, reported as trust on first use)
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// Folder of YubiKey or YubiHSM 2 attestations (default: the media's keys/)
    #[arg(long, value_name = "DIR")]
    pub attestations: Option<PathBuf>,
    /// The metadata an update's media was made from (resign, claim, root rotation): its new
    /// versions are checked against it
    #[arg(long, value_name = "DIR")]
    pub current: Option<PathBuf>,
    /// Evaluate expiry at this time (RFC 3339, or "now")
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Also read legacy forms (hex ECDSA keys, offset or fractional expiry dates) and report them
    #[arg(long)]
    pub lenient: bool,
    /// Clients the metadata must work for: python-tuf, go-tuf, tough or all (comma-separated)
    #[arg(long, default_value = "all", value_name = "LIST")]
    pub clients: String,
    /// Print the machine-readable report (schema: docs/verify-json.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tuf-ceremony attest psf-2020-ceremony/
  tuf-ceremony attest /media/ceremony/pypi-2027/keys --json")]
pub struct AttestArgs {
    /// A folder of key products: public key files (.pem, .pub, .der) and attestations
    /// (e.g. the PSF's <serial>/<serial>_<key>_attestation.der with <serial>_cert.der)
    pub dir: PathBuf,
    /// Evaluate certificate validity at this time (RFC 3339, or "now")
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Print the machine-readable report (schema: docs/attest-json.md)
    #[arg(long)]
    pub json: bool,
}
