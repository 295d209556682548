//! The websocket to the Miniserver: live state and the heartbeat.
//!
//! Why tungstenite over our own stream: the socket must use the same TLS verifier (pinning) and
//! the same address override as HTTP, so we open the TCP connection ourselves, wrap it in rustls
//! with our `ClientConfig` when the URL is https, and hand the stream to tungstenite's
//! synchronous client. A short read timeout lets the one link thread interleave reading events
//! with sending keepalives, without a second thread or an async runtime.
//!
//! Authentication is decision 8: `keyexchange`, `getkey`, encrypted `authwithtoken`, then
//! `enablebinstatusupdate`. The token is refreshed on the same socket (`refreshjwt` in `fenc`). Replies arrive in order (a header, then a text message); event tables
//! can arrive in between and are handed to the caller while it waits.
//!
//! Layout: the socket and its request/reply wait here; opening it (TCP, TLS, handshake) in
//! `connect.rs`; the authentication and token refresh steps in `auth.rs`; several commands in
//! flight at once (the emergency stop's) in `pipeline.rs`.

mod auth;
mod connect;
mod pipeline;

pub use auth::AuthStep;
pub use connect::{Stream, connect};
pub use pipeline::{Answered, same_command};

use std::io;
use std::time::{Duration, Instant};

use tungstenite::{Message, WebSocket};

use super::enc::Session;
use super::events::{Frame, Framer, Incoming};
use super::ll::{self, LlReply};

/// How long one blocking read may wait before the link thread gets control back. Also how
/// long an emergency stop may wait for the thread to take its commands (`link::burst`): a
/// read cannot be interrupted, so the bound is the read's own. 10 ms costs the thread about a
/// hundred empty wake-ups a second, microseconds each.
pub const POLL: Duration = Duration::from_millis(10);

/// Why the socket ended or a wait failed.
#[derive(Debug)]
pub enum WsEnd {
    /// The Miniserver closed the socket, with its close code if any.
    Closed { code: Option<u16>, reason: String },
    /// Header id 5: the Miniserver goes out of service (update, reboot).
    OutOfService,
    /// No reply within the deadline.
    Timeout(&'static str),
    /// Reading or writing failed.
    Io(String),
}

impl std::fmt::Display for WsEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WsEnd::Closed {
                code: Some(c),
                reason,
            } => write!(
                f,
                "the Miniserver closed the websocket (code {c}{}{})",
                close_meaning(*c)
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default(),
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(", {reason}")
                }
            ),
            WsEnd::Closed { code: None, .. } => write!(f, "the websocket closed"),
            WsEnd::OutOfService => write!(
                f,
                "the Miniserver went out of service (header id 5: update or restart)"
            ),
            WsEnd::Timeout(what) => write!(f, "no answer to {what} in time"),
            WsEnd::Io(e) => write!(f, "websocket error: {e}"),
        }
    }
}

/// CWM "Websocket Close Codes".
pub fn close_meaning(code: u16) -> Option<&'static str> {
    Some(match code {
        4003 => "user blocked after too many failed logins",
        4004 => "a user was changed",
        4005 => "the connected user was changed",
        4006 => "the user is disabled",
        4007 => "the Miniserver is updating",
        4008 => "no event slots free on the Miniserver",
        _ => return None,
    })
}

/// An open, not yet authenticated websocket.
pub struct Ws {
    socket: WebSocket<Stream>,
    framer: Framer,
    session: Session,
}
impl Ws {
    /// Sends one text command.
    pub fn send(&mut self, cmd: &str) -> Result<(), WsEnd> {
        self.socket
            .send(Message::text(cmd))
            .map_err(|e| WsEnd::Io(e.to_string()))
    }

    /// Waits at most [`POLL`] for the next complete frame.
    pub fn poll(&mut self) -> Result<Option<Frame>, WsEnd> {
        match self.socket.read() {
            Ok(Message::Binary(b)) => Ok(self.framer.feed(Incoming::Binary(&b))),
            Ok(Message::Text(t)) => {
                let frame = self.framer.feed(Incoming::Text(t.as_str()));
                // A 420 arrives as a bare text message before the close (decision 8).
                if let Some(Frame::Unexpected(_)) = &frame
                    && ll::parse(t.as_str()).is_ok()
                {
                    return Ok(Some(Frame::Text(t.as_str().to_owned())));
                }
                Ok(frame)
            }
            Ok(Message::Close(c)) => Err(WsEnd::Closed {
                code: c.as_ref().map(|c| u16::from(c.code)),
                reason: c.map(|c| c.reason.to_string()).unwrap_or_default(),
            }),
            Ok(_) => Ok(None),
            Err(tungstenite::Error::Io(e)) if resumable(e.kind()) => Ok(None),
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                Err(WsEnd::Closed {
                    code: None,
                    reason: String::new(),
                })
            }
            Err(e) => Err(WsEnd::Io(e.to_string())),
        }
    }

    /// Sends `cmd` and waits for its text reply until `deadline`; frames that arrive meanwhile
    /// (event tables, keepalive replies) go to `other`.
    pub fn request(
        &mut self,
        cmd: &str,
        what: &'static str,
        deadline: Instant,
        other: &mut dyn FnMut(Frame),
    ) -> Result<LlReply, WsEnd> {
        let text = self.request_text(cmd, what, deadline, other)?;
        ll::parse(&text).map_err(|e| WsEnd::Io(format!("{what}: {e}")))
    }

    /// Sends `cmd` and returns the next text message, handing other frames to `other`.
    fn request_text(
        &mut self,
        cmd: &str,
        what: &'static str,
        deadline: Instant,
        other: &mut dyn FnMut(Frame),
    ) -> Result<String, WsEnd> {
        self.send(cmd)?;
        loop {
            if Instant::now() >= deadline {
                return Err(WsEnd::Timeout(what));
            }
            match self.poll()? {
                Some(Frame::Text(t)) => return Ok(t),
                Some(Frame::OutOfService) => return Err(WsEnd::OutOfService),
                Some(f) => other(f),
                None => {}
            }
        }
    }

    /// Closes politely (best effort).
    pub fn close(mut self) {
        let _ = self.socket.close(None);
        let _ = self.socket.flush();
    }
}

/// A read that stopped without losing anything: the read timeout that paces the heartbeat, or
/// a signal (EINTR, e.g. when a debugger or strace attaches). tungstenite keeps a partly read
/// frame for the next call, so the link goes on; anything else ends the connection.
fn resumable(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_or_the_read_timeout_keeps_the_link_but_a_reset_ends_it() {
        assert!(resumable(io::ErrorKind::Interrupted));
        assert!(resumable(io::ErrorKind::WouldBlock));
        assert!(resumable(io::ErrorKind::TimedOut));
        assert!(!resumable(io::ErrorKind::ConnectionReset));
        assert!(!resumable(io::ErrorKind::UnexpectedEof));
    }
}
