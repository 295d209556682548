//! Safety over time: one lane per device, every step checked again before it leaves, and a
//! stop that no plan outlives (issue 19; docs/safety.md "Time and concurrency"). Calls overlap
//! here, a slow Miniserver stretches time and faults land mid-plan; each test is judged by
//! invariants over the simulator's own command log.

use std::sync::Arc;
use std::time::Duration;

use loxwarden::demo::client::Answer;
use loxwarden::loxone::uuid::ControlAddr;
use loxwarden::sim::LogEntry;
use serde_json::{Value, json};

use crate::link_support::wait_until;
use crate::tools_support::{Options, Rig, text};

/// The commands to `addr` after `mark`, in the order the simulator handled them.
fn to(rig: &Rig, mark: u64, addr: &ControlAddr) -> Vec<LogEntry> {
    let a = addr.to_string();
    rig.received(mark)
        .into_iter()
        .filter(|e| e.control.as_deref() == Some(a.as_str()))
        .collect()
}

/// The volumes set on `zone` after `mark`, with when (ms).
fn volumes(rig: &Rig, mark: u64, zone: &ControlAddr) -> Vec<(u64, u8)> {
    to(rig, mark, zone)
        .iter()
        .filter_map(|e| {
            let v = e.op.as_deref()?.strip_prefix("volume/")?.parse().ok()?;
            Some((e.at_ms, v))
        })
        .collect()
}

/// Starts a volume rise on the living room's zone in its own session, in the background.
fn ramp(rig: &Arc<Rig>, volume: u8) -> std::thread::JoinHandle<Value> {
    let rig = rig.clone();
    std::thread::spawn(move || {
        rig.call(
            "control_audio",
            json!({"device": "Living Room Music", "action": "volume", "volume": volume}),
        )
    })
}

/// Turns the living room's zone to 0, so that a rise to 60 is a ramp of six steps (about 4 s):
/// time enough for what a test does while it runs.
fn quiet(rig: &Rig) {
    let r = rig.call(
        "control_audio",
        json!({"device": "Living Room Music", "action": "volume", "volume": 0}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
}

/// From a quiet zone, a rise to 60 in its own session, once its first step reached the
/// simulator: the zone, the log mark from before it, and the call.
fn ramp_under_way(rig: &Arc<Rig>) -> (ControlAddr, u64, std::thread::JoinHandle<Value>) {
    let zone = rig.addr("Living Room Music");
    quiet(rig);
    let mark = rig.sim.log_mark();
    let rising = ramp(rig, 60);
    wait_volumes(rig, mark, &zone, 1);
    (zone, mark, rising)
}

/// Waits until the simulator has received the first `n` volume commands after `mark`.
fn wait_volumes(rig: &Rig, mark: u64, zone: &ControlAddr, n: usize) {
    assert!(
        wait_until(Duration::from_secs(10), || volumes(rig, mark, zone).len()
            >= n)
        .is_some(),
        "the ramp did not start: {:?}",
        volumes(rig, mark, zone)
    );
}

#[test]
fn two_setpoints_at_once_are_decided_one_after_the_other_and_the_second_against_the_first() {
    let rig = Rig::start();
    let climate = rig.addr("Living Room Climate");
    let now = rig.num(&climate, "comfortTemperature");
    let (up, down) = (now + 5.0, now - 5.0);
    let mark = rig.sim.log_mark();
    let set = |t: f64| {
        rig.call(
            "set_temperature",
            json!({"device": "Living Room Climate", "target": t, "unit": "C"}),
        )
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| set(up));
        let b = s.spawn(|| set(down));
        (a.join().unwrap(), b.join().unwrap())
    });
    // Each alone is within the 6 °C step from now; together they are 10 °C apart. Only the
    // first reached the Miniserver; the second was decided against what the first left.
    let sent = to(&rig, mark, &climate);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let refused: Vec<&Value> = [&a, &b]
        .into_iter()
        .filter(|r| r["isError"] == true)
        .collect();
    assert_eq!(refused.len(), 1, "{a}\n{b}");
    assert!(text(refused[0]).contains("SC-2"), "{}", text(refused[0]));
}

