//! The read-only tools: answered from the device model (exposed devices only), the live state
//! cache (every value with its age, R-6), the guard's view of which actions are possible now,
//! and the posture. They send nothing to the Miniserver.

use serde_json::{Map, Value, json};

use crate::clock::Mono;
use crate::dispatch::gateway::{EstopReport, Gateway, Snapshot};
use crate::house::scene;
use crate::house::{DevId, House, Kind};
use crate::intent::{Intent, LIST_PAGE};
use crate::loxone::state::{LiveStates, StateValue};
use crate::loxone::structure::StateRef;
use crate::mcp::tool::{Era, ToolOutput};
use crate::mcp::versions;
use crate::safety::guard::{self, ActionNow};
use crate::safety::posture::Posture;
use crate::safety::table::{
    LIGHT_MAX_PER_MINUTE, LIGHT_MIN_INTERVAL, MOTOR_MAX_PER_MINUTE, MOTOR_MIN_INTERVAL,
};
use crate::tools::human;

/// Longest text state shown in `list_devices` (mood lists can be long: `get_device` has them).
const LIST_TEXT_MAX: usize = 120;
/// Longest text state shown at all.
const TEXT_MAX: usize = 2000;

/// Answers a read-only intent.
pub fn answer(
    gw: &Gateway,
    snap: &Snapshot,
    intent: &Intent,
    posture: &Posture,
    era: &Era,
    now: Mono,
) -> ToolOutput {
    let house = &snap.house;
    match intent {
        Intent::GetSystemStatus => status(gw, era),
        Intent::ListRooms => rooms(house),
        Intent::ListDevices { room, kind, page } => {
            let ids = house.list(room.as_deref(), *kind);
            let total = ids.len();
            let pages = total.div_ceil(LIST_PAGE).max(1);
            let scope = match (room, kind) {
                (Some(r), Some(k)) => format!(" ({k} devices in {r})"),
                (Some(r), None) => format!(" in {r}"),
                (None, Some(k)) => format!(" of kind {k}"),
                (None, None) => String::new(),
            };
            if *page > pages {
                let why = format!(
                    "page {page} is past the last page: {total} device(s){scope} make {pages} \
                     page(s) of {LIST_PAGE}"
                );
                return error_output("list_devices", &why, "");
            }
            let first = (page - 1) * LIST_PAGE;
            let devices: Vec<Value> = ids
                .iter()
                .skip(first)
                .take(LIST_PAGE)
                .map(|id| device_json(gw, house, *id, posture, now, Detail::Compact))
                .collect();
            let n = devices.len();
            let summary = if pages == 1 {
                format!("{n} device(s){scope}")
            } else {
                let more = if *page < pages {
                    format!(
                        "; ask for page {} for more, or narrow by room or kind",
                        page + 1
                    )
                } else {
                    String::new()
                };
                format!(
                    "devices {}–{} of {total}{scope} (page {page} of {pages}{more})",
                    first + 1,
                    first + n
                )
            };
            // `devices` is moved in, not copied (`json!` would serialize it into a copy; on a
            // house of thousands of controls that copy cost more than building the list).
            let mut m = Map::new();
            m.insert(
                "message".into(),
                format!("{summary}; posture {}", posture.name()).into(),
            );
            m.insert("count".into(), n.into());
            m.insert("total".into(), total.into());
            m.insert("page".into(), (*page).into());
            m.insert("pages".into(), pages.into());
            m.insert("devices".into(), Value::Array(devices));
            ToolOutput::ok(
                Value::Object(m),
                format!("{summary}; posture {}.", posture.name()),
            )
        }
        Intent::GetDevice { device } => {
            let d = house.device(*device);
            let dev = device_json(gw, house, *device, posture, now, Detail::Full);
            let parent = d
                .parent
                .map(|p| house.device(p))
                .filter(|p| p.exposed)
                .map(|p| p.label());
            let children: Vec<String> = d
                .children
                .iter()
                .map(|c| house.device(*c))
                .filter(|c| c.exposed)
                .map(|c| c.label())
                .collect();
            let message = format!(
                "{} ({}, {}): {}",
                d.label(),
                d.kind,
                d.loxone_type,
                d.read_only.as_deref().unwrap_or("controllable")
            );
            ToolOutput::ok(
                json!({
                    "message": message,
                    "device": dev,
                    "limits": limits_json(gw, house, *device),
                    "parent": parent,
                    "children": children,
                }),
                message,
            )
        }
        Intent::DescribeScene { device } => describe(gw, house, *device, posture, now),
        _ => error_output(intent.tool(), "this tool does not only read", ""),
    }
}

