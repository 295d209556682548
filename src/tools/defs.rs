//! The shipped tools: names, descriptions, input and output schemas and annotations, one
//! `const` per tool, and the test under the table.
//!
//! Names and arguments are the public interface (issues 5 and 6; `intent::TOOLS` holds the same
//! argument lists and the test below keeps the two in step). Descriptions tell the model the
//! rules it will meet, so it can plan instead of probing.
//!
//! Annotations (hints for clients; we never rely on them):
//! - reads: `readOnlyHint`, idempotent, closed world.
//! - actuators: not read-only; `destructiveHint` where a mistake can hurt or expose someone
//!   (blinds and gates can close on a person, doors, the alarm, the charger, bulk scenes);
//!   `idempotentHint` false where repeating acts again (a door opener pulse, next track);
//!   `openWorldHint` **true**: they act on a physical house with people in it, whose reaction
//!   is outside anything the gateway can enumerate, so clients that treat open-world tools
//!   with more care should do so here.
//! - `emergency_stop`: not destructive, idempotent: it only stops and pauses, and a client
//!   should never hold it back for a confirmation.

use crate::mcp::tool::{Annotations, ToolDef};

const READ: Annotations = Annotations {
    read_only: true,
    destructive: false,
    idempotent: true,
    open_world: false,
};

const fn act(destructive: bool, idempotent: bool) -> Annotations {
    Annotations {
        read_only: false,
        destructive,
        idempotent,
        open_world: true,
    }
}

/// A device argument: name, `Room/Name` or id. Described in the two reads' schemas (and the
/// session's instructions); the control tools' schemas leave the description out, as every
/// session pays for it once per tool.
macro_rules! device_prop {
    () => {
        r#""device":{"type":"string","maxLength":200}"#
    };
    (described) => {
        r#""device":{"type":"string","maxLength":200,"description":"name, Room/Name or id as list_devices shows"}"#
    };
}

// The output schemas are shallow on purpose: every `tools/list` sends them, and a catalogue the
// size of a novel costs every session its context (the whole list stays under 12 KB; the test
// `the_catalogue_fits_its_size_budget` below keeps it there). They name the top-level fields a
// client can rely on, each with one JSON type (no type arrays: portable validators, such as
// MCP Inspector's `--strict`, warn on them). README.md (Tools) describes the fields in full.

/// The result of every control tool (`tools::result::ControlResult`). Every field is always
/// there; `required` names the two a client acts on (`done`, `message`), as this schema is sent
/// once per control tool.
pub const CONTROL_OUTPUT: &str = r#"{"type":"object","properties":{"done":{"type":"boolean"},"message":{"type":"string"},"audit_id":{"type":"string"},"commands":{"type":"array"},"read_back":{"type":"array"}},"required":["done","message"]}"#;

const STATUS_OUTPUT: &str = r#"{"type":"object","properties":{"message":{"type":"string"},"link":{"type":"object"},"emergency_stop":{"type":"object"},"posture":{"type":"object"},"alarms":{"type":"array"}},"required":["message","link","emergency_stop","posture","alarms"]}"#;

const ROOMS_OUTPUT: &str = r#"{"type":"object","properties":{"message":{"type":"string"},"rooms":{"type":"array"}},"required":["message","rooms"]}"#;

const DEVICES_OUTPUT: &str = r#"{"type":"object","properties":{"message":{"type":"string"},"total":{"type":"integer"},"pages":{"type":"integer"},"devices":{"type":"array"}},"required":["message","devices"]}"#;

const DEVICE_OUTPUT: &str = r#"{"type":"object","properties":{"message":{"type":"string"},"device":{"type":"object"},"limits":{"type":"object"}},"required":["message"]}"#;

const SCENE_OUTPUT: &str = r#"{"type":"object","properties":{"message":{"type":"string"},"scenes":{"type":"array"},"affected":{"type":"array"}},"required":["message"]}"#;

const ESTOP_OUTPUT: &str = r#"{"type":"object","properties":{"done":{"type":"boolean"},"message":{"type":"string"},"audit_id":{"type":"string"},"commands":{"type":"array"}},"required":["done","message","audit_id","commands"]}"#;

