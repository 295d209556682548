//! The person's commands for the link: `loxwarden login`, `logout` and `check-config`.
//!
//! Why here and not in `run.rs`: they are the link's setup story (what to trust, which token to
//! keep) and reuse its parts directly. Each writes its answer to the writer it is given (the
//! CLI passes stdout); prompts and warnings go to stderr.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::auth::{self, TokenVerb, format_unix};
use super::client::{self, Client};
use super::errors::LinkError;
use super::http::Http;
use super::link::{self, Link, Secrets, miniserver_type_name};
use super::secret;
use super::store::StoredToken;
use super::tls::{Fingerprint, Policy};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::error::{Error, Result};

/// Environment variable that answers the fingerprint question non-interactively (the same as
/// `--accept-fingerprint`).
pub const ACCEPT_FINGERPRINT_ENV: &str = "LOXWARDEN_ACCEPT_FINGERPRINT";

fn out_err(e: std::io::Error) -> Error {
    Error::io("cannot write the answer", e)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "loxwarden".into())
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Decides which certificate to pin at login: the config's pin, or the one the Miniserver
/// shows now, confirmed by the person (terminal) or by `accept` (non-interactive).
fn choose_pin(
    cfg: &Config,
    accept: Option<&str>,
    out: &mut dyn Write,
) -> Result<Option<Fingerprint>> {
    let url = cfg.ms_url().map_err(Error::Config)?;
    if !url.tls {
        return Ok(None);
    }
    if let Some(fp) = cfg
        .miniserver
        .tls_fingerprint
        .as_deref()
        .and_then(Fingerprint::parse)
    {
        return Ok(Some(fp));
    }
    if !cfg.miniserver.tls_verify {
        return Ok(None);
    }
    // Capture what the server presents without completing the handshake.
    let capture = client::verifier_with(cfg, Policy::Capture)?;
    let address = client::address_of(cfg, &url)?;
    let http = Http::new(
        &url,
        address,
        Some(capture.clone()),
        Duration::from_secs(cfg.link.command_timeout_s),
    )?;
    let probe = http.get("jdev/cfg/apiKey", None);
    let Some(seen) = capture.last_seen() else {
        return Err(match probe {
            Err(e) => e.into(),
            Ok(_) => Error::Tls("the Miniserver did not present a certificate".into()),
        });
    };
    let fp = seen.fingerprint;
    writeln!(
        out,
        "The Miniserver at {} presents the certificate",
        cfg.miniserver.url
    )
    .map_err(out_err)?;
    writeln!(out, "  {fp}").map_err(out_err)?;
    match &seen.webpki {
        Ok(()) => writeln!(out, "  which verifies against the public roots for this name."),
        Err(e) => writeln!(
            out,
            "  which does NOT verify against the public roots ({e}); compare the fingerprint with the one Loxone Config shows."
        ),
    }
    .map_err(out_err)?;
    if let Some(a) = accept {
        let wanted = Fingerprint::parse(a).ok_or_else(|| {
            Error::Usage(format!(
                "--accept-fingerprint {a:?} is not a SHA-256 fingerprint"
            ))
        })?;
        if wanted != fp {
            return Err(Error::Tls(format!(
                "the certificate is not the one you accepted: expected {wanted}, seen {fp}. Nothing was sent"
            )));
        }
        return Ok(Some(fp));
    }
    if !secret::stdin_is_terminal() {
        return Err(Error::Tls(format!(
            "confirm the certificate on a terminal, or pass --accept-fingerprint (or {ACCEPT_FINGERPRINT_ENV}) with {fp}. Nothing was sent"
        )));
    }
    match secret::confirm("Pin this certificate and log in?") {
        Ok(true) => Ok(Some(fp)),
        Ok(false) => Err(Error::Failed(
            "certificate not accepted; nothing was sent".into(),
        )),
        Err(e) => Err(Error::Tls(e.to_string())),
    }
}

/// `loxwarden login`: pins the certificate, asks for the password, gets an App token and keeps
/// it (mode 0600). Kills the token it replaces.
pub fn login(config_path: &Path, accept: Option<&str>, out: &mut dyn Write) -> Result<()> {
    let cfg = Config::load(config_path)?;
    login_with(
        &cfg,
        accept,
        || {
            secret::login_password(
                cfg.miniserver.password_file.as_deref(),
                &cfg.miniserver.user,
            )
            .map_err(|e| Error::Auth(e.to_string()))
        },
        out,
    )
}

