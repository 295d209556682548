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

/// A device argument: name, `Room/Name` or id.
macro_rules! device_prop {
    ($what:literal) => {
        concat!(
            r#""device":{"type":"string","minLength":1,"maxLength":200,"description":""#,
            $what,
            r#": its name, Room/Name, or id (UUID) exactly as list_devices shows it"}"#
        )
    };
}

/// The result of every control tool (`tools::result::ControlResult`).
pub const CONTROL_OUTPUT: &str = r#"{
  "type": "object",
  "properties": {
    "done": {"type": "boolean", "description": "true only when the Miniserver answered LL 200 to every command"},
    "message": {"type": "string"},
    "tool": {"type": "string"},
    "action": {"type": "string"},
    "audit_id": {"type": "string"},
    "device": {
      "type": "object",
      "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "room": {"type": "string"},
        "kind": {"type": "string"}
      },
      "required": ["id", "name", "room", "kind"]
    },
    "refused": {
      "type": "object",
      "properties": {"rule": {"type": "string"}, "reason": {"type": "string"}},
      "required": ["rule", "reason"]
    },
    "consent": {
      "type": "object",
      "properties": {
        "rule": {"type": "string"}, "outcome": {"type": "string"}, "question": {"type": "string"}
      },
      "required": ["rule", "outcome"]
    },
    "commands": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "device": {"type": "string"},
          "command": {"type": "string"},
          "sent": {"type": "boolean"},
          "code": {"type": ["integer", "null"]},
          "value": {"type": ["string", "null"]},
          "error": {"type": ["string", "null"]}
        },
        "required": ["device", "command", "sent"]
      }
    },
    "read_back": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "device": {"type": "string"},
          "state": {"type": "string"},
          "status": {"type": "string", "enum": ["confirmed", "pending", "unconfirmed", "unknown"]},
          "expected": {"type": "string"},
          "value": {"type": ["number", "string", "null"]},
          "age_ms": {"type": ["integer", "null"]}
        },
        "required": ["device", "state", "status", "expected"]
      }
    },
    "notes": {"type": "array", "items": {"type": "string"}}
  },
  "required": ["done", "message", "tool", "audit_id", "commands", "read_back"]
}"#;

const STATUS_OUTPUT: &str = r#"{
  "type": "object",
  "properties": {
    "message": {"type": "string"},
    "server": {
      "type": "object",
      "properties": {
        "name": {"type": "string"}, "version": {"type": "string"},
        "uptime_s": {"type": "integer", "minimum": 0}, "local_time": {"type": "string"},
        "protocol": {
          "type": "object",
          "properties": {
            "this_call": {"type": "string"},
            "handshake": {"type": "array", "items": {"type": "string"}},
            "stateless": {"type": "array", "items": {"type": "string"}}
          },
          "required": ["this_call", "handshake", "stateless"]
        }
      },
      "required": ["name", "version", "uptime_s", "protocol"]
    },
    "link": {
      "type": "object",
      "properties": {
        "state": {"type": "string", "enum": ["connecting", "live", "degraded", "down"]},
        "since": {"type": "string"}, "for_s": {"type": "integer"}, "reason": {"type": "string"}
      },
      "required": ["state", "since", "for_s", "reason"]
    },
    "miniserver": {"type": "object"},
    "structure": {
      "type": "object",
      "properties": {
        "last_modified": {"type": "string"}, "generation": {"type": "integer"},
        "source": {"type": "string"}, "controls": {"type": "integer"},
        "bytes": {"type": "integer"}, "age_s": {"type": ["integer", "null"]}
      },
      "required": ["last_modified", "generation", "source"]
    },
    "emergency_stop": {
      "type": "object",
      "properties": {
        "latched": {"type": "boolean"}, "since": {"type": ["string", "null"]},
        "reason": {"type": ["string", "null"]}, "by": {"type": ["string", "null"]}
      },
      "required": ["latched"]
    },
    "posture": {
      "type": "object",
      "properties": {
        "name": {"type": "string", "enum": ["emergency-stop", "degraded", "emergency", "intrusion", "night", "normal"]},
        "reasons": {"type": "array", "items": {"type": "string"}}
      },
      "required": ["name", "reasons"]
    },
    "alarms": {"type": "array", "items": {"type": "string"}},
    "house_error": {"type": "string"},
    "audit_log": {"type": "string"},
    "error": {"type": "string"}
  },
  "required": ["message", "server", "link", "miniserver", "structure", "emergency_stop", "posture", "alarms"]
}"#;

