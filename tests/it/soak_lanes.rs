//! The concurrency soak (issue 19): four sessions hammer the same few devices with random
//! plans and random consent answers, while a chaos thread latches and lifts the emergency stop
//! and sets off and clears the smoke alarm, against a simulator that answers every request
//! 30 ms late. Afterwards a checker reads the simulator's own command log and the audit log
//! and verifies the invariants the lanes and the per-step checks promise:
//!
//! - no volume step of more than +10 over the zone's previous volume;
//! - no setpoint more than 6 °C from the room's previous setpoint (SC-2);
//! - while the stop is latched, nothing but stops and pauses reaches the Miniserver,
//!   and every motor and zone of the structure got its stop;
//! - no rise of the volume while the smoke alarm sounded (UCA-A2);
//! - every allowed decision has exactly one outcome, and the Miniserver received exactly the
//!   commands the outcomes say it answered.
//!
//! `LOXWARDEN_LANE_SOAK_CALLS` sets the number of calls (default 400, about half a minute),
//! `LOXWARDEN_LANE_SOAK_SEED` replays a run; docs/safety.md has a 10 000-call run.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use loxwarden::demo::client::Answer;
use loxwarden::sim::LogEntry;
use serde_json::{Value, json};

use crate::soak::{Rng, blind_call};
use crate::tools_support::{Options, Rig};

const ZONE: &str = "Living Room Music";
const CLIMATES: [&str; 2] = ["Living Room Climate", "Kitchen Climate"];
const BLINDS: [&str; 2] = ["Living Room Blind West", "Kitchen Blind"];
const LIGHTS: [&str; 2] = ["Hall Light", "Kitchen Ceiling"];

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn next_call(rng: &mut Rng) -> (&'static str, Value) {
    match rng.below(10) {
        0..=3 => (
            "control_audio",
            json!({"device": ZONE, "action": "volume", "volume": rng.below(7) * 10}),
        ),
        4..=5 => (
            "set_temperature",
            json!({"device": *rng.pick(&CLIMATES), "target": 14 + rng.below(17), "unit": "C"}),
        ),
        6..=7 => {
            let device = *rng.pick(&BLINDS);
            blind_call(rng, device)
        }
        8 => (
            "control_audio",
            json!({"device": ZONE, "action": *rng.pick(&["play", "pause"])}),
        ),
        _ => (
            "control_light",
            json!({"device": *rng.pick(&LIGHTS), "action": *rng.pick(&["on", "off"])}),
        ),
    }
}

/// What the chaos thread did, as marks in the simulator's log.
#[derive(Debug, Default)]
struct Chaos {
    /// (the log's last seq once the stop returned, the last seq before the resume).
    latched: Vec<(u64, u64)>,
    /// (the last seq once the gateway saw the alarm, the last seq before it was cleared, the
    /// simulator's ms when the gateway saw it).
    smoke: Vec<(u64, u64, u64)>,
    stops_missing: Vec<String>,
}

fn op(e: &LogEntry) -> &str {
    e.op.as_deref().unwrap_or("")
}

