//! One websocket session of the simulated Miniserver (`/ws/rfc6455`, subprotocol
//! `remotecontrol`): commands in, replies and event tables out, each message preceded by its
//! 8-byte header in a binary frame (CWM "Understanding the messages"; decision 10).
//!
//! The loop polls the socket with a short read timeout so it can interleave pushed events,
//! enforce the authentication deadline (code 420, decision 8) and the 5-minute silence rule
//! (CWM "Keeping the connection alive").
//!
//! Several commands may be in flight on one socket (a client that sends before the previous
//! answer came, as LxCommunicator.NET can): each is carried out and logged when it arrives, and
//! its answer goes out in arrival order once the reply delay knob has passed for it, so a
//! slow Miniserver is slow per answer, not per queue. The knob `never_answer` withholds the
//! answers to one control (a reply lost on the way).
use std::collections::VecDeque;
use std::io::ErrorKind;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, Instant};

use tungstenite::protocol::{Role, WebSocket};
use tungstenite::{Error as WsError, Message};

use super::api::{self, Ctx, Reply, Socket};
use super::house::Changes;
use super::http::Conn;
use super::log::Channel;
use super::server::{Push, Shared};
use super::wire::{self, MsgKind};

/// How long a session blocks reading before it looks at its event queue again: the delay
/// between a state change and its event table. A real Miniserver sends at once; 20 ms here
/// showed up as 10 ms of "gateway overhead" in every read-back (issue 8's benchmark).
const POLL: Duration = Duration::from_millis(2);

type Ws = WebSocket<Conn>;

fn send_header(ws: &mut Ws, kind: MsgKind, len: usize) -> Result<(), WsError> {
    ws.send(Message::Binary(
        wire::header(kind, len, false).to_vec().into(),
    ))
}

fn send_text(ws: &mut Ws, text: String) -> Result<(), WsError> {
    send_header(ws, MsgKind::Text, text.len())?;
    ws.send(Message::Text(text.into()))
}

fn send_tables(ws: &mut Ws, c: &Changes, always: bool) -> Result<(), WsError> {
    if always || !c.numbers.is_empty() {
        let t = wire::value_table(c.numbers.iter().map(|(u, v)| (u, *v)));
        send_header(ws, MsgKind::ValueEvents, t.len())?;
        ws.send(Message::Binary(t.into()))?;
    }
    if always || !c.texts.is_empty() {
        let t = wire::text_table(c.texts.iter().map(|(u, v)| (u, v.as_str())));
        send_header(ws, MsgKind::TextEvents, t.len())?;
        ws.send(Message::Binary(t.into()))?;
    }
    Ok(())
}

/// Enables status updates: the initial tables, taken under the house lock after discarding
/// queued deltas (which are older than the snapshot), so no stale value follows them.
fn enable_status(sh: &Shared, ws: &mut Ws, rx: &Receiver<Push>) -> Result<bool, WsError> {
    let (all, out_of_service) = {
        let house = sh.house();
        let mut oos = false;
        while let Ok(p) = rx.try_recv() {
            if matches!(p, Push::OutOfService) {
                oos = true;
            }
        }
        (house.all_states(), oos)
    };
    send_tables(ws, &all, true)?;
    Ok(out_of_service)
}

/// A command's answer waiting for its time.
struct Queued {
    due: Instant,
    /// `None`: withheld (`never_answer`).
    reply: Option<Reply>,
    /// Sending it turns status updates on (the answer to `enablebinstatusupdate`).
    enables_status: bool,
}

fn send_reply(ws: &mut Ws, reply: Reply) -> Result<(), WsError> {
    match reply {
        Reply::Ll(ll) => send_text(ws, ll.to_json()),
        Reply::File(f) => send_text(ws, f.to_string()),
        Reply::Sealed(text) => send_text(ws, text),
        Reply::Keepalive => send_header(ws, MsgKind::Keepalive, 0),
        // Cannot happen on a socket (authentication is the socket's); answer 401.
        Reply::Unauthorized => send_text(
            ws,
            r#"{"LL":{"control":"","value":"","Code":"401"}}"#.into(),
        ),
    }
}

