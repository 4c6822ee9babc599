//! `tuf-ceremony keygen`: an encrypted software key. The passphrase is read without echo
//! (twice, and must match); it never comes from argv or the environment.

use crate::cli::KeygenArgs;
use crate::error::{Error, Result, exit};
use crate::signer::Signer;
use crate::signer::software::SoftwareKey;
use crate::tuf::encode::pretty;
use crate::tuf::keys::{Algorithm, keyid};
use crate::util::fsx;
use zeroize::Zeroizing;

/// The schema identifier of `keygen --json`.
pub const SCHEMA: &str = "tuf-ceremony-keygen/1";

pub fn run(a: &KeygenArgs) -> Result<i32> {
    let alg = Algorithm::parse(&a.algorithm).ok_or_else(|| Error::Usage(format!("unknown algorithm {:?} (ed25519, ecdsa-p256, ecdsa-p384)", a.algorithm)))?;
    for p in std::iter::once(&a.out).chain(a.public_out.as_ref()) {
        if p.exists() {
            return Err(Error::Refused(format!("{} already exists; refusing to overwrite it", p.display())));
        }
    }
    let pass = read_new_passphrase()?;
    let key = SoftwareKey::generate(alg, a.out.display().to_string())?;
    let pem = key.to_encrypted_pem(pass.as_bytes())?;
    fsx::write_new(&a.out, pem.as_bytes(), true)?;
    let public = key.public_key().to_key();
    let id = keyid(&public);
    if let Some(p) = &a.public_out {
        fsx::write_new(p, &pretty(&public), false)?;
    }
    super::print_report(a.json, || report(a, alg, &public, &id), || format!("keyid {id}\n"))?;
    Ok(exit::OK)
}

/// `keygen --json` (`docs/keygen-json.md`): the key made and the files written.
fn report(a: &KeygenArgs, alg: Algorithm, public: &crate::tuf::metadata::Key, id: &str) -> serde_json::Value {
    let key = serde_json::json!({"keytype": &*public.keytype, "scheme": &*public.scheme, "keyval": {"public": public.public}});
    crate::util::machine::envelope(
        SCHEMA,
        serde_json::json!({
            "result": "ok",
            "exit_code": exit::OK,
            "keyid": id,
            "keytype": &*public.keytype,
            "scheme": &*public.scheme,
            "algorithm": alg.name(),
            "key": key,
            "files": {
                "private_key": a.out.display().to_string(),
                "public_key": a.public_out.as_ref().map(|p| p.display().to_string()),
            },
        }),
    )
}

fn read_new_passphrase() -> Result<Zeroizing<String>> {
    loop {
        let a = Zeroizing::new(rpassword::prompt_password("New passphrase: ").map_err(|e| Error::Usage(format!("cannot read passphrase: {e}")))?);
        if a.chars().count() < 8 {
            eprintln!("The passphrase must have at least 8 characters.");
            continue;
        }
        let b = Zeroizing::new(rpassword::prompt_password("Repeat passphrase: ").map_err(|e| Error::Usage(format!("cannot read passphrase: {e}")))?);
        if *a == *b {
            return Ok(a);
        }
        eprintln!("The two entries differ; try again.");
    }
}
