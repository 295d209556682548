//! The CLI's side of the control channel: `loxwarden estop`, `resume` and `status`.
//!
//! The estop never waits on a daemon that does not answer: the connection and the first
//! answer run on a helper thread, and after [`ANSWER_WITHIN`] without a `latched` answer (a
//! daemon hung, stopped with SIGSTOP, or absent) the CLI latches and stops the house itself
//! ([`super::direct`]). Stops are idempotent, so a daemon that wakes up later and stops the
//! house again does no harm. The same happens when the daemon latched but its report never
//! arrives (it died mid-stop).

mod status;

pub use status::status;
use status::when;

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde_json::Value;

use super::{ANSWER_WITHIN, Reply, Request, StopReport, direct};
use crate::config::{Config, Paths};
use crate::error::{Error, Result};
use crate::safety::latch::{LATCH_FILE, Latch, Latched};

/// How long the CLI waits for the daemon's stop report once the daemon has latched.
const REPORT_WITHIN: Duration = Duration::from_secs(120);
/// How long `resume` and `status` wait for an answer.
const QUERY_WITHIN: Duration = Duration::from_secs(5);

/// Why the daemon could not be asked.
enum Unreached {
    /// Nobody listens (no socket file, connection refused): the daemon is not running.
    Absent(String),
    /// Something listens but did not answer in time, or answered nonsense.
    Silent(String),
}

/// Connects, sends `request` and reads the first answer, all within `within`. The reader is
/// returned for further answers (it may hold them already: keep reading through it).
fn ask(
    socket: &Path,
    request: &Request,
    within: Duration,
) -> Result<(BufReader<UnixStream>, Reply), Unreached> {
    let (tx, rx) = mpsc::channel();
    let path = socket.to_owned();
    let line = serde_json::to_string(request).unwrap_or_default() + "\n";
    std::thread::spawn(move || {
        let result = (|| {
            let mut s = UnixStream::connect(&path).map_err(|e| match e.kind() {
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
                    Unreached::Absent(format!("no daemon at {} ({e})", path.display()))
                }
                _ => Unreached::Silent(format!("cannot connect to {}: {e}", path.display())),
            })?;
            s.write_all(line.as_bytes())
                .map_err(|e| Unreached::Silent(format!("cannot send the request: {e}")))?;
            let mut r = BufReader::new(s);
            let reply = read_reply(&mut r)
                .map_err(|e| Unreached::Silent(format!("no usable answer: {e}")))?;
            Ok((r, reply))
        })();
        let _ = tx.send(result);
    });
    match rx.recv_timeout(within) {
        Ok(r) => r,
        Err(_) => Err(Unreached::Silent(format!(
            "the daemon did not answer within {} ms",
            within.as_millis()
        ))),
    }
}

fn read_reply(reader: &mut BufReader<UnixStream>) -> io::Result<Reply> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    if line.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the daemon closed the connection",
        ));
    }
    serde_json::from_str(line.trim_end()).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// `loxwarden estop [--reason TEXT]`. A config that cannot be read does not stop the stop:
