//! `hera` (serve): the provider's pages and the session API in one server, built as a value
//! tests can run on port 0.
//!
//! This is where the roles meet: it builds each worker's upstream clients once and hands them to
//! both roles, wraps the shared middleware around them, and sends each error to the role that
//! owns the path (`/session/*` answers JSON, everything else a page).

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::cookie::Key;
use actix_web::dev::{Server, ServerHandle};
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use tracing_actix_web::TracingLogger;

use crate::cli::Settings;
use crate::metrics::{self, Metrics};
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

/// A bound, not yet running server (and its metrics listener, when one is configured).
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<(Server, u16)>,
    shutdown: Shutdown,
}

/// A graceful shutdown within `HERA_SHUTDOWN_TIMEOUT_SECONDS`:
/// 1. readiness answers 503 at once, so load balancers stop sending traffic, while every other
///    request is still served, for the first part of the budget (a fifth, at most 5 s);
/// 2. then new connections are refused and requests in flight get the rest of the budget to
///    finish.
#[derive(Clone)]
pub struct Shutdown {
    draining: Arc<AtomicBool>,
    servers: Vec<ServerHandle>,
    budget: Duration,
}

impl Shutdown {
    /// The time load balancers get to notice readiness before new connections are refused.
    pub fn notice_period(&self) -> Duration {
        (self.budget / 5).min(Duration::from_secs(5))
    }

    pub async fn begin(&self) {
        if self.draining.swap(true, Ordering::SeqCst) {
            return;
        }
        let notice = self.notice_period();
        tracing::info!(
            notice_ms = u64::try_from(notice.as_millis()).unwrap_or(u64::MAX),
            "shutting down: readiness answers 503; then requests in flight may finish"
        );
        tokio::time::sleep(notice).await;
        for server in &self.servers {
            server.stop(true).await;
        }
    }
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
        let upstream_settings = upstreams(&settings)?;
        let metrics = Metrics::new();
        // Requests and upstream calls are counted only when someone can read the counts.
        let counting = settings.metrics_bind.is_some();
        let upstream_metrics = counting.then(|| metrics.clone());
        let upstreams = Upstreams::new(&upstream_settings, upstream_metrics.clone())?;
        let draining = Arc::new(AtomicBool::new(false));
        let provider = server::State::new(
            provider_settings(&settings)?,
            upstreams.clone(),
            metrics.clone(),
            draining.clone(),
        )?;
        let session_api = session_api::State::new(
            settings.bridge.clone(),
            settings.public_url.clone(),
            settings.login_policy.clone(),
            settings.trusted_proxy_hops,
            upstreams,
        );
        let metrics_data = web::Data::from(metrics.clone());
        let trust_request_ids = settings.trusted_proxy_hops > 0;
        let server = HttpServer::new(move || {
            // Building a client succeeded once already; should it fail now, share that one.
            let (provider, session_api) =
                match Upstreams::new(&upstream_settings, upstream_metrics.clone()) {
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
                .app_data(metrics_data.clone())
                .app_data(web::Data::new(edge::TrustIncomingRequestIds(
                    trust_request_ids,
                )))
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
                .wrap(from_fn(edge::access_log))
                .wrap(Condition::new(counting, from_fn(metrics::count_requests)))
                .wrap(from_fn(crate::telemetry::propagate))
                .wrap(TracingLogger::<HeraRootSpan>::new())
                .wrap(from_fn(edge::request_ids))
                .configure(server::configure)
                .configure(session_api::configure)
                .default_service(web::to(server::not_found))
        })
        .listen(listener)?
        .shutdown_timeout(
            settings
                .shutdown_timeout
                .saturating_sub(settings.shutdown_timeout / 5)
                .as_secs()
                .max(1),
        )
        .disable_signals()
        .run();
        let metrics = settings
            .metrics_bind
            .map(|bind| metrics::serve(bind, metrics))
            .transpose()?;
        let mut servers = vec![server.handle()];
        servers.extend(metrics.iter().map(|(server, _)| server.handle()));
        Ok(Application {
            port,
            server,
            metrics,
            shutdown: Shutdown {
                draining,
                servers,
                budget: settings.shutdown_timeout,
            },
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's port, when `HERA_METRICS_BIND` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    /// What stops this server gracefully (SIGTERM and Ctrl-C do the same).
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Serves until stopped by [`Shutdown::begin`] (the binary calls it on SIGTERM and Ctrl-C,
    /// see [`stop_signal`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        if let Some((metrics, _)) = self.metrics {
            tokio::spawn(metrics);
        }
        self.server.await
    }
}

/// SIGTERM (orchestrators) or SIGINT (Ctrl-C): the handlers are installed when this is
/// called, and the future ends at the first signal.
pub fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let terminate =
        actix_web::rt::signal::unix::signal(actix_web::rt::signal::unix::SignalKind::terminate());
    let interrupt = actix_web::rt::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        if let Ok(mut terminate) = terminate {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt => {}
            }
            return;
        }
        let _ = interrupt.await;
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

fn upstreams(settings: &Settings) -> anyhow::Result<UpstreamSettings> {
    Ok(UpstreamSettings {
        hydra_admin_url: settings.hydra_admin_url.clone(),
        hydra_public_url: settings.hydra_public_url.clone(),
        kratos_public_url: settings.kratos_public_url.clone(),
        kratos_browser_url: settings.kratos_browser_url.clone(),
        kratos_admin_url: settings.kratos_admin_url.clone(),
        connect_timeout: settings.upstream_connect_timeout,
        timeout: settings.upstream_timeout,
        tls: settings.admin_access.tls().map_err(anyhow::Error::msg)?,
        admin: settings.admin_access.clone(),
    })
}

fn provider_settings(settings: &Settings) -> anyhow::Result<server::Settings> {
    Ok(server::Settings {
        public_url: settings.public_url.clone(),
        trusted_client_ids: settings.trusted_client_ids.clone(),
        remember_consent_for: settings.remember_consent_for,
        auto_consent_remember_for: settings.auto_consent_remember_for,
        login_policy: settings.login_policy.clone(),
        kratos_logout: settings.kratos_logout,
        trusted_proxy_hops: settings.trusted_proxy_hops,
        consent_min_delay: settings.consent_min_delay,
        locales_dir: settings.locales_dir.clone(),
        scopes_file: settings.scopes_file.clone(),
        brand: server::brand::Brand::load(
            settings.product_name.as_deref(),
            settings.logo_file.as_deref(),
            settings.favicon_file.as_deref(),
        )?,
    })
}
