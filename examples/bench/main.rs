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
//!
//! Layout: the plan and the run here; one file per part (`starts`, `calls`, `parse`, `estop`,
//! `sizes`), and the shared `site` (simulator, daemon, MCP client), `stats` and `machine`.

mod calls;
mod estop;
mod machine;
mod parse;
mod site;
mod sizes;
mod starts;
mod stats;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use loxwarden::sim::HouseSource;

use site::{Daemon, Site, TempRoot};

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
        rows.push(starts::cold_start_standalone(&demo, &bin, &plan));
        {
            let daemon = Daemon::start(&demo, &bin);
            rows.push(starts::cold_start_bridge(&demo, &bin, &daemon, &plan));
        }
        rows.push(starts::spawn_floor(&demo, &bin, &plan));
        rows.push(calls::fdatasync(&demo.dir, &plan));
        rows.extend(starts::rss_demo(&demo, &bin, &plan));
    }

    if plan.runs("big") {
        eprintln!("bench: a generated house of {} controls", plan.big);
        let big = Site::new(&root.0, "big", HouseSource::Generated(plan.big));
        big.cache_structure();
        {
            let daemon = Daemon::start(&big, &bin);
            rows.extend(calls::call_overhead(&big, &daemon, &plan));
            rows.extend(calls::list_devices(&big, &daemon, &plan));
        }
        rows.push(starts::rss_big(&big, &bin, &plan));
    }

    if plan.runs("parse") {
        eprintln!("bench: parsing and event ingest");
        rows.extend(parse::parse(&plan));
        rows.push(parse::ingest(&plan));
    }

    if plan.runs("estop") {
        eprintln!("bench: emergency stop");
        rows.extend(estop::rows(&root.0, &bin, &plan));
    }

    if plan.runs("sizes") {
        eprintln!("bench: binary sizes");
        rows.extend(sizes::sizes(&bin, &plan));
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
