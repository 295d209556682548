//! How the stop's commands leave: all at once, never one round trip after another, and
//! each device reported with its own answer.
//!
//! Why this shape: the stop must reach the last of a few hundred motors within a few tens of
//! milliseconds, and no device may wait for another's answer. So the plain commands go out
//! pipelined on the link's authenticated websocket ([`Sender::pipelined`], see
//! `loxone::ws::pipeline` for why the protocol allows it), motors and their central objects
//! first, audio zones and saunas after. Commands that need a visualisation password (`ios`, a fresh salt
//! each) go over HTTP meanwhile, and so does every command the websocket could not take (the
//! link not live, the socket ended before it was sent or answered: a second `stop` is
//! harmless), with at most [`HTTP_AT_ONCE`] requests in flight (a Miniserver serves a few
//! connections, not hundreds). Nothing is assumed: a command sent on the socket whose answer
//! did not come in time is reported as not confirmed, with no code, and one failure never keeps
//! the others from going out.
//!
//! A stop this fast can overtake a command that passed its last check just before the latch
//! and is still on its way (a `getkey` round trip and the request, on a slow Miniserver
//! hundreds of milliseconds): that command would then move a motor the stop had just stopped.
//! So the commands under way at the latch are waited for, and their devices stopped once more
//! after their answers came ([`Sent::again`]); the stop reports only then. Every attempt is
//! kept ([`Sent::earlier`]) so that the audit log holds one result per command the Miniserver
//! may have received.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::loxone::client::Reply;
use crate::loxone::command::{Command, Op};
use crate::loxone::uuid::{ControlAddr, Uuid};
use crate::loxone::ws::Answered;
use crate::safety::Step;

/// HTTP requests of one stop in flight at once.
pub const HTTP_AT_ONCE: usize = 8;

/// How the stop reaches the Miniserver.
pub trait Sender: Sync {
    /// Whether there is a websocket to try at all (the direct stop of `loxwarden estop` without
    /// a daemon has none).
    fn has_websocket(&self) -> bool {
        true
    }
    /// Sends every command at once over an open websocket and returns each one's fate in
    /// order, or `Err` (why) when nothing was sent that way.
    fn pipelined(&self, cmds: &[Command]) -> Result<Vec<Answered>, String>;
    /// Sends one step over HTTP with its own answer (any thread).
    fn http(&self, step: &Step) -> Result<Reply, String>;
    /// How long a pipelined command's answer is awaited (for the report).
    fn timeout(&self) -> Duration;
    /// The commands under way (past their last check, not yet answered), asked right after
    /// the latch: ids and targets. None without a link.
    fn under_way(&self) -> Vec<(u64, ControlAddr)> {
        Vec::new()
    }
    /// Waits (bounded) until the commands `ids` have their answers; true when they all came.
    fn wait_landed(&self, _ids: &[u64]) -> bool {
        true
    }
}

/// What one step got back: the Miniserver's code and value, or why there is none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sent {
    pub code: Option<u16>,
    pub value: Option<String>,
    pub error: Option<String>,
    /// Earlier attempts for this device in this stop, oldest first, when the answer above is
    /// not the first: a `stop` the socket took and then lost (it may have arrived), or the first
    /// `stop` of a device stopped again after a command under way at the latch had its answer.
    /// The audit records each one.
    pub earlier: Vec<Sent>,
}

impl Sent {
    fn replied(code: u16, value: String) -> Sent {
        Sent {
            code: Some(code),
            value: Some(value),
            error: None,
            earlier: Vec::new(),
        }
    }

    /// Stopped a second time after a command under way at the latch (see [`send_all`]).
    pub fn again(&self) -> bool {
        self.earlier.iter().any(|e| e.error.is_none())
    }

    fn failed(why: String) -> Sent {
        Sent {
            error: Some(why),
            ..Sent::default()
        }
    }
}

/// The order the commands leave in: stops (motors, their central objects, irrigation) before
/// the rest (pauses, a sauna's `off`), each group in plan order. Returns indices into `steps`.
pub fn order(steps: &[Step]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..steps.len()).collect();
    idx.sort_by_key(|&i| steps[i].command.op != Op::Stop);
    idx
}

