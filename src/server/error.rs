//! One user-facing error type, rendered as a friendly page with the request id.
//!
//! Handlers return [`HeraError`]. `ResponseError` picks the status; [`ErrorPages`] then renders
//! `error.html` in the person's language with the request id, through the shared error
//! middleware (`web::errors`), which also logs the cause. Upstream bodies, URLs and stack traces
//! never reach a page.

use std::time::Duration;

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use super::state::texts;
use super::State;
use crate::domain::selfservice::Failure;
use crate::model::challenge::ChallengeError;
use crate::model::KratosFlow;
use crate::ory::{HydraError, UpstreamError};
use crate::server::views::{ErrorPage, Layout};
use crate::web::errors::RenderErrors;
use crate::web::render;

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
    /// Kratos gave no flow for this page, and nothing Hera can do brings one.
    #[error("the {kind:?} flow cannot be shown: {failure:?}")]
    Flow { kind: KratosFlow, failure: Failure },
    /// Too many attempts from this address or for this request.
    #[error("too many attempts; retry after {retry_after:?}")]
    TooManyAttempts { retry_after: Duration },
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

    /// Where "Start again" leads, when starting again helps: a new flow of the same kind.
    fn start_again(&self) -> Option<String> {
        match self {
            HeraError::Flow { kind, .. } => Some(format!("/{}", kind.name())),
            _ => None,
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
            HeraError::Flow { failure, .. } => match failure {
                Failure::Gone => Wording::FlowGone,
                Failure::Csrf => Wording::FormExpired,
                Failure::NoCookies => Wording::NoCookies,
                Failure::Refused(_) => Wording::FlowRefused,
            },
            HeraError::Upstream(UpstreamError::Timeout { .. }) => Wording::UpstreamSlow,
            HeraError::Upstream(_) => Wording::UpstreamDown,
            HeraError::Unexpected(_) => Wording::Unexpected,
        }
    }
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
    FlowGone,
    NoCookies,
    FlowRefused,
    UpstreamSlow,
    UpstreamDown,
    Unexpected,
}

impl Wording {
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
            Wording::FlowGone => ("error-flow-gone-title", "error-flow-gone-message"),
            Wording::NoCookies => ("error-no-cookies-title", "error-no-cookies-message"),
            Wording::FlowRefused => ("error-flow-refused-title", "error-flow-refused-message"),
            Wording::UpstreamSlow => ("error-upstream-slow-title", "error-upstream-slow-message"),
            Wording::UpstreamDown => ("error-upstream-down-title", "error-upstream-down-message"),
            Wording::Unexpected => ("error-unexpected-title", "error-unexpected-message"),
        }
    }

    /// Every wording, for the catalogue test.
    #[cfg(test)]
    const ALL: [Wording; 16] = [
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
        Wording::FlowGone,
        Wording::NoCookies,
        Wording::FlowRefused,
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
            HeraError::Flow { failure, .. } => match failure {
                Failure::Gone => StatusCode::GONE,
                Failure::Csrf | Failure::NoCookies => StatusCode::FORBIDDEN,
                Failure::Refused(status) => StatusCode::from_u16(*status)
                    .ok()
                    .filter(StatusCode::is_client_error)
                    .unwrap_or(StatusCode::BAD_GATEWAY),
            },
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

/// Renders every error response of the provider's pages as `error.html`, in the browser's
/// language, with the request id.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorPages;

impl RenderErrors for ErrorPages {
    fn render(
        &self,
        request: &HttpRequest,
        status: StatusCode,
        error: &actix_web::Error,
        request_id: &str,
    ) -> Option<HttpResponse> {
        // Without Hera's state (never in a running server) actix's plain answer stays.
        let state = request.app_data::<web::Data<State>>()?;
        let t = texts(request, state, &[]);
        let hera_error = error.as_error::<HeraError>();
        let wording = hera_error.map_or_else(|| Wording::for_status(status), HeraError::wording);
        let (title_key, message_key) = wording.keys();
        let page = ErrorPage {
            layout: Layout::new(&t, t.text(title_key)),
            status: status.as_u16(),
            message: t.text(message_key).into(),
            code: None,
            reference: None,
            start_again: hera_error.and_then(HeraError::start_again),
            request_id: request_id.to_owned(),
        };
        Some(render(status, &page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::i18n::Catalogue;

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