#[test]
fn a_setpoint_the_miniserver_accepted_but_has_not_reported_is_the_base_of_the_next_step() {
    let rig = Rig::start();
    let climate = rig.addr("Living Room Climate");
    let now = rig.num(&climate, "comfortTemperature");
    // The Miniserver answers LL 200 and reports nothing back (a slow or lost event).
    rig.sim.answer_with(&climate, Some(200));
    let set = |t: f64| {
        rig.call(
            "set_temperature",
            json!({"device": "Living Room Climate", "target": t, "unit": "C"}),
        )
    };
    let mark = rig.sim.log_mark();
    let up = set(now + 5.0);
    assert_eq!(up["structuredContent"]["commands"][0]["code"], 200, "{up}");
    // Against the reported value this would be 5 °C; against the value last commanded, 10.
    let down = set(now - 5.0);
    assert_eq!(down["isError"], true, "{down}");
    assert!(text(&down).contains("SC-2"), "{}", text(&down));
    assert_eq!(to(&rig, mark, &climate).len(), 1);
}

#[test]
fn overlapping_volume_rises_never_step_more_than_10_or_faster_than_the_pace() {
    let rig = Arc::new(Rig::start());
    // A ramp of six steps (about 4 s), and five more calls once it has begun.
    let (zone, mark, first) = ramp_under_way(&rig);
    let calls: Vec<_> = (0..5).map(|_| ramp(&rig, 60)).collect();
    let first = first.join().unwrap();
    let results: Vec<Value> = calls.into_iter().map(|c| c.join().unwrap()).collect();
    let sent = volumes(&rig, mark, &zone);
    let mut prev = (0u64, 0u8);
    for &(at, v) in &sent {
        assert!(v <= prev.1 + 10, "a step of more than 10: {sent:?}");
        if v > prev.1 && prev.0 > 0 {
            // 50 ms of slack for the simulator's own clock against ours.
            assert!(
                at + 50 >= prev.0 + 800,
                "rises faster than the pace: {sent:?}"
            );
        }
        prev = (at, v);
    }
    // The latest wish wins: the zone ends at 60, and superseded ramps say so.
    assert_eq!(sent.last().unwrap().1, 60, "{sent:?}");
    assert!(
        text(&first).contains("superseded by a later call"),
        "{first}"
    );
    assert!(
        results
            .iter()
            .all(|r| r["isError"] == false || text(r).contains("superseded")),
        "{results:?}"
    );
}

#[test]
fn turning_a_zone_down_during_a_ramp_stops_the_ramp_and_no_jump_follows() {
    let rig = Arc::new(Rig::start());
    let (zone, mark, rising) = ramp_under_way(&rig);
    let quiet = rig.call(
        "control_audio",
        json!({"device": "Living Room Music", "action": "volume", "volume": 0}),
    );
    assert_eq!(quiet["structuredContent"]["done"], true, "{quiet}");
    let r = rising.join().unwrap();
    assert!(text(&r).contains("superseded by a later call"), "{r}");
    let sent = volumes(&rig, mark, &zone);
    assert_eq!(sent.last().unwrap().1, 0, "the later call wins: {sent:?}");
    let zero = sent.iter().position(|&(_, v)| v == 0).unwrap();
    assert_eq!(
        zero,
        sent.len() - 1,
        "nothing of the ramp after 0: {sent:?}"
    );
}

#[test]
fn a_ramp_lowered_at_the_device_ends_short_and_the_next_rise_starts_from_what_the_zone_has() {
    // A person turns the zone down at the device mid-ramp: the next steps are recomputed from
    // there (+10 each), so the ramp ends below its target. That target was never set, so the
    // next call must not take it as the zone's volume.
    let rig = Arc::new(Rig::start());
    let (zone, mark, rising) = ramp_under_way(&rig);
    assert!(rig.sim.sense(&zone, "volume", 0.0));
    assert!(rig.wait_cache(&zone, "volume", |v| v == 0.0));
    let r = rising.join().unwrap();
    let sent = volumes(&rig, mark, &zone);
    assert!(
        sent.last().unwrap().1 < 60,
        "the ramp ended short: {sent:?} {r}"
    );
    let next = rig.call(
        "control_audio",
        json!({"device": "Living Room Music", "action": "volume", "volume": 60}),
    );
    assert_eq!(next["structuredContent"]["done"], true, "{next}");
    // Invariant over the whole log: no step more than +10 over the zone's volume before it.
    let mut level = 0u8;
    for (_, v) in volumes(&rig, mark, &zone) {
        assert!(
            v <= level + 10,
            "{level} → {v}: {:?}",
            volumes(&rig, mark, &zone)
        );
        level = v;
    }
}

