//! One MCP session over one byte stream: the reader loop, the lifecycle, routing.
//!
//! Threads: the caller's thread reads lines and answers everything quick itself (`ping`,
//! `initialize`, `tools/list`, errors), so a slow tool never delays a `ping`. Each `tools/call`
//! runs on its own worker thread (at most `max_in_flight` per session). One writer thread owns
//! the output stream: every message goes through one bounded channel, is written as one line
//! and flushed, so lines never interleave and nothing else reaches stdout.
//!
//! Lifecycle (handshake era): `AwaitingInit → AwaitingInitialized → Ready`. `ping` is answered
//! in every state; an unknown method is `-32601` in every state (clients probing with
//! `server/discover` key off that); a known method before `initialize` is `-32602`. A request
//! carrying `_meta["io.modelcontextprotocol/protocolVersion"]` is served statelessly
//! (2026-07-28) whatever the lifecycle state.

mod ask;
mod calls;
mod handshake;

pub(crate) use ask::missing_elicitation;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::elicit::{client_has_form, form_params, interpret};
use super::framing::{Frame, LineReader, MAX_LINE};
use super::jsonrpc::{
    self, INVALID_REQUEST, Id, Incoming, MISSING_REQUIRED_CLIENT_CAPABILITY, RpcError,
    UNSUPPORTED_PROTOCOL_VERSION,
};
use super::methods;
use super::server::{Peer, Shared};
use super::tool::{ElicitOutcome, ElicitRequest, SessionInfo};
use super::versions::{
    self, META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_PROTOCOL_VERSION, STATELESS,
    WITHOUT_ELICITATION_MODE,
};

/// Lines queued for the writer before the reader waits (back-pressure on a client that does
/// not read its input).
const OUTBOX: usize = 256;

/// How soon an open question notices that the host is stopping.
const STOP_SLICE: Duration = Duration::from_millis(100);

/// Every method this server knows; anything else is `-32601`.
const KNOWN: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "logging/setLevel",
    "server/discover",
];

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

enum Out {
    Line(String),
    Stop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    AwaitingInit,
    AwaitingInitialized,
    Ready,
}

/// What the handshake established.
struct Lifecycle {
    phase: Phase,
    version: String,
    /// The client declared form-mode elicitation.
    form: bool,
    client_name: String,
    client_version: String,
    log_level: Option<String>,
}

/// A `tools/call` in flight.
pub(crate) struct CallState {
    pub id: Id,
    /// The client sent `notifications/cancelled` for it: stop, and send no response.
    cancelled: AtomicBool,
}

/// A call blocked in `elicitation/create`, waiting for the client's answer.
struct Waiter {
    call: Id,
    tx: mpsc::Sender<Wake>,
}

enum Wake {
    Reply(Result<Value, RpcError>),
    CallCancelled,
}

/// How a stateless request described its client.
pub(crate) struct Modern {
    pub capabilities: Value,
    pub client_name: String,
    pub client_version: String,
}

pub(crate) struct Session {
    pub shared: Arc<Shared>,
    pub id: u64,
    peer: Peer,
    out: SyncSender<Out>,
    life: Mutex<Lifecycle>,
    calls: Mutex<HashMap<Id, Arc<CallState>>>,
    calls_done: Condvar,
    waiters: Mutex<HashMap<String, Waiter>>,
    next_server_id: AtomicU64,
    /// The peer closed its end: everything running counts as cancelled.
    closing: AtomicBool,
}

impl Session {
    pub fn run<R: Read, W: Write + Send>(
        shared: Arc<Shared>,
        id: u64,
        peer: Peer,
        reader: R,
        writer: W,
    ) {
        let (tx, rx) = mpsc::sync_channel(OUTBOX);
        let session = Arc::new(Session {
            shared,
            id,
            peer,
            out: tx,
            life: Mutex::new(Lifecycle {
                phase: Phase::AwaitingInit,
                version: String::new(),
                form: false,
                client_name: String::new(),
                client_version: String::new(),
                log_level: None,
            }),
            calls: Mutex::new(HashMap::new()),
            calls_done: Condvar::new(),
            waiters: Mutex::new(HashMap::new()),
            next_server_id: AtomicU64::new(1),
            closing: AtomicBool::new(false),
        });
        log::debug!("session {id}: started (peer uid {:?})", peer.uid);
        std::thread::scope(|s| {
            s.spawn(move || write_loop(writer, rx));
            session.read_loop(reader);
            session.shut_down();
        });
        log::debug!("session {id}: ended");
    }

    // ----------------------------------------------------------------- output

    pub fn send(&self, line: String) {
        // Fails only when the writer is gone (peer closed): nothing left to tell it.
        let _ = self.out.send(Out::Line(line));
    }

