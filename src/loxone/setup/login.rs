//! `loxwarden login` and `logout`: which certificate to pin (the config's, or the one shown now
//! and confirmed by a person), which token to keep, and revoking the one replaced.
//!
//! Why a person confirms the pin: the first connection is the only moment an impostor could
//! slip in its own certificate, so a human compares the fingerprint once.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::{ACCEPT_FINGERPRINT_ENV, hostname, now_unix, out_err};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::loxone::auth::{self, TokenVerb, format_unix};
use crate::loxone::client::{self, Client};
use crate::loxone::errors::LinkError;
use crate::loxone::http::Http;
use crate::loxone::link;
use crate::loxone::secret;
use crate::loxone::store::StoredToken;
use crate::loxone::tls::{Fingerprint, Policy};

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
