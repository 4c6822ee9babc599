//! The step registry: every kind of step a ceremony runs, with a stable id and title.
//! The engine, `run --status` and the runbook check (tests/runbook.rs) all read this list,
//! so the human runbook and the program cannot drift apart unnoticed.

/// A kind of step. Per-keyholder kinds expand to one instance per keyholder, with the
/// instance id `<kind id>:<keyholder>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepKind {
    pub id: &'static str,
    pub title: &'static str,
    pub per_keyholder: bool,
    /// Which jobs run this step.
    pub runs_in: Runs,
    /// Every instruction to people the program prints in this step, word for word. The
    /// engine prints them from here and tests/runbook.rs checks that the runbook's section
    /// for the step says each of them, so the two cannot drift apart.
    pub says: &'static [&'static str],
}

/// The instructions the steps print (see [`StepKind::says`]).
pub mod say {
    pub const CLOCK: &str = "Compare it with an outside reference (a phone in airplane mode, a radio clock).";
    pub const BINARY: &str = "Compare it with the published release hash.";
    pub const INSERT_NEW: &str = "open your bag and insert your token. Only this one token may be connected.";
    pub const SERIAL: &str = "Read the serial aloud";
    pub const REMOVE: &str = "remove your token and put it back in its bag.";
    pub const INSERT: &str = "insert your token";
    pub const CHANGES: &str = "Witnesses: check the changes above against what this update was approved to do.";
    pub const READOUT: &str = "Read the hash aloud; witnesses compare what is read with the screen.";
}

/// Which jobs a step kind belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runs {
    Both,
    /// Only a new repository or root rotation from the plan.
    Ceremony,
    /// Only an update of existing roles (re-sign, claim).
    Update,
}

pub const STEPS: &[StepKind] = &[
    StepKind { id: "preflight.network", title: "Check the machine is offline", per_keyholder: false, runs_in: Runs::Both, says: &[] },
    StepKind { id: "preflight.clock", title: "Confirm the clock against an outside reference", per_keyholder: false, runs_in: Runs::Both, says: &[say::CLOCK] },
    StepKind { id: "preflight.binary", title: "Record this program's sha256", per_keyholder: false, runs_in: Runs::Both, says: &[say::BINARY] },
    StepKind { id: "preflight.media", title: "Check the removable media", per_keyholder: false, runs_in: Runs::Both, says: &[] },
    StepKind {
        id: "keys.keyholder",
        title: "Provision or load a keyholder's key",
        per_keyholder: true,
        runs_in: Runs::Ceremony,
        says: &[say::INSERT_NEW, say::SERIAL, say::REMOVE],
    },
    StepKind { id: "build.root", title: "Build root metadata", per_keyholder: false, runs_in: Runs::Ceremony, says: &[] },
    StepKind { id: "build.targets", title: "Build targets metadata", per_keyholder: false, runs_in: Runs::Ceremony, says: &[] },
    StepKind { id: "build.delegations", title: "Build offline delegated roles", per_keyholder: false, runs_in: Runs::Ceremony, says: &[] },
    StepKind {
        id: "build.update",
        title: "Build the new versions of the roles being updated",
        per_keyholder: false,
        runs_in: Runs::Update,
        says: &[say::CHANGES],
    },
    StepKind {
        id: "sign.keyholder",
        title: "A keyholder signs every role their key signs",
        per_keyholder: true,
        runs_in: Runs::Both,
        says: &[say::INSERT, say::REMOVE],
    },
    StepKind { id: "verify.result", title: "Verify the result as an auditor would", per_keyholder: false, runs_in: Runs::Both, says: &[] },
    StepKind { id: "export.media", title: "Export to removable media", per_keyholder: false, runs_in: Runs::Both, says: &[] },
    StepKind { id: "finish.readout", title: "Read the transcript hash aloud", per_keyholder: false, runs_in: Runs::Both, says: &[say::READOUT] },
];

/// One concrete step of a ceremony.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub kind: StepKind,
    pub keyholder: Option<String>,
}

impl Step {
    pub fn id(&self) -> String {
        match &self.keyholder {
            Some(k) => format!("{}:{k}", self.kind.id),
            None => self.kind.id.to_string(),
        }
    }
    pub fn title(&self) -> String {
        match &self.keyholder {
            Some(k) => format!("{} ({k})", self.kind.title),
            None => self.kind.title.to_string(),
        }
    }
}

/// Expands the registry for a job: `keyholders` provision (or load) keys, `signers` sign.
pub fn expand(keyholders: &[String], signers: &[String], update: bool) -> Vec<Step> {
    let mut out = Vec::new();
    for kind in STEPS.iter().filter(|k| k.runs_in == Runs::Both || (k.runs_in == Runs::Update) == update) {
        if kind.per_keyholder {
            let who = if kind.id.starts_with("sign.") { signers } else { keyholders };
            out.extend(who.iter().map(|k| Step { kind: *kind, keyholder: Some(k.clone()) }));
        } else {
            out.push(Step { kind: *kind, keyholder: None });
        }
    }
    out
}
