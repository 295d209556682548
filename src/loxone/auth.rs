//! Token authentication as a state machine whose steps consume `self` (the rustls habit):
//! public key → key exchange → `getkey2` → `getjwt` → [`Token`] → refresh.
//!
//! Why pure: each step takes the Miniserver's reply and returns the next state or an
//! [`AuthError`]; the shell (`http.rs`, `ws.rs`) only moves bytes. A step cannot be skipped or
//! repeated (the one-time key is consumed by the step that uses it), and every step is
//! testable with captured replies and no network.
//!
//! Rules (binding decisions 5–9): `getjwt` asks for permission 4 (App) and nothing more, is
//! always sent encrypted, and its reply is encrypted too (`fenc`: the whole body is sealed, see
//! `enc.rs`) so the token never crosses a plain link in clear. `validUntil` counts seconds since 2009-01-01 00:00 UTC.

use std::fmt;

use serde_json::Value;

use super::crypto::{self, CryptoError, HashAlg, PublicKey, urlencode};
use super::enc::{SealedError, Session};
use super::ll::LlReply;
use super::secret::Secret;

/// Unix time of 2009-01-01 00:00:00 UTC, the Miniserver's epoch for `validUntil`.
pub const LOXONE_EPOCH_UNIX: u64 = 1_230_768_000;

/// Permission asked for in `getjwt`: 4 = App (long-lived). Never Admin (1), Config (8) or
/// Sys-WS (0x100): the gateway must not be able to reboot or reconfigure the Miniserver.
pub const PERMISSION_APP: u32 = 4;

/// Why authentication failed, in the person's terms. Each says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// LL 401 at `getjwt`: user name or password wrong.
    WrongCredentials { user: String },
    /// The stored token was refused (LL 401 at `authwithtoken`/`checktoken`/`refreshjwt`).
    TokenRefused { user: String },
    /// The stored token's `validUntil` has passed.
    TokenExpired { user: String, expired_unix: u64 },
    /// No token in the state directory.
    NotLoggedIn,
    /// Websocket close 4003 / LL 429: too many failed logins, the Miniserver blocks for a while.
    Blocked,
    /// LL 423 / close 4006: the user is disabled in Loxone Config.
    UserDisabled { user: String },
    /// LL 403: the user lacks the right for this request.
    Forbidden { what: String },
    /// LL 420: the websocket was not authenticated within the Miniserver's few seconds.
    AuthTimeout,
    /// LL 400 at getjwt: the Miniserver wants the request encrypted differently.
    BadRequest { what: String },
    /// A reply we cannot use.
    Protocol(String),
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::WrongCredentials { user } => write!(
                f,
                "the Miniserver refused the password for user '{user}' (LL 401). Check miniserver.user and the password, then run 'loxwarden login' again; after several failures the Miniserver blocks the user for a while"
            ),
            AuthError::TokenRefused { user } => write!(
                f,
                "the Miniserver refused the stored token for user '{user}' (LL 401): it was revoked, expired or the password changed. Run 'loxwarden login'"
            ),
            AuthError::TokenExpired { user, expired_unix } => write!(
                f,
                "the stored token for user '{user}' expired at {} UTC. Run 'loxwarden login'",
                format_unix(*expired_unix)
            ),
            AuthError::NotLoggedIn => write!(
                f,
                "no token in the state directory. Run 'loxwarden login' first"
            ),
            AuthError::Blocked => write!(
                f,
                "the Miniserver blocks this user after too many failed logins (close code 4003). Wait a few minutes, check the password, then run 'loxwarden login'"
            ),
            AuthError::UserDisabled { user } => write!(
                f,
                "the Loxone user '{user}' is disabled (LL 423). Enable it in Loxone Config"
            ),
            AuthError::Forbidden { what } => write!(
                f,
                "the Loxone user lacks the right for {what} (LL 403). Grant it in Loxone Config"
            ),
            AuthError::AuthTimeout => write!(
                f,
                "the Miniserver closed the websocket because authentication took too long (LL 420); loxwarden retries"
            ),
            AuthError::BadRequest { what } => write!(
                f,
                "the Miniserver rejected {what} as malformed (LL 400); this firmware may need a newer loxwarden"
            ),
            AuthError::Protocol(m) => write!(f, "unexpected reply during authentication: {m}"),
        }
    }
}

