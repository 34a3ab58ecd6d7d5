//! The HTTP edge every server role shares: turning errors into answers with a request id,
//! security headers, size limits, attempt limits ([`rate_limit`]), redirects, page rendering and
//! the cookies forwarded to Kratos.

pub mod errors;
pub mod limits;
pub mod rate_limit;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::DefaultHeaders;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use askama::Template;
use tracing_actix_web::RequestId;

/// Name of Hera's own session cookie over plain http (actix-session's default, `id`, says
/// nothing). It is never forwarded to Kratos.
pub const SESSION_COOKIE: &str = "hera_session";

/// Name of Hera's own session cookie over https: the `__Host-` prefix makes browsers accept it
/// only with `Secure`, `Path=/` and no `Domain`, so no sibling subdomain or plain-http page can
/// set or shadow it (RFC 6265bis §4.1.3.2).
pub const SECURE_SESSION_COOKIE: &str = "__Host-hera_session";

/// The session cookie's name: `__Host-hera_session` when it is `Secure`.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// Headers on every response of a page-serving role; a handler's own value wins (the stylesheet
/// sets its own `Cache-Control`).
///
/// The CSP has no `form-action`: Chrome applies it to the whole redirect chain after a form
/// POST, and Hera's consent POST ends at Hydra and then at the client's `redirect_uri`, which no
/// fixed list can name. `img-src https:` allows only client logos, which Hera shows only when
/// they are https; `Referrer-Policy: no-referrer` keeps challenges in Hera's URLs from leaking
/// to them.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            content_security_policy(&[], false),
        ))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cache-Control", "no-store"))
}

/// The `Content-Security-Policy` of a page: nothing but Hera's stylesheet and https logos,
/// plus exactly the `scripts` named (full URLs; a page of Kratos's WebAuthn flow lists Kratos's
/// script and Hera's own) and, with `data_images`, `data:` images (the TOTP QR code Kratos sends
/// inline). Never `unsafe-inline`.
pub fn content_security_policy(scripts: &[&str], data_images: bool) -> String {
    let mut policy = String::from("default-src 'none'; style-src 'self'; img-src 'self' https:");
    if data_images {
        policy.push_str(" data:");
    }
    if !scripts.is_empty() {
        policy.push_str("; script-src");
        for script in scripts {
            policy.push(' ');
            policy.push_str(script);
        }
    }
    policy.push_str("; base-uri 'none'; frame-ancestors 'none'");
    policy
}

/// The request's id: the `X-Request-Id` a trusted proxy sent ([`trusted_request_ids`]), or the
/// one `TracingLogger` made up (empty outside it).
pub fn request_id(request: &HttpRequest) -> String {
    let extensions = request.extensions();
    if let Some(IncomingRequestId(id)) = extensions.get::<IncomingRequestId>() {
        return id.clone();
    }
    extensions
        .get::<RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// An `X-Request-Id` taken from a trusted proxy.
#[derive(Debug, Clone)]
struct IncomingRequestId(String);

/// Longest incoming request id kept.
const MAX_REQUEST_ID: usize = 128;

/// Whether the `X-Request-Id` of requests may be taken: true when trusted proxies sit in front
/// (`HERA_TRUSTED_PROXY_HOPS` > 0). App data for [`request_ids`].
#[derive(Debug, Clone, Copy)]
pub struct TrustIncomingRequestIds(pub bool);

/// Takes the `X-Request-Id` of the request when [`TrustIncomingRequestIds`] says so and it is a
/// plausible id (letters, digits, `-`, `_`, `.`, `:`, at most 128 characters). Without trusted
/// proxies the header could come from anyone, so Hera makes up its own. Wraps outside
/// `TracingLogger`, which reads it.
pub async fn request_ids(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let trusted = request
        .app_data::<actix_web::web::Data<TrustIncomingRequestIds>>()
        .is_some_and(|trust| trust.0);
    if trusted {
        let incoming = request
            .headers()
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .filter(|id| plausible_request_id(id))
            .map(str::to_owned);
        if let Some(id) = incoming {
            request.extensions_mut().insert(IncomingRequestId(id));
        }
    }
    Ok(next.call(request).await?.map_into_boxed_body())
}

/// The access log: one line per answered request at `info`, target `hera::access`, with the
/// method, the route template (never the path or query, which carry challenges), the status,
/// the time taken and the request id. Wraps inside `TracingLogger` and outside the error
/// middleware, so the status is the final one.
pub async fn access_log(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let response = next.call(request).await?.map_into_boxed_body();
    let http = response.request();
    let route = http
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    tracing::info!(
        target: "hera::access",
        method = %http.method(),
        route = %route,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        request_id = %request_id(http),
        "request answered"
    );
    Ok(response)
}

fn plausible_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Renders a page. A template failure becomes a plain 500, never a panic.
pub fn render(status: StatusCode, template: &impl Template) -> HttpResponse {
    match template.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(error) => {
            tracing::error!(error = %error, "template rendering failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Internal error")
        }
    }
}

