//! `loxwarden demo` and `demo --tour` through the real binary, and the official Python SDK
//! client (tests/interop/mcp_client_probe.py) driving the product end to end: it validates
//! every `structuredContent` against the tool's `outputSchema`.

use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

use crate::link_support::{self, TempDir};
use crate::probe::{Run, probe_with};
use crate::support::BIN;

#[test]
fn the_tour_walks_through_reads_a_light_refusals_a_declined_and_a_consented_unlock_and_a_stop() {
    let started = Instant::now();
    let out = Command::new(BIN)
        .args(["demo", "--tour"])
        .output()
        .expect("the tour runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for needle in [
        "link live",
        "list_devices {\"room\":\"Kitchen\"}",
        "Kitchen Ceiling (light, Dimmer)",
        "Hall/Hall Light: on: the Miniserver answered LL 200; now active = on (confirmed)",
        "SC-2: 35 °C is outside 10–30 °C",
        "the person: declines",
        "The person declined. Nothing was sent.",
        "the person: accepts",
        "/1/pulse → 200",
        "Emergency stop latched; 10 device(s) stopped or paused",
        "R-11: the emergency stop is latched",
        // Issue 21: the unlock of a client without elicitation, approved in the Loxone app.
        "the Loxone app showed in 'AI/AI request': \"Open the door at 'Hall - Front Door'",
        "the person pressed 'AI/Approve AI request' there during the call",
        "The person declined in the Loxone app (cleared the question). Nothing was sent.",
        "Tour complete.",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?}\n{stdout}");
    }
    // The unlock went out twice: accepted in the client, and approved in the app during the call.
    assert_eq!(stdout.matches("/1/pulse → 200").count(), 2, "{stdout}");
    // After each refusal the simulator's own log shows that nothing arrived.
    assert!(
        stdout.matches("the Miniserver received: nothing").count() >= 4,
        "{stdout}"
    );
    // The temporary state is gone.
    let audit = stdout
        .lines()
        .find_map(|l| l.split("Audit log: ").nth(1))
        .expect("the audit log path is printed");
    assert!(!std::path::Path::new(audit.trim()).exists());
    eprintln!("the tour took {:?}", started.elapsed());
}

