//! `loxwarden check-config`: the file, then the connection, then what the Miniserver and the
//! link report, printed for a person.
//!
//! Why it starts a real link: "the config parses" says little; what matters is that the token,
//! the TLS pin and the structure work together as the daemon will use them.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::out_err;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::loxone::auth::format_unix;
use crate::loxone::client::{self, Client};
use crate::loxone::link::{self, Link, Secrets, miniserver_type_name};

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not reported",
    }
}

/// `loxwarden check-config`: validates the file, then the connection, and prints what it found.
pub fn check_config(config_path: &Path, out: &mut dyn Write) -> Result<()> {
    let cfg = Config::load(config_path)?;
    check_config_with(&cfg, config_path, out)
}

/// [`check_config`] for a config already read.
pub fn check_config_with(cfg: &Config, config_path: &Path, out: &mut dyn Write) -> Result<()> {
    let cfg = cfg.clone();
    link::warn_about_config(&cfg);
    let m = &cfg.miniserver;
    let w = |out: &mut dyn Write, s: String| writeln!(out, "{s}").map_err(out_err);
    w(
        out,
        format!("config        {}: valid", config_path.display()),
    )?;
    w(
        out,
        format!(
            "miniserver    {}{} as user '{}'",
            m.url,
            m.address
                .as_deref()
                .map(|a| format!(" (connecting to {a})"))
                .unwrap_or_default(),
            m.user
        ),
    )?;
    w(
        out,
        format!("state dir     {}", cfg.paths.state_dir.display()),
    )?;
    let secrets = Secrets::from_config(&cfg)?;
    let stored = match link::load_token(&cfg) {
        Ok(s) => s,
        Err(e) => {
            // Still show what can be learnt without credentials.
            let v = client::verifier_for(&cfg, None)?;
            match Client::connect(&cfg, v) {
                Ok((_, boot)) => {
                    w(out, format!("firmware      {}", boot.api.version))?;
                    w(out, format!("serial        {}", boot.api.snr))?;
                    w(out, format!("transport     {}", boot.tls))?;
                }
                Err(ce) => {
                    w(out, format!("connection    FAILED: {ce}"))?;
                    // Unreachable (69) or TLS (76) is the first thing to fix, not the login.
                    w(out, format!("token         none: {}", Error::from(e)))?;
                    return Err(Error::from(ce));
                }
            }
            return Err(Error::from(e));
        }
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let has_visu = secrets.visu_password.is_some();
    let link = Link::start(&cfg, clock, secrets)?;
    let wait = Duration::from_secs(cfg.link.command_timeout_s * 4 + 5);
    let health = link.wait_live(wait);
    let facts = link.facts();
    link.stop();
    if !facts.firmware.is_empty() {
        w(out, format!("firmware      {}", facts.firmware))?;
        w(out, format!("serial        {}", facts.serial))?;
        w(
            out,
            format!(
                "type          {} ({})",
                miniserver_type_name(facts.miniserver_type),
                if facts.ms_name.is_empty() {
                    "unnamed"
                } else {
                    &facts.ms_name
                }
            ),
        )?;
        w(out, format!("local         {}", yes_no(facts.local)))?;
    }
    if let Some(tls) = &facts.tls {
        w(out, format!("transport     {tls}"))?;
    }
    w(
        out,
        format!(
            "token         user '{}', valid until {} UTC",
            stored.token.user,
            format_unix(stored.token.expires_unix())
        ),
    )?;
    if !health.is_live() {
        w(
            out,
            format!("link          {}: {}", health.state.as_str(), health.reason),
        )?;
        // A TLS failure exits 76 and an unreachable Miniserver 69, as the help says.
        if let Err(ce) = client::verifier_for(&cfg, stored.tls_pin)
            .and_then(|v| Client::connect(&cfg, v).map(|_| ()))
        {
            return Err(Error::from(ce));
        }
        return Err(Error::Miniserver(format!(
            "the link did not become live within {} s: {}",
            wait.as_secs(),
            health.reason
        )));
    }
    let s = link.structure();
    let secured = s.structure.controls.iter().filter(|c| c.is_secured).count();
    let top = s
        .structure
        .controls
        .iter()
        .filter(|c| c.parent.is_none())
        .count();
    w(
        out,
        format!(
            "link          live (keepalive every {} s, answer within {} s)",
            cfg.link.keepalive_interval_s, cfg.link.keepalive_deadline_s
        ),
    )?;
    w(
        out,
        format!(
            "structure     lastModified {}, {} bytes, {} controls ({} top-level, {} secured)",
            facts.structure_last_modified, facts.structure_bytes, facts.controls, top, secured
        ),
    )?;
    w(
        out,
        format!(
            "states        {} from the initial event tables",
            facts.states_cached
        ),
    )?;
    w(
        out,
        format!(
            "visu password {}",
            match (has_visu, secured) {
                (true, _) => "configured".to_owned(),
                (false, 0) => "not configured (no secured controls)".to_owned(),
                (false, n) =>
                    format!("not configured: commands to the {n} secured controls will be refused"),
            }
        ),
    )?;
    let house = crate::house::House::new(s.structure.clone(), &cfg)
        .map_err(|e| Error::Config(format!("the config cannot be applied to this house: {e}")))?;
    // The [consent.house] names resolved against this structure (as the daemon does when it
    // loads it): a name that does not resolve failed `House::new` above.
    let consent = match (house.consent_controls(), &cfg.consent.house) {
        (Some(c), Some(h)) => format!(
            "consent       Loxone app: approve '{}', question '{}' (both found in this structure \
             and hidden from the AI); a press counts for {} s, a call waits up to {} s",
            house.device(c.approve).label(),
            house.device(c.question).label(),
            h.window_s,
            h.wait_s
        ),
        _ => "consent       elicitation only (no [consent.house]): clients that cannot ask are \
              refused what needs consent"
            .to_owned(),
    };
    w(out, consent)?;
    for line in crate::tools::read::what_the_ai_sees(&house) {
        w(out, line)?;
    }
    Ok(())
}
