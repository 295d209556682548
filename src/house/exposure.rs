//! Exposure: which devices the AI may see and address at all (issue 5 "Exposure").
//!
//! Why here and not in each tool: an unexposed device must not appear in any tool's output and
//! must not be addressable, so the decision is made once on the [`House`] and resolution only
//! ever looks at exposed devices.
//!
//! The rules, in order:
//! 1. A device named in `deny_devices`, in a room of `deny_rooms` or of a kind in `deny_kinds`
//!    is hidden.
//! 2. Every allow list that is not empty (`rooms`, `kinds`, `devices`) must admit the device.
//! 3. Alarm, access and intercom devices are hidden unless `opt_in` names them (by name,
//!    `Room/Name` or UUID); opting in a parent does not opt in its sub-controls (the intercom's
//!    door opener is opted in on its own).
//! 4. A sub-control whose parent is denied or not opted in is hidden too (denying a light
//!    controller denies its circuits). Allow lists apply to each device on its own, so
//!    `kinds = ["light"]` shows the circuits of light controllers without the controllers.

use super::{DevId, House, HouseError, Kind, eq_ci, resolve};
use crate::config::{Consent, Exposure};
use crate::loxone::uuid::Uuid;

/// Why the consent channel's controls are never the AI's, whatever the config says.
pub const CONSENT_CONTROL: &str = "it is the consent channel's (`[consent.house]`): only a person \
     in the Loxone app may press or read it, never the AI";

/// The consent channel's two controls (`[consent.house]`), resolved against the structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentControls {
    /// The virtual input push button a person presses to approve.
    pub approve: DevId,
    /// Its `active` state: a press is a rise of it.
    pub approve_active: Uuid,
    /// The virtual text input that shows the question.
    pub question: DevId,
    /// Its `text` state.
    pub question_text: Uuid,
}

impl ConsentControls {
    pub fn contains(&self, id: DevId) -> bool {
        id == self.approve || id == self.question
    }
}

