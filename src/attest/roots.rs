//! Trusted attestation roots, each pinned by its SHA-256 fingerprint.
//!
//! Bundled: "Yubico PIV Root CA Serial 263751" (the 2018 certificate), which anchors every
//! YubiKey 4/5 attestation made by firmware before 5.7.4. Firmware 5.7.4 and later attest
//! under "Yubico Attestation Root 1" through two intermediates; those certificates are not
//! bundled, but their published fingerprints in [`YUBICO_PUBLISHED`] are pinned by
//! [`Roots::bundled`], so a device file that carries them after the F9 certificate (as
//! Yubico publishes them) verifies, and nothing else can stand in for them.
//! [`Roots::add_published`] adds one to a store at run time, by the same fingerprints.
//!
//! YubiHSM 2 attestations have their own store, [`Roots::yubihsm`]: "Yubico YubiHSM Root
//! CA" and the intermediate "Yubico YubiHSM 6742036 Sub-CA" that issues the device
//! certificates (opaque object 0), both bundled and pinned ([`YUBIHSM_PUBLISHED`]). The two
//! families never share a store, so a YubiKey chain cannot pass as a YubiHSM one or the
//! other way round. Provenance of the bundled YubiHSM files: the crates.io package
//! `attestation-validator` 0.2.0 (MIT OR Apache-2.0; `src/yubico/yubihsm2-attest-ca-crt-pem`
//! and `src/yubico/intermediate-pem`), byte for byte the files Yubico publishes as
//! `https://developers.yubico.com/YubiHSM2/Concepts/yubihsm2-attest-ca-crt.pem` and
//! `.../E45DA5F361B091B30D8F2C6FA040DB6FEF57918E.pem` (the intermediate's key identifier);
//! the SHA-256 fingerprints below are checked every time the store is loaded. An auditor
//! should still compare them with developers.yubico.com.

use super::AttestError;
use super::cert::{Cert, certificates, upper_hex};

/// Where a published certificate sits in a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Root,
    Intermediate,
}

/// A certificate Yubico publishes, identified by its SHA-256 fingerprint (uppercase hex).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published {
    pub role: Role,
    pub subject_cn: &'static str,
    pub sha256: &'static str,
    /// Whether the certificate itself ships inside this tool.
    pub bundled: bool,
}

/// Yubico's published attestation roots and intermediates (fingerprints as listed in the
/// project's shared fixtures README). Only the first is bundled.
pub const YUBICO_PUBLISHED: &[Published] = &[
    Published { role: Role::Root, subject_cn: "Yubico PIV Root CA Serial 263751", sha256: YUBICO_PIV_ROOT_SHA256, bundled: true },
    // The pre-2018 certificate of the same root key.
    Published {
        role: Role::Root,
        subject_cn: "Yubico PIV Root CA Serial 263751",
        sha256: "7E996A28E3055223733C9AEC897900EDA9B746E3E15D419556AC6A1179879A50",
        bundled: false,
    },
    // Firmware >= 5.7.4: key cert -> F9 device cert -> "Yubico PIV Attestation B 1"
    // -> "Yubico Attestation Intermediate B 1" -> "Yubico Attestation Root 1".
    Published {
        role: Role::Root,
        subject_cn: "Yubico Attestation Root 1",
        sha256: "62760C6A6EF91679F454C8902B80FD009825B3F25DA90F1FBACE2EC6586CD5A8",
        bundled: false,
    },
    Published {
        role: Role::Intermediate,
        subject_cn: "Yubico Attestation Intermediate A 1",
        sha256: "4698A1D3389C3EC60016C216250F1D0439922832D65142327436376DC2942B55",
        bundled: false,
    },
    Published {
        role: Role::Intermediate,
        subject_cn: "Yubico Attestation Intermediate B 1",
        sha256: "D4CC3F456FDAF4E7812A21AAB1DFE9D8E27D24E2FD2D6F21C9940109F0DAA754",
        bundled: false,
    },
    Published {
        role: Role::Intermediate,
        subject_cn: "Yubico PIV Attestation A 1",
        sha256: "6DE693F05376F5D8CA29069261E1C8626C75D503BD2EDBFD75354CAD1F722870",
        bundled: false,
    },
    Published {
        role: Role::Intermediate,
        subject_cn: "Yubico PIV Attestation B 1",
        sha256: "2D55B7998F4E42569D6D8FA382B6DC77D1DACF07358B19701163892922B17052",
        bundled: false,
    },
    Published {
        role: Role::Intermediate,
        subject_cn: "Yubico PIV Attestation B2 1",
        sha256: "0C90B7D184A36EDF50A35F9BE935F0C5689BFDCFE5BDD073366CAFB49061A440",
        bundled: false,
    },
];

