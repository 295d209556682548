//! The simulator's I/O shell: listeners, one thread per connection (bounded), the ticker that
//! moves simulated time, and the fault knobs. Everything here is plumbing around the pure parts
//! (`house`, `devices`, `auth`, `api`, `wire`).

mod handle;
mod net;
mod shared;
mod world;

use net::{accept_loop, admin_loop, spawn, ticker};

use std::collections::{HashMap, HashSet};
use std::io::{self, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::api::{self, Ctx, Reply};
use super::auth::{Auth, AuthConfig, EPOCH_2009, Token, hash_for_firmware};
use super::crypto::{HashAlg, ServerKey};
use super::devices;
use super::generate;
use super::house::{Changes, House, Now, StructureChange};
use super::http::{self, Conn};
use super::log::{Channel, CommandLog, LogEntry};
use super::tls::TlsConfigs;
use super::wire::{CodeStyle, HTML_401, Ll};
use super::ws;
use crate::loxone::state::StateValue;
use crate::loxone::uuid::{ControlAddr, Uuid};

/// The built-in demo house (see `demo_house.json`).
pub const DEMO_HOUSE: &[u8] = include_bytes!("../demo_house.json");
/// The serial the embedded TLS certificate names.
pub const DEFAULT_SERIAL: &str = "504F94A00001";

/// Where the simulated house comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum HouseSource {
    /// The built-in demo house.
    Demo,
    /// A `LoxAPP3.json` on disk.
    File(PathBuf),
    /// A `LoxAPP3.json` in memory.
    Json(Vec<u8>),
    /// A generated house with this many controls (`--generate N`).
    Generated(usize),
}

/// How to start a simulator. `SimOptions::default()` is the demo house on a free port, plain
/// HTTP (Gen 1), firmware 16.0 (SHA256), user `admin` / `password`, visualisation password
/// `1234`, real time.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub house: HouseSource,
    /// Miniserver port on 127.0.0.1 (0 = a free one).
    pub port: u16,
    /// Admin (fault injection, command log) port on 127.0.0.1 (0 = a free one).
    pub admin_port: u16,
    /// HTTPS/WSS on the Miniserver port (a Gen 2 device).
    pub tls: bool,
    /// PEM certificate chain and key to present instead of the embedded test certificate.
    pub tls_files: Option<(PathBuf, PathBuf)>,
    pub user: String,
    pub password: String,
    pub visu_password: String,
    /// Reported firmware; it also picks the hash algorithm unless `hash` is set.
    pub firmware: String,
    pub hash: Option<HashAlg>,
    /// Accept HTTP Basic authentication (off: Basic is refused with HTTP 401).
    pub allow_basic_auth: bool,
    /// Simulated seconds per real second (tests use e.g. 60 so a blind moves in a second).
    pub time_scale: f64,
    /// A websocket must authenticate within this (real) time or gets code 420 (decision 8).
    pub auth_timeout: Duration,
    /// A websocket silent this long is closed (CWM: 5 minutes).
    pub idle_timeout: Duration,
    /// Lifetime of an app token.
    pub token_lifetime: Duration,
    /// Concurrent Miniserver connections (Gen 2: 256).
    pub max_connections: usize,
    /// Serial number to report; default: the structure's, else `504F94A00001`.
    pub serial: Option<String>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            house: HouseSource::Demo,
            port: 0,
            admin_port: 0,
            tls: false,
            tls_files: None,
            user: "admin".into(),
            password: "password".into(),
            visu_password: "1234".into(),
            firmware: "16.0.6.17".into(),
            hash: None,
            allow_basic_auth: false,
            time_scale: 1.0,
            auth_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(300),
            token_lifetime: Duration::from_secs(21 * 24 * 3600),
            max_connections: 256,
            serial: None,
        }
    }
}

/// Messages from the simulator to a websocket session.
#[derive(Debug, Clone)]
pub enum Push {
    Events(Arc<Changes>),
    /// Header id 5, then close (reboot).
    OutOfService,
}

#[derive(Default)]
pub struct Faults {
    pub down_until: Option<Instant>,
    pub hung: bool,
    pub delay: Duration,
    pub codes: HashMap<ControlAddr, u16>,
    pub alt_cert: bool,
    /// Answer `fenc` errors in clear instead of sealed.
    pub clear_fenc_errors: bool,
    /// Refuse every `getjwt`/`gettoken` with this LL code (423 disabled user, 403 no right,
    /// 429 blocked after failed logins).
    pub login_refusal: Option<u16>,
    /// Seal `fenc` answers with a key the client did not send (they cannot be decrypted).
    pub garble_fenc: bool,
    /// Commands to these controls are carried out and logged, but their websocket answer is
    /// never sent (a reply lost on its way).
    pub silent: HashSet<ControlAddr>,
}

struct Registered {
    tcp: TcpStream,
    ws: bool,
}

/// HTTP session keys whose salt the simulator remembers (a client keeps one or a few).
const HTTP_SALTS: usize = 256;

/// State shared by every thread of one simulator.
pub struct Shared {
    started: Instant,
    scale: f64,
    pub key: ServerKey,
    house: Mutex<House>,
    auth: Mutex<Auth>,
    faults: Mutex<Faults>,
    /// The salt each HTTP session key (`sk`) used last (at most `HTTP_SALTS` kept).
    http_salts: Mutex<HashMap<String, String>>,
    log: Mutex<CommandLog>,
    sessions: Mutex<HashMap<u64, Sender<Push>>>,
    conns: Mutex<HashMap<u64, Registered>>,
    next_id: AtomicU64,
    active: AtomicUsize,
    stop: AtomicBool,
    tls: Option<TlsConfigs>,
    serial: String,
    firmware: String,
    allow_basic: bool,
    pub auth_timeout: Duration,
    pub idle_timeout: Duration,
    max_connections: usize,
    /// The most commands one websocket had received and not yet answered at one moment.
    ws_in_flight_max: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A running simulator. Dropping it stops it.
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    admin_addr: SocketAddr,
    user: String,
    password: String,
    visu_password: String,
    threads: Vec<JoinHandle<()>>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::shared::parse_stamp;
    use super::*;

    #[test]
    fn last_modified_stamps_parse_back() {
        let t = 1_709_210_096.0;
        assert_eq!(parse_stamp(&devices::last_modified_stamp(t)), Some(t));
    }
}
