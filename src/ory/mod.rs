//! Hydra and Kratos behind small clients written in Hera's terms.
//!
//! Handlers never see generated SDK types or `apis::Error<…>`: every call returns Hera's own
//! types, and failures are classified once, here, where the call is made. The clients are
//! concrete structs rather than traits because tests exercise them for real, over HTTP, against
//! contract-checked fakes of Hydra and Kratos (`tests/support`); a trait would only let tests
//! bypass the code that talks to the real servers.

mod api;
mod clients;
mod hydra;
pub mod hydra_public;
mod kratos;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use url::Url;

use crate::metrics::Metrics;
use crate::secrets::AdminToken;

pub use clients::{ClientObject, ClientsError, HydraClients};
pub use hydra::{HydraAdmin, HydraError, UserCodeVerdict};
pub use hydra_public::HydraPublic;
pub use kratos::{EndedSession, Extended, Kratos};

/// Which upstream API a failure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    HydraAdmin,
    HydraPublic,
    KratosPublic,
    KratosAdmin,
}

impl Service {
    /// The service's name in metrics.
    pub fn label(self) -> &'static str {
        match self {
            Service::HydraAdmin => "hydra_admin",
            Service::HydraPublic => "hydra_public",
            Service::KratosPublic => "kratos_public",
            Service::KratosAdmin => "kratos_admin",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::HydraAdmin => "Hydra admin API",
            Service::HydraPublic => "Hydra public API",
            Service::KratosPublic => "Kratos public API",
            Service::KratosAdmin => "Kratos admin API",
        })
    }
}

/// Hydra or Kratos could not be used: unreachable, too slow, failing, or talking nonsense.
///
/// Messages never contain URLs (they would carry challenges), bodies or credentials.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("{service} could not be reached")]
    Unreachable {
        service: Service,
        #[source]
        source: reqwest::Error,
    },
    #[error("{service} did not answer in time")]
    Timeout { service: Service },
    #[error("{service} answered HTTP {status}")]
    Status { service: Service, status: u16 },
    #[error("{service} answered with a body Hera could not read: {detail}")]
    Malformed { service: Service, detail: String },
}

impl UpstreamError {
    /// Classifies a transport error, dropping the URL it carries.
    pub(crate) fn from_reqwest(service: Service, error: reqwest::Error) -> Self {
        let error = error.without_url();
        if error.is_timeout() {
            UpstreamError::Timeout { service }
        } else if error.is_decode() || error.is_body() {
            UpstreamError::Malformed {
                service,
                detail: error.to_string(),
            }
        } else {
            UpstreamError::Unreachable {
                service,
                source: error,
            }
        }
    }

    /// An answer whose status the call does not expect.
    pub(crate) fn status(service: Service, status: reqwest::StatusCode) -> Self {
        UpstreamError::Status {
            service,
            status: status.as_u16(),
        }
    }

    pub(crate) fn malformed(service: Service, error: impl fmt::Display) -> Self {
        UpstreamError::Malformed {
            service,
            detail: error.to_string(),
        }
    }
}

/// `<base>/<segments…>` on one of `service`'s APIs, each segment percent-encoded (an id can never
/// become a path or a query).
pub(crate) fn endpoint(
    service: Service,
    base: &Url,
    segments: &[&str],
) -> Result<Url, UpstreamError> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|()| UpstreamError::malformed(service, "the base URL cannot be a base"))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// Idle connections kept per upstream host: above the concurrency of a busy instance, so steady
/// load reuses connections instead of opening one per request (BENCHMARKS.md); after a larger
/// burst the rest are closed instead of holding their buffers for the idle timeout.
const MAX_IDLE_PER_HOST: usize = 128;

/// How long an upstream connection may sit unused in the pool. Steady sign-in traffic keeps its
/// connections busy well inside this; after a burst the surplus is closed within about twice
/// this time instead of after reqwest's default 90 s. The pool only sweeps out connections the
/// server has already closed at this interval too, and each one it keeps holds a few KiB, so a
/// 1,000-flow burst otherwise left about 8 MiB behind for a minute and a half (BENCHMARKS.md).
/// Shorter than the shortest common server keep-alive (5 s in Node.js and actix-web), so Hera
/// does not reuse a connection just as the server closes it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(4);

