//! A generated house with one control of every type the Structure File documents (and one of
//! each central object, listing members of its type): the house the inventory must know in
//! full, and the house end-to-end tests of new controls run against.
//!
//! The types come from `house::kind::catalogue`, so a type added there appears here without a
//! second list to keep. States are the ones SF names for the type where loxwarden or the
//! simulator reads them; other types get a `value`.

use serde_json::{Map, Value, json};

use super::{Ids, TAIL_CONTROL, TAIL_STATE, control};
use crate::house::kind::catalogue;

/// The states a control of `ty` gets, and its details.
fn shape(ty: &str) -> (&'static [&'static str], Option<Value>) {
    match ty {
        "AalEmergency" => (&["status", "disableEndTime", "resetActive"], None),
        "AalSmartAlarm" => (
            &["alarmLevel", "isLocked", "isLeaveActive", "disableEndTime"],
            None,
        ),
        "AlarmChain" => (
            &[
                "activeAlarmType",
                "nextAlarmLevelAt",
                "activeAlarmText",
                "nextAlarmText",
                "iterationCount",
            ],
            None,
        ),
        "SmokeAlarm" => (
            &[
                "level",
                "alarmCause",
                "testAlarm",
                "timeServiceMode",
                "sensors",
            ],
            None,
        ),
        "Alarm" => (
            &[
                "armed",
                "level",
                "armedDelay",
                "armedDelayTotal",
                "disabledMove",
                "sensors",
            ],
            None,
        ),
        "TimedSwitch" => (
            &["deactivationDelayTotal", "deactivationDelay"],
            Some(json!({"isStairwayLs": true})),
        ),
        "Switch" | "Pushbutton" | "InfoOnlyDigital" | "PresenceDetector" => (&["active"], None),
        "Dimmer" | "EIBDimmer" => (&["position", "min", "max", "step"], None),
        "Jalousie" => (
            &["up", "down", "position", "shadePosition", "targetPosition"],
            Some(json!({"isAutomatic": false, "animation": 0})),
        ),
        "Window" => (&["position", "direction", "targetPosition"], None),
        "Gate" => (
            &["position", "active", "preventOpen", "preventClose"],
            Some(json!({"animation": 0})),
        ),
        "IRoomControllerV2" => (
            &[
                "tempActual",
                "tempTarget",
                "comfortTemperature",
                "comfortTemperatureOffset",
                "activeMode",
                "operatingMode",
            ],
            Some(json!({"timerModes": [], "format": "%.1f°"})),
        ),
        "AudioZoneV2" | "AudioZone" => (&["power", "playState", "volume"], None),
        "Ventilation" => (
            &[
                "ventReason",
                "activeTimerProfile",
                "stoppedBy",
                "speed",
                "mode",
                "presenceMin",
                "presenceMax",
                "absenceMin",
                "absenceMax",
                "presence",
            ],
            Some(
                json!({"modes": [{"name": "Heat exchanger", "id": 2}, {"name": "Exhaust", "id": 1}]}),
            ),
        ),
        "Sauna" => (
            &[
                "active",
                "power",
                "tempActual",
                "tempBench",
                "tempTarget",
                "doorClosed",
                "error",
                "saunaError",
                "timer",
                "timerTotal",
            ],
            Some(json!({"hasVaporizer": false, "hasDoorSensor": true})),
        ),
        "Irrigation" => (
            &[
                "rainActive",
                "expectedPrecipitation",
                "maxExpectedPrecipitation",
                "currentZone",
                "zones",
            ],
            None,
        ),
        "Wallbox2" => (
            &["active", "connected", "actual", "limit", "enabled"],
            Some(json!({"min": 1.4, "max": 11.0, "modes": []})),
        ),
        "CarCharger" => (
            &["status", "charging", "currentLimit", "minLimit", "maxLimit"],
            Some(json!({"limitAllowed": true})),
        ),
        "Intercom" | "IntercomV2" => (&["bell", "lastBellEvents"], None),
        "LightControllerV2" => (&["activeMoods", "moodList"], None),
        "LightController" => (&["activeScene", "sceneList"], None),
        "WindowMonitor" => (
            &[
                "windowStates",
                "numOpen",
                "numClosed",
                "numTilted",
                "numOffline",
                "numLocked",
                "numUnlocked",
            ],
            Some(json!({"windows": [
                {"name": "Kitchen window", "room": "", "installPlace": "north"},
                {"name": "Terrace door", "room": "", "installPlace": "south"}]})),
        ),
        _ => (&["value"], None),
    }
}

