//! `loxwarden daemon` and `loxwarden serve` through the real binary against the simulator:
//! sockets and their modes, no network listener, who may connect, sessions that die, the
//! bridge with the official Python SDK, `call`, and the systemd watchdog.

use std::collections::HashSet;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::daemon_support::{Daemon, Mcp, Site, wait_link_live};
use crate::link_support::wait_until;
use crate::require_root;
use crate::support::BIN;

/// Inodes of the sockets a process holds.
fn socket_inodes(pid: u32) -> HashSet<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect()
}

/// Inodes of listening TCP sockets and of bound UDP sockets, system-wide.
fn network_listener_inodes() -> HashSet<String> {
    let mut out = HashSet::new();
    for (file, listening) in [
        ("/proc/net/tcp", Some("0A")),
        ("/proc/net/tcp6", Some("0A")),
        ("/proc/net/udp", None),
        ("/proc/net/udp6", None),
    ] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 9 && listening.is_none_or(|st| f[3] == st) {
                out.insert(f[9].to_owned());
            }
        }
    }
    out
}

#[test]
fn the_daemon_listens_on_two_unix_sockets_and_no_network_port() {
    let site = Site::new("daemon-sockets", "");
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().mode() & 0o7777;
    assert_eq!(
        mode(&site.socket()),
        0o660,
        "MCP socket: owner and group only"
    );
    assert_eq!(
        mode(&site.control_socket()),
        0o666,
        "control socket: anyone may stop"
    );
    let ours = socket_inodes(daemon.pid());
    assert!(!ours.is_empty());
    let listeners = network_listener_inodes();
    let exposed: Vec<&String> = ours.intersection(&listeners).collect();
    assert!(
        exposed.is_empty(),
        "SC-3: the daemon holds a network listener: {exposed:?}"
    );
}

#[test]
fn two_sessions_at_once_are_served_by_the_one_daemon_and_its_one_link() {
    let site = Site::new("daemon-two", "");
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    let ws_before = site.sim.connections();
    let mut a = Mcp::connect(&site.socket());
    let mut b = Mcp::connect(&site.socket());
    assert_eq!(a.initialize()["result"]["serverInfo"]["name"], "loxwarden");
    assert_eq!(b.initialize()["result"]["serverInfo"]["name"], "loxwarden");
    // A long call in A does not hold up B.
    a.send(&json!({"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"test_sleep","arguments":{"ms":1500}}}));
    let started = Instant::now();
    let r = b.call("quick", "get_system_status", json!({}));
    assert!(r["result"].is_object(), "{r}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "B waited for A"
    );
    let status = site.cli(&["status"]);
    assert!(
        status.stdout.contains("sessions: 2"),
        "{}",
        status.context()
    );
    let r = a.recv().unwrap();
    assert_eq!(r["id"], "slow", "{r}");
    // Two sessions, still one Miniserver connection set: no new link per session.
    assert!(
        site.sim.connections() <= ws_before,
        "a session opened its own link"
    );
}

#[test]
fn a_session_killed_mid_call_leaves_the_daemon_healthy() {
    let site = Site::new("daemon-kill", "");
    let mut daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    // A `serve` bridge (what SSH runs) killed while its call runs in the daemon.
    let mut serve = site
        .command(&["serve"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = serve.stdin.take().unwrap();
    for m in [
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"doomed","version":"1"}}}),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"test_sleep","arguments":{"ms":20000}}}),
    ] {
        stdin.write_all(format!("{m}\n").as_bytes()).unwrap();
    }
    stdin.flush().unwrap();
    let running = wait_until(Duration::from_secs(10), || {
        site.cli(&["status"]).stdout.contains("sessions: 1")
    });
    assert!(running.is_some(), "{}", daemon.log());
    std::thread::sleep(Duration::from_millis(200));
    serve.kill().unwrap();
    serve.wait().unwrap();
    // A raw client that vanishes mid-call too.
    let mut raw = Mcp::connect(&site.socket());
    raw.initialize();
    raw.send(&json!({"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"test_sleep","arguments":{"ms":20000}}}));
    drop(raw);
    // The daemon lives on, forgets both sessions, and serves the next one at once.
    let gone = wait_until(Duration::from_secs(10), || {
        site.cli(&["status"]).stdout.contains("sessions: 0")
    });
    assert!(gone.is_some(), "{}", daemon.log());
    assert!(daemon.alive(), "{}", daemon.log());
    let mut next = Mcp::connect(&site.socket());
    next.initialize();
    let r = next.call("s", "get_system_status", json!({}));
    assert_eq!(r["result"]["isError"], false, "{r}");
    let estop = site.cli(&["estop"]);
    assert_eq!(estop.code, 0, "{}", estop.context());
}

#[test]
fn an_unauthorised_user_is_refused_by_the_socket_mode_and_by_the_daemon() {
    require_root!();
    let site = Site::new("daemon-access", "");
    let daemon = Daemon::start(&site);
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"intruder","version":"1"}}}"#;
    let serve_as = |uid: u32, gid: u32| {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={uid}"))
            .arg(format!("--regid={gid}"))
            .arg("--clear-groups")
            .arg(BIN)
            .arg("--config")
            .arg(&site.config)
            .arg("serve")
            .env("LOXWARDEN_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(format!("{init}\n").as_bytes());
        drop(stdin);
        child.wait_with_output().unwrap()
    };
    // 1. The kernel: mode 0660 keeps out a user outside the socket's group.
    let out = serve_as(65534, 65534);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("permission denied") && stderr.contains("group loxwarden"),
        "{stderr}"
    );
    // 2. The daemon: with the socket's group as its gid the kernel lets it connect, but nobody
    //    is not a member of that group in the user database, so the daemon refuses and says so.
    let group = std::fs::metadata(site.socket()).unwrap().gid();
    let out = serve_as(65534, group);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let reply: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    let msg = reply["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("uid 65534 (nobody) may not use the loxwarden socket"),
        "{reply}"
    );
    assert!(!stdout.contains("serverInfo"), "no session was served");
    // The daemon's stderr is collected by a reader thread: give it time on a loaded machine.
    let logged = wait_until(Duration::from_secs(5), || {
        daemon.log().contains("MCP connection refused")
    });
    assert!(logged.is_some(), "{}", daemon.log());
    // Root still gets in.
    let mut ok = Mcp::connect(&site.socket());
    assert_eq!(ok.initialize()["result"]["serverInfo"]["name"], "loxwarden");
}

