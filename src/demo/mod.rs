//! `loxwarden demo`: the whole product against a simulated house, with nothing to install.
//!
//! Why in one process: a person (or an MCP client) should meet the real gateway — the same
//! link, guard, consent, audit and tools as `serve` — before touching a real Miniserver. So the
//! demo starts the simulator's built-in house on loopback (real Loxone protocol, real time),
//! writes an embedded site config (`config.toml` beside this file) into a temporary state directory, logs
//! in with the simulator's credentials through the same login code as `loxwarden login`, starts
//! the [`Gateway`] and serves MCP on stdin/stdout. Everything it creates is removed at exit.
//!
//! `demo --tour` drives a real MCP session in memory with a scripted client ([`client`]) and
//! prints what happens ([`tour`]).

pub mod client;
mod tour;

use std::io::Write as _;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::TestKnobs;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::dispatch::gateway::Gateway;
use crate::error::{Error, Result};
use crate::loxone::link::Secrets;
use crate::loxone::secret::Secret;
use crate::loxone::setup;
use crate::mcp::{Server, ServerConfig};
use crate::sim::{HouseSource, Sim, SimOptions};

/// The demo house's site config, with `{url}`, `{user}`, `{state_dir}`, `{audit_log}` and
/// `{socket}` to fill in.
pub const DEMO_CONFIG: &str = include_str!("config.toml");

/// A running demo: the simulator, its gateway, and the temporary directory.
pub struct Demo {
    pub sim: Sim,
    pub gateway: Arc<Gateway>,
    pub dir: PathBuf,
}

/// The demo config's text for a simulator at `url` with the state under `dir`.
pub fn config_text(url: &str, user: &str, dir: &Path) -> String {
    let path = |name: &str| dir.join(name).display().to_string();
    DEMO_CONFIG
        .replace("{url}", url)
        .replace("{user}", user)
        .replace("{state_dir}", &path("state"))
        .replace("{audit_log}", &path("audit.jsonl"))
        .replace("{socket}", &path("mcp.sock"))
}

/// The demo config for a simulator at `url` with the state under `dir`.
pub fn config_for(url: &str, user: &str, dir: &Path) -> Result<Config> {
    Config::parse(&config_text(url, user, dir))
        .map_err(|e| Error::Config(format!("the embedded demo config: {e}")))
}

