//! The fake Kratos's browser sign-in, for whole-chain browser tests: a minimal, accessible
//! login page that sets the session cookie, like Kratos with its UI in front of it.
//!
//! - `GET /self-service/login/browser?return_to=…[&refresh=true][&aal=aal2]` creates a flow
//!   and answers 303 to `/ui/login?flow=<id>` (Kratos redirects to `selfservice.flows.login.ui_url`).
//! - `GET /ui/login?flow=<id>`: email and password, or, for `aal=aal2`, a one-time code.
//! - `POST /ui/login`: checks the test's credentials, creates a session (a fresh
//!   `authenticated_at`; `aal2` after the code), sets `ory_kratos_session` (Path=/, HttpOnly,
//!   SameSite=Lax) and answers 303 to `return_to`. Wrong credentials show the form again (400).
//! - `GET /self-service/logout?token=…&return_to=…`: ends that session, clears the cookie and
//!   answers 303 to `return_to` (the URL `/self-service/logout/browser` hands out).

use std::sync::Arc;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;
use time::OffsetDateTime;

use super::{
    cookie_value, lock, random_uuid, raw_cookie_header, session, Shared, ERROR_UI_URL,
    SESSION_COOKIE,
};

/// A person who can sign in.
#[derive(Clone, Debug)]
pub struct User {
    pub password: String,
    pub identity: Value,
    /// The one-time code of their second factor, when they have one.
    pub code: Option<String>,
}

#[derive(Clone, Debug)]
pub struct LoginFlow {
    return_to: String,
    aal2: bool,
}

/// Ends Kratos sessions by id, for the Hydra public fake: Hydra revokes the Kratos session named
/// by `identity_provider_session_id` when a logout completes (`urls.identity_provider`).
#[derive(Clone)]
pub struct KratosSessions(pub(super) Arc<Shared>);

impl KratosSessions {
    pub fn revoke(&self, session_id: &str) {
        lock(&self.0.state)
            .sessions
            .retain(|_, session| session["id"] != session_id);
    }
}

impl super::FakeKratos {
    /// Lets `email` sign in with `password` on the login page, as `identity` (also stored for
    /// the admin API).
    pub fn add_user(&self, email: &str, password: &str, identity: Value) {
        self.add_identity(identity.clone());
        lock(&self.shared.state).users.insert(
            email.to_ascii_lowercase(),
            User {
                password: password.to_owned(),
                identity,
                code: None,
            },
        );
    }

    /// Gives `email` a second factor: `aal=aal2` flows ask for `code`.
    pub fn set_second_factor(&self, email: &str, code: &str) {
        if let Some(user) = lock(&self.shared.state)
            .users
            .get_mut(&email.to_ascii_lowercase())
        {
            user.code = Some(code.to_owned());
        }
    }

    /// Handle for ending sessions from another fake.
    pub fn sessions(&self) -> KratosSessions {
        KratosSessions(self.shared.clone())
    }

    /// The ids of the sessions that exist now.
    pub fn session_ids(&self) -> Vec<String> {
        lock(&self.shared.state)
            .sessions
            .values()
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect()
    }
}

/// Answers the browser-facing routes; `None` for everything else.
pub fn route(shared: &Shared, req: &HttpRequest, body: &[u8]) -> Option<HttpResponse> {
    let query: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let param = |pairs: &[(String, String)], name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    Some(match (req.method().as_str(), req.path()) {
        ("GET", "/self-service/login/browser") => {
            let id = random_uuid();
            let flow = LoginFlow {
                return_to: param(&query, "return_to"),
                aal2: param(&query, "aal") == "aal2",
            };
            lock(&shared.state).login_flows.insert(id.clone(), flow);
            see_other(&format!("{}/ui/login?flow={id}", shared.public_url))
        }
        ("GET", "/ui/login") => match flow(shared, &param(&query, "flow")) {
            Some(flow) => page(&param(&query, "flow"), &flow, None, 200),
            None => HttpResponse::NotFound().body("no such flow"),
        },
        ("POST", "/ui/login") => {
            let form: Vec<(String, String)> =
                url::form_urlencoded::parse(body).into_owned().collect();
            submit(shared, req, &form, &param(&form, "flow"))
        }
        // Browsers ask the login page's host for an icon; it has none.
        ("GET", "/favicon.ico") => HttpResponse::NotFound().finish(),
        ("GET", "/self-service/logout") => {
            let token = param(&query, "token");
            let mut state = lock(&shared.state);
            let session_token = state
                .logout_tokens
                .iter()
                .find(|(_, logout)| **logout == token)
                .map(|(session, _)| session.clone());
            let Some(session_token) = session_token else {
                // An unknown logout token: the error UI, and the session stays.
                return Some(see_other(&format!("{ERROR_UI_URL}?id={}", random_uuid())));
            };
            state.sessions.remove(&session_token);
            let mut response = see_other(&param(&query, "return_to"));
            let mut gone = Cookie::new(SESSION_COOKIE, "");
            gone.set_path("/");
            gone.make_removal();
            let _ = response.add_cookie(&gone);
            response
        }
        _ => return None,
    })
}

