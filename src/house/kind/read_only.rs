//! The rules that make a type read-only for the AI: life safety, the central alarm, climate
//! blocks without a command set, inputs whose purpose cannot be told, the house's programme,
//! plant, energy management, sensors, and the fallback for types newer than the document. Each
//! names its hazard; a test sits under each.

use super::*;

/// Climate the AI reads but does not set (SF "Intelligent Room Controller" v1,
/// "ClimateController", "ClimateControllerUS", "ACControl", "Heatmixer"): their setpoints,
/// modes and plant outputs are not mapped to the SC-2 bands, and a heating circuit's flow
/// temperature is not a room's comfort (L-1, L-5). Until a command set with its rules exists,
/// read-only. (Ventilation has its rules: `APPLIANCE`.)
pub const CLIMATE_READ_ONLY: KindRule = KindRule {
    name: "climate-read-only",
    types: &[
        "IRoomController",
        "ClimateController",
        "ClimateControllerUS",
        "ACControl",
        "Heatmixer",
    ],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Climate,
    read_only: Some(
        "loxwarden sets temperatures only through an Intelligent Room Controller v2; this \
         climate block is read-only",
    ),
};
#[test]
fn other_climate_blocks_are_read_only_climate() {
    for t in [
        "IRoomController",
        "ClimateController",
        "ClimateControllerUS",
        "ACControl",
        "Heatmixer",
    ] {
        let (k, ro) = classify(&shape(t, None, None));
        assert_eq!(k, Kind::Climate, "{t}");
        assert!(ro.is_some(), "{t}");
    }
}

