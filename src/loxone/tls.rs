//! TLS to the Miniserver: verification on by default, certificate pinning, and the TLS state
//! reported to the person.
//!
//! Why our own verifier: a Gen 2 Miniserver's CloudDNS certificate names
//! `{ip-with-dashes}.{serial}.dyndns.loxonecloud.com`, never its LAN IP, and a custom
//! certificate is often self-signed. Turning verification off (what most clients do) lets anyone
//! on the LAN impersonate the house. So there are three policies, and the person chooses:
//!
//! - [`Policy::WebPki`]: the usual chain + name check against the Mozilla roots (and
//!   `ca_file`). Use it with the CloudDNS name and `miniserver.address` pinning the LAN IP.
//! - [`Policy::Pinned`]: the leaf certificate must have exactly this SHA-256 fingerprint
//!   (captured at `loxwarden login` and confirmed by the person, or set in the config). Chain
//!   and name are not consulted: the pin *is* the trust decision, like an SSH host key. A
//!   changed certificate is refused with the expected and the seen fingerprint.
//! - [`Policy::Off`]: explicit `tls_verify = false`; logged as a warning at every start.
//!
//! In every policy the handshake signature is verified with the ring provider, so a peer must
//! hold the private key of the certificate it shows. [`Policy::Capture`] exists only for
//! `login`: it records what the server presented and aborts the handshake, so nothing is sent
//! before the person has confirmed the fingerprint.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use super::crypto;

/// A SHA-256 certificate fingerprint.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(cert_der: &[u8]) -> Fingerprint {
        use sha2::Digest as _;
        Fingerprint(sha2::Sha256::digest(cert_der).into())
    }

    /// Accepts `AB:CD:…`, `abcd…`, with an optional `SHA256:`/`sha256=` prefix.
    pub fn parse(s: &str) -> Option<Fingerprint> {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        let body = lower
            .strip_prefix("sha256:")
            .or_else(|| lower.strip_prefix("sha256="))
            .or_else(|| lower.strip_prefix("sha256 "))
            .unwrap_or(&lower);
        let hex: String = body.chars().filter(|c| *c != ':' && *c != ' ').collect();
        let bytes = crypto::unhex(&hex)?;
        Some(Fingerprint(bytes.try_into().ok()?))
    }
}

impl fmt::Display for Fingerprint {
    /// `SHA256:AB:CD:…` (the form `openssl x509 -fingerprint -sha256` prints, with a prefix).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SHA256:")?;
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// How the Miniserver's certificate is judged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Policy {
    WebPki,
    Pinned(Fingerprint),
    Off,
    /// `login` only: record the certificate, then abort the handshake.
    Capture,
}

/// What the verifier saw on the last handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub fingerprint: Fingerprint,
    /// The chain-and-name verdict against the public roots (and `ca_file`), whatever the
    /// policy: `Ok` or the reason it failed.
    pub webpki: Result<(), String>,
    /// Set when the policy refused the certificate; says why in the person's terms.
    pub refused: Option<String>,
}

/// The verifier used for every TLS connection (HTTP and websocket).
#[derive(Debug)]
pub struct Verifier {
    policy: Policy,
    webpki: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
    seen: Mutex<Option<Seen>>,
    handshakes: AtomicU64,
}

/// The TLS setup could not be built (bad `ca_file`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSetupError(pub String);

impl fmt::Display for TlsSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsSetupError {}

