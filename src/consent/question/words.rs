//! The small phrases questions are made of: an alarm's facts, "since when" in words that a
//! daylight-saving switch cannot make wrong, a bounded list of names, and text cut at a
//! character boundary.

use super::*;

pub(super) fn alarm_facts(
    house: &House,
    states: &dyn LiveStates,
    id: DevId,
    at: Moment,
    stable: bool,
    m: &mut String,
) {
    match house.number(states, id, "armed") {
        Some(v) if v != 0.0 => {
            m.push_str(" It is armed");
            let changed = house
                .state_uuid(id, "armed")
                .and_then(|u| states.entry(&u))
                .and_then(|e| e.changed)
                .filter(|t| *t > at.changes_known_after);
            if let Some(t) = changed {
                if stable {
                    let _ = write!(m, " since {}", t.0);
                } else {
                    m.push_str(&since(t, at));
                }
            }
        }
        Some(_) => m.push_str(" It is not armed"),
        None => m.push_str(" Its state is not known"),
    }
    if let Some(l) = house.number(states, id, "level").filter(|l| *l > 0.0) {
        let _ = write!(m, " and sounding (level {})", num(l));
    }
    m.push('.');
}

/// " since 21:04" when the change was seen less than a day ago and local time is known, else
/// " for 3 h 12 min" or " for 2 days". The local time of the change is the local time now less
/// the time since, in milliseconds, so the same change reads the same in every question (an
/// question reads the same; the MRTR ticket binds the `stable` rendering in any case) unless it lies within a millisecond of a minute's
/// edge. A change seen before a daylight-saving switch is said as a duration: that
/// subtraction would be off by the switch.
pub(super) fn since(t: Mono, at: Moment) -> String {
    const DAY: u64 = 86_400_000;
    let ago = at.now.since(t).as_millis() as u64;
    let across_switch = at.clock_shifted.is_some_and(|s| t < s);
    match at.local_ms {
        Some(now) if ago < DAY && !across_switch => {
            let min = (u64::from(now) + DAY - ago) % DAY / 60_000;
            format!(" since {:02}:{:02}", min / 60, min % 60)
        }
        _ if ago >= 2 * DAY => format!(" for {} days", ago / DAY),
        _ if ago >= DAY => " for 1 day".to_owned(),
        _ if ago >= 3_600_000 => format!(
            " for {} h {} min",
            ago / 3_600_000,
            ago % 3_600_000 / 60_000
        ),
        _ => format!(" for {} min", ago / 60_000),
    }
}

pub(super) fn name_list(house: &House, ids: &[DevId]) -> String {
    let mut v: Vec<String> = ids
        .iter()
        .take(MAX_NAMED)
        .map(|id| clean_name(&house.device(*id).label()))
        .collect();
    if ids.len() > MAX_NAMED {
        v.push(format!("and {} more", ids.len() - MAX_NAMED));
    }
    v.join(", ")
}

pub(super) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

pub(crate) trait TruncateChars {
    fn truncate_chars(&mut self, n: usize);
}

impl TruncateChars for String {
    fn truncate_chars(&mut self, n: usize) {
        if let Some((i, _)) = self.char_indices().nth(n) {
            self.truncate(i);
        }
    }
}
