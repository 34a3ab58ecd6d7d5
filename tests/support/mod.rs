//! `TestApp`: Hera on a free port with its own fakes, and helpers that read like the spec.
//!
//! Shared by the `api`, `browser` and `load` test binaries (each includes it with
//! `#[path = "../support/mod.rs"]`); each uses a part of it.

#![allow(dead_code)]

pub mod bff;
pub mod fake_api;
pub mod fake_hydra;
pub mod fake_hydra_public;
pub mod fake_hydra_tokens;
pub mod fake_kratos;
pub mod forms;
pub mod logs;
pub mod openapi;
pub mod recording;
pub mod redis_server;
pub mod totp;
pub mod violations;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use hera::app::Application;
use hera::cli::Settings;
use reqwest::cookie::Jar;
use reqwest::header::{HeaderMap, ACCEPT, LOCATION};
use reqwest::{Response, StatusCode};
use url::Url;

use fake_hydra::FakeHydra;
use fake_kratos::FakeKratos;

/// Where Hera sends browsers to Kratos in tests that do not run Kratos's pages.
pub const KRATOS_BROWSER_URL: &str = "http://kratos.browser.test:4433";

/// What a browser says it accepts on a navigation: Kratos answers such requests with
/// redirects, and `*/*` alone with JSON.
pub const NAVIGATION: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// Upstream timeout used by tests, short so hang tests finish quickly.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_millis(1500);

