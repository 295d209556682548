//! The gateway: the one process-wide core every MCP session, the daemon and the local
//! emergency stop share.
//!
//! Why one object: the safety state must not be per session. Two AI clients commanding the same
//! blind share its rate limit, declines for one door count against every asker (consent
//! fatigue, SC-5), an emergency stop latched by anyone stops everyone, and every record
//! goes to one audit log. So the [`Gateway`] owns the config, the clock, the Loxone
//! [`Link`], the compiled [`Limits`], the device model ([`House`], rebuilt when the link loads
//! a new structure), one [`RateBook`] and one [`Fatigue`] behind mutexes, the [`AuditLog`],
//! the emergency-stop [`Latch`] and the [`Shutdown`] that lets a stopping daemon wait for the
//! calls under way. Tool calls go through [`crate::dispatch`]; the daemon and the
//! CLI use [`Gateway::emergency_stop`], [`Gateway::resume`] and [`Gateway::status`].
//!
//! Starting never blocks on the network: the link connects in its own thread and every
//! command is refused until it is live (SC-4).

mod estop;
mod status;

pub use estop::{DeviceStop, EstopReport};
pub use status::{
    EstopStatus, LinkStatus, MiniserverStatus, PostureStatus, ServerStatus, Status, StructureStatus,
};

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::audit::limit::{Admit, RefusalBudget};
use crate::audit::{self, AuditLog, DeviceRef, Outcome, Record, StepResult};
use crate::clock::local::Zone;
use crate::clock::{Clock, Mono};
use crate::config::Config;
use crate::consent::Fatigue;
use crate::consent::house::Board;
use crate::daemon::shutdown::Shutdown;
use crate::error::Error;
use crate::house::House;
use crate::lane::Lanes;
use crate::loxone::health::LinkState;
use crate::loxone::link::{Link, Secrets, StructureSource, miniserver_type_name};
use crate::mcp::tool::ToolHost;
use crate::safety::latch::{Latch, Latched};
use crate::safety::posture::{Inputs, Posture};
use crate::safety::{Limits, RateBook, Refusal, stop};

/// The shared core. Build it once per process with [`Gateway::start`].
pub struct Gateway {
    cfg: Config,
    clock: Arc<dyn Clock>,
    link: Arc<Link>,
    limits: Limits,
    houses: Mutex<Option<Built>>,
    rates: Mutex<RateBook>,
    fatigue: Mutex<Fatigue>,
    /// The one question shown in the Loxone app for the whole house (`consent::house`).
    board: Mutex<Board>,
    audit: AuditLog,
    /// How many refusal records each session may still write (`audit::limit`).
    refusals: Mutex<RefusalBudget>,
    latch: Latch,
    /// The local time zone; `None` = unknown (night is assumed).
    zone: Option<Zone>,
    started: Mono,
    shutdown: Shutdown,
    /// One plan per device in flight (`lane`).
    lanes: Lanes,
    /// This gateway, for a helper thread that must not keep it alive (the Loxone app
    /// question's expiry, `consent::app`).
    me: Weak<Gateway>,
}

/// The house built for one structure generation (or why it could not be built).
struct Built {
    generation: u64,
    house: Result<Arc<House>, String>,
}

/// One consistent view for a tool call: a [`crate::house::DevId`] is only meaningful for the
/// house that made it, and a command may only be sent against the structure generation it was
/// resolved with.
#[derive(Clone)]
pub struct Snapshot {
    pub generation: u64,
    pub house: Arc<House>,
}

