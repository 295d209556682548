//! Login, tokens and what crosses the network, against the simulator.

use std::os::unix::fs::PermissionsExt as _;
use std::sync::Arc;
use std::time::Duration;

use loxwarden::loxone::auth::LOXONE_EPOCH_UNIX;
use loxwarden::loxone::command::{Command, Op};
use loxwarden::loxone::crypto::HashAlg;
use loxwarden::loxone::health::LinkState;
use loxwarden::loxone::link::{Link, Secrets, SendError};
use loxwarden::loxone::setup;
use loxwarden::loxone::store::StoredToken;
use loxwarden::sim::{AuthKind, Channel};

use crate::link_support::*;

fn switch(sim: &loxwarden::sim::Sim) -> loxwarden::loxone::uuid::ControlAddr {
    sim.control_named("Hall Light")
        .expect("demo house has the hall light")
}

#[test]
fn login_with_sha1_firmware_keeps_a_sha1_app_token_with_mode_0600() {
    // Firmware 10.2 sends no hashAlg: SHA1 (CWM; fixture hashing_10_2.json).
    let sim = sim_with(|o| o.firmware = "10.2.3.26".into());
    let dir = TempDir::new("login-sha1");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    let out = login_ok(&sim, &cfg);
    assert!(out.contains("Logged in as 'admin'"), "{out}");
    let path = StoredToken::path(&cfg.paths.state_dir);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let stored = StoredToken::load(&cfg.paths.state_dir).unwrap().unwrap();
    assert_eq!(stored.token.hash_alg, HashAlg::Sha1);
    assert_eq!(stored.token.rights, 4, "App rights only");
    let issued = sim.tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].rights, 4);
    assert_eq!(issued[0].token, stored.token.token.expose());
    // And it works: the link authenticates with it.
    let link = start_live(&cfg, None);
    link.stop();
}

#[test]
fn login_with_sha256_firmware_and_the_link_goes_live() {
    let sim = sim_with(|o| o.firmware = "16.0.6.17".into());
    let dir = TempDir::new("login-sha256");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    login_ok(&sim, &cfg);
    let stored = StoredToken::load(&cfg.paths.state_dir).unwrap().unwrap();
    assert_eq!(stored.token.hash_alg, HashAlg::Sha256);
    assert_eq!(stored.serial, sim.serial());
    let link = start_live(&cfg, None);
    let f = link.facts();
    assert_eq!(f.firmware, "16.0.6.17");
    assert!(f.controls > 20, "{f:?}");
    assert!(f.states_cached > 0, "initial tables fill the cache");
    link.stop();
}

#[test]
fn a_wrong_password_is_a_clear_error_and_keeps_no_token() {
    let sim = sim_with(|_| {});
    let dir = TempDir::new("login-wrong");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    let e = login(&cfg, "not-the-password", None).unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("authentication:"), "{text}");
    assert!(
        text.contains("refused the password for user 'admin' (LL 401)"),
        "{text}"
    );
    assert_eq!(e.exit_code(), 77);
    assert!(StoredToken::load(&cfg.paths.state_dir).unwrap().is_none());
    assert!(sim.tokens().is_empty());
}

#[test]
fn on_plain_http_every_credential_travels_encrypted_and_never_as_basic_auth() {
    // Gen 1: no TLS, so the token, its hashes and the password hash must all be inside
    // Loxone command encryption (decisions 3, 6, 7, 8).
    let sim = sim_with(|_| {});
    let dir = TempDir::new("gen1-enc");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    login_ok(&sim, &cfg);
    let link = start_live(&cfg, None);
    let s = link.structure();
    let reply = link
        .send(&Command::new(switch(&sim), Op::On), s.generation)
        .unwrap();
    assert_eq!(reply.code, 200);
    link.stop();
    let mut out = Vec::new();
    setup::logout_with(&cfg, &mut out).unwrap();

    let log = sim.commands();
    assert!(!log.is_empty());
    for e in &log {
        assert_ne!(e.auth, AuthKind::Basic, "{e:?}");
        assert_ne!(
            e.auth,
            AuthKind::Token,
            "a plain token crossed plain HTTP/WS: {e:?}"
        );
        let credential = matches!(e.auth, AuthKind::TokenHash | AuthKind::PasswordHash)
            || e.command.contains("getjwt")
            || e.command.contains("authwithtoken")
            || e.command.contains("killtoken")
            || e.command.contains("refreshjwt");
        if credential {
            assert!(e.encrypted, "credential-bearing command in clear: {e:?}");
        }
    }
    let names: Vec<&str> = log.iter().map(|e| e.command.as_str()).collect();
    for needed in [
        "getjwt",
        "authwithtoken",
        "LoxAPPversion3",
        "LoxAPP3.json",
        "killtoken",
    ] {
        assert!(
            names.iter().any(|c| c.contains(needed)),
            "{needed} never arrived: {names:?}"
        );
    }
    assert!(
        log.iter()
            .any(|e| e.device && e.encrypted && e.channel == Channel::Http)
    );
}

