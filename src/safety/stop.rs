//! The emergency-stop fan-out (R-11, UCA-B1): `stop` to every blind, window and gate, pause to
//! every audio zone.
//!
//! Why every device, exposed or not: a person who stops the house means the whole house. A
//! stop cannot hurt anyone, so exposure (which limits what the AI may *start*) does not limit
//! it. Devices the Miniserver marks read-only for our user, or that the config made read-only,
//! are left out: the command would only fail. Pure: the link sends the plan and reports each
//! device's own answer.

use crate::house::House;
use crate::loxone::command::{Command, Op};
use crate::safety::rate::{Motion, RateClass, RateMark};
use crate::safety::{Allowed, Step};

/// The stop plan for `house`, in structure order.
pub fn plan(house: &House) -> Allowed {
    let mut a = Allowed::default();
    for d in house.all().iter().filter(|d| d.actuable()) {
        let (op, motor) = match d.loxone_type.as_str() {
            "Jalousie" | "Window" | "Gate" => (Op::Stop, true),
            "AudioZone" => (Op::Pause, false),
            "AudioZoneV2" => (Op::PauseV2, false),
            _ => continue,
        };
        a.plan.push(Step {
            device: d.id,
            command: Command::new(d.addr.clone(), op),
            pause_before: std::time::Duration::ZERO,
            secured: d.secured,
        });
        if motor {
            a.rate_marks.push(RateMark {
                addr: d.addr.clone(),
                class: RateClass::Motor,
                motion: Motion::Stop,
                label: d.label(),
            });
        }
    }
    let (motors, zones) = a.plan.iter().fold((0, 0), |(m, z), s| match s.command.op {
        Op::Stop => (m + 1, z),
        _ => (m, z + 1),
    });
    a.notes.push(format!(
        "emergency stop: {motors} blind(s), window(s) and gate(s) stopped, {zones} audio zone(s) paused"
    ));
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::house::testhouse::*;

    #[test]
    fn r11_the_test_house_stop_covers_every_motor_and_zone_hidden_or_not() {
        let h = test_house();
        let p = plan(&h);
        let ops: Vec<(String, Op)> = p
            .plan
            .iter()
            .map(|s| (s.command.target.to_string(), s.command.op))
            .collect();
        let has = |addr: &str, op: Op| ops.contains(&(addr.to_owned(), op));
        for b in [
            a::BLIND_LIVING,
            a::BLIND_BED,
            a::PATIO,
            a::SKYLIGHT,
            a::GARAGE_DOOR,
        ] {
            assert!(has(b, Op::Stop), "{b}");
        }
        assert!(has(a::SPEAKER_KITCHEN, Op::PauseV2));
        assert!(has(a::SPEAKER_LIVING, Op::Pause));
        // The read-only skylight blind (restrictions) is left out.
        assert!(!ops.iter().any(|(t, _)| t == a::SKYLIGHT_BLIND));
        assert_eq!(p.plan.len(), 7);
        assert!(p.consent.is_none());
        // The result counts what was stopped and paused.
        assert_eq!(
            p.notes,
            ["emergency stop: 5 blind(s), window(s) and gate(s) stopped, 2 audio zone(s) paused"]
        );
    }

    #[test]
    fn r11_the_manison_stop_covers_its_twelve_blinds_and_seven_zones() {
        let h = manison();
        let p = plan(&h);
        let stops = p.plan.iter().filter(|s| s.command.op == Op::Stop).count();
        let pauses = p.plan.iter().filter(|s| s.command.op == Op::Pause).count();
        assert_eq!((stops, pauses), (12, 7));
    }
}
