//! Errors as the command line reports them: what failed, what to do, and the exit code.

use std::path::{Path, PathBuf};

/// Exit codes shared by every command.
pub mod exit {
    pub const OK: i32 = 0;
    /// Verification failed or the operation was refused.
    pub const FAILED: i32 = 1;
    /// Usage or input error.
    pub const USAGE: i32 = 2;
    /// Attention needed (e.g. a role inside its re-signing window).
    pub const ATTENTION: i32 = 3;
    /// Interrupted by Ctrl-C (128 + SIGINT, as shells report it); run the same command to resume.
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// A file's content is wrong; names the file and (inside `what`) the JSON path.
    #[error("{}: {what}", path.display())]
    Input { path: PathBuf, what: String },
    #[error("{0}")]
    Usage(String),
    /// The tool refuses to go on (a check failed, a confirmation was not given).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Write(#[from] crate::tuf::WriteRefused),
    #[error(transparent)]
    Signer(#[from] crate::signer::SignerError),
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), source }
    }
    pub fn input(path: &Path, what: impl ToString) -> Self {
        Error::Input { path: path.to_path_buf(), what: what.to_string() }
    }
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Io { .. } | Error::Input { .. } | Error::Usage(_) => exit::USAGE,
            Error::Refused(_) | Error::Write(_) | Error::Signer(_) => exit::FAILED,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
