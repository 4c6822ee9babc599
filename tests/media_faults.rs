//! Media faults at export time, on real filesystems: a full medium (a tmpfs too small, one
//! filled by a filler file, one out of inodes in the middle of the export), a read-only
//! medium (a read-only tmpfs, a read-only bind mount of the media directory), and a media
//! path that does not exist. Each must fail cleanly: a clear error naming the media and
//! saying what to do, the ceremony state untouched (a re-run continues), no temporary or
//! half-written files left on the faulty medium, and a retry on good media that passes
//! `sha256sum -c`.
//!
//! The rehearsal exports to `DIR/media`; the tests stop a `--yes` rehearsal right after the
//! step before the one under test (`TUF_CEREMONY_CRASH_AFTER`), put the faulty medium at
//! `DIR/media` (a mount over it, or the directory moved away), and resume.
//!
//! Mounting needs root (CAP_SYS_ADMIN); without it these tests skip, or fail under
//! `CI=true` / `TUF_CEREMONY_REQUIRE_ALL=1` (tests/support/mod.rs). Every mount is undone
//! by a guard, also when the test fails.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

// ---------------------------------------------------------------------------------------
// Mounts

/// A mount undone on drop (also while a failing test unwinds).
struct Mount {
    path: PathBuf,
}

impl Drop for Mount {
    fn drop(&mut self) {
        let ok = Command::new("umount").arg(&self.path).status().map(|s| s.success()).unwrap_or(false);
        if !ok {
            // Busy (a process still inside?): detach it so no mount outlives the test.
            let lazy = Command::new("umount").arg("-l").arg(&self.path).status().map(|s| s.success()).unwrap_or(false);
            if !lazy {
                eprintln!("WARNING: could not unmount {}", self.path.display());
            }
        }
    }
}

fn run_mount(args: &[&str], target: &Path) -> Result<(), String> {
    let out = Command::new("mount").args(args).arg(target).output().map_err(|e| format!("cannot run mount: {e}"))?;
    if out.status.success() { Ok(()) } else { Err(format!("mount {} {}: {}", args.join(" "), target.display(), String::from_utf8_lossy(&out.stderr).trim())) }
}

/// Mounts a tmpfs with `opts` (e.g. "size=64k", "ro") at `target`.
fn tmpfs(target: &Path, opts: &str) -> Mount {
    run_mount(&["-t", "tmpfs", "-o", opts, "tmpfs"], target).unwrap_or_else(|e| panic!("{e}"));
    Mount { path: target.to_path_buf() }
}

/// Makes the directory `target` itself read-only (a read-only bind mount onto itself):
/// unlike `chmod 555`, this stops root too.
fn read_only_dir(target: &Path) -> Mount {
    let t = target.to_str().unwrap();
    run_mount(&["--bind", t], target).unwrap_or_else(|e| panic!("{e}"));
    let m = Mount { path: target.to_path_buf() };
    run_mount(&["-o", "remount,bind,ro"], target).unwrap_or_else(|e| panic!("{e}"));
    m
}

fn remount(target: &Path, opts: &str) {
    run_mount(&["-o", &format!("remount,{opts}")], target).unwrap_or_else(|e| panic!("{e}"));
}

/// Whether this process may mount (root with CAP_SYS_ADMIN), tried once on a scratch
/// directory; applies the require-or-skip policy.
fn can_mount() -> bool {
    static CAN: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let r = CAN.get_or_init(|| {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root".into());
        }
        let d = tempfile::tempdir().map_err(|e| e.to_string())?;
        run_mount(&["-t", "tmpfs", "-o", "size=64k", "tmpfs"], d.path())?;
        drop(Mount { path: d.path().to_path_buf() });
        Ok(())
    });
    let why = r.as_ref().err().cloned().unwrap_or_default();
    support::require_or_skip(r.is_ok().then_some(()), "mounting tmpfs (root with CAP_SYS_ADMIN)", &format!("{why}; CI runs these as root")).is_some()
}

// ---------------------------------------------------------------------------------------
// The rehearsal

