//! The simulator driven by the independent client in `sim_support` (written from the documents,
//! not the project's client): key exchange, token acquisition with an encrypted `getjwt`,
//! commands, status events and keepalive, over plain HTTP/WS and over TLS.

use std::time::Duration;

use loxwarden::sim::{Channel, HashAlg, HouseSource, Sim, SimOptions};
use serde_json::Value;

use crate::sim_support::*;

fn structure_over_ws(c: &mut Client) -> Value {
    c.send("data/LoxAPP3.json");
    match c.next() {
        Msg::Text(t) => serde_json::from_str(&t).unwrap(),
        other => panic!("structure file expected, got {other:?}"),
    }
}

#[test]
fn an_independent_client_logs_in_commands_a_light_and_sees_its_event() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let addr = sim.addr();

    // Step 1: reachability; a Gen 1 (no TLS) answers httpsStatus 0.
    let api = get_ll(addr, "jdev/cfg/apiKey");
    assert_eq!(api["control"], "dev/cfg/apiKey");
    assert_eq!(api["Code"], "200", "cfg replies write Code as a string");
    let text = api["value"].as_str().unwrap();
    assert!(text.contains("'snr': '50:4F:94:A0:00:01'"), "{text}");
    assert!(text.contains("'httpsStatus':0"), "{text}");

    // Token acquisition over HTTP with an encrypted getjwt.
    let login = http_login(addr, "admin", "password");
    assert_eq!(login.alg, Alg::Sha256, "firmware 16 hashes with SHA256");
    assert_eq!(
        login.reply["code"], 200,
        "sys replies write code as a number"
    );
    assert_eq!(login.token.split('.').count(), 3, "a JSON Web Token");
    let valid_until = login.reply["value"]["validUntil"].as_u64().unwrap();
    assert!(
        valid_until > 500_000_000,
        "seconds since 2009: {valid_until}"
    );

    // The websocket: keyexchange → getkey → encrypted authwithtoken.
    let mut c = ws_login(addr, &login, "admin");
    let structure = structure_over_ws(&mut c);
    let light = find_control(&structure, "Hall Light")["uuidAction"]
        .as_str()
        .unwrap()
        .to_string();
    let active = state_of(&structure, "Hall Light", "active");

    // Status updates: the reply, then the value table and the text table.
    let (ll, _) = {
        c.send("jdev/sps/enablebinstatusupdate");
        c.reply()
    };
    assert_eq!(code(&ll), 200);
    let Msg::Values(values) = c.next() else {
        panic!("value table expected")
    };
    assert!(
        values.contains(&(active.clone(), 0.0)),
        "Hall Light starts off"
    );
    let Msg::Texts(texts) = c.next() else {
        panic!("text table expected")
    };
    let moods = state_of(&structure, "Living Room Lighting", "moodList");
    assert!(
        texts
            .iter()
            .any(|(u, t)| *u == moods && t.contains("\"Off\""))
    );

    // A command over the socket, then its event.
    let r = c.call(&format!("jdev/sps/io/{light}/on"));
    assert_eq!(r["control"], format!("dev/sps/io/{light}/on"));
    assert_eq!(r["Code"], "200");
    assert_eq!(
        c.wait_value(&active, Duration::from_secs(5), |v| v == 1.0),
        1.0
    );

    // Keepalive: a header with identifier 6 and nothing after it.
    c.send("keepalive");
    assert_eq!(c.next(), Msg::Keepalive);

    // The simulated Miniserver's own record: getjwt arrived encrypted, the command over ws.
    let log = sim.commands();
    let jwt = log
        .iter()
        .find(|e| e.command.starts_with("jdev/sys/getjwt/"))
        .unwrap();
    assert!(jwt.encrypted && jwt.code == 200);
    let dev = sim.device_commands();
    assert_eq!(dev.len(), 1);
    assert_eq!(dev[0].channel, Channel::Ws);
    assert_eq!(dev[0].op.as_deref(), Some("on"));
    assert_eq!(dev[0].control.as_deref(), Some(light.as_str()));
}

