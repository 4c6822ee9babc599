//! Findings: what a check found, where, and which clients it breaks.
//!
//! The writer refuses metadata with an error finding against any client the caller must
//! satisfy; the auditor reports every finding. Both use this one type so "which client
//! rejects this" is decided once, next to the rule.

use super::json::JsonPath;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A set of TUF clients.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Clients {
    pub python_tuf: bool,
    pub go_tuf: bool,
    pub tough: bool,
}

impl Clients {
    pub const NONE: Clients = Clients { python_tuf: false, go_tuf: false, tough: false };
    pub const ALL: Clients = Clients { python_tuf: true, go_tuf: true, tough: true };
    pub const PYTHON: Clients = Clients { python_tuf: true, go_tuf: false, tough: false };
    pub const GO: Clients = Clients { python_tuf: false, go_tuf: true, tough: false };
    pub const TOUGH: Clients = Clients { python_tuf: false, go_tuf: false, tough: true };

    pub fn or(self, o: Clients) -> Clients {
        Clients { python_tuf: self.python_tuf || o.python_tuf, go_tuf: self.go_tuf || o.go_tuf, tough: self.tough || o.tough }
    }
    pub fn intersects(self, o: Clients) -> bool {
        (self.python_tuf && o.python_tuf) || (self.go_tuf && o.go_tuf) || (self.tough && o.tough)
    }
    pub fn is_empty(self) -> bool {
        !(self.python_tuf || self.go_tuf || self.tough)
    }
    pub fn names(self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.python_tuf {
            v.push("python-tuf");
        }
        if self.go_tuf {
            v.push("go-tuf");
        }
        if self.tough {
            v.push("tough");
        }
        v
    }
    /// Parses a comma-separated list such as `python-tuf,go-tuf`.
    pub fn parse(s: &str) -> Result<Clients, String> {
        let mut c = Clients::NONE;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "python-tuf" => c.python_tuf = true,
                "go-tuf" => c.go_tuf = true,
                "tough" => c.tough = true,
                "all" => c = Clients::ALL,
                other => return Err(format!("unknown client {other:?} (expected python-tuf, go-tuf, tough or all)")),
            }
        }
        Ok(c)
    }
}

impl fmt::Display for Clients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.names();
        if n.is_empty() { f.write_str("no client") } else { f.write_str(&n.join(", ")) }
    }
}

/// One thing a check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// A stable identifier for the rule (used in the JSON report and tests).
    pub code: &'static str,
    pub path: JsonPath,
    pub message: String,
    /// Clients that would refuse the metadata because of this.
    pub rejected_by: Clients,
}

impl Finding {
    pub fn error(code: &'static str, path: JsonPath, message: impl Into<String>, rejected_by: Clients) -> Self {
        Finding { severity: Severity::Error, code, path, message: message.into(), rejected_by }
    }
    pub fn warning(code: &'static str, path: JsonPath, message: impl Into<String>, rejected_by: Clients) -> Self {
        Finding { severity: Severity::Warning, code, path, message: message.into(), rejected_by }
    }
    pub fn info(code: &'static str, path: JsonPath, message: impl Into<String>) -> Self {
        Finding { severity: Severity::Info, code, path, message: message.into(), rejected_by: Clients::NONE }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] at {}: {}", self.severity.as_str(), self.code, self.path, self.message)?;
        if !self.rejected_by.is_empty() {
            write!(f, " (rejected by {})", self.rejected_by)?;
        }
        Ok(())
    }
}
