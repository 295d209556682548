//! Engine behaviours in memory: a session over OS pipes, a tool host that counts actuations,
//! and a manual clock for MRTR expiry. The wire-level transcripts live in tests/golden and
//! run against the real binary; here we prove what needs a look inside — that nothing is
//! actuated unless consent is valid.

use std::io::{BufRead, BufReader, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::tool::{
    Annotations, CallContext, CallError, ElicitOutcome, ElicitRequest, SessionInfo, ToolCall,
    ToolDef, ToolHost, ToolOutput,
};
use super::{Peer, Server, ServerConfig};
use crate::clock::ManualClock;

const ANN: Annotations = Annotations {
    read_only: false,
    destructive: true,
    idempotent: true,
    open_world: false,
};

const fn gate(name: &'static str) -> ToolDef {
    ToolDef {
        name,
        title: "Open a gate",
        description: "Opens a gate after the person confirms.",
        input_schema: r#"{"type":"object","properties":{"gate":{"type":"string"}},"required":["gate"]}"#,
        output_schema: r#"{"type":"object","properties":{"outcome":{"type":"string"}}}"#,
        annotations: ANN,
    }
}

const TOOLS: &[ToolDef] = &[gate("open_gate"), gate("open_gate_too")];

/// A host whose tools "actuate" (count) only on `Accepted`.
#[derive(Default)]
struct Gates {
    acted: AtomicUsize,
    rejected: Mutex<Vec<String>>,
    outcomes: Mutex<Vec<ElicitOutcome>>,
}

impl ToolHost for Gates {
    fn tools(&self) -> &[ToolDef] {
        TOOLS
    }
    fn instructions(&self) -> &str {
        "test gates"
    }
    fn call(&self, call: ToolCall<'_>, ctx: &mut dyn CallContext) -> Result<ToolOutput, CallError> {
        let gate = call
            .arguments
            .get("gate")
            .and_then(Value::as_str)
            .unwrap_or("?");
        // The question names the gate, but not the tool: so a ticket for one tool presented to
        // the other fails on the tool binding, not on the question.
        let outcome = ctx.elicit(&ElicitRequest {
            message: format!("Open gate {gate}?"),
            title: format!("Open {gate}"),
            binding: String::new(),
        });
        if outcome.is_accepted() {
            self.acted.fetch_add(1, Ordering::SeqCst);
        }
        let label = format!("{outcome:?}");
        self.outcomes.lock().unwrap().push(outcome);
        Ok(ToolOutput::ok(json!({"outcome": label}), label))
    }
    fn rejected(&self, _session: &SessionInfo, tool: &str, reason: &str) {
        self.rejected
            .lock()
            .unwrap()
            .push(format!("{tool}: {reason}"));
    }
}

struct Harness {
    input: Option<std::io::PipeWriter>,
    lines: Receiver<String>,
    server: Option<JoinHandle<()>>,
    clock: Arc<ManualClock>,
    host: Arc<Gates>,
    next_id: i64,
}

const MODERN: &str = "2026-07-28";

impl Harness {
    fn new(config: ServerConfig) -> Harness {
        let host = Arc::new(Gates::default());
        let clock = Arc::new(ManualClock::new());
        let server = Server::with_clock(host.clone(), config, clock.clone()).unwrap();
        let (in_r, in_w) = std::io::pipe().unwrap();
        let (out_r, out_w) = std::io::pipe().unwrap();
        let handle = std::thread::spawn(move || {
            server.serve(in_r, out_w, Peer::default());
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out_r).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Harness {
            input: Some(in_w),
            lines: rx,
            server: Some(handle),
            clock,
            host,
            next_id: 100,
        }
    }

    fn send(&mut self, msg: &Value) {
        let w = self.input.as_mut().unwrap();
        writeln!(w, "{msg}").unwrap();
    }

    fn recv(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(5))
            .expect("an answer within 5 s");
        serde_json::from_str(&line).unwrap()
    }

    fn quiet(&self, wait: Duration) -> bool {
        self.lines.recv_timeout(wait).is_err()
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}));
        let reply = self.recv();
        assert_eq!(reply["id"], id, "{reply}");
        reply
    }

    fn modern_call(&mut self, tool: &str, args: Value, caps: Value, extra: Value) -> Value {
        let mut params = json!({
            "name": tool,
            "arguments": args,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": caps,
            }
        });
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        self.request("tools/call", params)
    }

    fn handshake(&mut self, caps: Value) {
        let r = self.request(
            "initialize",
            json!({"protocolVersion":"2025-11-25","capabilities":caps,"clientInfo":{"name":"t","version":"1"}}),
        );
        assert_eq!(r["result"]["protocolVersion"], "2025-11-25");
        self.send(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
    }

    fn acted(&self) -> usize {
        self.host.acted.load(Ordering::SeqCst)
    }

    /// Closes the input and returns how long the session took to end.
    fn close(&mut self) -> Duration {
        let started = Instant::now();
        drop(self.input.take());
        if let Some(h) = self.server.take() {
            h.join().unwrap();
        }
        started.elapsed()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        drop(self.input.take());
    }
}

