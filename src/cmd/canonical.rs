//! `tuf-ceremony canonical FILE`: the signed bytes, so an auditor can check a signature
//! with openssl by hand (`openssl dgst -sha256 -verify key.pem -signature sig.der`).

use crate::cli::CanonicalArgs;
use crate::error::{Error, Result, exit};
use crate::tuf::metadata::{Metadata, Mode};
use std::io::Write;

pub fn run(a: &CanonicalArgs) -> Result<i32> {
    let bytes = crate::util::fsx::read_large(&a.file).map_err(|e| Error::io(&a.file, e))?;
    let mode = if a.lenient { Mode::Lenient } else { Mode::Strict };
    let md = Metadata::from_bytes(&bytes, mode).map_err(|e| Error::input(&a.file, e))?;
    let out = md.signed_bytes();
    // Canonical JSON writes control characters in strings raw; a terminal would obey them.
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() && crate::util::text::unsafe_for_terminal(&out) {
        return Err(Error::input(
            &a.file,
            "its canonical bytes hold control characters that a terminal would obey; redirect the output to a file (tuf-ceremony canonical FILE > out.bin)",
        ));
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out).and_then(|_| stdout.flush()).map_err(|e| Error::io(std::path::Path::new("<stdout>"), e))?;
    Ok(exit::OK)
}
