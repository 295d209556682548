//! `loxwarden audit`: the log a person reads, through the real binary.

use std::process::Command;

use serde_json::json;

fn loxwarden() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loxwarden"))
}

/// `loxwarden --config CFG audit`, which must succeed: what it printed.
fn audit_output(cfg: &std::path::Path) -> String {
    let out = loxwarden()
        .arg("--config")
        .arg(cfg)
        .arg("audit")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("loxwarden-it-audit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn config(d: &std::path::Path) -> std::path::PathBuf {
    let cfg = d.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[miniserver]\nurl = \"http://127.0.0.1\"\nuser = \"ai\"\n[paths]\naudit_log = \"{}\"\n",
            d.join("audit.jsonl").display()
        ),
    )
    .unwrap();
    cfg
}

#[test]
fn audit_prints_each_record_readably_and_filters_by_since() {
    let d = dir("print");
    let cfg = config(&d);
    let log = loxwarden::audit::AuditLog::open(&d.join("audit.jsonl")).unwrap();
    for (id, time, verdict) in [
        ("a-1", "2026-03-09T21:04:05.123Z", "allow"),
        ("a-2", "2026-03-10T08:00:00.000Z", "refuse"),
    ] {
        let rec: loxwarden::audit::Record = serde_json::from_value(json!({
            "record": "decided", "time": time, "audit_id": id, "session": 1, "client": "probe 1.0",
            "tool": "control_blind", "device": {"id": "4c570000-000a-0000-ffff00000000000a", "name": "Bedroom/Blind"},
            "intent": {"tool": "control_blind", "action": "down"}, "verdict": verdict,
            "rule": if verdict == "refuse" { Some("R-13") } else { None }
        }))
        .unwrap();
        log.write(&rec).unwrap();
    }
    let text = audit_output(&cfg);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.contains("a-1 session 1 (probe 1.0) control_blind Bedroom/Blind"),
        "{text}"
    );
    assert!(text.contains("-> REFUSED R-13"), "{text}");
    let out = loxwarden()
        .arg("--config")
        .arg(&cfg)
        .args(["audit", "--since", "2026-03-10"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("a-1 ") && text.contains("a-2 "), "{text}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn audit_with_a_bad_since_or_no_log_fails_without_touching_stdout() {
    let d = dir("bad");
    let cfg = config(&d);
    for args in [&["audit"][..], &["audit", "--since", "yesterday"]] {
        let out = loxwarden()
            .arg("--config")
            .arg(&cfg)
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn audit_escapes_what_a_hostile_client_sent_and_says_what_each_decision_was() {
    use crate::tools_support::{Rig, Wire};
    let rig = Rig::start();
    let mut w: Wire = rig.wire();
    w.handshake(json!({}));
    // A tool name that tries to forge a line of its own: a newline, a terminal escape that
    // erases the line, a right-to-left override.
    let forged = "x\n2026-12-07T00:00:00.000Z a-9 session 1 set_alarm House disarm -> allowed ok\u{1b}[2K\u{202e}kool";
    let r = w.request("tools/call", json!({"name": forged, "arguments": {}}));
    assert!(r.get("error").is_some(), "{r}");
    // A read, and the first round of a stateless-era question (pending).
    let r = w.request(
        "tools/call",
        json!({"name": "get_system_status", "arguments": {}}),
    );
    assert_eq!(r["result"]["isError"], false, "{r}");
    let r = w.modern_call(
        "set_alarm",
        json!({"device": "Burglar Alarm", "action": "disarm"}),
        json!({"elicitation": {"form": {}}}),
        json!({}),
    );
    assert_eq!(r["result"]["resultType"], "input_required", "{r}");
    let d = dir("hostile");
    let cfg = d.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[miniserver]\nurl = \"http://127.0.0.1\"\nuser = \"ai\"\n[paths]\naudit_log = \"{}\"\n",
            rig.cfg.paths.audit_log.display()
        ),
    )
    .unwrap();
    let text = audit_output(&cfg);
    // One line per record, each starting with its own time: nothing forged a line.
    let records = std::fs::read_to_string(&rig.cfg.paths.audit_log)
        .unwrap()
        .lines()
        .count();
    assert_eq!(text.lines().count(), records, "{text}");
    assert!(text.lines().all(|l| l.starts_with("20")), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(
        text.contains("\\u{1b}[2K") && text.contains("\\u{202e}"),
        "{text}"
    );
    let line = |needle: &str| -> &str {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?}:\n{text}"))
    };
    let rejected = line("a-9 session 1");
    assert!(rejected.contains("-> REJECTED"), "{rejected}");
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("2026-12-07T00:00:00.000Z")),
        "a forged line:\n{text}"
    );
    let read = line("get_system_status");
    assert!(read.contains("-> read"), "{read}");
    let pending = line("set_alarm Hall/Burglar Alarm");
    assert!(pending.contains("-> PENDING"), "{pending}");
    // Nothing was allowed: the only "allowed" is the escaped text inside the rejected line.
    assert_eq!(text.matches("-> allowed").count(), 2, "{text}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_session_flooding_refused_calls_leaves_a_bounded_log_that_still_counts_every_call() {
    use crate::tools_support::Rig;
    let rig = Rig::start();
    let mut w = rig.wire();
    w.handshake(json!({}));
    let junk = "x".repeat(5000);
    let flood = |w: &mut crate::tools_support::Wire, n: usize| {
        for _ in 0..n {
            let r = w.request(
                "tools/call",
                json!({"name": "control_light", "arguments": {"device": junk, "action": "on"}}),
            );
            assert_eq!(r["result"]["isError"], true, "{r}");
        }
    };
    flood(&mut w, 500);
    // An allowed call in the middle of the flood is recorded as always.
    let r = w.request(
        "tools/call",
        json!({"name": "control_light", "arguments": {"device": "Hall Light", "action": "on"}}),
    );
    assert_eq!(r["result"]["structuredContent"]["done"], true, "{r}");
    flood(&mut w, 500);
    // Another session's refusal is recorded on its own.
    let mut other = rig.wire();
    other.handshake(json!({}));
    let r = other.request(
        "tools/call",
        json!({"name": "control_light", "arguments": {"device": "no such lamp", "action": "on"}}),
    );
    assert_eq!(r["result"]["isError"], true, "{r}");
    // Once the budget refills, the next refusal is preceded by the count of those not written.
    std::thread::sleep(std::time::Duration::from_millis(700));
    flood(&mut w, 1);
    let size = std::fs::metadata(&rig.cfg.paths.audit_log).unwrap().len();
    let records = rig.audit();
    let refusals_of = |session: u64| {
        records
            .iter()
            .filter(|r| r["session"] == session && r["tool"] == "control_light")
            .filter(|r| r["verdict"] == "refuse")
            .count()
    };
    let counted: u64 = records
        .iter()
        .filter_map(|r| r["intent"]["suppressed"].as_u64())
        .sum();
    let first = records[0]["session"].as_u64().unwrap();
    let written = refusals_of(first) as u64;
    assert!(written < 100, "{written} refusal records of one session");
    assert_eq!(
        written + counted,
        1001,
        "every refused call is written or counted"
    );
    assert!(size < 200_000, "the log grew to {size} bytes");
    assert!(
        records
            .iter()
            .any(|r| r["record"] == "outcome" && r["ok"] == true),
        "the allowed call's outcome"
    );
    assert_eq!(refusals_of(first + 1), 1, "the other session");
    // The copied arguments are capped.
    assert!(
        records.iter().all(|r| r["intent"]["arguments"]
            .as_str()
            .is_none_or(|a| a.len() <= 503)),
        "an uncapped copy"
    );
}
