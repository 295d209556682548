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

/// Moods every LightControllerV2 gets (ids as in the openHAB fixture: 777 Bright, 778 Off).
const MOODS: &[(u32, &str, f64)] = &[
    (777, "Bright", 100.0),
    (1, "Evening", 35.0),
    (2, "Reading", 70.0),
    (778, "Off", 0.0),
];
const MOOD_OFF: u32 = 778;

/// State names whose values are text (JSON or plain), sent in text-event tables.
const TEXT_STATES: &[&str] = &[
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
];

/// Global states whose values are text.
const TEXT_GLOBALS: &[&str] = &[
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

fn mood_list() -> String {
    let list: Vec<Value> = MOODS
        .iter()
        .map(|(id, name, _)| {
            json!({"name": name, "shortName": name, "id": id, "t5": true,
                   "static": *id == 777 || *id == MOOD_OFF, "used": 0})
        })
        .collect();
    Value::Array(list).to_string()
}

fn miniserver_time(unix: f64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix as i64);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} +00:00:00")
}

/// `YYYYMMDDHHMMSS` (UTC), the bell-event stamp format.
pub fn bell_stamp(unix: f64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix as i64);
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
}

/// `YYYY-MM-DD HH:MM:SS` (UTC), the `lastModified` format.
pub fn last_modified_stamp(unix: f64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix as i64);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// Unix seconds → (year, month, day, hour, minute, second) UTC (H. Hinnant's civil_from_days).
fn civil(t: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        ((secs % 3600) / 60) as u32,
        (secs % 60) as u32,
    )
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
        ("InfoOnlyAnalog", "value") => (100.0 * s).round(),
        _ => 0.0,
    };
    StateValue::Number(v)
}

fn first_mode_limit(c: &Control) -> Option<f64> {
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

fn switch(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        ["on"] => h.set(idx, "active", 1.0),
        ["off"] => h.set(idx, "active", 0.0),
        _ => return 404,
    }
    200
}