pub struct TestApp {
    /// `http://127.0.0.1:PORT` (with the path prefix Hera is served under, for
    /// [`TestApp::spawn_under`]), also Hera's `HERA_PUBLIC_URL`.
    pub address: String,
    pub hydra: FakeHydra,
    /// Hydra's public side (authorize dance, token endpoint), sending browsers to this Hera.
    pub public: fake_hydra_public::FakeHydraPublic,
    pub kratos: FakeKratos,
    /// A browser: no automatic redirects, a cookie jar.
    pub browser: reqwest::Client,
    pub jar: Arc<Jar>,
    /// `http://127.0.0.1:PORT/metrics` when the test set `metrics_bind`.
    pub metrics_url: Option<String>,
    /// Starts Hera's graceful shutdown, as SIGTERM does.
    pub shutdown: hera::app::Shutdown,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// Starts Hera after `customise` has adjusted its settings (URLs already point at the fakes).
    pub async fn spawn_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
        TestApp::spawn_under("", customise).await
    }

    /// [`TestApp::spawn_with`] with Hera served under the path `prefix` (`/auth`), as behind a
    /// reverse proxy that forwards `/auth/…` unchanged: `HERA_PUBLIC_URL`, `address` and the
    /// URLs Hydra and Kratos send browsers to all carry it.
    pub async fn spawn_under(prefix: &str, customise: impl FnOnce(&mut Settings)) -> TestApp {
        logs::init();
        let hydra = FakeHydra::start().await;
        let kratos = FakeKratos::start().await;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!(
            "http://127.0.0.1:{}{prefix}",
            listener.local_addr().unwrap().port()
        );
        // Kratos's `selfservice.flows.*.ui_url` and default return address are Hera's.
        kratos.set_ui_base(&address);
        let public = fake_hydra_public::FakeHydraPublic::start(
            &hydra,
            fake_hydra_public::LcpUrls::of(&address),
        )
        .await;

        let mut settings = Settings::defaults();
        settings.bind = listener.local_addr().unwrap();
        settings.public_url = Url::parse(&address).unwrap();
        settings.hydra_admin_url = Url::parse(&hydra.url).unwrap();
        settings.hydra_public_url = Url::parse(&public.url).unwrap();
        settings.kratos_public_url = Url::parse(&kratos.public_url).unwrap();
        settings.kratos_browser_url = Url::parse(KRATOS_BROWSER_URL).unwrap();
        settings.kratos_admin_url = Url::parse(&kratos.admin_url).unwrap();
        settings.upstream_timeout = UPSTREAM_TIMEOUT;
        settings.upstream_connect_timeout = Duration::from_millis(500);
        // Tests answer the consent page at once; the tests of that check restore the default.
        settings.consent_min_delay = Duration::ZERO;
        customise(&mut settings);

        let application = Application::build_with_listener(settings, listener).unwrap();
        let metrics_url = application
            .metrics_port()
            .map(|port| format!("http://127.0.0.1:{port}/metrics"));
        let shutdown = application.shutdown();
        tokio::spawn(application.run_until_stopped());

        let jar = Arc::new(Jar::default());
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .build()
            .unwrap();
        TestApp {
            address,
            hydra,
            public,
            kratos,
            browser,
            jar,
            metrics_url,
            shutdown,
        }
    }

    /// Follows redirects from `url` like a browser until one leads to `stop_prefix` (returned)
    /// or a response is not a redirect (its URL and status are returned as an error).
    pub async fn follow_until(
        &self,
        url: &str,
        stop_prefix: &str,
    ) -> Result<String, (String, u16)> {
        follow_until(&self.browser, url, stop_prefix).await
    }

    /// Hera whose `KRATOS_BROWSER_URL` is the fake Kratos's public URL, as for browsers that
    /// go through Kratos's flows (the flows' forms post there).
    pub async fn spawn_for_flows() -> TestApp {
        TestApp::spawn_with(|settings| {
            settings.kratos_browser_url = settings.kratos_public_url.clone();
        })
        .await
    }

    /// [`TestApp::spawn_for_flows`] with Ada able to sign in with [`ADA_PASSWORD`].
    pub async fn spawn_for_flows_with_ada() -> TestApp {
        let app = TestApp::spawn_for_flows().await;
        app.kratos.add_user(ADA_EMAIL, ADA_PASSWORD, ada());
        app
    }

    /// Opens `url` (absolute, or a path on Hera) and follows redirects like a browser, to the
    /// page it ends on.
    pub async fn navigate(&self, url: &str) -> Page {
        let url = if url.starts_with('/') {
            self.url(url)
        } else {
            url.to_owned()
        };
        self.follow(self.open(&url).await, &url).await
    }

    /// A browser's navigation to `url`, without following its redirects.
    async fn open(&self, url: &str) -> Response {
        self.browser
            .get(url)
            .header(ACCEPT, NAVIGATION)
            .send()
            .await
            .unwrap()
    }

    /// Submits a form of a flow page as a browser does when `button` is pressed after typing
    /// `typed`, and follows the redirects that answer it.
    pub async fn submit(
        &self,
        form: &forms::Form,
        button: (&str, &str),
        typed: &[(&str, &str)],
    ) -> Page {
        let body = form.body(button, typed);
        assert!(
            form.method.eq_ignore_ascii_case("post"),
            "{} form",
            form.method
        );
        let response = self
            .browser
            .post(&form.action)
            .header(ACCEPT, NAVIGATION)
            .form(&body)
            .send()
            .await
            .unwrap();
        self.follow(response, &form.action).await
    }

    /// Presses `button` on `page` after typing `typed` into the form that holds the button.
    pub async fn press(&self, page: &Page, button: (&str, &str), typed: &[(&str, &str)]) -> Page {
        self.submit(&page.form(button.0, button.1), button, typed)
            .await
    }

    async fn follow(&self, mut response: Response, url: &str) -> Page {
        let mut url = url.to_owned();
        let mut trail = vec![url.clone()];
        for _ in 0..20 {
            if !response.status().is_redirection() {
                let status = response.status();
                let headers = response.headers().clone();
                let html = response.text().await.unwrap();
                return Page {
                    url,
                    status,
                    headers,
                    html,
                    trail,
                };
            }
            let next = location_of(&response);
            url = Url::parse(&url).unwrap().join(&next).unwrap().to_string();
            trail.push(url.clone());
            let ours = [&self.address, &self.kratos.public_url, &self.public.url];
            if !ours.iter().any(|origin| url.starts_with(origin.as_str())) {
                // Somewhere the test does not run (an application, an identity provider): the
                // browser would go there; stop.
                return Page {
                    url,
                    status: response.status(),
                    headers: response.headers().clone(),
                    html: String::new(),
                    trail,
                };
            }
            response = self.open(&url).await;
        }
        panic!("more than 20 redirects: {trail:#?}");
    }

    /// Starts a second Hera on another port against the same fakes, as a second instance behind
    /// a load balancer would run: same `HERA_PUBLIC_URL` and, through `customise`, the same
    /// settings (tests pass the same `HERA_COOKIE_SECRET`). Returns its address.
    pub async fn spawn_twin(&self, customise: impl FnOnce(&mut Settings)) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let mut settings = Settings::defaults();
        settings.bind = listener.local_addr().unwrap();
        settings.public_url = Url::parse(&self.address).unwrap();
        settings.hydra_admin_url = Url::parse(&self.hydra.url).unwrap();
        settings.hydra_public_url = Url::parse(&self.public.url).unwrap();
        settings.kratos_public_url = Url::parse(&self.kratos.public_url).unwrap();
        settings.kratos_browser_url = Url::parse(KRATOS_BROWSER_URL).unwrap();
        settings.kratos_admin_url = Url::parse(&self.kratos.admin_url).unwrap();
        settings.upstream_timeout = UPSTREAM_TIMEOUT;
        settings.consent_min_delay = Duration::ZERO;
        customise(&mut settings);
        let application = Application::build_with_listener(settings, listener).unwrap();
        tokio::spawn(application.run_until_stopped());
        address
    }

    /// Gives the browser a Kratos session cookie, as Kratos would after a sign-in.
    pub fn sign_in_browser(&self, token: &str) {
        let url = Url::parse(&self.address).unwrap();
        self.jar.add_cookie_str(
            &format!("{}={token}; Path=/", fake_kratos::SESSION_COOKIE),
            &url,
        );
    }

    pub async fn get(&self, path_and_query: &str) -> Response {
        self.browser
            .get(format!("{}{path_and_query}", self.address))
            .send()
            .await
            .unwrap()
    }

    pub async fn get_login(&self, challenge: &str) -> Response {
        self.get(&format!("/login?login_challenge={}", encode(challenge)))
            .await
    }

    pub async fn get_consent(&self, challenge: &str) -> Response {
        self.get(&format!("/consent?consent_challenge={}", encode(challenge)))
            .await
    }

    pub async fn post_consent(&self, form: &[(&str, &str)]) -> Response {
        self.browser
            .post(format!("{}/consent", self.address))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Opens the consent page and returns its CSRF token.
    pub async fn consent_csrf_token(&self, challenge: &str) -> String {
        let response = self.get_consent(challenge).await;
        assert_eq!(response.status(), StatusCode::OK);
        hidden_field(&response.text().await.unwrap(), "csrf_token")
    }

    /// Posts a form to Hera as the browser.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.browser
            .post(format!("{}{path}", self.address))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_logout(&self, challenge: &str) -> Response {
        self.get(&format!("/logout?logout_challenge={}", encode(challenge)))
            .await
    }

    pub async fn get_device_verify(&self, challenge: &str) -> Response {
        self.get(&format!(
            "/device/verify?device_challenge={}",
            encode(challenge)
        ))
        .await
    }

    /// Hera's own URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Requests Hydra received other than health probes, as `METHOD path`.
    pub fn hydra_calls(&self) -> Vec<String> {
        self.hydra
            .calls()
            .into_iter()
            .filter(|call| !call.contains(" /health"))
            .collect()
    }
}

