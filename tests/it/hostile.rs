//! The hostile-input corpus (`tests/hostile/*.jsonl`, issue 9 part 3), driven case by case
//! through a real MCP session (the engine over pipes) into a gateway linked to the simulator.
//!
//! Each case must be refused or harmless: a valid JSON-RPC answer (or, for a line that cannot
//! be parsed, an error with a null id), the session still answering a `ping`, no panic anywhere
//! in the process, and the simulator's command log empty (a case may name the commands it
//! expects: only the legitimate first use of an MRTR ticket sends one). Text a case marks
//! `never_echo` must not appear in any consent question, and a refused case must not reach a
//! consent question at all. The data is the evidence; this file only drives it.
//!
//! Case fields: `id`, `why`, `expect` (`refused` | `harmless`), then one of `tool` + `args`
//! (a `tools/call` in the handshake era), `raw` (+ `answer_id`: the line as sent), `gen` (a
//! recipe for input too big to keep as data) or `mrtr` (a stateless-era ticket attack, see
//! [`mrtr_case`]); optional `commands` (device commands expected, default 0), `never_echo`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::raw_session::RawSession;
use crate::tools_support::{Options, Rig};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hostile");

fn load(category: &str) -> Vec<Value> {
    let path = format!("{CORPUS}/{category}.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(n, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}:{}: {e}", n + 1)))
        .collect()
}

fn rig() -> Rig {
    crate::panics::install();
    Rig::with(Options {
        consent_timeout: Duration::from_secs(5),
        ..Options::default()
    })
}

/// Arguments a generated case starts from.
fn base_args(tool: &str) -> Value {
    match tool {
        "control_light" => json!({"device": "Kitchen Ceiling", "action": "on"}),
        "control_access" => json!({"device": "Garage Door", "action": "open"}),
        "get_device" => json!({"device": "Kitchen Ceiling"}),
        _ => json!({}),
    }
}

fn call_line(id: &str, tool: &str, args: &Value) -> Vec<u8> {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":args}})
        .to_string()
        .into_bytes()
}

