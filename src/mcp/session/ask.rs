//! Asking the person through the client (SC-5): an `elicitation/create` request sent from a
//! tool call's thread, which waits for the answer, the call's cancellation or the session's
//! end, whichever comes first; a question withdrawn is cancelled at the client too.

use super::*;

/// The `-32021` error for a consent the client cannot ask for.
pub(crate) fn missing_elicitation() -> RpcError {
    RpcError::new(
        MISSING_REQUIRED_CLIENT_CAPABILITY,
        "This action needs a human to confirm it, and the request did not declare form-mode \
         elicitation",
    )
    .with_data(json!({"requiredCapabilities": {"elicitation": {"form": {}}}}))
}
impl Session {
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
    pub(super) fn wait_answer(
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
    pub(super) fn cancel_own(&self, server_id: &Id, reason: &str) {
        if !self.closing.load(Ordering::SeqCst) {
            self.send(jsonrpc::notification_line(
                "notifications/cancelled",
                json!({"requestId": server_id.to_value(), "reason": reason}),
            ));
        }
    }
}
