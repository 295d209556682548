//! `jdev/sys/enc/…` and `fenc/…` (CWM "Command Encryption"): the command decrypted with the
//! session key, handled as a plain one, and (for `fenc`) the whole answer sealed; the salt rules
//! LxCommunicator follows (one salt per session key, a new one announced with `nextSalt`).

use super::*;

/// `jdev/sys/enc/{cipher}[?sk=…]` and `fenc` (CWM "Command Encryption"; decisions 3 and 4).
pub(super) fn encrypted(
    sh: &Shared,
    outer: &str,
    cipher: &str,
    query: &str,
    full: bool,
    ctx: &mut Ctx,
) -> Reply {
    let refuse = |ctx: &Ctx, code: u16| {
        let reply = sys(outer, json!(""), code);
        record(sh, ctx, outer, &reply, Rec::default());
        reply
    };
    if ctx.encrypted {
        return refuse(ctx, 400); // no nesting
    }
    let sk = query_get(query, "sk");
    let key = match (&ctx.sock, &sk) {
        (_, Some(sk)) => sh.key.session_key(sk),
        (Some(sock), None) => sock.key.clone(),
        (None, None) => None,
    };
    let Some(key) = key else {
        return refuse(ctx, 401);
    };
    let raw_cipher = crypto::percent_decode(cipher);
    let plain = raw_cipher
        .as_deref()
        .and_then(crypto::b64_decode)
        .and_then(|ct| key.decrypt(&ct))
        .and_then(|pt| String::from_utf8(pt).ok());
    let Some(plain) = plain else {
        return refuse(ctx, 401);
    };
    let inner = if let Some(rest) = plain.strip_prefix("salt/") {
        rest.split_once('/').map(|(salt, cmd)| (None, salt, cmd))
    } else if let Some(rest) = plain.strip_prefix("nextSalt/") {
        rest.split_once('/').and_then(|(prev, rest)| {
            rest.split_once('/')
                .map(|(next, cmd)| (Some(prev), next, cmd))
        })
    } else {
        None
    };
    let Some((prev, salt, cmd)) = inner else {
        return refuse(ctx, 401);
    };
    // An "unexpected salt change" is undecryptable (CWM "Command Encryption", HTTP step 14a):
    // one session key keeps its salt until the client announces `nextSalt/{prev}/{next}`.
    // Per socket on the websocket, per `sk` over HTTP.
    let salt_ok = match (ctx.sock.as_deref_mut(), &sk) {
        (Some(sock), None) => {
            let ok = salt_follows(sock.salt.as_deref(), prev, salt);
            if ok {
                sock.salt = Some(salt.to_string());
            }
            ok
        }
        (_, Some(sk)) => sh.http_salt(sk, |current| salt_follows(current, prev, salt), salt),
        (None, None) => false,
    };
    if !salt_ok {
        return refuse(ctx, 401);
    }
    ctx.encrypted = true;
    let reply = handle(sh, cmd, ctx);
    ctx.encrypted = false;
    match reply {
        // `fenc`: the whole answer is sealed (CWM "Command Encryption", HTTP step 9b and
        // websocket step 3b: "the Miniserver also AES encrypts the response (Base64)").
        // With `clear_fenc_errors` set, an error goes out in clear, as the reference clients
        // allow for (they fall back to the clear body).
        Reply::Ll(l) if full && !(l.code != 200 && sh.clear_fenc_errors()) => {
            let key = if sh.garble_fenc() {
                // A fault: sealed with a key the client never sent.
                SessionKey {
                    key: crypto::random(),
                    iv: crypto::random(),
                }
            } else {
                key
            };
            Reply::Sealed(key.encrypt_b64(&l.to_json()))
        }
        // `enc`: the answer is clear and echoes the outer command with the cipher as raw
        // base64 (PyLoxone `connection.py` and openHAB's `LxWsSecurityToken` decrypt it from
        // there; docs/protocol-review.md, D5). `fenc` keeps the inner command, which
        // LxCommunicator.NET checks after decrypting.
        Reply::Ll(mut l) if !full => {
            l.control = format!("jdev/sys/enc/{}", raw_cipher.unwrap_or_default());
            Reply::Ll(l)
        }
        other => other,
    }
}

/// Whether `salt` (announced with `nextSalt/{prev}/` when `prev` is given) may follow the
/// salt this session key used last (`None`: its first command).
pub(super) fn salt_follows(current: Option<&str>, prev: Option<&str>, salt: &str) -> bool {
    match (current, prev) {
        (None, _) => true,
        (Some(current), Some(prev)) => prev == current,
        (Some(current), None) => salt == current,
    }
}
