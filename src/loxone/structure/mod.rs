//! The structure file (`data/LoxAPP3.json`): the Miniserver's inventory of rooms, categories,
//! controls and their state UUIDs.
//!
//! Why lenient: real files disagree on types (the manison fixture writes every `defaultRating`
//! and `miniserverType` as a string), carry sections we do not use, and grow fields with each
//! firmware. We read what we need, accept numbers as strings, ignore unknown fields and skip
//! (and count) entries whose UUIDs are malformed, so that one odd control cannot hide a house.
//!
//! Why an index: every tool call resolves names and UUIDs, and every value event maps a state
//! UUID back to its control. Both lookups are hash maps built once per parse. `details` is kept
//! as raw JSON and parsed on demand (it is large for light controllers and rarely needed), which
//! keeps a 5 MB file well inside its parse budget.
//!
//! Layout: the model and its indexes here; the lenient serde layer that reads the file in one
//! pass in `raw.rs`.

mod raw;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::value::RawValue;

use super::uuid::{ControlAddr, Uuid};
use raw::{LenientScalar, RawControl, RawFile, RawState, lenient_opt};

/// A parsed structure file with lookup indexes.
#[derive(Debug, Clone)]
pub struct Structure {
    /// `lastModified` exactly as the Miniserver wrote it (compared with `LoxAPPversion3`).
    pub last_modified: String,
    pub ms_info: MsInfo,
    pub rooms: BTreeMap<Uuid, Room>,
    pub cats: BTreeMap<Uuid, Category>,
    /// Every control, top-level first in file order, then sub-controls after their parent.
    pub controls: Vec<Control>,
    /// `globalStates`: name → state UUID (entries that are not UUIDs are skipped).
    pub global_states: BTreeMap<String, Uuid>,
    /// Controls or states skipped because their UUIDs were malformed.
    pub skipped: usize,
    by_addr: HashMap<ControlAddr, usize>,
    by_state: HashMap<Uuid, (usize, Box<str>)>,
}

/// `msInfo`: facts about the Miniserver.
#[derive(Debug, Clone, Default)]
pub struct MsInfo {
    pub serial_nr: String,
    pub ms_name: String,
    pub project_name: String,
    pub local_url: String,
    /// 0 = °C, 1 = °F (SF `msInfo.tempUnit`).
    pub temp_unit: TempUnit,
    /// 0 Gen1, 1 Go Gen1, 2 Gen2, 3 Go Gen2, 4 Compact (SF).
    pub miniserver_type: Option<i64>,
    pub current_user: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TempUnit {
    #[default]
    Celsius,
    Fahrenheit,
}

#[derive(Debug, Clone)]
pub struct Room {
    pub uuid: Uuid,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Category {
    pub uuid: Uuid,
    pub name: String,
    /// e.g. `lights`, `shading`, `indoortemperature`, `media`, `undefined`.
    pub kind: String,
}

/// A state reference: most states name one UUID, a few (IRoomController `temperatures`) a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateRef {
    One(Uuid),
    Many(Vec<Uuid>),
}

/// One control or sub-control.
#[derive(Debug, Clone)]
pub struct Control {
    pub addr: ControlAddr,
    pub name: String,
    /// Loxone type string, e.g. `Jalousie`, `LightControllerV2`, `Switch`.
    pub kind: String,
    pub room: Option<Uuid>,
    pub cat: Option<Uuid>,
    pub is_secured: bool,
    /// SF `restrictions` bitmap (bit 1 / bit 5: read-only internal / external).
    pub restrictions: u32,
    pub default_rating: i64,
    pub states: BTreeMap<String, StateRef>,
    /// Index of the parent control in [`Structure::controls`] for sub-controls.
    pub parent: Option<usize>,
    /// Indexes of this control's sub-controls.
    pub children: Vec<usize>,
    details: Option<Box<RawValue>>,
}

impl Control {
    /// `details` parsed on demand; `Value::Null` when absent or malformed.
    pub fn details(&self) -> serde_json::Value {
        self.details
            .as_ref()
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// The single state UUID named `name`, if any.
    pub fn state(&self, name: &str) -> Option<Uuid> {
        match self.states.get(name) {
            Some(StateRef::One(u)) => Some(*u),
            _ => None,
        }
    }

    /// True when the restrictions bitmap marks the control read-only (SF bit 1 or bit 5).
    pub fn is_read_only(&self) -> bool {
        self.restrictions & ((1 << 1) | (1 << 5)) != 0
    }
}

/// Why a structure file could not be used at all.
#[derive(Debug)]
pub struct StructureError(pub String);

impl fmt::Display for StructureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "structure file unusable: {}", self.0)
    }
}

