//! The safety core: everything that decides whether a command may go to the Miniserver.
//!
//! Why pure: the guard takes values (an [`Intent`](crate::intent::Intent), the
//! [`House`](crate::house::House), live states through a trait, the [`Posture`], the
//! [`Limits`], the [`RateBook`] and `now`) and returns a [`Verdict`]. It has no threads, sockets,
//! clocks or globals, so every rule is a unit test with injected time and a fake house, and the
//! shell (`dispatch`) cannot skip a rule by forgetting a call: it gets a plan only from
//! [`guard::decide`].
//!
//! - [`table`]: the compiled-in limits, each a `const` with the hazard it prevents and a test.
//! - [`rate`]: per-device rate limits (R-13, UCA-B1, UCA-L1).
//! - [`posture`]: emergency, night, degraded link, emergency-stop latch (issue 6).
//! - [`consent`]: consent messages from canonical names only, and consent fatigue.
//! - [`guard`]: intent → [`Verdict`].
//! - [`stop`]: the emergency-stop fan-out.

pub mod guard;
pub mod latch;
pub mod posture;
pub mod rate;
pub mod stop;
pub mod table;
#[cfg(test)]
pub(crate) mod testkit;

use std::fmt;
use std::time::Duration;

use crate::house::DevId;
use crate::loxone::command::Command;
use crate::loxone::uuid::{ControlAddr, Uuid};
use crate::mcp::tool::ElicitRequest;

pub use posture::Posture;
pub use rate::{Motion, RateBook, RateClass, RateMark, Reservation};
pub use table::Limits;

/// A refusal: which constraint (`SC-2`, `UCA-B2`, `R-13`, …) and the value that broke it.
/// Printed as `SC-2: 35 °C is outside 10–30 °C`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Refusal {
    pub rule: &'static str,
    pub reason: String,
}

impl Refusal {
    pub fn new(rule: &'static str, reason: impl Into<String>) -> Refusal {
        Refusal {
            rule,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule, self.reason)
    }
}

/// The guard's answer. A refusal is a value, never an error `?` could skip past the audit log.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub enum Verdict {
    Refuse(Refusal),
    Allow(Allowed),
}

impl Verdict {
    pub fn refuse(rule: &'static str, reason: impl Into<String>) -> Verdict {
        Verdict::Refuse(Refusal::new(rule, reason))
    }

    pub fn is_refused(&self) -> bool {
        matches!(self, Verdict::Refuse(_))
    }

    /// The refusal, if any (tests and the audit record).
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Verdict::Refuse(r) => Some(r),
            Verdict::Allow(_) => None,
        }
    }
}

impl From<Refusal> for Verdict {
    fn from(r: Refusal) -> Verdict {
        Verdict::Refuse(r)
    }
}

/// What may be done, and on what condition.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Allowed {
    /// Commands in order. Empty for read-only intents.
    pub plan: Vec<Step>,
    /// When set, nothing in `plan` may be sent unless a person accepts exactly this request.
    pub consent: Option<ConsentNeed>,
    /// States that should change once the plan has run (for the result's read-back).
    pub expect: Vec<Expect>,
    /// What to record in the [`RateBook`] once the plan was sent.
    pub rate_marks: Vec<RateMark>,
    /// Facts for the result text ("capped at 30 % (night, UCA-L2)"), canonical only.
    pub notes: Vec<String>,
}

/// One command of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The device the command goes to.
    pub device: DevId,
    pub command: Command,
    /// Wait this long before sending (volume ramps, R-15).
    pub pause_before: Duration,
    /// The control is `isSecured`: the link sends it through `jdev/sps/ios/{visuHash}/…`.
    pub secured: bool,
}

/// A state expected to change, and how.
#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    pub device: DevId,
    /// State name in the structure file (`position`, `active`, …).
    pub state: &'static str,
    pub uuid: Uuid,
    pub change: Change,
}

/// The direction or value a state should take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change {
    /// Exactly this value (in the state's own unit).
    To(f64),
    Increase,
    Decrease,
    /// Some change (e.g. a new active mood).
    Any,
}

/// Human consent the plan depends on (issue 6 "Consent").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentNeed {
    /// The constraint that asks for it (`SC-5`, `UCA-D1`, `SC-7`, …).
    pub rule: &'static str,
    /// The device consent is about; consent fatigue is counted per device.
    pub device: DevId,
    pub addr: ControlAddr,
    /// The question, built only from canonical names and live state.
    pub request: ElicitRequest,
}
