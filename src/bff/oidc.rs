//! The BFF as an OAuth2 confidential client of Hydra's public API: the authorization URL
//! (with PKCE, RFC 7636), the token endpoint for codes and refresh tokens (RFC 6749 §4.1.3,
//! §6), token revocation (RFC 7009), Hydra's JWKS, and the RP-initiated logout URL (OpenID
//! Connect RP-Initiated Logout 1.0; CONTRACT.md §3.2, §3.3).
//!
//! Tokens only ever travel between the BFF and Hydra; they are wrapped in [`Token`], whose
//! `Debug` prints nothing, so no log line can carry one.

use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::header::{ACCEPT, AUTHORIZATION};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::bff::config::BffSettings;
use crate::config::ClientSecret;
use crate::ory::hydra_public::token_refusal;
pub use crate::ory::hydra_public::{pkce_challenge, random_token, TokenError};
use crate::ory::{Service, UpstreamError};

const SERVICE: Service = Service::HydraPublic;

/// Largest body read from Hydra's token, revocation or keys endpoint.
const MAX_HYDRA_BODY: usize = 256 * 1024;

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

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: Token,
    pub token_type: String,
    pub expires_in: Option<i64>,
    pub refresh_token: Option<Token>,
    pub id_token: Option<Token>,
}

/// Hydra's public API for one client.
#[derive(Debug, Clone)]
pub struct Hydra {
    http: reqwest::Client,
    /// Server-side base (token, revocation, keys).
    public: Url,
    /// Browser-facing base (authorization and logout redirects).
    browser: Url,
    client_id: String,
    client_secret: ClientSecret,
}

impl Hydra {
    pub fn new(settings: &BffSettings, http: reqwest::Client) -> Self {
        Hydra {
            http,
            public: settings.hydra_public_url.clone(),
            browser: settings.hydra_browser_url.clone(),
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
        }
    }

    /// The HTTP client for Hydra: bounded in time, never following redirects.
    pub fn http_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
        reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hera-bff/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    /// `<browser>/oauth2/auth?…`.
    pub fn authorize_url(&self, params: &[(&str, &str)]) -> Url {
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

    /// Exchanges an authorization code with its PKCE verifier.
    #[tracing::instrument(name = "bff.hydra.exchange_code", skip_all)]
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<TokenResponse, TokenError> {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ])
        .await
    }

    /// Uses a refresh token. Hydra rotates it: the answer carries a new one and the old one
    /// must never be used again (Hydra would revoke the whole chain).
    #[tracing::instrument(name = "bff.hydra.refresh", skip_all)]
    pub async fn refresh(&self, refresh_token: &Token) -> Result<TokenResponse, TokenError> {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ])
        .await
    }

    /// Revokes a token (RFC 7009); revoking a refresh token also revokes its access tokens.
    #[tracing::instrument(name = "bff.hydra.revoke", skip_all)]
    pub async fn revoke(&self, token: &Token, hint: &str) -> Result<(), TokenError> {
        let response = self
            .http
            .post(join(&self.public, &["oauth2", "revoke"]))
            .header(AUTHORIZATION, self.basic_auth())
            .form(&[("token", token.expose()), ("token_type_hint", hint)])
            .send()
            .await
            .map_err(|e| UpstreamError::from_reqwest(SERVICE, e))?;
        let status = response.status();
        let body = read_limited(response).await?;
        if status.is_success() {
            return Ok(());
        }
        Err(token_refusal(status, &body))
    }

    /// Hydra's JSON Web Key Set (`/.well-known/jwks.json`), as raw JSON.
    #[tracing::instrument(name = "bff.hydra.jwks", skip_all)]
    pub async fn jwks(&self) -> Result<Vec<u8>, UpstreamError> {
        let response = self
            .http
            .get(join(&self.public, &[".well-known", "jwks.json"]))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| UpstreamError::from_reqwest(SERVICE, e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(UpstreamError::Status {
                service: SERVICE,
                status: status.as_u16(),
            });
        }
        read_limited(response).await
    }

    async fn token(&self, form: &[(&str, &str)]) -> Result<TokenResponse, TokenError> {
        let response = self
            .http
            .post(join(&self.public, &["oauth2", "token"]))
            .header(AUTHORIZATION, self.basic_auth())
            .header(ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .map_err(|e| UpstreamError::from_reqwest(SERVICE, e))?;
        let status = response.status();
        let body = read_limited(response).await?;
        if !status.is_success() {
            return Err(token_refusal(status, &body));
        }
        let tokens: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| UpstreamError::malformed(SERVICE, e))?;
        if !tokens.token_type.eq_ignore_ascii_case("bearer") {
            return Err(UpstreamError::malformed(SERVICE, "the token type is not bearer").into());
        }
        Ok(tokens)
    }

    /// `client_secret_basic`: both parts form-urlencoded before base64 (RFC 6749 §2.3.1).
    fn basic_auth(&self) -> String {
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let credentials = format!(
            "{}:{}",
            encode(&self.client_id),
            encode(self.client_secret.expose())
        );
        format!("Basic {}", STANDARD.encode(credentials))
    }
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, UpstreamError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| UpstreamError::from_reqwest(SERVICE, e))?
    {
        if body.len() + chunk.len() > MAX_HYDRA_BODY {
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

    fn hydra(public: &str, browser: &str) -> Hydra {
        let settings = BffSettings::parse_from([
            "hera bff",
            "--client-id",
            "bff app",
            "--client-secret",
            "s3cr:t",
            "--hydra-public-url",
            public,
            "--hydra-browser-url",
            browser,
        ])
        .unwrap();
        Hydra::new(&settings, reqwest::Client::new())
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
        let hydra = hydra("http://hydra:4444", "https://auth.example.com/hydra/");
        let url = hydra.authorize_url(&[("client_id", "bff app"), ("state", "s")]);
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
        let hydra = hydra("http://hydra:4444", "http://hydra:4444");
        let header = hydra.basic_auth();
        let decoded = STANDARD
            .decode(header.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), "bff+app:s3cr%3At");
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let tokens: TokenResponse = serde_json::from_str(
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
