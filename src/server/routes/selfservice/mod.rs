//! Kratos's browser self-service flows, rendered by Hera: `/login?flow=` (the login handler
//! hands over when there is no `login_challenge`), `/registration`, `/recovery`,
//! `/verification` and `/settings`, each with `?flow=<id>` to render a flow or without it to
//! start one, and `/error?id=` for the errors Kratos records.
//!
//! The paths are Kratos's usual UI paths, so an existing Kratos configuration only changes the
//! host of its `selfservice.flows.*.ui_url`. Hera reads a flow with the browser's cookies and
//! renders its forms, which post straight to Kratos (`ui.action`); Kratos answers the browser
//! with a redirect back here. Hera never sets or reads Kratos's cookies itself.

mod errors;
mod restarts;
mod view;

use actix_session::Session;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{app_badge, forwarded_cookies, render, see_other, texts};
use crate::domain::selfservice::{self as rules, Recovery};
use crate::model::flow::{Flow, FlowAnswer, FlowStart};
use crate::model::{Challenge, KratosFlow, Whoami};
use crate::ory::{Service, UpstreamError};
use crate::server::error::HeraError;
use crate::server::views::AppBadge;
use crate::server::State;

pub use errors::kratos_error;

/// What a flow page is opened with: the flow to render, or what a new flow starts with.
#[derive(Debug, Default, Deserialize)]
pub struct FlowQuery {
    pub flow: Option<String>,
    pub return_to: Option<String>,
    /// Login: `true` to sign in again.
    pub refresh: Option<String>,
    /// Login: `aal2` to confirm with a second factor.
    pub aal: Option<String>,
}

impl FlowQuery {
    /// What a new `kind` flow starts with: an acceptable `return_to`; `refresh` and `aal`
    /// only for a login.
    fn start(&self, kind: KratosFlow, state: &State) -> FlowStart {
        let login = kind == KratosFlow::Login;
        FlowStart {
            return_to: self
                .return_to
                .as_deref()
                .and_then(|r| rules::accept_return_to(r, &state.settings.public_url)),
            refresh: login && matches!(self.refresh.as_deref(), Some("true" | "1")),
            aal2: login && self.aal.as_deref() == Some("aal2"),
        }
    }
}

#[get("/registration")]
pub async fn registration(
    http: HttpRequest,
    query: web::Query<FlowQuery>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    page(KratosFlow::Registration, &http, &query, &session, &state).await
}

#[get("/recovery")]
pub async fn recovery(
    http: HttpRequest,
    query: web::Query<FlowQuery>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    page(KratosFlow::Recovery, &http, &query, &session, &state).await
}

#[get("/verification")]
pub async fn verification(
    http: HttpRequest,
    query: web::Query<FlowQuery>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    page(KratosFlow::Verification, &http, &query, &session, &state).await
}

#[get("/settings")]
pub async fn settings(
    http: HttpRequest,
    query: web::Query<FlowQuery>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    page(KratosFlow::Settings, &http, &query, &session, &state).await
}

