//! One device as the read tools show it: live states with their age and in human terms, a
//! summary, the limits that apply and what is possible now.

use super::*;

/// A live state as JSON: the value (number or text), its age in seconds, and the value in
/// human terms where that adds something (`tools::human`).
pub(super) fn state_json(
    ty: &str,
    name: &str,
    v: &StateValue,
    age_s: u64,
    max_text: usize,
) -> Option<Value> {
    let (value, words) = match v {
        StateValue::Number(n) => (
            serde_json::Number::from_f64(*n).map(Value::Number)?,
            human::value(ty, name, *n),
        ),
        StateValue::Text(t) if t.chars().count() <= max_text => (Value::String(t.clone()), None),
        StateValue::Text(_) => return None,
    };
    let mut m = Map::new();
    m.insert("value".into(), value);
    if let Some(w) = words {
        m.insert("shows".into(), w.into());
    }
    m.insert("age_s".into(), age_s.into());
    Some(Value::Object(m))
}

/// A light controller's active moods by name (`mood Evening`), from `activeMoods` (a JSON
/// list of mood ids) and the mood list.
pub(super) fn active_moods(
    house: &House,
    id: DevId,
    states: &dyn crate::loxone::state::LiveStates,
) -> Option<String> {
    let active: Vec<i64> = serde_json::from_str(&house.text(states, id, "activeMoods")?).ok()?;
    let desc = scene::describe(house, id, states).ok()?;
    let names: Vec<String> = active
        .iter()
        .map(|a| {
            desc.scenes
                .iter()
                .find(|s| s.id == Some(*a))
                .map_or_else(|| format!("#{a}"), |s| s.name.clone())
        })
        .collect();
    match names.as_slice() {
        [] => Some("no mood".into()),
        [one] => Some(format!("mood {one}")),
        many => Some(format!("moods {}", many.join(", "))),
    }
}

/// How much of a device to show.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// `list_devices`: the few states a person would name (`human::compact_states`).
    Compact,
    /// `get_device`: every state.
    Full,
}

/// One device: identity, live states with their age (and in human terms), a one-line
/// summary, and what is possible now.
pub fn device_json(
    gw: &Gateway,
    house: &House,
    id: DevId,
    posture: &Posture,
    now: Mono,
    detail: Detail,
) -> Value {
    let d = house.device(id);
    let states = gw.link().states();
    let link_now = gw.link().now();
    let ty = d.loxone_type.as_str();
    let (max_text, only) = match detail {
        Detail::Compact => (LIST_TEXT_MAX, human::compact_states(ty)),
        Detail::Full => (TEXT_MAX, None),
    };
    let mut state = Map::new();
    for (name, r) in &house.control(id).states {
        let StateRef::One(u) = r else { continue };
        if only.is_some_and(|o| !o.contains(&name.as_str())) {
            continue;
        }
        if let Some(e) = states.entry(u)
            && let Some(v) = state_json(
                ty,
                name,
                &e.value,
                link_now.since(e.updated).as_secs(),
                max_text,
            )
        {
            state.insert(name.clone(), v);
        }
    }
    let summary = if ty == "LightControllerV2" {
        active_moods(house, id, states)
    } else {
        human::summary(ty, |s| state.get(s).and_then(|v| v["value"].as_f64()))
    };
    let actions: Vec<Value> = if d.read_only.is_some() {
        Vec::new()
    } else {
        let rates = gw.rates();
        guard::actions_now(house, id, states, posture, gw.limits(), &rates, now)
            .into_iter()
            .map(|(action, a)| match a {
                ActionNow::Allowed => json!({ "action": action, "now": "allowed" }),
                ActionNow::NeedsConsent => json!({ "action": action, "now": "needs_consent" }),
                ActionNow::Refused(rule) => {
                    json!({ "action": action, "now": "refused", "rule": rule })
                }
            })
            .collect()
    };
    let mut v = json!({
        "id": d.addr.to_string(),
        "name": d.name,
        "room": d.room_name,
        "kind": d.kind.as_str(),
        "type": d.loxone_type,
        "secured": d.secured,
    });
    // Moved in, not serialized into copies by `json!`.
    if let Value::Object(m) = &mut v {
        if let Some(r) = &d.read_only {
            m.insert("read_only".into(), r.clone().into());
        }
        if let Some(s) = summary {
            m.insert("summary".into(), s.into());
        }
        m.insert("state".into(), Value::Object(state));
        m.insert("actions".into(), Value::Array(actions));
    }
    v
}

