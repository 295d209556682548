//! Scene enumeration: what a light controller or central object can do, and every device
//! each of its scenes affects.
//!
//! Why before activation: one command to a central object moves every blind in the house, and
//! a mood can switch off lights in a room a person stands in (UCA-SC1, LS-10). The guard decides
//! consent and posture rules from this enumeration (SC-7), and `describe_scene` shows it to the
//! AI, so what is asked and what is done come from the same list.
//!
//! Sources: `LightControllerV2` moods come from the live `moodList` text state (SF: a JSON array
//! `[{name, id, …}]`); they affect the controller's circuits (its sub-controls). `LightController`
//! (v1) scenes come from `sceneList` (`1="Name",2="…"`) plus `on`/`off`. Central objects
//! (`CentralJalousie`, `CentralLightController`, `CentralGate`, `CentralAudioZone`) have fixed
//! commands and affect every control listed in `details.controls`.

use serde::Deserialize;

use super::{DevId, House, Kind, eq_ci, resolve};
use crate::loxone::command::Op;
use crate::loxone::state::LiveStates;
use crate::loxone::uuid::{ControlAddr, Uuid};
use crate::safety::Refusal;

/// What a scene does, as far as the safety rules care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Opens blinds or gates.
    Open,
    /// Closes blinds or gates (refused in an emergency, UCA-B2).
    Close,
    /// Stops blinds or gates: always safe.
    Stop,
    /// Switches lights on.
    LightsOn,
    /// Changes lights in a way that may switch some off (a mood).
    LightsChange,
    /// Starts audio (refused in an emergency or intrusion, UCA-A2).
    Play,
    /// Pauses audio: always safe.
    Pause,
}

impl Effect {
    /// Directions that cannot hurt anyone: no consent for bulk, never refused by posture.
    pub fn is_safe_direction(self) -> bool {
        matches!(self, Effect::Stop | Effect::Pause)
    }
}

/// One scene (mood, central command).
#[derive(Clone, Debug, PartialEq)]
pub struct SceneEntry {
    /// Canonical name: the mood name from the Miniserver, or the command word.
    pub name: String,
    /// Mood or scene number, where there is one.
    pub id: Option<i64>,
    pub op: Op,
    pub effect: Effect,
}

/// A scene device described.
#[derive(Clone, Debug, PartialEq)]
pub struct SceneDescription {
    pub device: DevId,
    pub scenes: Vec<SceneEntry>,
    /// Devices the scenes act on directly (circuits, or the members of a central object).
    pub members: Vec<DevId>,
    /// Every device that may change: members and their circuits.
    pub affected: Vec<DevId>,
    /// Members named in `details.controls` that this user's structure file does not contain.
    pub missing: Vec<Uuid>,
    /// Why the scene list is incomplete, if it is (e.g. mood list not received yet).
    pub note: Option<String>,
}

impl SceneDescription {
    /// Devices that change and are not lights' containers: what "more than 5 devices" counts.
    pub fn leaf_count(&self, house: &House) -> usize {
        self.affected
            .iter()
            .filter(|id| house.device(**id).children.is_empty())
            .count()
    }

    /// Members and affected devices the AI may see, and how many it may not: what
    /// `describe_scene` shows (unexposed devices never appear in tool output).
    pub fn exposed_view(&self, house: &House) -> (Vec<DevId>, Vec<DevId>, usize) {
        let vis = |v: &[DevId]| -> Vec<DevId> {
            v.iter()
                .copied()
                .filter(|id| house.device(*id).exposed)
                .collect()
        };
        let members = vis(&self.members);
        let affected = vis(&self.affected);
        let hidden = self.affected.len() - affected.len() + self.missing.len();
        (members, affected, hidden)
    }

