//! The commands under way: those that have reached their last check before leaving
//! (`Link::send_gated`'s gate) and have not been answered yet.
//!
//! Why the stop needs them: the emergency stop's commands go out within milliseconds of the
//! latch (`burst.rs`), while a command that passed its last check just before the latch may
//! still be on its way (over plain HTTP a `getkey` round trip and the request itself). On a
//! slow Miniserver it could arrive *after* the stop and move a motor the stop had just stopped.
//! So the stop notes what is under way when it latches, waits for those commands' answers, and
//! stops their devices a second time (`safety::stop::send`). A command registers *before* its
//! gate reads the latch, so a command whose check did not see the latch is always in the
//! snapshot a stop takes after latching.

use std::collections::HashMap;
use std::time::Instant;

use super::Link;
use crate::loxone::uuid::ControlAddr;

/// The open commands, by id.
#[derive(Default)]
pub(super) struct Flights {
    next: u64,
    open: HashMap<u64, ControlAddr>,
}

/// A command under way; it leaves the registry when dropped.
pub(super) struct Flight<'a> {
    link: &'a Link,
    id: u64,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        self.link.flights().open.remove(&self.id);
        self.link.landed.notify_all();
    }
}

impl Link {
    fn flights(&self) -> std::sync::MutexGuard<'_, Flights> {
        self.flights.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a command to `target` as under way until the returned guard is dropped.
    /// Called before the command's last check.
    pub(super) fn board(&self, target: &ControlAddr) -> Flight<'_> {
        let mut f = self.flights();
        f.next += 1;
        let id = f.next;
        f.open.insert(id, target.clone());
        Flight { link: self, id }
    }

    /// The commands under way now: their ids and targets.
    pub fn under_way(&self) -> Vec<(u64, ControlAddr)> {
        let mut v: Vec<(u64, ControlAddr)> = self
            .flights()
            .open
            .iter()
            .map(|(id, a)| (*id, a.clone()))
            .collect();
        v.sort_by_key(|(id, _)| *id);
        v
    }

    /// Waits until none of the commands `ids` is under way any more, or `until`. True when
    /// they all were answered (or failed) in time.
    pub fn wait_landed(&self, ids: &[u64], until: Instant) -> bool {
        let mut f = self.flights();
        loop {
            if !ids.iter().any(|id| f.open.contains_key(id)) {
                return true;
            }
            let now = Instant::now();
            if now >= until {
                return false;
            }
            f = self
                .landed
                .wait_timeout(f, until - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}
