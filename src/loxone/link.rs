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
//! `I + D` (+ one 100 ms poll) after the Miniserver's last sign of life; [`Link::health`]
//! also applies the stale rule (`loxone::health::effective`), so `2 × I + D` holds even if the link
//! thread is stuck in a slow HTTP call.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::auth::AuthError;
use super::client::{self, Bootstrap, Client, Reply, SendFailure};
use super::command::Command;
use super::errors::LinkError;
use super::events::Frame;
use super::secret::{self, Secret};
use super::state::{LiveStates as _, StateCache, StateEntry, StateValue};
use super::store::{self, StoredToken};
use super::structure::Structure;
use super::tls::{TlsState, Verifier};
use super::uuid::{ControlAddr, Uuid};
use super::ws::{self, AuthStep, WsEnd};
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

/// Where the loaded structure came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StructureSource {
    /// Nothing loaded yet (no cache, not connected).
    None,
    /// The cache in the state directory (not yet confirmed by the Miniserver).
    Cache,
    /// Downloaded from the Miniserver (or the cache confirmed by `LoxAPPversion3`).
    Miniserver,
}

/// A structure with its generation: callers resolve against one and pass its generation to
/// [`Link::send`], which refuses if the structure has changed since.
#[derive(Debug)]
pub struct LoadedStructure {
    pub generation: u64,
    /// Shared, not copied: the device model and a confirmed cache hold the same one (a
    /// 5,000-control structure is megabytes; issue 8's RSS figure).
    pub structure: Arc<Structure>,
    pub source: StructureSource,
    /// Size of the file in bytes.
    pub bytes: usize,
    /// When it was downloaded or confirmed.
    pub fetched_wall: Option<SystemTime>,
}

impl LoadedStructure {
    fn empty() -> LoadedStructure {
        LoadedStructure {
            generation: 0,
            structure: Arc::new(empty_structure()),
            source: StructureSource::None,
            bytes: 0,
            fetched_wall: None,
        }
    }
}

fn empty_structure() -> Structure {
    // A constant, valid document: parsing cannot fail.
    Structure::parse(br#"{"lastModified":"","controls":{}}"#)
        .unwrap_or_else(|_| unreachable!("the empty structure parses"))
}

/// What loxwarden knows about the Miniserver and the link (for `check-config` and
/// `get_system_status`).
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    pub url: String,
    pub user: String,
    pub firmware: String,
    pub serial: String,
    /// `local` from `jdev/cfg/apiKey` (12.1+).
    pub local: Option<bool>,
    /// `msInfo.miniserverType`: 0 Gen 1, 1 Go Gen 1, 2 Gen 2, 3 Go Gen 2, 4 Compact.
    pub miniserver_type: Option<i64>,
    pub ms_name: String,
    pub tls: Option<TlsState>,
    pub structure_last_modified: String,
    pub structure_source: StructureSource,
    pub structure_bytes: usize,
    pub structure_fetched_wall: Option<SystemTime>,
    pub structure_generation: u64,
    pub controls: usize,
    pub states_cached: usize,
    pub token_expires_unix: Option<u64>,
    pub token_rights: Option<u64>,
    /// How many times the link has become live since it started (1 = never reconnected).
    pub sessions: u64,
}

/// The name of a `miniserverType` value (SF `msInfo`).
pub fn miniserver_type_name(t: Option<i64>) -> &'static str {
    match t {
        Some(0) => "Miniserver Gen 1",
        Some(1) => "Miniserver Go Gen 1",
        Some(2) => "Miniserver Gen 2",
        Some(3) => "Miniserver Go Gen 2",
        Some(4) => "Miniserver Compact",
        _ => "unknown",
    }
}

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
                    .map(|d| super::auth::format_unix(d.as_secs()))
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

/// How long to wait before reconnect attempt `attempt` (0-based): 0.5 s doubling, capped.
pub fn backoff(attempt: u32, max: Duration) -> Duration {
    let ms = 500u64.saturating_mul(1u64 << attempt.min(20));
    Duration::from_millis(ms).min(max)
}

