//! The device's lane: at most one plan per device in flight, from its decision to its last
//! command and read-back.
//!
//! Why a stage of its own: the guard decides on values (the setpoint now, the volume now), and
//! a decision is only as good as the moment it was made. Two calls to the same device that
//! run side by side both decide against the same old value, and both pass a rule that only
//! one of them may pass (two setpoints from 21 °C, to 27 and to 15, each within the 6 °C
//! step; six overlapping volume rises, each "+10"). With one lane per device, a call decides
//! only when the device's previous plan has finished and its state has been read back, so
//! every limit that depends on the current value is computed against the latest one.
//!
//! The rule per kind of plan ([`Phase`]), when a second call reaches a busy device:
//! - the lane's plan is **asking a person** (consent): the second call is refused at once,
//!   naming the open question, so one device never has two questions open (a person is not
//!   asked twelve times about one door);
//! - the lane's plan is a **ramp** (a volume rise in steps, R-15): the ramp is cancelled
//!   before its next step ("superseded by a later call"), and the second call goes on as soon
//!   as the ramp has stopped: the latest wish wins, and a ramp never fights a newer command;
//! - the lane's plan is **sending** anything else: the second call waits (bounded) for it,
//!   then decides against what that plan left behind.
//!
//! A scene or central object holds its own lane and the lane of every device it acts on (taken
//! together, or none: two scenes sharing a blind cannot each hold half): a blind moved by "All
//! Blinds" is in no other plan meanwhile, and a call to that blind waits for the scene.
//!
//! The emergency stop takes no lane: it waits for nothing and cancels every ramp in flight.
//! Pure bookkeeping under one mutex and a condition variable; no I/O.

pub mod commanded;
pub mod recheck;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::loxone::uuid::ControlAddr;
use crate::safety::Refusal;

/// What the plan holding a lane is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Being decided (no question, nothing sent yet).
    Deciding,
    /// Waiting for a person's answer.
    Asking,
    /// Sending a plan of one command (or several without pauses).
    Sending,
    /// Sending a ramp: commands with pauses between them, cancelled by a newer call.
    Ramping,
}

struct Holder {
    plan: u64,
    phase: Phase,
    /// Set to cancel the holder's remaining steps; the reason is in `Lanes::why`.
    cancel: Arc<Cancel>,
}

/// A plan's cancellation: set once, with the reason its remaining steps are not sent.
#[derive(Debug, Default)]
pub struct Cancel {
    set: AtomicBool,
    why: Mutex<Option<String>>,
}

impl Cancel {
    fn set(&self, why: &str) {
        let mut w = self.why.lock().unwrap_or_else(|e| e.into_inner());
        if w.is_none() {
            *w = Some(why.to_owned());
        }
        self.set.store(true, Ordering::SeqCst);
    }

    /// Why the plan's remaining steps must not be sent, once cancelled.
    pub fn reason(&self) -> Option<String> {
        if !self.set.load(Ordering::SeqCst) {
            return None;
        }
        self.why.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Every device's lane.
#[derive(Default)]
pub struct Lanes {
    held: Mutex<HashMap<ControlAddr, Holder>>,
    freed: Condvar,
    next: AtomicU64,
    /// When each zone's volume was last raised, by any plan (R-15 paces rises per zone).
    rises: Mutex<HashMap<ControlAddr, Instant>>,
    /// Values commanded and not yet reported back (see `commanded`).
    commanded: commanded::Commanded,
}

/// The lanes held by one plan (its device's, and a scene's members'); released on drop.
pub struct Lane<'a> {
    lanes: &'a Lanes,
    /// The plan's own device.
    addr: ControlAddr,
    /// Every lane held, the plan's own device first.
    held: Vec<ControlAddr>,
    plan: u64,
    cancel: Arc<Cancel>,
}

impl Lanes {
    pub fn new() -> Lanes {
        Lanes::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ControlAddr, Holder>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes `addr`'s lane for a new plan, by the rule in the module docs: refused at once
    /// while a question about the device is open, a ramp is cancelled, anything else is waited
    /// for up to `wait`. `label` names the device in a refusal.
    pub fn enter(
        &self,
        addr: &ControlAddr,
        label: &str,
        wait: Duration,
    ) -> Result<Lane<'_>, Refusal> {
        self.enter_all(&[(addr.clone(), label.to_owned())], wait)
    }

