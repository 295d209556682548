//! Measures the emergency stop (R-11, issue 7): from `loxwarden estop` being called to the
//! last stop the Miniserver received, through the daemon and through the direct path the CLI
//! takes when no daemon answers.
//!
//! Run: `cargo run --release --example estop_latency [RUNS]` (figures on stderr)
//!
//! Everything runs in this process on loopback: the simulator (demo house: 6 motors, 1 audio
//! zone, plain HTTP with Loxone command encryption as on a Gen 1), the gateway and the daemon's
//! sockets in a temp dir, and the CLI's `estop`. The receiving side's own log gives the time the
//! last stop arrived. A hung daemon costs the 1 s wait on top of the direct path. A benchmark,
//! not a test: nothing asserts on time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use loxwarden::clock::SystemClock;
use loxwarden::config::Config;
use loxwarden::control::client;
use loxwarden::daemon::{self, core::GatewayCore};
use loxwarden::gateway::Gateway;
use loxwarden::loxone::link::Secrets;
use loxwarden::loxone::secret::Secret;
use loxwarden::loxone::setup;
use loxwarden::mcp::ServerConfig;
use loxwarden::sim::{Sim, SimOptions};

fn config(sim: &Sim, dir: &std::path::Path, socket_dir: &std::path::Path) -> Config {
    Config::parse(&format!(
        "[miniserver]\nurl = \"{}\"\nuser = \"{}\"\n[paths]\nstate_dir = \"{}\"\naudit_log = \"{}\"\nsocket = \"{}\"\n",
        sim.url(),
        sim.user(),
        dir.join("state").display(),
        dir.join("audit.jsonl").display(),
        socket_dir.join("mcp.sock").display()
    ))
    .expect("config")
}

/// Milliseconds from `called` to the last stop or pause the simulator logged after `mark`.
fn to_last_stop(sim: &Sim, sim_started: Instant, called: Instant, mark: u64) -> Option<f64> {
    let last = sim
        .commands_since(mark)
        .into_iter()
        .filter(|e| e.device && matches!(e.op.as_deref(), Some("stop" | "pause" | "Pause")))
        .map(|e| e.at_ms)
        .max()?;
    let called_at = called.duration_since(sim_started).as_secs_f64() * 1000.0;
    Some(last as f64 - called_at)
}

fn summary(name: &str, mut v: Vec<f64>) {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        eprintln!("{name}: no samples");
        return;
    }
    eprintln!(
        "{name}: median {:.1} ms, min {:.1} ms, max {:.1} ms ({} runs)",
        v[v.len() / 2],
        v[0],
        v[v.len() - 1],
        v.len()
    );
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let sim = Sim::start(SimOptions::default()).expect("simulator");
    let sim_started = Instant::now();
    let dir = std::env::temp_dir().join(format!("lw-estop-bench-{}", std::process::id()));
    let run_dir = dir.join("run");
    std::fs::create_dir_all(&run_dir).expect("temp dir");
    let cfg = config(&sim, &dir, &run_dir);
    let pw = sim.password().to_owned();
    setup::login_with(&cfg, None, move || Ok(Secret::new(pw)), &mut Vec::new()).expect("login");

    // Through the daemon.
    let gw = Gateway::start(
        cfg.clone(),
        Arc::new(SystemClock::new()),
        Secrets::default(),
    )
    .expect("gateway");
    assert!(gw.link().wait_live(Duration::from_secs(15)).is_live());
    let core = Arc::new(GatewayCore::new(gw));
    let dcfg = cfg.clone();
    std::thread::spawn(move || daemon::run(&dcfg, core, ServerConfig::default()));
    while !run_dir.join("control.sock").exists() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut via_daemon = Vec::new();
    for _ in 0..runs {
        let mark = sim.log_mark();
        let called = Instant::now();
        let code = client::estop(Ok(&cfg), Some("bench"), &mut Vec::new()).expect("estop");
        assert_eq!(code, std::process::ExitCode::SUCCESS);
        via_daemon.extend(to_last_stop(&sim, sim_started, called, mark));
        client::resume(&cfg, &mut Vec::new()).expect("resume");
    }

    // The direct path: a config whose sockets are somewhere no daemon listens.
    let nowhere = dir.join("no-daemon");
    std::fs::create_dir_all(&nowhere).expect("dir");
    let absent = config(&sim, &dir, &nowhere);
    let mut direct = Vec::new();
    for _ in 0..runs {
        let mark = sim.log_mark();
        let called = Instant::now();
        let code = client::estop(Ok(&absent), Some("bench"), &mut Vec::new()).expect("estop");
        assert_eq!(code, std::process::ExitCode::SUCCESS);
        direct.extend(to_last_stop(&sim, sim_started, called, mark));
        let _ = std::fs::remove_file(dir.join("state").join(loxwarden::estop::LATCH_FILE));
    }
    eprintln!("command → last stop received by the Miniserver (demo house, 7 devices):");
    summary("  through the daemon      ", via_daemon);
    summary("  direct (daemon absent)  ", direct);
    eprintln!("  (a hung daemon adds the 1000 ms wait to the direct path)");
    let _ = std::fs::remove_dir_all(&dir);
}
