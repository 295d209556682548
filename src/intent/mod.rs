//! Tool arguments → a typed, resolved [`Intent`] (SC-1, SC-10, R-4, R-8).
//!
//! Why one parse at the boundary: every later stage (guard, consent, link, audit) works on
//! values that cannot be wrong in shape — a [`DevId`] that names one exposed device of the right
//! kind, a percentage that is 0–100, a temperature already in °C. Wrong types, missing or extra
//! arguments, strings where numbers belong, NaN, out-of-vocabulary actions and devices of the
//! wrong kind (a lock through `control_light`) are refused here with a message the model can act
//! on, before anything else looks at the call.
//!
//! The AI's raw strings stop here: a device name becomes a [`DevId`], a scene name becomes the
//! canonical [`SceneEntry`]; only the emergency-stop `reason` survives, sanitised, for the audit.

mod args;
mod parse;
mod stop_reason;
mod tools;

use args::{Args, bad};
pub use parse::{LIST_PAGE, parse};
pub use stop_reason::emergency_stop_reason;
pub use tools::{TOOLS, ToolSpec};

use serde_json::{Map, Value, json};

use crate::house::resolve::{self, quote_untrusted};
use crate::house::scene::{self, SceneEntry};
use crate::house::{DevId, House, Kind};
use crate::loxone::command::Percent;
use crate::loxone::state::LiveStates;
use crate::loxone::structure::TempUnit;
use crate::safety::Refusal;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LightAction {
    On,
    Off,
    Dim(Percent),
}

