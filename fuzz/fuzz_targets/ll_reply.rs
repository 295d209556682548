//! The Miniserver's reply parser (`{"LL":{…}}` and the HTML error page), the single-quoted
//! pseudo-JSON of `jdev/cfg/apiKey`, and what the login and token code does with a reply the
//! network handed it: the LL-code mapping, `refreshjwt`/`checktoken` replies, the public key
//! of `getPublicKey`, a sealed (`fenc`) reply.
//!
//! Checked: no panic; when the body is a JSON object with an `LL.Code` (or `code`) number or
//! numeric string, the parsed code is exactly that number (house rule 1: the real answer,
//! never a fabricated 200); an HTML page yields a code and no value; `is_ok` is code 200.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loxwarden::loxone::auth::{self, Start, Token};
use loxwarden::loxone::crypto::{AesKey, HashAlg};
use loxwarden::loxone::secret::Secret;
use loxwarden::loxone::{enc, ll};
use serde_json::Value;

/// The code an independent reading of the envelope finds, if it is a clean JSON envelope.
fn expected_code(text: &str) -> Option<Option<u16>> {
    let v: Value = serde_json::from_str(text.trim_start_matches('\u{feff}').trim()).ok()?;
    let ll = v.get("LL")?.as_object()?;
    let c = ll.get("Code").or_else(|| ll.get("code"))?;
    Some(match c {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = ll::parse_api_info(&text);
    let parsed = ll::parse(&text);
    if let Some(code) = expected_code(&text) {
        match (&parsed, code) {
            (Ok(r), Some(c)) => assert_eq!(r.code, c, "the LL code was not taken as sent"),
            (Ok(r), None) => panic!("a non-numeric LL code became {}", r.code),
            (Err(_), Some(c)) => panic!("an envelope with LL code {c} was refused"),
            (Err(_), None) => {}
        }
    }
    // A `fenc` body (decision 3): a clear envelope is taken as it is, never "decrypted"; the
    // same envelope sealed opens to exactly what the clear one parses to.
    let aes = AesKey::from_parts([7; 32], [9; 16]);
    let opened = enc::open_reply(&aes, &text);
    if let Ok(r) = &parsed {
        let o = opened.expect("a clear envelope did not open as itself");
        assert!(!o.sealed, "a clear envelope was taken as sealed");
        assert_eq!(&o.reply, r);
        let sealed = enc::open_reply(&aes, &aes.encrypt_b64(&text)).expect("sealed did not open");
        assert!(sealed.sealed);
        assert_eq!(&sealed.reply, r, "sealing changed the reply");
    }
    let Ok(reply) = parsed else {
        return;
    };
    assert_eq!(reply.is_ok(), reply.code == 200);
    let value = reply.value_text();
    let _ = reply.value_object();
    let _ = auth::check_code(&reply, "ai", "getjwt");
    let _ = auth::check_code(&reply, "ai", "getkey2");
    let _ = ll::parse_api_info(&value);

    let token = Token {
        token: Secret::new("t0k3n"),
        valid_until: 500_000_000,
        rights: 4,
        hash_alg: HashAlg::Sha256,
        user: "ai".into(),
        unsecure_pass: false,
        obtained_unix: 1_700_000_000,
    };
    if let Ok(t) = token.refreshed(&reply, 1_700_000_100) {
        let _ = auth::format_unix(t.expires_unix());
        let _ = t.is_expired(u64::MAX);
        let _ = t.refresh_due(1_700_000_100);
    }
    if let Ok(t) = token.checked(&reply) {
        let _ = auth::format_unix(t.expires_unix());
    }
    if let Ok(k) = Start::new("ai", "0", "fuzz").public_key(&reply) {
        let _ = k.public();
    }
    let _ = aes.decrypt_b64(&value);
});
