//! The Miniserver's cryptography, as pure functions: hashing, HMAC, AES-256-CBC, the RSA-wrapped
//! session key, and the encodings around them.
//!
//! Why pure and separate: these are the places where one wrong byte means "401" from a real
//! Miniserver and nothing to debug with, so each function is tested against vectors computed
//! independently (Python `hashlib`/`hmac`/`cryptography`), not against our own inverse.
//! The rules are the binding "Protocol decisions" 1, 2 and 5 in `docs/architecture.md`:
//! - AES: encrypt `plaintext + "\0"` zero-padded to 16; decrypt strips NULs and accepts PKCS#7.
//! - Session key: `base64(RSA-PKCS#1 v1.5(pub, "{hex key}:{hex iv}"))`, lowercase hex.
//! - Hashes: `pwHash = UPPER(hex(H("{pw}:{salt}")))`, HMACs keyed with `hex_decode(key)`,
//!   printed in lowercase hex; `H` is SHA-1 unless the Miniserver says `SHA256`.

use std::fmt;

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::NoPadding};
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use rsa::pkcs8::DecodePublicKey;

/// Which hash the Miniserver asked for (`hashAlg` of `getkey2`/`getvisusalt`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlg {
    Sha1,
    Sha256,
}

impl HashAlg {
    /// `SHA1` when absent or empty (firmware before 10.3 sends no `hashAlg`); `SHA256` for
    /// `SHA256`; anything else is refused rather than guessed.
    pub fn from_field(v: Option<&str>) -> Result<HashAlg, CryptoError> {
        match v.map(str::trim) {
            None | Some("") => Ok(HashAlg::Sha1),
            Some(s) if s.eq_ignore_ascii_case("SHA1") => Ok(HashAlg::Sha1),
            Some(s) if s.eq_ignore_ascii_case("SHA256") => Ok(HashAlg::Sha256),
            Some(_) => Err(CryptoError(
                "the Miniserver asked for an unknown hash algorithm",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "SHA1",
            HashAlg::Sha256 => "SHA256",
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest as _;
        match self {
            HashAlg::Sha1 => sha1::Sha1::digest(data).to_vec(),
            HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        // `new_from_slice` accepts any key length for HMAC; the error arm is unreachable in
        // practice but handled without a panic.
        match self {
            HashAlg::Sha1 => match hmac::Hmac::<sha1::Sha1>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(data);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            },
            HashAlg::Sha256 => match hmac::Hmac::<sha2::Sha256>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(data);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            },
        }
    }
}

/// A cryptographic step that could not be done; the text says which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoError(pub &'static str);

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for CryptoError {}

// ------------------------------------------------------------------ hex, base64, url encoding

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Decodes hex of either case; `None` on odd length or a non-hex character.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| {
            let hi = char::from(p[0]).to_digit(16)?;
            let lo = char::from(p[1]).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

/// Percent-encodes everything except the unreserved set `A–Z a–z 0–9 - _ . ~` (decision 1).
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push_str(&hex(&[b]).to_uppercase());
        }
    }
    out
}

/// Fills a buffer from the operating system's random source.
pub fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| CryptoError("the system random source failed"))?;
    Ok(b)
}

// ------------------------------------------------------------------ hashing (decision 5)

/// `UPPER(hex(H("{secret}:{salt}")))`: the password (or visualisation password) hash.
pub fn secret_hash(alg: HashAlg, secret: &str, salt: &str) -> String {
    hex(&alg.digest(format!("{secret}:{salt}").as_bytes())).to_uppercase()
}

/// `lower hex(HMAC_H(hex_decode(key), message))`.
pub fn hmac_hex(alg: HashAlg, key_hex: &str, message: &str) -> Result<String, CryptoError> {
    let key = unhex(key_hex.trim()).ok_or(CryptoError("the Miniserver's key is not hex"))?;
    Ok(hex(&alg.hmac(&key, message.as_bytes())))
}

