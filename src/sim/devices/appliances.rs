//! Household plant (SF "Ventilation", "Sauna", "Irrigation"): the commands each block's section
//! lists, the states it names, and what time does — a ventilation timer and an irrigation zone
//! end by themselves, a sauna heats toward its target.

use super::*;
use crate::sim::house::Timer;

/// The speed a ventilation runs at under its own programme.
const VENT_BASE_SPEED: f64 = 30.0;
/// How fast a heating sauna warms, °C per second (about 20 minutes from 22 to 80 °C).
const SAUNA_HEAT_PER_S: f64 = 0.05;
/// How fast a sauna that is off cools toward the room, °C per second.
const SAUNA_COOL_PER_S: f64 = 0.01;
/// A sauna room's temperature when cold.
pub(super) const SAUNA_COLD_C: f64 = 22.0;

/// SF "Ventilation" commands.
pub(super) fn ventilation(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    let int = |s: &&str| s.parse::<i64>().ok();
    match cmd {
        // "stops any currently running timer, returns to automatic mode"
        ["setTimer", "0"] => end_vent_timer(h, idx),
        ["setTimer", interval, speed, mode, profile] => {
            let (Some(secs), Some(speed), Some(mode), Some(profile)) = (
                int(interval),
                percent_arg(Some(speed)),
                int(mode),
                int(profile),
            ) else {
                return 400;
            };
            if secs <= 0 || mode < 0 || profile < -1 {
                return 400;
            }
            h.set(idx, "speed", speed);
            h.set(idx, "mode", mode as f64);
            h.set(idx, "activeTimerProfile", profile as f64);
            h.set(idx, "ventReason", 7.0);
            h.set(idx, "overwriteUntil", now.unix.floor() + secs as f64);
            h.dyn_mut(idx).timer = Some((now.sim + secs as f64, Timer::VentEnd));
        }
        [
            name @ ("setAbsenceMin" | "setAbsenceMax" | "setPresenceMin" | "setPresenceMax"),
            v,
        ] => {
            let Some(v) = percent_arg(Some(v)) else {
                return 400;
            };
            let state = match *name {
                "setAbsenceMin" => "absenceMin",
                "setAbsenceMax" => "absenceMax",
                "setPresenceMin" => "presenceMin",
                _ => "presenceMax",
            };
            h.set(idx, state, v);
        }
        ["ackFilterChange"] => {}
        _ => return 404,
    }
    200
}

/// A manual timer ends (its interval passed, or `setTimer/0`): the block's programme again.
pub(super) fn end_vent_timer(h: &mut House, idx: usize) {
    h.dyn_mut(idx).timer = None;
    h.set(idx, "activeTimerProfile", -2.0);
    h.set(idx, "overwriteUntil", 0.0);
    if h.num(idx, "ventReason") != 4.0 {
        h.set(idx, "ventReason", 0.0);
        h.set(idx, "speed", VENT_BASE_SPEED);
    }
}

/// SF "Sauna" commands.
pub(super) fn sauna(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    let vaporizer = h.structure.controls[idx].details()["hasVaporizer"]
        .as_bool()
        .unwrap_or(false);
    match cmd {
        ["on"] => h.set(idx, "active", 1.0),
        // "turns the sauna off right away (no airing/drying phase)"
        ["off"] => {
            for s in ["active", "power", "fan", "drying", "timer"] {
                h.set(idx, s, 0.0);
            }
        }
        ["fanoff"] => h.set(idx, "fan", 0.0),
        // "only works if sauna is active"
        ["fanon"] => {
            if h.num(idx, "active") != 0.0 {
                h.set(idx, "fan", 1.0);
            }
        }
        ["temp", t] => match num_arg(Some(t)) {
            Some(t) => h.set(idx, "tempTarget", t),
            None => return 400,
        },
        ["ontemp", t] => match num_arg(Some(t)) {
            Some(t) => {
                h.set(idx, "tempTarget", t);
                h.set(idx, "active", 1.0);
            }
            None => return 400,
        },
        ["humidity", t] if vaporizer => match percent_arg(Some(t)) {
            Some(t) => h.set(idx, "humidityTarget", t),
            None => return 400,
        },
        ["mode", m] if vaporizer => match m.parse::<u8>() {
            Ok(m @ 0..=6) => h.set(idx, "mode", f64::from(m)),
            _ => return 400,
        },
        // off -> on -> drying -> airing -> off
        ["pulse"] => {
            let (active, drying, fan) = (
                h.num(idx, "active") != 0.0,
                h.num(idx, "drying") != 0.0,
                h.num(idx, "fan") != 0.0,
            );
            match (active, drying, fan) {
                (false, _, _) => h.set(idx, "active", 1.0),
                (true, false, _) => h.set(idx, "drying", 1.0),
                (true, true, false) => h.set(idx, "fan", 1.0),
                (true, true, true) => {
                    for s in ["active", "power", "fan", "drying"] {
                        h.set(idx, s, 0.0);
                    }
                }
            }
        }
        ["starttimer"] => {
            let total = h.num(idx, "timerTotal");
            h.set(idx, "timer", total);
        }
        _ => return 404,
    }
    sauna_power(h, idx);
    200
}

