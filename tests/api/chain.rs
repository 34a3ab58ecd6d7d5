//! The whole redirect chain through Hera with Hydra's public side: authorize → login →
//! consent → code → token, as a client application experiences it.

use serde_json::{json, Value};
use time::Duration;
use url::Url;

use crate::support::fake_hydra::{client, with};
use crate::support::fake_hydra_public::s256;
use crate::support::{hidden_field, TestApp};

const ADA: &str = "a0a0a0a0-0000-4000-8000-00000000ada0";

fn sign_in_ada(app: &TestApp) {
    crate::support::sign_in_ada(app, Duration::ZERO);
}

fn query(url: &str) -> std::collections::HashMap<String, String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn exchange(
    app_public: &str,
    client_id: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{app_public}/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", client_id),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
}

fn id_token_claims(token: &Value) -> Value {
    use base64::Engine;
    let jwt = token["id_token"].as_str().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_first_party_app_gets_a_code_and_tokens_without_seeing_a_page() {
    let app = TestApp::spawn().await;
    let public = &app.public;
    sign_in_ada(&app);
    public.register_client(with(
        client("own-spa"),
        json!({"token_endpoint_auth_method": "none", "metadata": {"first_party": true}}),
    ));
    let verifier = "a-pkce-verifier-that-is-long-enough-to-be-valid-0123456789";
    let redirect_uri = "https://own-spa.example.com/callback";
    let start = public.authorize_url(&[
        ("client_id", "own-spa"),
        ("response_type", "code"),
        ("scope", "openid email"),
        ("state", "state-1234567"),
        ("redirect_uri", redirect_uri),
        ("code_challenge", &s256(verifier)),
        ("code_challenge_method", "S256"),
    ]);

    let landed = app
        .follow_until(&start, redirect_uri)
        .await
        .expect("reached the client");

    let params = query(&landed);
    assert_eq!(params["state"], "state-1234567");
    assert_eq!(params["scope"], "openid email");
    let response = exchange(
        &public.url,
        "own-spa",
        &params["code"],
        redirect_uri,
        verifier,
    )
    .await;
    assert_eq!(response.status(), 200);
    let token: Value = response.json().await.unwrap();
    let claims = id_token_claims(&token);
    assert_eq!(claims["sub"], ADA);
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["email_verified"], true);
    assert!(token.get("refresh_token").is_none());
    app.assert_contract_kept();
    assert_eq!(public.contract_violations(), Vec::<String>::new());
}

#[tokio::test]
async fn a_third_party_app_gets_only_what_the_user_ticked() {
    let app = TestApp::spawn().await;
    let public = &app.public;
    sign_in_ada(&app);
    public.register_client(with(
        client("photos"),
        json!({"client_secret": "photos-secret-value"}),
    ));
    let redirect_uri = "https://photos.example.com/callback";
    let start = public.authorize_url(&[
        ("client_id", "photos"),
        ("response_type", "code"),
        ("scope", "openid email profile"),
        ("state", "state-abcdefg"),
        ("redirect_uri", redirect_uri),
    ]);

    let (consent_url, status) = app.follow_until(&start, redirect_uri).await.unwrap_err();
    assert_eq!(status, 200, "the consent page is shown");
    let html = app
        .browser
        .get(&consent_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let posted = app
        .post_consent(&[
            (
                "consent_challenge",
                &hidden_field(&html, "consent_challenge"),
            ),
            ("csrf_token", &hidden_field(&html, "csrf_token")),
            ("grant_scope", "openid"),
            ("grant_scope", "profile"),
            ("action", "accept"),
        ])
        .await;
    let next = crate::support::location_of(&posted);
    let landed = app.follow_until(&next, redirect_uri).await.unwrap();

    let params = query(&landed);
    assert_eq!(params["scope"], "openid profile");
    let token: Value = reqwest::Client::new()
        .post(format!("{}/oauth2/token", public.url))
        .basic_auth("photos", Some("photos-secret-value"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", params["code"].as_str()),
            ("redirect_uri", redirect_uri),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claims = id_token_claims(&token);
    assert_eq!(claims["name"], "Ada Lovelace");
    assert!(
        claims.get("email").is_none(),
        "email was not granted: {claims}"
    );
}

#[tokio::test]
async fn denying_consent_sends_access_denied_to_the_app() {
    let app = TestApp::spawn().await;
    let public = &app.public;
    sign_in_ada(&app);
    public.register_client(client("photos"));
    let redirect_uri = "https://photos.example.com/callback";
    let start = public.authorize_url(&[
        ("client_id", "photos"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "state-abcdefg"),
    ]);
    let (consent_url, _) = app.follow_until(&start, redirect_uri).await.unwrap_err();
    let html = app
        .browser
        .get(&consent_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let posted = app
        .post_consent(&[
            (
                "consent_challenge",
                &hidden_field(&html, "consent_challenge"),
            ),
            ("csrf_token", &hidden_field(&html, "csrf_token")),
            ("action", "reject"),
        ])
        .await;
    let landed = app
        .follow_until(&crate::support::location_of(&posted), redirect_uri)
        .await
        .unwrap();
    let params = query(&landed);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "state-abcdefg");
    assert!(!params.contains_key("code"));
}

#[tokio::test]
async fn a_code_needs_the_right_pkce_verifier_and_works_once() {
    let app = TestApp::spawn().await;
    let public = &app.public;
    sign_in_ada(&app);
    public.register_client(with(
        client("own-spa"),
        json!({"token_endpoint_auth_method": "none", "skip_consent": true}),
    ));
    let redirect_uri = "https://own-spa.example.com/callback";
    let verifier = "correct-verifier-correct-verifier-correct-verifier-0001";
    let start = public.authorize_url(&[
        ("client_id", "own-spa"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "state-1234567"),
        ("code_challenge", &s256(verifier)),
        ("code_challenge_method", "S256"),
    ]);
    let code = query(&app.follow_until(&start, redirect_uri).await.unwrap())["code"].clone();

    let wrong = exchange(
        &public.url,
        "own-spa",
        &code,
        redirect_uri,
        "wrong-verifier-wrong-verifier-wrong-verifier-000",
    )
    .await;
    assert_eq!(wrong.status(), 400);
    // The failed attempt consumed the code, as Hydra does.
    let again = exchange(&public.url, "own-spa", &code, redirect_uri, verifier).await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn a_login_verifier_cannot_be_redeemed_twice() {
    let app = TestApp::spawn().await;
    let public = &app.public;
    sign_in_ada(&app);
    public.register_client(with(client("own"), json!({"skip_consent": true})));
    let start = public.authorize_url(&[
        ("client_id", "own"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "state-1234567"),
    ]);
    // Stop right after Hera accepted the login.
    let to_hera = crate::support::location_of(&app.browser.get(&start).send().await.unwrap());
    let with_verifier =
        crate::support::location_of(&app.browser.get(&to_hera).send().await.unwrap());
    assert!(with_verifier.contains("login_verifier="));
    app.browser.get(&with_verifier).send().await.unwrap();

    let replay = app.browser.get(&with_verifier).send().await.unwrap();
    let location = crate::support::location_of(&replay);
    let params = query(&location);
    assert_eq!(params["error"], "access_denied");
    assert!(params["error_description"].contains("already been used"));
}
