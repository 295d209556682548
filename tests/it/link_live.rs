//! The running link against the simulator: commands and the state that follows, secured
//! controls, structure changes, keepalive loss, reboot, and inputs that must never become a
//! request.

use std::time::Duration;

use loxwarden::loxone::command::{Command, Op, Percent};
use loxwarden::loxone::health::LinkState;
use loxwarden::loxone::link::SendError;
use loxwarden::loxone::state::{LiveStates as _, StateValue};
use loxwarden::loxone::uuid::ControlAddr;
use loxwarden::sim::{Sim, StructureChange};

use crate::link_support::*;

struct Live {
    sim: Sim,
    _dir: TempDir,
    link: std::sync::Arc<loxwarden::loxone::link::Link>,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.link.stop();
    }
}

fn live(tag: &str, visu: Option<&str>) -> Live {
    let sim = sim_with(|o| o.time_scale = 60.0);
    let dir = TempDir::new(tag);
    let (_, cfg) = write_config(&sim, dir.path(), "");
    login_ok(&sim, &cfg);
    let link = start_live(&cfg, visu);
    Live {
        sim,
        _dir: dir,
        link,
    }
}

fn named(sim: &Sim, name: &str) -> ControlAddr {
    sim.control_named(name)
        .unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn a_command_returns_the_real_answer_and_the_state_that_followed_can_be_read_back() {
    let t = live("cmd", None);
    let addr = named(&t.sim, "Kitchen Ceiling");
    let s = t.link.structure();
    let position = s
        .structure
        .control(&addr)
        .unwrap()
        .state("position")
        .unwrap();
    let before = t.link.now();
    let r = t
        .link
        .send(
            &Command::new(addr.clone(), Op::DimTo(Percent::new(40).unwrap())),
            s.generation,
        )
        .unwrap();
    assert_eq!(r.code, 200, "{r:?}");
    // Over plain HTTP the command travels inside `enc`, whose answer echoes the outer command
    // (docs/protocol-review.md, D5); over TLS it is the command itself.
    assert!(
        r.control.contains("dev/sps/io") || r.control.starts_with("jdev/sys/enc/"),
        "{r:?}"
    );
    let after = t
        .link
        .wait_for_states(&[position], before, Duration::from_secs(3));
    let e = after[0].clone().expect("position state");
    assert!(e.updated > before, "no update after the command");
    assert_eq!(e.value, StateValue::Number(40.0));
    assert_eq!(t.link.states().number(&position), Some(40.0));
    // The simulator received exactly this command.
    let dev = t.sim.device_commands();
    assert_eq!(dev.last().unwrap().op.as_deref(), Some("40"));
}

#[test]
fn an_error_code_from_the_miniserver_is_returned_as_it_came() {
    let t = live("code", None);
    let addr = named(&t.sim, "Garden socket");
    t.sim.answer_with(&addr, Some(423));
    let s = t.link.structure();
    let r = t
        .link
        .send(&Command::new(addr, Op::On), s.generation)
        .unwrap();
    assert_eq!(r.code, 423, "the real LL code, not a fabricated success");
    assert!(!r.is_ok());
}

#[test]
fn a_secured_control_gets_a_fresh_visualisation_hash_and_a_wrong_password_gets_500() {
    let t = live("secured", Some("1234"));
    let alarm = named(&t.sim, "Burglar Alarm");
    let s = t.link.structure();
    assert!(s.structure.control(&alarm).unwrap().is_secured);
    let r = t
        .link
        .send(
            &Command::new(alarm.clone(), Op::Arm { movement: false }),
            s.generation,
        )
        .unwrap();
    assert_eq!(r.code, 200, "{r:?}");
    let r = t
        .link
        .send(&Command::new(alarm.clone(), Op::Disarm), s.generation)
        .unwrap();
    assert_eq!(r.code, 200, "a second command needs a second one-time key");
    let ios: Vec<_> = t
        .sim
        .device_commands()
        .into_iter()
        .filter(|e| e.command.contains("/sps/ios/"))
        .collect();
    assert_eq!(ios.len(), 2);

    let wrong = live("secured-wrong", Some("9999"));
    let alarm = named(&wrong.sim, "Burglar Alarm");
    let s = wrong.link.structure();
    let r = wrong
        .link
        .send(
            &Command::new(alarm, Op::Arm { movement: false }),
            s.generation,
        )
        .unwrap();
    assert_eq!(r.code, 500, "wrong visualisation password (CWM)");
}

#[test]
fn a_secured_control_without_a_visualisation_password_is_refused_before_the_network() {
    let t = live("secured-none", None);
    let alarm = named(&t.sim, "Burglar Alarm");
    let s = t.link.structure();
    let mark = t.sim.log_mark();
    let e = t
        .link
        .send(&Command::new(alarm, Op::Disarm), s.generation)
        .unwrap_err();
    assert!(matches!(e, SendError::NoVisuPassword(_)), "{e}");
    assert!(e.to_string().contains("LOXWARDEN_VISU_PASSWORD"), "{e}");
    assert!(t.sim.commands_since(mark).is_empty());
}

#[test]
fn a_changed_structure_is_detected_and_reloaded() {
    let t = live("structure", None);
    let before = t.link.structure();
    assert!(t.sim.change_structure(&StructureChange::Rename {
        addr: named(&t.sim, "Hall Light").to_string(),
        name: "Entrance Light".into(),
    }));
    let reloaded = wait_until(Duration::from_secs(8), || {
        t.link.structure().generation > before.generation && t.link.health().is_live()
    });
    assert!(reloaded.is_some(), "{:?}", t.link.health());
    let after = t.link.structure();
    assert_ne!(
        after.structure.last_modified,
        before.structure.last_modified
    );
    assert_eq!(
        after.structure.last_modified,
        t.sim.structure().last_modified
    );
    assert!(
        after
            .structure
            .controls
            .iter()
            .any(|c| c.name == "Entrance Light")
    );
    // Resolved against the old structure: refused, nothing sent.
    let mark = t.sim.log_mark();
    let e = t
        .link
        .send(
            &Command::new(named(&t.sim, "Entrance Light"), Op::On),
            before.generation,
        )
        .unwrap_err();
    assert!(matches!(e, SendError::StructureChanged { .. }), "{e}");
    assert!(t.sim.commands_since(mark).iter().all(|c| !c.device));
}

#[test]
fn a_control_removed_by_a_structure_change_is_refused() {
    let t = live("removed", None);
    let socket = named(&t.sim, "Garden socket");
    let s = t.link.structure();
    assert!(t.sim.change_structure(&StructureChange::Remove {
        addr: socket.to_string()
    }));
    let mark = t.sim.log_mark();
    // The first command after the change is refused: the structure is reloaded before it.
    let e = t
        .link
        .send(&Command::new(socket.clone(), Op::On), s.generation)
        .unwrap_err();
    assert!(
        matches!(
            e,
            SendError::StructureChanged { .. } | SendError::NotLive(_)
        ),
        "{e}"
    );
    let back = wait_until(Duration::from_secs(8), || {
        t.link.health().is_live() && t.link.structure().generation > s.generation
    });
    assert!(back.is_some(), "{:?}", t.link.health());
    // Resolved against the new structure, the control does not exist any more.
    let now = t.link.structure();
    assert!(now.structure.control(&socket).is_none());
    let e = t
        .link
        .send(&Command::new(socket.clone(), Op::On), now.generation)
        .unwrap_err();
    assert!(matches!(e, SendError::UnknownControl(_)), "{e}");
    assert!(e.to_string().starts_with("SC-10:"), "{e}");
    assert!(
        t.sim
            .commands_since(mark)
            .iter()
            .all(|c| c.control.as_deref() != Some(&socket.to_string())),
        "a command for the removed control reached the Miniserver"
    );
}

#[test]
fn keepalive_loss_degrades_the_link_within_the_bound_and_commands_are_refused() {
    let t = live("hang", None);
    let bound = t.link.bounds().max_silence();
    let s = t.link.structure();
    t.sim.hang(true);
    let took = wait_until(bound + Duration::from_secs(2), || {
        !t.link.health().is_live()
    })
    .expect("the link stayed live while the Miniserver was silent");
    // With interval 1 s and deadline 1 s the bound is 3 s; allow one poll and scheduling.
    assert!(
        took <= bound + Duration::from_millis(500),
        "left live after {took:?}, bound {bound:?}"
    );
    let h = t.link.health();
    assert!(matches!(
        h.state,
        LinkState::Degraded | LinkState::Down | LinkState::Connecting
    ));
    let mark = t.sim.log_mark();
    let e = t
        .link
        .send(
            &Command::new(named(&t.sim, "Hall Light"), Op::On),
            s.generation,
        )
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, SendError::NotLive(_)), "{msg}");
    assert!(msg.starts_with("SC-4: the Miniserver link is"), "{msg}");
    assert!(
        msg.contains(" since ") && msg.contains("Nothing was sent"),
        "{msg}"
    );
    assert!(t.sim.commands_since(mark).iter().all(|c| !c.device));
    t.sim.hang(false);
    let back = wait_until(Duration::from_secs(10), || t.link.health().is_live());
    assert!(back.is_some(), "did not recover: {:?}", t.link.health());
}

