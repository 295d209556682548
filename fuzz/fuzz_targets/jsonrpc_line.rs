//! The JSON-RPC line decoder and its framing: arbitrary bytes as one or more lines.
//!
//! Byte 0 picks the line cap (so "too long" is reachable), byte 1 the size of the chunks the
//! reader hands out (so a line can straddle reads); the rest is the stream. Checked:
//! - framing agrees with a one-line model (split on `\n`, too long when the raw line exceeds
//!   the cap, one trailing `\r` dropped, a last line without `\n` still counts);
//! - `decode` never panics; a parse error or an unreadable id carries no id;
//! - every line we would send back is one line of valid JSON, with `"id": null` exactly when
//!   the id was not readable (JSON-RPC 2.0), and a notification without an `id` member;
//! - whatever decodes re-encodes through our own builders to the same message.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use loxwarden::mcp::framing::{Frame, LineReader};
use loxwarden::mcp::jsonrpc::{self, Incoming, PARSE_ERROR};
use serde_json::Value;

/// Hands out the stream in chunks of at most `chunk` bytes.
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.len().min(self.chunk).min(buf.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn model(stream: &[u8], max: usize) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut parts: Vec<&[u8]> = stream.split(|&b| b == b'\n').collect();
    // The piece after the last newline is a line only when it is not empty.
    let last = parts.pop().unwrap_or(&[]);
    let frame = |p: &[u8]| {
        if p.len() > max {
            Frame::TooLong
        } else {
            let mut l = p.to_vec();
            if l.last() == Some(&b'\r') {
                l.pop();
            }
            Frame::Line(l)
        }
    };
    for p in parts {
        out.push(frame(p));
    }
    if !last.is_empty() {
        out.push(frame(last));
    }
    out
}

/// A line we send: one line of JSON-RPC 2.0. `id`: `Some(true)` a reply or request whose id
/// was read, `Some(false)` an error whose id was not (`"id": null`), `None` a notification
/// (no `id` member at all).
fn check_sent_line(line: &str, id: Option<bool>) {
    assert!(!line.contains('\n'), "a reply spans lines: {line:?}");
    let v: Value = serde_json::from_str(line).expect("a reply line is JSON");
    let o = v.as_object().expect("a reply is an object");
    assert_eq!(o.get("jsonrpc"), Some(&Value::from("2.0")));
    match id {
        None => assert!(!o.contains_key("id"), "a notification with an id: {line}"),
        Some(known) => {
            assert!(o.contains_key("id"), "{line}");
            assert_eq!(o.get("id") == Some(&Value::Null), !known, "{line}");
        }
    }
}

fn check_line(bytes: &[u8]) {
    match jsonrpc::decode(bytes) {
        Err(r) => {
            if r.error.code == PARSE_ERROR {
                assert!(r.id.is_none(), "a parse error echoes an id");
            }
            let line = jsonrpc::error_line(r.id.as_ref(), &r.error);
            check_sent_line(&line, Some(r.id.is_some()));
        }
        Ok(msg) => {
            let again = match &msg {
                Incoming::Request { id, method, params } => {
                    let line =
                        jsonrpc::request_line(id, method, params.clone().unwrap_or(Value::Null));
                    check_sent_line(&line, Some(true));
                    // `params` absent and `params: null` are the same message.
                    jsonrpc::decode(line.as_bytes()).map(|m| match m {
                        Incoming::Request {
                            id,
                            method,
                            params: Some(Value::Null),
                        } => Incoming::Request {
                            id,
                            method,
                            params: None,
                        },
                        other => other,
                    })
                }
                Incoming::Notification { method, params } => {
                    let line =
                        jsonrpc::notification_line(method, params.clone().unwrap_or(Value::Null));
                    check_sent_line(&line, None);
                    jsonrpc::decode(line.as_bytes()).map(|m| match m {
                        Incoming::Notification {
                            method,
                            params: Some(Value::Null),
                        } => Incoming::Notification {
                            method,
                            params: None,
                        },
                        other => other,
                    })
                }
                Incoming::Response { id, outcome } => {
                    let line = match outcome {
                        Ok(result) => jsonrpc::result_line(id, result),
                        Err(e) => jsonrpc::error_line(Some(id), e),
                    };
                    check_sent_line(&line, Some(true));
                    jsonrpc::decode(line.as_bytes())
                }
            };
            let normalised = match msg {
                Incoming::Request {
                    id,
                    method,
                    params: Some(Value::Null),
                } => Incoming::Request {
                    id,
                    method,
                    params: None,
                },
                Incoming::Notification {
                    method,
                    params: Some(Value::Null),
                } => Incoming::Notification {
                    method,
                    params: None,
                },
                other => other,
            };
            assert_eq!(again, Ok(normalised), "re-encoding changed the message");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (max, chunk, stream) = match data {
        [a, b, rest @ ..] => (usize::from(*a) + 1, usize::from(*b % 64) + 1, rest),
        _ => return,
    };
    let mut reader = LineReader::new(
        Chunked {
            data: stream,
            chunk,
        },
        max,
    );
    let mut frames = Vec::new();
    loop {
        match reader.next_frame() {
            Frame::Eof => break,
            f => frames.push(f),
        }
    }
    assert_eq!(
        frames,
        model(stream, max),
        "framing disagrees with the model"
    );
    for f in &frames {
        if let Frame::Line(bytes) = f {
            check_line(bytes);
        }
    }
    // The whole input as one line too (no cap, newlines as whitespace), so long messages
    // reach the decoder.
    check_line(stream);
});
