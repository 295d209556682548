//! What the simulated Miniserver answers to a command, whether it came over HTTP or the
//! websocket, in the clear or inside `jdev/sys/enc|fenc`.
//!
//! One router for both transports, because the device answers the same command the same way on
//! both (CWM "Commands"); only authentication differs: HTTP requests carry `autht`/`user` (or
//! Basic, when allowed), a websocket is authenticated once (`authwithtoken`, `getjwt`).
//!
//! Choices where the documents are silent (also listed in the module docs of `sim`):
//! - `getjwt`/`gettoken` in the clear → 400 (CWM: "must be encrypted … declined with 400").
//! - no credentials on an HTTP command → HTTP 401 with the device's HTML body; credentials that
//!   are wrong or expired → HTTP 200 with LL code 401 (LBAUTH, 17.1.7.3).
//! - a command to an unknown UUID → LL 404; to a known control but an unknown command word →
//!   LL 404; a bad argument → LL 400; an `isSecured` control through plain `io` → LL 500 (as a
//!   wrong visualisation password, CWM "Secured Commands"); a read-only control → LL 403.
//! - the `control` echo never contains the query string (so tokens are not echoed).

use std::sync::Arc;

use serde_json::{Value, json};

use super::auth::{Auth, AuthKind, TokenError};
use super::crypto::{self, SessionKey};
use super::devices;
use super::house::Outcome;
use super::log::{Channel, LogEntry, MotorAt};
use super::server::Shared;
use super::wire::{CodeStyle, Ll, echo};
use crate::loxone::uuid::{ControlAddr, Uuid};

/// What to send back.
#[derive(Debug, Clone)]
pub enum Reply {
    Ll(Ll),
    /// A file (the structure file): HTTP body / websocket text message.
    File(Arc<str>),
    /// HTTP-level 401 with the device's HTML body.
    Unauthorized,
    /// Websocket keepalive answer (header id 6, no payload).
    Keepalive,
    /// A `fenc` answer: base64 of the AES-encrypted envelope, as the whole HTTP body or
    /// websocket text message.
    Sealed(String),
}

impl Reply {
    fn code(&self) -> u16 {
        match self {
            Reply::Ll(ll) => ll.code,
            Reply::File(_) | Reply::Keepalive | Reply::Sealed(_) => 200,
            Reply::Unauthorized => 401,
        }
    }
}

/// Per-websocket protocol state.
#[derive(Debug, Default)]
pub struct Socket {
    pub key: Option<SessionKey>,
    /// The current encryption salt (for `nextSalt/{prev}/{next}` checks).
    pub salt: Option<String>,
    pub user: Option<String>,
    /// Set when `enablebinstatusupdate` succeeded; the session then sends the tables.
    pub enable_status: bool,
}

/// Everything the router needs to know about where a command came from.
pub struct Ctx<'a> {
    pub ch: Channel,
    pub basic: Option<(String, String)>,
    pub sock: Option<&'a mut Socket>,
    pub encrypted: bool,
}

/// What goes into the log besides the code.
#[derive(Default)]
struct Rec {
    auth: Option<AuthKind>,
    user: Option<String>,
    control: Option<String>,
    op: Option<String>,
    device: bool,
    motor: Option<MotorAt>,
}

fn ll(control: &str, value: Value, code: u16, style: CodeStyle) -> Reply {
    Reply::Ll(Ll::new(echo(control, style), value, code, style))
}

fn sys(control: &str, value: Value, code: u16) -> Reply {
    ll(control, value, code, CodeStyle::LowerNumber)
}

fn sps(control: &str, value: Value, code: u16) -> Reply {
    ll(control, value, code, CodeStyle::UpperString)
}

/// The path (without query and leading `/`) and the query string.
fn split(raw: &str) -> (&str, &str) {
    let raw = raw.trim_start_matches('/');
    raw.split_once('?').unwrap_or((raw, ""))
}

fn query_get(query: &str, name: &str) -> Option<String> {
    super::http::query_param(&format!("?{query}"), name)
}

/// Handles one command and records it.
pub fn handle(sh: &Shared, raw: &str, ctx: &mut Ctx) -> Reply {
    let (path, query) = split(raw);
    for (prefix, full) in [
        ("jdev/sys/enc/", false),
        ("dev/sys/enc/", false),
        ("jdev/sys/fenc/", true),
        ("dev/sys/fenc/", true),
    ] {
        if let Some(cipher) = path.strip_prefix(prefix) {
            return encrypted(sh, path, cipher, query, full, ctx);
        }
    }
    let mut rec = Rec::default();
    let reply = route(sh, path, query, ctx, &mut rec);
    record(sh, ctx, path, &reply, rec);
    reply
}

