//! Kratos's browser flows through Hera's pages: `/login` (without a challenge),
//! `/registration`, `/recovery`, `/verification` and `/settings`, against the fake Kratos's
//! self-service API. A test opens a page as a browser does, fills a form Hera rendered, posts it
//! to Kratos (the form's action) and follows Kratos's redirects back to Hera.

use reqwest::StatusCode;
use serde_json::json;
use time::Duration;

use crate::support::fake_hydra::{client, with, LoginSpec};
use crate::support::forms::{attribute, has_attribute, visible_input};
use crate::support::{
    encode, location_of, query, sign_in_ada, TestApp, ADA, ADA_EMAIL, ADA_PASSWORD,
};

// --- starting flows ------------------------------------------------------------------------

#[tokio::test]
async fn a_sign_in_without_a_flow_starts_kratoss_flow_keeping_return_to_refresh_and_aal() {
    let app = TestApp::spawn_for_flows().await;
    let response = app
        .get("/login?return_to=/connected-apps&refresh=true&aal=aal2")
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = location_of(&response);
    assert!(
        location.starts_with(&format!(
            "{}/self-service/login/browser?",
            app.kratos.public_url
        )),
        "{location}"
    );
    let params = query(&location);
    assert_eq!(params["return_to"], app.url("/connected-apps"));
    assert_eq!(params["refresh"], "true");
    assert_eq!(params["aal"], "aal2");

    // A return address that is not an http(s) URL or one of Hera's paths is not passed on.
    for bad in [
        "//evil.example/",
        "javascript:alert(1)",
        "/\\evil.example",
        "https://a@evil.example/",
    ] {
        let response = app.get(&format!("/login?return_to={}", encode(bad))).await;
        let location = location_of(&response);
        assert!(
            !query(&location).contains_key("return_to"),
            "{bad}: {location}"
        );
    }
    assert!(app.hydra_calls().is_empty());
}

#[tokio::test]
async fn each_self_service_page_without_a_flow_starts_one_at_kratos() {
    let app = TestApp::spawn_for_flows().await;
    for kind in ["registration", "recovery", "verification"] {
        let response = app
            .get(&format!(
                "/{kind}?return_to={}",
                encode("https://app.example/after")
            ))
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{kind}");
        let location = location_of(&response);
        assert!(
            location.starts_with(&format!(
                "{}/self-service/{kind}/browser",
                app.kratos.public_url
            )),
            "{location}"
        );
        assert_eq!(query(&location)["return_to"], "https://app.example/after");
        // refresh and aal belong to sign-in only.
        let response = app.get(&format!("/{kind}?refresh=true&aal=aal2")).await;
        assert_eq!(
            location_of(&response),
            format!("{}/self-service/{kind}/browser", app.kratos.public_url)
        );
    }
}

#[tokio::test]
async fn settings_without_a_session_sign_in_first_and_come_back() {
    let app = TestApp::spawn_for_flows().await;
    let response = app.get("/settings").await;
    let location = location_of(&response);
    assert!(location.starts_with(&format!(
        "{}/self-service/login/browser?",
        app.kratos.public_url
    )));
    assert_eq!(query(&location)["return_to"], app.url("/settings"));

    sign_in_ada(&app, Duration::ZERO);
    let response = app.get("/settings").await;
    assert_eq!(
        location_of(&response),
        format!("{}/self-service/settings/browser", app.kratos.public_url)
    );

    app.kratos.require_aal2(crate::support::ADA_TOKEN);
    let location = location_of(&app.get("/settings").await);
    let params = query(&location);
    assert_eq!(params["aal"], "aal2");
    assert_eq!(params["return_to"], app.url("/settings"));
}

// --- signing in ----------------------------------------------------------------------------

#[tokio::test]
async fn the_sign_in_page_is_rendered_from_the_flow_for_people_and_password_managers() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let page = app.navigate("/login").await;
    page.assert_at("/login");
    let flow = query(&page.url)["flow"].clone();
    assert!(page.text().contains("Sign in"), "{}", page.text());

    let form = page.form("method", "password");
    assert_eq!(
        form.action,
        format!("{}/self-service/login?flow={flow}", app.kratos.public_url)
    );
    assert_eq!(form.method, "post");
    assert_eq!(
        form.input("csrf_token").unwrap().value,
        app.kratos.flow_csrf_token(&flow).unwrap()
    );
    let identifier = visible_input(&page.html, "identifier");
    assert_eq!(
        attribute(&identifier, "autocomplete").as_deref(),
        Some("username")
    );
    assert!(has_attribute(&identifier, "required"), "{identifier}");
    assert!(
        has_attribute(&identifier, "autofocus"),
        "the first empty field: {identifier}"
    );
    let id = attribute(&identifier, "id").unwrap();
    assert!(
        page.html
            .contains(&format!("<label for=\"{id}\">Email</label>")),
        "{}",
        page.html
    );
    let password = visible_input(&page.html, "password");
    assert_eq!(
        attribute(&password, "autocomplete").as_deref(),
        Some("current-password")
    );
    assert_eq!(attribute(&password, "type").as_deref(), Some("password"));
    // Links to the neighbouring pages.
    assert!(page.html.contains("href=\"/recovery\""), "{}", page.html);
    assert!(
        page.html.contains("href=\"/registration\""),
        "{}",
        page.html
    );
    // The same headers as every page: no script, no-store, no framing.
    let csp = page.header("content-security-policy");
    assert!(
        !csp.contains("script-src") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(page.header("cache-control"), "no-store");
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    assert!(!page.html.contains("<script"), "{}", page.html);
}

