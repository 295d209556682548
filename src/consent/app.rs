//! The Loxone app channel's shell (issue 21): writes the question to the virtual text input
//! through the link, reads the approval push button's presses from the live states, and tells
//! `dispatch::call` whether the plan may go out. The rules live in [`super::house`].
//!
//! Why the call waits, and why the AI may still be told to repeat it: a client that cannot
//! repeat a call (MCP Inspector's CLI starts a new server for each) needs the press to land
//! inside the call, so the call waits for it (`super::wait`: bounded by `[consent.house]
//! wait_s`, or the whole window when the client sent a progress token). But most clients give
//! up on a request after about a minute, so past the wait the AI is told to repeat the call,
//! and the repeat is decided from scratch (guard, fatigue, lane) like any other. Either way,
//! after the press the plan is decided again on the house of that moment, and the approval
//! binds the exact plan and the session; anything else collected with it sends nothing.

use std::sync::MutexGuard;
use std::time::Duration;

use super::house::{Board, CLEARED, Key, Seen, Shown, Step};
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
/// fatigue is counted). When `wait` allows it, the call waits for the press after showing the
/// question (`super::wait`); a press during the wait approves exactly as a repeated call would.
pub fn ask(
    gw: &Gateway,
    snap: &Snapshot,
    need: &ConsentNeed,
    plan: &[PlanStep],
    session: &SessionInfo,
    output: &ControlAddr,
    wait: &Wait<'_>,
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
    let said = Said {
        approve: snap.house.device(cc.approve).label(),
        question: snap.house.device(cc.question).label(),
    };
    let window = gw.consent_board().window();
    let mut board = gw.consent_board();
    let now = gw.clock().mono();
    let step = board.ask(&key, &seen(gw, cc), now);
    let (id, first) = match step {
        Step::Show { expired } => {
            if let Some(e) = &expired {
                log::info!("consent in the app: question {} expired unanswered", e.id);
            }
            let text = question_text(gw, snap, need, session, now, window);
            if let Err(why) = write(gw, snap, cc, &text) {
                if expired.is_some() {
                    clear(gw, snap, cc);
                }
                return unavailable(why);
            }
            let at = gw.clock().mono();
            let id = board.shown(key.clone(), text, at).id;
            drop(board);
            super::wait::expire_on_time(gw, id);
            gw.fatigue().record(output, &ElicitOutcome::Pending, at);
            (id, First::Shown)
        }
        Step::Waiting { .. } => {
            let id = board.current().map_or(0, |s| s.id);
            drop(board);
            (id, First::Repeated)
        }
        step => return settle(gw, snap, cc, board, step, output, &said),
    };
    if wait.up_to.is_zero() {
        return not_yet(gw, first, None, &said);
    }
    match super::wait::for_press(gw, cc, &key, wait, &said) {
        Waited::Settled(board, step) => settle(gw, snap, cc, board, step, output, &said),
        Waited::Gone => Answer::NotNow {
            label: "app_expired",
            sentence: "Nothing was sent: the question is no longer shown in the Loxone app (it \
                       expired). Call again to ask again."
                .into(),
            is_error: true,
        },
        Waited::Halted(why) => {
            let mut board = gw.consent_board();
            if board.withdraw(id).is_some() {
                log::info!("consent in the app: question {id} withdrawn ({why})");
                clear(gw, snap, cc);
            }
            drop(board);
            Answer::NotNow {
                label: "app_withdrawn",
                sentence: format!(
                    "Nothing was sent, and the question was withdrawn from the Loxone app (a \
                     press now approves nothing): {why}."
                ),
                is_error: true,
            }
        }
        Waited::NoPress(waited) => not_yet(gw, first, Some(waited), &said),
    }
}

/// How the call may wait for the press: what the client allows and what ends the wait.
pub struct Wait<'a> {
    /// The longest wait; zero answers at once (the AI repeats the call after the press).
    pub up_to: Duration,
    /// A progress notification (nothing without a progress token; never blocks).
    pub progress: &'a dyn Fn(f64, Option<f64>, &str),
    /// Why the wait must end now with nothing sent: the call was cancelled, its session ended,
    /// the daemon is stopping, the emergency stop latched.
    pub halted: &'a dyn Fn() -> Option<String>,
}

/// The names the answers use.
pub(super) struct Said {
    pub approve: String,
    pub question: String,
}

/// Whether this call showed the question or found it shown (a repeat).
#[derive(Clone, Copy)]
enum First {
    Shown,
    Repeated,
}

/// What became of the wait (`super::wait::for_press`).
pub(super) enum Waited<'g> {
    /// The question was answered or expired: settle `Step` under the board's lock.
    Settled(MutexGuard<'g, Board>, Step),
    /// The question is no longer on the board.
    Gone,
    Halted(String),
    /// No press within the wait; the question is still shown.
    NoPress(Duration),
}

