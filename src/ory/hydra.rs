//! The Hydra admin API: login, consent and logout requests, device user codes, consent
//! sessions and clients.
//!
//! Bodies are `ory-hydra-client`'s models (they have no closed enums on these endpoints); the
//! calls themselves go through [`Api`], so each carries the request's id and trace context and
//! is counted. Errors are classified by HTTP status: 404 unknown challenge, 401 expired, 410
//! `{redirect_to}` already handled.

use std::sync::Arc;

use ory_hydra_client::models;
use reqwest::header::LINK;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use url::Url;

use super::api::Api;
use super::{Service, UpstreamError};
use crate::metrics::Metrics;
use crate::model::{
    Challenge, Client, ConsentAccept, ConsentRequest, ConsentSession, LoginAccept, LoginRequest,
    LogoutRequest, OAuthRejection, OidcContext, RedirectTo, UserCode,
};

/// A failed call to Hydra, classified by what it means for the user.
#[derive(Debug, thiserror::Error)]
pub enum HydraError {
    /// Hydra does not know the challenge (404): garbage, wrong kind, or another deployment's.
    #[error("Hydra does not know this challenge")]
    NotFound,
    /// The challenge is older than `ttl.login_consent_request` (401 `request_unauthorized`).
    #[error("the challenge has expired")]
    Expired,
    /// The request was already handled (410); the browser should go to `redirect_to`.
    #[error("the request was already handled")]
    AlreadyHandled { redirect_to: RedirectTo },
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

/// Hydra's admin API.
#[derive(Debug, Clone)]
pub struct HydraAdmin {
    api: Api,
    admin_url: Url,
    /// Hydra's public URL, against which relative `redirect_to` values are resolved.
    public_url: Url,
}

impl HydraAdmin {
    /// `http` should be a client for the admin API ([`super::http_client`] with its headers).
    pub fn new(admin_url: &Url, public_url: &Url, http: reqwest::Client) -> Self {
        HydraAdmin {
            api: Api::new(Service::HydraAdmin, http),
            admin_url: admin_url.clone(),
            public_url: public_url.clone(),
        }
    }

    /// The same client, counting its calls in `metrics`.
    pub fn with_metrics(mut self, metrics: Option<Arc<Metrics>>) -> Self {
        self.api = self.api.counted(metrics);
        self
    }

    fn redirect(&self, answer: models::OAuth2RedirectTo) -> RedirectTo {
        redirect_to(&self.public_url, answer.redirect_to)
    }

    /// A request to `path` under the admin API, with `query`.
    fn request(&self, method: Method, path: &str, query: &[(&str, &str)]) -> RequestBuilder {
        let url = crate::urls::join(&self.admin_url, path);
        let request = self.api.http().request(method, url);
        if query.is_empty() {
            request
        } else {
            request.query(query)
        }
    }

    /// Sends `request`; a 2xx answer is read as `T`, anything else classified.
    async fn call<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        request: RequestBuilder,
    ) -> Result<T, HydraError> {
        let response = self.api.send(operation, request).await?;
        if response.status().is_success() {
            Ok(self.api.json(response).await?)
        } else {
            Err(self.failure(response).await)
        }
    }

