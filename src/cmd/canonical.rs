//! `tuf-ceremony canonical FILE`: the signed bytes, so an auditor can check a signature
//! with openssl by hand (`openssl dgst -sha256 -verify key.pem -signature sig.der`).

use crate::cli::CanonicalArgs;
use crate::error::{Error, Result, exit};
use crate::tuf::metadata::{Metadata, Mode};
use std::io::Write;

pub fn run(a: &CanonicalArgs) -> Result<i32> {
    let bytes = std::fs::read(&a.file).map_err(|e| Error::io(&a.file, e))?;
    let mode = if a.lenient { Mode::Lenient } else { Mode::Strict };
    let md = Metadata::from_bytes(&bytes, mode).map_err(|e| Error::input(&a.file, e))?;
    let out = md.signed_bytes();
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out).and_then(|_| stdout.flush()).map_err(|e| Error::io(std::path::Path::new("<stdout>"), e))?;
    Ok(exit::OK)
}
