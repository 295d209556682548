//! `loxwarden login`, `check-config` and `logout` through the real binary, against
//! `loxwarden sim` running as its own process.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use loxwarden::loxone::tls::Fingerprint;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::link_support::{FAST_LINK, SIM_TLS_NAME, TempDir};

fn loxwarden() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_loxwarden"));
    c.env_remove("LOXWARDEN_PASSWORD")
        .env_remove("LOXWARDEN_VISU_PASSWORD")
        .env_remove("LOXWARDEN_ACCEPT_FINGERPRINT")
        .env("LOXWARDEN_LOG", "warn");
    c
}

/// `loxwarden sim` as a child process; killed on drop.
struct SimProcess {
    child: Child,
    url: String,
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sim(args: &[&str]) -> SimProcess {
    let mut child = loxwarden()
        .arg("sim")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("sim printed its url").unwrap();
        if let Some(u) = line.strip_prefix("url:") {
            break u.trim().to_owned();
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    SimProcess { child, url }
}

fn write_config(dir: &Path, miniserver: &str) -> std::path::PathBuf {
    let text = format!(
        "[miniserver]\n{miniserver}user = \"admin\"\n\n{FAST_LINK}[paths]\nstate_dir = \"{}\"\naudit_log = \"{}\"\nsocket = \"{}\"\n",
        dir.join("state").display(),
        dir.join("audit.jsonl").display(),
        dir.join("mcp.sock").display()
    );
    let p = dir.join("config.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_config_against_loxwarden_sim_prints_the_real_facts() {
    let sim = start_sim(&["--port", "0"]);
    let dir = TempDir::new("cli-check");
    let cfg = write_config(dir.path(), &format!("url = \"{}\"\n", sim.url));
    let cfg = cfg.to_str().unwrap();

    // Not logged in yet: says so, exits 77, but still shows what it could learn.
    let (code, out, err) = run(loxwarden().args(["--config", cfg, "check-config"]));
    assert_eq!(code, 77, "{out}{err}");
    assert!(err.contains("loxwarden login"), "{err}");
    assert!(out.contains("firmware      16.0.6.17"), "{out}");

    let (code, out, err) = run(loxwarden()
        .args(["--config", cfg, "login"])
        .env("LOXWARDEN_PASSWORD", "password"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Logged in as 'admin'"), "{out}");
    assert!(
        !out.contains("password") && !err.contains("password\n"),
        "{out}{err}"
    );

    let (code, out, err) = run(loxwarden().args(["--config", cfg, "check-config"]));
    assert_eq!(code, 0, "{out}{err}");
    for fact in [
        "config        ",
        ": valid",
        "firmware      16.0.6.17",
        "serial        50:4F:94:A0:00:01",
        "type          Miniserver Gen 2",
        "transport     no TLS (the Miniserver offers none, as Gen 1 does): plain HTTP/WS, credentials sent with Loxone command encryption",
        "link          live",
        "structure     lastModified 2025-06-03 10:00:00",
        "secured)",
        "visu password not configured: commands to the 1 secured controls will be refused",
        // What the AI would see, as the help promises.
        "the AI sees  ",
        " room(s): ",
        " it may control, ",
        // The owner's inventory per Loxone type (house::inventory).
        "type         Jalousie ×5: controllable (blind): up, down, position, shade, stop",
        "type         SmokeAlarm ×1: hidden until opted in (alarm",
        ", 0 unknown to loxwarden",
        "consent       elicitation only (no [consent.house])",
    ] {
        assert!(out.contains(fact), "missing {fact:?} in:\n{out}");
    }
    assert!(
        out.lines()
            .any(|l| l.starts_with("states        ") && !l.contains(" 0 ")),
        "{out}"
    );

    // The Loxone app channel's two controls are looked up in the structure it loaded.
    let text = std::fs::read_to_string(cfg).unwrap();
    let app =
        "[consent.house]\napprove = \"AI/Approve AI request\"\nquestion = \"AI/AI request\"\n";
    std::fs::write(cfg, format!("{text}{app}")).unwrap();
    let (code, out, err) = run(loxwarden().args(["--config", cfg, "check-config"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("consent       Loxone app: approve 'AI/Approve AI request', question 'AI/AI request' (both found in this structure"),
        "{out}"
    );
    let wrong = app.replace("AI/AI request\"", "AI/No such input\"");
    std::fs::write(cfg, format!("{text}{wrong}")).unwrap();
    let (code, out, err) = run(loxwarden().args(["--config", cfg, "check-config"]));
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("No such input"), "{out}{err}");
    std::fs::write(cfg, text).unwrap();

    let (code, out, err) = run(loxwarden().args(["--config", cfg, "logout"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("revoked"), "{out}");
    let (code, _, err) = run(loxwarden().args(["--config", cfg, "check-config"]));
    assert_eq!(code, 77, "{err}");
}

#[test]
fn check_config_exits_69_for_an_unreachable_miniserver_and_76_for_a_tls_failure() {
    // Unreachable: a port nothing listens on (bound, then closed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = TempDir::new("cli-check-unreachable");
    let cfg = write_config(dir.path(), &format!("url = \"http://127.0.0.1:{port}\"\n"));
    let (code, out, err) =
        run(loxwarden().args(["--config", cfg.to_str().unwrap(), "check-config"]));
    assert_eq!(code, 69, "{out}{err}");
    assert!(out.contains("connection    FAILED"), "{out}");
    // TLS that cannot be verified (no pinned certificate, none accepted).
    let sim = start_sim(&["--port", "0", "--tls"]);
    let port = sim.url.rsplit(':').next().unwrap().to_owned();
    let dir = TempDir::new("cli-check-tls");
    let cfg = write_config(
        dir.path(),
        &format!("url = \"https://{SIM_TLS_NAME}:{port}\"\naddress = \"127.0.0.1\"\n"),
    );
    let (code, out, err) =
        run(loxwarden().args(["--config", cfg.to_str().unwrap(), "check-config"]));
    assert_eq!(code, 76, "{out}{err}");
}

#[test]
fn login_and_check_config_over_tls_pin_the_certificate() {
    let sim = start_sim(&["--port", "0", "--tls"]);
    let port = sim.url.rsplit(':').next().unwrap().to_owned();
    let dir = TempDir::new("cli-tls");
    let cfg = write_config(
        dir.path(),
        &format!("url = \"https://{SIM_TLS_NAME}:{port}\"\naddress = \"127.0.0.1\"\n"),
    );
    let cfg = cfg.to_str().unwrap();
    let der = CertificateDer::from_pem_slice(loxwarden::sim::SERVER_CERT_PEM.as_bytes()).unwrap();
    let fp = Fingerprint::of(der.as_ref()).to_string();

    // No terminal, no accepted fingerprint: refused, and the fingerprint is shown.
    let (code, out, err) = run(loxwarden()
        .args(["--config", cfg, "login"])
        .env("LOXWARDEN_PASSWORD", "password"));
    assert_eq!(code, 76, "{out}{err}");
    assert!(out.contains(&fp), "{out}");
    assert!(err.contains("--accept-fingerprint"), "{err}");

    let (code, out, err) = run(loxwarden()
        .args(["--config", cfg, "login"])
        .env("LOXWARDEN_PASSWORD", "password")
        .env("LOXWARDEN_ACCEPT_FINGERPRINT", &fp));
    assert_eq!(code, 0, "{out}{err}");

    let (code, out, err) = run(loxwarden().args(["--config", cfg, "check-config"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("transport     TLS, certificate pinned {fp}")),
        "{out}"
    );
    assert!(out.contains("link          live"), "{out}");
}

#[test]
fn a_wrong_password_through_the_binary_exits_77_with_what_to_do() {
    let sim = start_sim(&["--port", "0"]);
    let dir = TempDir::new("cli-wrong");
    let cfg = write_config(dir.path(), &format!("url = \"{}\"\n", sim.url));
    let (code, out, err) = run(loxwarden()
        .args(["--config", cfg.to_str().unwrap(), "login"])
        .env("LOXWARDEN_PASSWORD", "wrong"));
    assert_eq!(code, 77, "{out}{err}");
    assert!(
        err.contains("refused the password for user 'admin' (LL 401)"),
        "{err}"
    );
    assert!(out.is_empty(), "{out}");
}
