//! The Miniserver client over HTTP: bootstrap, login, token commands, the structure file and
//! device commands. Stateless apart from the connection pool and the AES session.
//!
//! Why HTTP for commands (not the websocket): each command is one request with its own reply,
//! so a command can never be confused with another's answer, and the emergency stop can use
//! the same [`Client`] with the stored token even when the websocket is down. The one
//! exception is the emergency stop with the link live: its few hundred commands go pipelined on
//! the link's websocket (`ws::pipeline`, each answer matched by the command it names), because
//! one request each would take as many round trips.
//!
//! Authentication follows decision 7: over TLS the plain token rides in the query
//! (`?autht={token}&user={user}`, the channel is encrypted); over plain HTTP (Gen 1 only) every
//! authenticated request takes a one-time key (`jdev/sys/getkey`), carries the token *hash*
//! and travels inside `jdev/sys/enc/…` (decision 3). Token-returning commands use `fenc`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::auth::{self, Token, TokenVerb};
use super::command::Command;
use super::crypto::{self, HashAlg, PublicKey, urlencode};
use super::enc::{SealedError, Session};
use super::errors::LinkError;
use super::http::Http;
use super::ll::{self, ApiInfo, LlReply};
use super::secret::Secret;
use super::tls::{Policy, TlsState, Verifier};
use crate::config::{self, Config, MsUrl};

/// A device command's answer, as the Miniserver gave it.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// The LL code (200 = executed).
    pub code: u16,
    /// The LL value as text (CWM: "not fully implemented"; read the state back instead).
    pub value: String,
    /// The command the Miniserver says it answered.
    pub control: String,
}

impl Reply {
    pub fn is_ok(&self) -> bool {
        self.code == 200
    }
}

/// Timeout for downloading the structure file (it can be several MB on a slow Gen 1).
pub const STRUCTURE_TIMEOUT: Duration = Duration::from_secs(60);

/// What the Miniserver said about itself at connect time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bootstrap {
    pub api: ApiInfo,
    pub tls: TlsState,
}

/// HTTP client bound to one Miniserver and one AES session.
#[derive(Debug)]
pub struct Client {
    http: Http,
    public: PublicKey,
    session: Session,
    user: String,
}

/// Builds the TLS verifier the config asks for, with `pin` from the token file if any.
pub fn verifier_for(
    cfg: &Config,
    stored_pin: Option<super::tls::Fingerprint>,
) -> Result<Option<Arc<Verifier>>, LinkError> {
    let url = cfg.ms_url().map_err(LinkError::Config)?;
    if !url.tls {
        return Ok(None);
    }
    let m = &cfg.miniserver;
    let config_pin = m
        .tls_fingerprint
        .as_deref()
        .and_then(super::tls::Fingerprint::parse);
    let policy = match (config_pin, stored_pin) {
        (Some(c), Some(s)) if c != s => {
            return Err(LinkError::Config(format!(
                "miniserver.tls_fingerprint ({c}) differs from the certificate pinned at login ({s}); fix the config or run 'loxwarden login'"
            )));
        }
        (Some(p), _) | (None, Some(p)) => Policy::Pinned(p),
        (None, None) if !m.tls_verify => Policy::Off,
        (None, None) => Policy::WebPki,
    };
    verifier_with(cfg, policy).map(Some)
}

/// A verifier with an explicit policy (login's capture step).
pub fn verifier_with(cfg: &Config, policy: Policy) -> Result<Arc<Verifier>, LinkError> {
    let roots = match &cfg.miniserver.ca_file {
        Some(p) => super::tls::read_pem_certs(p).map_err(|e| LinkError::Config(e.to_string()))?,
        None => Vec::new(),
    };
    Verifier::new(policy, &roots).map_err(|e| LinkError::Config(e.to_string()))
}

/// The LAN address override of the config, if any.
pub fn address_of(cfg: &Config, url: &MsUrl) -> Result<Option<SocketAddr>, LinkError> {
    cfg.miniserver
        .address
        .as_deref()
        .map(|a| config::parse_address(a, url.port))
        .transpose()
        .map_err(LinkError::Config)
}

/// `jdev/cfg/apiKey` over a fresh agent (no credentials involved).
pub fn api_info(http: &Http) -> Result<ApiInfo, LinkError> {
    let r = http.get_ll("jdev/cfg/apiKey")?;
    if !r.is_ok() {
        return Err(LinkError::Protocol(format!(
            "jdev/cfg/apiKey answered LL {}",
            r.code
        )));
    }
    Ok(ll::parse_api_info(&r.value_text()))
}

/// Refuses an http:// URL to a Miniserver that offers TLS, suggesting the right URL.
pub fn require_tls_if_offered(url: &MsUrl, api: &ApiInfo) -> Result<(), LinkError> {
    if url.tls || !api.offers_tls() {
        return Ok(());
    }
    let ip_dashes = url.host.replace(['.', ':'], "-");
    let suggestion = if url.host.parse::<std::net::IpAddr>().is_ok() {
        format!(
            "url = \"https://{ip_dashes}.{}.dyndns.loxonecloud.com\" with address = \"{}\"",
            api.serial_compact(),
            url.host
        )
    } else {
        format!("an https:// url for {}", url.host)
    };
    Err(LinkError::TlsRequired { suggestion })
}

