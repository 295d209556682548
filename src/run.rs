//! One `run` with one `match` over every mode (the ripgrep habit). Each arm calls into the
//! module that does the work; this file only wires.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{Command, Global, TestKnobs, help_text};
use crate::clock::SystemClock;
use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::gateway::Gateway;
use crate::loxone::link::Secrets;
use crate::mcp::{Peer, Server, ServerConfig};

#[allow(clippy::print_stdout)] // --help and --version answer on stdout, as a person expects.
pub fn run(global: &Global, command: Command) -> Result<ExitCode> {
    let config_path = global
        .config
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(crate::config::DEFAULT_PATH));
    match command {
        Command::Help(topic) => {
            let text = help_text(topic.as_deref()).ok_or_else(|| {
                Error::Usage(format!("no help for '{}'", topic.unwrap_or_default()))
            })?;
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Version => {
            println!("loxwarden {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        // Until the daemon exists, `serve` and `serve --standalone` both run the standalone
        // gateway in-process from the config file.
        Command::Serve {
            standalone: _,
            knobs,
        } => serve(&config_path, &knobs),
        Command::Demo { tour, knobs } => crate::demo::run(
            tour,
            engine_config(&config::Consent::default(), &knobs),
            &knobs,
        ),
        Command::Sim(args) => crate::sim::run(&args),
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

/// The MCP engine's settings: the consent timeout from the config, and in test builds the
/// hidden knobs that shorten it and force pagination.
pub fn engine_config(consent: &config::Consent, knobs: &TestKnobs) -> ServerConfig {
    #[allow(unused_mut)] // only test builds have knobs to apply
    let mut engine = ServerConfig {
        consent_timeout: Duration::from_secs(consent.timeout_s),
        ..ServerConfig::default()
    };
    #[cfg(feature = "test-tools")]
    {
        if let Some(ms) = knobs.consent_timeout_ms {
            engine.consent_timeout = Duration::from_millis(ms);
        }
        if let Some(n) = knobs.page_size {
            engine.page_size = n;
        }
    }
    let _ = knobs;
    engine
}

/// `loxwarden serve` (standalone): the gateway from the config file, the MCP engine on
/// stdin/stdout. Returns when stdin closes.
fn serve(config_path: &Path, knobs: &TestKnobs) -> Result<ExitCode> {
    let cfg = Config::load(config_path)?;
    let secrets = Secrets::from_config(&cfg)?;
    let engine = engine_config(&cfg.consent, knobs);
    let patience = Duration::from_secs(cfg.link.command_timeout_s);
    let gw = Gateway::start(cfg, Arc::new(SystemClock::new()), secrets)?;
    // A client's first call should find the house; a Miniserver that is down only delays the
    // start by the command timeout (every command is refused until the link is live anyway).
    let h = gw.link().wait_live(patience);
    if !h.is_live() {
        log::warn!(
            "serving while the link is {} ({}); commands are refused until it is live",
            h.state.as_str(),
            h.reason
        );
    }
    let server = Server::new(gw.host(), engine)
        .map_err(|e| Error::Failed(format!("cannot start the MCP engine: {e}")))?;
    log::info!(
        "serving MCP on stdin/stdout (consent timeout {} ms)",
        server.config().consent_timeout.as_millis()
    );
    server.serve(std::io::stdin(), std::io::stdout(), Peer::default());
    log::info!("stdin closed; exiting");
    gw.stop();
    Ok(ExitCode::SUCCESS)
}