    /// Sends an advisory line (a progress notification) only if the outbox has room: a client
    /// that stops reading must never hold up the thread that sends a plan's commands (and so
    /// hold its device's lane). A notification that does not fit is dropped.
    pub fn send_advisory(&self, line: String) {
        if let Err(mpsc::TrySendError::Full(_)) = self.out.try_send(Out::Line(line)) {
            log::debug!(
                "session {}: the client is not reading; a progress notification was dropped",
                self.id
            );
        }
    }

    pub(crate) fn respond(&self, id: &Id, outcome: Result<Value, RpcError>) {
        match outcome {
            Ok(result) => {
                self.send(jsonrpc::result_line(id, &result));
                // Freeing a large answer (`list_devices` of a big house) takes as long as
                // writing it: after it went out, not before.
                drop(result);
            }
            Err(e) => self.send(jsonrpc::error_line(Some(id), &e)),
        }
    }

    // ----------------------------------------------------------------- input

    fn read_loop<R: Read>(self: &Arc<Self>, reader: R) {
        let mut lines = LineReader::new(reader, MAX_LINE);
        loop {
            match lines.next_frame() {
                Frame::Eof => return,
                Frame::TooLong => self.send(jsonrpc::error_line(
                    None,
                    &RpcError::new(
                        INVALID_REQUEST,
                        format!("Invalid Request: message longer than {MAX_LINE} bytes; discarded"),
                    ),
                )),
                Frame::Line(bytes) => {
                    if bytes.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match jsonrpc::decode(&bytes) {
                        Ok(Incoming::Request { id, method, params }) => {
                            self.on_request(id, &method, params)
                        }
                        Ok(Incoming::Notification { method, params }) => {
                            self.on_notification(&method, params.as_ref())
                        }
                        Ok(Incoming::Response { id, outcome }) => self.on_response(&id, outcome),
                        Err(rejected) => {
                            self.send(jsonrpc::error_line(rejected.id.as_ref(), &rejected.error))
                        }
                    }
                }
            }
        }
    }

    fn on_request(self: &Arc<Self>, id: Id, method: &str, params: Option<Value>) {
        if !KNOWN.contains(&method) {
            return self.respond(&id, Err(RpcError::method_not_found(method)));
        }
        let params = match params {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => {
                return self.respond(
                    &id,
                    Err(RpcError::invalid_params("params must be an object")),
                );
            }
        };
        let modern = params
            .get("_meta")
            .is_some_and(|m| m.get(META_PROTOCOL_VERSION).is_some());
        if modern && method != "initialize" {
            self.stateless_request(id, method, params)
        } else {
            self.handshake_request(id, method, params)
        }
    }

    fn on_notification(&self, method: &str, params: Option<&Value>) {
        match method {
            "notifications/initialized" => {
                let mut life = lock(&self.life);
                if life.phase == Phase::AwaitingInitialized {
                    life.phase = Phase::Ready;
                }
            }
            "notifications/cancelled" => {
                let Some(id) = params
                    .and_then(|p| p.get("requestId"))
                    .and_then(Id::from_value)
                else {
                    return;
                };
                self.cancel_call(&id);
            }
            other => log::debug!("session {}: ignored notification {other:?}", self.id),
        }
    }

    fn on_response(&self, id: &Id, outcome: Result<Value, RpcError>) {
        let Id::Str(key) = id else {
            log::debug!("session {}: response to unknown id {id}", self.id);
            return;
        };
        match lock(&self.waiters).remove(key) {
            Some(w) => {
                let _ = w.tx.send(Wake::Reply(outcome));
            }
            None => log::debug!("session {}: late or unknown response {id}", self.id),
        }
    }

    // ----------------------------------------------------------------- calls

    // ----------------------------------------------------------------- end

    fn shut_down(&self) {
        self.closing.store(true, Ordering::SeqCst);
        for w in lock(&self.waiters).values() {
            let _ = w.tx.send(Wake::CallCancelled);
        }
        let deadline = Instant::now() + self.shared.config.eof_grace;
        let mut calls = lock(&self.calls);
        while !calls.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                log::info!(
                    "session {}: input closed; {} call(s) still running are abandoned",
                    self.id,
                    calls.len()
                );
                break;
            }
            calls = self
                .calls_done
                .wait_timeout(calls, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        drop(calls);
        let _ = self.out.send(Out::Stop);
    }
}

fn write_loop<W: Write>(mut writer: W, rx: Receiver<Out>) {
    for msg in rx {
        let Out::Line(line) = msg else { return };
        let written = writer
            .write_all(line.as_bytes())
            .and_then(|()| writer.write_all(b"\n"))
            .and_then(|()| writer.flush());
        if let Err(e) = written {
            log::debug!("session output closed: {e}");
            return;
        }
    }
}