struct Rehearsal {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Rehearsal {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("r");
        Rehearsal { _tmp: tmp, dir }
    }
    fn media(&self) -> PathBuf {
        self.dir.join("media")
    }
    fn work(&self) -> PathBuf {
        self.dir.join("work")
    }

    /// `rehearse --out DIR --yes`, optionally stopping right after `crash_after`.
    fn run(&self, crash_after: Option<&str>) -> Output {
        let mut c = Command::new(support::bin());
        c.args(["rehearse", "--yes", "--out"]).arg(&self.dir).current_dir(self._tmp.path()).env_remove("TUF_CEREMONY_CRASH_AFTER");
        if let Some(step) = crash_after {
            c.env("TUF_CEREMONY_CRASH_AFTER", step);
        }
        c.output().expect("run tuf-ceremony")
    }

    fn completed(&self) -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(self.work().join("state.json")).unwrap()).unwrap();
        v["completed"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
    }

    /// Runs the rehearsal up to and including `step`, then stops (the crash hook).
    fn stop_after(&self, step: &str) {
        let out = self.run(Some(step));
        assert!(!out.status.success(), "the crash hook did not stop the run after {step}:\n{}", text(&out));
        assert_eq!(self.completed().last().map(String::as_str), Some(step), "state after stopping at {step}");
    }

    /// The ceremony id, from the rehearsal plan.
    fn id(&self) -> String {
        let plan = std::fs::read_to_string(self.dir.join("plan.toml")).unwrap();
        let line = plan.lines().find(|l| l.trim_start().starts_with("id = ")).expect("id in plan");
        line.split('"').nth(1).unwrap().to_string()
    }

    /// Resumes after a fault has been cleared; checks the run continued (nothing redone)
    /// and the export verifies with `sha256sum -c`. Returns the exported folder.
    fn finish(&self, done_before: &[String]) -> PathBuf {
        let out = self.run(None);
        let t = text(&out);
        assert!(out.status.success(), "the retry on good media failed:\n{t}");
        for step in done_before {
            let line = t.lines().find(|l| l.contains(&format!("[{step}]"))).unwrap_or_default();
            assert!(line.contains("already done"), "{step} was not kept as done on the retry: {line:?}");
        }
        if done_before.iter().any(|s| s.starts_with("keys.")) {
            assert!(!t.contains("generated key"), "keys were generated again");
        }
        let dir = self.media().join(self.id());
        sha256sum_check(&dir);
        let transcript = std::fs::read(dir.join("transcript.jsonl")).unwrap();
        tuf_ceremony::ceremony::transcript::verify(&transcript).expect("exported transcript verifies");
        dir
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn sha256sum_check(dir: &Path) {
    let out = Command::new("sha256sum").args(["-c", "--strict", "SHA256SUMS"]).current_dir(dir).output().expect("run sha256sum");
    assert!(out.status.success(), "sha256sum -c in {}:\n{}", dir.display(), text(&out));
    let listed = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap().lines().count();
    assert_eq!(listed + 1, files_under(dir).len(), "files on the media not covered by SHA256SUMS");
}

/// Every file under `dir` (relative path → bytes), directories walked recursively.
fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    out
}

/// Every entry (files and directories) under `dir`, as relative paths.
fn entries_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

/// No temporary (`.NAME.partial-PID`) or probe file anywhere on the medium.
fn assert_no_temp_files(media: &Path) {
    let bad: Vec<String> = entries_under(media)
        .into_iter()
        .filter(|e| e.contains(".partial") || e.contains("probe") || e.rsplit('/').next().is_some_and(|n| n.starts_with('.')))
        .collect();
    assert!(bad.is_empty(), "temporary files left on the faulty media {}: {bad:?}", media.display());
}

/// The ceremony state in the working directory, to prove a fault loses nothing.
struct Snapshot {
    state: Vec<u8>,
    drafts: BTreeMap<String, Vec<u8>>,
    tokens: BTreeMap<String, Vec<u8>>,
    transcript: Vec<u8>,
}

impl Snapshot {
    fn take(r: &Rehearsal) -> Self {
        Snapshot {
            state: std::fs::read(r.work().join("state.json")).unwrap(),
            drafts: files_under(&r.work().join("metadata")),
            tokens: files_under(&r.dir.join("tokens")),
            transcript: std::fs::read(r.work().join("transcript.jsonl")).unwrap(),
        }
    }

