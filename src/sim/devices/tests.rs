//! Behaviour of the simulated device types, on the demo house.

use super::*;
use crate::loxone::uuid::ControlAddr;

use crate::sim::DEMO_HOUSE as DEMO;

fn now(sim: f64) -> Now {
    Now {
        sim,
        unix: 1_750_000_000.0 + sim,
    }
}

fn house() -> House {
    House::load(DEMO, now(0.0)).unwrap()
}

fn find(h: &House, name: &str) -> usize {
    h.structure
        .controls
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no control {name}"))
}

#[test]
fn a_blind_takes_a_minute_from_top_to_bottom_and_reports_down_while_moving() {
    let mut h = house();
    let b = find(&h, "Kitchen Blind");
    assert_eq!(h.command(b, &["FullDown"], now(0.0)).code, 200);
    h.tick(now(30.0));
    assert!((h.num(b, "position") - 0.5).abs() < 1e-9);
    assert_eq!(h.num(b, "down"), 1.0);
    assert_eq!(h.num(b, "targetPosition"), 1.0);
    h.tick(now(61.0));
    assert_eq!(h.num(b, "position"), 1.0);
    assert_eq!(h.num(b, "down"), 0.0);
}

#[test]
fn manual_position_accepts_0_to_100_only() {
    let mut h = house();
    let b = find(&h, "Bedroom Blind");
    assert_eq!(h.command(b, &["manualPosition", "40"], now(0.0)).code, 200);
    h.tick(now(100.0));
    assert!((h.num(b, "position") - 0.4).abs() < 1e-9);
    assert_eq!(
        h.command(b, &["manualPosition", "101"], now(101.0)).code,
        400
    );
    assert_eq!(h.command(b, &["manualPosition", "x"], now(101.0)).code, 400);
    assert_eq!(
        h.command(b, &["fullup"], now(101.0)).code,
        404,
        "SF spelling only"
    );
}

#[test]
fn the_central_jalousie_moves_every_listed_blind() {
    let mut h = house();
    let c = find(&h, "All Blinds");
    assert_eq!(h.command(c, &["FullDown"], now(0.0)).code, 200);
    h.tick(now(60.0));
    for name in ["Living Room Blind West", "Kitchen Blind", "Nursery Blind"] {
        assert_eq!(h.num(find(&h, name), "position"), 1.0, "{name}");
    }
    assert_eq!(
        h.command(c, &["selectedcontrols", "2", "FullUp"], now(60.0))
            .code,
        200
    );
    h.tick(now(120.0));
    assert_eq!(h.num(find(&h, "Kitchen Blind"), "position"), 0.0);
    assert_eq!(h.num(find(&h, "Bedroom Blind"), "position"), 1.0);
}

#[test]
fn a_gate_opens_in_twenty_seconds_and_reports_its_direction() {
    let mut h = house();
    let g = find(&h, "Garage Door");
    h.command(g, &["open"], now(0.0));
    h.tick(now(10.0));
    assert_eq!(h.num(g, "active"), 1.0);
    assert!((h.num(g, "position") - 0.5).abs() < 1e-9);
    h.tick(now(25.0));
    assert_eq!(h.num(g, "position"), 1.0);
    assert_eq!(h.num(g, "active"), 0.0);
    h.command(g, &["close"], now(25.0));
    h.tick(now(30.0));
    assert_eq!(h.num(g, "active"), -1.0);
}

