//! End to end in headless Chromium: a client application starts each flow, Hydra's public
//! side, Hera and Kratos's self-service API (Hera renders its pages) take the browser through
//! it, and each test checks what the application finally receives. Hera's pages are driven with the keyboard only (Tab,
//! Space, Enter, typing) and every one of them, in every state, is checked with axe-core for
//! WCAG 2.1 A/AA violations. `HERA_SCREENSHOTS=1` also writes `docs/screenshots/`.

use fantoccini::key::Key;
use serde_json::{json, Value};

use crate::client_app::{ClientApp, Outcome};
use crate::driver::{Browser, Look};
use crate::support::fake_hydra::{client, with, ConsentSessionSpec, ConsentSpec, LogoutSpec};
use crate::support::{ada, TestApp, ADA, ADA_EMAIL as EMAIL};

pub const PASSWORD: &str = "correct horse battery staple";

/// Hera, the fakes and the client application, wired as in production.
pub struct World {
    pub app: TestApp,
    pub client_app: ClientApp,
}

impl World {
    pub async fn start() -> World {
        let app = TestApp::spawn_with(|settings| {
            settings.kratos_browser_url = settings.kratos_public_url.clone();
        })
        .await;
        app.hydra.set_public_url(&app.public.url);
        app.public.set_identity_provider(app.kratos.sessions());
        app.kratos.add_user(EMAIL, PASSWORD, ada());
        let client_app = ClientApp::start(&app.public.url).await;
        let registered = |id: &str, name: &str, patch: Value| {
            with(
                with(client(id), json!({"client_name": name})),
                with(
                    json!({
                        "client_secret": format!("{id}-secret"),
                        "redirect_uris": [client_app.callback_url()],
                        "post_logout_redirect_uris": [client_app.signed_out_url()],
                        "scope": "openid offline_access email profile photos.read",
                    }),
                    patch,
                ),
            )
        };
        app.public.register_client(registered(
            "photos",
            "Photos",
            json!({"metadata": {"theme": {"accent": "#0a7f3f"}}}),
        ));
        app.public.register_client(registered(
            "own-app",
            "Our own app",
            json!({"metadata": {"first_party": true}}),
        ));
        app.public.register_client(registered(
            "tv-app",
            "Living-room TV",
            json!({"grant_types": ["urn:ietf:params:oauth:grant-type:device_code"], "metadata": {"theme": {"accent": "#ffd400"}}}),
        ));
        for id in ["photos", "own-app", "tv-app"] {
            client_app.add_client(id, Some(&format!("{id}-secret")));
        }
        World { app, client_app }
    }

    pub fn hera(&self, path: &str) -> String {
        self.app.url(path)
    }
}

/// Opens the client app's start page and follows its "Sign in" link by keyboard.
pub async fn start_flow(
    browser: &Browser,
    world: &World,
    client_id: &str,
    params: &[(&str, &str)],
) {
    browser
        .goto(&world.client_app.start_url(client_id, params))
        .await;
    browser.tab_to("#sign-in").await;
    browser.press(Key::Enter).await;
}

/// Signs in on Hera's sign-in page (Kratos's login flow) with the keyboard; a
/// re-authentication (`refresh`) asks for the password only.
async fn sign_in_at_kratos(browser: &Browser, world: &World) {
    browser.wait_for_url(&world.hera("/login?flow=")).await;
    browser.find("#password-password").await;
    let identifier = browser
        .client
        .find(fantoccini::Locator::Css("#password-identifier"))
        .await;
    if identifier.is_ok() {
        browser.tab_to("#password-identifier").await;
        browser.type_text(EMAIL).await;
    } else {
        assert!(browser.page_text().await.contains("Confirm it is you"));
    }
    browser.tab_to("#password-password").await;
    browser.type_text(PASSWORD).await;
    browser.press(Key::Enter).await;
}

/// Waits for the client app's callback page and returns what the app received.
pub async fn received(browser: &Browser, world: &World) -> Outcome {
    browser.wait_for_url(&world.client_app.callback_url()).await;
    browser.find("h1").await;
    world.client_app.last_outcome()
}

