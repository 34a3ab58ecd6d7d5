//! What goes wrong on `/session/*` and `/oauth2/token-exchange`, and the one JSON shape every
//! refusal and failure has: `{"error", "error_description", "request_id"}` (RFC 6749 §5.2 plus
//! the request id), in English (the callers are programs).

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use crate::domain::bridge::Refusal;
use crate::domain::token_exchange::ExchangeError;
use crate::ory::UpstreamError;
use crate::web::errors::{self, RenderErrors};

/// A refusal or failure of the session API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is refused; `error` is the OAuth2-style code the caller branches on.
    #[error("{error}: {description}")]
    Refused {
        status: StatusCode,
        error: String,
        description: String,
    },
    /// Too soon again, or too many; retry after this many seconds. `why` is the description.
    #[error("too many requests")]
    TooSoon {
        retry_after_seconds: u64,
        why: &'static str,
    },
    /// Hydra or Kratos could not be used.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error("unexpected: {0:#}")]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    pub fn refused(
        status: StatusCode,
        error: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        ApiError::Refused {
            status,
            error: error.into(),
            description: description.into(),
        }
    }

    /// `(error, description)` for the body.
    fn words(&self) -> (&str, String) {
        match self {
            ApiError::Refused {
                error, description, ..
            } => (error, description.clone()),
            ApiError::TooSoon { why, .. } => ("too_many_requests", (*why).to_owned()),
            ApiError::Upstream(UpstreamError::Timeout { .. }) => (
                "upstream_timeout",
                "Hydra or Kratos did not answer in time. Please try again.".into(),
            ),
            ApiError::Upstream(_) => (
                "upstream_unavailable",
                "Hydra or Kratos could not be reached. Please try again.".into(),
            ),
            ApiError::Unexpected(_) => (
                "server_error",
                "An unexpected error happened. Please try again.".into(),
            ),
        }
    }
}

impl From<ExchangeError> for ApiError {
    /// RFC 6749 §5.2: 401 for a client that failed to authenticate, 400 for everything else.
    fn from(refusal: ExchangeError) -> Self {
        let (error, description) = refusal.answer();
        let status = match refusal {
            ExchangeError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::refused(status, error, description)
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let (error, description) = refusal.answer();
        let status = match error {
            "unauthorized_client" | "session_aal2_required" | "origin_not_allowed" => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::refused(status, error, description)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Refused { status, .. } => *status,
            ApiError::TooSoon { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Upstream(UpstreamError::Timeout { .. }) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Upstream(UpstreamError::Status { status: 503, .. }) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::TooSoon {
                retry_after_seconds,
                ..
            } => {
                response
                    .insert_header((header::RETRY_AFTER, retry_after_seconds.max(&1).to_string()));
            }
            // RFC 6749 §5.2: a 401 for a client names the scheme it may authenticate with.
            ApiError::Refused { status, error, .. }
                if *status == StatusCode::UNAUTHORIZED && error == "invalid_client" =>
            {
                response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"hera\""));
            }
            _ => {}
        }
        response.finish()
    }
}

/// Renders the session API's errors, and any other error on its paths (actix's own, size
/// limits), as JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonErrors;

impl RenderErrors for JsonErrors {
    fn render(
        &self,
        _request: &HttpRequest,
        status: StatusCode,
        error: &actix_web::Error,
        request_id: &str,
    ) -> Option<HttpResponse> {
        let (code, description) = match error.as_error::<ApiError>() {
            Some(error) => error.words(),
            None => fallback(status),
        };
        let mut response = errors::json(status, code, &description, request_id);
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Some(response)
    }
}

fn fallback(status: StatusCode) -> (&'static str, String) {
    match status {
        StatusCode::NOT_FOUND => ("not_found", "There is nothing at this address.".into()),
        StatusCode::PAYLOAD_TOO_LARGE
        | StatusCode::URI_TOO_LONG
        | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            ("request_too_large", "The request is too large.".into())
        }
        status if status.is_client_error() => {
            ("invalid_request", "The request could not be read.".into())
        }
        _ => (
            "server_error",
            "An unexpected error happened. Please try again.".into(),
        ),
    }
}