/// A read tool's refusal, in the shape of its output schema.
pub fn error_output(tool: &str, message: &str, audit_id: &str) -> ToolOutput {
    let mut v = json!({ "message": message, "error": message });
    match tool {
        "list_rooms" => v["rooms"] = json!([]),
        "list_devices" => v["devices"] = json!([]),
        _ => {}
    }
    if !audit_id.is_empty() {
        v["audit_id"] = json!(audit_id);
    }
    ToolOutput::error(v, message)
}

pub fn status(gw: &Gateway, era: &Era) -> ToolOutput {
    let s = gw.status();
    let this_call = match era {
        Era::Handshake(v) => v.clone(),
        Era::Stateless => versions::STATELESS[0].to_owned(),
    };
    let mut v = serde_json::to_value(&s).unwrap_or_else(|_| json!({}));
    v["server"]["protocol"] = json!({
        "this_call": this_call,
        "handshake": versions::HANDSHAKE,
        "stateless": versions::STATELESS,
    });
    let mut text = format!(
        "loxwarden {}: link {}{}{}; posture {}",
        s.server.version,
        s.link.state,
        if s.link.for_s > 0 {
            format!(" for {} s", s.link.for_s)
        } else {
            String::new()
        },
        if s.link.reason.is_empty() || s.link.reason == s.link.state {
            String::new()
        } else {
            format!(" ({})", s.link.reason)
        },
        s.posture.name
    );
    if s.emergency_stop.latched {
        text.push_str(&format!(
            "; EMERGENCY STOP latched since {} ({})",
            s.emergency_stop.since.clone().unwrap_or_default(),
            s.emergency_stop.reason.clone().unwrap_or_default()
        ));
    }
    if !s.alarms.is_empty() {
        text.push_str(&format!("; alarms: {}", s.alarms.join("; ")));
    }
    if !s.posture.reasons.is_empty() && s.emergency_stop.latched == s.posture.reasons.is_empty() {
        text.push_str(&format!("; why: {}", s.posture.reasons.join("; ")));
    }
    text.push('.');
    v["message"] = json!(text);
    ToolOutput::ok(v, text)
}

/// Every room with its device count and kinds: one pass over the exposed devices (a room ×
/// device scan, with a case-insensitive comparison per pair, was quadratic in the house).
pub fn room_summary(house: &House) -> Vec<(&str, usize, Vec<&'static str>)> {
    let mut by_room: std::collections::BTreeMap<&str, (usize, u32)> = Default::default();
    for d in house.exposed().filter(|d| !d.room_name.is_empty()) {
        let (n, kinds) = by_room.entry(d.room_name.as_str()).or_default();
        *n += 1;
        *kinds |= 1 << (d.kind as u32);
    }
    by_room
        .into_iter()
        .map(|(room, (n, kinds))| {
            let mut names: Vec<&'static str> = Kind::ALL
                .iter()
                .filter(|k| kinds & (1 << (**k as u32)) != 0)
                .map(|k| k.as_str())
                .collect();
            names.sort_unstable();
            (room, n, names)
        })
        .collect()
}

/// What the AI would see of `house`, as `check-config` prints it: how many devices in how
/// many rooms, of which kinds, how many it may control, what the config hides, and the config
/// entries that matched nothing.
pub fn what_the_ai_sees(house: &House) -> Vec<String> {
    let exposed: Vec<&crate::house::Device> = house.exposed().collect();
    let kinds: Vec<String> = Kind::ALL
        .iter()
        .filter_map(|k| {
            let n = exposed.iter().filter(|d| d.kind == *k).count();
            (n > 0).then(|| format!("{n} {k}"))
        })
        .collect();
    let read_only = exposed.iter().filter(|d| d.read_only.is_some()).count();
    let mut lines = vec![
        format!(
            "the AI sees  {} device(s) in {} room(s): {}",
            exposed.len(),
            house.rooms().len(),
            if kinds.is_empty() {
                "none".to_owned()
            } else {
                kinds.join(", ")
            }
        ),
        format!(
            "             {} it may control, {read_only} read-only; {} not exposed by the config",
            exposed.len() - read_only,
            house.all().len() - exposed.len()
        ),
    ];
    lines.extend(house.warnings.iter().map(|w| format!("config note  {w}")));
    lines
}