#[test]
fn plain_http_commands_use_a_hashed_token_inside_an_encrypted_request() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let addr = sim.addr();
    let login = http_login(addr, "admin", "password");
    let socket = sim.control_named("Garden socket").unwrap();
    let ll = http_command(addr, &login, "admin", &format!("jdev/sps/io/{socket}/on"));
    assert_eq!(code(&ll), 200, "{ll}");
    assert!(
        ll["control"].as_str().unwrap().starts_with("jdev/sys/enc/"),
        "echoes the outer command: {ll}"
    );
    let entry = sim.device_commands().pop().unwrap();
    assert!(entry.encrypted);
    assert_eq!(entry.auth, loxwarden::sim::AuthKind::TokenHash);
    assert_eq!(
        sim.control_state(&socket, "active"),
        Some(loxwarden::loxone::state::StateValue::Number(1.0))
    );

    // fenc: the whole body comes back sealed with the same key (CWM "Command Encryption",
    // HTTP step 9b), and only then is there an envelope to read.
    let path = login.session.http_enc_path("jdev/cfg/version", true);
    let (status, _, body) = get(addr, &path);
    assert_eq!(status, 200);
    assert!(
        serde_json::from_str::<Value>(&body).is_err(),
        "a fenc body is not a clear envelope: {body}"
    );
    let ll: Value = serde_json::from_str(&login.session.decrypt(body.trim())).unwrap();
    assert_eq!(ll["LL"]["value"], "16.0.6.17");
    assert_eq!(code(&ll["LL"]), 200);

    // Without credentials: HTTP 401 with the device's HTML; with a bad token: LL 401.
    let (status, _, body) = get(addr, &format!("jdev/sps/io/{socket}/off"));
    assert_eq!(status, 401);
    assert!(body.contains("<errorcode>401</errorcode>"));
    let ll = get_ll(
        addr,
        &format!("jdev/sps/io/{socket}/off?autht=nonsense&user=admin"),
    );
    assert_eq!(code(&ll), 401);
    // An undecryptable enc request is LL 401.
    let ll = get_ll(
        addr,
        &format!("jdev/sys/enc/AAAA?sk={}", urlenc(&login.session.rsa_b64)),
    );
    assert_eq!(code(&ll), 401);
}

#[test]
fn a_one_time_key_verifies_only_one_hash() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let addr = sim.addr();
    let login = http_login(addr, "admin", "password");
    let key = get_ll(addr, "jdev/sys/getkey");
    let h = token_hash(key["value"].as_str().unwrap(), &login.token, login.alg);
    let cmd = format!("jdev/sps/LoxAPPversion3?autht={h}&user=admin");
    let first = get_ll(addr, &login.session.http_enc_path(&cmd, false));
    assert_eq!(code(&first), 200);
    assert_eq!(first["value"], "2025-06-03 10:00:00");
    let again = get_ll(addr, &login.session.http_enc_path(&cmd, false));
    assert_eq!(code(&again), 401, "the key was used up");
}

#[test]
fn getjwt_in_the_clear_is_declined_and_a_wrong_password_gets_the_devices_401() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let addr = sim.addr();
    let k2 = get_ll(addr, "jdev/sys/getkey2/admin");
    let hash = login_hash(&k2["value"], "admin", "password");
    let clear = get_ll(
        addr,
        &format!("jdev/sys/getjwt/{hash}/admin/4/{CLIENT_UUID}/x"),
    );
    assert_eq!(code(&clear), 400, "CWM: unencrypted getjwt → 400");
    let pk = get_ll(addr, "jdev/sys/getPublicKey");
    let s = Session::new(pk["value"].as_str().unwrap());
    let k2 = get_ll(addr, "jdev/sys/getkey2/admin");
    let wrong = login_hash(&k2["value"], "admin", "not-the-password");
    let ll = get_ll(
        addr,
        &s.http_enc_path(
            &format!("jdev/sys/getjwt/{wrong}/admin/4/{CLIENT_UUID}/x"),
            false,
        ),
    );
    assert_eq!(code(&ll), 401);
    assert_eq!(ll["value"]["unix"], 1_230_768_000);
    assert!(sim.tokens().is_empty());
}

#[test]
fn firmware_10_2_answers_getkey2_without_hash_alg_and_expects_sha1() {
    let sim = Sim::start(SimOptions {
        firmware: "10.2.3.26".into(),
        ..SimOptions::default()
    })
    .unwrap();
    let k2 = get_ll(sim.addr(), "jdev/sys/getkey2/admin");
    assert!(k2["value"].get("hashAlg").is_none());
    let login = http_login(sim.addr(), "admin", "password");
    assert_eq!(login.alg, Alg::Sha1);
}

#[test]
fn a_sha1_override_on_new_firmware_names_sha1() {
    let sim = Sim::start(SimOptions {
        hash: Some(HashAlg::Sha1),
        ..SimOptions::default()
    })
    .unwrap();
    let k2 = get_ll(sim.addr(), "jdev/sys/getkey2/admin");
    assert_eq!(k2["value"]["hashAlg"], "SHA1");
    http_login(sim.addr(), "admin", "password");
}

