//! Every fault knob of the simulator, pulled through the admin channel or the in-process handle
//! and observed by a raw client from the outside.

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use loxwarden::loxone::state::StateValue;
use loxwarden::sim::{Sim, SimOptions, StructureChange};
use serde_json::Value;

use crate::sim_support::*;

/// A request to the admin channel; returns the JSON answer.
fn admin(sim: &Sim, path: &str) -> Value {
    let (status, _, body) = get(sim.admin_addr(), path);
    assert_eq!(status, 200, "admin {path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// An authenticated socket with status updates on, its initial tables consumed.
fn live(sim: &Sim) -> (Client, Login) {
    let login = http_login(sim.addr(), "admin", "password");
    let mut c = ws_login(sim.addr(), &login, "admin");
    assert_eq!(code(&c.call("jdev/sps/enablebinstatusupdate")), 200);
    assert!(matches!(c.next(), Msg::Values(_)));
    assert!(matches!(c.next(), Msg::Texts(_)));
    (c, login)
}

fn uuid_state(sim: &Sim, control: &str, state: &str) -> String {
    let s: Value = serde_json::from_str(&sim.structure_json()).unwrap();
    state_of(&s, control, state)
}

#[test]
fn reboot_sends_out_of_service_closes_and_answers_503_until_back() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let (mut c, _) = live(&sim);
    admin(&sim, "fault/reboot?secs=0.6");
    assert_eq!(c.next(), Msg::OutOfService, "header id 5 first");
    assert_eq!(c.next(), Msg::Closed, "then the socket closes");
    let (status, _, body) = get(sim.addr(), "jdev/cfg/apiKey");
    assert_eq!(status, 503);
    assert!(body.contains("\"Code\":\"503\""), "{body}");
    let start = Instant::now();
    loop {
        let (status, _, _) = get(sim.addr(), "jdev/cfg/apiKey");
        if status == 200 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "never came back");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The token survived the restart.
    let (mut c, _) = live(&sim);
    c.send("keepalive");
    assert_eq!(c.next(), Msg::Keepalive);
}

#[test]
fn a_hung_miniserver_answers_neither_keepalive_nor_http_until_it_recovers() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let (mut c, _) = live(&sim);
    admin(&sim, "fault/hang?on=1");
    c.send("keepalive");
    assert_eq!(c.next_within(Duration::from_millis(300)), None, "silence");
    let mut raw = TcpStream::connect(sim.addr()).unwrap();
    raw.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    std::io::Write::write_all(&mut raw, b"GET /jdev/cfg/api HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = [0u8; 64];
    assert!(
        std::io::Read::read(&mut raw, &mut buf).is_err(),
        "no HTTP answer"
    );
    sim.hang(false);
    assert_eq!(c.next(), Msg::Keepalive, "the queued keepalive is answered");
}

#[test]
fn dropped_sockets_close_without_a_close_frame() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let (mut c, _) = live(&sim);
    assert_eq!(sim.connections(), 1);
    admin(&sim, "fault/drop");
    // tungstenite reports a reset without closing handshake; our reader maps it to Closed.
    match c.ws.read() {
        Err(tungstenite::Error::Protocol(_)) | Err(tungstenite::Error::Io(_)) => {}
        other => panic!("expected an abrupt end, got {other:?}"),
    }
    let start = Instant::now();
    while sim.connections() != 0 {
        assert!(start.elapsed() < Duration::from_secs(3));
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn delayed_replies_take_at_least_the_delay() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    admin(&sim, "fault/delay?ms=300");
    let t = Instant::now();
    let ll = get_ll(sim.addr(), "jdev/cfg/api");
    assert_eq!(code(&ll), 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    sim.delay_replies(Duration::ZERO);
    let t = Instant::now();
    get_ll(sim.addr(), "jdev/cfg/api");
    assert!(t.elapsed() < Duration::from_millis(300));
}

#[test]
fn a_forced_code_answers_without_acting() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let (mut c, _) = live(&sim);
    let light = sim.control_named("Hall Light").unwrap();
    admin(&sim, &format!("fault/code?addr={light}&code=423"));
    assert_eq!(code(&c.call(&format!("jdev/sps/io/{light}/on"))), 423);
    assert_eq!(
        sim.control_state(&light, "active"),
        Some(StateValue::Number(0.0))
    );
    admin(&sim, &format!("fault/code?addr={light}"));
    assert_eq!(code(&c.call(&format!("jdev/sps/io/{light}/on"))), 200);
    let log = admin(&sim, "log?device=1");
    let codes: Vec<u64> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, vec![423, 200], "both attempts are on record");
}

#[test]
fn the_smoke_alarm_goes_off_and_clients_see_level_2() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let (mut c, _) = live(&sim);
    let level = uuid_state(&sim, "Fire and Water Alarm", "level");
    admin(&sim, "fault/smoke");
    assert_eq!(
        c.wait_value(&level, Duration::from_secs(3), |v| v == 2.0),
        2.0
    );
    let ctl = admin(&sim, "control?name=Fire%20and%20Water%20Alarm");
    assert_eq!(ctl["states"]["alarmCause"], 1.0);
}