#[test]
fn rooms_drift_toward_a_new_comfort_temperature() {
    let mut h = house();
    let r = find(&h, "Nursery Climate");
    let before = h.num(r, "tempActual");
    assert_eq!(
        h.command(r, &["setComfortTemperature", "24.5"], now(0.0))
            .code,
        200
    );
    assert_eq!(h.num(r, "tempTarget"), 24.5);
    h.tick(now(3600.0));
    let after = h.num(r, "tempActual");
    assert!(after > before && after < 24.5, "{before} → {after}");
    assert_eq!(
        h.command(r, &["setComfortTolerance", "5"], now(3600.0))
            .code,
        400
    );
    assert_eq!(h.command(r, &["override", "2"], now(3600.0)).code, 200);
    assert_eq!(h.num(r, "tempTarget"), 6.0, "building protection");
    assert_eq!(h.command(r, &["stopOverride"], now(3601.0)).code, 200);
    assert_eq!(h.num(r, "activeMode"), 1.0);
    assert_eq!(h.command(r, &["on"], now(3601.0)).code, 404);
}

#[test]
fn light_moods_switch_circuits_and_show_in_active_moods() {
    let mut h = house();
    let lc = find(&h, "Living Room Lighting");
    let ceiling = h
        .structure
        .index_of(&ControlAddr::parse(&format!("{}/AI1", h.structure.controls[lc].addr)).unwrap())
        .unwrap();
    assert_eq!(h.text_of(lc, "activeMoods"), "[778]");
    assert_eq!(h.command(lc, &["changeTo", "777"], now(0.0)).code, 200);
    assert_eq!(h.text_of(lc, "activeMoods"), "[777]");
    assert_eq!(h.num(ceiling, "position"), 100.0);
    assert_eq!(h.command(lc, &["changeTo", "0"], now(1.0)).code, 200);
    assert_eq!(h.text_of(lc, "activeMoods"), "[778]");
    assert_eq!(h.num(ceiling, "position"), 0.0);
    assert_eq!(h.command(lc, &["changeTo", "4242"], now(1.0)).code, 400);
    assert_eq!(
        h.command(lc, &["on"], now(1.0)).code,
        404,
        "LCv2 has no on (SF)"
    );
    assert!(h.text_of(lc, "moodList").contains("\"Off\""));
    assert!(h.text_of(lc, "circuitNames").contains("Floor lamp"));
}

#[test]
fn a_dimmer_remembers_its_last_position() {
    let mut h = house();
    let d = find(&h, "Kitchen Ceiling");
    assert_eq!(h.command(d, &["55"], now(0.0)).code, 200);
    assert_eq!(h.command(d, &["off"], now(1.0)).code, 200);
    assert_eq!(h.num(d, "position"), 0.0);
    assert_eq!(h.command(d, &["on"], now(2.0)).value, "55.000");
    assert_eq!(
        h.command(d, &["On"], now(2.0)).code,
        404,
        "Dimmer takes SF spelling"
    );
}

#[test]
fn the_alarm_arms_disarms_and_arms_after_its_delay() {
    let mut h = house();
    let a = find(&h, "Burglar Alarm");
    assert_eq!(h.command(a, &["on", "1"], now(0.0)).code, 200);
    assert_eq!(h.num(a, "armed"), 1.0);
    assert_eq!(h.num(a, "disabledMove"), 0.0);
    assert_eq!(h.command(a, &["off"], now(1.0)).code, 200);
    assert_eq!(h.num(a, "armed"), 0.0);
    assert_eq!(h.command(a, &["delayedon", "0"], now(2.0)).code, 200);
    assert_eq!(h.num(a, "armed"), 0.0);
    assert_eq!(h.num(a, "armedDelay"), 30.0);
    h.tick(now(33.0));
    assert_eq!(h.num(a, "armed"), 1.0);
    assert_eq!(h.num(a, "disabledMove"), 1.0);
    assert_eq!(h.command(a, &["on", "2"], now(34.0)).code, 400);
    assert_eq!(h.command(a, &["arm"], now(34.0)).code, 404);
}

#[test]
fn the_smoke_alarm_triggers_and_is_confirmed() {
    let mut h = house();
    let s = find(&h, "Fire and Water Alarm");
    trigger_smoke(&mut h, s, now(0.0));
    assert_eq!(h.num(s, "level"), 2.0);
    assert_eq!(h.num(s, "alarmCause"), 1.0);
    assert_eq!(h.command(s, &["mute"], now(1.0)).code, 200);
    assert_eq!(h.num(s, "acousticAlarm"), 0.0);
    assert_eq!(h.command(s, &["confirm"], now(2.0)).code, 200);
    assert_eq!(h.num(s, "level"), 0.0);
}

