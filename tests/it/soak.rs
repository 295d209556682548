//! The soak (issue 9 part 4): mixed tool calls from 4 concurrent MCP sessions into one real
//! `loxwarden daemon`, while a fault thread hangs, drops, slows, reboots and reconfigures the
//! simulated Miniserver and makes controls answer LL 500 — all from one seeded RNG, so a
//! failing run replays (`LOXWARDEN_SOAK_SEED`). `LOXWARDEN_SOAK_CALLS` sets the number of
//! calls (default 1000, a few seconds); docs/faults.md has a 10 000-call run.
//!
//! Checks: every call answered with valid JSON-RPC; no panic in the daemon or the simulator;
//! the daemon's RSS flat (end within a bound of its level after warm-up); and the commands the
//! simulator received equal the commands the audit log records as answered, up to the steps
//! the audit log marks "may not have reached" (a request in flight when a socket died or a
//! reply came too late: the Miniserver may have acted, the gateway cannot know).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use loxwarden::sim::{Sim, StructureChange};
use serde_json::{Value, json};

use crate::daemon_support::{Daemon, Site, wait_link_live};
use crate::raw_session::is_jsonrpc;

/// xorshift64*: small and deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A random `control_blind` call on `device`: up, down, stop or a position.
pub fn blind_call(rng: &mut Rng, device: &str) -> (&'static str, Value) {
    let args = match rng.below(4) {
        0 => json!({"device": device, "action": "up"}),
        1 => json!({"device": device, "action": "down"}),
        2 => json!({"device": device, "action": "stop"}),
        _ => json!({"device": device, "action": "position", "position": rng.below(101)}),
    };
    ("control_blind", args)
}

/// One mixed call: (tool, arguments).
fn next_call(rng: &mut Rng) -> (&'static str, Value) {
    let lights = [
        "Hall Light",
        "Garage Light",
        "Kitchen Ceiling",
        "Nursery Night Light",
    ];
    let blinds = ["Kitchen Blind", "Bedroom Blind", "Living Room Blind West"];
    match rng.below(100) {
        0..=34 => match rng.below(6) {
            0 => ("get_system_status", json!({})),
            1 => ("list_devices", json!({})),
            2 => ("list_devices", json!({"room": "Kitchen"})),
            3 => ("get_device", json!({"device": *rng.pick(&lights)})),
            4 => ("list_rooms", json!({})),
            _ => ("describe_scene", json!({"device": "All Blinds"})),
        },
        35..=64 => {
            let device = *rng.pick(&lights);
            match rng.below(3) {
                0 => ("control_light", json!({"device": device, "action": "on"})),
                1 => ("control_light", json!({"device": device, "action": "off"})),
                _ => (
                    "control_light",
                    json!({"device": device, "action": "dim", "brightness": rng.below(101)}),
                ),
            }
        }
        65..=74 => {
            let device = *rng.pick(&blinds);
            blind_call(rng, device)
        }
        75..=82 => (
            "set_temperature",
            json!({"device": *rng.pick(&["Kitchen Climate", "Bedroom Climate"]),
                   "target": 17 + rng.below(10), "unit": "C"}),
        ),
        83..=89 => match rng.below(3) {
            0 => (
                "control_audio",
                json!({"device": "Living Room Music", "action": "pause"}),
            ),
            1 => (
                "control_audio",
                json!({"device": "Living Room Music", "action": "volume", "volume": rng.below(21)}),
            ),
            _ => (
                "control_audio",
                json!({"device": "Living Room Music", "action": "play"}),
            ),
        },
        90..=94 => (
            "control_access",
            json!({"device": "Garage Door", "action": *rng.pick(&["open", "close", "stop"])}),
        ),
        _ => match rng.below(4) {
            0 => (
                "control_light",
                json!({"device": "G\u{0430}rage Light", "action": "on"}),
            ),
            1 => (
                "control_light",
                json!({"device": "Hall Light/../../sys/reboot", "action": "on"}),
            ),
            2 => (
                "set_temperature",
                json!({"device": "Kitchen Climate", "target": "35", "unit": "C"}),
            ),
            _ => (
                "control_access",
                json!({"device": "Garage Door", "action": "unlock", "confirm": true}),
            ),
        },
    }
}

