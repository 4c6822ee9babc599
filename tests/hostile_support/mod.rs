//! The machinery of `tests/hostile.rs`: a case table's types, the runner (the real binary as
//! a subprocess, stdin closed, in a session of its own so it has no terminal, killed after
//! [`TIMEOUT`]), the canary folder every case must leave untouched, and the fixtures and
//! file helpers the setups use (`fixtures`).

#![allow(dead_code)]

pub mod fixtures;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A case that takes longer than this is killed and fails: a hang is a failure.
pub const TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------

/// The ten classes of hostile input (the list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// 1. No write follows a link placed by someone else.
    Links = 1,
    /// 2. The approved hash covers everything the plan uses.
    Digest,
    /// 3. Role names from file names are checked.
    RoleNames,
    /// 4. No panic on any input.
    NoPanic,
    /// 5. The working directory cannot change what is signed.
    Workdir,
    /// 6. No input forges an output line.
    Forgery,
    /// 7. Only regular files are read, each with a size limit.
    RegularFiles,
    /// 8. Folders are walked without following links out.
    Walks,
    /// 9. Limits that match.
    Limits,
    /// 10. Operator input errors are input errors.
    OperatorInput,
}

impl Class {
    pub const ALL: [Class; 10] = [
        Class::Links,
        Class::Digest,
        Class::RoleNames,
        Class::NoPanic,
        Class::Workdir,
        Class::Forgery,
        Class::RegularFiles,
        Class::Walks,
        Class::Limits,
        Class::OperatorInput,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Class::Links => "links",
            Class::Digest => "digest",
            Class::RoleNames => "role-names",
            Class::NoPanic => "no-panic",
            Class::Workdir => "workdir",
            Class::Forgery => "forgery",
            Class::RegularFiles => "regular-files",
            Class::Walks => "walks",
            Class::Limits => "limits",
            Class::OperatorInput => "operator-input",
        }
    }
}

/// Prepares a case's folder (`ctx.dir`) before the command runs.
pub type Setup = Box<dyn Fn(&Ctx) + Send + Sync>;
/// A further check of what the command did; `Err` says what is wrong.
pub type Check = Box<dyn Fn(&Ctx, &Outcome) -> Result<(), String> + Send + Sync>;

/// One row of the table: a setup, the command's arguments (with placeholders, see
/// [`Ctx::expand`]), the exit code and the words the output must hold.
pub struct Case {
    pub class: Class,
    pub name: &'static str,
    pub setup: Setup,
    pub args: Vec<&'static str>,
    pub code: i32,
    pub says: Vec<&'static str>,
    pub checks: Vec<Check>,
}

/// A case row: `case(class, name, setup, args, exit code, substrings of the output)`.
pub fn case(class: Class, name: &'static str, setup: impl Fn(&Ctx) + Send + Sync + 'static, args: &[&'static str], code: i32, says: &[&'static str]) -> Case {
    Case { class, name, setup: Box::new(setup), args: args.to_vec(), code, says: says.to_vec(), checks: Vec::new() }
}

impl Case {
    /// Adds a further check of the outcome.
    pub fn check(mut self, f: impl Fn(&Ctx, &Outcome) -> Result<(), String> + Send + Sync + 'static) -> Self {
        self.checks.push(Box::new(f));
        self
    }
}

/// A setup that prepares nothing.
pub fn nothing(_: &Ctx) {}

// ---------------------------------------------------------------------------------------
// The case's world: its folder and the canary outside it
// ---------------------------------------------------------------------------------------

/// Where a case runs: `dir` (the command's working directory, `{d}`) and `canary`, a folder
/// outside it that nothing may change.
pub struct Ctx {
    pub dir: PathBuf,
    pub canary: PathBuf,
}

/// The canary's file: known bytes (every byte value, so any rewrite shows).
pub const CANARY_FILE: &str = "canary.bin";
/// A name inside the canary that does not exist: dangling links point here, and a write
/// through one would create it.
pub const CANARY_NEW: &str = "planted-new";

