//! `tuf-ceremony verify`: tamper evidence on a rehearsal's media (every byte of a metadata
//! file, thousands of random bytes elsewhere), Sigstore's real root chain (5 → 15 with the
//! v11 keyid warning, 1 → 15 only with --lenient, expired today), expiry at --at, a
//! tuf-on-ci root-history folder, a repository with snapshot and timestamp (lengths,
//! hashes, versions, delegations, hashed bins, cycles), attestations, the JSON report and
//! the exit codes of the real command.
//!
//! The exhaustive parts call the library (`audit::verify_path`) in-process; a handful of
//! real CLI runs check exit codes and output.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use std::path::{Path, PathBuf};
use std::process::Command;
use tuf_ceremony::audit::{Options, Report, verify_path};
use tuf_ceremony::signer::Signer;
use tuf_ceremony::signer::sign_metadata;
use tuf_ceremony::signer::software::{SecretKey, SoftwareKey};
use tuf_ceremony::tuf::bins::HashBins;
use tuf_ceremony::tuf::finding::{Clients, Severity};
use tuf_ceremony::tuf::keys::keyid;
use tuf_ceremony::tuf::metadata::{DelegatedRole, MetaFile, Metadata, Mode, Root, Signed, Snapshot, TargetFile, Targets, Timestamp};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn tmp(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(prefix).tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn opts(t: DateTime<Utc>) -> Options {
    Options { threads: 1, ..Options::new(t) }
}

/// Options for the clients that read Sigstore's root v11 (tough 0.19 refuses its keyid
/// `7247f0db…`, so with tough selected the chain 5 -> 15 fails at v11: see
/// `sigstore_5_to_15_verifies_but_tough_refuses_v11`).
fn without_tough(o: Options) -> Options {
    Options { clients: Clients::PYTHON.or(Clients::GO), ..o }
}

fn codes(r: &Report, s: Severity) -> Vec<String> {
    r.findings.iter().filter(|f| f.finding.severity == s).map(|f| format!("{} {} {}", f.file, f.finding.code, f.finding.message)).collect()
}

fn has(r: &Report, s: Severity, code: &str) -> bool {
    r.findings.iter().any(|f| f.finding.severity == s && f.finding.code == code)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() { copy_dir(&src, &dst) } else { std::fs::copy(&src, &dst).map(|_| ()).unwrap() }
    }
}

/// One rehearsal per test process (it takes a few seconds); tests copy its media folder.
fn rehearsal_media() -> &'static Path {
    support::shared_rehearsal().1
}

/// A fresh copy of the rehearsal's media folder.
fn media_copy() -> (tempfile::TempDir, PathBuf) {
    let t = tmp("verify-media-");
    let dst = t.path().join("ceremony");
    copy_dir(rehearsal_media(), &dst);
    (t, dst)
}

/// Tiny deterministic PRNG (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn sigstore() -> PathBuf {
    support::real("sigstore-root-chain")
}

