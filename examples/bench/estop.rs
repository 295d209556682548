//! The emergency stop's figures: from `loxwarden estop` (the CLI's own code) to the moment the
//! simulator logs the stop of the last blind, and of the last of all the stop's commands,
//! through the daemon and directly (no daemon running).
//!
//! Why the simulator's log: "reached" means the Miniserver received the command, which only
//! the receiving side can tell; its log times count from its own start ([`Sim::log_epoch`]),
//! the same clock as the moment the command was given here.

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use loxwarden::loxone::structure::Structure;
use loxwarden::sim::HouseSource;

use crate::site::{Daemon, Site};
use crate::stats::{Row, Samples};
use crate::{Plan, ms};

/// The smallest generated house with `blinds` Jalousie controls.
fn house_with_blinds(blinds: usize) -> usize {
    let mut n = blinds * 6;
    loop {
        let s =
            Structure::parse(loxwarden::sim::generated_structure(n).as_bytes()).expect("parses");
        let count = s
            .controls
            .iter()
            .filter(|c| c.parent.is_none() && c.kind == "Jalousie")
            .count();
        if count >= blinds {
            return n;
        }
        n += (blinds - count) * 20 / 3 + 1;
    }
}

/// When the last blind's stop and the last of all stops arrived, after `called`, in ms.
struct Reached {
    last_blind: f64,
    last_stop: f64,
    stops: usize,
}

/// `loxwarden estop` (the CLI's code) → the last blind's `stop` and the last stop of all
/// logged by the simulator, through the daemon and directly (no daemon).
pub fn rows(root: &Path, bin: &Path, plan: &Plan) -> Vec<Row> {
    let n = house_with_blinds(plan.blinds);
    let site = Site::new(root, "estop", HouseSource::Generated(n));
    site.cache_structure();
    let blind_addrs: HashSet<String> = site.controls_of(&["Jalousie"]).into_iter().collect();
    let blinds = blind_addrs.len();
    let others = site
        .controls_of(&["Window", "Gate", "AudioZone", "AudioZoneV2"])
        .len();
    let epoch = site.sim.log_epoch();
    let reached = |called: Instant, mark: u64| -> Option<Reached> {
        let since = ms(called.duration_since(epoch));
        let stops: Vec<_> = site
            .sim
            .commands_since(mark)
            .into_iter()
            .filter(|e| {
                e.device && matches!(e.op.as_deref(), Some("stop" | "pause" | "Pause" | "off"))
            })
            .collect();
        let last_stop = stops.iter().map(|e| e.at_ms).max()?;
        let last_blind = stops
            .iter()
            .filter(|e| e.control.as_ref().is_some_and(|c| blind_addrs.contains(c)))
            .map(|e| e.at_ms)
            .max()?;
        Some(Reached {
            last_blind: last_blind as f64 - since,
            last_stop: last_stop as f64 - since,
            stops: stops.len(),
        })
    };
    let mut rows = Vec::new();
    let mut sent = 0;
    {
        let _daemon = Daemon::start(&site, bin);
        let (mut to_blind, mut to_all) = (Vec::new(), Vec::new());
        for _ in 0..plan.repeats {
            let mark = site.sim.log_mark();
            let called = Instant::now();
            let _ =
                loxwarden::control::client::estop(Ok(&site.cfg), Some("bench"), &mut Vec::new())
                    .expect("estop");
            if let Some(r) = reached(called, mark) {
                to_blind.push(r.last_blind);
                to_all.push(r.last_stop);
                sent = r.stops;
            }
            loxwarden::control::client::resume(&site.cfg.paths, &mut Vec::new()).expect("resume");
        }
        rows.push(Row::lower(
            &format!(
                "emergency stop through the daemon, command → the last of {blinds} blinds stopped (with {others} windows, gates, audio zones; {sent} stops)"
            ),
            &Samples::new(to_blind),
            "ms",
            1,
            Some(50.0),
        ));
        rows.push(Row::lower(
            "… → the last of all its stops received",
            &Samples::new(to_all),
            "ms",
            1,
            None,
        ));
    }
    // Without a daemon the CLI stops the house itself with the stored token.
    let mut v = Vec::new();
    for _ in 0..plan.repeats.min(5) {
        let mark = site.sim.log_mark();
        let called = Instant::now();
        let _ = loxwarden::control::client::estop(Ok(&site.cfg), Some("bench"), &mut Vec::new())
            .expect("estop");
        if let Some(r) = reached(called, mark) {
            v.push(r.last_stop);
        }
        let _ = std::fs::remove_file(
            site.cfg
                .paths
                .state_dir
                .join(loxwarden::safety::latch::LATCH_FILE),
        );
    }
    rows.push(Row::lower(
        "… directly, no daemon running (the CLI's fallback), → the last of all its stops received",
        &Samples::new(v),
        "ms",
        1,
        None,
    ));
    rows
}
