//! The value most recently commanded, for the next decision about the same device.
//!
//! Why: a limit that depends on the current value (the 6 °C setpoint step, the volume ramp)
//! must be computed against the latest value, and the latest value is sometimes one the
//! Miniserver has accepted (LL 200) but not yet reported back (a slow event, a read-back that
//! timed out). Deciding against the older reported value would let two plans pass one limit
//! one after the other. So a plan that went out whole notes the values it set (its `To`
//! expectations), and the guard reads them over the live states while they are newer than
//! what the Miniserver last reported, for at most [`HOLD`] (the Miniserver's report wins as
//! soon as it comes; a device that silently ignored a command is not believed forever).
//!
//! A command that may or may not have reached the Miniserver (the link failed after it was
//! written) leaves the value unknown instead, for as long: neither the old value nor the new
//! one can be trusted, and the guard treats an unknown value conservatively (a setpoint step
//! cannot be measured and is refused; a volume rise starts from 0).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::clock::Mono;
use crate::loxone::state::{LiveStates, StateEntry, StateValue};
use crate::loxone::uuid::Uuid;
use crate::safety::{Change, Expect};

/// How long a commanded value stands in for a report that has not come.
pub const HOLD: Duration = Duration::from_secs(30);

/// Values commanded, by state.
#[derive(Debug, Default)]
pub struct Commanded {
    /// `None`: a command may have set it, and nobody knows to what.
    map: Mutex<HashMap<Uuid, (Option<f64>, Mono)>>,
}

impl Commanded {
    pub fn new() -> Commanded {
        Commanded::default()
    }

    /// Notes the values a plan that went out whole (every command LL 200) set, at `at`.
    pub fn note(&self, expect: &[Expect], at: Mono) {
        self.put(expect, at, true);
    }

    /// Notes that a plan's commands may have set its values, or may not (an answer lost after
    /// the command was written): until the Miniserver reports, the values are unknown. `at` is
    /// when the plan began sending, so a report that came while its answer was awaited wins.
    pub fn unsure(&self, expect: &[Expect], at: Mono) {
        self.put(expect, at, false);
    }

    fn put(&self, expect: &[Expect], at: Mono, known: bool) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (_, t)| at.0.saturating_sub(t.0) < HOLD.as_millis() as u64);
        for e in expect {
            if let Change::To(v) = e.change {
                map.insert(e.uuid, (known.then_some(v), at));
            }
        }
    }

    /// The live states as the guard should see them at `now`.
    pub fn over<'a>(&'a self, live: &'a dyn LiveStates, now: Mono) -> Overlay<'a> {
        Overlay {
            commanded: self,
            live,
            now,
        }
    }
}

/// Live states, with values commanded since the last report standing in for them.
pub struct Overlay<'a> {
    commanded: &'a Commanded,
    live: &'a dyn LiveStates,
    now: Mono,
}

impl LiveStates for Overlay<'_> {
    fn entry(&self, state: &Uuid) -> Option<StateEntry> {
        let live = self.live.entry(state);
        let map = self.commanded.map.lock().unwrap_or_else(|e| e.into_inner());
        let Some(&(v, at)) = map.get(state) else {
            return live;
        };
        let fresh = self.now.0.saturating_sub(at.0) < HOLD.as_millis() as u64;
        match (live, v) {
            (Some(l), _) if !fresh || l.updated >= at => Some(l),
            (None, _) if !fresh => None,
            (_, None) => None,
            (live, Some(v)) => Some(StateEntry {
                value: StateValue::Number(v),
                updated: at,
                changed: live.and_then(|l| l.changed),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::house::DevId;

    struct Live(Option<StateEntry>);
    impl LiveStates for Live {
        fn entry(&self, _: &Uuid) -> Option<StateEntry> {
            self.0.clone()
        }
    }

    fn uuid() -> Uuid {
        Uuid::parse("1d62b147-0347-2d47-ffff8c3e0a91d2b7").unwrap()
    }

    fn reported(v: f64, at: u64) -> Live {
        Live(Some(StateEntry {
            value: StateValue::Number(v),
            updated: Mono(at),
            changed: None,
        }))
    }

    fn expect(v: f64) -> Vec<Expect> {
        vec![Expect {
            device: DevId(0),
            state: "comfortTemperature",
            uuid: uuid(),
            change: Change::To(v),
        }]
    }

    #[test]
    fn a_commanded_value_stands_in_until_the_miniserver_reports_or_it_is_too_old() {
        let c = Commanded::new();
        c.note(&expect(27.0), Mono(1_000));
        // Not yet reported: the commanded 27 °C is what the next decision sees.
        assert_eq!(
            c.over(&reported(21.0, 500), Mono(2_000)).number(&uuid()),
            Some(27.0)
        );
        assert_eq!(c.over(&Live(None), Mono(2_000)).number(&uuid()), Some(27.0));
        // The Miniserver reported after the command: its value wins, whatever it is.
        assert_eq!(
            c.over(&reported(26.5, 1_500), Mono(2_000)).number(&uuid()),
            Some(26.5)
        );
        // Never reported: believed for HOLD, not longer.
        let late = Mono(1_000 + HOLD.as_millis() as u64);
        assert_eq!(
            c.over(&reported(21.0, 500), late).number(&uuid()),
            Some(21.0)
        );
        assert_eq!(c.over(&Live(None), late).number(&uuid()), None);
    }

    #[test]
    fn a_value_a_lost_answer_may_have_set_is_unknown_until_the_miniserver_reports() {
        let c = Commanded::new();
        c.unsure(&expect(27.0), Mono(1_000));
        // Neither the reported 21 °C nor the commanded 27 °C can be trusted.
        assert_eq!(
            c.over(&reported(21.0, 500), Mono(2_000)).number(&uuid()),
            None
        );
        // A report after the command settles it.
        assert_eq!(
            c.over(&reported(27.0, 1_200), Mono(2_000)).number(&uuid()),
            Some(27.0)
        );
        // Not longer than HOLD.
        let late = Mono(1_000 + HOLD.as_millis() as u64);
        assert_eq!(
            c.over(&reported(21.0, 500), late).number(&uuid()),
            Some(21.0)
        );
    }

    #[test]
    fn only_exact_expectations_are_noted() {
        let c = Commanded::new();
        let mut e = expect(27.0);
        e[0].change = Change::Increase;
        c.note(&e, Mono(1_000));
        assert_eq!(
            c.over(&reported(21.0, 500), Mono(2_000)).number(&uuid()),
            Some(21.0)
        );
    }
}