/// An input schema: `device`, then the other properties, `required`, closed to others.
macro_rules! input {
    (described_device) => {
        concat!(
            r#"{"type":"object","properties":{"#,
            device_prop!(described),
            r#"},"required":["device"],"additionalProperties":false}"#
        )
    };
    (device, $props:literal, $required:literal) => {
        concat!(
            r#"{"type":"object","properties":{"#,
            device_prop!(),
            $props,
            r#"},"required":"#,
            $required,
            r#","additionalProperties":false}"#
        )
    };
}

const NO_ARGS: &str = r#"{"type":"object","properties":{},"additionalProperties":false}"#;

pub const GET_SYSTEM_STATUS: ToolDef = ToolDef {
    name: "get_system_status",
    title: "System status",
    description: "Start here: whether the Miniserver link is live (since when), the \
emergency-stop latch, active alarms, and the safety posture with its reasons. Commands are \
refused while the link is not live or the stop is latched.",
    input_schema: NO_ARGS,
    output_schema: STATUS_OUTPUT,
    annotations: READ,
};

pub const LIST_ROOMS: ToolDef = ToolDef {
    name: "list_rooms",
    title: "List rooms",
    description: "The rooms with devices you may see, each with its device count and kinds.",
    input_schema: NO_ARGS,
    output_schema: ROOMS_OUTPUT,
    annotations: READ,
};

pub const LIST_DEVICES: ToolDef = ToolDef {
    name: "list_devices",
    title: "List devices",
    description: "Devices you may see, 100 a page: id, name, room, kind, state in words \
(positions as % closed) with its age in s, and each action now: allowed, asks the person, or \
refused with the rule. Switches of unknown purpose are read-only.",
    input_schema: r#"{"type":"object","properties":{"room":{"type":"string","maxLength":200},"kind":{"type":"string","enum":["light","blind","climate","audio","alarm","access","intercom","charger","appliance","scene","sensor","other"]},"page":{"type":"integer","minimum":1,"maximum":1000}},"additionalProperties":false}"#,
    output_schema: DEVICES_OUTPUT,
    annotations: READ,
};

pub const GET_DEVICE: ToolDef = ToolDef {
    name: "get_device",
    title: "Get one device",
    description: "One device with every live state, its safety limits and the actions possible \
now.",
    input_schema: input!(described_device),
    output_schema: DEVICE_OUTPUT,
    annotations: READ,
};

pub const DESCRIBE_SCENE: ToolDef = ToolDef {
    name: "describe_scene",
    title: "Describe a scene",
    description: "A light controller's moods or a central object's commands, and the devices \
each affects. Call it before activate_scene.",
    input_schema: input!(described_device),
    output_schema: SCENE_OUTPUT,
    annotations: READ,
};

