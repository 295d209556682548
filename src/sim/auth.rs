//! Users, one-time keys, salts and tokens of the simulated Miniserver: the pure core of its
//! authentication (takes `now`, returns values; no sockets).
//!
//! What it models (CWM "Hashing", "Tokens"; decisions 5–9; LBAUTH's measured one-time keys):
//! - `getkey`/`getkey2`/`getvisusalt`/`getjwt` hand out **one-time keys**; a key verifies one
//!   hash and is then gone, so a client that hashes twice with one key fails like on a device.
//! - keys look like the device's: hex of the ASCII of an uppercase hex string, so a client must
//!   use `hex_decode(key)` (the ASCII bytes) as the HMAC key.
//! - the user salt is fixed per user and used verbatim as text in `{password}:{salt}`.
//! - `hashAlg` follows the simulated firmware ([`hash_for_firmware`]).
//! - tokens are JWT-shaped (`getjwt`) or 40 hex digits (legacy `gettoken`); a command may carry
//!   the plain token or its HMAC with a one-time key; both are checked against expiry.

use serde_json::{Value, json};

use super::crypto::{self, HashAlg};

/// Seconds between 1970-01-01 and 2009-01-01 00:00 UTC (the Miniserver's epoch).
pub const EPOCH_2009: u64 = 1_230_768_000;

/// One-time keys live this long (real milliseconds) if unused.
const KEY_TTL_MS: u64 = 5 * 60 * 1000;
/// At most this many unused keys are kept; older ones are forgotten first.
const MAX_KEYS: usize = 512;

/// Which digest a firmware version uses and whether `getkey2` names it.
///
/// | firmware | `hashAlg` field | digest | source |
/// |---|---|---|---|
/// | < 10.3 | absent | SHA1 | CWM "Important Notes"; fixture `hashing_10_2.json` |
/// | 10.3.x | `"SHA1"` | SHA1 | fixture `hashing_10_3.json` |
/// | ≥ 10.4 | `"SHA256"` | SHA256 | LXC `FeatureCheck.SHA_256 = 10.4.0.0` |
pub fn hash_for_firmware(version: &str) -> (HashAlg, bool) {
    let v = version_tuple(version);
    if v < (10, 3) {
        (HashAlg::Sha1, false)
    } else if v < (10, 4) {
        (HashAlg::Sha1, true)
    } else {
        (HashAlg::Sha256, true)
    }
}

/// `"16.0.6.17"` → `(16, 0)`; unparsable parts count as 0.
pub fn version_tuple(version: &str) -> (u32, u32) {
    let mut it = version
        .split('.')
        .map(|p| p.trim().parse::<u32>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// The simulated account and firmware.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    pub user: String,
    pub password: String,
    pub visu_password: String,
    pub hash: HashAlg,
    /// Whether `getkey2`/`getvisusalt` replies carry `hashAlg` (firmware ≥ 10.3).
    pub hash_field: bool,
    /// Lifetime of an app (permission 4) token.
    pub token_lifetime_s: u64,
}

/// A token the simulated Miniserver issued.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Token {
    pub token: String,
    pub user: String,
    /// Seconds since 2009-01-01 UTC.
    pub valid_until: u64,
    pub rights: u32,
    /// The digest of the login; token hashes use it (decision 5).
    pub alg: HashAlg,
    pub client_uuid: String,
    pub info: String,
}

/// How a request proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// Nothing (public endpoints).
    None,
    /// The plain token (`autht={token}`; allowed since 11.2, decision 7 over TLS).
    Token,
    /// `HMAC(one-time key, token)`.
    TokenHash,
    /// HTTP Basic (only when the simulator allows it).
    Basic,
    /// The websocket is already authenticated.
    Socket,
    /// A password hash (`getjwt`/`gettoken`).
    PasswordHash,
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    Unknown,
    Expired,
}

