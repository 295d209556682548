//! The performance budget of issue 8, measured: one command prints the Markdown table the
//! README publishes.
//!
//! Run: `cargo run --release --example bench` (`-- --quick`: a few samples of each figure and
//! small houses, a smoke run; `-- --no-cross`: skip building the aarch64 binary; `-- --only
//! estop`: only the figures of one part, here the emergency stop's).
//!
//! Why a program and not tests: timings flake on shared machines, so speed and memory goals live
//! here (rule 6) as medians with their spread, and nothing asserts on time. Everything runs on
//! loopback: simulated Miniservers (`loxwarden::sim`, plain HTTP with Loxone command
//! encryption as on a Gen 1, the demo house or a generated one), the release `loxwarden`
//! binary as `serve --standalone`, as `daemon` and as the `serve` bridge, each with its own
//! state directory, audit log and sockets in a temp dir. The parsing and ingest figures call
//! the library directly. Progress goes to stderr, the table to stdout.

mod estop;
mod machine;
mod site;
mod stats;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use loxwarden::loxone::command::{Command as LoxCommand, Op, Percent};
use loxwarden::loxone::events::{Frame, Framer, Incoming};
use loxwarden::loxone::link;
use loxwarden::loxone::state::{StateCache, StateValue};
use loxwarden::loxone::structure::{StateRef, Structure};
use loxwarden::loxone::uuid::ControlAddr;
use loxwarden::sim::HouseSource;
use serde_json::json;

use site::{Daemon, Mcp, Site, TempRoot};
use stats::{Row, Samples, num};

/// How many samples of each figure.
struct Plan {
    quick: bool,
    cross: bool,
    /// Only this part (`demo`, `big`, `parse`, `estop`, `sizes`), or all of them.
    only: Option<String>,
    /// Cold starts per mode.
    starts: usize,
    /// Paired tools/call vs direct samples.
    pairs: usize,
    /// `list_devices` calls, structure parses, ingest rounds, emergency stops.
    repeats: usize,
    /// Daemons started per RSS figure.
    daemons: usize,
    /// Tool calls for the growth figure.
    calls: usize,
    /// The large house.
    big: usize,
    /// Blinds for the emergency stop.
    blinds: usize,
    /// Bytes of the structure file to parse.
    parse_bytes: usize,
}

impl Plan {
    fn from_args() -> Plan {
        let usage = |why: &str| -> ! {
            eprintln!(
                "{why}; usage: bench [--quick] [--no-cross] [--only {}]",
                PARTS.join("|")
            );
            std::process::exit(2);
        };
        let (mut quick, mut cross, mut only) = (false, true, None);
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--quick" => quick = true,
                "--no-cross" => cross = false,
                "--only" => match args.next() {
                    Some(p) if PARTS.contains(&p.as_str()) => only = Some(p),
                    Some(p) => usage(&format!("no part {p}")),
                    None => usage("--only needs a part"),
                },
                other => usage(&format!("unknown argument {other}")),
            }
        }
        if quick {
            Plan {
                quick,
                cross,
                only,
                starts: 3,
                pairs: 20,
                repeats: 3,
                daemons: 1,
                calls: 200,
                big: 500,
                blinds: 20,
                parse_bytes: 500_000,
            }
        } else {
            Plan {
                quick,
                cross,
                only,
                starts: 20,
                pairs: 300,
                repeats: 10,
                daemons: 3,
                calls: 10_000,
                big: 5_000,
                blinds: 200,
                parse_bytes: 5 * 1024 * 1024,
            }
        }
    }

    /// Whether part `p` runs.
    fn runs(&self, p: &str) -> bool {
        self.only.as_deref().is_none_or(|o| o == p)
    }
}

