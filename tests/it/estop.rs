//! `loxwarden estop`, `resume` and `status` through the real binary against the simulator:
//! the stop reaches every motor and audio zone whether the daemon is alive, hung (SIGSTOP) or
//! absent, the latch is a file that outlives the daemon, and only the right users resume.

use std::time::Duration;

use serde_json::json;

use crate::daemon_support::{Daemon, Mcp, Ran, Site, wait_link_live};
use crate::link_support::wait_until;
use crate::require_root;

/// Every motor got `stop` and every zone a pause after `mark`; the CLI listed each one OK.
fn assert_house_stopped(site: &Site, mark: u64, run: &Ran) {
    let (motors, zones) = site.motors_and_zones();
    assert!(
        !motors.is_empty() && !zones.is_empty(),
        "the demo house has motors and zones"
    );
    let stopped = site.ops_since(mark, "stop");
    for m in &motors {
        assert!(
            stopped.contains(m),
            "{m} was not stopped\n{}",
            run.context()
        );
    }
    let paused: Vec<String> = ["pause", "Pause"]
        .iter()
        .flat_map(|op| site.ops_since(mark, op))
        .collect();
    for z in &zones {
        assert!(paused.contains(z), "{z} was not paused\n{}", run.context());
    }
    // Heat and water too (issue 22): every sauna off, every irrigation block stopped.
    let (saunas, irrigation) = site.saunas_and_irrigation();
    let off = site.ops_since(mark, "off");
    for s in &saunas {
        assert!(off.contains(s), "{s} was not turned off\n{}", run.context());
    }
    for i in &irrigation {
        assert!(
            stopped.contains(i),
            "{i} was not stopped\n{}",
            run.context()
        );
    }
    let n = motors.len() + zones.len() + saunas.len() + irrigation.len();
    assert!(
        run.stdout
            .contains(&format!("{n} device(s): {n} stopped or paused, 0 failed")),
        "{}",
        run.context()
    );
    assert!(!run.stdout.contains("FAIL"), "{}", run.context());
}

fn latched_reason(site: &Site) -> String {
    let text =
        std::fs::read_to_string(site.latch_file()).unwrap_or_else(|e| panic!("no latch file: {e}"));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["reason"].as_str().unwrap().to_owned()
}

#[test]
fn estop_with_the_daemon_alive_latches_at_once_and_stops_every_motor_and_zone() {
    // Real time: a blind takes 60 s, so it is still moving when the stop comes.
    let site = Site::with_time_scale("estop-alive", "", 1.0);
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    let mut ai = Mcp::connect(&site.socket());
    ai.initialize();
    let (err, text) = Mcp::outcome(&ai.call(
        "1",
        "control_blind",
        json!({"device": "Kitchen/Kitchen Blind", "action": "down"}),
    ));
    assert!(!err, "{text}");
    let moving = wait_until(Duration::from_secs(5), || {
        site.state("Kitchen Blind", "down") == 1.0
    });
    assert!(moving.is_some(), "the simulated blind never started moving");
    let mark = site.sim.log_mark();
    let run = site.cli(&["estop", "--reason", "kids in the garage"]);
    assert_eq!(run.code, 0, "{}", run.context());
    assert!(run.stdout.contains("LATCHED"), "{}", run.context());
    assert!(
        !run.stdout.contains("directly"),
        "the daemon answered, no fallback\n{}",
        run.context()
    );
    assert_house_stopped(&site, mark, &run);
    assert_eq!(latched_reason(&site), "kids in the garage");
    // The simulated blind stands still where it was stopped, short of closed.
    assert_eq!(site.state("Kitchen Blind", "down"), 0.0);
    let at = site.state("Kitchen Blind", "position");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(site.state("Kitchen Blind", "position"), at);
    assert!(at < 1.0, "{at}");
    // While latched, the AI's next move is refused and nothing reaches the Miniserver.
    let mark = site.sim.log_mark();
    let (err, text) = Mcp::outcome(&ai.call(
        "2",
        "control_blind",
        json!({"device": "Kitchen/Kitchen Blind", "action": "up"}),
    ));
    assert!(err && text.contains("R-11"), "{text}");
    assert!(site.sim.commands_since(mark).iter().all(|e| !e.device));
    eprintln!(
        "estop through the daemon: {:?} from start to exit",
        run.took
    );
    let status = site.cli(&["status"]);
    assert_eq!(status.code, 0, "{}", status.context());
    assert!(
        status.stdout.contains("LATCHED") && status.stdout.contains("kids in the garage"),
        "{}",
        status.context()
    );
    assert!(
        daemon.logged("EMERGENCY STOP requested by uid 0"),
        "{}",
        daemon.log()
    );
}

