//! Presence detectors and virtual analog inputs (SF "PresenceDetector", "Slider",
//! "UpDownLeftRight analog", "ValueSelector").

use super::*;

pub(super) fn presence(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    match cmd {
        ["time", v] => match num_arg(Some(v)) {
            Some(v) if v >= 0.0 => h.set(idx, "time", v),
            _ => return 400,
        },
        [v] => match num_arg(Some(v)) {
            Some(v) => {
                let on = v != 0.0;
                if on && h.num(idx, "active") == 0.0 {
                    h.set(idx, "activeSince", now.secs_2009().floor());
                }
                h.set(idx, "active", if on { 1.0 } else { 0.0 });
            }
            None => return 404,
        },
        _ => return 404,
    }
    200
}

pub(super) fn analog_input(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        [v] => match num_arg(Some(v)) {
            Some(v) => h.set(idx, "value", v),
            None => return 404,
        },
        _ => return 404,
    }
    200
}