fn close(ws: &mut Ws) {
    let _ = ws.close(None);
    let _ = ws.flush();
}

/// Sends the answers whose time has come, in arrival order (a withheld one is dropped when
/// due). True when the session must end (out of service while enabling status updates).
fn answer_due(
    sh: &Shared,
    ws: &mut Ws,
    rx: &Receiver<Push>,
    queue: &mut VecDeque<Queued>,
    status_on: &mut bool,
) -> Result<bool, WsError> {
    let now = Instant::now();
    while queue.front().is_some_and(|q| q.due <= now) {
        let Some(q) = queue.pop_front() else { break };
        if let Some(reply) = q.reply {
            send_reply(ws, reply)?;
        }
        if q.enables_status {
            *status_on = true;
            if enable_status(sh, ws, rx)? {
                send_header(ws, MsgKind::OutOfService, 0)?;
                close(ws);
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Runs one session until the client leaves, the simulator stops or a fault ends it.
pub fn serve(sh: &Arc<Shared>, conn: Conn, buffered: Vec<u8>, channel: Channel, id: u64) {
    let _ = conn.tcp().set_read_timeout(Some(POLL));
    let mut ws = WebSocket::from_partially_read(conn, buffered, Role::Server, None);
    let (tx, rx) = mpsc::channel();
    sh.subscribe(id, tx);
    let result = session(sh, &mut ws, &rx, channel, id);
    sh.unsubscribe(id);
    if let Err(e) = result {
        log::debug!("sim: websocket {id} ended: {e}");
    }
}

fn session(
    sh: &Arc<Shared>,
    ws: &mut Ws,
    rx: &Receiver<Push>,
    channel: Channel,
    id: u64,
) -> Result<(), WsError> {
    let opened = Instant::now();
    let mut last_rx = Instant::now();
    let mut sock = Socket::default();
    let mut status_on = false;
    let mut queue: VecDeque<Queued> = VecDeque::new();
    loop {
        if sh.stopping() || !sh.is_registered(id) {
            close(ws);
            return Ok(());
        }
        loop {
            match rx.try_recv() {
                Ok(Push::Events(c)) => {
                    if status_on {
                        send_tables(ws, &c, false)?;
                    }
                }
                Ok(Push::OutOfService) => {
                    send_header(ws, MsgKind::OutOfService, 0)?;
                    close(ws);
                    return Ok(());
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return Ok(()),
            }
        }
        if sh.hung() {
            std::thread::sleep(POLL);
            continue;
        }
        if answer_due(sh, ws, rx, &mut queue, &mut status_on)? {
            return Ok(());
        }
        if sock.user.is_none() && opened.elapsed() > sh.auth_timeout {
            send_text(ws, wire::ll_420())?;
            close(ws);
            return Ok(());
        }
        if last_rx.elapsed() > sh.idle_timeout {
            close(ws);
            return Ok(());
        }
        match ws.read() {
            Ok(Message::Text(text)) => {
                // A hang that began while this message was arriving holds it unanswered.
                while sh.hung() && !sh.stopping() && sh.is_registered(id) {
                    std::thread::sleep(POLL);
                }
                last_rx = Instant::now();
                let reply = {
                    let mut ctx = Ctx {
                        ch: channel,
                        basic: None,
                        sock: Some(&mut sock),
                        encrypted: false,
                    };
                    api::handle(sh, text.as_str(), &mut ctx)
                };
                let enables_status =
                    sock.enable_status && !status_on && !queue.iter().any(|q| q.enables_status);
                queue.push_back(Queued {
                    due: last_rx + sh.delay(),
                    reply: (!sh.silenced(text.as_str())).then_some(reply),
                    enables_status,
                });
                sh.note_ws_in_flight(queue.len());
                // Without a delay the answer goes out before the next command is read.
                if answer_due(sh, ws, rx, &mut queue, &mut status_on)? {
                    return Ok(());
                }
            }
            Ok(Message::Close(_)) => {
                let _ = ws.flush();
                return Ok(());
            }
            Ok(_) => last_rx = Instant::now(),
            Err(WsError::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                let _ = ws.flush();
            }
            Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
