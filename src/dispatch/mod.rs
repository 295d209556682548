//! One tool call, start to finish: the story of docs/safety.md "Wiring (phase 2)" on one
//! screen. Every step calls a pure module (intent, posture, guard, consent) or one shell
//! (audit, link); nothing reaches the Miniserver that did not pass every step.
//!
//!  1. `intent::parse` (SC-1, SC-10) — refused → audited → `isError`.
//!  2. posture from link health, the latch, local time and live states; 3. `guard::decide`.
//!  4. read-only intents are answered from the house (exposed devices only).
//!     Then the device's lane (`lane`): one plan per device from here to its read-back, so
//!     this call decides against what the previous one left behind.
//!  5. a refusal is audited and returned with its rule.
//!  6. consent: fatigue → `ctx.elicit` → fatigue; after an accept, decide again and send only
//!     the same plan.
//!  7. audit `Decided` — if it cannot be written, nothing is sent (R-14, fail closed); a
//!     daemon that is stopping sends nothing new (from step 2 on it waits for this call).
//!  8. send the plan in order (pauses, progress, cancellation, a stop of the daemon; stop at
//!     the first non-200); before each command the guard decides again on the values of now
//!     (`lane::recheck`: the latch, the posture, the live volume), and the latch is checked
//!     once more inside the link, right before the command leaves;
//!  9. rate marks are recorded with the decision, under one lock (atomic across sessions),
//!     and given back if the decision cannot be audited (step 7);
//! 10. read back the expected states; 11. audit `Outcome`; the result carries it all.

pub mod gateway;
mod readback;
mod record;
mod send;

use std::time::{Duration, Instant};

use crate::consent::{self, app, channel::Applies};
use crate::daemon::shutdown;
use crate::dispatch::gateway::{Gateway, Snapshot};
use crate::intent::{self, Intent};
use crate::lane::{Lane, Phase, recheck};
use crate::loxone::command::Op;
use crate::loxone::link::SendError;
use crate::loxone::uuid::ControlAddr;
use crate::mcp::tool::{CallContext, ElicitOutcome, SessionInfo, ToolCall, ToolOutput};
use crate::safety::table::VOLUME_RAMP_PAUSE;
use crate::safety::{Allowed, ConsentNeed, Refusal, Reservation, Step, Verdict, guard};
use crate::tools::{read, result};

use record::Rec;
use send::send;

