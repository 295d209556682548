//! The crate's error type: one flat enum, hand-written `Display` (the ureq habit).
//!
//! Errors are for things that went wrong: a bad command line, an unreadable config, a
//! Miniserver that refused or vanished. A *safety refusal* is not an error: it is a returned
//! value (`safety::Verdict`) that must be audited, so `?` can never skip past the audit log.
//! Variants are named after whose fault it is, so `main` can pick the exit code.

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// The command line was wrong (exit 2).
    Usage(String),
    /// The config file is missing, unreadable or invalid (exit 78, EX_CONFIG).
    Config(String),
    /// A local file or socket operation failed; `what` says which.
    Io {
        what: String,
        source: std::io::Error,
    },
    /// The Miniserver could not be reached, refused us, or answered nonsense.
    Miniserver(String),
    /// Credentials or token were refused; the text says what the person can do.
    Auth(String),
    /// TLS verification failed or the pinned certificate changed.
    Tls(String),
    /// One or more actions failed (e.g. an emergency stop where a device did not answer 200).
    Failed(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) => write!(f, "{m}\nTry 'loxwarden --help'."),
            Error::Config(m) => write!(f, "config: {m}"),
            Error::Io { what, source } => write!(f, "{what}: {source}"),
            Error::Miniserver(m) => write!(f, "Miniserver: {m}"),
            Error::Auth(m) => write!(f, "authentication: {m}"),
            Error::Tls(m) => write!(f, "TLS: {m}"),
            Error::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Error {
    /// The process exit code for this error (sysexits-style where one fits).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::Config(_) => 78,
            Error::Io { .. } => 74,
            Error::Miniserver(_) => 69,
            Error::Auth(_) => 77,
            Error::Tls(_) => 76,
            Error::Failed(_) => 1,
        }
    }

    pub fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            what: what.into(),
            source,
        }
    }
}

impl From<crate::config::ConfigError> for Error {
    fn from(e: crate::config::ConfigError) -> Error {
        Error::Config(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
