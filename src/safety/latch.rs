//! The emergency-stop latch.
//!
//! Why a file is the source of truth: the stop must hold across a daemon restart, and
//! `loxwarden estop` must be able to latch it when the daemon is hung or absent, by writing the
//! file itself. So every question "is the stop latched?" looks at the file (one `stat`, and a
//! read when it exists), and the in-memory copy only adds to it: if the file cannot be written
//! (state directory unwritable), the process still latches in memory and says so. An unreadable
//! or garbled latch file counts as latched: a stop is never lifted by accident.
//!
//! Only `loxwarden resume` (a local command) releases the latch; no MCP tool can.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// File name of the latch inside the state directory.
pub const LATCH_FILE: &str = "estop.latch";

/// A latched emergency stop: since when, why, and who pulled it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latched {
    /// Seconds since the Unix epoch.
    pub since_unix: u64,
    pub reason: String,
    /// Who latched it, e.g. `cli uid 0`, `mcp session 3 (uid 1000)`.
    pub by: String,
}

impl Latched {
    pub fn since(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.since_unix)
    }
}

/// The latch: a file (when a state directory is known), and memory when there is no file or
/// it could not be written.
#[derive(Debug)]
pub struct Latch {
    path: Option<PathBuf>,
    memory: Mutex<Option<Latched>>,
}

impl Latch {
    /// A latch persisted as `state_dir/estop.latch`.
    pub fn in_dir(state_dir: &Path) -> Latch {
        Latch {
            path: Some(state_dir.join(LATCH_FILE)),
            memory: Mutex::new(None),
        }
    }

    /// A latch that lives only as long as the process (tests, the demo).
    pub fn in_memory() -> Latch {
        Latch {
            path: None,
            memory: Mutex::new(None),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The current latch, if any: the file's, else the memory's.
    pub fn current(&self) -> Option<Latched> {
        if let Some(path) = &self.path {
            match fs::read(path) {
                Ok(bytes) => {
                    return Some(serde_json::from_slice(&bytes).unwrap_or_else(|_| Latched {
                        since_unix: 0,
                        reason: "the latch file is unreadable; treated as latched".into(),
                        by: "unknown".into(),
                    }));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(_) => {
                    return Some(Latched {
                        since_unix: 0,
                        reason: "the latch file cannot be read; treated as latched".into(),
                        by: "unknown".into(),
                    });
                }
            }
        }
        self.memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn is_latched(&self) -> bool {
        self.current().is_some()
    }

    /// Latches the stop. Memory first (so this process stops at once), then the file. An
    /// existing latch is kept as it is (the first reason wins). An error means the file could
    /// not be written: the process is latched, but a restart would not remember it.
    pub fn engage(&self, reason: &str, by: &str, now: SystemTime) -> io::Result<Latched> {
        if let Some(existing) = self.current() {
            return Ok(existing);
        }
        let latched = Latched {
            since_unix: now
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            reason: reason.chars().take(500).collect(),
            by: by.chars().take(200).collect(),
        };
        *self.memory.lock().unwrap_or_else(|e| e.into_inner()) = Some(latched.clone());
        if let Some(path) = &self.path {
            write_atomically(path, &serde_json::to_vec(&latched).unwrap_or_default())?;
            // The file holds it now; memory keeps a latch only when the file cannot, so a
            // `resume` by another process (which removes the file) reaches this one too.
            *self.memory.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        Ok(latched)
    }

    /// Lifts the latch (file and memory). Returns what was latched.
    pub fn release(&self) -> io::Result<Option<Latched>> {
        let was = self.current();
        if let Some(path) = &self.path {
            match fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        *self.memory.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(was)
    }
}

/// Writes the latch file atomically, owner-only, through the state store's writer.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Err(io::Error::other(
            "the latch path has no directory or file name",
        ));
    };
    crate::loxone::store::write_private(dir, name, bytes)
        .map(|_| ())
        .map_err(|e| io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("loxwarden-estop-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_latch_survives_a_new_process_reading_the_same_directory() {
        let d = tmpdir("survive");
        let a = Latch::in_dir(&d);
        a.engage(
            "smoke in the hall",
            "cli uid 0",
            UNIX_EPOCH + Duration::from_secs(100),
        )
        .unwrap();
        let b = Latch::in_dir(&d);
        let l = b.current().expect("latched after restart");
        assert_eq!(l.reason, "smoke in the hall");
        assert_eq!(l.since_unix, 100);
        b.release().unwrap();
        assert!(
            !a.is_latched(),
            "release through the file reaches every reader"
        );
    }

    #[test]
    fn the_first_reason_wins_and_release_reports_it() {
        let l = Latch::in_memory();
        l.engage("first", "a", SystemTime::now()).unwrap();
        l.engage("second", "b", SystemTime::now()).unwrap();
        assert_eq!(l.current().unwrap().reason, "first");
        assert_eq!(l.release().unwrap().unwrap().reason, "first");
        assert!(!l.is_latched());
    }

    #[test]
    fn a_garbled_latch_file_counts_as_latched() {
        let d = tmpdir("garbled");
        fs::write(d.join(LATCH_FILE), b"{not json").unwrap();
        assert!(Latch::in_dir(&d).is_latched());
    }

    #[test]
    fn an_unwritable_directory_still_latches_this_process() {
        // Nobody, not even root, can create a directory in /proc.
        let l = Latch::in_dir(Path::new("/proc/loxwarden-no-such-state-dir"));
        assert!(l.engage("stop", "test", SystemTime::now()).is_err());
        assert!(l.is_latched());
    }

    #[test]
    fn the_latch_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let d = tmpdir("mode");
        Latch::in_dir(&d)
            .engage("x", "y", SystemTime::now())
            .unwrap();
        let mode = fs::metadata(d.join(LATCH_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
