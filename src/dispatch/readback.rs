//! Step 10: what the house shows after a command (SC-9, R-6).
//!
//! Why from the live state cache: the Miniserver's reply value is "not fully implemented" (CWM),
//! its status events are the truth. Each expected state is snapshot before sending and watched
//! afterwards for a short while: a light or setpoint is `confirmed` when it shows the expected
//! value; a blind, window or gate that starts moving is `pending` with its direction (travel
//! takes up to a minute); anything that does not show the change in time is `unconfirmed` —
//! never reported as done. Scenes also watch every device they affect, so the result gives each
//! device's own state.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::clock::Mono;
use crate::dispatch::gateway::{Gateway, Snapshot};
use crate::house::scene::{self, Effect};
use crate::house::{DevId, House};
use crate::intent::{BlindAction, Intent};
use crate::loxone::state::{LiveStates, StateEntry, StateValue};
use crate::loxone::uuid::Uuid;
use crate::safety::{Allowed, Change};
use crate::tools::human;
use crate::tools::result::ReadBackOut;

/// How long to wait for the states to follow a command.
const WAIT: Duration = Duration::from_secs(2);
/// Scenes list at most this many devices' states.
const MAX_WATCHES: usize = 40;

pub struct Watch {
    device: DevId,
    state: String,
    uuid: Uuid,
    change: Change,
    /// A motor: travelling toward the target counts as `pending`.
    moving: bool,
    before: Option<StateEntry>,
}

fn is_motor(ty: &str) -> bool {
    matches!(ty, "Jalousie" | "Window" | "Gate")
}

/// The states to watch, with their values right before the plan is sent.
pub fn before(gw: &Gateway, snap: &Snapshot, intent: &Intent, a: &Allowed) -> Vec<Watch> {
    let house = &snap.house;
    let states = gw.link().states();
    let mut w: Vec<Watch> = Vec::new();
    let add = |device: DevId, state: &str, change: Change, w: &mut Vec<Watch>| {
        let Some(uuid) = house.state_uuid(device, state) else {
            return;
        };
        if w.iter().any(|x| x.uuid == uuid) || w.len() >= MAX_WATCHES {
            return;
        }
        let moving = state == "position" && is_motor(&house.device(device).loxone_type);
        w.push(Watch {
            device,
            state: state.to_owned(),
            uuid,
            change,
            moving,
            before: states.entry(&uuid),
        });
    };
    for e in &a.expect {
        add(e.device, e.state, e.change, &mut w);
    }
    match intent {
        Intent::Blind {
            device,
            action: BlindAction::Stop,
        } if house.device(*device).loxone_type == "Jalousie" => {
            add(*device, "up", Change::To(0.0), &mut w);
            add(*device, "down", Change::To(0.0), &mut w);
        }
        Intent::ActivateScene { device, scene: s } => {
            if let Ok(desc) = scene::describe(house, *device, states) {
                for id in desc.affected {
                    let d = house.device(id);
                    if !d.children.is_empty() || !d.exposed {
                        continue;
                    }
                    let (state, change) = match d.loxone_type.as_str() {
                        "Jalousie" => ("position", motor_change(s.effect, true)),
                        "Window" | "Gate" => ("position", motor_change(s.effect, false)),
                        "Dimmer" | "EIBDimmer" | "ColorPickerV2" => ("position", Change::Any),
                        "Switch" | "Pushbutton" => ("active", Change::Any),
                        "AudioZone" | "AudioZoneV2" => ("playState", Change::Any),
                        _ => continue,
                    };
                    add(id, state, change, &mut w);
                }
            }
        }
        _ => {}
    }
    w
}

/// A scene's effect on one motor's `position` (Jalousie: 1 = down; window and gate: 1 = open).
fn motor_change(effect: Effect, jalousie: bool) -> Change {
    match (effect, jalousie) {
        (Effect::Open, true) | (Effect::Close, false) => Change::Decrease,
        (Effect::Close, true) | (Effect::Open, false) => Change::Increase,
        _ => Change::Any,
    }
}

