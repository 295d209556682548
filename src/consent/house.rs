//! The Loxone app channel's pure core (issue 21): the one question shown for the whole house,
//! and whether a press of the approval button approves it.
//!
//! Why a channel in the house: elicitation asks through the AI's own client, which many clients
//! cannot do and some can be set to answer by themselves (a settings hook an agent may write).
//! The Loxone app is a channel the AI's host cannot reach: a person logged in with their own
//! Loxone user presses a virtual input push button there. The gateway only ever *reads* that
//! button (its state events); it can never press it (the controls are hidden from every tool,
//! `house::exposure::consent_controls`).
//!
//! The rules, all here and all pure (the caller passes `now` and what the Miniserver reported):
//! - One question at a time for the whole house. A request while another is shown is
//!   [`Step::Busy`]: nothing is shown, nothing is sent.
//! - A question is bound to its [`Key`]: the exact plan and question, and the session that asked.
//!   Only the same key, repeated by the same session, can collect the approval.
//! - A press approves only when it is a rising edge seen *after* the question was shown (after
//!   the text was written) and no later than its expiry, while that question is the one shown.
//!   A press before the question, after its expiry, or while another question was shown
//!   approves nothing.
//! - An approval is used once: the question is cleared when it is used, declined (the person
//!   clears the text in the app) or found expired; the shell then clears the text.
//! - Nothing survives a restart: a new process shows a new question, and presses seen before it
//!   was shown approve nothing.

use std::time::Duration;

use crate::clock::Mono;

/// What a shown question is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The plan's commands and the question's facts (`ElicitRequest::binding`).
    pub plan: String,
    /// Who asked: the session (and its Unix user in the daemon).
    pub owner: String,
}

/// The question on display in the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    pub id: u64,
    pub key: Key,
    /// Exactly what was written to the text input.
    pub text: String,
    /// When the text was written (the Miniserver had answered).
    pub shown_at: Mono,
    pub expires_at: Mono,
}

/// What the Miniserver reported, as the shell reads it from the live states.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// The approval input's last rising edge.
    pub last_press: Option<Mono>,
    /// The text input's text now, and when it arrived.
    pub text: Option<(String, Mono)>,
}

/// What the shell must do (and tell the AI) for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing is shown: write this request's question, then call [`Board::shown`]. `expired`
    /// carries a question of another key found expired on the way (its text is overwritten).
    Show { expired: Option<Shown> },
    /// This request's question is shown and not yet approved.
    Waiting { left: Duration },
    /// This request's question was approved by a valid press: it is used up now (cleared);
    /// clear the text, then send.
    Approved(Shown),
    /// This request's question expired unanswered; cleared (clear the text).
    Expired(Shown),
    /// The person cleared the question's text in the app: declined, cleared.
    Declined(Shown),
    /// Another question is shown; this one is not (nothing is sent).
    Busy { left: Duration, same_owner: bool },
}

/// The one question of the house. Shared by every session of the process.
#[derive(Debug)]
pub struct Board {
    window: Duration,
    shown: Option<Shown>,
    /// The last question found expired, until its asker is told or another is shown.
    expired: Option<Shown>,
    next_id: u64,
}

