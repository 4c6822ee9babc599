//! Yubico's PIV attestation extensions (OID arc 1.3.6.1.4.1.41482.3), read from the key
//! certificate. Values are the raw extnValue contents:
//!
//! | OID   | content                                                           |
//! | ----- | ----------------------------------------------------------------- |
//! | 3.3   | firmware: 3 raw bytes, major minor patch                          |
//! | 3.7   | serial: a DER INTEGER (read leniently: a redundant 00 is accepted) |
//! | 3.8   | policy: 2 raw bytes, PIN policy then touch policy                  |
//! | 3.9   | form factor: 1 raw byte                                           |

use super::AttestError;
use std::fmt;
use x509_cert::der::oid::ObjectIdentifier;

pub(crate) const FIRMWARE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.3.3");
pub(crate) const SERIAL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.3.7");
pub(crate) const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.3.8");
pub(crate) const FORM_FACTOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.3.9");

/// A YubiKey firmware version; orders as versions do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Firmware(pub u8, pub u8, pub u8);

impl fmt::Display for Firmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// When the PIN is required for the attested key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PinPolicy {
    Never,
    Once,
    Always,
    /// Bio models: fingerprint or PIN, once per session.
    MatchOnce,
    /// Bio models: fingerprint or PIN, every use.
    MatchAlways,
    Other(u8),
}

impl PinPolicy {
    pub fn from_byte(b: u8) -> Self {
        match b {
            1 => PinPolicy::Never,
            2 => PinPolicy::Once,
            3 => PinPolicy::Always,
            4 => PinPolicy::MatchOnce,
            5 => PinPolicy::MatchAlways,
            o => PinPolicy::Other(o),
        }
    }
}

impl fmt::Display for PinPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinPolicy::Never => f.write_str("never"),
            PinPolicy::Once => f.write_str("once"),
            PinPolicy::Always => f.write_str("always"),
            PinPolicy::MatchOnce => f.write_str("match-once"),
            PinPolicy::MatchAlways => f.write_str("match-always"),
            PinPolicy::Other(b) => write!(f, "unknown ({b:#04x})"),
        }
    }
}

/// When a touch is required for the attested key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TouchPolicy {
    Never,
    Always,
    /// Touch is remembered for 15 seconds.
    Cached,
    Other(u8),
}

impl TouchPolicy {
    pub fn from_byte(b: u8) -> Self {
        match b {
            1 => TouchPolicy::Never,
            2 => TouchPolicy::Always,
            3 => TouchPolicy::Cached,
            o => TouchPolicy::Other(o),
        }
    }
}

impl fmt::Display for TouchPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TouchPolicy::Never => f.write_str("never"),
            TouchPolicy::Always => f.write_str("always"),
            TouchPolicy::Cached => f.write_str("cached"),
            TouchPolicy::Other(b) => write!(f, "unknown ({b:#04x})"),
        }
    }
}

/// The form-factor byte as attested (the low nibble is the shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FormFactor(pub u8);

impl FormFactor {
    pub fn name(self) -> &'static str {
        match self.0 & 0x0f {
            1 => "USB-A keychain",
            2 => "USB-A nano",
            3 => "USB-C keychain",
            4 => "USB-C nano",
            5 => "USB-C and Lightning",
            6 => "USB-A Bio",
            7 => "USB-C Bio",
            _ => "unknown",
        }
    }
}

impl fmt::Display for FormFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:#04x})", self.name(), self.0)
    }
}

pub(crate) fn bad(oid: &ObjectIdentifier, reason: impl Into<String>) -> AttestError {
    AttestError::BadExtension { oid: oid.to_string(), reason: reason.into() }
}

pub(crate) fn firmware(v: &[u8]) -> Result<Firmware, AttestError> {
    match v {
        [a, b, c] => Ok(Firmware(*a, *b, *c)),
        _ => Err(bad(&FIRMWARE, format!("expected 3 bytes, found {}", v.len()))),
    }
}

/// The serial INTEGER, read leniently: any number of redundant leading 00 bytes is
/// accepted (some devices write a fixed 4-byte form), a negative or larger-than-u32
/// value is not, and nothing may follow the INTEGER.
pub(crate) fn serial(v: &[u8]) -> Result<u32, AttestError> {
    uint(&SERIAL, v)
}