#[test]
fn a_ramp_sends_nothing_after_the_emergency_stop_latches() {
    let rig = Arc::new(Rig::start());
    let (zone, mark, rising) = ramp_under_way(&rig);
    let report = rig.gw.emergency_stop("a test", "test");
    assert!(report.latched.reason == "a test");
    let r = rising.join().unwrap();
    assert!(text(&r).contains("emergency stop latched"), "{r}");
    // Invariant: no command decided before the latch arrives after the stop's pause.
    let log = to(&rig, mark, &zone);
    let paused = log
        .iter()
        .position(|e| {
            e.op.as_deref()
                .is_some_and(|o| o.eq_ignore_ascii_case("pause"))
        })
        .expect("the stop paused the zone");
    assert!(
        log[paused..]
            .iter()
            .all(|e| !e.op.as_deref().unwrap_or("").starts_with("volume")),
        "{log:?}"
    );
}

#[test]
fn a_smoke_alarm_that_starts_mid_ramp_ends_the_ramp_under_uca_a2() {
    let rig = Arc::new(Rig::start());
    let (zone, _, rising) = ramp_under_way(&rig);
    assert!(rig.sim.trigger_smoke_alarm());
    let smoke = rig.addr("Fire and Water Alarm");
    assert!(rig.wait_cache(&smoke, "level", |v| v > 0.0));
    let seen_at = rig.sim.log_mark();
    let r = rising.join().unwrap();
    assert!(text(&r).contains("UCA-A2"), "{r}");
    assert!(
        text(&r).contains("checked again before this command"),
        "{r}"
    );
    // At most the step already on its way when the alarm reached the gateway.
    let after: Vec<_> = volumes(&rig, seen_at, &zone);
    assert!(after.len() <= 1, "{after:?}");
    assert!(rig.num(&zone, "volume") < 60.0);
}

#[test]
fn an_alarm_that_sounds_while_the_link_checks_the_structure_still_holds_the_next_step_back() {
    // The last check before a command is inside the link, after its structure-version round
    // trip: an alarm that arrives during that round trip still keeps the step from leaving.
    // (A manual clock keeps the keepalives, whose delayed answers would delay events, away.)
    let rig = Arc::new(Rig::with(Options {
        manual: true,
        ..Options::default()
    }));
    let (zone, mark, rising) = ramp_under_way(&rig);
    // From now on the Miniserver answers 1.5 s late: the next step's structure check (sent
    // 0.8 s after the first step) waits there while the smoke alarm sounds.
    rig.sim.delay_replies(Duration::from_millis(1500));
    std::thread::sleep(Duration::from_millis(1000));
    assert!(rig.sim.trigger_smoke_alarm());
    let smoke = rig.addr("Fire and Water Alarm");
    assert!(rig.wait_cache(&smoke, "level", |v| v > 0.0));
    rig.sim.delay_replies(Duration::ZERO);
    let r = rising.join().unwrap();
    assert!(text(&r).contains("UCA-A2"), "{r}");
    let sent = volumes(&rig, mark, &zone);
    assert_eq!(sent.len(), 1, "only the step before the alarm: {sent:?}");
}