impl Board {
    pub fn new(window: Duration) -> Board {
        Board {
            window,
            shown: None,
            expired: None,
            next_id: 1,
        }
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    pub fn current(&self) -> Option<&Shown> {
        self.shown.as_ref()
    }

    /// Clears a shown question that expired by `now`, and returns it (the shell clears the text
    /// and audits the expiry).
    pub fn sweep(&mut self, now: Mono) -> Option<Shown> {
        if self.shown.as_ref().is_some_and(|s| now >= s.expires_at) {
            self.expired = self.shown.take();
            self.expired.clone()
        } else {
            None
        }
    }

    /// One request for consent through the app.
    pub fn ask(&mut self, key: &Key, seen: &Seen, now: Mono) -> Step {
        self.sweep(now);
        let Some(s) = &self.shown else {
            // The asker of a question that expired is told so once, and nothing is shown.
            if let Some(e) = self.expired.take_if(|e| &e.key == key) {
                return Step::Expired(e);
            }
            return Step::Show {
                expired: self.expired.take(),
            };
        };
        let left = s.expires_at.since(now);
        if &s.key != key {
            return Step::Busy {
                left,
                same_owner: s.key.owner == key.owner,
            };
        }
        // A press approves only between the question's display and its expiry.
        let pressed = seen
            .last_press
            .is_some_and(|p| p > s.shown_at && p <= s.expires_at && p <= now);
        if pressed {
            return Step::Approved(self.shown.take().expect("checked above"));
        }
        let cleared = seen
            .text
            .as_ref()
            .is_some_and(|(t, at)| *at > s.shown_at && is_cleared(t));
        if cleared {
            return Step::Declined(self.shown.take().expect("checked above"));
        }
        Step::Waiting { left }
    }

    /// Looks again at `key`'s question while its call waits for the press: as [`Board::ask`],
    /// except that nothing new is ever shown. `None` when `key`'s question is no longer on the
    /// board (withdrawn, or found expired and told to its asker already).
    pub fn poll(&mut self, key: &Key, seen: &Seen, now: Mono) -> Option<Step> {
        self.sweep(now);
        if self.shown.as_ref().is_some_and(|s| &s.key == key) {
            return Some(self.ask(key, seen, now));
        }
        self.expired.take_if(|e| &e.key == key).map(Step::Expired)
    }

    /// Takes question `id` off the board (its call ended without an answer: cancelled, the
    /// session gone, the daemon stopping, the emergency stop): a press now approves nothing.
    pub fn withdraw(&mut self, id: u64) -> Option<Shown> {
        self.shown.take_if(|s| s.id == id)
    }

    /// The question for `key` was written at `at` (after [`Step::Show`]); it may be approved
    /// until `at` + the window.
    pub fn shown(&mut self, key: Key, text: String, at: Mono) -> &Shown {
        let id = self.next_id;
        self.next_id += 1;
        self.shown.insert(Shown {
            id,
            key,
            text,
            shown_at: at,
            expires_at: at.plus(self.window),
        })
    }
}

/// The person cleared the question in the app (or wrote "no" over it): a decline.
pub fn is_cleared(text: &str) -> bool {
    let t = text.trim();
    t.is_empty() || t.eq_ignore_ascii_case("no") || t == CLEARED
}

/// What the text input shows when no question is waiting. (An empty value cannot be written:
/// `jdev/sps/io/{uuid}/` would be a read.)
pub const CLEARED: &str = "No AI request is waiting.";

#[cfg(test)]
mod tests {
    use super::*;

    const W: Duration = Duration::from_secs(120);

    fn key(plan: &str, owner: &str) -> Key {
        Key {
            plan: plan.into(),
            owner: owner.into(),
        }
    }

    fn at(s: u64) -> Mono {
        Mono(1_000_000).plus(Duration::from_secs(s))
    }

    fn press(s: u64) -> Seen {
        Seen {
            last_press: Some(at(s)),
            text: None,
        }
    }

    /// A board with `k`'s question shown at 10 s.
    fn shown(k: &Key) -> Board {
        let mut b = Board::new(W);
        assert_eq!(
            b.ask(k, &Seen::default(), at(10)),
            Step::Show { expired: None }
        );
        b.shown(k.clone(), "Unlock?".into(), at(10));
        b
    }

    #[test]
    fn a_press_after_the_question_and_before_expiry_approves_it_once() {
        let k = key("unlock door", "session:1");
        let mut b = shown(&k);
        assert!(
            matches!(b.ask(&k, &Seen::default(), at(20)), Step::Waiting { left } if left == Duration::from_secs(110))
        );
        assert!(matches!(b.ask(&k, &press(30), at(40)), Step::Approved(s) if s.key == k));
        // Used: the same press again shows a new question, which it cannot approve.
        assert_eq!(b.ask(&k, &press(30), at(41)), Step::Show { expired: None });
        b.shown(k.clone(), "Unlock?".into(), at(41));
        assert!(matches!(
            b.ask(&k, &press(30), at(42)),
            Step::Waiting { .. }
        ));
    }

    #[test]
    fn no_press_or_a_press_before_the_question_approves_nothing() {
        let k = key("unlock door", "session:1");
        let mut b = shown(&k);
        assert!(matches!(
            b.ask(&k, &Seen::default(), at(60)),
            Step::Waiting { .. }
        ));
        assert!(matches!(b.ask(&k, &press(9), at(60)), Step::Waiting { .. }));
        // The same instant as the text was written is not "after".
        assert!(matches!(
            b.ask(&k, &press(10), at(60)),
            Step::Waiting { .. }
        ));
    }

