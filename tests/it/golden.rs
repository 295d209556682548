//! Golden JSON-line transcripts (tests/golden/*.jsonl) replayed against the real binary.
//!
//! A transcript is what a client sends and what the server must answer, one message per line:
//!
//! ```text
//! # a comment
//! >> {"jsonrpc":"2.0","id":1,"method":"ping"}    sent as written (${name} = a captured value)
//! >>x {"id":1,"method":"p\xffing"}               sent with \xHH escapes decoded (invalid UTF-8)
//! >>long 1100000                                 sent: a line of that many bytes
//! >>deep 100000                                  sent: `[` × N then `]` × N
//! << {"jsonrpc":"2.0","id":1,"result":{}}        the next line must equal this JSON
//! <<* {"method":"notifications/progress", ...}   skip any lines matching this first
//! !! sleep 200                                   wait (ms)
//! !! close                                       close stdin; the server must exit promptly
//! !! restart                                     close, check, and start a fresh server
//! ```
//!
//! Expected JSON is compared exactly (same members, so "no `id` member" is checked), except
//! for placeholders: `"$any"`, `"$string"`, `"$number"`, and `"$capture:name"` (any value,
//! remembered for `${name}`, which works in expected lines too). After the transcript (and
//! before a restart) the server must have written nothing else, and every line it wrote must
//! be a well-formed JSON-RPC message.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Served, TEST_ARGS, is_protocol_line};

fn golden(name: &str) {
    let path = format!("{}/tests/golden/{name}.jsonl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut server = Served::start(TEST_ARGS);
    let mut vars: HashMap<String, Value> = HashMap::new();
    let mut skip: Option<Value> = None;
    for (n, line) in text.lines().enumerate() {
        let at = format!("{name}.jsonl:{}", n + 1);
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        match tag {
            ">>" => server.send_raw(substitute(rest, &vars, &at).as_bytes()),
            ">>x" => server.send_raw(&unescape(&substitute(rest, &vars, &at))),
            ">>long" => server.send_raw(&vec![b'x'; number(rest, &at)]),
            ">>deep" => {
                let n = number(rest, &at);
                let mut deep = vec![b'['; n];
                deep.extend(std::iter::repeat_n(b']', n));
                server.send_raw(&deep);
            }
            "<<*" => skip = Some(parse(&substitute(rest, &vars, &at), &at)),
            "<<" => {
                let expected = parse(&substitute(rest, &vars, &at), &at);
                loop {
                    let got = server.recv();
                    if let Some(pattern) = &skip
                        && matches(pattern, &got, &mut HashMap::new(), "").is_ok()
                        && matches(&expected, &got, &mut HashMap::new(), "").is_err()
                    {
                        continue;
                    }
                    if let Err(why) = matches(&expected, &got, &mut vars, "") {
                        panic!(
                            "{at}: {why}\n expected {expected}\n      got {got}\nstderr:\n{}",
                            server.stderr()
                        );
                    }
                    break;
                }
                skip = None;
            }
            "!!" => match rest.split_once(' ').unwrap_or((rest, "")) {
                ("sleep", ms) => std::thread::sleep(Duration::from_millis(number(ms, &at) as u64)),
                ("close", _) => finish(&mut server, &at),
                ("restart", _) => {
                    finish(&mut server, &at);
                    server = Served::start(TEST_ARGS);
                }
                other => panic!("{at}: unknown directive {other:?}"),
            },
            other => panic!("{at}: unknown tag {other:?}"),
        }
    }
    finish(&mut server, &format!("{name}.jsonl:end"));
}

/// Closes stdin, checks the prompt exit, that nothing unexpected followed, and that stdout
/// held only protocol lines.
fn finish(server: &mut Served, at: &str) {
    if server.is_open() {
        let (status, took) = server.close(Duration::from_secs(5));
        assert!(status.success(), "{at}: exit status {status}");
        assert!(took < Duration::from_secs(2), "{at}: exit took {took:?}");
    }
    let rest = server.rest();
    assert!(
        rest.is_empty(),
        "{at}: unexpected output: {:?}",
        rest.iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect::<Vec<_>>()
    );
    for line in &server.stdout {
        assert!(
            is_protocol_line(line),
            "{at}: not a protocol line: {}",
            String::from_utf8_lossy(line)
        );
    }
}

fn number(text: &str, at: &str) -> usize {
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("{at}: not a number: {text:?}"))
}

fn parse(text: &str, at: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{at}: bad expected JSON: {e}"))
}

fn substitute(text: &str, vars: &HashMap<String, Value>, at: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .unwrap_or_else(|| panic!("{at}: unclosed ${{"));
        let name = &rest[start + 2..end];
        let v = vars
            .get(name)
            .unwrap_or_else(|| panic!("{at}: nothing captured as {name}"));
        out.push_str(&v.to_string());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn unescape(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && b.get(i + 1) == Some(&b'x')
            && let (Some(h), Some(l)) = (
                b.get(i + 2).and_then(|c| hex(*c)),
                b.get(i + 3).and_then(|c| hex(*c)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Compares `got` with `expected`, honouring the placeholders.
fn matches(
    expected: &Value,
    got: &Value,
    vars: &mut HashMap<String, Value>,
    path: &str,
) -> Result<(), String> {
    match expected {
        Value::String(s) if s == "$any" => Ok(()),
        Value::String(s) if s == "$string" => got
            .is_string()
            .then_some(())
            .ok_or(format!("{path}: not a string")),
        Value::String(s) if s == "$number" => got
            .is_number()
            .then_some(())
            .ok_or(format!("{path}: not a number")),
        Value::String(s) if s.starts_with("$capture:") => {
            vars.insert(s["$capture:".len()..].to_owned(), got.clone());
            Ok(())
        }
        Value::Object(e) => {
            let Value::Object(g) = got else {
                return Err(format!("{path}: not an object"));
            };
            let mut ek: Vec<_> = e.keys().collect();
            let mut gk: Vec<_> = g.keys().collect();
            ek.sort();
            gk.sort();
            if ek != gk {
                return Err(format!("{path}: members {gk:?}, expected {ek:?}"));
            }
            for (k, v) in e {
                matches(v, &g[k], vars, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        Value::Array(e) => {
            let Value::Array(g) = got else {
                return Err(format!("{path}: not an array"));
            };
            if e.len() != g.len() {
                return Err(format!("{path}: {} items, expected {}", g.len(), e.len()));
            }
            for (i, (ev, gv)) in e.iter().zip(g).enumerate() {
                matches(ev, gv, vars, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ => (expected == got)
            .then_some(())
            .ok_or(format!("{path}: {got} != {expected}")),
    }
}

#[test]
fn golden_lifecycle_handshake_era() {
    golden("lifecycle");
}

#[test]
fn golden_version_negotiation() {
    golden("negotiation");
}

#[test]
fn golden_error_paths() {
    golden("errors");
}

#[test]
fn golden_stateless_era_and_mrtr() {
    golden("stateless");
}

#[test]
fn golden_handshake_elicitation() {
    golden("elicitation");
}

#[test]
fn golden_handshake_without_elicitation_capability() {
    golden("elicitation_none");
}

#[test]
fn golden_progress_cancellation_and_concurrency() {
    golden("concurrency");
}