#[test]
fn a_blind_decided_just_before_the_stop_on_a_slow_miniserver_never_arrives_after_it() {
    let rig = Arc::new(Rig::start());
    let blind = rig.addr("Living Room Blind West");
    rig.sim.delay_replies(Duration::from_millis(300));
    let mark = rig.sim.log_mark();
    let r2 = rig.clone();
    let down = std::thread::spawn(move || {
        r2.call(
            "control_blind",
            json!({"device": "Living Room Blind West", "action": "down"}),
        )
    });
    std::thread::sleep(Duration::from_millis(100));
    rig.gw.emergency_stop("a test on a slow Miniserver", "test");
    let r = down.join().unwrap();
    rig.sim.delay_replies(Duration::ZERO);
    let log = to(&rig, mark, &blind);
    let stop = log
        .iter()
        .position(|e| e.op.as_deref() == Some("stop"))
        .unwrap_or_else(|| panic!("the blind got no stop: {log:?} {r}"));
    assert!(
        log[stop..].iter().all(|e| e.op.as_deref() == Some("stop")),
        "a move arrived after the stop: {log:?}"
    );
}

#[test]
fn one_question_per_door_reaches_the_person_and_the_others_are_refused_at_once() {
    let rig = Arc::new(Rig::with(Options {
        config: Box::new(crate::tools_posture::garden_lock),
        consent_timeout: Duration::from_secs(5),
        ..Options::default()
    }));
    let mark = rig.sim.log_mark();
    // Twelve sessions, each ready before any calls: then all call at once.
    let ready = Arc::new(std::sync::Barrier::new(12));
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let (rig, ready) = (rig.clone(), ready.clone());
            std::thread::spawn(move || {
                let mut c = rig.client();
                c.answer_next(Answer::Silent);
                ready.wait();
                c.call(
                    "control_access",
                    json!({"device": "Garden socket", "action": "unlock"}),
                )
                .expect("call")
            })
        })
        .collect();
    let results: Vec<Value> = calls.into_iter().map(|c| c.join().unwrap()).collect();
    let busy = results
        .iter()
        .filter(|r| text(r).contains("is already open"))
        .count();
    assert_eq!(busy, 11, "{results:#?}");
    assert!(
        rig.received(mark).is_empty(),
        "nobody answered; nothing may be sent"
    );
}

/// A client's stdout that takes the first line (the `initialize` answer) and then stops
/// reading, until `release`.
struct Stalled {
    seen: Arc<std::sync::Mutex<Vec<u8>>>,
    gate: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

impl std::io::Write for Stalled {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.seen.lock().unwrap().contains(&b'\n') {
            let (open, cv) = &*self.gate;
            let mut open = open.lock().unwrap();
            while !*open {
                open = cv.wait(open).unwrap();
            }
        }
        self.seen.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_client_that_stops_reading_does_not_hold_up_a_ramp_or_its_lane() {
    use std::io::Write as _;
    let rig = Arc::new(Rig::start());
    let zone = rig.addr("Living Room Music");
    quiet(&rig);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let (reader, mut input) = std::io::pipe().unwrap();
    let out = Stalled {
        seen: seen.clone(),
        gate: gate.clone(),
    };
    let r2 = rig.clone();
    let session = std::thread::spawn(move || {
        r2.server
            .serve(reader, out, loxwarden::mcp::Peer::default())
    });
    let mut line = |v: Value| {
        writeln!(input, "{v}").unwrap();
    };
    line(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
    );
    assert!(
        wait_until(Duration::from_secs(10), || seen
            .lock()
            .unwrap()
            .contains(&b'\n'))
        .is_some()
    );
    line(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let mark = rig.sim.log_mark();
    line(
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "control_audio",
        "arguments": {"device": "Living Room Music", "action": "volume", "volume": 60},
        "_meta": {"progressToken": "p"}}}),
    );
    wait_volumes(&rig, mark, &zone, 1);
    // The client reads nothing more, and keeps asking: its outbox fills up.
    for id in 3..400 {
        line(json!({"jsonrpc": "2.0", "id": id, "method": "ping"}));
    }
    // The ramp goes on to its end all the same, and the device's lane is free afterwards.
    let done = wait_until(Duration::from_secs(20), || {
        volumes(&rig, mark, &zone)
            .last()
            .is_some_and(|&(_, v)| v == 60)
    });
    assert!(done.is_some(), "{:?}", volumes(&rig, mark, &zone));
    let other = rig.call(
        "control_audio",
        json!({"device": "Living Room Music", "action": "volume", "volume": 30}),
    );
    assert_eq!(other["structuredContent"]["done"], true, "{other}");
    // Let the client read again so the session can end.
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    drop(input);
    session.join().unwrap();
}

