//! Consent on the wire, end to end against the simulator: a call cancelled while the person
//! is asked, and the stateless era's MRTR rounds — a `requestState` that is tampered with,
//! reused, expired, bound to other arguments, another tool or another session, or replayed in
//! the handshake era is never consent. Evidence: the simulator's command log stays empty and
//! the audit log says what happened.

use std::sync::Arc;
use std::time::Duration;

use loxwarden::clock::ManualClock;
use loxwarden::mcp::{Peer, Server, ServerConfig};
use serde_json::{Value, json};

use crate::link_support::wait_until;
use crate::tools_support::{Rig, Wire, text};

fn form() -> Value {
    json!({"elicitation": {"form": {}}})
}

fn accept() -> Value {
    json!({"confirm": {"action": "accept", "content": {"confirm": true}}})
}

fn disarm() -> Value {
    json!({"device": "Burglar Alarm", "action": "disarm"})
}

fn open_garage() -> Value {
    json!({"device": "Garage Door", "action": "open"})
}

/// The first MRTR round of `tool`: `input_required` with the question; nothing is sent.
/// Returns (question message, requestState).
fn first_round(rig: &Rig, w: &mut Wire, tool: &str, args: Value) -> (String, String) {
    let mark = rig.sim.log_mark();
    let r = w.modern_call(tool, args, form(), json!({}));
    let res = &r["result"];
    assert_eq!(res["resultType"], "input_required", "{r}");
    assert!(
        rig.received(mark).is_empty(),
        "the first round sent something"
    );
    let q = res["inputRequests"]["confirm"]["params"]["message"]
        .as_str()
        .expect("a question")
        .to_owned();
    let state = res["requestState"].as_str().expect("a requestState");
    (q, state.to_owned())
}

/// The person declines the disarm question `state` was issued for (the ticket was good).
fn decline_disarm(w: &mut Wire, state: &str) {
    let r = w.modern_call(
        "set_alarm",
        disarm(),
        form(),
        json!({"inputResponses": {"confirm": {"action": "decline"}}, "requestState": state}),
    );
    assert_eq!(
        r["result"]["structuredContent"]["consent"]["outcome"], "declined",
        "{r}"
    );
}

/// A retry carrying `state` and an accept: refused as `invalid_state` for `why`, nothing sent.
fn retry_refused(rig: &Rig, w: &mut Wire, tool: &str, args: Value, state: Value, why: &str) {
    let mark = rig.sim.log_mark();
    let r = w.modern_call(
        tool,
        args.clone(),
        form(),
        json!({"inputResponses": accept(), "requestState": state}),
    );
    let res = &r["result"];
    assert_eq!(res["isError"], true, "{why}: {r}");
    assert_eq!(
        res["structuredContent"]["consent"]["outcome"], "invalid_state",
        "{why}: {r}"
    );
    assert!(text(res).contains(why), "{why}: {}", text(res));
    assert!(text(res).contains("Nothing was sent"), "{}", text(res));
    let got = rig.received(mark);
    assert!(
        got.is_empty(),
        "{why}: {tool} {args} reached the Miniserver: {got:?}"
    );
}

#[test]
fn a_call_cancelled_while_the_person_is_asked_sends_nothing_even_if_an_accept_follows() {
    let rig = Rig::start();
    let gate = rig.addr("Garage Door");
    let mut w = rig.wire();
    w.handshake(form());
    let mark = rig.sim.log_mark();
    w.send(
        &json!({"jsonrpc": "2.0", "id": "open-1", "method": "tools/call",
                   "params": {"name": "control_access", "arguments": open_garage()}}),
    );
    let ask = w.recv();
    assert_eq!(ask["method"], "elicitation/create", "{ask}");
    w.send(
        &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                   "params": {"requestId": "open-1", "reason": "the user pressed stop"}}),
    );
    let withdrawn = w.recv();
    assert_eq!(
        withdrawn["method"], "notifications/cancelled",
        "{withdrawn}"
    );
    assert_eq!(withdrawn["params"]["requestId"], ask["id"]);
    // The person's accept arrives after the call was cancelled: it is not consent.
    w.send(&json!({"jsonrpc": "2.0", "id": ask["id"],
                   "result": {"action": "accept", "content": {"confirm": true}}}));
    assert!(
        w.quiet(Duration::from_millis(300)),
        "a cancelled call gets no response"
    );
    // The tool ends on its own thread; its audit record says how.
    let audited = wait_until(Duration::from_secs(10), || {
        rig.audit()
            .iter()
            .any(|r| r["tool"] == "control_access" && r["consent"]["outcome"] == "call_cancelled")
    });
    assert!(audited.is_some(), "{:#?}", rig.audit());
    let got = rig.received(mark);
    assert!(got.is_empty(), "the gate was commanded: {got:?}");
    assert_eq!(rig.num(&gate, "position"), 0.0);
    // The session goes on.
    assert_eq!(w.request("ping", json!({}))["result"], json!({}));
}

