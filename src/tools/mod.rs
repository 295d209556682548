//! The tool catalogue: a `const` table of definitions (`defs`), and the [`ToolHost`] that hands
//! every call of a shipped tool to [`crate::dispatch`].
//!
//! Why a const table: the tools an AI can call are part of the safety case, so they are fixed
//! at compile time, listed in one place, and each schema is checked by the tests under the
//! table. `read` answers the read-only tools, `result` is the shape of every control result.
//!
//! Tools for the test suite live in `testing.rs`, compiled only with the `test-tools` cargo
//! feature (which only `cargo test` turns on); there is no run-time switch for them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::dispatch::gateway::Gateway;
use crate::mcp::tool::{
    CallContext, CallError, SessionInfo, ToolCall, ToolDef, ToolHost, ToolOutput,
};

pub mod defs;
pub mod human;
pub mod read;
pub mod result;
#[cfg(feature = "test-tools")]
pub mod testing;

/// Text for `InitializeResult.instructions`.
pub const INSTRUCTIONS: &str = "loxwarden is a safety gateway to a Loxone smart home. Call \
get_system_status first: commands are refused while the link to the Miniserver is not live or \
the emergency stop is latched. Use list_rooms and list_devices to find devices; name a device \
exactly as listed (its name, Room/Name or id): there is no fuzzy matching. Every command is \
checked against fixed safety limits; a refusal names the rule (e.g. SC-2) and why. Doors, the \
alarm, consent-band temperatures and volumes, and bulk scenes need the person's confirmation, \
which the gateway asks for itself; do not ask the person to type a confirmation. A result is \
done only when the Miniserver confirmed it; moving blinds report pending. emergency_stop is \
always allowed.";

/// Every tool of a release build, in `tools/list` order.
pub const RELEASE_TOOLS: &[ToolDef] = defs::RELEASE;

/// Every tool of this build.
#[cfg(not(feature = "test-tools"))]
pub const TOOLS: &[ToolDef] = RELEASE_TOOLS;
/// Every tool of this build: the release tools, then the test-only ones.
#[cfg(feature = "test-tools")]
pub const TOOLS: &[ToolDef] = &[
    defs::GET_SYSTEM_STATUS,
    defs::LIST_ROOMS,
    defs::LIST_DEVICES,
    defs::GET_DEVICE,
    defs::DESCRIBE_SCENE,
    defs::CONTROL_LIGHT,
    defs::CONTROL_BLIND,
    defs::SET_TEMPERATURE,
    defs::CONTROL_AUDIO,
    defs::CONTROL_CHARGER,
    defs::CONTROL_APPLIANCE,
    defs::EMERGENCY_STOP,
    defs::SET_ALARM,
    defs::CONTROL_ACCESS,
    defs::CONTROL_INTERCOM,
    defs::ACTIVATE_SCENE,
    testing::CONFIRM,
    testing::SLEEP,
];

/// The tools behind an MCP session, bound to one [`Gateway`].
pub struct Host {
    gw: Arc<Gateway>,
    /// Until this instant a tool call waits for a link that is not live yet (a process that
    /// has just started its link: `serve --standalone`, `call --standalone`).
    link_grace: Option<Instant>,
    started: Instant,
}

/// How long a just-started gateway's `get_system_status` waits for the link (a login takes
/// well under a second; the tests' line deadline is 10 s).
pub const STATUS_PATIENCE: Duration = Duration::from_secs(3);

impl Host {
    pub fn new(gw: Arc<Gateway>) -> Host {
        Host {
            gw,
            link_grace: None,
            started: Instant::now(),
        }
    }