#[test]
fn a_secured_control_needs_the_visualisation_password() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let addr = sim.addr();
    let login = http_login(addr, "admin", "password");
    let mut c = ws_login(addr, &login, "admin");
    let alarm = sim.control_named("Burglar Alarm").unwrap();
    let plain = c.call(&format!("jdev/sps/io/{alarm}/on/1"));
    assert_eq!(code(&plain), 500, "secured control without visu password");
    let salt = c.call("jdev/sys/getvisusalt/admin");
    let wrong = visu_hash(&salt["value"], "0000");
    assert_eq!(
        code(&c.call(&format!("jdev/sps/ios/{wrong}/{alarm}/on/1"))),
        500
    );
    let salt = c.call("jdev/sys/getvisusalt/admin");
    let right = visu_hash(&salt["value"], "1234");
    let ok = c.call(&format!("jdev/sps/ios/{right}/{alarm}/on/1"));
    assert_eq!(code(&ok), 200, "{ok}");
    assert_eq!(
        sim.control_state(&alarm, "armed"),
        Some(loxwarden::loxone::state::StateValue::Number(1.0))
    );
    // The door opener is a plain Pushbutton sub-control: no visualisation password.
    let opener = sim.control_named("Door opener").unwrap();
    assert_eq!(code(&c.call(&format!("jdev/sps/io/{opener}/pulse"))), 200);
}

#[test]
fn commands_to_unknown_controls_or_words_are_errors_not_success() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let login = http_login(sim.addr(), "admin", "password");
    let mut c = ws_login(sim.addr(), &login, "admin");
    let unknown = c.call("jdev/sps/io/0f86a2fe-0378-3e15-ffff373f9870b52a/on");
    assert_eq!(code(&unknown), 404);
    let blind = sim.control_named("Kitchen Blind").unwrap();
    assert_eq!(code(&c.call(&format!("jdev/sps/io/{blind}/fullup"))), 404);
    assert_eq!(
        code(&c.call(&format!("jdev/sps/io/{blind}/manualPosition/150"))),
        400
    );
    // A read is not a device command.
    let all = c.call(&format!("jdev/sps/io/{blind}/all"));
    assert_eq!(code(&all), 200);
    assert!(all.get("output0").is_some());
    let dev = sim.device_commands();
    assert_eq!(
        dev.len(),
        3,
        "the unknown, the misspelt and the out-of-range command"
    );
}

#[test]
fn commands_before_authentication_get_400_on_the_socket() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let mut c = Client::connect(sim.addr());
    let light = sim.control_named("Hall Light").unwrap();
    assert_eq!(code(&c.call(&format!("jdev/sps/io/{light}/on"))), 400);
    assert_eq!(code(&c.call("jdev/sps/enablebinstatusupdate")), 400);
}

#[test]
fn over_tls_a_plain_token_works_and_the_api_reports_https() {
    let sim = Sim::start(SimOptions {
        tls: true,
        ..SimOptions::default()
    })
    .unwrap();
    assert!(sim.url().starts_with("https://127.0.0.1:"));
    let addr = sim.addr();
    let host = loxwarden::sim::TEST_HOSTNAME;
    let (status, _, body) = get_tls(addr, sim.test_ca_pem(), host, "jdev/cfg/apiKey");
    assert_eq!(status, 200);
    assert!(body.contains("'httpsStatus':1"), "{body}");
    // Token over TLS: getjwt still encrypted (decision 6), then the plain token (decision 7).
    let (_, _, pk) = get_tls(addr, sim.test_ca_pem(), host, "jdev/sys/getPublicKey");
    let pk: Value = serde_json::from_str(&pk).unwrap();
    let s = Session::new(pk["LL"]["value"].as_str().unwrap());
    let (_, _, k2) = get_tls(addr, sim.test_ca_pem(), host, "jdev/sys/getkey2/admin");
    let k2: Value = serde_json::from_str(&k2).unwrap();
    let hash = login_hash(&k2["LL"]["value"], "admin", "password");
    let path = s.http_enc_path(
        &format!("jdev/sys/getjwt/{hash}/admin/4/{CLIENT_UUID}/tls"),
        false,
    );
    let (_, _, jwt) = get_tls(addr, sim.test_ca_pem(), host, &path);
    let jwt: Value = serde_json::from_str(&jwt).unwrap();
    let token = jwt["LL"]["value"]["token"].as_str().unwrap().to_string();
    let light = sim.control_named("Hall Light").unwrap();
    let (_, _, r) = get_tls(
        addr,
        sim.test_ca_pem(),
        host,
        &format!("jdev/sps/io/{light}/on?autht={}&user=admin", urlenc(&token)),
    );
    let r: Value = serde_json::from_str(&r).unwrap();
    assert_eq!(code(&r["LL"]), 200, "{r}");
    let e = sim.device_commands().pop().unwrap();
    assert_eq!(e.channel, Channel::Https);
    assert_eq!(e.auth, loxwarden::sim::AuthKind::Token);
    // And WSS by the CloudDNS-style name.
    let (mut c, _) = Client::connect_tls(addr, sim.test_ca_pem(), host);
    assert_eq!(code(&c.call("jdev/cfg/version")), 200);
}