#[test]
fn mrtr_an_accept_with_a_fresh_ticket_acts_once_and_the_same_ticket_again_sends_nothing() {
    let rig = Rig::start();
    let alarm = rig.addr("Burglar Alarm");
    let mut w = rig.wire();
    let (q, state) = first_round(&rig, &mut w, "set_alarm", disarm());
    // The question is the gateway's, from the structure file and the live state.
    assert!(
        q.starts_with("Disarm the alarm '") && q.contains("/Burglar Alarm'? It is not armed"),
        "{q}"
    );
    let pending = rig
        .audit()
        .into_iter()
        .filter(|r| r["tool"] == "set_alarm" && r["verdict"] == "pending")
        .count();
    assert_eq!(pending, 1, "the first round is audited as pending");
    let mark = rig.sim.log_mark();
    let extra = json!({"inputResponses": accept(), "requestState": state});
    let r = w.modern_call("set_alarm", disarm(), form(), extra);
    assert_eq!(r["result"]["resultType"], "complete", "{r}");
    assert_eq!(r["result"]["structuredContent"]["done"], true, "{r}");
    let got = rig.received(mark);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].command.ends_with(&format!("/{alarm}/off")),
        "{got:?}"
    );
    // The same ticket again (the house and so the question are unchanged): already used.
    retry_refused(
        &rig,
        &mut w,
        "set_alarm",
        disarm(),
        json!(state),
        "already used",
    );
    // A ticket whose question no longer matches the house (armed meanwhile, by a person at
    // the keypad: while the question is open the AI cannot ask to arm) is refused too.
    let (_, state) = first_round(&rig, &mut w, "set_alarm", disarm());
    assert!(rig.sim.sense(&alarm, "armed", 1.0));
    assert!(rig.wait_cache(&alarm, "armed", |v| v == 1.0));
    retry_refused(
        &rig,
        &mut w,
        "set_alarm",
        disarm(),
        json!(state),
        "another question",
    );
    assert_eq!(rig.num(&alarm, "armed"), 1.0);
}

