//! Kratos's flows through Hera's pages in Chromium, as a person goes through them: creating an
//! account, verifying the email with a code, signing out and in, consenting to an application,
//! changing the password and enrolling an authenticator app in settings, signing in with the
//! second factor, recovering a forgotten password, and signing out another device. With
//! JavaScript switched off: Hera's pages need none (security keys and passkeys aside, which are
//! checked with it on). Every page of the flows, in every state the tests reach, passes axe in
//! English and German, light and dark, and on a 320 px phone.

use fantoccini::key::Key;

use crate::browser::{check_page, received, scope_of, World, PASSWORD};
use crate::client_app::Outcome;
use crate::driver::{Browser, Look};
use crate::support::{totp, ADA_EMAIL};
use serde_json::json;

const GRACE: &str = "grace@example.com";
const GRACE_PASSWORD: &str = "a compiler is a friend";
const NEW_PASSWORD: &str = "nanoseconds are short";
const RECOVERED_PASSWORD: &str = "recovered and remembered";

/// Opens the application's start page and follows its "Sign in" link.
async fn start_app_flow(browser: &Browser, world: &World, client_id: &str, scope: &str) {
    browser
        .goto(&world.client_app.start_url(client_id, &[("scope", scope)]))
        .await;
    browser.click("#sign-in").await;
}

/// Signs in on Hera's sign-in page with a password; with `second_factor`, the TOTP step too.
async fn sign_in(
    browser: &Browser,
    world: &World,
    email: &str,
    password: &str,
    second_factor: Option<&str>,
) {
    browser.wait_for_url(&world.hera("/login?flow=")).await;
    browser.fill("#password-identifier", email).await;
    browser.fill("#password-password", password).await;
    browser.click("button[name=method][value=password]").await;
    if let Some(secret) = second_factor {
        browser
            .wait_for_text("Confirm with your second factor")
            .await;
        browser
            .fill("#totp-totp_code", &totp::code_now(secret))
            .await;
        browser.click("button[name=method][value=totp]").await;
    }
}

/// Signs out with the home page's link (Kratos's browser logout).
async fn sign_out(browser: &Browser, world: &World) {
    browser.goto(&world.hera("/")).await;
    browser.click("a[href*='/self-service/logout?']").await;
    browser.wait_for_text("You are not signed in.").await;
}

#[tokio::test]
async fn a_person_creates_an_account_verifies_it_consents_and_secures_it_without_javascript() {
    let world = World::start().await;
    let browser = Browser::open(Look::without_javascript()).await;

    // 1. Create an account, from the home page: the profile, then a password.
    browser.goto(&world.hera("/")).await;
    browser.click("a[href='/registration']").await;
    browser
        .wait_for_url(&world.hera("/registration?flow="))
        .await;
    browser.fill("#profile-traits-email", GRACE).await;
    browser.fill("#profile-traits-name-first", "Grace").await;
    browser.fill("#profile-traits-name-last", "Hopper").await;
    browser.click("button[name=method][value=profile]").await;
    browser
        .wait_for_text("Choose how you want to sign in from now on.")
        .await;
    browser.fill("#password-password", "short").await;
    browser.click("button[name=method][value=password]").await;
    browser
        .wait_for_text("The password must have at least 8 characters.")
        .await;
    browser.fill("#password-password", GRACE_PASSWORD).await;
    browser.click("button[name=method][value=password]").await;

    // 2. Verify the email with the code the courier sent.
    browser
        .wait_for_url(&world.hera("/verification?flow="))
        .await;
    let code = world
        .app
        .kratos
        .last_code(GRACE)
        .expect("a verification code");
    browser.fill("#code-code", &code).await;
    browser.click("button[name=method][value=code]").await;
    browser
        .wait_for_text("Your email address is verified.")
        .await;
    browser.click("a.button").await;
    browser
        .wait_for_text("Signed in as grace@example.com")
        .await;
    assert!(!browser.page_text().await.contains("not verified"));

    // 3. Sign out, then sign in.
    sign_out(&browser, &world).await;
    browser.click("a[href='/login']").await;
    sign_in(&browser, &world, GRACE, GRACE_PASSWORD, None).await;
    browser
        .wait_for_text("Signed in as grace@example.com")
        .await;

    // 4. Consent to a third-party application: already signed in, no sign-in page.
    start_app_flow(&browser, &world, "photos", "openid email").await;
    browser.wait_for_url(&world.hera("/consent")).await;
    assert!(browser
        .page_text()
        .await
        .contains("Email: grace@example.com"));
    browser.click("button[value=accept]").await;
    let outcome = received(&browser, &world).await;
    assert_eq!(scope_of(&outcome), "openid email");
    let Outcome::Tokens { claims, .. } = &outcome else {
        unreachable!()
    };
    assert_eq!(claims["email"], GRACE);

    // 5. In settings, change the password and enrol TOTP with the secret shown as text.
    browser.goto(&world.hera("/")).await;
    browser.click("a[href='/settings']").await;
    browser.wait_for_url(&world.hera("/settings?flow=")).await;
    browser.fill("#password-password", NEW_PASSWORD).await;
    browser.click("button[name=method][value=password]").await;
    browser.wait_for_text("Your changes have been saved.").await;
    let secret = browser.text("#totp-totp_secret_key").await;
    assert!(
        totp::from_base32(&secret).is_some_and(|key| key.len() >= 10),
        "{secret}"
    );
    browser.find("#totp-totp_qr").await;
    browser
        .fill("#totp-totp_code", &totp::code_now(&secret))
        .await;
    browser.click("button[name=method][value=totp]").await;
    browser.wait_for_text("Remove the authenticator app").await;
    assert_eq!(
        world.app.kratos.user(GRACE).unwrap().totp.as_deref(),
        Some(secret.as_str())
    );

    // 6. Sign out, then sign in with the new password and the authenticator app's code.
    sign_out(&browser, &world).await;
    browser.click("a[href='/login']").await;
    sign_in(&browser, &world, GRACE, NEW_PASSWORD, Some(&secret)).await;
    browser
        .wait_for_text("Signed in as grace@example.com")
        .await;
    browser.close().await;
}

