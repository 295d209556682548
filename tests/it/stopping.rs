//! A gateway asked to stop (what the daemon does on SIGTERM, `src/daemon/shutdown.rs`): nothing new is
//! sent and nobody is asked, an open question is withdrawn, a stop beats an accept that comes
//! with it, a ramp halts before its next step with an honest outcome, and the emergency stop
//! still works. The
//! signal itself is in `faults_local`.

use std::time::Duration;

use loxwarden::demo::client::Answer;
use loxwarden::mcp::tool::{CallContext, ElicitOutcome, ElicitRequest, Era, SessionInfo, ToolCall};
use serde_json::{Value, json};

use crate::faults::{assert_audit_complete, assert_honest, fast_rig};
use crate::link_support::wait_until;
use crate::tools_support::text;

fn volume(v: u32) -> Value {
    json!({"device": "Living Room Music", "action": "volume", "volume": v})
}

#[test]
fn a_stopping_gateway_sends_nothing_new_asks_nobody_and_still_stops_the_house() {
    let rig = fast_rig();
    assert_eq!(rig.gw.shutdown().drain(Duration::ZERO), 0);
    let mark = rig.sim.log_mark();
    let light = rig.call(
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    assert_eq!(light["isError"], true, "{light}");
    assert!(text(&light).contains("SC-4"), "{}", text(&light));
    assert!(text(&light).contains("stopping"), "{}", text(&light));
    // 85 % needs a person's consent (UCA-A1): a stopping gateway does not ask.
    let mut c = rig.client();
    c.answer_next(Answer::Accept);
    let loud = c.call("control_audio", volume(85)).unwrap();
    assert_eq!(loud["isError"], true, "{loud}");
    assert!(c.asked.is_empty(), "asked {:?}", c.asked);
    assert!(rig.received(mark).is_empty(), "{:?}", rig.received(mark));
    // Reads still answer, and the emergency stop is never refused.
    assert_eq!(rig.call("get_system_status", json!({}))["isError"], false);
    let stop = rig.call("emergency_stop", json!({"reason": "stopping test"}));
    let got = rig.received(mark);
    assert_honest(&stop, &got);
    assert_eq!(stop["structuredContent"]["done"], true, "{stop}");
    assert!(!got.is_empty());
    assert_audit_complete(&rig, &[&light, &loud, &stop]);
}

#[test]
fn a_stop_withdraws_an_open_question_and_the_call_ends_audited_before_the_drain_returns() {
    let rig = fast_rig();
    let mut w = rig.wire();
    w.handshake(json!({"elicitation": {}}));
    let mark = rig.sim.log_mark();
    w.send(
        &json!({"jsonrpc": "2.0", "id": "loud", "method": "tools/call",
        "params": {"name": "control_audio", "arguments": volume(85)}}),
    );
    let ask = w.recv();
    assert_eq!(ask["method"], "elicitation/create", "{ask}");
    // The consent timeout is 3 s: a drain that returns sooner did not wait it out. It returns
    // once the call has ended, so its refusal is already in the audit log then.
    let started = std::time::Instant::now();
    assert_eq!(rig.gw.shutdown().drain(Duration::from_secs(30)), 0);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "{took:?}");
    let refused = rig
        .audit()
        .into_iter()
        .rev()
        .find(|a| a["record"] == "decided" && a["tool"] == "control_audio")
        .expect("the call is audited before the drain returns");
    assert_eq!(refused["verdict"], "refuse", "{refused}");
    assert_eq!(refused["consent"]["outcome"], "withdrawn", "{refused}");
    let withdrawn = w.recv();
    assert_eq!(
        withdrawn["method"], "notifications/cancelled",
        "{withdrawn}"
    );
    assert_eq!(withdrawn["params"]["requestId"], ask["id"]);
    assert!(
        withdrawn["params"]["reason"]
            .as_str()
            .unwrap()
            .contains("stopping"),
        "{withdrawn}"
    );
    let r = loop {
        let m = w.recv();
        if m["id"] == "loud" {
            break m["result"].clone();
        }
    };
    assert_eq!(r["isError"], true, "{r}");
    assert_eq!(
        r["structuredContent"]["consent"]["outcome"], "withdrawn",
        "{r}"
    );
    assert!(text(&r).contains("stopping"), "{}", text(&r));
    // A late accept changes nothing.
    w.send(&json!({"jsonrpc": "2.0", "id": ask["id"],
        "result": {"action": "accept", "content": {"confirm": true}}}));
    assert!(w.quiet(Duration::from_millis(300)));
    assert!(rig.received(mark).is_empty(), "{:?}", rig.received(mark));
}

/// A client whose person accepts at the very moment the daemon is told to stop.
struct AcceptsAsTheStopComes<'a> {
    gw: &'a loxwarden::dispatch::gateway::Gateway,
    session: SessionInfo,
    era: Era,
}

