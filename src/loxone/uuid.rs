//! Loxone UUIDs and control addresses.
//!
//! Why a type of our own: every command path segment that names a device is built from a
//! [`ControlAddr`], and a `ControlAddr` can only be made by parsing a strict shape
//! (`8-4-4-16` hex, optional `/suffix` of ASCII letters and digits). A string that could carry
//! `../`, `%2e`, `?`, `#`, whitespace or control characters never becomes an address, so it can
//! never reach a URL (SC-10, LS-8). Parsing is the only way in; there is no `From<String>`.
//!
//! The printed form is lowercase (CWM "The UUID": `%08x-%04x-%04x-%02x…`). Parsing accepts
//! either case and canonicalises. The binary (`bytes_le`) layout used in event tables is *not*
//! here: the client's event parser and the simulator's encoder each implement it on their own
//! against the documented layout, so neither can hide a mistake in the other.

use std::fmt;

/// A Loxone UUID such as `0f86a2fe-0378-3e15-ffff373f9870b52a`, stored as the 16 bytes of its
/// printed hex digits in order (big-endian reading of the text).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid([u8; 16]);

/// Why a string is not a UUID or control address. Kept small: callers only report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrError(pub &'static str);

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for AddrError {}

/// Longest sub-control suffix we accept (real ones: `AI1`, `masterValue`, `sensors`, `1`).
pub const MAX_SUFFIX_LEN: usize = 32;

impl Uuid {
    /// The printed text is 35 characters: 8 + 1 + 4 + 1 + 4 + 1 + 16.
    pub const TEXT_LEN: usize = 35;

    /// Parses the strict `8-4-4-16` hex shape (either case).
    pub fn parse(s: &str) -> Result<Uuid, AddrError> {
        let b = s.as_bytes();
        if b.len() != Self::TEXT_LEN {
            return Err(AddrError("a Loxone UUID has the shape 8-4-4-16 hex digits"));
        }
        if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' {
            return Err(AddrError("a Loxone UUID has the shape 8-4-4-16 hex digits"));
        }
        let mut out = [0u8; 16];
        let mut nibbles = b
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 8 && *i != 13 && *i != 18)
            .map(|(_, c)| *c);
        for byte in out.iter_mut() {
            let hi = nibbles.next().and_then(hex_val);
            let lo = nibbles.next().and_then(hex_val);
            match (hi, lo) {
                (Some(h), Some(l)) => *byte = (h << 4) | l,
                _ => {
                    return Err(AddrError(
                        "a Loxone UUID contains only hex digits and dashes",
                    ));
                }
            }
        }
        Ok(Uuid(out))
    }

    /// The 16 bytes in printed order.
    pub fn bytes(&self) -> [u8; 16] {
        self.0
    }

    /// Builds a UUID from its 16 bytes in printed order.
    pub fn from_bytes(b: [u8; 16]) -> Uuid {
        Uuid(b)
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-",
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]
        )?;
        for x in &b[8..] {
            write!(f, "{x:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

impl std::str::FromStr for Uuid {
    type Err = AddrError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse(s)
    }
}

/// The address of a control: its UUID plus, for sub-controls, a suffix (`{parent}/AI1`,
/// `{parent}/1`, `{parent}/masterValue`). This is what goes into `jdev/sps/io/{addr}/...`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ControlAddr {
    uuid: Uuid,
    suffix: Option<Box<str>>,
}

impl ControlAddr {
    /// Parses `uuid` or `uuid/suffix`; the suffix is 1–32 ASCII letters or digits.
    pub fn parse(s: &str) -> Result<ControlAddr, AddrError> {
        let (u, suffix) = match s.split_once('/') {
            Some((u, rest)) => (u, Some(rest)),
            None => (s, None),
        };
        let uuid = Uuid::parse(u)?;
        let suffix = match suffix {
            None => None,
            Some(sfx) => {
                if sfx.is_empty() || sfx.len() > MAX_SUFFIX_LEN {
                    return Err(AddrError(
                        "a sub-control suffix has 1 to 32 letters or digits",
                    ));
                }
                if !sfx.bytes().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(AddrError(
                        "a sub-control suffix has only ASCII letters and digits",
                    ));
                }
                Some(sfx.into())
            }
        };
        Ok(ControlAddr { uuid, suffix })
    }

    /// The address of a top-level control.
    pub fn of(uuid: Uuid) -> ControlAddr {
        ControlAddr { uuid, suffix: None }
    }

    pub fn uuid(&self) -> Uuid {
        self.uuid
    }

    pub fn suffix(&self) -> Option<&str> {
        self.suffix.as_deref()
    }
}

impl fmt::Display for ControlAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.suffix {
            Some(s) => write!(f, "{}/{}", self.uuid, s),
            None => write!(f, "{}", self.uuid),
        }
    }
}

impl fmt::Debug for ControlAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ControlAddr({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_uuid_round_trips_in_lowercase() {
        let u = Uuid::parse("0F86A2FE-0378-3E15-FFFF373F9870B52A").unwrap();
        assert_eq!(u.to_string(), "0f86a2fe-0378-3e15-ffff373f9870b52a");
        assert_eq!(u.bytes()[0], 0x0f);
        assert_eq!(u.bytes()[15], 0x2a);
    }

    #[test]
    fn wrong_shapes_are_not_uuids() {
        for bad in [
            "",
            "0f86a2fe-0378-3e15-ffff373f9870b52",
            "0f86a2fe-0378-3e15-ffff-373f9870b52a",
            "0f86a2fe03783e15ffff373f9870b52a123",
            "0f86a2fe-0378-3e15-ffff373f9870b5zz",
            "../../jdev/sys/reboot/aaaaaaaaaaaaaa",
            "0f86a2fe-0378-3e15-ffff373f9870b5%2",
        ] {
            assert!(Uuid::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn sub_control_addresses_keep_their_suffix() {
        let a = ControlAddr::parse("1079e231-0145-ebe1-ffffc926a26a8d21/AI1").unwrap();
        assert_eq!(a.suffix(), Some("AI1"));
        assert_eq!(a.to_string(), "1079e231-0145-ebe1-ffffc926a26a8d21/AI1");
    }

    #[test]
    fn suffixes_with_anything_but_letters_and_digits_are_refused() {
        for bad in [
            "1079e231-0145-ebe1-ffffc926a26a8d21/",
            "1079e231-0145-ebe1-ffffc926a26a8d21/a/b",
            "1079e231-0145-ebe1-ffffc926a26a8d21/..",
            "1079e231-0145-ebe1-ffffc926a26a8d21/%2e%2e",
            "1079e231-0145-ebe1-ffffc926a26a8d21/on?x=1",
            "1079e231-0145-ebe1-ffffc926a26a8d21/a b",
            "1079e231-0145-ebe1-ffffc926a26a8d21/\u{0}",
            "1079e231-0145-ebe1-ffffc926a26a8d21/AI\u{0661}",
        ] {
            assert!(ControlAddr::parse(bad).is_err(), "{bad:?} parsed");
        }
        let long = format!("1079e231-0145-ebe1-ffffc926a26a8d21/{}", "a".repeat(33));
        assert!(ControlAddr::parse(&long).is_err());
    }
}
