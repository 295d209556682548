//! `loxwarden audit`: the log a person reads, through the real binary.

use std::process::Command;

use serde_json::json;

fn loxwarden() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loxwarden"))
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
    let out = loxwarden()
        .arg("--config")
        .arg(&cfg)
        .arg("audit")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
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
