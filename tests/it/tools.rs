//! The tools against the simulated Miniserver, through the real engine and gateway: each
//! tool's success path (what the Miniserver received and what it now reports), real error
//! codes, names, exposure, and refusals that send nothing.

use std::time::Duration;

use loxwarden::demo::client::{Answer, Client};
use serde_json::{Value, json};

use crate::tools_support::{Options, Rig, assert_conforms, content_text, text};

#[test]
fn every_read_tool_answers_from_the_live_house_within_its_output_schema() {
    let rig = Rig::start();
    let r = rig.call("get_system_status", json!({}));
    assert_eq!(r["isError"], false, "{r}");
    assert_conforms("get_system_status", &r);
    let s = &r["structuredContent"];
    assert_eq!(s["link"]["state"], "live");
    assert_eq!(s["miniserver"]["name"], "Demo House");
    assert_eq!(s["miniserver"]["model"], "Miniserver Gen 2");
    assert_eq!(s["structure"]["source"], "miniserver");
    assert_eq!(s["emergency_stop"]["latched"], false);
    assert_eq!(s["posture"]["name"], "normal", "{s}");
    assert_eq!(s["server"]["protocol"]["this_call"], "2025-11-25");

    let r = rig.call("list_rooms", json!({}));
    assert_conforms("list_rooms", &r);
    let rooms: Vec<&str> = r["structuredContent"]["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        rooms.contains(&"Kitchen") && rooms.contains(&"Nursery"),
        "{rooms:?}"
    );

    let r = rig.call("list_devices", json!({}));
    assert_conforms("list_devices", &r);
    let devices = r["structuredContent"]["devices"]
        .as_array()
        .unwrap()
        .clone();
    let find = |name: &str| devices.iter().find(|d| d["name"] == name).cloned();
    // Live state with its age.
    let hall = find("Hall Light").expect("the hall light is listed");
    assert_eq!(hall["kind"], "light");
    assert_eq!(hall["type"], "Switch");
    assert_eq!(hall["state"]["active"]["value"], 0.0);
    assert!(hall["state"]["active"]["age_s"].as_u64().is_some());
    assert!(
        hall["actions"]
            .as_array()
            .unwrap()
            .contains(&json!({"action": "on", "now": "allowed"})),
        "{hall}"
    );
    // The unclassified switch is shown read-only; the smoke alarm is not exposed at all.
    let socket = find("Garden socket").expect("listed");
    assert!(
        socket["read_only"].as_str().unwrap().contains("purpose"),
        "{socket}"
    );
    assert_eq!(socket["actions"], json!([]));
    assert!(find("Fire and Water Alarm").is_none());
    // Opted-in security devices are visible; opening needs consent.
    let garage = find("Garage Door").expect("opted in");
    assert!(
        garage["actions"]
            .as_array()
            .unwrap()
            .contains(&json!({"action": "open", "now": "needs_consent"})),
        "{garage}"
    );

    let r = rig.call("list_devices", json!({"room": "kitchen", "kind": "blind"}));
    assert_conforms("list_devices", &r);
    let names: Vec<&str> = r["structuredContent"]["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Kitchen Blind"]);

    let r = rig.call("get_device", json!({"device": "Nursery Climate"}));
    assert_eq!(r["isError"], false, "{r}");
    assert_conforms("get_device", &r);
    let s = &r["structuredContent"];
    assert!(s["device"]["state"]["comfortTemperature"]["value"].is_number());
    // The nursery's configured band, not the site's.
    assert_eq!(s["limits"]["with_consent_c"], json!([18.0, 24.0]), "{s}");

    let r = rig.call("describe_scene", json!({"device": "All Blinds"}));
    assert_eq!(r["isError"], false, "{r}");
    assert_conforms("describe_scene", &r);
    let affected = r["structuredContent"]["affected"].as_array().unwrap();
    assert_eq!(affected.len(), 5, "{r}");
    assert!(affected.contains(&json!("Nursery/Nursery Blind")));

    let r = rig.call("describe_scene", json!({"device": "Living Room Lighting"}));
    assert_conforms("describe_scene", &r);
    assert!(
        r["structuredContent"]["scenes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "Off"),
        "{r}"
    );
}

