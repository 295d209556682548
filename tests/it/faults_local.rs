//! The fault matrix's local rows (see `faults.rs`): the audit disk, the state directory, the
//! daemon process and the client, each failing under a running gateway.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::daemon_support::{Daemon, Mcp, Site, wait_link_live};
use crate::faults::{assert_audit_complete, assert_honest, call, fast_rig};
use crate::link_support::wait_until;
use crate::raw_session::RawSession;
use crate::tools_support::text;

#[test]
fn a_full_audit_disk_refuses_actuation_sends_nothing_and_recovers() {
    let rig = fast_rig();
    let path = rig.cfg.paths.audit_log.clone();
    let saved = path.with_extension("saved");
    std::fs::rename(&path, &saved).unwrap();
    std::os::unix::fs::symlink("/dev/full", &path).unwrap();
    let (r, got) = call(
        &rig,
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    assert_eq!(r["isError"], true, "{r}");
    assert!(text(&r).contains("R-14"), "{}", text(&r));
    assert!(got.is_empty(), "sent without an audit record: {got:?}");
    assert_eq!(rig.num(&rig.addr("Hall Light"), "active"), 0.0);
    // Reads still answer, so a person can see what is wrong.
    assert_eq!(rig.call("get_system_status", json!({}))["isError"], false);
    // Space returns: the next call goes through and is audited.
    std::fs::remove_file(&path).unwrap();
    std::fs::rename(&saved, &path).unwrap();
    // At once: the refused call gave its rate mark back (UCA-L1 would want 1 s otherwise).
    let (ok, got) = call(
        &rig,
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    assert_eq!(ok["structuredContent"]["done"], true, "{ok}");
    assert_eq!(got.len(), 1);
    assert_audit_complete(&rig, &[&ok]);
}

#[test]
fn an_unwritable_state_directory_still_stops_the_house_and_latches_in_memory() {
    let rig = fast_rig();
    let state = rig.cfg.paths.state_dir.clone();
    let saved = state.with_extension("saved");
    std::fs::rename(&state, &saved).unwrap();
    // Nothing can be created under /proc, not even by root.
    std::os::unix::fs::symlink("/proc/self/fdinfo", &state).unwrap();
    let mark = rig.sim.log_mark();
    let r = rig.call("emergency_stop", json!({"reason": "fault matrix"}));
    let got = rig.received(mark);
    assert_honest(&r, &got);
    let sc = &r["structuredContent"];
    assert_eq!(sc["done"], true, "every motor and zone was stopped: {r}");
    assert!(
        !got.is_empty() && got.iter().all(|e| e.code == 200),
        "{got:?}"
    );
    assert!(
        r.to_string().contains("latch could not be saved"),
        "the person is told the stop will not survive a restart: {r}"
    );
    // Latched in memory: every other command is refused, nothing sent.
    let (refused, got) = call(
        &rig,
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    assert_eq!(refused["isError"], true, "{refused}");
    assert!(got.is_empty());
    assert!(rig.gw.latch().current().is_some(), "latched in memory");
    std::fs::remove_file(&state).unwrap();
    std::fs::rename(&saved, &state).unwrap();
    // Still latched after the directory is back (only `loxwarden resume` lifts it).
    let (still, got) = call(
        &rig,
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    assert_eq!(still["isError"], true, "{still}");
    assert!(got.is_empty());
    assert_audit_complete(&rig, &[&r, &refused, &still]);
}

fn volume_steps(site: &Site, mark: u64) -> usize {
    let zone = site.addr("Living Room Music").to_string();
    site.sim
        .commands_since(mark)
        .iter()
        .filter(|e| e.device && e.control.as_deref() == Some(&zone))
        .count()
}

/// A daemon with an MCP session whose volume ramp (0 → 60 %, six steps) has sent two steps:
/// the site, the daemon, the session (the ramp's id is "ramp") and the log mark before it.
fn mid_ramp(tag: &str) -> (Site, Daemon, Mcp, u64) {
    let site = Site::new(tag, "");
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    let mut m = Mcp::connect(&site.socket());
    m.initialize();
    let volume = |v: u32| json!({"device": "Living Room Music", "action": "volume", "volume": v});
    let r = m.call("zero", "control_audio", volume(0));
    assert_eq!(r["result"]["structuredContent"]["done"], true, "{r}");
    let mark = site.sim.log_mark();
    m.send(&json!({"jsonrpc":"2.0","id":"ramp","method":"tools/call",
        "params":{"name":"control_audio","arguments":volume(60)}}));
    let two = wait_until(Duration::from_secs(10), || volume_steps(&site, mark) >= 2);
    assert!(two.is_some(), "the ramp never started\n{}", daemon.log());
    (site, daemon, m, mark)
}

/// The last `control_audio` decision: the ramp's.
fn ramp_decision(records: &[Value]) -> &Value {
    records
        .iter()
        .rev()
        .find(|r| r["record"] == "decided" && r["tool"] == "control_audio")
        .expect("the ramp's decision is in the audit log")
}

fn audit_records(site: &Site) -> Vec<Value> {
    std::fs::read_to_string(&site.cfg.paths.audit_log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_daemon_stopped_mid_ramp_halts_before_the_next_step_records_the_outcome_and_exits() {
    let (site, mut daemon, mut m, mark) = mid_ramp("fault-term");
    // What `systemctl stop` sends. The daemon exits by itself, well inside TimeoutStopSec.
    let termed = Instant::now();
    daemon.signal("TERM");
    let code = daemon.wait_exit(Duration::from_secs(12));
    assert_eq!(code, Some(Some(0)), "{}", daemon.log());
    eprintln!(
        "fault daemon stopped: exited {:?} after SIGTERM",
        termed.elapsed()
    );
    let sent = volume_steps(&site, mark);
    assert!(
        (2..6).contains(&sent),
        "{sent} of 6 steps\n{}",
        daemon.log()
    );
    assert!(daemon.logged("SIGTERM: stopping"), "{}", daemon.log());
    // A clean stop leaves no socket behind.
    for socket in [site.socket(), site.control_socket()] {
        assert!(!socket.exists(), "{} is still there", socket.display());
    }
    assert!(
        daemon.logged("stopped: every call that was under way has its record"),
        "{}",
        daemon.log()
    );
    // The client may get the result before the socket closes; if it does, it is no success.
    while let Some(msg) = m.recv() {
        if msg["id"] == "ramp" {
            assert_eq!(msg["result"]["structuredContent"]["done"], false, "{msg}");
        }
    }
    // The outcome is the Miniserver's real answers, and says which steps were not sent.
    let records = audit_records(&site);
    let decided = ramp_decision(&records);
    let outcome = records
        .iter()
        .find(|r| r["record"] == "outcome" && r["audit_id"] == decided["audit_id"])
        .unwrap_or_else(|| panic!("no outcome for the ramp\n{records:?}"));
    assert_eq!(outcome["ok"], false, "{outcome}");
    assert!(
        outcome.get("interrupted").is_none_or(|i| i == false),
        "{outcome}"
    );
    let steps = outcome["results"].as_array().unwrap();
    assert_eq!(steps.len(), 6, "{outcome}");
    assert_eq!(
        steps.iter().filter(|s| s["code"] == 200).count(),
        sent,
        "{outcome}"
    );
    assert!(
        steps[sent..]
            .iter()
            .all(|s| s["error"] == loxwarden::daemon::shutdown::NOT_SENT),
        "{outcome}"
    );
    // Nothing is left for the next start to close as "not known".
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    assert!(
        !daemon.log().contains("were interrupted"),
        "{}",
        daemon.log()
    );
}

/// A daemon that has taken a SIGTERM and cannot finish soon: an emergency stop is under way
/// while the Miniserver holds every reply (each waits out an 8 s command timeout, a wide window).
fn stopping_with_a_held_stop(tag: &str) -> (Site, Daemon, std::process::Child) {
    let site = Site::new(tag, "");
    let text = std::fs::read_to_string(&site.config).unwrap();
    assert!(text.contains("command_timeout_s = 2\n"), "{text}");
    std::fs::write(
        &site.config,
        text.replace("command_timeout_s = 2\n", "command_timeout_s = 8\n"),
    )
    .unwrap();
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    site.sim.hang(true);
    let estop = site
        .command(&["estop", "--reason", "held stop"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(daemon.logged("EMERGENCY STOP by"), "{}", daemon.log());
    daemon.signal("TERM");
    assert!(daemon.logged("SIGTERM: stopping"), "{}", daemon.log());
    (site, daemon, estop)
}

#[test]
fn a_second_signal_ends_a_stopping_daemon_at_once() {
    let (site, mut daemon, mut estop) = stopping_with_a_held_stop("fault-term-twice");
    daemon.signal("TERM");
    let code = daemon.wait_exit(Duration::from_secs(5));
    assert_eq!(code, Some(Some(1)), "{}", daemon.log());
    for socket in [site.socket(), site.control_socket()] {
        assert!(!socket.exists(), "{} is still there", socket.display());
    }
    assert!(
        daemon.logged("SIGTERM again: exiting now"),
        "{}",
        daemon.log()
    );
    site.sim.hang(false);
    let _ = estop.kill();
    let _ = estop.wait();
}

#[test]
fn a_stopping_daemon_turns_a_new_session_away_and_says_why() {
    let (site, mut daemon, mut estop) = stopping_with_a_held_stop("fault-term-session");
    // A client that connects now gets one error line naming the stop, then the end of the
    // connection: no session, no tools, nothing it could believe was done.
    let mut late = Mcp::connect(&site.socket());
    let reply = late.recv().expect("one line before the socket closes");
    let msg = reply["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("the daemon is stopping") && msg.contains("connect again"),
        "{reply}"
    );
    assert!(late.recv().is_none(), "the connection stays open");
    assert!(
        daemon.logged("turned away: the daemon is stopping"),
        "{}",
        daemon.log()
    );
    // The stop still ends by itself once the held emergency stop has its answer.
    site.sim.hang(false);
    let code = daemon.wait_exit(Duration::from_secs(15));
    assert_eq!(code, Some(Some(0)), "{}", daemon.log());
    let _ = estop.kill();
    let _ = estop.wait();
}

#[test]
fn a_daemon_killed_mid_ramp_leaves_its_decision_on_disk_and_once_restarted_records_the_outcome_as_not_known()
 {
    let (site, daemon, mut m, mark) = mid_ramp("fault-kill");
    daemon.kill();
    let at_kill = volume_steps(&site, mark);
    // The client sees the connection end: no result at all, certainly no success.
    while let Some(msg) = m.recv() {
        assert_ne!(msg["id"], "ramp", "an answer from a killed daemon: {msg}");
    }
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        volume_steps(&site, mark),
        at_kill,
        "steps went on after the kill"
    );
    // The decision was on disk before the first step: tool, device, the whole plan.
    let records = audit_records(&site);
    let decided = ramp_decision(&records);
    assert_eq!(decided["verdict"], "allow");
    let plan = decided["plan"].as_array().unwrap().len();
    assert!(at_kill >= 2 && at_kill <= plan, "{at_kill} of {plan}");
    assert!(
        !records
            .iter()
            .any(|r| r["record"] == "outcome" && r["audit_id"] == decided["audit_id"]),
        "an outcome the killed daemon cannot have known"
    );
    // systemd restarts it (`Restart=`); here: by hand. It serves again within the bound.
    let restarted = Instant::now();
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    let took = restarted.elapsed();
    assert!(took < Duration::from_secs(15), "{took:?}");
    eprintln!("fault daemon killed: serving again {took:?} after the restart");
    // The restarted daemon closed the interrupted call: an outcome that says the answer is not
    // known for every step of the plan, and not a success.
    let closed: Vec<Value> = audit_records(&site)
        .into_iter()
        .filter(|r| r["record"] == "outcome" && r["audit_id"] == decided["audit_id"])
        .collect();
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(closed[0]["ok"], false);
    let steps = closed[0]["results"].as_array().unwrap();
    assert_eq!(steps.len(), plan);
    for s in steps {
        assert!(s.get("code").is_none(), "{s}");
        assert_eq!(s["error"], loxwarden::audit::NOT_KNOWN);
    }
    let mut m = Mcp::connect(&site.socket());
    m.initialize();
    let r = m.call(
        "after",
        "control_light",
        json!({"device": "Hall Light", "action": "on"}),
    );
    assert_eq!(r["result"]["structuredContent"]["done"], true, "{r}");
}

#[test]
fn a_call_killed_mid_ramp_behind_megabytes_of_refusals_is_still_closed_at_the_next_start() {
    // Issue 19 item 10: the restart used to read only the last 1 MiB of the log.
    let (site, daemon, mut m, _) = mid_ramp("fault-deep");
    daemon.kill();
    while m.recv().is_some() {}
    let decided = ramp_decision(&audit_records(&site)).clone();
    // 4 MiB of refused calls after the open decision (what one session wrote in 6 s).
    let log = loxwarden::audit::AuditLog::open_unjournaled(&site.cfg.paths.audit_log).unwrap();
    let refusal: loxwarden::audit::Record = serde_json::from_value(json!({
        "record": "decided", "time": "2026-12-07T00:00:00.000Z", "audit_id": "flood-1",
        "session": 9, "client": "flood", "tool": "control_light",
        "intent": {"tool": "control_light", "arguments": "x".repeat(4000)},
        "verdict": "refuse", "rule": "SC-10", "reason": "no such device"
    }))
    .unwrap();
    while std::fs::metadata(&site.cfg.paths.audit_log).unwrap().len() < 4 << 20 {
        log.write(&refusal).unwrap();
    }
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    let closed: Vec<Value> = audit_records(&site)
        .into_iter()
        .filter(|r| r["record"] == "outcome" && r["audit_id"] == decided["audit_id"])
        .collect();
    assert_eq!(closed.len(), 1, "{closed:?}\n{}", daemon.log());
    assert_eq!(closed[0]["ok"], false);
    assert_eq!(closed[0]["interrupted"], true);
    assert_eq!(
        closed[0]["results"].as_array().unwrap().len(),
        decided["plan"].as_array().unwrap().len()
    );
}

#[test]
fn a_client_gone_mid_consent_sends_nothing_and_the_call_is_audited() {
    let rig = fast_rig();
    let mut s = RawSession::handshake(&rig.server);
    s.silent = true;
    let mark = rig.sim.log_mark();
    s.send_value(&json!({"jsonrpc":"2.0","id":"open","method":"tools/call",
        "params":{"name":"control_access","arguments":{"device":"Garage Door","action":"open"}}}));
    assert!(
        s.wait_question(Duration::from_secs(10)),
        "no consent question"
    );
    let gone = Instant::now();
    s.close();
    // Past the consent timeout (3 s) nothing has gone out, and the call left its record.
    std::thread::sleep(Duration::from_secs(4).saturating_sub(gone.elapsed()));
    assert!(rig.received(mark).is_empty(), "sent without consent");
    let records = rig.audit();
    let d = records
        .iter()
        .rev()
        .find(|r| r["record"] == "decided" && r["tool"] == "control_access")
        .expect("the call is audited");
    assert_ne!(d["verdict"], "allow", "{d}");
    let outcome = d["consent"]["outcome"].as_str().unwrap_or_default();
    assert!(
        !outcome.is_empty() && outcome != "accepted",
        "the consent record says how it ended: {d}"
    );
    assert_audit_complete(&rig, &[]);
    // The gateway serves the next session at once.
    assert_eq!(rig.call("get_system_status", json!({}))["isError"], false);
}
