//! The preflight steps (network, clock, program, media) and the program check every start
//! and resume makes.

use super::*;

impl Engine<'_> {
    pub(super) fn preflight_network(&mut self) -> Result<()> {
        let up = interfaces_up();
        if up.is_empty() {
            self.ui.show("No network interface other than loopback is up.");
            return self.record("preflight.network", fields! { "interfaces_up" => Vec::<String>::new() });
        }
        let list = up.join(", ");
        if self.opts.allow_network || self.opts.rehearsal {
            let why = if self.opts.allow_network { "--allow-network" } else { "rehearsal" };
            self.ui.show(&format!("WARNING: network interfaces are up ({list}); continuing because of {why}. This is recorded."));
            return self.record("preflight.network", fields! { "interfaces_up" => up, "override" => why });
        }
        Err(CeremonyError::Refused(format!(
            "network interfaces are up ({list}). An offline ceremony must run air-gapped: disconnect or disable them (e.g. `ip link set {} down`), or pass --allow-network to override (recorded in the transcript).",
            up[0]
        )))
    }

    pub(super) fn preflight_clock(&mut self) -> Result<()> {
        let now = Utc::now();
        self.ui.show(&format!(
            "The machine clock reads {} UTC.\n{}\nEvery expiry date depends on it, and boards without a real-time clock start in 1970.",
            now.format("%Y-%m-%d %H:%M:%S"),
            say::CLOCK
        ));
        if !self.ui.confirm("Does the clock match the outside reference to within a few minutes?")? {
            return Err(CeremonyError::Refused(
                "the clock is wrong: set it (`date -u -s 'YYYY-MM-DD HH:MM:SS'`) and run again; the ceremony resumes at this step".into(),
            ));
        }
        self.state.ceremony_time = Some(now_str(now));
        self.record("clock.confirmed", fields! { "clock" => now_str(now) })
    }

    pub(super) fn preflight_binary(&mut self) -> Result<()> {
        let h = self.program.clone();
        let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
        self.ui.show(&format!("This program is {}\n  sha256 {h}\n{}\n{}", one_line(&exe), pgp(&h, "  "), say::BINARY));
        self.state.binary_sha256 = Some(h.clone());
        self.record("preflight.binary", fields! { "sha256" => h })
    }

    pub(super) fn preflight_media(&mut self) -> Result<()> {
        let needed = 16 * 1024 * 1024;
        let free = media::check_media(&self.opts.media, needed)?;
        self.ui.show(&format!("Media at {} is writable with {} MiB free.", self.opts.media.display(), free / (1024 * 1024)));
        let dir = self.opts.media.display().to_string();
        self.record("preflight.media", fields! { "media" => dir, "free_bytes" => free })
    }
}

/// Every program that ran a ceremony is recorded; one the plan does not expect, or another
/// than the one that ran this ceremony before, goes on only once the operator confirms.
/// Returns why it was confirmed ("" when nothing differed).
pub(super) fn confirm_program(plan: &Plan, program: &str, lines: &[serde_json::Map<String, serde_json::Value>], ui: &mut dyn Ui) -> Result<String> {
    let mut why = Vec::new();
    if let Some(want) = &plan.binary_sha256
        && want != program
    {
        why.push(format!("the plan expects program sha256 {want}"));
    }
    let before = lines
        .iter()
        .rev()
        .filter(|l| matches!(l.get("kind").and_then(|k| k.as_str()), Some("ceremony.start" | "ceremony.resume")))
        .find_map(|l| Some((l.get("binary_sha256")?.as_str()?.to_string(), l.get("time").and_then(|t| t.as_str()).unwrap_or("?").to_string())));
    if let Some((h, at)) = before
        && h != program
    {
        why.push(format!("this ceremony last ran with program sha256 {} ({})", one_line(&h), one_line(&at)));
    }
    if why.is_empty() {
        return Ok(String::new());
    }
    ui.show(&format!("WARNING: this program is sha256 {program}\n{}\nbut {}.", pgp(program, "  "), why.join(", and ")));
    if !ui.confirm("Go on with this program (recorded in the transcript)?")? {
        return Err(CeremonyError::Refused("the program was not confirmed; nothing was done. Run the expected release.".into()));
    }
    Ok(why.join("; "))
}

/// Network interfaces other than loopback that are administratively up.
pub fn interfaces_up() -> Vec<String> {
    let Ok(rd) = std::fs::read_dir("/sys/class/net") else { return Vec::new() };
    let mut v: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lo")
        .filter(|n| {
            std::fs::read_to_string(format!("/sys/class/net/{n}/flags"))
                .ok()
                .and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok())
                .is_some_and(|flags| flags & 1 == 1)
        })
        .collect();
    v.sort();
    v
}

/// This program's sha256: what the transcript records at every start and resume.
pub fn program_sha256() -> Result<String> {
    let exe = std::env::current_exe().map_err(|e| CeremonyError::File { path: "<current exe>".into(), what: e.to_string() })?;
    let bytes = fsx::read(&exe, Kind::Program).map_err(|e| CeremonyError::File { path: exe.clone(), what: e.to_string() })?;
    Ok(sha256_hex(&bytes))
}
