//! The records the log holds, one JSON object per line: a decision (what was asked, the verdict,
//! the consent) and an outcome (each command's LL answer and the state read back). The field
//! names are the log's format; `loxwarden audit` and the restart repair read them back.

use super::*;

/// A device as the audit names it: canonical id and `Room/Name`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceRef {
    pub id: String,
    pub name: String,
}

/// A consent request and how it ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// The constraint that asked for it (`SC-5`, …).
    pub rule: String,
    /// The question exactly as shown.
    pub message: String,
    /// `accepted`, `declined`, `cancelled`, `timed_out`, `unsupported`, `fatigue`, …
    pub outcome: String,
}

/// The record written when a tool call is decided, before anything is sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decided {
    pub time: String,
    pub audit_id: String,
    pub session: u64,
    /// `clientInfo` as the client stated it (untrusted).
    pub client: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_uid: Option<u32>,
    pub tool: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceRef>,
    /// The parsed intent (`Intent::to_json`), or the raw refusal context when parsing failed.
    pub intent: Value,
    /// `allow` (the plan will be sent) or `refuse`.
    pub verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentRecord>,
    /// The commands about to be sent, as plain `jdev/sps/io/…` paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<String>,
}

/// The Miniserver's answer to one command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub command: String,
    /// LL code, when an answer arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A state read back after the command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadBack {
    pub device: String,
    pub state: String,
    pub value: Value,
    /// Age of the value when read, in milliseconds.
    pub age_ms: u64,
}

/// The record written after the plan ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub time: String,
    pub audit_id: String,
    /// True only when every command got LL code 200.
    pub ok: bool,
    pub results: Vec<StepResult>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_back: Vec<ReadBack>,
    pub latency_ms: u64,
    /// Written at the next start for a call a stopped run left open
    /// ([`AuditLog::close_interrupted`]): what the Miniserver answered is not known.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

/// One line of the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    Decided(Box<Decided>),
    Outcome(Outcome),
}

impl Record {
    pub(super) fn time(&self) -> &str {
        match self {
            Record::Decided(d) => &d.time,
            Record::Outcome(o) => &o.time,
        }
    }
}
