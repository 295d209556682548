//! Consent: a person, never the model, lets a critical command go out (issue 6; SC-5, SC-7,
//! issue 21 for the Loxone app).
//!
//! One job per file:
//! - [`question`]: the question, built only from structure names, live state and the clock.
//! - [`presence`]: who may be inside, for the arm and disarm questions and rules.
//! - [`fatigue`]: how often one output may be asked about (SC-5).
//! - [`house`]: the Loxone app channel's pure core: the one question shown for the whole
//!   house, and whether a press of the approval button approves it.
//! - [`app`]: its shell: writes the question to the text input, reads the button's presses, and
//!   tells `dispatch` what to answer; [`channel`] chooses between the app and elicitation.
//! - [`wait`]: the call's wait for the press, and the timer that clears an expired question.

pub mod app;
pub mod channel;
pub mod fatigue;
pub mod house;
pub mod presence;
pub mod question;
pub mod wait;

pub use fatigue::Fatigue;
pub use presence::Presence;
pub use question::{Moment, Subject, request};