fn flow(shared: &Shared, id: &str) -> Option<LoginFlow> {
    lock(&shared.state).login_flows.get(id).cloned()
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("location", location.to_owned()))
        .finish()
}

fn submit(shared: &Shared, req: &HttpRequest, form: &[(String, String)], id: &str) -> HttpResponse {
    let Some(flow) = flow(shared, id) else {
        return HttpResponse::NotFound().body("no such flow");
    };
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let now = OffsetDateTime::now_utc();
    let mut state = lock(&shared.state);
    let cookie_token = raw_cookie_header(req).and_then(|c| cookie_value(&c, SESSION_COOKIE));
    let (identity, aal, methods) = if flow.aal2 {
        // The second step: the browser already has a first-factor session.
        let current = cookie_token
            .as_ref()
            .and_then(|t| state.sessions.get(t))
            .map(|s| s["identity"]["id"].clone());
        let user = state
            .users
            .values()
            .find(|u| Some(&u.identity["id"]) == current.as_ref() && u.code.is_some())
            .cloned();
        match user {
            Some(user) if user.code.as_deref() == Some(field("code").as_str()) => {
                (user.identity, "aal2", vec!["password", "totp"])
            }
            _ => {
                drop(state);
                return page(id, &flow, Some("That code is not right."), 400);
            }
        }
    } else {
        let user = state
            .users
            .get(&field("identifier").to_ascii_lowercase())
            .cloned();
        match user {
            Some(user) if user.password == field("password") => {
                (user.identity, "aal1", vec!["password"])
            }
            _ => {
                drop(state);
                return page(id, &flow, Some("The email or password is not right."), 400);
            }
        }
    };
    let token = format!("ory_st_{}", super::super::fake_hydra::random_hex(16));
    let new_session = session(
        &random_uuid(),
        identity,
        now,
        now + time::Duration::hours(1),
        aal,
        &methods,
    );
    if let Some(old) = cookie_token {
        state.sessions.remove(&old);
    }
    state.sessions.insert(token.clone(), new_session);
    state.login_flows.remove(id);
    drop(state);
    let mut response = see_other(&flow.return_to);
    let cookie = Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish();
    let _ = response.add_cookie(&cookie);
    response
}

/// The login page: real labels, autocomplete hints, an error tied to its fields.
fn page(id: &str, flow: &LoginFlow, problem: Option<&str>, status: u16) -> HttpResponse {
    let problem_html = problem
        .map(|p| format!("<p id=\"problem\" role=\"alert\">{p}</p>"))
        .unwrap_or_default();
    let described = if problem.is_some() {
        " aria-describedby=\"problem\" aria-invalid=\"true\""
    } else {
        ""
    };
    let fields = if flow.aal2 {
        format!(
            "<p><label for=\"code\">Authentication code</label><br>\
             <input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required{described}></p>"
        )
    } else {
        format!(
            "<p><label for=\"identifier\">Email</label><br>\
             <input id=\"identifier\" name=\"identifier\" type=\"email\" autocomplete=\"username\" required{described}></p>\
             <p><label for=\"password\">Password</label><br>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required{described}></p>"
        )
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign in · Kratos (test)</title></head><body><main><h1>Sign in</h1>{problem_html}\
         <form method=\"post\" action=\"/ui/login\"><input type=\"hidden\" name=\"flow\" value=\"{id}\">\
         {fields}<p><button type=\"submit\" id=\"sign-in\">Sign in</button></p></form></main></body></html>"
    );
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .content_type("text/html; charset=utf-8")
        .body(html)
}