    /// Sends `request`, expecting an answer without a body (204).
    async fn call_empty(
        &self,
        operation: &'static str,
        request: RequestBuilder,
    ) -> Result<(), HydraError> {
        let response = self.api.send(operation, request).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.failure(response).await)
        }
    }

    /// `PUT` of `body` to a request's `accept` or `reject` path, answered with `redirect_to`.
    async fn answer<B: Serialize>(
        &self,
        operation: &'static str,
        path: &str,
        challenge: (&str, &Challenge),
        body: Option<&B>,
    ) -> Result<RedirectTo, HydraError> {
        let mut request = self.request(Method::PUT, path, &[(challenge.0, challenge.1.as_str())]);
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer: models::OAuth2RedirectTo = self.call(operation, request).await?;
        Ok(self.redirect(answer))
    }

    /// Maps a failed answer to its meaning. Only the status and, for 410, the `redirect_to`
    /// field are read from the body; nothing upstream ever reaches a page.
    async fn failure(&self, response: Response) -> HydraError {
        match response.status() {
            StatusCode::NOT_FOUND => HydraError::NotFound,
            StatusCode::UNAUTHORIZED => HydraError::Expired,
            StatusCode::GONE => {
                #[derive(Deserialize)]
                struct Gone {
                    redirect_to: String,
                }
                match self.api.json::<Gone>(response).await {
                    Ok(gone) => HydraError::AlreadyHandled {
                        redirect_to: redirect_to(&self.public_url, gone.redirect_to),
                    },
                    Err(error) => error.into(),
                }
            }
            status => UpstreamError::status(Service::HydraAdmin, status).into(),
        }
    }

    #[tracing::instrument(name = "hydra.login_request", skip_all)]
    pub async fn login_request(&self, challenge: &Challenge) -> Result<LoginRequest, HydraError> {
        let request: models::OAuth2LoginRequest = self
            .call(
                "login_request",
                self.request(
                    Method::GET,
                    "/admin/oauth2/auth/requests/login",
                    &[("login_challenge", challenge.as_str())],
                ),
            )
            .await?;
        Ok(LoginRequest {
            skip: request.skip,
            subject: request.subject,
            client: client_from_sdk(*request.client),
            request_url: request.request_url,
            requested_scope: request.requested_scope.unwrap_or_default(),
            requested_audience: request.requested_access_token_audience.unwrap_or_default(),
            session_id: non_empty(request.session_id),
            oidc_context: oidc_context_from_sdk(request.oidc_context),
        })
    }

    #[tracing::instrument(name = "hydra.accept_login", skip_all)]
    pub async fn accept_login(
        &self,
        challenge: &Challenge,
        accept: LoginAccept,
    ) -> Result<RedirectTo, HydraError> {
        let body = models::AcceptOAuth2LoginRequest {
            subject: accept.subject,
            remember: Some(accept.remember),
            remember_for: accept.remember_for,
            acr: accept.acr,
            amr: Some(accept.amr),
            identity_provider_session_id: accept.identity_provider_session_id,
            extend_session_lifespan: Some(accept.extend_session_lifespan),
            ..models::AcceptOAuth2LoginRequest::default()
        };
        self.answer(
            "accept_login",
            "/admin/oauth2/auth/requests/login/accept",
            ("login_challenge", challenge),
            Some(&body),
        )
        .await
    }

    #[tracing::instrument(name = "hydra.reject_login", skip_all)]
    pub async fn reject_login(
        &self,
        challenge: &Challenge,
        rejection: OAuthRejection,
    ) -> Result<RedirectTo, HydraError> {
        self.answer(
            "reject_login",
            "/admin/oauth2/auth/requests/login/reject",
            ("login_challenge", challenge),
            Some(&rejection_body(rejection)),
        )
        .await
    }

    #[tracing::instrument(name = "hydra.consent_request", skip_all)]
    pub async fn consent_request(
        &self,
        challenge: &Challenge,
    ) -> Result<ConsentRequest, HydraError> {
        let request: models::OAuth2ConsentRequest = self
            .call(
                "consent_request",
                self.request(
                    Method::GET,
                    "/admin/oauth2/auth/requests/consent",
                    &[("consent_challenge", challenge.as_str())],
                ),
            )
            .await?;
        let subject = non_empty(request.subject).ok_or_else(|| {
            UpstreamError::malformed(Service::HydraAdmin, "consent request without a subject")
        })?;
        let client = request.client.ok_or_else(|| {
            UpstreamError::malformed(Service::HydraAdmin, "consent request without a client")
        })?;
        Ok(ConsentRequest {
            skip: request.skip.unwrap_or(false),
            subject,
            client: client_from_sdk(*client),
            request_url: request.request_url.unwrap_or_default(),
            requested_scope: request.requested_scope.unwrap_or_default(),
            requested_audience: request.requested_access_token_audience.unwrap_or_default(),
            oidc_context: oidc_context_from_sdk(request.oidc_context),
            acr: non_empty(request.acr),
            amr: request.amr.unwrap_or_default(),
            login_session_id: non_empty(request.login_session_id),
        })
    }

    #[tracing::instrument(name = "hydra.accept_consent", skip_all)]
    pub async fn accept_consent(
        &self,
        challenge: &Challenge,
        accept: ConsentAccept,
    ) -> Result<RedirectTo, HydraError> {
        let body = models::AcceptOAuth2ConsentRequest {
            grant_scope: Some(accept.grant_scope),
            grant_access_token_audience: Some(accept.grant_audience),
            remember: Some(accept.remember),
            remember_for: accept.remember.then_some(accept.remember_for),
            session: Some(Box::new(models::AcceptOAuth2ConsentRequestSession {
                access_token: None,
                id_token: Some(Some(Value::Object(accept.id_token_claims))),
            })),
            context: None,
        };
        self.answer(
            "accept_consent",
            "/admin/oauth2/auth/requests/consent/accept",
            ("consent_challenge", challenge),
            Some(&body),
        )
        .await
    }

    #[tracing::instrument(name = "hydra.reject_consent", skip_all)]
    pub async fn reject_consent(
        &self,
        challenge: &Challenge,
        rejection: OAuthRejection,
    ) -> Result<RedirectTo, HydraError> {
        self.answer(
            "reject_consent",
            "/admin/oauth2/auth/requests/consent/reject",
            ("consent_challenge", challenge),
            Some(&rejection_body(rejection)),
        )
        .await
    }

    /// `GET /health/ready` on the admin API.
    pub async fn is_ready(&self) -> Result<(), UpstreamError> {
        self.call_empty("ready", self.request(Method::GET, "/health/ready", &[]))
            .await
            .map_err(|error| match error {
                HydraError::Upstream(error) => error,
                other => UpstreamError::malformed(Service::HydraAdmin, other),
            })
    }
}

