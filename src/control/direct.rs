//! The emergency stop without the daemon: when the daemon is absent or does not answer
//! within [`super::ANSWER_WITHIN`], `loxwarden estop` latches the stop itself and talks to the
//! Miniserver directly.
//!
//! Why this exists: the stop must not depend on the one process that might be the problem.
//! Order matters: the latch file is written first, before any network (so a daemon that comes
//! back refuses actuation at once), then the house is read from the structure cache the
//! daemon keeps in the state directory (downloaded with the stored token if there is none),
//! `safety::stop::plan` picks every blind, window, gate, central object and audio zone by type, exactly as the daemon
//! would, and each command goes out over HTTP with the stored token ([`link::direct`]), a few
//! at a time, motors first (`safety::stop::send`). Every device gets its command even when
//! another failed. The report carries the Miniserver's own
//! answer per device; nothing is assumed.
//!
//! It needs what the service user has: the token in the state directory (0600) and write
//! access to it. Run it as root or `sudo -u loxwarden loxwarden estop`; otherwise it says
//! plainly which file it could not use.

use std::time::{Instant, SystemTime};

use crate::audit::{self, AuditLog, Decided, Outcome, Record, StepResult};
use crate::config::Config;
use crate::loxone::link::{self, Secrets};
use crate::loxone::store;
use crate::loxone::structure::Structure;
use crate::safety::latch::{Latch, Latched};
use crate::safety::stop;
use crate::safety::stop::senders::Direct;

use super::{DeviceStop, StopReport};

/// Latches the stop in the state directory (before any network: a daemon that comes back
/// refuses actuation at once). An error says which file could not be written.
pub fn latch(cfg: &Config, reason: &str, by: &str) -> Result<Latched, String> {
    let path = cfg.paths.state_dir.join(crate::safety::latch::LATCH_FILE);
    let cannot = |e: std::io::Error| format!("cannot write the latch file {}: {e}", path.display());
    // `Latch` treats a file it cannot read as latched (safe for a reader); a writer must not
    // take that for its own success, so this user's access is checked first and after.
    match std::fs::read(&path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(cannot(e)),
    }
    let latched = Latch::in_dir(&cfg.paths.state_dir)
        .engage(reason, by, SystemTime::now())
        .map_err(cannot)?;
    std::fs::metadata(&path).map_err(cannot)?;
    Ok(latched)
}

/// Stops every motor and irrigation, pauses every audio zone and turns saunas off through the
/// Miniserver with the stored token; then appends the stop to the audit log (the `Err` says why it is not there).
pub fn stop(cfg: &Config, reason: &str, by: &str) -> (StopReport, Result<(), String>) {
    let started = Instant::now();
    let mut report = StopReport::default();
    let (client, _boot, stored) = match link::direct(cfg) {
        Ok(c) => c,
        Err(e) => {
            report.problems.push(format!(
                "cannot reach the Miniserver with the stored token: {e}"
            ));
            report.elapsed_ms = started.elapsed().as_millis() as u64;
            return (report, Err("nothing was sent".into()));
        }
    };
    let bytes = match store::load_structure(&cfg.paths.state_dir) {
        Some(b) => Ok(b),
        None => client.fetch_structure(&stored.token).map_err(|e| {
            format!("no structure cache in the state directory and the download failed: {e}")
        }),
    };
    // By type from the structure itself: the config (exposure, classification, a name that no
    // longer matches) has no say in what the stop reaches.
    let house = bytes.and_then(|b| {
        Structure::parse(&b).map_err(|e| format!("the structure file is unusable: {e}"))
    });
    let house = match house {
        Ok(h) => h,
        Err(e) => {
            report.problems.push(e);
            report.elapsed_ms = started.elapsed().as_millis() as u64;
            return (report, Err("nothing was sent".into()));
        }
    };
    let visu = Secrets::from_config(cfg).ok().and_then(|s| s.visu_password);
    let plan = stop::plan(&house);
    report.problems.extend(plan.notes.iter().skip(1).cloned());
    // Every device at once, as the daemon does: one slow or dead device must not hold up the
    // others (a few HTTP requests in flight at a time, motors first: `safety::stop::send`).
    let sender = Direct {
        client: &client,
        token: &stored.token,
        visu: visu.as_ref(),
        timeout: std::time::Duration::from_secs(cfg.link.command_timeout_s),
    };
    let sent = stop::send::send_all(&plan.plan, &sender);
    report.devices = plan
        .plan
        .iter()
        .zip(sent)
        .map(|(step, r)| DeviceStop {
            device: label(&house, step),
            command: step.command.io_path(),
            code: r.code,
            value: r.value,
            error: r.error,
        })
        .collect();
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    let audit = write_audit(cfg, by, reason, &report);
    (report, audit)
}

/// `Room/Name` of the control a stop step goes to.
fn label(s: &Structure, step: &crate::safety::Step) -> String {
    match stop::label(s, step.device.0 as usize) {
        (name, room) if room.is_empty() => name,
        (name, room) => format!("{room}/{name}"),
    }
}

/// Appends the stop to the daemon's audit log, if that log exists. It is never created here:
/// a file created by root would lock the daemon out of its own log (and so out of actuation).
fn write_audit(cfg: &Config, by: &str, reason: &str, report: &StopReport) -> Result<(), String> {
    let path = &cfg.paths.audit_log;
    if !path.exists() {
        return Err(format!("{} does not exist", path.display()));
    }
    // Decision and outcome back to back: no journal of open decisions (root must not create
    // files the daemon then cannot remove).
    let log = AuditLog::open_unjournaled(path).map_err(|e| e.to_string())?;
    let id = log.next_id();
    let now = audit::rfc3339(SystemTime::now());
    let decided = Decided {
        time: now.clone(),
        audit_id: id.clone(),
        session: 0,
        client: format!("loxwarden estop, direct ({by})"),
        peer_uid: None,
        tool: "emergency_stop".into(),
        device: None,
        intent: serde_json::json!({"emergency_stop": {"reason": reason}}),
        verdict: "allow".into(),
        rule: Some("R-11".into()),
        reason: Some("the daemon did not answer; stopped directly with the stored token".into()),
        consent: None,
        plan: report.devices.iter().map(|d| d.command.clone()).collect(),
    };
    let outcome = Outcome {
        time: now,
        audit_id: id,
        ok: report.ok(),
        results: report
            .devices
            .iter()
            .map(|d| StepResult {
                command: d.command.clone(),
                code: d.code,
                value: d.value.clone(),
                error: d.error.clone(),
            })
            .collect(),
        read_back: Vec::new(),
        latency_ms: report.elapsed_ms,
        interrupted: false,
    };
    log.write(&Record::Decided(Box::new(decided)))
        .and_then(|()| log.write(&Record::Outcome(outcome)))
        .map_err(|e| e.to_string())
}