impl CallContext for AcceptsAsTheStopComes<'_> {
    fn session(&self) -> &SessionInfo {
        &self.session
    }
    fn era(&self) -> &Era {
        &self.era
    }
    fn is_cancelled(&self) -> bool {
        false
    }
    fn progress(&self, _: f64, _: Option<f64>, _: &str) {}
    fn can_elicit(&self) -> bool {
        true
    }
    fn elicit(&mut self, _: &ElicitRequest) -> ElicitOutcome {
        // This call is counted, so the drain cannot finish; it only asks for the stop.
        assert_eq!(self.gw.shutdown().drain(Duration::ZERO), 1);
        ElicitOutcome::Accepted
    }
}

#[test]
fn a_stop_asked_for_while_the_person_accepts_wins_over_the_accept() {
    let rig = fast_rig();
    let mark = rig.sim.log_mark();
    let args = volume(85);
    let mut ctx = AcceptsAsTheStopComes {
        gw: &rig.gw,
        session: SessionInfo::default(),
        era: Era::Handshake("2025-11-25".into()),
    };
    let out = loxwarden::dispatch::call(
        &rig.gw,
        ToolCall {
            name: "control_audio",
            arguments: args.as_object().unwrap(),
        },
        &mut ctx,
    );
    assert!(out.is_error, "{:?}", out.structured);
    let r = out.structured.to_string();
    assert!(r.contains("SC-4"), "{r}");
    assert!(rig.received(mark).is_empty(), "{:?}", rig.received(mark));
    let refused = rig
        .audit()
        .into_iter()
        .rev()
        .find(|a| a["record"] == "decided" && a["tool"] == "control_audio")
        .expect("the call is audited");
    assert_eq!(refused["verdict"], "refuse", "{refused}");
    assert_eq!(refused["consent"]["outcome"], "accepted", "{refused}");
}

#[test]
fn a_stop_halts_a_ramp_before_its_next_step_and_waits_for_its_outcome() {
    let rig = fast_rig();
    let zero = rig.call("control_audio", volume(0));
    assert_eq!(zero["structuredContent"]["done"], true, "{zero}");
    let zone = rig.addr("Living Room Music").to_string();
    let mark = rig.sim.log_mark();
    let steps = || {
        rig.received(mark)
            .iter()
            .filter(|e| e.control.as_deref() == Some(zone.as_str()))
            .count()
    };
    std::thread::scope(|s| {
        let ramp = s.spawn(|| rig.call("control_audio", volume(60)));
        let two = wait_until(Duration::from_secs(10), || steps() >= 2);
        assert!(two.is_some(), "the ramp never started");
        // The drain returns once the ramp has its outcome, long before its bound.
        assert_eq!(rig.gw.shutdown().drain(Duration::from_secs(30)), 0);
        let at_stop = steps();
        let r = ramp.join().unwrap();
        assert_honest(&r, &rig.received(mark));
        let sc = &r["structuredContent"];
        assert_eq!(sc["done"], false, "{r}");
        let commands = sc["commands"].as_array().unwrap();
        assert_eq!(commands.len(), 6, "{r}");
        let sent: Vec<&Value> = commands.iter().filter(|c| c["sent"] == true).collect();
        assert_eq!(sent.len(), at_stop, "{r}");
        assert!((2..6).contains(&at_stop), "{at_stop} of 6");
        assert!(sent.iter().all(|c| c["code"] == 200), "{r}");
        for c in commands.iter().filter(|c| c["sent"] == false) {
            assert_eq!(c["error"], loxwarden::daemon::shutdown::NOT_SENT, "{r}");
        }
        std::thread::sleep(Duration::from_millis(1000));
        assert_eq!(steps(), at_stop, "steps went on after the stop");
        assert_audit_complete(&rig, &[&r]);
    });
}

#[test]
fn a_stop_waits_for_an_emergency_stop_that_is_under_way_until_its_outcome_is_on_disk() {
    let rig = fast_rig();
    // Slow answers (under the keepalive deadline): the stop is under way for a while.
    rig.sim.delay_replies(Duration::from_millis(700));
    std::thread::scope(|s| {
        let estop = s.spawn(|| rig.call("emergency_stop", json!({"reason": "stop race"})));
        let counted = wait_until(Duration::from_secs(10), || {
            rig.gw.shutdown().in_flight() == 1
        });
        assert!(counted.is_some(), "the emergency stop is not waited for");
        assert_eq!(rig.gw.shutdown().drain(Duration::from_secs(30)), 0);
        // The drain returned: the stop's outcome is already in the audit log.
        let audit = rig.audit();
        let decided = audit
            .iter()
            .find(|a| a["record"] == "decided" && a["tool"] == "emergency_stop")
            .expect("the stop is audited");
        assert!(
            audit
                .iter()
                .any(|a| a["record"] == "outcome" && a["audit_id"] == decided["audit_id"]),
            "the drain ended before the emergency stop's outcome was written"
        );
        let r = estop.join().unwrap();
        assert_eq!(r["structuredContent"]["done"], true, "{r}");
    });
    rig.sim.delay_replies(Duration::ZERO);
}