/// A non-negative DER INTEGER of at most 32 bits in the extension `oid`, read as
/// leniently as [`serial`] (the YubiHSM 2 serial and object id use it too).
pub(crate) fn uint(oid: &ObjectIdentifier, v: &[u8]) -> Result<u32, AttestError> {
    let [tag, rest @ ..] = v else { return Err(bad(oid, "empty")) };
    if *tag != 0x02 {
        return Err(bad(oid, format!("expected an INTEGER (tag 02), found tag {tag:02x}")));
    }
    let (len, body) = match rest {
        [l, body @ ..] if *l < 0x80 => (*l as usize, body),
        // Long-form length (BER allows it for short values too).
        [l, more @ ..] if *l > 0x80 && *l <= 0x84 => {
            let n = (*l & 0x7f) as usize;
            if more.len() < n {
                return Err(bad(oid, "truncated length"));
            }
            let len = more[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
            (len, &more[n..])
        }
        _ => return Err(bad(oid, "unsupported length encoding")),
    };
    if body.len() != len {
        return Err(bad(oid, format!("INTEGER length {len} but {} content bytes", body.len())));
    }
    let Some(first) = body.first() else { return Err(bad(oid, "INTEGER has no content")) };
    if first & 0x80 != 0 {
        return Err(bad(oid, "negative value"));
    }
    let start = body.iter().position(|b| *b != 0).unwrap_or(body.len());
    let digits = &body[start..];
    if digits.len() > 4 {
        return Err(bad(oid, "value larger than 32 bits"));
    }
    Ok(digits.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b)))
}

pub(crate) fn policy(v: &[u8]) -> Result<(PinPolicy, TouchPolicy), AttestError> {
    match v {
        [p, t] => Ok((PinPolicy::from_byte(*p), TouchPolicy::from_byte(*t))),
        _ => Err(bad(&POLICY, format!("expected 2 bytes, found {}", v.len()))),
    }
}

pub(crate) fn form_factor(v: &[u8]) -> Result<FormFactor, AttestError> {
    match v {
        [b] => Ok(FormFactor(*b)),
        _ => Err(bad(&FORM_FACTOR, format!("expected 1 byte, found {}", v.len()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_lenient_integer() {
        assert_eq!(serial(&[2, 4, 0x00, 0xc7, 0x90, 0xfa]).unwrap(), 13078778); // as Yubico writes it
        assert_eq!(serial(&[2, 4, 0x00, 0x12, 0x34, 0x56]).unwrap(), 0x123456); // non-minimal
        assert_eq!(serial(&[2, 3, 0x74, 0xcb, 0xb1]).unwrap(), 7654321);
        assert_eq!(serial(&[2, 6, 0, 0, 0xff, 0xff, 0xff, 0xff]).unwrap(), u32::MAX);
        assert_eq!(serial(&[2, 0x81, 2, 0x01, 0x02]).unwrap(), 0x0102); // long-form length
        assert_eq!(serial(&[2, 1, 0]).unwrap(), 0);
        for hostile in [
            &[][..],
            &[4, 1, 1],
            &[2],
            &[2, 0],
            &[2, 1, 0x80],
            &[2, 2, 0x00],
            &[2, 1, 1, 0],
            &[2, 5, 1, 0, 0, 0, 0],
            &[2, 0x80, 1],
            &[2, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[2, 0x88, 1, 1, 1, 1, 1, 1, 1, 1],
        ] {
            assert!(serial(hostile).is_err(), "{hostile:02x?}");
        }
    }

    #[test]
    fn fixed_size_fields() {
        assert_eq!(firmware(&[5, 7, 4]).unwrap(), Firmware(5, 7, 4));
        assert!(firmware(&[5, 7]).is_err());
        assert!(Firmware(5, 2, 7) < Firmware(5, 7, 0) && Firmware(5, 7, 0) < Firmware(5, 10, 0));
        assert_eq!(policy(&[3, 2]).unwrap(), (PinPolicy::Always, TouchPolicy::Always));
        assert_eq!(policy(&[1, 3]).unwrap(), (PinPolicy::Never, TouchPolicy::Cached));
        assert_eq!(policy(&[9, 9]).unwrap(), (PinPolicy::Other(9), TouchPolicy::Other(9)));
        assert!(policy(&[3]).is_err());
        assert_eq!(form_factor(&[3]).unwrap().name(), "USB-C keychain");
        assert!(form_factor(&[]).is_err());
    }
}
