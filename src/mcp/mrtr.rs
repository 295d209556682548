//! The stateless era's `requestState`: a signed, short-lived, single-use ticket that lets a
//! retried `tools/call` carry the human's answer.
//!
//! Why so much care: the spec calls `requestState` attacker-controlled input, and here it
//! decides whether a door unlocks. The ticket is `v1.{payload}.{mac}` (base64url), the MAC is
//! HMAC-SHA256 under a per-process random key, verified in constant time *before* the payload
//! is even parsed. The payload binds the tool name, a SHA-256 of the canonical arguments, a
//! SHA-256 of the question asked (its `binding`: the facts without the words that only tell
//! time, so a person's accept survives "rang 12 s ago" becoming "rang 19 s ago"), the
//! principal (peer uid or session), an expiry (monotonic ms, short TTL) and a random nonce;
//! the [`NonceStore`] makes each ticket usable once. Any failure is a [`StateError`], which
//! the engine hands to the tool as `ElicitOutcome::InvalidState`: never an action.
//!
//! Pure apart from the key and nonce bytes the caller supplies: it takes `now` as a value.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::tool::ElicitRequest;
use crate::clock::Mono;

type HmacSha256 = Hmac<Sha256>;

const VERSION: &str = "v1";
const MAC_DOMAIN: &[u8] = b"loxwarden/mrtr/v1\0";
/// Longer tickets are refused before any decoding.
const MAX_STATE_LEN: usize = 4096;

/// The per-process HMAC key (32 random bytes from the OS).
pub struct StateKey([u8; 32]);

impl StateKey {
    pub fn random() -> Result<StateKey, getrandom::Error> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k)?;
        Ok(StateKey(k))
    }
    pub fn from_bytes(bytes: [u8; 32]) -> StateKey {
        StateKey(bytes)
    }
    fn mac(&self) -> HmacSha256 {
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        m.update(MAC_DOMAIN);
        m
    }
}

impl fmt::Debug for StateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateKey(..)")
    }
}

/// What a ticket is bound to.
#[derive(Clone, Copy, Debug)]
pub struct Binding<'a> {
    pub tool: &'a str,
    pub arguments: &'a Map<String, Value>,
    pub question: &'a ElicitRequest,
    pub principal: &'a str,
}

impl Binding<'_> {
    fn arguments_digest(&self) -> String {
        sha256_hex(canonical_json(&Value::Object(self.arguments.clone())).as_bytes())
    }
    fn question_digest(&self) -> String {
        let mut q = if self.question.binding.is_empty() {
            self.question.message.as_bytes().to_vec()
        } else {
            self.question.binding.as_bytes().to_vec()
        };
        q.push(0);
        q.extend_from_slice(self.question.title.as_bytes());
        sha256_hex(&q)
    }
}

/// Why a ticket was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateError {
    Malformed,
    BadSignature,
    Expired,
    WrongTool,
    WrongArguments,
    WrongQuestion,
    WrongPrincipal,
    Reused,
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateError::Malformed => "requestState is malformed",
            StateError::BadSignature => "requestState signature does not verify",
            StateError::Expired => "requestState has expired; ask again",
            StateError::WrongTool => "requestState was issued for another tool",
            StateError::WrongArguments => "requestState was issued for other arguments",
            StateError::WrongQuestion => "requestState was issued for another question",
            StateError::WrongPrincipal => "requestState was issued to another caller",
            StateError::Reused => "requestState was already used",
        })
    }
}

/// A verified ticket; `consume` it in the [`NonceStore`] before trusting the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket {
    pub nonce: [u8; 16],
    pub expires: Mono,
}

