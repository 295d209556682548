//! The journal of open decisions (R-14, issue 19 item 10): one small file per allowed decision
//! whose outcome is not in the log yet, in a directory beside the log (`audit.jsonl.open/`).
//!
//! Why not read the log's tail at start: a session can write megabytes of refusals in seconds
//! and push an open decision out of any window, and the log can be gigabytes. The journal holds
//! exactly the decisions without an outcome, whatever the log's size: the entry is on disk
//! before the decision record (so a decision is never in the log without one), and removed
//! once the outcome is. At the next start [`Journal::left_open`] lists the entries whose writer
//! is gone, and the log gives each an outcome that says the answer is not known.
//!
//! Each entry names its writer's process id: a second process on the same log (a
//! `serve --standalone` next to the daemon) never closes a call the other is still carrying
//! out. A pid that was reused only delays the closing to a later start.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One open decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub audit_id: String,
    /// The commands the decision was about to send (its outcome lists each as not known).
    pub plan: Vec<String>,
    /// The process that wrote the decision.
    pub pid: u32,
}

/// The directory of open decisions of one log.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// The journal of the log at `log` (`{log}.open/`), created owner-only if missing.
    pub fn open(log: &Path) -> io::Result<Journal> {
        let mut name = log.file_name().unwrap_or_default().to_os_string();
        name.push(".open");
        let dir = log.with_file_name(name);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
        Ok(Journal { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, audit_id: &str) -> PathBuf {
        let safe: String = audit_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(100)
            .collect();
        self.dir.join(format!("{safe}.json"))
    }

    /// Records a decision as open; returns once the entry is on disk.
    pub fn opened(&self, audit_id: &str, plan: &[String]) -> io::Result<()> {
        let entry = Entry {
            audit_id: audit_id.to_owned(),
            plan: plan.to_vec(),
            pid: std::process::id(),
        };
        let path = self.file(audit_id);
        let tmp = path.with_extension("tmp");
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&serde_json::to_vec(&entry).map_err(io::Error::other)?)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)?;
        File::open(&self.dir)?.sync_all()
    }

    /// The decision has its outcome: its entry goes.
    pub fn closed(&self, audit_id: &str) -> io::Result<()> {
        match fs::remove_file(self.file(audit_id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Entries whose writer is this process or no longer runs: calls a stopped run left
    /// open. An unreadable entry is returned with its file name as id and no plan.
    pub fn left_open(&self) -> io::Result<Vec<Entry>> {
        let me = std::process::id();
        let mut out = Vec::new();
        for item in fs::read_dir(&self.dir)? {
            let path = item?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let entry = fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<Entry>(&b).ok())
                .unwrap_or_else(|| Entry {
                    audit_id: path
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or_default()
                        .to_owned(),
                    plan: Vec::new(),
                    pid: 0,
                });
            let alive = entry.pid != me
                && entry.pid != 0
                && Path::new(&format!("/proc/{}", entry.pid)).exists();
            if !alive {
                out.push(entry);
            }
        }
        out.sort_by(|a, b| a.audit_id.cmp(&b.audit_id));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("loxwarden-journal-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d.join("audit.jsonl")
    }

    #[test]
    fn an_entry_lives_from_decision_to_outcome() {
        let j = Journal::open(&tmp("life")).unwrap();
        j.opened("abc-1", &["jdev/sps/io/x/on".into()]).unwrap();
        j.opened("abc-2", &[]).unwrap();
        j.closed("abc-1").unwrap();
        j.closed("abc-1").unwrap();
        let left = j.left_open().unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].audit_id, "abc-2");
    }

    #[test]
    fn an_entry_of_a_process_that_still_runs_is_not_left_open() {
        let j = Journal::open(&tmp("alive")).unwrap();
        // Process 1 (init) always runs; a pid past the kernel's limit never does.
        for (pid, left) in [(1, false), (u32::MAX - 1, true)] {
            let e = Entry {
                audit_id: format!("p-{pid}"),
                plan: Vec::new(),
                pid,
            };
            fs::write(j.file(&e.audit_id), serde_json::to_vec(&e).unwrap()).unwrap();
            let found = j.left_open().unwrap().iter().any(|x| x.pid == pid);
            assert_eq!(found, left, "pid {pid}");
        }
    }
}
