//! The live loop of one connection: event frames in, keepalives out within the health bound,
//! the structure version checked every `structure_check_interval_s`, and the token refreshed
//! on the same socket when due.
//!
//! Why one loop: reading events and pacing keepalives share the socket; a short read timeout
//! (`ws::POLL`) lets one thread do both without an async runtime.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Link;
use super::session::Outcome;
use crate::loxone::auth::AuthError;
use crate::loxone::client::Client;
use crate::loxone::errors::LinkError;
use crate::loxone::events::Frame;
use crate::loxone::health::Event;
use crate::loxone::ws::{self, AuthStep, WsEnd};

impl Link {
    pub(super) fn live_loop(&self, mut sock: ws::Ws, client: &Arc<Client>) -> Outcome {
        let interval = self.bounds.interval;
        let deadline = self.bounds.deadline;
        let check_every = Duration::from_secs(self.cfg.link.structure_check_interval_s);
        let mut next_keepalive = Instant::now() + interval;
        let mut outstanding: Option<Instant> = None;
        let mut next_check = Instant::now() + check_every;
        loop {
            if self.stopped() {
                sock.close();
                return Outcome::Stopped;
            }
            if self
                .reconnect
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .is_some()
            {
                sock.close();
                return Outcome::Requested;
            }
            // An emergency stop waiting to go out over this socket goes before anything else.
            let mut saw_keepalive = false;
            if let Err(ev) = self.run_bursts(&mut sock, &mut saw_keepalive) {
                sock.close();
                return Outcome::Lost(ev);
            }
            if saw_keepalive {
                outstanding = None;
                self.alive();
            }
            match sock.poll() {
                Ok(Some(Frame::OutOfService)) => return Outcome::Lost(Event::OutOfService),
                Ok(Some(Frame::Keepalive)) => {
                    outstanding = None;
                    self.alive();
                }
                Ok(Some(f)) => self.apply(f),
                Ok(None) => {}
                Err(WsEnd::Closed {
                    code: Some(4003), ..
                }) => return Outcome::Lost(Event::TokenRefused(AuthError::Blocked.to_string())),
                Err(WsEnd::Closed {
                    code: Some(4007), ..
                }) => {
                    return Outcome::Lost(Event::OutOfService);
                }
                Err(e) => return Outcome::Lost(Event::SocketLost(e.to_string())),
            }
            let now = Instant::now();
            match outstanding {
                Some(sent) if now.duration_since(sent) > deadline => {
                    sock.close();
                    return Outcome::Lost(Event::KeepaliveMissed(deadline));
                }
                None if now >= next_keepalive => {
                    if let Err(e) = sock.send("keepalive") {
                        return Outcome::Lost(Event::SocketLost(e.to_string()));
                    }
                    outstanding = Some(now);
                    next_keepalive = now + interval;
                }
                _ => {}
            }
            if now >= next_check {
                next_check = now + check_every;
                let token = self.current_token().token;
                match client.structure_version(&token) {
                    Ok(v) if v == self.structure().structure.last_modified => {}
                    Ok(_) => {
                        sock.close();
                        return Outcome::Lost(Event::StructureChanged);
                    }
                    Err(LinkError::Auth(a)) => {
                        sock.close();
                        return Outcome::Lost(Event::TokenRefused(a.to_string()));
                    }
                    Err(e) => {
                        sock.close();
                        return Outcome::Lost(Event::SocketLost(format!(
                            "structure check failed: {e}"
                        )));
                    }
                }
            }
            // The refresh rule is a pure check; it costs a request only when due.
            if outstanding.is_some_and(|sent| sent == now) {
                let mut saw_keepalive = false;
                if let Err(ev) = self.refresh_if_due(&mut sock, &mut saw_keepalive) {
                    sock.close();
                    return Outcome::Lost(ev);
                }
                if saw_keepalive {
                    outstanding = None;
                    self.alive();
                }
            }
        }
    }

    /// Refreshes the token when due (half-life or last day) on the authenticated websocket,
    /// and saves it (mode 0600). Frames that arrive meanwhile are applied; a keepalive answer
    /// among them sets `saw_keepalive`, so the caller's heartbeat bookkeeping stays true.
    pub(super) fn refresh_if_due(
        &self,
        sock: &mut ws::Ws,
        saw_keepalive: &mut bool,
    ) -> Result<(), Event> {
        let stored = self.current_token();
        let now = self.now_unix();
        if !stored.token.refresh_due(now) {
            return Ok(());
        }
        let deadline = Instant::now() + Duration::from_secs(self.cfg.link.command_timeout_s);
        let mut on_frame = |f: Frame| {
            if matches!(f, Frame::Keepalive) {
                *saw_keepalive = true;
            }
            self.apply(f);
        };
        let reply = match sock.refresh(&stored.token, deadline, &mut on_frame) {
            Ok(r) => r,
            Err(AuthStep::Auth(e @ (AuthError::TokenRefused { .. } | AuthError::Blocked))) => {
                return Err(Event::TokenRefused(e.to_string()));
            }
            Err(AuthStep::Auth(e)) => {
                log::warn!("token refresh failed, will retry: {e}");
                return Ok(());
            }
            Err(AuthStep::Socket(e)) => {
                return Err(Event::SocketLost(format!("during the token refresh: {e}")));
            }
        };
        match stored.token.refreshed(&reply, now) {
            Ok(t) => {
                let mut next = stored.clone();
                next.token = t;
                // In use first (the Miniserver has already forgotten the old one), then on
                // disk: whoever sees the new file can rely on the link using it.
                *self.token.lock().unwrap_or_else(|e| e.into_inner()) = next.clone();
                if let Err(e) = next.save(&self.state_dir) {
                    log::error!("token refreshed but not saved: {e}");
                }
                log::info!(
                    "token refreshed; valid until {} UTC",
                    crate::loxone::auth::format_unix(next.token.expires_unix())
                );
                Ok(())
            }
            Err(e @ AuthError::TokenRefused { .. }) => Err(Event::TokenRefused(e.to_string())),
            Err(e) => {
                log::warn!("token refresh failed, will retry: {e}");
                Ok(())
            }
        }
    }
}
