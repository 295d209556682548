//! The every-type house (one control of each type the Structure File documents) end to end:
//! the new timed-switch light, the central window, the life-safety blocks and the window
//! monitor, each sent, refused or asked against the simulator, with its command log as the
//! evidence of what reached the Miniserver.

use std::time::Duration;

use loxwarden::demo::client::Answer;
use loxwarden::sim::HouseSource;
use serde_json::{Value, json};

use crate::tools_support::{Options, Rig, text, without_app_channel};

fn every_type_house() -> HouseSource {
    HouseSource::Json(loxwarden::sim::every_type_structure().into_bytes())
}

/// The every-type house has no controls for the Loxone app channel, so its config has none.
fn rig(config: impl Fn(String) -> String + 'static, hour: u64) -> Rig {
    Rig::with(Options {
        house: every_type_house(),
        config: Box::new(move |t| config(without_app_channel(t))),
        hour,
        ..Options::default()
    })
}

/// Device commands that reached the simulator after `mark`, as paths.
fn sent(rig: &Rig, mark: u64) -> Vec<String> {
    rig.received(mark).into_iter().map(|e| e.command).collect()
}

/// Refused under `rule` before any question (the person would accept), nothing sent.
fn refused_for(rig: &Rig, tool: &str, args: Value, rule: &str) -> String {
    let mut c = rig.client();
    c.answer_next(Answer::Accept);
    let mark = rig.sim.log_mark();
    let r = c.call(tool, args.clone()).expect("call");
    assert_eq!(r["isError"], true, "{tool} {args}: {r}");
    assert!(text(&r).contains(rule), "{tool} {args}: {}", text(&r));
    assert!(c.asked.is_empty(), "{tool} {args} asked: {:?}", c.asked);
    assert!(
        sent(rig, mark).is_empty(),
        "{tool} {args} reached the Miniserver"
    );
    text(&r)
}

