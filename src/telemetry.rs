//! Logs, traces and the per-request root span.
//!
//! Logs are text or JSON lines on stderr. Traces are opt-in: with the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, every request is
//! a span and every call to Hydra or Kratos a child span, exported over OTLP/HTTP (protobuf);
//! the other `OTEL_*` variables (`OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_HEADERS`,
//! `OTEL_TRACES_SAMPLER`, `OTEL_SDK_DISABLED`, …) work as everywhere. A W3C `traceparent` on the
//! request makes its span a child of the caller's. Without the variables no exporter exists and
//! nothing is recorded for it.
//!
//! The root span deliberately records the path without its query string: Hera's query strings
//! carry Hydra challenges, which must never reach the logs. Challenges are logged
//! only as a short hash ([`short_hash`]).

use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::Error;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Set once traces are exported: request spans then take the caller's `traceparent`, and calls
/// to Hydra and Kratos carry theirs.
static TRACING: AtomicBool = AtomicBool::new(false);

/// Keeps the trace exporter alive; dropping it sends what is still buffered.
#[must_use = "dropping it stops exporting traces"]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.traces.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Installs the global subscriber: logs filtered with `RUST_LOG` (default `info`), and traces
/// when the `OTEL_*` variables ask for them. `service` names the process in traces unless
/// `OTEL_SERVICE_NAME` does.
pub fn init(format: LogFormat, service: &'static str) -> Telemetry {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, never into a file, pipe or container log.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let logs = tracing_subscriber::fmt::layer()
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let logs = match format {
        LogFormat::Text => logs.boxed(),
        LogFormat::Json => logs.json().flatten_event(true).boxed(),
    };
    let provider = traces_wanted().then(|| trace_provider(service)).flatten();
    let traces = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("hera"))
            .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
    });
    // A second init (tests) keeps the first subscriber.
    let installed = tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(traces)
        .try_init()
        .is_ok();
    if installed && provider.is_some() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        TRACING.store(true, Ordering::SeqCst);
        tracing::info!("traces are exported over OTLP/HTTP");
    }
    Telemetry { traces: provider }
}

/// True when the standard variables ask for OTLP traces.
fn traces_wanted() -> bool {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return false;
    }
    if var("OTEL_TRACES_EXPORTER").is_some_and(|v| !v.split(',').any(|e| e.trim() == "otlp")) {
        return false;
    }
    var("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
}

fn trace_provider(service: &'static str) -> Option<SdkTracerProvider> {
    if std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL").is_ok_and(|p| p.trim() == "grpc") {
        eprintln!("OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported; exporting over HTTP");
    }
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(exporter) => exporter,
        Err(error) => {
            eprintln!("traces are off: the OTLP exporter could not be built: {error}");
            return None;
        }
    };
    let name = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| service.to_owned());
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(name)
        .build();
    Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    )
}

/// True once traces are exported.
pub fn tracing_enabled() -> bool {
    TRACING.load(Ordering::Relaxed)
}

/// The W3C trace context of the current span, as headers for a call to Hydra or Kratos
/// (`traceparent`, `tracestate`); empty while traces are off.
pub fn trace_headers() -> Vec<(String, String)> {
    let mut headers = Vec::new();
    if tracing_enabled() {
        let context = Span::current().context();
        TraceContextPropagator::new().inject_context(&context, &mut HeaderPairs(&mut headers));
    }
    headers
}

/// What a request hands on to the calls Hera makes to Hydra and Kratos while answering it.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    /// The request's id, sent as `X-Request-Id`.
    pub request_id: String,
    /// The caller's `traceparent` and `tracestate`, passed on unchanged while Hera exports no
    /// traces of its own, so the caller's trace still joins Hydra's and Kratos's.
    pub trace_context: Vec<(String, String)>,
}

tokio::task_local! {
    static OUTGOING: Outgoing;
}

/// Runs `answer` (a request's handling) with `outgoing` available to [`outgoing_headers`].
pub async fn propagating<F: std::future::Future>(outgoing: Outgoing, answer: F) -> F::Output {
    OUTGOING.scope(outgoing, answer).await
}

/// The headers a call to Hydra or Kratos carries: `X-Request-Id` of the request being answered,
/// and the trace context: a child of Hera's own span while traces are exported, the caller's
/// unchanged otherwise. Empty outside a request.
pub fn outgoing_headers() -> Vec<(String, String)> {
    let mut headers = OUTGOING
        .try_with(|outgoing| {
            let mut headers = Vec::with_capacity(3);
            if !outgoing.request_id.is_empty() {
                headers.push(("x-request-id".to_owned(), outgoing.request_id.clone()));
            }
            if !tracing_enabled() {
                headers.extend(outgoing.trace_context.iter().cloned());
            }
            headers
        })
        .unwrap_or_default();
    headers.extend(trace_headers());
    headers
}

