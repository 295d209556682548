//! The link thread's story of one connection: bootstrap, token, structure, websocket,
//! authentication, the initial tables, then the live loop (`heartbeat`); and the back-off
//! between attempts.
//!
//! Why one sequential function: connect → authenticate → live → lost → reconnect reads best as
//! one loop on one thread (the rumqttc split), and every way it can end is one [`Outcome`].

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Link, LoadedStructure, StructureSource, load_token};
use crate::loxone::auth::{self, AuthError};
use crate::loxone::client::{self, Client};
use crate::loxone::errors::LinkError;
use crate::loxone::events::Frame;
use crate::loxone::health::{Event, LinkState};
use crate::loxone::state::StateValue;
use crate::loxone::store;
use crate::loxone::structure::Structure;
use crate::loxone::ws::{self, AuthStep};

/// How long to wait before reconnect attempt `attempt` (0-based): 0.5 s doubling, capped.
pub fn backoff(attempt: u32, max: Duration) -> Duration {
    let ms = 500u64.saturating_mul(1u64 << attempt.min(20));
    Duration::from_millis(ms).min(max)
}

/// How one connected session ended.
pub(super) enum Outcome {
    Stopped,
    Lost(Event),
    /// Ended on request; the health transition was made when it was requested.
    Requested,
}

impl Link {
    pub(super) fn run(self: Arc<Self>) {
        let max = Duration::from_secs(self.cfg.link.max_backoff_s);
        let mut attempt: u32 = 0;
        while !self.stopped() {
            let why = if attempt == 0 && self.health().state == LinkState::Connecting {
                "connecting"
            } else {
                "reconnecting"
            };
            self.transition(Event::Connecting(why.into()));
            match self.session(&mut attempt) {
                Outcome::Stopped => break,
                Outcome::Requested => {}
                Outcome::Lost(ev) => {
                    // A refused token will not get better by hammering the Miniserver (too
                    // many failures block the user): wait the longest back-off.
                    if matches!(ev, Event::TokenRefused(_)) {
                        attempt = attempt.max(20);
                    }
                    self.transition(ev);
                }
            }
            if self.stopped() {
                break;
            }
            *self.client.write().unwrap_or_else(|e| e.into_inner()) = None;
            self.sleep(backoff(attempt, max));
            attempt = attempt.saturating_add(1);
        }
        *self.client.write().unwrap_or_else(|e| e.into_inner()) = None;
        self.transition(Event::Stopped);
    }

    /// One connection: bootstrap, token, structure, websocket, then the live loop.
    fn session(&self, attempt: &mut u32) -> Outcome {
        *self.reconnect.lock().unwrap_or_else(|e| e.into_inner()) = None;
        // A `loxwarden login` while we run replaces the token file: pick it up.
        if let Ok(fresh) = load_token(&self.cfg) {
            let mut t = self.token.lock().unwrap_or_else(|e| e.into_inner());
            if fresh.token.obtained_unix >= t.token.obtained_unix {
                *t = fresh;
            }
        }
        let stored = self.current_token();
        if stored.token.is_expired(self.now_unix()) {
            return Outcome::Lost(Event::TokenRefused(
                AuthError::TokenExpired {
                    user: stored.token.user.clone(),
                    expired_unix: stored.token.expires_unix(),
                }
                .to_string(),
            ));
        }
        let (client, boot) = match Client::connect(&self.cfg, self.verifier.clone()) {
            Ok(x) => x,
            Err(e) => return Outcome::Lost(Event::ConnectFailed(e.to_string())),
        };
        if !stored.serial.is_empty()
            && !boot
                .api
                .serial_compact()
                .eq_ignore_ascii_case(&stored.serial)
        {
            return Outcome::Lost(Event::ConnectFailed(format!(
                "this is a different Miniserver (serial {}, logged in to {}); run 'loxwarden login' if it was replaced",
                boot.api.serial_compact(),
                stored.serial
            )));
        }
        *self.boot.lock().unwrap_or_else(|e| e.into_inner()) = Some(boot);
        let client = Arc::new(client);
        *self.client.write().unwrap_or_else(|e| e.into_inner()) = Some(client.clone());

        let token = self.current_token().token;
        if let Err(e) = self.ensure_structure(&client, &token) {
            return Outcome::Lost(match e {
                LinkError::Auth(a) => Event::TokenRefused(a.to_string()),
                e => Event::ConnectFailed(format!("structure file: {e}")),
            });
        }

        let url = match self.cfg.ms_url() {
            Ok(u) => u,
            Err(e) => return Outcome::Lost(Event::ConnectFailed(e)),
        };
        let address = client::address_of(&self.cfg, &url).ok().flatten();
        let timeout = Duration::from_secs(self.cfg.link.command_timeout_s);
        let mut sock = match ws::connect(
            &url,
            address,
            self.verifier.as_ref(),
            client.public_key(),
            timeout,
        ) {
            Ok(s) => s,
            Err(e) => return Outcome::Lost(Event::ConnectFailed(e.to_string())),
        };
        // The initial tables below carry the values of now, not when they came about.
        self.states.forget_changes();
        let deadline = Instant::now() + timeout;
        let mut on_frame = |f: Frame| self.apply(f);
        match sock.authenticate(&token, deadline, &mut on_frame) {
            Ok(_) => {}
            Err(AuthStep::Auth(e)) => {
                sock.close();
                return Outcome::Lost(Event::TokenRefused(e.to_string()));
            }
            Err(AuthStep::Socket(e)) => {
                return Outcome::Lost(Event::ConnectFailed(e.to_string()));
            }
        }
        // The initial event tables follow the enablebinstatusupdate reply.
        let first_tables = Instant::now() + timeout;
        let gen0 = self.states.generation();
        while self.states.generation() == gen0 && Instant::now() < first_tables {
            match sock.poll() {
                Ok(Some(Frame::OutOfService)) => return Outcome::Lost(Event::OutOfService),
                Ok(Some(f)) => self.apply(f),
                Ok(None) => {}
                Err(e) => return Outcome::Lost(Event::ConnectFailed(e.to_string())),
            }
        }
        if self.states.generation() == gen0 {
            log::warn!("no initial event tables within {} s", timeout.as_secs());
        }
        if let Err(ev) = self.refresh_if_due(&mut sock, &mut false) {
            sock.close();
            return Outcome::Lost(ev);
        }
        self.alive();
        self.sessions.fetch_add(1, Ordering::SeqCst);
        self.transition(Event::Up);
        *attempt = 0;
        self.live_loop(sock, &client)
    }