#[tokio::test]
async fn a_person_recovers_a_forgotten_password_and_signs_out_another_device_without_javascript() {
    let world = World::start().await;
    let secret = totp::new_secret();
    world.app.kratos.set_totp(ADA_EMAIL, &secret);

    // Ada is signed in on another device too.
    let phone = Browser::open(Look::default()).await;
    phone.goto(&world.hera("/login")).await;
    sign_in(&phone, &world, ADA_EMAIL, PASSWORD, Some(&secret)).await;
    phone.wait_for_text("Signed in as ada@example.com").await;

    // 7. Recover a forgotten password with a code.
    let browser = Browser::open(Look::without_javascript()).await;
    browser.goto(&world.hera("/login")).await;
    browser.wait_for_url(&world.hera("/login?flow=")).await;
    browser.click("a[href='/recovery']").await;
    browser.wait_for_url(&world.hera("/recovery?flow=")).await;
    browser.fill("#code-email", ADA_EMAIL).await;
    browser.click("button[name=method][value=code]").await;
    browser.wait_for_text("we sent it a recovery code").await;
    let code = world.app.kratos.last_code(ADA_EMAIL).unwrap();
    browser.fill("#code-code", &code).await;
    browser.click("button[name=method][value=code]").await;
    // Ada has a second factor: settings ask for it before anything can change.
    browser
        .wait_for_text("Confirm with your second factor")
        .await;
    browser
        .fill("#totp-totp_code", &totp::code_now(&secret))
        .await;
    browser.click("button[name=method][value=totp]").await;
    browser.wait_for_url(&world.hera("/settings?flow=")).await;
    browser.fill("#password-password", RECOVERED_PASSWORD).await;
    browser.click("button[name=method][value=password]").await;
    browser.wait_for_text("Your changes have been saved.").await;
    assert_eq!(
        world
            .app
            .kratos
            .user(ADA_EMAIL)
            .unwrap()
            .password
            .as_deref(),
        Some(RECOVERED_PASSWORD)
    );

    // 8. See the other device and sign it out.
    browser.goto(&world.hera("/sessions")).await;
    let text = browser.wait_for_text("Other devices").await;
    assert!(text.contains("This device"), "{text}");
    assert_eq!(world.app.kratos.session_ids().len(), 2);
    browser.click(".end-session button").await;
    browser.wait_for_text("The device was signed out.").await;
    assert_eq!(world.app.kratos.session_ids().len(), 1);
    phone.goto(&world.hera("/")).await;
    phone.wait_for_text("You are not signed in.").await;
    phone.close().await;
    browser.close().await;
}

#[tokio::test]
async fn a_security_key_is_added_through_kratoss_script_which_the_csp_lets_in() {
    let world = World::start().await;
    world.app.kratos.configure(|c| c.webauthn = true);
    let browser = Browser::open(Look::default()).await;
    browser.goto(&world.hera("/settings")).await;
    sign_in(&browser, &world, ADA_EMAIL, PASSWORD, None).await;
    browser.wait_for_url(&world.hera("/settings?flow=")).await;
    // Kratos's script loaded (its integrity matched, the CSP allowed it) and Hera's script
    // wired the button: only then is it shown.
    let button = browser
        .find("button[data-hera-trigger=oryWebAuthnRegistration]")
        .await;
    let deadline = std::time::Instant::now() + crate::driver::WAIT;
    while !button.is_displayed().await.unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "the security-key button stayed hidden"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    browser
        .assert_accessible("settings with security keys")
        .await;
    browser
        .fill("#webauthn-webauthn_register_displayname", "Desk key")
        .await;
    button.click().await.unwrap();
    browser
        .wait_for_text("Remove security key “Desk key”")
        .await;
    assert_eq!(world.app.kratos.user(ADA_EMAIL).unwrap().keys, ["Desk key"]);
    browser.close().await;
}

