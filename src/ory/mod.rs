//! Hydra and Kratos behind small clients written in Hera's terms.
//!
//! Handlers never see generated SDK types or `apis::Error<…>`: every call returns Hera's own
//! types, and failures are classified once, here, where the call is made. The clients are
//! concrete structs rather than traits because tests exercise them for real, over HTTP, against
//! contract-checked fakes of Hydra and Kratos (`tests/support`); a trait would only let tests
//! bypass the code that talks to the real servers.

mod clients;
mod hydra;
pub mod hydra_public;
mod kratos;

use std::fmt;
use std::time::Duration;

use url::Url;

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

    pub(crate) fn malformed(service: Service, error: impl fmt::Display) -> Self {
        UpstreamError::Malformed {
            service,
            detail: error.to_string(),
        }
    }
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

/// The one pooled HTTP client shared by every upstream call.
pub fn http_client(
    connect_timeout: Duration,
    timeout: Duration,
) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .pool_idle_timeout(IDLE_TIMEOUT)
        .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("hera/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Where Hydra and Kratos are, and how long Hera waits for them.
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
}

/// Clients of Hydra and Kratos sharing one connection pool.
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
    pub fn new(settings: &UpstreamSettings) -> reqwest::Result<Upstreams> {
        let http = http_client(settings.connect_timeout, settings.timeout)?;
        Ok(Upstreams {
            hydra: HydraAdmin::new(
                &settings.hydra_admin_url,
                &settings.hydra_public_url,
                http.clone(),
            ),
            hydra_public: HydraPublic::new(&settings.hydra_public_url, http.clone()),
            kratos: Kratos::new(
                &settings.kratos_public_url,
                &settings.kratos_admin_url,
                &settings.kratos_browser_url,
                http,
            ),
        })
    }
}
