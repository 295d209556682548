//! The simulated house: the structure file as served, every state's current value, and the
//! changes waiting to go out as event tables.
//!
//! Why the structure is kept as JSON *and* parsed: `data/LoxAPP3.json` must be served exactly as
//! loaded (any fixture, numbers-as-strings and all), while commands need the parsed index
//! (`Structure`, shared with the client as a *type*, never as a code path that answers). Faults
//! that change the configuration edit the JSON and re-parse it, as a real reconfiguration does.
//!
//! Pure core: every method takes [`Now`]; the ticker thread in `server.rs` supplies it.
//! Device behaviour lives in `devices.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::devices;
use crate::loxone::state::StateValue;
use crate::loxone::structure::{Control, StateRef, Structure, StructureError};
use crate::loxone::uuid::{ControlAddr, Uuid};

/// Simulated time: `sim` seconds since start (scaled), and the wall clock for timestamps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Now {
    pub sim: f64,
    /// Unix seconds (real wall clock).
    pub unix: f64,
}

impl Now {
    /// Seconds since 2009-01-01 UTC.
    pub fn secs_2009(&self) -> f64 {
        self.unix - super::auth::EPOCH_2009 as f64
    }
}

/// State values to send: numbers go into value-event tables, texts into text-event tables.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    pub numbers: Vec<(Uuid, f64)>,
    pub texts: Vec<(Uuid, String)>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty() && self.texts.is_empty()
    }
}

/// What a device command answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub code: u16,
    pub value: String,
}

impl Outcome {
    pub fn ok(value: impl Into<String>) -> Outcome {
        Outcome {
            code: 200,
            value: value.into(),
        }
    }
    pub fn code(code: u16) -> Outcome {
        Outcome {
            code,
            value: String::new(),
        }
    }
}

/// A configuration change made through the fault knobs.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub enum StructureChange {
    /// Only `lastModified` moves on.
    Touch,
    /// A control (or sub-control) gets a new name.
    Rename { addr: String, name: String },
    /// A control (or sub-control) disappears.
    Remove { addr: String },
}

/// Per-control simulation state that is not itself a Loxone state.
#[derive(Clone, Debug, Default)]
pub struct Dyn {
    /// Where a moving device (blind, gate, window) is heading, 0..1.
    pub target: Option<f64>,
    /// Slat target of a blind, 0..1.
    pub lamelle_target: Option<f64>,
    /// A pending timed action: (at sim seconds, what).
    pub timer: Option<(f64, Timer)>,
    /// Dimmer: the position `on` returns to.
    pub last_on: f64,
    /// Room controller: the precise temperature (the state is rounded to 0.1).
    pub temp: Option<f64>,
    /// Room controller: the manual target.
    pub manual: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Timer {
    /// A pushbutton pulse ends.
    PulseOff,
    /// A delayed alarm arming completes.
    Arm,
    /// The intercom stops ringing.
    BellOff,
    /// A smoke alarm drill ends.
    DrillOff,
    /// A ventilation's manual timer ends (SF "Ventilation" `setTimer` interval).
    VentEnd,
    /// An irrigation zone's duration is over.
    ZoneDone,
}

pub struct House {
    doc: Value,
    text: Arc<str>,
    pub structure: Structure,
    states: HashMap<Uuid, StateValue>,
    /// Stable order for the initial tables.
    order: Vec<Uuid>,
    dirty: Vec<Uuid>,
    dirty_set: HashSet<Uuid>,
    dyns: HashMap<ControlAddr, Dyn>,
    /// Controls that time acts on (movers, timers, temperatures, meters).
    ticking: Vec<usize>,
    last_tick: Option<f64>,
}

impl House {
    /// Loads a structure file. Every state of every control gets a plausible initial value.
    pub fn load(bytes: &[u8], now: Now) -> Result<House, StructureError> {
        let doc: Value =
            serde_json::from_slice(bytes).map_err(|e| StructureError(e.to_string()))?;
        let structure = Structure::parse(bytes)?;
        let text: Arc<str> = String::from_utf8_lossy(bytes).into();
        let mut h = House {
            doc,
            text,
            structure,
            states: HashMap::new(),
            order: Vec::new(),
            dirty: Vec::new(),
            dirty_set: HashSet::new(),
            dyns: HashMap::new(),
            ticking: Vec::new(),
            last_tick: Some(now.sim),
        };
        h.init_states(now);
        h.dirty.clear();
        h.dirty_set.clear();
        Ok(h)
    }

