//! `hera bff`: the backend-for-frontend, a server role of the same binary that runs on a
//! single-page app's own origin and keeps OAuth2 tokens away from the browser.
//!
//! ```text
//! browser (SPA) ──cookie──▶ BFF /api/* ──Bearer access token──▶ upstream APIs
//!                                 │
//!                                 └──code, refresh, revoke, JWKS──▶ Hydra public
//! ```
//!
//! A request flows: [`csrf`] (state-changing requests must be same-origin XHRs) → [`routes`]
//! (sign-in, whoami, sign-out) or [`proxy`] → [`refresh`] (fresh tokens, single-flight per
//! session) → [`store`] (memory, Redis or encrypted cookie) and [`oidc`] (Hydra as a
//! confidential client; [`id_token`] checks what it returns). [`config`] holds the `HERA_BFF_*`
//! settings, [`error`] turns failures into JSON or a small page with the request id.

pub mod config;
pub mod csrf;
pub mod error;
pub mod headers;
pub mod id_token;
pub mod oidc;
pub mod proxy;
pub mod refresh;
pub mod routes;
pub mod session;
pub mod store;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use actix_files::{Files, NamedFile};
use actix_web::dev::{fn_service, Server, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::Method;
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpResponse, HttpServer};
use tracing_actix_web::TracingLogger;

use crate::metrics::Metrics;
use crate::telemetry::{self, HeraRootSpan};
use crate::web::errors;
use config::StoreSettings;
use config::{BffCli, BffSettings};
use id_token::IdTokenVerifier;
use oidc::Hydra;
use refresh::Refresher;
use session::Cookies;
use store::{Sessions, SignIns};

/// Idle connections kept per upstream API host.
const MAX_IDLE_PER_HOST: usize = 32;

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Shared by every request.
pub struct BffState {
    pub settings: BffSettings,
    pub hydra: Hydra,
    pub verifier: IdTokenVerifier,
    pub sessions: Sessions,
    /// Sign-ins in progress, sealed in their cookie.
    pub sign_ins: SignIns,
    pub refresher: Refresher,
    /// The client for upstream APIs: no redirects, no cookies, bounded reads.
    pub api: reqwest::Client,
    pub cookies: Cookies,
}

