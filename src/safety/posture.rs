//! The safety posture: what the present state of the house forbids, whoever asks (issue 6).
//!
//! Why computed on every decision: a posture cached at the start of a session would miss the
//! smoke alarm that went off a minute ago. [`Posture::compute`] reads live states through
//! [`LiveStates`], the link health and the emergency-stop latch, and explains itself so that
//! `get_system_status` can say which posture holds and why.
//!
//! - **Emergency stop latched** (R-11): no actuation except `emergency_stop` itself.
//! - **Degraded link** (SC-4, SC-8): no actuation.
//! - **Emergency** (UCA-B2, UCA-A2, UCA-L1, UCA-D2): any smoke/fire/water alarm, emergency
//!   button, care (fall/inactivity) alarm or alarm sequence active, or its state unknown. The guard then refuses closing blinds, windows and gates, locking access
//!   devices, scenes that close or switch off anything, audio play and volume up, and lights off.
//! - **Intrusion** (UCA-A2, R-16): the burglar alarm is sounding; audio may not start or get
//!   louder (it could mask the alarm).
//! - **Night** (UCA-L2): within the configured hours (or when local time is unknown), lights in
//!   sleeping rooms go on at no more than 30 % unless a person consents.

use std::fmt::Write as _;
use std::time::Duration;

use crate::clock::Mono;
use crate::house::{DevId, House};
use crate::loxone::health::{Health, LinkState};
use crate::loxone::state::LiveStates;
use crate::safety::Refusal;
use crate::safety::table::{Limits, NightHours};

/// Why an emergency (or intrusion) posture holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    pub device: DevId,
    /// Canonical explanation, e.g. `smoke alarm 'Central/Fire alarm' level 2 (smoke)`.
    pub text: String,
    /// False when the state is unknown and the posture is assumed to be safe-side.
    pub certain: bool,
}

/// The link's part of the posture.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkPosture {
    pub state: LinkState,
    pub since: Mono,
    pub reason: String,
}

/// Night, when it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NightNow {
    pub hours: NightHours,
    /// False when local time is unknown (night is then assumed).
    pub certain: bool,
}

/// The posture of the house at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Posture {
    pub link: LinkPosture,
    /// The emergency stop is latched, for this long (from the latch file's wall-clock time, so
    /// it stays right across a restart).
    pub estop_for: Option<Duration>,
    pub emergency: Vec<Cause>,
    pub intrusion: Vec<Cause>,
    pub night: Option<NightNow>,
    /// Milliseconds after local midnight, if the shell knows local time.
    pub local_ms: Option<u32>,
    /// The last daylight-saving switch, if one happened within the last day: before it, "now
    /// less the time since" is not the local time of a moment.
    pub clock_shifted: Option<Mono>,
    pub now: Mono,
}

/// What [`Posture::compute`] needs.
pub struct Inputs<'a> {
    pub house: &'a House,
    pub states: &'a dyn LiveStates,
    pub health: &'a Health,
    /// How long the emergency-stop latch has been set, if it is.
    pub estop_for: Option<Duration>,
    pub limits: &'a Limits,
    /// Milliseconds after local midnight, if the shell knows local time.
    pub local_ms: Option<u32>,
    /// How long ago local time last switched (daylight saving), if within the last day.
    pub clock_shifted_ago: Option<Duration>,
    pub now: Mono,
}

/// "smoke alarm 'Hall/Fire alarm'" when the AI may see the device, else "a smoke alarm": these
/// texts reach refusals, and unexposed devices never appear in tool output.
fn name(what: &str, d: &crate::house::Device) -> String {
    if d.exposed {
        format!("{what} '{}'", d.label())
    } else if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {what}")
    } else {
        format!("a {what}")
    }
}

/// SmokeAlarm `alarmCause` bits (SF).
const CAUSES: [(u32, &str); 4] = [
    (1, "smoke"),
    (2, "water"),
    (4, "temperature"),
    (8, "arc fault"),
];

/// `for 12 s`, or `for less than 1 s` (never "for 0 s").
fn for_how_long(d: std::time::Duration) -> String {
    match d.as_secs() {
        0 => "for less than 1 s".into(),
        s => format!("for {s} s"),
    }
}

