//! TLS as the link does it: pinning, CloudDNS names with the address pinned to the LAN IP,
//! `ca_file`, and the capture step of `login`, against a TLS listener on loopback that
//! presents the test certificates in tests/fixtures/tls/. The listener speaks just enough
//! HTTP to answer `jdev/cfg/apiKey` and records what reached it, so a refused handshake can be
//! shown to have sent nothing.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use loxwarden::config::parse_ms_url;
use loxwarden::loxone::errors::LinkError;
use loxwarden::loxone::http::Http;
use loxwarden::loxone::tls::{self, Fingerprint, Policy, Verifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const NAME: &str = "127-0-0-1.504f94a00000.dyndns.loxonecloud.com";
const FP_A: &str = "C6:62:43:D5:D6:78:A7:0F:6A:06:C8:B3:5C:62:34:EE:96:FC:EE:2E:51:44:27:2A:29:19:A2:3E:18:D3:C9:09";
const FP_B: &str = "B8:66:4E:C2:E3:13:23:ED:1D:A9:9B:A3:12:8C:6F:8F:5D:18:81:06:59:E0:A9:71:6D:81:6D:9F:ED:3D:7D:72";

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// A TLS listener presenting `server-{which}`; returns its address and the request lines seen.
fn serve(which: &str) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(fixture(&format!("server-{which}.pem")))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    let key = PrivateKeyDer::from_pem_file(fixture(&format!("server-{which}.key"))).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut tcp) = stream else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let Ok(mut conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            if buf.is_empty() {
                continue;
            }
            let text = String::from_utf8_lossy(&buf).into_owned();
            log.lock().unwrap().push(text.clone());
            let body = r#"{"LL":{"control":"dev/cfg/apiKey","value":"{'snr': '50:4F:94:A0:00:00', 'version':'16.0.6.17', 'httpsStatus':1, 'local':true}","Code":"200"}}"#;
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tls.write_all(resp.as_bytes());
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (addr, seen)
}

fn http(addr: SocketAddr, policy: Policy, ca: bool) -> (Http, Arc<Verifier>) {
    let url = parse_ms_url(&format!("https://{NAME}:{}", addr.port())).unwrap();
    let roots = if ca {
        tls::read_pem_certs(&fixture("ca.pem")).unwrap()
    } else {
        Vec::new()
    };
    let v = Verifier::new(policy, &roots).unwrap();
    let h = Http::new(&url, Some(addr), Some(v.clone()), Duration::from_secs(5)).unwrap();
    (h, v)
}

#[test]
fn a_pinned_certificate_is_accepted_by_its_cloud_dns_name_at_the_lan_address() {
    let (addr, seen) = serve("a");
    let (h, _) = http(
        addr,
        Policy::Pinned(Fingerprint::parse(FP_A).unwrap()),
        false,
    );
    let r = h.get_ll("jdev/cfg/apiKey").unwrap();
    assert_eq!(r.code, 200);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].starts_with("GET /jdev/cfg/apiKey HTTP/1.1"),
        "{}",
        seen[0]
    );
    // The Host header carries the certificate's name, not the IP we connected to.
    assert!(
        seen[0]
            .to_ascii_lowercase()
            .contains(&format!("host: {NAME}"))
    );
    // Never HTTP Basic auth.
    assert!(!seen[0].to_ascii_lowercase().contains("authorization"));
}

#[test]
fn a_changed_certificate_is_refused_naming_both_fingerprints_and_nothing_is_sent() {
    let (addr, seen) = serve("b");
    let (h, _) = http(
        addr,
        Policy::Pinned(Fingerprint::parse(FP_A).unwrap()),
        false,
    );
    let e = h.get_ll("jdev/cfg/apiKey").unwrap_err();
    let LinkError::Tls(msg) = &e else {
        panic!("expected a TLS error, got {e:?}");
    };
    assert!(msg.contains("changed"), "{msg}");
    assert!(msg.contains(&format!("SHA256:{FP_A}")), "{msg}");
    assert!(msg.contains(&format!("SHA256:{FP_B}")), "{msg}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "a request crossed a refused handshake"
    );
}