#[test]
fn estop_with_the_daemon_hung_falls_back_within_about_a_second_and_stops_the_house() {
    let site = Site::new("estop-hung", "");
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    daemon.signal("STOP");
    let mark = site.sim.log_mark();
    let run = site.cli(&["estop", "--reason", "daemon frozen"]);
    assert_eq!(run.code, 0, "{}", run.context());
    assert!(
        run.stdout.contains("did not answer within 1000 ms")
            && run.stdout.contains("Stopping the house directly"),
        "{}",
        run.context()
    );
    assert_house_stopped(&site, mark, &run);
    assert_eq!(latched_reason(&site), "daemon frozen");
    // Generous bound: 1 s of waiting plus the stops; a hung daemon must not hold it up longer.
    assert!(run.took < Duration::from_secs(10), "{}", run.context());
    eprintln!("estop with a hung daemon: {:?}", run.took);
    // Woken up, the daemon sees the latch the CLI wrote.
    daemon.signal("CONT");
    let status = site.cli(&["status"]);
    assert!(
        status.stdout.contains("daemon frozen"),
        "{}",
        status.context()
    );
}

#[test]
fn estop_with_no_daemon_uses_the_stored_token_and_writes_the_latch() {
    let site = Site::new("estop-absent", "");
    // A daemon ran (it cached the structure) and died: its socket file is stale.
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    daemon.kill();
    assert!(site.socket().exists(), "the stale socket stays behind");
    let mark = site.sim.log_mark();
    let run = site.cli(&["estop"]);
    assert_eq!(run.code, 0, "{}", run.context());
    assert!(
        run.stdout.contains("no daemon at") && run.stdout.contains("Stopping the house directly"),
        "{}",
        run.context()
    );
    assert_house_stopped(&site, mark, &run);
    assert!(site.latch_file().exists());
    let status = site.cli(&["status"]);
    assert_eq!(status.code, 3, "{}", status.context());
    assert!(
        status.stdout.contains("not running") && status.stdout.contains("LATCHED"),
        "{}",
        status.context()
    );
    // Without a daemon, resume removes the file (root may).
    let r = site.cli(&["resume"]);
    assert_eq!(r.code, 0, "{}", r.context());
    assert!(
        r.stdout.contains("removed the latch file"),
        "{}",
        r.context()
    );
    assert!(!site.latch_file().exists());
}

#[test]
fn estop_with_no_daemon_ever_started_downloads_the_structure_to_stop() {
    let site = Site::new("estop-nocache", "");
    let mark = site.sim.log_mark();
    let run = site.cli(&["estop", "--reason", "first day"]);
    assert_eq!(run.code, 0, "{}", run.context());
    assert_house_stopped(&site, mark, &run);
    assert_eq!(latched_reason(&site), "first day");
}

#[test]
fn estop_right_after_the_daemon_started_stops_the_house_even_before_it_knows_the_devices() {
    let site = Site::new("estop-early", "");
    let mark = site.sim.log_mark();
    // No structure cache yet: the daemon may not know the house when the stop arrives. Either
    // it stops the house, or it says it could not and the CLI stops it directly.
    let daemon = Daemon::start(&site);
    let run = site.cli(&["estop", "--reason", "at once"]);
    assert_eq!(run.code, 0, "{}\n{}", run.context(), daemon.log());
    assert_house_stopped(&site, mark, &run);
    assert_eq!(latched_reason(&site), "at once");
}