struct OneTimeKey {
    /// The HMAC key: the ASCII bytes the hex text decodes to.
    bytes: Vec<u8>,
    issued_ms: u64,
}

/// The authentication state of one simulated Miniserver.
pub struct Auth {
    pub cfg: AuthConfig,
    user_salt: String,
    visu_salt: String,
    keys: Vec<OneTimeKey>,
    tokens: Vec<Token>,
}

impl Auth {
    pub fn new(cfg: AuthConfig) -> Auth {
        Auth {
            cfg,
            user_salt: salt_text(),
            visu_salt: salt_text(),
            keys: Vec::new(),
            tokens: Vec::new(),
        }
    }

    /// A fresh one-time key, as the hex text the reply carries.
    pub fn issue_key(&mut self, now_ms: u64) -> String {
        self.keys
            .retain(|k| now_ms.saturating_sub(k.issued_ms) < KEY_TTL_MS);
        if self.keys.len() >= MAX_KEYS {
            self.keys.remove(0);
        }
        let ascii = crypto::hex_upper(&crypto::random::<20>());
        let text = crypto::hex_upper(ascii.as_bytes());
        self.keys.push(OneTimeKey {
            bytes: ascii.into_bytes(),
            issued_ms: now_ms,
        });
        text
    }

    /// Uses up the first unexpired key for which `check` holds.
    fn consume_key(&mut self, now_ms: u64, check: impl Fn(&[u8]) -> bool) -> bool {
        let pos = self
            .keys
            .iter()
            .position(|k| now_ms.saturating_sub(k.issued_ms) < KEY_TTL_MS && check(&k.bytes));
        match pos {
            Some(i) => {
                self.keys.remove(i);
                true
            }
            None => false,
        }
    }

    fn salt_reply(&mut self, salt: String, now_ms: u64) -> Value {
        let key = self.issue_key(now_ms);
        if self.cfg.hash_field {
            json!({"key": key, "salt": salt, "hashAlg": self.cfg.hash.name()})
        } else {
            json!({"key": key, "salt": salt})
        }
    }

    /// `jdev/sys/getkey2/{user}` → `{key, salt[, hashAlg]}`. An unknown user gets a reply of
    /// the same shape (a wrong password shows up at `getjwt`, not here; LBAUTH).
    pub fn getkey2(&mut self, _user: &str, now_ms: u64) -> Value {
        let salt = self.user_salt.clone();
        self.salt_reply(salt, now_ms)
    }

    /// `jdev/sys/getvisusalt/{user}` → `{key, salt[, hashAlg]}`.
    pub fn getvisusalt(&mut self, _user: &str, now_ms: u64) -> Value {
        let salt = self.visu_salt.clone();
        self.salt_reply(salt, now_ms)
    }

    /// Checks `hash = HMAC(key, "{user}:{pwHash}")` for the configured account.
    pub fn check_password_hash(&mut self, user: &str, hash: &str, now_ms: u64) -> bool {
        if user != self.cfg.user {
            return false;
        }
        let alg = self.cfg.hash;
        let pw = crypto::secret_hash(alg, &self.cfg.password, &self.user_salt);
        let message = format!("{user}:{pw}");
        self.consume_key(now_ms, |k| crypto::hmac_matches(alg, k, &message, hash))
    }

    /// Checks a visualisation-password hash `HMAC(key, UPPER(hex(H("{visuPw}:{salt}"))))`.
    pub fn check_visu_hash(&mut self, user: &str, hash: &str, now_ms: u64) -> bool {
        if user != self.cfg.user {
            return false;
        }
        let alg = self.cfg.hash;
        let visu = crypto::secret_hash(alg, &self.cfg.visu_password, &self.visu_salt);
        self.consume_key(now_ms, |k| crypto::hmac_matches(alg, k, &visu, hash))
    }

    /// Checks HTTP Basic credentials.
    pub fn check_basic(&self, user: &str, password: &str) -> bool {
        user == self.cfg.user && password == self.cfg.password
    }