const ROOMS_OUTPUT: &str = r#"{
  "type": "object",
  "properties": {
    "message": {"type": "string"},
    "rooms": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "name": {"type": "string"},
          "devices": {"type": "integer", "minimum": 0},
          "kinds": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["name", "devices", "kinds"]
      }
    },
    "error": {"type": "string"}
  },
  "required": ["message", "rooms"]
}"#;

/// One device as `list_devices` and `get_device` show it (`tools::read::device_json`).
macro_rules! device_schema {
    () => {
        r#"{
      "type": "object",
      "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "room": {"type": "string"},
        "kind": {"type": "string"}, "type": {"type": "string"},
        "read_only": {"type": ["string", "null"]},
        "secured": {"type": "boolean"},
        "state": {
          "type": "object",
          "additionalProperties": {
            "type": "object",
            "properties": {"value": {"type": ["number", "string"]}, "age_ms": {"type": "integer"}},
            "required": ["value", "age_ms"]
          }
        },
        "actions": {
          "type": "array",
          "items": {
            "type": "object",
            "properties": {
              "action": {"type": "string"},
              "now": {"type": "string", "enum": ["allowed", "needs_consent", "refused"]},
              "rule": {"type": "string"}
            },
            "required": ["action", "now"]
          }
        }
      },
      "required": ["id", "name", "room", "kind", "type", "state", "actions"]
    }"#
    };
}

const DEVICES_OUTPUT: &str = concat!(
    r#"{"type":"object","properties":{"message":{"type":"string"},"count":{"type":"integer"},"total":{"type":"integer"},"page":{"type":"integer"},"pages":{"type":"integer"},"error":{"type":"string"},"devices":{"type":"array","items":"#,
    device_schema!(),
    r#"}},"required":["message","devices"]}"#
);

const DEVICE_OUTPUT: &str = concat!(
    r#"{"type":"object","properties":{"message":{"type":"string"},"error":{"type":"string"},"limits":{"type":"object"},"parent":{"type":["string","null"]},"children":{"type":"array","items":{"type":"string"}},"device":"#,
    device_schema!(),
    r#"},"required":["message"]}"#
);

const SCENE_OUTPUT: &str = r#"{
  "type": "object",
  "properties": {
    "message": {"type": "string"},
    "error": {"type": "string"},
    "device": {"type": "string"},
    "scenes": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "name": {"type": "string"}, "id": {"type": ["integer", "null"]},
          "effect": {"type": "string"}, "now": {"type": "string"}, "rule": {"type": "string"}
        },
        "required": ["name", "effect"]
      }
    },
    "members": {"type": "array", "items": {"type": "string"}},
    "affected": {"type": "array", "items": {"type": "string"}},
    "hidden": {"type": "integer", "minimum": 0},
    "note": {"type": ["string", "null"]}
  },
  "required": ["message"]
}"#;

const ESTOP_OUTPUT: &str = r#"{
  "type": "object",
  "properties": {
    "done": {"type": "boolean", "description": "true only when every device answered LL 200"},
    "message": {"type": "string"},
    "audit_id": {"type": "string"},
    "latched": {
      "type": "object",
      "properties": {
        "since": {"type": "string"}, "reason": {"type": "string"}, "by": {"type": "string"},
        "persisted": {"type": "boolean"}
      },
      "required": ["since", "reason", "by", "persisted"]
    },
    "commands": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "device": {"type": "string"}, "command": {"type": "string"}, "sent": {"type": "boolean"},
          "code": {"type": ["integer", "null"]}, "value": {"type": ["string", "null"]},
          "error": {"type": ["string", "null"]}
        },
        "required": ["device", "command", "sent"]
      }
    },
    "notes": {"type": "array", "items": {"type": "string"}},
    "refused": {"type": "object"}
  },
  "required": ["done", "message", "audit_id", "commands"]
}"#;

pub const GET_SYSTEM_STATUS: ToolDef = ToolDef {
    name: "get_system_status",
    title: "System status",
    description: "Start here. Reports whether the link to the Loxone Miniserver is live (and since \
when), the Miniserver, the structure file version and age, whether the emergency stop is latched, \
active smoke/water/burglar alarms, and the safety posture with its reasons (emergency-stop, \
degraded, emergency, intrusion, night, normal). No command is sent while the link is not live or \
the emergency stop is latched.",
    input_schema: r#"{"type":"object","properties":{},"additionalProperties":false}"#,
    output_schema: STATUS_OUTPUT,
    annotations: READ,
};

