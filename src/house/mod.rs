//! The device model: one [`Device`] per control and sub-control of the structure file, with its
//! canonical address, name, room, Loxone type, [`Kind`], whether the AI may see it (exposure)
//! and, if it may never be actuated, why.
//!
//! Why a model of our own on top of [`Structure`]: the structure file says what exists; the
//! house says what the AI may see and address and what each thing *is* for the safety rules.
//! Both questions are answered once, when the structure or the config changes, so every tool
//! call resolves against the same facts (SC-1, H-1) and the pure guard never re-derives them.
//!
//! Names shown to people and put into consent messages come only from here (canonical names
//! from the structure file), never from tool arguments.

pub mod exposure;
pub mod inventory;
pub mod kind;
pub mod resolve;
pub mod scene;
pub mod windows;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::config::Config;
use crate::loxone::state::LiveStates;
use crate::loxone::structure::{Control, Structure, TempUnit};
use crate::loxone::uuid::{ControlAddr, Uuid};

pub use kind::Kind;

/// Index of a device in its [`House`]. Only meaningful for the house that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DevId(pub u32);

/// How a `Switch` classified as `access` unlocks (`[[classify]] unlock_with`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnlockWith {
    On,
    Off,
}

/// One control or sub-control as the AI and the guard see it.
#[derive(Clone, Debug)]
pub struct Device {
    pub id: DevId,
    pub addr: ControlAddr,
    /// Canonical name from the structure file.
    pub name: String,
    /// Room UUID (sub-controls inherit their parent's).
    pub room: Option<Uuid>,
    /// Room name, empty when the control has no room.
    pub room_name: String,
    /// Loxone type string, e.g. `Jalousie`.
    pub loxone_type: String,
    pub kind: Kind,
    /// The kind the rule table gives its Loxone type and place, before any `[[classify]]`:
    /// what it physically is. A blind the config makes read-only (`other`) still moves when a
    /// central object moves it, so the safety rules of scenes look at both kinds.
    pub table_kind: Kind,
    /// Why the AI may never actuate this device, if so (restrictions, unclassified switch,
    /// smoke alarm, sensor …). Read tools still show it when exposed.
    pub read_only: Option<String>,
    /// Whether the AI may see and address it at all.
    pub exposed: bool,
    /// `isSecured`: commands take the visualisation-password path.
    pub secured: bool,
    /// Set by `[[classify]]` rather than by the rule table.
    pub classified_by_config: bool,
    pub unlock_with: UnlockWith,
    pub parent: Option<DevId>,
    pub children: Vec<DevId>,
    /// Index into [`Structure::controls`].
    pub control: usize,
}

impl Device {
    /// `Room/Name`, or just the name when there is no room: how people and messages name it.
    pub fn label(&self) -> String {
        if self.room_name.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.room_name, self.name)
        }
    }

    /// True when tools may send commands to it (exposure is checked separately).
    pub fn actuable(&self) -> bool {
        self.read_only.is_none()
    }
}

/// A config that cannot be applied to this house (a `[[classify]]` naming two devices, a kind
/// that does not exist, a reclassification that would loosen the rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseError(pub String);

impl fmt::Display for HouseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HouseError {}

/// The house: devices over a structure file, exposure applied.
#[derive(Debug, Clone)]
pub struct House {
    structure: Arc<Structure>,
    devices: Vec<Device>,
    by_addr: HashMap<ControlAddr, DevId>,
    /// Config entries that matched nothing (reported by `check-config`, logged at start).
    pub warnings: Vec<String>,
    /// The consent channel's two controls in the house (`[consent.house]`), hidden from the AI.
    consent: Option<exposure::ConsentControls>,
}