impl std::error::Error for StructureError {}

impl Structure {
    /// Parses a `LoxAPP3.json`. Fails only when the file is not JSON or lacks `controls`;
    /// malformed entries inside are skipped and counted in [`Structure::skipped`].
    pub fn parse(bytes: &[u8]) -> Result<Structure, StructureError> {
        let raw: RawFile =
            serde_json::from_slice(bytes).map_err(|e| StructureError(e.to_string()))?;
        let controls_raw = raw
            .controls
            .ok_or_else(|| StructureError("no `controls` section".into()))?
            .0;
        let mut s = Structure {
            last_modified: lenient_opt(raw.last_modified).unwrap_or_default(),
            ms_info: raw
                .ms_info
                .and_then(|m| m.0)
                .map(MsInfo::from)
                .unwrap_or_default(),
            rooms: BTreeMap::new(),
            cats: BTreeMap::new(),
            controls: Vec::with_capacity(controls_raw.len() * 2),
            global_states: BTreeMap::new(),
            skipped: 0,
            by_addr: HashMap::new(),
            by_state: HashMap::new(),
        };
        for (key, r) in raw.rooms.map(|e| e.0).unwrap_or_default() {
            let Some(r) = r.0 else {
                s.skipped += 1;
                continue;
            };
            let uuid_text = lenient_opt(r.uuid);
            match Uuid::parse(uuid_text.as_deref().unwrap_or(&key)) {
                Ok(uuid) => {
                    s.rooms.insert(
                        uuid,
                        Room {
                            uuid,
                            name: lenient_opt(r.name).unwrap_or_default(),
                        },
                    );
                }
                Err(_) => s.skipped += 1,
            }
        }
        for (key, c) in raw.cats.map(|e| e.0).unwrap_or_default() {
            let Some(c) = c.0 else {
                s.skipped += 1;
                continue;
            };
            let uuid_text = lenient_opt(c.uuid);
            match Uuid::parse(uuid_text.as_deref().unwrap_or(&key)) {
                Ok(uuid) => {
                    let kind = match c.kind {
                        Some(LenientScalar(v)) => v,
                        None => String::new(),
                    };
                    s.cats.insert(
                        uuid,
                        Category {
                            uuid,
                            name: lenient_opt(c.name).unwrap_or_default(),
                            kind,
                        },
                    );
                }
                Err(_) => s.skipped += 1,
            }
        }
        for (name, v) in raw.global_states.map(|e| e.0).unwrap_or_default() {
            if let Ok(u) = Uuid::parse(&v.0) {
                s.global_states.insert(name, u);
            }
        }
        for (key, c) in controls_raw {
            match c.0 {
                Some(c) => s.add_control(&key, c, None),
                None => s.skipped += 1,
            }
        }
        Ok(s)
    }

