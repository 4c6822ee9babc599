//! Yubico's YubiHSM 2 attestation extensions (OID arc 1.3.6.1.4.1.41482.4), read from a key
//! attestation certificate. Unlike the PIV arc ([`super::ext`]) every value is a DER
//! element inside the extnValue OCTET STRING:
//!
//! | OID  | content                                                                    |
//! | ---- | -------------------------------------------------------------------------- |
//! | 4.1  | firmware: OCTET STRING of 3 bytes, major minor patch                       |
//! | 4.2  | serial: INTEGER (also in the device certificate)                           |
//! | 4.3  | origin: BIT STRING, 1 byte: 0x01 generated, 0x02 imported, 0x10 imported under wrap |
//! | 4.4  | domains: BIT STRING, 2 bytes big-endian, bit 0 = domain 1                  |
//! | 4.5  | capabilities: BIT STRING, 8 bytes big-endian, bit 0 = get-opaque           |
//! | 4.6  | object id: INTEGER                                                         |
//! | 4.9  | label: UTF8String (at most 40 bytes on the device)                         |
//! | 4.10 | FIPS certified (FIPS units): INTEGER                                       |
//! | 4.12 | FIPS approved mode (FIPS units): BOOLEAN                                   |
//!
//! Sources: Yubico's YubiHSM 2 attestation and capability pages
//! (developers.yubico.com/YubiHSM2/Concepts/Attestation.html, .../Capability.html), the
//! bit order as YubicoLabs/yubihsm-parse-attestation reads it, and the PSF's 2020
//! attestations (`../shared/fixtures/real/psf-2020-ceremony/`), whose bytes match.
//! The bit strings are read as Yubico writes them: the content bytes as one big-endian
//! number, least significant bit first in the tables, not in ASN.1's named-bit order.

use super::AttestError;
use super::ext::{Firmware, bad, uint};
use std::fmt;
use x509_cert::der::Decode;
use x509_cert::der::asn1::{BitString, OctetString, Utf8StringRef};
use x509_cert::der::oid::ObjectIdentifier;

pub(crate) const FIRMWARE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.4.1");
pub(crate) const SERIAL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.4.2");
pub(crate) const ORIGIN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.4.3");
pub(crate) const DOMAINS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.4.4");
pub(crate) const CAPABILITIES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.4.5");
pub(crate) const OBJECT_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.4.6");
pub(crate) const LABEL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.4.9");
pub(crate) const FIPS_CERTIFIED: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.4.10");
pub(crate) const FIPS_MODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.4.12");

/// Where the attested key came from (several bits may be set: a key generated on one
/// YubiHSM and imported under wrap into another reads 0x11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Origin(pub u8);

impl Origin {
    pub const GENERATED: u8 = 0x01;
    pub const IMPORTED: u8 = 0x02;
    pub const IMPORTED_WRAPPED: u8 = 0x10;

    /// Generated on this device and nothing else: the only origin a ceremony key may have.
    pub fn generated_here(self) -> bool {
        self.0 == Self::GENERATED
    }

    /// Names of the bits set, e.g. `["generated"]`, `["generated", "imported-wrapped"]`;
    /// unknown bits as `bit-N`.
    pub fn names(self) -> Vec<String> {
        (0..8)
            .filter(|i| self.0 & (1 << i) != 0)
            .map(|i| match 1u8 << i {
                Self::GENERATED => "generated".to_string(),
                Self::IMPORTED => "imported".to_string(),
                Self::IMPORTED_WRAPPED => "imported-wrapped".to_string(),
                _ => format!("bit-{i}"),
            })
            .collect()
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.names();
        if n.is_empty() { f.write_str("none") } else { f.write_str(&n.join("+")) }
    }
}