/// An emergency, fall or inactivity alarm or an alarm sequence (SF "AalSmartAlarm",
/// "AalEmergency", "AlarmChain") that is active, or whose state is not known: the house is in
/// the emergency posture (L-1, L-7), as for a smoke alarm.
fn life_safety(i: &Inputs<'_>, d: &crate::house::Device) -> Option<Cause> {
    let (what, state) = match d.loxone_type.as_str() {
        "AalSmartAlarm" => ("care alarm", "alarmLevel"),
        "AalEmergency" => ("emergency button", "status"),
        _ => ("alarm sequence", "activeAlarmType"),
    };
    let Some(v) = i.house.number(i.states, d.id, state) else {
        return Some(Cause {
            device: d.id,
            text: format!(
                "the state of {} is not known, so an emergency is assumed",
                name(what, d)
            ),
            certain: false,
        });
    };
    let active = match d.loxone_type.as_str() {
        "AalSmartAlarm" => v > 0.0,
        // 1 is "alarm triggered"; 2 (reset input) and 3 (disabled) are not alarms.
        "AalEmergency" => v == 1.0,
        // Bits 2, 4, 8 are an alarm, an urgent and an EMS alarm; 1 alone is acknowledged.
        _ => (v as u32) & 14 != 0,
    };
    active.then(|| Cause {
        device: d.id,
        text: format!("{} is active ({state} {v})", name(what, d)),
        certain: true,
    })
}

impl Posture {
    pub fn compute(i: &Inputs<'_>) -> Posture {
        let mut emergency = Vec::new();
        let mut intrusion = Vec::new();
        for d in i.house.all() {
            match d.loxone_type.as_str() {
                "SmokeAlarm" => {
                    let level = i.house.number(i.states, d.id, "level");
                    let cause = i.house.number(i.states, d.id, "alarmCause");
                    match (level, cause) {
                        (None, None) => emergency.push(Cause {
                            device: d.id,
                            text: format!(
                                "the state of {} is not known, so an emergency is assumed",
                                name("smoke alarm", d)
                            ),
                            certain: false,
                        }),
                        (l, c) => {
                            let l = l.unwrap_or(0.0);
                            let c = c.unwrap_or(0.0);
                            if l > 0.0 || c != 0.0 {
                                let mut t = format!("{} is active", name("smoke alarm", d));
                                if l > 0.0 {
                                    let _ = write!(t, " (level {l})");
                                }
                                let bits: Vec<&str> = CAUSES
                                    .iter()
                                    .filter(|(b, _)| (c as u32) & b != 0)
                                    .map(|(_, n)| *n)
                                    .collect();
                                if !bits.is_empty() {
                                    let _ = write!(t, ": {}", bits.join(", "));
                                }
                                emergency.push(Cause {
                                    device: d.id,
                                    text: t,
                                    certain: true,
                                });
                            }
                        }
                    }
                }
                "AalSmartAlarm" | "AalEmergency" | "AlarmChain" => {
                    if let Some(c) = life_safety(i, d) {
                        emergency.push(c);
                    }
                }
                "Alarm" | "CentralAlarm" => {
                    if let Some(l) = i.house.number(i.states, d.id, "level")
                        && l > 0.0
                    {
                        intrusion.push(Cause {
                            device: d.id,
                            text: format!("{} is sounding (level {l})", name("burglar alarm", d)),
                            certain: true,
                        });
                    }
                }
                _ => {}
            }
        }
        let night =
            i.limits
                .night
                .as_ref()
                .and_then(|h| match i.local_ms.map(|ms| (ms / 60_000) as u16) {
                    Some(m) if h.contains(m) => Some(NightNow {
                        hours: h.clone(),
                        certain: true,
                    }),
                    Some(_) => None,
                    None => Some(NightNow {
                        hours: h.clone(),
                        certain: false,
                    }),
                });
        Posture {
            link: LinkPosture {
                state: i.health.state,
                since: i.health.since,
                reason: i.health.reason.clone(),
            },
            estop_for: i.estop_for,
            emergency,
            intrusion,
            night,
            local_ms: i.local_ms,
            clock_shifted: i
                .clock_shifted_ago
                .map(|ago| Mono(i.now.0.saturating_sub(ago.as_millis() as u64))),
            now: i.now,
        }
    }

