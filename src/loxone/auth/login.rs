//! The login as a state machine whose steps consume `self`: public key → key exchange →
//! `getkey2` → `getjwt` → [`Token`].
//!
//! Why states that consume themselves: a step cannot be skipped or repeated, and the one-time
//! key is used up by the step that needs it (the rustls habit).

use serde_json::Value;

use super::token::u64_field;
use super::{AuthError, PERMISSION_APP, Token, check_code};
use crate::loxone::crypto::{self, HashAlg, PublicKey, urlencode};
use crate::loxone::enc::{SealedError, Session};
use crate::loxone::ll::LlReply;
use crate::loxone::secret::Secret;

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