fn run_cli(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(support::bin()).arg("verify").args(args).output().expect("run verify");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

// ---------------------------------------------------------------------------------------
// A rehearsal's media: verifies, and every single-byte change is caught
// ---------------------------------------------------------------------------------------

#[test]
fn rehearsal_media_verifies_with_keyholder_names_and_evidence() {
    let (_t, media) = media_copy();
    let r = verify_path(&media, &opts(Utc::now())).unwrap();
    assert!(r.ok(), "{:#?}", codes(&r, Severity::Error));
    // Regression: the transcript's record of exported files is really cross-checked (it
    // once matched no entry after the export's entries were renamed).
    let t = r.evidence.as_ref().and_then(|e| e.transcript.as_ref()).expect("transcript report");
    assert!(t.files_recorded >= 9, "the transcript records the metadata and key files: {}", t.files_recorded);
    assert_eq!(t.files_matching, t.files_recorded);
    assert_eq!(codes(&r, Severity::Warning), Vec::<String>::new());
    let roles: Vec<&str> = r.roles.iter().map(|x| x.role.as_str()).collect();
    assert_eq!(roles, ["root", "targets", "claimed"]);
    // Keyholder names come from keys/<holder>/<holder>.key.json.
    let root = &r.roles[0];
    let c = root.check.as_ref().unwrap();
    assert!(c.met());
    for (id, _) in &c.keys {
        let label = r.labels.get(id).unwrap_or_else(|| panic!("no keyholder for {id}"));
        assert!(["alice", "bob", "carol"].iter().any(|h| label.starts_with(h)), "{label}");
    }
    let e = r.evidence.as_ref().unwrap();
    let t = e.transcript.as_ref().unwrap();
    assert!(t.head.is_some() && t.plan_sha256.is_some() && t.binary_sha256.is_some());
    assert_eq!(t.files_recorded, t.files_matching);
    let s = e.sha256sums.as_ref().unwrap();
    assert_eq!((s.listed, s.matching), (e.files, e.files));
    // Online roles and the online delegations are absent: reported, not errors.
    assert!(has(&r, Severity::Info, "absent-role"));
    assert!(has(&r, Severity::Info, "trust-on-first-use"));
}

/// Flips one bit of every byte of `rel` in turn (a different bit per position) and checks
/// that verify fails each time. In a metadata-only copy (no SHA256SUMS or transcript to
/// catch it), a mutation may pass only when the signed content is unchanged.
fn every_byte_of(rel: &str) {
    let (_t, media) = media_copy();
    let path = media.join(rel);
    let orig = std::fs::read(&path).unwrap();
    let orig_signed = Metadata::from_bytes(&orig, Mode::Strict).unwrap().signed_bytes();
    let bare_t = tmp("verify-bare-");
    let bare = bare_t.path().join("metadata");
    copy_dir(&media.join("metadata"), &bare);
    let bare_path = bare.join(Path::new(rel).file_name().unwrap());
    let o = opts(Utc::now());
    assert!(verify_path(&media, &o).unwrap().ok());
    assert!(verify_path(&bare, &o).unwrap().ok());
    let mut passed_bare = 0;
    for i in 0..orig.len() {
        let mut m = orig.clone();
        m[i] ^= 1 << (i % 8);
        std::fs::write(&path, &m).unwrap();
        let r = verify_path(&media, &o).unwrap();
        assert_eq!(r.exit_code(), 1, "{rel}: byte {i} ({:?} -> {:?}) was not caught", orig[i] as char, m[i] as char);
        std::fs::write(&bare_path, &m).unwrap();
        let rb = verify_path(&bare, &o).unwrap();
        if rb.ok() {
            passed_bare += 1;
            let md = Metadata::from_bytes(&m, Mode::Lenient).unwrap_or_else(|e| panic!("{rel}: byte {i}: unparsable yet verified: {e}"));
            assert_eq!(md.signed_bytes(), orig_signed, "{rel}: byte {i}: signed content changed, yet the bare metadata verified");
        }
        std::fs::write(&bare_path, &orig).unwrap();
    }
    std::fs::write(&path, &orig).unwrap();
    assert!(verify_path(&media, &o).unwrap().ok());
    eprintln!("{rel}: {} mutations, all caught on the media; {passed_bare} left the signed content unchanged (whitespace, signature keyids)", orig.len());
}

#[test]
fn tamper_every_byte_of_the_root() {
    every_byte_of("metadata/1.root.json");
}

#[test]
fn tamper_every_byte_of_claimed() {
    every_byte_of("metadata/1.claimed.json");
}

#[test]
fn tamper_random_bytes_everywhere_else() {
    let (_t, media) = media_copy();
    let mut files: Vec<String> = Vec::new();
    for f in ["metadata/1.targets.json", "SHA256SUMS", "transcript.jsonl", "SUMMARY.txt"] {
        files.push(f.into());
    }
    for h in ["alice", "bob", "carol"] {
        files.push(format!("keys/{h}/{h}.key.json"));
        files.push(format!("keys/{h}/{h}.pub.pem"));
    }
    let originals: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(media.join(f)).unwrap()).collect();
    let o = opts(Utc::now());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let n = 3000;
    let mut per_file = vec![0usize; files.len()];
    for k in 0..n {
        // The four evidence/metadata files get most of the mutations; every file gets some.
        let fi = if k % 4 == 3 { rng.below(files.len()) } else { rng.below(4) };
        let orig = &originals[fi];
        let i = rng.below(orig.len());
        let mut b = (rng.next() & 0xff) as u8;
        if b == orig[i] {
            b ^= 0x5a;
        }
        let mut m = orig.clone();
        m[i] = b;
        let path = media.join(&files[fi]);
        std::fs::write(&path, &m).unwrap();
        let r = verify_path(&media, &o).unwrap();
        assert_eq!(r.exit_code(), 1, "{}: byte {i} {:?} -> {:?} was not caught", files[fi], orig[i] as char, b as char);
        std::fs::write(&path, orig).unwrap();
        per_file[fi] += 1;
    }
    assert!(verify_path(&media, &o).unwrap().ok());
    eprintln!("{n} random mutations caught: {:?}", files.iter().zip(&per_file).collect::<Vec<_>>());
}

#[test]
fn missing_or_added_files_on_the_media_are_caught() {
    let o = opts(Utc::now());
    for victim in ["SHA256SUMS", "transcript.jsonl", "SUMMARY.txt", "keys/bob/bob.pub.pem", "metadata/1.claimed.json"] {
        let (_t, media) = media_copy();
        std::fs::remove_file(media.join(victim)).unwrap();
        let r = verify_path(&media, &o).unwrap();
        assert_eq!(r.exit_code(), 1, "deleting {victim} was not caught");
    }
    let (_t, media) = media_copy();
    std::fs::write(media.join("metadata/extra.txt"), b"x").unwrap();
    let r = verify_path(&media, &o).unwrap();
    assert!(has(&r, Severity::Error, "sums-unlisted"), "{:#?}", codes(&r, Severity::Error));
}

/// Multi-byte characters where a hash or keyid is expected (single-byte changes cannot
/// make valid UTF-8 there, so the tamper tests above never build this): a finding, not a
/// panic. Before session 4 a 3-byte character right after the 64 hex digits of a
/// SHA256SUMS line made `verify` panic.
#[test]
fn multi_byte_characters_where_hex_is_expected_are_findings() {
    let (_t, media) = media_copy();
    let sums = std::fs::read_to_string(media.join("SHA256SUMS")).unwrap();
    let first = sums.lines().next().unwrap();
    let hostile = format!("{}€ {}\n", &first[..64], &first[66..]);
    std::fs::write(media.join("SHA256SUMS"), sums.replacen(&format!("{first}\n"), &hostile, 1)).unwrap();
    let (code, out, err) = run_cli(&[media.as_os_str()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.contains("sums-format"), "{out}");
}

/// File names on the media are anyone's text: one carrying terminal escapes ("hide what
/// follows", a bidi override) is reported with the escapes visible, never sent raw to the
/// terminal of a live-streamed audit.
#[test]
fn terminal_escapes_in_file_names_are_shown_not_obeyed() {
    let (_t, media) = media_copy();
    std::fs::write(media.join("metadata/evil\u{1b}[8m\u{202e}txt.exe"), b"x").unwrap();
    std::fs::write(media.join("metadata/x\nResult: OK (exit 0)"), b"x").unwrap();
    let out = Command::new(support::bin()).arg("verify").arg(&media).output().expect("run verify");
    let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
    assert_eq!(out.status.code(), Some(1));
    assert!(!all.contains(&0x1b), "a raw ESC reached the terminal:\n{}", String::from_utf8_lossy(&all));
    assert!(!String::from_utf8_lossy(&all).contains('\u{202e}'), "a raw bidi override reached the terminal");
    assert!(String::from_utf8_lossy(&all).contains("evil\\u{1b}[8m\\u{202e}txt.exe"), "{}", String::from_utf8_lossy(&all));
    // A name cannot start a line of its own (a fake verdict).
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.lines().any(|l| l.starts_with("Result: OK")), "{stdout}");
    assert!(stdout.contains("x\\u{a}Result: OK (exit 0)"), "{stdout}");
}

