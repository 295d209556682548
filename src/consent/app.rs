//! The Loxone app channel's shell (issue 21): writes the question to the virtual text input
//! through the link, reads the approval push button's presses from the live states, and tells
//! `dispatch::call` whether the plan may go out. The rules live in [`super::house`].
//!
//! Why the AI is told to repeat the call: a tool call cannot wait minutes for a person in most
//! clients, and the repeated call is decided from scratch (guard, fatigue, lane) like any other,
//! so what goes out is decided on the house of that moment. The approval binds the exact plan and
//! the session; anything else collected with it sends nothing.

use std::time::Duration;

use super::house::{CLEARED, Key, Seen, Shown, Step};
use super::question::TruncateChars;
use crate::clock::Mono;
use crate::dispatch::gateway::{Gateway, Snapshot};
use crate::house::exposure::ConsentControls;
use crate::loxone::state::LiveStates;
use crate::loxone::uuid::ControlAddr;
use crate::mcp::tool::{ElicitOutcome, SessionInfo};
use crate::safety::{ConsentNeed, Step as PlanStep};

/// What became of one request through the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A valid press approved exactly this plan for this session: send it.
    Approved,
    /// Nothing may be sent now. `label` is the consent outcome in the audit log and the
    /// result (`app_pending`, `app_waiting`, `app_expired`, `app_declined`, `app_busy`,
    /// `app_unavailable`), `sentence` what the AI is told.
    NotNow {
        label: &'static str,
        sentence: String,
        is_error: bool,
    },
}

/// Who asked, as the question binds it: the session, and its Unix user in the daemon.
pub fn owner(session: &SessionInfo) -> String {
    match session.peer_uid {
        Some(uid) => format!("session:{} uid:{uid}", session.id),
        None => format!("session:{}", session.id),
    }
}

/// One request for consent through the app for `plan` (whose first target is `output`, where
/// fatigue is counted).
pub fn ask(
    gw: &Gateway,
    snap: &Snapshot,
    need: &ConsentNeed,
    plan: &[PlanStep],
    session: &SessionInfo,
    output: &ControlAddr,
) -> Answer {
    let Some(cc) = snap.house.consent_controls() else {
        return unavailable("no [consent.house] controls are configured".into());
    };
    let key = Key {
        plan: plan
            .iter()
            .map(|s| s.command.io_path())
            .chain([need.request.binding.clone(), need.request.message.clone()])
            .collect::<Vec<_>>()
            .join("\n"),
        owner: owner(session),
    };
    let approve = snap.house.device(cc.approve).label();
    let window = gw.consent_board().window();
    let mut board = gw.consent_board();
    let now = gw.clock().mono();
    let step = board.ask(&key, &seen(gw, cc), now);
    match step {
        Step::Show { expired } => {
            if let Some(e) = &expired {
                log::info!("consent in the app: question {} expired unanswered", e.id);
            }
            let text = question_text(gw, snap, need, session, now, window);
            if let Err(why) = write(gw, snap, cc, &text) {
                drop(board);
                if expired.is_some() {
                    clear(gw, snap, cc);
                }
                return unavailable(why);
            }
            let at = gw.clock().mono();
            let shown = board.shown(key, text, at);
            let until = match gw.local_ms() {
                Some(_) => format!(" ({})", clock_words(gw, shown.expires_at, at)),
                None => String::new(),
            };
            drop(board);
            gw.fatigue().record(output, &ElicitOutcome::Pending, at);
            Answer::NotNow {
                label: "app_pending",
                sentence: format!(
                    "Nothing was sent yet. The question is shown in the Loxone app \
                     ('{question}'): the person must press '{approve}' in the Loxone app within \
                     {secs} s{until}, and then you repeat this same call with the same \
                     arguments. A press before the question appeared, after it expired, or a \
                     different call does not count.",
                    question = snap.house.device(cc.question).label(),
                    secs = window.as_secs(),
                ),
                is_error: false,
            }
        }
        Step::Waiting { left } => Answer::NotNow {
            label: "app_waiting",
            sentence: format!(
                "Nothing was sent: the person has not pressed '{approve}' in the Loxone app yet \
                 ({} s left). Repeat this same call after the press.",
                left.as_secs().max(1)
            ),
            is_error: false,
        },
        Step::Approved(s) => {
            drop(board);
            clear(gw, snap, cc);
            gw.fatigue()
                .record(output, &ElicitOutcome::Accepted, gw.clock().mono());
            log::info!("consent in the app: question {} approved by a press", s.id);
            Answer::Approved
        }
        Step::Expired(s) => {
            drop(board);
            clear(gw, snap, cc);
            Answer::NotNow {
                label: "app_expired",
                sentence: format!(
                    "Nothing was sent: nobody pressed '{approve}' in the Loxone app within {} s, \
                     so the question expired and was cleared. Call again to ask again.",
                    s.expires_at.since(s.shown_at).as_secs()
                ),
                is_error: true,
            }
        }
        Step::Declined(_) => {
            drop(board);
            clear(gw, snap, cc);
            gw.fatigue()
                .record(output, &ElicitOutcome::Declined, gw.clock().mono());
            Answer::NotNow {
                label: "app_declined",
                sentence: "The person declined in the Loxone app (cleared the question). \
                           Nothing was sent."
                    .into(),
                is_error: false,
            }
        }
        Step::Busy { left, same_owner } => Answer::NotNow {
            label: "app_busy",
            sentence: format!(
                "Nothing was sent: {} is waiting for a person in the Loxone app ({} s left), and \
                 the app shows one question at a time for the whole house. Repeat the call that \
                 asked it, or try again after it is answered or expires.",
                if same_owner {
                    "another request of this session"
                } else {
                    "another request"
                },
                left.as_secs().max(1)
            ),
            is_error: true,
        },
    }
}

