//! `Stack`: one test's whole deployment. Real Hydra and Kratos ([`Ory`]), Hera on a free port
//! (in this process, as the other test targets run it) as Hydra's login, consent and logout
//! provider and as Kratos's self-service pages, the mail sink Kratos's courier posts to
//! (`examples/demo/mail.rs`) and a small OAuth2 client application
//! (`tests/browser/client_app.rs`). Everything listens on 127.0.0.1, so the browser's Kratos
//! cookies reach Hera (cookies ignore ports).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use hera::app::Application;
use hera::cli::Settings;
use serde_json::{json, Value};
use url::Url;

use crate::client_app::ClientApp;
use crate::driver::Browser;
use crate::mail::Mailbox;
use crate::ory::{Ory, Wiring};
use crate::support::fake_hydra::{bind_local, spawn_servers, with, Configure, ServerGuard};

/// Adjusts Hera's settings after they point at the stack.
pub type CustomiseHera = Box<dyn FnOnce(&mut Settings)>;

/// How a test wants its stack set up.
#[derive(Default)]
pub struct Setup {
    /// Extra Kratos settings as environment variables (`SESSION_WHOAMI_REQUIRED_AAL`, …).
    pub kratos_env: Vec<(String, String)>,
    pub hera: Option<CustomiseHera>,
}

pub struct Stack {
    /// Hera's origin, also its `HERA_PUBLIC_URL`.
    pub hera: String,
    pub ory: Ory,
    pub mail: Arc<Mailbox>,
    pub client_app: ClientApp,
    /// For admin API calls.
    pub http: reqwest::Client,
    _servers: ServerGuard,
}

impl Stack {
    pub async fn start() -> Stack {
        Stack::start_with(Setup::default()).await
    }

    pub async fn start_with(setup: Setup) -> Stack {
        crate::support::logs::init();
        let hera_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let hera = format!("http://{}", hera_listener.local_addr().unwrap());
        let (mail_listener, mail_url) = bind_local();
        let ory = Ory::start(&Wiring {
            hera: hera.clone(),
            mail: format!("{mail_url}/mail"),
            kratos_env: setup.kratos_env,
        })
        .await;

        let mail = Mailbox::new(false);
        let mailbox = web::Data::from(mail.clone());
        let configure_mail: Configure = Arc::new(move |cfg: &mut web::ServiceConfig| {
            cfg.app_data(mailbox.clone())
                .configure(crate::mail::configure);
        });
        let servers = spawn_servers("mail-sink", vec![(mail_listener, configure_mail)]).await;

        let mut settings = Settings::defaults();
        settings.bind = hera_listener.local_addr().unwrap();
        settings.public_url = Url::parse(&hera).unwrap();
        settings.hydra_admin_url = Url::parse(&ory.hydra_admin).unwrap();
        settings.hydra_public_url = Url::parse(&ory.hydra_public).unwrap();
        settings.kratos_public_url = Url::parse(&ory.kratos_public).unwrap();
        settings.kratos_browser_url = Url::parse(&ory.kratos_public).unwrap();
        settings.kratos_admin_url = Url::parse(&ory.kratos_admin).unwrap();
        if let Some(customise) = setup.hera {
            customise(&mut settings);
        }
        let application = Application::build_with_listener(settings, hera_listener).unwrap();
        tokio::spawn(application.run_until_stopped());

        let client_app = ClientApp::start(&ory.hydra_public).await;
        Stack {
            hera,
            ory,
            mail,
            client_app,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            _servers: servers,
        }
    }

    /// Hera's URL for `path`.
    pub fn hera(&self, path: &str) -> String {
        format!("{}{path}", self.hera)
    }

    /// Registers an OAuth2 client of the client application at Hydra (`POST /admin/clients`):
    /// confidential, code and refresh grants, `openid offline_access email profile`, the app's
    /// callback and signed-out URLs, and `patch` on top. Returns Hydra's answer.
    pub async fn register_client(&self, id: &str, name: &str, patch: Value) -> Value {
        let secret = format!("{id}-secret-0123456789");
        let body = with(
            json!({
                "client_id": id,
                "client_name": name,
                "client_secret": secret,
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "scope": "openid offline_access email profile",
                "redirect_uris": [self.client_app.callback_url()],
                "post_logout_redirect_uris": [self.client_app.signed_out_url()],
            }),
            patch,
        );
        let (status, created) = send(
            self.http
                .post(format!("{}/admin/clients", self.ory.hydra_admin))
                .json(&body),
        )
        .await;
        assert_eq!(status, 201, "Hydra refused the client: {created}");
        self.client_app.add_client(id, Some(&secret));
        created
    }

    /// A third-party client ("Photos") and a first-party one ("Our own app",
    /// `metadata.first_party`).
    pub async fn register_apps(&self) {
        self.register_client("photos", "Photos", json!({})).await;
        self.register_client(
            "own-app",
            "Our own app",
            json!({"metadata": {"first_party": true}}),
        )
        .await;
    }

