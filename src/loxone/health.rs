//! Link health: the state machine every command consults before it may go out (SC-4, SC-8).
//!
//! `connecting → live → degraded → down`, driven by the heartbeat (keepalive replies, socket
//! errors, out-of-service, token and structure checks). Commands are refused unless the link is
//! `Live`; the refusal says why and since when. The heartbeat thread itself lives with the
//! websocket in `loxone::link`; this module holds the state and its rules.

use std::time::{Duration, SystemTime};

use crate::clock::Mono;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Not yet authenticated and subscribed (start-up or reconnecting).
    Connecting,
    /// Authenticated, status updates flowing, keepalive answered in time.
    Live,
    /// Something is wrong (missed keepalive, stale token, structure changed); commands refused.
    Degraded,
    /// No connection.
    Down,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Connecting => "connecting",
            LinkState::Live => "live",
            LinkState::Degraded => "degraded",
            LinkState::Down => "down",
        }
    }
}

/// The link's health as of its last transition.
#[derive(Clone, Debug, PartialEq)]
pub struct Health {
    pub state: LinkState,
    /// Monotonic time of the transition into `state`.
    pub since: Mono,
    /// Wall time of the same transition (for people).
    pub since_wall: SystemTime,
    /// Why the link is in this state (empty when live).
    pub reason: String,
}

impl Health {
    pub fn is_live(&self) -> bool {
        self.state == LinkState::Live
    }

    /// The state at start-up.
    pub fn starting(now: Mono, wall: SystemTime) -> Health {
        Health {
            state: LinkState::Connecting,
            since: now,
            since_wall: wall,
            reason: "connecting".into(),
        }
    }
}

/// The heartbeat's timing (config `[link]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// A keepalive is sent this long after the previous one.
    pub interval: Duration,
    /// A keepalive not answered within this long means the link is not live.
    pub deadline: Duration,
}

impl Bounds {
    /// The promise: after the Miniserver's last sign of life, the link leaves `live` within
    /// `interval + deadline` (the next keepalive goes out at most `interval` later and is given
    /// `deadline` to come back), plus one poll of the socket. We state the looser
    /// `2 × interval + deadline` as the bound callers may rely on; the stale rule below
    /// enforces it even if the link thread itself is stuck.
    pub fn max_silence(&self) -> Duration {
        self.interval * 2 + self.deadline
    }
}

/// What happened to the link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A (re)connection attempt starts.
    Connecting(String),
    /// Authenticated, status updates enabled, initial tables received.
    Up,
    /// A keepalive was not answered within the deadline.
    KeepaliveMissed(Duration),
    /// The socket failed or closed.
    SocketLost(String),
    /// Header id 5 (update or restart).
    OutOfService,
    /// The token was refused or expired.
    TokenRefused(String),
    /// `LoxAPPversion3` no longer matches the loaded structure.
    StructureChanged,
    /// A connection attempt failed.
    ConnectFailed(String),
    /// The link was stopped on purpose.
    Stopped,
}

/// The transition rule: the next health after `event` (pure).
///
/// Any loss while `live` goes to `degraded` (commands refused at once, a reconnect follows);
/// a loss while not live, or a failed attempt, goes to `down`. `since` changes only when the
/// state does, so "since when" is the start of the trouble, not of the latest retry.
pub fn next(current: &Health, event: &Event, now: Mono, wall: SystemTime) -> Health {
    let (state, reason) = match event {
        Event::Up => (LinkState::Live, String::new()),
        Event::Connecting(why) => (LinkState::Connecting, why.clone()),
        Event::KeepaliveMissed(d) => (
            loss_state(current.state),
            format!("keepalive not answered within {} s", d.as_secs_f64()),
        ),
        Event::SocketLost(why) => (loss_state(current.state), why.clone()),
        Event::OutOfService => (
            loss_state(current.state),
            "the Miniserver went out of service (update or restart)".into(),
        ),
        Event::TokenRefused(why) => (LinkState::Down, why.clone()),
        Event::StructureChanged => (
            loss_state(current.state),
            "the structure file changed on the Miniserver; reloading".into(),
        ),
        Event::ConnectFailed(why) => (LinkState::Down, why.clone()),
        Event::Stopped => (LinkState::Down, "stopped".into()),
    };
    // A reconnect attempt after a loss keeps the person informed of the cause.
    let reason = match (event, current.state) {
        (Event::Connecting(why), LinkState::Degraded | LinkState::Down)
            if !current.reason.is_empty() =>
        {
            format!("{why} (after: {})", strip_after(&current.reason))
        }
        _ => reason,
    };
    if state == current.state {
        Health {
            state,
            since: current.since,
            since_wall: current.since_wall,
            reason,
        }
    } else {
        Health {
            state,
            since: now,
            since_wall: wall,
            reason,
        }
    }
}

