//! What can go wrong in the BFF, and how the browser hears about it.
//!
//! `/api/login` and `/api/callback` are top-level navigations, so their errors are a small HTML
//! page (`templates/bff_error.html`); every other `/api/*` route answers JSON
//! `{"error", "error_description", "request_id"}` for the SPA. Either way the request id is
//! shown, the cause goes to the log only, and nothing from upstream (bodies, URLs, tokens)
//! reaches the browser.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use crate::bff::id_token::IdTokenError;
use crate::ory::UpstreamError;
use crate::web::errors::{self, RenderErrors};

/// The store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the session store could not be used: {0}")]
    Unavailable(String),
    #[error("the in-memory session store is full")]
    Full,
    #[error("timed out waiting for another instance to refresh the session")]
    LockTimeout,
}

/// Everything that can go wrong for a user of the BFF.
#[derive(Debug, thiserror::Error)]
pub enum BffError {
    /// No session, or it ended.
    #[error("not signed in")]
    Unauthenticated,
    /// A state-changing request without the CSRF header or from another origin.
    #[error("CSRF check failed: {0}")]
    Csrf(&'static str),
    /// `return_to` is not a path on the app's own origin.
    #[error("return_to must be a path on this origin")]
    BadReturnTo,
    /// The callback has no sign-in in progress (cookie missing or expired).
    #[error("no sign-in is in progress in this browser")]
    NoLoginInProgress,
    /// The callback's `state` is not the one this browser's sign-in started with.
    #[error("the state parameter does not match")]
    StateMismatch,
    /// The callback carries neither a code nor an error.
    #[error("the callback carries no code")]
    MissingCode,
    /// Hydra sent the user back with an OAuth2 error (`access_denied`, …).
    #[error("Hydra refused the sign-in: {0}")]
    SignInRefused(String),
    /// Hydra refused the code exchange (used, expired, PKCE mismatch).
    #[error("Hydra refused the authorization code: {0}")]
    CodeRefused(String),
    /// The ID token failed validation.
    #[error("the ID token is not acceptable: {0}")]
    IdToken(#[from] IdTokenError),
    /// Hydra answered the token request without what the BFF needs.
    #[error("the token response lacks {0}")]
    IncompleteTokens(&'static str),
    /// The `cookie` store cannot hold these tokens in 4 KB.
    #[error("the session does not fit in a cookie ({size} bytes > {limit}); use HERA_BFF_SESSION_STORE=memory or redis")]
    SessionTooLarge { size: usize, limit: usize },
    /// `/api/proxy/<name>` names no configured upstream.
    #[error("no upstream API is named {0:?}")]
    UnknownUpstream(String),
    /// The proxied path tries to leave the upstream's base path, or is otherwise unusable.
    #[error("the proxied path is not acceptable: {0}")]
    BadProxyPath(&'static str),
    /// CONNECT, TRACE and the like.
    #[error("the method is not forwarded")]
    MethodNotForwarded,
    /// The request body is larger than HERA_BFF_MAX_BODY_BYTES.
    #[error("the request body is too large")]
    BodyTooLarge,
    /// An upstream API could not be reached in time.
    #[error("the upstream API did not answer in time")]
    ApiTimeout,
    /// An upstream API could not be reached.
    #[error("the upstream API could not be reached: {0}")]
    ApiUnreachable(String),
    /// Hydra could not be used.
    #[error(transparent)]
    Hydra(#[from] UpstreamError),
    /// The session store could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("unexpected: {0:#}")]
    Unexpected(#[from] anyhow::Error),
}

impl BffError {
    /// Machine-readable code for the JSON body.
    fn code(&self) -> &'static str {
        match self {
            BffError::Unauthenticated => "unauthenticated",
            BffError::Csrf(_) => "csrf",
            BffError::BadReturnTo => "invalid_return_to",
            BffError::NoLoginInProgress | BffError::StateMismatch | BffError::MissingCode => {
                "invalid_callback"
            }
            BffError::SignInRefused(_) => "sign_in_refused",
            BffError::CodeRefused(_) => "invalid_grant",
            BffError::IdToken(_) | BffError::IncompleteTokens(_) => "invalid_id_token",
            BffError::SessionTooLarge { .. } => "session_too_large",
            BffError::UnknownUpstream(_) => "unknown_upstream",
            BffError::BadProxyPath(_) => "invalid_path",
            BffError::MethodNotForwarded => "method_not_allowed",
            BffError::BodyTooLarge => "payload_too_large",
            BffError::ApiTimeout => "upstream_timeout",
            BffError::ApiUnreachable(_) => "upstream_unavailable",
            BffError::Hydra(UpstreamError::Timeout { .. }) => "hydra_timeout",
            BffError::Hydra(_) => "hydra_unavailable",
            BffError::Store(_) => "session_store_unavailable",
            BffError::Unexpected(_) => "server_error",
        }
    }

    /// Plain words for a person; nothing from upstream.
    fn text(&self) -> (&'static str, &'static str) {
        match self {
            BffError::Unauthenticated => ("Not signed in", "Sign in to continue."),
            BffError::Csrf(_) => (
                "Request refused",
                "The request did not come from this application.",
            ),
            BffError::BadReturnTo => (
                "This sign-in link is not valid",
                "The page to come back to must be part of this application.",
            ),
            BffError::NoLoginInProgress => (
                "This sign-in has expired",
                "The sign-in took too long or was started in another browser. Start again from the application.",
            ),
            BffError::StateMismatch | BffError::MissingCode => (
                "This sign-in is not valid",
                "The answer from the sign-in service does not belong to the sign-in started in this browser. Start again from the application.",
            ),
            BffError::SignInRefused(_) => (
                "Sign-in did not complete",
                "The sign-in was cancelled or refused. Start again from the application.",
            ),
            BffError::CodeRefused(_) | BffError::IdToken(_) | BffError::IncompleteTokens(_) => (
                "Sign-in could not be verified",
                "The answer from the sign-in service could not be verified, so you were not signed in. Start again from the application.",
            ),
            BffError::SessionTooLarge { .. } => (
                "Sign-in could not be completed",
                "The sign-in service's tokens are too large for this server's configuration. Please contact the operator.",
            ),
            BffError::UnknownUpstream(_) => ("Not found", "There is no such API."),
            BffError::BadProxyPath(_) | BffError::MethodNotForwarded => {
                ("Bad request", "The request could not be forwarded.")
            }
            BffError::BodyTooLarge => ("Request too large", "The request body is too large."),
            BffError::ApiTimeout => (
                "The service is too slow",
                "The service did not answer in time. Please try again.",
            ),
            BffError::ApiUnreachable(_) => (
                "The service is unavailable",
                "The service could not be reached. Please try again.",
            ),
            BffError::Hydra(_) => (
                "The sign-in service is unavailable",
                "The sign-in service could not be reached. Please try again in a moment.",
            ),
            BffError::Store(_) => (
                "Sessions are unavailable",
                "Sessions cannot be read right now. Please try again in a moment.",
            ),
            BffError::Unexpected(_) => (
                "Something went wrong",
                "An unexpected error happened. Please try again.",
            ),
        }
    }
}

impl ResponseError for BffError {
    fn status_code(&self) -> StatusCode {
        match self {
            BffError::Unauthenticated => StatusCode::UNAUTHORIZED,
            BffError::Csrf(_) => StatusCode::FORBIDDEN,
            BffError::BadReturnTo
            | BffError::NoLoginInProgress
            | BffError::StateMismatch
            | BffError::MissingCode
            | BffError::SignInRefused(_)
            | BffError::CodeRefused(_)
            | BffError::IdToken(_)
            | BffError::BadProxyPath(_) => StatusCode::BAD_REQUEST,
            BffError::UnknownUpstream(_) => StatusCode::NOT_FOUND,
            BffError::MethodNotForwarded => StatusCode::METHOD_NOT_ALLOWED,
            BffError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            BffError::ApiTimeout | BffError::Hydra(UpstreamError::Timeout { .. }) => {
                StatusCode::GATEWAY_TIMEOUT
            }
            BffError::ApiUnreachable(_) | BffError::Hydra(_) | BffError::IncompleteTokens(_) => {
                StatusCode::BAD_GATEWAY
            }
            BffError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            BffError::SessionTooLarge { .. } | BffError::Unexpected(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        // `render_errors` replaces the body with the request id; this is the fallback.
        HttpResponse::build(self.status_code()).finish()
    }
}

/// The HTML error page of `/api/login` and `/api/callback`.
#[derive(Template)]
#[template(path = "bff_error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    status: u16,
    request_id: &'a str,
}

/// Renders every error response under `/api` (the BFF's own and actix's) with the request id:
/// a page for the two navigation routes, JSON elsewhere. Other paths (the SPA's files) keep
/// their plain answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct BffErrors;

impl RenderErrors for BffErrors {
    fn render(
        &self,
        request: &HttpRequest,
        status: StatusCode,
        error: &actix_web::Error,
        request_id: &str,
    ) -> Option<HttpResponse> {
        let path = request.path();
        let is_page = path == "/api/login" || path == "/api/callback";
        if !(path == "/api" || path.starts_with("/api/")) {
            return None;
        }
        let bff_error = error.as_error::<BffError>();
        let code = bff_error.map_or_else(|| fallback_code(status), BffError::code);
        let (title, message) = bff_error.map_or_else(|| fallback_text(status), BffError::text);
        if !is_page {
            return Some(errors::json(status, code, message, request_id));
        }
        let page = ErrorPage {
            title,
            message,
            status: status.as_u16(),
            request_id,
        };
        Some(match page.render() {
            Ok(body) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .insert_header((
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
                ))
                .body(body),
            Err(error) => {
                tracing::error!(error = %error, "template rendering failed");
                HttpResponse::build(status)
                    .content_type("text/plain; charset=utf-8")
                    .body(message)
            }
        })
    }
}

fn fallback_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        status if status.is_client_error() => "invalid_request",
        _ => "server_error",
    }
}

fn fallback_text(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("Not found", "There is nothing at this address."),
        status if status.is_client_error() => ("Bad request", "The request could not be read."),
        _ => (
            "Something went wrong",
            "An unexpected error happened. Please try again.",
        ),
    }
}