#[test]
fn both_fixtures_load_and_serve_their_structure_file() {
    for f in [
        "loxone-net-manison-LoxAPP3.json",
        "loxone-java-smarteon-LoxAPP3.json",
    ] {
        let path = format!("{}/tests/fixtures/loxone/{f}", env!("CARGO_MANIFEST_DIR"));
        let sim = Sim::start(SimOptions {
            house: HouseSource::File(path.clone().into()),
            allow_basic_auth: true,
            ..SimOptions::default()
        })
        .unwrap();
        let basic = format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "admin:password")
        );
        let (status, _, body) = get_with(
            sim.addr(),
            "data/LoxAPP3.json",
            &[("Authorization", &basic)],
        );
        assert_eq!(status, 200, "{f}");
        assert_eq!(
            body,
            std::fs::read_to_string(&path).unwrap(),
            "{f} served as loaded"
        );
    }
}

#[test]
fn basic_auth_is_refused_unless_allowed() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "admin:password")
    );
    let (status, _, _) = get_with(
        sim.addr(),
        "data/LoxAPP3.json",
        &[("Authorization", &basic)],
    );
    assert_eq!(status, 401);
    let e = sim.commands().pop().unwrap();
    assert_eq!(
        e.auth,
        loxwarden::sim::AuthKind::Basic,
        "the attempt is on record"
    );
}

#[test]
fn a_token_acquired_over_the_socket_authenticates_it_and_can_be_refreshed_checked_and_killed() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let addr = sim.addr();
    let pk = get_ll(addr, "jdev/sys/getPublicKey");
    let s = Session::new(pk["value"].as_str().unwrap());
    let mut c = Client::connect(addr);
    let kx = c.call(&format!("jdev/sys/keyexchange/{}", s.rsa_b64));
    assert_eq!(code(&kx), 200);
    // Decision 4: the keyexchange value is an encrypted one-time salt (hex).
    let salt = s.decrypt(kx["value"].as_str().unwrap());
    assert!(
        !salt.is_empty() && salt.chars().all(|ch| ch.is_ascii_hexdigit()),
        "{salt:?}"
    );
    let k2 = c.call("jdev/sys/getkey2/admin");
    let hash = login_hash(&k2["value"], "admin", "password");
    let jwt = c.call(&s.enc_path(
        &format!("jdev/sys/getjwt/{hash}/admin/4/{CLIENT_UUID}/ws"),
        false,
    ));
    assert_eq!(code(&jwt), 200, "{jwt}");
    let token = jwt["value"]["token"].as_str().unwrap().to_string();
    // CWM: a socket on which a token was acquired is authenticated.
    assert_eq!(code(&c.call("jdev/sps/enablebinstatusupdate")), 200);
    assert!(matches!(c.next(), Msg::Values(_)));
    assert!(matches!(c.next(), Msg::Texts(_)));

    let alg = Alg::from_reply(&k2["value"]);
    let hashed = |c: &mut Client, t: &str| {
        let key = c.call("jdev/sys/getkey");
        token_hash(key["value"].as_str().unwrap(), t, alg)
    };
    let h = hashed(&mut c, &token);
    let check = c.call(&s.enc_path(&format!("jdev/sys/checktoken/{h}/admin"), false));
    assert_eq!(code(&check), 200);
    assert!(check["value"]["validUntil"].as_u64().is_some());
    let h = hashed(&mut c, &token);
    let refreshed = c.call(&s.enc_path(&format!("jdev/sys/refreshjwt/{h}/admin"), false));
    assert_eq!(code(&refreshed), 200);
    let new_token = refreshed["value"]["token"].as_str().unwrap().to_string();
    assert_ne!(new_token, token);
    let h = hashed(&mut c, &token);
    assert_eq!(
        code(&c.call(&s.enc_path(&format!("jdev/sys/checktoken/{h}/admin"), false))),
        401,
        "the old token is gone after a refresh"
    );
    let h = hashed(&mut c, &new_token);
    assert_eq!(
        code(&c.call(&s.enc_path(&format!("jdev/sys/killtoken/{h}/admin"), false))),
        200
    );
    assert!(sim.tokens().is_empty());

    // A salt change the socket did not announce is undecryptable (CWM "nextSalt").
    let bad = s.encrypt("nextSalt/not-the-current/abcd/jdev/cfg/version");
    assert_eq!(
        code(&c.call(&format!("jdev/sys/enc/{}", urlenc(&bad)))),
        401
    );
    let silent = s.encrypt("salt/abcd/jdev/cfg/version");
    assert_eq!(
        code(&c.call(&format!("jdev/sys/enc/{}", urlenc(&silent)))),
        401,
        "a new salt without nextSalt"
    );
    let announced = s.encrypt(&format!("nextSalt/{}/abcd/jdev/cfg/version", s.salt));
    assert_eq!(
        code(&c.call(&format!("jdev/sys/enc/{}", urlenc(&announced)))),
        200
    );
    assert_eq!(
        code(&c.call(&format!(
            "jdev/sys/enc/{}",
            urlenc(&s.encrypt("salt/abcd/jdev/cfg/version"))
        ))),
        200,
        "the announced salt is the socket's salt now"
    );
}

