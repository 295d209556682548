//! Time as the log writes it: RFC 3339 in UTC with milliseconds, record ids that sort by time,
//! and `--since` (a date, a time or a duration ago) for the reader. No time crate: the
//! civil-date arithmetic is `clock::civil`.

use super::*;
use crate::clock::civil::{civil_from_days, days_from_civil};

pub(super) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(super) fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut v = Vec::new();
    loop {
        v.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    v.reverse();
    String::from_utf8(v).unwrap_or_default()
}

/// `2026-03-09T21:04:05.123Z` (UTC).
pub fn rfc3339(t: SystemTime) -> String {
    let ms = unix_ms(t);
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        ms % 1000
    )
}

/// Parses `--since`: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS][Z]` (UTC), or a relative `30s`,
/// `10m`, `2h`, `3d`. Returns Unix milliseconds.
pub fn parse_since(s: &str, now: SystemTime) -> Result<u64, String> {
    let bad = || {
        format!("--since {s:?}: expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC) or 30s/10m/2h/3d")
    };
    let s = s.trim();
    if let Some(unit) = s.chars().last().filter(|c| "smhd".contains(*c))
        && s.len() > 1
        && s[..s.len() - 1].bytes().all(|b| b.is_ascii_digit())
    {
        let n: u64 = s[..s.len() - 1].parse().map_err(|_| bad())?;
        let secs = n
            .checked_mul(match unit {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => 86_400,
            })
            .ok_or_else(bad)?;
        return Ok(unix_ms(now).saturating_sub(secs.saturating_mul(1000)));
    }
    let s = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut dp = date.split('-');
    let (Some(y), Some(m), Some(d), None) = (dp.next(), dp.next(), dp.next(), dp.next()) else {
        return Err(bad());
    };
    let y: i64 = y.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    let d: u32 = d.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return Err(bad());
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(t) = time {
        let parts: Vec<&str> = t.split(':').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(bad());
        }
        let h: i64 = parts[0].parse().map_err(|_| bad())?;
        let mi: i64 = parts[1].parse().map_err(|_| bad())?;
        let se: f64 = parts
            .get(2)
            .map_or(Ok(0.0), |x| x.parse())
            .map_err(|_| bad())?;
        if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0.0..61.0).contains(&se) {
            return Err(bad());
        }
        secs += h * 3600 + mi * 60 + se as i64;
    }
    u64::try_from(secs).map(|s| s * 1000).map_err(|_| bad())
}

/// Parses a record's `time` back to Unix milliseconds.
pub(super) fn record_ms(t: &str) -> Option<u64> {
    let (main, frac) = t
        .strip_suffix('Z')?
        .split_once('.')
        .unwrap_or((t.trim_end_matches('Z'), "0"));
    let base = parse_since(main, UNIX_EPOCH).ok()?;
    let ms: u64 = frac.get(..3).unwrap_or(frac).parse().ok()?;
    Some(base + ms)
}
