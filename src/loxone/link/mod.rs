//! The link: one thread that keeps loxwarden connected to the Miniserver, and the handle the
//! rest of the program uses to read state and send commands through it.
//!
//! Why one thread and a handle (the rumqttc split): the websocket, the heartbeat, token refresh
//! and structure checks are one sequential story (connect → authenticate → live → lost →
//! reconnect) and read best as one loop; callers only need "is it live?", "what is the
//! structure?", "what are the states?" and "send this". Commands go over HTTP from the
//! caller's thread, each with its own reply, after three checks made here and nowhere else:
//! the link is `live` (SC-4, SC-8), the command was resolved against the structure that is
//! loaded now, and the control still exists in it. Right before sending, `LoxAPPversion3` is
//! asked, so a changed structure is reloaded before any further command goes out.
//!
//! Health bound: with keepalive interval `I` and deadline `D`, the link leaves `live` at most
//! `I + D` (+ one `ws::POLL` of 10 ms) after the Miniserver's last sign of life; [`Link::health`]
//! also applies the stale rule (`loxone::health::effective`), so `2 × I + D` holds even if the link
//! thread is stuck in a slow HTTP call.
//!
//! Layout: this file holds the handle and its shared state; `facts` what the link knows about
//! the Miniserver, `send` the gate every command passes, `session` the thread's connect story,
//! `heartbeat` its live loop (keepalive, token refresh, structure checks), `burst` the
//! emergency stop's commands pipelined over the websocket and `flights` the commands under way
//! that a stop must wait for.

mod burst;
mod facts;
mod flights;
mod heartbeat;
mod send;
mod session;

pub use burst::{PICKUP, WINDOW};
pub use facts::{Facts, LoadedStructure, StructureSource, miniserver_type_name};
pub use send::SendError;
pub use session::backoff;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::auth::AuthError;
use super::client::{self, Bootstrap, Client};
use super::errors::LinkError;
use super::secret::{self, Secret};
use super::state::{LiveStates as _, StateCache, StateEntry};
use super::store::{self, StoredToken};
use super::structure::Structure;
use super::tls::Verifier;
use super::uuid::Uuid;
use crate::clock::{Clock, Mono};
use crate::config::Config;
use crate::loxone::health::{self, Bounds, Event, Health, LinkState};

/// Secrets the running link needs (the visualisation password for secured controls).
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    pub visu_password: Option<Secret>,
}

impl Secrets {
    /// Reads `LOXWARDEN_VISU_PASSWORD` or `miniserver.visu_password_file`.
    pub fn from_config(cfg: &Config) -> Result<Secrets, LinkError> {
        let visu = secret::visu_password(cfg.miniserver.visu_password_file.as_deref())
            .map_err(|e| LinkError::Config(e.to_string()))?;
        Ok(Secrets {
            visu_password: visu,
        })
    }
}
/// The link handle.
pub struct Link {
    cfg: Config,
    state_dir: PathBuf,
    bounds: Bounds,
    clock: Arc<dyn Clock>,
    visu: Option<Secret>,
    verifier: Option<Arc<Verifier>>,
    health: Mutex<Health>,
    last_alive: AtomicU64,
    sessions: AtomicU64,
    structure: RwLock<Arc<LoadedStructure>>,
    states: StateCache,
    token: Mutex<StoredToken>,
    client: RwLock<Option<Arc<Client>>>,
    boot: Mutex<Option<Bootstrap>>,
    stop: AtomicBool,
    reconnect: Mutex<Option<Event>>,
    wake: (Mutex<()>, Condvar),
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Pipelined commands waiting for the link thread (`burst.rs`).
    bursts: Mutex<Vec<Arc<burst::Job>>>,
    /// Commands past their last check and not yet answered (`flights.rs`).
    flights: Mutex<flights::Flights>,
    landed: Condvar,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("url", &self.cfg.miniserver.url)
            .field("health", &self.health())
            .finish()
    }
}

/// Unix seconds of a wall time.
fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Loads the token file and checks it belongs to this config.
pub fn load_token(cfg: &Config) -> Result<StoredToken, LinkError> {
    let stored = StoredToken::load(&cfg.paths.state_dir)?.ok_or(AuthError::NotLoggedIn)?;
    if stored.token.user != cfg.miniserver.user || stored.url != cfg.miniserver.url {
        return Err(LinkError::Config(format!(
            "the stored token belongs to user '{}' at {}, the config names user '{}' at {}. Run 'loxwarden login'",
            stored.token.user, stored.url, cfg.miniserver.user, cfg.miniserver.url
        )));
    }
    Ok(stored)
}

/// A direct HTTP connection with the stored token, without the websocket or a [`Link`]:
/// for the emergency stop when no link is running. Uses the same TLS pin and address.
/// Commands sent this way skip the link-health gate on purpose; the caller must still send only
/// validated [`Command`](super::command::Command)s and report the Miniserver's real answer.
pub fn direct(cfg: &Config) -> Result<(Client, Bootstrap, StoredToken), LinkError> {
    let stored = load_token(cfg)?;
    let verifier = client::verifier_for(cfg, stored.tls_pin)?;
    let (c, boot) = Client::connect(cfg, verifier)?;
    Ok((c, boot, stored))
}

/// Logs what a person must know about the TLS configuration at every start.
pub fn warn_about_config(cfg: &Config) {
    if cfg.miniserver.url.starts_with("https://") && !cfg.miniserver.tls_verify {
        log::warn!(
            "TLS certificate verification is OFF (miniserver.tls_verify = false): anyone on the network can impersonate the Miniserver"
        );
    }
    for s in cfg.ignored_settings() {
        log::warn!("config: {s} has no effect");
    }
}

