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

use std::sync::{Arc, Mutex, MutexGuard};
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

/// One device's answer to the emergency stop.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeviceStop {
    pub name: String,
    pub room: String,
    pub addr: String,
    /// The command as a plain `jdev/sps/io/…` path.
    pub command: String,
    /// The Miniserver's LL code, when it answered.
    pub code: Option<u16>,
    pub value: Option<String>,
    /// Why there is no answer (the link refused or the request failed).
    pub error: Option<String>,
}

impl DeviceStop {
    pub fn ok(&self) -> bool {
        self.code == Some(200)
    }
}

/// What an emergency stop did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EstopReport {
    pub latched: Latched,
    /// False when the latch file could not be written: this process is stopped, but a restart
    /// would not remember it (`latch_error` says why).
    pub latch_persisted: bool,
    pub latch_error: Option<String>,
    pub results: Vec<DeviceStop>,
    /// Why no device could be addressed at all (no structure was ever read), if so.
    pub unavailable: Option<String>,
    /// Motors and zones the stop could not send to (the Miniserver marks them read-only for
    /// this user): the person must stop them locally.
    pub skipped: Vec<String>,
    /// What else the person should know (the device model could not be built, so the stop
    /// went by type from the structure).
    pub notes: Vec<String>,
    pub audit_id: String,
    /// Set when an audit record could not be written (the stop was sent anyway: stopping is
    /// never refused).
    pub audit_error: Option<String>,
}

impl EstopReport {
    /// Every device answered LL 200 (true for a house without motors or zones; false when
    /// the house could not be read at all).
    pub fn all_ok(&self) -> bool {
        self.unavailable.is_none()
            && self.skipped.is_empty()
            && self.results.iter().all(DeviceStop::ok)
    }
}

