//! The audit record of one call and the result built from the same facts, so what the log says
//! and what the model is told cannot drift apart (R-14, SC-9).

mod caps;
mod limited;

use caps::{MAX_ARGUMENTS, MAX_REASON, cap, summary};

use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::audit::limit::{self, Admit};
use crate::audit::{
    self, AuditError, ConsentRecord, Decided, DeviceRef, Outcome, ReadBack, Record, StepResult,
};
use crate::dispatch::gateway::{Gateway, device_ref};
use crate::house::House;
use crate::intent::Intent;
use crate::mcp::tool::{ElicitOutcome, SessionInfo, ToolOutput};
use crate::safety::{Allowed, ConsentNeed, Refusal};
use crate::tools::read;
use crate::tools::result::{
    CommandOut, ConsentOut, ControlResult, DeviceOut, ReadBackOut, RefusedOut,
};

/// `clientInfo` as the client stated it (untrusted; for the audit only).
pub fn client(s: &SessionInfo) -> String {
    let clean = |t: &str| -> String { t.chars().filter(|c| !c.is_control()).take(80).collect() };
    format!("{} {}", clean(&s.client_name), clean(&s.client_version))
        .trim()
        .to_owned()
}

pub struct Rec<'a> {
    gw: &'a Gateway,
    session: &'a SessionInfo,
    tool: String,
    audit_id: String,
    started: Instant,
    intent: Value,
    action: String,
    device: Option<DeviceRef>,
    device_out: Option<DeviceOut>,
    consent: Option<(ConsentRecord, ConsentOut)>,
    notes: Vec<String>,
}

