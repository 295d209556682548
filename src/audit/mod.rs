//! The audit log (R-14, issue 5 "Audit"): append-only JSON Lines, one record when a tool call is
//! decided and one with the outcome of what was sent.
//!
//! Why fail closed: the log is the only account of what an AI did to a house. [`AuditLog::write`]
//! returns only after the record is in the file (written with one `write` on an `O_APPEND`
//! descriptor, then `fdatasync`); if it cannot, it returns an error and the caller refuses the
//! command. A command that cannot be audited is not sent.
//!
//! Why reopen per record: log rotation (rename + new file) and a deleted or replaced file are
//! noticed on the next record instead of writing into a file nobody reads. Records are small and
//! human-paced, so the cost does not matter.
//!
//! No secrets: records carry tool names, canonical device ids and names, verdicts, consent
//! outcomes, command paths in their plain `jdev/sps/io/…` form (never the `ios` form with a
//! visualisation hash, never tokens or passwords) and the Miniserver's answers.
//!
//! [`follow`] is the reader behind `loxwarden audit [--follow] [--since TIME]`.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod journal;
pub mod limit;
mod record;
mod render;
mod time;

pub use record::{ConsentRecord, Decided, DeviceRef, Outcome, ReadBack, Record, StepResult};
pub use render::{Follower, escape, follow, render};
use time::{base36, record_ms, unix_ms};
pub use time::{parse_since, rfc3339};

use journal::Journal;

/// Why a record could not be written (the command is then refused).
#[derive(Debug)]
pub enum AuditError {
    Open { path: PathBuf, source: io::Error },
    Write { path: PathBuf, source: io::Error },
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::Open { path, source } => {
                write!(f, "cannot open the audit log {}: {source}", path.display())
            }
            AuditError::Write { path, source } => {
                write!(f, "cannot write the audit log {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for AuditError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuditError::Open { source, .. } | AuditError::Write { source, .. } => Some(source),
        }
    }
}

/// The append-only log at one path.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    lock: Mutex<()>,
    seq: AtomicU64,
    boot: u64,
    /// The open decisions ([`journal`]); `None` for a writer that writes each decision and its
    /// outcome back to back and must not create files in the log's directory (a direct
    /// `loxwarden estop` as root).
    journal: Option<Journal>,
}

impl AuditLog {
    /// Opens (creating the file 0600 and its directory 0750 if missing) and checks the log can
    /// be written. Fails when it cannot: serving without an audit log is not an option.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        AuditLog::open_with(path, true)
    }

    /// [`AuditLog::open`] without the journal of open decisions (see the `journal` field).
    pub fn open_unjournaled(path: &Path) -> Result<AuditLog, AuditError> {
        AuditLog::open_with(path, false)
    }

    fn open_with(path: &Path, journaled: bool) -> Result<AuditLog, AuditError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o750)
                .create(dir)
                .map_err(|source| AuditError::Open {
                    path: path.to_owned(),
                    source,
                })?;
        }
        let log = AuditLog {
            path: path.to_owned(),
            lock: Mutex::new(()),
            seq: AtomicU64::new(0),
            boot: unix_ms(SystemTime::now()),
            journal: None,
        };
        log.open_file()?;
        let journal = if journaled {
            Some(Journal::open(path).map_err(|source| AuditError::Open {
                path: path.to_owned(),
                source,
            })?)
        } else {
            None
        };
        Ok(AuditLog { journal, ..log })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open_file(&self) -> Result<File, AuditError> {
        OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(|source| AuditError::Open {
                path: self.path.clone(),
                source,
            })
    }

    /// A new audit id, unique within this log: `{start time in ms, base 36}-{sequence}`.
    pub fn next_id(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        format!("{}-{n}", base36(self.boot))
    }

    /// Appends one record and returns once it is on disk. An error means the caller must not
    /// send the command the record describes.
    pub fn write(&self, record: &Record) -> Result<(), AuditError> {
        let mut line = serde_json::to_string(record).map_err(|e| AuditError::Write {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        line.push('\n');
        let werr = |source| AuditError::Write {
            path: self.path.clone(),
            source,
        };
        // An allowed decision is journaled as open before it is in the log, so the log never
        // holds a decision the next start could not find (see [`journal`]).
        let opens = match record {
            Record::Decided(d) if d.verdict == "allow" => Some(d),
            _ => None,
        };
        if let (Some(d), Some(j)) = (opens, &self.journal) {
            j.opened(&d.audit_id, &d.plan).map_err(werr)?;
        }
        let written = self.append(line.as_bytes());
        match (record, &self.journal, &written) {
            (Record::Decided(d), Some(j), Err(_)) if opens.is_some() => {
                // Not in the log, so not open.
                let _ = j.closed(&d.audit_id);
            }
            (Record::Outcome(o), Some(j), Ok(())) => {
                if let Err(e) = j.closed(&o.audit_id) {
                    // The outcome is on disk; a stale entry only adds a second, "not known"
                    // outcome at the next start.
                    log::warn!("cannot remove the open-decision entry {}: {e}", o.audit_id);
                }
            }
            _ => {}
        }
        written
    }

    fn append(&self, line: &[u8]) -> Result<(), AuditError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut f = self.open_file()?;
        let werr = |source| AuditError::Write {
            path: self.path.clone(),
            source,
        };
        f.write_all(line).map_err(werr)?;
        f.sync_data().map_err(werr)?;
        Ok(())
    }
}

