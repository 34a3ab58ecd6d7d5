//! `GET /error`: Hydra's `urls.error`, where Hydra sends browsers when it cannot redirect an
//! error to the client.
//!
//! Only known OAuth2 error codes are shown, each with Hera's own wording. `error_description`
//! is attacker-controllable text on a trusted domain (anchors S11), so it is logged, not shown.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use tracing_actix_web::RequestId;

use super::render;
use crate::views::{ErrorPage, Layout};

#[derive(Debug, Deserialize)]
pub struct ErrorQuery {
    error: Option<String>,
    error_description: Option<String>,
}

#[get("/error")]
pub async fn oauth_error(query: web::Query<ErrorQuery>, request_id: RequestId) -> HttpResponse {
    let code = query.error.as_deref().unwrap_or_default();
    let known = describe(code);
    tracing::info!(
        error = %code.chars().take(64).collect::<String>(),
        error_description = %query.error_description.as_deref().unwrap_or_default().chars().take(200).collect::<String>(),
        known = known.is_some(),
        "Hydra reported an error"
    );
    let (title, message) = known.unwrap_or((
        "Sign-in could not be completed",
        "The application's sign-in request could not be completed. Go back to the application and try again.",
    ));
    let page = ErrorPage {
        layout: Layout {
            lang: "en".into(),
            title: title.into(),
        },
        status: StatusCode::BAD_REQUEST.as_u16(),
        message: message.into(),
        code: known.map(|_| code.to_owned()),
        request_id: request_id.to_string(),
    };
    render(StatusCode::BAD_REQUEST, &page)
}

/// Hera's wording for the OAuth2 and OIDC error codes Hydra reports (RFC 6749 §4.1.2.1,
/// OIDC Core §3.1.2.6).
fn describe(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "access_denied" => ("Access was denied", "You or the sign-in service declined the request, so nothing was shared with the application."),
        "invalid_request" | "invalid_request_uri" | "invalid_request_object" | "request_not_supported" | "request_uri_not_supported" | "registration_not_supported" | "invalid_state" => (
            "The application sent an invalid request",
            "The application asked to sign you in with a request the sign-in service could not accept. Contact the application's support if this keeps happening.",
        ),
        "unauthorized_client" | "invalid_client" => (
            "The application is not allowed to do this",
            "This application is not registered for this kind of sign-in. Contact the application's support.",
        ),
        "unsupported_response_type" | "unsupported_grant_type" => (
            "The application asked for something unsupported",
            "The application asked for a kind of sign-in that is not supported here. Contact the application's support.",
        ),
        "invalid_scope" => (
            "The application asked for unknown permissions",
            "The application asked for permissions it is not allowed to request. Contact the application's support.",
        ),
        "login_required" | "interaction_required" | "account_selection_required" => (
            "You need to sign in",
            "The application tried to sign you in without showing a page, but you need to sign in first. Go back to the application and sign in.",
        ),
        "consent_required" => (
            "Your permission is needed",
            "The application tried to continue without asking, but it needs your permission first. Go back to the application and try again.",
        ),
        "request_unauthorized" | "request_forbidden" | "invalid_grant" => (
            "This sign-in request is no longer valid",
            "The sign-in request has expired or was already used. Go back to the application and start again.",
        ),
        "server_error" | "temporarily_unavailable" => (
            "The sign-in service had a problem",
            "The sign-in service could not complete the request. Please try again in a moment.",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_get_no_wording_so_their_text_is_never_shown() {
        assert!(describe("<script>alert(1)</script>").is_none());
        assert!(describe("").is_none());
        assert!(describe("access_denied").is_some());
    }
}
