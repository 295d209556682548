//! Per-device rate limits (R-13, UCA-B1 for blinds, windows and gates; UCA-L1 for lights).
//!
//! Why per device and pure: a motor commanded up, down, up in quick succession wears out and
//! can trap a hand (UCA-B1); a light toggled ten times a second is a strobe (UCA-L1). The limit
//! belongs to the device, not the session, so two AI clients share it. [`RateBook::check`] and
//! [`RateBook::record`] take `now` and never sleep, so the tests step time by hand.
//!
//! Marks are recorded when a plan is decided, under the book's lock, so two sessions cannot
//! both pass the same limit. A plan that is then not sent because its decision could not be
//! audited gives its marks back with [`RateBook::withdraw`]: a command that never went out
//! must not hold the next one back.
//!
//! A stop is never refused or delayed: it is the one command that must always get through.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::clock::Mono;
use crate::loxone::uuid::ControlAddr;
use crate::safety::Refusal;
use crate::safety::table::{
    LIGHT_MAX_PER_MINUTE, LIGHT_MIN_INTERVAL, MOTOR_MAX_PER_MINUTE, MOTOR_MIN_INTERVAL,
};

/// After this long a motor's previous travel is certainly over, so a reversal needs no stop.
pub const MOTOR_SETTLE: Duration = Duration::from_secs(180);

const MINUTE: Duration = Duration::from_secs(60);

/// Which limits apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateClass {
    /// Blinds, windows, gates: R-13.
    Motor,
    /// Lights and light moods: UCA-L1.
    Light,
}

impl RateClass {
    pub fn min_interval(self) -> Duration {
        match self {
            RateClass::Motor => MOTOR_MIN_INTERVAL,
            RateClass::Light => LIGHT_MIN_INTERVAL,
        }
    }
    pub fn max_per_minute(self) -> usize {
        match self {
            RateClass::Motor => MOTOR_MAX_PER_MINUTE,
            RateClass::Light => LIGHT_MAX_PER_MINUTE,
        }
    }
    fn rule(self) -> &'static str {
        match self {
            RateClass::Motor => "R-13",
            RateClass::Light => "UCA-L1",
        }
    }
}

/// Which way a command moves a motor. For blinds `Raise` opens (up), for windows and gates it
/// opens too; `Unknown` is a move whose direction cannot be told (a position with no known
/// current position), treated as possibly either.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Motion {
    Raise,
    Lower,
    Stop,
    Unknown,
    /// Not a movement (lights).
    Change,
}

impl Motion {
    fn moves(self) -> bool {
        matches!(self, Motion::Raise | Motion::Lower | Motion::Unknown)
    }
}

/// What one planned command means for the rate book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateMark {
    pub addr: ControlAddr,
    pub class: RateClass,
    pub motion: Motion,
    /// `Room/Name` for refusal texts.
    pub label: String,
}

#[derive(Clone, Debug, Default)]
struct Track {
    last: Option<Mono>,
    last_motion: Option<Motion>,
    recent: VecDeque<Mono>,
    /// Counts the records, so a withdrawal can tell whether one came after it.
    records: u64,
}

/// The marks one decision recorded, to give back if its plan is not sent at all.
#[derive(Debug)]
#[must_use = "a reservation not withdrawn keeps its marks, as if the plan was sent"]
pub struct Reservation {
    /// In the order recorded: the key, the time, the device's track just before, and its
    /// record count just after.
    taken: Vec<((ControlAddr, RateClass), Mono, Track, u64)>,
}

/// Rate state of every device that has been commanded.
#[derive(Clone, Debug, Default)]
pub struct RateBook {
    map: HashMap<(ControlAddr, RateClass), Track>,
}

impl RateBook {
    pub fn new() -> RateBook {
        RateBook::default()
    }