/// the daemon is asked at the default socket, and only the direct path needs the config. (The
/// stock config is not readable by users outside the group loxwarden, so for them this is the
/// normal way, and it is only mentioned when the daemon does not answer there.)
pub fn estop(
    cfg: std::result::Result<&Config, String>,
    reason: Option<&str>,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let started = Instant::now();
    let reason = reason.unwrap_or("loxwarden estop").to_owned();
    let socket = match &cfg {
        Ok(c) => super::socket_path(&c.paths),
        Err(_) => super::socket_path(&crate::config::Paths::default()),
    };
    let request = Request::Estop {
        reason: reason.clone(),
    };
    let why_direct = match ask(&socket, &request, ANSWER_WITHIN) {
        Ok((mut reader, Reply::Latched { latched, error })) => {
            let at = started.elapsed();
            w(out, &latched_line(latched.as_ref(), at))?;
            if let Some(e) = error {
                w(out, &format!("WARNING: {e}"))?;
            }
            let _ = reader.get_ref().set_read_timeout(Some(REPORT_WITHIN));
            match read_reply(&mut reader) {
                Ok(Reply::Stopped { report })
                    if report.devices.is_empty() && !report.problems.is_empty() =>
                {
                    format!(
                        "the daemon latched but could not stop anything ({})",
                        report.problems.join("; ")
                    )
                }
                Ok(Reply::Stopped { report }) => {
                    print_report(out, &report, started.elapsed())?;
                    return Ok(exit_for(&report));
                }
                Ok(other) => format!("the daemon latched but then answered {other:?}"),
                Err(e) => format!("the daemon latched but its stop report never came ({e})"),
            }
        }
        Ok((_, Reply::Refused { error } | Reply::Failed { error })) => {
            format!("the daemon refused: {error}")
        }
        Ok((_, other)) => format!("the daemon answered {other:?}"),
        Err(Unreached::Absent(e) | Unreached::Silent(e)) => match &cfg {
            Ok(_) => e,
            Err(c) => format!("{c}; so the daemon was asked at the default socket: {e}"),
        },
    };
    w(
        out,
        &format!(
            "{why_direct}.\nStopping the house directly with the stored token and writing the latch file myself."
        ),
    )?;
    let cfg = match cfg {
        Ok(c) => c,
        Err(e) => {
            w(out, &format!("CANNOT STOP DIRECTLY: {e}"))?;
            return Ok(ExitCode::from(1));
        }
    };
    let by = format!("{} via loxwarden estop (daemon not answering)", whoami());
    let latch = direct::latch(cfg, &reason, &by);
    match &latch {
        Ok(l) => w(out, &latched_line(Some(l), started.elapsed()))?,
        Err(e) => w(
            out,
            &format!(
                "LATCH NOT WRITTEN: {e}. Run as root or the service user: sudo -u loxwarden loxwarden estop"
            ),
        )?,
    }
    let (report, audit) = direct::stop(cfg, &reason, &by);
    print_report(out, &report, started.elapsed())?;
    if let Err(e) = &audit {
        w(out, &format!("(not in the audit log: {e})"))?;
    }
    if latch.is_err() {
        return Ok(ExitCode::from(1));
    }
    Ok(exit_for(&report))
}

