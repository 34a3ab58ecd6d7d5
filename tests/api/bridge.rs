//! `/session/*`, the session bridge for first-party apps.

use reqwest::StatusCode;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::support::fake_hydra::{client, with, Fault};
use crate::support::fake_hydra_public::s256;
use crate::support::{
    ada, ada_session, closed_port_url, TestApp, ADA, ADA_EMAIL, ADA_SESSION, ADA_TOKEN,
};
const ORIGIN: &str = "https://app.example.com";
const API: &str = "https://api.example.com";
const REDIRECT: &str = "https://own-spa.example.com/callback";
const VERIFIER: &str = "bridge-pkce-verifier-bridge-pkce-verifier-bridge-0001";

async fn spawn() -> TestApp {
    let app = TestApp::spawn_with(|s| {
        s.bridge.allowed_origins = vec![ORIGIN.into()];
        s.bridge.client_id = Some("session-grant".into());
    })
    .await;
    let now = OffsetDateTime::now_utc();
    app.kratos.add_identity(ada());
    app.kratos
        .add_session(ADA_TOKEN, ada_session(now, now + Duration::hours(2)));
    app.public.register_client(spa());
    app
}

fn spa() -> Value {
    with(
        client("own-spa"),
        json!({
            "token_endpoint_auth_method": "none",
            "audience": [API],
            "allowed_cors_origins": [ORIGIN],
            "metadata": {"first_party": true, "session_bridge": true},
        }),
    )
}

fn bridge_body() -> Value {
    json!({
        "client_id": "own-spa",
        "redirect_uri": REDIRECT,
        "scope": "openid email",
        "audience": API,
        "state": "app-state-1234",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    })
}

/// A browser request from the SPA: allowed origin, XHR header, Kratos cookie.
fn from_spa(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request
        .header("Origin", ORIGIN)
        .header("X-Requested-With", "XMLHttpRequest")
        .header("Cookie", "ory_kratos_session=ada-token")
}

async fn post_bridge(app: &TestApp, body: &Value) -> reqwest::Response {
    from_spa(app.browser.post(format!("{}/session/bridge", app.address)))
        .json(body)
        .send()
        .await
        .unwrap()
}

fn authorize_calls(app: &TestApp) -> usize {
    app.public
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth2/auth")
        .count()
}

/// Nothing reached Hydra's authorization endpoint and nothing was accepted.
fn assert_nothing_sent(app: &TestApp) {
    assert_eq!(
        authorize_calls(app),
        0,
        "the authorization flow was started"
    );
    assert!(app.hydra.accepted_logins().is_empty());
    assert!(app.hydra.accepted_consents().is_empty());
}

#[tokio::test]
async fn whoami_answers_from_a_cookie_a_session_token_or_a_bearer_token() {
    let app = spawn().await;
    let url = format!("{}/session/whoami", app.address);
    for request in [
        app.browser
            .get(&url)
            .header("Cookie", "ory_kratos_session=ada-token"),
        app.browser.get(&url).header("X-Session-Token", ADA_TOKEN),
        app.browser
            .get(&url)
            .header("Authorization", "Bearer ada-token"),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["authenticated"], true);
        assert_eq!(
            body["identity"],
            json!({"id": ADA, "email": ADA_EMAIL, "name": "Ada Lovelace"})
        );
        assert_eq!(body["session"]["id"], ADA_SESSION);
        assert_eq!(body["session"]["aal"], "aal1");
        assert!(body["session"]["expires_at"]
            .as_str()
            .unwrap()
            .ends_with('Z'));
    }
}

