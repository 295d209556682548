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

mod device;
mod enc;
mod tokens;

use device::device;
use enc::encrypted;
use tokens::{auth_with_token, authenticate, get_token, keyexchange, token_op};

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
