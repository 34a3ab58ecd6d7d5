//! Hera's own browser session (an encrypted actix-session cookie) and the CSRF tokens bound to it.
//!
//! The session holds one random per-browser key. A form's CSRF token is the time the form was
//! rendered and an HMAC of that time, the form's purpose and what the form acts on (its
//! challenge, or the client id of a revoke button) under that key, so a token is only valid in
//! the browser it was issued to and only for what it was rendered with, and it tells, unforgeably,
//! when the page was shown (the consent page refuses an answer that comes too soon after).
//!
//! It also remembers what Hera did for an authorization request in this browser
//! ([`ReauthMarker`]): when it sent the browser to Kratos, and which identity it accepted on an
//! account switch. Markers are keyed by a short hash of the request's key (the same across
//! Hydra's restart of a request on a new challenge), so a `prompt=login`, step-up or account
//! switch round trip is accepted when the browser comes back instead of looping. Only a handful
//! of recent markers are kept, which keeps the cookie far below the 4 KB limit.

use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::{Key, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::domain::login::ReauthMarker;
use crate::model::challenge::Challenge;
use crate::telemetry::short_hash;

use crate::web::session_cookie_name;

const CSRF_KEY: &str = "csrf_key";
const REAUTH_KEY: &str = "reauth";

/// Markers older than Hydra's default challenge lifetime (30 minutes) are useless.
const MARKER_TTL_SECONDS: i64 = 30 * 60;
/// At most this many requests are remembered per browser (several tabs signing in at once).
const MAX_MARKERS: usize = 8;

/// A [`ReauthMarker`] as stored in the cookie.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredMarker {
    /// Short hash of the request key.
    c: String,
    /// Unix seconds when the marker was written (for expiry).
    t: i64,
    /// Unix seconds when Hera first sent the browser to Kratos for the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<i64>,
    /// Sent for a second factor.
    s: bool,
    /// The identity accepted on an account switch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    w: Option<String>,
}

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the render time at the start of a CSRF token (milliseconds since the Unix epoch,
/// big-endian).
const ISSUED_AT_BYTES: usize = 8;

/// The middleware that keeps Hera's session in an encrypted, `HttpOnly`, `SameSite=Lax` cookie
/// that ends with the browser session; `Secure` and named `__Host-hera_session` unless Hera is
/// reached over plain http.
pub fn middleware(key: Key, secure: bool) -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name(session_cookie_name(secure).into())
        .cookie_secure(secure)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_path("/".into())
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(BrowserSession::default())
        .build()
}

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
    /// A "sign out" button on the devices page (bound to the Kratos session id, or to the
    /// browser's own session id for "all other devices").
    EndSession,
}

