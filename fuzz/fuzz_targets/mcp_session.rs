//! A whole MCP session in memory: the fuzz input is the client's side of the stream.
//!
//! Byte 0 chooses the shape: even = the rest is raw client bytes; odd = the rest drives a small
//! grammar of JSON-RPC messages (initialize, tools/list, tools/call of the catalogue including
//! the test tools, cancellations, elicitation answers, stateless `_meta` requests, MRTR retries,
//! garbage), so the fuzzer gets past parsing into the lifecycle, the call workers, the
//! elicitation round trip and the `requestState` checks. The grammar client can also *wait*
//! for the server (an `elicitation/create`, an `input_required`) and echo the latest
//! `requestState` back, intact or tampered — the part a fuzzer cannot guess.
//!
//! Checked on the server's output: no panic (any thread), every line is one JSON object with
//! `"jsonrpc":"2.0"`, a response has exactly one of `result`/`error` and always an `id`, an
//! error with `"id": null` is only a parse error or an invalid request, a parse error always
//! has `"id": null`, and consent is never reported as given unless the client's bytes gave it.
#![no_main]

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use loxwarden::mcp::jsonrpc::{INVALID_REQUEST, PARSE_ERROR};
use loxwarden::mcp::tool::{CallContext, CallError, ToolCall, ToolDef, ToolHost, ToolOutput};
use loxwarden::mcp::{Peer, Server, ServerConfig};
use loxwarden::tools::testing;
use serde_json::{Value, json};

use fuzz_support::{json_value, word};

