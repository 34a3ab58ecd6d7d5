//! Hydra's public API, the one client for every role that talks to it as an OAuth2 client:
//! - the authorization endpoint, as URLs for browsers, and one redirect hop at a time for the
//!   session bridge, which plays the browser's part itself;
//! - the token endpoint for codes (RFC 6749 §4.1.3, with PKCE per RFC 7636) and refresh tokens
//!   (§6), token revocation (RFC 7009), Hydra's JWKS, and RP-initiated logout URLs.
//!
//! It never follows a redirect on its own: the caller looks at every `Location` and decides, so
//! Hera only ever sends requests to Hydra's own origin. Answers are read up to a size limit, a
//! token response must say `token_type: bearer`, and tokens are wrapped in [`Token`], whose
//! `Debug` prints nothing, so no log line can carry one.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use reqwest::header::{ACCEPT, AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use super::api::Api;
use super::{Service, UpstreamError};
use crate::metrics::Metrics;
use crate::secrets::ClientSecret;

const SERVICE: Service = Service::HydraPublic;

/// Largest body read from Hydra's token, revocation or keys endpoint.
const MAX_BODY: usize = 256 * 1024;

/// A token or other credential. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Self {
        Token(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// An OAuth2 client as it authenticates at the token endpoint: with a secret, by HTTP Basic
/// (`client_secret_basic`) or in the form (`client_secret_post`, when `post`), or as a public
/// client (`client_id` in the form). Hydra refuses a secret sent another way than the client is
/// registered for.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub id: String,
    pub secret: Option<ClientSecret>,
    /// Send the secret in the form (`client_secret_post`) rather than by HTTP Basic.
    pub post: bool,
}

impl ClientCredentials {
    /// `client_secret_basic` with `secret`, or a public client without one.
    pub fn basic(id: impl Into<String>, secret: Option<ClientSecret>) -> Self {
        ClientCredentials {
            id: id.into(),
            secret,
            post: false,
        }
    }
}

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

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Deserialize)]
pub struct Tokens {
    pub access_token: Token,
    pub token_type: String,
    pub expires_in: Option<i64>,
    pub scope: Option<String>,
    pub refresh_token: Option<Token>,
    pub id_token: Option<Token>,
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

/// Hydra's public API.
#[derive(Debug, Clone)]
pub struct HydraPublic {
    api: Api,
    /// Where Hera reaches Hydra server-side.
    base: Url,
    /// Where browsers reach Hydra (authorization and logout redirects).
    browser: Url,
}

impl HydraPublic {
    pub fn new(public_url: &Url, http: reqwest::Client) -> Self {
        HydraPublic {
            api: Api::new(SERVICE, http),
            base: public_url.clone(),
            browser: public_url.clone(),
        }
    }

    /// The same client, counting its calls in `metrics`.
    pub fn with_metrics(mut self, metrics: Option<Arc<Metrics>>) -> Self {
        self.api = self.api.counted(metrics);
        self
    }

    /// The same client, sending browsers to `browser_url` instead of the server-side URL.
    pub fn with_browser_url(mut self, browser_url: &Url) -> Self {
        self.browser = browser_url.clone();
        self
    }

    /// `<browser>/oauth2/auth?<params>`, for a browser to follow.
    pub fn browser_authorize_url(&self, params: &[(&str, &str)]) -> Url {
        let mut url = join(&self.browser, &["oauth2", "auth"]);
        url.query_pairs_mut().extend_pairs(params);
        url
    }

    /// `<browser>/oauth2/sessions/logout?id_token_hint=…&post_logout_redirect_uri=…`.
    pub fn logout_url(&self, id_token_hint: &Token, post_logout_redirect_uri: &Url) -> Url {
        let mut url = join(&self.browser, &["oauth2", "sessions", "logout"]);
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token_hint.expose())
            .append_pair(
                "post_logout_redirect_uri",
                post_logout_redirect_uri.as_str(),
            );
        url
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
        let mut request = self.api.http().get(url.clone());
        if let Some(cookies) = jar.header() {
            request = request.header(COOKIE, cookies);
        }
        let response = self.api.send("hop", request).await?;
        for value in response.headers().get_all(SET_COOKIE) {
            if let Ok(value) = value.to_str() {
                jar.store(value);
            }
        }
        let status = response.status();
        if !status.is_redirection() {
            return Err(UpstreamError::status(SERVICE, status));
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| UpstreamError::malformed(SERVICE, "a redirect without Location"))?;
        url.join(location)
            .map_err(|e| UpstreamError::malformed(SERVICE, e))
    }