/// What macOS (on FAT/exFAT: an AppleDouble `._` file beside every file it copies, plus
/// its volume folders) and Windows leave on a stick they mount.
#[test]
fn files_an_operating_system_left_on_the_media_are_reported_not_failed() {
    let o = opts(Utc::now());
    let (_t, media) = media_copy();
    let apple_double = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ";
    let os_files = ["._SHA256SUMS", ".DS_Store", "metadata/._1.root.json", "metadata/._1.claimed.json", "metadata/.DS_Store", "keys/._alice", "Thumbs.db"];
    for f in os_files {
        std::fs::write(media.join(f), apple_double).unwrap();
    }
    for d in [".Spotlight-V100/Store-V2", ".fseventsd", "System Volume Information"] {
        std::fs::create_dir_all(media.join(d)).unwrap();
        std::fs::write(media.join(d).join("x"), b"x").unwrap();
    }
    let r = verify_path(&media, &o).unwrap();
    assert!(r.ok(), "{:#?}", codes(&r, Severity::Error));
    let warned: Vec<&str> = r.findings.iter().filter(|f| f.finding.code == "os-file").map(|f| f.file.as_str()).collect();
    for f in os_files {
        assert!(warned.contains(&f), "{f} not reported: {warned:?}");
    }
    for d in [".Spotlight-V100/", ".fseventsd/", "System Volume Information/"] {
        assert!(warned.contains(&d), "{d} not reported: {warned:?}");
    }
    assert!(r.findings.iter().filter(|f| f.finding.code == "os-file").all(|f| f.finding.severity == Severity::Warning));
    assert!(r.not_checked.iter().any(|(f, why)| f == "metadata/._1.root.json" && why.contains("operating system")), "{:?}", r.not_checked);

    // The names alone hide nothing: a `._` file that is not AppleDouble, a `._` folder (the
    // tool reads every folder under keys/), a volume folder's name below the top, and a name
    // the tool could have written are each an added file.
    let added: [(&str, &[u8]); 4] = [
        ("metadata/._2.root.json", b"{\"signed\": {}}"),
        ("keys/._mallory/._mallory.key.json", b"{}"),
        ("metadata/.Trashes/x", b"x"),
        ("metadata/_1.root.json", apple_double),
    ];
    for (f, bytes) in added {
        let (_t, media) = media_copy();
        std::fs::create_dir_all(media.join(f).parent().unwrap()).unwrap();
        std::fs::write(media.join(f), bytes).unwrap();
        let r = verify_path(&media, &o).unwrap();
        assert_eq!(r.exit_code(), 1, "{f} was not caught");
        assert!(r.findings.iter().any(|x| x.file == f && x.finding.severity == Severity::Error), "{f}: {:#?}", codes(&r, Severity::Error));
    }
}

// ---------------------------------------------------------------------------------------
// Sigstore's real root chain
// ---------------------------------------------------------------------------------------