/// Every page of the flows, in the states a person meets, in both languages and colour
/// schemes and on a phone, with the keyboard reaching its controls visibly; with
/// `HERA_SCREENSHOTS=1` they are saved to `docs/screenshots/` (every page in English, light;
/// the sign-in and settings pages in all four looks).
#[tokio::test]
async fn every_self_service_page_passes_axe_in_both_languages_and_colour_schemes() {
    let world = World::start().await;
    let app = &world.app;
    world.app.kratos.configure(|c| c.lookup_secret = true);
    let secret = totp::new_secret();
    let looks = [
        ("en", false, (480, 1200), true),
        ("de", false, (480, 1200), true),
        ("en", true, (480, 1200), true),
        ("de", true, (480, 1200), true),
        ("de", false, (320, 640), false),
    ];
    for (n, (language, dark, viewport, screenshots)) in looks.into_iter().enumerate() {
        app.kratos.set_totp(ADA_EMAIL, &secret);
        let scheme = if dark { "dark" } else { "light" };
        let browser = Browser::open(Look {
            language,
            dark,
            viewport,
            ..Look::default()
        })
        .await;
        let name = |page: &str| format!("{page}-{language}-{scheme}");
        let check = |page: &'static str| {
            let browser = &browser;
            let name = name(page);
            // Every page in English, light; the sign-in and settings pages in every look.
            let shot = screenshots
                && ((language == "en" && !dark) || matches!(page, "sign-in" | "settings"));
            async move {
                check_page(browser, &name, language).await;
                if shot {
                    browser.screenshot(&name).await;
                }
            }
        };

        // Sign-in for an application, with a wrong password first.
        browser
            .goto(
                &world
                    .client_app
                    .start_url("photos", &[("scope", "openid email")]),
            )
            .await;
        browser.click("#sign-in").await;
        browser.wait_for_url(&world.hera("/login?flow=")).await;
        check("sign-in").await;
        browser.tab_to("#password-identifier").await;
        browser.type_text(ADA_EMAIL).await;
        browser.tab_to("#password-password").await;
        browser.type_text("wrong password").await;
        browser.press(Key::Enter).await;
        browser.find(".message-error").await;
        check("sign-in-error").await;
        browser.fill("#password-password", PASSWORD).await;
        browser.press(Key::Enter).await;
        browser.find("#totp-totp_code").await;
        check("second-factor").await;
        browser
            .fill("#totp-totp_code", &totp::code_now(&secret))
            .await;
        browser.press(Key::Enter).await;
        browser.wait_for_url(&world.hera("/consent")).await;

        // Settings (with the TOTP QR code once the factor is removed), devices, home.
        // Without the authenticator app, settings show its QR code and secret.
        app.kratos.remove_totp(ADA_EMAIL);
        browser.goto(&world.hera("/settings")).await;
        browser.wait_for_url(&world.hera("/settings?flow=")).await;
        browser.find("#totp-totp_qr").await;
        check("settings").await;
        browser
            .tab_to("button[name=lookup_secret_regenerate]")
            .await;
        browser.press(Key::Enter).await;
        browser.find("ul.codes").await;
        check("settings-backup-codes").await;
        browser.goto(&world.hera("/sessions")).await;
        check("sessions").await;
        browser.goto(&world.hera("/")).await;
        check("home-signed-in").await;
        browser.click("a[href*='/self-service/logout?']").await;
        browser.wait_for_url(&world.hera("/")).await;

        // Sign-up (both steps), verification, recovery, Kratos's error page.
        browser.goto(&world.hera("/registration")).await;
        browser
            .wait_for_url(&world.hera("/registration?flow="))
            .await;
        check("sign-up").await;
        browser
            .fill("#profile-traits-email", &format!("new-{n}@example.com"))
            .await;
        browser.press(Key::Enter).await;
        browser.find("#password-password").await;
        check("sign-up-password").await;
        browser.fill("#password-password", "short").await;
        browser.press(Key::Enter).await;
        browser.find("#password-password[aria-invalid=true]").await;
        check("sign-up-error").await;
        browser.fill("#password-password", GRACE_PASSWORD).await;
        browser.press(Key::Enter).await;
        browser
            .wait_for_url(&world.hera("/verification?flow="))
            .await;
        check("verification").await;
        browser.goto(&world.hera("/")).await;
        browser.click("a[href*='/self-service/logout?']").await;
        browser.wait_for_url(&world.hera("/")).await;
        browser.goto(&world.hera("/recovery")).await;
        browser.wait_for_url(&world.hera("/recovery?flow=")).await;
        check("recovery").await;
        browser.fill("#code-email", ADA_EMAIL).await;
        browser.press(Key::Enter).await;
        browser.find("#code-code").await;
        check("recovery-code").await;
        let error = app.kratos.add_error(json!({"id": "self_service_flow_return_to_forbidden", "code": 400,
            "status": "Bad Request", "reason": "Requested return_to URL \"https://evil.example\" is not allowed.",
            "message": "The request was malformed or contained invalid parameters"}));
        browser
            .goto(&world.hera(&format!("/error?id={error}")))
            .await;
        check("kratos-error").await;
        browser.close().await;
    }
}
