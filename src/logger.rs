//! Logging goes to stderr only: stdout belongs to the MCP protocol (rule 9).
//!
//! `RUST_LOG` (or `LOXWARDEN_LOG`) sets the filter; the default is `info`.
//!
//! Why a cap on some dependencies: the crates that carry the Miniserver conversation log what
//! they send and receive at `debug`/`trace` (tungstenite dumps every frame, in text and hex;
//! ureq logs request lines, where the token rides in the query over TLS). Those lines hold token
//! hashes, the token itself and visualisation hashes, and logs end up in the journal, in bug
//! reports and in chat windows. So whatever the filter says, [`WIRE_CRATES`] log at most at
//! `info` (lower if the filter asks for less). Our own modules never log a secret at any level;
//! `tests/it/secrets.rs` runs every flow at `trace` and greps for them.

use log::{Level, LevelFilter, Log, Metadata};

/// Crates whose `debug`/`trace` output contains what goes over the wire to the Miniserver.
pub const WIRE_CRATES: &[&str] = &["tungstenite", "ureq", "ureq_proto", "rustls"];

/// Installs env_logger writing to stderr. Safe to call twice.
pub fn init() {
    let filter = std::env::var("LOXWARDEN_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    let _ = builder(&filter)
        .target(env_logger::Target::Stderr)
        .format_timestamp_millis()
        .try_init();
}

/// The logger for `filter` with [`WIRE_CRATES`] capped at `info`.
fn builder(filter: &str) -> env_logger::Builder {
    let asked = env_logger::Builder::new().parse_filters(filter).build();
    let mut b = env_logger::Builder::new();
    b.parse_filters(filter);
    for krate in WIRE_CRATES {
        b.filter_module(krate, capped(&asked, krate));
    }
    b
}

/// The level `asked` gives `target`, but never more than `info`.
fn capped(asked: &env_logger::Logger, target: &str) -> LevelFilter {
    [Level::Info, Level::Warn, Level::Error]
        .into_iter()
        .find(|&level| asked.enabled(&Metadata::builder().level(level).target(target).build()))
        .map_or(LevelFilter::Off, |l| l.to_level_filter())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(filter: &str, level: Level, target: &str) -> bool {
        builder(filter)
            .build()
            .enabled(&Metadata::builder().level(level).target(target).build())
    }

    #[test]
    fn wire_crates_never_log_below_info_even_at_trace() {
        for filter in ["trace", "debug", "tungstenite=trace", "trace,ureq=trace"] {
            for krate in WIRE_CRATES {
                let target = format!("{krate}::protocol");
                assert!(!enabled(filter, Level::Debug, &target), "{filter} {krate}");
                assert!(!enabled(filter, Level::Trace, &target), "{filter} {krate}");
            }
            let target = format!("{}::x", WIRE_CRATES[0]);
            assert!(enabled(filter, Level::Info, &target), "{filter}");
        }
    }

    #[test]
    fn our_own_trace_and_a_quieter_filter_are_kept() {
        assert!(enabled("trace", Level::Trace, "loxwarden::loxone::link"));
        assert!(!enabled("warn", Level::Info, "tungstenite::protocol"));
        assert!(enabled("warn", Level::Warn, "tungstenite::protocol"));
        assert!(!enabled("off", Level::Error, "ureq"));
    }
}