fn pushbutton(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
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

fn timed_switch(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
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

fn dimmer(h: &mut House, idx: usize, cmd: &[&str], eib: bool) -> u16 {
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

fn active_moods(h: &House, idx: usize) -> Vec<u32> {
    serde_json::from_str(&h.text_of(idx, "activeMoods")).unwrap_or_default()
}

/// Sets the circuits of a light controller to the combined level of its active moods.
fn apply_moods(h: &mut House, idx: usize, moods: &[u32]) {
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

fn mood_id(arg: &str) -> Option<u32> {
    let id: u32 = arg.parse().ok()?;
    if id == 0 {
        return Some(MOOD_OFF); // SF: "The moodID 0 is always off"
    }
    MOODS.iter().any(|(m, _, _)| *m == id).then_some(id)
}

fn light_controller_v2(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
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

fn light_controller(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
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

fn start_move(h: &mut House, idx: usize, target: f64) {
    h.dyn_mut(idx).target = Some(target.clamp(0.0, 1.0));
    h.set(idx, "targetPosition", target.clamp(0.0, 1.0));
}

fn stop_move(h: &mut House, idx: usize) {
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

fn jalousie(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
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

fn gate(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        ["open"] | ["forceOpen"] => h.dyn_mut(idx).target = Some(1.0),
        ["close"] | ["forceClose"] => h.dyn_mut(idx).target = Some(0.0),
        ["partiallyOpen"] => h.dyn_mut(idx).target = Some(0.3),
        ["stop"] => stop_move(h, idx),
        _ => return 404,
    }
    200
}

fn window(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
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

/// `tempTarget` of a room controller from its mode (SF "Intelligent Room Controller v2").
fn recompute_target(h: &mut House, idx: usize) {
    let comfort = h.num(idx, "comfortTemperature") + h.num(idx, "comfortTemperatureOffset");
    let target = match h.num(idx, "activeMode") as i64 {
        0 => h.num(idx, "comfortTemperature") - h.num(idx, "absentMinOffset"),
        1 => comfort,
        2 | 4 => h.num(idx, "frostProtectTemperature"),
        3 => h.dyn_of(idx).map(|d| d.manual).unwrap_or(comfort),
        _ => comfort,
    };
    h.set(idx, "tempTarget", (target * 10.0).round() / 10.0);
}

fn room_controller(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    let t = num_arg(cmd.get(1));
    match (cmd, t) {
        (["setComfortTemperature", _], Some(t)) => {
            h.set(idx, "comfortTemperature", t);
            h.set(idx, "comfortTemperatureOffset", 0.0);
        }
        (["setComfortTemperatureCool", _], Some(t)) => h.set(idx, "comfortTemperatureCool", t),
        (["setComfortTolerance", _], Some(t)) if (0.5..=3.0).contains(&t) => {
            h.set(idx, "comfortTolerance", t)
        }
        (["setAbsentMinTemperature", _], Some(t)) => h.set(idx, "absentMinOffset", t),
        (["setAbsentMaxTemperature", _], Some(t)) => h.set(idx, "absentMaxOffset", t),
        (["setManualTemperature", _], Some(t)) => h.dyn_mut(idx).manual = t,
        (["setComfortModeTemp", _], Some(t)) => {
            let comfort = h.num(idx, "comfortTemperature");
            h.set(idx, "comfortTemperatureOffset", t - comfort);
        }
        (["setOperatingMode", _], Some(m)) if (-1.0..=5.0).contains(&m) && m.fract() == 0.0 => {
            h.set(idx, "operatingMode", m);
            h.set(idx, "currentMode", m);
        }
        (["override", _, rest @ ..], Some(mode))
            if (0.0..=4.0).contains(&mode) && mode.fract() == 0.0 =>
        {
            let until = num_arg(rest.first()).unwrap_or(0.0);
            if let Some(temp) = num_arg(rest.get(1)) {
                h.dyn_mut(idx).manual = temp;
            }
            let reason = match mode as i64 {
                1 => 3,
                0 => 4,
                _ => 8,
            };
            h.set(idx, "activeMode", mode);
            h.set(idx, "overrideReason", f64::from(reason));
            h.set_text(
                idx,
                "overrideEntries",
                json!([{"start": now.secs_2009() as i64, "end": until as i64, "reason": reason,
                        "source": null, "isTimer": true}])
                .to_string(),
            );
        }
        (["stopOverride"], _) => {
            h.set(idx, "activeMode", 1.0);
            h.set(idx, "overrideReason", 0.0);
            h.set_text(idx, "overrideEntries", "[]");
        }
        (["activatePresenceSchedule"], _) => {}
        (
            [
                "setComfortTemperature"
                | "setComfortTemperatureCool"
                | "setComfortTolerance"
                | "setAbsentMinTemperature"
                | "setAbsentMaxTemperature"
                | "setManualTemperature"
                | "setComfortModeTemp"
                | "setOperatingMode"
                | "override",
                ..,
            ],
            _,
        ) => return 400,
        _ => return 404,
    }
    recompute_target(h, idx);
    200
}

fn volume_set(h: &mut House, idx: usize, v: f64) {
    let max = if h.has(idx, "maxVolume") && h.num(idx, "maxVolume") > 0.0 {
        h.num(idx, "maxVolume")
    } else {
        100.0
    };
    h.set(idx, "volume", v.clamp(0.0, max).round());
}

fn audio_v2(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    let step = h.num(idx, "volumeStep").max(1.0);
    let vol = h.num(idx, "volume");
    match cmd {
        ["play"] | ["playZoneFav", _] => {
            h.set(idx, "power", 1.0);
            h.set(idx, "playState", 2.0);
        }
        ["Pause"] => h.set(idx, "playState", 1.0),
        ["volume", v] => match percent_arg(Some(v)) {
            Some(v) => volume_set(h, idx, v),
            None => return 400,
        },
        ["volUp"] => volume_set(h, idx, vol + step),
        ["volDown"] => volume_set(h, idx, vol - step),
        ["next"] | ["prev"] | ["tts", ..] | ["resetbluetoothpairings"] => {}
        ["bluetooth", b @ ("0" | "1")] => {
            h.set(idx, "bluetooth", if *b == "1" { 1.0 } else { 0.0 })
        }
        ["presence", "on" | "off"] => {}
        _ => return 404,
    }
    200
}

fn audio_v1(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    let vol = h.num(idx, "volume");
    match cmd {
        ["play"] | ["on"] => {
            h.set(idx, "power", 1.0);
            h.set(idx, "playState", 2.0);
        }
        ["pause"] => h.set(idx, "playState", 1.0),
        ["off"] => {
            h.set(idx, "power", 0.0);
            h.set(idx, "playState", 0.0);
        }
        ["volume", v] => match percent_arg(Some(v)) {
            Some(v) => volume_set(h, idx, v),
            None => return 400,
        },
        ["volstep", s] => match num_arg(Some(s)) {
            Some(s) => volume_set(h, idx, vol + s),
            None => return 400,
        },
        ["next"] | ["prev"] | ["shuffle"] | ["progress", _] | ["source", _] => {}
        ["repeat", r @ ("0" | "1" | "3")] => h.set(idx, "repeat", r.parse().unwrap_or(0.0)),
        _ => return 404,
    }
    200
}

fn alarm(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    let movement = |m: &str| match m {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    };
    let arm = |h: &mut House, mv: bool| {
        h.dyn_mut(idx).timer = None;
        h.set(idx, "armed", 1.0);
        h.set(idx, "disabledMove", if mv { 0.0 } else { 1.0 });
        h.set(idx, "armedAt", now.unix.floor());
        h.set(idx, "armedDelay", 0.0);
    };
    match cmd {
        ["on"] => arm(h, true),
        ["on", m] => match movement(m) {
            Some(mv) => arm(h, mv),
            None => return 400,
        },
        ["delayedon"] | ["delayedon", _] => {
            let mv = match cmd.get(1) {
                None => true,
                Some(m) => match movement(m) {
                    Some(mv) => mv,
                    None => return 400,
                },
            };
            let delay = h.num(idx, "armedDelayTotal").max(1.0);
            h.set(idx, "disabledMove", if mv { 0.0 } else { 1.0 });
            h.set(idx, "armedDelay", delay);
            h.set(idx, "armedAt", (now.unix + delay).floor());
            h.dyn_mut(idx).timer = Some((now.sim + delay, Timer::Arm));
        }
        ["off"] => {
            h.dyn_mut(idx).timer = None;
            for s in [
                "armed",
                "level",
                "nextLevel",
                "nextLevelAt",
                "nextLevelDelay",
                "armedAt",
                "armedDelay",
                "startTime",
            ] {
                h.set(idx, s, 0.0);
            }
        }
        ["quit"] => {
            for s in [
                "level",
                "nextLevel",
                "nextLevelAt",
                "nextLevelDelay",
                "startTime",
            ] {
                h.set(idx, s, 0.0);
            }
        }
        ["dismv", m] => match movement(m) {
            Some(enable) => h.set(idx, "disabledMove", if enable { 0.0 } else { 1.0 }),
            None => return 400,
        },
        _ => return 404,
    }
    200
}

fn smoke_alarm(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    match cmd {
        ["mute"] => {
            h.set(idx, "acousticAlarm", 0.0);
            h.set(idx, "areAlarmSignalsOff", 1.0);
        }
        ["confirm"] => {
            for s in [
                "level",
                "nextLevel",
                "acousticAlarm",
                "alarmCause",
                "startTime",
                "areAlarmSignalsOff",
                "testAlarm",
            ] {
                h.set(idx, s, 0.0);
            }
        }
        ["servicemode", n] => match n.parse::<u32>() {
            Ok(0) => h.set(idx, "timeServiceMode", 0.0),
            Ok(1) => h.set(idx, "timeServiceMode", 99_999.0),
            Ok(s) => h.set(idx, "timeServiceMode", f64::from(s)),
            Err(_) => return 400,
        },
        ["startDrill"] => {
            h.set(idx, "testAlarm", 1.0);
            h.dyn_mut(idx).timer = Some((now.sim + DRILL_S, Timer::DrillOff));
        }
        _ => return 404,
    }
    200
}

/// Fault knob: the smoke alarm goes into main alarm (level 2) for smoke.
pub fn trigger_smoke(h: &mut House, idx: usize, now: Now) {
    h.set(idx, "level", 2.0);
    h.set(idx, "alarmCause", 1.0);
    h.set(idx, "startTime", now.unix.floor());
    h.set(idx, "areAlarmSignalsOff", 0.0);
    let acoustic = h.structure.controls[idx].details()["hasAcousticAlarm"]
        .as_bool()
        .unwrap_or(true);
    h.set(idx, "acousticAlarm", if acoustic { 1.0 } else { 0.0 });
    h.set_text(idx, "sensors", "Hall smoke detector");
}

/// Fault knob: somebody rings at the door.
pub fn ring_bell(h: &mut House, idx: usize, now: Now) {
    let stamp = bell_stamp(now.unix);
    let mut events = h.text_of(idx, "lastBellEvents");
    if !events.is_empty() {
        events.push('|');
    }
    events.push_str(&stamp);
    h.set(idx, "bell", 1.0);
    h.set_text(idx, "lastBellTimestamp", stamp);
    h.set_text(idx, "lastBellEvents", events);
    h.dyn_mut(idx).timer = Some((now.sim + BELL_S, Timer::BellOff));
}

fn intercom(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        ["answer"] => {
            h.set(idx, "bell", 0.0);
            h.dyn_mut(idx).timer = None;
        }
        _ => return 404,
    }
    200
}

fn intercom_v2(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        ["answer"] => h.set(idx, "bell", 0.0),
        ["mute", m @ ("0" | "1")] => h.set(idx, "muted", if *m == "1" { 1.0 } else { 0.0 }),
        ["playTts", _] => {}
        _ => return 404,
    }
    200
}

fn wallbox(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
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

fn car_charger(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
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

fn presence(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    match cmd {
        ["time", v] => match num_arg(Some(v)) {
            Some(v) if v >= 0.0 => h.set(idx, "time", v),
            _ => return 400,
        },
        [v] => match num_arg(Some(v)) {
            Some(v) => {
                let on = v != 0.0;
                if on && h.num(idx, "active") == 0.0 {
                    h.set(idx, "activeSince", now.secs_2009().floor());
                }
                h.set(idx, "active", if on { 1.0 } else { 0.0 });
            }
            None => return 404,
        },
        _ => return 404,
    }
    200
}

fn analog_input(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        [v] => match num_arg(Some(v)) {
            Some(v) => h.set(idx, "value", v),
            None => return 404,
        },
        _ => return 404,
    }
    200
}

fn radio(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        ["reset"] => h.set(idx, "activeOutput", 0.0),
        ["next"] | ["prev"] => {}
        [n] => match n.parse::<u8>() {
            Ok(n @ 1..=16) => h.set(idx, "activeOutput", f64::from(n)),
            _ => return 400,
        },
        _ => return 404,
    }
    200
}

/// The controls a central object lists in `details.controls` (indexes into the structure).
fn central_members(h: &House, idx: usize, ids: Option<&[u32]>) -> Vec<usize> {
    let d = h.structure.controls[idx].details();
    let Some(list) = d["controls"].as_array() else {
        return Vec::new();
    };
    list.iter()
        .filter(|e| {
            ids.is_none_or(|ids| {
                e["id"]
                    .as_u64()
                    .is_some_and(|id| ids.contains(&(id as u32)))
            })
        })
        .filter_map(|e| e["uuid"].as_str())
        .filter_map(|u| crate::loxone::uuid::ControlAddr::parse(u).ok())
        .filter_map(|a| h.structure.index_of(&a))
        .collect()
}

/// Central objects (SF "Central Objects"): the command goes to each listed control;
/// `selectedcontrols/{ids}/{cmd}` to a subset.
fn central(h: &mut House, idx: usize, cmd: &[&str], words: &[&str], now: Now) -> u16 {
    let (members, inner): (Vec<usize>, &[&str]) = match cmd {
        ["selectedcontrols", ids, rest @ ..] => {
            let ids: Option<Vec<u32>> = ids.split(',').map(|i| i.parse().ok()).collect();
            match ids {
                Some(ids) => (central_members(h, idx, Some(&ids)), rest),
                None => return 400,
            }
        }
        _ => (central_members(h, idx, None), cmd),
    };
    let is_lc = h.structure.controls[idx].kind == "CentralLightController";
    match inner {
        [w] if words.contains(w) => {}
        ["setMoods", _] if is_lc => return 200,
        _ => return 404,
    }
    for m in members {
        let sub: Vec<&str> = if is_lc {
            match inner[0] {
                "on" => vec!["changeTo", "777"],
                _ => vec!["changeTo", "0"],
            }
        } else {
            inner.to_vec()
        };
        command(h, m, &sub, now);
    }
    200
}

fn central_audio(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    let members = central_members(h, idx, None);
    let sub: &[&str] = match cmd {
        ["play"] => &["play"],
        ["pause"] => &["pause"],
        ["volup"] => &["volstep", "3"],
        ["voldown"] => &["volstep", "-3"],
        _ => return 404,
    };
    for m in members {
        let s: Vec<&str> = if h.structure.controls[m].kind == "AudioZoneV2" {
            match sub[0] {
                "pause" => vec!["Pause"],
                "volstep" if sub[1] == "3" => vec!["volUp"],
                "volstep" => vec!["volDown"],
                _ => sub.to_vec(),
            }
        } else {
            sub.to_vec()
        };
        command(h, m, &s, now);
    }
    200
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loxone::uuid::ControlAddr;

    use crate::sim::DEMO_HOUSE as DEMO;

    fn now(sim: f64) -> Now {
        Now {
            sim,
            unix: 1_750_000_000.0 + sim,
        }
    }

    fn house() -> House {
        House::load(DEMO, now(0.0)).unwrap()
    }

    fn find(h: &House, name: &str) -> usize {
        h.structure
            .controls
            .iter()
            .position(|c| c.name == name)
            .unwrap_or_else(|| panic!("no control {name}"))
    }

    #[test]
    fn a_blind_takes_a_minute_from_top_to_bottom_and_reports_down_while_moving() {
        let mut h = house();
        let b = find(&h, "Kitchen Blind");
        assert_eq!(h.command(b, &["FullDown"], now(0.0)).code, 200);
        h.tick(now(30.0));
        assert!((h.num(b, "position") - 0.5).abs() < 1e-9);
        assert_eq!(h.num(b, "down"), 1.0);
        assert_eq!(h.num(b, "targetPosition"), 1.0);
        h.tick(now(61.0));
        assert_eq!(h.num(b, "position"), 1.0);
        assert_eq!(h.num(b, "down"), 0.0);
    }

    #[test]
    fn manual_position_accepts_0_to_100_only() {
        let mut h = house();
        let b = find(&h, "Bedroom Blind");
        assert_eq!(h.command(b, &["manualPosition", "40"], now(0.0)).code, 200);
        h.tick(now(100.0));
        assert!((h.num(b, "position") - 0.4).abs() < 1e-9);
        assert_eq!(
            h.command(b, &["manualPosition", "101"], now(101.0)).code,
            400
        );
        assert_eq!(h.command(b, &["manualPosition", "x"], now(101.0)).code, 400);
        assert_eq!(
            h.command(b, &["fullup"], now(101.0)).code,
            404,
            "SF spelling only"
        );
    }

    #[test]
    fn the_central_jalousie_moves_every_listed_blind() {
        let mut h = house();
        let c = find(&h, "All Blinds");
        assert_eq!(h.command(c, &["FullDown"], now(0.0)).code, 200);
        h.tick(now(60.0));
        for name in ["Living Room Blind West", "Kitchen Blind", "Nursery Blind"] {
            assert_eq!(h.num(find(&h, name), "position"), 1.0, "{name}");
        }
        assert_eq!(
            h.command(c, &["selectedcontrols", "2", "FullUp"], now(60.0))
                .code,
            200
        );
        h.tick(now(120.0));
        assert_eq!(h.num(find(&h, "Kitchen Blind"), "position"), 0.0);
        assert_eq!(h.num(find(&h, "Bedroom Blind"), "position"), 1.0);
    }

    #[test]
    fn a_gate_opens_in_twenty_seconds_and_reports_its_direction() {
        let mut h = house();
        let g = find(&h, "Garage Door");
        h.command(g, &["open"], now(0.0));
        h.tick(now(10.0));
        assert_eq!(h.num(g, "active"), 1.0);
        assert!((h.num(g, "position") - 0.5).abs() < 1e-9);
        h.tick(now(25.0));
        assert_eq!(h.num(g, "position"), 1.0);
        assert_eq!(h.num(g, "active"), 0.0);
        h.command(g, &["close"], now(25.0));
        h.tick(now(30.0));
        assert_eq!(h.num(g, "active"), -1.0);
    }

    #[test]
    fn rooms_drift_toward_a_new_comfort_temperature() {
        let mut h = house();
        let r = find(&h, "Nursery Climate");
        let before = h.num(r, "tempActual");
        assert_eq!(
            h.command(r, &["setComfortTemperature", "24.5"], now(0.0))
                .code,
            200
        );
        assert_eq!(h.num(r, "tempTarget"), 24.5);
        h.tick(now(3600.0));
        let after = h.num(r, "tempActual");
        assert!(after > before && after < 24.5, "{before} → {after}");
        assert_eq!(
            h.command(r, &["setComfortTolerance", "5"], now(3600.0))
                .code,
            400
        );
        assert_eq!(h.command(r, &["override", "2"], now(3600.0)).code, 200);
        assert_eq!(h.num(r, "tempTarget"), 6.0, "building protection");
        assert_eq!(h.command(r, &["stopOverride"], now(3601.0)).code, 200);
        assert_eq!(h.num(r, "activeMode"), 1.0);
        assert_eq!(h.command(r, &["on"], now(3601.0)).code, 404);
    }

    #[test]
    fn light_moods_switch_circuits_and_show_in_active_moods() {
        let mut h = house();
        let lc = find(&h, "Living Room Lighting");
        let ceiling = h
            .structure
            .index_of(
                &ControlAddr::parse(&format!("{}/AI1", h.structure.controls[lc].addr)).unwrap(),
            )
            .unwrap();
        assert_eq!(h.text_of(lc, "activeMoods"), "[778]");
        assert_eq!(h.command(lc, &["changeTo", "777"], now(0.0)).code, 200);
        assert_eq!(h.text_of(lc, "activeMoods"), "[777]");
        assert_eq!(h.num(ceiling, "position"), 100.0);
        assert_eq!(h.command(lc, &["changeTo", "0"], now(1.0)).code, 200);
        assert_eq!(h.text_of(lc, "activeMoods"), "[778]");
        assert_eq!(h.num(ceiling, "position"), 0.0);
        assert_eq!(h.command(lc, &["changeTo", "4242"], now(1.0)).code, 400);
        assert_eq!(
            h.command(lc, &["on"], now(1.0)).code,
            404,
            "LCv2 has no on (SF)"
        );
        assert!(h.text_of(lc, "moodList").contains("\"Off\""));
        assert!(h.text_of(lc, "circuitNames").contains("Floor lamp"));
    }

    #[test]
    fn a_dimmer_remembers_its_last_position() {
        let mut h = house();
        let d = find(&h, "Kitchen Ceiling");
        assert_eq!(h.command(d, &["55"], now(0.0)).code, 200);
        assert_eq!(h.command(d, &["off"], now(1.0)).code, 200);
        assert_eq!(h.num(d, "position"), 0.0);
        assert_eq!(h.command(d, &["on"], now(2.0)).value, "55.000");
        assert_eq!(
            h.command(d, &["On"], now(2.0)).code,
            404,
            "Dimmer takes SF spelling"
        );
    }

    #[test]
    fn the_alarm_arms_disarms_and_arms_after_its_delay() {
        let mut h = house();
        let a = find(&h, "Burglar Alarm");
        assert_eq!(h.command(a, &["on", "1"], now(0.0)).code, 200);
        assert_eq!(h.num(a, "armed"), 1.0);
        assert_eq!(h.num(a, "disabledMove"), 0.0);
        assert_eq!(h.command(a, &["off"], now(1.0)).code, 200);
        assert_eq!(h.num(a, "armed"), 0.0);
        assert_eq!(h.command(a, &["delayedon", "0"], now(2.0)).code, 200);
        assert_eq!(h.num(a, "armed"), 0.0);
        assert_eq!(h.num(a, "armedDelay"), 30.0);
        h.tick(now(33.0));
        assert_eq!(h.num(a, "armed"), 1.0);
        assert_eq!(h.num(a, "disabledMove"), 1.0);
        assert_eq!(h.command(a, &["on", "2"], now(34.0)).code, 400);
        assert_eq!(h.command(a, &["arm"], now(34.0)).code, 404);
    }

    #[test]
    fn the_smoke_alarm_triggers_and_is_confirmed() {
        let mut h = house();
        let s = find(&h, "Fire and Water Alarm");
        trigger_smoke(&mut h, s, now(0.0));
        assert_eq!(h.num(s, "level"), 2.0);
        assert_eq!(h.num(s, "alarmCause"), 1.0);
        assert_eq!(h.command(s, &["mute"], now(1.0)).code, 200);
        assert_eq!(h.num(s, "acousticAlarm"), 0.0);
        assert_eq!(h.command(s, &["confirm"], now(2.0)).code, 200);
        assert_eq!(h.num(s, "level"), 0.0);
    }

    #[test]
    fn the_bell_rings_until_answered_and_the_door_opener_pulses() {
        let mut h = house();
        let i = find(&h, "Front Door");
        ring_bell(&mut h, i, now(0.0));
        assert_eq!(h.num(i, "bell"), 1.0);
        assert_eq!(h.text_of(i, "lastBellTimestamp").len(), 14);
        assert_eq!(h.command(i, &["answer"], now(1.0)).code, 200);
        assert_eq!(h.num(i, "bell"), 0.0);
        let opener = find(&h, "Door opener");
        assert_eq!(h.command(opener, &["pulse"], now(2.0)).code, 200);
        assert_eq!(h.num(opener, "active"), 1.0);
        h.tick(now(3.0));
        assert_eq!(h.num(opener, "active"), 0.0);
    }

    #[test]
    fn the_wallbox_charges_at_its_manual_limit() {
        let mut h = house();
        let w = find(&h, "Wallbox");
        assert_eq!(h.command(w, &["manualLimit", "7.4"], now(0.0)).code, 200);
        assert_eq!(h.num(w, "mode"), 99.0);
        assert_eq!(h.command(w, &["allow", "on"], now(0.0)).code, 200);
        assert_eq!(h.num(w, "active"), 1.0);
        assert_eq!(h.num(w, "actual"), 7.4);
        let total = h.num(w, "total");
        h.tick(now(3600.0));
        assert!((h.num(w, "total") - total - 7.4).abs() < 0.02);
        assert_eq!(
            h.command(w, &["manualLimit", "50"], now(3600.0)).value,
            "1.000"
        );
        assert_eq!(h.num(w, "limit"), 11.0, "clamped to details.max");
        assert_eq!(h.command(w, &["setmode", "7"], now(3600.0)).code, 400);
    }

    #[test]
    fn audio_volume_and_play_state_follow_commands() {
        let mut h = house();
        let a = find(&h, "Living Room Music");
        assert_eq!(h.command(a, &["play"], now(0.0)).code, 200);
        assert_eq!(h.num(a, "playState"), 2.0);
        assert_eq!(h.command(a, &["volume", "35"], now(0.0)).value, "35.000");
        assert_eq!(h.command(a, &["volUp"], now(0.0)).value, "38.000");
        assert_eq!(h.command(a, &["Pause"], now(0.0)).code, 200);
        assert_eq!(h.num(a, "playState"), 1.0);
        assert_eq!(
            h.command(a, &["pause"], now(0.0)).code,
            404,
            "V2 is `Pause` (SF)"
        );
    }

    #[test]
    fn switches_take_on_and_off_only() {
        let mut h = house();
        let s = find(&h, "Garden socket");
        assert_eq!(h.command(s, &["on"], now(0.0)).code, 200);
        assert_eq!(h.num(s, "active"), 1.0);
        assert_eq!(h.command(s, &["toggle"], now(0.0)).code, 404);
        assert_eq!(h.command(s, &["pulse"], now(0.0)).code, 404);
    }

    #[test]
    fn dates_are_formatted_in_utc() {
        assert_eq!(last_modified_stamp(0.0), "1970-01-01 00:00:00");
        assert_eq!(bell_stamp(1_230_768_000.0), "20090101000000");
        assert_eq!(last_modified_stamp(1_709_210_096.0), "2024-02-29 12:34:56");
    }

    /// One control of each type the client's vocabulary (`loxone::command::Op`) addresses.
    fn vocabulary_house() -> House {
        let types = [
            ("Switch", vec!["active"]),
            ("Pushbutton", vec!["active"]),
            ("Dimmer", vec!["position", "min", "max", "step"]),
            ("EIBDimmer", vec!["position"]),
            ("LightControllerV2", vec!["activeMoods", "moodList"]),
            ("LightController", vec!["activeScene", "sceneList"]),
            ("CentralLightController", vec![]),
            (
                "Jalousie",
                vec!["up", "down", "position", "targetPosition", "shadePosition"],
            ),
            ("CentralJalousie", vec![]),
            ("Gate", vec!["position", "active"]),
            ("CentralGate", vec![]),
            ("Window", vec!["position", "direction"]),
            (
                "IRoomControllerV2",
                vec![
                    "tempActual",
                    "tempTarget",
                    "comfortTemperature",
                    "activeMode",
                ],
            ),
            ("AudioZone", vec!["playState", "volume", "power"]),
            (
                "AudioZoneV2",
                vec!["playState", "volume", "power", "volumeStep"],
            ),
            (
                "Wallbox2",
                vec!["connected", "enabled", "active", "mode", "limit", "actual"],
            ),
            (
                "CarCharger",
                vec![
                    "charging",
                    "connected",
                    "currentLimit",
                    "minLimit",
                    "maxLimit",
                    "power",
                ],
            ),
            (
                "Alarm",
                vec![
                    "armed",
                    "level",
                    "disabledMove",
                    "armedDelay",
                    "armedDelayTotal",
                ],
            ),
            ("Intercom", vec!["bell"]),
            ("NfcCodeTouch", vec!["historyDate"]),
        ];
        let mut controls = serde_json::Map::new();
        for (n, (kind, states)) in types.iter().enumerate() {
            let uuid = format!("2a000000-0000-{n:04x}-ffff504f94a00009");
            let st: serde_json::Map<String, Value> = states
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    (
                        s.to_string(),
                        json!(format!("2b0000{n:02x}-0000-{k:04x}-ffff504f94a00009")),
                    )
                })
                .collect();
            controls.insert(
                uuid.clone(),
                json!({"name": kind, "type": kind, "uuidAction": uuid,
                "defaultRating": 0, "isSecured": false, "states": st}),
            );
        }
        let doc = json!({"lastModified": "2025-01-01 00:00:00", "controls": controls});
        House::load(doc.to_string().as_bytes(), now(0.0)).unwrap()
    }

    #[test]
    fn every_command_of_the_client_vocabulary_is_understood_by_its_control_type() {
        use crate::loxone::command::{Op, Percent, Tenths};
        let p = |v| Percent::new(v).unwrap();
        let t = |v| Tenths::from_f64(v).unwrap();
        let table: &[(&str, Op)] = &[
            ("Switch", Op::On),
            ("Switch", Op::Off),
            ("Pushbutton", Op::Pulse),
            ("Pushbutton", Op::On),
            ("Pushbutton", Op::Off),
            ("Dimmer", Op::On),
            ("Dimmer", Op::Off),
            ("Dimmer", Op::DimTo(p(40))),
            ("EIBDimmer", Op::DimTo(p(40))),
            ("LightControllerV2", Op::ChangeTo(778)),
            ("LightControllerV2", Op::ChangeTo(777)),
            ("LightControllerV2", Op::Plus),
            ("LightControllerV2", Op::Minus),
            ("LightController", Op::On),
            ("LightController", Op::Off),
            ("LightController", Op::Scene(3)),
            ("LightController", Op::Plus),
            ("LightController", Op::Minus),
            ("CentralLightController", Op::On),
            ("Jalousie", Op::FullUp),
            ("Jalousie", Op::FullDown),
            ("Jalousie", Op::Stop),
            ("Jalousie", Op::Shade),
            ("Jalousie", Op::ManualPosition(p(30))),
            ("CentralJalousie", Op::FullUp),
            ("CentralJalousie", Op::FullDown),
            ("CentralJalousie", Op::Stop),
            ("CentralJalousie", Op::Shade),
            ("Gate", Op::Open),
            ("Gate", Op::Close),
            ("Gate", Op::Stop),
            ("CentralGate", Op::Open),
            ("CentralGate", Op::Close),
            ("CentralGate", Op::Stop),
            ("Window", Op::FullOpen),
            ("Window", Op::FullClose),
            ("Window", Op::Stop),
            ("Window", Op::MoveToPosition(p(50))),
            ("IRoomControllerV2", Op::SetComfortTemperature(t(21.5))),
            ("AudioZone", Op::Play),
            ("AudioZone", Op::Pause),
            ("AudioZone", Op::Volume(p(20))),
            ("AudioZone", Op::Next),
            ("AudioZone", Op::Prev),
            ("AudioZoneV2", Op::Play),
            ("AudioZoneV2", Op::PauseV2),
            ("AudioZoneV2", Op::Volume(p(20))),
            ("AudioZoneV2", Op::Next),
            ("AudioZoneV2", Op::Prev),
            ("Wallbox2", Op::AllowOn),
            ("Wallbox2", Op::AllowOff),
            ("Wallbox2", Op::ManualLimit(t(7.4))),
            ("CarCharger", Op::ChargeOn),
            ("CarCharger", Op::ChargeOff),
            ("CarCharger", Op::Limit(t(11.0))),
            ("Alarm", Op::Arm { movement: true }),
            ("Alarm", Op::Arm { movement: false }),
            ("Alarm", Op::ArmDelayed { movement: true }),
            ("Alarm", Op::Disarm),
            ("Alarm", Op::Quit),
            ("Intercom", Op::Answer),
            ("NfcCodeTouch", Op::Output(1)),
        ];
        let mut h = vocabulary_house();
        for (kind, op) in table {
            let i = find(&h, kind);
            let text = op.to_string();
            let segs: Vec<&str> = text.split('/').collect();
            assert_eq!(h.command(i, &segs, now(1.0)).code, 200, "{kind} {text}");
        }
        // And the pairings SF does not have are refused.
        for (kind, op) in [
            ("LightControllerV2", Op::On),
            ("AudioZoneV2", Op::Pause),
            ("AudioZone", Op::PauseV2),
            ("CentralJalousie", Op::ManualPosition(p(3))),
            ("Switch", Op::Pulse),
            ("Gate", Op::FullUp),
        ] {
            let i = find(&h, kind);
            let text = op.to_string();
            let segs: Vec<&str> = text.split('/').collect();
            assert_eq!(h.command(i, &segs, now(2.0)).code, 404, "{kind} {text}");
        }
    }
}
