//! The safety table, the rate limits (with a manual clock) and the posture through the real
//! path: tool → gateway → guard → link → simulated Miniserver. Every refusal is checked
//! against the simulator's log: nothing reached it.

use std::sync::Arc;
use std::time::Duration;

use loxwarden::demo::client::Answer;
use loxwarden::mcp::Peer;
use serde_json::json;

use crate::link_support::wait_until;
use crate::tools_support::{Options, Rig, text};

fn temp(rig: &Rig, device: &str, t: f64) -> serde_json::Value {
    rig.call(
        "set_temperature",
        json!({"device": device, "target": t, "unit": "C"}),
    )
}

#[test]
fn temperatures_at_inside_and_outside_the_table_bounds_through_the_real_path() {
    let rig = Rig::start();
    let lr = rig.addr("Living Room Climate");
    // 22 → 16: a step of exactly 6 °C to the edge of the free band.
    assert_eq!(
        temp(&rig, "Living Room", 22.0)["structuredContent"]["done"],
        true
    );
    let r = temp(&rig, "Living Room", 16.0);
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(rig.num(&lr, "comfortTemperature"), 16.0);
    // Just below the free band: a person must agree (here they decline: nothing sent).
    let mark = rig.sim.log_mark();
    let r = temp(&rig, "Living Room", 15.5);
    assert_eq!(r["structuredContent"]["consent"]["rule"], "SC-2", "{r}");
    assert_eq!(r["structuredContent"]["done"], false);
    assert!(rig.received(mark).is_empty());
    // A step of more than 6 °C is refused, and outside 10–30 °C is refused outright.
    let r = rig.refused_and_nothing_sent(
        "set_temperature",
        json!({"device": "Living Room", "target": 22.5, "unit": "C"}),
    );
    assert!(
        text(&r).contains("SC-2") && text(&r).contains("6"),
        "{}",
        text(&r)
    );
    for t in [9.9, 30.1, 35.0] {
        let r = rig.refused_and_nothing_sent(
            "set_temperature",
            json!({"device": "Living Room", "target": t, "unit": "C"}),
        );
        assert!(text(&r).contains("outside 10–30 °C"), "{}", text(&r));
    }
    // 70 "C" is nonsense in °C and refused; in °F it is 21.1 °C.
    rig.refused_and_nothing_sent(
        "set_temperature",
        json!({"device": "Living Room", "target": 70, "unit": "C"}),
    );
    // The nursery's own band (18–24 °C) holds there and only there.
    let n = rig.addr("Nursery Climate");
    let r = temp(&rig, "Nursery", 24.0);
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(rig.num(&n, "comfortTemperature"), 24.0);
    for t in [24.5, 17.9] {
        let r = rig.refused_and_nothing_sent(
            "set_temperature",
            json!({"device": "Nursery", "target": t, "unit": "C"}),
        );
        assert!(text(&r).contains("in Nursery"), "{}", text(&r));
    }
}