/// Builds a generated case's line and the id its answer carries (`None`: no answer needed).
fn generate(id: &str, g: &Value) -> (Vec<u8>, Option<Value>) {
    let tool = g["tool"].as_str().unwrap_or("control_light");
    let n = |k: &str| g[k].as_u64().map(|v| v as usize);
    let mut args = base_args(tool);
    if let (Some(field), Some(len)) = (g["string"].as_str(), n("len")) {
        args[field] = json!("x".repeat(len));
        return (call_line(id, tool, &args), Some(json!(id)));
    }
    if let Some(len) = n("line") {
        let mut line = br#"{"jsonrpc":"2.0","id":"x","method":"ping","params":{"pad":""#.to_vec();
        line.extend(std::iter::repeat_n(b'a', len));
        line.extend_from_slice(br#""}}"#);
        return (line, Some(Value::Null));
    }
    if let Some(depth) = n("nest_args") {
        let mut v = json!("Kitchen Ceiling");
        for _ in 0..depth {
            v = json!([v]);
        }
        args["device"] = v;
        // Past the parser's depth limit the line is refused whole (id unknown: null).
        let answer = if depth > 120 { None } else { Some(json!(id)) };
        return (call_line(id, tool, &args), answer);
    }
    if let Some(depth) = n("nest_raw") {
        let open: &[u8] = if g["obj"] == true { b"{\"a\":" } else { b"[" };
        let mut line = format!(r#"{{"jsonrpc":"2.0","id":"{id}","method":"tools/call","params":"#)
            .into_bytes();
        for _ in 0..depth {
            line.extend_from_slice(open);
        }
        return (line, Some(Value::Null));
    }
    if let Some(k) = n("wide_keys") {
        for i in 0..k {
            args[format!("k{i}")] = json!(i);
        }
        return (call_line(id, tool, &args), Some(json!(id)));
    }
    if let Some(k) = n("wide_array") {
        args["device"] = json!((0..k).collect::<Vec<_>>());
        return (call_line(id, tool, &args), Some(json!(id)));
    }
    if let Some(k) = n("many_strings") {
        args["room"] = json!(vec!["Kitchen"; k]);
        return (call_line(id, tool, &args), Some(json!(id)));
    }
    if let Some(k) = n("unicode_escape") {
        let device = "\\u0041".repeat(k);
        let line = format!(
            r#"{{"jsonrpc":"2.0","id":"{id}","method":"tools/call","params":{{"name":"{tool}","arguments":{{"device":"{device}","action":"open"}}}}}}"#
        );
        return (line.into_bytes(), Some(json!(id)));
    }
    if let Some(k) = n("number_digits") {
        let digits = "9".repeat(k);
        let line = format!(
            r#"{{"jsonrpc":"2.0","id":"{id}","method":"tools/call","params":{{"name":"{tool}","arguments":{{"device":"Kitchen Ceiling","action":"dim","brightness":{digits}}}}}}}"#
        );
        // serde_json refuses a number it cannot hold: then the id is not known.
        return (line.into_bytes(), None);
    }
    panic!("{id}: unknown recipe {g}");
}

/// What one case did.
struct Ran {
    answer: Option<Value>,
    asked: Vec<Value>,
}

/// A handshake-era case: one line into a fresh session.
fn line_case(rig: &Rig, case: &Value) -> Ran {
    let id = case["id"].as_str().unwrap();
    let (line, answer_id) = if let Some(tool) = case["tool"].as_str() {
        (call_line(id, tool, &case["args"]), Some(json!(id)))
    } else if let Some(raw) = case["raw"].as_str() {
        (raw.as_bytes().to_vec(), case.get("answer_id").cloned())
    } else {
        generate(id, &case["gen"])
    };
    let mut s = RawSession::handshake(&rig.server);
    s.send_raw(&line);
    let answer = answer_id.map(|aid| {
        s.wait_for(&aid, Duration::from_secs(60))
            .or_else(|| s.wait_for(&Value::Null, Duration::from_millis(1)))
            .unwrap_or_else(|| panic!("{id}: no answer (id {aid})"))
    });
    assert!(s.alive(), "{id}: the session stopped answering ping");
    assert!(s.malformed.is_empty(), "{id}: {:?}", s.malformed);
    let asked = std::mem::take(&mut s.asked);
    s.close();
    Ran { answer, asked }
}

fn accept() -> Value {
    json!({"confirm": {"action": "accept", "content": {"confirm": true}}})
}

fn disarm() -> Value {
    json!({"device": "Burglar Alarm", "action": "disarm"})
}

/// First round of a disarm in `s`: asserts `input_required` and returns the ticket.
fn first_round(s: &mut RawSession, id: &str) -> String {
    let r = s.modern_call(id, "set_alarm", disarm(), json!({}));
    assert_eq!(r["result"]["resultType"], "input_required", "{id}: {r}");
    r["result"]["requestState"]
        .as_str()
        .unwrap_or_else(|| panic!("{id}: no requestState in {r}"))
        .to_owned()
}

/// Changes one base64url character at `i` to another valid one.
fn flip(s: &str, i: usize) -> String {
    let mut b = s.as_bytes().to_vec();
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).unwrap()
}

/// A stateless-era case: tickets replayed, moved between sessions or tampered with. The
/// returned answer is the attack's; legitimate steps before it are asserted here.
fn mrtr_case(rig: &Rig, case: &Value) -> Ran {
    let id = case["id"].as_str().unwrap();
    let op = case["mrtr"].as_str().unwrap();
    let mut s = RawSession::start(&rig.server, Default::default());
    let mut other = RawSession::start(&rig.server, Default::default());
    let attack = |s: &mut RawSession, state: Value| {
        s.modern_call(
            &format!("{id}-attack"),
            "set_alarm",
            disarm(),
            json!({"inputResponses": accept(), "requestState": state}),
        )
    };
    let answer = match op {
        "replay_same_session" | "replay_other_session" => {
            let t = first_round(&mut s, id);
            let ok = s.modern_call(
                &format!("{id}-legit"),
                "set_alarm",
                disarm(),
                json!({"inputResponses": accept(), "requestState": t}),
            );
            assert_eq!(
                ok["result"]["structuredContent"]["done"], true,
                "{id}: the legitimate use: {ok}"
            );
            let target = if op == "replay_same_session" {
                &mut s
            } else {
                &mut other
            };
            attack(target, json!(t))
        }
        "reuse_after_decline" => {
            let t = first_round(&mut s, id);
            let no = s.modern_call(
                &format!("{id}-decline"),
                "set_alarm",
                disarm(),
                json!({"inputResponses": {"confirm": {"action": "decline"}}, "requestState": t}),
            );
            assert_eq!(no["result"]["structuredContent"]["done"], false, "{no}");
            attack(&mut s, json!(t))
        }
        "other_session_fresh" => {
            let t = first_round(&mut s, id);
            attack(&mut other, json!(t))
        }
        "other_arguments" => {
            let t = first_round(&mut s, id);
            s.modern_call(
                &format!("{id}-attack"),
                "set_alarm",
                json!({"device": "Burglar Alarm", "action": "acknowledge"}),
                json!({"inputResponses": accept(), "requestState": t}),
            )
        }
        "other_tool" => {
            let t = first_round(&mut s, id);
            s.modern_call(
                &format!("{id}-attack"),
                "control_access",
                json!({"device": "Garage Door", "action": "open"}),
                json!({"inputResponses": accept(), "requestState": t}),
            )
        }
        "no_state" => s.modern_call(
            &format!("{id}-attack"),
            "set_alarm",
            disarm(),
            json!({"inputResponses": accept()}),
        ),
        "no_answers" => {
            let t = first_round(&mut s, id);
            s.modern_call(
                &format!("{id}-attack"),
                "set_alarm",
                disarm(),
                json!({"requestState": t}),
            )
        }
        "confirm_string" | "wrong_key" => {
            let t = first_round(&mut s, id);
            let answers = if op == "confirm_string" {
                json!({"confirm": {"action": "accept", "content": {"confirm": "true"}}})
            } else {
                json!({"ok": {"action": "accept", "content": {"confirm": true}}})
            };
            s.modern_call(
                &format!("{id}-attack"),
                "set_alarm",
                disarm(),
                json!({"inputResponses": answers, "requestState": t}),
            )
        }
        _ => {
            let t = first_round(&mut s, id);
            // A second ticket, from another session about another output (while the alarm's
            // question is open, no second one about it is asked).
            let r2 = other.modern_call(
                &format!("{id}-2"),
                "control_access",
                json!({"device": "Garage Door", "action": "open"}),
                json!({}),
            );
            let t2 = r2["result"]["requestState"]
                .as_str()
                .unwrap_or_else(|| panic!("{id}: no second requestState in {r2}"))
                .to_owned();
            let parts: Vec<&str> = t.split('.').collect();
            assert_eq!(parts.len(), 3, "{t}");
            let state = match op {
                "tamper_payload" => json!(flip(&t, 5)),
                "tamper_mac" => json!(flip(&t, t.len() - 10)),
                "splice" => {
                    let mac2 = t2.rsplit('.').next().unwrap();
                    json!(format!("{}.{}.{mac2}", parts[0], parts[1]))
                }
                "truncate" => json!(&t[..t.len() - 5]),
                "version" => json!(t.replacen("v1.", "v2.", 1)),
                "empty" => json!(""),
                "number" => json!(42),
                "object" => json!({"v": 1, "p": parts[1]}),
                "null" => Value::Null,
                "oversize" => json!(format!("v1.{}", "A".repeat(5000))),
                "forged" => json!(format!("v1.{}.{}", parts[1], "Zm9yZ2Vk".repeat(5))),
                "forged_unsigned" => json!(format!("v1.{}.", parts[1])),
                "extra_dots" => json!(format!("{t}.AAAA")),
                "fullwidth" => json!(t.replacen('v', "\u{ff56}", 1)),
                "control_chars" => json!(format!("{}\n\0{}", &t[..10], &t[10..])),
                "first_round_with_answers" => json!("v1.e30.AAAA"),
                _ => panic!("{id}: unknown mrtr op {op}"),
            };
            attack(&mut s, state)
        }
    };
    assert!(s.alive() && other.alive(), "{id}: a session stopped");
    assert!(
        s.malformed.is_empty() && other.malformed.is_empty(),
        "{id}: malformed output"
    );
    // The first rounds' questions are legitimate; the attack never asks.
    Ran {
        answer: Some(answer),
        asked: Vec::new(),
    }
}

/// Refused: a JSON-RPC error, a result with `isError`, or (stateless era) nothing done.
fn is_refusal(answer: &Value) -> bool {
    answer.get("error").is_some() || answer["result"]["isError"] == true
}

/// Raw terminal controls and bidi overrides never come back in a result's text.
fn has_raw_controls(answer: &Value) -> bool {
    let text = crate::tools_support::content_text(&answer["result"]);
    let msg = answer["error"]["message"].as_str().unwrap_or_default();
    text.chars()
        .chain(msg.chars())
        .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
}

/// Runs every case of `category`; returns (cases, refused, harmless, questions asked).
fn run(category: &str) -> (usize, usize, usize, usize) {
    let shared = rig();
    let cases = load(category);
    let (mut refused, mut harmless, mut sent, mut questions) = (0, 0, 0, 0);
    for case in &cases {
        let id = case["id"].as_str().expect("every case has an id");
        // A stateless-era case leaves its legitimate question open (one open question per
        // output): each gets a house of its own.
        let own;
        let rig = if case.get("mrtr").is_some() {
            own = rig();
            &own
        } else {
            &shared
        };
        // No answer to hostile input may carry a credential.
        // (The simulator's default passwords are plain words; `secrets.rs` checks distinctive
        // ones.)
        let secrets: Vec<String> = rig.sim.tokens().into_iter().map(|t| t.token).collect();
        assert!(!secrets.is_empty());
        let mark = rig.sim.log_mark();
        let audit_before = rig.audit().len();
        let ran = if case.get("mrtr").is_some() {
            mrtr_case(rig, case)
        } else {
            line_case(rig, case)
        };
        // The simulator received exactly what the case expects (almost always: nothing).
        let got = rig.received(mark);
        let expected = case["commands"].as_u64().unwrap_or(0) as usize;
        assert_eq!(got.len(), expected, "{id} ({}): {got:?}", case["why"]);
        sent += got.len();
        let expect = case["expect"].as_str().unwrap_or("refused");
        if let Some(a) = &ran.answer {
            let shown = a.to_string();
            for secret in &secrets {
                assert!(
                    !shown.contains(secret.as_str()),
                    "{id}: a credential in the answer"
                );
            }
            if expect == "refused" {
                assert!(is_refusal(a), "{id} ({}) was not refused: {a}", case["why"]);
            }
            assert!(!has_raw_controls(a), "{id}: raw controls echoed: {a}");
        }
        if is_refusal(ran.answer.as_ref().unwrap_or(&json!({"error": {}}))) {
            refused += 1;
        } else {
            harmless += 1;
        }
        // A refused case never reaches a question; no question carries the case's text.
        if expect == "refused" {
            assert!(
                ran.asked.is_empty(),
                "{id} reached consent: {:?}",
                ran.asked
            );
        }
        questions += ran.asked.len();
        for q in &ran.asked {
            let msg = q.to_string();
            for marker in case["never_echo"].as_array().into_iter().flatten() {
                let m = marker.as_str().unwrap_or_default();
                assert!(!msg.contains(m), "{id}: '{m}' reached a question: {msg}");
            }
        }
        // A tools/call that reached the gateway left its audit record(s); nothing panicked.
        assert!(
            rig.audit().len() >= audit_before,
            "{id}: the audit log shrank"
        );
        let (panics, seen) = crate::panics::seen();
        assert_eq!(panics, 0, "{id}: panics: {seen:?}");
    }
    eprintln!(
        "hostile {category}: {} cases, {refused} refused, {harmless} harmless, \
         {questions} consent questions, {sent} commands (all expected)",
        cases.len()
    );
    (cases.len(), refused, harmless, questions)
}

#[test]
fn path_and_url_injection_in_names_and_commands_never_reaches_the_miniserver() {
    run("injection");
}

#[test]
fn encoded_traversal_is_refused_and_nothing_is_sent() {
    run("traversal");
}

#[test]
fn control_characters_in_arguments_are_refused_and_never_echoed_raw() {
    run("control");
}

#[test]
fn unicode_look_alikes_of_real_device_names_resolve_to_nothing() {
    run("lookalike");
}

#[test]
fn wrong_types_and_malformed_requests_are_refused_before_the_network() {
    run("types");
}

#[test]
fn oversize_and_deeply_nested_json_is_refused_and_the_session_survives() {
    run("oversize");
}

#[test]
fn prompt_injection_in_arguments_never_reaches_a_consent_question_or_a_command() {
    let (_, _, _, questions) = run("prompt");
    // The AI's own spellings of real devices do reach consent: the check above saw questions.
    assert!(questions > 0, "no question was asked, so none was checked");
}

#[test]
fn replayed_and_tampered_request_state_never_acts() {
    run("mrtr");
}

/// The corpus is at least 200 cases, each with a unique id (the figure in docs/faults.md).
#[test]
fn the_hostile_corpus_has_at_least_200_distinct_cases() {
    let mut ids = std::collections::HashSet::new();
    let mut per = Vec::new();
    for cat in CATEGORIES {
        let cases = load(cat);
        for c in &cases {
            assert!(ids.insert(c["id"].as_str().unwrap().to_owned()), "{c}");
        }
        per.push(format!("{cat} {}", cases.len()));
    }
    eprintln!("hostile corpus: {} cases ({})", ids.len(), per.join(", "));
    assert!(ids.len() >= 200, "{}", ids.len());
    let on_disk = std::fs::read_dir(CORPUS)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
        })
        .count();
    assert_eq!(on_disk, CATEGORIES.len(), "every file has a runner");
}

const CATEGORIES: &[&str] = &[
    "injection",
    "traversal",
    "control",
    "lookalike",
    "types",
    "oversize",
    "prompt",
    "mrtr",
];