/// Blind actions; positions are 0 = open, 100 = closed (for windows too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlindAction {
    Up,
    Down,
    Stop,
    Position(Percent),
    Shade,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioAction {
    Play,
    Pause,
    Volume(u8),
    Next,
    Previous,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ChargerAction {
    Start,
    Stop,
    /// kW.
    Limit(f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmAction {
    Arm,
    ArmDelayed,
    Disarm,
    Acknowledge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessAction {
    Open,
    Close,
    Stop,
    Lock,
    Unlock,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntercomAction {
    Answer,
    OpenDoor,
}

/// What `control_appliance` asks of a ventilation, a sauna or an irrigation block (the action
/// words of each type are [`ApplianceAction::vocabulary`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ApplianceAction {
    /// Ventilation: a manual timer at `level` % in mode `mode` (a `details.modes` id; `None`:
    /// the current mode) for `minutes`.
    Level {
        level: Percent,
        mode: Option<u16>,
        minutes: u16,
    },
    /// Ventilation: end any timer, back to the house's own programme.
    Auto,
    /// Sauna: on, at `celsius` if given (else its own target).
    On { celsius: Option<f64> },
    /// Sauna: off right away.
    Off,
    /// Sauna: a new target temperature in °C.
    Temperature(f64),
    /// Irrigation: run the programme, each zone for its own duration.
    Start,
    /// Irrigation: stop whatever runs.
    Stop,
}

impl ApplianceAction {
    /// The actions a Loxone type takes through `control_appliance` (empty: not an appliance).
    pub fn vocabulary(ty: &str) -> &'static [&'static str] {
        match ty {
            "Ventilation" => &["level", "auto"],
            "Sauna" => &["on", "off", "temperature"],
            "Irrigation" => &["start", "stop"],
            _ => &[],
        }
    }

    /// The action's word in the tool's vocabulary.
    pub fn word(&self) -> &'static str {
        match self {
            ApplianceAction::Level { .. } => "level",
            ApplianceAction::Auto => "auto",
            ApplianceAction::On { .. } => "on",
            ApplianceAction::Off => "off",
            ApplianceAction::Temperature(_) => "temperature",
            ApplianceAction::Start => "start",
            ApplianceAction::Stop => "stop",
        }
    }
}

/// A setpoint as asked, and in °C.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Temp {
    pub celsius: f64,
    pub given: f64,
    pub unit: TempUnit,
}

/// One tool call, parsed and resolved.
#[derive(Clone, Debug, PartialEq)]
pub enum Intent {
    GetSystemStatus,
    ListRooms,
    ListDevices {
        /// Canonical room name.
        room: Option<String>,
        kind: Option<Kind>,
        /// 1-based page of [`LIST_PAGE`] devices.
        page: usize,
    },
    GetDevice {
        device: DevId,
    },
    DescribeScene {
        device: DevId,
    },
    Light {
        device: DevId,
        action: LightAction,
    },
    Blind {
        device: DevId,
        action: BlindAction,
    },
    Temperature {
        device: DevId,
        target: Temp,
    },
    Audio {
        device: DevId,
        action: AudioAction,
    },
    Charger {
        device: DevId,
        action: ChargerAction,
    },
    Appliance {
        device: DevId,
        action: ApplianceAction,
    },
    EmergencyStop {
        /// The AI's reason, sanitised and truncated: for the audit log only.
        reason: Option<String>,
    },
    Alarm {
        device: DevId,
        action: AlarmAction,
    },
    Access {
        device: DevId,
        action: AccessAction,
    },
    Intercom {
        device: DevId,
        action: IntercomAction,
    },
    ActivateScene {
        device: DevId,
        /// The canonical scene (mood or central command) the argument named.
        scene: SceneEntry,
    },
}

impl Intent {
    /// A motor's stop (a blind, window or gate, or a central object's stop): always safe, so it
    /// takes no lane and waits for no plan; it cancels what the device's plan had still to send
    /// (`dispatch::lane_of`). A stop is never refused or delayed (R-13, UCA-B1).
    pub fn is_motor_stop(&self) -> bool {
        match self {
            Intent::Blind {
                action: BlindAction::Stop,
                ..
            }
            | Intent::Access {
                action: AccessAction::Stop,
                ..
            } => true,
            Intent::ActivateScene { scene, .. } => scene.effect == scene::Effect::Stop,
            _ => false,
        }
    }

    /// The tool this intent came from.
    pub fn tool(&self) -> &'static str {
        match self {
            Intent::GetSystemStatus => "get_system_status",
            Intent::ListRooms => "list_rooms",
            Intent::ListDevices { .. } => "list_devices",
            Intent::GetDevice { .. } => "get_device",
            Intent::DescribeScene { .. } => "describe_scene",
            Intent::Light { .. } => "control_light",
            Intent::Blind { .. } => "control_blind",
            Intent::Temperature { .. } => "set_temperature",
            Intent::Audio { .. } => "control_audio",
            Intent::Charger { .. } => "control_charger",
            Intent::Appliance { .. } => "control_appliance",
            Intent::EmergencyStop { .. } => "emergency_stop",
            Intent::Alarm { .. } => "set_alarm",
            Intent::Access { .. } => "control_access",
            Intent::Intercom { .. } => "control_intercom",
            Intent::ActivateScene { .. } => "activate_scene",
        }
    }

    /// The device the intent is about, if one.
    pub fn device(&self) -> Option<DevId> {
        match self {
            Intent::GetDevice { device }
            | Intent::DescribeScene { device }
            | Intent::Light { device, .. }
            | Intent::Blind { device, .. }
            | Intent::Temperature { device, .. }
            | Intent::Audio { device, .. }
            | Intent::Charger { device, .. }
            | Intent::Appliance { device, .. }
            | Intent::Alarm { device, .. }
            | Intent::Access { device, .. }
            | Intent::Intercom { device, .. }
            | Intent::ActivateScene { device, .. } => Some(*device),
            _ => None,
        }
    }

    /// True for the tools that only read.
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            Intent::GetSystemStatus
                | Intent::ListRooms
                | Intent::ListDevices { .. }
                | Intent::GetDevice { .. }
                | Intent::DescribeScene { .. }
        )
    }

    /// The action as a short canonical text, e.g. `dim 40`, `position 30`, `22.0 °C`.
    pub fn action_text(&self) -> String {
        match self {
            Intent::Light { action, .. } => match action {
                LightAction::On => "on".into(),
                LightAction::Off => "off".into(),
                LightAction::Dim(p) => format!("dim {}", p.get()),
            },
            Intent::Blind { action, .. } => match action {
                BlindAction::Up => "up".into(),
                BlindAction::Down => "down".into(),
                BlindAction::Stop => "stop".into(),
                BlindAction::Shade => "shade".into(),
                BlindAction::Position(p) => format!("position {}", p.get()),
            },
            Intent::Temperature { target, .. } => format!(
                "{:.1} °C (asked {} °{})",
                target.celsius,
                target.given,
                if target.unit == TempUnit::Fahrenheit {
                    "F"
                } else {
                    "C"
                }
            ),
            Intent::Audio { action, .. } => match action {
                AudioAction::Play => "play".into(),
                AudioAction::Pause => "pause".into(),
                AudioAction::Next => "next".into(),
                AudioAction::Previous => "previous".into(),
                AudioAction::Volume(v) => format!("volume {v}"),
            },
            Intent::Charger { action, .. } => match action {
                ChargerAction::Start => "start".into(),
                ChargerAction::Stop => "stop".into(),
                ChargerAction::Limit(kw) => format!("limit {kw} kW"),
            },
            Intent::Appliance { action, .. } => match action {
                ApplianceAction::Level {
                    level,
                    mode,
                    minutes,
                } => match mode {
                    Some(m) => format!("level {} mode {m} for {minutes} min", level.get()),
                    None => format!("level {} for {minutes} min", level.get()),
                },
                ApplianceAction::On { celsius: Some(c) } => {
                    format!("on at {} °C", crate::safety::table::num(*c))
                }
                ApplianceAction::Temperature(c) => {
                    format!("temperature {} °C", crate::safety::table::num(*c))
                }
                other => other.word().to_owned(),
            },
            Intent::Alarm { action, .. } => match action {
                AlarmAction::Arm => "arm".into(),
                AlarmAction::ArmDelayed => "arm_delayed".into(),
                AlarmAction::Disarm => "disarm".into(),
                AlarmAction::Acknowledge => "acknowledge".into(),
            },
            Intent::Access { action, .. } => match action {
                AccessAction::Open => "open".into(),
                AccessAction::Close => "close".into(),
                AccessAction::Stop => "stop".into(),
                AccessAction::Lock => "lock".into(),
                AccessAction::Unlock => "unlock".into(),
            },
            Intent::Intercom { action, .. } => match action {
                IntercomAction::Answer => "answer".into(),
                IntercomAction::OpenDoor => "open_door".into(),
            },
            Intent::ActivateScene { scene, .. } => format!("scene {}", scene.name),
            Intent::ListDevices { room, kind, page } => format!(
                "room={} kind={} page={page}",
                room.as_deref().unwrap_or("*"),
                kind.map(Kind::as_str).unwrap_or("*")
            ),
            _ => String::new(),
        }
    }

    /// A JSON summary for the audit log: tool, canonical device id and name, action.
    pub fn to_json(&self, house: &House) -> Value {
        let mut v = json!({ "tool": self.tool(), "action": self.action_text() });
        if let Some(id) = self.device() {
            let d = house.device(id);
            v["device"] =
                json!({ "id": d.addr.to_string(), "name": d.label(), "kind": d.kind.as_str() });
        }
        if let Intent::EmergencyStop { reason: Some(r) } = self {
            v["reason_from_ai"] = json!(r);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::house::testhouse::*;
    use crate::safety::testkit::*;

    fn call(tool: &str, args: Value) -> Result<Intent, Refusal> {
        let h = test_house();
        let s = quiet_states();
        let Value::Object(m) = args else { panic!() };
        parse(tool, &m, &h, &s)
    }

    fn refused(tool: &str, args: Value) -> Refusal {
        call(tool, args).unwrap_err()
    }

    #[test]
    fn every_tool_in_the_table_parses_its_own_name() {
        for t in TOOLS {
            // Only the argument-free tools succeed with no arguments; the rest say what is missing.
            match call(t.name, json!({})) {
                Ok(i) => assert_eq!(i.tool(), t.name),
                Err(r) => assert!(r.reason.contains("needs the argument"), "{}: {r}", t.name),
            }
        }
    }

    #[test]
    fn a_light_command_parses_to_a_resolved_intent() {
        let h = test_house();
        let i = call(
            "control_light",
            json!({"device": "reading light", "action": "dim", "brightness": 40}),
        )
        .unwrap();
        assert_eq!(
            i,
            Intent::Light {
                device: dev(&h, a::READING),
                action: LightAction::Dim(Percent::new(40).unwrap())
            }
        );
        let i = call(
            "control_light",
            json!({"device": "Reading light", "action": "dim", "brightness": 40.0}),
        )
        .unwrap();
        assert!(matches!(i, Intent::Light { .. }));
    }

    #[test]
    fn wrong_types_are_refused_with_the_argument_named() {
        let r = refused(
            "control_light",
            json!({"device": "Reading light", "action": "dim", "brightness": "40"}),
        );
        assert_eq!(r.rule, "SC-10");
        assert!(
            r.reason
                .contains("brightness must be a number, not a string"),
            "{r}"
        );
        let r = refused("control_light", json!({"device": 7, "action": "on"}));
        assert!(r.reason.contains("device must be a string"), "{r}");
        let r = refused(
            "set_temperature",
            json!({"device": "Nursery", "target": "22", "unit": "C"}),
        );
        assert!(r.reason.contains("target must be a number"), "{r}");
    }

    #[test]
    fn out_of_range_and_fractional_percentages_are_refused() {
        for v in [json!(101), json!(-1), json!(40.5), json!(1e300)] {
            let r = refused(
                "control_blind",
                json!({"device": "Bedroom/Blind", "action": "position", "position": v}),
            );
            assert_eq!(r.rule, "SC-10", "{r}");
        }
    }

    #[test]
    fn missing_and_extra_arguments_are_refused() {
        let r = refused(
            "control_light",
            json!({"device": "Reading light", "action": "dim"}),
        );
        assert!(r.reason.contains("needs the argument brightness"), "{r}");
        let r = refused(
            "control_light",
            json!({"device": "Reading light", "action": "on", "colour": "red"}),
        );
        assert!(
            r.reason.contains("does not take an argument \"colour\""),
            "{r}"
        );
        let r = refused(
            "control_light",
            json!({"device": "Reading light", "action": "on", "brightness": 20}),
        );
        assert!(r.reason.contains("only used with action dim"), "{r}");
        let r = refused("control_light", json!({"action": "on"}));
        assert!(r.reason.contains("needs the argument device"), "{r}");
    }

    #[test]
    fn out_of_vocabulary_actions_are_refused_listing_the_vocabulary() {
        let r = refused(
            "control_light",
            json!({"device": "Reading light", "action": "strobe"}),
        );
        assert!(
            r.reason.contains("\"strobe\" is not one of: on, off, dim"),
            "{r}"
        );
        let r = refused("set_alarm", json!({"device": "House", "action": "off"}));
        assert!(
            r.reason.contains("arm, arm_delayed, disarm, acknowledge"),
            "{r}"
        );
    }

    #[test]
    fn a_lock_can_never_be_addressed_through_control_light() {
        let r = refused(
            "control_light",
            json!({"device": "Front door lock", "action": "on"}),
        );
        assert_eq!(r.rule, "SC-1");
        assert!(r.reason.contains("is an access device"), "{r}");
        // The door opener of the intercom, by UUID, is not a light either.
        let r = refused(
            "control_light",
            json!({"device": a::DOOR_OPENER, "action": "on"}),
        );
        assert_eq!(r.rule, "SC-1");
    }

    #[test]
    fn an_unclassified_switch_is_not_a_light() {
        let plain = house_with(TEST_HOUSE, "[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n");
        let s = quiet_states();
        let Value::Object(m) = json!({"device": "Front door lock", "action": "on"}) else {
            panic!()
        };
        let r = parse("control_light", &m, &plain, &s).unwrap_err();
        assert!(r.reason.contains("is an other device"), "{r}");
    }

    #[test]
    fn fahrenheit_is_converted_and_celsius_kept() {
        let i = call(
            "set_temperature",
            json!({"device": "Nursery", "target": 70, "unit": "F"}),
        )
        .unwrap();
        let Intent::Temperature { target, .. } = i else {
            panic!()
        };
        assert!((target.celsius - 21.111).abs() < 0.01);
        let i = call(
            "set_temperature",
            json!({"device": "Living Room/Climate", "target": 35, "unit": "C"}),
        )
        .unwrap();
        let Intent::Temperature { target, .. } = i else {
            panic!()
        };
        assert_eq!(target.celsius, 35.0);
        let r = refused(
            "set_temperature",
            json!({"device": "Nursery", "target": 21}),
        );
        assert!(r.reason.contains("needs the argument unit"), "{r}");
        let r = refused(
            "set_temperature",
            json!({"device": "Nursery", "target": 21, "unit": "K"}),
        );
        assert!(r.reason.contains("\"C\" or \"F\""), "{r}");
    }

    /// Found by the `intent` fuzz target: `(1e308 - 32) × 5 / 9` overflows to infinity, and the
    /// intent carried `inf °C` on to the guard and the audit log.
    #[test]
    fn a_fahrenheit_target_too_large_to_convert_is_refused_not_turned_into_infinity() {
        for target in [1e308, -1e308, f64::MAX] {
            let r = refused(
                "set_temperature",
                json!({"device": "Nursery", "target": target, "unit": "F"}),
            );
            assert_eq!(r.rule, "SC-10", "{r}");
            assert!(r.reason.contains("not a temperature"), "{r}");
        }
        // Large but convertible values still parse (the guard refuses them as out of range).
        let i = call(
            "set_temperature",
            json!({"device": "Nursery", "target": 1e300, "unit": "F"}),
        )
        .unwrap();
        let Intent::Temperature { target, .. } = i else {
            panic!()
        };
        assert!(target.celsius.is_finite());
    }

    #[test]
    fn a_room_with_exactly_one_controller_names_it() {
        let h = test_house();
        let i = call(
            "set_temperature",
            json!({"device": "nursery", "target": 20, "unit": "C"}),
        )
        .unwrap();
        assert_eq!(i.device(), Some(dev(&h, a::IRC_NURSERY)));
        let r = refused(
            "set_temperature",
            json!({"device": "Kitchen", "target": 20, "unit": "C"}),
        );
        assert!(r.reason.contains("no exposed room controller"), "{r}");
        // "Climate" alone names three controllers.
        let r = refused(
            "set_temperature",
            json!({"device": "Climate", "target": 20, "unit": "C"}),
        );
        assert!(r.reason.contains("names 3 devices"), "{r}");
    }

    #[test]
    fn scenes_resolve_to_canonical_moods() {
        let i = call(
            "activate_scene",
            json!({"device": "Living Room/Lights", "scene": "COSY"}),
        )
        .unwrap();
        let Intent::ActivateScene { scene, .. } = i else {
            panic!()
        };
        assert_eq!(scene.name, "Cosy");
        let r = refused(
            "activate_scene",
            json!({"device": "Living Room/Lights", "scene": "Party"}),
        );
        assert!(r.reason.contains("has no scene \"Party\""), "{r}");
        let r = refused(
            "activate_scene",
            json!({"device": "Bedroom/Blind", "scene": "up"}),
        );
        assert_eq!(r.rule, "SC-1");
    }

    #[test]
    fn list_devices_validates_room_and_kind() {
        let i = call(
            "list_devices",
            json!({"room": "living room", "kind": "blind"}),
        )
        .unwrap();
        assert_eq!(
            i,
            Intent::ListDevices {
                room: Some("Living Room".into()),
                kind: Some(Kind::Blind),
                page: 1,
            }
        );
        assert!(call("list_devices", json!({"kind": "lamp"})).is_err());
        assert!(call("list_devices", json!({"room": "Attic"})).is_err());
    }

    #[test]
    fn list_devices_pages_are_whole_numbers_from_one() {
        let page = |v: Value| match call("list_devices", json!({ "page": v })) {
            Ok(Intent::ListDevices { page, .. }) => Ok(page),
            Ok(other) => panic!("{other:?}"),
            Err(r) => Err(r.reason),
        };
        assert_eq!(page(json!(3)), Ok(3));
        assert_eq!(page(Value::Null), Ok(1));
        for wrong in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!(1001),
            json!("2"),
            json!(1e300),
        ] {
            assert!(page(wrong.clone()).is_err(), "{wrong}");
        }
    }

    #[test]
    fn the_emergency_stop_reason_is_kept_only_sanitised_for_the_audit() {
        let i = call("emergency_stop", json!({"reason": "smoke\nin kitchen"})).unwrap();
        assert_eq!(
            i,
            Intent::EmergencyStop {
                reason: Some("smoke in kitchen".into())
            }
        );
        assert!(call("emergency_stop", json!({})).is_ok());
    }

    #[test]
    fn r11_an_emergency_stop_with_odd_arguments_is_parsed_and_they_are_noted() {
        let reason = |v: Value| match call("emergency_stop", v).unwrap() {
            Intent::EmergencyStop { reason } => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            reason(json!({"reason": 42})).as_deref(),
            Some("no reason given (arguments not understood: {\"reason\":42})")
        );
        assert_eq!(
            reason(json!({"why": "stuck"})).as_deref(),
            Some("no reason given (arguments not understood: {\"why\":\"stuck\"})")
        );
        assert_eq!(
            reason(json!({"reason": "smoke", "now": true})).as_deref(),
            Some("smoke (arguments not understood: {\"now\":true})")
        );
        assert_eq!(reason(json!({})), None);
        // Bounded and clean whatever was sent (the fuzz target's property).
        let long = reason(json!({"reason": "x".repeat(300), "\u{1b}": "y".repeat(300)})).unwrap();
        assert!(
            long.chars().count() <= 200 && !long.chars().any(char::is_control),
            "{long}"
        );
    }

    #[test]
    fn audit_records_and_results_name_the_action_canonically() {
        // `action_text` is what the audit log and the tool result say was asked: it must name
        // each action exactly, with its value, whatever the AI typed.
        let d = DevId(0);
        let pct = |n| Percent::new(n).unwrap();
        let temp = |celsius, given, unit| Intent::Temperature {
            device: d,
            target: Temp {
                celsius,
                given,
                unit,
            },
        };
        let light = |action| Intent::Light { device: d, action };
        let blind = |action| Intent::Blind { device: d, action };
        let audio = |action| Intent::Audio { device: d, action };
        let charger = |action| Intent::Charger { device: d, action };
        let alarm = |action| Intent::Alarm { device: d, action };
        let access = |action| Intent::Access { device: d, action };
        let intercom = |action| Intent::Intercom { device: d, action };
        let cases = [
            (light(LightAction::On), "on"),
            (light(LightAction::Off), "off"),
            (light(LightAction::Dim(pct(40))), "dim 40"),
            (blind(BlindAction::Up), "up"),
            (blind(BlindAction::Down), "down"),
            (blind(BlindAction::Stop), "stop"),
            (blind(BlindAction::Shade), "shade"),
            (blind(BlindAction::Position(pct(30))), "position 30"),
            (
                temp(21.5, 21.5, TempUnit::Celsius),
                "21.5 °C (asked 21.5 °C)",
            ),
            (
                temp(22.0, 71.6, TempUnit::Fahrenheit),
                "22.0 °C (asked 71.6 °F)",
            ),
            (audio(AudioAction::Play), "play"),
            (audio(AudioAction::Pause), "pause"),
            (audio(AudioAction::Next), "next"),
            (audio(AudioAction::Previous), "previous"),
            (audio(AudioAction::Volume(45)), "volume 45"),
            (charger(ChargerAction::Start), "start"),
            (charger(ChargerAction::Stop), "stop"),
            (charger(ChargerAction::Limit(7.4)), "limit 7.4 kW"),
            (alarm(AlarmAction::Arm), "arm"),
            (alarm(AlarmAction::ArmDelayed), "arm_delayed"),
            (alarm(AlarmAction::Disarm), "disarm"),
            (alarm(AlarmAction::Acknowledge), "acknowledge"),
            (access(AccessAction::Open), "open"),
            (access(AccessAction::Close), "close"),
            (access(AccessAction::Stop), "stop"),
            (access(AccessAction::Lock), "lock"),
            (access(AccessAction::Unlock), "unlock"),
            (intercom(IntercomAction::Answer), "answer"),
            (intercom(IntercomAction::OpenDoor), "open_door"),
            (
                Intent::ListDevices {
                    room: Some("Kitchen".into()),
                    kind: Some(Kind::Light),
                    page: 2,
                },
                "room=Kitchen kind=light page=2",
            ),
            (
                Intent::ListDevices {
                    room: None,
                    kind: None,
                    page: 1,
                },
                "room=* kind=* page=1",
            ),
            (Intent::GetSystemStatus, ""),
        ];
        for (intent, text) in cases {
            assert_eq!(intent.action_text(), text, "{intent:?}");
        }
        let scene = call(
            "activate_scene",
            json!({"device": "Living Room/Lights", "scene": "COSY"}),
        )
        .unwrap();
        assert!(scene.action_text().starts_with("scene "), "{scene:?}");
        assert!(scene.action_text().len() > "scene ".len(), "{scene:?}");
    }

    #[test]
    fn every_action_word_of_every_tool_parses_to_that_action_and_no_other() {
        // A word that fell through to another arm would send another command: "stop" on a
        // gate read as the catch-all "unlock" would open the house instead of halting a door.
        let cases: &[(&str, &str, &[&str], Value)] = &[
            ("control_light", a::READING, &["on", "off"], json!({})),
            (
                "control_light",
                a::READING,
                &["dim"],
                json!({"brightness": 40}),
            ),
            (
                "control_blind",
                a::BLIND_LIVING,
                &["up", "down", "stop", "shade"],
                json!({}),
            ),
            (
                "control_blind",
                a::BLIND_LIVING,
                &["position"],
                json!({"position": 30}),
            ),
            (
                "control_audio",
                a::SPEAKER_LIVING,
                &["play", "pause", "next", "previous"],
                json!({}),
            ),
            (
                "control_audio",
                a::SPEAKER_LIVING,
                &["volume"],
                json!({"volume": 45}),
            ),
            ("control_charger", a::CHARGER, &["start", "stop"], json!({})),
            (
                "control_charger",
                a::CHARGER,
                &["limit"],
                json!({"kw": 7.4}),
            ),
            (
                "set_alarm",
                a::ALARM,
                &["arm", "arm_delayed", "disarm", "acknowledge"],
                json!({}),
            ),
            (
                "control_access",
                a::GARAGE_DOOR,
                &["open", "close", "stop"],
                json!({}),
            ),
            (
                "control_access",
                a::DOOR_LOCK,
                &["lock", "unlock"],
                json!({}),
            ),
            (
                "control_intercom",
                a::INTERCOM,
                &["answer", "open_door"],
                json!({}),
            ),
        ];
        for (tool, device, words, extra) in cases {
            for word in *words {
                let mut args = extra.clone();
                args["device"] = json!(device);
                args["action"] = json!(word);
                let i = call(tool, args).unwrap_or_else(|r| panic!("{tool} {word}: {r}"));
                let said = i.action_text();
                assert_eq!(
                    said.split(' ').next(),
                    Some(*word),
                    "{tool} {word} parsed as {i:?}"
                );
            }
        }
    }

    #[test]
    fn the_audit_summary_names_the_tool_the_device_and_the_action() {
        let h = test_house();
        let i = call(
            "control_access",
            json!({"device": a::GARAGE_DOOR, "action": "stop"}),
        )
        .unwrap();
        let v = i.to_json(&h);
        assert_eq!(v["tool"], "control_access");
        assert_eq!(v["action"], "stop");
        assert_eq!(v["device"]["id"], a::GARAGE_DOOR);
        assert_eq!(v["device"]["kind"], "access");
        assert!(
            v["device"]["name"].as_str().is_some_and(|n| !n.is_empty()),
            "{v}"
        );
        assert!(v.get("reason_from_ai").is_none(), "{v}");
        let stop = call("emergency_stop", json!({"reason": "smoke"})).unwrap();
        let v = stop.to_json(&h);
        assert_eq!(v["tool"], "emergency_stop");
        assert_eq!(v["reason_from_ai"], "smoke");
        assert!(v.get("device").is_none(), "{v}");
    }

    #[test]
    fn unknown_tools_are_refused() {
        assert!(call("unlock_everything", json!({})).is_err());
    }

    #[test]
    fn charger_limits_must_be_positive_numbers() {
        assert!(
            call(
                "control_charger",
                json!({"device": "Car charger", "action": "limit", "kw": 7.4})
            )
            .is_ok()
        );
        assert!(
            call(
                "control_charger",
                json!({"device": "Car charger", "action": "limit", "kw": 1000})
            )
            .is_ok()
        );
        for kw in [json!(0), json!(-3), json!("7"), json!(1000.5), json!(1e9)] {
            assert!(
                call(
                    "control_charger",
                    json!({"device": "Car charger", "action": "limit", "kw": kw})
                )
                .is_err()
            );
        }
    }
}
