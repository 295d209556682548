//! The site configuration file, read and validated once.
//!
//! Why TOML: it is the file a person edits by hand on the Pi (`/etc/loxwarden/config.toml`),
//! it has comments, and `serde` with `deny_unknown_fields` turns a typo into an error that names
//! the key and the line instead of a silently ignored setting. Secrets never live here: the
//! password comes from `loxwarden login` (terminal, `LOXWARDEN_PASSWORD`, or `password_file`)
//! and only the resulting token is kept, in the state directory.
//!
//! Sections and who reads them:
//! - `[miniserver]`, `[link]`: the Loxone link (`loxone::*`, `health`).
//! - `[paths]`: state directory, audit log, daemon socket.
//! - `[exposure]`, `[[classify]]`: which devices the AI sees and what kind each one is.
//! - `[limits]`, `[[limits.room]]`: tighten the compiled-in safety table (never loosen it).
//! - `[night]`, `[consent]`: posture and consent settings.
//! - `[[profiles]]`: per-Unix-user profiles for daemon sessions.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where the config lives unless `--config PATH` says otherwise.
pub const DEFAULT_PATH: &str = "/etc/loxwarden/config.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub miniserver: Miniserver,
    #[serde(default)]
    pub paths: Paths,
    #[serde(default)]
    pub link: Link,
    #[serde(default)]
    pub exposure: Exposure,
    #[serde(default)]
    pub classify: Vec<Classify>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub night: Option<Night>,
    #[serde(default)]
    pub consent: Consent,
    #[serde(default)]
    pub profiles: Vec<Profile>,
}

/// How to reach and authenticate to the Miniserver.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Miniserver {
    /// `https://{ip-with-dashes}.{serial}.dyndns.loxonecloud.com[:port]` (Gen 2) or
    /// `http://192.168.1.47` (Gen 1, no TLS).
    pub url: String,
    /// Connect to this LAN address instead of resolving the URL's host name (Gen 2 CloudDNS
    /// names), so the certificate is still verified against the name.
    #[serde(default)]
    pub address: Option<String>,
    /// The Loxone user the gateway logs in as (give it only the rights the AI should have).
    pub user: String,
    /// File holding the password, read by `loxwarden login` (e.g. a systemd credential).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// File holding the visualisation password for `isSecured` controls.
    #[serde(default)]
    pub visu_password_file: Option<PathBuf>,
    /// Pinned SHA-256 fingerprint of the Miniserver's certificate (`loxwarden login` writes it
    /// to the state directory; set here to pin by hand).
    #[serde(default)]
    pub tls_fingerprint: Option<String>,
    /// Extra trust anchor (PEM) for a custom certificate.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// `false` turns certificate verification off. Must be written explicitly; logs a warning
    /// at every start.
    #[serde(default = "yes")]
    pub tls_verify: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paths {
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    #[serde(default = "default_audit_log")]
    pub audit_log: PathBuf,
    #[serde(default = "default_socket")]
    pub socket: PathBuf,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            state_dir: default_state_dir(),
            audit_log: default_audit_log(),
            socket: default_socket(),
        }
    }
}

/// Link timing. Defaults: keepalive every 10 s, reply within 5 s; the link leaves `live` at
/// most `2 × interval + deadline` after the Miniserver goes silent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    #[serde(default = "ten")]
    pub keepalive_interval_s: u64,
    #[serde(default = "five")]
    pub keepalive_deadline_s: u64,
    #[serde(default = "three_hundred")]
    pub structure_check_interval_s: u64,
    #[serde(default = "five")]
    pub command_timeout_s: u64,
    #[serde(default = "thirty")]
    pub max_backoff_s: u64,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            keepalive_interval_s: 10,
            keepalive_deadline_s: 5,
            structure_check_interval_s: 300,
            command_timeout_s: 5,
            max_backoff_s: 30,
        }
    }
}

/// What the AI may see and address. Empty allow lists mean "everything not denied".
/// Alarm, access and intercom devices stay hidden unless named in `opt_in`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exposure {
    #[serde(default)]
    pub rooms: Vec<String>,
    #[serde(default)]
    pub deny_rooms: Vec<String>,
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub deny_kinds: Vec<String>,
    #[serde(default)]
    pub devices: Vec<String>,
    #[serde(default)]
    pub deny_devices: Vec<String>,
    /// Alarm, access and intercom devices the AI may see (name, `Room/Name` or UUID).
    #[serde(default)]
    pub opt_in: Vec<String>,
}

