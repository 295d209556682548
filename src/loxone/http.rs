//! HTTP to the Miniserver: one ureq agent built from our own parts.
//!
//! Why our own parts (`Agent::with_parts`): the agent must (1) verify TLS with *our* verifier
//! (pinning, see `tls.rs`), which ureq's stock rustls connector cannot take, and (2) connect to
//! the LAN address in `miniserver.address` while the URL (and so SNI, the certificate name and
//! the `Host` header) stays the CloudDNS name. So the chain is ureq's TCP connector, then
//! [`TlsWrap`] (rustls with our `ClientConfig`), and a [`PinnedResolver`] that only ever
//! resolves the Miniserver's host.
//!
//! Also by construction: no redirects (a redirect could carry a request elsewhere), no proxy
//! from the environment, no user info in URLs (config refuses it), so no `Authorization`
//! header is ever sent: never HTTP Basic auth. HTTP status codes are not errors here: the
//! Miniserver's LL code inside the body is what counts (house rule 1).

use std::fmt;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, TcpConnector,
    Transport, TransportAdapter,
};

use super::errors::LinkError;
use super::ll::{self, LlReply};
use super::tls::Verifier;
use crate::config::MsUrl;

/// Bodies larger than this are refused (a structure file of a big house is a few MB).
pub const MAX_BODY: u64 = 64 * 1024 * 1024;

/// Resolves only the Miniserver's host: to `miniserver.address` when set, else by DNS.
#[derive(Debug)]
pub struct PinnedResolver {
    host: String,
    address: Option<SocketAddr>,
}

impl PinnedResolver {
    pub fn new(host: &str, address: Option<SocketAddr>) -> PinnedResolver {
        PinnedResolver {
            host: host.to_ascii_lowercase(),
            address,
        }
    }
}

/// Where to open the TCP connection for `host:port` (shared with the websocket).
pub fn target_addrs(
    host: &str,
    port: u16,
    address: Option<SocketAddr>,
) -> std::io::Result<Vec<SocketAddr>> {
    if let Some(a) = address {
        return Ok(vec![a]);
    }
    use std::net::ToSocketAddrs as _;
    Ok((host, port).to_socket_addrs()?.collect())
}

fn bare_host(uri_host: &str) -> String {
    uri_host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

impl Resolver for PinnedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().map(bare_host).unwrap_or_default();
        if host != self.host {
            // The agent talks to the Miniserver and nothing else.
            return Err(ureq::Error::HostNotFound);
        }
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        let addrs = target_addrs(&host, port, self.address)?;
        let mut out = self.empty();
        for a in addrs.into_iter().take(16) {
            out.push(a);
        }
        if out.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(out)
    }
}

/// Wraps the TCP transport in rustls with our verifier when the URL is https.
#[derive(Debug)]
pub struct TlsWrap {
    config: Option<Arc<ClientConfig>>,
}

impl<In: Transport> Connector<In> for TlsWrap {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(inner) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || inner.is_tls() {
            return Ok(Some(Either::A(inner)));
        }
        let Some(config) = &self.config else {
            return Err(ureq::Error::Tls("https without a TLS configuration"));
        };
        let host = details.uri.host().map(bare_host).unwrap_or_default();
        let name = ServerName::try_from(host)
            .map_err(|_| ureq::Error::Tls("the Miniserver's host is not a valid TLS name"))?;
        let mut conn = ClientConnection::new(config.clone(), name)?;
        let mut sock = TransportAdapter::new(inner.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        Ok(Some(Either::B(TlsTransport {
            buffers: LazyBuffers::new(
                details.config.input_buffer_size(),
                details.config.output_buffer_size(),
            ),
            stream: StreamOwned::new(conn, sock),
        })))
    }
}

