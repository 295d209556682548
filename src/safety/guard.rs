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

/// Every action of the device's tool and whether it is possible now (representative values for
/// parameterised actions: dim 30, position 50, the current volume, the current setpoint).
pub fn actions_now(
    house: &House,
    id: DevId,
    states: &dyn LiveStates,
    posture: &Posture,
    limits: &Limits,
    rates: &RateBook,
    now: Mono,
) -> Vec<(String, ActionNow)> {
    let d = house.device(id);
    let pct = |v| Percent::new(v).unwrap_or(Percent::new(0).expect("0 is a percentage"));
    let mut cands: Vec<(String, Intent)> = Vec::new();
    let device = id;
    match d.kind {
        Kind::Light => {
            for (n, a) in [
                ("on", LightAction::On),
                ("off", LightAction::Off),
                ("dim", LightAction::Dim(pct(NIGHT_LIGHT_MAX))),
            ] {
                cands.push((n.into(), Intent::Light { device, action: a }));
            }
        }
        Kind::Blind => {
            for (n, a) in [
                ("up", BlindAction::Up),
                ("down", BlindAction::Down),
                ("stop", BlindAction::Stop),
                ("position", BlindAction::Position(pct(50))),
                ("shade", BlindAction::Shade),
            ] {
                cands.push((n.into(), Intent::Blind { device, action: a }));
            }
        }
        Kind::Climate => {
            let cur = house
                .number(states, id, "comfortTemperature")
                .or_else(|| house.number(states, id, "tempTarget"))
                .map(|v| to_celsius(v, house.temp_unit()))
                .unwrap_or(f64::NAN);
            cands.push((
                "set_temperature".into(),
                Intent::Temperature {
                    device,
                    target: crate::intent::Temp {
                        celsius: cur,
                        given: cur,
                        unit: TempUnit::Celsius,
                    },
                },
            ));
        }
        Kind::Audio => {
            let v = house
                .number(states, id, "volume")
                .map(|v| v.clamp(0.0, 100.0) as u8)
                .unwrap_or(20);
            for (n, a) in [
                ("play", AudioAction::Play),
                ("pause", AudioAction::Pause),
                ("next", AudioAction::Next),
                ("previous", AudioAction::Previous),
                ("volume", AudioAction::Volume(v)),
            ] {
                cands.push((n.into(), Intent::Audio { device, action: a }));
            }
        }
        Kind::Charger => {
            for (n, a) in [
                ("start", ChargerAction::Start),
                ("stop", ChargerAction::Stop),
            ] {
                cands.push((n.into(), Intent::Charger { device, action: a }));
            }
        }
        Kind::Alarm => {
            for (n, a) in [
                ("arm", AlarmAction::Arm),
                ("arm_delayed", AlarmAction::ArmDelayed),
                ("disarm", AlarmAction::Disarm),
                ("acknowledge", AlarmAction::Acknowledge),
            ] {
                cands.push((n.into(), Intent::Alarm { device, action: a }));
            }
        }
        Kind::Access => {
            for (n, a) in [
                ("open", AccessAction::Open),
                ("close", AccessAction::Close),
                ("stop", AccessAction::Stop),
                ("lock", AccessAction::Lock),
                ("unlock", AccessAction::Unlock),
            ] {
                cands.push((n.into(), Intent::Access { device, action: a }));
            }
        }
        Kind::Intercom => {
            for (n, a) in [
                ("answer", IntercomAction::Answer),
                ("open_door", IntercomAction::OpenDoor),
            ] {
                cands.push((n.into(), Intent::Intercom { device, action: a }));
            }
        }
        Kind::Scene => {
            if let Ok(desc) = scene::describe(house, id, states) {
                for s in desc.scenes {
                    cands.push((
                        format!("scene {}", s.name),
                        Intent::ActivateScene { device, scene: s },
                    ));
                }
            }
        }
        Kind::Sensor | Kind::Other => {}
    }
    cands
        .into_iter()
        .map(|(name, intent)| {
            let v = decide(&intent, house, states, posture, limits, rates, now);
            let status = match v {
                Verdict::Refuse(r) => ActionNow::Refused(r.rule),
                Verdict::Allow(a) if a.consent.is_some() => ActionNow::NeedsConsent,
                Verdict::Allow(_) => ActionNow::Allowed,
            };
            (name, status)
        })
        .collect()
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

    fn light(&self, d: &Device, action: LightAction) -> R<Allowed> {
        let ty = d.loxone_type.as_str();
        let dimmer = matches!(ty, "Dimmer" | "EIBDimmer");
        let mut op = match ty {
            // A timed switch (SF "TimedSwitch") is a light only in the lighting category:
            // `on` holds it on (deactivationDelay -1), `off` turns it off.
            "Switch" | "TimedSwitch" => match action {
                LightAction::On => Op::On,
                LightAction::Off => Op::Off,
                LightAction::Dim(_) => {
                    return Err(unsupported(
                        self.house,
                        d,
                        "dim",
                        "a switch only goes on and off",
                    ));
                }
            },
            "Dimmer" | "EIBDimmer" => match action {
                LightAction::On => Op::On,
                LightAction::Off => Op::Off,
                LightAction::Dim(p) => Op::DimTo(p),
            },
            // A push button is pressed once; what it does is up to the Miniserver's program.
            "Pushbutton" => match action {
                LightAction::On => Op::Pulse,
                _ => {
                    return Err(unsupported(
                        self.house,
                        d,
                        "do anything but press",
                        "action on presses it",
                    ));
                }
            },
            _ => return Err(unsupported(self.house, d, "switch or dim", "")),
        };
        let mut a = Allowed::default();
        // UCA-L1: during an emergency lights may go on, never off (and never dimmer).
        if self.posture.emergency() {
            let darker = match op {
                Op::Off | Op::Pulse => true,
                Op::DimTo(p) => {
                    p.get() < 100
                        && self
                            .num(d, "position")
                            .is_none_or(|cur| f64::from(p.get()) < cur)
                }
                _ => false,
            };
            if darker {
                return Err(Refusal::new(
                    "UCA-L1",
                    format!(
                        "lights may only go on or brighter during an emergency ({})",
                        self.emergency_text()
                    ),
                ));
            }
        }
        // UCA-L2: at night, lights in sleeping rooms go on at no more than 30 %.
        if self.posture.night_in(&d.room_name) {
            match op {
                Op::On if dimmer => {
                    op = Op::DimTo(Percent::new(NIGHT_LIGHT_MAX).expect("30 is a percentage"));
                    a.notes.push(format!(
                        "at night lights in {} go on at {NIGHT_LIGHT_MAX} % (UCA-L2)",
                        d.room_name
                    ));
                }
                Op::On | Op::Pulse => {
                    a.consent = Some(self.consent(
                        "UCA-L2",
                        d,
                        Subject::NightLight {
                            device: d.id,
                            brightness: None,
                        },
                    ));
                }
                Op::DimTo(p) if p.get() > NIGHT_LIGHT_MAX => {
                    a.consent = Some(self.consent(
                        "UCA-L2",
                        d,
                        Subject::NightLight {
                            device: d.id,
                            brightness: Some(p.get()),
                        },
                    ));
                }
                _ => {}
            }
        }
        let mark = self.mark(d, RateClass::Light, Motion::Change);
        self.check_rate(d, &mark)?;
        a.rate_marks.push(mark);
        let exp = match (ty, op) {
            ("Switch", Op::On) => self.expect(d, "active", Change::To(1.0)),
            ("Switch", Op::Off) => self.expect(d, "active", Change::To(0.0)),
            ("TimedSwitch", Op::On) => self.expect(d, "deactivationDelay", Change::To(-1.0)),
            ("TimedSwitch", Op::Off) => self.expect(d, "deactivationDelay", Change::To(0.0)),
            (_, Op::DimTo(p)) => self.expect(d, "position", Change::To(f64::from(p.get()))),
            (_, Op::On) => self.expect(d, "position", Change::Increase),
            (_, Op::Off) => self.expect(d, "position", Change::To(0.0)),
            _ => None,
        };
        a.expect.extend(exp);
        a.plan.push(self.step(d, op));
        Ok(a)
    }

    // -------------------------------------------------------------- blinds and windows

    fn blind(&self, d: &Device, action: BlindAction) -> R<Allowed> {
        let window = match d.loxone_type.as_str() {
            "Jalousie" => false,
            "Window" => true,
            _ => return Err(unsupported(self.house, d, "move", "")),
        };
        // Current position in the tool's terms: 0 = open, 100 = closed.
        let cur = self.num(d, "position").map(|p| {
            let p = p.clamp(0.0, 1.0) * 100.0;
            if window { 100.0 - p } else { p }
        });
        let toward = |target: f64| match cur {
            Some(c) if target < c => Motion::Raise,
            Some(c) if target > c => Motion::Lower,
            Some(_) => Motion::Stop,
            None => Motion::Unknown,
        };
        let (op, motion, expect) = match (action, window) {
            (BlindAction::Up, false) => (Op::FullUp, Motion::Raise, Some(0.0)),
            (BlindAction::Up, true) => (Op::FullOpen, Motion::Raise, Some(1.0)),
            (BlindAction::Down, false) => (Op::FullDown, Motion::Lower, Some(1.0)),
            (BlindAction::Down, true) => (Op::FullClose, Motion::Lower, Some(0.0)),
            (BlindAction::Stop, _) => (Op::Stop, Motion::Stop, None),
            (BlindAction::Shade, false) => (Op::Shade, Motion::Lower, None),
            (BlindAction::Shade, true) => return Err(unsupported(self.house, d, "shade", "")),
            (BlindAction::Position(p), false) => {
                let t = f64::from(p.get());
                (Op::ManualPosition(p), toward(t), Some(t / 100.0))
            }
            (BlindAction::Position(p), true) => {
                let t = f64::from(p.get());
                let open = Percent::new(100 - p.get()).expect("100 - p is a percentage");
                (
                    Op::MoveToPosition(open),
                    toward(t),
                    Some((100.0 - t) / 100.0),
                )
            }
        };
        if matches!(motion, Motion::Lower | Motion::Unknown) {
            // UCA-B2: never close an escape route during an emergency.
            self.refuse_in_emergency("UCA-B2", &format!("closing {}", self.house.describe(d.id)))?;
        }
        let mut a = Allowed::default();
        let mark = self.mark(d, RateClass::Motor, motion);
        self.check_rate(d, &mark)?;
        a.rate_marks.push(mark);
        if let Some(v) = expect {
            a.expect.extend(self.expect(d, "position", Change::To(v)));
        }
        a.plan.push(self.step(d, op));
        Ok(a)
    }

    // -------------------------------------------------------------- climate

    fn temperature(&self, d: &Device, celsius: f64) -> R<Allowed> {
        if d.loxone_type != "IRoomControllerV2" {
            return Err(unsupported(
                self.house,
                d,
                "set a temperature on",
                "only IRoomControllerV2 is supported",
            ));
        }
        let unit = self.house.temp_unit();
        // The setpoint we change is the comfort temperature; the step is measured from it.
        let current = self
            .num(d, "comfortTemperature")
            .or_else(|| self.num(d, "tempTarget"))
            .map(|v| to_celsius(v, unit));
        let class = self.limits.temperature(celsius, current, &d.room_name)?;
        let ms_value = from_celsius(celsius, unit);
        let Some(t) = Tenths::from_f64(ms_value) else {
            return Err(Refusal::new("SC-2", "the setpoint is not a usable number"));
        };
        let mut a = Allowed::default();
        if class == TempClass::NeedsConsent {
            let (free, _) = self.limits.temp_bands(&d.room_name);
            a.consent = Some(self.consent(
                "SC-2",
                d,
                Subject::Temperature {
                    device: d.id,
                    celsius,
                    free_min: free.min,
                    free_max: free.max,
                },
            ));
        }
        a.expect
            .extend(self.expect(d, "comfortTemperature", Change::To(t.as_f64())));
        a.plan.push(self.step(d, Op::SetComfortTemperature(t)));
        if unit == TempUnit::Fahrenheit {
            a.notes.push(format!(
                "{} °C sent as {} °F (the Miniserver's unit)",
                num(celsius),
                t
            ));
        }
        Ok(a)
    }

    // -------------------------------------------------------------- audio

    fn audio(&self, d: &Device, action: AudioAction) -> R<Allowed> {
        let v2 = match d.loxone_type.as_str() {
            "AudioZone" => false,
            "AudioZoneV2" => true,
            _ => return Err(unsupported(self.house, d, "play", "")),
        };
        let current = self
            .num(d, "volume")
            .map(|v| v.clamp(0.0, 100.0).round() as u8);
        let (free_cap, _) = self.limits.volume_caps(&d.room_name);
        let masking = |what: &str| -> R<()> {
            // UCA-A2, R-16: audio must not mask a smoke alarm or an intrusion alert.
            self.refuse_in_emergency("UCA-A2", what)?;
            if self.posture.intrusion() {
                let why: Vec<String> = self
                    .posture
                    .intrusion
                    .iter()
                    .map(|c| c.text.clone())
                    .collect();
                return Err(Refusal::new(
                    "UCA-A2",
                    format!(
                        "{what} is refused while an alarm sounds ({})",
                        why.join("; ")
                    ),
                ));
            }
            Ok(())
        };
        let mut a = Allowed::default();
        match action {
            AudioAction::Play | AudioAction::Next | AudioAction::Previous => {
                masking("starting audio")?;
                let op = match action {
                    AudioAction::Play => Op::Play,
                    AudioAction::Next => Op::Next,
                    _ => Op::Prev,
                };
                if action == AudioAction::Play {
                    if let Some(v) = current
                        && self.limits.volume(v, &d.room_name)? == VolumeClass::NeedsConsent
                    {
                        a.consent = Some(self.consent(
                            "UCA-A1",
                            d,
                            Subject::PlayLoud {
                                device: d.id,
                                volume: v,
                                free_max: free_cap,
                            },
                        ));
                    }
                    if v2 {
                        a.expect
                            .extend(self.expect(d, "playState", Change::To(2.0)));
                    }
                }
                a.plan.push(self.step(d, op));
            }
            AudioAction::Pause => {
                a.plan
                    .push(self.step(d, if v2 { Op::PauseV2 } else { Op::Pause }));
            }
            AudioAction::Volume(v) => {
                if v2
                    && self
                        .house
                        .control(d.id)
                        .details()
                        .get("volumeModes")
                        .and_then(|m| m.as_i64())
                        .is_some_and(|m| m & 4 != 0)
                {
                    return Err(unsupported(
                        self.house,
                        d,
                        "set an absolute volume on",
                        "it only steps up and down",
                    ));
                }
                let class = self.limits.volume(v, &d.room_name)?;
                if current.is_none_or(|c| v > c) {
                    masking("raising the volume")?;
                }
                if class == VolumeClass::NeedsConsent {
                    a.consent = Some(self.consent(
                        "UCA-A1",
                        d,
                        Subject::Volume {
                            device: d.id,
                            volume: v,
                            free_max: free_cap,
                        },
                    ));
                }
                // rises in steps of at most 10 points; from 0 when the volume is unknown.
                let ramp = volume_ramp(current.unwrap_or(0), v);
                if ramp.len() > 1 {
                    a.notes.push(format!(
                        "volume raised in {} steps of at most 10 points (R-15)",
                        ramp.len()
                    ));
                }
                for (i, step) in ramp.into_iter().enumerate() {
                    let mut s = self.step(
                        d,
                        Op::Volume(Percent::new(step).expect("ramp steps are percentages")),
                    );
                    if i > 0 {
                        s.pause_before = VOLUME_RAMP_PAUSE;
                    }
                    a.plan.push(s);
                }
                a.expect
                    .extend(self.expect(d, "volume", Change::To(f64::from(v))));
            }
        }
        Ok(a)
    }

    // -------------------------------------------------------------- chargers

    fn charger(&self, d: &Device, action: ChargerAction) -> R<Allowed> {
        let details = self.house.control(d.id).details();
        let gen2 = match d.loxone_type.as_str() {
            "CarCharger" => false,
            "Wallbox2" => true,
            _ => return Err(unsupported(self.house, d, "charge with", "")),
        };
        let mut a = Allowed::default();
        match action {
            ChargerAction::Start => {
                a.plan
                    .push(self.step(d, if gen2 { Op::AllowOn } else { Op::ChargeOn }));
                if gen2 {
                    a.expect.extend(self.expect(d, "enabled", Change::To(1.0)));
                }
            }
            ChargerAction::Stop => {
                a.plan
                    .push(self.step(d, if gen2 { Op::AllowOff } else { Op::ChargeOff }));
                if gen2 {
                    a.expect.extend(self.expect(d, "enabled", Change::To(0.0)));
                }
            }
            ChargerAction::Limit(kw) => {
                let (min, max) = if gen2 {
                    (
                        details.get("min").and_then(|v| v.as_f64()),
                        details.get("max").and_then(|v| v.as_f64()),
                    )
                } else {
                    if details.get("limitAllowed").and_then(|v| v.as_bool()) == Some(false) {
                        return Err(Refusal::new(
                            "SC-10",
                            format!(
                                "{} does not allow a charging limit (details.limitAllowed)",
                                self.house.describe(d.id)
                            ),
                        ));
                    }
                    (self.num(d, "minLimit"), self.num(d, "maxLimit"))
                };
                let (Some(min), Some(max)) = (min, max) else {
                    return Err(Refusal::new(
                        "SC-10",
                        format!(
                            "the charging limits of {} are not known, so {} kW cannot be checked",
                            self.house.describe(d.id),
                            num(kw)
                        ),
                    ));
                };
                if kw < min || kw > max {
                    return Err(Refusal::new(
                        "SC-10",
                        format!(
                            "{} kW is outside {}–{} kW for {}",
                            num(kw),
                            num(min),
                            num(max),
                            self.house.describe(d.id)
                        ),
                    ));
                }
                let t = Tenths::from_f64(kw)
                    .ok_or_else(|| Refusal::new("SC-10", "the limit is not a usable number"))?;
                a.plan.push(self.step(
                    d,
                    if gen2 {
                        Op::ManualLimit(t)
                    } else {
                        Op::Limit(t)
                    },
                ));
                let state = if gen2 { "limit" } else { "currentLimit" };
                a.expect
                    .extend(self.expect(d, state, Change::To(t.as_f64())));
            }
        }
        Ok(a)
    }

    // -------------------------------------------------------------- alarms

    fn alarm(&self, d: &Device, action: AlarmAction) -> R<Allowed> {
        if d.loxone_type != "Alarm" {
            return Err(unsupported(self.house, d, "arm or disarm", ""));
        }
        let mut a = Allowed::default();
        let (op, subject, rule, exp) = match action {
            AlarmAction::Arm | AlarmAction::ArmDelayed => {
                let delayed = action == AlarmAction::ArmDelayed;
                let presence =
                    Presence::for_arming(self.house, self.states, &self.limits.presence_covered);
                // At night people may be asleep inside whatever the detectors say.
                let night = self.posture.night.is_some();
                let op = if delayed {
                    Op::ArmDelayed { movement: true }
                } else {
                    Op::Arm { movement: true }
                };
                // UCA-S1: arming while someone may be inside needs a person.
                let subject = (presence != Presence::Absent || night).then_some(Subject::Arm {
                    device: d.id,
                    delayed,
                    presence,
                    night,
                });
                let exp = (!delayed)
                    .then(|| self.expect(d, "armed", Change::To(1.0)))
                    .flatten();
                (op, subject, "UCA-S1", exp)
            }
            AlarmAction::Disarm => (
                Op::Disarm,
                Some(Subject::Disarm {
                    device: d.id,
                    presence: Presence::of(self.house, self.states),
                }),
                "SC-5",
                self.expect(d, "armed", Change::To(0.0)),
            ),
            AlarmAction::Acknowledge => (
                Op::Quit,
                Some(Subject::Acknowledge { device: d.id }),
                "SC-5",
                self.expect(d, "level", Change::To(0.0)),
            ),
        };
        if let Some(s) = subject {
            a.consent = Some(self.consent(rule, d, s));
        }
        a.expect.extend(exp);
        a.plan.push(self.step(d, op));
        Ok(a)
    }

    // -------------------------------------------------------------- access

    fn access(&self, d: &Device, action: AccessAction) -> R<Allowed> {
        let mut a = Allowed::default();
        let armed = self.armed_alarms();
        match d.loxone_type.as_str() {
            "Gate" => {
                let (op, motion, exp) = match action {
                    AccessAction::Open => (Op::Open, Motion::Raise, Some(1.0)),
                    AccessAction::Close => (Op::Close, Motion::Lower, Some(0.0)),
                    AccessAction::Stop => (Op::Stop, Motion::Stop, None),
                    AccessAction::Lock | AccessAction::Unlock => {
                        return Err(unsupported(self.house, d, "lock or unlock", ""));
                    }
                };
                if motion == Motion::Lower {
                    self.refuse_in_emergency(
                        "UCA-B2",
                        &format!("closing {}", self.house.describe(d.id)),
                    )?;
                }
                if action == AccessAction::Open {
                    a.consent = Some(self.consent(
                        "UCA-D1",
                        d,
                        Subject::Open {
                            device: d.id,
                            armed,
                        },
                    ));
                }
                let mark = self.mark(d, RateClass::Motor, motion);
                self.check_rate(d, &mark)?;
                a.rate_marks.push(mark);
                if let Some(v) = exp {
                    a.expect.extend(self.expect(d, "position", Change::To(v)));
                }
                a.plan.push(self.step(d, op));
            }
            "Pushbutton" => match action {
                AccessAction::Open | AccessAction::Unlock => {
                    let intercom = d
                        .parent
                        .map(|p| self.house.device(p))
                        .filter(|p| matches!(p.loxone_type.as_str(), "Intercom" | "IntercomV2"));
                    let (rule, subject) = match intercom {
                        // UCA-I1: an intercom output opens the door only after a ring, whichever
                        // tool asks.
                        Some(ic) => {
                            let rang = self.recent_ring(ic)?;
                            (
                                "UCA-I1",
                                Subject::IntercomOpen {
                                    intercom: ic.id,
                                    opener: d.id,
                                    rang_secs_ago: self.now.since(rang).as_secs(),
                                    armed,
                                },
                            )
                        }
                        None if action == AccessAction::Open => (
                            "UCA-D1",
                            Subject::Open {
                                device: d.id,
                                armed,
                            },
                        ),
                        None => (
                            "UCA-D1",
                            Subject::Unlock {
                                device: d.id,
                                armed,
                            },
                        ),
                    };
                    a.consent = Some(self.consent(rule, d, subject));
                    a.plan.push(self.step(d, Op::Pulse));
                }
                _ => return Err(unsupported(self.house, d, "do anything but open", "")),
            },
            "Switch" => {
                let (unlock, lock) = match d.unlock_with {
                    UnlockWith::On => (Op::On, Op::Off),
                    UnlockWith::Off => (Op::Off, Op::On),
                };
                let active = |op: Op| Change::To(if op == Op::On { 1.0 } else { 0.0 });
                match action {
                    AccessAction::Unlock => {
                        // UCA-D1: always a person; while the alarm is armed the message says so.
                        a.consent = Some(self.consent(
                            "UCA-D1",
                            d,
                            Subject::Unlock {
                                device: d.id,
                                armed,
                            },
                        ));
                        a.expect.extend(self.expect(d, "active", active(unlock)));
                        a.plan.push(self.step(d, unlock));
                    }
                    AccessAction::Lock => {
                        // UCA-D2: never lock people in during an emergency.
                        self.refuse_in_emergency(
                            "UCA-D2",
                            &format!("locking {}", self.house.describe(d.id)),
                        )?;
                        a.expect.extend(self.expect(d, "active", active(lock)));
                        a.plan.push(self.step(d, lock));
                    }
                    _ => {
                        return Err(unsupported(
                            self.house,
                            d,
                            "open, close or stop",
                            "use lock or unlock",
                        ));
                    }
                }
            }
            _ => return Err(unsupported(self.house, d, "open or lock", "")),
        }
        Ok(a)
    }

    // -------------------------------------------------------------- intercom

    /// When the bell last rang, if it did since the link became live. A `bell` update to 0
    /// (the ring ended or was answered) is not a ring: counting it would restart the window
    /// after the ring, so only the ring-event states carry the time of a past ring.
    fn last_ring(&self, d: &Device) -> Option<Mono> {
        if self.num(d, "bell").is_some_and(|v| v != 0.0) {
            return Some(self.now);
        }
        let fresh_after = self.posture.link.since.plus(RING_GRACE);
        ["lastBellEvents", "lastBellTimestamp"]
            .iter()
            .filter_map(|s| self.house.state_uuid(d.id, s))
            .filter_map(|u| self.states.entry(&u))
            .map(|e| e.updated)
            .filter(|t| *t > fresh_after && *t <= self.now)
            .max()
    }

    /// The last ring of intercom `d` if it was within the configured window (UCA-I1).
    fn recent_ring(&self, d: &Device) -> R<Mono> {
        let window = self.limits.intercom_window;
        self.last_ring(d)
            .filter(|t| self.now.since(*t) <= window)
            .ok_or_else(|| {
                Refusal::new(
                    "UCA-I1",
                    format!(
                        "the bell of {} has not rung in the last {} s; the door is opened only \
                         for someone who rang",
                        self.house.describe(d.id),
                        window.as_secs()
                    ),
                )
            })
    }

    fn intercom(&self, d: &Device, action: IntercomAction) -> R<Allowed> {
        if !matches!(d.loxone_type.as_str(), "Intercom" | "IntercomV2") {
            return Err(unsupported(self.house, d, "answer", ""));
        }
        let mut a = Allowed::default();
        match action {
            IntercomAction::Answer => {
                // SF: `answer` deactivates the bell; it opens nothing.
                a.plan.push(self.step(d, Op::Answer));
            }
            IntercomAction::OpenDoor => {
                let rang = self.recent_ring(d)?;
                let openers: Vec<&Device> = d
                    .children
                    .iter()
                    .map(|c| self.house.device(*c))
                    .filter(|c| c.kind == Kind::Access)
                    .collect();
                let opener = match openers.as_slice() {
                    [one] => *one,
                    [] => {
                        return Err(unsupported(
                            self.house,
                            d,
                            "open a door with",
                            "it has no output",
                        ));
                    }
                    many => {
                        // Name only the outputs the AI may address.
                        let ids: Vec<DevId> =
                            many.iter().filter(|o| o.exposed).map(|o| o.id).collect();
                        return Err(Refusal::new(
                            "SC-1",
                            format!(
                                "{} has {} outputs and loxwarden does not guess which opens the \
                                 door; a person can classify the others in the config, or use \
                                 control_access on the door opener ({})",
                                self.house.describe(d.id),
                                many.len(),
                                crate::house::resolve::candidate_list(self.house, &ids, "exposed")
                            ),
                        ));
                    }
                };
                if let Some(why) = &opener.read_only {
                    return Err(Refusal::new(
                        "SC-1",
                        format!("{} is read-only: {why}", self.house.describe(opener.id)),
                    ));
                }
                a.consent = Some(self.consent(
                    "UCA-I1",
                    d,
                    Subject::IntercomOpen {
                        intercom: d.id,
                        opener: opener.id,
                        rang_secs_ago: self.now.since(rang).as_secs(),
                        armed: self.armed_alarms(),
                    },
                ));
                a.plan.push(self.step(opener, Op::Pulse));
            }
        }
        Ok(a)
    }

    // -------------------------------------------------------------- scenes

    fn scene(&self, d: &Device, op: &Op) -> R<Allowed> {
        // Enumerate again now: the mood list and membership are live facts.
        let desc = scene::describe(self.house, d.id, self.states)?;
        let Some(entry) = desc.scenes.iter().find(|s| &s.op == op) else {
            return Err(Refusal::new(
                "SC-7",
                format!("{} no longer offers this scene", self.house.describe(d.id)),
            ));
        };
        if !desc.missing.is_empty() {
            return Err(Refusal::new(
                "SC-7",
                format!(
                    "{} controls {} device(s) that are not in this user's structure file, so its \
                     effect cannot be enumerated",
                    self.house.describe(d.id),
                    desc.missing.len()
                ),
            ));
        }
        let hidden = desc
            .members
            .iter()
            .chain(&desc.affected)
            .filter(|id| !self.house.device(**id).exposed)
            .count();
        if hidden > 0 {
            return Err(Refusal::new(
                "SC-7",
                format!(
                    "{} affects {hidden} device(s) that are not exposed to the AI",
                    self.house.describe(d.id)
                ),
            ));
        }
        // A device the AI may not actuate (the table, the Miniserver's restrictions or the
        // config's `[[classify]]`) is not actuated through a scene either. Stopping or pausing
        // cannot hurt anyone, so those stay allowed.
        if !entry.effect.is_safe_direction() {
            let read_only: Vec<String> = desc
                .members
                .iter()
                .chain(&desc.affected)
                .map(|id| self.house.device(*id))
                .filter(|m| !m.actuable())
                .map(Device::label)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            if !read_only.is_empty() {
                return Err(Refusal::new(
                    "SC-7",
                    format!(
                        "{} affects {} device(s) that are read-only for the AI: {}",
                        self.house.describe(d.id),
                        read_only.len(),
                        read_only.join(", ")
                    ),
                ));
            }
        }
        match entry.effect {
            Effect::Close => self.refuse_in_emergency(
                "UCA-B2",
                &format!("'{}' on {}", entry.name, self.house.describe(d.id)),
            )?,
            Effect::LightsChange if self.posture.emergency() => {
                return Err(Refusal::new(
                    "UCA-L1",
                    format!(
                        "a mood may switch lights off; refused during an emergency ({})",
                        self.emergency_text()
                    ),
                ));
            }
            Effect::Play => {
                self.refuse_in_emergency("UCA-A2", "starting audio")?;
                if self.posture.intrusion() {
                    return Err(Refusal::new(
                        "UCA-A2",
                        "starting audio is refused while an alarm sounds",
                    ));
                }
            }
            _ => {}
        }
        let mut a = Allowed::default();
        // Rate limits: every blind or gate the scene moves, and the lights it changes.
        for m in desc.members.iter().map(|id| self.house.device(*id)) {
            let motion = match entry.effect {
                Effect::Open => Motion::Raise,
                Effect::Close => Motion::Lower,
                Effect::Stop => Motion::Stop,
                _ => Motion::Change,
            };
            // A motor is rate-limited as one by its Loxone type, whatever the config calls it;
            // a light member is only ever changed by a light effect (see `house::scene`).
            let class = match m.kind {
                _ if scene::is_motor(&m.loxone_type) || m.table_kind == Kind::Blind => {
                    Some(RateClass::Motor)
                }
                Kind::Blind => Some(RateClass::Motor),
                Kind::Light | Kind::Scene => Some(RateClass::Light),
                _ => None,
            };
            if let Some(class) = class {
                let mark = self.mark(m, class, motion);
                self.check_rate(m, &mark)?;
                a.rate_marks.push(mark);
            }
        }
        if matches!(entry.effect, Effect::LightsOn | Effect::LightsChange) {
            let mark = self.mark(d, RateClass::Light, Motion::Change);
            self.check_rate(d, &mark)?;
            a.rate_marks.push(mark);
        }
        // Consent: SC-7 / R-10 for safety devices or many devices; UCA-L2 at night.
        let critical = scene::critical_members(self.house, &desc);
        let many = desc.leaf_count(self.house) > SCENE_MAX_DEVICES_WITHOUT_CONSENT;
        let mut night_rooms: Vec<String> = Vec::new();
        if matches!(entry.effect, Effect::LightsOn | Effect::LightsChange) {
            for id in std::iter::once(&d.id).chain(&desc.affected) {
                let r = &self.house.device(*id).room_name;
                if self.posture.night_in(r) && !night_rooms.contains(r) {
                    night_rooms.push(r.clone());
                }
            }
        }
        let bulk = !entry.effect.is_safe_direction() && (!critical.is_empty() || many);
        if bulk || !night_rooms.is_empty() {
            let rule = if bulk { "SC-7" } else { "UCA-L2" };
            a.consent = Some(self.consent(
                rule,
                d,
                Subject::Scene {
                    device: d.id,
                    scene: entry.name.clone(),
                    affected: desc.affected.clone(),
                    critical,
                    night_rooms,
                },
            ));
        }
        a.notes.push(format!(
            "'{}' on {} affects {} device(s)",
            entry.name,
            d.label(),
            desc.affected.len()
        ));
        if d.loxone_type == "LightControllerV2" {
            a.expect.extend(self.expect(d, "activeMoods", Change::Any));
        }
        a.plan.push(self.step(d, entry.op));
        Ok(a)
    }
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
