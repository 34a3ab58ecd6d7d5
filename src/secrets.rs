//! Secrets Hera is configured with. `Debug` never prints them.

use std::fmt;

use actix_web::cookie::Key;
use hkdf::Hkdf;
use sha2::Sha256;

/// The HKDF salt of every cookie key (RFC 5869 §3.1: a fixed, non-secret salt separates
/// Hera's keys from any other use of the same secret).
const COOKIE_KEY_SALT: &[u8] = b"hera cookie keys v1";

/// An OAuth2 client secret. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        ClientSecret(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for ClientSecret {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.is_empty() {
            return Err("must not be empty".into());
        }
        Ok(ClientSecret(value.to_owned()))
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

/// A bearer token for Hydra's or Kratos's admin API. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl AdminToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for AdminToken {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be a non-empty token of visible ASCII characters".into());
        }
        Ok(AdminToken(value.to_owned()))
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

/// The session-cookie key. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct CookieSecret(Vec<u8>);

impl CookieSecret {
    pub const MIN_LEN: usize = 64;

    /// A key of at least [`Self::MIN_LEN`] bytes.
    pub fn new(secret: &str) -> Result<CookieSecret, String> {
        parse_cookie_secret(secret)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The cookie key for `purpose`: HKDF-SHA256 (RFC 5869) over the whole secret, expanded to
    /// the 64 bytes of signing and encryption key a cookie [`Key`] holds. Each purpose gets its
    /// own key, so a cookie sealed for one use never opens for another, and every byte of the
    /// secret counts (a secret's first 64 bytes alone could be a guessable prefix).
    pub fn derive_key(&self, purpose: &str) -> Result<Key, String> {
        let hkdf = Hkdf::<Sha256>::new(Some(COOKIE_KEY_SALT), &self.0);
        let mut okm = [0u8; 64];
        hkdf.expand(purpose.as_bytes(), &mut okm)
            .map_err(|e| format!("cannot derive the {purpose} key: {e}"))?;
        Key::try_from(&okm[..]).map_err(|e| format!("cannot derive the {purpose} key: {e}"))
    }
}

impl fmt::Debug for CookieSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CookieSecret(<redacted>)")
    }
}

pub fn parse_cookie_secret(value: &str) -> Result<CookieSecret, String> {
    if value.len() < CookieSecret::MIN_LEN {
        return Err(format!(
            "must be at least {} bytes long (got {}); generate one with `openssl rand -base64 64`",
            CookieSecret::MIN_LEN,
            value.len()
        ));
    }
    Ok(CookieSecret(value.as_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_keys_are_derived_per_purpose_from_the_whole_secret() {
        let secret = CookieSecret::new(&"s".repeat(64)).unwrap();
        let session = secret.derive_key("session").unwrap();
        assert_eq!(
            session.master(),
            secret.derive_key("session").unwrap().master(),
            "deterministic: every instance derives the same key"
        );
        assert_ne!(
            session.master(),
            secret.derive_key("sign-in").unwrap().master()
        );
        assert_ne!(session.master(), secret.as_bytes(), "not the raw secret");
        let longer = CookieSecret::new(&format!("{}x", "s".repeat(64))).unwrap();
        assert_ne!(
            longer.derive_key("session").unwrap().master(),
            session.master(),
            "bytes past the 64th count"
        );
    }
}
