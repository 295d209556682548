//! The simulator's I/O shell: listeners, one thread per connection (bounded), the ticker that
//! moves simulated time, and the fault knobs. Everything here is plumbing around the pure parts
//! (`house`, `devices`, `auth`, `api`, `wire`).

use std::collections::HashMap;
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
pub const DEMO_HOUSE: &[u8] = include_bytes!("demo_house.json");
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

impl Shared {
    pub fn now(&self) -> Now {
        Now {
            sim: self.started.elapsed().as_secs_f64() * self.scale,
            unix: unix_now(),
        }
    }

    /// Real milliseconds since start.
    pub fn ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Seconds since 2009-01-01 UTC (token lifetimes).
    pub fn secs_2009(&self) -> u64 {
        (unix_now() as u64).saturating_sub(EPOCH_2009)
    }

    pub fn house(&self) -> MutexGuard<'_, House> {
        lock(&self.house)
    }

    pub fn with_auth<R>(&self, f: impl FnOnce(&mut Auth) -> R) -> R {
        f(&mut lock(&self.auth))
    }

    pub fn log(&self, e: LogEntry) {
        lock(&self.log).push(e);
    }

    pub fn firmware(&self) -> &str {
        &self.firmware
    }

    pub fn serial(&self) -> &str {
        &self.serial
    }

    pub fn allow_basic(&self) -> bool {
        self.allow_basic
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub fn is_down(&self) -> bool {
        lock(&self.faults)
            .down_until
            .is_some_and(|t| Instant::now() < t)
    }

    pub fn hung(&self) -> bool {
        lock(&self.faults).hung
    }

    pub fn delay(&self) -> Duration {
        lock(&self.faults).delay
    }

    /// Checks `salt` for the HTTP session key `sk` with `follows(last salt)` and, when it
    /// passes, remembers it as the key's salt.
    pub fn http_salt(
        &self,
        sk: &str,
        follows: impl FnOnce(Option<&str>) -> bool,
        salt: &str,
    ) -> bool {
        let mut salts = lock(&self.http_salts);
        if !follows(salts.get(sk).map(String::as_str)) {
            return false;
        }
        if salts.len() >= HTTP_SALTS && !salts.contains_key(sk) {
            salts.clear();
        }
        salts.insert(sk.to_owned(), salt.to_owned());
        true
    }

    pub fn clear_fenc_errors(&self) -> bool {
        lock(&self.faults).clear_fenc_errors
    }

    pub fn set_clear_fenc_errors(&self, on: bool) {
        lock(&self.faults).clear_fenc_errors = on;
    }

    pub fn garble_fenc(&self) -> bool {
        lock(&self.faults).garble_fenc
    }

    pub fn set_garble_fenc(&self, on: bool) {
        lock(&self.faults).garble_fenc = on;
    }

    pub fn login_refusal(&self) -> Option<u16> {
        lock(&self.faults).login_refusal
    }

    pub fn set_login_refusal(&self, code: Option<u16>) {
        lock(&self.faults).login_refusal = code;
    }

    pub fn forced_code(&self, addr: &ControlAddr) -> Option<u16> {
        lock(&self.faults).codes.get(addr).copied()
    }

    /// The pseudo-JSON of `jdev/cfg/apiKey` (`with_key`) or `jdev/cfg/api` (decision 11).
    pub fn api_key_text(&self, with_key: bool) -> String {
        let snr: Vec<String> = self
            .serial
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let snr = snr.join(":");
        let https = u8::from(self.is_tls());
        if with_key {
            format!(
                "{{'snr': '{snr}', 'version':'{}', 'key':'{}', 'httpsStatus':{https}, 'local':true}}",
                self.firmware,
                super::crypto::hex_upper(self.serial.as_bytes())
            )
        } else {
            format!(
                "{{'snr': '{snr}', 'version':'{}', 'hasEventSlots':true, 'isInTrust':false, 'local':true, 'certTLD':'com', 'httpsStatus':{https}}}",
                self.firmware
            )
        }
    }

    /// Sends the house's pending changes to every websocket (not while hung: they wait).
    pub fn flush_changes(&self) {
        let mut house = lock(&self.house);
        if self.hung() {
            return;
        }
        let changes = house.take_changes();
        if changes.is_empty() {
            return;
        }
        let changes = Arc::new(changes);
        for tx in lock(&self.sessions).values() {
            let _ = tx.send(Push::Events(changes.clone()));
        }
    }

    /// Registers a websocket session for pushes.
    pub fn subscribe(&self, id: u64, tx: Sender<Push>) {
        lock(&self.sessions).insert(id, tx);
    }

    pub fn unsubscribe(&self, id: u64) {
        lock(&self.sessions).remove(&id);
    }

    fn register(&self, tcp: &TcpStream) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = tcp.try_clone() {
            lock(&self.conns).insert(
                id,
                Registered {
                    tcp: clone,
                    ws: false,
                },
            );
        }
        id
    }

    fn mark_ws(&self, id: u64) {
        if let Some(r) = lock(&self.conns).get_mut(&id) {
            r.ws = true;
        }
    }

    fn unregister(&self, id: u64) {
        lock(&self.conns).remove(&id);
    }

    pub fn is_registered(&self, id: u64) -> bool {
        lock(&self.conns).contains_key(&id)
    }

    /// Closes sockets abruptly (no close frame): `ws_too` includes websockets.
    fn shut(&self, ws_too: bool) {
        let mut conns = lock(&self.conns);
        conns.retain(|_, r| {
            if ws_too || !r.ws {
                let _ = r.tcp.shutdown(Shutdown::Both);
                false
            } else {
                true
            }
        });
    }

    fn tls_config(&self) -> Option<Arc<rustls::ServerConfig>> {
        let t = self.tls.as_ref()?;
        Some(if lock(&self.faults).alt_cert {
            t.alt.clone()
        } else {
            t.primary.clone()
        })
    }

    // ------------------------------------------------------------ fault knobs

    pub fn reboot(&self, down_for: Duration) {
        lock(&self.faults).down_until = Some(Instant::now() + down_for);
        self.with_auth(Auth::forget_keys);
        for tx in lock(&self.sessions).values() {
            let _ = tx.send(Push::OutOfService);
        }
        self.shut(false);
    }

    pub fn set_hung(&self, hung: bool) {
        lock(&self.faults).hung = hung;
        if !hung {
            self.flush_changes();
        }
    }

    pub fn drop_sockets(&self) {
        self.shut(true);
    }

    pub fn set_delay(&self, d: Duration) {
        lock(&self.faults).delay = d;
    }

    pub fn set_forced_code(&self, addr: ControlAddr, code: Option<u16>) {
        let mut f = lock(&self.faults);
        match code {
            Some(c) => f.codes.insert(addr, c),
            None => f.codes.remove(&addr),
        };
    }

    fn with_first(&self, kind: &str, f: impl FnOnce(&mut House, usize, Now)) -> bool {
        let now = self.now();
        let found = {
            let mut h = lock(&self.house);
            h.tick(now);
            match h.first_of(kind) {
                Some(i) => {
                    f(&mut h, i, now);
                    true
                }
                None => false,
            }
        };
        self.flush_changes();
        found
    }

    pub fn trigger_smoke_alarm(&self) -> bool {
        self.with_first("SmokeAlarm", devices::trigger_smoke)
    }

    pub fn ring_bell(&self) -> bool {
        self.with_first("Intercom", devices::ring_bell)
            || self.with_first("IntercomV2", devices::ring_bell)
    }

    /// A person in the Loxone app presses a push button (`pulse`: 1, then 0), switches a switch
    /// over, or writes a text input's text: the Miniserver's own change, not a command of the
    /// gateway's, so nothing is logged. `text` is for text inputs only.
    pub fn app_input(&self, addr: &ControlAddr, text: Option<&str>) -> bool {
        let now = self.now();
        let found = {
            let mut h = lock(&self.house);
            h.tick(now);
            match (h.find(addr).map(|(i, c)| (i, c.kind.clone())), text) {
                (Some((i, k)), None) if k == "Pushbutton" => {
                    devices::command(&mut h, i, &["pulse"], now).code == 200
                }
                (Some((i, k)), None) if k == "Switch" => {
                    let v = 1.0 - h.num(i, "active");
                    h.set(i, "active", v);
                    true
                }
                (Some((i, k)), Some(t)) if k == "TextInput" => {
                    h.set_text(i, "text", t);
                    true
                }
                _ => false,
            }
        };
        self.flush_changes();
        found
    }

    /// Sets a number state as the device's own sensor would (no command is logged).
    pub fn sense(&self, addr: &ControlAddr, state: &str, v: f64) -> bool {
        let now = self.now();
        let found = {
            let mut h = lock(&self.house);
            h.tick(now);
            match h.find(addr).map(|(i, c)| (i, c.state(state).is_some())) {
                Some((i, true)) => {
                    h.set(i, state, v);
                    true
                }
                _ => false,
            }
        };
        self.flush_changes();
        found
    }

    pub fn change_structure(&self, change: &StructureChange) -> bool {
        let now = self.now();
        let ok = {
            let mut h = lock(&self.house);
            // lastModified must differ from the previous value even within one second.
            let mut stamp = devices::last_modified_stamp(now.unix);
            if stamp.as_str() <= h.last_modified() {
                let secs = parse_stamp(h.last_modified()).unwrap_or(now.unix) + 1.0;
                stamp = devices::last_modified_stamp(secs);
            }
            h.change(change, &stamp, now)
        };
        self.flush_changes();
        ok
    }

    pub fn expire_tokens(&self) {
        let now = self.secs_2009();
        self.with_auth(|a| a.expire_all(now));
    }

    pub fn set_alt_cert(&self, alt: bool) {
        lock(&self.faults).alt_cert = alt;
    }

    pub fn commands(&self) -> Vec<LogEntry> {
        lock(&self.log).all()
    }

    pub fn commands_since(&self, seq: u64) -> Vec<LogEntry> {
        lock(&self.log).since(seq)
    }

    pub fn clear_log(&self) {
        lock(&self.log).clear();
    }

    pub fn last_seq(&self) -> u64 {
        lock(&self.log).last_seq()
    }

    pub fn tokens(&self) -> Vec<Token> {
        self.with_auth(|a| a.tokens().to_vec())
    }

    pub fn connections(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }
}