    /// State, drafts and tokens unchanged; the transcript only appended to, chain intact.
    fn assert_intact(&self, r: &Rehearsal) {
        let now = Snapshot::take(r);
        assert!(now.state == self.state, "state.json changed by a failed export:\n{}", String::from_utf8_lossy(&now.state));
        assert!(now.drafts == self.drafts, "metadata drafts changed by a failed export");
        assert!(now.tokens == self.tokens, "tokens changed by a failed export");
        assert!(now.transcript.starts_with(&self.transcript), "the transcript was rewritten, not appended to");
        tuf_ceremony::ceremony::transcript::verify(&now.transcript).expect("workdir transcript chain verifies after the fault");
    }
}

/// A clean refusal: exit status 1 (not a crash or panic), one `error:` naming `path`,
/// containing every phrase of `says`.
fn assert_clean_error(out: &Output, path: &Path, says: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "exit status of a media fault (expected a refusal):\n{}", text(out));
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "panic on a media fault:\n{err}");
    let line = err.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("no error line:\n{err}"));
    assert!(line.contains(&path.display().to_string()), "the error does not name the media {}: {line}", path.display());
    for s in says {
        assert!(line.contains(s), "the error does not say {s:?}: {line}");
    }
    line.to_string()
}

/// Entries of a complete export of this plan, plus one for the filesystem root: the
/// number of tmpfs inodes a successful export uses (a reference rehearsal, so the test
/// follows the layout instead of hard-coding it).
fn inodes_of_full_export() -> usize {
    let r = Rehearsal::new();
    let out = r.run(None);
    assert!(out.status.success(), "reference rehearsal:\n{}", text(&out));
    entries_under(&r.media()).len() + 1
}

const EXPORT: &str = "export.media";
const BEFORE_EXPORT: &str = "verify.result";

// ---------------------------------------------------------------------------------------
// A full medium

/// A stick that is too small (a 64 KiB tmpfs swapped in after the preflight): refused
/// before anything is written; the retry on a good stick succeeds.
#[test]
fn full_small_media_then_other_media() {
    if !can_mount() {
        return;
    }
    let r = Rehearsal::new();
    r.stop_after(BEFORE_EXPORT);
    let done = r.completed();
    let snap = Snapshot::take(&r);
    {
        let _m = tmpfs(&r.media(), "size=64k");
        let out = r.run(None);
        assert_clean_error(&out, &r.media(), &["the media is full", "use a larger stick", "run the same command again"]);
        assert_eq!(entries_under(&r.media()), Vec::<String>::new(), "the full media is not left empty");
        snap.assert_intact(&r);
        assert_eq!(r.completed(), done);
    }
    // Another (good) stick at the same place.
    r.finish(&done);
}

/// A stick that has room at the preflight but is then filled (a filler file leaves 40
/// KiB): refused before writing; after deleting the filler the export on the same stick
/// succeeds.
#[test]
fn full_media_filled_after_preflight_then_same_media() {
    if !can_mount() {
        return;
    }
    let r = Rehearsal::new();
    // The preflight (16 MiB free needed) passes on this stick...
    r.stop_after("preflight.binary");
    let m = tmpfs(&r.media(), "size=20m");
    r.stop_after(BEFORE_EXPORT);
    let done = r.completed();
    // ...then it fills up.
    let filler = r.media().join("filler.bin");
    let free = tuf_ceremony::media::free_bytes(&r.media()).expect("statvfs");
    std::fs::write(&filler, vec![0u8; (free - 40 * 1024) as usize]).unwrap();
    let snap = Snapshot::take(&r);
    let out = r.run(None);
    assert_clean_error(&out, &r.media(), &["the media is full", "use a larger stick", "run the same command again"]);
    assert_eq!(entries_under(&r.media()), vec!["filler.bin".to_string()], "the export left something on the full media");
    snap.assert_intact(&r);
    assert_eq!(r.completed(), done);
    // Make room on the same stick and run the export again.
    std::fs::remove_file(&filler).unwrap();
    let dir = r.finish(&done);
    assert!(dir.starts_with(&m.path));
    // The exported transcript holds the abandoned attempt too; the auditor's check counts
    // only the attempt that produced this media, and passes.
    let rep = tuf_ceremony::audit::verify::verify_path(&dir, &tuf_ceremony::audit::verify::Options::new(chrono::Utc::now())).unwrap();
    assert!(rep.ok(), "{:#?}", rep.findings);
    let t = rep.evidence.as_ref().and_then(|e| e.transcript.as_ref()).expect("transcript report");
    assert!(t.files_recorded >= 9 && t.files_matching == t.files_recorded, "{} of {}", t.files_matching, t.files_recorded);
}

