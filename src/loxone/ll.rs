//! The Miniserver's reply envelope, `{"LL":{"control":…,"value":…,"Code":"200"}}`, and the
//! single-quoted pseudo-JSON inside `jdev/cfg/apiKey`.
//!
//! Why a parser of its own: the device writes `Code` for some endpoints and `code` for others,
//! as a string or a number (decision 12), answers HTTP 200 with `Code` 401 inside, and answers an
//! HTTP-level 401 with an HTML page. The caller must see the Miniserver's *real* code every time
//! (house rule 1), so every shape lands in one [`LlReply`] with a numeric code, and anything
//! else is a [`LlError`] that says what arrived. Pure and panic-free: it reads untrusted bytes.

use std::fmt;

use serde_json::Value;

/// One parsed reply.
#[derive(Clone, Debug, PartialEq)]
pub struct LlReply {
    /// The command the Miniserver says it answered (`dev/…` even for `jdev/…`).
    pub control: String,
    /// The LL code (200 = OK). From the HTML error page when there was no envelope.
    pub code: u16,
    /// The value: a string, number or object, as sent. `Null` for an HTML error page.
    pub value: Value,
}

impl LlReply {
    pub fn is_ok(&self) -> bool {
        self.code == 200
    }

    /// The value as text: strings as they are, numbers and objects as JSON.
    pub fn value_text(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    /// The value as an object, also when the device sent the object as a JSON string.
    pub fn value_object(&self) -> Option<serde_json::Map<String, Value>> {
        match &self.value {
            Value::Object(m) => Some(m.clone()),
            Value::String(s) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(m)) => Some(m),
                _ => None,
            },
            _ => None,
        }
    }
}

/// A body that is not a Miniserver reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LlError(pub String);

impl fmt::Display for LlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a Miniserver reply: {}", self.0)
    }
}

impl std::error::Error for LlError {}

/// Parses a reply body: the JSON envelope, or the HTML page the device sends for HTTP errors
/// (`<errorcode>401</errorcode>`).
pub fn parse(body: &str) -> Result<LlReply, LlError> {
    let trimmed = body.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('{') {
        let v: Value =
            serde_json::from_str(trimmed).map_err(|e| LlError(format!("invalid JSON ({e})")))?;
        let ll = v
            .get("LL")
            .and_then(Value::as_object)
            .ok_or_else(|| LlError("JSON without an \"LL\" object".into()))?;
        let code_field = ll
            .get("Code")
            .or_else(|| ll.get("code"))
            .ok_or_else(|| LlError("LL without Code".into()))?;
        let code = code_of(code_field).ok_or_else(|| {
            LlError(format!(
                "LL code {} is not a number",
                clip(&code_field.to_string())
            ))
        })?;
        let control = match ll.get("control") {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let value = ll.get("value").cloned().unwrap_or(Value::Null);
        return Ok(LlReply {
            control,
            code,
            value,
        });
    }
    if let Some(code) = html_error_code(trimmed) {
        return Ok(LlReply {
            control: String::new(),
            code,
            value: Value::Null,
        });
    }
    Err(LlError(format!("unexpected body {:?}", clip(trimmed))))
}

fn code_of(v: &Value) -> Option<u16> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `<errorcode>401</errorcode>` in the device's HTML error page.
fn html_error_code(body: &str) -> Option<u16> {
    let lower = body.to_ascii_lowercase();
    let start = lower.find("<errorcode>")? + "<errorcode>".len();
    let end = start + lower.get(start..)?.find("</errorcode>")?;
    body.get(start..end)?.trim().parse().ok()
}

/// The first 80 characters, for error messages.
fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

/// What `jdev/cfg/apiKey` (or `jdev/cfg/api`) says about the Miniserver (decision 11).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiInfo {
    /// Serial number / MAC, e.g. `50:4F:94:10:B8:4A`.
    pub snr: String,
    /// Firmware version, e.g. `16.0.6.17`.
    pub version: String,
    /// 0 or absent = no TLS (Gen 1), 1 = TLS available, 2 = certificate expired (CWM).
    pub https_status: Option<i64>,
    /// Whether the Miniserver deems this connection local (12.1+).
    pub local: Option<bool>,
    /// Whether live-status slots are free (`jdev/cfg/api`).
    pub has_event_slots: Option<bool>,
}

impl ApiInfo {
    /// True when the Miniserver offers TLS (httpsStatus 1 or 2).
    pub fn offers_tls(&self) -> bool {
        matches!(self.https_status, Some(1) | Some(2))
    }

    /// The serial without separators, as used in CloudDNS names (`504F9410B84A`).
    pub fn serial_compact(&self) -> String {
        self.snr
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect()
    }
}