/// `YYYY-MM-DD HH:MM:SS` → unix seconds (UTC), for keeping `lastModified` increasing.
fn parse_stamp(s: &str) -> Option<f64> {
    let (d, t) = s.split_once(' ')?;
    let mut dp = d.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (dp.next()??, dp.next()??, dp.next()??);
    let mut tp = t.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (tp.next()??, tp.next()??, tp.next()??);
    // days_from_civil (H. Hinnant)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64)
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

impl Sim {
    /// Starts a simulator on 127.0.0.1. Returns when it accepts connections.
    pub fn start(opts: SimOptions) -> io::Result<Sim> {
        let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
        let bytes = match &opts.house {
            HouseSource::Demo => DEMO_HOUSE.to_vec(),
            HouseSource::File(p) => std::fs::read(p)?,
            HouseSource::Json(b) => b.clone(),
            HouseSource::Generated(n) => generate::structure(*n).into_bytes(),
        };
        let started = Instant::now();
        let now = Now {
            sim: 0.0,
            unix: unix_now(),
        };
        let house = House::load(&bytes, now).map_err(|e| invalid(e.to_string()))?;
        let serial = opts
            .serial
            .clone()
            .or_else(|| {
                let s = house.structure.ms_info.serial_nr.to_ascii_uppercase();
                (s.len() == 12 && s.bytes().all(|c| c.is_ascii_hexdigit())).then_some(s)
            })
            .unwrap_or_else(|| DEFAULT_SERIAL.to_string());
        let (hash, hash_field) = match opts.hash {
            Some(h) => (h, true),
            None => hash_for_firmware(&opts.firmware),
        };
        let auth = Auth::new(AuthConfig {
            user: opts.user.clone(),
            password: opts.password.clone(),
            visu_password: opts.visu_password.clone(),
            hash,
            hash_field,
            token_lifetime_s: opts.token_lifetime.as_secs(),
        });
        let tls = match (&opts.tls, &opts.tls_files) {
            (false, _) => None,
            (true, Some((c, k))) => Some(TlsConfigs::from_files(c, k)?),
            (true, None) => Some(TlsConfigs::embedded()?),
        };
        let listener = TcpListener::bind(("127.0.0.1", opts.port))?;
        let admin = TcpListener::bind(("127.0.0.1", opts.admin_port))?;
        let addr = listener.local_addr()?;
        let admin_addr = admin.local_addr()?;
        let shared = Arc::new(Shared {
            started,
            scale: if opts.time_scale.is_finite() && opts.time_scale > 0.0 {
                opts.time_scale
            } else {
                1.0
            },
            key: ServerKey::embedded()?,
            house: Mutex::new(house),
            auth: Mutex::new(auth),
            faults: Mutex::new(Faults::default()),
            http_salts: Mutex::new(HashMap::new()),
            log: Mutex::new(CommandLog::default()),
            sessions: Mutex::new(HashMap::new()),
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            active: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            tls,
            serial,
            firmware: opts.firmware.clone(),
            allow_basic: opts.allow_basic_auth,
            auth_timeout: opts.auth_timeout,
            idle_timeout: opts.idle_timeout,
            max_connections: opts.max_connections.max(1),
        });
        let mut threads = Vec::new();
        let sh = shared.clone();
        threads.push(spawn("sim-accept", move || accept_loop(sh, listener)));
        let sh = shared.clone();
        threads.push(spawn("sim-admin", move || {
            admin_loop(sh, admin, admin_addr)
        }));
        let sh = shared.clone();
        threads.push(spawn("sim-ticker", move || ticker(sh)));
        log::info!("sim: Miniserver on {addr}, admin on {admin_addr}");
        Ok(Sim {
            shared,
            addr,
            admin_addr,
            user: opts.user,
            password: opts.password,
            visu_password: opts.visu_password,
            threads,
        })
    }

    /// `http://127.0.0.1:PORT` (or `https://…` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.shared.is_tls() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT/ws/rfc6455` (or `wss://…`).
    pub fn ws_url(&self) -> String {
        let scheme = if self.shared.is_tls() { "wss" } else { "ws" };
        format!("{scheme}://{}/ws/rfc6455", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    pub fn visu_password(&self) -> &str {
        &self.visu_password
    }

    pub fn serial(&self) -> &str {
        &self.shared.serial
    }

    pub fn firmware(&self) -> &str {
        &self.shared.firmware
    }

    /// PEM of the test CA that signed the embedded certificates (trust it in tests only).
    pub fn test_ca_pem(&self) -> &'static str {
        super::tls::TEST_CA_PEM
    }

    /// PEM of the certificate presented now (`None` without TLS).
    pub fn server_cert_pem(&self) -> Option<String> {
        let t = self.shared.tls.as_ref()?;
        Some(if lock(&self.shared.faults).alt_cert {
            t.alt_pem.clone()
        } else {
            t.primary_pem.clone()
        })
    }

    /// The structure file as served now.
    pub fn structure_json(&self) -> Arc<str> {
        self.shared.house().file()
    }

    /// The parsed structure as served now.
    pub fn structure(&self) -> crate::loxone::structure::Structure {
        self.shared.house().structure.clone()
    }

    /// A state's current value.
    pub fn state(&self, uuid: &Uuid) -> Option<StateValue> {
        self.tick();
        self.shared.house().state(uuid).cloned()
    }

    /// The state `name` of the control at `addr`.
    pub fn control_state(&self, addr: &ControlAddr, name: &str) -> Option<StateValue> {
        self.tick();
        let h = self.shared.house();
        let (_, c) = h.find(addr)?;
        let u = c.state(name)?;
        h.state(&u).cloned()
    }

    /// The address of the first control with this name (test convenience).
    pub fn control_named(&self, name: &str) -> Option<ControlAddr> {
        self.shared
            .house()
            .structure
            .controls
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.addr.clone())
    }

    fn tick(&self) {
        let now = self.shared.now();
        self.shared.house().tick(now);
        self.shared.flush_changes();
    }

    /// Every request received so far (decrypted, without query strings).
    pub fn commands(&self) -> Vec<LogEntry> {
        self.shared.commands()
    }

    /// Only the device commands (`jdev/sps/io|ios`, not reads), whatever their outcome.
    pub fn device_commands(&self) -> Vec<LogEntry> {
        self.commands().into_iter().filter(|e| e.device).collect()
    }

    pub fn clear_log(&self) {
        self.shared.clear_log();
    }

    /// The instant the command log's `at_ms` counts from (for latency figures).
    pub fn log_epoch(&self) -> Instant {
        self.shared.started
    }

    /// A mark in the log: pass it to [`Sim::commands_since`] to see only what came after.
    pub fn log_mark(&self) -> u64 {
        self.shared.last_seq()
    }

    /// Requests received after `mark` (see [`Sim::log_mark`]).
    pub fn commands_since(&self, mark: u64) -> Vec<LogEntry> {
        self.shared.commands_since(mark)
    }

    /// Tokens the simulated Miniserver has issued and not killed.
    pub fn tokens(&self) -> Vec<Token> {
        self.shared.tokens()
    }

    /// Open Miniserver connections.
    pub fn connections(&self) -> usize {
        self.shared.connections()
    }

    /// Out-of-service to every websocket, close every connection, answer 503 for `down_for`.
    pub fn reboot(&self, down_for: Duration) {
        self.shared.reboot(down_for);
    }

    /// Stop answering requests and keepalives (`true`) or resume (`false`).
    pub fn hang(&self, hung: bool) {
        self.shared.set_hung(hung);
    }

    /// Close every socket abruptly, without a close frame.
    pub fn drop_sockets(&self) {
        self.shared.drop_sockets();
    }

    /// Delay every reply by `d` (zero: no delay).
    pub fn delay_replies(&self, d: Duration) {
        self.shared.set_delay(d);
    }

    /// Answer every command to `addr` with LL code `code` without acting (`None`: normal).
    pub fn answer_with(&self, addr: &ControlAddr, code: Option<u16>) {
        self.shared.set_forced_code(addr.clone(), code);
    }

    /// Put the (first) smoke alarm into main alarm. False if the house has none.
    pub fn trigger_smoke_alarm(&self) -> bool {
        self.shared.trigger_smoke_alarm()
    }

    /// Ring the (first) intercom. False if the house has none.
    pub fn ring_bell(&self) -> bool {
        self.shared.ring_bell()
    }

    /// A person presses the push button (or switches the switch) at `addr` in the Loxone app
    /// (the consent channel's approval, `consent::house`): the Miniserver's own change, not a
    /// command, so the command log stays as it was.
    pub fn press_in_app(&self, addr: &ControlAddr) -> bool {
        self.shared.app_input(addr, None)
    }

    /// A person writes `text` into the virtual text input at `addr` in the Loxone app (an empty
    /// text declines the consent channel's question).
    pub fn type_in_app(&self, addr: &ControlAddr, text: &str) -> bool {
        self.shared.app_input(addr, Some(text))
    }

    /// A sensor reading: sets the number state `state` of `addr` as the device itself would
    /// (someone walks into a room, the burglar alarm starts sounding). Nothing is logged as a
    /// command. False if there is no such control or state.
    pub fn sense(&self, addr: &ControlAddr, state: &str, v: f64) -> bool {
        self.shared.sense(addr, state, v)
    }

    /// Reconfigure: bump `lastModified`, and rename or remove a control.
    pub fn change_structure(&self, change: &StructureChange) -> bool {
        self.shared.change_structure(change)
    }

    /// Every issued token expires now.
    pub fn expire_tokens(&self) {
        self.shared.expire_tokens();
    }

    /// Answer `fenc` requests that fail (wrong password, blocked user, …) in clear instead of
    /// sealed (`false`: sealed, the default). Loxone's documents do not say which a Miniserver
    /// does; its reference clients accept both.
    pub fn clear_fenc_errors(&self, on: bool) {
        self.shared.set_clear_fenc_errors(on);
    }

    /// Refuse every token request (`getjwt`/`gettoken`) with LL `code` after the request was
    /// decrypted: 423 (user disabled), 403 (no right), 429 (blocked); `None`: normal.
    pub fn refuse_logins(&self, code: Option<u16>) {
        self.shared.set_login_refusal(code);
    }

    /// Seal `fenc` answers with a random key instead of the request's (`false`: normal), so
    /// that no client can decrypt them.
    pub fn garble_fenc(&self, on: bool) {
        self.shared.set_garble_fenc(on);
    }

    /// Present the alternative certificate to new TLS connections (`false`: the normal one).
    pub fn present_alt_cert(&self, alt: bool) {
        self.shared.set_alt_cert(alt);
    }

    /// Stops listening and closes every connection.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the blocking accept loops.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        let _ = TcpStream::connect_timeout(&self.admin_addr, Duration::from_millis(200));
        self.shared.shut(true);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    match std::thread::Builder::new().name(name.into()).spawn(f) {
        Ok(h) => h,
        // Out of threads at start-up is fatal for a test tool.
        Err(e) => panic!("sim: cannot spawn {name}: {e}"),
    }
}

fn ticker(sh: Arc<Shared>) {
    while !sh.stopping() {
        std::thread::sleep(Duration::from_millis(50));
        let now = sh.now();
        sh.house().tick(now);
        sh.flush_changes();
    }
}

/// Decrements the live-connection count when a connection thread ends.
struct Live(Arc<Shared>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

fn accept_loop(sh: Arc<Shared>, listener: TcpListener) {
    for stream in listener.incoming() {
        if sh.stopping() {
            break;
        }
        let Ok(tcp) = stream else { continue };
        let _ = tcp.set_nodelay(true);
        if sh.active.load(Ordering::SeqCst) >= sh.max_connections {
            // CWM 901: maximum number of concurrent connections reached. The request is read
            // first so closing does not reset the connection before the answer is seen.
            let _ = std::thread::Builder::new()
                .name("sim-refuse".into())
                .spawn(move || refuse_901(tcp));
            continue;
        }
        sh.active.fetch_add(1, Ordering::SeqCst);
        let sh2 = sh.clone();
        let r = std::thread::Builder::new()
            .name("sim-conn".into())
            .spawn(move || {
                let _live = Live(sh2.clone());
                serve_conn(&sh2, tcp);
            });
        if r.is_err() {
            sh.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn refuse_901(tcp: TcpStream) {
    let _ = tcp.set_read_timeout(Some(Duration::from_millis(500)));
    let Ok(mut w) = tcp.try_clone() else { return };
    let _ = http::read_request(&mut BufReader::new(tcp));
    let body = Ll::new("", serde_json::json!(""), 901, CodeStyle::UpperString).to_json();
    let _ = http::write_response(&mut w, 503, "application/json", body.as_bytes(), false);
    let _ = w.shutdown(Shutdown::Write);
}

fn serve_conn(sh: &Arc<Shared>, tcp: TcpStream) {
    let id = sh.register(&tcp);
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(60)));
    let (conn, http_ch, ws_ch) = match sh.tls_config() {
        Some(cfg) => match rustls::ServerConnection::new(cfg) {
            Ok(sc) => (
                Conn::Tls(Box::new(rustls::StreamOwned::new(sc, tcp))),
                Channel::Https,
                Channel::Wss,
            ),
            Err(_) => return sh.unregister(id),
        },
        None => (Conn::Plain(tcp), Channel::Http, Channel::Ws),
    };
    let mut reader = BufReader::new(conn);
    while let Ok(Some(req)) = http::read_request(&mut reader) {
        if req.is_upgrade() && req.target.trim_start_matches('/').starts_with("ws/rfc6455") {
            if sh.is_down() {
                let _ = write_down(reader.get_mut(), &req.target);
                break;
            }
            let key = req
                .header("sec-websocket-key")
                .unwrap_or_default()
                .to_string();
            let wants = req
                .header("sec-websocket-protocol")
                .is_some_and(|p| p.split(',').any(|x| x.trim() == "remotecontrol"));
            if http::write_upgrade(reader.get_mut(), &key, wants.then_some("remotecontrol"))
                .is_err()
            {
                break;
            }
            let buffered = reader.buffer().to_vec();
            let conn = reader.into_inner();
            sh.mark_ws(id);
            ws::serve(sh, conn, buffered, ws_ch, id);
            sh.unregister(id);
            return;
        }
        let keep = req.keep_alive();
        while sh.hung() && !sh.stopping() && sh.is_registered(id) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if sh.stopping() || !sh.is_registered(id) {
            break;
        }
        let d = sh.delay();
        if !d.is_zero() {
            std::thread::sleep(d);
        }
        let w = reader.get_mut();
        let written = if sh.is_down() {
            write_down(w, &req.target)
        } else {
            let mut ctx = Ctx {
                ch: http_ch,
                basic: req.basic_auth(),
                sock: None,
                encrypted: false,
            };
            match api::handle(sh, &req.target, &mut ctx) {
                Reply::Ll(ll) => {
                    http::write_response(w, 200, "application/json", ll.to_json().as_bytes(), keep)
                }
                Reply::File(text) => {
                    http::write_response(w, 200, "application/json", text.as_bytes(), keep)
                }
                Reply::Sealed(text) => {
                    http::write_response(w, 200, "text/plain", text.as_bytes(), keep)
                }
                Reply::Unauthorized => {
                    http::write_response(w, 401, "text/html", HTML_401.as_bytes(), keep)
                }
                Reply::Keepalive => http::write_response(w, 404, "text/plain", b"", keep),
            }
        };
        if written.is_err() || !keep {
            break;
        }
    }
    let _ = reader.get_mut().flush();
    sh.unregister(id);
}

/// HTTP 503 while "rebooting" (CWM "Error-Codes": 503 the Miniserver is restarting).
fn write_down(w: &mut impl Write, target: &str) -> io::Result<()> {
    let path = target
        .trim_start_matches('/')
        .split('?')
        .next()
        .unwrap_or("");
    let body = Ll::new(
        super::wire::echo(path, CodeStyle::UpperString),
        serde_json::json!(""),
        503,
        CodeStyle::UpperString,
    )
    .to_json();
    http::write_response(w, 503, "application/json", body.as_bytes(), false)
}

fn admin_loop(sh: Arc<Shared>, listener: TcpListener, _addr: SocketAddr) {
    for stream in listener.incoming() {
        if sh.stopping() {
            break;
        }
        let Ok(tcp) = stream else { continue };
        let sh2 = sh.clone();
        let _ = std::thread::Builder::new()
            .name("sim-admin-conn".into())
            .spawn(move || super::admin::serve(&sh2, tcp));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_modified_stamps_parse_back() {
        let t = 1_709_210_096.0;
        assert_eq!(parse_stamp(&devices::last_modified_stamp(t)), Some(t));
    }
}