#[test]
fn sigstore_5_to_15_verifies_but_tough_refuses_v11() {
    let Some(_) = support::shared_real() else { return };
    let o = without_tough(Options { trusted_root: Some(sigstore().join("5.root.json")), ..opts(at("2026-11-20T00:00:00Z")) });
    let r = verify_path(&sigstore(), &o).unwrap();
    assert!(r.ok(), "{:#?}", codes(&r, Severity::Error));
    let chain = r.chain.as_ref().unwrap();
    assert_eq!(chain.verified, (5..=15).collect::<Vec<u64>>());
    assert_eq!(chain.broken_at, None);
    let v11: Vec<_> = r.findings.iter().filter(|f| f.file == "11.root.json" && f.finding.code == "keyid-mismatch").collect();
    assert_eq!(v11.len(), 1);
    assert_eq!(v11[0].finding.severity, Severity::Warning);
    assert!(v11[0].finding.path.to_string().contains("7247f0db"));
    assert!(v11[0].finding.message.contains("7247f0db"));
    assert_eq!(v11[0].finding.rejected_by.names(), ["tough"]);
    // One severity policy: the same finding is an error exactly when a selected client
    // rejects the file, whichever other clients are selected.
    for clients in [Clients::TOUGH, Clients::ALL] {
        let r = verify_path(&sigstore(), &Options { clients, ..o.clone() }).unwrap();
        let v11: Vec<_> = r.findings.iter().filter(|f| f.file == "11.root.json" && f.finding.code == "keyid-mismatch").collect();
        assert_eq!(v11[0].finding.severity, Severity::Error, "{clients:?}");
        assert_eq!(r.exit_code(), 1);
    }
    // The published counts (fixtures/README.md), own and previous, for 6..=15.
    let counts = [(6, 5, 5), (7, 4, 4), (8, 4, 4), (9, 5, 5), (10, 5, 5), (11, 5, 5), (12, 3, 3), (13, 5, 4), (14, 4, 4), (15, 5, 5)];
    for (v, own, prev) in counts {
        let x = r.roles.iter().find(|x| x.role == "root" && x.version == v).unwrap();
        assert_eq!(x.check.as_ref().unwrap().valid(), own, "v{v} own");
        assert_eq!(x.by_previous.as_ref().unwrap().valid(), prev, "v{v} previous");
    }
    // Only the newest root counts for expiry; it is inside its re-signing window.
    assert!(r.findings.iter().any(|f| f.file == "15.root.json" && f.finding.code == "signing-window"));
    // The real command: exit 0.
    let (code, out, err) = run_cli(&[
        sigstore().as_os_str(),
        "--trusted-root".as_ref(),
        "5.root.json".as_ref(),
        "--at".as_ref(),
        "2026-11-20T00:00:00Z".as_ref(),
        "--clients".as_ref(),
        "python-tuf,go-tuf".as_ref(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("7247f0db") && out.contains("Result: OK"), "{out}");
}

#[test]
fn sigstore_from_1_goes_through_only_with_lenient() {
    let Some(_) = support::shared_real() else { return };
    let o = opts(at("2026-11-01T00:00:00Z"));
    // Strict, with no --trusted-root: v1..v4 cannot be read strictly, so the lowest root
    // that can (v5) is trusted on first use, and the finding says why and what to pass.
    let strict = verify_path(&sigstore(), &o).unwrap();
    let tofu: Vec<_> = strict.findings.iter().filter(|f| f.finding.code == "trust-on-first-use" && f.finding.severity == Severity::Warning).collect();
    assert!(
        tofu.iter().any(|f| f.file == "5.root.json" && f.finding.message.contains("v1, v2, v3, v4") && f.finding.message.contains("--lenient")),
        "{tofu:#?}"
    );
    assert_eq!(strict.chain.as_ref().unwrap().verified, (5..=15).collect::<Vec<u64>>());
    assert_eq!(strict.trusted.as_ref().map(|t| t.version), Some(5));

    // Leniently the legacy forms of v1..v4 are read and the whole chain is counted; but
    // --lenient never overrides --clients: python-tuf cannot load them, so the verdict for
    // python-tuf is a failure, lenient or not.
    let lenient = verify_path(&sigstore(), &Options { lenient: true, clients: Clients::PYTHON, ..o.clone() }).unwrap();
    assert_eq!(lenient.chain.as_ref().unwrap().verified, (1..=15).collect::<Vec<u64>>());
    let legacy: Vec<_> = lenient.findings.iter().filter(|f| f.finding.code == "legacy-form").collect();
    assert!(legacy.iter().any(|f| f.finding.severity == Severity::Error && f.finding.rejected_by.python_tuf), "{legacy:#?}");
    assert_eq!(lenient.exit_code(), 1);
    let errors: Vec<_> = lenient.findings.iter().filter(|f| f.finding.severity == Severity::Error).map(|f| f.finding.code).collect();
    assert!(errors.iter().all(|c| *c == "legacy-form"), "{errors:?}");
    for v in 1..=4 {
        assert!(legacy.iter().any(|f| f.file == format!("{v}.root.json")), "v{v} legacy forms reported");
    }
    // The counts read leniently (fixtures/README.md) for 1..=5.
    for (v, own, prev) in [(1, 5, None), (2, 5, Some(5)), (3, 3, Some(3)), (4, 5, Some(4)), (5, 4, Some(4))] {
        let x = lenient.roles.iter().find(|x| x.role == "root" && x.version == v).unwrap();
        assert_eq!(x.check.as_ref().unwrap().valid(), own, "v{v}");
        assert_eq!(x.by_previous.as_ref().map(|c| c.valid()), prev, "v{v}");
    }
}

#[test]
fn sigstore_newest_root_is_expired_today() {
    let Some(_) = support::shared_real() else { return };
    let o = without_tough(Options { trusted_root: Some(PathBuf::from("5.root.json")), ..opts(Utc::now()) });
    let r = verify_path(&sigstore(), &o).unwrap();
    assert_eq!(r.exit_code(), 1);
    let expired: Vec<_> = r.findings.iter().filter(|f| f.finding.severity == Severity::Error).collect();
    assert_eq!(expired.len(), 1, "{expired:#?}");
    assert_eq!((expired[0].file.as_str(), expired[0].finding.code), ("15.root.json", "expired"));
    let (code, out, _) =
        run_cli(&[sigstore().as_os_str(), "--trusted-root".as_ref(), "5.root.json".as_ref(), "--clients".as_ref(), "python-tuf,go-tuf".as_ref()]);
    assert_eq!(code, 1);
    assert!(out.contains("expired") && out.contains("Result: FAILED"), "{out}");
}

#[test]
fn attestations_of_sigstores_first_ceremony_bind_to_root_v1() {
    let Some(_) = support::shared_real() else { return };
    let o = Options {
        lenient: true,
        trusted_root: Some(PathBuf::from("1.root.json")),
        attestations: Some(support::real("sigstore-attestations/2021-06-18/keys")),
        ..opts(at("2026-11-01T00:00:00Z"))
    };
    let r = verify_path(&sigstore(), &o).unwrap();
    // (No client loads v1..v3 as written, nor tough v11: those are the only errors.)
    let errors: Vec<_> = r.findings.iter().filter(|f| f.finding.severity == Severity::Error).map(|f| f.finding.code).collect();
    assert!(errors.iter().all(|c| *c == "legacy-form" || *c == "keyid-mismatch"), "{errors:?}");
    let a = r.attestations.as_ref().unwrap();
    assert_eq!(a.keys.len(), 5);
    for k in &a.keys {
        assert!(k.error.is_none(), "{k:?}");
        assert!(k.serial.is_some() && k.firmware.is_some() && k.pin_policy.is_some() && k.touch_policy.is_some(), "{k:?}");
        assert!(!k.keyids.is_empty(), "{}: bound to no metadata key", k.label);
        assert_eq!(k.serial.map(|s| s.to_string()), Some(k.label.clone()));
    }
    assert_eq!(r.findings.iter().filter(|f| f.finding.code == "attest-bound").count(), 5);
    // Root v1's signers are named by their YubiKey serials.
    let v1 = r.roles.iter().find(|x| x.role == "root" && x.version == 1).unwrap();
    let named = v1.check.as_ref().unwrap().valid_keyids().filter(|id| r.labels.get(*id).is_some_and(|l| l.starts_with("serial "))).count();
    assert_eq!(named, 5);
}

// ---------------------------------------------------------------------------------------
// Expiry, layouts, exit codes and the JSON report
// ---------------------------------------------------------------------------------------

#[test]
fn expired_metadata_fails_now_and_passes_earlier() {
    let Some(_) = support::shared_real() else { return };
    let (_t, media) = media_copy();
    // claimed expires after 180 days, root and targets after a year (60-day windows).
    let later = Utc::now() + chrono::Duration::days(320);
    let r = verify_path(&media, &opts(later)).unwrap();
    assert_eq!(r.exit_code(), 1);
    assert!(r.findings.iter().any(|f| f.file == "metadata/1.claimed.json" && f.finding.code == "expired" && f.finding.severity == Severity::Error));
    assert!(r.findings.iter().any(|f| f.file == "metadata/1.targets.json" && f.finding.code == "signing-window"));
    assert!(verify_path(&media, &opts(Utc::now())).unwrap().ok());
    // Sigstore's root v15: expired now, fine a month before.
    let o = Options { trusted_root: Some(PathBuf::from("14.root.json")), ..opts(Utc::now()) };
    assert_eq!(verify_path(&sigstore(), &o).unwrap().exit_code(), 1);
    assert!(verify_path(&sigstore(), &Options { at: at("2026-10-20T00:00:00Z"), ..o }).unwrap().ok());
}

#[test]
fn a_root_history_folder_verifies_as_a_chain() {
    let Some(_) = support::shared_real() else { return };
    let t = tmp("verify-root-history-");
    let d = t.path();
    std::fs::create_dir(d.join("root_history")).unwrap();
    for v in 5..=15 {
        std::fs::copy(sigstore().join(format!("{v}.root.json")), d.join(format!("root_history/{v}.root.json"))).unwrap();
    }
    std::fs::copy(sigstore().join("15.root.json"), d.join("root.json")).unwrap();
    let r = verify_path(d, &without_tough(opts(at("2026-10-01T00:00:00Z")))).unwrap();
    assert!(r.ok(), "{:#?}", codes(&r, Severity::Error));
    assert_eq!(r.chain.as_ref().unwrap().verified, (5..=15).collect::<Vec<u64>>());
    assert!(r.naming.contains("root_history"), "{}", r.naming);
    let absent: Vec<&str> = r.absent.iter().map(|a| a.role.as_str()).collect();
    assert_eq!(absent, ["targets", "snapshot", "timestamp"]);
    let info: Vec<_> = r.findings.iter().filter(|f| f.finding.code == "absent-role").collect();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].finding.severity, Severity::Info);
    assert!(info[0].finding.message.contains("targets, snapshot, timestamp"));
    // root.json is the same bytes as the newest root.
    assert!(r.not_checked.iter().any(|(f, why)| f == "root.json" && why.contains("same bytes")));
    // A root.json that differs from the history's copy of its version is an error.
    let mut other = std::fs::read(sigstore().join("15.root.json")).unwrap();
    other.push(b'\n');
    std::fs::write(d.join("root.json"), other).unwrap();
    let r = verify_path(d, &opts(at("2026-10-01T00:00:00Z"))).unwrap();
    assert!(has(&r, Severity::Error, "root-copy-differs"));
}

