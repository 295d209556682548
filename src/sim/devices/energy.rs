//! EV chargers (SF "Wallbox2", "CarCharger").

use super::*;

pub(super) fn wallbox(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    let c = &h.structure.controls[idx];
    let (min, max) = (
        details_num(c, "min").unwrap_or(1.4),
        details_num(c, "max").unwrap_or(22.0),
    );
    match cmd {
        ["allow", "on"] => {
            h.set(idx, "enabled", 1.0);
            let connected = h.num(idx, "connected") > 0.0;
            h.set(idx, "active", if connected { 1.0 } else { 0.0 });
            if connected {
                let mut session: Value =
                    serde_json::from_str(&h.text_of(idx, "session")).unwrap_or(json!({}));
                session["start"] = json!(now.unix as i64);
                h.set_text(idx, "session", session.to_string());
            }
        }
        ["allow", "off"] => {
            h.set(idx, "enabled", 0.0);
            h.set(idx, "active", 0.0);
        }
        ["setmode", m] => match m.parse::<u8>() {
            Ok(m @ (1..=5 | 99)) => h.set(idx, "mode", f64::from(m)),
            _ => return 400,
        },
        ["modeUnplug", m] => match m.parse::<u8>() {
            Ok(m @ 0..=5) => h.set(idx, "modeUnplug", f64::from(m)),
            _ => return 400,
        },
        ["manualLimit", kw] => match num_arg(Some(kw)) {
            Some(kw) if kw >= 0.0 => {
                h.set(idx, "mode", 99.0);
                h.set(idx, "limit", kw.clamp(min, max));
            }
            _ => return 400,
        },
        ["updateMode", ..] => {}
        _ => return 404,
    }
    let power = if h.num(idx, "active") > 0.0 {
        h.num(idx, "limit")
    } else {
        0.0
    };
    h.set(idx, "actual", power);
    200
}

pub(super) fn car_charger(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        ["charge", "on"] => {
            let connected = h.num(idx, "connected") > 0.0;
            h.set(idx, "charging", if connected { 1.0 } else { 0.0 });
        }
        ["charge", "off"] => h.set(idx, "charging", 0.0),
        ["limit", kw] => match num_arg(Some(kw)) {
            Some(kw) if kw >= 0.0 => {
                let (lo, hi) = (h.num(idx, "minLimit"), h.num(idx, "maxLimit").max(1.0));
                h.set(idx, "currentLimit", kw.clamp(lo, hi));
            }
            _ => return 400,
        },
        ["limitMode", m @ ("0" | "1" | "2")] => h.set(idx, "limitMode", m.parse().unwrap_or(0.0)),
        ["profile", _] => {}
        _ => return 404,
    }
    let power = if h.num(idx, "charging") > 0.0 {
        h.num(idx, "currentLimit")
    } else {
        0.0
    };
    h.set(idx, "power", power);
    200
}
