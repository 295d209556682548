//! The emergency-stop fan-out (R-11, UCA-B1): `stop` to every blind, window and gate and to
//! their central objects, pause to every audio zone and central audio object, `off` to every
//! sauna and `stop` to every irrigation block (issue 22: heat and water the AI may have started;
//! once the stop latches no AI command reaches them, and turning them off is never the hazard —
//! SF "Sauna" `off` "turns the sauna off right away", SF "Irrigation" `stop` "stops running
//! irrigation"). Ventilation is left alone: stopping the air is the hazard in a fire, and its
//! manual timer ends on the Miniserver by itself.
//!
//! Why from the raw structure, by Loxone type: a person who stops the house means the whole
//! house, and the stop must not depend on anything that can be wrong about it. Exposure (which
//! limits what the AI may *start*), classification (`[[classify]] kind = "other"` makes a blind
//! read-only for the AI, not still), opt-in, and even a config that no longer applies to the
//! structure (a renamed device making the device model fail to build) limit nothing here: the
//! plan is built from the [`Structure`] the link read last, control by control. Only the
//! Miniserver's own `restrictions` (read-only *for our user*) leave a device out, because the
//! command could only fail; the plan names each one in its notes so the person knows which
//! motor the stop could not reach. Pure: the caller sends the plan (`send.rs`: all at once,
//! pipelined over the websocket) and reports each device's own answer.

pub mod send;
pub mod senders;

use std::time::Duration;

use crate::house::DevId;
use crate::loxone::command::{Command, Op};
use crate::loxone::structure::Structure;
use crate::safety::rate::{Motion, RateClass, RateMark};
use crate::safety::{Allowed, Step};

/// What the stop sends to a control of this Loxone type, and whether it is a motor (rate
/// marks), or `None` when the stop leaves the type alone.
pub fn op_for(loxone_type: &str) -> Option<(Op, bool)> {
    match loxone_type {
        "Jalousie" | "Window" | "Gate" => Some((Op::Stop, true)),
        "CentralJalousie" | "CentralWindow" | "CentralGate" => Some((Op::Stop, false)),
        "AudioZone" | "CentralAudioZone" => Some((Op::Pause, false)),
        "AudioZoneV2" => Some((Op::PauseV2, false)),
        "Sauna" => Some((Op::Off, false)),
        "Irrigation" => Some((Op::Stop, false)),
        _ => None,
    }
}

/// `Room/Name` of control `i` (a sub-control takes its parent's room), as the house names it.
pub fn label(s: &Structure, i: usize) -> (String, String) {
    let c = &s.controls[i];
    let room = c.room.or_else(|| c.parent.and_then(|p| s.controls[p].room));
    (c.name.clone(), s.room_name(room).to_owned())
}

fn joined(name: &str, room: &str) -> String {
    if room.is_empty() {
        name.to_owned()
    } else {
        format!("{room}/{name}")
    }
}