/// The limits that apply to one device (the compiled table as this site tightened it).
pub(super) fn limits_json(gw: &Gateway, house: &House, id: DevId) -> Value {
    let d = house.device(id);
    let l = gw.limits();
    match d.kind {
        Kind::Climate => {
            let (free, hard) = l.temp_bands(&d.room_name);
            json!({
                "free_c": [free.min, free.max],
                "with_consent_c": [hard.min, hard.max],
                "max_step_c": l.temp_max_step,
                "rule": "SC-2",
            })
        }
        Kind::Audio => {
            let (free, hard) = l.volume_caps(&d.room_name);
            json!({ "volume_free_max": free, "volume_with_consent_max": hard, "ramp_step": 10, "rule": "UCA-A1" })
        }
        Kind::Blind => json!({
            "min_interval_s": MOTOR_MIN_INTERVAL.as_secs(),
            "max_per_minute": MOTOR_MAX_PER_MINUTE,
            "reversal": "only after stop",
            "rule": "R-13",
        }),
        Kind::Light => json!({
            "min_interval_s": LIGHT_MIN_INTERVAL.as_secs(),
            "max_per_minute": LIGHT_MAX_PER_MINUTE,
            "night_max_percent_in_sleeping_rooms": crate::safety::table::NIGHT_LIGHT_MAX,
            "rule": "UCA-L1",
        }),
        Kind::Charger => {
            let det = house.control(id).details();
            json!({
                "min_kw": det.get("min").and_then(Value::as_f64),
                "max_kw": det.get("max").and_then(Value::as_f64),
            })
        }
        Kind::Appliance => json!({
            "ventilation_timer_max_min": crate::safety::table::VENT_TIMER_MAX_MIN,
            "sauna_target_c": [crate::safety::table::SAUNA_TEMP_C.min, crate::safety::table::SAUNA_TEMP_C.max],
            "irrigation_zone_max_min": crate::safety::table::IRRIGATION_ZONE_MAX_MIN,
            "irrigation_total_max_min": crate::safety::table::IRRIGATION_TOTAL_MAX_MIN,
            "consent": "starting a sauna; ventilation level 0",
            "rule": "UCA-V1, UCA-H1, UCA-W1",
        }),
        Kind::Access | Kind::Intercom => json!({
            "consent": "open and unlock always need the person's consent",
            "intercom_window_s": l.intercom_window.as_secs(),
            "rule": "UCA-D1",
        }),
        Kind::Alarm => json!({
            "consent": "disarm and acknowledge always; arm when someone may be inside",
            "rule": "SC-5",
        }),
        Kind::Scene => json!({
            "consent_above_devices": crate::safety::table::SCENE_MAX_DEVICES_WITHOUT_CONSENT,
            "rule": "SC-7",
        }),
        Kind::Sensor | Kind::Other => json!({}),
    }
}

pub(super) fn describe(
    gw: &Gateway,
    house: &House,
    id: DevId,
    posture: &Posture,
    now: Mono,
) -> ToolOutput {
    let states = gw.link().states();
    let desc = match scene::describe(house, id, states) {
        Ok(d) => d,
        Err(r) => {
            let m = format!("Refused. {r}");
            return error_output("describe_scene", &m, "");
        }
    };
    let (members, affected, hidden) = desc.exposed_view(house);
    let possible = {
        let rates = gw.rates();
        guard::actions_now(house, id, states, posture, gw.limits(), &rates, now)
    };
    let scenes: Vec<Value> = desc
        .scenes
        .iter()
        .map(|s| {
            let key = format!("scene {}", s.name);
            let mut v = json!({
                "name": s.name,
                "id": s.id,
                "effect": format!("{:?}", s.effect).to_lowercase(),
            });
            if let Some((_, a)) = possible.iter().find(|(n, _)| *n == key) {
                match a {
                    ActionNow::Allowed => v["now"] = json!("allowed"),
                    ActionNow::NeedsConsent => v["now"] = json!("needs_consent"),
                    ActionNow::Refused(rule) => {
                        v["now"] = json!("refused");
                        v["rule"] = json!(rule);
                    }
                }
            }
            v
        })
        .collect();
    let labels =
        |v: &[DevId]| -> Vec<String> { v.iter().map(|i| house.device(*i).label()).collect() };
    let mut message = format!(
        "{}: {} scene(s), affecting {} device(s)",
        house.device(id).label(),
        scenes.len(),
        affected.len()
    );
    if hidden > 0 {
        message.push_str(&format!(
            "; {hidden} affected device(s) are not exposed, so its scenes are refused"
        ));
    }
    ToolOutput::ok(
        json!({
            "message": message,
            "device": house.device(id).label(),
            "scenes": scenes,
            "members": labels(&members),
            "affected": labels(&affected),
            "hidden": hidden,
            "note": desc.note,
        }),
        message,
    )
}
