//! `GET /error?id=`: an error Kratos recorded when it sent a browser to its error UI
//! (`selfservice.flows.error.ui_url`), read from `GET /self-service/errors?id=` and explained
//! in Hera's words with the error's id. Kratos's own reason is logged, never shown: it quotes
//! addresses from the request (a refused `return_to`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use super::{loggable, render, see_other, texts};
use crate::domain::selfservice::{error_kind, ErrorKind};
use crate::server::error::HeraError;
use crate::server::views::{ErrorPage, Layout};
use crate::server::State;

/// The page for Kratos's error `id`.
pub async fn kratos_error(
    http: &HttpRequest,
    id: &str,
    request_id: &str,
    state: &State,
) -> Result<HttpResponse, HeraError> {
    let plausible = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b':');
    let recorded = if plausible {
        state.kratos.self_service_error(id).await?
    } else {
        None
    };
    let t = texts(http, state, &[]);
    let Some(recorded) = recorded else {
        tracing::info!("Kratos does not know the error id; the generic page is shown");
        let page = ErrorPage {
            layout: Layout::new(&t, t.text("error-unexpected-title")),
            status: StatusCode::NOT_FOUND.as_u16(),
            message: t.text("error-unexpected-message").to_owned(),
            code: None,
            reference: None,
            start_again: Some("/".into()),
            request_id: request_id.to_owned(),
        };
        return Ok(render(StatusCode::NOT_FOUND, &page));
    };
    let problem = &recorded.problem;
    let kind = error_kind(problem);
    tracing::info!(
        error_id = problem.id.as_deref().unwrap_or_default(),
        status = problem.status,
        reason = %loggable(problem.reason.as_deref().unwrap_or_default()),
        "Kratos reported a self-service error"
    );
    if kind == ErrorKind::AlreadySignedIn {
        return Ok(see_other(&state.page_url("/")));
    }
    let (title, message, start_again) = match kind {
        ErrorKind::Csrf => (
            "error-form-expired-title",
            "error-form-expired-message",
            "/",
        ),
        ErrorKind::ReturnToForbidden => (
            "error-return-to-forbidden-title",
            "error-return-to-forbidden-message",
            "",
        ),
        ErrorKind::NotSignedIn => (
            "error-not-signed-in-title",
            "error-not-signed-in-message",
            "/login",
        ),
        ErrorKind::SecondFactorWithoutSession => (
            "error-second-factor-without-session-title",
            "error-second-factor-without-session-message",
            "/login",
        ),
        ErrorKind::Expired => ("error-flow-gone-title", "error-flow-gone-message", "/"),
        ErrorKind::Disabled => (
            "error-flow-disabled-title",
            "error-flow-disabled-message",
            "",
        ),
        ErrorKind::OtherAccount => (
            "error-other-account-title",
            "error-other-account-message",
            "/",
        ),
        ErrorKind::AlreadySignedIn | ErrorKind::Other => {
            ("error-unexpected-title", "error-unexpected-message", "/")
        }
    };
    let status = StatusCode::from_u16(problem.status)
        .ok()
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let page = ErrorPage {
        layout: Layout::new(&t, t.text(title)),
        status: status.as_u16(),
        message: t.text(message).to_owned(),
        code: None,
        reference: Some(recorded.id.clone()),
        start_again: (!start_again.is_empty()).then(|| start_again.to_owned()),
        request_id: request_id.to_owned(),
    };
    Ok(render(status, &page))
}
