//! The session API role: `/session/*` for the operator's first-party apps that hold a Kratos
//! session (a cookie on a shared domain, a session token, or a bearer token).
//!
//! - `GET /session/whoami`: who the Kratos session is.
//! - `POST /session/bridge`: an authorization code for a first-party client ([`bridge`]).
//! - `POST /session/token`: the session grant: tokens for the operator's bridge client, with no
//!   refresh token (the Kratos session is the refresh).
//! - `POST /session/extend`: keep the Kratos session alive, throttled per session.
//! - `POST /oauth2/token-exchange`: RFC 8693 token exchange for native apps that hold a Kratos
//!   session token ([`token_exchange`]).
//!
//! The POST endpoints mint credentials from an ambient cookie, so they are CSRF targets: they
//! require an allowed `Origin` and `X-Requested-With: XMLHttpRequest`, a header no cross-site
//! form can send and that triggers a CORS preflight. Every refusal and failure is JSON
//! `{"error", "error_description", "request_id"}` ([`error`]).

pub mod bridge;
pub mod error;
mod routes;
pub mod throttle;
pub mod token_exchange;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use url::Url;

use crate::domain::login::LoginPolicy;
use crate::ory::{HydraAdmin, HydraPublic, Kratos, Upstreams};
use crate::secrets::ClientSecret;
use crate::web::rate_limit::RateLimiter;
use throttle::Throttle;

/// Token exchanges per client address and minute, on each instance.
const EXCHANGES_PER_ADDRESS_PER_MINUTE: usize = 60;
/// Keys each exchange limiter remembers at most.
const EXCHANGE_LIMIT_KEYS: usize = 10_000;

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
    /// Token exchanges per client and minute, on each instance.
    pub exchanges_per_client_per_minute: usize,
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
    /// Token exchanges per client, and per client address.
    pub exchanges_per_client: Arc<RateLimiter>,
    pub exchanges_per_address: Arc<RateLimiter>,
    /// Reverse proxies trusted to append the client address to `X-Forwarded-For`.
    pub trusted_proxy_hops: u8,
}

impl State {
    pub fn new(
        settings: Settings,
        public_url: Url,
        login_policy: LoginPolicy,
        trusted_proxy_hops: u8,
        upstreams: Upstreams,
    ) -> State {
        State {
            hydra: upstreams.hydra,
            hydra_public: upstreams.hydra_public,
            kratos: upstreams.kratos,
            extend_throttle: Arc::new(Throttle::new(settings.extend_interval)),
            exchanges_per_client: Arc::new(RateLimiter::new(
                settings.exchanges_per_client_per_minute,
                Duration::from_secs(60),
                EXCHANGE_LIMIT_KEYS,
            )),
            exchanges_per_address: Arc::new(RateLimiter::new(
                EXCHANGES_PER_ADDRESS_PER_MINUTE,
                Duration::from_secs(60),
                EXCHANGE_LIMIT_KEYS,
            )),
            settings: Arc::new(settings),
            public_url,
            login_policy: Arc::new(login_policy),
            trusted_proxy_hops,
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

/// Every route of the role: `/session/*` and `/oauth2/token-exchange`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes::configure(cfg);
    cfg.service(token_exchange::exchange);
}

/// True for the paths this role answers, whose errors are JSON.
pub fn owns(path: &str) -> bool {
    path.starts_with("/session/") || path == token_exchange::PATH
}