#[tokio::test]
async fn whoami_without_a_session_is_401_and_an_aal2_session_403_with_the_step_up_url() {
    let app = spawn().await;
    let url = format!("{}/session/whoami", app.address);
    let none = app.browser.get(&url).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.json::<Value>().await.unwrap(),
        json!({"authenticated": false})
    );
    let wrong = app
        .browser
        .get(&url)
        .header("X-Session-Token", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    app.kratos.require_aal2(ADA_TOKEN);
    let step_up = app
        .browser
        .get(&url)
        .header("X-Session-Token", ADA_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(step_up.status(), StatusCode::FORBIDDEN);
    let body: Value = step_up.json().await.unwrap();
    assert_eq!(body["error"], "session_aal2_required");
    assert!(body["redirect_browser_to"]
        .as_str()
        .unwrap()
        .starts_with("http://kratos.browser.test:4433/self-service/login/browser?aal=aal2"));
}

#[tokio::test]
async fn the_bridge_returns_a_code_the_app_exchanges_with_its_pkce_verifier() {
    let app = spawn().await;

    let response = post_bridge(&app, &bridge_body()).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
    assert_eq!(
        response.headers()["access-control-allow-credentials"],
        "true"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["state"], "app-state-1234");
    let code = body["code"].as_str().unwrap();
    let login = &app.hydra.accepted_logins()[0];
    assert_eq!(login["subject"], ADA);
    assert_eq!(login["remember"], false);
    assert_eq!(login["identity_provider_session_id"], ADA_SESSION);
    let consent = &app.hydra.accepted_consents()[0];
    assert_eq!(consent["grant_scope"], json!(["openid", "email"]));
    assert_eq!(consent["grant_access_token_audience"], json!([API]));
    assert!(
        app.public
            .requests()
            .iter()
            .all(|r| !r.path.contains("callback")),
        "Hera must never follow the client's redirect_uri"
    );

    let token = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.public.url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", "own-spa"),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::OK);
    let (_, grant) = app.public.tokens().pop().unwrap();
    assert_eq!(grant.subject, ADA);
    assert_eq!(grant.audience, [API]);
}

#[tokio::test]
async fn the_bridge_accepts_a_session_token_or_bearer_instead_of_the_cookie() {
    let app = spawn().await;
    for (name, value) in [
        ("X-Session-Token", ADA_TOKEN),
        ("Authorization", "Bearer ada-token"),
    ] {
        let response = app
            .browser
            .post(format!("{}/session/bridge", app.address))
            .header("Origin", ORIGIN)
            .header("X-Requested-With", "XMLHttpRequest")
            .header(name, value)
            .json(&bridge_body())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}");
    }
}

#[tokio::test]
async fn every_refusal_sends_nothing_to_hydra() {
    let app = spawn().await;
    app.public.register_client(with(
        client("third"),
        json!({"metadata": {"session_bridge": true}}),
    ));
    app.public
        .register_client(with(client("own-web"), json!({"skip_consent": true})));
    let url = format!("{}/session/bridge", app.address);
    let body = bridge_body();
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        ("no origin", app.browser.post(&url).header("X-Requested-With", "XMLHttpRequest").header("Cookie", "ory_kratos_session=ada-token").json(&body), 403, "origin_not_allowed"),
        ("wrong origin", app.browser.post(&url).header("Origin", "https://evil.example.com").header("X-Requested-With", "XMLHttpRequest").header("Cookie", "ory_kratos_session=ada-token").json(&body), 403, "origin_not_allowed"),
        ("similar origin", app.browser.post(&url).header("Origin", "https://app.example.com.evil.test").header("X-Requested-With", "XMLHttpRequest").header("Cookie", "ory_kratos_session=ada-token").json(&body), 403, "origin_not_allowed"),
        ("no XHR header", app.browser.post(&url).header("Origin", ORIGIN).header("Cookie", "ory_kratos_session=ada-token").json(&body), 403, "csrf"),
        ("no session", app.browser.post(&url).header("Origin", ORIGIN).header("X-Requested-With", "XMLHttpRequest").json(&body), 401, ""),
        ("third-party client", from_spa(app.browser.post(&url)).json(&with(body.clone(), json!({"client_id": "third", "redirect_uri": "https://third.example.com/callback"}))), 403, "unauthorized_client"),
        ("not opted in", from_spa(app.browser.post(&url)).json(&with(body.clone(), json!({"client_id": "own-web", "redirect_uri": "https://own-web.example.com/callback"}))), 403, "unauthorized_client"),
        ("unknown client", from_spa(app.browser.post(&url)).json(&with(body.clone(), json!({"client_id": "nobody"}))), 400, "invalid_client"),
        ("foreign audience", from_spa(app.browser.post(&url)).json(&with(body.clone(), json!({"audience": "https://other.example.com"}))), 400, "invalid_request"),
        ("unregistered redirect", from_spa(app.browser.post(&url)).json(&with(body.clone(), json!({"redirect_uri": "https://evil.example.com/callback"}))), 400, "invalid_request"),
        ("no PKCE for a public client", from_spa(app.browser.post(&url)).json(&with(body.clone(), json!({"code_challenge": null, "code_challenge_method": null}))), 400, "invalid_request"),
        ("not JSON", from_spa(app.browser.post(&url)).body("client_id=own-spa"), 400, "invalid_request"),
    ];
    for (name, request, status, error) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{name}");
        let body: Value = response.json().await.unwrap();
        if !error.is_empty() {
            assert_eq!(body["error"], error, "{name}: {body}");
        }
        assert_nothing_sent(&app);
    }
}

