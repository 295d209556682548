//! A minimal Loxone client written in the test suite itself, from the documented steps (CWM
//! v16.0 and the architecture's protocol decisions) — deliberately *not* the project's client,
//! and built on different primitives than the simulator (the `cbc` and `hmac` crates here, the
//! simulator's own CBC and HMAC there), so a shared mistake cannot hide.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

// ------------------------------------------------------------------ encoding helpers

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Percent-encode everything except `A–Z a–z 0–9 - _ . ~` (decision 1).
pub fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).unwrap();
    b
}

/// The 8-4-4-16 text of a UUID read from an event table (CWM "The UUID": Data1, Data2, Data3
/// little-endian, Data4 bytes in order).
pub fn uuid_from_le(b: &[u8]) -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{}",
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_le_bytes([b[4], b[5]]),
        u16::from_le_bytes([b[6], b[7]]),
        hex(&b[8..16])
    )
}

/// A value-event table → (uuid, value) pairs.
pub fn parse_values(t: &[u8]) -> Vec<(String, f64)> {
    assert!(t.len().is_multiple_of(24), "value tables are n × 24 bytes");
    t.chunks(24)
        .map(|e| {
            (
                uuid_from_le(&e[..16]),
                f64::from_le_bytes(e[16..24].try_into().unwrap()),
            )
        })
        .collect()
}

/// A text-event table → (uuid, text) pairs (entries padded to multiples of 4).
pub fn parse_texts(t: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let uuid = uuid_from_le(&t[i..i + 16]);
        let len = u32::from_le_bytes(t[i + 32..i + 36].try_into().unwrap()) as usize;
        let text = String::from_utf8(t[i + 36..i + 36 + len].to_vec()).unwrap();
        out.push((uuid, text));
        i += (36 + len).div_ceil(4) * 4;
    }
    out
}

// ------------------------------------------------------------------ crypto, per the documents

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Alg {
    Sha1,
    Sha256,
}

impl Alg {
    pub fn from_reply(v: &Value) -> Alg {
        match v["hashAlg"].as_str() {
            Some("SHA256") => Alg::Sha256,
            _ => Alg::Sha1,
        }
    }
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        match self {
            Alg::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Alg::Sha256 => sha2::Sha256::digest(data).to_vec(),
        }
    }
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        use hmac::{KeyInit, Mac};
        match self {
            Alg::Sha1 => {
                let mut m = hmac::Hmac::<sha1::Sha1>::new_from_slice(key).unwrap();
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            Alg::Sha256 => {
                let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
        }
    }
}

/// CWM "Acquiring tokens": `hash = HMAC(hex_decode(key), "{user}:" + UPPER(hex(H("{pw}:{salt}"))))`.
pub fn login_hash(reply: &Value, user: &str, password: &str) -> String {
    let alg = Alg::from_reply(reply);
    let key = unhex(reply["key"].as_str().unwrap());
    let salt = reply["salt"].as_str().unwrap();
    let pw = hex(&alg.digest(format!("{password}:{salt}").as_bytes())).to_uppercase();
    hex(&alg.hmac(&key, format!("{user}:{pw}").as_bytes()))
}

/// CWM "Secured Commands": `HMAC(hex_decode(key), UPPER(hex(H("{visuPw}:{salt}"))))`.
pub fn visu_hash(reply: &Value, visu: &str) -> String {
    let alg = Alg::from_reply(reply);
    let key = unhex(reply["key"].as_str().unwrap());
    let salt = reply["salt"].as_str().unwrap();
    let pw = hex(&alg.digest(format!("{visu}:{salt}").as_bytes())).to_uppercase();
    hex(&alg.hmac(&key, pw.as_bytes()))
}

/// AES-256-CBC session key, encrypted to the Miniserver's RSA key (decision 2).
pub struct Session {
    pub key: [u8; 32],
    pub iv: [u8; 16],
    /// base64(RSA-PKCS#1v1.5("{hex(key)}:{hex(iv)}")).
    pub rsa_b64: String,
    /// The salt of every command sealed with this key: a change needs `nextSalt` (CWM
    /// "Command Encryption", HTTP step 14a).
    pub salt: String,
}

