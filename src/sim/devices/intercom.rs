//! Door stations (SF "Intercom", "IntercomV2") and the fault knob that rings the bell.

use super::*;

/// Fault knob: somebody rings at the door.
pub fn ring_bell(h: &mut House, idx: usize, now: Now) {
    let stamp = bell_stamp(now.unix);
    let mut events = h.text_of(idx, "lastBellEvents");
    if !events.is_empty() {
        events.push('|');
    }
    events.push_str(&stamp);
    h.set(idx, "bell", 1.0);
    h.set_text(idx, "lastBellTimestamp", stamp);
    h.set_text(idx, "lastBellEvents", events);
    h.dyn_mut(idx).timer = Some((now.sim + BELL_S, Timer::BellOff));
}

pub(super) fn intercom(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        ["answer"] => {
            h.set(idx, "bell", 0.0);
            h.dyn_mut(idx).timer = None;
        }
        _ => return 404,
    }
    200
}

pub(super) fn intercom_v2(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        ["answer"] => h.set(idx, "bell", 0.0),
        ["mute", m @ ("0" | "1")] => h.set(idx, "muted", if *m == "1" { 1.0 } else { 0.0 }),
        ["playTts", _] => {}
        _ => return 404,
    }
    200
}