/// Hands the request's id and the caller's trace context on to every call Hera makes to Hydra
/// and Kratos while answering it ([`outgoing_headers`]). Wraps inside
/// `TracingLogger`, whose request id it reads.
pub async fn propagate(
    request: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, Error> {
    let outgoing = Outgoing {
        request_id: crate::web::request_id(request.request()),
        trace_context: incoming_trace_context(request.headers()),
    };
    let response = propagating(outgoing, next.call(request)).await?;
    Ok(response.map_into_boxed_body())
}

/// The caller's `traceparent` and `tracestate`, when the `traceparent` is well formed
/// (`version-trace_id-parent_id-flags` in lower-case hex, as W3C Trace Context writes it).
pub fn incoming_trace_context(
    headers: &actix_web::http::header::HeaderMap,
) -> Vec<(String, String)> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(parent) = header("traceparent").filter(|p| plausible_traceparent(p)) else {
        return Vec::new();
    };
    let mut context = vec![("traceparent".to_owned(), parent.to_owned())];
    if let Some(state) = header("tracestate").filter(|s| s.len() <= 512) {
        context.push(("tracestate".to_owned(), state.to_owned()));
    }
    context
}

fn plausible_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |part: &str, len: usize| {
        part.len() == len
            && part
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    parts.len() >= 4
        && hex(parts[0], 2)
        && parts[0] != "ff"
        && hex(parts[1], 32)
        && parts[1].bytes().any(|b| b != b'0')
        && hex(parts[2], 16)
        && parts[2].bytes().any(|b| b != b'0')
        && hex(parts[3], 2)
        && (parts[0] != "00" || parts.len() == 4)
}

struct HeaderPairs<'a>(&'a mut Vec<(String, String)>);

impl Injector for HeaderPairs<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_owned(), value));
    }
}

struct RequestHeaders<'a>(&'a actix_web::http::header::HeaderMap);

impl Extractor for RequestHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

pub use crate::model::short_hash;

/// `text` for a log field, with every character that could forge or hide a log line escaped:
/// control characters (`\n` → `\\n`, ESC → `\\u{1b}`), the Unicode line and paragraph
/// separators, and the bidirectional overrides that reorder what a reader sees. A backslash is
/// doubled, so an escape in the log always means an escaped character. For attacker-chosen text
/// (an `error_description` in a URL): the text formatter writes fields as they are.
pub fn escape_for_log(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            c if c.is_control() => escaped.extend(c.escape_default()),
            '\u{2028}'
            | '\u{2029}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' => escaped.extend(c.escape_unicode()),
            c => escaped.push(c),
        }
    }
    escaped
}

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
        let request_id = crate::web::request_id(request.request());
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        let span = tracing::info_span!(
            "request",
            method = %request.method(),
            route = %route,
            path = %request.path(),
            request_id = %request_id,
            status = tracing::field::Empty,
            client_id = tracing::field::Empty,
            subject = tracing::field::Empty,
            challenge = tracing::field::Empty,
        );
        if tracing_enabled() {
            let caller = TraceContextPropagator::new().extract(&RequestHeaders(request.headers()));
            let _ = span.set_parent(caller);
        }
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        // Error responses are rendered and logged by `error::error_pages`; only errors raised by
        // middleware reach this point as `Err`.
        let status = match outcome {
            Ok(response) => response.status().as_u16(),
            Err(error) => {
                tracing::error!(parent: &span, error = %error, "request failed in middleware");
                error.as_response_error().status_code().as_u16()
            }
        };
        span.record("status", status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_reordering_marks_are_escaped_for_logs() {
        assert_eq!(
            escape_for_log("a\nINFO forged\r\t\u{1b}[31m"),
            "a\\nINFO forged\\r\\t\\u{1b}[31m"
        );
        assert_eq!(escape_for_log("\u{202e}txt.exe"), "\\u{202e}txt.exe");
        assert_eq!(escape_for_log("line\u{2028}sep"), "line\\u{2028}sep");
        assert_eq!(escape_for_log(r"already\n"), r"already\\n");
        assert_eq!(escape_for_log("Grüße, ok"), "Grüße, ok");
    }

    #[test]
    fn only_well_formed_trace_parents_are_passed_on() {
        use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(
                    HeaderName::from_static(name),
                    HeaderValue::from_str(value).unwrap(),
                );
            }
            map
        };
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            incoming_trace_context(&headers(&[("traceparent", good), ("tracestate", "a=1")])),
            [
                ("traceparent".to_owned(), good.to_owned()),
                ("tracestate".to_owned(), "a=1".to_owned())
            ]
        );
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "garbage",
        ] {
            assert!(
                incoming_trace_context(&headers(&[("traceparent", bad), ("tracestate", "a=1")]))
                    .is_empty(),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn calls_made_while_answering_a_request_carry_its_id_and_the_callers_trace() {
        assert!(outgoing_headers().is_empty(), "nothing outside a request");
        let outgoing = Outgoing {
            request_id: "req-1".into(),
            trace_context: vec![("traceparent".into(), "00-ab-cd-01".into())],
        };
        let headers = propagating(outgoing, async { outgoing_headers() }).await;
        assert_eq!(
            headers,
            [
                ("x-request-id".to_owned(), "req-1".to_owned()),
                ("traceparent".to_owned(), "00-ab-cd-01".to_owned())
            ]
        );
    }

    #[test]
    fn short_hash_is_stable_and_short() {
        assert_eq!(short_hash("abc"), "ba7816bf8f01");
        assert_eq!(short_hash("abc").len(), 12);
    }
}
