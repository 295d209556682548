//! `loxwarden serve` as a client meets it: promptness, exit on EOF, concurrency, floods, and
//! stdout hygiene. Bounds here are generous on purpose (rule 6: speed goals live in a
//! benchmark, not in a test that flakes); the measured figures are printed for the record
//! (`cargo test --test it mcp:: -- --nocapture`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Served, is_protocol_line};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn an_unknown_method_is_answered_at_once_before_and_after_initialize() {
    let mut s = Served::test_build();
    let mut times = Vec::new();
    for phase in ["before", "after"] {
        if phase == "after" {
            s.initialize(json!({}));
        }
        for i in 0..200 {
            let id = format!("{phase}-{i}");
            let started = Instant::now();
            let r = s.request(&json!({"jsonrpc":"2.0","id":id,"method":"server/nonsense"}));
            times.push(started.elapsed());
            assert_eq!(r["error"]["code"], -32601, "{r}");
        }
    }
    times.sort();
    let (p50, p99, max) = (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times[times.len() - 1],
    );
    eprintln!("unknown method round trip over 400 requests: p50 {p50:?}, p99 {p99:?}, max {max:?}");
    assert!(max < Duration::from_secs(2), "slowest answer took {max:?}");
}

#[test]
fn the_process_exits_promptly_when_stdin_closes() {
    // Idle.
    let mut s = Served::test_build();
    s.initialize(json!({}));
    let (status, idle) = s.close(Duration::from_secs(5));
    assert!(status.success());
    // With a slow call running.
    let mut s = Served::test_build();
    s.initialize(json!({}));
    s.send(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"test_sleep","arguments":{"ms":20000}}}));
    std::thread::sleep(Duration::from_millis(100));
    let (status, busy) = s.close(Duration::from_secs(5));
    assert!(status.success());
    // With a call waiting for the human.
    let mut s = Served::start(&["demo", "--test-consent-timeout-ms", "30000"]);
    s.initialize(json!({"elicitation": {}}));
    s.send(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"test_confirm"}}));
    assert_eq!(s.recv()["method"], "elicitation/create");
    let (status, waiting) = s.close(Duration::from_secs(5));
    assert!(status.success());
    eprintln!(
        "exit after stdin closed: idle {idle:?}, slow call running {busy:?}, consent pending {waiting:?}"
    );
    for took in [idle, busy, waiting] {
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }
}

#[test]
fn a_slow_call_does_not_block_ping() {
    let mut s = Served::test_build();
    s.initialize(json!({}));
    s.send(&json!({"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"test_sleep","arguments":{"ms":1500}}}));
    let started = Instant::now();
    let pong = s.request(&json!({"jsonrpc":"2.0","id":"p","method":"ping"}));
    let ping = started.elapsed();
    assert_eq!(pong["result"], json!({}));
    let done = s.recv();
    assert_eq!(done["id"], "slow", "the slow call answers after the ping");
    eprintln!("ping during a 1500 ms call: {ping:?}");
    assert!(ping < Duration::from_millis(1000), "ping waited {ping:?}");
}

#[test]
fn a_flood_of_calls_is_bounded_runs_concurrently_and_the_session_recovers() {
    let mut s = Served::test_build();
    s.initialize(json!({}));
    let started = Instant::now();
    for i in 0..40 {
        s.send(&json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"test_sleep","arguments":{"ms":1000}}}));
    }
    let (mut busy, mut done) = (0, 0);
    while busy + done < 40 {
        let r = s.recv();
        match r["error"]["code"].as_i64() {
            Some(-31001) => busy += 1,
            Some(other) => panic!("unexpected error {other}: {r}"),
            None => {
                assert_eq!(r["result"]["isError"], false, "{r}");
                done += 1;
            }
        }
    }
    let took = started.elapsed();
    eprintln!("flood of 40 one-second calls: {done} ran, {busy} refused with -31001, in {took:?}");
    assert_eq!((done, busy), (16, 24), "16 in flight at most");
    assert!(
        took < Duration::from_secs(8),
        "the 16 calls ran one after another? {took:?}"
    );
    let pong = s.request(&json!({"jsonrpc":"2.0","id":"after","method":"ping"}));
    assert_eq!(pong["result"], json!({}));
    let r = s.request(&json!({"jsonrpc":"2.0","id":"again","method":"tools/call","params":{"name":"get_system_status"}}));
    assert_eq!(r["result"]["isError"], false);
}