/// Clears a question that expired with nobody asking again (called at every tool call), so
/// the app does not keep showing it.
pub fn sweep(gw: &Gateway, snap: &Snapshot) {
    let Some(cc) = snap.house.consent_controls() else {
        return;
    };
    let expired: Option<Shown> = gw.consent_board().sweep(gw.clock().mono());
    if let Some(e) = expired {
        log::info!("consent in the app: question {} expired unanswered", e.id);
        clear(gw, snap, cc);
    }
}

fn unavailable(why: String) -> Answer {
    Answer::NotNow {
        label: "app_unavailable",
        sentence: format!(
            "Nothing was sent: the question could not be shown in the Loxone app ({why})."
        ),
        is_error: true,
    }
}

fn seen(gw: &Gateway, cc: &ConsentControls) -> Seen {
    let states = gw.link().states();
    Seen {
        last_press: states.last_rise(&cc.approve_active),
        text: states
            .entry(&cc.question_text)
            .and_then(|e| Some((e.value.as_text()?.to_owned(), e.updated))),
    }
}

fn write(gw: &Gateway, snap: &Snapshot, cc: &ConsentControls, text: &str) -> Result<(), String> {
    let addr = &snap.house.device(cc.question).addr;
    match gw.link().send_text(addr, text, snap.generation) {
        Ok(r) if r.code == 200 => Ok(()),
        Ok(r) => Err(format!("the Miniserver answered LL {}", r.code)),
        Err(e) => Err(e.to_string()),
    }
}

fn clear(gw: &Gateway, snap: &Snapshot, cc: &ConsentControls) {
    if let Err(e) = write(gw, snap, cc, CLEARED) {
        log::warn!("consent in the app: the question text could not be cleared: {e}");
    }
}

/// The text shown in the app: the question (structure names and live state only), who asked,
/// and until when a press counts. `/` becomes ` - ` (how a Miniserver treats an encoded `/` in
/// a text command is not documented).
fn question_text(
    gw: &Gateway,
    snap: &Snapshot,
    need: &ConsentNeed,
    session: &SessionInfo,
    now: Mono,
    window: Duration,
) -> String {
    let cc = snap.house.consent_controls();
    let approve = cc.map_or_else(String::new, |c| snap.house.device(c.approve).name.clone());
    let client: String = session
        .client_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_'))
        .take(32)
        .collect();
    let mut who = format!("MCP session {}", session.id);
    if let Some(uid) = session.peer_uid {
        who.push_str(&format!(" (Unix uid {uid})"));
    }
    if !client.trim().is_empty() {
        who.push_str(&format!(", client calling itself \"{}\"", client.trim()));
    }
    let mut text = format!(
        "{} Asked by {who}. Press '{approve}' {} to allow it; do nothing to refuse.",
        need.request.message,
        clock_words(gw, now.plus(window), now)
    );
    text = text.replace('/', " - ");
    text.truncate_chars(800);
    text
}

/// "until 14:03:10" when local time is known, else "within 120 s".
fn clock_words(gw: &Gateway, until: Mono, now: Mono) -> String {
    let left = until.since(now);
    match gw.local_ms() {
        Some(ms) => {
            let t = (u64::from(ms) + left.as_millis() as u64) % 86_400_000 / 1000;
            format!("until {:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
        }
        None => format!("within {} s", left.as_secs()),
    }
}
