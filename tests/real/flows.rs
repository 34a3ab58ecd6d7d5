//! Whole flows in headless Chromium against real Hydra and Kratos: the client application
//! starts each one, Hydra sends the browser to Hera, Hera to Kratos, Kratos to Hera's pages of
//! its flows and back, and each test checks what the application finally receives and what
//! Hydra and Kratos then hold. Hera's consent, logout and connected-apps pages are driven with
//! the keyboard.

use std::time::Duration;

use fantoccini::key::Key;
use serde_json::{json, Value};

use crate::client_app::Outcome;
use crate::driver::{Browser, Look};
use crate::kratos_pages;
use crate::stack::{cookie_header, Person, Setup, Stack};

/// Opens the client app's start page for `client_id` and follows its "Sign in" link.
async fn start_flow(browser: &Browser, stack: &Stack, client_id: &str, params: &[(&str, &str)]) {
    browser
        .goto(&stack.client_app.start_url(client_id, params))
        .await;
    browser.tab_to("#sign-in").await;
    browser.press(Key::Enter).await;
}

/// Waits for the client app's callback and returns what the app received.
async fn received(browser: &Browser, stack: &Stack) -> Outcome {
    browser.wait_for_url(&stack.client_app.callback_url()).await;
    browser.find("h1").await;
    stack.client_app.last_outcome()
}

/// The `sub` of the ID token the app received at its callback.
async fn received_subject(browser: &Browser, stack: &Stack) -> String {
    let (_, claims) = tokens(&received(browser, stack).await);
    claims["sub"].as_str().unwrap_or_default().to_owned()
}

/// The granted scope and the ID token's claims of an outcome with tokens.
fn tokens(outcome: &Outcome) -> (String, Value) {
    match outcome {
        Outcome::Tokens { scope, claims, .. } => (scope.clone(), claims.clone()),
        other => panic!("the app got no tokens: {other:?}"),
    }
}

/// Waits for Hera's consent page and reads it: Hera refuses an answer given sooner than
/// `HERA_CONSENT_MIN_DELAY_MS` (its default here, one second) after showing the page, so a
/// person takes at least that long before pressing a button.
async fn read_consent_page(browser: &Browser, stack: &Stack) -> String {
    browser.wait_for_url(&stack.hera("/consent")).await;
    browser.find("main h1").await;
    let text = browser.page_text().await;
    let reading = hera::cli::Settings::defaults().consent_min_delay + Duration::from_millis(200);
    tokio::time::sleep(reading).await;
    text
}

/// On Hera's consent page: untick `untick`, tick "remember" if asked, and allow.
async fn consent(browser: &Browser, stack: &Stack, untick: &[&str], remember: bool) {
    read_consent_page(browser, stack).await;
    for scope in untick {
        browser.tab_to(&format!("input[value={scope}]")).await;
        browser.press(Key::Space).await;
    }
    if remember {
        browser.tab_to("#remember").await;
        browser.press(Key::Space).await;
    }
    browser.tab_to("button[value=accept]").await;
    browser.press(Key::Enter).await;
}

/// What most tests start with: the stack, its two apps, Ada in Kratos (with her identity id) and
/// a browser.
async fn with_ada(setup: Setup) -> (Stack, Person, String, Browser) {
    let stack = Stack::start_with(setup).await;
    stack.register_apps().await;
    let ada = Person::ada();
    let ada_id = stack.create_person(&ada).await;
    let browser = Browser::open(Look::default()).await;
    (stack, ada, ada_id, browser)
}

/// Starts a flow for `client_id` and signs `person` in on Kratos's page.
async fn sign_in_to(
    browser: &Browser,
    stack: &Stack,
    client_id: &str,
    params: &[(&str, &str)],
    person: &Person,
) {
    start_flow(browser, stack, client_id, params).await;
    kratos_pages::sign_in(browser, stack, person).await;
}

/// Signs `person` in to Photos for `openid email` and allows it on Hera's consent page
/// (remembered if asked); returns what the app received.
async fn allow_photos(
    browser: &Browser,
    stack: &Stack,
    person: &Person,
    remember: bool,
) -> Outcome {
    sign_in_to(
        browser,
        stack,
        "photos",
        &[("scope", "openid email")],
        person,
    )
    .await;
    consent(browser, stack, &[], remember).await;
    received(browser, stack).await
}

