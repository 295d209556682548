//! Whether people are in the house, read from presence detectors (UCA-S1): what the disarm and
//! arm questions say, and whether arming needs a person at all.
//!
//! Why on its own: the guard decides on it, and the question a person reads tells it, so both
//! read the same detectors the same way.

use crate::house::scene::clean_name;
use crate::house::{House, eq_ci};
use crate::loxone::state::LiveStates;

/// Whether people are in the house, from presence detectors' live `active` state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Detected in these rooms (canonical names).
    Detected(Vec<String>),
    /// Every presence detector reports nobody.
    Absent,
    /// No presence detector, or a state is unknown and none reports presence.
    Unknown,
    /// Every detector reports nobody, but these rooms have none (and the config does not
    /// declare them covered): someone may be there (UCA-S1).
    Uncovered(Vec<String>),
}

impl Presence {
    /// Reads every presence detector in the house (exposed or not).
    pub fn of(house: &House, states: &dyn LiveStates) -> Presence {
        let mut rooms = Vec::new();
        let mut any = false;
        let mut unknown = false;
        for d in house.all() {
            if !matches!(d.loxone_type.as_str(), "PresenceDetector" | "Presence") {
                continue;
            }
            any = true;
            match house.number(states, d.id, "active") {
                Some(v) if v != 0.0 => {
                    let r = if d.room_name.is_empty() {
                        d.name.clone()
                    } else {
                        d.room_name.clone()
                    };
                    if !rooms.contains(&r) {
                        rooms.push(r);
                    }
                }
                Some(_) => {}
                None => unknown = true,
            }
        }
        if !rooms.is_empty() {
            Presence::Detected(rooms)
        } else if !any || unknown {
            Presence::Unknown
        } else {
            Presence::Absent
        }
    }

    /// [`Presence::of`] for arming (UCA-S1): "nobody is inside" only when presence detection
    /// covers every room of the house, by a detector in it or by the config's
    /// `[presence] covered_rooms`; otherwise the rooms without cover.
    pub fn for_arming(house: &House, states: &dyn LiveStates, covered: &[String]) -> Presence {
        let p = Presence::of(house, states);
        if p != Presence::Absent {
            return p;
        }
        let with_detector: Vec<&str> = house
            .all()
            .iter()
            .filter(|d| matches!(d.loxone_type.as_str(), "PresenceDetector" | "Presence"))
            .map(|d| d.room_name.as_str())
            .collect();
        let mut gaps: Vec<String> = house
            .structure()
            .rooms
            .values()
            .map(|r| r.name.as_str())
            // A room that holds only the consent channel's virtual controls (`[consent.house]`)
            // is a heading in the app, not a place a person can be.
            .filter(|r| !only_consent_controls(house, r))
            .filter(|r| !with_detector.iter().any(|w| eq_ci(w, r)))
            .filter(|r| !covered.iter().any(|c| eq_ci(c, r)))
            .map(str::to_owned)
            .collect();
        gaps.sort();
        gaps.dedup();
        if gaps.is_empty() {
            Presence::Absent
        } else {
            Presence::Uncovered(gaps)
        }
    }

    pub(crate) fn sentence(&self) -> String {
        match self {
            Presence::Detected(r) => format!(
                "presence is detected in {}",
                r.iter()
                    .map(|x| clean_name(x))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Presence::Absent => "no presence is detected".to_owned(),
            Presence::Unknown => "whether anyone is inside is not known".to_owned(),
            Presence::Uncovered(r) => {
                const SHOWN: usize = 8;
                let mut names: Vec<String> = r.iter().take(SHOWN).map(|x| clean_name(x)).collect();
                if r.len() > SHOWN {
                    names.push(format!("{} more", r.len() - SHOWN));
                }
                format!(
                    "no presence is detected, but no detector covers {}",
                    names.join(", ")
                )
            }
        }
    }
}

/// Whether every control in room `room` is one of the consent channel's two (and there is one).
fn only_consent_controls(house: &House, room: &str) -> bool {
    let Some(cc) = house.consent_controls() else {
        return false;
    };
    let mut in_room = house.all().iter().filter(|d| eq_ci(&d.room_name, room));
    let first = in_room.next();
    first.is_some_and(|d| cc.contains(d.id)) && in_room.all(|d| cc.contains(d.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::house::testhouse::*;
    use crate::safety::testkit::*;

    #[test]
    fn presence_is_read_from_every_detector() {
        let h = test_house();
        let mut s = quiet_states();
        assert_eq!(Presence::of(&h, &s), Presence::Absent);
        s.set(&h, a::PRESENCE_BED, "active", 1.0);
        assert_eq!(
            Presence::of(&h, &s),
            Presence::Detected(vec!["Bedroom".into()])
        );
        assert_eq!(Presence::of(&h, &FakeStates::default()), Presence::Unknown);
        // A house without detectors: unknown.
        assert_eq!(
            Presence::of(&smarteon(), &FakeStates::default()),
            Presence::Unknown
        );
    }
}