    /// A host for a gateway whose link has just started: `initialize` and `tools/list` are
    /// answered at once, and until `grace` has passed a tool call waits for the link to come
    /// up, so that a client's first call finds the house live. `emergency_stop` never waits
    /// (it goes out without a live link); `get_system_status` waits at most
    /// [`STATUS_PATIENCE`], then reports the link as it is (a fresh session's first status
    /// would otherwise say "degraded" about a link that is a moment from live, and a hung
    /// Miniserver must not hold the status back).
    pub fn starting(gw: Arc<Gateway>, grace: Duration) -> Host {
        let started = Instant::now();
        Host {
            gw,
            link_grace: Some(started + grace),
            started,
        }
    }

    /// Waits (bounded by the grace period) for the link of a just-started gateway.
    fn wait_for_link(&self, tool: &str) {
        let Some(until) = self.link_grace else {
            return;
        };
        let until = match tool {
            "emergency_stop" => return,
            "get_system_status" => until.min(self.started + STATUS_PATIENCE),
            _ => until,
        };
        let now = Instant::now();
        if now < until {
            self.gw.link().wait_live(until - now);
        }
    }
}

impl ToolHost for Host {
    fn tools(&self) -> &[ToolDef] {
        TOOLS
    }

    fn instructions(&self) -> &str {
        INSTRUCTIONS
    }

    fn call(&self, call: ToolCall<'_>, ctx: &mut dyn CallContext) -> Result<ToolOutput, CallError> {
        log::info!(
            "session {}: tools/call {} {}",
            ctx.session().id,
            call.name,
            serde_json::Value::Object(call.arguments.clone())
        );
        #[cfg(feature = "test-tools")]
        if call.name.starts_with("test_") {
            return testing::call(call, ctx);
        }
        if !RELEASE_TOOLS.iter().any(|d| d.name == call.name) {
            return Err(CallError::UnknownTool(call.name.to_owned()));
        }
        self.wait_for_link(call.name);
        Ok(crate::dispatch::call(&self.gw, call, ctx))
    }

    fn rejected(&self, session: &SessionInfo, tool: &str, reason: &str) {
        log::warn!(
            "session {}: tools/call {tool:?} rejected: {reason}",
            session.id
        );
        crate::dispatch::rejected(&self.gw, session, tool, reason);
    }

    fn stopping(&self) -> bool {
        self.gw.shutdown().is_stopping()
    }
}

/// Tool names as the spec advises: 1–128 of `A-Z a-z 0-9 _ - .`.
pub fn valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// The test under the table: every entry is well formed (the engine also refuses to start
/// with a malformed one, but this catches it at `cargo test`).
#[cfg(test)]
mod catalogue_tests {
    use super::*;
    use serde_json::Value;

    fn object_schema(text: &str) -> Value {
        let v: Value = serde_json::from_str(text).expect("schema is JSON");
        assert!(v.is_object(), "{text}");
        assert_eq!(v["type"], "object", "{text}");
        v
    }

    #[test]
    fn every_catalogue_entry_has_a_valid_name_object_schemas_and_text() {
        let mut names = std::collections::HashSet::new();
        for def in TOOLS {
            assert!(valid_tool_name(def.name), "{}", def.name);
            assert!(names.insert(def.name), "duplicate {}", def.name);
            assert!(!def.title.is_empty() && !def.description.is_empty());
            object_schema(def.input_schema);
            object_schema(def.output_schema);
        }
    }

    #[test]
    fn the_release_catalogue_has_no_test_tools_and_comes_first() {
        assert!(RELEASE_TOOLS.iter().all(|d| !d.name.starts_with("test_")));
        let release: Vec<_> = RELEASE_TOOLS.iter().map(|d| d.name).collect();
        let first: Vec<_> = TOOLS.iter().take(release.len()).map(|d| d.name).collect();
        assert_eq!(first, release);
    }

    #[test]
    fn tool_names_follow_the_spec_pattern() {
        assert!(valid_tool_name("get_system_status"));
        assert!(valid_tool_name("a.b-c_D9"));
        assert!(!valid_tool_name(""));
        assert!(!valid_tool_name("has space"));
        assert!(!valid_tool_name("comma,name"));
        assert!(!valid_tool_name(&"x".repeat(129)));
    }
}
