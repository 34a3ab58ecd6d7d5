//! Logging: the tracing subscriber (text or JSON lines) and the per-request root span.
//!
//! The root span deliberately records the path without its query string: Hera's query strings
//! carry Hydra challenges, which must never reach the logs. Challenges are logged
//! only as a short hash ([`short_hash`]).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Filter with `RUST_LOG` (default `info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, never into a file, pipe or container log.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    // A second init (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

pub use crate::model::short_hash;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Root span for every request, without query strings, cookies or headers.
pub struct HeraRootSpan;

impl RootSpanBuilder for HeraRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        tracing::info_span!(
            "request",
            method = %request.method(),
            route = %route,
            path = %request.path(),
            request_id = %request_id,
            status = tracing::field::Empty,
            client_id = tracing::field::Empty,
            subject = tracing::field::Empty,
            challenge = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        // Error responses are rendered and logged by `error::error_pages`; only errors raised by
        // middleware reach this point as `Err`.
        match outcome {
            Ok(response) => {
                span.record("status", response.status().as_u16());
            }
            Err(error) => {
                span.record("status", error.as_response_error().status_code().as_u16());
                tracing::error!(parent: &span, error = %error, "request failed in middleware");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_hash_is_stable_and_short() {
        assert_eq!(short_hash("abc"), "ba7816bf8f01");
        assert_eq!(short_hash("abc").len(), 12);
    }
}