/// 303 to `location`, which must be a URL Hydra or Kratos returned or Hera built itself: Hera
/// never redirects to a URL taken from the request (RFC 6749 §4.1.2.1 forbids redirecting on an
/// unverified request). `None` when the URL cannot be a header value.
pub fn see_other(location: &str) -> Option<HttpResponse> {
    let value = HeaderValue::from_str(location).ok()?;
    Some(
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, value))
            .finish(),
    )
}

/// The browser's cookies to forward to Kratos, minus Hera's own session cookie (under either
/// name), which Kratos has no business seeing. HTTP/2 may split cookies over several headers;
/// they are joined.
pub fn forwarded_cookies(request: &HttpRequest) -> Option<String> {
    let own = [
        format!("{SESSION_COOKIE}="),
        format!("{SECURE_SESSION_COOKIE}="),
    ];
    let cookies: Vec<&str> = request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .map(str::trim)
        .filter(|cookie| !cookie.is_empty() && !own.iter().any(|name| cookie.starts_with(name)))
        .collect();
    (!cookies.is_empty()).then(|| cookies.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn forwarded_cookies_drop_heras_own_session_and_join_split_headers() {
        let request = TestRequest::default()
            .append_header((
                header::COOKIE,
                "ory_kratos_session=abc; hera_session=secret; __Host-hera_session=secret",
            ))
            .append_header((header::COOKIE, "csrf_token_x=y"))
            .to_http_request();
        assert_eq!(
            forwarded_cookies(&request).as_deref(),
            Some("ory_kratos_session=abc; csrf_token_x=y")
        );
    }

    #[test]
    fn no_cookies_forwards_nothing() {
        let request = TestRequest::default()
            .append_header((header::COOKIE, "hera_session=secret"))
            .to_http_request();
        assert_eq!(forwarded_cookies(&request), None);
        assert_eq!(
            forwarded_cookies(&TestRequest::default().to_http_request()),
            None
        );
    }

    #[test]
    fn the_policy_names_only_the_scripts_and_images_a_page_needs() {
        assert_eq!(
            content_security_policy(&[], false),
            "default-src 'none'; style-src 'self'; img-src 'self' https:; base-uri 'none'; frame-ancestors 'none'"
        );
        let policy = content_security_policy(
            &[
                "https://id.example/.well-known/ory/webauthn.js",
                "https://hera.example/static/hera.1.js",
            ],
            true,
        );
        assert!(policy.contains("img-src 'self' https: data:;"), "{policy}");
        assert!(policy.contains("; script-src https://id.example/.well-known/ory/webauthn.js https://hera.example/static/hera.1.js;"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
    }

    #[test]
    fn only_plausible_request_ids_are_taken() {
        assert!(plausible_request_id("3f1c-0a:lb.7_x"));
        for bad in ["", "a b", "a\nb", "<script>", &"a".repeat(129)] {
            assert!(!plausible_request_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_location_that_cannot_be_a_header_is_refused() {
        assert!(see_other("https://ok.example/path").is_some());
        assert!(see_other("https://bad.example/\n").is_none());
    }
}
