//! Token authentication as a state machine whose steps consume `self` (the rustls habit):
//! public key → key exchange → `getkey2` → `getjwt` → [`Token`] → refresh.
//!
//! Why pure: each step takes the Miniserver's reply and returns the next state or an
//! [`AuthError`]; the shell (`http.rs`, `ws/`) only moves bytes. A step cannot be skipped or
//! repeated (the one-time key is consumed by the step that uses it), and every step is
//! testable with captured replies and no network.
//!
//! Rules (binding decisions 5–9): `getjwt` asks for permission 4 (App) and nothing more, is
//! always sent encrypted, and its reply is encrypted too (`fenc`: the whole body is sealed, see
//! `enc.rs`) so the token never crosses a plain link in clear. `validUntil` counts seconds since 2009-01-01 00:00 UTC.
//!
//! Layout: the errors and the helpers every step shares here; the [`Token`] and its commands in
//! `token.rs`; the login state machine in `login.rs`.

mod login;
mod token;

pub use login::{AwaitingToken, Exchanged, KeyKnown, Keyed, Start};
pub use token::{Token, TokenVerb};

use std::fmt;

use super::crypto::{self, CryptoError};
use super::ll::LlReply;

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
    use crate::loxone::crypto::HashAlg;
    use crate::loxone::ll;
    use crate::loxone::secret::Secret;
    use serde_json::Value;

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