/// Waits (up to [`WAIT`]) for the watched states to follow, then reports each.
pub fn after(
    gw: &Gateway,
    snap: &Snapshot,
    watches: Vec<Watch>,
    sent_at: Mono,
) -> Vec<ReadBackOut> {
    let states = gw.link().states();
    let end = Instant::now() + WAIT;
    loop {
        let seen = states.generation();
        let settled = watches
            .iter()
            .all(|w| judge(w, states.entry(&w.uuid).as_ref(), sent_at) != "unconfirmed");
        let now = Instant::now();
        if settled || now >= end {
            break;
        }
        states.wait_newer(seen, end - now);
    }
    let now = gw.link().now();
    watches
        .iter()
        .map(|w| {
            let cur = states.entry(&w.uuid);
            let ty = snap.house.device(w.device).loxone_type.as_str();
            let age_ms = cur
                .as_ref()
                .map(|e| now.since(e.updated).as_millis() as u64);
            ReadBackOut {
                device: snap.house.device(w.device).label(),
                state: w.state.clone(),
                status: judge(w, cur.as_ref(), sent_at),
                expected: expected(&snap.house, w),
                shows: cur
                    .as_ref()
                    .and_then(|e| e.value.as_number())
                    .and_then(|v| human::value(ty, &w.state, v)),
                value: cur
                    .as_ref()
                    .map(|e| json_value(&e.value))
                    .unwrap_or(Value::Null),
                age_s: age_ms.map(|ms| ms / 1000),
                age_ms,
            }
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.005 * b.abs().max(1.0)
}

/// `confirmed`, `pending`, `unconfirmed` or `unknown`.
fn judge(w: &Watch, cur: Option<&StateEntry>, sent_at: Mono) -> &'static str {
    let Some(cur) = cur else {
        return "unknown";
    };
    let b = w.before.as_ref().and_then(|e| e.value.as_number());
    let updated = cur.updated > sent_at;
    let changed = w.before.as_ref().is_none_or(|e| e.value != cur.value);
    let Some(v) = cur.value.as_number() else {
        return if matches!(w.change, Change::Any) && (changed || updated) {
            "confirmed"
        } else {
            "unconfirmed"
        };
    };
    let reached = match w.change {
        Change::To(t) => close(v, t),
        Change::Increase => match b {
            Some(b) => v > b || (b > 0.0 && v >= b && !w.moving),
            None => v > 0.0,
        },
        Change::Decrease => match b {
            Some(b) => v < b || (v == 0.0 && !w.moving),
            None => v == 0.0,
        },
        Change::Any => changed || updated,
    };
    if reached && !(w.moving && matches!(w.change, Change::Increase | Change::Decrease)) {
        return "confirmed";
    }
    if w.moving && (changed || reached) {
        return "pending";
    }
    "unconfirmed"
}

fn expected(house: &House, w: &Watch) -> String {
    let ty = house.device(w.device).loxone_type.as_str();
    let b = w.before.as_ref().and_then(|e| e.value.as_number());
    let direction = |up: bool| -> &'static str {
        match (ty, up) {
            ("Jalousie", true) => "going down",
            ("Jalousie", false) => "going up",
            (_, true) => "opening",
            (_, false) => "closing",
        }
    };
    // The target on the tools' scale (`50 % closed`, `on`, `21.0 °C`), else the raw value.
    let target = |t: f64| human::value(ty, &w.state, t).unwrap_or_else(|| format!("{t}"));
    match w.change {
        Change::To(t) if w.moving => match b {
            Some(b) if t > b => format!("{} to {}", direction(true), target(t)),
            Some(b) if t < b => format!("{} to {}", direction(false), target(t)),
            _ => target(t),
        },
        Change::To(t) => target(t),
        Change::Increase if w.moving => direction(true).into(),
        Change::Decrease if w.moving => direction(false).into(),
        Change::Increase => "higher than before".into(),
        Change::Decrease => "lower than before".into(),
        Change::Any => "a change".into(),
    }
}

fn json_value(v: &StateValue) -> Value {
    match v {
        StateValue::Number(n) => {
            serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)
        }
        StateValue::Text(t) => Value::String(t.chars().take(300).collect()),
    }
}
