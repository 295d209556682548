//! The emergency stop's commands leave all at once (issue 19, "Speed of the stop"; R-11): they
//! go pipelined over the link's websocket, each device still reported with its own answer, and
//! one whose answer never comes is reported as not confirmed while the others are. Evidence:
//! the simulator's command log and its count of commands a websocket had in flight; nothing
//! here is timed (rule 8: the speed itself is the benchmark's figure).

use std::time::Duration;

use loxwarden::loxone::uuid::ControlAddr;
use loxwarden::safety::stop;
use loxwarden::sim::{Channel, LogEntry};

use crate::tools_support::{Options, Rig};

/// The stop's commands the simulator received after `mark` (stops, pauses, a sauna's `off`).
fn stop_commands(rig: &Rig, mark: u64) -> Vec<LogEntry> {
    rig.received(mark)
        .into_iter()
        .filter(|e| e.device && matches!(e.op.as_deref(), Some("stop" | "pause" | "Pause" | "off")))
        .collect()
}

/// The stop plan's plain (not visualisation-password) commands: the ones for the websocket.
fn plain_steps(rig: &Rig) -> Vec<ControlAddr> {
    stop::plan(&rig.sim.structure())
        .plan
        .into_iter()
        .filter(|s| !s.secured)
        .map(|s| s.command.target)
        .collect()
}

#[test]
fn the_stops_commands_are_in_flight_together_on_the_websocket_each_with_its_own_answer() {
    let rig = Rig::start();
    let plain = plain_steps(&rig);
    assert!(
        plain.len() >= 8,
        "the demo house has motors and zones: {plain:?}"
    );
    // A slow Miniserver: every answer comes 200 ms after its command. Sent one after another,
    // each command would wait for the answer before it; sent pipelined, all arrive first.
    rig.sim.delay_replies(Duration::from_millis(200));
    let before = rig.sim.max_ws_in_flight();
    let mark = rig.sim.log_mark();
    let report = rig.gw.emergency_stop("pipelining test", "it");
    rig.sim.delay_replies(Duration::ZERO);
    assert!(report.all_ok(), "{report:#?}");
    let got = stop_commands(&rig, mark);
    for addr in &plain {
        let to_it: Vec<&LogEntry> = got
            .iter()
            .filter(|e| e.control.as_deref() == Some(addr.to_string().as_str()))
            .collect();
        assert_eq!(to_it.len(), 1, "{addr}: exactly one stop, {got:?}");
        assert_eq!(
            to_it[0].channel,
            Channel::Ws,
            "{addr} went over the websocket"
        );
        assert_eq!(to_it[0].code, 200);
    }
    // Every plain command of the stop was received before the first answer went out: the
    // simulator had them all in flight on one socket at once.
    assert!(
        rig.sim.max_ws_in_flight() >= plain.len(),
        "at most {} of {} commands were in flight together (was {before} before the stop)",
        rig.sim.max_ws_in_flight(),
        plain.len()
    );
    // Each device's own answer is in the result, in plan order, none fabricated.
    assert_eq!(
        report.results.len(),
        stop::plan(&rig.sim.structure()).plan.len()
    );
    for r in &report.results {
        assert_eq!(r.code, Some(200), "{r:?}");
        assert!(r.error.is_none(), "{r:?}");
    }
    assert!(rig.gw.link().health().is_live(), "the link stays live");
}

