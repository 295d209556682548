//! What a control of each type reports before anyone commands it: initial states (numbers and
//! the text states sent in text-event tables), global states, and values derived after loading.

use super::*;

/// State names whose values are text (JSON or plain), sent in text-event tables.
pub(super) const TEXT_STATES: &[&str] = &[
    "text",
    "activeMoods",
    "moodList",
    "favoriteMoods",
    "additionalMoods",
    "circuitNames",
    "daylightConfig",
    "overrideEntries",
    "infoText",
    "autoInfoText",
    "lastBellEvents",
    "version",
    "lastBellTimestamp",
    "session",
    "entries",
    "jLocked",
    "sensors",
    "text",
    "textAndIcon",
    "iconAndColor",
    "sceneList",
    "songName",
    "album",
    "artist",
    "station",
    "genre",
    "cover",
    "sourceList",
    "modeList",
    "color",
    "sequence",
    "equalizerSettings",
    "answers",
    "address",
    "lockedReason",
    "presenceFrom",
    "presenceTo",
    "entryList",
    "codes",
    "nfcLearnResult",
    "loads",
    "zones",
    "entriesAndDefaultValue",
    "profiles",
    "windowStates",
    "activeAlarmText",
    "nextAlarmText",
    "resetActive",
    "stoppedBy",
    "controlInfo",
];

/// Global states whose values are text.
pub(super) const TEXT_GLOBALS: &[&str] = &[
    "notifications",
    "modifications",
    "miniserverTime",
    "favColors",
    "favColorSequences",
    "liveSearch",
    "userSettings",
    "pastTasks",
    "plannedTasks",
];

pub fn is_text_state(name: &str) -> bool {
    TEXT_STATES.contains(&name)
}

/// The initial value of a global state.
pub fn initial_global(name: &str, now: Now) -> StateValue {
    if TEXT_GLOBALS.contains(&name) {
        return StateValue::Text(match name {
            "miniserverTime" => miniserver_time(now.unix),
            "favColors" | "favColorSequences" | "pastTasks" | "plannedTasks" => "[]".into(),
            _ => String::new(),
        });
    }
    StateValue::Number(match name {
        "sunrise" => 23_400.0, // seconds since midnight (SF)
        "sunset" => 1_230.0,   // minutes since midnight (SF)
        "hasInternet" => 1.0,
        _ => 0.0,
    })
}

