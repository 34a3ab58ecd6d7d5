//! Thin handlers, one file per flow, and the pieces they share.

mod assets;
mod bridge;
mod connected_apps;
mod consent;
mod device;
mod health;
mod home;
mod login;
mod logout;
mod oauth_error;

pub use assets::STYLESHEET_PATH;

use actix_session::Session;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::theme::{self, Theme};
use crate::error::HeraError;
use crate::i18n::Texts;
use crate::ory::{Client, HydraError, RedirectTo};
use crate::session::{FormPurpose, TypedSession, COOKIE_NAME};
use crate::startup::AppState;
use crate::views::AppBadge;

/// The language of a page: the request's `ui_locales` (login and consent requests carry them),
/// then the browser's `Accept-Language`, then English.
pub fn texts(http: &HttpRequest, state: &AppState, ui_locales: &[String]) -> Texts {
    let accept_language = http
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    state.catalogue.negotiate(ui_locales, accept_language)
}

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
        .service(home::home)
        .service(health::alive)
        .service(health::ready)
        .service(assets::stylesheet)
        .service(assets::theme)
        .configure(bridge::configure);
}

/// Unknown paths: the friendly 404 page.
pub async fn not_found() -> Result<HttpResponse, HeraError> {
    Err(HeraError::NotFound)
}

/// Renders a page. A template failure becomes a plain 500, never a panic.
pub fn render(status: StatusCode, template: &impl Template) -> HttpResponse {
    match template.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(error) => {
            tracing::error!(error = %error, "template rendering failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Internal error")
        }
    }
}

/// 303 to a URL Hydra returned or Hera built itself: Hera never redirects to a URL taken from
/// the request (anchors S7; RFC 6749 §4.1.2.1 forbids redirecting on an unverified request).
pub fn see_other(location: &str) -> HttpResponse {
    match HeaderValue::from_str(location) {
        Ok(value) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, value))
            .finish(),
        Err(_) => HttpResponse::from_error(HeraError::Unexpected(anyhow::anyhow!(
            "unusable redirect URL"
        ))),
    }
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

/// The browser's cookies to forward to Kratos, minus Hera's own session cookie, which Kratos
/// has no business seeing. HTTP/2 may split cookies over several headers; they are joined.
pub fn forwarded_cookies(request: &HttpRequest) -> Option<String> {
    let own = format!("{COOKIE_NAME}=");
    let cookies: Vec<&str> = request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .map(str::trim)
        .filter(|cookie| !cookie.is_empty() && !cookie.starts_with(&own))
        .collect();
    (!cookies.is_empty()).then(|| cookies.join("; "))
}

/// CSRF for a form post, checked before anything is sent upstream: no cross-site post
/// (`Sec-Fetch-Site`, defence in depth), and a token bound to this browser's session, the
/// form's purpose and what the form acts on.
pub fn check_csrf(
    http: &HttpRequest,
    session: &Session,
    purpose: FormPurpose,
    subject_of_form: &str,
    token: Option<&str>,
) -> Result<(), HeraError> {
    let cross_site = http
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|value| value.as_bytes() == b"cross-site");
    if cross_site {
        return Err(HeraError::Csrf("cross-site form post"));
    }
    let token = token.ok_or(HeraError::Csrf("no token"))?;
    if !TypedSession::new(session).verify_csrf_for(purpose, subject_of_form, token) {
        return Err(HeraError::Csrf("token does not match the session and form"));
    }
    Ok(())
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
    use actix_web::test::TestRequest;

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

    #[test]
    fn forwarded_cookies_drop_heras_own_session_and_join_split_headers() {
        let request = TestRequest::default()
            .append_header((
                header::COOKIE,
                "ory_kratos_session=abc; hera_session=secret",
            ))
            .append_header((header::COOKIE, "csrf_token_x=y"))
            .to_http_request();
        assert_eq!(
            forwarded_cookies(&request).as_deref(),
            Some("ory_kratos_session=abc; csrf_token_x=y")
        );
    }

    #[test]
    fn no_cookies_forwards_nothing() {
        let request = TestRequest::default()
            .append_header((header::COOKIE, "hera_session=secret"))
            .to_http_request();
        assert_eq!(forwarded_cookies(&request), None);
        assert_eq!(
            forwarded_cookies(&TestRequest::default().to_http_request()),
            None
        );
    }
}