#[test]
fn the_bell_rings_until_answered_and_the_door_opener_pulses() {
    let mut h = house();
    let i = find(&h, "Front Door");
    ring_bell(&mut h, i, now(0.0));
    assert_eq!(h.num(i, "bell"), 1.0);
    assert_eq!(h.text_of(i, "lastBellTimestamp").len(), 14);
    assert_eq!(h.command(i, &["answer"], now(1.0)).code, 200);
    assert_eq!(h.num(i, "bell"), 0.0);
    let opener = find(&h, "Door opener");
    assert_eq!(h.command(opener, &["pulse"], now(2.0)).code, 200);
    assert_eq!(h.num(opener, "active"), 1.0);
    h.tick(now(3.0));
    assert_eq!(h.num(opener, "active"), 0.0);
}

#[test]
fn the_wallbox_charges_at_its_manual_limit() {
    let mut h = house();
    let w = find(&h, "Wallbox");
    assert_eq!(h.command(w, &["manualLimit", "7.4"], now(0.0)).code, 200);
    assert_eq!(h.num(w, "mode"), 99.0);
    assert_eq!(h.command(w, &["allow", "on"], now(0.0)).code, 200);
    assert_eq!(h.num(w, "active"), 1.0);
    assert_eq!(h.num(w, "actual"), 7.4);
    let total = h.num(w, "total");
    h.tick(now(3600.0));
    assert!((h.num(w, "total") - total - 7.4).abs() < 0.02);
    assert_eq!(
        h.command(w, &["manualLimit", "50"], now(3600.0)).value,
        "1.000"
    );
    assert_eq!(h.num(w, "limit"), 11.0, "clamped to details.max");
    assert_eq!(h.command(w, &["setmode", "7"], now(3600.0)).code, 400);
}

#[test]
fn a_ventilation_timer_sets_the_speed_and_ends_by_itself_back_in_automatic() {
    let mut h = house();
    let v = find(&h, "Ventilation");
    assert_eq!(h.num(v, "activeTimerProfile"), -2.0);
    assert_eq!(h.num(v, "mode"), 2.0, "the first of details.modes");
    let r = h.command(v, &["setTimer", "600", "70", "1", "-1"], now(0.0));
    assert_eq!((r.code, r.value.as_str()), (200, "70.000"));
    assert_eq!(h.num(v, "ventReason"), 7.0, "manual");
    assert_eq!(h.num(v, "activeTimerProfile"), -1.0);
    assert_eq!(h.num(v, "mode"), 1.0);
    h.tick(now(599.0));
    assert_eq!(h.num(v, "speed"), 70.0);
    h.tick(now(601.0));
    assert_eq!(h.num(v, "speed"), 30.0, "the programme's speed again");
    assert_eq!(h.num(v, "activeTimerProfile"), -2.0);
    h.command(v, &["setTimer", "600", "70", "1", "-1"], now(700.0));
    assert_eq!(h.command(v, &["setTimer", "0"], now(701.0)).code, 200);
    assert_eq!(h.num(v, "ventReason"), 0.0);
    assert_eq!(
        h.command(v, &["setTimer", "600", "101", "1", "-1"], now(702.0))
            .code,
        400
    );
    assert_eq!(
        h.command(v, &["setPresenceMin", "25"], now(702.0)).code,
        200
    );
    assert_eq!(h.num(v, "presenceMin"), 25.0);
    assert_eq!(h.command(v, &["off"], now(702.0)).code, 404);
}

