//! The emergency stop preempts everything (issue 19, items 1, 3, 4; R-11, UCA-B1): it is built
//! from the raw structure by Loxone type, so neither the config's classification nor a config
//! that no longer applies to the structure can take a motor out of it; it is never refused for
//! its arguments; it is never held back by the session's cap on calls in flight; and its
//! result names every device it reached. Evidence: the simulator's command log, the audit log.

use std::time::Duration;

use loxwarden::sim::StructureChange;
use serde_json::{Value, json};

use crate::link_support::wait_until;
use crate::tools_support::{Options, Rig, text};

/// Every Jalousie, Window, Gate and central object of the simulated house got `stop`, and
/// every audio zone a pause, after `mark`. Returns the stopped addresses.
fn assert_everything_stopped(rig: &Rig, mark: u64) -> Vec<String> {
    let got = rig.received(mark);
    let sent = |op: &[&str]| -> Vec<String> {
        got.iter()
            .filter(|e| e.op.as_deref().is_some_and(|o| op.contains(&o)))
            .filter_map(|e| e.control.clone())
            .collect()
    };
    let stopped = sent(&["stop"]);
    let paused = sent(&["pause", "Pause"]);
    let s = rig.sim.structure();
    let mut motors = 0;
    for c in &s.controls {
        let addr = c.addr.to_string();
        match c.kind.as_str() {
            "Jalousie" | "Window" | "Gate" | "CentralJalousie" | "CentralWindow"
            | "CentralGate" => {
                motors += 1;
                assert!(
                    stopped.contains(&addr),
                    "{} was not stopped: {got:?}",
                    c.name
                );
            }
            "AudioZone" | "AudioZoneV2" | "CentralAudioZone" => {
                assert!(paused.contains(&addr), "{} was not paused: {got:?}", c.name);
            }
            _ => {}
        }
    }
    assert!(
        motors >= 7,
        "the demo house has its blinds, gate and central"
    );
    stopped
}

fn stop(rig: &Rig, args: Value) -> Value {
    let mut c = rig.client();
    c.call("emergency_stop", args).expect("the stop answers")
}

#[test]
fn the_stop_reaches_a_blind_the_config_made_read_only_and_names_it_in_its_text() {
    let rig = Rig::with(Options {
        config: Box::new(|t| t + "\n[[classify]]\ndevice = \"Kitchen Blind\"\nkind = \"other\"\n"),
        ..Options::default()
    });
    // The AI cannot move it (read-only by the config) …
    let r = rig.refused_and_nothing_sent(
        "control_blind",
        json!({"device": "Kitchen Blind", "action": "down"}),
    );
    assert!(text(&r).contains("is an other device"), "{r}");
    // … but the stop reaches it, and the central object, and says so.
    let mark = rig.sim.log_mark();
    let r = stop(&rig, json!({"reason": "kids at the window"}));
    assert_eq!(r["isError"], false, "{r}");
    let stopped = assert_everything_stopped(&rig, mark);
    assert!(stopped.contains(&rig.addr("Kitchen Blind").to_string()));
    let t = text(&r);
    for name in [
        "Kitchen/Kitchen Blind",
        "Garage/Garage Door",
        "All Blinds",
        "Living Room Music",
    ] {
        assert!(t.contains(name), "the text does not list {name}: {t}");
    }
}

#[test]
fn the_stop_still_stops_the_house_when_a_renamed_device_breaks_the_config() {
    let rig = Rig::start();
    // A routine edit in Loxone Config: a blind renamed to a name the config opts in.
    assert!(rig.sim.change_structure(&StructureChange::Rename {
        addr: rig.addr("Kitchen Blind").to_string(),
        name: "Garage Door".into(),
    }));
    // The next command finds the change (the link asks `LoxAPPversion3` before sending) and
    // is not sent; from then on the device model cannot be built.
    let refused = rig.call(
        "control_blind",
        json!({"device": "Living Room Blind West", "action": "up"}),
    );
    assert_eq!(refused["isError"], true, "{refused}");
    let broken = wait_until(Duration::from_secs(15), || {
        rig.gw.house().is_err_and(|e| e.contains("Garage Door"))
    });
    assert!(broken.is_some(), "the device model never failed to build");
    let mark = rig.sim.log_mark();
    let r = stop(&rig, json!({"reason": "smoke"}));
    assert_eq!(r["isError"], false, "{r}");
    assert!(!text(&r).contains("NO device"), "{}", text(&r));
    assert!(
        text(&r).contains("device model cannot be built"),
        "{}",
        text(&r)
    );
    assert_everything_stopped(&rig, mark);
}

