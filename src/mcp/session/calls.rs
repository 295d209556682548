//! The calls in flight on one session: admitted under a cap, cancellable by the client, each
//! finished exactly once; and who is asking (`SessionInfo`) for the audit log.

use super::*;

impl Session {
    /// A `tools/call` refused before it was even looked at still leaves a record.
    pub(super) fn audit_refused_call(
        &self,
        method: &str,
        params: &Map<String, Value>,
        error: &RpcError,
    ) {
        if method == "tools/call" {
            let tool = params.get("name").and_then(Value::as_str).unwrap_or("");
            self.shared
                .host
                .rejected(&self.info(None), tool, &error.message);
        }
    }

    /// Marks a call cancelled and wakes it if it waits for the human.
    pub(super) fn cancel_call(&self, id: &Id) {
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
}
