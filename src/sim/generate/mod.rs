//! A generated house of any size (`loxwarden sim --generate N`), for benchmarks and scale
//! tests: N top-level controls of realistic types in realistic rooms, with valid UUIDs, states,
//! details and sub-controls in the shapes of the real fixtures.
//!
//! Deterministic: the same N gives the same file, so a benchmark's input never drifts.

use serde_json::{Map, Value, json};

pub mod every_type;

const ROOM_NAMES: &[&str] = &[
    "Living Room",
    "Kitchen",
    "Dining Room",
    "Bedroom",
    "Nursery",
    "Guest Room",
    "Office",
    "Bathroom",
    "Hall",
    "Staircase",
    "Basement",
    "Laundry",
    "Garage",
    "Terrace",
    "Garden",
    "Attic",
    "Library",
    "Gym",
    "Workshop",
    "Pantry",
];

/// Type mix per 20 controls (lights dominate real houses).
const MIX: &[&str] = &[
    "Switch",
    "Dimmer",
    "Jalousie",
    "LightControllerV2",
    "IRoomControllerV2",
    "PresenceDetector",
    "Switch",
    "Dimmer",
    "Jalousie",
    "InfoOnlyAnalog",
    "Pushbutton",
    "Switch",
    "LightControllerV2",
    "Jalousie",
    "InfoOnlyDigital",
    "AudioZoneV2",
    "Dimmer",
    "Window",
    "Switch",
    "Gate",
];

struct Ids {
    n: u32,
}

impl Ids {
    /// A Loxone-shaped UUID (8-4-4-16) with a per-house tail.
    fn next(&mut self, tail: &str) -> String {
        self.n += 1;
        let n = self.n;
        format!(
            "{:08x}-{:04x}-{:04x}-{tail}",
            0x1f00_0000u32 + n,
            n % 0x1_0000,
            (n / 7) % 0x1_0000
        )
    }
}

const TAIL_CONTROL: &str = "ffff504f94a00002";
const TAIL_STATE: &str = "ffff3c8e91d20a5b";

fn states(ids: &mut Ids, names: &[&str]) -> Value {
    let m: Map<String, Value> = names
        .iter()
        .map(|n| (n.to_string(), Value::String(ids.next(TAIL_STATE))))
        .collect();
    Value::Object(m)
}

fn control(
    ids: &mut Ids,
    name: String,
    kind: &str,
    room: &str,
    cat: &str,
    state_names: &[&str],
    details: Option<Value>,
) -> (String, Value) {
    let uuid = ids.next(TAIL_CONTROL);
    let mut c = json!({
        "name": name, "type": kind, "uuidAction": uuid, "room": room, "cat": cat,
        "defaultRating": 0, "isFavorite": false, "isSecured": false,
        "states": states(ids, state_names),
    });
    if let Some(d) = details {
        c["details"] = d;
    }
    (uuid, c)
}

const DIM: &[&str] = &["position", "min", "max", "step"];
const JAL: &[&str] = &[
    "up",
    "down",
    "position",
    "shadePosition",
    "safetyActive",
    "autoAllowed",
    "autoActive",
    "locked",
    "infoText",
    "deviceState",
    "targetPosition",
    "targetPositionLamelle",
];
const IRC: &[&str] = &[
    "tempActual",
    "tempTarget",
    "comfortTemperature",
    "comfortTemperatureCool",
    "comfortTolerance",
    "absentMinOffset",
    "absentMaxOffset",
    "frostProtectTemperature",
    "heatProtectTemperature",
    "comfortTemperatureOffset",
    "activeMode",
    "operatingMode",
    "overrideEntries",
    "overrideReason",
    "prepareState",
    "openWindow",
    "actualOutdoorTemp",
    "averageOutdoorTemp",
    "currentMode",
    "capabilities",
];

