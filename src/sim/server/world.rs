//! What happens in the simulated house without the gateway: a smoke alarm, a doorbell, a person
//! pressing a button or typing in the Loxone app, a sensor's reading, a structure edited in
//! Loxone Config. Each change goes out as status events like a real one.

use super::shared::parse_stamp;
use super::*;

impl Shared {
    pub(super) fn with_first(&self, kind: &str, f: impl FnOnce(&mut House, usize, Now)) -> bool {
        let now = self.now();
        let found = {
            let mut h = lock(&self.house);
            h.tick(now);
            match h.first_of(kind) {
                Some(i) => {
                    f(&mut h, i, now);
                    true
                }
                None => false,
            }
        };
        self.flush_changes();
        found
    }

    pub fn trigger_smoke_alarm(&self) -> bool {
        self.with_first("SmokeAlarm", devices::trigger_smoke)
    }

    pub fn ring_bell(&self) -> bool {
        self.with_first("Intercom", devices::ring_bell)
            || self.with_first("IntercomV2", devices::ring_bell)
    }

    /// A person in the Loxone app presses a push button (`pulse`: 1, then 0), switches a switch
    /// over, or writes a text input's text: the Miniserver's own change, not a command of the
    /// gateway's, so nothing is logged. `text` is for text inputs only.
    pub fn app_input(&self, addr: &ControlAddr, text: Option<&str>) -> bool {
        let now = self.now();
        let found = {
            let mut h = lock(&self.house);
            h.tick(now);
            match (h.find(addr).map(|(i, c)| (i, c.kind.clone())), text) {
                (Some((i, k)), None) if k == "Pushbutton" => {
                    devices::command(&mut h, i, &["pulse"], now).code == 200
                }
                (Some((i, k)), None) if k == "Switch" => {
                    let v = 1.0 - h.num(i, "active");
                    h.set(i, "active", v);
                    true
                }
                (Some((i, k)), Some(t)) if k == "TextInput" => {
                    h.set_text(i, "text", t);
                    true
                }
                _ => false,
            }
        };
        self.flush_changes();
        found
    }

    /// Sets a number state as the device's own sensor would (no command is logged).
    pub fn sense(&self, addr: &ControlAddr, state: &str, v: f64) -> bool {
        let now = self.now();
        let found = {
            let mut h = lock(&self.house);
            h.tick(now);
            match h.find(addr).map(|(i, c)| (i, c.state(state).is_some())) {
                Some((i, true)) => {
                    h.set(i, state, v);
                    true
                }
                _ => false,
            }
        };
        self.flush_changes();
        found
    }

    pub fn sense_text(&self, addr: &ControlAddr, state: &str, text: &str) -> bool {
        let now = self.now();
        let found = {
            let mut h = lock(&self.house);
            h.tick(now);
            match h.find(addr).map(|(i, c)| (i, c.state(state).is_some())) {
                Some((i, true)) => {
                    h.set_text(i, state, text);
                    true
                }
                _ => false,
            }
        };
        self.flush_changes();
        found
    }

    pub fn change_structure(&self, change: &StructureChange) -> bool {
        let now = self.now();
        let ok = {
            let mut h = lock(&self.house);
            // lastModified must differ from the previous value even within one second.
            let mut stamp = devices::last_modified_stamp(now.unix);
            if stamp.as_str() <= h.last_modified() {
                let secs = parse_stamp(h.last_modified()).unwrap_or(now.unix) + 1.0;
                stamp = devices::last_modified_stamp(secs);
            }
            h.change(change, &stamp, now)
        };
        self.flush_changes();
        ok
    }
}
