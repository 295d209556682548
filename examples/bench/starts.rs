//! Cold starts and memory: the time from spawning `loxwarden` to its `initialize` answer, the
//! floor under it (spawning the binary at all), and the daemon's resident memory, idle and over
//! many tool calls.
//!
//! Why apart: these figures run the release binary as a child process and read `/proc`; the
//! others call the daemon or the library.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::machine;
use crate::site::{self, Daemon, Mcp, Site};
use crate::stats::{Row, Samples, num};
use crate::{Plan, ms};

/// Spawns `cmd` with piped stdio, sends `initialize`, and returns the time from spawn to the
/// answer. Then closes stdin and waits for the process to end.
pub fn time_to_initialize(mut cmd: Command) -> Duration {
    let t = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let req =
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":site::initialize_params()});
    stdin
        .write_all(format!("{req}\n").as_bytes())
        .expect("write initialize");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("read the answer");
    let took = t.elapsed();
    assert!(
        line.contains("\"serverInfo\""),
        "not an initialize answer: {line:?}"
    );
    drop(stdin);
    let _ = child.wait();
    took
}

pub fn cold_start_standalone(site: &Site, bin: &Path, plan: &Plan) -> Row {
    eprintln!("bench:   cold start, serve --standalone");
    let v = (0..plan.starts)
        .map(|_| {
            ms(time_to_initialize(
                site.command(bin, &["serve", "--standalone"]),
            ))
        })
        .collect();
    Row::lower(
        "cold start to `initialize` answered, `serve --standalone` (demo house, cached structure)",
        &Samples::new(v),
        "ms",
        1,
        Some(10.0),
    )
}

/// The floor under both cold starts: spawning the same binary for `--version` on this machine.
pub fn spawn_floor(site: &Site, bin: &Path, plan: &Plan) -> Row {
    let v = (0..plan.starts)
        .map(|_| {
            let t = Instant::now();
            let ok = site
                .command(bin, &["--version"])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "loxwarden --version failed");
            ms(t.elapsed())
        })
        .collect();
    Row::lower(
        "… for comparison: spawn `loxwarden --version` and wait for its exit",
        &Samples::new(v),
        "ms",
        1,
        None,
    )
}

pub fn cold_start_bridge(site: &Site, bin: &Path, _daemon: &Daemon, plan: &Plan) -> Row {
    eprintln!("bench:   cold start, serve (bridge to the daemon)");
    let v = (0..plan.starts)
        .map(|_| ms(time_to_initialize(site.command(bin, &["serve"]))))
        .collect();
    Row::lower(
        "cold start to `initialize` answered, `serve` through the daemon",
        &Samples::new(v),
        "ms",
        1,
        Some(3.0),
    )
}

/// Peak RSS idle with the demo house, then the growth over many tool calls.
pub fn rss_demo(site: &Site, bin: &Path, plan: &Plan) -> Vec<Row> {
    eprintln!("bench:   daemon RSS, demo house");
    let mut rows = vec![idle_rss(site, bin, plan, "demo house", 5.0)];

    eprintln!("bench:   daemon RSS over {} tool calls", plan.calls);
    let d = Daemon::start(site, bin);
    let mut mcp = Mcp::connect(&site.socket());
    let names: Vec<String> = site
        .sim
        .structure()
        .controls
        .iter()
        .filter(|c| c.parent.is_none())
        .map(|c| c.addr.to_string())
        .collect();
    // A first round so that lazily built things exist before the baseline.
    let round = |mcp: &mut Mcp, i: usize| match i % 4 {
        0 => mcp.call("get_system_status", json!({})),
        1 => mcp.call("list_rooms", json!({})),
        2 => mcp.call("list_devices", json!({})),
        _ => mcp.call("get_device", json!({"device": names[i % names.len()]})),
    };
    for i in 0..100 {
        round(&mut mcp, i);
    }
    let before = machine::rss_kib(d.pid());
    let t = Instant::now();
    for i in 0..plan.calls {
        round(&mut mcp, i);
    }
    let took = t.elapsed();
    let after = machine::rss_kib(d.pid());
    match (before, after) {
        (Some(b), Some(a)) => {
            let (rss0, hwm0, rss1, hwm1) = (b.now, b.peak, a.now, a.peak);
            eprintln!(
                "bench:     RSS {rss0} → {rss1} KiB, peak {hwm0} → {hwm1} KiB, {} calls in {:.1} s",
                plan.calls,
                took.as_secs_f64()
            );
            let growth = (rss1 as f64 - rss0 as f64) / 1024.0;
            let mut r = Row::lower(
                &format!(
                    "daemon RSS growth over {} tool calls (demo house; peak {:.2} MiB after)",
                    plan.calls,
                    hwm1 as f64 / 1024.0
                ),
                &Samples::new(vec![growth]),
                "MiB",
                2,
                Some(1.0),
            );
            r.budget = "no growth over 1 MiB".into();
            rows.push(r);
        }
        _ => rows.push(Row::missing(
            "daemon RSS growth over tool calls",
            "no growth over 1 MiB",
            "no /proc status",
        )),
    }
    rows
}

pub fn rss_big(site: &Site, bin: &Path, plan: &Plan) -> Row {
    eprintln!("bench:   daemon RSS, {} controls", plan.big);
    idle_rss(site, bin, plan, &format!("{} controls", plan.big), 20.0)
}

/// Peak RSS of fresh daemons one second after their link is live, with the private anonymous
/// part (heap, stacks) beside it: the rest are file pages of the binary and libc, shared with
/// every other process that maps them.
pub fn idle_rss(site: &Site, bin: &Path, plan: &Plan, house: &str, budget: f64) -> Row {
    let (mut peak, mut anon) = (Vec::new(), Vec::new());
    for _ in 0..plan.daemons {
        let d = Daemon::start(site, bin);
        std::thread::sleep(Duration::from_secs(1));
        if let Some(r) = machine::rss_kib(d.pid()) {
            peak.push(r.peak as f64 / 1024.0);
            anon.push(r.anon as f64 / 1024.0);
        }
    }
    let anon = Samples::new(anon);
    Row::lower(
        &format!(
            "daemon peak RSS (VmHWM), idle, {house} (private anonymous {} MiB; the rest is shared file pages)",
            num(anon.median(), 2)
        ),
        &Samples::new(peak),
        "MiB",
        2,
        Some(budget),
    )
}
