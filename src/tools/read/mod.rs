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

fn rooms(house: &House) -> ToolOutput {
    let rooms: Vec<Value> = room_summary(house)
        .into_iter()
        .map(|(r, n, kinds)| json!({ "name": r, "devices": n, "kinds": kinds }))
        .collect();
    let names: Vec<&str> = rooms.iter().filter_map(|r| r["name"].as_str()).collect();
    let text = format!("{} room(s): {}.", rooms.len(), names.join(", "));
    ToolOutput::ok(json!({ "message": text, "rooms": rooms }), text)
}

mod device;
mod estop;
mod sees;

use device::*;
pub use device::{Detail, device_json};
pub use estop::estop_output;
pub use sees::{room_summary, what_the_ai_sees};
