//! Miniserver date and time stamps (UTC), as the simulated device writes them.

pub(super) fn miniserver_time(unix: f64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix as i64);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} +00:00:00")
}

/// `YYYYMMDDHHMMSS` (UTC), the bell-event stamp format.
pub fn bell_stamp(unix: f64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix as i64);
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
}

/// `YYYY-MM-DD HH:MM:SS` (UTC), the `lastModified` format.
pub fn last_modified_stamp(unix: f64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix as i64);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// Unix seconds → (year, month, day, hour, minute, second) UTC (H. Hinnant's civil_from_days).
pub(super) fn civil(t: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        ((secs % 3600) / 60) as u32,
        (secs % 60) as u32,
    )
}