#[test]
fn mrtr_tickets_tampered_or_bound_to_other_arguments_tools_or_sessions_send_nothing() {
    let rig = Rig::start();
    let mut w = rig.wire();
    // One character of the signed payload changed.
    let (_, s0) = first_round(&rig, &mut w, "set_alarm", disarm());
    let mut b = s0.clone().into_bytes();
    b[5] = if b[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(b).unwrap();
    retry_refused(
        &rig,
        &mut w,
        "set_alarm",
        disarm(),
        json!(tampered),
        "signature",
    );
    // Issued for disarm, presented with other arguments (another action; another spelling).
    // While that question is open no second one about the alarm is asked, so the same ticket
    // serves: a refused presentation does not use it up.
    for other in [
        json!({"device": "Burglar Alarm", "action": "acknowledge"}),
        json!({"device": "burglar alarm", "action": "disarm"}),
    ] {
        retry_refused(
            &rig,
            &mut w,
            "set_alarm",
            other,
            json!(s0),
            "other arguments",
        );
    }
    // Issued for the garage door, presented to set_alarm.
    let (_, s) = first_round(&rig, &mut w, "control_access", open_garage());
    retry_refused(
        &rig,
        &mut w,
        "set_alarm",
        disarm(),
        json!(s),
        "another tool",
    );
    // Issued to another session (about another output: the alarm's question is open).
    let loud = json!({"device": "Living Room Music", "action": "volume", "volume": 70});
    let mut other = rig.wire();
    let (_, s) = first_round(&rig, &mut other, "control_audio", loud.clone());
    retry_refused(
        &rig,
        &mut w,
        "control_audio",
        loud,
        json!(s),
        "another caller",
    );
    // An answer without a ticket, and a ticket that is not a string.
    let mark = rig.sim.log_mark();
    let r = w.modern_call(
        "set_alarm",
        disarm(),
        form(),
        json!({"inputResponses": accept()}),
    );
    assert_eq!(
        r["result"]["structuredContent"]["consent"]["outcome"], "invalid_state",
        "{r}"
    );
    assert!(rig.received(mark).is_empty());
    retry_refused(&rig, &mut w, "set_alarm", disarm(), json!(42), "malformed");
    // None of it was consent, and none of it wore the person down or used the real ticket up:
    // the person's answer to the first question still counts.
    let mark = rig.sim.log_mark();
    let r = w.modern_call(
        "set_alarm",
        disarm(),
        form(),
        json!({"inputResponses": accept(), "requestState": s0}),
    );
    assert_eq!(r["result"]["structuredContent"]["done"], true, "{r}");
    assert_eq!(rig.received(mark).len(), 1);
}

#[test]
fn mrtr_an_expired_ticket_sends_nothing() {
    let rig = Rig::start();
    // The engine's own clock, stepped past the ticket's lifetime (the gateway keeps real time).
    let clock = Arc::new(ManualClock::new());
    let config = ServerConfig::default();
    let ttl = config.request_state_ttl;
    let server = Server::with_clock(rig.gw.host(), config, clock.clone()).expect("engine");
    let mut w = Wire::start(&server, Peer::default());
    let (_, s) = first_round(&rig, &mut w, "set_alarm", disarm());
    clock.advance(ttl - Duration::from_millis(1));
    // Just inside its lifetime the ticket is good (a decline proves it was read).
    decline_disarm(&mut w, &s);
    let (_, s) = first_round(&rig, &mut w, "set_alarm", disarm());
    clock.advance(ttl);
    retry_refused(&rig, &mut w, "set_alarm", disarm(), json!(s), "expired");
}

#[test]
fn mrtr_decline_cancel_and_unticked_accepts_send_nothing() {
    let rig = Rig::start();
    let mut w = rig.wire();
    for (answer, outcome) in [
        (json!({"action": "decline"}), "declined"),
        (json!({"action": "cancel"}), "cancelled"),
        (
            json!({"action": "accept", "content": {"confirm": false}}),
            "accepted_without_confirm",
        ),
    ] {
        let (_, s) = first_round(&rig, &mut w, "control_access", open_garage());
        let mark = rig.sim.log_mark();
        let r = w.modern_call(
            "control_access",
            open_garage(),
            form(),
            json!({"inputResponses": {"confirm": answer}, "requestState": s}),
        );
        let sc = &r["result"]["structuredContent"];
        assert_eq!(sc["consent"]["outcome"], outcome, "{r}");
        assert_eq!(sc["done"], false, "{r}");
        assert!(
            rig.received(mark).is_empty(),
            "{outcome} reached the Miniserver"
        );
    }
}

#[test]
fn mrtr_a_request_without_form_elicitation_is_refused_and_nothing_is_sent() {
    // A site without the Loxone app channel (with it, `consent_app` covers these clients).
    let rig = Rig::with(crate::tools_support::no_app_channel());
    let mut w = rig.wire();
    let mark = rig.sim.log_mark();
    let r = w.modern_call("control_access", open_garage(), json!({}), json!({}));
    assert_eq!(r["error"]["code"], -32021, "{r}");
    assert!(rig.received(mark).is_empty());
    assert!(
        rig.audit()
            .iter()
            .any(|r| r["tool"] == "control_access" && r["consent"]["outcome"] == "unsupported"),
        "{:#?}",
        rig.audit()
    );
}

#[test]
fn a_stateless_ticket_replayed_in_a_handshake_session_is_not_consent() {
    // A site without the Loxone app channel (with it, `consent_app` covers these clients).
    let rig = Rig::with(crate::tools_support::no_app_channel());
    let mut modern = rig.wire();
    let (_, s) = first_round(&rig, &mut modern, "set_alarm", disarm());
    // The stateless session's person declines, which closes the question (one open question
    // per output), and uses the ticket up.
    decline_disarm(&mut modern, &s);
    // A handshake-era session sends the ticket and an accept along with its call: the gateway
    // asks the person itself (here they decline), and nothing is sent.
    let mut w = rig.wire();
    w.handshake(form());
    let mark = rig.sim.log_mark();
    w.send(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                   "params": {"name": "set_alarm", "arguments": disarm(),
                              "requestState": s, "inputResponses": accept()}}));
    let ask = w.recv();
    assert_eq!(ask["method"], "elicitation/create", "{ask}");
    w.send(&json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "decline"}}));
    let r = w.recv();
    assert_eq!(r["id"], 7, "{r}");
    assert_eq!(
        r["result"]["structuredContent"]["consent"]["outcome"], "declined",
        "{r}"
    );
    assert!(rig.received(mark).is_empty());
    // Without the elicitation capability the same replay is refused without a question.
    let mut bare = rig.wire();
    bare.handshake(json!({}));
    let r = bare.request(
        "tools/call",
        json!({"name": "set_alarm", "arguments": disarm(),
               "requestState": s, "inputResponses": accept()}),
    );
    assert_eq!(
        r["result"]["structuredContent"]["consent"]["outcome"], "unsupported",
        "{r}"
    );
    assert!(rig.received(mark).is_empty());
}