pub const LIST_ROOMS: ToolDef = ToolDef {
    name: "list_rooms",
    title: "List rooms",
    description: "Lists the rooms that hold devices you may see, with how many devices of which \
kinds each has.",
    input_schema: r#"{"type":"object","properties":{},"additionalProperties":false}"#,
    output_schema: ROOMS_OUTPUT,
    annotations: READ,
};

pub const LIST_DEVICES: ToolDef = ToolDef {
    name: "list_devices",
    title: "List devices",
    description: "Lists the devices you may see, optionally in one room and of one kind: id, name, \
room, kind, Loxone type, live state with its age in milliseconds, and which actions are possible \
right now (allowed, needs the person's consent, or refused with the rule). Devices that are not \
exposed by the site's config do not exist for you. Switches whose purpose is unknown are \
read-only. Large houses are answered 100 devices at a time: the answer says the total and the \
number of pages; ask for the next `page`, or narrow by room or kind.",
    input_schema: r#"{"type":"object","properties":{"room":{"type":"string","maxLength":200,"description":"a room name from list_rooms"},"kind":{"type":"string","enum":["light","blind","climate","audio","alarm","access","intercom","charger","scene","sensor","other"]},"page":{"type":"integer","minimum":1,"maximum":1000,"description":"which page of 100 devices (default 1); the answer gives total and pages"}},"additionalProperties":false}"#,
    output_schema: DEVICES_OUTPUT,
    annotations: READ,
};

pub const GET_DEVICE: ToolDef = ToolDef {
    name: "get_device",
    title: "Get one device",
    description: "Shows one device with every live state and its age, its safety limits (e.g. \
the temperature band of its room) and which actions are possible now.",
    input_schema: concat!(
        r#"{"type":"object","properties":{"#,
        device_prop!("the device"),
        r#"},"required":["device"],"additionalProperties":false}"#
    ),
    output_schema: DEVICE_OUTPUT,
    annotations: READ,
};

pub const DESCRIBE_SCENE: ToolDef = ToolDef {
    name: "describe_scene",
    title: "Describe a scene",
    description: "For a light controller or a central object: its scenes (moods or commands) and \
every device each one affects. Call it before activate_scene; a scene that moves blinds, gates, \
doors or the alarm, or more than 5 devices, needs the person's consent.",
    input_schema: concat!(
        r#"{"type":"object","properties":{"#,
        device_prop!("the light controller or central object"),
        r#"},"required":["device"],"additionalProperties":false}"#
    ),
    output_schema: SCENE_OUTPUT,
    annotations: READ,
};

