//! The gate every command passes on its way to the Miniserver, and why one was not sent.
//!
//! Why here and nowhere else: the three checks (the link is live, SC-4/SC-8; the command was
//! resolved against the structure loaded now; the control still exists in it) and the
//! `LoxAPPversion3` question right before sending must hold for every command, so there is one
//! door. The emergency stop has its own, which tries even when the link is not live.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Link, LoadedStructure, StructureSource};
use crate::loxone::auth::Token;
use crate::loxone::client::{Client, Reply, SendFailure};
use crate::loxone::command::Command;
use crate::loxone::errors::LinkError;
use crate::loxone::health::{Event, Health};
use crate::loxone::uuid::ControlAddr;

/// Why a command was not sent (or may not have arrived).
#[derive(Debug)]
pub enum SendError {
    /// The link is not live (SC-4, SC-8).
    NotLive(Health),
    /// The structure changed since the command was resolved; resolve again.
    StructureChanged { resolved: u64, now: u64 },
    /// The control is not in the Miniserver's structure (removed, or never there).
    UnknownControl(ControlAddr),
    /// A secured control and no visualisation password.
    NoVisuPassword(ControlAddr),
    /// The request failed; the command may or may not have reached the Miniserver.
    Link(LinkError),
    /// A request *before* the command (the structure check, the connection) failed, so the
    /// command itself was never sent. Told apart from [`SendError::Link`] so that neither the
    /// result nor the audit log says "may have reached" about a command that cannot have.
    NotSent(LinkError),
    /// The caller's last check before the command left refused it (the latch); not sent.
    Held(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::NotLive(h) => {
                let ago = SystemTime::now()
                    .duration_since(h.since_wall)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let at = h
                    .since_wall
                    .duration_since(UNIX_EPOCH)
                    .map(|d| crate::loxone::auth::format_unix(d.as_secs()))
                    .unwrap_or_default();
                write!(
                    f,
                    "SC-4: the Miniserver link is {} since {at} UTC ({ago} s ago): {}. Nothing was sent",
                    h.state.as_str(),
                    if h.reason.is_empty() {
                        "no reason recorded"
                    } else {
                        &h.reason
                    }
                )
            }
            SendError::StructureChanged { resolved, now } => write!(
                f,
                "the Miniserver's structure file changed (generation {resolved} → {now}) after this command was resolved; it was reloaded and the command was not sent. Resolve the device again"
            ),
            SendError::UnknownControl(a) => write!(
                f,
                "SC-10: control {a} is not in the Miniserver's structure file (removed or never there); nothing was sent"
            ),
            SendError::NoVisuPassword(a) => write!(
                f,
                "control {a} is secured with a visualisation password and none is configured (set miniserver.visu_password_file or LOXWARDEN_VISU_PASSWORD); nothing was sent"
            ),
            SendError::Link(e) => write!(f, "the command may not have reached the Miniserver: {e}"),
            SendError::Held(why) => write!(f, "{why}"),
            SendError::NotSent(e) => write!(
                f,
                "the Miniserver did not answer the check before the command ({e}); nothing was sent"
            ),
        }
    }
}

impl std::error::Error for SendError {}

impl Link {
    /// Sends a command resolved against structure `generation`. Refuses (nothing sent) when
    /// the link is not live, the structure changed, or the control is not in it. Returns the
    /// Miniserver's real code and value; read the state that followed with
    /// [`Link::wait_for_states`].
    pub fn send(&self, cmd: &Command, generation: u64) -> Result<Reply, SendError> {
        self.send_gated(cmd, generation, &|| None)
    }

    /// [`Link::send`], asking `gate` once more right before the command itself leaves (after
    /// the structure check, which is a round trip of its own): a reason from it means nothing
    /// is sent ([`SendError::Held`]). The emergency-stop latch is checked so, however slow the
    /// Miniserver answers the check before.
    pub fn send_gated(
        &self,
        cmd: &Command,
        generation: u64,
        gate: &dyn Fn() -> Option<String>,
    ) -> Result<Reply, SendError> {
        let snap = self.live_structure(generation)?;
        let Some(control) = snap.structure.control(&cmd.target) else {
            return Err(SendError::UnknownControl(cmd.target.clone()));
        };
        let secured = control.is_secured;
        if secured && self.visu.is_none() {
            return Err(SendError::NoVisuPassword(cmd.target.clone()));
        }
        let (client, token) = self.client_and_token()?;
        // The structure must still be the one the command was resolved against.
        let version = match client.structure_version(&token) {
            Ok(v) => v,
            Err(LinkError::Auth(a)) => {
                // The token is refused before the command went out: the link is down now.
                self.request_reconnect(Event::TokenRefused(a.to_string()));
                return Err(SendError::NotLive(self.health()));
            }
            Err(e) => return Err(SendError::NotSent(e)),
        };
        if version != snap.structure.last_modified {
            log::warn!(
                "structure changed on the Miniserver ({} → {version}); reloading before any command",
                snap.structure.last_modified
            );
            self.request_reconnect(Event::StructureChanged);
            return Err(SendError::StructureChanged {
                resolved: generation,
                now: generation + 1,
            });
        }
        // Health may have changed while we asked; check once more right before sending.
        let h = self.health();
        if !h.is_live() {
            return Err(SendError::NotLive(h));
        }
        // Under way from before the last check: a stop that latches after this check saw no
        // latch finds the command in `under_way` and waits for it (`flights.rs`).
        let _flight = self.board(&cmd.target);
        if let Some(why) = gate() {
            return Err(SendError::Held(why));
        }
        let reply = client
            .send(&token, cmd, secured, self.visu.as_ref())
            .map_err(|e| match e {
                SendFailure::NoVisuPassword => SendError::NoVisuPassword(cmd.target.clone()),
                SendFailure::Link(l) => SendError::Link(l),
            })?;
        if reply.code == 401 {
            self.request_reconnect(Event::TokenRefused(
                "a command was answered with LL 401 (token refused)".into(),
            ));
        }
        Ok(reply)
    }

