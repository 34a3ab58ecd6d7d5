//! Hydra's public API as a server-side client: one redirect hop at a time through
//! `/oauth2/auth`, and the token endpoint (CONTRACT.md §1.3, §3.1, §3.2).
//!
//! Used by the session bridge, which plays the browser's part itself. It never follows a
//! redirect on its own: the caller looks at every `Location` and decides, so Hera only ever
//! sends requests to Hydra's own origin.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use reqwest::header::{AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::Url;

use super::{Service, UpstreamError};

const SERVICE: Service = Service::HydraPublic;

/// Cookies Hydra sets during one flow (its login and consent CSRF cookies), sent back on the
/// following hops. One jar per flow, never shared between users.
#[derive(Debug, Default)]
pub struct CookieJar(BTreeMap<String, String>);

impl CookieJar {
    fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn store(&mut self, set_cookie: &str) {
        let pair = set_cookie.split(';').next().unwrap_or_default();
        if let Some((name, value)) = pair.split_once('=') {
            let (name, value) = (name.trim(), value.trim());
            if value.is_empty() {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }
}

/// A token response (RFC 6749 §5.1), without the refresh token, which Hera never hands out.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: Option<i64>,
    pub scope: Option<String>,
    pub id_token: Option<String>,
}

/// Hydra refused a token request (`{"error", "error_description"}`), or could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// `{"error": …}` with a 4xx: `invalid_grant` means the code or refresh token is no good.
    #[error("Hydra refused the token request: {error}")]
    Refused { status: u16, error: String },
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

impl TokenError {
    /// The grant itself is dead (used, expired, revoked, or reused and so revoked): nothing but
    /// a new sign-in helps.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, TokenError::Refused { error, .. } if error == "invalid_grant")
    }
}

/// The error of an unsuccessful token-endpoint answer: a 4xx `{"error": …}` is a refusal;
/// anything else means Hydra is not working.
pub fn token_refusal(status: reqwest::StatusCode, body: &[u8]) -> TokenError {
    #[derive(Deserialize)]
    struct OAuthError {
        error: String,
    }
    match serde_json::from_slice::<OAuthError>(body) {
        Ok(refusal) if status.is_client_error() => TokenError::Refused {
            status: status.as_u16(),
            error: refusal.error,
        },
        _ => UpstreamError::Status {
            service: SERVICE,
            status: status.as_u16(),
        }
        .into(),
    }
}

