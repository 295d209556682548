//! The guard: an [`Intent`] in, a [`Verdict`] out (SC-1, SC-2, SC-4, SC-5, SC-7, SC-8, R-2,
//! and the UCAs of issues 5 and 6).
//!
//! Why one function: every rule the gateway enforces on a command is applied here, in one
//! order, on values: posture first (emergency-stop latch, link health), then the device
//! (exposed, not read-only, a command its type supports), then the table, the posture's
//! emergency and night rules, the rate book, and finally whether a person must consent. The
//! shell gets commands only from an [`Allowed`] plan, so nothing reaches the Miniserver that
//! this function did not see.
//!
//! Consent is decided here but asked elsewhere: an [`Allowed`] with `consent: Some(..)` carries
//! the exact question; the shell sends nothing unless the answer is `Accepted`.

mod appliance;
mod audio;
mod comfort;
mod now;
mod scenes;
mod security;

pub use now::actions_now;

use std::time::Duration;

use crate::clock::Mono;
use crate::consent::{self, Presence, Subject};
use crate::house::scene::{self, Effect};
use crate::house::{DevId, Device, House, Kind, UnlockWith};
use crate::intent::{
    AccessAction, AlarmAction, AudioAction, BlindAction, ChargerAction, Intent, IntercomAction,
    LightAction,
};
use crate::loxone::command::{Command, Op, Percent, Tenths};
use crate::loxone::state::LiveStates;
use crate::loxone::structure::TempUnit;
use crate::safety::posture::Posture;
use crate::safety::rate::{Motion, RateBook, RateClass, RateMark};
use crate::safety::table::{
    Limits, NIGHT_LIGHT_MAX, SCENE_MAX_DEVICES_WITHOUT_CONSENT, TempClass, VOLUME_RAMP_PAUSE,
    VolumeClass, num, volume_ramp,
};
use crate::safety::{Allowed, Change, ConsentNeed, Expect, Refusal, Step, Verdict, stop};

/// A bell event counts as a ring only if it arrived this long after the link became live:
/// the state tables sent right after connecting carry old values, not new rings.
pub const RING_GRACE: Duration = Duration::from_secs(5);

/// Decides one intent. Pure: the same inputs always give the same verdict.
pub fn decide(
    intent: &Intent,
    house: &House,
    states: &dyn LiveStates,
    posture: &Posture,
    limits: &Limits,
    rates: &RateBook,
    now: Mono,
) -> Verdict {
    let cx = Cx {
        house,
        states,
        posture,
        limits,
        rates,
        now,
    };
    match cx.decide(intent) {
        Ok(a) => Verdict::Allow(a),
        Err(r) => Verdict::Refuse(r),
    }
}

/// Whether an action is possible now, for `list_devices` / `get_device`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionNow {
    Allowed,
    NeedsConsent,
    Refused(&'static str),
}

struct Cx<'a> {
    house: &'a House,
    states: &'a dyn LiveStates,
    posture: &'a Posture,
    limits: &'a Limits,
    rates: &'a RateBook,
    now: Mono,
}

type R<T> = Result<T, Refusal>;

/// `X is a T; loxwarden has no command to {what} it ({why})`: `what` is a verb phrase that
/// takes "it" as its object, `why` (may be empty) the reason after it.
fn unsupported(house: &House, d: &Device, what: &str, why: &str) -> Refusal {
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(" ({why})")
    };
    Refusal::new(
        "SC-10",
        format!(
            "{} is a {}; loxwarden has no command to {what} it{why}",
            house.describe(d.id),
            d.loxone_type
        ),
    )
}

fn to_celsius(v: f64, unit: TempUnit) -> f64 {
    match unit {
        TempUnit::Celsius => v,
        TempUnit::Fahrenheit => (v - 32.0) * 5.0 / 9.0,
    }
}

fn from_celsius(c: f64, unit: TempUnit) -> f64 {
    match unit {
        TempUnit::Celsius => c,
        TempUnit::Fahrenheit => c * 9.0 / 5.0 + 32.0,
    }
}

