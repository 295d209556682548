//! Sending an allowed plan, step by step (dispatch steps 8–9): before each command leaves, the
//! latch, the shutdown, the lane and the guard's rules for that step are checked again
//! (`lane::recheck`); a step refused now ends the plan, and the result says exactly what was
//! sent and what was not. A ramp paces itself here (`VOLUME_RAMP_PAUSE`).

use super::*;

/// Step 8: sends the plan in order through the link (which refuses unless live and resolved
/// against the loaded structure; secured controls take the visualisation-password path),
/// honouring pauses with progress notifications, stopping on cancellation, when the daemon is
/// stopping, when the emergency stop latches, when a newer call supersedes a ramp, and at the
/// first answer that is not LL 200. Before each command the guard decides again on the values
/// of now (`lane::recheck`); a step it would refuse now is not sent, and neither is the rest.
/// Steps not sent are listed as such.
pub(super) fn send(
    gw: &Gateway,
    snap: &Snapshot,
    intent: &Intent,
    allowed: &Allowed,
    lane: Option<&Lane<'_>>,
    ctx: &mut dyn CallContext,
) -> Vec<result::CommandOut> {
    let total = allowed.plan.len();
    let mut out = Vec::with_capacity(total);
    let mut stop: Option<String> = None;
    let mut last_sent: recheck::Sent = None;
    for (i, step) in allowed.plan.iter().enumerate() {
        let mut c = result::CommandOut {
            device: snap.house.device(step.device).label(),
            command: step.command.io_path(),
            sent: false,
            code: None,
            value: None,
            error: None,
        };
        if stop.is_none() && !step.pause_before.is_zero() {
            ctx.progress(
                i as f64,
                Some(total as f64),
                &format!(
                    "step {} of {total} in {} ms",
                    i + 1,
                    step.pause_before.as_millis()
                ),
            );
            if let Err(why) = pause(step.pause_before, gw, lane, ctx) {
                stop = Some(why);
            }
        }
        if stop.is_none()
            && let Some(why) = halted(gw, lane, ctx)
        {
            stop = Some(why);
        }
        // The rules that held when the plan was decided, on the values of now. A volume rise
        // also waits for the zone's pace (R-15: one rise per pause, whichever plan sent the
        // last), and is then checked once more.
        let mut checked = None;
        if stop.is_none() {
            match recheck_step(gw, snap, intent, allowed, step, last_sent) {
                Ok(c)
                    if c.rise
                        && lane.is_some_and(|l| !l.rise_wait(VOLUME_RAMP_PAUSE).is_zero()) =>
                {
                    let wait = lane
                        .map(|l| l.rise_wait(VOLUME_RAMP_PAUSE))
                        .unwrap_or_default();
                    match pause(wait, gw, lane, ctx)
                        .and_then(|()| recheck_step(gw, snap, intent, allowed, step, last_sent))
                    {
                        Ok(c) => checked = Some(c),
                        Err(why) => stop = Some(why),
                    }
                }
                Ok(c) => checked = Some(c),
                Err(why) => stop = Some(why),
            }
        }
        let (step, rise) = match checked {
            Some(c) => (c.step, c.rise),
            None => (step.clone(), false),
        };
        if let Some(why) = &stop {
            c.error = Some(why.clone());
            out.push(c);
            continue;
        }
        c.command = step.command.io_path();
        c.sent = true;
        // Inside the link, after its structure check (a round trip of its own): the latch, and
        // the whole check once more, so an alarm that arrived meanwhile still holds it back.
        let original = &allowed.plan[i];
        let gate = || {
            if gw.latch().is_latched() {
                return Some(LATCHED_NOT_SENT.to_owned());
            }
            if let Some(why) = lane.and_then(Lane::cancelled) {
                return Some(why);
            }
            recheck_step(gw, snap, intent, allowed, original, last_sent).err()
        };
        let sent = gw.link().send_gated(&step.command, snap.generation, &gate);
        if matches!(sent, Ok(_) | Err(SendError::Link(_))) {
            // It may have reached the device: the rate limits count from now (R-13, UCA-L1).
            gw.rates().touch(&allowed.rate_marks, gw.clock().mono());
        }
        if let Op::Volume(v) = step.command.op {
            last_sent = Some((v.get(), gw.clock().mono()));
            if rise && let Some(l) = lane {
                l.note_rise();
            }
        }
        match sent {
            Ok(reply) => {
                if !reply.is_ok() {
                    stop = Some(format!(
                        "not sent: the previous command was answered with LL {}",
                        reply.code
                    ));
                }
                c.code = Some(reply.code);
                c.value = Some(reply.value);
            }
            Err(e) => {
                stop = Some(match &e {
                    SendError::Held(why) => why.clone(),
                    _ => "not sent: the previous command failed".into(),
                });
                // Refused by the link before the network: nothing went out.
                c.sent = matches!(e, SendError::Link(_));
                if !c.sent {
                    last_sent = None;
                }
                c.error = Some(e.to_string());
            }
        }
        out.push(c);
    }
    if total > 1 {
        ctx.progress(total as f64, Some(total as f64), "done");
    }
    out
}

/// `lane::recheck::before_step` with the gateway's posture and states of now; a refusal as the
/// text the result and the audit log carry.
pub(super) fn recheck_step(
    gw: &Gateway,
    snap: &Snapshot,
    intent: &Intent,
    allowed: &Allowed,
    step: &Step,
    last_sent: recheck::Sent,
) -> Result<recheck::Checked, String> {
    let now = gw.clock().mono();
    recheck::before_step(
        intent,
        allowed,
        step,
        last_sent,
        &snap.house,
        &gw.lanes().commanded().over(gw.link().states(), now),
        &gw.posture(&snap.house, now),
        gw.limits(),
        now,
    )
    .map_err(|r| {
        format!(
            "not sent: {}: {} (checked again before this command)",
            r.rule, r.reason
        )
    })
}

/// Why a step is not sent when the emergency stop latched after the plan was decided.
pub(super) const LATCHED_NOT_SENT: &str = "not sent: the emergency stop latched (R-11)";

/// Why the rest of a plan must not be sent: the emergency stop latched, a newer call to the
/// device superseded this ramp, the call was cancelled, or the daemon is stopping.
pub(super) fn halted(
    gw: &Gateway,
    lane: Option<&Lane<'_>>,
    ctx: &dyn CallContext,
) -> Option<String> {
    if gw.latch().is_latched() {
        Some(LATCHED_NOT_SENT.into())
    } else if let Some(why) = lane.and_then(Lane::cancelled) {
        Some(why)
    } else if ctx.is_cancelled() {
        Some("the call was cancelled; not sent".into())
    } else if gw.shutdown().is_stopping() {
        Some(shutdown::NOT_SENT.into())
    } else {
        None
    }
}

/// Sleeps `d` in small slices; the reason when the plan was halted meanwhile.
pub(super) fn pause(
    d: Duration,
    gw: &Gateway,
    lane: Option<&Lane<'_>>,
    ctx: &dyn CallContext,
) -> Result<(), String> {
    let end = Instant::now() + d;
    loop {
        if let Some(why) = halted(gw, lane, ctx) {
            return Err(why);
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(Duration::from_millis(20)));
    }
}