/// `n` random bytes as unpadded base64url: 32 bytes give 256 bits (and a 43-character RFC 7636
/// code verifier).
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The PKCE S256 challenge of `verifier` (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// How the client authenticates at the token endpoint.
pub enum ClientAuth<'a> {
    /// `client_secret_basic`.
    Secret(&'a str),
    /// A public client proving possession with a PKCE verifier.
    Pkce(&'a str),
}

/// Hydra's public API.
#[derive(Debug, Clone)]
pub struct HydraPublic {
    http: reqwest::Client,
    base: Url,
}

impl HydraPublic {
    pub fn new(public_url: &Url, http: reqwest::Client) -> Self {
        HydraPublic {
            http,
            base: public_url.clone(),
        }
    }

    /// `<public>/oauth2/auth?<params>`.
    pub fn authorize_url(&self, params: &[(&str, &str)]) -> Url {
        let mut url = self.endpoint("auth");
        url.query_pairs_mut().extend_pairs(params);
        url
    }

    /// True when `url` is on Hydra's public origin (and under its path, if it has one).
    pub fn owns(&self, url: &Url) -> bool {
        url.origin() == self.base.origin()
            && url
                .path()
                .starts_with(self.base.path().trim_end_matches('/'))
    }

    /// GETs one URL on Hydra's origin and returns where Hydra redirects next, resolved
    /// against it. Anything but a redirect is an upstream failure.
    #[tracing::instrument(name = "hydra_public.hop", skip_all)]
    pub async fn hop(&self, url: &Url, jar: &mut CookieJar) -> Result<Url, UpstreamError> {
        if !self.owns(url) {
            return Err(UpstreamError::malformed(
                SERVICE,
                "refusing to follow a redirect off Hydra's origin",
            ));
        }
        let mut request = self.http.get(url.clone());
        if let Some(cookies) = jar.header() {
            request = request.header(COOKIE, cookies);
        }
        let response = crate::timing::upstream(request.send())
            .await
            .map_err(|e| UpstreamError::from_reqwest(SERVICE, e))?;
        for value in response.headers().get_all(SET_COOKIE) {
            if let Ok(value) = value.to_str() {
                jar.store(value);
            }
        }
        let status = response.status();
        if !status.is_redirection() {
            return Err(UpstreamError::Status {
                service: SERVICE,
                status: status.as_u16(),
            });
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| UpstreamError::malformed(SERVICE, "a redirect without Location"))?;
        url.join(location)
            .map_err(|e| UpstreamError::malformed(SERVICE, e))
    }

    /// Exchanges an authorization code (RFC 6749 §4.1.3, with PKCE per RFC 7636 §4.5).
    #[tracing::instrument(name = "hydra_public.token", skip_all)]
    pub async fn exchange_code(
        &self,
        client_id: &str,
        auth: ClientAuth<'_>,
        code: &str,
        redirect_uri: &str,
    ) -> Result<Tokens, TokenError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        let mut request = self.http.post(self.endpoint("token"));
        match auth {
            ClientAuth::Secret(secret) => {
                // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
                let encode = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let credentials =
                    STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)));
                request = request.header(AUTHORIZATION, format!("Basic {credentials}"));
            }
            ClientAuth::Pkce(verifier) => {
                form.push(("client_id", client_id));
                form.push(("code_verifier", verifier));
            }
        }
        let response = crate::timing::upstream(request.form(&form).send())
            .await
            .map_err(|e| UpstreamError::from_reqwest(SERVICE, e))?;
        let status = response.status();
        let body = crate::timing::upstream(response.bytes())
            .await
            .map_err(|e| UpstreamError::from_reqwest(SERVICE, e))?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| UpstreamError::malformed(SERVICE, e).into());
        }
        Err(token_refusal(status, &body))
    }

    fn endpoint(&self, name: &str) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map(|mut segments| {
                segments.pop_if_empty().extend(["oauth2", name]);
            })
            .ok();
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(base: &str) -> HydraPublic {
        HydraPublic::new(&Url::parse(base).unwrap(), reqwest::Client::new())
    }

    #[test]
    fn the_jar_keeps_the_latest_value_and_drops_cleared_cookies() {
        let mut jar = CookieJar::default();
        jar.store("ory_hydra_login_csrf_dev_1=abc; Path=/; HttpOnly; SameSite=Lax");
        jar.store("other=1");
        jar.store("ory_hydra_login_csrf_dev_1=def; Path=/");
        assert_eq!(
            jar.header().as_deref(),
            Some("ory_hydra_login_csrf_dev_1=def; other=1")
        );
        jar.store("other=; Max-Age=0");
        assert_eq!(
            jar.header().as_deref(),
            Some("ory_hydra_login_csrf_dev_1=def")
        );
    }

    #[test]
    fn only_urls_on_hydras_origin_and_path_are_owned() {
        let hydra = public("https://auth.example.com/hydra");
        let owned = |u: &str| hydra.owns(&Url::parse(u).unwrap());
        assert!(owned("https://auth.example.com/hydra/oauth2/auth?x=1"));
        assert!(!owned("https://auth.example.com/other"));
        assert!(!owned("http://auth.example.com/hydra/oauth2/auth"));
        assert!(!owned(
            "https://auth.example.com.evil.test/hydra/oauth2/auth"
        ));
        assert!(!owned("https://app.example.com/callback?code=x"));
    }

    #[test]
    fn the_authorize_url_is_under_the_public_base() {
        let url = public("http://127.0.0.1:4444/").authorize_url(&[("client_id", "a b")]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:4444/oauth2/auth?client_id=a+b"
        );
    }
}
