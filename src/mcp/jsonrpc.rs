//! JSON-RPC 2.0 as MCP uses it: one message per line, classified once into a typed
//! [`Incoming`], and every outgoing line built here.
//!
//! Why a pure codec: this is where hostile input first meets the program, so it takes bytes and
//! returns values, never panics, and is what the fuzz test hammers. The rules that matter for
//! clients are all here: an error whose request id cannot be read (a parse error, an
//! unreadable or null id) carries **`"id": null`**, as JSON-RPC 2.0 requires (the Python SDK's
//! `JSONRPCError.id` is required and nullable, so a reply without the member fails its
//! validation), a batch (JSON array) is refused with `-32600` (batches existed only in
//! 2025-03-26), `id` must be a string or an integer, and a message with an `id` and a
//! `result`/`error` but no `method` is a response to one of *our* requests.

use serde_json::{Map, Value, json};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
/// 2026-07-28: the request needs a client capability it did not declare.
pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i64 = -32021;
/// 2026-07-28: the request's protocol version is not one we serve statelessly.
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
/// Ours, outside the JSON-RPC reserved range (-32768..-32000) as the spec asks: the session
/// already runs as many tool calls as it may; retry later.
pub const TOO_MANY_IN_FLIGHT: i64 = -31001;

/// A request id: a string or an integer (never `null`, never a fraction).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Id {
    Int(i64),
    /// Integers above `i64::MAX`.
    UInt(u64),
    Str(String),
}

impl Id {
    /// Reads an id (string or integer); `None` for anything else.
    pub fn from_value(v: &Value) -> Option<Id> {
        match v {
            Value::String(s) => Some(Id::Str(s.clone())),
            Value::Number(n) => n.as_i64().map(Id::Int).or_else(|| n.as_u64().map(Id::UInt)),
            _ => None,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Id::Int(i) => Value::from(*i),
            Id::UInt(u) => Value::from(*u),
            Id::Str(s) => Value::String(s.clone()),
        }
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Id::Int(i) => write!(f, "{i}"),
            Id::UInt(u) => write!(f, "{u}"),
            Id::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// A JSON-RPC error object.
#[derive(Clone, Debug, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }
    pub fn with_data(mut self, data: Value) -> RpcError {
        self.data = Some(data);
        self
    }
    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError::new(INVALID_PARAMS, message)
    }
    pub fn method_not_found(method: &str) -> RpcError {
        RpcError::new(METHOD_NOT_FOUND, format!("Method not found: {method}"))
    }

    fn to_value(&self) -> Value {
        let mut e = Map::new();
        e.insert("code".into(), self.code.into());
        e.insert("message".into(), self.message.clone().into());
        if let Some(d) = &self.data {
            e.insert("data".into(), d.clone());
        }
        Value::Object(e)
    }

    fn from_value(v: &Value) -> RpcError {
        RpcError {
            code: v
                .get("code")
                .and_then(Value::as_i64)
                .unwrap_or(INTERNAL_ERROR),
            message: v
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("(no message)")
                .to_owned(),
            data: v.get("data").cloned(),
        }
    }
}

/// One classified line from the peer.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming {
    Request {
        id: Id,
        method: String,
        params: Option<Value>,
    },
    Notification {
        method: String,
        params: Option<Value>,
    },
    /// A reply to a request *we* sent (e.g. `elicitation/create`).
    Response {
        id: Id,
        outcome: Result<Value, RpcError>,
    },
}

/// Why a line could not be used; `id` is set only when it could be read.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejected {
    pub id: Option<Id>,
    pub error: RpcError,
}

fn reject(id: Option<Id>, code: i64, message: &str) -> Rejected {
    Rejected {
        id,
        error: RpcError::new(code, message),
    }
}

/// Classifies one line (without its newline). Never panics; `serde_json` stops at a nesting
/// depth of 128, so deep nesting is a parse error rather than a stack overflow.
pub fn decode(line: &[u8]) -> Result<Incoming, Rejected> {
    let value: Value = serde_json::from_slice(line)
        .map_err(|e| reject(None, PARSE_ERROR, &format!("Parse error: {e}")))?;
    classify(value)
}