#[tokio::test]
async fn a_wrong_password_shows_the_message_on_top_keeping_the_identifier_but_never_the_password() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let page = app.navigate("/login").await;
    let page = app
        .press(
            &page,
            ("method", "password"),
            &[("identifier", ADA_EMAIL), ("password", "not the password")],
        )
        .await;
    page.assert_at("/login");
    assert!(
        page.text()
            .contains("The email address or password is not right."),
        "{}",
        page.text()
    );
    assert!(page.html.contains("role=\"alert\""), "{}", page.html);
    let identifier = visible_input(&page.html, "identifier");
    assert_eq!(attribute(&identifier, "value").as_deref(), Some(ADA_EMAIL));
    let password = visible_input(&page.html, "password");
    assert_eq!(attribute(&password, "value"), None, "{password}");
    assert!(!page.html.contains("not the password"));
    // The focus goes to the first empty field: the password.
    assert!(has_attribute(&password, "autofocus"), "{password}");
}

#[tokio::test]
async fn the_right_password_signs_in_and_goes_to_return_to() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let page = app.navigate("/login?return_to=/sessions").await;
    let page = app
        .press(
            &page,
            ("method", "password"),
            &[("identifier", ADA_EMAIL), ("password", ADA_PASSWORD)],
        )
        .await;
    page.assert_at("/sessions");
    assert!(
        page.text().contains("Signed in as ada@example.com"),
        "{}",
        page.text()
    );
    assert_eq!(app.kratos.session_ids().len(), 1);
}

#[tokio::test]
async fn a_sign_in_for_an_application_names_it_and_then_hydra_gets_the_login() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let challenge = app.hydra.add_login(LoginSpec {
        client: with(
            client("notes"),
            json!({"client_name": "Acme Notes", "logo_uri": "https://notes.example/logo.png"}),
        ),
        oidc_context: json!({"acr_values": [], "ui_locales": ["de"], "id_token_hint_claims": {}}),
        ..LoginSpec::default()
    });
    let page = app
        .navigate(&format!("/login?login_challenge={}", encode(&challenge)))
        .await;
    page.assert_at("/login");
    assert!(
        page.html.contains("<html lang=\"de\">"),
        "the application's ui_locales win"
    );
    assert!(
        page.text()
            .contains("Melden Sie sich an, um mit Acme Notes fortzufahren"),
        "{}",
        page.text()
    );
    assert!(page.html.contains("src=\"https://notes.example/logo.png\""));

    let page = app
        .press(
            &page,
            ("method", "password"),
            &[("identifier", ADA_EMAIL), ("password", ADA_PASSWORD)],
        )
        .await;
    // Kratos sends the browser back to /login?login_challenge=…, and Hera accepts for Ada.
    let logins = app.hydra.accepted_logins();
    assert_eq!(logins.len(), 1, "{:#?}", page.trail);
    assert_eq!(logins[0]["subject"], ADA);
}

#[tokio::test]
async fn an_application_logo_that_is_not_https_is_left_out() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let challenge = app.hydra.add_login(LoginSpec {
        client: with(
            client("notes"),
            json!({"client_name": "Acme Notes", "logo_uri": "http://notes.example/logo.png"}),
        ),
        ..LoginSpec::default()
    });
    let page = app
        .navigate(&format!("/login?login_challenge={}", encode(&challenge)))
        .await;
    assert!(
        page.text().contains("Sign in to continue to Acme Notes"),
        "{}",
        page.text()
    );
    assert!(
        !page.html.contains("notes.example/logo.png"),
        "{}",
        page.html
    );
}

#[tokio::test]
async fn every_flow_page_carries_the_strict_headers_and_stays_within_the_page_budget() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let stylesheet = app
        .get(hera::server::assets::STYLESHEET_PATH)
        .await
        .bytes()
        .await
        .unwrap()
        .len();
    let mut pages = vec![
        app.navigate("/login").await,
        app.navigate("/registration").await,
        app.navigate("/recovery").await,
        app.navigate("/verification").await,
    ];
    crate::support::sign_in_ada(&app, Duration::ZERO);
    pages.push(app.navigate("/settings").await);
    pages.push(app.navigate("/sessions").await);
    for page in pages {
        assert_eq!(page.status, StatusCode::OK, "{}", page.url);
        for (name, value) in [
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
            ("x-content-type-options", "nosniff"),
            ("cache-control", "no-store"),
            ("cross-origin-opener-policy", "same-origin"),
        ] {
            assert_eq!(page.header(name), value, "{name} on {}", page.url);
        }
        let csp = page.header("content-security-policy");
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("form-action"),
            "{csp}"
        );
        assert!(!page.header("x-request-id").is_empty());
        assert!(
            !page.html.contains(" style=\""),
            "no inline style: {}",
            page.url
        );
        assert!(
            page.html.len() + stylesheet < 30 * 1024,
            "{}: {} B of HTML + {stylesheet} B of CSS",
            page.url,
            page.html.len()
        );
    }
}
