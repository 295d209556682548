//! Lights, blinds and room temperatures: the rules of the devices people use all day (rates,
//! the blind's travel and reversal, the 6 °C step and its bands, the night and emergency rules).

use super::*;

impl Cx<'_> {
    pub(super) fn light(&self, d: &Device, action: LightAction) -> R<Allowed> {
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

    pub(super) fn blind(&self, d: &Device, action: BlindAction) -> R<Allowed> {
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

    pub(super) fn temperature(&self, d: &Device, celsius: f64) -> R<Allowed> {
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
}
