//! HTTPS/WSS for the simulated Miniserver (a Gen 2 device): rustls with the ring provider.
//!
//! The embedded certificates are **test-only** (see `certs/README.md`): a test CA and two leaf
//! certificates for `127-0-0-1.504F94A00001.dyndns.loxonecloud.com`, `localhost` and
//! `127.0.0.1`, the second one with a different key for the "certificate changed" fault. The
//! CloudDNS-style name mirrors CWM "How can I connect locally with TLS?".

use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The test CA that signed both embedded leaves (PEM). Trust it only in tests.
pub const TEST_CA_PEM: &str = include_str!("certs/ca.pem");
/// The leaf the simulator presents by default (PEM).
pub const SERVER_CERT_PEM: &str = include_str!("certs/server.pem");
const SERVER_KEY_PEM: &str = include_str!("certs/server.key");
/// The leaf presented after the "certificate changed" fault (PEM).
pub const ALT_SERVER_CERT_PEM: &str = include_str!("certs/server-alt.pem");
const ALT_SERVER_KEY_PEM: &str = include_str!("certs/server-alt.key");
/// The hostname the embedded leaves are issued for (CloudDNS style, serial 504F94A00001).
pub const TEST_HOSTNAME: &str = "127-0-0-1.504F94A00001.dyndns.loxonecloud.com";

fn bad(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"))
}

/// Builds a server config from PEM text (certificate chain, private key).
pub fn config_from_pem(chain_pem: &[u8], key_pem: &[u8]) -> io::Result<Arc<ServerConfig>> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| bad("certificate PEM", e))?;
    if chain.is_empty() {
        return Err(bad("certificate PEM", "no certificate found"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| bad("private key PEM", e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("TLS versions", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| bad("TLS certificate", e))?;
    Ok(Arc::new(cfg))
}

/// The primary and the alternative server configuration.
pub struct TlsConfigs {
    pub primary: Arc<ServerConfig>,
    pub alt: Arc<ServerConfig>,
    /// PEM of the leaf each presents (for tests that pin).
    pub primary_pem: String,
    pub alt_pem: String,
}

impl TlsConfigs {
    /// The embedded test certificates.
    pub fn embedded() -> io::Result<TlsConfigs> {
        Ok(TlsConfigs {
            primary: config_from_pem(SERVER_CERT_PEM.as_bytes(), SERVER_KEY_PEM.as_bytes())?,
            alt: config_from_pem(
                ALT_SERVER_CERT_PEM.as_bytes(),
                ALT_SERVER_KEY_PEM.as_bytes(),
            )?,
            primary_pem: SERVER_CERT_PEM.to_string(),
            alt_pem: ALT_SERVER_CERT_PEM.to_string(),
        })
    }

    /// A certificate chain and key from files; the alternative stays the embedded one.
    pub fn from_files(chain: &Path, key: &Path) -> io::Result<TlsConfigs> {
        let chain_pem = std::fs::read(chain)?;
        let key_pem = std::fs::read(key)?;
        let mut t = TlsConfigs::embedded()?;
        t.primary = config_from_pem(&chain_pem, &key_pem)?;
        t.primary_pem = String::from_utf8_lossy(&chain_pem).into_owned();
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_certificates_load() {
        let t = TlsConfigs::embedded().unwrap();
        assert_ne!(t.primary_pem, t.alt_pem);
        assert!(TEST_CA_PEM.contains("BEGIN CERTIFICATE"));
    }
}
