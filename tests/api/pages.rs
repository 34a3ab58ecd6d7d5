//! `/error`, health probes, the 404 page, the stylesheet, and the headers on every page.

use hera::server::assets::STYLESHEET_PATH;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::fake_hydra::LoginSpec;
use crate::support::{
    assert_error_page, closed_port_url, hanging_url, sign_in_ada_as, TestApp, ADA_TOKEN,
};

const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
    ("cross-origin-opener-policy", "same-origin"),
];

#[tokio::test]
async fn every_html_response_carries_the_strict_headers() {
    let app = TestApp::spawn().await;
    let subject = "c0c0c0c0-0000-4000-8000-000000000001";
    app.kratos
        .add_identity(crate::support::fake_kratos::identity(
            subject,
            "x@example.com",
            "X",
            "Y",
        ));
    let consent = app
        .hydra
        .add_consent(crate::support::fake_hydra::ConsentSpec {
            subject: subject.into(),
            ..Default::default()
        });
    let login = app.hydra.add_login(LoginSpec::default());
    for path in [
        "/error?error=access_denied".to_owned(),
        "/nowhere".to_owned(),
        "/login".to_owned(),
        format!("/login?login_challenge={login}"),
        format!("/consent?consent_challenge={consent}"),
    ] {
        let response = app.get(&path).await;
        let headers = response.headers();
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(
                headers.get(name).map(|v| v.to_str().unwrap()),
                Some(value),
                "{name} on {path}"
            );
        }
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(
            !csp.contains("script-src"),
            "no script is ever allowed: {csp}"
        );
        assert!(
            !csp.contains("form-action"),
            "form-action breaks the OAuth redirect chain: {csp}"
        );
        assert!(headers.contains_key("x-request-id"), "{path}");
    }
}

#[tokio::test]
async fn pages_load_nothing_but_heras_own_stylesheet() {
    let app = TestApp::spawn().await;
    let html = app
        .get("/error?error=server_error")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("href=\"{STYLESHEET_PATH}\"")));
    assert!(!html.contains("<script"), "{html}");
    assert!(
        !html.contains("style=\""),
        "inline styles break the CSP: {html}"
    );
    let css = app.get(STYLESHEET_PATH).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert!(!css.text().await.unwrap().contains("@import"));
}

#[tokio::test]
async fn the_hydra_error_page_explains_known_codes_in_plain_words() {
    let app = TestApp::spawn().await;
    let body = assert_error_page(
        app.get(
            "/error?error=access_denied&error_description=The+resource+owner+denied+the+request",
        )
        .await,
        StatusCode::BAD_REQUEST,
        "Access was denied",
    )
    .await;
    assert!(body.contains("access_denied"), "the known code is shown");
    assert!(
        !body.contains("resource owner"),
        "upstream description is not shown"
    );
}

#[tokio::test]
async fn the_hydra_error_page_never_shows_attacker_text() {
    let app = TestApp::spawn().await;
    let body = assert_error_page(
        app.get("/error?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&error_description=Call+0800+now")
            .await,
        StatusCode::BAD_REQUEST,
        "Sign-in could not be completed",
    )
    .await;
    assert!(!body.contains("alert(1)"), "{body}");
    assert!(!body.contains("0800"), "{body}");
    let bare = app.get("/error").await;
    assert_eq!(bare.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_paths_get_a_friendly_404_with_a_request_id() {
    let app = TestApp::spawn().await;
    assert_error_page(
        app.get("/admin").await,
        StatusCode::NOT_FOUND,
        "Page not found",
    )
    .await;
}

#[tokio::test]
async fn alive_is_200_while_serving() {
    let app = TestApp::spawn().await;
    let response = app.get("/health/alive").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "ok");
}

#[tokio::test]
async fn ready_is_200_only_when_hydra_and_kratos_are_ready() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/health/ready").await.status(), StatusCode::OK);

    app.kratos.set_not_ready(true);
    let response = app.get("/health/ready").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["failed"], json!(["kratos_public"]), "{body}");

    app.kratos.set_not_ready(false);
    app.hydra.set_not_ready(true);
    let body: Value = app.get("/health/ready").await.json().await.unwrap();
    assert_eq!(body["failed"], json!(["hydra_admin"]), "{body}");
}

