//! The reason an `emergency_stop` call gives. The stop is never refused for how it was asked
//! so this reads whatever came and keeps it printable and short for the audit log.

use super::*;

/// The reason an `emergency_stop` call gives, whatever its arguments (R-11: the stop is never
/// refused for how it was asked). A string `reason` is kept (sanitised); anything else (a
/// mistyped reason, an argument the tool does not take) is noted as not understood, so the
/// latch and the audit record show exactly what the caller sent. `None`: no arguments at all.
pub fn emergency_stop_reason(args: &Map<String, Value>) -> Option<String> {
    let reason = args
        .get("reason")
        .and_then(Value::as_str)
        .map(|r| sanitise_reason(r).trim_end().to_owned());
    let odd: Map<String, Value> = args
        .iter()
        .filter(|(k, v)| !(k.as_str() == "reason" && v.is_string()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if odd.is_empty() {
        return reason;
    }
    let odd = sanitise_reason(&Value::Object(odd).to_string());
    // Bounded as a plain reason is (200 characters).
    Some(sanitise_reason(&match reason {
        Some(r) => format!("{r} (arguments not understood: {odd})"),
        None => format!("no reason given (arguments not understood: {odd})"),
    }))
}

/// Sanitises the emergency-stop reason for the audit: printable, at most 200 characters.
pub(super) fn sanitise_reason(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect()
}
