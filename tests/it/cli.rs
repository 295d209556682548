//! The command line as a person meets it.

use std::process::Command;

use loxwarden::cli::COMMANDS;

fn loxwarden() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loxwarden"))
}

#[test]
fn version_prints_the_crate_version() {
    let out = loxwarden().arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.trim(),
        format!("loxwarden {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_unknown_subcommand_exits_2_with_a_hint() {
    let out = loxwarden().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "stdout belongs to the protocol");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--help"));
}

#[test]
fn help_is_a_manual_naming_every_command_the_environment_and_the_exit_codes() {
    let out = loxwarden().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let others = ["--config PATH", "LOXWARDEN_LOG", "EXIT STATUS", "78"];
    for needle in COMMANDS.into_iter().chain(others) {
        assert!(text.contains(needle), "--help lacks {needle:?}");
    }
}

#[test]
fn every_subcommand_has_its_own_help() {
    for sub in COMMANDS {
        let out = loxwarden().args([sub, "--help"]).output().unwrap();
        assert!(out.status.success(), "{sub}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.starts_with(&format!("loxwarden {sub} - ")),
            "{sub}: {text}"
        );
    }
    let serve = loxwarden().args(["help", "serve"]).output().unwrap();
    let text = String::from_utf8(serve.stdout).unwrap();
    assert!(
        text.contains("daemon") && text.contains("--standalone"),
        "{text}"
    );
}

#[test]
fn estop_with_an_unreadable_config_still_asks_the_daemon_and_says_what_it_could_not_do() {
    if std::path::Path::new("/run/loxwarden/control.sock").exists() {
        eprintln!("SKIPPED: a real loxwarden daemon runs here; this test would stop its house");
        return;
    }
    let out = loxwarden()
        .args(["--config", "/nonexistent/loxwarden.toml", "estop"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("so the daemon was asked at the default socket"),
        "{text}"
    );
    assert!(text.contains("CANNOT STOP DIRECTLY"), "{text}");
}

#[test]
fn the_daemon_commands_with_a_missing_config_exit_78_without_touching_stdout() {
    for args in [
        &["status"][..],
        &["resume"],
        &["daemon"],
        &["call", "get_system_status"],
    ] {
        let out = loxwarden()
            .args(["--config", "/nonexistent/loxwarden.toml"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(78), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("/nonexistent/loxwarden.toml"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn unknown_options_and_a_missing_command_exit_2_with_a_hint() {
    for args in [
        &["serve", "--bogus"][..],
        &[],
        &["--bogus"],
        &["serve", "--test-nonsense"],
    ] {
        let out = loxwarden().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--help"),
            "{args:?}"
        );
    }
}

#[test]
fn serve_with_a_missing_config_file_exits_78() {
    let out = loxwarden()
        .args(["--config", "/nonexistent/loxwarden.toml", "serve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(out.stdout.is_empty());
}