pub fn scope_of(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Tokens { scope, .. } => scope.clone(),
        other => panic!("the app got no tokens: {other:?}"),
    }
}

/// Checks a Hera page: its language, axe, and (on a phone) no sideways scrolling.
pub async fn check_page(browser: &Browser, state: &str, lang: &str) {
    browser.find("main h1").await;
    assert_eq!(browser.lang().await, lang, "{state}");
    browser.assert_accessible(state).await;
    browser.assert_no_horizontal_scroll(state).await;
}

#[tokio::test]
async fn a_third_party_app_receives_only_the_scopes_the_user_left_ticked() {
    let world = World::start().await;
    let browser = Browser::open(Look::default()).await;
    start_flow(
        &browser,
        &world,
        "photos",
        &[("scope", "openid email profile")],
    )
    .await;
    sign_in_at_kratos(&browser, &world).await;

    browser.wait_for_url(&world.hera("/consent")).await;
    check_page(&browser, "the consent page", "en").await;
    let text = browser.page_text().await;
    assert!(
        text.contains("Allow Photos to access your account?"),
        "{text}"
    );
    assert!(text.contains("Email: ada@example.com"), "{text}");
    // Keyboard only: untick "profile", then Allow.
    browser.tab_to("input[value=profile]").await;
    browser.press(Key::Space).await;
    browser
        .assert_accessible("the consent page with a scope unticked")
        .await;
    browser.tab_to("button[value=accept]").await;
    browser.press(Key::Enter).await;

    let outcome = received(&browser, &world).await;
    assert_eq!(scope_of(&outcome), "openid email");
    let Outcome::Tokens { claims, .. } = &outcome else {
        unreachable!()
    };
    assert_eq!(claims["sub"], ADA);
    assert_eq!(claims["email"], EMAIL);
    assert!(
        claims.get("name").is_none(),
        "profile was not granted: {claims}"
    );
    assert_eq!(browser.text("#scope").await, "openid email");
    browser.close().await;
}

#[tokio::test]
async fn a_first_party_app_gets_its_code_without_any_page_from_hera() {
    let world = World::start().await;
    let browser = Browser::open(Look::default()).await;
    start_flow(
        &browser,
        &world,
        "own-app",
        &[("scope", "openid email profile")],
    )
    .await;
    sign_in_at_kratos(&browser, &world).await;

    let outcome = received(&browser, &world).await;
    assert_eq!(scope_of(&outcome), "openid email profile");
    let consents = world.app.hydra.accepted_consents();
    assert_eq!(consents.len(), 1);
    assert_eq!(
        (&consents[0]["remember"], &consents[0]["remember_for"]),
        (&json!(true), &json!(86_400)),
        "an automatic accept is remembered, so silent sign-ins work"
    );

    // A silent sign-in (prompt=none) now goes straight through.
    start_flow(
        &browser,
        &world,
        "own-app",
        &[("scope", "openid email profile"), ("prompt", "none")],
    )
    .await;
    let outcome = received(&browser, &world).await;
    assert_eq!(scope_of(&outcome), "openid email profile");
    browser.close().await;
}

#[tokio::test]
async fn denying_consent_sends_access_denied_to_the_app() {
    let world = World::start().await;
    let browser = Browser::open(Look::default()).await;
    start_flow(&browser, &world, "photos", &[("scope", "openid email")]).await;
    sign_in_at_kratos(&browser, &world).await;
    browser.wait_for_url(&world.hera("/consent")).await;
    browser.tab_to("button[value=reject]").await;
    browser.press(Key::Enter).await;

    let outcome = received(&browser, &world).await;
    assert_eq!(
        outcome,
        Outcome::Error {
            error: "access_denied".into()
        }
    );
    assert_eq!(browser.text("#error").await, "access_denied");
    browser.close().await;
}

