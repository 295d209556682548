//! `get_system_status`: what the gateway itself is and how it is doing.
//!
//! Why a tool and not only a resource: the model should be able to check, before it tries
//! anything, whether the gateway is up and which protocol this call used. It reads nothing
//! from the house, so it is safe in every state.
//!
//! Room for later issues (not faked here, simply absent until they exist): the Miniserver link
//! health (`health::LinkState` and since when), the structure file (loaded, last modified),
//! the emergency-stop latch and the night posture. Each becomes one more field in
//! `OUTPUT_SCHEMA` and in [`call`].

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::mcp::tool::{Annotations, CallContext, Era, ToolDef, ToolOutput};
use crate::mcp::versions;

pub const NAME: &str = "get_system_status";

const INPUT_SCHEMA: &str = r#"{"type":"object","properties":{},"additionalProperties":false}"#;

const OUTPUT_SCHEMA: &str = r#"{
  "type": "object",
  "properties": {
    "server": {
      "type": "object",
      "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
      "required": ["name", "version"]
    },
    "protocol": {
      "type": "object",
      "properties": {
        "this_call": {"type": "string"},
        "handshake": {"type": "array", "items": {"type": "string"}},
        "stateless": {"type": "array", "items": {"type": "string"}}
      },
      "required": ["this_call", "handshake", "stateless"]
    },
    "uptime_s": {"type": "integer", "minimum": 0}
  },
  "required": ["server", "protocol", "uptime_s"]
}"#;

pub const DEF: ToolDef = ToolDef {
    name: NAME,
    title: "System status",
    description: "Reports the loxwarden gateway's version, the MCP protocol versions it \
                  speaks and how long it has been running. Reads nothing from the house.",
    input_schema: INPUT_SCHEMA,
    output_schema: OUTPUT_SCHEMA,
    annotations: Annotations {
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
    },
};

pub fn call(
    arguments: &Map<String, Value>,
    ctx: &mut dyn CallContext,
    uptime: Duration,
) -> ToolOutput {
    if let Some(refusal) = super::no_arguments_expected(NAME, arguments) {
        return refusal;
    }
    let this_call = match ctx.era() {
        Era::Handshake(v) => v.clone(),
        Era::Stateless => versions::STATELESS[0].to_owned(),
    };
    let version = env!("CARGO_PKG_VERSION");
    let uptime_s = uptime.as_secs();
    let structured = json!({
        "server": {"name": "loxwarden", "version": version},
        "protocol": {
            "this_call": this_call,
            "handshake": versions::HANDSHAKE,
            "stateless": versions::STATELESS,
        },
        "uptime_s": uptime_s,
    });
    let text = format!(
        "loxwarden {version}, up {uptime_s} s, this call over MCP {this_call}. \
         Miniserver link, structure, emergency stop and posture are not reported by this build."
    );
    ToolOutput::ok(structured, text)
}
