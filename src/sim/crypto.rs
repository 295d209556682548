//! The simulator's own cryptography, written from the documents, not shared with the client.
//!
//! Why separate from `loxone/`: the simulator is the yardstick the client is measured against.
//! If both sides called the same helper, a mistake in it (wrong padding, wrong hex case, HMAC
//! over the hex text instead of the decoded key) would be invisible. So the server side here
//! builds its own pieces: CBC chaining by hand over the AES block cipher, HMAC by hand over the
//! SHA digests (RFC 2104), its own hex, base64 and percent-decoding, and RSA PKCS#1 v1.5
//! decryption of the session key with a fixed, embedded, **test-only** key.
//!
//! Sources: CWM "Command Encryption" (RSA ECB/PKCS1, AES-256-CBC, zero-byte padding, base64),
//! CWM "Hashing"/"Tokens"; architecture decisions 1, 2 and 5.

use aes::Aes256;
use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs8::DecodePrivateKey;
use sha1::Digest as _;

/// The RSA-2048 key the simulated Miniserver publishes through `jdev/sys/getPublicKey`.
/// TEST-ONLY: generated once with OpenSSL and committed (see `certs/README.md`).
const SESSION_KEY_DER: &[u8] = include_bytes!("certs/session-rsa-key.der");
/// Its SubjectPublicKeyInfo, DER.
const SESSION_PUB_DER: &[u8] = include_bytes!("certs/session-rsa-pub.der");

/// The digest a `hashAlg` names (SHA1 when the field is absent, CWM "Important Notes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum HashAlg {
    Sha1,
    Sha256,
}

impl HashAlg {
    /// The spelling in `getkey2`/`getvisusalt` replies.
    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "SHA1",
            HashAlg::Sha256 => "SHA256",
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Sha1 => sha1::Sha1::digest(data).to_vec(),
            HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
        }
    }

    /// HMAC (RFC 2104) with this digest; both SHA1 and SHA256 use 64-byte blocks.
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        const BLOCK: usize = 64;
        let mut k = [0u8; BLOCK];
        if key.len() > BLOCK {
            let d = self.digest(key);
            k[..d.len()].copy_from_slice(&d);
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut inner = Vec::with_capacity(BLOCK + data.len());
        inner.extend(k.iter().map(|b| b ^ 0x36));
        inner.extend_from_slice(data);
        let inner_hash = self.digest(&inner);
        let mut outer = Vec::with_capacity(BLOCK + inner_hash.len());
        outer.extend(k.iter().map(|b| b ^ 0x5c));
        outer.extend_from_slice(&inner_hash);
        self.digest(&outer)
    }
}

/// `UPPER(hex(H("{secret}:{salt}")))`: the stored form of a password or visualisation password.
pub fn secret_hash(alg: HashAlg, secret: &str, salt: &str) -> String {
    hex_upper(&alg.digest(format!("{secret}:{salt}").as_bytes()))
}

/// Whether `claimed` (hex, any case) is `HMAC_alg(key, message)`.
pub fn hmac_matches(alg: HashAlg, key: &[u8], message: &str, claimed: &str) -> bool {
    let expected = hex_lower(&alg.hmac(key, message.as_bytes()));
    expected.len() == claimed.len() && expected.eq_ignore_ascii_case(claimed)
}

pub fn hex_lower(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[usize::from(b >> 4)] as char);
        s.push(D[usize::from(b & 15)] as char);
    }
    s
}

pub fn hex_upper(bytes: &[u8]) -> String {
    hex_lower(bytes).to_ascii_uppercase()
}

pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let nib = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    b.chunks(2)
        .map(|p| Some((nib(p[0])? << 4) | nib(p[1])?))
        .collect()
}

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s.trim()).ok()
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Percent-decoding for path segments and query values. `+` stays `+`: base64 text never holds
/// a space, and clients differ on whether they encode `+` at all.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Random bytes from the operating system.
pub fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // getrandom only fails when the OS has no entropy source at all; a zeroed buffer would
    // then make keys predictable, which for a test-only simulator is acceptable but logged.
    if getrandom::fill(&mut b).is_err() {
        log::error!("sim: the OS random source failed; using a time-derived fallback");
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (i, x) in b.iter_mut().enumerate() {
            *x = (t >> ((i % 16) * 8)) as u8 ^ i as u8;
        }
    }
    b
}

/// An AES-256-CBC key and IV agreed through `keyexchange` or an `sk=` parameter.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey {
    pub key: [u8; 32],
    pub iv: [u8; 16],
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