/// The stick runs out of room in the middle of the export (a tmpfs limited in inodes,
/// which also counts links: with two too few, the export fails linking
/// `transcript.jsonl` into place). Nothing of the failed attempt remains on the stick, and
/// after making room the export on the same stick succeeds.
#[test]
fn full_media_mid_export_then_same_media() {
    if !can_mount() {
        return;
    }
    mid_export_fault(inodes_of_full_export() - 2);
}

/// As above, with the stick full early, among the metadata and key files (half the inodes).
#[test]
fn full_media_early_in_export_then_same_media() {
    if !can_mount() {
        return;
    }
    mid_export_fault(inodes_of_full_export() / 2);
}

/// As above, but the stick fills up late, when `SUMMARY.txt` is written, after
/// `transcript.jsonl` is already on it.
#[test]
fn full_media_late_in_export_then_same_media() {
    if !can_mount() {
        return;
    }
    mid_export_fault(inodes_of_full_export() - 1);
}

/// Exports to a stick with only `inodes` inodes (fewer than a complete export needs),
/// then retries on the same stick after making room.
fn mid_export_fault(inodes: usize) {
    let r = Rehearsal::new();
    r.stop_after(BEFORE_EXPORT);
    let done = r.completed();
    let snap = Snapshot::take(&r);
    let m = tmpfs(&r.media(), &format!("size=20m,nr_inodes={inodes}"));
    let out = r.run(None);
    let line = assert_clean_error(&out, &r.media(), &["the media is full", "use a larger stick", "run the same command again"]);
    eprintln!("fault with {inodes} inodes: {line}");
    assert_no_temp_files(&r.media());
    // The export is built in a hidden staging folder and renamed into place only when
    // complete, so a failed attempt leaves nothing of it on the stick.
    let left = files_under(&r.media());
    assert!(left.is_empty(), "a failed export left files on the stick: {:?}", left.keys().collect::<Vec<_>>());
    snap.assert_intact(&r);
    let after = Snapshot::take(&r);
    assert!(String::from_utf8_lossy(&after.transcript).contains("\"export.failed\""), "the transcript records the failed attempt");
    assert_eq!(r.completed(), done);
    // Make room on the same stick and run the export again.
    remount(&r.media(), "nr_inodes=10000");
    let dir = r.finish(&done);
    assert!(dir.starts_with(&m.path));
}

// ---------------------------------------------------------------------------------------
// A read-only medium

/// A write-protected stick (a read-only tmpfs) at export: refused, nothing written; the
/// retry on a good stick succeeds.
#[test]
fn read_only_media_at_export_then_other_media() {
    if !can_mount() {
        return;
    }
    let r = Rehearsal::new();
    r.stop_after(BEFORE_EXPORT);
    let done = r.completed();
    let snap = Snapshot::take(&r);
    {
        let _m = tmpfs(&r.media(), "ro,size=1m");
        let out = r.run(None);
        assert_clean_error(&out, &r.media(), &["read-only", "write-protect", "another stick"]);
        assert_eq!(entries_under(&r.media()), Vec::<String>::new());
        snap.assert_intact(&r);
        assert_eq!(r.completed(), done);
    }
    r.finish(&done);
}