impl House {
    /// Builds the device model. Fails when the config cannot be applied unambiguously.
    pub fn new(structure: Arc<Structure>, cfg: &Config) -> Result<House, HouseError> {
        let mut devices = Vec::with_capacity(structure.controls.len());
        let mut by_addr = HashMap::with_capacity(structure.controls.len());
        for (i, c) in structure.controls.iter().enumerate() {
            let id = DevId(i as u32);
            let parent = c.parent.map(|p| &structure.controls[p]);
            let room = c.room.or_else(|| parent.and_then(|p| p.room));
            let cat = c.cat.or_else(|| parent.and_then(|p| p.cat));
            let cat_type = structure.category(cat).map(|k| k.kind.as_str());
            let shape = kind::Shape {
                ty: &c.kind,
                parent: parent.map(|p| p.kind.as_str()),
                cat: cat_type,
            };
            let (k, ro) = kind::classify(&shape);
            let read_only = if c.is_read_only() {
                Some("the Miniserver marks it read-only for this user (restrictions)".to_owned())
            } else {
                ro.map(str::to_owned)
            };
            devices.push(Device {
                id,
                addr: c.addr.clone(),
                name: c.name.clone(),
                room,
                room_name: structure.room_name(room).to_owned(),
                loxone_type: c.kind.clone(),
                kind: k,
                table_kind: k,
                read_only,
                exposed: true,
                secured: c.is_secured,
                classified_by_config: false,
                unlock_with: UnlockWith::On,
                parent: c.parent.map(|p| DevId(p as u32)),
                children: c.children.iter().map(|&x| DevId(x as u32)).collect(),
                control: i,
            });
            by_addr.insert(c.addr.clone(), id);
        }
        let mut house = House {
            structure,
            devices,
            by_addr,
            warnings: Vec::new(),
            consent: None,
        };
        house.apply_classify(cfg)?;
        exposure::apply(&mut house, &cfg.exposure)?;
        house.consent = exposure::consent_controls(&mut house, &cfg.consent)?;
        Ok(house)
    }

