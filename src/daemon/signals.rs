//! SIGTERM (`systemctl stop`, a package upgrade, a starved watchdog) and SIGINT (Ctrl-C in a
//! terminal): stop cleanly instead of dying in the middle of a call.
//!
//! The first signal tells systemd `STOPPING=1` and drains the gateway ([`crate::shutdown`]):
//! nothing new is sent, a call that is sending stops before its next step, an open consent
//! question is withdrawn, and the process exits once every call under way has its record on
//! disk, or after [`DRAIN_BOUND`]. The bound sits
//! below the unit's `TimeoutStopSec` (15 s), so the process always exits by itself rather than
//! by SIGKILL. A call still under way then (a command timeout raised above the bound) is closed
//! as "not known" at the next start, as after a kill. A second signal exits at once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::{Core, notify};
use crate::error::Error;

/// The longest a stop waits for the calls under way.
pub const DRAIN_BOUND: Duration = Duration::from_secs(10);

/// After the drain: time for the session threads to write the last results to their clients
/// (best effort; the audit log already has every outcome).
const FLUSH: Duration = Duration::from_millis(200);

/// Takes over SIGTERM and SIGINT (from now on they no longer end the process by themselves).
pub fn listen() -> Result<Signals, Error> {
    Signals::new([SIGTERM, SIGINT]).map_err(|e| Error::io("cannot take over SIGTERM and SIGINT", e))
}

/// Waits for the signals: the first drains and exits (0), a second exits at once (1). Either
/// way the daemon's `sockets` are removed before it exits, so a clean stop leaves none behind
/// (a client then hears "not running", not a connection refused by a dead socket file).
pub fn run(mut signals: Signals, core: &Arc<dyn Core>, sockets: Vec<PathBuf>) {
    let mut stopping = false;
    for sig in signals.forever() {
        let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
        if stopping {
            log::warn!("{name} again: exiting now, without waiting for the calls under way");
            remove_sockets(&sockets);
            std::process::exit(1);
        }
        stopping = true;
        let core = core.clone();
        let paths = sockets.clone();
        let drain = std::thread::Builder::new()
            .name("loxwarden-stop".into())
            .spawn(move || stop(name, core.as_ref(), &paths));
        if let Err(e) = drain {
            log::error!("cannot start the stop thread ({e}); exiting now");
            std::process::exit(1);
        }
    }
}

/// Removes the socket files (best effort: a file that is already gone is fine).
pub fn remove_sockets(sockets: &[PathBuf]) {
    for p in sockets {
        match std::fs::remove_file(p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => log::warn!("cannot remove the socket {}: {e}", p.display()),
        }
    }
}

fn stop(signal: &str, core: &dyn Core, sockets: &[PathBuf]) {
    notify::stopping("stopping: finishing the calls under way");
    log::info!(
        "{signal}: stopping; nothing new is sent, and the calls under way get up to {} s to \
         record the Miniserver's answer",
        DRAIN_BOUND.as_secs()
    );
    let left = core.drain(DRAIN_BOUND);
    if left == 0 {
        log::info!("stopped: every call that was under way has its record in the audit log");
    } else {
        log::warn!(
            "stopped with {left} call(s) still under way after {} s: the next start records \
             the outcome of any that was sending as not known",
            DRAIN_BOUND.as_secs()
        );
    }
    std::thread::sleep(FLUSH);
    remove_sockets(sockets);
    std::process::exit(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drain_ends_before_systemd_would_kill_the_daemon() {
        let unit = include_str!("../../systemd/loxwarden.service");
        let line = unit
            .lines()
            .find_map(|l| l.strip_prefix("TimeoutStopSec="))
            .expect("the unit sets TimeoutStopSec");
        let secs: u64 = line.trim_end_matches('s').parse().expect("seconds");
        assert!(
            DRAIN_BOUND + FLUSH + Duration::from_secs(2) < Duration::from_secs(secs),
            "drain {DRAIN_BOUND:?} vs TimeoutStopSec={line}"
        );
    }
}
