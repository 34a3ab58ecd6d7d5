//! What Hydra tells Hera, in Hera's own terms: OAuth2 clients, login, consent and logout
//! requests, consent sessions, and the accepts and rejections Hera answers with. Plain data; the
//! `ory` layer maps Hydra's SDK models into these.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use url::Url;

/// A URL Hydra returned for the browser to follow. Only Hydra's answers construct it, so
/// redirecting to it never redirects to a URL taken from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectTo(String);

impl RedirectTo {
    /// Only the `ory` layer builds one, from Hydra's answer.
    pub fn new(url: String) -> Self {
        RedirectTo(url)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An OAuth2 client as the login and consent pages need it.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub id: String,
    pub name: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub redirect_uris: Vec<String>,
    /// Audiences the client may request (`audience`).
    pub audience: Vec<String>,
    /// Scopes the client may request (`scope`, space-separated in Hydra).
    pub scope: Vec<String>,
    /// `grant_types`; empty means Hydra's default, `authorization_code`.
    pub grant_types: Vec<String>,
    /// Origins allowed to call Hydra from a browser (`allowed_cors_origins`), as registered.
    pub allowed_cors_origins: Vec<String>,
    pub skip_consent: bool,
    pub skip_logout_consent: bool,
    pub token_endpoint_auth_method: Option<String>,
    /// `metadata` as the admin set it (`null` when unset). Only admins can set it: Hydra refuses
    /// it in dynamic client registration.
    pub metadata: Value,
}

impl Client {
    /// The name to show users: `client_name`, or the id when the client has none.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    /// True only when `metadata.<key>` is the JSON boolean `true` (not `"true"`, not `1`).
    pub fn metadata_flag(&self, key: &str) -> bool {
        self.metadata.get(key) == Some(&Value::Bool(true))
    }

    /// True when the admin made the client first-party: `skip_consent` or
    /// `metadata.first_party: true`. Both are admin-only: Hydra refuses them in dynamic client
    /// registration.
    pub fn is_first_party(&self) -> bool {
        self.skip_consent || self.metadata_flag("first_party")
    }

    /// True when the client demands a second factor (`metadata.min_aal: "aal2"`).
    pub fn requires_aal2(&self) -> bool {
        self.metadata.get("min_aal") == Some(&Value::String("aal2".into()))
    }

    /// True for a public client (`token_endpoint_auth_method: none`): no secret proves who asks.
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method.as_deref() == Some("none")
    }

    /// The web origins the client is bound to, as browsers write them in `Origin`: each of its
    /// `allowed_cors_origins`, and the origin of each http(s) `redirect_uris` entry. Custom
    /// schemes have no origin a browser could send.
    pub fn web_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = Vec::new();
        for uri in self.allowed_cors_origins.iter().chain(&self.redirect_uris) {
            let Ok(url) = Url::parse(uri) else { continue };
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                continue;
            }
            let origin = url.origin().ascii_serialization();
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        origins
    }
}

/// `oidc_context` of a login or consent request.
#[derive(Debug, Clone, Default)]
pub struct OidcContext {
    pub acr_values: Vec<String>,
    pub ui_locales: Vec<String>,
    pub login_hint: Option<String>,
    pub display: Option<String>,
    pub id_token_hint_claims: Map<String, Value>,
}

/// `GET /admin/oauth2/auth/requests/login`.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub skip: bool,
    /// The remembered subject when `skip` is true; empty otherwise.
    pub subject: String,
    pub client: Client,
    /// The original `/oauth2/auth?…` URL on Hydra's public side.
    pub request_url: String,
    pub requested_scope: Vec<String>,
    pub requested_audience: Vec<String>,
    pub session_id: Option<String>,
    pub oidc_context: OidcContext,
}

/// `GET /admin/oauth2/auth/requests/consent`.
#[derive(Debug, Clone)]
pub struct ConsentRequest {
    /// True when a remembered consent covers every requested scope.
    pub skip: bool,
    /// The identity the login was accepted for: claims are always loaded for this subject.
    pub subject: String,
    pub client: Client,
    pub request_url: String,
    pub requested_scope: Vec<String>,
    pub requested_audience: Vec<String>,
    pub oidc_context: OidcContext,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    pub login_session_id: Option<String>,
}

impl ConsentRequest {
    /// True when the request authorises a device (RFC 8628): Hydra's `request_url` is then its
    /// `/oauth2/device/verify` URL rather than `/oauth2/auth`.
    pub fn is_device_flow(&self) -> bool {
        Url::parse(&self.request_url).is_ok_and(|url| url.path().ends_with("/oauth2/device/verify"))
    }

    /// The host the browser will be sent back to: the `redirect_uri` of the authorization
    /// request, or the client's only registered redirect URI when the request named none.
    pub fn redirect_host(&self) -> Option<String> {
        let from_request = Url::parse(&self.request_url).ok().and_then(|url| {
            url.query_pairs()
                .find(|(key, _)| key == "redirect_uri")
                .map(|(_, value)| value.into_owned())
        });
        let redirect_uri = match (from_request, self.client.redirect_uris.as_slice()) {
            (Some(uri), _) => uri,
            (None, [only]) => only.clone(),
            (None, _) => return None,
        };
        Url::parse(&redirect_uri)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
    }
}

/// Body of a login accept.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginAccept {
    pub subject: String,
    pub remember: bool,
    /// Seconds; `None` sends nothing. Never `Some(0)`: Hydra reads 0 as its 30-day default.
    pub remember_for: Option<i64>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    pub identity_provider_session_id: Option<String>,
    pub extend_session_lifespan: bool,
}

/// Body of a consent accept.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentAccept {
    pub grant_scope: Vec<String>,
    pub grant_audience: Vec<String>,
    pub remember: bool,
    /// Seconds; 0 means "forever" to Hydra, so Hera only sends it with `remember`.
    pub remember_for: i64,
    pub id_token_claims: Map<String, Value>,
}

/// An OAuth2 error to reject a login or consent request with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthRejection {
    pub error: &'static str,
    pub description: String,
}

impl OAuthRejection {
    /// The user pressed "Deny" (RFC 6749 §4.1.2.1).
    pub fn access_denied() -> Self {
        OAuthRejection {
            error: "access_denied",
            description: "The resource owner denied the request".into(),
        }
    }
}

/// `GET /admin/oauth2/auth/requests/logout`.
#[derive(Debug, Clone)]
pub struct LogoutRequest {
    /// The identity being signed out.
    pub subject: String,
    /// True when the client started the logout with an `id_token_hint`.
    pub rp_initiated: bool,
    /// The client that asked; `None` for a logout the user started at Hydra directly.
    pub client: Option<Client>,
}

/// One consent a subject granted (`GET /admin/oauth2/auth/sessions/consent`).
#[derive(Debug, Clone)]
pub struct ConsentSession {
    pub client: Client,
    pub granted_scope: Vec<String>,
    pub granted_audience: Vec<String>,
    /// The person asked Hydra to remember the consent (or Hera did, for an automatic one).
    pub remembered: bool,
    /// When the consent was given; `None` when Hydra has no time for it.
    pub handled_at: Option<OffsetDateTime>,
}