    /// Whether `mark` may be sent at `now`. `still` is true when live state shows the motor is
    /// not moving (then a reversal needs no stop first).
    pub fn check(&self, mark: &RateMark, still: bool, now: Mono) -> Result<(), Refusal> {
        if mark.motion == Motion::Stop {
            return Ok(());
        }
        let Some(t) = self.map.get(&(mark.addr.clone(), mark.class)) else {
            return Ok(());
        };
        let rule = mark.class.rule();
        if let Some(last) = t.last {
            let gap = now.since(last);
            if gap < mark.class.min_interval() {
                return Err(Refusal::new(
                    rule,
                    format!(
                        "{} was commanded {:.1} s ago; at least {} s between commands",
                        mark.label,
                        gap.as_secs_f64(),
                        mark.class.min_interval().as_secs()
                    ),
                ));
            }
            let moving_motor = mark.class == RateClass::Motor
                && mark.motion.moves()
                && !still
                && gap < MOTOR_SETTLE;
            if moving_motor && let Some(prev) = t.last_motion.filter(|m| m.moves()) {
                // Another direction, or the last one unknown. (A new direction that is unknown
                // differs from every known one, so the first test covers it.)
                let reversal = prev != mark.motion || prev == Motion::Unknown;
                if reversal {
                    return Err(Refusal::new(
                        "UCA-B1",
                        format!(
                            "{} may still be moving the other way; send stop first \
                             (a reversal of direction only after a stop)",
                            mark.label
                        ),
                    ));
                }
            }
        }
        let in_minute = t.recent.iter().filter(|x| now.since(**x) < MINUTE).count();
        if in_minute >= mark.class.max_per_minute() {
            return Err(Refusal::new(
                rule,
                format!(
                    "{} has had {in_minute} commands in the last minute; at most {} per minute",
                    mark.label,
                    mark.class.max_per_minute()
                ),
            ));
        }
        Ok(())
    }

    /// Records that `mark` was sent at `now`.
    pub fn record(&mut self, mark: &RateMark, now: Mono) {
        let t = self.map.entry((mark.addr.clone(), mark.class)).or_default();
        t.last = Some(now);
        t.last_motion = Some(mark.motion);
        t.recent.push_back(now);
        t.records += 1;
        while t.recent.front().is_some_and(|x| now.since(*x) >= MINUTE) {
            t.recent.pop_front();
        }
    }

    /// Records every mark of a plan about to be sent, keeping what is needed to take them back.
    pub fn reserve(&mut self, marks: &[RateMark], now: Mono) -> Reservation {
        let mut taken = Vec::with_capacity(marks.len());
        for m in marks {
            let key = (m.addr.clone(), m.class);
            let before = self.map.get(&key).cloned().unwrap_or_default();
            self.record(m, now);
            let records = self.map.get(&key).map_or(0, |t| t.records);
            taken.push((key, now, before, records));
        }
        Reservation { taken }
    }

    /// Moves each device's last command to `now`, when a command of the plan may have left (R-13,
    /// UCA-L1): a plan that waited for a person or for the link was decided earlier than it
    /// reached the device, and the interval to the next command counts from the device's side.
    /// Counts nothing new (the decision already did), and never moves a time backwards.
    pub fn touch(&mut self, marks: &[RateMark], now: Mono) {
        for m in marks {
            if let Some(t) = self.map.get_mut(&(m.addr.clone(), m.class))
                && t.last.is_none_or(|l| l < now)
            {
                t.last = Some(now);
            }
        }
    }