/// Runs one `tools/call` of a shipped tool.
pub fn call(gw: &Gateway, call: ToolCall<'_>, ctx: &mut dyn CallContext) -> ToolOutput {
    let session = ctx.session().clone();
    let mut rec = Rec::new(gw, &session, call.name);
    // 1. The device model of the structure loaded now, and the intent resolved against it.
    let snap = match gw.snapshot() {
        Ok(s) => s,
        // The status needs no house: it says why there is none.
        Err(_) if call.name == "get_system_status" && call.arguments.is_empty() => {
            let out = with_consent_channel(gw, &*ctx, read::status(gw, ctx.era()));
            rec.read(&out);
            return out;
        }
        // The stop is never refused: without a house it latches and says nothing was stopped.
        Err(_) if call.name == "emergency_stop" => {
            let reason = intent::emergency_stop_reason(call.arguments);
            return emergency_stop(gw, &session, reason.as_deref());
        }
        Err(r) => return rec.refuse(&r),
    };
    // A question left in the Loxone app past its window is cleared there.
    consent::app::sweep(gw, &snap);
    let intent = match intent::parse(call.name, call.arguments, &snap.house, gw.link().states()) {
        Ok(i) => i,
        Err(r) => return rec.unparsed(call.arguments, &r),
    };
    rec.set_intent(&intent, &snap.house);
    if session.read_only
        && !intent.is_read_only()
        && !matches!(intent, Intent::EmergencyStop { .. })
    {
        let r = Refusal::new(
            "SC-3",
            "this session's profile is read-only: it may only read",
        );
        return rec.refuse(&r);
    }
    if let Intent::EmergencyStop { reason } = &intent {
        return emergency_stop(gw, &session, reason.as_deref());
    }
    // 4. Reads: answered from the house and live state, with the posture of this instant.
    if intent.is_read_only() {
        let now = gw.clock().mono();
        let posture = gw.posture(&snap.house, now);
        let mut out = read::answer(gw, &snap, &intent, &posture, ctx.era(), now);
        if matches!(intent, Intent::GetSystemStatus) {
            out = with_consent_channel(gw, &*ctx, out);
        }
        rec.read(&out);
        return out;
    }
    // A daemon that is stopping sends nothing new, so it asks nobody either. From here on a
    // stop waits for this call (an open question is withdrawn), so it is always audited.
    let Some(_counted) = gw.shutdown().begin() else {
        return rec.refuse(&shutdown::refusal());
    };
    // The device's lane (lane/): one plan per device from its decision to its read-back, so
    // this call decides against what the previous one left behind.
    let lane = match lane_of(gw, &snap, &intent) {
        Ok(l) => l,
        Err(r) => return rec.refuse(&r),
    };
    // 2.–3. (and 9.) Posture and guard; the rate marks are reserved when the plan will be sent.
    let (first, reserved) = match decide(gw, &snap, &intent, |a| a.consent.is_none()) {
        (Verdict::Refuse(r), _) => return rec.refuse(&r),
        (Verdict::Allow(a), reserved) => (a, reserved),
    };
    // 6. Consent: only a person's explicit accept lets a plan that needs it go out.
    let (allowed, reserved) = match (&first.consent, reserved) {
        (None, Some(reserved)) => (first, reserved),
        // `decide` reserves every plan that needs no consent; were one not, it is not sent.
        (None, None) => {
            let r = Refusal::new("R-13", "the plan's rate marks were not recorded");
            return rec.refuse(&r);
        }
        (Some(need), _) => {
            let label = snap.house.device(need.device).label();
            // Fatigue counts per output that moves (the plan's target), not per device asked
            // about: the intercom's "open the door" and its door opener are one door.
            let output = first
                .plan
                .first()
                .map_or(&need.addr, |s| &s.command.target)
                .clone();
            let admitted = gw.fatigue().admit(&output, &label, gw.clock().mono());
            if let Err(r) = admitted {
                return rec.consent_refused(need, "fatigue", &r);
            }
            // The Loxone app (issue 21): the question is shown there, and only a repeat of this
            // call after a person's press there lets the plan go out.
            if consent::channel::choose(&gw.config().consent, ctx.can_elicit()) == Applies::App {
                let answer = ask_in_app(gw, &snap, need, &first.plan, &lane, &*ctx, &output);
                match answer {
                    app::Answer::Approved => rec.consented_in_app(need),
                    app::Answer::NotNow {
                        label,
                        sentence,
                        is_error,
                    } => return rec.app_not_now(need, label, &sentence, is_error),
                }
            } else {
                match elicit(gw, ctx, &mut rec, &lane, need, &label, &output) {
                    Err(out) => return out,
                    Ok(o) if !o.is_accepted() => return rec.no_consent(need, &o, &intent),
                    Ok(_) => rec.consented(need),
                }
            }
            // The house may have changed while the person read the question.
            match decide(gw, &snap, &intent, |a| a.plan == first.plan) {
                (Verdict::Refuse(r), _) => return rec.refuse_after_consent(&r),
                (Verdict::Allow(_), None) => return rec.plan_changed(),
                (Verdict::Allow(a), Some(reserved)) => (a, reserved),
            }
        }
    };
    // 7. A stop asked for meanwhile (while a person was asked) wins. The decision is on disk
    // before anything goes out; a plan that cannot be audited gives its rate marks back, so
    // the next call, once the log is writable again, is not held back by a command never sent.
    if gw.shutdown().is_stopping() {
        return rec.refuse(&shutdown::refusal());
    }
    if let Err(e) = rec.decided(&allowed) {
        gw.rates().withdraw(reserved);
        return rec.audit_failed(&e);
    }
    // 8. The plan, in order; the Miniserver's real answers.
    let before = readback::before(gw, &snap, &intent, &allowed);
    let sent_at = gw.link().now();
    let sending_from = gw.clock().mono();
    let ramp = allowed.plan.iter().any(|s| !s.pause_before.is_zero());
    set_phase(&lane, if ramp { Phase::Ramping } else { Phase::Sending });
    let commands = send(gw, &snap, &intent, &allowed, lane.as_ref(), ctx);
    // 10. What the house shows now (only when everything was accepted by the Miniserver).
    let all_ok = commands.iter().all(result::CommandOut::ok);
    // The plan's expectations are what was set only when every command went out as planned
    // (a volume step the check before it lowered did not set the plan's target).
    let as_planned = commands.len() == allowed.plan.len()
        && commands
            .iter()
            .zip(&allowed.plan)
            .all(|(c, s)| c.command == s.command.io_path());
    if all_ok && as_planned {
        gw.lanes()
            .commanded()
            .note(&allowed.expect, gw.clock().mono());
    } else if commands.iter().any(|c| c.sent && c.code.is_none()) {
        // A command may have reached the device without its answer reaching us.
        gw.lanes().commanded().unsure(&allowed.expect, sending_from);
    }
    let read_back = if all_ok {
        readback::after(gw, &snap, before, sent_at)
    } else {
        Vec::new()
    };
    // 11. The outcome record and the result.
    rec.outcome(&allowed, commands, read_back)
}