    /// Exchanges an authorization code (RFC 6749 §4.1.3), with its PKCE verifier when the
    /// flow used one (RFC 7636 §4.5).
    #[tracing::instrument(name = "hydra_public.exchange_code", skip_all)]
    pub async fn exchange_code(
        &self,
        client: &ClientCredentials,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
    ) -> Result<Tokens, TokenError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier));
        }
        self.token(client, form).await
    }

    /// Uses a refresh token. Hydra rotates it: the answer carries a new one and the old one
    /// must never be used again (Hydra would revoke the whole chain).
    #[tracing::instrument(name = "hydra_public.refresh", skip_all)]
    pub async fn refresh(
        &self,
        client: &ClientCredentials,
        refresh_token: &Token,
    ) -> Result<Tokens, TokenError> {
        let form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        self.token(client, form).await
    }

    /// Revokes a token (RFC 7009); revoking a refresh token also revokes its access tokens.
    #[tracing::instrument(name = "hydra_public.revoke", skip_all)]
    pub async fn revoke(
        &self,
        client: &ClientCredentials,
        token: &Token,
        hint: &str,
    ) -> Result<(), TokenError> {
        let form = vec![("token", token.expose()), ("token_type_hint", hint)];
        let request = authenticated(
            self.api
                .http()
                .post(join(&self.base, &["oauth2", "revoke"])),
            client,
            form,
        );
        let response = self.api.send("revoke", request).await?;
        let status = response.status();
        let body = read_limited(response).await?;
        if status.is_success() {
            return Ok(());
        }
        Err(token_refusal(status, &body))
    }

    /// Whether Hydra accepts these credentials, asked without side effects: a revocation of a
    /// token that does not exist, which Hydra answers 200 for an authenticated client (RFC 7009
    /// §2.2: an invalid token is no error) and 401 `invalid_client` otherwise (§2.2.1). Hydra
    /// has no other endpoint that checks a client secret and does nothing else.
    #[tracing::instrument(name = "hydra_public.authenticates", skip_all)]
    pub async fn authenticates(&self, client: &ClientCredentials) -> Result<bool, UpstreamError> {
        let probe = format!("hera-client-check.{}", random_token(16));
        match self
            .revoke(client, &Token::new(probe), "access_token")
            .await
        {
            Ok(()) => Ok(true),
            Err(TokenError::Refused { error, .. }) if error == "invalid_client" => Ok(false),
            Err(TokenError::Refused { status, .. }) => Err(UpstreamError::Status {
                service: SERVICE,
                status,
            }),
            Err(TokenError::Upstream(error)) => Err(error),
        }
    }

    /// Hydra's JSON Web Key Set (`/.well-known/jwks.json`), as raw JSON.
    #[tracing::instrument(name = "hydra_public.jwks", skip_all)]
    pub async fn jwks(&self) -> Result<Vec<u8>, UpstreamError> {
        let request = self
            .api
            .http()
            .get(join(&self.base, &[".well-known", "jwks.json"]))
            .header(ACCEPT, "application/json");
        let response = self.api.send("jwks", request).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(UpstreamError::status(SERVICE, status));
        }
        read_limited(response).await
    }

    async fn token(
        &self,
        client: &ClientCredentials,
        form: Vec<(&str, &str)>,
    ) -> Result<Tokens, TokenError> {
        let request = self
            .api
            .http()
            .post(join(&self.base, &["oauth2", "token"]))
            .header(ACCEPT, "application/json");
        let response = self
            .api
            .send("token", authenticated(request, client, form))
            .await?;
        let status = response.status();
        let body = read_limited(response).await?;
        if !status.is_success() {
            return Err(token_refusal(status, &body));
        }
        let tokens: Tokens =
            serde_json::from_slice(&body).map_err(|e| UpstreamError::malformed(SERVICE, e))?;
        if !tokens.token_type.eq_ignore_ascii_case("bearer") {
            return Err(UpstreamError::malformed(SERVICE, "the token type is not bearer").into());
        }
        Ok(tokens)
    }

    fn endpoint(&self, name: &str) -> Url {
        join(&self.base, &["oauth2", name])
    }
}