/// How long the client waits for the server before it goes on regardless.
const WAIT: Duration = Duration::from_millis(50);
const STATE_MARK: &str = "@STATE@";

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Shared {
    fn snapshot(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

enum Step {
    Bytes(Vec<u8>),
    /// Wait until the output (past what earlier waits saw) contains this text.
    Wait(&'static str),
    /// A line with `@STATE@` replaced by the latest `requestState` the server sent;
    /// `tamper` flips one character of it.
    WithState {
        line: Vec<u8>,
        tamper: Option<usize>,
    },
}

/// The client: hands the steps to the server as its input stream.
struct Client {
    steps: VecDeque<Step>,
    pending: Vec<u8>,
    out: Shared,
    seen: usize,
    /// Everything handed to the server so far.
    sent: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// How many responses the lines in `sent` call for (requests and lines the server must
/// reject; not notifications, not answers to the server's own requests).
fn answers_due(sent: &[u8]) -> usize {
    sent.split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .filter(|l| match serde_json::from_slice::<Value>(l) {
            Ok(Value::Object(o)) => {
                let is_method = o.get("method").is_some_and(Value::is_string);
                let has_id = o.contains_key("id");
                let is_reply = !o.contains_key("method")
                    && has_id
                    && (o.contains_key("result") || o.contains_key("error"));
                (!is_method || has_id) && !is_reply
            }
            _ => true,
        })
        .count()
}

/// How many responses (not requests or notifications) the server has written.
fn answers_given(out: &[u8]) -> usize {
    out.split(|&b| b == b'\n')
        .filter(|l| match serde_json::from_slice::<Value>(l) {
            Ok(Value::Object(o)) => !o.contains_key("method"),
            _ => false,
        })
        .count()
}

fn latest_state(out: &[u8]) -> Option<String> {
    let key = br#""requestState":""#;
    let at = out.windows(key.len()).rposition(|w| w == key)? + key.len();
    let len = out[at..].iter().position(|&b| b == b'"')?;
    Some(String::from_utf8_lossy(&out[at..at + len]).into_owned())
}

impl Read for Client {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() {
            match self.steps.pop_front() {
                None => return Ok(0),
                Some(Step::Bytes(b)) => self.pending = b,
                Some(Step::Wait(what)) => {
                    // Until the server says `what`, or has answered everything sent so far
                    // (then it will not come), or the time is up.
                    let start = Instant::now();
                    let due = answers_due(&self.sent);
                    loop {
                        let out = self.out.snapshot();
                        let from = self.seen.min(out.len());
                        if let Some(i) = find(&out[from..], what.as_bytes()) {
                            self.seen = from + i + what.len();
                            break;
                        }
                        if answers_given(&out) >= due || start.elapsed() > WAIT {
                            break;
                        }
                        std::thread::sleep(Duration::from_micros(200));
                    }
                }
                Some(Step::WithState { line, tamper }) => {
                    let out = self.out.snapshot();
                    let mut state = latest_state(&out).unwrap_or_default();
                    if let Some(i) = tamper
                        && !state.is_empty()
                    {
                        let i = i % state.len();
                        let mut b = state.into_bytes();
                        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
                        state = String::from_utf8_lossy(&b).into_owned();
                    }
                    let text = String::from_utf8_lossy(&line).replace(STATE_MARK, &state);
                    self.pending = text.into_bytes();
                }
            }
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.sent.extend_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

// ------------------------------------------------------------------ the grammar

const VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2026-07-28", ""];
const TOOLS: &[&str] = &[
    "get_system_status",
    "test_confirm",
    "test_sleep",
    "list_devices",
];
const METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "logging/setLevel",
    "server/discover",
    "resources/list",
    "notifications/initialized",
    "notifications/cancelled",
    "elicitation/create",
];
const LEVELS: &[&str] = &["debug", "info", "warning", "error", "critical", "loud"];
const ACTIONS: &[&str] = &["accept", "decline", "cancel", "maybe"];

fn id(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=6)? {
        0..=2 => json!(u.int_in_range(1..=4)?),
        3 => json!(format!("r{}", u.int_in_range(1..=3)?)),
        4 => json!(u.arbitrary::<i64>()?),
        5 => json!(u64::MAX),
        _ => json_value(u, 1)?,
    })
}

fn capabilities(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=5)? {
        0 => json!({}),
        1 => json!({"elicitation": {}}),
        2 => json!({"elicitation": {"form": {}}}),
        3 => json!({"elicitation": {"url": {}}}),
        4 => json!({"elicitation": {"form": {}, "url": {}}, "roots": {}}),
        _ => json_value(u, 2)?,
    })
}

fn client_info(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(if u.ratio(1, 6)? {
        json_value(u, 1)?
    } else {
        json!({"name": word(u, &["claude", "n8n", "probe"])?, "version": "1.0"})
    })
}

fn meta(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut m = serde_json::Map::new();
    if !u.ratio(1, 8)? {
        m.insert(
            "io.modelcontextprotocol/protocolVersion".into(),
            if u.ratio(1, 6)? {
                json_value(u, 0)?
            } else {
                json!(word(u, VERSIONS)?)
            },
        );
    }
    if !u.ratio(1, 8)? {
        m.insert(
            "io.modelcontextprotocol/clientCapabilities".into(),
            capabilities(u)?,
        );
    }
    if u.arbitrary()? {
        m.insert("io.modelcontextprotocol/clientInfo".into(), client_info(u)?);
    }
    if u.ratio(1, 4)? {
        m.insert(
            "progressToken".into(),
            if u.arbitrary()? {
                json!("p")
            } else {
                json_value(u, 0)?
            },
        );
    }
    Ok(Value::Object(m))
}

fn arguments(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=4)? {
        0 => json!({}),
        1 => json!({"ms": u.int_in_range(0..=40)?}),
        2 => json!({"ms": json_value(u, 0)?}),
        3 => Value::Null,
        _ => json_value(u, 2)?,
    })
}

fn answer(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut a = json!({"action": word(u, ACTIONS)?});
    if u.ratio(3, 4)? {
        a["content"] = match u.int_in_range(0..=3)? {
            0 => json!({"confirm": true}),
            1 => json!({"confirm": false}),
            2 => json!({"confirm": "true"}),
            _ => json_value(u, 1)?,
        };
    }
    Ok(a)
}

fn request(method: &str, id: Value, params: Option<Value>) -> Value {
    let mut m = json!({"jsonrpc": "2.0", "id": id, "method": method});
    if let Some(p) = params {
        m["params"] = p;
    }
    m
}