#[test]
fn volumes_at_inside_and_outside_the_table_bounds() {
    let rig = Rig::start();
    let zone = rig.addr("Living Room Music");
    let r = rig.call(
        "control_audio",
        json!({"device": "Living Room Music", "action": "volume", "volume": 60}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(rig.num(&zone, "volume"), 60.0);
    let mark = rig.sim.log_mark();
    let r = rig.call(
        "control_audio",
        json!({"device": "Living Room Music", "action": "volume", "volume": 61}),
    );
    assert_eq!(r["structuredContent"]["consent"]["rule"], "UCA-A1", "{r}");
    assert!(rig.received(mark).is_empty());
    let r = rig.refused_and_nothing_sent(
        "control_audio",
        json!({"device": "Living Room Music", "action": "volume", "volume": 86}),
    );
    assert!(text(&r).contains("UCA-A1"), "{}", text(&r));
    // A person may allow up to 85 %.
    let r = rig.call_answering(
        "control_audio",
        json!({"device": "Living Room Music", "action": "volume", "volume": 70}),
        Answer::Accept,
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(rig.num(&zone, "volume"), 70.0);
}

#[test]
fn a_light_changed_again_within_a_second_is_refused_and_at_one_second_allowed() {
    let rig = Rig::with(Options {
        manual: true,
        ..Options::default()
    });
    let on = json!({"device": "Hall Light", "action": "on"});
    let off = json!({"device": "Hall Light", "action": "off"});
    assert_eq!(
        rig.call("control_light", on.clone())["structuredContent"]["done"],
        true
    );
    rig.advance(Duration::from_millis(900));
    let r = rig.refused_and_nothing_sent("control_light", off.clone());
    assert!(text(&r).contains("UCA-L1"), "{}", text(&r));
    rig.advance(Duration::from_millis(100));
    assert_eq!(
        rig.call("control_light", off)["structuredContent"]["done"],
        true
    );
    // At most 20 changes a minute.
    for i in 0..18 {
        rig.advance(Duration::from_secs(1));
        let a = if i % 2 == 0 { "on" } else { "off" };
        let r = rig.call(
            "control_light",
            json!({"device": "Hall Light", "action": a}),
        );
        assert_eq!(r["structuredContent"]["done"], true, "{i}: {r}");
    }
    rig.advance(Duration::from_secs(1));
    let r = rig.refused_and_nothing_sent("control_light", on);
    assert!(text(&r).contains("at most 20 per minute"), "{}", text(&r));
}

#[test]
fn blinds_and_gates_keep_two_seconds_ten_a_minute_and_reverse_only_after_stop() {
    let rig = Rig::with(Options {
        manual: true,
        ..Options::default()
    });
    let blind = |a: &str| json!({"device": "Bedroom Blind", "action": a});
    assert_eq!(
        rig.call("control_blind", blind("down"))["structuredContent"]["done"],
        true
    );
    rig.advance(Duration::from_millis(1900));
    let r = rig.refused_and_nothing_sent("control_blind", blind("down"));
    assert!(
        text(&r).contains("R-13") && text(&r).contains("1.9 s ago"),
        "{}",
        text(&r)
    );
    rig.advance(Duration::from_millis(100));
    // Still moving down: up would reverse it.
    let r = rig.refused_and_nothing_sent("control_blind", blind("up"));
    assert!(text(&r).contains("UCA-B1"), "{}", text(&r));
    // A stop always passes, at once; then the reversal is allowed 2 s later.
    assert_eq!(
        rig.call("control_blind", blind("stop"))["structuredContent"]["done"],
        true
    );
    rig.advance(Duration::from_secs(2));
    assert_eq!(
        rig.call("control_blind", blind("up"))["structuredContent"]["done"],
        true
    );
    // Ten commands a minute: seven more of the same direction pass, the next one does not.
    for _ in 0..7 {
        rig.advance(Duration::from_secs(2));
        let r = rig.call("control_blind", blind("up"));
        assert_eq!(r["structuredContent"]["done"], true, "{r}");
    }
    rig.advance(Duration::from_secs(2));
    let r = rig.refused_and_nothing_sent("control_blind", blind("up"));
    assert!(text(&r).contains("at most 10 per minute"), "{}", text(&r));
    rig.advance(Duration::from_secs(60));
    assert_eq!(
        rig.call("control_blind", blind("up"))["structuredContent"]["done"],
        true
    );
    // The garage gate obeys the same interval.
    let gate = |a: &str| json!({"device": "Garage Door", "action": a});
    assert_eq!(
        rig.call("control_access", gate("close"))["structuredContent"]["done"],
        true
    );
    rig.advance(Duration::from_millis(500));
    let r = rig.refused_and_nothing_sent("control_access", gate("close"));
    assert!(text(&r).contains("R-13"), "{}", text(&r));
}

#[test]
fn two_sessions_racing_for_one_blind_pass_the_rate_limit_only_once() {
    let rig = Arc::new(Rig::with(Options {
        manual: true,
        ..Options::default()
    }));
    let mark = rig.sim.log_mark();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let rig = rig.clone();
            std::thread::spawn(move || {
                rig.call(
                    "control_blind",
                    json!({"device": "Kitchen Blind", "action": "down"}),
                )
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let done = results
        .iter()
        .filter(|r| r["structuredContent"]["done"] == true)
        .count();
    assert_eq!(done, 1, "{results:#?}");
    assert_eq!(rig.received(mark).len(), 1);
}

#[test]
fn a_degraded_link_refuses_with_why_and_since_when_and_sends_nothing() {
    let rig = Rig::with(Options {
        config: Box::new(|t| {
            t.replace("keepalive_interval_s = 5", "keepalive_interval_s = 1")
                .replace("keepalive_deadline_s = 3", "keepalive_deadline_s = 1")
        }),
        ..Options::default()
    });
    rig.sim.hang(true);
    assert!(
        wait_until(Duration::from_secs(10), || !rig.gw.link_alive()).is_some(),
        "the link never left live"
    );
    let mark = rig.sim.log_mark();
    let r = rig.call(
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    assert_eq!(r["isError"], true, "{r}");
    let t = text(&r);
    assert!(t.contains("SC-8"), "{t}");
    assert!(
        t.contains("(for ") && t.contains("keepalive"),
        "why and since when: {t}"
    );
    assert!(rig.received(mark).is_empty(), "{:?}", rig.received(mark));
    let s = rig.call("get_system_status", json!({}));
    assert_ne!(s["structuredContent"]["link"]["state"], "live");
    assert_eq!(s["structuredContent"]["posture"]["name"], "degraded", "{s}");
    rig.sim.hang(false);
}

#[test]
fn a_smoke_alarm_puts_the_house_in_emergency_lights_may_go_on_blinds_may_not_close() {
    let rig = Rig::start();
    assert!(rig.sim.trigger_smoke_alarm());
    let smoke = rig.addr("Fire and Water Alarm");
    assert!(rig.wait_cache(&smoke, "level", |v| v > 0.0));
    let s = rig.call("get_system_status", json!({}));
    assert_eq!(
        s["structuredContent"]["posture"]["name"], "emergency",
        "{s}"
    );
    // The smoke alarm is not exposed, so it is not named.
    assert_eq!(
        s["structuredContent"]["alarms"][0].as_str().unwrap(),
        "a smoke alarm is active (level 2): smoke",
        "{s}"
    );
    let r = rig.refused_and_nothing_sent(
        "control_blind",
        json!({"device": "Kitchen Blind", "action": "down"}),
    );
    assert!(text(&r).contains("UCA-B2"), "{}", text(&r));
    let r = rig.refused_and_nothing_sent(
        "control_light",
        json!({"device": "Hall Light", "action": "off"}),
    );
    assert!(text(&r).contains("UCA-L1"), "{}", text(&r));
    rig.refused_and_nothing_sent(
        "control_audio",
        json!({"device": "Living Room Music", "action": "play"}),
    );
    let r = rig.call(
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    let r = rig.call(
        "control_blind",
        json!({"device": "Kitchen Blind", "action": "up"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
}

#[test]
fn at_night_a_sleeping_rooms_light_goes_on_at_30_percent_and_brighter_needs_consent() {
    let rig = Rig::with(Options {
        hour: 23,
        ..Options::default()
    });
    let s = rig.call("get_system_status", json!({}));
    assert_eq!(s["structuredContent"]["posture"]["name"], "night", "{s}");
    let ceiling = rig.sub("Bedroom Lighting", "AI1");
    let r = rig.call(
        "control_light",
        json!({"device": "Bedroom/Ceiling light", "action": "on"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert!(r.to_string().contains("UCA-L2"), "{r}");
    assert_eq!(rig.num(&ceiling, "position"), 30.0);
    let mark = rig.sim.log_mark();
    let r = rig.call(
        "control_light",
        json!({"device": "Bedside left", "action": "dim", "brightness": 80}),
    );
    assert_eq!(r["structuredContent"]["consent"]["rule"], "UCA-L2", "{r}");
    assert!(rig.received(mark).is_empty());
    // Not a sleeping room: no night rule.
    let kc = rig.addr("Kitchen Ceiling");
    let r = rig.call(
        "control_light",
        json!({"device": "Kitchen Ceiling", "action": "dim", "brightness": 90}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(rig.num(&kc, "position"), 90.0);
}

#[test]
fn emergency_stop_stops_every_moving_blind_and_refuses_every_other_command_until_resume() {
    let rig = Rig::start();
    for b in ["Kitchen Blind", "Bedroom Blind"] {
        let r = rig.call("control_blind", json!({"device": b, "action": "down"}));
        assert_eq!(r["structuredContent"]["done"], true, "{r}");
    }
    let kitchen = rig.addr("Kitchen Blind");
    assert!(rig.wait_state(&kitchen, "down", |v| v == 1.0));
    let mark = rig.sim.log_mark();
    let r = rig.call(
        "emergency_stop",
        json!({"reason": "a hand under the blind"}),
    );
    crate::tools_support::assert_conforms("emergency_stop", &r);
    let s = &r["structuredContent"];
    assert_eq!(s["done"], true, "{r}");
    assert_eq!(s["latched"]["reason"], "a hand under the blind");
    let commands = s["commands"].as_array().unwrap();
    assert_eq!(
        commands.len(),
        10,
        "6 motors, the central blind object, 1 audio zone, the sauna and the irrigation: {r}"
    );
    assert!(commands.iter().all(|c| c["code"] == 200), "{r}");
    let got: Vec<String> = rig.received(mark).into_iter().map(|e| e.command).collect();
    assert!(
        got.contains(&format!("jdev/sps/io/{kitchen}/stop")),
        "{got:?}"
    );
    for b in ["Kitchen Blind", "Bedroom Blind"] {
        let a = rig.addr(b);
        assert_eq!(rig.num(&a, "down"), 0.0, "{b} still moving");
        let p = rig.num(&a, "position");
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(rig.num(&a, "position"), p, "{b} moved after the stop");
    }
    // Latched: everything else is refused, in every session, without reaching the Miniserver.
    let r = rig.refused_and_nothing_sent(
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    assert!(text(&r).contains("R-11"), "{}", text(&r));
    let s = rig.call("get_system_status", json!({}));
    assert_eq!(s["structuredContent"]["emergency_stop"]["latched"], true);
    assert_eq!(s["structuredContent"]["posture"]["name"], "emergency-stop");
    // Only a person's resume lifts it.
    let was = rig.gw.resume("test").unwrap().expect("was latched");
    assert_eq!(was.reason, "a hand under the blind");
    let r = rig.call(
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
}

#[test]
fn a_read_only_session_may_read_and_stop_but_not_actuate() {
    let rig = Rig::start();
    let mut c = rig.client_with(
        json!({"elicitation": {}}),
        Peer {
            uid: Some(1000),
            read_only: true,
        },
    );
    let r = c.call("list_devices", json!({"kind": "light"})).unwrap();
    assert_eq!(r["isError"], false, "{r}");
    let mark = rig.sim.log_mark();
    let r = c
        .call(
            "control_light",
            json!({"device": "Hall Light", "action": "on"}),
        )
        .unwrap();
    assert_eq!(r["isError"], true, "{r}");
    assert!(
        text(&r).contains("SC-3") && text(&r).contains("read-only"),
        "{}",
        text(&r)
    );
    assert!(rig.received(mark).is_empty());
    let r = c.call("emergency_stop", json!({})).unwrap();
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert!(
        r["structuredContent"]["latched"]["by"]
            .as_str()
            .unwrap()
            .contains("uid 1000"),
        "{r}"
    );
}

#[test]
fn before_the_structure_is_loaded_only_the_status_answers_and_nothing_is_sent() {
    use loxwarden::clock::SystemClock;
    use loxwarden::dispatch::gateway::Gateway;
    use loxwarden::loxone::link::Secrets;
    let sim = crate::link_support::sim_with(|_| {});
    let dir = crate::link_support::TempDir::new("unloaded");
    let config = loxwarden::demo::config_text(&sim.url(), sim.user(), dir.path())
        .replace("command_timeout_s = 5", "command_timeout_s = 1");
    let cfg = loxwarden::config::Config::parse(&config).unwrap();
    crate::link_support::login_ok(&sim, &cfg);
    sim.hang(true);
    let gw = Gateway::start(cfg, Arc::new(SystemClock::new()), Secrets::default()).unwrap();
    let server = loxwarden::mcp::Server::new(gw.host(), Default::default()).unwrap();
    let mut c = loxwarden::demo::client::Client::start(&server, Peer::default()).unwrap();
    c.initialize("t", json!({})).unwrap();
    let s = c.call("get_system_status", json!({})).unwrap();
    assert_eq!(s["isError"], false, "{s}");
    assert_ne!(s["structuredContent"]["link"]["state"], "live");
    assert!(
        s["structuredContent"]["house_error"]
            .as_str()
            .unwrap()
            .contains("not loaded")
    );
    let mark = sim.log_mark();
    let r = c
        .call(
            "control_light",
            json!({"device": "Hall Light", "action": "on"}),
        )
        .unwrap();
    assert_eq!(r["isError"], true, "{r}");
    assert!(
        text(&r).contains("SC-8") && text(&r).contains("not loaded yet"),
        "{}",
        text(&r)
    );
    let stop = c
        .call(
            "emergency_stop",
            json!({"reason": "smoke in the hall\u{1b}[2J\r\n"}),
        )
        .unwrap();
    assert_eq!(stop["isError"], true, "no device could be stopped: {stop}");
    assert!(
        text(&stop).contains("NO device could be stopped"),
        "{}",
        text(&stop)
    );
    // Latched all the same, with the reason as given, control characters made spaces (as
    // when a house is known: one rule for both paths).
    let s = c.call("get_system_status", json!({})).unwrap();
    let latch = &s["structuredContent"]["emergency_stop"];
    assert_eq!(latch["latched"], true, "{s}");
    assert_eq!(latch["reason"], "smoke in the hall [2J", "{s}");
    let device_commands = sim
        .commands_since(mark)
        .into_iter()
        .filter(|e| e.device)
        .count();
    assert_eq!(device_commands, 0);
    c.close();
    gw.stop();
    sim.hang(false);
}
