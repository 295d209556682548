//! Waiting inside the call for the press in the Loxone app, and clearing a question the
//! moment it expires (issue 21).
//!
//! Why wait: a client that cannot repeat a call (MCP Inspector's CLI starts a fresh server for
//! every call) could never collect an approval otherwise. The wait changes none of the board's
//! rules: it looks at the same question again and again ([`Board::poll`]), and only a press
//! after the question was shown, before it expires, while it is the one shown, for the same plan
//! and session, approves it, once. The wait holds no lock between looks and no lane the
//! emergency stop needs (the stop takes none); whatever ends the call (cancellation, the end of
//! the session, a stopping daemon, the emergency stop) ends the wait within one look, with
//! nothing sent.
//!
//! Why a timer: an expired question used to stay in the app until the next tool call; a
//! person reading it there could think it still counts. Each shown question gets a short-lived
//! thread that clears it when it expires (it holds the gateway only weakly, and ends as soon as
//! the question is gone).

use std::time::{Duration, Instant};

use super::app::{Said, Wait, Waited, seen};
use super::house::{Board, Key, Step};
use crate::dispatch::gateway::Gateway;
use crate::house::exposure::ConsentControls;

/// How often the wait looks at the board when no state arrives meanwhile (a press arrives as a
/// state and wakes it at once), and so how soon a cancellation or the latch ends it.
const LOOK: Duration = Duration::from_millis(50);

/// How often a waiting call tells a client with a progress token that it is alive.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(3);

/// How often a question's timer looks whether it has expired.
const TICK: Duration = Duration::from_millis(200);

/// Waits up to `wait.up_to` for `key`'s question to be answered (approved, declined, expired).
pub(super) fn for_press<'g>(
    gw: &'g Gateway,
    cc: &ConsentControls,
    key: &Key,
    wait: &Wait<'_>,
    said: &Said,
) -> Waited<'g> {
    let started = Instant::now();
    let states = gw.link().states();
    let mut next_progress = Duration::ZERO;
    loop {
        if let Some(why) = (wait.halted)() {
            return Waited::Halted(why);
        }
        let generation = states.generation();
        let mut board = gw.consent_board();
        let left = match board.poll(key, &seen(gw, cc), gw.clock().mono()) {
            Some(Step::Waiting { left }) => left,
            Some(step) => return Waited::Settled(board, step),
            None => return Waited::Gone,
        };
        drop(board);
        let waited = started.elapsed();
        if waited >= wait.up_to {
            return Waited::NoPress(waited);
        }
        if waited >= next_progress {
            (wait.progress)(
                waited.as_secs_f64().floor(),
                Some(wait.up_to.as_secs_f64()),
                &format!(
                    "waiting for a person to press '{}' in the Loxone app ({} s left)",
                    said.approve,
                    left.as_secs().max(1)
                ),
            );
            next_progress = waited + PROGRESS_EVERY;
        }
        states.wait_newer(generation, LOOK.min(wait.up_to - waited));
    }
}

/// Starts the timer that clears question `id` in the app when it expires. Without a thread
/// (the system refused one) the question is cleared at the next tool call, as before.
pub(super) fn expire_on_time(gw: &Gateway, id: u64) {
    let me = gw.weak();
    // A manual clock in tests may never reach the expiry: the thread gives up in real time.
    let give_up = gw.consent_board().window() + Duration::from_secs(30);
    let spawned = std::thread::Builder::new()
        .name("consent-expiry".into())
        .spawn(move || {
            let started = Instant::now();
            while started.elapsed() < give_up {
                std::thread::sleep(TICK);
                let Some(gw) = me.upgrade() else { return };
                if !still_shown(&gw, id) {
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        log::warn!(
            "consent in the app: no timer for question {id} ({e}); it is cleared at the next call"
        );
    }
}

/// Clears question `id` if it expired by now; false once it is no longer shown.
fn still_shown(gw: &Gateway, id: u64) -> bool {
    let shown = |b: &Board| b.current().is_some_and(|s| s.id == id);
    if !shown(&gw.consent_board()) {
        return false;
    }
    match gw.snapshot() {
        Ok(snap) => super::app::sweep(gw, &snap),
        Err(_) => {
            // No house to clear it in; the board forgets it all the same.
            gw.consent_board().sweep(gw.clock().mono());
        }
    }
    shown(&gw.consent_board())
}