impl Link {
    /// Starts the link thread. Fails at once (before any network) when there is no usable
    /// token or the TLS settings cannot work; connection problems are reported through
    /// [`Link::health`] instead, and the link keeps trying.
    pub fn start(
        cfg: &Config,
        clock: Arc<dyn Clock>,
        secrets: Secrets,
    ) -> Result<Arc<Link>, LinkError> {
        warn_about_config(cfg);
        let stored = load_token(cfg)?;
        let verifier = client::verifier_for(cfg, stored.tls_pin)?;
        let now = clock.mono();
        let wall = clock.wall();
        let mut loaded = LoadedStructure::empty();
        if let Some(bytes) = store::load_structure(&cfg.paths.state_dir) {
            match Structure::parse(&bytes) {
                Ok(s) => {
                    loaded = LoadedStructure {
                        generation: 1,
                        structure: Arc::new(s),
                        source: StructureSource::Cache,
                        bytes: bytes.len(),
                        fetched_wall: None,
                    };
                }
                Err(e) => log::warn!("ignoring the cached structure file: {e}"),
            }
        }
        let link = Arc::new(Link {
            cfg: cfg.clone(),
            state_dir: cfg.paths.state_dir.clone(),
            bounds: Bounds {
                interval: Duration::from_secs(cfg.link.keepalive_interval_s),
                deadline: Duration::from_secs(cfg.link.keepalive_deadline_s),
            },
            clock,
            visu: secrets.visu_password,
            verifier,
            health: Mutex::new(Health::starting(now, wall)),
            last_alive: AtomicU64::new(now.0),
            sessions: AtomicU64::new(0),
            structure: RwLock::new(Arc::new(loaded)),
            states: StateCache::new(),
            token: Mutex::new(stored),
            client: RwLock::new(None),
            boot: Mutex::new(None),
            stop: AtomicBool::new(false),
            reconnect: Mutex::new(None),
            wake: (Mutex::new(()), Condvar::new()),
            thread: Mutex::new(None),
            bursts: Mutex::new(Vec::new()),
            flights: Mutex::new(flights::Flights::default()),
            landed: Condvar::new(),
        });
        let runner = link.clone();
        let handle = std::thread::Builder::new()
            .name("loxwarden-link".into())
            .spawn(move || runner.run())
            .map_err(|e| LinkError::State {
                what: "cannot start the link thread".into(),
                source: e,
            })?;
        *link.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        Ok(link)
    }

    /// The link's health now, with the stale rule applied.
    pub fn health(&self) -> Health {
        let h = self
            .health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let last = Mono(self.last_alive.load(Ordering::SeqCst));
        health::effective(&h, last, self.clock.mono(), self.clock.wall(), &self.bounds)
    }

    /// The bound within which a silent Miniserver takes the link out of `live`.
    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// Waits until the link is live (or `timeout`); returns the health then.
    pub fn wait_live(&self, timeout: Duration) -> Health {
        let end = Instant::now() + timeout;
        loop {
            let h = self.health();
            if h.is_live() || Instant::now() >= end {
                return h;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The structure loaded now.
    pub fn structure(&self) -> Arc<LoadedStructure> {
        self.structure
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Live states (value, time of last update).
    pub fn states(&self) -> &StateCache {
        &self.states
    }

    /// The current monotonic time of the link's clock (to compare with state update times).
    pub fn now(&self) -> Mono {
        self.clock.mono()
    }

    /// Waits up to `timeout` until every state in `uuids` has an update newer than `after`;
    /// returns the entries as they are then (callers compare `updated` with `after`).
    pub fn wait_for_states(
        &self,
        uuids: &[Uuid],
        after: Mono,
        timeout: Duration,
    ) -> Vec<Option<StateEntry>> {
        let end = Instant::now() + timeout;
        loop {
            let generation = self.states.generation();
            let entries: Vec<Option<StateEntry>> =
                uuids.iter().map(|u| self.states.entry(u)).collect();
            let all_new = entries
                .iter()
                .all(|e| e.as_ref().is_some_and(|e| e.updated > after));
            let now = Instant::now();
            if all_new || now >= end {
                return entries;
            }
            self.states.wait_newer(generation, end - now);
        }
    }

    /// Stops the thread and closes the socket. The link stays `down`.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.1.notify_all();
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    fn client(&self) -> Option<Arc<Client>> {
        self.client
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Asks the link thread to drop the session and reconnect (structure change, 401).
    fn request_reconnect(&self, why: Event) {
        // Commands are refused from this moment, not from when the thread notices.
        self.transition(why.clone());
        *self.reconnect.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
        self.wake.1.notify_all();
    }

    fn transition(&self, event: Event) {
        let mut h = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let next = health::next(&h, &event, self.clock.mono(), self.clock.wall());
        if next.state != h.state || next.reason != h.reason {
            let (from, to) = (h.state.as_str(), next.state.as_str());
            match (&event, next.state) {
                (_, LinkState::Live) => log::info!("link: {from} → live"),
                (Event::Stopped, _) | (_, LinkState::Connecting) => {
                    log::info!("link: {from} → {to}: {}", next.reason)
                }
                _ => log::warn!("link: {from} → {to}: {}", next.reason),
            }
        }
        *h = next;
    }

    fn alive(&self) {
        self.last_alive.store(self.clock.mono().0, Ordering::SeqCst);
    }

    fn sleep(&self, d: Duration) {
        let guard = self.wake.0.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self
            .wake
            .1
            .wait_timeout_while(guard, d, |_| !self.stopped())
            .unwrap_or_else(|e| e.into_inner());
    }

    fn now_unix(&self) -> u64 {
        unix(self.clock.wall())
    }

    fn current_token(&self) -> StoredToken {
        self.token.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
