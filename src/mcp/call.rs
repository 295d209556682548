//! One `tools/call`: checked on the reader thread, run on a worker thread, answered once.
//!
//! Why here and not in the tools: the engine owns everything protocol-level about a call —
//! unknown tool and malformed params are `-32602` (and reported to the host so they are
//! audited), duplicate ids and floods are refused before a thread starts, a cancelled call
//! sends nothing, and in the stateless era the engine, not the tool, decides the shape of the
//! answer: `input_required` when the tool asked a question without an answer present,
//! `-32021` when the tool needed consent the request cannot give, else the tool's result.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::context::{HandshakeCtx, Progress, StatelessCtx};
use super::elicit::client_has_form;
use super::jsonrpc::{INTERNAL_ERROR, Id, RpcError};
use super::methods;
use super::mrtr::Binding;
use super::session::{CallState, Modern, Session, missing_elicitation};
use super::tool::{CallContext, CallError, SessionInfo, ToolCall};

enum Era {
    Handshake(String),
    Stateless {
        form: bool,
        request_state: Option<Value>,
        input_responses: Option<Value>,
    },
}

struct Job {
    call: Arc<CallState>,
    name: String,
    arguments: Map<String, Value>,
    progress: Option<Value>,
    info: SessionInfo,
    era: Era,
}

impl Session {
    /// Validates a `tools/call` and starts it on a worker thread (or answers the error).
    /// `modern` is set for a stateless-era request; `version` is the handshake version.
    pub(crate) fn start_call(
        self: &Arc<Self>,
        id: Id,
        params: Map<String, Value>,
        modern: Option<Modern>,
        version: String,
    ) {
        let info = self.info(modern.as_ref());
        let host = &self.shared.host;
        let reject = |tool: &str, message: String| {
            host.rejected(&info, tool, &message);
            log::info!("session {}: tools/call {id} rejected: {message}", self.id);
            self.respond(&id, Err(RpcError::invalid_params(message)));
        };
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return reject("", "tools/call needs a string 'name'".into());
        };
        if !host.tools().iter().any(|d| d.name == name) {
            return reject(name, format!("Unknown tool: {name}"));
        }
        let arguments = match params.get("arguments") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            // The stop is never refused; the tool notes what it did not understand.
            Some(other) if name == "emergency_stop" => {
                Map::from_iter([("arguments".to_owned(), other.clone())])
            }
            Some(_) => return reject(name, "arguments must be a JSON object".into()),
        };
        // The emergency stop is never held back by calls waiting for consent.
        let call = match self.admit(&id, name == "emergency_stop") {
            Ok(call) => call,
            Err(e) => {
                host.rejected(&info, name, &e.message);
                return self.respond(&id, Err(e));
            }
        };
        let progress = params
            .get("_meta")
            .and_then(|m| m.get("progressToken"))
            .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
            .cloned();
        let era = match modern {
            Some(m) => Era::Stateless {
                form: client_has_form(&m.capabilities),
                request_state: params.get("requestState").cloned(),
                input_responses: params.get("inputResponses").cloned(),
            },
            None => Era::Handshake(version),
        };
        let job = Job {
            call: call.clone(),
            name: name.to_owned(),
            arguments,
            progress,
            info,
            era,
        };
        let session = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name(format!("mcp-call-{}", self.id))
            .spawn(move || session.run_job(job));
        if let Err(e) = spawned {
            log::error!("session {}: cannot start a worker thread: {e}", self.id);
            self.finish(
                &call,
                Err(RpcError::new(
                    super::jsonrpc::TOO_MANY_IN_FLIGHT,
                    "Cannot start the call now; retry later",
                )),
            );
        }
    }

    fn run_job(self: Arc<Self>, job: Job) {
        let config = &self.shared.config;
        let progress = Progress::new(job.progress.clone());
        let outcome = match &job.era {
            Era::Handshake(version) => {
                let mut ctx =
                    HandshakeCtx::new(&self, &job.call, job.info.clone(), version, progress);
                self.run_tool(&job, &mut ctx)
            }
            Era::Stateless {
                form,
                request_state,
                input_responses,
            } => {
                let mut ctx = StatelessCtx::new(
                    &self,
                    &job.call,
                    job.info.clone(),
                    progress,
                    &job.name,
                    &job.arguments,
                    *form,
                    request_state.as_ref(),
                    input_responses.as_ref(),
                );
                let result = self.run_tool(&job, &mut ctx);
                if let Some(question) = ctx.pending.take() {
                    let principal = self.principal();
                    let binding = Binding {
                        tool: &job.name,
                        arguments: &job.arguments,
                        question: &question,
                        principal: &principal,
                    };
                    match self.shared.issue_state(&binding) {
                        Ok(state) => Ok(methods::input_required(config, &question, state)),
                        Err(e) => {
                            log::error!("no randomness for a requestState nonce: {e}");
                            Err(RpcError::new(INTERNAL_ERROR, "Internal error"))
                        }
                    }
                } else if ctx.unsupported {
                    Err(missing_elicitation())
                } else {
                    result.map(|r| methods::stateless(config, r))
                }
            }
        };
        self.finish(&job.call, outcome);
    }

    fn run_tool(&self, job: &Job, ctx: &mut dyn CallContext) -> Result<Value, RpcError> {
        let call = ToolCall {
            name: &job.name,
            arguments: &job.arguments,
        };
        let host = &self.shared.host;
        match catch_unwind(AssertUnwindSafe(|| host.call(call, ctx))) {
            Ok(Ok(out)) => Ok(methods::call_result(out)),
            Ok(Err(CallError::UnknownTool(t))) => {
                Err(RpcError::invalid_params(format!("Unknown tool: {t}")))
            }
            Ok(Err(CallError::InvalidParams(m))) => Err(RpcError::invalid_params(m)),
            Err(_) => {
                log::error!("session {}: tool {} panicked", self.id, job.name);
                Err(RpcError::new(INTERNAL_ERROR, "Internal error in the tool"))
            }
        }
    }
}