#[tokio::test]
async fn an_allowed_origin_may_ask_only_for_clients_bound_to_it() {
    const OTHER: &str = "https://other.example.com";
    let app = TestApp::spawn_with(|s| {
        s.bridge.allowed_origins = vec![ORIGIN.into(), OTHER.into()];
    })
    .await;
    let now = OffsetDateTime::now_utc();
    app.kratos
        .add_session(ADA_TOKEN, ada_session(now, now + Duration::hours(2)));
    app.public.register_client(spa());
    // Another first-party app with the bridge, bound to its own origin by its redirect URI.
    app.public.register_client(with(
        client("other-spa"),
        json!({
            "token_endpoint_auth_method": "none",
            "redirect_uris": [format!("{OTHER}/callback")],
            "metadata": {"first_party": true, "session_bridge": true},
        }),
    ));
    let other_body = with(
        bridge_body(),
        json!({"client_id": "other-spa", "redirect_uri": format!("{OTHER}/callback"), "audience": null}),
    );

    // A script on ORIGIN asks for the other app's client: refused before anything is started.
    let stolen = post_bridge(&app, &other_body).await;

    assert_eq!(stolen.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        stolen.json::<Value>().await.unwrap()["error"],
        "origin_not_allowed"
    );
    assert_nothing_sent(&app);

    // The other app itself, from its own origin (the origin of its redirect URI), gets a code.
    let own = app
        .browser
        .post(format!("{}/session/bridge", app.address))
        .header("Origin", OTHER)
        .header("X-Requested-With", "XMLHttpRequest")
        .header("Cookie", "ory_kratos_session=ada-token")
        .json(&other_body)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    assert!(own.json::<Value>().await.unwrap()["code"].is_string());
}

