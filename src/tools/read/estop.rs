//! `emergency_stop`'s result, one line per device with its own answer.

use super::*;

/// `emergency_stop`'s result: each device's own answer; `isError` if any did not confirm.
pub fn estop_output(r: &EstopReport) -> ToolOutput {
    let commands: Vec<Value> = r
        .results
        .iter()
        .map(|s| {
            json!({
                "device": if s.room.is_empty() { s.name.clone() } else { format!("{}/{}", s.room, s.name) },
                "command": s.command,
                "sent": s.code.is_some() || s.error.as_deref().is_some_and(|e| e.starts_with("the command may not")),
                "code": s.code,
                "value": s.value,
                "error": s.error,
            })
        })
        .collect();
    let ok = r.results.iter().filter(|s| s.ok()).count();
    let all = r.all_ok();
    let mut notes = Vec::new();
    if let Some(e) = &r.latch_error {
        notes.push(format!(
            "the latch could not be saved ({e}): this gateway stays stopped until it restarts"
        ));
    }
    if let Some(e) = &r.audit_error {
        notes.push(format!("R-14: {e}"));
    }
    notes.extend(r.skipped.iter().cloned());
    notes.extend(r.notes.iter().cloned());
    let mut message = if let Some(why) = &r.unavailable {
        format!(
            "Emergency stop latched, but NO device could be stopped: {why}. Stop the house \
             locally (the Loxone app or the devices themselves). Every other command is \
             refused until a person runs `loxwarden resume`."
        )
    } else if all {
        format!(
            "Emergency stop latched; {ok} device(s) stopped or paused, each confirmed by the \
             Miniserver (LL 200). Every other command is refused until a person runs \
             `loxwarden resume`."
        )
    } else if ok == r.results.len() {
        // Every command sent was confirmed; some motors could not be sent to at all.
        format!(
            "Emergency stop latched; {ok} device(s) stopped or paused, each confirmed by the \
             Miniserver (LL 200), but NOT every motor: stop the ones named below locally. \
             Every other command is refused until a person runs `loxwarden resume`."
        )
    } else {
        format!(
            "Emergency stop latched, but only {ok} of {} device(s) confirmed (LL 200); see \
             commands for each device's answer. Every other command is refused until a person \
             runs `loxwarden resume`.",
            r.results.len()
        )
    };
    // The text carries the whole answer: every device the stop went to, with its answer.
    if !r.results.is_empty() {
        let each: Vec<String> = r
            .results
            .iter()
            .map(|s| {
                let device = if s.room.is_empty() {
                    s.name.clone()
                } else {
                    format!("{}/{}", s.room, s.name)
                };
                match (s.code, &s.error) {
                    (Some(c), _) => format!("{device} (LL {c})"),
                    (None, Some(e)) => format!("{device} (not confirmed: {e})"),
                    (None, None) => format!("{device} (no answer)"),
                }
            })
            .collect();
        message.push_str(&format!(" Reached: {}.", each.join(", ")));
    }
    for n in &notes {
        message.push_str(&format!(" {n}."));
    }
    let v = json!({
        "done": all,
        "message": message,
        "audit_id": r.audit_id,
        "latched": {
            "since": crate::audit::rfc3339(r.latched.since()),
            "reason": r.latched.reason,
            "by": r.latched.by,
            "persisted": r.latch_persisted,
        },
        "commands": commands,
        "notes": notes,
    });
    ToolOutput {
        structured: v,
        text: message,
        is_error: !all,
    }
}