/// Smoke, fire and water alarms are life safety: never muted, confirmed or put in service mode
/// by an AI (issue 6 "Posture"; SF suggestion in loxone-api §5.4).
pub const SMOKE_ALARM: KindRule = KindRule {
    name: "smoke-alarm",
    types: &["SmokeAlarm"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Alarm,
    read_only: Some("smoke alarms are never muted, confirmed or serviced by the AI"),
};
#[test]
fn a_smoke_alarm_is_an_alarm_the_ai_can_never_actuate() {
    let (k, ro) = classify(&shape("SmokeAlarm", None, None));
    assert_eq!(k, Kind::Alarm);
    assert!(ro.is_some());
}

/// The other life-safety blocks (SF "AalSmartAlarm", "AalEmergency", "AlarmChain"): an
/// emergency button, a fall or inactivity alarm, an escalating alarm sequence. Muting,
/// confirming, quitting, disabling or triggering one from an AI could leave a person without
/// help or send help for nothing (L-1, L-7), so the AI only reads them; they count in the
/// emergency posture like the smoke alarm (`safety::posture`).
pub const LIFE_SAFETY: KindRule = KindRule {
    name: "life-safety",
    types: &["AalSmartAlarm", "AalEmergency", "AlarmChain"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Alarm,
    read_only: Some(
        "life-safety alarms are never triggered, confirmed, quit, disabled or reset by the AI",
    ),
};
#[test]
fn emergency_and_care_alarms_are_alarms_the_ai_can_never_actuate() {
    for t in ["AalSmartAlarm", "AalEmergency", "AlarmChain"] {
        let (k, ro) = classify(&shape(t, None, None));
        assert_eq!(k, Kind::Alarm, "{t}");
        assert!(ro.unwrap().contains("never triggered"), "{t}");
        assert!(is_life_safety(t), "{t}");
    }
    assert!(is_life_safety("SmokeAlarm"));
    assert!(!is_life_safety("Alarm"));
}

/// The central alarm arms or disarms every alarm it lists with one command: a disarm through it
/// would bypass the per-alarm question that names presence and the armed time (SC-5, SC-7,
/// UCA-S1/S2). It is an alarm (hidden until opted in) that the AI only reads; each alarm is
/// armed or disarmed on its own.
pub const CENTRAL_ALARM: KindRule = KindRule {
    name: "central-alarm",
    types: &["CentralAlarm"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Alarm,
    read_only: Some(
        "a central alarm arms or disarms several alarms at once; arm or disarm each alarm on \
         its own (SC-5)",
    ),
};
#[test]
fn a_central_alarm_is_a_read_only_alarm() {
    let (k, ro) = classify(&shape("CentralAlarm", None, None));
    assert_eq!(k, Kind::Alarm);
    assert!(ro.unwrap().contains("each alarm on its own"));
}

/// Inputs whose output could drive anything (SF "Slider", "ValueSelector", "Remote",
/// "UpDownLeftRight digital/analog", "Radio"): a slider may set a light's level or a pump's
/// speed, a radio block select a heating stage. The structure file cannot tell which (H-1), and
/// loxwarden has no command for a free value, so they are read-only.
pub const UNKNOWN_PURPOSE_INPUT: KindRule = KindRule {
    name: "unknown-purpose-input",
    types: &[
        "Slider",
        "ValueSelector",
        "Remote",
        "UpDownDigital",
        "LeftRightDigital",
        "UpDownAnalog",
        "LeftRightAnalog",
        "Radio",
    ],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Other,
    read_only: Some(UNKNOWN_PURPOSE),
};
#[test]
fn inputs_that_could_drive_anything_are_read_only() {
    for t in ["Slider", "ValueSelector", "Remote", "UpDownAnalog", "Radio"] {
        assert_eq!(
            classify(&shape(t, None, Some("lights"))),
            (Kind::Other, Some(UNKNOWN_PURPOSE)),
            "{t}"
        );
    }
}

/// The house's own programme (SF "AlarmClock", "PulseAt", "Sequential", "TextInput",
/// "LightsceneRGB"): wake-up times, timed pulses, sequences, texts and colour scenes other logic
/// reads. Editing them changes what the house does later, out of sight of any question (L-1,
/// L-6), so the AI reads them only.
pub const PROGRAMME: KindRule = KindRule {
    name: "programme",
    types: &[
        "AlarmClock",
        "PulseAt",
        "Sequential",
        "TextInput",
        "LightsceneRGB",
    ],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Other,
    read_only: Some(
        "it changes what the house's own programme does later; loxwarden only reads it",
    ),
};
#[test]
fn timers_sequences_and_texts_are_read_only() {
    for t in [
        "AlarmClock",
        "PulseAt",
        "Sequential",
        "TextInput",
        "LightsceneRGB",
    ] {
        let (k, ro) = classify(&shape(t, None, None));
        assert_eq!(k, Kind::Other, "{t}");
        assert!(ro.unwrap().contains("programme"), "{t}");
    }
}

/// Pumps, valves and heat without a command set of their own (SF "PoolController",
/// "SolarPumpController"): a valve or pump left running floods or runs dry, a solar circuit
/// overheats (L-2, L-6). No command set with its rules exists yet, so they are read-only.
/// (The sauna and irrigation have theirs: `APPLIANCE`.)
pub const PLANT: KindRule = KindRule {
    name: "plant",
    types: &["PoolController", "SolarPumpController"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Other,
    read_only: Some(
        "pumps and valves are not commanded by the AI until a command set with its safety \
         rules exists (floods, dry-running pumps)",
    ),
};
#[test]
fn pools_and_solar_pumps_are_read_only() {
    for t in ["PoolController", "SolarPumpController"] {
        let (k, ro) = classify(&shape(t, None, None));
        assert_eq!(k, Kind::Other, "{t}");
        assert!(ro.unwrap().contains("floods"), "{t}");
    }
}

/// Energy management (SF "EnergyManager2", "LoadManager", "SpotPriceOptimizer",
/// "WallboxManager"): which loads are shed, when the house buys power, how much the chargers
/// share. A change could cut a load someone relies on or overload a supply (L-2, L-5, L-6),
/// so the AI reads them only.
pub const ENERGY_MANAGEMENT: KindRule = KindRule {
    name: "energy-management",
    types: &[
        "EnergyManager2",
        "LoadManager",
        "SpotPriceOptimizer",
        "WallboxManager",
    ],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Other,
    read_only: Some(
        "energy management settings are read-only for the AI (load shedding, supply limits)",
    ),
};
#[test]
fn energy_managers_are_read_only() {
    for t in [
        "EnergyManager2",
        "LoadManager",
        "SpotPriceOptimizer",
        "WallboxManager",
    ] {
        let (k, ro) = classify(&shape(t, None, None));
        assert_eq!(k, Kind::Other, "{t}");
        assert!(ro.unwrap().contains("energy management"), "{t}");
    }
}

/// Things that only report.
pub const SENSOR: KindRule = KindRule {
    name: "sensor",
    types: &[
        "InfoOnlyAnalog",
        "InfoOnlyDigital",
        "InfoOnlyText",
        "TextState",
        "PresenceDetector",
        "Presence",
        "WindowMonitor",
        "Meter",
        "Fronius",
        "EnergyManager",
        "EnergyFlowMonitor",
        "Hourcounter",
        "PowerUnit",
        "Webpage",
        "StatusMonitor",
        "SteakThermo",
        "MailBox",
        "SystemScheme",
        "Application",
        "MsShortcut",
    ],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Sensor,
    read_only: Some("it only reports"),
};
#[test]
fn reporting_blocks_are_read_only_sensors() {
    for t in [
        "InfoOnlyAnalog",
        "PresenceDetector",
        "WindowMonitor",
        "Fronius",
    ] {
        let (k, ro) = classify(&shape(t, None, None));
        assert_eq!(k, Kind::Sensor, "{t}");
        assert!(ro.is_some());
    }
}

/// Everything else (types newer than SF v16): visible, never actuated.
pub const FALLBACK: KindRule = KindRule {
    name: "fallback",
    types: &[],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Other,
    read_only: Some("loxwarden has no safe command set for this type"),
};
#[test]
fn an_unknown_type_is_other_and_read_only() {
    let (k, ro) = classify(&shape("QuantumToaster2031", None, None));
    assert_eq!(k, Kind::Other);
    assert!(ro.is_some());
}