#[tokio::test]
async fn the_bridge_needs_pkce_from_every_client_and_never_grants_offline_access() {
    let app = spawn().await;
    // A confidential first-party client: its secret would make PKCE optional at Hydra, but a
    // code handed to a script must be useless without the verifier the script kept.
    app.public.register_client(with(
        spa(),
        json!({"client_id": "own-web", "token_endpoint_auth_method": "client_secret_basic", "client_secret": "own-web-secret", "redirect_uris": [REDIRECT]}),
    ));
    let cases = [
        (
            "a confidential client without PKCE",
            with(
                bridge_body(),
                json!({"client_id": "own-web", "code_challenge": null, "code_challenge_method": null}),
            ),
            "invalid_request",
        ),
        (
            "offline_access",
            with(bridge_body(), json!({"scope": "openid offline_access"})),
            "invalid_scope",
        ),
        (
            "offline",
            with(bridge_body(), json!({"scope": "offline"})),
            "invalid_scope",
        ),
    ];
    for (case, body, error) in cases {
        let response = post_bridge(&app, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{case}");
        assert_eq!(
            response.json::<Value>().await.unwrap()["error"],
            error,
            "{case}"
        );
        assert_nothing_sent(&app);
    }
}

#[tokio::test]
async fn a_client_that_requires_a_second_factor_answers_session_aal2_required() {
    let app = spawn().await;
    app.public.register_client(with(
        spa(),
        json!({"metadata": {"first_party": true, "session_bridge": true, "min_aal": "aal2"}}),
    ));

    let response = post_bridge(&app, &bridge_body()).await;

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "session_aal2_required");
    assert!(body["redirect_browser_to"]
        .as_str()
        .unwrap()
        .starts_with("http://kratos.browser.test:4433/self-service/login/browser?aal=aal2"));
    assert_nothing_sent(&app);

    // With a second factor, the same request gets its code.
    let now = OffsetDateTime::now_utc();
    app.kratos.add_session(
        ADA_TOKEN,
        crate::support::fake_kratos::session(
            ADA_SESSION,
            ada(),
            now,
            now + Duration::hours(1),
            "aal2",
            &["password", "totp"],
        ),
    );
    let response = post_bridge(&app, &bridge_body()).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_session_grant_uses_pkce_also_with_a_client_secret() {
    let app = TestApp::spawn_with(|s| {
        s.bridge.allowed_origins = vec![ORIGIN.into()];
        s.bridge.client_id = Some("session-grant".into());
        s.bridge.client_secret = Some(hera::secrets::ClientSecret::new("grant-secret-value"));
    })
    .await;
    let now = OffsetDateTime::now_utc();
    app.kratos
        .add_session(ADA_TOKEN, ada_session(now, now + Duration::hours(1)));
    app.public.register_client(with(
        client("session-grant"),
        json!({"client_secret": "grant-secret-value", "audience": [API], "metadata": {"first_party": true, "session_bridge": true}}),
    ));
    let response = from_spa(app.browser.post(format!("{}/session/token", app.address)))
        .form(&[("grant_type", "session"), ("audience", API)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let authorize = app
        .public
        .requests()
        .into_iter()
        .find(|r| r.path == "/oauth2/auth")
        .unwrap();
    assert_eq!(authorize.query_param("code_challenge_method"), Some("S256"));
    let token = app
        .public
        .requests()
        .into_iter()
        .find(|r| r.path == "/oauth2/token")
        .unwrap();
    let form = token.body.unwrap().as_str().unwrap().to_owned();
    assert!(form.contains("&code_verifier="), "{form}");
    let (_, grant) = app.public.tokens().pop().unwrap();
    assert_eq!(grant.subject, ADA);
}

#[tokio::test]
async fn cors_answers_preflights_for_allowed_origins_only() {
    let app = spawn().await;
    let preflight = |origin: &'static str| {
        app.browser
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/session/bridge", app.address),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "content-type, x-requested-with",
            )
            .send()
    };
    let allowed = preflight(ORIGIN).await.unwrap();
    assert_eq!(allowed.status(), StatusCode::NO_CONTENT);
    assert_eq!(allowed.headers()["access-control-allow-origin"], ORIGIN);
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(headers.contains("x-requested-with") && headers.contains("content-type"));

    let refused = preflight("https://evil.example.com").await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let whoami = app
        .browser
        .get(format!("{}/session/whoami", app.address))
        .header("Origin", "https://evil.example.com")
        .header("Cookie", "ory_kratos_session=ada-token")
        .send()
        .await
        .unwrap();
    assert_eq!(whoami.status(), StatusCode::FORBIDDEN);
    assert!(whoami
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn hydra_down_gives_a_502_json_error_with_a_request_id() {
    let app = TestApp::spawn_with(|s| {
        s.bridge.allowed_origins = vec![ORIGIN.into()];
        s.hydra_public_url = closed_port_url();
    })
    .await;
    let now = OffsetDateTime::now_utc();
    app.kratos
        .add_session(ADA_TOKEN, ada_session(now, now + Duration::hours(1)));
    app.public.register_client(spa());

    let response = post_bridge(&app, &bridge_body()).await;

    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "upstream_unavailable");
    assert_eq!(body["request_id"], request_id);
    assert!(app.hydra.accepted_logins().is_empty());
}

#[tokio::test]
async fn hydra_refusing_the_request_is_passed_on_as_a_400() {
    let app = spawn().await;
    let response = post_bridge(&app, &with(bridge_body(), json!({"scope": "openid admin"}))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_scope"
    );
    assert!(app.hydra.accepted_logins().is_empty());
}

#[tokio::test]
async fn the_session_grant_returns_tokens_without_a_refresh_token() {
    for secret in [None, Some("grant-secret-value")] {
        let app = TestApp::spawn_with(|s| {
            s.bridge.allowed_origins = vec![ORIGIN.into()];
            s.bridge.client_id = Some("session-grant".into());
            s.bridge.client_secret = secret.map(hera::secrets::ClientSecret::new);
        })
        .await;
        let now = OffsetDateTime::now_utc();
        app.kratos
            .add_session(ADA_TOKEN, ada_session(now, now + Duration::hours(1)));
        let mut grant_client = with(
            client("session-grant"),
            json!({"audience": [API], "metadata": {"first_party": true, "session_bridge": true}}),
        );
        grant_client = match secret {
            Some(secret) => with(grant_client, json!({"client_secret": secret})),
            None => with(grant_client, json!({"token_endpoint_auth_method": "none"})),
        };
        app.public.register_client(grant_client);

        let response = from_spa(app.browser.post(format!("{}/session/token", app.address)))
            .form(&[
                ("grant_type", "session"),
                ("audience", API),
                ("scope", "openid offline_access"),
            ])
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), StatusCode::OK, "secret: {secret:?}");
        let body: Value = response.json().await.unwrap();
        assert!(body["access_token"]
            .as_str()
            .unwrap()
            .starts_with("ory_at_"));
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["scope"], "openid");
        assert!(body.get("refresh_token").is_none(), "{body}");
        let (issued, grant) = app.public.tokens().pop().unwrap();
        assert!(
            issued.get("refresh_token").is_none(),
            "offline_access must not be requested"
        );
        assert_eq!(grant.audience, [API]);
        assert_eq!(grant.subject, ADA);
    }
}

