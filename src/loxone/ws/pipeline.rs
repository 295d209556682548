//! Several commands in flight on one authenticated websocket: send them without waiting for
//! each answer, then match every answer to its command by the `control` it names.
//!
//! Why: a command waits one Miniserver round trip for its answer; the emergency stop has a few
//! hundred commands, which one after another take a few hundred round trips. On the websocket
//! the Miniserver answers each command with an LL envelope whose `control` is the command itself
//! ("the answer will contain 'dev' instead of 'jdev'", CWM), so an answer can be told to its
//! command without waiting. Loxone's LxCommunicator.NET keeps a list of the requests sent on its
//! socket and hands every answer to the one whose command equals the answer's `control`
//! (`WebsocketWebserviceClient.HandleWebserviceResponse`, `DefaultWebserviceComparer`: trimmed,
//! without a leading `/`, `jdev` read as `dev`, case-insensitive); [`same_command`] compares the
//! same way. Loxone's JavaScript LxCommunicator sends one command at a time instead; the
//! document neither asks for that nor forbids more (docs/protocol-review.md, row 23).
//!
//! At most `window` commands are unanswered at once, so a Miniserver that answers slowly never
//! has more than that queued, and neither side can fill the other's buffers while it is not
//! reading. Nothing is assumed: a command without an answer by the deadline is
//! [`Answered::NoAnswer`], one the socket ended before is [`Answered::Lost`] (it may have
//! arrived) or [`Answered::NotSent`].

use std::collections::VecDeque;
use std::time::Instant;

use tungstenite::Message;

use super::{Ws, WsEnd};
use crate::loxone::events::Frame;
use crate::loxone::ll::{self, LlReply};

/// What became of one command of a burst.
#[derive(Clone, Debug, PartialEq)]
pub enum Answered {
    /// The Miniserver's answer to it.
    Reply(LlReply),
    /// Sent; no answer came by the deadline. Not confirmed.
    NoAnswer,
    /// Never sent: the socket ended (or the deadline passed) before its turn.
    NotSent,
    /// Sent, then the socket ended before its answer came: it may or may not have arrived.
    Lost,
}

/// Whether an answer naming `control` is the answer to the command `sent`, compared as
/// LxCommunicator.NET compares them.
pub fn same_command(sent: &str, control: &str) -> bool {
    fn normal(s: &str) -> &str {
        let s = s.trim().trim_start_matches('/');
        match s.get(..4) {
            Some(p) if p.eq_ignore_ascii_case("jdev") => &s[1..],
            _ => s,
        }
    }
    let (a, b) = (normal(sent), normal(control));
    !a.is_empty() && a.eq_ignore_ascii_case(b)
}

/// The bookkeeping of one burst: which command goes next, which wait for their answer.
struct Burst<'a> {
    cmds: &'a [String],
    out: Vec<Answered>,
    next: usize,
    waiting: VecDeque<usize>,
}

impl Burst<'_> {
    /// Hands `reply` to the oldest waiting command it answers; false if it answers none.
    fn answer(&mut self, reply: LlReply) -> bool {
        let Some(pos) = self
            .waiting
            .iter()
            .position(|&i| same_command(&self.cmds[i], &reply.control))
        else {
            return false;
        };
        if let Some(i) = self.waiting.remove(pos) {
            self.out[i] = Answered::Reply(reply);
        }
        true
    }

    /// The socket ended: what was sent may have arrived, the rest was not sent.
    fn lost(mut self) -> Vec<Answered> {
        for i in self.waiting.drain(..) {
            self.out[i] = Answered::Lost;
        }
        self.out
    }
}

