//! The emergency stop and its release, as the gateway runs them: latch first, then the
//! fan-out from the raw structure, each device's own answer in the report; `resume` only by a
//! person on the control channel.

use super::*;
use crate::safety::stop::senders::ViaLink;

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
impl Gateway {
    /// Latches the stop first (file, or memory if the file cannot be written), then sends
    /// `stop` to every blind, window, gate and irrigation block, `off` to every sauna, and pauses
    /// every audio zone (exposed or not: `safety::stop::plan`), all at once (`safety::stop::send`:
    /// pipelined on the link's websocket, over HTTP when the link is not live), and reports each
    /// device's own answer. Audited before and
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
        // Every command the Miniserver may have received, for the audit: a device's earlier
        // attempts (a stop the socket lost, the first of two stops) come before its last.
        let mut steps: Vec<StepResult> = Vec::new();
        let results: Vec<DeviceStop> = match &structure {
            None => Vec::new(),
            Some(s) => {
                let sent = stop::send::send_all(&plan.plan, &ViaLink::new(&self.link));
                for (step, r) in plan.plan.iter().zip(&sent) {
                    for a in r.earlier.iter().chain(std::iter::once(r)) {
                        steps.push(StepResult {
                            command: step.command.io_path(),
                            code: a.code,
                            value: a.value.clone(),
                            error: a.error.clone(),
                        });
                    }
                }
                let again: Vec<String> = plan
                    .plan
                    .iter()
                    .zip(&sent)
                    .filter(|(_, r)| r.again())
                    .map(|(step, _)| match stop::label(s, step.device.0 as usize) {
                        (name, room) if room.is_empty() => name,
                        (name, room) => format!("{room}/{name}"),
                    })
                    .collect();
                if !again.is_empty() {
                    notes.push(format!(
                        "stopped a second time after a command that was under way when the stop latched had its answer: {}",
                        again.join(", ")
                    ));
                }
                plan.plan
                    .iter()
                    .zip(sent)
                    .map(|(step, r)| {
                        let (name, room) = stop::label(s, step.device.0 as usize);
                        DeviceStop {
                            name,
                            room,
                            addr: step.command.target.to_string(),
                            command: step.command.io_path(),
                            code: r.code,
                            value: r.value,
                            error: r.error,
                        }
                    })
                    .collect()
            }
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
            results: steps,
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
}
