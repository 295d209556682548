//! The compiled-in safety table (issue 5). Every limit is a `const` with the hazard it prevents
//! and a test right under it; the config may tighten the table (a nursery's band), never loosen
//! it ([`Limits::from_config`] rejects a config that tries).
//!
//! Why compiled in: a limit that lives only in a config file is one edit away from gone, and an
//! AI that can talk a person into editing it has no limit at all. Units: °C throughout (the guard
//! converts to and from the Miniserver's unit), percent for volume and brightness.

use std::time::Duration;

use crate::config::Config;
use crate::house::eq_ci;
use crate::safety::Refusal;

/// A closed band `min..=max`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    pub min: f64,
    pub max: f64,
}

impl Band {
    pub fn contains(self, v: f64) -> bool {
        v >= self.min && v <= self.max
    }
    fn intersect(self, min: Option<f64>, max: Option<f64>) -> Band {
        Band {
            min: min.map_or(self.min, |m| m.max(self.min)),
            max: max.map_or(self.max, |m| m.min(self.max)),
        }
    }
}

/// Prints `16–28` with at most one decimal.
fn band_text(b: Band) -> String {
    format!("{}–{}", num(b.min), num(b.max))
}

/// A number with at most one decimal, no trailing `.0`.
pub fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

// ------------------------------------------------------------------ temperature (SC-2)

/// SC-2, R-5, UCA-T1/T2: setpoints in this band need no further question.
pub const TEMP_FREE_C: Band = Band {
    min: 16.0,
    max: 28.0,
};
#[test]
fn sc2_free_band_is_16_to_28_inclusive() {
    let l = Limits::default();
    for t in [16.0, 16.1, 22.0, 27.9, 28.0] {
        assert_eq!(
            l.temperature(t, Some(t), "").unwrap(),
            TempClass::Free,
            "{t}"
        );
    }
}

/// SC-2, UCA-T1/T2/T3: outside this band a setpoint is refused outright (35 °C heat stroke,
/// 5 °C hypothermia, 70 "°C" typed for °F). Between it and the free band, consent.
pub const TEMP_HARD_C: Band = Band {
    min: 10.0,
    max: 30.0,
};
#[test]
fn sc2_outside_10_to_30_is_refused_and_between_needs_consent() {
    let l = Limits::default();
    for t in [10.0, 10.1, 15.9, 28.1, 29.9, 30.0] {
        assert_eq!(
            l.temperature(t, Some(t), "").unwrap(),
            TempClass::NeedsConsent,
            "{t}"
        );
    }
    for t in [9.9, 30.1, 35.0, 5.0, 70.0, -3.0] {
        let r = l.temperature(t, Some(t), "").unwrap_err();
        assert_eq!(r.rule, "SC-2");
    }
    assert_eq!(
        l.temperature(35.0, Some(22.0), "").unwrap_err().to_string(),
        "SC-2: 35 °C is outside 10–30 °C (16–28 °C without consent)"
    );
}

/// SC-2, UCA-T1/T3: one change may move the setpoint at most this far from the current target
/// (a slip of units or digits does not become a 15 °C jump).
pub const TEMP_MAX_STEP_C: f64 = 6.0;
#[test]
fn sc2_a_change_of_more_than_6_degrees_is_refused() {
    let l = Limits::default();
    assert!(l.temperature(26.0, Some(20.0), "").is_ok());
    assert!(l.temperature(14.0, Some(20.0), "").is_ok());
    let r = l.temperature(26.1, Some(20.0), "").unwrap_err();
    assert_eq!(r.rule, "SC-2");
    assert!(r.reason.contains("6.1 °C"), "{r}");
    // The current target is unknown: the step cannot be checked, so nothing is sent.
    assert!(l.temperature(22.0, None, "").is_err());
}

// ------------------------------------------------------------------ volume (UCA-A1)

/// UCA-A1: the loudest an AI may set a zone without a person.
pub const VOLUME_FREE_MAX: u8 = 60;
/// UCA-A1: the absolute cap, even with consent.
pub const VOLUME_HARD_MAX: u8 = 85;
#[test]
fn uca_a1_volume_60_is_free_61_to_85_needs_consent_above_refused() {
    let l = Limits::default();
    for v in [0, 59, 60] {
        assert_eq!(l.volume(v, "").unwrap(), VolumeClass::Free, "{v}");
    }
    for v in [61, 84, 85] {
        assert_eq!(l.volume(v, "").unwrap(), VolumeClass::NeedsConsent, "{v}");
    }
    for v in [86, 100] {
        assert_eq!(l.volume(v, "").unwrap_err().rule, "UCA-A1");
    }
}

/// a volume rise is carried out in steps of at most this many points …
pub const VOLUME_RAMP_STEP: u8 = 10;
/// … with this pause before each further step.
pub const VOLUME_RAMP_PAUSE: Duration = Duration::from_millis(800);
#[test]
fn r15_volume_rises_in_steps_of_at_most_10() {
    assert_eq!(volume_ramp(20, 55), vec![30, 40, 50, 55]);
    assert_eq!(volume_ramp(20, 30), vec![30]);
    assert_eq!(volume_ramp(20, 31), vec![30, 31]);
    assert_eq!(volume_ramp(0, 60).len(), 6);
    // Lowering is never ramped: quiet must be immediate (an alarm may need hearing, UCA-A2).
    assert_eq!(volume_ramp(60, 5), vec![5]);
}