    pub(super) fn apply(&self, f: Frame) {
        let now = self.clock.mono();
        match f {
            Frame::Values(v) => {
                self.states
                    .apply(v.into_iter().map(|(u, x)| (u, StateValue::Number(x))), now);
                self.alive();
            }
            Frame::Texts(t) => {
                self.states.apply(
                    t.into_iter().map(|e| (e.uuid, StateValue::Text(e.text))),
                    now,
                );
                self.alive();
            }
            Frame::Keepalive | Frame::Skipped(_) => self.alive(),
            Frame::Text(t) => {
                log::debug!(
                    "unsolicited text message: {}",
                    t.chars().take(120).collect::<String>()
                );
                self.alive();
            }
            Frame::OutOfService => {}
            Frame::Unexpected(m) => log::warn!("websocket: {m}"),
        }
    }

    /// Makes the loaded structure match `LoxAPPversion3`, downloading if needed.
    fn ensure_structure(&self, client: &Client, token: &auth::Token) -> Result<(), LinkError> {
        let version = client.structure_version(token)?;
        let current = self.structure();
        let wall = self.clock.wall();
        if current.source != StructureSource::None && current.structure.last_modified == version {
            if current.source == StructureSource::Cache || current.fetched_wall.is_none() {
                let confirmed = LoadedStructure {
                    generation: current.generation,
                    structure: Arc::clone(&current.structure),
                    source: StructureSource::Miniserver,
                    bytes: current.bytes,
                    fetched_wall: Some(wall),
                };
                *self.structure.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(confirmed);
            }
            return Ok(());
        }
        let bytes = client.fetch_structure(token)?;
        let parsed = Structure::parse(&bytes).map_err(|e| LinkError::Protocol(e.to_string()))?;
        if parsed.last_modified != version {
            log::warn!(
                "structure file says lastModified {:?}, LoxAPPversion3 says {version:?}",
                parsed.last_modified
            );
        }
        if let Err(e) = store::save_structure(&self.state_dir, &bytes) {
            log::warn!("structure not cached: {e}");
        }
        log::info!(
            "structure loaded: {} controls, {} bytes, lastModified {}",
            parsed.controls.len(),
            bytes.len(),
            parsed.last_modified
        );
        let next = LoadedStructure {
            generation: current.generation + 1,
            structure: Arc::new(parsed),
            source: StructureSource::Miniserver,
            bytes: bytes.len(),
            fetched_wall: Some(wall),
        };
        *self.structure.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
        // States of the old structure may not exist any more; the initial tables refill.
        self.states.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_half_a_second_and_is_capped() {
        let max = Duration::from_secs(30);
        assert_eq!(backoff(0, max), Duration::from_millis(500));
        assert_eq!(backoff(1, max), Duration::from_secs(1));
        assert_eq!(backoff(3, max), Duration::from_secs(4));
        assert_eq!(backoff(10, max), max);
        assert_eq!(backoff(u32::MAX, max), max);
    }
}
