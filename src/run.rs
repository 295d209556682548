//! One `run` with one `match` over every mode (the ripgrep habit). Each arm calls into the
//! module that does the work; this file only wires.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{Command, Global, TestKnobs, help_text};
use crate::clock::SystemClock;
use crate::config::{self, Config};
use crate::dispatch::gateway::Gateway;
use crate::error::{Error, Result};
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
            crate::say_raw!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Version => {
            crate::say!("loxwarden {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        // `serve` bridges stdio to the daemon; `serve --standalone` runs the gateway here.
        Command::Serve {
            standalone: true,
            knobs,
        } => serve(&config_path, &knobs),
        Command::Serve {
            standalone: false,
            knobs: _,
        } => bridge(global),
        Command::Demo { tour, knobs } => crate::demo::run(
            tour,
            engine_config(&config::Consent::default(), &knobs),
            &knobs,
        ),
        Command::Sim(args) => crate::sim::run(&args),
        Command::Login { accept_fingerprint } => {
            warn_about_file_modes(&config_path);
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
        Command::Estop { reason } => {
            let cfg = Config::load(&config_path).map_err(|e| e.to_string());
            crate::control::client::estop(
                cfg.as_ref().map_err(Clone::clone),
                reason.as_deref(),
                &mut std::io::stdout(),
            )
        }
        Command::Resume => {
            crate::control::client::resume(&daemon_paths(global)?, &mut std::io::stdout())
        }
        Command::Status { json } => {
            crate::control::client::status(&daemon_paths(global)?, json, &mut std::io::stdout())
        }
        Command::CheckConfig => {
            warn_about_file_modes(&config_path);
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
            warn_about_file_modes(&config_path);
            let engine = engine_config(&cfg.consent, &knobs);
            let secrets = Secrets::from_config(&cfg)?;
            let gw = Gateway::start(cfg.clone(), Arc::new(SystemClock::new()), secrets)?;
            gw.close_interrupted_calls();
            let core = crate::daemon::core::GatewayCore::new(gw);
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

/// Logs a warning for a config file others may read or change and for password files others
/// may read (the commands that handle credentials call this at start).
fn warn_about_file_modes(config_path: &Path) {
    let cfg = Config::load(config_path).ok();
    for w in config::file_mode_warnings(config_path, cfg.as_ref()) {
        log::warn!("{w}");
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

/// The gateway from the config file and an MCP engine in front of it, in this process
/// (`serve --standalone`, `call --standalone`).
fn standalone_gateway(config_path: &Path, knobs: &TestKnobs) -> Result<(Arc<Gateway>, Server)> {
    let cfg = Config::load(config_path)?;
    warn_about_file_modes(config_path);
    let secrets = Secrets::from_config(&cfg)?;
    let engine = engine_config(&cfg.consent, knobs);
    let patience = Duration::from_secs(cfg.link.command_timeout_s);
    let gw = Gateway::start(cfg, Arc::new(SystemClock::new()), secrets)?;
    // `initialize` is answered at once (a client starts one process per session and waits for
    // it); a client's first tool call should still find the house, so calls in the first
    // command timeout wait for the link (every command is refused until it is live anyway).
    let server = Server::new(gw.host_starting(patience), engine)
        .map_err(|e| Error::Failed(format!("cannot start the MCP engine: {e}")))?;
    Ok((gw, server))
}

/// `loxwarden serve --standalone`: the gateway from the config file, the MCP engine on
/// stdin/stdout. Returns when stdin closes.
fn serve(config_path: &Path, knobs: &TestKnobs) -> Result<ExitCode> {
    let (gw, server) = standalone_gateway(config_path, knobs)?;
    // Every start closes the calls a stopped run left open (a daemon's, still running, are
    // left alone: `audit::journal`).
    gw.close_interrupted_calls();
    log::info!(
        "serving MCP on stdin/stdout (consent timeout {} ms)",
        server.config().consent_timeout.as_millis()
    );
    crate::daemon::signals::serve_stdio(&gw, &server, || {})?;
    gw.stop();
    Ok(ExitCode::SUCCESS)
}

/// Where the daemon's sockets and state are, for the commands any local user may run (`serve`,
/// `status`, `resume`): from `--config`, else from the default config file, else the default
/// paths. The package keeps the default config to root and the group loxwarden, so a person
/// outside the group gets the default paths without a warning; a config that exists but does
/// not parse is warned about.
fn daemon_paths(global: &Global) -> Result<config::Paths> {
    if let Some(path) = &global.config {
        return Ok(Config::load(path)?.paths);
    }
    Ok(paths_or_default(Path::new(config::DEFAULT_PATH)))
}

fn paths_or_default(path: &Path) -> config::Paths {
    match Config::load(path) {
        Ok(cfg) => cfg.paths,
        Err(e) => {
            let opened = std::fs::File::open(path).map(drop).map_err(|o| o.kind());
            if let Some((level, text)) = default_paths_note(path, &e, opened) {
                log::log!(level, "{text}");
            }
            config::Paths::default()
        }
    }
}

/// What to tell a person whose default config could not be loaded: nothing when there is
/// none, a note when it is kept from them (the package's 0640), a warning when it is broken.
fn default_paths_note(
    path: &Path,
    e: &config::ConfigError,
    opened: std::result::Result<(), std::io::ErrorKind>,
) -> Option<(log::Level, String)> {
    match opened {
        Err(std::io::ErrorKind::NotFound) => None,
        Err(std::io::ErrorKind::PermissionDenied) => Some((
            log::Level::Info,
            format!(
                "{} is not readable by this user; using the default paths",
                path.display()
            ),
        )),
        _ => Some((log::Level::Warn, format!("{e}; using the default paths"))),
    }
}

/// `loxwarden serve`: stdin/stdout ⇄ the daemon's socket.
fn bridge(global: &Global) -> Result<ExitCode> {
    let socket = daemon_paths(global)?.socket;
    let stream = crate::daemon::bridge::connect(&socket)?;
    let end = crate::daemon::bridge::pump(stream, std::io::stdin(), std::io::stdout())
        .map_err(|e| Error::io("the session with the daemon failed", e))?;
    match end {
        crate::daemon::bridge::End::ClientClosed => Ok(ExitCode::SUCCESS),
        crate::daemon::bridge::End::DaemonClosed => {
            log::warn!("the daemon closed the session");
            Ok(ExitCode::from(1))
        }
        crate::daemon::bridge::End::Refused(message) => {
            // The client got the refusal as JSON-RPC; a person on the terminal reads this.
            log::error!("refused by the daemon: {message}");
            Ok(ExitCode::from(1))
        }
    }
}

/// `loxwarden call TOOL [JSON]`: one call through the daemon, or in-process.
fn call(global: &Global, tool: &str, arguments: &str, standalone: bool) -> Result<ExitCode> {
    let arguments = crate::cli::call::parse_arguments(arguments)?;
    let mut gateway = None;
    let ours = if standalone {
        let config_path = global
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from(config::DEFAULT_PATH));
        // Its tool calls wait (a bounded time) for the fresh link to come up.
        let (gw, server) = standalone_gateway(&config_path, &TestKnobs::default())?;
        let (ours, theirs) = UnixStream::pair().map_err(|e| Error::io("socketpair", e))?;
        let reader = theirs.try_clone().map_err(|e| Error::io("socketpair", e))?;
        std::thread::spawn(move || server.serve(reader, &theirs, Peer::default()));
        gateway = Some(gw);
        ours
    } else {
        crate::daemon::bridge::connect(&daemon_paths(global)?.socket)?
    };
    ours.set_read_timeout(Some(crate::cli::call::CALL_WITHIN))
        .map_err(|e| Error::io("socket", e))?;
    let reader = ours.try_clone().map_err(|e| Error::io("socket", e))?;
    let code = crate::cli::call::run(reader, &ours, tool, arguments, &mut std::io::stdout());
    if let Some(gw) = gateway {
        gw.stop();
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_serve_fall_back_to_the_default_paths_when_the_default_config_is_not_there_or_broken()
     {
        let dir = std::env::temp_dir().join(format!("loxwarden-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let default = config::Paths::default();
        assert_eq!(
            paths_or_default(&dir.join("absent.toml")).socket,
            default.socket
        );
        let broken = dir.join("broken.toml");
        std::fs::write(&broken, "[miniserver\n").unwrap();
        assert_eq!(paths_or_default(&broken).state_dir, default.state_dir);
        let good = dir.join("good.toml");
        std::fs::write(
            &good,
            "[miniserver]\nurl = \"http://192.168.1.47\"\nuser = \"ai\"\n\
             [paths]\nsocket = \"/run/elsewhere/mcp.sock\"\n",
        )
        .unwrap();
        assert_eq!(
            paths_or_default(&good).socket,
            Path::new("/run/elsewhere/mcp.sock")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_consent_timeout_of_the_config_is_the_engines() {
        let consent = config::Consent {
            timeout_s: 7,
            ..config::Consent::default()
        };
        let engine = engine_config(&consent, &TestKnobs::default());
        assert_eq!(engine.consent_timeout, Duration::from_secs(7));
    }

    #[test]
    fn a_missing_default_config_is_quiet_an_unreadable_one_a_note_and_a_broken_one_a_warning() {
        let p = Path::new(config::DEFAULT_PATH);
        let e = config::ConfigError {
            path: p.to_owned(),
            message: "line 1: expected `]`".into(),
        };
        use std::io::ErrorKind::{NotFound, PermissionDenied};
        assert_eq!(default_paths_note(p, &e, Err(NotFound)), None);
        let (level, text) = default_paths_note(p, &e, Err(PermissionDenied)).unwrap();
        assert_eq!(level, log::Level::Info);
        assert!(text.contains("not readable by this user"), "{text}");
        let (level, text) = default_paths_note(p, &e, Ok(())).unwrap();
        assert_eq!(level, log::Level::Warn);
        assert!(text.contains("expected `]`"), "{text}");
    }
}
