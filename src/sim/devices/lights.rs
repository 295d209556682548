//! Switches, push buttons, timed switches, dimmers and light controllers (SF "Switch",
//! "Pushbutton", "TimedSwitch", "Dimmer", "LightController", "LightControllerV2").

use super::*;

/// Moods every LightControllerV2 gets (ids as in the openHAB fixture: 777 Bright, 778 Off).
pub(super) const MOODS: &[(u32, &str, f64)] = &[
    (777, "Bright", 100.0),
    (1, "Evening", 35.0),
    (2, "Reading", 70.0),
    (778, "Off", 0.0),
];
pub(super) const MOOD_OFF: u32 = 778;

pub(super) fn mood_list() -> String {
    let list: Vec<Value> = MOODS
        .iter()
        .map(|(id, name, _)| {
            json!({"name": name, "shortName": name, "id": id, "t5": true,
                   "static": *id == 777 || *id == MOOD_OFF, "used": 0})
        })
        .collect();
    Value::Array(list).to_string()
}

pub(super) fn switch(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        ["on"] => h.set(idx, "active", 1.0),
        ["off"] => h.set(idx, "active", 0.0),
        _ => return 404,
    }
    200
}

pub(super) fn pushbutton(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    match cmd {
        ["pulse"] => {
            h.set(idx, "active", 1.0);
            h.dyn_mut(idx).timer = Some((now.sim + PULSE_S, Timer::PulseOff));
        }
        ["on"] => h.set(idx, "active", 1.0),
        ["off"] => h.set(idx, "active", 0.0),
        _ => return 404,
    }
    200
}

pub(super) fn timed_switch(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        ["on"] => h.set(idx, "deactivationDelay", -1.0),
        ["off"] => h.set(idx, "deactivationDelay", 0.0),
        ["pulse"] => {
            let total = h.num(idx, "deactivationDelayTotal");
            h.set(idx, "deactivationDelay", total);
        }
        _ => return 404,
    }
    200
}

pub(super) fn dimmer(h: &mut House, idx: usize, cmd: &[&str], eib: bool) -> u16 {
    let word = |w: &str, want: &str| w == want || (eib && w.eq_ignore_ascii_case(want));
    let (min, max) = if h.has(idx, "max") {
        (h.num(idx, "min"), h.num(idx, "max"))
    } else {
        (0.0, 100.0)
    };
    match cmd {
        [w] if word(w, "on") => {
            let last = h.dyn_mut(idx).last_on;
            h.set(idx, "position", last.clamp(min, max));
        }
        [w] if word(w, "off") => {
            let pos = h.num(idx, "position");
            if pos > 0.0 {
                h.dyn_mut(idx).last_on = pos;
            }
            h.set(idx, "position", 0.0);
        }
        [v] => match num_arg(Some(v)) {
            Some(p) => {
                let p = if p <= 0.0 { 0.0 } else { p.clamp(min, max) };
                if p > 0.0 {
                    h.dyn_mut(idx).last_on = p;
                }
                h.set(idx, "position", p);
            }
            None => return 404,
        },
        _ => return 404,
    }
    200
}

pub(super) fn active_moods(h: &House, idx: usize) -> Vec<u32> {
    serde_json::from_str(&h.text_of(idx, "activeMoods")).unwrap_or_default()
}

/// Sets the circuits of a light controller to the combined level of its active moods.
pub(super) fn apply_moods(h: &mut House, idx: usize, moods: &[u32]) {
    let level = moods
        .iter()
        .filter_map(|m| MOODS.iter().find(|(id, _, _)| id == m).map(|(_, _, l)| *l))
        .fold(0.0, f64::max);
    h.set_text(idx, "activeMoods", Value::from(moods.to_vec()).to_string());
    let children = h.structure.controls[idx].children.clone();
    for (n, c) in children.into_iter().enumerate() {
        let sub = &h.structure.controls[c];
        if sub.addr.suffix() == Some("masterValue") {
            h.set(c, "position", level);
            continue;
        }
        // "Reading" lights the first circuit fully and the rest dimly.
        let l = if moods.contains(&2) && level <= 70.0 {
            if n <= 1 { 100.0 } else { 30.0 }
        } else {
            level
        };
        match sub.kind.as_str() {
            "Dimmer" | "EIBDimmer" => {
                if l > 0.0 {
                    h.dyn_mut(c).last_on = l;
                }
                h.set(c, "position", l);
            }
            "Switch" => h.set(c, "active", if l > 0.0 { 1.0 } else { 0.0 }),
            _ => {}
        }
    }
}

pub(super) fn mood_id(arg: &str) -> Option<u32> {
    let id: u32 = arg.parse().ok()?;
    if id == 0 {
        return Some(MOOD_OFF); // SF: "The moodID 0 is always off"
    }
    MOODS.iter().any(|(m, _, _)| *m == id).then_some(id)
}

pub(super) fn light_controller_v2(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    let current = active_moods(h, idx);
    let moods: Vec<u32> = match cmd {
        ["changeTo", m] => match mood_id(m) {
            Some(id) => vec![id],
            None => return 400,
        },
        ["addMood", m] => match mood_id(m) {
            Some(MOOD_OFF) => vec![MOOD_OFF],
            Some(id) => {
                let mut v: Vec<u32> = current.into_iter().filter(|&x| x != MOOD_OFF).collect();
                if !v.contains(&id) {
                    v.push(id);
                }
                v
            }
            None => return 400,
        },
        ["removeMood", m] => match mood_id(m) {
            Some(id) => {
                let v: Vec<u32> = current.into_iter().filter(|&x| x != id).collect();
                if v.is_empty() { vec![MOOD_OFF] } else { v }
            }
            None => return 400,
        },
        ["plus"] | ["minus"] => {
            let pos = current
                .first()
                .and_then(|c| MOODS.iter().position(|(id, _, _)| id == c))
                .unwrap_or(0);
            let n = MOODS.len();
            let next = if cmd[0] == "plus" {
                (pos + 1) % n
            } else {
                (pos + n - 1) % n
            };
            vec![MOODS[next].0]
        }
        ["presence", "on" | "off"] => return 200,
        _ => return 404,
    };
    apply_moods(h, idx, &moods);
    200
}

pub(super) fn light_controller(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    let scene = h.num(idx, "activeScene");
    let next = match cmd {
        ["on"] => 9.0,
        ["off"] => 0.0,
        ["plus"] => (scene + 1.0) % 10.0,
        ["minus"] => (scene + 9.0) % 10.0,
        [n] => match n.parse::<u8>() {
            Ok(s) if s <= 9 => f64::from(s),
            Ok(_) => return 400,
            Err(_) => return 404,
        },
        _ => return 404,
    };
    h.set(idx, "activeScene", next);
    200
}
