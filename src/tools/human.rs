//! States in human terms, next to the raw Loxone values (rule 7).
//!
//! Why: a raw Loxone state is on the Miniserver's scale, not the tools': a blind is commanded
//! 0–100 (% closed) and reads back 0–1, a gate's `position` runs the other way, an audio zone's
//! `playState` is a code. The model and the person should read a state on the scale the tools
//! take, in one convention: **a position is "% closed", 0 = open, 100 = closed**, for blinds,
//! windows and gates alike (`control_blind` takes the same scale). The raw values stay in the
//! result; this only adds the words, and picks the few states a person would name for
//! `list_devices` (`get_device` keeps every state).

/// The raw states `list_devices` shows for a Loxone type: the ones a person would name.
/// `None`: a type without a known set shows every state.
pub fn compact_states(ty: &str) -> Option<&'static [&'static str]> {
    Some(match ty {
        "Switch" | "Pushbutton" | "InfoOnlyDigital" | "PresenceDetector" => &["active"],
        "Dimmer" | "EIBDimmer" | "ColorPickerV2" => &["position"],
        "Jalousie" => &["position", "up", "down"],
        "Window" | "Gate" => &["position"],
        "IRoomControllerV2" | "IRoomController" => &[
            "tempActual",
            "tempTarget",
            "comfortTemperature",
            "humidityActual",
            "openWindow",
        ],
        "AudioZone" | "AudioZoneV2" => &["power", "playState", "volume"],
        "Alarm" => &["armed", "level"],
        "SmokeAlarm" => &["level"],
        "AalSmartAlarm" => &["alarmLevel"],
        "AalEmergency" => &["status"],
        "AlarmChain" => &["activeAlarmType"],
        "TimedSwitch" => &["deactivationDelay"],
        "WindowMonitor" => &["numOpen", "numTilted", "numUnlocked", "numOffline"],
        "Wallbox2" => &["active", "connected", "actual", "limit"],
        "Intercom" | "IntercomV2" => &["bell"],
        "LightControllerV2" => &["activeMoods"],
        "Ventilation" => &["speed", "ventReason", "activeTimerProfile"],
        "Sauna" => &[
            "active",
            "power",
            "tempActual",
            "tempTarget",
            "doorClosed",
            "error",
        ],
        "Irrigation" => &["currentZone", "rainActive"],
        _ => return None,
    })
}

fn pct(v: f64) -> String {
    format!("{} %", (v * 10.0).round() / 10.0)
}

/// A motor's `position` as % closed (0 = open, 100 = closed): a Jalousie's 1 is down (closed),
/// a window's or gate's 1 is open.
pub fn closed_pct(ty: &str, position: f64) -> Option<f64> {
    let p = position.clamp(0.0, 1.0) * 100.0;
    match ty {
        "Jalousie" => Some(p),
        "Window" | "Gate" => Some(100.0 - p),
        _ => None,
    }
}

fn yes_no(v: f64, yes: &str, no: &str) -> String {
    if v != 0.0 { yes } else { no }.to_owned()
}

