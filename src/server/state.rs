//! What the provider's handlers share, and its settings.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::HttpRequest;
use url::Url;

use super::brand::Brand;
use super::i18n::{Catalogue, Texts};
use super::scopes::OperatorScopes;
use crate::domain::login::LoginPolicy;
use crate::metrics::Metrics;
use crate::model::Challenge;
use crate::ory::{HydraAdmin, HydraPublic, Kratos, Upstreams};
use crate::web::rate_limit::RateLimiter;

/// User codes Hera sends to Hydra per device challenge and per client address, per minute.
const DEVICE_ATTEMPTS_PER_MINUTE: usize = 5;
/// Keys the device-attempt limiter remembers at most (about a megabyte).
const DEVICE_ATTEMPT_KEYS: usize = 10_000;

/// How a logout ends the Kratos session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KratosLogout {
    /// Hydra revokes it (needs `urls.identity_provider.url` = Kratos admin): the default.
    Hydra,
    /// After Hydra accepts, the browser goes through Kratos's browser logout, then back to Hydra.
    Browser,
}

/// The provider's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Hera's own public URL as browsers reach it.
    pub public_url: Url,
    /// Clients whose consent is accepted without asking.
    pub trusted_client_ids: Vec<String>,
    /// How long Hydra remembers a consent the user asked to remember.
    pub remember_consent_for: Duration,
    /// How long Hydra remembers an automatic consent (never 0, which Hydra reads as forever).
    pub auto_consent_remember_for: Duration,
    pub login_policy: LoginPolicy,
    pub kratos_logout: KratosLogout,
    /// Reverse proxies trusted to append the client address to `X-Forwarded-For`.
    pub trusted_proxy_hops: u8,
    /// How long after the consent page was shown an answer is taken (sooner ones get the page
    /// again).
    pub consent_min_delay: Duration,
    /// `HERA_LOCALES_DIR`: the operator's message files over the built-in ones.
    pub locales_dir: Option<std::path::PathBuf>,
    /// `HERA_SCOPES_FILE`: the operator's descriptions of their own scopes.
    pub scopes_file: Option<std::path::PathBuf>,
    /// The product name, logo and tab icon on every page.
    pub brand: Brand,
}

/// Shared by every request.
///
/// Each actix worker gets its own copy with its own upstream clients
/// ([`State::with_upstreams`]); what must be counted across workers is shared behind `Arc`s.
#[derive(Clone)]
pub struct State {
    pub hydra: HydraAdmin,
    pub hydra_public: HydraPublic,
    pub kratos: Kratos,
    pub settings: Arc<Settings>,
    /// Device-code attempts, per device challenge and per client address.
    pub device_attempts: Arc<RateLimiter>,
    /// Every language's messages.
    pub catalogue: Arc<Catalogue>,
    /// The operator's scope descriptions.
    pub scopes: Arc<OperatorScopes>,
    pub metrics: Arc<Metrics>,
    /// Set when a graceful shutdown began: readiness answers 503.
    draining: Arc<AtomicBool>,
}

impl State {
    pub fn new(
        settings: Settings,
        upstreams: Upstreams,
        metrics: Arc<Metrics>,
        draining: Arc<AtomicBool>,
    ) -> anyhow::Result<State> {
        let catalogue = Catalogue::load_with_overrides(settings.locales_dir.as_deref())?
            .branded(settings.brand.clone());
        let scopes = OperatorScopes::load(settings.scopes_file.as_deref())?;
        Ok(State {
            hydra: upstreams.hydra,
            hydra_public: upstreams.hydra_public,
            kratos: upstreams.kratos,
            settings: Arc::new(settings),
            device_attempts: Arc::new(RateLimiter::new(
                DEVICE_ATTEMPTS_PER_MINUTE,
                Duration::from_secs(60),
                DEVICE_ATTEMPT_KEYS,
            )),
            catalogue: Arc::new(catalogue),
            scopes: Arc::new(scopes),
            metrics,
            draining,
        })
    }

    /// True once a graceful shutdown began.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
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

    /// Hera's own page at `path` (`/`, `/connected-apps`) as browsers reach it.
    pub fn page_url(&self, path: &str) -> String {
        crate::urls::join(&self.settings.public_url, path)
    }

    /// Hera's own `/login?login_challenge=…`, where Kratos sends the browser back after sign-in.
    pub fn login_url(&self, challenge: &Challenge) -> String {
        self.challenge_url("/login", "login_challenge", challenge)
    }

    /// Hera's own `/consent?consent_challenge=…`.
    pub fn consent_url(&self, challenge: &Challenge) -> String {
        self.challenge_url("/consent", "consent_challenge", challenge)
    }

    fn challenge_url(&self, path: &str, parameter: &str, challenge: &Challenge) -> String {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(parameter, challenge.as_str())
            .finish();
        format!("{}?{query}", self.page_url(path))
    }
}

/// The language of a page: the request's `ui_locales` (login and consent requests carry them),
/// then the browser's `Accept-Language`, then English.
pub fn texts(http: &HttpRequest, state: &State, ui_locales: &[String]) -> Texts {
    let accept_language = http
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    state.catalogue.negotiate(ui_locales, accept_language)
}