/// Answers in these tests come at once; the timeout only guards a slow machine.
fn quick() -> ServerConfig {
    ServerConfig {
        consent_timeout: Duration::from_secs(5),
        ..ServerConfig::default()
    }
}

fn form() -> Value {
    json!({"elicitation": {"form": {}}})
}

fn outcome(reply: &Value) -> String {
    reply["result"]["structuredContent"]["outcome"]
        .as_str()
        .unwrap_or_else(|| panic!("no outcome in {reply}"))
        .to_owned()
}

fn accept() -> Value {
    json!({"confirm": {"action": "accept", "content": {"confirm": true}}})
}

/// First round: `input_required`; returns the requestState.
fn first_round(h: &mut Harness, tool: &str, gate: &str) -> String {
    let r = h.modern_call(tool, json!({"gate": gate}), form(), json!({}));
    let result = &r["result"];
    assert_eq!(result["resultType"], "input_required", "{r}");
    let schema = &result["inputRequests"]["confirm"]["params"]["requestedSchema"];
    assert_eq!(schema["required"], json!(["confirm"]));
    assert!(schema["properties"]["confirm"].get("default").is_none());
    result["requestState"].as_str().unwrap().to_owned()
}

#[test]
fn mrtr_accept_with_a_fresh_ticket_acts_once_and_a_replay_acts_never() {
    let mut h = Harness::new(quick());
    let state = first_round(&mut h, "open_gate", "north");
    assert_eq!(h.acted(), 0, "the first round must not act");
    let extra = json!({"inputResponses": accept(), "requestState": state});
    let r = h.modern_call("open_gate", json!({"gate": "north"}), form(), extra.clone());
    assert_eq!(r["result"]["resultType"], "complete");
    assert_eq!(outcome(&r), "Accepted");
    assert_eq!(h.acted(), 1);
    // The same ticket again.
    let r = h.modern_call("open_gate", json!({"gate": "north"}), form(), extra);
    assert!(outcome(&r).starts_with("InvalidState"), "{r}");
    assert!(outcome(&r).contains("already used"), "{r}");
    assert_eq!(h.acted(), 1, "a replayed ticket must not act");
}

#[test]
fn mrtr_tickets_bound_elsewhere_or_tampered_or_expired_act_never() {
    let mut h = Harness::new(quick());
    let mut cases: Vec<(&str, Value, Value, &str)> = Vec::new();
    // Wrong arguments.
    let s = first_round(&mut h, "open_gate", "north");
    cases.push((
        "open_gate",
        json!({"gate":"south"}),
        json!(s),
        "other arguments",
    ));
    // Wrong tool.
    let s = first_round(&mut h, "open_gate", "north");
    cases.push((
        "open_gate_too",
        json!({"gate":"north"}),
        json!(s),
        "another tool",
    ));
    // Tampered: one character of the payload changed.
    let s = first_round(&mut h, "open_gate", "north");
    let mut b = s.clone().into_bytes();
    b[5] = if b[5] == b'A' { b'B' } else { b'A' };
    cases.push((
        "open_gate",
        json!({"gate":"north"}),
        json!(String::from_utf8(b).unwrap()),
        "signature",
    ));
    // Not a string at all.
    cases.push(("open_gate", json!({"gate":"north"}), json!(42), "malformed"));
    for (tool, args, state, why) in cases {
        let extra = json!({"inputResponses": accept(), "requestState": state});
        let r = h.modern_call(tool, args, form(), extra);
        let o = outcome(&r);
        assert!(
            o.starts_with("InvalidState") && o.contains(why),
            "{why}: {r}"
        );
    }
    // Expired: the clock passes the TTL.
    let s = first_round(&mut h, "open_gate", "north");
    h.clock.advance(ServerConfig::default().request_state_ttl);
    let extra = json!({"inputResponses": accept(), "requestState": s});
    let r = h.modern_call("open_gate", json!({"gate":"north"}), form(), extra);
    assert!(outcome(&r).contains("expired"), "{r}");
    // Answers without a ticket.
    let r = h.modern_call(
        "open_gate",
        json!({"gate":"north"}),
        form(),
        json!({"inputResponses": accept()}),
    );
    assert!(outcome(&r).starts_with("InvalidState"), "{r}");
    assert_eq!(h.acted(), 0, "no invalid ticket may act");
}