/// Sends every step and returns one [`Sent`] per step, in `steps` order. Call it after the
/// latch is set: a command under way at that moment (it passed its last check before the
/// latch) may still arrive after these stops, so once it has its answer, its device (a motor,
/// a central object or a zone of the plan) is stopped again.
pub fn send_all(steps: &[Step], sender: &dyn Sender) -> Vec<Sent> {
    let under_way = sender.under_way();
    let mut out = send_wave(steps, sender);
    if under_way.is_empty() {
        return out;
    }
    let ids: Vec<u64> = under_way.iter().map(|(id, _)| *id).collect();
    if !sender.wait_landed(&ids) {
        log::warn!(
            "emergency stop: a command under way when the stop latched had no answer in time; stopping its device again anyway"
        );
    }
    let touched: HashSet<Uuid> = under_way.iter().map(|(_, a)| a.uuid()).collect();
    let again: Vec<usize> = (0..steps.len())
        .filter(|&i| touched.contains(&steps[i].command.target.uuid()))
        .collect();
    if again.is_empty() {
        return out;
    }
    let sub: Vec<Step> = again.iter().map(|&i| steps[i].clone()).collect();
    for (&i, mut s) in again.iter().zip(send_wave(&sub, sender)) {
        let mut first = std::mem::take(&mut out[i]);
        let mut earlier = std::mem::take(&mut first.earlier);
        earlier.push(first);
        earlier.append(&mut s.earlier);
        s.earlier = earlier;
        out[i] = s;
    }
    out
}

/// One pass over `steps`: the plain ones pipelined, the secured ones and the socket's
/// leftovers over HTTP.
fn send_wave(steps: &[Step], sender: &dyn Sender) -> Vec<Sent> {
    let order = order(steps);
    let (secured, plain): (Vec<usize>, Vec<usize>) =
        order.into_iter().partition(|&i| steps[i].secured);
    let mut out: Vec<Option<Sent>> = vec![None; steps.len()];
    let (secured_sent, (plain_sent, again, lost)) = std::thread::scope(|scope| {
        // The secured ones go over HTTP while the socket carries the rest.
        let secured_job = scope.spawn(|| over_http(steps, &secured, sender));
        let piped = pipelined(steps, &plain, sender);
        let secured_sent = secured_job.join().unwrap_or_else(|_| {
            let why = "the sending thread failed".to_owned();
            secured
                .iter()
                .map(|&i| (i, Sent::failed(why.clone())))
                .collect()
        });
        (secured_sent, piped)
    });
    for (i, s) in secured_sent.into_iter().chain(plain_sent) {
        out[i] = Some(s);
    }
    // What the socket could not take goes over HTTP; a command the socket lost is on record.
    for (i, mut s) in over_http(steps, &again, sender) {
        if let Some((_, l)) = lost.iter().find(|(j, _)| *j == i) {
            s.earlier.insert(0, l.clone());
        }
        out[i] = Some(s);
    }
    out.into_iter()
        .map(|s| s.unwrap_or_else(|| Sent::failed("not sent".into())))
        .collect()
}

/// What went over the websocket: the answered and the unconfirmed steps, the steps left for
/// HTTP, and the record of those among them the socket had taken before it ended.
type Piped = (Vec<(usize, Sent)>, Vec<usize>, Vec<(usize, Sent)>);

/// The plain steps `which` over the websocket.
fn pipelined(steps: &[Step], which: &[usize], sender: &dyn Sender) -> Piped {
    if which.is_empty() {
        return (Vec::new(), Vec::new(), Vec::new());
    }
    if !sender.has_websocket() {
        return (Vec::new(), which.to_vec(), Vec::new());
    }
    let cmds: Vec<Command> = which.iter().map(|&i| steps[i].command.clone()).collect();
    let answers = match sender.pipelined(&cmds) {
        Ok(a) => a,
        Err(why) => {
            log::warn!("emergency stop: over HTTP, not the websocket: {why}");
            return (Vec::new(), which.to_vec(), Vec::new());
        }
    };
    let mut done = Vec::new();
    let mut again = Vec::new();
    let mut lost = Vec::new();
    for (&i, a) in which.iter().zip(answers) {
        match a {
            Answered::Reply(r) => done.push((i, Sent::replied(r.code, r.value_text()))),
            Answered::NoAnswer => done.push((
                i,
                Sent::failed(format!(
                    "sent over the websocket, but no answer came within {} s: not confirmed (the command may not have reached the Miniserver)",
                    sender.timeout().as_secs()
                )),
            )),
            Answered::NotSent => again.push(i),
            Answered::Lost => {
                again.push(i);
                lost.push((
                    i,
                    Sent::failed(
                        "sent over the websocket, which ended before the answer: the command may not have reached the Miniserver; sent again over HTTP"
                            .into(),
                    ),
                ));
            }
        }
    }
    if !again.is_empty() {
        log::warn!(
            "emergency stop: the websocket ended before {} command(s) were answered; sending them over HTTP",
            again.len()
        );
    }
    (done, again, lost)
}

