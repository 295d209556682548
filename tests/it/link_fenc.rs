//! `fenc` as a Miniserver that follows Loxone's documents answers it: the whole reply body is
//! sealed (base64 of AES-256-CBC with the request's key and IV), and an error may come back in
//! clear (CWM "Command Encryption", HTTP step 9b; Loxone's LxCommunicator decrypts the body
//! and falls back to the clear body). Login and the link's token refresh are tried against
//! both shapes, and against a body that opens neither way.

use std::time::{Duration, Instant};

use loxwarden::loxone::auth::{AuthError, TokenVerb};
use loxwarden::loxone::client::Client;
use loxwarden::loxone::crypto::AesKey;
use loxwarden::loxone::store::StoredToken;
use loxwarden::loxone::ws::{self, AuthStep};
use loxwarden::loxone::{enc, ll};
use loxwarden::sim::Channel;

use crate::link_support::*;
use crate::sim_support::{self, CLIENT_UUID};

#[test]
fn a_sealed_getjwt_answer_is_no_clear_envelope_and_opens_to_the_token() {
    // What the reported failure saw: the body of a fenc getjwt reply is base64, and a reader
    // that expects a clear envelope (our old value-only reading) stops at "unexpected body".
    let sim = sim_with(|_| {});
    let addr = sim.addr();
    let pk = sim_support::get_ll(addr, "jdev/sys/getPublicKey");
    let session = sim_support::Session::new(pk["value"].as_str().unwrap());
    let k2 = sim_support::get_ll(addr, "jdev/sys/getkey2/admin");
    let hash = sim_support::login_hash(&k2["value"], "admin", "password");
    let cmd = format!("jdev/sys/getjwt/{hash}/admin/4/{CLIENT_UUID}/fenc");
    let (status, _, body) = sim_support::get(addr, &session.http_enc_path(&cmd, true));
    assert_eq!(status, 200);
    let old = ll::parse(&body).unwrap_err().to_string();
    assert!(old.contains("unexpected body"), "{old}");

    let aes = AesKey::from_parts(session.key, session.iv);
    let opened = enc::open_reply(&aes, &body).unwrap();
    assert!(opened.sealed);
    assert_eq!(opened.reply.code, 200);
    let token = opened.reply.value_object().unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(sim.tokens().len(), 1);
    assert_eq!(sim.tokens()[0].token, token);

    // Another session's key does not open it, and says so instead of guessing.
    let other = AesKey::generate().unwrap();
    let e = enc::open_reply(&other, &body).unwrap_err().to_string();
    assert!(
        e.starts_with("the Miniserver's encrypted answer could not be decrypted"),
        "{e}"
    );
}

#[test]
fn login_reports_each_refusal_as_itself_whether_it_comes_sealed_or_in_clear() {
    let sim = sim_with(|_| {});
    let dir = TempDir::new("fenc-refusals");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    for clear in [false, true] {
        sim.clear_fenc_errors(clear);
        let shape = if clear { "clear" } else { "sealed" };

        let e = login(&cfg, "not-the-password", None).unwrap_err();
        assert_eq!(e.exit_code(), 77, "{shape}: {e}");
        assert!(
            e.to_string()
                .contains("refused the password for user 'admin' (LL 401)"),
            "{shape}: {e}"
        );

        for (code, says) in [
            (423, "is disabled (LL 423)"),
            (403, "lacks the right"),
            (429, "blocks this user"),
        ] {
            sim.refuse_logins(Some(code));
            let e = login(&cfg, sim.password(), None).unwrap_err();
            assert_eq!(e.exit_code(), 77, "{shape} {code}: {e}");
            assert!(e.to_string().contains(says), "{shape} {code}: {e}");
        }
        sim.refuse_logins(None);
        assert!(StoredToken::load(&cfg.paths.state_dir).unwrap().is_none());
        assert!(sim.tokens().is_empty(), "{shape}");
    }
    // The refusals really came as configured: every getjwt arrived encrypted and was refused.
    let jwts: Vec<_> = sim
        .commands()
        .into_iter()
        .filter(|e| e.command.starts_with("jdev/sys/getjwt/"))
        .collect();
    assert_eq!(jwts.len(), 8, "{jwts:?}");
    assert!(
        jwts.iter().all(|e| e.encrypted && e.code != 200),
        "{jwts:?}"
    );
    // And a correct login then works: sealed success.
    sim.clear_fenc_errors(false);
    login_ok(&sim, &cfg);
    assert_eq!(sim.tokens().len(), 1);
}

