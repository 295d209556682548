//! Test helpers for the safety core: a map-backed [`LiveStates`], a live link, the test house's
//! limits and a quiet house (no alarm, nobody home, everything at rest).

use std::collections::HashMap;
use std::time::SystemTime;

use crate::clock::Mono;
use crate::house::House;
use crate::house::testhouse::{TEST_CONFIG, a, config, dev};
use crate::loxone::health::{Health, LinkState};
use crate::loxone::state::{LiveStates, StateEntry, StateValue};
use crate::loxone::uuid::Uuid;
use crate::safety::table::Limits;

/// Live states from a map; every value updated at `Mono(1_000)` unless set otherwise.
#[derive(Clone, Debug, Default)]
pub struct FakeStates {
    pub map: HashMap<Uuid, StateEntry>,
}

impl LiveStates for FakeStates {
    fn entry(&self, state: &Uuid) -> Option<StateEntry> {
        self.map.get(state).cloned()
    }
}

impl FakeStates {
    fn uuid(h: &House, addr: &str, state: &str) -> Uuid {
        let id = dev(h, addr);
        h.state_uuid(id, state)
            .unwrap_or_else(|| panic!("{addr} has no state {state}"))
    }

    pub fn set(&mut self, h: &House, addr: &str, state: &str, v: f64) {
        self.set_at(h, addr, state, StateValue::Number(v), Mono(1_000));
    }

    pub fn set_text(&mut self, h: &House, addr: &str, state: &str, v: &str) {
        self.set_at(h, addr, state, StateValue::Text(v.into()), Mono(1_000));
    }

    pub fn set_at(&mut self, h: &House, addr: &str, state: &str, value: StateValue, at: Mono) {
        let u = Self::uuid(h, addr, state);
        self.map.insert(
            u,
            StateEntry {
                value,
                updated: at,
                changed: None,
            },
        );
    }

    /// A numeric state this gateway saw change to `v` at `at`.
    pub fn changed_at(&mut self, h: &House, addr: &str, state: &str, v: f64, at: Mono) {
        let u = Self::uuid(h, addr, state);
        self.map.insert(
            u,
            StateEntry {
                value: StateValue::Number(v),
                updated: at,
                changed: Some(at),
            },
        );
    }

    pub fn unset(&mut self, h: &House, addr: &str, state: &str) {
        let u = Self::uuid(h, addr, state);
        self.map.remove(&u);
    }
}

/// A link that has been live since `Mono(0)`.
pub fn live() -> Health {
    Health {
        state: LinkState::Live,
        since: Mono(0),
        since_wall: SystemTime::UNIX_EPOCH,
        reason: String::new(),
    }
}

/// The test house's limits (nursery band 18–24 °C, night 22:00–06:30 in Bedroom and Nursery).
pub fn test_limits() -> Limits {
    Limits::from_config(&config(TEST_CONFIG)).unwrap()
}

/// The test house at rest: no alarm, alarm disarmed, nobody present, blinds half open and
/// still, lights off, 21 °C targets, volumes 20, chargers idle.
pub fn quiet_states() -> FakeStates {
    let h = crate::house::testhouse::test_house();
    let mut s = FakeStates::default();
    s.set(&h, a::SMOKE, "level", 0.0);
    s.set(&h, a::SMOKE, "alarmCause", 0.0);
    s.set(&h, a::ALARM, "armed", 0.0);
    s.set(&h, a::ALARM, "level", 0.0);
    s.set(&h, a::PRESENCE_LIVING, "active", 0.0);
    s.set(&h, a::PRESENCE_BED, "active", 0.0);
    for b in [a::BLIND_LIVING, a::BLIND_BED, a::PATIO] {
        s.set(&h, b, "position", 0.5);
        s.set(&h, b, "up", 0.0);
        s.set(&h, b, "down", 0.0);
    }
    s.set(&h, a::SKYLIGHT, "position", 0.0);
    s.set(&h, a::SKYLIGHT, "direction", 0.0);
    s.set(&h, a::GARAGE_DOOR, "position", 0.0);
    s.set(&h, a::GARAGE_DOOR, "active", 0.0);
    for irc in [a::IRC_LIVING, a::IRC_NURSERY, a::IRC_BED] {
        s.set(&h, irc, "tempTarget", 21.0);
        s.set(&h, irc, "comfortTemperature", 21.0);
    }
    for sp in [a::SPEAKER_KITCHEN, a::SPEAKER_LIVING] {
        s.set(&h, sp, "volume", 20.0);
        s.set(&h, sp, "playState", 1.0);
    }
    s.set(&h, a::READING, "position", 0.0);
    s.set(&h, a::LC_LIVING_CEILING, "position", 0.0);
    s.set(&h, a::LC_BED_CEILING, "position", 0.0);
    s.set(&h, a::KITCHEN_LIGHT, "active", 0.0);
    s.set(&h, a::CHARGER, "minLimit", 1.4);
    s.set(&h, a::CHARGER, "maxLimit", 11.0);
    s.set(&h, a::CHARGER, "charging", 0.0);
    s.set(&h, a::CHARGER, "currentLimit", 11.0);
    s.set(&h, a::INTERCOM, "bell", 0.0);
    s.set_text(
        &h,
        a::LC_LIVING,
        "moodList",
        r#"[{"name":"Bright","id":777,"static":true},{"name":"Off","id":778,"static":true},{"name":"Cosy","id":1,"static":false}]"#,
    );
    s.set_text(
        &h,
        a::LC_BED,
        "moodList",
        r#"[{"name":"Bright","id":777,"static":true},{"name":"Off","id":778,"static":true},{"name":"Reading","id":2,"static":false}]"#,
    );
    s
}
