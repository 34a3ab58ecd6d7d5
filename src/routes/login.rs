//! `GET /login?login_challenge=…`: Hydra's `urls.login`.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use time::OffsetDateTime;
use tracing::Span;

use super::{follow, forwarded_cookies, see_other};
use crate::domain::challenge::Challenge;
use crate::domain::login::{self as rules, LoginDecision};
use crate::error::HeraError;
use crate::ory::HydraError;
use crate::startup::AppState;

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    login_challenge: Option<String>,
}

#[get("/login")]
pub async fn login(
    request: HttpRequest,
    query: web::Query<LoginQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HeraError> {
    let challenge = Challenge::parse(query.login_challenge.as_deref())
        .map_err(|e| HeraError::challenge("login_challenge", e))?;
    Span::current().record("challenge", challenge.log_id());
    let login_request = match state.hydra.login_request(&challenge).await {
        Ok(login_request) => login_request,
        Err(HydraError::AlreadyHandled { redirect_to }) => {
            return Ok(see_other(redirect_to.as_str()))
        }
        Err(error) => return Err(error.into()),
    };
    Span::current().record("client_id", &login_request.client.id);

    let decision = if login_request.skip {
        LoginDecision::Accept(rules::accept_skipped(&login_request))
    } else {
        let whoami = state
            .kratos
            .whoami(forwarded_cookies(&request).as_deref())
            .await?;
        rules::decide(&whoami, OffsetDateTime::now_utc())
    };

    match decision {
        LoginDecision::Accept(accept) => {
            let subject = accept.subject.clone();
            let response = follow(state.hydra.accept_login(&challenge, accept).await)?;
            tracing::info!(
                target: "hera::audit",
                event = "login.accepted",
                subject = %subject,
                client_id = %login_request.client.id,
                how = rules::accept_reason(&login_request),
            );
            Ok(response)
        }
        LoginDecision::SendToKratos { aal2 } => {
            let return_to = state.login_url(&challenge);
            tracing::info!(aal2, "sending the browser to Kratos to sign in");
            Ok(see_other(&state.kratos.login_url(&return_to, aal2, false)))
        }
    }
}
