//! Logging goes to stderr only: stdout belongs to the MCP protocol (rule 9).
//!
//! `RUST_LOG` (or `LOXWARDEN_LOG`) sets the filter; the default is `info`.
//!
//! Why two formats: under systemd (stderr is the journal stream named by `JOURNAL_STREAM`) each
//! line starts with its sd-daemon severity, `<3>` error to `<7>` debug, so `journalctl -p
//! warning` finds an `EMERGENCY STOP`, and carries no timestamp (the journal adds its own). In
//! the foreground each line starts with an RFC 3339 UTC timestamp to the millisecond.
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
    use std::io::Write as _;
    let filter = std::env::var("LOXWARDEN_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    let journal = stderr_is_the_journal();
    let _ = builder(&filter)
        .target(env_logger::Target::Stderr)
        .format(move |buf, r| {
            let text = line(
                journal,
                std::time::SystemTime::now(),
                r.level(),
                r.target(),
                &r.args().to_string(),
            );
            writeln!(buf, "{text}")
        })
        .try_init();
}

/// One log line: `<4>target: message` for the journal, `2026-12-07T00:50:01.123Z WARN
/// target: message` in the foreground.
fn line(
    journal: bool,
    now: std::time::SystemTime,
    level: Level,
    target: &str,
    msg: &str,
) -> String {
    if journal {
        let severity = match level {
            Level::Error => 3,
            Level::Warn => 4,
            Level::Info => 6,
            Level::Debug | Level::Trace => 7,
        };
        format!("<{severity}>{target}: {msg}")
    } else {
        format!("{} {level:<5} {target}: {msg}", crate::audit::rfc3339(now))
    }
}

/// True when stderr is the stream systemd named in `JOURNAL_STREAM` (`device:inode`), as
/// sd-daemon(3) says to check: a child of a service that inherited the variable but writes
/// elsewhere gets the foreground format.
fn stderr_is_the_journal() -> bool {
    use std::os::fd::AsFd as _;
    use std::os::unix::fs::MetadataExt as _;
    let Ok(named) = std::env::var("JOURNAL_STREAM") else {
        return false;
    };
    let Some(meta) = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .and_then(|fd| std::fs::File::from(fd).metadata().ok())
    else {
        return false;
    };
    journal_stream_is(&named, meta.dev(), meta.ino())
}

/// `JOURNAL_STREAM`'s `device:inode` names the stream `(dev, ino)`.
fn journal_stream_is(named: &str, dev: u64, ino: u64) -> bool {
    named
        .split_once(':')
        .and_then(|(d, i)| Some((d.parse::<u64>().ok()?, i.parse::<u64>().ok()?)))
        == Some((dev, ino))
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
    fn journal_lines_carry_their_severity_and_foreground_lines_a_timestamp() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_765_000_000_123);
        let j = |level| {
            line(
                true,
                t,
                level,
                "loxwarden::dispatch::gateway",
                "EMERGENCY STOP by x",
            )
        };
        assert_eq!(
            j(Level::Warn),
            "<4>loxwarden::dispatch::gateway: EMERGENCY STOP by x"
        );
        assert!(j(Level::Error).starts_with("<3>"));
        assert!(j(Level::Info).starts_with("<6>"));
        assert!(j(Level::Debug).starts_with("<7>") && j(Level::Trace).starts_with("<7>"));
        let f = line(false, t, Level::Warn, "loxwarden::dispatch::gateway", "m");
        assert_eq!(
            f,
            "2025-12-06T05:46:40.123Z WARN  loxwarden::dispatch::gateway: m"
        );
    }

    #[test]
    fn only_the_stream_systemd_named_is_the_journal() {
        assert!(journal_stream_is("8:12345", 8, 12345));
        assert!(!journal_stream_is("8:12345", 8, 12346));
        assert!(!journal_stream_is("", 8, 12345));
        assert!(!journal_stream_is("nonsense", 8, 12345));
    }

    #[test]
    fn our_own_trace_and_a_quieter_filter_are_kept() {
        assert!(enabled("trace", Level::Trace, "loxwarden::loxone::link"));
        assert!(!enabled("warn", Level::Info, "tungstenite::protocol"));
        assert!(enabled("warn", Level::Warn, "tungstenite::protocol"));
        assert!(!enabled("off", Level::Error, "ureq"));
    }
}
