//! Local time for the night posture (UCA-L2): the UTC offset in force at an instant, read from
//! the system's TZif file.
//!
//! Why our own reader: `std` has no time zones and the night rule needs only "which minute of
//! the local day is it", so a small pure reader of the TZif format (RFC 8536, versions 1–4) and
//! of its POSIX-TZ footer is enough, without a new dependency. Which file: `TZ` when set
//! (`:/path`, `/path`, `:Area/City` or `Area/City` under `/usr/share/zoneinfo`, or a POSIX rule
//! such as `CET-1CEST,M3.5.0,M10.5.0/3`), else `/etc/localtime`.
//!
//! When local time cannot be known (no file, a file we cannot read), [`Zone::system`] fails and
//! the gateway assumes night (the safe side: lights in sleeping rooms stay dim) and says so
//! once in the log and in `get_system_status`.

mod tzif;

pub use tzif::Rule;
use tzif::{Header, footer};

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where zone files live when `TZ` names one by area and city.
pub const ZONEINFO: &str = "/usr/share/zoneinfo";

/// One day, the window [`Zone::last_switch`] is asked about.
pub const DAY: Duration = Duration::from_secs(86_400);

/// A time zone: transitions from a TZif file and/or a POSIX rule for the times after them.
#[derive(Clone, Debug, PartialEq)]
pub struct Zone {
    /// Where it came from (a path or the `TZ` text), for messages.
    pub source: String,
    /// Transition instants (Unix seconds), ascending.
    times: Vec<i64>,
    /// For each transition, the index of the local time type it switches to.
    kinds: Vec<usize>,
    /// UTC offsets (seconds east) of the local time types.
    offsets: Vec<i32>,
    /// The rule for instants after the last transition (TZif v2+ footer, or a `TZ` rule).
    rule: Option<Rule>,
}

impl Zone {
    /// Coordinated Universal Time.
    pub fn utc() -> Zone {
        Zone {
            source: "UTC".into(),
            times: Vec::new(),
            kinds: Vec::new(),
            offsets: vec![0],
            rule: None,
        }
    }

    /// The zone of this system: `TZ`, else `/etc/localtime`.
    pub fn system() -> Result<Zone, String> {
        match std::env::var("TZ") {
            Ok(tz) => Zone::from_tz(&tz),
            Err(_) => Zone::load(Path::new("/etc/localtime")),
        }
    }

    /// The zone a `TZ` value names.
    pub fn from_tz(tz: &str) -> Result<Zone, String> {
        let tz = tz.strip_prefix(':').unwrap_or(tz);
        if tz.is_empty() {
            return Ok(Zone::utc());
        }
        if tz.starts_with('/') {
            return Zone::load(Path::new(tz));
        }
        let safe = tz
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
        if safe {
            let path = PathBuf::from(ZONEINFO).join(tz);
            if path.is_file() {
                return Zone::load(&path);
            }
        }
        let rule = Rule::parse(tz)
            .map_err(|e| format!("TZ={tz:?} is neither a zone file nor a rule: {e}"))?;
        Ok(Zone {
            source: format!("TZ={tz}"),
            times: Vec::new(),
            kinds: Vec::new(),
            offsets: vec![rule.std],
            rule: Some(rule),
        })
    }