#[test]
fn a_sauna_heats_toward_its_target_while_on_and_goes_off_at_once() {
    let mut h = house();
    let s = find(&h, "Sauna");
    assert_eq!(h.num(s, "tempActual"), 22.0);
    assert_eq!(h.command(s, &["ontemp", "70"], now(0.0)).code, 200);
    assert_eq!((h.num(s, "active"), h.num(s, "power")), (1.0, 1.0));
    assert_eq!(h.num(s, "tempTarget"), 70.0);
    h.tick(now(600.0));
    assert!(
        (h.num(s, "tempActual") - 52.0).abs() < 0.2,
        "{}",
        h.num(s, "tempActual")
    );
    h.tick(now(2000.0));
    assert_eq!(h.num(s, "tempActual"), 70.0);
    assert_eq!(h.num(s, "power"), 0.0, "at target");
    assert_eq!(h.command(s, &["off"], now(2000.0)).code, 200);
    assert_eq!((h.num(s, "active"), h.num(s, "power")), (0.0, 0.0));
    h.tick(now(2600.0));
    assert!(h.num(s, "tempActual") < 70.0, "cooling");
    assert_eq!(h.command(s, &["temp", "x"], now(2600.0)).code, 400);
    // No vaporizer: no mode or humidity.
    assert_eq!(h.command(s, &["mode", "3"], now(2600.0)).code, 404);
}

#[test]
fn irrigation_runs_each_zone_for_its_duration_not_in_rain_and_stops() {
    let mut h = house();
    let i = find(&h, "Garden Irrigation");
    assert_eq!(h.num(i, "currentZone"), -1.0);
    assert_eq!(h.command(i, &["start"], now(0.0)).code, 200);
    assert_eq!(h.num(i, "currentZone"), 0.0);
    h.tick(now(601.0));
    assert_eq!(h.num(i, "currentZone"), 1.0, "Lawn 600 s, then Beds");
    h.tick(now(902.0));
    assert_eq!(h.num(i, "currentZone"), -1.0, "Beds 300 s, then off");
    assert_eq!(h.command(i, &["start"], now(903.0)).code, 200);
    assert_eq!(h.command(i, &["stop"], now(904.0)).code, 200);
    assert_eq!(h.num(i, "currentZone"), -1.0);
    h.set(i, "rainActive", 1.0);
    h.command(i, &["start"], now(905.0));
    assert_eq!(h.num(i, "currentZone"), -1.0, "start waits for no rain");
    h.command(i, &["startForce"], now(906.0));
    assert_eq!(h.num(i, "currentZone"), 0.0, "startForce ignores rain");
    assert_eq!(
        h.command(i, &["setDuration", "1=120"], now(907.0)).code,
        200
    );
    assert!(h.text_of(i, "zones").contains("\"duration\":120"));
    assert_eq!(h.command(i, &["select", "10"], now(907.0)).code, 400);
}

#[test]
fn audio_volume_and_play_state_follow_commands() {
    let mut h = house();
    let a = find(&h, "Living Room Music");
    assert_eq!(h.command(a, &["play"], now(0.0)).code, 200);
    assert_eq!(h.num(a, "playState"), 2.0);
    assert_eq!(h.command(a, &["volume", "35"], now(0.0)).value, "35.000");
    assert_eq!(h.command(a, &["volUp"], now(0.0)).value, "38.000");
    assert_eq!(h.command(a, &["Pause"], now(0.0)).code, 200);
    assert_eq!(h.num(a, "playState"), 1.0);
    assert_eq!(
        h.command(a, &["pause"], now(0.0)).code,
        404,
        "V2 is `Pause` (SF)"
    );
}

#[test]
fn switches_take_on_and_off_only() {
    let mut h = house();
    let s = find(&h, "Garden socket");
    assert_eq!(h.command(s, &["on"], now(0.0)).code, 200);
    assert_eq!(h.num(s, "active"), 1.0);
    assert_eq!(h.command(s, &["toggle"], now(0.0)).code, 404);
    assert_eq!(h.command(s, &["pulse"], now(0.0)).code, 404);
}