    /// Refuses all actuation while the emergency stop is latched or the link is not live.
    pub fn may_actuate(&self) -> Result<(), Refusal> {
        if let Some(latched_for) = self.estop_for {
            let mut r = "the emergency stop is latched".to_owned();
            // "(for 0 s)" read as "not latched at all".
            let _ = write!(r, " ({})", for_how_long(latched_for));
            r.push_str("; a person must clear it with `loxwarden resume`");
            return Err(Refusal::new("R-11", r));
        }
        if self.link.state != LinkState::Live {
            let mut r = format!("the link to the Miniserver is {}", self.link.state.as_str());
            let _ = write!(r, " ({})", for_how_long(self.now.since(self.link.since)));
            if !self.link.reason.is_empty() {
                let _ = write!(r, ": {}", self.link.reason);
            }
            r.push_str("; no command is sent until it is live again");
            return Err(Refusal::new("SC-8", r));
        }
        Ok(())
    }

    /// An emergency holds (or cannot be ruled out).
    pub fn emergency(&self) -> bool {
        !self.emergency.is_empty()
    }

    /// The burglar alarm is sounding.
    pub fn intrusion(&self) -> bool {
        !self.intrusion.is_empty()
    }

    /// Whether night rules apply to lights in `room`.
    pub fn night_in(&self, room: &str) -> bool {
        self.night
            .as_ref()
            .is_some_and(|n| n.hours.is_sleeping_room(room))
    }