fn loss_state(from: LinkState) -> LinkState {
    match from {
        LinkState::Live => LinkState::Degraded,
        _ => LinkState::Down,
    }
}

fn strip_after(reason: &str) -> &str {
    reason.split(" (after: ").next().unwrap_or(reason)
}

/// The stale rule (pure): a `live` link whose last sign of life is older than
/// [`Bounds::max_silence`] is reported `degraded`, whatever the link thread believes.
pub fn effective(
    h: &Health,
    last_alive: Mono,
    now: Mono,
    wall_now: SystemTime,
    bounds: &Bounds,
) -> Health {
    if h.state != LinkState::Live {
        return h.clone();
    }
    let silent = now.since(last_alive);
    if silent <= bounds.max_silence() {
        return h.clone();
    }
    let since = last_alive.plus(bounds.max_silence());
    let back = now.since(since);
    Health {
        state: LinkState::Degraded,
        since,
        since_wall: wall_now.checked_sub(back).unwrap_or(wall_now),
        reason: format!(
            "no sign of life from the Miniserver for {} s",
            silent.as_secs()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(state: LinkState, ms: u64) -> Health {
        Health {
            state,
            since: Mono(ms),
            since_wall: SystemTime::UNIX_EPOCH,
            reason: String::new(),
        }
    }

    const B: Bounds = Bounds {
        interval: Duration::from_secs(10),
        deadline: Duration::from_secs(5),
    };

    #[test]
    fn every_loss_from_live_degrades_at_once() {
        let live = at(LinkState::Live, 0);
        for ev in [
            Event::KeepaliveMissed(Duration::from_secs(5)),
            Event::SocketLost("reset".into()),
            Event::OutOfService,
            Event::StructureChanged,
        ] {
            let h = next(&live, &ev, Mono(7), SystemTime::UNIX_EPOCH);
            assert_eq!(h.state, LinkState::Degraded, "{ev:?}");
            assert_eq!(h.since, Mono(7));
            assert!(!h.reason.is_empty());
        }
        let h = next(
            &live,
            &Event::TokenRefused("401".into()),
            Mono(7),
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(h.state, LinkState::Down);
    }

    #[test]
    fn only_up_makes_the_link_live() {
        for s in [LinkState::Connecting, LinkState::Degraded, LinkState::Down] {
            assert_eq!(
                next(&at(s, 0), &Event::Up, Mono(1), SystemTime::UNIX_EPOCH).state,
                LinkState::Live
            );
        }
        let h = next(
            &at(LinkState::Down, 0),
            &Event::Connecting("retry".into()),
            Mono(1),
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(h.state, LinkState::Connecting);
        assert!(!h.is_live());
    }

    #[test]
    fn repeated_failures_keep_the_first_since_and_the_latest_reason() {
        let d = next(
            &at(LinkState::Connecting, 0),
            &Event::ConnectFailed("a".into()),
            Mono(10),
            SystemTime::UNIX_EPOCH,
        );
        let d2 = next(
            &d,
            &Event::ConnectFailed("b".into()),
            Mono(20),
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(d2.since, Mono(10));
        assert_eq!(d2.reason, "b");
        let c = next(
            &d2,
            &Event::Connecting("reconnecting".into()),
            Mono(30),
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(c.reason, "reconnecting (after: b)");
    }

    #[test]
    fn a_silent_live_link_is_degraded_by_the_stale_rule_within_the_bound() {
        let live = at(LinkState::Live, 0);
        let bound = B.max_silence();
        assert_eq!(bound, Duration::from_secs(25));
        let ok = effective(
            &live,
            Mono(1_000),
            Mono(1_000 + 25_000),
            SystemTime::UNIX_EPOCH,
            &B,
        );
        assert!(ok.is_live());
        let stale = effective(
            &live,
            Mono(1_000),
            Mono(1_000 + 25_001),
            SystemTime::UNIX_EPOCH,
            &B,
        );
        assert_eq!(stale.state, LinkState::Degraded);
        assert_eq!(stale.since, Mono(26_000));
        assert!(stale.reason.contains("no sign of life"));
        // Not live stays as it is.
        let down = at(LinkState::Down, 0);
        assert_eq!(
            effective(&down, Mono(0), Mono(1_000_000), SystemTime::UNIX_EPOCH, &B),
            down
        );
    }
}
