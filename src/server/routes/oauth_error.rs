//! `GET /error`: Hydra's `urls.error`, where Hydra sends browsers when it cannot redirect an
//! error to the client; with `?id=` instead, Kratos's error UI (`selfservice::kratos_error`).
//!
//! Only known OAuth2 error codes are shown, each with Hera's own wording. `error_description`
//! is attacker-controllable text on a trusted domain, so it is logged, not shown.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{render, texts};
use crate::server::error::HeraError;
use crate::server::views::{ErrorPage, Layout};
use crate::server::State;
use crate::telemetry::escape_for_log;

#[derive(Debug, Deserialize)]
pub struct ErrorQuery {
    error: Option<String>,
    error_description: Option<String>,
    /// Kratos's error UI: the id of an error Kratos recorded.
    id: Option<String>,
}

/// Hydra's errors (`?error=`), and Kratos's (`?id=`, see [`super::selfservice::kratos_error`]).
#[get("/error")]
pub async fn oauth_error(
    http: HttpRequest,
    query: web::Query<ErrorQuery>,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    if let Some(id) = query.id.as_deref().filter(|_| query.error.is_none()) {
        return super::selfservice::kratos_error(&http, id, &crate::web::request_id(&http), &state)
            .await;
    }
    Ok(hydra_error(&http, &query, &state))
}

fn hydra_error(http: &HttpRequest, query: &ErrorQuery, state: &State) -> HttpResponse {
    let code = query.error.as_deref().unwrap_or_default();
    let known = describe(code);
    log_reported(
        code,
        query.error_description.as_deref().unwrap_or_default(),
        known.is_some(),
    );
    let (title, message) = known.unwrap_or(("oauth-generic-title", "oauth-generic-message"));
    let t = texts(http, state, &[]);
    let page = ErrorPage {
        layout: Layout::new(&t, t.text(title)),
        status: StatusCode::BAD_REQUEST.as_u16(),
        message: t.text(message).to_owned(),
        code: known.map(|_| code.to_owned()),
        reference: None,
        start_again: None,
        request_id: crate::web::request_id(http),
    };
    render(StatusCode::BAD_REQUEST, &page)
}

/// Logs what Hydra reported. Both values come from the URL, so anyone can write them: they are
/// cut short and escaped, so a newline cannot start a forged log line.
fn log_reported(code: &str, description: &str, known: bool) {
    let code: String = code.chars().take(64).collect();
    let description: String = description.chars().take(200).collect();
    tracing::info!(
        error = %escape_for_log(&code),
        error_description = %escape_for_log(&description),
        known,
        "Hydra reported an error"
    );
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

    /// A writer into a shared buffer, for a text-format subscriber.
    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_error_description_cannot_forge_lines_in_a_text_log() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            log_reported(
                "access_denied\n2026-01-01T00:00:00Z ERROR forged",
                "nope\r\n2026-01-01T00:00:00Z  INFO hera::audit: event=\"login.accepted\" subject=admin",
                false,
            );
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains(r"nope\r\n2026-01-01"), "{text}");
        assert!(text.contains(r"access_denied\n2026"), "{text}");
    }

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