#[test]
fn estop_reports_a_device_the_miniserver_refused_and_exits_1() {
    let site = Site::new("estop-fail", "");
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    let (motors, _) = site.motors_and_zones();
    let addr = loxwarden::loxone::uuid::ControlAddr::parse(&motors[0]).unwrap();
    site.sim.answer_with(&addr, Some(500));
    let run = site.cli(&["estop"]);
    assert_eq!(run.code, 1, "{}", run.context());
    assert!(
        run.stdout.contains("FAIL") && run.stdout.contains("LL 500"),
        "{}",
        run.context()
    );
    assert!(run.stdout.contains("1 failed"), "{}", run.context());
    assert!(
        site.latch_file().exists(),
        "latched even though a device failed"
    );
}

#[test]
fn the_latch_survives_a_daemon_restart_until_resume() {
    let site = Site::new("estop-restart", "");
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    let run = site.cli(&["estop", "--reason", "before restart"]);
    assert_eq!(run.code, 0, "{}", run.context());
    daemon.kill();
    // Pulled an hour ago: the refusal after the restart counts from the latch, not from the
    // new daemon's start.
    let mut latched: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.latch_file()).unwrap()).unwrap();
    latched["since_unix"] = json!(latched["since_unix"].as_u64().unwrap() - 3600);
    std::fs::write(site.latch_file(), latched.to_string()).unwrap();
    // The new daemon replaces the stale socket and finds the latch in the state directory.
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    let status = site.cli(&["status", "--json"]);
    assert_eq!(status.code, 0, "{}", status.context());
    assert!(
        status.stdout.contains("before restart"),
        "{}",
        status.context()
    );
    // Actuation is refused after the restart, and nothing reaches the Miniserver.
    let light = json!({"device": "Kitchen/Kitchen Ceiling", "action": "on"});
    let mut ai = Mcp::connect(&site.socket());
    ai.initialize();
    let mark = site.sim.log_mark();
    let (err, text) = Mcp::outcome(&ai.call("1", "control_light", light.clone()));
    assert!(
        err && text.contains("R-11") && text.contains("latched (for 36"),
        "refused after the restart, latched for an hour: {text}"
    );
    assert!(site.sim.commands_since(mark).iter().all(|e| !e.device));
    // No MCP tool can lift it.
    // (Names, not the text: emergency_stop's description says a person runs `loxwarden resume`.)
    let tools = ai.request("t", "tools/list", json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"emergency_stop"), "{tools}");
    assert!(
        names
            .iter()
            .all(|n| !n.contains("resume") && !n.contains("lift")),
        "{names:?}"
    );
    let r = site.cli(&["resume"]);
    assert_eq!(r.code, 0, "{}", r.context());
    assert!(
        r.stdout.contains("Emergency stop lifted"),
        "{}",
        r.context()
    );
    assert!(!site.latch_file().exists());
    let status = site.cli(&["status", "--json"]);
    assert!(
        !status.stdout.contains("before restart"),
        "{}",
        status.context()
    );
    let (err, text) = Mcp::outcome(&ai.call("2", "control_light", light));
    assert!(!err, "allowed after resume: {text}");
    drop(daemon);
}

#[test]
fn the_mcp_emergency_stop_tool_takes_the_same_path_and_latches_the_same_file() {
    let site = Site::new("estop-mcp", "");
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    let mut ai = Mcp::connect(&site.socket());
    ai.initialize();
    let mark = site.sim.log_mark();
    let (err, text) =
        Mcp::outcome(&ai.call("1", "emergency_stop", json!({"reason": "the AI saw smoke"})));
    assert!(!err, "{text}");
    let (motors, _) = site.motors_and_zones();
    let stopped = site.ops_since(mark, "stop");
    assert!(motors.iter().all(|m| stopped.contains(m)), "{stopped:?}");
    assert_eq!(latched_reason(&site), "the AI saw smoke");
    let status = site.cli(&["status"]);
    assert!(
        status.stdout.contains("the AI saw smoke"),
        "{}",
        status.context()
    );
}

