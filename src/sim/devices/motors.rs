//! Things that travel: blinds, gates and motorised windows (SF "Jalousie", "Gate", "Window").
//! Commands set a target; [`super::tick`] moves the position over simulated time.

use super::*;

pub(super) fn start_move(h: &mut House, idx: usize, target: f64) {
    h.dyn_mut(idx).target = Some(target.clamp(0.0, 1.0));
    h.set(idx, "targetPosition", target.clamp(0.0, 1.0));
}

pub(super) fn stop_move(h: &mut House, idx: usize) {
    let d = h.dyn_mut(idx);
    d.target = None;
    d.lamelle_target = None;
    let pos = h.num(idx, "position");
    h.set(idx, "targetPosition", pos);
    h.set(idx, "up", 0.0);
    h.set(idx, "down", 0.0);
    h.set(idx, "active", 0.0);
    h.set(idx, "direction", 0.0);
}

pub(super) fn jalousie(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    let moving_up = h
        .dyn_of(idx)
        .and_then(|d| d.target)
        .is_some_and(|t| t < h.num(idx, "position"));
    let moving_down = h
        .dyn_of(idx)
        .and_then(|d| d.target)
        .is_some_and(|t| t > h.num(idx, "position"));
    match cmd {
        ["FullUp"] | ["up"] => start_move(h, idx, 0.0),
        ["FullDown"] | ["down"] => start_move(h, idx, 1.0),
        ["UpOff"] => {
            if moving_up {
                stop_move(h, idx)
            }
        }
        ["DownOff"] => {
            if moving_down {
                stop_move(h, idx)
            }
        }
        ["stop"] => stop_move(h, idx),
        ["shade"] => {
            start_move(h, idx, 1.0);
            h.dyn_mut(idx).lamelle_target = Some(0.6);
            h.set(idx, "targetPositionLamelle", 0.6);
        }
        ["auto"] => h.set(idx, "autoActive", 1.0),
        ["NoAuto"] => h.set(idx, "autoActive", 0.0),
        ["manualPosition", p] => match percent_arg(Some(p)) {
            Some(p) => start_move(h, idx, p / 100.0),
            None => return 400,
        },
        ["manualLamelle", l] => match percent_arg(Some(l)) {
            Some(l) => {
                h.dyn_mut(idx).lamelle_target = Some(l / 100.0);
                h.set(idx, "targetPositionLamelle", l / 100.0);
            }
            None => return 400,
        },
        ["manualPosBlind", p, l] => match (percent_arg(Some(p)), percent_arg(Some(l))) {
            (Some(p), Some(l)) => {
                start_move(h, idx, p / 100.0);
                h.dyn_mut(idx).lamelle_target = Some(l / 100.0);
                h.set(idx, "targetPositionLamelle", l / 100.0);
            }
            _ => return 400,
        },
        _ => return 404,
    }
    200
}

pub(super) fn gate(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        ["open"] | ["forceOpen"] => h.dyn_mut(idx).target = Some(1.0),
        ["close"] | ["forceClose"] => h.dyn_mut(idx).target = Some(0.0),
        ["partiallyOpen"] => h.dyn_mut(idx).target = Some(0.3),
        ["stop"] => stop_move(h, idx),
        _ => return 404,
    }
    200
}

pub(super) fn window(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        ["fullopen"] | ["open", "on"] => h.dyn_mut(idx).target = Some(1.0),
        ["fullclose"] | ["close", "on"] => h.dyn_mut(idx).target = Some(0.0),
        ["slightlyOpen"] => h.dyn_mut(idx).target = Some(0.2),
        ["moveToPosition", p] => match percent_arg(Some(p)) {
            Some(p) => h.dyn_mut(idx).target = Some(p / 100.0),
            None => return 400,
        },
        ["stop"] | ["open", "off"] | ["close", "off"] => stop_move(h, idx),
        _ => return 404,
    }
    200
}
