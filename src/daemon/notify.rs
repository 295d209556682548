//! Talking to systemd (`Type=notify`): `READY=1` once the sockets listen, `WATCHDOG=1` only
//! while the Miniserver link is alive, `STATUS=` with the link health in words, `STOPPING=1`
//! once a stop was asked for.
//!
//! Why the watchdog follows the link and not a timer alone: a daemon whose link is dead is
//! useless (every command is refused, SC-4), and the cure that always works is a fresh process
//! with a fresh login. So the keep-alive to systemd is sent every third of `WatchdogSec` *only
//! while the link reports alive*; a link dead for longer than `WatchdogSec` starves the
//! watchdog and systemd restarts the daemon (the estop latch survives in the state directory).
//! Without `NOTIFY_SOCKET` (not under systemd) nothing is sent and no thread runs.

use std::sync::Arc;
use std::time::Duration;

use sd_notify::NotifyState;

/// How often `STATUS=` is refreshed when there is no watchdog.
const STATUS_EVERY: Duration = Duration::from_secs(5);

/// Whether systemd is listening at all.
pub fn enabled() -> bool {
    std::env::var_os("NOTIFY_SOCKET").is_some()
}

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        log::warn!("cannot notify systemd: {e}");
    }
}

/// `READY=1` with a first status line.
pub fn ready(status: &str) {
    if enabled() {
        send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }
}

/// `STOPPING=1`: the daemon is finishing the calls under way, then exits.
pub fn stopping(status: &str) {
    if enabled() {
        send(&[NotifyState::Stopping, NotifyState::Status(status)]);
    }
}

/// The interval between keep-alives for a watchdog of `watchdog` (a third of it, so one late
/// wake-up never starves it).
pub fn interval(watchdog: Option<Duration>) -> Duration {
    match watchdog {
        Some(w) => (w / 3).max(Duration::from_millis(10)),
        None => STATUS_EVERY,
    }
}

/// Feeds the watchdog while `alive()` and keeps `STATUS=` current, forever. Returns at once
/// when systemd is not listening.
pub fn run(
    alive: Arc<dyn Fn() -> bool + Send + Sync>,
    status: Arc<dyn Fn() -> String + Send + Sync>,
) {
    if !enabled() {
        return;
    }
    let watchdog = sd_notify::watchdog_enabled();
    let every = interval(watchdog);
    log::info!(
        "systemd: watchdog {}; status every {} ms",
        match watchdog {
            Some(w) => format!("{} ms, fed only while the link is alive", w.as_millis()),
            None => "off".into(),
        },
        every.as_millis()
    );
    let mut last_status = String::new();
    let mut starving = false;
    loop {
        let now_alive = alive();
        let text = status();
        let mut states = Vec::new();
        if watchdog.is_some() && now_alive {
            states.push(NotifyState::Watchdog);
        }
        if text != last_status {
            states.push(NotifyState::Status(&text));
        }
        if !states.is_empty() {
            send(&states);
        }
        if watchdog.is_some() && !now_alive && !starving {
            log::warn!(
                "the Miniserver link is not alive: the systemd watchdog is not fed ({text})"
            );
        }
        starving = !now_alive;
        last_status = text;
        std::thread::sleep(every);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_is_fed_three_times_per_period() {
        assert_eq!(
            interval(Some(Duration::from_secs(60))),
            Duration::from_secs(20)
        );
        assert_eq!(interval(None), STATUS_EVERY);
        assert_eq!(
            interval(Some(Duration::from_micros(3))),
            Duration::from_millis(10)
        );
    }
}
