//! The daemon's list of open MCP connections, for `loxwarden status` and the session cap.
//!
//! Why a cap: every member of the socket's group can open connections, each costs a thread
//! or more; a runaway client must not starve the one that matters. Over the cap a connection
//! is refused with a message, and the others keep working.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Open MCP connections at most.
pub const MAX_SESSIONS: usize = 32;

/// One open connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The daemon's connection number (not the MCP session id).
    pub connection: u64,
    pub uid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub read_only: bool,
    pub since_unix: u64,
}

#[derive(Debug, Default)]
pub struct Sessions {
    next: AtomicU64,
    rows: Mutex<BTreeMap<u64, Row>>,
}

/// Removes its row when dropped (the connection's thread ends, however it ends).
#[derive(Debug)]
pub struct Open {
    sessions: Arc<Sessions>,
    connection: u64,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.sessions.rows().remove(&self.connection);
    }
}

impl Sessions {
    /// Registers a connection, or says why not (the cap).
    pub fn open(
        self: &Arc<Self>,
        uid: u32,
        user: Option<String>,
        read_only: bool,
    ) -> Result<Open, String> {
        let mut rows = self.rows();
        if rows.len() >= MAX_SESSIONS {
            return Err(format!(
                "the daemon already serves {MAX_SESSIONS} sessions; close one and try again"
            ));
        }
        let connection = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        rows.insert(
            connection,
            Row {
                connection,
                uid,
                user,
                read_only,
                since_unix: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0),
            },
        );
        Ok(Open {
            sessions: self.clone(),
            connection,
        })
    }

    pub fn list(&self) -> Vec<Row> {
        self.rows().values().cloned().collect()
    }

    pub fn count(&self) -> usize {
        self.rows().len()
    }

    fn rows(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Row>> {
        self.rows.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_leave_with_their_connection_and_the_cap_holds() {
        let s = Arc::new(Sessions::default());
        let a = s.open(1001, Some("ai".into()), false).unwrap();
        let b = s.open(1002, None, true).unwrap();
        assert_eq!(s.count(), 2);
        drop(a);
        assert_eq!(s.list().iter().map(|r| r.uid).collect::<Vec<_>>(), [1002]);
        drop(b);
        let held: Vec<Open> = (0..MAX_SESSIONS)
            .map(|_| s.open(1, None, false).unwrap())
            .collect();
        assert!(
            s.open(1, None, false)
                .unwrap_err()
                .contains("already serves")
        );
        drop(held);
        assert!(s.open(1, None, false).is_ok());
    }
}