#[test]
fn dates_are_formatted_in_utc() {
    assert_eq!(last_modified_stamp(0.0), "1970-01-01 00:00:00");
    assert_eq!(bell_stamp(1_230_768_000.0), "20090101000000");
    assert_eq!(last_modified_stamp(1_709_210_096.0), "2024-02-29 12:34:56");
}

/// One control of each type the client's vocabulary (`loxone::command::Op`) addresses.
fn vocabulary_house() -> House {
    let types = [
        ("Switch", vec!["active"]),
        ("Pushbutton", vec!["active"]),
        ("Dimmer", vec!["position", "min", "max", "step"]),
        ("EIBDimmer", vec!["position"]),
        ("LightControllerV2", vec!["activeMoods", "moodList"]),
        ("LightController", vec!["activeScene", "sceneList"]),
        ("CentralLightController", vec![]),
        (
            "Jalousie",
            vec!["up", "down", "position", "targetPosition", "shadePosition"],
        ),
        ("CentralJalousie", vec![]),
        ("Gate", vec!["position", "active"]),
        ("CentralGate", vec![]),
        ("Window", vec!["position", "direction"]),
        (
            "IRoomControllerV2",
            vec![
                "tempActual",
                "tempTarget",
                "comfortTemperature",
                "activeMode",
            ],
        ),
        ("AudioZone", vec!["playState", "volume", "power"]),
        (
            "AudioZoneV2",
            vec!["playState", "volume", "power", "volumeStep"],
        ),
        (
            "Wallbox2",
            vec!["connected", "enabled", "active", "mode", "limit", "actual"],
        ),
        (
            "CarCharger",
            vec![
                "charging",
                "connected",
                "currentLimit",
                "minLimit",
                "maxLimit",
                "power",
            ],
        ),
        (
            "Alarm",
            vec![
                "armed",
                "level",
                "disabledMove",
                "armedDelay",
                "armedDelayTotal",
            ],
        ),
        ("Intercom", vec!["bell"]),
        ("NfcCodeTouch", vec!["historyDate"]),
        (
            "Ventilation",
            vec!["speed", "mode", "ventReason", "activeTimerProfile"],
        ),
        ("Sauna", vec!["active", "power", "tempActual", "tempTarget"]),
        ("Irrigation", vec!["currentZone", "zones"]),
    ];
    let mut controls = serde_json::Map::new();
    for (n, (kind, states)) in types.iter().enumerate() {
        let uuid = format!("2a000000-0000-{n:04x}-ffff504f94a00009");
        let st: serde_json::Map<String, Value> = states
            .iter()
            .enumerate()
            .map(|(k, s)| {
                (
                    s.to_string(),
                    json!(format!("2b0000{n:02x}-0000-{k:04x}-ffff504f94a00009")),
                )
            })
            .collect();
        controls.insert(
            uuid.clone(),
            json!({"name": kind, "type": kind, "uuidAction": uuid,
            "defaultRating": 0, "isSecured": false, "states": st}),
        );
    }
    let doc = json!({"lastModified": "2025-01-01 00:00:00", "controls": controls});
    House::load(doc.to_string().as_bytes(), now(0.0)).unwrap()
}