#[test]
fn after_a_reboot_the_link_is_live_again_without_a_restart() {
    let t = live("reboot", None);
    t.sim.reboot(Duration::from_millis(1500));
    let left = wait_until(Duration::from_secs(3), || !t.link.health().is_live());
    assert!(
        left.is_some(),
        "out-of-service did not take the link out of live"
    );
    let back = wait_until(Duration::from_secs(15), || t.link.health().is_live());
    assert!(back.is_some(), "not live again: {:?}", t.link.health());
    assert_eq!(t.link.facts().sessions, 2, "one reconnect, same link");
    let s = t.link.structure();
    let r = t
        .link
        .send(
            &Command::new(named(&t.sim, "Hall Light"), Op::On),
            s.generation,
        )
        .unwrap();
    assert_eq!(r.code, 200);
    assert!(!t.link.states().is_empty(), "status updates re-enabled");
}

#[test]
fn dropped_sockets_are_noticed_and_the_link_reconnects_forgetting_when_values_changed() {
    let t = live("drop", None);
    assert_eq!(t.link.facts().sessions, 1);
    // A change seen live is dated.
    let socket = named(&t.sim, "Garden socket");
    let active = t
        .link
        .structure()
        .structure
        .control(&socket)
        .unwrap()
        .state("active")
        .unwrap();
    assert!(t.sim.sense(&socket, "active", 1.0));
    let dated = wait_until(Duration::from_secs(10), || {
        t.link
            .states()
            .entry(&active)
            .is_some_and(|e| e.changed.is_some())
    });
    assert!(dated.is_some(), "the change was not seen");
    t.sim.drop_sockets();
    let back = wait_until(Duration::from_secs(10), || {
        t.link.health().is_live() && t.link.facts().sessions == 2
    });
    assert!(back.is_some(), "{:?}", t.link.health());
    // After the reconnect the value is known again, but not since when ("armed since" needs it).
    let e = t.link.states().entry(&active).unwrap();
    assert_eq!(e.value.as_number(), Some(1.0));
    assert_eq!(e.changed, None);
}

