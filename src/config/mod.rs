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

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod consent;
pub use consent::{Channel, Consent, HouseChannel};

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
        self.consent.validate()?;
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
fn valid_user_name(u: &str) -> bool {
    (1..=32).contains(&u.len())
        && !u.starts_with('-')
        && u.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// The parts of `miniserver.url` the link uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsUrl {
    pub tls: bool,
    /// Host name or IP address as written (IPv6 without brackets).
    pub host: String,
    pub port: u16,
}

impl MsUrl {
    /// `scheme://host[:port]` for building request URLs.
    pub fn base(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default_port = if self.tls { 443 } else { 80 };
        if self.port == default_port {
            format!("{scheme}://{host}")
        } else {
            format!("{scheme}://{host}:{}", self.port)
        }
    }
}

/// A TOML error as `line L, column C: message`, naming the key but without the source line
/// that toml's own `Display` quotes: a password pasted into the file by mistake (say
/// `password = "…"`, an unknown key) must not be echoed to the terminal and the journal.
/// The first required key the file does not set, as a sentence saying what to write.
fn missing_required(table: &toml::Table) -> Option<String> {
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

fn toml_error(text: &str, e: &toml::de::Error) -> String {
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

/// The URL for an error message, with any user information replaced by `***`.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        (None, Some(at)) => format!("***{}", &url[at..]),
        _ => url.to_owned(),
    }
}

/// Who else may read or change the site's files: the warnings the commands that handle
/// credentials (`daemon`, `serve --standalone`, `login`, `check-config`) log at start.
///
/// Why warnings and not errors: the package installs the config 0644 so that anyone in the
/// house can run `loxwarden status`; it holds no secret (no password key exists and a URL with
/// one is refused). But it names the Miniserver, the Loxone user and where the passwords are,
/// and whoever can *write* it decides what the AI may see and do. The password files
/// themselves must be private.
pub fn file_mode_warnings(config_path: &Path, cfg: Option<&Config>) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| m.permissions().mode() & 0o777)
    };
    let mut out = Vec::new();
    if let Some(m) = mode(config_path) {
        out.extend(config_mode_warnings(config_path, m));
    }
    if let Some(cfg) = cfg {
        let m = &cfg.miniserver;
        for (what, path) in [
            ("miniserver.password_file", &m.password_file),
            ("miniserver.visu_password_file", &m.visu_password_file),
        ] {
            if let Some(p) = path
                && let Some(mode) = mode(p)
            {
                out.extend(secret_mode_warning(what, p, mode));
            }
        }
    }
    out
}

/// The warnings for a config file with permission bits `mode`.
fn config_mode_warnings(path: &Path, mode: u32) -> Vec<String> {
    let mut out = Vec::new();
    if mode & 0o022 != 0 {
        out.push(format!(
            "the config file {} can be changed by users other than its owner (mode {mode:03o}): \
             they decide what the AI may see and do; run 'chmod go-w {}'",
            path.display(),
            path.display()
        ));
    }
    if mode & 0o004 != 0 {
        out.push(format!(
            "the config file {} is readable by every local user (mode {mode:03o}); it holds no \
             password, but it names the Miniserver, the Loxone user and the password files; \
             'chmod o-r {}' keeps it to its owner and group",
            path.display(),
            path.display()
        ));
    }
    out
}

/// The warning for a password file with permission bits `mode`, if group or others may use it.
fn secret_mode_warning(what: &str, path: &Path, mode: u32) -> Option<String> {
    (mode & 0o077 != 0).then(|| {
        format!(
            "{what} {} holds a password and is open to other users (mode {mode:03o}); \
             run 'chmod 600 {}'",
            path.display(),
            path.display()
        )
    })
}

/// Parses `http(s)://host[:port][/]`. No user info (credentials never go in a URL), no path,
/// query or fragment.
pub fn parse_ms_url(url: &str) -> Result<MsUrl, String> {
    // Never echo user information: it may be a password.
    let shown = redact_url(url);
    let bad = |why: &str| format!("miniserver.url {shown:?}: {why}");
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad("must start with http:// or https://"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('@') {
        return Err(bad(
            "must not contain a user or password (loxwarden never sends credentials in a URL; use 'loxwarden login')",
        ));
    }
    if rest.contains(['/', '?', '#']) {
        return Err(bad(
            "must be only scheme, host and optional port, without a path",
        ));
    }
    let default_port = if tls { 443 } else { 80 };
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed [ in an IPv6 address"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| bad("the port must be 1 to 65535"))?,
            None if after.is_empty() => default_port,
            None => return Err(bad("unexpected text after the IPv6 address")),
        };
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad("not an IPv6 address inside [ ]"));
        }
        (h.to_owned(), port)
    } else {
        let (h, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| bad("the port must be 1 to 65535"))?,
            ),
            None => (rest, default_port),
        };
        if h.is_empty()
            || h.len() > 253
            || !h
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
        {
            return Err(bad("the host must be a name or an IP address"));
        }
        (h.to_ascii_lowercase(), port)
    };
    if port == 0 {
        return Err(bad("the port must be 1 to 65535"));
    }
    Ok(MsUrl { tls, host, port })
}

/// Parses `miniserver.address`: an IP address, optionally with a port (`192.168.1.47`,
/// `192.168.1.47:8443`, `[fd00::2]:443`).
pub fn parse_address(s: &str, default_port: u16) -> Result<std::net::SocketAddr, String> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<std::net::IpAddr>() {
        return Ok(std::net::SocketAddr::new(ip, default_port));
    }
    s.parse::<std::net::SocketAddr>().map_err(|_| {
        format!("miniserver.address {s:?} must be an IP address, optionally with :port")
    })
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
