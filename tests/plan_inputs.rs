//! Plan files are reviewed by people and may be wrong or hostile: every bad plan gets a
//! clear error naming the file and the field, exit code 2, and nothing is written (no
//! working directory, nothing on the media).

mod support;

use std::path::Path;
use std::process::Command;

const BASE: &str = r#"
[ceremony]
id = "test-ceremony"
clients = ["python-tuf", "go-tuf", "tough"]

[[keyholder]]
name = "alice"
token = "software"
algorithm = "ecdsa-p256"
serial = "1111"

[[keyholder]]
name = "bob"
token = "software"
serial = "2222"

[[keyholder]]
name = "carol"
token = "software"

[roles.root]
keyholders = ["alice", "bob", "carol"]
threshold = 2
expires_days = 365

[roles.targets]
keyholders = ["alice", "bob"]
threshold = 2
expires_days = 365

[roles.snapshot]
key = "online/snapshot.pub"

[roles.timestamp]
key = "online/timestamp.pub"

[[delegation]]
name = "claimed"
keyholders = ["alice", "bob", "carol"]
threshold = 2
terminating = false
paths = ["*/*"]
expires_days = 180

[[delegation]]
name = "unclaimed"
online_key = "online/unclaimed.pub"
paths = ["*/*"]
"#;

