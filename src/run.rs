//! One `run` with one `match` over every mode (the ripgrep habit). Each arm calls into the
//! module that does the work; this file only wires.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{Command, Global, TestKnobs, help_text};
use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::mcp::{Peer, Server, ServerConfig};
use crate::tools::Catalogue;

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
        // `serve` bridges stdio to the daemon; `serve --standalone` runs everything here.
        Command::Serve {
            standalone: true,
            knobs,
        } => serve(global, &knobs),
        Command::Serve {
            standalone: false,
            knobs: _,
        } => bridge(global),
        Command::Demo { .. } => Err(Error::Unfinished("demo")),
        Command::Sim(args) => crate::sim::run(&args),
        Command::Login { accept_fingerprint } => {
            // The CLI answer goes to stdout (a person reads it); prompts go to stderr.
            let accept = accept_fingerprint
                .or_else(|| std::env::var(crate::loxone::setup::ACCEPT_FINGERPRINT_ENV).ok());
            crate::loxone::setup::login(&config_path, accept.as_deref(), &mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Logout => {
            crate::loxone::setup::logout(&config_path, &mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
        // The answers of estop, resume, status and call are for a person: stdout.
        Command::Estop { reason } => crate::control::client::estop(
            &Config::load(&config_path)?,
            reason.as_deref(),
            &mut std::io::stdout(),
        ),
        Command::Resume => {
            crate::control::client::resume(&Config::load(&config_path)?, &mut std::io::stdout())
        }
        Command::Status { json } => crate::control::client::status(
            &Config::load(&config_path)?,
            json,
            &mut std::io::stdout(),
        ),
        Command::CheckConfig => {
            crate::loxone::setup::check_config(&config_path, &mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Call {
            tool,
            arguments,
            standalone,
        } => call(global, &tool, &arguments, standalone),
        Command::Daemon { knobs } => {
            let cfg = Config::load(&config_path)?;
            let engine = engine_config(&cfg.consent, &knobs);
            let core = crate::daemon::interim::Interim::start(&cfg)?;
            crate::daemon::run(&cfg, Arc::new(core), engine)?;
            Ok(ExitCode::SUCCESS)
        }
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

/// The MCP engine's settings from the config (and, in test builds, the knobs).
fn engine_config(consent: &config::Consent, knobs: &TestKnobs) -> ServerConfig {
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

/// The in-process MCP engine (`serve --standalone`, `call --standalone`).
fn standalone_server(global: &Global, knobs: &TestKnobs) -> Result<Server> {
    let consent = match &global.config {
        Some(path) => Config::load(path)?.consent,
        None if Path::new(config::DEFAULT_PATH).exists() => {
            Config::load(Path::new(config::DEFAULT_PATH))?.consent
        }
        None => config::Consent::default(),
    };
    Server::new(Arc::new(Catalogue::new()), engine_config(&consent, knobs))
        .map_err(|e| Error::Failed(format!("cannot start the MCP engine: {e}")))
}

/// `loxwarden serve --standalone`: the MCP engine on stdin/stdout. Returns when stdin closes.
fn serve(global: &Global, knobs: &TestKnobs) -> Result<ExitCode> {
    let server = standalone_server(global, knobs)?;
    log::info!(
        "serving MCP on stdin/stdout (consent timeout {} ms)",
        server.config().consent_timeout.as_millis()
    );
    server.serve(std::io::stdin(), std::io::stdout(), Peer::default());
    log::info!("stdin closed; exiting");
    Ok(ExitCode::SUCCESS)
}

/// The daemon's MCP socket: from `--config`, else from the default config file if this user
/// can read it, else the default path.
fn socket_path(global: &Global) -> Result<PathBuf> {
    if let Some(path) = &global.config {
        return Ok(Config::load(path)?.paths.socket);
    }
    let default = Path::new(config::DEFAULT_PATH);
    match Config::load(default) {
        Ok(cfg) => Ok(cfg.paths.socket),
        Err(e) => {
            if default.exists() {
                log::warn!("{e}; using the default socket path");
            }
            Ok(config::Paths::default().socket)
        }
    }
}

/// `loxwarden serve`: stdin/stdout ⇄ the daemon's socket.
fn bridge(global: &Global) -> Result<ExitCode> {
    let socket = socket_path(global)?;
    let stream = crate::bridge::connect(&socket)?;
    let end = crate::bridge::pump(stream, std::io::stdin(), std::io::stdout())
        .map_err(|e| Error::io("the session with the daemon failed", e))?;
    match end {
        crate::bridge::End::ClientClosed => Ok(ExitCode::SUCCESS),
        crate::bridge::End::DaemonClosed => {
            log::warn!("the daemon closed the session");
            Ok(ExitCode::from(1))
        }
        crate::bridge::End::Refused(message) => {
            // The client got the refusal as JSON-RPC; a person on the terminal reads this.
            log::error!("refused by the daemon: {message}");
            Ok(ExitCode::from(1))
        }
    }
}

/// `loxwarden call TOOL [JSON]`: one call through the daemon, or in-process.
fn call(global: &Global, tool: &str, arguments: &str, standalone: bool) -> Result<ExitCode> {
    let arguments = crate::call::parse_arguments(arguments)?;
    let ours = if standalone {
        let server = standalone_server(global, &TestKnobs::default())?;
        let (ours, theirs) = UnixStream::pair().map_err(|e| Error::io("socketpair", e))?;
        let reader = theirs.try_clone().map_err(|e| Error::io("socketpair", e))?;
        std::thread::spawn(move || server.serve(reader, &theirs, Peer::default()));
        ours
    } else {
        crate::bridge::connect(&socket_path(global)?)?
    };
    ours.set_read_timeout(Some(crate::call::CALL_WITHIN))
        .map_err(|e| Error::io("socket", e))?;
    let reader = ours.try_clone().map_err(|e| Error::io("socket", e))?;
    crate::call::run(reader, &ours, tool, arguments, &mut std::io::stdout())
}
