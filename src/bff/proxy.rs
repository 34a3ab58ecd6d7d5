//! `/api/proxy/{upstream}/{path…}`: a request of the app, forwarded to a named upstream API
//! with the user's access token, its answer streamed back.
//!
//! Only an allow-list of request headers goes upstream (content negotiation, conditional and
//! range requests, plus HERA_BFF_FORWARD_HEADERS); the browser's cookies and credentials never
//! do. Answers come back without hop-by-hop headers and without `Set-Cookie`: an upstream API
//! cannot set cookies on the app's origin, and an answer a browser could render as a document
//! with script (HTML, XML, SVG, or one without a type) gets `Content-Security-Policy: sandbox`,
//! so it runs in an opaque origin instead of the app's. The path may not climb out of the
//! upstream's base path (`..`, encoded or not), carry path parameters (`;`), or stay
//! percent-encoded after one decoding.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::body::SizedStream;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use url::Url;

use crate::bff::config::Upstream;
use crate::bff::error::BffError;
use crate::bff::headers::HOP_BY_HOP;
use crate::bff::BffState;

/// Request headers forwarded to upstream APIs.
const FORWARDED_REQUEST_HEADERS: [&str; 14] = [
    "accept",
    "accept-encoding",
    "accept-language",
    "cache-control",
    "content-encoding",
    "content-language",
    "content-type",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "prefer",
    "range",
];

/// Where `/api/proxy/<upstream>/<tail>?<query>` goes: `<base>/<tail>?<query>`, with the
/// percent-encoding the browser used. Refused, so the request stays under the base path and
/// means the same to every server on the way:
/// - `.` and `..` segments (also as `%2e`) and backslashes;
/// - `;` in a segment (also as `%3B`): Java and other servers read `/a;x/..` as path
///   parameters and may resolve the path differently from the BFF (`/admin;/x`);
/// - a segment that still holds `%` after one decoding (`%252e`): an upstream that decodes
///   again would see what the BFF checked as something else.
pub fn target_url(base: &Url, tail: &str, query: Option<&str>) -> Result<Url, BffError> {
    for segment in tail.split('/') {
        let decoded = percent_decode(segment);
        if decoded.contains('\\') {
            return Err(BffError::BadProxyPath("backslashes are not allowed"));
        }
        if decoded.contains(';') {
            return Err(BffError::BadProxyPath(
                "path parameters (;) are not allowed",
            ));
        }
        if decoded.contains('%') {
            return Err(BffError::BadProxyPath(
                "a segment may be percent-encoded only once",
            ));
        }
        // `..%2F` decodes to `../`: an upstream that decodes slashes would climb with it.
        if decoded
            .split('/')
            .any(|piece| piece == "." || piece == "..")
        {
            return Err(BffError::BadProxyPath("dot segments are not allowed"));
        }
    }
    if tail.chars().any(|c| c.is_control() || c == '#') {
        return Err(BffError::BadProxyPath("control characters are not allowed"));
    }
    let mut target = format!("{}/{tail}", base.as_str().trim_end_matches('/'));
    if let Some(query) = query.filter(|query| !query.is_empty()) {
        target.push('?');
        target.push_str(query);
    }
    let url = Url::parse(&target).map_err(|_| BffError::BadProxyPath("not a URL"))?;
    let base_path = base.path().trim_end_matches('/');
    let under_base = url.path() == base_path
        || url
            .path()
            .strip_prefix(base_path)
            .is_some_and(|rest| rest.starts_with('/'));
    if url.origin() != base.origin() || !under_base {
        return Err(BffError::BadProxyPath(
            "the path leaves the upstream's base",
        ));
    }
    Ok(url)
}

fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// The name and the rest of a raw `/api/proxy/<name>/<tail>` path.
fn split_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/api/proxy/")?;
    Some(rest.split_once('/').unwrap_or((rest, "")))
}