/// The `{hash}` for `getjwt`: `HMAC(key, "{user}:{pwHash}")`.
pub fn credential_hash(
    alg: HashAlg,
    key_hex: &str,
    user: &str,
    password: &str,
    salt: &str,
) -> Result<String, CryptoError> {
    let pw = secret_hash(alg, password, salt);
    hmac_hex(alg, key_hex, &format!("{user}:{pw}"))
}

/// The `{tokenHash}` for `authwithtoken`, `refreshjwt`, `checktoken`, `killtoken` and HTTP
/// `autht` over plain HTTP.
pub fn token_hash(alg: HashAlg, key_hex: &str, token: &str) -> Result<String, CryptoError> {
    hmac_hex(alg, key_hex, token)
}

/// The `{hash}` of `jdev/sps/ios/{hash}/…` for a secured control.
pub fn visu_hash(
    alg: HashAlg,
    key_hex: &str,
    visu_password: &str,
    salt: &str,
) -> Result<String, CryptoError> {
    hmac_hex(alg, key_hex, &secret_hash(alg, visu_password, salt))
}

// ------------------------------------------------------------------ AES-256-CBC (decision 1)

/// A 32-byte AES key and 16-byte IV, generated per session.
#[derive(Clone)]
pub struct AesKey {
    key: [u8; 32],
    iv: [u8; 16],
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKey(..)")
    }
}

type Enc = cbc::Encryptor<aes::Aes256>;
type Dec = cbc::Decryptor<aes::Aes256>;

impl AesKey {
    pub fn generate() -> Result<AesKey, CryptoError> {
        Ok(AesKey {
            key: random()?,
            iv: random()?,
        })
    }

    pub fn from_parts(key: [u8; 32], iv: [u8; 16]) -> AesKey {
        AesKey { key, iv }
    }

    /// `base64(AES-CBC(plaintext + "\0", zero padding))`.
    pub fn encrypt_b64(&self, plaintext: &str) -> String {
        let mut buf = plaintext.as_bytes().to_vec();
        buf.push(0);
        while !buf.len().is_multiple_of(16) {
            buf.push(0);
        }
        let len = buf.len();
        let enc = Enc::new(&self.key.into(), &self.iv.into());
        match enc.encrypt_padded::<NoPadding>(&mut buf, len) {
            Ok(ct) => b64(ct),
            // Unreachable: the buffer is a whole number of blocks.
            Err(_) => String::new(),
        }
    }

    /// Decrypts base64 ciphertext; strips PKCS#7 padding if present, then trailing NULs.
    pub fn decrypt_b64(&self, b64_text: &str) -> Result<String, CryptoError> {
        let mut buf = unb64(b64_text).ok_or(CryptoError("encrypted reply is not base64"))?;
        if buf.is_empty() || !buf.len().is_multiple_of(16) {
            return Err(CryptoError(
                "encrypted reply is not a whole number of AES blocks",
            ));
        }
        let dec = Dec::new(&self.key.into(), &self.iv.into());
        let pt = dec
            .decrypt_padded::<NoPadding>(&mut buf)
            .map_err(|_| CryptoError("encrypted reply could not be decrypted"))?;
        let mut end = pt.len();
        if let Some(&n) = pt.last() {
            let n = usize::from(n);
            if (1..=16).contains(&n)
                && n <= end
                && pt[end - n..].iter().all(|&b| usize::from(b) == n)
            {
                end -= n;
            }
        }
        while end > 0 && pt[end - 1] == 0 {
            end -= 1;
        }
        String::from_utf8(pt[..end].to_vec())
            .map_err(|_| CryptoError("encrypted reply is not UTF-8 text"))
    }

    /// `"{hex key}:{hex iv}"`, the plaintext of the session key.
    fn session_plaintext(&self) -> String {
        format!("{}:{}", hex(&self.key), hex(&self.iv))
    }
}