#[test]
fn anyone_may_stop_but_only_root_the_service_user_and_resume_users_may_resume() {
    require_root!();
    // uid 1 ("daemon") may resume by name; nobody (65534) may not.
    let site = Site::new("estop-resume", "\n[control]\nresume_users = [\"daemon\"]\n");
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    // Anyone on the machine may stop: nobody, with no groups at all.
    let run = site.cli_as(65534, 65534, &["estop", "--reason", "nobody saw smoke"]);
    assert_eq!(run.code, 0, "{}", run.context());
    assert!(!run.stdout.contains("directly"), "{}", run.context());
    assert!(
        daemon.logged("EMERGENCY STOP requested by uid 65534 (nobody)"),
        "{}",
        daemon.log()
    );
    // nobody may not lift it; the daemon checked the uid and said why.
    let r = site.cli_as(65534, 65534, &["resume"]);
    assert_eq!(r.code, 1, "{}", r.context());
    assert!(
        r.stderr
            .contains("uid 65534 (nobody) may not lift the emergency stop"),
        "{}",
        r.context()
    );
    assert!(site.latch_file().exists(), "still latched");
    assert!(daemon.logged("resume refused"), "{}", daemon.log());
    // A user in [control] resume_users may.
    let r = site.cli_as(1, 1, &["resume"]);
    assert_eq!(r.code, 0, "{}", r.context());
    assert!(!site.latch_file().exists());
    // And root may (nothing latched now: it says so).
    let r = site.cli(&["resume"]);
    assert_eq!(r.code, 0, "{}", r.context());
    assert!(r.stdout.contains("not latched"), "{}", r.context());
}

#[test]
fn a_direct_estop_by_a_user_without_the_token_says_plainly_that_nothing_was_done() {
    require_root!();
    let site = Site::new("estop-nobody", "");
    // No daemon, and nobody can read neither the token nor the latch in the 0700 state dir.
    let mark = site.sim.log_mark();
    let run = site.cli_as(65534, 65534, &["estop", "--reason", "nobody"]);
    assert_eq!(run.code, 1, "{}", run.context());
    assert!(
        run.stdout.contains("LATCH NOT WRITTEN"),
        "{}",
        run.context()
    );
    assert!(
        run.stdout.contains("sudo -u loxwarden loxwarden estop"),
        "{}",
        run.context()
    );
    assert!(
        !run.stdout.contains("LATCHED"),
        "no latch may be claimed\n{}",
        run.context()
    );
    assert!(run.stdout.contains("PROBLEM"), "{}", run.context());
    assert!(!site.latch_file().exists());
    assert!(site.ops_since(mark, "stop").is_empty());
}

#[test]
fn a_flood_of_idle_control_connections_does_not_hold_up_a_stop() {
    let site = Site::new("estop-flood", "");
    let daemon = Daemon::start(&site);
    wait_link_live(&site, &daemon);
    // Anyone may connect to control.sock; 100 connections that never say anything.
    let idle: Vec<std::os::unix::net::UnixStream> = (0..100)
        .map(|_| std::os::unix::net::UnixStream::connect(site.control_socket()).unwrap())
        .collect();
    let mark = site.sim.log_mark();
    let run = site.cli(&["estop", "--reason", "flooded"]);
    assert_eq!(run.code, 0, "{}", run.context());
    assert_house_stopped(&site, mark, &run);
    assert!(run.took < Duration::from_secs(5), "{}", run.context());
    drop(idle);
    // The daemon recovers: idle connections time out and status answers again.
    let back = wait_until(Duration::from_secs(10), || site.cli(&["status"]).code == 0);
    assert!(back.is_some(), "{}", daemon.log());
}
