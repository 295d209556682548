//! How many refusal records one session may write (R-14, issue 19 item 10).
//!
//! Why: every refused call is audited, and a refused call costs the client nothing, so one
//! session could write megabytes a second (3.7 MB in 6 s was measured) and fill an SD card;
//! then every command is refused (the log cannot be written). A token bucket per session lets a
//! burst of [`BURST`] refusal records through and then [`PER_SECOND`]; the records past it are
//! counted, and the next record the session may write is preceded by one that says how many
//! were not written one by one. Allowed decisions, outcomes and the emergency stop are never
//! limited: only refusals, which send nothing.

use std::collections::HashMap;

use crate::clock::Mono;

/// Refusal records a session may write at once.
pub const BURST: f64 = 30.0;
/// Refusal records a session may write per second after the burst.
pub const PER_SECOND: f64 = 2.0;
/// Sessions remembered before idle ones are forgotten.
const MAX_SESSIONS: usize = 1024;

/// What to do with one refusal record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Write it; first say that `suppressed` earlier ones were not written one by one.
    Write { suppressed: u64 },
    /// Do not write it (counted). `first`: the first of a run, for a one-line notice.
    Suppress { first: bool },
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Mono,
    suppressed: u64,
}

/// The buckets of every session.
#[derive(Debug, Default)]
pub struct RefusalBudget {
    sessions: HashMap<u64, Bucket>,
}

impl RefusalBudget {
    pub fn new() -> RefusalBudget {
        RefusalBudget::default()
    }

    /// Takes one record from `session`'s bucket at `now`.
    pub fn admit(&mut self, session: u64, now: Mono) -> Admit {
        if self.sessions.len() >= MAX_SESSIONS && !self.sessions.contains_key(&session) {
            // Forget sessions with nothing owed; a full bucket is what a new one gets anyway.
            self.sessions
                .retain(|_, b| b.suppressed > 0 || refill(b, now) < BURST);
        }
        let b = self.sessions.entry(session).or_insert(Bucket {
            tokens: BURST,
            at: now,
            suppressed: 0,
        });
        b.tokens = refill(b, now);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Admit::Write {
                suppressed: std::mem::take(&mut b.suppressed),
            }
        } else {
            b.suppressed += 1;
            Admit::Suppress {
                first: b.suppressed == 1,
            }
        }
    }
}

fn refill(b: &Bucket, now: Mono) -> f64 {
    let secs = now.since(b.at).as_secs_f64();
    (b.tokens + secs * PER_SECOND).min(BURST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_two_a_second_and_the_rest_is_counted() {
        let mut r = RefusalBudget::new();
        let t0 = Mono(1_000);
        for _ in 0..30 {
            assert_eq!(r.admit(1, t0), Admit::Write { suppressed: 0 });
        }
        assert_eq!(r.admit(1, t0), Admit::Suppress { first: true });
        for _ in 0..9 {
            assert_eq!(r.admit(1, t0), Admit::Suppress { first: false });
        }
        // Another session is not held back by this one.
        assert_eq!(r.admit(2, t0), Admit::Write { suppressed: 0 });
        // Half a second later one more may be written, after the count of the ten.
        assert_eq!(r.admit(1, Mono(1_500)), Admit::Write { suppressed: 10 });
        assert_eq!(r.admit(1, Mono(1_500)), Admit::Suppress { first: true });
    }

    #[test]
    fn idle_sessions_are_forgotten_but_not_their_counts() {
        let mut r = RefusalBudget::new();
        for _ in 0..31 {
            r.admit(7, Mono(0));
        }
        for s in 100..100 + MAX_SESSIONS as u64 {
            r.admit(s, Mono(0));
        }
        r.admit(5_000, Mono(60_000));
        assert!(r.sessions.len() < MAX_SESSIONS);
        assert_eq!(r.admit(7, Mono(60_000)), Admit::Write { suppressed: 1 });
    }
}