#[test]
fn a_blind_whose_answer_never_comes_is_reported_not_confirmed_and_the_others_confirmed() {
    let rig = Rig::with(Options {
        config: Box::new(|t| t.replace("command_timeout_s = 5", "command_timeout_s = 1")),
        ..Options::default()
    });
    let blind = rig.addr("Kitchen Blind");
    // The Miniserver carries the command out, but its answer is lost on the way.
    rig.sim.never_answer(&blind, true);
    let mark = rig.sim.log_mark();
    let report = rig.gw.emergency_stop("lost answer test", "it");
    rig.sim.never_answer(&blind, false);
    assert!(!report.all_ok(), "one device did not confirm: {report:#?}");
    let blind_text = blind.to_string();
    let mine = report
        .results
        .iter()
        .find(|r| r.addr == blind_text)
        .expect("the kitchen blind is in the result");
    assert_eq!(mine.code, None, "no code is made up for it: {mine:?}");
    let why = mine.error.as_deref().unwrap_or_default();
    assert!(
        why.contains("no answer came within 1 s") && why.contains("not confirmed"),
        "{why}"
    );
    for r in report.results.iter().filter(|r| r.addr != blind_text) {
        assert_eq!(r.code, Some(200), "every other device confirmed: {r:?}");
    }
    // It was sent (once, over the websocket) and carried out; the others were not held back.
    let got = stop_commands(&rig, mark);
    let to_blind: Vec<&LogEntry> = got
        .iter()
        .filter(|e| e.control.as_deref() == Some(blind_text.as_str()))
        .collect();
    assert_eq!(to_blind.len(), 1, "{got:?}");
    assert_eq!(to_blind[0].channel, Channel::Ws);
    assert_eq!(got.len(), report.results.len(), "{got:?}");
    // The audit log has the decision and its outcome, with no code for the blind either.
    let audit = rig.audit();
    let of_stop = |kind: &str| {
        audit
            .iter()
            .find(|r| r["record"] == kind && r["audit_id"] == report.audit_id.as_str())
            .unwrap_or_else(|| panic!("no {kind} record for the stop: {audit:?}"))
    };
    of_stop("decided");
    let outcome = of_stop("outcome");
    assert_eq!(outcome["ok"], false, "{outcome}");
    let step = outcome["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["command"].as_str().unwrap().contains(&blind_text))
        .expect("the blind's step is in the outcome");
    assert!(step["code"].is_null(), "{step}");
    assert!(
        step["error"].as_str().unwrap().contains("not confirmed"),
        "{step}"
    );
    // A lost answer is not a lost socket: the link stays live.
    assert!(rig.gw.link().health().is_live());
}

#[test]
fn a_move_past_its_last_check_when_the_stop_latches_is_followed_by_a_second_stop() {
    // A slow Miniserver: every answer comes 1 s after its command. A blind's "down" passes its
    // last check (after the structure check), then needs a `getkey` round trip before the
    // command itself leaves; the stop latches inside that second, and its own commands arrive
    // within milliseconds, before the "down".
    let rig = std::sync::Arc::new(Rig::start());
    let blind = rig.addr("Kitchen Blind");
    rig.sim.delay_replies(Duration::from_secs(1));
    let mark = rig.sim.log_mark();
    let r2 = rig.clone();
    let down = std::thread::spawn(move || {
        r2.call(
            "control_blind",
            serde_json::json!({"device": "Kitchen/Kitchen Blind", "action": "down"}),
        )
    });
    // Past the check: the structure version was asked, and the one-time key for the command
    // itself is being asked now.
    let past_check = crate::link_support::wait_until(Duration::from_secs(10), || {
        let log = rig.sim.commands_since(mark);
        log.iter()
            .position(|e| e.command.contains("LoxAPPversion3"))
            .is_some_and(|i| log[i..].iter().any(|e| e.command.contains("getkey")))
    });
    assert!(past_check.is_some(), "{:?}", rig.sim.commands_since(mark));
    let report = rig.gw.emergency_stop("a move under way", "it");
    let r = down.join().unwrap();
    rig.sim.delay_replies(Duration::ZERO);
    let to_blind: Vec<LogEntry> = rig
        .received(mark)
        .into_iter()
        .filter(|e| e.device && e.control.as_deref() == Some(blind.to_string().as_str()))
        .collect();
    let ops: Vec<&str> = to_blind.iter().filter_map(|e| e.op.as_deref()).collect();
    assert!(
        ops.iter().any(|o| *o != "stop"),
        "the move reached the Miniserver (it was past its check): {ops:?} {r}"
    );
    assert_eq!(
        ops.last(),
        Some(&"stop"),
        "the last word to the blind is a stop: {ops:?}"
    );
    let mine = report
        .results
        .iter()
        .find(|d| d.addr == blind.to_string())
        .expect("the blind is in the report");
    assert_eq!(mine.code, Some(200), "{mine:?}");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("stopped a second time") && n.contains("Kitchen Blind")),
        "{:?}",
        report.notes
    );
    // The blind stands still where the second stop left it.
    assert_eq!(rig.num(&blind, "down"), 0.0);
}