/// The structure file of a generated house with `n` top-level controls.
pub fn structure(n: usize) -> String {
    let mut ids = Ids { n: 0 };
    let room_count = (n / 12).clamp(1, 400);
    let mut rooms = Map::new();
    let mut room_ids = Vec::new();
    for r in 0..room_count {
        let base = ROOM_NAMES[r % ROOM_NAMES.len()];
        let name = if r < ROOM_NAMES.len() {
            base.to_string()
        } else {
            format!("{base} {}", r / ROOM_NAMES.len() + 1)
        };
        let u = ids.next(TAIL_CONTROL);
        rooms.insert(
            u.clone(),
            json!({"uuid": u, "name": name, "image": "00000000-0000-0002-2000000000000000.svg",
                   "defaultRating": 0, "isFavorite": false, "type": 0}),
        );
        room_ids.push((u, name));
    }
    let mut cats = Map::new();
    let mut cat = std::collections::HashMap::new();
    for (name, kind) in [
        ("Lighting", "lights"),
        ("Shading", "shading"),
        ("Climate", "indoortemperature"),
        ("Media", "media"),
        ("Sensors", "undefined"),
        ("Access", "undefined"),
        ("Miscellaneous", "undefined"),
    ] {
        let u = ids.next(TAIL_CONTROL);
        cats.insert(
            u.clone(),
            json!({"uuid": u, "name": name, "image": "00000000-0000-0001-2000000000000000.svg",
                   "defaultRating": 0, "isFavorite": false, "type": kind, "color": "#69C350"}),
        );
        cat.insert(name, u);
    }
    let mut controls = Map::new();
    for i in 0..n {
        let (room, room_name) = &room_ids[i % room_ids.len()];
        let kind = MIX[i % MIX.len()];
        let nr = i / room_ids.len() + 1;
        let (uuid, mut c) = match kind {
            "Switch" => control(
                &mut ids,
                format!("{room_name} Socket {nr}"),
                kind,
                room,
                &cat["Miscellaneous"],
                &["active", "lockedOn"],
                None,
            ),
            "Pushbutton" => control(
                &mut ids,
                format!("{room_name} Button {nr}"),
                kind,
                room,
                &cat["Lighting"],
                &["active"],
                None,
            ),
            "Dimmer" => control(
                &mut ids,
                format!("{room_name} Dimmer {nr}"),
                kind,
                room,
                &cat["Lighting"],
                DIM,
                None,
            ),
            "Jalousie" => control(
                &mut ids,
                format!("{room_name} Blind {nr}"),
                kind,
                room,
                &cat["Shading"],
                JAL,
                Some(json!({"isAutomatic": nr % 2 == 0, "animation": nr % 2})),
            ),
            "IRoomControllerV2" => control(
                &mut ids,
                format!("{room_name} Climate {nr}"),
                kind,
                room,
                &cat["Climate"],
                IRC,
                Some(
                    json!({"timerModes": [{"name": "Comfort", "description": "Comfort temperature", "id": 1},
                    {"name": "Economy", "description": "Economy temperature", "id": 0},
                    {"name": "Building protection", "description": "Frost and heat protection", "id": 2}],
                    "format": "%.1f°", "connectedInputs": 0}),
                ),
            ),
            "PresenceDetector" => control(
                &mut ids,
                format!("{room_name} Presence {nr}"),
                kind,
                room,
                &cat["Sensors"],
                &["active", "activeSince", "locked", "infoText", "time"],
                Some(json!({"maxEntries": 40})),
            ),
            "InfoOnlyAnalog" => control(
                &mut ids,
                format!("{room_name} Humidity {nr}"),
                kind,
                room,
                &cat["Sensors"],
                &["value"],
                Some(json!({"format": "%.0f%%"})),
            ),
            "InfoOnlyDigital" => control(
                &mut ids,
                format!("{room_name} Window contact {nr}"),
                kind,
                room,
                &cat["Sensors"],
                &["active"],
                Some(
                    json!({"text": {"on": "open", "off": "closed"}, "color": {"on": "#E73246", "off": "#69C350"}}),
                ),
            ),
            "AudioZoneV2" => control(
                &mut ids,
                format!("{room_name} Music {nr}"),
                kind,
                room,
                &cat["Media"],
                &[
                    "serverState",
                    "playState",
                    "clientState",
                    "power",
                    "volumeStep",
                    "volume",
                    "defaultVolume",
                ],
                Some(json!({"playerid": i + 1, "clientType": 0})),
            ),
            "Window" => control(
                &mut ids,
                format!("{room_name} Window {nr}"),
                kind,
                room,
                &cat["Shading"],
                &["position", "direction", "lockedReason", "targetPosition"],
                None,
            ),
            "Gate" => control(
                &mut ids,
                format!("{room_name} Gate {nr}"),
                kind,
                room,
                &cat["Access"],
                &["position", "active", "preventOpen", "preventClose"],
                Some(json!({"animation": 0})),
            ),
            _ => {
                let (u, mut c) = control(
                    &mut ids,
                    format!("{room_name} Lighting {nr}"),
                    "LightControllerV2",
                    room,
                    &cat["Lighting"],
                    &[
                        "activeMoods",
                        "moodList",
                        "favoriteMoods",
                        "additionalMoods",
                        "circuitNames",
                    ],
                    None,
                );
                let mut subs = Map::new();
                for (k, (sfx, name)) in [("AI1", "Ceiling"), ("AI2", "Wall"), ("AI3", "Spots")]
                    .into_iter()
                    .enumerate()
                {
                    let a = format!("{u}/{sfx}");
                    subs.insert(a.clone(), json!({"name": name, "type": if k == 2 { "Switch" } else { "Dimmer" },
                        "uuidAction": a, "defaultRating": 0, "isFavorite": false, "isSecured": false,
                        "states": if k == 2 { states(&mut ids, &["active"]) } else { states(&mut ids, DIM) }}));
                }
                c["details"] = json!({"movementScene": 777});
                c["subControls"] = Value::Object(subs);
                (u, c)
            }
        };
        c["statistic"] = json!({"frequency": 0, "outputs": []});
        controls.insert(uuid, c);
    }
    let globals: Map<String, Value> = [
        "sunrise",
        "sunset",
        "notifications",
        "modifications",
        "miniserverTime",
        "operatingMode",
    ]
    .iter()
    .map(|n| (n.to_string(), Value::String(ids.next(TAIL_STATE))))
    .collect();
    let doc = json!({
        "lastModified": "2025-06-03 10:00:00",
        "msInfo": {"serialNr": "504F94A00002", "msName": format!("Generated House ({n} controls)"),
            "projectName": "loxwarden generated house", "localUrl": "127.0.0.1", "remoteUrl": "",
            "tempUnit": 0, "currency": "€", "squareMeasure": "m²", "location": "Linz, Austria",
            "catTitle": "Category", "roomTitle": "Room", "miniserverType": 2, "sortByRating": false,
            "currentUser": {"name": "admin", "uuid": ids.next(TAIL_CONTROL), "isAdmin": true,
                "changePassword": true, "userRights": 2047}},
        "globalStates": globals,
        "operatingModes": {"0": "Holiday", "3": "Monday", "9": "Sunday"},
        "rooms": rooms,
        "cats": cats,
        "controls": controls,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loxone::structure::Structure;

    #[test]
    fn a_generated_house_parses_with_every_control_and_no_malformed_uuid() {
        let text = structure(120);
        let s = Structure::parse(text.as_bytes()).unwrap();
        assert_eq!(
            s.controls.iter().filter(|c| c.parent.is_none()).count(),
            120
        );
        assert_eq!(s.skipped, 0);
        assert_eq!(s.rooms.len(), 10);
        assert_eq!(structure(120), text, "deterministic");
    }
}
