//! Loxone command encryption (CWM "Command Encryption"; decisions 3 and 4): how a command that
//! carries a credential is wrapped so it never crosses the network in clear.
//!
//! One [`Session`] is an AES key + IV and its RSA-wrapped session key. Over HTTP the session
//! key rides along with every request (`?sk=`); over the websocket it is announced once with
//! `keyexchange`. Each command gets a fresh random salt. `fenc` also encrypts the reply, which
//! we use for every command whose answer is a token.

use serde_json::Value;

use super::crypto::{AesKey, CryptoError, PublicKey, salted, urlencode};
use super::ll::LlReply;

/// An AES session bound to the Miniserver's public key.
#[derive(Clone, Debug)]
pub struct Session {
    aes: AesKey,
    session_key: String,
}

impl Session {
    /// Generates a fresh AES key and IV and wraps them with the Miniserver's RSA key.
    pub fn new(public: &PublicKey) -> Result<Session, CryptoError> {
        let aes = AesKey::generate()?;
        let session_key = public.session_key(&aes)?;
        Ok(Session { aes, session_key })
    }

    /// `GET` path (no leading slash) of an encrypted HTTP command:
    /// `jdev/sys/{enc|fenc}/{urlenc(cipher)}?sk={urlenc(sessionKey)}`. `cmd` is the full inner
    /// command including its own query string.
    pub fn http_path(&self, cmd: &str, encrypt_reply: bool) -> Result<String, CryptoError> {
        let cipher = self.aes.encrypt_b64(&salted(cmd)?);
        Ok(format!(
            "jdev/sys/{}/{}?sk={}",
            if encrypt_reply { "fenc" } else { "enc" },
            urlencode(&cipher),
            urlencode(&self.session_key)
        ))
    }

    /// `jdev/sys/keyexchange/{sessionKey}`: announces this session on a websocket.
    pub fn keyexchange_command(&self) -> String {
        // The raw base64, as the document shows it and every public client sends it (Loxone's
        // LxCommunicator, openHAB, loxone-java, PyLoxone, ...). Unlike the cipher of `enc`
        // and the `?sk=` value, the document gives no encode step here.
        format!("jdev/sys/keyexchange/{}", self.session_key)
    }

    /// `jdev/sys/enc/{urlenc(cipher)}`: an encrypted command on a websocket after keyexchange.
    pub fn ws_command(&self, cmd: &str) -> Result<String, CryptoError> {
        let cipher = self.aes.encrypt_b64(&salted(cmd)?);
        Ok(format!("jdev/sys/enc/{}", urlencode(&cipher)))
    }

    /// Decrypts the `value` of a `fenc` reply in place. A reply that is not OK usually carries
    /// no encrypted value; it is returned unchanged so the caller sees the real code.
    pub fn decrypt_reply(&self, mut reply: LlReply) -> Result<LlReply, CryptoError> {
        if !reply.is_ok() {
            return Ok(reply);
        }
        if let Value::String(s) = &reply.value {
            let plain = self.aes.decrypt_b64(s)?;
            reply.value = Value::String(plain);
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(session_key: &str) -> Session {
        Session {
            aes: AesKey::generate().unwrap(),
            session_key: session_key.to_owned(),
        }
    }

    #[test]
    fn the_keyexchange_carries_the_session_key_as_raw_base64_and_http_carries_it_encoded() {
        let s = session("ab/c+d==");
        // As in the document and every public client (LxCommunicator, openHAB, ...).
        assert_eq!(s.keyexchange_command(), "jdev/sys/keyexchange/ab/c+d==");
        // The document's HTTP steps: "URI-Component-Encode the {session-key}", and the cipher.
        let path = s.http_path("jdev/sys/getkey", false).unwrap();
        assert!(path.ends_with("?sk=ab%2Fc%2Bd%3D%3D"), "{path}");
        let cipher = &path["jdev/sys/enc/".len()..path.find('?').unwrap()];
        assert!(!cipher.contains(['/', '+', '=']), "{path}");
        let ws = s.ws_command("jdev/sys/getkey").unwrap();
        assert!(
            !ws["jdev/sys/enc/".len()..].contains(['/', '+', '=']),
            "{ws}"
        );
    }
}
