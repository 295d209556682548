//! The vocabulary of every tool: which kinds of device it addresses and which arguments it
//! takes. One table, so the parser, the catalogue and the README cannot disagree.

use super::*;

/// Every tool's name, the kinds of device it addresses, and its arguments (the public
/// interface of issues 5 and 6; keep in step with the tool catalogue and the README).
#[derive(Clone, Copy, Debug)]
pub struct ToolSpec {
    pub name: &'static str,
    pub kinds: &'static [Kind],
    pub args: &'static [&'static str],
}

pub const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "get_system_status",
        kinds: &[],
        args: &[],
    },
    ToolSpec {
        name: "list_rooms",
        kinds: &[],
        args: &[],
    },
    ToolSpec {
        name: "list_devices",
        kinds: &[],
        args: &["room", "kind", "page"],
    },
    ToolSpec {
        name: "get_device",
        kinds: &[],
        args: &["device"],
    },
    ToolSpec {
        name: "control_light",
        kinds: &[Kind::Light],
        args: &["device", "action", "brightness"],
    },
    ToolSpec {
        name: "control_blind",
        kinds: &[Kind::Blind],
        args: &["device", "action", "position"],
    },
    ToolSpec {
        name: "set_temperature",
        kinds: &[Kind::Climate],
        args: &["device", "target", "unit"],
    },
    ToolSpec {
        name: "control_audio",
        kinds: &[Kind::Audio],
        args: &["device", "action", "volume"],
    },
    ToolSpec {
        name: "control_charger",
        kinds: &[Kind::Charger],
        args: &["device", "action", "kw"],
    },
    ToolSpec {
        name: "control_appliance",
        kinds: &[Kind::Appliance],
        args: &["device", "action", "level", "mode", "minutes", "target"],
    },
    ToolSpec {
        name: "emergency_stop",
        kinds: &[],
        args: &["reason"],
    },
    ToolSpec {
        name: "set_alarm",
        kinds: &[Kind::Alarm],
        args: &["device", "action"],
    },
    ToolSpec {
        name: "control_access",
        kinds: &[Kind::Access],
        args: &["device", "action"],
    },
    ToolSpec {
        name: "control_intercom",
        kinds: &[Kind::Intercom],
        args: &["device", "action"],
    },
    ToolSpec {
        name: "describe_scene",
        kinds: &[Kind::Scene],
        args: &["device"],
    },
    ToolSpec {
        name: "activate_scene",
        kinds: &[Kind::Scene],
        args: &["device", "scene"],
    },
];