/// (name, text to find, replacement, expected field, expected message fragment)
const CASES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "malformed TOML",
        "threshold = 2\nexpires_days = 365\n\n[roles.targets]",
        "threshold = = 2\nexpires_days = 365\n\n[roles.targets]",
        "line 23",
        "extra `=`",
    ),
    ("unknown role", "[roles.snapshot]", "[roles.mirrors]\nkey = \"x\"\n\n[roles.snapshot]", "line", "unknown field `mirrors`"),
    ("unknown top-level table", "[ceremony]", "[extras]\nx = 1\n\n[ceremony]", "line", "unknown field `extras`"),
    ("unknown keyholder field", "token = \"software\"\nalgorithm", "token = \"software\"\npin = \"123456\"\nalgorithm", "line", "unknown field `pin`"),
    (
        "threshold above keys",
        "keyholders = [\"alice\", \"bob\"]\nthreshold = 2",
        "keyholders = [\"alice\", \"bob\"]\nthreshold = 3",
        "roles.targets.threshold",
        "between 1 and the number of keyholders",
    ),
    (
        "threshold zero",
        "keyholders = [\"alice\", \"bob\"]\nthreshold = 2",
        "keyholders = [\"alice\", \"bob\"]\nthreshold = 0",
        "roles.targets.threshold",
        "between 1",
    ),
    (
        "expiry in the past",
        "threshold = 2\nexpires_days = 365\n\n[roles.targets]",
        "threshold = 2\nexpires = \"2020-01-01T00:00:00Z\"\n\n[roles.targets]",
        "roles.root.expires",
        "in the past",
    ),
    (
        "expiry with fraction",
        "threshold = 2\nexpires_days = 365\n\n[roles.targets]",
        "threshold = 2\nexpires = \"2030-01-01T00:00:00.5Z\"\n\n[roles.targets]",
        "roles.root.expires",
        "not YYYY-MM-DDTHH:MM:SSZ",
    ),
    (
        "both expiry forms",
        "threshold = 2\nexpires_days = 365\n\n[roles.targets]",
        "threshold = 2\nexpires_days = 365\nexpires = \"2030-01-01T00:00:00Z\"\n\n[roles.targets]",
        "roles.root",
        "not both",
    ),
    ("no expiry", "threshold = 2\nexpires_days = 365\n\n[roles.targets]", "threshold = 2\n\n[roles.targets]", "roles.root", "missing expires_days"),
    (
        "expiry zero days",
        "threshold = 2\nexpires_days = 365\n\n[roles.targets]",
        "threshold = 2\nexpires_days = 0\n\n[roles.targets]",
        "roles.root.expires_days",
        "between 1 and 3660",
    ),
    ("duplicate keyholder", "name = \"carol\"", "name = \"bob\"", "keyholder[2].name", "duplicate keyholder"),
    (
        "keyholder twice in a role",
        "keyholders = [\"alice\", \"bob\"]\nthreshold = 2",
        "keyholders = [\"alice\", \"alice\"]\nthreshold = 2",
        "roles.targets.keyholders",
        "listed twice",
    ),
    (
        "unknown keyholder in a role",
        "keyholders = [\"alice\", \"bob\"]\nthreshold = 2",
        "keyholders = [\"alice\", \"mallory\"]\nthreshold = 2",
        "roles.targets.keyholders",
        "unknown keyholder \"mallory\"",
    ),
    ("missing online key file", "online/snapshot.pub", "online/nope.pub", "roles.snapshot.key", "cannot read"),
    ("garbage online key file", "online/snapshot.pub", "online/garbage.pub", "roles.snapshot.key", "garbage.pub"),
    (
        "unknown token kind",
        "name = \"carol\"\ntoken = \"software\"",
        "name = \"carol\"\ntoken = \"floppy\"",
        "keyholder[2].token",
        "not software, yubikey, pkcs11 or yubihsm2",
    ),
    ("unknown algorithm", "algorithm = \"ecdsa-p256\"", "algorithm = \"rsa-1024\"", "keyholder[0].algorithm", "not ed25519"),
    // Keys from an earlier ceremony (issue #15).
    (
        "an earlier key that is not a key",
        "name = \"carol\"\ntoken = \"software\"",
        "name = \"carol\"\nkey = \"online/garbage.pub\"",
        "keyholder[2].key",
        "garbage.pub",
    ),
    (
        "a device without a key",
        "name = \"carol\"\ntoken = \"software\"",
        "name = \"carol\"\ntoken = \"software\"\ndevice = \"yubihsm2\"",
        "keyholder[2].device",
        "give its public key file as key",
    ),
    (
        "an unknown device",
        "name = \"carol\"\ntoken = \"software\"",
        "name = \"carol\"\nkey = \"online/snapshot.pub\"\ndevice = \"floppy\"",
        "keyholder[2].device",
        "is not one of",
    ),
    ("token none for a new key", "name = \"carol\"\ntoken = \"software\"", "name = \"carol\"\ntoken = \"none\"", "keyholder[2].token", "earlier ceremony"),
    (
        "one attestation file",
        "name = \"carol\"\ntoken = \"software\"",
        "name = \"carol\"\nkey = \"online/snapshot.pub\"\ndevice = \"yubikey\"\nattestation = [\"online/snapshot.pub\"]",
        "keyholder[2].attestation",
        "give two",
    ),
    (
        "an earlier key of another algorithm",
        "token = \"software\"\nalgorithm = \"ecdsa-p256\"",
        "token = \"software\"\nkey = \"online/snapshot.pub\"\nalgorithm = \"ecdsa-p256\"",
        "keyholder[0].algorithm",
        "holds an ed25519 key",
    ),
    (
        "ed25519 on a yubikey",
        "token = \"software\"\nalgorithm = \"ecdsa-p256\"",
        "token = \"yubikey\"\nalgorithm = \"ed25519\"",
        "keyholder[0].algorithm",
        "1014 bytes",
    ),
    ("P-384 while tough must accept", "algorithm = \"ecdsa-p256\"", "algorithm = \"ecdsa-p384\"", "keyholder[0].algorithm", "tough cannot read ECDSA P-384"),
    ("duplicate serial", "serial = \"2222\"", "serial = \"1111\"", "keyholder[1].serial", "already another keyholder's token"),
    ("bad serial", "serial = \"2222\"", "serial = \"22 22\"", "keyholder[1].serial", "not a token serial"),
    ("bad ceremony id", "id = \"test-ceremony\"", "id = \"../escape\"", "ceremony.id", "names the media folder"),
    ("unknown client", "clients = [\"python-tuf\", \"go-tuf\", \"tough\"]", "clients = [\"python-tuf\", \"rust-tuf\"]", "ceremony.clients", "unknown client"),
    ("delegation name with slash", "name = \"claimed\"", "name = \"claimed/x\"", "delegation[0].name", "must match"),
    ("delegation named like a top-level role", "name = \"claimed\"", "name = \"snapshot\"", "delegation[0].name", "not be a top-level role"),
    ("delegation twice", "name = \"unclaimed\"", "name = \"claimed\"", "delegation[1].name", "delegated twice"),
    ("unknown delegator", "name = \"unclaimed\"", "name = \"unclaimed\"\ndelegator = \"nobody\"", "delegation[1].delegator", "not targets or an offline role"),
    (
        "online role as delegator",
        "name = \"unclaimed\"",
        "name = \"unclaimed\"\ndelegator = \"unclaimed\"",
        "delegation[1].delegator",
        "not targets or an offline role",
    ),
    ("no paths", "paths = [\"*/*\"]\nexpires_days = 180", "paths = []\nexpires_days = 180", "delegation[0].paths", "at least one path pattern"),
    ("pattern with **", "paths = [\"*/*\"]\nexpires_days = 180", "paths = [\"**\"]\nexpires_days = 180", "delegation[0].paths", "'**'"),
    (
        "keyholders and online key",
        "online_key = \"online/unclaimed.pub\"",
        "online_key = \"online/unclaimed.pub\"\nkeyholders = [\"alice\"]",
        "delegation[1]",
        "not both",
    ),
    ("neither keyholders nor online key", "online_key = \"online/unclaimed.pub\"\n", "", "delegation[1]", "missing keyholders"),
    (
        "online role with a threshold",
        "online_key = \"online/unclaimed.pub\"",
        "online_key = \"online/unclaimed.pub\"\nthreshold = 2",
        "delegation[1]",
        "set by the online system",
    ),
    (
        "bins not a power of two",
        "expires_days = 180",
        "expires_days = 180\nbins = 1000\nbins_online_key = \"online/unclaimed.pub\"",
        "delegation[0].bins",
        "power of two",
    ),
    ("bins without their key", "expires_days = 180", "expires_days = 180\nbins = 16", "delegation[0].bins", "go together"),
    ("pkcs11 without module", "name = \"carol\"\ntoken = \"software\"", "name = \"carol\"\ntoken = \"pkcs11\"", "keyholder[2].module", "module path"),
    (
        "touch policy on a software token",
        "name = \"carol\"\ntoken = \"software\"",
        "name = \"carol\"\ntoken = \"software\"\ntouch_policy = \"never\"",
        "keyholder[2].touch_policy",
        "only apply to yubikey",
    ),
    ("previous root file missing", "[ceremony]", "[previous_root]\nfile = \"nope.json\"\n\n[ceremony]", "previous_root.file", "cannot read"),
    ("previous root is not a root", "[ceremony]", "[previous_root]\nfile = \"targets.json\"\n\n[ceremony]", "previous_root.file", "is not a root"),
    ("no keyholders at all", "[[keyholder]]\nname = \"alice\"", "[[unused]]\nname = \"alice\"", "line", "unknown field"),
];

