//! Opening the websocket: TCP to the configured address, TLS with our verifier when the URL is
//! https, then the handshake with the `remotecontrol` subprotocol.
//!
//! Why our own stream: the socket must use the same TLS verifier (pinning) and the same
//! address override as HTTP, which tungstenite's own connector cannot take.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use tungstenite::client::IntoClientRequest as _;
use tungstenite::protocol::WebSocketConfig;

use super::{POLL, Ws};
use crate::config::MsUrl;
use crate::loxone::crypto::PublicKey;
use crate::loxone::enc::Session;
use crate::loxone::errors::LinkError;
use crate::loxone::events::Framer;
use crate::loxone::http::target_addrs;
use crate::loxone::tls::Verifier;

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
        .max_message_size(Some(crate::loxone::http::MAX_BODY as usize))
        .max_frame_size(Some(crate::loxone::http::MAX_BODY as usize));
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
