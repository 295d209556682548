//! `serve --standalone` stops like the daemon (issue 19 item 9; R-14): when stdin closes or a
//! SIGTERM arrives while a command is being sent, the process waits (bounded) for the
//! Miniserver's answer and records it, so the audit log never holds a decision the Miniserver
//! executed without its outcome. Evidence: the simulator's command log and the audit log.

use std::time::Duration;

use serde_json::{Value, json};

use crate::link_support::{self, TempDir, wait_until};
use crate::support::Served;

struct Site {
    sim: loxwarden::sim::Sim,
    _dir: TempDir,
    config: String,
    audit_log: std::path::PathBuf,
}

fn site(tag: &str) -> Site {
    let sim = link_support::sim_with(|_| {});
    let dir = TempDir::new(tag);
    let text = loxwarden::demo::config_text(&sim.url(), sim.user(), dir.path());
    let path = dir.path().join("config.toml");
    std::fs::write(&path, &text).unwrap();
    let cfg = loxwarden::config::Config::parse(&text).unwrap();
    link_support::login_ok(&sim, &cfg);
    Site {
        sim,
        _dir: dir,
        config: path.display().to_string(),
        audit_log: cfg.paths.audit_log.clone(),
    }
}

/// A `serve --standalone` whose link is live, with a `control_light` call sent to a Miniserver
/// that takes 1.5 s to answer, and the command on its way. Returns the server.
fn sending(s: &Site) -> Served {
    let mut srv = Served::start(&["--config", &s.config, "serve", "--standalone"]);
    srv.initialize(json!({}));
    let live = wait_until(Duration::from_secs(15), || {
        let r = srv.request(&json!({"jsonrpc": "2.0", "id": "s", "method": "tools/call",
            "params": {"name": "get_system_status", "arguments": {}}}));
        r["result"]["structuredContent"]["link"]["state"] == "live"
    });
    assert!(live.is_some(), "the link never came up\n{}", srv.stderr());
    s.sim.delay_replies(Duration::from_millis(1500));
    let mark = s.sim.log_mark();
    srv.send(&json!({"jsonrpc": "2.0", "id": "light", "method": "tools/call",
        "params": {"name": "control_light", "arguments": {"device": "Hall Light", "action": "on"}}}));
    let arrived = wait_until(Duration::from_secs(10), || {
        s.sim.commands_since(mark).iter().any(|e| e.device)
    });
    assert!(
        arrived.is_some(),
        "the command never reached the Miniserver\n{}",
        srv.stderr()
    );
    srv
}

/// The `control_light` decision has exactly one outcome, and it is the Miniserver's answer.
fn assert_outcome_recorded(s: &Site, srv: &Served) {
    let records: Vec<Value> = std::fs::read_to_string(&s.audit_log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let decided = records
        .iter()
        .find(|r| r["record"] == "decided" && r["tool"] == "control_light")
        .expect("the decision is in the log");
    let outcomes: Vec<&Value> = records
        .iter()
        .filter(|r| r["record"] == "outcome" && r["audit_id"] == decided["audit_id"])
        .collect();
    assert_eq!(outcomes.len(), 1, "{records:#?}\n{}", srv.stderr());
    assert_eq!(outcomes[0]["results"][0]["code"], 200, "{}", outcomes[0]);
    assert_eq!(outcomes[0]["ok"], true, "{}", outcomes[0]);
}

#[test]
fn serve_standalone_records_the_answer_of_a_command_in_flight_when_stdin_closes() {
    let s = site("drain-eof");
    let mut srv = sending(&s);
    let (status, took) = srv.close(Duration::from_secs(12));
    assert!(status.success(), "{status:?}\n{}", srv.stderr());
    assert!(
        took >= Duration::from_millis(500),
        "exited at once: {took:?}"
    );
    assert_outcome_recorded(&s, &srv);
}

#[test]
fn serve_standalone_records_the_answer_of_a_command_in_flight_on_sigterm() {
    let s = site("drain-term");
    let mut srv = sending(&s);
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &srv.pid().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let (status, _) = srv.wait_exit(Duration::from_secs(12));
    assert!(status.success(), "{status:?}\n{}", srv.stderr());
    assert_outcome_recorded(&s, &srv);
}