fn message(u: &mut Unstructured<'_>, steps: &mut Vec<Step>) -> Result<()> {
    let msg = match u.int_in_range(0..=15)? {
        0 => request(
            "initialize",
            id(u)?,
            Some(json!({
                "protocolVersion": word(u, VERSIONS)?,
                "capabilities": capabilities(u)?,
                "clientInfo": client_info(u)?,
            })),
        ),
        1 => json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        2 => request("ping", id(u)?, None),
        3 => {
            let cursor = if u.arbitrary()? {
                json!({})
            } else {
                json!({"cursor": json_value(u, 0)?})
            };
            request("tools/list", id(u)?, Some(cursor))
        }
        4 | 5 => {
            let mut p = json!({"name": word(u, TOOLS)?, "arguments": arguments(u)?});
            if u.ratio(1, 3)? {
                p["_meta"] = meta(u)?;
            }
            request("tools/call", id(u)?, Some(p))
        }
        6 => request(
            "logging/setLevel",
            id(u)?,
            Some(json!({"level": word(u, LEVELS)?})),
        ),
        7 => {
            let p = if u.arbitrary()? {
                Some(json!({"_meta": meta(u)?}))
            } else {
                None
            };
            request("server/discover", id(u)?, p)
        }
        8 => json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                    "params": {"requestId": id(u)?, "reason": "fuzz"}}),
        9 => {
            let srv = json!(format!("srv-{}", u.int_in_range(1..=3)?));
            if u.ratio(1, 4)? {
                json!({"jsonrpc": "2.0", "id": srv,
                       "error": {"code": json_value(u, 0)?, "message": "no"}})
            } else {
                json!({"jsonrpc": "2.0", "id": srv, "result": answer(u)?})
            }
        }
        10 => {
            let method = word(u, &["tools/list", "tools/call", "server/discover", "ping"])?;
            let mut p = json!({"_meta": meta(u)?});
            if method == "tools/call" {
                p["name"] = json!(word(u, TOOLS)?);
                p["arguments"] = arguments(u)?;
            }
            request(&method, id(u)?, Some(p))
        }
        11 => {
            // A stateless retry carrying the server's latest requestState.
            let mut p = json!({
                "_meta": meta(u)?,
                "name": "test_confirm",
                "arguments": {},
                "requestState": STATE_MARK,
            });
            if u.ratio(3, 4)? {
                p["inputResponses"] = json!({"confirm": answer(u)?});
            }
            let tamper = if u.ratio(1, 3)? {
                Some(u.arbitrary()?)
            } else {
                None
            };
            let mut line = request("tools/call", id(u)?, Some(p))
                .to_string()
                .into_bytes();
            line.push(b'\n');
            steps.push(Step::WithState { line, tamper });
            return Ok(());
        }
        12 => {
            steps.push(Step::Wait(if u.arbitrary()? {
                "elicitation/create"
            } else {
                "requestState"
            }));
            return Ok(());
        }
        13 => {
            let mut m = json!({"jsonrpc": word(u, &["2.0", "1.0"])?, "method": word(u, METHODS)?});
            if u.arbitrary()? {
                m["id"] = id(u)?;
            }
            if u.arbitrary()? {
                m["params"] = json_value(u, 2)?;
            }
            if u.ratio(1, 4)? {
                m = json!([m]);
            }
            m
        }
        14 => {
            let mut b: Vec<u8> = u.arbitrary()?;
            b.retain(|&c| c != b'\n');
            b.push(b'\n');
            steps.push(Step::Bytes(b));
            return Ok(());
        }
        _ => json_value(u, 2)?,
    };
    let mut line = msg.to_string().into_bytes();
    match u.int_in_range(0..=15)? {
        0 => line.push(b'\r'),
        1 => {
            let cut = u.choose_index(line.len())?;
            line.truncate(cut);
        }
        _ => {}
    }
    line.push(b'\n');
    steps.push(Step::Bytes(line));
    Ok(())
}

