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
    let json = if a.json { Some(report(a, alg, &public, &id)?) } else { None };
    super::print_report(a.json, || json.unwrap_or_default(), || format!("keyid {id}\n"))?;
    Ok(exit::OK)
}

/// `keygen --json` (`docs/keygen-json.md`): the key made and the files written. `key` is
/// the key object as `--public-out` writes it (the same serializer), `keyid` its keyid.
fn report(a: &KeygenArgs, alg: Algorithm, public: &crate::tuf::metadata::Key, id: &str) -> Result<serde_json::Value> {
    let key: serde_json::Value =
        serde_json::from_slice(&pretty(public)).map_err(|e| Error::Refused(format!("the public key does not read back as JSON: {e}")))?;
    Ok(crate::util::machine::envelope(
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
    ))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The key object in the report reads back to the key whose keyid the report gives, and
    /// is byte for byte the `--public-out` file's, for every algorithm keygen makes.
    #[test]
    fn the_reported_key_is_the_public_out_file_and_has_the_reported_keyid() {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256, Algorithm::EcdsaP384] {
            let public = SoftwareKey::generate(alg, "t").unwrap().public_key().to_key();
            let a = KeygenArgs { algorithm: alg.name().into(), out: "k.pem".into(), public_out: Some("k.json".into()), json: true };
            let v = report(&a, alg, &public, &keyid(&public)).unwrap();
            let file: serde_json::Value = serde_json::from_slice(&pretty(&public)).unwrap();
            assert_eq!(v["key"], file, "{}", alg.name());
            let text = serde_json::to_vec(&v["key"]).unwrap();
            let mut r = crate::tuf::json::Reader::new(&text).unwrap();
            let back = crate::tuf::metadata::read_key(&mut r).unwrap();
            assert_eq!(v["keyid"].as_str(), Some(keyid(&back).as_str()), "{}", alg.name());
        }
    }
}