/// The ring provider (never aws-lc-rs: it does not cross-compile simply to armhf).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Verifier {
    /// `extra_roots` are the DER certificates of `ca_file`.
    pub fn new(policy: Policy, extra_roots: &[Vec<u8>]) -> Result<Arc<Verifier>, TlsSetupError> {
        let provider = provider();
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for der in extra_roots {
            roots
                .add(CertificateDer::from(der.clone()))
                .map_err(|e| TlsSetupError(format!("ca_file: certificate not usable: {e}")))?;
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| TlsSetupError(format!("cannot build the certificate verifier: {e}")))?;
        Ok(Arc::new(Verifier {
            policy,
            webpki,
            provider,
            seen: Mutex::new(None),
            handshakes: AtomicU64::new(0),
        }))
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// What the last handshake presented (None before the first).
    pub fn last_seen(&self) -> Option<Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A rustls client config that uses this verifier.
    pub fn client_config(self: &Arc<Self>) -> Result<Arc<rustls::ClientConfig>, TlsSetupError> {
        let cfg = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError(format!("TLS versions: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(self.clone())
            .with_no_client_auth();
        Ok(Arc::new(cfg))
    }

    /// How many certificates this verifier has judged (to tell whether a failed request
    /// got as far as a handshake).
    pub fn handshakes(&self) -> u64 {
        self.handshakes.load(Ordering::SeqCst)
    }

    fn record(&self, seen: Seen) {
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(seen);
        self.handshakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// Pure policy decision: given what was seen, accept or refuse (with the reason).
pub fn judge(policy: &Policy, fp: &Fingerprint, webpki: &Result<(), String>) -> Result<(), String> {
    match policy {
        Policy::Off => Ok(()),
        Policy::WebPki => webpki.clone().map_err(|e| {
            format!(
                "the Miniserver's certificate does not verify ({e}). Connect by its CloudDNS name with miniserver.address set to the LAN IP, add its CA with ca_file, or pin it with 'loxwarden login'"
            )
        }),
        Policy::Pinned(expected) if expected == fp => Ok(()),
        Policy::Pinned(expected) => Err(format!(
            "the Miniserver's certificate changed: expected {expected}, seen {fp}. If you replaced the certificate (or it was renewed), check the new one and run 'loxwarden login' to pin it; otherwise something is impersonating the Miniserver"
        )),
        Policy::Capture => Err("certificate captured for confirmation".into()),
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fingerprint = Fingerprint::of(end_entity.as_ref());
        let webpki = self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map(|_| ())
            .map_err(|e| e.to_string());
        let verdict = judge(&self.policy, &fingerprint, &webpki);
        self.record(Seen {
            fingerprint,
            webpki,
            refused: verdict.as_ref().err().cloned(),
        });
        match verdict {
            Ok(()) => Ok(ServerCertVerified::assertion()),
            Err(reason) => Err(rustls::Error::General(reason)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Reads the certificates of a PEM file (`ca_file`) as DER.
pub fn read_pem_certs(path: &std::path::Path) -> Result<Vec<Vec<u8>>, TlsSetupError> {
    use rustls::pki_types::pem::PemObject;
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| TlsSetupError(format!("ca_file {}: {e}", path.display())))?
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect();
    let certs = certs.map_err(|e| TlsSetupError(format!("ca_file {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(TlsSetupError(format!(
            "ca_file {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// The TLS state as a person reads it in `check-config` and `get_system_status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsState {
    /// Plain HTTP/WS to a Miniserver without TLS; credentials travel with Loxone command
    /// encryption.
    PlainWithCommandEncryption,
    /// TLS verified against public roots or `ca_file`.
    Verified { fingerprint: Option<Fingerprint> },
    /// TLS with the certificate pinned by fingerprint.
    Pinned { fingerprint: Fingerprint },
    /// TLS without verification (explicit `tls_verify = false`).
    Unverified { fingerprint: Option<Fingerprint> },
}

impl fmt::Display for TlsState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsState::PlainWithCommandEncryption => f.write_str(
                "no TLS (the Miniserver offers none, as Gen 1 does): plain HTTP/WS, credentials sent with Loxone command encryption",
            ),
            TlsState::Verified { fingerprint } => {
                write!(f, "TLS, certificate verified against trusted roots")?;
                if let Some(fp) = fingerprint {
                    write!(f, " ({fp})")?;
                }
                Ok(())
            }
            TlsState::Pinned { fingerprint } => write!(f, "TLS, certificate pinned {fingerprint}"),
            TlsState::Unverified { fingerprint } => {
                write!(f, "TLS WITHOUT certificate verification (tls_verify = false)")?;
                if let Some(fp) = fingerprint {
                    write!(f, "; certificate seen {fp}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_print_like_openssl_and_parse_back_in_any_usual_form() {
        let fp = Fingerprint([0xab; 32]);
        let s = fp.to_string();
        assert!(s.starts_with("SHA256:AB:AB:"));
        assert_eq!(Fingerprint::parse(&s), Some(fp));
        assert_eq!(Fingerprint::parse(&"ab".repeat(32)), Some(fp));
        assert_eq!(
            Fingerprint::parse(&format!("sha256={}", "AB".repeat(32))),
            Some(fp)
        );
        assert_eq!(Fingerprint::parse("abcd"), None);
        assert_eq!(Fingerprint::parse(""), None);
    }

    #[test]
    fn a_pinned_certificate_passes_and_a_changed_one_names_both_fingerprints() {
        let pin = Fingerprint([1; 32]);
        let seen = Fingerprint([2; 32]);
        let bad_chain = Err("unknown issuer".to_string());
        assert!(judge(&Policy::Pinned(pin), &pin, &bad_chain).is_ok());
        let e = judge(&Policy::Pinned(pin), &seen, &Ok(())).unwrap_err();
        assert!(
            e.contains(&pin.to_string()) && e.contains(&seen.to_string()),
            "{e}"
        );
        assert!(e.contains("loxwarden login"));
    }

    #[test]
    fn webpki_policy_refuses_an_unverifiable_chain_and_says_what_to_do() {
        let fp = Fingerprint([3; 32]);
        let e = judge(&Policy::WebPki, &fp, &Err("NotValidForName".into())).unwrap_err();
        assert!(e.contains("NotValidForName") && e.contains("miniserver.address"));
        assert!(judge(&Policy::WebPki, &fp, &Ok(())).is_ok());
    }

    #[test]
    fn capture_never_lets_a_handshake_finish_and_off_accepts() {
        let fp = Fingerprint([4; 32]);
        assert!(judge(&Policy::Capture, &fp, &Ok(())).is_err());
        assert!(judge(&Policy::Off, &fp, &Err("x".into())).is_ok());
    }
}