/// Hydra's client model in Hera's terms.
fn client_from_sdk(client: models::OAuth2Client) -> Client {
    Client {
        id: client.client_id.unwrap_or_default(),
        name: non_empty(client.client_name),
        client_uri: non_empty(client.client_uri),
        logo_uri: non_empty(client.logo_uri),
        policy_uri: non_empty(client.policy_uri),
        tos_uri: non_empty(client.tos_uri),
        redirect_uris: client.redirect_uris.unwrap_or_default(),
        audience: client.audience.unwrap_or_default(),
        scope: client
            .scope
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        grant_types: client.grant_types.unwrap_or_default(),
        allowed_cors_origins: client.allowed_cors_origins.unwrap_or_default(),
        skip_consent: client.skip_consent.unwrap_or(false),
        skip_logout_consent: client.skip_logout_consent.unwrap_or(false),
        token_endpoint_auth_method: non_empty(client.token_endpoint_auth_method),
        metadata: client.metadata.flatten().unwrap_or(Value::Null),
    }
}

fn oidc_context_from_sdk(
    context: Option<Box<models::OAuth2ConsentRequestOpenIdConnectContext>>,
) -> OidcContext {
    let Some(context) = context else {
        return OidcContext::default();
    };
    OidcContext {
        acr_values: context.acr_values.unwrap_or_default(),
        ui_locales: context.ui_locales.unwrap_or_default(),
        login_hint: non_empty(context.login_hint),
        display: non_empty(context.display),
        id_token_hint_claims: context
            .id_token_hint_claims
            .map(|claims| claims.into_iter().collect())
            .unwrap_or_default(),
    }
}

fn rejection_body(rejection: OAuthRejection) -> models::RejectOAuth2Request {
    models::RejectOAuth2Request {
        error: Some(rejection.error.to_owned()),
        error_description: Some(rejection.description),
        ..models::RejectOAuth2Request::default()
    }
}

/// Where Hydra sends the browser. Hydra writes some of these relative to its public URL (the
/// `request_url` of a logout it already handled is `/oauth2/sessions/logout?…`), so they are
/// resolved against it; a browser would otherwise resolve them against Hera.
fn redirect_to(public_url: &Url, raw: String) -> RedirectTo {
    match public_url.join(&raw) {
        Ok(absolute) if Url::parse(&raw).is_err() => RedirectTo::new(absolute.to_string()),
        _ => RedirectTo::new(raw),
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.trim().is_empty())
}

/// What Hydra made of a user code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserCodeVerdict {
    /// The code belongs to a waiting device: continue at `redirect_to` (sign-in and consent).
    Accepted(RedirectTo),
    /// No such code, or it expired (400 `invalid_request`).
    Refused,
}

/// Consent sessions asked for per page: the spec's largest `page_size`.
const CONSENT_PAGE_SIZE: u32 = 500;
/// Pages read at most (10 000 consents); past that the list is cut short and a warning logged.
const MAX_CONSENT_PAGES: usize = 20;

impl HydraAdmin {
    #[tracing::instrument(name = "hydra.logout_request", skip_all)]
    pub async fn logout_request(&self, challenge: &Challenge) -> Result<LogoutRequest, HydraError> {
        let request: models::OAuth2LogoutRequest = self
            .call(
                "logout_request",
                self.request(
                    Method::GET,
                    "/admin/oauth2/auth/requests/logout",
                    &[("logout_challenge", challenge.as_str())],
                ),
            )
            .await?;
        Ok(LogoutRequest {
            subject: request.subject.unwrap_or_default(),
            rp_initiated: request.rp_initiated.unwrap_or(false),
            client: request.client.map(|client| client_from_sdk(*client)),
        })
    }