pub const CONTROL_LIGHT: ToolDef = ToolDef {
    name: "control_light",
    title: "Control a light",
    description: "on, off, or dim to brightness % (a light; moods are activate_scene). Refused: \
over 1 change/s or 20/min per light, off or dimmer in a fire/water emergency. At night in \
sleeping rooms on = 30 %, brighter asks the person.",
    input_schema: input!(
        device,
        r#","action":{"type":"string","enum":["on","off","dim"]},"brightness":{"type":"integer","minimum":0,"maximum":100}"#,
        r#"["device","action"]"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(false, true),
};

pub const CONTROL_BLIND: ToolDef = ToolDef {
    name: "control_blind",
    title: "Move a blind or window",
    description: "up, down, stop, shade, or position (% closed) a blind or window. Refused: \
under 2 s between commands, over 10/min, reversing without stop, closing in a fire/water \
emergency. stop is never refused. A moving blind reports pending.",
    input_schema: input!(
        device,
        r#","action":{"type":"string","enum":["up","down","stop","position","shade"]},"position":{"type":"integer","minimum":0,"maximum":100,"description":"% closed: 0 = open, 100 = closed, as states show it"}"#,
        r#"["device","action"]"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(true, true),
};

pub const SET_TEMPERATURE: ToolDef = ToolDef {
    name: "set_temperature",
    title: "Set a room temperature",
    description: "Sets the comfort temperature of a room controller (or a room with one). \
16–28 °C allowed; 10–16 and 28–30 °C ask the person; refused: outside 10–30 °C or a room's \
tighter band, a step over 6 °C. Heating cannot be switched off.",
    input_schema: input!(
        device,
        r#","target":{"type":"number"},"unit":{"type":"string","enum":["C","F"]}"#,
        r#"["device","target","unit"]"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(false, true),
};

pub const CONTROL_AUDIO: ToolDef = ToolDef {
    name: "control_audio",
    title: "Control an audio zone",
    description: "play, pause, next, previous, or volume % of an audio zone. Up to 60 % \
allowed, 61–85 % asks the person, over 85 % refused; rises ramp in steps of 10. No play or \
louder while an alarm sounds.",
    input_schema: input!(
        device,
        r#","action":{"type":"string","enum":["play","pause","volume","next","previous"]},"volume":{"type":"integer","minimum":0,"maximum":100}"#,
        r#"["device","action"]"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(false, false),
};

pub const CONTROL_CHARGER: ToolDef = ToolDef {
    name: "control_charger",
    title: "Control an EV charger",
    description: "start or stop charging, or limit it to kw; a limit outside the charger's own \
range is refused.",
    input_schema: input!(
        device,
        r#","action":{"type":"string","enum":["start","stop","limit"]},"kw":{"type":"number","exclusiveMinimum":0}"#,
        r#"["device","action"]"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(true, true),
};

pub const CONTROL_APPLIANCE: ToolDef = ToolDef {
    name: "control_appliance",
    title: "Ventilation, sauna, irrigation",
    description: "Ventilation: level % in its range for up to 240 minutes, or auto. Sauna: \
on (asks the person; refused in an emergency or with nobody home), off, temperature 40–90 °C. \
Irrigation: start (zones up to 30 min), stop. auto, off, stop: never refused.",
    input_schema: input!(
        device,
        r#","action":{"type":"string","enum":["level","auto","on","off","temperature","start","stop"]},"level":{"type":"integer","minimum":0,"maximum":100},"mode":{"type":"string","maxLength":100},"minutes":{"type":"integer","minimum":1},"target":{"type":"number"}"#,
        r#"["device","action"]"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(true, true),
};

pub const EMERGENCY_STOP: ToolDef = ToolDef {
    name: "emergency_stop",
    title: "Emergency stop",
    description: "Stops every blind, window, gate and irrigation, pauses all audio, turns \
saunas off, then latches: every other command is refused until a person runs `loxwarden \
resume`. Never refused.",
    input_schema: r#"{"type":"object","properties":{"reason":{"type":"string","maxLength":500}},"additionalProperties":false}"#,
    output_schema: ESTOP_OUTPUT,
    annotations: Annotations {
        read_only: false,
        destructive: false,
        idempotent: true,
        open_world: true,
    },
};

pub const SET_ALARM: ToolDef = ToolDef {
    name: "set_alarm",
    title: "Arm or disarm the burglar alarm",
    description: "arm, arm_delayed, disarm or acknowledge a burglar alarm (if opted in). \
disarm and acknowledge always ask the person; arming asks when someone may be inside. Smoke \
alarms are read-only.",
    input_schema: input!(
        device,
        r#","action":{"type":"string","enum":["arm","arm_delayed","disarm","acknowledge"]}"#,
        r#"["device","action"]"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(true, true),
};

pub const CONTROL_ACCESS: ToolDef = ToolDef {
    name: "control_access",
    title: "Doors, locks and gates",
    description: "open, close, stop, lock or unlock a door, lock or gate (if opted in). open \
and unlock always ask the person; an intercom's door opener also needs a bell ring in the last \
2 min. Closing and locking are refused in a fire/water emergency.",
    input_schema: input!(
        device,
        r#","action":{"type":"string","enum":["open","close","stop","lock","unlock"]}"#,
        r#"["device","action"]"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(true, false),
};

pub const CONTROL_INTERCOM: ToolDef = ToolDef {
    name: "control_intercom",
    title: "Intercom",
    description: "answer (silences the bell) or open_door, which works only within 2 min of a \
ring and asks the person. No audio or video.",
    input_schema: input!(
        device,
        r#","action":{"type":"string","enum":["answer","open_door"]}"#,
        r#"["device","action"]"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(true, false),
};

pub const ACTIVATE_SCENE: ToolDef = ToolDef {
    name: "activate_scene",
    title: "Activate a scene",
    description: "Activates a mood or central command (names from describe_scene). Asks the \
person when it moves blinds, gates, doors or the alarm, or over 5 devices; refused if it \
affects unexposed devices, or closes, darkens or plays in an emergency.",
    input_schema: input!(
        device,
        r#","scene":{"type":"string","minLength":1,"maxLength":200}"#,
        r#"["device","scene"]"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(true, true),
};

/// Every shipped tool, in `tools/list` order.
pub const RELEASE: &[ToolDef] = &[
    GET_SYSTEM_STATUS,
    LIST_ROOMS,
    LIST_DEVICES,
    GET_DEVICE,
    DESCRIBE_SCENE,
    CONTROL_LIGHT,
    CONTROL_BLIND,
    SET_TEMPERATURE,
    CONTROL_AUDIO,
    CONTROL_CHARGER,
    CONTROL_APPLIANCE,
    EMERGENCY_STOP,
    SET_ALARM,
    CONTROL_ACCESS,
    CONTROL_INTERCOM,
    ACTIVATE_SCENE,
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn schema(text: &str) -> Value {
        let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(v["type"], "object", "{text}");
        v
    }

    #[test]
    fn every_tool_has_object_schemas_closed_inputs_and_the_arguments_intent_parses() {
        assert_eq!(RELEASE.len(), crate::intent::TOOLS.len());
        for def in RELEASE {
            let spec = crate::intent::TOOLS
                .iter()
                .find(|t| t.name == def.name)
                .unwrap_or_else(|| panic!("{} is not in intent::TOOLS", def.name));
            let input = schema(def.input_schema);
            assert_eq!(input["additionalProperties"], false, "{}", def.name);
            let mut props: Vec<&str> = input["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let mut args = spec.args.to_vec();
            props.sort_unstable();
            args.sort_unstable();
            assert_eq!(props, args, "{}", def.name);
            for r in input["required"].as_array().into_iter().flatten() {
                assert!(spec.args.contains(&r.as_str().unwrap()), "{}", def.name);
            }
            let output = schema(def.output_schema);
            assert!(
                output["required"]
                    .as_array()
                    .unwrap()
                    .contains(&Value::from("message")),
                "{}",
                def.name
            );
            assert!(def.description.len() > 40 && !def.title.is_empty());
        }
    }

    #[test]
    fn reads_are_read_only_and_actuators_are_not() {
        for def in RELEASE {
            let read = crate::intent::TOOLS
                .iter()
                .find(|t| t.name == def.name)
                .is_some_and(|t| {
                    matches!(
                        t.name,
                        "get_system_status"
                            | "list_rooms"
                            | "list_devices"
                            | "get_device"
                            | "describe_scene"
                    )
                });
            assert_eq!(def.annotations.read_only, read, "{}", def.name);
            assert_eq!(def.annotations.open_world, !read, "{}", def.name);
            if read {
                assert!(!def.annotations.destructive && def.annotations.idempotent);
            }
        }
        // Doors and the alarm are destructive; a door opener pulse repeats.
        let ann = |name: &str| RELEASE.iter().find(|d| d.name == name).unwrap().annotations;
        assert!(ann("control_access").destructive && !ann("control_access").idempotent);
        assert!(ann("set_alarm").destructive);
        // The stop must never wait for a client's "are you sure".
        assert!(!ann("emergency_stop").destructive && ann("emergency_stop").idempotent);
    }

    #[test]
    fn the_enumerations_in_the_schemas_match_what_intent_accepts() {
        let actions = |def: &ToolDef| -> Vec<String> {
            schema(def.input_schema)["properties"]["action"]["enum"]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default()
        };
        assert_eq!(actions(&CONTROL_LIGHT), ["on", "off", "dim"]);
        assert_eq!(
            actions(&CONTROL_BLIND),
            ["up", "down", "stop", "position", "shade"]
        );
        assert_eq!(
            actions(&SET_ALARM),
            ["arm", "arm_delayed", "disarm", "acknowledge"]
        );
        let kinds = &schema(LIST_DEVICES.input_schema)["properties"]["kind"]["enum"];
        let all: Vec<&str> = crate::house::Kind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            kinds
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect::<Vec<_>>(),
            all
        );
    }
}
