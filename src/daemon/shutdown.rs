//! Stopping cleanly: when the daemon is told to stop (`systemctl stop`, a package upgrade, a
//! starved watchdog), no new command goes out, a call that is sending stops before its next
//! step, an open consent question is withdrawn, and the process waits a bounded time for the
//! calls under way to get their record on disk. A call is under way from the moment it is
//! about to be decided (dispatch step 2) until its outcome is written.
//!
//! Why: killed in the middle of a call, the daemon cannot know whether its last command reached
//! the Miniserver, and the next start can only record the outcome as "not known". A stop
//! that waits for the step in flight turns that into the Miniserver's real answer. Why not
//! finish the whole plan: a stop is a person's (or systemd's) decision to end actuation, and a
//! ramp's remaining steps can take longer than systemd waits; they are recorded as not sent.
//!
//! The emergency stop is never refused here and is waited for like any call.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::safety::Refusal;

/// The calls under way and whether a stop was asked for. One per gateway.
#[derive(Default)]
pub struct Shutdown {
    state: Mutex<State>,
    idle: Condvar,
}

#[derive(Default)]
struct State {
    stopping: bool,
    in_flight: usize,
}

/// A call under way; dropping it tells a waiting [`Shutdown::drain`].
#[must_use = "the call counts as under way only while this is held"]
pub struct InFlight<'a>(&'a Shutdown);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.in_flight -= 1;
        if s.in_flight == 0 {
            self.0.idle.notify_all();
        }
    }
}

/// What a call that would send is told once a stop was asked for (SC-4: the link is going
/// away with the process).
pub fn refusal() -> Refusal {
    Refusal::new(
        "SC-4",
        "loxwarden is stopping (systemctl stop or a package upgrade), so no new command is \
         sent; call again once it is back",
    )
}

/// What the steps a stop cut off say in the result and the audit outcome.
pub const NOT_SENT: &str = "not sent: loxwarden is stopping";

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A call is about to be decided; `None` once a stop was asked for (nothing may go out
    /// then). Checked and counted under one lock, so a call either is waited for or sends
    /// nothing.
    pub fn begin(&self) -> Option<InFlight<'_>> {
        let mut s = self.lock();
        if s.stopping {
            return None;
        }
        s.in_flight += 1;
        Some(InFlight(self))
    }

    /// The emergency stop: counted, never refused.
    pub fn begin_always(&self) -> InFlight<'_> {
        self.lock().in_flight += 1;
        InFlight(self)
    }

    pub fn is_stopping(&self) -> bool {
        self.lock().stopping
    }

    /// How many calls are under way now.
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    /// Asks for the stop and waits up to `bound` for the calls under way to finish; returns
    /// how many still are (0: every call's record is on disk).
    pub fn drain(&self, bound: Duration) -> usize {
        let end = Instant::now() + bound;
        let mut s = self.lock();
        s.stopping = true;
        while s.in_flight > 0 {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            s = match self.idle.wait_timeout(s, left) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
        s.in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn once_a_stop_is_asked_for_no_call_may_begin_sending_but_the_emergency_stop_may() {
        let s = Shutdown::new();
        assert!(!s.is_stopping());
        drop(s.begin().expect("before the stop a call may send"));
        assert_eq!(s.drain(Duration::ZERO), 0);
        assert!(s.is_stopping());
        assert!(s.begin().is_none());
        let estop = s.begin_always();
        assert_eq!(s.in_flight(), 1);
        drop(estop);
        assert_eq!(s.in_flight(), 0);
    }

    #[test]
    fn a_drain_waits_for_the_call_under_way_and_returns_as_soon_as_it_ends() {
        let s = Arc::new(Shutdown::new());
        let (tx, rx) = std::sync::mpsc::channel();
        let t = {
            let s = s.clone();
            std::thread::spawn(move || {
                let call = s.begin().unwrap();
                tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(100));
                drop(call);
            })
        };
        rx.recv().unwrap();
        // It returns when the call ends (after 100 ms), not when the bound runs out.
        let started = Instant::now();
        assert_eq!(s.drain(Duration::from_secs(10)), 0);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        t.join().unwrap();
    }

    #[test]
    fn a_drain_gives_up_after_its_bound_and_says_how_many_calls_are_still_under_way() {
        let s = Shutdown::new();
        let _a = s.begin().unwrap();
        let _b = s.begin().unwrap();
        assert_eq!(s.drain(Duration::from_millis(20)), 2);
    }

    #[test]
    fn the_refusal_names_the_link_health_constraint() {
        let r = refusal();
        assert_eq!(r.rule, "SC-4");
        assert!(r.reason.contains("stopping"), "{}", r.reason);
    }
}