#[test]
fn exit_codes_and_json_report() {
    let Some(_) = support::shared_real() else { return };
    let (_t, media) = media_copy();
    let (code, out, err) = run_cli(&[media.as_os_str(), "--json".as_ref()]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("--json output parses");
    assert_eq!(v["schema"], "tuf-ceremony-verify/1");
    assert_eq!(v["result"], "ok");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["folder"], "ceremony-media");
    assert_eq!(v["counts"]["error"], 0);
    assert_eq!(v["trusted_root"]["source"], "trust-on-first-use");
    assert_eq!(v["chain"]["verified"], serde_json::json!([1]));
    let roles = v["roles"].as_array().unwrap();
    assert_eq!(roles[0]["role"], "root");
    let sig = &roles[0]["signatures"];
    assert_eq!(sig["threshold"], 2);
    assert_eq!(sig["valid"], 3);
    assert!(sig["keys"].as_array().unwrap().iter().all(|k| k["status"] == "valid" && k["keyholder"].is_string()));
    for k in ["version", "expires", "days_left", "expired", "window_days", "checked_by", "file"] {
        assert!(!roles[0][k].is_null(), "roles[0].{k}");
    }
    let t = &v["evidence"]["transcript"];
    assert!(t["plan_sha256"].is_string() && t["binary_sha256"].is_string() && t["head"].is_string() && t["chain_intact"] == true);
    assert!(v["evidence"]["sha256sums"]["listed"].as_u64().unwrap() > 0);
    assert!(v["absent_roles"].as_array().unwrap().iter().any(|a| a["role"] == "snapshot"));
    for f in v["findings"].as_array().unwrap() {
        for k in ["severity", "code", "file", "path", "message", "rejected_by"] {
            assert!(!f[k].is_null(), "finding.{k}: {f}");
        }
        assert!(f["path"].as_str().unwrap().starts_with('$'));
    }

    // Tampered: 1, with the finding naming file, path and clients.
    let p = media.join("metadata/1.targets.json");
    let text = std::fs::read_to_string(&p).unwrap().replacen("\"version\": 1", "\"version\": 2", 1);
    std::fs::write(&p, text).unwrap();
    let (code, out, _) = run_cli(&[media.as_os_str(), "--json".as_ref()]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["result"], "failed");
    let errors: Vec<&serde_json::Value> = v["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error").collect();
    assert!(
        errors.iter().any(|f| f["file"] == "metadata/1.targets.json"
            && f["code"] == "threshold"
            && f["rejected_by"] == serde_json::json!(["python-tuf", "go-tuf", "tough"])),
        "{errors:#?}"
    );
    assert!(errors.iter().any(|f| f["code"] == "version-in-name"));
    // Errors come before warnings and notes.
    let sev: Vec<&str> = v["findings"].as_array().unwrap().iter().map(|f| f["severity"].as_str().unwrap()).collect();
    let rank = |s: &str| ["error", "warning", "info"].iter().position(|x| *x == s).unwrap();
    assert!(sev.windows(2).all(|w| rank(w[0]) <= rank(w[1])), "{sev:?}");

    // Unreadable PATH or no TUF metadata: 2.
    let empty = tmp("verify-empty-");
    std::fs::write(empty.path().join("notes.txt"), b"hello").unwrap();
    for bad in [empty.path().to_path_buf(), empty.path().join("missing"), empty.path().join("notes.txt")] {
        let (code, _, err) = run_cli(&[bad.as_os_str()]);
        assert_eq!(code, 2, "{}: {err}", bad.display());
        assert!(err.starts_with("error: "), "{err}");
    }
    // The media's parent folder: 2, with a hint.
    let (code, _, err) = run_cli(&[media.parent().unwrap().as_os_str()]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean"), "{err}");
    // A --trusted-root that is not there: 2.
    let (code, _, _) = run_cli(&[sigstore().as_os_str(), "--trusted-root".as_ref(), "99.root.json".as_ref()]);
    assert_eq!(code, 2);
    // Human report: per role, then findings, errors first.
    let (code, out, _) = run_cli(&[media.as_os_str()]);
    assert_eq!(code, 1);
    let e = out.find("error ").unwrap();
    assert!(out.find("info ").is_none_or(|i| i > e), "{out}");
    assert!(out.contains("alice"), "{out}");
}

// ---------------------------------------------------------------------------------------
// A repository with snapshot and timestamp, delegations and hashed bins
// ---------------------------------------------------------------------------------------

fn key(seed: u8) -> SoftwareKey {
    SoftwareKey::from_secret(SecretKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32])), format!("k{seed}"))
}