/// The initial value of state `name` of control `c`.
pub fn initial(c: &Control, name: &str, now: Now) -> StateValue {
    let s = seed(c);
    if is_text_state(name) {
        return StateValue::Text(match (c.kind.as_str(), name) {
            ("LightControllerV2", "activeMoods") => format!("[{MOOD_OFF}]"),
            ("LightControllerV2", "moodList") => mood_list(),
            ("LightControllerV2", "favoriteMoods") => "[777,1,2,778]".into(),
            ("LightControllerV2", "additionalMoods") => "[]".into(),
            ("LightControllerV2", "circuitNames") => "{}".into(),
            (_, "overrideEntries") => "[]".into(),
            ("Intercom", "version") => "12.4.5.2".into(),
            // SF "Irrigation" `zones`: id, name, duration in s.
            ("Irrigation", "zones") => json!([
                {"id": 0, "name": "Lawn", "duration": 600},
                {"id": 1, "name": "Beds", "duration": 300},
            ])
            .to_string(),
            ("Wallbox2", "session") => json!({"connect": now.unix as i64 - 3600, "disconnect": 0,
                "start": 0, "energy": 0.0, "power": 0.0, "user": "", "price": -1337})
            .to_string(),
            _ => String::new(),
        });
    }
    let v = match (c.kind.as_str(), name) {
        ("Dimmer" | "EIBDimmer", "max") => 100.0,
        ("Dimmer" | "EIBDimmer", "step") => 1.0,
        ("Jalousie", "autoAllowed" | "autoActive") => f64::from(u8::from(
            c.details()["isAutomatic"].as_bool().unwrap_or(false),
        )),
        ("Jalousie", "deviceState") => 2.0,
        ("IRoomControllerV2" | "IRoomController", "tempActual") => {
            19.5 + (3.0 * s * 10.0).round() / 10.0
        }
        ("IRoomControllerV2", "comfortTemperature") => 21.0 + (s * 2.0).round() / 2.0,
        ("IRoomControllerV2", "comfortTemperatureCool") => 24.0,
        ("IRoomControllerV2", "comfortTolerance") => 0.5,
        ("IRoomControllerV2", "absentMinOffset" | "absentMaxOffset") => 3.0,
        ("IRoomControllerV2", "frostProtectTemperature") => 6.0,
        ("IRoomControllerV2", "heatProtectTemperature") => 32.0,
        ("IRoomControllerV2", "activeMode") => 1.0,
        ("IRoomControllerV2", "operatingMode" | "currentMode") => 1.0,
        ("IRoomControllerV2", "actualOutdoorTemp") => 8.5,
        ("IRoomControllerV2", "averageOutdoorTemp") => 7.0,
        ("IRoomControllerV2", "capabilities") => 1.0,
        ("IRoomControllerV2", "humidityActual") => 40.0 + (10.0 * s).round(),
        ("IRoomControllerV2", "co2") => 550.0 + (200.0 * s).round(),
        ("IRoomControllerV2", "tempTarget") => 21.5,
        ("IRoomController", "tempTarget") => 21.5,
        ("AudioZoneV2" | "AudioZone", "serverState" | "clientState") => 2.0,
        ("AudioZoneV2" | "AudioZone", "volumeStep") => 3.0,
        ("AudioZoneV2" | "AudioZone", "volume") => 20.0,
        ("AudioZoneV2" | "AudioZone", "defaultVolume") => 25.0,
        ("AudioZoneV2" | "AudioZone", "maxVolume") => 100.0,
        ("AudioZoneV2" | "AudioZone", "alarmVolume") => 60.0,
        ("AudioZoneV2" | "AudioZone", "bellVolume" | "buzzerVolume") => 50.0,
        ("AudioZoneV2" | "AudioZone", "ttsVolume") => 40.0,
        ("AudioZone", "duration") => -1.0,
        ("Alarm", "armedDelayTotal") => ARM_DELAY_S,
        ("Wallbox2", "connected") => 1.0,
        ("Wallbox2", "mode") => 1.0,
        ("Wallbox2", "limit") => first_mode_limit(c).unwrap_or(4.2),
        ("Wallbox2", "pricePerHour" | "pricePerkWh") => -1337.0,
        ("Wallbox2", "total") => 1200.0 + (500.0 * s).round(),
        ("CarCharger", "status") => 2.0,
        ("CarCharger", "connected") => 1.0,
        ("CarCharger", "limitMode") => 1.0,
        ("CarCharger", "currentLimit") => 11.0,
        ("CarCharger", "minLimit") => 1.4,
        ("CarCharger", "maxLimit") => 22.0,
        ("CarCharger", "showLoadManagement") => 1.0,
        ("PresenceDetector", "time") => 300.0,
        ("Ventilation", "speed") => 30.0,
        ("Ventilation", "mode") => first_vent_mode(c).unwrap_or(1.0),
        ("Ventilation", "activeTimerProfile") => -2.0,
        ("Ventilation", "presence") => 1.0,
        ("Ventilation", "presenceMin") => 20.0,
        ("Ventilation", "presenceMax") => 100.0,
        ("Ventilation", "absenceMax") => 60.0,
        ("Ventilation", "humidityIndoor") => 45.0,
        ("Ventilation", "frostTemp") => -5.0,
        ("Sauna", "tempActual" | "tempBench") => super::appliances::SAUNA_COLD_C,
        ("Sauna", "tempTarget") => 80.0,
        ("Sauna", "doorClosed") => 1.0,
        ("Sauna", "timerTotal") => 900.0,
        ("Irrigation", "currentZone") => -1.0,
        ("Irrigation", "maxExpectedPrecipitation") => 5.0,
        ("InfoOnlyAnalog", "value") => (100.0 * s).round(),
        _ => 0.0,
    };
    StateValue::Number(v)
}

/// The first mode id a ventilation's `details.modes` lists.
fn first_vent_mode(c: &Control) -> Option<f64> {
    c.details()["modes"].as_array()?.first()?["id"].as_f64()
}

pub(super) fn first_mode_limit(c: &Control) -> Option<f64> {
    c.details()["modes"].as_array()?.first()?["value"].as_f64()
}

/// Derived states after loading (targets that depend on other states).
pub fn settle(h: &mut House, idx: usize, now: Now) {
    let kind = h.structure.controls[idx].kind.clone();
    match kind.as_str() {
        "IRoomControllerV2" => {
            let actual = h.num(idx, "tempActual");
            let comfort = h.num(idx, "comfortTemperature");
            let d = h.dyn_mut(idx);
            d.temp.get_or_insert(actual);
            if d.manual == 0.0 {
                d.manual = comfort;
            }
            recompute_target(h, idx);
        }
        "Dimmer" | "EIBDimmer" => {
            let max = h.num(idx, "max");
            let d = h.dyn_mut(idx);
            if d.last_on == 0.0 {
                d.last_on = if max > 0.0 { max } else { 100.0 };
            }
        }
        "LightControllerV2" => {
            let names: Value = h.structure.controls[idx]
                .children
                .iter()
                .filter_map(|&c| {
                    let sub = &h.structure.controls[c];
                    let suffix = sub.addr.suffix()?;
                    suffix
                        .starts_with("AI")
                        .then(|| (suffix.to_string(), json!(sub.name)))
                })
                .collect::<serde_json::Map<_, _>>()
                .into();
            h.set_text(idx, "circuitNames", names.to_string());
            let _ = now;
        }
        _ => {}
    }
}