    #[test]
    fn a_press_after_expiry_approves_nothing_and_the_question_is_cleared() {
        let k = key("unlock door", "session:1");
        let mut b = shown(&k);
        // Expired at 130 s; a press at 131 s.
        assert!(matches!(b.ask(&k, &press(131), at(132)), Step::Expired(_)));
        assert!(b.current().is_none());
        // A press exactly at expiry still counts (the window includes its end).
        let mut b = shown(&k);
        assert!(matches!(
            b.ask(&k, &press(130), at(129)),
            Step::Waiting { .. }
        ));
        assert!(matches!(b.ask(&k, &press(129), at(129)), Step::Approved(_)));
    }

    #[test]
    fn one_question_for_the_whole_house_other_plans_and_sessions_are_busy() {
        let k = key("unlock door", "session:1");
        let mut b = shown(&k);
        assert_eq!(
            b.ask(&key("unlock garage", "session:1"), &press(20), at(21)),
            Step::Busy {
                left: Duration::from_secs(109),
                same_owner: true
            }
        );
        assert!(matches!(
            b.ask(&key("unlock door", "session:2"), &press(20), at(21)),
            Step::Busy {
                same_owner: false,
                ..
            }
        ));
        // The question is still the first's, and the press approves it.
        assert!(matches!(b.ask(&k, &press(20), at(22)), Step::Approved(_)));
    }

    #[test]
    fn a_press_while_another_question_was_shown_approves_nothing_later() {
        let a = key("unlock door", "session:1");
        let mut b = shown(&a);
        // Pressed at 20 s for A; A expires unused; B is shown at 200 s.
        let bq = key("open garage", "session:2");
        assert!(matches!(
            b.ask(&bq, &press(20), at(200)),
            Step::Show { expired: Some(e) } if e.key == a
        ));
        b.shown(bq.clone(), "Open?".into(), at(200));
        assert!(matches!(
            b.ask(&bq, &press(20), at(201)),
            Step::Waiting { .. }
        ));
    }

    #[test]
    fn clearing_the_text_in_the_app_declines_but_our_own_text_does_not() {
        let k = key("unlock door", "session:1");
        let mut b = shown(&k);
        let text = |t: &str, s| Seen {
            last_press: None,
            text: Some((t.into(), at(s))),
        };
        assert!(matches!(
            b.ask(&k, &text("Unlock?", 11), at(12)),
            Step::Waiting { .. }
        ));
        // An empty text from before the question was shown is not a decline.
        assert!(matches!(
            b.ask(&k, &text("", 5), at(12)),
            Step::Waiting { .. }
        ));
        assert!(matches!(
            b.ask(&k, &text(" ", 13), at(14)),
            Step::Declined(_)
        ));
        assert!(b.current().is_none());
    }

    #[test]
    fn a_waiting_call_polls_its_own_question_and_never_shows_one() {
        let k = key("unlock door", "session:1");
        let mut b = shown(&k);
        assert!(matches!(
            b.poll(&k, &Seen::default(), at(20)),
            Some(Step::Waiting { .. })
        ));
        // Another key's poll shows nothing and finds nothing.
        assert_eq!(b.poll(&key("other", "session:2"), &press(15), at(20)), None);
        assert_eq!(b.current().map(|s| &s.key), Some(&k));
        assert!(matches!(
            b.poll(&k, &press(15), at(20)),
            Some(Step::Approved(_))
        ));
        // Used: nothing left to poll, and a poll does not show a new question.
        assert_eq!(b.poll(&k, &press(15), at(21)), None);
        assert!(b.current().is_none());
        // Expired while polled: told once.
        let mut b = shown(&k);
        assert!(matches!(
            b.poll(&k, &press(131), at(131)),
            Some(Step::Expired(_))
        ));
        assert_eq!(b.poll(&k, &press(131), at(132)), None);
    }

    #[test]
    fn a_withdrawn_question_approves_nothing_and_only_its_own_id_is_withdrawn() {
        let k = key("unlock door", "session:1");
        let mut b = shown(&k);
        let id = b.current().unwrap().id;
        assert_eq!(b.withdraw(id + 1), None);
        assert!(b.withdraw(id).is_some());
        assert_eq!(b.poll(&k, &press(20), at(21)), None);
        // A new question for the same call: the press before it does not count.
        assert_eq!(b.ask(&k, &press(20), at(22)), Step::Show { expired: None });
    }

    #[test]
    fn an_expired_question_of_someone_else_is_replaced_by_the_new_one() {
        let mut b = Board::new(W);
        b.shown(key("a", "s1"), "A".into(), at(0));
        assert!(b.sweep(at(119)).is_none());
        assert!(b.sweep(at(120)).is_some());
        assert!(b.current().is_none());
    }
}