/// A TLS session over ureq's transport.
pub struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsTransport")
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.sock.set_timeout(timeout);
        let out = &self.buffers.output()[..amount];
        self.stream.write_all(out)?;
        self.stream.flush()?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.sock.set_timeout(timeout);
        let buf = self.buffers.input_append_buf();
        let n = self.stream.read(buf)?;
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.sock.get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// A raw HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// The HTTP side of the link.
#[derive(Debug)]
pub struct Http {
    agent: ureq::Agent,
    base: String,
    url: MsUrl,
    verifier: Option<Arc<Verifier>>,
}

impl Http {
    /// `verifier` must be `Some` for an https URL.
    pub fn new(
        url: &MsUrl,
        address: Option<SocketAddr>,
        verifier: Option<Arc<Verifier>>,
        timeout: Duration,
    ) -> Result<Http, LinkError> {
        let tls_config = match (&verifier, url.tls) {
            (Some(v), true) => Some(
                v.client_config()
                    .map_err(|e| LinkError::Config(e.to_string()))?,
            ),
            (None, true) => {
                return Err(LinkError::Config(
                    "an https URL needs a TLS verifier".into(),
                ));
            }
            (_, false) => None,
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .https_only(url.tls)
            .user_agent(concat!("loxwarden/", env!("CARGO_PKG_VERSION")))
            .timeout_global(Some(timeout))
            // The emergency stop's HTTP requests go a few at a time (`safety::stop::send`):
            // keep their connections for the next one instead of opening new ones.
            .max_idle_connections_per_host(crate::safety::stop::send::HTTP_AT_ONCE)
            .build();
        let connector = ().chain(TcpConnector::default()).chain(TlsWrap { config: tls_config });
        let resolver = PinnedResolver::new(&url.host, address);
        Ok(Http {
            agent: ureq::Agent::with_parts(config, connector, resolver),
            base: url.base(),
            url: url.clone(),
            verifier,
        })
    }

    pub fn url(&self) -> &MsUrl {
        &self.url
    }

    pub fn verifier(&self) -> Option<&Arc<Verifier>> {
        self.verifier.as_ref()
    }

    /// `GET {base}/{path}`. `path` is built by loxwarden from validated, URL-encoded parts.
    pub fn get(&self, path: &str, timeout: Option<Duration>) -> Result<Answer, LinkError> {
        let url = format!("{}/{}", self.base, path);
        let mut req = self.agent.get(&url);
        if let Some(t) = timeout {
            req = req.config().timeout_global(Some(t)).build();
        }
        let seen_before = self.verifier.as_ref().map(|v| v.handshakes());
        let result = req.call().and_then(|mut resp| {
            let status = resp.status().as_u16();
            let body = resp
                .body_mut()
                .with_config()
                .limit(MAX_BODY)
                .read_to_string()?;
            Ok(Answer { status, body })
        });
        result.map_err(|e| self.classify(e, seen_before))
    }

    /// `GET` and parse the LL envelope (whatever the HTTP status).
    pub fn get_ll(&self, path: &str) -> Result<LlReply, LinkError> {
        let a = self.get(path, None)?;
        ll::parse(&a.body).map_err(|e| LinkError::Protocol(format!("{} (HTTP {})", e, a.status)))
    }

    fn classify(&self, e: ureq::Error, seen_before: Option<u64>) -> LinkError {
        // A handshake our verifier refused: say exactly why (pin mismatch, chain).
        if let (Some(v), Some(before)) = (&self.verifier, seen_before)
            && v.handshakes() > before
            && let Some(seen) = v.last_seen()
            && let Some(reason) = seen.refused
        {
            return LinkError::Tls(reason);
        }
        let detail = match &e {
            ureq::Error::Timeout(t) => format!("no answer in time ({t})"),
            ureq::Error::HostNotFound => "the host name does not resolve".to_owned(),
            ureq::Error::Io(io) => io.to_string(),
            other => other.to_string(),
        };
        LinkError::Unreachable {
            url: self.base.clone(),
            detail,
        }
    }
}
