//! The emergency stop's commands over the link's own websocket, all in flight at once.
//!
//! Why through the link thread: the websocket is already open and authenticated, so the stop
//! costs no connection, no key exchange and no per-command authentication (over plain HTTP every
//! command needs a `getkey` round trip and an encrypted request of its own). Only the link
//! thread reads and writes that socket (the rumqttc split: a handle hands requests to the event
//! loop), so a caller hands it a [`Job`] and waits; the thread takes it at its next turn (at most
//! one `ws::POLL` later), sends every command pipelined (`ws::Ws::pipeline`), keeps applying the
//! event tables that arrive meanwhile, and hands back each command's own answer.
//!
//! A job the thread does not take within [`PICKUP`] (it is busy with a slow structure check,
//! or the session just ended) is withdrawn and the caller sends over HTTP instead; a taken job
//! is always finished, also when the socket fails half-way ([`Answered::Lost`]).

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{Link, SendError};
use crate::loxone::auth::AuthError;
use crate::loxone::command::Command;
use crate::loxone::errors::LinkError;
use crate::loxone::events::Frame;
use crate::loxone::health::Event;
use crate::loxone::ws::{self, Answered, WsEnd};

/// How long a caller waits for the link thread to take its job before sending another way.
pub const PICKUP: Duration = Duration::from_millis(250);

/// Commands unanswered at once on the socket.
pub const WINDOW: usize = 64;

enum Phase {
    Waiting,
    /// The thread sends it; answers are awaited until this instant.
    Taken(Instant),
    Done(Vec<Answered>),
}

/// Commands handed to the link thread, and what became of them.
pub(super) struct Job {
    cmds: Vec<String>,
    /// How long the answers are awaited once the thread has taken the job.
    timeout: Duration,
    phase: Mutex<Phase>,
    changed: Condvar,
}

impl Job {
    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn finish(&self, answers: Vec<Answered>) {
        *self.phase() = Phase::Done(answers);
        self.changed.notify_all();
    }
}

/// Finishes a taken job however the thread leaves it (an answer for every command).
struct Finish<'a> {
    job: &'a Job,
    answers: Option<Vec<Answered>>,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        let answers = self
            .answers
            .take()
            .unwrap_or_else(|| vec![Answered::Lost; self.job.cmds.len()]);
        self.job.finish(answers);
    }
}

impl Link {
    /// Sends `cmds` over the link's websocket, all in flight at once (at most [`WINDOW`]
    /// unanswered), and returns each one's fate in `cmds` order, waiting for answers at most
    /// `timeout`. For the emergency stop: no structure check and no gate, only that the link is
    /// live. `Err` when nothing was sent this way (the link is not live, or its thread did not
    /// take the job within [`PICKUP`]): send another way.
    pub fn send_pipelined(
        &self,
        cmds: &[Command],
        timeout: Duration,
    ) -> Result<Vec<Answered>, SendError> {
        let h = self.health();
        if !h.is_live() {
            return Err(SendError::NotLive(h));
        }
        let job = Arc::new(Job {
            cmds: cmds.iter().map(Command::io_path).collect(),
            timeout,
            phase: Mutex::new(Phase::Waiting),
            changed: Condvar::new(),
        });
        self.jobs().push(Arc::clone(&job));
        let picked_by = Instant::now() + PICKUP;
        let mut phase = job.phase();
        loop {
            match &mut *phase {
                Phase::Done(answers) => return Ok(std::mem::take(answers)),
                Phase::Waiting if Instant::now() >= picked_by => {
                    drop(phase);
                    let withdrawn = {
                        let mut jobs = self.jobs();
                        let before = jobs.len();
                        jobs.retain(|j| !Arc::ptr_eq(j, &job));
                        jobs.len() < before
                    };
                    if withdrawn {
                        return Err(SendError::NotSent(LinkError::Protocol(format!(
                            "the link thread did not take the commands within {} ms",
                            PICKUP.as_millis()
                        ))));
                    }
                    // Taken meanwhile (under the same lock): it runs, wait for it.
                    phase = job.phase();
                }
                _ => {
                    // The thread always finishes a taken job; the bound is for a thread that died.
                    let until = match *phase {
                        Phase::Taken(deadline) => deadline + Duration::from_secs(1),
                        _ => picked_by,
                    };
                    let now = Instant::now();
                    if now >= until {
                        return Ok(vec![Answered::Lost; cmds.len()]);
                    }
                    phase = job
                        .changed
                        .wait_timeout(phase, until - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }

    fn jobs(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Job>>> {
        self.bursts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// On the link thread: runs every waiting job on `sock`. Frames that arrive meanwhile are
    /// applied; a keepalive answer among them sets `saw_keepalive`. `Err` when the socket ended
    /// (or the token was refused): the session is over.
    pub(super) fn run_bursts(
        &self,
        sock: &mut ws::Ws,
        saw_keepalive: &mut bool,
    ) -> Result<(), Event> {
        loop {
            // Taken under the queue's lock, so a caller withdrawing it sees one or the other.
            let job = {
                let mut jobs = self.jobs();
                if jobs.is_empty() {
                    return Ok(());
                }
                let job = jobs.remove(0);
                *job.phase() = Phase::Taken(Instant::now() + job.timeout);
                job
            };
            job.changed.notify_all();
            let mut finish = Finish {
                job: &job,
                answers: None,
            };
            let mut on_frame = |f: Frame| {
                if matches!(f, Frame::Keepalive) {
                    *saw_keepalive = true;
                }
                self.apply(f);
            };
            let deadline = match *job.phase() {
                Phase::Taken(d) => d,
                _ => Instant::now() + job.timeout,
            };
            let (answers, ended) = sock.pipeline(&job.cmds, WINDOW, deadline, &mut on_frame);
            // Answers are signs of life like any other frame.
            if answers.iter().any(|a| matches!(a, Answered::Reply(_))) {
                self.alive();
            }
            let refused = answers
                .iter()
                .any(|a| matches!(a, Answered::Reply(r) if r.code == 401));
            finish.answers = Some(answers);
            drop(finish);
            if let Some(e) = ended {
                return Err(lost(e));
            }
            if refused {
                return Err(Event::TokenRefused(
                    "a command was answered with LL 401 (token refused)".into(),
                ));
            }
        }
    }
}

/// The link event for a socket that ended during a burst (as the live loop maps them).
fn lost(e: WsEnd) -> Event {
    match e {
        WsEnd::OutOfService
        | WsEnd::Closed {
            code: Some(4007), ..
        } => Event::OutOfService,
        WsEnd::Closed {
            code: Some(4003), ..
        } => Event::TokenRefused(AuthError::Blocked.to_string()),
        e => Event::SocketLost(e.to_string()),
    }
}
