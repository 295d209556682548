//! Interop with the official Python MCP SDK client (PyPI `mcp` 2.3.0) through
//! tests/interop/mcp_client_probe.py, against the real binary.
//!
//! The venv is created on first use under `target/mcp-venv` (`python3 -m venv` + `pip install
//! mcp==2.3.0`); it needs python3 with the venv module and access to PyPI. Each test asserts on
//! what the client saw (protocol version, check results, the consent outcome the test tool
//! reported), not only on the exit status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{BIN, target_dir};

const MCP_VERSION: &str = "2.3.0";

fn probe_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/mcp_client_probe.py")
}

fn works(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", &format!("import mcp, mcp_types, importlib.metadata as m; assert m.version('mcp') == '{MCP_VERSION}'")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The venv's python, creating the venv once per run.
fn python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let made = PYTHON.get_or_init(|| {
        let venv = target_dir().join("mcp-venv");
        let python = venv.join("bin/python");
        if works(&python) {
            return Ok(python);
        }
        // Build next to it and rename, so a half-made venv is never taken for a good one.
        let tmp = target_dir().join(format!("mcp-venv.tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let out = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&tmp)
            .output()
            .map_err(|e| {
                format!("cannot run python3 ({e}); the interop tests need Python 3.10+")
            })?;
        if !out.status.success() {
            return Err(format!(
                "`python3 -m venv` failed: {}\nOn Debian/Ubuntu install the venv module: \
                 sudo apt-get install python3-venv",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let out = Command::new(tmp.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(format!("mcp=={MCP_VERSION}"))
            .output()
            .map_err(|e| format!("cannot run pip: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "pip install mcp=={MCP_VERSION} failed (is PyPI reachable?): {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let _ = std::fs::remove_dir_all(&venv);
        std::fs::rename(&tmp, &venv).map_err(|e| format!("cannot move the venv in place: {e}"))?;
        if works(&python) {
            Ok(python)
        } else {
            Err(format!(
                "the venv at {} does not import mcp",
                venv.display()
            ))
        }
    });
    match made {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

pub(crate) struct Run {
    pub stdout: String,
    pub stderr: String,
    pub ok: bool,
    pub took: Duration,
}

/// Runs the probe with `args`, then `--`, then `loxwarden demo` with `serve_args`.
fn probe(args: &[&str], serve_args: &[&str]) -> Run {
    let mut server = vec!["demo"];
    server.extend_from_slice(serve_args);
    probe_with(args, &server)
}

/// Runs the probe with `args`, then `--`, then `loxwarden` with `server` (e.g. `["demo"]` or
/// `["--config", path, "serve"]`).
pub(crate) fn probe_with(args: &[&str], server: &[&str]) -> Run {
    let python = python(); // may create the venv first: not part of the timing
    let started = Instant::now();
    let out: Output = Command::new(python)
        .arg(probe_script())
        .args(["--timeout", "60"])
        .args(args)
        .arg("--")
        .arg(BIN)
        .args(server)
        .output()
        .expect("the probe runs");
    let run = Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ok: out.status.success(),
        took: started.elapsed(),
    };
    eprintln!("probe {args:?} took {:?}", run.took);
    run
}

impl Run {
    pub(crate) fn context(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }

    pub fn protocol_version(&self) -> &str {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix("protocolVersion: "))
            .unwrap_or_else(|| panic!("no protocolVersion line\n{}", self.context()))
    }

    /// The `CallToolResult` the probe printed after `--- tools/call NAME`.
    pub(crate) fn call_result(&self, tool: &str) -> Value {
        let marker = format!("--- tools/call {tool} ");
        let at = self
            .stdout
            .find(&marker)
            .unwrap_or_else(|| panic!("no call of {tool}\n{}", self.context()));
        let rest = &self.stdout[at..];
        let json_start = rest
            .find("\n{")
            .unwrap_or_else(|| panic!("no result for {tool}\n{}", self.context()));
        let mut it =
            serde_json::Deserializer::from_str(&rest[json_start + 1..]).into_iter::<Value>();
        match it.next() {
            Some(Ok(v)) => v,
            _ => panic!("unreadable result for {tool}\n{}", self.context()),
        }
    }

    pub fn outcome(&self) -> String {
        let r = self.call_result("test_confirm");
        r["structuredContent"]["outcome"]
            .as_str()
            .unwrap_or_else(|| panic!("no outcome in {r}\n{}", self.context()))
            .to_owned()
    }

    pub fn assert_checks_pass(&self) {
        assert!(self.ok, "probe failed\n{}", self.context());
        assert!(!self.stdout.contains("FAIL"), "{}", self.context());
        for check in [
            "PASS tools/list: 18 tool(s)",
            "PASS unknown-method: error -32601",
            "PASS unknown-tool: protocol error -32602",
        ] {
            assert!(
                self.stdout.contains(check),
                "missing {check:?}\n{}",
                self.context()
            );
        }
        assert!(!self.stdout.contains("WARN"), "{}", self.context());
    }
}

/// One tool per page, so the client has to follow cursors.
const PAGED: &[&str] = &["--test-page-size", "1"];
/// Consent waits long enough for a slow CI machine.
const PATIENT: &[&str] = &["--test-consent-timeout-ms", "20000"];

#[test]
fn python_sdk_checks_pass_in_legacy_mode() {
    let run = probe(&["--checks", "--mode", "legacy"], PAGED);
    run.assert_checks_pass();
    assert_eq!(run.protocol_version(), "2025-11-25");
    assert!(
        run.stdout.contains("PASS ping: empty result"),
        "{}",
        run.context()
    );
}

#[test]
fn python_sdk_checks_pass_in_auto_mode_which_goes_stateless() {
    let run = probe(&["--checks", "--mode", "auto"], PAGED);
    run.assert_checks_pass();
    // We answer server/discover, so the dual-era client stays on 2026-07-28.
    assert_eq!(run.protocol_version(), "2026-07-28");
    assert!(run.stdout.contains("SKIP ping"), "{}", run.context());
}

#[test]
fn python_sdk_elicitation_accept_is_reported_as_accepted() {
    let run = probe(
        &["--call", "test_confirm={}", "--elicit", "accept"],
        PATIENT,
    );
    assert!(run.ok, "{}", run.context());
    assert_eq!(run.outcome(), "accepted");
}

#[test]
fn python_sdk_elicitation_decline_and_cancel_are_not_consent() {
    for (answer, expected) in [("decline", "declined"), ("cancel", "cancelled")] {
        let run = probe(&["--call", "test_confirm={}", "--elicit", answer], PATIENT);
        assert!(run.ok, "{}", run.context());
        assert_eq!(run.outcome(), expected);
    }
}

#[test]
fn python_sdk_without_elicitation_capability_is_never_asked() {
    let run = probe(
        &["--call", "test_confirm={}", "--elicit", "none", "--trace"],
        PATIENT,
    );
    assert!(run.ok, "{}", run.context());
    assert_eq!(run.outcome(), "unsupported");
    assert!(
        !run.stderr.contains("elicitation/create"),
        "{}",
        run.context()
    );
}

#[test]
fn python_sdk_elicitation_timeout_withdraws_the_question_and_fails_closed() {
    let run = probe(
        &[
            "--call",
            "test_confirm={}",
            "--elicit",
            "accept",
            "--elicit-delay",
            "3",
            "--trace",
        ],
        &["--test-consent-timeout-ms", "400"],
    );
    assert!(run.ok, "{}", run.context());
    assert_eq!(run.outcome(), "timed_out");
    // The probe prints each traced message with one write(2), so the server's log line about
    // the timeout (written at the same instant to the same stderr) cannot split it.
    let withdrawn = run.stderr.lines().any(|l| {
        l.starts_with("<< ") && l.contains("notifications/cancelled") && l.contains("srv-1")
    });
    assert!(
        withdrawn,
        "no notifications/cancelled for srv-1\n{}",
        run.context()
    );
}

#[test]
fn python_sdk_mrtr_round_in_2026_07_28_accepts_with_a_signed_state() {
    let run = probe(
        &[
            "--mode",
            "2026-07-28",
            "--call",
            "test_confirm={}",
            "--elicit",
            "accept",
            "--trace",
        ],
        PATIENT,
    );
    assert!(run.ok, "{}", run.context());
    assert_eq!(run.protocol_version(), "2026-07-28");
    assert_eq!(run.outcome(), "accepted");
    assert!(
        run.stderr.contains("\"input_required\""),
        "no MRTR round\n{}",
        run.context()
    );
    assert!(run.stderr.contains("\"requestState\""), "{}", run.context());
    // No server-to-client request on stdio in this era: the question travels in the result.
    assert!(!run.stderr.contains("\"id\":\"srv-"), "{}", run.context());
}

#[test]
fn python_sdk_mrtr_decline_and_missing_capability_do_not_act() {
    let run = probe(
        &[
            "--mode",
            "2026-07-28",
            "--call",
            "test_confirm={}",
            "--elicit",
            "decline",
        ],
        PATIENT,
    );
    assert!(run.ok, "{}", run.context());
    assert_eq!(run.outcome(), "declined");
    let run = probe(
        &[
            "--mode",
            "2026-07-28",
            "--call",
            "test_confirm={}",
            "--elicit",
            "none",
        ],
        PATIENT,
    );
    assert!(
        !run.ok,
        "a consent the client cannot give must fail\n{}",
        run.context()
    );
    assert!(
        run.stdout.contains("FAIL call test_confirm: error -32021"),
        "{}",
        run.context()
    );
}

#[test]
fn python_sdk_call_timeout_cancels_and_the_server_exits_without_delay() {
    let run = probe(
        &[
            "--call",
            r#"test_sleep={"ms":20000}"#,
            "--call-timeout",
            "1",
        ],
        &[],
    );
    assert!(!run.ok, "the call must time out\n{}", run.context());
    assert!(
        run.stdout.contains("FAIL call test_sleep"),
        "{}",
        run.context()
    );
    // Had the server ignored stdin closing, the SDK would have waited 2 s, then SIGTERM.
    assert!(run.took < Duration::from_secs(15), "took {:?}", run.took);
    assert!(
        run.stderr.contains("cancelled by the client"),
        "{}",
        run.context()
    );
}
