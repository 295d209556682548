//! Tool arguments → [`Intent`]: the one parse at the boundary (SC-1, SC-10). Every argument is
//! checked for shape, then resolved against the house; a device of the wrong kind is refused
//! with the name of the tool that handles it.

use super::*;

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
        "control_appliance" => appliance(house, &a, device()?)?,
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

/// The actions of every appliance type, in the order the schema lists them.
pub(super) const APPLIANCE_ACTIONS: &[&str] =
    &["level", "auto", "on", "off", "temperature", "start", "stop"];

/// `control_appliance`: the action must be one the device's type takes, and only the
/// arguments that action uses may be given (SF "Ventilation", "Sauna", "Irrigation" commands).
fn appliance(house: &House, a: &Args<'_>, device: DevId) -> Result<Intent, Refusal> {
    let d = house.device(device);
    let word = a.action(APPLIANCE_ACTIONS)?;
    let vocab = ApplianceAction::vocabulary(&d.loxone_type);
    if !vocab.contains(&word) {
        return Err(bad(format!(
            "{} is a {}; its actions are: {}",
            house.describe(device),
            d.loxone_type,
            vocab.join(", ")
        )));
    }
    let uses: &[&str] = match word {
        "level" => &["level", "mode", "minutes"],
        "on" => &["target"],
        "temperature" => &["target"],
        _ => &[],
    };
    for (arg, with) in [
        ("level", "level"),
        ("mode", "level"),
        ("minutes", "level"),
        ("target", "on or temperature"),
    ] {
        if !uses.contains(&arg) {
            a.forbid(arg, with)?;
        }
    }
    let target = || -> Result<f64, Refusal> {
        let t = a.req_number("target")?;
        if !(-50.0..=200.0).contains(&t) {
            return Err(bad(format!("target {t} °C is not a temperature")));
        }
        Ok(t)
    };
    let action = match word {
        "level" => {
            let level = a.req_percent("level")?;
            let mode = match a.opt_str("mode")? {
                Some(m) => Some(vent_mode(house, device, m)?),
                None => None,
            };
            let minutes = if a.args.get("minutes").is_none_or(Value::is_null) {
                crate::safety::table::VENT_TIMER_DEFAULT_MIN
            } else {
                let f = a.req_number("minutes")?;
                if f.fract() != 0.0 || !(1.0..=1440.0).contains(&f) {
                    return Err(bad(format!(
                        "minutes must be a whole number from 1 to 1440, not {f}"
                    )));
                }
                f as u16
            };
            ApplianceAction::Level {
                level,
                mode,
                minutes,
            }
        }
        "auto" => ApplianceAction::Auto,
        "on" => ApplianceAction::On {
            celsius: if a.args.get("target").is_none_or(Value::is_null) {
                None
            } else {
                Some(target()?)
            },
        },
        "off" => ApplianceAction::Off,
        "temperature" => ApplianceAction::Temperature(target()?),
        "start" => ApplianceAction::Start,
        _ => ApplianceAction::Stop,
    };
    Ok(Intent::Appliance { device, action })
}

/// A ventilation mode by its name in `details.modes` (SF "Ventilation": `[{name, id}]`) or its
/// id; the AI's text never goes further than this lookup.
fn vent_mode(house: &House, device: DevId, arg: &str) -> Result<u16, Refusal> {
    let modes: Vec<(String, u16)> = house
        .control(device)
        .details()
        .get("modes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let id = u16::try_from(m.get("id")?.as_u64()?).ok()?;
            Some((m.get("name")?.as_str()?.to_owned(), id))
        })
        .collect();
    modes
        .iter()
        .find(|(n, id)| crate::house::eq_ci(n, arg.trim()) || id.to_string() == arg.trim())
        .map(|(_, id)| *id)
        .ok_or_else(|| {
            bad(format!(
                "mode {} is not one of {}'s modes: {}",
                quote_untrusted(arg),
                house.describe(device),
                if modes.is_empty() {
                    "it lists none".to_owned()
                } else {
                    modes
                        .iter()
                        .map(|(n, id)| format!("{n} ({id})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ))
        })
}

/// `set_temperature`'s device: a room controller by name or id, or a room with exactly one.
pub(super) fn climate_device(house: &House, arg: &str) -> Result<DevId, Refusal> {
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

pub(super) fn check_kind(
    house: &House,
    tool: &str,
    kinds: &[Kind],
    id: DevId,
) -> Result<(), Refusal> {
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
pub(super) fn right_tool(kind: Kind) -> String {
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