#[test]
fn serve_without_a_daemon_says_how_to_start_one_and_fails() {
    let site = Site::new("daemon-none", "");
    let run = site.cli(&["serve"]);
    assert_eq!(run.code, 1, "{}", run.context());
    assert!(run.stdout.is_empty(), "{}", run.context());
    for hint in [
        "no loxwarden daemon is running",
        "systemctl start loxwarden",
        "loxwarden daemon",
        "serve --standalone",
    ] {
        assert!(
            run.stderr.contains(hint),
            "missing {hint:?}\n{}",
            run.context()
        );
    }
}

#[test]
fn call_runs_one_tool_through_the_daemon_and_exits_by_is_error() {
    let site = Site::new("daemon-call", "");
    let daemon = Daemon::start(&site);
    let run = site.cli(&["call", "get_system_status"]);
    assert_eq!(run.code, 0, "{}", run.context());
    assert!(run.stdout.contains("\"server\""), "{}", run.context());
    let run = site.cli(&["call", "test_sleep", r#"{"ms":"soon"}"#]);
    assert_eq!(run.code, 1, "isError → exit 1\n{}", run.context());
    let run = site.cli(&["call", "no_such_tool"]);
    assert_eq!(run.code, 1, "{}", run.context());
    let run = site.cli(&["call", "get_system_status", "[1]"]);
    assert_eq!(run.code, 2, "{}", run.context());
    let run = site.cli(&["call", "--standalone", "get_system_status"]);
    assert_eq!(run.code, 0, "{}", run.context());
    drop(daemon);
}

#[test]
fn the_watchdog_is_fed_only_while_the_link_is_alive() {
    let site = Site::new("daemon-watchdog", "");
    let notify_path = site.dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let path = notify_path.to_string_lossy().into_owned();
    let daemon = Daemon::start_with(
        &site,
        &[],
        &[("NOTIFY_SOCKET", &path), ("WATCHDOG_USEC", "300000")],
    );
    // Collects datagrams for `d`.
    let collect = |d: Duration| {
        let until = Instant::now() + d;
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while Instant::now() < until {
            if let Ok(n) = notify.recv(&mut buf) {
                got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        got
    };
    let first = collect(Duration::from_millis(300));
    assert!(
        first.iter().any(|m| m.contains("READY=1")),
        "{first:?}\n{}",
        daemon.log()
    );
    wait_link_live(&site, &daemon);
    let fed = collect(Duration::from_millis(600));
    assert!(fed.iter().any(|m| m.contains("WATCHDOG=1")), "{fed:?}");
    // The Miniserver stops answering: once the link is not alive, the watchdog starves.
    site.sim.hang(true);
    let down = wait_until(Duration::from_secs(15), || {
        !site.cli(&["status", "--json"]).stdout.contains("\"live\"")
    });
    assert!(down.is_some(), "{}", daemon.log());
    collect(Duration::from_millis(200));
    let starved = collect(Duration::from_millis(1200));
    assert!(
        !starved.iter().any(|m| m.contains("WATCHDOG=1")),
        "fed while the link is dead: {starved:?}"
    );
    // Back: fed again.
    site.sim.hang(false);
    let back = wait_until(Duration::from_secs(20), || {
        collect(Duration::from_millis(200))
            .iter()
            .any(|m| m.contains("WATCHDOG=1"))
    });
    assert!(back.is_some(), "{}", daemon.log());
}

#[test]
fn the_python_sdk_passes_its_checks_through_serve_and_the_daemon() {
    let site = Site::new("daemon-probe", "");
    // One tool per page, so the client follows cursors through the bridge.
    let daemon = Daemon::start_with(&site, &["--test-page-size", "1"], &[]);
    let config = site.config.to_string_lossy().into_owned();
    let server = ["--config", config.as_str(), "serve"];
    for mode in ["legacy", "auto"] {
        let run = crate::probe::probe_with(&["--checks", "--mode", mode], &server);
        run.assert_checks_pass();
        eprintln!(
            "probe --checks --mode {mode} through serve → daemon: {:?}",
            run.took
        );
    }
    // Consent through the bridge: the elicitation round trip crosses both copies.
    let run = crate::probe::probe_with(
        &["--call", "test_confirm={}", "--elicit", "accept"],
        &server,
    );
    assert!(run.ok, "{}", run.context());
    assert_eq!(run.outcome(), "accepted");
    assert!(daemon.logged("MCP session from uid"), "{}", daemon.log());
}

#[test]
fn the_unit_lets_anyone_reach_the_control_socket_but_nobody_list_the_runtime_directory() {
    let unit = include_str!("../../systemd/loxwarden.service");
    let mode = unit
        .lines()
        .find_map(|l| l.trim().strip_prefix("RuntimeDirectoryMode="))
        .expect("RuntimeDirectoryMode=");
    let mode = u32::from_str_radix(mode, 8).unwrap();
    assert_eq!(
        mode & 0o007,
        0o001,
        "others: search (x) only, to reach control.sock"
    );
    assert_eq!(mode & 0o070, 0o050, "group loxwarden: list and search");
}

#[test]
fn a_blind_command_in_one_session_rate_limits_the_same_blind_in_another() {
    let site = Site::new("daemon-shared-limits", "");
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    let mut a = Mcp::connect(&site.socket());
    let mut b = Mcp::connect(&site.socket());
    a.initialize();
    b.initialize();
    let blind = json!({"device": "Kitchen/Kitchen Blind", "action": "down"});
    let mark = site.sim.log_mark();
    let (err, text) = Mcp::outcome(&a.call("a1", "control_blind", blind.clone()));
    assert!(!err, "session A may move the blind: {text}");
    // Session B, a moment later, on the same blind: one set of limits for every session.
    let (err, text) = Mcp::outcome(&b.call("b1", "control_blind", blind));
    assert!(err, "session B was not rate-limited: {text}");
    assert!(text.contains("R-13"), "{text}");
    let downs = site.ops_since(mark, "FullDown").len() + site.ops_since(mark, "down").len();
    assert_eq!(downs, 1, "exactly one command reached the Miniserver");
    // Both sessions' records carry the peer's uid from SO_PEERCRED.
    let audit = std::fs::read_to_string(&site.cfg.paths.audit_log).unwrap();
    let uid = std::fs::metadata("/proc/self").unwrap().uid();
    let records: Vec<serde_json::Value> = audit
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|r: &serde_json::Value| r["tool"] == "control_blind")
        .collect();
    assert_eq!(records.len(), 2, "{audit}");
    for r in &records {
        assert_eq!(r["peer_uid"], json!(uid), "{r}");
    }
    assert_ne!(records[0]["session"], records[1]["session"]);
}

#[test]
fn a_read_only_profile_may_read_and_stop_but_not_actuate() {
    // This test's own user gets the read-only profile.
    let me = std::fs::metadata("/proc/self").unwrap().uid();
    let Some(name) = loxwarden::daemon::peer::Users::load()
        .name(me)
        .map(str::to_owned)
    else {
        eprintln!("SKIPPED: uid {me} has no name in /etc/passwd");
        return;
    };
    let site = Site::new(
        "daemon-readonly",
        &format!("\n[[profiles]]\nuser = \"{name}\"\nread_only = true\n"),
    );
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    let mut s = Mcp::connect(&site.socket());
    s.initialize();
    let mark = site.sim.log_mark();
    let (err, text) = Mcp::outcome(&s.call(
        "1",
        "control_light",
        json!({"device": "Kitchen/Kitchen Ceiling", "action": "on"}),
    ));
    assert!(err, "{text}");
    assert!(text.contains("read-only"), "{text}");
    assert!(site.sim.commands_since(mark).iter().all(|e| !e.device));
    let (err, text) = Mcp::outcome(&s.call("2", "list_devices", json!({})));
    assert!(!err, "{text}");
    let status = site.cli(&["status"]);
    assert!(status.stdout.contains("read-only"), "{}", status.context());
    // Stopping is never refused, not even to a read-only session.
    let (err, text) = Mcp::outcome(&s.call("3", "emergency_stop", json!({"reason": "ro"})));
    assert!(!err, "{text}");
    assert!(site.latch_file().exists());
}