#[tokio::test]
async fn a_remembered_consent_lets_the_next_flow_through_without_asking() {
    let world = World::start().await;
    let browser = Browser::open(Look::default()).await;
    start_flow(&browser, &world, "photos", &[("scope", "openid email")]).await;
    sign_in_at_kratos(&browser, &world).await;
    browser.wait_for_url(&world.hera("/consent")).await;
    browser.tab_to("#remember").await;
    browser.press(Key::Space).await;
    browser.tab_to("button[value=accept]").await;
    browser.press(Key::Enter).await;
    assert_eq!(scope_of(&received(&browser, &world).await), "openid email");

    // The second flow: no Kratos page, no consent page, straight back to the app.
    start_flow(&browser, &world, "photos", &[("scope", "openid email")]).await;
    let outcome = received(&browser, &world).await;
    assert_eq!(scope_of(&outcome), "openid email");
    assert_eq!(world.client_app.outcomes().len(), 2);
    let consents = world.app.hydra.accepted_consents();
    assert_eq!(consents.len(), 2);
    assert_eq!(consents[0]["remember"], true, "the user's own choice");
    assert_eq!(
        consents[1]["remember"], false,
        "accepted by Hera, not asked"
    );
    assert_eq!(world.app.public.remembered_logins(), 1);
    browser.close().await;
}

#[tokio::test]
async fn prompt_login_makes_the_user_sign_in_again() {
    let world = World::start().await;
    let browser = Browser::open(Look::default()).await;
    start_flow(&browser, &world, "own-app", &[("scope", "openid")]).await;
    sign_in_at_kratos(&browser, &world).await;
    received(&browser, &world).await;
    let first_session = world.app.kratos.session_ids();

    start_flow(
        &browser,
        &world,
        "own-app",
        &[("scope", "openid"), ("prompt", "login")],
    )
    .await;
    // Signed in already, but the app asked for a fresh sign-in.
    sign_in_at_kratos(&browser, &world).await;
    let outcome = received(&browser, &world).await;
    assert_eq!(scope_of(&outcome), "openid");
    assert_eq!(world.client_app.outcomes().len(), 2);
    let second_session = world.app.kratos.session_ids();
    assert_eq!(second_session.len(), 1);
    assert_ne!(
        first_session, second_session,
        "a new Kratos sign-in happened"
    );
    let logins = world.app.hydra.accepted_logins();
    assert_eq!(
        logins[1]["identity_provider_session_id"],
        json!(second_session[0])
    );
    browser.close().await;
}

#[tokio::test]
async fn signing_out_is_confirmed_first_and_then_ends_every_session() {
    let world = World::start().await;
    let browser = Browser::open(Look::default()).await;
    start_flow(&browser, &world, "photos", &[("scope", "openid email")]).await;
    sign_in_at_kratos(&browser, &world).await;
    browser.wait_for_url(&world.hera("/consent")).await;
    browser.tab_to("button[value=accept]").await;
    browser.press(Key::Enter).await;
    received(&browser, &world).await;

    browser
        .goto(&format!(
            "{}/sign-out?client_id=photos",
            world.client_app.url
        ))
        .await;
    browser.tab_to("#sign-out").await;
    browser.press(Key::Enter).await;
    browser.wait_for_url(&world.hera("/logout")).await;
    check_page(&browser, "the logout page", "en").await;
    let text = browser.page_text().await;
    assert!(
        text.contains("Requested by") && text.contains("Photos"),
        "{text}"
    );
    assert!(text.contains("Signed in as ada@example.com"), "{text}");
    browser.tab_to("button[value=accept]").await;
    browser.press(Key::Enter).await;

    browser
        .wait_for_url(&world.client_app.signed_out_url())
        .await;
    browser.find("#signed-out").await;
    assert_eq!(
        world.client_app.last_outcome(),
        Outcome::SignedOut {
            state_matches: true
        }
    );
    assert!(
        world.app.kratos.session_ids().is_empty(),
        "Kratos session ended"
    );
    assert_eq!(
        world.app.public.remembered_logins(),
        0,
        "Hydra session ended"
    );
    browser.close().await;
}

