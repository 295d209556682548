//! Ventilation, saunas and irrigation through `control_appliance` (issue 22), on the every-type
//! house: one test per rule of `guard::appliance`, each failing without it.

use super::*;

/// The every-type house with the appliances in a plausible state: ventilation at 30 % under its
/// programme (range 20–100 % with someone present), a cold sauna with its door closed, irrigation
/// off with two zones (10 and 5 min), and someone detected at home.
fn world() -> World {
    let mut w = every_type_world("");
    let (v, s, i, p) = (
        every(&w, "Ventilation"),
        every(&w, "Sauna"),
        every(&w, "Irrigation"),
        every(&w, "PresenceDetector"),
    );
    for (state, val) in [
        ("speed", 30.0),
        ("mode", 2.0),
        ("ventReason", 0.0),
        ("activeTimerProfile", -2.0),
        ("presence", 1.0),
        ("presenceMin", 20.0),
        ("presenceMax", 100.0),
        ("absenceMin", 0.0),
        ("absenceMax", 60.0),
    ] {
        w.set(&v, state, val);
    }
    for (state, val) in [
        ("active", 0.0),
        ("tempActual", 22.0),
        ("tempTarget", 80.0),
        ("doorClosed", 1.0),
        ("error", 0.0),
    ] {
        w.set(&s, state, val);
    }
    w.set(&i, "currentZone", -1.0);
    let h = w.h.clone();
    w.s.set_text(
        &h,
        &i,
        "zones",
        r#"[{"id":0,"name":"Lawn","duration":600},{"id":1,"name":"Beds","duration":300}]"#,
    );
    w.set(&p, "active", 1.0);
    w
}

fn fire(w: &mut World) {
    let smoke = every(w, "SmokeAlarm");
    w.set(&smoke, "level", 2.0);
}

fn vent(action: &str) -> Value {
    json!({"device": "Every Ventilation", "action": action})
}

// ------------------------------------------------------------------ ventilation (UCA-V1)

#[test]
fn uca_v1_a_ventilation_level_in_its_range_sends_a_manual_timer_in_the_current_mode() {
    let w = world();
    let v = every(&w, "Ventilation");
    let a = w.allowed(
        "control_appliance",
        json!({"device": "Every Ventilation", "action": "level", "level": 60}),
    );
    assert_eq!(paths(&a), [path(&v, "setTimer/3600/60/2/-1")]);
    assert!(a.consent.is_none());
    // A named mode and a length.
    let a = w.allowed(
        "control_appliance",
        json!({"device": "Every Ventilation", "action": "level", "level": 40, "mode": "exhaust", "minutes": 30}),
    );
    assert_eq!(paths(&a), [path(&v, "setTimer/1800/40/1/-1")]);
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Ventilation", "action": "level", "level": 40, "mode": "Turbo"}),
    );
    assert!(r.reason.contains("Heat exchanger (2)"), "{r}");
}

#[test]
fn uca_v1_a_level_outside_the_blocks_range_for_the_current_occupancy_is_refused() {
    let mut w = world();
    let v = every(&w, "Ventilation");
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Ventilation", "action": "level", "level": 10}),
    );
    assert_eq!(r.rule, "UCA-V1");
    assert!(r.reason.contains("20–100 %"), "{r}");
    // Nobody present: the absence range, 0–60 %.
    w.set(&v, "presence", 0.0);
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Ventilation", "action": "level", "level": 80}),
    );
    assert!(r.reason.contains("0–60 %"), "{r}");
    // The range unknown: nothing to check against, refused.
    let h = w.h.clone();
    w.s.unset(&h, &v, "absenceMax");
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Ventilation", "action": "level", "level": 30}),
    );
    assert_eq!(r.rule, "SC-10");
}

#[test]
fn uca_v1_level_0_stops_the_air_and_asks_the_person() {
    let mut w = world();
    let v = every(&w, "Ventilation");
    w.set(&v, "presence", 0.0);
    let a = w.allowed(
        "control_appliance",
        json!({"device": "Every Ventilation", "action": "level", "level": 0, "minutes": 20}),
    );
    let c = a.consent.expect("level 0 asks");
    assert_eq!(c.rule, "UCA-V1");
    assert!(
        c.request.message.contains("for 20 min"),
        "{}",
        c.request.message
    );
}