/// One raw state in human terms (`None` where the raw value says it as well).
pub fn value(ty: &str, state: &str, v: f64) -> Option<String> {
    let climate = matches!(ty, "IRoomControllerV2" | "IRoomController");
    let audio = matches!(ty, "AudioZone" | "AudioZoneV2");
    Some(match (ty, state) {
        ("Switch" | "Pushbutton" | "InfoOnlyDigital", "active") => yes_no(v, "on", "off"),
        ("PresenceDetector", "active") => yes_no(v, "presence", "no presence"),
        ("Dimmer" | "EIBDimmer", "position") if v <= 0.0 => "off".into(),
        ("Dimmer" | "EIBDimmer", "position") => pct(v),
        ("Jalousie" | "Window" | "Gate", "position" | "targetPosition") => {
            format!("{} closed", pct(closed_pct(ty, v)?))
        }
        ("Jalousie", "up") => yes_no(v, "moving up", "not moving up"),
        ("Jalousie", "down") => yes_no(v, "moving down", "not moving down"),
        (_, s) if climate && (s.starts_with("temp") || s.contains("Temp")) => {
            format!("{:.1} °C", v)
        }
        (_, "humidityActual") if climate => pct(v),
        (_, "openWindow") if climate => yes_no(v, "window open", "windows closed"),
        (_, "power") if audio => yes_no(v, "on", "off"),
        (_, "playState") if audio => match v as i64 {
            0 => "stopped".into(),
            1 => "paused".into(),
            2 => "playing".into(),
            _ => return None,
        },
        (_, s) if audio && (s == "volume" || s.ends_with("Volume")) => pct(v),
        ("Alarm", "armed") => yes_no(v, "armed", "disarmed"),
        ("Alarm" | "SmokeAlarm", "level") if v == 0.0 => "no alarm".into(),
        ("Alarm" | "SmokeAlarm", "level") => format!("ALARM level {v}"),
        ("Wallbox2", "active") => yes_no(v, "charging", "not charging"),
        ("Wallbox2", "connected") => yes_no(v, "plugged in", "unplugged"),
        ("Wallbox2", "actual" | "limit") => format!("{} kW", (v * 100.0).round() / 100.0),
        ("Intercom" | "IntercomV2", "bell") => yes_no(v, "bell ringing", "bell quiet"),
        // SF "TimedSwitch": -1 permanently on, 0 off, else seconds until it goes off.
        ("TimedSwitch", "deactivationDelay") if v < 0.0 => "on".into(),
        ("TimedSwitch", "deactivationDelay") if v == 0.0 => "off".into(),
        ("TimedSwitch", "deactivationDelay") => format!("on, off in {} s", v.round()),
        // SF "AalSmartAlarm": 0 no alarm, 1 immediate, 2 delayed.
        ("AalSmartAlarm", "alarmLevel") => match v as i64 {
            0 => "no alarm".into(),
            1 => "ALARM (immediate)".into(),
            2 => "ALARM (delayed)".into(),
            _ => return None,
        },
        // SF "AalEmergency": 0 waiting for a button press, 1 triggered, 2 reset input, 3 disabled.
        ("AalEmergency", "status") => match v as i64 {
            0 => "ready".into(),
            1 => "ALARM triggered".into(),
            2 => "shut down by its reset input".into(),
            3 => "disabled for a while".into(),
            _ => return None,
        },
        // SF "AlarmChain": bitmap 1 acknowledged, 2 alarm, 4 urgent, 8 EMS.
        ("AlarmChain", "activeAlarmType") if v == 0.0 => "no alarm".into(),
        ("AlarmChain", "activeAlarmType") if (v as u32) & 14 == 0 => "acknowledged".into(),
        ("AlarmChain", "activeAlarmType") => "ALARM sequence running".into(),
        ("Ventilation", "speed") => pct(v),
        // SF "Ventilation" `ventReason`.
        ("Ventilation", "ventReason") => match v as i64 {
            0 => "basic ventilation".into(),
            1 => "increased ventilation".into(),
            4 => "stopped by the house's logic".into(),
            5 => "window open".into(),
            6 => "turbo".into(),
            7 => "manual timer".into(),
            8 => "exhaust".into(),
            9 => "fall-asleep mode".into(),
            10 => "frost protection".into(),
            _ => return None,
        },
        // SF: -1 manual, -2 no timer, -3 someone is changing settings, else a profile index.
        ("Ventilation", "activeTimerProfile") => match v as i64 {
            -1 => "manual timer running".into(),
            -2 => "automatic".into(),
            -3 => "being changed".into(),
            n => format!("timer profile {n}"),
        },
        ("Ventilation", s) if s.ends_with("Min") || s.ends_with("Max") => pct(v),
        ("Sauna", "active") => yes_no(v, "on", "off"),
        ("Sauna", "power") => yes_no(v, "heating", "not heating"),
        ("Sauna", s) if s.starts_with("temp") => format!("{:.1} °C", v),
        ("Sauna", "doorClosed") => yes_no(v, "door closed", "door open"),
        ("Sauna", "error") => yes_no(v, "ERROR", "no error"),
        ("Sauna", "timer" | "timerTotal") => format!("{} s", v.round()),
        // SF "Irrigation" `currentZone`: -1 off, 0.. zone 1.., 8 all active.
        ("Irrigation", "currentZone") => match v as i64 {
            -1 => "off".into(),
            8 => "all zones watering".into(),
            n if n >= 0 => format!("zone {} watering", n + 1),
            _ => return None,
        },
        ("Irrigation", "rainActive") => yes_no(v, "raining", "no rain"),
        ("WindowMonitor", "numOpen") => format!("{v} open"),
        ("WindowMonitor", "numTilted") => format!("{v} tilted"),
        ("WindowMonitor", "numUnlocked") => format!("{v} unlocked"),
        ("WindowMonitor", "numOffline") => format!("{v} offline"),
        _ => return None,
    })
}