// ------------------------------------------------------------------ RSA (decision 2)

/// The Miniserver's RSA public key.
#[derive(Clone, Debug)]
pub struct PublicKey(rsa::PublicKey);

impl PublicKey {
    /// Parses `jdev/sys/getPublicKey`'s value: base64 SubjectPublicKeyInfo between
    /// `-----BEGIN CERTIFICATE-----` markers (the device's mislabel), `PUBLIC KEY` markers, or
    /// none; line breaks and spaces are ignored.
    pub fn parse(text: &str) -> Result<PublicKey, CryptoError> {
        let mut body = text.trim();
        for marker in [
            "-----BEGIN CERTIFICATE-----",
            "-----BEGIN PUBLIC KEY-----",
            "-----BEGIN RSA PUBLIC KEY-----",
        ] {
            if let Some(rest) = body.strip_prefix(marker) {
                body = rest;
            }
        }
        for marker in [
            "-----END CERTIFICATE-----",
            "-----END PUBLIC KEY-----",
            "-----END RSA PUBLIC KEY-----",
        ] {
            if let Some(rest) = body.strip_suffix(marker) {
                body = rest;
            }
        }
        let b64_body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der =
            unb64(&b64_body).ok_or(CryptoError("the Miniserver's public key is not base64"))?;
        rsa::PublicKey::from_public_key_der(&der)
            .map(PublicKey)
            .map_err(|_| CryptoError("the Miniserver's public key is not an RSA key"))
    }

    /// `base64(RSA-PKCS#1 v1.5("{hex key}:{hex iv}"))`: the session key for `keyexchange`
    /// and `?sk=`.
    pub fn session_key(&self, aes: &AesKey) -> Result<String, CryptoError> {
        self.0
            .pkcs1v15_encrypt(aes.session_plaintext().as_bytes())
            .map(|ct| b64(&ct))
            .map_err(|_| CryptoError("RSA encryption of the session key failed"))
    }
}

/// A fresh salt: 16 random bytes in lowercase hex (decision 3).
pub fn new_salt() -> Result<String, CryptoError> {
    let salt: [u8; 16] = random()?;
    Ok(hex(&salt))
}