/// The page a browser ends on after following redirects.
#[derive(Debug)]
pub struct Page {
    pub url: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub html: String,
    /// Every URL on the way, first to last.
    pub trail: Vec<String>,
}

impl Page {
    /// The page's text as a reader sees it.
    pub fn text(&self) -> String {
        forms::text(&self.html)
    }

    pub fn forms(&self) -> Vec<forms::Form> {
        forms::forms(&self.html)
    }

    /// The form with the button `name=value`.
    pub fn form(&self, name: &str, value: &str) -> forms::Form {
        forms::form_with_button(&self.html, name, value)
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts the page is one of Hera's, at `path`, rendered without error.
    #[track_caller]
    pub fn assert_at(&self, path: &str) {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}
{}",
            self.url,
            self.html
        );
        let url = Url::parse(&self.url).unwrap();
        assert_eq!(url.path(), path, "{:#?}", self.trail);
    }
}

/// Every contract violation any of the app's fakes saw fails the test, reported together when
/// the app is dropped (see `violations`).
impl Drop for TestApp {
    fn drop(&mut self) {
        violations::fail_on_violations(&[
            (
                "the fake Hydra admin API",
                self.hydra.take_contract_violations(),
            ),
            (
                "the fake Hydra public API",
                self.public.take_contract_violations(),
            ),
            ("the fake Kratos", self.kratos.take_contract_violations()),
        ]);
    }
}