/// The form, authenticated as `client`: `client_secret_basic` with both parts form-urlencoded
/// before base64 (RFC 6749 §2.3.1), `client_id` and `client_secret` in the form for
/// `client_secret_post`, or `client_id` in the form for a public client.
fn authenticated<'a>(
    request: reqwest::RequestBuilder,
    client: &'a ClientCredentials,
    mut form: Vec<(&'a str, &'a str)>,
) -> reqwest::RequestBuilder {
    match &client.secret {
        Some(secret) if client.post => {
            form.push(("client_id", client.id.as_str()));
            form.push(("client_secret", secret.expose()));
            request.form(&form)
        }
        Some(secret) => request
            .header(AUTHORIZATION, basic_auth(&client.id, secret.expose()))
            .form(&form),
        None => {
            form.push(("client_id", client.id.as_str()));
            request.form(&form)
        }
    }
}

fn basic_auth(client_id: &str, secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let credentials = STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)));
    format!("Basic {credentials}")
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, UpstreamError> {
    let mut body = Vec::new();
    while let Some(chunk) = crate::timing::upstream(response.chunk())
        .await
        .map_err(|e| UpstreamError::from_reqwest(SERVICE, e))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(UpstreamError::malformed(SERVICE, "the answer is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
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

    #[test]
    fn the_pkce_challenge_is_rfc_7636s_example() {
        // RFC 7636 Appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(random_token(32).len(), 43);
        assert_ne!(random_token(32), random_token(32));
    }

    #[test]
    fn browser_urls_use_the_browser_base_and_keep_its_path() {
        let hydra = public("http://hydra:4444")
            .with_browser_url(&Url::parse("https://auth.example.com/hydra/").unwrap());
        let url = hydra.browser_authorize_url(&[("client_id", "bff app"), ("state", "s")]);
        assert_eq!(
            url.as_str(),
            "https://auth.example.com/hydra/oauth2/auth?client_id=bff+app&state=s"
        );
        let logout = hydra.logout_url(
            &Token::new("a.b.c"),
            &Url::parse("https://app.example.com/").unwrap(),
        );
        assert_eq!(
            logout.as_str(),
            "https://auth.example.com/hydra/oauth2/sessions/logout?id_token_hint=a.b.c&post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2F"
        );
    }

    #[test]
    fn client_credentials_are_form_encoded_before_base64() {
        let header = basic_auth("bff app", "s3cr:t");
        let decoded = STANDARD
            .decode(header.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), "bff+app:s3cr%3At");
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let tokens: Tokens = serde_json::from_str(
            r#"{"access_token":"ory_at_x","token_type":"bearer","refresh_token":"ory_rt_y","id_token":"h.p.s","expires_in":3600}"#,
        )
        .unwrap();
        let printed = format!("{tokens:?}");
        assert!(!printed.contains("ory_at_x") && !printed.contains("ory_rt_y"));
        assert!(!printed.contains("h.p.s"));
    }

    #[test]
    fn only_invalid_grant_kills_a_session() {
        let refused = |error: &str| TokenError::Refused {
            status: 400,
            error: error.into(),
        };
        assert!(refused("invalid_grant").is_invalid_grant());
        assert!(!refused("invalid_client").is_invalid_grant());
        let body = br#"{"error":"invalid_grant","error_description":"x"}"#;
        assert!(token_refusal(reqwest::StatusCode::BAD_REQUEST, body).is_invalid_grant());
        assert!(matches!(
            token_refusal(reqwest::StatusCode::BAD_GATEWAY, body),
            TokenError::Upstream(UpstreamError::Status { status: 502, .. })
        ));
    }
}