    /// Takes the lanes of every device in `devices` (the plan's own first, then the devices a
    /// scene acts on) together, by the same rule for each; none is held while another is busy.
    pub fn enter_all(
        &self,
        devices: &[(ControlAddr, String)],
        wait: Duration,
    ) -> Result<Lane<'_>, Refusal> {
        let (addr, label) = devices.first().expect("a plan has a device");
        let deadline = Instant::now() + wait;
        let mut held = self.lock();
        loop {
            let mut free = true;
            for (a, l) in devices {
                match held.get(a) {
                    None => {}
                    Some(h) if h.phase == Phase::Asking => {
                        return Err(Refusal::new(
                            "SC-5",
                            format!(
                                "a question about {l} is already open (another call of the AI is waiting for a person's answer); one question per device at a time. Nothing was sent"
                            ),
                        ));
                    }
                    Some(h) => {
                        if h.phase == Phase::Ramping {
                            h.cancel.set(&format!(
                                "not sent: superseded by a later call to {l} (the ramp stopped there)"
                            ));
                        }
                        free = false;
                    }
                }
            }
            if free {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Refusal::new(
                    "R-13",
                    format!(
                        "{label} is still busy with another call after {} s (one plan per device at a time). Nothing was sent; ask again",
                        wait.as_secs()
                    ),
                ));
            }
            held = self
                .freed
                .wait_timeout(held, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let plan = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let cancel = Arc::new(Cancel::default());
        let mut taken = Vec::with_capacity(devices.len());
        for (a, _) in devices {
            if taken.contains(a) {
                continue;
            }
            held.insert(
                a.clone(),
                Holder {
                    plan,
                    phase: Phase::Deciding,
                    cancel: cancel.clone(),
                },
            );
            taken.push(a.clone());
        }
        Ok(Lane {
            lanes: self,
            addr: addr.clone(),
            held: taken,
            plan,
            cancel,
        })
    }

    /// Cancels the remaining steps of the plans holding any of `addrs`, whatever they are doing
    /// (a stop to those devices goes out now and must not be followed by their next command).
    pub fn cancel_plans_on(&self, addrs: &[ControlAddr], why: &str) {
        let held = self.lock();
        for a in addrs {
            if let Some(h) = held.get(a) {
                h.cancel.set(why);
            }
        }
    }

    /// Cancels every ramp in flight (the emergency stop): their next steps are not sent.
    pub fn cancel_ramps(&self, why: &str) {
        for h in self.lock().values() {
            if h.phase == Phase::Ramping {
                h.cancel.set(why);
            }
        }
    }

    /// The values plans set that the Miniserver has not reported back yet.
    pub fn commanded(&self) -> &commanded::Commanded {
        &self.commanded
    }

    /// How many lanes are held now.
    pub fn busy(&self) -> usize {
        self.lock().len()
    }
}

impl Lane<'_> {
    /// Says what the plan does now (see [`Phase`]).
    pub fn set_phase(&self, phase: Phase) {
        let mut held = self.lanes.lock();
        for a in &self.held {
            if let Some(h) = held.get_mut(a)
                && h.plan == self.plan
            {
                h.phase = phase;
            }
        }
        drop(held);
        // Calls waiting for this lane look again: a question now open refuses them at once,
        // a ramp now running is theirs to supersede.
        self.lanes.freed.notify_all();
    }

    /// Why the plan's remaining steps must not be sent, once a newer call or the emergency
    /// stop cancelled it.
    pub fn cancelled(&self) -> Option<String> {
        self.cancel.reason()
    }

    /// How long this device must still wait before its volume may rise again: `pace` after
    /// the last rise, whichever plan sent it (zero when it may rise now).
    pub fn rise_wait(&self, pace: Duration) -> Duration {
        let rises = self.lanes.rises.lock().unwrap_or_else(|e| e.into_inner());
        rises
            .get(&self.addr)
            .map(|at| pace.saturating_sub(at.elapsed()))
            .unwrap_or(Duration::ZERO)
    }

    /// Notes that this device's volume was raised now.
    pub fn note_rise(&self) {
        let mut rises = self.lanes.rises.lock().unwrap_or_else(|e| e.into_inner());
        if rises.len() > 1024 {
            rises.retain(|_, at| at.elapsed() < Duration::from_secs(60));
        }
        rises.insert(self.addr.clone(), Instant::now());
    }
}