/// The parts `--only` can pick.
const PARTS: [&str; 5] = ["demo", "big", "parse", "estop", "sizes"];

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let plan = Plan::from_args();
    let load_before = machine::load();
    let bin = build_binary();
    let root = TempRoot::new();
    let mut rows = Vec::new();
    let started = Instant::now();

    if plan.runs("demo") {
        eprintln!("bench: demo house");
        let demo = Site::new(&root.0, "demo", HouseSource::Demo);
        demo.cache_structure();
        rows.push(cold_start_standalone(&demo, &bin, &plan));
        {
            let daemon = Daemon::start(&demo, &bin);
            rows.push(cold_start_bridge(&demo, &bin, &daemon, &plan));
        }
        rows.push(spawn_floor(&demo, &bin, &plan));
        rows.push(fdatasync(&demo.dir, &plan));
        rows.extend(rss_demo(&demo, &bin, &plan));
    }

    if plan.runs("big") {
        eprintln!("bench: a generated house of {} controls", plan.big);
        let big = Site::new(&root.0, "big", HouseSource::Generated(plan.big));
        big.cache_structure();
        {
            let daemon = Daemon::start(&big, &bin);
            rows.extend(call_overhead(&big, &daemon, &plan));
            rows.extend(list_devices(&big, &daemon, &plan));
        }
        rows.push(rss_big(&big, &bin, &plan));
    }

    if plan.runs("parse") {
        eprintln!("bench: parsing and event ingest");
        rows.extend(parse(&plan));
        rows.push(ingest(&plan));
    }

    if plan.runs("estop") {
        eprintln!("bench: emergency stop");
        rows.extend(estop::rows(&root.0, &bin, &plan));
    }

    if plan.runs("sizes") {
        eprintln!("bench: binary sizes");
        rows.extend(sizes(&bin, &plan));
    }

    let table = stats::table(&rows);
    let over: Vec<&str> = rows
        .iter()
        .filter(|r| r.verdict == stats::Verdict::Over)
        .map(|r| r.figure.as_str())
        .collect();
    #[allow(clippy::print_stdout)] // The benchmark's answer: the Markdown table.
    {
        println!(
            "Measured {} on {}; load average {} before, {} after ({} s){}.\n",
            today(),
            machine::describe(),
            load_before,
            machine::load(),
            started.elapsed().as_secs(),
            match (plan.quick, &plan.only) {
                (true, _) =>
                    "; QUICK MODE: few samples, small houses, not the budget's figures".to_owned(),
                (false, Some(p)) => format!("; only the part '{p}'"),
                (false, None) => String::new(),
            }
        );
        print!("{table}");
        if !over.is_empty() {
            println!("\nOver budget: {}.", over.join("; "));
        }
    }
}

/// UTC date from the system clock (no time crate).
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Builds `loxwarden` with this example's profile and returns its path.
fn build_binary() -> PathBuf {
    let release = !cfg!(debug_assertions);
    if !release {
        eprintln!("bench: WARNING: a debug build; run with --release for real figures");
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut c = Command::new(cargo);
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--bin", "loxwarden"]);
    if release {
        c.arg("--release");
    }
    let ok = c.status().is_ok_and(|s| s.success());
    assert!(ok, "cargo build --bin loxwarden failed");
    let exe = std::env::current_exe().expect("own path");
    // target/{profile}/examples/bench → target/{profile}/loxwarden
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("loxwarden"))
        .expect("target dir");
    assert!(bin.exists(), "no {}", bin.display());
    bin
}

