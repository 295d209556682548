//! Loxone command encryption (CWM "Command Encryption"; decisions 3 and 4): how a command that
//! carries a credential is wrapped so it never crosses the network in clear.
//!
//! One [`Session`] is an AES key + IV, its RSA-wrapped session key and one salt. Over HTTP the
//! session key rides along with every request (`?sk=`); over the websocket it is announced once
//! with `keyexchange`. The salt is drawn once per session and kept, as Loxone's
//! LxCommunicator.NET does (`Session.cs`): the document names an "unexpected salt change" as a
//! reason for 401 (CWM "Command Encryption", HTTP step 14a), and no reference client changes
//! the salt under one session key without `nextSalt` (docs/protocol-review.md, D2). `fenc` also
//! encrypts the reply, which we use for every command whose answer is a token.
//!
//! A `fenc` reply is sealed whole (decision 3): the HTTP body or websocket text message is
//! `base64(AES(envelope))`, and only after decrypting it is there an `{"LL":…}` envelope to
//! read (CWM "Command Encryption", HTTP step 9b / websocket step 3b: "the Miniserver also AES
//! encrypts the response (Base64) — the mime-type is the one from the decrypted response").
//! Loxone's own clients read it so (LxCommunicator `HttpRequest.js`/`WebSocket.js`,
//! LxCommunicator.NET `HttpWebserviceClient.cs`): decrypt the whole body, then parse the
//! envelope, then read its code. LxCommunicator's HTTP path also takes a clear envelope (an
//! error may come back in clear); its websocket path and the .NET client do not. [`open_reply`]
//! takes both, and says so plainly when a body is neither (docs/protocol-review.md, row 7).

use std::fmt;

use super::crypto::{AesKey, CryptoError, PublicKey, new_salt, salted, urlencode};
use super::ll::{self, LlReply};

/// An AES session bound to the Miniserver's public key.
#[derive(Clone, Debug)]
pub struct Session {
    aes: AesKey,
    session_key: String,
    salt: String,
}

impl Session {
    /// Generates a fresh AES key, IV and salt and wraps key and IV with the Miniserver's RSA
    /// key.
    pub fn new(public: &PublicKey) -> Result<Session, CryptoError> {
        let aes = AesKey::generate()?;
        let session_key = public.session_key(&aes)?;
        Ok(Session {
            aes,
            session_key,
            salt: new_salt()?,
        })
    }

    fn sealed_command(&self, cmd: &str) -> String {
        urlencode(&self.aes.encrypt_b64(&salted(&self.salt, cmd)))
    }

    /// `GET` path (no leading slash) of an encrypted HTTP command:
    /// `jdev/sys/{enc|fenc}/{urlenc(cipher)}?sk={urlenc(sessionKey)}`. `cmd` is the full inner
    /// command including its own query string.
    pub fn http_path(&self, cmd: &str, encrypt_reply: bool) -> String {
        format!(
            "jdev/sys/{}/{}?sk={}",
            verb(encrypt_reply),
            self.sealed_command(cmd),
            urlencode(&self.session_key)
        )
    }

    /// `jdev/sys/keyexchange/{sessionKey}`: announces this session on a websocket.
    pub fn keyexchange_command(&self) -> String {
        // The raw base64, as the document shows it and every public client sends it (Loxone's
        // LxCommunicator, openHAB, loxone-java, PyLoxone, ...). Unlike the cipher of `enc`
        // and the `?sk=` value, the document gives no encode step here.
        format!("jdev/sys/keyexchange/{}", self.session_key)
    }

    /// `jdev/sys/{enc|fenc}/{urlenc(cipher)}`: an encrypted command on a websocket after
    /// keyexchange (`fenc`: the reply comes sealed too, see [`open_reply`]).
    pub fn ws_command(&self, cmd: &str, encrypt_reply: bool) -> String {
        format!(
            "jdev/sys/{}/{}",
            verb(encrypt_reply),
            self.sealed_command(cmd)
        )
    }

    /// Reads the body of a `fenc` reply with this session's key: see [`open_reply`].
    pub fn open_reply(&self, body: &str) -> Result<Opened, SealedError> {
        open_reply(&self.aes, body)
    }
}

fn verb(encrypt_reply: bool) -> &'static str {
    if encrypt_reply { "fenc" } else { "enc" }
}

/// A `fenc` reply, opened.
#[derive(Clone, Debug, PartialEq)]
pub struct Opened {
    pub reply: LlReply,
    /// True when the body was sealed (the normal case); false for a reply in clear, which the
    /// Miniserver may send for an error.
    pub sealed: bool,
}

