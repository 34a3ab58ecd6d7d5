//! The session API role: `/session/*` for the operator's first-party apps that hold a Kratos
//! session (a cookie on a shared domain, a session token, or a bearer token).
//!
//! - `GET /session/whoami`: who the Kratos session is.
//! - `POST /session/bridge`: an authorization code for a first-party client ([`bridge`]).
//! - `POST /session/token`: the session grant: tokens for the operator's bridge client, with no
//!   refresh token (the Kratos session is the refresh).
//! - `POST /session/extend`: keep the Kratos session alive, throttled per session.
//!
//! The POST endpoints mint credentials from an ambient cookie, so they are CSRF targets: they
//! require an allowed `Origin` and `X-Requested-With: XMLHttpRequest`, a header no cross-site
//! form can send and that triggers a CORS preflight. Every refusal and failure is JSON
//! `{"error", "error_description", "request_id"}` ([`error`]).

pub mod bridge;
pub mod error;
mod routes;
pub mod throttle;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use url::Url;

use crate::domain::login::LoginPolicy;
use crate::ory::{HydraAdmin, HydraPublic, Kratos, Upstreams};
use crate::secrets::ClientSecret;
use throttle::Throttle;

pub use error::{ApiError, JsonErrors};

/// The session API's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Origins allowed to call `/session/*` from a browser (exact match).
    pub allowed_origins: Vec<String>,
    /// The client `POST /session/token` runs the flow for; `None` turns the session grant off.
    pub client_id: Option<String>,
    pub client_secret: Option<ClientSecret>,
    /// Minimum time between two extensions of one Kratos session.
    pub extend_interval: Duration,
}

/// What the handlers share. One per actix worker (its own upstream clients); the throttle is
/// shared by all workers.
#[derive(Clone)]
pub struct State {
    pub hydra: HydraAdmin,
    pub hydra_public: HydraPublic,
    pub kratos: Kratos,
    pub settings: Arc<Settings>,
    /// Hera's public URL: where Hydra sends browsers to Hera's login and consent pages.
    pub public_url: Url,
    /// How a session's `acr` and `amr` are reported to Hydra.
    pub login_policy: Arc<LoginPolicy>,
    pub extend_throttle: Arc<Throttle>,
}

impl State {
    pub fn new(
        settings: Settings,
        public_url: Url,
        login_policy: LoginPolicy,
        upstreams: Upstreams,
    ) -> State {
        State {
            hydra: upstreams.hydra,
            hydra_public: upstreams.hydra_public,
            kratos: upstreams.kratos,
            extend_throttle: Arc::new(Throttle::new(settings.extend_interval)),
            settings: Arc::new(settings),
            public_url,
            login_policy: Arc::new(login_policy),
        }
    }

    /// This state with other upstream clients (each actix worker has its own).
    pub fn with_upstreams(&self, upstreams: Upstreams) -> State {
        State {
            hydra: upstreams.hydra,
            hydra_public: upstreams.hydra_public,
            kratos: upstreams.kratos,
            ..self.clone()
        }
    }

    /// Hera's own page at `path` as browsers (and Hydra's redirects) reach it.
    pub fn page_url(&self, path: &str) -> String {
        crate::urls::join(&self.public_url, path)
    }
}

/// Every `/session/*` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes::configure(cfg);
}

/// True for the paths this role answers, whose errors are JSON.
pub fn owns(path: &str) -> bool {
    path.starts_with("/session/")
}