    /// Writes `text` to the virtual text input at `target` (SF "TextInput", command `{text}`):
    /// the consent channel's question in the Loxone app (`consent::app`). Refused unless the link
    /// is live, the structure is still the one `generation` names, and `target` is a
    /// `TextInput` in it; nothing but a text input can be written this way.
    pub fn send_text(
        &self,
        target: &ControlAddr,
        text: &str,
        generation: u64,
    ) -> Result<Reply, SendError> {
        let snap = self.live_structure(generation)?;
        match snap.structure.control(target) {
            Some(c) if c.kind == "TextInput" && !c.is_secured => {}
            _ => return Err(SendError::UnknownControl(target.clone())),
        }
        let (client, token) = self.client_and_token()?;
        let r = client
            .authed(&token, &crate::loxone::command::text_path(target, text))
            .map_err(SendError::Link)?;
        Ok(Reply {
            code: r.code,
            value: r.value_text(),
            control: r.control,
        })
    }

    /// The loaded structure, when the link is live and it is still the `generation` a command
    /// was resolved against; else why nothing may be sent.
    fn live_structure(&self, generation: u64) -> Result<Arc<LoadedStructure>, SendError> {
        let h = self.health();
        if !h.is_live() {
            return Err(SendError::NotLive(h));
        }
        let snap = self.structure();
        if snap.generation != generation {
            return Err(SendError::StructureChanged {
                resolved: generation,
                now: snap.generation,
            });
        }
        Ok(snap)
    }

    /// The link's HTTP client and the token it authenticates with.
    fn client_and_token(&self) -> Result<(Arc<Client>, Token), SendError> {
        let client = self
            .client()
            .ok_or_else(|| SendError::NotLive(self.health()))?;
        let token = self
            .token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .token
            .clone();
        Ok((client, token))
    }

    /// For the emergency stop only: sends over HTTP with the stored token even when the link
    /// is not live (the stop must try). The control must still be in the loaded structure.
    pub fn send_emergency(&self, cmd: &Command) -> Result<Reply, SendError> {
        let secured = self.emergency_secured(cmd)?;
        let client = self.emergency_client()?;
        self.send_emergency_on(&client, cmd, secured)
    }

    /// The HTTP client the emergency stop sends with: the link's own, or (when the link has
    /// none now) a new connection with the stored token. Taken once for a whole stop, so that
    /// a stop with the link down connects once, not once per device.
    pub fn emergency_client(&self) -> Result<Arc<Client>, SendError> {
        match self.client() {
            Some(c) => Ok(c),
            None => {
                let (c, _) = Client::connect(&self.cfg, self.verifier.clone())
                    .map_err(SendError::NotSent)?;
                Ok(Arc::new(c))
            }
        }
    }

    /// [`Link::send_emergency`] with a client from [`Link::emergency_client`].
    pub fn send_emergency_with(&self, client: &Client, cmd: &Command) -> Result<Reply, SendError> {
        let secured = self.emergency_secured(cmd)?;
        self.send_emergency_on(client, cmd, secured)
    }

    /// Whether `cmd`'s control is secured; the control must be in the loaded structure (or no
    /// structure was ever loaded).
    fn emergency_secured(&self, cmd: &Command) -> Result<bool, SendError> {
        let snap = self.structure();
        match snap.structure.control(&cmd.target) {
            Some(c) => Ok(c.is_secured),
            None if snap.source == StructureSource::None => Ok(false),
            None => Err(SendError::UnknownControl(cmd.target.clone())),
        }
    }

    fn send_emergency_on(
        &self,
        client: &Client,
        cmd: &Command,
        secured: bool,
    ) -> Result<Reply, SendError> {
        let token = self
            .token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .token
            .clone();
        client
            .send(&token, cmd, secured, self.visu.as_ref())
            .map_err(|e| match e {
                SendFailure::NoVisuPassword => SendError::NoVisuPassword(cmd.target.clone()),
                SendFailure::Link(l) => SendError::Link(l),
            })
    }

    /// How long a command may wait for its answer (`link.command_timeout_s`).
    pub fn command_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.cfg.link.command_timeout_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Mono;
    use crate::loxone::health::LinkState;

    #[test]
    fn a_not_live_refusal_says_why_and_since_when() {
        let h = Health {
            state: LinkState::Degraded,
            since: Mono(0),
            since_wall: SystemTime::now(),
            reason: "keepalive not answered within 5 s".into(),
        };
        let e = SendError::NotLive(h).to_string();
        assert!(
            e.starts_with("SC-4: the Miniserver link is degraded since "),
            "{e}"
        );
        assert!(e.contains("keepalive not answered") && e.contains("Nothing was sent"));
    }
}
