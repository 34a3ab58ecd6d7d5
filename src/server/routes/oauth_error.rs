//! `GET /error`: Hydra's `urls.error`, where Hydra sends browsers when it cannot redirect an
//! error to the client.
//!
//! Only known OAuth2 error codes are shown, each with Hera's own wording. `error_description`
//! is attacker-controllable text on a trusted domain, so it is logged, not shown.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{render, texts};
use crate::server::views::{ErrorPage, Layout};
use crate::server::State;

#[derive(Debug, Deserialize)]
pub struct ErrorQuery {
    error: Option<String>,
    error_description: Option<String>,
}

#[get("/error")]
pub async fn oauth_error(
    http: HttpRequest,
    query: web::Query<ErrorQuery>,
    state: web::Data<State>,
) -> HttpResponse {
    let code = query.error.as_deref().unwrap_or_default();
    let known = describe(code);
    tracing::info!(
        error = %code.chars().take(64).collect::<String>(),
        error_description = %query.error_description.as_deref().unwrap_or_default().chars().take(200).collect::<String>(),
        known = known.is_some(),
        "Hydra reported an error"
    );
    let (title, message) = known.unwrap_or(("oauth-generic-title", "oauth-generic-message"));
    let t = texts(&http, &state, &[]);
    let page = ErrorPage {
        layout: Layout::new(&t, t.text(title)),
        status: StatusCode::BAD_REQUEST.as_u16(),
        message: t.text(message).to_owned(),
        code: known.map(|_| code.to_owned()),
        request_id: crate::web::request_id(&http),
    };
    render(StatusCode::BAD_REQUEST, &page)
}

/// Message keys (title, message) of Hera's wording for the OAuth2 and OIDC error codes Hydra
/// reports (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6).
fn describe(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "access_denied" => ("oauth-access-denied-title", "oauth-access-denied-message"),
        "invalid_request"
        | "invalid_request_uri"
        | "invalid_request_object"
        | "request_not_supported"
        | "request_uri_not_supported"
        | "registration_not_supported"
        | "invalid_state" => (
            "oauth-invalid-request-title",
            "oauth-invalid-request-message",
        ),
        "unauthorized_client" | "invalid_client" => (
            "oauth-unauthorized-client-title",
            "oauth-unauthorized-client-message",
        ),
        "unsupported_response_type" | "unsupported_grant_type" => {
            ("oauth-unsupported-title", "oauth-unsupported-message")
        }
        "invalid_scope" => ("oauth-invalid-scope-title", "oauth-invalid-scope-message"),
        "login_required" | "interaction_required" | "account_selection_required" => {
            ("oauth-login-required-title", "oauth-login-required-message")
        }
        "consent_required" => (
            "oauth-consent-required-title",
            "oauth-consent-required-message",
        ),
        "request_unauthorized" | "request_forbidden" | "invalid_grant" => (
            "oauth-no-longer-valid-title",
            "oauth-no-longer-valid-message",
        ),
        "server_error" | "temporarily_unavailable" => {
            ("oauth-server-error-title", "oauth-server-error-message")
        }
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

    #[test]
    fn every_known_code_is_worded_in_english() {
        let english = crate::server::i18n::Catalogue::load()
            .unwrap()
            .default_texts();
        let known: Vec<&str> = english.keys().collect();
        for code in [
            "access_denied",
            "invalid_request",
            "invalid_client",
            "unsupported_grant_type",
            "invalid_scope",
            "login_required",
            "consent_required",
            "invalid_grant",
            "server_error",
        ] {
            let (title, message) = describe(code).unwrap();
            assert!(known.contains(&title) && known.contains(&message), "{code}");
        }
    }
}
