//! What a device's tool could do now (`list_devices`, `get_device`): each action decided by the
//! same guard with representative values, so the list can never promise what a call refuses.

use super::*;

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
        Kind::Appliance => {
            use crate::intent::ApplianceAction as A;
            let level = house
                .number(states, id, "speed")
                .and_then(|v| Percent::new(v.clamp(0.0, 100.0).round() as u8))
                .unwrap_or(pct(50));
            for a in [
                A::Level {
                    level,
                    mode: None,
                    minutes: crate::safety::table::VENT_TIMER_DEFAULT_MIN,
                },
                A::Auto,
                A::On { celsius: None },
                A::Off,
                A::Start,
                A::Stop,
            ] {
                if crate::intent::ApplianceAction::vocabulary(&d.loxone_type).contains(&a.word()) {
                    cands.push((a.word().into(), Intent::Appliance { device, action: a }));
                }
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
