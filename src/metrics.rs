//! Prometheus metrics: what an operator graphs and alerts on.
//!
//! One [`Metrics`] per server (the provider with the session API, or `hera bff`), served as
//! `GET /metrics` on a listener of its own (`HERA_METRICS_BIND`, `HERA_BFF_METRICS_BIND`), never
//! on the public one. Off while that is unset; the counters are then still kept (a few atomic
//! increments per request) but nobody can read them.
//!
//! | metric | labels |
//! |---|---|
//! | `hera_http_requests_total` | `route` (the route template, never the path), `method`, `status` |
//! | `hera_http_request_duration_seconds` | `route`, `method` |
//! | `hera_upstream_requests_total` | `service`, `operation`, `outcome` (`ok`, `client_error`, `server_error`, `timeout`, `unreachable`) |
//! | `hera_upstream_request_duration_seconds` | `service`, `operation` |
//! | `hera_decisions_total` | `flow` (`login`, `consent`, `token_exchange`), `outcome`, `reason` (as in the audit log; for a refused exchange its error code) |
//! | `hera_rate_limited_total` | `limiter` |
//! | `hera_build_info` | `version`, `commit` (always 1) |

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, App, HttpResponse, HttpServer};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The content type of the text exposition format.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Request latency buckets, in seconds: Hera's own time is well under a millisecond, upstream
/// calls take milliseconds, a timeout takes seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    service: &'static str,
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    service: &'static str,
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    flow: &'static str,
    outcome: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimiterLabels {
    limiter: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    commit: &'static str,
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The counters and histograms of one server.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    upstream_requests: Family<UpstreamLabels, Counter>,
    upstream_duration: Family<OperationLabels, Histogram, fn() -> Histogram>,
    decisions: Family<DecisionLabels, Counter>,
    rate_limited: Family<LimiterLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("hera");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(histogram);
        let upstream_requests = Family::<UpstreamLabels, Counter>::default();
        let upstream_duration =
            Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                histogram,
            );
        let decisions = Family::<DecisionLabels, Counter>::default();
        let rate_limited = Family::<LimiterLabels, Counter>::default();
        let build_info = Family::<BuildLabels, Gauge>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method",
            http_duration.clone(),
        );
        registry.register(
            "upstream_requests",
            "Calls to Hydra and Kratos, by service, operation and outcome",
            upstream_requests.clone(),
        );
        registry.register(
            "upstream_request_duration_seconds",
            "Time a call to Hydra or Kratos took, by service and operation",
            upstream_duration.clone(),
        );
        registry.register(
            "decisions",
            "Login and consent decisions, by flow, outcome and reason",
            decisions.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests refused by a rate limiter, by limiter",
            rate_limited.clone(),
        );
        registry.register(
            "build_info",
            "The version and git commit Hera was built from",
            build_info.clone(),
        );
        build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                commit: crate::GIT_COMMIT,
            })
            .set(1);
        Arc::new(Metrics {
            registry,
            http_requests,
            http_duration,
            upstream_requests,
            upstream_duration,
            decisions,
            rate_limited,
        })
    }

    /// One answered request. `route` is the matched route template (`/consent`), or
    /// `unmatched`: never the raw path, which would carry ids and grow without bound.
    pub fn http_request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.http_requests
            .get_or_create(&HttpLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method: method.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// One call to Hydra or Kratos.
    pub fn upstream_request(
        &self,
        service: &'static str,
        operation: &'static str,
        outcome: &'static str,
        took: Duration,
    ) {
        self.upstream_requests
            .get_or_create(&UpstreamLabels {
                service,
                operation,
                outcome,
            })
            .inc();
        self.upstream_duration
            .get_or_create(&OperationLabels { service, operation })
            .observe(took.as_secs_f64());
    }

    /// A login or consent decision, with the reason the audit log gives.
    pub fn decision(&self, flow: &'static str, outcome: &'static str, reason: &'static str) {
        self.decisions
            .get_or_create(&DecisionLabels {
                flow,
                outcome,
                reason,
            })
            .inc();
    }

    /// A request a rate limiter refused.
    pub fn rate_limited(&self, limiter: &'static str) {
        self.rate_limited
            .get_or_create(&LimiterLabels { limiter })
            .inc();
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

/// Counts every answered request by its route template. Wraps the app outside the error
/// middleware, so error pages are counted with their final status.
pub async fn count_requests(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let metrics = request.app_data::<web::Data<Metrics>>().cloned();
    let response = next.call(request).await?.map_into_boxed_body();
    if let Some(metrics) = metrics {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        metrics.http_request(
            &route,
            response.request().method().as_str(),
            response.status().as_u16(),
            started.elapsed(),
        );
    }
    Ok(response)
}

/// `GET /metrics` on `bind`, a listener of its own with one worker.
pub fn serve(bind: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<(Server, u16)> {
    let listener = std::net::TcpListener::bind(bind)?;
    let port = listener.local_addr()?.port();
    let metrics = web::Data::from(metrics);
    let server = HttpServer::new(move || {
        App::new().app_data(metrics.clone()).route(
            "/metrics",
            web::get().to(|metrics: web::Data<Metrics>| async move {
                HttpResponse::Ok()
                    .content_type(CONTENT_TYPE)
                    .body(metrics.render())
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok((server, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_names_each_metric_with_its_labels() {
        let metrics = Metrics::new();
        metrics.http_request("/consent", "GET", 200, Duration::from_millis(3));
        metrics.upstream_request(
            "hydra_admin",
            "consent_request",
            "ok",
            Duration::from_millis(2),
        );
        metrics.decision("login", "accepted", "kratos_session");
        metrics.rate_limited("device_code");
        let text = metrics.render();
        for line in [
            "hera_http_requests_total{route=\"/consent\",method=\"GET\",status=\"200\"} 1",
            "hera_upstream_requests_total{service=\"hydra_admin\",operation=\"consent_request\",outcome=\"ok\"} 1",
            "hera_decisions_total{flow=\"login\",outcome=\"accepted\",reason=\"kratos_session\"} 1",
            "hera_rate_limited_total{limiter=\"device_code\"} 1",
            "hera_http_request_duration_seconds_bucket{le=\"0.005\",route=\"/consent\",method=\"GET\"} 1",
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
        assert!(text.contains("hera_build_info{version=\""), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