/// `power` ("is it currently heating up"): active, below target, no error.
fn sauna_power(h: &mut House, idx: usize) {
    let heating = h.num(idx, "active") != 0.0
        && h.num(idx, "error") == 0.0
        && h.num(idx, "tempActual") < h.num(idx, "tempTarget");
    h.set(idx, "power", if heating { 1.0 } else { 0.0 });
}

/// What `dt` seconds do to a sauna: it warms while heating, cools while off.
pub(super) fn sauna_tick(h: &mut House, idx: usize, dt: f64) {
    let t = h.num(idx, "tempActual");
    let next = if h.num(idx, "power") != 0.0 {
        approach(t, h.num(idx, "tempTarget"), SAUNA_HEAT_PER_S * dt)
    } else if h.num(idx, "active") == 0.0 {
        approach(t, SAUNA_COLD_C, SAUNA_COOL_PER_S * dt)
    } else {
        t
    };
    let next = (next * 10.0).round() / 10.0;
    h.set(idx, "tempActual", next);
    h.set(idx, "tempBench", next);
    let timer = h.num(idx, "timer");
    if timer > 0.0 {
        h.set(idx, "timer", (timer - dt).max(0.0).round());
    }
    sauna_power(h, idx);
}

/// The zones of an irrigation block: (id, duration in s) from its `zones` text state.
fn zones(h: &House, idx: usize) -> Vec<(i64, f64)> {
    serde_json::from_str::<Value>(&h.text_of(idx, "zones"))
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|z| Some((z["id"].as_i64()?, z["duration"].as_f64()?)))
        .collect()
}

/// Runs zone `from` or the next one with a duration; off when none is left.
fn run_zone_from(h: &mut House, idx: usize, from: i64, now: Now) {
    let next = zones(h, idx)
        .into_iter()
        .filter(|(id, d)| *id >= from && *d > 0.0)
        .min_by_key(|(id, _)| *id);
    match next {
        Some((id, secs)) => {
            h.set(idx, "currentZone", id as f64);
            h.dyn_mut(idx).timer = Some((now.sim + secs, Timer::ZoneDone));
        }
        None => {
            h.set(idx, "currentZone", -1.0);
            h.dyn_mut(idx).timer = None;
        }
    }
}

/// A zone's duration is over: the next zone, or off.
pub(super) fn zone_done(h: &mut House, idx: usize, now: Now) {
    let cur = h.num(idx, "currentZone") as i64;
    run_zone_from(h, idx, cur + 1, now);
}

/// SF "Irrigation" commands.
pub(super) fn irrigation(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    match cmd {
        // "only when it has not rained enough and will not rain enough"
        ["start"] => {
            let rain = h.num(idx, "rainActive") != 0.0
                || h.num(idx, "expectedPrecipitation") > h.num(idx, "maxExpectedPrecipitation");
            if !rain {
                run_zone_from(h, idx, 0, now);
            }
        }
        ["startForce"] => run_zone_from(h, idx, 0, now),
        ["stop"] => {
            h.set(idx, "currentZone", -1.0);
            h.dyn_mut(idx).timer = None;
        }
        // SF: "0 - Deactivate all", "9 - Activate all"; zones by number, "until stopped".
        ["select", n] => match n.parse::<u8>() {
            Ok(0) => {
                h.set(idx, "currentZone", -1.0);
                h.dyn_mut(idx).timer = None;
            }
            Ok(9) => {
                h.set(idx, "currentZone", 8.0);
                h.dyn_mut(idx).timer = None;
            }
            Ok(n @ 1..=8) => {
                h.set(idx, "currentZone", f64::from(n - 1));
                h.dyn_mut(idx).timer = None;
            }
            _ => return 400,
        },
        ["setDuration", pair] => return set_durations(h, idx, &[pair]),
        ["setDurations", pairs @ ..] if !pairs.is_empty() => {
            return set_durations(h, idx, pairs);
        }
        _ => return 404,
    }
    200
}

/// `setDuration/{zone ID}={seconds}` (and the plural): changes the `zones` text state.
fn set_durations(h: &mut House, idx: usize, pairs: &[&str]) -> u16 {
    let mut v: Value = serde_json::from_str(&h.text_of(idx, "zones")).unwrap_or(json!([]));
    for p in pairs {
        let Some((id, secs)) = p.split_once('=') else {
            return 400;
        };
        let (Ok(id), Ok(secs)) = (id.parse::<i64>(), secs.parse::<u64>()) else {
            return 400;
        };
        let Some(z) = v
            .as_array_mut()
            .and_then(|a| a.iter_mut().find(|z| z["id"].as_i64() == Some(id)))
        else {
            return 400;
        };
        z["duration"] = json!(secs);
    }
    h.set_text(idx, "zones", v.to_string());
    200
}
