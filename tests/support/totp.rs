//! Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits), as Kratos's
//! TOTP method and authenticator apps compute them, with the base32 secrets (RFC 4648, no
//! padding) Kratos shows for manual entry. The fake Kratos checks codes with this; tests compute
//! the code an authenticator app would show from the secret a page displays.

#![allow(dead_code)]

use rand::Rng;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new random secret of 20 bytes, base32.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill(&mut bytes);
    base32(&bytes)
}

pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            out.push(char::from(ALPHABET[((buffer >> (bits - 5)) & 31) as usize]));
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32, ignoring case, spaces and padding; `None` for anything else.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = ALPHABET
            .iter()
            .position(|&a| char::from(a) == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            out.push(((buffer >> (bits - 8)) & 0xff) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// The code for `secret` (base32) at `unix` seconds.
pub fn code_at(secret: &str, unix: i64) -> String {
    let key_bytes = from_base32(secret).unwrap_or_default();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &key_bytes);
    let counter = (unix / 30).max(0) as u64;
    let tag = ring::hmac::sign(&key, &counter.to_be_bytes());
    let digest = tag.as_ref();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let value = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    format!("{:06}", value % 1_000_000)
}

/// The code for `secret` now.
pub fn code_now(secret: &str) -> String {
    code_at(secret, time::OffsetDateTime::now_utc().unix_timestamp())
}

/// Whether `code` is right for `secret` now, allowing one step of clock skew either way (as
/// Kratos does).
pub fn verify(secret: &str, code: &str) -> bool {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    [-30, 0, 30]
        .iter()
        .any(|skew| code_at(secret, now + skew) == code.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59: 94287082 (8 digits) ends in 287082.
        let secret = base32(b"12345678901234567890");
        assert_eq!(code_at(&secret, 59), "287082");
        assert_eq!(from_base32(&secret).unwrap(), b"12345678901234567890");
    }
}