impl Session {
    /// `public_key_reply` is the `getPublicKey` value with its `BEGIN CERTIFICATE` markers.
    pub fn new(public_key_reply: &str) -> Session {
        use rsa::pkcs8::DecodePublicKey;
        let b64 = public_key_reply
            .replace("-----BEGIN CERTIFICATE-----", "")
            .replace("-----END CERTIFICATE-----", "");
        let der = B64.decode(b64.trim()).unwrap();
        let public = rsa::PublicKey::from_public_key_der(&der).unwrap();
        let key = random::<32>();
        let iv = random::<16>();
        let ct = public
            .pkcs1v15_encrypt(format!("{}:{}", hex(&key), hex(&iv)).as_bytes())
            .unwrap();
        Session {
            key,
            iv,
            rsa_b64: B64.encode(ct),
            salt: hex(&random::<16>()),
        }
    }

    /// base64(AES-CBC(text + NUL, zero padded)) — decision 1, with the `cbc` crate.
    pub fn encrypt(&self, text: &str) -> String {
        use cbc::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::NoPadding};
        let mut data = text.as_bytes().to_vec();
        data.push(0);
        while !data.len().is_multiple_of(16) {
            data.push(0);
        }
        let len = data.len();
        let enc = cbc::Encryptor::<aes::Aes256>::new(&self.key.into(), &self.iv.into());
        let ct = enc
            .encrypt_padded::<NoPadding>(&mut data, len)
            .unwrap()
            .to_vec();
        B64.encode(ct)
    }

    pub fn decrypt(&self, b64: &str) -> String {
        use cbc::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::NoPadding};
        let mut data = B64.decode(b64).unwrap();
        let dec = cbc::Decryptor::<aes::Aes256>::new(&self.key.into(), &self.iv.into());
        let pt = dec.decrypt_padded::<NoPadding>(&mut data).unwrap().to_vec();
        String::from_utf8(pt)
            .unwrap()
            .trim_end_matches('\0')
            .to_string()
    }

    /// `jdev/sys/enc/{urlenc(base64(AES("salt/{salt}/{cmd}")))}` (decisions 3 and 4).
    pub fn enc_path(&self, cmd: &str, full: bool) -> String {
        let cipher = self.encrypt(&format!("salt/{}/{cmd}", self.salt));
        let verb = if full { "fenc" } else { "enc" };
        format!("jdev/sys/{verb}/{}", urlenc(&cipher))
    }

    /// The HTTP form with `?sk=` (decision 3).
    pub fn http_enc_path(&self, cmd: &str, full: bool) -> String {
        format!("{}?sk={}", self.enc_path(cmd, full), urlenc(&self.rsa_b64))
    }
}

// ------------------------------------------------------------------ HTTP

/// A raw HTTP/1.1 GET; returns (status, headers, body). One request per connection.
pub fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    get_with(addr, path, &[])
}

