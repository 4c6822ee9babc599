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
}

pub const STEPS: &[StepKind] = &[
    StepKind { id: "preflight.network", title: "Check the machine is offline", per_keyholder: false },
    StepKind { id: "preflight.clock", title: "Confirm the clock against an outside reference", per_keyholder: false },
    StepKind { id: "preflight.binary", title: "Record this program's sha256", per_keyholder: false },
    StepKind { id: "preflight.media", title: "Check the removable media", per_keyholder: false },
    StepKind { id: "keys.keyholder", title: "Provision or load a keyholder's key", per_keyholder: true },
    StepKind { id: "build.root", title: "Build root metadata", per_keyholder: false },
    StepKind { id: "build.targets", title: "Build targets metadata", per_keyholder: false },
    StepKind { id: "build.delegations", title: "Build offline delegated roles", per_keyholder: false },
    StepKind { id: "sign.keyholder", title: "A keyholder signs every role their key signs", per_keyholder: true },
    StepKind { id: "verify.result", title: "Verify the result as an auditor would", per_keyholder: false },
    StepKind { id: "export.media", title: "Export to removable media", per_keyholder: false },
    StepKind { id: "finish.readout", title: "Read the transcript hash aloud", per_keyholder: false },
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

/// Expands the registry for a ceremony: `keyholders` provision keys, `signers` sign.
pub fn expand(keyholders: &[String], signers: &[String]) -> Vec<Step> {
    let mut out = Vec::new();
    for kind in STEPS {
        if kind.per_keyholder {
            let who = if kind.id.starts_with("sign.") { signers } else { keyholders };
            out.extend(who.iter().map(|k| Step { kind: *kind, keyholder: Some(k.clone()) }));
        } else {
            out.push(Step { kind: *kind, keyholder: None });
        }
    }
    out
}
