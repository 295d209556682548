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

use serde_json::{Map, Value, json};

use crate::house::resolve::{self, quote_untrusted};
use crate::house::scene::{self, SceneEntry};
use crate::house::{DevId, House, Kind};
use crate::loxone::command::Percent;
use crate::loxone::state::LiveStates;
use crate::loxone::structure::TempUnit;
use crate::safety::Refusal;

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

/// Parses and resolves one tool call. Live states are needed only to resolve scene names
/// (moods come from the Miniserver's live mood list).
pub fn parse(
    tool: &str,
    args: &Map<String, Value>,
    house: &House,
    states: &dyn LiveStates,
) -> Result<Intent, Refusal> {
    let Some(spec) = TOOLS.iter().find(|t| t.name == tool) else {
        return Err(bad(format!("there is no tool {}", quote_untrusted(tool))));
    };
    if tool == "emergency_stop" {
        // the stop is never refused for how it was asked.
        return Ok(Intent::EmergencyStop {
            reason: emergency_stop_reason(args),
        });
    }
    for key in args.keys() {
        if !spec.args.contains(&key.as_str()) {
            return Err(bad(format!(
                "{tool} does not take an argument {}; it takes: {}",
                quote_untrusted(key),
                if spec.args.is_empty() {
                    "none".to_owned()
                } else {
                    spec.args.join(", ")
                }
            )));
        }
    }
    let a = Args { tool, args };
    let device = || -> Result<DevId, Refusal> {
        let arg = a.req_str("device")?;
        let id = resolve::resolve(house, arg, spec.kinds)?;
        check_kind(house, tool, spec.kinds, id)?;
        Ok(id)
    };
    Ok(match tool {
        "get_system_status" => Intent::GetSystemStatus,
        "list_rooms" => Intent::ListRooms,
        "list_devices" => Intent::ListDevices {
            room: match a.opt_str("room")? {
                Some(r) => Some(resolve::resolve_room(house, r)?.to_owned()),
                None => None,
            },
            kind: match a.opt_str("kind")? {
                Some(k) => Some(Kind::parse(k).ok_or_else(|| {
                    bad(format!(
                        "kind {} is not one of: {}",
                        quote_untrusted(k),
                        Kind::ALL.map(Kind::as_str).join(", ")
                    ))
                })?),
                None => None,
            },
            page: a.opt_page("page")?,
        },
        "get_device" => Intent::GetDevice { device: device()? },
        "describe_scene" => Intent::DescribeScene { device: device()? },
        "control_light" => {
            let device = device()?;
            let action = match a.action(&["on", "off", "dim"])? {
                "dim" => LightAction::Dim(a.req_percent("brightness")?),
                other => {
                    a.forbid("brightness", "dim")?;
                    if other == "on" {
                        LightAction::On
                    } else {
                        LightAction::Off
                    }
                }
            };
            Intent::Light { device, action }
        }
        "control_blind" => {
            let device = device()?;
            let action = match a.action(&["up", "down", "stop", "position", "shade"])? {
                "position" => BlindAction::Position(a.req_percent("position")?),
                other => {
                    a.forbid("position", "position")?;
                    match other {
                        "up" => BlindAction::Up,
                        "down" => BlindAction::Down,
                        "stop" => BlindAction::Stop,
                        _ => BlindAction::Shade,
                    }
                }
            };
            Intent::Blind { device, action }
        }
        "set_temperature" => {
            let device = climate_device(house, a.req_str("device")?)?;
            let given = a.req_number("target")?;
            let unit = match a.req_str("unit")? {
                "C" | "c" => TempUnit::Celsius,
                "F" | "f" => TempUnit::Fahrenheit,
                other => {
                    return Err(bad(format!(
                        "unit must be \"C\" or \"F\", not {}",
                        quote_untrusted(other)
                    )));
                }
            };
            let celsius = match unit {
                TempUnit::Celsius => given,
                TempUnit::Fahrenheit => (given - 32.0) * 5.0 / 9.0,
            };
            if !celsius.is_finite() {
                return Err(bad(format!("target {given} °F is not a temperature")));
            }
            Intent::Temperature {
                device,
                target: Temp {
                    celsius,
                    given,
                    unit,
                },
            }
        }
        "control_audio" => {
            let device = device()?;
            let action = match a.action(&["play", "pause", "volume", "next", "previous"])? {
                "volume" => AudioAction::Volume(a.req_percent("volume")?.get()),
                other => {
                    a.forbid("volume", "volume")?;
                    match other {
                        "play" => AudioAction::Play,
                        "pause" => AudioAction::Pause,
                        "next" => AudioAction::Next,
                        _ => AudioAction::Previous,
                    }
                }
            };
            Intent::Audio { device, action }
        }
        "control_charger" => {
            let device = device()?;
            let action = match a.action(&["start", "stop", "limit"])? {
                "limit" => {
                    let kw = a.req_number("kw")?;
                    if kw <= 0.0 || kw > 1000.0 {
                        return Err(bad(format!("kw must be a positive power in kW, not {kw}")));
                    }
                    ChargerAction::Limit(kw)
                }
                other => {
                    a.forbid("kw", "limit")?;
                    if other == "start" {
                        ChargerAction::Start
                    } else {
                        ChargerAction::Stop
                    }
                }
            };
            Intent::Charger { device, action }
        }
        "emergency_stop" => Intent::EmergencyStop {
            reason: emergency_stop_reason(args),
        },
        "set_alarm" => {
            let device = device()?;
            let action = match a.action(&["arm", "arm_delayed", "disarm", "acknowledge"])? {
                "arm" => AlarmAction::Arm,
                "arm_delayed" => AlarmAction::ArmDelayed,
                "disarm" => AlarmAction::Disarm,
                _ => AlarmAction::Acknowledge,
            };
            Intent::Alarm { device, action }
        }
        "control_access" => {
            let device = device()?;
            let action = match a.action(&["open", "close", "stop", "lock", "unlock"])? {
                "open" => AccessAction::Open,
                "close" => AccessAction::Close,
                "stop" => AccessAction::Stop,
                "lock" => AccessAction::Lock,
                _ => AccessAction::Unlock,
            };
            Intent::Access { device, action }
        }
        "control_intercom" => {
            let device = device()?;
            let action = match a.action(&["answer", "open_door"])? {
                "answer" => IntercomAction::Answer,
                _ => IntercomAction::OpenDoor,
            };
            Intent::Intercom { device, action }
        }
        "activate_scene" => {
            let device = device()?;
            let arg = a.req_str("scene")?;
            let desc = scene::describe(house, device, states)?;
            let scene = desc.find(house, arg)?.clone();
            Intent::ActivateScene { device, scene }
        }
        _ => return Err(bad(format!("there is no tool {}", quote_untrusted(tool)))),
    })
}