impl BffState {
    /// Builds the clients and opens the session store (connecting to Redis now).
    pub async fn new(settings: BffSettings) -> anyhow::Result<BffState> {
        let tls = crate::ory::UpstreamTls::load(settings.ca_file.as_deref(), None, None)
            .map_err(anyhow::Error::msg)?;
        let hydra = Hydra::new(
            &settings,
            crate::ory::http_client(
                settings.hydra_timeout.min(Duration::from_secs(2)),
                settings.hydra_timeout,
                &tls,
                None,
            )?,
        );
        let sessions = Sessions::open(&settings.store)
            .await
            .map_err(anyhow::Error::msg)?;
        let sign_ins = match (&settings.cookie_secret, &settings.store) {
            (Some(secret), _) | (None, StoreSettings::Cookie(secret)) => SignIns::new(secret),
            (None, StoreSettings::Memory) => SignIns::random(),
            (None, StoreSettings::Redis(_)) => Err(
                "HERA_BFF_SESSION_STORE=redis needs HERA_BFF_COOKIE_SECRET, the same on every \
                 instance"
                    .to_owned(),
            ),
        }
        .map_err(anyhow::Error::msg)?;
        let mut api = reqwest::Client::builder();
        for root in &tls.roots {
            api = api.add_root_certificate(root.clone());
        }
        let api = api
            .connect_timeout(settings.upstream_timeout.min(Duration::from_secs(10)))
            .read_timeout(settings.upstream_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hera-bff/", env!("CARGO_PKG_VERSION")))
            .build()?;
        if settings.upstreams.is_empty() {
            tracing::warn!("HERA_BFF_UPSTREAMS is empty: /api/proxy answers 404 to everything");
        }
        if !settings
            .scopes
            .as_slice()
            .iter()
            .any(|scope| scope == "offline_access" || scope == "offline")
        {
            tracing::warn!("HERA_BFF_SCOPES has no offline_access: sessions end when the first access token expires");
        }
        Ok(BffState {
            verifier: IdTokenVerifier::new(settings.issuer.as_str(), &settings.client_id),
            refresher: Refresher::new(settings.hydra_timeout),
            cookies: Cookies {
                secure: !settings.is_plain_http(),
            },
            hydra,
            sessions,
            sign_ins,
            api,
            settings,
        })
    }
}

/// A bound, not yet running BFF (and its metrics listener, when one is configured).
pub struct Bff {
    port: u16,
    server: Server,
    state: web::Data<BffState>,
    metrics: Option<(Server, u16)>,
}

impl Bff {
    /// Prepares the BFF on a listener the caller bound (tests bind port 0 first to learn the
    /// origin).
    pub async fn build(settings: BffSettings, listener: TcpListener) -> anyhow::Result<Bff> {
        let port = listener.local_addr()?.port();
        let static_dir = settings.static_dir.clone();
        let metrics_bind = settings.metrics_bind;
        let metrics = Metrics::new();
        let metrics_data = web::Data::from(metrics.clone());
        let state = web::Data::new(BffState::new(settings).await?);
        let shared = state.clone();
        let server = HttpServer::new(move || {
            let mut app = App::new()
                .app_data(state.clone())
                .app_data(metrics_data.clone())
                .app_data(errors::renderer(error::BffErrors))
                .wrap(from_fn(errors::respond))
                .wrap(DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
                .wrap(from_fn(crate::web::access_log))
                .wrap(from_fn(crate::metrics::count_requests))
                .wrap(from_fn(crate::telemetry::propagate))
                .wrap(TracingLogger::<HeraRootSpan>::new())
                .service(
                    web::scope("/api")
                        .wrap(from_fn(csrf::protect))
                        .wrap(
                            DefaultHeaders::new()
                                .add((header::CACHE_CONTROL, "no-store"))
                                .add((header::REFERRER_POLICY, "no-referrer")),
                        )
                        .configure(routes::configure)
                        .default_service(web::to(routes::not_found)),
                );
            app = match &static_dir {
                Some(dir) => app.service(spa_files(dir)),
                None => app.default_service(web::to(|| async {
                    HttpResponse::NotFound()
                        .content_type("text/plain; charset=utf-8")
                        .body("Not found")
                })),
            };
            app
        })
        .listen(listener)?
        .shutdown_timeout(5)
        .run();
        let metrics = metrics_bind
            .map(|bind| crate::metrics::serve(bind, metrics))
            .transpose()?;
        Ok(Bff {
            port,
            server,
            state: shared,
            metrics,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The state every request shares (its session store, for metrics and tests).
    pub fn state(&self) -> web::Data<BffState> {
        self.state.clone()
    }

    /// The metrics listener's port, when `HERA_BFF_METRICS_BIND` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        if let Some((metrics, _)) = self.metrics {
            tokio::spawn(metrics);
        }
        self.server.await
    }
}

/// The SPA's files; a path that is no file gets `index.html` when the browser asks for a page
/// (client-side routing), a plain 404 otherwise (a missing script must not come back as HTML).
fn spa_files(dir: &Path) -> Files {
    let index: PathBuf = dir.join("index.html");
    Files::new("/", dir)
        .index_file("index.html")
        .default_handler(fn_service(move |request: ServiceRequest| {
            let index = index.clone();
            async move {
                // `NamedFile::open` reads file metadata: off the async worker.
                let (request, _) = request.into_parts();
                let wants_page = matches!(*request.method(), Method::GET | Method::HEAD)
                    && request
                        .headers()
                        .get(header::ACCEPT)
                        .and_then(|accept| accept.to_str().ok())
                        .is_some_and(|accept| accept.contains("text/html"));
                let response = match wants_page {
                    true => match web::block(move || NamedFile::open(index)).await {
                        Ok(Ok(file)) => file.into_response(&request),
                        _ => HttpResponse::NotFound().finish(),
                    },
                    false => HttpResponse::NotFound()
                        .content_type("text/plain; charset=utf-8")
                        .body("Not found"),
                };
                Ok(ServiceResponse::new(request, response))
            }
        }))
}

/// `hera bff`: checks the settings, starts logging, serves until stopped.
pub async fn run(cli: BffCli) -> ExitCode {
    let settings = match BffSettings::try_from(cli) {
        Ok(settings) => settings,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(1);
        }
    };
    let _telemetry = telemetry::init(settings.log_format, "hera-bff");
    let bind = settings.bind;
    let listener = match TcpListener::bind(bind) {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, %bind, "the BFF could not bind its address");
            return ExitCode::FAILURE;
        }
    };
    let origin = settings.origin();
    let bff = match Bff::build(settings, listener).await {
        Ok(bff) => bff,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), %bind, "the BFF could not start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(%bind, port = bff.port(), %origin, "Hera BFF is listening");
    match bff.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the BFF stopped with an error");
            ExitCode::FAILURE
        }
    }
}