impl std::error::Error for AuthError {}

impl From<CryptoError> for AuthError {
    fn from(e: CryptoError) -> AuthError {
        AuthError::Protocol(e.to_string())
    }
}

impl From<AuthError> for crate::error::Error {
    fn from(e: AuthError) -> crate::error::Error {
        crate::error::Error::Auth(e.to_string())
    }
}

/// Maps an LL code from an authentication step to an error (or `Ok` for 200).
pub fn check_code(reply: &LlReply, user: &str, step: &str) -> Result<(), AuthError> {
    match reply.code {
        200 => Ok(()),
        401 if step == "getjwt" => Err(AuthError::WrongCredentials {
            user: user.to_owned(),
        }),
        401 => Err(AuthError::TokenRefused {
            user: user.to_owned(),
        }),
        400 => Err(AuthError::BadRequest {
            what: step.to_owned(),
        }),
        403 => Err(AuthError::Forbidden {
            what: step.to_owned(),
        }),
        420 => Err(AuthError::AuthTimeout),
        423 => Err(AuthError::UserDisabled {
            user: user.to_owned(),
        }),
        429 => Err(AuthError::Blocked),
        other => Err(AuthError::Protocol(format!("{step} answered LL {other}"))),
    }
}

/// A token as kept in the state directory and used by the link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub token: Secret,
    /// Seconds since 2009-01-01 UTC.
    pub valid_until: u64,
    pub rights: u64,
    /// The hash algorithm of the login, used for every token hash (decision 5).
    pub hash_alg: HashAlg,
    pub user: String,
    pub unsecure_pass: bool,
    /// Unix time the token was obtained or last refreshed (for the refresh policy).
    pub obtained_unix: u64,
}

impl Token {
    /// Unix time of `validUntil`.
    pub fn expires_unix(&self) -> u64 {
        self.valid_until.saturating_add(LOXONE_EPOCH_UNIX)
    }

    pub fn is_expired(&self, now_unix: u64) -> bool {
        now_unix >= self.expires_unix()
    }

    /// Refresh once half the lifetime has passed (an App token lives weeks, so that is days
    /// before expiry: CWM gives no time zone for `validUntil`, this keeps hours of margin
    /// either way), and always in its last hour.
    pub fn refresh_due(&self, now_unix: u64) -> bool {
        let expires = self.expires_unix();
        let half = self.obtained_unix + expires.saturating_sub(self.obtained_unix) / 2;
        now_unix >= half || now_unix.saturating_add(3600) >= expires
    }

    /// The token hash with a one-time key (`jdev/sys/getkey` reply value, hex).
    pub fn hash(&self, key_hex: &str) -> Result<String, AuthError> {
        Ok(crypto::token_hash(
            self.hash_alg,
            key_hex,
            self.token.expose(),
        )?)
    }

    /// `jdev/sys/{verb}/{tokenHash}/{user}` for refreshjwt, checktoken, killtoken.
    pub fn command(&self, verb: TokenVerb, key_hex: &str) -> Result<String, AuthError> {
        Ok(format!(
            "jdev/sys/{}/{}/{}",
            verb.as_str(),
            self.hash(key_hex)?,
            urlencode(&self.user)
        ))
    }

    /// `authwithtoken/{tokenHash}/{user}` for the websocket (decision 8).
    pub fn authwithtoken(&self, key_hex: &str) -> Result<String, AuthError> {
        Ok(format!(
            "authwithtoken/{}/{}",
            self.hash(key_hex)?,
            urlencode(&self.user)
        ))
    }

