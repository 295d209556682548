//! Audio zones and wallboxes: loud volume and charging are where an AI's request can hurt a
//! sleeper's hearing or a circuit (volume ramp, consent band, emergency mute; charger limits).

use super::*;

impl Cx<'_> {
    pub(super) fn audio(&self, d: &Device, action: AudioAction) -> R<Allowed> {
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

    pub(super) fn charger(&self, d: &Device, action: ChargerAction) -> R<Allowed> {
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
}
