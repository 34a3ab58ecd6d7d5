//! One user-facing error type, rendered as a friendly page with the request id.
//!
//! Handlers return [`HeraError`]. `ResponseError` picks the status; the [`error_pages`]
//! middleware then renders `error.html` with the request id (which only the request knows) and
//! logs the cause chain. Upstream bodies, URLs and stack traces never reach a page.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use std::time::Duration;

use actix_web::{HttpMessage, HttpResponse, ResponseError};
use tracing_actix_web::RequestId;

use crate::domain::challenge::ChallengeError;
use crate::i18n::Texts;
use crate::ory::{HydraError, UpstreamError};
use crate::routes::{render, texts};
use crate::startup::AppState;
use crate::views::{ErrorPage, Layout};

/// Everything that can go wrong for a user of Hera.
#[derive(Debug, thiserror::Error)]
pub enum HeraError {
    /// A required challenge parameter is absent or empty.
    #[error("the {0} parameter is missing")]
    MissingChallenge(&'static str),
    /// A challenge parameter is not a plausible challenge.
    #[error("the {0} parameter is malformed")]
    MalformedChallenge(&'static str),
    /// Hydra does not know the challenge.
    #[error("Hydra does not know the challenge")]
    UnknownChallenge,
    /// The challenge expired.
    #[error("the challenge has expired")]
    ExpiredChallenge,
    /// A form was posted without a valid CSRF token, or from another site.
    #[error("CSRF check failed: {0}")]
    Csrf(&'static str),
    /// A form was not what the page sends.
    #[error("invalid form: {0}")]
    BadForm(String),
    /// The consent subject has no usable Kratos identity (deleted or deactivated).
    #[error("the identity of the consent subject is missing or inactive")]
    AccountUnavailable,
    /// No such page.
    #[error("no such page")]
    NotFound,
    /// Hydra does not know the logout challenge (404) or it expired (401).
    #[error("the logout challenge is unknown or has expired")]
    StaleLogout { expired: bool },
    /// Hydra does not know the device challenge (404) or it expired (401).
    #[error("the device challenge is unknown or has expired")]
    StaleDevice { expired: bool },
    /// Too many attempts from this address or for this request.
    #[error("too many attempts; retry after {retry_after:?}")]
    TooManyAttempts { retry_after: Duration },
    /// The request exceeds one of Hera's size limits (`crate::limits`).
    #[error("the request is too large: {0:?}")]
    TooLarge(TooLarge),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error("unexpected: {0:#}")]
    Unexpected(#[from] anyhow::Error),
}

impl HeraError {
    /// A failed logout call: unknown and expired challenges get sign-out wording.
    pub fn logout(error: HydraError) -> Self {
        match error {
            HydraError::NotFound => HeraError::StaleLogout { expired: false },
            HydraError::Expired => HeraError::StaleLogout { expired: true },
            other => other.into(),
        }
    }

    /// A failed device call: unknown and expired challenges get device wording.
    pub fn device(error: HydraError) -> Self {
        match error {
            HydraError::NotFound => HeraError::StaleDevice { expired: false },
            HydraError::Expired => HeraError::StaleDevice { expired: true },
            other => other.into(),
        }
    }

    pub fn challenge(parameter: &'static str, error: ChallengeError) -> Self {
        match error {
            ChallengeError::Missing => HeraError::MissingChallenge(parameter),
            ChallengeError::Malformed => HeraError::MalformedChallenge(parameter),
        }
    }

    /// What the page says; plain words, nothing from upstream.
    fn wording(&self) -> Wording {
        match self {
            HeraError::MissingChallenge(_) | HeraError::MalformedChallenge(_) => {
                Wording::Incomplete
            }
            HeraError::UnknownChallenge | HeraError::ExpiredChallenge => Wording::NoLongerValid,
            HeraError::Csrf(_) => Wording::FormExpired,
            HeraError::BadForm(_) => Wording::BadRequest,
            HeraError::AccountUnavailable => Wording::AccountUnavailable,
            HeraError::NotFound => Wording::NotFound,
            HeraError::StaleLogout { .. } => Wording::SignOutNoLongerValid,
            HeraError::StaleDevice { .. } => Wording::DeviceNoLongerValid,
            HeraError::TooManyAttempts { .. } => Wording::TooManyAttempts,
            HeraError::TooLarge(_) => Wording::TooLarge,
            HeraError::Upstream(UpstreamError::Timeout { .. }) => Wording::UpstreamSlow,
            HeraError::Upstream(_) => Wording::UpstreamDown,
            HeraError::Unexpected(_) => Wording::Unexpected,
        }
    }
}

/// Which limit a request exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooLarge {
    Uri,
    Headers,
    Body,
}

/// The texts of Hera's error pages.
#[derive(Debug, Clone, Copy)]
enum Wording {
    Incomplete,
    NoLongerValid,
    FormExpired,
    BadRequest,
    AccountUnavailable,
    NotFound,
    SignOutNoLongerValid,
    DeviceNoLongerValid,
    TooManyAttempts,
    TooLarge,
    UpstreamSlow,
    UpstreamDown,
    Unexpected,
}

impl Wording {
    /// The machine-readable code of the JSON error body.
    fn code(self) -> &'static str {
        match self {
            Wording::Incomplete | Wording::BadRequest => "invalid_request",
            Wording::NoLongerValid
            | Wording::SignOutNoLongerValid
            | Wording::DeviceNoLongerValid => "request_expired",
            Wording::TooManyAttempts => "too_many_requests",
            Wording::TooLarge => "request_too_large",
            Wording::FormExpired => "csrf",
            Wording::AccountUnavailable => "account_unavailable",
            Wording::NotFound => "not_found",
            Wording::UpstreamSlow => "upstream_timeout",
            Wording::UpstreamDown => "upstream_unavailable",
            Wording::Unexpected => "server_error",
        }
    }

    /// For errors that are not Hera's own (actix extractors, payload limits), by status.
    fn for_status(status: StatusCode) -> Wording {
        match status {
            StatusCode::NOT_FOUND => Wording::NotFound,
            StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::URI_TOO_LONG
            | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Wording::TooLarge,
            status if status.is_client_error() => Wording::BadRequest,
            _ => Wording::Unexpected,
        }
    }

    /// Message keys of the title and the message (`locales/*.ftl`).
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            Wording::Incomplete => ("error-incomplete-title", "error-incomplete-message"),
            Wording::NoLongerValid => (
                "error-no-longer-valid-title",
                "error-no-longer-valid-message",
            ),
            Wording::FormExpired => ("error-form-expired-title", "error-form-expired-message"),
            Wording::BadRequest => ("error-bad-request-title", "error-bad-request-message"),
            Wording::AccountUnavailable => (
                "error-account-unavailable-title",
                "error-account-unavailable-message",
            ),
            Wording::NotFound => ("error-not-found-title", "error-not-found-message"),
            Wording::SignOutNoLongerValid => (
                "error-sign-out-no-longer-valid-title",
                "error-sign-out-no-longer-valid-message",
            ),
            Wording::DeviceNoLongerValid => (
                "error-device-no-longer-valid-title",
                "error-device-no-longer-valid-message",
            ),
            Wording::TooLarge => ("error-too-large-title", "error-too-large-message"),
            Wording::TooManyAttempts => (
                "error-too-many-attempts-title",
                "error-too-many-attempts-message",
            ),
            Wording::UpstreamSlow => ("error-upstream-slow-title", "error-upstream-slow-message"),
            Wording::UpstreamDown => ("error-upstream-down-title", "error-upstream-down-message"),
            Wording::Unexpected => ("error-unexpected-title", "error-unexpected-message"),
        }
    }

    /// Every wording, for the catalogue test.
    #[cfg(test)]
    const ALL: [Wording; 13] = [
        Wording::Incomplete,
        Wording::NoLongerValid,
        Wording::FormExpired,
        Wording::BadRequest,
        Wording::AccountUnavailable,
        Wording::NotFound,
        Wording::SignOutNoLongerValid,
        Wording::DeviceNoLongerValid,
        Wording::TooManyAttempts,
        Wording::TooLarge,
        Wording::UpstreamSlow,
        Wording::UpstreamDown,
        Wording::Unexpected,
    ];
}