/// Forwards the request; see the module documentation.
#[tracing::instrument(name = "bff.proxy", skip_all, fields(upstream, status))]
pub async fn proxy(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<BffState>,
) -> Result<HttpResponse, BffError> {
    let (name, tail) =
        split_path(request.uri().path()).ok_or(BffError::BadProxyPath("not a proxy path"))?;
    let upstream: &Upstream = state
        .settings
        .upstream(name)
        .ok_or_else(|| BffError::UnknownUpstream(name.to_owned()))?;
    tracing::Span::current().record("upstream", name);
    if matches!(*request.method(), Method::CONNECT | Method::TRACE) {
        return Err(BffError::MethodNotForwarded);
    }
    let url = target_url(&upstream.base, tail, request.uri().query())?;
    let content_length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if content_length.is_some_and(|length| length > state.settings.max_body_bytes) {
        return Err(BffError::BodyTooLarge);
    }
    let Some(cookie) = request.cookie(state.cookies.session_name()) else {
        return Err(BffError::Unauthenticated);
    };
    let Some(current) = state.refresher.current(&state, cookie.value()).await? else {
        return Ok(signed_out(&state));
    };

    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
        .map_err(|_| BffError::MethodNotForwarded)?;
    let mut outgoing = state
        .api
        .request(method, url)
        .bearer_auth(current.session.access_token.expose());
    for (name, value) in request.headers() {
        let allowed = FORWARDED_REQUEST_HEADERS.contains(&name.as_str())
            || state.settings.forward_headers.contains(name);
        if allowed {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
    }
    // The request id and the trace context, as Hera's calls to Hydra and Kratos carry them.
    for (name, value) in crate::telemetry::outgoing_headers() {
        outgoing = outgoing.header(name, value);
    }
    let has_body = content_length.is_some_and(|length| length > 0)
        || (content_length.is_none() && request.headers().contains_key(header::TRANSFER_ENCODING));
    let too_large = Arc::new(AtomicBool::new(false));
    if has_body {
        if let Some(length) = content_length {
            outgoing = outgoing.header(reqwest::header::CONTENT_LENGTH, length);
        }
        outgoing = outgoing.body(stream_body(
            payload,
            state.settings.max_body_bytes,
            too_large.clone(),
        ));
    }
    let answer = outgoing.send().await.map_err(|error| {
        if too_large.load(Ordering::Relaxed) {
            BffError::BodyTooLarge
        } else if error.is_timeout() {
            BffError::ApiTimeout
        } else {
            BffError::ApiUnreachable(error.without_url().to_string())
        }
    })?;
    tracing::Span::current().record("status", answer.status().as_u16());
    let mut response = relay(request.method(), answer);
    if let Some(value) = current.set_cookie {
        let max_age = current.session.expires_at - crate::bff::now();
        let _ = response.add_cookie(&state.cookies.session(value, max_age));
    }
    Ok(response)
}

/// 401 and a cleared cookie: the session is gone (signed out elsewhere, or Hydra refused to
/// refresh it).
pub fn signed_out(state: &BffState) -> HttpResponse {
    let mut response = HttpResponse::from_error(BffError::Unauthenticated);
    let _ = response.add_cookie(&state.cookies.clear_session());
    response
}

/// The request body as a stream reqwest can send, cut off past `limit` bytes.
///
/// actix's payload lives on this worker's thread, reqwest wants a `Send` stream: a local task
/// pumps one into a small channel that feeds the other.
fn stream_body(mut payload: web::Payload, limit: u64, too_large: Arc<AtomicBool>) -> reqwest::Body {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<web::Bytes, io::Error>>(8);
    actix_web::rt::spawn(async move {
        let mut total: u64 = 0;
        while let Some(chunk) = payload.next().await {
            let item = match chunk {
                Ok(bytes) => {
                    total = total.saturating_add(bytes.len() as u64);
                    if total > limit {
                        too_large.store(true, Ordering::Relaxed);
                        Err(io::Error::other("the request body is too large"))
                    } else {
                        Ok(bytes)
                    }
                }
                Err(error) => Err(io::Error::other(error.to_string())),
            };
            let failed = item.is_err();
            if sender.send(item).await.is_err() || failed {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    reqwest::Body::wrap_stream(stream)
}

/// The upstream's headers the browser may see: not hop-by-hop ones (also those the upstream
/// lists in `Connection`), no cookies, and no `Content-Length` (the body's own length is used).
fn answer_headers(headers: &reqwest::header::HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
    let connection_listed: Vec<String> = headers
        .get_all(reqwest::header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            !(HOP_BY_HOP.contains(&name)
                || matches!(name, "set-cookie" | "set-cookie2" | "content-length")
                || connection_listed.iter().any(|listed| listed == name))
        })
        .filter_map(|(name, value)| {
            Some((
                HeaderName::from_bytes(name.as_str().as_bytes()).ok()?,
                HeaderValue::from_bytes(value.as_bytes()).ok()?,
            ))
        })
        .collect()
}

/// True for an answer a browser could render as a document that runs script: HTML, XHTML, XML
/// (which can carry XHTML), SVG, or no declared type at all.
fn renders_as_document(headers: &reqwest::header::HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return true;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.is_empty()
        || matches!(
            essence.as_str(),
            "text/html"
                | "application/xhtml+xml"
                | "image/svg+xml"
                | "text/xml"
                | "application/xml"
        )
        || essence.ends_with("+xml")
}

/// The upstream's answer for the browser, its body streamed.
fn relay(method: &Method, answer: reqwest::Response) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = HttpResponse::build(status);
    if renders_as_document(answer.headers()) {
        // An API's HTML opened on the app's origin would otherwise run with the app's cookies
        // and the session behind them; `sandbox` gives it an opaque origin. Added besides any
        // policy of the upstream's own (every policy applies).
        response.append_header((header::CONTENT_SECURITY_POLICY, "sandbox"));
    }
    let headers = answer_headers(answer.headers());
    let has_cache_control = headers
        .iter()
        .any(|(name, _)| name == header::CACHE_CONTROL);
    for header in headers {
        response.append_header(header);
    }
    if !has_cache_control {
        // Answers made with a user's token are that user's: no shared cache may keep them.
        response.insert_header((header::CACHE_CONTROL, "no-store"));
    }
    let bodiless = *method == Method::HEAD
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status.is_informational();
    if bodiless {
        return response.finish();
    }
    let length = answer.content_length();
    let body = answer.bytes_stream().map(|chunk| {
        chunk.map_err(|error| {
            tracing::warn!(error = %error.without_url(), "the upstream API's answer broke off");
            io::Error::other("the upstream API's answer broke off")
        })
    });
    match length {
        Some(length) => response.body(SizedStream::new(length, body)),
        None => response.streaming(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(base: &str, tail: &str, query: Option<&str>) -> Result<String, BffError> {
        target_url(&Url::parse(base).unwrap(), tail, query).map(String::from)
    }

    #[test]
    fn no_header_forwarded_by_default_is_one_that_must_never_be() {
        for name in FORWARDED_REQUEST_HEADERS {
            assert!(
                !crate::bff::headers::never_forwarded(&HeaderName::from_static(name)),
                "{name}"
            );
        }
    }

    #[test]
    fn the_path_and_query_are_appended_to_the_base() {
        assert_eq!(
            target("https://api.example.com/v1", "orders/42", Some("a=1&b=%20")).unwrap(),
            "https://api.example.com/v1/orders/42?a=1&b=%20"
        );
        assert_eq!(
            target("https://api.example.com", "", None).unwrap(),
            "https://api.example.com/"
        );
        assert_eq!(
            target("https://api.example.com/v1", "a%2Fb/c%20d", None).unwrap(),
            "https://api.example.com/v1/a%2Fb/c%20d"
        );
    }

    #[test]
    fn the_path_cannot_leave_the_base() {
        for tail in [
            "..",
            "../admin",
            "a/../../admin",
            "%2e%2e/admin",
            "%2E%2e/admin",
            ".%2e/admin",
            "./x",
            "a\\..\\b",
            "a%5c..%5cb",
            "..%2Fadmin",
            "a%2F..%2F..%2Fadmin",
            "%2e%2e%2fadmin",
        ] {
            assert!(
                target("https://api.example.com/v1", tail, None).is_err(),
                "{tail}"
            );
        }
        assert!(target("https://api.example.com/v1", "x#frag", None).is_err());
    }

    #[test]
    fn path_parameters_and_double_encoding_are_refused() {
        for tail in [
            "admin;/x",
            "a/b;c/d",
            "a/..;/admin",
            "admin%3b/x",
            "admin%3B/x",
            "%252e%252e/admin",
            "a/%2541",
            "a%25",
        ] {
            assert!(
                target("https://api.example.com/v1", tail, None).is_err(),
                "{tail}"
            );
        }
        assert_eq!(
            target("https://api.example.com/v1", "a%20b/c", Some("x=1;y=%25")).unwrap(),
            "https://api.example.com/v1/a%20b/c?x=1;y=%25",
            "the query is the upstream's to read"
        );
    }

    #[test]
    fn documents_that_could_run_script_are_sandboxed_and_data_is_not() {
        let with = |content_type: Option<&str>| {
            let mut headers = reqwest::header::HeaderMap::new();
            if let Some(value) = content_type {
                headers.insert(reqwest::header::CONTENT_TYPE, value.parse().unwrap());
            }
            renders_as_document(&headers)
        };
        for document in [
            Some("text/html; charset=utf-8"),
            Some("TEXT/HTML"),
            Some("application/xhtml+xml"),
            Some("image/svg+xml"),
            Some("application/xml"),
            Some("text/xml"),
            Some("application/atom+xml"),
            None,
            Some(""),
        ] {
            assert!(with(document), "{document:?}");
        }
        for data in [
            "application/json",
            "application/problem+json",
            "text/plain",
            "image/png",
            "application/pdf",
            "text/csv",
        ] {
            assert!(!with(Some(data)), "{data}");
        }
    }

    #[test]
    fn answers_lose_cookies_and_hop_by_hop_headers() {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "private"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("set-cookie", "a=b"),
            ("content-length", "12"),
            ("etag", "\"v1\""),
            ("link", "</next>; rel=next"),
        ] {
            headers.append(name, value.parse().unwrap());
        }
        let kept: Vec<String> = answer_headers(&headers)
            .into_iter()
            .map(|(name, _)| name.to_string())
            .collect();
        assert_eq!(kept, ["etag", "link"]);
    }

    #[test]
    fn the_upstream_name_is_the_first_segment() {
        assert_eq!(split_path("/api/proxy/orders/a/b"), Some(("orders", "a/b")));
        assert_eq!(split_path("/api/proxy/orders"), Some(("orders", "")));
        assert_eq!(split_path("/api/proxy/orders/"), Some(("orders", "")));
        assert_eq!(split_path("/api/other"), None);
    }
}
