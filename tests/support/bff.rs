//! `TestBff`: `hera bff` instances on free ports, signing in through Hydra's public fake and
//! Hera's own login and consent pages, in front of a fake upstream API.
//!
//! The browser is `TestApp`'s (no automatic redirects, one cookie jar). Cookies ignore ports,
//! so every instance on 127.0.0.1 gets the same session cookie, as instances behind one load
//! balancer would; the first instance's address is the app's origin.

#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::Mutex;

use hera::bff::config::{BffSettings, StoreSettings};
use hera::bff::Bff;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};
use url::Url;

use super::fake_api::FakeApi;
use super::fake_hydra::{client, lock, with};
use super::{ada, ada_session, TestApp, ADA_TOKEN, UPSTREAM_TIMEOUT};

pub const CLIENT_ID: &str = "spa-bff";
pub const CLIENT_SECRET: &str = "spa-bff-secret-0123456789";

/// An answer the browser received, body read.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location on a {}", self.status))
    }
}

/// Its fakes are the `TestApp`'s: dropping a `TestBff` drops the app, which fails the test on
/// any contract violation they saw (the upstream API fake has no contract to break).
pub struct TestBff {
    pub app: TestApp,
    pub api: FakeApi,
    /// Base URL of each instance.
    pub instances: Vec<String>,
    /// The app's origin (the first instance).
    pub origin: String,
    /// The first instance's state (its session store).
    pub state: actix_web::web::Data<hera::bff::BffState>,
    /// Every answer the browser got from a BFF, headers and body, for the no-token check.
    seen: Mutex<Vec<String>>,
    /// Each instance's `/metrics` URL, when the test set `metrics_bind`.
    pub metrics_urls: Vec<Option<String>>,
}

impl TestBff {
    /// One instance with the in-memory store.
    pub async fn start() -> TestBff {
        TestBff::start_with(1, StoreSettings::Memory, |_| {}).await
    }

    /// `instances` BFFs sharing `store`, after `customise` adjusted their settings.
    pub async fn start_with(
        instances: usize,
        store: StoreSettings,
        customise: impl Fn(&mut BffSettings),
    ) -> TestBff {
        let app = TestApp::spawn().await;
        sign_in_ada_at_kratos(&app);
        let api = FakeApi::start(Some(app.public.token_check())).await;
        let listeners: Vec<TcpListener> = (0..instances)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let addresses: Vec<String> = listeners
            .iter()
            .map(|l| format!("http://127.0.0.1:{}", l.local_addr().unwrap().port()))
            .collect();
        let origin = addresses[0].clone();
        app.public.register_client(with(
            client(CLIENT_ID),
            json!({
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [format!("{origin}/api/callback")],
                "post_logout_redirect_uris": [format!("{origin}/")],
                "metadata": {"first_party": true},
            }),
        ));
        let mut states = Vec::new();
        let mut metrics_urls = Vec::new();
        for listener in listeners {
            let mut settings = BffSettings::parse_from([
                "hera bff",
                "--client-id",
                CLIENT_ID,
                "--client-secret",
                CLIENT_SECRET,
                "--public-origin",
                &origin,
                "--hydra-public-url",
                &app.public.url,
                "--upstreams",
                &format!("orders={}/v1,files={}", api.url, api.url),
            ])
            .unwrap();
            settings.bind = listener.local_addr().unwrap();
            settings.store = store.clone();
            if matches!(store, StoreSettings::Redis(_)) {
                // Instances sharing Redis share the key that seals sign-ins in progress.
                settings.cookie_secret = Some(
                    hera::secrets::CookieSecret::new(&"shared-bff-cookie-secret-".repeat(3))
                        .unwrap(),
                );
            }
            settings.hydra_timeout = UPSTREAM_TIMEOUT;
            customise(&mut settings);
            let bff = Bff::build(settings, listener).await.unwrap();
            states.push(bff.state());
            metrics_urls.push(
                bff.metrics_port()
                    .map(|port| format!("http://127.0.0.1:{port}/metrics")),
            );
            tokio::spawn(bff.run_until_stopped());
        }
        TestBff {
            app,
            api,
            instances: addresses,
            origin,
            state: states.swap_remove(0),
            seen: Mutex::new(Vec::new()),
            metrics_urls,
        }
    }

