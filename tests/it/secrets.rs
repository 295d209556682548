//! Secrets hygiene (issue 9, part 6): realistic flows through the real binary against the
//! simulator, with distinctive secrets, and every output they leave behind grepped for those
//! secrets and their obvious encodings.
//!
//! Why through the binary: the logger, the CLI answers and the daemon's socket are where a
//! secret would escape, and `RUST_LOG=trace` switches on every dependency's logging too (ureq,
//! rustls, tungstenite), which an in-process test would not see.
//!
//! Secrets: the user password, the visualisation password, a wrong password and a wrong
//! visualisation password typed by mistake, the token the simulator issued (from its own list
//! and from `token.json`), and every hash that travelled in a command (login hash, token hashes,
//! visualisation hashes: any path segment of 40 or more hex digits in the simulator's decrypted
//! command log). Outputs: stdout and stderr of `login` (wrong and right), `check-config`,
//! `serve --standalone`, the daemon, `status`, `audit`, `estop`, `resume`, `logout`; every MCP
//! message the gateway sent (tool results, errors, consent questions); the audit log; every
//! file in the state directory but `token.json`, whose job is to hold the token.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use loxwarden::sim::Sim;
use serde_json::{Value, json};

use crate::link_support::{SIM_TLS_NAME, TempDir, sim_fingerprint, sim_with, wait_until};
use crate::support::BIN;

const PASSWORD: &str = "Pw-q7Zk3-CANARY-9d41";
const VISU_PASSWORD: &str = "Vz-m2Xr8-CANARY-5c07";
const WRONG_PASSWORD: &str = "Wr-b6Tn1-CANARY-0e93";
const WRONG_VISU_PASSWORD: &str = "Wv-h4Jp5-CANARY-3a62";

/// Everything a flow left behind, by where it came from.
#[derive(Default)]
struct Evidence(Vec<(String, String)>);

impl Evidence {
    fn add(&mut self, label: impl Into<String>, text: impl Into<String>) {
        self.0.push((label.into(), text.into()));
    }

    fn total_len(&self) -> usize {
        self.0.iter().map(|(_, t)| t.len()).sum()
    }
}

