//! A scripted MCP client in memory: one real engine session over OS pipes, driven from code.
//!
//! Why: the tour must show a *real* MCP session (the same engine, eras and elicitation round
//! trips an AI client gets), and the consent tests need a person whose answers are scripted.
//! The client speaks the handshake era, declares what it is told to declare, and answers each
//! `elicitation/create` with the next scripted [`Answer`].

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

use crate::mcp::{Peer, Server};

/// How the scripted person answers a consent question.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// `accept` with `{"confirm": true}`.
    Accept,
    /// `accept` with this content (e.g. `{"confirm": false}`).
    AcceptWith(Value),
    Decline,
    Cancel,
    /// A JSON-RPC error instead of a result.
    Error,
    /// No answer at all (the engine times out).
    Silent,
}

/// What runs when a question arrives.
type Hook = Box<dyn FnMut(&Value)>;

/// How long one message may take before the client calls the session stuck.
const WAIT: Duration = Duration::from_secs(60);

pub struct Client {
    input: Option<std::io::PipeWriter>,
    lines: Receiver<String>,
    server: Option<JoinHandle<()>>,
    next_id: i64,
    answers: VecDeque<Answer>,
    /// Runs when a question arrives, before it is answered (tests change the house there).
    on_question: Option<Hook>,
    /// Every `elicitation/create` params the session sent, in order.
    pub asked: Vec<Value>,
    /// Every `notifications/progress` params received.
    pub progress: Vec<Value>,
}

impl Client {
    /// Starts one session of `server` over pipes (as `peer`).
    pub fn start(server: &Server, peer: Peer) -> std::io::Result<Client> {
        let (in_r, in_w) = std::io::pipe()?;
        let (out_r, out_w) = std::io::pipe()?;
        let server = server.clone();
        let handle = std::thread::Builder::new()
            .name("demo-session".into())
            .spawn(move || {
                server.serve(in_r, out_w, peer);
            })?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("demo-client-reader".into())
            .spawn(move || {
                for line in BufReader::new(out_r).lines() {
                    let Ok(line) = line else { return };
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            })?;
        Ok(Client {
            input: Some(in_w),
            lines: rx,
            server: Some(handle),
            next_id: 0,
            answers: VecDeque::new(),
            on_question: None,
            asked: Vec::new(),
            progress: Vec::new(),
        })
    }

    /// `initialize` (2025-11-25) declaring `capabilities`, then `notifications/initialized`.
    /// Returns the initialize result.
    pub fn initialize(&mut self, name: &str, capabilities: Value) -> Result<Value, String> {
        let r = self.request(
            "initialize",
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": capabilities,
                "clientInfo": {"name": name, "version": env!("CARGO_PKG_VERSION")},
            }),
        )?;
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        r.get("result")
            .cloned()
            .ok_or_else(|| format!("initialize failed: {r}"))
    }

    /// Runs `f` with each question before the scripted answer is sent.
    pub fn on_question(&mut self, f: impl FnMut(&Value) + 'static) {
        self.on_question = Some(Box::new(f));
    }

    /// The next consent question gets `a` (unscripted questions are declined).
    pub fn answer_next(&mut self, a: Answer) {
        self.answers.push_back(a);
    }

    fn send(&mut self, msg: &Value) -> Result<(), String> {
        let w = self.input.as_mut().ok_or("the session is closed")?;
        writeln!(w, "{msg}").map_err(|e| format!("cannot write to the session: {e}"))
    }

    /// Sends a request and returns its response, answering elicitations on the way.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        loop {
            let line = self
                .lines
                .recv_timeout(WAIT)
                .map_err(|_| format!("no answer to {method} within {} s", WAIT.as_secs()))?;
            let msg: Value = serde_json::from_str(&line)
                .map_err(|e| format!("not JSON from the server: {e}"))?;
            match msg.get("method").and_then(Value::as_str) {
                Some("elicitation/create") => self.elicit(&msg)?,
                Some("notifications/progress") => {
                    self.progress.push(msg["params"].clone());
                }
                Some(_) => {}
                None if msg["id"] == json!(id) => return Ok(msg),
                None => {}
            }
        }
    }

    fn elicit(&mut self, msg: &Value) -> Result<(), String> {
        self.asked.push(msg["params"].clone());
        if let Some(f) = self.on_question.as_mut() {
            f(&msg["params"]);
        }
        let id = msg["id"].clone();
        let reply = match self.answers.pop_front().unwrap_or(Answer::Decline) {
            Answer::Accept => {
                json!({"jsonrpc": "2.0", "id": id, "result": {"action": "accept", "content": {"confirm": true}}})
            }
            Answer::AcceptWith(c) => {
                json!({"jsonrpc": "2.0", "id": id, "result": {"action": "accept", "content": c}})
            }
            Answer::Decline => json!({"jsonrpc": "2.0", "id": id, "result": {"action": "decline"}}),
            Answer::Cancel => json!({"jsonrpc": "2.0", "id": id, "result": {"action": "cancel"}}),
            Answer::Error => {
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32603, "message": "the dialog failed"}})
            }
            Answer::Silent => return Ok(()),
        };
        self.send(&reply)
    }

    /// `tools/call`: the `CallToolResult`, or the JSON-RPC error object.
    pub fn call(&mut self, tool: &str, arguments: Value) -> Result<Value, String> {
        let r = self.request("tools/call", json!({"name": tool, "arguments": arguments}))?;
        Ok(r.get("result")
            .or_else(|| r.get("error"))
            .cloned()
            .unwrap_or(r))
    }

    /// Closes the session and waits for it to end.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        drop(self.input.take());
        if let Some(h) = self.server.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shutdown();
    }
}
