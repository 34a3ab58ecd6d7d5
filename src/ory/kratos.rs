//! Kratos: who is signed in (public `/sessions/whoami`), identities by id (admin API), browser
//! logout URLs (public `/self-service/logout/browser`), and the browser URLs Hera sends people to.
//! The self-service flows Hera renders, Kratos's error records and the signed-in person's
//! sessions are in [`flows`].
//!
//! `whoami` and `identity` are plain reqwest calls into [`crate::model::kratos`] rather than
//! `ory-kratos-client` calls: the SDK's closed enums (`SessionAuthenticationMethod.method`,
//! `IdentityCredentials.type`) fail the whole response on methods Kratos already emits, such as
//! `deviceauthn`, and its `to_session` error type cannot tell the 401 body (which has no
//! `error.id`) from other failures. Every call goes through [`Api`].

use std::sync::Arc;

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, COOKIE};
use reqwest::StatusCode;
use time::OffsetDateTime;
use url::Url;

use super::api::Api;
use super::{Service, UpstreamError};
use crate::metrics::Metrics;

mod flows;

use crate::model::{BrowserFlow, Identity, KratosFlow, Session, SessionCredentials, Whoami};
pub use flows::EndedSession;

/// The outcome of a session extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extended {
    /// Extended (or a no-op before `earliest_possible_extend`); the expiry when Kratos said it.
    Extended { expires_at: Option<OffsetDateTime> },
    /// Kratos has no such session (404).
    NoSuchSession,
}

/// Kratos public and admin APIs.
#[derive(Debug, Clone)]
pub struct Kratos {
    public: Api,
    admin: Api,
    public_url: Url,
    whoami_url: String,
    logout_url: String,
    admin_url: Url,
    browser_url: Url,
}

impl Kratos {
    /// `public_http` reaches the public API, `admin_http` the admin API (with its token and
    /// client certificate, [`super::http_client`]).
    pub fn new(
        public_url: &Url,
        admin_url: &Url,
        browser_url: &Url,
        public_http: reqwest::Client,
        admin_http: reqwest::Client,
    ) -> Self {
        Kratos {
            whoami_url: crate::urls::join(public_url, "/sessions/whoami"),
            logout_url: crate::urls::join(public_url, "/self-service/logout/browser"),
            public_url: public_url.clone(),
            public: Api::new(Service::KratosPublic, public_http),
            admin: Api::new(Service::KratosAdmin, admin_http),
            admin_url: admin_url.clone(),
            browser_url: browser_url.clone(),
        }
    }

    /// The same client, counting its calls in `metrics`.
    pub fn with_metrics(mut self, metrics: Option<Arc<Metrics>>) -> Self {
        self.public = self.public.counted(metrics.clone());
        self.admin = self.admin.counted(metrics);
        self
    }

    /// Resolves the session of the browser whose `Cookie` header is forwarded.
    pub async fn whoami(&self, cookie: Option<&str>) -> Result<Whoami, UpstreamError> {
        self.whoami_with(&SessionCredentials {
            cookie: cookie.map(str::to_owned),
            ..SessionCredentials::default()
        })
        .await
    }

