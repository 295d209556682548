//! A rig for the tool tests: the simulator's demo house, the demo site config (optionally
//! edited), a login, a [`Gateway`] on a chosen clock, and MCP sessions in memory through the
//! real engine (`loxwarden::demo::client::Client`), so every call takes the path an AI
//! client's call takes. Evidence comes from the simulator's own command log and states.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use loxwarden::clock::local::Zone;
use loxwarden::clock::{Clock, ManualClock, Mono};
use loxwarden::config::Config;
use loxwarden::demo::client::{Answer, Client};
use loxwarden::dispatch::gateway::{Gateway, Parts};
use loxwarden::loxone::link::{Link, Secrets};
use loxwarden::loxone::secret::Secret;
use loxwarden::loxone::state::StateValue;
use loxwarden::loxone::uuid::ControlAddr;
use loxwarden::mcp::{Peer, Server, ServerConfig};
use loxwarden::safety::latch::Latch;
use loxwarden::sim::{HouseSource, LogEntry, Sim, SimOptions};
use serde_json::{Value, json};

use crate::link_support::{self, TempDir};

/// Real monotonic time, and a wall clock that reads today 12:00 UTC when the rig starts (the
/// night posture must not depend on when the tests run).
pub struct NoonClock {
    origin: Instant,
    wall0: SystemTime,
}

impl NoonClock {
    pub fn at_hour(hour: u64) -> NoonClock {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        NoonClock {
            origin: Instant::now(),
            wall0: UNIX_EPOCH + Duration::from_secs(now - now % 86_400 + hour * 3600),
        }
    }
}

impl Clock for NoonClock {
    fn mono(&self) -> Mono {
        Mono(self.origin.elapsed().as_millis() as u64 + 1)
    }
    fn wall(&self) -> SystemTime {
        self.wall0 + self.origin.elapsed()
    }
}

pub struct Options {
    /// Edits the demo config text (e.g. deny a device).
    pub config: Box<dyn Fn(String) -> String>,
    /// A manual clock (rate limits, ring windows); else [`NoonClock`] at `hour`.
    pub manual: bool,
    pub hour: u64,
    pub time_scale: f64,
    pub consent_timeout: Duration,
    /// The link's visualisation password (the alarm is secured).
    pub visu: bool,
    /// The simulator's house (default: the demo house).
    pub house: HouseSource,
    /// The gateway's local time zone (default UTC).
    pub zone: Zone,
    /// `[consent.house] wait_s`: how long a call waits for the press in the Loxone app
    /// (default 0 here: the call answers at once, and the tests repeat it after the press).
    pub app_wait_s: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            config: Box::new(|t| t),
            manual: false,
            hour: 12,
            time_scale: 1.0,
            consent_timeout: Duration::from_secs(10),
            visu: true,
            house: HouseSource::Demo,
            zone: Zone::utc(),
            app_wait_s: 0,
        }
    }
}

/// The demo config without the Loxone app channel (`[consent]` is its last section): how a
/// site without the two controls behaves, and what a house without them needs.
pub fn without_app_channel(text: String) -> String {
    match text.find("\n[consent]") {
        Some(i) => text[..i].to_owned() + "\n",
        None => text,
    }
}

/// Options for a site without the Loxone app channel.
pub fn no_app_channel() -> Options {
    Options {
        config: Box::new(without_app_channel),
        ..Options::default()
    }
}

pub struct Rig {
    pub sim: Sim,
    pub dir: TempDir,
    pub cfg: Config,
    pub gw: Arc<Gateway>,
    pub server: Server,
    pub manual: Option<Arc<ManualClock>>,
}

impl Rig {
    pub fn start() -> Rig {
        Rig::with(Options::default())
    }

