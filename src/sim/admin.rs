//! The admin channel: a tiny JSON-over-HTTP API on its own loopback port (never on the
//! Miniserver port), for fault injection and evidence from outside the process — the same
//! knobs the in-process [`super::Sim`] handle has.
//!
//! | Request (GET or POST) | Effect / answer |
//! |---|---|
//! | `/status` | URLs, serial, firmware, hash, TLS, connections, tokens, fault state |
//! | `/log[?device=1][&since=SEQ]` | the command log as a JSON array |
//! | `/log/clear` | empties the log |
//! | `/state?uuid=U` | one state's value |
//! | `/control?addr=A` or `?name=N` | a control's states by name |
//! | `/fault/reboot?secs=N` | out-of-service, close all, 503 for N s |
//! | `/fault/hang?on=1\|0` | stop / resume answering |
//! | `/fault/drop` | close every socket abruptly |
//! | `/fault/delay?ms=N` | delay every reply |
//! | `/fault/code?addr=A&code=N` | answer control A with LL code N (no `code`: normal) |
//! | `/fault/smoke` | the smoke alarm goes off |
//! | `/fault/bell` | the intercom rings |
//! | `/fault/structure[?rename=A&name=X \| ?remove=A]` | new `lastModified` (+ change) |
//! | `/fault/expire-tokens` | every token expires now |
//! | `/fault/cert?alt=1\|0` | present the other TLS certificate to new connections |
//! | `/fault/fenc-clear?on=1\|0` | answer failed `fenc` requests in clear instead of sealed |
//! | `/fault/fenc-garble?on=1\|0` | seal `fenc` answers with a key no client has |
//! | `/fault/login[?code=N]` | refuse every token request with LL code N (no `code`: normal) |
//! | `/app/press?name=N` or `?addr=A` | a person presses the push button in the Loxone app (the consent channel's approval); not logged as a command |
//! | `/app/text?name=N&text=T` or `?addr=A&text=T` | a person writes T into the virtual text input in the app (empty: declines the question) |

use std::io::BufReader;
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use super::house::StructureChange;
use super::http::{self, Request};
use super::server::Shared;
use crate::loxone::state::StateValue;
use crate::loxone::uuid::{ControlAddr, Uuid};

pub fn serve(sh: &Shared, tcp: TcpStream) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(write) = tcp.try_clone() else { return };
    let mut reader = BufReader::new(tcp);
    let mut writer = write;
    while let Ok(Some(req)) = http::read_request(&mut reader) {
        let keep = req.keep_alive();
        let (status, body) = handle(sh, &req);
        let body = body.to_string();
        if http::write_response(
            &mut writer,
            status,
            "application/json",
            body.as_bytes(),
            keep,
        )
        .is_err()
            || !keep
        {
            break;
        }
    }
}

fn value_json(v: Option<&StateValue>) -> Value {
    match v {
        Some(StateValue::Number(n)) => json!(n),
        Some(StateValue::Text(t)) => json!(t),
        None => Value::Null,
    }
}

fn err(status: u16, msg: &str) -> (u16, Value) {
    (status, json!({"error": msg}))
}

fn ok() -> (u16, Value) {
    (200, json!({"ok": true}))
}