/// Everything [`Gateway::from_parts`] needs (tests inject a `ManualClock`, a started link and
/// a zone).
pub struct Parts {
    pub cfg: Config,
    pub clock: Arc<dyn Clock>,
    pub link: Arc<Link>,
    pub latch: Latch,
    /// `None`: local time unknown (night assumed).
    pub zone: Option<Zone>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Gateway {
    /// Starts the link (in its own thread), opens the audit log (failure is an error: no
    /// serving without an audit log), and reads the latch from the state directory.
    pub fn start(
        cfg: Config,
        clock: Arc<dyn Clock>,
        secrets: Secrets,
    ) -> Result<Arc<Gateway>, Error> {
        // Checked before the link starts, so a bad config or audit path leaves nothing running.
        Limits::from_config(&cfg).map_err(Error::Config)?;
        AuditLog::open(&cfg.paths.audit_log).map_err(|e| Error::Failed(e.to_string()))?;
        let zone = match Zone::system() {
            Ok(z) => Some(z),
            Err(e) => {
                log::warn!(
                    "local time is unknown ({e}); the night posture is assumed at all hours"
                );
                None
            }
        };
        let link = Link::start(&cfg, clock.clone(), secrets)?;
        let latch = Latch::in_dir(&cfg.paths.state_dir);
        Gateway::from_parts(Parts {
            cfg,
            clock,
            link,
            latch,
            zone,
        })
    }

    /// Gives every call a previous run left without an outcome (killed mid-call, power lost)
    /// an outcome that says the Miniserver's answer is not known ([`AuditLog::close_interrupted`]).
    /// For the daemon, at start, before it serves.
    pub fn close_interrupted_calls(&self) {
        match self.audit.close_interrupted(self.clock.wall()) {
            Ok(ids) if ids.is_empty() => {}
            Ok(ids) => log::warn!(
                "{} call(s) were interrupted when loxwarden last stopped; their outcome is \
                 recorded as not known (audit ids {}): check those devices",
                ids.len(),
                ids.join(", ")
            ),
            Err(e) => log::error!("cannot close the calls the last run left open: {e}"),
        }
    }

    /// Builds the gateway from explicit parts (tests: a `ManualClock`, a zone).
    pub fn from_parts(p: Parts) -> Result<Arc<Gateway>, Error> {
        let limits = Limits::from_config(&p.cfg).map_err(Error::Config)?;
        let audit =
            AuditLog::open(&p.cfg.paths.audit_log).map_err(|e| Error::Failed(e.to_string()))?;
        if let Some(l) = p.latch.current() {
            log::warn!(
                "the emergency stop is latched (since {} UTC, by {}: {}); no command will be sent until `loxwarden resume`",
                audit::rfc3339(l.since()),
                l.by,
                l.reason
            );
        }
        let started = p.clock.mono();
        let board = Board::new(Duration::from_secs(
            p.cfg.consent.house.as_ref().map_or(120, |h| h.window_s),
        ));
        Ok(Arc::new_cyclic(|me| Gateway {
            me: me.clone(),
            cfg: p.cfg,
            clock: p.clock,
            link: p.link,
            limits,
            houses: Mutex::new(None),
            rates: Mutex::new(RateBook::new()),
            fatigue: Mutex::new(Fatigue::new()),
            board: Mutex::new(board),
            audit,
            refusals: Mutex::new(RefusalBudget::new()),
            latch: p.latch,
            zone: p.zone,
            started,
            shutdown: Shutdown::new(),
            lanes: Lanes::new(),
        }))
    }

    /// The tool catalogue bound to this gateway (what `mcp::Server::new` takes).
    pub fn host(self: &Arc<Self>) -> Arc<dyn ToolHost> {
        Arc::new(crate::tools::Host::new(self.clone()))
    }

    /// The catalogue for a gateway started just now: tool calls in the first `grace` wait for
    /// the link to come up (see [`crate::tools::Host::starting`]).
    pub fn host_starting(self: &Arc<Self>, grace: Duration) -> Arc<dyn ToolHost> {
        Arc::new(crate::tools::Host::starting(self.clone(), grace))
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn link(&self) -> &Arc<Link> {
        &self.link
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The calls under way and the stop request ([`crate::daemon::shutdown`]).
    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    pub fn lanes(&self) -> &Lanes {
        &self.lanes
    }

    pub fn latch(&self) -> &Latch {
        &self.latch
    }

    pub(crate) fn rates(&self) -> MutexGuard<'_, RateBook> {
        lock(&self.rates)
    }

    pub(crate) fn fatigue(&self) -> MutexGuard<'_, Fatigue> {
        lock(&self.fatigue)
    }

    /// A handle on this gateway that does not keep it alive.
    pub(crate) fn weak(&self) -> Weak<Gateway> {
        self.me.clone()
    }

    /// The Loxone app channel's one question (`consent::house`, shared by every session).
    pub(crate) fn consent_board(&self) -> MutexGuard<'_, Board> {
        lock(&self.board)
    }