impl FormPurpose {
    fn label(self) -> &'static [u8] {
        match self {
            FormPurpose::Consent => b"consent",
            FormPurpose::Logout => b"logout",
            FormPurpose::Device => b"device",
            FormPurpose::Revoke => b"revoke",
            FormPurpose::EndSession => b"end-session",
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

    /// A CSRF token for `purpose` bound to `subject_of_form` (what the form acts on) and to the
    /// render time, creating the per-browser key on first use.
    pub fn csrf_token_for(
        &self,
        purpose: FormPurpose,
        subject_of_form: &str,
    ) -> anyhow::Result<String> {
        self.csrf_token_at(purpose, subject_of_form, OffsetDateTime::now_utc())
    }

    /// [`Self::csrf_token_for`] with the render time given.
    pub fn csrf_token_at(
        &self,
        purpose: FormPurpose,
        subject_of_form: &str,
        rendered_at: OffsetDateTime,
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
        let issued = millis(rendered_at).to_be_bytes();
        let tag = mac(&key, purpose, subject_of_form, &issued)?
            .finalize()
            .into_bytes();
        let mut token = issued.to_vec();
        token.extend_from_slice(&tag);
        Ok(URL_SAFE_NO_PAD.encode(token))
    }

    /// When the form was rendered, if `token` was issued by [`Self::csrf_token_for`] in this
    /// browser for this purpose and `subject_of_form`; `None` otherwise. The MAC is compared in
    /// constant time.
    pub fn verify_csrf_for(
        &self,
        purpose: FormPurpose,
        subject_of_form: &str,
        token: &str,
    ) -> Option<OffsetDateTime> {
        let key = self.key()?;
        let token = URL_SAFE_NO_PAD.decode(token).ok()?;
        if token.len() <= ISSUED_AT_BYTES {
            return None;
        }
        let (issued, tag) = token.split_at(ISSUED_AT_BYTES);
        mac(&key, purpose, subject_of_form, issued)
            .ok()?
            .verify_slice(tag)
            .ok()?;
        let millis = i64::from_be_bytes(issued.try_into().ok()?);
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()
    }

    /// What Hera already did for the authorization request with this key in this browser.
    pub fn reauth_marker(&self, request_key: &str) -> Option<ReauthMarker> {
        let id = short_hash(request_key);
        let stored = self.markers().into_iter().find(|m| m.c == id)?;
        Some(ReauthMarker {
            sent_at: stored
                .k
                .and_then(|k| OffsetDateTime::from_unix_timestamp(k).ok()),
            step_up: stored.s,
            switched_to: stored.w,
        })
    }

    /// Records that Hera sends this browser to Kratos for the request now. The first time is
    /// kept (a later step-up must not make an earlier re-authentication look stale).
    pub fn record_reauth(
        &self,
        request_key: &str,
        now: OffsetDateTime,
        step_up: bool,
    ) -> anyhow::Result<()> {
        self.update_marker(request_key, now, |marker| {
            marker.k = marker.k.or(Some(now.unix_timestamp()));
            marker.s |= step_up;
        })
    }

    /// Records that Hera accepted the request for `identity_id` on a remembered login of
    /// another subject, so Hydra's restart of it is recognised.
    pub fn record_switch(
        &self,
        request_key: &str,
        identity_id: &str,
        now: OffsetDateTime,
    ) -> anyhow::Result<()> {
        self.update_marker(request_key, now, |marker| {
            marker.w = Some(identity_id.to_owned());
        })
    }

    /// Drops the marker of a request that has been accepted: a later request that happens to
    /// look the same starts afresh.
    pub fn forget_marker(&self, request_key: &str) -> anyhow::Result<()> {
        let id = short_hash(request_key);
        let markers = self.markers();
        if !markers.iter().any(|m| m.c == id) {
            return Ok(());
        }
        let kept: Vec<StoredMarker> = markers.into_iter().filter(|m| m.c != id).collect();
        self.0
            .insert(REAUTH_KEY, kept)
            .map_err(|e| anyhow::anyhow!("cannot store the re-authentication markers: {e}"))
    }

    fn update_marker(
        &self,
        request_key: &str,
        now: OffsetDateTime,
        change: impl FnOnce(&mut StoredMarker),
    ) -> anyhow::Result<()> {
        let id = short_hash(request_key);
        let now = now.unix_timestamp();
        let mut markers: Vec<StoredMarker> = self
            .markers()
            .into_iter()
            .filter(|m| now - m.t < MARKER_TTL_SECONDS)
            .collect();
        let index = match markers.iter().position(|m| m.c == id) {
            Some(index) => index,
            None => {
                markers.push(StoredMarker {
                    c: id,
                    t: now,
                    k: None,
                    s: false,
                    w: None,
                });
                markers.len() - 1
            }
        };
        change(&mut markers[index]);
        if markers.len() > MAX_MARKERS {
            markers.sort_by_key(|m| std::cmp::Reverse(m.t));
            markers.truncate(MAX_MARKERS);
        }
        self.0
            .insert(REAUTH_KEY, markers)
            .map_err(|e| anyhow::anyhow!("cannot store the re-authentication marker: {e}"))
    }

    fn markers(&self) -> Vec<StoredMarker> {
        self.0
            .get::<Vec<StoredMarker>>(REAUTH_KEY)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    fn key(&self) -> Option<Vec<u8>> {
        let encoded = self.0.get::<String>(CSRF_KEY).ok().flatten()?;
        URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .filter(|key| key.len() == 32)
    }
}

fn mac(
    key: &[u8],
    purpose: FormPurpose,
    subject_of_form: &str,
    issued: &[u8],
) -> anyhow::Result<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(key)?;
    mac.update(purpose.label());
    mac.update(b"\0");
    mac.update(issued);
    mac.update(subject_of_form.as_bytes());
    Ok(mac)
}

/// Milliseconds since the Unix epoch.
fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}