// ------------------------------------------------------------------ motors (R-13, UCA-B1)

/// R-13, UCA-B1: at least this long between two commands to the same blind, window or gate
/// (a stop is never delayed).
pub const MOTOR_MIN_INTERVAL: Duration = Duration::from_secs(2);
/// R-13, UCA-B1: at most this many commands per blind, window or gate per minute.
pub const MOTOR_MAX_PER_MINUTE: usize = 10;
#[test]
fn r13_motor_limits_are_2s_and_10_per_minute() {
    assert_eq!(MOTOR_MIN_INTERVAL, Duration::from_secs(2));
    assert_eq!(MOTOR_MAX_PER_MINUTE, 10);
    // The behaviour is tested with an injected clock in rate.rs.
    assert!(crate::safety::rate::RateClass::Motor.min_interval() == MOTOR_MIN_INTERVAL);
}

// ------------------------------------------------------------------ lights (UCA-L1, UCA-L2)

/// UCA-L1: at most one change per second per light (no strobe) …
pub const LIGHT_MIN_INTERVAL: Duration = Duration::from_secs(1);
/// UCA-L1: … and at most this many per minute.
pub const LIGHT_MAX_PER_MINUTE: usize = 20;
#[test]
fn uca_l1_light_limits_are_1s_and_20_per_minute() {
    assert_eq!(
        crate::safety::rate::RateClass::Light.min_interval(),
        LIGHT_MIN_INTERVAL
    );
    assert_eq!(
        crate::safety::rate::RateClass::Light.max_per_minute(),
        LIGHT_MAX_PER_MINUTE
    );
}

/// UCA-L2: at night, lights in sleeping rooms go on at no more than this without consent.
pub const NIGHT_LIGHT_MAX: u8 = 30;
#[test]
fn uca_l2_night_cap_is_30_percent() {
    assert_eq!(NIGHT_LIGHT_MAX, 30);
}

// ------------------------------------------------------------------ consent (issue 6)

/// SC-7, R-10: a scene that changes more devices than this needs consent.
pub const SCENE_MAX_DEVICES_WITHOUT_CONSENT: usize = 5;
#[test]
fn sc7_more_than_5_devices_need_consent() {
    assert_eq!(SCENE_MAX_DEVICES_WITHOUT_CONSENT, 5);
}

/// UCA-I1: the intercom door may be opened only this long after a bell ring (config may
/// shorten it).
pub const INTERCOM_WINDOW: Duration = Duration::from_secs(120);
#[test]
fn uca_i1_intercom_window_is_120s_and_config_may_only_shorten_it() {
    let cfg = |s: u64| {
        let mut c = Config::default();
        c.consent.intercom_window_s = s;
        Limits::from_config(&c)
    };
    assert_eq!(cfg(120).unwrap().intercom_window, INTERCOM_WINDOW);
    assert_eq!(cfg(30).unwrap().intercom_window, Duration::from_secs(30));
    assert!(cfg(121).is_err());
    assert!(cfg(0).is_err());
}

/// SC-5: after this many declined or unanswered requests for one device within
/// [`FATIGUE_WINDOW`], further requests are refused for [`FATIGUE_BLOCK`] without asking.
pub const FATIGUE_MAX_MISSES: usize = 3;
pub const FATIGUE_WINDOW: Duration = Duration::from_secs(600);
pub const FATIGUE_BLOCK: Duration = Duration::from_secs(600);
/// SC-5: a stateless-era (MRTR) question not answered within this (the lifetime of its
/// `requestState`, after which no answer to it can be accepted) went unanswered.
pub const FATIGUE_MRTR_UNANSWERED: Duration = Duration::from_secs(120);
#[test]
fn sc5_consent_fatigue_is_3_misses_in_10_minutes_blocking_10_minutes() {
    assert_eq!(FATIGUE_MAX_MISSES, 3);
    assert_eq!(FATIGUE_WINDOW.as_secs(), 600);
    assert_eq!(FATIGUE_BLOCK.as_secs(), 600);
    assert_eq!(
        FATIGUE_MRTR_UNANSWERED,
        crate::mcp::ServerConfig::default().request_state_ttl
    );
}

// ------------------------------------------------------------------ results

/// Where a temperature falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TempClass {
    Free,
    NeedsConsent,
}

/// Where a volume falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VolumeClass {
    Free,
    NeedsConsent,
}

/// The volumes to set, in order, to go from `from` to `to`. Rises go in steps of at most
/// [`VOLUME_RAMP_STEP`]; a decrease is one step.
pub fn volume_ramp(from: u8, to: u8) -> Vec<u8> {
    if to <= from {
        return vec![to];
    }
    let mut v = Vec::new();
    let mut cur = from;
    while cur < to {
        cur = cur.saturating_add(VOLUME_RAMP_STEP).min(to);
        v.push(cur);
    }
    v
}

mod appliance;
mod limits;

pub use appliance::*;
pub use limits::*;
