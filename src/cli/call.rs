//! `loxwarden call TOOL [JSON]`: one `tools/call` from the shell, through the same MCP
//! session, checks and audit log as an AI's call.
//!
//! Why through MCP and not a side door: a command typed at the shell must meet exactly the
//! guard an AI meets, and leave the same audit record. The client declares no elicitation
//! capability, so an action that needs a person's consent is refused with the message saying
//! how to do it (there is no way to consent from here; rule 4).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// How long one call may take before `call` gives up (a volume ramp or a slow Miniserver).
pub const CALL_WITHIN: Duration = Duration::from_secs(120);

/// The arguments text as a JSON object, or a usage error naming the problem.
pub fn parse_arguments(text: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(Error::Usage(format!(
            "the arguments must be a JSON object like '{{\"room\":\"Kitchen\"}}', not {other}"
        ))),
        Err(e) => Err(Error::Usage(format!("the arguments are not JSON: {e}"))),
    }
}

/// Runs one MCP session over `reader`/`writer`: initialize, one `tools/call`, print the
/// result. Exit 0 when the tool succeeded, 1 when it returned `isError` or the server refused.
pub fn run<R: Read, W: Write>(
    reader: R,
    mut writer: W,
    tool: &str,
    arguments: Map<String, Value>,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let mut lines = BufReader::new(reader);
    let mut send = |v: Value| {
        writer
            .write_all(format!("{v}\n").as_bytes())
            .and_then(|()| writer.flush())
            .map_err(|e| Error::io("cannot write to the MCP session", e))
    };
    send(json!({
        "jsonrpc": "2.0", "id": "init", "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "loxwarden call", "version": env!("CARGO_PKG_VERSION")},
        },
    }))?;
    let init = response(&mut lines, "init")?;
    if let Some(e) = init.get("error") {
        return Err(Error::Failed(format!(
            "the server refused the session: {}",
            message(e)
        )));
    }
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
    send(json!({
        "jsonrpc": "2.0", "id": "call", "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }))?;
    let reply = response(&mut lines, "call")?;
    if let Some(e) = reply.get("error") {
        return Err(Error::Failed(format!("{tool}: {}", message(e))));
    }
    let result = &reply["result"];
    let mut text: Vec<&str> = result["content"]
        .as_array()
        .map(|c| c.iter().filter_map(|x| x["text"].as_str()).collect())
        .unwrap_or_default();
    // The content's second block is the structured content serialized; it is printed below,
    // pretty, so a person reads it once.
    if result.get("structuredContent").is_some() {
        text.truncate(1);
    }
    let is_error = result["isError"] == Value::Bool(true);
    let mut body = String::new();
    for t in text {
        body.push_str(t);
        body.push('\n');
    }
    if let Some(s) = result.get("structuredContent") {
        body.push_str(&serde_json::to_string_pretty(s).unwrap_or_default());
        body.push('\n');
    }
    out.write_all(body.as_bytes())
        .map_err(|e| Error::io("cannot write the answer", e))?;
    Ok(if is_error {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn message(e: &Value) -> String {
    e["message"].as_str().unwrap_or("unknown error").to_owned()
}

/// Reads messages until the response to `id` (or an error without id, which is how the
/// daemon refuses a connection). Notifications are logged to stderr.
fn response<R: BufRead>(lines: &mut R, id: &str) -> Result<Value> {
    loop {
        let mut line = String::new();
        let n = lines
            .read_line(&mut line)
            .map_err(|e| Error::io("cannot read from the MCP session", e))?;
        if n == 0 {
            return Err(Error::Failed(
                "the MCP session closed before the answer".into(),
            ));
        }
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            log::warn!("not JSON from the server: {}", line.trim_end());
            continue;
        };
        match msg.get("id") {
            Some(Value::String(s)) if s == id => return Ok(msg),
            Some(Value::Null) if msg.get("error").is_some() => return Ok(msg),
            _ => log::info!("{}", line.trim_end()),
        }
    }
}