    fn init_states(&mut self, now: Now) {
        let mut seen: HashSet<Uuid> = HashSet::new();
        for (name, u) in self.structure.global_states.clone() {
            seen.insert(u);
            if !self.states.contains_key(&u) {
                let v = devices::initial_global(&name, now);
                self.insert_new(u, v);
            }
        }
        for i in 0..self.structure.controls.len() {
            let c = &self.structure.controls[i];
            let mut fresh = Vec::new();
            for (name, r) in &c.states {
                let uuids: Vec<Uuid> = match r {
                    StateRef::One(u) => vec![*u],
                    StateRef::Many(v) => v.clone(),
                };
                for u in uuids {
                    seen.insert(u);
                    if !self.states.contains_key(&u) {
                        fresh.push((u, devices::initial(c, name, now)));
                    }
                }
            }
            for (u, v) in fresh {
                if !self.states.contains_key(&u) {
                    self.insert_new(u, v);
                }
            }
        }
        // States no longer in the structure stop being reported.
        self.states.retain(|u, _| seen.contains(u));
        self.order.retain(|u| seen.contains(u));
        for i in 0..self.structure.controls.len() {
            devices::settle(self, i, now);
        }
        self.ticking = (0..self.structure.controls.len())
            .filter(|&i| devices::ticks(&self.structure.controls[i].kind))
            .collect();
    }

    fn insert_new(&mut self, u: Uuid, v: StateValue) {
        self.states.insert(u, v);
        self.order.push(u);
    }

    /// The structure file as served (`data/LoxAPP3.json`).
    pub fn file(&self) -> Arc<str> {
        self.text.clone()
    }

    pub fn last_modified(&self) -> &str {
        &self.structure.last_modified
    }

    pub fn state(&self, u: &Uuid) -> Option<&StateValue> {
        self.states.get(u)
    }

    /// The control at an address, with its index.
    pub fn find(&self, addr: &ControlAddr) -> Option<(usize, &Control)> {
        let i = self.structure.index_of(addr)?;
        Some((i, &self.structure.controls[i]))
    }

    /// Index of the first control of a type (fault knobs address "the" smoke alarm).
    pub fn first_of(&self, kind: &str) -> Option<usize> {
        self.structure.controls.iter().position(|c| c.kind == kind)
    }

    // ------------------------------------------------------------ state access for devices

    pub fn uuid_of(&self, idx: usize, name: &str) -> Option<Uuid> {
        self.structure.controls.get(idx)?.state(name)
    }

    pub fn num(&self, idx: usize, name: &str) -> f64 {
        self.uuid_of(idx, name)
            .and_then(|u| self.states.get(&u))
            .and_then(StateValue::as_number)
            .unwrap_or(0.0)
    }

    pub fn has(&self, idx: usize, name: &str) -> bool {
        self.uuid_of(idx, name).is_some()
    }