/// The category a control of `ty` sits in: timed switches and switches in the lighting
/// category are lights, everything else where a real house would put it.
fn category(ty: &str) -> &'static str {
    match ty {
        "TimedSwitch"
        | "Switch"
        | "Pushbutton"
        | "Dimmer"
        | "LightControllerV2"
        | "LightController"
        | "CentralLightController" => "lights",
        "Jalousie" | "Window" | "CentralJalousie" | "CentralWindow" => "shading",
        _ => "undefined",
    }
}

/// The member type a central object lists.
fn member_of(central: &str) -> Option<&'static str> {
    Some(match central {
        "CentralAlarm" => "Alarm",
        "CentralAudioZone" => "AudioZoneV2",
        "CentralGate" => "Gate",
        "CentralJalousie" => "Jalousie",
        "CentralLightController" => "LightControllerV2",
        "CentralWindow" => "Window",
        _ => return None,
    })
}

/// The structure file of the every-type house: one room per catalogue family is not needed;
/// two rooms (`Ground floor`, `Garden`) and two categories (`Lighting`, `Shading`, plus
/// `Other`).
pub fn structure() -> String {
    let mut ids = Ids { n: 5000 };
    let mut rooms = Map::new();
    let room = ids.next(TAIL_CONTROL);
    rooms.insert(
        room.clone(),
        json!({"uuid": room, "name": "Ground floor", "image": "00000000-0000-0002-2000000000000000.svg",
               "defaultRating": 0, "isFavorite": false, "type": 0}),
    );
    let mut cats = Map::new();
    let mut cat_ids = std::collections::HashMap::new();
    for (name, kind) in [
        ("Lighting", "lights"),
        ("Shading", "shading"),
        ("Other", "undefined"),
    ] {
        let u = ids.next(TAIL_CONTROL);
        cats.insert(
            u.clone(),
            json!({"uuid": u, "name": name, "image": "00000000-0000-0001-2000000000000000.svg",
                   "defaultRating": 0, "isFavorite": false, "type": kind, "color": "#69C350"}),
        );
        cat_ids.insert(kind, u);
    }
    let mut controls = Map::new();
    let mut by_type: std::collections::HashMap<&str, String> = Default::default();
    let mut centrals = Vec::new();
    for d in catalogue::all() {
        for ty in d.types {
            if member_of(ty).is_some() {
                centrals.push(*ty);
                continue;
            }
            let (states, details) = shape(ty);
            let (uuid, mut c) = control(
                &mut ids,
                format!("Every {ty}"),
                ty,
                &room,
                &cat_ids[category(ty)],
                states,
                details,
            );
            c["statistic"] = json!({"frequency": 0, "outputs": []});
            by_type.insert(ty, uuid.clone());
            controls.insert(uuid, c);
        }
    }
    for ty in centrals {
        let member = member_of(ty).and_then(|m| by_type.get(m)).cloned();
        let list: Vec<Value> = member
            .into_iter()
            .map(|u| json!({"uuid": u, "id": 1}))
            .collect();
        let (uuid, c) = control(
            &mut ids,
            format!("Every {ty}"),
            ty,
            &room,
            &cat_ids[category(ty)],
            &[],
            Some(json!({"controls": list})),
        );
        controls.insert(uuid, c);
    }
    let globals: Map<String, Value> = ["sunrise", "sunset", "miniserverTime", "operatingMode"]
        .iter()
        .map(|n| (n.to_string(), Value::String(ids.next(TAIL_STATE))))
        .collect();
    let doc = json!({
        "lastModified": "2025-06-03 10:00:00",
        "msInfo": {"serialNr": "504F94A00003", "msName": "Every Type House",
            "projectName": "loxwarden every-type house", "localUrl": "127.0.0.1", "remoteUrl": "",
            "tempUnit": 0, "currency": "€", "squareMeasure": "m²", "location": "Linz, Austria",
            "catTitle": "Category", "roomTitle": "Room", "miniserverType": 2, "sortByRating": false,
            "currentUser": {"name": "admin", "uuid": ids.next(TAIL_CONTROL), "isAdmin": true,
                "changePassword": true, "userRights": 2047}},
        "globalStates": globals,
        "operatingModes": {"0": "Holiday"},
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
    fn the_every_type_house_holds_every_documented_type_once() {
        let s = Structure::parse(structure().as_bytes()).unwrap();
        assert_eq!(s.skipped, 0);
        for d in catalogue::all() {
            for ty in d.types {
                let n = s.controls.iter().filter(|c| c.kind == *ty).count();
                assert_eq!(n, 1, "{ty}");
            }
        }
        let all_types: usize = catalogue::all().map(|d| d.types.len()).sum();
        assert_eq!(s.controls.len(), all_types);
        assert_eq!(structure(), structure(), "deterministic");
    }
}
