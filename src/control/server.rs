//! The daemon's side of the control channel: read one request, check who asks, answer.
//!
//! An estop is latched (the file written) before anything else and acknowledged at once, so
//! the client knows within milliseconds that the daemon has it; then the core sends the stops
//! and the report follows. Every request is logged with the peer's uid.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, SystemTime};

use super::{MAX_REQUEST, Reply, Request};
use crate::daemon::Daemon;
use crate::daemon::peer::{self, Users};
use crate::safety::latch::Latch;

/// How long a client may take to send its request.
const READ_REQUEST: Duration = Duration::from_secs(5);

/// Serves one control connection.
pub fn handle(daemon: &Daemon, stream: UnixStream) {
    let cred = match peer::peer_cred(&stream) {
        Ok(c) => c,
        Err(e) => {
            log::warn!("control connection without peer credentials refused: {e}");
            answer(
                &stream,
                &Reply::Refused {
                    error: "the peer's credentials cannot be read".into(),
                },
            );
            return;
        }
    };
    let users = Users::load();
    let who = users.describe(cred.uid);
    let request = match read_request(&stream) {
        Ok(r) => r,
        Err(e) => {
            log::warn!("control request from {who}: {e}");
            answer(&stream, &Reply::Failed { error: e });
            return;
        }
    };
    match request {
        Request::Estop { reason } => {
            let reason = if reason.trim().is_empty() {
                "no reason given".to_owned()
            } else {
                reason
            };
            let by = format!("{who} via loxwarden estop");
            log::warn!("EMERGENCY STOP requested by {by}: {reason}");
            let latch = Latch::in_dir(&daemon.cfg.paths.state_dir);
            let latched = latch.engage(&reason, &by, SystemTime::now());
            let first = match latched {
                Ok(l) => Reply::Latched {
                    latched: Some(l),
                    error: None,
                },
                Err(e) => Reply::Latched {
                    latched: latch.current(),
                    error: Some(format!(
                        "the latch file could not be written ({e}); the daemon holds the stop in memory until it restarts"
                    )),
                },
            };
            answer(&stream, &first);
            let report = daemon.core.emergency_stop(&reason, &by);
            log::warn!(
                "emergency stop by {who}: {} device(s), {} failed, {} ms{}",
                report.devices.len(),
                report.failed(),
                report.elapsed_ms,
                if report.problems.is_empty() {
                    String::new()
                } else {
                    format!("; {}", report.problems.join("; "))
                }
            );
            answer(&stream, &Reply::Stopped { report });
        }
        Request::Resume => {
            if let Err(why) = daemon.policy.may_resume(&users, cred.uid) {
                log::warn!("resume refused (pid {}): {why}", cred.pid);
                answer(&stream, &Reply::Refused { error: why });
                return;
            }
            let by = format!("{who} via loxwarden resume");
            match daemon.core.resume(&by) {
                Ok(was) => {
                    log::warn!("emergency stop lifted by {by} ({})", lifted(was.as_ref()));
                    answer(&stream, &Reply::Resumed { was });
                }
                Err(e) => {
                    log::error!("resume by {by} failed: {e}");
                    answer(
                        &stream,
                        &Reply::Failed {
                            error: format!("the latch could not be lifted: {e}"),
                        },
                    );
                }
            }
        }
        Request::Status => {
            log::debug!("status requested by {who}");
            answer(
                &stream,
                &Reply::Status {
                    status: daemon.status(),
                },
            );
        }
    }
}

/// Reads one request line (at most [`MAX_REQUEST`] bytes, within [`READ_REQUEST`]).
fn read_request(stream: &UnixStream) -> Result<Request, String> {
    let _ = stream.set_read_timeout(Some(READ_REQUEST));
    let mut line = String::new();
    BufReader::new(stream.take(MAX_REQUEST as u64))
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the request: {e}"))?;
    if !line.ends_with('\n') {
        return Err("the request must be one JSON line of at most 4 KiB".into());
    }
    serde_json::from_str(line.trim_end()).map_err(|e| format!("not a control request: {e}"))
}

fn answer(mut stream: &UnixStream, reply: &Reply) {
    let line = match serde_json::to_string(reply) {
        Ok(l) => l,
        Err(e) => {
            log::error!("cannot encode a control reply: {e}");
            return;
        }
    };
    if let Err(e) = stream
        .write_all(format!("{line}\n").as_bytes())
        .and_then(|()| stream.flush())
    {
        log::info!("control client went away before the answer: {e}");
    }
}

/// What a lifted latch was, for the journal: `it was latched since … by …: "reason"`.
fn lifted(was: Option<&crate::safety::latch::Latched>) -> String {
    match was {
        Some(l) => format!(
            "it was latched since {} by {}: {:?}",
            crate::audit::rfc3339(l.since()),
            l.by,
            l.reason
        ),
        None => "it was not latched".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lifted_latch_reads_as_a_sentence_not_a_debug_dump() {
        let l = crate::safety::latch::Latched {
            since_unix: 0,
            reason: "smoke in the hall".into(),
            by: "cli uid 0".into(),
        };
        let text = lifted(Some(&l));
        assert_eq!(
            text,
            "it was latched since 1970-01-01T00:00:00.000Z by cli uid 0: \"smoke in the hall\""
        );
        assert!(!text.contains("Latched {") && !text.contains("since_unix"));
        assert_eq!(lifted(None), "it was not latched");
    }
}