#[test]
fn the_chain_is_verified_with_ca_file_and_refused_without_it() {
    let (addr, seen) = serve("a");
    let (h, _) = http(addr, Policy::WebPki, true);
    assert_eq!(h.get_ll("jdev/cfg/apiKey").unwrap().code, 200);
    let (h, _) = http(addr, Policy::WebPki, false);
    let e = h.get_ll("jdev/cfg/apiKey").unwrap_err();
    assert!(
        matches!(&e, LinkError::Tls(m) if m.contains("does not verify")),
        "{e:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn capture_records_the_fingerprint_and_sends_nothing() {
    let (addr, seen) = serve("b");
    let (h, v) = http(addr, Policy::Capture, true);
    assert!(h.get_ll("jdev/cfg/apiKey").is_err());
    let s = v.last_seen().expect("a certificate was seen");
    assert_eq!(s.fingerprint, Fingerprint::parse(FP_B).unwrap());
    assert!(s.webpki.is_ok(), "{:?}", s.webpki);
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn verification_off_connects_but_still_records_what_it_saw() {
    let (addr, _) = serve("a");
    let (h, v) = http(addr, Policy::Off, false);
    assert_eq!(h.get_ll("jdev/cfg/apiKey").unwrap().code, 200);
    let s = v.last_seen().unwrap();
    assert_eq!(s.fingerprint.to_string(), format!("SHA256:{FP_A}"));
    assert!(s.webpki.is_err());
}

// ------------------------------------------------------------------ against the simulator

use crate::link_support::*;
use loxwarden::loxone::command::{Command, Op};
use loxwarden::loxone::health::LinkState;
use loxwarden::loxone::link::SendError;
use loxwarden::loxone::store::StoredToken;
use loxwarden::loxone::tls::TlsState;

#[test]
fn login_pins_the_simulators_certificate_and_the_link_uses_the_pin() {
    let sim = sim_with(|o| o.tls = true);
    let dir = TempDir::new("tls-pin");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    let fp = sim_fingerprint(&sim);
    let out = login(&cfg, sim.password(), Some(&fp.to_string())).unwrap();
    assert!(
        out.contains(&fp.to_string()),
        "login shows the fingerprint: {out}"
    );
    assert!(out.contains("certificate pinned"), "{out}");
    let stored = StoredToken::load(&cfg.paths.state_dir).unwrap().unwrap();
    assert_eq!(stored.tls_pin, Some(fp));
    let link = start_live(&cfg, None);
    assert_eq!(link.facts().tls, Some(TlsState::Pinned { fingerprint: fp }));
    // Over TLS the token rides in the query as is (decision 7); nothing is Basic.
    assert!(
        sim.commands()
            .iter()
            .all(|e| e.auth != loxwarden::sim::AuthKind::Basic)
    );
    link.stop();
}

#[test]
fn a_changed_certificate_takes_the_link_down_with_both_fingerprints_and_commands_are_refused() {
    let sim = sim_with(|o| o.tls = true);
    let dir = TempDir::new("tls-changed");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    let pinned = sim_fingerprint(&sim);
    login(&cfg, sim.password(), Some(&pinned.to_string())).unwrap();
    let link = start_live(&cfg, None);
    let s = link.structure();
    sim.present_alt_cert(true);
    let other = sim_fingerprint(&sim);
    assert_ne!(pinned, other);
    sim.drop_sockets();
    let refused = wait_until(Duration::from_secs(10), || {
        let h = link.health();
        h.state == LinkState::Down && h.reason.contains("certificate changed")
    });
    let h = link.health();
    assert!(refused.is_some(), "{h:?}");
    assert!(h.reason.contains(&pinned.to_string()), "{}", h.reason);
    assert!(h.reason.contains(&other.to_string()), "{}", h.reason);
    let mark = sim.log_mark();
    let e = link
        .send(
            &Command::new(sim.control_named("Hall Light").unwrap(), Op::On),
            s.generation,
        )
        .unwrap_err();
    assert!(matches!(e, SendError::NotLive(_)), "{e}");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        sim.commands_since(mark).is_empty(),
        "a request crossed the changed certificate"
    );
    link.stop();
}

#[test]
fn login_refuses_a_certificate_other_than_the_one_accepted_and_sends_nothing() {
    let sim = sim_with(|o| o.tls = true);
    let dir = TempDir::new("tls-wrong-accept");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    let e = login(&cfg, sim.password(), Some(FP_A)).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("TLS:"), "{msg}");
    assert!(msg.contains("not the one you accepted"), "{msg}");
    assert_eq!(e.exit_code(), 76);
    assert!(sim.commands().is_empty(), "{:?}", sim.commands());
    assert!(StoredToken::load(&cfg.paths.state_dir).unwrap().is_none());
}

#[test]
fn login_without_a_terminal_and_without_an_accepted_fingerprint_is_refused() {
    // `cargo test` runs without a terminal on stdin in CI; if a person runs it on one, the
    // question would be asked instead, so only check the non-interactive path there.
    if loxwarden::loxone::secret::stdin_is_terminal() {
        return;
    }
    let sim = sim_with(|o| o.tls = true);
    let dir = TempDir::new("tls-no-accept");
    let (_, cfg) = write_config(&sim, dir.path(), "");
    let e = login(&cfg, sim.password(), None).unwrap_err().to_string();
    assert!(e.contains("--accept-fingerprint"), "{e}");
    assert!(e.contains(&sim_fingerprint(&sim).to_string()), "{e}");
    assert!(sim.commands().is_empty());
}

#[test]
fn the_cloud_dns_certificate_verifies_with_the_test_ca_and_the_address_pinned() {
    let sim = sim_with(|o| o.tls = true);
    let dir = TempDir::new("tls-ca");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sim.test_ca_pem()).unwrap();
    // Pinned by hand in the config: login asks nothing and the chain is not needed...
    let (_, cfg) = write_config(
        &sim,
        dir.path(),
        &format!("ca_file = \"{}\"\n", ca.display()),
    );
    let url = cfg.ms_url().unwrap();
    let v = Verifier::new(Policy::WebPki, &tls::read_pem_certs(&ca).unwrap()).unwrap();
    let h = Http::new(&url, Some(sim.addr()), Some(v), Duration::from_secs(5)).unwrap();
    // ...and the chain + name check passes for the CloudDNS name at 127.0.0.1.
    assert_eq!(h.get_ll("jdev/cfg/apiKey").unwrap().code, 200);
}