#[test]
fn mrtr_decline_and_unconfirmed_accept_do_not_act() {
    let mut h = Harness::new(quick());
    for (answer, expected) in [
        (json!({"action":"decline"}), "Declined"),
        (json!({"action":"cancel"}), "Cancelled"),
        (
            json!({"action":"accept","content":{"confirm":false}}),
            "AcceptedWithoutConfirm",
        ),
        (
            json!({"action":"accept","content":{"confirm":"true"}}),
            "AcceptedWithoutConfirm",
        ),
    ] {
        let s = first_round(&mut h, "open_gate", "east");
        let extra = json!({"inputResponses": {"confirm": answer}, "requestState": s});
        let r = h.modern_call("open_gate", json!({"gate":"east"}), form(), extra);
        assert_eq!(outcome(&r), expected);
    }
    assert_eq!(h.acted(), 0);
}

#[test]
fn mrtr_without_form_capability_is_error_32021_and_does_not_act() {
    let mut h = Harness::new(quick());
    for caps in [json!({}), json!({"elicitation": {"url": {}}})] {
        let r = h.modern_call("open_gate", json!({"gate":"west"}), caps, json!({}));
        assert_eq!(r["error"]["code"], -32021, "{r}");
        assert_eq!(
            r["error"]["data"]["requiredCapabilities"],
            json!({"elicitation": {"form": {}}})
        );
    }
    assert_eq!(h.acted(), 0);
}

#[test]
fn modern_requests_with_bad_meta_get_32022_or_32602() {
    let mut h = Harness::new(quick());
    let r = h.request(
        "tools/list",
        json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2030-01-01",
                         "io.modelcontextprotocol/clientCapabilities": {}}}),
    );
    assert_eq!(r["error"]["code"], -32022);
    assert_eq!(
        r["error"]["data"],
        json!({"supported": ["2026-07-28"], "requested": "2030-01-01"})
    );
    let r = h.request(
        "tools/list",
        json!({"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}}),
    );
    assert_eq!(r["error"]["code"], -32602);
    let r = h.request(
        "tools/list",
        json!({"_meta": {"io.modelcontextprotocol/protocolVersion": 7,
                         "io.modelcontextprotocol/clientCapabilities": {}}}),
    );
    assert_eq!(r["error"]["code"], -32602);
}

#[test]
fn handshake_elicitation_routes_the_answer_by_id_while_ping_still_works() {
    let mut h = Harness::new(quick());
    h.handshake(form());
    h.send(&json!({"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"open_gate","arguments":{"gate":"n"}}}));
    let ask = h.recv();
    assert_eq!(ask["method"], "elicitation/create");
    assert_eq!(ask["id"], "srv-1");
    assert_eq!(ask["params"]["mode"], "form");
    // The reader keeps reading while the tool waits.
    let pong = h.request("ping", json!({}));
    assert_eq!(pong["result"], json!({}));
    h.send(&json!({"jsonrpc":"2.0","id":"srv-1","result":{"action":"accept","content":{"confirm":true}}}));
    let r = h.recv();
    assert_eq!(
        (r["id"].clone(), outcome(&r)),
        (json!("c1"), "Accepted".into())
    );
    assert_eq!(h.acted(), 1);
}

#[test]
fn handshake_elicitation_timeout_cancels_our_request_and_does_not_act() {
    let mut h = Harness::new(ServerConfig {
        consent_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    });
    h.handshake(form());
    h.send(&json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"open_gate","arguments":{"gate":"n"}}}));
    let ask = h.recv();
    let cancel = h.recv();
    assert_eq!(cancel["method"], "notifications/cancelled");
    assert_eq!(cancel["params"]["requestId"], ask["id"]);
    let r = h.recv();
    assert_eq!(outcome(&r), "TimedOut");
    // A late answer is ignored.
    h.send(&json!({"jsonrpc":"2.0","id":ask["id"],"result":{"action":"accept","content":{"confirm":true}}}));
    assert!(h.quiet(Duration::from_millis(100)));
    assert_eq!(h.acted(), 0);
}

#[test]
fn a_call_cancelled_while_waiting_for_consent_sends_no_response_and_does_not_act() {
    let mut h = Harness::new(ServerConfig {
        consent_timeout: Duration::from_secs(30),
        ..ServerConfig::default()
    });
    h.handshake(form());
    h.send(&json!({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"open_gate","arguments":{"gate":"n"}}}));
    let ask = h.recv();
    h.send(&json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9,"reason":"user"}}));
    let withdrawn = h.recv();
    assert_eq!(withdrawn["method"], "notifications/cancelled");
    assert_eq!(withdrawn["params"]["requestId"], ask["id"]);
    assert!(
        h.quiet(Duration::from_millis(200)),
        "no response for a cancelled call"
    );
    assert_eq!(
        *h.host.outcomes.lock().unwrap(),
        vec![ElicitOutcome::CallCancelled]
    );
    assert_eq!(h.acted(), 0);
    // The id is free again and the session works.
    assert_eq!(h.request("ping", json!({}))["result"], json!({}));
}