/// A pooled HTTP client for Hydra or Kratos: no redirects, bounded waits, the extra roots of
/// `tls`, and, for an admin API, the client certificate and the headers every call carries.
pub fn http_client(
    connect_timeout: Duration,
    timeout: Duration,
    tls: &UpstreamTls,
    admin: Option<HeaderMap>,
) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .pool_idle_timeout(IDLE_TIMEOUT)
        .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("hera/", env!("CARGO_PKG_VERSION")));
    for root in &tls.roots {
        builder = builder.add_root_certificate(root.clone());
    }
    if let Some(headers) = admin {
        builder = builder.default_headers(headers);
        if let Some(identity) = &tls.identity {
            builder = builder.identity(identity.clone());
        }
    }
    builder.build()
}

/// The TLS Hera uses towards Hydra and Kratos beyond the public web's roots.
#[derive(Debug, Clone, Default)]
pub struct UpstreamTls {
    /// Extra trusted roots (`HERA_CA_FILE`), for upstreams with a private CA.
    pub roots: Vec<reqwest::Certificate>,
    /// The client certificate and key presented to the admin APIs (`HERA_CLIENT_CERT`,
    /// `HERA_CLIENT_KEY`): mutual TLS. Never presented to the public APIs.
    pub identity: Option<reqwest::Identity>,
}

impl UpstreamTls {
    /// Reads the PEM files; each error names the setting and the file.
    pub fn load(
        ca_file: Option<&Path>,
        client_cert: Option<&Path>,
        client_key: Option<&Path>,
    ) -> Result<UpstreamTls, String> {
        let read = |setting: &str, path: &Path| {
            std::fs::read(path)
                .map_err(|e| format!("{setting}: cannot read {}: {e}", path.display()))
        };
        let mut tls = UpstreamTls::default();
        if let Some(path) = ca_file {
            let pem = read("HERA_CA_FILE", path)?;
            tls.roots = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("HERA_CA_FILE: {} is not PEM: {e}", path.display()))?;
            if tls.roots.is_empty() {
                return Err(format!(
                    "HERA_CA_FILE: {} holds no certificate",
                    path.display()
                ));
            }
        }
        match (client_cert, client_key) {
            (None, None) => {}
            (Some(cert), Some(key)) => {
                let mut pem = read("HERA_CLIENT_CERT", cert)?;
                pem.push(b'\n');
                pem.extend(read("HERA_CLIENT_KEY", key)?);
                tls.identity = Some(reqwest::Identity::from_pem(&pem).map_err(|e| {
                    format!(
                        "HERA_CLIENT_CERT/HERA_CLIENT_KEY: {} and {} are not a PEM certificate \
                         and its private key: {e}",
                        cert.display(),
                        key.display()
                    )
                })?);
            }
            _ => {
                return Err(
                    "HERA_CLIENT_CERT and HERA_CLIENT_KEY go together: set both or neither".into(),
                )
            }
        }
        Ok(tls)
    }
}

