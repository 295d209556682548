//! Helpers for the daemon's tests: a simulated Miniserver, a logged-in state directory, the
//! real `loxwarden daemon` in the foreground with its sockets in a temp dir, CLI runs (also as
//! another Unix user), and a small MCP client over the daemon's socket.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use loxwarden::config::Config;
use loxwarden::sim::Sim;
use serde_json::{Value, json};

use crate::link_support::{TempDir, login_ok, sim_with, wait_until, write_config};
use crate::support::BIN;

/// A simulator, a config whose paths live in a temp dir, and a token in its state dir.
pub struct Site {
    pub sim: Sim,
    pub dir: TempDir,
    pub config: PathBuf,
    pub cfg: Config,
}

impl Site {
    /// The demo house, logged in. `extra` is appended to the config file (e.g. `[control]`).
    pub fn new(tag: &str, extra: &str) -> Site {
        Site::with_time_scale(tag, extra, 60.0)
    }

    /// With simulated seconds per real second `scale` (1: a blind takes its real 60 s).
    pub fn with_time_scale(tag: &str, extra: &str, scale: f64) -> Site {
        let sim = sim_with(|o| o.time_scale = scale);
        let dir = TempDir::new(tag);
        let (config, _) = write_config(&sim, dir.path(), "");
        if !extra.is_empty() {
            let mut text = std::fs::read_to_string(&config).unwrap();
            text.push_str(extra);
            std::fs::write(&config, text).unwrap();
        }
        let cfg = Config::load(&config).unwrap();
        login_ok(&sim, &cfg);
        Site {
            sim,
            dir,
            config,
            cfg,
        }
    }

    pub fn socket(&self) -> PathBuf {
        self.cfg.paths.socket.clone()
    }

    pub fn control_socket(&self) -> PathBuf {
        loxwarden::control::socket_path(&self.cfg.paths)
    }

    pub fn latch_file(&self) -> PathBuf {
        self.cfg
            .paths
            .state_dir
            .join(loxwarden::safety::latch::LATCH_FILE)
    }

    /// `loxwarden --config … ARGS` with quiet logs.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--config")
            .arg(&self.config)
            .args(args)
            .env("LOXWARDEN_LOG", "warn")
            .env_remove("LOXWARDEN_PASSWORD")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .stdin(Stdio::null());
        c
    }

    /// Runs a CLI command to the end: (exit code, stdout, stderr, how long it took).
    pub fn cli(&self, args: &[&str]) -> Ran {
        Ran::of(self.command(args))
    }

    /// Runs a CLI command as uid/gid (no supplementary groups) through `setpriv`.
    pub fn cli_as(&self, uid: u32, gid: u32, args: &[&str]) -> Ran {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={uid}"))
            .arg(format!("--regid={gid}"))
            .arg("--clear-groups")
            .arg(BIN)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("LOXWARDEN_LOG", "warn")
            .stdin(Stdio::null());
        Ran::of(c)
    }

    /// The device commands the simulator received after `mark` with operation `op`, as
    /// control addresses.
    pub fn ops_since(&self, mark: u64, op: &str) -> Vec<String> {
        self.sim
            .commands_since(mark)
            .into_iter()
            .filter(|e| e.device && e.op.as_deref() == Some(op))
            .filter_map(|e| e.control)
            .collect()
    }

    /// The control named `name` (`Room/Name` is not needed: names are unique in the demo).
    pub fn addr(&self, name: &str) -> loxwarden::loxone::uuid::ControlAddr {
        self.sim
            .control_named(name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    /// A numeric state of a simulated control.
    pub fn state(&self, name: &str, state: &str) -> f64 {
        match self.sim.control_state(&self.addr(name), state) {
            Some(loxwarden::loxone::state::StateValue::Number(n)) => n,
            other => panic!("{name}.{state} is {other:?}"),
        }
    }

    /// Every blind, window, gate and their central objects (what an emergency stop must
    /// stop), and every audio zone and central audio object.
    pub fn motors_and_zones(&self) -> (Vec<String>, Vec<String>) {
        motors_and_zones(&self.sim)
    }

    /// The saunas the stop turns off and the irrigation blocks it stops (issue 22).
    pub fn saunas_and_irrigation(&self) -> (Vec<String>, Vec<String>) {
        let s = self.sim.structure();
        let of = |ty: &str| {
            s.controls
                .iter()
                .filter(|c| c.kind == ty && c.restrictions == 0)
                .map(|c| c.addr.to_string())
                .collect::<Vec<_>>()
        };
        (of("Sauna"), of("Irrigation"))
    }
}

/// A finished CLI run.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Ran {
    pub fn of(mut c: Command) -> Ran {
        let started = Instant::now();
        let out: Output = c.output().expect("the command runs");
        Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            took: started.elapsed(),
        }
    }

    pub fn context(&self) -> String {
        format!(
            "exit {} after {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.took, self.stdout, self.stderr
        )
    }
}