#[test]
fn the_stop_is_never_refused_for_its_arguments_and_the_audit_keeps_what_was_sent() {
    let rig = Rig::start();
    let odd = [
        json!({"reason": 42}),
        json!({"why": "stuck"}),
        json!({"reason": "smoke", "extra": true}),
    ];
    for args in odd {
        let mark = rig.sim.log_mark();
        let r = stop(&rig, args.clone());
        assert_eq!(r["isError"], false, "{args}: {r}");
        assert_everything_stopped(&rig, mark);
    }
    // Not even arguments that are not an object hold it back.
    let mut w = rig.wire();
    w.handshake(json!({}));
    let r = w.request(
        "tools/call",
        json!({"name": "emergency_stop", "arguments": "now"}),
    );
    assert_eq!(r["result"]["isError"], false, "{r}");
    let reasons: Vec<String> = rig
        .audit()
        .iter()
        .filter(|r| r["tool"] == "emergency_stop" && r["intent"].is_object())
        .filter_map(|r| r["intent"]["reason"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        reasons,
        [
            r#"no reason given (arguments not understood: {"reason":42})"#,
            r#"no reason given (arguments not understood: {"why":"stuck"})"#,
            r#"smoke (arguments not understood: {"extra":true})"#,
            r#"no reason given (arguments not understood: {"arguments":"now"})"#,
        ],
        "{:#?}",
        rig.audit()
    );
}

#[test]
fn the_stop_is_admitted_while_sixteen_calls_of_the_session_wait_for_consent() {
    let rig = Rig::with(Options {
        consent_timeout: Duration::from_secs(60),
        ..Options::default()
    });
    let mut w = rig.wire();
    w.handshake(json!({"elicitation": {"form": {}}}));
    // Sixteen questions open at once: the test build's `test_confirm` asks one per call and
    // takes no device lane (one device never has two questions open: tests/it/lanes.rs).
    for id in 1..=16 {
        w.send(
            &json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
            "name": "test_confirm", "arguments": {}}}),
        );
    }
    let mut asked = 0;
    while asked < 16 {
        let m = w.recv();
        assert_eq!(m["method"], "elicitation/create", "{m}");
        asked += 1;
    }
    let mark = rig.sim.log_mark();
    w.send(
        &json!({"jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": {
        "name": "emergency_stop", "arguments": {"reason": "too loud"}}}),
    );
    let answer = loop {
        let m = w.recv();
        if m["id"] == 99 && m.get("method").is_none() {
            break m;
        }
    };
    assert!(answer.get("error").is_none(), "{answer}");
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert_everything_stopped(&rig, mark);
}

#[test]
fn a_motor_the_miniserver_keeps_from_this_user_is_named_as_not_stopped() {
    // The Miniserver marks the kitchen blind read-only for loxwarden's user (restrictions).
    let mut house: Value = serde_json::from_slice(loxwarden::sim::DEMO_HOUSE).unwrap();
    for c in house["controls"].as_object_mut().unwrap().values_mut() {
        if c["name"] == "Kitchen Blind" {
            c["restrictions"] = json!(2);
        }
    }
    let rig = Rig::with(Options {
        house: loxwarden::sim::HouseSource::Json(serde_json::to_vec(&house).unwrap()),
        ..Options::default()
    });
    let r = stop(&rig, json!({"reason": "test"}));
    assert_eq!(r["isError"], true, "not every motor is stopped: {r}");
    let t = text(&r);
    assert!(t.contains("but NOT every motor"), "{t}");
    assert!(
        t.contains("read-only for this user (stop it locally): Kitchen/Kitchen Blind"),
        "{t}"
    );
}