/// A flow page: renders `?flow=`, or starts a flow; when Kratos has no such flow, does what
/// [`rules::recover`] decides.
pub async fn page(
    kind: KratosFlow,
    http: &HttpRequest,
    query: &FlowQuery,
    session: &Session,
    state: &State,
) -> Result<HttpResponse, HeraError> {
    let start = query.start(kind, state);
    let Some(id) = query.flow.as_deref().filter(|id| !id.is_empty()) else {
        return begin(kind, http, start, state).await;
    };
    let cookies = forwarded_cookies(http);
    let answer = if plausible_flow_id(id) {
        state.kratos.flow(kind, id, cookies.as_deref()).await?
    } else {
        // Not an id Kratos could know: as Kratos would answer.
        FlowAnswer::Problem(crate::model::flow::FlowProblem {
            status: 404,
            ..Default::default()
        })
    };
    let problem = match answer {
        FlowAnswer::Flow(flow) => {
            restarts::forget(session);
            return show(kind, http, &flow, state).await;
        }
        FlowAnswer::Problem(problem) => problem,
    };
    let now = OffsetDateTime::now_utc();
    let retried = restarts::recent(session, kind, now);
    let sent_csrf_cookie = cookies.as_deref().is_some_and(has_kratos_csrf_cookie);
    let next = rules::recover(kind, &problem, start.clone(), retried, sent_csrf_cookie);
    tracing::info!(
        kind = kind.name(),
        status = problem.status,
        error_id = problem.id.as_deref().unwrap_or_default(),
        reason = %loggable(problem.reason.as_deref().unwrap_or_default()),
        retried,
        next = ?next,
        "Kratos gave no flow"
    );
    match next {
        Recovery::Restart(start) => {
            restarts::record(session, kind, now)?;
            Ok(see_other(&state.kratos.flow_start_url(kind, &start)))
        }
        Recovery::UseFlow(other) => Ok(see_other(&flow_url(state, kind, &other))),
        Recovery::Redirect(to) => Ok(see_other(&to)),
        Recovery::SignIn { aal2, refresh } => {
            // With a second factor or again: back to this very flow. Without a session at
            // all: to a new flow once signed in.
            let back = if aal2 || refresh {
                flow_url(state, kind, id)
            } else {
                own_page(state, kind, start.return_to.as_deref())
            };
            let login = FlowStart {
                return_to: Some(back),
                refresh,
                aal2,
            };
            Ok(see_other(
                &state.kratos.flow_start_url(KratosFlow::Login, &login),
            ))
        }
        Recovery::AlreadySignedIn => Ok(see_other(
            start.return_to.as_deref().unwrap_or(&state.page_url("/")),
        )),
        Recovery::Fail(failure) => {
            restarts::forget(session);
            Err(HeraError::Flow { kind, failure })
        }
    }
}

/// A page without a flow starts one at Kratos. Settings need a session: without one the
/// browser signs in first and comes back here.
async fn begin(
    kind: KratosFlow,
    http: &HttpRequest,
    start: FlowStart,
    state: &State,
) -> Result<HttpResponse, HeraError> {
    if kind == KratosFlow::Settings {
        let whoami = state
            .kratos
            .whoami(forwarded_cookies(http).as_deref())
            .await?;
        let aal2 = match whoami {
            Whoami::Active(_) => false,
            Whoami::Aal2Required => true,
            Whoami::Unauthenticated => false,
        };
        if !matches!(whoami, Whoami::Active(_)) {
            let login = FlowStart {
                return_to: Some(own_page(state, kind, start.return_to.as_deref())),
                refresh: false,
                aal2,
            };
            return Ok(see_other(
                &state.kratos.flow_start_url(KratosFlow::Login, &login),
            ));
        }
    }
    Ok(see_other(&state.kratos.flow_start_url(kind, &start)))
}