/// The Kratos identity id of `person`.
async fn identity_id(stack: &Stack, person: &Person) -> String {
    let identity = stack
        .identity_by_email(&person.email)
        .await
        .unwrap_or_else(|| panic!("Kratos has no identity for {}", person.email));
    identity["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_new_person_signs_up_and_the_app_receives_only_what_they_granted() {
    let stack = Stack::start().await;
    stack.register_client("photos", "Photos", json!({})).await;
    let ada = Person::ada();
    let browser = Browser::open(Look::default()).await;

    start_flow(
        &browser,
        &stack,
        "photos",
        &[
            ("scope", "openid email profile"),
            ("prompt", "registration"),
        ],
    )
    .await;
    let mark = stack.mail.count();
    kratos_pages::sign_up(&browser, &stack, &ada).await;
    // Kratos signs the new person in and asks for the code it mailed, then continues to Hera.
    kratos_pages::verify(&browser, &stack, &ada.email, mark).await;

    let text = read_consent_page(&browser, &stack).await;
    assert!(
        text.contains("Allow Photos to access your account?"),
        "{text}"
    );
    assert!(text.contains(&format!("Email: {}", ada.email)), "{text}");
    consent(&browser, &stack, &["profile"], false).await;

    let (scope, claims) = tokens(&received(&browser, &stack).await);
    assert_eq!(scope, "openid email");
    assert_eq!(claims["sub"], identity_id(&stack, &ada).await);
    assert_eq!(claims["email"], ada.email.as_str());
    assert_eq!(claims["email_verified"], true, "{claims}");
    for profile_claim in ["name", "given_name", "family_name"] {
        assert!(
            claims.get(profile_claim).is_none(),
            "profile was not granted: {claims}"
        );
    }
    assert_eq!(claims["acr"], "aal1");
    assert_eq!(claims["amr"], json!(["pwd"]));
    browser.close().await;
}

#[tokio::test]
async fn a_remembered_consent_lets_the_next_flow_through_without_asking() {
    let (stack, ada, ada_id, browser) = with_ada(Setup::default()).await;

    let outcome = allow_photos(&browser, &stack, &ada, true).await;
    assert_eq!(tokens(&outcome).0, "openid email");

    // The second flow: no Kratos page, no consent page, straight back to the app.
    start_flow(&browser, &stack, "photos", &[("scope", "openid email")]).await;
    let (scope, claims) = tokens(&received(&browser, &stack).await);
    assert_eq!(scope, "openid email");
    assert_eq!(claims["sub"], ada_id.as_str());
    assert_eq!(stack.client_app.outcomes().len(), 2);
    let sessions = stack.consent_sessions(&ada_id).await;
    assert!(
        sessions
            .iter()
            .any(|s| s["remember"] == true && s["grant_scope"] == json!(["openid", "email"])),
        "the person's choice is remembered: {sessions:?}"
    );
    browser.close().await;
}

#[tokio::test]
async fn a_first_party_app_gets_its_code_without_a_consent_page_and_then_silently() {
    let (stack, ada, ada_id, browser) = with_ada(Setup::default()).await;

    sign_in_to(
        &browser,
        &stack,
        "own-app",
        &[("scope", "openid email profile")],
        &ada,
    )
    .await;
    let (scope, claims) = tokens(&received(&browser, &stack).await);
    assert_eq!(scope, "openid email profile");
    assert_eq!(claims["given_name"], "Ada");
    assert_eq!(claims["family_name"], "Lovelace");
    let sessions = stack.consent_sessions(&ada_id).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        (&sessions[0]["remember"], &sessions[0]["remember_for"]),
        (&json!(true), &json!(86_400)),
        "an automatic accept is remembered, so silent sign-ins work: {sessions:?}"
    );

    // A silent sign-in (prompt=none) now goes straight through.
    start_flow(
        &browser,
        &stack,
        "own-app",
        &[("scope", "openid email profile"), ("prompt", "none")],
    )
    .await;
    let (scope, claims) = tokens(&received(&browser, &stack).await);
    assert_eq!(scope, "openid email profile");
    assert_eq!(claims["sub"], ada_id.as_str());
    browser.close().await;
}

