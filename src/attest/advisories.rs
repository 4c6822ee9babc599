//! Yubico security advisories that concern YubiHSM 2 firmware, by the first firmware
//! that fixes each. An attested firmware below `fixed_in` gets a warning naming the
//! advisory (the key is not refused: the advisories need the device in hand, and the
//! keys of a ceremony are where the ceremony put them). YubiKey PIV's one advisory is
//! [`super::YSA_2024_03_FIXED`].
//!
//! Sources (an auditor should re-read Yubico's list at
//! https://www.yubico.com/support/security-advisories/):
//! * YSA-2024-03, "Infineon ECDSA Private Key Recovery" (published 2024-09-03):
//!   https://www.yubico.com/support/security-advisories/ysa-2024-03/ and Yubico's
//!   customer article https://support.yubico.com/hc/en-us/articles/15705749884444 list
//!   "YubiHSM 2 versions prior to 2.4" and "YubiHSM 2 FIPS versions prior to 2.4" as
//!   affected, 2.4 and newer as not.
//!
//! Only advisories whose affected firmware was confirmed from Yubico's own pages are listed:
//! a warning naming an advisory must be one an auditor can look up and find as stated.

use super::Firmware;

/// One advisory and the firmware that fixes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advisory {
    /// Yubico's id, e.g. `YSA-2024-03`.
    pub id: &'static str,
    /// The stable finding code for it.
    pub code: &'static str,
    /// The first firmware not affected.
    pub fixed_in: Firmware,
    pub summary: &'static str,
    pub url: &'static str,
}

/// The advisories for YubiHSM 2 (and YubiHSM 2 FIPS) firmware, oldest first.
pub const YUBIHSM2: &[Advisory] = &[Advisory {
    id: "YSA-2024-03",
    code: "attest-firmware-ysa-2024-03",
    fixed_in: Firmware(2, 4, 0),
    summary: "ECDSA side channel in Infineon's library; an attacker with the device in hand and specialised equipment may recover ECDSA private keys",
    url: "https://www.yubico.com/support/security-advisories/ysa-2024-03/",
}];

/// The YubiHSM 2 advisories `firmware` is affected by.
pub fn yubihsm2(firmware: Firmware) -> Vec<&'static Advisory> {
    YUBIHSM2.iter().filter(|a| firmware < a.fixed_in).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_firmware() {
        let ids = |v: Firmware| yubihsm2(v).iter().map(|a| a.id).collect::<Vec<_>>();
        assert_eq!(ids(Firmware(2, 1, 2)), ["YSA-2024-03"]);
        assert_eq!(ids(Firmware(2, 3, 1)), ["YSA-2024-03"]);
        assert_eq!(ids(Firmware(2, 4, 0)), Vec::<&str>::new());
        for a in YUBIHSM2 {
            assert_eq!(a.code, format!("attest-firmware-{}", a.id.to_ascii_lowercase()));
        }
    }
}
