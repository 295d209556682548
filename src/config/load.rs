//! Reading the file: TOML into [`Config`], then the checks serde cannot make (a URL that parses,
//! user names, one of password and password_file), each error naming the key and the line.

use super::*;

/// A config file that cannot be used, with the file and (where known) the key and line.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_owned(),
            message: format!("cannot read the config file: {e}"),
        })?;
        Config::parse(&text).map_err(|message| ConfigError {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses and validates config text. The error names the key (and line) at fault.
    pub fn parse(text: &str) -> Result<Config, String> {
        // The keys every site must set, named plainly (serde's "missing field" points at
        // line 1 and names the section, not the key; the packaged file ships them commented
        // out, so that a forgotten edit is this error, not logins against an example address).
        if let Ok(table) = text.parse::<toml::Table>()
            && let Some(missing) = missing_required(&table)
        {
            return Err(missing);
        }
        let cfg: Config = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), String> {
        let m = &self.miniserver;
        let url = parse_ms_url(&m.url)?;
        if m.user.trim().is_empty() {
            return Err("miniserver.user must name the Loxone user loxwarden logs in as".into());
        }
        if m.user.chars().any(char::is_control) || m.user.len() > 64 {
            return Err(
                "miniserver.user must be at most 64 characters without control characters".into(),
            );
        }
        if let Some(a) = &m.address {
            parse_address(a, url.port)?;
        }
        if let Some(fp) = &m.tls_fingerprint {
            if crate::loxone::tls::Fingerprint::parse(fp).is_none() {
                return Err(format!(
                    "miniserver.tls_fingerprint must be a SHA-256 fingerprint (64 hex digits, colons allowed), got {fp:?}"
                ));
            }
            if !m.tls_verify {
                return Err(
                    "miniserver.tls_fingerprint pins the certificate, tls_verify = false turns checks off: choose one".into(),
                );
            }
        }
        let l = &self.link;
        if !(1..=240).contains(&l.keepalive_interval_s) {
            return Err("link.keepalive_interval_s must be 1 to 240 (the Miniserver drops clients silent for 5 minutes)".into());
        }
        if l.keepalive_deadline_s == 0 || l.keepalive_deadline_s > l.keepalive_interval_s {
            return Err("link.keepalive_deadline_s must be at least 1 and at most link.keepalive_interval_s".into());
        }
        if l.structure_check_interval_s == 0 {
            return Err("link.structure_check_interval_s must be at least 1".into());
        }
        if !(1..=120).contains(&l.command_timeout_s) {
            return Err("link.command_timeout_s must be 1 to 120".into());
        }
        if !(1..=3600).contains(&l.max_backoff_s) {
            return Err("link.max_backoff_s must be 1 to 3600".into());
        }
        for (key, p) in [
            ("paths.state_dir", &self.paths.state_dir),
            ("paths.audit_log", &self.paths.audit_log),
            ("paths.socket", &self.paths.socket),
        ] {
            if !p.is_absolute() {
                return Err(format!(
                    "{key} must be an absolute path (got {})",
                    p.display()
                ));
            }
        }
        if let Some(u) = self
            .control
            .resume_users
            .iter()
            .chain(self.profiles.iter().map(|p| &p.user))
            .find(|u| !valid_user_name(u))
        {
            return Err(format!(
                "{u:?} is not a Unix user name (control.resume_users, profiles.user)"
            ));
        }
        // The safety table may only be tightened: a loosening value is a config error.
        crate::safety::table::Limits::from_config(self)?;
        Ok(())
    }

    /// Settings that are valid but have no effect with this URL, for a warning at start.
    pub fn ignored_settings(&self) -> Vec<&'static str> {
        let m = &self.miniserver;
        let mut out = Vec::new();
        if m.url.starts_with("http://") {
            if m.tls_fingerprint.is_some() {
                out.push("miniserver.tls_fingerprint (the url is http://)");
            }
            if m.ca_file.is_some() {
                out.push("miniserver.ca_file (the url is http://)");
            }
            if !m.tls_verify {
                out.push("miniserver.tls_verify (the url is http://)");
            }
        }
        out
    }

    /// The Miniserver URL, parsed (valid after [`Config::parse`]).
    pub fn ms_url(&self) -> Result<MsUrl, String> {
        parse_ms_url(&self.miniserver.url)
    }
}

/// A plausible Unix user name: 1–32 of `a-z A-Z 0-9 _ . -`, not starting with `-`.
pub(super) fn valid_user_name(u: &str) -> bool {
    (1..=32).contains(&u.len())
        && !u.starts_with('-')
        && u.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// A TOML error as `line L, column C: message`, naming the key but without the source line
/// that toml's own `Display` quotes: a password pasted into the file by mistake (say
/// `password = "…"`, an unknown key) must not be echoed to the terminal and the journal.
/// The first required key the file does not set, as a sentence saying what to write.
pub(super) fn missing_required(table: &toml::Table) -> Option<String> {
    const URL: &str = "the Miniserver's address, e.g. url = \"http://192.168.1.47\" (Gen 1) or \
        url = \"https://192-168-1-47.504F94A00000.dyndns.loxonecloud.com\" (Gen 2)";
    const USER: &str =
        "the Loxone user loxwarden logs in as, e.g. user = \"ai-gateway\" (a user just for the AI)";
    let Some(m) = table.get("miniserver").and_then(toml::Value::as_table) else {
        return Some(format!(
            "the [miniserver] section is missing: it needs url ({URL}) and user ({USER})"
        ));
    };
    for (key, what) in [("url", URL), ("user", USER)] {
        if !m.contains_key(key) {
            return Some(format!(
                "miniserver.{key} is not set (missing or still commented out): set it to {what}"
            ));
        }
    }
    None
}

pub(super) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim_end();
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_owned(),
    }
}