    pub fn with(o: Options) -> Rig {
        // A house other than the demo's has no controls for the Loxone app channel.
        let other_house = matches!(o.house, HouseSource::Generated(_) | HouseSource::File(_));
        let sim = Sim::start(SimOptions {
            time_scale: o.time_scale,
            house: o.house,
            ..SimOptions::default()
        })
        .expect("simulator starts");
        let dir = TempDir::new("tools");
        let mut text = loxwarden::demo::config_text(&sim.url(), sim.user(), dir.path());
        if o.manual {
            // A manual clock that jumps must not trip the link's stale rule (2 × 120 + 5 s).
            text = text.replace("keepalive_interval_s = 5", "keepalive_interval_s = 120");
        }
        if other_house {
            text = without_app_channel(text);
        }
        text = text.replace("\nwait_s = 30\n", &format!("\nwait_s = {}\n", o.app_wait_s));
        let text = (o.config)(text);
        let cfg = Config::parse(&text).expect("the rig's config parses");
        link_support::login_ok(&sim, &cfg);
        let (clock, manual): (Arc<dyn Clock>, Option<Arc<ManualClock>>) = if o.manual {
            let m = Arc::new(ManualClock::new());
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs();
            m.set_wall(UNIX_EPOCH + Duration::from_secs(now - now % 86_400 + o.hour * 3600));
            (m.clone(), Some(m))
        } else {
            (Arc::new(NoonClock::at_hour(o.hour)), None)
        };
        let secrets = Secrets {
            visu_password: o.visu.then(|| Secret::new(sim.visu_password())),
        };
        let link = Link::start(&cfg, clock.clone(), secrets).expect("link starts");
        let h = link.wait_live(Duration::from_secs(15));
        assert!(h.is_live(), "link not live: {h:?}");
        let gw = Gateway::from_parts(Parts {
            cfg: cfg.clone(),
            clock,
            link,
            latch: Latch::in_dir(&cfg.paths.state_dir),
            zone: Some(o.zone),
        })
        .expect("gateway starts");
        let server = Server::new(
            gw.host(),
            ServerConfig {
                consent_timeout: o.consent_timeout,
                ..ServerConfig::default()
            },
        )
        .expect("engine");
        Rig {
            sim,
            dir,
            cfg,
            gw,
            server,
            manual,
        }
    }

    /// A session that declares form elicitation (the scripted person declines unless told).
    pub fn client(&self) -> Client {
        self.client_with(json!({"elicitation": {"form": {}}}), Peer::default())
    }

    pub fn client_with(&self, caps: Value, peer: Peer) -> Client {
        let mut c = Client::start(&self.server, peer).expect("session");
        c.initialize("rig", caps).expect("initialize");
        c
    }

    /// One call in a fresh session (answering a consent question with `answer`).
    pub fn call_answering(&self, tool: &str, args: Value, answer: Answer) -> Value {
        let mut c = self.client();
        c.answer_next(answer);
        c.call(tool, args).expect("call")
    }

    /// One call in a fresh session; consent questions are declined.
    pub fn call(&self, tool: &str, args: Value) -> Value {
        self.call_answering(tool, args, Answer::Decline)
    }

    pub fn advance(&self, d: Duration) {
        self.manual.as_ref().expect("a manual clock").advance(d);
    }

    /// Advances the manual clock by `d` in steps of at most a minute, each followed by a sign
    /// of life from the Miniserver (the garden socket, switched at the device, reaching the
    /// gateway's cache), so that long jumps never trip the link's stale rule.
    pub fn advance_alive(&self, d: Duration) {
        let socket = self.addr("Garden socket");
        let mut left = d;
        while !left.is_zero() {
            let step = left.min(Duration::from_secs(60));
            self.advance(step);
            left -= step;
            let v = 1.0 - self.num(&socket, "active");
            assert!(self.sim.sense(&socket, "active", v));
            assert!(
                self.wait_cache_for(Duration::from_secs(30), &socket, "active", |x| x == v),
                "no sign of life from the Miniserver"
            );
        }
    }

    pub fn addr(&self, name: &str) -> ControlAddr {
        self.sim
            .control_named(name)
            .unwrap_or_else(|| panic!("no control {name}"))
    }

    /// The address of a sub-control `parent/suffix` (e.g. the intercom's door opener).
    pub fn sub(&self, parent: &str, suffix: &str) -> ControlAddr {
        ControlAddr::parse(&format!("{}/{suffix}", self.addr(parent))).unwrap()
    }

    /// A numeric state as the simulated Miniserver holds it.
    pub fn num(&self, addr: &ControlAddr, state: &str) -> f64 {
        match self.sim.control_state(addr, state) {
            Some(StateValue::Number(n)) => n,
            other => panic!("{addr} {state}: {other:?}"),
        }
    }

    /// Device commands the simulator received after `mark`.
    pub fn received(&self, mark: u64) -> Vec<LogEntry> {
        self.sim
            .commands_since(mark)
            .into_iter()
            .filter(|e| e.device)
            .collect()
    }

    /// Asserts that a refusal sent nothing, and returns the result.
    pub fn refused_and_nothing_sent(&self, tool: &str, args: Value) -> Value {
        let mark = self.sim.log_mark();
        let r = self.call(tool, args.clone());
        assert_eq!(r["isError"], true, "{tool} {args}: {r}");
        let got = self.received(mark);
        assert!(
            got.is_empty(),
            "{tool} {args} reached the Miniserver: {got:?}"
        );
        r
    }

