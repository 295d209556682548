//! The websocket's binary side: headers, value and text event tables, and the framer that
//! pairs headers with payloads (daytimer and weather tables are recognised and skipped).
//!
//! The input is a sequence of websocket messages, each `kind byte, u16 LE length, bytes`
//! (kind bit 0: text or binary); a kind byte with bit 1 set turns the next 8 bytes into a
//! well-formed header (`0x03, id, flags, 0, len`) so the fuzzer reaches the payload parsers.
//! Each message also goes straight to the table parsers and the header parser.
//!
//! Checked: no panic; a value table parses iff its length is a multiple of 24, into len/24
//! events; text events never hold more text than the table had bytes; the framer's tables
//! land in the live state cache as the link applies them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loxwarden::clock::Mono;
use loxwarden::loxone::events::{
    Frame, Framer, Incoming, parse_header, parse_text_table, parse_value_table,
};
use loxwarden::loxone::state::{StateCache, StateValue};

fn direct(b: &[u8]) {
    match parse_value_table(b) {
        Ok(v) => assert_eq!(v.len() * 24, b.len(), "value table size"),
        Err(_) => assert!(
            !b.len().is_multiple_of(24),
            "a well-sized value table refused"
        ),
    }
    if let Ok(t) = parse_text_table(b) {
        let text: usize = t.iter().map(|e| e.text.len()).sum();
        // Lossy UTF-8 can grow a byte into U+FFFD (3 bytes); never more than that.
        assert!(text <= b.len() * 3, "text events longer than their table");
        assert!(
            t.len() * 36 <= b.len(),
            "more events than the table can hold"
        );
    }
    if let Some(h) = parse_header(b) {
        assert_eq!(b.len(), 8);
        assert_eq!(h.len, u32::from_le_bytes([b[4], b[5], b[6], b[7]]));
    }
}

fuzz_target!(|data: &[u8]| {
    let mut framer = Framer::new();
    let cache = StateCache::new();
    let mut rest = data;
    let mut step = 0u64;
    while let [kind, a, b, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*a, *b])).min(tail.len());
        let (body, next) = tail.split_at(len);
        rest = next;
        let header: [u8; 8];
        let msg: &[u8] = if kind & 2 != 0 && body.len() >= 3 {
            // A well-formed header: id, flags and a small length from the body.
            header = [0x03, body[0] % 9, body[1], 0, body[2], 0, 0, 0];
            &header
        } else {
            body
        };
        direct(msg);
        let frame = if kind & 1 == 0 {
            framer.feed(Incoming::Binary(msg))
        } else {
            let text = String::from_utf8_lossy(msg);
            framer.feed(Incoming::Text(&text))
        };
        step += 1;
        match frame {
            Some(Frame::Values(v)) => {
                let n = v.len();
                cache.apply(
                    v.into_iter().map(|(u, x)| (u, StateValue::Number(x))),
                    Mono(step),
                );
                assert!(cache.len() >= n.min(1));
            }
            Some(Frame::Texts(t)) => cache.apply(
                t.into_iter().map(|e| (e.uuid, StateValue::Text(e.text))),
                Mono(step),
            ),
            _ => {}
        }
    }
});
