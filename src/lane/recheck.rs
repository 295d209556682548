//! Before each command of a plan leaves: the rules that held when the plan was decided,
//! checked again on the values of now (house rule 2).
//!
//! Why the whole guard again and not a list of "rules that can change": the guard is the one
//! place that knows every rule, and a copy of some of them would drift. So before every step
//! the intent is decided again, with the posture of this instant (the latch, the link, a
//! smoke alarm or an intrusion that started mid-plan, night) and the live states, and:
//! - a refusal now ends the plan there, under the rule that refuses;
//! - a plan that would now need a person's consent, where the decided one did not, ends too
//!   (no question is asked in the middle of a plan);
//! - a volume step is recomputed from the zone's live volume: never more than +10 over what it
//!   has now, however the volume moved since the ramp began;
//! - any other step goes out only if the new decision still contains it, unchanged.
//!
//! The rate limits are not counted again: the plan's own marks were recorded when it was
//! decided, and while the device's lane is held no other plan moves it.

use crate::clock::Mono;
use crate::house::House;
use crate::intent::Intent;
use crate::loxone::command::{Op, Percent};
use crate::loxone::state::LiveStates;
use crate::safety::posture::Posture;
use crate::safety::rate::RateBook;
use crate::safety::table::{Limits, VOLUME_RAMP_STEP};
use crate::safety::{Allowed, Refusal, Step, Verdict, guard};

/// The last volume this plan sent to the zone, and when: the value most recently commanded,
/// used while the Miniserver has not reported a newer one.
pub type Sent = Option<(u8, Mono)>;

/// A step that may go out now.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    pub step: Step,
    /// It raises a zone's volume: R-15 paces rises (one per `VOLUME_RAMP_PAUSE` and zone,
    /// whichever plan sends them).
    pub rise: bool,
}

/// What the guard says of one step of `decided` now: the step to send (a volume step may come
/// down), or why it must not be sent.
#[allow(clippy::too_many_arguments)]
pub fn before_step(
    intent: &Intent,
    decided: &Allowed,
    step: &Step,
    last_sent: Sent,
    house: &House,
    states: &dyn LiveStates,
    posture: &Posture,
    limits: &Limits,
    now: Mono,
) -> Result<Checked, Refusal> {
    let now_allowed = match guard::decide(
        intent,
        house,
        states,
        posture,
        limits,
        &RateBook::new(),
        now,
    ) {
        Verdict::Refuse(r) => return Err(r),
        Verdict::Allow(a) => a,
    };
    if decided.consent.is_none()
        && let Some(need) = &now_allowed.consent
    {
        return Err(Refusal::new(
            need.rule,
            "this would now need a person's consent, which the plan was decided without; the rest was not sent",
        ));
    }
    if let Op::Volume(v) = step.command.op {
        // R-15 against the zone's volume now: a zone turned down meanwhile is raised from
        // there. "Now" is the latest of what the Miniserver reported and what this plan sent.
        let live = house
            .state_uuid(step.device, "volume")
            .and_then(|u| states.entry(&u))
            .and_then(|e| Some((e.value.as_number()?, e.updated)))
            .map(|(x, at)| (x.clamp(0.0, 100.0).round() as u8, at));
        let base = match (live, last_sent) {
            (Some((_, at)), Some((sent, sent_at))) if at < sent_at => sent,
            (Some((v, _)), _) => v,
            (None, Some((sent, _))) => sent,
            (None, None) => 0,
        };
        let cap = base.saturating_add(VOLUME_RAMP_STEP).min(100);
        let mut s = step.clone();
        let sent = v.get().min(cap);
        s.command.op = Op::Volume(Percent::new(sent).unwrap_or(v));
        return Ok(Checked {
            step: s,
            rise: sent > base,
        });
    }
    if now_allowed.plan.iter().any(|s| s.command == step.command) {
        Ok(Checked {
            step: step.clone(),
            rise: false,
        })
    } else {
        Err(Refusal::new(
            "SC-7",
            "the plan changed since it was decided (the house changed meanwhile); the rest was not sent",
        ))
    }
}