    /// Reads a TZif file.
    pub fn load(path: &Path) -> Result<Zone, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut z = Zone::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        z.source = path.display().to_string();
        Ok(z)
    }

    /// Parses TZif bytes (v1, or v2+ with 64-bit times and the footer rule).
    pub fn parse(b: &[u8]) -> Result<Zone, String> {
        let h1 = Header::read(b, 0)?;
        let v1_end = 44 + h1.data_len(4);
        let (h, start, width) = if h1.version >= 2 {
            (Header::read(b, v1_end)?, v1_end + 44, 8)
        } else {
            (h1, 44, 4)
        };
        let need = start + h.data_len(width);
        if b.len() < need {
            return Err("the file is shorter than its header says".into());
        }
        if h.typecnt == 0 {
            return Err("no local time types".into());
        }
        let mut at = start;
        let mut times = Vec::with_capacity(h.timecnt);
        for _ in 0..h.timecnt {
            let t = if width == 8 {
                i64::from_be_bytes(b[at..at + 8].try_into().map_err(|_| "short time")?)
            } else {
                i64::from(i32::from_be_bytes(
                    b[at..at + 4].try_into().map_err(|_| "short time")?,
                ))
            };
            times.push(t);
            at += width;
        }
        let mut kinds = Vec::with_capacity(h.timecnt);
        for _ in 0..h.timecnt {
            let k = usize::from(b[at]);
            if k >= h.typecnt {
                return Err("a transition names a local time type that does not exist".into());
            }
            kinds.push(k);
            at += 1;
        }
        let mut offsets = Vec::with_capacity(h.typecnt);
        for _ in 0..h.typecnt {
            let off = i32::from_be_bytes(b[at..at + 4].try_into().map_err(|_| "short type")?);
            if !(-89_999..=93_599).contains(&off) {
                return Err(format!("implausible UTC offset {off} s"));
            }
            offsets.push(off);
            at += 6;
        }
        if times.windows(2).any(|w| w[0] >= w[1]) {
            return Err("transition times are not ascending".into());
        }
        let rule = if h.version >= 2 {
            footer(&b[need..])?
        } else {
            None
        };
        Ok(Zone {
            source: String::new(),
            times,
            kinds,
            offsets,
            rule,
        })
    }

    /// The UTC offset (seconds east) in force at `unix` seconds.
    pub fn offset_at(&self, unix: i64) -> i32 {
        let after_last = self.times.last().is_none_or(|last| unix >= *last);
        if after_last && let Some(rule) = &self.rule {
            return rule.offset_at(unix);
        }
        match self.times.partition_point(|t| *t <= unix) {
            // Before the first transition: local time type 0 (RFC 8536 §3.2).
            0 => self.offsets[0],
            n => self.offsets[self.kinds[n - 1]],
        }
    }

    /// How long before `wall` the UTC offset last changed (a daylight-saving switch), if it
    /// did within `within`. Found to the second by halving the interval; zones switch at most
    /// twice a year, so one switch per window is assumed.
    pub fn last_switch(&self, wall: SystemTime, within: Duration) -> Option<Duration> {
        let now = unix_secs(wall);
        let offset = self.offset_at(now);
        let mut before = now.saturating_sub(within.as_secs() as i64);
        if self.offset_at(before) == offset {
            return None;
        }
        // `before` has the old offset, `after` the current one.
        let mut after = now;
        while after - before > 1 {
            let mid = before + (after - before) / 2;
            if self.offset_at(mid) == offset {
                after = mid;
            } else {
                before = mid;
            }
        }
        Some(Duration::from_secs((now - after) as u64))
    }

    /// Minutes after local midnight at `wall`.
    pub fn local_minute(&self, wall: SystemTime) -> u16 {
        (self.local_ms(wall) / 60_000) as u16
    }

    /// Milliseconds after local midnight at `wall`.
    pub fn local_ms(&self, wall: SystemTime) -> u32 {
        let ms = unix_ms(wall);
        let local = ms + i64::from(self.offset_at(ms.div_euclid(1000))) * 1000;
        local.rem_euclid(86_400_000) as u32
    }
}