    /// Issues a token (`jwt`: `getjwt`, else legacy `gettoken`).
    pub fn issue_token(
        &mut self,
        user: &str,
        permission: u32,
        client_uuid: &str,
        info: &str,
        now_2009: u64,
        jwt: bool,
    ) -> Token {
        let lifetime = if permission & 4 != 0 {
            self.cfg.token_lifetime_s
        } else {
            self.cfg.token_lifetime_s.min(24 * 3600)
        };
        let token = if jwt {
            let header = crypto::b64url(br#"{"typ":"JWT","alg":"RS256"}"#);
            let payload = crypto::b64url(
                json!({"user": user, "iat": now_2009 + EPOCH_2009,
                       "exp": now_2009 + lifetime + EPOCH_2009,
                       "jti": crypto::hex_lower(&crypto::random::<8>())})
                .to_string()
                .as_bytes(),
            );
            format!(
                "{header}.{payload}.{}",
                crypto::b64url(&crypto::random::<32>())
            )
        } else {
            crypto::hex_upper(&crypto::random::<20>())
        };
        let t = Token {
            token,
            user: user.to_string(),
            valid_until: now_2009 + lifetime,
            rights: permission,
            alg: self.cfg.hash,
            client_uuid: client_uuid.to_string(),
            info: info.to_string(),
        };
        self.tokens.push(t.clone());
        t
    }

    /// The reply value of a successful `getjwt`/`gettoken` (CWM "Acquiring tokens").
    pub fn token_value(&mut self, t: &Token, now_ms: u64) -> Value {
        let key = self.issue_key(now_ms);
        json!({"token": t.token, "key": key, "validUntil": t.valid_until,
               "tokenRights": t.rights, "unsecurePass": self.cfg.password.len() < 8})
    }

    /// Finds the token that `presented` (plain token or `HMAC(key, token)`) stands for.
    /// A hash uses up its one-time key. Returns the token's index and how it was presented.
    pub fn verify_token(
        &mut self,
        user: &str,
        presented: &str,
        now_ms: u64,
        now_2009: u64,
    ) -> Result<(usize, AuthKind), TokenError> {
        let found = match self
            .tokens
            .iter()
            .position(|t| t.user == user && t.token == presented)
        {
            Some(i) => Some((i, AuthKind::Token)),
            None => {
                let candidates: Vec<usize> = (0..self.tokens.len())
                    .filter(|&i| self.tokens[i].user == user)
                    .collect();
                let mut hit = None;
                for i in candidates {
                    let (alg, token) = (self.tokens[i].alg, self.tokens[i].token.clone());
                    if self.consume_key(now_ms, |k| crypto::hmac_matches(alg, k, &token, presented))
                    {
                        hit = Some((i, AuthKind::TokenHash));
                        break;
                    }
                }
                hit
            }
        };
        match found {
            None => Err(TokenError::Unknown),
            Some((i, _)) if self.tokens[i].valid_until <= now_2009 => Err(TokenError::Expired),
            Some(found) => Ok(found),
        }
    }

    pub fn token(&self, index: usize) -> Option<&Token> {
        self.tokens.get(index)
    }

    /// `refreshjwt`: a new token string with a new lifetime replaces the old one.
    pub fn refresh(&mut self, index: usize, now_2009: u64) -> Option<Token> {
        let old = self.tokens.get(index)?.clone();
        self.tokens.remove(index);
        Some(self.issue_token(
            &old.user,
            old.rights,
            &old.client_uuid,
            &old.info,
            now_2009,
            true,
        ))
    }

    /// `killtoken`: the token is gone.
    pub fn kill(&mut self, index: usize) {
        if index < self.tokens.len() {
            self.tokens.remove(index);
        }
    }

    /// Fault knob: every token's lifetime ends now.
    pub fn expire_all(&mut self, now_2009: u64) {
        for t in &mut self.tokens {
            t.valid_until = now_2009.min(t.valid_until);
        }
    }

    /// Forgets all one-time keys (a reboot).
    pub fn forget_keys(&mut self) {
        self.keys.clear();
    }

    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// The 401 reply value of a refused `getjwt`/`gettoken` (fixture `getToken401.json`).
    pub fn refused_value() -> Value {
        json!({"lastEdit": "2009-01-01 01:00:00", "unix": EPOCH_2009})
    }
}

/// A user salt the way devices show it: the hex of a UUID-like ASCII text.
fn salt_text() -> String {
    let r = crypto::random::<16>();
    let h = crypto::hex_lower(&r);
    let text = format!("{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..32]);
    crypto::hex_upper(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(alg: HashAlg) -> Auth {
        Auth::new(AuthConfig {
            user: "admin".into(),
            password: "secret-pw".into(),
            visu_password: "1234".into(),
            hash: alg,
            hash_field: true,
            token_lifetime_s: 1000,
        })
    }

    /// What a client computes from a getkey2 reply (CWM "Acquiring tokens"), written out here
    /// step by step with the `hmac` crate rather than this module's HMAC.
    fn client_hash(alg: HashAlg, reply: &Value, user: &str, pw: &str) -> String {
        use hmac::{KeyInit, Mac};
        let key = crypto::hex_decode(reply["key"].as_str().unwrap()).unwrap();
        let salt = reply["salt"].as_str().unwrap();
        let pw_hash = crypto::secret_hash(alg, pw, salt);
        let msg = format!("{user}:{pw_hash}");
        let out = match alg {
            HashAlg::Sha1 => {
                let mut m = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
                m.update(msg.as_bytes());
                m.finalize().into_bytes().to_vec()
            }
            HashAlg::Sha256 => {
                let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
                m.update(msg.as_bytes());
                m.finalize().into_bytes().to_vec()
            }
        };
        crypto::hex_lower(&out)
    }

    #[test]
    fn firmware_10_2_has_no_hash_field_and_uses_sha1() {
        assert_eq!(hash_for_firmware("10.2.3.26"), (HashAlg::Sha1, false));
    }

    #[test]
    fn firmware_10_3_names_sha1() {
        assert_eq!(hash_for_firmware("10.3.11.25"), (HashAlg::Sha1, true));
    }

    #[test]
    fn firmware_16_uses_sha256() {
        assert_eq!(hash_for_firmware("16.0.6.17"), (HashAlg::Sha256, true));
        assert_eq!(hash_for_firmware("10.4.0.0"), (HashAlg::Sha256, true));
    }

    #[test]
    fn keys_are_hex_of_ascii_hex_like_the_captured_getkey2_reply() {
        let mut a = auth(HashAlg::Sha1);
        let v = a.getkey2("admin", 0);
        let key = v["key"].as_str().unwrap();
        assert_eq!(key.len(), 80, "the captured key is 80 hex digits");
        let ascii = crypto::hex_decode(key).unwrap();
        assert!(ascii.iter().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(v["hashAlg"], "SHA1");
    }

    #[test]
    fn a_correct_password_hash_passes_once_per_key() {
        for alg in [HashAlg::Sha1, HashAlg::Sha256] {
            let mut a = auth(alg);
            let reply = a.getkey2("admin", 0);
            let h = client_hash(alg, &reply, "admin", "secret-pw");
            assert!(a.check_password_hash("admin", &h, 1));
            assert!(
                !a.check_password_hash("admin", &h, 2),
                "a one-time key works once"
            );
        }
    }

    #[test]
    fn a_wrong_password_or_user_fails() {
        let mut a = auth(HashAlg::Sha256);
        let reply = a.getkey2("admin", 0);
        let h = client_hash(HashAlg::Sha256, &reply, "admin", "nope");
        assert!(!a.check_password_hash("admin", &h, 1));
        let h = client_hash(HashAlg::Sha256, &reply, "eve", "secret-pw");
        assert!(!a.check_password_hash("eve", &h, 1));
    }

    #[test]
    fn keys_expire_after_five_minutes() {
        let mut a = auth(HashAlg::Sha1);
        let reply = a.getkey2("admin", 0);
        let h = client_hash(HashAlg::Sha1, &reply, "admin", "secret-pw");
        assert!(!a.check_password_hash("admin", &h, KEY_TTL_MS + 1));
    }

    #[test]
    fn tokens_verify_plain_or_hashed_and_expire() {
        use hmac::{KeyInit, Mac};
        let mut a = auth(HashAlg::Sha256);
        let t = a.issue_token(
            "admin",
            4,
            "098802e1-02b4-603c-ffffeee000d80cfd",
            "test",
            100,
            true,
        );
        assert_eq!(t.token.split('.').count(), 3, "JWT-shaped");
        assert_eq!(
            a.verify_token("admin", &t.token, 0, 200),
            Ok((0, AuthKind::Token))
        );
        let key = crypto::hex_decode(&a.issue_key(0)).unwrap();
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        m.update(t.token.as_bytes());
        let h = crypto::hex_lower(&m.finalize().into_bytes());
        assert_eq!(
            a.verify_token("admin", &h, 0, 200),
            Ok((0, AuthKind::TokenHash))
        );
        assert_eq!(
            a.verify_token("admin", &h, 0, 200),
            Err(TokenError::Unknown)
        );
        assert_eq!(
            a.verify_token("eve", &t.token, 0, 200),
            Err(TokenError::Unknown)
        );
        assert_eq!(
            a.verify_token("admin", &t.token, 0, 100 + 1000),
            Err(TokenError::Expired)
        );
        a.expire_all(150);
        assert_eq!(
            a.verify_token("admin", &t.token, 0, 150),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn refresh_replaces_the_token_and_kill_removes_it() {
        let mut a = auth(HashAlg::Sha1);
        let t = a.issue_token("admin", 4, "u", "i", 0, true);
        let n = a.refresh(0, 10).unwrap();
        assert_ne!(n.token, t.token);
        assert_eq!(n.valid_until, 1010);
        assert!(a.verify_token("admin", &t.token, 0, 20).is_err());
        let (i, _) = a.verify_token("admin", &n.token, 0, 20).unwrap();
        a.kill(i);
        assert!(a.verify_token("admin", &n.token, 0, 20).is_err());
    }

    #[test]
    fn the_visualisation_password_hash_is_checked_with_its_own_salt() {
        let mut a = auth(HashAlg::Sha1);
        let reply = a.getvisusalt("admin", 0);
        let key = crypto::hex_decode(reply["key"].as_str().unwrap()).unwrap();
        let visu = crypto::secret_hash(HashAlg::Sha1, "1234", reply["salt"].as_str().unwrap());
        let h = crypto::hex_lower(&HashAlg::Sha1.hmac(&key, visu.as_bytes()));
        let reply2 = a.getvisusalt("admin", 0);
        let key2 = crypto::hex_decode(reply2["key"].as_str().unwrap()).unwrap();
        let wrong = crypto::secret_hash(HashAlg::Sha1, "9999", reply2["salt"].as_str().unwrap());
        let bad = crypto::hex_lower(&HashAlg::Sha1.hmac(&key2, wrong.as_bytes()));
        assert!(!a.check_visu_hash("admin", &bad, 1));
        assert!(a.check_visu_hash("admin", &h, 1));
    }

    #[test]
    fn a_refused_login_has_the_shape_of_the_captured_401() {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/loxone/messages/loxone-java-smarteon-getToken401.json"
        );
        let captured: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        assert_eq!(Auth::refused_value(), captured["LL"]["value"]);
    }
}
