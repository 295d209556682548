//! SIGTERM (`systemctl stop`, a package upgrade, a starved watchdog) and SIGINT (Ctrl-C in a
//! terminal): stop cleanly instead of dying in the middle of a call.
//!
//! The first signal tells systemd `STOPPING=1` and drains the gateway ([`crate::daemon::shutdown`]):
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

/// `serve --standalone` and `demo`: serves MCP on stdin/stdout until stdin closes or a
/// SIGTERM/SIGINT arrives, and either way stops like the daemon (issue 19 item 9): nothing new
/// is sent, a call that is sending stops before its next step, and the process waits up to
/// [`DRAIN_BOUND`] for the calls under way to record the Miniserver's answer. `cleanup` runs
/// before a signal ends the process (the demo removes its temporary directory); after EOF the
/// caller cleans up itself. A second signal exits at once.
pub fn serve_stdio(
    gw: &Arc<crate::dispatch::gateway::Gateway>,
    server: &crate::mcp::Server,
    cleanup: impl FnOnce() + Send + 'static,
) -> Result<(), Error> {
    let mut signals = listen()?;
    let handle = signals.handle();
    let stopper = gw.clone();
    let watcher = std::thread::Builder::new()
        .name("loxwarden-signals".into())
        .spawn(move || {
            let mut cleanup = Some(cleanup);
            let mut stopping = false;
            for sig in signals.forever() {
                let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
                if stopping {
                    log::warn!(
                        "{name} again: exiting now, without waiting for the calls under way"
                    );
                    std::process::exit(1);
                }
                stopping = true;
                log::info!("{name}: stopping; nothing new is sent");
                // In its own thread, so a second signal is still heard.
                let (gw, cleanup) = (stopper.clone(), cleanup.take());
                let stop = std::thread::Builder::new()
                    .name("loxwarden-stop".into())
                    .spawn(move || {
                        drain(&gw);
                        std::thread::sleep(FLUSH);
                        if let Some(c) = cleanup {
                            c();
                        }
                        std::process::exit(0);
                    });
                if let Err(e) = stop {
                    log::error!("cannot start the stop thread ({e}); exiting now");
                    std::process::exit(1);
                }
            }
        })
        .map_err(|e| Error::io("cannot start the signal thread", e))?;
    server.serve(
        std::io::stdin(),
        std::io::stdout(),
        crate::mcp::Peer::default(),
    );
    log::info!("stdin closed; finishing the calls under way");
    drain(gw);
    handle.close();
    let _ = watcher.join();
    Ok(())
}

/// Drains the gateway within [`DRAIN_BOUND`] and says how it went.
fn drain(gw: &crate::dispatch::gateway::Gateway) {
    let left = gw.shutdown().drain(DRAIN_BOUND);
    if left == 0 {
        log::info!("every call that was under way has its record in the audit log");
    } else {
        log::warn!(
            "{left} call(s) still under way after {} s: the next start records the outcome of \
             any that was sending as not known",
            DRAIN_BOUND.as_secs()
        );
    }
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