fn record(sh: &Shared, ctx: &Ctx, path: &str, reply: &Reply, rec: Rec) {
    let user = rec
        .user
        .or_else(|| ctx.sock.as_ref().and_then(|s| s.user.clone()));
    sh.log(LogEntry {
        seq: 0,
        at_ms: sh.ms(),
        channel: ctx.ch,
        encrypted: ctx.encrypted,
        command: path.to_string(),
        auth: rec.auth.unwrap_or(AuthKind::None),
        user,
        code: reply.code(),
        control: rec.control,
        op: rec.op,
        device: rec.device,
        motor: rec.motor,
    });
}

/// `jdev/sys/enc/{cipher}[?sk=…]` and `fenc` (CWM "Command Encryption"; decisions 3 and 4).
fn encrypted(
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
fn salt_follows(current: Option<&str>, prev: Option<&str>, salt: &str) -> bool {
    match (current, prev) {
        (None, _) => true,
        (Some(current), Some(prev)) => prev == current,
        (Some(current), None) => salt == current,
    }
}

fn route(sh: &Shared, path: &str, query: &str, ctx: &mut Ctx, rec: &mut Rec) -> Reply {
    let segs: Vec<&str> = path.split('/').collect();
    let rest: &[&str] = match segs.as_slice() {
        ["jdev" | "dev", rest @ ..] => rest,
        other => other,
    };
    let ws = ctx.ch.is_ws();
    match rest {
        ["cfg", "apiKey"] => sps(path, json!(sh.api_key_text(true)), 200),
        ["cfg", "api"] => sps(path, json!(sh.api_key_text(false)), 200),
        ["cfg", "version"] => sps(path, json!(sh.firmware()), 200),
        ["sys", "getPublicKey"] => sys(path, json!(sh.key.public_key_text()), 200),
        ["sys", "getkey"] => {
            let key = sh.with_auth(|a| a.issue_key(sh.ms()));
            sys(path, json!(key), 200)
        }
        ["sys", "getkey2", user] => {
            let v = sh.with_auth(|a| a.getkey2(user, sh.ms()));
            sys(path, v, 200)
        }
        ["sys", "getvisusalt", user] => {
            let v = sh.with_auth(|a| a.getvisusalt(user, sh.ms()));
            sys(path, v, 200)
        }
        [
            "sys",
            which @ ("getjwt" | "gettoken"),
            hash,
            user,
            perm,
            uuid,
            info @ ..,
        ] => get_token(
            sh,
            path,
            which == &"getjwt",
            hash,
            user,
            perm,
            uuid,
            info,
            ctx,
            rec,
        ),
        [
            "sys",
            which @ ("refreshjwt" | "refreshtoken" | "checktoken" | "killtoken"),
            hash,
            user,
        ] => token_op(sh, path, which, hash, user, rec),
        ["sys", "keyexchange", sk @ ..] if ws && !sk.is_empty() => {
            keyexchange(sh, path, &sk.join("/"), ctx)
        }
        ["sys", "authwithtoken", hash, user] | ["authwithtoken", hash, user] if ws => {
            auth_with_token(sh, path, hash, user, ctx, rec)
        }
        ["keepalive"] | ["sys", "keepalive"] if ws => Reply::Keepalive,
        ["sps", "enablebinstatusupdate"] if ws => match authenticate(sh, path, query, ctx, rec) {
            Err(r) => r,
            Ok(()) => {
                if let Some(s) = ctx.sock.as_deref_mut() {
                    s.enable_status = true;
                }
                sps(path, json!("1"), 200)
            }
        },
        ["sps", "LoxAPPversion3"] => match authenticate(sh, path, query, ctx, rec) {
            Err(r) => r,
            Ok(()) => sps(path, json!(sh.house().last_modified()), 200),
        },
        ["data", "LoxAPP3.json"] => match authenticate(sh, path, query, ctx, rec) {
            Err(r) => r,
            Ok(()) => Reply::File(sh.house().file()),
        },
        ["sps", "checkuservisupwd", hash] => match authenticate(sh, path, query, ctx, rec) {
            Err(r) => r,
            Ok(()) => {
                let user = rec.user.clone().unwrap_or_default();
                let ok = sh.with_auth(|a| a.check_visu_hash(&user, hash, sh.ms()));
                sps(path, json!(""), if ok { 200 } else { 500 })
            }
        },
        ["sps", "io", target @ ..] => match authenticate(sh, path, query, ctx, rec) {
            Err(r) => r,
            Ok(()) => device(sh, path, target, None, rec),
        },
        ["sps", "ios", hash, target @ ..] => match authenticate(sh, path, query, ctx, rec) {
            Err(r) => r,
            Ok(()) => device(sh, path, target, Some(hash), rec),
        },
        _ => sps(path, json!(""), 404),
    }
}

/// Token or socket authentication for commands that need it (decision 7 and 8).
fn authenticate(
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
fn get_token(
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

fn token_op(sh: &Shared, path: &str, which: &str, hash: &str, user: &str, rec: &mut Rec) -> Reply {
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
fn keyexchange(sh: &Shared, path: &str, sk: &str, ctx: &mut Ctx) -> Reply {
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

fn auth_with_token(
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

/// Splits `{uuid}[/{suffix}]/{cmd…}` against the structure: the suffix belongs to the address
/// only if such a sub-control exists.
fn resolve(sh: &Shared, target: &[&str]) -> Option<(ControlAddr, usize)> {
    let first = *target.first()?;
    Uuid::parse(first).ok()?;
    let house = sh.house();
    if let Some(second) = target.get(1)
        && let Ok(sub) = ControlAddr::parse(&format!("{first}/{second}"))
        && let Some(i) = house.structure.index_of(&sub)
    {
        return Some((sub, i));
    }
    let addr = ControlAddr::parse(first).ok()?;
    let i = house.structure.index_of(&addr)?;
    Some((addr, i))
}

fn device(sh: &Shared, path: &str, target: &[&str], visu: Option<&str>, rec: &mut Rec) -> Reply {
    let Some((addr, idx)) = resolve(sh, target) else {
        rec.device = true;
        rec.control = target.first().map(|s| s.to_string());
        rec.op = Some(target.iter().skip(1).copied().collect::<Vec<_>>().join("/"));
        return sps(path, json!(""), 404);
    };
    let skip = if addr.suffix().is_some() { 2 } else { 1 };
    let cmd: Vec<String> = target[skip..]
        .iter()
        .map(|s| crypto::percent_decode(s).unwrap_or_else(|| s.to_string()))
        .collect();
    let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
    rec.control = Some(addr.to_string());
    rec.op = Some(cmd.join("/"));

    // Reads: `all`, `state`, `astate` (KB "Web Services"); not device commands.
    if matches!(cmd.as_slice(), [] | ["state"] | ["astate"] | ["all"]) {
        let house = sh.house();
        let value = devices::reply_value(&house, idx);
        let mut l = Ll::new(
            echo(path, CodeStyle::UpperString),
            json!(value),
            200,
            CodeStyle::UpperString,
        );
        if cmd == ["all"] {
            l.extra = devices::all_outputs(&house, idx);
        }
        return Reply::Ll(l);
    }
    rec.device = true;
    rec.motor = {
        let house = sh.house();
        let has = |s: &str| house.structure.controls[idx].states.contains_key(s);
        (has("up") && has("down") && has("position")).then(|| MotorAt {
            moving: if house.num(idx, "up") > 0.0 {
                Some("up")
            } else if house.num(idx, "down") > 0.0 {
                Some("down")
            } else {
                None
            },
            position: house.num(idx, "position"),
        })
    };

    let (secured, read_only) = {
        let house = sh.house();
        let c = &house.structure.controls[idx];
        let parent_secured = c
            .parent
            .is_some_and(|p| house.structure.controls[p].is_secured);
        (c.is_secured || parent_secured, c.is_read_only())
    };
    if let Some(hash) = visu {
        let user = rec.user.clone().unwrap_or_default();
        if !sh.with_auth(|a| a.check_visu_hash(&user, hash, sh.ms())) {
            return sps(path, json!(""), 500);
        }
    } else if secured {
        return sps(path, json!(""), 500);
    }
    if read_only {
        return sps(path, json!(""), 403);
    }
    if let Some(code) = sh.forced_code(&addr) {
        return sps(path, json!(""), code);
    }
    let outcome = {
        let now = sh.now();
        let mut house = sh.house();
        house.command(idx, &cmd, now)
    };
    sh.flush_changes();
    let Outcome { code, value } = outcome;
    sps(path, json!(value), code)
}
