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

    fn handshake_request(self: &Arc<Self>, id: Id, method: &str, params: Map<String, Value>) {
        let config = &self.shared.config;
        let phase = lock(&self.life).phase;
        let outcome = match method {
            "ping" => Ok(json!({})),
            "initialize" => self.initialize(&params),
            // A probe without `_meta`: answer as a stateless server would.
            "server/discover" => Ok(methods::discover_result(
                config,
                self.shared.host.instructions(),
            )),
            _ if phase == Phase::AwaitingInit => {
                let e = RpcError::invalid_params(format!(
                    "Not initialized: send initialize first (or a 2026-07-28 request with \
                     _meta[\"{META_PROTOCOL_VERSION}\"]) before {method}"
                ));
                self.audit_refused_call(method, &params, &e);
                Err(e)
            }
            "tools/list" => methods::tools_page(
                self.shared.host.tools(),
                params.get("cursor"),
                config.page_size,
            ),
            "logging/setLevel" => self.set_level(&params),
            "tools/call" => {
                let version = lock(&self.life).version.clone();
                return self.start_call(id, params, None, version);
            }
            _ => Err(RpcError::method_not_found(method)),
        };
        self.respond(&id, outcome);
    }

    fn initialize(&self, params: &Map<String, Value>) -> Result<Value, RpcError> {
        let mut life = lock(&self.life);
        if life.phase != Phase::AwaitingInit {
            return Err(RpcError::new(
                INVALID_REQUEST,
                "Invalid Request: the session is already initialized",
            ));
        }
        let Some(requested) = params.get("protocolVersion").and_then(Value::as_str) else {
            return Err(
                RpcError::invalid_params("initialize needs a string protocolVersion")
                    .with_data(json!({"supported": versions::HANDSHAKE})),
            );
        };
        let capabilities = match params.get("capabilities") {
            None => Value::Object(Map::new()),
            Some(c @ Value::Object(_)) => c.clone(),
            Some(_) => {
                return Err(RpcError::invalid_params(
                    "initialize: capabilities must be an object",
                ));
            }
        };
        let client = params.get("clientInfo");
        if client.is_some_and(|c| !c.is_object()) {
            return Err(RpcError::invalid_params(
                "initialize: clientInfo must be an object",
            ));
        }
        let text = |k: &str| {
            client
                .and_then(|c| c.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .chars()
                .take(100)
                .collect::<String>()
        };
        let version = versions::negotiate(requested);
        life.phase = Phase::AwaitingInitialized;
        life.version = version.to_owned();
        life.form = client_has_form(&capabilities);
        life.client_name = text("name");
        life.client_version = text("version");
        log::info!(
            "session {}: initialize from {:?} {:?}, protocol {version} (asked {requested:?}), \
             elicitation form: {}",
            self.id,
            life.client_name,
            life.client_version,
            life.form
        );
        Ok(methods::initialize_result(
            &self.shared.config,
            version,
            self.shared.host.instructions(),
        ))
    }

    fn set_level(&self, params: &Map<String, Value>) -> Result<Value, RpcError> {
        match params.get("level").and_then(Value::as_str) {
            Some(level) if methods::LOG_LEVELS.contains(&level) => {
                lock(&self.life).log_level = Some(level.to_owned());
                Ok(json!({}))
            }
            _ => Err(RpcError::invalid_params(format!(
                "level must be one of {}",
                methods::LOG_LEVELS.join(", ")
            ))),
        }
    }

    fn stateless_request(self: &Arc<Self>, id: Id, method: &str, params: Map<String, Value>) {
        let config = &self.shared.config;
        if !matches!(method, "server/discover" | "tools/list" | "tools/call") {
            // `ping` and `logging/setLevel` do not exist in 2026-07-28.
            return self.respond(
                &id,
                Err(RpcError::new(
                    jsonrpc::METHOD_NOT_FOUND,
                    format!("Method not found: {method} (not part of 2026-07-28)"),
                )),
            );
        }
        let modern = match read_meta(&params) {
            Ok(m) => m,
            Err(e) => {
                self.audit_refused_call(method, &params, &e);
                return self.respond(&id, Err(e));
            }
        };
        let outcome = match method {
            "server/discover" => Ok(methods::discover_result(
                config,
                self.shared.host.instructions(),
            )),
            "tools/list" => methods::tools_page(
                self.shared.host.tools(),
                params.get("cursor"),
                config.page_size,
            )
            .map(|page| {
                let mut page = page;
                if let Some(m) = page.as_object_mut() {
                    m.insert("ttlMs".into(), 0.into());
                    m.insert("cacheScope".into(), "private".into());
                }
                methods::stateless(config, page)
            }),
            _ => return self.start_call(id, params, Some(modern), String::new()),
        };
        self.respond(&id, outcome);
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

    /// A `tools/call` refused before it was even looked at still leaves a record.
    fn audit_refused_call(&self, method: &str, params: &Map<String, Value>, error: &RpcError) {
        if method == "tools/call" {
            let tool = params.get("name").and_then(Value::as_str).unwrap_or("");
            self.shared
                .host
                .rejected(&self.info(None), tool, &error.message);
        }
    }

    /// Marks a call cancelled and wakes it if it waits for the human.
    fn cancel_call(&self, id: &Id) {
        let Some(call) = lock(&self.calls).get(id).cloned() else {
            return;
        };
        call.cancelled.store(true, Ordering::SeqCst);
        for w in lock(&self.waiters).values().filter(|w| w.call == *id) {
            let _ = w.tx.send(Wake::CallCancelled);
        }
        log::info!("session {}: call {id} cancelled by the client", self.id);
    }

    pub fn is_cancelled(&self, call: &CallState) -> bool {
        call.cancelled.load(Ordering::SeqCst) || self.closing.load(Ordering::SeqCst)
    }

    /// Admits a call (unique id, room in flight) or says why not. An `uncapped` call (the
    /// emergency stop, R-11) is admitted however many calls of the session are in flight.
    pub fn admit(&self, id: &Id, uncapped: bool) -> Result<Arc<CallState>, RpcError> {
        let mut calls = lock(&self.calls);
        if self.closing.load(Ordering::SeqCst) {
            return Err(RpcError::new(
                jsonrpc::TOO_MANY_IN_FLIGHT,
                "The session is closing",
            ));
        }
        if calls.contains_key(id) {
            return Err(RpcError::new(
                INVALID_REQUEST,
                format!("Invalid Request: id {id} is already used by a request in flight"),
            ));
        }
        let max = self.shared.config.max_in_flight;
        if calls.len() >= max && !uncapped {
            return Err(RpcError::new(
                jsonrpc::TOO_MANY_IN_FLIGHT,
                format!("Too many tool calls in flight ({max}); wait for one to finish"),
            ));
        }
        let call = Arc::new(CallState {
            id: id.clone(),
            cancelled: AtomicBool::new(false),
        });
        calls.insert(id.clone(), call.clone());
        Ok(call)
    }

    /// Removes a finished call and sends its answer unless the client cancelled it. The answer
    /// is queued under the same lock that removes the call, so a client reusing the id right
    /// after reading the answer never meets a "duplicate id", and the EOF grace never stops
    /// the writer between the two.
    pub fn finish(&self, call: &CallState, outcome: Result<Value, RpcError>) {
        let mut calls = lock(&self.calls);
        if call.cancelled.load(Ordering::SeqCst) {
            log::debug!(
                "session {}: call {} cancelled; no response",
                self.id,
                call.id
            );
        } else {
            self.respond(&call.id, outcome);
        }
        calls.remove(&call.id);
        self.calls_done.notify_all();
    }

    /// A snapshot of who is calling (per request in the stateless era).
    pub fn info(&self, modern: Option<&Modern>) -> SessionInfo {
        let life = lock(&self.life);
        let (name, version) = match modern {
            Some(m) => (m.client_name.clone(), m.client_version.clone()),
            None => (life.client_name.clone(), life.client_version.clone()),
        };
        SessionInfo {
            id: self.id,
            client_name: name,
            client_version: version,
            peer_uid: self.peer.uid,
            read_only: self.peer.read_only,
        }
    }

    /// Whom an MRTR ticket is bound to.
    pub fn principal(&self) -> String {
        match self.peer.uid {
            Some(uid) => format!("uid:{uid}"),
            None => format!("session:{}", self.id),
        }
    }

    /// Whether the initialized client declared form-mode elicitation.
    pub fn can_elicit(&self) -> bool {
        let life = lock(&self.life);
        life.phase == Phase::Ready && life.form
    }

    /// Handshake era: sends `elicitation/create` and waits for the answer, the timeout, or the
    /// call's cancellation. The reader keeps reading meanwhile.
    pub fn elicit_blocking(&self, call: &CallState, request: &ElicitRequest) -> ElicitOutcome {
        let (ready, form, with_mode) = {
            let life = lock(&self.life);
            (
                life.phase == Phase::Ready,
                life.form,
                life.version != WITHOUT_ELICITATION_MODE,
            )
        };
        if !ready || !form {
            return ElicitOutcome::Unsupported;
        }
        let n = self.next_server_id.fetch_add(1, Ordering::Relaxed);
        let key = format!("srv-{n}");
        let server_id = Id::Str(key.clone());
        let (tx, rx) = mpsc::channel();
        lock(&self.waiters).insert(
            key.clone(),
            Waiter {
                call: call.id.clone(),
                tx,
            },
        );
        // Checked after registering, so a cancel racing with us is never missed.
        if self.is_cancelled(call) {
            lock(&self.waiters).remove(&key);
            return ElicitOutcome::CallCancelled;
        }
        self.send(jsonrpc::request_line(
            &server_id,
            "elicitation/create",
            form_params(request, with_mode),
        ));
        let started = Instant::now();
        let wake = self.wait_answer(&rx, started + self.shared.config.consent_timeout);
        lock(&self.waiters).remove(&key);
        let outcome = match wake {
            None => {
                self.cancel_own(&server_id, "loxwarden is stopping");
                ElicitOutcome::Withdrawn
            }
            Some(Ok(Wake::Reply(Ok(result)))) => interpret(&result),
            Some(Ok(Wake::Reply(Err(e)))) => {
                ElicitOutcome::ErrorReply(format!("{} (code {})", e.message, e.code))
            }
            Some(Ok(Wake::CallCancelled) | Err(RecvTimeoutError::Disconnected)) => {
                self.cancel_own(&server_id, "the tool call was cancelled");
                ElicitOutcome::CallCancelled
            }
            Some(Err(RecvTimeoutError::Timeout)) => {
                self.cancel_own(&server_id, "confirmation timed out");
                ElicitOutcome::TimedOut
            }
        };
        log::info!(
            "session {}: consent {key} for call {}: {outcome:?} after {} ms",
            self.id,
            call.id,
            started.elapsed().as_millis()
        );
        outcome
    }

    /// The answer to a question, waited for until `deadline` in slices, so that a host that is
    /// stopping ([`ToolHost::stopping`]) ends the wait within one slice; `None` then.
    fn wait_answer(
        &self,
        rx: &mpsc::Receiver<Wake>,
        deadline: Instant,
    ) -> Option<Result<Wake, RecvTimeoutError>> {
        loop {
            if self.shared.host.stopping() {
                return None;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.min(STOP_SLICE)) {
                Err(RecvTimeoutError::Timeout) if left > STOP_SLICE => {}
                other => return Some(other),
            }
        }
    }

    /// Withdraws one of our own requests.
    fn cancel_own(&self, server_id: &Id, reason: &str) {
        if !self.closing.load(Ordering::SeqCst) {
            self.send(jsonrpc::notification_line(
                "notifications/cancelled",
                json!({"requestId": server_id.to_value(), "reason": reason}),
            ));
        }
    }

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

/// Validates the stateless era's per-request `_meta`.
fn read_meta(params: &Map<String, Value>) -> Result<Modern, RpcError> {
    let meta = params.get("_meta").and_then(Value::as_object);
    let version = meta.and_then(|m| m.get(META_PROTOCOL_VERSION));
    let Some(version) = version.and_then(Value::as_str) else {
        return Err(RpcError::invalid_params(format!(
            "_meta[\"{META_PROTOCOL_VERSION}\"] must be a string"
        )));
    };
    if !STATELESS.contains(&version) {
        return Err(
            RpcError::new(UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version")
                .with_data(json!({"supported": STATELESS, "requested": version})),
        );
    }
    let Some(capabilities) = meta
        .and_then(|m| m.get(META_CLIENT_CAPABILITIES))
        .filter(|c| c.is_object())
    else {
        return Err(RpcError::invalid_params(format!(
            "_meta[\"{META_CLIENT_CAPABILITIES}\"] is required and must be an object"
        )));
    };
    let info = meta.and_then(|m| m.get(META_CLIENT_INFO));
    let text = |k: &str| {
        info.and_then(|i| i.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .chars()
            .take(100)
            .collect::<String>()
    };
    Ok(Modern {
        capabilities: capabilities.clone(),
        client_name: text("name"),
        client_version: text("version"),
    })
}

/// The `-32021` error for a consent the client cannot ask for.
pub(crate) fn missing_elicitation() -> RpcError {
    RpcError::new(
        MISSING_REQUIRED_CLIENT_CAPABILITY,
        "This action needs a human to confirm it, and the request did not declare form-mode \
         elicitation",
    )
    .with_data(json!({"requiredCapabilities": {"elicitation": {"form": {}}}}))
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
