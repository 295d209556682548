//! Consent fatigue (SC-5): an AI that asks again and again can wear a person down until they
//! accept. After [`FATIGUE_MAX_MISSES`] declined or unanswered requests for one device within
//! [`FATIGUE_WINDOW`], further requests for it are refused for [`FATIGUE_BLOCK`] without asking.
//! In the stateless era a question goes out as an MRTR round whose answer may never come back,
//! and in the Loxone app (`super::app`) a shown question may never be pressed: an issued
//! question (`Pending`) that no answer settles within [`FATIGUE_MRTR_UNANSWERED`] counts as
//! unanswered from then on.

use std::collections::{HashMap, VecDeque};

use crate::clock::Mono;
use crate::house::scene::clean_name;
use crate::loxone::uuid::ControlAddr;
use crate::mcp::tool::ElicitOutcome;
use crate::safety::Refusal;
use crate::safety::table::{
    FATIGUE_BLOCK, FATIGUE_MAX_MISSES, FATIGUE_MRTR_UNANSWERED, FATIGUE_WINDOW,
};

#[derive(Clone, Debug, Default)]
struct Entry {
    /// When requests were declined or went unanswered, oldest first.
    misses: VecDeque<Mono>,
    /// When MRTR questions went out that no answer has settled yet, oldest first.
    pending: VecDeque<Mono>,
    blocked_until: Option<Mono>,
}

impl Entry {
    /// Open MRTR questions older than their ticket became misses when the ticket expired.
    fn age(&mut self, now: Mono) {
        while let Some(&asked) = self.pending.front() {
            let missed = asked.plus(FATIGUE_MRTR_UNANSWERED);
            if missed > now {
                break;
            }
            self.pending.pop_front();
            self.miss(missed);
        }
    }

    /// A miss at `at`; the third within the window blocks for [`FATIGUE_BLOCK`] from then.
    fn miss(&mut self, at: Mono) {
        let i = self.misses.partition_point(|m| *m <= at);
        self.misses.insert(i, at);
        let recent = self
            .misses
            .iter()
            .filter(|m| **m <= at && at.since(**m) <= FATIGUE_WINDOW)
            .count();
        if recent >= FATIGUE_MAX_MISSES {
            let until = at.plus(FATIGUE_BLOCK);
            self.blocked_until = Some(self.blocked_until.map_or(until, |u| u.max(until)));
            self.misses.clear();
        }
    }
}

/// Consent fatigue per device (SC-5). Pure: the caller passes `now`.
#[derive(Clone, Debug, Default)]
pub struct Fatigue {
    map: HashMap<ControlAddr, Entry>,
}

impl Fatigue {
    pub fn new() -> Fatigue {
        Fatigue::default()
    }

    /// How long ago a stateless-era question about `addr` went out that no answer has settled
    /// and whose ticket still lives: while one is open, no second question about the same
    /// output is asked (in the handshake era the device's lane holds the question instead).
    pub fn open_question(&mut self, addr: &ControlAddr, now: Mono) -> Option<std::time::Duration> {
        let e = self.map.get_mut(addr)?;
        e.age(now);
        e.pending.front().map(|asked| now.since(*asked))
    }