/// The stop plan for `structure`, in structure order. A step's [`DevId`] is the control's
/// index in the structure, which is the device id any [`crate::house::House`] built on the
/// same structure gives it.
pub fn plan(structure: &Structure) -> Allowed {
    let mut a = Allowed::default();
    let mut restricted = Vec::new();
    let (mut motors, mut centrals, mut zones, mut saunas, mut irrigation) = (0, 0, 0, 0, 0);
    for (i, c) in structure.controls.iter().enumerate() {
        let Some((op, motor)) = op_for(&c.kind) else {
            continue;
        };
        let (name, room) = label(structure, i);
        if c.is_read_only() {
            restricted.push(joined(&name, &room));
            continue;
        }
        a.plan.push(Step {
            device: DevId(i as u32),
            command: Command::new(c.addr.clone(), op),
            pause_before: Duration::ZERO,
            secured: c.is_secured,
        });
        match c.kind.as_str() {
            "Sauna" => {
                saunas += 1;
                continue;
            }
            "Irrigation" => {
                irrigation += 1;
                continue;
            }
            _ => {}
        }
        match (op, motor) {
            (Op::Stop, true) => {
                motors += 1;
                a.rate_marks.push(RateMark {
                    addr: c.addr.clone(),
                    class: RateClass::Motor,
                    motion: Motion::Stop,
                    label: joined(&name, &room),
                });
            }
            (Op::Stop, false) => centrals += 1,
            _ => zones += 1,
        }
    }
    // One note for what was sent (the shell reads the notes after it as devices left out).
    let mut sent = format!(
        "emergency stop: {motors} blind(s), window(s) and gate(s) and {centrals} central \
         object(s) stopped, {zones} audio zone(s) paused"
    );
    if saunas + irrigation > 0 {
        sent.push_str(&format!(
            ", {saunas} sauna(s) turned off, {irrigation} irrigation block(s) stopped"
        ));
    }
    a.notes.push(sent);
    if !restricted.is_empty() {
        a.notes.push(format!(
            "not sent, the Miniserver marks it read-only for this user (stop it locally): {}",
            restricted.join(", ")
        ));
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::house::testhouse::*;

    fn ops(p: &Allowed) -> Vec<(String, Op)> {
        p.plan
            .iter()
            .map(|s| (s.command.target.to_string(), s.command.op))
            .collect()
    }

    #[test]
    fn r11_the_test_house_stop_covers_every_motor_central_and_zone_hidden_or_not() {
        let h = test_house();
        let p = plan(h.structure());
        let ops = ops(&p);
        let has = |addr: &str, op: Op| ops.contains(&(addr.to_owned(), op));
        for b in [
            a::BLIND_LIVING,
            a::BLIND_BED,
            a::PATIO,
            a::SKYLIGHT,
            a::GARAGE_DOOR,
            a::ALL_BLINDS,
            a::ALL_GATES,
        ] {
            assert!(has(b, Op::Stop), "{b}");
        }
        assert!(has(a::SPEAKER_KITCHEN, Op::PauseV2));
        assert!(has(a::SPEAKER_LIVING, Op::Pause));
        assert!(has(a::ALL_AUDIO, Op::Pause));
        // Heat the AI may have started goes off (issue 22).
        assert!(has(a::SAUNA, Op::Off));
        // The skylight blind the Miniserver marks read-only (restrictions) is left out, and
        // named.
        assert!(!ops.iter().any(|(t, _)| t == a::SKYLIGHT_BLIND));
        assert_eq!(p.plan.len(), 11);
        assert!(p.consent.is_none());
        assert_eq!(
            p.notes,
            [
                "emergency stop: 5 blind(s), window(s) and gate(s) and 2 central object(s) \
                 stopped, 3 audio zone(s) paused, 1 sauna(s) turned off, 0 irrigation \
                 block(s) stopped",
                "not sent, the Miniserver marks it read-only for this user (stop it locally): \
                 Office/Skylight blind",
            ]
        );
        // Only the motors themselves get rate marks (a central object is not a motor).
        assert_eq!(p.rate_marks.len(), 5);
    }

    #[test]
    fn r11_the_step_ids_are_the_house_device_ids() {
        let h = test_house();
        for s in plan(h.structure()).plan {
            assert_eq!(h.device(s.device).addr, s.command.target);
        }
    }

    #[test]
    fn r11_a_blind_the_config_made_read_only_is_still_stopped() {
        let cfg = format!(
            "{TEST_CONFIG}\n[[classify]]\ndevice = \"{}\"\nkind = \"other\"\n",
            a::PATIO
        );
        let h = house_with(TEST_HOUSE, &cfg);
        assert!(
            !h.device(dev(&h, a::PATIO)).actuable(),
            "read-only for the AI"
        );
        let p = plan(h.structure());
        assert!(ops(&p).contains(&(a::PATIO.to_owned(), Op::Stop)));
        assert_eq!(p.plan, plan(&structure(TEST_HOUSE)).plan);
    }

    #[test]
    fn r11_the_stop_turns_saunas_off_and_stops_irrigation_but_leaves_ventilation_alone() {
        let st = crate::loxone::structure::Structure::parse(
            crate::sim::every_type_structure().as_bytes(),
        )
        .unwrap();
        let p = plan(&st);
        let op_of = |ty: &str| {
            let i = st.controls.iter().position(|c| c.kind == ty).unwrap();
            p.plan
                .iter()
                .find(|s| s.device == DevId(i as u32))
                .map(|s| s.command.op)
        };
        assert_eq!(op_of("Sauna"), Some(Op::Off));
        assert_eq!(op_of("Irrigation"), Some(Op::Stop));
        assert_eq!(op_of("Ventilation"), None);
        assert!(
            p.notes[0].ends_with("1 sauna(s) turned off, 1 irrigation block(s) stopped"),
            "{:?}",
            p.notes
        );
        assert_eq!(p.notes.len(), 1);
    }

    #[test]
    fn r11_the_manison_stop_covers_its_blinds_centrals_and_zones() {
        let h = manison();
        let p = plan(h.structure());
        let stops = p.plan.iter().filter(|s| s.command.op == Op::Stop).count();
        let pauses = p.plan.iter().filter(|s| s.command.op == Op::Pause).count();
        assert_eq!((stops, pauses), (12 + 5, 7 + 1));
    }
}
