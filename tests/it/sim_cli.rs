//! `loxwarden sim` through the real binary: it serves the house it was given and says where.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use crate::sim_support::*;

fn loxwarden() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loxwarden"))
}

/// Kills the simulator process it started when the test ends, pass or fail.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `loxwarden sim ARGS` and reads the printed Miniserver URL.
fn start(args: &[&str]) -> (Running, SocketAddr, Vec<String>) {
    let child = loxwarden()
        .arg("sim")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut run = Running(child);
    let out = run.0.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(out).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Press Ctrl-C");
        lines.push(line);
        if done {
            break;
        }
    }
    let url = lines
        .iter()
        .find_map(|l| l.strip_prefix("url:"))
        .unwrap_or_else(|| panic!("no url line in {lines:?}"))
        .trim()
        .to_string();
    let addr = url.strip_prefix("http://").unwrap().parse().unwrap();
    (run, addr, lines)
}

#[test]
fn sim_serves_the_manison_fixture_it_was_given() {
    let fixture = format!(
        "{}/tests/fixtures/loxone/loxone-net-manison-LoxAPP3.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let (_run, addr, lines) = start(&[
        "--structure",
        &fixture,
        "--user",
        "u1",
        "--password",
        "pw-123456",
    ]);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("admin:") && l.contains("http://127.0.0.1:"))
    );
    assert!(lines.iter().any(|l| l == "user:      u1"), "{lines:?}");
    // The owner's inventory: per type present, how loxwarden treats it; none unknown.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("type         Sauna ×1: controllable (appliance): on")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("type         Jalousie ×12: controllable (blind)")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("types        ") && l.ends_with(", 0 unknown to loxwarden")),
        "{lines:?}"
    );
    let api = get_ll(addr, "jdev/cfg/api");
    assert_eq!(code(&api), 200);
    assert!(
        api["value"]
            .as_str()
            .unwrap()
            .contains("'snr': 'EE:E0:00:A8:00:4A'"),
        "the fixture's serial: {api}"
    );
    // The structure file, fetched the Gen 1 way: token hash inside an encrypted request.
    let login = http_login(addr, "u1", "pw-123456");
    let key = get_ll(addr, "jdev/sys/getkey");
    let h = token_hash(key["value"].as_str().unwrap(), &login.token, login.alg);
    let path = login
        .session
        .http_enc_path(&format!("data/LoxAPP3.json?autht={h}&user=u1"), false);
    let (status, _, body) = get(addr, &path);
    assert_eq!(status, 200);
    assert_eq!(body, std::fs::read_to_string(&fixture).unwrap());
}

#[test]
fn sim_writes_a_generated_structure_file_and_exits() {
    let dir = std::env::temp_dir().join(format!("loxwarden-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("generated.json");
    let out = loxwarden()
        .args(["sim", "--generate", "300", "--write-structure"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = loxwarden::loxone::structure::Structure::parse(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        s.controls.iter().filter(|c| c.parent.is_none()).count(),
        300
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sim_refuses_an_unknown_hash_algorithm() {
    let out = loxwarden().args(["sim", "--hash", "md5"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sha1 or sha256"));
}