    /// Whether a person may be asked about `addr` now.
    pub fn admit(&mut self, addr: &ControlAddr, label: &str, now: Mono) -> Result<(), Refusal> {
        let Some(e) = self.map.get_mut(addr) else {
            return Ok(());
        };
        e.age(now);
        match e.blocked_until {
            Some(until) if now < until => Err(Refusal::new(
                "SC-5",
                format!(
                    "{FATIGUE_MAX_MISSES} requests about {} were declined or went unanswered within \
                     {} minutes; no further requests for it for another {} s. A person can act in \
                     the Loxone app instead.",
                    clean_name(label),
                    FATIGUE_WINDOW.as_secs() / 60,
                    until.since(now).as_secs().max(1)
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Records how a request about `addr` ended (or, for `Pending`, that an MRTR question went
    /// out and its answer is still to come).
    pub fn record(&mut self, addr: &ControlAddr, outcome: &ElicitOutcome, now: Mono) {
        let (miss, settles) = match outcome {
            ElicitOutcome::Declined
            | ElicitOutcome::AcceptedWithoutConfirm
            | ElicitOutcome::Cancelled
            | ElicitOutcome::ErrorReply(_)
            | ElicitOutcome::TimedOut
            | ElicitOutcome::CallCancelled => (true, true),
            // The gateway withdrew the question (it is stopping): nobody missed anything.
            ElicitOutcome::Withdrawn => (false, true),
            // A person's answer settles an open MRTR question.
            ElicitOutcome::Accepted => (false, true),
            ElicitOutcome::Pending => {
                let e = self.map.entry(addr.clone()).or_default();
                e.age(now);
                e.pending.push_back(now);
                return;
            }
            // Nobody was asked, or the ticket was not one of ours: settles nothing.
            ElicitOutcome::Unsupported | ElicitOutcome::InvalidState(_) => return,
        };
        let e = self.map.entry(addr.clone()).or_default();
        e.age(now);
        while e
            .misses
            .front()
            .is_some_and(|t| now.since(*t) > FATIGUE_WINDOW)
        {
            e.misses.pop_front();
        }
        if settles {
            e.pending.pop_front();
        }
        if miss {
            e.miss(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::house::testhouse::*;

    fn addr() -> ControlAddr {
        ControlAddr::parse(a::DOOR_LOCK).unwrap()
    }

    #[test]
    fn sc5_three_declines_in_ten_minutes_block_requests_for_ten_minutes() {
        let mut f = Fatigue::new();
        let t0 = Mono(1_000_000);
        for (i, o) in [
            ElicitOutcome::Declined,
            ElicitOutcome::TimedOut,
            ElicitOutcome::Cancelled,
        ]
        .iter()
        .enumerate()
        {
            f.admit(
                &addr(),
                "Hall/Front door lock",
                t0.plus(std::time::Duration::from_secs(60 * i as u64)),
            )
            .unwrap();
            f.record(
                &addr(),
                o,
                t0.plus(std::time::Duration::from_secs(60 * i as u64)),
            );
        }
        let at = |s: u64| t0.plus(std::time::Duration::from_secs(s));
        let r = f
            .admit(&addr(), "Hall/Front door lock", at(121))
            .unwrap_err();
        assert_eq!(r.rule, "SC-5");
        assert!(r.reason.contains("Hall/Front door lock"), "{r}");
        assert!(f.admit(&addr(), "x", at(120 + 599)).is_err());
        assert!(f.admit(&addr(), "x", at(120 + 600)).is_ok());
        // Other devices are not affected.
        let other = ControlAddr::parse(a::GARAGE_DOOR).unwrap();
        assert!(f.admit(&other, "x", at(121)).is_ok());
    }

    #[test]
    fn misses_spread_over_more_than_ten_minutes_do_not_block() {
        let mut f = Fatigue::new();
        let at = |s: u64| Mono(1_000_000).plus(std::time::Duration::from_secs(s));
        f.record(&addr(), &ElicitOutcome::Declined, at(0));
        f.record(&addr(), &ElicitOutcome::Declined, at(300));
        f.record(&addr(), &ElicitOutcome::Declined, at(601));
        assert!(f.admit(&addr(), "x", at(602)).is_ok());
    }

    #[test]
    fn three_misses_exactly_ten_minutes_apart_end_to_end_still_block() {
        // "Within 10 minutes" includes the tenth minute: the first miss is still counted when
        // the third comes exactly 600 s later.
        let mut f = Fatigue::new();
        let at = |s: u64| Mono(1_000_000).plus(std::time::Duration::from_secs(s));
        f.record(&addr(), &ElicitOutcome::Declined, at(0));
        f.record(&addr(), &ElicitOutcome::Declined, at(300));
        f.record(&addr(), &ElicitOutcome::Declined, at(600));
        assert!(f.admit(&addr(), "x", at(601)).is_err());
    }

    #[test]
    fn misses_older_than_the_window_are_forgotten_not_kept_forever() {
        // A gateway that runs for months must not keep every decline it ever saw.
        let mut f = Fatigue::new();
        let at = |s: u64| Mono(1_000_000).plus(std::time::Duration::from_secs(s));
        for i in 0..20 {
            f.record(&addr(), &ElicitOutcome::Declined, at(i * 301));
        }
        assert!(f.admit(&addr(), "x", at(20 * 301)).is_ok());
        assert!(f.map[&addr()].misses.len() <= 2, "{:?}", f.map[&addr()]);
    }

    #[test]
    fn an_expired_question_counts_with_the_misses_of_its_own_ten_minutes_only() {
        // Two declines long ago, then a question left unanswered: when it expires it is one
        // miss, not the third of a window that closed long before.
        let mut f = Fatigue::new();
        let at = |s: u64| Mono(1_000_000).plus(std::time::Duration::from_secs(s));
        f.record(&addr(), &ElicitOutcome::Declined, at(0));
        f.record(&addr(), &ElicitOutcome::Declined, at(100));
        f.record(&addr(), &ElicitOutcome::Pending, at(900));
        f.record(&addr(), &ElicitOutcome::Declined, at(1100));
        assert!(f.admit(&addr(), "x", at(1101)).is_ok());
    }

    #[test]
    fn accepts_and_unsupported_clients_do_not_count_as_misses() {
        let mut f = Fatigue::new();
        let t = Mono(1_000_000);
        for o in [
            ElicitOutcome::Accepted,
            ElicitOutcome::Unsupported,
            ElicitOutcome::InvalidState("x".into()),
        ] {
            f.record(&addr(), &o, t);
            f.record(&addr(), &o, t);
            f.record(&addr(), &o, t);
        }
        assert!(f.admit(&addr(), "x", t).is_ok());
    }

    #[test]
    fn sc5_mrtr_questions_left_unanswered_past_their_ticket_count_as_misses() {
        let mut f = Fatigue::new();
        let at = |s: u64| Mono(1_000_000).plus(std::time::Duration::from_secs(s));
        for i in 0..3 {
            f.record(&addr(), &ElicitOutcome::Pending, at(i));
        }
        // Still answerable: not misses yet (the person may be reading them).
        assert!(f.admit(&addr(), "x", at(119)).is_ok());
        // The third ticket expired at 122 s: three unanswered, blocked for ten minutes from then.
        assert!(f.admit(&addr(), "x", at(122)).is_err());
        assert!(f.admit(&addr(), "x", at(122 + 599)).is_err());
        assert!(f.admit(&addr(), "x", at(122 + 600)).is_ok());
    }

    #[test]
    fn an_answered_mrtr_question_counts_once_and_an_accepted_one_not_at_all() {
        let mut f = Fatigue::new();
        let at = |s: u64| Mono(1_000_000).plus(std::time::Duration::from_secs(s));
        // Asked and accepted, many times: never blocked, even long after.
        for i in 0..5 {
            f.record(&addr(), &ElicitOutcome::Pending, at(i));
            f.record(&addr(), &ElicitOutcome::Accepted, at(i));
        }
        assert!(f.admit(&addr(), "x", at(300)).is_ok());
        // Asked and declined twice: two misses, not four.
        for i in 300..302 {
            f.record(&addr(), &ElicitOutcome::Pending, at(i));
            f.record(&addr(), &ElicitOutcome::Declined, at(i));
        }
        assert!(f.admit(&addr(), "x", at(500)).is_ok());
        // A forged ticket settles nothing: the open question becomes the third miss.
        f.record(&addr(), &ElicitOutcome::Pending, at(500));
        f.record(&addr(), &ElicitOutcome::InvalidState("x".into()), at(501));
        assert!(f.admit(&addr(), "x", at(619)).is_ok());
        assert!(f.admit(&addr(), "x", at(620)).is_err());
    }
}