impl Drop for Lane<'_> {
    fn drop(&mut self) {
        let mut held = self.lanes.lock();
        for a in &self.held {
            if held.get(a).is_some_and(|h| h.plan == self.plan) {
                held.remove(a);
            }
        }
        drop(held);
        self.lanes.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> ControlAddr {
        ControlAddr::parse(&format!("0{n}000000-0000-0000-ffff000000000000")).unwrap()
    }

    #[test]
    fn a_second_plan_for_a_busy_device_waits_until_the_first_has_finished() {
        let lanes = Arc::new(Lanes::new());
        let first = lanes.enter(&addr(1), "Lamp", Duration::ZERO).unwrap();
        first.set_phase(Phase::Sending);
        let order = Arc::new(Mutex::new(Vec::new()));
        let (l, o) = (lanes.clone(), order.clone());
        let t = std::thread::spawn(move || {
            let _second = l.enter(&addr(1), "Lamp", Duration::from_secs(10)).unwrap();
            o.lock().unwrap().push("second");
        });
        std::thread::sleep(Duration::from_millis(100));
        order.lock().unwrap().push("first done");
        drop(first);
        t.join().unwrap();
        assert_eq!(*order.lock().unwrap(), ["first done", "second"]);
        assert_eq!(lanes.busy(), 0);
        // Other devices never wait.
        let _a = lanes.enter(&addr(1), "Lamp", Duration::ZERO).unwrap();
        assert!(lanes.enter(&addr(2), "Blind", Duration::ZERO).is_ok());
    }

    #[test]
    fn a_busy_device_is_refused_after_the_wait_and_while_a_question_is_open_at_once() {
        let lanes = Lanes::new();
        let first = lanes.enter(&addr(1), "Door", Duration::ZERO).unwrap();
        first.set_phase(Phase::Sending);
        let r = lanes
            .enter(&addr(1), "Door", Duration::from_millis(50))
            .err()
            .unwrap();
        assert_eq!(r.rule, "R-13");
        assert!(r.reason.contains("Nothing was sent"), "{}", r.reason);
        first.set_phase(Phase::Asking);
        let started = Instant::now();
        let r = lanes
            .enter(&addr(1), "Door", Duration::from_secs(30))
            .err()
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "refused at once"
        );
        assert_eq!(r.rule, "SC-5");
        assert!(r.reason.contains("a question about Door is already open"));
    }

    #[test]
    fn a_call_waiting_while_the_plan_is_decided_is_refused_as_soon_as_it_asks_a_person() {
        let lanes = Arc::new(Lanes::new());
        let first = lanes.enter(&addr(1), "Door", Duration::ZERO).unwrap();
        let l = lanes.clone();
        let waiting = std::thread::spawn(move || {
            l.enter(&addr(1), "Door", Duration::from_secs(30))
                .err()
                .map(|r| r.rule)
        });
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        first.set_phase(Phase::Asking);
        assert_eq!(waiting.join().unwrap(), Some("SC-5"));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_newer_call_cancels_a_ramp_and_the_stop_cancels_every_ramp() {
        let lanes = Arc::new(Lanes::new());
        let ramp = lanes.enter(&addr(1), "Speaker", Duration::ZERO).unwrap();
        ramp.set_phase(Phase::Ramping);
        assert_eq!(ramp.cancelled(), None);
        let l = lanes.clone();
        let t = std::thread::spawn(move || {
            l.enter(&addr(1), "Speaker", Duration::from_secs(10))
                .is_ok()
        });
        // The waiting call cancels the ramp; the ramp's sender sees it and stops.
        let why = loop {
            if let Some(w) = ramp.cancelled() {
                break w;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(
            why.contains("superseded by a later call to Speaker"),
            "{why}"
        );
        drop(ramp);
        assert!(t.join().unwrap());

        let a = lanes.enter(&addr(1), "Speaker", Duration::ZERO).unwrap();
        let b = lanes.enter(&addr(2), "Blind", Duration::ZERO).unwrap();
        a.set_phase(Phase::Ramping);
        b.set_phase(Phase::Sending);
        lanes.cancel_ramps("not sent: the emergency stop latched");
        assert_eq!(
            a.cancelled().as_deref(),
            Some("not sent: the emergency stop latched")
        );
        assert_eq!(b.cancelled(), None, "only ramps are cancelled");
    }
}
