//! Ctrl-C in a guided command: the terminal is given back as it was (a passphrase prompt
//! turns echo off), a message says how to resume, and the process exits with
//! `exit::INTERRUPTED`. Nothing is lost: every finished step, key and signature was saved
//! when it finished, and every file is written whole or not at all (`fsx`).
//!
//! The handler only does what a signal handler may (POSIX async-signal-safe calls:
//! `tcsetattr`, `write`, `_exit`) with data prepared before it is installed.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering};

static MESSAGE: OnceLock<Vec<u8>> = OnceLock::new();
static TERMINAL: OnceLock<libc::termios> = OnceLock::new();
static TTY_FD: AtomicI32 = AtomicI32::new(-1);

/// Installs the handler; `resume` is the command to run again, shown as is.
pub fn install(resume: &str) {
    let msg = format!(
        "\n\nInterrupted (Ctrl-C). Nothing done so far is lost: finished steps, keys and signatures are saved.\nTo go on, run the same command again:\n  {}\n",
        crate::util::text::one_line(resume)
    );
    if MESSAGE.set(msg.into_bytes()).is_err() {
        return;
    }
    // SAFETY: plain libc calls on a path literal and a zeroed termios the call fills in.
    unsafe {
        let fd = libc::open(c"/dev/tty".as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if fd >= 0 {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(fd, &mut t) == 0 {
                let _ = TERMINAL.set(t);
                TTY_FD.store(fd, Ordering::SeqCst);
            } else {
                libc::close(fd);
            }
        }
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_interrupt as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
    }
}

extern "C" fn on_interrupt(_: libc::c_int) {
    // SAFETY: only async-signal-safe calls, on data set before the handler was installed.
    unsafe {
        let fd = TTY_FD.load(Ordering::SeqCst);
        if let (true, Some(t)) = (fd >= 0, TERMINAL.get()) {
            libc::tcsetattr(fd, libc::TCSANOW, t);
        }
        if let Some(m) = MESSAGE.get() {
            libc::write(2, m.as_ptr().cast(), m.len());
        }
        libc::_exit(crate::error::exit::INTERRUPTED);
    }
}

/// The command line as typed, to show as the command that resumes.
pub fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=,:@+".contains(&b)) {
                a
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
