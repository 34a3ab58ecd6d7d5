//! The demo application: a page with "Sign in with Hera" for two OAuth2 clients of the local
//! stack (`deploy/local/clients/`), a third-party app Hera asks consent for and a first-party
//! app it does not. It runs the authorization code flow with PKCE (S256), a random `state` and
//! `nonce`, exchanges the code at Hydra's token endpoint with the client's secret, and shows
//! the granted scope and the ID token's claims. "Sign out" is an RP-initiated logout at Hydra
//! with the ID token as `id_token_hint`, which Hera confirms.
//!
//! Tokens stay on this server: the browser only sees the claims.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use rand::RngCore;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// One OAuth2 client of the demo.
pub struct DemoClient {
    pub id: String,
    pub secret: String,
    pub name: &'static str,
    pub about: &'static str,
}

/// A sign-in in progress: which client, and its PKCE verifier.
struct Pending {
    client: usize,
    verifier: String,
}

pub struct DemoApp {
    /// `http://127.0.0.1:5555`, as browsers reach it.
    pub url: String,
    /// Hydra's public URL (browsers and the token endpoint alike).
    pub hydra_public: String,
    pub clients: Vec<DemoClient>,
    /// Where to create an account (Kratos's sign-up pages), shown on the home page.
    pub sign_up_hint: String,
    pending: Mutex<HashMap<String, Pending>>,
    /// ID tokens of finished sign-ins, by a random handle the sign-out link carries.
    id_tokens: Mutex<HashMap<String, String>>,
    http: reqwest::Client,
}