impl SessionKey {
    /// Parses the RSA plaintext `"{hex(key)}:{hex(iv)}"` (decision 2; either hex case).
    pub fn from_plaintext(text: &[u8]) -> Option<SessionKey> {
        let text = std::str::from_utf8(text).ok()?;
        let (k, iv) = text.trim_end_matches('\0').split_once(':')?;
        Some(SessionKey {
            key: hex_decode(k)?.try_into().ok()?,
            iv: hex_decode(iv)?.try_into().ok()?,
        })
    }

    /// Encrypts `plaintext + "\0"`, zero-padded to 16 bytes (decision 1), CBC chained by hand.
    pub fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
        let cipher = Aes256::new(&self.key.into());
        let mut data = plaintext.to_vec();
        data.push(0);
        while !data.len().is_multiple_of(16) {
            data.push(0);
        }
        let mut prev = self.iv;
        for chunk in data.chunks_mut(16) {
            let mut block = [0u8; 16];
            for i in 0..16 {
                block[i] = chunk[i] ^ prev[i];
            }
            let mut b = block.into();
            cipher.encrypt_block(&mut b);
            prev = b.into();
            chunk.copy_from_slice(&prev);
        }
        data
    }

    /// Decrypts CBC; strips PKCS#7 padding if present, then trailing NUL bytes (decision 1).
    /// `None` when the length is not a positive multiple of 16.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Option<Vec<u8>> {
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
            return None;
        }
        let cipher = Aes256::new(&self.key.into());
        let mut out = Vec::with_capacity(ciphertext.len());
        let mut prev = self.iv;
        for chunk in ciphertext.chunks(16) {
            let mut b: [u8; 16] = chunk.try_into().ok()?;
            let mut block = b.into();
            cipher.decrypt_block(&mut block);
            let plain: [u8; 16] = block.into();
            for i in 0..16 {
                out.push(plain[i] ^ prev[i]);
            }
            b.copy_from_slice(chunk);
            prev = b;
        }
        if let Some(&n) = out.last() {
            let n = usize::from(n);
            if (1..=16).contains(&n)
                && out.len() >= n
                && out[out.len() - n..].iter().all(|&x| usize::from(x) == n)
            {
                out.truncate(out.len() - n);
            }
        }
        while out.last() == Some(&0) {
            out.pop();
        }
        Some(out)
    }

    /// base64(AES(text)): how `fenc` replies and the keyexchange salt travel.
    pub fn encrypt_b64(&self, text: &str) -> String {
        b64(&self.encrypt(text.as_bytes()))
    }
}

/// The simulated Miniserver's RSA key pair (fixed, test-only).
pub struct ServerKey {
    private: rsa::PrivateKey,
    /// Session keys already decrypted, by their base64 text: a client sends the same `sk=`
    /// with every encrypted HTTP command, and one RSA-2048 decryption costs milliseconds, which
    /// would otherwise dominate every latency measured against the simulator.
    known: std::sync::Mutex<std::collections::HashMap<String, SessionKey>>,
}

/// Session keys remembered at most (a client keeps one per connection).
const KNOWN_SESSION_KEYS: usize = 256;

