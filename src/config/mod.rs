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
//! - `[control]`: who may lift an emergency stop (`loxwarden resume`).

mod load;
mod modes;
mod url;

pub use load::ConfigError;
pub use modes::file_mode_warnings;
pub use url::{MsUrl, parse_address, parse_ms_url};

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
    pub presence: Presence,
    #[serde(default)]
    pub consent: Consent,
    #[serde(default)]
    pub profiles: Vec<Profile>,
    #[serde(default)]
    pub control: Control,
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

/// Presence detection (UCA-S1): the rooms the site declares covered by a presence detector
/// that stands in another room. Arming without a question needs every room covered.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Presence {
    #[serde(default)]
    pub covered_rooms: Vec<String>,
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

/// The local control channel (`loxwarden estop`, `resume`, `status`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Unix users who may lift an emergency stop, besides root and the service user. Being in
    /// the group `loxwarden` is not enough: the AI's SSH account is in it.
    #[serde(default)]
    pub resume_users: Vec<String>,
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

#[cfg(test)]
mod tests {
    use super::modes::{config_mode_warnings, secret_mode_warning};
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
    fn urls_are_scheme_host_port_only() {
        let u = parse_ms_url("https://192-168-1-47.504F94A00000.dyndns.loxonecloud.com").unwrap();
        assert!(u.tls);
        assert_eq!(u.port, 443);
        assert_eq!(u.host, "192-168-1-47.504f94a00000.dyndns.loxonecloud.com");
        let u = parse_ms_url("http://192.168.1.47:8080/").unwrap();
        assert_eq!(
            (u.tls, u.port, u.host.as_str()),
            (false, 8080, "192.168.1.47")
        );
        assert_eq!(
            parse_ms_url("https://[fd00::2]:8443").unwrap().base(),
            "https://[fd00::2]:8443"
        );
        for bad in [
            "http://admin:pw@192.168.1.47",
            "http://192.168.1.47/jdev/sys",
            "http://192.168.1.47?x=1",
            "http://",
            "http://host:0",
            "http://host:99999",
            "ftp://host",
            "http://ho st",
        ] {
            assert!(parse_ms_url(bad).is_err(), "{bad} accepted");
        }
        let e = parse_ms_url("http://admin:pw@192.168.1.47").unwrap_err();
        assert!(e.contains("loxwarden login"), "{e}");
    }

    #[test]
    fn a_password_in_the_url_or_in_an_unknown_key_is_never_echoed() {
        let e = parse_ms_url("https://admin:Hunter2-secret@192.168.1.47").unwrap_err();
        assert!(!e.contains("Hunter2"), "{e}");
        assert!(e.contains("***@192.168.1.47"), "{e}");
        let e = parse_ms_url("admin:Hunter2-secret@192.168.1.47").unwrap_err();
        assert!(!e.contains("Hunter2"), "{e}");
        let e = Config::parse(&format!("{MINIMAL}password = \"Hunter2-secret\"\n")).unwrap_err();
        assert!(!e.contains("Hunter2"), "{e}");
        assert!(e.contains("`password`"), "{e}");
        assert!(e.starts_with("line 4, column 1: "), "{e}");
    }

    #[test]
    fn files_others_can_read_or_change_are_warned_about() {
        let p = Path::new("/etc/loxwarden/config.toml");
        assert!(config_mode_warnings(p, 0o600).is_empty());
        assert!(config_mode_warnings(p, 0o640).is_empty());
        let w = config_mode_warnings(p, 0o644);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("readable by every local user"), "{w:?}");
        assert_eq!(config_mode_warnings(p, 0o660).len(), 1);
        assert_eq!(config_mode_warnings(p, 0o666).len(), 2);
        let s = Path::new("/etc/loxwarden/pw");
        assert!(secret_mode_warning("miniserver.password_file", s, 0o600).is_none());
        assert!(secret_mode_warning("miniserver.password_file", s, 0o400).is_none());
        for m in [0o640, 0o604, 0o644, 0o620] {
            let w = secret_mode_warning("miniserver.password_file", s, m).unwrap();
            assert!(w.contains("chmod 600"), "{w}");
        }
    }

    #[test]
    fn link_and_paths_are_checked_with_the_key_named() {
        let with = |extra: &str| Config::parse(&format!("{MINIMAL}{extra}"));
        assert!(
            with("[link]\nkeepalive_interval_s = 300\n")
                .unwrap_err()
                .contains("keepalive_interval_s")
        );
        assert!(
            with("[link]\nkeepalive_interval_s = 5\nkeepalive_deadline_s = 6\n")
                .unwrap_err()
                .contains("keepalive_deadline_s")
        );
        assert!(
            with("[link]\ncommand_timeout_s = 0\n")
                .unwrap_err()
                .contains("command_timeout_s")
        );
        assert!(
            with("[paths]\nstate_dir = \"state\"\n")
                .unwrap_err()
                .contains("paths.state_dir")
        );
    }

    #[test]
    fn tls_settings_are_checked() {
        let base = "[miniserver]\nurl = \"https://h.example\"\nuser = \"ai\"\n";
        assert!(
            Config::parse(&format!("{base}tls_fingerprint = \"abc\"\n"))
                .unwrap_err()
                .contains("tls_fingerprint")
        );
        let fp = "AB:".repeat(31) + "AB";
        assert!(Config::parse(&format!("{base}tls_fingerprint = \"{fp}\"\n")).is_ok());
        assert!(
            Config::parse(&format!(
                "{base}tls_fingerprint = \"{fp}\"\ntls_verify = false\n"
            ))
            .is_err()
        );
        assert!(
            Config::parse(&format!("{base}address = \"not-an-ip\"\n"))
                .unwrap_err()
                .contains("miniserver.address")
        );
        let c = Config::parse(&format!("{MINIMAL}tls_fingerprint = \"{fp}\"\n")).unwrap();
        assert_eq!(c.ignored_settings().len(), 1);
        assert_eq!(parse_address("10.0.0.2", 443).unwrap().port(), 443);
        assert_eq!(parse_address("10.0.0.2:8443", 443).unwrap().port(), 8443);
    }

    #[test]
    fn a_config_that_would_loosen_the_safety_table_is_refused() {
        let e = Config::parse(&format!("{MINIMAL}[limits]\ntemperature_max_c = 35\n")).unwrap_err();
        assert!(e.contains("loosen"), "{e}");
    }

    #[test]
    fn resume_users_and_profiles_name_unix_users() {
        let c = Config::parse(&format!(
            "{MINIMAL}[control]\nresume_users = [\"alice\"]\n[[profiles]]\nuser = \"ai-ro\"\nread_only = true\n"
        ))
        .unwrap();
        assert_eq!(c.control.resume_users, ["alice"]);
        assert!(c.profiles[0].read_only);
        let e =
            Config::parse(&format!("{MINIMAL}[control]\nresume_users = [\"a:b\"]\n")).unwrap_err();
        assert!(e.contains("resume_users"), "{e}");
        assert!(Config::parse(&format!("{MINIMAL}[control]\nresume = []\n")).is_err());
    }

    #[test]
    fn a_url_without_scheme_is_refused() {
        let e = Config::parse("[miniserver]\nurl = \"192.168.1.47\"\nuser = \"ai\"\n").unwrap_err();
        assert!(e.contains("miniserver.url"), "{e}");
    }
}
