//! The contract between the MCP engine and the tools behind it.
//!
//! Why a narrow trait: the engine knows JSON-RPC, eras, ids, cancellation and how to ask the
//! human; the tools know the house. The engine hands a tool its arguments and a
//! [`CallContext`]; the tool hands back a [`ToolOutput`]. Consent is asked *through* the context
//! ([`CallContext::elicit`]), which hides the difference between the handshake era (a blocking
//! `elicitation/create` round trip) and the stateless era (an MRTR `input_required` round with a
//! signed, single-use `requestState`). Only [`ElicitOutcome::Accepted`] may lead to actuation;
//! every other outcome, including [`ElicitOutcome::Pending`], means "send nothing".

use serde_json::{Map, Value};

/// MCP tool annotations: hints for clients, never trusted by us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Annotations {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

/// A tool's public definition. `input_schema` and `output_schema` are JSON texts (objects with
/// `"type":"object"`), kept as `&'static str` so a catalogue can be a `const` table; a unit test
/// under each catalogue parses them.
#[derive(Clone, Copy, Debug)]
pub struct ToolDef {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub input_schema: &'static str,
    pub output_schema: &'static str,
    pub annotations: Annotations,
}

/// Which protocol era a request arrived in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Era {
    /// `initialize` handshake; the negotiated version (`2025-11-25` or `2025-06-18`).
    Handshake(String),
    /// Stateless `2026-07-28`: per-request `_meta`, MRTR for input.
    Stateless,
}

/// Who is calling, as far as the gateway can tell.
#[derive(Clone, Debug, Default)]
pub struct SessionInfo {
    /// Unique within the process (daemon: across all sessions).
    pub id: u64,
    /// `clientInfo.name` / `version` as the client stated them (untrusted, for the audit only).
    pub client_name: String,
    pub client_version: String,
    /// The Unix uid of the peer (daemon socket, `SO_PEERCRED`); `None` on stdio.
    pub peer_uid: Option<u32>,
    /// The session may only read (a read-only profile).
    pub read_only: bool,
}

/// One `tools/call` as the tool sees it. `arguments` is always a JSON object.
#[derive(Clone, Copy, Debug)]
pub struct ToolCall<'a> {
    pub name: &'a str,
    pub arguments: &'a Map<String, Value>,
}

/// What a tool returns: `structuredContent` (an object matching the tool's `outputSchema`), a
/// short text mirror, and whether it is an error (`isError`: a refusal, a failed command, or
/// bad arguments the model can fix).
#[derive(Clone, Debug, PartialEq)]
pub struct ToolOutput {
    pub structured: Value,
    pub text: String,
    pub is_error: bool,
}

impl ToolOutput {
    pub fn ok(structured: Value, text: impl Into<String>) -> ToolOutput {
        ToolOutput {
            structured,
            text: text.into(),
            is_error: false,
        }
    }
    pub fn error(structured: Value, text: impl Into<String>) -> ToolOutput {
        ToolOutput {
            structured,
            text: text.into(),
            is_error: true,
        }
    }
}

/// A request for human confirmation: one boolean field, no default. `message` must be built
/// only from canonical names and live state, never from text the AI supplied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElicitRequest {
    pub message: String,
    /// Title of the boolean field, e.g. "Unlock Front door".
    pub title: String,
    /// What an answer is bound to in the stateless era's ticket: the facts of the question
    /// without the words that only tell time. Empty: the message and title themselves.
    pub binding: String,
}

/// What became of a consent request. Only `Accepted` permits the action.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum ElicitOutcome {
    /// `action == "accept"` and `content.confirm` is exactly JSON `true`.
    Accepted,
    /// `accept`, but the boolean was missing, `false` or not a boolean.
    AcceptedWithoutConfirm,
    Declined,
    Cancelled,
    /// The client answered the elicitation with a JSON-RPC error.
    ErrorReply(String),
    /// No answer within the consent timeout (the engine sent `notifications/cancelled`).
    TimedOut,
    /// The `tools/call` itself was cancelled while waiting.
    CallCancelled,
    /// The server withdrew the question (it is stopping: [`ToolHost::stopping`]).
    Withdrawn,
    /// The client did not declare the `elicitation` capability with form mode (or the
    /// session is not initialized yet).
    Unsupported,
    /// Stateless era, first round: the engine will answer `input_required`; do nothing now.
    Pending,
    /// Stateless era: the `requestState` was tampered with, expired, reused, or bound to
    /// another tool, arguments or question.
    InvalidState(String),
}

impl ElicitOutcome {
    pub fn is_accepted(&self) -> bool {
        matches!(self, ElicitOutcome::Accepted)
    }
}

/// What the engine offers a running tool call.
pub trait CallContext {
    fn session(&self) -> &SessionInfo;
    fn era(&self) -> &Era;
    /// True once the client cancelled this call (`notifications/cancelled`) or went away.
    fn is_cancelled(&self) -> bool;
    /// True when this call brings back a person's answer to a question asked earlier (a
    /// stateless-era retry with a `requestState`): that question is not a second one.
    fn answers_a_question(&self) -> bool {
        false
    }
    /// Whether the client declared form-mode elicitation (the handshake's capabilities, or the
    /// 2026-07-28 request's): which consent channel applies (`consent::channel`).
    fn can_elicit(&self) -> bool {
        false
    }
    /// Sends `notifications/progress` when the request carried a `progressToken`.
    fn progress(&self, progress: f64, total: Option<f64>, message: &str);
    /// Whether the request carried a `progressToken` (the client hears that the call is alive
    /// while it waits for a person in the Loxone app).
    fn has_progress_token(&self) -> bool {
        false
    }
    /// Asks the human to confirm. Blocks in the handshake era; in the stateless era returns
    /// the answer carried by a verified retry, or `Pending`.
    fn elicit(&mut self, request: &ElicitRequest) -> ElicitOutcome;
}

/// Protocol-level failures of a call (JSON-RPC `-32602`); everything else is a `ToolOutput`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    UnknownTool(String),
    InvalidParams(String),
}

/// The tools behind an MCP session.
pub trait ToolHost: Send + Sync {
    /// Every tool, in a stable order.
    fn tools(&self) -> &[ToolDef];
    /// Text for `InitializeResult.instructions`.
    fn instructions(&self) -> &str;
    /// Runs one call. The engine has already checked that the tool exists and that
    /// `arguments` is an object.
    fn call(&self, call: ToolCall<'_>, ctx: &mut dyn CallContext) -> Result<ToolOutput, CallError>;
    /// Records a `tools/call` the engine rejected before it reached [`ToolHost::call`]
    /// (unknown tool, malformed params), so that every call leaves an audit record.
    fn rejected(&self, _session: &SessionInfo, _tool: &str, _reason: &str) {}
    /// True once the host is stopping: the engine withdraws every open question
    /// ([`ElicitOutcome::Withdrawn`]) so those calls end, and are audited, before the process
    /// exits.
    fn stopping(&self) -> bool {
        false
    }
}