/// Signs a ticket for `binding`, valid until `now + ttl`.
pub fn issue(
    key: &StateKey,
    binding: &Binding<'_>,
    now: Mono,
    ttl: Duration,
    nonce: [u8; 16],
) -> String {
    let payload = json!({
        "t": binding.tool,
        "a": binding.arguments_digest(),
        "q": binding.question_digest(),
        "p": binding.principal,
        "x": now.plus(ttl).0,
        "n": hex(&nonce),
    });
    let payload_b64 = URL_SAFE_NO_PAD.encode(payload.to_string());
    let mut mac = key.mac();
    mac.update(payload_b64.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{VERSION}.{payload_b64}.{tag}")
}

/// Verifies signature, expiry and every binding. Does not consume the nonce.
pub fn verify(
    key: &StateKey,
    state: &str,
    binding: &Binding<'_>,
    now: Mono,
) -> Result<Ticket, StateError> {
    if state.len() > MAX_STATE_LEN {
        return Err(StateError::Malformed);
    }
    let mut parts = state.split('.');
    let (Some(VERSION), Some(payload_b64), Some(tag_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(StateError::Malformed);
    };
    let tag = URL_SAFE_NO_PAD
        .decode(tag_b64)
        .map_err(|_| StateError::Malformed)?;
    let mut mac = key.mac();
    mac.update(payload_b64.as_bytes());
    // Constant-time comparison (hmac's `verify_slice`).
    mac.verify_slice(&tag)
        .map_err(|_| StateError::BadSignature)?;

    let payload: Value = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(StateError::Malformed)?;
    let field = |k: &str| payload.get(k).and_then(Value::as_str);
    let expires = payload
        .get("x")
        .and_then(Value::as_u64)
        .map(Mono)
        .ok_or(StateError::Malformed)?;
    let nonce = field("n").and_then(unhex16).ok_or(StateError::Malformed)?;
    if now >= expires {
        return Err(StateError::Expired);
    }
    if field("t") != Some(binding.tool) {
        return Err(StateError::WrongTool);
    }
    if field("a") != Some(binding.arguments_digest().as_str()) {
        return Err(StateError::WrongArguments);
    }
    if field("q") != Some(binding.question_digest().as_str()) {
        return Err(StateError::WrongQuestion);
    }
    if field("p") != Some(binding.principal) {
        return Err(StateError::WrongPrincipal);
    }
    Ok(Ticket { nonce, expires })
}

/// Nonces of tickets already used, kept until the ticket would have expired anyway.
#[derive(Debug, Default)]
pub struct NonceStore {
    used: HashMap<[u8; 16], Mono>,
}

impl NonceStore {
    /// Marks the ticket used; `Err(Reused)` if it was already. Prunes expired entries.
    pub fn consume(&mut self, ticket: Ticket, now: Mono) -> Result<(), StateError> {
        self.used.retain(|_, expires| *expires > now);
        if self.used.contains_key(&ticket.nonce) {
            return Err(StateError::Reused);
        }
        self.used.insert(ticket.nonce, ticket.expires);
        Ok(())
    }
    pub fn len(&self) -> usize {
        self.used.len()
    }
    pub fn is_empty(&self) -> bool {
        self.used.is_empty()
    }
}

/// JSON with object keys sorted at every level, so equal arguments hash equally however the
/// client ordered them.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(k) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex16(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(120);

    fn question() -> ElicitRequest {
        ElicitRequest {
            message: "Unlock Front door now?".into(),
            title: "Unlock Front door".into(),
            binding: String::new(),
        }
    }

    fn args(door: &str) -> Map<String, Value> {
        json!({"door": door, "seconds": 30})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    struct Fixture {
        key: StateKey,
        args: Map<String, Value>,
        q: ElicitRequest,
        now: Mono,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                key: StateKey::from_bytes([7; 32]),
                args: args("front"),
                q: question(),
                now: Mono(1_000_000),
            }
        }
        fn binding(&self) -> Binding<'_> {
            Binding {
                tool: "unlock_door",
                arguments: &self.args,
                question: &self.q,
                principal: "uid:1000",
            }
        }
        fn state(&self) -> String {
            issue(&self.key, &self.binding(), self.now, TTL, [9; 16])
        }
    }

    #[test]
    fn the_state_key_never_shows_its_bytes_in_debug_output() {
        // Debug output reaches logs; the key signs every requestState (R-12).
        let key = StateKey::from_bytes([0xab; 32]);
        assert_eq!(format!("{key:?}"), "StateKey(..)");
    }

    #[test]
    fn a_fresh_ticket_verifies_once_and_then_counts_as_reused() {
        let f = Fixture::new();
        let state = f.state();
        let mut store = NonceStore::default();
        let t = verify(&f.key, &state, &f.binding(), f.now).expect("valid");
        assert_eq!(store.consume(t, f.now), Ok(()));
        let t = verify(&f.key, &state, &f.binding(), f.now).expect("still signed");
        assert_eq!(store.consume(t, f.now), Err(StateError::Reused));
    }

    #[test]
    fn argument_order_does_not_matter_but_values_do() {
        let f = Fixture::new();
        let state = f.state();
        let reordered: Map<String, Value> =
            serde_json::from_str(r#"{"seconds":30,"door":"front"}"#).unwrap();
        let b = Binding {
            arguments: &reordered,
            ..f.binding()
        };
        assert!(verify(&f.key, &state, &b, f.now).is_ok());
        let other = args("back");
        let b = Binding {
            arguments: &other,
            ..f.binding()
        };
        assert_eq!(
            verify(&f.key, &state, &b, f.now),
            Err(StateError::WrongArguments)
        );
    }

    #[test]
    fn a_ticket_for_another_tool_question_or_principal_is_refused() {
        let f = Fixture::new();
        let state = f.state();
        let b = Binding {
            tool: "disarm_alarm",
            ..f.binding()
        };
        assert_eq!(
            verify(&f.key, &state, &b, f.now),
            Err(StateError::WrongTool)
        );
        let q = ElicitRequest {
            message: "Unlock Back door now?".into(),
            ..question()
        };
        let b = Binding {
            question: &q,
            ..f.binding()
        };
        assert_eq!(
            verify(&f.key, &state, &b, f.now),
            Err(StateError::WrongQuestion)
        );
        let b = Binding {
            principal: "uid:1001",
            ..f.binding()
        };
        assert_eq!(
            verify(&f.key, &state, &b, f.now),
            Err(StateError::WrongPrincipal)
        );
    }

    #[test]
    fn a_ticket_expires_after_its_ttl() {
        let f = Fixture::new();
        let state = f.state();
        let just_before = f.now.plus(TTL - Duration::from_millis(1));
        assert!(verify(&f.key, &state, &f.binding(), just_before).is_ok());
        assert_eq!(
            verify(&f.key, &state, &f.binding(), f.now.plus(TTL)),
            Err(StateError::Expired)
        );
    }

    #[test]
    fn a_ticket_longer_than_the_cap_is_refused_even_when_validly_signed() {
        // The cap bounds the work an attacker-controlled `requestState` can cause; it must hold
        // before anything else, so even a ticket signed with our own key is refused when the
        // payload was padded past it.
        let f = Fixture::new();
        let state = f.state();
        let padded = padded_ticket(&f, &state, MAX_STATE_LEN);
        assert!(padded.len() > MAX_STATE_LEN);
        assert_eq!(
            verify(&f.key, &padded, &f.binding(), f.now),
            Err(StateError::Malformed)
        );
        assert!(verify(&f.key, &state, &f.binding(), f.now).is_ok());
        // Exactly at the cap the ticket is read, and judged by its signature. (No signed ticket
        // is exactly 4096 long: unpadded base64 is never 1 more than a multiple of 4. So one a
        // character short gets a 44-character tag: a valid encoding, a wrong signature.)
        let short = (0..MAX_STATE_LEN)
            .map(|n| padded_ticket(&f, &state, n))
            .find(|t| t.len() == MAX_STATE_LEN - 1)
            .expect("some padding lands one short of the cap");
        assert!(verify(&f.key, &short, &f.binding(), f.now).is_ok());
        let at_cap = format!("{short}A");
        assert_eq!(
            verify(&f.key, &at_cap, &f.binding(), f.now),
            Err(StateError::BadSignature)
        );
    }

    /// `state`'s payload with a `pad` of `n` characters, signed again with the fixture's key.
    fn padded_ticket(f: &Fixture, state: &str, n: usize) -> String {
        let payload_b64 = state.split('.').nth(1).unwrap();
        let mut payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload_b64).unwrap()).unwrap();
        payload["pad"] = json!("A".repeat(n));
        let padded_b64 = URL_SAFE_NO_PAD.encode(payload.to_string());
        let mut mac = f.key.mac();
        mac.update(padded_b64.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{VERSION}.{padded_b64}.{tag}")
    }

    #[test]
    fn a_nonce_of_the_wrong_length_or_not_ascii_is_malformed_not_a_panic() {
        let ok = "00112233445566778899aabbccddeeff";
        assert_eq!(unhex16(ok).map(|n| n[15]), Some(0xff));
        for bad in [
            "",
            "0011",
            &ok[..31],
            &format!("{ok}0"),
            &"é".repeat(16), // 32 bytes, not ASCII
            "0011223344556677889900aabbccddzz",
        ] {
            assert_eq!(unhex16(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn any_tampering_breaks_the_signature() {
        let f = Fixture::new();
        let state = f.state();
        // Flip every character of the payload and tag in turn.
        for i in 3..state.len() {
            let mut bytes = state.clone().into_bytes();
            if bytes[i] == b'.' {
                continue;
            }
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            if tampered == state {
                continue;
            }
            let r = verify(&f.key, &tampered, &f.binding(), f.now);
            assert!(
                matches!(r, Err(StateError::BadSignature | StateError::Malformed)),
                "position {i}: {r:?}"
            );
        }
        // A payload re-signed with another key.
        let other = StateKey::from_bytes([8; 32]);
        let forged = issue(&other, &f.binding(), f.now, TTL, [9; 16]);
        assert_eq!(
            verify(&f.key, &forged, &f.binding(), f.now),
            Err(StateError::BadSignature)
        );
        // An unsigned payload that claims a far expiry.
        let (_, rest) = state.split_once('.').unwrap();
        let (_, tag) = rest.split_once('.').unwrap();
        let evil = URL_SAFE_NO_PAD.encode(
            json!({"t":"unlock_door","a":"","q":"","p":"uid:1000","x":u64::MAX,"n":"00"})
                .to_string(),
        );
        assert_eq!(
            verify(&f.key, &format!("v1.{evil}.{tag}"), &f.binding(), f.now),
            Err(StateError::BadSignature)
        );
        for junk in ["", "v1", "v1..", "v2.a.b", "v1.a.b.c", &"x".repeat(10_000)] {
            assert!(verify(&f.key, junk, &f.binding(), f.now).is_err(), "{junk}");
        }
    }

    #[test]
    fn used_nonces_are_forgotten_only_after_their_ticket_expired() {
        let mut store = NonceStore::default();
        let now = Mono(1000);
        let t = Ticket {
            nonce: [1; 16],
            expires: Mono(2000),
        };
        store.consume(t, now).unwrap();
        assert_eq!(store.consume(t, Mono(1999)), Err(StateError::Reused));
        store
            .consume(
                Ticket {
                    nonce: [2; 16],
                    expires: Mono(5000),
                },
                Mono(2000),
            )
            .unwrap();
        assert_eq!(store.len(), 1, "the expired entry was pruned");
        store
            .consume(
                Ticket {
                    nonce: [3; 16],
                    expires: Mono(5000),
                },
                Mono(2001),
            )
            .unwrap();
        assert_eq!(store.len(), 2, "both live tickets are remembered");
        assert!(!store.is_empty());
        assert!(NonceStore::default().is_empty());
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a: Value =
            serde_json::from_str(r#"{"b":{"y":1,"x":[{"d":2,"c":3},4,[5,6]]},"a":"é"}"#).unwrap();
        assert_eq!(
            canonical_json(&a),
            r#"{"a":"é","b":{"x":[{"c":3,"d":2},4,[5,6]],"y":1}}"#
        );
        // Elements stay apart: [1,2] and [12] are different arguments, bound differently.
        assert_ne!(canonical_json(&json!([1, 2])), canonical_json(&json!([12])));
    }
}
