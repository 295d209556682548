//! The two [`CallContext`]s a tool can get: one per protocol era.
//!
//! Why two: "ask the human" means a blocking server-to-client `elicitation/create` in the
//! handshake era, and an MRTR round (answer `input_required` now, read the answer from a signed
//! retry) in the stateless era. The tool sees one method, [`CallContext::elicit`], and one rule:
//! only `Accepted` permits actuation.

use std::cell::Cell;

use serde_json::{Map, Value, json};

use super::elicit::{CONFIRM, interpret};
use super::jsonrpc;
use super::mrtr::{Binding, StateError};
use super::session::{CallState, Session};
use super::tool::{CallContext, ElicitOutcome, ElicitRequest, Era, SessionInfo};

/// `notifications/progress` for a request that carried a `progressToken`; values only ever
/// increase (the spec's MUST), anything else is dropped.
pub(crate) struct Progress {
    token: Option<Value>,
    last: Cell<Option<f64>>,
}

impl Progress {
    pub fn new(token: Option<Value>) -> Progress {
        Progress {
            token,
            last: Cell::new(None),
        }
    }

    fn has_token(&self) -> bool {
        self.token.is_some()
    }

    fn emit(
        &self,
        session: &Session,
        call: &CallState,
        progress: f64,
        total: Option<f64>,
        message: &str,
    ) {
        let Some(token) = &self.token else { return };
        if !progress.is_finite()
            || self.last.get().is_some_and(|last| progress <= last)
            || session.is_cancelled(call)
        {
            return;
        }
        self.last.set(Some(progress));
        let mut params = json!({"progressToken": token, "progress": progress});
        if let Some(m) = params.as_object_mut() {
            if let Some(total) = total.filter(|t| t.is_finite()) {
                m.insert("total".into(), json!(total));
            }
            if !message.is_empty() {
                m.insert("message".into(), message.into());
            }
        }
        session.send_advisory(jsonrpc::notification_line("notifications/progress", params));
    }
}

pub(crate) struct HandshakeCtx<'a> {
    session: &'a Session,
    call: &'a CallState,
    info: SessionInfo,
    era: Era,
    progress: Progress,
}

impl<'a> HandshakeCtx<'a> {
    pub fn new(
        session: &'a Session,
        call: &'a CallState,
        info: SessionInfo,
        version: &str,
        progress: Progress,
    ) -> HandshakeCtx<'a> {
        HandshakeCtx {
            session,
            call,
            info,
            era: Era::Handshake(version.to_owned()),
            progress,
        }
    }
}

impl CallContext for HandshakeCtx<'_> {
    fn session(&self) -> &SessionInfo {
        &self.info
    }
    fn era(&self) -> &Era {
        &self.era
    }
    fn is_cancelled(&self) -> bool {
        self.session.is_cancelled(self.call)
    }
    fn progress(&self, progress: f64, total: Option<f64>, message: &str) {
        self.progress
            .emit(self.session, self.call, progress, total, message);
    }
    fn has_progress_token(&self) -> bool {
        self.progress.has_token()
    }
    fn can_elicit(&self) -> bool {
        self.session.can_elicit()
    }
    fn elicit(&mut self, request: &ElicitRequest) -> ElicitOutcome {
        self.session.elicit_blocking(self.call, request)
    }
}

pub(crate) struct StatelessCtx<'a> {
    session: &'a Session,
    call: &'a CallState,
    info: SessionInfo,
    era: Era,
    progress: Progress,
    tool: &'a str,
    arguments: &'a Map<String, Value>,
    /// The request declared form-mode elicitation.
    form: bool,
    request_state: Option<&'a Value>,
    input_responses: Option<&'a Value>,
    asked: bool,
    /// The question to send as `input_required` (the tool got `Pending`).
    pub pending: Option<ElicitRequest>,
    /// The tool needed consent the request cannot give (answered with `-32021`).
    pub unsupported: bool,
}

impl<'a> StatelessCtx<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        session: &'a Session,
        call: &'a CallState,
        info: SessionInfo,
        progress: Progress,
        tool: &'a str,
        arguments: &'a Map<String, Value>,
        form: bool,
        request_state: Option<&'a Value>,
        input_responses: Option<&'a Value>,
    ) -> StatelessCtx<'a> {
        StatelessCtx {
            session,
            call,
            info,
            era: Era::Stateless,
            progress,
            tool,
            arguments,
            form,
            request_state,
            input_responses,
            asked: false,
            pending: None,
            unsupported: false,
        }
    }

    /// A new round: ask (if the request can be asked) and tell the tool to do nothing now.
    fn ask(&mut self, request: &ElicitRequest) -> ElicitOutcome {
        if self.form {
            self.pending = Some(request.clone());
            ElicitOutcome::Pending
        } else {
            self.unsupported = true;
            ElicitOutcome::Unsupported
        }
    }

    fn answer(&mut self, request: &ElicitRequest) -> ElicitOutcome {
        let Some(state) = self.request_state else {
            if self.input_responses.is_some() {
                return ElicitOutcome::InvalidState(
                    "inputResponses came without a requestState".into(),
                );
            }
            return self.ask(request);
        };
        let Some(state) = state.as_str() else {
            return ElicitOutcome::InvalidState(StateError::Malformed.to_string());
        };
        let principal = self.session.principal();
        let binding = Binding {
            tool: self.tool,
            arguments: self.arguments,
            question: request,
            principal: &principal,
        };
        if let Err(e) = self.session.shared.redeem_state(state, &binding) {
            return ElicitOutcome::InvalidState(e.to_string());
        }
        match self.input_responses.and_then(|r| r.get(CONFIRM)) {
            Some(answer) => interpret(answer),
            // A valid ticket but no answer: ask again with a fresh ticket.
            None => self.ask(request),
        }
    }
}

impl CallContext for StatelessCtx<'_> {
    fn session(&self) -> &SessionInfo {
        &self.info
    }
    fn can_elicit(&self) -> bool {
        self.form
    }
    fn answers_a_question(&self) -> bool {
        // A retry, well-formed or not: it is judged by its ticket, not refused as a new question.
        self.request_state.is_some() || self.input_responses.is_some()
    }
    fn era(&self) -> &Era {
        &self.era
    }
    fn is_cancelled(&self) -> bool {
        self.session.is_cancelled(self.call)
    }
    fn progress(&self, progress: f64, total: Option<f64>, message: &str) {
        self.progress
            .emit(self.session, self.call, progress, total, message);
    }
    fn has_progress_token(&self) -> bool {
        self.progress.has_token()
    }
    fn elicit(&mut self, request: &ElicitRequest) -> ElicitOutcome {
        if std::mem::replace(&mut self.asked, true) {
            // The retry re-runs the tool from the start, so a second question could never be
            // answered together with the first.
            return ElicitOutcome::InvalidState(
                "only one confirmation per call is possible in 2026-07-28".into(),
            );
        }
        if self.is_cancelled() {
            return ElicitOutcome::CallCancelled;
        }
        let outcome = self.answer(request);
        log::info!(
            "session {}: consent (MRTR) for call {} to {}: {outcome:?}",
            self.session.id,
            self.call.id,
            self.tool
        );
        outcome
    }
}