#[test]
fn sessions_hammering_the_same_devices_under_stops_and_alarms_keep_every_invariant() {
    let calls = env_u64("LOXWARDEN_LANE_SOAK_CALLS", 400);
    let seed = env_u64("LOXWARDEN_LANE_SOAK_SEED", 0x1a4e_2026);
    eprintln!(
        "lane soak: {calls} calls, 4 sessions, seed {seed} (LOXWARDEN_LANE_SOAK_SEED={seed})"
    );
    let rig = Rig::with(Options {
        consent_timeout: Duration::from_secs(2),
        ..Options::default()
    });
    rig.sim.delay_replies(Duration::from_millis(30));
    let addr = |n: &str| rig.addr(n).to_string();
    let zone = addr(ZONE);
    let smoke = rig.addr("Fire and Water Alarm");
    let mut last_volume = rig.num(&rig.addr(ZONE), "volume");
    let mut setpoints: HashMap<String, f64> = CLIMATES
        .iter()
        .map(|c| (addr(c), rig.num(&rig.addr(c), "comfortTemperature")))
        .collect();
    let mark = rig.sim.log_mark();
    let done = AtomicBool::new(false);
    let chaos = Mutex::new(Chaos::default());
    let tally = Mutex::new(BTreeMap::<String, u64>::new());
    std::thread::scope(|s| {
        let (rig, done, chaos) = (&rig, &done, &chaos);
        s.spawn(move || {
            let mut rng = Rng::new(seed ^ 0xc4a0);
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1000 + rng.below(2000)));
                if done.load(Ordering::SeqCst) {
                    break;
                }
                if rng.chance(50) {
                    let report = rig.gw.emergency_stop("lane soak", "soak");
                    let from = rig.sim.log_mark();
                    let missing: Vec<String> = report
                        .results
                        .iter()
                        .filter(|r| r.code != Some(200))
                        .map(|r| format!("{r:?}"))
                        .collect();
                    std::thread::sleep(Duration::from_millis(100 + rng.below(300)));
                    let to = rig.sim.log_mark();
                    rig.gw.resume("soak").expect("resume");
                    let mut c = chaos.lock().unwrap();
                    c.latched.push((from, to));
                    c.stops_missing.extend(missing);
                } else {
                    assert!(rig.sim.trigger_smoke_alarm());
                    assert!(rig.wait_cache(&smoke, "level", |v| v > 0.0));
                    let from = rig.sim.log_mark();
                    let seen_ms = rig.sim.log_epoch().elapsed().as_millis() as u64;
                    std::thread::sleep(Duration::from_millis(300 + rng.below(900)));
                    let to = rig.sim.log_mark();
                    assert!(rig.sim.sense(&smoke, "level", 0.0));
                    assert!(rig.wait_cache(&smoke, "level", |v| v == 0.0));
                    chaos.lock().unwrap().smoke.push((from, to, seen_ms));
                }
            }
        });
        let sessions: Vec<_> = (0..4u64)
            .map(|i| {
                let tally = &tally;
                s.spawn(move || {
                    let mut rng = Rng::new(seed.wrapping_add(i + 1).wrapping_mul(0x9e37_79b9));
                    let mut c = rig.client();
                    let mine = calls / 4 + u64::from(i < calls % 4);
                    for _ in 0..mine {
                        let (tool, args) = next_call(&mut rng);
                        c.answer_next(if rng.chance(40) {
                            Answer::Accept
                        } else {
                            Answer::Decline
                        });
                        let r = c.call(tool, args).expect("an answer");
                        let sc = &r["structuredContent"];
                        let key = if sc["done"] == true {
                            "done".to_owned()
                        } else if let Some(rule) = sc["refused"]["rule"].as_str() {
                            format!("refused {rule}")
                        } else if let Some(o) = sc["consent"]["outcome"].as_str() {
                            format!("consent {o}")
                        } else {
                            "not done".to_owned()
                        };
                        *tally.lock().unwrap().entry(key).or_default() += 1;
                        // Think time, as an AI client has.
                        std::thread::sleep(Duration::from_millis(50 + rng.below(150)));
                    }
                })
            })
            .collect();
        for h in sessions {
            h.join().expect("a session");
        }
        done.store(true, Ordering::SeqCst);
    });
    rig.sim.delay_replies(Duration::ZERO);
    let chaos = chaos.into_inner().unwrap();
    let log: Vec<LogEntry> = rig.received(mark);
    eprintln!(
        "lane soak: seed {seed}; {} device commands; {} stops, {} smoke alarms; calls {:?}",
        log.len(),
        chaos.latched.len(),
        chaos.smoke.len(),
        tally.lock().unwrap()
    );

    // no volume step of more than +10.
    for e in log.iter().filter(|e| e.control.as_deref() == Some(&zone)) {
        if let Some(v) = op(e)
            .strip_prefix("volume/")
            .and_then(|v| v.parse::<f64>().ok())
        {
            assert!(
                v <= last_volume + 10.0,
                "seed {seed}: volume {last_volume} → {v} at seq {}",
                e.seq
            );
            last_volume = v;
        }
    }
    // SC-2: no setpoint more than 6 °C from the previous one.
    for e in &log {
        let Some(c) = e.control.as_deref() else {
            continue;
        };
        let Some(prev) = setpoints.get_mut(c) else {
            continue;
        };
        if let Some(t) = op(e)
            .strip_prefix("setComfortTemperature/")
            .and_then(|t| t.parse::<f64>().ok())
        {
            assert!(
                (t - *prev).abs() <= 6.0 + 1e-9,
                "seed {seed}: setpoint {prev} → {t} on {c} at seq {}",
                e.seq
            );
            *prev = t;
        }
    }
    // while latched, only stops and pauses.
    for &(from, to) in &chaos.latched {
        for e in log.iter().filter(|e| e.seq > from && e.seq <= to) {
            assert!(
                op(e) == "stop" || op(e).eq_ignore_ascii_case("pause"),
                "seed {seed}: {} {} reached the Miniserver while the stop was latched (seq {})",
                e.control.as_deref().unwrap_or("?"),
                op(e),
                e.seq
            );
        }
    }
    assert!(
        chaos.stops_missing.is_empty(),
        "seed {seed}: stops not answered 200: {:?}",
        chaos.stops_missing
    );
    // UCA-A2: no rise while the smoke alarm sounded. A command that had passed its last check
    // before the gateway saw the alarm may still arrive: the simulator answers 30 ms late, so
    // it is logged within IN_FLIGHT_MS of that moment.
    const IN_FLIGHT_MS: u64 = 150;
    for &(from, to, seen_ms) in &chaos.smoke {
        let mut vol: Option<f64> = None;
        for e in log.iter().filter(|e| e.control.as_deref() == Some(&zone)) {
            let Some(v) = op(e)
                .strip_prefix("volume/")
                .and_then(|v| v.parse::<f64>().ok())
            else {
                continue;
            };
            if e.seq > from && e.seq <= to && e.at_ms > seen_ms + IN_FLIGHT_MS {
                if let Some(before) = vol {
                    assert!(
                        v <= before,
                        "seed {seed}: volume raised {before} → {v} during the alarm"
                    );
                }
                assert!(
                    !op(e).starts_with("play"),
                    "seed {seed}: playback started during the alarm"
                );
            }
            vol = Some(v);
        }
    }
    // Every allowed decision has exactly one outcome; the Miniserver received what they say.
    let audit = rig.audit();
    let mut open: HashMap<String, u32> = HashMap::new();
    let mut answered = 0usize;
    for r in &audit {
        let id = r["audit_id"].as_str().unwrap_or_default().to_owned();
        match r["record"].as_str() {
            Some("decided")
                if r["verdict"] == "allow"
                    && r["plan"].as_array().is_some_and(|p| !p.is_empty()) =>
            {
                *open.entry(id).or_default() += 1
            }
            Some("outcome") => {
                *open.entry(id).or_default() += 100;
                answered += r["results"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|s| s["code"].is_u64())
                    .count();
            }
            _ => {}
        }
    }
    let unpaired: Vec<_> = open.iter().filter(|(_, n)| **n != 101).collect();
    assert!(
        unpaired.is_empty(),
        "seed {seed}: decisions without exactly one outcome: {unpaired:?}"
    );
    assert_eq!(
        answered,
        log.len(),
        "seed {seed}: the audit's answered commands and the simulator's log differ"
    );
}
