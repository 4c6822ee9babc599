//! Hostile input, table-driven: every case runs the real binary as a subprocess (stdin
//! closed, no terminal, killed after a minute: a hang is a failure) and must give the exit
//! code and the words the table says, never panic, never print debug text, and leave a
//! canary folder outside its target byte for byte as it was. The ten classes are the
//! issue's: links placed where the tool writes, the plan digest, role names from file
//! names, panics, the working directory, forged output lines, non-regular and oversized
//! files, folder walks, limits, and operator input.
//!
//! One `#[test]` runs the whole table (several cases at a time) and prints a line per case;
//! every failure is reported together at the end, with its command and output.
//! `HOSTILE_DUMP=1` also prints every case's command and last lines of output. A few cases
//! that do not fit a row are `#[test]`s below the table. The machinery (runner, canary,
//! fixtures) is in `tests/hostile_support/`.

mod hostile_support;
mod support;

use hostile_support::fixtures::{
    ceremony_id, copy_tree, edit_json, edit_text, fifo, key_json, link, load, other_public_key_pem, rechain, rehearsal, resign_with_tokens, signing,
    targets_draft, write,
};
use hostile_support::{Case, Class, Ctx, Outcome, RunOpts, case, judge_all, nothing, run, run_setup, tail};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------
// Commands the table runs ({d} is the case's folder; see Ctx::expand)
// ---------------------------------------------------------------------------------------

/// Resumes the rehearsal copied to `{d}/r` (a crash-stopped one, usually).
const REHEARSE: &[&str] = &["rehearse", "--yes", "--out", "{d}/r"];
/// A fresh ceremony from `{d}/plan.toml` in the working directory `{d}/w`.
const RUN_FRESH: &[&str] = &["run", "{d}/plan.toml", "--workdir", "{d}/w", "--media", "{d}/stick", "--allow-network"];
/// `run --status` of the rehearsal at `{d}/r`.
const RUN_STATUS: &[&str] = &["run", "{d}/r/plan.toml", "--workdir", "{d}/r/work", "--status"];
const PLAN_CHECK: &[&str] = &["plan", "check", "{d}/plan.toml"];
const STATUS_WITH_PLAN: &[&str] = &["status", "{m}", "--plan", "{d}/plan.toml"];
const VERIFY_MEDIA: &[&str] = &["verify", "{d}/media"];
const STATUS_MEDIA: &[&str] = &["status", "{d}/media"];
/// Signs the request copied to `{d}/request` as alice (the hash cannot be typed: stdin is closed).
const SIGN: &[&str] = &["sign", "{d}/request", "--keyholder", "alice", "--plan", "{r}/plan.toml", "--tokens", "{r}/tokens"];
/// Signs the request copied to `{d}/request` as bob.
const SIGN_BOB: &[&str] = &["sign", "{d}/request", "--keyholder", "bob", "--plan", "{r}/plan.toml", "--tokens", "{r}/tokens"];
/// Imports alice's signature file as changed at `{d}/alice.sig.json`, and bob's.
const IMPORT_EDITED: &[&str] = &["import-signatures", "{req}", "{d}/alice.sig.json", "{sig:bob}", "--out", "{d}/out"];
const IMPORT: &[&str] = &["import-signatures", "{req}", "{sig:alice}", "{sig:bob}", "--out", "{d}/out"];
/// Imports into `{d}/out` from the request copied to `{d}/request`.
const IMPORT_COPY: &[&str] = &["import-signatures", "{d}/request", "{sig:alice}", "{sig:bob}", "--out", "{d}/out"];
/// sign-request of the draft written to `{d}/2.targets.json` onto `{d}/stick`.
const SIGN_REQUEST: &[&str] = &["sign-request", "{d}/2.targets.json", "--role", "targets", "--delegator", "{md}/1.root.json", "--media", "{d}/stick"];
/// claim from the list at `{d}/list.json`; nothing may be created at `{d}/claim.work`.
const CLAIM_LIST: &[&str] =
    &["claim", "--plan", "{r}/plan.toml", "--current", "{md}", "--media", "{d}/stick", "--workdir", "{d}/claim.work", "--list", "{d}/list.json"];

/// `resign ROLE` from the metadata copied to `{d}/current`.
fn resign(role: &'static str) -> Vec<&'static str> {
    vec!["resign", role, "--plan", "{r}/plan.toml", "--current", "{d}/current", "--media", "{d}/stick", "--workdir", "{d}/w"]
}

/// `claim --role ROLE` from the metadata copied to `{d}/current`.
fn claim_role(role: &'static str) -> Vec<&'static str> {
    vec![
        "claim",
        "--role",
        role,
        "--list",
        "{d}/list.json",
        "--plan",
        "{r}/plan.toml",
        "--current",
        "{d}/current",
        "--media",
        "{d}/stick",
        "--workdir",
        "{d}/w",
    ]
}

// ---------------------------------------------------------------------------------------
// Setups: one helper per kind
// ---------------------------------------------------------------------------------------

/// A rehearsal stopped after `step`, copied to `{d}/r`, then changed by `plant`.
fn resume(step: &'static str, plant: impl Fn(&Ctx, &Path) + Send + Sync + 'static) -> impl Fn(&Ctx) + Send + Sync + 'static {
    move |ctx| {
        let r = ctx.crashed(step);
        plant(ctx, &r);
    }
}

/// A rehearsal stopped after `step` whose `work/state.json` is changed by `edit`.
fn state_edit(step: &'static str, edit: impl Fn(&mut serde_json::Value) + Send + Sync + 'static) -> impl Fn(&Ctx) + Send + Sync + 'static {
    resume(step, move |_, r| edit_json(&r.join("work/state.json"), &edit))
}