    /// Gives back the marks of a plan that was not sent at all. Where nothing was recorded on
    /// the device since, its track is as it was before; where another command was (a stop
    /// always passes), only this plan's entry in the last minute's count goes, and the later
    /// command's time and direction stay.
    pub fn withdraw(&mut self, r: Reservation) {
        for (key, at, before, records) in r.taken.into_iter().rev() {
            let Some(t) = self.map.get_mut(&key) else {
                continue;
            };
            if t.records == records {
                *t = before;
            } else if let Some(i) = t.recent.iter().rposition(|x| *x == at) {
                t.recent.remove(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(class: RateClass, motion: Motion) -> RateMark {
        RateMark {
            addr: ControlAddr::parse("4c570000-0009-0000-ffff000000000009").unwrap(),
            class,
            motion,
            label: "Living Room/Blind".into(),
        }
    }

    fn at(s: f64) -> Mono {
        Mono((s * 1000.0) as u64)
    }

    #[test]
    fn r13_a_second_blind_command_within_2s_is_refused_and_at_2s_allowed() {
        let mut b = RateBook::new();
        let down = mark(RateClass::Motor, Motion::Lower);
        b.check(&down, false, at(10.0)).unwrap();
        b.record(&down, at(10.0));
        let r = b.check(&down, false, at(11.9)).unwrap_err();
        assert_eq!(r.rule, "R-13");
        assert!(r.reason.contains("1.9 s ago"), "{r}");
        assert!(b.check(&down, false, at(12.0)).is_ok());
    }

    #[test]
    fn r13_at_most_10_commands_per_blind_per_minute() {
        let mut b = RateBook::new();
        let down = mark(RateClass::Motor, Motion::Lower);
        for i in 0..10 {
            b.check(&down, false, at(3.0 * i as f64)).unwrap();
            b.record(&down, at(3.0 * i as f64));
        }
        // The 11th at 30 s: ten in the last minute.
        let r = b.check(&down, false, at(30.0)).unwrap_err();
        assert_eq!(r.rule, "R-13");
        assert!(r.reason.contains("10 commands"), "{r}");
        // At 60.0 s the first (at 0 s) has left the window.
        assert!(b.check(&down, false, at(60.0)).is_ok());
    }

    #[test]
    fn r13_the_interval_counts_from_when_the_command_left_not_when_it_was_decided() {
        let mut b = RateBook::new();
        let m = mark(RateClass::Light, Motion::Change);
        let _kept = b.reserve(std::slice::from_ref(&m), at(0.0));
        // The plan waited 0.9 s for a person, then went out.
        b.touch(std::slice::from_ref(&m), at(0.9));
        // 1.1 s after the decision, 0.2 s after the command: too soon.
        let e = b.check(&m, true, at(1.1)).unwrap_err();
        assert_eq!(e.rule, "UCA-L1");
        assert!(b.check(&m, true, at(1.95)).is_ok());
        // A touch never moves the time backwards, and a device never commanded stays free.
        b.touch(std::slice::from_ref(&m), at(0.5));
        assert!(b.check(&m, true, at(1.5)).is_err());
        let mut fresh = RateBook::new();
        fresh.touch(std::slice::from_ref(&m), at(5.0));
        assert!(fresh.check(&m, true, at(5.0)).is_ok());
    }

    #[test]
    fn uca_b1_a_reversal_needs_a_stop_first() {
        let mut b = RateBook::new();
        b.record(&mark(RateClass::Motor, Motion::Lower), at(0.0));
        let up = mark(RateClass::Motor, Motion::Raise);
        assert_eq!(b.check(&up, false, at(5.0)).unwrap_err().rule, "UCA-B1");
        // The same direction again is fine.
        assert!(
            b.check(&mark(RateClass::Motor, Motion::Lower), false, at(5.0))
                .is_ok()
        );
        // Live state says it stopped: no stop needed.
        assert!(b.check(&up, true, at(5.0)).is_ok());
        // After a stop, the reversal is allowed.
        let stop = mark(RateClass::Motor, Motion::Stop);
        b.record(&stop, at(5.0));
        assert!(b.check(&up, false, at(7.0)).is_ok());
        // Long after, the first travel is over anyway.
        let mut b = RateBook::new();
        b.record(&mark(RateClass::Motor, Motion::Lower), at(0.0));
        assert!(b.check(&up, false, at(180.0)).is_ok());
    }

    #[test]
    fn an_unknown_direction_counts_as_a_possible_reversal() {
        let mut b = RateBook::new();
        b.record(&mark(RateClass::Motor, Motion::Raise), at(0.0));
        let pos = mark(RateClass::Motor, Motion::Unknown);
        assert_eq!(b.check(&pos, false, at(3.0)).unwrap_err().rule, "UCA-B1");
        // After a move of unknown direction, any move may be a reversal, even another unknown.
        let mut b = RateBook::new();
        b.record(&pos, at(0.0));
        for next in [Motion::Raise, Motion::Lower, Motion::Unknown] {
            let m = mark(RateClass::Motor, next);
            assert_eq!(
                b.check(&m, false, at(3.0)).unwrap_err().rule,
                "UCA-B1",
                "{next:?}"
            );
        }
    }

    #[test]
    fn a_stop_is_never_refused_even_immediately_or_after_many_commands() {
        let mut b = RateBook::new();
        let down = mark(RateClass::Motor, Motion::Lower);
        for i in 0..10 {
            b.record(&down, at(i as f64 * 2.0));
        }
        assert!(
            b.check(&mark(RateClass::Motor, Motion::Stop), false, at(18.1))
                .is_ok()
        );
    }

    #[test]
    fn uca_l1_lights_at_most_once_a_second_and_20_a_minute() {
        let mut b = RateBook::new();
        let l = mark(RateClass::Light, Motion::Change);
        b.record(&l, at(0.0));
        assert_eq!(b.check(&l, false, at(0.999)).unwrap_err().rule, "UCA-L1");
        assert!(b.check(&l, false, at(1.0)).is_ok());
        let mut b = RateBook::new();
        for i in 0..20 {
            b.check(&l, false, at(i as f64 * 1.5)).unwrap();
            b.record(&l, at(i as f64 * 1.5));
        }
        assert_eq!(b.check(&l, false, at(30.0)).unwrap_err().rule, "UCA-L1");
        assert!(b.check(&l, false, at(60.1)).is_ok());
    }

    #[test]
    fn limits_are_per_device() {
        let mut b = RateBook::new();
        let one = mark(RateClass::Motor, Motion::Lower);
        b.record(&one, at(0.0));
        let mut other = one.clone();
        other.addr = ControlAddr::parse("4c570000-000a-0000-ffff00000000000a").unwrap();
        assert!(b.check(&other, false, at(0.5)).is_ok());
    }

    #[test]
    fn a_withdrawn_reservation_leaves_the_device_as_if_nothing_was_sent() {
        let mut b = RateBook::new();
        let down = mark(RateClass::Motor, Motion::Lower);
        b.record(&down, at(0.0));
        // A plan with the device twice (stop, then raise), decided at 10 s and never sent.
        let plan = [
            mark(RateClass::Motor, Motion::Stop),
            mark(RateClass::Motor, Motion::Raise),
        ];
        let r = b.reserve(&plan, at(10.0));
        assert_eq!(b.check(&down, false, at(10.5)).unwrap_err().rule, "R-13");
        b.withdraw(r);
        // The last command is again the one at 0 s: no interval to wait, and lowering again
        // is no reversal.
        assert!(b.check(&down, false, at(10.5)).is_ok());
        let up = mark(RateClass::Motor, Motion::Raise);
        assert_eq!(b.check(&up, false, at(10.5)).unwrap_err().rule, "UCA-B1");
        // A device first reserved and withdrawn is fresh again.
        let mut b = RateBook::new();
        let l = mark(RateClass::Light, Motion::Change);
        let r = b.reserve(std::slice::from_ref(&l), at(0.0));
        b.withdraw(r);
        assert!(b.check(&l, false, at(0.1)).is_ok());
    }

    #[test]
    fn a_withdrawal_keeps_a_command_recorded_after_it() {
        let mut b = RateBook::new();
        let down = mark(RateClass::Motor, Motion::Lower);
        let r = b.reserve(std::slice::from_ref(&down), at(0.0));
        // Another session's stop passes meanwhile and is sent.
        b.record(&mark(RateClass::Motor, Motion::Stop), at(0.5));
        b.withdraw(r);
        // The stop's time still counts for the interval.
        let r13 = b.check(&down, false, at(1.5)).unwrap_err();
        assert!(r13.reason.contains("1.0 s ago"), "{r13}");
        // Only the withdrawn plan's entry left the minute's count: nine more fit, not ten.
        for i in 0..9 {
            let t = at(3.0 + 3.0 * i as f64);
            b.check(&down, false, t).unwrap();
            b.record(&down, t);
        }
        let full = b.check(&down, false, at(30.0)).unwrap_err();
        assert!(full.reason.contains("10 commands"), "{full}");
        // The entry that went is the plan's (0 s), not the stop's (0.5 s): at 60.2 s the stop
        // is still within the minute, at 60.6 s it is not.
        let still = b.check(&down, false, at(60.2)).unwrap_err();
        assert!(still.reason.contains("10 commands"), "{still}");
        assert!(b.check(&down, false, at(60.6)).is_ok());
    }
}