impl Ctx {
    /// A case folder `root/case` and a fresh canary `root/canary` beside it.
    pub fn new_in(root: &Path) -> Ctx {
        let ctx = Ctx { dir: root.join("case"), canary: root.join("canary") };
        std::fs::create_dir_all(&ctx.dir).unwrap();
        make_canary(&ctx.canary);
        ctx
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// The canary's file (a link to it stands for "a file someone else owns").
    pub fn canary_file(&self) -> PathBuf {
        self.canary.join(CANARY_FILE)
    }

    /// A name in the canary that must never be created.
    pub fn canary_new(&self) -> PathBuf {
        self.canary.join(CANARY_NEW)
    }

    /// Replaces the placeholders of an argument: `{d}` the case folder, `{canary}`,
    /// `{r}` the shared rehearsal folder, `{m}` its media folder, `{md}` its metadata,
    /// `{req}` the shared signature request, `{sig:NAME}` NAME's signature file for it.
    pub fn expand(&self, arg: &str) -> OsString {
        let mut s = arg.replace("{d}", &self.dir.display().to_string()).replace("{canary}", &self.canary.display().to_string());
        if s.contains("{r}") || s.contains("{m}") || s.contains("{md}") {
            let (r, m) = fixtures::rehearsal();
            s = s.replace("{r}", &r.display().to_string()).replace("{md}", &m.join("metadata").display().to_string()).replace("{m}", &m.display().to_string());
        }
        if s.contains("{req}") || s.contains("{sig:") {
            let sg = fixtures::signing();
            s = s.replace("{req}", &sg.request.display().to_string());
            for (who, p) in &sg.sigs {
                s = s.replace(&format!("{{sig:{who}}}"), &p.display().to_string());
            }
        }
        OsString::from(s)
    }
}

/// Creates the canary: a file of known bytes and a subfolder with a file.
pub fn make_canary(dir: &Path) {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let bytes: Vec<u8> = b"canary: nothing may change this\n".iter().copied().chain(0..=255u8).collect();
    std::fs::write(dir.join(CANARY_FILE), bytes).unwrap();
    std::fs::write(dir.join("sub/inner.txt"), b"inner canary\n").unwrap();
}

/// Everything in a folder tree: relative name → type, mode and bytes (or link target).
pub fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            let Ok(m) = std::fs::symlink_metadata(&p) else { continue };
            let mode = m.permissions().mode();
            let what = if m.file_type().is_symlink() {
                format!("link -> {}", std::fs::read_link(&p).map(|t| t.display().to_string()).unwrap_or_default())
            } else if m.is_dir() {
                todo.push(p.clone());
                format!("dir {mode:o}")
            } else if m.is_file() {
                format!("file {mode:o} {}", tuf_ceremony::tuf::keys::hex(&std::fs::read(&p).unwrap_or_default()))
            } else {
                format!("special {mode:o}")
            };
            out.insert(rel, what);
        }
    }
    out
}

/// What differs between two snapshots, in words.
pub fn snapshot_diff(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    let mut d = Vec::new();
    for (k, v) in before {
        match after.get(k) {
            None => d.push(format!("{k} was removed")),
            Some(w) if w != v => d.push(format!("{k} changed")),
            Some(_) => {}
        }
    }
    d.extend(after.keys().filter(|k| !before.contains_key(*k)).map(|k| format!("{k} was created")));
    d
}

// ---------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------

/// What a run of the binary did.
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub timed_out: bool,
}

impl Outcome {
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The lines of stdout that start with `prefix`.
    pub fn lines_starting(&self, prefix: &str) -> usize {
        self.stdout.lines().filter(|l| l.starts_with(prefix)).count()
    }
}

/// How to run the binary.
#[derive(Default)]
pub struct RunOpts<'a> {
    /// `TUF_CEREMONY_CRASH_AFTER` (unset otherwise).
    pub crash_after: Option<&'a str>,
    /// Bytes for stdin (closed otherwise).
    pub stdin: Option<&'a [u8]>,
}

