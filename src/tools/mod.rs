//! The tool catalogue: a `const` table of definitions, and the [`ToolHost`] that runs them.
//!
//! Why a const table: the tools an AI can call are part of the safety case, so they are fixed
//! at compile time, listed in one place, and each schema is checked by the test under the
//! table. In this build the catalogue holds only `get_system_status`; the house tools
//! (`list_devices`, `get_state`, `set_*`, …) arrive with the dispatch pipeline in later issues,
//! and this host's `call` then hands them to `dispatch`.
//!
//! Tools for the test suite live in `testing.rs`, compiled only with the `test-tools` cargo
//! feature (which only `cargo test` turns on); there is no run-time switch for them.

use std::time::Instant;

use crate::mcp::tool::{
    CallContext, CallError, SessionInfo, ToolCall, ToolDef, ToolHost, ToolOutput,
};

pub mod status;
#[cfg(feature = "test-tools")]
pub mod testing;

/// Text for `InitializeResult.instructions`.
pub const INSTRUCTIONS: &str = "loxwarden is a safety gateway to a Loxone smart home. It checks \
every request against fixed safety limits and asks the person to confirm critical actions. \
In this build only get_system_status is available; device tools come in later releases.";

/// The tools behind `loxwarden serve`.
pub struct Catalogue {
    started: Instant,
}

impl Catalogue {
    pub fn new() -> Catalogue {
        Catalogue {
            started: Instant::now(),
        }
    }
}

impl Default for Catalogue {
    fn default() -> Self {
        Catalogue::new()
    }
}

impl ToolHost for Catalogue {
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
        match call.name {
            status::NAME => Ok(status::call(call.arguments, ctx, self.started.elapsed())),
            #[cfg(feature = "test-tools")]
            name if name.starts_with("test_") => testing::call(call, ctx),
            other => Err(CallError::UnknownTool(other.to_owned())),
        }
    }

    fn rejected(&self, session: &SessionInfo, tool: &str, reason: &str) {
        // The audit log arrives with a later issue; until then the record goes to stderr.
        log::warn!(
            "session {}: tools/call {tool:?} rejected: {reason}",
            session.id
        );
    }
}

/// Tool names as the spec advises: 1–128 of `A-Z a-z 0-9 _ - .`.
pub fn valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// The arguments a tool without parameters refuses (a tool error the model can fix).
pub fn no_arguments_expected(
    tool: &str,
    arguments: &serde_json::Map<String, serde_json::Value>,
) -> Option<ToolOutput> {
    let first = arguments.keys().next()?;
    Some(ToolOutput::error(
        serde_json::json!({"error": format!("{tool} takes no arguments; got '{first}'")}),
        format!("{tool} takes no arguments; got '{first}'."),
    ))
}

/// Every tool of a release build, in `tools/list` order.
pub const RELEASE_TOOLS: &[ToolDef] = &[status::DEF];

/// Every tool of this build.
#[cfg(not(feature = "test-tools"))]
pub const TOOLS: &[ToolDef] = RELEASE_TOOLS;
/// Every tool of this build: the release tools, then the test-only ones.
#[cfg(feature = "test-tools")]
pub const TOOLS: &[ToolDef] = &[status::DEF, testing::CONFIRM, testing::SLEEP];

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