/// Spawns `cmd` with piped stdio, sends `initialize`, and returns the time from spawn to the
/// answer. Then closes stdin and waits for the process to end.
fn time_to_initialize(mut cmd: Command) -> Duration {
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

fn cold_start_standalone(site: &Site, bin: &Path, plan: &Plan) -> Row {
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
fn spawn_floor(site: &Site, bin: &Path, plan: &Plan) -> Row {
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

fn cold_start_bridge(site: &Site, bin: &Path, _daemon: &Daemon, plan: &Plan) -> Row {
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
fn rss_demo(site: &Site, bin: &Path, plan: &Plan) -> Vec<Row> {
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

fn rss_big(site: &Site, bin: &Path, plan: &Plan) -> Row {
    eprintln!("bench:   daemon RSS, {} controls", plan.big);
    idle_rss(site, bin, plan, &format!("{} controls", plan.big), 20.0)
}

/// Peak RSS of fresh daemons one second after their link is live, with the private anonymous
/// part (heap, stacks) beside it: the rest are file pages of the binary and libc, shared with
/// every other process that maps them.
fn idle_rss(site: &Site, bin: &Path, plan: &Plan, house: &str, budget: f64) -> Row {
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

/// `control_light dim` through the daemon against the same command sent directly with the
/// Loxone client (same token, same encryption), paired, on different dimmers so that no rate
/// limit applies.
fn call_overhead(site: &Site, daemon: &Daemon, plan: &Plan) -> Vec<Row> {
    eprintln!("bench:   tools/call overhead ({} pairs)", plan.pairs);
    let _ = daemon;
    let dimmers = site.controls_of(&["Dimmer"]);
    let pairs = plan.pairs.min(dimmers.len() / 2);
    let (client, _, stored) = link::direct(&site.cfg).expect("direct client");
    let mut mcp = Mcp::connect(&site.socket());
    let (mut direct, mut tool, mut diff) = (Vec::new(), Vec::new(), Vec::new());
    let mut less_check = Vec::new();
    let mut failures = 0;
    for i in 0..pairs {
        let level = 20 + (i % 60) as u8;
        let addr = ControlAddr::parse(&dimmers[2 * i]).expect("address");
        let cmd = LoxCommand::new(addr, Op::DimTo(Percent::new(level).expect("0–100")));
        let t = Instant::now();
        let version = client.structure_version(&stored.token);
        let v = ms(t.elapsed());
        let t = Instant::now();
        let reply = client.send(&stored.token, &cmd, false, None);
        let d = ms(t.elapsed());
        let t = Instant::now();
        let (r, err) = mcp.call(
            "control_light",
            json!({"device": dimmers[2 * i + 1], "action": "dim", "brightness": level}),
        );
        let c = ms(t.elapsed());
        if err || version.is_err() || !reply.as_ref().is_ok_and(|r| r.code == 200) {
            failures += 1;
            if failures <= 3 {
                eprintln!(
                    "bench:     a failed pair: {r} / {:?}",
                    reply.map(|r| r.code)
                );
            }
            continue;
        }
        direct.push(d);
        tool.push(c);
        diff.push(c - d);
        less_check.push(c - d - v);
    }
    let less_check = Samples::new(less_check);
    let (direct, tool, diff) = (Samples::new(direct), Samples::new(tool), Samples::new(diff));
    eprintln!(
        "bench:     direct median {:.3} ms, tools/call median {:.3} ms, {failures} failed",
        direct.median(),
        tool.median()
    );
    let mut p50 = Row::lower(
        "`tools/call` overhead over a direct request, p50 (`control_light dim`, daemon)",
        &diff,
        "ms",
        2,
        Some(0.3),
    );
    p50.median = format!("{} ms", num(diff.median(), 2));
    let mut p99 = Row::lower("… p99", &diff, "ms", 2, Some(2.0));
    p99.median = format!("{} ms", num(diff.pct(0.99), 2));
    p99.verdict = if diff.len() == 0 {
        stats::Verdict::None
    } else if diff.pct(0.99) <= 2.0 {
        stats::Verdict::Within
    } else {
        stats::Verdict::Over
    };
    let d = Row::lower(
        "… the direct request alone (Loxone client, encrypted HTTP command)",
        &direct,
        "ms",
        2,
        None,
    );
    let t = Row::lower("… the whole `tools/call`", &tool, "ms", 2, None);
    let mut l = Row::lower(
        "… overhead less the one structure-version request the link makes before every command (SC-8), p50 (p99 in spread)",
        &less_check,
        "ms",
        2,
        None,
    );
    l.spread = format!("p99 {}", num(less_check.pct(0.99), 2));
    vec![p50, p99, d, t, l]
}

/// What the audit log pays per record on this disk: one append of an audit-sized line and
/// `fdatasync`, as `AuditLog::write` does (an actuation writes two records).
fn fdatasync(dir: &Path, plan: &Plan) -> Row {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("fdatasync.probe");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .expect("probe file");
    let line = [b'x'; 400];
    let v: Vec<f64> = (0..plan.pairs.max(100))
        .map(|_| {
            let t = Instant::now();
            f.write_all(&line).expect("write");
            f.sync_data().expect("fdatasync");
            ms(t.elapsed())
        })
        .collect();
    let _ = std::fs::remove_file(&path);
    let s = Samples::new(v);
    let mut r = Row::lower(
        "… for comparison: one audit record's append + `fdatasync` on this disk, p50 (p99 in spread)",
        &s,
        "ms",
        2,
        None,
    );
    r.spread = format!("p99 {}, max {}", num(s.pct(0.99), 2), num(s.max(), 2));
    r
}

/// `list_devices` of the whole house (its first page of 100, the answer a client gets when it
/// asks for everything), and of one room (what a client asks when it follows the instructions:
/// rooms first).
fn list_devices(site: &Site, daemon: &Daemon, plan: &Plan) -> Vec<Row> {
    eprintln!("bench:   list_devices");
    let _ = daemon;
    let mut mcp = Mcp::connect(&site.socket());
    let room = site
        .sim
        .structure()
        .rooms
        .values()
        .next()
        .map(|r| r.name.clone())
        .expect("a room");
    let mut rows = Vec::new();
    for (args, budget) in [(json!({}), Some(10.0)), (json!({ "room": room }), None)] {
        let mut v = Vec::new();
        let (mut bytes, mut count, mut total) = (0, 0, 0);
        for _ in 0..plan.repeats {
            let t = Instant::now();
            let (r, err) = mcp.call("list_devices", args.clone());
            let took = ms(t.elapsed());
            assert!(!err, "list_devices failed: {r}");
            bytes = r.to_string().len();
            count = r["result"]["structuredContent"]["count"]
                .as_u64()
                .unwrap_or(0);
            total = r["result"]["structuredContent"]["total"]
                .as_u64()
                .unwrap_or(0);
            v.push(took);
        }
        let what = if budget.is_some() {
            format!("`list_devices`, {} controls, first page", plan.big)
        } else {
            "… one room of it".to_owned()
        };
        rows.push(Row::lower(
            &format!(
                "{what} ({count} of {total} devices listed, answer {:.2} MB)",
                bytes as f64 / 1e6
            ),
            &Samples::new(v),
            "ms",
            1,
            budget,
        ));
    }
    rows
}

/// A generated structure file of at least `bytes`.
fn structure_of_size(bytes: usize) -> String {
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
fn manison_of_size(bytes: usize) -> Vec<u8> {
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

fn parse(plan: &Plan) -> Vec<Row> {
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
fn ingest(plan: &Plan) -> Row {
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
fn wire_uuid(text: &str) -> [u8; 16] {
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

/// Stripped release binaries (the release profile strips).
fn sizes(bin: &Path, plan: &Plan) -> Vec<Row> {
    let mut rows = Vec::new();
    let size = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.len() as f64 / 1_048_576.0)
            .ok()
    };
    let one = |figure: &str, mb: f64, budget: Option<f64>| {
        let mut r = Row::lower(figure, &Samples::new(vec![mb]), "MiB", 2, budget);
        r.spread = "—".into();
        r
    };
    match size(bin) {
        Some(mb) if !cfg!(debug_assertions) => {
            rows.push(one("stripped binary, x86_64", mb, None));
        }
        _ => rows.push(Row::missing(
            "stripped binary, x86_64",
            "—",
            "not a release build",
        )),
    }
    let target = "aarch64-unknown-linux-gnu";
    let figure = "stripped binary, aarch64";
    let budget = "≤ 3.00 MiB";
    if !plan.cross {
        rows.push(Row::missing(figure, budget, "not built: --no-cross"));
        return rows;
    }
    if cfg!(debug_assertions) {
        rows.push(Row::missing(figure, budget, "not built: debug run"));
        return rows;
    }
    let has_linker = Command::new("aarch64-linux-gnu-gcc")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let has_std = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l == target)
        });
    if !has_linker || !has_std {
        let why = if has_linker {
            "not built: the Rust std for aarch64 is missing (cross/setup installs it)"
        } else {
            "not built: no aarch64-linux-gnu-gcc (cross/setup installs it)"
        };
        rows.push(Row::missing(figure, budget, why));
        return rows;
    }
    eprintln!("bench:   building {target} (cross/config.toml)");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let ok = Command::new(cargo)
        .current_dir(manifest)
        .args([
            "--config",
            "cross/config.toml",
            "build",
            "--release",
            "--locked",
        ])
        .args(["--target", target, "--bin", "loxwarden"])
        .status()
        .is_ok_and(|s| s.success());
    // target/release/loxwarden → target/{triple}/release/loxwarden
    let built = bin
        .parent()
        .and_then(Path::parent)
        .map(|t| t.join(target).join("release").join("loxwarden"));
    match built.as_deref().and_then(size) {
        Some(mb) if ok => rows.push(one(figure, mb, Some(3.0))),
        _ => rows.push(Row::missing(
            figure,
            budget,
            "not built: the cross build failed",
        )),
    }
    rows
}