#[tokio::test]
async fn denying_consent_sends_access_denied_to_the_app() {
    let (stack, ada, ada_id, browser) = with_ada(Setup::default()).await;

    sign_in_to(
        &browser,
        &stack,
        "photos",
        &[("scope", "openid email")],
        &ada,
    )
    .await;
    read_consent_page(&browser, &stack).await;
    browser.tab_to("button[value=reject]").await;
    browser.press(Key::Enter).await;

    assert_eq!(
        received(&browser, &stack).await,
        Outcome::Error {
            error: "access_denied".into()
        }
    );
    assert!(stack.consent_sessions(&ada_id).await.is_empty());
    browser.close().await;
}

#[tokio::test]
async fn prompt_none_prompt_login_and_max_age_decide_when_to_sign_in_again() {
    let (stack, ada, _, browser) = with_ada(Setup::default()).await;

    // Signed out, a silent request fails at Hydra.
    start_flow(
        &browser,
        &stack,
        "own-app",
        &[("scope", "openid"), ("prompt", "none")],
    )
    .await;
    assert_eq!(
        received(&browser, &stack).await,
        Outcome::Error {
            error: "login_required".into()
        }
    );

    sign_in_to(&browser, &stack, "own-app", &[("scope", "openid")], &ada).await;
    let first = tokens(&received(&browser, &stack).await).1;
    let auth_time = |claims: &Value| claims["auth_time"].as_i64().unwrap();

    // prompt=login: signed in already, but the app asked for a fresh sign-in at Kratos.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sign_in_to(
        &browser,
        &stack,
        "own-app",
        &[("scope", "openid"), ("prompt", "login")],
        &ada,
    )
    .await;
    let second = tokens(&received(&browser, &stack).await).1;
    assert!(
        auth_time(&second) > auth_time(&first),
        "a new sign-in: {first} then {second}"
    );

    // A generous max_age reuses the session without any page ...
    start_flow(
        &browser,
        &stack,
        "own-app",
        &[("scope", "openid"), ("max_age", "3600")],
    )
    .await;
    let third = tokens(&received(&browser, &stack).await).1;
    assert_eq!(auth_time(&third), auth_time(&second));

    // ... one the session is older than does not.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    sign_in_to(
        &browser,
        &stack,
        "own-app",
        &[("scope", "openid"), ("max_age", "1")],
        &ada,
    )
    .await;
    let fourth = tokens(&received(&browser, &stack).await).1;
    assert!(auth_time(&fourth) > auth_time(&third), "{fourth}");
    browser.close().await;
}

#[tokio::test]
async fn a_login_hint_for_another_account_signs_that_account_in() {
    let (stack, ada, ada_id, browser) = with_ada(Setup::default()).await;
    let bob = Person::bob();
    let bob_id = stack.create_person(&bob).await;

    sign_in_to(&browser, &stack, "own-app", &[("scope", "openid")], &bob).await;
    assert_eq!(received_subject(&browser, &stack).await, bob_id);

    // Bob is signed in; the app asks for Ada. Kratos asks who is there, and Ada signs in.
    sign_in_to(
        &browser,
        &stack,
        "own-app",
        &[("scope", "openid"), ("login_hint", &ada.email)],
        &ada,
    )
    .await;
    assert_eq!(received_subject(&browser, &stack).await, ada_id);
    let (status, session) = stack.whoami(&cookie_header(&browser).await).await;
    assert_eq!(status, 200);
    assert_eq!(session["identity"]["id"], ada_id.as_str());
    browser.close().await;
}