#[test]
fn the_bell_rings_with_a_timestamp_and_stops_when_answered() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let (mut c, _) = live(&sim);
    let bell = uuid_state(&sim, "Front Door", "bell");
    let stamp = uuid_state(&sim, "Front Door", "lastBellTimestamp");
    assert!(sim.ring_bell());
    let mut saw_bell = false;
    let mut saw_stamp = false;
    let end = Instant::now() + Duration::from_secs(3);
    while !(saw_bell && saw_stamp) && Instant::now() < end {
        match c.next() {
            Msg::Values(v) => saw_bell |= v.contains(&(bell.clone(), 1.0)),
            Msg::Texts(t) => saw_stamp |= t.iter().any(|(u, s)| *u == stamp && s.len() == 14),
            _ => {}
        }
    }
    assert!(saw_bell && saw_stamp);
    let door = sim.control_named("Front Door").unwrap();
    assert_eq!(code(&c.call(&format!("jdev/sps/io/{door}/answer"))), 200);
    assert_eq!(
        c.wait_value(&bell, Duration::from_secs(3), |v| v == 0.0),
        0.0
    );
}

#[test]
fn a_structure_change_moves_last_modified_and_renames_the_control() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let login = http_login(sim.addr(), "admin", "password");
    let mut c = ws_login(sim.addr(), &login, "admin");
    let before = c.call("jdev/sps/LoxAPPversion3")["value"].clone();
    let socket = sim.control_named("Garden socket").unwrap();
    let r = admin(
        &sim,
        &format!("fault/structure?rename={socket}&name=Pond%20pump"),
    );
    let after = c.call("jdev/sps/LoxAPPversion3")["value"].clone();
    assert_ne!(before, after);
    assert_eq!(r["last_modified"], after);
    c.send("data/LoxAPP3.json");
    let Msg::Text(file) = c.next() else { panic!() };
    assert!(file.contains("\"Pond pump\"") && !file.contains("\"Garden socket\""));
    // Removing it makes commands to it unknown.
    assert!(sim.change_structure(&StructureChange::Remove {
        addr: socket.to_string()
    }));
    assert_eq!(code(&c.call(&format!("jdev/sps/io/{socket}/on"))), 404);
}

#[test]
fn expired_tokens_are_refused() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let login = http_login(sim.addr(), "admin", "password");
    admin(&sim, "fault/expire-tokens");
    let mut c = Client::connect(sim.addr());
    c.call(&format!("jdev/sys/keyexchange/{}", login.session.rsa_b64));
    let key = c.call("jdev/sys/getkey");
    let h = token_hash(key["value"].as_str().unwrap(), &login.token, login.alg);
    let r = c.call(
        &login
            .session
            .enc_path(&format!("authwithtoken/{h}/admin"), false),
    );
    assert_eq!(code(&r), 401);
    let ll = http_command(sim.addr(), &login, "admin", "jdev/sps/LoxAPPversion3");
    assert_eq!(code(&ll), 401);
}

#[test]
fn a_changed_certificate_is_presented_to_new_connections() {
    let sim = Sim::start(SimOptions {
        tls: true,
        ..SimOptions::default()
    })
    .unwrap();
    let host = loxwarden::sim::TEST_HOSTNAME;
    let (_, first) = tls_stream(sim.addr(), sim.test_ca_pem(), host);
    admin(&sim, "fault/cert?alt=1");
    let (_, second) = tls_stream(sim.addr(), sim.test_ca_pem(), host);
    assert_ne!(
        first, second,
        "a different leaf, still signed by the test CA"
    );
    assert_eq!(
        sim.server_cert_pem().as_deref(),
        Some(loxwarden::sim::ALT_SERVER_CERT_PEM)
    );
    sim.present_alt_cert(false);
    let (_, third) = tls_stream(sim.addr(), sim.test_ca_pem(), host);
    assert_eq!(first, third);
}

#[test]
fn a_socket_that_does_not_authenticate_in_time_gets_420_and_is_closed() {
    let sim = Sim::start(SimOptions {
        auth_timeout: Duration::from_millis(300),
        ..SimOptions::default()
    })
    .unwrap();
    let mut c = Client::connect(sim.addr());
    let (ll, _) = c.reply();
    assert_eq!(ll["Code"], "420");
    assert_eq!(c.next(), Msg::Closed);
}

#[test]
fn a_silent_client_is_dropped_after_the_idle_time() {
    let sim = Sim::start(SimOptions {
        idle_timeout: Duration::from_millis(400),
        ..SimOptions::default()
    })
    .unwrap();
    let login = http_login(sim.addr(), "admin", "password");
    let mut c = ws_login(sim.addr(), &login, "admin");
    let t = Instant::now();
    assert_eq!(c.next(), Msg::Closed);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[test]
fn blinds_move_in_simulated_time_and_report_their_position() {
    let sim = Sim::start(SimOptions {
        time_scale: 60.0, // a minute of travel in a second
        ..SimOptions::default()
    })
    .unwrap();
    let (mut c, _) = live(&sim);
    let blind = sim.control_named("Kitchen Blind").unwrap();
    let pos = uuid_state(&sim, "Kitchen Blind", "position");
    let down = uuid_state(&sim, "Kitchen Blind", "down");
    assert_eq!(code(&c.call(&format!("jdev/sps/io/{blind}/FullDown"))), 200);
    c.wait_value(&down, Duration::from_secs(3), |v| v == 1.0);
    let mid = c.wait_value(&pos, Duration::from_secs(3), |v| v > 0.0 && v < 1.0);
    assert!(mid > 0.0);
    c.wait_value(&pos, Duration::from_secs(5), |v| v == 1.0);
    c.wait_value(&down, Duration::from_secs(3), |v| v == 0.0);
}

#[test]
fn the_admin_channel_is_not_the_miniserver_port() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    assert_ne!(sim.addr().port(), sim.admin_addr().port());
    // The Miniserver port knows nothing of fault knobs.
    let ll = get_ll(sim.addr(), "fault/reboot?secs=5");
    assert_eq!(code(&ll), 404);
    let status = admin(&sim, "status");
    assert_eq!(status["down"], false);
    let _: SocketAddr = sim.admin_addr();
}
