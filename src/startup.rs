//! Building and running the server: a value tests can build on port 0.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Condition, DefaultHeaders};
use actix_web::{web, App, HttpServer};
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::domain::challenge::Challenge;
use crate::domain::throttle::Throttle;
use crate::error::error_pages;
use crate::i18n::Catalogue;
use crate::limits::limits;
use crate::ory::{http_client, HydraAdmin, HydraPublic, Kratos};
use crate::rate_limit::RateLimiter;
use crate::routes;
use crate::session::COOKIE_NAME;
use crate::telemetry::HeraRootSpan;
use crate::timing;

/// Largest form body Hera reads; a consent form with a 16 KiB challenge fits easily.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// User codes Hera sends to Hydra per device challenge and per client address, per minute.
const DEVICE_ATTEMPTS_PER_MINUTE: usize = 5;
/// Keys the device-attempt limiter remembers at most (about a megabyte).
const DEVICE_ATTEMPT_KEYS: usize = 10_000;

/// Shared by every request.
///
/// Each actix worker gets its own copy with its own upstream clients (see
/// [`AppState::for_worker`]); what must be counted across workers is shared behind `Arc`s.
#[derive(Clone)]
pub struct AppState {
    pub hydra: HydraAdmin,
    pub hydra_public: HydraPublic,
    pub kratos: Kratos,
    /// One `/session/extend` per Kratos session per `HERA_SESSION_EXTEND_INTERVAL_SECONDS`.
    pub extend_throttle: Arc<Throttle>,
    pub settings: Arc<Settings>,
    /// Device-code attempts, per device challenge and per client address.
    pub device_attempts: Arc<RateLimiter>,
    /// Every language's messages.
    pub catalogue: Arc<Catalogue>,
}

impl AppState {
    pub fn new(settings: Settings) -> anyhow::Result<AppState> {
        let http = http_client(settings.upstream_connect_timeout, settings.upstream_timeout)?;
        let (hydra, hydra_public, kratos) = upstream_clients(&settings, http);
        Ok(AppState {
            hydra,
            hydra_public,
            kratos,
            extend_throttle: Arc::new(Throttle::new(settings.bridge.extend_interval)),
            settings: Arc::new(settings),
            device_attempts: Arc::new(RateLimiter::new(
                DEVICE_ATTEMPTS_PER_MINUTE,
                Duration::from_secs(60),
                DEVICE_ATTEMPT_KEYS,
            )),
            catalogue: Arc::new(Catalogue::load()?),
        })
    }

    /// This state with upstream clients of its own, for one actix worker. Each worker runs its
    /// own single-threaded runtime; a connection pool shared between workers would have one
    /// worker's requests use connections driven by another worker's thread, paying a
    /// cross-thread wake-up per upstream call (BENCHMARKS.md). Counters stay shared.
    pub fn for_worker(&self) -> AppState {
        let settings = &self.settings;
        match http_client(settings.upstream_connect_timeout, settings.upstream_timeout) {
            Ok(http) => {
                let (hydra, hydra_public, kratos) = upstream_clients(settings, http);
                AppState {
                    hydra,
                    hydra_public,
                    kratos,
                    ..self.clone()
                }
            }
            // Building a client succeeded once already; should it fail now, share that one.
            Err(_) => self.clone(),
        }
    }

    /// Hera's own page at `path` (`/`, `/connected-apps`) as browsers reach it.
    pub fn page_url(&self, path: &str) -> String {
        Settings::join(&self.settings.public_url, path)
    }

    /// Hera's own `/login?login_challenge=…`, where Kratos sends the browser back after sign-in.
    pub fn login_url(&self, challenge: &Challenge) -> String {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("login_challenge", challenge.as_str())
            .finish();
        format!("{}?{query}", self.page_url("/login"))
    }
}

fn upstream_clients(
    settings: &Settings,
    http: reqwest::Client,
) -> (HydraAdmin, HydraPublic, Kratos) {
    (
        HydraAdmin::new(&settings.hydra_admin_url, http.clone()),
        HydraPublic::new(&settings.hydra_public_url, http.clone()),
        Kratos::new(
            &settings.kratos_public_url,
            &settings.kratos_admin_url,
            &settings.kratos_browser_url,
            http,
        ),
    )
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `settings.bind` (port 0 picks a free port) and prepares the server.
    pub fn build(settings: Settings) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(settings.bind)?;
        Application::build_with_listener(settings, listener)
    }

    /// Prepares the server on a listener the caller bound (tests bind first to learn the port
    /// that goes into `HERA_PUBLIC_URL`).
    pub fn build_with_listener(
        settings: Settings,
        listener: TcpListener,
    ) -> anyhow::Result<Application> {
        let port = listener.local_addr()?.port();
        let key = match &settings.cookie_secret {
            Some(secret) => Key::try_from(secret.as_bytes())?,
            None => {
                tracing::warn!(
                    "HERA_COOKIE_SECRET is not set: using a random key, so sessions will not survive a restart or span several instances"
                );
                Key::generate()
            }
        };
        let secure_cookie = !settings.is_plain_http();
        let server_timing = settings.server_timing;
        let state = AppState::new(settings)?;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.for_worker()))
                .app_data(web::PayloadConfig::new(MAX_FORM_BYTES))
                .app_data(web::FormConfig::default().limit(MAX_FORM_BYTES))
                .wrap(from_fn(limits))
                .wrap(from_fn(error_pages))
                .wrap(
                    SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                        .cookie_name(COOKIE_NAME.into())
                        .cookie_secure(secure_cookie)
                        .cookie_http_only(true)
                        .cookie_same_site(SameSite::Lax)
                        .cookie_path("/".into())
                        .cookie_content_security(CookieContentSecurity::Private)
                        .session_lifecycle(BrowserSession::default())
                        .build(),
                )
                .wrap(security_headers())
                .wrap(Condition::new(
                    server_timing,
                    from_fn(timing::server_timing),
                ))
                .wrap(TracingLogger::<HeraRootSpan>::new())
                .configure(routes::configure)
                .default_service(web::to(routes::not_found))
        })
        .listen(listener)?
        .shutdown_timeout(5)
        .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Headers on every response; a handler's own value wins (the stylesheet sets its own
/// `Cache-Control`).
///
/// The CSP has no `form-action`: Chrome applies it to the whole redirect chain after a form
/// POST, and Hera's consent POST ends at Hydra and then at the client's `redirect_uri`, which no
/// fixed list can name (anchors S6). `img-src https:` allows only client logos, which Hera shows
/// only when they are https; `Referrer-Policy: no-referrer` keeps challenges in Hera's URLs from
/// leaking to them (anchors S8).
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self' https:; base-uri 'none'; frame-ancestors 'none'",
        ))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cache-Control", "no-store"))
}
