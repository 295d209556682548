//! Logging goes to stderr only: stdout belongs to the MCP protocol (rule 9).
//!
//! `RUST_LOG` (or `LOXWARDEN_LOG`) sets the filter; the default is `info`.

/// Installs env_logger writing to stderr. Safe to call twice.
pub fn init() {
    let filter = std::env::var("LOXWARDEN_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    let _ = env_logger::Builder::new()
        .parse_filters(&filter)
        .target(env_logger::Target::Stderr)
        .format_timestamp_millis()
        .try_init();
}