impl ServerKey {
    /// Loads the embedded key. Fails only if the committed DER file is damaged.
    pub fn embedded() -> std::io::Result<ServerKey> {
        let private = rsa::PrivateKey::from_pkcs8_der(SESSION_KEY_DER).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("embedded RSA key: {e}"),
            )
        })?;
        Ok(ServerKey {
            private,
            known: Default::default(),
        })
    }

    /// The `getPublicKey` value: base64 SubjectPublicKeyInfo between `BEGIN CERTIFICATE`
    /// markers, no line breaks — the device's misleading wrapping (decision 2).
    pub fn public_key_text(&self) -> String {
        format!(
            "-----BEGIN CERTIFICATE-----{}-----END CERTIFICATE-----",
            b64(SESSION_PUB_DER)
        )
    }

    /// The SubjectPublicKeyInfo DER (for tests that encrypt to this key).
    #[cfg(test)]
    pub fn public_key_der(&self) -> &'static [u8] {
        SESSION_PUB_DER
    }

    /// Decrypts a base64 RSA session key into the AES key and IV.
    pub fn session_key(&self, b64_text: &str) -> Option<SessionKey> {
        let known = || self.known.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = known().get(b64_text) {
            return Some(k.clone());
        }
        let ct = b64_decode(b64_text)?;
        let pt = self.private.pkcs1v15_decrypt(&ct).ok()?;
        let key = SessionKey::from_plaintext(&pt)?;
        let mut known = known();
        if known.len() >= KNOWN_SESSION_KEYS {
            known.clear();
        }
        known.insert(b64_text.to_owned(), key.clone());
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_rfc_4231_and_rfc_2202_vectors() {
        // RFC 2202 test case 2 (HMAC-SHA1) and RFC 4231 test case 2 (HMAC-SHA256).
        let key = b"Jefe";
        let data = b"what do ya want for nothing?";
        assert_eq!(
            hex_lower(&HashAlg::Sha1.hmac(key, data)),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(
            hex_lower(&HashAlg::Sha256.hmac(key, data)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 4231 test case 6: a key longer than the block is hashed first.
        let long_key = [0xaau8; 131];
        assert_eq!(
            hex_lower(&HashAlg::Sha256.hmac(
                &long_key,
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn aes_cbc_matches_the_nist_sp800_38a_vector() {
        // NIST SP 800-38A F.2.5 CBC-AES256.Encrypt, first block.
        let k = SessionKey {
            key: hex_decode("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
                .unwrap()
                .try_into()
                .unwrap(),
            iv: hex_decode("000102030405060708090a0b0c0d0e0f")
                .unwrap()
                .try_into()
                .unwrap(),
        };
        let pt = hex_decode("6bc1bee22e409f96e93d7e117393172a").unwrap();
        // encrypt() appends NUL + padding; the first ciphertext block is the NIST one.
        let ct = k.encrypt(&pt);
        assert_eq!(ct.len(), 32);
        assert_eq!(hex_lower(&ct[..16]), "f58c4c04d6e5f1ba779eabfb5f7bfbd6");
    }

    #[test]
    fn decryption_accepts_zero_and_pkcs7_padding() {
        let k = SessionKey {
            key: [7; 32],
            iv: [9; 16],
        };
        let zero = k.encrypt(b"salt/ab12/jdev/sps/io/x/on");
        assert_eq!(k.decrypt(&zero).unwrap(), b"salt/ab12/jdev/sps/io/x/on");
        // PKCS#7 after a NUL terminator (PyLoxone's way): build it by encrypting the padded text
        // without our own terminator, i.e. a 16-byte aligned message ending in 0x01..0x10.
        let mut msg = b"salt/1/keepalive\0".to_vec();
        let n = 16 - msg.len() % 16;
        msg.extend(std::iter::repeat_n(n as u8, n));
        let mut ct = k.encrypt(&msg);
        ct.truncate(msg.len()); // drop our own extra NUL block
        assert_eq!(k.decrypt(&ct).unwrap(), b"salt/1/keepalive");
        assert!(k.decrypt(&[0u8; 15]).is_none());
        assert!(k.decrypt(&[]).is_none());
    }

    #[test]
    fn the_public_key_is_wrapped_in_certificate_markers_without_line_breaks() {
        let key = ServerKey::embedded().unwrap();
        let text = key.public_key_text();
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----MII"));
        assert!(text.ends_with("-----END CERTIFICATE-----"));
        assert!(!text.contains('\n'));
    }

    #[test]
    fn a_session_key_encrypted_to_the_public_key_is_recovered() {
        use rsa::pkcs8::DecodePublicKey;
        let key = ServerKey::embedded().unwrap();
        let public = rsa::PublicKey::from_public_key_der(key.public_key_der()).unwrap();
        let plain = format!("{}:{}", hex_lower(&[0x11; 32]), hex_lower(&[0x22; 16]));
        let ct = public.pkcs1v15_encrypt(plain.as_bytes()).unwrap();
        let sk = key.session_key(&b64(&ct)).unwrap();
        assert_eq!(sk.key, [0x11; 32]);
        assert_eq!(sk.iv, [0x22; 16]);
        assert!(key.session_key("bm90IHJzYQ==").is_none());
    }

    #[test]
    fn percent_decoding_keeps_plus_and_rejects_broken_escapes() {
        assert_eq!(percent_decode("a%2Fb+c%3D").unwrap(), "a/b+c=");
        assert!(percent_decode("%4").is_none());
        assert!(percent_decode("%zz").is_none());
    }

    #[test]
    fn the_password_hash_is_uppercase_hex_of_password_colon_salt() {
        // SHA1("password:salt") computed independently (coreutils sha1sum).
        assert_eq!(
            secret_hash(HashAlg::Sha1, "password", "salt"),
            "676F03A8C8530384EB7551B1685F2828546625D9"
        );
    }
}
