//! The websocket's binary side: the 8-byte message header, value and text event tables, and the
//! small state machine that pairs each header with the message that follows it.
//!
//! Why pure: these bytes come from the network and will be fuzzed. Every function here takes a
//! byte slice and returns a value; lengths are checked before every read, so no input can panic
//! or allocate more than the input's own size. Layouts follow CWM "Message Header" and
//! "Event-Tables" (decision 10): header `0x03, id, flags (bit 7 = estimated), 0, u32 LE len`;
//! value event = UUID (16, `bytes_le` order) + f64 LE; text event = UUID + icon UUID + u32 LE
//! length + UTF-8 text, padded so the next event starts at a multiple of 4.
//! Daytimer (4) and weather (7) tables are recognised and skipped.

use std::fmt;

use super::uuid::Uuid;

/// What the next websocket message will be (header byte 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgKind {
    Text,
    BinaryFile,
    ValueTable,
    TextTable,
    DaytimerTable,
    OutOfService,
    Keepalive,
    WeatherTable,
    Unknown(u8),
}

impl MsgKind {
    fn from_id(id: u8) -> MsgKind {
        match id {
            0 => MsgKind::Text,
            1 => MsgKind::BinaryFile,
            2 => MsgKind::ValueTable,
            3 => MsgKind::TextTable,
            4 => MsgKind::DaytimerTable,
            5 => MsgKind::OutOfService,
            6 => MsgKind::Keepalive,
            7 => MsgKind::WeatherTable,
            other => MsgKind::Unknown(other),
        }
    }

    /// Whether a payload message follows this header (not for keepalive and out-of-service).
    pub fn has_payload(self) -> bool {
        !matches!(self, MsgKind::Keepalive | MsgKind::OutOfService)
    }
}

/// A parsed 8-byte message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub kind: MsgKind,
    /// Info flag bit 7: the length is only an estimate; an exact header follows.
    pub estimated: bool,
    pub len: u32,
}

/// Parses a header: exactly 8 bytes, first byte `0x03`.
pub fn parse_header(b: &[u8]) -> Option<Header> {
    if b.len() != 8 || b[0] != 0x03 {
        return None;
    }
    Some(Header {
        kind: MsgKind::from_id(b[1]),
        estimated: b[2] & 0x80 != 0,
        len: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
    })
}

/// The event tables could not be read; says where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventError(pub String);

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed event table: {}", self.0)
    }
}

impl std::error::Error for EventError {}

/// A UUID from its 16-byte binary form: `u32 LE, u16 LE, u16 LE, 8 bytes in order`.
pub fn uuid_from_wire(b: &[u8; 16]) -> Uuid {
    Uuid::from_bytes([
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13],
        b[14], b[15],
    ])
}

fn take<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    let end = at.checked_add(N)?;
    b.get(at..end)?.try_into().ok()
}

/// A value event table: `n × 24` bytes.
pub fn parse_value_table(b: &[u8]) -> Result<Vec<(Uuid, f64)>, EventError> {
    if !b.len().is_multiple_of(24) {
        return Err(EventError(format!(
            "value table of {} bytes is not a multiple of 24",
            b.len()
        )));
    }
    Ok(b.chunks_exact(24)
        .filter_map(|e| {
            let u: [u8; 16] = take(e, 0)?;
            let v: [u8; 8] = take(e, 16)?;
            Some((uuid_from_wire(&u), f64::from_le_bytes(v)))
        })
        .collect())
}

/// One text event.
#[derive(Clone, Debug, PartialEq)]
pub struct TextEvent {
    pub uuid: Uuid,
    pub icon: Uuid,
    pub text: String,
}

/// A text event table. Invalid UTF-8 is replaced (U+FFFD), a truncated event is an error.
pub fn parse_text_table(b: &[u8]) -> Result<Vec<TextEvent>, EventError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < b.len() {
        let (Some(u), Some(icon), Some(len)) = (
            take::<16>(b, at),
            take::<16>(b, at + 16),
            take::<4>(b, at + 32),
        ) else {
            return Err(EventError(format!("text event at byte {at} is truncated")));
        };
        let len = u32::from_le_bytes(len) as usize;
        let start = at + 36;
        let Some(text) = start.checked_add(len).and_then(|end| b.get(start..end)) else {
            return Err(EventError(format!(
                "text event at byte {at} announces {len} bytes of text, {} remain",
                b.len().saturating_sub(start)
            )));
        };
        out.push(TextEvent {
            uuid: uuid_from_wire(&u),
            icon: uuid_from_wire(&icon),
            text: String::from_utf8_lossy(text).into_owned(),
        });
        // The next event starts at a multiple of 4 (the table starts at 0).
        let next = start + len;
        at = next.div_ceil(4).saturating_mul(4);
    }
    Ok(out)
}