fn rooms(house: &House) -> ToolOutput {
    let rooms: Vec<Value> = room_summary(house)
        .into_iter()
        .map(|(r, n, kinds)| json!({ "name": r, "devices": n, "kinds": kinds }))
        .collect();
    let names: Vec<&str> = rooms.iter().filter_map(|r| r["name"].as_str()).collect();
    let text = format!("{} room(s): {}.", rooms.len(), names.join(", "));
    ToolOutput::ok(json!({ "message": text, "rooms": rooms }), text)
}

/// A live state as JSON: the value (number or text), its age in seconds, and the value in
/// human terms where that adds something (`tools::human`).
fn state_json(ty: &str, name: &str, v: &StateValue, age_s: u64, max_text: usize) -> Option<Value> {
    let (value, words) = match v {
        StateValue::Number(n) => (
            serde_json::Number::from_f64(*n).map(Value::Number)?,
            human::value(ty, name, *n),
        ),
        StateValue::Text(t) if t.chars().count() <= max_text => (Value::String(t.clone()), None),
        StateValue::Text(_) => return None,
    };
    let mut m = Map::new();
    m.insert("value".into(), value);
    if let Some(w) = words {
        m.insert("shows".into(), w.into());
    }
    m.insert("age_s".into(), age_s.into());
    Some(Value::Object(m))
}

/// A light controller's active moods by name (`mood Evening`), from `activeMoods` (a JSON
/// list of mood ids) and the mood list.
fn active_moods(
    house: &House,
    id: DevId,
    states: &dyn crate::loxone::state::LiveStates,
) -> Option<String> {
    let active: Vec<i64> = serde_json::from_str(&house.text(states, id, "activeMoods")?).ok()?;
    let desc = scene::describe(house, id, states).ok()?;
    let names: Vec<String> = active
        .iter()
        .map(|a| {
            desc.scenes
                .iter()
                .find(|s| s.id == Some(*a))
                .map_or_else(|| format!("#{a}"), |s| s.name.clone())
        })
        .collect();
    match names.as_slice() {
        [] => Some("no mood".into()),
        [one] => Some(format!("mood {one}")),
        many => Some(format!("moods {}", many.join(", "))),
    }
}

/// How much of a device to show.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// `list_devices`: the few states a person would name (`human::compact_states`).
    Compact,
    /// `get_device`: every state.
    Full,
}

/// One device: identity, live states with their age (and in human terms), a one-line
/// summary, and what is possible now.
pub fn device_json(
    gw: &Gateway,
    house: &House,
    id: DevId,
    posture: &Posture,
    now: Mono,
    detail: Detail,
) -> Value {
    let d = house.device(id);
    let states = gw.link().states();
    let link_now = gw.link().now();
    let ty = d.loxone_type.as_str();
    let (max_text, only) = match detail {
        Detail::Compact => (LIST_TEXT_MAX, human::compact_states(ty)),
        Detail::Full => (TEXT_MAX, None),
    };
    let mut state = Map::new();
    for (name, r) in &house.control(id).states {
        let StateRef::One(u) = r else { continue };
        if only.is_some_and(|o| !o.contains(&name.as_str())) {
            continue;
        }
        if let Some(e) = states.entry(u)
            && let Some(v) = state_json(
                ty,
                name,
                &e.value,
                link_now.since(e.updated).as_secs(),
                max_text,
            )
        {
            state.insert(name.clone(), v);
        }
    }
    let summary = if ty == "LightControllerV2" {
        active_moods(house, id, states)
    } else {
        human::summary(ty, |s| state.get(s).and_then(|v| v["value"].as_f64()))
    };
    let actions: Vec<Value> = if d.read_only.is_some() {
        Vec::new()
    } else {
        let rates = gw.rates();
        guard::actions_now(house, id, states, posture, gw.limits(), &rates, now)
            .into_iter()
            .map(|(action, a)| match a {
                ActionNow::Allowed => json!({ "action": action, "now": "allowed" }),
                ActionNow::NeedsConsent => json!({ "action": action, "now": "needs_consent" }),
                ActionNow::Refused(rule) => {
                    json!({ "action": action, "now": "refused", "rule": rule })
                }
            })
            .collect()
    };
    let mut v = json!({
        "id": d.addr.to_string(),
        "name": d.name,
        "room": d.room_name,
        "kind": d.kind.as_str(),
        "type": d.loxone_type,
        "secured": d.secured,
    });
    // Moved in, not serialized into copies by `json!`.
    if let Value::Object(m) = &mut v {
        if let Some(r) = &d.read_only {
            m.insert("read_only".into(), r.clone().into());
        }
        if let Some(s) = summary {
            m.insert("summary".into(), s.into());
        }
        m.insert("state".into(), Value::Object(state));
        m.insert("actions".into(), Value::Array(actions));
    }
    v
}