#[test]
fn stdout_carries_only_protocol_even_with_trace_logging() {
    // At the default level (info) through a whole session ...
    let mut s = Served::start(&["demo"]);
    s.initialize(json!({}));
    s.request(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_system_status"}}));
    s.send_raw(b"{garbage");
    s.recv();
    s.close(Duration::from_secs(5));
    assert!(s.rest().is_empty());
    assert!(s.stdout.iter().all(|l| is_protocol_line(l)));
    assert!(
        s.stderr().contains("INFO"),
        "logs go to stderr: {}",
        s.stderr()
    );
    // ... and at the most verbose level.

    let out = std::process::Command::new(crate::support::BIN)
        .arg("demo")
        .env("LOXWARDEN_LOG", "trace")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            let mut stdin = c.stdin.take().expect("stdin");
            stdin.write_all(
                b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n",
            )?;
            drop(stdin);
            c.wait_with_output()
        })
        .expect("serve runs");
    let stdout: Vec<&[u8]> = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(stdout.len(), 1, "{}", String::from_utf8_lossy(&out.stdout));
    assert!(is_protocol_line(stdout[0]));
    assert!(!out.stderr.is_empty());
}

#[test]
fn every_tool_is_on_the_first_tools_list_page_shipped_ones_first() {
    // One page: a client that reads only the first page (the Python SDK's plain
    // `list_tools()`) must still see every tool, `emergency_stop` included.
    // This binary is the test build (cargo test turns on `test-tools`); the release catalogue
    // must still come first and be complete without the test tools. That a plain `cargo build`
    // has no test tools is checked by .ci/run on a build without the feature.
    let mut s = Served::start(&["demo"]);
    s.initialize(json!({}));
    let r = s.request(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}));
    let names: Vec<&str> = r["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "get_system_status",
            "list_rooms",
            "list_devices",
            "get_device",
            "describe_scene",
            "control_light",
            "control_blind",
            "set_temperature",
            "control_audio",
            "control_charger",
            "control_appliance",
            "emergency_stop",
            "set_alarm",
            "control_access",
            "control_intercom",
            "activate_scene",
            "test_confirm",
            "test_sleep"
        ]
    );
    assert!(r["result"].get("nextCursor").is_none_or(Value::is_null));
}

