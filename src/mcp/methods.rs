//! The results of the simple methods, built as values: `initialize`, `server/discover`,
//! `tools/list` (with its cursor), tool results and the MRTR `input_required` answer.
//!
//! Why separate from the session: these are pure functions of the catalogue and the request,
//! easy to test and to read next to the spec; the session only decides *when* to call them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::elicit::{CONFIRM, form_params};
use super::jsonrpc::{INTERNAL_ERROR, RpcError};
use super::server::ServerConfig;
use super::tool::{ElicitRequest, ToolDef, ToolOutput};
use super::versions::{META_SERVER_INFO, STATELESS};

/// RFC 5424 levels accepted by `logging/setLevel`.
pub const LOG_LEVELS: &[&str] = &[
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

pub fn server_info(config: &ServerConfig) -> Value {
    json!({"name": config.name, "title": "loxwarden (Loxone MCP gateway)", "version": config.version})
}

pub fn initialize_result(config: &ServerConfig, version: &str, instructions: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}, "logging": {}},
        "serverInfo": server_info(config),
        "instructions": instructions,
    })
}

pub fn discover_result(config: &ServerConfig, instructions: &str) -> Value {
    stateless(
        config,
        json!({
            "supportedVersions": STATELESS,
            "capabilities": {"tools": {"listChanged": false}},
            "instructions": instructions,
            "ttlMs": 0,
            "cacheScope": "private",
        }),
    )
}

/// Adds what every stateless-era result carries: `resultType` (default `complete`) and
/// `_meta["io.modelcontextprotocol/serverInfo"]`.
pub fn stateless(config: &ServerConfig, mut result: Value) -> Value {
    if let Some(m) = result.as_object_mut() {
        m.entry("resultType").or_insert_with(|| "complete".into());
        let meta = m
            .entry("_meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(meta) = meta.as_object_mut() {
            meta.insert(META_SERVER_INFO.into(), server_info(config));
        }
    }
    result
}

/// A tool definition as `tools/list` shows it. Fails on a schema that is not a JSON object
/// with `"type":"object"` (the catalogue's tests keep that from happening).
pub fn tool_json(def: &ToolDef) -> Result<Value, RpcError> {
    let schema = |which: &str, text: &str| -> Result<Value, RpcError> {
        match serde_json::from_str::<Value>(text) {
            Ok(v) if v.get("type").and_then(Value::as_str) == Some("object") => Ok(v),
            _ => Err(RpcError::new(
                INTERNAL_ERROR,
                format!("tool {} has an invalid {which}", def.name),
            )),
        }
    };
    Ok(json!({
        "name": def.name,
        "title": def.title,
        "description": def.description,
        "inputSchema": schema("inputSchema", def.input_schema)?,
        "outputSchema": schema("outputSchema", def.output_schema)?,
        "annotations": annotations(def.annotations),
    }))
}

/// The hints that say something: the specification's defaults (`readOnlyHint` false,
/// `idempotentHint` false, `openWorldHint` true) are left out, and so are `destructiveHint`
/// and `idempotentHint` of a read-only tool (meaningful only when `readOnlyHint` is false).
/// A client reads the same hints either way; the catalogue, which every session pays for in
/// the model's context, is smaller. `destructiveHint` of an actuator is always stated, true
/// or false: that is the hint a client should never have to infer.
fn annotations(a: super::tool::Annotations) -> Value {
    let mut m = Map::new();
    if a.read_only {
        m.insert("readOnlyHint".into(), true.into());
    } else {
        m.insert("destructiveHint".into(), a.destructive.into());
        if a.idempotent {
            m.insert("idempotentHint".into(), true.into());
        }
    }
    if !a.open_world {
        m.insert("openWorldHint".into(), false.into());
    }
    Value::Object(m)
}

/// One `tools/list` page. `cursor` is what the client sent (if anything).
pub fn tools_page(
    tools: &[ToolDef],
    cursor: Option<&Value>,
    page_size: usize,
) -> Result<Value, RpcError> {
    let start = match cursor {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => decode_cursor(c)
            .filter(|n| *n > 0 && *n < tools.len())
            .ok_or_else(|| RpcError::invalid_params("Invalid cursor"))?,
        Some(_) => return Err(RpcError::invalid_params("Invalid cursor: not a string")),
    };
    let end = start.saturating_add(page_size.max(1)).min(tools.len());
    let list = tools[start..end]
        .iter()
        .map(tool_json)
        .collect::<Result<Vec<_>, _>>()?;
    let mut result = json!({ "tools": list });
    if end < tools.len()
        && let Some(m) = result.as_object_mut()
    {
        m.insert("nextCursor".into(), encode_cursor(end).into());
    }
    Ok(result)
}

fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("tools:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    if cursor.len() > 64 {
        return None;
    }
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    text.strip_prefix("tools:")?.parse().ok()
}