/// A stick already holding other files that is (re)mounted read-only: refused with the
/// read-only message, what is on it is untouched; after remounting it read-write the
/// export on it succeeds and the other files are still there.
#[test]
fn read_only_remount_of_used_media_then_same_media() {
    if !can_mount() {
        return;
    }
    let r = Rehearsal::new();
    r.stop_after(BEFORE_EXPORT);
    let done = r.completed();
    let snap = Snapshot::take(&r);
    let m = tmpfs(&r.media(), "size=20m");
    let other = r.media().join("photos");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("holiday.jpg"), b"not really a photo").unwrap();
    remount(&r.media(), "ro");
    let before = files_under(&r.media());
    let out = r.run(None);
    assert_clean_error(&out, &r.media(), &["read-only", "write-protect"]);
    assert_eq!(files_under(&r.media()), before);
    snap.assert_intact(&r);
    remount(&r.media(), "rw");
    let dir = r.finish(&done);
    assert!(dir.starts_with(&m.path));
    assert_eq!(std::fs::read(other.join("holiday.jpg")).unwrap(), b"not really a photo");
}

/// The media directory itself is read-only (a read-only bind mount; `chmod 555` does not
/// stop root) when the preflight checks it: the preflight refuses, the ceremony resumes
/// there once the directory is writable.
#[test]
fn read_only_media_directory_at_preflight() {
    if !can_mount() {
        return;
    }
    let r = Rehearsal::new();
    r.stop_after("preflight.binary");
    let done = r.completed();
    let snap = Snapshot::take(&r);
    {
        let _m = read_only_dir(&r.media());
        let out = r.run(None);
        assert_clean_error(&out, &r.media(), &["read-only"]);
        assert!(text(&out).contains("[preflight.media]"), "the refusal did not come from the media preflight:\n{}", text(&out));
        assert_eq!(entries_under(&r.media()), Vec::<String>::new());
        snap.assert_intact(&r);
        assert_eq!(r.completed(), done);
    }
    r.finish(&done);
}

// ---------------------------------------------------------------------------------------
// A media path that does not exist (no mount needed)

/// No stick mounted at the preflight: refused clearly, the path is not created (which
/// would silently "export" to the internal disk), the ceremony resumes there later.
#[test]
fn missing_media_path_at_preflight() {
    let r = Rehearsal::new();
    r.stop_after("preflight.binary");
    let done = r.completed();
    let snap = Snapshot::take(&r);
    std::fs::remove_dir(r.media()).unwrap();
    let out = r.run(None);
    assert_clean_error(&out, &r.media(), &["not a mounted, writable directory", "No such file or directory"]);
    assert!(text(&out).contains("[preflight.media]"));
    assert!(!r.media().exists(), "the missing media path was created");
    snap.assert_intact(&r);
    assert_eq!(r.completed(), done);
    std::fs::create_dir(r.media()).unwrap();
    r.finish(&done);
}

/// The stick was pulled out between the preflight and the export: refused clearly,
/// nothing created at the media path; export succeeds once it is back.
#[test]
fn missing_media_path_at_export() {
    let r = Rehearsal::new();
    r.stop_after(BEFORE_EXPORT);
    let done = r.completed();
    let snap = Snapshot::take(&r);
    let away = r.dir.join("media.pulled");
    std::fs::rename(r.media(), &away).unwrap();
    let out = r.run(None);
    assert_clean_error(&out, &r.media(), &["not a mounted, writable directory"]);
    assert!(text(&out).contains(&format!("[{EXPORT}]")));
    assert!(!r.media().exists(), "the missing media path was created");
    snap.assert_intact(&r);
    std::fs::rename(&away, r.media()).unwrap();
    r.finish(&done);
}

// ---------------------------------------------------------------------------------------
// FAT and exFAT sticks (through FUSE: this machine's kernel has neither driver)

fn have(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().map(|o| o.status.success()).unwrap_or(false)
}

/// A blank image file of 64 MiB.
fn image(path: &Path) {
    std::fs::File::create(path).and_then(|f| f.set_len(64 << 20)).expect("create the image");
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An exFAT stick mounted at `target` (the file system of most sticks over 32 GB): the
/// image on a loop device, `mkfs.exfat` (exfatprogs), `mount.exfat-fuse` (exfat-fuse). The
/// guard unmounts, then frees the loop device.
struct ExfatStick {
    _mount: Mount,
    _loop: LoopDevice,
}

struct LoopDevice(String);

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}

