//! The one line a record and a result share about what a call did, and the caps on what a
//! record copies from the caller (arguments and reasons are bounded: the log must not grow
//! with what an AI chooses to send).

use super::*;

/// Longest copy of a call's arguments in a record (bytes).
pub(super) const MAX_ARGUMENTS: usize = 500;

/// Longest refusal reason in a record (bytes).
pub(super) const MAX_REASON: usize = 1000;

/// `s` cut to at most `max` bytes on a character boundary, marked with `…` when cut.
pub(super) fn cap(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let cut = (0..=max)
        .rev()
        .find(|i| s.is_char_boundary(*i))
        .unwrap_or(0);
    format!("{}…", &s[..cut])
}

/// One line: what was done, the Miniserver's answer, and what the house shows now.
pub(super) fn summary(
    device: &Option<DeviceOut>,
    action: &str,
    done: bool,
    commands: &[CommandOut],
    read_back: &[ReadBackOut],
) -> String {
    let who = device
        .as_ref()
        .map(|d| format!("{}/{}", d.room, d.name))
        .unwrap_or_default();
    if !done {
        let failed = commands.iter().find(|c| !c.ok());
        let sent_ok = commands.iter().filter(|c| c.ok()).count();
        let why = match failed {
            Some(c) => match (c.code, &c.error) {
                (Some(code), _) => format!(
                    "the Miniserver answered LL {code} to {} (not carried out)",
                    c.command
                ),
                (None, Some(e)) => e.clone(),
                (None, None) => "no answer".into(),
            },
            None => "nothing to send".into(),
        };
        let partial = if sent_ok > 0 {
            format!(
                " {sent_ok} of {} command(s) were carried out before that.",
                commands.len()
            )
        } else {
            String::new()
        };
        return format!("{who}: {action} FAILED: {why}.{partial}");
    }
    let answers: Vec<String> = commands
        .iter()
        .map(|c| format!("LL {}", c.code.unwrap_or(0)))
        .collect();
    let mut s = format!(
        "{who}: {action}: the Miniserver answered {}",
        dedup(&answers)
    );
    let shown: Vec<String> = read_back
        .iter()
        .take(6)
        .map(|r| {
            let v = match &r.value {
                // On the tools' scale (`0 % closed`, `on`, `21.0 °C`) where that says more.
                Value::Number(_) if r.shows.is_some() => r.shows.clone().unwrap_or_default(),
                Value::Number(n) => short_number(n.as_f64().unwrap_or(f64::NAN)),
                Value::String(t) => format!("{:?}", t.chars().take(40).collect::<String>()),
                _ => "unknown".into(),
            };
            let status = if r.status == "pending" {
                format!("pending, {}", r.expected)
            } else {
                r.status.to_owned()
            };
            if r.device == who || read_back.len() == 1 {
                format!("{} = {v} ({status})", r.state)
            } else {
                format!("{} {} = {v} ({status})", r.device, r.state)
            }
        })
        .collect();
    if !shown.is_empty() {
        s.push_str("; now ");
        s.push_str(&shown.join(", "));
        if read_back.len() > shown.len() {
            s.push_str(&format!(" and {} more", read_back.len() - shown.len()));
        }
    }
    s.push('.');
    s
}

/// At most three decimals, no trailing zeros: `0.000542…` → `0.001`, `1.0` → `1`.
pub(super) fn short_number(v: f64) -> String {
    let t = format!("{v:.3}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t == "-0" { "0".into() } else { t.to_owned() }
}

pub(super) fn dedup(v: &[String]) -> String {
    match v {
        [] => "nothing".into(),
        [one] => one.clone(),
        many if many.iter().all(|x| *x == many[0]) => format!("{} to all {}", many[0], many.len()),
        many => many.join(", "),
    }
}