    pub fn text_of(&self, idx: usize, name: &str) -> String {
        self.uuid_of(idx, name)
            .and_then(|u| self.states.get(&u))
            .and_then(|v| v.as_text().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Sets a number state; marks it changed only when the value differs.
    pub fn set(&mut self, idx: usize, name: &str, v: f64) {
        if let Some(u) = self.uuid_of(idx, name) {
            self.put(u, StateValue::Number(v));
        }
    }

    pub fn set_text(&mut self, idx: usize, name: &str, v: impl Into<String>) {
        if let Some(u) = self.uuid_of(idx, name) {
            self.put(u, StateValue::Text(v.into()));
        }
    }

    fn put(&mut self, u: Uuid, v: StateValue) {
        if self.states.get(&u) == Some(&v) {
            return;
        }
        self.states.insert(u, v);
        if self.dirty_set.insert(u) {
            self.dirty.push(u);
        }
    }

    pub fn dyn_mut(&mut self, idx: usize) -> &mut Dyn {
        let addr = self.structure.controls[idx].addr.clone();
        self.dyns.entry(addr).or_default()
    }

    pub fn dyn_of(&self, idx: usize) -> Option<&Dyn> {
        self.dyns.get(&self.structure.controls[idx].addr)
    }

    // ------------------------------------------------------------ commands and time

    /// A device command to the control at `idx` (`cmd` = the path segments after the address).
    pub fn command(&mut self, idx: usize, cmd: &[&str], now: Now) -> Outcome {
        self.tick(now);
        devices::command(self, idx, cmd, now)
    }

    /// Advances moving devices, timers and temperatures to `now`.
    pub fn tick(&mut self, now: Now) {
        let dt = match self.last_tick {
            Some(t) if now.sim > t => now.sim - t,
            Some(_) => return,
            None => 0.0,
        };
        self.last_tick = Some(now.sim);
        for k in 0..self.ticking.len() {
            devices::tick(self, self.ticking[k], dt, now);
        }
    }

    /// Changed states since the last call.
    pub fn take_changes(&mut self) -> Changes {
        let mut nums = Vec::new();
        let mut texts = Vec::new();
        for u in self.dirty.drain(..) {
            match self.states.get(&u) {
                Some(StateValue::Number(n)) => nums.push((u, *n)),
                Some(StateValue::Text(t)) => texts.push((u, t.clone())),
                None => {}
            }
        }
        self.dirty_set.clear();
        Changes {
            numbers: nums,
            texts,
        }
    }

    /// Every state, for the initial tables after `enablebinstatusupdate`.
    pub fn all_states(&self) -> Changes {
        let mut nums = Vec::new();
        let mut texts = Vec::new();
        for u in &self.order {
            match self.states.get(u) {
                Some(StateValue::Number(n)) => nums.push((*u, *n)),
                Some(StateValue::Text(t)) => texts.push((*u, t.clone())),
                None => {}
            }
        }
        Changes {
            numbers: nums,
            texts,
        }
    }

    // ------------------------------------------------------------ configuration changes

    /// Applies a configuration change: `lastModified` moves to `stamp`, and the control is
    /// renamed or removed. Returns false when the address is not in the structure.
    pub fn change(&mut self, change: &StructureChange, stamp: &str, now: Now) -> bool {
        let ok = match change {
            StructureChange::Touch => true,
            StructureChange::Rename { addr, name } => match self.control_json(addr) {
                Some(c) => {
                    c["name"] = Value::String(name.clone());
                    true
                }
                None => false,
            },
            StructureChange::Remove { addr } => self.remove_json(addr),
        };
        if !ok {
            return false;
        }
        self.doc["lastModified"] = Value::String(stamp.to_string());
        let bytes = match serde_json::to_vec(&self.doc) {
            Ok(b) => b,
            Err(_) => return false,
        };
        match Structure::parse(&bytes) {
            Ok(s) => {
                self.structure = s;
                self.text = String::from_utf8_lossy(&bytes).into();
                self.init_states(now);
                true
            }
            Err(_) => false,
        }
    }

    fn control_json(&mut self, addr: &str) -> Option<&mut Value> {
        let (parent, _) = addr.split_once('/').unwrap_or((addr, ""));
        let controls = self.doc.get_mut("controls")?;
        if addr == parent {
            return controls.get_mut(addr);
        }
        controls
            .get_mut(parent)?
            .get_mut("subControls")?
            .get_mut(addr)
    }

    fn remove_json(&mut self, addr: &str) -> bool {
        let (parent, _) = addr.split_once('/').unwrap_or((addr, ""));
        let Some(controls) = self.doc.get_mut("controls").and_then(Value::as_object_mut) else {
            return false;
        };
        if addr == parent {
            return controls.remove(addr).is_some();
        }
        controls
            .get_mut(parent)
            .and_then(|p| p.get_mut("subControls"))
            .and_then(Value::as_object_mut)
            .is_some_and(|subs| subs.remove(addr).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::sim::DEMO_HOUSE as DEMO;

    fn now(sim: f64) -> Now {
        Now {
            sim,
            unix: 1_750_000_000.0 + sim,
        }
    }

    fn house() -> House {
        House::load(DEMO, now(0.0)).unwrap()
    }

    fn addr(h: &House, name: &str) -> usize {
        h.structure
            .controls
            .iter()
            .position(|c| c.name == name)
            .unwrap_or_else(|| panic!("no control {name}"))
    }

    #[test]
    fn every_state_of_the_demo_house_has_a_value() {
        let h = house();
        for c in &h.structure.controls {
            for (name, r) in &c.states {
                if let StateRef::One(u) = r {
                    assert!(h.state(u).is_some(), "{} {name}", c.name);
                }
            }
        }
        let all = h.all_states();
        assert!(all.numbers.len() > 150 && !all.texts.is_empty());
    }

    #[test]
    fn the_demo_house_has_the_rooms_and_devices_the_tour_and_tests_rely_on() {
        let h = house();
        let rooms: Vec<&str> = h
            .structure
            .rooms
            .values()
            .map(|r| r.name.as_str())
            .collect();
        for r in [
            "Living Room",
            "Kitchen",
            "Bedroom",
            "Nursery",
            "Hall",
            "Garage",
        ] {
            assert!(rooms.contains(&r), "room {r}");
        }
        let kind = |name: &str| h.structure.controls[addr(&h, name)].kind.clone();
        assert_eq!(kind("Burglar Alarm"), "Alarm");
        assert!(h.structure.controls[addr(&h, "Burglar Alarm")].is_secured);
        assert_eq!(kind("Fire and Water Alarm"), "SmokeAlarm");
        assert_eq!(kind("Garage Door"), "Gate");
        assert_eq!(kind("Wallbox"), "Wallbox2");
        assert_eq!(kind("Living Room Music"), "AudioZoneV2");
        assert_eq!(kind("Living Room Lighting"), "LightControllerV2");
        let door = &h.structure.controls[addr(&h, "Door opener")];
        assert_eq!(door.kind, "Pushbutton");
        assert_eq!(door.addr.suffix(), Some("1"));
        assert!(
            !door.is_secured,
            "like the manison fixture: a door opener without visu password"
        );
        assert_eq!(h.structure.controls[door.parent.unwrap()].kind, "Intercom");
        let central = &h.structure.controls[addr(&h, "All Blinds")];
        assert_eq!(central.details()["controls"].as_array().unwrap().len(), 5);
        let socket = &h.structure.controls[addr(&h, "Garden socket")];
        assert_eq!(socket.kind, "Switch");
        assert_eq!(h.structure.category(socket.cat).unwrap().kind, "undefined");
        let moods = h.text_of(addr(&h, "Bedroom Lighting"), "moodList");
        assert!(
            moods.contains("\"id\":778") && moods.contains("\"Off\""),
            "{moods}"
        );
        assert_eq!(h.structure.skipped, 0);
    }

    #[test]
    fn both_fixtures_load_with_a_value_for_every_state() {
        for f in [
            "loxone-net-manison-LoxAPP3.json",
            "loxone-java-smarteon-LoxAPP3.json",
        ] {
            let p = format!("{}/tests/fixtures/loxone/{f}", env!("CARGO_MANIFEST_DIR"));
            let bytes = std::fs::read(p).unwrap();
            let h = House::load(&bytes, now(0.0)).unwrap();
            assert_eq!(&*h.file(), std::str::from_utf8(&bytes).unwrap());
            for c in &h.structure.controls {
                for r in c.states.values() {
                    if let StateRef::One(u) = r {
                        assert!(h.state(u).is_some(), "{f}: {}", c.name);
                    }
                }
            }
        }
    }

    #[test]
    fn only_changed_states_are_reported_once() {
        let mut h = house();
        let i = addr(&h, "Hall Light");
        assert_eq!(h.command(i, &["on"], now(1.0)).code, 200);
        let changes = h.take_changes();
        assert_eq!(
            changes.numbers,
            vec![(h.uuid_of(i, "active").unwrap(), 1.0)]
        );
        assert_eq!(h.command(i, &["on"], now(2.0)).code, 200);
        assert!(h.take_changes().is_empty(), "no change, no event");
    }

    #[test]
    fn renaming_a_control_moves_last_modified_and_shows_in_the_file() {
        let mut h = house();
        let i = addr(&h, "Garden socket");
        let a = h.structure.controls[i].addr.to_string();
        let change = StructureChange::Rename {
            addr: a.clone(),
            name: "Pond pump".into(),
        };
        assert!(h.change(&change, "2025-07-01 12:00:00", now(1.0)));
        assert_eq!(h.last_modified(), "2025-07-01 12:00:00");
        assert!(h.file().contains("Pond pump"));
        assert!(!h.change(
            &StructureChange::Remove {
                addr: "00000000-0000-0000-0000000000000000".into()
            },
            "x",
            now(2.0)
        ));
        assert!(h.change(
            &StructureChange::Remove { addr: a.clone() },
            "2025-07-02 00:00:00",
            now(3.0)
        ));
        assert!(
            h.structure
                .control(&ControlAddr::parse(&a).unwrap())
                .is_none()
        );
    }
}