/// The pinned fingerprint of the bundled Yubico PIV root.
pub const YUBICO_PIV_ROOT_SHA256: &str = "63ECE914E54DD87915F34033C85AF4C0696BA1512F8ADD66CED738331207B546";

/// Certificates compiled into the tool: (role, PEM, pinned fingerprint). Each is checked
/// against its pin every time [`Roots::bundled`] loads it.
const BUNDLED: &[(Role, &[u8], &str)] = &[(Role::Root, include_bytes!("roots/yubico-piv-root-ca.pem"), YUBICO_PIV_ROOT_SHA256)];

/// "Yubico YubiHSM Root CA" (RSA-4096, self-signed, 2017-01-01 .. 2071-10-05).
pub const YUBIHSM_ROOT_SHA256: &str = "094A3AC493C2BDCD65A54BDF40190F52BB03F7156397A3FC69D8AA9A392FB724";
/// "Yubico YubiHSM 6742036 Sub-CA" (RSA-2048, key identifier E45DA5F3…918E), the issuer of
/// YubiHSM 2 device certificates.
pub const YUBIHSM_SUBCA_SHA256: &str = "D7C6D8F45208E2A53996FB5A8F4D631B33EBABB64956B37B2AC151FBDBAF4AE9";

/// Yubico's published YubiHSM 2 attestation certificates; both are bundled.
pub const YUBIHSM_PUBLISHED: &[Published] = &[
    Published { role: Role::Root, subject_cn: "Yubico YubiHSM Root CA", sha256: YUBIHSM_ROOT_SHA256, bundled: true },
    Published { role: Role::Intermediate, subject_cn: "Yubico YubiHSM 6742036 Sub-CA", sha256: YUBIHSM_SUBCA_SHA256, bundled: true },
];

/// The YubiHSM 2 certificates compiled into the tool, as [`BUNDLED`].
const YUBIHSM_BUNDLED: &[(Role, &[u8], &str)] = &[
    (Role::Root, include_bytes!("roots/yubihsm2-attest-ca-crt.pem"), YUBIHSM_ROOT_SHA256),
    (Role::Intermediate, include_bytes!("roots/yubihsm2-E45DA5F361B091B30D8F2C6FA040DB6FEF57918E.pem"), YUBIHSM_SUBCA_SHA256),
];

/// A trust store: pinned roots plus pinned intermediates the chain builder may use.
///
/// Above the device (F9) certificate every link must be pinned: an intermediate is used
/// only if the store holds it ([`Roots::add_intermediate`]) or its fingerprint is pinned
/// ([`Roots::pin_intermediate`]; the bundled store pins Yubico's published ones), whether
/// its bytes come from the store or from the device file. An unpinned certificate in the
/// device file could be a genuine *key* certificate, whose private key its YubiKey's owner
/// can sign anything with, so it must never vouch for another key.
#[derive(Clone, Debug, Default)]
pub struct Roots {
    pub(crate) roots: Vec<Cert>,
    pub(crate) intermediates: Vec<Cert>,
    /// Fingerprints (uppercase hex) of intermediates accepted from a device file.
    pub(crate) intermediate_pins: Vec<String>,
    /// Fingerprints (uppercase hex) of roots accepted from a device file (Yubico's published
    /// roots that are not bundled, such as the firmware ≥ 5.7.4 "Yubico Attestation Root 1").
    pub(crate) root_pins: Vec<String>,
}