/// A session on the daemon's socket that declares form elicitation and answers questions
/// from its RNG (30 % accept).
struct Session {
    stream: UnixStream,
    lines: BufReader<UnixStream>,
    next: u64,
}

impl Session {
    fn open(site: &Site) -> Session {
        let stream = UnixStream::connect(site.socket()).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let lines = BufReader::new(stream.try_clone().unwrap());
        let mut s = Session {
            stream,
            lines,
            next: 0,
        };
        let r = s.request(
            "initialize",
            json!({"protocolVersion":"2025-11-25","capabilities":{"elicitation":{"form":{}}},
                   "clientInfo":{"name":"soak","version":"1"}}),
            &mut Rng::new(1),
        );
        assert!(r.get("result").is_some(), "{r}");
        s.send(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
        s
    }

    fn send(&mut self, v: &Value) {
        self.stream
            .write_all(format!("{v}\n").as_bytes())
            .expect("write");
    }

    fn request(&mut self, method: &str, params: Value, rng: &mut Rng) -> Value {
        self.next += 1;
        let id = self.next;
        self.send(&json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}));
        loop {
            let mut line = String::new();
            let n = self.lines.read_line(&mut line).expect("an answer in time");
            assert!(n > 0, "the daemon closed the session");
            let msg: Value = serde_json::from_str(&line).expect("JSON");
            assert!(is_jsonrpc(&msg), "{msg}");
            if msg["method"] == "elicitation/create" {
                let answer = if rng.chance(30) {
                    json!({"action":"accept","content":{"confirm":true}})
                } else {
                    json!({"action":"decline"})
                };
                self.send(&json!({"jsonrpc":"2.0","id":msg["id"],"result":answer}));
            } else if msg["id"] == json!(id) {
                return msg;
            }
        }
    }
}

/// The daemon's resident set in kB.
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[derive(Default, Debug)]
struct Tally {
    calls: u64,
    done: u64,
    reads: u64,
    errors: u64,
    rpc_errors: u64,
    declined: u64,
    /// Why calls were not done: the rule of a refusal, the consent outcome, or the first
    /// command error's gist.
    why: std::collections::BTreeMap<String, u64>,
    /// Per tool: (calls, done).
    tools: std::collections::BTreeMap<&'static str, (u64, u64)>,
}

/// The gist of why a result is not done.
fn why(r: &Value) -> String {
    let sc = &r["result"]["structuredContent"];
    if let Some(rule) = sc["refused"]["rule"].as_str() {
        if rule == "SC-8" {
            // The link state (degraded, down, connecting), without times and reasons.
            let r = sc["refused"]["reason"].as_str().unwrap_or_default();
            let state = r.split(" (for").next().unwrap_or(r);
            let state = state.rsplit(' ').next().unwrap_or(state);
            return format!("refused SC-8 link {state}");
        }
        return format!("refused {rule}");
    }
    if let Some(o) = sc["consent"]["outcome"].as_str() {
        return format!("consent {o}");
    }
    let failed = sc["commands"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["code"] != 200);
    match failed {
        Some(c) if c["code"].is_u64() => format!("LL {}", c["code"]),
        Some(c) => {
            let e = c["error"].as_str().unwrap_or("?");
            e.split([':', '(']).next().unwrap_or(e).trim().to_owned()
        }
        None => "other".into(),
    }
}

/// Injects one random fault and clears it again; returns its name.
fn inject(sim: &Sim, rng: &mut Rng) -> &'static str {
    let ms = |lo: u64, hi: u64, rng: &mut Rng| Duration::from_millis(lo + rng.below(hi - lo));
    match rng.below(7) {
        0 => "none",
        1 => {
            sim.hang(true);
            std::thread::sleep(ms(200, 1200, rng));
            sim.hang(false);
            "hang"
        }
        2 => {
            sim.drop_sockets();
            "drop"
        }
        3 => {
            sim.delay_replies(ms(100, 2500, rng));
            std::thread::sleep(ms(300, 1500, rng));
            sim.delay_replies(Duration::ZERO);
            "slow"
        }
        4 => {
            let name = *rng.pick(&["Hall Light", "Garage Light", "Kitchen Ceiling"]);
            let addr = sim.control_named(name).expect("light");
            sim.answer_with(&addr, Some(500));
            std::thread::sleep(ms(200, 800, rng));
            sim.answer_with(&addr, None);
            "ll500"
        }
        5 => {
            sim.reboot(ms(300, 1000, rng));
            "reboot"
        }
        _ => {
            sim.change_structure(&StructureChange::Touch);
            "structure"
        }
    }
}

