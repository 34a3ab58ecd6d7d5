//! `POST /oauth2/token-exchange`: RFC 8693 token exchange of a Kratos session token for an
//! access token, minted through Hydra's own code flow (the public fake) and checked as a normal
//! Hydra token.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::support::fake_hydra::{client, with, Fault};
use crate::support::fake_kratos::session;
use crate::support::logs::{captured, lines_with};
use crate::support::{ada, ada_session, TestApp, ADA, ADA_SESSION};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const KRATOS_SESSION: &str = "urn:ory:params:oauth:token-type:kratos-session";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const API: &str = "https://api.example.com";
/// Ada's session token, as the native app got it from Kratos's API login.
const TOKEN: &str = "ory_st_native-session-token-of-ada-0123456789";
const SECRET: &str = "confidential-exchange-secret";

/// The operator's native app: public, a custom-scheme redirect, first-party and enabled.
fn native() -> Value {
    with(
        client("native"),
        json!({
            "token_endpoint_auth_method": "none",
            "redirect_uris": ["com.example.native:/oauth2redirect"],
            "scope": "openid email api.read",
            "audience": [API],
            "metadata": {"first_party": true, "token_exchange": true},
        }),
    )
}

/// A confidential first-party client enabled for token exchange, authenticating with `method`.
fn confidential(id: &str, method: &str) -> Value {
    with(
        native(),
        json!({
            "client_id": id,
            "client_secret": SECRET,
            "token_endpoint_auth_method": method,
            "redirect_uris": [format!("https://{id}.example.com/cb")],
        }),
    )
}

async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

async fn spawn_with(customise: impl FnOnce(&mut hera::cli::Settings)) -> TestApp {
    let app = TestApp::spawn_with(customise).await;
    let now = OffsetDateTime::now_utc();
    app.kratos.add_identity(ada());
    app.kratos
        .add_session(TOKEN, ada_session(now, now + Duration::hours(2)));
    app.public.register_client(native());
    app
}

/// A form body, as pairs.
type Form = Vec<(String, String)>;

fn form(extra: &[(&str, &str)]) -> Form {
    let mut pairs = vec![
        ("grant_type", GRANT),
        ("subject_token", TOKEN),
        ("subject_token_type", KRATOS_SESSION),
    ];
    pairs.extend_from_slice(extra);
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

async fn exchange(app: &TestApp, pairs: &[(String, String)]) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/oauth2/token-exchange"))
        .form(pairs)
        .send()
        .await
        .unwrap()
}

/// How many authorization flows Hera started at Hydra (not counting the verifier hops).
fn flows_started(app: &TestApp) -> usize {
    app.public
        .requests()
        .iter()
        .filter(|r| {
            r.path == "/oauth2/auth"
                && r.query_param("login_verifier").is_none()
                && r.query_param("consent_verifier").is_none()
        })
        .count()
}