/// The `salt/{salt}/{cmd}` plaintext of an encrypted command (decision 3).
pub fn salted(salt: &str, cmd: &str) -> String {
    format!("salt/{salt}/{cmd}")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed with Python 3.11 hashlib/hmac over the getkey2 fixture
    // (tests/fixtures/loxone/messages/loxone-java-smarteon-getKeyMessage.json), user "showroom",
    // password "secret", visualisation password "1234", token "eyJ0eXAiOiJKV1QifQ.abc.def".
    const KEY: &str =
        "41434633443134324337383441373035453333424344364133373431333430413642333442334244";
    const SALT: &str = "31306137336533622D303163352D313732662D66666666616362383139643462636139";

    #[test]
    fn sha1_hashes_match_independent_vectors() {
        let a = HashAlg::Sha1;
        assert_eq!(
            secret_hash(a, "secret", SALT),
            "00F40767494D7C29AA298FDBFD3876667A450FAB"
        );
        assert_eq!(
            credential_hash(a, KEY, "showroom", "secret", SALT).unwrap(),
            "3b81676ab4171898a09f99989bd746fb9f1f00d2"
        );
        assert_eq!(
            token_hash(a, KEY, "eyJ0eXAiOiJKV1QifQ.abc.def").unwrap(),
            "85e389d3c7e7138a351a7e58ff405b06e219053c"
        );
        assert_eq!(
            visu_hash(a, KEY, "1234", SALT).unwrap(),
            "2559c5f743c869b2d098312ff92423f6b638886b"
        );
        // The protocol review's vectors (docs/protocol-review.md): password "password" and
        // the loxone-java token fixture's token, over the same captured getkey2 reply.
        assert_eq!(
            secret_hash(a, "password", SALT),
            "5FB5E2C4D882CD9E6275662D293FE5A955705E3D"
        );
        assert_eq!(
            credential_hash(a, KEY, "showroom", "password", SALT).unwrap(),
            "b4f8dd6051d894f456e0aa2e2fd754fc48c63e35"
        );
        assert_eq!(
            token_hash(a, KEY, "8E2AA590E996B321C0E17C3FA9F7A3C17BD376CC").unwrap(),
            "04ee860f968f2fb4cf6319e05bf325ca9f48ee5b"
        );
    }

    #[test]
    fn sha256_hashes_match_independent_vectors() {
        let a = HashAlg::Sha256;
        assert_eq!(
            secret_hash(a, "secret", SALT),
            "273FC72FBE76294965E80ACB4F2AA53EEECC1D8012152AF12E8B5420D5E8A86A"
        );
        assert_eq!(
            credential_hash(a, KEY, "showroom", "secret", SALT).unwrap(),
            "dde064c8f1b0b1b590b8b6b48efd46967acc02bb0aa0d04a6e98e6768d216d94"
        );
        assert_eq!(
            token_hash(a, KEY, "eyJ0eXAiOiJKV1QifQ.abc.def").unwrap(),
            "11417fcad6532417d79c1b5fafaaf85959e82fa71d7d4cbd522f28b0a3049a3c"
        );
        assert_eq!(
            visu_hash(a, KEY, "1234", SALT).unwrap(),
            "b11142fbd17ffab827219ef68dc9e6065e5b1b490072f3da221b27aa5c96a413"
        );
    }

    #[test]
    fn hash_alg_defaults_to_sha1_and_refuses_the_unknown() {
        assert_eq!(HashAlg::from_field(None).unwrap(), HashAlg::Sha1);
        assert_eq!(HashAlg::from_field(Some("")).unwrap(), HashAlg::Sha1);
        assert_eq!(
            HashAlg::from_field(Some("SHA256")).unwrap(),
            HashAlg::Sha256
        );
        assert!(HashAlg::from_field(Some("MD5")).is_err());
    }

    #[test]
    fn a_key_that_is_not_hex_is_an_error_not_a_panic() {
        assert!(hmac_hex(HashAlg::Sha1, "zz", "x").is_err());
        assert!(hmac_hex(HashAlg::Sha1, "abc", "x").is_err());
    }

    fn test_key() -> AesKey {
        let mut key = [0u8; 32];
        let mut iv = [0u8; 16];
        for (i, b) in key.iter_mut().enumerate() {
            *b = i as u8;
        }
        for (i, b) in iv.iter_mut().enumerate() {
            *b = 16 + i as u8;
        }
        AesKey::from_parts(key, iv)
    }

    // Computed with Python `cryptography` (AES-256-CBC, key 00..1f, iv 10..1f, plaintext + NUL,
    // zero padding).
    const GETJWT_PLAIN: &str = "salt/0a1b2c3d4e5f60718293a4b5c6d7e8f9/jdev/sys/getjwt/abc/user/4/098802e1-02b4-603c-ffffeee000d80cfd/loxwarden";
    const GETJWT_CIPHER: &str = "T5UPFOZ9UUWmWOt0ydTi3Kh5oPN8HNb5o37+TS+Z3YATavYb1ZBIgN/ULIMIMFWBnwuuxsSig0oyBOKgrUnxVYpci9EfUf+m9dloqrhxV1d1y3vSajzqlWJOk9jfidgPz/SRXJxOLo9ucumBehqNEQ==";

    #[test]
    fn aes_encryption_matches_an_independent_vector() {
        assert_eq!(test_key().encrypt_b64(GETJWT_PLAIN), GETJWT_CIPHER);
    }

    #[test]
    fn aes_decryption_strips_nul_and_accepts_pkcs7() {
        let k = test_key();
        assert_eq!(k.decrypt_b64(GETJWT_CIPHER).unwrap(), GETJWT_PLAIN);
        // "hello\0" padded with PKCS#7 (Python `cryptography`).
        assert_eq!(k.decrypt_b64("g5sQ2l4nejm6IAPY15GSZg==").unwrap(), "hello");
        assert!(k.decrypt_b64("not base64!").is_err());
        assert!(k.decrypt_b64("AAAA").is_err());
        assert!(k.decrypt_b64("").is_err());
    }

    #[test]
    fn urlencode_keeps_only_unreserved_characters() {
        assert_eq!(urlencode("a+b/c=d"), "a%2Bb%2Fc%3Dd");
        assert_eq!(urlencode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(urlencode("ü"), "%C3%BC");
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(unhex("00ABff"), Some(vec![0, 0xab, 0xff]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }

    // A 2048-bit test key generated with Python `cryptography` for this test only.
    const PUBLIC_AS_DEVICE_SENDS_IT: &str = "-----BEGIN CERTIFICATE-----MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsxSURPXcgZsoriDCzMSI2lScETDMM8yVQ16HyXFQjo58hCUkogmlfLll/J8sJZOFODtrHcDTu2lTg3pNN77uDwK0Gh+kbn0C4oBZB4WcDHLRNot0D3/VL74LCn88eAOXF9VELoU7Oh5bLjsQskkZeTIRJNmT5sDlBzjFOnOJUeOKqmbwNNWAtSxtIa8wubFE13/yGw8wfPhI7v1R0jXOMSX2hHHSGY2N79XUeGtcIYXnYfjYfpiG0mO5hG1PRAwXhAX7vTAl7Xl/0GFhKrDwhp0ztIK+KS/P58K05/FoJPLbtM4xntxDCZLMga8RkceEkLc44OTvSPnQGc2bUgte5QIDAQAB-----END CERTIFICATE-----";
    const PRIVATE_PKCS8_B64: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCzFJRE9dyBmyiuIMLMxIjaVJwRMMwzzJVDXofJcVCOjnyEJSSiCaV8uWX8nywlk4U4O2sdwNO7aVODek03vu4PArQaH6RufQLigFkHhZwMctE2i3QPf9UvvgsKfzx4A5cX1UQuhTs6HlsuOxCySRl5MhEk2ZPmwOUHOMU6c4lR44qqZvA01YC1LG0hrzC5sUTXf/IbDzB8+Eju/VHSNc4xJfaEcdIZjY3v1dR4a1whhedh+Nh+mIbSY7mEbU9EDBeEBfu9MCXteX/QYWEqsPCGnTO0gr4pL8/nwrTn8Wgk8tu0zjGe3EMJksyBrxGRx4SQtzjg5O9I+dAZzZtSC17lAgMBAAECggEAMGgIqBdZUoNRXLgoT9d0MqgaQ59QI1RSqJI93BrQLqifSc0MeOxomi03PzD7avDUWt3c138O/KK821ZM1xu6F76gVktlVCRgij8tUZYxF0BWAwtxBNuGEdCqBV1dSAeYaO3R700+NDiOZxG6MqcFxrfc4HwbuY08m1YiIemnHcYTFnWBKgPSEWy5MEF7dEPb2WBFz/5JcTxlOcNxdWWMDZ4TFfettm1n0ZpZrF8fHe7RgYh2eO5b9SvqzaUCFVpY6nOog+rt388HJXz/2o4sPj+Y0Oa3hd0nJDTjbOa53R4ihKjO+EKqWkRn0OQZz2lEiLWrAotQxava/WC2s4mUhQKBgQDeug3+K70OmcMkGa2XkUvMTLtSQQfdk3pVz07XAAR+YU0H8rJQbSdJpZjBdP5G8oQWolFdIe8SS+95xXnqEIC1pPHXTSdJelhViwjnX++lhmCplmWTm+cZKubMfsuPdlDGH1oxPteuPbPq3EnOF6BgN6P5t5LJrKjKNziXIXS/IwKBgQDN1VDB1XZRhDaRWDMj/hRIiEfdrwzATH+TdKTaKCWzenCg8BLHKrqKpuVpC1zY4PGNOnWj5DNZODQdnnBMrDgCq8E5CVbT04TzO+DJkXEfHxsvhFUzgM2Tlm7saq1t65K6Zpkhq1PWFkwDsDwrTsFdOj+LDh6NWtC7TMl481OOVwKBgFlFga5KobBkeQ7TK/0AQ71TVBGX9yscnYAfY55RZ3uwTEvPPyF1XrXqJdwEpJaTRdY8oRgPLd/Lh+Tq/f6PNseXoUeGqSSOYTGIVL1IeqmBvuS6X2RWrL4tr+xvNe/+oEmI74GlipVQLfkI6pwsZB+srZC9v5wOFGlY0NnikwS5AoGBALZY0xlVDWO7+Eec1nl9XuS+7sPCj05Qtvif7mdiB7xPrTW2WTxeazHoFvaPXWq5JOUTtCJESQUyWGEg+qXCMECVfjEUR/qSuYZuNn77vTZv7TqURpLA+d5U9+Gzw/7MIonF2MVOLZBM4nymBTfspjr8Hk0HbiOWH7K+nQHstsozAoGAFex+hfiIwMTIcQx/F3AVLV/qJIwHxKQZnDkVRh+lm8Ki3NxW37oOb0IhXiNxeBOZL6TbHspUNAx0x2iherx8fewq6fxxe73RN+ZdsGOzUt4fRkr7/yDQz/xWUmrSS4IqHCN4E5MnaleLgPBIDzixIt/ELXdD8hsgnIF/bG7P4TQ=";

    #[test]
    fn the_session_key_carries_hex_key_colon_hex_iv_for_the_device_key() {
        use rsa::pkcs8::DecodePrivateKey;
        let public = PublicKey::parse(PUBLIC_AS_DEVICE_SENDS_IT).unwrap();
        let aes = test_key();
        let sk = public.session_key(&aes).unwrap();
        let private = rsa::PrivateKey::from_pkcs8_der(&unb64(PRIVATE_PKCS8_B64).unwrap()).unwrap();
        let plain = private.pkcs1v15_decrypt(&unb64(&sk).unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(plain).unwrap(),
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f:101112131415161718191a1b1c1d1e1f"
        );
    }

    #[test]
    fn public_keys_are_read_with_or_without_markers_and_line_breaks() {
        let body = PUBLIC_AS_DEVICE_SENDS_IT
            .trim_start_matches("-----BEGIN CERTIFICATE-----")
            .trim_end_matches("-----END CERTIFICATE-----");
        assert!(PublicKey::parse(body).is_ok());
        let wrapped: String = body
            .as_bytes()
            .chunks(64)
            .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
            .collect();
        assert!(
            PublicKey::parse(&format!(
                "-----BEGIN PUBLIC KEY-----\n{wrapped}-----END PUBLIC KEY-----\n"
            ))
            .is_ok()
        );
        assert!(
            PublicKey::parse("-----BEGIN CERTIFICATE-----AAAA-----END CERTIFICATE-----").is_err()
        );
        assert!(PublicKey::parse("").is_err());
    }

    #[test]
    fn salts_are_sixteen_random_bytes_in_hex() {
        let a = new_salt().unwrap();
        assert_ne!(a, new_salt().unwrap());
        assert_eq!(a.len(), 32);
        assert!(unhex(&a).is_some());
        let plain = salted(&a, "jdev/sys/getkey");
        let parts: Vec<&str> = plain.splitn(3, '/').collect();
        assert_eq!(parts, ["salt", a.as_str(), "jdev/sys/getkey"]);
    }
}