/// Milliseconds since the Unix epoch (negative before it).
fn unix_ms(wall: SystemTime) -> i64 {
    match wall.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

fn unix_secs(wall: SystemTime) -> i64 {
    unix_ms(wall).div_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::civil::days_from_civil;

    fn fixture(name: &str) -> Zone {
        Zone::load(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/tz")
                .join(name),
        )
        .unwrap()
    }

    fn unix(y: i64, m: u32, d: u32, h: i64, min: i64) -> i64 {
        days_from_civil(y, m, d) * 86_400 + h * 3600 + min * 60
    }

    #[test]
    fn berlin_switches_to_summer_time_at_1_utc_on_the_last_sunday_of_march() {
        let z = fixture("Europe-Berlin");
        // 2026-03-29 is the last Sunday of March: 01:00 UTC the clocks go from 02:00 to 03:00.
        assert_eq!(z.offset_at(unix(2026, 3, 29, 0, 59)), 3600);
        assert_eq!(z.offset_at(unix(2026, 3, 29, 1, 0)), 7200);
        // 2026-10-25: back at 01:00 UTC.
        assert_eq!(z.offset_at(unix(2026, 10, 25, 0, 59)), 7200);
        assert_eq!(z.offset_at(unix(2026, 10, 25, 1, 0)), 3600);
        // Midsummer and midwinter.
        assert_eq!(z.offset_at(unix(2026, 7, 1, 12, 0)), 7200);
        assert_eq!(z.offset_at(unix(2026, 1, 15, 12, 0)), 3600);
    }

    #[test]
    fn berlin_after_its_last_transition_follows_the_footer_rule() {
        let z = fixture("Europe-Berlin");
        assert!(z.rule.is_some());
        // 2050 is past the transitions listed in the file (up to 2037).
        assert_eq!(z.offset_at(unix(2050, 3, 27, 0, 59)), 3600);
        assert_eq!(z.offset_at(unix(2050, 3, 27, 1, 0)), 7200);
        assert_eq!(z.offset_at(unix(2050, 10, 30, 0, 59)), 7200);
        assert_eq!(z.offset_at(unix(2050, 10, 30, 1, 0)), 3600);
    }

    #[test]
    fn the_local_minute_crosses_the_dst_change_correctly() {
        let z = fixture("Europe-Berlin");
        let at = |u: i64| UNIX_EPOCH + std::time::Duration::from_secs(u as u64);
        // 00:59 UTC = 01:59 CET; 01:00 UTC = 03:00 CEST.
        assert_eq!(z.local_minute(at(unix(2026, 3, 29, 0, 59))), 60 + 59);
        assert_eq!(z.local_minute(at(unix(2026, 3, 29, 1, 0))), 3 * 60);
        // 22:30 UTC in July = 00:30 local the next day.
        assert_eq!(z.local_minute(at(unix(2026, 7, 1, 22, 30))), 30);
        let ms = UNIX_EPOCH
            + std::time::Duration::from_millis(unix(2026, 7, 1, 22, 30) as u64 * 1000 + 1_234);
        assert_eq!(z.local_ms(ms), 30 * 60_000 + 1_234);
    }

    #[test]
    fn the_last_switch_within_a_day_is_found_to_the_second() {
        let z = fixture("Europe-Berlin");
        let at = |u: i64| UNIX_EPOCH + std::time::Duration::from_secs(u as u64);
        let switch = unix(2026, 10, 25, 1, 0);
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs());
        assert_eq!(
            secs(z.last_switch(at(switch + 5 * 3600 + 7), DAY)),
            Some(5 * 3600 + 7)
        );
        assert_eq!(secs(z.last_switch(at(switch), DAY)), Some(0));
        assert_eq!(z.last_switch(at(switch - 1), DAY), None);
        assert_eq!(secs(z.last_switch(at(switch + 86_399), DAY)), Some(86_399));
        assert_eq!(z.last_switch(at(switch + 86_400), DAY), None);
        // Past the file's table: the footer rule (2050-03-27, 01:00 UTC).
        let spring = unix(2050, 3, 27, 1, 0);
        assert_eq!(secs(z.last_switch(at(spring + 60), DAY)), Some(60));
        assert_eq!(Zone::utc().last_switch(at(switch), DAY), None);
    }

    #[test]
    fn a_wall_clock_before_1970_still_has_its_local_time() {
        // A clock that was never set can read before the epoch: 90 min before it is 22:30.
        let wall = UNIX_EPOCH - Duration::from_secs(90 * 60);
        assert_eq!(Zone::utc().local_ms(wall), (22 * 60 + 30) * 60_000);
    }

    #[test]
    fn sydney_has_summer_time_across_new_year() {
        let z = fixture("Australia-Sydney");
        assert_eq!(z.offset_at(unix(2026, 1, 10, 0, 0)), 11 * 3600);
        assert_eq!(z.offset_at(unix(2026, 7, 10, 0, 0)), 10 * 3600);
        // Rule only (the file's table ends in 2037).
        let r = Rule::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert_eq!(r.offset_at(unix(2051, 1, 10, 0, 0)), 11 * 3600);
        assert_eq!(r.offset_at(unix(2051, 7, 10, 0, 0)), 10 * 3600);
        // 2051-10-01 is a Sunday: 02:00 AEST = 16:00 UTC the day before.
        assert_eq!(r.offset_at(unix(2051, 9, 30, 15, 59)), 10 * 3600);
        assert_eq!(r.offset_at(unix(2051, 9, 30, 16, 0)), 11 * 3600);
    }

    #[test]
    fn posix_rules_parse_with_their_variants() {
        assert_eq!(Rule::parse("UTC0").unwrap().offset_at(0), 0);
        assert_eq!(
            Rule::parse("<+0530>-5:30").unwrap().offset_at(0),
            5 * 3600 + 1800
        );
        let us = Rule::parse("EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert_eq!(us.offset_at(unix(2026, 7, 1, 12, 0)), -4 * 3600);
        assert_eq!(us.offset_at(unix(2026, 1, 1, 12, 0)), -5 * 3600);
        let j = Rule::parse("XXX-1YYY,J60/2,J300/3").unwrap();
        assert_eq!(j.offset_at(unix(2026, 6, 1, 0, 0)), 7200);
        for bad in [
            "",
            "X1",
            "CET-1CEST,M13.5.0,M10.5.0",
            "CET-1CEST,M3.5.0",
            "CET-1CEST,J0,J5",
        ] {
            assert!(Rule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_version_1_file_is_read_with_32_bit_times() {
        // Two types (+1 h, +2 h), one transition at t = 1000 to type 1.
        let mut b = Vec::new();
        b.extend_from_slice(b"TZif");
        b.push(0);
        b.extend_from_slice(&[0; 15]);
        for n in [0u32, 0, 0, 1, 2, 8] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        b.extend_from_slice(&1000i32.to_be_bytes());
        b.push(1);
        b.extend_from_slice(&3600i32.to_be_bytes());
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&7200i32.to_be_bytes());
        b.extend_from_slice(&[1, 4]);
        b.extend_from_slice(b"CET\0CEST");
        let z = Zone::parse(&b).unwrap();
        assert_eq!(z.offset_at(999), 3600);
        assert_eq!(z.offset_at(1000), 7200);
        assert_eq!(z.offset_at(i64::MAX / 2), 7200);
    }

    #[test]
    fn damaged_files_are_refused_not_misread() {
        let good = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tz/Europe-Berlin"),
        )
        .unwrap();
        assert!(Zone::parse(b"").is_err());
        assert!(Zone::parse(b"TZjf0000000000000000000000000000000000000000").is_err());
        for cut in [10, 44, 100, good.len() / 2] {
            assert!(Zone::parse(&good[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn tz_values_are_understood() {
        assert_eq!(Zone::from_tz("").unwrap().offset_at(0), 0);
        assert_eq!(Zone::from_tz(":UTC0").unwrap().offset_at(0), 0);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tz/Europe-Berlin");
        let z = Zone::from_tz(&format!(":{}", path.display())).unwrap();
        assert_eq!(z.offset_at(unix(2026, 1, 1, 0, 0)), 3600);
        assert!(Zone::from_tz("../../etc/passwd").is_err());
        assert!(Zone::from_tz("Not/AZone").is_err());
    }
}
