//! Time, injectable.
//!
//! Why: rate limits, consent expiry, link-health bounds and token refresh all depend on time.
//! The pure safety core takes `now` as an argument ([`Mono`]); the shell asks a [`Clock`] for it.
//! Tests use [`ManualClock`] to step time without sleeping (rustls' `TimeProvider` habit), so a
//! rate-limit test never flakes on a loaded machine.

pub(crate) mod civil;
pub mod local;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Monotonic milliseconds since the clock's origin. Never goes backwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mono(pub u64);

impl Mono {
    pub fn plus(self, d: Duration) -> Mono {
        Mono(self.0.saturating_add(d.as_millis() as u64))
    }
    /// Time from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: Mono) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// A source of monotonic and wall-clock time.
pub trait Clock: Send + Sync {
    fn mono(&self) -> Mono;
    fn wall(&self) -> SystemTime;
}

/// The real clock.
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn mono(&self) -> Mono {
        Mono(self.origin.elapsed().as_millis() as u64)
    }
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    mono: AtomicU64,
    wall_origin: Mutex<SystemTime>,
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock {
            mono: AtomicU64::new(1_000_000),
            wall_origin: Mutex::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000)),
        }
    }
    pub fn advance(&self, d: Duration) {
        self.mono.fetch_add(d.as_millis() as u64, Ordering::SeqCst);
    }
    /// Sets the wall clock (monotonic time is unaffected).
    pub fn set_wall(&self, t: SystemTime) {
        *self.wall_origin.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn mono(&self) -> Mono {
        Mono(self.mono.load(Ordering::SeqCst))
    }
    fn wall(&self) -> SystemTime {
        let base = *self.wall_origin.lock().unwrap_or_else(|e| e.into_inner());
        base + Duration::from_millis(self.mono.load(Ordering::SeqCst) - 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manual_clock_moves_only_when_advanced() {
        let c = ManualClock::new();
        let a = c.mono();
        assert_eq!(c.mono(), a);
        c.advance(Duration::from_millis(1500));
        assert_eq!(c.mono().since(a), Duration::from_millis(1500));
        assert_eq!(a.since(c.mono()), Duration::ZERO);
    }
}