fn exfat_stick(dir: &Path, target: &Path) -> Option<ExfatStick> {
    let tools = (have("mkfs.exfat") && have("mount.exfat-fuse") && have("losetup") && Path::new("/dev/fuse").exists()).then_some(());
    support::require_or_skip(
        tools,
        "mkfs.exfat, mount.exfat-fuse, losetup and /dev/fuse",
        "apt-get install exfatprogs exfat-fuse (scripts/debian-packages.txt)",
    )?;
    let img = dir.join("exfat.img");
    image(&img);
    let dev = LoopDevice(run_ok(Command::new("losetup").args(["-f", "--show"]).arg(&img)));
    run_ok(Command::new("mkfs.exfat").args(["-L", "CEREMONY", &dev.0]));
    run_ok(Command::new("mount.exfat-fuse").arg(&dev.0).arg(target));
    Some(ExfatStick { _mount: Mount { path: target.to_path_buf() }, _loop: dev })
}

/// A FAT stick mounted at `target` through `fusefat` 0.1a (Debian's fusefat), which turns
/// out to lose a folder's entries when the folder is renamed: here it stands for a faulty
/// stick or driver.
fn lossy_fat_stick(dir: &Path, target: &Path) -> Option<Mount> {
    let tools = (have("mkfs.vfat") && have("fusefat") && Path::new("/dev/fuse").exists()).then_some(());
    support::require_or_skip(tools, "mkfs.vfat, fusefat and /dev/fuse", "apt-get install dosfstools fusefat (scripts/debian-packages.txt)")?;
    let img = dir.join("fat.img");
    image(&img);
    run_ok(Command::new("mkfs.vfat").args(["-n", "CEREMONY"]).arg(&img));
    run_ok(Command::new("fusefat").args(["-o", "rw+"]).arg(&img).arg(target));
    Some(Mount { path: target.to_path_buf() })
}

/// The export onto an exFAT stick. exFAT (like FAT) has no hard links, which the atomic
/// no-overwrite write relied on: before session 4 the export failed there with "the media
/// is read-only". It must complete, pass `sha256sum -c` and `verify`, and leave no
/// temporary file.
#[test]
fn exfat_formatted_media() {
    if !can_mount() {
        return;
    }
    let r = Rehearsal::new();
    r.stop_after(BEFORE_EXPORT);
    let done = r.completed();
    let Some(_stick) = exfat_stick(r._tmp.path(), &r.media()) else { return };
    // exFAT as the export meets it: a file cannot get a second name, and rename cannot be
    // told not to replace (the write's last fallback: check the name, then rename).
    std::fs::write(r.media().join("probe"), b"x").unwrap();
    let link = std::fs::hard_link(r.media().join("probe"), r.media().join("probe2")).unwrap_err();
    assert_eq!(link.raw_os_error(), Some(libc::EPERM), "{link}");
    std::fs::remove_file(r.media().join("probe")).unwrap();

    let dir = r.finish(&done);
    assert_no_temp_files(&r.media());
    let out = Command::new(support::bin()).arg("verify").arg(&dir).output().expect("run verify");
    assert!(out.status.success(), "verify of the export on the exFAT stick:\n{}", text(&out));
}

/// A stick that loses what the final rename moves (the export is built in a staging folder
/// and renamed into place): the export must not be reported done. Every file is read back
/// from its final place; here they are gone, so the step fails with a clear error, the
/// ceremony state is untouched, and a retry on another stick succeeds.
#[test]
fn media_that_loses_the_renamed_export() {
    if !can_mount() {
        return;
    }
    let r = Rehearsal::new();
    r.stop_after(BEFORE_EXPORT);
    let done = r.completed();
    let snap = Snapshot::take(&r);
    {
        let Some(_stick) = lossy_fat_stick(r._tmp.path(), &r.media()) else { return };
        let out = r.run(None);
        assert_clean_error(&out, &r.media(), &["after the export was moved into place", "faulty media", "another stick"]);
        assert!(!text(&out).contains("Ceremony complete"), "{}", text(&out));
        snap.assert_intact(&r);
        assert_eq!(r.completed(), done);
    }
    r.finish(&done);
}