/// The limits that apply to one device (the compiled table as this site tightened it).
fn limits_json(gw: &Gateway, house: &House, id: DevId) -> Value {
    let d = house.device(id);
    let l = gw.limits();
    match d.kind {
        Kind::Climate => {
            let (free, hard) = l.temp_bands(&d.room_name);
            json!({
                "free_c": [free.min, free.max],
                "with_consent_c": [hard.min, hard.max],
                "max_step_c": l.temp_max_step,
                "rule": "SC-2",
            })
        }
        Kind::Audio => {
            let (free, hard) = l.volume_caps(&d.room_name);
            json!({ "volume_free_max": free, "volume_with_consent_max": hard, "ramp_step": 10, "rule": "UCA-A1" })
        }
        Kind::Blind => json!({
            "min_interval_s": MOTOR_MIN_INTERVAL.as_secs(),
            "max_per_minute": MOTOR_MAX_PER_MINUTE,
            "reversal": "only after stop",
            "rule": "R-13",
        }),
        Kind::Light => json!({
            "min_interval_s": LIGHT_MIN_INTERVAL.as_secs(),
            "max_per_minute": LIGHT_MAX_PER_MINUTE,
            "night_max_percent_in_sleeping_rooms": crate::safety::table::NIGHT_LIGHT_MAX,
            "rule": "UCA-L1",
        }),
        Kind::Charger => {
            let det = house.control(id).details();
            json!({
                "min_kw": det.get("min").and_then(Value::as_f64),
                "max_kw": det.get("max").and_then(Value::as_f64),
            })
        }
        Kind::Access | Kind::Intercom => json!({
            "consent": "open and unlock always need the person's consent",
            "intercom_window_s": l.intercom_window.as_secs(),
            "rule": "UCA-D1",
        }),
        Kind::Alarm => json!({
            "consent": "disarm and acknowledge always; arm when someone may be inside",
            "rule": "SC-5",
        }),
        Kind::Scene => json!({
            "consent_above_devices": crate::safety::table::SCENE_MAX_DEVICES_WITHOUT_CONSENT,
            "rule": "SC-7",
        }),
        Kind::Sensor | Kind::Other => json!({}),
    }
}

fn describe(gw: &Gateway, house: &House, id: DevId, posture: &Posture, now: Mono) -> ToolOutput {
    let states = gw.link().states();
    let desc = match scene::describe(house, id, states) {
        Ok(d) => d,
        Err(r) => {
            let m = format!("Refused. {r}");
            return error_output("describe_scene", &m, "");
        }
    };
    let (members, affected, hidden) = desc.exposed_view(house);
    let possible = {
        let rates = gw.rates();
        guard::actions_now(house, id, states, posture, gw.limits(), &rates, now)
    };
    let scenes: Vec<Value> = desc
        .scenes
        .iter()
        .map(|s| {
            let key = format!("scene {}", s.name);
            let mut v = json!({
                "name": s.name,
                "id": s.id,
                "effect": format!("{:?}", s.effect).to_lowercase(),
            });
            if let Some((_, a)) = possible.iter().find(|(n, _)| *n == key) {
                match a {
                    ActionNow::Allowed => v["now"] = json!("allowed"),
                    ActionNow::NeedsConsent => v["now"] = json!("needs_consent"),
                    ActionNow::Refused(rule) => {
                        v["now"] = json!("refused");
                        v["rule"] = json!(rule);
                    }
                }
            }
            v
        })
        .collect();
    let labels =
        |v: &[DevId]| -> Vec<String> { v.iter().map(|i| house.device(*i).label()).collect() };
    let mut message = format!(
        "{}: {} scene(s), affecting {} device(s)",
        house.device(id).label(),
        scenes.len(),
        affected.len()
    );
    if hidden > 0 {
        message.push_str(&format!(
            "; {hidden} affected device(s) are not exposed, so its scenes are refused"
        ));
    }
    ToolOutput::ok(
        json!({
            "message": message,
            "device": house.device(id).label(),
            "scenes": scenes,
            "members": labels(&members),
            "affected": labels(&affected),
            "hidden": hidden,
            "note": desc.note,
        }),
        message,
    )
}

