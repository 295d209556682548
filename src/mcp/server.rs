//! The process-wide half of the engine: one [`Server`] per process, many sessions.
//!
//! Why split from the session: the daemon (a later issue) accepts many connections and runs
//! one session per connection, and some state must be shared across all of them — the MRTR
//! signing key (so a ticket is only good in the process that issued it), the store of used
//! nonces (so a ticket is single-use whichever connection replays it) and the session-id
//! counter. Everything per connection lives in `session.rs`.
//!
//! How the daemon will use it: build one `Server` at start, then for each accepted Unix-socket
//! connection spawn a thread that calls [`Server::serve`] with the stream (cloned for reading
//! and writing) and a [`Peer`] carrying the `SO_PEERCRED` uid. `serve` returns when the peer
//! closes its end.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::mrtr::{self, Binding, NonceStore, StateError, StateKey};
use super::session::Session;
use super::tool::ToolHost;
use crate::clock::{Clock, SystemClock};

/// Tunables of the engine. `Default` is what `loxwarden serve` uses unless the config says
/// otherwise.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// `serverInfo.name` / `version`.
    pub name: String,
    pub version: String,
    /// How long a handshake-era `elicitation/create` may go unanswered (config
    /// `consent.timeout_s`).
    pub consent_timeout: Duration,
    /// Lifetime of an MRTR `requestState`.
    pub request_state_ttl: Duration,
    /// Concurrent `tools/call`s per session; more get `-31001`.
    pub max_in_flight: usize,
    /// Tools per `tools/list` page: 100, so every shipped tool is on the first page (a client
    /// that reads one page, as the Python SDK's plain `list_tools()` does, sees them all).
    pub page_size: usize,
    /// After the peer closes its end, how long running calls may still finish and answer.
    pub eof_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            name: "loxwarden".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            consent_timeout: Duration::from_secs(60),
            request_state_ttl: Duration::from_secs(120),
            max_in_flight: 16,
            page_size: 100,
            eof_grace: Duration::from_millis(40),
        }
    }
}

/// Who is on the other end of a connection, as far as the transport can tell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Peer {
    /// The Unix uid (`SO_PEERCRED`) on the daemon socket; `None` on stdio.
    pub uid: Option<u32>,
    /// The session may only read.
    pub read_only: bool,
}

/// Why a [`Server`] could not be built.
#[derive(Debug)]
pub enum ServerError {
    /// The OS random source failed (no MRTR key).
    Random(getrandom::Error),
    /// A tool definition in the catalogue is not valid.
    BadTool { tool: String, reason: String },
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerError::Random(e) => write!(f, "no random source for the session key: {e}"),
            ServerError::BadTool { tool, reason } => write!(f, "tool '{tool}': {reason}"),
        }
    }
}

impl std::error::Error for ServerError {}

/// The MCP server engine. Cheap to clone; clones share all state.
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub host: Arc<dyn ToolHost>,
    pub config: ServerConfig,
    pub clock: Arc<dyn Clock>,
    key: StateKey,
    nonces: Mutex<NonceStore>,
    next_session: AtomicU64,
}

impl Server {
    pub fn new(host: Arc<dyn ToolHost>, config: ServerConfig) -> Result<Server, ServerError> {
        Server::with_clock(host, config, Arc::new(SystemClock::new()))
    }

    /// As [`Server::new`] with an injected clock (tests step MRTR expiry with `ManualClock`).
    pub fn with_clock(
        host: Arc<dyn ToolHost>,
        config: ServerConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Server, ServerError> {
        for def in host.tools() {
            super::methods::tool_json(def).map_err(|e| ServerError::BadTool {
                tool: def.name.to_owned(),
                reason: e.message,
            })?;
        }
        Ok(Server {
            shared: Arc::new(Shared {
                host,
                config,
                clock,
                key: StateKey::random().map_err(ServerError::Random)?,
                nonces: Mutex::new(NonceStore::default()),
                next_session: AtomicU64::new(1),
            }),
        })
    }

    /// Runs one MCP session over a byte stream until the peer closes its end (EOF) or the
    /// stream fails. Reads on the calling thread, writes on a helper thread, runs each
    /// `tools/call` on its own worker thread. On EOF, running calls are cancelled and get
    /// [`ServerConfig::eof_grace`] to finish; then it returns (calls still running are left to
    /// end on their own and their answers are dropped).
    pub fn serve<R: Read, W: Write + Send>(&self, reader: R, writer: W, peer: Peer) -> u64 {
        let id = self.shared.next_session.fetch_add(1, Ordering::Relaxed);
        Session::run(self.shared.clone(), id, peer, reader, writer);
        id
    }

    pub fn config(&self) -> &ServerConfig {
        &self.shared.config
    }
}

impl Shared {
    /// Signs a fresh `requestState` for `binding`.
    pub fn issue_state(&self, binding: &Binding<'_>) -> Result<String, getrandom::Error> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce)?;
        Ok(mrtr::issue(
            &self.key,
            binding,
            self.clock.mono(),
            self.config.request_state_ttl,
            nonce,
        ))
    }

    /// Verifies a `requestState` against `binding` and uses it up.
    pub fn redeem_state(&self, state: &str, binding: &Binding<'_>) -> Result<(), StateError> {
        let now = self.clock.mono();
        let ticket = mrtr::verify(&self.key, state, binding, now)?;
        self.nonces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .consume(ticket, now)
    }
}