fn setup(dir: &Path) {
    let online = dir.join("online");
    std::fs::create_dir_all(&online).unwrap();
    for n in ["snapshot", "timestamp", "unclaimed"] {
        let k = tuf_ceremony::signer::software::SoftwareKey::generate(tuf_ceremony::tuf::keys::Algorithm::Ed25519, n).unwrap();
        use tuf_ceremony::signer::Signer;
        std::fs::write(online.join(format!("{n}.pub")), k.public_key().to_pem()).unwrap();
    }
    std::fs::write(online.join("garbage.pub"), b"-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n").unwrap();
    std::fs::copy(support::fixture("tuf-vectors/1.targets.json"), dir.join("targets.json")).unwrap();
}

fn plan_check(plan: &Path) -> std::process::Output {
    Command::new(support::bin()).args(["plan", "check"]).arg(plan).output().unwrap()
}

#[test]
fn the_base_plan_is_valid() {
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path());
    let p = tmp.path().join("plan.toml");
    std::fs::write(&p, BASE).unwrap();
    let out = plan_check(&p);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Plan digest: ") && text.contains("covers the plan file (sha256 "), "{text}");
    assert!(text.contains("roles.timestamp.key") && text.contains("online/timestamp.pub"), "{text}");
    assert!(text.contains("claimed") && text.contains("2 of 3"), "{text}");
}