pub const CONTROL_LIGHT: ToolDef = ToolDef {
    name: "control_light",
    title: "Control a light",
    description: "Switches or dims a light (kind light). brightness 0–100 only with dim. Limits: \
at most one change per second and 20 per minute per light; during a fire/water emergency lights \
may only go on or brighter; at night in sleeping rooms 'on' means 30 % and brighter needs the \
person's consent. The result has the Miniserver's answer and the state read back.",
    input_schema: concat!(
        r#"{"type":"object","properties":{"#,
        device_prop!("the light"),
        r#","action":{"type":"string","enum":["on","off","dim"]},"brightness":{"type":"integer","minimum":0,"maximum":100,"description":"percent, only with action dim"}},"required":["device","action"],"additionalProperties":false}"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(false, true),
};

pub const CONTROL_BLIND: ToolDef = ToolDef {
    name: "control_blind",
    title: "Move a blind or window",
    description: "Moves a blind or motorised window (kind blind): up, down, stop, position \
(0 = open, 100 = closed) or shade. Limits: at least 2 s between commands to one blind, at most 10 \
per minute, a reversal of direction only after stop; closing is refused during a fire/water \
emergency. stop is always allowed. Movement takes time: the result says pending with the \
direction.",
    input_schema: concat!(
        r#"{"type":"object","properties":{"#,
        device_prop!("the blind or window"),
        r#","action":{"type":"string","enum":["up","down","stop","position","shade"]},"position":{"type":"integer","minimum":0,"maximum":100,"description":"0 = open, 100 = closed; only with action position"}},"required":["device","action"],"additionalProperties":false}"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(true, true),
};

pub const SET_TEMPERATURE: ToolDef = ToolDef {
    name: "set_temperature",
    title: "Set a room temperature",
    description: "Sets the comfort temperature of a room controller (or of a room with exactly \
one). unit C or F is required. 16–28 °C is allowed; 10–16 and 28–30 °C need the person's \
consent; outside 10–30 °C is refused, as is a change of more than 6 °C at once; rooms may have a \
tighter band (e.g. a nursery). Heating cannot be switched off.",
    input_schema: concat!(
        r#"{"type":"object","properties":{"#,
        device_prop!("the room controller, or a room with exactly one"),
        r#","target":{"type":"number","description":"the temperature in the given unit"},"unit":{"type":"string","enum":["C","F"]}},"required":["device","target","unit"],"additionalProperties":false}"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(false, true),
};

pub const CONTROL_AUDIO: ToolDef = ToolDef {
    name: "control_audio",
    title: "Control an audio zone",
    description: "play, pause, next, previous, or volume (0–100) for an audio zone. Volume up to \
60 % is allowed, 61–85 % needs the person's consent, above 85 % is refused; rises are ramped in \
steps of 10 with pauses. No play or louder while a smoke, water or burglar alarm sounds.",
    input_schema: concat!(
        r#"{"type":"object","properties":{"#,
        device_prop!("the audio zone"),
        r#","action":{"type":"string","enum":["play","pause","volume","next","previous"]},"volume":{"type":"integer","minimum":0,"maximum":100,"description":"percent, only with action volume"}},"required":["device","action"],"additionalProperties":false}"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(false, false),
};

pub const CONTROL_CHARGER: ToolDef = ToolDef {
    name: "control_charger",
    title: "Control an EV charger",
    description: "start or stop charging, or limit the charging power to kw (within the \
charger's own minimum and maximum).",
    input_schema: concat!(
        r#"{"type":"object","properties":{"#,
        device_prop!("the charger"),
        r#","action":{"type":"string","enum":["start","stop","limit"]},"kw":{"type":"number","exclusiveMinimum":0,"description":"kW, only with action limit"}},"required":["device","action"],"additionalProperties":false}"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(true, true),
};

pub const EMERGENCY_STOP: ToolDef = ToolDef {
    name: "emergency_stop",
    title: "Emergency stop",
    description: "Stops every blind, window and gate and pauses every audio zone in the house at \
once, and latches: afterwards every other command is refused until a person runs `loxwarden \
resume` on the gateway. Always allowed. reason is recorded in the audit log.",
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
    description: "arm, arm_delayed, disarm or acknowledge a burglar alarm (kind alarm; only if \
the site opted it in). Disarm and acknowledge always need the person's consent; arming needs it \
when someone may be inside. Smoke alarms are read-only.",
    input_schema: concat!(
        r#"{"type":"object","properties":{"#,
        device_prop!("the alarm"),
        r#","action":{"type":"string","enum":["arm","arm_delayed","disarm","acknowledge"]}},"required":["device","action"],"additionalProperties":false}"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(true, true),
};

pub const CONTROL_ACCESS: ToolDef = ToolDef {
    name: "control_access",
    title: "Doors, locks and gates",
    description: "open, close, stop, lock or unlock an access device (kind access; only if the \
site opted it in). open and unlock always need the person's consent (the question says whether \
the alarm is armed); an intercom's door opener also needs a bell ring within the last 2 minutes. \
Closing and locking are refused during a fire/water emergency.",
    input_schema: concat!(
        r#"{"type":"object","properties":{"#,
        device_prop!("the door, lock or gate"),
        r#","action":{"type":"string","enum":["open","close","stop","lock","unlock"]}},"required":["device","action"],"additionalProperties":false}"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(true, false),
};

pub const CONTROL_INTERCOM: ToolDef = ToolDef {
    name: "control_intercom",
    title: "Intercom",
    description: "answer (silences the bell) or open_door. open_door works only within 2 minutes \
after the bell rang and with the person's consent. No audio or video is opened.",
    input_schema: concat!(
        r#"{"type":"object","properties":{"#,
        device_prop!("the intercom"),
        r#","action":{"type":"string","enum":["answer","open_door"]}},"required":["device","action"],"additionalProperties":false}"#
    ),
    output_schema: CONTROL_OUTPUT,
    annotations: act(true, false),
};

pub const ACTIVATE_SCENE: ToolDef = ToolDef {
    name: "activate_scene",
    title: "Activate a scene",
    description: "Activates a mood of a light controller or a command of a central object \
(scene names from describe_scene). Needs the person's consent when it moves blinds, gates, doors \
or the alarm, or more than 5 devices; closing, darkening and playing scenes are refused during an \
emergency. The result reports every affected device's own state.",
    input_schema: concat!(
        r#"{"type":"object","properties":{"#,
        device_prop!("the light controller or central object"),
        r#","scene":{"type":"string","minLength":1,"maxLength":200,"description":"a scene name or id from describe_scene"}},"required":["device","scene"],"additionalProperties":false}"#
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
