//! The rule table: one `const` per rule with the hazard it answers and a test right under it,
//! and [`RULES`], the order they are tried in (first match wins).

pub use super::read_only::*;
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

/// Household plant with a command set and rules of its own (SF "Ventilation", "Sauna",
/// "Irrigation"): `control_appliance` addresses them, and `safety::guard::appliance` decides
/// each command — ventilation never lowered in an emergency (L-1), a sauna started only with a
/// person's consent, never in an emergency or with nobody home (L-1, L-2, L-6), irrigation only
/// as the programme whose zone durations the Miniserver bounds (L-2, L-6). Stopping heat or
/// water is never refused.
pub const APPLIANCE: KindRule = KindRule {
    name: "appliance",
    types: &["Ventilation", "Sauna", "Irrigation"],
    parent: Parent::Any,
    cat: None,
    kind: Kind::Appliance,
    read_only: None,
};
#[test]
fn ventilation_saunas_and_irrigation_are_appliances() {
    for t in ["Ventilation", "Sauna", "Irrigation"] {
        assert_eq!(
            classify(&shape(t, None, None)),
            (Kind::Appliance, None),
            "{t}"
        );
    }
    // A switch the config calls an appliance would have no command: not allowed.
    assert!(!may_reclassify(
        "Switch",
        None,
        Kind::Other,
        Some(UNCLASSIFIED),
        Kind::Appliance
    ));
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
    APPLIANCE,
    SWITCH_IN_LIGHTING,
    SWITCH_UNKNOWN,
    UNKNOWN_PURPOSE_INPUT,
    PROGRAMME,
    PLANT,
    ENERGY_MANAGEMENT,
    SENSOR,
    FALLBACK,
];