/// `set_temperature`'s device: a room controller by name or id, or a room with exactly one.
fn climate_device(house: &House, arg: &str) -> Result<DevId, Refusal> {
    match resolve::resolve(house, arg, &[Kind::Climate]) {
        Ok(id) => {
            check_kind(house, "set_temperature", &[Kind::Climate], id)?;
            Ok(id)
        }
        Err(as_device) => {
            let Ok(room) = resolve::resolve_room(house, arg) else {
                return Err(as_device);
            };
            let in_room = house.list(Some(room), Some(Kind::Climate));
            match in_room.as_slice() {
                [one] => Ok(*one),
                [] => Err(Refusal::new(
                    "SC-1",
                    format!("{room} has no exposed room controller"),
                )),
                many => Err(Refusal::new(
                    "SC-1",
                    format!(
                        "{room} has {} room controllers; name one: {}",
                        many.len(),
                        resolve::candidate_list(house, many, "")
                    ),
                )),
            }
        }
    }
}

fn check_kind(house: &House, tool: &str, kinds: &[Kind], id: DevId) -> Result<(), Refusal> {
    let d = house.device(id);
    if kinds.is_empty() || kinds.contains(&d.kind) {
        return Ok(());
    }
    let want: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    Err(Refusal::new(
        "SC-1",
        format!(
            "{} is {} ({}); {tool} addresses {} devices only; {}",
            d.label(),
            d.kind.with_article(),
            d.loxone_type,
            want.join(" or "),
            right_tool(d.kind)
        ),
    ))
}

/// Which tool does what the AI asked of a device of `kind`: a refusal for the wrong tool says
/// so, so the next call is the right one instead of a guess.
fn right_tool(kind: Kind) -> String {
    let tools: Vec<&str> = TOOLS
        .iter()
        .filter(|t| t.kinds.contains(&kind))
        .map(|t| t.name)
        .collect();
    match (kind, tools.as_slice()) {
        (Kind::Scene, _) => "its moods or commands are what describe_scene lists and                              activate_scene activates"
            .into(),
        (_, []) => "no tool controls it (get_device reads it)".into(),
        (_, many) => format!("use {} for it", many.join(" or ")),
    }
}

