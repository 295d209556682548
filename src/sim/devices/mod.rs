//! How each control type of the simulated house behaves: its initial states, the commands it
//! understands (spelled as in Loxone's *Structure File* document, SF), and what time does to it.
//!
//! Rules the whole table follows:
//! - A command word the type does not have answers **404** ("unrecognised command", CWM
//!   "Error-Codes"); a known word with an unusable argument answers **400**. Nothing outside the
//!   documented vocabulary succeeds, so a client cannot pass a test with a misspelt command.
//! - Numeric arguments are accepted across their documented range only where SF states one
//!   (`manualPosition` 0..100, `setComfortTolerance` 0.5..3); temperatures and limits are taken
//!   as given, like the device does, because refusing unsafe values is the gateway's job and a
//!   simulator that refused them would hide a missing guard.
//! - Moving things move over simulated time: blinds 60 s end to end, gates 20 s, windows 30 s;
//!   room temperatures approach their target with a 30-minute time constant.
//!
//! Layout: one file per device family (`lights`, `motors`, `climate`, `audio`, `alarms`,
//! `intercom`, `energy`, `inputs`, `central`), `initial` for the states a control starts with,
//! `stamps` for the Miniserver's date formats; this file routes commands and time to them.
use std::f64::consts::E;

use serde_json::{Value, json};

use super::house::{House, Now, Outcome, Timer};
use super::wire::value_text;
use crate::loxone::state::StateValue;
use crate::loxone::structure::Control;

/// Seconds a blind needs from fully up to fully down.
pub const BLIND_TRAVEL_S: f64 = 60.0;
/// Seconds the slats need from horizontal to vertical.
const SLAT_TRAVEL_S: f64 = 2.0;
/// Seconds a gate needs from closed to open.
pub const GATE_TRAVEL_S: f64 = 20.0;
const WINDOW_TRAVEL_S: f64 = 30.0;
/// Time constant of room temperature drift toward the target.
const ROOM_TAU_S: f64 = 1800.0;
/// A pushbutton pulse lasts this long.
const PULSE_S: f64 = 0.3;
/// The intercom rings this long unless answered.
const BELL_S: f64 = 30.0;
/// Default arming delay of the burglar alarm (SF parameter "Da").
const ARM_DELAY_S: f64 = 30.0;
/// A smoke alarm drill lasts this long.
const DRILL_S: f64 = 30.0;

mod alarms;
mod appliances;
mod audio;
mod central;
mod climate;
mod energy;
mod initial;
mod inputs;
mod intercom;
mod lights;
mod motors;
mod stamps;
#[cfg(test)]
mod tests;

use alarms::*;
use appliances::*;
use audio::*;
use central::*;
use climate::*;
use energy::*;
use inputs::*;
use intercom::*;
use lights::*;
use motors::*;
use stamps::*;

pub use alarms::trigger_smoke;
pub use initial::{initial, initial_global, is_text_state, settle};
pub use intercom::ring_bell;
pub use stamps::{bell_stamp, last_modified_stamp};

/// A small per-control variation (0..1) derived from its UUID, so rooms differ but runs repeat.
fn seed(c: &Control) -> f64 {
    let b = c.addr.uuid().bytes();
    f64::from(b[3] ^ b[7] ^ b[15]) / 255.0
}