#[test]
fn the_token_is_refreshed_before_it_expires_and_the_new_one_is_kept() {
    // A two-hour token, and a link whose wall clock is then moved past the token's half-life
    // (the simulator keeps real time, so there the token is still valid for about an hour):
    // the link must refresh it, keep the new one on disk and in use. The simulator forgets a
    // token when it is refreshed, so a command that authenticates afterwards can only have
    // used the new one. Nothing here depends on how fast the machine is.
    let sim = sim_with(|o| o.token_lifetime = Duration::from_secs(2 * 3600));
    let dir = TempDir::new("refresh");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    login_ok(&sim, &cfg);
    let first = StoredToken::load(&cfg.paths.state_dir).unwrap().unwrap();
    let first_token = first.token.token.expose().to_owned();
    let clock = Arc::new(ShiftedClock::new());
    let link = Link::start(&cfg, clock.clone(), Secrets::default()).expect("link starts");
    let h = link.wait_live(Duration::from_secs(60));
    assert!(h.is_live(), "link not live: {h:?}");
    let refreshes = || {
        sim.commands()
            .into_iter()
            .filter(|e| e.command.contains("refreshjwt"))
            .collect::<Vec<_>>()
    };
    assert!(refreshes().is_empty(), "refreshed before its half-life");
    // Half-life passed on the link's clock; an hour of validity is left on the Miniserver's.
    clock.jump_ahead(Duration::from_secs(3600 + 60));
    let refreshed = wait_until(Duration::from_secs(60), || {
        StoredToken::load(&cfg.paths.state_dir)
            .ok()
            .flatten()
            .is_some_and(|t| t.token.token.expose() != first_token)
    });
    assert!(refreshed.is_some(), "never refreshed");
    let kept = StoredToken::load(&cfg.paths.state_dir).unwrap().unwrap();
    assert!(kept.token.valid_until >= first.token.valid_until);
    assert!(
        refreshes().iter().all(|e| e.code == 200),
        "{:?}",
        refreshes()
    );
    let issued = sim.tokens();
    assert!(
        issued.iter().all(|t| t.token != first_token),
        "the Miniserver still knows the first token"
    );
    assert!(issued.iter().any(|t| t.token == kept.token.token.expose()));
    assert!(link.health().is_live(), "{:?}", link.health());
    let s = link.structure();
    let r = link
        .send(&Command::new(switch(&sim), Op::Off), s.generation)
        .unwrap();
    assert_eq!(r.code, 200, "the refreshed token authenticates commands");
    link.stop();
}

#[test]
fn an_expired_token_takes_the_link_down_and_commands_are_refused() {
    let sim = sim_with(|_| {});
    let dir = TempDir::new("expired");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    login_ok(&sim, &cfg);
    let link = start_live(&cfg, None);
    sim.expire_tokens();
    let s = link.structure();
    let mark = sim.log_mark();
    // The token is refused before the command goes out; the link is out of `live` at once.
    let e = link
        .send(&Command::new(switch(&sim), Op::On), s.generation)
        .unwrap_err();
    assert!(matches!(e, SendError::NotLive(_)), "{e}");
    assert!(e.to_string().starts_with("SC-4:"), "{e}");
    assert!(e.to_string().contains("loxwarden login"), "{e}");
    assert_ne!(link.health().state, LinkState::Live);
    let e = link
        .send(&Command::new(switch(&sim), Op::Off), s.generation)
        .unwrap_err();
    assert!(matches!(e, SendError::NotLive(_)), "{e}");
    assert!(
        sim.commands_since(mark).iter().all(|c| !c.device),
        "a device command reached the Miniserver"
    );
    // It stays down with a reason that tells the person what to do.
    let down = wait_until(Duration::from_secs(5), || {
        let h = link.health();
        h.state == LinkState::Down && h.reason.contains("loxwarden login")
    });
    assert!(down.is_some(), "{:?}", link.health());
    link.stop();
}

#[test]
fn a_locally_expired_token_is_not_even_offered() {
    let sim = sim_with(|_| {});
    let dir = TempDir::new("expired-local");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    login_ok(&sim, &cfg);
    let mut stored = StoredToken::load(&cfg.paths.state_dir).unwrap().unwrap();
    stored.token.valid_until = 1; // 2009-01-01 00:00:01
    stored.save(&cfg.paths.state_dir).unwrap();
    let mark = sim.log_mark();
    let clock: std::sync::Arc<dyn loxwarden::clock::Clock> =
        std::sync::Arc::new(loxwarden::clock::SystemClock::new());
    let link = loxwarden::loxone::link::Link::start(&cfg, clock, Default::default()).unwrap();
    let down = wait_until(Duration::from_secs(5), || {
        let h = link.health();
        h.state == LinkState::Down && h.reason.contains("expired")
    });
    assert!(down.is_some(), "{:?}", link.health());
    assert!(link.health().reason.contains("loxwarden login"));
    link.stop();
    assert!(
        sim.commands_since(mark).is_empty(),
        "an expired token was sent"
    );
    assert!(stored.token.expires_unix() == LOXONE_EPOCH_UNIX + 1);
}

