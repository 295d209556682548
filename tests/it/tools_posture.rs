//! The posture follows the house: the simulator's sensors (a smoke alarm, a sounding burglar
//! alarm, a bell ring) change what the gateway allows, for every kind of device, and every
//! refusal is checked against the simulator's command log — nothing reached it.

use std::time::Duration;

use loxwarden::demo::client::Answer;
use serde_json::{Value, json};

use crate::tools_support::{Options, Rig, text};

/// The demo config with "Garden socket" (a plain `Switch`) declared a lock and opted in.
pub fn garden_lock(t: String) -> String {
    t.replace(r#""Garage Door"]"#, r#""Garage Door", "Garden socket"]"#)
        + "\n[[classify]]\ndevice = \"Garden socket\"\nkind = \"access\"\n"
}

/// Refused under `rule` before any question (a person would have accepted), nothing sent;
/// returns the refusal's text.
fn refused_for(rig: &Rig, tool: &str, args: Value, rule: &str) -> String {
    // A person would accept: the refusal must come before any question.
    let mut c = rig.client();
    c.answer_next(Answer::Accept);
    let mark = rig.sim.log_mark();
    let r = c.call(tool, args.clone()).expect("call");
    assert_eq!(r["isError"], true, "{tool} {args}: {r}");
    assert!(text(&r).contains(rule), "{tool} {args}: {}", text(&r));
    assert!(c.asked.is_empty(), "{tool} {args} asked: {:?}", c.asked);
    let got = rig.received(mark);
    assert!(
        got.is_empty(),
        "{tool} {args} reached the Miniserver: {got:?}"
    );
    text(&r)
}

fn smoke(rig: &Rig) {
    assert!(rig.sim.trigger_smoke_alarm());
    let smoke = rig.addr("Fire and Water Alarm");
    assert!(rig.wait_cache(&smoke, "level", |v| v > 0.0));
}

#[test]
fn in_a_fire_gates_locks_louder_audio_and_closing_or_mood_scenes_are_refused_but_people_get_out() {
    let rig = Rig::with(Options {
        config: Box::new(garden_lock),
        ..Options::default()
    });
    let zone = rig.addr("Living Room Music");
    let r = rig.call(
        "control_audio",
        json!({"device": "Living Room Music", "action": "volume", "volume": 40}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    let r = rig.call(
        "control_light",
        json!({"device": "Kitchen Ceiling", "action": "dim", "brightness": 50}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    smoke(&rig);
    let s = rig.call("get_system_status", json!({}));
    assert_eq!(
        s["structuredContent"]["posture"]["name"], "emergency",
        "{s}"
    );
    for (tool, args, rule) in [
        (
            "control_access",
            json!({"device": "Garage Door", "action": "close"}),
            "UCA-B2",
        ),
        (
            "control_access",
            json!({"device": "Garden socket", "action": "lock"}),
            "UCA-D2",
        ),
        (
            "control_blind",
            json!({"device": "Nursery Blind", "action": "position", "position": 100}),
            "UCA-B2",
        ),
        (
            "control_audio",
            json!({"device": "Living Room Music", "action": "volume", "volume": 50}),
            "UCA-A2",
        ),
        (
            "control_audio",
            json!({"device": "Living Room Music", "action": "next"}),
            "UCA-A2",
        ),
        (
            "activate_scene",
            json!({"device": "All Blinds", "scene": "down"}),
            "UCA-B2",
        ),
        (
            "activate_scene",
            json!({"device": "Living Room Lighting", "scene": "Evening"}),
            "UCA-L1",
        ),
        (
            "control_light",
            json!({"device": "Kitchen Ceiling", "action": "dim", "brightness": 10}),
            "UCA-L1",
        ),
    ] {
        let t = refused_for(&rig, tool, args, rule);
        assert!(t.contains("emergency"), "{t}");
    }
    assert_eq!(rig.num(&zone, "volume"), 40.0);
    // Quieter is always allowed (an alarm must be heard), and so is pausing.
    for args in [
        json!({"device": "Living Room Music", "action": "volume", "volume": 10}),
        json!({"device": "Living Room Music", "action": "pause"}),
    ] {
        let r = rig.call("control_audio", args);
        assert_eq!(r["structuredContent"]["done"], true, "{r}");
    }
    assert_eq!(rig.num(&zone, "volume"), 10.0);
    // Ways out stay open: the gate opens and the lock unlocks, each with a person's consent.
    let gate = rig.addr("Garage Door");
    let lock = rig.addr("Garden socket");
    let mark = rig.sim.log_mark();
    for (args, addr, op) in [
        (
            json!({"device": "Garage Door", "action": "open"}),
            &gate,
            "open",
        ),
        (
            json!({"device": "Garden socket", "action": "unlock"}),
            &lock,
            "on",
        ),
    ] {
        let r = rig.call_answering("control_access", args, Answer::Accept);
        assert_eq!(r["structuredContent"]["done"], true, "{r}");
        assert!(
            rig.received(mark)
                .iter()
                .any(|e| e.command == format!("jdev/sps/io/{addr}/{op}")),
            "{:?}",
            rig.received(mark)
        );
    }
    let r = rig.call(
        "activate_scene",
        json!({"device": "All Blinds", "scene": "stop"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
}

#[test]
fn the_ai_can_never_mute_confirm_or_disarm_a_smoke_alarm_even_when_the_site_opts_it_in() {
    let rig = Rig::with(Options {
        config: Box::new(|t| {
            t.replace(
                r#""Garage Door"]"#,
                r#""Garage Door", "Fire and Water Alarm"]"#,
            )
        }),
        ..Options::default()
    });
    smoke(&rig);
    let alarm = rig.addr("Fire and Water Alarm");
    for action in ["acknowledge", "disarm", "arm", "arm_delayed"] {
        let t = refused_for(
            &rig,
            "set_alarm",
            json!({"device": "Fire and Water Alarm", "action": action}),
            "SC-5",
        );
        assert!(t.contains("never muted"), "{t}");
    }
    assert_eq!(rig.num(&alarm, "level"), 2.0);
    assert_eq!(rig.num(&alarm, "acousticAlarm"), 1.0);
    // Opted in, it is named in the status (that is all the AI may do with it).
    let s = rig.call("get_system_status", json!({}));
    assert!(
        s["structuredContent"]["alarms"][0]
            .as_str()
            .unwrap()
            .contains("Fire and Water Alarm"),
        "{s}"
    );
}

#[test]
fn a_sounding_burglar_alarm_is_an_intrusion_and_audio_may_not_start_or_get_louder() {
    let rig = Rig::start();
    let alarm = rig.addr("Burglar Alarm");
    assert!(rig.sim.sense(&alarm, "level", 2.0));
    assert!(rig.wait_cache(&alarm, "level", |v| v == 2.0));
    let s = rig.call("get_system_status", json!({}));
    assert_eq!(
        s["structuredContent"]["posture"]["name"], "intrusion",
        "{s}"
    );
    for args in [
        json!({"device": "Living Room Music", "action": "play"}),
        json!({"device": "Living Room Music", "action": "volume", "volume": 30}),
    ] {
        let t = refused_for(&rig, "control_audio", args, "UCA-A2");
        assert!(t.contains("sounding") || t.contains("alarm sounds"), "{t}");
    }
    let r = rig.call(
        "control_audio",
        json!({"device": "Living Room Music", "action": "volume", "volume": 10}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    // Not an emergency: lights and blinds work as usual.
    let r = rig.call(
        "control_blind",
        json!({"device": "Kitchen Blind", "action": "down"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
}

#[test]
fn the_intercom_door_opens_only_within_120_s_of_the_ring_even_after_the_ring_was_answered() {
    let rig = Rig::with(Options {
        manual: true,
        ..Options::default()
    });
    let intercom = rig.addr("Front Door");
    let open = json!({"device": "Front Door", "action": "open_door"});
    // Bell values at connect are old news; a ring counts 5 s after the link became live.
    rig.advance(Duration::from_secs(6));
    assert!(rig.sim.ring_bell());
    assert!(rig.wait_cache(&intercom, "bell", |v| v == 1.0));
    // A minute later the AI answers (which only silences the bell): not a new ring.
    rig.advance(Duration::from_secs(60));
    let r = rig.call(
        "control_intercom",
        json!({"device": "Front Door", "action": "answer"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert!(rig.wait_cache(&intercom, "bell", |v| v == 0.0));
    // 119 s after the ring: the person is asked (and declines).
    rig.advance(Duration::from_secs(59));
    let mut c = rig.client();
    let mark = rig.sim.log_mark();
    let r = c.call("control_intercom", open.clone()).unwrap();
    assert_eq!(
        r["structuredContent"]["consent"]["outcome"], "declined",
        "{r}"
    );
    let q = c.asked[0]["message"].as_str().unwrap();
    assert!(q.contains("The bell rang 119 s ago"), "{q}");
    assert!(rig.received(mark).is_empty());
    // 121 s after the ring: refused before anyone is asked, whatever they would answer.
    rig.advance(Duration::from_secs(2));
    let t = refused_for(&rig, "control_intercom", open, "UCA-I1");
    assert!(t.contains("has not rung in the last 120 s"), "{t}");
    // The same door opener through control_access obeys the same window.
    let t = refused_for(
        &rig,
        "control_access",
        json!({"device": "Hall/Door opener", "action": "open"}),
        "UCA-I1",
    );
    assert!(t.contains("has not rung"), "{t}");
}