/// Resolves `[consent.house]` and applies the hard rule (issue 21): both controls are hidden from
/// every tool, list and scene and can never be actuated, whatever `[exposure]` or `[[classify]]`
/// say. A name that matches nothing, matches two controls, or a control of the wrong type is an
/// error: the channel could not work, and guessing would let the AI reach it.
pub fn consent_controls(
    house: &mut House,
    cfg: &Consent,
) -> Result<Option<ConsentControls>, HouseError> {
    let Some(h) = &cfg.house else {
        return Ok(None);
    };
    let one = |house: &House, key: &str, name: &str, types: &[&str], state: &str| {
        let m = resolve::config_matches(house, name);
        let id = match m.as_slice() {
            [one] => *one,
            [] => {
                return Err(HouseError(format!(
                    "{key}: no control is named {name:?} in the structure file; add it in Loxone \
                     Config (docs/install.md, \"Consent in the Loxone app\") or fix the name"
                )));
            }
            many => {
                return Err(HouseError(format!(
                    "{key}: {name:?} names {} controls ({}); use `Room/Name` or the UUID",
                    many.len(),
                    many.iter()
                        .map(|d| house.describe(*d))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        };
        let d = house.device(id);
        let uuid = house.state_uuid(id, state);
        match uuid {
            Some(u) if types.contains(&d.loxone_type.as_str()) => Ok((id, u)),
            _ => Err(HouseError(format!(
                "{key}: {} is a {}; it must be a {} with the state `{state}`",
                house.describe(id),
                d.loxone_type,
                types.join(" or ")
            ))),
        }
    };
    let (approve, approve_active) = one(
        house,
        "consent.house.approve",
        &h.approve,
        &["Pushbutton", "Switch"],
        "active",
    )?;
    let (question, question_text) = one(
        house,
        "consent.house.question",
        &h.question,
        &["TextInput"],
        "text",
    )?;
    if approve == question {
        return Err(HouseError(
            "consent.house.approve and consent.house.question name the same control".into(),
        ));
    }
    for id in [approve, question] {
        if house.devices[id.0 as usize].classified_by_config {
            let label = house.devices[id.0 as usize].label();
            house.warnings.push(format!(
                "[[classify]] of {label} is ignored: {CONSENT_CONTROL}"
            ));
        }
        let d = &mut house.devices[id.0 as usize];
        d.exposed = false;
        d.read_only = Some(CONSENT_CONTROL.to_owned());
    }
    Ok(Some(ConsentControls {
        approve,
        approve_active,
        question,
        question_text,
    }))
}

/// Applies `cfg` to the house. Ambiguous names in allow lists are errors (exposing the wrong
/// device is the hazard); ambiguous names in deny lists hide every device they name.
pub fn apply(house: &mut House, cfg: &Exposure) -> Result<(), HouseError> {
    let kinds = parse_kinds("exposure.kinds", &cfg.kinds)?;
    let deny_kinds = parse_kinds("exposure.deny_kinds", &cfg.deny_kinds)?;
    let allow_devices = names(house, "exposure.devices", &cfg.devices, true)?;
    let deny_devices = names(house, "exposure.deny_devices", &cfg.deny_devices, false)?;
    let opt_in = names(house, "exposure.opt_in", &cfg.opt_in, true)?;
    for (list, key) in [
        (&cfg.rooms, "exposure.rooms"),
        (&cfg.deny_rooms, "exposure.deny_rooms"),
    ] {
        for r in list {
            if !house.structure().rooms.values().any(|x| eq_ci(&x.name, r)) {
                house
                    .warnings
                    .push(format!("{key}: no room is named {r:?}"));
            }
        }
    }
    let n = house.devices.len();
    let mut exposed = vec![false; n];
    let mut blocked = vec![false; n];
    // Structure order puts every parent before its sub-controls.
    for i in 0..n {
        let d = &house.devices[i];
        let id = DevId(i as u32);
        let in_room = |list: &[String]| list.iter().any(|r| eq_ci(&d.room_name, r));
        let denied =
            deny_devices.contains(&id) || in_room(&cfg.deny_rooms) || deny_kinds.contains(&d.kind);
        let allowed = (cfg.rooms.is_empty() || in_room(&cfg.rooms))
            && (kinds.is_empty() || kinds.contains(&d.kind))
            && (allow_devices.is_empty() || allow_devices.contains(&id));
        let opted = !d.kind.needs_opt_in() || opt_in.contains(&id);
        blocked[i] = denied || !opted || d.parent.is_some_and(|p| blocked[p.0 as usize]);
        exposed[i] = !blocked[i] && allowed;
    }
    for (d, e) in house.devices.iter_mut().zip(exposed) {
        d.exposed = e;
    }
    Ok(())
}

fn parse_kinds(key: &str, list: &[String]) -> Result<Vec<Kind>, HouseError> {
    list.iter()
        .map(|s| {
            Kind::parse(s).ok_or_else(|| {
                HouseError(format!(
                    "{key}: {s:?} is not a kind (one of: {})",
                    Kind::ALL.map(Kind::as_str).join(", ")
                ))
            })
        })
        .collect()
}

fn names(
    house: &mut House,
    key: &str,
    list: &[String],
    must_be_unique: bool,
) -> Result<Vec<DevId>, HouseError> {
    let mut out = Vec::new();
    for name in list {
        let m = resolve::config_matches(house, name);
        if m.is_empty() {
            house
                .warnings
                .push(format!("{key}: no device is named {name:?}"));
        } else if m.len() > 1 && must_be_unique {
            return Err(HouseError(format!(
                "{key}: {name:?} names {} devices ({}); use `Room/Name` or the UUID",
                m.len(),
                m.iter()
                    .map(|d| house.describe(*d))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        out.extend(m);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::testhouse::*;
    use super::*;

    fn cfg(extra: &str) -> House {
        house_with(
            TEST_HOUSE,
            &format!("[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n{extra}"),
        )
    }

    fn shown(h: &House, addr: &str) -> bool {
        h.device(dev(h, addr)).exposed
    }

    #[test]
    fn alarm_access_and_intercom_devices_are_hidden_by_default() {
        let h = cfg("");
        for addr in [
            a::ALARM,
            a::SMOKE,
            a::INTERCOM,
            a::DOOR_OPENER,
            a::GARAGE_DOOR,
            a::KEYPAD,
        ] {
            assert!(!shown(&h, addr), "{addr} exposed without opt-in");
        }
        assert!(shown(&h, a::BLIND_LIVING));
        assert!(shown(&h, a::READING));
    }

    #[test]
    fn opt_in_exposes_exactly_the_named_device_and_not_its_sub_controls() {
        let h = cfg("[exposure]\nopt_in = [\"Front door\"]\n");
        assert!(shown(&h, a::INTERCOM));
        assert!(!shown(&h, a::DOOR_OPENER));
        let h = cfg(
            "[exposure]\nopt_in = [\"Front door\", \"4c570000-001c-0000-ffff00000000001c/1\"]\n",
        );
        assert!(shown(&h, a::DOOR_OPENER));
    }

    #[test]
    fn deny_lists_hide_devices_rooms_and_kinds() {
        let h = cfg("[exposure]\ndeny_devices = [\"Office/Reading light\"]\n");
        assert!(!shown(&h, a::READING));
        let h = cfg("[exposure]\ndeny_rooms = [\"living room\"]\n");
        assert!(!shown(&h, a::BLIND_LIVING));
        assert!(
            !shown(&h, a::LC_LIVING_CEILING),
            "sub-controls follow the room"
        );
        assert!(shown(&h, a::BLIND_BED));
        let h = cfg("[exposure]\ndeny_kinds = [\"blind\"]\n");
        assert!(!shown(&h, a::BLIND_BED));
        assert!(shown(&h, a::READING));
    }

    #[test]
    fn a_kind_allow_list_shows_light_circuits_without_their_controllers() {
        let h = cfg("[exposure]\nkinds = [\"light\"]\n");
        assert!(!shown(&h, a::LC_LIVING));
        assert!(shown(&h, a::LC_LIVING_CEILING));
        assert!(!shown(&h, a::BLIND_BED));
    }

    #[test]
    fn a_deny_beats_an_opt_in() {
        let h = cfg("[exposure]\nopt_in = [\"House\"]\ndeny_devices = [\"House\"]\n");
        assert!(!shown(&h, a::ALARM));
    }

    #[test]
    fn every_non_empty_allow_list_must_admit_the_device() {
        let h = cfg("[exposure]\nrooms = [\"Bedroom\"]\nkinds = [\"blind\"]\n");
        assert!(shown(&h, a::BLIND_BED));
        assert!(!shown(&h, a::BLIND_LIVING));
        assert!(!shown(&h, a::LC_BED));
        let h = cfg("[exposure]\ndevices = [\"Reading light\"]\n");
        assert!(shown(&h, a::READING));
        assert!(!shown(&h, a::BLIND_BED));
    }

    #[test]
    fn a_hidden_parent_hides_its_sub_controls() {
        let h = cfg("[exposure]\ndeny_devices = [\"Living Room/Lights\"]\n");
        assert!(!shown(&h, a::LC_LIVING));
        assert!(!shown(&h, a::LC_LIVING_CEILING));
        assert!(!shown(&h, a::LC_LIVING_LAMP));
    }

    #[test]
    fn ambiguous_allow_names_are_errors_and_ambiguous_deny_names_hide_all() {
        let c = config(
            "[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n[exposure]\ndevices = [\"Light\"]\n",
        );
        assert!(House::new(structure(TEST_HOUSE), &c).is_err());
        let h = cfg("[exposure]\ndeny_devices = [\"Light\"]\n");
        assert!(!shown(&h, a::KITCHEN_LIGHT));
        assert!(!shown(&h, a::HALL_LIGHT));
    }

    #[test]
    fn unknown_kind_names_are_errors_and_unknown_rooms_warnings() {
        let c =
            config("[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n[exposure]\nkinds = [\"lamp\"]\n");
        assert!(House::new(structure(TEST_HOUSE), &c).is_err());
        let h = cfg("[exposure]\ndeny_rooms = [\"Attic\"]\n");
        assert_eq!(h.warnings.len(), 1);
    }

    #[test]
    fn unexposed_devices_do_not_appear_in_listings_or_rooms() {
        let h = cfg("[exposure]\ndeny_rooms = [\"Garage\"]\n");
        assert!(!h.rooms().contains(&"Garage"));
        assert!(
            h.list(None, None)
                .iter()
                .all(|id| h.device(*id).room_name != "Garage")
        );
    }
}