fn classify(value: Value) -> Result<Incoming, Rejected> {
    let mut obj = match value {
        Value::Object(o) => o,
        Value::Array(_) => {
            return Err(reject(
                None,
                INVALID_REQUEST,
                "Invalid Request: batches (JSON arrays) are not supported; send one message per line",
            ));
        }
        _ => {
            return Err(reject(
                None,
                INVALID_REQUEST,
                "Invalid Request: a message must be a JSON object",
            ));
        }
    };
    // The id first, so later errors can echo it when it is usable.
    let id = match obj.get("id") {
        None => None,
        Some(Value::Null) => {
            return Err(reject(
                None,
                INVALID_REQUEST,
                "Invalid Request: id must not be null",
            ));
        }
        Some(v) => match Id::from_value(v) {
            Some(id) => Some(id),
            None => {
                return Err(reject(
                    None,
                    INVALID_REQUEST,
                    "Invalid Request: id must be a string or an integer",
                ));
            }
        },
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(reject(
            id,
            INVALID_REQUEST,
            "Invalid Request: jsonrpc must be \"2.0\"",
        ));
    }
    // A message is a request, a notification or a response, never two at once: a line that
    // carries `method` beside `result`/`error`, or both `result` and `error`, is ambiguous and
    // acted on in neither reading (found by the hostile-input corpus, issue 9).
    // (`"error": null` counts as absent: some clients serialise every field.)
    let has_error = obj.get("error").is_some_and(|e| !e.is_null());
    let has_result = obj.contains_key("result");
    if (obj.contains_key("method") && (has_result || has_error)) || (has_result && has_error) {
        return Err(reject(
            id,
            INVALID_REQUEST,
            "Invalid Request: a message is a request or a response, not both",
        ));
    }
    let params = obj.remove("params");
    match obj.remove("method") {
        Some(Value::String(method)) => Ok(match id {
            Some(id) => Incoming::Request { id, method, params },
            None => Incoming::Notification { method, params },
        }),
        Some(_) => Err(reject(
            id,
            INVALID_REQUEST,
            "Invalid Request: method must be a string",
        )),
        None => {
            let Some(id) = id else {
                return Err(reject(
                    None,
                    INVALID_REQUEST,
                    "Invalid Request: missing method",
                ));
            };
            if let Some(result) = obj.remove("result") {
                Ok(Incoming::Response {
                    id,
                    outcome: Ok(result),
                })
            } else if let Some(error) = obj.get("error") {
                Ok(Incoming::Response {
                    id,
                    outcome: Err(RpcError::from_value(error)),
                })
            } else {
                Err(reject(
                    Some(id),
                    INVALID_REQUEST,
                    "Invalid Request: missing method",
                ))
            }
        }
    }
}

/// `{"jsonrpc":"2.0","id":…,"result":…}` as one compact line (no newline).
pub fn result_line(id: &Id, result: &Value) -> String {
    // Written around `result` (members in the order serde_json sorts them): `json!` would
    // first serialize `result` into a copy, and the caller may free it after sending.
    format!(
        r#"{{"id":{},"jsonrpc":"2.0","result":{result}}}"#,
        id.to_value()
    )
}

/// An error response; without an `id` member when the id could not be read.
/// An error response; `id` is `None` when the request's id could not be read, and the line
/// then says `"id": null` (JSON-RPC 2.0 §5).
pub fn error_line(id: Option<&Id>, error: &RpcError) -> String {
    let mut m = Map::new();
    m.insert("jsonrpc".into(), "2.0".into());
    m.insert("id".into(), id.map_or(Value::Null, Id::to_value));
    m.insert("error".into(), error.to_value());
    Value::Object(m).to_string()
}

pub fn request_line(id: &Id, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id.to_value(), "method": method, "params": params}).to_string()
}