/// How one connected session ended.
enum Outcome {
    Stopped,
    Lost(Event),
    /// Ended on request; the health transition was made when it was requested.
    Requested,
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
/// validated [`Command`]s and report the Miniserver's real answer.
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

    /// What is known about the Miniserver and the link.
    pub fn facts(&self) -> Facts {
        let boot = self.boot.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let s = self.structure();
        let token = self.token.lock().unwrap_or_else(|e| e.into_inner()).clone();
        Facts {
            url: self.cfg.miniserver.url.clone(),
            user: self.cfg.miniserver.user.clone(),
            firmware: boot
                .as_ref()
                .map(|b| b.api.version.clone())
                .unwrap_or_default(),
            serial: boot.as_ref().map(|b| b.api.snr.clone()).unwrap_or_default(),
            local: boot.as_ref().and_then(|b| b.api.local),
            miniserver_type: s.structure.ms_info.miniserver_type,
            ms_name: s.structure.ms_info.ms_name.clone(),
            tls: boot.map(|b| b.tls),
            structure_last_modified: s.structure.last_modified.clone(),
            structure_source: s.source,
            structure_bytes: s.bytes,
            structure_fetched_wall: s.fetched_wall,
            structure_generation: s.generation,
            controls: s.structure.controls.len(),
            states_cached: self.states.len(),
            token_expires_unix: Some(token.token.expires_unix()),
            token_rights: Some(token.token.rights),
            sessions: self.sessions.load(Ordering::SeqCst),
        }
    }

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
        let Some(control) = snap.structure.control(&cmd.target) else {
            return Err(SendError::UnknownControl(cmd.target.clone()));
        };
        let secured = control.is_secured;
        if secured && self.visu.is_none() {
            return Err(SendError::NoVisuPassword(cmd.target.clone()));
        }
        let client = self
            .client()
            .ok_or_else(|| SendError::NotLive(self.health()))?;
        let token = self
            .token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .token
            .clone();
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
        match snap.structure.control(target) {
            Some(c) if c.kind == "TextInput" && !c.is_secured => {}
            _ => return Err(SendError::UnknownControl(target.clone())),
        }
        let client = self
            .client()
            .ok_or_else(|| SendError::NotLive(self.health()))?;
        let token = self
            .token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .token
            .clone();
        let r = client
            .authed(&token, &crate::loxone::command::text_path(target, text))
            .map_err(SendError::Link)?;
        Ok(Reply {
            code: r.code,
            value: r.value_text(),
            control: r.control,
        })
    }

    /// For the emergency stop only: sends over HTTP with the stored token even when the link
    /// is not live (the stop must try). The control must still be in the loaded structure.
    pub fn send_emergency(&self, cmd: &Command) -> Result<Reply, SendError> {
        let snap = self.structure();
        let secured = match snap.structure.control(&cmd.target) {
            Some(c) => c.is_secured,
            None if snap.source == StructureSource::None => false,
            None => return Err(SendError::UnknownControl(cmd.target.clone())),
        };
        let client = match self.client() {
            Some(c) => c,
            None => {
                let (c, _) = Client::connect(&self.cfg, self.verifier.clone())
                    .map_err(SendError::NotSent)?;
                Arc::new(c)
            }
        };
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

    // ------------------------------------------------------------------ the thread

    fn run(self: Arc<Self>) {
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

    fn now_unix(&self) -> u64 {
        unix(self.clock.wall())
    }

    fn current_token(&self) -> StoredToken {
        self.token.lock().unwrap_or_else(|e| e.into_inner()).clone()
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

    fn apply(&self, f: Frame) {
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

    fn live_loop(&self, mut sock: ws::Ws, client: &Arc<Client>) -> Outcome {
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
    fn refresh_if_due(&self, sock: &mut ws::Ws, saw_keepalive: &mut bool) -> Result<(), Event> {
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
                    super::auth::format_unix(next.token.expires_unix())
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

    /// Makes the loaded structure match `LoxAPPversion3`, downloading if needed.
    fn ensure_structure(
        &self,
        client: &Client,
        token: &super::auth::Token,
    ) -> Result<(), LinkError> {
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