fn signed_file(signed: Signed, k: &mut SoftwareKey) -> Vec<u8> {
    let mut md = Metadata::new(signed);
    sign_metadata(&mut md, k).unwrap();
    md.to_pretty_bytes()
}

/// What to break in the repository.
#[derive(Default, Clone, Copy)]
struct Breakage {
    bins_gap: bool,
    cycle: bool,
    outside: bool,
    snapshot_version: bool,
    timestamp_length: bool,
    unlisted: bool,
}

/// root, targets → proj (paths proj/*, delegating sub) and bins (16 hashed bins, all absent),
/// snapshot, timestamp; consistent-snapshot names.
fn repository(dir: &Path, b: Breakage) {
    let exp = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let (mut kr, mut kt, mut ks, mut kts, mut ka, mut kb, mut kbins) = (key(1), key(2), key(3), key(4), key(5), key(6), key(7));
    let pk = |k: &SoftwareKey| k.public_key().to_key();
    let mut root = Root::new(1, exp);
    for (role, k) in [("root", &kr), ("targets", &kt), ("snapshot", &ks), ("timestamp", &kts)] {
        root.add_key(role, pk(k));
    }
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    write("1.root.json", &signed_file(Signed::Root(root), &mut kr));

    let mut targets = Targets::new(1, exp);
    targets.delegate(DelegatedRole::with_paths("proj", vec![keyid(&pk(&ka))], 1, false, vec!["proj/*".into()]), [pk(&ka)]);
    targets.delegate(DelegatedRole::with_paths("bins", vec![keyid(&pk(&kbins))], 1, false, vec!["*".into()]), [pk(&kbins)]);
    write("1.targets.json", &signed_file(Signed::Targets(targets), &mut kt));

    let mut a = Targets::new(1, exp);
    let path = if b.outside { "elsewhere/x" } else { "proj/x" };
    a.targets.insert(path.into(), TargetFile::from_data(b"x"));
    a.delegate(DelegatedRole::with_paths("sub", vec![keyid(&pk(&kb))], 1, false, vec!["proj/*".into()]), [pk(&kb)]);
    write("1.proj.json", &signed_file(Signed::Targets(a), &mut ka));
    let mut bb = Targets::new(1, exp);
    if b.cycle {
        bb.delegate(DelegatedRole::with_paths("proj", vec![keyid(&pk(&ka))], 1, false, vec!["proj/*".into()]), [pk(&ka)]);
    }
    write("1.sub.json", &signed_file(Signed::Targets(bb), &mut kb));

    let mut bins = Targets::new(1, exp);
    let bin_key = pk(&key(8));
    let mut roles = HashBins::new(16).unwrap().roles(&[keyid(&bin_key)], 1);
    if b.bins_gap {
        roles.remove(5);
    }
    for r in roles {
        bins.delegate(r, [bin_key.clone()]);
    }
    write("1.bins.json", &signed_file(Signed::Targets(bins), &mut kbins));

    let mut snap = Snapshot { header: tuf_ceremony::tuf::metadata::Header::new(1, exp), meta: Default::default(), extra: Default::default() };
    for (role, v) in [("targets", 1), ("proj", if b.snapshot_version { 2 } else { 1 }), ("sub", 1), ("bins", 1)] {
        if b.unlisted && role == "sub" {
            continue;
        }
        snap.meta.insert(format!("{role}.json"), MetaFile::version_only(v));
    }
    let snap_bytes = signed_file(Signed::Snapshot(snap), &mut ks);
    write("1.snapshot.json", &snap_bytes);
    let mut m = MetaFile::from_data(1, &snap_bytes);
    if b.timestamp_length {
        m.length = Some(snap_bytes.len() as u64 + 1);
    }
    let ts = Timestamp { header: tuf_ceremony::tuf::metadata::Header::new(1, exp), meta: [("snapshot.json".to_string(), m)].into(), extra: Default::default() };
    write("timestamp.json", &signed_file(Signed::Timestamp(ts), &mut kts));
}