#[tokio::test]
async fn ready_names_an_unreachable_dependency_and_answers_within_a_second() {
    let (hanging, _listener) = hanging_url();
    let app = TestApp::spawn_with(|s| {
        s.hydra_admin_url = closed_port_url();
        s.kratos_public_url = hanging;
    })
    .await;
    let started = std::time::Instant::now();
    let response = app.get("/health/ready").await;
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    // The public answer names what failed, not why: no addresses, no error text.
    assert_eq!(
        body,
        json!({"status": "unavailable", "failed": ["hydra_admin", "kratos_public"]})
    );
    assert!(
        !text.contains("reached") && !text.contains("127.0.0.1"),
        "{text}"
    );
    // Why goes to the log.
    let logged: Vec<Value> = crate::support::logs::lines_with("not ready")
        .into_iter()
        .filter(|line| line["span"]["request_id"] == request_id.as_str())
        .collect();
    assert!(
        logged.iter().any(|line| line["dependency"] == "hydra_admin"
            && line["reason"]
                .as_str()
                .unwrap()
                .contains("could not be reached")),
        "{logged:?}"
    );
    assert!(logged
        .iter()
        .any(|line| line["dependency"] == "kratos_public"));
}

#[tokio::test]
async fn the_logout_device_connected_apps_and_home_pages_keep_every_page_rule() {
    use crate::support::fake_hydra::{client, ConsentSessionSpec, LogoutSpec};
    use crate::support::fake_kratos::{identity, session};

    let app = TestApp::spawn().await;
    let subject = "c0c0c0c0-0000-4000-8000-000000000002";
    let now = time::OffsetDateTime::now_utc();
    app.kratos.add_session(
        "page-rules-token",
        session(
            "5e550000-0000-4000-8000-000000000002",
            identity(subject, "x@example.com", "X", "Y"),
            now,
            now + time::Duration::hours(1),
            "aal1",
            &["password"],
        ),
    );
    let signed_out = TestApp::spawn().await;
    app.sign_in_browser("page-rules-token");
    app.hydra.add_consent_session(ConsentSessionSpec {
        subject: subject.into(),
        client: client("photos"),
        ..ConsentSessionSpec::default()
    });
    let logout = app.hydra.add_logout(LogoutSpec::default());
    let device = app.hydra.add_device_challenge();

    let pages = [
        (&app, "/".to_owned()),
        (&signed_out, "/".to_owned()),
        (&app, "/connected-apps".to_owned()),
        (&app, format!("/logout?logout_challenge={logout}")),
        (&app, format!("/device/verify?device_challenge={device}")),
        (&app, "/device/success?client_id=photos".to_owned()),
        (&app, "/device/success".to_owned()),
    ];
    for (app, path) in pages {
        let response = app.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(
                headers.get(name).map(|v| v.to_str().unwrap()),
                Some(value),
                "{name} on {path}"
            );
        }
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("script-src"),
            "{csp}"
        );
        assert!(headers.contains_key("x-request-id"), "{path}");
        let html = response.text().await.unwrap();
        assert!(
            html.starts_with("<!doctype html>\n<html lang=\"en\">"),
            "{path}"
        );
        assert!(!html.contains("<script"), "{path}");
        assert!(
            !html.contains("style=\""),
            "{path}: inline styles break the CSP"
        );
        assert_eq!(
            html.matches("<link rel=\"stylesheet\"").count(),
            1,
            "{path}"
        );
        assert_eq!(
            html.matches("<link ").count(),
            2,
            "{path}: the stylesheet and the tab icon, both Hera's own"
        );
        assert!(html.contains("<link rel=\"icon\" href=\"/brand/"), "{path}");
        assert!(html.contains(&format!(
            "<link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">"
        )));
        assert!(html.contains("<link rel=\"icon\" href=\"/brand/"), "{path}");
        assert_eq!(
            html.matches("<form ").count(),
            html.matches("<form method=\"post\"").count(),
            "{path}: every form posts"
        );
        for form in html.split("<form ").skip(1) {
            assert!(
                form.contains("name=\"csrf_token\""),
                "{path}: a form without CSRF"
            );
        }
    }
}

#[tokio::test]
async fn server_timing_is_off_by_default_and_splits_upstream_from_heras_own_time() {
    use time::Duration;
    let quiet = TestApp::spawn().await;
    assert!(quiet
        .get("/health/alive")
        .await
        .headers()
        .get("server-timing")
        .is_none());

    let app = TestApp::spawn_with(|s| s.server_timing = true).await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    app.hydra.set_latency(std::time::Duration::from_millis(40));
    app.kratos.set_latency(std::time::Duration::from_millis(40));
    let challenge = app.hydra.add_login(LoginSpec::default());

    let response = app.get_login(&challenge).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let timing = response.headers()["server-timing"]
        .to_str()
        .unwrap()
        .to_owned();
    let duration = |name: &str| -> f64 {
        let part = timing
            .split(',')
            .map(str::trim)
            .find(|p| p.starts_with(name))
            .unwrap();
        part.split("dur=").nth(1).unwrap().parse().unwrap()
    };
    // Three calls in a row (login request, whoami, accept), each at least 40 ms.
    assert!(duration("upstream") >= 120.0, "{timing}");
    assert!(duration("hera") < 40.0, "{timing}");
}
