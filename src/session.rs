//! Hera's own browser session (an encrypted actix-session cookie) and the CSRF tokens bound to it.
//!
//! The session holds one random per-browser key. A form's CSRF token is an HMAC of the form's
//! purpose and what the form acts on (its challenge, or the client id of a revoke button) under
//! that key, so a token is only valid in the browser it was issued to and only for what it was
//! rendered with (anchors S-CSRF, S9). Nothing else is stored, which keeps the cookie far below
//! the 4 KB limit even with long challenges.

use actix_session::Session;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::domain::challenge::Challenge;

/// Name of Hera's session cookie (actix-session's default, `id`, says nothing).
pub const COOKIE_NAME: &str = "hera_session";

const CSRF_KEY: &str = "csrf_key";

type HmacSha256 = Hmac<Sha256>;

/// What a CSRF token protects; part of the MAC so a consent token cannot pass as a logout token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormPurpose {
    Consent,
    /// The logout confirmation (bound to the logout challenge).
    Logout,
    /// The user-code form (bound to the device challenge).
    Device,
    /// A "remove access" button on the connected-apps page (bound to the client id).
    Revoke,
}

impl FormPurpose {
    fn label(self) -> &'static [u8] {
        match self {
            FormPurpose::Consent => b"consent",
            FormPurpose::Logout => b"logout",
            FormPurpose::Device => b"device",
            FormPurpose::Revoke => b"revoke",
        }
    }
}

/// A typed view of Hera's session.
pub struct TypedSession<'a>(&'a Session);

impl<'a> TypedSession<'a> {
    pub fn new(session: &'a Session) -> Self {
        TypedSession(session)
    }

    /// A CSRF token for `purpose` and `challenge`, creating the per-browser key on first use.
    pub fn csrf_token(
        &self,
        purpose: FormPurpose,
        challenge: &Challenge,
    ) -> anyhow::Result<String> {
        self.csrf_token_for(purpose, challenge.as_str())
    }

    /// A CSRF token for `purpose` bound to `subject_of_form` (what the form acts on), creating
    /// the per-browser key on first use.
    pub fn csrf_token_for(
        &self,
        purpose: FormPurpose,
        subject_of_form: &str,
    ) -> anyhow::Result<String> {
        let key = match self.key() {
            Some(key) => key,
            None => {
                let mut key = [0u8; 32];
                rand::rng().fill_bytes(&mut key);
                let encoded = URL_SAFE_NO_PAD.encode(key);
                self.0
                    .insert(CSRF_KEY, &encoded)
                    .map_err(|e| anyhow::anyhow!("cannot store the CSRF key: {e}"))?;
                key.to_vec()
            }
        };
        Ok(URL_SAFE_NO_PAD.encode(mac(&key, purpose, subject_of_form)?.finalize().into_bytes()))
    }

    /// True when `token` was issued by [`Self::csrf_token`] in this browser for this purpose and
    /// challenge. Compared in constant time.
    pub fn verify_csrf(&self, purpose: FormPurpose, challenge: &Challenge, token: &str) -> bool {
        self.verify_csrf_for(purpose, challenge.as_str(), token)
    }

    /// True when `token` was issued by [`Self::csrf_token_for`] in this browser for this purpose
    /// and `subject_of_form`. Compared in constant time.
    pub fn verify_csrf_for(
        &self,
        purpose: FormPurpose,
        subject_of_form: &str,
        token: &str,
    ) -> bool {
        let (Some(key), Ok(token)) = (self.key(), URL_SAFE_NO_PAD.decode(token)) else {
            return false;
        };
        mac(&key, purpose, subject_of_form).is_ok_and(|mac| mac.verify_slice(&token).is_ok())
    }

    fn key(&self) -> Option<Vec<u8>> {
        let encoded = self.0.get::<String>(CSRF_KEY).ok().flatten()?;
        URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .filter(|key| key.len() == 32)
    }
}

fn mac(key: &[u8], purpose: FormPurpose, subject_of_form: &str) -> anyhow::Result<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(key)?;
    mac.update(purpose.label());
    mac.update(b"\0");
    mac.update(subject_of_form.as_bytes());
    Ok(mac)
}