/// The TLS state to report, from the verifier's policy and what it saw.
pub fn tls_state(http: &Http) -> TlsState {
    let Some(v) = http.verifier() else {
        return TlsState::PlainWithCommandEncryption;
    };
    let seen = v.last_seen().map(|s| s.fingerprint);
    match v.policy() {
        Policy::Pinned(fp) => TlsState::Pinned { fingerprint: *fp },
        Policy::Off => TlsState::Unverified { fingerprint: seen },
        _ => TlsState::Verified { fingerprint: seen },
    }
}

impl Client {
    /// Connects: `apiKey` (and the TLS rule), then the public key; sets up the AES session.
    pub fn connect(
        cfg: &Config,
        verifier: Option<Arc<Verifier>>,
    ) -> Result<(Client, Bootstrap), LinkError> {
        let url = cfg.ms_url().map_err(LinkError::Config)?;
        let address = address_of(cfg, &url)?;
        let timeout = Duration::from_secs(cfg.link.command_timeout_s);
        let http = Http::new(&url, address, verifier, timeout)?;
        let api = api_info(&http)?;
        require_tls_if_offered(&url, &api)?;
        let key_reply = http.get_ll(auth::Start::PUBLIC_KEY_PATH)?;
        if !key_reply.is_ok() {
            return Err(LinkError::Protocol(format!(
                "getPublicKey answered LL {}",
                key_reply.code
            )));
        }
        let public = PublicKey::parse(&key_reply.value_text())
            .map_err(|e| LinkError::Protocol(e.to_string()))?;
        let session = Session::new(&public).map_err(|e| LinkError::Protocol(e.to_string()))?;
        let tls = tls_state(&http);
        Ok((
            Client {
                http,
                public,
                session,
                user: cfg.miniserver.user.clone(),
            },
            Bootstrap { api, tls },
        ))
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub fn is_tls(&self) -> bool {
        self.http.url().tls
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// Logs in with the password: getkey2 → getjwt (encrypted, reply encrypted) → token.
    pub fn login(
        &self,
        password: &Secret,
        client_uuid: &str,
        info: &str,
        now_unix: u64,
    ) -> Result<Token, LinkError> {
        let known = auth::Start::new(&self.user, client_uuid, info)
            .known_key(self.public.clone())
            .key_exchange()?;
        let getkey2 = self.http.get_ll(&known.getkey2_path())?;
        let keyed = known.user_key(&getkey2)?;
        let (path, awaiting) = keyed.getjwt(password)?;
        let answer = self.http.get(&path, None)?;
        let reply = awaiting
            .open(&answer.body)
            .map_err(|e| unreadable_token_reply(e, "getjwt", answer.status))?;
        Ok(awaiting.token(reply, now_unix)?)
    }

    /// A one-time key from `jdev/sys/getkey` (hex).
    fn one_time_key(&self) -> Result<String, LinkError> {
        let r = self.http.get_ll("jdev/sys/getkey")?;
        auth::check_code(&r, &self.user, "getkey")?;
        let key = r.value_text();
        if key.is_empty() || crypto::unhex(&key).is_none() {
            return Err(LinkError::Protocol("getkey returned no hex key".into()));
        }
        Ok(key)
    }

    /// `checktoken` or `killtoken` with the token hash, encrypted (decision 7). `refreshjwt`
    /// goes over the websocket (`ws::Ws::refresh`): the document calls HTTP "not verified"
    /// there and Loxone's .NET client refuses it, so it is refused here before anything is sent.
    pub fn token_command(&self, token: &Token, verb: TokenVerb) -> Result<LlReply, LinkError> {
        if verb == TokenVerb::Refresh {
            return Err(LinkError::Protocol(
                "refreshjwt is sent over the websocket, not HTTP".into(),
            ));
        }
        let key = self.one_time_key()?;
        let cmd = token.command(verb, &key)?;
        self.http.get_ll(&self.session.http_path(&cmd, false))
    }

    /// The full request path for an authenticated command (decision 7).
    fn authed_path(&self, token: &Token, cmd: &str) -> Result<String, LinkError> {
        let sep = if cmd.contains('?') { '&' } else { '?' };
        if self.is_tls() {
            Ok(format!(
                "{cmd}{sep}autht={}&user={}",
                urlencode(token.token.expose()),
                urlencode(&token.user)
            ))
        } else {
            let key = self.one_time_key()?;
            let inner = format!(
                "{cmd}{sep}autht={}&user={}",
                token.hash(&key)?,
                urlencode(&token.user)
            );
            Ok(self.session.http_path(&inner, false))
        }
    }

    /// An authenticated command with an LL reply.
    pub fn authed(&self, token: &Token, cmd: &str) -> Result<LlReply, LinkError> {
        let path = self.authed_path(token, cmd)?;
        self.http.get_ll(&path)
    }

    /// `jdev/sps/LoxAPPversion3`: the `lastModified` of the current structure.
    pub fn structure_version(&self, token: &Token) -> Result<String, LinkError> {
        let r = self.authed(token, "jdev/sps/LoxAPPversion3")?;
        auth::check_code(&r, &token.user, "LoxAPPversion3")?;
        Ok(r.value_text())
    }

    /// `data/LoxAPP3.json`, authenticated. Returns the raw bytes.
    pub fn fetch_structure(&self, token: &Token) -> Result<Vec<u8>, LinkError> {
        let path = self.authed_path(token, "data/LoxAPP3.json")?;
        let a = self.http.get(&path, Some(STRUCTURE_TIMEOUT))?;
        // An authentication failure comes as an LL envelope or the HTML error page.
        let looks_like_ll =
            a.body.trim_start().starts_with("{\"LL\"") || a.body.contains("<errorcode>");
        if a.status != 200 || looks_like_ll {
            let code = ll::parse(&a.body).map(|r| r.code).unwrap_or(a.status);
            auth::check_code(
                &LlReply {
                    control: String::new(),
                    code,
                    value: serde_json::Value::Null,
                },
                &token.user,
                "data/LoxAPP3.json",
            )?;
            return Err(LinkError::Protocol(format!(
                "data/LoxAPP3.json answered HTTP {}",
                a.status
            )));
        }
        Ok(a.body.into_bytes())
    }

    /// Sends a device command. `visu` is needed for a secured control: a fresh
    /// `getvisusalt` and hash per command (decision 9).
    pub fn send(
        &self,
        token: &Token,
        cmd: &Command,
        secured: bool,
        visu: Option<&Secret>,
    ) -> Result<Reply, SendFailure> {
        let path = if secured {
            let Some(pw) = visu else {
                return Err(SendFailure::NoVisuPassword);
            };
            let salt = self
                .authed(
                    token,
                    &format!("jdev/sys/getvisusalt/{}", urlencode(&token.user)),
                )
                .map_err(SendFailure::Link)?;
            if !salt.is_ok() {
                return Ok(reply_of(salt));
            }
            let v = salt.value_object().ok_or_else(|| {
                SendFailure::Link(LinkError::Protocol(
                    "getvisusalt value is not an object".into(),
                ))
            })?;
            let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
            let alg = HashAlg::from_field(v.get("hashAlg").and_then(|x| x.as_str()))
                .map_err(|e| SendFailure::Link(LinkError::Protocol(e.to_string())))?;
            let hash = crypto::visu_hash(alg, &field("key"), pw.expose(), &field("salt"))
                .map_err(|e| SendFailure::Link(LinkError::Protocol(e.to_string())))?;
            cmd.ios_path(&hash).ok_or_else(|| {
                SendFailure::Link(LinkError::Protocol("visualisation hash is not hex".into()))
            })?
        } else {
            cmd.io_path()
        };
        let r = self.authed(token, &path).map_err(SendFailure::Link)?;
        Ok(reply_of(r))
    }
}

/// A sealed token reply we could not open. The Miniserver may have issued a token (it stays
/// valid there until it expires), so the message says so rather than dropping it silently.
fn unreadable_token_reply(e: SealedError, step: &str, status: u16) -> LinkError {
    LinkError::Protocol(format!(
        "{e} (HTTP {status}, {step}). If the Miniserver issued a token with it, that token stays valid on the Miniserver until it expires; it can be removed in Loxone Config (the user's tokens)"
    ))
}

fn reply_of(r: LlReply) -> Reply {
    Reply {
        code: r.code,
        value: r.value_text(),
        control: r.control,
    }
}

/// A command that could not be sent (as opposed to one the Miniserver answered with a code).
#[derive(Debug)]
pub enum SendFailure {
    /// A secured control and no visualisation password configured.
    NoVisuPassword,
    Link(LinkError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_ms_url;

    fn api(https: Option<i64>) -> ApiInfo {
        ApiInfo {
            snr: "50:4F:94:A0:00:01".into(),
            version: "16.0.6.17".into(),
            https_status: https,
            ..ApiInfo::default()
        }
    }

    #[test]
    fn plain_http_to_a_miniserver_that_offers_tls_is_refused_with_the_url_to_use() {
        let url = parse_ms_url("http://192.168.1.47").unwrap();
        let e = require_tls_if_offered(&url, &api(Some(1)))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("https://192-168-1-47.504F94A00001.dyndns.loxonecloud.com"),
            "{e}"
        );
        assert!(e.contains("address = \"192.168.1.47\""), "{e}");
        // An expired certificate (2) still means the device speaks TLS.
        assert!(require_tls_if_offered(&url, &api(Some(2))).is_err());
        // Gen 1 (absent or 0) may use plain HTTP, with command encryption.
        assert!(require_tls_if_offered(&url, &api(None)).is_ok());
        assert!(require_tls_if_offered(&url, &api(Some(0))).is_ok());
        let tls = parse_ms_url("https://192-168-1-47.504F94A00001.dyndns.loxonecloud.com").unwrap();
        assert!(require_tls_if_offered(&tls, &api(Some(1))).is_ok());
    }
}