fn check_repository(b: Breakage) -> Report {
    let t = tmp("verify-repo-");
    repository(t.path(), b);
    verify_path(t.path(), &opts(at("2027-01-01T00:00:00Z"))).unwrap()
}

#[test]
fn repository_with_snapshot_timestamp_delegations_and_bins() {
    let r = check_repository(Breakage::default());
    assert!(r.ok(), "{:#?}", codes(&r, Severity::Error));
    let mut roles: Vec<(&str, &str)> = r.roles.iter().map(|x| (x.role.as_str(), x.checked_by.as_str())).collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            ("bins", "targets"),
            ("proj", "targets"),
            ("root", "itself (trusted root v1)"),
            ("snapshot", "root v1"),
            ("sub", "proj"),
            ("targets", "root v1"),
            ("timestamp", "root v1")
        ]
    );
    assert_eq!(r.absent.iter().filter(|a| a.named_by == "bins").count(), 16);

    let cases: [(&str, Breakage, &str, &str); 6] = [
        ("hashed bins with a gap", Breakage { bins_gap: true, ..Default::default() }, "1.bins.json", "bins-coverage"),
        ("delegation cycle proj → sub → proj", Breakage { cycle: true, ..Default::default() }, "1.sub.json", "delegation-cycle"),
        ("target outside its delegation", Breakage { outside: true, ..Default::default() }, "1.proj.json", "target-outside-delegation"),
        ("snapshot lists another version", Breakage { snapshot_version: true, ..Default::default() }, "1.snapshot.json", "role-file-missing"),
        ("timestamp lists another length", Breakage { timestamp_length: true, ..Default::default() }, "timestamp.json", "meta-length"),
        ("a role snapshot does not list", Breakage { unlisted: true, ..Default::default() }, "1.sub.json", "snapshot-unlisted"),
    ];
    for (what, b, file, code) in cases {
        let r = check_repository(b);
        assert_eq!(r.exit_code(), 1, "{what}");
        assert!(
            r.findings.iter().any(|f| f.file == file && f.finding.code == code && f.finding.severity == Severity::Error),
            "{what}: {:#?}",
            codes(&r, Severity::Error)
        );
    }
}

/// A target outside its delegation is refused by tough alone: python-tuf and go-tuf load
/// the role and never find the target, so for them it is a warning (the severity policy;
/// tough's safe-target-paths test data is python-tuf ok).
#[test]
fn a_target_outside_its_delegation_is_an_error_only_with_tough() {
    let t = tmp("verify-outside-");
    repository(t.path(), Breakage { outside: true, ..Default::default() });
    let at = at("2027-01-01T00:00:00Z");
    for (clients, severity) in [(Clients::PYTHON.or(Clients::GO), Severity::Warning), (Clients::TOUGH, Severity::Error)] {
        let r = verify_path(t.path(), &Options { clients, ..opts(at) }).unwrap();
        let f: Vec<_> = r.findings.iter().filter(|f| f.finding.code == "target-outside-delegation").collect();
        assert!(!f.is_empty() && f.iter().all(|f| f.finding.severity == severity), "{clients:?}: {f:#?}");
        assert_eq!(r.ok(), severity == Severity::Warning, "{clients:?}: {:#?}", codes(&r, Severity::Error));
    }
}

#[test]
fn clients_option_decides_what_is_an_error() {
    // A P-384 key is refused by tough only: an error for all clients, a warning for python-tuf.
    let t = tmp("verify-p384-");
    let exp = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let mut k = SoftwareKey::from_secret(SecretKey::P384(p384::ecdsa::SigningKey::from_slice(&[9u8; 48]).unwrap()), "p384");
    let mut root = Root::new(1, exp);
    for role in ["root", "targets", "snapshot", "timestamp"] {
        root.add_key(role, k.public_key().to_key());
    }
    std::fs::write(t.path().join("1.root.json"), signed_file(Signed::Root(root), &mut k)).unwrap();
    let all = verify_path(t.path(), &opts(at("2027-01-01T00:00:00Z"))).unwrap();
    assert!(all.findings.iter().any(|f| f.finding.code == "key-p384" && f.finding.severity == Severity::Error && f.finding.rejected_by == Clients::TOUGH));
    let py = verify_path(t.path(), &Options { clients: Clients::PYTHON, ..opts(at("2027-01-01T00:00:00Z")) }).unwrap();
    assert!(py.ok(), "{:#?}", codes(&py, Severity::Error));
    assert!(py.findings.iter().any(|f| f.finding.code == "key-p384" && f.finding.severity == Severity::Warning));
}