/// Ada, who signs in throughout the tests: her identity id, email and Kratos session id.
pub const ADA: &str = "a0a0a0a0-0000-4000-8000-00000000ada0";
pub const ADA_EMAIL: &str = "ada@example.com";
/// Ada's password at the fake Kratos's self-service flows.
pub const ADA_PASSWORD: &str = "correct horse battery staple";
pub const ADA_SESSION: &str = "5e550000-0000-4000-8000-00000000ada0";
/// The session token (and cookie value) of Ada's Kratos session in `sign_in_ada`.
pub const ADA_TOKEN: &str = "ada-token";

/// Bob, the other person: his identity id and email.
pub const BOB: &str = "b0b0b0b0-0000-4000-8000-000000000b0b";
pub const BOB_EMAIL: &str = "bob@example.com";

/// Ada's identity as Kratos's admin API serves it.
pub fn ada() -> serde_json::Value {
    fake_kratos::identity(ADA, ADA_EMAIL, "Ada", "Lovelace")
}

/// Bob's identity as Kratos's admin API serves it.
pub fn bob() -> serde_json::Value {
    fake_kratos::identity(BOB, BOB_EMAIL, "Bob", "Builder")
}

/// Ada's aal1 password session `ADA_SESSION`, authenticated at `authenticated_at`.
pub fn ada_session(
    authenticated_at: time::OffsetDateTime,
    expires_at: time::OffsetDateTime,
) -> serde_json::Value {
    fake_kratos::session(
        ADA_SESSION,
        ada(),
        authenticated_at,
        expires_at,
        "aal1",
        &["password"],
    )
}

/// Ada exists in Kratos and the browser holds her session (`ADA_TOKEN`, aal1 by password,
/// authenticated `authenticated_ago` ago, one hour left).
pub fn sign_in_ada(app: &TestApp, authenticated_ago: time::Duration) {
    app.kratos.add_identity(ada());
    sign_in_ada_as(app, ADA_TOKEN, authenticated_ago);
}

/// The browser holds Ada's session under `token` (aal1 by password, authenticated
/// `authenticated_ago` ago, one hour left); Kratos's admin API does not know her identity.
pub fn sign_in_ada_as(app: &TestApp, token: &str, authenticated_ago: time::Duration) {
    let now = time::OffsetDateTime::now_utc();
    app.kratos.add_session(
        token,
        ada_session(now - authenticated_ago, now + time::Duration::hours(1)),
    );
    app.sign_in_browser(token);
}

/// The Kratos session id of Bob's session in `sign_in_bob`.
pub const BOB_SESSION: &str = "5e550000-0000-4000-8000-000000000b0b";

