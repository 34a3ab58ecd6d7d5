//! The whole redirect chain through Hera with Hydra's public side: authorize → login →
//! consent → code → token, as a client application experiences it.

use serde_json::{json, Value};
use time::Duration;
use url::Url;

use crate::support::fake_hydra::{client, with};
use crate::support::fake_hydra_public::s256;
use crate::support::{
    bob, hidden_field, id_token_claims, query, sign_in_ada, TestApp, ADA, ADA_EMAIL, BOB, BOB_EMAIL,
};

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

/// The page at `url`, as the browser gets it.
async fn page(app: &TestApp, url: &str) -> String {
    app.browser
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Answers the consent page `html` with "Allow" and the fields in `ticked`.
async fn allow(app: &TestApp, html: &str, ticked: &[(&str, &str)]) -> reqwest::Response {
    let challenge = hidden_field(html, "consent_challenge");
    let token = hidden_field(html, "csrf_token");
    let mut form = vec![
        ("consent_challenge", challenge.as_str()),
        ("csrf_token", token.as_str()),
    ];
    form.extend_from_slice(ticked);
    form.push(("action", "accept"));
    app.post_consent(&form).await
}

#[tokio::test]
async fn a_first_party_app_gets_a_code_and_tokens_without_seeing_a_page() {
    let app = TestApp::spawn().await;
    let public = &app.public;
    sign_in_ada(&app, Duration::ZERO);
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
    assert_eq!(claims["email"], ADA_EMAIL);
    assert_eq!(claims["email_verified"], true);
    assert!(token.get("refresh_token").is_none());
}

#[tokio::test]
async fn a_third_party_app_gets_only_what_the_user_ticked() {
    let app = TestApp::spawn().await;
    let public = &app.public;
    sign_in_ada(&app, Duration::ZERO);
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
    let html = page(&app, &consent_url).await;
    let posted = allow(
        &app,
        &html,
        &[("grant_scope", "openid"), ("grant_scope", "profile")],
    )
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
    sign_in_ada(&app, Duration::ZERO);
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
    sign_in_ada(&app, Duration::ZERO);
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
async fn a_login_verifier_works_again_in_the_same_browser_but_a_consent_verifier_only_once() {
    let app = TestApp::spawn().await;
    let public = &app.public;
    sign_in_ada(&app, Duration::ZERO);
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
    let to_consent =
        crate::support::location_of(&app.browser.get(&with_verifier).send().await.unwrap());
    assert!(
        to_consent.starts_with(&app.url("/consent?consent_challenge=")),
        "{to_consent}"
    );

    // Hydra accepts the login verifier again (its login-session write is an upsert).
    let replay = app.browser.get(&with_verifier).send().await.unwrap();
    let again = crate::support::location_of(&replay);
    assert!(
        again.starts_with(&app.url("/consent?consent_challenge=")),
        "{again}"
    );

    // Hera accepts the first-party consent (the latest one: its CSRF cookie replaced the
    // first's); its verifier leads to the code once.
    let with_consent_verifier =
        crate::support::location_of(&app.browser.get(&again).send().await.unwrap());
    assert!(with_consent_verifier.contains("consent_verifier="));
    let first = app
        .browser
        .get(&with_consent_verifier)
        .send()
        .await
        .unwrap();
    assert!(query(&crate::support::location_of(&first)).contains_key("code"));
    let replay = app
        .browser
        .get(&with_consent_verifier)
        .send()
        .await
        .unwrap();
    let location = crate::support::location_of(&replay);
    let params = query(&location);
    assert_eq!(params["error"], "access_denied");
    assert!(params["error_description"].contains("already been used"));
}

/// Follows the browser from `url` until it reaches `stop_prefix`. Each time the chain reaches
/// Kratos's sign-in, the person signs in there as `who` (a fresh session) and the browser
/// continues at the flow's `return_to`, as Kratos sends it. Returns where it stopped and how
/// many Kratos sign-ins it took.
async fn follow_signing_in_as(
    app: &TestApp,
    url: &str,
    stop_prefix: &str,
    who: (&str, &str),
) -> (String, usize) {
    let kratos = crate::support::KRATOS_BROWSER_URL;
    let mut url = url.to_owned();
    let mut sign_ins = 0;
    for _ in 0..30 {
        if url.starts_with(stop_prefix) {
            return (url, sign_ins);
        }
        if url.starts_with(kratos) {
            sign_ins += 1;
            let (id, email) = who;
            let now = time::OffsetDateTime::now_utc();
            let identity = crate::support::fake_kratos::identity(id, email, "Someone", "Else");
            app.kratos.add_identity(identity.clone());
            let token = format!("token-{id}-{sign_ins}");
            app.kratos.add_session(
                &token,
                crate::support::fake_kratos::session(
                    &format!("5e55{sign_ins:04}-0000-4000-8000-000000000000"),
                    identity,
                    now,
                    now + Duration::hours(1),
                    "aal1",
                    &["password"],
                ),
            );
            app.sign_in_browser(&token);
            url = query(&url)["return_to"].clone();
            continue;
        }
        let response = app.browser.get(&url).send().await.unwrap();
        assert!(
            response.status().is_redirection(),
            "the chain stopped at {url} ({})",
            response.status()
        );
        let next = crate::support::location_of(&response);
        url = Url::parse(&url).unwrap().join(&next).unwrap().to_string();
    }
    panic!("more than 30 redirects")
}

#[tokio::test]
async fn a_first_party_apps_silent_sign_in_works_after_its_first_sign_in() {
    let app = TestApp::spawn().await;
    let public = &app.public;
    sign_in_ada(&app, Duration::ZERO);
    public.register_client(with(
        client("own-web"),
        json!({"client_secret": "own-web-secret", "metadata": {"first_party": true}}),
    ));
    let redirect_uri = "https://own-web.example.com/callback";
    let authorize = |extra: &[(&'static str, &'static str)]| {
        let mut params = vec![
            ("client_id", "own-web"),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("state", "state-1234567"),
        ];
        params.extend_from_slice(extra);
        public.authorize_url(&params)
    };

    // Before any sign-in of this app, Hydra refuses a silent one itself.
    let landed = app
        .follow_until(&authorize(&[("prompt", "none")]), redirect_uri)
        .await
        .unwrap();
    assert_eq!(query(&landed)["error"], "login_required");

    let landed = app
        .follow_until(&authorize(&[]), redirect_uri)
        .await
        .unwrap();
    assert!(query(&landed).contains_key("code"), "{landed}");
    let accepted = app.hydra.accepted_consents();
    assert_eq!(accepted[0]["remember"], true);
    assert_eq!(accepted[0]["remember_for"], 86_400);

    // Hydra lets prompt=none through only with a remembered consent: now it has one.
    let landed = app
        .follow_until(&authorize(&[("prompt", "none")]), redirect_uri)
        .await
        .unwrap();
    let params = query(&landed);
    assert!(
        params.contains_key("code"),
        "silent sign-in refused: {landed}"
    );
}

#[tokio::test]
async fn silent_sign_ins_fail_as_hydra_fails_them_without_a_session_or_a_remembered_consent() {
    let app = TestApp::spawn().await;
    let public = &app.public;
    sign_in_ada(&app, Duration::ZERO);
    public.register_client(with(client("own"), json!({"skip_consent": true})));
    public.register_client(client("photos"));
    let redirect_uri = "https://photos.example.com/callback";
    let silent = public.authorize_url(&[
        ("client_id", "photos"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "state-abcdefg"),
        ("prompt", "none"),
    ]);

    // No Hydra session: login_required from Hydra itself, Hera is never asked.
    let landed = app.follow_until(&silent, redirect_uri).await.unwrap();
    let params = query(&landed);
    assert_eq!(params["error"], "login_required");
    assert!(params["error_description"].contains("no existing login session"));
    assert!(app.hydra_calls().is_empty(), "{:?}", app.hydra_calls());

    // Hydra now remembers Ada's login (through another app), but photos has no remembered
    // consent: consent_required, and Hera's consent page is never asked.
    let own = public.authorize_url(&[
        ("client_id", "own"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "state-1234567"),
    ]);
    app.follow_until(&own, "https://own.example.com/callback")
        .await
        .unwrap();
    let consent_reads = |app: &TestApp| {
        app.hydra_calls()
            .iter()
            .filter(|c| c.starts_with("GET /admin/oauth2/auth/requests/consent"))
            .count()
    };
    let before = consent_reads(&app);
    let landed = app.follow_until(&silent, redirect_uri).await.unwrap();
    let params = query(&landed);
    assert_eq!(params["error"], "consent_required");
    assert!(params["error_description"].contains("no previous consent was found"));
    assert_eq!(consent_reads(&app), before);
}

#[tokio::test]
async fn a_login_hint_for_another_account_takes_exactly_one_kratos_sign_in() {
    let app = TestApp::spawn().await;
    let public = &app.public;
    sign_in_ada(&app, Duration::ZERO);
    public.register_client(with(
        client("own"),
        json!({"client_secret": "own-secret-value", "skip_consent": true}),
    ));
    let redirect_uri = "https://own.example.com/callback";
    let authorize = |extra: &[(&'static str, &'static str)]| {
        let mut params = vec![
            ("client_id", "own"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "state-1234567"),
        ];
        params.extend_from_slice(extra);
        public.authorize_url(&params)
    };
    // Ada signs in once; Hydra remembers her.
    app.follow_until(&authorize(&[]), redirect_uri)
        .await
        .unwrap();
    assert_eq!(app.public.remembered_logins(), 1);

    // The app asks for Bob. Hera sends the browser to Kratos once; Bob signs in; Hydra refuses
    // Bob for Ada's remembered login and restarts with prompt=login on a new challenge.
    let (landed, sign_ins) = follow_signing_in_as(
        &app,
        &authorize(&[("login_hint", BOB_EMAIL)]),
        redirect_uri,
        (BOB, BOB_EMAIL),
    )
    .await;

    assert_eq!(sign_ins, 1, "one Kratos sign-in for one account switch");
    let code = query(&landed)["code"].clone();
    let token: Value = reqwest::Client::new()
        .post(format!("{}/oauth2/token", public.url))
        .basic_auth("own", Some("own-secret-value"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(id_token_claims(&token)["sub"], BOB);
}

#[tokio::test]
async fn switching_accounts_at_kratos_takes_no_second_sign_in_after_hydras_restart() {
    let app = TestApp::spawn().await;
    let public = &app.public;
    sign_in_ada(&app, Duration::ZERO);
    public.register_client(with(client("own"), json!({"skip_consent": true})));
    let redirect_uri = "https://own.example.com/callback";
    let start = public.authorize_url(&[
        ("client_id", "own"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "state-1234567"),
    ]);
    app.follow_until(&start, redirect_uri).await.unwrap();

    // Bob signs in to Kratos in this browser (another tab); Hydra still remembers Ada.
    let now = time::OffsetDateTime::now_utc();
    let bob = bob();
    app.kratos.add_identity(bob.clone());
    app.kratos.add_session(
        "bob-token",
        crate::support::fake_kratos::session(
            "5e550000-0000-4000-8000-000000000b0b",
            bob,
            now - Duration::minutes(5),
            now + Duration::hours(1),
            "aal1",
            &["password"],
        ),
    );
    app.sign_in_browser("bob-token");

    let (landed, sign_ins) =
        follow_signing_in_as(&app, &start, redirect_uri, (BOB, BOB_EMAIL)).await;

    assert_eq!(
        sign_ins, 0,
        "Bob is signed in; Hydra's own prompt=login needs no sign-in"
    );
    assert!(query(&landed).contains_key("code"), "{landed}");
    let subjects: Vec<String> = app
        .hydra
        .accepted_logins()
        .iter()
        .map(|l| l["subject"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(subjects.last().map(String::as_str), Some(BOB));
    assert!(!subjects.contains(&String::new()));
}

#[tokio::test]
async fn a_remembered_consent_covers_the_apis_it_granted_and_a_new_api_is_asked_for() {
    const API_A: &str = "https://a.api.example.com";
    const API_B: &str = "https://b.api.example.com";
    let app = TestApp::spawn().await;
    let public = &app.public;
    sign_in_ada(&app, Duration::ZERO);
    public.register_client(with(
        client("photos"),
        json!({"client_secret": "photos-secret-value", "audience": [API_A, API_B]}),
    ));
    let redirect_uri = "https://photos.example.com/callback";
    let start = |audience: &str| {
        public.authorize_url(&[
            ("client_id", "photos"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "state-abcdefg"),
            ("redirect_uri", redirect_uri),
            ("audience", audience),
        ])
    };

    // First time: the page, and Ada allows API A and asks Hydra to remember it.
    let (consent_url, status) = app
        .follow_until(&start(API_A), redirect_uri)
        .await
        .unwrap_err();
    assert_eq!(status, 200);
    let html = page(&app, &consent_url).await;
    let posted = allow(
        &app,
        &html,
        &[("grant_scope", "openid"), ("remember", "true")],
    )
    .await;
    app.follow_until(&crate::support::location_of(&posted), redirect_uri)
        .await
        .unwrap();

    // API A again: Hydra skips, and Hera agrees without a page.
    app.follow_until(&start(API_A), redirect_uri)
        .await
        .expect("a remembered API needs no page");

    // API B: Hydra still says skip (its scopes are covered), but Ada never allowed API B.
    let (consent_url, status) = app
        .follow_until(&start(API_B), redirect_uri)
        .await
        .unwrap_err();
    assert_eq!(status, 200, "the consent page is shown for the new API");
    assert!(consent_url.starts_with(&app.url("/consent")));
    assert!(page(&app, &consent_url).await.contains(API_B));
    let accepted = app.hydra.accepted_consents();
    assert_eq!(accepted.len(), 2, "the first page and the remembered API A");
    assert!(accepted
        .iter()
        .all(|accept| accept["grant_access_token_audience"] == json!([API_A])));
}