    /// Applies a `refreshjwt` reply: new token, new `validUntil`.
    pub fn refreshed(&self, reply: &LlReply, now_unix: u64) -> Result<Token, AuthError> {
        check_code(reply, &self.user, "refreshjwt")?;
        let v = reply
            .value_object()
            .ok_or_else(|| AuthError::Protocol("refreshjwt value is not an object".into()))?;
        let token = match v.get("token").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => Secret::new(t),
            // Tokens "may change on refresh" (CWM): absent means unchanged.
            _ => self.token.clone(),
        };
        Ok(Token {
            token,
            valid_until: u64_field(&v, "validUntil")
                .ok_or_else(|| AuthError::Protocol("refreshjwt reply without validUntil".into()))?,
            rights: u64_field(&v, "tokenRights").unwrap_or(self.rights),
            hash_alg: self.hash_alg,
            user: self.user.clone(),
            unsecure_pass: v
                .get("unsecurePass")
                .and_then(Value::as_bool)
                .unwrap_or(self.unsecure_pass),
            obtained_unix: now_unix,
        })
    }

    /// Applies a `checktoken` reply: the Miniserver's current `validUntil`.
    pub fn checked(&self, reply: &LlReply) -> Result<Token, AuthError> {
        check_code(reply, &self.user, "checktoken")?;
        let mut t = self.clone();
        if let Some(v) = reply.value_object()
            && let Some(until) = u64_field(&v, "validUntil")
        {
            t.valid_until = until;
        }
        Ok(t)
    }
}

/// The token commands that take a token hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenVerb {
    Refresh,
    Check,
    Kill,
}

impl TokenVerb {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenVerb::Refresh => "refreshjwt",
            TokenVerb::Check => "checktoken",
            TokenVerb::Kill => "killtoken",
        }
    }
}

