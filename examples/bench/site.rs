//! What the figures run against: a simulated Miniserver with a logged-in state directory
//! ([`Site`]), the real `loxwarden daemon` as a child process ([`Daemon`]), and a bare MCP
//! client over its socket ([`Mcp`]).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use loxwarden::clock::SystemClock;
use loxwarden::config::Config;
use loxwarden::dispatch::gateway::Gateway;
use loxwarden::loxone::link::Secrets;
use loxwarden::loxone::secret::Secret;
use loxwarden::loxone::setup;
use loxwarden::sim::{HouseSource, Sim, SimOptions};
use serde_json::{Value, json};

/// A simulator and a config whose state, audit log and sockets live in `dir`, logged in.
pub struct Site {
    pub sim: Sim,
    pub dir: PathBuf,
    pub config: PathBuf,
    pub cfg: Config,
}

impl Site {
    pub fn new(root: &Path, tag: &str, house: HouseSource) -> Site {
        let sim = Sim::start(SimOptions {
            house,
            ..SimOptions::default()
        })
        .expect("the simulator starts");
        let dir = root.join(tag);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let text = format!(
            "[miniserver]\nurl = \"{}\"\nuser = \"{}\"\n[paths]\nstate_dir = \"{}\"\naudit_log = \"{}\"\nsocket = \"{}\"\n",
            sim.url(),
            sim.user(),
            dir.join("state").display(),
            dir.join("audit.jsonl").display(),
            dir.join("run").join("mcp.sock").display()
        );
        std::fs::create_dir_all(dir.join("run")).expect("socket dir");
        let config = dir.join("config.toml");
        std::fs::write(&config, &text).expect("config written");
        let cfg = Config::parse(&text).expect("config parses");
        let pw = sim.password().to_owned();
        setup::login_with(&cfg, None, move || Ok(Secret::new(pw)), &mut Vec::new()).expect("login");
        Site {
            sim,
            dir,
            config,
            cfg,
        }
    }

    /// Runs a gateway in this process until its link is live, so that the structure is
    /// cached in the state directory (what every later start finds).
    pub fn cache_structure(&self) {
        let gw = Gateway::start(
            self.cfg.clone(),
            Arc::new(SystemClock::new()),
            Secrets::default(),
        )
        .expect("gateway");
        let h = gw.link().wait_live(Duration::from_secs(30));
        assert!(h.is_live(), "link not live: {}", h.reason);
        gw.stop();
    }

    /// `loxwarden --config … ARGS`, quiet, no systemd.
    pub fn command(&self, bin: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(bin);
        c.arg("--config")
            .arg(&self.config)
            .args(args)
            .env("LOXWARDEN_LOG", "warn")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC");
        c
    }

    pub fn socket(&self) -> PathBuf {
        self.cfg.paths.socket.clone()
    }

    /// Top-level controls of these Loxone types, as control addresses.
    pub fn controls_of(&self, types: &[&str]) -> Vec<String> {
        self.sim
            .structure()
            .controls
            .iter()
            .filter(|c| c.parent.is_none() && types.contains(&c.kind.as_str()))
            .map(|c| c.addr.to_string())
            .collect()
    }
}

/// The real daemon, its log in the site's directory; killed on drop.
pub struct Daemon {
    child: Child,
}

impl Daemon {
    /// Starts it and waits until its link is live (its own status over the control socket).
    pub fn start(site: &Site, bin: &Path) -> Daemon {
        let log = std::fs::File::create(site.dir.join("daemon.log")).expect("log file");
        let child = site
            .command(bin, &["daemon"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the daemon starts");
        let d = Daemon { child };
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let mut out = Vec::new();
            let live = loxwarden::control::client::status(&site.cfg.paths, true, &mut out).is_ok()
                && String::from_utf8_lossy(&out).contains("\"live\"");
            if live && UnixStream::connect(site.socket()).is_ok() {
                return d;
            }
            assert!(
                Instant::now() < until,
                "the daemon's link never came up; see {}",
                site.dir.join("daemon.log").display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bare MCP client (2025-11-25 era) on a daemon's socket.
pub struct Mcp {
    stream: UnixStream,
    lines: BufReader<UnixStream>,
    next: u64,
}

impl Mcp {
    pub fn connect(socket: &Path) -> Mcp {
        let stream = UnixStream::connect(socket).expect("connect to the daemon");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let lines = BufReader::new(stream.try_clone().expect("clone"));
        let mut m = Mcp {
            stream,
            lines,
            next: 0,
        };
        m.request("initialize", initialize_params());
        m.send(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
        m
    }

    fn send(&mut self, v: &Value) {
        self.stream
            .write_all(format!("{v}\n").as_bytes())
            .expect("write to the daemon");
    }

    /// Sends a request and returns its response, skipping notifications.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.send(&json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}));
        loop {
            let mut line = String::new();
            let n = self.lines.read_line(&mut line).expect("the daemon answers");
            assert!(n > 0, "the daemon closed the session");
            let m: Value = serde_json::from_str(&line).expect("a JSON line");
            if m["id"] == json!(id) {
                return m;
            }
        }
    }

    /// One `tools/call`: the result and whether it is an error.
    pub fn call(&mut self, tool: &str, arguments: Value) -> (Value, bool) {
        let r = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        let err = r.get("error").is_some() || r["result"]["isError"] == json!(true);
        (r, err)
    }
}

pub fn initialize_params() -> Value {
    json!({"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"loxwarden-bench","version":"1"}})
}

/// A fresh directory for this run, removed on drop.
pub struct TempRoot(pub PathBuf);

impl TempRoot {
    pub fn new() -> TempRoot {
        let p = std::env::temp_dir().join(format!("lw-bench-{}", std::process::id()));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempRoot(p)
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
