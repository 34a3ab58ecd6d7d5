//! `hera` (serve): the provider's pages and the session API in one server, built as a value
//! tests can run on port 0.
//!
//! This is where the roles meet: it builds each worker's upstream clients once and hands them to
//! both roles, wraps the shared middleware around them, and sends each error to the role that
//! owns the path (`/session/*` answers JSON, everything else a page).

use std::net::TcpListener;

use actix_web::cookie::Key;
use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use tracing_actix_web::TracingLogger;

use crate::cli::Settings;
use crate::ory::{UpstreamSettings, Upstreams};
use crate::telemetry::HeraRootSpan;
use crate::web::errors::{self, RenderErrors};
use crate::web::limits::{limits, MAX_FORM_BYTES};
use crate::web::rate_limit::{
    warn_when_forwarded_for_is_ignored, ForwardedForWarning, TrustedProxyHops,
};
use crate::{server, session_api, timing, web as edge};

/// What Hera's session cookie key is derived for from `HERA_COOKIE_SECRET`.
const SESSION_KEY_PURPOSE: &str = "hera session cookie";

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
            Some(secret) => secret
                .derive_key(SESSION_KEY_PURPOSE)
                .map_err(anyhow::Error::msg)?,
            None => {
                tracing::warn!(
                    "HERA_COOKIE_SECRET is not set: using a random key, so sessions will not survive a restart or span several instances"
                );
                Key::generate()
            }
        };
        let secure_cookie = !settings.is_plain_http();
        let server_timing = settings.server_timing;
        let trusted_proxy_hops = web::Data::new(TrustedProxyHops(settings.trusted_proxy_hops));
        let forwarded_for_warning = web::Data::new(ForwardedForWarning::default());
        let upstream_settings = upstreams(&settings);
        let upstreams = Upstreams::new(&upstream_settings)?;
        let provider = server::State::new(provider_settings(&settings), upstreams.clone())?;
        let session_api = session_api::State::new(
            settings.bridge.clone(),
            settings.public_url.clone(),
            settings.login_policy.clone(),
            settings.trusted_proxy_hops,
            upstreams,
        );
        let server = HttpServer::new(move || {
            // Building a client succeeded once already; should it fail now, share that one.
            let (provider, session_api) = match Upstreams::new(&upstream_settings) {
                Ok(own) => (
                    provider.with_upstreams(own.clone()),
                    session_api.with_upstreams(own),
                ),
                Err(_) => (provider.clone(), session_api.clone()),
            };
            App::new()
                .app_data(web::Data::new(provider))
                .app_data(web::Data::new(session_api))
                .app_data(errors::renderer(ByPath))
                .app_data(web::PayloadConfig::new(MAX_FORM_BYTES))
                .app_data(web::FormConfig::default().limit(MAX_FORM_BYTES))
                .app_data(trusted_proxy_hops.clone())
                .app_data(forwarded_for_warning.clone())
                .wrap(from_fn(limits))
                .wrap(from_fn(warn_when_forwarded_for_is_ignored))
                .wrap(from_fn(errors::respond))
                .wrap(server::session::middleware(key.clone(), secure_cookie))
                .wrap(edge::security_headers())
                .wrap(Condition::new(
                    server_timing,
                    from_fn(timing::server_timing),
                ))
                .wrap(TracingLogger::<HeraRootSpan>::new())
                .configure(server::configure)
                .configure(session_api::configure)
                .default_service(web::to(server::not_found))
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

/// Errors on the session API's paths are JSON; everything else gets the provider's page.
struct ByPath;

impl RenderErrors for ByPath {
    fn render(
        &self,
        request: &HttpRequest,
        status: StatusCode,
        error: &actix_web::Error,
        request_id: &str,
    ) -> Option<HttpResponse> {
        if session_api::owns(request.path()) {
            session_api::JsonErrors.render(request, status, error, request_id)
        } else {
            server::ErrorPages.render(request, status, error, request_id)
        }
    }
}

fn upstreams(settings: &Settings) -> UpstreamSettings {
    UpstreamSettings {
        hydra_admin_url: settings.hydra_admin_url.clone(),
        hydra_public_url: settings.hydra_public_url.clone(),
        kratos_public_url: settings.kratos_public_url.clone(),
        kratos_browser_url: settings.kratos_browser_url.clone(),
        kratos_admin_url: settings.kratos_admin_url.clone(),
        connect_timeout: settings.upstream_connect_timeout,
        timeout: settings.upstream_timeout,
    }
}

fn provider_settings(settings: &Settings) -> server::Settings {
    server::Settings {
        public_url: settings.public_url.clone(),
        trusted_client_ids: settings.trusted_client_ids.clone(),
        remember_consent_for: settings.remember_consent_for,
        auto_consent_remember_for: settings.auto_consent_remember_for,
        login_policy: settings.login_policy.clone(),
        kratos_logout: settings.kratos_logout,
        trusted_proxy_hops: settings.trusted_proxy_hops,
        consent_min_delay: settings.consent_min_delay,
    }
}
