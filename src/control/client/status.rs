//! `loxwarden status`: the daemon's own report when it answers, or what the files on disk say
//! when it does not (the latch, the token), rendered for a person with units.

use super::*;

/// `loxwarden status [--json]`.
pub fn status(paths: &Paths, json: bool, out: &mut dyn Write) -> Result<ExitCode> {
    let reply = ask(
        &crate::control::socket_path(paths),
        &Request::Status,
        QUERY_WITHIN,
    );
    let (status, running) = match reply {
        Ok((_, Reply::Status { status })) => (status, true),
        Ok((_, other)) => return Err(Error::Failed(format!("unexpected answer {other:?}"))),
        Err(Unreached::Absent(e)) => (offline_status(paths, "not running", &e), false),
        Err(Unreached::Silent(e)) => (offline_status(paths, "NOT ANSWERING", &e), false),
    };
    if json {
        w(
            out,
            &serde_json::to_string_pretty(&status).unwrap_or_default(),
        )?;
    } else {
        render(&status, out)?;
    }
    Ok(if running {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// What can be said without the daemon: that it is not running, and the latch file.
pub(super) fn offline_status(paths: &Paths, state: &str, why: &str) -> Value {
    let path = paths.state_dir.join(LATCH_FILE);
    let latch = match std::fs::metadata(&path) {
        Ok(_) => match Latch::in_dir(&paths.state_dir).current() {
            Some(l) => serde_json::to_value(l).unwrap_or(Value::Null),
            None => Value::Null,
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Value::Null,
        Err(e) => Value::String(format!("unknown: cannot read {}: {e}", path.display())),
    };
    serde_json::json!({
        "daemon": {"running": false, "state": state, "error": why},
        "estop_latch": latch,
    })
}

/// Human-readable status: the daemon, then every gateway field, then the sessions.
pub(super) fn render(status: &Value, out: &mut dyn Write) -> Result<()> {
    let daemon = &status["daemon"];
    if daemon["running"] == Value::Bool(false) {
        w(
            out,
            &format!(
                "daemon: {} ({})",
                daemon["state"].as_str().unwrap_or("not running"),
                daemon["error"].as_str().unwrap_or("")
            ),
        )?;
        // A daemon that is there but does not answer is hung: it needs a restart, not a start.
        let hint = if daemon["state"] == "NOT ANSWERING" {
            "  restart it: sudo systemctl restart loxwarden (it is running but hung)"
        } else {
            "  start it: sudo systemctl start loxwarden (or 'loxwarden daemon' in the foreground)"
        };
        w(out, hint)?;
        let latch = match &status["estop_latch"] {
            Value::Null => "not latched".to_owned(),
            Value::String(s) => s.clone(),
            l => describe_latch(l),
        };
        return w(out, &format!("emergency stop: {latch}"));
    }
    w(
        out,
        &format!(
            "daemon: running (pid {}, version {})",
            daemon["pid"],
            daemon["version"].as_str().unwrap_or("?")
        ),
    )?;
    if let Some(g) = status["gateway"].as_object() {
        // What a person checks first, first; then the rest as the gateway gave it.
        const FIRST: &[&str] = &["link", "emergency_stop", "estop", "posture", "alarms"];
        let mut keys: Vec<&String> = FIRST
            .iter()
            .filter_map(|k| g.get_key_value(*k).map(|(k, _)| k))
            .collect();
        keys.extend(g.keys().filter(|k| !FIRST.contains(&k.as_str())));
        for k in keys {
            let v = &g[k];
            let key = k.replace('_', " ");
            match v {
                Value::Object(o) if matches!(k.as_str(), "emergency_stop" | "estop") => {
                    let latched = o.get("latched").and_then(Value::as_bool).unwrap_or(true)
                        && (o.contains_key("reason") || o.contains_key("latched"));
                    let text = if latched && o.get("reason").is_some_and(|r| !r.is_null()) {
                        format!(
                            "LATCHED since {} by {}: {}",
                            o.get("since")
                                .and_then(Value::as_str)
                                .map(str::to_owned)
                                .unwrap_or_else(|| when(
                                    o.get("since_unix").and_then(Value::as_u64).unwrap_or(0)
                                )),
                            o.get("by").and_then(Value::as_str).unwrap_or("?"),
                            quote(o.get("reason").and_then(Value::as_str).unwrap_or(""))
                        )
                    } else {
                        "not latched".to_owned()
                    };
                    w(out, &format!("{key}: {text}"))?;
                }
                Value::Null if matches!(k.as_str(), "emergency_stop" | "estop") => {
                    w(out, &format!("{key}: not latched"))?;
                }
                Value::Object(o) => {
                    w(out, &format!("{key}:"))?;
                    for (k2, v2) in o {
                        let (k2, v2) = with_unit(k2, v2);
                        w(out, &format!("  {k2}: {v2}"))?;
                    }
                }
                other => {
                    let (key, v) = with_unit(k, other);
                    w(out, &format!("{key}: {v}"))?
                }
            }
        }
    }
    let sessions = daemon["sessions"].as_array().cloned().unwrap_or_default();
    w(out, &format!("sessions: {}", sessions.len()))?;
    for s in sessions {
        w(
            out,
            &format!(
                "  #{} uid {}{} since {}{}",
                s["connection"],
                s["uid"],
                s["user"]
                    .as_str()
                    .map(|u| format!(" ({u})"))
                    .unwrap_or_default(),
                when(s["since_unix"].as_u64().unwrap_or(0)),
                if s["read_only"] == Value::Bool(true) {
                    ", read-only"
                } else {
                    ""
                }
            ),
        )?;
    }
    Ok(())
}

/// A key and its value as a person reads them: `for_s: 35` is `for: 35 s`, `age_ms: 4` is
/// `age: 4 ms`; other keys with spaces for underscores.
pub(super) fn with_unit(key: &str, v: &Value) -> (String, String) {
    for (suffix, unit) in [("_s", "s"), ("_ms", "ms")] {
        if let Some(stem) = key.strip_suffix(suffix)
            && v.is_number()
        {
            return (stem.replace('_', " "), format!("{} {unit}", plain(v)));
        }
    }
    (key.replace('_', " "), plain(v))
}

/// A JSON value as a person reads it: strings bare, lists comma-separated, nothing as "-".
pub(super) fn plain(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) if s.is_empty() => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.is_empty() => "none".into(),
        Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

pub(super) fn describe_latch(l: &Value) -> String {
    format!(
        "LATCHED since {} by {}: {}",
        when(l["since_unix"].as_u64().unwrap_or(0)),
        l["by"].as_str().unwrap_or("?"),
        quote(l["reason"].as_str().unwrap_or(""))
    )
}

pub(super) fn when(unix: u64) -> String {
    crate::audit::rfc3339(UNIX_EPOCH + Duration::from_secs(unix))
}