#[test]
fn one_http_session_key_keeps_its_salt_and_an_enc_answer_echoes_the_outer_command() {
    let sim = Sim::start(SimOptions::default()).unwrap();
    let addr = sim.addr();
    let s = Session::new(
        get_ll(addr, "jdev/sys/getPublicKey")["value"]
            .as_str()
            .unwrap(),
    );
    let sk = urlenc(&s.rsa_b64);
    let send = |plain: &str| {
        let cipher = s.encrypt(plain);
        let ll = get_ll(addr, &format!("jdev/sys/enc/{}?sk={sk}", urlenc(&cipher)));
        (ll, cipher)
    };
    let (first, cipher) = send("salt/1234/jdev/cfg/version");
    assert_eq!(code(&first), 200);
    assert_eq!(first["value"], "16.0.6.17");
    // PyLoxone and openHAB read the outer command back, with the cipher as raw base64.
    assert_eq!(first["control"], format!("jdev/sys/enc/{cipher}"));
    assert_eq!(
        code(&send("salt/1234/jdev/cfg/version").0),
        200,
        "same salt"
    );
    assert_eq!(
        code(&send("salt/5678/jdev/cfg/version").0),
        401,
        "CWM HTTP step 14a: an unexpected salt change"
    );
    assert_eq!(code(&send("nextSalt/1234/5678/jdev/cfg/version").0), 200);
    assert_eq!(code(&send("salt/5678/jdev/cfg/version").0), 200);
    // Another session key starts with whatever salt it likes.
    let other = Session::new(
        get_ll(addr, "jdev/sys/getPublicKey")["value"]
            .as_str()
            .unwrap(),
    );
    let cipher = other.encrypt("salt/9abc/jdev/cfg/version");
    let ll = get_ll(
        addr,
        &format!(
            "jdev/sys/enc/{}?sk={}",
            urlenc(&cipher),
            urlenc(&other.rsa_b64)
        ),
    );
    assert_eq!(code(&ll), 200);
}

#[test]
fn http_keeps_the_connection_alive_between_requests() {
    use std::io::{Read, Write};
    let sim = Sim::start(SimOptions::default()).unwrap();
    let mut s = std::net::TcpStream::connect(sim.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let read_one = |s: &mut std::net::TcpStream| {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).unwrap();
            buf.push(byte[0]);
        }
        let head = String::from_utf8(buf).unwrap();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).unwrap();
        (head, String::from_utf8(body).unwrap())
    };
    for _ in 0..3 {
        s.write_all(b"GET /jdev/cfg/version HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let (head, body) = read_one(&mut s);
        assert!(head.starts_with("HTTP/1.1 200"));
        assert!(head.contains("Connection: keep-alive"));
        assert!(body.contains("16.0.6.17"));
    }
    assert_eq!(sim.connections(), 1);
}

#[test]
fn connections_beyond_the_limit_are_refused_with_901() {
    let sim = Sim::start(SimOptions {
        max_connections: 1,
        ..SimOptions::default()
    })
    .unwrap();
    let _held = Client::connect(sim.addr());
    let (status, _, body) = get(sim.addr(), "jdev/cfg/api");
    assert_eq!(status, 503);
    assert!(body.contains("\"Code\":\"901\""), "{body}");
}
