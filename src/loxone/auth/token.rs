//! The token loxwarden keeps (decision 7): its expiry and refresh rule, the hashed commands
//! that use it (`authwithtoken`, `refreshjwt`, `checktoken`, `killtoken`), and reading the
//! Miniserver's answers to them.
//!
//! Why pure: the token never leaves this type in clear except where the protocol wants it
//! (TLS query); every command built here carries the one-time-key hash.

use serde_json::Value;

use super::{AuthError, LOXONE_EPOCH_UNIX, check_code};
use crate::loxone::crypto::{self, HashAlg, urlencode};
use crate::loxone::ll::LlReply;
use crate::loxone::secret::Secret;

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

pub(super) fn u64_field(v: &serde_json::Map<String, Value>, k: &str) -> Option<u64> {
    match v.get(k)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
