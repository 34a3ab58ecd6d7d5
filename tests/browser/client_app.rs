//! A tiny OAuth2 client application for whole-chain browser tests: a page that starts the
//! authorization code flow (PKCE S256, a random `state` and `nonce`), and a callback that
//! exchanges the code at the Hydra public fake's token endpoint and shows what it got.
//!
//! - `GET /start?client_id=…&scope=…[&prompt=…][&ui_locales=…]`: a page with a "Sign in" link
//!   to `/oauth2/auth`.
//! - `GET /callback?code=…&state=…` or `?error=…`: exchanges the code and shows the granted
//!   scope and the ID token's claims, or the error. Each outcome is also recorded for the test
//!   ([`ClientApp::outcomes`]).
//! - `GET /sign-out?client_id=…`: a page with a "Sign out" link to Hydra's
//!   `/oauth2/sessions/logout` with the last ID token as `id_token_hint`.
//! - `GET /signed-out?state=…`: where the logout returns.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use crate::support::fake_hydra::{
    bind_local, lock, random_b64url, spawn_servers, Configure, ServerGuard,
};
use crate::support::fake_hydra_public::s256;
use crate::support::jwt_claims;

/// What the application ended up with after one trip through the chain.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Tokens: the granted scope and the ID token's claims (`Value::Null` without `openid`).
    Tokens {
        client_id: String,
        scope: String,
        claims: Value,
    },
    /// `error` at the callback (from Hydra) or from the token endpoint.
    Error { error: String },
    /// The logout came back with this `state`.
    SignedOut { state_matches: bool },
}

struct Pending {
    client_id: String,
    verifier: String,
}

#[derive(Default)]
struct AppState {
    pending: HashMap<String, Pending>,
    outcomes: Vec<Outcome>,
    /// Client id → (secret for confidential clients).
    secrets: HashMap<String, Option<String>>,
    id_tokens: HashMap<String, String>,
    logout_state: Option<String>,
}

struct Shared {
    url: String,
    hydra_public: String,
    state: Mutex<AppState>,
}

/// The client application. Dropping it stops its server.
pub struct ClientApp {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    shared: Arc<Shared>,
    _server: ServerGuard,
}

impl ClientApp {
    pub async fn start(hydra_public: &str) -> ClientApp {
        let (listener, url) = bind_local();
        let shared = Arc::new(Shared {
            url: url.clone(),
            hydra_public: hydra_public.to_owned(),
            state: Mutex::new(AppState::default()),
        });
        let app_shared = shared.clone();
        let configure: Configure = Arc::new(move |cfg: &mut web::ServiceConfig| {
            cfg.app_data(web::Data::from(app_shared.clone()))
                .default_service(web::to(handle));
        });
        let server = spawn_servers("client-app", vec![(listener, configure)]).await;
        ClientApp {
            url,
            shared,
            _server: server,
        }
    }

    /// Lets the app act as `client_id` (with its secret, for a confidential client).
    pub fn add_client(&self, client_id: &str, secret: Option<&str>) {
        lock(&self.shared.state)
            .secrets
            .insert(client_id.to_owned(), secret.map(str::to_owned));
    }

    pub fn callback_url(&self) -> String {
        format!("{}/callback", self.url)
    }

    pub fn signed_out_url(&self) -> String {
        format!("{}/signed-out", self.url)
    }

    /// The page that starts a flow for `client_id` with these extra authorization parameters.
    pub fn start_url(&self, client_id: &str, params: &[(&str, &str)]) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("client_id", client_id);
        query.extend_pairs(params);
        format!("{}/start?{}", self.url, query.finish())
    }

    /// Everything the app received, in order.
    pub fn outcomes(&self) -> Vec<Outcome> {
        lock(&self.shared.state).outcomes.clone()
    }

    /// The last outcome; fails the test when there is none.
    pub fn last_outcome(&self) -> Outcome {
        self.outcomes()
            .last()
            .cloned()
            .expect("the client app received nothing")
    }
}

async fn handle(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    let query: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    match req.path() {
        "/start" => start(&shared, &query),
        "/callback" => callback(&shared, &query).await,
        "/sign-out" => sign_out(&shared, &query),
        "/signed-out" => signed_out(&shared, &query),
        _ => HttpResponse::NotFound().finish(),
    }
}

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · Client app (test)</title></head>\
             <body><main><h1>{title}</h1>{body}</main></body></html>"
        ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn start(shared: &Shared, query: &HashMap<String, String>) -> HttpResponse {
    let client_id = query.get("client_id").cloned().unwrap_or_default();
    let state = random_b64url(16);
    let verifier = random_b64url(48);
    let mut params: Vec<(String, String)> = vec![
        ("client_id".into(), client_id.clone()),
        ("response_type".into(), "code".into()),
        ("redirect_uri".into(), format!("{}/callback", shared.url)),
        ("state".into(), state.clone()),
        ("nonce".into(), random_b64url(16)),
        ("code_challenge".into(), s256(&verifier)),
        ("code_challenge_method".into(), "S256".into()),
    ];
    for (key, value) in query {
        if key != "client_id" {
            params.push((key.clone(), value.clone()));
        }
    }
    lock(&shared.state).pending.insert(
        state,
        Pending {
            client_id,
            verifier,
        },
    );
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    let href = format!("{}/oauth2/auth?{query}", shared.hydra_public);
    page(
        "Client app",
        &format!(
            "<p><a id=\"sign-in\" href=\"{}\">Sign in with Hera</a></p>",
            escape(&href)
        ),
    )
}