fn details_num(c: &Control, key: &str) -> Option<f64> {
    match &c.details()[key] {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn num_arg(s: Option<&&str>) -> Option<f64> {
    s.and_then(|t| t.parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

fn percent_arg(s: Option<&&str>) -> Option<f64> {
    num_arg(s).filter(|v| (0.0..=100.0).contains(v))
}

/// The value a command reply carries: the control's main state after the command.
pub fn reply_value(h: &House, idx: usize) -> String {
    let c = &h.structure.controls[idx];
    let main = match c.kind.as_str() {
        "Switch" | "Pushbutton" | "InfoOnlyDigital" | "PresenceDetector" | "Wallbox2" => "active",
        "Dimmer" | "EIBDimmer" | "Jalousie" | "Gate" | "Window" => "position",
        "IRoomControllerV2" | "IRoomController" => "tempTarget",
        "Alarm" => "armed",
        "SmokeAlarm" => "level",
        "AudioZoneV2" | "AudioZone" => "volume",
        "Intercom" | "IntercomV2" => "bell",
        "LightController" => "activeScene",
        "Radio" => "activeOutput",
        "CarCharger" => "charging",
        "Ventilation" => "speed",
        "Sauna" => "active",
        "Irrigation" => "currentZone",
        "TimedSwitch" => "deactivationDelay",
        "LightControllerV2" => return h.text_of(idx, "activeMoods"),
        _ => "value",
    };
    value_text(h.num(idx, main))
}

/// Applies a device command. `cmd` holds the path segments after the control address.
pub fn command(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> Outcome {
    let kind = h.structure.controls[idx].kind.clone();
    let code = match kind.as_str() {
        "Switch" => switch(h, idx, cmd),
        "Pushbutton" => pushbutton(h, idx, cmd, now),
        "TimedSwitch" => timed_switch(h, idx, cmd),
        "Dimmer" => dimmer(h, idx, cmd, false),
        "EIBDimmer" => dimmer(h, idx, cmd, true),
        "LightControllerV2" => light_controller_v2(h, idx, cmd),
        "LightController" => light_controller(h, idx, cmd),
        "CentralLightController" => central(h, idx, cmd, &["on", "reset"], now),
        "Jalousie" => jalousie(h, idx, cmd),
        "CentralJalousie" => central(
            h,
            idx,
            cmd,
            &["FullUp", "FullDown", "shade", "auto", "NoAuto", "stop"],
            now,
        ),
        "Gate" => gate(h, idx, cmd),
        "CentralGate" => central(h, idx, cmd, &["open", "close", "stop"], now),
        "Window" => window(h, idx, cmd),
        "CentralWindow" => central(
            h,
            idx,
            cmd,
            &["fullopen", "fullclose", "slightlyOpen", "stop"],
            now,
        ),
        "IRoomControllerV2" => room_controller(h, idx, cmd, now),
        "AudioZoneV2" => audio_v2(h, idx, cmd),
        "AudioZone" => audio_v1(h, idx, cmd),
        "CentralAudioZone" => central_audio(h, idx, cmd, now),
        "Alarm" => alarm(h, idx, cmd, now),
        "CentralAlarm" => central(h, idx, cmd, &["on", "off", "quit", "delayedon"], now),
        "SmokeAlarm" => smoke_alarm(h, idx, cmd, now),
        "Intercom" => intercom(h, idx, cmd),
        "IntercomV2" => intercom_v2(h, idx, cmd),
        "Wallbox2" => wallbox(h, idx, cmd, now),
        "CarCharger" => car_charger(h, idx, cmd),
        "PresenceDetector" => presence(h, idx, cmd, now),
        "Slider" | "UpDownAnalog" | "LeftRightAnalog" | "ValueSelector" => {
            analog_input(h, idx, cmd)
        }
        "Radio" => radio(h, idx, cmd),
        "Ventilation" => ventilation(h, idx, cmd, now),
        "Sauna" => sauna(h, idx, cmd),
        "Irrigation" => irrigation(h, idx, cmd, now),
        // SF "TextInput" (virtual text input): command `{text}`, state `text`.
        "TextInput" if !cmd.is_empty() => {
            h.set_text(idx, "text", cmd.join("/"));
            200
        }
        "NfcCodeTouch" => match cmd {
            ["output", n] if matches!(n.parse::<u8>(), Ok(1..=6)) => 200,
            ["output", _] => 400,
            _ => 404,
        },
        _ => 404,
    };
    if code == 200 {
        Outcome::ok(reply_value(h, idx))
    } else {
        Outcome::code(code)
    }
}

/// Whether time acts on a control of this type (see [`tick`]).
pub fn ticks(kind: &str) -> bool {
    matches!(
        kind,
        "Jalousie"
            | "Gate"
            | "Window"
            | "IRoomControllerV2"
            | "IRoomController"
            | "Wallbox2"
            | "CarCharger"
            | "Pushbutton"
            | "Alarm"
            | "SmokeAlarm"
            | "Intercom"
            | "IntercomV2"
            | "Ventilation"
            | "Sauna"
            | "Irrigation"
    )
}

/// Moves `pos` toward `target` by at most `step`.
fn approach(pos: f64, target: f64, step: f64) -> f64 {
    if (target - pos).abs() <= step {
        target
    } else if target > pos {
        pos + step
    } else {
        pos - step
    }
}

/// What `dt` simulated seconds do to control `idx`.
pub fn tick(h: &mut House, idx: usize, dt: f64, now: Now) {
    if let Some((at, timer)) = h.dyn_of(idx).and_then(|d| d.timer)
        && now.sim >= at
    {
        h.dyn_mut(idx).timer = None;
        match timer {
            Timer::PulseOff => h.set(idx, "active", 0.0),
            Timer::Arm => {
                h.set(idx, "armed", 1.0);
                h.set(idx, "armedDelay", 0.0);
            }
            Timer::BellOff => h.set(idx, "bell", 0.0),
            Timer::DrillOff => h.set(idx, "testAlarm", 0.0),
            Timer::VentEnd => end_vent_timer(h, idx),
            Timer::ZoneDone => zone_done(h, idx, now),
        }
    }
    let kind = h.structure.controls[idx].kind.as_str();
    match kind {
        "Jalousie" => {
            let d = h.dyn_of(idx).cloned().unwrap_or_default();
            if let Some(t) = d.target {
                let pos = h.num(idx, "position");
                let next = approach(pos, t, dt / BLIND_TRAVEL_S);
                h.set(idx, "position", next);
                let done = next == t;
                h.set(idx, "up", if !done && t < pos { 1.0 } else { 0.0 });
                h.set(idx, "down", if !done && t > pos { 1.0 } else { 0.0 });
                if done {
                    h.dyn_mut(idx).target = None;
                }
            }
            if let Some(l) = d.lamelle_target {
                let cur = h.num(idx, "shadePosition");
                let next = approach(cur, l, dt / SLAT_TRAVEL_S);
                h.set(idx, "shadePosition", next);
                if next == l {
                    h.dyn_mut(idx).lamelle_target = None;
                }
            }
        }
        "Gate" | "Window" => {
            let travel = if kind == "Gate" {
                GATE_TRAVEL_S
            } else {
                WINDOW_TRAVEL_S
            };
            let moving = if kind == "Gate" {
                "active"
            } else {
                "direction"
            };
            if let Some(t) = h.dyn_of(idx).and_then(|d| d.target) {
                let pos = h.num(idx, "position");
                let next = approach(pos, t, dt / travel);
                h.set(idx, "position", next);
                let dir = if next == t {
                    0.0
                } else if t > pos {
                    1.0
                } else {
                    -1.0
                };
                h.set(idx, moving, dir);
                if next == t {
                    h.dyn_mut(idx).target = None;
                }
            }
        }
        "IRoomControllerV2" | "IRoomController" => {
            let target = h.num(idx, "tempTarget");
            let cur = h
                .dyn_of(idx)
                .and_then(|d| d.temp)
                .unwrap_or_else(|| h.num(idx, "tempActual"));
            let next = target + (cur - target) * E.powf(-dt / ROOM_TAU_S);
            h.dyn_mut(idx).temp = Some(next);
            h.set(idx, "tempActual", (next * 10.0).round() / 10.0);
        }
        "Wallbox2" => {
            let kw = h.num(idx, "actual");
            if kw > 0.0 {
                let total = h.num(idx, "total") + kw * dt / 3600.0;
                // Reported with 0.01 kWh resolution, like a meter display.
                h.set(idx, "total", (total * 100.0).round() / 100.0);
            }
        }
        "Sauna" => sauna_tick(h, idx, dt),
        "CarCharger" => {
            let kw = h.num(idx, "power");
            if kw > 0.0 {
                let e = h.num(idx, "energySession") + kw * dt / 3600.0;
                h.set(idx, "energySession", (e * 100.0).round() / 100.0);
            }
        }
        _ => {}
    }
}

/// The `outputN` objects of an `all` reply: one per number state (name, 1-based nr, value).
pub fn all_outputs(h: &House, idx: usize) -> Vec<(String, Value)> {
    let c = &h.structure.controls[idx];
    c.states
        .keys()
        .filter(|n| !is_text_state(n))
        .enumerate()
        .map(|(i, n)| {
            (
                format!("output{i}"),
                json!({"name": n, "nr": i + 1, "value": h.num(idx, n)}),
            )
        })
        .collect()
}