    /// The audit log's records.
    pub fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.cfg.paths.audit_log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
            .collect()
    }

    /// Waits until the simulator's state `state` of `addr` satisfies `f`.
    pub fn wait_state(&self, addr: &ControlAddr, state: &str, f: impl Fn(f64) -> bool) -> bool {
        link_support::wait_until(Duration::from_secs(5), || f(self.num(addr, state))).is_some()
    }

    /// Waits until the gateway's own cache holds the bell ring (the guard reads the cache).
    pub fn wait_cache(&self, addr: &ControlAddr, state: &str, f: impl Fn(f64) -> bool) -> bool {
        self.wait_cache_for(Duration::from_secs(5), addr, state, f)
    }

    /// As [`Rig::wait_cache`], waiting at most `timeout`.
    pub fn wait_cache_for(
        &self,
        timeout: Duration,
        addr: &ControlAddr,
        state: &str,
        f: impl Fn(f64) -> bool,
    ) -> bool {
        let s = self.sim.structure();
        let c = s.control(addr).expect("control");
        let u = c.state(state).expect("state");
        link_support::wait_until(timeout, || {
            use loxwarden::loxone::state::LiveStates;
            self.gw.link().states().number(&u).is_some_and(&f)
        })
        .is_some()
    }
}

/// The text line of a result.
pub fn text(r: &Value) -> String {
    r["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Everything a client that reads only `content` sees: every text block, one per line.
pub fn content_text(r: &Value) -> String {
    r["content"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The output schema of `tool` as the catalogue declares it.
pub fn output_schema(tool: &str) -> Value {
    let def = loxwarden::tools::TOOLS
        .iter()
        .find(|d| d.name == tool)
        .unwrap_or_else(|| panic!("no tool {tool}"));
    serde_json::from_str(def.output_schema).unwrap()
}

pub use loxwarden::tools::testing::conforms;

/// Asserts a successful result validates against its tool's output schema.
pub fn assert_conforms(tool: &str, r: &Value) {
    let sc = &r["structuredContent"];
    if let Err(e) = conforms(&output_schema(tool), sc) {
        panic!("{tool}: structuredContent does not match outputSchema: {e}\n{sc:#}");
    }
}

/// A raw JSON-RPC session on the rig's engine, for what the scripted client cannot do: the
/// stateless era (MRTR rounds with `requestState`), cancelling a call while the person is
/// asked, replaying or forging answers.
pub struct Wire {
    input: Option<std::io::PipeWriter>,
    lines: std::sync::mpsc::Receiver<String>,
    session: Option<std::thread::JoinHandle<()>>,
    next_id: i64,
}

/// The protocol version of the stateless era.
pub const MODERN: &str = "2026-07-28";

impl Wire {
    pub fn start(server: &Server, peer: Peer) -> Wire {
        use std::io::BufRead;
        let (in_r, in_w) = std::io::pipe().expect("pipe");
        let (out_r, out_w) = std::io::pipe().expect("pipe");
        let server = server.clone();
        let session = std::thread::spawn(move || {
            server.serve(in_r, out_w, peer);
        });
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out_r).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Wire {
            input: Some(in_w),
            lines,
            session: Some(session),
            next_id: 0,
        }
    }

    pub fn send(&mut self, msg: &Value) {
        use std::io::Write;
        let w = self.input.as_mut().expect("open");
        writeln!(w, "{msg}").expect("the session reads");
    }

    /// The next message from the server (generous bound: a loaded machine is slow).
    pub fn recv(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(30))
            .expect("a message within 30 s");
        serde_json::from_str(&line).expect("JSON from the server")
    }

    /// True when the server sends nothing for `d`.
    pub fn quiet(&self, d: Duration) -> bool {
        self.lines.recv_timeout(d).is_err()
    }

    /// Sends a request and returns its response; notifications on the way are skipped, a
    /// request from the server fails the test.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self.recv();
            if m.get("method").is_some() {
                assert!(m.get("id").is_none(), "unexpected request: {m}");
                continue;
            }
            assert_eq!(m["id"], id, "{m}");
            return m;
        }
    }

    /// `initialize` in the handshake era, then `notifications/initialized`.
    pub fn handshake(&mut self, caps: Value) {
        let r = self.request(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": caps,
                   "clientInfo": {"name": "wire", "version": "1"}}),
        );
        assert!(r.get("result").is_some(), "{r}");
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    }

    /// A stateless-era `tools/call` (no handshake) declaring `caps`, with `extra` params
    /// (`requestState`, `inputResponses`) merged in. Returns the whole response.
    pub fn modern_call(&mut self, tool: &str, args: Value, caps: Value, extra: Value) -> Value {
        let mut params = json!({
            "name": tool,
            "arguments": args,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": caps,
            }
        });
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        self.request("tools/call", params)
    }

    pub fn close(mut self) {
        drop(self.input.take());
        if let Some(h) = self.session.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        drop(self.input.take());
    }
}

impl Rig {
    /// A raw session on this rig's engine.
    pub fn wire(&self) -> Wire {
        Wire::start(&self.server, Peer::default())
    }
}
