//! What the .deb installs agrees with the code: the example config parses with the real schema
//! (every commented-out setting too), the unit creates the directories the config defaults
//! point at and loads the credentials the example config names, and the SSH examples force
//! the command the CLI knows as `serve`. The install/remove behaviour of the package itself is
//! checked by `cross/deb-test` (it needs a built .deb and root).

use std::path::{Path, PathBuf};

use loxwarden::cli::{self, Command};
use loxwarden::config::{Config, Paths};

const EXAMPLE_CONFIG: &str = include_str!("../../systemd/config.example.toml");
const UNIT: &str = include_str!("../../systemd/loxwarden.service");
const SYSUSERS: &str = include_str!("../../systemd/loxwarden.sysusers");
const TMPFILES: &str = include_str!("../../systemd/loxwarden.tmpfile");
const AUTHORIZED_KEYS: &str = include_str!("../../systemd/authorized_keys.example");
const SSHD_CONFIG: &str = include_str!("../../systemd/sshd_config.example");
const CLAUDE_DESKTOP: &str = include_str!("../../systemd/claude_desktop_config.example.json");

/// The values of `Key=` in the unit, in order (comments skipped).
fn directive<'a>(key: &str) -> Vec<&'a str> {
    let prefix = format!("{key}=");
    UNIT.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix(prefix.as_str()))
        .collect()
}

fn one_directive(key: &str) -> &'static str {
    match directive(key).as_slice() {
        [one] => one,
        other => panic!("expected one {key}= in the unit, found {other:?}"),
    }
}

/// The example with every switchable setting (`#key = ...`, `#[section]`) switched on.
fn example_with_everything_on() -> String {
    EXAMPLE_CONFIG
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase() || c == '[') => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_packaged_config_ships_without_an_address_and_says_which_key_to_set() {
    // A user who forgets to edit it gets "set miniserver.url", not logins against whatever
    // answers at an example address.
    let e = Config::parse(EXAMPLE_CONFIG).expect_err("the shipped config names no Miniserver");
    assert!(e.contains("miniserver.url is not set"), "{e}");
    // Through the binary, the error names the file too.
    let dir = crate::link_support::TempDir::new("packaged-config");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, EXAMPLE_CONFIG).unwrap();
    let out = std::process::Command::new(crate::support::BIN)
        .arg("--config")
        .arg(&path)
        .arg("check-config")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(
        err.contains(&format!("{}: miniserver.url is not set", path.display())),
        "{err}"
    );
    // Set the two keys, and it parses with the safe defaults.
    let edited = EXAMPLE_CONFIG
        .replace("#url = \"http", "url = \"http")
        .replace("#user = \"ai-gateway\"", "user = \"ai-gateway\"");
    let cfg = Config::parse(&edited).unwrap_or_else(|e| panic!("{e}"));
    assert!(cfg.miniserver.url.starts_with("http"));
    assert!(!cfg.miniserver.user.is_empty());
    assert!(
        cfg.miniserver.tls_verify,
        "the example must not switch TLS checks off"
    );
    assert!(
        cfg.miniserver.password_file.is_none(),
        "credentials are opt-in"
    );
}

#[test]
fn every_commented_out_setting_in_the_example_config_is_a_valid_key() {
    let text = example_with_everything_on();
    let cfg = Config::parse(&text).unwrap_or_else(|e| panic!("{e}\n---\n{text}"));
    // The switch-on really happened (otherwise this test would prove nothing).
    assert!(cfg.miniserver.address.is_some());
    assert!(cfg.night.is_some());
    assert_eq!(cfg.classify.len(), 1);
    assert_eq!(cfg.limits.room.len(), 1);
    assert_eq!(cfg.profiles.len(), 1);
    assert!(!cfg.exposure.opt_in.is_empty());
    assert!(!cfg.control.resume_users.is_empty());
}

#[test]
fn the_example_paths_section_shows_the_defaults() {
    let cfg = Config::parse(&example_with_everything_on()).unwrap();
    let d = Paths::default();
    assert_eq!(cfg.paths.state_dir, d.state_dir);
    assert_eq!(cfg.paths.audit_log, d.audit_log);
    assert_eq!(cfg.paths.socket, d.socket);
}

#[test]
fn the_unit_creates_the_directories_the_config_defaults_point_at() {
    let d = Paths::default();
    let under = |base: &str, name: &str| PathBuf::from(base).join(name);
    assert_eq!(
        d.state_dir,
        under("/var/lib", one_directive("StateDirectory"))
    );
    assert_eq!(
        d.audit_log.parent(),
        Some(under("/var/log", one_directive("LogsDirectory")).as_path())
    );
    assert_eq!(
        d.socket.parent(),
        Some(under("/run", one_directive("RuntimeDirectory")).as_path())
    );
}