#[test]
fn a_timed_switch_light_is_sent_on_and_off_and_reads_back_in_words() {
    let rig = rig(|t| t, 12);
    let ts = rig.addr("Every TimedSwitch");
    let mark = rig.sim.log_mark();
    let r = rig.call(
        "control_light",
        json!({"device": "Every TimedSwitch", "action": "on"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(sent(&rig, mark), [format!("jdev/sps/io/{ts}/on")]);
    assert_eq!(rig.num(&ts, "deactivationDelay"), -1.0);
    let r = rig.call("get_device", json!({"device": "Every TimedSwitch"}));
    assert_eq!(
        r["structuredContent"]["device"]["summary"], "on",
        "in words: {r}"
    );
    // UCA-L1: at most one change a second per light.
    std::thread::sleep(Duration::from_millis(1100));
    let mark = rig.sim.log_mark();
    let r = rig.call(
        "control_light",
        json!({"device": "Every TimedSwitch", "action": "off"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(sent(&rig, mark), [format!("jdev/sps/io/{ts}/off")]);
    assert_eq!(rig.num(&ts, "deactivationDelay"), 0.0);
}

#[test]
fn a_timed_switch_is_refused_dimming_and_going_off_while_a_care_alarm_is_active() {
    let rig = rig(|t| t, 12);
    refused_for(
        &rig,
        "control_light",
        json!({"device": "Every TimedSwitch", "action": "dim", "brightness": 40}),
        "SC-10",
    );
    // A care alarm (AalSmartAlarm) goes off at the Miniserver: the house is in emergency.
    let care = rig.addr("Every AalSmartAlarm");
    assert!(rig.sim.sense(&care, "alarmLevel", 1.0));
    assert!(rig.wait_cache(&care, "alarmLevel", |v| v == 1.0));
    let r = rig.call("get_system_status", json!({}));
    assert!(text(&r).contains("emergency"), "{}", text(&r));
    assert!(text(&r).contains("care alarm is active"), "{}", text(&r));
    let why = refused_for(
        &rig,
        "control_light",
        json!({"device": "Every TimedSwitch", "action": "off"}),
        "UCA-L1",
    );
    assert!(why.contains("care alarm"), "{why}");
}

#[test]
fn a_timed_switch_in_a_sleeping_room_at_night_is_asked_and_sent_only_when_accepted() {
    let rig = rig(
        |t| {
            t.replace(
                r#"sleeping_rooms = ["Bedroom", "Nursery"]"#,
                r#"sleeping_rooms = ["Ground floor"]"#,
            )
        },
        23,
    );
    let ts = rig.addr("Every TimedSwitch");
    let mark = rig.sim.log_mark();
    let mut c = rig.client();
    c.answer_next(Answer::Decline);
    let r = c
        .call(
            "control_light",
            json!({"device": "Every TimedSwitch", "action": "on"}),
        )
        .unwrap();
    assert_eq!(r["structuredContent"]["done"], false, "{r}");
    assert_eq!(r["structuredContent"]["consent"]["rule"], "UCA-L2", "{r}");
    assert_eq!(c.asked.len(), 1, "asked once");
    assert!(sent(&rig, mark).is_empty());
    let r = rig.call_answering(
        "control_light",
        json!({"device": "Every TimedSwitch", "action": "on"}),
        Answer::Accept,
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(sent(&rig, mark), [format!("jdev/sps/io/{ts}/on")]);
}

#[test]
fn the_central_window_is_asked_sent_when_accepted_and_refused_closing_in_a_fire() {
    let rig = rig(|t| t, 12);
    let cw = rig.addr("Every CentralWindow");
    let window = rig.addr("Every Window");
    let mark = rig.sim.log_mark();
    let r = rig.call(
        "activate_scene",
        json!({"device": "Every CentralWindow", "scene": "open"}),
    );
    assert_eq!(r["structuredContent"]["done"], false, "declined: {r}");
    assert_eq!(r["structuredContent"]["consent"]["rule"], "SC-7", "{r}");
    assert!(sent(&rig, mark).is_empty());
    let r = rig.call_answering(
        "activate_scene",
        json!({"device": "Every CentralWindow", "scene": "open"}),
        Answer::Accept,
    );
    assert_eq!(r["isError"], false, "{r}");
    assert_eq!(sent(&rig, mark), [format!("jdev/sps/io/{cw}/fullopen")]);
    assert!(
        crate::link_support::wait_until(Duration::from_secs(5), || rig.num(&window, "position")
            > 0.0)
        .is_some(),
        "the member window moves"
    );
    assert!(rig.sim.trigger_smoke_alarm());
    let smoke = rig.addr("Every SmokeAlarm");
    assert!(rig.wait_cache(&smoke, "level", |v| v > 0.0));
    refused_for(
        &rig,
        "activate_scene",
        json!({"device": "Every CentralWindow", "scene": "close"}),
        "UCA-B2",
    );
}

#[test]
fn life_safety_blocks_are_refused_even_opted_in_and_nothing_reaches_them() {
    let rig = rig(
        |t| {
            t.replace(
                r#"opt_in = ["Burglar Alarm", "Front Door", "Hall/Door opener", "Garage Door"]"#,
                r#"opt_in = ["Every AalSmartAlarm", "Every AalEmergency", "Every AlarmChain", "Every SmokeAlarm", "Every CentralAlarm"]"#,
            )
        },
        12,
    );
    for dev in [
        "Every AalSmartAlarm",
        "Every AalEmergency",
        "Every AlarmChain",
        "Every SmokeAlarm",
    ] {
        for action in ["acknowledge", "disarm"] {
            refused_for(
                &rig,
                "set_alarm",
                json!({"device": dev, "action": action}),
                "SC-5",
            );
        }
    }
    refused_for(
        &rig,
        "set_alarm",
        json!({"device": "Every CentralAlarm", "action": "disarm"}),
        "SC-1",
    );
    // Opted in, they are readable in words.
    let r = rig.call("get_device", json!({"device": "Every AalEmergency"}));
    assert_eq!(
        r["structuredContent"]["device"]["summary"], "ready",
        "in words: {r}"
    );
}

#[test]
fn arming_over_an_open_window_is_asked_naming_the_window() {
    let rig = rig(
        |t| {
            t.replace(
                r#"opt_in = ["Burglar Alarm", "Front Door", "Hall/Door opener", "Garage Door"]"#,
                r#"opt_in = ["Every Alarm"]"#,
            ) + "\n[presence]\ncovered_rooms = [\"Ground floor\"]\n"
        },
        12,
    );
    let monitor = rig.addr("Every WindowMonitor");
    assert!(rig.sim.sense(&monitor, "numOpen", 1.0));
    assert!(rig.wait_cache(&monitor, "numOpen", |v| v == 1.0));
    let mark = rig.sim.log_mark();
    let mut c = rig.client();
    c.answer_next(Answer::Decline);
    let r = c
        .call(
            "set_alarm",
            json!({"device": "Every Alarm", "action": "arm"}),
        )
        .unwrap();
    assert_eq!(r["structuredContent"]["done"], false, "{r}");
    assert_eq!(r["structuredContent"]["consent"]["rule"], "UCA-S1", "{r}");
    assert_eq!(c.asked.len(), 1);
    let q = c.asked[0].to_string();
    assert!(q.contains("Not closed: 1 windows or doors open"), "{q}");
    assert!(sent(&rig, mark).is_empty());
}