#[test]
fn injected_addresses_and_commands_never_produce_a_request() {
    let t = live("inject", None);
    let mark = t.sim.log_mark();
    let long = format!("1d62a20e-030e-1e0e-ffff504f94a00001/{}", "A".repeat(5000));
    let inputs = [
        "../../jdev/sys/reboot",
        "1d62a20e-030e-1e0e-ffff504f94a00001/../../jdev/sys/reboot",
        "1d62a20e-030e-1e0e-ffff504f94a00001/%2e%2e",
        "%2e%2e/%2e%2e/jdev/sys/reboot",
        "1d62a20e-030e-1e0e-ffff504f94a00001/a/b/c",
        "a/b/c",
        "1d62a20e-030e-1e0e-ffff504f94a00001\u{0}",
        "1d62a20e-030e-1e0e-ffff504f94a00001/on\r\nX-Injected: 1",
        "1d62a20e-030e-1e0e-ffff504f94a00001?autht=x",
        "1d62a20e-030e-1e0e-ffff504f94a00001#frag",
        "jdev/sps/io/1d62a20e-030e-1e0e-ffff504f94a00001/on",
        "1D62A20E-030E-1E0E-FFFF504F94A00001 ",
        &long,
        "",
    ];
    for input in inputs {
        // The only way to a request is a `Command`, and the only way to its address is
        // `ControlAddr::parse`.
        assert!(
            ControlAddr::parse(input).is_err(),
            "{input:?} became an address"
        );
    }
    // Also the command words: only the closed vocabulary exists; numbers are range-checked.
    assert!(Percent::new(101).is_none());
    std::thread::sleep(Duration::from_millis(300));
    let seen = t.sim.commands_since(mark);
    assert!(
        seen.iter()
            .all(|e| !e.device && !e.command.contains("reboot")),
        "{seen:?}"
    );
}

#[test]
fn the_direct_path_for_the_emergency_stop_sends_with_the_stored_token_without_a_link() {
    let sim = sim_with(|_| {});
    let dir = TempDir::new("direct");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    login_ok(&sim, &cfg);
    let (client, boot, stored) = loxwarden::loxone::link::direct(&cfg).unwrap();
    assert_eq!(boot.api.version, sim.firmware());
    let addr = named(&sim, "Garage Light");
    let r = client
        .send(
            &stored.token,
            &Command::new(addr.clone(), Op::Off),
            false,
            None,
        )
        .unwrap();
    assert_eq!(r.code, 200);
    let last = sim.device_commands().pop().unwrap();
    assert_eq!(last.control.as_deref(), Some(addr.to_string().as_str()));
    assert_eq!(last.op.as_deref(), Some("off"));
}
