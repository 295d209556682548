//! The rule table: one `const` per rule with the hazard it answers and a test right under it,
//! and [`RULES`], the order they are tried in (first match wins).

use super::*;

/// Intercom outputs are the door openers (SF "Intercom": sub-controls 0–3 `Pushbutton`), so
/// they are access devices, never lights (UCA-I1, UCA-D1).
pub const INTERCOM_OUTPUT: KindRule = KindRule {
    name: "intercom-output",
    types: &["Pushbutton", "Switch"],
    parent: Parent::OneOf(&["Intercom", "IntercomV2"]),
    cat: None,
    kind: Kind::Access,
    read_only: None,
};
#[test]
fn an_intercom_output_is_an_access_device() {
    assert_eq!(
        classify(&shape("Pushbutton", Some("Intercom"), None)),
        (Kind::Access, None)
    );
    assert_eq!(
        classify(&shape("Pushbutton", Some("IntercomV2"), Some("lights"))).0,
        Kind::Access
    );
}

/// Circuits of a light controller are lights (SF "LightControllerV2 Subcontrols").
pub const LIGHT_CIRCUIT: KindRule = KindRule {
    name: "light-circuit",
    types: &[
        "Switch",
        "Pushbutton",
        "Dimmer",
        "EIBDimmer",
        "ColorPickerV2",
        "ColorPicker",
        "Colorpicker",
    ],
    parent: Parent::OneOf(&["LightControllerV2", "LightController"]),
    cat: None,
    kind: Kind::Light,
    read_only: None,
};
#[test]
fn circuits_under_a_light_controller_are_lights_even_plain_switches() {
    assert_eq!(
        classify(&shape("Switch", Some("LightControllerV2"), None)).0,
        Kind::Light
    );
    assert_eq!(
        classify(&shape("Dimmer", Some("LightController"), None)).0,
        Kind::Light
    );
}

