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

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use tungstenite::client::IntoClientRequest as _;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

use super::auth::{self, AuthError, Token, TokenVerb};
use super::crypto::{self, PublicKey};
use super::enc::Session;
use super::errors::LinkError;
use super::events::{Frame, Framer, Incoming};
use super::http::target_addrs;
use super::ll::{self, LlReply};
use super::tls::Verifier;
use crate::config::MsUrl;

/// How long one blocking read may wait before the link thread gets control back.
pub const POLL: Duration = Duration::from_millis(100);

/// The byte stream under the websocket.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

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

/// Opens the TCP (and TLS) connection and does the websocket handshake with the
/// `remotecontrol` subprotocol.
pub fn connect(
    url: &MsUrl,
    address: Option<SocketAddr>,
    verifier: Option<&Arc<Verifier>>,
    public: &PublicKey,
    timeout: Duration,
) -> Result<Ws, LinkError> {
    let base = url.base();
    let unreachable = |detail: String| LinkError::Unreachable {
        url: base.clone(),
        detail,
    };
    let addrs =
        target_addrs(&url.host, url.port, address).map_err(|e| unreachable(e.to_string()))?;
    let mut last = None;
    let mut tcp = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let tcp = tcp.ok_or_else(|| {
        unreachable(
            last.map(|e| e.to_string())
                .unwrap_or_else(|| "no address".into()),
        )
    })?;
    let _ = tcp.set_nodelay(true);
    tcp.set_read_timeout(Some(timeout))
        .and_then(|_| tcp.set_write_timeout(Some(timeout)))
        .map_err(|e| unreachable(e.to_string()))?;
    let handshakes_before = verifier.map(|v| v.handshakes());
    let stream = if url.tls {
        let Some(v) = verifier else {
            return Err(LinkError::Config(
                "an https URL needs a TLS verifier".into(),
            ));
        };
        let cfg = v
            .client_config()
            .map_err(|e| LinkError::Config(e.to_string()))?;
        let name = ServerName::try_from(url.host.clone())
            .map_err(|_| LinkError::Config(format!("{} is not a valid TLS name", url.host)))?;
        let conn = ClientConnection::new(cfg, name).map_err(|e| LinkError::Tls(e.to_string()))?;
        Stream::Tls(Box::new(StreamOwned::new(conn, tcp)))
    } else {
        Stream::Plain(tcp)
    };
    let scheme = if url.tls { "wss" } else { "ws" };
    let host = url.base();
    let host = host.split_once("://").map(|x| x.1).unwrap_or(&host);
    let mut req = format!("{scheme}://{host}/ws/rfc6455")
        .into_client_request()
        .map_err(|e| LinkError::Config(format!("websocket URL: {e}")))?;
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        tungstenite::http::HeaderValue::from_static("remotecontrol"),
    );
    let config = WebSocketConfig::default()
        .max_message_size(Some(super::http::MAX_BODY as usize))
        .max_frame_size(Some(super::http::MAX_BODY as usize));
    let (socket, _resp) = tungstenite::client::client_with_config(req, stream, Some(config))
        .map_err(|e| {
            if let (Some(v), Some(before)) = (verifier, handshakes_before)
                && v.handshakes() > before
                && let Some(seen) = v.last_seen()
                && let Some(reason) = seen.refused
            {
                return LinkError::Tls(reason);
            }
            unreachable(format!("websocket handshake failed: {e}"))
        })?;
    socket
        .get_ref()
        .tcp()
        .set_read_timeout(Some(POLL))
        .map_err(|e| unreachable(e.to_string()))?;
    let session = Session::new(public).map_err(|e| LinkError::Protocol(e.to_string()))?;
    Ok(Ws {
        socket,
        framer: Framer::new(),
        session,
    })
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

    /// `refreshjwt` on this authenticated socket (decision 7): a one-time key from `getkey`,
    /// then the token hash inside `fenc`, whose sealed reply carries the new token. On the
    /// websocket, as the document says ("via websocket (HTTP support not verified)") and every
    /// reference client does; LxCommunicator.NET refuses to refresh over HTTP
    /// (docs/protocol-review.md, D3). The reply is opened, not yet applied: see
    /// [`Token::refreshed`].
    pub fn refresh(
        &mut self,
        token: &Token,
        deadline: Instant,
        other: &mut dyn FnMut(Frame),
    ) -> Result<LlReply, AuthStep> {
        let key = self.one_time_key(token, deadline, other)?;
        let cmd = self
            .session
            .ws_command(&token.command(TokenVerb::Refresh, &key)?, true);
        let body = self.request_text(&cmd, "refreshjwt", deadline, other)?;
        self.session
            .open_reply(&body)
            .map(|o| o.reply)
            .map_err(|e| AuthStep::Auth(AuthError::Protocol(format!("refreshjwt: {e}"))))
    }

    /// `jdev/sys/getkey`: a one-time key (hex) for the next token hash.
    fn one_time_key(
        &mut self,
        token: &Token,
        deadline: Instant,
        other: &mut dyn FnMut(Frame),
    ) -> Result<String, AuthStep> {
        let r = self.request("jdev/sys/getkey", "getkey", deadline, other)?;
        auth::check_code(&r, &token.user, "getkey")?;
        let key = r.value_text();
        if crypto::unhex(&key).is_none() {
            return Err(AuthStep::Auth(AuthError::Protocol(
                "getkey returned no hex key".into(),
            )));
        }
        Ok(key)
    }

    /// keyexchange → getkey → encrypted authwithtoken → enablebinstatusupdate.
    /// Returns the `authwithtoken` reply (it carries the token's `validUntil`).
    pub fn authenticate(
        &mut self,
        token: &Token,
        deadline: Instant,
        other: &mut dyn FnMut(Frame),
    ) -> Result<LlReply, AuthStep> {
        let kx = self.session.keyexchange_command();
        let r = self.request(&kx, "keyexchange", deadline, other)?;
        auth::check_code(&r, &token.user, "keyexchange")?;
        let key = self.one_time_key(token, deadline, other)?;
        let cmd = self.session.ws_command(&token.authwithtoken(&key)?, false);
        let auth_reply = self.request(&cmd, "authwithtoken", deadline, other)?;
        auth::check_code(&auth_reply, &token.user, "authwithtoken")?;
        let r = self.request(
            "jdev/sps/enablebinstatusupdate",
            "enablebinstatusupdate",
            deadline,
            other,
        )?;
        auth::check_code(&r, &token.user, "enablebinstatusupdate")?;
        Ok(auth_reply)
    }

    /// Closes politely (best effort).
    pub fn close(mut self) {
        let _ = self.socket.close(None);
        let _ = self.socket.flush();
    }
}

/// Authentication on the socket failed: the socket itself, or the Miniserver said no.
#[derive(Debug)]
pub enum AuthStep {
    Socket(WsEnd),
    Auth(AuthError),
}

impl From<WsEnd> for AuthStep {
    fn from(e: WsEnd) -> AuthStep {
        match e {
            WsEnd::Closed {
                code: Some(4003), ..
            } => AuthStep::Auth(AuthError::Blocked),
            other => AuthStep::Socket(other),
        }
    }
}

impl From<AuthError> for AuthStep {
    fn from(e: AuthError) -> AuthStep {
        AuthStep::Auth(e)
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