/// `get_system_status` says which consent channel applies to this session.
fn with_consent_channel(gw: &Gateway, ctx: &dyn CallContext, mut out: ToolOutput) -> ToolOutput {
    let (v, text) = consent::channel::status(&gw.config().consent, ctx.can_elicit());
    if let Some(m) = out.structured.as_object_mut() {
        m.insert("consent".into(), v);
    }
    out.text = format!("{}; {text}", out.text);
    out
}

/// Step 6 through the Loxone app: the question is shown there, and the call waits for the
/// press as long as the client allows (`consent::wait`): the whole window with a progress
/// token, else `[consent.house] wait_s` (0: not at all). The lane says a person is asked
/// meanwhile (another call to the device is refused at once); the emergency stop takes no lane,
/// and it, a cancellation, the session's end or a stopping daemon ends the wait.
fn ask_in_app(
    gw: &Gateway,
    snap: &Snapshot,
    need: &ConsentNeed,
    plan: &[Step],
    lane: &Option<Lane<'_>>,
    ctx: &dyn CallContext,
    output: &ControlAddr,
) -> app::Answer {
    let up_to = match &gw.config().consent.house {
        Some(h) if h.wait_s == 0 => Duration::ZERO,
        Some(h) if ctx.has_progress_token() => Duration::from_secs(h.window_s),
        Some(h) => Duration::from_secs(h.wait_s),
        None => Duration::ZERO,
    };
    let progress = |p: f64, total: Option<f64>, m: &str| ctx.progress(p, total, m);
    // The reasons `send` gives for a step not sent, as the reason a wait ended.
    let halted = || {
        send::halted(gw, lane.as_ref(), ctx).map(|why| {
            why.trim_start_matches("not sent: ")
                .trim_end_matches("; not sent")
                .to_owned()
        })
    };
    let wait = app::Wait {
        up_to,
        progress: &progress,
        halted: &halted,
    };
    if !up_to.is_zero() {
        set_phase(lane, Phase::Asking);
    }
    let answer = app::ask(gw, snap, need, plan, ctx.session(), output, &wait);
    set_phase(lane, Phase::Deciding);
    answer
}

/// Step 6 through the client (elicitation): one open question per output, then the person's
/// answer (or the refusal when a question about the output is open already).
fn elicit(
    gw: &Gateway,
    ctx: &mut dyn CallContext,
    rec: &mut Rec<'_>,
    lane: &Option<Lane<'_>>,
    need: &ConsentNeed,
    label: &str,
    output: &ControlAddr,
) -> Result<ElicitOutcome, ToolOutput> {
    // One open question per output, also across stateless-era rounds.
    let open = gw.fatigue().open_question(output, gw.clock().mono());
    if !ctx.answers_a_question()
        && let Some(ago) = open
    {
        let r = Refusal::new(
            "SC-5",
            format!(
                "a question about {label} is already open (asked {} s ago, for the person to answer in the client); one question per device at a time. Nothing was sent",
                ago.as_secs()
            ),
        );
        return Err(rec.consent_refused(need, "open_question", &r));
    }
    set_phase(lane, Phase::Asking);
    let outcome = ctx.elicit(&need.request);
    set_phase(lane, Phase::Deciding);
    gw.fatigue().record(output, &outcome, gw.clock().mono());
    Ok(outcome)
}