#[test]
fn the_consent_timeout_comes_from_the_config_file() {
    // `serve` runs the gateway from the config file: a simulator, a login, and a config with
    // a one-second consent timeout.
    let sim = crate::link_support::sim_with(|_| {});
    let dir = crate::link_support::TempDir::new("consent-timeout");
    let (path, cfg) = crate::link_support::write_config(&sim, dir.path(), "");
    std::fs::write(
        &path,
        format!(
            "{}\n[consent]\ntimeout_s = 1\n",
            std::fs::read_to_string(&path).expect("config")
        ),
    )
    .expect("config written");
    crate::link_support::login_ok(&sim, &cfg);
    let mut s = Served::start(&[
        "--config",
        path.to_str().expect("utf-8 path"),
        "serve",
        "--standalone",
    ]);
    s.initialize(json!({"elicitation": {}}));
    let started = Instant::now();
    s.send(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"test_confirm"}}));
    let ask = s.recv();
    assert_eq!(ask["method"], "elicitation/create");
    let cancel = s.recv();
    assert_eq!(cancel["method"], "notifications/cancelled");
    assert_eq!(cancel["params"]["requestId"], ask["id"]);
    let waited = started.elapsed();
    let r = s.recv();
    assert_eq!(r["result"]["structuredContent"]["outcome"], "timed_out");
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[test]
fn a_fresh_serve_standalone_session_first_reports_the_link_live_not_an_assumed_emergency() {
    let sim = crate::link_support::sim_with(|_| {});
    let dir = crate::link_support::TempDir::new("standalone-first-status");
    let (path, cfg) = crate::link_support::write_config(&sim, dir.path(), "");
    crate::link_support::login_ok(&sim, &cfg);
    let mut s = Served::start(&[
        "--config",
        path.to_str().expect("utf-8 path"),
        "serve",
        "--standalone",
    ]);
    s.initialize(json!({}));
    s.send(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_system_status"}}));
    let r = s.recv();
    let sc = &r["result"]["structuredContent"];
    assert_eq!(sc["link"]["state"], "live", "{r}");
    assert_ne!(sc["posture"]["name"], "degraded", "{r}");
    let text = r["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(!text.contains("emergency is assumed"), "{text}");
}

#[test]
fn serve_standalone_answers_initialize_and_status_while_the_miniserver_does_not_answer() {
    // A simulator that accepts connections and answers nothing, and a command timeout far
    // beyond the test's line deadline: a server that waited for the link before answering
    // `initialize`, or that held `get_system_status` back, would miss the deadline.
    let sim = crate::link_support::sim_with(|_| {});
    let dir = crate::link_support::TempDir::new("standalone-hung");
    let (path, cfg) = crate::link_support::write_config(&sim, dir.path(), "");
    crate::link_support::login_ok(&sim, &cfg);
    let text = std::fs::read_to_string(&path).expect("config");
    assert!(text.contains("command_timeout_s = 2\n"), "{text}");
    std::fs::write(
        &path,
        text.replace("command_timeout_s = 2\n", "command_timeout_s = 60\n"),
    )
    .expect("config");
    sim.hang(true);
    let mut s = Served::start(&[
        "--config",
        path.to_str().expect("utf-8 path"),
        "serve",
        "--standalone",
    ]);
    let init = s.initialize(json!({}));
    assert_eq!(init["result"]["serverInfo"]["name"], "loxwarden", "{init}");
    s.send(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_system_status"}}));
    let r = s.recv();
    let state = &r["result"]["structuredContent"]["link"]["state"];
    assert!(
        state.is_string() && state != "live",
        "the link cannot be live: {r}"
    );
    sim.hang(false);
}

/// Every `type` in a schema is one JSON type, never an array such as `["string","null"]`
/// (portable validators, MCP Inspector's `--strict` among them, warn on type arrays).
fn type_arrays(schema: &Value, at: &str, found: &mut Vec<String>) {
    match schema {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "type" && !v.is_string() {
                    found.push(format!("{at}: {v}"));
                }
                type_arrays(v, &format!("{at}.{k}"), found);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| type_arrays(v, at, found)),
        _ => {}
    }
}

#[test]
fn the_shipped_catalogue_fits_12_kb_its_model_facing_part_8_kb_and_its_schemas_are_portable() {
    // Every session pays for the catalogue in the model's context: a size bound is a contract.
    let mut s = Served::start(&["demo"]);
    s.initialize(json!({}));
    let mut r = s.request(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}));
    // This is the test build: measure what a plain build sends, without the test tools.
    r["result"]["tools"]
        .as_array_mut()
        .expect("tools")
        .retain(|t| !t["name"].as_str().unwrap_or_default().starts_with("test_"));
    let tools = r["result"]["tools"].as_array().expect("tools");
    assert_eq!(tools.len(), 16, "{r}");
    let whole = serde_json::to_string(&r).unwrap().len();
    let model: usize = tools
        .iter()
        .map(|t| {
            let part = json!({"name": t["name"], "description": t["description"],
                              "inputSchema": t["inputSchema"]});
            serde_json::to_string(&part).unwrap().len()
        })
        .sum();
    let output: usize = tools
        .iter()
        .map(|t| serde_json::to_string(&t["outputSchema"]).unwrap().len())
        .sum();
    eprintln!("tools/list: {whole} bytes; model-facing {model}; output schemas {output}");
    assert!(whole <= 12_000, "the whole tools/list is {whole} bytes");
    assert!(
        model <= 8_000,
        "names, descriptions and input schemas are {model} bytes"
    );
    let mut found = Vec::new();
    for t in tools {
        let name = t["name"].as_str().unwrap();
        type_arrays(
            &t["inputSchema"],
            &format!("{name}.inputSchema"),
            &mut found,
        );
        type_arrays(
            &t["outputSchema"],
            &format!("{name}.outputSchema"),
            &mut found,
        );
        // Still tells the model what it refuses or asks (or that it never refuses / only reads).
        let d = t["description"].as_str().unwrap();
        let read = t["annotations"]["readOnlyHint"] == true;
        assert!(
            read || d.contains("refused") || d.contains("the person"),
            "{name}: {d}"
        );
    }
    assert!(found.is_empty(), "type arrays: {found:?}");
}