impl From<HydraError> for HeraError {
    fn from(error: HydraError) -> Self {
        match error {
            HydraError::NotFound => HeraError::UnknownChallenge,
            HydraError::Expired => HeraError::ExpiredChallenge,
            // Handlers redirect on this before it becomes an error; reaching here is a bug.
            HydraError::AlreadyHandled { .. } => {
                HeraError::Unexpected(anyhow::anyhow!("unhandled 410 from Hydra"))
            }
            HydraError::Upstream(error) => HeraError::Upstream(error),
        }
    }
}

impl ResponseError for HeraError {
    fn status_code(&self) -> StatusCode {
        match self {
            HeraError::MissingChallenge(_)
            | HeraError::MalformedChallenge(_)
            | HeraError::BadForm(_) => StatusCode::BAD_REQUEST,
            HeraError::UnknownChallenge | HeraError::NotFound => StatusCode::NOT_FOUND,
            HeraError::ExpiredChallenge => StatusCode::GONE,
            HeraError::StaleLogout { expired } | HeraError::StaleDevice { expired } => {
                if *expired {
                    StatusCode::GONE
                } else {
                    StatusCode::NOT_FOUND
                }
            }
            HeraError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            HeraError::TooLarge(TooLarge::Uri) => StatusCode::URI_TOO_LONG,
            HeraError::TooLarge(TooLarge::Headers) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            HeraError::TooLarge(TooLarge::Body) => StatusCode::PAYLOAD_TOO_LARGE,
            HeraError::Csrf(_) | HeraError::AccountUnavailable => StatusCode::FORBIDDEN,
            HeraError::Upstream(UpstreamError::Timeout { .. }) => StatusCode::GATEWAY_TIMEOUT,
            HeraError::Upstream(UpstreamError::Status { status: 503, .. }) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            HeraError::Upstream(_) => StatusCode::BAD_GATEWAY,
            HeraError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // The body is replaced by `error_pages` (which keeps these headers); this is only the
        // fallback.
        let mut response = HttpResponse::build(self.status_code());
        if let HeraError::TooManyAttempts { retry_after } = self {
            // Whole seconds, rounded up (RFC 9110 §10.2.3).
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            response.insert_header((header::RETRY_AFTER, seconds.max(1)));
        }
        response.finish()
    }
}

/// Renders every error response as `error.html` with the request id, and logs its cause.
/// Runs inside `TracingLogger`, so the request id exists and logs land in the request span.
pub async fn error_pages(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    // The API routes answer errors in JSON (in English, for developers); everything else is a
    // page in the browser's language.
    let wants_json = request.path().starts_with("/session/");
    let texts: Option<Texts> = request
        .app_data::<actix_web::web::Data<AppState>>()
        .map(|state| {
            if wants_json {
                state.catalogue.default_texts()
            } else {
                texts(request.request(), state, &[])
            }
        });
    // Handler errors arrive as responses carrying the error. An `Err` here comes from a
    // middleware and is left to actix: holding a clone of the request to render it would stop
    // actix from routing the request (it needs the only reference).
    let mut response = next.call(request).await?.map_into_boxed_body();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), value);
    }
    let Some(error) = response.response().error() else {
        return Ok(response);
    };
    let status = response.status();
    let wording = error
        .as_error::<HeraError>()
        .map_or_else(|| Wording::for_status(status), HeraError::wording);
    let (title_key, message_key) = wording.keys();
    let Some(t) = texts else {
        // Only without Hera's state (never in a running server): keep actix's plain answer.
        return Ok(response);
    };
    let (title, message) = (t.text(title_key), t.text(message_key));
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), error = ?error, "request failed");
    } else {
        tracing::info!(status = status.as_u16(), error = %error, "request refused");
    }
    if wants_json {
        let (http_request, old) = response.into_parts();
        let mut new = HttpResponse::build(status).json(serde_json::json!({
            "error": wording.code(),
            "error_description": message,
            "request_id": request_id,
        }));
        copy_headers(&old, &mut new);
        return Ok(ServiceResponse::new(http_request, new));
    }
    let page = ErrorPage {
        layout: Layout::new(&t, title),
        status: status.as_u16(),
        message: message.into(),
        code: None,
        request_id,
    };
    let (http_request, old) = response.into_parts();
    let mut new = render(status, &page);
    copy_headers(&old, &mut new);
    Ok(ServiceResponse::new(http_request, new))
}

/// Keeps the headers set so far (request id, cookies, CORS) on the replacement response.
fn copy_headers(old: &HttpResponse, new: &mut HttpResponse) {
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Catalogue;

    #[test]
    fn every_error_page_is_worded_in_every_language() {
        let catalogue = Catalogue::load().unwrap();
        for lang in catalogue.tags() {
            let t = catalogue.negotiate(&[lang.to_owned()], None);
            for wording in Wording::ALL {
                let (title, message) = wording.keys();
                assert!(t.keys().any(|k| k == title), "{lang}: {title}");
                assert!(t.keys().any(|k| k == message), "{lang}: {message}");
            }
        }
    }
}
