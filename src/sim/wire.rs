//! What the simulated Miniserver puts on the wire: the LL envelope, the 8-byte binary message
//! header and the value/text event tables.
//!
//! Written from CWM "Message Header", "Event-Tables", "The UUID" and architecture decisions
//! 10–12, and checked in the tests below against byte layouts computed by hand from those
//! documents and against the captured replies in `tests/fixtures/loxone/messages` — never
//! against the client's decoder.

use serde_json::{Map, Value, json};

use crate::loxone::uuid::Uuid;

/// Header identifiers (CWM "2nd Byte: Identifier"). The whole documented table is kept for
/// reference; the simulator sends 0, 2, 3, 5 and 6.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MsgKind {
    Text = 0,
    BinaryFile = 1,
    ValueEvents = 2,
    TextEvents = 3,
    DaytimerEvents = 4,
    OutOfService = 5,
    Keepalive = 6,
    WeatherEvents = 7,
}

/// `0x03, id, flags, 0, u32 LE length` (decision 10). Bit 7 of the flags is "estimated".
pub fn header(kind: MsgKind, len: usize, estimated: bool) -> [u8; 8] {
    let n = u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes();
    [
        0x03,
        kind as u8,
        if estimated { 0x80 } else { 0 },
        0,
        n[0],
        n[1],
        n[2],
        n[3],
    ]
}

/// The 16 bytes of a UUID as the Miniserver sends them: `u32 Data1, u16 Data2, u16 Data3`
/// little-endian, then `Data4[8]` in order (CWM "Binary-Structure of a UUID").
pub fn uuid_bytes(u: &Uuid) -> [u8; 16] {
    let p = u.bytes(); // printed order: d1(4) d2(2) d3(2) d4(8)
    [
        p[3], p[2], p[1], p[0], p[5], p[4], p[7], p[6], p[8], p[9], p[10], p[11], p[12], p[13],
        p[14], p[15],
    ]
}