/// Yubico's capability names, by bit (bit 0 first), as yubihsm-shell spells them.
const CAPABILITY_NAMES: &[&str] = &[
    "get-opaque",
    "put-opaque",
    "put-authentication-key",
    "put-asymmetric-key",
    "generate-asymmetric-key",
    "sign-pkcs",
    "sign-pss",
    "sign-ecdsa",
    "sign-eddsa",
    "decrypt-pkcs",
    "decrypt-oaep",
    "derive-ecdh",
    "export-wrapped",
    "import-wrapped",
    "put-wrap-key",
    "generate-wrap-key",
    "exportable-under-wrap",
    "set-option",
    "get-option",
    "get-pseudo-random",
    "put-mac-key",
    "generate-hmac-key",
    "sign-hmac",
    "verify-hmac",
    "get-log-entries",
    "sign-ssh-certificate",
    "get-template",
    "put-template",
    "reset-device",
    "decrypt-otp",
    "create-otp-aead",
    "randomize-otp-aead",
    "rewrap-from-otp-aead-key",
    "rewrap-to-otp-aead-key",
    "sign-attestation-certificate",
    "put-otp-aead-key",
    "generate-otp-aead-key",
    "wrap-data",
    "unwrap-data",
    "delete-opaque",
    "delete-authentication-key",
    "delete-asymmetric-key",
    "delete-wrap-key",
    "delete-hmac-key",
    "delete-template",
    "delete-otp-aead-key",
    "change-authentication-key",
    "put-symmetric-key",
    "generate-symmetric-key",
    "delete-symmetric-key",
    "decrypt-ecb",
    "encrypt-ecb",
    "decrypt-cbc",
    "encrypt-cbc",
];

/// The attested key's capabilities (a 64-bit mask).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Capabilities(pub u64);

impl Capabilities {
    /// The key may leave the device, encrypted under a wrap key.
    pub const EXPORTABLE_UNDER_WRAP: u64 = 1 << 16;

    pub fn exportable_under_wrap(self) -> bool {
        self.0 & Self::EXPORTABLE_UNDER_WRAP != 0
    }

    /// Names of the bits set, bit 0 first; unknown bits as `bit-N`.
    pub fn names(self) -> Vec<String> {
        (0..64u32)
            .filter(|i| self.0 & (1u64 << i) != 0)
            .map(|i| CAPABILITY_NAMES.get(i as usize).map(|n| n.to_string()).unwrap_or_else(|| format!("bit-{i}")))
            .collect()
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.names();
        if n.is_empty() { f.write_str("none") } else { f.write_str(&n.join(", ")) }
    }
}

/// The firmware OCTET STRING (3 bytes).
pub(crate) fn firmware(v: &[u8]) -> Result<Firmware, AttestError> {
    let o = OctetString::from_der(v).map_err(|e| bad(&FIRMWARE, format!("not an OCTET STRING: {e}")))?;
    match o.as_bytes() {
        [a, b, c] => Ok(Firmware(*a, *b, *c)),
        other => Err(bad(&FIRMWARE, format!("expected 3 bytes, found {}", other.len()))),
    }
}

pub(crate) fn serial(v: &[u8]) -> Result<u32, AttestError> {
    uint(&SERIAL, v)
}

/// The bytes of a BIT STRING of exactly `n` whole bytes, as a big-endian number.
fn bits(oid: &ObjectIdentifier, v: &[u8], n: usize) -> Result<u64, AttestError> {
    let b = BitString::from_der(v).map_err(|e| bad(oid, format!("not a BIT STRING: {e}")))?;
    let bytes = b.as_bytes().ok_or_else(|| bad(oid, "BIT STRING with unused bits"))?;
    if bytes.len() != n {
        return Err(bad(oid, format!("expected {n} bytes, found {}", bytes.len())));
    }
    Ok(bytes.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)))
}

pub(crate) fn origin(v: &[u8]) -> Result<Origin, AttestError> {
    Ok(Origin(bits(&ORIGIN, v, 1)? as u8))
}

/// Domains 1..=16 the key belongs to.
pub(crate) fn domains(v: &[u8]) -> Result<Vec<u8>, AttestError> {
    let mask = bits(&DOMAINS, v, 2)?;
    Ok((0..16u8).filter(|i| mask & (1 << i) != 0).map(|i| i + 1).collect())
}

pub(crate) fn capabilities(v: &[u8]) -> Result<Capabilities, AttestError> {
    Ok(Capabilities(bits(&CAPABILITIES, v, 8)?))
}

/// The object id (16 bits on the device).
pub(crate) fn object_id(v: &[u8]) -> Result<u16, AttestError> {
    let id = uint(&OBJECT_ID, v)?;
    u16::try_from(id).map_err(|_| bad(&OBJECT_ID, format!("{id} does not fit the device's 16-bit object ids")))
}

