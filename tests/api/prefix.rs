//! Hera behind a reverse proxy that forwards `/auth/…` unchanged (`HERA_PUBLIC_URL` =
//! `http://127.0.0.1:PORT/auth`): every route answers under the prefix and nowhere else, and
//! every link, form, asset, redirect and `return_to` Hera builds stays under it. (The cookie's
//! name and path under a prefix are checked with the others in `login.rs`.)

use reqwest::StatusCode;
use serde_json::json;
use url::Url;

use crate::support::fake_hydra::{client, with};
use crate::support::forms::{attribute, tags};
use crate::support::{
    ada, id_token_claims, location_of, query, sign_in_ada, Page, TestApp, ADA, ADA_EMAIL,
    ADA_PASSWORD,
};

const PREFIX: &str = "/auth";

/// Hera under `/auth`, with Kratos's flows (their forms post to the fake Kratos) and Kratos
/// allowing only `return_to`s under Hera's public URL, as its `allowed_return_urls` would.
async fn spawn_under_prefix() -> TestApp {
    let app = TestApp::spawn_under(PREFIX, |settings| {
        settings.kratos_browser_url = settings.kratos_public_url.clone();
        settings.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    app.kratos.allow_return_urls(&[&app.url("/")]);
    app
}

/// Hera's origin, `http://127.0.0.1:PORT`, without the prefix.
fn origin(app: &TestApp) -> String {
    app.address.strip_suffix(PREFIX).unwrap().to_owned()
}

/// A browser without cookies or redirects, for probing URLs without touching the test's own.
fn probe() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Every URL on `page` (links, form actions, stylesheets, icons, scripts, images) that points
/// at Hera's origin, as written. Each must be under the prefix, whether written root-relative
/// or absolute; URLs elsewhere (Kratos's form actions, an application's https logo) are left
/// out.
fn own_urls(app: &TestApp, page: &Page) -> Vec<(String, String)> {
    let base = Url::parse(&page.url).unwrap();
    let hera = Url::parse(&origin(app)).unwrap();
    let mut own = Vec::new();
    for (open, name) in [
        ("<a ", "href"),
        ("<link ", "href"),
        ("<form ", "action"),
        ("<script ", "src"),
        ("<img ", "src"),
    ] {
        for tag in tags(&page.html, open) {
            let Some(value) = attribute(&tag, name) else {
                continue;
            };
            let resolved = base.join(&value).unwrap();
            if resolved.origin() != hera.origin() {
                continue;
            }
            assert!(
                value.starts_with(&format!("{PREFIX}/")) || value.starts_with(&app.url("/")),
                "{open}{name}=\"{value}\"> on {} is not under {PREFIX}",
                base.path()
            );
            own.push((tag.clone(), resolved.to_string()));
        }
    }
    own
}

/// Checks every URL of Hera's own on `page`: under the prefix it is served (no 404), without
/// the prefix it is not Hera's (404). Returns them.
async fn assert_own_urls_answer_only_under_the_prefix(app: &TestApp, page: &Page) -> Vec<String> {
    let own = own_urls(app, page);
    let probe = probe();
    for (tag, url) in &own {
        let response = probe.get(url).send().await.unwrap();
        assert_ne!(
            response.status(),
            StatusCode::NOT_FOUND,
            "{tag} on {}",
            page.url
        );
        if tag.starts_with("<link ") || tag.starts_with("<script ") || tag.starts_with("<img ") {
            assert_eq!(response.status(), StatusCode::OK, "{tag} on {}", page.url);
        }
        let bare = url.replacen(&app.address, &origin(app), 1);
        let response = probe.get(&bare).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{bare}");
    }
    own.into_iter().map(|(tag, _)| tag).collect()
}

/// Every URL the browser was sent to on Hera's origin is under the prefix.
#[track_caller]
fn assert_trail_stays_under_the_prefix(app: &TestApp, page: &Page) {
    for url in &page.trail {
        if url.starts_with(&origin(app)) {
            assert!(url.starts_with(&app.url("/")), "{url} in {:#?}", page.trail);
        }
    }
}

#[tokio::test]
async fn a_whole_sign_in_and_consent_under_a_prefix_stays_under_it_and_ends_with_a_code() {
    let app = spawn_under_prefix().await;
    app.kratos.add_user(ADA_EMAIL, ADA_PASSWORD, ada());
    app.public.register_client(with(
        client("photos"),
        json!({"client_name": "Photos", "client_secret": "photos-secret-value"}),
    ));
    let redirect_uri = "https://photos.example.com/callback";
    let start = app.public.authorize_url(&[
        ("client_id", "photos"),
        ("response_type", "code"),
        ("scope", "openid email"),
        ("state", "state-abcdefg"),
        ("redirect_uri", redirect_uri),
    ]);

    // Hydra → Hera's /auth/login → Kratos → Hera's sign-in page for Kratos's flow.
    let sign_in = app.navigate(&start).await;
    sign_in.assert_at("/auth/login");
    assert_trail_stays_under_the_prefix(&app, &sign_in);
    let kratos_start = sign_in
        .trail
        .iter()
        .find(|url| url.contains("/self-service/login/browser"))
        .unwrap_or_else(|| panic!("{:#?}", sign_in.trail));
    assert!(
        query(kratos_start)["return_to"].starts_with(&app.url("/login?login_challenge=")),
        "the return_to Hera gives Kratos: {kratos_start}"
    );
    let own = assert_own_urls_answer_only_under_the_prefix(&app, &sign_in).await;
    for expected in ["rel=\"stylesheet\"", "rel=\"icon\"", "/auth/recovery"] {
        assert!(
            own.iter().any(|tag| tag.contains(expected)),
            "{expected} among {own:#?}"
        );
    }

    // Kratos → Hera's /auth/login?login_challenge → Hydra → Hera's consent page.
    let consent = app
        .press(
            &sign_in,
            ("method", "password"),
            &[("identifier", ADA_EMAIL), ("password", ADA_PASSWORD)],
        )
        .await;
    consent.assert_at("/auth/consent");
    assert_trail_stays_under_the_prefix(&app, &consent);
    let own = assert_own_urls_answer_only_under_the_prefix(&app, &consent).await;
    assert!(
        own.iter()
            .any(|tag| tag.starts_with("<form ") && tag.contains("action=\"/auth/consent\"")),
        "{own:#?}"
    );

    // The consent form, posted where it says → Hydra → the application, with a code.
    let form = consent.form("action", "accept");
    let action = Url::parse(&consent.url)
        .unwrap()
        .join(&form.action)
        .unwrap();
    let field = |name: &str| form.input(name).unwrap().value.clone();
    let posted = app
        .browser
        .post(action)
        .form(&[
            ("consent_challenge", field("consent_challenge")),
            ("csrf_token", field("csrf_token")),
            ("grant_scope", "openid".to_owned()),
            ("grant_scope", "email".to_owned()),
            ("action", "accept".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    let landed = app
        .follow_until(&location_of(&posted), redirect_uri)
        .await
        .unwrap();
    let params = query(&landed);
    assert_eq!(params["state"], "state-abcdefg");
    let token = app
        .public
        .redeem(
            "photos",
            "photos-secret-value",
            &params["code"],
            redirect_uri,
        )
        .await;
    let claims = id_token_claims(&token);
    assert_eq!(claims["sub"], ADA);
    assert_eq!(claims["email"], ADA_EMAIL);
}

#[tokio::test]
async fn under_a_prefix_every_route_answers_there_and_nowhere_else() {
    let app = spawn_under_prefix().await;
    let probe = probe();
    let stylesheet = hera::server::assets::STYLESHEET_PATH;
    let status = |path: String| {
        let probe = probe.clone();
        async move { probe.get(&path).send().await.unwrap().status() }
    };
    for (path, under_the_prefix) in [
        ("/health/alive", StatusCode::OK),
        ("/health/ready", StatusCode::OK),
        (stylesheet, StatusCode::OK),
        ("/favicon.ico", StatusCode::OK),
        ("/", StatusCode::OK),
        ("/login", StatusCode::SEE_OTHER),
        ("/registration", StatusCode::SEE_OTHER),
        ("/sessions", StatusCode::SEE_OTHER),
        ("/consent", StatusCode::BAD_REQUEST),
        ("/error", StatusCode::BAD_REQUEST),
        ("/session/whoami", StatusCode::UNAUTHORIZED),
    ] {
        assert_eq!(
            status(app.url(path)).await,
            under_the_prefix,
            "{PREFIX}{path}"
        );
        assert_eq!(
            status(format!("{}{path}", origin(&app))).await,
            StatusCode::NOT_FOUND,
            "{path} without the prefix"
        );
    }
    let exchange = |url: String| {
        let probe = probe.clone();
        async move { probe.post(url).send().await.unwrap() }
    };
    let refused = exchange(app.url("/oauth2/token-exchange")).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let missing = exchange(format!("{}/oauth2/token-exchange", origin(&app))).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // Errors keep their role's form under the prefix: JSON for the session API, pages elsewhere.
    let json = probe.get(app.url("/session/nothing")).send().await.unwrap();
    assert_eq!(json.status(), StatusCode::NOT_FOUND);
    assert!(json.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    for path in [format!("{PREFIX}x/login"), format!("{PREFIX}/nothing")] {
        let page = probe
            .get(format!("{}{path}", origin(&app)))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{path}");
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&format!("href=\"{PREFIX}{stylesheet}\"")),
            "{path}: {html}"
        );
    }

    // Metrics name the routes as served, prefix included; paths outside it are unmatched.
    let metrics = probe
        .get(app.metrics_url.as_deref().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "hera_http_requests_total{route=\"/auth/login\",method=\"GET\",status=\"303\"}",
        "hera_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }

    // The prefix itself leads to the home page, whose links stay under it.
    let bare = probe.get(&app.address).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::SEE_OTHER);
    assert_eq!(location_of(&bare), app.url("/"));
    let home = app.navigate("/").await;
    home.assert_at("/auth/");
    let own = assert_own_urls_answer_only_under_the_prefix(&app, &home).await;
    for expected in ["/auth/login", "/auth/registration"] {
        assert!(
            own.iter().any(|tag| tag.contains(expected)),
            "{expected} among {own:#?}"
        );
    }

    // Signed in, the account's pages keep their links and forms under it too.
    sign_in_ada(&app, time::Duration::ZERO);
    for path in ["/", "/sessions", "/connected-apps", "/settings"] {
        let page = app.navigate(path).await;
        page.assert_at(&format!("{PREFIX}{path}"));
        assert_trail_stays_under_the_prefix(&app, &page);
        let own = assert_own_urls_answer_only_under_the_prefix(&app, &page).await;
        assert!(own.len() >= 3, "{path}: {own:#?}");
    }
}