/// No press yet: the question stays shown, and the AI repeats the call after the press.
fn not_yet(gw: &Gateway, first: First, waited: Option<Duration>, said: &Said) -> Answer {
    let now = gw.clock().mono();
    let (left, until) = match gw.consent_board().current() {
        Some(s) => (
            s.expires_at.since(now),
            match gw.local_ms() {
                Some(_) => format!(" ({})", clock_words(gw, s.expires_at, now)),
                None => String::new(),
            },
        ),
        None => (Duration::ZERO, String::new()),
    };
    let approve = &said.approve;
    let secs = left.as_secs().max(1);
    match (first, waited) {
        (First::Shown, None) => Answer::NotNow {
            label: "app_pending",
            sentence: format!(
                "Nothing was sent yet. The question is shown in the Loxone app \
                 ('{question}'): the person must press '{approve}' in the Loxone app within \
                 {secs} s{until}, and then you repeat this same call with the same \
                 arguments. A press before the question appeared, after it expired, or a \
                 different call does not count.",
                question = said.question,
            ),
            is_error: false,
        },
        (First::Shown, Some(w)) => Answer::NotNow {
            label: "app_pending",
            sentence: format!(
                "Nothing was sent yet. The question is shown in the Loxone app \
                 ('{question}'), and nobody pressed '{approve}' there during the {w} s this \
                 call waited. The person may still press it within {secs} s{until}; then \
                 repeat this same call with the same arguments (it waits for the press \
                 again). A press before the question appeared, after it expired, or a \
                 different call does not count.",
                question = said.question,
                w = w.as_secs(),
            ),
            is_error: false,
        },
        (First::Repeated, None) => Answer::NotNow {
            label: "app_waiting",
            sentence: format!(
                "Nothing was sent: the person has not pressed '{approve}' in the Loxone app yet \
                 ({secs} s left). Repeat this same call after the press."
            ),
            is_error: false,
        },
        (First::Repeated, Some(w)) => Answer::NotNow {
            label: "app_waiting",
            sentence: format!(
                "Nothing was sent: the person has not pressed '{approve}' in the Loxone app yet \
                 (this call waited {} s; {secs} s left). Repeat this same call after the press.",
                w.as_secs()
            ),
            is_error: false,
        },
    }
}

/// A step that ends the request (approved, expired, declined, busy). The board's lock is held
/// until the text is cleared, so a clear never overwrites a question shown meanwhile.
fn settle(
    gw: &Gateway,
    snap: &Snapshot,
    cc: &ConsentControls,
    board: MutexGuard<'_, Board>,
    step: Step,
    output: &ControlAddr,
    said: &Said,
) -> Answer {
    let approve = &said.approve;
    match step {
        Step::Approved(s) => {
            clear(gw, snap, cc);
            drop(board);
            gw.fatigue()
                .record(output, &ElicitOutcome::Accepted, gw.clock().mono());
            log::info!("consent in the app: question {} approved by a press", s.id);
            Answer::Approved
        }
        Step::Expired(s) => {
            clear(gw, snap, cc);
            drop(board);
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
            clear(gw, snap, cc);
            drop(board);
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
        // Not a step that ends a request: nothing is shown or sent from here.
        Step::Show { .. } | Step::Waiting { .. } => {
            unavailable("the question's state changed meanwhile; call again".into())
        }
    }
}

/// Clears a question that expired with nobody asking again (called at every tool call, and by
/// the question's own timer, `super::wait::expire_on_time`), so the app does not keep showing
/// it. The board's lock is held across the clear.
pub fn sweep(gw: &Gateway, snap: &Snapshot) {
    let Some(cc) = snap.house.consent_controls() else {
        return;
    };
    let mut board = gw.consent_board();
    let expired: Option<Shown> = board.sweep(gw.clock().mono());
    if let Some(e) = expired {
        log::info!("consent in the app: question {} expired unanswered", e.id);
        clear(gw, snap, cc);
    }
}

/// The process is stopping: a question still shown is withdrawn and cleared in the app, since
/// nothing survives a restart and nobody would clear it afterwards.
pub fn withdraw_on_stop(gw: &Gateway) {
    let mut board = gw.consent_board();
    let Some(id) = board.current().map(|s| s.id) else {
        return;
    };
    board.withdraw(id);
    log::info!("consent in the app: question {id} withdrawn (loxwarden is stopping)");
    if let Ok(snap) = gw.snapshot()
        && let Some(cc) = snap.house.consent_controls()
    {
        clear(gw, &snap, cc);
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

pub(super) fn seen(gw: &Gateway, cc: &ConsentControls) -> Seen {
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

pub(super) fn clear(gw: &Gateway, snap: &Snapshot, cc: &ConsentControls) {
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
