//! Helpers for the link's tests: a simulator, a config file pointing at it, a state directory
//! that cleans itself up, login without a terminal, and a started link.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use loxwarden::clock::{Clock, Mono, SystemClock};
use loxwarden::config::Config;
use loxwarden::loxone::link::{Link, Secrets};
use loxwarden::loxone::secret::Secret;
use loxwarden::loxone::setup;
use loxwarden::loxone::tls::Fingerprint;
use loxwarden::sim::{Sim, SimOptions};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The host name the simulator's test certificates are issued for (CloudDNS style).
pub const SIM_TLS_NAME: &str = "127-0-0-1.504f94a00001.dyndns.loxonecloud.com";

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "lw-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Fast link timing for tests: keepalive every 1 s, 1 s to answer, structure checked every
/// second, 2 s command timeout, back-off capped at 1 s.
pub const FAST_LINK: &str = "[link]\nkeepalive_interval_s = 1\nkeepalive_deadline_s = 1\nstructure_check_interval_s = 1\ncommand_timeout_s = 2\nmax_backoff_s = 1\n";

/// The config text for `sim` with the state under `dir`. `miniserver_extra` goes into
/// `[miniserver]` (e.g. `tls_verify = false`).
pub fn config_text(sim: &Sim, dir: &Path, miniserver_extra: &str) -> String {
    let url = if sim.url().starts_with("https://") {
        format!(
            "url = \"https://{SIM_TLS_NAME}:{}\"\naddress = \"127.0.0.1\"\n",
            sim.addr().port()
        )
    } else {
        format!("url = \"{}\"\n", sim.url())
    };
    format!(
        "[miniserver]\n{url}user = \"{}\"\n{miniserver_extra}\n{FAST_LINK}[paths]\nstate_dir = \"{}\"\naudit_log = \"{}\"\nsocket = \"{}\"\n",
        sim.user(),
        dir.join("state").display(),
        dir.join("audit.jsonl").display(),
        dir.join("mcp.sock").display(),
    )
}

/// Writes the config file and returns (path, parsed config).
pub fn write_config(sim: &Sim, dir: &Path, miniserver_extra: &str) -> (PathBuf, Config) {
    let text = config_text(sim, dir, miniserver_extra);
    let path = dir.join("config.toml");
    std::fs::write(&path, &text).unwrap();
    let cfg = Config::parse(&text).unwrap();
    (path, cfg)
}

/// The SHA-256 fingerprint of the certificate the simulator presents now.
pub fn sim_fingerprint(sim: &Sim) -> Fingerprint {
    let pem = sim.server_cert_pem().expect("a TLS simulator");
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
    Fingerprint::of(der.as_ref())
}

/// `loxwarden login` in-process with `password`; returns what it printed.
pub fn login(
    cfg: &Config,
    password: &str,
    accept: Option<&str>,
) -> loxwarden::error::Result<String> {
    let mut out = Vec::new();
    let pw = password.to_owned();
    setup::login_with(cfg, accept, move || Ok(Secret::new(pw)), &mut out)?;
    Ok(String::from_utf8(out).unwrap())
}

/// Logs in with the simulator's own password (and its fingerprint under TLS).
pub fn login_ok(sim: &Sim, cfg: &Config) -> String {
    let fp = sim
        .server_cert_pem()
        .map(|_| sim_fingerprint(sim).to_string());
    login(cfg, sim.password(), fp.as_deref()).expect("login")
}

/// Starts the link (visualisation password optional) and waits until it is live.
pub fn start_live(cfg: &Config, visu: Option<&str>) -> Arc<Link> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let secrets = Secrets {
        visu_password: visu.map(Secret::new),
    };
    let link = Link::start(cfg, clock, secrets).expect("link starts");
    let h = link.wait_live(Duration::from_secs(15));
    assert!(h.is_live(), "link not live: {h:?}");
    link
}

/// Real time, with a wall clock that can be moved ahead: the link's token-refresh policy reads
/// the wall clock while the simulator keeps real time, so a test can make a long-lived token
/// due for refresh without waiting for it (and without racing a short one).
pub struct ShiftedClock {
    real: SystemClock,
    ahead_s: AtomicU64,
}

impl ShiftedClock {
    pub fn new() -> ShiftedClock {
        ShiftedClock {
            real: SystemClock::new(),
            ahead_s: AtomicU64::new(0),
        }
    }

    /// From now on the wall clock reads `d` later than real time (monotonic time is real).
    pub fn jump_ahead(&self, d: Duration) {
        self.ahead_s.fetch_add(d.as_secs(), Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn mono(&self) -> Mono {
        self.real.mono()
    }
    fn wall(&self) -> std::time::SystemTime {
        self.real.wall() + Duration::from_secs(self.ahead_s.load(Ordering::SeqCst))
    }
}

/// A simulator with default options except `f`.
pub fn sim_with(f: impl FnOnce(&mut SimOptions)) -> Sim {
    let mut o = SimOptions::default();
    f(&mut o);
    Sim::start(o).expect("simulator starts")
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes; returns the elapsed time.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if cond() {
            return Some(start.elapsed());
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A TCP forwarder on loopback that records every byte in both directions: a wiretap for
/// "nothing secret crosses the network in clear".
pub struct Tap {
    pub addr: std::net::SocketAddr,
    pub up: Arc<std::sync::Mutex<Vec<u8>>>,
    pub down: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Tap {
    pub fn start(target: std::net::SocketAddr) -> Tap {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(std::sync::Mutex::new(Vec::new()));
        let down = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (u, d) = (up.clone(), down.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let pipe = |mut from: TcpStream,
                            mut to: TcpStream,
                            log: Arc<std::sync::Mutex<Vec<u8>>>| {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16 * 1024];
                        loop {
                            match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    log.lock().unwrap().extend_from_slice(&buf[..n]);
                                    if to.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                };
                pipe(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    u.clone(),
                );
                pipe(server, client, d.clone());
            }
        });
        Tap { addr, up, down }
    }

    /// True if `needle` appears in what went to the server (`up`) or came back (`down`).
    pub fn saw(&self, needle: &[u8]) -> bool {
        let has = |v: &Vec<u8>| v.windows(needle.len()).any(|w| w == needle);
        has(&self.up.lock().unwrap()) || has(&self.down.lock().unwrap())
    }

    /// Case-insensitive search in what went to the server.
    pub fn sent_ci(&self, needle: &str) -> bool {
        let up = self.up.lock().unwrap().to_ascii_lowercase();
        let n = needle.to_ascii_lowercase().into_bytes();
        up.windows(n.len()).any(|w| w == n.as_slice())
    }
}