fn handle(sh: &Shared, req: &Request) -> (u16, Value) {
    let path = req
        .target
        .split('?')
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    let q = |name: &str| req.query(name);
    match path {
        "" | "/status" => {
            let tokens = sh.tokens().len();
            (
                200,
                json!({
                    "serial": sh.serial(),
                    "firmware": sh.firmware(),
                    "tls": sh.is_tls(),
                    "connections": sh.connections(),
                    "tokens": tokens,
                    "down": sh.is_down(),
                    "hung": sh.hung(),
                    "delay_ms": sh.delay().as_millis() as u64,
                    "last_modified": sh.house().last_modified(),
                    "log_seq": sh.last_seq(),
                }),
            )
        }
        "/log" => {
            let since = q("since").and_then(|s| s.parse().ok()).unwrap_or(0);
            let device_only = q("device").is_some_and(|v| v == "1" || v == "true");
            let entries: Vec<_> = sh
                .commands_since(since)
                .into_iter()
                .filter(|e| !device_only || e.device)
                .collect();
            (200, json!(entries))
        }
        "/log/clear" => {
            sh.clear_log();
            ok()
        }
        "/state" => match q("uuid").and_then(|u| Uuid::parse(&u).ok()) {
            Some(u) => {
                let h = sh.house();
                (
                    200,
                    json!({"uuid": u.to_string(), "value": value_json(h.state(&u))}),
                )
            }
            None => err(400, "give ?uuid=8-4-4-16"),
        },
        "/control" => {
            let h = sh.house();
            let idx = match (q("addr"), q("name")) {
                (Some(a), _) => ControlAddr::parse(&a)
                    .ok()
                    .and_then(|a| h.structure.index_of(&a)),
                (None, Some(n)) => h.structure.controls.iter().position(|c| c.name == n),
                _ => None,
            };
            let Some(i) = idx else {
                return err(404, "no such control");
            };
            let c = &h.structure.controls[i];
            let states: serde_json::Map<String, Value> = c
                .states
                .keys()
                .map(|n| {
                    let v = c.state(n).and_then(|u| h.state(&u));
                    (n.clone(), value_json(v))
                })
                .collect();
            (
                200,
                json!({"addr": c.addr.to_string(), "name": c.name, "type": c.kind, "states": states}),
            )
        }
        "/app/press" | "/app/text" => {
            let addr = match (q("addr"), q("name")) {
                (Some(a), _) => ControlAddr::parse(&a).ok(),
                (None, Some(n)) => {
                    let h = sh.house();
                    h.structure
                        .controls
                        .iter()
                        .find(|c| c.name == n)
                        .map(|c| c.addr.clone())
                }
                _ => None,
            };
            let Some(addr) = addr else {
                return err(404, "no such control; give ?name=N or ?addr=A");
            };
            let text = if path == "/app/text" {
                Some(q("text").unwrap_or_default())
            } else {
                None
            };
            if sh.app_input(&addr, text.as_deref()) {
                ok()
            } else {
                err(
                    400,
                    "/app/press takes a Pushbutton or Switch, /app/text a TextInput",
                )
            }
        }
        "/fault/reboot" => {
            let secs: f64 = q("secs").and_then(|s| s.parse().ok()).unwrap_or(5.0);
            sh.reboot(Duration::from_secs_f64(secs.clamp(0.0, 3600.0)));
            ok()
        }
        "/fault/hang" => {
            sh.set_hung(q("on").is_none_or(|v| v != "0" && v != "false"));
            ok()
        }
        "/fault/drop" => {
            sh.drop_sockets();
            ok()
        }
        "/fault/delay" => {
            let ms: u64 = q("ms").and_then(|s| s.parse().ok()).unwrap_or(0);
            sh.set_delay(Duration::from_millis(ms.min(600_000)));
            ok()
        }
        "/fault/code" => match q("addr").and_then(|a| ControlAddr::parse(&a).ok()) {
            Some(a) => {
                let code = q("code")
                    .and_then(|c| c.parse::<u16>().ok())
                    .filter(|c| *c != 0);
                sh.set_forced_code(a, code);
                ok()
            }
            None => err(400, "give ?addr=UUID[/suffix]&code=N"),
        },
        "/fault/smoke" => {
            if sh.trigger_smoke_alarm() {
                ok()
            } else {
                err(404, "the house has no SmokeAlarm")
            }
        }
        "/fault/bell" => {
            if sh.ring_bell() {
                ok()
            } else {
                err(404, "the house has no Intercom")
            }
        }
        "/fault/structure" => {
            let change = match (q("rename"), q("name"), q("remove")) {
                (Some(addr), Some(name), _) => StructureChange::Rename { addr, name },
                (_, _, Some(addr)) => StructureChange::Remove { addr },
                (None, None, None) => StructureChange::Touch,
                _ => return err(400, "give ?rename=A&name=X, ?remove=A or nothing"),
            };
            if sh.change_structure(&change) {
                (
                    200,
                    json!({"ok": true, "last_modified": sh.house().last_modified()}),
                )
            } else {
                err(404, "no such control")
            }
        }
        "/fault/expire-tokens" => {
            sh.expire_tokens();
            ok()
        }
        "/fault/login" => {
            sh.set_login_refusal(q("code").and_then(|c| c.parse().ok()));
            ok()
        }
        "/fault/fenc-garble" => {
            sh.set_garble_fenc(q("on").is_none_or(|v| v != "0" && v != "false"));
            ok()
        }
        "/fault/fenc-clear" => {
            sh.set_clear_fenc_errors(q("on").is_none_or(|v| v != "0" && v != "false"));
            ok()
        }
        "/fault/cert" => {
            if !sh.is_tls() {
                return err(400, "the simulator runs without TLS");
            }
            sh.set_alt_cert(q("alt").is_none_or(|v| v != "0" && v != "false"));
            ok()
        }
        _ => err(
            404,
            "unknown admin endpoint; see /status and the sim::admin docs",
        ),
    }
}