impl DemoApp {
    pub fn new(url: &str, hydra_public: &str, clients: Vec<DemoClient>, hint: &str) -> DemoApp {
        DemoApp {
            url: url.trim_end_matches('/').to_owned(),
            hydra_public: hydra_public.trim_end_matches('/').to_owned(),
            clients,
            sign_up_hint: hint.to_owned(),
            pending: Mutex::default(),
            id_tokens: Mutex::default(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }
}

/// Registers `GET /`, `/sign-in`, `/callback` and `/sign-out`; the app data must hold a
/// `web::Data<DemoApp>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/sign-in", web::get().to(sign_in))
        .route("/callback", web::get().to(callback))
        .route("/sign-out", web::get().to(sign_out))
        .route("/health", web::get().to(HttpResponse::Ok));
}

fn query_of(request: &HttpRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(request.query_string().as_bytes())
        .into_owned()
        .collect()
}

fn random(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn home(app: web::Data<DemoApp>) -> HttpResponse {
    let mut body = String::from(
        "<h1>Demo app</h1><p>Two applications of the local stack sign in through Hydra and Hera.</p>",
    );
    for (index, client) in app.clients.iter().enumerate() {
        let _ = write!(
            body,
            "<section><h2>{}</h2><p>{}</p><p><a class=\"button\" id=\"sign-in-{index}\" \
             href=\"/sign-in?client={index}\">Sign in with Hera</a> \
             <a id=\"sign-up-{index}\" href=\"/sign-in?client={index}&amp;prompt=registration\">\
             Create an account</a></p></section>",
            escape(client.name),
            escape(client.about)
        );
    }
    let _ = write!(body, "<p class=\"hint\">{}</p>", escape(&app.sign_up_hint));
    page("Demo app", &body)
}

/// Starts the authorization code flow for one client (`prompt=registration` opens the
/// sign-up page instead of sign-in).
async fn sign_in(request: HttpRequest, app: web::Data<DemoApp>) -> HttpResponse {
    let query = query_of(&request);
    let Some(index) = query
        .get("client")
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|i| *i < app.clients.len())
    else {
        return page(
            "Unknown app",
            "<h1>Unknown app</h1><p><a href=\"/\">Back</a></p>",
        );
    };
    let client = &app.clients[index];
    let state = random(16);
    let verifier = random(48);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let mut params = url::form_urlencoded::Serializer::new(String::new());
    params
        .append_pair("client_id", &client.id)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid offline_access email profile")
        .append_pair("redirect_uri", &format!("{}/callback", app.url))
        .append_pair("state", &state)
        .append_pair("nonce", &random(16))
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if query.get("prompt").map(String::as_str) == Some("registration") {
        params.append_pair("prompt", "registration");
    }
    lock(&app.pending).insert(
        state,
        Pending {
            client: index,
            verifier,
        },
    );
    redirect(&format!(
        "{}/oauth2/auth?{}",
        app.hydra_public,
        params.finish()
    ))
}

async fn callback(request: HttpRequest, app: web::Data<DemoApp>) -> HttpResponse {
    let query = query_of(&request);
    let pending = query
        .get("state")
        .and_then(|state| lock(&app.pending).remove(state));
    let Some(pending) = pending else {
        return outcome_page(
            "Not signed in",
            "The sign-in was not started here, or it was used already.",
        );
    };
    if let Some(error) = query.get("error") {
        return outcome_page("Not signed in", &format!("Hydra answered: {error}"));
    }
    let Some(code) = query.get("code") else {
        return outcome_page("Not signed in", "Hydra sent no code.");
    };
    let client = &app.clients[pending.client];
    let answer = app
        .http
        .post(format!("{}/oauth2/token", app.hydra_public))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", &format!("{}/callback", app.url)),
            ("code_verifier", &pending.verifier),
        ])
        .send()
        .await;
    let tokens: Value = match answer {
        Ok(response) => response.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    let Some(id_token) = tokens["id_token"].as_str() else {
        let error = tokens["error"].as_str().unwrap_or("no ID token");
        return outcome_page(
            "Not signed in",
            &format!("The token endpoint answered: {error}"),
        );
    };
    let claims = claims_of(id_token);
    let handle = random(16);
    lock(&app.id_tokens).insert(handle.clone(), id_token.to_owned());
    let name = [&claims["given_name"], &claims["family_name"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let mut body = format!(
        "<h1>Signed in to {}</h1><p>Hello{}!</p>\
         <p><a class=\"button\" id=\"sign-out\" href=\"/sign-out?handle={handle}\">Sign out</a> \
         <a href=\"/\">Back</a></p><h2>What the app received</h2><dl>",
        escape(client.name),
        if name.is_empty() {
            String::new()
        } else {
            format!(", {}", escape(&name))
        }
    );
    let scope = tokens["scope"].as_str().unwrap_or_default();
    let _ = write!(
        body,
        "<dt>Granted scope</dt><dd id=\"scope\">{}</dd>",
        escape(scope)
    );
    if let Some(object) = claims.as_object() {
        for (claim, value) in object {
            let shown = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            let _ = write!(
                body,
                "<dt>{}</dt><dd>{}</dd>",
                escape(claim),
                escape(&shown)
            );
        }
    }
    body.push_str("</dl>");
    page("Signed in", &body)
}

/// RP-initiated logout at Hydra with the sign-in's ID token; Hydra sends the browser to Hera to
/// confirm, then back here.
async fn sign_out(request: HttpRequest, app: web::Data<DemoApp>) -> HttpResponse {
    let query = query_of(&request);
    let id_token = query
        .get("handle")
        .and_then(|handle| lock(&app.id_tokens).remove(handle));
    let Some(id_token) = id_token else {
        return redirect("/");
    };
    let params = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", &id_token)
        .append_pair("post_logout_redirect_uri", &format!("{}/", app.url))
        .append_pair("state", &random(16))
        .finish();
    redirect(&format!(
        "{}/oauth2/sessions/logout?{params}",
        app.hydra_public
    ))
}

/// The claims of a JWT the demo just received from Hydra's token endpoint over a direct
/// connection (OIDC Core §3.1.3.7 allows skipping the signature check for those).
fn claims_of(jwt: &str) -> Value {
    jwt.split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

fn outcome_page(title: &str, message: &str) -> HttpResponse {
    page(
        title,
        &format!(
            "<h1>{}</h1><p id=\"error\">{}</p><p><a href=\"/\">Back</a></p>",
            escape(title),
            escape(message)
        ),
    )
}

fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn page(title: &str, main: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ))
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{} · Demo app</title><style>{STYLE}</style></head>\
             <body><main>{main}</main></body></html>",
            escape(title)
        ))
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#fbf7f0;color:#1b1b1f}\
main{max-width:34rem;margin:3rem auto;padding:2rem}section{margin:1.5rem 0;padding:1rem 1.25rem;background:#fff;border-radius:.75rem;box-shadow:0 1px 3px #0002}\
.button{display:inline-block;padding:.5rem 1rem;border-radius:.375rem;background:#6b2fb3;color:#fff;text-decoration:none}\
dt{font-weight:600}dd{margin:0 0 .5rem;word-break:break-all}.hint{color:#555}\
:focus-visible{outline:3px solid #6b2fb3;outline-offset:2px}";

/// HTML-escapes text for element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