pub fn notification_line(method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(line: &str) -> Rejected {
        decode(line.as_bytes()).expect_err(line)
    }

    #[test]
    fn a_parse_error_is_answered_with_id_null() {
        let r = rejected("{not json");
        assert_eq!(r.id, None);
        assert_eq!(r.error.code, PARSE_ERROR);
        let line = error_line(r.id.as_ref(), &r.error);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v.as_object().unwrap().get("id"),
            Some(&Value::Null),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn a_number_is_read_as_its_nearest_double_and_survives_re_encoding() {
        // Found by fuzzing (jsonrpc_line): without serde_json's `float_roundtrip`, the long
        // literal below was read one unit in the last place off, and its re-encoding read back
        // as another number, so a message changed by being passed on.
        for text in [
            "300000000000000000000002.00",
            "30000000000000000002.00",
            "21.499999999999999",
            "22.3",
            "0.1",
            "1.7976931348623157e308",
            "5e-324",
        ] {
            let line = format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"x":{text}}}}}"#
            );
            let Ok(Incoming::Request { id, method, params }) = decode(line.as_bytes()) else {
                panic!("{line}")
            };
            let params = params.unwrap_or(Value::Null);
            let x = params["x"].as_f64();
            assert_eq!(x, text.parse::<f64>().ok(), "{text}");
            let again = decode(request_line(&id, &method, params.clone()).as_bytes());
            let Ok(Incoming::Request { params: p2, .. }) = again else {
                panic!("{text}")
            };
            assert_eq!(p2, Some(params), "{text}");
        }
    }

    #[test]
    fn a_batch_is_an_invalid_request_without_id() {
        let r = rejected(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#);
        assert_eq!((r.id, r.error.code), (None, INVALID_REQUEST));
    }

    #[test]
    fn a_null_or_fractional_id_is_an_invalid_request_without_id() {
        for line in [
            r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#,
        ] {
            let r = rejected(line);
            assert_eq!((r.id, r.error.code), (None, INVALID_REQUEST), "{line}");
        }
    }

    #[test]
    fn a_missing_jsonrpc_or_method_is_an_invalid_request_that_echoes_a_usable_id() {
        let r = rejected(r#"{"id":7,"method":"ping"}"#);
        assert_eq!((r.id, r.error.code), (Some(Id::Int(7)), INVALID_REQUEST));
        let r = rejected(r#"{"jsonrpc":"2.0","id":"x"}"#);
        assert_eq!(
            (r.id, r.error.code),
            (Some(Id::Str("x".into())), INVALID_REQUEST)
        );
        let r = rejected(r#"{"jsonrpc":"2.0","id":3,"method":5}"#);
        assert_eq!(r.error.code, INVALID_REQUEST);
    }

    #[test]
    fn requests_notifications_and_responses_are_told_apart() {
        assert_eq!(
            decode(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            Ok(Incoming::Request {
                id: Id::Int(1),
                method: "ping".into(),
                params: None
            })
        );
        assert!(matches!(
            decode(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Ok(Incoming::Notification { .. })
        ));
        assert!(matches!(
            decode(br#"{"jsonrpc":"2.0","id":"srv-1","result":{"action":"accept"}}"#),
            Ok(Incoming::Response { outcome: Ok(_), .. })
        ));
        assert!(matches!(
            decode(br#"{"jsonrpc":"2.0","id":"srv-1","error":{"code":-32000,"message":"closed"}}"#),
            Ok(Incoming::Response {
                outcome: Err(RpcError { code: -32000, .. }),
                ..
            })
        ));
        assert_eq!(
            decode(br#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"}"#).map(
                |m| matches!(
                    m,
                    Incoming::Request {
                        id: Id::UInt(u64::MAX),
                        ..
                    }
                )
            ),
            Ok(true)
        );
    }

    #[test]
    fn a_message_that_is_both_request_and_response_is_an_invalid_request() {
        for line in [
            r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{},"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":"a","method":"ping","error":{"code":1,"message":"m"}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized","result":{}}"#,
            r#"{"jsonrpc":"2.0","id":"srv-1","result":{"action":"accept"},"error":{"code":1,"message":"m"}}"#,
        ] {
            let r = rejected(line);
            assert_eq!(r.error.code, INVALID_REQUEST, "{line}");
            assert!(r.error.message.contains("not both"), "{line}");
        }
        // A null `error` beside a result is no error.
        let ok =
            decode(br#"{"jsonrpc":"2.0","id":"srv-1","result":{"action":"decline"},"error":null}"#);
        assert!(
            matches!(ok, Ok(Incoming::Response { outcome: Ok(_), .. })),
            "{ok:?}"
        );
    }

    #[test]
    fn deep_nesting_and_invalid_utf8_are_parse_errors_not_crashes() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(rejected(&deep).error.code, PARSE_ERROR);
        let bad = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\xffing\"}";
        assert_eq!(decode(bad).unwrap_err().error.code, PARSE_ERROR);
    }
}
