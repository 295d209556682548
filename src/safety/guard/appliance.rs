//! Ventilation, saunas and irrigation (`control_appliance`, issue 22): air that must not stop in
//! a fire, heat that must not start with nobody home, water that must not run unbounded.
//!
//! Commands and states are the Structure File's (SF v16 "Ventilation", "Sauna", "Irrigation").
//! Where the document is unclear the conservative reading is taken, and said here:
//! - Ventilation: SF does not say whether a manual timer (`setTimer/…/-1`) overrides the block's
//!   stop input `St` (the house's smoke or fireplace logic). So no timer is started while
//!   `ventReason` is 4 (Stop) or while the house is in the emergency posture; `setTimer/0`
//!   ("returns to automatic mode") hands the air back to the house's logic and is never refused
//!   for posture. SF gives no range for the timer's speed; the block's own range for the
//!   current occupancy (`presenceMin`–`presenceMax` when `presence` is active, else
//!   `absenceMin`–`absenceMax`) is taken as the range, and an unknown one refuses.
//! - Sauna: SF does not name the unit of `temp/{target}`; a house in °F gets no sauna target
//!   (refused) rather than a guess. `off` "turns the sauna off right away" and is never refused
//!   for posture, presence or consent.
//! - Irrigation: `select/{zone}` "activates the zone until stopped", a bound only loxwarden's
//!   staying alive would keep, so it is not used; only `start` (each zone for its own
//!   `duration`, ended by the Miniserver) is, and only when every duration is known and within
//!   the table. `startForce` (ignoring rain, L-6) is not used.

use super::*;
use crate::intent::ApplianceAction;
use crate::safety::table::{
    IRRIGATION_TOTAL_MAX_MIN, IRRIGATION_ZONE_MAX_MIN, SAUNA_TEMP_C, VENT_TIMER_MAX_MIN,
};

/// SF "Ventilation" `ventReason` 4: stopped by the block's input `St`.
const VENT_REASON_STOP: f64 = 4.0;

/// One irrigation zone from SF "Irrigation" state `zones`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Zone {
    pub name: String,
    pub secs: u64,
}

/// The zones of an irrigation block from its `zones` text state (`[{"id","name","duration"}]`),
/// or `None` when the state is missing or not that shape.
pub(crate) fn zones(house: &House, states: &dyn LiveStates, id: DevId) -> Option<Vec<Zone>> {
    let text = house.text(states, id, "zones")?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.as_array()?
        .iter()
        .map(|z| {
            Some(Zone {
                name: z.get("name")?.as_str()?.to_owned(),
                secs: z.get("duration")?.as_f64().filter(|s| *s >= 0.0)? as u64,
            })
        })
        .collect()
}