// ------------------------------------------------------------------ interrupted calls

/// The error of every step of a call whose outcome was never recorded.
pub const NOT_KNOWN: &str = "not known: loxwarden stopped before it recorded the Miniserver's \
     answer; the command may or may not have been sent (check the device)";

impl AuditLog {
    /// Appends an outcome for every allowed decision a previous run left without one (killed,
    /// crashed, power lost), found through the [`journal`] of open decisions, whatever the log's
    /// size. The outcome says the answer is not known (`ok: false`, [`NOT_KNOWN`] for each
    /// step), never that a command was or was not sent, so every decision in the log has an
    /// outcome. Called at every start before serving (daemon, `serve --standalone`): then no
    /// call of this process is open, and a call of another process still running on the same
    /// log is left alone. Returns the audit ids closed.
    pub fn close_interrupted(&self, now: SystemTime) -> Result<Vec<String>, AuditError> {
        let Some(journal) = &self.journal else {
            return Ok(Vec::new());
        };
        let open: Vec<(String, Vec<String>)> = journal
            .left_open()
            .map_err(|source| AuditError::Open {
                path: journal.dir().to_owned(),
                source,
            })?
            .into_iter()
            .map(|e| (e.audit_id, e.plan))
            .collect();
        let mut closed = Vec::new();
        for (id, plan) in open {
            self.write(&Record::Outcome(Outcome {
                time: rfc3339(now),
                audit_id: id.clone(),
                ok: false,
                results: plan
                    .into_iter()
                    .map(|command| StepResult {
                        command,
                        code: None,
                        value: None,
                        error: Some(NOT_KNOWN.to_owned()),
                    })
                    .collect(),
                read_back: Vec::new(),
                latency_ms: 0,
                interrupted: true,
            }))?;
            closed.push(id);
        }
        Ok(closed)
    }
}

// ------------------------------------------------------------------ time