/// A `fenc` body that is neither sealed with our key nor a clear Miniserver reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedError {
    /// Why it did not open (not base64, not whole AES blocks, not an envelope once decrypted).
    pub why: String,
    /// The first characters of what arrived.
    pub start: String,
}

impl fmt::Display for SealedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the Miniserver's encrypted answer could not be decrypted ({}; it begins {:?})",
            self.why, self.start
        )
    }
}

impl std::error::Error for SealedError {}

/// Opens a `fenc` reply body: first as the sealed whole (base64 → AES-256-CBC with the
/// request's key and IV → an LL envelope), else as a clear LL envelope or the device's HTML
/// error page. A clear envelope is taken as it is, code and value: whatever its value holds is
/// not decrypted (the old reading of ours, "only `LL.value` is encrypted", is not the
/// protocol, and a token in such a value is refused by the caller as "not a token object").
pub fn open_reply(aes: &AesKey, body: &str) -> Result<Opened, SealedError> {
    let text = body.trim_start_matches('\u{feff}').trim();
    // Sealed first, as LxCommunicator does: a base64 body can never be a clear envelope
    // (that starts with `{` or `<`), so the order only decides which error is reported.
    let sealed = match aes.decrypt_b64(text) {
        Ok(plain) => match ll::parse(&plain) {
            Ok(reply) => {
                return Ok(Opened {
                    reply,
                    sealed: true,
                });
            }
            Err(e) => format!("decrypted, but {e}"),
        },
        Err(CryptoError(why)) => why.to_owned(),
    };
    match ll::parse(text) {
        Ok(reply) => Ok(Opened {
            reply,
            sealed: false,
        }),
        Err(_) => Err(SealedError {
            why: sealed,
            start: text.chars().take(24).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors for the sealed `fenc` reply (docs/protocol-review.md, "Vectors"), computed with
    // Python `cryptography` (AES-256-CBC, key 00..1f, IV 10..1f): the getjwt envelope below,
    // built on the loxone-java token fixture, sealed once with "\0" + zero padding (CWM's
    // "ZeroBytePadding") and once with PKCS#7; and a 401 envelope sealed with zero padding.
    const GETJWT_ENVELOPE: &str = r#"{"LL":{"control":"dev/sys/getjwt/***/showroom/4/098802e1-02b4-603c-ffffeee000d80cfd/loxwarden","value":{"token":"8E2AA590E996B321C0E17C3FA9F7A3C17BD376CC","key":"444432","validUntil":342151839,"tokenRights":4,"unsecurePass":false},"code":"200"}}"#;
    const SEALED_ZERO: &str = "J4QP+nLhmfPCeAMdKl67/pCTtLeS9fH32BGh9XbuXyDZUF6VolYGSZ3rnFPCyNOEZF6HFzt0YxI6xsB+z27zafrCDR7sM2+irdHaJbAwJx0CmLFAaPpbkvSz9G6LAAZsAV8kt7tf2XrIDgb0Atukw6YibXsYs907PBd2r1C4oBmQxAOuozOVEYQUp/2WidyxEemXc4CfN1/r1QSFK6/bZEZ2vJZf4aqByPZ6kJThC+uV2jW9SCn8g1Ebinf4ERVd+4fmZO0LQi91e15l/K7OW+rAgUWhZ84p+0p8skv590WqrxputpF/MXPa7k2fQB4NjO25d8srcpPOGsNNUYxVcg==";
    const SEALED_PKCS7: &str = "J4QP+nLhmfPCeAMdKl67/pCTtLeS9fH32BGh9XbuXyDZUF6VolYGSZ3rnFPCyNOEZF6HFzt0YxI6xsB+z27zafrCDR7sM2+irdHaJbAwJx0CmLFAaPpbkvSz9G6LAAZsAV8kt7tf2XrIDgb0Atukw6YibXsYs907PBd2r1C4oBmQxAOuozOVEYQUp/2WidyxEemXc4CfN1/r1QSFK6/bZEZ2vJZf4aqByPZ6kJThC+uV2jW9SCn8g1Ebinf4ERVd+4fmZO0LQi91e15l/K7OW+rAgUWhZ84p+0p8skv590WqrxputpF/MXPa7k2fQB4NASJBmC/frx575Eref73QLg==";
    const SEALED_401: &str =
        "J4QP+nLhmfPCeAMdKl67/pCTtLeS9fH32BGh9XbuXyDjx6oXSCDXHLh5tm3RqgLuUPo3cDmucPU/eBUh9eBNTg==";

    fn vector_key() -> AesKey {
        let mut key = [0u8; 32];
        let mut iv = [0u8; 16];
        for (i, b) in key.iter_mut().enumerate() {
            *b = i as u8;
        }
        for (i, b) in iv.iter_mut().enumerate() {
            *b = 16 + i as u8;
        }
        AesKey::from_parts(key, iv)
    }

    #[test]
    fn a_sealed_reply_opens_to_the_whole_envelope_with_either_padding() {
        let expected = ll::parse(GETJWT_ENVELOPE).unwrap();
        for (body, padding) in [(SEALED_ZERO, "zero"), (SEALED_PKCS7, "pkcs7")] {
            let opened = open_reply(&vector_key(), body).unwrap();
            assert!(opened.sealed, "{padding}");
            assert_eq!(opened.reply, expected, "{padding}");
            let token = opened.reply.value_object().unwrap();
            assert_eq!(token["token"], "8E2AA590E996B321C0E17C3FA9F7A3C17BD376CC");
        }
        // Line breaks or a byte-order mark around the body change nothing.
        let framed = format!("\u{feff}{SEALED_ZERO}\r\n");
        assert_eq!(open_reply(&vector_key(), &framed).unwrap().reply, expected);
        // Our own sealing is the same bytes (the simulator seals the same way).
        assert_eq!(vector_key().encrypt_b64(GETJWT_ENVELOPE), SEALED_ZERO);
    }

    // The review's vectors (docs/protocol-review.md, "Test vectors"), key 00..1f and IV a0..af,
    // computed with Python `cryptography`: the captured loxone-java getkey2 reply sealed; a
    // 64-byte envelope sealed with no padding (CryptoJS's ZeroPadding adds none to a whole
    // block) and with a whole zero block (BouncyCastle's ZeroBytePadding).
    const REVIEW_GETKEY2: &str = "IC+k3bNh2Mkd9lH05aW3z5HltczJ0vD6GhlgX8dyiJzIw9JnbMoCRgWVvKBW+Ra9cS3IzAErN3egP45XrutYaKJljDlhwJAWaQNy31Gfn+CdvSMwtmWrc+1z0l1m7Mmq+E3EPESueFH+YAfGTSDal5rtpwyo/dvwixu20nHIf114d5I/dc+0SN9sb8nHpbMP2DiKKjm3snzQP4tz/yf9cqVADhmgtp63pB5nwAmmI/SAgN89EUM61qpBY1W0CqbOtP9SPtu8ndITG2EdVjEfzSy0LmclPWeTseKKm8H4mBW6DqSb/G74b5GgrIzr3v7iQseavceWZNRtrKp2EjZw1A==";
    const REVIEW_401: &str = "IC+k3bNh2Mkd9lH05aW3zwHF6T5ZEzE742Th5+yhpU00EoU5Lb3OrhJiuH3MLTkt0Nbq9bFlrvp9speMrkSrXLJlLXyKFWm6kSrA0vWyMw0vgdvTtIUz62R+Ez+ImWARqS8fORINGluaKovtWDLWsNA/t3PyugZAa3RukSAM0PsgWwhvw9ZdDOFfsJfKI+GgFOX51n7HOitYq54jdl8gym11HZ/sl6eg67pWsVKVa9I=";
    const BLOCK_ENVELOPE: &str =
        r#"{"LL":{"control":"dev/sys/getkey","value":"41434","code":"200"}}"#;
    const BLOCK_UNPADDED: &str =
        "IC+k3bNh2Mkd9lH05aW3zxAzOxyBZJdtIMX4P6AQXFqbE2rTHLRuF2++ST7TFtmwq54MXOD8QJI1dzdzF78gzg==";
    const BLOCK_ZERO_BLOCK: &str = "IC+k3bNh2Mkd9lH05aW3zxAzOxyBZJdtIMX4P6AQXFqbE2rTHLRuF2++ST7TFtmwq54MXOD8QJI1dzdzF78gzpFsuqdpES+N4sxiBkWL+nw=";

    fn review_key() -> AesKey {
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() {
            *b = i as u8;
        }
        let mut iv = [0u8; 16];
        for (i, b) in iv.iter_mut().enumerate() {
            *b = 0xa0 + i as u8;
        }
        AesKey::from_parts(key, iv)
    }

    #[test]
    fn the_reviews_vectors_open_to_the_captured_envelopes_with_every_padding() {
        let captured = std::fs::read_to_string(format!(
            "{}/tests/fixtures/loxone/messages/loxone-java-smarteon-getKeyMessage.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let opened = open_reply(&review_key(), REVIEW_GETKEY2).unwrap();
        assert!(opened.sealed);
        assert_eq!(opened.reply, ll::parse(&captured).unwrap());
        let refused = open_reply(&review_key(), REVIEW_401).unwrap();
        assert_eq!(refused.reply.code, 401);
        let block = ll::parse(BLOCK_ENVELOPE).unwrap();
        for body in [BLOCK_UNPADDED, BLOCK_ZERO_BLOCK] {
            assert_eq!(open_reply(&review_key(), body).unwrap().reply, block);
        }
    }

    #[test]
    fn an_error_is_read_by_its_code_sealed_in_clear_or_as_the_html_page() {
        let sealed = open_reply(&vector_key(), SEALED_401).unwrap();
        assert!(sealed.sealed);
        assert_eq!(sealed.reply.code, 401);
        let fixture = std::fs::read_to_string(format!(
            "{}/tests/fixtures/loxone/messages/loxone-java-smarteon-getToken401.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let clear = open_reply(&vector_key(), &fixture).unwrap();
        assert!(!clear.sealed);
        assert_eq!(clear.reply.code, 401);
        let page = "<html><head><title>error</title></head><body><errorcode>401</errorcode> <errordetail>Unauthorized</errordetail></body></html>";
        assert_eq!(open_reply(&vector_key(), page).unwrap().reply.code, 401);
    }

    #[test]
    fn a_clear_envelope_with_an_encrypted_value_is_taken_as_it_is_not_decrypted() {
        // Our old reading of fenc. The value stays the ciphertext, so the caller's "not a
        // token object" check refuses it rather than trusting a half-encrypted reply.
        let body = format!(
            r#"{{"LL":{{"control":"dev/sys/getjwt","value":"{SEALED_ZERO}","code":"200"}}}}"#
        );
        let opened = open_reply(&vector_key(), &body).unwrap();
        assert!(!opened.sealed);
        assert_eq!(opened.reply.value_text(), SEALED_ZERO);
        assert!(opened.reply.value_object().is_none());
    }

    #[test]
    fn a_body_that_opens_neither_way_says_so_and_shows_how_it_begins() {
        let wrong = AesKey::from_parts([7; 32], [9; 16]);
        for (body, why) in [
            (SEALED_ZERO, "not UTF-8 text"),
            ("not base64 at all!", "not base64"),
            ("AAAA", "whole number of AES blocks"),
            ("", "whole number of AES blocks"),
        ] {
            let key = if body == SEALED_ZERO {
                &wrong
            } else {
                &vector_key()
            };
            let e = open_reply(key, body).unwrap_err();
            let text = e.to_string();
            assert!(
                text.starts_with("the Miniserver's encrypted answer could not be decrypted"),
                "{text}"
            );
            assert!(e.why.contains(why), "{body:?}: {}", e.why);
            assert!(body.starts_with(&e.start), "{text}");
        }
    }

    fn session(session_key: &str) -> Session {
        Session {
            aes: AesKey::generate().unwrap(),
            session_key: session_key.to_owned(),
            salt: new_salt().unwrap(),
        }
    }

    #[test]
    fn one_session_keeps_one_salt_for_every_command_it_seals() {
        let s = session("sk");
        let salt_of = |path: &str| {
            let cipher = path
                .trim_start_matches("jdev/sys/enc/")
                .trim_start_matches("jdev/sys/fenc/");
            let cipher = cipher.split('?').next().unwrap();
            let b64 = crate::loxone::crypto::unb64(&percent_decode(cipher)).unwrap();
            let plain = s
                .aes
                .decrypt_b64(&crate::loxone::crypto::b64(&b64))
                .unwrap();
            plain.split('/').nth(1).unwrap().to_owned()
        };
        let a = salt_of(&s.http_path("jdev/sys/getkey", false));
        let b = salt_of(&s.http_path("jdev/sps/LoxAPPversion3", true));
        let c = salt_of(&s.ws_command("authwithtoken/x/u", false));
        assert_eq!(a, s.salt);
        assert_eq!((a.as_str(), b.as_str()), (c.as_str(), c.as_str()));
        assert_ne!(s.salt, session("sk").salt, "each session draws its own");
    }

    fn percent_decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_keyexchange_carries_the_session_key_as_raw_base64_and_http_carries_it_encoded() {
        let s = session("ab/c+d==");
        // As in the document and every public client (LxCommunicator, openHAB, ...).
        assert_eq!(s.keyexchange_command(), "jdev/sys/keyexchange/ab/c+d==");
        // The document's HTTP steps: "URI-Component-Encode the {session-key}", and the cipher.
        let path = s.http_path("jdev/sys/getkey", false);
        assert!(path.ends_with("?sk=ab%2Fc%2Bd%3D%3D"), "{path}");
        let cipher = &path["jdev/sys/enc/".len()..path.find('?').unwrap()];
        assert!(!cipher.contains(['/', '+', '=']), "{path}");
        let ws = s.ws_command("jdev/sys/getkey", false);
        assert!(
            !ws["jdev/sys/enc/".len()..].contains(['/', '+', '=']),
            "{ws}"
        );
    }
}
