//! `loxwarden daemon`: the one resident process that owns the Miniserver link, the shared
//! safety state and the audit log, and serves MCP sessions on a Unix socket.
//!
//! Why one daemon and not one gateway per SSH session: two AI sessions with two links would
//! have two sets of rate limits (a blind could be reversed by one session right after the
//! other moved it, UCA-B1), two consent-fatigue counters, two latches and twice the load on a
//! Miniserver that allows few connections. Here every session goes through one [`Core`] (the
//! gateway), so they share one link and one set of limits. There is no TCP listener at all
//! (SC-3): the network trust boundary is SSH, and `loxwarden serve` bridges an SSH session's
//! stdio to the socket.
//!
//! Threads: the main thread accepts MCP connections, one thread per session (the MCP engine
//! adds a writer and one worker per call); one thread accepts control connections
//! ([`crate::control::server`]); one talks to systemd ([`notify`]); one waits for SIGTERM
//! and SIGINT and stops cleanly ([`signals`]). Every peer is identified
//! by `SO_PEERCRED` and checked ([`crate::daemon::peer::Policy`]) before a byte of MCP is read; its
//! uid travels in `Peer` into every audit record.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::config::Config;
use crate::control::{self, StopReport};
use crate::error::Error;
use crate::mcp::tool::ToolHost;
use crate::mcp::{Peer, Server, ServerConfig};
use crate::safety::latch::Latched;
use peer::{Policy, Users};

pub mod bridge;
pub mod core;
pub mod listen;
pub mod notify;
pub mod peer;
pub mod sessions;
pub mod shutdown;
pub mod signals;

use sessions::Sessions;

/// What the daemon serves: the gateway. A trait so the sockets, the control channel and the
/// access rules can be tested without a Miniserver.
pub trait Core: Send + Sync {
    /// The tools every session calls (one host, shared: one link, one set of limits).
    fn host(&self) -> Arc<dyn ToolHost>;
    /// Latches the stop, stops every motor and irrigation, pauses every audio zone, turns saunas
    /// off; each device's answer.
    fn emergency_stop(&self, reason: &str, by: &str) -> StopReport;
    /// Lifts the latch; what was latched.
    fn resume(&self, by: &str) -> io::Result<Option<Latched>>;
    /// Link health, posture, latch, … for `loxwarden status`.
    fn status(&self) -> Value;
    /// The Miniserver link answered its heartbeat in time (feeds the systemd watchdog).
    fn link_alive(&self) -> bool;
    /// Stops sending anything new and waits up to `bound` for the calls under way;
    /// how many still are ([`crate::daemon::shutdown`]).
    fn drain(&self, bound: Duration) -> usize;
    /// A drain has begun: the daemon is on its way out.
    fn stopping(&self) -> bool;
}

/// Everything the connection threads share.
pub struct Daemon {
    pub core: Arc<dyn Core>,
    pub server: Server,
    pub policy: Policy,
    pub sessions: Arc<Sessions>,
    pub cfg: Config,
}

impl Daemon {
    /// `status` of the core plus the daemon's own view (pid, sessions).
    pub fn status(&self) -> Value {
        json!({
            "daemon": {
                "pid": std::process::id(),
                "version": env!("CARGO_PKG_VERSION"),
                "socket": self.cfg.paths.socket,
                "sessions": self.sessions.list(),
            },
            "gateway": self.core.status(),
        })
    }

    /// One line for systemd's `STATUS=`.
    pub fn status_line(&self) -> String {
        let latch = crate::safety::latch::Latch::in_dir(&self.cfg.paths.state_dir);
        format!(
            "link {}; {} session(s){}",
            if self.core.link_alive() {
                "alive"
            } else {
                "NOT alive"
            },
            self.sessions.count(),
            if latch.is_latched() {
                "; EMERGENCY STOP LATCHED"
            } else {
                ""
            }
        )
    }
}

/// Binds both sockets, tells systemd it is ready, and serves until SIGTERM or SIGINT.
pub fn run(cfg: &Config, core: Arc<dyn Core>, engine: ServerConfig) -> Result<(), Error> {
    let server = Server::new(core.host(), engine)
        .map_err(|e| Error::Failed(format!("cannot start the MCP engine: {e}")))?;
    let mcp = listen::bind(&cfg.paths.socket, 0o660)?;
    let meta = fs::metadata(&cfg.paths.socket)
        .map_err(|e| Error::io(format!("cannot stat {}", cfg.paths.socket.display()), e))?;
    let ctl_path = control::socket_path(&cfg.paths);
    let ctl = listen::bind(&ctl_path, 0o666)?;
    let daemon = Arc::new(Daemon {
        core,
        server,
        policy: Policy {
            own_uid: meta.uid(),
            group: meta.gid(),
            resume_users: cfg.control.resume_users.clone(),
        },
        sessions: Arc::new(Sessions::default()),
        cfg: cfg.clone(),
    });
    let users = Users::load();
    log::info!(
        "listening on {} (mode 0660, {} and group {}) and {} (mode 0666); no network listener",
        cfg.paths.socket.display(),
        users.describe(daemon.policy.own_uid),
        users
            .group_name(daemon.policy.group)
            .map(str::to_owned)
            .unwrap_or_else(|| daemon.policy.group.to_string()),
        ctl_path.display()
    );
    // Before anything is served: a stop from here on waits for the calls under way.
    let signals = signals::listen()?;
    let d = daemon.clone();
    let sockets = vec![cfg.paths.socket.clone(), ctl_path.clone()];
    spawn("loxwarden-signals", move || {
        signals::run(signals, &d.core, sockets)
    })?;
    let d = daemon.clone();
    spawn("loxwarden-control", move || accept_control(&d, ctl))?;
    notify::ready(&daemon.status_line());
    let (a, s) = (daemon.clone(), daemon.clone());
    spawn("loxwarden-notify", move || {
        notify::run(
            Arc::new(move || a.core.link_alive()),
            Arc::new(move || s.status_line()),
        )
    })?;
    accept_mcp(&daemon, mcp);
    Ok(())
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<(), Error> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map(|_| ())
        .map_err(|e| Error::io(format!("cannot start the {name} thread"), e))
}