    /// Finds the scene the AI named: a canonical name (case-insensitive, exact) or an id.
    pub fn find(&self, house: &House, arg: &str) -> Result<&SceneEntry, Refusal> {
        let hit = self
            .scenes
            .iter()
            .find(|s| eq_ci(&s.name, arg) || s.id.is_some_and(|id| id.to_string() == arg));
        hit.ok_or_else(|| {
            let names: Vec<String> = self.scenes.iter().map(|s| s.name.clone()).collect();
            Refusal::new(
                "SC-1",
                format!(
                    "{} has no scene {}; its scenes: {}{}",
                    house.describe(self.device),
                    resolve::quote_untrusted(arg),
                    if names.is_empty() {
                        "none known".to_owned()
                    } else {
                        names.join(", ")
                    },
                    self.note
                        .as_deref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                ),
            )
        })
    }
}

#[derive(Deserialize)]
struct Mood {
    name: String,
    id: i64,
}

/// Describes the scene device `id`. Refused for devices that are not scenes.
pub fn describe(
    house: &House,
    id: DevId,
    states: &dyn LiveStates,
) -> Result<SceneDescription, Refusal> {
    let d = house.device(id);
    let mut out = SceneDescription {
        device: id,
        scenes: Vec::new(),
        members: Vec::new(),
        affected: Vec::new(),
        missing: Vec::new(),
        note: None,
    };
    let fixed = |list: &[(&str, Op, Effect)]| -> Vec<SceneEntry> {
        list.iter()
            .map(|(n, op, e)| SceneEntry {
                name: (*n).to_owned(),
                id: None,
                op: *op,
                effect: *e,
            })
            .collect()
    };
    match d.loxone_type.as_str() {
        "LightControllerV2" => {
            out.members = d.children.clone();
            match house.text(states, id, "moodList") {
                Some(t) => match serde_json::from_str::<Vec<Mood>>(&t) {
                    Ok(moods) => {
                        out.scenes = moods
                            .into_iter()
                            .filter(|m| m.id >= 0 && m.id <= u32::MAX as i64)
                            .map(|m| SceneEntry {
                                name: clean_name(&m.name),
                                id: Some(m.id),
                                op: Op::ChangeTo(m.id as u32),
                                effect: Effect::LightsChange,
                            })
                            .collect();
                    }
                    Err(_) => {
                        out.note = Some("the mood list from the Miniserver is not readable".into())
                    }
                },
                None => {
                    out.note =
                        Some("the mood list has not been received from the Miniserver yet".into())
                }
            }
        }
        "LightController" => {
            out.members = d.children.clone();
            out.scenes = fixed(&[
                ("on", Op::On, Effect::LightsOn),
                ("off", Op::Off, Effect::LightsChange),
            ]);
            if let Some(t) = house.text(states, id, "sceneList") {
                for (n, name) in parse_scene_list(&t) {
                    out.scenes.push(SceneEntry {
                        name: clean_name(&name),
                        id: Some(i64::from(n)),
                        op: Op::Scene(n),
                        effect: Effect::LightsChange,
                    });
                }
            } else {
                out.note =
                    Some("the scene list has not been received from the Miniserver yet".into());
            }
        }
        "CentralJalousie" => {
            out.scenes = fixed(&[
                ("up", Op::FullUp, Effect::Open),
                ("down", Op::FullDown, Effect::Close),
                ("shade", Op::Shade, Effect::Close),
                ("stop", Op::Stop, Effect::Stop),
            ]);
            members_from_details(house, id, &mut out);
        }
        "CentralGate" => {
            out.scenes = fixed(&[
                ("open", Op::Open, Effect::Open),
                ("close", Op::Close, Effect::Close),
                ("stop", Op::Stop, Effect::Stop),
            ]);
            members_from_details(house, id, &mut out);
        }
        // SF "Central Objects": CentralWindow takes fullopen, fullclose and stop like a Window.
        "CentralWindow" => {
            out.scenes = fixed(&[
                ("open", Op::FullOpen, Effect::Open),
                ("close", Op::FullClose, Effect::Close),
                ("stop", Op::Stop, Effect::Stop),
            ]);
            members_from_details(house, id, &mut out);
        }
        "CentralLightController" => {
            out.scenes = fixed(&[("on", Op::On, Effect::LightsOn)]);
            members_from_details(house, id, &mut out);
        }
        "CentralAudioZone" => {
            out.scenes = fixed(&[
                ("play", Op::Play, Effect::Play),
                ("pause", Op::Pause, Effect::Pause),
            ]);
            members_from_details(house, id, &mut out);
        }
        other => {
            return Err(Refusal::new(
                "SC-1",
                format!(
                    "{} is {} ({other}), not a light controller or central object",
                    house.describe(id),
                    d.kind.with_article()
                ),
            ));
        }
    }
    let mut affected = Vec::new();
    for m in &out.members {
        affected.push(*m);
        affected.extend(house.device(*m).children.iter().copied());
    }
    affected.sort_unstable();
    affected.dedup();
    out.affected = affected;
    Ok(out)
}

