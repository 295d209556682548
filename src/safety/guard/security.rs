//! Alarms, locks and the intercom: the actions a burglar would ask for. Each one needs a person
//! (SC-5) or is refused outright; the ring window bounds an intercom door-open (UCA-I1).

use super::*;

impl Cx<'_> {
    pub(super) fn alarm(&self, d: &Device, action: AlarmAction) -> R<Allowed> {
        if d.loxone_type != "Alarm" {
            return Err(unsupported(self.house, d, "arm or disarm", ""));
        }
        let mut a = Allowed::default();
        let (op, subject, rule, exp) = match action {
            AlarmAction::Arm | AlarmAction::ArmDelayed => {
                let delayed = action == AlarmAction::ArmDelayed;
                let presence =
                    Presence::for_arming(self.house, self.states, &self.limits.presence_covered);
                // At night people may be asleep inside whatever the detectors say.
                let night = self.posture.night.is_some();
                let op = if delayed {
                    Op::ArmDelayed { movement: true }
                } else {
                    Op::Arm { movement: true }
                };
                // Windows and doors the monitors report not closed (L-3): named in the
                // question, and a reason to ask.
                let open_windows = crate::house::windows::open(self.house, self.states);
                // UCA-S1: arming while someone may be inside needs a person.
                let ask = presence != Presence::Absent || night || !open_windows.is_empty();
                let subject = ask.then_some(Subject::Arm {
                    device: d.id,
                    delayed,
                    presence,
                    night,
                    open_windows,
                });
                let exp = (!delayed)
                    .then(|| self.expect(d, "armed", Change::To(1.0)))
                    .flatten();
                (op, subject, "UCA-S1", exp)
            }
            AlarmAction::Disarm => (
                Op::Disarm,
                Some(Subject::Disarm {
                    device: d.id,
                    presence: Presence::of(self.house, self.states),
                }),
                "SC-5",
                self.expect(d, "armed", Change::To(0.0)),
            ),
            AlarmAction::Acknowledge => (
                Op::Quit,
                Some(Subject::Acknowledge { device: d.id }),
                "SC-5",
                self.expect(d, "level", Change::To(0.0)),
            ),
        };
        if let Some(s) = subject {
            a.consent = Some(self.consent(rule, d, s));
        }
        a.expect.extend(exp);
        a.plan.push(self.step(d, op));
        Ok(a)
    }

    pub(super) fn access(&self, d: &Device, action: AccessAction) -> R<Allowed> {
        let mut a = Allowed::default();
        let armed = self.armed_alarms();
        match d.loxone_type.as_str() {
            "Gate" => {
                let (op, motion, exp) = match action {
                    AccessAction::Open => (Op::Open, Motion::Raise, Some(1.0)),
                    AccessAction::Close => (Op::Close, Motion::Lower, Some(0.0)),
                    AccessAction::Stop => (Op::Stop, Motion::Stop, None),
                    AccessAction::Lock | AccessAction::Unlock => {
                        return Err(unsupported(self.house, d, "lock or unlock", ""));
                    }
                };
                if motion == Motion::Lower {
                    self.refuse_in_emergency(
                        "UCA-B2",
                        &format!("closing {}", self.house.describe(d.id)),
                    )?;
                }
                if action == AccessAction::Open {
                    a.consent = Some(self.consent(
                        "UCA-D1",
                        d,
                        Subject::Open {
                            device: d.id,
                            armed,
                        },
                    ));
                }
                let mark = self.mark(d, RateClass::Motor, motion);
                self.check_rate(d, &mark)?;
                a.rate_marks.push(mark);
                if let Some(v) = exp {
                    a.expect.extend(self.expect(d, "position", Change::To(v)));
                }
                a.plan.push(self.step(d, op));
            }
            "Pushbutton" => match action {
                AccessAction::Open | AccessAction::Unlock => {
                    let intercom = d
                        .parent
                        .map(|p| self.house.device(p))
                        .filter(|p| matches!(p.loxone_type.as_str(), "Intercom" | "IntercomV2"));
                    let (rule, subject) = match intercom {
                        // UCA-I1: an intercom output opens the door only after a ring, whichever
                        // tool asks.
                        Some(ic) => {
                            let rang = self.recent_ring(ic)?;
                            (
                                "UCA-I1",
                                Subject::IntercomOpen {
                                    intercom: ic.id,
                                    opener: d.id,
                                    rang_secs_ago: self.now.since(rang).as_secs(),
                                    armed,
                                },
                            )
                        }
                        None if action == AccessAction::Open => (
                            "UCA-D1",
                            Subject::Open {
                                device: d.id,
                                armed,
                            },
                        ),
                        None => (
                            "UCA-D1",
                            Subject::Unlock {
                                device: d.id,
                                armed,
                            },
                        ),
                    };
                    a.consent = Some(self.consent(rule, d, subject));
                    a.plan.push(self.step(d, Op::Pulse));
                }
                _ => return Err(unsupported(self.house, d, "do anything but open", "")),
            },
            "Switch" => {
                let (unlock, lock) = match d.unlock_with {
                    UnlockWith::On => (Op::On, Op::Off),
                    UnlockWith::Off => (Op::Off, Op::On),
                };
                let active = |op: Op| Change::To(if op == Op::On { 1.0 } else { 0.0 });
                match action {
                    AccessAction::Unlock => {
                        // UCA-D1: always a person; while the alarm is armed the message says so.
                        a.consent = Some(self.consent(
                            "UCA-D1",
                            d,
                            Subject::Unlock {
                                device: d.id,
                                armed,
                            },
                        ));
                        a.expect.extend(self.expect(d, "active", active(unlock)));
                        a.plan.push(self.step(d, unlock));
                    }
                    AccessAction::Lock => {
                        // UCA-D2: never lock people in during an emergency.
                        self.refuse_in_emergency(
                            "UCA-D2",
                            &format!("locking {}", self.house.describe(d.id)),
                        )?;
                        a.expect.extend(self.expect(d, "active", active(lock)));
                        a.plan.push(self.step(d, lock));
                    }
                    _ => {
                        return Err(unsupported(
                            self.house,
                            d,
                            "open, close or stop",
                            "use lock or unlock",
                        ));
                    }
                }
            }
            _ => return Err(unsupported(self.house, d, "open or lock", "")),
        }
        Ok(a)
    }

    /// When the bell last rang, if it did since the link became live. A `bell` update to 0
    /// (the ring ended or was answered) is not a ring: counting it would restart the window
    /// after the ring, so only the ring-event states carry the time of a past ring.
    pub(super) fn last_ring(&self, d: &Device) -> Option<Mono> {
        if self.num(d, "bell").is_some_and(|v| v != 0.0) {
            return Some(self.now);
        }
        let fresh_after = self.posture.link.since.plus(RING_GRACE);
        ["lastBellEvents", "lastBellTimestamp"]
            .iter()
            .filter_map(|s| self.house.state_uuid(d.id, s))
            .filter_map(|u| self.states.entry(&u))
            .map(|e| e.updated)
            .filter(|t| *t > fresh_after && *t <= self.now)
            .max()
    }

    /// The last ring of intercom `d` if it was within the configured window (UCA-I1).
    pub(super) fn recent_ring(&self, d: &Device) -> R<Mono> {
        let window = self.limits.intercom_window;
        self.last_ring(d)
            .filter(|t| self.now.since(*t) <= window)
            .ok_or_else(|| {
                Refusal::new(
                    "UCA-I1",
                    format!(
                        "the bell of {} has not rung in the last {} s; the door is opened only \
                         for someone who rang",
                        self.house.describe(d.id),
                        window.as_secs()
                    ),
                )
            })
    }

    pub(super) fn intercom(&self, d: &Device, action: IntercomAction) -> R<Allowed> {
        if !matches!(d.loxone_type.as_str(), "Intercom" | "IntercomV2") {
            return Err(unsupported(self.house, d, "answer", ""));
        }
        let mut a = Allowed::default();
        match action {
            IntercomAction::Answer => {
                // SF: `answer` deactivates the bell; it opens nothing.
                a.plan.push(self.step(d, Op::Answer));
            }
            IntercomAction::OpenDoor => {
                let rang = self.recent_ring(d)?;
                let openers: Vec<&Device> = d
                    .children
                    .iter()
                    .map(|c| self.house.device(*c))
                    .filter(|c| c.kind == Kind::Access)
                    .collect();
                let opener = match openers.as_slice() {
                    [one] => *one,
                    [] => {
                        return Err(unsupported(
                            self.house,
                            d,
                            "open a door with",
                            "it has no output",
                        ));
                    }
                    many => {
                        // Name only the outputs the AI may address.
                        let ids: Vec<DevId> =
                            many.iter().filter(|o| o.exposed).map(|o| o.id).collect();
                        return Err(Refusal::new(
                            "SC-1",
                            format!(
                                "{} has {} outputs and loxwarden does not guess which opens the \
                                 door; a person can classify the others in the config, or use \
                                 control_access on the door opener ({})",
                                self.house.describe(d.id),
                                many.len(),
                                crate::house::resolve::candidate_list(self.house, &ids, "exposed")
                            ),
                        ));
                    }
                };
                if let Some(why) = &opener.read_only {
                    return Err(Refusal::new(
                        "SC-1",
                        format!("{} is read-only: {why}", self.house.describe(opener.id)),
                    ));
                }
                a.consent = Some(self.consent(
                    "UCA-I1",
                    d,
                    Subject::IntercomOpen {
                        intercom: d.id,
                        opener: opener.id,
                        rang_secs_ago: self.now.since(rang).as_secs(),
                        armed: self.armed_alarms(),
                    },
                ));
                a.plan.push(self.step(opener, Op::Pulse));
            }
        }
        Ok(a)
    }
}
