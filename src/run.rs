//! One `run` with one `match` over every mode (the ripgrep habit). Each arm calls into the
//! module that does the work; this file only wires.

use std::process::ExitCode;

use crate::cli::{Command, Global};
use crate::error::{Error, Result};

pub const HELP: &str = "loxwarden - a safety-first MCP gateway for a Loxone Miniserver\n";

#[allow(clippy::print_stdout)] // --help and --version answer on stdout, as a person expects.
pub fn run(global: &Global, command: Command) -> Result<ExitCode> {
    let config_path = global
        .config
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(crate::config::DEFAULT_PATH));
    match command {
        Command::Help(_) => {
            print!("{HELP}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Version => {
            println!("loxwarden {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { .. } => Err(Error::Unfinished("serve")),
        Command::Demo { .. } => Err(Error::Unfinished("demo")),
        Command::Sim(_) => Err(Error::Unfinished("sim")),
        Command::Login => {
            // The CLI answer goes to stdout (a person reads it); prompts go to stderr.
            let accept = std::env::var(crate::loxone::setup::ACCEPT_FINGERPRINT_ENV).ok();
            crate::loxone::setup::login(&config_path, accept.as_deref(), &mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Logout => {
            crate::loxone::setup::logout(&config_path, &mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Estop { .. } => Err(Error::Unfinished("estop")),
        Command::Resume => Err(Error::Unfinished("resume")),
        Command::Status => Err(Error::Unfinished("status")),
        Command::CheckConfig => {
            crate::loxone::setup::check_config(&config_path, &mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Call { .. } => Err(Error::Unfinished("call")),
        Command::Daemon => Err(Error::Unfinished("daemon")),
        Command::Audit { .. } => Err(Error::Unfinished("audit")),
    }
}