impl Ws {
    /// Sends `cmds` (plain command paths for an authenticated socket) with up to `window`
    /// unanswered at once, and collects the answers until all came or `deadline` passed.
    /// Frames that are not answers to these commands (event tables, a keepalive answer, other
    /// text) go to `other`. Returns one [`Answered`] per command, in `cmds` order, and how the
    /// socket ended if it did (then the link must reconnect).
    pub fn pipeline(
        &mut self,
        cmds: &[String],
        window: usize,
        deadline: Instant,
        other: &mut dyn FnMut(Frame),
    ) -> (Vec<Answered>, Option<WsEnd>) {
        let mut b = Burst {
            cmds,
            out: vec![Answered::NotSent; cmds.len()],
            next: 0,
            waiting: VecDeque::new(),
        };
        let window = window.max(1);
        loop {
            let mut wrote = false;
            while b.next < cmds.len() && b.waiting.len() < window && Instant::now() < deadline {
                if let Err(e) = self.socket.write(Message::text(cmds[b.next].as_str())) {
                    return (b.lost(), Some(WsEnd::Io(e.to_string())));
                }
                b.waiting.push_back(b.next);
                b.next += 1;
                wrote = true;
            }
            if wrote && let Err(e) = self.socket.flush() {
                return (b.lost(), Some(WsEnd::Io(e.to_string())));
            }
            if b.waiting.is_empty() && b.next == cmds.len() {
                return (b.out, None);
            }
            if Instant::now() >= deadline {
                for i in b.waiting.drain(..) {
                    b.out[i] = Answered::NoAnswer;
                }
                return (b.out, None);
            }
            match self.poll() {
                Ok(Some(Frame::Text(t))) => match ll::parse(&t) {
                    Ok(reply) => {
                        if !b.answer(reply) {
                            other(Frame::Text(t));
                        }
                    }
                    Err(_) => other(Frame::Text(t)),
                },
                Ok(Some(Frame::OutOfService)) => return (b.lost(), Some(WsEnd::OutOfService)),
                Ok(Some(f)) => other(f),
                Ok(None) => {}
                Err(e) => return (b.lost(), Some(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_names_its_command_with_dev_for_jdev_in_any_case() {
        let cmd = "jdev/sps/io/0b734138-037d-034e-ffff403fb0c34b9e/stop";
        assert!(same_command(
            cmd,
            "dev/sps/io/0b734138-037d-034e-ffff403fb0c34b9e/stop"
        ));
        assert!(same_command(
            cmd,
            " /JDEV/sps/io/0B734138-037D-034E-FFFF403FB0C34B9E/Stop"
        ));
        assert!(!same_command(
            cmd,
            "dev/sps/io/0b734138-037d-034e-ffff403fb0c34b9f/stop"
        ));
        assert!(!same_command(
            cmd,
            "dev/sps/io/0b734138-037d-034e-ffff403fb0c34b9e/up"
        ));
        assert!(!same_command("", ""));
    }

    #[test]
    fn each_answer_goes_to_the_oldest_waiting_command_it_names() {
        let cmds: Vec<String> = [
            "jdev/sps/io/a/stop",
            "jdev/sps/io/b/stop",
            "jdev/sps/io/a/stop",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut b = Burst {
            cmds: &cmds,
            out: vec![Answered::NotSent; 3],
            next: 3,
            waiting: VecDeque::from([0, 1, 2]),
        };
        let reply = |control: &str, code| LlReply {
            control: control.into(),
            code,
            value: serde_json::Value::String("1".into()),
        };
        // Answers out of order are still matched by what they name.
        assert!(b.answer(reply("dev/sps/io/b/stop", 200)));
        assert!(b.answer(reply("dev/sps/io/a/stop", 500)));
        assert!(
            !b.answer(reply("dev/sps/io/c/stop", 200)),
            "answers nothing sent"
        );
        assert_eq!(b.out[0], Answered::Reply(reply("dev/sps/io/a/stop", 500)));
        assert_eq!(b.out[1], Answered::Reply(reply("dev/sps/io/b/stop", 200)));
        assert_eq!(b.out[2], Answered::NotSent);
        // The socket ends: the one still waiting may have arrived.
        let out = b.lost();
        assert_eq!(out[2], Answered::Lost);
    }
}