/// Trackers (alarm sensor history, wallbox sessions) only report.
pub const TRACKER: KindRule = KindRule {
    name: "tracker",
    types: &["Tracker"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Sensor,
    read_only: Some("a tracker only reports history"),
};
#[test]
fn a_tracker_is_a_read_only_sensor() {
    let (k, ro) = classify(&shape("Tracker", Some("Alarm"), None));
    assert_eq!(k, Kind::Sensor);
    assert!(ro.is_some());
}

/// Room-controller schedules are not ours to edit (no tool changes heating schedules, UCA-T1).
pub const DAYTIMER: KindRule = KindRule {
    name: "daytimer",
    types: &[
        "IRCV2Daytimer",
        "IRCDaytimer",
        "Daytimer",
        "PoolDaytimer",
        "IRoomControllerV2Daytimer",
    ],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Other,
    read_only: Some("schedules are not controllable through loxwarden (UCA-T1)"),
};
#[test]
fn a_room_controller_schedule_is_read_only() {
    let (k, ro) = classify(&shape("IRCV2Daytimer", Some("IRoomControllerV2"), None));
    assert_eq!(k, Kind::Other);
    assert!(ro.is_some());
}

/// Light controllers switch moods over many circuits: a scene.
pub const LIGHT_CONTROLLER: KindRule = KindRule {
    name: "light-controller",
    types: &["LightControllerV2", "LightController"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Scene,
    read_only: None,
};
#[test]
fn a_light_controller_is_a_scene() {
    assert_eq!(
        classify(&shape("LightControllerV2", None, Some("lights"))).0,
        Kind::Scene
    );
    assert_eq!(
        classify(&shape("LightController", None, None)).0,
        Kind::Scene
    );
}

/// Central objects move many devices with one command: scenes (SC-7, UCA-SC1).
pub const CENTRAL: KindRule = KindRule {
    name: "central",
    types: &[
        "CentralJalousie",
        "CentralLightController",
        "CentralAudioZone",
        "CentralGate",
        "CentralWindow",
    ],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Scene,
    read_only: None,
};
#[test]
fn central_objects_are_scenes() {
    for t in [
        "CentralJalousie",
        "CentralLightController",
        "CentralAudioZone",
        "CentralGate",
        "CentralWindow",
    ] {
        assert_eq!(classify(&shape(t, None, None)).0, Kind::Scene, "{t}");
    }
}

/// A dimmer or colour picker on its own is a light whatever its category.
pub const DIMMER: KindRule = KindRule {
    name: "dimmer",
    types: &[
        "Dimmer",
        "EIBDimmer",
        "ColorPickerV2",
        "ColorPicker",
        "Colorpicker",
    ],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Light,
    read_only: None,
};
#[test]
fn a_top_level_dimmer_is_a_light() {
    assert_eq!(classify(&shape("Dimmer", None, None)).0, Kind::Light);
    assert_eq!(
        classify(&shape("EIBDimmer", None, Some("undefined"))).0,
        Kind::Light
    );
}

/// Blinds and motorised windows (SF "Jalousie", "Window"). A window is treated like a blind:
/// `control_blind` moves it (0 = open), emergency stop stops it, and closing it is refused
/// in the emergency posture like closing a blind (UCA-B1, UCA-B2).
pub const BLIND: KindRule = KindRule {
    name: "blind",
    types: &["Jalousie", "Window"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Blind,
    read_only: None,
};
#[test]
fn jalousies_and_windows_are_blinds() {
    assert_eq!(
        classify(&shape("Jalousie", None, Some("shading"))).0,
        Kind::Blind
    );
    assert_eq!(classify(&shape("Window", None, None)).0, Kind::Blind);
}

/// Gates and garage doors let people in: access (SF "Gate"; `details.animation` 0 = garage).
pub const GATE: KindRule = KindRule {
    name: "gate",
    types: &["Gate"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Access,
    read_only: None,
};
#[test]
fn a_gate_is_an_access_device() {
    assert_eq!(classify(&shape("Gate", None, None)), (Kind::Access, None));
}

/// NFC Code Touch outputs open doors, but the structure file does not say which output drives
/// which door, so loxwarden only reads them (and never manages codes).
pub const NFC_CODE_TOUCH: KindRule = KindRule {
    name: "nfc-code-touch",
    types: &["NfcCodeTouch"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Access,
    read_only: Some(
        "which NFC Code Touch output opens which door is not in the structure file; \
         loxwarden never actuates it or manages its codes",
    ),
};
#[test]
fn an_nfc_code_touch_is_a_read_only_access_device() {
    let (k, ro) = classify(&shape("NfcCodeTouch", None, None));
    assert_eq!(k, Kind::Access);
    assert!(ro.is_some());
}

/// Room climate (SF "Intelligent Room Controller v2"): `set_temperature` within the SC-2 bands.
pub const CLIMATE: KindRule = KindRule {
    name: "climate",
    types: &["IRoomControllerV2"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Climate,
    read_only: None,
};
#[test]
fn room_controllers_are_climate() {
    assert_eq!(
        classify(&shape("IRoomControllerV2", None, None)),
        (Kind::Climate, None)
    );
}

/// Climate the AI reads but does not set (SF "Intelligent Room Controller" v1,
/// "ClimateController", "ClimateControllerUS", "ACControl", "Heatmixer", "Ventilation"): their
/// setpoints, modes and plant outputs are not mapped to the SC-2 bands, and a heating circuit's
/// flow temperature or a ventilation switched off during a fire is not a room's comfort (L-1,
/// L-5). Until a command set with its rules exists, read-only.
pub const CLIMATE_READ_ONLY: KindRule = KindRule {
    name: "climate-read-only",
    types: &[
        "IRoomController",
        "ClimateController",
        "ClimateControllerUS",
        "ACControl",
        "Heatmixer",
        "Ventilation",
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
        "Ventilation",
    ] {
        let (k, ro) = classify(&shape(t, None, None));
        assert_eq!(k, Kind::Climate, "{t}");
        assert!(ro.is_some(), "{t}");
    }
}

/// Music Server zones (SF "AudioZone", "AudioZoneV2").
pub const AUDIO: KindRule = KindRule {
    name: "audio",
    types: &["AudioZone", "AudioZoneV2"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Audio,
    read_only: None,
};
#[test]
fn audio_zones_are_audio() {
    assert_eq!(classify(&shape("AudioZoneV2", None, None)).0, Kind::Audio);
    assert_eq!(classify(&shape("AudioZone", None, None)).0, Kind::Audio);
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

/// Burglar alarms (SC-5, UCA-S1/S2).
pub const ALARM: KindRule = KindRule {
    name: "alarm",
    types: &["Alarm"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Alarm,
    read_only: None,
};
#[test]
fn burglar_alarms_are_alarms() {
    assert_eq!(classify(&shape("Alarm", None, None)), (Kind::Alarm, None));
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

/// Door stations (SF "Intercom", "IntercomV2").
pub const INTERCOM: KindRule = KindRule {
    name: "intercom",
    types: &["Intercom", "IntercomV2"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Intercom,
    read_only: None,
};
#[test]
fn door_stations_are_intercoms() {
    assert_eq!(classify(&shape("Intercom", None, None)).0, Kind::Intercom);
    assert_eq!(classify(&shape("IntercomV2", None, None)).0, Kind::Intercom);
}

/// EV chargers (SF "CarCharger", "Wallbox2").
pub const CHARGER: KindRule = KindRule {
    name: "charger",
    types: &["CarCharger", "Wallbox2"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Charger,
    read_only: None,
};
#[test]
fn wallboxes_are_chargers() {
    assert_eq!(classify(&shape("Wallbox2", None, None)).0, Kind::Charger);
    assert_eq!(classify(&shape("CarCharger", None, None)).0, Kind::Charger);
}

/// A switch, push button or timed switch (SF "TimedSwitch": stairwell or comfort switch) in a
/// category of type `lights` is a light.
pub const SWITCH_IN_LIGHTING: KindRule = KindRule {
    name: "switch-in-lighting",
    types: &["Switch", "Pushbutton", "TimedSwitch"],
    parent: Parent::None,
    cat: Some("lights"),
    kind: Kind::Light,
    read_only: None,
};
#[test]
fn a_switch_in_the_lighting_category_is_a_light() {
    assert_eq!(
        classify(&shape("Switch", None, Some("lights"))),
        (Kind::Light, None)
    );
    assert_eq!(
        classify(&shape("Pushbutton", None, Some("lights"))).0,
        Kind::Light
    );
    assert_eq!(
        classify(&shape("TimedSwitch", None, Some("lights"))),
        (Kind::Light, None)
    );
}

/// Any other switch, push button or timed switch: purpose unknown, read-only until classified
/// (H-1).
pub const SWITCH_UNKNOWN: KindRule = KindRule {
    name: "switch-unknown",
    types: &["Switch", "Pushbutton", "TimedSwitch"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Other,
    read_only: Some(UNCLASSIFIED),
};
#[test]
fn a_switch_elsewhere_is_read_only_until_classified() {
    assert_eq!(
        classify(&shape("Switch", None, Some("undefined"))),
        (Kind::Other, Some(UNCLASSIFIED))
    );
    assert_eq!(
        classify(&shape("Pushbutton", None, None)),
        (Kind::Other, Some(UNCLASSIFIED))
    );
    assert_eq!(
        classify(&shape("TimedSwitch", None, Some("undefined"))),
        (Kind::Other, Some(UNCLASSIFIED))
    );
    // Not under a light controller: a sub-control switch of some other block.
    assert_eq!(
        classify(&shape("Switch", Some("Sauna"), Some("lights"))).1,
        Some(UNCLASSIFIED)
    );
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

/// Heat, water and pumps (SF "Sauna", "PoolController", "Irrigation",
/// "SolarPumpController"): a sauna started with nobody home burns (L-1, L-2), a valve or pump
/// left running floods or runs dry (L-2, L-6). No command set with its rules exists yet, so
/// they are read-only.
pub const PLANT: KindRule = KindRule {
    name: "plant",
    types: &[
        "Sauna",
        "PoolController",
        "Irrigation",
        "SolarPumpController",
    ],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Other,
    read_only: Some(
        "heat, water and pumps are not commanded by the AI until a command set with its \
         safety rules exists (burns, floods)",
    ),
};
#[test]
fn saunas_pools_irrigation_and_solar_pumps_are_read_only() {
    for t in [
        "Sauna",
        "PoolController",
        "Irrigation",
        "SolarPumpController",
    ] {
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

/// The table, first match wins. Order matters: parent-specific rules come before type rules,
/// and the lighting-category switch rule before the catch-all switch rule.
pub const RULES: &[KindRule] = &[
    INTERCOM_OUTPUT,
    LIGHT_CIRCUIT,
    TRACKER,
    DAYTIMER,
    LIGHT_CONTROLLER,
    CENTRAL,
    DIMMER,
    BLIND,
    GATE,
    NFC_CODE_TOUCH,
    CLIMATE,
    CLIMATE_READ_ONLY,
    AUDIO,
    SMOKE_ALARM,
    LIFE_SAFETY,
    ALARM,
    CENTRAL_ALARM,
    INTERCOM,
    CHARGER,
    SWITCH_IN_LIGHTING,
    SWITCH_UNKNOWN,
    UNKNOWN_PURPOSE_INPUT,
    PROGRAMME,
    PLANT,
    ENERGY_MANAGEMENT,
    SENSOR,
    FALLBACK,
];
