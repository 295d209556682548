//! One `run` with one `match` over every mode (the ripgrep habit). Each arm calls into the
//! module that does the work; this file only wires.

use std::process::ExitCode;

use crate::cli::{Command, Global};
use crate::error::{Error, Result};

pub const HELP: &str = "loxwarden - a safety-first MCP gateway for a Loxone Miniserver\n";

#[allow(clippy::print_stdout)] // --help and --version answer on stdout, as a person expects.
pub fn run(global: &Global, command: Command) -> Result<ExitCode> {
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
        Command::Login => Err(Error::Unfinished("login")),
        Command::Logout => Err(Error::Unfinished("logout")),
        Command::Estop { .. } => Err(Error::Unfinished("estop")),
        Command::Resume => Err(Error::Unfinished("resume")),
        Command::Status => Err(Error::Unfinished("status")),
        Command::CheckConfig => Err(Error::Unfinished("check-config")),
        Command::Call { .. } => Err(Error::Unfinished("call")),
        Command::Daemon => Err(Error::Unfinished("daemon")),
        Command::Audit { follow, since } => {
            let path = global
                .config
                .clone()
                .unwrap_or_else(|| crate::config::DEFAULT_PATH.into());
            let cfg = crate::config::Config::load(&path)?;
            // The audit listing is the CLI's answer: it goes to stdout.
            let mut out = std::io::stdout().lock();
            crate::audit::follow(&cfg.paths.audit_log, follow, since.as_deref(), &mut out)
                .map_err(Error::Failed)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