/// [`login`] with the password from `password` (asked only after the certificate is accepted
/// and the Miniserver reached).
pub fn login_with(
    cfg: &Config,
    accept: Option<&str>,
    password: impl FnOnce() -> Result<secret::Secret>,
    out: &mut dyn Write,
) -> Result<()> {
    let cfg = cfg.clone();
    link::warn_about_config(&cfg);
    let pin = choose_pin(&cfg, accept, out)?;
    let policy = match (pin, cfg.ms_url().map_err(Error::Config)?.tls) {
        (_, false) => None,
        (Some(p), true) => Some(Policy::Pinned(p)),
        (None, true) => Some(Policy::Off),
    };
    let verifier = policy.map(|p| client::verifier_with(&cfg, p)).transpose()?;
    let (client, boot) = Client::connect(&cfg, verifier)?;
    let password = password()?;
    let host = hostname();
    let client_uuid = auth::client_uuid(&host, &cfg.miniserver.user);
    let token = client.login(
        &password,
        &client_uuid,
        &format!("loxwarden on {host}"),
        now_unix(),
    )?;
    let previous = StoredToken::load(&cfg.paths.state_dir).ok().flatten();
    let stored = StoredToken {
        token,
        tls_pin: pin,
        client_uuid,
        url: cfg.miniserver.url.clone(),
        serial: boot.api.serial_compact(),
    };
    let path = stored.save(&cfg.paths.state_dir)?;
    if let Some(old) = previous
        && old.url == stored.url
        && old.token.user == stored.token.user
        && old.token.token != stored.token.token
    {
        match client.token_command(&old.token, TokenVerb::Kill) {
            Ok(r) if r.is_ok() => log::info!("the previous token was revoked"),
            Ok(r) => log::warn!("the previous token could not be revoked (LL {})", r.code),
            Err(e) => log::warn!("the previous token could not be revoked: {e}"),
        }
    }
    let t = &stored.token;
    writeln!(
        out,
        "Logged in as '{}' to the Miniserver {} (firmware {}).",
        t.user, boot.api.snr, boot.api.version
    )
    .map_err(out_err)?;
    writeln!(
        out,
        "Token (App rights, tokenRights {:#x}) valid until {} UTC, kept in {} (mode 0600).",
        t.rights,
        format_unix(t.expires_unix()),
        path.display()
    )
    .map_err(out_err)?;
    writeln!(out, "Transport: {}", boot.tls).map_err(out_err)?;
    if t.unsecure_pass {
        writeln!(
            out,
            "WARNING: the Miniserver reports that this user's password is weak. Change it in Loxone Config."
        )
        .map_err(out_err)?;
    }
    Ok(())
}

/// `loxwarden logout`: revokes the token on the Miniserver (`killtoken`) and deletes the file.
/// The file is deleted even when the Miniserver cannot be reached; then the error says the
/// token stays valid until it expires.
pub fn logout(config_path: &Path, out: &mut dyn Write) -> Result<()> {
    logout_with(&Config::load(config_path)?, out)
}

/// [`logout`] for a config already read.
pub fn logout_with(cfg: &Config, out: &mut dyn Write) -> Result<()> {
    let cfg = cfg.clone();
    let Some(stored) = StoredToken::load(&cfg.paths.state_dir)? else {
        writeln!(out, "Not logged in; nothing to do.").map_err(out_err)?;
        return Ok(());
    };
    let revoked = client::verifier_for(&cfg, stored.tls_pin)
        .and_then(|v| Client::connect(&cfg, v))
        .and_then(|(c, _)| c.token_command(&stored.token, TokenVerb::Kill))
        .and_then(|r| {
            auth::check_code(&r, &stored.token.user, "killtoken").map_err(LinkError::from)
        });
    StoredToken::delete(&cfg.paths.state_dir)?;
    match revoked {
        Ok(()) => {
            writeln!(
                out,
                "Token revoked on the Miniserver and deleted from {}.",
                cfg.paths.state_dir.display()
            )
            .map_err(out_err)?;
            Ok(())
        }
        Err(e) => Err(Error::Failed(format!(
            "the token was deleted here but NOT revoked on the Miniserver ({e}); it stays valid until {} UTC. Revoke it in Loxone Config (user '{}') if that matters",
            format_unix(stored.token.expires_unix()),
            stored.token.user
        ))),
    }
}

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
