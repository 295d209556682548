//! Link health: the state machine every command consults before it may go out (SC-4, SC-8).
//!
//! `connecting → live → degraded → down`, driven by the heartbeat (keepalive replies, socket
//! errors, out-of-service, token and structure checks). Commands are refused unless the link is
//! `Live`; the refusal says why and since when. The heartbeat thread itself lives with the
//! websocket in `loxone::link`; this module holds the state and its rules.

use std::time::SystemTime;

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
}
