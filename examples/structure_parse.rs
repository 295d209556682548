//! Measures `Structure::parse` on a ~5 MB structure file (issue 4: "well under 100 ms").
//!
//! Run: `cargo run --release --example structure_parse [TARGET_MB]`
//!
//! The file is built from the real manison fixture (66 controls, many sub-controls, numbers as
//! strings) by repeating its controls under fresh UUIDs until the size is reached, so the shape
//! and quirks are real and only the count grows. A benchmark, not a test: the figure goes in the
//! report, nothing asserts on time.

use std::time::Instant;

use loxwarden::loxone::structure::Structure;

fn main() {
    let target_mb: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5.0);
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/loxone/loxone-net-manison-LoxAPP3.json"
    );
    let text = std::fs::read_to_string(fixture).expect("fixture");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("fixture is JSON");
    let controls = doc["controls"].as_object().expect("controls").clone();
    let mut out = doc.clone();
    let mut copy = 0u32;
    while serde_json::to_vec(&out).map(|v| v.len()).unwrap_or(0)
        < (target_mb * 1_048_576.0) as usize
    {
        copy += 1;
        let all = out["controls"].as_object_mut().expect("controls");
        for (k, v) in &controls {
            // Replace the first 8 hex digits of every UUID in this control with the copy number.
            let prefix = format!("{copy:08x}");
            let rewrite = |s: &str| -> String { s.replace(&k[..8], &prefix) };
            let body = v.to_string();
            let body = rewrite(&body);
            let nv: serde_json::Value = serde_json::from_str(&body).expect("json");
            all.insert(rewrite(k), nv);
        }
    }
    let bytes = serde_json::to_vec(&out).expect("encode");
    let runs = 20;
    let mut best = f64::MAX;
    let mut total = 0.0;
    let mut n = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let s = Structure::parse(&bytes).expect("parses");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        n = s.controls.len();
        best = best.min(ms);
        total += ms;
    }
    eprintln!(
        "Structure::parse: {:.2} MB, {} controls (incl. sub-controls): best {:.1} ms, mean {:.1} ms over {} runs",
        bytes.len() as f64 / 1_048_576.0,
        n,
        best,
        total / f64::from(runs),
        runs
    );
}
