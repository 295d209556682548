//! Reading the house: parsing a large structure file (generated, and the real manison file
//! repeated) and ingesting value events through the link's own path.
//!
//! Why apart: these call the library directly (no process, no network), and report the
//! measuring thread's on-CPU time beside the wall clock, which load does not inflate.

use std::time::Instant;

use loxwarden::loxone::events::{Frame, Framer, Incoming};
use loxwarden::loxone::state::{StateCache, StateValue};
use loxwarden::loxone::structure::{StateRef, Structure};

use crate::machine;
use crate::stats::{self, Row, Samples, num};
use crate::{Plan, ms};

/// A generated structure file of at least `bytes`.
pub fn structure_of_size(bytes: usize) -> String {
    let per = loxwarden::sim::generated_structure(100).len() / 100;
    let mut n = bytes / per.max(1);
    loop {
        let s = loxwarden::sim::generated_structure(n);
        if s.len() >= bytes {
            return s;
        }
        n += n / 20 + 1;
    }
}

/// A structure file of at least `bytes` built from the real manison fixture (66 controls, many
/// sub-controls, numbers as strings) by repeating its controls under fresh UUIDs: the shape and
/// quirks are a real installation's, only the count grows.
pub fn manison_of_size(bytes: usize) -> Vec<u8> {
    let text = include_str!("../../tests/fixtures/loxone/loxone-net-manison-LoxAPP3.json");
    let doc: serde_json::Value = serde_json::from_str(text).expect("fixture is JSON");
    let controls = doc["controls"].as_object().expect("controls").clone();
    let mut out = doc.clone();
    let mut copy = 0u32;
    while serde_json::to_vec(&out).map_or(0, |v| v.len()) < bytes {
        copy += 1;
        let prefix = format!("{copy:08x}");
        let all = out["controls"].as_object_mut().expect("controls");
        for (k, v) in &controls {
            // The first 8 hex digits of every UUID in this control become the copy number.
            let body = v.to_string().replace(&k[..8], &prefix);
            all.insert(
                k.replace(&k[..8], &prefix),
                serde_json::from_str(&body).expect("json"),
            );
        }
    }
    serde_json::to_vec(&out).expect("encode")
}

pub fn parse(plan: &Plan) -> Vec<Row> {
    let files = [
        (
            "generated house",
            structure_of_size(plan.parse_bytes).into_bytes(),
        ),
        (
            "real manison file repeated",
            manison_of_size(plan.parse_bytes),
        ),
    ];
    let mut rows = Vec::new();
    for (what, bytes) in files {
        let (mut v, mut cpu) = (Vec::new(), Vec::new());
        let mut controls = 0;
        for _ in 0..plan.repeats.max(5) {
            let c = machine::thread_cpu_ns();
            let t = Instant::now();
            let s = Structure::parse(&bytes).expect("parses");
            v.push(ms(t.elapsed()));
            if let (Some(a), Some(b)) = (c, machine::thread_cpu_ns()) {
                cpu.push((b - a) as f64 / 1e6);
            }
            controls = s.controls.len();
            drop(s);
        }
        let cpu = Samples::new(cpu);
        rows.push(Row::lower(
            &format!(
                "parse a {:.1} MB structure file, {what} ({controls} controls incl. sub-controls; on-CPU median {} ms)",
                bytes.len() as f64 / 1_048_576.0,
                num(cpu.median(), 1)
            ),
            &Samples::new(v),
            "ms",
            1,
            Some(40.0),
        ));
    }
    rows
}

/// Value events through the link's own path: header + payload into the `Framer`, the value
/// table parsed, applied to the `StateCache` (tables of 500 events over 20,000 states).
pub fn ingest(plan: &Plan) -> Row {
    let s =
        Structure::parse(loxwarden::sim::generated_structure(2_000).as_bytes()).expect("parses");
    let uuids: Vec<[u8; 16]> = s
        .controls
        .iter()
        .flat_map(|c| c.states.values())
        .flat_map(|r| match r {
            StateRef::One(u) => vec![*u],
            StateRef::Many(v) => v.clone(),
        })
        .map(|u| wire_uuid(&u.to_string()))
        .collect();
    const PER_TABLE: usize = 500;
    let tables: Vec<Vec<u8>> = uuids
        .chunks(PER_TABLE)
        .enumerate()
        .map(|(t, chunk)| {
            let mut b = Vec::with_capacity(chunk.len() * 24);
            for (i, u) in chunk.iter().enumerate() {
                b.extend_from_slice(u);
                b.extend_from_slice(&((t * PER_TABLE + i) as f64).to_le_bytes());
            }
            b
        })
        .collect();
    let total_per_round: usize = tables.iter().map(|t| t.len() / 24).sum();
    let rounds = (5_000_000 / total_per_round.max(1)).max(1);
    let cache = StateCache::new();
    let clock = loxwarden::clock::SystemClock::new();
    let (mut v, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..plan.repeats.max(5) {
        let mut framer = Framer::new();
        let mut events = 0usize;
        let c = machine::thread_cpu_ns();
        let t = Instant::now();
        for _ in 0..rounds {
            for table in &tables {
                let mut header = [3u8, 2, 0, 0, 0, 0, 0, 0];
                header[4..8].copy_from_slice(&(table.len() as u32).to_le_bytes());
                let _ = framer.feed(Incoming::Binary(&header));
                if let Some(Frame::Values(vals)) = framer.feed(Incoming::Binary(table)) {
                    events += vals.len();
                    let now = loxwarden::clock::Clock::mono(&clock);
                    cache.apply(
                        vals.into_iter().map(|(u, x)| (u, StateValue::Number(x))),
                        now,
                    );
                }
            }
        }
        v.push(events as f64 / t.elapsed().as_secs_f64() / 1e6);
        if let (Some(a), Some(b)) = (c, machine::thread_cpu_ns()) {
            cpu.push(events as f64 / ((b - a) as f64 / 1e9) / 1e6);
        }
    }
    let s = Samples::new(v);
    let cpu = Samples::new(cpu);
    let mut r = Row::lower(
        &format!(
            "event ingest, value events/s (framer → parser → state cache, {} states, {PER_TABLE} per table; on-CPU median {} M/s)",
            uuids.len(),
            num(cpu.median(), 2)
        ),
        &s,
        "M/s",
        2,
        None,
    );
    r.budget = "≥ 5 M/s".into();
    r.verdict = if s.median() >= 5.0 {
        stats::Verdict::Within
    } else {
        stats::Verdict::Over
    };
    r
}

/// A UUID as the Miniserver sends it in an event table (the first three groups little-endian).
pub fn wire_uuid(text: &str) -> [u8; 16] {
    let hex: String = text.chars().filter(char::is_ascii_hexdigit).collect();
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    b
}
