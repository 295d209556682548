//! The burglar alarm and the smoke alarm (SF "Alarm", "SmokeAlarm"), and the fault knob that
//! sets off smoke.

use super::*;

pub(super) fn alarm(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    let movement = |m: &str| match m {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    };
    let arm = |h: &mut House, mv: bool| {
        h.dyn_mut(idx).timer = None;
        h.set(idx, "armed", 1.0);
        h.set(idx, "disabledMove", if mv { 0.0 } else { 1.0 });
        h.set(idx, "armedAt", now.unix.floor());
        h.set(idx, "armedDelay", 0.0);
    };
    match cmd {
        ["on"] => arm(h, true),
        ["on", m] => match movement(m) {
            Some(mv) => arm(h, mv),
            None => return 400,
        },
        ["delayedon"] | ["delayedon", _] => {
            let mv = match cmd.get(1) {
                None => true,
                Some(m) => match movement(m) {
                    Some(mv) => mv,
                    None => return 400,
                },
            };
            let delay = h.num(idx, "armedDelayTotal").max(1.0);
            h.set(idx, "disabledMove", if mv { 0.0 } else { 1.0 });
            h.set(idx, "armedDelay", delay);
            h.set(idx, "armedAt", (now.unix + delay).floor());
            h.dyn_mut(idx).timer = Some((now.sim + delay, Timer::Arm));
        }
        ["off"] => {
            h.dyn_mut(idx).timer = None;
            for s in [
                "armed",
                "level",
                "nextLevel",
                "nextLevelAt",
                "nextLevelDelay",
                "armedAt",
                "armedDelay",
                "startTime",
            ] {
                h.set(idx, s, 0.0);
            }
        }
        ["quit"] => {
            for s in [
                "level",
                "nextLevel",
                "nextLevelAt",
                "nextLevelDelay",
                "startTime",
            ] {
                h.set(idx, s, 0.0);
            }
        }
        ["dismv", m] => match movement(m) {
            Some(enable) => h.set(idx, "disabledMove", if enable { 0.0 } else { 1.0 }),
            None => return 400,
        },
        _ => return 404,
    }
    200
}

pub(super) fn smoke_alarm(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    match cmd {
        ["mute"] => {
            h.set(idx, "acousticAlarm", 0.0);
            h.set(idx, "areAlarmSignalsOff", 1.0);
        }
        ["confirm"] => {
            for s in [
                "level",
                "nextLevel",
                "acousticAlarm",
                "alarmCause",
                "startTime",
                "areAlarmSignalsOff",
                "testAlarm",
            ] {
                h.set(idx, s, 0.0);
            }
        }
        ["servicemode", n] => match n.parse::<u32>() {
            Ok(0) => h.set(idx, "timeServiceMode", 0.0),
            Ok(1) => h.set(idx, "timeServiceMode", 99_999.0),
            Ok(s) => h.set(idx, "timeServiceMode", f64::from(s)),
            Err(_) => return 400,
        },
        ["startDrill"] => {
            h.set(idx, "testAlarm", 1.0);
            h.dyn_mut(idx).timer = Some((now.sim + DRILL_S, Timer::DrillOff));
        }
        _ => return 404,
    }
    200
}

/// Fault knob: the smoke alarm goes into main alarm (level 2) for smoke.
pub fn trigger_smoke(h: &mut House, idx: usize, now: Now) {
    h.set(idx, "level", 2.0);
    h.set(idx, "alarmCause", 1.0);
    h.set(idx, "startTime", now.unix.floor());
    h.set(idx, "areAlarmSignalsOff", 0.0);
    let acoustic = h.structure.controls[idx].details()["hasAcousticAlarm"]
        .as_bool()
        .unwrap_or(true);
    h.set(idx, "acousticAlarm", if acoustic { 1.0 } else { 0.0 });
    h.set_text(idx, "sensors", "Hall smoke detector");
}