    /// Creates a person in Kratos with a password, email verified (`POST /admin/identities`);
    /// returns the identity id.
    pub async fn create_person(&self, person: &Person) -> String {
        let (status, identity) = send(self.http
            .post(format!("{}/admin/identities", self.ory.kratos_admin))
            .json(&json!({
                "schema_id": "default",
                "traits": {
                    "email": person.email,
                    "name": {"first": person.first, "last": person.last},
                },
                "verifiable_addresses": [{
                    "value": person.email, "verified": true, "via": "email", "status": "completed",
                }],
                "credentials": {"password": {"config": {"password": person.password}}},
            })))
        .await;
        assert_eq!(status, 201, "Kratos refused the identity: {identity}");
        identity["id"].as_str().unwrap().to_owned()
    }

    /// The identity Kratos has for `email`, if any.
    pub async fn identity_by_email(&self, email: &str) -> Option<Value> {
        let (_, all) = send(
            self.http
                .get(format!("{}/admin/identities", self.ory.kratos_admin))
                .query(&[("credentials_identifier", email)]),
        )
        .await;
        all.as_array().and_then(|list| list.first()).cloned()
    }

    /// Signs `person` in through Kratos's API flow, as a native app does; returns the session
    /// token.
    pub async fn session_token(&self, person: &Person) -> String {
        let (_, flow) = send(
            self.http
                .get(format!("{}/self-service/login/api", self.ory.kratos_public)),
        )
        .await;
        let (_, signed_in) = send(self.http.post(flow["ui"]["action"].as_str().unwrap()).json(
            &json!({
                "method": "password",
                "identifier": person.email,
                "password": person.password,
            }),
        ))
        .await;
        signed_in["session_token"]
            .as_str()
            .unwrap_or_else(|| panic!("Kratos did not sign {} in: {signed_in}", person.email))
            .to_owned()
    }

    /// Signs `person` in through Kratos's browser flow as a single-page app does (JSON, with
    /// the CSRF cookie); returns the browser's `Cookie` header for 127.0.0.1 afterwards.
    pub async fn session_cookie(&self, person: &Person) -> String {
        use reqwest::cookie::CookieStore;
        let (_, jar) = self.signed_in_client(person).await;
        let url = Url::parse(&self.ory.kratos_public).unwrap();
        jar.cookies(&url)
            .map(|header| header.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    /// A browser without a screen (a cookie jar, no automatic redirects) in which `person`
    /// signed in to Kratos, as a single-page app does (JSON, with the CSRF cookie).
    pub async fn signed_in_client(
        &self,
        person: &Person,
    ) -> (reqwest::Client, Arc<reqwest::cookie::Jar>) {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let browser = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let (_, flow) = send(
            browser
                .get(format!(
                    "{}/self-service/login/browser",
                    self.ory.kratos_public
                ))
                .header("accept", "application/json"),
        )
        .await;
        let csrf_token = flow["ui"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|node| node["attributes"]["name"] == "csrf_token")
            .and_then(|node| node["attributes"]["value"].as_str())
            .unwrap()
            .to_owned();
        let (status, signed_in) = send(
            browser
                .post(flow["ui"]["action"].as_str().unwrap())
                .header("accept", "application/json")
                .json(&json!({
                    "method": "password",
                    "identifier": person.email,
                    "password": person.password,
                    "csrf_token": csrf_token,
                })),
        )
        .await;
        assert_eq!(status, 200, "{signed_in}");
        (browser, jar)
    }

    /// Hydra's introspection of a token (`POST /admin/oauth2/introspect`).
    pub async fn introspect(&self, token: &str) -> Value {
        send(
            self.http
                .post(format!("{}/admin/oauth2/introspect", self.ory.hydra_admin))
                .form(&[("token", token)]),
        )
        .await
        .1
    }

    /// Kratos's `/sessions/whoami` for a `Cookie` header: the status, and the session when 200.
    pub async fn whoami(&self, cookie: &str) -> (u16, Value) {
        send(
            self.http
                .get(format!("{}/sessions/whoami", self.ory.kratos_public))
                .header("cookie", cookie),
        )
        .await
    }

    /// The consent sessions Hydra keeps for `subject` (`GET /admin/oauth2/auth/sessions/consent`).
    pub async fn consent_sessions(&self, subject: &str) -> Vec<Value> {
        let (_, list) = send(
            self.http
                .get(format!(
                    "{}/admin/oauth2/auth/sessions/consent",
                    self.ory.hydra_admin
                ))
                .query(&[("subject", subject)]),
        )
        .await;
        list.as_array().cloned().unwrap_or_default()
    }
}

/// Sends a request; the status and the JSON body (`null` when there is none).
pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Someone who signs in during a test.
#[derive(Clone, Debug)]
pub struct Person {
    pub email: String,
    pub password: String,
    pub first: String,
    pub last: String,
}

impl Person {
    pub fn new(first: &str, last: &str) -> Person {
        Person {
            email: format!(
                "{}.{}@example.com",
                first.to_lowercase(),
                last.to_lowercase()
            ),
            password: format!("{first} likes long passphrases 42"),
            first: first.to_owned(),
            last: last.to_owned(),
        }
    }

    pub fn ada() -> Person {
        Person::new("Ada", "Lovelace")
    }

    pub fn bob() -> Person {
        Person::new("Bob", "Builder")
    }
}

/// The browser's cookies for 127.0.0.1 (Hera's, Kratos's and Hydra's host) as a `Cookie`
/// header, read from the page it shows (which must be on 127.0.0.1).
pub async fn cookie_header(browser: &Browser) -> String {
    browser
        .client
        .get_all_cookies()
        .await
        .unwrap()
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect::<Vec<_>>()
        .join("; ")
}