#[test]
fn mrtr_questions_left_unanswered_past_their_ticket_count_toward_consent_fatigue() {
    let rig = Rig::with(crate::tools_support::Options {
        manual: true,
        ..crate::tools_support::Options::default()
    });
    let mut w = rig.wire();
    // An AI asks three times and never brings an answer back: one question at a time (while
    // one is open, another is refused at once), each a miss once its ticket expired.
    for _ in 0..3 {
        first_round(&rig, &mut w, "control_access", open_garage());
        // While the ticket lives the person may still be reading: not yet a miss.
        rig.advance_alive(Duration::from_secs(119));
        let r = w.modern_call("control_access", open_garage(), form(), json!({}));
        assert!(text(&r["result"]).contains("is already open"), "{r}");
        rig.advance_alive(Duration::from_secs(2));
    }
    // The three expired unanswered: the next request is refused without a question.
    let mark = rig.sim.log_mark();
    let r = w.modern_call("control_access", open_garage(), form(), json!({}));
    let res = &r["result"];
    assert_ne!(res["resultType"], "input_required", "{r}");
    assert_eq!(res["isError"], true, "{r}");
    assert!(text(res).contains("SC-5"), "{}", text(res));
    assert!(rig.received(mark).is_empty());
}

#[test]
fn mrtr_an_accepted_intercom_open_is_carried_out_though_the_ring_is_now_seconds_older() {
    // The question says how long ago the bell rang; the ticket binds the facts, not that
    // number, so an accept that comes back a few seconds later still opens the door (issue 19
    // item 13). Any other change of the facts still voids it.
    let rig = Rig::with(crate::tools_support::Options {
        manual: true,
        ..crate::tools_support::Options::default()
    });
    let opener = rig.sub("Front Door", "1");
    let open = json!({"device": "Front Door", "action": "open_door"});
    rig.advance(Duration::from_secs(6));
    assert!(rig.sim.ring_bell());
    let intercom = rig.addr("Front Door");
    assert!(rig.wait_cache(&intercom, "bell", |v| v == 1.0));
    // Answered: the bell is quiet, and the ring is told by its time stamp from now on.
    let r = rig.call(
        "control_intercom",
        json!({"device": "Front Door", "action": "answer"}),
    );
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert!(rig.wait_cache(&intercom, "bell", |v| v == 0.0));
    rig.advance(Duration::from_secs(2));
    let mut w = rig.wire();
    let (q, state) = first_round(&rig, &mut w, "control_intercom", open.clone());
    assert!(q.contains("The bell rang 2 s ago"), "{q}");
    rig.advance(Duration::from_secs(7));
    let mark = rig.sim.log_mark();
    let extra = json!({"inputResponses": accept(), "requestState": state});
    let r = w.modern_call("control_intercom", open, form(), extra);
    assert_eq!(r["result"]["structuredContent"]["done"], true, "{r}");
    let got = rig.received(mark);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].command, format!("jdev/sps/io/{opener}/pulse"));
}

#[test]
fn mrtr_a_second_question_about_one_output_is_refused_while_the_first_is_open() {
    // Issue 19 item 7: in the 2026-07-28 era an AI could put thirty disarm questions in a row
    // to the person. One open question per output: the answer to the first still counts.
    let rig = Rig::start();
    let alarm = rig.addr("Burglar Alarm");
    let mut w = rig.wire();
    let (_, state) = first_round(&rig, &mut w, "set_alarm", disarm());
    for _ in 0..5 {
        let mark = rig.sim.log_mark();
        let r = w.modern_call("set_alarm", disarm(), form(), json!({}));
        let res = &r["result"];
        assert_ne!(res["resultType"], "input_required", "{r}");
        assert!(text(res).contains("SC-5"), "{}", text(res));
        assert!(text(res).contains("is already open"), "{}", text(res));
        assert!(rig.received(mark).is_empty());
    }
    let mark = rig.sim.log_mark();
    let extra = json!({"inputResponses": accept(), "requestState": state});
    let r = w.modern_call("set_alarm", disarm(), form(), extra);
    assert_eq!(r["result"]["structuredContent"]["done"], true, "{r}");
    let got = rig.received(mark);
    assert!(
        got.iter()
            .any(|e| e.command.ends_with(&format!("/{alarm}/off"))),
        "{got:?}"
    );
    // Answered: the next question may be asked.
    first_round(&rig, &mut w, "set_alarm", disarm());
}
