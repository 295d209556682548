//! A raw MCP session in memory: the real engine over OS pipes, driven with arbitrary bytes.
//!
//! Why not `demo::client::Client`: hostile input is mostly *not* well-formed JSON-RPC (lines
//! past the size cap, 100 000 open brackets, ids of the wrong type), and the stateless era's
//! `requestState` must be replayed and tampered by hand. Every line the engine writes is
//! checked to be a JSON-RPC 2.0 message; consent questions are recorded and declined.

use std::io::{BufRead, BufReader, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use loxwarden::mcp::{Peer, Server};
use serde_json::{Value, json};

pub const MODERN: &str = "2026-07-28";

pub struct RawSession {
    input: Option<std::io::PipeWriter>,
    lines: Receiver<String>,
    server: Option<JoinHandle<()>>,
    next_ping: u64,
    /// Every `elicitation/create` params the engine sent.
    pub asked: Vec<Value>,
    /// Every message that was not valid JSON-RPC 2.0 (must stay empty).
    pub malformed: Vec<String>,
    /// Answers not yet claimed by [`RawSession::wait_for`].
    pending: Vec<Value>,
    /// Record questions without answering them (a person who walked away).
    pub silent: bool,
}

impl RawSession {
    pub fn start(server: &Server, peer: Peer) -> RawSession {
        let (in_r, in_w) = std::io::pipe().expect("pipe");
        let (out_r, out_w) = std::io::pipe().expect("pipe");
        let server = server.clone();
        let handle = std::thread::Builder::new()
            .name("raw-session".into())
            .spawn(move || {
                server.serve(in_r, out_w, peer);
            })
            .expect("thread");
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("raw-reader".into())
            .spawn(move || {
                for line in BufReader::new(out_r).lines() {
                    let Ok(line) = line else { return };
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            })
            .expect("thread");
        RawSession {
            input: Some(in_w),
            lines: rx,
            server: Some(handle),
            next_ping: 0,
            asked: Vec::new(),
            malformed: Vec::new(),
            pending: Vec::new(),
            silent: false,
        }
    }

    /// A handshake-era session declaring form elicitation.
    pub fn handshake(server: &Server) -> RawSession {
        let mut s = RawSession::start(server, Peer::default());
        s.send_value(
            &json!({"jsonrpc":"2.0","id":"init","method":"initialize","params":{
            "protocolVersion":"2025-11-25","capabilities":{"elicitation":{"form":{}}},
            "clientInfo":{"name":"hostile","version":"1"}}}),
        );
        let r = s.wait_for(&json!("init"), Duration::from_secs(30));
        assert!(r.is_some_and(|r| r.get("result").is_some()), "initialize");
        s.send_value(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
        s
    }

    pub fn send_raw(&mut self, line: &[u8]) {
        if let Some(w) = self.input.as_mut() {
            // A session that closed its input is caught by the ping that follows.
            let _ = w.write_all(line).and_then(|_| w.write_all(b"\n"));
        }
    }

    pub fn send_value(&mut self, v: &Value) {
        self.send_raw(v.to_string().as_bytes());
    }

    /// Reads one message; records questions (and declines them) and malformed lines.
    fn pump(&mut self, wait: Duration) -> Result<(), RecvTimeoutError> {
        let line = self.lines.recv_timeout(wait)?;
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            self.malformed.push(line);
            return Ok(());
        };
        if !is_jsonrpc(&msg) {
            self.malformed.push(line);
            return Ok(());
        }
        match msg.get("method").and_then(Value::as_str) {
            Some("elicitation/create") => {
                self.asked.push(msg["params"].clone());
                if self.silent {
                    return Ok(());
                }
                let id = msg["id"].clone();
                self.send_value(&json!({"jsonrpc":"2.0","id":id,"result":{"action":"decline"}}));
            }
            Some(_) => {}
            None => self.pending.push(msg),
        }
        Ok(())
    }

    /// The answer whose id is `id` (`null`: an error without an id).
    pub fn wait_for(&mut self, id: &Value, within: Duration) -> Option<Value> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(i) = self.pending.iter().position(|m| &m["id"] == id) {
                return Some(self.pending.remove(i));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.pump(left).is_err() {
                return None;
            }
        }
    }

    /// Waits until a consent question has been asked (true) or `within` passed.
    pub fn wait_question(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while self.asked.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.pump(left).is_err() {
                return false;
            }
        }
        true
    }

    /// A `ping` is still answered with `{}` (the session survived).
    pub fn alive(&mut self) -> bool {
        self.next_ping += 1;
        let id = json!(format!("alive-{}", self.next_ping));
        self.send_value(&json!({"jsonrpc":"2.0","id":id,"method":"ping"}));
        self.wait_for(&id, Duration::from_secs(30))
            .is_some_and(|r| r["result"] == json!({}))
    }

    /// A `tools/call` in the stateless era (no handshake), with `extra` params merged in.
    pub fn modern_call(&mut self, id: &str, tool: &str, args: Value, extra: Value) -> Value {
        let mut params = json!({
            "name": tool,
            "arguments": args,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
            }
        });
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        self.send_value(&json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":params}));
        self.wait_for(&json!(id), Duration::from_secs(30))
            .unwrap_or_else(|| panic!("no answer to {id}"))
    }

    /// Closes the input and waits for the session to end.
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

impl Drop for RawSession {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A JSON-RPC 2.0 request, notification or response (result xor error; error has a code). An
/// error for a line whose id could not be read has `"id": null` (JSON-RPC 2.0 §5; the Python
/// SDK's `JSONRPCError.id` is required and nullable).
pub fn is_jsonrpc(m: &Value) -> bool {
    if m["jsonrpc"] != "2.0" {
        return false;
    }
    if m.get("method").is_some_and(Value::is_string) {
        return true;
    }
    let id = m.get("id");
    let has_id = id.is_some_and(|i| i.is_string() || i.is_i64() || i.is_u64());
    match (m.get("result"), m.get("error")) {
        (Some(_), None) => has_id,
        (None, Some(e)) => {
            // `"id": null` when the request's id could not be read (JSON-RPC 2.0).
            (id == Some(&Value::Null) || has_id) && e["code"].is_i64() && e["message"].is_string()
        }
        _ => false,
    }
}
