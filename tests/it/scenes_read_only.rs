//! Scenes never reach around a read-only device (issue 19 item 1; UCA-SC1, SC-7): a central
//! object or a mood whose members include a device the config made read-only is refused like
//! one with a hidden member, before anyone is asked and with nothing sent; stopping through
//! the same central object stays allowed. Evidence: the simulator's command log.

use loxwarden::demo::client::Answer;
use serde_json::json;

use crate::tools_support::{Options, Rig, text};

/// `activate_scene` by a person who would accept: refused before anyone is asked, nothing
/// sent. The refusal's text.
fn refused_unasked(rig: &Rig, device: &str, scene: &str) -> String {
    let mut c = rig.client();
    c.answer_next(Answer::Accept);
    let mark = rig.sim.log_mark();
    let r = c
        .call("activate_scene", json!({"device": device, "scene": scene}))
        .unwrap();
    assert_eq!(r["isError"], true, "{r}");
    assert!(c.asked.is_empty(), "nobody is asked: {:?}", c.asked);
    assert!(rig.received(mark).is_empty(), "{:?}", rig.received(mark));
    text(&r)
}

fn rig_with(classify: &str) -> Rig {
    let entry = format!("\n[[classify]]\ndevice = \"{classify}\"\nkind = \"other\"\n");
    Rig::with(Options {
        config: Box::new(move |t| t + &entry),
        ..Options::default()
    })
}

#[test]
fn all_blinds_down_is_refused_when_a_member_blind_is_read_only_by_the_config() {
    let rig = rig_with("Kitchen Blind");
    let kitchen = rig.addr("Kitchen Blind");
    let t = refused_unasked(&rig, "All Blinds", "down");
    assert!(t.contains("SC-7") && t.contains("read-only"), "{t}");
    assert!(t.contains("Kitchen/Kitchen Blind"), "{t}");
    assert_eq!(rig.num(&kitchen, "down"), 0.0);
    // Stopping through the same central object cannot hurt anyone: allowed.
    let r = rig.call(
        "activate_scene",
        json!({"device": "All Blinds", "scene": "stop"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
}

#[test]
fn a_mood_is_refused_without_a_question_when_one_of_its_lamps_is_read_only_by_the_config() {
    let rig = rig_with("Living Room/Floor lamp");
    let t = refused_unasked(&rig, "Living Room Lighting", "Bright");
    assert!(
        t.contains("SC-7") && t.contains("Living Room/Floor lamp"),
        "{t}"
    );
}