/// The forms a secret could take in an output: itself, hex (both cases) and base64 (standard
/// and URL-safe, padded or not) of its bytes, percent-encoded, and for a hex secret the other
/// case.
fn encodings(secret: &str) -> Vec<String> {
    let b = secret.as_bytes();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let std = base64::engine::general_purpose::STANDARD.encode(b);
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let pct: String = secret
        .bytes()
        .map(|c| {
            if c.is_ascii_alphanumeric() || b"-_.~".contains(&c) {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect();
    let mut v = vec![
        secret.to_owned(),
        secret.to_ascii_lowercase(),
        secret.to_ascii_uppercase(),
        hex.clone(),
        hex.to_ascii_uppercase(),
        std.trim_end_matches('=').to_owned(),
        url,
        pct,
    ];
    v.sort();
    v.dedup();
    v
}

/// Panics listing every place a secret (in any encoding) appears.
fn assert_no_secret(evidence: &Evidence, secrets: &[(String, String)]) {
    let mut hits = Vec::new();
    for (what, secret) in secrets {
        assert!(secret.len() >= 12, "{what} is too short to grep for safely");
        for form in encodings(secret) {
            for (label, text) in &evidence.0 {
                if let Some(at) = text.find(&form) {
                    let from = text[..at]
                        .char_indices()
                        .rev()
                        .nth(80)
                        .map_or(0, |(i, _)| i);
                    let to = (at + form.len() + 40).min(text.len());
                    let to = (to..=text.len())
                        .find(|&i| text.is_char_boundary(i))
                        .unwrap_or(text.len());
                    hits.push(format!(
                        "{what} (as {form:?}) in {label}: …{}…",
                        &text[from..to]
                    ));
                }
            }
        }
    }
    assert!(hits.is_empty(), "secrets leaked:\n{}", hits.join("\n"));
}

/// The simulated Miniserver, a site config pointing at it, the visualisation password in a
/// 0600 file.
struct Site {
    sim: Sim,
    dir: TempDir,
    config: PathBuf,
    tls: bool,
}

impl Site {
    fn new(tls: bool) -> Site {
        let sim = sim_with(|o| {
            o.password = PASSWORD.into();
            o.visu_password = VISU_PASSWORD.into();
            o.tls = tls;
            o.time_scale = 60.0;
        });
        let dir = TempDir::new(if tls { "secrets-tls" } else { "secrets-http" });
        let visu_file = dir.path().join("visu.pw");
        std::fs::write(&visu_file, format!("{VISU_PASSWORD}\n")).unwrap();
        std::fs::set_permissions(&visu_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let url = if tls {
            format!(
                "url = \"https://{SIM_TLS_NAME}:{}\"\naddress = \"127.0.0.1\"",
                sim.addr().port()
            )
        } else {
            format!("url = \"{}\"", sim.url())
        };
        let text = loxwarden::demo::config_text("@URL@", sim.user(), dir.path())
            .replace("url = \"@URL@\"", &url)
            .replace("max_backoff_s = 5", "max_backoff_s = 1")
            .replacen(
                "\n[link]",
                &format!("visu_password_file = \"{}\"\n\n[link]", visu_file.display()),
                1,
            );
        let config = dir.path().join("config.toml");
        std::fs::write(&config, &text).unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
        loxwarden::config::Config::parse(&text).expect("the site config parses");
        Site {
            sim,
            dir,
            config,
            tls,
        }
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// `loxwarden --config … ARGS` at trace level, without inherited secrets.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--config")
            .arg(&self.config)
            .args(args)
            .env("RUST_LOG", "trace")
            .env("LOXWARDEN_LOG", "trace")
            .env_remove("LOXWARDEN_PASSWORD")
            .env_remove("LOXWARDEN_VISU_PASSWORD")
            .env_remove("LOXWARDEN_ACCEPT_FINGERPRINT")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC");
        c
    }

    /// Runs a command to the end, keeping its stdout and stderr as evidence.
    fn run(&self, ev: &mut Evidence, label: &str, mut c: Command) -> i32 {
        let out = c.stdin(Stdio::null()).output().expect("loxwarden runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let code = out.status.code().unwrap_or(-1);
        ev.add(format!("{label} stdout"), stdout);
        ev.add(format!("{label} stderr"), stderr);
        code
    }

    fn login(&self, ev: &mut Evidence, label: &str, password: &str) -> i32 {
        let mut c = self.command(&["login"]);
        c.env("LOXWARDEN_PASSWORD", password);
        if self.tls {
            c.arg("--accept-fingerprint")
                .arg(sim_fingerprint(&self.sim).to_string());
        }
        self.run(ev, label, c)
    }
}

/// A line-oriented MCP client that answers consent questions: `accept` ticks the box,
/// otherwise it declines. Every message the gateway sends is kept.
struct Session<R, W> {
    read: BufReader<R>,
    write: W,
    seen: Vec<String>,
    next: u64,
}

impl<R: std::io::Read, W: Write> Session<R, W> {
    fn new(read: R, write: W) -> Self {
        let mut s = Session {
            read: BufReader::new(read),
            write,
            seen: Vec::new(),
            next: 0,
        };
        let init = s.request(
            "initialize",
            json!({"protocolVersion": "2025-11-25",
                   "capabilities": {"elicitation": {"form": {}}},
                   "clientInfo": {"name": "it-secrets", "version": "1"}}),
            false,
        );
        assert!(init.get("result").is_some(), "initialize failed: {init}");
        s.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        s
    }

    fn send(&mut self, v: &Value) {
        self.write
            .write_all(format!("{v}\n").as_bytes())
            .expect("write to the gateway");
        self.write.flush().unwrap();
    }

    fn request(&mut self, method: &str, params: Value, accept: bool) -> Value {
        self.next += 1;
        let id = format!("s{}", self.next);
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let mut line = String::new();
            let n = self.read.read_line(&mut line).expect("the gateway answers");
            assert!(n > 0, "the gateway closed the session");
            self.seen.push(line.clone());
            let m: Value = serde_json::from_str(&line).expect("a JSON line");
            if m["method"] == "elicitation/create" {
                let answer = if accept {
                    json!({"action": "accept", "content": {"confirm": true}})
                } else {
                    json!({"action": "decline"})
                };
                self.send(&json!({"jsonrpc": "2.0", "id": m["id"], "result": answer}));
            } else if m["id"] == json!(id) {
                return m;
            }
        }
    }

    fn call(&mut self, tool: &str, arguments: Value, accept: bool) -> Value {
        self.request(
            "tools/call",
            json!({"name": tool, "arguments": arguments}),
            accept,
        )
    }
}

fn is_error(r: &Value) -> bool {
    r["result"]["isError"] == json!(true) || r.get("error").is_some()
}

/// A child whose stderr is collected in the background; killed on drop.
struct Running {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    fn spawn(mut c: Command) -> Running {
        let mut child = c.stderr(Stdio::piped()).spawn().expect("loxwarden starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut r = BufReader::new(err);
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 0) {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        Running { child, stderr }
    }

    /// Stops the process and returns everything it wrote to stderr.
    fn finish(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The reader thread drains what is left in the pipe.
        std::thread::sleep(Duration::from_millis(100));
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `mode & 0o077 == 0` for every file under `dir` (and the directory itself).
fn assert_private(dir: &Path) {
    let mode = std::fs::metadata(dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "{} has mode {:o}", dir.display(), mode);
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} has mode {:o}", p.display(), mode);
    }
}

/// Long hex runs in the simulator's decrypted command log: login hashes, token hashes and
/// visualisation hashes, as they travelled.
fn hashes_sent(sim: &Sim) -> Vec<String> {
    let mut v: Vec<String> = sim
        .commands()
        .iter()
        .flat_map(|e| {
            e.command
                .split(['/', '?', '&', '='])
                .filter(|s| s.len() >= 40 && s.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The whole set of flows on one site; returns what they left behind and the secrets to look
/// for.
fn flows(site: &Site) -> (Evidence, Vec<(String, String)>) {
    let mut ev = Evidence::default();

    // A mistyped password: refused, and the mistake is not echoed.
    let code = site.login(&mut ev, "login (wrong password)", WRONG_PASSWORD);
    assert_ne!(code, 0, "a wrong password must not log in");
    let code = site.login(&mut ev, "login", PASSWORD);
    assert_eq!(code, 0, "login failed: {:?}", ev.0.last());
    assert_private(&site.state_dir());

    let code = site.run(&mut ev, "check-config", site.command(&["check-config"]));
    assert_eq!(code, 0, "check-config failed: {:?}", ev.0.last());

    // serve --standalone with a wrong visualisation password: the secured command fails with
    // the Miniserver's answer, and neither password nor hash is in the error.
    {
        let mut c = site.command(&["serve", "--standalone"]);
        c.env("LOXWARDEN_VISU_PASSWORD", WRONG_VISU_PASSWORD)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut run = Running::spawn(c);
        let stdin = run.child.stdin.take().unwrap();
        let stdout = run.child.stdout.take().unwrap();
        let mut s = Session::new(stdout, stdin);
        let mark = site.sim.log_mark();
        let r = s.call(
            "set_alarm",
            json!({"device": "Burglar Alarm", "action": "disarm"}),
            true,
        );
        assert!(
            is_error(&r),
            "a wrong visualisation password must fail: {r}"
        );
        assert!(
            site.sim
                .commands_since(mark)
                .iter()
                .any(|e| e.command.contains("/ios/")),
            "the secured path was not exercised: {r}"
        );
        let seen = s.seen.join("");
        drop(s);
        ev.add("serve --standalone (wrong visu) MCP", seen);
        ev.add("serve --standalone (wrong visu) stderr", run.finish());
    }

    // The daemon with the right visualisation password (from its 0600 file), at trace.
    let mut d = site.command(&["daemon"]);
    d.stdin(Stdio::null()).stdout(Stdio::null());
    let daemon = Running::spawn(d);
    let socket = site.dir.path().join("mcp.sock");
    let live = wait_until(Duration::from_secs(20), || {
        let out = site
            .command(&["status", "--json"])
            .env("LOXWARDEN_LOG", "warn")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains("\"live\"")
    });
    assert!(
        live.is_some(),
        "the daemon's link never became live\n{}",
        daemon.stderr.lock().unwrap()
    );
    {
        let stream = UnixStream::connect(&socket).expect("the daemon's socket");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut s = Session::new(stream.try_clone().unwrap(), stream);
        s.request("tools/list", json!({}), false);
        for (tool, args) in [
            ("get_system_status", json!({})),
            ("list_rooms", json!({})),
            ("list_devices", json!({})),
            ("get_device", json!({"device": "Burglar Alarm"})),
            ("describe_scene", json!({"device": "Living Room Lighting"})),
        ] {
            s.call(tool, args, false);
        }
        // Plain commands with the token (TLS: in the query; HTTP: as a hash, encrypted).
        let r = s.call(
            "control_light",
            json!({"device": "Kitchen Ceiling", "action": "on"}),
            false,
        );
        let _ = r;
        // The secured alarm through the visualisation-password path, with consent.
        let mark = site.sim.log_mark();
        let r = s.call(
            "set_alarm",
            json!({"device": "Burglar Alarm", "action": "arm"}),
            true,
        );
        assert!(!is_error(&r), "arming failed: {r}");
        let r = s.call(
            "set_alarm",
            json!({"device": "Burglar Alarm", "action": "disarm"}),
            true,
        );
        assert!(!is_error(&r), "disarming failed: {r}");
        assert!(
            site.sim
                .commands_since(mark)
                .iter()
                .any(|e| e.command.contains("/ios/") && e.code == 200),
            "the secured path was not exercised"
        );
        // A declined consent, a refusal, bad arguments, an unknown tool.
        s.call(
            "control_access",
            json!({"device": "Front Door", "action": "unlock"}),
            false,
        );
        s.call(
            "set_temperature",
            json!({"device": "Living Room Climate", "target": 35, "unit": "C"}),
            false,
        );
        s.call(
            "control_light",
            json!({"device": "Kitchen Ceiling", "action": "dim", "brightness": 150}),
            false,
        );
        s.call("no_such_tool", json!({}), false);
        let seen = std::mem::take(&mut s.seen).join("");
        ev.add("daemon MCP", seen);

        for (label, args) in [
            ("status", &["status"][..]),
            ("status --json", &["status", "--json"][..]),
            ("audit", &["audit"][..]),
            ("estop", &["estop", "--reason", "secrets test"][..]),
            ("resume", &["resume"][..]),
        ] {
            site.run(&mut ev, label, site.command(args));
        }

        // The Miniserver forgets every token: the next command meets a 401, the link leaves
        // live and says to log in again.
        site.sim.expire_tokens();
        let r = s.call(
            "control_light",
            json!({"device": "Hall Light", "action": "on"}),
            false,
        );
        assert!(is_error(&r), "a call with a refused token: {r}");
        let down = wait_until(Duration::from_secs(15), || {
            let out = site
                .command(&["status", "--json"])
                .env("LOXWARDEN_LOG", "warn")
                .env_remove("RUST_LOG")
                .stdin(Stdio::null())
                .output()
                .unwrap();
            !String::from_utf8_lossy(&out.stdout).contains("\"live\"")
        });
        assert!(
            down.is_some(),
            "the link stayed live with a refused token: {r}\n{}",
            daemon.stderr.lock().unwrap()
        );
        site.run(&mut ev, "status after 401", site.command(&["status"]));
        s.call("get_system_status", json!({}), false);
        ev.add("daemon MCP after 401", s.seen.join(""));
    }
    ev.add("daemon stderr", daemon.finish());

    // Log out with the refused token (the Miniserver no longer knows it).
    site.run(&mut ev, "logout", site.command(&["logout"]));

    // Files that are not there to hold a secret.
    let audit = site.dir.path().join("audit.jsonl");
    let mode = std::fs::metadata(&audit).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "audit log mode {mode:o}");
    ev.add("audit log", std::fs::read_to_string(&audit).unwrap());
    for e in std::fs::read_dir(site.state_dir()).unwrap() {
        let p = e.unwrap().path();
        if p.file_name() != Some(std::ffi::OsStr::new("token.json")) {
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
            ev.add(format!("state file {}", p.display()), text);
        }
    }
    assert_private(&site.state_dir());

    let mut secrets = vec![
        ("password".to_owned(), PASSWORD.to_owned()),
        (
            "visualisation password".to_owned(),
            VISU_PASSWORD.to_owned(),
        ),
        ("wrong password".to_owned(), WRONG_PASSWORD.to_owned()),
        (
            "wrong visualisation password".to_owned(),
            WRONG_VISU_PASSWORD.to_owned(),
        ),
    ];
    let tokens = site.sim.tokens();
    assert!(!tokens.is_empty(), "the simulator issued no token");
    for t in tokens {
        secrets.push(("token".into(), t.token.clone()));
    }
    let hashes = hashes_sent(&site.sim);
    assert!(
        hashes.len() >= 3,
        "expected login, token and visualisation hashes in the command log, got {hashes:?}"
    );
    for h in hashes {
        secrets.push(("hash sent to the Miniserver".into(), h));
    }
    (ev, secrets)
}

#[test]
fn no_secret_reaches_any_output_over_plain_http_with_command_encryption() {
    let site = Site::new(false);
    let (ev, secrets) = flows(&site);
    assert!(ev.total_len() > 10_000, "the flows left too little to grep");
    assert_no_secret(&ev, &secrets);
}

#[test]
fn no_secret_reaches_any_output_over_tls_with_the_token_in_the_query() {
    let site = Site::new(true);
    let (ev, secrets) = flows(&site);
    assert!(ev.total_len() > 10_000, "the flows left too little to grep");
    assert_no_secret(&ev, &secrets);
}

#[test]
fn the_grep_finds_a_secret_in_each_encoding() {
    // The check itself must bite: a leak in any encoding is found.
    for form in encodings(PASSWORD) {
        let mut ev = Evidence::default();
        ev.add("planted", format!("log line {form} end"));
        let caught = std::panic::catch_unwind(|| {
            assert_no_secret(&ev, &[("password".into(), PASSWORD.into())]);
        });
        assert!(caught.is_err(), "{form} was not caught");
    }
}

/// `loxwarden --config PATH check-config` at `warn`: (exit code, stdout + stderr).
fn check_config(config: &Path) -> (i32, String) {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("check-config")
        .env("LOXWARDEN_LOG", "warn")
        .env_remove("LOXWARDEN_PASSWORD")
        .env_remove("LOXWARDEN_VISU_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_config_and_a_password_file_other_users_can_read_are_warned_about_at_start() {
    let dir = TempDir::new("secrets-modes");
    let pw = dir.path().join("password");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[miniserver]\nurl = \"http://127.0.0.1:9\"\nuser = \"ai\"\npassword_file = \"{}\"\nvisu_password_file = \"{}\"\n[link]\ncommand_timeout_s = 1\n[paths]\nstate_dir = \"{}\"\naudit_log = \"{}\"\nsocket = \"{}\"\n",
            pw.display(),
            pw.display(),
            dir.path().join("state").display(),
            dir.path().join("audit.jsonl").display(),
            dir.path().join("mcp.sock").display(),
        ),
    )
    .unwrap();
    chmod(&config, 0o644);
    chmod(&pw, 0o644);
    let (_, out) = check_config(&config);
    assert!(
        out.contains("config file") && out.contains("readable by every local user"),
        "{out}"
    );
    assert!(
        out.contains("miniserver.password_file") && out.contains("chmod 600"),
        "{out}"
    );
    assert!(!out.contains(PASSWORD), "{out}");

    chmod(&config, 0o600);
    chmod(&pw, 0o600);
    let (_, out) = check_config(&config);
    assert!(!out.contains("readable by every local user"), "{out}");
    assert!(!out.contains("holds a password"), "{out}");
}

#[test]
fn a_password_pasted_into_the_config_or_its_url_is_not_echoed_by_the_error() {
    let dir = TempDir::new("secrets-pasted");
    let config = dir.path().join("config.toml");
    for (text, names) in [
        (
            format!(
                "[miniserver]\nurl = \"http://192.168.1.47\"\nuser = \"ai\"\npassword = \"{PASSWORD}\"\n"
            ),
            "`password`",
        ),
        (
            format!("[miniserver]\nurl = \"http://ai:{PASSWORD}@192.168.1.47\"\nuser = \"ai\"\n"),
            "miniserver.url",
        ),
    ] {
        std::fs::write(&config, text).unwrap();
        chmod(&config, 0o600);
        let (code, out) = check_config(&config);
        assert_ne!(code, 0, "{out}");
        assert!(out.contains(names), "{out}");
        assert!(!out.contains(PASSWORD), "{out}");
    }
}
