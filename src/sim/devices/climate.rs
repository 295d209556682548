//! Room climate (SF "Intelligent Room Controller v2"): modes, comfort temperatures and the
//! target they give.

use super::*;

/// `tempTarget` of a room controller from its mode (SF "Intelligent Room Controller v2").
pub(super) fn recompute_target(h: &mut House, idx: usize) {
    let comfort = h.num(idx, "comfortTemperature") + h.num(idx, "comfortTemperatureOffset");
    let target = match h.num(idx, "activeMode") as i64 {
        0 => h.num(idx, "comfortTemperature") - h.num(idx, "absentMinOffset"),
        1 => comfort,
        2 | 4 => h.num(idx, "frostProtectTemperature"),
        3 => h.dyn_of(idx).map(|d| d.manual).unwrap_or(comfort),
        _ => comfort,
    };
    h.set(idx, "tempTarget", (target * 10.0).round() / 10.0);
}

pub(super) fn room_controller(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    let t = num_arg(cmd.get(1));
    match (cmd, t) {
        (["setComfortTemperature", _], Some(t)) => {
            h.set(idx, "comfortTemperature", t);
            h.set(idx, "comfortTemperatureOffset", 0.0);
        }
        (["setComfortTemperatureCool", _], Some(t)) => h.set(idx, "comfortTemperatureCool", t),
        (["setComfortTolerance", _], Some(t)) if (0.5..=3.0).contains(&t) => {
            h.set(idx, "comfortTolerance", t)
        }
        (["setAbsentMinTemperature", _], Some(t)) => h.set(idx, "absentMinOffset", t),
        (["setAbsentMaxTemperature", _], Some(t)) => h.set(idx, "absentMaxOffset", t),
        (["setManualTemperature", _], Some(t)) => h.dyn_mut(idx).manual = t,
        (["setComfortModeTemp", _], Some(t)) => {
            let comfort = h.num(idx, "comfortTemperature");
            h.set(idx, "comfortTemperatureOffset", t - comfort);
        }
        (["setOperatingMode", _], Some(m)) if (-1.0..=5.0).contains(&m) && m.fract() == 0.0 => {
            h.set(idx, "operatingMode", m);
            h.set(idx, "currentMode", m);
        }
        (["override", _, rest @ ..], Some(mode))
            if (0.0..=4.0).contains(&mode) && mode.fract() == 0.0 =>
        {
            let until = num_arg(rest.first()).unwrap_or(0.0);
            if let Some(temp) = num_arg(rest.get(1)) {
                h.dyn_mut(idx).manual = temp;
            }
            let reason = match mode as i64 {
                1 => 3,
                0 => 4,
                _ => 8,
            };
            h.set(idx, "activeMode", mode);
            h.set(idx, "overrideReason", f64::from(reason));
            h.set_text(
                idx,
                "overrideEntries",
                json!([{"start": now.secs_2009() as i64, "end": until as i64, "reason": reason,
                        "source": null, "isTimer": true}])
                .to_string(),
            );
        }
        (["stopOverride"], _) => {
            h.set(idx, "activeMode", 1.0);
            h.set(idx, "overrideReason", 0.0);
            h.set_text(idx, "overrideEntries", "[]");
        }
        (["activatePresenceSchedule"], _) => {}
        (
            [
                "setComfortTemperature"
                | "setComfortTemperatureCool"
                | "setComfortTolerance"
                | "setAbsentMinTemperature"
                | "setAbsentMaxTemperature"
                | "setManualTemperature"
                | "setComfortModeTemp"
                | "setOperatingMode"
                | "override",
                ..,
            ],
            _,
        ) => return 400,
        _ => return 404,
    }
    recompute_target(h, idx);
    200
}