impl Roots {
    /// No trust at all (add roots with [`Roots::add_root`]).
    pub fn empty() -> Roots {
        Roots::default()
    }

    /// The roots and intermediates compiled into the tool, each checked against its pin,
    /// and the fingerprints of Yubico's published intermediates.
    pub fn bundled() -> Result<Roots, AttestError> {
        let mut r = Roots::empty();
        for (role, pem, pin) in BUNDLED {
            r.add(*role, pem, pin)?;
        }
        for p in YUBICO_PUBLISHED {
            match p.role {
                Role::Intermediate => r.pin_intermediate(p.sha256),
                Role::Root => r.pin_root(p.sha256),
            }
        }
        Ok(r)
    }

    /// The YubiHSM 2 store: Yubico's YubiHSM root and sub-CA, bundled and each checked
    /// against its pin. Nothing else is trusted above a YubiHSM device certificate.
    pub fn yubihsm() -> Result<Roots, AttestError> {
        let mut r = Roots::empty();
        for (role, pem, pin) in YUBIHSM_BUNDLED {
            r.add(*role, pem, pin)?;
        }
        Ok(r)
    }

    /// Accepts a root certificate from a device file if its SHA-256 fingerprint is `sha256`:
    /// trust rests on the pinned fingerprint, as for a bundled root.
    pub fn pin_root(&mut self, sha256: &str) {
        let pin = normalise_pin(sha256);
        if !self.root_pins.contains(&pin) {
            self.root_pins.push(pin);
        }
    }

    /// Whether `c` is a trusted root: held by the store or pinned.
    pub(crate) fn trusts_root(&self, c: &Cert) -> bool {
        self.is_root(c) || self.root_pins.contains(&upper_hex(&c.sha256))
    }

    /// Accepts an intermediate certificate from a device file if its SHA-256 fingerprint
    /// is `sha256` (hex, any case, `:` separators allowed).
    pub fn pin_intermediate(&mut self, sha256: &str) {
        let pin = normalise_pin(sha256);
        if !self.intermediate_pins.contains(&pin) {
            self.intermediate_pins.push(pin);
        }
    }

    /// Whether `c` may stand above a device certificate: held by the store or pinned.
    pub(crate) fn trusts_intermediate(&self, c: &Cert) -> bool {
        self.intermediates.iter().any(|x| x.sha256 == c.sha256) || self.intermediate_pins.contains(&upper_hex(&c.sha256))
    }

    /// Trusts `cert` (PEM or DER, one certificate) as a root if its SHA-256 fingerprint is
    /// `sha256` (hex, any case, `:` separators allowed).
    pub fn add_root(&mut self, cert: &[u8], sha256: &str) -> Result<(), AttestError> {
        self.add(Role::Root, cert, sha256)
    }

    /// Makes `cert` available as an intermediate if its fingerprint is `sha256`.
    pub fn add_intermediate(&mut self, cert: &[u8], sha256: &str) -> Result<(), AttestError> {
        self.add(Role::Intermediate, cert, sha256)
    }

    /// Adds one of Yubico's published certificates (root or intermediate, by its listed
    /// role); refuses any certificate whose fingerprint is not in [`YUBICO_PUBLISHED`].
    pub fn add_published(&mut self, cert: &[u8]) -> Result<&'static Published, AttestError> {
        let c = one(cert, "published certificate")?;
        let fp = upper_hex(&c.sha256);
        let p = YUBICO_PUBLISHED.iter().find(|p| p.sha256 == fp).ok_or(AttestError::NotPublished { sha256: fp })?;
        self.push(p.role, c);
        Ok(p)
    }

    fn add(&mut self, role: Role, cert: &[u8], pin: &str) -> Result<(), AttestError> {
        let c = one(cert, "pinned certificate")?;
        let expected = normalise_pin(pin);
        let actual = upper_hex(&c.sha256);
        if actual != expected {
            return Err(AttestError::PinMismatch { subject: c.subject(), expected, actual });
        }
        self.push(role, c);
        Ok(())
    }

    fn push(&mut self, role: Role, c: Cert) {
        let list = match role {
            Role::Root => &mut self.roots,
            Role::Intermediate => &mut self.intermediates,
        };
        if !list.iter().any(|x| x.sha256 == c.sha256) {
            list.push(c);
        }
    }

    /// Subjects of the trusted roots.
    pub fn root_subjects(&self) -> Vec<String> {
        self.roots.iter().map(Cert::subject).collect()
    }

    pub(crate) fn is_root(&self, c: &Cert) -> bool {
        self.roots.iter().any(|r| r.sha256 == c.sha256)
    }
}