/// Bob exists in Kratos and the browser holds his session (`bob-token`, aal1 by password,
/// just authenticated, one hour left).
pub fn sign_in_bob(app: &TestApp) {
    let now = time::OffsetDateTime::now_utc();
    app.kratos.add_identity(bob());
    app.kratos.add_session(
        "bob-token",
        fake_kratos::session(
            BOB_SESSION,
            bob(),
            now,
            now + time::Duration::hours(1),
            "aal1",
            &["password"],
        ),
    );
    app.sign_in_browser("bob-token");
}

/// The query parameters of `url` (the last value of a repeated name).
pub fn query(url: &str) -> std::collections::HashMap<String, String> {
    Url::parse(url)
        .unwrap_or_else(|e| panic!("{url} is not a URL: {e}"))
        .query_pairs()
        .into_owned()
        .collect()
}

/// The claims of a JWT (its payload, not checked), or `None` if it is not a JWT.
pub fn jwt_claims(jwt: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The claims of the ID token in a token response.
pub fn id_token_claims(token_response: &serde_json::Value) -> serde_json::Value {
    let jwt = token_response["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no id_token in {token_response}"));
    jwt_claims(jwt).unwrap_or_else(|| panic!("the id_token is not a JWT: {jwt}"))
}

/// The strings of a JSON array; anything else fails the test.
pub fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("not a string: {v}"))
                .to_owned()
        })
        .collect()
}

/// URL-encodes a query value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The `value` of `<input type="hidden" name="NAME" value="…">` in a page.
pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in page:\n{html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end]
        .replace("&#43;", "+")
        .replace("&#61;", "=")
        .replace("&#47;", "/")
}

/// Asserts a 303 See Other to exactly `location`.
pub fn assert_redirect_to(response: &Response, location: &str) {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "expected a 303");
    assert_eq!(location_of(response), location);
}

/// Follows redirects from `url` with `browser` (which must not follow them itself) until one
/// leads to `stop_prefix` (returned) or a response is not a redirect (its URL and status are
/// returned as an error).
pub async fn follow_until(
    browser: &reqwest::Client,
    url: &str,
    stop_prefix: &str,
) -> Result<String, (String, u16)> {
    let mut url = url.to_owned();
    for _ in 0..20 {
        if url.starts_with(stop_prefix) {
            return Ok(url);
        }
        let response = browser.get(&url).send().await.unwrap();
        if !response.status().is_redirection() {
            return Err((url, response.status().as_u16()));
        }
        let next = location_of(&response);
        url = Url::parse(&url).unwrap().join(&next).unwrap().to_string();
    }
    panic!("more than 20 redirects");
}

pub fn location_of(response: &Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no Location header on {}", response.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Asserts the response is an HTML error page with this status and the request id shown.
pub async fn assert_error_page(response: Response, status: StatusCode, says: &str) -> String {
    assert_eq!(response.status(), status);
    let headers: HeaderMap = response.headers().clone();
    let request_id = headers
        .get("x-request-id")
        .expect("x-request-id header")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let body = response.text().await.unwrap();
    assert!(body.contains(says), "page does not say {says:?}:\n{body}");
    assert!(
        body.contains(&format!("Request ID: {request_id}")),
        "page does not show the request id {request_id}:\n{body}"
    );
    body
}

/// A URL on 127.0.0.1 where nothing listens.
pub fn closed_port_url() -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    Url::parse(&format!("http://127.0.0.1:{port}")).unwrap()
}

/// A URL whose server accepts connections and never answers (the listener must stay alive).
pub fn hanging_url() -> (Url, TcpListener) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    (url, listener)
}

/// The CSRF token of the form whose hidden `client_id` is `client_id` (connected apps).
pub fn revoke_token(html: &str, client_id: &str) -> String {
    let marker = format!("name=\"client_id\" value=\"{client_id}\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no revoke form for {client_id} in page:\n{html}"));
    hidden_field(&html[start..], "csrf_token")
}
