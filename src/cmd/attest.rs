//! `tuf-ceremony attest DIR`: audit a folder of key products that has no metadata (the
//! PSF's 2020 ceremony left only public keys and YubiHSM 2 attestations) and print, per key,
//! the device, serial, firmware, origin, capabilities, whether it is attested, its files and
//! the keyid python-tuf would give it (human, or `--json`: docs/attest-json.md). Exit 0 when
//! every attestation present verifies and binds, 1 when one does not, 2 when DIR cannot be
//! read or holds no key or attestation file.

use crate::attest::discover::{self, Stores};
use crate::attest::{products, products_report};
use crate::cli::AttestArgs;
use crate::error::{Error, Result};

pub fn run(a: &AttestArgs) -> Result<i32> {
    let at = super::parse_at(a.at.as_deref())?;
    let meta = std::fs::metadata(&a.dir).map_err(|e| Error::io(&a.dir, e))?;
    if !meta.is_dir() {
        return Err(Error::input(&a.dir, "not a folder (attest reads a folder of key products)"));
    }
    let found = discover::products(&a.dir).map_err(|e| Error::input(&a.dir, e))?;
    if found.key_files.is_empty() && found.bundles.is_empty() {
        return Err(Error::input(&a.dir, "holds no public key (.pem, .pub, .der) or attestation file"));
    }
    let stores = Stores::bundled().map_err(|e| Error::Refused(format!("the bundled Yubico roots do not load: {e}")))?;
    let r = products::audit(&found, &a.dir, &stores, at);
    super::print_report(a.json, || products_report::to_json(&r), || products_report::to_text(&r))?;
    Ok(r.exit_code())
}