/// A value-event table: `n × (UUID + f64 LE)`, 24 bytes each.
pub fn value_table<'a>(events: impl IntoIterator<Item = (&'a Uuid, f64)>) -> Vec<u8> {
    let mut out = Vec::new();
    for (u, v) in events {
        out.extend_from_slice(&uuid_bytes(u));
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// A text-event table: each entry `UUID, icon UUID, u32 LE length, UTF-8 text`, then zero bytes
/// so the next entry starts at a multiple of 4 (CWM "Event-Table of Text-States").
pub fn text_table<'a>(events: impl IntoIterator<Item = (&'a Uuid, &'a str)>) -> Vec<u8> {
    let mut out = Vec::new();
    for (u, text) in events {
        out.extend_from_slice(&uuid_bytes(u));
        out.extend_from_slice(&[0u8; 16]); // no icon
        let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(text.as_bytes());
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out
}

/// How the reply spells its code (decision 12): `cfg`/`sps` replies say `"Code": "200"`, `sys`
/// replies say `"code": 200`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeStyle {
    UpperString,
    LowerNumber,
}

/// An `{"LL": {...}}` reply.
#[derive(Clone, Debug, PartialEq)]
pub struct Ll {
    pub control: String,
    pub value: Value,
    pub code: u16,
    pub style: CodeStyle,
    /// Extra members after `Code` (the `outputN` objects of an `all` reply).
    pub extra: Vec<(String, Value)>,
}

impl Ll {
    pub fn new(control: impl Into<String>, value: Value, code: u16, style: CodeStyle) -> Ll {
        Ll {
            control: control.into(),
            value,
            code,
            style,
            extra: Vec::new(),
        }
    }

    pub fn to_json(&self) -> String {
        let mut ll = Map::new();
        ll.insert("control".into(), Value::String(self.control.clone()));
        ll.insert("value".into(), self.value.clone());
        match self.style {
            CodeStyle::UpperString => ll.insert("Code".into(), json!(self.code.to_string())),
            CodeStyle::LowerNumber => ll.insert("code".into(), json!(self.code)),
        };
        for (k, v) in &self.extra {
            ll.insert(k.clone(), v.clone());
        }
        let mut top = Map::new();
        top.insert("LL".into(), Value::Object(ll));
        Value::Object(top).to_string()
    }
}

/// The echo in `control`: `jdev/…` requests answer `dev/…` (CWM "Commands") for `cfg` and `sps`;
/// `sys` replies echo the request as sent (fixture `getKeyMessage.json`).
pub fn echo(command: &str, style: CodeStyle) -> String {
    match style {
        CodeStyle::UpperString => command.strip_prefix('j').unwrap_or(command).to_string(),
        CodeStyle::LowerNumber => command.to_string(),
    }
}

/// The HTML the Miniserver sends with an HTTP-level 401 (PyLoxone#444).
pub const HTML_401: &str = "<html><head><title>error</title></head><body><errorcode>401</errorcode> <errordetail>Unauthorized</errordetail></body></html>";

/// The socket message sent before closing an unauthenticated socket (decision 8).
pub fn ll_420() -> String {
    r#"{"LL":{"control":"","value":"","Code":"420"}}"#.to_string()
}

/// A number as the Miniserver prints command reply values (`"75.000"`, KB-WS example).
pub fn value_text(v: f64) -> String {
    format!("{v:.3}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let p = format!(
            "{}/tests/fixtures/loxone/messages/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    }

    #[test]
    fn the_documented_uuid_is_sent_in_mixed_endian_order() {
        // loxone-api.md §6: 0f86a2fe-0378-3e15-ffff373f9870b52a → fe a2 86 0f 78 03 15 3e ff ff 37 3f 98 70 b5 2a
        let u = Uuid::parse("0f86a2fe-0378-3e15-ffff373f9870b52a").unwrap();
        assert_eq!(
            uuid_bytes(&u),
            [
                0xfe, 0xa2, 0x86, 0x0f, 0x78, 0x03, 0x15, 0x3e, 0xff, 0xff, 0x37, 0x3f, 0x98, 0x70,
                0xb5, 0x2a
            ]
        );
    }

    #[test]
    fn a_value_event_is_24_bytes_uuid_then_f64_little_endian() {
        let u = Uuid::parse("0f86a2fe-0378-3e15-ffff373f9870b52a").unwrap();
        let t = value_table([(&u, 1.0), (&u, -2.5)]);
        assert_eq!(t.len(), 48);
        // 1.0 = 0x3FF0000000000000, little-endian.
        assert_eq!(&t[16..24], &[0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
        // -2.5 = 0xC004000000000000.
        assert_eq!(&t[40..48], &[0, 0, 0, 0, 0, 0, 0x04, 0xc0]);
        assert_eq!(&t[24..28], &[0xfe, 0xa2, 0x86, 0x0f]);
    }

    #[test]
    fn text_events_are_padded_to_a_multiple_of_four() {
        let u = Uuid::parse("0f86a2fe-0378-3e15-ffff373f9870b52a").unwrap();
        let t = text_table([(&u, "abcde"), (&u, "")]);
        // 16 uuid + 16 icon + 4 len + 5 text = 41 → padded to 44; then 36 for the empty text.
        assert_eq!(t.len(), 44 + 36);
        assert_eq!(&t[32..36], &[5, 0, 0, 0]);
        assert_eq!(&t[36..41], b"abcde");
        assert_eq!(&t[41..44], &[0, 0, 0]);
        assert_eq!(&t[44..48], &[0xfe, 0xa2, 0x86, 0x0f]);
        assert_eq!(&t[76..80], &[0, 0, 0, 0]);
        // A text whose length is already a multiple of 4 gets no padding.
        assert_eq!(text_table([(&u, "abcd")]).len(), 40);
    }

    #[test]
    fn headers_carry_kind_estimated_bit_and_length_le() {
        assert_eq!(
            header(MsgKind::Keepalive, 0, false),
            [3, 6, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            header(MsgKind::ValueEvents, 0x0102_0304, true),
            [3, 2, 0x80, 0, 4, 3, 2, 1]
        );
        assert_eq!(header(MsgKind::OutOfService, 0, false)[1], 5);
        assert_eq!(header(MsgKind::Text, 300, false), [3, 0, 0, 0, 44, 1, 0, 0]);
    }

    #[test]
    fn a_sys_reply_has_the_shape_of_the_captured_getkey2_reply() {
        let captured = fixture("loxone-java-smarteon-getKeyMessage.json");
        let ours: Value = serde_json::from_str(
            &Ll::new(
                echo("jdev/sys/getkey2/showroom", CodeStyle::LowerNumber),
                json!({"key": "41", "salt": "31", "hashAlg": "SHA1"}),
                200,
                CodeStyle::LowerNumber,
            )
            .to_json(),
        )
        .unwrap();
        assert_eq!(ours["LL"]["control"], captured["LL"]["control"]);
        assert_eq!(ours["LL"]["code"], captured["LL"]["code"]);
        let keys = |v: &Value| {
            let mut k: Vec<String> = v["LL"].as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&ours), keys(&captured));
    }

    #[test]
    fn an_sps_reply_echoes_dev_and_writes_code_as_a_string_like_the_captured_all_reply() {
        let captured = fixture("loxone-java-smarteon-alarmAll.json");
        let mut ll = Ll::new(
            echo(
                "jdev/sps/ios/04f5b16e67a5f9f349ad71f5ffb729cc4beb4c15/0f86a2fe-0378-3e15-ffff373f9870b52a/all",
                CodeStyle::UpperString,
            ),
            json!(value_text(0.0)),
            200,
            CodeStyle::UpperString,
        );
        ll.extra.push((
            "output0".into(),
            json!({"name": "AQ", "nr": 1, "value": 0.0}),
        ));
        ll.extra
            .push(("output1".into(), json!({"name": "Q1", "nr": 2, "value": 0})));
        let ours: Value = serde_json::from_str(&ll.to_json()).unwrap();
        assert_eq!(ours, captured);
    }
}
