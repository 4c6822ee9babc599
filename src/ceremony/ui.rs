//! The operator interface the engine talks to. The terminal UI is one implementation;
//! `--yes` rehearsals and tests use others, so the same steps run in all three.

use crate::util::text::{SCREEN_COLUMNS, wrap};

/// Everything the guided commands print goes through here: made safe for a terminal and
/// wrapped to the screen width.
fn screen(text: &str) -> String {
    wrap(text, SCREEN_COLUMNS)
}
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// Standard input ended before the answer (a pipe, /dev/null, a closed terminal).
    #[error(
        "no answer to \"{0}\": standard input ended (no terminal?). Run the command in a terminal and answer there; an unattended rehearsal is `tuf-ceremony rehearse --yes`"
    )]
    Closed(String),
    /// A secret asked with no terminal to type it on (secrets are never read from a pipe).
    #[error(
        "cannot ask \"{0}\" without a terminal: PINs and passphrases are typed at the terminal, never read from a pipe or a file. Run the command in a terminal"
    )]
    NoTerminal(String),
    #[error("{0}")]
    Io(String),
    #[error("cannot ask {0:?} in unattended mode")]
    Unattended(String),
}

/// What a secret is for: lets unattended rehearsals supply the right one and lets the
/// terminal explain what is asked. Never logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// Unlock an existing key (PIN or passphrase).
    Unlock,
    /// Choose a new PIN or passphrase (asked twice by the caller).
    New,
    /// A PUK or other unblocking/admin secret.
    Admin,
}

pub trait Ui {
    /// Narration: what a step does, what the operator must do. Safe to live-stream.
    fn show(&mut self, text: &str);
    /// A yes/no question.
    fn confirm(&mut self, question: &str) -> Result<bool, UiError>;
    /// Requires the operator to type `word` exactly (destructive or irreversible actions).
    fn confirm_word(&mut self, what: &str, word: &str) -> Result<bool, UiError>;
    /// Waits until the operator has done something physical (insert token, touch).
    fn wait(&mut self, instruction: &str) -> Result<(), UiError>;
    /// A free-text answer.
    fn ask(&mut self, question: &str) -> Result<String, UiError>;
    /// A hidden secret for `keyholder`.
    fn secret(&mut self, keyholder: &str, kind: SecretKind, prompt: &str) -> Result<Zeroizing<String>, UiError>;
}

/// The interactive terminal: answers on stdin, secrets without echo via rpassword.
pub struct TerminalUi;

impl TerminalUi {
    fn line(&mut self, prompt: &str) -> Result<String, UiError> {
        let question = crate::util::text::one_line(prompt.lines().last().unwrap_or(prompt).trim()).into_owned();
        use std::io::{BufRead, Write};
        print!("{} ", screen(prompt.trim_end()));
        std::io::stdout().flush().map_err(|e| UiError::Io(e.to_string()))?;
        let mut s = String::new();
        let n = std::io::stdin().lock().read_line(&mut s).map_err(|e| UiError::Io(e.to_string()))?;
        if n == 0 {
            return Err(UiError::Closed(question));
        }
        Ok(s.trim().to_string())
    }
}

impl Ui for TerminalUi {
    fn show(&mut self, text: &str) {
        println!("{}", screen(text));
    }
    fn confirm(&mut self, question: &str) -> Result<bool, UiError> {
        loop {
            match self.line(&format!("{question} [y/n] "))?.to_ascii_lowercase().as_str() {
                "y" | "yes" => return Ok(true),
                "n" | "no" => return Ok(false),
                _ => println!("Please answer y or n."),
            }
        }
    }
    fn confirm_word(&mut self, what: &str, word: &str) -> Result<bool, UiError> {
        let typed = self.line(&format!("{what}\nType {word} to confirm, anything else to cancel: "))?;
        Ok(typed == word)
    }
    fn wait(&mut self, instruction: &str) -> Result<(), UiError> {
        self.line(&format!("{instruction}\nPress Enter when done. "))?;
        Ok(())
    }
    fn ask(&mut self, question: &str) -> Result<String, UiError> {
        self.line(&format!("{question} "))
    }
    fn secret(&mut self, _keyholder: &str, _kind: SecretKind, prompt: &str) -> Result<Zeroizing<String>, UiError> {
        use std::io::IsTerminal;
        let question = crate::util::text::one_line(prompt).into_owned();
        // rpassword reads the controlling terminal; without one it fails with ENXIO.
        if std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").is_err() && !std::io::stdin().is_terminal() {
            return Err(UiError::NoTerminal(question));
        }
        rpassword::prompt_password(format!("{} ", screen(prompt))).map(Zeroizing::new).map_err(|e| match e.raw_os_error() {
            Some(libc::ENXIO | libc::ENOTTY) => UiError::NoTerminal(question),
            _ => UiError::Io(e.to_string()),
        })
    }
}

/// Unattended mode (`--yes`): every confirmation is yes; secrets come from a lookup
/// (rehearsal passphrase files), never from argv or the environment.
pub struct AutoUi<F: FnMut(&str, &SecretKind) -> Option<Zeroizing<String>>> {
    pub secrets: F,
    pub quiet: bool,
}

impl<F: FnMut(&str, &SecretKind) -> Option<Zeroizing<String>>> Ui for AutoUi<F> {
    fn show(&mut self, text: &str) {
        if !self.quiet {
            println!("{}", screen(text));
        }
    }
    fn confirm(&mut self, question: &str) -> Result<bool, UiError> {
        self.show(&format!("{question} [--yes: yes]"));
        Ok(true)
    }
    fn confirm_word(&mut self, what: &str, word: &str) -> Result<bool, UiError> {
        self.show(&format!("{what} [--yes: typed {word}]"));
        Ok(true)
    }
    fn wait(&mut self, instruction: &str) -> Result<(), UiError> {
        self.show(&format!("{instruction} [--yes: continuing]"));
        Ok(())
    }
    fn ask(&mut self, question: &str) -> Result<String, UiError> {
        Err(UiError::Unattended(question.to_string()))
    }
    fn secret(&mut self, keyholder: &str, kind: SecretKind, prompt: &str) -> Result<Zeroizing<String>, UiError> {
        (self.secrets)(keyholder, &kind).ok_or_else(|| UiError::Unattended(prompt.to_string()))
    }
}