/// Runs `tuf-ceremony ARGS` in `cwd` with stdin closed, no terminal (a new session) and no
/// core dumps, and kills it after [`TIMEOUT`].
pub fn run(args: &[OsString], cwd: &Path, opts: &RunOpts) -> Outcome {
    let mut c = Command::new(crate::support::bin());
    c.args(args).current_dir(cwd).env_remove("TUF_CEREMONY_CRASH_AFTER").env_remove("RUST_BACKTRACE");
    if let Some(step) = opts.crash_after {
        c.env("TUF_CEREMONY_CRASH_AFTER", step);
    }
    c.stdin(if opts.stdin.is_some() { Stdio::piped() } else { Stdio::null() }).stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: setsid and setrlimit are async-signal-safe and touch only the child: a new
    // session has no controlling terminal (so nothing can wait on /dev/tty), and the crash
    // hook's abort leaves no core file.
    unsafe {
        c.pre_exec(|| {
            libc::setsid();
            let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = c.spawn().expect("start tuf-ceremony");
    if let (Some(bytes), Some(mut stdin)) = (opts.stdin, child.stdin.take()) {
        let _ = stdin.write_all(bytes);
    }
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for tuf-ceremony") {
            break s;
        }
        if start.elapsed() > TIMEOUT {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait for the killed tuf-ceremony");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    Outcome { code: status.code(), stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default(), elapsed, timed_out }
}

/// Runs the binary for a setup step; panics (failing the case's setup) if it times out.
pub fn run_setup(args: &[&std::ffi::OsStr], cwd: &Path, opts: &RunOpts) -> Outcome {
    let args: Vec<OsString> = args.iter().map(|a| a.to_os_string()).collect();
    let o = run(&args, cwd, opts);
    assert!(!o.timed_out, "setup run {args:?} timed out");
    o
}

// ---------------------------------------------------------------------------------------
// Judging a case
// ---------------------------------------------------------------------------------------

/// What one case came to.
pub struct Verdict {
    pub class: Class,
    pub name: &'static str,
    pub command: String,
    pub code: Option<i32>,
    pub elapsed: Duration,
    pub problems: Vec<String>,
    pub output: String,
}

/// Debug text (`Some(…)`, a bare `None`) in a message meant for people.
fn debug_text(s: &str) -> Option<&'static str> {
    if s.contains("Some(") {
        return Some("Some(");
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    s.match_indices("None").any(|(i, _)| !word(s[..i].chars().next_back()) && !word(s[i + 4..].chars().next())).then_some("None")
}

fn panic_message(e: Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_else(|| "(no message)".into())
}

/// Runs one case in a fresh folder with a fresh canary and checks everything the table says.
pub fn judge(case: &Case) -> Verdict {
    let tmp = tempfile::Builder::new().prefix("hostile-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let ctx = Ctx::new_in(tmp.path());
    let args: Vec<OsString> = case.args.iter().map(|a| ctx.expand(a)).collect();
    let command = format!("tuf-ceremony {}", args.iter().map(|a| a.to_string_lossy().replace('\n', "\\n")).collect::<Vec<_>>().join(" "));
    let mut v = Verdict { class: case.class, name: case.name, command, code: None, elapsed: Duration::ZERO, problems: Vec::new(), output: String::new() };
    if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (case.setup)(&ctx))) {
        v.problems.push(format!("setup failed: {}", panic_message(e)));
        return v;
    }
    let before = snapshot(&ctx.canary);
    let o = run(&args, &ctx.dir, &RunOpts::default());
    let after = snapshot(&ctx.canary);
    let text = o.text();
    v.code = o.code;
    v.elapsed = o.elapsed;
    v.output = text.clone();
    if o.timed_out {
        v.problems.push(format!("did not finish within {}s (killed): a hang", TIMEOUT.as_secs()));
    }
    if o.code != Some(case.code) {
        v.problems.push(format!("exit code {:?}, expected {}", o.code, case.code));
    }
    for s in &case.says {
        if !text.contains(s) {
            v.problems.push(format!("the output does not say {s:?}"));
        }
    }
    for bad in ["panicked", "RUST_BACKTRACE"] {
        if text.contains(bad) {
            v.problems.push(format!("the output holds {bad:?}"));
        }
    }
    if let Some(d) = debug_text(&text) {
        v.problems.push(format!("the output holds debug text {d:?}"));
    }
    let changed = snapshot_diff(&before, &after);
    if !changed.is_empty() {
        let more = if changed.len() > 4 { format!("; … {} changes in all", changed.len()) } else { String::new() };
        v.problems.push(format!("the canary outside the target changed: {}{more}", changed[..changed.len().min(4)].join("; ")));
    }
    for check in &case.checks {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&ctx, &o))) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => v.problems.push(why),
            Err(e) => v.problems.push(format!("check failed: {}", panic_message(e))),
        }
    }
    v
}

/// Judges every case, several at a time; verdicts in table order.
pub fn judge_all(cases: &[Case]) -> Vec<Verdict> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let verdicts: Mutex<Vec<Option<Verdict>>> = Mutex::new((0..cases.len()).map(|_| None).collect());
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(4).clamp(2, 8);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(c) = cases.get(i) else { break };
                    let v = judge(c);
                    verdicts.lock().unwrap()[i] = Some(v);
                }
            });
        }
    });
    verdicts.into_inner().unwrap().into_iter().map(|v| v.expect("every case judged")).collect()
}

/// The last `n` lines of `text`, indented, for a failure report.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].iter().map(|l| format!("      | {l}")).collect::<Vec<_>>().join("\n")
}