/// The label: UTF-8 text of at most 40 bytes (the device's limit; more is refused).
pub(crate) fn label(v: &[u8]) -> Result<String, AttestError> {
    let s = Utf8StringRef::from_der(v).map_err(|e| bad(&LABEL, format!("not a UTF8String: {e}")))?;
    let s = s.as_str();
    if s.len() > 40 {
        return Err(bad(&LABEL, format!("{} bytes is longer than the 40 a YubiHSM 2 label may have", s.len())));
    }
    Ok(s.to_string())
}

pub(crate) fn fips_certified(v: &[u8]) -> Result<u32, AttestError> {
    uint(&FIPS_CERTIFIED, v)
}

pub(crate) fn fips_mode(v: &[u8]) -> Result<bool, AttestError> {
    bool::from_der(v).map_err(|e| bad(&FIPS_MODE, format!("not a BOOLEAN: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values of the PSF's 2020 attestation of 0013200460's `tuf-root` key.
    #[test]
    fn psf_values() {
        assert_eq!(firmware(&[4, 3, 2, 1, 2]).unwrap(), Firmware(2, 1, 2));
        assert_eq!(serial(&[2, 4, 0x00, 0xc9, 0x6c, 0x4c]).unwrap(), 13200460);
        let o = origin(&[3, 2, 0, 1]).unwrap();
        assert!(o.generated_here());
        assert_eq!(o.to_string(), "generated");
        assert_eq!(domains(&[3, 3, 0, 0, 1]).unwrap(), vec![1]);
        let c = capabilities(&[3, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]).unwrap();
        assert_eq!(c.names(), vec!["sign-ecdsa"]);
        assert!(!c.exportable_under_wrap());
        assert_eq!(object_id(&[2, 1, 3]).unwrap(), 3);
        assert_eq!(label(b"\x0c\x08tuf-root").unwrap(), "tuf-root");
    }

    #[test]
    fn other_values() {
        assert_eq!(origin(&[3, 2, 0, 0x11]).unwrap().to_string(), "generated+imported-wrapped");
        assert!(!origin(&[3, 2, 0, 0x11]).unwrap().generated_here());
        assert!(!origin(&[3, 2, 0, 0x02]).unwrap().generated_here());
        assert_eq!(origin(&[3, 2, 0, 0x40]).unwrap().names(), vec!["bit-6"]);
        let c = capabilities(&[3, 9, 0, 0x80, 0, 0, 0, 0, 1, 0, 0x80]).unwrap();
        assert!(c.exportable_under_wrap());
        assert_eq!(c.names(), vec!["sign-ecdsa", "exportable-under-wrap", "bit-63"]);
        assert_eq!(domains(&[3, 3, 0, 0x80, 0x03]).unwrap(), vec![1, 2, 16]);
        assert_eq!(fips_certified(&[2, 1, 2]).unwrap(), 2);
        assert!(fips_mode(&[1, 1, 0xff]).unwrap());
        assert!(!fips_mode(&[1, 1, 0]).unwrap());
    }

    #[test]
    fn hostile_values_are_errors() {
        for v in [&[][..], &[4], &[4, 3, 1, 2], &[4, 2, 1, 2], &[3, 2, 0, 1], &[4, 0x83, 0, 0, 3, 1, 2, 3]] {
            assert!(firmware(v).is_err(), "{v:02x?}");
        }
        for v in [&[3, 2, 1, 1][..], &[3, 1, 0], &[3, 3, 0, 1, 1], &[4, 1, 1], &[3, 2, 0]] {
            assert!(origin(v).is_err(), "{v:02x?}");
        }
        assert!(domains(&[3, 2, 0, 1]).is_err());
        assert!(capabilities(&[3, 5, 0, 0, 0, 0, 0x80]).is_err());
        assert!(object_id(&[2, 3, 1, 0, 0]).is_err());
        assert!(label(b"\x0c\x02\xff\xfe").is_err());
        let long = [&[0x0c, 41][..], &[b'a'; 41]].concat();
        assert!(label(&long).is_err());
        assert!(fips_mode(&[1, 1, 7]).is_err());
    }
}