#[test]
fn uca_v1_no_manual_timer_in_an_emergency_or_against_the_houses_stop_but_auto_always() {
    let mut w = world();
    let v = every(&w, "Ventilation");
    fire(&mut w);
    for level in [0, 30, 100] {
        let r = w.refused(
            "control_appliance",
            json!({"device": "Every Ventilation", "action": "level", "level": level}),
        );
        assert_eq!(r.rule, "UCA-V1", "{level}");
        assert!(r.reason.contains("emergency"), "{r}");
    }
    // Back to the house's own logic: allowed in the emergency.
    let a = w.allowed("control_appliance", vent("auto"));
    assert_eq!(paths(&a), [path(&v, "setTimer/0")]);
    // The block's stop input St (ventReason 4) holds it: no timer overrides it.
    let mut w = world();
    w.set(&v, "ventReason", 4.0);
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Ventilation", "action": "level", "level": 50}),
    );
    assert_eq!(r.rule, "UCA-V1");
    assert!(r.reason.contains("input St"), "{r}");
}

#[test]
fn uca_v1_a_timer_longer_than_240_minutes_is_refused() {
    let w = world();
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Ventilation", "action": "level", "level": 50, "minutes": 241}),
    );
    assert_eq!(r.rule, "UCA-V1");
    w.allowed(
        "control_appliance",
        json!({"device": "Every Ventilation", "action": "level", "level": 50, "minutes": 240}),
    );
}

// ------------------------------------------------------------------ sauna (UCA-H1)

#[test]
fn uca_h1_a_sauna_starts_only_with_consent_and_the_question_says_who_is_home() {
    let w = world();
    let s = every(&w, "Sauna");
    let a = w.allowed(
        "control_appliance",
        json!({"device": "Every Sauna", "action": "on", "target": 75}),
    );
    assert_eq!(paths(&a), [path(&s, "ontemp/75.0")]);
    let c = a.consent.expect("a start always asks");
    assert_eq!(c.rule, "UCA-H1");
    assert!(
        c.request.message.contains("heating to 75 °C"),
        "{}",
        c.request.message
    );
    assert!(
        c.request.message.contains("Presence is detected"),
        "{}",
        c.request.message
    );
    let a = w.allowed(
        "control_appliance",
        json!({"device": "Every Sauna", "action": "on"}),
    );
    assert_eq!(paths(&a), [path(&s, "on")]);
    assert!(a.consent.is_some());
}

#[test]
fn uca_h1_no_sauna_start_in_an_emergency_or_with_nobody_home() {
    let mut w = world();
    fire(&mut w);
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Sauna", "action": "on"}),
    );
    assert_eq!(r.rule, "UCA-H1");
    assert!(r.reason.contains("emergency"), "{r}");
    let mut w = world();
    let p = every(&w, "PresenceDetector");
    w.set(&p, "active", 0.0);
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Sauna", "action": "on"}),
    );
    assert_eq!(r.rule, "UCA-H1");
    assert!(r.reason.contains("nobody home"), "{r}");
}

#[test]
fn uca_h1_no_start_with_the_door_open_or_an_error_and_targets_stay_in_40_to_90() {
    let mut w = world();
    let s = every(&w, "Sauna");
    w.set(&s, "doorClosed", 0.0);
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Sauna", "action": "on"}),
    );
    assert!(r.reason.contains("door"), "{r}");
    let mut w = world();
    w.set(&s, "error", 1.0);
    assert_eq!(
        w.refused(
            "control_appliance",
            json!({"device": "Every Sauna", "action": "on"})
        )
        .rule,
        "UCA-H1"
    );
    let w = world();
    for t in [39.9, 90.5, 120.0] {
        let r = w.refused(
            "control_appliance",
            json!({"device": "Every Sauna", "action": "temperature", "target": t}),
        );
        assert_eq!(r.rule, "UCA-H1", "{t}");
    }
    let a = w.allowed(
        "control_appliance",
        json!({"device": "Every Sauna", "action": "temperature", "target": 90}),
    );
    assert_eq!(paths(&a), [path(&s, "temp/90.0")]);
    assert!(a.consent.is_none());
}

#[test]
fn uca_h1_sauna_off_is_never_refused_for_posture_presence_or_consent() {
    let mut w = world();
    let s = every(&w, "Sauna");
    fire(&mut w);
    let p = every(&w, "PresenceDetector");
    w.set(&p, "active", 0.0);
    w.set(&s, "error", 1.0);
    let a = w.allowed(
        "control_appliance",
        json!({"device": "Every Sauna", "action": "off"}),
    );
    assert_eq!(paths(&a), [path(&s, "off")]);
    assert!(a.consent.is_none());
    // Lowering the target in the emergency too; raising it is refused.
    let a = w.allowed(
        "control_appliance",
        json!({"device": "Every Sauna", "action": "temperature", "target": 60}),
    );
    assert_eq!(paths(&a), [path(&s, "temp/60.0")]);
    assert_eq!(
        w.refused(
            "control_appliance",
            json!({"device": "Every Sauna", "action": "temperature", "target": 85})
        )
        .rule,
        "UCA-H1"
    );
}