pub fn get_with(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("GET /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    split_response(&raw)
}

pub fn split_response(raw: &[u8]) -> (u16, String, String) {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

/// GET and parse the LL envelope; panics unless HTTP 200.
pub fn get_ll(addr: SocketAddr, path: &str) -> Value {
    let (status, _, body) = get(addr, path);
    assert_eq!(status, 200, "{path}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    v["LL"].clone()
}

/// The LL code whether spelt `Code`/`code`, string or number.
pub fn code(ll: &Value) -> u16 {
    let c = if ll.get("Code").is_some() {
        &ll["Code"]
    } else {
        &ll["code"]
    };
    match c {
        Value::String(s) => s.parse().unwrap(),
        Value::Number(n) => n.as_u64().unwrap() as u16,
        other => panic!("no code in {other}"),
    }
}

// ------------------------------------------------------------------ websocket

pub type Stream = Box<dyn ReadWrite + Send>;
pub trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// What a header announced and what followed.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Text(String),
    Values(Vec<(String, f64)>),
    Texts(Vec<(String, String)>),
    Keepalive,
    OutOfService,
    /// A text frame without a preceding header (the 420 message may come like this).
    BareText(String),
    Closed,
}

pub struct Client {
    pub ws: WebSocket<Stream>,
    pub tcp: TcpStream,
    pending: Option<Message>,
    /// The latest value of every state seen in a value table.
    pub values: std::collections::HashMap<String, f64>,
}

fn request(url: &str) -> tungstenite::handshake::client::Request {
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "remotecontrol".parse().unwrap());
    req
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let tcp = TcpStream::connect(addr).unwrap();
        let keep = tcp.try_clone().unwrap();
        let stream: Stream = Box::new(tcp);
        let (ws, resp) =
            tungstenite::client::client(request(&format!("ws://{addr}/ws/rfc6455")), stream)
                .unwrap();
        assert_eq!(
            resp.headers()
                .get("Sec-WebSocket-Protocol")
                .map(|v| v.to_str().unwrap()),
            Some("remotecontrol")
        );
        keep.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Client {
            ws,
            tcp: keep,
            pending: None,
            values: Default::default(),
        }
    }

    /// Connects over TLS, trusting only `ca_pem`, to `host` (SNI and name check).
    pub fn connect_tls(addr: SocketAddr, ca_pem: &str, host: &str) -> (Client, Vec<u8>) {
        let (tls, cert) = tls_stream(addr, ca_pem, host);
        let tcp = tls.sock.try_clone().unwrap();
        let stream: Stream = Box::new(tls);
        let (ws, _) =
            tungstenite::client::client(request(&format!("wss://{host}/ws/rfc6455")), stream)
                .unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        (
            Client {
                ws,
                tcp,
                pending: None,
                values: Default::default(),
            },
            cert,
        )
    }

    pub fn send(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.to_string().into()))
            .unwrap();
    }

    fn frame(&mut self) -> Option<Message> {
        if let Some(m) = self.pending.take() {
            return match m {
                Message::Close(_) => None,
                m => Some(m),
            };
        }
        loop {
            match self.ws.read() {
                Ok(Message::Ping(_) | Message::Pong(_)) => continue,
                Ok(Message::Close(_)) => return None,
                Ok(m) => return Some(m),
                Err(_) => return None,
            }
        }
    }

    /// Whether anything arrives within `wait`; `None` when the socket stayed silent.
    pub fn next_within(&mut self, wait: Duration) -> Option<Msg> {
        self.tcp.set_read_timeout(Some(wait)).unwrap();
        let first = loop {
            match self.ws.read() {
                Ok(Message::Ping(_) | Message::Pong(_)) => continue,
                Ok(m) => break Some(m),
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    break None;
                }
                Err(_) => break Some(Message::Close(None)),
            }
        };
        self.tcp
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let m = first?;
        self.pending = Some(m);
        Some(self.next())
    }

    /// Reads one header and its payload (CWM "Message Header").
    pub fn next(&mut self) -> Msg {
        let Some(m) = self.frame() else {
            return Msg::Closed;
        };
        let h = match m {
            Message::Binary(b) => b.to_vec(),
            Message::Text(t) => return Msg::BareText(t.to_string()),
            other => panic!("unexpected frame {other:?}"),
        };
        assert_eq!(h.len(), 8, "a header is 8 bytes: {h:?}");
        assert_eq!(h[0], 0x03);
        let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize;
        match h[1] {
            5 => return Msg::OutOfService,
            6 => {
                assert_eq!(len, 0);
                return Msg::Keepalive;
            }
            _ => {}
        }
        let Some(payload) = self.frame() else {
            return Msg::Closed;
        };
        match (h[1], payload) {
            (0, Message::Text(t)) => {
                assert_eq!(t.len(), len, "header length = payload length");
                Msg::Text(t.to_string())
            }
            (2, Message::Binary(b)) => {
                assert_eq!(b.len(), len);
                let vs = parse_values(&b);
                for (u, v) in &vs {
                    self.values.insert(u.clone(), *v);
                }
                Msg::Values(vs)
            }
            (3, Message::Binary(b)) => {
                assert_eq!(b.len(), len);
                Msg::Texts(parse_texts(&b))
            }
            (id, p) => panic!("header id {id} followed by {p:?}"),
        }
    }

    /// Reads until a text reply; event tables on the way are returned too.
    pub fn reply(&mut self) -> (Value, Vec<Msg>) {
        let mut other = Vec::new();
        loop {
            match self.next() {
                Msg::Text(t) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v.get("LL").is_some() {
                        return (v["LL"].clone(), other);
                    }
                    return (v, other);
                }
                Msg::Closed => panic!("socket closed while waiting for a reply; got {other:?}"),
                m => other.push(m),
            }
        }
    }

    pub fn call(&mut self, cmd: &str) -> Value {
        self.send(cmd);
        self.reply().0
    }

    /// Waits (up to `within`) until the latest value of `uuid` this client has seen in any
    /// value table satisfies `pred`.
    pub fn wait_value(&mut self, uuid: &str, within: Duration, pred: impl Fn(f64) -> bool) -> f64 {
        let end = Instant::now() + within;
        loop {
            if let Some(&v) = self.values.get(uuid)
                && pred(v)
            {
                return v;
            }
            assert!(Instant::now() < end, "no matching value for {uuid}");
            if self.next() == Msg::Closed {
                panic!("closed while waiting for {uuid}");
            }
        }
    }
}