#[tokio::test]
async fn the_session_grant_refuses_a_foreign_audience_and_needs_configuring() {
    let app = spawn().await;
    app.public.register_client(with(
        client("session-grant"),
        json!({"token_endpoint_auth_method": "none", "audience": [API], "metadata": {"first_party": true, "session_bridge": true}}),
    ));
    let token = |body: Value| {
        from_spa(app.browser.post(format!("{}/session/token", app.address)))
            .json(&body)
            .send()
    };
    let foreign = token(json!({"grant_type": "session", "audience": "https://other.example.com"}))
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    let missing = token(json!({"grant_type": "session"})).await.unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let wrong_grant = token(json!({"grant_type": "password", "audience": API}))
        .await
        .unwrap();
    assert_eq!(
        wrong_grant.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    assert_nothing_sent(&app);

    let unconfigured =
        TestApp::spawn_with(|s| s.bridge.allowed_origins = vec![ORIGIN.into()]).await;
    let response = from_spa(
        unconfigured
            .browser
            .post(format!("{}/session/token", unconfigured.address)),
    )
    .json(&json!({"grant_type": "session", "audience": API}))
    .send()
    .await
    .unwrap();
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
}

#[tokio::test]
async fn extend_works_with_200_and_204_and_is_throttled_per_session() {
    for faster in [false, true] {
        let app = spawn().await;
        app.kratos.set_faster_session_extend(faster);
        let extend =
            || from_spa(app.browser.post(format!("{}/session/extend", app.address))).send();

        let first = extend().await.unwrap();
        assert_eq!(first.status(), StatusCode::OK, "faster={faster}");
        let body: Value = first.json().await.unwrap();
        assert_eq!(body["extended"], true);
        assert_eq!(body["session"]["id"], ADA_SESSION);
        assert_eq!(app.kratos.extended_sessions(), [ADA_SESSION]);

        let second = extend().await.unwrap();
        assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(second.headers().contains_key("retry-after"));
        assert_eq!(
            app.kratos.extended_sessions().len(),
            1,
            "Kratos was called again"
        );
    }
}

#[tokio::test]
async fn extend_refuses_other_origins_and_missing_sessions() {
    let app = spawn().await;
    let evil = app
        .browser
        .post(format!("{}/session/extend", app.address))
        .header("Origin", "https://evil.example.com")
        .header("X-Requested-With", "XMLHttpRequest")
        .header("Cookie", "ory_kratos_session=ada-token")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let anonymous = app
        .browser
        .post(format!("{}/session/extend", app.address))
        .header("Origin", ORIGIN)
        .header("X-Requested-With", "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(app.kratos.extended_sessions().is_empty());
}

#[tokio::test]
async fn kratos_failing_during_the_bridge_is_a_json_502() {
    let app = spawn().await;
    app.kratos.set_fault(Some(Fault::Status(500)));
    let response = post_bridge(&app, &bridge_body()).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert_nothing_sent(&app);
}
