//! Open windows and doors, as the house's window monitors report them (SF "WindowMonitor"):
//! named in every question to arm the burglar alarm, and a reason to ask at all (an alarm
//! armed over an open window leaves the house open, L-3).
//!
//! `windowStates` is a comma-separated list of bitmasks, one per entry of `details.windows`:
//! 1 closed, 2 tilted, 4 open, 8 locked, 16 unlocked, empty = unknown or offline. Where the list
//! is not readable, the counts (`numOpen`, `numTilted`) still tell how many.

use super::House;
use super::scene::clean_name;
use crate::loxone::state::LiveStates;

/// "Kitchen window (open)", "Terrace door (tilted)", "2 windows or doors open (Hall monitor)":
/// one entry per window or door that is open, tilted or unlocked.
pub fn open(house: &House, states: &dyn LiveStates) -> Vec<String> {
    let mut out = Vec::new();
    for d in house
        .all()
        .iter()
        .filter(|d| d.loxone_type == "WindowMonitor")
    {
        let details = house.control(d.id).details();
        let names: Vec<String> = details["windows"]
            .as_array()
            .map(|w| {
                w.iter()
                    .map(|x| clean_name(x["name"].as_str().unwrap_or("a window")))
                    .collect()
            })
            .unwrap_or_default();
        let listed = house
            .text(states, d.id, "windowStates")
            .filter(|t| !t.trim().is_empty());
        if let Some(list) = listed {
            for (i, s) in list.split(',').enumerate() {
                let Ok(bits) = s.trim().parse::<u32>() else {
                    continue;
                };
                let what = if bits & 4 != 0 {
                    "open"
                } else if bits & 2 != 0 {
                    "tilted"
                } else if bits & 16 != 0 {
                    "unlocked"
                } else {
                    continue;
                };
                let name = names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("window {}", i + 1));
                out.push(format!("{name} ({what})"));
            }
            continue;
        }
        let n = ["numOpen", "numTilted", "numUnlocked"]
            .iter()
            .filter_map(|s| house.number(states, d.id, s))
            .sum::<f64>();
        if n > 0.0 {
            let by = if d.exposed {
                format!(" ({})", d.label())
            } else {
                String::new()
            };
            out.push(format!("{n} windows or doors open, tilted or unlocked{by}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::safety::testkit::FakeStates;
    use std::sync::Arc;

    fn house() -> (House, String) {
        let s = crate::loxone::structure::Structure::parse(
            crate::sim::every_type_structure().as_bytes(),
        )
        .unwrap();
        let h = House::new(Arc::new(s), &crate::config::Config::default()).unwrap();
        let addr = h
            .all()
            .iter()
            .find(|d| d.loxone_type == "WindowMonitor")
            .unwrap()
            .addr
            .to_string();
        (h, addr)
    }

    #[test]
    fn open_tilted_and_unlocked_windows_are_named_closed_ones_are_not() {
        let (h, m) = house();
        let mut s = FakeStates::default();
        s.set_text(&h, &m, "windowStates", "1,2");
        assert_eq!(open(&h, &s), ["Terrace door (tilted)"]);
        s.set_text(&h, &m, "windowStates", "4,17");
        assert_eq!(
            open(&h, &s),
            ["Kitchen window (open)", "Terrace door (unlocked)"]
        );
        s.set_text(&h, &m, "windowStates", "9,");
        assert!(open(&h, &s).is_empty());
    }

    #[test]
    fn without_a_readable_list_the_counts_still_tell() {
        let (h, m) = house();
        let mut s = FakeStates::default();
        s.set(&h, &m, "numOpen", 1.0);
        s.set(&h, &m, "numTilted", 1.0);
        assert_eq!(
            open(&h, &s),
            ["2 windows or doors open, tilted or unlocked (Ground floor/Every WindowMonitor)"]
        );
        assert!(open(&h, &FakeStates::default()).is_empty());
    }
}