// ------------------------------------------------------------------ irrigation (UCA-W1)

#[test]
fn uca_w1_irrigation_starts_its_programme_only_within_the_durations_of_the_table() {
    let mut w = world();
    let i = every(&w, "Irrigation");
    let a = w.allowed(
        "control_appliance",
        json!({"device": "Every Irrigation", "action": "start"}),
    );
    assert_eq!(paths(&a), [path(&i, "start")]);
    assert!(a.notes[0].contains("15 min in all"), "{:?}", a.notes);
    let h = w.h.clone();
    // A zone over 30 min.
    w.s.set_text(
        &h,
        &i,
        "zones",
        r#"[{"id":0,"name":"Lawn","duration":1860}]"#,
    );
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Irrigation", "action": "start"}),
    );
    assert_eq!(r.rule, "UCA-W1");
    assert!(
        r.reason.contains("zone Lawn of") && r.reason.contains("runs 31 min"),
        "{r}"
    );
    // Five zones of 30 min: 150 min in all.
    let five: Vec<Value> = (0..5)
        .map(|n| json!({"id": n, "name": format!("Z{n}"), "duration": 1800}))
        .collect();
    w.s.set_text(&h, &i, "zones", &Value::from(five).to_string());
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Irrigation", "action": "start"}),
    );
    assert!(r.reason.contains("150 min in all"), "{r}");
    // Durations unknown.
    w.s.unset(&h, &i, "zones");
    assert_eq!(
        w.refused(
            "control_appliance",
            json!({"device": "Every Irrigation", "action": "start"})
        )
        .rule,
        "UCA-W1"
    );
}

#[test]
fn uca_w1_no_irrigation_start_in_an_emergency_and_stop_is_never_refused() {
    let mut w = world();
    let i = every(&w, "Irrigation");
    fire(&mut w);
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Irrigation", "action": "start"}),
    );
    assert_eq!(r.rule, "UCA-W1");
    let a = w.allowed(
        "control_appliance",
        json!({"device": "Every Irrigation", "action": "stop"}),
    );
    assert_eq!(paths(&a), [path(&i, "stop")]);
}

// ------------------------------------------------------------------ the tool and the kind

#[test]
fn sc1_an_appliance_takes_only_its_own_actions_and_only_through_control_appliance() {
    let w = world();
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Sauna", "action": "start"}),
    );
    assert_eq!(r.rule, "SC-10");
    assert!(r.reason.contains("on, off, temperature"), "{r}");
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Ventilation", "action": "auto", "level": 3}),
    );
    assert!(r.reason.contains("only used with action level"), "{r}");
    // A light is not an appliance, nor a sauna a light.
    let r = w.refused(
        "control_appliance",
        json!({"device": "Every Dimmer", "action": "on"}),
    );
    assert_eq!(r.rule, "SC-1");
    let r = w.refused(
        "control_light",
        json!({"device": "Every Sauna", "action": "on"}),
    );
    assert!(r.reason.contains("control_appliance"), "{r}");
    // The guard checks the type itself, whoever built the intent.
    let id =
        w.h.all()
            .iter()
            .find(|d| d.loxone_type == "Irrigation")
            .unwrap()
            .id;
    let v = w.decide(&Intent::Appliance {
        device: id,
        action: crate::intent::ApplianceAction::On { celsius: None },
    });
    assert!(matches!(v, Verdict::Refuse(r) if r.rule == "SC-10"));
}

#[test]
fn the_actions_list_of_each_appliance_is_what_the_guard_decides_now() {
    let mut w = world();
    let now = |w: &World, ty: &str| {
        let id = w.h.all().iter().find(|d| d.loxone_type == ty).unwrap().id;
        actions_now(&w.h, id, &w.s, &w.posture(), &w.limits, &w.rates, w.now)
    };
    assert_eq!(
        now(&w, "Sauna"),
        [
            ("on".to_owned(), ActionNow::NeedsConsent),
            ("off".to_owned(), ActionNow::Allowed)
        ]
    );
    fire(&mut w);
    assert_eq!(
        now(&w, "Irrigation"),
        [
            ("start".to_owned(), ActionNow::Refused("UCA-W1")),
            ("stop".to_owned(), ActionNow::Allowed)
        ]
    );
    assert_eq!(
        now(&w, "Ventilation"),
        [
            ("level".to_owned(), ActionNow::Refused("UCA-V1")),
            ("auto".to_owned(), ActionNow::Allowed)
        ]
    );
}