/// The steps `which` over HTTP, at most [`HTTP_AT_ONCE`] at a time, in the order given.
fn over_http(steps: &[Step], which: &[usize], sender: &dyn Sender) -> Vec<(usize, Sent)> {
    if which.is_empty() {
        return Vec::new();
    }
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut mine = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::SeqCst);
            let Some(&i) = which.get(k) else {
                return mine;
            };
            let sent = match sender.http(&steps[i]) {
                Ok(r) => Sent::replied(r.code, r.value),
                Err(e) => Sent::failed(e),
            };
            mine.push((i, sent));
        }
    };
    let workers = HTTP_AT_ONCE.min(which.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(worker)).collect();
        let mut all: Vec<(usize, Sent)> = Vec::new();
        for h in handles {
            // A worker that failed leaves its steps unreported; they are filled in below.
            if let Ok(mine) = h.join() {
                all.extend(mine);
            }
        }
        for &i in which {
            if !all.iter().any(|(j, _)| *j == i) {
                all.push((i, Sent::failed("the sending thread failed".into())));
            }
        }
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    use crate::house::DevId;
    use crate::loxone::ll::LlReply;
    use crate::loxone::uuid::ControlAddr;

    fn step(n: u8, op: Op, secured: bool) -> Step {
        let addr =
            ControlAddr::parse(&format!("0b734138-037d-034e-ffff403fb0c34b{n:02x}")).unwrap();
        Step {
            device: DevId(u32::from(n)),
            command: Command::new(addr, op),
            pause_before: Duration::ZERO,
            secured,
        }
    }

    /// A sender whose socket answers per a script and whose HTTP answers 200, recording both.
    struct Fake {
        socket: Option<Vec<Answered>>,
        piped: Mutex<Vec<String>>,
        http: Mutex<Vec<String>>,
    }

    impl Sender for Fake {
        fn pipelined(&self, cmds: &[Command]) -> Result<Vec<Answered>, String> {
            self.piped
                .lock()
                .unwrap()
                .extend(cmds.iter().map(Command::io_path));
            self.socket
                .clone()
                .ok_or_else(|| "link not live".to_owned())
        }
        fn http(&self, step: &Step) -> Result<Reply, String> {
            self.http.lock().unwrap().push(step.command.io_path());
            Ok(Reply {
                code: 200,
                value: "1".into(),
                control: step.command.io_path(),
            })
        }
        fn timeout(&self) -> Duration {
            Duration::from_secs(5)
        }
    }

    fn ll(code: u16) -> Answered {
        Answered::Reply(LlReply {
            control: String::new(),
            code,
            value: serde_json::Value::String("1".into()),
        })
    }

    #[test]
    fn r11_stops_leave_before_pauses_each_in_plan_order() {
        let steps = [
            step(1, Op::Pause, false),
            step(2, Op::Stop, false),
            step(3, Op::PauseV2, false),
            step(4, Op::Stop, false),
        ];
        assert_eq!(order(&steps), [1, 3, 0, 2]);
    }

    #[test]
    fn r11_each_device_gets_its_own_answer_and_an_unanswered_one_is_not_confirmed() {
        let steps = [
            step(1, Op::Stop, false),
            step(2, Op::Stop, false),
            step(3, Op::Pause, false),
        ];
        let fake = Fake {
            socket: Some(vec![ll(200), Answered::NoAnswer, ll(500)]),
            piped: Mutex::default(),
            http: Mutex::default(),
        };
        let out = send_all(&steps, &fake);
        assert_eq!(out[0], Sent::replied(200, "1".into()));
        assert_eq!(
            out[1].code, None,
            "never a code for an answer that did not come"
        );
        assert!(
            out[1].error.as_deref().unwrap().contains("not confirmed"),
            "{:?}",
            out[1]
        );
        assert_eq!(out[2], Sent::replied(500, "1".into()));
        assert!(
            fake.http.lock().unwrap().is_empty(),
            "an unanswered stop is not sent twice"
        );
    }

    #[test]
    fn r11_what_the_socket_could_not_take_goes_over_http_and_secured_ones_always_do() {
        let steps = [
            step(1, Op::Stop, false),
            step(2, Op::Stop, true),
            step(3, Op::Stop, false),
            step(4, Op::Stop, false),
        ];
        let fake = Fake {
            socket: Some(vec![ll(200), Answered::Lost, Answered::NotSent]),
            piped: Mutex::default(),
            http: Mutex::default(),
        };
        let out = send_all(&steps, &fake);
        assert!(out.iter().all(|s| s.code == Some(200)), "{out:?}");
        let piped = fake.piped.lock().unwrap().clone();
        assert_eq!(piped.len(), 3, "the secured one never goes on the socket");
        let mut http = fake.http.lock().unwrap().clone();
        http.sort();
        let mut want: Vec<String> = [1, 2, 3]
            .iter()
            .map(|&i| steps[i].command.io_path())
            .collect();
        want.sort();
        assert_eq!(http, want);
    }

    /// A sender with one command under way to `target` when the stop latched.
    struct Busy {
        inner: Fake,
        target: ControlAddr,
        waited: Mutex<Vec<u64>>,
    }

    impl Sender for Busy {
        fn pipelined(&self, cmds: &[Command]) -> Result<Vec<Answered>, String> {
            self.inner.pipelined(cmds)?;
            Ok(vec![ll(200); cmds.len()])
        }
        fn http(&self, step: &Step) -> Result<Reply, String> {
            self.inner.http(step)
        }
        fn timeout(&self) -> Duration {
            self.inner.timeout()
        }
        fn under_way(&self) -> Vec<(u64, ControlAddr)> {
            vec![(7, self.target.clone())]
        }
        fn wait_landed(&self, ids: &[u64]) -> bool {
            self.waited.lock().unwrap().extend_from_slice(ids);
            true
        }
    }

    #[test]
    fn r11_a_device_with_a_command_under_way_at_the_latch_is_stopped_again_after_its_answer() {
        let steps = [
            step(1, Op::Stop, false),
            step(2, Op::Stop, false),
            step(3, Op::Pause, false),
        ];
        let busy = Busy {
            inner: Fake {
                socket: Some(Vec::new()),
                piped: Mutex::default(),
                http: Mutex::default(),
            },
            // A sub-control of the second blind: its device is the blind.
            target: ControlAddr::parse(&format!("{}/sub1", steps[1].command.target)).unwrap(),
            waited: Mutex::default(),
        };
        let out = send_all(&steps, &busy);
        assert_eq!(
            *busy.waited.lock().unwrap(),
            [7],
            "waited for the command under way"
        );
        let piped = busy.inner.piped.lock().unwrap().clone();
        let second = steps[1].command.io_path();
        assert_eq!(
            piped.iter().filter(|c| **c == second).count(),
            2,
            "the blind is stopped again: {piped:?}"
        );
        assert_eq!(piped.len(), 4, "only that one: {piped:?}");
        assert!(out[1].again() && out[1].code == Some(200), "{:?}", out[1]);
        assert_eq!(
            out[1].earlier.len(),
            1,
            "the first answer is kept for the audit"
        );
        assert!(!out[0].again() && !out[2].again());
    }

    #[test]
    fn r11_with_the_link_down_every_step_goes_over_http() {
        let steps: Vec<Step> = (0..20).map(|n| step(n, Op::Stop, false)).collect();
        let fake = Fake {
            socket: None,
            piped: Mutex::default(),
            http: Mutex::default(),
        };
        let out = send_all(&steps, &fake);
        assert_eq!(out.len(), 20);
        assert!(out.iter().all(|s| s.code == Some(200)));
        assert_eq!(fake.http.lock().unwrap().len(), 20);
    }
}
