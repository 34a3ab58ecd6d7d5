//! The one place where error responses get their body: every server role (the provider with
//! the session API, and `hera bff`) wraps its app in [`respond`].
//!
//! Handlers and middleware return errors; actix turns each into a bare response that still
//! carries the error. [`respond`] then gives every response the `X-Request-Id` header, logs the
//! cause of every error response (server errors at `error`, refusals at `info`), and asks the
//! role's [`RenderErrors`] for the body: a page in the person's language, or JSON for an API.
//! Headers set so far (cookies, CORS, `Retry-After`, the request id) are kept on the new answer,
//! every value of a repeated header included. Upstream bodies, URLs and stack traces never reach
//! an answer: renderers only see the error to choose their own wording.

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};

/// How a role answers an error: the new response for this (routed) request, or `None` to keep
/// actix's bare one.
pub trait RenderErrors: Send + Sync + 'static {
    fn render(
        &self,
        request: &HttpRequest,
        status: StatusCode,
        error: &actix_web::Error,
        request_id: &str,
    ) -> Option<HttpResponse>;
}

/// The app data [`respond`] reads the renderer from.
pub fn renderer(render: impl RenderErrors) -> web::Data<dyn RenderErrors> {
    web::Data::from(Arc::new(render) as Arc<dyn RenderErrors>)
}

/// The middleware; runs inside `TracingLogger`, so the request id exists and logs land in the
/// request's span.
pub async fn respond(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = super::request_id(request.request());
    // An `Err` here comes from a middleware and is left to actix: holding a clone of the request
    // to render it would stop actix from routing the request (it needs the only reference).
    let mut response = next.call(request).await?.map_into_boxed_body();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    let Some(error) = response.response().error() else {
        return Ok(response);
    };
    let status = response.status();
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), error = %error, detail = ?error, "request failed");
    } else {
        tracing::info!(status = status.as_u16(), error = %error, "request refused");
    }
    let renderer = response
        .request()
        .app_data::<web::Data<dyn RenderErrors>>()
        .cloned();
    let Some(new) = renderer.and_then(|r| r.render(response.request(), status, error, &request_id))
    else {
        return Ok(response);
    };
    let (http_request, old) = response.into_parts();
    Ok(ServiceResponse::new(http_request, keep_headers(&old, new)))
}

/// `new` with every header of `old` but its body's type and length, repeated values included.
fn keep_headers(old: &HttpResponse, mut new: HttpResponse) -> HttpResponse {
    let body_headers = [header::CONTENT_TYPE, header::CONTENT_LENGTH];
    for name in old.headers().keys() {
        if body_headers.contains(name) {
            continue;
        }
        new.headers_mut().remove(name);
    }
    for (name, value) in old.headers() {
        if !body_headers.contains(name) {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    new
}

/// The JSON error body of every API: `{"error", "error_description", "request_id"}`.
pub fn json(status: StatusCode, code: &str, description: &str, request_id: &str) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({
        "error": code,
        "error_description": description,
        "request_id": request_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_of_a_repeated_header_is_kept() {
        let old = HttpResponse::BadRequest()
            .append_header((header::SET_COOKIE, "a=1"))
            .append_header((header::SET_COOKIE, "b=2"))
            .insert_header((header::CONTENT_TYPE, "text/plain"))
            .finish();
        let new = keep_headers(&old, json(StatusCode::BAD_REQUEST, "x", "y", "id"));
        let cookies: Vec<_> = new.headers().get_all(header::SET_COOKIE).collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(
            new.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
    }
}
