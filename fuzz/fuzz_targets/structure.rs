//! `Structure::parse` on arbitrary bytes (seeded with the real structure files), then what the
//! gateway does with a structure it accepted: its indexes, and the house built over it with a
//! plain config and with one that opts devices in and reclassifies one.
//!
//! Checked: no panic; every index answers for what it holds (each control is found by its
//! address, each state UUID leads back to a control that has that state, each parent/child link
//! points inside the list); the house has one device per control.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use loxwarden::config::Config;
use loxwarden::house::House;
use loxwarden::loxone::structure::{StateRef, Structure};

fn configs() -> &'static [Config; 2] {
    static C: OnceLock<[Config; 2]> = OnceLock::new();
    C.get_or_init(|| {
        let plain = "[miniserver]\nurl = \"http://127.0.0.1\"\nuser = \"ai\"\n";
        let opted = format!(
            "{plain}[exposure]\nopt_in = [\"Front door\", \"House\"]\ndeny_rooms = [\"Garden\"]\n\
             [[classify]]\ndevice = \"Front door lock\"\nkind = \"access\"\n"
        );
        [
            Config::parse(plain).expect("config"),
            Config::parse(&opted).expect("config"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = Structure::parse(data) else {
        return;
    };
    let n = s.controls.len();
    for c in &s.controls {
        if let Some(p) = c.parent {
            assert!(p < n, "parent index out of range");
        }
        for &child in &c.children {
            assert!(child < n, "child index out of range");
        }
        let found = s.index_of(&c.addr).expect("every control is indexed");
        assert_eq!(s.controls[found].addr, c.addr);
        for (name, st) in &c.states {
            if let StateRef::One(u) = st
                && let Some((owner, owned)) = s.state_owner(u)
            {
                assert!(
                    owner.states.contains_key(owned),
                    "{name}: owner lacks the state"
                );
            }
        }
        let _ = s.room_name(c.room);
        let _ = s.category(c.cat);
        let _ = c.details().to_string();
        let _ = c.is_read_only();
    }
    let s = Arc::new(s);
    for cfg in configs() {
        if let Ok(h) = House::new(s.clone(), cfg) {
            assert_eq!(h.all().len(), n, "one device per control");
            for d in h.exposed() {
                let _ = h.describe(d.id);
                let _ = d.label();
            }
            let _ = h.rooms();
            let _ = h.list(None, None);
        }
    }
});