/// What one header + payload pair amounted to.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// A text message (command reply or file) announced by a header of id 0.
    Text(String),
    Values(Vec<(Uuid, f64)>),
    Texts(Vec<TextEvent>),
    Keepalive,
    OutOfService,
    /// A message we recognise and do not use (daytimer, weather, binary file, unknown id).
    Skipped(MsgKind),
    /// Something that does not fit the protocol; the link logs it and carries on.
    Unexpected(String),
}

/// A websocket message as the framer sees it.
#[derive(Clone, Copy, Debug)]
pub enum Incoming<'a> {
    Binary(&'a [u8]),
    Text(&'a str),
}

/// Pairs headers with payloads. Feed every data message in order; each call returns the frame
/// it completed, if any.
#[derive(Clone, Debug, Default)]
pub struct Framer {
    pending: Option<Header>,
    /// A zero-length header was just completed; one empty message right after it belongs to it.
    empty_due: bool,
}

impl Framer {
    pub fn new() -> Framer {
        Framer::default()
    }

    pub fn feed(&mut self, msg: Incoming<'_>) -> Option<Frame> {
        let empty = match msg {
            Incoming::Binary(b) => b.is_empty(),
            Incoming::Text(t) => t.is_empty(),
        };
        if std::mem::take(&mut self.empty_due) && empty {
            return None;
        }
        if let Incoming::Binary(b) = msg
            && let Some(h) = parse_header(b)
        {
            // An 8-byte binary message while a payload of exactly 8 bytes is due is that
            // payload; otherwise it is a header (a missing payload is reported, not hidden).
            let payload_due = self.pending.is_some_and(|p| !p.estimated && p.len == 8);
            if !payload_due {
                // An estimated header is always superseded by the next header (CWM).
                let dropped = self.pending.take().filter(|d| !d.estimated);
                if h.estimated {
                    self.pending = Some(h);
                    return dropped.map(|d| missing(d.kind));
                }
                if !h.kind.has_payload() {
                    return Some(match h.kind {
                        MsgKind::Keepalive => Frame::Keepalive,
                        _ => Frame::OutOfService,
                    });
                }
                // An exact header of length 0 is a whole, empty message: LxCommunicator
                // (`WebSocketWrapper.js`) completes it without waiting for a payload. An empty
                // payload that follows anyway is taken as its own.
                if h.len == 0 && dropped.is_none() {
                    self.empty_due = true;
                    return Some(match h.kind {
                        MsgKind::Text => Frame::Text(String::new()),
                        MsgKind::ValueTable => Frame::Values(Vec::new()),
                        MsgKind::TextTable => Frame::Texts(Vec::new()),
                        kind => Frame::Skipped(kind),
                    });
                }
                self.pending = Some(h);
                return dropped.map(|d| missing(d.kind));
            }
        }
        let Some(h) = self.pending.take() else {
            return Some(Frame::Unexpected(match msg {
                Incoming::Binary(b) => {
                    format!("binary message of {} bytes without a header", b.len())
                }
                Incoming::Text(t) => format!("text message of {} bytes without a header", t.len()),
            }));
        };
        // LxCommunicator tolerates a payload right after an estimated header; so do we.
        Some(match (h.kind, msg) {
            (MsgKind::Text, Incoming::Text(t)) => Frame::Text(t.to_owned()),
            (MsgKind::Text, Incoming::Binary(b)) => {
                Frame::Text(String::from_utf8_lossy(b).into_owned())
            }
            (MsgKind::ValueTable, Incoming::Binary(b)) => match parse_value_table(b) {
                Ok(v) => Frame::Values(v),
                Err(e) => Frame::Unexpected(e.to_string()),
            },
            (MsgKind::TextTable, Incoming::Binary(b)) => match parse_text_table(b) {
                Ok(v) => Frame::Texts(v),
                Err(e) => Frame::Unexpected(e.to_string()),
            },
            (MsgKind::ValueTable | MsgKind::TextTable, Incoming::Text(_)) => {
                Frame::Unexpected("an event table arrived as a text message".into())
            }
            (kind, _) => Frame::Skipped(kind),
        })
    }
}

fn missing(kind: MsgKind) -> Frame {
    Frame::Unexpected(format!("the payload announced as {kind:?} never arrived"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `0f86a2fe-0378-3e15-ffff373f9870b52a` as it travels (loxone-api.md §6).
    const WIRE_UUID: [u8; 16] = [
        0xfe, 0xa2, 0x86, 0x0f, 0x78, 0x03, 0x15, 0x3e, 0xff, 0xff, 0x37, 0x3f, 0x98, 0x70, 0xb5,
        0x2a,
    ];

    fn doc_uuid() -> Uuid {
        Uuid::parse("0f86a2fe-0378-3e15-ffff373f9870b52a").unwrap()
    }

    fn exact_header(kind: u8, len: u32) -> [u8; 8] {
        let n = len.to_le_bytes();
        [0x03, kind, 0, 0, n[0], n[1], n[2], n[3]]
    }

    #[test]
    fn a_zero_length_header_is_a_whole_empty_message_with_or_without_an_empty_payload() {
        let mut f = Framer::new();
        // No payload follows (LxCommunicator's reading): the next header is not "missing".
        assert_eq!(
            f.feed(Incoming::Binary(&exact_header(2, 0))),
            Some(Frame::Values(vec![]))
        );
        assert_eq!(f.feed(Incoming::Binary(&exact_header(0, 2))), None);
        assert_eq!(f.feed(Incoming::Text("ok")), Some(Frame::Text("ok".into())));
        // An empty payload follows anyway: it belongs to the header, not "without a header".
        assert_eq!(
            f.feed(Incoming::Binary(&exact_header(0, 0))),
            Some(Frame::Text(String::new()))
        );
        assert_eq!(f.feed(Incoming::Text("")), None);
        assert_eq!(
            f.feed(Incoming::Binary(&exact_header(3, 0))),
            Some(Frame::Texts(vec![]))
        );
        assert_eq!(f.feed(Incoming::Binary(&[])), None);
        // Only one: a second empty message is reported.
        assert!(matches!(
            f.feed(Incoming::Binary(&[])),
            Some(Frame::Unexpected(_))
        ));
    }

    #[test]
    fn the_documented_uuid_decodes_from_its_mixed_endian_bytes() {
        assert_eq!(uuid_from_wire(&WIRE_UUID), doc_uuid());
    }

    #[test]
    fn a_24_byte_value_event_is_uuid_and_little_endian_f64() {
        let mut b = WIRE_UUID.to_vec();
        b.extend_from_slice(&21.5f64.to_le_bytes());
        b.extend_from_slice(&WIRE_UUID);
        b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0xf0, 0x3f]); // 1.0
        let v = parse_value_table(&b).unwrap();
        assert_eq!(v, vec![(doc_uuid(), 21.5), (doc_uuid(), 1.0)]);
        assert!(parse_value_table(&b[..23]).is_err());
        assert_eq!(parse_value_table(&[]).unwrap(), vec![]);
    }

    fn text_event(text: &str) -> Vec<u8> {
        let mut b = WIRE_UUID.to_vec();
        b.extend_from_slice(&[0u8; 16]);
        b.extend_from_slice(&(text.len() as u32).to_le_bytes());
        b.extend_from_slice(text.as_bytes());
        while !b.len().is_multiple_of(4) {
            b.push(0);
        }
        b
    }

    #[test]
    fn text_events_are_padded_to_four_bytes() {
        let mut b = text_event("hsv(0,100,100)"); // 14 bytes → 2 bytes padding
        b.extend(text_event("abcd")); // no padding
        b.extend(text_event("é")); // 2 bytes → 2 padding
        let t = parse_text_table(&b).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].uuid, doc_uuid());
        assert_eq!(t[0].text, "hsv(0,100,100)");
        assert_eq!(t[1].text, "abcd");
        assert_eq!(t[2].text, "é");
        assert_eq!(t[2].icon, Uuid::from_bytes([0; 16]));
    }

    #[test]
    fn a_text_event_longer_than_its_table_is_an_error() {
        let mut b = text_event("abcd");
        b[32] = 200;
        assert!(parse_text_table(&b).is_err());
        let mut b = text_event("abcd");
        b[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_text_table(&b).is_err());
        assert!(parse_text_table(&[0u8; 35]).is_err());
    }

    #[test]
    fn headers_carry_kind_length_and_the_estimated_bit() {
        let h = parse_header(&[3, 2, 0, 0, 48, 0, 0, 0]).unwrap();
        assert_eq!(h.kind, MsgKind::ValueTable);
        assert_eq!(h.len, 48);
        assert!(!h.estimated);
        let h = parse_header(&[3, 0, 0x80, 0, 0, 1, 0, 0]).unwrap();
        assert!(h.estimated);
        assert_eq!(h.len, 256);
        assert!(parse_header(&[2, 0, 0, 0, 0, 0, 0, 0]).is_none());
        assert!(parse_header(&[3, 0, 0, 0]).is_none());
    }

    #[test]
    fn the_framer_pairs_headers_with_payloads() {
        let mut f = Framer::new();
        assert_eq!(f.feed(Incoming::Binary(&[3, 0, 0, 0, 5, 0, 0, 0])), None);
        assert_eq!(
            f.feed(Incoming::Text("hello")),
            Some(Frame::Text("hello".into()))
        );
        assert_eq!(
            f.feed(Incoming::Binary(&[3, 6, 0, 0, 0, 0, 0, 0])),
            Some(Frame::Keepalive)
        );
        assert_eq!(
            f.feed(Incoming::Binary(&[3, 5, 0, 0, 0, 0, 0, 0])),
            Some(Frame::OutOfService)
        );
        let mut table = WIRE_UUID.to_vec();
        table.extend_from_slice(&2.0f64.to_le_bytes());
        assert_eq!(f.feed(Incoming::Binary(&[3, 2, 0, 0, 24, 0, 0, 0])), None);
        assert_eq!(
            f.feed(Incoming::Binary(&table)),
            Some(Frame::Values(vec![(doc_uuid(), 2.0)]))
        );
        // Daytimer and weather tables are skipped safely.
        assert_eq!(f.feed(Incoming::Binary(&[3, 4, 0, 0, 9, 0, 0, 0])), None);
        assert_eq!(
            f.feed(Incoming::Binary(&[1, 2, 3, 4, 5, 6, 7, 8, 9])),
            Some(Frame::Skipped(MsgKind::DaytimerTable))
        );
    }

    #[test]
    fn an_estimated_header_waits_for_the_exact_one() {
        let mut f = Framer::new();
        assert_eq!(
            f.feed(Incoming::Binary(&[3, 0, 0x80, 0, 99, 0, 0, 0])),
            None
        );
        assert_eq!(f.feed(Incoming::Binary(&[3, 0, 0, 0, 2, 0, 0, 0])), None);
        assert_eq!(f.feed(Incoming::Text("ok")), Some(Frame::Text("ok".into())));
        // Estimated header followed directly by the payload is tolerated.
        assert_eq!(
            f.feed(Incoming::Binary(&[3, 0, 0x80, 0, 99, 0, 0, 0])),
            None
        );
        assert_eq!(f.feed(Incoming::Text("ok")), Some(Frame::Text("ok".into())));
    }

    #[test]
    fn a_payload_without_header_and_a_missing_payload_are_reported() {
        let mut f = Framer::new();
        assert!(matches!(
            f.feed(Incoming::Text("stray")),
            Some(Frame::Unexpected(_))
        ));
        assert_eq!(f.feed(Incoming::Binary(&[3, 2, 0, 0, 24, 0, 0, 0])), None);
        assert!(matches!(
            f.feed(Incoming::Binary(&[3, 0, 0, 0, 2, 0, 0, 0])),
            Some(Frame::Unexpected(_))
        ));
        assert_eq!(f.feed(Incoming::Text("ok")), Some(Frame::Text("ok".into())));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic sweep until the fuzz target exists.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut f = Framer::new();
        for n in 0..4000usize {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 120) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|i| (seed.rotate_left(i as u32 % 64) & 0xff) as u8)
                .collect();
            let _ = parse_value_table(&bytes);
            let _ = parse_text_table(&bytes);
            let _ = parse_header(&bytes);
            let mut hdr = bytes.clone();
            if n % 3 == 0 && hdr.len() >= 8 {
                hdr.truncate(8);
                hdr[0] = 3;
            }
            let _ = f.feed(Incoming::Binary(&hdr));
        }
    }
}
