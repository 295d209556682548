//! Arming the burglar alarm while someone may be inside asks a person (UCA-S1, issue 19 item
//! 8): "nobody is inside" only when every presence detector reports nobody *and* detection
//! covers every room (a detector in it, or `[presence] covered_rooms`); at night it always asks.
//! Evidence: the simulator's command log.

use loxwarden::demo::client::Answer;
use serde_json::json;

use crate::tools_support::{Options, Rig};

/// The demo house's rooms without a presence detector of their own.
const UNCOVERED: &str = r#"["Bedroom", "Garage", "Garden", "Whole House"]"#;

fn rig(hour: u64, covered: Option<&'static str>) -> Rig {
    Rig::with(Options {
        hour,
        config: Box::new(move |t| match covered {
            Some(c) => format!("{t}\n[presence]\ncovered_rooms = {c}\n"),
            None => t,
        }),
        ..Options::default()
    })
}

/// Every presence detector reports nobody, and the gateway has seen it.
fn nobody_detected(rig: &Rig) {
    let s = rig.sim.structure();
    for c in s.controls.iter().filter(|c| c.kind == "PresenceDetector") {
        assert!(rig.sim.sense(&c.addr, "active", 0.0));
        assert!(rig.wait_cache(&c.addr, "active", |v| v == 0.0));
    }
}

/// Arming asks (declined: nothing sent); returns the question.
fn arming_asks(rig: &Rig) -> String {
    let mut c = rig.client();
    let mark = rig.sim.log_mark();
    let r = c
        .call(
            "set_alarm",
            json!({"device": "Burglar Alarm", "action": "arm"}),
        )
        .unwrap();
    assert_eq!(r["structuredContent"]["consent"]["rule"], "UCA-S1", "{r}");
    assert_eq!(r["structuredContent"]["consent"]["outcome"], "declined");
    assert!(rig.received(mark).is_empty(), "{:?}", rig.received(mark));
    c.asked[0]["message"].as_str().unwrap().to_owned()
}

#[test]
fn arming_asks_when_a_sleeping_room_has_no_presence_detector_even_if_nobody_is_detected() {
    let rig = rig(12, None);
    nobody_detected(&rig);
    let q = arming_asks(&rig);
    assert!(
        q.contains("No presence is detected, but no detector covers Bedroom, Garage, Garden"),
        "{q}"
    );
}

#[test]
fn arming_at_night_asks_a_person_even_with_every_room_covered_and_nobody_detected() {
    let rig = rig(23, Some(UNCOVERED));
    nobody_detected(&rig);
    let q = arming_asks(&rig);
    assert!(
        q.contains("It is night: people may be asleep inside."),
        "{q}"
    );
    // Accepted, the one command goes out.
    let mark = rig.sim.log_mark();
    let r = rig.call_answering(
        "set_alarm",
        json!({"device": "Burglar Alarm", "action": "arm"}),
        Answer::Accept,
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(rig.received(mark).len(), 1);
}

#[test]
fn arming_by_day_with_every_room_covered_and_nobody_detected_needs_no_question() {
    let rig = rig(12, Some(UNCOVERED));
    nobody_detected(&rig);
    let mut c = rig.client();
    let r = c
        .call(
            "set_alarm",
            json!({"device": "Burglar Alarm", "action": "arm"}),
        )
        .unwrap();
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert!(c.asked.is_empty(), "{:?}", c.asked);
}