// ------------------------------------------------------------------ reading

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "loxwarden-audit-{}-{}-{name}",
            std::process::id(),
            unix_ms(SystemTime::now())
        ));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn decided(id: &str, time: &str) -> Record {
        Record::Decided(Box::new(Decided {
            time: time.into(),
            audit_id: id.into(),
            session: 3,
            client: "claude-code 1.0".into(),
            peer_uid: Some(1000),
            tool: "control_blind".into(),
            device: Some(DeviceRef {
                id: "4c570000-000a-0000-ffff00000000000a".into(),
                name: "Bedroom/Blind".into(),
            }),
            intent: serde_json::json!({"tool": "control_blind", "action": "down"}),
            verdict: "allow".into(),
            rule: None,
            reason: None,
            consent: None,
            plan: vec!["jdev/sps/io/4c570000-000a-0000-ffff00000000000a/FullDown".into()],
        }))
    }

    #[test]
    fn a_decision_a_stopped_run_left_without_outcome_gets_one_that_says_the_answer_is_not_known() {
        let dir = tmp("interrupted");
        let path = dir.join("audit.jsonl");
        let before = AuditLog::open(&path).unwrap();
        // One call finished, one refused, one interrupted (its decision alone).
        let done = before.next_id();
        before
            .write(&decided(&done, "2026-03-09T21:04:05.123Z"))
            .unwrap();
        before
            .write(&Record::Outcome(Outcome {
                time: "2026-03-09T21:04:05.400Z".into(),
                audit_id: done.clone(),
                ok: true,
                results: Vec::new(),
                read_back: Vec::new(),
                latency_ms: 277,
                interrupted: false,
            }))
            .unwrap();
        let refused = before.next_id();
        let Record::Decided(mut r) = decided(&refused, "2026-03-09T21:04:06.000Z") else {
            unreachable!()
        };
        r.verdict = "refuse".into();
        before.write(&Record::Decided(r)).unwrap();
        let cut = before.next_id();
        before
            .write(&decided(&cut, "2026-03-09T21:04:07.000Z"))
            .unwrap();
        // The next run closes it, once.
        let after = AuditLog::open(&path).unwrap();
        assert_eq!(
            after.close_interrupted(SystemTime::now()).unwrap(),
            std::slice::from_ref(&cut)
        );
        assert!(
            after
                .close_interrupted(SystemTime::now())
                .unwrap()
                .is_empty()
        );
        let last: Record = serde_json::from_str(
            std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .last()
                .unwrap(),
        )
        .unwrap();
        let Record::Outcome(o) = last else {
            panic!("{last:?}")
        };
        assert_eq!(o.audit_id, cut);
        assert!(!o.ok);
        assert_eq!(o.results.len(), 1);
        assert_eq!(o.results[0].code, None);
        assert_eq!(o.results[0].error.as_deref(), Some(NOT_KNOWN));
        assert!(o.results[0].command.ends_with("/FullDown"));
        assert!(o.interrupted);
        assert!(render(&Record::Outcome(o)).contains(" outcome NOT KNOWN (interrupted) in 0 ms: "));
        // Other failures, with or without steps (an emergency stop with no house), read FAILED.
        for results in [
            Vec::new(),
            vec![StepResult {
                command: "jdev/sps/io/x/FullDown".into(),
                code: Some(500),
                value: None,
                error: None,
            }],
        ] {
            let nothing = results.is_empty();
            let failed = Record::Outcome(Outcome {
                time: "2026-03-09T21:04:08.000Z".into(),
                audit_id: "f-1".into(),
                ok: false,
                results,
                read_back: Vec::new(),
                latency_ms: 12,
                interrupted: false,
            });
            assert!(
                render(&failed).contains(" outcome FAILED in 12 ms:"),
                "{}",
                render(&failed)
            );
            // Never a colon with nothing after it.
            assert!(!render(&failed).ends_with(':'), "{}", render(&failed));
            if nothing {
                assert!(
                    render(&failed).ends_with(" in 12 ms: no command was sent"),
                    "{}",
                    render(&failed)
                );
            }
        }
    }

    #[test]
    fn a_decision_names_its_client_and_uid_only_when_known() {
        let shown = |client: &str, uid: Option<u32>| {
            let Record::Decided(mut d) = decided("r-1", "2026-03-09T21:04:05.123Z") else {
                unreachable!()
            };
            d.client = client.into();
            d.peer_uid = uid;
            render(&Record::Decided(d))
        };
        assert!(
            shown("claude-code 1.0", Some(1000)).contains(" session 3 (claude-code 1.0, uid 1000)")
        );
        assert!(shown("", Some(1000)).contains(" session 3 (uid 1000)"));
        assert!(shown("n8n", None).contains(" session 3 (n8n)"));
        assert!(!shown("", None).contains(" session 3 ("));
    }

    #[test]
    fn a_decision_left_open_behind_megabytes_of_records_is_still_closed_at_the_next_start() {
        let dir = tmp("interrupted-deep");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.jsonl");
        let before = AuditLog::open(&path).unwrap();
        before
            .write(&decided("deep-1", "2026-03-09T21:04:05.123Z"))
            .unwrap();
        // 4 MiB of refusals after it (issue 19 item 10: one session wrote 3.7 MB in 6 s).
        let Record::Decided(mut r) = decided("r-x", "2026-03-09T21:04:06.000Z") else {
            unreachable!()
        };
        r.verdict = "refuse".into();
        r.reason = Some("x".repeat(4000));
        let refusal = Record::Decided(r);
        while std::fs::metadata(&path).unwrap().len() < 4 << 20 {
            before.write(&refusal).unwrap();
        }
        let after = AuditLog::open(&path).unwrap();
        assert_eq!(
            after.close_interrupted(SystemTime::now()).unwrap(),
            ["deep-1"]
        );
        assert!(
            after
                .close_interrupted(SystemTime::now())
                .unwrap()
                .is_empty()
        );
        // The journal is empty again: its size never follows the log's.
        assert_eq!(
            std::fs::read_dir(dir.join("audit.jsonl.open"))
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn a_decision_that_could_not_be_logged_is_not_left_open() {
        let dir = tmp("not-logged");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert!(
            log.write(&decided("lost-1", "2026-03-09T21:04:05.123Z"))
                .is_err()
        );
        assert!(log.close_interrupted(SystemTime::now()).unwrap().is_empty());
    }

    #[test]
    fn records_are_appended_as_json_lines_and_read_back() {
        let dir = tmp("append");
        let path = dir.join("sub/audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let id = log.next_id();
        log.write(&decided(&id, "2026-03-09T21:04:05.123Z"))
            .unwrap();
        log.write(&Record::Outcome(Outcome {
            time: "2026-03-09T21:04:05.400Z".into(),
            audit_id: id.clone(),
            ok: true,
            results: vec![StepResult {
                command: "jdev/sps/io/4c570000-000a-0000-ffff00000000000a/FullDown".into(),
                code: Some(200),
                value: Some("1".into()),
                error: None,
            }],
            read_back: vec![],
            latency_ms: 277,
            interrupted: false,
        }))
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let r: Record = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(r, decided(&id, "2026-03-09T21:04:05.123Z"));
        assert!(lines[1].contains("\"record\":\"outcome\""));
        // Reopening appends, never truncates.
        let log2 = AuditLog::open(&path).unwrap();
        log2.write(&decided("x-1", "2026-03-09T21:05:00.000Z"))
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_log_file_is_created_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tmp("mode");
        let path = dir.join("audit.jsonl");
        AuditLog::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unwritable_log_fails_to_open_and_to_write() {
        let dir = tmp("closed");
        std::fs::create_dir_all(&dir).unwrap();
        // The parent of the log path is a regular file: no one, not even root, can create it.
        let blocker = dir.join("not-a-dir");
        std::fs::write(&blocker, b"x").unwrap();
        assert!(AuditLog::open(&blocker.join("audit.jsonl")).is_err());
        // A log that worked, then became unwritable (replaced by a directory): write fails.
        let path = dir.join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        let e = log
            .write(&decided("a-1", "2026-03-09T21:04:05.123Z"))
            .unwrap_err();
        assert!(e.to_string().contains("audit log"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_write_that_fails_is_reported_so_the_command_is_refused() {
        // /dev/full accepts the open and fails every write with ENOSPC.
        let full = Path::new("/dev/full");
        if !full.exists() {
            return;
        }
        let log = AuditLog::open(full).unwrap();
        let e = log
            .write(&decided("a-1", "2026-03-09T21:04:05.123Z"))
            .unwrap_err();
        assert!(matches!(e, AuditError::Write { .. }), "{e}");
    }

    #[test]
    fn an_unreadable_audit_log_is_not_reported_as_missing() {
        let dir = tmp("unreadable");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("plain-file");
        std::fs::write(&file, b"").unwrap();
        // A path under a plain file cannot be opened, and it is not "missing" either.
        let mut out = Vec::new();
        let e = follow(&file.join("audit.jsonl"), false, None, &mut out).unwrap_err();
        assert!(e.starts_with("cannot read the audit log"), "{e}");
        let e = follow(&dir.join("absent.jsonl"), false, None, &mut out).unwrap_err();
        assert!(e.starts_with("no audit log at"), "{e}");
        assert!(out.is_empty());
    }

    #[test]
    fn audit_ids_are_unique_and_ordered() {
        let dir = tmp("ids");
        let log = AuditLog::open(&dir.join("a.jsonl")).unwrap();
        let a = log.next_id();
        let b = log.next_id();
        assert_ne!(a, b);
        assert!(a.ends_with("-1") && b.ends_with("-2"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn times_format_and_parse_in_utc() {
        let t = UNIX_EPOCH + Duration::from_millis(1_773_090_245_123);
        let s = rfc3339(t);
        assert_eq!(s, "2026-03-09T21:04:05.123Z");
        assert_eq!(record_ms(&s), Some(1_773_090_245_123));
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(parse_since("2026-03-09", t).unwrap(), 1_773_014_400_000);
        assert_eq!(
            parse_since("2026-03-09T21:04", t).unwrap(),
            1_773_090_240_000
        );
        assert_eq!(parse_since("10m", t).unwrap(), 1_773_090_245_123 - 600_000);
        for bad in ["yesterday", "2026-13-01", "10x", "2026-03-09T25:00", ""] {
            assert!(parse_since(bad, t).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_reader_prints_readable_lines_filters_by_time_and_follows_growth() {
        let dir = tmp("read");
        let path = dir.join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.write(&decided("a-1", "2026-03-09T21:04:05.123Z"))
            .unwrap();
        let mut refused = decided("a-2", "2026-03-10T08:00:00.000Z");
        if let Record::Decided(d) = &mut refused {
            d.verdict = "refuse".into();
            d.rule = Some("R-13".into());
            d.reason = Some("Bedroom/Blind was commanded 0.5 s ago".into());
            d.plan.clear();
        }
        log.write(&refused).unwrap();
        let mut out = Vec::new();
        let mut f = Follower::new(&path, None);
        assert_eq!(f.poll(&mut out).unwrap(), 2);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(
                "2026-03-09T21:04:05.123Z a-1 session 3 (claude-code 1.0, uid 1000) control_blind \
             Bedroom/Blind (4c570000-000a-0000-ffff00000000000a) down -> allowed sends jdev/sps/io/"
            ),
            "{text}"
        );
        assert!(
            text.contains("-> REFUSED R-13: Bedroom/Blind was commanded 0.5 s ago"),
            "{text}"
        );
        // Nothing new: nothing printed. A new record and a garbage line: both shown.
        let mut out = Vec::new();
        assert_eq!(f.poll(&mut out).unwrap(), 0);
        log.write(&decided("a-3", "2026-03-10T09:00:00.000Z"))
            .unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"not json\n")
            .unwrap();
        assert_eq!(f.poll(&mut out).unwrap(), 2);
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains("(unreadable record) not json")
        );
        // --since keeps only later records.
        let mut out = Vec::new();
        let mut g = Follower::new(
            &path,
            Some(parse_since("2026-03-10", SystemTime::now()).unwrap()),
        );
        g.poll(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains("a-1 ") && text.contains("a-2 ") && text.contains("a-3 "),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_partially_written_line_waits_for_its_end() {
        let dir = tmp("partial");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.jsonl");
        let line = serde_json::to_string(&decided("a-1", "2026-03-09T21:04:05.123Z")).unwrap();
        let (a, b) = line.split_at(40);
        std::fs::write(&path, a).unwrap();
        let mut f = Follower::new(&path, None);
        let mut out = Vec::new();
        assert_eq!(f.poll(&mut out).unwrap(), 0);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(format!("{b}\n").as_bytes())
            .unwrap();
        assert_eq!(f.poll(&mut out).unwrap(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reading_a_missing_log_without_follow_is_an_error() {
        let mut out = Vec::new();
        assert!(
            follow(
                Path::new("/nonexistent/loxwarden/audit.jsonl"),
                false,
                None,
                &mut out
            )
            .is_err()
        );
    }

    #[test]
    fn every_control_and_format_character_is_shown_escaped() {
        assert_eq!(escape("a\nb\u{1b}[2K"), "a\\u{a}b\\u{1b}[2K");
        for c in [
            '\u{202e}',
            '\u{2066}',
            '\u{200b}',
            '\u{feff}',
            '\u{061c}',
            '\u{e0041}',
        ] {
            assert_eq!(escape(&c.to_string()), format!("\\u{{{:x}}}", c as u32));
        }
        // A backslash is escaped too, so an escape in the text cannot pass for one of ours.
        assert_eq!(escape("\\u{a}"), "\\\\u{a}");
        assert_eq!(escape("Küche/Jalousie"), "Küche/Jalousie");
    }

    #[test]
    fn pending_rejected_and_read_records_are_not_shown_as_allowed() {
        for (verdict, shown) in [
            ("pending", "-> PENDING"),
            ("rejected", "-> REJECTED"),
            ("read", "-> read"),
            ("allow", "-> allowed"),
            ("refuse", "-> REFUSED"),
            ("made-up", "-> made-up (unknown verdict"),
        ] {
            let r: Record = serde_json::from_value(serde_json::json!({
                "record": "decided", "time": "t", "audit_id": "a", "session": 1, "client": "",
                "tool": "x", "intent": {}, "verdict": verdict
            }))
            .unwrap();
            let line = render(&r);
            assert!(line.contains(shown), "{verdict}: {line}");
            if verdict != "allow" {
                assert!(!line.contains("allowed"), "{verdict}: {line}");
            }
        }
    }
}