/// A `CallToolResult`: the content, the structured content and `isError`. Takes the output
/// by value: a large answer (`list_devices` of a big house) is moved, never copied.
///
/// The content is the one-sentence summary, then the structured content serialized as JSON in
/// a second text block, as the MCP specification asks of a tool with structured output: many
/// clients forward only `content` to the model, and that model must still see every device,
/// state, code and refusal reason, not just the summary.
pub fn call_result(out: ToolOutput) -> Value {
    let mut m = Map::new();
    let mut content = vec![json!({"type": "text", "text": out.text})];
    if !out.structured.is_null() {
        let serialized = serde_json::to_string(&out.structured)
            .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialize the answer: {e}\"}}"));
        content.push(json!({"type": "text", "text": serialized}));
    }
    m.insert("content".into(), Value::Array(content));
    if !out.structured.is_null() {
        m.insert("structuredContent".into(), out.structured);
    }
    m.insert("isError".into(), out.is_error.into());
    Value::Object(m)
}

/// The MRTR answer to a first round: one form-mode elicitation keyed `confirm`.
pub fn input_required(config: &ServerConfig, question: &ElicitRequest, state: String) -> Value {
    stateless(
        config,
        json!({
            "resultType": "input_required",
            "inputRequests": {CONFIRM: {"method": "elicitation/create", "params": form_params(question, true)}},
            "requestState": state,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::tool::Annotations;

    const fn def(name: &'static str) -> ToolDef {
        ToolDef {
            name,
            title: "T",
            description: "D",
            input_schema: r#"{"type":"object"}"#,
            output_schema: r#"{"type":"object"}"#,
            annotations: Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: false,
            },
        }
    }

    const FIVE: &[ToolDef] = &[def("a"), def("b"), def("c"), def("d"), def("e")];

    fn names(page: &Value) -> Vec<String> {
        page["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn pages_walk_the_catalogue_in_order_and_end_without_a_cursor() {
        let mut seen = Vec::new();
        let mut cursor: Option<Value> = None;
        for _ in 0..10 {
            let page = tools_page(FIVE, cursor.as_ref(), 2).unwrap();
            seen.extend(names(&page));
            cursor = page.get("nextCursor").cloned();
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(seen, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn a_bad_cursor_is_invalid_params() {
        for bad in [
            json!("nonsense"),
            json!(7),
            json!(encode_cursor(0)),
            json!(encode_cursor(5)),
            json!(encode_cursor(usize::MAX)),
        ] {
            let e = tools_page(FIVE, Some(&bad), 2).unwrap_err();
            assert_eq!(e.code, super::super::jsonrpc::INVALID_PARAMS, "{bad}");
        }
    }

    #[test]
    fn a_result_carries_its_structured_content_serialized_in_its_text_content() {
        let structured = json!({"message": "m", "devices": [{"name": "Lamp", "code": 200}]});
        let r = call_result(ToolOutput::ok(structured.clone(), "1 device(s)."));
        assert_eq!(r["content"][0]["text"], "1 device(s).");
        let text = r["content"][1]["text"].as_str().unwrap();
        assert_eq!(serde_json::from_str::<Value>(text).unwrap(), structured);
        assert_eq!(r["structuredContent"], structured);
        // A result without structured content has only its sentence.
        let r = call_result(ToolOutput::error(Value::Null, "no"));
        assert_eq!(r["content"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn annotations_leave_out_only_what_the_specification_defaults_to() {
        let hints = |read_only, destructive, idempotent, open_world| {
            annotations(Annotations {
                read_only,
                destructive,
                idempotent,
                open_world,
            })
        };
        assert_eq!(
            hints(true, false, true, false),
            json!({"readOnlyHint": true, "openWorldHint": false})
        );
        // An actuator that may hurt someone says so, even though it is the default.
        assert_eq!(
            hints(false, true, false, true),
            json!({"destructiveHint": true})
        );
        assert_eq!(
            hints(false, false, true, true),
            json!({"destructiveHint": false, "idempotentHint": true})
        );
    }

    #[test]
    fn a_tool_with_a_non_object_schema_is_refused() {
        let mut d = def("x");
        d.input_schema = r#"{"type":"string"}"#;
        assert!(tool_json(&d).is_err());
        d.input_schema = "not json";
        assert!(tool_json(&d).is_err());
    }

    #[test]
    fn stateless_results_carry_result_type_and_server_info() {
        let c = ServerConfig::default();
        let r = stateless(&c, json!({"tools": []}));
        assert_eq!(r["resultType"], "complete");
        assert_eq!(r["_meta"][META_SERVER_INFO]["name"], "loxwarden");
        let q = ElicitRequest {
            message: "m".into(),
            title: "t".into(),
            binding: String::new(),
        };
        let r = input_required(&c, &q, "v1.x.y".into());
        assert_eq!(r["resultType"], "input_required");
        assert_eq!(
            r["inputRequests"]["confirm"]["method"],
            "elicitation/create"
        );
        assert_eq!(r["inputRequests"]["confirm"]["params"]["mode"], "form");
    }
}
