//! Writing to standard output and standard error without panicking. `print!` panics when
//! the write fails, as it does when the reader has gone (`tuf-ceremony verify … --json |
//! head -c1`): the process would end with a panic message and exit 101. Here a whole
//! text is written at once and flushed; a reader that left (`BrokenPipe`) is no error
//! (nobody is there to read the rest, as ripgrep treats it), any other failure is.

use crate::error::{Error, Result};
use std::io::{ErrorKind, Write};
use std::path::Path;

/// Writes `s` to standard output and flushes it. A closed pipe is quiet success; any other
/// failure is an error naming standard output.
pub fn stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => Err(Error::io(Path::new("standard output"), e)),
        _ => Ok(()),
    }
}

/// Writes `s` to standard error; a failure there has nowhere to be reported, so it is ignored.
pub fn stderr(s: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(s.as_bytes()).and_then(|()| err.flush());
}