    /// Resolves a session from any of the credentials Kratos accepts: the `Cookie` header, an
    /// `X-Session-Token`, or `Authorization: Bearer`. Each is forwarded as received;
    /// Kratos picks in that order. Branches on the HTTP status only: the 401 body carries no
    /// error id.
    #[tracing::instrument(name = "kratos.whoami", skip_all)]
    pub async fn whoami_with(
        &self,
        credentials: &SessionCredentials,
    ) -> Result<Whoami, UpstreamError> {
        const SERVICE: Service = Service::KratosPublic;
        let mut request = self.public.http().get(&self.whoami_url);
        let headers = [
            (COOKIE.as_str(), credentials.cookie.as_deref()),
            ("x-session-token", credentials.session_token.as_deref()),
            (AUTHORIZATION.as_str(), credentials.authorization.as_deref()),
        ];
        for (name, value) in headers {
            if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
                request = request.header(name, value);
            }
        }
        let response = self.public.send("whoami", request).await?;
        match response.status() {
            StatusCode::OK => {
                let session: Session = self.public.json(response).await?;
                Ok(if session.active {
                    Whoami::Active(Box::new(session))
                } else {
                    Whoami::Unauthenticated
                })
            }
            StatusCode::UNAUTHORIZED => Ok(Whoami::Unauthenticated),
            StatusCode::FORBIDDEN => Ok(Whoami::Aal2Required),
            status => Err(UpstreamError::status(SERVICE, status)),
        }
    }

    /// `PATCH /admin/sessions/{id}/extend`. Plain reqwest: the SDK's
    /// `extend_session` fails on the `204 No Content` Kratos answers when
    /// `feature_flags.faster_session_extend` is on. Both 200 (with the
    /// session) and 204 are success; an extension before `earliest_possible_extend` is a
    /// silent no-op in Kratos and so here too. Returns the new expiry when Kratos told it.
    #[tracing::instrument(name = "kratos.extend_session", skip_all)]
    pub async fn extend_session(&self, id: &str) -> Result<Extended, UpstreamError> {
        const SERVICE: Service = Service::KratosAdmin;
        let url = self.admin_path(&["admin", "sessions", id, "extend"])?;
        let response = self
            .admin
            .send("extend_session", self.admin.http().patch(url))
            .await?;
        match response.status() {
            StatusCode::NO_CONTENT => Ok(Extended::Extended { expires_at: None }),
            StatusCode::OK => {
                let session: Session = self.admin.json(response).await?;
                Ok(Extended::Extended {
                    expires_at: session.expires_at,
                })
            }
            StatusCode::NOT_FOUND => Ok(Extended::NoSuchSession),
            status => Err(UpstreamError::status(SERVICE, status)),
        }
    }

    /// A URL that signs the browser out of Kratos and then sends it to `return_to`
    /// (`GET /self-service/logout/browser`); `None` when the forwarded
    /// cookies carry no session (401), so there is nothing to sign out of.
    ///
    /// Plain reqwest rather than `frontend_api::create_browser_logout_flow`: the SDK sends no
    /// `Accept: application/json`, and Kratos answers a request it does not negotiate as JSON
    /// with a 303 to its error UI instead of the 401, which the SDK would read as a success with
    /// an unreadable body. Stating `Accept` keeps the 401 a 401.
    #[tracing::instrument(name = "kratos.browser_logout_url", skip_all)]
    pub async fn browser_logout_url(
        &self,
        cookie: Option<&str>,
        return_to: &str,
    ) -> Result<Option<String>, UpstreamError> {
        const SERVICE: Service = Service::KratosPublic;
        #[derive(serde::Deserialize)]
        struct LogoutFlow {
            logout_url: String,
        }
        let mut request = self
            .public
            .http()
            .get(&self.logout_url)
            .query(&[("return_to", return_to)])
            .header(ACCEPT, "application/json");
        if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(c).ok()) {
            request = request.header(COOKIE, cookie);
        }
        let response = self.public.send("browser_logout_url", request).await?;
        match response.status() {
            StatusCode::OK => {
                let flow: LogoutFlow = self.public.json(response).await?;
                let usable = Url::parse(&flow.logout_url)
                    .is_ok_and(|url| matches!(url.scheme(), "http" | "https"));
                if !usable {
                    return Err(UpstreamError::malformed(
                        SERVICE,
                        "logout_url is not an absolute http(s) URL",
                    ));
                }
                Ok(Some(flow.logout_url))
            }
            StatusCode::UNAUTHORIZED => Ok(None),
            status => Err(UpstreamError::status(SERVICE, status)),
        }
    }

    fn admin_path(&self, segments: &[&str]) -> Result<Url, UpstreamError> {
        super::endpoint(Service::KratosAdmin, &self.admin_url, segments)
    }

    /// `GET /admin/identities/{id}`; `None` when Kratos has no such identity (404).
    #[tracing::instrument(name = "kratos.identity", skip_all)]
    pub async fn identity(&self, id: &str) -> Result<Option<Identity>, UpstreamError> {
        const SERVICE: Service = Service::KratosAdmin;
        let url = self.admin_path(&["admin", "identities", id])?;
        let response = self
            .admin
            .send("identity", self.admin.http().get(url))
            .await?;
        match response.status() {
            StatusCode::OK => self.admin.json(response).await.map(Some),
            StatusCode::NOT_FOUND => Ok(None),
            status => Err(UpstreamError::status(SERVICE, status)),
        }
    }

    /// Kratos's browser login or registration flow, returning to `return_to` afterwards. Hera
    /// never passes `login_challenge` to Kratos: the browser comes back to Hera, which decides
    /// again.
    pub fn browser_flow_url(&self, flow: BrowserFlow, return_to: &str) -> String {
        let mut url = self.browser_url.clone();
        let name = flow.kind.name();
        url.path_segments_mut()
            .map(|mut segments| {
                segments
                    .pop_if_empty()
                    .extend(["self-service", name, "browser"]);
            })
            .ok();
        {
            let mut query = url.query_pairs_mut();
            if flow.aal2 {
                query.append_pair("aal", "aal2");
            }
            if flow.refresh {
                query.append_pair("refresh", "true");
            }
            query.append_pair("return_to", return_to);
        }
        url.into()
    }

    /// Kratos's browser login flow back to `return_to`.
    pub fn login_url(&self, return_to: &str, aal2: bool, refresh: bool) -> String {
        let flow = BrowserFlow {
            kind: KratosFlow::Login,
            refresh,
            aal2,
        };
        self.browser_flow_url(flow, return_to)
    }

    /// `GET /health/ready` on the public API.
    pub async fn is_ready(&self) -> Result<(), UpstreamError> {
        let url = crate::urls::join(&self.public_url, "/health/ready");
        let response = self
            .public
            .send("ready", self.public.http().get(url))
            .await?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(UpstreamError::status(Service::KratosPublic, status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(kind: KratosFlow, refresh: bool, aal2: bool) -> BrowserFlow {
        BrowserFlow {
            kind,
            refresh,
            aal2,
        }
    }

    /// A client for a Kratos at `http://kratos:4433` that browsers reach at `browser`.
    pub(super) fn kratos(browser: &str) -> Kratos {
        let url = Url::parse("http://kratos:4433").unwrap();
        Kratos::new(
            &url,
            &url,
            &Url::parse(browser).unwrap(),
            reqwest::Client::new(),
            reqwest::Client::new(),
        )
    }

    #[test]
    fn login_url_encodes_return_to_and_adds_only_the_flags_asked_for() {
        let url = kratos("https://id.example").browser_flow_url(
            flow(KratosFlow::Login, false, false),
            "https://hera.example/login?login_challenge=a+b/c=",
        );
        assert_eq!(
            url,
            "https://id.example/self-service/login/browser?return_to=https%3A%2F%2Fhera.example%2Flogin%3Flogin_challenge%3Da%2Bb%2Fc%3D"
        );
        let url = kratos("https://id.example/")
            .browser_flow_url(flow(KratosFlow::Login, true, true), "x");
        assert_eq!(
            url,
            "https://id.example/self-service/login/browser?aal=aal2&refresh=true&return_to=x"
        );
    }

    #[test]
    fn login_url_keeps_a_path_prefix() {
        let url = kratos("https://example.com/.ory")
            .browser_flow_url(flow(KratosFlow::Login, false, false), "x");
        assert_eq!(
            url,
            "https://example.com/.ory/self-service/login/browser?return_to=x"
        );
    }

    #[test]
    fn registration_uses_the_registration_flow() {
        let url = kratos("https://id.example")
            .browser_flow_url(flow(KratosFlow::Registration, false, false), "x");
        assert_eq!(
            url,
            "https://id.example/self-service/registration/browser?return_to=x"
        );
    }
}