impl Cx<'_> {
    pub(super) fn appliance(&self, d: &Device, action: ApplianceAction) -> R<Allowed> {
        if !ApplianceAction::vocabulary(&d.loxone_type).contains(&action.word()) {
            return Err(unsupported(self.house, d, action.word(), ""));
        }
        match d.loxone_type.as_str() {
            "Ventilation" => self.ventilation(d, action),
            "Sauna" => self.sauna(d, action),
            _ => self.irrigation(d, action),
        }
    }

    fn ventilation(&self, d: &Device, action: ApplianceAction) -> R<Allowed> {
        let mut a = Allowed::default();
        let ApplianceAction::Level {
            level,
            mode,
            minutes,
        } = action
        else {
            // Back to the house's programme: never the hazard, allowed in every posture.
            a.plan.push(self.step(d, Op::VentAuto));
            a.expect
                .extend(self.expect(d, "activeTimerProfile", Change::To(-2.0)));
            return Ok(a);
        };
        // UCA-V1, L-1: in a fire the house's own logic governs the air (smoke extraction or
        // stop); the AI starts no timer that could override it.
        self.refuse_in_emergency("UCA-V1", "a manual ventilation timer")?;
        if self.num(d, "ventReason") == Some(VENT_REASON_STOP) {
            let by = self
                .house
                .text(self.states, d.id, "stoppedBy")
                .filter(|t| !t.trim().is_empty())
                .map(|t| format!(" by {}", crate::house::scene::clean_name(&t)))
                .unwrap_or_default();
            return Err(Refusal::new(
                "UCA-V1",
                format!(
                    "{} is stopped by the house's logic (its input St{by}); loxwarden does not \
                     override it",
                    self.house.describe(d.id)
                ),
            ));
        }
        if minutes > VENT_TIMER_MAX_MIN {
            return Err(Refusal::new(
                "UCA-V1",
                format!(
                    "a manual ventilation timer runs at most {VENT_TIMER_MAX_MIN} min, not \
                     {minutes}"
                ),
            ));
        }
        let Some(mode) = mode.or_else(|| {
            self.num(d, "mode")
                .filter(|m| *m >= 0.0 && m.fract() == 0.0)
                .map(|m| m as u16)
        }) else {
            return Err(Refusal::new(
                "SC-10",
                format!(
                    "the current mode of {} is not known; name a mode",
                    self.house.describe(d.id)
                ),
            ));
        };
        let present = self.num(d, "presence");
        let (lo, hi, whose) = match present {
            Some(p) if p != 0.0 => ("presenceMin", "presenceMax", "with someone present"),
            Some(_) => ("absenceMin", "absenceMax", "with nobody present"),
            None => ("", "", ""),
        };
        let (Some(min), Some(max)) = (self.num(d, lo), self.num(d, hi)) else {
            return Err(Refusal::new(
                "SC-10",
                format!(
                    "the level range of {} is not known, so level {} % cannot be checked",
                    self.house.describe(d.id),
                    level.get()
                ),
            ));
        };
        let v = f64::from(level.get());
        if v < min || v > max {
            return Err(Refusal::new(
                "UCA-V1",
                format!(
                    "level {} % is outside {}–{} %, the range {} sets {whose}",
                    level.get(),
                    num(min),
                    num(max),
                    self.house.describe(d.id)
                ),
            ));
        }
        if level.get() == 0 {
            // The air stops for the whole timer (CO2, damp: L-2): a person decides.
            a.consent = Some(self.consent(
                "UCA-V1",
                d,
                Subject::VentilationStill {
                    device: d.id,
                    minutes,
                },
            ));
        }
        a.plan.push(self.step(
            d,
            Op::VentTimer {
                secs: u32::from(minutes) * 60,
                speed: level,
                mode,
            },
        ));
        a.expect.extend(self.expect(d, "speed", Change::To(v)));
        a.notes.push(format!(
            "a manual timer for {minutes} min; then the house's programme takes over again"
        ));
        Ok(a)
    }

    fn sauna_target(&self, d: &Device, c: f64) -> R<Tenths> {
        if self.house.temp_unit() == TempUnit::Fahrenheit {
            return Err(Refusal::new(
                "SC-10",
                format!(
                    "the Structure File does not say in which unit {} takes a target, and this \
                     Miniserver uses °F; loxwarden sends none",
                    self.house.describe(d.id)
                ),
            ));
        }
        if !SAUNA_TEMP_C.contains(c) {
            return Err(Refusal::new(
                "UCA-H1",
                format!(
                    "a sauna target of {} °C is outside {}–{} °C",
                    num(c),
                    num(SAUNA_TEMP_C.min),
                    num(SAUNA_TEMP_C.max)
                ),
            ));
        }
        Tenths::from_f64(c).ok_or_else(|| Refusal::new("SC-10", "the target is not a number"))
    }

    fn sauna(&self, d: &Device, action: ApplianceAction) -> R<Allowed> {
        let mut a = Allowed::default();
        match action {
            ApplianceAction::On { celsius } => {
                // UCA-H1, L-1: no heat during a fire or a care alarm.
                self.refuse_in_emergency("UCA-H1", "starting a sauna")?;
                // UCA-H1, L-1, L-2: not with nobody home. Every detector reporting nobody is
                // enough (covered rooms or not): the stricter reading for heat.
                let presence =
                    Presence::for_arming(self.house, self.states, &self.limits.presence_covered);
                if matches!(presence, Presence::Absent | Presence::Uncovered(_)) {
                    return Err(Refusal::new(
                        "UCA-H1",
                        format!(
                            "starting a sauna with nobody home is refused ({})",
                            presence.sentence()
                        ),
                    ));
                }
                if self.num(d, "error").is_some_and(|e| e != 0.0) {
                    return Err(Refusal::new(
                        "UCA-H1",
                        format!(
                            "{} reports an error (saunaError {}); a person must see to it first",
                            self.house.describe(d.id),
                            num(self.num(d, "saunaError").unwrap_or(0.0))
                        ),
                    ));
                }
                let door_sensor = self
                    .house
                    .control(d.id)
                    .details()
                    .get("hasDoorSensor")
                    .and_then(|v| v.as_bool())
                    == Some(true);
                if door_sensor && self.num(d, "doorClosed") == Some(0.0) {
                    return Err(Refusal::new(
                        "UCA-H1",
                        format!(
                            "the door of {} is open; a sauna does not start heating with it open",
                            self.house.describe(d.id)
                        ),
                    ));
                }
                let op = match celsius {
                    Some(c) => Op::SaunaOnTemp(self.sauna_target(d, c)?),
                    None => Op::On,
                };
                // UCA-H1: heat is started by a person, always.
                a.consent = Some(self.consent(
                    "UCA-H1",
                    d,
                    Subject::SaunaOn {
                        device: d.id,
                        celsius,
                        presence,
                    },
                ));
                a.plan.push(self.step(d, op));
                a.expect.extend(self.expect(d, "active", Change::To(1.0)));
            }
            ApplianceAction::Temperature(c) => {
                let t = self.sauna_target(d, c)?;
                let raising = self.num(d, "tempTarget").is_none_or(|cur| c > cur);
                if raising {
                    self.refuse_in_emergency("UCA-H1", "raising a sauna's target")?;
                }
                a.plan.push(self.step(d, Op::SaunaTemp(t)));
                a.expect
                    .extend(self.expect(d, "tempTarget", Change::To(t.as_f64())));
            }
            // Off: never the hazard; never refused for posture, presence or consent.
            _ => {
                a.plan.push(self.step(d, Op::Off));
                a.expect.extend(self.expect(d, "active", Change::To(0.0)));
            }
        }
        Ok(a)
    }

    fn irrigation(&self, d: &Device, action: ApplianceAction) -> R<Allowed> {
        let mut a = Allowed::default();
        if action != ApplianceAction::Start {
            // Stop: never the hazard.
            a.plan.push(self.step(d, Op::Stop));
            a.expect
                .extend(self.expect(d, "currentZone", Change::To(-1.0)));
            return Ok(a);
        }
        // UCA-W1: no water during a fire or a water alarm.
        self.refuse_in_emergency("UCA-W1", "starting irrigation")?;
        let Some(zones) = zones(self.house, self.states, d.id) else {
            return Err(Refusal::new(
                "UCA-W1",
                format!(
                    "the zone durations of {} are not known, so how long it would run cannot \
                     be checked",
                    self.house.describe(d.id)
                ),
            ));
        };
        let zone_max = u64::from(IRRIGATION_ZONE_MAX_MIN) * 60;
        if let Some(z) = zones.iter().find(|z| z.secs > zone_max) {
            return Err(Refusal::new(
                "UCA-W1",
                format!(
                    "zone {} of {} runs {} min; irrigation starts only when every zone runs at \
                     most {IRRIGATION_ZONE_MAX_MIN} min",
                    crate::house::scene::clean_name(&z.name),
                    self.house.describe(d.id),
                    z.secs.div_ceil(60)
                ),
            ));
        }
        let total: u64 = zones.iter().map(|z| z.secs).sum();
        if total > u64::from(IRRIGATION_TOTAL_MAX_MIN) * 60 {
            return Err(Refusal::new(
                "UCA-W1",
                format!(
                    "{} would run {} min in all; at most {IRRIGATION_TOTAL_MAX_MIN} min",
                    self.house.describe(d.id),
                    total.div_ceil(60)
                ),
            ));
        }
        a.plan.push(self.step(d, Op::IrrigationStart));
        a.expect.extend(self.expect(d, "currentZone", Change::Any));
        a.notes.push(format!(
            "{} zone(s), {} min in all, each ended by the Miniserver after its duration; it does \
             not start when it has rained or will rain enough",
            zones.len(),
            total.div_ceil(60)
        ));
        Ok(a)
    }
}
