//! Thin handlers, one file per flow, and the pieces they share.

mod assets;
mod connected_apps;
mod consent;
mod device;
mod health;
mod home;
mod login;
mod logout;
mod oauth_error;
mod selfservice;
mod sessions;

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use time::OffsetDateTime;

use crate::model::{Challenge, Client, Identity, RedirectTo, Whoami};
use crate::ory::{HydraError, UpstreamError};
use crate::server::error::HeraError;
use crate::server::session::{FormPurpose, TypedSession};
use crate::server::theme::{self, Theme};
use crate::server::views::AppBadge;
use crate::server::State;

pub use super::state::texts;

/// Every route of the server.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(login::login)
        .service(consent::consent_page)
        .service(consent::consent_submit)
        .service(oauth_error::oauth_error)
        .service(logout::logout_page)
        .service(logout::logout_submit)
        .service(device::verify_page)
        .service(device::verify_submit)
        .service(device::success_page)
        .service(connected_apps::list)
        .service(connected_apps::revoke)
        .service(selfservice::registration)
        .service(selfservice::recovery)
        .service(selfservice::verification)
        .service(selfservice::settings)
        .service(sessions::list)
        .service(sessions::end)
        .service(sessions::end_others)
        .service(home::home)
        .service(health::alive)
        .service(health::ready)
        .service(assets::stylesheet)
        .service(assets::theme)
        .service(assets::brand)
        .service(assets::favicon);
}

/// Unknown paths: the friendly 404 page.
pub async fn not_found() -> Result<HttpResponse, HeraError> {
    Err(HeraError::NotFound)
}

pub use crate::web::{forwarded_cookies, render};

/// 303 to a URL Hydra or Kratos returned or Hera built itself (never one taken from the
/// request); a URL that cannot be a header is an internal error.
pub fn see_other(location: &str) -> HttpResponse {
    crate::web::see_other(location).unwrap_or_else(|| {
        HttpResponse::from_error(HeraError::Unexpected(anyhow::anyhow!(
            "unusable redirect URL"
        )))
    })
}

/// The redirect after an accept or reject: Hydra's `redirect_to`, also when Hydra says the
/// request was already handled (410).
pub fn follow(result: Result<RedirectTo, HydraError>) -> Result<HttpResponse, HeraError> {
    match result {
        Ok(redirect_to) | Err(HydraError::AlreadyHandled { redirect_to }) => {
            Ok(see_other(redirect_to.as_str()))
        }
        Err(error) => Err(error.into()),
    }
}

/// A login or consent request Hydra returned, or the redirect to send when Hydra says the
/// request was already handled (410 `{redirect_to}`).
pub fn loaded<T>(result: Result<T, HydraError>) -> Result<Result<T, HttpResponse>, HeraError> {
    match result {
        Ok(request) => Ok(Ok(request)),
        Err(HydraError::AlreadyHandled { redirect_to }) => Ok(Err(see_other(redirect_to.as_str()))),
        Err(error) => Err(error.into()),
    }
}

/// The challenge named `parameter` from a query or form, recorded (as a short hash) on the
/// request's span; a missing or malformed one is a 400 page naming nothing Hydra was asked.
pub fn challenge(parameter: &'static str, value: Option<&str>) -> Result<Challenge, HeraError> {
    let challenge = Challenge::parse(value).map_err(|e| HeraError::challenge(parameter, e))?;
    tracing::Span::current().record("challenge", challenge.log_id());
    Ok(challenge)
}

/// CSRF for a form post, checked before anything is sent upstream: no cross-site post
/// (`Sec-Fetch-Site`, defence in depth), and a token bound to this browser's session, the
/// form's purpose and what the form acts on. Returns when the form was rendered.
pub fn check_csrf(
    http: &HttpRequest,
    session: &Session,
    purpose: FormPurpose,
    subject_of_form: &str,
    token: Option<&str>,
) -> Result<OffsetDateTime, HeraError> {
    let cross_site = http
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|value| value.as_bytes() == b"cross-site");
    if cross_site {
        return Err(HeraError::Csrf("cross-site form post"));
    }
    let token = token.ok_or(HeraError::Csrf("no token"))?;
    TypedSession::new(session)
        .verify_csrf_for(purpose, subject_of_form, token)
        .ok_or(HeraError::Csrf("token does not match the session and form"))
}

/// The identity this browser's Kratos session belongs to, if it has an active one.
pub async fn viewer(http: &HttpRequest, state: &State) -> Result<Option<Identity>, UpstreamError> {
    let cookies = forwarded_cookies(http);
    if cookies.is_none() {
        return Ok(None);
    }
    Ok(match state.kratos.whoami(cookies.as_deref()).await? {
        Whoami::Active(session) => Some(session.identity),
        Whoami::Unauthenticated | Whoami::Aal2Required => None,
    })
}

/// An application's name and logo for a page; the logo only when it is an https URL, and the
/// theme's logo (`metadata.theme.logo_uri`) before the client's `logo_uri`.
pub fn app_badge(client: &Client) -> AppBadge {
    AppBadge {
        name: client.display_name().to_owned(),
        logo_uri: logo(client),
    }
}

/// The client's https logo: its theme's, else its `logo_uri`.
pub fn logo(client: &Client) -> Option<String> {
    Theme::from_metadata(&client.metadata)
        .logo_uri
        .or_else(|| client.logo_uri.as_deref().and_then(theme::https_url))
}

/// A client id from a query or form that is worth asking Hydra about: not empty, not huge,
/// printable.
pub fn plausible_client_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 1024 && !id.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_logos_are_shown() {
        let client = |logo: &str| Client {
            id: "app".into(),
            logo_uri: Some(logo.into()),
            ..Client::default()
        };
        assert!(app_badge(&client("https://app.example/logo.png"))
            .logo_uri
            .is_some());
        for logo in ["http://app.example/logo.png", "javascript:x", "/logo.png"] {
            assert_eq!(app_badge(&client(logo)).logo_uri, None, "{logo}");
        }
        assert_eq!(app_badge(&client("x")).name, "app");
    }

    #[test]
    fn a_theme_logo_wins_over_the_client_logo() {
        let client = Client {
            id: "app".into(),
            logo_uri: Some("https://app.example/old.png".into()),
            metadata: serde_json::json!({"theme": {"logo_uri": "https://cdn.example/new.png"}}),
            ..Client::default()
        };
        assert_eq!(
            app_badge(&client).logo_uri.as_deref(),
            Some("https://cdn.example/new.png")
        );
    }

    #[test]
    fn implausible_client_ids_are_not_looked_up() {
        assert!(plausible_client_id("tv-app"));
        assert!(!plausible_client_id(""));
        assert!(!plausible_client_id("a\nb"));
        assert!(!plausible_client_id(&"a".repeat(1025)));
    }
}
