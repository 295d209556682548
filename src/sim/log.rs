//! The simulated Miniserver's record of everything it was asked.
//!
//! Why: later tests prove refusals by absence ("the door opener never received `pulse`"), and
//! that needs evidence from the receiving side, not from the client's own bookkeeping. Every
//! request is recorded after decryption, with how it arrived (channel, encrypted or not, how it
//! authenticated) and what was answered. Query strings are not kept, so tokens never land here.

use std::collections::VecDeque;

use serde::Serialize;

use super::auth::AuthKind;

/// Entries kept before the oldest are dropped (a long soak test must not grow without bound).
const MAX_ENTRIES: usize = 100_000;

/// Which door a request came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Http,
    Https,
    Ws,
    Wss,
}

impl Channel {
    pub fn is_ws(self) -> bool {
        matches!(self, Channel::Ws | Channel::Wss)
    }
    pub fn is_tls(self) -> bool {
        matches!(self, Channel::Https | Channel::Wss)
    }
}

/// One request the simulated Miniserver received.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogEntry {
    /// 1, 2, 3, … in arrival order.
    pub seq: u64,
    /// Real milliseconds since the simulator started.
    pub at_ms: u64,
    pub channel: Channel,
    /// The command arrived inside `jdev/sys/enc` or `fenc`.
    pub encrypted: bool,
    /// The (decrypted) command path, without its query string.
    pub command: String,
    pub auth: AuthKind,
    pub user: Option<String>,
    /// The LL code (or HTTP status) answered; 0 when no answer was given (hang).
    pub code: u16,
    /// For `jdev/sps/io|ios`: the control address and the command after it.
    pub control: Option<String>,
    pub op: Option<String>,
    /// A device command (not a read such as `all`/`state`), whatever the outcome.
    pub device: bool,
    /// For a command to a blind, window or gate: how it stood when the command arrived.
    pub motor: Option<MotorAt>,
}

/// A motor as the simulator's last tick left it, when a command to it arrived: what the
/// gateway could at best have known from the status events. Tests judge direction rules by it
/// (a reversal of a moving blind without a stop between, UCA-B1) from the receiving side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MotorAt {
    /// `"up"` or `"down"` while travelling (opening is up), `None` when still.
    pub moving: Option<&'static str>,
    /// 0 = fully up (open) … 1 = fully down (closed).
    pub position: f64,
}

#[derive(Default)]
pub struct CommandLog {
    next: u64,
    entries: VecDeque<LogEntry>,
}

impl CommandLog {
    pub fn push(&mut self, mut e: LogEntry) {
        self.next += 1;
        e.seq = self.next;
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.pop_front();
        }
        self.entries.push_back(e);
    }

    pub fn all(&self) -> Vec<LogEntry> {
        self.entries.iter().cloned().collect()
    }

    pub fn since(&self, seq: u64) -> Vec<LogEntry> {
        self.entries
            .iter()
            .filter(|e| e.seq > seq)
            .cloned()
            .collect()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn last_seq(&self) -> u64 {
        self.next
    }
}