fn grammar(data: &[u8]) -> Vec<Step> {
    let mut u = Unstructured::new(data);
    let mut steps = Vec::new();
    for _ in 0..24 {
        if u.is_empty() || message(&mut u, &mut steps).is_err() {
            break;
        }
    }
    steps
}

// ------------------------------------------------------------------ the session and its checks

fn check_output(out: &[u8], input: &[u8]) {
    let text = std::str::from_utf8(out).expect("the server's output is UTF-8");
    if text.is_empty() {
        return;
    }
    assert!(text.ends_with('\n'), "the last line is unterminated");
    for line in text[..text.len() - 1].split('\n') {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("output line is not JSON ({e}): {line:?}"));
        let o = v
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {line}"));
        assert_eq!(o.get("jsonrpc"), Some(&json!("2.0")), "{line}");
        if o.contains_key("method") {
            assert_ne!(o.get("id"), Some(&Value::Null), "id null: {line}");
            continue; // our request or notification
        }
        assert!(o.contains_key("id"), "a response without id: {line}");
        assert!(
            o.contains_key("result") != o.contains_key("error"),
            "a response needs exactly one of result/error: {line}"
        );
        if let Some(e) = o.get("error") {
            let code = e.get("code").and_then(Value::as_i64).expect("error code");
            if code == PARSE_ERROR {
                assert_eq!(
                    o.get("id"),
                    Some(&Value::Null),
                    "a parse error with an id: {line}"
                );
            }
            if o.get("id") == Some(&Value::Null) {
                assert!(
                    code == PARSE_ERROR || code == INVALID_REQUEST,
                    "an id-less error that is not about the message's shape: {line}"
                );
            }
        }
        let outcome = o
            .get("result")
            .and_then(|r| r.get("structuredContent"))
            .and_then(|s| s.get("outcome"))
            .and_then(Value::as_str);
        if outcome == Some("accepted") {
            assert!(
                find(input, b"accept").is_some() && find(input, b"true").is_some(),
                "consent reported that the client never gave: {line}"
            );
        }
    }
}

/// The engine under test with the test-only tools (`test_confirm` asks the person, `test_sleep`
/// waits): the session machinery without a house behind it.
struct TestTools;

const TEST_TOOLS: &[ToolDef] = &[testing::CONFIRM, testing::SLEEP];

impl ToolHost for TestTools {
    fn tools(&self) -> &[ToolDef] {
        TEST_TOOLS
    }

    fn instructions(&self) -> &str {
        "fuzzing"
    }

    fn call(
        &self,
        call: ToolCall<'_>,
        ctx: &mut dyn CallContext,
    ) -> std::result::Result<ToolOutput, CallError> {
        testing::call(call, ctx)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let steps = if mode & 1 == 0 {
        vec![Step::Bytes(rest.to_vec())]
    } else {
        grammar(rest)
    };
    let input: Vec<u8> = steps
        .iter()
        .flat_map(|s| match s {
            Step::Bytes(b) | Step::WithState { line: b, .. } => b.clone(),
            Step::Wait(_) => Vec::new(),
        })
        .collect();
    let config = ServerConfig {
        consent_timeout: Duration::from_millis(50),
        max_in_flight: 3,
        page_size: 1,
        eof_grace: Duration::from_millis(100),
        ..ServerConfig::default()
    };
    let server = Server::new(Arc::new(TestTools), config).expect("server");
    let out = Shared::default();
    let client = Client {
        steps: steps.into(),
        pending: Vec::new(),
        out: out.clone(),
        seen: 0,
        sent: Vec::new(),
    };
    server.serve(client, out.clone(), Peer::default());
    let out = out.snapshot();
    if std::env::var_os("LOXWARDEN_FUZZ_DUMP").is_some() {
        // Replaying a corpus or a crash by hand: show both sides of the session.
        eprintln!(
            ">>> client\n{}\n<<< server\n{}",
            String::from_utf8_lossy(&input),
            String::from_utf8_lossy(&out)
        );
    }
    check_output(&out, &input);
});