fn u64_field(v: &serde_json::Map<String, Value>, k: &str) -> Option<u64> {
    match v.get(k)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

// ------------------------------------------------------------------ the login state machine

/// Step 1: nothing known yet but who we are.
#[derive(Debug)]
pub struct Start {
    user: String,
    client_uuid: String,
    info: String,
}

/// Step 2: the Miniserver's public key is known.
#[derive(Debug)]
pub struct KeyKnown {
    start: Start,
    public: PublicKey,
}

/// Step 3: an AES session exists; `getkey2` may be asked.
#[derive(Debug)]
pub struct Exchanged {
    start: Start,
    session: Session,
}

/// Step 4: the one-time key and the user's salt are known; the password can be hashed.
#[derive(Debug)]
pub struct Keyed {
    start: Start,
    session: Session,
    key: String,
    salt: String,
    alg: HashAlg,
}

/// Step 5: `getjwt` was sent; waiting for the token.
#[derive(Debug)]
pub struct AwaitingToken {
    user: String,
    alg: HashAlg,
    session: Session,
}

impl Start {
    /// `client_uuid` identifies this gateway on the Miniserver (8-4-4-16 hex); `info` is a short
    /// human description ("loxwarden on pi").
    pub fn new(user: &str, client_uuid: &str, info: &str) -> Start {
        Start {
            user: user.to_owned(),
            client_uuid: client_uuid.to_owned(),
            info: info.to_owned(),
        }
    }

    /// Path that fetches the public key.
    pub const PUBLIC_KEY_PATH: &'static str = "jdev/sys/getPublicKey";

    /// Continues with a public key fetched earlier (the HTTP bootstrap already has it).
    pub fn known_key(self, public: PublicKey) -> KeyKnown {
        KeyKnown {
            start: self,
            public,
        }
    }

    pub fn public_key(self, reply: &LlReply) -> Result<KeyKnown, AuthError> {
        if !reply.is_ok() {
            return Err(AuthError::Protocol(format!(
                "getPublicKey answered LL {}",
                reply.code
            )));
        }
        let public = PublicKey::parse(&reply.value_text())?;
        Ok(KeyKnown {
            start: self,
            public,
        })
    }
}

impl KeyKnown {
    /// Generates the AES session and wraps it with the public key.
    pub fn key_exchange(self) -> Result<Exchanged, AuthError> {
        let session = Session::new(&self.public)?;
        Ok(Exchanged {
            start: self.start,
            session,
        })
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }
}

impl Exchanged {
    /// `jdev/sys/getkey2/{user}`: asks for the one-time key, salt and hash algorithm.
    pub fn getkey2_path(&self) -> String {
        format!("jdev/sys/getkey2/{}", urlencode(&self.start.user))
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn user_key(self, reply: &LlReply) -> Result<Keyed, AuthError> {
        check_code(reply, &self.start.user, "getkey2")?;
        let v = reply
            .value_object()
            .ok_or_else(|| AuthError::Protocol("getkey2 value is not an object".into()))?;
        let field = |k: &str| -> Result<String, AuthError> {
            v.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| AuthError::Protocol(format!("getkey2 reply without {k}")))
        };
        let key = field("key")?;
        let salt = field("salt")?;
        let alg = HashAlg::from_field(v.get("hashAlg").and_then(Value::as_str))?;
        Ok(Keyed {
            start: self.start,
            session: self.session,
            key,
            salt,
            alg,
        })
    }
}

impl Keyed {
    pub fn hash_alg(&self) -> HashAlg {
        self.alg
    }

    /// Hashes the password and builds `jdev/sys/getjwt/{hash}/{user}/4/{uuid}/{info}`. Returns
    /// the HTTP path that sends it encrypted with an encrypted reply (`fenc`, decision 3).
    pub fn getjwt(self, password: &Secret) -> Result<(String, AwaitingToken), AuthError> {
        let hash = crypto::credential_hash(
            self.alg,
            &self.key,
            &self.start.user,
            password.expose(),
            &self.salt,
        )?;
        let cmd = format!(
            "jdev/sys/getjwt/{hash}/{}/{PERMISSION_APP}/{}/{}",
            urlencode(&self.start.user),
            self.start.client_uuid,
            urlencode(&self.start.info)
        );
        let path = self.session.http_path(&cmd, true);
        Ok((
            path,
            AwaitingToken {
                user: self.start.user,
                alg: self.alg,
                session: self.session,
            },
        ))
    }
}

impl AwaitingToken {
    /// Opens the `getjwt` reply body with this login's session key (decision 3: the whole body
    /// is sealed; an error may come back in clear).
    pub fn open(&self, body: &str) -> Result<LlReply, SealedError> {
        self.session.open_reply(body).map(|o| o.reply)
    }

    /// Reads the token from the opened `getjwt` reply. A refusal is reported by its code
    /// whether it came sealed or in clear (wrong password, blocked, disabled, no right).
    pub fn token(self, reply: LlReply, now_unix: u64) -> Result<Token, AuthError> {
        check_code(&reply, &self.user, "getjwt")?;
        let v = reply
            .value_object()
            .ok_or_else(|| AuthError::Protocol("getjwt value is not a token object".into()))?;
        let token = v
            .get("token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AuthError::Protocol("getjwt reply without a token".into()))?;
        let rights = u64_field(&v, "tokenRights").unwrap_or(0);
        if rights & 0x1 != 0 || rights & 0x100 != 0 {
            log::warn!(
                "the Miniserver granted more than App rights (tokenRights {rights:#x}); loxwarden never uses them"
            );
        }
        Ok(Token {
            token: Secret::new(token),
            valid_until: u64_field(&v, "validUntil")
                .ok_or_else(|| AuthError::Protocol("getjwt reply without validUntil".into()))?,
            rights,
            hash_alg: self.alg,
            user: self.user,
            unsecure_pass: v
                .get("unsecurePass")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            obtained_unix: now_unix,
        })
    }
}

/// A stable client UUID (8-4-4-16) for `getjwt`, derived from host and user so the Miniserver
/// does not collect a new entry per login.
pub fn client_uuid(host: &str, user: &str) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(format!("loxwarden:{host}:{user}").as_bytes());
    let h = crypto::hex(&d[..16]);
    format!("{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..32])
}

/// `YYYY-MM-DD HH:MM:SS` for a Unix time (UTC), without a date crate.
pub fn format_unix(t: u64) -> String {
    let days = t / 86_400;
    let secs = t % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), valid for the Unix era.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loxone::ll;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/loxone/messages/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    const PUBLIC: &str = "-----BEGIN CERTIFICATE-----MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsxSURPXcgZsoriDCzMSI2lScETDMM8yVQ16HyXFQjo58hCUkogmlfLll/J8sJZOFODtrHcDTu2lTg3pNN77uDwK0Gh+kbn0C4oBZB4WcDHLRNot0D3/VL74LCn88eAOXF9VELoU7Oh5bLjsQskkZeTIRJNmT5sDlBzjFOnOJUeOKqmbwNNWAtSxtIa8wubFE13/yGw8wfPhI7v1R0jXOMSX2hHHSGY2N79XUeGtcIYXnYfjYfpiG0mO5hG1PRAwXhAX7vTAl7Xl/0GFhKrDwhp0ztIK+KS/P58K05/FoJPLbtM4xntxDCZLMga8RkceEkLc44OTvSPnQGc2bUgte5QIDAQAB-----END CERTIFICATE-----";

    fn reply(code: u16, value: Value) -> LlReply {
        LlReply {
            control: String::new(),
            code,
            value,
        }
    }

    fn keyed() -> Keyed {
        let start = Start::new(
            "showroom",
            &client_uuid("pi", "showroom"),
            "loxwarden on pi",
        );
        start
            .public_key(&reply(200, Value::String(PUBLIC.into())))
            .unwrap()
            .key_exchange()
            .unwrap()
            .user_key(&ll::parse(&fixture("loxone-java-smarteon-getKeyMessage.json")).unwrap())
            .unwrap()
    }

    #[test]
    fn the_login_chain_reaches_an_encrypted_getjwt_asking_for_app_rights_only() {
        let k = keyed();
        assert_eq!(k.hash_alg(), HashAlg::Sha1);
        let (path, _awaiting) = k.getjwt(&Secret::new("secret")).unwrap();
        assert!(path.starts_with("jdev/sys/fenc/"), "{path}");
        assert!(path.contains("?sk="));
        // Nothing of the credentials in clear.
        assert!(!path.contains("getjwt"));
        assert!(!path.contains("showroom"));
        assert!(!path.contains("3b81676ab4171898a09f99989bd746fb9f1f00d2"));
    }

    #[test]
    fn getkey2_without_hash_alg_means_sha1_and_with_sha256_means_sha256() {
        let start = || {
            Start::new("u", "x", "y")
                .public_key(&reply(200, Value::String(PUBLIC.into())))
                .unwrap()
                .key_exchange()
                .unwrap()
        };
        let v: Value =
            serde_json::from_str(&fixture("loxone-java-smarteon-hashing_10_2.json")).unwrap();
        assert_eq!(
            start().user_key(&reply(200, v)).unwrap().hash_alg(),
            HashAlg::Sha1
        );
        let v = serde_json::json!({"key":"4143","salt":"3130","hashAlg":"SHA256"});
        assert_eq!(
            start().user_key(&reply(200, v)).unwrap().hash_alg(),
            HashAlg::Sha256
        );
        let v = serde_json::json!({"key":"4143"});
        assert!(start().user_key(&reply(200, v)).is_err());
    }

    #[test]
    fn a_401_at_getjwt_means_wrong_credentials() {
        let (_, awaiting) = keyed().getjwt(&Secret::new("wrong")).unwrap();
        let r = ll::parse(&fixture("loxone-java-smarteon-getToken401.json")).unwrap();
        let e = awaiting.token(r, 0).unwrap_err();
        assert_eq!(
            e,
            AuthError::WrongCredentials {
                user: "showroom".into()
            }
        );
        assert!(e.to_string().contains("loxwarden login"));
    }

    #[test]
    fn distinct_codes_give_distinct_errors() {
        let r = |c| reply(c, Value::Null);
        assert_eq!(
            check_code(&r(401), "u", "authwithtoken"),
            Err(AuthError::TokenRefused { user: "u".into() })
        );
        assert_eq!(
            check_code(&r(420), "u", "authwithtoken"),
            Err(AuthError::AuthTimeout)
        );
        assert_eq!(
            check_code(&r(423), "u", "getjwt"),
            Err(AuthError::UserDisabled { user: "u".into() })
        );
        assert_eq!(check_code(&r(429), "u", "getjwt"), Err(AuthError::Blocked));
        assert!(matches!(
            check_code(&r(403), "u", "x"),
            Err(AuthError::Forbidden { .. })
        ));
        assert!(check_code(&r(200), "u", "x").is_ok());
    }

    fn token() -> Token {
        // The legacy token fixture's values.
        let v: Value = serde_json::from_str(&fixture("loxone-java-smarteon-token.json")).unwrap();
        Token {
            token: Secret::new(v["token"].as_str().unwrap()),
            valid_until: v["validUntil"].as_u64().unwrap(),
            rights: v["tokenRights"].as_u64().unwrap(),
            hash_alg: HashAlg::Sha1,
            user: "showroom".into(),
            unsecure_pass: false,
            obtained_unix: LOXONE_EPOCH_UNIX + 342_151_839 - 30 * 86_400,
        }
    }

    #[test]
    fn valid_until_counts_from_2009_utc() {
        let t = token();
        assert_eq!(t.expires_unix(), 1_230_768_000 + 342_151_839);
        assert_eq!(format_unix(t.expires_unix()), "2019-11-05 02:10:39");
        assert_eq!(format_unix(LOXONE_EPOCH_UNIX), "2009-01-01 00:00:00");
        assert!(t.is_expired(t.expires_unix()));
        assert!(!t.is_expired(t.expires_unix() - 1));
    }

    #[test]
    fn refresh_is_due_at_half_life_and_in_the_last_hour() {
        let t = token();
        let exp = t.expires_unix();
        assert!(!t.refresh_due(t.obtained_unix + 10));
        assert!(!t.refresh_due(exp - 16 * 86_400));
        assert!(t.refresh_due(exp - 15 * 86_400));
        // A short-lived token is refreshed an hour before its end at the latest.
        let mut short = t.clone();
        short.obtained_unix = exp - 3 * 3600;
        assert!(!short.refresh_due(exp - 3 * 3600 + 60));
        assert!(short.refresh_due(exp - 3600));
    }

    #[test]
    fn token_commands_carry_the_hash_never_the_token() {
        let t = token();
        let key =
            "41434633443134324337383441373035453333424344364133373431333430413642333442334244";
        let c = t.command(TokenVerb::Kill, key).unwrap();
        assert!(c.starts_with("jdev/sys/killtoken/"));
        assert!(c.ends_with("/showroom"));
        assert!(!c.contains("8E2AA590E996B321C0E17C3FA9F7A3C17BD376CC"));
        assert!(t.authwithtoken(key).unwrap().starts_with("authwithtoken/"));
    }

    #[test]
    fn a_refresh_reply_replaces_token_and_expiry() {
        let t = token();
        let r = reply(
            200,
            serde_json::json!({"token":"eyJnew","validUntil":500000000,"unsecurePass":true}),
        );
        let n = t.refreshed(&r, 99).unwrap();
        assert_eq!(n.token.expose(), "eyJnew");
        assert_eq!(n.valid_until, 500_000_000);
        assert_eq!(n.obtained_unix, 99);
        assert!(n.unsecure_pass);
        assert!(t.refreshed(&reply(401, Value::Null), 99).is_err());
        // Values as strings (seen on some firmware) are read too.
        let r = reply(200, Value::String(r#"{"validUntil":"600000000"}"#.into()));
        assert_eq!(t.refreshed(&r, 1).unwrap().token.expose(), t.token.expose());
    }

    #[test]
    fn the_client_uuid_has_the_required_shape_and_is_stable() {
        let a = client_uuid("pi", "ai");
        assert_eq!(a, client_uuid("pi", "ai"));
        assert_ne!(a, client_uuid("pi2", "ai"));
        assert!(crate::loxone::uuid::Uuid::parse(&a).is_ok());
    }
}