/// The plan digest covers every file the plan points to: the same plan text with another
/// online key file gives the same plan sha256 but another digest.
#[test]
fn the_plan_digest_covers_the_files_the_plan_points_to() {
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path());
    let p = tmp.path().join("plan.toml");
    std::fs::write(&p, BASE).unwrap();
    let line = |text: &str, start: &str| text.lines().find(|l| l.starts_with(start)).map(str::to_string).unwrap_or_default();
    let before = String::from_utf8_lossy(&plan_check(&p).stdout).into_owned();
    // Another key in the timestamp key's place.
    use tuf_ceremony::signer::Signer;
    let k = tuf_ceremony::signer::software::SoftwareKey::generate(tuf_ceremony::tuf::keys::Algorithm::Ed25519, "other").unwrap();
    std::fs::write(tmp.path().join("online/timestamp.pub"), k.public_key().to_pem()).unwrap();
    let after = String::from_utf8_lossy(&plan_check(&p).stdout).into_owned();
    assert!(!line(&before, "Plan digest: ").is_empty());
    assert_ne!(line(&before, "Plan digest: "), line(&after, "Plan digest: "), "{after}");
    let sha = |t: &str| t.lines().find(|l| l.contains("covers the plan file")).map(str::to_string).unwrap_or_default();
    assert_eq!(sha(&before), sha(&after), "the plan text did not change");
}

#[test]
fn every_bad_plan_gets_a_clear_error_and_nothing_is_written() {
    assert!(CASES.len() >= 25);
    let mut failures = Vec::new();
    for case in CASES {
        if let Err(e) = std::panic::catch_unwind(|| one_case(case)) {
            let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
            failures.push(msg);
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

fn one_case(&(name, find, replace, field, fragment): &(&str, &str, &str, &str, &str)) {
    {
        assert!(BASE.contains(find), "{name}: the case does not apply to the base plan");
        let tmp = tempfile::tempdir().unwrap();
        setup(tmp.path());
        let p = tmp.path().join("plan.toml");
        std::fs::write(&p, BASE.replacen(find, replace, 1)).unwrap();
        let out = std::panic::catch_unwind(|| plan_check(&p)).unwrap_or_else(|_| panic!("{name}: panicked"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(&p.display().to_string()), "{name}: error must name the file: {err}");
        assert!(err.contains(field), "{name}: error must name the field {field:?}: {err}");
        assert!(err.contains(fragment), "{name}: expected {fragment:?} in: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        // `run` refuses the same plan before creating anything.
        let media = tmp.path().join("media");
        std::fs::create_dir(&media).unwrap();
        let work = tmp.path().join("work");
        let run = Command::new(support::bin()).args(["run", "--allow-network", "--media"]).arg(&media).arg("--workdir").arg(&work).arg(&p).output().unwrap();
        assert_eq!(run.status.code(), Some(2), "{name}: run: {}", String::from_utf8_lossy(&run.stderr));
        assert!(!work.exists(), "{name}: run created a working directory");
        assert_eq!(std::fs::read_dir(&media).unwrap().count(), 0, "{name}: run wrote to the media");
    }
}

/// Regression (found while building signing apart): an online key given as a TUF key
/// object whose value is a PEM (every ECDSA key, e.g. a media's keys/<h>/<h>.key.json) is
/// read as JSON, not mistaken for a bare PEM file.
#[test]
fn online_key_as_tuf_key_json_with_a_pem_value() {
    use tuf_ceremony::signer::Signer;
    use tuf_ceremony::signer::software::SoftwareKey;
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path());
    let k = SoftwareKey::generate(tuf_ceremony::tuf::keys::Algorithm::EcdsaP256, "snap").unwrap();
    let key = k.public_key().to_key();
    assert!(key.public.contains("-----BEGIN PUBLIC KEY-----"));
    std::fs::write(tmp.path().join("online/snapshot.pub"), tuf_ceremony::tuf::encode::pretty(&key)).unwrap();
    let p = tmp.path().join("plan.toml");
    std::fs::write(&p, BASE).unwrap();
    let plan = tuf_ceremony::ceremony::plan::Plan::load(&p, chrono::Utc::now()).unwrap();
    assert_eq!(plan.snapshot_key, key);
}
