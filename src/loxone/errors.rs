//! What can go wrong between loxwarden and the Miniserver, named after whose fault it is, each
//! with what the person can do. Converted into the crate's flat [`crate::error::Error`] at the
//! command line; the link keeps the typed value so it can decide (retry, degrade, stop).

use std::fmt;

use super::auth::AuthError;

#[derive(Debug)]
pub enum LinkError {
    /// The configuration cannot work (checked before any connection).
    Config(String),
    /// TLS refused: verification failed or the pinned certificate changed.
    Tls(String),
    /// An http:// URL to a Miniserver that offers TLS.
    TlsRequired { suggestion: String },
    /// The Miniserver could not be reached, or the connection broke.
    Unreachable { url: String, detail: String },
    /// Credentials or token refused.
    Auth(AuthError),
    /// The Miniserver answered something we cannot use.
    Protocol(String),
    /// A file in the state directory could not be read or written.
    State {
        what: String,
        source: std::io::Error,
    },
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Config(m) => write!(f, "{m}"),
            LinkError::Tls(m) => write!(f, "{m}"),
            LinkError::TlsRequired { suggestion } => write!(
                f,
                "miniserver.url is http:// but this Miniserver offers TLS (httpsStatus 1): loxwarden will not send credentials over plain HTTP to it. Use {suggestion}"
            ),
            LinkError::Unreachable { url, detail } => write!(
                f,
                "cannot reach the Miniserver at {url}: {detail}. Check miniserver.url/address, the network and that the Miniserver is running"
            ),
            LinkError::Auth(e) => write!(f, "{e}"),
            LinkError::Protocol(m) => write!(f, "unexpected answer from the Miniserver: {m}"),
            LinkError::State { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for LinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LinkError::State { source, .. } => Some(source),
            LinkError::Auth(e) => Some(e),
            _ => None,
        }
    }
}

impl From<AuthError> for LinkError {
    fn from(e: AuthError) -> LinkError {
        LinkError::Auth(e)
    }
}

impl From<LinkError> for crate::error::Error {
    fn from(e: LinkError) -> crate::error::Error {
        use crate::error::Error;
        match e {
            LinkError::Config(m) => Error::Config(m),
            LinkError::Tls(m) => Error::Tls(m),
            e @ LinkError::TlsRequired { .. } => Error::Tls(e.to_string()),
            LinkError::Auth(a) => Error::Auth(a.to_string()),
            LinkError::State { what, source } => Error::Io { what, source },
            e => Error::Miniserver(e.to_string()),
        }
    }
}
