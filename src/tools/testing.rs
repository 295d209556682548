//! Tools that exist only for the test suite (`test-tools` cargo feature).
//!
//! Why they exist: the engine's consent machinery (elicitation round trips, MRTR, timeouts,
//! cancellation, progress, concurrency) has to be proven end to end with real clients before
//! any real actuator sits behind it. These tools act on nothing: `test_confirm` asks the human
//! and reports what came back, `test_sleep` waits (watching for cancellation).
//!
//! Why a feature and not a flag: a release build must not contain them at all. Only
//! `cargo test` enables `test-tools` (through the crate's dev-dependency on itself); no
//! environment variable or option can switch them on.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::mcp::tool::{
    Annotations, CallContext, CallError, ElicitOutcome, ElicitRequest, ToolCall, ToolDef,
    ToolOutput,
};

const TEST_ANNOTATIONS: Annotations = Annotations {
    read_only: true,
    destructive: false,
    idempotent: true,
    open_world: false,
};

pub const CONFIRM: ToolDef = ToolDef {
    name: "test_confirm",
    title: "Test: ask for confirmation",
    description: "TEST BUILD ONLY. Asks the person to confirm a harmless test action and \
                  reports the answer. Acts on nothing.",
    input_schema: r#"{"type":"object","properties":{},"additionalProperties":false}"#,
    output_schema: r#"{"type":"object","properties":{"outcome":{"type":"string"},"detail":{"type":"string"}},"required":["outcome"]}"#,
    annotations: TEST_ANNOTATIONS,
};

pub const SLEEP: ToolDef = ToolDef {
    name: "test_sleep",
    title: "Test: wait",
    description: "TEST BUILD ONLY. Waits `ms` milliseconds (at most 30000), reporting \
                  progress, and stops early when cancelled.",
    input_schema: r#"{"type":"object","properties":{"ms":{"type":"integer","minimum":0,"maximum":30000}},"required":["ms"],"additionalProperties":false}"#,
    output_schema: r#"{"type":"object","properties":{"slept_ms":{"type":"integer"},"cancelled":{"type":"boolean"}},"required":["slept_ms","cancelled"]}"#,
    annotations: TEST_ANNOTATIONS,
};

/// The question `test_confirm` asks (fixed text: never built from arguments).
pub const QUESTION: &str =
    "loxwarden test: confirm a harmless test action? Nothing will be actuated.";

pub fn call(call: ToolCall<'_>, ctx: &mut dyn CallContext) -> Result<ToolOutput, CallError> {
    match call.name {
        "test_confirm" => Ok(confirm(ctx)),
        "test_sleep" => Ok(sleep(call.arguments.get("ms"), ctx)),
        other => Err(CallError::UnknownTool(other.to_owned())),
    }
}

fn confirm(ctx: &mut dyn CallContext) -> ToolOutput {
    let outcome = ctx.elicit(&ElicitRequest {
        message: QUESTION.into(),
        title: "Confirm the test action".into(),
        binding: String::new(),
    });
    let (label, detail) = match &outcome {
        ElicitOutcome::Accepted => ("accepted", String::new()),
        ElicitOutcome::AcceptedWithoutConfirm => ("accepted_without_confirm", String::new()),
        ElicitOutcome::Declined => ("declined", String::new()),
        ElicitOutcome::Cancelled => ("cancelled", String::new()),
        ElicitOutcome::ErrorReply(e) => ("error_reply", e.clone()),
        ElicitOutcome::TimedOut => ("timed_out", String::new()),
        ElicitOutcome::CallCancelled => ("call_cancelled", String::new()),
        ElicitOutcome::Withdrawn => ("withdrawn", String::new()),
        ElicitOutcome::Unsupported => ("unsupported", String::new()),
        ElicitOutcome::Pending => ("pending", String::new()),
        ElicitOutcome::InvalidState(e) => ("invalid_state", e.clone()),
    };
    let text = if detail.is_empty() {
        format!("test_confirm: {label}")
    } else {
        format!("test_confirm: {label} ({detail})")
    };
    ToolOutput::ok(json!({"outcome": label, "detail": detail}), text)
}

fn sleep(ms: Option<&Value>, ctx: &mut dyn CallContext) -> ToolOutput {
    let Some(ms) = ms.and_then(Value::as_u64).filter(|ms| *ms <= 30_000) else {
        return ToolOutput::error(
            json!({"slept_ms": 0, "cancelled": false}),
            "test_sleep needs ms: an integer from 0 to 30000.",
        );
    };
    let total = Duration::from_millis(ms);
    let started = Instant::now();
    let mut reported = Duration::ZERO;
    while started.elapsed() < total && !ctx.is_cancelled() {
        let left = total.saturating_sub(started.elapsed());
        std::thread::sleep(left.min(Duration::from_millis(10)));
        // Progress by the clock, every 100 ms, however late the sleeps wake.
        let now = started.elapsed();
        if now.saturating_sub(reported) >= Duration::from_millis(100) && now < total {
            reported = now;
            ctx.progress(now.as_millis() as f64, Some(ms as f64), "sleeping");
        }
    }
    let slept = started.elapsed().as_millis() as u64;
    let cancelled = ctx.is_cancelled();
    ToolOutput::ok(
        json!({"slept_ms": slept, "cancelled": cancelled}),
        format!(
            "test_sleep: slept {slept} ms{}",
            if cancelled { " (cancelled)" } else { "" }
        ),
    )
}

/// Checks `v` against `schema` (type, enum, required, properties, additionalProperties,
/// items): the subset of JSON Schema the catalogue uses, enough to catch a result that drifts
/// from its tool's `outputSchema`. Shared by the unit tests and the integration tests; the
/// Python SDK client validates with a full validator in the interop tests.
pub fn conforms(schema: &Value, v: &Value) -> Result<(), String> {
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        });
        if !ok {
            return Err(format!("{v} is not {t}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        return Err(format!("{v} is not one of {e:?}"));
    }
    if let Some(o) = v.as_object() {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap_or_default();
            if !o.contains_key(r) {
                return Err(format!("missing {r}"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, val) in o {
            let sub = props
                .and_then(|p| p.get(k))
                .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
            if let Some(sub) = sub {
                conforms(sub, val).map_err(|e| format!("{k}: {e}"))?;
            }
        }
    }
    if let (Some(a), Some(items)) = (v.as_array(), schema.get("items")) {
        for (i, x) in a.iter().enumerate() {
            conforms(items, x).map_err(|e| format!("[{i}]: {e}"))?;
        }
    }
    Ok(())
}
