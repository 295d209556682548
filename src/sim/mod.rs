//! A Loxone Miniserver simulator that speaks the real protocol, for tests, the demo and a
//! person's rehearsal before touching a real house.
//!
//! Why it exists: every integration test runs against it instead of mocks of our own client,
//! so it must behave like a device as Loxone documents it (CWM = *Communicating with the
//! Miniserver*, SF = *Structure File*, both v16.0) and the architecture's binding protocol
//! decisions 1–12. Why it shares only *types* with the client (`Uuid`, `ControlAddr`,
//! `Structure`, `StateValue`): an encoder checked only by its own decoder proves nothing, so the
//! simulator has its own crypto, hashing checks and wire encoders (`crypto`, `auth`, `wire`),
//! tested against the documented byte layouts and captured device replies.
//!
//! Layout: pure parts take values and `now` — `wire` (LL envelope, binary header, event
//! tables), `crypto`, `auth` (keys, salts, tokens), `house` + `devices` (states, commands,
//! simulated time), `api` (the router); the I/O shell is `server` (listeners, threads, fault
//! knobs), `http`, `ws`, `tls`, `admin`.
//!
//! Choices where the documents are silent:
//! - text replies: `sys` replies echo the request (`jdev/…`) and write `"code": 200`; `cfg`
//!   and `sps` replies echo `dev/…` and write `"Code": "200"` (decision 12, fixtures);
//! - `enablebinstatusupdate`: the LL reply first, then the value table, then the text table
//!   (daytimer and weather tables are not simulated);
//! - commands answered before time moves: a blind reports `position` as it travels (60 s end
//!   to end at time scale 1), at most every 50 ms of real time;
//! - error codes: see `api` (400 unencrypted `getjwt`, HTTP 401 HTML without credentials, LL
//!   401 with wrong ones, 404 unknown UUID or command word, 400 bad argument, 500 secured
//!   control without or with a wrong visualisation hash, 403 read-only control, 503 rebooting);
//! - the command vocabulary is case-sensitive, as SF spells it (`Pause` for AudioZoneV2,
//!   `FullUp`), except `EIBDimmer`, which SF does not document.
//!
//! Keys and certificates under `certs/` are test-only and public; never trust them.

mod admin;
mod api;
mod auth;
mod crypto;
mod devices;
mod generate;
mod house;
mod http;
mod log;
mod server;
mod tls;
mod wire;
mod ws;

use std::process::ExitCode;

pub use auth::{AuthKind, Token};
pub use crypto::HashAlg;
pub use house::StructureChange;
pub use log::{Channel, LogEntry, MotorAt};
pub use server::{DEFAULT_SERIAL, DEMO_HOUSE, HouseSource, Sim, SimOptions};
pub use tls::{ALT_SERVER_CERT_PEM, SERVER_CERT_PEM, TEST_CA_PEM, TEST_HOSTNAME};

use crate::cli::SimArgs;
use crate::error::{Error, Result};

/// The structure file `--generate N` would serve (for benchmarks that need the text).
pub fn generated_structure(controls: usize) -> String {
    generate::structure(controls)
}

/// A structure file with one control of every type the Structure File documents, and one of
/// each central object (for the inventory and end-to-end tests of every type).
pub fn every_type_structure() -> String {
    generate::every_type::structure()
}

/// Options for `loxwarden sim` from the command line.
pub fn options(args: &SimArgs) -> Result<SimOptions> {
    let house = match (&args.structure, args.generate) {
        (Some(_), Some(_)) => {
            return Err(Error::Usage(
                "--structure and --generate exclude each other".into(),
            ));
        }
        (Some(p), None) => HouseSource::File(p.clone()),
        (None, Some(n)) => HouseSource::Generated(n),
        (None, None) => HouseSource::Demo,
    };
    let hash = match args.hash.as_deref() {
        None => None,
        Some(h) if h.eq_ignore_ascii_case("sha1") => Some(HashAlg::Sha1),
        Some(h) if h.eq_ignore_ascii_case("sha256") => Some(HashAlg::Sha256),
        Some(other) => {
            return Err(Error::Usage(format!(
                "--hash takes sha1 or sha256, not '{other}'"
            )));
        }
    };
    let mut o = SimOptions {
        house,
        port: args.port,
        admin_port: args.admin_port,
        tls: args.tls,
        user: args.user.clone(),
        password: args.password.clone(),
        hash,
        allow_basic_auth: args.allow_basic_auth,
        ..SimOptions::default()
    };
    if let Some(fw) = &args.firmware {
        o.firmware = fw.clone();
    }
    Ok(o)
}

/// `loxwarden sim`: runs a simulator in the foreground and prints how to connect.
#[allow(clippy::print_stdout)] // The CLI answer of `loxwarden sim` (not an MCP command).
pub fn run(args: &SimArgs) -> Result<ExitCode> {
    let opts = options(args)?;
    if let Some(path) = &args.write_structure {
        let text: String = match &opts.house {
            HouseSource::Generated(n) => generate::structure(*n),
            HouseSource::File(p) => std::fs::read_to_string(p)
                .map_err(|e| Error::io(format!("reading {}", p.display()), e))?,
            _ => String::from_utf8_lossy(DEMO_HOUSE).into_owned(),
        };
        std::fs::write(path, text.as_bytes())
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        crate::say!("wrote {} ({} bytes)", path.display(), text.len());
        return Ok(ExitCode::SUCCESS);
    }
    let sim = Sim::start(opts.clone()).map_err(|e| Error::io("starting the simulator", e))?;
    let s = sim.structure();
    let top = s.controls.iter().filter(|c| c.parent.is_none()).count();
    let (alg, _) = match opts.hash {
        Some(h) => (h, true),
        None => auth::hash_for_firmware(&opts.firmware),
    };
    crate::say!("loxwarden sim: a simulated Loxone Miniserver (test-only keys; never expose it)");
    // What loxwarden would let an AI do with each type of this house, under a bare config
    // (check-config prints the same with the site's config).
    if let Ok(house) = crate::house::House::new(
        std::sync::Arc::new(s.clone()),
        &crate::config::Config::default(),
    ) {
        for line in crate::house::inventory::lines(&house) {
            crate::say!("{line}");
        }
    }
    crate::say!(
        "house:     {} ({top} controls, {} rooms)",
        s.ms_info.ms_name,
        s.rooms.len()
    );
    crate::say!("url:       {}", sim.url());
    crate::say!("websocket: {}", sim.ws_url());
    crate::say!(
        "admin:     {}  (GET /status, /log; POST /fault/reboot?secs=5 …)",
        sim.admin_url()
    );
    crate::say!("user:      {}", sim.user());
    crate::say!("password:  {}", sim.password());
    crate::say!("visu password: {}", sim.visu_password());
    crate::say!(
        "firmware:  {} (hashAlg {}), serial {}",
        sim.firmware(),
        alg.name(),
        sim.serial()
    );
    if opts.tls {
        crate::say!(
            "tls:       on; certificate for {TEST_HOSTNAME}, localhost, 127.0.0.1, signed by the test CA:"
        );
        crate::say_raw!("{TEST_CA_PEM}");
    }
    crate::say!("Press Ctrl-C to stop.");
    loop {
        std::thread::park();
    }
}