/// A device's state in a few words, e.g. `30 % closed, moving down` or `19.5 °C, target
/// 21.0 °C`: the states of [`compact_states`] that `get` knows, in that order. `None` for a
/// type without words.
pub fn summary(ty: &str, get: impl Fn(&str) -> Option<f64>) -> Option<String> {
    let states = compact_states(ty)?;
    let mut parts: Vec<String> = Vec::new();
    for s in states {
        let Some(v) = get(s) else { continue };
        let Some(words) = value(ty, s, v) else {
            continue;
        };
        // Quiet parts (a blind not moving, a closed window) say nothing a person would name.
        if words.starts_with("not moving")
            || matches!(
                words.as_str(),
                "windows closed" | "no error" | "door closed" | "no rain" | "not heating"
            )
        {
            continue;
        }
        let label = match *s {
            "tempTarget" => "target ",
            "comfortTemperature" => "comfort ",
            "humidityActual" => "humidity ",
            "volume" => "volume ",
            "actual" => "at ",
            "limit" => "limit ",
            _ => "",
        };
        parts.push(format!("{label}{words}"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_reads_as_percent_closed_on_the_scale_control_blind_takes() {
        // A Jalousie's 1 is down; a window's and a gate's 1 is open.
        assert_eq!(value("Jalousie", "position", 0.5).unwrap(), "50 % closed");
        assert_eq!(value("Jalousie", "position", 1.0).unwrap(), "100 % closed");
        assert_eq!(value("Window", "position", 1.0).unwrap(), "0 % closed");
        assert_eq!(value("Gate", "position", 0.25).unwrap(), "75 % closed");
    }

    #[test]
    fn lights_temperatures_volumes_and_codes_read_in_words_with_units() {
        assert_eq!(value("Switch", "active", 1.0).unwrap(), "on");
        assert_eq!(value("Dimmer", "position", 40.0).unwrap(), "40 %");
        assert_eq!(value("Dimmer", "position", 0.0).unwrap(), "off");
        assert_eq!(
            value("IRoomControllerV2", "tempActual", 19.5).unwrap(),
            "19.5 °C"
        );
        assert_eq!(value("AudioZoneV2", "volume", 20.0).unwrap(), "20 %");
        assert_eq!(value("AudioZoneV2", "playState", 2.0).unwrap(), "playing");
        assert_eq!(value("Wallbox2", "limit", 4.2).unwrap(), "4.2 kW");
        assert!(value("Switch", "lockedOn", 0.0).is_none());
    }

    #[test]
    fn appliances_read_in_words() {
        assert_eq!(value("Ventilation", "speed", 40.0).unwrap(), "40 %");
        assert_eq!(
            value("Ventilation", "ventReason", 4.0).unwrap(),
            "stopped by the house's logic"
        );
        assert_eq!(
            value("Ventilation", "activeTimerProfile", -2.0).unwrap(),
            "automatic"
        );
        assert_eq!(value("Sauna", "tempActual", 78.26).unwrap(), "78.3 °C");
        assert_eq!(value("Sauna", "active", 1.0).unwrap(), "on");
        assert_eq!(value("Irrigation", "currentZone", -1.0).unwrap(), "off");
        assert_eq!(
            value("Irrigation", "currentZone", 1.0).unwrap(),
            "zone 2 watering"
        );
        let sauna = |s: &str| match s {
            "active" => Some(1.0),
            "power" => Some(1.0),
            "tempActual" => Some(60.0),
            "tempTarget" => Some(80.0),
            "doorClosed" => Some(1.0),
            "error" => Some(0.0),
            _ => None,
        };
        assert_eq!(
            summary("Sauna", sauna).unwrap(),
            "on, heating, 60.0 °C, target 80.0 °C"
        );
    }

    #[test]
    fn a_summary_names_the_few_states_a_person_would() {
        let blind = |s: &str| match s {
            "position" => Some(0.3),
            "down" => Some(1.0),
            "up" => Some(0.0),
            _ => None,
        };
        assert_eq!(
            summary("Jalousie", blind).unwrap(),
            "30 % closed, moving down"
        );
        let room = |s: &str| match s {
            "tempActual" => Some(19.5),
            "tempTarget" => Some(21.0),
            "openWindow" => Some(0.0),
            _ => None,
        };
        assert_eq!(
            summary("IRoomControllerV2", room).unwrap(),
            "19.5 °C, target 21.0 °C"
        );
        assert!(summary("CentralJalousie", |_| Some(1.0)).is_none());
    }

    #[test]
    fn life_safety_timed_switches_and_window_monitors_read_in_words() {
        assert_eq!(
            value("TimedSwitch", "deactivationDelay", -1.0).unwrap(),
            "on"
        );
        assert_eq!(
            value("TimedSwitch", "deactivationDelay", 0.0).unwrap(),
            "off"
        );
        assert_eq!(
            value("TimedSwitch", "deactivationDelay", 42.4).unwrap(),
            "on, off in 42 s"
        );
        assert_eq!(
            value("AalSmartAlarm", "alarmLevel", 2.0).unwrap(),
            "ALARM (delayed)"
        );
        assert_eq!(
            value("AalEmergency", "status", 1.0).unwrap(),
            "ALARM triggered"
        );
        assert_eq!(
            value("AlarmChain", "activeAlarmType", 1.0).unwrap(),
            "acknowledged"
        );
        assert_eq!(
            value("AlarmChain", "activeAlarmType", 4.0).unwrap(),
            "ALARM sequence running"
        );
        let monitor = |s: &str| match s {
            "numOpen" => Some(2.0),
            "numTilted" => Some(1.0),
            _ => None,
        };
        assert_eq!(
            summary("WindowMonitor", monitor).unwrap(),
            "2 open, 1 tilted"
        );
    }
}