#[test]
fn a_reader_that_stops_after_the_first_line_of_the_tour_or_the_help_gets_no_panic() {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;
    for args in [&["demo", "--tour"][..], &["--help"][..]] {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        // The reader is gone now (`| head -1`).
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(first.starts_with("loxwarden"), "{args:?}: {first}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
    }
}

/// The probe's calls (`NAME=JSON`) against `loxwarden demo` (with `demo_args`).
fn demo_probe(args: &[&str], demo_args: &[&str]) -> Run {
    let mut server = vec!["demo"];
    server.extend_from_slice(demo_args);
    let mut all = vec!["--timeout", "60"];
    all.extend_from_slice(args);
    probe_with(&all, &server)
}

fn structured(run: &Run, tool: &str) -> Value {
    run.call_result(tool)["structuredContent"].clone()
}

#[test]
fn python_sdk_checks_reads_and_a_light_command_validate_against_the_output_schemas() {
    let run = demo_probe(
        &[
            "--checks",
            "--call",
            "get_system_status={}",
            "--call",
            "list_rooms={}",
            "--call",
            r#"list_devices={"room":"Hall"}"#,
            "--call",
            r#"get_device={"device":"Kitchen Ceiling"}"#,
            "--call",
            r#"describe_scene={"device":"All Blinds"}"#,
            "--call",
            r#"control_light={"device":"Hall Light","action":"on"}"#,
            "--call",
            r#"control_blind={"device":"Kitchen Blind","action":"down"}"#,
            "--call",
            r#"emergency_stop={"reason":"probe"}"#,
        ],
        &[],
    );
    assert!(run.ok, "{}", run.context());
    assert!(
        run.stdout.contains("PASS tools/list: 18 tool(s)"),
        "{}",
        run.context()
    );
    assert!(!run.stdout.contains("FAIL"), "{}", run.context());
    let light = structured(&run, "control_light");
    assert_eq!(light["done"], true, "{light}");
    assert_eq!(light["commands"][0]["code"], 200);
    assert_eq!(light["read_back"][0]["status"], "confirmed");
    assert_eq!(
        structured(&run, "control_blind")["read_back"][0]["status"],
        "pending"
    );
    assert_eq!(structured(&run, "emergency_stop")["done"], true);
}

#[test]
fn python_sdk_an_unlock_accepted_by_the_person_is_sent_and_a_declined_one_is_not() {
    let unlock = r#"control_access={"device":"Hall/Door opener","action":"unlock"}"#;
    let run = demo_probe(
        &["--call", unlock, "--elicit", "accept"],
        &["--test-ring-bell"],
    );
    assert!(run.ok, "{}", run.context());
    let s = structured(&run, "control_access");
    assert_eq!(s["done"], true, "{s}");
    assert_eq!(s["consent"]["outcome"], "accepted");
    assert!(
        s["commands"][0]["command"]
            .as_str()
            .unwrap()
            .ends_with("/1/pulse"),
        "{s}"
    );
    let run = demo_probe(
        &["--call", unlock, "--elicit", "decline"],
        &["--test-ring-bell"],
    );
    // A person's "no" is an answer, not an error: the call succeeds and says nothing was sent.
    assert!(run.ok, "{}", run.context());
    let s = structured(&run, "control_access");
    assert_eq!(s["done"], false, "{s}");
    assert_eq!(s["consent"]["outcome"], "declined");
    assert_eq!(s["commands"], json!([]));
}

/// `loxwarden serve` from a config file (the demo's site config) in front of a simulator this
/// test holds, so the Miniserver's own log is the evidence.
struct Served {
    sim: loxwarden::sim::Sim,
    _dir: TempDir,
    config: String,
}

fn serve_demo_config() -> Served {
    let sim = link_support::sim_with(|_| {});
    let dir = TempDir::new("probe-serve");
    let text = loxwarden::demo::config_text(&sim.url(), sim.user(), dir.path());
    let path = dir.path().join("config.toml");
    std::fs::write(&path, &text).unwrap();
    let cfg = loxwarden::config::Config::parse(&text).unwrap();
    link_support::login_ok(&sim, &cfg);
    Served {
        sim,
        config: path.display().to_string(),
        _dir: dir,
    }
}

#[test]
fn python_sdk_a_declined_unlock_never_reaches_the_miniserver_in_either_era() {
    let s = serve_demo_config();
    let opener = format!("{}/1", s.sim.control_named("Front Door").unwrap());
    let unlock = r#"control_access={"device":"Hall/Door opener","action":"unlock"}"#;
    let server = ["--config", s.config.as_str(), "serve", "--standalone"];
    for mode in ["legacy", "2026-07-28"] {
        // Each probe starts a new gateway, which sees the bell only while it is on (30 s in
        // the simulator): ring it for each run, so a slow machine does not miss it.
        assert!(s.sim.ring_bell());
        let mark = s.sim.log_mark();
        let run = probe_with(
            &[
                "--timeout",
                "60",
                "--mode",
                mode,
                "--call",
                unlock,
                "--elicit",
                "decline",
            ],
            &server,
        );
        assert!(run.ok, "{mode}: {}", run.context());
        let r = run.call_result("control_access");
        assert_eq!(
            r["structuredContent"]["consent"]["outcome"], "declined",
            "{mode}: {r}"
        );
        let got: Vec<_> = s
            .sim
            .commands_since(mark)
            .into_iter()
            .filter(|e| e.device)
            .collect();
        assert!(got.is_empty(), "{mode}: {got:?}");
    }
    // Accepted through an MRTR round (signed requestState): the opener is pulsed once.
    assert!(s.sim.ring_bell());
    let mark = s.sim.log_mark();
    let run = probe_with(
        &[
            "--timeout",
            "60",
            "--mode",
            "2026-07-28",
            "--call",
            unlock,
            "--elicit",
            "accept",
        ],
        &server,
    );
    assert!(run.ok, "{}", run.context());
    let got: Vec<String> = s
        .sim
        .commands_since(mark)
        .into_iter()
        .filter(|e| e.device)
        .map(|e| e.command)
        .collect();
    assert_eq!(got, [format!("jdev/sps/io/{opener}/pulse")]);
}

#[test]
fn python_sdk_every_critical_action_waits_for_a_persons_accept_in_both_eras() {
    // Disarm, open the garage, move every blind, open the front door: with the official SDK
    // answering for the person, against `serve` in front of the simulator. Declined: nothing
    // reaches the Miniserver. Accepted: exactly the confirmed commands do.
    let s = serve_demo_config();
    let addr = |n: &str| s.sim.control_named(n).unwrap();
    let (alarm, gate, blinds) = (
        addr("Burglar Alarm"),
        addr("Garage Door"),
        addr("All Blinds"),
    );
    let opener = format!("{}/1", addr("Front Door"));
    let visu = format!("LOXWARDEN_VISU_PASSWORD={}", s.sim.visu_password());
    let calls = [
        (
            "set_alarm",
            r#"set_alarm={"device":"Burglar Alarm","action":"disarm"}"#,
        ),
        (
            "control_access",
            r#"control_access={"device":"Garage Door","action":"open"}"#,
        ),
        (
            "activate_scene",
            r#"activate_scene={"device":"All Blinds","scene":"down"}"#,
        ),
        (
            "control_intercom",
            r#"control_intercom={"device":"Front Door","action":"open_door"}"#,
        ),
    ];
    let server = ["--config", s.config.as_str(), "serve", "--standalone"];
    for (answer, mode) in [
        ("decline", "legacy"),
        ("decline", "2026-07-28"),
        ("accept", "legacy"),
        ("accept", "2026-07-28"),
    ] {
        assert!(s.sim.ring_bell(), "the bell stays on for 30 s");
        let mark = s.sim.log_mark();
        let mut args = vec!["--mode", mode, "--elicit", answer, "--env", visu.as_str()];
        for (_, c) in &calls {
            args.extend(["--call", c]);
        }
        let run = probe_with(&args, &server);
        assert!(run.ok, "{mode} {answer}: {}", run.context());
        for (tool, _) in &calls {
            let r = run.call_result(tool);
            let sc = &r["structuredContent"];
            let (outcome, done) = if answer == "accept" {
                ("accepted", true)
            } else {
                ("declined", false)
            };
            assert_eq!(sc["consent"]["outcome"], outcome, "{mode} {tool}: {r}");
            assert_eq!(sc["done"], done, "{mode} {tool}: {r}");
        }
        let got: Vec<String> = s
            .sim
            .commands_since(mark)
            .into_iter()
            .filter(|e| e.device)
            .map(|e| e.command)
            .collect();
        if answer == "decline" {
            assert!(got.is_empty(), "{mode}: {got:?}");
            continue;
        }
        assert_eq!(got.len(), 4, "{mode}: {got:?}");
        assert!(
            got[0].starts_with("jdev/sps/ios/") && got[0].ends_with(&format!("/{alarm}/off")),
            "{mode}: {got:?}"
        );
        assert_eq!(got[1], format!("jdev/sps/io/{gate}/open"), "{mode}");
        assert!(
            got[2].starts_with(&format!("jdev/sps/io/{blinds}/")),
            "{mode}: {got:?}"
        );
        assert_eq!(got[3], format!("jdev/sps/io/{opener}/pulse"), "{mode}");
    }
}