#[tokio::test]
async fn staying_signed_in_keeps_every_session() {
    let world = World::start().await;
    let browser = Browser::open(Look::default()).await;
    start_flow(&browser, &world, "own-app", &[("scope", "openid")]).await;
    sign_in_at_kratos(&browser, &world).await;
    received(&browser, &world).await;
    browser
        .goto(&format!(
            "{}/sign-out?client_id=own-app",
            world.client_app.url
        ))
        .await;
    browser.tab_to("#sign-out").await;
    browser.press(Key::Enter).await;
    browser.wait_for_url(&world.hera("/logout")).await;
    browser.tab_to("button[value=reject]").await;
    browser.press(Key::Enter).await;

    // The client has no https client_uri, so Hera's home page it is.
    browser.wait_for_url(&world.hera("/")).await;
    check_page(&browser, "the home page, signed in", "en").await;
    assert!(browser
        .page_text()
        .await
        .contains("Signed in as ada@example.com"));
    assert_eq!(world.app.kratos.session_ids().len(), 1);
    assert!(!world
        .client_app
        .outcomes()
        .iter()
        .any(|o| matches!(o, Outcome::SignedOut { .. })));
    browser.close().await;
}

#[tokio::test]
async fn a_device_is_signed_in_with_the_code_it_shows() {
    let world = World::start().await;
    // The TV is a confidential client: it authenticates, as at the token endpoint.
    let device: Value = reqwest::Client::new()
        .post(format!("{}/oauth2/device/auth", world.app.public.url))
        .basic_auth("tv-app", Some("tv-app-secret"))
        .form(&[("client_id", "tv-app"), ("scope", "openid email")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = device["user_code"].as_str().unwrap();
    // Typed as the TV shows it, in two groups; the case is part of the code.
    let typed = format!("{} - {}", &code[..4], &code[4..]);

    let browser = Browser::open(Look::default()).await;
    browser
        .goto(device["verification_uri"].as_str().unwrap())
        .await;
    browser.wait_for_url(&world.hera("/device/verify")).await;
    check_page(&browser, "the device code form", "en").await;
    browser.tab_to("#user-code").await;
    browser.type_text("not a code!").await;
    browser.press(Key::Enter).await;
    browser.find("#user-code-problem").await;
    check_page(&browser, "the device code form with a problem", "en").await;
    // WebDriver's clear() blurs the field, so clear first, then Tab back to it.
    browser.find("#user-code").await.clear().await.unwrap();
    browser.tab_to("#user-code").await;
    browser.type_text(&typed).await;
    browser.press(Key::Enter).await;

    sign_in_at_kratos(&browser, &world).await;
    browser.wait_for_url(&world.hera("/consent")).await;
    assert!(browser
        .page_text()
        .await
        .contains("Allow Living-room TV to access your account?"));
    browser.tab_to("button[value=accept]").await;
    browser.press(Key::Enter).await;

    browser.wait_for_url(&world.hera("/device/success")).await;
    check_page(&browser, "the device success page", "en").await;
    assert!(browser
        .page_text()
        .await
        .contains("Living-room TV is now signed in on your device."));

    // What the device receives when it polls.
    let token: Value = reqwest::Client::new()
        .post(format!("{}/oauth2/token", world.app.public.url))
        .basic_auth("tv-app", Some("tv-app-secret"))
        .form(&[
            (
                "grant_type",
                crate::support::fake_hydra_public::DEVICE_GRANT,
            ),
            ("device_code", device["device_code"].as_str().unwrap()),
            ("client_id", "tv-app"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["scope"], "openid email", "{token}");
    assert!(token["access_token"].as_str().is_some());
    browser.close().await;
}

#[tokio::test]
async fn the_hydra_error_page_explains_and_the_app_receives_nothing() {
    let world = World::start().await;
    let browser = Browser::open(Look::default()).await;
    start_flow(&browser, &world, "no-such-app", &[("scope", "openid")]).await;
    browser.wait_for_url(&world.hera("/error")).await;
    check_page(&browser, "the Hydra error page", "en").await;
    let text = browser.page_text().await;
    assert!(
        text.contains("The application is not allowed to do this"),
        "{text}"
    );
    assert!(text.contains("Error code: invalid_client"), "{text}");
    assert!(world.client_app.outcomes().is_empty());
    browser.close().await;
}

#[tokio::test]
async fn removing_a_connected_app_takes_its_access_away() {
    let world = World::start().await;
    let browser = Browser::open(Look::default()).await;
    start_flow(&browser, &world, "photos", &[("scope", "openid email")]).await;
    sign_in_at_kratos(&browser, &world).await;
    browser.wait_for_url(&world.hera("/consent")).await;
    browser.tab_to("#remember").await;
    browser.press(Key::Space).await;
    browser.tab_to("button[value=accept]").await;
    browser.press(Key::Enter).await;
    received(&browser, &world).await;

    browser.goto(&world.hera("/")).await;
    check_page(&browser, "the home page", "en").await;
    browser.tab_to("a[href='/connected-apps']").await;
    browser.press(Key::Enter).await;
    browser.wait_for_url(&world.hera("/connected-apps")).await;
    check_page(&browser, "connected apps", "en").await;
    assert!(browser.page_text().await.contains("See your email address"));
    browser.tab_to(".revoke button").await;
    browser.press(Key::Enter).await;
    browser.find(".notice").await;
    check_page(&browser, "connected apps after a removal", "en").await;
    assert!(browser
        .page_text()
        .await
        .contains("Photos no longer has access to your account."));
    assert_eq!(world.app.hydra.consent_session_count(ADA, "photos"), 0);

    // Next time the app has to ask again.
    start_flow(&browser, &world, "photos", &[("scope", "openid email")]).await;
    browser.wait_for_url(&world.hera("/consent")).await;
    browser.tab_to("button[value=accept]").await;
    browser.press(Key::Enter).await;
    assert_eq!(scope_of(&received(&browser, &world).await), "openid email");
    browser.close().await;
}

#[tokio::test]
async fn a_german_speaker_completes_a_flow_on_a_phone_with_the_keyboard() {
    let world = World::start().await;
    let browser = Browser::open(Look {
        language: "de",
        ..Look::phone()
    })
    .await;
    start_flow(
        &browser,
        &world,
        "photos",
        &[("scope", "openid email profile")],
    )
    .await;
    sign_in_at_kratos(&browser, &world).await;
    browser.wait_for_url(&world.hera("/consent")).await;
    check_page(&browser, "the consent page (de, 320 px)", "de").await;
    let text = browser.page_text().await;
    assert!(
        text.contains("Photos Zugriff auf Ihr Konto erlauben?"),
        "{text}"
    );
    browser.tab_to("input[value=email]").await;
    browser.press(Key::Space).await;
    browser.tab_to("button[value=accept]").await;
    browser.press(Key::Enter).await;
    assert_eq!(
        scope_of(&received(&browser, &world).await),
        "openid profile"
    );

    browser.goto(&world.hera("/connected-apps")).await;
    check_page(&browser, "connected apps (de, 320 px)", "de").await;
    assert!(browser.page_text().await.contains("Verbundene Anwendungen"));
    browser.close().await;
}

#[tokio::test]
async fn the_ui_locales_of_the_request_choose_the_language() {
    let world = World::start().await;
    let browser = Browser::open(Look::default()).await;
    start_flow(
        &browser,
        &world,
        "photos",
        &[("scope", "openid email"), ("ui_locales", "de-CH en")],
    )
    .await;
    sign_in_at_kratos(&browser, &world).await;
    browser.wait_for_url(&world.hera("/consent")).await;
    check_page(&browser, "the consent page chosen by ui_locales", "de").await;
    assert!(browser.page_text().await.contains("Erlauben"));
    browser.close().await;
}

/// Every page in both languages and both colour schemes, and on a phone, each checked with
/// axe (and for sideways scrolling); with
/// `HERA_SCREENSHOTS=1` they are saved to `docs/screenshots/` for the README.
#[tokio::test]
async fn every_page_passes_axe_in_both_languages_and_colour_schemes() {
    let world = World::start().await;
    let app = &world.app;
    app.hydra.add_consent_session(ConsentSessionSpec {
        subject: ADA.into(),
        client: with(client("photos"), json!({"client_name": "Photos"})),
        grant_scope: vec!["openid".into(), "email".into(), "profile".into()],
        ..ConsentSessionSpec::default()
    });
    app.hydra.add_consent_session(ConsentSessionSpec {
        subject: ADA.into(),
        client: with(client("tv-app"), json!({"client_name": "Living-room TV"})),
        grant_scope: vec!["openid".into(), "offline_access".into()],
        ..ConsentSessionSpec::default()
    });
    let photos = with(
        client("photos"),
        json!({"client_name": "Photos", "client_uri": "https://photos.example.com",
               "policy_uri": "https://photos.example.com/privacy", "tos_uri": "https://photos.example.com/terms"}),
    );
    // Four looks for the screenshots, and every page once more on a 320 px phone.
    let looks = [
        ("en", false, (480, 1100), true),
        ("de", false, (480, 1100), true),
        ("en", true, (480, 1100), true),
        ("de", true, (480, 1100), true),
        ("de", false, (320, 640), false),
    ];
    for (language, dark, viewport, screenshots) in looks {
        let scheme = if dark { "dark" } else { "light" };
        let browser = Browser::open(Look {
            language,
            dark,
            viewport,
            ..Look::default()
        })
        .await;
        let name = |page: &str| format!("{page}-{language}-{scheme}");
        let shoot = |page: &'static str| {
            let browser = &browser;
            let name = name(page);
            async move {
                if screenshots {
                    browser.screenshot(&name).await;
                }
            }
        };

        let consent = || {
            app.hydra.add_consent(ConsentSpec {
                subject: ADA.into(),
                client: photos.clone(),
                requested_scope: ["openid", "email", "profile", "photos.read"]
                    .map(str::to_owned)
                    .to_vec(),
                ..ConsentSpec::default()
            })
        };
        let logout = || {
            app.hydra.add_logout(LogoutSpec {
                subject: ADA.into(),
                client: Some(photos.clone()),
                ..LogoutSpec::default()
            })
        };

        // Signed out: the pages without anyone's personal data.
        browser.goto(&world.hera("/")).await;
        assert_eq!(
            browser.prefers_dark().await,
            dark,
            "colour scheme emulation"
        );
        check_page(&browser, &name("home-signed-out"), language).await;
        browser
            .goto(&world.hera(&format!("/consent?consent_challenge={}", consent())))
            .await;
        check_page(&browser, &name("consent-not-signed-in"), language).await;
        browser
            .goto(&world.hera(&format!("/logout?logout_challenge={}", logout())))
            .await;
        check_page(&browser, &name("logout-not-signed-in"), language).await;

        browser
            .goto(&format!(
                "{}/self-service/login/browser?return_to={}",
                app.kratos.public_url,
                crate::support::encode(&world.hera("/connected-apps"))
            ))
            .await;
        sign_in_at_kratos(&browser, &world).await;
        browser.wait_for_url(&world.hera("/connected-apps")).await;
        check_page(&browser, &name("connected-apps"), language).await;
        shoot("connected-apps").await;

        browser
            .goto(&world.hera(&format!("/consent?consent_challenge={}", consent())))
            .await;
        check_page(&browser, &name("consent"), language).await;
        shoot("consent").await;

        browser
            .goto(&world.hera(&format!("/logout?logout_challenge={}", logout())))
            .await;
        check_page(&browser, &name("logout"), language).await;
        shoot("logout").await;

        let device = app.hydra.add_device_challenge();
        browser
            .goto(&world.hera(&format!("/device/verify?device_challenge={device}")))
            .await;
        check_page(&browser, &name("device"), language).await;
        shoot("device").await;

        browser
            .goto(&world.hera("/error?error=access_denied"))
            .await;
        check_page(&browser, &name("error"), language).await;
        shoot("error").await;
        browser.close().await;
    }
}