/// A fingerprint as written by hand or by openssl (`ab:cd:…`), as uppercase hex.
fn normalise_pin(pin: &str) -> String {
    pin.chars().filter(|c| *c != ':').collect::<String>().to_ascii_uppercase()
}

fn one(cert: &[u8], what: &str) -> Result<Cert, AttestError> {
    let mut v = certificates(cert, what)?;
    if v.len() != 1 {
        return Err(AttestError::Parse { what: what.into(), reason: format!("expected one certificate, found {}", v.len()) });
    }
    Ok(v.remove(0))
}

/// The SHA-256 fingerprint of a certificate (PEM or DER; the first one), uppercase hex.
pub fn fingerprint(cert: &[u8]) -> Result<String, AttestError> {
    let v = certificates(cert, "certificate")?;
    Ok(upper_hex(&v[0].sha256))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_root_is_pinned() {
        let r = Roots::bundled().unwrap();
        assert_eq!(r.root_subjects(), vec!["CN=Yubico PIV Root CA Serial 263751".to_string()]);
        assert_eq!(fingerprint(BUNDLED[0].1).unwrap(), YUBICO_PIV_ROOT_SHA256);
        let mut wrong = YUBICO_PIV_ROOT_SHA256.to_string();
        wrong.replace_range(0..1, "7");
        assert!(matches!(Roots::empty().add_root(BUNDLED[0].1, &wrong), Err(AttestError::PinMismatch { .. })));
        // Fingerprints in openssl's colon form are accepted.
        let colons: Vec<String> = YUBICO_PIV_ROOT_SHA256.as_bytes().chunks(2).map(|c| String::from_utf8_lossy(c).to_lowercase()).collect();
        Roots::empty().add_root(BUNDLED[0].1, &colons.join(":")).unwrap();
        assert_eq!(Roots::empty().add_published(BUNDLED[0].1).unwrap().role, Role::Root);
    }

    #[test]
    fn published_table_is_well_formed() {
        for p in YUBICO_PUBLISHED {
            assert_eq!(p.sha256.len(), 64);
            assert!(p.sha256.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)), "{}", p.sha256);
        }
        assert_eq!(YUBICO_PUBLISHED.iter().filter(|p| p.bundled).count(), BUNDLED.len());
        assert_eq!(YUBIHSM_PUBLISHED.iter().filter(|p| p.bundled).count(), YUBIHSM_BUNDLED.len());
    }

    #[test]
    fn yubihsm_store_is_pinned_and_apart() {
        let r = Roots::yubihsm().unwrap();
        assert_eq!(r.root_subjects(), vec!["CN=Yubico YubiHSM Root CA".to_string()]);
        assert_eq!(r.intermediates.len(), 1);
        assert_eq!(r.intermediates[0].subject(), "CN=Yubico YubiHSM 6742036 Sub-CA");
        for (_, pem, pin) in YUBIHSM_BUNDLED {
            assert_eq!(fingerprint(pem).unwrap(), *pin);
        }
        // The PIV store knows nothing of YubiHSM certificates, nor the YubiHSM store of PIV ones.
        let piv = Roots::bundled().unwrap();
        assert!(!piv.trusts_root(&r.roots[0]) && !piv.trusts_intermediate(&r.intermediates[0]));
        assert!(!r.trusts_root(&piv.roots[0]));
    }
}
