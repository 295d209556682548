//! What a control tool returns: the Miniserver's own answers, the states read back, the audit
//! id, and one plain sentence (SC-9: nothing is reported as done that the Miniserver did not
//! confirm). The shape is `defs::CONTROL_OUTPUT`; a test under it checks results against it.

use serde::Serialize;
use serde_json::Value;

use crate::house::{DevId, House};
use crate::mcp::tool::{ElicitOutcome, ToolOutput};
use crate::safety::Refusal;

#[derive(Clone, Debug, Default, Serialize)]
pub struct ControlResult {
    /// True only when every command of the plan was sent and answered LL 200.
    pub done: bool,
    pub message: String,
    pub tool: String,
    pub action: String,
    pub audit_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<RefusedOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentOut>,
    pub commands: Vec<CommandOut>,
    pub read_back: Vec<ReadBackOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DeviceOut {
    pub id: String,
    pub name: String,
    pub room: String,
    pub kind: String,
}

impl DeviceOut {
    pub fn of(house: &House, id: DevId) -> DeviceOut {
        let d = house.device(id);
        DeviceOut {
            id: d.addr.to_string(),
            name: d.name.clone(),
            room: d.room_name.clone(),
            kind: d.kind.as_str().into(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RefusedOut {
    pub rule: String,
    pub reason: String,
}

impl From<&Refusal> for RefusedOut {
    fn from(r: &Refusal) -> RefusedOut {
        RefusedOut {
            rule: r.rule.into(),
            reason: r.reason.clone(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ConsentOut {
    pub rule: String,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
}

/// One command of the plan and the Miniserver's answer.
#[derive(Clone, Debug, Serialize)]
pub struct CommandOut {
    /// `Room/Name` of the device it went to.
    pub device: String,
    /// The plain `jdev/sps/io/…` path (secured commands travel as `ios` with a fresh hash).
    pub command: String,
    pub sent: bool,
    pub code: Option<u16>,
    pub value: Option<String>,
    pub error: Option<String>,
}

impl CommandOut {
    pub fn ok(&self) -> bool {
        self.code == Some(200)
    }
}

/// A state read back after the command.
#[derive(Clone, Debug, Serialize)]
pub struct ReadBackOut {
    pub device: String,
    pub state: String,
    /// `confirmed` (the state shows the expected value), `pending` (a motor is on its way),
    /// `unconfirmed` (the state did not show it in time), `unknown` (no value).
    pub status: &'static str,
    /// What was expected, in human terms (`going down to 50 % closed`, `on`, `21.0 °C`).
    pub expected: String,
    pub value: Value,
    /// The value in human terms (`tools::human`), where that adds something.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shows: Option<String>,
    /// Age of the value in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_s: Option<u64>,
    /// The same age in milliseconds, for the audit record only.
    #[serde(skip)]
    pub age_ms: Option<u64>,
}

impl ControlResult {
    pub fn into_output(self, is_error: bool) -> ToolOutput {
        let text = self.message.clone();
        let structured = serde_json::to_value(&self).unwrap_or(Value::Null);
        ToolOutput {
            structured,
            text,
            is_error,
        }
    }
}

/// How a consent request ended, for the result: the outcome label, whether the call is an
/// error, and a sentence saying nothing was sent and what the person can do instead.
///
/// Policy: a person's own "no" (declined, dismissed) is an answer, not a failure, so it is not
/// `isError`; everything else (no answer, an error, a client that cannot ask, an answer that
/// did not confirm, fatigue) is `isError` so the model does not mistake it for a decision.
pub fn consent_outcome(
    outcome: &ElicitOutcome,
    what: &str,
    timeout_s: u64,
) -> (&'static str, bool, String) {
    let instead = format!(
        "Nothing was sent. The person can {what} in the Loxone app (or at the device) instead."
    );
    match outcome {
        ElicitOutcome::Accepted => ("accepted", false, String::new()),
        ElicitOutcome::Declined => ("declined", false, format!("The person declined. {instead}")),
        ElicitOutcome::Cancelled => (
            "cancelled",
            false,
            format!("The person dismissed the question. {instead}"),
        ),
        ElicitOutcome::AcceptedWithoutConfirm => (
            "accepted_without_confirm",
            true,
            format!("The answer did not confirm the action (the box was not ticked). {instead}"),
        ),
        ElicitOutcome::ErrorReply(e) => (
            "error",
            true,
            format!(
                "The client could not ask the person ({}). {instead}",
                crate::house::resolve::quote_untrusted(e)
            ),
        ),
        ElicitOutcome::TimedOut => (
            "timed_out",
            true,
            format!("Nobody answered within {timeout_s} s. {instead}"),
        ),
        ElicitOutcome::CallCancelled => (
            "call_cancelled",
            true,
            format!("The call was cancelled while the person was asked. {instead}"),
        ),
        ElicitOutcome::Withdrawn => (
            "withdrawn",
            true,
            format!("loxwarden is stopping, so the question was withdrawn. {instead}"),
        ),
        ElicitOutcome::Unsupported => (
            "unsupported",
            true,
            format!(
                "This needs a person's confirmation and this client cannot ask for it (no MCP \
                 elicitation). {instead}"
            ),
        ),
        ElicitOutcome::Pending => (
            "pending",
            false,
            "Waiting for the person's answer; nothing was sent yet.".into(),
        ),
        // The engine's own words (`mcp::mrtr::StateError`), not the client's: shown whole.
        ElicitOutcome::InvalidState(e) => (
            "invalid_state",
            true,
            format!("The confirmation could not be verified ({e}). {instead}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::tools::testing::conforms;

    #[test]
    fn a_full_control_result_conforms_to_the_output_schema() {
        let schema: Value = serde_json::from_str(super::super::defs::CONTROL_OUTPUT).unwrap();
        let r = ControlResult {
            done: true,
            message: "ok".into(),
            tool: "control_light".into(),
            action: "on".into(),
            audit_id: "x-1".into(),
            device: Some(DeviceOut {
                id: "a".into(),
                name: "b".into(),
                room: "c".into(),
                kind: "light".into(),
            }),
            refused: Some(RefusedOut {
                rule: "SC-2".into(),
                reason: "r".into(),
            }),
            consent: Some(ConsentOut {
                rule: "UCA-D1".into(),
                outcome: "accepted".into(),
                question: Some("q".into()),
            }),
            commands: vec![CommandOut {
                device: "d".into(),
                command: "jdev/sps/io/x/on".into(),
                sent: true,
                code: Some(200),
                value: Some("1".into()),
                error: None,
            }],
            read_back: vec![ReadBackOut {
                device: "d".into(),
                state: "active".into(),
                status: "confirmed",
                expected: "1".into(),
                value: Value::from(1.0),
                shows: Some("on".into()),
                age_s: Some(0),
                age_ms: Some(3),
            }],
            notes: vec!["n".into()],
        };
        let out = r.into_output(false);
        conforms(&schema, &out.structured).unwrap();
        let empty = ControlResult::default().into_output(true);
        conforms(&schema, &empty.structured).unwrap();
    }

    #[test]
    fn a_refusal_by_the_person_is_not_an_error_but_everything_else_is() {
        for (o, err) in [
            (ElicitOutcome::Declined, false),
            (ElicitOutcome::Cancelled, false),
            (ElicitOutcome::TimedOut, true),
            (ElicitOutcome::Unsupported, true),
            (ElicitOutcome::AcceptedWithoutConfirm, true),
            (ElicitOutcome::ErrorReply("x".into()), true),
            (ElicitOutcome::InvalidState("x".into()), true),
            (ElicitOutcome::CallCancelled, true),
            (ElicitOutcome::Withdrawn, true),
        ] {
            let (_, is_error, sentence) = consent_outcome(&o, "unlock it", 60);
            assert_eq!(is_error, err, "{o:?}");
            assert!(sentence.contains("Nothing was sent"), "{o:?}: {sentence}");
            assert!(sentence.contains("Loxone app"), "{sentence}");
        }
    }
}