fn exit_for(report: &StopReport) -> ExitCode {
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn latched_line(l: Option<&Latched>, after: Duration) -> String {
    match l {
        Some(l) => format!(
            "Emergency stop LATCHED after {} ms ({}, by {}): every AI command that would move something is refused until 'loxwarden resume'.",
            after.as_millis(),
            quote(&l.reason),
            l.by
        ),
        None => "Emergency stop: the latch state is unknown.".into(),
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.escape_debug())
}

fn print_report(out: &mut dyn Write, r: &StopReport, total: Duration) -> Result<()> {
    // A cause shared by several devices (the link is down, no token) is said once, after the
    // table, not repeated on every line.
    let shared = |e: &String| {
        r.devices
            .iter()
            .filter(|d| d.error.as_ref() == Some(e))
            .count()
            > 1
    };
    let mut causes: Vec<&String> = Vec::new();
    for d in &r.devices {
        let answer = match (&d.code, &d.error) {
            (_, Some(e)) if shared(e) => {
                if !causes.contains(&e) {
                    causes.push(e);
                }
                let n = causes.iter().position(|c| *c == e).unwrap_or(0) + 1;
                format!("no answer (cause {n} below)")
            }
            (_, Some(e)) => format!("no answer: {e}"),
            (Some(c), None) => format!("LL {c}"),
            (None, None) => "no answer".into(),
        };
        let op = d.command.rsplit('/').next().unwrap_or("");
        w(
            out,
            &format!(
                "  {:<4} {:<40} {:<8} {}",
                if d.ok() { "ok" } else { "FAIL" },
                d.device,
                op,
                answer
            ),
        )?;
    }
    for (i, e) in causes.iter().enumerate() {
        let n = r
            .devices
            .iter()
            .filter(|d| d.error.as_ref() == Some(*e))
            .count();
        w(out, &format!("  cause {}, for {n} device(s): {e}", i + 1))?;
    }
    for p in &r.problems {
        w(out, &format!("  PROBLEM: {p}"))?;
    }
    for n in &r.notes {
        w(out, &format!("  note: {n}"))?;
    }
    w(
        out,
        &format!(
            "{} device(s): {} stopped or paused, {} failed; last answer after {} ms (stops sent in {} ms).",
            r.devices.len(),
            r.devices.len() - r.failed(),
            r.failed(),
            total.as_millis(),
            r.elapsed_ms
        ),
    )
}

fn w(out: &mut dyn Write, line: &str) -> Result<()> {
    match writeln!(out, "{line}") {
        // `loxwarden status | head`: the reader has what it wanted; the exit code still tells.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|e| Error::io("cannot write the answer", e)),
    }
}

/// `loxwarden resume`.
pub fn resume(paths: &Paths, out: &mut dyn Write) -> Result<ExitCode> {
    match ask(&super::socket_path(paths), &Request::Resume, QUERY_WITHIN) {
        Ok((_, Reply::Resumed { was: Some(l) })) => {
            w(
                out,
                &format!(
                    "Emergency stop lifted (it was latched by {} at {}: {}).",
                    l.by,
                    when(l.since_unix),
                    quote(&l.reason)
                ),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Ok((_, Reply::Resumed { was: None })) => {
            w(out, "The emergency stop was not latched; nothing to lift.")?;
            Ok(ExitCode::SUCCESS)
        }
        Ok((_, Reply::Refused { error })) => Err(Error::Failed(format!("refused: {error}"))),
        Ok((_, Reply::Failed { error })) => Err(Error::Failed(error)),
        Ok((_, other)) => Err(Error::Failed(format!("unexpected answer {other:?}"))),
        Err(Unreached::Silent(e)) => Err(Error::Failed(format!(
            "{e}; nothing was lifted. Check 'systemctl status loxwarden'."
        ))),
        Err(Unreached::Absent(e)) => {
            // No daemon: the latch is only the file, and whoever may delete it may lift it.
            let latch = Latch::in_dir(&paths.state_dir);
            match latch.release() {
                Ok(Some(l)) => {
                    w(
                        out,
                        &format!(
                            "{e}: removed the latch file (it was latched by {} at {}: {}).",
                            l.by,
                            when(l.since_unix),
                            quote(&l.reason)
                        ),
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Ok(None) => {
                    w(out, &format!("{e}; the emergency stop was not latched."))?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) => Err(Error::io(
                    format!(
                        "{e}, and the latch file {} cannot be removed (run as root or the service user)",
                        paths.state_dir.join(LATCH_FILE).display()
                    ),
                    err,
                )),
            }
        }
    }
}

/// `uid N (name)` of this process, from the owner of `/proc/self` (no libc).
fn whoami() -> String {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata("/proc/self") {
        Ok(m) => crate::daemon::peer::Users::load().describe(m.uid()),
        Err(_) => "this user".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::status::render;
    use super::*;
    use crate::control::DeviceStop;
    use std::os::unix::net::UnixListener;

    /// A config whose control socket is `dir/control.sock`.
    fn config(dir: &Path) -> Config {
        Config::parse(&format!(
            "[miniserver]\nurl = \"http://127.0.0.1:1\"\nuser = \"u\"\n[paths]\nstate_dir = \"{0}/state\"\naudit_log = \"{0}/audit.jsonl\"\nsocket = \"{0}/mcp.sock\"\n",
            dir.display()
        ))
        .unwrap()
    }

    fn tmp(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("lw-ctl-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A daemon stand-in that answers every connection with `lines` in one write.
    fn fake_daemon(dir: &Path, lines: Vec<Reply>) {
        let l = UnixListener::bind(dir.join("control.sock")).unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut req = String::new();
            BufReader::new(&s).read_line(&mut req).unwrap();
            let text: String = lines
                .iter()
                .map(|r| serde_json::to_string(r).unwrap() + "\n")
                .collect();
            s.write_all(text.as_bytes()).unwrap();
        });
    }

    #[test]
    fn both_estop_answers_in_one_read_are_both_used() {
        let d = tmp("both");
        let latched = Latched {
            since_unix: 1,
            reason: "r".into(),
            by: "b".into(),
        };
        let report = StopReport {
            devices: vec![DeviceStop {
                device: "Garage/Door".into(),
                command: "jdev/sps/io/x/stop".into(),
                code: Some(200),
                value: Some("1".into()),
                error: None,
            }],
            problems: vec![],
            notes: vec!["stopped a second time after a command that was under way when the stop latched had its answer: Garage/Door".into()],
            elapsed_ms: 3,
        };
        fake_daemon(
            &d,
            vec![
                Reply::Latched {
                    latched: Some(latched),
                    error: None,
                },
                Reply::Stopped { report },
            ],
        );
        let mut out = Vec::new();
        let code = estop(Ok(&config(&d)), Some("r"), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(code, ExitCode::SUCCESS, "{text}");
        assert!(
            text.contains("1 device(s): 1 stopped or paused, 0 failed"),
            "{text}"
        );
        assert!(!text.contains("directly"), "{text}");
        // What else the stop did reaches the person at the shell too.
        assert!(text.contains("note: stopped a second time"), "{text}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_cause_shared_by_several_devices_is_said_once() {
        let cause =
            "the link to the Miniserver is down: connection refused; a long cause".to_owned();
        let dev = |name: &str, error: Option<&String>| DeviceStop {
            device: format!("Hall/{name}"),
            command: format!("jdev/sps/io/{name}/stop"),
            code: error.is_none().then_some(200),
            value: None,
            error: error.cloned(),
        };
        let other = "timed out".to_owned();
        let report = StopReport {
            devices: vec![
                dev("a", Some(&cause)),
                dev("b", Some(&cause)),
                dev("c", Some(&cause)),
                dev("d", Some(&other)),
                dev("e", None),
            ],
            problems: vec![],
            notes: vec![],
            elapsed_ms: 3,
        };
        let mut out = Vec::new();
        print_report(&mut out, &report, Duration::from_millis(5)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches(cause.as_str()).count(), 1, "{text}");
        assert!(
            text.contains("cause 1, for 3 device(s): the link"),
            "{text}"
        );
        assert_eq!(
            text.matches("no answer (cause 1 below)").count(),
            3,
            "{text}"
        );
        // A cause of one device stays on its line.
        assert!(text.contains("no answer: timed out"), "{text}");
    }

    #[test]
    fn a_daemon_that_could_not_stop_anything_is_not_taken_for_success() {
        let d = tmp("nothing");
        fake_daemon(
            &d,
            vec![
                Reply::Latched {
                    latched: None,
                    error: None,
                },
                Reply::Stopped {
                    report: StopReport {
                        problems: vec!["no structure loaded yet".into()],
                        ..StopReport::default()
                    },
                },
            ],
        );
        let mut out = Vec::new();
        // The direct path then fails too (no token, nothing listens on port 1): exit 1.
        let code = estop(Ok(&config(&d)), None, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(code, ExitCode::from(1), "{text}");
        assert!(text.contains("could not stop anything"), "{text}");
        assert!(text.contains("Stopping the house directly"), "{text}");
        assert!(text.contains("PROBLEM"), "{text}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn status_reads_as_lines_for_a_person() {
        let status = serde_json::json!({
            "daemon": {"pid": 7, "version": "0.1.0", "sessions": [
                {"connection": 3, "uid": 1001, "user": "ai", "read_only": true, "since_unix": 0}
            ]},
            "gateway": {
                "link": {"state": "live", "reason": ""},
                "emergency_stop": {"latched": true, "since": "2026-01-01T00:00:00Z", "reason": "smoke", "by": "uid 0 (root)"},
                "alarms": [],
            }
        });
        let mut out = Vec::new();
        render(&status, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in [
            "daemon: running (pid 7, version 0.1.0)",
            "link:\n  reason: -\n  state: live",
            "emergency stop: LATCHED since 2026-01-01T00:00:00Z by uid 0 (root): \"smoke\"",
            "alarms: none",
            "sessions: 1\n  #3 uid 1001 (ai) since 1970-01-01T00:00:00.000Z, read-only",
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
        // Durations read with their unit, not as keys like "for s: 35".
        let mut out = Vec::new();
        let timed = serde_json::json!({"daemon": {"pid": 7}, "gateway": {
            "link": {"state": "live", "for_s": 35}, "uptime_s": 90}});
        render(&timed, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("  for: 35 s\n"), "{text}");
        assert!(text.contains("uptime: 90 s\n"), "{text}");
        assert!(!text.contains("for s"), "{text}");
        // A hung daemon needs a restart, a stopped one a start.
        for (state, hint) in [
            (
                "NOT ANSWERING",
                "restart it: sudo systemctl restart loxwarden",
            ),
            ("not running", "start it: sudo systemctl start loxwarden"),
        ] {
            let mut out = Vec::new();
            let st = serde_json::json!({"daemon": {"running": false, "state": state, "error": "e"},
                                        "estop_latch": null});
            render(&st, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains(hint), "{text}");
        }
        let mut out = Vec::new();
        let off = serde_json::json!({"gateway": {"emergency_stop": {"latched": false, "since": null, "reason": null, "by": null}}, "daemon": {"pid": 1}});
        render(&off, &mut out).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains("emergency stop: not latched")
        );
    }
}