/// `get_system_status`, `loxwarden status` and the daemon's status answer.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub server: ServerStatus,
    pub link: LinkStatus,
    pub miniserver: MiniserverStatus,
    pub structure: StructureStatus,
    pub emergency_stop: EstopStatus,
    pub posture: PostureStatus,
    /// Smoke, water and burglar alarms that are active now (unexposed ones unnamed).
    pub alarms: Vec<String>,
    /// Why the device model could not be built from the structure and config, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub house_error: Option<String>,
    pub audit_log: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServerStatus {
    pub name: String,
    pub version: String,
    pub uptime_s: u64,
    /// Where local time comes from, or why it is unknown.
    pub local_time: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LinkStatus {
    /// `connecting`, `live`, `degraded` or `down`.
    pub state: String,
    /// RFC 3339 UTC.
    pub since: String,
    pub for_s: u64,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct MiniserverStatus {
    pub name: String,
    pub model: String,
    pub serial: String,
    pub firmware: String,
    pub url: String,
    pub user: String,
    pub transport: String,
    /// The Miniserver sees the connection as local (`jdev/cfg/apiKey`).
    pub local: Option<bool>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StructureStatus {
    /// `lastModified` of `LoxAPP3.json`: the structure version.
    pub last_modified: String,
    pub generation: u64,
    /// `none`, `cache` or `miniserver`.
    pub source: String,
    pub controls: usize,
    pub bytes: usize,
    /// Seconds since it was downloaded or confirmed, if it was.
    pub age_s: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EstopStatus {
    pub latched: bool,
    pub since: Option<String>,
    pub reason: Option<String>,
    pub by: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PostureStatus {
    /// `emergency-stop`, `degraded`, `emergency`, `intrusion`, `night` or `normal`.
    pub name: String,
    pub reasons: Vec<String>,
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
        Ok(Arc::new(Gateway {
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

    /// Latches the stop first (file, or memory if the file cannot be written), then sends
    /// `stop` to every blind, window and gate and pauses every audio zone (exposed or not:
    /// `safety::stop::plan`), all in parallel through `Link::send_emergency` (which tries even
    /// when the link is not live), and reports each device's own answer. Audited before and
    /// after; an audit failure does not hold the stop back.
    pub fn emergency_stop(&self, reason: &str, by: &str) -> EstopReport {
        self.emergency_stop_for(reason, by, 0, by)
    }

    /// [`Gateway::emergency_stop`] on behalf of an MCP session (for the audit record).
    pub(crate) fn emergency_stop_for(
        &self,
        reason: &str,
        by: &str,
        session: u64,
        client: &str,
    ) -> EstopReport {
        // Waited for by a daemon that is stopping, never refused by it.
        let _in_flight = self.shutdown.begin_always();
        let wall = self.clock.wall();
        let (latched, latch_error) = match self.latch.engage(reason, by, wall) {
            Ok(l) => (l, None),
            Err(e) => {
                log::error!(
                    "emergency stop: the latch file cannot be written ({e}); this process is stopped, a restart would not remember it"
                );
                let l = self.latch.current().unwrap_or(Latched {
                    since_unix: wall
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0),
                    reason: reason.to_owned(),
                    by: by.to_owned(),
                });
                (l, Some(e.to_string()))
            }
        };
        // Every ramp in flight stops before its next step (each step also checks the latch).
        self.lanes
            .cancel_ramps("not sent: the emergency stop latched (R-11)");
        log::warn!("EMERGENCY STOP by {by}: {reason}");
        // From the raw structure the link read last, never from the device model: a config
        // that no longer applies (the house cannot be built) must not turn the stop off.
        let loaded = self.link.structure();
        let (structure, unavailable) = if loaded.source == StructureSource::None {
            let why = "the Miniserver's structure file was never read (no cache, never \
                       connected), so no device is known"
                .to_owned();
            log::error!("emergency stop: no device can be addressed: {why}");
            (None, Some(why))
        } else {
            (Some(Arc::clone(&loaded.structure)), None)
        };
        let plan = structure.as_deref().map(stop::plan).unwrap_or_default();
        let skipped: Vec<String> = plan.notes.iter().skip(1).cloned().collect();
        let mut notes = Vec::new();
        if structure.is_some()
            && let Err(e) = self.house()
        {
            notes.push(format!(
                "the device model cannot be built ({e}); stopped by type from the structure"
            ));
        }
        let audit_id = self.audit.next_id();
        let mut audit_errors = Vec::new();
        let decided = Record::Decided(Box::new(audit::Decided {
            time: audit::rfc3339(wall),
            audit_id: audit_id.clone(),
            session,
            client: client.to_owned(),
            peer_uid: None,
            tool: "emergency_stop".into(),
            device: None,
            intent: serde_json::json!({"tool": "emergency_stop", "reason": reason, "by": by}),
            verdict: "allow".into(),
            rule: Some("R-11".into()),
            reason: None,
            consent: None,
            plan: plan.plan.iter().map(|s| s.command.io_path()).collect(),
        }));
        if let Err(e) = self.audit.write(&decided) {
            log::error!("emergency stop: {e}; stopping anyway");
            audit_errors.push(e.to_string());
        }
        let started = std::time::Instant::now();
        let results: Vec<DeviceStop> = match &structure {
            None => Vec::new(),
            Some(s) => std::thread::scope(|scope| {
                let handles: Vec<_> = plan
                    .plan
                    .iter()
                    .map(|step| {
                        let link = &self.link;
                        let (name, room) = stop::label(s, step.device.0 as usize);
                        scope.spawn(move || {
                            let mut r = DeviceStop {
                                name,
                                room,
                                addr: step.command.target.to_string(),
                                command: step.command.io_path(),
                                code: None,
                                value: None,
                                error: None,
                            };
                            match link.send_emergency(&step.command) {
                                Ok(reply) => {
                                    r.code = Some(reply.code);
                                    r.value = Some(reply.value);
                                }
                                Err(e) => r.error = Some(e.to_string()),
                            }
                            r
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| DeviceStop {
                            name: String::new(),
                            room: String::new(),
                            addr: String::new(),
                            command: String::new(),
                            code: None,
                            value: None,
                            error: Some("the sending thread failed".into()),
                        })
                    })
                    .collect()
            }),
        };
        {
            let now = self.clock.mono();
            let mut rates = self.rates();
            for m in &plan.rate_marks {
                rates.record(m, now);
            }
        }
        let outcome = Record::Outcome(Outcome {
            time: audit::rfc3339(self.clock.wall()),
            audit_id: audit_id.clone(),
            ok: unavailable.is_none() && skipped.is_empty() && results.iter().all(DeviceStop::ok),
            results: results
                .iter()
                .map(|r| StepResult {
                    command: r.command.clone(),
                    code: r.code,
                    value: r.value.clone(),
                    error: r.error.clone(),
                })
                .collect(),
            read_back: Vec::new(),
            latency_ms: started.elapsed().as_millis() as u64,
            interrupted: false,
        });
        if let Err(e) = self.audit.write(&outcome) {
            log::error!("emergency stop: {e}");
            audit_errors.push(e.to_string());
        }
        let failed = results.iter().filter(|r| !r.ok()).count();
        if failed > 0 {
            log::error!(
                "emergency stop: {failed} of {} device(s) did not confirm",
                results.len()
            );
        }
        EstopReport {
            latch_persisted: latch_error.is_none(),
            latched,
            latch_error,
            results,
            unavailable,
            skipped,
            notes,
            audit_id,
            audit_error: (!audit_errors.is_empty()).then(|| audit_errors.join("; ")),
        }
    }

    /// Lifts the emergency-stop latch (a local person's decision: no MCP tool calls this).
    /// Returns what was latched. Audited.
    pub fn resume(&self, by: &str) -> std::io::Result<Option<Latched>> {
        let was = self.latch.release()?;
        let rec = Record::Decided(Box::new(audit::Decided {
            time: audit::rfc3339(self.clock.wall()),
            audit_id: self.audit.next_id(),
            session: 0,
            client: by.to_owned(),
            peer_uid: None,
            tool: "resume".into(),
            device: None,
            intent: serde_json::json!({
                "tool": "resume",
                "by": by,
                "was_latched": was.as_ref().map(|l| &l.reason),
            }),
            verdict: "allow".into(),
            rule: Some("R-11".into()),
            reason: None,
            consent: None,
            plan: Vec::new(),
        }));
        if let Err(e) = self.audit.write(&rec) {
            // The latch is already lifted; say so loudly rather than pretend it was not.
            log::error!("resume by {by}: {e}");
        }
        match &was {
            Some(l) => log::warn!("emergency stop released by {by} (was: {})", l.reason),
            None => log::info!("resume by {by}: the emergency stop was not latched"),
        }
        Ok(was)
    }

    /// Everything `get_system_status` reports.
    pub fn status(&self) -> Status {
        let now = self.clock.mono();
        let wall = self.clock.wall();
        let health = self.link.health();
        let facts = self.link.facts();
        let snapshot = self.snapshot();
        let (posture, alarms, house_error) = match &snapshot {
            Ok(s) => {
                let p = self.posture(&s.house, now);
                let alarms = p
                    .emergency
                    .iter()
                    .chain(&p.intrusion)
                    .map(|c| c.text.clone())
                    .collect();
                (
                    PostureStatus {
                        name: p.name().into(),
                        reasons: p.reasons(),
                    },
                    alarms,
                    None,
                )
            }
            Err(e) => (
                PostureStatus {
                    name: "degraded".into(),
                    reasons: vec![e.reason.clone()],
                },
                Vec::new(),
                Some(e.reason.clone()),
            ),
        };
        let latched = self.latch.current();
        Status {
            server: ServerStatus {
                name: "loxwarden".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                uptime_s: self.uptime().as_secs(),
                local_time: match &self.zone {
                    Some(z) => format!(
                        "{} (UTC offset now {} s)",
                        z.source,
                        z.offset_at(unix(wall))
                    ),
                    None => "unknown: night rules apply at all hours".into(),
                },
            },
            link: LinkStatus {
                state: health.state.as_str().into(),
                since: audit::rfc3339(health.since_wall),
                for_s: now.since(health.since).as_secs(),
                reason: if health.state == LinkState::Live {
                    String::new()
                } else {
                    health.reason.clone()
                },
            },
            miniserver: MiniserverStatus {
                name: facts.ms_name.clone(),
                model: miniserver_type_name(facts.miniserver_type).into(),
                serial: facts.serial.clone(),
                firmware: facts.firmware.clone(),
                url: facts.url.clone(),
                user: facts.user.clone(),
                transport: facts
                    .tls
                    .as_ref()
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "not connected yet".into()),
                local: facts.local,
            },
            structure: StructureStatus {
                last_modified: facts.structure_last_modified.clone(),
                generation: facts.structure_generation,
                source: match facts.structure_source {
                    StructureSource::None => "none",
                    StructureSource::Cache => "cache",
                    StructureSource::Miniserver => "miniserver",
                }
                .into(),
                controls: facts.controls,
                bytes: facts.structure_bytes,
                age_s: facts
                    .structure_fetched_wall
                    .and_then(|t| wall.duration_since(t).ok())
                    .map(|d| d.as_secs()),
            },
            emergency_stop: EstopStatus {
                latched: latched.is_some(),
                since: latched.as_ref().map(|l| audit::rfc3339(l.since())),
                reason: latched.as_ref().map(|l| l.reason.clone()),
                by: latched.as_ref().map(|l| l.by.clone()),
            },
            posture,
            alarms,
            house_error,
            audit_log: self.audit.path().display().to_string(),
        }
    }

    /// True while the link to the Miniserver is live. The daemon decides what a systemd
    /// watchdog makes of it; commands are refused whenever it is false.
    pub fn link_alive(&self) -> bool {
        self.link.health().is_live()
    }

    /// Stops the link thread (the link is then `down`; commands are refused).
    pub fn stop(&self) {
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