    /// `PUT …/logout/accept` (no body): Hydra's `/oauth2/sessions/logout?logout_verifier=…`.
    #[tracing::instrument(name = "hydra.accept_logout", skip_all)]
    pub async fn accept_logout(&self, challenge: &Challenge) -> Result<RedirectTo, HydraError> {
        self.answer::<()>(
            "accept_logout",
            "/admin/oauth2/auth/requests/logout/accept",
            ("logout_challenge", challenge),
            None,
        )
        .await
    }

    /// `PUT …/logout/reject` (no body): 204, after which Hera decides where the user goes.
    #[tracing::instrument(name = "hydra.reject_logout", skip_all)]
    pub async fn reject_logout(&self, challenge: &Challenge) -> Result<(), HydraError> {
        self.call_empty(
            "reject_logout",
            self.request(
                Method::PUT,
                "/admin/oauth2/auth/requests/logout/reject",
                &[("logout_challenge", challenge.as_str())],
            ),
        )
        .await
    }

    /// `PUT /admin/oauth2/auth/requests/device/accept?device_challenge=…` with the user code.
    #[tracing::instrument(name = "hydra.accept_user_code", skip_all)]
    pub async fn accept_user_code(
        &self,
        challenge: &Challenge,
        user_code: &UserCode,
    ) -> Result<UserCodeVerdict, HydraError> {
        let body = models::AcceptDeviceUserCodeRequest {
            user_code: Some(user_code.as_str().to_owned()),
        };
        let request = self
            .request(
                Method::PUT,
                "/admin/oauth2/auth/requests/device/accept",
                &[("device_challenge", challenge.as_str())],
            )
            .json(&body);
        let response = self.api.send("accept_user_code", request).await?;
        match response.status() {
            status if status.is_success() => {
                let answer: models::OAuth2RedirectTo = self.api.json(response).await?;
                Ok(UserCodeVerdict::Accepted(self.redirect(answer)))
            }
            // Hera always sends a non-empty challenge and code in a valid body, so a 400
            // `invalid_request` can only mean the code is unknown or expired.
            StatusCode::BAD_REQUEST => {
                let body = crate::timing::upstream(response.bytes())
                    .await
                    .map_err(|e| UpstreamError::from_reqwest(Service::HydraAdmin, e))?;
                if error_code(&body).as_deref() == Some("invalid_request") {
                    Ok(UserCodeVerdict::Refused)
                } else {
                    Err(UpstreamError::status(Service::HydraAdmin, StatusCode::BAD_REQUEST).into())
                }
            }
            _ => Err(self.failure(response).await),
        }
    }

    /// `GET /admin/clients/{id}`; `None` when Hydra has no such client (404).
    #[tracing::instrument(name = "hydra.client", skip_all)]
    pub async fn client(&self, id: &str) -> Result<Option<Client>, UpstreamError> {
        let url = super::endpoint(
            Service::HydraAdmin,
            &self.admin_url,
            &["admin", "clients", id],
        )?;
        match self.call("client", self.api.http().get(url)).await {
            Ok(client) => Ok(Some(client_from_sdk(client))),
            Err(HydraError::NotFound) => Ok(None),
            Err(HydraError::Upstream(error)) => Err(error),
            Err(other) => Err(UpstreamError::malformed(Service::HydraAdmin, other)),
        }
    }

    /// Every consent `subject` granted, following Hydra's pagination.
    ///
    /// Plain reqwest rather than the SDK: `list_o_auth2_consent_sessions` drops the `Link`
    /// header that carries the next page's token. Only the token is taken
    /// from the link; the request is always rebuilt from Hera's own base URL and subject, so a
    /// link can never send Hera elsewhere.
    #[tracing::instrument(name = "hydra.consent_sessions", skip_all)]
    pub async fn consent_sessions(
        &self,
        subject: &str,
    ) -> Result<Vec<ConsentSession>, UpstreamError> {
        const SERVICE: Service = Service::HydraAdmin;
        let base = crate::urls::join(&self.admin_url, "/admin/oauth2/auth/sessions/consent");
        let mut sessions = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_CONSENT_PAGES {
            let mut url = Url::parse(&base).map_err(|e| UpstreamError::malformed(SERVICE, e))?;
            {
                let mut query = url.query_pairs_mut();
                query
                    .append_pair("subject", subject)
                    .append_pair("page_size", &CONSENT_PAGE_SIZE.to_string());
                if let Some(token) = &page_token {
                    query.append_pair("page_token", token);
                }
            }
            let response = self
                .api
                .send("consent_sessions", self.api.http().get(url))
                .await?;
            if response.status() != StatusCode::OK {
                return Err(UpstreamError::status(SERVICE, response.status()));
            }
            let link: Vec<String> = response
                .headers()
                .get_all(LINK)
                .iter()
                .filter_map(|value| value.to_str().ok().map(str::to_owned))
                .collect();
            let body = crate::timing::upstream(response.bytes())
                .await
                .map_err(|e| UpstreamError::from_reqwest(SERVICE, e))?;
            let page: Vec<models::OAuth2ConsentSession> =
                serde_json::from_slice(&body).map_err(|e| UpstreamError::malformed(SERVICE, e))?;
            sessions.extend(page.into_iter().filter_map(consent_session_from_sdk));
            page_token = next_page_token(&link.join(","));
            if page_token.is_none() {
                return Ok(sessions);
            }
        }
        tracing::warn!(
            pages = MAX_CONSENT_PAGES,
            "the subject has more consent sessions than Hera reads; the list is cut short"
        );
        Ok(sessions)
    }