#[tokio::test]
async fn a_native_app_exchanges_its_kratos_session_token_for_a_normal_hydra_access_token() {
    let app = spawn().await;

    let response = exchange(
        &app,
        &form(&[
            ("client_id", "native"),
            ("audience", API),
            ("scope", "email api.read"),
            ("requested_token_type", ACCESS_TOKEN),
        ]),
    )
    .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body: Value = response.json().await.unwrap();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "issued_token_type",
            "scope",
            "token_type"
        ],
        "RFC 8693 §2.2.1, and never a refresh or ID token: {body}"
    );
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "email api.read");
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    let access_token = body["access_token"].as_str().unwrap();

    // Hydra's own code flow made it, for Ada and exactly what was asked.
    let (issued, grant) = app.public.tokens().pop().unwrap();
    assert_eq!(issued["access_token"], access_token);
    assert_eq!(grant.subject, ADA);
    assert_eq!(grant.client_id, "native");
    assert_eq!(grant.audience, [API]);
    assert_eq!(grant.scope, ["email", "api.read"]);
    let authorize = app
        .public
        .requests()
        .into_iter()
        .find(|r| r.path == "/oauth2/auth")
        .unwrap();
    assert_eq!(
        authorize.query_param("code_challenge_method"),
        Some("S256"),
        "minted with PKCE"
    );
    let login = &app.hydra.accepted_logins()[0];
    assert_eq!(login["identity_provider_session_id"], ADA_SESSION);
    assert_eq!(login["remember"], false);
    assert_eq!(app.hydra.accepted_consents()[0]["remember"], false);

    // A normal Hydra token: active, and revoked as usual by its client.
    let issuer = app.public.issuer();
    assert!(issuer.access_token_is_active(access_token));
    let revoked = reqwest::Client::new()
        .post(format!("{}/oauth2/revoke", app.public.url))
        .form(&[("token", access_token), ("client_id", "native")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert!(!issuer.access_token_is_active(access_token));
}

#[tokio::test]
async fn confidential_clients_authenticate_by_basic_or_in_the_form_as_registered() {
    let app = spawn().await;
    app.public
        .register_client(confidential("basic-app", "client_secret_basic"));
    app.public
        .register_client(confidential("post-app", "client_secret_post"));
    let basic = reqwest::Client::new()
        .post(app.url("/oauth2/token-exchange"))
        .basic_auth("basic-app", Some(SECRET))
        .form(&form(&[]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        basic.status(),
        StatusCode::OK,
        "{}",
        basic.text().await.unwrap()
    );
    let post = exchange(
        &app,
        &form(&[("client_id", "post-app"), ("client_secret", SECRET)]),
    )
    .await;
    assert_eq!(
        post.status(),
        StatusCode::OK,
        "{}",
        post.text().await.unwrap()
    );
    let clients: Vec<String> = app
        .public
        .tokens()
        .into_iter()
        .map(|(_, grant)| grant.client_id)
        .collect();
    assert_eq!(clients, ["basic-app", "post-app"]);
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client_and_nothing_is_minted() {
    let app = spawn().await;
    app.public
        .register_client(confidential("basic-app", "client_secret_basic"));
    let response = reqwest::Client::new()
        .post(app.url("/oauth2/token-exchange"))
        .basic_auth("basic-app", Some("not-the-secret"))
        .form(&form(&[]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"hera\""
    );
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    assert_eq!(flows_started(&app), 0);
    assert!(app
        .kratos
        .requests()
        .iter()
        .all(|r| r.path != "/sessions/whoami"));
}

#[tokio::test]
async fn every_refusal_has_its_rfc_error_and_status_and_mints_nothing() {
    let app = spawn().await;
    // Not enabled, enabled but not first-party, and one that demands a second factor.
    app.public.register_client(with(
        native(),
        json!({"client_id": "plain", "metadata": {"first_party": true}}),
    ));
    app.public.register_client(with(
        native(),
        json!({"client_id": "third", "metadata": {"token_exchange": true}}),
    ));
    app.public.register_client(with(
        native(),
        json!({"client_id": "strict", "metadata": {"first_party": true, "token_exchange": true, "min_aal": "aal2"}}),
    ));
    app.public
        .register_client(confidential("basic-app", "client_secret_basic"));
    let now = OffsetDateTime::now_utc();
    app.kratos.add_session(
        "ory_st_needs-aal2",
        session(
            ADA_SESSION,
            ada(),
            now,
            now + Duration::hours(1),
            "aal1",
            &["password"],
        ),
    );
    app.kratos.require_aal2("ory_st_needs-aal2");

    let with_form = |extra: &[(&str, &str)]| form(extra);
    let replace = |name: &str, value: &str, extra: &[(&str, &str)]| {
        let mut pairs: Vec<(String, String)> =
            form(extra).into_iter().filter(|(k, _)| k != name).collect();
        if !value.is_empty() {
            pairs.push((name.to_owned(), value.to_owned()));
        }
        pairs
    };
    let native_id = [("client_id", "native")];
    let cases: Vec<(&str, Form, u16, &str)> = vec![
        (
            "no grant_type",
            replace("grant_type", "", &native_id),
            400,
            "invalid_request",
        ),
        (
            "another grant",
            replace("grant_type", "authorization_code", &native_id),
            400,
            "unsupported_grant_type",
        ),
        (
            "no subject_token",
            replace("subject_token", "", &native_id),
            400,
            "invalid_request",
        ),
        (
            "no subject_token_type",
            replace("subject_token_type", "", &native_id),
            400,
            "invalid_request",
        ),
        (
            "an access token as subject",
            replace("subject_token_type", ACCESS_TOKEN, &native_id),
            400,
            "invalid_request",
        ),
        (
            "a refresh token asked for",
            with_form(&[
                ("client_id", "native"),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:refresh_token",
                ),
            ]),
            400,
            "invalid_request",
        ),
        (
            "delegation",
            with_form(&[
                ("client_id", "native"),
                ("actor_token", "x"),
                ("actor_token_type", ACCESS_TOKEN),
            ]),
            400,
            "invalid_request",
        ),
        (
            "the session token twice",
            with_form(&[("client_id", "native"), ("subject_token", "other")]),
            400,
            "invalid_request",
        ),
        (
            "a resource indicator",
            with_form(&[("client_id", "native"), ("resource", API)]),
            400,
            "invalid_target",
        ),
        (
            "an audience of another API",
            with_form(&[
                ("client_id", "native"),
                ("audience", "https://other.example.com"),
            ]),
            400,
            "invalid_target",
        ),
        (
            "a scope the client may not have",
            with_form(&[("client_id", "native"), ("scope", "openid admin")]),
            400,
            "invalid_scope",
        ),
        (
            "offline access",
            with_form(&[("client_id", "native"), ("scope", "openid offline_access")]),
            400,
            "invalid_scope",
        ),
        ("no client", with_form(&[]), 401, "invalid_client"),
        (
            "an unknown client",
            with_form(&[("client_id", "nobody")]),
            401,
            "invalid_client",
        ),
        (
            "a secret for a public client",
            with_form(&[("client_id", "native"), ("client_secret", "x")]),
            401,
            "invalid_client",
        ),
        (
            "no secret for a confidential client",
            with_form(&[("client_id", "basic-app")]),
            401,
            "invalid_client",
        ),
        (
            "the secret in the form for a Basic client",
            with_form(&[("client_id", "basic-app"), ("client_secret", SECRET)]),
            401,
            "invalid_client",
        ),
        (
            "a client not enabled",
            with_form(&[("client_id", "plain")]),
            400,
            "unauthorized_client",
        ),
        (
            "an enabled third-party client",
            with_form(&[("client_id", "third")]),
            400,
            "unauthorized_client",
        ),
        (
            "an unknown session token",
            replace("subject_token", "ory_st_made-up", &native_id),
            400,
            "invalid_grant",
        ),
        (
            "a session Kratos wants a second factor for",
            replace("subject_token", "ory_st_needs-aal2", &native_id),
            400,
            "invalid_grant",
        ),
        (
            "a client that demands aal2, with an aal1 session",
            with_form(&[("client_id", "strict")]),
            400,
            "invalid_grant",
        ),
    ];
    for (case, pairs, status, error) in cases {
        let response = exchange(&app, &pairs).await;
        assert_eq!(response.status().as_u16(), status, "{case}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{case}");
        let request_id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error, "{case}: {body}");
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{case}"
        );
        assert_eq!(body["request_id"], request_id.as_str(), "{case}");
        assert_eq!(flows_started(&app), 0, "{case}: a flow was started");
        assert!(app.public.tokens().is_empty(), "{case}");
    }
}

#[tokio::test]
async fn the_session_token_is_taken_from_the_body_only() {
    let app = spawn().await;
    let in_url = reqwest::Client::new()
        .post(format!(
            "{}?subject_token={TOKEN}",
            app.url("/oauth2/token-exchange")
        ))
        .form(&form(&[("client_id", "native")]))
        .send()
        .await
        .unwrap();
    assert_eq!(in_url.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        in_url.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let as_json = reqwest::Client::new()
        .post(app.url("/oauth2/token-exchange"))
        .json(&json!({"grant_type": GRANT, "subject_token": TOKEN, "subject_token_type": KRATOS_SESSION, "client_id": "native"}))
        .send()
        .await
        .unwrap();
    assert_eq!(as_json.status(), StatusCode::BAD_REQUEST);
    assert!(app
        .kratos
        .requests()
        .iter()
        .all(|r| r.path != "/sessions/whoami"));
    assert_eq!(flows_started(&app), 0);
}

#[tokio::test]
async fn exchanges_are_rate_limited_per_client_before_anything_upstream_is_asked() {
    let app = spawn_with(|s| {
        s.bridge.exchanges_per_client_per_minute = 2;
        s.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    app.public
        .register_client(with(native(), json!({"client_id": "other-native"})));
    for _ in 0..2 {
        let response = exchange(&app, &form(&[("client_id", "native")])).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let whoami_before = app.kratos.requests().len();

    let third = exchange(&app, &form(&[("client_id", "native")])).await;

    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = third.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(
        third.json::<Value>().await.unwrap()["error"],
        "too_many_requests"
    );
    assert_eq!(
        app.kratos.requests().len(),
        whoami_before,
        "Kratos was asked"
    );
    assert_eq!(flows_started(&app), 2);
    // Another client has its own allowance.
    let other = exchange(&app, &form(&[("client_id", "other-native")])).await;
    assert_eq!(other.status(), StatusCode::OK);
    // Operators see both in the metrics.
    let metrics = reqwest::get(app.metrics_url.as_deref().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "hera_rate_limited_total{limiter=\"token_exchange\"} 1",
        "hera_decisions_total{flow=\"token_exchange\",outcome=\"issued\",reason=\"kratos_session\"} 3",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
}

#[tokio::test]
async fn each_exchange_is_audited_and_no_token_reaches_the_log() {
    let app = spawn().await;
    let issued = exchange(&app, &form(&[("client_id", "native"), ("audience", API)])).await;
    let access_token = issued.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = exchange(
        &app,
        &form(&[("client_id", "native"), ("scope", "offline_access")]),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    let events: Vec<Value> = lines_with("token_exchange.")
        .into_iter()
        .filter(|line| line["target"] == "hera::audit" && line["client_id"] == "native")
        .collect();
    let issued_event = events
        .iter()
        .find(|e| e["event"] == "token_exchange.issued" && e["subject"] == ADA)
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(issued_event["audiences"], API);
    assert!(events
        .iter()
        .any(|e| e["event"] == "token_exchange.refused" && e["error"] == "invalid_scope"));
    let logs = captured();
    assert!(!logs.contains(TOKEN), "the session token was logged");
    assert!(!logs.contains(&access_token), "the access token was logged");
}

#[tokio::test]
async fn kratos_or_hydra_down_is_a_json_502_and_nothing_is_minted() {
    let app = spawn().await;
    app.kratos.set_fault(Some(Fault::Status(500)));
    let kratos_down = exchange(&app, &form(&[("client_id", "native")])).await;
    assert_eq!(kratos_down.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        kratos_down.json::<Value>().await.unwrap()["error"],
        "upstream_unavailable"
    );
    app.kratos.set_fault(None);
    app.hydra.set_fault(Some(Fault::Hang));
    let started = std::time::Instant::now();
    let hydra_slow = exchange(&app, &form(&[("client_id", "native")])).await;
    assert_eq!(hydra_slow.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    assert!(app.public.tokens().is_empty());
}

#[tokio::test]
async fn the_basic_header_is_read_as_rfc_6749_encodes_it() {
    let app = spawn().await;
    app.public.register_client(with(
        confidential("ios-app", "client_secret_basic"),
        json!({"client_id": "ios:app", "client_secret": "s3cr:t+%"}),
    ));
    // Both parts form-urlencoded before base64 (RFC 6749 §2.3.1).
    let encoded = base64::engine::general_purpose::STANDARD.encode("ios%3Aapp:s3cr%3At%2B%25");
    let response = reqwest::Client::new()
        .post(app.url("/oauth2/token-exchange"))
        .header("Authorization", format!("Basic {encoded}"))
        .form(&form(&[]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
}