    /// Whether `session` may write one more refusal record now (`audit::limit`).
    pub(crate) fn admit_refusal_record(&self, session: u64) -> Admit {
        lock(&self.refusals).admit(session, self.clock.mono())
    }

    /// Time since the gateway started.
    pub fn uptime(&self) -> Duration {
        self.clock.mono().since(self.started)
    }

    /// The house for the structure loaded now, or why there is none (as [`Gateway::snapshot`],
    /// the reason as text).
    pub fn house(&self) -> Result<Snapshot, String> {
        self.snapshot().map_err(|r| r.reason)
    }

    /// The house for the structure loaded now, rebuilt when the link's generation changed.
    /// Refused (SC-8) before any structure is loaded, and (SC-1) when the config cannot be
    /// applied to it.
    pub fn snapshot(&self) -> Result<Snapshot, Refusal> {
        let loaded = self.link.structure();
        if loaded.source == StructureSource::None {
            let h = self.link.health();
            return Err(Refusal::new(
                "SC-8",
                format!(
                    "the Miniserver's structure file is not loaded yet (the link is {}{}); \
                     get_system_status shows when it is live",
                    h.state.as_str(),
                    if h.reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", h.reason)
                    }
                ),
            ));
        }
        let mut cache = lock(&self.houses);
        let fresh = cache
            .as_ref()
            .is_some_and(|b| b.generation == loaded.generation);
        if !fresh {
            let house = House::new(Arc::clone(&loaded.structure), &self.cfg)
                .map(|h| {
                    for w in &h.warnings {
                        log::warn!("config: {w}");
                    }
                    Arc::new(h)
                })
                .map_err(|e| {
                    log::error!("the config cannot be applied to this house: {e}");
                    format!("the config cannot be applied to the Miniserver's structure: {e}")
                });
            *cache = Some(Built {
                generation: loaded.generation,
                house,
            });
        }
        let Some(built) = cache.as_ref() else {
            return Err(Refusal::new("SC-1", "no device model"));
        };
        built
            .house
            .clone()
            .map(|house| Snapshot {
                generation: built.generation,
                house,
            })
            .map_err(|e| Refusal::new("SC-1", e))
    }

    /// Milliseconds after local midnight, if local time is known.
    pub fn local_ms(&self) -> Option<u32> {
        self.zone.as_ref().map(|z| z.local_ms(self.clock.wall()))
    }

    /// How long the emergency stop has been latched, by the latch file's wall-clock time (the
    /// latch may be older than this process).
    fn estop_for(&self) -> Option<Duration> {
        let l = self.latch.current()?;
        if l.since_unix == 0 {
            // An unreadable latch file: latched, since an unknown time.
            return Some(Duration::ZERO);
        }
        Some(
            self.clock
                .wall()
                .duration_since(l.since())
                .unwrap_or(Duration::ZERO),
        )
    }

    /// The posture of the house now (SC-4, SC-8, R-11, UCA-L2, UCA-B2, UCA-A2).
    pub fn posture(&self, house: &House, now: Mono) -> Posture {
        Posture::compute(&Inputs {
            house,
            states: self.link.states(),
            health: &self.link.health(),
            estop_for: self.estop_for(),
            limits: &self.limits,
            local_ms: self.local_ms(),
            clock_shifted_ago: self
                .zone
                .as_ref()
                .and_then(|z| z.last_switch(self.clock.wall(), crate::clock::local::DAY)),
            now,
        })
    }

    /// True while the link to the Miniserver is live. The daemon decides what a systemd
    /// watchdog makes of it; commands are refused whenever it is false.
    pub fn link_alive(&self) -> bool {
        self.link.health().is_live()
    }

    /// Stops the link thread (the link is then `down`; commands are refused).
    pub fn stop(&self) {
        // A question left in the Loxone app would outlive the process that could clear it.
        crate::consent::app::withdraw_on_stop(self);
        self.link.stop();
    }
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// How the audit names a device.
pub(crate) fn device_ref(house: &House, id: crate::house::DevId) -> DeviceRef {
    let d = house.device(id);
    DeviceRef {
        id: d.addr.to_string(),
        name: d.label(),
    }
}