/// Parses the single-quoted pseudo-JSON of `cfg/apiKey` leniently: `'key': 'value'`,
/// `'key':1`, `"key":true`, in any order, unknown keys ignored.
pub fn parse_api_info(text: &str) -> ApiInfo {
    let mut info = ApiInfo::default();
    for (k, v) in pseudo_json_pairs(text) {
        match k.as_str() {
            "snr" => info.snr = v,
            "version" => info.version = v,
            "httpsStatus" => info.https_status = v.trim().parse().ok(),
            "local" => info.local = parse_bool(&v),
            "hasEventSlots" => info.has_event_slots = parse_bool(&v),
            _ => {}
        }
    }
    info
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Splits `{'a': 'x', 'b':1}` into `("a","x"), ("b","1")`. Values are strings in either quote
/// or bare tokens up to `,` or `}`. Never panics; garbage yields fewer pairs.
fn pseudo_json_pairs(text: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && (chars[*i].is_whitespace() || chars[*i] == '{') {
            *i += 1;
        }
    };
    let quoted = |i: &mut usize| -> Option<String> {
        let q = *chars.get(*i)?;
        if q != '\'' && q != '"' {
            return None;
        }
        *i += 1;
        let mut s = String::new();
        while *i < chars.len() && chars[*i] != q {
            s.push(chars[*i]);
            *i += 1;
        }
        *i += 1;
        Some(s)
    };
    while i < chars.len() {
        skip_ws(&mut i);
        let Some(key) = quoted(&mut i) else { break };
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if chars.get(i) != Some(&':') {
            break;
        }
        i += 1;
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let value = match quoted(&mut i) {
            Some(v) => v,
            None => {
                let mut s = String::new();
                while i < chars.len() && chars[i] != ',' && chars[i] != '}' {
                    s.push(chars[i]);
                    i += 1;
                }
                s.trim().to_owned()
            }
        };
        out.push((key, value));
        while i < chars.len() && chars[i] != ',' {
            if chars[i] == '}' {
                return out;
            }
            i += 1;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let p = format!(
            "{}/tests/fixtures/loxone/messages/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(p).unwrap()
    }

    #[test]
    fn the_getkey2_fixture_has_code_200_as_a_number() {
        let r = parse(&fixture("loxone-java-smarteon-getKeyMessage.json")).unwrap();
        assert_eq!(r.code, 200);
        assert_eq!(r.control, "jdev/sys/getkey2/showroom");
        let v = r.value_object().unwrap();
        assert_eq!(v["hashAlg"], "SHA1");
    }

    #[test]
    fn the_401_fixture_has_code_401_as_a_string() {
        let r = parse(&fixture("loxone-java-smarteon-getToken401.json")).unwrap();
        assert_eq!(r.code, 401);
        assert!(!r.is_ok());
    }

    #[test]
    fn extra_fields_beside_the_envelope_are_ignored() {
        let r = parse(&fixture("loxone-java-smarteon-alarmAll.json")).unwrap();
        assert_eq!(r.code, 200);
        assert_eq!(r.value_text(), "0.000");
    }

    #[test]
    fn capitalised_string_code_and_number_values_are_read() {
        let r = parse(r#"{"LL":{"control":"dev/sps/io/x/75","value":75,"Code":"200"}}"#).unwrap();
        assert_eq!(r.code, 200);
        assert_eq!(r.value_text(), "75");
        let r = parse(r#"{"LL":{"control":"","value":"","Code":"420"}}"#).unwrap();
        assert_eq!(r.code, 420);
    }

    #[test]
    fn the_html_401_page_becomes_code_401() {
        let html = "<html><head><title>error</title></head><body><errorcode>401</errorcode> <errordetail>Unauthorized</errordetail></body></html>";
        let r = parse(html).unwrap();
        assert_eq!(r.code, 401);
        assert_eq!(r.value, Value::Null);
    }

    #[test]
    fn garbage_is_an_error_that_shows_what_arrived() {
        for bad in [
            "",
            "hello",
            "{",
            "{}",
            r#"{"LL":{}}"#,
            r#"{"LL":{"Code":"abc"}}"#,
            r#"{"LL":{"Code":99999999}}"#,
            "<errorcode>x</errorcode>",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn api_info_reads_both_fixture_generations() {
        let v: String =
            serde_json::from_str(&fixture("loxone-java-smarteon-apiInfo.json")).unwrap();
        let i = parse_api_info(&v);
        assert_eq!(i.snr, "50:4F:94:10:B8:4A");
        assert_eq!(i.version, "9.1.10.30");
        assert_eq!(i.https_status, None);
        assert!(!i.offers_tls());
        let v: String =
            serde_json::from_str(&fixture("loxone-java-smarteon-apiInfo103.json")).unwrap();
        let i = parse_api_info(&v);
        assert_eq!(i.version, "10.3.11.25");
        assert_eq!(i.has_event_slots, Some(true));
        assert_eq!(i.serial_compact(), "EEE000D80B0E");
    }

    #[test]
    fn api_info_reads_https_status_and_local() {
        let i = parse_api_info(
            "{'snr': '12:34:56:78:9A:BC', 'version':'12.0.2.24', 'key':'1234', 'httpsStatus':1, 'local':true}",
        );
        assert_eq!(i.https_status, Some(1));
        assert_eq!(i.local, Some(true));
        assert!(i.offers_tls());
        for junk in ["", "{", "{'a'", "{'a':", "'''", "{'snr':'x',,,}"] {
            let _ = parse_api_info(junk);
        }
    }
}