    /// `DELETE /admin/oauth2/auth/sessions/consent?subject=…&client=…`: revokes that client's
    /// consents for this subject and the tokens issued under them (204).
    #[tracing::instrument(name = "hydra.revoke_consent", skip_all)]
    pub async fn revoke_consent(
        &self,
        subject: &str,
        client_id: &str,
    ) -> Result<(), UpstreamError> {
        let request = self.request(
            Method::DELETE,
            "/admin/oauth2/auth/sessions/consent",
            &[("subject", subject), ("client", client_id)],
        );
        self.call_empty("revoke_consent", request)
            .await
            .map_err(|error| match error {
                HydraError::Upstream(error) => error,
                other => UpstreamError::malformed(Service::HydraAdmin, other),
            })
    }
}

/// `None` for an entry without a client, which Hydra never sends.
fn consent_session_from_sdk(session: models::OAuth2ConsentSession) -> Option<ConsentSession> {
    let client = session.consent_request?.client?;
    Some(ConsentSession {
        client: client_from_sdk(*client),
        granted_scope: session.grant_scope.unwrap_or_default(),
        granted_audience: session.grant_access_token_audience.unwrap_or_default(),
        remembered: session.remember.unwrap_or(false),
        handled_at: session
            .handled_at
            .and_then(|at| OffsetDateTime::parse(&at, &Rfc3339).ok())
            .filter(|at| at.year() > 1),
    })
}

/// The `error` field of a flat Hydra error body.
fn error_code(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Flat {
        error: String,
    }
    serde_json::from_slice::<Flat>(body)
        .ok()
        .map(|flat| flat.error)
}

/// The `page_token` of the `rel="next"` entry of a `Link` header (RFC 8288), as ory/x writes
/// it: `<…?page_size=…&page_token=…>; rel="first",<…>; rel="next"`. Hydra writes links
/// relative to itself, so they are resolved against a placeholder base just to read the query.
fn next_page_token(link: &str) -> Option<String> {
    let placeholder = Url::parse("http://hydra.invalid/").ok()?;
    link.split(',').find_map(|entry| {
        let (target, params) = entry.trim().split_once(';')?;
        let is_next = params
            .split(';')
            .any(|param| param.trim().replace(' ', "") == "rel=\"next\"");
        if !is_next {
            return None;
        }
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        placeholder
            .join(target)
            .ok()?
            .query_pairs()
            .find(|(key, _)| key == "page_token")
            .map(|(_, token)| token.into_owned())
            .filter(|token| !token.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_token_is_read_from_hydras_link_header() {
        let link = "</admin/oauth2/auth/sessions/consent?page_size=2&page_token=Zmlyc3Q&subject=ada>; rel=\"first\",</admin/oauth2/auth/sessions/consent?page_size=2&page_token=bmV4dA%3D%3D&subject=ada>; rel=\"next\"";
        assert_eq!(next_page_token(link).as_deref(), Some("bmV4dA=="));
    }

    #[test]
    fn a_last_page_has_no_next_token() {
        let link = "</admin/oauth2/auth/sessions/consent?page_size=2&page_token=Zmlyc3Q&subject=ada>; rel=\"first\"";
        assert_eq!(next_page_token(link), None);
        assert_eq!(next_page_token(""), None);
        assert_eq!(next_page_token("garbage"), None);
    }

    #[test]
    fn absolute_links_and_spacing_variants_are_read_too() {
        let link = "<https://hydra.example/admin/oauth2/auth/sessions/consent?page_token=abc> ; rel=\"next\"";
        assert_eq!(next_page_token(link).as_deref(), Some("abc"));
    }

    #[test]
    fn a_next_link_without_a_token_ends_the_listing() {
        let link = "</admin/oauth2/auth/sessions/consent?page_size=2&page_token=>; rel=\"next\"";
        assert_eq!(next_page_token(link), None);
    }
}
