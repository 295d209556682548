//! Music Server zones and the radio block (SF "AudioZone", "AudioZoneV2", "Radio").

use super::*;

pub(super) fn volume_set(h: &mut House, idx: usize, v: f64) {
    let max = if h.has(idx, "maxVolume") && h.num(idx, "maxVolume") > 0.0 {
        h.num(idx, "maxVolume")
    } else {
        100.0
    };
    h.set(idx, "volume", v.clamp(0.0, max).round());
}

pub(super) fn audio_v2(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    let step = h.num(idx, "volumeStep").max(1.0);
    let vol = h.num(idx, "volume");
    match cmd {
        ["play"] | ["playZoneFav", _] => {
            h.set(idx, "power", 1.0);
            h.set(idx, "playState", 2.0);
        }
        ["Pause"] => h.set(idx, "playState", 1.0),
        ["volume", v] => match percent_arg(Some(v)) {
            Some(v) => volume_set(h, idx, v),
            None => return 400,
        },
        ["volUp"] => volume_set(h, idx, vol + step),
        ["volDown"] => volume_set(h, idx, vol - step),
        ["next"] | ["prev"] | ["tts", ..] | ["resetbluetoothpairings"] => {}
        ["bluetooth", b @ ("0" | "1")] => {
            h.set(idx, "bluetooth", if *b == "1" { 1.0 } else { 0.0 })
        }
        ["presence", "on" | "off"] => {}
        _ => return 404,
    }
    200
}

pub(super) fn audio_v1(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    let vol = h.num(idx, "volume");
    match cmd {
        ["play"] | ["on"] => {
            h.set(idx, "power", 1.0);
            h.set(idx, "playState", 2.0);
        }
        ["pause"] => h.set(idx, "playState", 1.0),
        ["off"] => {
            h.set(idx, "power", 0.0);
            h.set(idx, "playState", 0.0);
        }
        ["volume", v] => match percent_arg(Some(v)) {
            Some(v) => volume_set(h, idx, v),
            None => return 400,
        },
        ["volstep", s] => match num_arg(Some(s)) {
            Some(s) => volume_set(h, idx, vol + s),
            None => return 400,
        },
        ["next"] | ["prev"] | ["shuffle"] | ["progress", _] | ["source", _] => {}
        ["repeat", r @ ("0" | "1" | "3")] => h.set(idx, "repeat", r.parse().unwrap_or(0.0)),
        _ => return 404,
    }
    200
}

pub(super) fn radio(h: &mut House, idx: usize, cmd: &[&str]) -> u16 {
    match cmd {
        ["reset"] => h.set(idx, "activeOutput", 0.0),
        ["next"] | ["prev"] => {}
        [n] => match n.parse::<u8>() {
            Ok(n @ 1..=16) => h.set(idx, "activeOutput", f64::from(n)),
            _ => return 400,
        },
        _ => return 404,
    }
    200
}
