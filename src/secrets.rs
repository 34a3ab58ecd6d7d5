//! Secrets Hera is configured with. `Debug` never prints them.

use std::fmt;

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