    /// Instance `i`'s URL for `path`.
    pub fn url(&self, i: usize, path: &str) -> String {
        format!("{}{path}", self.instances[i])
    }

    /// Sends a browser request and reads the answer (remembered for the no-token check).
    pub async fn send(&self, request: RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        lock(&self.seen).push(format!("{headers:?}\n{body}"));
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, i: usize, path: &str) -> Answer {
        self.send(self.app.browser.get(self.url(i, path))).await
    }

    /// A request as the SPA's `fetch` sends it: its origin and the CSRF header.
    pub fn app_request(&self, i: usize, method: Method, path: &str) -> RequestBuilder {
        self.app
            .browser
            .request(method, self.url(i, path))
            .header("Origin", &self.origin)
            .header("X-Requested-With", "XMLHttpRequest")
    }

    pub async fn whoami(&self, i: usize) -> Answer {
        self.send(self.app_request(i, Method::GET, "/api/whoami"))
            .await
    }

    pub async fn proxy(&self, i: usize, method: Method, path: &str) -> Answer {
        self.send(self.app_request(i, method, &format!("/api/proxy/{path}")))
            .await
    }

    pub async fn logout(&self, i: usize) -> Answer {
        self.send(self.app_request(i, Method::POST, "/api/logout"))
            .await
    }

    /// `/api/login?return_to=…` on instance 0, up to the URL of the callback Hydra sends back.
    pub async fn callback_url(&self, return_to: &str) -> String {
        let start = self
            .get(
                0,
                &format!("/api/login?return_to={}", super::encode(return_to)),
            )
            .await;
        assert_eq!(start.status, 303, "{}", start.body);
        let callback = format!("{}/api/callback", self.origin);
        self.app
            .follow_until(start.location(), &callback)
            .await
            .unwrap_or_else(|(url, status)| panic!("the sign-in stopped at {url} ({status})"))
    }

    /// A whole sign-in; returns the callback's answer.
    pub async fn sign_in(&self) -> Answer {
        let callback = self.callback_url("/orders").await;
        self.send(self.app.browser.get(callback)).await
    }

    /// Signs in and checks it worked.
    pub async fn signed_in(&self) {
        let answer = self.sign_in().await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        assert_eq!(answer.location(), "/orders");
    }

    /// The session cookie the browser holds.
    pub fn session_cookie(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = Url::parse(&self.origin).unwrap();
        let header = self.app.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|pair| pair.strip_prefix("hera_bff="))
            .map(str::to_owned)
    }

    /// Every access and refresh token Hydra issued.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.app
            .public
            .tokens()
            .iter()
            .flat_map(|(body, _)| {
                ["access_token", "refresh_token"]
                    .into_iter()
                    .filter_map(|name| body[name].as_str().map(str::to_owned))
            })
            .collect()
    }

    /// Every ID token Hydra issued.
    pub fn issued_id_tokens(&self) -> Vec<String> {
        self.app
            .public
            .tokens()
            .iter()
            .filter_map(|(body, _)| body["id_token"].as_str().map(str::to_owned))
            .collect()
    }

    /// No access or refresh token was ever in an answer the browser got from a BFF, and no
    /// ID token outside the sign-out URL's `id_token_hint`.
    pub fn assert_browser_never_saw_a_token(&self) {
        let seen = lock(&self.seen).join("\n");
        let tokens = self.issued_tokens();
        assert!(!tokens.is_empty(), "no token was issued at all");
        for token in tokens {
            assert!(!seen.contains(&token), "the browser received a token");
        }
        for id_token in self.issued_id_tokens() {
            let hint = format!("id_token_hint={id_token}");
            let outside_hint = seen.replace(&hint, "");
            assert!(
                !outside_hint.contains(&id_token),
                "the browser received an ID token outside the sign-out URL"
            );
        }
    }

    /// The requests the fake API got.
    pub fn api_calls(&self) -> Vec<super::fake_api::ApiRequest> {
        self.api.requests()
    }
}

/// A Kratos session for Ada (two hours left), and its cookie in the browser, so Hera's login
/// accepts her.
fn sign_in_ada_at_kratos(app: &TestApp) {
    let now = OffsetDateTime::now_utc();
    app.kratos.add_identity(ada());
    app.kratos
        .add_session(ADA_TOKEN, ada_session(now, now + Duration::hours(2)));
    app.sign_in_browser(ADA_TOKEN);
}