// ---------------------------------------------------------------------------------------
// A large delegated role: loaded on the one-pass path (parse + signature check together)
// ---------------------------------------------------------------------------------------

/// root, targets → claimed (a targets role of 6,000 projects, each with its own key: about
/// 2.8 MB, above the loader's 1 MB one-pass threshold). Returns claimed.json's path.
fn large_claimed_repository(dir: &Path) -> PathBuf {
    let exp = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let (mut kr, mut kt, mut kc) = (key(1), key(2), key(3));
    let pk = |k: &SoftwareKey| k.public_key().to_key();
    let mut root = Root::new(1, exp);
    for (role, k) in [("root", &kr), ("targets", &kt), ("snapshot", &kr), ("timestamp", &kr)] {
        root.add_key(role, pk(k));
    }
    std::fs::write(dir.join("1.root.json"), signed_file(Signed::Root(root), &mut kr)).unwrap();
    let mut targets = Targets::new(1, exp);
    targets.delegate(DelegatedRole::with_paths("claimed", vec![keyid(&pk(&kc))], 1, false, vec!["*/*".into()]), [pk(&kc)]);
    std::fs::write(dir.join("1.targets.json"), signed_file(Signed::Targets(targets), &mut kt)).unwrap();
    let mut claimed = Targets::new(1, exp);
    for i in 0..6000u32 {
        let mut seed = [0x55u8; 32];
        seed[..4].copy_from_slice(&i.to_le_bytes());
        let k = SoftwareKey::from_secret(SecretKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)), "p").public_key().to_key();
        let name = format!("project-{i:06}");
        claimed.delegate(DelegatedRole::with_paths(&name, vec![keyid(&k)], 1, true, vec![format!("{name}/*")]), [k]);
    }
    let path = dir.join("1.claimed.json");
    std::fs::write(&path, signed_file(Signed::Targets(claimed), &mut kc)).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 2 << 20, "large enough for the one-pass loader");
    path
}

#[test]
fn a_large_delegated_role_verifies_and_any_change_to_it_is_caught() {
    let t = tmp("verify-large-");
    let claimed = large_claimed_repository(t.path());
    let o = Options { threads: 2, ..Options::new(at("2027-01-01T00:00:00Z")) };
    let r = verify_path(t.path(), &o).unwrap();
    assert!(r.ok(), "{:#?}", codes(&r, Severity::Error));
    let role = r.roles.iter().find(|x| x.role == "claimed").expect("claimed reported");
    assert!(role.check.as_ref().is_some_and(|c| c.met()), "{:?}", role.check);

    // A changed byte anywhere inside `signed` (a keyid hex digit, a name, a path, the
    // version), keys out of canonical order (the loader falls back to the model), and a
    // changed signature: each is an error, and the re-ordered file still verifies.
    let original = std::fs::read(&claimed).unwrap();
    let text = String::from_utf8(original.clone()).unwrap();
    // The first digit or letter after `needle`, searched from the middle of the file.
    let at_middle = |needle: &str| {
        let from = text.len() / 2 + text[text.len() / 2..].find(needle).unwrap() + needle.len();
        from + text[from..].find(|c: char| c.is_ascii_alphanumeric()).unwrap()
    };
    let mut changes: Vec<(&str, Vec<u8>)> = Vec::new();
    for (what, needle) in [("a keyid digit", "\"keyids\": ["), ("a role name", "\"name\": \""), ("a path", "\"paths\": [")] {
        let mut b = original.clone();
        let i = at_middle(needle);
        b[i] = if b[i] == b'0' { b'1' } else { b'0' };
        changes.push((what, b));
    }
    changes.push(("the version", text.replacen("\"version\": 1", "\"version\": 2", 1).into_bytes()));
    let sig_at = text.find("\"sig\": \"").unwrap() + 8;
    let mut b = original.clone();
    b[sig_at] = if b[sig_at] == b'0' { b'1' } else { b'0' };
    changes.push(("the signature", b));
    for (what, bytes) in changes {
        assert_ne!(bytes, original, "{what}: the change happened");
        std::fs::write(&claimed, &bytes).unwrap();
        let r = verify_path(t.path(), &o).unwrap();
        assert!(!r.ok(), "{what}: a changed claimed.json must fail verification");
    }
    // Same content, `signed`'s members written in reverse order: the one-pass path gives
    // up and the model is encoded instead; the signature still verifies.
    let tuf_ceremony::tuf::json::Value::Object(top) = tuf_ceremony::tuf::json::parse_value(&original).unwrap() else { panic!() };
    let tuf_ceremony::tuf::json::Value::Object(signed) = &top["signed"] else { panic!() };
    let members: Vec<String> =
        signed.iter().rev().map(|(k, v)| format!("{:?}: {}", k, String::from_utf8(tuf_ceremony::tuf::encode::pretty(v)).unwrap())).collect();
    let sigs = String::from_utf8(tuf_ceremony::tuf::encode::pretty(&top["signatures"])).unwrap();
    std::fs::write(&claimed, format!("{{\"signatures\": {sigs}, \"signed\": {{{}}}}}", members.join(", "))).unwrap();
    let r = verify_path(t.path(), &o).unwrap();
    let role = r.roles.iter().find(|x| x.role == "claimed").expect("claimed reported");
    assert!(role.check.as_ref().is_some_and(|c| c.met()), "re-ordered members: {:?}", role.check);
}