/// The rehearsal's plan, edited, at `{d}/plan.toml` (with its online keys).
fn plan_edit(edit: impl Fn(&str) -> String + Send + Sync + 'static) -> impl Fn(&Ctx) + Send + Sync + 'static {
    move |ctx| {
        ctx.plan_copy(&edit);
        ctx.stick();
    }
}

/// The rehearsal's plan as it is at `{d}/plan.toml`, then `f` (on its online keys, say).
fn plan_then(f: impl Fn(&Ctx) + Send + Sync + 'static) -> impl Fn(&Ctx) + Send + Sync + 'static {
    move |ctx| {
        plan_edit(str::to_string)(ctx);
        f(ctx);
    }
}

/// `plan_edit` replacing the first `from` with `to` (which must be there).
fn plan_replace(from: &'static str, to: &'static str) -> impl Fn(&Ctx) + Send + Sync + 'static {
    plan_edit(move |t| {
        assert!(t.contains(from), "the plan has no {from:?}");
        t.replacen(from, to, 1)
    })
}

/// A copy of the media folder at `{d}/media`, changed by `f`.
fn media_edit(f: impl Fn(&Ctx, &Path) + Send + Sync + 'static) -> impl Fn(&Ctx) + Send + Sync + 'static {
    move |ctx| {
        let m = ctx.media_copy();
        f(ctx, &m);
    }
}

/// A copy of the metadata folder at `{d}/current`, changed by `f`, and an empty stick.
fn current_edit(f: impl Fn(&Ctx, &Path) + Send + Sync + 'static) -> impl Fn(&Ctx) + Send + Sync + 'static {
    move |ctx| {
        let c = ctx.metadata_copy();
        ctx.stick();
        write(&ctx.path("list.json"), "[]");
        f(ctx, &c);
    }
}

/// A copy of the signature request at `{d}/request`, changed by `f`.
fn request_edit(f: impl Fn(&Ctx, &Path) + Send + Sync + 'static) -> impl Fn(&Ctx) + Send + Sync + 'static {
    move |ctx| {
        let r = ctx.request_copy();
        f(ctx, &r);
    }
}

/// The request copied with `request.json` changed by `edit`.
fn request_json_edit(edit: impl Fn(&mut serde_json::Value) + Send + Sync + 'static) -> impl Fn(&Ctx) + Send + Sync + 'static {
    request_edit(move |_, r| edit_json(&r.join("request.json"), &edit))
}

/// alice's signature file copied to `{d}/alice.sig.json` and changed by `edit`.
fn signature_edit(edit: impl Fn(&mut serde_json::Value) + Send + Sync + 'static) -> impl Fn(&Ctx) + Send + Sync + 'static {
    move |ctx| {
        let p = ctx.path("alice.sig.json");
        copy_tree(&signing().sigs["alice"], &p);
        edit_json(&p, &edit);
    }
}

/// `{d}/list.json` holding `text` (`KEY` replaced by alice's public key), and an empty stick.
fn claim_list(text: &'static str) -> impl Fn(&Ctx) + Send + Sync + 'static {
    move |ctx| {
        write(&ctx.path("list.json"), text.replace("KEY", &key_json("alice")));
        ctx.stick();
    }
}

/// The targets v2 draft at `{d}/2.targets.json` (changed by `edit`) and an empty stick.
fn draft(edit: impl Fn(&Ctx, &Path) + Send + Sync + 'static) -> impl Fn(&Ctx) + Send + Sync + 'static {
    move |ctx| {
        let d = targets_draft(rehearsal().1, &ctx.dir);
        ctx.stick();
        edit(ctx, &d);
    }
}

/// A metadata folder at `{d}/folder` with the rehearsal's metadata, changed by `f`.
fn folder(f: impl Fn(&Ctx, &Path) + Send + Sync + 'static) -> impl Fn(&Ctx) + Send + Sync + 'static {
    move |ctx| {
        let dir = ctx.path("folder");
        copy_tree(&rehearsal().1.join("metadata"), &dir);
        f(ctx, &dir);
    }
}

/// Writes a file of `n` bytes of `#` at `{d}/rel`.
fn oversized(rel: &'static str, n: usize) -> impl Fn(&Ctx) + Send + Sync + 'static {
    move |ctx| write(&ctx.path(rel), vec![b'#'; n])
}

/// Changes the `$.signed.expires` of a metadata file, in place (signatures left as they are).
fn set_expires(p: &Path, expires: &str) {
    edit_json(p, |v| v["signed"]["expires"] = expires.into());
}

/// Replaces the first sha256 in a text file with 32 two-byte characters (64 bytes, not hex).
fn multibyte_hash(p: &Path) {
    edit_text(p, |t| {
        let b = t.as_bytes();
        let at = (0..b.len().saturating_sub(63)).find(|&i| b[i..i + 64].iter().all(u8::is_ascii_hexdigit)).expect("a sha256 in the file");
        format!("{}{}{}", &t[..at], "é".repeat(32), &t[at + 64..])
    });
}

/// The export folder of the rehearsal at `{d}/r`: `{d}/r/media/<id>`.
fn export_dir(ctx: &Ctx) -> PathBuf {
    let r = ctx.path("r");
    r.join("media").join(ceremony_id(&r))
}

/// The name `sign-request` gives the shared draft's request folder.
fn request_name() -> String {
    format!("sign-targets-v2-{}", &signing().hash[..8])
}

/// A fresh working directory `{d}/w` for `{d}/plan.toml`, with `plant` done in it.
fn fresh_workdir(plant: impl Fn(&Ctx, &Path) + Send + Sync + 'static) -> impl Fn(&Ctx) + Send + Sync + 'static {
    move |ctx| {
        plan_edit(str::to_string)(ctx);
        let w = ctx.path("w");
        std::fs::create_dir_all(&w).unwrap();
        plant(ctx, &w);
    }
}

/// An import output folder `{d}/out` with `plant` done in it.
fn out_folder(plant: impl Fn(&Ctx, &Path) + Send + Sync + 'static) -> impl Fn(&Ctx) + Send + Sync + 'static {
    move |ctx| {
        let out = ctx.path("out");
        std::fs::create_dir_all(&out).unwrap();
        plant(ctx, &out);
    }
}

/// Replaces an online key file of the rehearsal at `r` with another key.
fn swap_key(r: &Path, file: &str) {
    write(&r.join("online-keys").join(file), other_public_key_pem());
}

/// A metadata file name that tries to start a line of its own, with C1 and bidi characters.
const FORGING_NAME: &str = "1.x\nStatus: ok (exit 0)\nResult: OK (exit 0)\u{85}\u{202e}.json";

/// The metadata folder copy with a copy of claimed under [`FORGING_NAME`].
fn forging_name_folder() -> impl Fn(&Ctx) + Send + Sync + 'static {
    folder(|_, f| copy_tree(&f.join("1.claimed.json"), &f.join(FORGING_NAME)))
}

/// A forged verdict with C1 and bidi characters, for a transcript field.
const FORGED_VERDICT: &str = "x\nResult: OK (exit 0)\u{85}\u{202e}";

/// The media copy whose transcript's first entry has `field` set to [`FORGED_VERDICT`]
/// (and chained again, so only what the field holds is hostile).
fn transcript_field(field: &'static str) -> impl Fn(&Ctx) + Send + Sync + 'static {
    media_edit(move |_, m| {
        rechain(&m.join("transcript.jsonl"), |e| {
            if e.get("kind").and_then(|k| k.as_str()) == Some("ceremony.start") {
                e.insert(field.into(), FORGED_VERDICT.into());
            }
        })
    })
}

// ---------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------

type CheckFn = Box<dyn Fn(&Ctx, &Outcome) -> Result<(), String> + Send + Sync>;

fn ok_if(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(why()) }
}

/// Nothing exists at `{d}/rel` (no working directory, no output folder).
fn absent(rel: &'static str) -> CheckFn {
    Box::new(move |ctx, _| ok_if(std::fs::symlink_metadata(ctx.path(rel)).is_err(), || format!("{rel} was created")))
}

/// The path `at` gives is still the symbolic link that was planted there.
fn still_link(at: fn(&Ctx) -> PathBuf) -> CheckFn {
    Box::new(move |ctx, _| {
        let p = at(ctx);
        ok_if(std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()), || format!("{} is no longer the link", p.display()))
    })
}

/// `{d}/rel` is an empty folder.
fn empty_dir(rel: &'static str) -> CheckFn {
    Box::new(move |ctx, _| {
        let n = std::fs::read_dir(ctx.path(rel)).map(|d| d.count()).unwrap_or(0);
        ok_if(n == 0, || format!("{rel} holds {n} entries"))
    })
}

/// Exactly one line of stdout starts with `prefix` (the tool's own, none forged).
fn one_line_starting(prefix: &'static str) -> CheckFn {
    Box::new(move |_, o| {
        let n = o.lines_starting(prefix);
        ok_if(n == 1, || format!("{n} lines start with {prefix:?}, expected exactly one"))
    })
}

/// No line of stdout or stderr starts with `prefix`.
fn no_line_starting(prefix: &'static str) -> CheckFn {
    Box::new(move |_, o| ok_if(!o.text().lines().any(|l| l.starts_with(prefix)), || format!("a line starts with {prefix:?}: a forged line")))
}

/// The run took less than `secs` seconds (a walk that did not go round a link loop).
fn quick(secs: u64) -> CheckFn {
    Box::new(move |_, o| ok_if(o.elapsed.as_secs() < secs, || format!("took {:?}, expected under {secs}s", o.elapsed)))
}

/// JSON output with C1 and bidi characters escaped (`\u0085`, `\u202e`), none raw.
fn json_escaped() -> CheckFn {
    Box::new(|_, o| {
        let raw = o.stdout.contains('\u{85}') || o.stdout.contains('\u{202e}');
        ok_if(!raw && o.stdout.contains("\\u0085") && o.stdout.contains("\\u202e"), || "C1/bidi characters not escaped as \\u0085 / \\u202e".into())
    })
}

/// The "Plan digest:" line of plan check output.
fn digest_line(text: &str) -> String {
    text.lines().find(|l| l.starts_with("Plan digest:")).unwrap_or_default().to_string()
}

/// The line naming the plan file's own sha256.
fn plan_sha_line(text: &str) -> String {
    text.lines().find(|l| l.contains("covers the plan file")).unwrap_or_default().to_string()
}

/// Saves `plan check {d}/plan.toml`'s output as `{d}/before.txt` (for a later comparison).
fn plan_check_before(ctx: &Ctx) {
    let o = run_setup(&["plan".as_ref(), "check".as_ref(), ctx.path("plan.toml").as_os_str()], &ctx.dir, &RunOpts::default());
    assert_eq!(o.code, Some(0), "plan check: {}", o.text());
    write(&ctx.path("before.txt"), o.stdout);
}

/// The names in a folder.
fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

/// The rehearsal's media folder holds the export, a real folder, and nothing else.
fn media_holds_only_the_export(ctx: &Ctx, _: &Outcome) -> Result<(), String> {
    let names = names_in(&ctx.path("r/media"));
    let real = std::fs::symlink_metadata(export_dir(ctx)).is_ok_and(|m| m.is_dir());
    ok_if(names == [ceremony_id(&ctx.path("r"))] && real, || format!("the media holds {names:?}"))
}

/// The stick holds the request folder and nothing else.
fn stick_holds_only_the_request(ctx: &Ctx, _: &Outcome) -> Result<(), String> {
    let names = names_in(&ctx.path("stick"));
    ok_if(names == [request_name()], || format!("the stick holds {names:?}"))
}

/// Against `{d}/before.txt`: another plan digest, the same sha256 of the plan file itself.
fn digest_changed_plan_sha_not(ctx: &Ctx, o: &Outcome) -> Result<(), String> {
    let before = std::fs::read_to_string(ctx.path("before.txt")).unwrap();
    ok_if(digest_line(&before) != digest_line(&o.stdout), || "the digest did not change with the key file".into())?;
    ok_if(plan_sha_line(&before) == plan_sha_line(&o.stdout), || "the plan file's own sha256 changed, but its text did not".into())
}

/// Against `{d}/before.txt`: the same plan digest.
fn digest_unchanged(ctx: &Ctx, o: &Outcome) -> Result<(), String> {
    let before = std::fs::read_to_string(ctx.path("before.txt")).unwrap();
    ok_if(!digest_line(&before).is_empty() && digest_line(&before) == digest_line(&o.stdout), || "the digest depends on where the files are".into())
}

/// `{d}/r/work/plan/` holds MANIFEST (the digest's text over the plan and its files) and
/// byte-for-byte copies, and the digest `run --status` prints is MANIFEST's sha256.
fn frozen_plan_matches(ctx: &Ctx, o: &Outcome) -> Result<(), String> {
    use tuf_ceremony::tuf::keys::sha256_hex;
    let (r, frozen) = (ctx.path("r"), ctx.path("r/work/plan"));
    let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let manifest = String::from_utf8(read(&frozen.join("MANIFEST"))).unwrap();
    let plan_line = format!("plan {}\n", sha256_hex(&read(&r.join("plan.toml"))));
    let key_line = format!("roles.timestamp.key {}\n", sha256_hex(&read(&r.join("online-keys/timestamp.pub"))));
    let lines_ok = manifest.starts_with("tuf-ceremony plan digest v1\n") && manifest.contains(&plan_line) && manifest.contains(&key_line);
    ok_if(lines_ok, || format!("MANIFEST:\n{manifest}"))?;
    ok_if(read(&frozen.join("plan.toml")) == read(&r.join("plan.toml")), || "plan/plan.toml is not the plan".into())?;
    ok_if(read(&frozen.join("file.roles.timestamp.key")) == read(&r.join("online-keys/timestamp.pub")), || "the key copy differs".into())?;
    ok_if(o.stdout.contains(&format!("plan digest {}", sha256_hex(manifest.as_bytes()))), || "the digest is not the MANIFEST's sha256".into())
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

fn table() -> Vec<Case> {
    [links(), digest(), role_names(), no_panic(), workdir(), forgery(), regular_files(), walks(), limits(), operator_input()].into_iter().flatten().collect()
}

/// 1. No write follows a link placed by someone else.
fn links() -> Vec<Case> {
    use Class::Links as C;
    vec![
        case(
            C,
            "export folder name planted as a link to the canary",
            resume("verify.result", |ctx, _| link(&ctx.canary, &export_dir(ctx))),
            REHEARSE,
            1,
            &["a folder of that name is already on the media"],
        )
        .check(still_link(export_dir)),
        case(
            C,
            "export folder name planted as a dangling link",
            resume("verify.result", |ctx, _| link(&ctx.canary_new(), &export_dir(ctx))),
            REHEARSE,
            1,
            &["a folder of that name is already on the media"],
        )
        .check(still_link(export_dir)),
        case(
            C,
            "staging names planted as links are removed, never followed",
            resume("verify.result", |ctx, r| {
                let id = ceremony_id(r);
                link(&ctx.canary, &r.join(format!("media/.{id}.incomplete")));
                link(&ctx.canary, &r.join(format!("media/.{id}.incomplete-00ff00ff00ff00ff00ff00ff")));
            }),
            REHEARSE,
            0,
            &["Ceremony complete"],
        )
        .check(media_holds_only_the_export),
        case(
            C,
            "working directory's metadata/ a link to the canary",
            resume("preflight.clock", |ctx, r| link(&ctx.canary, &r.join("work/metadata"))),
            REHEARSE,
            2,
            &["work/metadata: is a symbolic link, not a folder"],
        ),
        case(
            C,
            "state.json a link to a file outside",
            resume("preflight.clock", |ctx, r| link(&ctx.canary_file(), &r.join("work/state.json"))),
            REHEARSE,
            2,
            &["state.json: is a symbolic link"],
        ),
        case(
            C,
            "transcript.jsonl a link to a file outside",
            resume("preflight.clock", |ctx, r| link(&ctx.canary_file(), &r.join("work/transcript.jsonl"))),
            REHEARSE,
            2,
            &["transcript.jsonl: is a symbolic link"],
        ),
        case(
            C,
            "a draft planted as a link before it is built",
            resume("keys.keyholder:carol", |ctx, r| link(&ctx.canary_file(), &r.join("work/metadata/root.json"))),
            REHEARSE,
            2,
            &["root.json: is a symbolic link"],
        ),
        case(
            C,
            "fresh working directory whose plan/ is a link",
            fresh_workdir(|ctx, w| link(&ctx.canary, &w.join("plan"))),
            RUN_FRESH,
            2,
            &["w/plan: is a symbolic link, not a folder"],
        ),
        case(
            C,
            "fresh working directory whose transcript is a dangling link",
            fresh_workdir(|ctx, w| link(&ctx.canary_new(), &w.join("transcript.jsonl"))),
            RUN_FRESH,
            2,
            &["transcript.jsonl: is a symbolic link"],
        ),
        case(
            C,
            "fresh working directory whose state.json is a dangling link",
            fresh_workdir(|ctx, w| link(&ctx.canary_new(), &w.join("state.json"))),
            RUN_FRESH,
            2,
            &["state.json: is a symbolic link"],
        ),
        case(
            C,
            "import output name a link to the canary file",
            out_folder(|ctx, o| link(&ctx.canary_file(), &o.join("2.targets.json"))),
            IMPORT,
            2,
            &["2.targets.json: is a symbolic link"],
        ),
        case(
            C,
            "import output name a dangling link",
            out_folder(|ctx, o| link(&ctx.canary_new(), &o.join("2.targets.json"))),
            IMPORT,
            2,
            &["2.targets.json: is a symbolic link"],
        ),
        case(
            C,
            "sign --out: the signature file name a link to the canary file",
            request_edit(|ctx, _| {
                std::fs::create_dir_all(ctx.path("sigs")).unwrap();
                link(&ctx.canary_file(), &ctx.path("sigs/targets-v2.alice.sig.json"));
            }),
            &["sign", "{d}/request", "--keyholder", "alice", "--plan", "{r}/plan.toml", "--tokens", "{r}/tokens", "--out", "{d}/sigs"],
            1,
            &["sigs/targets-v2.alice.sig.json already exists; refusing to overwrite it"],
        ),
        case(
            C,
            "sign: the signature file name in the request folder a link",
            request_edit(|ctx, r| link(&ctx.canary_file(), &r.join("targets-v2.alice.sig.json"))),
            SIGN,
            1,
            &["targets-v2.alice.sig.json already exists; refusing to overwrite it"],
        ),
        // The rehearsal's media folder is the tool's own (made in DIR); a link planted there
        // is someone else's, as a link at the export's name is.
        case(
            C,
            "the rehearsal's media folder replaced by a link to the canary",
            resume("verify.result", |ctx, r| link(&ctx.canary, &r.join("media"))),
            REHEARSE,
            2,
            &["media: is a symbolic link"],
        ),
        case(
            C,
            "the rehearsal's work folder replaced by a link to the canary",
            resume("preflight.network", |ctx, r| link(&ctx.canary, &r.join("work"))),
            REHEARSE,
            2,
            &["is a symbolic link"],
        ),
        case(
            C,
            "keygen --out a link to the canary file",
            |ctx: &Ctx| link(&ctx.canary_file(), &ctx.path("k.pem")),
            &["keygen", "--out", "{d}/k.pem"],
            1,
            &["k.pem already exists"],
        ),
        case(
            C,
            "keygen --public-out a link to the canary file",
            |ctx: &Ctx| link(&ctx.canary_file(), &ctx.path("k.json")),
            &["keygen", "--out", "{d}/k.pem", "--public-out", "{d}/k.json"],
            1,
            &["k.json already exists"],
        )
        .check(absent("k.pem")),
        case(
            C,
            "keygen --out a dangling link",
            |ctx: &Ctx| link(&ctx.canary_new(), &ctx.path("k.pem")),
            &["keygen", "--out", "{d}/k.pem"],
            2,
            &["cannot read passphrase"],
        ),
        case(
            C,
            "plan new --out a link to the canary file",
            |ctx: &Ctx| link(&ctx.canary_file(), &ctx.path("p.toml")),
            &["plan", "new", "--out", "{d}/p.toml"],
            1,
            &["p.toml already exists"],
        ),
        case(
            C,
            "plan new --out a dangling link",
            |ctx: &Ctx| link(&ctx.canary_new(), &ctx.path("p.toml")),
            &["plan", "new", "--out", "{d}/p.toml"],
            2,
            &["p.toml: File exists"],
        ),
        case(
            C,
            "sign-request: the request folder name planted as a link",
            draft(|ctx, _| link(&ctx.canary, &ctx.path("stick").join(request_name()))),
            SIGN_REQUEST,
            1,
            &["a folder of that name is already on the media"],
        ),
        case(
            C,
            "sign-request: a staging name planted as a link is removed",
            draft(|ctx, _| link(&ctx.canary, &ctx.path("stick").join(format!(".{}.incomplete", request_name())))),
            SIGN_REQUEST,
            0,
            &["Request folder: "],
        )
        .check(stick_holds_only_the_request),
    ]
}

/// 2. The approved hash covers everything the plan uses.
fn digest() -> Vec<Case> {
    use Class::Digest as C;
    vec![
        case(
            C,
            "plan check prints the digest and every file it covers",
            plan_edit(str::to_string),
            PLAN_CHECK,
            0,
            &[
                "Plan digest: ",
                "covers the plan file (sha256 ",
                "roles.snapshot.key",
                "roles.timestamp.key",
                "delegation[1].online_key",
                "delegation[2].online_key",
            ],
        ),
        case(
            C,
            "another online key file, same plan text: another digest",
            |ctx: &Ctx| {
                plan_edit(str::to_string)(ctx);
                plan_check_before(ctx);
                write(&ctx.path("online-keys/timestamp.pub"), other_public_key_pem());
            },
            PLAN_CHECK,
            0,
            &["Plan digest: "],
        )
        .check(digest_changed_plan_sha_not),
        case(
            C,
            "the same plan and files elsewhere: the same digest",
            |ctx: &Ctx| {
                let elsewhere = ctx.path("elsewhere");
                std::fs::create_dir_all(&elsewhere).unwrap();
                let plan = ctx.plan_copy(str::to_string);
                copy_tree(&plan, &elsewhere.join("plan.toml"));
                copy_tree(&ctx.path("online-keys"), &elsewhere.join("online-keys"));
                let o = run_setup(&["plan".as_ref(), "check".as_ref(), elsewhere.join("plan.toml").as_os_str()], &ctx.dir, &RunOpts::default());
                write(&ctx.path("before.txt"), o.stdout);
            },
            PLAN_CHECK,
            0,
            &["Plan digest: "],
        )
        .check(digest_unchanged),
        case(
            C,
            "resumed with a swapped timestamp key",
            resume("preflight.clock", |_, r| swap_key(r, "timestamp.pub")),
            REHEARSE,
            1,
            &["the plan is not the one this working directory began with", "roles.timestamp.key"],
        ),
        case(
            C,
            "resumed with a swapped snapshot key",
            resume("build.root", |_, r| swap_key(r, "snapshot.pub")),
            REHEARSE,
            1,
            &["the plan is not the one this working directory began with", "roles.snapshot.key"],
        ),
        case(
            C,
            "resumed with a swapped delegated online key",
            resume("keys.keyholder:alice", |_, r| swap_key(r, "unclaimed.pub")),
            REHEARSE,
            1,
            &["delegation[2].online_key"],
        ),
        case(
            C,
            "resumed with the plan text changed",
            resume("build.root", |_, r| edit_text(&r.join("plan.toml"), |t| t.replacen("description = \"\"", "description = \"changed\"", 1))),
            REHEARSE,
            1,
            &["the plan file itself changed"],
        ),
        case(C, "run --status with a swapped key", resume("preflight.clock", |_, r| swap_key(r, "timestamp.pub")), RUN_STATUS, 1, &["belongs to another run"]),
        case(C, "the working directory keeps plan/MANIFEST and copies", resume("preflight.network", |_, _| {}), RUN_STATUS, 0, &["1 of 16 steps done"])
            .check(frozen_plan_matches),
        case(
            C,
            "a swapped key put back: the ceremony resumes",
            resume("preflight.clock", |ctx, r| {
                let key = r.join("online-keys/timestamp.pub");
                let original = std::fs::read(&key).unwrap();
                swap_key(r, "timestamp.pub");
                let o = run_setup(&["rehearse".as_ref(), "--yes".as_ref(), "--out".as_ref(), r.as_os_str()], &ctx.dir, &RunOpts::default());
                assert_eq!(o.code, Some(1), "the swapped key was not refused: {}", o.text());
                write(&key, original);
            }),
            REHEARSE,
            0,
            &["Ceremony complete"],
        ),
    ]
}

/// 3. Role names from file names are checked.
fn role_names() -> Vec<Case> {
    use Class::RoleNames as C;
    let orphan = |_: &Ctx, c: &Path| copy_tree(&c.join("1.claimed.json"), &c.join("1.orphan.json"));
    let dotdot = |_: &Ctx, c: &Path| copy_tree(&c.join("1.claimed.json"), &c.join("1.%2E%2E%2Fx.json"));
    vec![
        case(C, "resign a role file nothing delegates to", current_edit(orphan), &resign("orphan"), 2, &["nothing delegates to orphan"]).check(absent("w")),
        case(C, "resign a percent-encoded ../x", current_edit(dotdot), &resign("../x"), 2, &["\"../x\" is not a role name"]).check(absent("w")),
        case(C, "resign snapshot", current_edit(|_, _| {}), &resign("snapshot"), 2, &["snapshot is an online role"]),
        case(C, "resign timestamp", current_edit(|_, _| {}), &resign("timestamp"), 2, &["timestamp is an online role"]),
        case(
            C,
            "resign a role whose file name holds a newline",
            current_edit(|_, c| copy_tree(&c.join("1.claimed.json"), &c.join("1.x%0AResult: OK.json"))),
            &resign("x\nResult: OK"),
            2,
            &["is not a role name", "u{a}Result: OK"],
        )
        .check(no_line_starting("Result: OK")),
        case(C, "claim into a role file nothing delegates to", current_edit(orphan), &claim_role("orphan"), 2, &["nothing delegates to orphan"])
            .check(absent("w")),
        case(C, "claim into a percent-encoded ../x", current_edit(dotdot), &claim_role("../x"), 2, &["\"../x\" is not a role name"]).check(absent("w")),
        case(
            C,
            "sign a request whose role is ../x",
            request_json_edit(|v| v["role"] = "../x".into()),
            SIGN,
            2,
            &["request.json", "\"../x\" is not a role name"],
        ),
        case(
            C,
            "import a request whose role is ../x",
            request_json_edit(|v| v["role"] = "../x".into()),
            IMPORT_COPY,
            2,
            &["\"../x\" is not a role name", "Nothing was written"],
        )
        .check(absent("out")),
        case(C, "sign a request that calls targets snapshot", request_json_edit(|v| v["role"] = "snapshot".into()), SIGN, 2, &["not snapshot"]),
        case(
            C,
            "sign-request for the role ../x",
            draft(|_, _| {}),
            &["sign-request", "{d}/2.targets.json", "--role", "../x", "--delegator", "{md}/1.targets.json", "--media", "{d}/stick"],
            1,
            &["\"../x\" is not a valid role name"],
        )
        .check(empty_dir("stick")),
        case(
            C,
            "drafts whose signatures were stripped: nothing is exported",
            resume("sign.keyholder:carol", |_, r| edit_json(&r.join("work/metadata/claimed.json"), |v| v["signatures"] = serde_json::json!([]))),
            REHEARSE,
            1,
            &["verification failed; nothing was exported", "claimed", "0 of 2 required valid signatures"],
        )
        .check(empty_dir("r/media")),
        case(
            C,
            "import below threshold",
            nothing,
            &["import-signatures", "{req}", "{sig:alice}", "--out", "{d}/out"],
            1,
            &["below threshold", "1/2 by root v1", "nothing was written"],
        )
        .check(absent("out")),
    ]
}

/// 4. No panic on any input.
fn no_panic() -> Vec<Case> {
    use Class::NoPanic as C;
    let huge_window = || plan_replace("signing_window_days = 60", "signing_window_days = 9000000000000000");
    let claimed = |m: &Path| m.join("metadata/1.claimed.json");
    vec![
        case(C, "plan check: a huge signing_window_days", huge_window(), PLAN_CHECK, 2, &["plan.toml", "roles.root.signing_window_days", "9000000000000000"]),
        case(C, "status --plan: a huge signing_window_days", huge_window(), STATUS_WITH_PLAN, 2, &["plan.toml", "roles.root.signing_window_days"]),
        case(
            C,
            "plan check: expires_days i64::MAX",
            plan_replace("expires_days = 365", "expires_days = 9223372036854775807"),
            PLAN_CHECK,
            2,
            &["roles.root.expires_days"],
        ),
        case(C, "plan check: threshold i64::MIN", plan_replace("threshold = 2", "threshold = -9223372036854775808"), PLAN_CHECK, 2, &["roles.root.threshold"]),
        case(
            C,
            "plan check: an integer past i64",
            plan_replace("threshold = 2", "threshold = 99999999999999999999999"),
            PLAN_CHECK,
            2,
            &["plan.toml", "line "],
        ),
        case(
            C,
            "plan check --at the last second of 9999",
            plan_edit(str::to_string),
            &["plan", "check", "{d}/plan.toml", "--at", "9999-12-31T23:59:59Z"],
            0,
            &["Plan digest: "],
        ),
        case(
            C,
            "plan check --at year 1",
            plan_edit(str::to_string),
            &["plan", "check", "{d}/plan.toml", "--at", "0001-01-01T00:00:00Z"],
            0,
            &["Plan digest: "],
        ),
        case(C, "status --at the last second of 9999", nothing, &["status", "{m}", "--at", "9999-12-31T23:59:59Z"], 1, &["EXPIRED"]),
        case(
            C,
            "verify --at the last second of 9999",
            nothing,
            &["verify", "{m}", "--at", "9999-12-31T23:59:59Z"],
            1,
            &["[expired] the newest root (v1) expired"],
        ),
        case(
            C,
            "resign --expires-days huge",
            nothing,
            &["resign", "claimed", "--plan", "{r}/plan.toml", "--current", "{md}", "--expires-days", "9000000000000000"],
            2,
            &["1..=3660"],
        ),
        case(
            C,
            "metadata expiring in 9999: status",
            media_edit(move |_, m| set_expires(&claimed(m), "9999-12-31T23:59:59Z")),
            STATUS_MEDIA,
            1,
            &["9999-12-31T23:59:59Z", "BELOW THRESHOLD: claimed"],
        ),
        case(
            C,
            "metadata expiring in year 0: verify",
            media_edit(move |_, m| set_expires(&claimed(m), "0000-01-01T00:00:00Z")),
            VERIFY_MEDIA,
            1,
            &["claimed expired at 0000-01-01T00:00:00Z"],
        ),
        case(
            C,
            "metadata expiring in year 0: status",
            media_edit(move |_, m| set_expires(&claimed(m), "0000-01-01T00:00:00Z")),
            STATUS_MEDIA,
            1,
            &["EXPIRED: claimed"],
        ),
        case(
            C,
            "metadata expiring on 29 February of a common year",
            media_edit(move |_, m| set_expires(&claimed(m), "2027-02-29T00:00:00Z")),
            STATUS_MEDIA,
            2,
            &["1.claimed.json", "$.signed.expires"],
        ),
        case(
            C,
            "a draft whose signatures have 2-character and multi-byte keyids",
            draft(|_, d| edit_json(d, |v| v["signatures"] = serde_json::json!([{"keyid": "ab", "sig": "00"}, {"keyid": "€".repeat(64), "sig": "zz"}]))),
            SIGN_REQUEST,
            0,
            &["2 signature(s) in the draft do not verify"],
        ),
        case(
            C,
            "metadata signatures with malformed keyids: verify",
            media_edit(move |_, m| {
                edit_json(&claimed(m), |v| {
                    for (s, id) in v["signatures"].as_array_mut().unwrap().iter_mut().zip(["ab".to_string(), "€".repeat(64), "zz".repeat(32)]) {
                        s["keyid"] = id.into();
                    }
                })
            }),
            VERIFY_MEDIA,
            1,
            &["[signature-unknown-key] signature by keyid ab", "[threshold] claimed"],
        ),
        case(
            C,
            "metadata signatures with malformed keyids: status",
            folder(|_, f| edit_json(&f.join("1.claimed.json"), |v| v["signatures"][0]["keyid"] = "é".repeat(40).into())),
            &["status", "{d}/folder"],
            0,
            &["claimed"],
        ),
        case(
            C,
            "a signature file with a 2-character keyid",
            signature_edit(|v| v["keyid"] = "ab".into()),
            IMPORT_EDITED,
            1,
            &["key ab (alice) is not one of the keys that may sign targets"],
        )
        .check(absent("out")),
        case(
            C,
            "a signature file with a multi-byte keyid",
            signature_edit(|v| v["keyid"] = "€".repeat(64).into()),
            IMPORT_EDITED,
            1,
            &["is not one of the keys"],
        ),
        case(C, "a signature file whose sig is multi-byte", signature_edit(|v| v["sig"] = "é".repeat(70).into()), IMPORT_EDITED, 1, &["not lowercase hex"]),
        case(
            C,
            "a signature file whose canonical_sha256 is multi-byte",
            signature_edit(|v| v["canonical_sha256"] = "é".repeat(32).into()),
            IMPORT_EDITED,
            1,
            &["signs different metadata"],
        ),
        case(
            C,
            "a request whose canonical_sha256 is multi-byte",
            request_json_edit(|v| v["canonical_sha256"] = "é".repeat(32).into()),
            SIGN,
            1,
            &["the request was altered"],
        ),
        case(
            C,
            "SHA256SUMS with a multi-byte hash",
            media_edit(|_, m| multibyte_hash(&m.join("SHA256SUMS"))),
            VERIFY_MEDIA,
            1,
            &["[sums-format] line 1 is not"],
        ),
        case(
            C,
            "SUMMARY.txt with a multi-byte hash",
            media_edit(|_, m| multibyte_hash(&m.join("SUMMARY.txt"))),
            VERIFY_MEDIA,
            1,
            &["SUMMARY.txt: $ [sums-mismatch]"],
        ),
        case(
            C,
            "a transcript whose recorded file hash is multi-byte (chain intact)",
            media_edit(|_, m| {
                rechain(&m.join("transcript.jsonl"), |e| {
                    if e.get("kind").and_then(|k| k.as_str()) == Some("export.file") {
                        e.insert("sha256".into(), "é".repeat(32).into());
                    }
                })
            }),
            VERIFY_MEDIA,
            1,
            &["[transcript-file-mismatch]", "but transcript line"],
        ),
        case(
            C,
            "canonical of metadata nested 100000 deep",
            |ctx: &Ctx| {
                write(
                    &ctx.path("deep.json"),
                    format!(r#"{{"signed": {{"_type": "targets", "x": {}{}}}, "signatures": []}}"#, "[".repeat(100_000), "]".repeat(100_000)),
                )
            },
            &["canonical", "{d}/deep.json"],
            2,
            &["deep.json", "nested deeper than"],
        ),
        case(
            C,
            "a version past 2^53",
            folder(|_, f| edit_text(&f.join("1.claimed.json"), |t| t.replacen("\"version\": 1", "\"version\": 18446744073709551616", 1))),
            &["status", "{d}/folder"],
            2,
            &["1.claimed.json"],
        ),
    ]
}

/// 5. The working directory cannot change what is signed.
fn workdir() -> Vec<Case> {
    use Class::Workdir as C;
    vec![
        case(
            C,
            "ceremony_time edited",
            state_edit("preflight.clock", |s| s["ceremony_time"] = "2020-01-01T00:00:00Z".into()),
            REHEARSE,
            2,
            &["ceremony_time disagrees with the transcript"],
        ),
        case(
            C,
            "completed gains a step not done",
            state_edit("preflight.clock", |s| s["completed"].as_array_mut().unwrap().push("build.root".into())),
            REHEARSE,
            2,
            &["completed disagrees with the transcript", "build.root"],
        ),
        case(
            C,
            "binary_sha256 edited",
            state_edit("preflight.binary", |s| s["binary_sha256"] = "00".repeat(32).into()),
            REHEARSE,
            2,
            &["binary_sha256 disagrees with the transcript"],
        ),
        case(
            C,
            "a key's keyid edited",
            state_edit("keys.keyholder:alice", |s| s["keys"]["alice"]["keyid"] = "00".repeat(32).into()),
            REHEARSE,
            2,
            &["keys.alice disagrees with the transcript"],
        ),
        case(
            C,
            "a key's serial edited",
            state_edit("keys.keyholder:alice", |s| s["keys"]["alice"]["serial"] = "31337".into()),
            REHEARSE,
            2,
            &["keys.alice disagrees with the transcript"],
        ),
        case(
            C,
            "alice's recorded key replaced by bob's",
            state_edit("keys.keyholder:bob", |s| s["keys"]["alice"] = s["keys"]["bob"].clone()),
            REHEARSE,
            2,
            &["keys.alice disagrees with the transcript"],
        ),
        case(
            C,
            "a key's key_json replaced, keyid and pem left",
            state_edit("keys.keyholder:bob", |s| s["keys"]["alice"]["key_json"] = s["keys"]["bob"]["key_json"].clone()),
            REHEARSE,
            2,
            &["keys.alice disagrees with the transcript", "key_json is not the key of the recorded keyid"],
        ),
        case(
            C,
            "exported gains a folder",
            state_edit("preflight.clock", |s| s["exported"].as_array_mut().unwrap().push("/tmp/elsewhere|00".into())),
            REHEARSE,
            2,
            &["exported disagrees with the transcript"],
        ),
        case(C, "state.json not JSON", resume("preflight.clock", |_, r| write(&r.join("work/state.json"), "{ not json")), REHEARSE, 2, &["state.json"]),
        case(
            C,
            "state.json with an unknown field",
            state_edit("preflight.clock", |s| s["skip_verify"] = true.into()),
            REHEARSE,
            2,
            &["state.json", "unknown field `skip_verify`"],
        ),
        // The fingerprint the transcript began with: an edited one disagrees with it.
        case(
            C,
            "plan_sha256 edited",
            state_edit("preflight.clock", |s| s["plan_sha256"] = "00".repeat(32).into()),
            REHEARSE,
            2,
            &["plan_sha256 disagrees with the transcript"],
        ),
        // What a done step set must still be in the state.
        case(
            C,
            "a recorded key removed",
            state_edit("keys.keyholder:bob", |s| _ = s["keys"].as_object_mut().unwrap().remove("alice")),
            REHEARSE,
            2,
            &["keys.alice disagrees with the transcript", "is missing"],
        ),
        case(
            C,
            "ceremony_time removed",
            state_edit("preflight.clock", |s| s["ceremony_time"] = serde_json::Value::Null),
            REHEARSE,
            2,
            &["ceremony_time disagrees with the transcript", "is missing"],
        ),
        case(
            C,
            "a draft edited after it was built",
            resume("build.delegations", |_, r| set_expires(&r.join("work/metadata/claimed.json"), "2099-01-01T00:00:00Z")),
            REHEARSE,
            1,
            &["the draft changed after it was built", "claimed"],
        ),
        case(
            C,
            "a transcript entry edited",
            resume("preflight.clock", |_, r| {
                edit_text(&r.join("work/transcript.jsonl"), |t| t.replacen("\"clock.confirmed\"", "\"clock.confirmed\",\"x\":1", 1))
            }),
            REHEARSE,
            2,
            &["transcript: line", "prev does not match"],
        ),
        case(
            C,
            "the transcript removed",
            resume("preflight.clock", |_, r| std::fs::remove_file(r.join("work/transcript.jsonl")).unwrap()),
            REHEARSE,
            1,
            &["transcript.jsonl is missing"],
        ),
    ]
}

/// 6. No input forges an output line.
fn forgery() -> Vec<Case> {
    use Class::Forgery as C;
    vec![
        case(
            C,
            "plan description with a newline and a fake sha256 line",
            plan_replace("description = \"\"", "description = \"x\\nPlan sha256: 00\""),
            PLAN_CHECK,
            2,
            &["ceremony.description"],
        ),
        case(
            C,
            "plan description with a bidi override",
            plan_replace("description = \"\"", "description = \"evil\\u202Etxt\""),
            PLAN_CHECK,
            2,
            &["ceremony.description"],
        ),
        case(
            C,
            "plan description with a line separator",
            plan_replace("description = \"\"", "description = \"x\\u2028Plan digest: 00\""),
            PLAN_CHECK,
            2,
            &["ceremony.description"],
        ),
        case(
            C,
            "plan keyholder name with a newline",
            plan_replace("name = \"alice\"", "name = \"alice\\nKeyholders sign:\""),
            PLAN_CHECK,
            2,
            &["keyholder[0].name"],
        ),
        case(
            C,
            "online key path with a newline and a fake digest line",
            plan_then(|ctx| {
                copy_tree(&ctx.path("online-keys/timestamp.pub"), &ctx.path("online-keys/x\nPlan digest: 00.pub"));
                edit_text(&ctx.path("plan.toml"), |t| t.replacen("online-keys/timestamp.pub", "online-keys/x\\nPlan digest: 00.pub", 1));
            }),
            PLAN_CHECK,
            0,
            &["online-keys/x\\u{a}Plan digest: 00.pub"],
        )
        .check(one_line_starting("Plan digest:")),
        case(C, "a transcript's ceremony field holding a verdict", transcript_field("ceremony"), VERIFY_MEDIA, 1, &["x\\u{a}Result: OK (exit 0)"])
            .check(one_line_starting("Result:")),
        case(C, "a transcript's tool field holding a verdict", transcript_field("tool"), VERIFY_MEDIA, 1, &["x\\u{a}Result: OK (exit 0)"])
            .check(one_line_starting("Result:")),
        case(
            C,
            "C1 and bidi characters in a transcript field: verify --json",
            transcript_field("ceremony"),
            &["verify", "{d}/media", "--json"],
            1,
            &["Result: OK (exit 0)"],
        )
        .check(json_escaped()),
        case(
            C,
            "a signature file's keyholder holding a line",
            signature_edit(|v| v["keyholder"] = "alice\nthreshold met\u{1b}[2K".into()),
            IMPORT_EDITED,
            0,
            &["alice\\u{a}threshold met\\u{1b}[2K"],
        )
        .check(no_line_starting("threshold met"))
        .check(|_, o| ok_if(!o.text().contains('\u{1b}'), || "a raw ESC reached the output".into())),
        case(
            C,
            "request.json keyholder names holding a line",
            request_json_edit(|v| {
                for name in v["keyholders"].as_object_mut().unwrap().values_mut() {
                    if name == "alice" {
                        *name = "alice\nWho may sign: nobody".into();
                    }
                }
            }),
            SIGN_BOB,
            1,
            &["alice\\u{a}Who may sign: nobody", "standard input ended (no terminal?)"],
        )
        .check(no_line_starting("Who may sign: nobody")),
        case(
            C,
            "a keys/ folder name holding a line (sign-request --keys)",
            draft(|ctx, _| {
                let keys = ctx.path("keys");
                copy_tree(&rehearsal().1.join("keys"), &keys);
                let evil = "evil\nWho may sign: nobody";
                std::fs::rename(keys.join("alice/alice.key.json"), keys.join(format!("alice/{evil}.key.json"))).unwrap();
                std::fs::rename(keys.join("alice"), keys.join(evil)).unwrap();
            }),
            &["sign-request", "{d}/2.targets.json", "--role", "targets", "--delegator", "{md}/1.root.json", "--media", "{d}/stick", "--keys", "{d}/keys"],
            0,
            &["evil\\u{a}Who may sign: nobody"],
        )
        .check(no_line_starting("Who may sign: nobody")),
        case(C, "a metadata file name holding lines: status", forging_name_folder(), &["status", "{d}/folder"], 0, &["x\\u{a}Status: ok (exit 0)"])
            .check(one_line_starting("Status:")),
        case(C, "a metadata file name holding lines: verify", forging_name_folder(), &["verify", "{d}/folder"], 0, &["x\\u{a}Status: ok (exit 0)"])
            .check(one_line_starting("Result:")),
        case(C, "C1 and bidi characters in a file name: verify --json", forging_name_folder(), &["verify", "{d}/folder", "--json"], 0, &["\\u0085"])
            .check(json_escaped()),
        case(C, "C1 and bidi characters in a file name: status --json", forging_name_folder(), &["status", "{d}/folder", "--json"], 0, &["\\u202e"])
            .check(json_escaped()),
    ]
}

/// 7. Only regular files are read, each with a size limit.
fn regular_files() -> Vec<Case> {
    use Class::RegularFiles as C;
    const FIFO: &str = "FIFO (named pipe)";
    let request_fifo = |rel: &'static str| request_edit(move |_, r| fifo(&r.join(rel)));
    vec![
        case(C, "a FIFO as the plan", |ctx: &Ctx| fifo(&ctx.path("plan.toml")), PLAN_CHECK, 2, &["plan.toml", FIFO]),
        case(C, "/dev/zero as the plan", nothing, &["plan", "check", "/dev/zero"], 2, &["/dev/zero", "is a device"]),
        case(
            C,
            "a link to /dev/zero as the plan",
            |ctx: &Ctx| link(Path::new("/dev/zero"), &ctx.path("plan.toml")),
            PLAN_CHECK,
            2,
            &["plan.toml", "is a device"],
        ),
        case(C, "a plan over 1 MiB", oversized("plan.toml", (1 << 20) + 1), PLAN_CHECK, 2, &["larger than the 1 MiB a plan may have"]),
        case(
            C,
            "a FIFO as a key file the plan names",
            plan_then(|ctx| fifo(&ctx.path("online-keys/timestamp.pub"))),
            PLAN_CHECK,
            2,
            &["roles.timestamp.key", FIFO],
        ),
        case(
            C,
            "a key file over 64 KiB",
            plan_then(oversized("online-keys/snapshot.pub", 65 << 10)),
            PLAN_CHECK,
            2,
            &["roles.snapshot.key", "larger than the 64 KiB a key file may have"],
        ),
        case(C, "a FIFO as SHA256SUMS", media_edit(|_, m| fifo(&m.join("SHA256SUMS"))), VERIFY_MEDIA, 1, &["SHA256SUMS", FIFO]),
        case(C, "a FIFO as transcript.jsonl", media_edit(|_, m| fifo(&m.join("transcript.jsonl"))), VERIFY_MEDIA, 1, &["transcript.jsonl", FIFO]),
        case(C, "a FIFO as SUMMARY.txt", media_edit(|_, m| fifo(&m.join("SUMMARY.txt"))), VERIFY_MEDIA, 1, &["SUMMARY.txt", FIFO]),
        case(
            C,
            "a FIFO as a metadata file on the media",
            media_edit(|_, m| fifo(&m.join("metadata/1.claimed.json"))),
            VERIFY_MEDIA,
            1,
            &["metadata/1.claimed.json", FIFO],
        ),
        case(
            C,
            "a FIFO as a key file on the media",
            media_edit(|_, m| fifo(&m.join("keys/bob/bob.key.json"))),
            VERIFY_MEDIA,
            1,
            &["keys/bob/bob.key.json: $ [unreadable]", FIFO],
        ),
        case(
            C,
            "FIFOs added to the media are reported",
            media_edit(|_, m| {
                for rel in ["extra", "metadata/extra.json", "keys/alice/attestation.pem"] {
                    fifo(&m.join(rel));
                }
            }),
            VERIFY_MEDIA,
            1,
            &["extra", "metadata/extra.json", "keys/alice/attestation.pem"],
        ),
        // status reads the regular files of a folder; a FIFO there is not read.
        case(
            C,
            "a FIFO as a metadata file: status",
            folder(|_, f| fifo(&f.join("1.claimed.json"))),
            &["status", "{d}/folder"],
            0,
            &["targets", "a FIFO (named pipe), not read"],
        ),
        case(
            C,
            "a FIFO as a signature file",
            |ctx: &Ctx| fifo(&ctx.path("alice.sig.json")),
            IMPORT_EDITED,
            1,
            &["alice.sig.json", FIFO, "nothing was written"],
        )
        .check(absent("out")),
        case(C, "a signature file over 64 KiB", oversized("alice.sig.json", 65 << 10), IMPORT_EDITED, 1, &["larger than the 64 KiB a signature file may have"]),
        case(C, "a FIFO as request.json", request_fifo("request.json"), SIGN, 2, &["request.json", FIFO]),
        case(C, "a FIFO as the request's metadata.json", request_fifo("metadata.json"), SIGN, 2, &["metadata.json", FIFO]),
        case(
            C,
            "a request.json over 1 MiB",
            request_edit(|_, r| write(&r.join("request.json"), vec![b' '; (1 << 20) + 1])),
            SIGN,
            2,
            &["larger than the 1 MiB a request.json may have"],
        ),
        case(
            C,
            "a FIFO as the working directory's state.json",
            resume("preflight.clock", |_, r| fifo(&r.join("work/state.json"))),
            REHEARSE,
            2,
            &["state.json", FIFO],
        ),
        case(
            C,
            "a FIFO as the working directory's transcript",
            resume("preflight.clock", |_, r| fifo(&r.join("work/transcript.jsonl"))),
            REHEARSE,
            2,
            &["transcript.jsonl", FIFO],
        ),
        case(C, "a FIFO as a draft", resume("build.delegations", |_, r| fifo(&r.join("work/metadata/claimed.json"))), REHEARSE, 2, &["claimed.json", FIFO]),
        case(C, "a FIFO as claim --list", |ctx: &Ctx| fifo(&ctx.path("list.json")), CLAIM_LIST, 2, &["list.json", FIFO]).check(absent("claim.work")),
        case(
            C,
            "a FIFO as claim --recently-claimed",
            |ctx: &Ctx| fifo(&ctx.path("rc.json")),
            &[
                "claim",
                "--plan",
                "{r}/plan.toml",
                "--current",
                "{md}",
                "--media",
                "{d}/stick",
                "--workdir",
                "{d}/claim.work",
                "--recently-claimed",
                "{d}/rc.json",
            ],
            2,
            &["rc.json", FIFO],
        )
        .check(absent("claim.work")),
        case(C, "a FIFO given to canonical", |ctx: &Ctx| fifo(&ctx.path("x.json")), &["canonical", "{d}/x.json"], 2, &["x.json", FIFO]),
        case(C, "/dev/zero given to canonical", nothing, &["canonical", "/dev/zero"], 2, &["is a device"]),
        case(
            C,
            "a FIFO as verify --trusted-root",
            |ctx: &Ctx| fifo(&ctx.path("root.json")),
            &["verify", "{m}", "--trusted-root", "{d}/root.json"],
            2,
            &["root.json", FIFO],
        ),
        case(
            C,
            "/dev/zero as sign --key",
            request_edit(|_, _| {}),
            &["sign", "{d}/request", "--keyholder", "alice", "--plan", "{r}/plan.toml", "--tokens", "{r}/tokens", "--key", "/dev/zero"],
            2,
            &["is a device"],
        ),
        case(C, "a FIFO as status --plan", |ctx: &Ctx| fifo(&ctx.path("plan.toml")), STATUS_WITH_PLAN, 2, &["plan.toml", FIFO]),
        case(C, "a FIFO as the draft given to sign-request", draft(|_, d| fifo(d)), SIGN_REQUEST, 2, &["2.targets.json", FIFO]).check(empty_dir("stick")),
    ]
}

/// 8. Folders are walked without following links out.
fn walks() -> Vec<Case> {
    use Class::Walks as C;
    let links_at = |names: &'static [&'static str], target: &'static str| {
        media_edit(move |_, m| {
            for n in names {
                link(Path::new(target), &m.join(n));
            }
        })
    };
    vec![
        case(C, "three links to . at the top of the media", links_at(&["x1", "x2", "x3"], "."), VERIFY_MEDIA, 1, &["x1 -> .", "x2 -> .", "x3 -> ."])
            .check(quick(10)),
        case(C, "three links to . in metadata/", links_at(&["metadata/x1", "metadata/x2", "metadata/x3"], "."), VERIFY_MEDIA, 1, &["metadata/x1 -> ."])
            .check(quick(10)),
        case(C, "keys/x a link to /", links_at(&["keys/x"], "/"), VERIFY_MEDIA, 1, &["keys/x -> /", "symlink"]).check(quick(10)),
        case(C, "keys itself a link to /", links_at(&["keys"], "/"), VERIFY_MEDIA, 1, &["keys -> /"]).check(quick(10)),
        case(
            C,
            "a keyholder's folder a link to the canary",
            media_edit(|ctx, m| link(&ctx.canary, &m.join("keys/alice"))),
            VERIFY_MEDIA,
            1,
            &["keys/alice -> "],
        ),
        case(
            C,
            "a dangling link named like a metadata file",
            links_at(&["metadata/2.root.json"], "/nonexistent"),
            VERIFY_MEDIA,
            1,
            &["metadata/2.root.json -> /nonexistent"],
        )
        .check(|_, o| ok_if(!o.text().contains("missing"), || "other files were reported missing".into())),
        case(
            C,
            "a link loop in metadata/",
            media_edit(|_, m| {
                link(Path::new("b"), &m.join("metadata/a.json"));
                link(Path::new("a.json"), &m.join("metadata/b"));
            }),
            VERIFY_MEDIA,
            1,
            &["metadata/a.json -> b", "metadata/b -> a.json"],
        )
        .check(quick(10)),
        case(C, "SHA256SUMS a link to /dev/zero", links_at(&["SHA256SUMS"], "/dev/zero"), VERIFY_MEDIA, 1, &["SHA256SUMS -> /dev/zero"]).check(quick(10)),
        case(C, "transcript.jsonl a link to /dev/zero", links_at(&["transcript.jsonl"], "/dev/zero"), VERIFY_MEDIA, 1, &["transcript.jsonl -> /dev/zero"])
            .check(quick(10)),
        case(C, "metadata/root_history a link to ..", links_at(&["metadata/root_history"], ".."), VERIFY_MEDIA, 1, &["metadata/root_history -> .."])
            .check(quick(10)),
        case(
            C,
            "a repository folder with a link loop and a dangling root",
            folder(|_, f| {
                link(Path::new("."), &f.join("x1"));
                link(Path::new("/nonexistent"), &f.join("2.root.json"));
            }),
            &["verify", "{d}/folder"],
            0,
            &["x1 -> .", "2.root.json -> /nonexistent", "not followed"],
        )
        .check(quick(10)),
        case(C, "status of a folder with link loops", folder(|_, f| link(Path::new("."), &f.join("x1"))), &["status", "{d}/folder"], 0, &["claimed"])
            .check(quick(10)),
        case(
            C,
            "resign from a folder whose claimed is a link",
            current_edit(|ctx, c| link(&ctx.canary_file(), &c.join("1.claimed.json"))),
            &resign("claimed"),
            2,
            &["no claimed role here"],
        )
        .check(absent("w")),
        case(
            C,
            "sign-request --keys with a keyholder folder linked to the canary",
            draft(|ctx, _| {
                let keys = ctx.path("keys");
                copy_tree(&rehearsal().1.join("keys"), &keys);
                link(&ctx.canary, &keys.join("alice"));
            }),
            &["sign-request", "{d}/2.targets.json", "--role", "targets", "--delegator", "{md}/1.root.json", "--media", "{d}/stick", "--keys", "{d}/keys"],
            0,
            &["(unnamed)", "bob"],
        ),
    ]
}

/// 9. Limits that match.
fn limits() -> Vec<Case> {
    use Class::Limits as C;
    let far_claimed = |years: i64| {
        folder(move |_, f| {
            let p = f.join("1.claimed.json");
            let mut md = load(&p);
            md.signed.header_mut().expires = tuf_ceremony::tuf::metadata::Expires::from_datetime(chrono::Utc::now() + chrono::Duration::days(365 * years));
            resign_with_tokens(&mut md, &["alice", "bob", "carol"]);
            write(&p, md.to_pretty_bytes());
        })
    };
    let expires_at = |at: &'static str| plan_edit(move |t| t.replacen("expires_days = 365\n", &format!("expires = \"{at}\"\n"), 1));
    vec![
        case(C, "plan expires on the last second of 9999", expires_at("9999-12-31T23:59:59Z"), PLAN_CHECK, 2, &["roles.root.expires", "more than 3660 days"]),
        case(C, "plan expires in the past", expires_at("2000-01-01T00:00:00Z"), PLAN_CHECK, 2, &["roles.root.expires", "is in the past"]),
        case(C, "plan expires_days 3661", plan_replace("expires_days = 365", "expires_days = 3661"), PLAN_CHECK, 2, &["3661 is not between 1 and 3660 days"]),
        case(C, "plan expires_days 3660 is the limit", plan_replace("expires_days = 180", "expires_days = 3660"), PLAN_CHECK, 0, &["Plan digest: "]),
        case(
            C,
            "plan expires_days 0",
            plan_replace("expires_days = 180", "expires_days = 0"),
            PLAN_CHECK,
            2,
            &["delegation[0].expires_days", "0 is not between 1"],
        ),
        case(
            C,
            "a delegation expiring in 9999",
            plan_replace("expires_days = 180\n", "expires = \"9999-12-31T23:59:59Z\"\n"),
            PLAN_CHECK,
            2,
            &["delegation[0].expires", "more than 3660 days"],
        ),
        case(
            C,
            "a signing window longer than the validity",
            plan_replace("signing_window_days = 30", "signing_window_days = 181"),
            PLAN_CHECK,
            2,
            &["delegation[0].signing_window_days", "181 is not between 0 and 180"],
        ),
        case(
            C,
            "a negative signing window: status --plan",
            plan_replace("signing_window_days = 30", "signing_window_days = -1"),
            STATUS_WITH_PLAN,
            2,
            &["delegation[0].signing_window_days"],
        ),
        case(
            C,
            "resign --expires-days 3661",
            nothing,
            &["resign", "claimed", "--plan", "{r}/plan.toml", "--current", "{md}", "--expires-days", "3661"],
            2,
            &["3661 is not in 1..=3660"],
        ),
        case(
            C,
            "claim --expires-days 0",
            nothing,
            &["claim", "--plan", "{r}/plan.toml", "--current", "{md}", "--list", "{d}/x", "--expires-days", "0"],
            2,
            &["0 is not in 1..=3660"],
        ),
        case(C, "verify of metadata expiring 15 years ahead", far_claimed(15), &["verify", "{d}/folder"], 0, &["expires-far", "1.claimed.json"]),
        case(C, "verify of metadata expiring 9 years ahead", far_claimed(9), &["verify", "{d}/folder"], 0, &["Result: OK"])
            .check(|_, o| ok_if(!o.stdout.contains("expires-far"), || "expires-far under ten years".into())),
    ]
}

/// 10. Operator input errors are input errors.
fn operator_input() -> Vec<Case> {
    use Class::OperatorInput as C;
    let list = |name: &'static str, text: &'static str, says: &'static [&'static str]| {
        case(C, name, claim_list(text), CLAIM_LIST, 2, says).check(absent("claim.work")).check(empty_dir("stick"))
    };
    let broken_chain = |edit: fn(&mut Vec<String>)| {
        resume("preflight.clock", move |_, r| {
            let p = r.join("work/transcript.jsonl");
            let mut lines: Vec<String> = std::fs::read_to_string(&p).unwrap().lines().map(str::to_string).collect();
            edit(&mut lines);
            write(&p, lines.iter().map(|l| format!("{l}\n")).collect::<String>());
        })
    };
    vec![
        list("claim list: threshold -1", r#"[{"project": "django", "keys": [KEY], "threshold": -1}]"#, &["list.json", "$[0].threshold", "-1"]),
        list("claim list: threshold 0", r#"[{"project": "django", "keys": [KEY], "threshold": 0}]"#, &["list.json", "$[0].threshold"]),
        list(
            "claim list: threshold above the keys",
            r#"[{"project": "django", "keys": [KEY], "threshold": 2}]"#,
            &["list.json", "threshold 2 with 1 distinct keys"],
        ),
        list(
            "claim list: threshold past 2^53",
            r#"[{"project": "django", "keys": [KEY], "threshold": 18446744073709551616}]"#,
            &["list.json", "$[0].threshold"],
        ),
        list(
            "claim list: project ../etc",
            r#"[{"project": "../etc", "keys": [KEY], "threshold": 1}]"#,
            &["list.json", "$[0].project", "is not a project name"],
        ),
        list("claim list: project name with a newline", r#"[{"project": "dj\nango", "keys": [KEY], "threshold": 1}]"#, &["list.json", "$[0].project"]),
        list("claim list: empty, nothing to do", "[]", &["nothing to do"]),
        list("claim list: an object, not a list", "{}", &["list.json", "expected an array"]),
        list("claim list: not JSON", "not json", &["list.json"]),
        list(
            "claim list: a project twice",
            r#"[{"project": "a", "keys": [KEY], "threshold": 1}, {"project": "a", "keys": [KEY], "threshold": 1}]"#,
            &["list.json", "appears twice"],
        ),
        list("claim list: an unknown field", r#"[{"project": "a", "keys": [KEY], "threshold": 1, "skip": true}]"#, &["list.json", "$[0].skip"]),
        list("claim list: no keys", r#"[{"project": "a", "keys": [], "threshold": 1}]"#, &["list.json", "no developer keys"]),
        case(C, "an empty state.json", resume("preflight.clock", |_, r| write(&r.join("work/state.json"), "")), REHEARSE, 2, &["state.json"]),
        case(C, "a transcript line removed: a message without debug text", broken_chain(|l| _ = l.remove(1)), REHEARSE, 2, &["transcript: line 2"]),
        case(
            C,
            "a transcript line without seq: a message without debug text",
            broken_chain(|l| l[1] = l[1].replacen("\"seq\":2,", "", 1)),
            REHEARSE,
            2,
            &["transcript: line 2"],
        ),
        case(
            C,
            "verify: a transcript line removed on the media, without debug text",
            media_edit(|_, m| {
                let p = m.join("transcript.jsonl");
                let mut lines: Vec<String> = std::fs::read_to_string(&p).unwrap().lines().map(str::to_string).collect();
                lines.remove(2);
                write(&p, lines.iter().map(|l| format!("{l}\n")).collect::<String>());
            }),
            VERIFY_MEDIA,
            1,
            &["transcript-chain"],
        ),
        case(C, "status --at not a time", nothing, &["status", "{m}", "--at", "next tuesday"], 2, &["--at \"next tuesday\""]),
        case(C, "verify --clients unknown", nothing, &["verify", "{m}", "--clients", "curl"], 2, &["--clients"]),
        case(
            C,
            "plan new --template unknown",
            nothing,
            &["plan", "new", "--template", "pep999"],
            2,
            &["invalid value 'pep999' for '--template", "possible values: pep458"],
        ),
        case(
            C,
            "keygen --algorithm unknown",
            nothing,
            &["keygen", "--algorithm", "rsa", "--out", "{d}/k.pem"],
            2,
            &["invalid value 'rsa' for '--algorithm", "possible values: ed25519"],
        )
        .check(absent("k.pem")),
        case(C, "run without --media", plan_edit(str::to_string), &["run", "{d}/plan.toml", "--workdir", "{d}/w"], 2, &["--media DIR is required"])
            .check(absent("w")),
        case(
            C,
            "claim --remove of a project not claimed",
            nothing,
            &["claim", "--plan", "{r}/plan.toml", "--current", "{md}", "--media", "{d}/stick", "--workdir", "{d}/claim.work", "--remove", "nosuch"],
            2,
            &["nosuch"],
        )
        .check(absent("claim.work")),
    ]
}

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

/// Every row of the table, run against the real binary; a line per case, and every failure
/// with its command and output at the end.
#[test]
fn hostile_inputs_are_refused_cleanly() {
    let cases = table();
    let mut names = std::collections::BTreeSet::new();
    for c in &cases {
        assert!(names.insert((c.class, c.name)), "case {:?} is in the table twice", c.name);
    }
    let per_class: Vec<(Class, usize)> = Class::ALL.iter().map(|&k| (k, cases.iter().filter(|c| c.class == k).count())).collect();
    assert!(cases.len() >= 80, "{} cases; the issue asks for at least 80", cases.len());
    for (k, n) in &per_class {
        assert!(*n >= 8, "class {} ({}) has {n} cases; at least 8 each", *k as u8, k.label());
    }
    let start = std::time::Instant::now();
    let verdicts = judge_all(&cases);
    let mut failures = Vec::new();
    for v in &verdicts {
        let mark = if v.problems.is_empty() { "ok  " } else { "FAIL" };
        println!(
            "{mark} {:>2} {:<14} {:<70} exit {:<4} {:>6.2}s",
            v.class as u8,
            v.class.label(),
            v.name,
            v.code.map_or("-".into(), |c| c.to_string()),
            v.elapsed.as_secs_f64()
        );
        if std::env::var("HOSTILE_DUMP").is_ok() {
            println!("    $ {}\n{}", v.command, tail(&v.output, 6));
        }
        if !v.problems.is_empty() {
            failures.push(format!(
                "[{} {}] {}\n    $ {}\n    - {}\n    output (last lines):\n{}",
                v.class as u8,
                v.class.label(),
                v.name,
                v.command,
                v.problems.join("\n    - "),
                tail(&v.output, 12)
            ));
        }
    }
    let counts: Vec<String> = per_class.iter().map(|(k, n)| format!("{} {}: {n}", *k as u8, k.label())).collect();
    println!("{} cases ({}) in {:.1}s; {} failed", cases.len(), counts.join(", "), start.elapsed().as_secs_f64(), failures.len());
    assert!(failures.is_empty(), "{} of {} hostile-input cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

/// `sign` with a dangling link planted at the signature file's name: refused before the
/// keyholder's token is asked for, so no signature is made that cannot be written (a row
/// cannot type the hash: here stdin gives it, and then the Enter the token prompt waits for).
#[test]
fn sign_refuses_a_planted_dangling_link_before_the_token_signs() {
    let tmp = tempfile::Builder::new().prefix("hostile-sign-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let ctx = Ctx::new_in(tmp.path());
    let request = ctx.request_copy();
    link(&ctx.canary_new(), &request.join("targets-v2.alice.sig.json"));
    let before = hostile_support::snapshot(&ctx.canary);
    let args: Vec<_> = SIGN.iter().map(|a| ctx.expand(a)).collect();
    let typed = format!("{}\n\n", signing().hash);
    let o = run(&args, &ctx.dir, &RunOpts { crash_after: None, stdin: Some(typed.as_bytes()) });
    assert!(!o.timed_out, "sign hung");
    assert_eq!(hostile_support::snapshot_diff(&before, &hostile_support::snapshot(&ctx.canary)), Vec::<String>::new());
    assert_eq!(o.code, Some(1), "{}", o.text());
    assert!(o.text().contains("already exists"), "the planted name was not refused before the token was asked for:\n{}", o.text());
    assert!(!o.text().contains("insert your"), "the token was asked for:\n{}", o.text());
}

/// The canary snapshot notices every kind of change a write through a link could make.
#[test]
fn the_canary_sees_every_kind_of_change() {
    let tmp = tempfile::Builder::new().prefix("hostile-canary-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let c = tmp.path().join("canary");
    hostile_support::make_canary(&c);
    let before = hostile_support::snapshot(&c);
    type Change = (&'static str, fn(&Path));
    let changes: [Change; 5] = [
        ("a byte rewritten", |c| std::fs::write(c.join(hostile_support::CANARY_FILE), b"x").unwrap()),
        ("a file created", |c| std::fs::write(c.join(hostile_support::CANARY_NEW), b"").unwrap()),
        ("a file removed", |c| std::fs::remove_file(c.join("sub/inner.txt")).unwrap()),
        ("a mode changed", |c| {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(c.join("sub")).unwrap().permissions().mode();
            std::fs::set_permissions(c.join("sub"), std::fs::Permissions::from_mode(mode ^ 0o001)).unwrap()
        }),
        ("a link created", |c| std::os::unix::fs::symlink("/", c.join("sub/l")).unwrap()),
    ];
    for (what, change) in changes {
        let copy = tmp.path().join(what.replace(' ', "-"));
        copy_tree(&c, &copy);
        assert_eq!(hostile_support::snapshot(&copy), before, "a copy is the same");
        change(&copy);
        assert!(!hostile_support::snapshot_diff(&before, &hostile_support::snapshot(&copy)).is_empty(), "{what} was not seen");
    }
}