/// Waits a little after an accept error (EMFILE and friends) instead of spinning.
fn backoff(what: &str, e: &io::Error) {
    log::warn!("{what}: accept failed: {e}");
    std::thread::sleep(Duration::from_millis(100));
}

fn accept_mcp(daemon: &Arc<Daemon>, listener: UnixListener) {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                let d = daemon.clone();
                if let Err(e) = std::thread::Builder::new()
                    .name("loxwarden-session".into())
                    .spawn(move || session(&d, stream))
                {
                    log::error!("cannot start a session thread: {e}");
                }
            }
            Err(e) => backoff("MCP socket", &e),
        }
    }
}

/// Control connections served at once. Anyone may connect to `control.sock`; a flood of idle
/// connections must not cost unbounded threads. Over the cap a connection is closed at once,
/// and `loxwarden estop` then stops the house directly.
const MAX_CONTROL: usize = 64;

fn accept_control(daemon: &Arc<Daemon>, listener: UnixListener) {
    let busy = Arc::new(AtomicUsize::new(0));
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                if busy.fetch_add(1, Ordering::SeqCst) >= MAX_CONTROL {
                    busy.fetch_sub(1, Ordering::SeqCst);
                    log::warn!("control socket: {MAX_CONTROL} connections open; one refused");
                    continue;
                }
                let (d, b) = (daemon.clone(), busy.clone());
                if let Err(e) = std::thread::Builder::new()
                    .name("loxwarden-ctl".into())
                    .spawn(move || {
                        control::server::handle(&d, stream);
                        b.fetch_sub(1, Ordering::SeqCst);
                    })
                {
                    busy.fetch_sub(1, Ordering::SeqCst);
                    log::error!("cannot start a control thread: {e}");
                }
            }
            Err(e) => backoff("control socket", &e),
        }
    }
}

/// Refuses a connection with one JSON-RPC error line the client can show, then closes.
fn refuse(mut stream: &UnixStream, message: &str) {
    let line = json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": crate::daemon::bridge::REFUSED, "message": format!("loxwarden: {message}")},
    });
    let _ = stream.write_all(format!("{line}\n").as_bytes());
    let _ = stream.flush();
}

/// One MCP connection: identify, check, register, serve, deregister.
fn session(daemon: &Arc<Daemon>, stream: UnixStream) {
    let cred = match peer::peer_cred(&stream) {
        Ok(c) => c,
        Err(e) => {
            log::warn!("MCP connection without peer credentials refused: {e}");
            refuse(&stream, "the peer's credentials cannot be read");
            return;
        }
    };
    let users = Users::load();
    let who = users.describe(cred.uid);
    if let Err(why) = daemon.policy.may_connect(&users, cred.uid) {
        log::warn!("MCP connection refused (pid {}): {why}", cred.pid);
        refuse(&stream, &why);
        return;
    }
    // A session opened now could do nothing but be refused (SC-4) and then cut off: say so.
    if daemon.core.stopping() {
        log::info!("MCP connection from {who} turned away: the daemon is stopping");
        refuse(
            &stream,
            "the daemon is stopping (systemctl stop or a package upgrade); connect again once \
             it has started (systemctl status loxwarden)",
        );
        return;
    }
    let name = users.name(cred.uid).map(str::to_owned);
    let read_only = name.as_deref().is_some_and(|n| {
        daemon
            .cfg
            .profiles
            .iter()
            .any(|p| p.user == n && p.read_only)
    });
    let open = match daemon.sessions.open(cred.uid, name, read_only) {
        Ok(o) => o,
        Err(why) => {
            log::warn!("MCP connection from {who} refused: {why}");
            refuse(&stream, &why);
            return;
        }
    };
    let reader = match stream.try_clone() {
        Ok(r) => r,
        Err(e) => {
            log::error!("cannot clone the session socket: {e}");
            return;
        }
    };
    log::info!(
        "MCP session from {who} (pid {}){}",
        cred.pid,
        if read_only { ", read-only profile" } else { "" }
    );
    let id = daemon.server.serve(
        reader,
        &stream,
        Peer {
            uid: Some(cred.uid),
            read_only,
        },
    );
    let _ = stream.shutdown(std::net::Shutdown::Both);
    drop(open);
    log::info!("MCP session {id} from {who} ended");
}
