//! Fuzz-style: thousands of random and mutated lines into `loxwarden serve`, then a valid
//! `ping` must still be answered, the process must still exit cleanly, and stdout must have
//! carried nothing but well-formed JSON-RPC lines. Deterministic (a seeded xorshift), so a
//! failure replays exactly.

use std::time::Duration;

use serde_json::json;

use crate::support::{Served, is_protocol_line};

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const SEEDS: &[&str] = &[
    r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
    r#"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{"form":{}}},"clientInfo":{"name":"fuzz","version":"1"}}}"#,
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    r#"{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"dG9vbHM6Mg"}}"#,
    r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_system_status","arguments":{}}}"#,
    r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"test_sleep","arguments":{"ms":20},"_meta":{"progressToken":"t"}}}"#,
    r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"test_confirm","arguments":{}}}"#,
    r#"{"jsonrpc":"2.0","id":"srv-1","result":{"action":"accept","content":{"confirm":true}}}"#,
    r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5,"reason":"x"}}"#,
    r#"{"jsonrpc":"2.0","id":7,"method":"logging/setLevel","params":{"level":"debug"}}"#,
    r#"{"jsonrpc":"2.0","id":8,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
    r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"test_confirm","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{}}},"inputResponses":{"confirm":{"action":"accept","content":{"confirm":true}}},"requestState":"v1.e30.AAAA"}}"#,
];

const INSERTS: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"\\",
    b"\xff",
    b"\xc3",
    b"\x00",
    b"1e999",
    b"-",
    b"\"id\":null",
    b"\"jsonrpc\":\"1.0\"",
    b"[[[[[[[[",
    b"\"\\ud800\"",
    b"99999999999999999999999",
];

fn mutate(rng: &mut Rng, line: &mut Vec<u8>) {
    match rng.below(9) {
        0 if !line.is_empty() => {
            let i = rng.below(line.len());
            line[i] ^= 1 << rng.below(8);
        }
        1 => {
            let i = rng.below(line.len() + 1);
            let ins = rng.pick(INSERTS);
            line.splice(i..i, ins.iter().copied());
        }
        2 if !line.is_empty() => {
            let i = rng.below(line.len());
            let n = rng.below(8).min(line.len() - i);
            line.drain(i..i + n);
        }
        3 => line.truncate(rng.below(line.len() + 1)),
        4 => {
            let other = rng.pick(SEEDS).as_bytes();
            let cut = rng.below(other.len());
            line.truncate(rng.below(line.len() + 1));
            line.extend_from_slice(&other[cut..]);
        }
        5 => {
            let mut wrapped = b"[".to_vec();
            wrapped.extend_from_slice(line);
            wrapped.push(b']');
            *line = wrapped;
        }
        6 => {
            let n = 1 + rng.below(5000);
            let mut deep = vec![b'['; n];
            deep.extend(std::iter::repeat_n(b']', n));
            *line = deep;
        }
        7 => {
            *line = (0..rng.below(200))
                .map(|_| rng.next() as u8)
                .filter(|b| *b != b'\n')
                .collect()
        }
        _ => {
            // Swap the id for something odd.
            let text = String::from_utf8_lossy(line).into_owned();
            let ids = [
                "null",
                "1.5",
                "true",
                "{}",
                "\"\"",
                "-7",
                "18446744073709551615",
                "\"srv-1\"",
            ];
            *line = text
                .replacen("\"id\":", &format!("\"id\":{},\"x\":", rng.pick(&ids)), 1)
                .into_bytes();
        }
    }
}

#[test]
fn thousands_of_random_and_mutated_lines_leave_the_session_answering() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut s = Served::test_build();
    let mut sent = 0;
    for i in 0..3000 {
        let mut line = rng.pick(SEEDS).as_bytes().to_vec();
        for _ in 0..=rng.below(3) {
            mutate(&mut rng, &mut line);
        }
        line.retain(|b| *b != b'\n');
        s.send_raw(&line);
        sent += 1;
        if i % 1000 == 999 {
            // Now and then a line over the size cap.
            s.send_raw(&vec![b'{'; (1 << 20) + 10]);
            sent += 1;
        }
        if i % 200 == 0 {
            // Drain what has arrived so far.
            while s.next_line(Duration::ZERO).is_some() {}
        }
    }
    // The first message that matters: a plain ping, answered.
    s.send(&json!({"jsonrpc":"2.0","id":"final-ping","method":"ping"}));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no answer to the final ping\n{}",
            s.stderr()
        );
        let Some(line) = s.next_line(Duration::from_secs(30)) else {
            continue;
        };
        if serde_json::from_slice::<serde_json::Value>(&line).is_ok_and(|v| v["id"] == "final-ping")
        {
            assert_eq!(
                serde_json::from_slice::<serde_json::Value>(&line).unwrap()["result"],
                json!({})
            );
            break;
        }
    }
    let (status, _) = s.close(Duration::from_secs(5));
    assert!(status.success(), "exit {status}\n{}", s.stderr());
    s.rest();
    let bad: Vec<String> = s
        .stdout
        .iter()
        .filter(|l| !is_protocol_line(l))
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    assert!(bad.is_empty(), "non-protocol stdout lines: {bad:?}");
    eprintln!(
        "fuzz: {sent} lines sent, {} lines answered, all well-formed",
        s.stdout.len()
    );
    assert!(s.stdout.len() > sent / 2, "most lines deserve an answer");
    assert!(!s.stderr().contains("panicked"), "{}", s.stderr());
}