#[test]
fn logout_kills_the_token_on_the_miniserver_and_deletes_the_file() {
    let sim = sim_with(|_| {});
    let dir = TempDir::new("logout");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    login_ok(&sim, &cfg);
    assert_eq!(sim.tokens().len(), 1);
    let mut out = Vec::new();
    setup::logout_with(&cfg, &mut out).unwrap();
    assert!(String::from_utf8(out).unwrap().contains("revoked"));
    assert!(
        sim.tokens().is_empty(),
        "the token is still valid on the Miniserver"
    );
    assert!(StoredToken::load(&cfg.paths.state_dir).unwrap().is_none());
    let kill = sim
        .commands()
        .into_iter()
        .find(|e| e.command.contains("killtoken"))
        .unwrap();
    assert!(kill.encrypted && kill.code == 200, "{kill:?}");
}

#[test]
fn logging_in_again_revokes_the_token_it_replaces() {
    let sim = sim_with(|_| {});
    let dir = TempDir::new("relogin");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    login_ok(&sim, &cfg);
    login_ok(&sim, &cfg);
    let stored = StoredToken::load(&cfg.paths.state_dir).unwrap().unwrap();
    let live = sim.tokens();
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0].token, stored.token.token.expose());
}

#[test]
fn without_a_token_the_link_refuses_to_start_and_says_to_log_in() {
    let sim = sim_with(|_| {});
    let dir = TempDir::new("no-token");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    let clock: std::sync::Arc<dyn loxwarden::clock::Clock> =
        std::sync::Arc::new(loxwarden::clock::SystemClock::new());
    let e = loxwarden::loxone::link::Link::start(&cfg, clock, Default::default()).unwrap_err();
    assert!(e.to_string().contains("loxwarden login"), "{e}");
    assert!(sim.commands().is_empty());
}

#[test]
fn a_wiretap_on_plain_http_sees_no_password_no_token_and_no_authorization_header() {
    // Gen 1 has no TLS: everything loxwarden sends and receives is recorded on the wire, from
    // login through a session with a secured command, a token refresh and logout.
    let sim = sim_with(|o| {
        o.password = "Zq7-wiretap-Pw".into();
        o.visu_password = "5813".into();
        o.token_lifetime = Duration::from_secs(8);
    });
    let tap = Tap::start(sim.addr());
    let dir = TempDir::new("wiretap");
    let text = config_text(&sim, dir.path(), "").replace(
        &format!("url = \"{}\"", sim.url()),
        &format!("url = \"http://{}\"", tap.addr),
    );
    let cfg = loxwarden::config::Config::parse(&text).unwrap();
    login(&cfg, "Zq7-wiretap-Pw", None).unwrap();
    let link = start_live(&cfg, Some("5813"));
    let s = link.structure();
    let alarm = sim.control_named("Burglar Alarm").unwrap();
    let r = link
        .send(
            &Command::new(alarm, Op::Arm { movement: false }),
            s.generation,
        )
        .unwrap();
    assert_eq!(r.code, 200);
    let refreshed = wait_until(Duration::from_secs(8), || {
        sim.commands()
            .iter()
            .any(|e| e.command.contains("refreshjwt") && e.code == 200)
    });
    assert!(refreshed.is_some(), "no refresh happened");
    link.stop();
    let stored = StoredToken::load(&cfg.paths.state_dir).unwrap().unwrap();
    let mut out = Vec::new();
    setup::logout_with(&cfg, &mut out).unwrap();

    assert!(!tap.up.lock().unwrap().is_empty(), "the tap saw nothing");
    assert!(!tap.saw(b"Zq7-wiretap-Pw"), "the password crossed the wire");
    assert!(
        !tap.saw(b"5813"),
        "the visualisation password crossed the wire"
    );
    for t in sim.tokens().iter().map(|t| t.token.clone()).chain([stored
        .token
        .token
        .expose()
        .to_owned()])
    {
        assert!(!tap.saw(t.as_bytes()), "a token crossed the wire in clear");
    }
    // The JWT header every token starts with never appears either.
    assert!(!tap.saw(b"eyJ0eXAi"), "a JWT crossed the wire in clear");
    assert!(
        !tap.sent_ci("authorization:"),
        "an Authorization header was sent"
    );
    assert!(!tap.sent_ci("autht=ey"), "a plain token in a query");
}