/// Tells loxwarden what a device is when its type does not (e.g. a lock wired as a `Switch`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Classify {
    /// Name, `Room/Name` or UUID.
    pub device: String,
    /// light | blind | climate | audio | alarm | access | intercom | charger | scene | sensor | other
    pub kind: String,
    /// For a `Switch` classified as `access`: which command unlocks, `on` (default) or `off`.
    #[serde(default)]
    pub unlock_with: Option<String>,
}

/// Tightening of the compiled-in table. A value that would loosen it is a config error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default)]
    pub temperature_min_c: Option<f64>,
    #[serde(default)]
    pub temperature_max_c: Option<f64>,
    #[serde(default)]
    pub temperature_max_step_c: Option<f64>,
    #[serde(default)]
    pub volume_max: Option<u8>,
    #[serde(default)]
    pub room: Vec<RoomLimits>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomLimits {
    pub room: String,
    #[serde(default)]
    pub temperature_min_c: Option<f64>,
    #[serde(default)]
    pub temperature_max_c: Option<f64>,
    #[serde(default)]
    pub volume_max: Option<u8>,
}

/// Night posture: lights in sleeping rooms go on at no more than 30 % between `start` and `end`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Night {
    /// `HH:MM`, local time.
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub sleeping_rooms: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    #[serde(default = "sixty")]
    pub timeout_s: u64,
    /// How long after a bell ring the intercom door may be opened (with consent).
    #[serde(default = "one_twenty")]
    pub intercom_window_s: u64,
}

impl Default for Consent {
    fn default() -> Self {
        Consent {
            timeout_s: 60,
            intercom_window_s: 120,
        }
    }
}

/// A per-Unix-user profile for daemon sessions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Unix user name.
    pub user: String,
    #[serde(default)]
    pub read_only: bool,
}

fn yes() -> bool {
    true
}
fn five() -> u64 {
    5
}
fn ten() -> u64 {
    10
}
fn thirty() -> u64 {
    30
}
fn sixty() -> u64 {
    60
}
fn one_twenty() -> u64 {
    120
}
fn three_hundred() -> u64 {
    300
}
fn default_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/loxwarden")
}
fn default_audit_log() -> PathBuf {
    PathBuf::from("/var/log/loxwarden/audit.jsonl")
}
fn default_socket() -> PathBuf {
    PathBuf::from("/run/loxwarden/mcp.sock")
}

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
        let cfg: Config = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), String> {
        let m = &self.miniserver;
        if !(m.url.starts_with("http://") || m.url.starts_with("https://")) {
            return Err(format!(
                "miniserver.url must start with http:// or https:// (got {:?})",
                m.url
            ));
        }
        if m.user.trim().is_empty() {
            return Err("miniserver.user must name the Loxone user loxwarden logs in as".into());
        }
        if self.link.keepalive_interval_s == 0 || self.link.keepalive_deadline_s == 0 {
            return Err(
                "link.keepalive_interval_s and link.keepalive_deadline_s must be at least 1".into(),
            );
        }
        // The safety table may only be tightened: a loosening value is a config error.
        crate::safety::table::Limits::from_config(self)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[miniserver]\nurl = \"http://192.168.1.47\"\nuser = \"ai\"\n";

    #[test]
    fn a_minimal_file_gets_sane_defaults() {
        let c = Config::parse(MINIMAL).unwrap();
        assert!(c.miniserver.tls_verify);
        assert_eq!(c.link.keepalive_interval_s, 10);
        assert_eq!(c.consent.timeout_s, 60);
        assert_eq!(c.paths.state_dir, PathBuf::from("/var/lib/loxwarden"));
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_the_key() {
        let e = Config::parse(&format!("{MINIMAL}pasword = \"x\"\n")).unwrap_err();
        assert!(e.contains("pasword"), "{e}");
        let e = Config::parse(&format!("{MINIMAL}[link]\nkeepalive = 3\n")).unwrap_err();
        assert!(e.contains("keepalive"), "{e}");
    }

    #[test]
    fn a_config_that_would_loosen_the_safety_table_is_refused() {
        let e = Config::parse(&format!("{MINIMAL}[limits]\ntemperature_max_c = 35\n")).unwrap_err();
        assert!(e.contains("loosen"), "{e}");
    }

    #[test]
    fn a_url_without_scheme_is_refused() {
        let e = Config::parse("[miniserver]\nurl = \"192.168.1.47\"\nuser = \"ai\"\n").unwrap_err();
        assert!(e.contains("miniserver.url"), "{e}");
    }
}