/// Asserts that `r`'s text content holds its whole structured content (as the serialized JSON
/// of one of its blocks), and returns that text.
fn content_holds_the_whole_answer(what: &str, r: &Value) -> String {
    let text = content_text(r);
    let whole = r["content"]
        .as_array()
        .expect("content")
        .iter()
        .filter_map(|b| b["text"].as_str())
        .filter_map(|t| serde_json::from_str::<Value>(t).ok())
        .any(|v| v == r["structuredContent"]);
    assert!(
        whole,
        "{what}: no content block holds the structured answer: {r}"
    );
    text
}

#[test]
fn a_client_reading_only_content_gets_every_device_state_code_and_refusal_reason() {
    let rig = Rig::start();
    // Every device of a list, with its id and every state shown.
    let r = rig.call("list_devices", json!({}));
    let text = content_holds_the_whole_answer("list_devices", &r);
    let devices = r["structuredContent"]["devices"].as_array().unwrap();
    assert!(devices.len() > 5, "{r}");
    for d in devices {
        for key in ["id", "name", "room", "kind"] {
            let v = d[key].as_str().unwrap();
            assert!(text.contains(v), "{key} {v} missing from the content");
        }
        for (state, v) in d["state"].as_object().unwrap() {
            assert!(
                text.contains(&format!("\"{state}\"")),
                "state {state} missing"
            );
            assert!(
                text.contains(&v["value"].to_string()),
                "{state} {v} missing"
            );
        }
    }
    // Every state of one device, and the reads.
    for (tool, args) in [
        ("get_device", json!({"device": "Nursery Climate"})),
        ("get_system_status", json!({})),
        ("list_rooms", json!({})),
        ("describe_scene", json!({"device": "All Blinds"})),
    ] {
        content_holds_the_whole_answer(tool, &rig.call(tool, args));
    }
    // A command: the Miniserver's code and the state read back.
    let r = rig.call(
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    let text = content_holds_the_whole_answer("control_light", &r);
    assert!(
        text.contains("\"code\":200") && text.contains("\"confirmed\""),
        "{text}"
    );
    // A refusal: the rule and the reason.
    let r = rig.refused_and_nothing_sent(
        "control_light",
        json!({"device": "Garden socket", "action": "on"}),
    );
    let text = content_holds_the_whole_answer("refusal", &r);
    let refused = &r["structuredContent"]["refused"];
    for key in ["rule", "reason"] {
        let v = refused[key]
            .as_str()
            .expect("a refusal names its rule and reason");
        assert!(text.contains(v), "{key} {v} missing from {text}");
    }
}

#[test]
fn control_light_switches_and_dims_and_reads_back_what_the_miniserver_reports() {
    let rig = Rig::start();
    let hall = rig.addr("Hall Light");
    let mark = rig.sim.log_mark();
    let r = rig.call(
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    assert_eq!(r["isError"], false, "{r}");
    assert_conforms("control_light", &r);
    let s = &r["structuredContent"];
    assert_eq!(s["done"], true);
    assert_eq!(s["commands"][0]["code"], 200);
    assert_eq!(s["read_back"][0]["state"], "active");
    assert_eq!(s["read_back"][0]["status"], "confirmed");
    assert_eq!(s["read_back"][0]["value"], 1.0);
    assert!(s["audit_id"].as_str().is_some_and(|a| !a.is_empty()));
    let got = rig.received(mark);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].command, format!("jdev/sps/io/{hall}/on"));
    assert_eq!(rig.num(&hall, "active"), 1.0);

    let ceiling = rig.addr("Kitchen Ceiling");
    let r = rig.call(
        "control_light",
        json!({"device": "Kitchen/Kitchen Ceiling", "action": "dim", "brightness": 40}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(r["structuredContent"]["read_back"][0]["value"], 40.0);
    assert_eq!(rig.num(&ceiling, "position"), 40.0);
}

#[test]
fn control_blind_moves_and_reports_pending_with_its_direction_and_stop_is_confirmed() {
    let rig = Rig::with(Options {
        manual: true,
        ..Options::default()
    });
    let blind = rig.addr("Kitchen Blind");
    let mark = rig.sim.log_mark();
    let r = rig.call(
        "control_blind",
        json!({"device": "Kitchen Blind", "action": "down"}),
    );
    assert_conforms("control_blind", &r);
    let s = &r["structuredContent"];
    assert_eq!(s["done"], true, "{r}");
    assert_eq!(s["read_back"][0]["status"], "pending", "{r}");
    assert_eq!(
        s["read_back"][0]["expected"], "going down to 100 % closed",
        "{r}"
    );
    assert!(text(&r).contains("pending"), "{}", text(&r));
    assert_eq!(
        rig.received(mark)[0].command,
        format!("jdev/sps/io/{blind}/FullDown")
    );
    assert!(rig.wait_state(&blind, "down", |v| v == 1.0));
    rig.advance(Duration::from_secs(2)); // 2 s between commands
    let r = rig.call(
        "control_blind",
        json!({"device": "Kitchen Blind", "action": "stop"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert!(
        r["structuredContent"]["read_back"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["status"] == "confirmed"),
        "{r}"
    );
    assert_eq!(rig.num(&blind, "down"), 0.0);
}

#[test]
fn a_blind_reads_back_in_percent_closed_the_scale_control_blind_takes() {
    let rig = Rig::with(Options {
        manual: true,
        ..Options::default()
    });
    let r = rig.call(
        "control_blind",
        json!({"device": "Kitchen Blind", "action": "position", "position": 50}),
    );
    let s = &r["structuredContent"];
    assert_eq!(s["done"], true, "{r}");
    assert_eq!(
        s["read_back"][0]["expected"], "going down to 50 % closed",
        "{r}"
    );
    assert!(
        s["read_back"][0]["shows"]
            .as_str()
            .is_some_and(|w| w.ends_with("% closed")),
        "{r}"
    );
    // The sentence speaks the same scale, never Loxone's 0–1.
    let t = text(&r);
    assert!(t.contains("going down to 50 % closed"), "{t}");
    assert!(!t.contains("0.5"), "{t}");
}

#[test]
fn list_devices_is_compact_and_in_words_while_get_device_keeps_every_state() {
    let rig = Rig::start();
    let r = rig.call("list_devices", json!({}));
    let devices = r["structuredContent"]["devices"]
        .as_array()
        .unwrap()
        .clone();
    let find = |name: &str| devices.iter().find(|d| d["name"] == name).cloned().unwrap();
    let blind = find("Kitchen Blind");
    let shown: Vec<&str> = blind["state"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(shown, ["down", "position", "up"], "{blind}");
    assert_eq!(blind["summary"], "0 % closed", "{blind}");
    assert_eq!(blind["state"]["position"]["shows"], "0 % closed");
    assert_eq!(find("Hall Light")["summary"], "off");
    // A light controller's mood by name, not `activeMoods: "[778]"`.
    assert_eq!(find("Living Room Lighting")["summary"], "mood Off");
    let climate = find("Kitchen Climate");
    let words = climate["summary"].as_str().unwrap();
    assert!(
        words.contains(" °C") && words.contains("target "),
        "{words}"
    );
    let music = find("Living Room Music")["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(music.contains("volume ") && music.contains(" %"), "{music}");
    // get_device keeps every state.
    let r = rig.call("get_device", json!({"device": "Kitchen Blind"}));
    let state = &r["structuredContent"]["device"]["state"];
    assert!(state.get("adjustingEndPos").is_some(), "{state}");
    assert!(state.get("autoAllowed").is_some(), "{state}");
    // Far smaller than every state of every device.
    let compact = serde_json::to_string(&devices).unwrap().len();
    assert!(
        compact < 20_000,
        "list_devices of the demo house is {compact} bytes"
    );
}

#[test]
fn set_temperature_sets_the_comfort_temperature_from_celsius_or_fahrenheit() {
    let rig = Rig::start();
    let climate = rig.addr("Living Room Climate");
    let before = rig.num(&climate, "comfortTemperature");
    let target = if before > 21.5 { 21.0 } else { 22.0 };
    let r = rig.call(
        "set_temperature",
        json!({"device": "Living Room", "target": target, "unit": "C"}),
    );
    assert_conforms("set_temperature", &r);
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(
        r["structuredContent"]["read_back"][0]["status"], "confirmed",
        "{r}"
    );
    assert_eq!(rig.num(&climate, "comfortTemperature"), target);
    // 71.6 °F is 22 °C; the Miniserver (tempUnit °C) gets Celsius.
    let mark = rig.sim.log_mark();
    let r = rig.call(
        "set_temperature",
        json!({"device": "Living Room Climate", "target": 71.6, "unit": "F"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    let got = rig.received(mark);
    assert!(
        got[0].command.ends_with("/setComfortTemperature/22.0"),
        "{got:?}"
    );
    assert_eq!(rig.num(&climate, "comfortTemperature"), 22.0);
}

/// `control_audio` on the living room's zone with a progress token: the call's result (the
/// client keeps the progress notifications). `volume` is left out when null.
fn call_with_progress(c: &mut Client, action: &str, volume: Value) -> Value {
    let mut args = json!({"device": "Living Room Music", "action": action});
    if !volume.is_null() {
        args["volume"] = volume;
    }
    let params =
        json!({"name": "control_audio", "arguments": args, "_meta": {"progressToken": "p"}});
    c.request("tools/call", params).unwrap()["result"].take()
}

#[test]
fn control_audio_ramps_a_volume_rise_in_steps_with_progress_and_pauses_at_once() {
    let rig = Rig::start();
    let zone = rig.addr("Living Room Music");
    assert_eq!(rig.num(&zone, "volume"), 20.0);
    let mut c = rig.client();
    let mark = rig.sim.log_mark();
    let r = &call_with_progress(&mut c, "volume", json!(50));
    assert_conforms("control_audio", r);
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    let volumes: Vec<String> = rig
        .received(mark)
        .iter()
        .map(|e| e.command.clone())
        .collect();
    assert_eq!(
        volumes,
        [30, 40, 50].map(|v| format!("jdev/sps/io/{zone}/volume/{v}")),
        "R-15: ramped in steps of 10"
    );
    assert!(c.progress.len() >= 2, "progress: {:?}", c.progress);
    assert_eq!(
        c.progress.last().unwrap()["message"],
        "done",
        "{:?}",
        c.progress
    );
    assert_eq!(rig.num(&zone, "volume"), 50.0);
    // One command: nothing to report progress on.
    let before = c.progress.len();
    let r = call_with_progress(&mut c, "pause", Value::Null);
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(c.progress.len(), before, "{:?}", c.progress);
}

#[test]
fn control_charger_starts_stops_and_limits_within_the_chargers_own_range() {
    let rig = Rig::start();
    let wb = rig.addr("Wallbox");
    let r = rig.call(
        "control_charger",
        json!({"device": "Wallbox", "action": "start"}),
    );
    assert_conforms("control_charger", &r);
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(rig.num(&wb, "enabled"), 1.0);
    let r = rig.call(
        "control_charger",
        json!({"device": "Wallbox", "action": "limit", "kw": 7.4}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert!(rig.wait_state(&wb, "limit", |v| (v - 7.4).abs() < 1e-9));
    for kw in [1.3, 11.1] {
        let r = rig.refused_and_nothing_sent(
            "control_charger",
            json!({"device": "Wallbox", "action": "limit", "kw": kw}),
        );
        assert!(text(&r).contains("1.4–11 kW"), "{}", text(&r));
    }
    let r = rig.call(
        "control_charger",
        json!({"device": "Wallbox", "action": "stop"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(rig.num(&wb, "enabled"), 0.0);
}

#[test]
fn activate_scene_changes_a_mood_and_a_central_object_reports_every_blinds_own_state() {
    let rig = Rig::start();
    let lc = rig.addr("Living Room Lighting");
    let mark = rig.sim.log_mark();
    let r = rig.call(
        "activate_scene",
        json!({"device": "Living Room Lighting", "scene": "Bright"}),
    );
    assert_conforms("activate_scene", &r);
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    let got = rig.received(mark);
    assert!(
        got[0]
            .command
            .starts_with(&format!("jdev/sps/io/{lc}/changeTo/")),
        "{got:?}"
    );
    // Five blinds move: consent (SC-7); accepted, each blind's own state is reported.
    let mark = rig.sim.log_mark();
    let r = rig.call_answering(
        "activate_scene",
        json!({"device": "All Blinds", "scene": "down"}),
        Answer::Accept,
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(r["structuredContent"]["consent"]["outcome"], "accepted");
    let rb = r["structuredContent"]["read_back"].as_array().unwrap();
    assert_eq!(rb.len(), 5, "{r}");
    assert!(rb.iter().all(|b| b["status"] == "pending"), "{r}");
    assert_eq!(rig.received(mark).len(), 1);
}

#[test]
fn an_ll_500_from_the_miniserver_is_an_error_with_the_code_for_every_control_tool() {
    let rig = Rig::start();
    rig.sim.ring_bell();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "control_light",
            json!({"device": "Hall Light", "action": "on"}),
            "Hall Light",
        ),
        (
            "control_blind",
            json!({"device": "Bedroom Blind", "action": "up"}),
            "Bedroom Blind",
        ),
        (
            "set_temperature",
            json!({"device": "Kitchen", "target": 21, "unit": "C"}),
            "Kitchen Climate",
        ),
        (
            "control_audio",
            json!({"device": "Living Room Music", "action": "pause"}),
            "Living Room Music",
        ),
        (
            "control_charger",
            json!({"device": "Wallbox", "action": "stop"}),
            "Wallbox",
        ),
        (
            "set_alarm",
            json!({"device": "Burglar Alarm", "action": "arm"}),
            "Burglar Alarm",
        ),
        (
            "control_access",
            json!({"device": "Garage Door", "action": "close"}),
            "Garage Door",
        ),
        (
            "control_intercom",
            json!({"device": "Front Door", "action": "answer"}),
            "Front Door",
        ),
        (
            "activate_scene",
            json!({"device": "All Blinds", "scene": "stop"}),
            "All Blinds",
        ),
    ];
    for (tool, args, name) in cases {
        let addr = rig.addr(name);
        rig.sim.answer_with(&addr, Some(500));
        let mark = rig.sim.log_mark();
        let r = rig.call_answering(tool, args.clone(), Answer::Accept);
        rig.sim.answer_with(&addr, None);
        assert_eq!(r["isError"], true, "{tool}: {r}");
        assert_conforms(tool, &r);
        let s = &r["structuredContent"];
        assert_eq!(s["done"], false, "{tool}: {r}");
        assert_eq!(s["commands"][0]["code"], 500, "{tool}: {r}");
        assert!(text(&r).contains("LL 500"), "{tool}: {}", text(&r));
        assert_eq!(rig.received(mark).len(), 1, "{tool}: sent once");
    }
}

#[test]
fn a_refusal_for_the_wrong_tool_names_the_right_one() {
    let rig = Rig::start();
    // A light controller is a scene device: its moods are the scene tools' business.
    let r = rig.refused_and_nothing_sent(
        "control_light",
        json!({"device": "Living Room Lighting", "action": "on"}),
    );
    let t = text(&r);
    assert!(t.contains("SC-1") && t.contains("LightControllerV2"), "{t}");
    assert!(
        t.contains("describe_scene") && t.contains("activate_scene"),
        "{t}"
    );
    let r = rig.refused_and_nothing_sent(
        "control_light",
        json!({"device": "Kitchen Blind", "action": "off"}),
    );
    assert!(
        text(&r).contains("use control_blind for it"),
        "{}",
        text(&r)
    );
    let r = rig.refused_and_nothing_sent(
        "control_blind",
        json!({"device": "Kitchen Presence", "action": "up"}),
    );
    assert!(text(&r).contains("no tool controls it"), "{}", text(&r));
}

#[test]
fn refusals_read_as_sentences_without_zero_durations() {
    let rig = Rig::start();
    let r = rig.refused_and_nothing_sent(
        "control_light",
        json!({"device": "Kitchen Counter Lights", "action": "dim", "brightness": 40}),
    );
    let t = text(&r);
    assert!(
        t.contains("has no command to dim it (a switch only goes on and off)"),
        "{t}"
    );
    // Latched a moment ago: no "(for 0 s)", which reads as "not latched at all".
    let r = rig.call("emergency_stop", json!({"reason": "test"}));
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    let r = rig.refused_and_nothing_sent(
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    let t = text(&r);
    assert!(t.contains("R-11: the emergency stop is latched"), "{t}");
    assert!(!t.contains("for 0 s"), "{t}");
}

#[test]
fn ambiguous_and_unknown_names_are_refused_with_candidates_and_nothing_is_sent() {
    let rig = Rig::start();
    // "Ceiling light" is a circuit in the living room and in the bedroom.
    let r = rig.refused_and_nothing_sent(
        "control_light",
        json!({"device": "Ceiling light", "action": "on"}),
    );
    let t = text(&r);
    assert!(t.contains("SC-1") && t.contains("names 2 devices"), "{t}");
    assert!(
        t.contains("Living Room/Ceiling light") && t.contains("Bedroom/Ceiling light"),
        "{t}"
    );
    // No fuzzy matching: a near miss is unknown, and the candidates are lights.
    let r = rig.refused_and_nothing_sent(
        "control_light",
        json!({"device": "Hall Lights", "action": "on"}),
    );
    let t = text(&r);
    assert!(
        t.contains("no exposed device is named \"Hall Lights\""),
        "{t}"
    );
    assert!(t.contains("Hall/Hall Light"), "{t}");
    // Room/Name resolves the ambiguity.
    let r = rig.call(
        "control_light",
        json!({"device": "Bedroom/Ceiling light", "action": "off"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
}

#[test]
fn an_unclassified_switch_is_not_controllable_through_any_tool() {
    let rig = Rig::start();
    for (tool, args) in [
        (
            "control_light",
            json!({"device": "Garden socket", "action": "on"}),
        ),
        (
            "control_access",
            json!({"device": "Garden socket", "action": "unlock"}),
        ),
        (
            "control_charger",
            json!({"device": "Garden socket", "action": "start"}),
        ),
    ] {
        let r = rig.refused_and_nothing_sent(tool, args);
        assert!(text(&r).contains("SC-1"), "{tool}: {}", text(&r));
    }
}

#[test]
fn a_device_denied_by_the_config_is_invisible_and_unaddressable_even_by_id() {
    let rig = Rig::with(Options {
        config: Box::new(|t| {
            t.replace(
                "[exposure]\n",
                "[exposure]\ndeny_devices = [\"Kitchen Blind\"]\n",
            )
        }),
        ..Options::default()
    });
    let id = rig.addr("Kitchen Blind").to_string();
    let r = rig.call("list_devices", json!({}));
    assert!(!r.to_string().contains(&id), "listed: {r}");
    assert!(!r.to_string().contains("Kitchen Blind"));
    for device in ["Kitchen Blind", id.as_str()] {
        let r = rig
            .refused_and_nothing_sent("control_blind", json!({"device": device, "action": "down"}));
        assert!(text(&r).contains("no exposed device"), "{}", text(&r));
        let r = rig.call("get_device", json!({"device": device}));
        assert_eq!(r["isError"], true, "{r}");
    }
    // The emergency stop still stops it: a stop is never limited by exposure.
    let r = rig.call("emergency_stop", json!({"reason": "test"}));
    assert!(
        r.to_string().contains(&format!("jdev/sps/io/{id}/stop")),
        "{r}"
    );
}

#[test]
fn bad_arguments_are_refused_before_the_network_naming_the_argument() {
    let rig = Rig::start();
    for (tool, args, needle) in [
        (
            "control_light",
            json!({"device": "Hall Light", "action": "strobe"}),
            "not one of: on, off, dim",
        ),
        (
            "control_light",
            json!({"device": "Kitchen Ceiling", "action": "dim", "brightness": "40"}),
            "brightness must be a number",
        ),
        (
            "control_blind",
            json!({"device": "Kitchen Blind", "action": "position", "position": 101}),
            "whole number from 0 to 100",
        ),
        (
            "set_temperature",
            json!({"device": "Kitchen", "target": 21}),
            "needs the argument unit",
        ),
        (
            "control_light",
            json!({"device": "Hall Light", "action": "on", "colour": "red"}),
            "does not take an argument",
        ),
    ] {
        let r = rig.refused_and_nothing_sent(tool, args);
        assert!(
            text(&r).contains("SC-10") && text(&r).contains(needle),
            "{}",
            text(&r)
        );
        assert_conforms(tool, &r);
    }
}

#[test]
fn a_ramp_stops_at_the_first_answer_that_is_not_200_and_lists_the_steps_not_sent() {
    let rig = Rig::start();
    let zone = rig.addr("Living Room Music");
    rig.sim.answer_with(&zone, Some(500));
    let mark = rig.sim.log_mark();
    let mut client = rig.client();
    let r = &call_with_progress(&mut client, "volume", json!(50));
    rig.sim.answer_with(&zone, None);
    assert_eq!(r["isError"], true, "{r}");
    // Nothing is announced or waited for after the failure: the only progress is "done".
    let said: Vec<&str> = client
        .progress
        .iter()
        .filter_map(|p| p["message"].as_str())
        .collect();
    assert_eq!(said, ["done"], "{:?}", client.progress);
    let c = r["structuredContent"]["commands"].as_array().unwrap();
    assert_eq!(c.len(), 3, "{r}");
    assert_eq!(c[0]["code"], 500);
    assert!(c[1..].iter().all(|s| s["sent"] == false), "{r}");
    assert_eq!(rig.received(mark).len(), 1);
    assert_eq!(r["structuredContent"]["read_back"], json!([]));
}

#[test]
fn a_large_house_is_listed_a_page_at_a_time_and_the_pages_cover_every_device_once() {
    let rig = Rig::with(Options {
        house: loxwarden::sim::HouseSource::Generated(250),
        ..Options::default()
    });
    let first = rig.call("list_devices", json!({}));
    assert_conforms("list_devices", &first);
    let s = &first["structuredContent"];
    let total = s["total"].as_u64().unwrap() as usize;
    let pages = s["pages"].as_u64().unwrap() as usize;
    assert!(total > 100, "{s}");
    assert_eq!(pages, total.div_ceil(100));
    assert_eq!(s["count"], 100);
    assert!(
        text(&first).contains(&format!("devices 1–100 of {total}"))
            && text(&first).contains("ask for page 2"),
        "{}",
        text(&first)
    );
    let mut ids = std::collections::BTreeSet::new();
    for page in 1..=pages {
        let r = rig.call("list_devices", json!({ "page": page }));
        assert_ne!(r["isError"], true, "{r}");
        for d in r["structuredContent"]["devices"].as_array().unwrap() {
            assert!(
                ids.insert(d["id"].as_str().unwrap().to_owned()),
                "twice: {d}"
            );
        }
    }
    assert_eq!(ids.len(), total);
    // Past the last page: an error that says how many pages there are.
    let past = rig.call("list_devices", json!({ "page": pages + 1 }));
    assert_eq!(past["isError"], true);
    assert!(
        text(&past).contains(&format!("make {pages} page(s) of 100")),
        "{}",
        text(&past)
    );
    // A room of the same house fits on one page and says plainly how many it has.
    let room = first["structuredContent"]["devices"][0]["room"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = rig.call("list_devices", json!({ "room": room }));
    assert_eq!(r["structuredContent"]["pages"], 1, "{r}");
    assert!(text(&r).contains(" device(s) in "), "{}", text(&r));
}
