//! `Config::parse` on arbitrary text (seeded with real configs, a TOML dictionary), then the
//! two things the gateway builds from an accepted config: the safety table and the house
//! (exposure, `[[classify]]`) over the test house's structure file.
//!
//! Checked: no panic; a config that parses has a usable Miniserver URL and address; the table
//! it yields is never looser than the compiled one (SC-2 bands inside the compiled bands, the
//! volume caps, the step and the intercom window no larger, night times inside the day), and
//! a setpoint the table accepts is always inside the compiled hard band.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loxwarden::config::{self, Config};
use loxwarden::house::House;
use loxwarden::safety::table::{
    Band, INTERCOM_WINDOW, Limits, TEMP_FREE_C, TEMP_HARD_C, TEMP_MAX_STEP_C, VOLUME_FREE_MAX,
    VOLUME_HARD_MAX,
};

fn inside(b: Band, outer: Band, what: &str) {
    // An empty band (min > max) is tighter than any; otherwise it must sit inside `outer`.
    if b.min <= b.max {
        assert!(
            b.min >= outer.min && b.max <= outer.max,
            "{what} {}–{} is looser than {}–{}",
            b.min,
            b.max,
            outer.min,
            outer.max
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(cfg) = Config::parse(&text) else {
        return;
    };
    let url = config::parse_ms_url(&cfg.miniserver.url).expect("an accepted url parses");
    if let Some(a) = &cfg.miniserver.address {
        config::parse_address(a, url.port).expect("an accepted address parses");
    }
    let l = Limits::from_config(&cfg).expect("an accepted config yields its table");
    assert!(l.temp_hard.min <= l.temp_hard.max, "an empty site band");
    inside(l.temp_hard, TEMP_HARD_C, "the hard band");
    inside(l.temp_free, TEMP_FREE_C, "the free band");
    assert!(l.temp_max_step > 0.0 && l.temp_max_step <= TEMP_MAX_STEP_C);
    assert!(l.volume_hard_max <= VOLUME_HARD_MAX && l.volume_free_max <= VOLUME_FREE_MAX);
    assert!(!l.intercom_window.is_zero() && l.intercom_window <= INTERCOM_WINDOW);
    for r in &l.rooms {
        inside(r.temp_hard, l.temp_hard, "a room's hard band");
        inside(r.temp_free, l.temp_free, "a room's free band");
        assert!(r.volume_hard_max <= l.volume_hard_max && r.volume_free_max <= l.volume_free_max);
    }
    if let Some(n) = &l.night {
        assert!(n.start < 24 * 60 && n.end < 24 * 60);
    }
    let rooms: Vec<&str> = l
        .rooms
        .iter()
        .map(|r| r.room.as_str())
        .chain(["Living Room", ""])
        .collect();
    for room in rooms {
        for t in [
            -1e300,
            -40.0,
            4.9,
            5.0,
            16.0,
            22.0,
            28.0,
            30.0,
            30.1,
            1e300,
            f64::NAN,
            f64::INFINITY,
        ] {
            if l.temperature(t, None, room).is_ok() {
                assert!(TEMP_HARD_C.contains(t), "{t} °C accepted in {room:?}");
            }
        }
    }
    let _ = House::new(fuzz_support::test_structure(), &cfg);
});
