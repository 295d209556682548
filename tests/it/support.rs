//! Helpers for driving the real `loxwarden` binary: spawn `serve`, write lines, read lines
//! with a deadline, close stdin and time the exit. Everything the server writes to stdout is
//! kept so a test can check that stdout carried nothing but protocol.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_loxwarden");

/// `loxwarden demo` (the gateway in front of the simulated house, on stdio) with the test
/// build's options that shorten waits and force pagination.
pub const TEST_ARGS: &[&str] = &[
    "demo",
    "--test-consent-timeout-ms",
    "1000",
    "--test-page-size",
    "2",
];

/// How long a test waits for one line before it calls the server stuck.
pub const LINE_DEADLINE: Duration = Duration::from_secs(10);

pub struct Served {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Vec<u8>>,
    stderr: Arc<Mutex<String>>,
    /// Every stdout line received so far (raw bytes).
    pub stdout: Vec<Vec<u8>>,
}

impl Served {
    pub fn start(args: &[&str]) -> Served {
        let mut child = Command::new(BIN)
            .args(args)
            .env("LOXWARDEN_LOG", "info")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the loxwarden binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if line.last() == Some(&b'\n') {
                            line.pop();
                        }
                        if tx.send(line).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    return;
                }
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        Served {
            stdin: child.stdin.take(),
            child,
            lines: rx,
            stderr,
            stdout: Vec::new(),
        }
    }

    /// The test build with the short timeouts.
    pub fn test_build() -> Served {
        Served::start(TEST_ARGS)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Writes `bytes` and a newline.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let w = self.stdin.as_mut().expect("stdin is open");
        w.write_all(bytes)
            .and_then(|()| w.write_all(b"\n"))
            .and_then(|()| w.flush())
            .expect("write to the server");
    }

    pub fn send(&mut self, msg: &Value) {
        self.send_raw(msg.to_string().as_bytes());
    }

    /// The next stdout line, or `None` after `wait`.
    pub fn next_line(&mut self, wait: Duration) -> Option<Vec<u8>> {
        let line = self.lines.recv_timeout(wait).ok()?;
        self.stdout.push(line.clone());
        Some(line)
    }

    /// The next message as JSON; panics (with the server's stderr) after [`LINE_DEADLINE`].
    pub fn recv(&mut self) -> Value {
        let Some(line) = self.next_line(LINE_DEADLINE) else {
            panic!(
                "no line from the server within {LINE_DEADLINE:?}; stderr:\n{}",
                self.stderr()
            );
        };
        serde_json::from_slice(&line).unwrap_or_else(|e| {
            panic!(
                "stdout line is not JSON ({e}): {}",
                String::from_utf8_lossy(&line)
            )
        })
    }

    /// Sends a request and returns its response (skipping nothing: the next line must be it).
    pub fn request(&mut self, msg: &Value) -> Value {
        self.send(msg);
        let reply = self.recv();
        assert_eq!(
            reply.get("id"),
            msg.get("id"),
            "reply to another request: {reply}"
        );
        reply
    }

    pub fn initialize(&mut self, capabilities: Value) -> Value {
        let r = self.request(&serde_json::json!({
            "jsonrpc": "2.0", "id": "init", "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": capabilities,
                       "clientInfo": {"name": "it", "version": "1"}}
        }));
        self.send(&serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        r
    }

    pub fn is_open(&self) -> bool {
        self.stdin.is_some()
    }

    /// Closes stdin and waits for the process to exit; returns its status and how long the
    /// exit took after the close.
    pub fn close(&mut self, wait: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        drop(self.stdin.take());
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return (status, started.elapsed());
            }
            if started.elapsed() > wait {
                panic!("the server did not exit within {wait:?} of stdin closing");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The process id (to signal it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit by itself (stdin stays open); its status and how long.
    pub fn wait_exit(&mut self, wait: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return (status, started.elapsed());
            }
            if started.elapsed() > wait {
                panic!("the server did not exit within {wait:?}");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// After [`Served::close`]: the stdout lines written after the last one read.
    pub fn rest(&mut self) -> Vec<Vec<u8>> {
        let mut rest = Vec::new();
        while let Some(line) = self.next_line(Duration::from_millis(500)) {
            rest.push(line);
        }
        rest
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Whether a stdout line is a well-formed JSON-RPC 2.0 message a server may send: a response
/// (id + result|error), an error with `"id": null` (its request's id could not be read), a
/// notification or a request.
pub fn is_protocol_line(line: &[u8]) -> bool {
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(line) else {
        return false;
    };
    if m.get("jsonrpc") != Some(&Value::String("2.0".into())) || line.contains(&b'\n') {
        return false;
    }
    let id_ok = match m.get("id") {
        None => m.contains_key("method"),
        Some(Value::Null) => m.contains_key("error"),
        Some(v) => v.is_string() || v.is_i64() || v.is_u64(),
    };
    let has = |k: &str| m.contains_key(k);
    id_ok
        && match (has("method"), has("result"), has("error")) {
            (true, false, false) => true,
            (false, true, false) => has("id"),
            (false, false, true) => {
                m["error"]["code"].is_i64() && m["error"]["message"].is_string()
            }
            _ => false,
        }
}

/// `target/` of this build (the venv for the interop tests lives there).
pub fn target_dir() -> PathBuf {
    let bin = PathBuf::from(BIN);
    // target/<profile>/loxwarden
    bin.parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}
