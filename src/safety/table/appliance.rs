//! The limits of the household appliances `control_appliance` drives (issue 22): a manual
//! ventilation timer's length, a sauna's target band, and how long irrigation may run. Each with
//! the hazard it prevents and a test under it.
//!
//! Why these bounds are the Miniserver's to keep, not ours: a ventilation timer and the
//! irrigation programme end on the Miniserver when their time is up (SF "Ventilation"
//! `setTimer/{interval}/…`; SF "Irrigation" zones' `duration`), so a bound checked here holds
//! even if loxwarden stops right after sending. loxwarden never starts anything that runs
//! "until stopped" (SF "Irrigation" `select/{zone}`).

use super::Band;

/// L-2: a manual ventilation timer runs at most this long (then the house's programme takes
/// over again: CO2 and damp stay the programme's to handle).
pub const VENT_TIMER_MAX_MIN: u16 = 240;
/// The timer's length when the AI names none.
pub const VENT_TIMER_DEFAULT_MIN: u16 = 60;
#[test]
fn l2_a_manual_ventilation_timer_lasts_at_most_4_hours_and_1_by_default() {
    assert_eq!(VENT_TIMER_MAX_MIN, 240);
    assert_eq!(VENT_TIMER_DEFAULT_MIN, 60);
    const { assert!(VENT_TIMER_DEFAULT_MIN <= VENT_TIMER_MAX_MIN) };
}

/// L-1, L-2: a sauna's target temperature stays in this band (SF's own automatic programmes
/// heat to 45–80 °C; a Finnish sauna rarely needs more than 90 °C, and more is a burn and a
/// fire load).
pub const SAUNA_TEMP_C: Band = Band {
    min: 40.0,
    max: 90.0,
};
#[test]
fn l1_a_sauna_target_is_40_to_90_degrees() {
    assert!(SAUNA_TEMP_C.contains(40.0) && SAUNA_TEMP_C.contains(90.0));
    assert!(!SAUNA_TEMP_C.contains(90.1) && !SAUNA_TEMP_C.contains(39.9));
}

/// L-2, L-6: irrigation starts only when every zone's own duration is at most this…
pub const IRRIGATION_ZONE_MAX_MIN: u32 = 30;
/// …and the whole programme (zones run one after another) at most this.
pub const IRRIGATION_TOTAL_MAX_MIN: u32 = 120;
#[test]
fn l2_irrigation_runs_at_most_30_minutes_a_zone_and_2_hours_in_all() {
    assert_eq!(IRRIGATION_ZONE_MAX_MIN, 30);
    assert_eq!(IRRIGATION_TOTAL_MAX_MIN, 120);
}