#[tokio::test]
async fn after_switching_accounts_the_new_code_is_for_the_new_person() {
    let (stack, ada, ada_id, browser) = with_ada(Setup::default()).await;
    let bob = Person::bob();
    let bob_id = stack.create_person(&bob).await;

    sign_in_to(&browser, &stack, "own-app", &[("scope", "openid")], &ada).await;
    assert_eq!(received_subject(&browser, &stack).await, ada_id);

    // On Hera's home page: sign out of Kratos (Hydra still remembers Ada), sign in as Bob.
    browser.goto(&stack.hera("/")).await;
    browser.tab_to("a[href*='/self-service/logout']").await;
    browser.press(Key::Enter).await;
    browser.wait_for_url(&stack.hera("/")).await;
    browser.tab_to("a.button-primary").await;
    browser.press(Key::Enter).await;
    kratos_pages::sign_in(&browser, &stack, &bob).await;
    browser.wait_for_url(&stack.hera("/")).await;
    assert!(browser.page_text().await.contains(&bob.email));

    // Hydra offers its remembered Ada; Hera answers with Bob, without another sign-in.
    start_flow(&browser, &stack, "own-app", &[("scope", "openid")]).await;
    let (_, claims) = tokens(&received(&browser, &stack).await);
    assert_eq!(claims["sub"], bob_id.as_str());
    browser.close().await;
}

#[tokio::test]
async fn an_app_asking_for_a_second_factor_gets_one() {
    // Sign-ins stay at aal1 until something asks for more, so the step-up is Hera's doing.
    let (stack, ada, _, browser) = with_ada(Setup {
        kratos_env: vec![("SESSION_WHOAMI_REQUIRED_AAL".into(), "aal1".into())],
        ..Setup::default()
    })
    .await;

    sign_in_to(&browser, &stack, "own-app", &[("scope", "openid")], &ada).await;
    let (_, claims) = tokens(&received(&browser, &stack).await);
    assert_eq!(
        (&claims["acr"], &claims["amr"]),
        (&json!("aal1"), &json!(["pwd"]))
    );
    let secret = kratos_pages::enrol_totp(&browser, &stack).await;
    browser.close().await;

    // Another browser: a password-only sign-in, then a request for a second factor.
    let browser = Browser::open(Look::default()).await;
    sign_in_to(&browser, &stack, "own-app", &[("scope", "openid")], &ada).await;
    let (_, claims) = tokens(&received(&browser, &stack).await);
    assert_eq!(claims["acr"], "aal1", "{claims}");
    start_flow(
        &browser,
        &stack,
        "own-app",
        &[("scope", "openid"), ("acr_values", "aal2")],
    )
    .await;
    kratos_pages::enter_totp(&browser, &stack, &secret).await;
    let (_, claims) = tokens(&received(&browser, &stack).await);
    assert_eq!(claims["acr"], "aal2", "{claims}");
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    browser.close().await;
}

#[tokio::test]
async fn with_an_authenticator_app_every_sign_in_asks_for_its_code() {
    // The local stack's Kratos: `session.whoami.required_aal: highest_available`.
    let (stack, ada, _, browser) = with_ada(Setup::default()).await;
    sign_in_to(&browser, &stack, "own-app", &[("scope", "openid")], &ada).await;
    received(&browser, &stack).await;
    let secret = kratos_pages::enrol_totp(&browser, &stack).await;
    browser.close().await;

    let browser = Browser::open(Look::default()).await;
    sign_in_to(&browser, &stack, "own-app", &[("scope", "openid")], &ada).await;
    kratos_pages::enter_totp(&browser, &stack, &secret).await;
    let (_, claims) = tokens(&received(&browser, &stack).await);
    assert_eq!(claims["acr"], "aal2", "{claims}");
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    browser.close().await;

    // Someone who stops after the password holds a session Kratos's whoami refuses (403,
    // second factor required); Hera sends them back for the code, then on to the app.
    let browser = Browser::open(Look::default()).await;
    sign_in_to(&browser, &stack, "own-app", &[("scope", "openid")], &ada).await;
    browser.find("#section-totp input[name=totp_code]").await;
    assert_eq!(stack.whoami(&cookie_header(&browser).await).await.0, 403);
    browser.goto(&stack.hera("/")).await;
    assert!(
        browser
            .page_text()
            .await
            .contains("confirm it is you with your second factor"),
        "the home page asks for the second factor"
    );
    start_flow(&browser, &stack, "own-app", &[("scope", "openid")]).await;
    kratos_pages::enter_totp(&browser, &stack, &secret).await;
    let (_, claims) = tokens(&received(&browser, &stack).await);
    assert_eq!(claims["acr"], "aal2", "{claims}");
    browser.close().await;
}

