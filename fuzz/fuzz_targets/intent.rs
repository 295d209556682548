//! Tool arguments → intent, against the test house and the simulator's demo house with fixed
//! configs.
//!
//! The input picks a house, a tool (from the intent table, or any name), an argument object
//! built from the tools' own argument names and values that matter (device names, labels,
//! addresses, actions, numbers near the limits, units) with arbitrary JSON mixed in, and the
//! lighting controllers' live mood lists (scene names resolve against them).
//!
//! Checked: `intent::parse` never panics, and an `Ok` intent names the tool it was asked for,
//! addresses only an *exposed* device of a kind the tool allows (a room controller for
//! `set_temperature`), carries values inside their ranges, and lists only a room of the house.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use loxwarden::house::Kind;
use loxwarden::intent::{self, AudioAction, ChargerAction, Intent, TOOLS};
use serde_json::{Map, Value, json};

use fuzz_support::{MapStates, fixtures, json_value, word};

const ACTIONS: &[&str] = &[
    "on",
    "off",
    "dim",
    "up",
    "down",
    "stop",
    "position",
    "shade",
    "play",
    "pause",
    "volume",
    "next",
    "previous",
    "start",
    "limit",
    "arm",
    "arm_delayed",
    "disarm",
    "acknowledge",
    "open",
    "close",
    "lock",
    "unlock",
    "answer",
    "open_door",
];
const KINDS: &[&str] = &[
    "light", "blind", "climate", "audio", "charger", "alarm", "access", "intercom", "scene",
    "sensor", "other",
];
const SCENES: &[&str] = &[
    "Off", "off", "All on", "Bright", "Evening", "up", "down", "Cozy",
];
const UNITS: &[&str] = &["C", "F", "c", "f", "K", "°C"];

fn name_of(u: &mut Unstructured<'_>, names: &[String]) -> Result<String> {
    let base = u.choose(names)?.clone();
    Ok(match u.int_in_range(0..=7)? {
        0 => base.to_uppercase(),
        1 => format!(" {base} "),
        2 => base.chars().take(u.int_in_range(0..=base.len())?).collect(),
        3 => format!("{base}{}", u.arbitrary::<String>()?),
        _ => base,
    })
}

fn number(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=6)? {
        0 => json!(u.int_in_range(-10i64..=110)?),
        1 => json!(f64::from(u.int_in_range(-400i32..=1200)?) / 10.0),
        2 => json!(u.arbitrary::<i64>()?),
        3 => json!(u.arbitrary::<u64>()?),
        4 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        5 => json!(*u.choose(&[f64::MAX, f64::MIN, 1e308, -1e308, 5e-324, -0.0, 0.5, 99.5])?),
        _ => json!(u.arbitrary::<String>()?),
    })
}

fn argument(u: &mut Unstructured<'_>, key: &str, names: &[String]) -> Result<Value> {
    if u.ratio(1, 10)? {
        return json_value(u, 2);
    }
    Ok(match key {
        "device" | "room" => json!(name_of(u, names)?),
        "action" => json!(word(u, ACTIONS)?),
        "kind" => json!(word(u, KINDS)?),
        "scene" => json!(word(u, SCENES)?),
        "unit" => json!(word(u, UNITS)?),
        "reason" => json!(u.arbitrary::<String>()?),
        _ => number(u)?,
    })
}

fn moods(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 4)? {
        return u.arbitrary();
    }
    let n = u.int_in_range(0..=4)?;
    let mut list = Vec::new();
    for _ in 0..n {
        let id = match u.int_in_range(0..=3)? {
            0 => json!(u.arbitrary::<i64>()?),
            1 => json!(-1),
            _ => json!(u.int_in_range(0..=800)?),
        };
        list.push(json!({"name": word(u, SCENES)?, "id": id, "static": u.arbitrary::<bool>()?}));
    }
    Ok(Value::Array(list).to_string())
}

fn check(tool: &str, i: &Intent, fx: &fuzz_support::Fixture) {
    let house = &fx.house;
    assert_eq!(i.tool(), tool, "the intent is for another tool");
    let spec = TOOLS
        .iter()
        .find(|t| t.name == tool)
        .expect("a listed tool");
    if let Some(id) = i.device() {
        let d = house.get(id).expect("the device is in the house");
        assert!(d.exposed, "{tool} addresses the unexposed {}", d.label());
        let allowed: &[Kind] = if tool == "set_temperature" {
            &[Kind::Climate]
        } else {
            spec.kinds
        };
        assert!(
            allowed.is_empty() || allowed.contains(&d.kind),
            "{tool} addresses {} of kind {:?}",
            d.label(),
            d.kind
        );
    } else {
        assert!(
            spec.kinds.is_empty() && !["get_device", "describe_scene"].contains(&tool),
            "{tool} produced an intent without a device"
        );
    }
    match i {
        Intent::Audio {
            action: AudioAction::Volume(v),
            ..
        } => assert!(*v <= 100),
        Intent::Charger {
            action: ChargerAction::Limit(kw),
            ..
        } => assert!(kw.is_finite() && *kw > 0.0 && *kw <= 1000.0),
        Intent::Temperature { target, .. } => {
            assert!(
                target.celsius.is_finite() && target.given.is_finite(),
                "{tool}: {i:?}"
            )
        }
        Intent::ListDevices { room: Some(r), .. } => {
            assert!(house.rooms().contains(&r.as_str()), "unknown room {r:?}")
        }
        Intent::EmergencyStop { reason: Some(r) } => {
            assert!(r.chars().count() <= 200 && !r.chars().any(char::is_control))
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let run = |u: &mut Unstructured<'_>| -> Result<()> {
        let fx = &fixtures()[usize::from(u.arbitrary::<bool>()?)];
        let tool = if u.ratio(1, 16)? {
            u.arbitrary::<String>()?
        } else {
            u.choose(TOOLS)?.name.to_owned()
        };
        let spec_args: &[&str] = TOOLS
            .iter()
            .find(|t| t.name == tool)
            .map_or(&[], |t| t.args);
        let mut args = Map::new();
        for key in spec_args {
            if u.ratio(4, 5)? {
                args.insert((*key).to_owned(), argument(u, key, &fx.names)?);
            }
        }
        if u.ratio(1, 10)? {
            let key = word(u, &["device", "action", "brightness", "extra", "__proto__"])?;
            args.insert(key, json_value(u, 1)?);
        }
        let mut states = MapStates::default();
        for s in &fx.mood_states {
            if u.ratio(3, 4)? {
                states.set_text(*s, moods(u)?);
            }
        }
        if let Ok(i) = intent::parse(&tool, &args, &fx.house, &states) {
            check(&tool, &i, fx);
            // What the audit log would record of it.
            let _ = i.to_json(&fx.house).to_string();
        }
        Ok(())
    };
    let _ = run(&mut u);
});