/// How Hera authenticates to the admin APIs and which TLS it trusts: settings shared by
/// `hera`, `hera bff` and `hera clients`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AdminAccess {
    /// Bearer token sent on every call to Hydra's admin API (an admin API behind a gateway, or
    /// Ory Network's API key).
    #[arg(
        long,
        env = "HYDRA_ADMIN_TOKEN",
        value_name = "HYDRA_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub hydra_token: Option<AdminToken>,

    /// Bearer token sent on every call to Kratos's admin API.
    #[arg(
        long,
        env = "KRATOS_ADMIN_TOKEN",
        value_name = "KRATOS_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub kratos_token: Option<AdminToken>,

    /// Send `X-Forwarded-Proto: https` to Hydra's admin API, for a Hydra serving plain HTTP
    /// behind a TLS-terminating proxy (`serve.tls.allow_termination_from`), which refuses
    /// admin calls that do not say they came over TLS.
    #[arg(long, env = "HERA_HYDRA_ADMIN_FORWARDED_HTTPS", value_name = "HERA_HYDRA_ADMIN_FORWARDED_HTTPS", default_value = "false", action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub hydra_forwarded_https: bool,

    /// PEM file of extra CA certificates trusted for Hydra and Kratos (a private CA).
    #[arg(long, env = "HERA_CA_FILE", value_name = "HERA_CA_FILE")]
    pub ca_file: Option<std::path::PathBuf>,

    /// PEM client certificate presented to the admin APIs (mutual TLS); needs HERA_CLIENT_KEY.
    #[arg(long, env = "HERA_CLIENT_CERT", value_name = "HERA_CLIENT_CERT")]
    pub client_cert: Option<std::path::PathBuf>,

    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of HERA_CLIENT_CERT.
    #[arg(long, env = "HERA_CLIENT_KEY", value_name = "HERA_CLIENT_KEY")]
    pub client_key: Option<std::path::PathBuf>,
}

impl AdminAccess {
    /// Reads the TLS files named ([`UpstreamTls::load`]).
    pub fn tls(&self) -> Result<UpstreamTls, String> {
        UpstreamTls::load(
            self.ca_file.as_deref(),
            self.client_cert.as_deref(),
            self.client_key.as_deref(),
        )
    }

    /// The default headers of Hydra's admin client.
    pub fn hydra_headers(&self) -> HeaderMap {
        let mut headers = bearer(self.hydra_token.as_ref());
        if self.hydra_forwarded_https {
            headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        }
        headers
    }

    /// The default headers of Kratos's admin client.
    pub fn kratos_headers(&self) -> HeaderMap {
        bearer(self.kratos_token.as_ref())
    }
}

fn bearer(token: Option<&AdminToken>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    // A token is visible ASCII (checked when parsed), so it always makes a header value.
    if let Some(mut value) =
        token.and_then(|t| HeaderValue::from_str(&format!("Bearer {}", t.expose())).ok())
    {
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    headers
}

/// Where Hydra and Kratos are, how Hera reaches them, and how long it waits for them.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    pub hydra_admin_url: Url,
    pub hydra_public_url: Url,
    pub kratos_public_url: Url,
    /// Kratos's public URL as browsers reach it.
    pub kratos_browser_url: Url,
    pub kratos_admin_url: Url,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub admin: AdminAccess,
    pub tls: UpstreamTls,
}

/// Clients of Hydra and Kratos: one connection pool for the public APIs, one per admin API
/// (each with its own token and client certificate).
///
/// Each actix worker builds its own: a worker runs its own single-threaded runtime, and a pool
/// shared between workers would have one worker's requests use connections driven by another
/// worker's thread, paying a cross-thread wake-up per upstream call.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub hydra: HydraAdmin,
    pub hydra_public: HydraPublic,
    pub kratos: Kratos,
}

impl Upstreams {
    /// The clients; their calls are counted in `metrics` when given.
    pub fn new(
        settings: &UpstreamSettings,
        metrics: Option<Arc<Metrics>>,
    ) -> reqwest::Result<Upstreams> {
        let client = |admin: Option<HeaderMap>| {
            http_client(
                settings.connect_timeout,
                settings.timeout,
                &settings.tls,
                admin,
            )
        };
        let public = client(None)?;
        let hydra_admin = client(Some(settings.admin.hydra_headers()))?;
        let kratos_admin = client(Some(settings.admin.kratos_headers()))?;
        Ok(Upstreams {
            hydra: HydraAdmin::new(
                &settings.hydra_admin_url,
                &settings.hydra_public_url,
                hydra_admin,
            )
            .with_metrics(metrics.clone()),
            hydra_public: HydraPublic::new(&settings.hydra_public_url, public.clone())
                .with_metrics(metrics.clone()),
            kratos: Kratos::new(
                &settings.kratos_public_url,
                &settings.kratos_admin_url,
                &settings.kratos_browser_url,
                public,
                kratos_admin,
            )
            .with_metrics(metrics),
        })
    }
}