/// Renders a flow Kratos gave.
async fn show(
    kind: KratosFlow,
    http: &HttpRequest,
    flow: &Flow,
    state: &State,
) -> Result<HttpResponse, HeraError> {
    let layout = rules::layout(kind, flow);
    let posts = layout.sections.iter().any(|s| s.is_form);
    let kratos_browser = state.kratos.browser_base();
    if posts && !rules::action_allowed(&flow.ui.action, kratos_browser, &state.settings.public_url)
    {
        // The form would send its CSRF token and what the person types elsewhere.
        return Err(HeraError::Upstream(UpstreamError::malformed(
            Service::KratosPublic,
            "the flow's ui.action is on neither KRATOS_BROWSER_URL's origin nor Hera's",
        )));
    }
    let (app, ui_locales) = application(flow, state).await;
    let t = texts(http, state, &ui_locales);
    let cx = view::Context {
        t: &t,
        kind,
        app,
        kratos_browser,
        hera_origin: state.settings.public_url.origin().ascii_serialization(),
    };
    let built = view::build(&cx, flow, &layout);
    let mut response = render(StatusCode::OK, &built.page);
    if !built.scripts.is_empty() || built.data_images {
        let scripts: Vec<&str> = built.scripts.iter().map(String::as_str).collect();
        let policy = crate::web::content_security_policy(&scripts, built.data_images);
        if let Ok(value) = header::HeaderValue::from_str(&policy) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    Ok(response)
}

/// The application a flow serves, when it was started for a Hydra login (its `return_to` is
/// Hera's `/login?login_challenge=…`): its name and https logo from Hydra admin, and the
/// languages the application asked for. Nothing when Hydra cannot say: the page is shown
/// without it.
async fn application(flow: &Flow, state: &State) -> (Option<AppBadge>, Vec<String>) {
    let challenge = flow
        .return_to
        .as_deref()
        .and_then(|r| rules::login_challenge_in(r, &state.settings.public_url))
        .and_then(|c| Challenge::parse(Some(&c)).ok());
    let Some(challenge) = challenge else {
        return (None, Vec::new());
    };
    match state.hydra.login_request(&challenge).await {
        Ok(request) => (
            Some(app_badge(&request.client)),
            request.oidc_context.ui_locales.clone(),
        ),
        Err(error) => {
            tracing::info!(error = %error, "the flow's login request is not available; shown without the application");
            (None, Vec::new())
        }
    }
}

/// Hera's `/<kind>?flow=<id>`.
fn flow_url(state: &State, kind: KratosFlow, id: &str) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("flow", id)
        .finish();
    format!("{}?{query}", state.page_url(&format!("/{}", kind.name())))
}

/// Hera's `/<kind>`, keeping the page's `return_to`.
fn own_page(state: &State, kind: KratosFlow, return_to: Option<&str>) -> String {
    let page = state.page_url(&format!("/{}", kind.name()));
    match return_to {
        Some(return_to) => {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", return_to)
                .finish();
            format!("{page}?{query}")
        }
        None => page,
    }
}

/// A flow id worth asking Kratos about: Kratos's ids are UUIDs; anything long or odd is not.
fn plausible_flow_id(id: &str) -> bool {
    id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Kratos's reason, fit for the log: at most 200 characters, and the query of every address in
/// it dropped (a refused `return_to` may carry a login challenge).
fn loggable(reason: &str) -> String {
    let mut out = String::new();
    let mut in_query = false;
    for c in reason.chars().take(200) {
        if c == '?' {
            in_query = true;
            out.push_str("?…");
        } else if in_query && (c.is_whitespace() || c == '"' || c == '\'') {
            in_query = false;
            out.push(c);
        } else if !in_query {
            out.push(c);
        }
    }
    out
}

/// Whether the forwarded cookies include Kratos's CSRF cookie (`csrf_token_<hash>`).
fn has_kratos_csrf_cookie(cookies: &str) -> bool {
    cookies
        .split(';')
        .any(|cookie| cookie.trim_start().starts_with("csrf_token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plausible_flow_ids_reach_kratos() {
        assert!(plausible_flow_id("239044ac-8a4c-4c0a-abf4-0930ac15dba2"));
        for bad in ["../x", "a b", "a?b=c", &"a".repeat(65)] {
            assert!(!plausible_flow_id(bad), "{bad}");
        }
    }

    #[test]
    fn reasons_are_logged_without_the_queries_of_their_addresses() {
        assert_eq!(
            loggable("Requested return_to URL \"https://hera.example/login?login_challenge=secret\" is not allowed."),
            "Requested return_to URL \"https://hera.example/login?…\" is not allowed."
        );
        assert_eq!(loggable("plain words"), "plain words");
    }

    #[test]
    fn kratoss_csrf_cookie_is_recognised_among_others() {
        assert!(has_kratos_csrf_cookie(
            "ory_kratos_session=a; csrf_token_806060=b"
        ));
        assert!(!has_kratos_csrf_cookie("ory_kratos_session=a; other=b"));
    }
}