#[tokio::test]
async fn signing_out_of_an_app_ends_the_hydra_and_the_kratos_session() {
    let (stack, ada, _, browser) = with_ada(Setup::default()).await;
    allow_photos(&browser, &stack, &ada, false).await;
    let cookies = cookie_header(&browser).await;
    assert_eq!(stack.whoami(&cookies).await.0, 200);

    browser
        .goto(&format!(
            "{}/sign-out?client_id=photos",
            stack.client_app.url
        ))
        .await;
    browser.tab_to("#sign-out").await;
    browser.press(Key::Enter).await;
    browser.wait_for_url(&stack.hera("/logout")).await;
    let text = browser.page_text().await;
    assert!(text.contains("Photos"), "{text}");
    assert!(
        text.contains(&format!("Signed in as {}", ada.email)),
        "{text}"
    );
    browser.tab_to("button[value=accept]").await;
    browser.press(Key::Enter).await;
    browser
        .wait_for_url(&stack.client_app.signed_out_url())
        .await;
    browser.find("#signed-out").await;
    assert_eq!(
        stack.client_app.last_outcome(),
        Outcome::SignedOut {
            state_matches: true
        }
    );

    // Hydra ends the Kratos session (identity_provider_session_id) shortly after.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while stack.whoami(&cookies).await.0 != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "the Kratos session outlived the logout"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And Hydra's: the next flow starts at Kratos's sign-in page again.
    sign_in_to(
        &browser,
        &stack,
        "photos",
        &[("scope", "openid email")],
        &ada,
    )
    .await;
    browser.wait_for_url(&stack.hera("/consent")).await;
    browser.close().await;
}

#[tokio::test]
async fn removing_a_connected_app_means_it_has_to_ask_again() {
    let (stack, ada, ada_id, browser) = with_ada(Setup::default()).await;
    allow_photos(&browser, &stack, &ada, true).await;
    assert_eq!(stack.consent_sessions(&ada_id).await.len(), 1);

    browser.goto(&stack.hera("/connected-apps")).await;
    let text = browser.page_text().await;
    assert!(text.contains("Photos"), "{text}");
    assert!(text.contains("See your email address"), "{text}");
    browser.tab_to(".revoke button").await;
    browser.press(Key::Enter).await;
    browser.find(".notice").await;
    assert!(browser
        .page_text()
        .await
        .contains("Photos no longer has access to your account."));
    assert!(stack.consent_sessions(&ada_id).await.is_empty());

    // The remembered consent is gone: the app has to ask again.
    start_flow(&browser, &stack, "photos", &[("scope", "openid email")]).await;
    consent(&browser, &stack, &[], false).await;
    assert_eq!(tokens(&received(&browser, &stack).await).0, "openid email");
    browser.close().await;
}

#[tokio::test]
async fn a_person_who_forgot_their_password_recovers_the_account_with_a_mailed_code() {
    let (stack, ada, ada_id, browser) = with_ada(Setup::default()).await;

    // From the sign-in page of an app's flow: "Forgot your password?".
    start_flow(&browser, &stack, "own-app", &[("scope", "openid")]).await;
    browser.wait_for_url(&stack.hera("/login?flow=")).await;
    browser
        .click(".flow-links a[href^='/recovery?return_to=']")
        .await;
    kratos_pages::recover(&browser, &stack, &ada.email).await;
    // Recovered and signed in, on the settings page: a new password, after which Kratos goes on
    // to the sign-in the person started, and the app gets its code without another sign-in.
    let renewed = Person {
        password: "a brand new passphrase for Ada".into(),
        ..ada.clone()
    };
    kratos_pages::set_password(&browser, &stack, &renewed.password).await;
    let (_, claims) = tokens(&received(&browser, &stack).await);
    assert_eq!(claims["sub"], ada_id.as_str());
    assert_eq!(
        claims["amr"],
        json!(["otp"]),
        "signed in by the recovery code"
    );

    sign_in_to(
        &browser,
        &stack,
        "own-app",
        &[("scope", "openid"), ("prompt", "login")],
        &renewed,
    )
    .await;
    let (_, claims) = tokens(&received(&browser, &stack).await);
    assert_eq!(claims["sub"], ada_id.as_str());
    assert!(
        claims["amr"].as_array().unwrap().contains(&json!("pwd")),
        "{claims}"
    );
    browser.close().await;
}