impl<'a> Rec<'a> {
    pub fn new(gw: &'a Gateway, session: &'a SessionInfo, tool: &str) -> Rec<'a> {
        let tool: String = tool.chars().filter(|c| !c.is_control()).take(128).collect();
        Rec {
            gw,
            session,
            intent: json!({ "tool": tool }),
            tool,
            audit_id: gw.audit().next_id(),
            started: Instant::now(),
            action: String::new(),
            device: None,
            device_out: None,
            consent: None,
            notes: Vec::new(),
        }
    }

    pub fn set_intent(&mut self, intent: &Intent, house: &House) {
        self.intent = intent.to_json(house);
        self.action = intent.action_text();
        if let Some(id) = intent.device() {
            self.device = Some(device_ref(house, id));
            self.device_out = Some(DeviceOut::of(house, id));
        }
    }

    fn is_read_tool(&self) -> bool {
        matches!(
            self.tool.as_str(),
            "get_system_status" | "list_rooms" | "list_devices" | "get_device" | "describe_scene"
        )
    }

    fn decided_record(
        &self,
        verdict: &str,
        rule: Option<&str>,
        reason: Option<String>,
        plan: Vec<String>,
    ) -> Record {
        Record::Decided(Box::new(Decided {
            time: audit::rfc3339(self.gw.clock().wall()),
            audit_id: self.audit_id.clone(),
            session: self.session.id,
            client: client(self.session),
            peer_uid: self.session.peer_uid,
            tool: self.tool.clone(),
            device: self.device.clone(),
            intent: self.intent.clone(),
            verdict: verdict.into(),
            rule: rule.map(str::to_owned),
            // Bounded: a reason may quote what a client sent (an unknown tool's name).
            reason: reason.map(|r| cap(&r, MAX_REASON)),
            consent: self.consent.as_ref().map(|(c, _)| c.clone()),
            plan,
        }))
    }

    fn base(&self, message: String) -> ControlResult {
        ControlResult {
            done: false,
            message,
            tool: self.tool.clone(),
            action: self.action.clone(),
            audit_id: self.audit_id.clone(),
            device: self.device_out.clone(),
            consent: self.consent.as_ref().map(|(_, o)| o.clone()),
            notes: self.notes.clone(),
            ..ControlResult::default()
        }
    }

    /// A refusal before anything was sent (step 1 or 5).
    pub fn refuse(&mut self, r: &Refusal) -> ToolOutput {
        self.write_refusal(r.rule, &r.reason);
        if self.is_read_tool() {
            return read::error_output(&self.tool, &format!("Refused. {r}"), &self.audit_id);
        }
        let message = format!("Refused, nothing was sent. {r}");
        let mut out = self.base(message);
        out.refused = Some(r.into());
        out.into_output(true)
    }

    /// Arguments that did not parse: recorded with the tool and a bounded copy of them.
    pub fn unparsed(&mut self, args: &Map<String, Value>, r: &Refusal) -> ToolOutput {
        let text = cap(&Value::Object(args.clone()).to_string(), MAX_ARGUMENTS);
        self.intent = json!({ "tool": self.tool, "arguments": text });
        self.refuse(r)
    }

    pub fn consent_refused(
        &mut self,
        need: &ConsentNeed,
        outcome: &str,
        r: &Refusal,
    ) -> ToolOutput {
        self.set_consent(need, outcome);
        self.refuse(r)
    }

    fn set_consent(&mut self, need: &ConsentNeed, outcome: &str) {
        self.consent = Some((
            ConsentRecord {
                rule: need.rule.into(),
                message: need.request.message.clone(),
                outcome: outcome.into(),
            },
            ConsentOut {
                rule: need.rule.into(),
                outcome: outcome.into(),
                question: Some(need.request.message.clone()),
            },
        ));
    }

    /// Anything but an explicit accept: nothing is sent, and the result says how the person
    /// can act instead (`tools::result::consent_outcome` has the isError policy).
    pub fn no_consent(
        &mut self,
        need: &ConsentNeed,
        o: &ElicitOutcome,
        intent: &Intent,
    ) -> ToolOutput {
        let what = match (&self.device_out, intent.device()) {
            (Some(d), Some(_)) => format!("{} '{}/{}'", self.action, d.room, d.name),
            _ => self.action.clone(),
        };
        let timeout = self.gw.config().consent.timeout_s;
        let (label, is_error, sentence) = crate::tools::result::consent_outcome(o, &what, timeout);
        self.set_consent(need, label);
        self.write_refusal(need.rule, &sentence);
        let mut out = self.base(sentence);
        if is_error {
            out.refused = Some(RefusedOut {
                rule: need.rule.into(),
                reason: format!("no consent ({label})"),
            });
        }
        out.into_output(is_error)
    }

    /// The Loxone app channel (`consent::app`) lets nothing go out now: the question was shown,
    /// is still waiting, expired, was declined, or another one is shown.
    pub fn app_not_now(
        &mut self,
        need: &ConsentNeed,
        label: &str,
        sentence: &str,
        is_error: bool,
    ) -> ToolOutput {
        self.set_consent(need, label);
        self.write_refusal(need.rule, sentence);
        let mut out = self.base(sentence.to_owned());
        if is_error {
            out.refused = Some(RefusedOut {
                rule: need.rule.into(),
                reason: format!("no consent ({label})"),
            });
        }
        out.into_output(is_error)
    }

    /// A press in the Loxone app approved this plan.
    pub fn consented_in_app(&mut self, need: &ConsentNeed) {
        self.set_consent(need, "app_approved");
    }

    pub fn consented(&mut self, need: &ConsentNeed) {
        self.set_consent(need, "accepted");
    }

    pub fn refuse_after_consent(&mut self, r: &Refusal) -> ToolOutput {
        self.notes
            .push("the person accepted, but the house changed before sending".into());
        self.refuse(r)
    }

    pub fn plan_changed(&mut self) -> ToolOutput {
        let rule = self
            .consent
            .as_ref()
            .map(|(c, _)| c.rule.clone())
            .unwrap_or_else(|| "SC-9".into());
        let reason = "the house changed while the person was asked, so the confirmed commands \
                      are no longer the ones that would be sent; ask again";
        self.write_refusal(&rule, reason);
        let mut out = self.base(format!("Refused, nothing was sent: {reason}."));
        out.refused = Some(RefusedOut {
            rule,
            reason: reason.into(),
        });
        out.into_output(true)
    }

    /// Step 7: the decision, flushed before the first command goes out.
    pub fn decided(&mut self, a: &Allowed) -> Result<(), AuditError> {
        let plan = a.plan.iter().map(|s| s.command.io_path()).collect();
        let rec = self.decided_record("allow", None, None, plan);
        self.gw.audit().write(&rec)
    }

    pub fn audit_failed(&mut self, e: &AuditError) -> ToolOutput {
        log::error!("R-14: {e}; the command was not sent");
        let r = Refusal::new(
            "R-14",
            format!("the audit log cannot be written ({e}), so the command was not sent"),
        );
        let mut out = self.base(format!("Refused, nothing was sent. {r}"));
        out.refused = Some((&r).into());
        out.into_output(true)
    }

    /// A read: the decision and its outcome in the log (reads are answered even when the log
    /// cannot be written: they change nothing, and `get_system_status` must stay available).
    pub fn read(&mut self, out: &ToolOutput) {
        let d = self.decided_record("read", None, None, Vec::new());
        let o = Record::Outcome(Outcome {
            time: audit::rfc3339(self.gw.clock().wall()),
            audit_id: self.audit_id.clone(),
            ok: !out.is_error,
            results: Vec::new(),
            read_back: Vec::new(),
            latency_ms: self.started.elapsed().as_millis() as u64,
            interrupted: false,
        });
        for r in [d, o] {
            if let Err(e) = self.gw.audit().write(&r) {
                log::error!("{e}");
            }
        }
    }

    /// Steps 10–11: the outcome record and the result.
    pub fn outcome(
        &mut self,
        a: &Allowed,
        commands: Vec<CommandOut>,
        read_back: Vec<ReadBackOut>,
    ) -> ToolOutput {
        let done = !commands.is_empty() && commands.iter().all(CommandOut::ok);
        let rec = Record::Outcome(Outcome {
            time: audit::rfc3339(self.gw.clock().wall()),
            audit_id: self.audit_id.clone(),
            ok: done,
            results: commands
                .iter()
                .map(|c| StepResult {
                    command: c.command.clone(),
                    code: c.code,
                    value: c.value.clone(),
                    error: c.error.clone(),
                })
                .collect(),
            read_back: read_back
                .iter()
                .map(|r| ReadBack {
                    device: r.device.clone(),
                    state: r.state.clone(),
                    value: r.value.clone(),
                    age_ms: r.age_ms.unwrap_or(0),
                })
                .collect(),
            latency_ms: self.started.elapsed().as_millis() as u64,
            interrupted: false,
        });
        let mut notes = a.notes.clone();
        if let Err(e) = self.gw.audit().write(&rec) {
            log::error!("{e}");
            notes.push(format!("R-14: the outcome could not be audited: {e}"));
        }
        let message = summary(&self.device_out, &self.action, done, &commands, &read_back);
        let mut out = self.base(message);
        out.done = done;
        out.notes.extend(notes);
        out.commands = commands;
        out.read_back = read_back;
        out.into_output(!done)
    }

    /// A call the engine rejected (unknown tool, malformed params); within the session's
    /// refusal budget like every refusal.
    pub fn rejected(&mut self, reason: &str) {
        let rec = self.decided_record(
            "rejected",
            Some("SC-10"),
            Some(reason.to_owned()),
            Vec::new(),
        );
        if let Err(e) = self.write_limited(&rec) {
            log::error!("{e}");
        }
    }
}