/// Devices per `list_devices` answer. A whole large house in one answer (3 MB for 5,000
/// controls) is more than an AI client can read and took a quarter of a second to build; a page
/// of 100 with the total and the page count lets the AI narrow by room or kind, or go on.
pub const LIST_PAGE: usize = 100;
/// The highest page number accepted (100,000 devices).
const MAX_PAGE: usize = 1000;

fn bad(reason: String) -> Refusal {
    Refusal::new("SC-10", reason)
}

/// Sanitises the emergency-stop reason for the audit: printable, at most 200 characters.
/// The reason an `emergency_stop` call gives, whatever its arguments (R-11: the stop is never
/// refused for how it was asked). A string `reason` is kept (sanitised); anything else (a
/// mistyped reason, an argument the tool does not take) is noted as not understood, so the
/// latch and the audit record show exactly what the caller sent. `None`: no arguments at all.
pub fn emergency_stop_reason(args: &Map<String, Value>) -> Option<String> {
    let reason = args
        .get("reason")
        .and_then(Value::as_str)
        .map(|r| sanitise_reason(r).trim_end().to_owned());
    let odd: Map<String, Value> = args
        .iter()
        .filter(|(k, v)| !(k.as_str() == "reason" && v.is_string()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if odd.is_empty() {
        return reason;
    }
    let odd = sanitise_reason(&Value::Object(odd).to_string());
    // Bounded as a plain reason is (200 characters).
    Some(sanitise_reason(&match reason {
        Some(r) => format!("{r} (arguments not understood: {odd})"),
        None => format!("no reason given (arguments not understood: {odd})"),
    }))
}

fn sanitise_reason(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect()
}

struct Args<'a> {
    tool: &'a str,
    args: &'a Map<String, Value>,
}

impl<'a> Args<'a> {
    fn opt_str(&self, name: &str) -> Result<Option<&'a str>, Refusal> {
        match self.args.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(bad(format!(
                "{} must be a string, not {}",
                name,
                type_name(other)
            ))),
        }
    }

    fn req_str(&self, name: &str) -> Result<&'a str, Refusal> {
        self.opt_str(name)?
            .ok_or_else(|| bad(format!("{} needs the argument {name}", self.tool)))
    }

    fn action(&self, vocab: &[&'static str]) -> Result<&'static str, Refusal> {
        let s = self.req_str("action")?;
        vocab.iter().copied().find(|v| *v == s).ok_or_else(|| {
            bad(format!(
                "action {} is not one of: {}",
                quote_untrusted(s),
                vocab.join(", ")
            ))
        })
    }

    fn req_number(&self, name: &str) -> Result<f64, Refusal> {
        match self.args.get(name) {
            None | Some(Value::Null) => {
                Err(bad(format!("{} needs the argument {name}", self.tool)))
            }
            Some(Value::Number(n)) => match n.as_f64() {
                Some(f) if f.is_finite() => Ok(f),
                _ => Err(bad(format!("{name} must be a finite number"))),
            },
            Some(other) => Err(bad(format!(
                "{name} must be a number, not {}",
                type_name(other)
            ))),
        }
    }

    /// A 1-based page number (1 when absent).
    fn opt_page(&self, name: &str) -> Result<usize, Refusal> {
        if self.args.get(name).is_none_or(Value::is_null) {
            return Ok(1);
        }
        let f = self.req_number(name)?;
        if f.fract() != 0.0 || !(1.0..=MAX_PAGE as f64).contains(&f) {
            return Err(bad(format!(
                "{name} must be a whole number from 1 to {MAX_PAGE}, not {f}"
            )));
        }
        Ok(f as usize)
    }

    fn req_percent(&self, name: &str) -> Result<Percent, Refusal> {
        let f = self.req_number(name)?;
        if f.fract() != 0.0 || !(0.0..=100.0).contains(&f) {
            return Err(bad(format!(
                "{name} must be a whole number from 0 to 100, not {f}"
            )));
        }
        Percent::new(f as u8).ok_or_else(|| bad(format!("{name} must be 0–100")))
    }

    fn forbid(&self, name: &str, only_for: &str) -> Result<(), Refusal> {
        if self.args.get(name).is_some_and(|v| !v.is_null()) {
            return Err(bad(format!("{name} is only used with action {only_for}")));
        }
        Ok(())
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
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
