//! Which protocol revisions we speak, and the `_meta` keys of the stateless era.
//!
//! Why two lists: the handshake era (`initialize`) and the stateless era (per-request `_meta`)
//! are served side by side in one process ("dual-era"). A handshake client asking for a version
//! we do not know is *counter-offered* our latest, never refused (lifecycle §Version
//! Negotiation); a stateless request with an unknown version gets `-32022` listing ours.

/// Versions accepted in `initialize`, newest first.
pub const HANDSHAKE: &[&str] = &["2025-11-25", "2025-06-18"];
/// What a handshake client gets when it asks for something else.
pub const LATEST_HANDSHAKE: &str = "2025-11-25";
/// Versions served statelessly.
pub const STATELESS: &[&str] = &["2026-07-28"];
/// The revision without the `mode` field in `elicitation/create`.
pub const WITHOUT_ELICITATION_MODE: &str = "2025-06-18";

pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// The version to answer an `initialize` with.
pub fn negotiate(requested: &str) -> &'static str {
    HANDSHAKE
        .iter()
        .find(|v| **v == requested)
        .copied()
        .unwrap_or(LATEST_HANDSHAKE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_supported_version_is_echoed_and_anything_else_is_counter_offered() {
        assert_eq!(negotiate("2025-11-25"), "2025-11-25");
        assert_eq!(negotiate("2025-06-18"), "2025-06-18");
        for other in ["2024-11-05", "2025-03-26", "2026-07-28", "2099-01-01", ""] {
            assert_eq!(negotiate(other), LATEST_HANDSHAKE, "{other}");
        }
    }
}