/// `loxwarden daemon` in the foreground; killed on drop. Its stderr is kept.
pub struct Daemon {
    pub child: Child,
    log: Arc<Mutex<String>>,
}

impl Daemon {
    pub fn start(site: &Site) -> Daemon {
        Daemon::start_with(site, &[], &[])
    }

    /// With extra daemon options and environment.
    pub fn start_with(site: &Site, args: &[&str], env: &[(&str, &str)]) -> Daemon {
        let mut c = site.command(&["daemon"]);
        c.args(args)
            .env("LOXWARDEN_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("the daemon starts");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let d = Daemon { child, log };
        let socket = site.socket();
        let up = wait_until(Duration::from_secs(15), || {
            UnixStream::connect(&socket).is_ok()
        });
        assert!(up.is_some(), "the daemon never listened\n{}", d.log());
        d
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Whether the daemon logs `needle` within 5 s: a reader thread collects its stderr, so a
    /// line the daemon wrote a moment ago may not be in [`Daemon::log`] yet on a loaded machine.
    pub fn logged(&self, needle: &str) -> bool {
        crate::link_support::wait_until(Duration::from_secs(5), || self.log().contains(needle))
            .is_some()
    }

    /// Sends a signal with `kill(1)` (no libc in the tests either).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([format!("-{sig}"), self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// SIGKILL and reap: the daemon is gone, its socket files stay behind.
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log()
    }

    /// Waits up to `within` for the daemon to exit; its exit code (`None`: still running, or
    /// ended by a signal).
    pub fn wait_exit(&mut self, within: Duration) -> Option<Option<i32>> {
        let end = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code());
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Still running?
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.alive() {
            let _ = Command::new("kill")
                .args(["-CONT", &self.child.id().to_string()])
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the daemon reports the link live (its status over the control socket).
pub fn wait_link_live(site: &Site, daemon: &Daemon) {
    let live = wait_until(Duration::from_secs(15), || {
        let r = site.cli(&["status", "--json"]);
        r.code == 0 && r.stdout.contains("\"live\"")
    });
    assert!(live.is_some(), "link never live\n{}", daemon.log());
}

/// A bare MCP client on the daemon's socket.
pub struct Mcp {
    stream: UnixStream,
    lines: BufReader<UnixStream>,
}

impl Mcp {
    pub fn connect(socket: &Path) -> Mcp {
        let stream = UnixStream::connect(socket).expect("connect to the daemon");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let lines = BufReader::new(stream.try_clone().unwrap());
        Mcp { stream, lines }
    }

    pub fn send(&mut self, v: &Value) {
        self.stream
            .write_all(format!("{v}\n").as_bytes())
            .expect("write to the daemon");
    }

    /// The next message, or `None` at EOF.
    pub fn recv(&mut self) -> Option<Value> {
        let mut line = String::new();
        match self.lines.read_line(&mut line) {
            Ok(0) => None,
            Ok(_) => Some(serde_json::from_str(&line).expect("a JSON line")),
            Err(e) => panic!("no answer from the daemon: {e}"),
        }
    }

    /// Sends a request and returns its response, skipping notifications.
    pub fn request(&mut self, id: &str, method: &str, params: Value) -> Value {
        self.send(&json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}));
        loop {
            let m = self.recv().expect("the daemon answered");
            if m["id"] == json!(id) {
                return m;
            }
        }
    }

    /// The text of a tool result and whether it is an error.
    pub fn outcome(r: &Value) -> (bool, String) {
        let text = r["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (r["result"]["isError"] == json!(true), text)
    }

    pub fn initialize(&mut self) -> Value {
        let r = self.request(
            "init",
            "initialize",
            json!({"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"it-daemon","version":"1"}}),
        );
        self.send(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
        r
    }

    pub fn call(&mut self, id: &str, tool: &str, arguments: Value) -> Value {
        self.request(
            id,
            "tools/call",
            json!({"name": tool, "arguments": arguments}),
        )
    }
}

/// True when the tests run as root (the tests that switch users need it).
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Skips a test that needs root, loudly.
#[macro_export]
macro_rules! require_root {
    () => {
        if !$crate::daemon_support::is_root() {
            eprintln!("SKIPPED: this test switches Unix users and needs root");
            return;
        }
    };
}

/// Every blind, window, gate and their central objects (what an emergency stop must stop), and
/// every audio zone and central audio object, of `sim`'s structure, by Loxone type.
pub fn motors_and_zones(sim: &Sim) -> (Vec<String>, Vec<String>) {
    let s = sim.structure();
    let of = |types: &[&str]| {
        s.controls
            .iter()
            .filter(|c| types.contains(&c.kind.as_str()) && c.restrictions == 0)
            .map(|c| c.addr.to_string())
            .collect::<Vec<_>>()
    };
    (
        of(&[
            "Jalousie",
            "Window",
            "Gate",
            "CentralJalousie",
            "CentralWindow",
            "CentralGate",
        ]),
        of(&["AudioZone", "AudioZoneV2", "CentralAudioZone"]),
    )
}