async fn callback(shared: &Shared, query: &HashMap<String, String>) -> HttpResponse {
    let pending = query
        .get("state")
        .and_then(|state| lock(&shared.state).pending.remove(state));
    let outcome = match (pending, query.get("code"), query.get("error")) {
        (None, _, _) => Outcome::Error {
            error: "state_mismatch".into(),
        },
        (Some(_), _, Some(error)) => Outcome::Error {
            error: error.clone(),
        },
        (Some(pending), Some(code), None) => exchange(shared, &pending, code).await,
        (Some(_), None, None) => Outcome::Error {
            error: "no_code".into(),
        },
    };
    lock(&shared.state).outcomes.push(outcome.clone());
    match outcome {
        Outcome::Tokens { scope, claims, .. } => page(
            "Signed in",
            &format!(
                "<dl><dt>Granted scope</dt><dd id=\"scope\">{}</dd>\
                 <dt>Subject</dt><dd id=\"subject\">{}</dd>\
                 <dt>Email</dt><dd id=\"email\">{}</dd></dl>",
                escape(&scope),
                escape(claims["sub"].as_str().unwrap_or_default()),
                escape(claims["email"].as_str().unwrap_or("(not shared)")),
            ),
        ),
        Outcome::Error { error } => page(
            "Not signed in",
            &format!("<p>Error: <span id=\"error\">{}</span></p>", escape(&error)),
        ),
        Outcome::SignedOut { .. } => unreachable!(),
    }
}

async fn exchange(shared: &Shared, pending: &Pending, code: &str) -> Outcome {
    let secret = lock(&shared.state)
        .secrets
        .get(&pending.client_id)
        .cloned()
        .flatten();
    let redirect_uri = format!("{}/callback", shared.url);
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", pending.verifier.as_str()),
    ];
    let request = reqwest::Client::new().post(format!("{}/oauth2/token", shared.hydra_public));
    let request = match &secret {
        Some(secret) => request.basic_auth(&pending.client_id, Some(secret)),
        None => {
            form.push(("client_id", pending.client_id.as_str()));
            request
        }
    };
    let Ok(response) = request.form(&form).send().await else {
        return Outcome::Error {
            error: "token_endpoint_unreachable".into(),
        };
    };
    let body: Value = response.json().await.unwrap_or_default();
    if let Some(error) = body["error"].as_str() {
        return Outcome::Error {
            error: error.to_owned(),
        };
    }
    let claims = body["id_token"]
        .as_str()
        .and_then(jwt_claims)
        .unwrap_or(Value::Null);
    if let Some(id_token) = body["id_token"].as_str() {
        lock(&shared.state)
            .id_tokens
            .insert(pending.client_id.clone(), id_token.to_owned());
    }
    Outcome::Tokens {
        client_id: pending.client_id.clone(),
        scope: body["scope"].as_str().unwrap_or_default().to_owned(),
        claims,
    }
}

fn sign_out(shared: &Shared, query: &HashMap<String, String>) -> HttpResponse {
    let client_id = query.get("client_id").cloned().unwrap_or_default();
    let state = random_b64url(16);
    let id_token = lock(&shared.state)
        .id_tokens
        .get(&client_id)
        .cloned()
        .unwrap_or_default();
    lock(&shared.state).logout_state = Some(state.clone());
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", &id_token)
        .append_pair(
            "post_logout_redirect_uri",
            &format!("{}/signed-out", shared.url),
        )
        .append_pair("state", &state)
        .finish();
    let href = format!("{}/oauth2/sessions/logout?{query}", shared.hydra_public);
    page(
        "Client app",
        &format!(
            "<p><a id=\"sign-out\" href=\"{}\">Sign out</a></p>",
            escape(&href)
        ),
    )
}

fn signed_out(shared: &Shared, query: &HashMap<String, String>) -> HttpResponse {
    let mut state = lock(&shared.state);
    let state_matches =
        state.logout_state.take().as_deref() == query.get("state").map(String::as_str);
    state.outcomes.push(Outcome::SignedOut { state_matches });
    drop(state);
    page(
        "Signed out",
        "<p id=\"signed-out\">You are signed out of the client app.</p>",
    )
}