#[test]
fn four_sessions_of_mixed_calls_under_random_failures_stay_honest_and_flat() {
    crate::panics::install();
    let calls = env_u64("LOXWARDEN_SOAK_CALLS", 1000);
    let seed = env_u64("LOXWARDEN_SOAK_SEED", 0x50a6_2026);
    eprintln!("soak: {calls} calls, 4 sessions, seed {seed} (LOXWARDEN_SOAK_SEED={seed})");
    let site = Site::new(
        "soak",
        "[exposure]\nopt_in = [\"Garage Door\"]\n[consent]\ntimeout_s = 5\n",
    );
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    let pid = daemon.pid();
    let rss_start = rss_kb(pid);
    let mark = site.sim.log_mark();
    let started = Instant::now();
    let finished = AtomicBool::new(false);
    let tally = Mutex::new(Tally::default());
    let faults = Mutex::new(std::collections::BTreeMap::<&str, u64>::new());
    let rss_warm = Mutex::new(0u64);
    let rss_peak = Mutex::new(0u64);
    std::thread::scope(|s| {
        // The fault thread.
        let (sim, finished, faults) = (&site.sim, &finished, &faults);
        s.spawn(move || {
            let mut rng = Rng::new(seed ^ 0xfa17);
            while !finished.load(Ordering::SeqCst) {
                // Long enough between faults for the link to come back and calls to go out.
                std::thread::sleep(Duration::from_millis(1000 + rng.below(2000)));
                if finished.load(Ordering::SeqCst) {
                    break;
                }
                let f = inject(sim, &mut rng);
                *faults.lock().unwrap().entry(f).or_default() += 1;
            }
        });
        let sessions: Vec<_> = (0..4u64)
            .map(|i| {
                let (site, tally, rss_warm, rss_peak) = (&site, &tally, &rss_warm, &rss_peak);
                s.spawn(move || {
                    let mut rng = Rng::new(seed.wrapping_add(i + 1).wrapping_mul(0x9e37_79b9));
                    let mut session = Session::open(site);
                    let mine = calls / 4 + u64::from(i < calls % 4);
                    for n in 0..mine {
                        let (tool, args) = next_call(&mut rng);
                        let r = session.request(
                            "tools/call",
                            json!({"name": tool, "arguments": args}),
                            &mut rng,
                        );
                        let mut t = tally.lock().unwrap();
                        t.calls += 1;
                        let per = t.tools.entry(tool).or_default();
                        per.0 += 1;
                        per.1 += u64::from(r["result"]["structuredContent"]["done"] == true);
                        if r.get("error").is_some() {
                            t.rpc_errors += 1;
                        } else if r["result"]["structuredContent"]["done"] == true {
                            assert_eq!(r["result"]["isError"], false, "{r}");
                            t.done += 1;
                        } else if r["result"]["structuredContent"].get("done").is_none()
                            && r["result"]["isError"] == false
                        {
                            t.reads += 1;
                        } else {
                            if r["result"]["isError"] == true {
                                t.errors += 1;
                            } else {
                                t.declined += 1;
                            }
                            *t.why.entry(why(&r)).or_default() += 1;
                        }
                        drop(t);
                        // A little think time, as an AI client has.
                        std::thread::sleep(Duration::from_millis(rng.below(8)));
                        if i == 0 && n == mine / 10 {
                            *rss_warm.lock().unwrap() = rss_kb(pid);
                        }
                        if n % 50 == 0 {
                            let now = rss_kb(pid);
                            let mut p = rss_peak.lock().unwrap();
                            *p = (*p).max(now);
                        }
                    }
                })
            })
            .collect();
        for h in sessions {
            h.join().expect("a session thread");
        }
        finished.store(true, Ordering::SeqCst);
    });
    let took = started.elapsed();
    // Faults cleared: requests held by a hang or a delay land now; then count.
    wait_link_live(&site, &daemon);
    std::thread::sleep(Duration::from_secs(3));
    let rss_end = rss_kb(pid);
    let received = site.sim.commands_since(mark);
    let received: Vec<_> = received.iter().filter(|e| e.device).collect();
    let audit = std::fs::read_to_string(&site.cfg.paths.audit_log).unwrap();
    let (mut answered, mut unknown, mut decided, mut outcomes) = (0u64, 0u64, 0u64, 0u64);
    for line in audit.lines() {
        let r: Value = serde_json::from_str(line).expect("audit JSON");
        match r["record"].as_str() {
            Some("decided") => decided += 1,
            Some("outcome") => {
                outcomes += 1;
                for step in r["results"].as_array().into_iter().flatten() {
                    match step["code"].as_u64() {
                        // 503: answered while "rebooting" (the simulator logs no command then).
                        Some(503) => {}
                        Some(_) => answered += 1,
                        None if step["error"]
                            .as_str()
                            .is_some_and(|e| e.contains("may not have reached")) =>
                        {
                            unknown += 1
                        }
                        None => {}
                    }
                }
            }
            _ => {}
        }
    }
    let t = tally.into_inner().unwrap();
    let faults = faults.into_inner().unwrap();
    let rss_warm = rss_warm.into_inner().unwrap();
    let rss_peak = rss_peak.into_inner().unwrap();
    let got = received.len() as u64;
    eprintln!(
        "soak: seed {seed}; {} calls in {:.1} s ({:.0}/s): {} reads, {} done, {} refused or failed, {} declined by the person, {} JSON-RPC errors",
        t.calls,
        took.as_secs_f64(),
        t.calls as f64 / took.as_secs_f64(),
        t.reads,
        t.done,
        t.errors,
        t.declined,
        t.rpc_errors,
    );
    eprintln!("soak: not done because {:?}", t.why);
    eprintln!("soak: per tool (calls, done) {:?}", t.tools);
    eprintln!("soak: faults injected {faults:?}");
    eprintln!(
        "soak: the simulator received {got} device commands; the audit log has {decided} decisions, {outcomes} outcomes, {answered} commands answered, {unknown} 'may not have reached'"
    );
    eprintln!(
        "soak: daemon VmRSS {rss_start} kB at start, {rss_warm} kB after warm-up, {rss_peak} kB peak, {rss_end} kB at end"
    );
    assert_eq!(t.calls, calls, "every call answered");
    assert!(
        answered <= got && got <= answered + unknown,
        "received {got}, audit answered {answered} + unknown {unknown}"
    );
    let log = daemon.log();
    assert!(!log.contains("panicked"), "the daemon panicked:\n{log}");
    // No credential in what 10 000 calls and their faults left behind (the tokens include
    // those issued by every reconnect).
    // (The simulator's default password is the word "password", which the log rightly uses;
    // `secrets.rs` checks distinctive passwords.)
    let secrets: Vec<String> = site.sim.tokens().into_iter().map(|t| t.token).collect();
    assert!(!secrets.is_empty());
    for secret in &secrets {
        if let Some(at) = log.find(secret.as_str()) {
            let line_start = log[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = log[at..].find('\n').map_or(log.len(), |i| at + i);
            panic!(
                "a secret ({} chars) in the daemon's log: {}",
                secret.len(),
                log[line_start..line_end].replace(secret.as_str(), "<SECRET>")
            );
        }
        assert!(
            !audit.contains(secret.as_str()),
            "a secret in the audit log"
        );
    }
    let (panics, seen) = crate::panics::seen();
    assert_eq!(panics, 0, "{seen:?}");
    // Flat: after warm-up the daemon grows by less than 16 MB (allocator slack, audit buffers),
    // however many calls ran.
    assert!(
        rss_end <= rss_warm + 16 * 1024,
        "RSS grew from {rss_warm} kB to {rss_end} kB"
    );
}
