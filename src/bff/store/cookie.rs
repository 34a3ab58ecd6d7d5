//! Sealed cookies: the state itself travels in the cookie, sealed with AES-256-GCM (the `cookie`
//! crate's private jar, which also binds the cookie's name, so a sign-in cookie cannot be
//! replayed as a session cookie). Sign-ins in progress always travel this way; sessions do
//! with the `cookie` store.

use actix_web::cookie::{Cookie, CookieJar, Key};

use crate::secrets::CookieSecret;

/// Browsers keep cookies up to 4096 bytes of name, value and attributes (RFC 6265 §6.1).
pub const MAX_COOKIE_BYTES: usize = 4096;
/// Room for `; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=…`.
const ATTRIBUTES_ALLOWANCE: usize = 96;

/// Seals and opens cookie values.
pub struct CookieSealer {
    key: Key,
}

impl std::fmt::Debug for CookieSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieSealer(<key>)")
    }
}

impl CookieSealer {
    /// A sealer for `purpose` with a key derived from `secret` (HKDF-SHA256): every instance
    /// with the same secret opens what another sealed, and each purpose has its own key.
    pub fn new(secret: &CookieSecret, purpose: &str) -> Result<CookieSealer, String> {
        secret
            .derive_key(purpose)
            .map(|key| CookieSealer { key })
            .map_err(|e| format!("HERA_BFF_COOKIE_SECRET: {e}"))
    }

    /// A sealer with a random key: what it seals opens only in this process.
    pub fn random() -> Result<CookieSealer, String> {
        Key::try_generate()
            .map(|key| CookieSealer { key })
            .ok_or_else(|| "the operating system gave no randomness for a key".to_owned())
    }

    /// The encrypted value of cookie `name` holding `plaintext`.
    pub fn seal(&self, name: &'static str, plaintext: String) -> String {
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(Cookie::new(name, plaintext));
        jar.get(name)
            .map(|cookie| cookie.value().to_owned())
            .unwrap_or_default()
    }

    /// The plaintext of cookie `name`, if `value` was sealed by this key for that name.
    pub fn open(&self, name: &'static str, value: &str) -> Option<String> {
        let mut jar = CookieJar::new();
        jar.add_original(Cookie::new(name, value.to_owned()));
        jar.private(&self.key)
            .get(name)
            .map(|cookie| cookie.value().to_owned())
    }

    /// Size of the `Set-Cookie` header a value makes, attributes included.
    pub fn cookie_size(name: &str, value: &str) -> usize {
        name.len() + 1 + value.len() + ATTRIBUTES_ALLOWANCE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(fill: char) -> CookieSealer {
        let secret: CookieSecret =
            crate::secrets::parse_cookie_secret(&fill.to_string().repeat(64)).unwrap();
        CookieSealer::new(&secret, "test").unwrap()
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_name() {
        let sealer = sealer('k');
        let sealed = sealer.seal("hera_bff", "secret tokens".into());
        assert!(!sealed.contains("secret"));
        assert_eq!(
            sealer.open("hera_bff", &sealed).as_deref(),
            Some("secret tokens")
        );
        assert_eq!(sealer.open("hera_bff_login", &sealed), None);
        assert_eq!(self::sealer('x').open("hera_bff", &sealed), None);
        let mut tampered = sealed.clone().into_bytes();
        tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(sealer.open("hera_bff", &tampered), None);
    }

    #[test]
    fn each_purpose_and_each_random_sealer_has_its_own_key() {
        let secret = crate::secrets::parse_cookie_secret(&"k".repeat(64)).unwrap();
        let sealed = CookieSealer::new(&secret, "sessions")
            .unwrap()
            .seal("hera_bff", "x".into());
        let same = CookieSealer::new(&secret, "sessions").unwrap();
        assert_eq!(same.open("hera_bff", &sealed).as_deref(), Some("x"));
        let other = CookieSealer::new(&secret, "sign-ins").unwrap();
        assert_eq!(other.open("hera_bff", &sealed), None);
        let random = CookieSealer::random().unwrap();
        let sealed = random.seal("hera_bff", "y".into());
        assert_eq!(random.open("hera_bff", &sealed).as_deref(), Some("y"));
        assert_eq!(
            CookieSealer::random().unwrap().open("hera_bff", &sealed),
            None
        );
    }
}