/// A rustls client stream trusting only `ca_pem`; also returns the leaf certificate seen.
pub fn tls_stream(
    addr: SocketAddr,
    ca_pem: &str,
    host: &str,
) -> (
    rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    Vec<u8>,
) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn = rustls::ClientConnection::new(
        Arc::new(cfg),
        ServerName::try_from(host.to_string()).unwrap(),
    )
    .unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut s = rustls::StreamOwned::new(conn, tcp);
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock).unwrap();
    }
    let cert = s.conn.peer_certificates().unwrap()[0].to_vec();
    (s, cert)
}

/// A raw HTTPS GET through [`tls_stream`].
pub fn get_tls(addr: SocketAddr, ca_pem: &str, host: &str, path: &str) -> (u16, String, String) {
    let (mut s, _) = tls_stream(addr, ca_pem, host);
    let req = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    split_response(&raw)
}

// ------------------------------------------------------------------ a whole login

/// The result of the documented HTTP login (getPublicKey → getkey2 → encrypted getjwt).
pub struct Login {
    pub session: Session,
    pub token: String,
    pub alg: Alg,
    pub reply: Value,
}

/// Client identifier in the documented 8-4-4-16 shape.
pub const CLIENT_UUID: &str = "098802e1-02b4-603c-ffffeee000d80cfd";

pub fn http_login(addr: SocketAddr, user: &str, password: &str) -> Login {
    let pk = get_ll(addr, "jdev/sys/getPublicKey");
    let session = Session::new(pk["value"].as_str().unwrap());
    let k2 = get_ll(addr, &format!("jdev/sys/getkey2/{user}"));
    let alg = Alg::from_reply(&k2["value"]);
    let hash = login_hash(&k2["value"], user, password);
    let cmd = format!("jdev/sys/getjwt/{hash}/{user}/4/{CLIENT_UUID}/it%20test");
    let ll = get_ll(addr, &session.http_enc_path(&cmd, false));
    assert_eq!(code(&ll), 200, "getjwt: {ll}");
    let token = ll["value"]["token"].as_str().unwrap().to_string();
    Login {
        session,
        token,
        alg,
        reply: ll,
    }
}

/// `HMAC(hex_decode(getkey), token)` with the login's algorithm.
pub fn token_hash(key_hex: &str, token: &str, alg: Alg) -> String {
    hex(&alg.hmac(&unhex(key_hex), token.as_bytes()))
}

/// An authenticated websocket: keyexchange → getkey → encrypted authwithtoken (decision 8).
pub fn ws_login(addr: SocketAddr, login: &Login, user: &str) -> Client {
    let mut c = Client::connect(addr);
    let kx = c.call(&format!("jdev/sys/keyexchange/{}", login.session.rsa_b64));
    assert_eq!(code(&kx), 200, "keyexchange: {kx}");
    let key = c.call("jdev/sys/getkey");
    let h = token_hash(key["value"].as_str().unwrap(), &login.token, login.alg);
    let auth = c.call(
        &login
            .session
            .enc_path(&format!("authwithtoken/{h}/{user}"), false),
    );
    assert_eq!(code(&auth), 200, "authwithtoken: {auth}");
    c
}

/// The state UUID `state` of the control named `name` in a structure file.
pub fn state_of(structure: &Value, name: &str, state: &str) -> String {
    find_control(structure, name)["states"][state]
        .as_str()
        .unwrap_or_else(|| panic!("{name} has no state {state}"))
        .to_string()
}

pub fn find_control<'a>(structure: &'a Value, name: &str) -> &'a Value {
    fn walk<'a>(c: &'a Value, name: &str) -> Option<&'a Value> {
        if c["name"] == name {
            return Some(c);
        }
        c["subControls"]
            .as_object()
            .and_then(|subs| subs.values().find_map(|s| walk(s, name)))
    }
    structure["controls"]
        .as_object()
        .unwrap()
        .values()
        .find_map(|c| walk(c, name))
        .unwrap_or_else(|| panic!("no control {name}"))
}

/// An authenticated HTTP command over plain HTTP: one-time key, token hash, whole command
/// encrypted (decisions 3 and 7). Returns the LL object.
pub fn http_command(addr: SocketAddr, login: &Login, user: &str, cmd: &str) -> Value {
    let key = get_ll(addr, "jdev/sys/getkey");
    let h = token_hash(key["value"].as_str().unwrap(), &login.token, login.alg);
    let full = format!("{cmd}?autht={h}&user={user}");
    get_ll(addr, &login.session.http_enc_path(&full, false))
}
