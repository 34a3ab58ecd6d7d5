//! The BFF as an OAuth2 confidential client of Hydra's public API: the one Hydra public client
//! ([`HydraPublic`]) bound to the BFF's client id and secret, for sign-in with PKCE (RFC 7636),
//! codes and refresh tokens (RFC 6749 §4.1.3, §6), revocation (RFC 7009), Hydra's JWKS and
//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

use url::Url;

use crate::bff::config::BffSettings;
use crate::ory::hydra_public::ClientCredentials;
pub use crate::ory::hydra_public::{
    pkce_challenge, random_token, Token, TokenError, Tokens as TokenResponse,
};
use crate::ory::{HydraPublic, UpstreamError};

/// Hydra's public API for the BFF's client.
#[derive(Debug, Clone)]
pub struct Hydra {
    public: HydraPublic,
    client: ClientCredentials,
}

impl Hydra {
    pub fn new(settings: &BffSettings, http: reqwest::Client) -> Self {
        Hydra {
            public: HydraPublic::new(&settings.hydra_public_url, http)
                .with_browser_url(&settings.hydra_browser_url),
            client: ClientCredentials::basic(
                settings.client_id.clone(),
                Some(settings.client_secret.clone()),
            ),
        }
    }

    /// `<browser>/oauth2/auth?…`.
    pub fn authorize_url(&self, params: &[(&str, &str)]) -> Url {
        self.public.browser_authorize_url(params)
    }

    /// `<browser>/oauth2/sessions/logout?id_token_hint=…&post_logout_redirect_uri=…`.
    pub fn logout_url(&self, id_token_hint: &Token, post_logout_redirect_uri: &Url) -> Url {
        self.public
            .logout_url(id_token_hint, post_logout_redirect_uri)
    }

    /// Exchanges an authorization code with its PKCE verifier.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<TokenResponse, TokenError> {
        self.public
            .exchange_code(&self.client, code, redirect_uri, Some(verifier))
            .await
    }

    /// Uses a refresh token; Hydra rotates it.
    pub async fn refresh(&self, refresh_token: &Token) -> Result<TokenResponse, TokenError> {
        self.public.refresh(&self.client, refresh_token).await
    }

    /// Revokes a token; revoking a refresh token also revokes its access tokens.
    pub async fn revoke(&self, token: &Token, hint: &str) -> Result<(), TokenError> {
        self.public.revoke(&self.client, token, hint).await
    }

    /// Hydra's JSON Web Key Set, as raw JSON.
    pub async fn jwks(&self) -> Result<Vec<u8>, UpstreamError> {
        self.public.jwks().await
    }
}