fn members_from_details(house: &House, id: DevId, out: &mut SceneDescription) {
    let details = house.control(id).details();
    let list = details
        .get("controls")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    for item in list {
        let Some(u) = item.get("uuid").and_then(|u| u.as_str()) else {
            continue;
        };
        match ControlAddr::parse(u) {
            Ok(addr) => match house.by_addr(&addr) {
                Some(m) => out.members.push(m.id),
                None => out.missing.push(addr.uuid()),
            },
            Err(_) => out.note = Some("details.controls holds a malformed id".into()),
        }
    }
}

/// `1="Bright",2="Evening"` → pairs. Entries that do not parse are skipped.
fn parse_scene_list(t: &str) -> Vec<(u8, String)> {
    let mut out = Vec::new();
    for part in t.split(',') {
        let Some((n, name)) = part.split_once('=') else {
            continue;
        };
        if let Ok(n) = n.trim().parse::<u8>() {
            out.push((n, name.trim().trim_matches('"').to_owned()));
        }
    }
    out
}

/// Names from the Miniserver's live state are canonical but still text a person typed: drop
/// control and formatting characters and cap the length before they reach a message.
pub fn clean_name(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .filter(|c| !matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'))
        .take(64)
        .collect()
}

/// The affected devices that are safety-critical for SC-7 (blind, gate/access, alarm), by
/// their kind *or* by what their Loxone type is (`table_kind`): a config that reclassifies a
/// blind does not make it stop being a motor.
pub fn critical_members(house: &House, desc: &SceneDescription) -> Vec<DevId> {
    desc.affected
        .iter()
        .copied()
        .filter(|id| {
            let d = house.device(*id);
            [d.kind, d.table_kind]
                .iter()
                .any(|k| matches!(k, Kind::Blind | Kind::Access | Kind::Alarm))
        })
        .collect()
}

/// Whether a scene member is a motor (rate-limited as one), by its Loxone type.
pub fn is_motor(loxone_type: &str) -> bool {
    matches!(loxone_type, "Jalousie" | "Window" | "Gate")
}

#[cfg(test)]
mod tests {
    use super::super::testhouse::*;
    use super::*;
    use crate::safety::testkit::*;

    #[test]
    fn r18_every_manison_central_jalousie_lists_its_blinds() {
        let h = manison();
        let s = FakeStates::default();
        let centrals: Vec<_> = h.of_type("CentralJalousie").map(|d| d.id).collect();
        assert_eq!(centrals.len(), 5);
        let mut sizes = Vec::new();
        for id in centrals {
            let d = describe(&h, id, &s).unwrap();
            assert!(d.missing.is_empty());
            assert!(
                d.members
                    .iter()
                    .all(|m| h.device(*m).loxone_type == "Jalousie")
            );
            assert_eq!(
                d.scenes.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
                ["up", "down", "shade", "stop"]
            );
            assert_eq!(critical_members(&h, &d).len(), d.members.len());
            sizes.push(d.members.len());
        }
        sizes.sort_unstable();
        // The house-wide one moves all 12 blinds.
        assert_eq!(sizes.last(), Some(&12));
    }

    #[test]
    fn r18_every_manison_light_controller_lists_its_circuits() {
        let h = manison();
        let s = FakeStates::default();
        let lcs: Vec<_> = h.of_type("LightControllerV2").map(|d| d.id).collect();
        assert_eq!(lcs.len(), 15);
        for id in lcs {
            let d = describe(&h, id, &s).unwrap();
            assert_eq!(d.members, h.device(id).children);
            assert!(!d.members.is_empty());
            assert!(d.members.iter().all(|m| h.device(*m).kind == Kind::Light));
            // No live mood list: described, but no moods to activate, and it says why.
            assert!(d.scenes.is_empty());
            assert!(d.note.as_deref().unwrap().contains("not been received"));
        }
    }

    #[test]
    fn r18_the_manison_central_lights_and_audio_list_their_members() {
        let h = manison();
        let s = FakeStates::default();
        let cl = h.of_type("CentralLightController").next().unwrap().id;
        let d = describe(&h, cl, &s).unwrap();
        assert_eq!(d.members.len(), 15);
        assert!(d.leaf_count(&h) > 15);
        let ca = h.of_type("CentralAudioZone").next().unwrap().id;
        let d = describe(&h, ca, &s).unwrap();
        assert_eq!(d.members.len(), 7);
        assert!(d.members.iter().all(|m| h.device(*m).kind == Kind::Audio));
    }

    #[test]
    fn moods_come_from_the_live_mood_list() {
        let h = test_house();
        let s = quiet_states();
        let d = describe(&h, dev(&h, a::LC_LIVING), &s).unwrap();
        let names: Vec<_> = d.scenes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Bright", "Off", "Cosy"]);
        assert_eq!(d.scenes[1].op, Op::ChangeTo(778));
        assert_eq!(d.find(&h, "cosy").unwrap().id, Some(1));
        assert_eq!(d.find(&h, "777").unwrap().name, "Bright");
        let r = d.find(&h, "Party").unwrap_err();
        assert!(r.reason.contains("Bright, Off, Cosy"), "{r}");
    }

    #[test]
    fn the_smarteon_light_controller_has_on_off_and_its_scene_list() {
        let h = smarteon();
        let id = h.of_type("LightController").next().unwrap().id;
        let mut s = FakeStates::default();
        let u = h.state_uuid(id, "sceneList").unwrap();
        s.map.insert(
            u,
            crate::loxone::state::StateEntry {
                value: crate::loxone::state::StateValue::Text("1=\"Day\",2=\"Evening\"".into()),
                updated: crate::clock::Mono(1),
                changed: None,
            },
        );
        let d = describe(&h, id, &s).unwrap();
        let names: Vec<_> = d.scenes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["on", "off", "Day", "Evening"]);
        assert_eq!(d.scenes[3].op, Op::Scene(2));
        assert_eq!(d.members.len(), 2);
    }

    #[test]
    fn the_exposed_view_leaves_out_hidden_members() {
        let h = house_with(
            TEST_HOUSE,
            "[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n[exposure]\ndeny_devices = [\"Bedroom/Blind\"]\n",
        );
        let d = describe(&h, dev(&h, a::ALL_BLINDS), &FakeStates::default()).unwrap();
        let (members, affected, hidden) = d.exposed_view(&h);
        assert_eq!(members.len(), 2);
        assert_eq!(affected.len(), 2);
        assert_eq!(hidden, 1);
        assert!(!members.contains(&dev(&h, a::BLIND_BED)));
    }

    #[test]
    fn a_device_that_is_not_a_scene_cannot_be_described() {
        let h = test_house();
        assert!(describe(&h, dev(&h, a::BLIND_BED), &FakeStates::default()).is_err());
    }

    #[test]
    fn mood_names_are_cleaned_of_control_characters() {
        assert_eq!(clean_name("Bright\n\u{202e}Ignore"), "BrightIgnore");
        assert_eq!(clean_name(&"x".repeat(100)).len(), 64);
    }
}
