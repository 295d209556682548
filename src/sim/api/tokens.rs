//! Authentication commands as the Miniserver answers them (CWM "Tokens"): `getkey2`,
//! `getjwt`, the token's refresh, check and kill, the key exchange, and `authwithtoken` on a
//! websocket.

use super::*;

/// Token or socket authentication for commands that need it (decision 7 and 8).
pub(super) fn authenticate(
    sh: &Shared,
    path: &str,
    query: &str,
    ctx: &mut Ctx,
    rec: &mut Rec,
) -> Result<(), Reply> {
    if let Some(sock) = ctx.sock.as_deref() {
        return match &sock.user {
            Some(u) => {
                rec.auth = Some(AuthKind::Socket);
                rec.user = Some(u.clone());
                Ok(())
            }
            // CWM "What can go wrong?": commands before authentication → 400.
            None => Err(sps(path, json!(""), 400)),
        };
    }
    if let (Some(autht), Some(user)) = (query_get(query, "autht"), query_get(query, "user")) {
        rec.user = Some(user.clone());
        let (ms, now) = (sh.ms(), sh.secs_2009());
        return match sh.with_auth(|a| a.verify_token(&user, &autht, ms, now)) {
            Ok((_, kind)) => {
                rec.auth = Some(kind);
                Ok(())
            }
            Err(_) => Err(sps(path, json!(""), 401)),
        };
    }
    if let Some((user, pw)) = ctx.basic.clone() {
        rec.auth = Some(AuthKind::Basic);
        rec.user = Some(user.clone());
        if sh.allow_basic() && sh.with_auth(|a| a.check_basic(&user, &pw)) {
            return Ok(());
        }
        return Err(Reply::Unauthorized);
    }
    Err(Reply::Unauthorized)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn get_token(
    sh: &Shared,
    path: &str,
    jwt: bool,
    hash: &str,
    user: &str,
    perm: &str,
    uuid: &str,
    info: &[&str],
    ctx: &mut Ctx,
    rec: &mut Rec,
) -> Reply {
    rec.auth = Some(AuthKind::PasswordHash);
    rec.user = Some(user.to_string());
    if !ctx.encrypted {
        return sys(path, json!(""), 400);
    }
    let permission: u32 = match perm.parse() {
        Ok(p) if p & 0b110 != 0 => p,
        _ => return sys(path, json!(""), 400),
    };
    if Uuid::parse(uuid).is_err() {
        return sys(path, json!(""), 400);
    }
    let info = crypto::percent_decode(&info.join("/")).unwrap_or_default();
    if let Some(code) = sh.login_refusal() {
        return sys(path, json!(""), code);
    }
    let (ms, now) = (sh.ms(), sh.secs_2009());
    let value = sh.with_auth(|a| {
        if !a.check_password_hash(user, hash, ms) {
            return None;
        }
        let t = a.issue_token(user, permission, uuid, &info, now, jwt);
        Some(a.token_value(&t, ms))
    });
    match value {
        Some(v) => {
            if let Some(s) = ctx.sock.as_deref_mut() {
                s.user = Some(user.to_string()); // CWM: the socket is now authenticated
            }
            sys(path, v, 200)
        }
        None => sys(path, Auth::refused_value(), 401),
    }
}

pub(super) fn token_op(
    sh: &Shared,
    path: &str,
    which: &str,
    hash: &str,
    user: &str,
    rec: &mut Rec,
) -> Reply {
    rec.user = Some(user.to_string());
    let (ms, now) = (sh.ms(), sh.secs_2009());
    let result: Result<(AuthKind, Value), TokenError> = sh.with_auth(|a| {
        let (i, kind) = a.verify_token(user, hash, ms, now)?;
        let unsecure = a.cfg.password.len() < 8;
        let value = match which {
            "killtoken" => {
                a.kill(i);
                json!("")
            }
            "checktoken" => {
                let t = a.token(i).ok_or(TokenError::Unknown)?;
                json!({"validUntil": t.valid_until, "tokenRights": t.rights, "unsecurePass": unsecure})
            }
            _ => {
                let t = a.refresh(i, now).ok_or(TokenError::Unknown)?;
                json!({"token": t.token, "validUntil": t.valid_until, "tokenRights": t.rights,
                       "unsecurePass": unsecure})
            }
        };
        Ok((kind, value))
    });
    match result {
        Ok((kind, v)) => {
            rec.auth = Some(kind);
            sys(path, v, 200)
        }
        Err(_) => sys(path, json!(""), 401),
    }
}

/// `jdev/sys/keyexchange/{sessionKey}`. The key is the raw base64, not URL-encoded: the
/// document has no encode step for it (unlike `enc`'s cipher and `?sk=`), and Loxone's own
/// LxCommunicator, openHAB, loxone-java, PyLoxone, node-lox-ws-api and loxone-ws all send it
/// raw. Its `/` characters split it over several path segments, so it is the rest of the path.
pub(super) fn keyexchange(sh: &Shared, path: &str, sk: &str, ctx: &mut Ctx) -> Reply {
    match sh.key.session_key(sk) {
        Some(key) => {
            // Decision 4: the reply carries an encrypted one-time salt (clients may ignore it).
            let salt = crypto::hex_lower(&crypto::random::<16>());
            let value = key.encrypt_b64(&salt);
            if let Some(s) = ctx.sock.as_deref_mut() {
                s.key = Some(key);
                s.salt = None;
            }
            sys(path, json!(value), 200)
        }
        None => sys(path, json!(""), 401),
    }
}

pub(super) fn auth_with_token(
    sh: &Shared,
    path: &str,
    hash: &str,
    user: &str,
    ctx: &mut Ctx,
    rec: &mut Rec,
) -> Reply {
    rec.user = Some(user.to_string());
    let (ms, now) = (sh.ms(), sh.secs_2009());
    let r: Result<(AuthKind, Value), TokenError> = sh.with_auth(|a| {
        let (i, kind) = a.verify_token(user, hash, ms, now)?;
        let t = a.token(i).ok_or(TokenError::Unknown)?;
        Ok((
            kind,
            json!({"validUntil": t.valid_until, "tokenRights": t.rights,
                   "unsecurePass": a.cfg.password.len() < 8}),
        ))
    });
    match r {
        Ok((kind, v)) => {
            rec.auth = Some(kind);
            if let Some(s) = ctx.sock.as_deref_mut() {
                s.user = Some(user.to_string());
            }
            sys(path, v, 200)
        }
        Err(_) => sys(path, json!(""), 401),
    }
}