    /// The most severe posture's name: `emergency-stop`, `degraded`, `emergency`, `intrusion`,
    /// `night` or `normal`.
    pub fn name(&self) -> &'static str {
        if self.estop_for.is_some() {
            "emergency-stop"
        } else if self.link.state != LinkState::Live {
            "degraded"
        } else if self.emergency() {
            "emergency"
        } else if self.intrusion() {
            "intrusion"
        } else if self.night.is_some() {
            "night"
        } else {
            "normal"
        }
    }

    /// Every reason that holds, most severe first (canonical text only).
    pub fn reasons(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Err(r) = self.may_actuate() {
            v.push(r.reason);
        }
        if self.estop_for.is_some() && self.link.state != LinkState::Live {
            v.push(format!(
                "the link to the Miniserver is {}",
                self.link.state.as_str()
            ));
        }
        v.extend(self.emergency.iter().map(|c| c.text.clone()));
        v.extend(self.intrusion.iter().map(|c| c.text.clone()));
        if let Some(n) = &self.night {
            let rooms = if n.hours.sleeping_rooms.is_empty() {
                "no sleeping rooms configured".to_owned()
            } else {
                format!("sleeping rooms: {}", n.hours.sleeping_rooms.join(", "))
            };
            v.push(if n.certain {
                format!("night hours ({rooms})")
            } else {
                format!("local time unknown, night assumed ({rooms})")
            });
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::house::testhouse::*;
    use crate::safety::testkit::*;

    fn posture(states: &FakeStates, health: &Health, minute: Option<u16>) -> Posture {
        let h = test_house();
        let limits = test_limits();
        Posture::compute(&Inputs {
            house: &h,
            states,
            health,
            estop_for: None,
            limits: &limits,
            local_ms: minute.map(|m| u32::from(m) * 60_000),
            clock_shifted_ago: None,
            now: Mono(100_000),
        })
    }

    #[test]
    fn a_quiet_house_in_the_afternoon_is_normal() {
        let s = quiet_states();
        let p = posture(&s, &live(), Some(15 * 60));
        assert_eq!(p.name(), "normal");
        assert!(p.may_actuate().is_ok());
        assert!(p.reasons().is_empty());
    }

    #[test]
    fn an_active_smoke_alarm_is_an_emergency_with_its_cause() {
        let h = test_house();
        let mut s = quiet_states();
        s.set(&h, a::SMOKE, "level", 2.0);
        s.set(&h, a::SMOKE, "alarmCause", 3.0);
        let p = posture(&s, &live(), Some(15 * 60));
        assert_eq!(p.name(), "emergency");
        assert_eq!(
            p.reasons(),
            vec!["a smoke alarm is active (level 2): smoke, water".to_owned()]
        );
    }

    #[test]
    fn an_exposed_smoke_alarm_is_named_in_the_explanation() {
        let h = house_with(
            TEST_HOUSE,
            &TEST_CONFIG.replace("opt_in = [", "opt_in = [\"Fire alarm\", "),
        );
        let mut s = quiet_states();
        s.set(&h, a::SMOKE, "level", 1.0);
        let limits = test_limits();
        let p = Posture::compute(&Inputs {
            house: &h,
            states: &s,
            health: &live(),
            estop_for: None,
            limits: &limits,
            local_ms: Some(600 * 60_000),
            clock_shifted_ago: None,
            now: Mono(100_000),
        });
        assert_eq!(
            p.reasons(),
            vec!["smoke alarm 'Central/Fire alarm' is active (level 1)".to_owned()]
        );
    }

    #[test]
    fn a_water_alarm_alone_is_an_emergency() {
        let h = test_house();
        let mut s = quiet_states();
        s.set(&h, a::SMOKE, "alarmCause", 2.0);
        assert!(posture(&s, &live(), Some(600)).emergency());
    }

    #[test]
    fn an_unknown_smoke_alarm_state_is_assumed_an_emergency() {
        let s = FakeStates::default();
        let p = posture(&s, &live(), Some(600));
        assert!(p.emergency());
        assert!(!p.emergency[0].certain);
    }

    #[test]
    fn a_sounding_burglar_alarm_is_an_intrusion() {
        let h = test_house();
        let mut s = quiet_states();
        s.set(&h, a::ALARM, "level", 2.0);
        let p = posture(&s, &live(), Some(600));
        assert_eq!(p.name(), "intrusion");
    }

    /// A link degraded since 40 s after start, by a missed keepalive.
    fn degraded() -> Health {
        Health {
            state: LinkState::Degraded,
            since: Mono(40_000),
            since_wall: std::time::SystemTime::UNIX_EPOCH,
            reason: "keepalive missed".into(),
        }
    }

    #[test]
    fn a_link_that_is_not_live_refuses_actuation_saying_why_and_since_when() {
        let s = quiet_states();
        let h = degraded();
        let p = posture(&s, &h, Some(600));
        assert_eq!(p.name(), "degraded");
        let r = p.may_actuate().unwrap_err();
        assert_eq!(r.rule, "SC-8");
        assert!(
            r.reason.contains("degraded (for 60 s): keepalive missed"),
            "{r}"
        );
    }

    #[test]
    fn a_degraded_link_is_one_reason_and_a_smoke_cause_without_level_shows_no_level() {
        let h = test_house();
        let mut s = quiet_states();
        // Without an emergency stop the link is named once, not twice.
        assert_eq!(posture(&s, &degraded(), Some(600)).reasons().len(), 1);
        s.set(&h, a::SMOKE, "level", 0.0);
        s.set(&h, a::SMOKE, "alarmCause", 1.0);
        let p = posture(&s, &live(), Some(15 * 60));
        assert_eq!(p.name(), "emergency");
        assert_eq!(
            p.reasons(),
            vec!["a smoke alarm is active: smoke".to_owned()]
        );
    }

    #[test]
    fn a_latched_stop_names_the_link_as_well_only_when_the_link_is_down() {
        // The latch hides the link's state from `may_actuate`; `reasons` must still say it.
        let s = quiet_states();
        let mut p = posture(&s, &live(), Some(600));
        p.estop_for = Some(Duration::from_secs(5));
        assert_eq!(p.reasons().len(), 1, "{:?}", p.reasons());
        let mut p = posture(&s, &degraded(), Some(600));
        p.estop_for = Some(Duration::from_secs(5));
        let r = p.reasons();
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[0].starts_with("the emergency stop is latched"), "{r:?}");
        assert_eq!(r[1], "the link to the Miniserver is degraded");
    }

    #[test]
    fn a_latched_emergency_stop_refuses_actuation() {
        let s = quiet_states();
        let mut p = posture(&s, &live(), Some(600));
        p.estop_for = Some(Duration::from_secs(90));
        assert_eq!(p.name(), "emergency-stop");
        let r = p.may_actuate().unwrap_err();
        assert_eq!(r.rule, "R-11");
        // How long it has held, so the person knows whether it is theirs; and how to lift it.
        assert!(r.reason.contains("latched (for 90 s);"), "{r}");
        assert!(r.reason.contains("`loxwarden resume`"), "{r}");
        // Latched a moment ago: never "(for 0 s)".
        for moment in [Duration::ZERO, Duration::from_millis(300)] {
            p.estop_for = Some(moment);
            let r = p.may_actuate().unwrap_err();
            assert!(
                r.reason
                    .starts_with("the emergency stop is latched (for less than 1 s);"),
                "{r}"
            );
        }
    }

    #[test]
    fn night_holds_within_hours_only_for_sleeping_rooms_and_when_time_is_unknown() {
        let s = quiet_states();
        let p = posture(&s, &live(), Some(23 * 60));
        assert_eq!(p.name(), "night");
        assert!(p.night_in("bedroom") && p.night_in("Nursery"));
        assert!(!p.night_in("Kitchen"));
        assert!(posture(&s, &live(), Some(12 * 60)).night.is_none());
        let unknown = posture(&s, &live(), None);
        assert!(unknown.night_in("Bedroom"));
        assert!(unknown.reasons()[0].contains("local time unknown"));
    }

    /// The every-type house with all its life-safety blocks quiet, and the address of each.
    fn every_type_quiet() -> (House, FakeStates, Vec<(String, &'static str)>) {
        let st = crate::loxone::structure::Structure::parse(
            crate::sim::every_type_structure().as_bytes(),
        )
        .unwrap();
        let h = House::new(std::sync::Arc::new(st), &crate::config::Config::default()).unwrap();
        let mut s = FakeStates::default();
        let mut addrs = Vec::new();
        for (ty, state) in [
            ("SmokeAlarm", "level"),
            ("AalSmartAlarm", "alarmLevel"),
            ("AalEmergency", "status"),
            ("AlarmChain", "activeAlarmType"),
        ] {
            let d = h.all().iter().find(|d| d.loxone_type == ty).unwrap();
            let addr = d.addr.to_string();
            s.set(&h, &addr, state, 0.0);
            addrs.push((addr, state));
        }
        (h, s, addrs)
    }

    fn posture_of(h: &House, s: &FakeStates) -> Posture {
        Posture::compute(&Inputs {
            house: h,
            states: s,
            health: &live(),
            estop_for: None,
            limits: &Limits::default(),
            local_ms: Some(15 * 60 * 60_000),
            clock_shifted_ago: None,
            now: Mono(100_000),
        })
    }

    #[test]
    fn care_alarms_emergency_buttons_and_alarm_sequences_put_the_house_in_emergency() {
        let (h, quiet, addrs) = every_type_quiet();
        assert_eq!(posture_of(&h, &quiet).name(), "normal");
        // Active: the posture names the block (hidden from the AI: "a care alarm").
        for ((addr, state), v, words) in addrs
            .iter()
            .skip(1)
            .zip([1.0, 1.0, 2.0])
            .zip([
                "a care alarm is active (alarmLevel 1)",
                "an emergency button is active (status 1)",
                "an alarm sequence is active (activeAlarmType 2)",
            ])
            .map(|((a, v), w)| (a, v, w))
        {
            let mut s = quiet.clone();
            s.set(&h, addr, state, v);
            let p = posture_of(&h, &s);
            assert_eq!(p.name(), "emergency", "{addr}");
            assert_eq!(p.reasons(), vec![words.to_owned()]);
        }
        // Unknown: an emergency is assumed.
        for (addr, state) in addrs.iter().skip(1) {
            let mut s = quiet.clone();
            s.unset(&h, addr, state);
            let p = posture_of(&h, &s);
            assert_eq!(p.name(), "emergency", "{addr}");
            assert!(!p.emergency[0].certain);
            assert!(p.reasons()[0].contains("is not known, so an emergency is assumed"));
        }
    }

    #[test]
    fn an_acknowledged_sequence_a_reset_or_disabled_button_is_no_emergency() {
        let (h, quiet, addrs) = every_type_quiet();
        for (i, v) in [(3, 1.0), (2, 2.0), (2, 3.0)] {
            let (addr, state) = &addrs[i];
            let mut s = quiet.clone();
            s.set(&h, addr, state, v);
            assert_eq!(posture_of(&h, &s).name(), "normal", "{state} {v}");
        }
    }
}
