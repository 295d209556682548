//! The consent form and how an answer is read, the same in both eras.
//!
//! Why so strict: `accept` proves only that the *client* said accept, and a form with a
//! pre-filled `true` turns one careless click into an unlock. So the form is one boolean named
//! `confirm`, required, with **no default**, and only `action == "accept"` with `content.confirm`
//! being exactly JSON `true` counts as [`ElicitOutcome::Accepted`]. Anything else — a missing or
//! non-boolean value, `"true"` as a string, an unknown action — is not consent.

use serde_json::{Value, json};

use super::tool::{ElicitOutcome, ElicitRequest};

/// The key of the single boolean field, and of the MRTR `inputRequests` entry.
pub const CONFIRM: &str = "confirm";

/// The flat form schema: one required boolean, no default.
pub fn requested_schema(title: &str) -> Value {
    json!({
        "type": "object",
        "properties": {CONFIRM: {"type": "boolean", "title": title}},
        "required": [CONFIRM],
    })
}

/// `elicitation/create` params. `with_mode` is false for 2025-06-18, which had no `mode` field.
pub fn form_params(request: &ElicitRequest, with_mode: bool) -> Value {
    let mut p = json!({
        "message": request.message,
        "requestedSchema": requested_schema(&request.title),
    });
    if with_mode && let Some(m) = p.as_object_mut() {
        m.insert("mode".into(), "form".into());
    }
    p
}

/// Reads an `ElicitResult`. Only an exact `accept` + `confirm: true` is consent.
pub fn interpret(result: &Value) -> ElicitOutcome {
    match result.get("action").and_then(Value::as_str) {
        Some("accept") => {
            if result.get("content").and_then(|c| c.get(CONFIRM)) == Some(&Value::Bool(true)) {
                ElicitOutcome::Accepted
            } else {
                ElicitOutcome::AcceptedWithoutConfirm
            }
        }
        Some("decline") => ElicitOutcome::Declined,
        Some("cancel") => ElicitOutcome::Cancelled,
        Some(other) => ElicitOutcome::ErrorReply(format!(
            "unknown elicitation action {:?}",
            truncate(other, 40)
        )),
        None => ElicitOutcome::ErrorReply("elicitation result without an action".into()),
    }
}

/// Whether client capabilities allow a form-mode elicitation: `"elicitation":{}` means form
/// (the 2025-06-18 shape), `{"form":{…}}` says so, `{"url":{}}` alone does not.
pub fn client_has_form(capabilities: &Value) -> bool {
    match capabilities.get("elicitation") {
        Some(Value::Object(e)) => e.is_empty() || e.get("form").is_some_and(Value::is_object),
        _ => false,
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_accept_with_confirm_exactly_true_is_consent() {
        let cases = [
            (
                json!({"action":"accept","content":{"confirm":true}}),
                ElicitOutcome::Accepted,
            ),
            (
                json!({"action":"accept","content":{"confirm":false}}),
                ElicitOutcome::AcceptedWithoutConfirm,
            ),
            (
                json!({"action":"accept","content":{"confirm":"true"}}),
                ElicitOutcome::AcceptedWithoutConfirm,
            ),
            (
                json!({"action":"accept","content":{"confirm":1}}),
                ElicitOutcome::AcceptedWithoutConfirm,
            ),
            (
                json!({"action":"accept"}),
                ElicitOutcome::AcceptedWithoutConfirm,
            ),
            (
                json!({"action":"decline","content":{"confirm":true}}),
                ElicitOutcome::Declined,
            ),
            (json!({"action":"cancel"}), ElicitOutcome::Cancelled),
        ];
        for (answer, expected) in cases {
            assert_eq!(interpret(&answer), expected, "{answer}");
        }
        assert!(matches!(
            interpret(&json!({"action":"ACCEPT","content":{"confirm":true}})),
            ElicitOutcome::ErrorReply(_)
        ));
        assert!(matches!(
            interpret(&json!("accept")),
            ElicitOutcome::ErrorReply(_)
        ));
    }

    #[test]
    fn an_unknown_action_is_named_in_the_error_cut_to_40_characters() {
        let ElicitOutcome::ErrorReply(e) = interpret(&json!({"action": "maybe"})) else {
            panic!("not an error")
        };
        assert_eq!(e, "unknown elicitation action \"maybe\"");
        let long = "y".repeat(100);
        let ElicitOutcome::ErrorReply(e) = interpret(&json!({"action": long})) else {
            panic!("not an error")
        };
        assert!(e.ends_with(&format!("\"{}\"", "y".repeat(40))), "{e}");
        assert!(!e.contains(&"y".repeat(41)), "{e}");
    }

    #[test]
    fn the_form_has_one_required_boolean_and_no_default() {
        let req = ElicitRequest {
            message: "Unlock Front door?".into(),
            title: "Unlock Front door".into(),
            binding: String::new(),
        };
        let p = form_params(&req, true);
        assert_eq!(p["mode"], "form");
        let schema = &p["requestedSchema"];
        assert_eq!(schema["required"], json!(["confirm"]));
        assert_eq!(schema["properties"].as_object().map(|o| o.len()), Some(1));
        assert_eq!(schema["properties"]["confirm"]["type"], "boolean");
        assert!(schema["properties"]["confirm"].get("default").is_none());
        assert!(form_params(&req, false).get("mode").is_none());
    }

    #[test]
    fn form_mode_is_declared_by_an_empty_object_or_a_form_key_only() {
        assert!(client_has_form(&json!({"elicitation":{}})));
        assert!(client_has_form(&json!({"elicitation":{"form":{}}})));
        assert!(client_has_form(
            &json!({"elicitation":{"form":{},"url":{}}})
        ));
        assert!(!client_has_form(&json!({"elicitation":{"url":{}}})));
        assert!(!client_has_form(&json!({"elicitation":true})));
        assert!(!client_has_form(&json!({})));
        assert!(!client_has_form(&json!(null)));
    }
}