#[test]
fn every_command_of_the_client_vocabulary_is_understood_by_its_control_type() {
    use crate::loxone::command::{Op, Percent, Tenths};
    let p = |v| Percent::new(v).unwrap();
    let t = |v| Tenths::from_f64(v).unwrap();
    let table: &[(&str, Op)] = &[
        ("Switch", Op::On),
        ("Switch", Op::Off),
        ("Pushbutton", Op::Pulse),
        ("Pushbutton", Op::On),
        ("Pushbutton", Op::Off),
        ("Dimmer", Op::On),
        ("Dimmer", Op::Off),
        ("Dimmer", Op::DimTo(p(40))),
        ("EIBDimmer", Op::DimTo(p(40))),
        ("LightControllerV2", Op::ChangeTo(778)),
        ("LightControllerV2", Op::ChangeTo(777)),
        ("LightControllerV2", Op::Plus),
        ("LightControllerV2", Op::Minus),
        ("LightController", Op::On),
        ("LightController", Op::Off),
        ("LightController", Op::Scene(3)),
        ("LightController", Op::Plus),
        ("LightController", Op::Minus),
        ("CentralLightController", Op::On),
        ("Jalousie", Op::FullUp),
        ("Jalousie", Op::FullDown),
        ("Jalousie", Op::Stop),
        ("Jalousie", Op::Shade),
        ("Jalousie", Op::ManualPosition(p(30))),
        ("CentralJalousie", Op::FullUp),
        ("CentralJalousie", Op::FullDown),
        ("CentralJalousie", Op::Stop),
        ("CentralJalousie", Op::Shade),
        ("Gate", Op::Open),
        ("Gate", Op::Close),
        ("Gate", Op::Stop),
        ("CentralGate", Op::Open),
        ("CentralGate", Op::Close),
        ("CentralGate", Op::Stop),
        ("Window", Op::FullOpen),
        ("Window", Op::FullClose),
        ("Window", Op::Stop),
        ("Window", Op::MoveToPosition(p(50))),
        ("IRoomControllerV2", Op::SetComfortTemperature(t(21.5))),
        ("AudioZone", Op::Play),
        ("AudioZone", Op::Pause),
        ("AudioZone", Op::Volume(p(20))),
        ("AudioZone", Op::Next),
        ("AudioZone", Op::Prev),
        ("AudioZoneV2", Op::Play),
        ("AudioZoneV2", Op::PauseV2),
        ("AudioZoneV2", Op::Volume(p(20))),
        ("AudioZoneV2", Op::Next),
        ("AudioZoneV2", Op::Prev),
        ("Wallbox2", Op::AllowOn),
        ("Wallbox2", Op::AllowOff),
        ("Wallbox2", Op::ManualLimit(t(7.4))),
        ("CarCharger", Op::ChargeOn),
        ("CarCharger", Op::ChargeOff),
        ("CarCharger", Op::Limit(t(11.0))),
        ("Alarm", Op::Arm { movement: true }),
        ("Alarm", Op::Arm { movement: false }),
        ("Alarm", Op::ArmDelayed { movement: true }),
        ("Alarm", Op::Disarm),
        ("Alarm", Op::Quit),
        ("Intercom", Op::Answer),
        ("NfcCodeTouch", Op::Output(1)),
        (
            "Ventilation",
            Op::VentTimer {
                secs: 60,
                speed: p(40),
                mode: 1,
            },
        ),
        ("Ventilation", Op::VentAuto),
        ("Sauna", Op::On),
        ("Sauna", Op::Off),
        ("Sauna", Op::SaunaOnTemp(t(80.0))),
        ("Sauna", Op::SaunaTemp(t(75.0))),
        ("Irrigation", Op::IrrigationStart),
        ("Irrigation", Op::Stop),
    ];
    let mut h = vocabulary_house();
    for (kind, op) in table {
        let i = find(&h, kind);
        let text = op.to_string();
        let segs: Vec<&str> = text.split('/').collect();
        assert_eq!(h.command(i, &segs, now(1.0)).code, 200, "{kind} {text}");
    }
    // And the pairings SF does not have are refused.
    for (kind, op) in [
        ("LightControllerV2", Op::On),
        ("AudioZoneV2", Op::Pause),
        ("AudioZone", Op::PauseV2),
        ("CentralJalousie", Op::ManualPosition(p(3))),
        ("Switch", Op::Pulse),
        ("Gate", Op::FullUp),
    ] {
        let i = find(&h, kind);
        let text = op.to_string();
        let segs: Vec<&str> = text.split('/').collect();
        assert_eq!(h.command(i, &segs, now(2.0)).code, 404, "{kind} {text}");
    }
}