#[test]
fn an_error_reply_or_a_missing_capability_is_not_consent() {
    let mut h = Harness::new(quick());
    h.handshake(form());
    h.send(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"open_gate","arguments":{"gate":"n"}}}));
    let ask = h.recv();
    h.send(&json!({"jsonrpc":"2.0","id":ask["id"],"error":{"code":-32000,"message":"Connection closed"}}));
    assert!(outcome(&h.recv()).starts_with("ErrorReply"));

    let mut h2 = Harness::new(quick());
    h2.handshake(json!({"elicitation": {"url": {}}}));
    let r = h2.request(
        "tools/call",
        json!({"name":"open_gate","arguments":{"gate":"n"}}),
    );
    assert_eq!(outcome(&r), "Unsupported");
    assert_eq!(h.acted() + h2.acted(), 0);
}

#[test]
fn elicitation_waits_for_notifications_initialized() {
    let mut h = Harness::new(quick());
    let r = h.request(
        "initialize",
        json!({"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},"clientInfo":{"name":"t","version":"1"}}),
    );
    assert_eq!(r["result"]["protocolVersion"], "2025-06-18");
    let r = h.request(
        "tools/call",
        json!({"name":"open_gate","arguments":{"gate":"n"}}),
    );
    assert_eq!(
        outcome(&r),
        "Unsupported",
        "not before notifications/initialized"
    );
    h.send(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
    h.send(&json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"open_gate","arguments":{"gate":"n"}}}));
    let ask = h.recv();
    assert!(
        ask["params"].get("mode").is_none(),
        "2025-06-18 has no mode field"
    );
    h.send(&json!({"jsonrpc":"2.0","id":ask["id"],"result":{"action":"decline"}}));
    assert_eq!(outcome(&h.recv()), "Declined");
}

#[test]
fn rejected_calls_are_reported_to_the_host_for_the_audit() {
    let mut h = Harness::new(quick());
    h.handshake(json!({}));
    let r = h.request("tools/call", json!({"name":"no_such_tool"}));
    assert_eq!(r["error"]["code"], -32602);
    let r = h.request("tools/call", json!({"name":"open_gate","arguments":[1]}));
    assert_eq!(r["error"]["code"], -32602);
    let r = h.request("tools/call", json!({"arguments":{}}));
    assert_eq!(r["error"]["code"], -32602);
    let rejected = h.host.rejected.lock().unwrap().clone();
    assert_eq!(rejected.len(), 3, "{rejected:?}");
    assert!(rejected[0].contains("Unknown tool"));
}

#[test]
fn calls_refused_for_the_lifecycle_or_a_bad_envelope_are_reported_too() {
    let mut h = Harness::new(quick());
    let r = h.request(
        "tools/call",
        json!({"name":"open_gate","arguments":{"gate":"n"}}),
    );
    assert_eq!(r["error"]["code"], -32602, "before initialize");
    let r = h.request(
        "tools/call",
        json!({"name":"open_gate","arguments":{"gate":"n"},
               "_meta":{"io.modelcontextprotocol/protocolVersion":"1999-01-01",
                        "io.modelcontextprotocol/clientCapabilities":{}}}),
    );
    assert_eq!(r["error"]["code"], -32022);
    let rejected = h.host.rejected.lock().unwrap().clone();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert!(
        rejected.iter().all(|r| r.starts_with("open_gate: ")),
        "{rejected:?}"
    );
    assert_eq!(h.acted(), 0);
}

#[test]
fn closing_the_input_ends_the_session_promptly_even_with_a_call_waiting() {
    let mut h = Harness::new(ServerConfig {
        consent_timeout: Duration::from_secs(30),
        ..ServerConfig::default()
    });
    h.handshake(form());
    h.send(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"open_gate","arguments":{"gate":"n"}}}));
    let _ask = h.recv();
    let took = h.close();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(h.acted(), 0);
}
