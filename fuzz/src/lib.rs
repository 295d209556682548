//! What several fuzz targets share: the fixture houses with fixed configs, a live-state map the
//! fuzzer can fill, and small helpers to pick values from a grammar.
//!
//! Why fixed houses: the `intent` and `config` targets fuzz the *arguments* (and the config)
//! against real structure files; building the house once per process keeps every execution
//! about the input, not about re-parsing a 150 KB fixture.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use loxwarden::clock::Mono;
use loxwarden::config::Config;
use loxwarden::house::House;
use loxwarden::loxone::state::{LiveStates, StateEntry, StateValue};
use loxwarden::loxone::structure::Structure;
use loxwarden::loxone::uuid::Uuid;

/// Our own test house (tests/fixtures/house/README.md).
pub const TEST_HOUSE_JSON: &[u8] = include_bytes!("../../tests/fixtures/house/test-house.json");
/// The simulator's demo house.
pub const DEMO_HOUSE_JSON: &[u8] = loxwarden::sim::DEMO_HOUSE;

/// The test house's config, as the unit tests use it (tests/fixtures/house/test-config.toml, shared with src/house/mod.rs): access,
/// alarm and intercom devices opted in, the lock classified, night rooms set.
pub const TEST_CONFIG: &str = include_str!("../../tests/fixtures/house/test-config.toml");

/// The demo house's config: its alarm, intercom and gate opted in, the garden hidden.
pub const DEMO_CONFIG: &str = r#"
[miniserver]
url = "http://127.0.0.1"
user = "ai"

[exposure]
opt_in = ["Burglar Alarm", "Hall/Front Door", "Garage Door"]
deny_rooms = ["Garden"]
"#;

/// One fixture house with everything a target needs to address it.
pub struct Fixture {
    pub house: House,
    /// Names an AI might use: device names, `Room/Name` labels, addresses, room names.
    pub names: Vec<String>,
    /// The `moodList` state of every lighting controller (filled from the input).
    pub mood_states: Vec<Uuid>,
}

fn build(json: &[u8], config: &str) -> Fixture {
    let structure = Arc::new(Structure::parse(json).expect("fixture structure parses"));
    let cfg = Config::parse(config).expect("fixture config parses");
    let house = House::new(structure, &cfg).expect("fixture house builds");
    let mut names = Vec::new();
    let mut mood_states = Vec::new();
    for d in house.all() {
        names.push(d.name.clone());
        names.push(d.label());
        names.push(d.addr.to_string());
        if let Some(u) = house.state_uuid(d.id, "moodList") {
            mood_states.push(u);
        }
    }
    names.extend(house.rooms().into_iter().map(str::to_owned));
    names.sort();
    names.dedup();
    Fixture {
        house,
        names,
        mood_states,
    }
}

/// The two fixture houses, built once per process.
pub fn fixtures() -> &'static [Fixture; 2] {
    static F: OnceLock<[Fixture; 2]> = OnceLock::new();
    F.get_or_init(|| {
        [
            build(TEST_HOUSE_JSON, TEST_CONFIG),
            build(DEMO_HOUSE_JSON, DEMO_CONFIG),
        ]
    })
}

/// The test house's structure alone (for the config target).
pub fn test_structure() -> Arc<Structure> {
    static S: OnceLock<Arc<Structure>> = OnceLock::new();
    S.get_or_init(|| Arc::new(Structure::parse(TEST_HOUSE_JSON).expect("fixture parses")))
        .clone()
}

/// Live states from a map (the guard's view of the cache, without the cache's locking).
#[derive(Default)]
pub struct MapStates(pub HashMap<Uuid, StateEntry>);

impl MapStates {
    pub fn set_text(&mut self, u: Uuid, text: String) {
        self.0.insert(
            u,
            StateEntry {
                value: StateValue::Text(text),
                updated: Mono(0),
                changed: None,
            },
        );
    }
}

impl LiveStates for MapStates {
    fn entry(&self, state: &Uuid) -> Option<StateEntry> {
        self.0.get(state).cloned()
    }
}

/// One of `options`, or (rarely) an arbitrary string: grammar-first, with an escape hatch.
pub fn word(u: &mut Unstructured<'_>, options: &[&str]) -> Result<String> {
    if options.is_empty() || u.ratio(1, 8)? {
        return u.arbitrary::<String>();
    }
    Ok((*u.choose(options)?).to_owned())
}

/// A JSON value of bounded depth, biased towards the scalars arguments are made of.
pub fn json_value(u: &mut Unstructured<'_>, depth: u32) -> Result<serde_json::Value> {
    use serde_json::Value;
    let pick = if depth == 0 {
        u.int_in_range(0..=5)?
    } else {
        u.int_in_range(0..=7)?
    };
    Ok(match pick {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::from(u.int_in_range(-5i64..=105)?),
        4 => serde_json::Number::from_f64(u.arbitrary::<f64>()?).map_or(Value::Null, Value::Number),
        5 => Value::String(u.arbitrary()?),
        6 => {
            let n = u.int_in_range(0..=3)?;
            Value::Array(
                (0..n)
                    .map(|_| json_value(u, depth - 1))
                    .collect::<Result<_>>()?,
            )
        }
        _ => {
            let n = u.int_in_range(0..=3)?;
            let mut m = serde_json::Map::new();
            for _ in 0..n {
                m.insert(u.arbitrary()?, json_value(u, depth - 1)?);
            }
            Value::Object(m)
        }
    })
}