impl Demo {
    /// Simulator, config, login, gateway; waits (up to 15 s) for the link to be live.
    pub fn start() -> Result<Demo> {
        let sim = Sim::start(SimOptions {
            house: HouseSource::Demo,
            ..SimOptions::default()
        })
        .map_err(|e| Error::io("starting the simulated Miniserver", e))?;
        let dir = temp_dir()?;
        let started = (|| -> Result<Arc<Gateway>> {
            let cfg = config_for(&sim.url(), sim.user(), &dir)?;
            let mut said = Vec::new();
            let password = sim.password().to_owned();
            setup::login_with(&cfg, None, move || Ok(Secret::new(password)), &mut said)?;
            log::info!("demo login: {}", String::from_utf8_lossy(&said).trim());
            let secrets = Secrets {
                visu_password: Some(Secret::new(sim.visu_password())),
            };
            let gw = Gateway::start(cfg, Arc::new(SystemClock::new()), secrets)?;
            let h = gw.link().wait_live(Duration::from_secs(15));
            if !h.is_live() {
                gw.stop();
                return Err(Error::Miniserver(format!(
                    "the simulated Miniserver did not become live: {}",
                    h.reason
                )));
            }
            Ok(gw)
        })();
        match started {
            Ok(gateway) => Ok(Demo { sim, gateway, dir }),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }

    /// The audit log's path.
    pub fn audit_log(&self) -> PathBuf {
        self.gateway.config().paths.audit_log.clone()
    }

    /// Stops the gateway and the simulator and removes the temporary directory.
    pub fn stop(self) {
        self.gateway.stop();
        let dir = self.dir.clone();
        drop(self.sim);
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn temp_dir() -> Result<PathBuf> {
    let mut r = [0u8; 6];
    getrandom::fill(&mut r).map_err(|e| Error::Failed(format!("no random source: {e}")))?;
    let tag: String = r.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("loxwarden-demo-{}-{tag}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(&dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    Ok(dir)
}

/// `loxwarden demo [--tour]`.
pub fn run(tour: bool, engine: ServerConfig, knobs: &TestKnobs) -> Result<ExitCode> {
    let demo = Demo::start()?;
    #[cfg(feature = "test-tools")]
    if knobs.ring_bell {
        // Serve only once the ring is in the gateway's state cache (a client may call at once).
        let states = demo.gateway.link().states();
        let seen = states.generation();
        let rang = demo.sim.ring_bell();
        states.wait_newer(seen, Duration::from_secs(2));
        log::info!("test knob: the doorbell rang: {rang}");
    }
    let _ = knobs;
    let result = if tour {
        tour::run(&demo, engine)
    } else {
        serve(&demo, engine)
    };
    demo.stop();
    result
}

fn serve(demo: &Demo, engine: ServerConfig) -> Result<ExitCode> {
    banner(demo);
    let server = Server::new(demo.gateway.host(), engine)
        .map_err(|e| Error::Failed(format!("cannot start the MCP engine: {e}")))?;
    // Stopped by EOF or a signal, the demo drains like the daemon; a signal also removes the
    // temporary directory (EOF returns, and `run` does).
    let dir = demo.dir.clone();
    crate::daemon::signals::serve_stdio(&demo.gateway, &server, move || {
        let _ = std::fs::remove_dir_all(dir);
    })?;
    log::info!("the demo ends");
    Ok(ExitCode::SUCCESS)
}

/// What to try, on stderr (stdout belongs to MCP).
fn banner(demo: &Demo) {
    let s = demo.sim.structure();
    let house = demo.gateway.config().consent.house.as_ref();
    let text = format!(
        "\
loxwarden demo: the loxwarden gateway speaking MCP on stdin/stdout, in front of a simulated
Loxone Miniserver ('{name}', {rooms} rooms) at {url} (real Loxone protocol, loopback only).
  state dir: {state}
  audit log: {audit}   (both removed when the demo exits)
Try, from any MCP client (e.g. command \"loxwarden\", args [\"demo\"]):
  get_system_status · list_rooms · list_devices {{\"room\": \"Kitchen\"}}
  control_light {{\"device\": \"Hall Light\", \"action\": \"on\"}}
  set_temperature {{\"device\": \"Nursery\", \"target\": 35, \"unit\": \"C\"}}   (refused: SC-2)
  control_blind {{\"device\": \"Kitchen Blind\", \"action\": \"down\"}}          (moves; 2 s between commands)
  control_light {{\"device\": \"Garden socket\", \"action\": \"on\"}}           (refused: unclassified switch)
  ring the doorbell: curl -s {admin}/fault/bell   then
  control_intercom {{\"device\": \"Front Door\", \"action\": \"open_door\"}}   (asks you to confirm)
  emergency_stop {{\"reason\": \"trying it\"}}   (then everything else is refused)
A client that cannot ask you itself (no elicitation: Claude Desktop, MCP Inspector's CLI) is
asked in the simulated Loxone app instead, e.g. for
  control_access {{\"device\": \"Garage Door\", \"action\": \"open\"}}
The call shows the question in 'AI/AI request' and waits up to {wait} s for the press (the whole
{window} s with a progress token). To press 'Approve AI request' as a person in the app, from
another shell while the call waits:
  curl -s '{admin}/app/press?name=Approve%20AI%20request'
or decline (clear the question):  curl -s '{admin}/app/text?name=AI%20request&text='
What the simulated Miniserver received:  curl -s '{admin}/log?device=1'
A scripted walk through all of this: loxwarden demo --tour
",
        name = s.ms_info.ms_name,
        rooms = s.rooms.len(),
        url = demo.sim.url(),
        admin = demo.sim.admin_url(),
        state = demo.gateway.config().paths.state_dir.display(),
        audit = demo.audit_log().display(),
        wait = house.map_or(0, |h| h.wait_s),
        window = house.map_or(0, |h| h.window_s),
    );
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}