    fn apply_classify(&mut self, cfg: &Config) -> Result<(), HouseError> {
        for (n, entry) in cfg.classify.iter().enumerate() {
            let to = Kind::parse(&entry.kind).ok_or_else(|| {
                HouseError(format!(
                    "classify[{n}].kind {:?} is not one of: {}",
                    entry.kind,
                    Kind::ALL.map(Kind::as_str).join(", ")
                ))
            })?;
            let unlock_with = match entry.unlock_with.as_deref() {
                None | Some("on") => UnlockWith::On,
                Some("off") => UnlockWith::Off,
                Some(other) => {
                    return Err(HouseError(format!(
                        "classify[{n}].unlock_with must be \"on\" or \"off\" (got {other:?})"
                    )));
                }
            };
            if entry.unlock_with.is_some() && to != Kind::Access {
                return Err(HouseError(format!(
                    "classify[{n}].unlock_with only applies to kind = \"access\""
                )));
            }
            let matches = resolve::config_matches(self, &entry.device);
            let id = match matches.as_slice() {
                [] => {
                    self.warnings.push(format!(
                        "classify[{n}]: no device is named {:?}; nothing classified",
                        entry.device
                    ));
                    continue;
                }
                [one] => *one,
                many => {
                    return Err(HouseError(format!(
                        "classify[{n}]: {:?} names {} devices ({}); use the UUID",
                        entry.device,
                        many.len(),
                        many.iter()
                            .map(|d| self.describe(*d))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            };
            let d = &self.devices[id.0 as usize];
            let from_ro = d.read_only.as_deref();
            let rule_ro = if from_ro == Some(kind::UNCLASSIFIED) {
                Some(kind::UNCLASSIFIED)
            } else {
                None
            };
            let parent_ty = d
                .parent
                .map(|p| self.devices[p.0 as usize].loxone_type.as_str());
            if !kind::may_reclassify(&d.loxone_type, parent_ty, d.kind, rule_ro, to) {
                return Err(HouseError(format!(
                    "classify[{n}]: {} is a {} ({}); the config may not make it a {} \
                     (it may only classify unknown switches, or make a device stricter)",
                    self.describe(id),
                    d.kind,
                    d.loxone_type,
                    to
                )));
            }
            let d = &mut self.devices[id.0 as usize];
            d.kind = to;
            d.classified_by_config = true;
            d.unlock_with = unlock_with;
            if d.read_only.as_deref() == Some(kind::UNCLASSIFIED) {
                d.read_only = None;
            }
            if matches!(to, Kind::Sensor | Kind::Other) && d.read_only.is_none() {
                d.read_only = Some(format!("the config classifies it as {to}"));
            }
        }
        Ok(())
    }

    pub fn structure(&self) -> &Structure {
        &self.structure
    }

    /// The consent channel's approval input and question text input, when configured.
    pub fn consent_controls(&self) -> Option<&exposure::ConsentControls> {
        self.consent.as_ref()
    }

    pub fn structure_arc(&self) -> &Arc<Structure> {
        &self.structure
    }

    /// Every device, exposed or not (the emergency-stop fan-out and posture need them all).
    pub fn all(&self) -> &[Device] {
        &self.devices
    }

    /// Exposed devices only: what the AI may see.
    pub fn exposed(&self) -> impl Iterator<Item = &Device> {
        self.devices.iter().filter(|d| d.exposed)
    }

    pub fn device(&self, id: DevId) -> &Device {
        &self.devices[id.0 as usize]
    }

    pub fn get(&self, id: DevId) -> Option<&Device> {
        self.devices.get(id.0 as usize)
    }

    /// The device at `addr`, exposed or not.
    pub fn by_addr(&self, addr: &ControlAddr) -> Option<&Device> {
        self.by_addr.get(addr).map(|id| self.device(*id))
    }

    /// The structure-file control behind a device.
    pub fn control(&self, id: DevId) -> &Control {
        &self.structure.controls[self.device(id).control]
    }

    /// The state UUID named `state` of a device.
    pub fn state_uuid(&self, id: DevId, state: &str) -> Option<Uuid> {
        self.control(id).state(state)
    }

    /// A numeric live state of a device.
    pub fn number(&self, states: &dyn LiveStates, id: DevId, state: &str) -> Option<f64> {
        self.state_uuid(id, state).and_then(|u| states.number(&u))
    }

    /// A text live state of a device.
    pub fn text(&self, states: &dyn LiveStates, id: DevId, state: &str) -> Option<String> {
        let u = self.state_uuid(id, state)?;
        let e = states.entry(&u)?;
        e.value.as_text().map(str::to_owned)
    }

    /// The Miniserver's temperature unit (`msInfo.tempUnit`).
    pub fn temp_unit(&self) -> TempUnit {
        self.structure.ms_info.temp_unit
    }

    /// `Room/Name (uuid)`: the canonical way messages and candidate lists name a device.
    pub fn describe(&self, id: DevId) -> String {
        let d = self.device(id);
        format!("{} ({})", d.label(), d.addr)
    }

    /// Names of rooms that hold at least one exposed device, sorted.
    pub fn rooms(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .exposed()
            .map(|d| d.room_name.as_str())
            .filter(|r| !r.is_empty())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Exposed devices, optionally in one room and of one kind, in structure order.
    pub fn list(&self, room: Option<&str>, kind: Option<Kind>) -> Vec<DevId> {
        self.exposed()
            .filter(|d| room.is_none_or(|r| eq_ci(&d.room_name, r)))
            .filter(|d| kind.is_none_or(|k| d.kind == k))
            .map(|d| d.id)
            .collect()
    }

    /// Every device of every type in the whole house (exposed or not) with this Loxone type.
    pub fn of_type<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = &'a Device> + 'a {
        self.devices.iter().filter(move |d| d.loxone_type == ty)
    }
}

/// Case-insensitive equality for names (Unicode lowercase; Czech and German names included).
pub fn eq_ci(a: &str, b: &str) -> bool {
    // ASCII names compare without allocating (every comparison of a scan over a big house
    // used to allocate two strings); Unicode takes the full lowercase, as before.
    a == b
        || if a.is_ascii() && b.is_ascii() {
            a.eq_ignore_ascii_case(b)
        } else {
            a.to_lowercase() == b.to_lowercase()
        }
}

#[cfg(test)]
pub(crate) mod testhouse;

#[cfg(test)]
mod tests {
    use super::testhouse::*;
    use super::*;
    use std::collections::BTreeMap;

    fn kinds_by_type(h: &House) -> BTreeMap<(String, Kind), usize> {
        let mut m = BTreeMap::new();
        for d in h.all() {
            *m.entry((d.loxone_type.clone(), d.kind)).or_insert(0) += 1;
        }
        m
    }

    #[test]
    fn names_compare_case_insensitively_in_ascii_and_in_unicode() {
        assert!(eq_ci("Kitchen", "KITCHEN"));
        assert!(!eq_ci("Kitchen", "Kitchens"));
        assert!(eq_ci("Küche", "KÜCHE"));
        assert!(eq_ci("Obývák", "OBÝVÁK"));
        // The Kelvin sign lowercases to an ASCII k: non-ASCII takes the full lowercase.
        assert!(eq_ci("\u{212a}itchen", "kitchen"));
        assert!(!eq_ci("Küche", "Kuche"));
    }

    #[test]
    fn every_manison_control_gets_the_kind_its_type_and_place_say() {
        let h = manison();
        let m = kinds_by_type(&h);
        let get = |t: &str, k: Kind| m.get(&(t.to_owned(), k)).copied().unwrap_or(0);
        assert_eq!(get("LightControllerV2", Kind::Scene), 15);
        assert_eq!(get("CentralJalousie", Kind::Scene), 5);
        assert_eq!(get("Jalousie", Kind::Blind), 12);
        assert_eq!(get("IRoomControllerV2", Kind::Climate), 10);
        assert_eq!(get("AudioZone", Kind::Audio), 7);
        assert_eq!(get("Dimmer", Kind::Light), 21);
        assert_eq!(get("ColorPickerV2", Kind::Light), 7);
        assert_eq!(get("CarCharger", Kind::Charger), 1);
        assert_eq!(get("Alarm", Kind::Alarm), 1);
        assert_eq!(get("SmokeAlarm", Kind::Alarm), 1);
        assert_eq!(get("Intercom", Kind::Intercom), 1);
        // The intercom's door opener is access, not a light.
        assert_eq!(get("Pushbutton", Kind::Access), 1);
        // The five top-level switches (absence, night mode, building protection, frost and storm
        // protection) are not in a lighting category: read-only until classified.
        let unclassified: Vec<_> = h
            .all()
            .iter()
            .filter(|d| d.read_only.as_deref() == Some(kind::UNCLASSIFIED))
            .collect();
        assert_eq!(unclassified.len(), 5);
        assert!(unclassified.iter().all(|d| d.loxone_type == "Switch"));
        // Switches under light controllers are lights.
        assert_eq!(get("Switch", Kind::Light), 8);
    }

    #[test]
    fn every_smarteon_control_gets_its_kind() {
        let h = smarteon();
        let m = kinds_by_type(&h);
        let get = |t: &str, k: Kind| m.get(&(t.to_owned(), k)).copied().unwrap_or(0);
        assert_eq!(get("LightController", Kind::Scene), 1);
        assert_eq!(get("CentralLightController", Kind::Scene), 1);
        assert_eq!(get("IRoomController", Kind::Climate), 1);
        assert_eq!(get("Dimmer", Kind::Light), 1);
        assert_eq!(get("Colorpicker", Kind::Light), 1);
        // "Vše vyp." is a push button in the lighting category.
        assert_eq!(get("Pushbutton", Kind::Light), 1);
        assert_eq!(get("Tracker", Kind::Sensor), 2);
        assert_eq!(get("IRCDaytimer", Kind::Other), 2);
    }

    #[test]
    fn sub_controls_inherit_their_parents_room() {
        let h = manison();
        let opener = dev(&h, "1079e231-0145-ebe1-ffffc926a26a8d21/1");
        assert_eq!(h.device(opener).room_name, "Vchod");
        assert_eq!(h.device(opener).label(), "Vchod/Otevřít dveře");
    }

    #[test]
    fn restrictions_read_only_bits_make_a_device_read_only() {
        let h = test_house();
        let d = h.device(dev(&h, a::SKYLIGHT_BLIND));
        assert_eq!(d.kind, Kind::Blind);
        assert!(d.read_only.as_deref().unwrap().contains("restrictions"));
    }

    #[test]
    fn a_lock_wired_as_a_switch_is_read_only_until_classified_then_access() {
        let plain = house_with(TEST_HOUSE, "[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n");
        let d = plain.device(dev(&plain, a::DOOR_LOCK));
        assert_eq!(d.kind, Kind::Other);
        assert_eq!(d.read_only.as_deref(), Some(kind::UNCLASSIFIED));
        let h = test_house();
        let d = h.device(dev(&h, a::DOOR_LOCK));
        assert_eq!(d.kind, Kind::Access);
        assert!(d.actuable() && d.classified_by_config && d.exposed);
    }

    #[test]
    fn classify_may_not_turn_a_gate_into_a_light() {
        let cfg = config(
            "[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n[[classify]]\ndevice = \"Garage door\"\nkind = \"light\"\n",
        );
        let e = House::new(structure(TEST_HOUSE), &cfg).unwrap_err();
        assert!(e.0.contains("may not make it a light"), "{e}");
    }

    #[test]
    fn classify_may_say_an_intercom_output_is_a_light() {
        let cfg = config(
            "[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n[[classify]]\ndevice = \"Hall/Door opener\"\nkind = \"light\"\n",
        );
        let h = House::new(structure(TEST_HOUSE), &cfg).unwrap();
        let d = h.device(dev(&h, a::DOOR_OPENER));
        assert_eq!(d.kind, Kind::Light);
        // Its parent, the intercom, is still hidden until opted in.
        assert!(!d.exposed);
    }

    #[test]
    fn classify_of_a_smoke_alarm_keeps_it_read_only() {
        let cfg = config(
            "[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n[exposure]\nopt_in=[\"Fire alarm\"]\n[[classify]]\ndevice = \"Fire alarm\"\nkind = \"access\"\n",
        );
        let h = House::new(structure(TEST_HOUSE), &cfg).unwrap();
        assert!(!h.device(dev(&h, a::SMOKE)).actuable());
    }

    #[test]
    fn an_ambiguous_classify_entry_is_a_config_error() {
        let cfg = config(
            "[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n[[classify]]\ndevice = \"Light\"\nkind = \"light\"\n",
        );
        let e = House::new(structure(TEST_HOUSE), &cfg).unwrap_err();
        assert!(e.0.contains("names 2 devices"), "{e}");
    }

    #[test]
    fn a_classify_entry_naming_nothing_is_a_warning() {
        let cfg = config(
            "[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n[[classify]]\ndevice = \"Nonexistent\"\nkind = \"light\"\n",
        );
        let h = House::new(structure(TEST_HOUSE), &cfg).unwrap();
        assert_eq!(h.warnings.len(), 1);
    }

    #[test]
    fn unknown_kinds_and_unlock_modes_in_classify_are_errors() {
        for bad in [
            "[[classify]]\ndevice = \"Garden pump\"\nkind = \"lamp\"\n",
            "[[classify]]\ndevice = \"Garden pump\"\nkind = \"access\"\nunlock_with = \"pulse\"\n",
            "[[classify]]\ndevice = \"Garden pump\"\nkind = \"light\"\nunlock_with = \"on\"\n",
        ] {
            let cfg = config(&format!(
                "[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n{bad}"
            ));
            assert!(House::new(structure(TEST_HOUSE), &cfg).is_err(), "{bad}");
        }
    }
}
