//! The command line as a person meets it.

use std::process::Command;

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