#[test]
fn a_light_switched_late_by_a_slow_miniserver_counts_its_interval_from_when_it_was_switched() {
    // The Miniserver answers 0.7 s late, so the light's command leaves 0.7 s after the call was
    // decided (the link checks the structure first) and its answer comes 0.7 s later still.
    // A second change right after that answer is 1.4 s after the first decision but well
    // under a second after the light changed: too soon (UCA-L1), counted from the device's side.
    let rig = Rig::start();
    let light = rig.addr("Hall Light");
    let mark = rig.sim.log_mark();
    rig.sim.delay_replies(Duration::from_millis(700));
    let r = rig.call(
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    rig.sim.delay_replies(Duration::ZERO);
    let r = rig.call(
        "control_light",
        json!({"device": "Hall Light", "action": "off"}),
    );
    assert_eq!(r["structuredContent"]["refused"]["rule"], "UCA-L1", "{r}");
    let sent = to(&rig, mark, &light);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].op.as_deref(), Some("on"), "{sent:?}");
}

/// "All Blinds" down, answered by `answer` after `during` ran while the question was open.
fn all_blinds_down_asking(
    rig: &Arc<Rig>,
    during: impl FnMut(&Value) + 'static,
    answer: Answer,
) -> Value {
    let mut c = rig.client();
    c.on_question(during);
    c.answer_next(answer);
    c.call(
        "activate_scene",
        json!({"device": "All Blinds", "scene": "down"}),
    )
    .unwrap()
}

#[test]
fn while_a_person_is_asked_about_a_scene_its_blinds_take_no_other_plan() {
    let rig = Arc::new(Rig::start());
    let kitchen = rig.addr("Kitchen Blind");
    let mark = rig.sim.log_mark();
    let r2 = rig.clone();
    let seen = Arc::new(std::sync::Mutex::new(None));
    let s2 = seen.clone();
    let r = all_blinds_down_asking(
        &rig,
        move |_| {
            let up = r2.call(
                "control_blind",
                json!({"device": "Kitchen Blind", "action": "up"}),
            );
            *s2.lock().unwrap() = Some(up);
        },
        Answer::Decline,
    );
    assert_eq!(r["structuredContent"]["done"], false, "{r}");
    let up = seen.lock().unwrap().take().expect("the blind was called");
    assert_eq!(up["structuredContent"]["refused"]["rule"], "SC-5", "{up}");
    assert!(text(&up).contains("already open"), "{}", text(&up));
    assert!(to(&rig, mark, &kitchen).is_empty());
}

#[test]
fn a_stop_is_sent_at_once_while_a_question_about_the_same_gate_is_open() {
    // A stop waits for no plan and is refused by no open question (R-13: a stop is never
    // refused or delayed); the plan it interrupts sends nothing after it.
    let rig = Arc::new(Rig::start());
    let gate = rig.addr("Garage Door");
    let mark = rig.sim.log_mark();
    let r2 = rig.clone();
    let seen = Arc::new(std::sync::Mutex::new(None));
    let s2 = seen.clone();
    let mut c = rig.client();
    c.on_question(move |_| {
        let stop = r2.call(
            "control_access",
            json!({"device": "Garage Door", "action": "stop"}),
        );
        *s2.lock().unwrap() = Some(stop);
    });
    c.answer_next(Answer::Accept);
    let r = c
        .call(
            "control_access",
            json!({"device": "Garage Door", "action": "open"}),
        )
        .unwrap();
    let stop = seen.lock().unwrap().take().expect("the gate was called");
    assert_eq!(stop["structuredContent"]["done"], true, "{stop}");
    assert_eq!(r["structuredContent"]["done"], false, "{r}");
    let ops: Vec<_> = to(&rig, mark, &gate)
        .into_iter()
        .map(|e| e.op.unwrap_or_default())
        .collect();
    assert_eq!(ops, ["stop"]);
}
