//! The two ways a stop reaches the Miniserver: through the running link (the daemon, `serve
//! --standalone`, `demo`), or directly with the stored token (`loxwarden estop` when no daemon
//! answers).
//!
//! Why here: both hand the same plan to [`send_all`](super::send::send_all); only the transport
//! differs, and it should be visible in one place which one can pipeline (only the link has an
//! authenticated websocket open).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::send::Sender;
use crate::loxone::auth::Token;
use crate::loxone::client::{Client, Reply, SendFailure};
use crate::loxone::command::Command;
use crate::loxone::link::Link;
use crate::loxone::secret::Secret;
use crate::loxone::uuid::ControlAddr;
use crate::loxone::ws::Answered;
use crate::safety::Step;

/// Through the link: pipelined on its websocket when it is live; over HTTP with its client (or
/// one new connection for the whole stop when it has none) for the rest.
pub struct ViaLink<'a> {
    link: &'a Link,
    client: Mutex<Option<Arc<Client>>>,
}

impl<'a> ViaLink<'a> {
    pub fn new(link: &'a Link) -> ViaLink<'a> {
        ViaLink {
            link,
            client: Mutex::new(None),
        }
    }

    fn client(&self) -> Result<Arc<Client>, String> {
        let mut c = self.client.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = &*c {
            return Ok(Arc::clone(c));
        }
        let fresh = self.link.emergency_client().map_err(|e| e.to_string())?;
        *c = Some(Arc::clone(&fresh));
        Ok(fresh)
    }
}

impl Sender for ViaLink<'_> {
    fn pipelined(&self, cmds: &[Command]) -> Result<Vec<Answered>, String> {
        self.link
            .send_pipelined(cmds, self.link.command_timeout())
            .map_err(|e| e.to_string())
    }

    fn http(&self, step: &Step) -> Result<Reply, String> {
        let client = self.client()?;
        self.link
            .send_emergency_with(&client, &step.command)
            .map_err(|e| e.to_string())
    }

    fn timeout(&self) -> Duration {
        self.link.command_timeout()
    }

    fn under_way(&self) -> Vec<(u64, ControlAddr)> {
        self.link.under_way()
    }

    /// A command under way takes at most a `getkey` and the request itself, each bounded by
    /// the command timeout.
    fn wait_landed(&self, ids: &[u64]) -> bool {
        let bound = 2 * self.link.command_timeout() + Duration::from_secs(1);
        self.link.wait_landed(ids, Instant::now() + bound)
    }
}

/// Directly over HTTP with the stored token (no link, no websocket).
pub struct Direct<'a> {
    pub client: &'a Client,
    pub token: &'a Token,
    pub visu: Option<&'a Secret>,
    pub timeout: Duration,
}

impl Sender for Direct<'_> {
    fn has_websocket(&self) -> bool {
        false
    }

    fn pipelined(&self, _cmds: &[Command]) -> Result<Vec<Answered>, String> {
        Err("the direct stop has no websocket".into())
    }

    fn http(&self, step: &Step) -> Result<Reply, String> {
        self.client
            .send(self.token, &step.command, step.secured, self.visu)
            .map_err(|e| match e {
                SendFailure::NoVisuPassword => {
                    "secured control and no visualisation password configured".into()
                }
                SendFailure::Link(l) => l.to_string(),
            })
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }
}
