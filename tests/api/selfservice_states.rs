//! What Hera does when Kratos gives no flow (unknown, expired, CSRF-failed, replaced; a session
//! that is missing, too weak or already there; a location change), Kratos's error page
//! (`/error?id=`), flows Hera refuses to render, Kratos failing, and what never leaks: Hera's
//! cookie to Kratos, secrets to the log, Kratos's reasons to the page.

use reqwest::StatusCode;
use serde_json::json;
use time::Duration;

use crate::support::fake_hydra::Fault;
use crate::support::recording::Recording;
use crate::support::{
    assert_error_page, assert_redirect_to, encode, location_of, query, sign_in_ada, TestApp,
    ADA_EMAIL, ADA_PASSWORD,
};

const UNKNOWN_FLOW: &str = "d1d2d3d4-0000-4000-8000-000000000000";

fn kratos_init(app: &TestApp, kind: &str) -> String {
    format!("{}/self-service/{kind}/browser", app.kratos.public_url)
}

// --- flows Kratos does not have --------------------------------------------------------------

#[tokio::test]
async fn an_unknown_flow_is_started_anew_with_the_pages_return_to_and_a_second_failure_explains() {
    let app = TestApp::spawn_for_flows().await;
    let response = app
        .get(&format!("/login?flow={UNKNOWN_FLOW}&return_to=/sessions"))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = location_of(&response);
    assert!(
        location.starts_with(&kratos_init(&app, "login")),
        "{location}"
    );
    assert_eq!(query(&location)["return_to"], app.url("/sessions"));

    // The new flow fails the same way moments later: an explanation, not a loop.
    let body = assert_error_page(
        app.get(&format!("/login?flow={UNKNOWN_FLOW}")).await,
        StatusCode::GONE,
        "This page has expired",
    )
    .await;
    assert!(body.contains("href=\"/login\""), "start again: {body}");
    // Afterwards, a flow that works resets it.
    let page = app.navigate("/login").await;
    page.assert_at("/login");
    assert_eq!(
        app.get(&format!("/login?flow={UNKNOWN_FLOW}"))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_malformed_flow_id_is_treated_as_unknown_without_asking_kratos() {
    let app = TestApp::spawn_for_flows().await;
    let response = app.get("/registration?flow=..%2Fadmin").await;
    assert_redirect_to(&response, &kratos_init(&app, "registration"));
    assert!(app
        .kratos
        .requests()
        .iter()
        .all(|r| !r.path.contains("/flows")));
}

#[tokio::test]
async fn an_expired_flow_is_started_anew_with_its_own_return_to() {
    let app = TestApp::spawn_for_flows().await;
    let page = app
        .navigate(&format!(
            "/registration?return_to={}",
            encode("https://app.example/welcome")
        ))
        .await;
    let flow = query(&page.url)["flow"].clone();
    app.kratos.expire_flow(&flow);
    let response = app.get(&format!("/registration?flow={flow}")).await;
    let location = location_of(&response);
    assert!(
        location.starts_with(&kratos_init(&app, "registration")),
        "{location}"
    );
    assert_eq!(query(&location)["return_to"], "https://app.example/welcome");
    // Through Kratos, the browser ends on a new flow.
    let page = app.navigate(&location).await;
    page.assert_at("/registration");
    assert_ne!(query(&page.url)["flow"], flow);
}

#[tokio::test]
async fn an_expired_form_posted_to_kratos_comes_back_on_a_new_flow_saying_so() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let page = app.navigate("/login").await;
    let flow = query(&page.url)["flow"].clone();
    app.kratos.expire_flow(&flow);
    let page = app
        .press(
            &page,
            ("method", "password"),
            &[("identifier", ADA_EMAIL), ("password", ADA_PASSWORD)],
        )
        .await;
    page.assert_at("/login");
    assert_ne!(query(&page.url)["flow"], flow);
    assert!(
        page.text()
            .contains("The sign-in page expired. Please try again."),
        "{}",
        page.text()
    );
}

#[tokio::test]
async fn a_flow_of_another_browser_fails_kratoss_csrf_check_and_is_started_anew() {
    let app = TestApp::spawn_for_flows().await;
    // This browser has Kratos's CSRF cookie (from a flow of its own) …
    app.navigate("/login").await;
    // … but opens a flow another browser started.
    let (flow, _) = app.kratos.start_flow("login", Some(&app.url("/sessions")));
    let response = app
        .get(&format!("/login?flow={flow}&return_to=/sessions"))
        .await;
    let location = location_of(&response);
    assert!(
        location.starts_with(&kratos_init(&app, "login")),
        "{location}"
    );
    assert_eq!(query(&location)["return_to"], app.url("/sessions"));
    assert_error_page(
        app.get(&format!("/login?flow={flow}")).await,
        StatusCode::FORBIDDEN,
        "This form has expired",
    )
    .await;
}

#[tokio::test]
async fn a_csrf_failure_without_kratoss_cookie_explains_cookies_at_once() {
    let app = TestApp::spawn_for_flows().await;
    let (flow, _) = app.kratos.start_flow("login", None);
    let body = assert_error_page(
        app.get(&format!("/login?flow={flow}")).await,
        StatusCode::FORBIDDEN,
        "Cookies are needed",
    )
    .await;
    assert!(body.contains("Allow cookies for this site"), "{body}");
}

#[tokio::test]
async fn a_replaced_flow_is_followed_to_its_replacement() {
    let app = TestApp::spawn_for_flows().await;
    let body = Recording::load("kratos-short-login-browser-submit-expired-json-410").response_body;
    let replacement = body["use_flow_id"].as_str().unwrap().to_owned();
    app.kratos
        .answer_on("GET", "/self-service/login/flows", 410, body);
    assert_redirect_to(
        &app.get(&format!("/login?flow={UNKNOWN_FLOW}")).await,
        &app.url(&format!("/login?flow={replacement}")),
    );
}

// --- sessions Kratos asks for -----------------------------------------------------------------

#[tokio::test]
async fn a_location_change_kratos_asks_for_is_followed() {
    let app = TestApp::spawn_for_flows().await;
    let to = format!(
        "{}/self-service/settings?flow={UNKNOWN_FLOW}",
        app.kratos.public_url
    );
    app.kratos.answer_on(
        "GET",
        "/self-service/login/flows",
        422,
        json!({"error": {"id": "browser_location_change_required", "code": 422, "status": "Unprocessable Entity",
                         "reason": format!("In order to complete this flow please redirect the browser to: {to}"),
                         "message": "browser location change required"},
               "redirect_browser_to": to}),
    );
    assert_redirect_to(&app.get(&format!("/login?flow={UNKNOWN_FLOW}")).await, &to);
}

#[tokio::test]
async fn an_already_signed_in_browser_goes_to_return_to_or_home() {
    let app = TestApp::spawn_for_flows().await;
    let body =
        Recording::load("kratos-login-browser-init-already-signed-in-json-400").response_body;
    app.kratos
        .answer_on("GET", "/self-service/login/flows", 400, body);
    assert_redirect_to(
        &app.get(&format!("/login?flow={UNKNOWN_FLOW}&return_to=/sessions"))
            .await,
        &app.url("/sessions"),
    );
    assert_redirect_to(
        &app.get(&format!("/login?flow={UNKNOWN_FLOW}")).await,
        &app.url("/"),
    );
}

#[tokio::test]
async fn a_refresh_kratos_asks_for_signs_in_again_and_comes_back_to_the_flow() {
    let app = TestApp::spawn_for_flows().await;
    let body =
        Recording::load("kratos-short-settings-browser-submit-password-needs-reauth-json-403")
            .response_body;
    app.kratos
        .answer_on("GET", "/self-service/settings/flows", 403, body);
    let location = location_of(&app.get(&format!("/settings?flow={UNKNOWN_FLOW}")).await);
    assert!(
        location.starts_with(&kratos_init(&app, "login")),
        "{location}"
    );
    let params = query(&location);
    assert_eq!(params["refresh"], "true");
    assert_eq!(
        params["return_to"],
        app.url(&format!("/settings?flow={UNKNOWN_FLOW}"))
    );
}

#[tokio::test]
async fn a_settings_flow_without_a_session_signs_in_and_comes_back_to_settings() {
    let app = TestApp::spawn_for_flows().await;
    let (flow, cookie) = app.kratos.start_flow("settings", None);
    app.jar.add_cookie_str(
        &format!("{cookie}; Path=/"),
        &url::Url::parse(&app.address).unwrap(),
    );
    let location = location_of(&app.get(&format!("/settings?flow={flow}")).await);
    assert!(
        location.starts_with(&kratos_init(&app, "login")),
        "{location}"
    );
    assert_eq!(query(&location)["return_to"], app.url("/settings"));
}

// --- flows Hera refuses, and Kratos failing ----------------------------------------------------

#[tokio::test]
async fn a_flow_whose_form_posts_neither_to_kratos_nor_to_hera_is_refused() {
    // Kratos's browser URL differs from where the fake's flows post.
    let app = TestApp::spawn().await;
    let response = app.get("/login").await;
    assert!(location_of(&response).starts_with(crate::support::KRATOS_BROWSER_URL));
    let (flow, cookie) = app.kratos.start_flow("login", None);
    app.jar.add_cookie_str(
        &format!("{cookie}; Path=/"),
        &url::Url::parse(&app.address).unwrap(),
    );
    let body = assert_error_page(
        app.get(&format!("/login?flow={flow}")).await,
        StatusCode::BAD_GATEWAY,
        "The sign-in service is unavailable",
    )
    .await;
    assert!(!body.contains("<form"), "{body}");
    assert!(
        !body.contains(&app.kratos.flow_csrf_token(&flow).unwrap()),
        "{body}"
    );
}

#[tokio::test]
async fn kratos_failing_slow_or_talking_nonsense_gives_the_usual_pages() {
    let app = TestApp::spawn_for_flows().await;
    let flow_page = format!("/login?flow={UNKNOWN_FLOW}");
    for (fault, status, says) in [
        (
            Fault::Status(500),
            StatusCode::BAD_GATEWAY,
            "The sign-in service is unavailable",
        ),
        (
            Fault::Status(503),
            StatusCode::SERVICE_UNAVAILABLE,
            "The sign-in service is unavailable",
        ),
        (
            Fault::Malformed,
            StatusCode::BAD_GATEWAY,
            "The sign-in service is unavailable",
        ),
        (
            Fault::Hang,
            StatusCode::GATEWAY_TIMEOUT,
            "The sign-in service is too slow",
        ),
    ] {
        app.kratos.set_fault(Some(fault.clone()));
        assert_error_page(app.get(&flow_page).await, status, says).await;
    }
    app.kratos.set_fault(None);
    let (_, listener) = crate::support::hanging_url();
    drop(listener);
    let down = TestApp::spawn_with(|s| {
        s.kratos_public_url = crate::support::closed_port_url();
    })
    .await;
    assert_error_page(
        down.get(&flow_page).await,
        StatusCode::BAD_GATEWAY,
        "The sign-in service is unavailable",
    )
    .await;
}

// --- rendering what Hera does not know --------------------------------------------------------

#[tokio::test]
async fn unknown_node_types_groups_and_message_ids_are_shown_with_kratoss_own_text() {
    let app = TestApp::spawn_for_flows().await;
    let mut flow = Recording::load("kratos-login-browser-get-flow-200").response_body;
    let action = format!(
        "{}/self-service/login?flow={}",
        app.kratos.public_url,
        flow["id"].as_str().unwrap()
    );
    flow["ui"]["action"] = json!(action);
    flow["ui"]["messages"] =
        json!([{"id": 1990001, "text": "A brand-new notice.", "type": "info"}]);
    let nodes = flow["ui"]["nodes"].as_array_mut().unwrap();
    nodes[2]["messages"] =
        json!([{"id": 4999999, "text": "A brand-new check failed.", "type": "error"}]);
    nodes.push(json!({"type": "hologram", "group": "future", "attributes": {"node_type": "hologram", "id": "h"},
                      "messages": [{"id": 1999999, "text": "Look at the hologram.", "type": "info"}],
                      "meta": {"label": {"id": 1999998, "text": "A hologram", "type": "info"}}}));
    nodes.push(json!({"type": "input", "group": "future", "attributes": {"name": "method", "type": "submit", "value": "future", "disabled": false, "node_type": "input"},
                      "messages": [], "meta": {"label": {"id": 1999997, "text": "Use the future", "type": "info"}}}));
    // A node type the v26.2.0 spec does not list yet: what a later Kratos might send.
    app.kratos
        .answer_on_unchecked("GET", "/self-service/login/flows", 200, flow);
    let response = app
        .browser
        .get(app.url(&format!("/login?flow={UNKNOWN_FLOW}")))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let text = crate::support::forms::text(&html);
    for shown in [
        "A brand-new notice.",
        "A brand-new check failed.",
        "A hologram",
        "Look at the hologram.",
        "Use the future",
        // Known ids are still in German.
        "Mit Passwort anmelden",
    ] {
        assert!(text.contains(shown), "{shown}: {text}");
    }
    let future = crate::support::forms::form_with_button(&html, "method", "future");
    assert_eq!(future.action, action);
    assert!(future.input("csrf_token").is_some());
}

#[tokio::test]
async fn a_german_browser_gets_kratoss_messages_in_german_with_their_values() {
    let app = TestApp::spawn_for_flows().await;
    let mut flow = Recording::load("kratos-registration-browser-get-flow-after-short-password-200")
        .response_body;
    flow["ui"]["action"] = json!(format!(
        "{}/self-service/registration?flow=x",
        app.kratos.public_url
    ));
    app.kratos
        .answer_on("GET", "/self-service/registration/flows", 200, flow);
    let html = app
        .browser
        .get(app.url(&format!("/registration?flow={UNKNOWN_FLOW}")))
        .header("accept-language", "de-DE,de;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let text = crate::support::forms::text(&html);
    assert!(
        text.contains("Das Passwort muss mindestens 8 Zeichen haben."),
        "{text}"
    );
    assert!(text.contains("Konto erstellen"), "{text}");
    assert!(html.contains("<html lang=\"de\">"));
}

// --- Kratos's error page ------------------------------------------------------------------------

#[tokio::test]
async fn a_failed_csrf_check_on_a_post_is_explained_on_the_error_page_with_kratoss_error_id() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let page = app.navigate("/login").await;
    let form = page.form("method", "password");
    let page = app
        .submit(
            &form,
            ("method", "password"),
            &[
                ("csrf_token", "forged"),
                ("identifier", ADA_EMAIL),
                ("password", ADA_PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{:#?}", page.trail);
    assert!(page.url.starts_with(&app.url("/error?id=")), "{}", page.url);
    let id = query(&page.url)["id"].clone();
    let text = page.text();
    assert!(text.contains("This form has expired"), "{text}");
    assert!(text.contains(&format!("Error ID: {id}")), "{text}");
    assert!(text.contains("Request ID: "), "{text}");
    assert!(
        !text.contains("Cross-Site"),
        "Kratos's reason is not shown: {text}"
    );
}

#[tokio::test]
async fn a_forbidden_return_address_is_explained_without_repeating_it() {
    let app = TestApp::spawn_for_flows().await;
    app.kratos
        .allow_return_urls(&[&format!("{}/", app.address)]);
    let page = app
        .navigate(&format!(
            "/login?return_to={}",
            encode("https://evil.example/steal")
        ))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{:#?}", page.trail);
    assert!(
        page.text().contains("This return address is not allowed"),
        "{}",
        page.text()
    );
    assert!(!page.html.contains("evil.example"), "{}", page.html);
}

#[tokio::test]
async fn each_recorded_kind_of_error_gets_its_own_words() {
    let app = TestApp::spawn_for_flows().await;
    for (recording, status, says) in [
        ("kratos-error-get-csrf-200", 403, "This form has expired"),
        (
            "kratos-error-get-return-to-forbidden-200",
            400,
            "This return address is not allowed",
        ),
        ("kratos-error-get-aal1-required-200", 401, "Sign in first"),
        ("kratos-error-get-stub-500-200", 500, "Something went wrong"),
    ] {
        let error = Recording::load(recording).response_body["error"].clone();
        let id = app.kratos.add_error(error);
        let body = assert_error_page(
            app.get(&format!("/error?id={id}")).await,
            StatusCode::from_u16(status).unwrap(),
            says,
        )
        .await;
        assert!(
            body.contains(&format!("Error ID: {id}")),
            "{recording}: {body}"
        );
    }
    let disabled = app
        .kratos
        .add_error(json!({"code": 400, "status": "Bad Request",
        "reason": "Recovery is not allowed because it was disabled.",
        "message": "The request was malformed or contained invalid parameters"}));
    assert_error_page(
        app.get(&format!("/error?id={disabled}")).await,
        StatusCode::BAD_REQUEST,
        "This is not available",
    )
    .await;
    let signed_in = app.kratos.add_error(
        json!({"id": "session_already_available", "code": 400, "status": "Bad Request",
        "message": "you are already logged in"}),
    );
    assert_redirect_to(
        &app.get(&format!("/error?id={signed_in}")).await,
        &app.url("/"),
    );
}

#[tokio::test]
async fn a_disabled_flow_is_explained_on_the_error_page() {
    let app = TestApp::spawn_for_flows().await;
    app.kratos.configure(|c| c.recovery = false);
    let page = app.navigate("/recovery").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.text().contains("This is not available"),
        "{}",
        page.text()
    );
}

#[tokio::test]
async fn an_unknown_error_id_gets_the_generic_page_and_hydras_errors_are_unchanged() {
    let app = TestApp::spawn_for_flows().await;
    for id in [UNKNOWN_FLOW, "not an id <script>"] {
        let body = assert_error_page(
            app.get(&format!("/error?id={}", encode(id))).await,
            StatusCode::NOT_FOUND,
            "Something went wrong",
        )
        .await;
        assert!(!body.contains("<script>"), "{body}");
    }
    // `error=` is Hydra's, even with an `id`.
    assert_error_page(
        app.get("/error?error=access_denied&id=x").await,
        StatusCode::BAD_REQUEST,
        "Access was denied",
    )
    .await;
}

// --- what never leaks ---------------------------------------------------------------------------

#[tokio::test]
async fn only_the_browsers_kratos_cookies_are_forwarded_never_heras_own() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    sign_in_ada(&app, Duration::ZERO);
    // The browser holds Hera's own cookie too.
    app.jar.add_cookie_str(
        "hera_session=heras-own; Path=/",
        &url::Url::parse(&app.address).unwrap(),
    );
    app.navigate("/settings").await.assert_at("/settings");
    let reads = app.kratos.flow_read_cookies();
    assert!(!reads.is_empty());
    for cookie in reads {
        let cookie = cookie.unwrap();
        assert!(cookie.contains("csrf_token_"), "{cookie}");
        assert!(!cookie.contains("hera_session"), "{cookie}");
    }
}

#[tokio::test]
async fn flow_pages_log_no_csrf_token_code_or_password() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let page = app.navigate("/recovery").await;
    let flow = query(&page.url)["flow"].clone();
    let csrf = app.kratos.flow_csrf_token(&flow).unwrap();
    let sent = app
        .press(&page, ("method", "code"), &[("email", ADA_EMAIL)])
        .await;
    let code = app.kratos.last_code(ADA_EMAIL).unwrap();
    let settings = app
        .press(&sent, ("method", "code"), &[("code", &code)])
        .await;
    app.press(
        &settings,
        ("method", "password"),
        &[("password", "a new secret passphrase")],
    )
    .await;
    // A failing flow is logged too: with its status and error id only.
    app.get(&format!("/login?flow={UNKNOWN_FLOW}")).await;
    let text = crate::support::logs::captured();
    assert!(
        text.contains("Kratos gave no flow"),
        "the failure is logged"
    );
    for secret in [
        csrf.as_str(),
        code.as_str(),
        "a new secret passphrase",
        "ory_st_",
    ] {
        assert!(!text.contains(secret), "{secret} is in the log");
    }
}
