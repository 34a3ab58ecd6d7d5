//! One of Hydra's or Kratos's APIs as Hera calls it, and the one place every call to it goes
//! through: each call carries the request id and trace context of the request being answered,
//! counts as upstream time (Server-Timing), and is counted in the `hera_upstream_*` metrics by
//! service, operation and outcome.

use std::sync::Arc;
use std::time::Instant;

use reqwest::{RequestBuilder, Response};

use super::{Service, UpstreamError};
use crate::metrics::Metrics;

/// An upstream API: which service it is, the pooled client that reaches it (with the admin
/// token, client certificate and roots it needs), and where its calls are counted.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    service: Service,
    http: reqwest::Client,
    metrics: Option<Arc<Metrics>>,
}

impl Api {
    /// The API of `service` through `http`, its calls not counted.
    pub fn new(service: Service, http: reqwest::Client) -> Api {
        Api {
            service,
            http,
            metrics: None,
        }
    }

    /// The same API, its calls counted in `metrics` when given.
    pub fn counted(self, metrics: Option<Arc<Metrics>>) -> Api {
        Api { metrics, ..self }
    }

    /// The pooled client, to build a request with; send it with [`Api::send`].
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends `request` as `operation` (a fixed name such as `login_request`); transport
    /// failures are classified, statuses are left to the caller.
    pub async fn send(
        &self,
        operation: &'static str,
        request: RequestBuilder,
    ) -> Result<Response, UpstreamError> {
        let mut request = request;
        for (name, value) in crate::telemetry::outgoing_headers() {
            request = request.header(name, value);
        }
        let started = Instant::now();
        let result = crate::timing::upstream(request.send()).await;
        if let Some(metrics) = &self.metrics {
            metrics.upstream_request(
                self.service.label(),
                operation,
                outcome(&result),
                started.elapsed(),
            );
        }
        result.map_err(|error| UpstreamError::from_reqwest(self.service, error))
    }

    /// Reads a JSON body into `T`; a body that does not parse is a malformed answer whose
    /// description names the place, never the text (sessions carry traits, flows CSRF tokens,
    /// codes and secrets).
    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        response: Response,
    ) -> Result<T, UpstreamError> {
        let body = crate::timing::upstream(response.bytes())
            .await
            .map_err(|e| UpstreamError::from_reqwest(self.service, e))?;
        serde_json::from_slice(&body).map_err(|e| {
            UpstreamError::malformed(
                self.service,
                format!(
                    "{:?} error at line {} column {}",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            )
        })
    }
}

/// The metric outcome of a call: the class of the status, or how the transport failed.
fn outcome(result: &Result<Response, reqwest::Error>) -> &'static str {
    match result {
        Ok(response) if response.status().is_server_error() => "server_error",
        Ok(response) if response.status().is_client_error() => "client_error",
        Ok(_) => "ok",
        Err(error) if error.is_timeout() => "timeout",
        Err(_) => "unreachable",
    }
}