/// `emergency_stop`'s result: each device's own answer; `isError` if any did not confirm.
pub fn estop_output(r: &EstopReport) -> ToolOutput {
    let commands: Vec<Value> = r
        .results
        .iter()
        .map(|s| {
            json!({
                "device": if s.room.is_empty() { s.name.clone() } else { format!("{}/{}", s.room, s.name) },
                "command": s.command,
                "sent": s.code.is_some() || s.error.as_deref().is_some_and(|e| e.starts_with("the command may not")),
                "code": s.code,
                "value": s.value,
                "error": s.error,
            })
        })
        .collect();
    let ok = r.results.iter().filter(|s| s.ok()).count();
    let all = r.all_ok();
    let mut notes = Vec::new();
    if let Some(e) = &r.latch_error {
        notes.push(format!(
            "the latch could not be saved ({e}): this gateway stays stopped until it restarts"
        ));
    }
    if let Some(e) = &r.audit_error {
        notes.push(format!("R-14: {e}"));
    }
    notes.extend(r.skipped.iter().cloned());
    notes.extend(r.notes.iter().cloned());
    let mut message = if let Some(why) = &r.unavailable {
        format!(
            "Emergency stop latched, but NO device could be stopped: {why}. Stop the house \
             locally (the Loxone app or the devices themselves). Every other command is \
             refused until a person runs `loxwarden resume`."
        )
    } else if all {
        format!(
            "Emergency stop latched; {ok} device(s) stopped or paused, each confirmed by the \
             Miniserver (LL 200). Every other command is refused until a person runs \
             `loxwarden resume`."
        )
    } else if ok == r.results.len() {
        // Every command sent was confirmed; some motors could not be sent to at all.
        format!(
            "Emergency stop latched; {ok} device(s) stopped or paused, each confirmed by the \
             Miniserver (LL 200), but NOT every motor: stop the ones named below locally. \
             Every other command is refused until a person runs `loxwarden resume`."
        )
    } else {
        format!(
            "Emergency stop latched, but only {ok} of {} device(s) confirmed (LL 200); see \
             commands for each device's answer. Every other command is refused until a person \
             runs `loxwarden resume`.",
            r.results.len()
        )
    };
    // The text carries the whole answer: every device the stop went to, with its answer.
    if !r.results.is_empty() {
        let each: Vec<String> = r
            .results
            .iter()
            .map(|s| {
                let device = if s.room.is_empty() {
                    s.name.clone()
                } else {
                    format!("{}/{}", s.room, s.name)
                };
                match (s.code, &s.error) {
                    (Some(c), _) => format!("{device} (LL {c})"),
                    (None, Some(e)) => format!("{device} (not confirmed: {e})"),
                    (None, None) => format!("{device} (no answer)"),
                }
            })
            .collect();
        message.push_str(&format!(" Reached: {}.", each.join(", ")));
    }
    for n in &notes {
        message.push_str(&format!(" {n}."));
    }
    let v = json!({
        "done": all,
        "message": message,
        "audit_id": r.audit_id,
        "latched": {
            "since": crate::audit::rfc3339(r.latched.since()),
            "reason": r.latched.reason,
            "by": r.latched.by,
            "persisted": r.latch_persisted,
        },
        "commands": commands,
        "notes": notes,
    });
    ToolOutput {
        structured: v,
        text: message,
        is_error: !all,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::house::testhouse::{manison, test_house};

    #[test]
    fn the_room_summary_in_one_pass_counts_what_listing_each_room_finds() {
        for house in [manison(), test_house()] {
            let summary = room_summary(&house);
            let rooms: Vec<&str> = summary.iter().map(|(r, _, _)| *r).collect();
            assert_eq!(rooms, house.rooms());
            assert!(summary.len() > 3);
            for (room, n, kinds) in &summary {
                let ids = house.list(Some(room), None);
                assert_eq!(*n, ids.len(), "{room}");
                let mut want: Vec<&str> = ids
                    .iter()
                    .map(|id| house.device(*id).kind.as_str())
                    .collect();
                want.sort_unstable();
                want.dedup();
                assert_eq!(kinds, &want, "{room}");
            }
        }
    }
}