impl<'a> Cx<'a> {
    fn decide(&self, intent: &Intent) -> R<Allowed> {
        if intent.is_read_only() {
            return Ok(Allowed::default());
        }
        if let Intent::EmergencyStop { .. } = intent {
            // always allowed, whatever the posture; stopping is never the hazard.
            return Ok(stop::plan(self.house.structure()));
        }
        self.posture.may_actuate()?;
        let Some(id) = intent.device() else {
            return Err(Refusal::new("SC-10", "this tool needs a device"));
        };
        let Some(d) = self.house.get(id) else {
            return Err(Refusal::new("SC-1", "the device no longer exists"));
        };
        if !d.exposed {
            return Err(Refusal::new(
                "SC-1",
                "no exposed device has this id".to_owned(),
            ));
        }
        if let Some(why) = &d.read_only {
            let rule = if crate::house::kind::is_life_safety(&d.loxone_type) {
                "SC-5"
            } else {
                "SC-1"
            };
            return Err(Refusal::new(
                rule,
                format!("{} is read-only: {why}", self.house.describe(id)),
            ));
        }
        // SC-1, H-1: the device must be of the tool's kind, whoever built the intent.
        let kinds = crate::intent::TOOLS
            .iter()
            .find(|t| t.name == intent.tool())
            .map(|t| t.kinds)
            .unwrap_or(&[]);
        if !kinds.is_empty() && !kinds.contains(&d.kind) {
            return Err(Refusal::new(
                "SC-1",
                format!(
                    "{} is {}; {} does not address it",
                    self.house.describe(id),
                    d.kind.with_article(),
                    intent.tool()
                ),
            ));
        }
        match intent {
            Intent::Light { action, .. } => self.light(d, *action),
            Intent::Blind { action, .. } => self.blind(d, *action),
            Intent::Temperature { target, .. } => self.temperature(d, target.celsius),
            Intent::Audio { action, .. } => self.audio(d, *action),
            Intent::Charger { action, .. } => self.charger(d, *action),
            Intent::Appliance { action, .. } => self.appliance(d, *action),
            Intent::Alarm { action, .. } => self.alarm(d, *action),
            Intent::Access { action, .. } => self.access(d, *action),
            Intent::Intercom { action, .. } => self.intercom(d, *action),
            Intent::ActivateScene { scene, .. } => self.scene(d, &scene.op),
            _ => Ok(Allowed::default()),
        }
    }

    // -------------------------------------------------------------- helpers

    fn step(&self, d: &Device, op: Op) -> Step {
        Step {
            device: d.id,
            command: Command::new(d.addr.clone(), op),
            pause_before: Duration::ZERO,
            secured: d.secured,
        }
    }

    fn expect(&self, d: &Device, state: &'static str, change: Change) -> Option<Expect> {
        self.house.state_uuid(d.id, state).map(|uuid| Expect {
            device: d.id,
            state,
            uuid,
            change,
        })
    }

    fn num(&self, d: &Device, state: &str) -> Option<f64> {
        self.house.number(self.states, d.id, state)
    }

    fn mark(&self, d: &Device, class: RateClass, motion: Motion) -> RateMark {
        RateMark {
            addr: d.addr.clone(),
            class,
            motion,
            label: d.label(),
        }
    }

    fn check_rate(&self, d: &Device, mark: &RateMark) -> R<()> {
        self.rates.check(mark, self.motor_still(d), self.now)
    }

    /// Live state says the motor is at rest.
    fn motor_still(&self, d: &Device) -> bool {
        match d.loxone_type.as_str() {
            "Jalousie" => self.num(d, "up") == Some(0.0) && self.num(d, "down") == Some(0.0),
            "Window" => self.num(d, "direction") == Some(0.0),
            "Gate" => self.num(d, "active") == Some(0.0),
            _ => false,
        }
    }

    fn consent(&self, rule: &'static str, d: &Device, subject: Subject) -> ConsentNeed {
        ConsentNeed {
            rule,
            device: d.id,
            addr: d.addr.clone(),
            request: consent::request(
                &subject,
                self.house,
                self.states,
                consent::Moment {
                    now: self.now,
                    local_ms: self.posture.local_ms,
                    clock_shifted: self.posture.clock_shifted,
                    changes_known_after: self.posture.link.since.plus(RING_GRACE),
                },
            ),
        }
    }

    fn emergency_text(&self) -> String {
        self.posture
            .emergency
            .iter()
            .map(|c| c.text.clone())
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn refuse_in_emergency(&self, rule: &'static str, what: &str) -> R<()> {
        if self.posture.emergency() {
            return Err(Refusal::new(
                rule,
                format!(
                    "{what} is refused during an emergency ({})",
                    self.emergency_text()
                ),
            ));
        }
        Ok(())
    }

    /// Burglar alarms armed right now (exposed or not: the person must know).
    fn armed_alarms(&self) -> Vec<DevId> {
        self.house
            .all()
            .iter()
            .filter(|d| d.loxone_type == "Alarm")
            .filter(|d| self.num(d, "armed").is_some_and(|v| v != 0.0))
            .map(|d| d.id)
            .collect()
    }

    // -------------------------------------------------------------- lights

    // -------------------------------------------------------------- blinds and windows

    // -------------------------------------------------------------- climate

    // -------------------------------------------------------------- audio

    // -------------------------------------------------------------- chargers

    // -------------------------------------------------------------- alarms

    // -------------------------------------------------------------- access

    // -------------------------------------------------------------- intercom

    // -------------------------------------------------------------- scenes
}

#[cfg(test)]
mod tests;