#[test]
fn the_tmpfiles_snippet_makes_the_same_directories_as_the_unit() {
    // Before the first start, `sudo -u loxwarden loxwarden login` needs the state directory;
    // the tmpfiles snippet makes it with the unit's owner and mode.
    let user = one_directive("User");
    let expect = [
        (
            format!("/var/lib/{}", one_directive("StateDirectory")),
            one_directive("StateDirectoryMode"),
        ),
        (
            format!("/var/log/{}", one_directive("LogsDirectory")),
            one_directive("LogsDirectoryMode"),
        ),
    ];
    let lines: Vec<Vec<&str>> = TMPFILES
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines.len(), expect.len(), "{lines:?}");
    for (path, mode) in expect {
        let line = lines
            .iter()
            .find(|f| f.get(1) == Some(&path.as_str()))
            .unwrap_or_else(|| panic!("no tmpfiles line for {path}"));
        assert_eq!(
            line[..5],
            ["d", path.as_str(), mode, user, user],
            "{line:?}"
        );
    }
}

#[test]
fn the_unit_runs_as_the_account_the_package_creates() {
    let user = one_directive("User");
    assert_eq!(one_directive("Group"), user);
    let account: Vec<&str> = SYSUSERS
        .lines()
        .find(|l| l.starts_with("u "))
        .expect("a u line")
        .split_whitespace()
        .collect();
    assert_eq!(account[1], user);
    assert_eq!(one_directive("DynamicUser"), "no");
}

#[test]
fn the_credential_files_in_the_example_config_are_the_ones_the_unit_loads() {
    let cfg = Config::parse(&example_with_everything_on()).unwrap();
    let loaded = directive("LoadCredentialEncrypted");
    let dir = Path::new("/run/credentials/loxwarden.service");
    for file in [
        cfg.miniserver.password_file.expect("password_file example"),
        cfg.miniserver
            .visu_password_file
            .expect("visu_password_file example"),
    ] {
        assert_eq!(file.parent(), Some(dir), "{}", file.display());
        let name = file.file_name().and_then(|n| n.to_str()).unwrap();
        assert!(
            loaded.contains(&name),
            "{name} is not in LoadCredentialEncrypted={loaded:?}"
        );
    }
}

#[test]
fn the_unit_keeps_socket_peer_uids_real_and_has_no_listener_of_its_own() {
    // PrivateUsers= would map every other uid to "nobody" in SO_PEERCRED, and the daemon
    // authorises socket peers by uid.
    assert!(directive("PrivateUsers").is_empty());
    // SC-3: no socket activation, no TCP listener; the trust boundary is SSH.
    assert!(directive("ListenStream").is_empty());
    assert_eq!(one_directive("Type"), "notify");
    assert_eq!(one_directive("ExecStart"), "/usr/bin/loxwarden daemon");
}

/// `/usr/bin/loxwarden serve` as the CLI parses it.
fn assert_forces_serve(command: &str) {
    let mut words = command.split_whitespace();
    assert_eq!(words.next(), Some("/usr/bin/loxwarden"), "{command}");
    let (_, parsed) = cli::parse(words).unwrap_or_else(|e| panic!("{command}: {e}"));
    assert!(
        matches!(
            parsed,
            Command::Serve {
                standalone: false,
                ..
            }
        ),
        "{command}: {parsed:?}"
    );
}

#[test]
fn the_ssh_examples_force_loxwarden_serve() {
    let key_line = AUTHORIZED_KEYS
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .expect("a key line");
    let (forced, rest) = key_line
        .strip_prefix("command=\"")
        .and_then(|r| r.split_once('"'))
        .expect("the key line starts with command=\"...\"");
    assert_forces_serve(forced);
    assert!(rest.starts_with(",restrict "), "{rest}");

    let force_command = SSHD_CONFIG
        .lines()
        .find_map(|l| l.trim().strip_prefix("ForceCommand "))
        .expect("ForceCommand");
    assert_forces_serve(force_command);
}

#[test]
fn the_claude_desktop_example_runs_serve_over_ssh_without_a_tty() {
    let v: serde_json::Value = serde_json::from_str(CLAUDE_DESKTOP).unwrap();
    let server = &v["mcpServers"]["loxwarden"];
    assert_eq!(server["command"], "ssh");
    let args: Vec<&str> = server["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        args.contains(&"-T"),
        "a pty would mangle the JSON-RPC stream: {args:?}"
    );
    assert_eq!(args[args.len() - 2..], ["loxwarden", "serve"]);
}