/// Steps 2, 3 and 9: the posture of this instant and the guard's verdict, under the rate
/// book's lock. When `send_if` says the plan will be sent, its rate marks are recorded before
/// the lock is released, so two sessions can never both pass the same limit. Returns the
/// verdict and, when the marks were recorded, the reservation that gives them back.
fn decide(
    gw: &Gateway,
    snap: &Snapshot,
    intent: &Intent,
    send_if: impl Fn(&Allowed) -> bool,
) -> (Verdict, Option<Reservation>) {
    let now = gw.clock().mono();
    let posture = gw.posture(&snap.house, now);
    // The value most recently commanded or read (`lane::commanded`).
    let states = gw.lanes().commanded().over(gw.link().states(), now);
    let mut rates = gw.rates();
    let v = guard::decide(
        intent,
        &snap.house,
        &states,
        &posture,
        gw.limits(),
        &rates,
        now,
    );
    let reserved = match &v {
        Verdict::Allow(a) if send_if(a) => Some(rates.reserve(&a.rate_marks, now)),
        _ => None,
    };
    (v, reserved)
}

/// The lane of the device `intent` actuates (a sub-control shares its parent's: the intercom
/// and its door opener are one door). `None` for intents without a device.
fn lane_of<'g>(
    gw: &'g Gateway,
    snap: &Snapshot,
    intent: &Intent,
) -> Result<Option<Lane<'g>>, Refusal> {
    let Some(mut id) = intent.device() else {
        return Ok(None);
    };
    let house = &snap.house;
    if house.get(id).is_none() {
        return Ok(None);
    }
    // A sub-control (a light circuit) shares its controller's lane.
    let top = |mut id| {
        while let Some(parent) = house.device(id).parent {
            id = parent;
        }
        id
    };
    id = top(id);
    let d = house.device(id);
    let mut devices = vec![(d.addr.clone(), house.describe(id))];
    // A scene holds the lanes of the devices it acts on as well (`lane`). Enumerated as the
    // guard enumerates it; a scene that cannot be enumerated is refused there.
    if matches!(intent, Intent::ActivateScene { .. })
        && let Ok(desc) = crate::house::scene::describe(house, id, gw.link().states())
    {
        for m in desc.members.iter().chain(&desc.affected).map(|m| top(*m)) {
            devices.push((house.device(m).addr.clone(), house.describe(m)));
        }
    }
    if intent.is_motor_stop() {
        // A stop waits for no plan; the plans holding these devices send nothing more.
        let addrs: Vec<_> = devices.into_iter().map(|(a, _)| a).collect();
        gw.lanes().cancel_plans_on(
            &addrs,
            &format!(
                "not sent: {} was stopped by a later call",
                house.describe(id)
            ),
        );
        return Ok(None);
    }
    // Long enough for a plan of one command and its read-back; a ramp is cancelled at once.
    let wait = Duration::from_secs(gw.config().link.command_timeout_s) * 2 + Duration::from_secs(2);
    gw.lanes().enter_all(&devices, wait).map(Some)
}

fn set_phase(lane: &Option<Lane<'_>>, phase: Phase) {
    if let Some(l) = lane {
        l.set_phase(phase);
    }
}

/// `emergency_stop`: always allowed; the gateway latches, stops and audits.
fn emergency_stop(gw: &Gateway, session: &SessionInfo, reason: Option<&str>) -> ToolOutput {
    let by = match session.peer_uid {
        Some(uid) => format!("mcp session {} (uid {uid})", session.id),
        None => format!("mcp session {}", session.id),
    };
    let reason = reason.unwrap_or("emergency_stop called without a reason");
    let report = gw.emergency_stop_for(reason, &by, session.id, &record::client(session));
    read::estop_output(&report)
}

/// A `tools/call` the engine rejected before it reached the tools: audited too.
pub fn rejected(gw: &Gateway, session: &SessionInfo, tool: &str, reason: &str) {
    Rec::new(gw, session, tool).rejected(reason);
}