#[test]
fn an_answer_that_opens_neither_way_is_a_clear_error_that_names_the_token_left_behind() {
    let sim = sim_with(|_| {});
    let dir = TempDir::new("fenc-garbled");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    sim.garble_fenc(true);
    let e = login(&cfg, sim.password(), None).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("the Miniserver's encrypted answer could not be decrypted"),
        "{text}"
    );
    assert!(text.contains("getjwt"), "{text}");
    assert!(text.contains("stays valid on the Miniserver"), "{text}");
    assert_eq!(e.exit_code(), 69, "{text}");
    // The Miniserver did issue one; we said so, and kept nothing we could not read.
    assert_eq!(sim.tokens().len(), 1);
    assert!(StoredToken::load(&cfg.paths.state_dir).unwrap().is_none());
}

#[test]
fn the_token_refresh_goes_over_the_websocket_and_reads_a_sealed_answer_or_a_refusal_in_clear() {
    let sim = sim_with(|_| {});
    let dir = TempDir::new("fenc-refresh");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    login_ok(&sim, &cfg);
    let stored = StoredToken::load(&cfg.paths.state_dir).unwrap().unwrap();
    let (client, _) = Client::connect(&cfg, None).unwrap();

    // Not over HTTP (CWM: "via websocket (HTTP support not verified)"): refused unsent.
    let mark = sim.log_mark();
    let e = client
        .token_command(&stored.token, TokenVerb::Refresh)
        .unwrap_err();
    assert!(e.to_string().contains("over the websocket"), "{e}");
    assert!(sim.commands_since(mark).is_empty());

    let url = cfg.ms_url().unwrap();
    let t = Duration::from_secs(10);
    let mut sock = ws::connect(&url, None, None, client.public_key(), t).unwrap();
    let deadline = Instant::now() + t;
    sock.authenticate(&stored.token, deadline, &mut |_| {})
        .unwrap();
    let reply = sock.refresh(&stored.token, deadline, &mut |_| {}).unwrap();
    assert_eq!(reply.code, 200);
    let fresh = stored.token.refreshed(&reply, 1).unwrap();
    assert_ne!(fresh.token.expose(), stored.token.token.expose());
    assert_eq!(sim.tokens()[0].token, fresh.token.expose());
    let refresh = sim
        .commands_since(mark)
        .into_iter()
        .find(|e| e.command.starts_with("jdev/sys/refreshjwt/"))
        .unwrap();
    assert!(
        refresh.encrypted && refresh.channel == Channel::Ws,
        "{refresh:?}"
    );

    // The old token is gone on the Miniserver: refreshing it again is refused, sealed or
    // clear, and either way the link hears "token refused" (it then stops using it).
    for clear in [false, true] {
        sim.clear_fenc_errors(clear);
        let reply = sock.refresh(&stored.token, deadline, &mut |_| {}).unwrap();
        assert_eq!(reply.code, 401, "clear={clear}");
        assert!(matches!(
            stored.token.refreshed(&reply, 2),
            Err(AuthError::TokenRefused { .. })
        ));
    }

    sim.garble_fenc(true);
    let mut latest = stored.clone();
    latest.token = fresh;
    let e = sock
        .refresh(&latest.token, deadline, &mut |_| {})
        .unwrap_err();
    let text = match e {
        AuthStep::Auth(a) => a.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(text.contains("refreshjwt"), "{text}");
    assert!(text.contains("could not be decrypted"), "{text}");
}