    fn add_control(&mut self, key: &str, c: RawControl, parent: Option<usize>) {
        let uuid_action = lenient_opt(c.uuid_action);
        let addr_text = uuid_action.as_deref().unwrap_or(key);
        let Ok(addr) = ControlAddr::parse(addr_text) else {
            self.skipped += 1;
            return;
        };
        let idx = self.controls.len();
        let mut states = BTreeMap::new();
        for (name, v) in c.states.map(|e| e.0).unwrap_or_default() {
            let r = match v {
                RawState::One(t) => Uuid::parse(&t).ok().map(StateRef::One),
                RawState::Many(items) => {
                    let list: Option<Vec<Uuid>> = items
                        .iter()
                        .map(|i| i.as_deref().and_then(|t| Uuid::parse(t).ok()))
                        .collect();
                    list.map(StateRef::Many)
                }
                RawState::Bad => None,
            };
            match r {
                Some(r) => {
                    states.insert(name, r);
                }
                None => self.skipped += 1,
            }
        }
        for (name, r) in &states {
            let uuids: &[Uuid] = match r {
                StateRef::One(u) => std::slice::from_ref(u),
                StateRef::Many(v) => v,
            };
            for u in uuids {
                self.by_state
                    .entry(*u)
                    .or_insert((idx, name.as_str().into()));
            }
        }
        let room = c.room.and_then(|t| Uuid::parse(&t.0).ok());
        let cat = c.cat.and_then(|t| Uuid::parse(&t.0).ok());
        self.by_addr.insert(addr.clone(), idx);
        self.controls.push(Control {
            addr,
            name: lenient_opt(c.name).unwrap_or_default(),
            kind: lenient_opt(c.kind).unwrap_or_default(),
            room,
            cat,
            is_secured: c.is_secured.map(|b| b.0).unwrap_or(false),
            restrictions: c.restrictions.map(|n| n.0 as u32).unwrap_or(0),
            default_rating: c.default_rating.map(|n| n.0).unwrap_or(0),
            states,
            parent,
            children: Vec::new(),
            details: c.details,
        });
        if let Some(p) = parent {
            self.controls[p].children.push(idx);
        }
        for (sub_key, sub) in c.sub_controls.map(|e| e.0).unwrap_or_default() {
            match sub.0 {
                Some(sub) => self.add_control(&sub_key, sub, Some(idx)),
                None => self.skipped += 1,
            }
        }
    }

    /// The control at `addr`, if the structure has one.
    pub fn control(&self, addr: &ControlAddr) -> Option<&Control> {
        self.by_addr.get(addr).map(|&i| &self.controls[i])
    }

    /// Index of the control at `addr`.
    pub fn index_of(&self, addr: &ControlAddr) -> Option<usize> {
        self.by_addr.get(addr).copied()
    }

    /// The control that owns state `uuid`, and the state's name.
    pub fn state_owner(&self, uuid: &Uuid) -> Option<(&Control, &str)> {
        self.by_state
            .get(uuid)
            .map(|(i, name)| (&self.controls[*i], name.as_ref()))
    }

    /// Name of a room UUID (empty when unknown).
    pub fn room_name(&self, room: Option<Uuid>) -> &str {
        room.and_then(|r| self.rooms.get(&r))
            .map(|r| r.name.as_str())
            .unwrap_or("")
    }

    /// The category of a control, if known.
    pub fn category(&self, cat: Option<Uuid>) -> Option<&Category> {
        cat.and_then(|c| self.cats.get(&c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANISON: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/loxone/loxone-net-manison-LoxAPP3.json"
    );
    const SMARTEON: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/loxone/loxone-java-smarteon-LoxAPP3.json"
    );

    fn load(p: &str) -> Structure {
        Structure::parse(&std::fs::read(p).unwrap()).unwrap()
    }

    #[test]
    fn the_manison_fixture_loads_with_numbers_written_as_strings() {
        let s = load(MANISON);
        assert_eq!(s.last_modified, "2020-01-09 23:31:26");
        assert_eq!(s.ms_info.serial_nr, "EEE000A8004A");
        assert_eq!(s.ms_info.miniserver_type, Some(0));
        assert_eq!(s.ms_info.temp_unit, TempUnit::Celsius);
        let top = s.controls.iter().filter(|c| c.parent.is_none()).count();
        assert_eq!(top, 66);
        assert_eq!(s.skipped, 0);
    }

    #[test]
    fn sub_controls_are_addressed_under_their_parent() {
        let s = load(MANISON);
        let opener = ControlAddr::parse("1079e231-0145-ebe1-ffffc926a26a8d21/1").unwrap();
        let c = s.control(&opener).expect("door opener sub-control");
        assert_eq!(c.kind, "Pushbutton");
        let parent = &s.controls[c.parent.unwrap()];
        assert_eq!(parent.kind, "Intercom");
        assert!(parent.children.contains(&s.index_of(&opener).unwrap()));
    }

    #[test]
    fn state_uuids_map_back_to_their_control() {
        let s = load(MANISON);
        let bell = Uuid::parse("1079e231-0145-ebdd-ffffbc159faf27b8").unwrap();
        let (c, name) = s.state_owner(&bell).unwrap();
        assert_eq!(c.kind, "Intercom");
        assert_eq!(name, "bell");
    }

    #[test]
    fn the_smarteon_fixture_loads_with_numbers_as_numbers() {
        let s = load(SMARTEON);
        assert_eq!(s.ms_info.miniserver_type, Some(1));
        assert_eq!(s.ms_info.ms_name, "ShowRoom");
        let alarm = s.controls.iter().find(|c| c.kind == "Alarm").unwrap();
        assert!(alarm.is_secured);
        assert!(!alarm.details().is_null());
    }

    #[test]
    fn malformed_controls_are_skipped_not_fatal() {
        let json = br#"{"lastModified":"x","controls":{
            "not-a-uuid":{"name":"Bad","type":"Switch"},
            "0f86a2fe-0378-3e15-ffff373f9870b52a":{"name":"Good","type":"Switch","isSecured":"true",
               "defaultRating":"3","restrictions":2,"states":{"active":"0f86a2fe-0378-3e15-ffff373f9870b52b","odd":"zz"}}}}"#;
        let s = Structure::parse(json).unwrap();
        assert_eq!(s.controls.len(), 1);
        assert_eq!(s.skipped, 2);
        let c = &s.controls[0];
        assert!(c.is_secured && c.is_read_only());
        assert_eq!(c.default_rating, 3);
    }

    #[test]
    fn entries_of_the_wrong_json_kind_are_skipped_and_counted() {
        let json = br#"{"lastModified":7,"rooms":{"r":[1,2]},"cats":3,"globalStates":{"x":{"a":1}},
          "msInfo":{"serialNr":504,"miniserverType":"2","currentUser":{"name":["x"]}},
          "controls":{
            "0f86a2fe-0378-3e15-ffff373f9870b52a":"not an object",
            "0f86a2fe-0378-3e15-ffff373f9870b52b":{"name":12,"type":"Switch","isSecured":1,
               "states":{"active":"0f86a2fe-0378-3e15-ffff373f9870b52c","list":["0f86a2fe-0378-3e15-ffff373f9870b52d"],"bad":{"x":1}},
               "subControls":{"0f86a2fe-0378-3e15-ffff373f9870b52b/AI1":[1],
                              "0f86a2fe-0378-3e15-ffff373f9870b52b/AI2":{"name":"Sub","type":"Dimmer"}}}}}"#;
        let s = Structure::parse(json).unwrap();
        assert_eq!(s.last_modified, "7");
        assert_eq!(s.ms_info.serial_nr, "504");
        assert_eq!(s.ms_info.miniserver_type, Some(2));
        assert_eq!(s.controls.len(), 2);
        let c = &s.controls[0];
        assert_eq!(c.name, "12");
        assert!(c.is_secured);
        assert!(c.state("active").is_some());
        assert!(matches!(c.states.get("list"), Some(StateRef::Many(v)) if v.len() == 1));
        // room, non-object control, bad state, non-object sub-control
        assert_eq!(s.skipped, 4);
    }

    #[test]
    fn a_file_without_controls_is_refused() {
        assert!(Structure::parse(b"{}").is_err());
        assert!(Structure::parse(b"not json").is_err());
    }
}
