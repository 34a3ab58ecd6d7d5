//! Each of Kratos's methods through Hera's pages: passwords (sign-up in one or two steps, sign-in,
//! change), codes by email (sign-in, recovery, verification, with "resend"), second factors
//! (TOTP with its QR code and secret, backup codes), social sign-in and security keys.

use reqwest::StatusCode;
use serde_json::json;
use time::Duration;

use crate::support::forms::{attribute, button, has_attribute, tags, visible_input};
use crate::support::totp;
use crate::support::{query, TestApp, ADA_EMAIL, ADA_PASSWORD};

const NEW_PASSWORD: &str = "a much longer passphrase now";

/// Signs Ada in through Hera's sign-in page and returns the page she lands on.
async fn sign_in(app: &TestApp, password: &str) -> crate::support::Page {
    let page = app.navigate("/login").await;
    app.press(
        &page,
        ("method", "password"),
        &[("identifier", ADA_EMAIL), ("password", password)],
    )
    .await
}

// --- sign-up -------------------------------------------------------------------------------

#[tokio::test]
async fn two_step_sign_up_goes_back_and_forth_then_creates_the_account_and_asks_to_verify() {
    let app = TestApp::spawn_for_flows().await;
    let step1 = app.navigate("/registration").await;
    step1.assert_at("/registration");
    assert!(step1.text().contains("Create your account"));
    let email = visible_input(&step1.html, "traits.email");
    assert_eq!(attribute(&email, "type").as_deref(), Some("email"));
    assert_eq!(attribute(&email, "autocomplete").as_deref(), Some("email"));
    assert!(has_attribute(&email, "autofocus"));
    assert!(step1.text().contains("First name"), "{}", step1.text());

    let profile = [
        ("traits.email", "new@example.com"),
        ("traits.name.first", "Nova"),
        ("traits.name.last", "Lee"),
    ];
    let step2 = app.press(&step1, ("method", "profile"), &profile).await;
    step2.assert_at("/registration");
    assert!(
        step2
            .text()
            .contains("Choose how you want to sign in from now on."),
        "{}",
        step2.text()
    );
    let password = visible_input(&step2.html, "password");
    assert_eq!(
        attribute(&password, "autocomplete").as_deref(),
        Some("new-password")
    );
    // The traits travel as hidden fields in the password form; "Back" skips the browser's
    // check of the required password.
    let form = step2.form("method", "password");
    assert_eq!(form.input("traits.email").unwrap().value, "new@example.com");
    assert!(has_attribute(
        &button(&step2.html, "screen", "previous"),
        "formnovalidate"
    ));

    let back = app.press(&step2, ("screen", "previous"), &[]).await;
    assert_eq!(
        attribute(&visible_input(&back.html, "traits.name.first"), "value").as_deref(),
        Some("Nova"),
        "the values are kept"
    );
    let step2 = app.press(&back, ("method", "profile"), &[]).await;

    // Too short: the message is under the field, tied to it for screen readers.
    let short = app
        .press(&step2, ("method", "password"), &[("password", "short")])
        .await;
    short.assert_at("/registration");
    let password = visible_input(&short.html, "password");
    assert_eq!(
        attribute(&password, "aria-invalid").as_deref(),
        Some("true")
    );
    let described = attribute(&password, "aria-describedby").unwrap();
    let messages = &short.html[short.html.find(&format!("id=\"{described}\"")).unwrap()..];
    assert!(
        messages.starts_with(&format!("id=\"{described}\">"))
            && messages.contains("The password must have at least 8 characters."),
        "{}",
        short.html
    );
    assert!(
        has_attribute(&password, "autofocus"),
        "the field with the error: {password}"
    );

    let verification = app
        .press(
            &short,
            ("method", "password"),
            &[("password", ADA_PASSWORD)],
        )
        .await;
    // Kratos's `show_verification_ui`: straight on to the verification page, a code on its way.
    verification.assert_at("/verification");
    let code_input = visible_input(&verification.html, "code");
    assert_eq!(
        attribute(&code_input, "autocomplete").as_deref(),
        Some("one-time-code")
    );
    assert_eq!(
        attribute(&code_input, "inputmode").as_deref(),
        Some("numeric")
    );
    let code = app.kratos.last_code("new@example.com").unwrap();
    let done = app
        .press(&verification, ("method", "code"), &[("code", &code)])
        .await;
    done.assert_at("/verification");
    assert!(
        done.text().contains("Email address verified"),
        "{}",
        done.text()
    );
    assert!(done.text().contains("Your email address is verified."));
    // "Continue" is a link to where the flow ends (Hera's home), not a form.
    assert!(done.forms().is_empty(), "{}", done.html);
    assert!(
        done.html.contains(&format!("href=\"{}\"", app.url("/"))),
        "{}",
        done.html
    );
    let home = app.navigate(&app.url("/")).await;
    assert!(
        home.text().contains("Signed in as new@example.com"),
        "{}",
        home.text()
    );
    assert!(!home.text().contains("not verified"), "{}", home.text());
}

#[tokio::test]
async fn one_step_sign_up_takes_the_traits_and_the_password_at_once() {
    let app = TestApp::spawn_for_flows().await;
    app.kratos.configure(|c| {
        c.registration_unified = true;
        c.show_verification_ui = false;
    });
    let page = app.navigate("/registration?return_to=/sessions").await;
    let form = page.form("method", "password");
    assert!(form.input("traits.email").is_some() && form.input("password").is_some());
    let page = app
        .submit(
            &form,
            ("method", "password"),
            &[
                ("traits.email", "one@example.com"),
                ("password", ADA_PASSWORD),
            ],
        )
        .await;
    page.assert_at("/sessions");
    assert!(page.text().contains("Signed in as one@example.com"));
    // Without the hook the code is still sent; the home page reminds to verify.
    assert!(app.kratos.last_code("one@example.com").is_some());
    let home = app.navigate("/").await;
    assert!(
        home.text()
            .contains("Your email address one@example.com is not verified yet."),
        "{}",
        home.text()
    );
}

#[tokio::test]
async fn a_taken_or_invalid_email_is_explained_with_what_was_typed_kept() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let step1 = app.navigate("/registration").await;
    let invalid = app
        .press(
            &step1,
            ("method", "profile"),
            &[("traits.email", "not-an-email")],
        )
        .await;
    invalid.assert_at("/registration");
    assert!(invalid
        .text()
        .contains("Please enter a valid email address."));
    let email = visible_input(&invalid.html, "traits.email");
    assert_eq!(attribute(&email, "value").as_deref(), Some("not-an-email"));
    assert_eq!(attribute(&email, "aria-invalid").as_deref(), Some("true"));

    let step2 = app
        .press(
            &invalid,
            ("method", "profile"),
            &[("traits.email", ADA_EMAIL)],
        )
        .await;
    let taken = app
        .press(
            &step2,
            ("method", "password"),
            &[("password", ADA_PASSWORD)],
        )
        .await;
    taken.assert_at("/registration");
    assert!(
        taken
            .text()
            .contains("An account with this email address or username exists already."),
        "{}",
        taken.text()
    );
}

// --- recovery and verification -------------------------------------------------------------

#[tokio::test]
async fn recovery_by_code_ends_in_settings_where_a_new_password_is_set() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let page = app.navigate("/recovery").await;
    page.assert_at("/recovery");
    assert!(page.html.contains("href=\"/login\""), "back to sign in");
    let sent = app
        .press(&page, ("method", "code"), &[("email", ADA_EMAIL)])
        .await;
    sent.assert_at("/recovery");
    assert!(
        sent.text().contains("we sent it a recovery code"),
        "{}",
        sent.text()
    );
    let code = visible_input(&sent.html, "code");
    assert_eq!(attribute(&code, "maxlength").as_deref(), Some("6"));
    assert_eq!(attribute(&code, "pattern").as_deref(), Some("[0-9]+"));
    let resend = button(&sent.html, "email", ADA_EMAIL);
    assert!(has_attribute(&resend, "formnovalidate"), "{resend}");

    let wrong = app
        .press(&sent, ("method", "code"), &[("code", "000000")])
        .await;
    assert!(
        wrong.text().contains("That recovery code is not right"),
        "{}",
        wrong.text()
    );
    // "Send the code again" sends another one.
    let again = app
        .submit(&wrong.form("email", ADA_EMAIL), ("email", ADA_EMAIL), &[])
        .await;
    assert_eq!(app.kratos.outbox().len(), 2);
    let code = app.kratos.last_code(ADA_EMAIL).unwrap();
    let settings = app
        .press(&again, ("method", "code"), &[("code", &code)])
        .await;
    settings.assert_at("/settings");
    assert!(
        settings
            .text()
            .contains("Your account is recovered. Set a new password now."),
        "{}",
        settings.text()
    );
    let saved = app
        .press(
            &settings,
            ("method", "password"),
            &[("password", NEW_PASSWORD)],
        )
        .await;
    assert!(
        saved.text().contains("Your changes have been saved."),
        "{}",
        saved.text()
    );
    assert_eq!(
        app.kratos.user(ADA_EMAIL).unwrap().password.as_deref(),
        Some(NEW_PASSWORD)
    );
}

#[tokio::test]
async fn a_recovery_started_from_an_apps_sign_in_ends_at_that_sign_in() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let challenge = app
        .hydra
        .add_login(crate::support::fake_hydra::LoginSpec::default());
    let page = app
        .navigate(&format!(
            "/login?login_challenge={}",
            crate::support::encode(&challenge)
        ))
        .await;
    page.assert_at("/login");
    let link = page
        .html
        .split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.starts_with("/recovery"))
        .expect("a recovery link")
        .replace("&amp;", "&");
    let return_to = query(&app.url(&link))["return_to"].clone();
    assert!(
        return_to.ends_with(&format!(
            "/login?login_challenge={}",
            crate::support::encode(&challenge)
        )),
        "{link}"
    );

    let page = app.navigate(&link).await;
    let sent = app
        .press(&page, ("method", "code"), &[("email", ADA_EMAIL)])
        .await;
    let code = app.kratos.last_code(ADA_EMAIL).unwrap();
    let settings = app
        .press(&sent, ("method", "code"), &[("code", &code)])
        .await;
    settings.assert_at("/settings");
    assert!(app.hydra.accepted_logins().is_empty());
    // Saved: Kratos goes on to the sign-in the person started, where Hera accepts the login.
    let done = app
        .press(
            &settings,
            ("method", "password"),
            &[("password", NEW_PASSWORD)],
        )
        .await;
    let logins = app.hydra.accepted_logins();
    assert_eq!(logins.len(), 1, "{:#?}", done.trail);
    assert_eq!(logins[0]["subject"], crate::support::ADA);
}

#[tokio::test]
async fn verification_of_an_address_asks_for_it_sends_a_code_and_can_send_another() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let page = app.navigate("/verification").await;
    page.assert_at("/verification");
    let sent = app
        .press(&page, ("method", "code"), &[("email", ADA_EMAIL)])
        .await;
    assert!(
        sent.text().contains("we sent it a verification code"),
        "{}",
        sent.text()
    );
    let first = app.kratos.last_code(ADA_EMAIL).unwrap();
    let again = app
        .submit(&sent.form("email", ADA_EMAIL), ("email", ADA_EMAIL), &[])
        .await;
    let second = app.kratos.last_code(ADA_EMAIL).unwrap();
    assert_eq!(app.kratos.outbox().len(), 2);
    let wrong = app
        .press(&again, ("method", "code"), &[("code", "not it")])
        .await;
    assert!(wrong.text().contains("That verification code is not right"));
    let _ = first;
    let done = app
        .press(&wrong, ("method", "code"), &[("code", &second)])
        .await;
    assert!(
        done.text().contains("Your email address is verified."),
        "{}",
        done.text()
    );
}

// --- settings and second factors -----------------------------------------------------------

#[tokio::test]
async fn settings_change_the_password_and_enrol_totp_from_the_secret_shown_as_text() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    sign_in(&app, ADA_PASSWORD).await;
    let settings = app.navigate("/settings").await;
    settings.assert_at("/settings");
    assert!(settings.text().contains("Account settings"));
    for heading in ["Your profile", "Password", "Authenticator app"] {
        assert!(
            settings.html.contains(&format!(">{heading}</h2>")),
            "{heading}"
        );
    }
    // The QR code is an inline image: the page's CSP allows `data:` images and nothing more.
    assert!(
        settings.html.contains("src=\"data:image/png;base64,"),
        "{}",
        settings.html
    );
    let csp = settings.header("content-security-policy");
    assert!(csp.contains("img-src 'self' https: data:"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    let secret = secret_on(&settings.html);

    let wrong = app
        .press(&settings, ("method", "totp"), &[("totp_code", "000000")])
        .await;
    let code_field = visible_input(&wrong.html, "totp_code");
    assert_eq!(
        attribute(&code_field, "aria-invalid").as_deref(),
        Some("true")
    );
    assert!(
        wrong.text().contains("That code is not right."),
        "{}",
        wrong.text()
    );
    let code = totp::code_now(&secret_on(&wrong.html));
    let enrolled = app
        .press(&wrong, ("method", "totp"), &[("totp_code", &code)])
        .await;
    assert!(
        enrolled.text().contains("Your changes have been saved."),
        "{}",
        enrolled.text()
    );
    assert!(enrolled.text().contains("Remove the authenticator app"));
    assert!(app.kratos.user(ADA_EMAIL).unwrap().totp.is_some());
    let _ = secret;

    let password = app
        .press(
            &enrolled,
            ("method", "password"),
            &[("password", NEW_PASSWORD)],
        )
        .await;
    assert!(password.text().contains("Your changes have been saved."));
    assert_eq!(
        app.kratos.user(ADA_EMAIL).unwrap().password.as_deref(),
        Some(NEW_PASSWORD)
    );
}

/// The TOTP secret a settings page shows for manual entry.
fn secret_on(html: &str) -> String {
    let marker = "<code class=\"secret\" id=\"totp-totp_secret_key\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no secret in:\n{html}"));
    let rest = &html[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest.find("</code>").unwrap();
    rest[open..close].to_owned()
}

#[tokio::test]
async fn signing_in_with_a_second_factor_offers_each_enrolled_factor_in_its_own_form() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    app.kratos.configure(|c| c.lookup_secret = true);
    let secret = totp::new_secret();
    app.kratos.set_totp(ADA_EMAIL, &secret);
    app.kratos
        .set_lookup_codes(ADA_EMAIL, &["backup-one", "backup-two"]);
    let second = sign_in(&app, ADA_PASSWORD).await;
    second.assert_at("/login");
    assert_eq!(query(&second.url).len(), 1, "{}", second.url);
    assert!(
        second.text().contains("Confirm with your second factor"),
        "{}",
        second.text()
    );
    assert!(second
        .text()
        .contains("Please complete the second step to sign in."));
    let totp_form = second.form("method", "totp");
    let lookup_form = second.form("method", "lookup_secret");
    assert_ne!(totp_form.section, lookup_form.section);
    assert!(totp_form.input("lookup_secret").is_none());
    // The session is not enough yet.
    assert!(!app
        .navigate("/sessions")
        .await
        .text()
        .contains("Signed in as"));

    let second = app.navigate(&second.url).await;
    let wrong = app
        .press(
            &second,
            ("method", "lookup_secret"),
            &[("lookup_secret", "nope")],
        )
        .await;
    assert!(
        wrong.text().contains("That backup code is not right."),
        "{}",
        wrong.text()
    );
    let done = app
        .press(
            &wrong,
            ("method", "lookup_secret"),
            &[("lookup_secret", "backup-one")],
        )
        .await;
    done.assert_at("/");
    assert!(done.text().contains("Signed in as ada@example.com"));
    assert!(
        app.kratos.user(ADA_EMAIL).unwrap().lookup[0].1,
        "the code is used up"
    );
}

#[tokio::test]
async fn the_authenticator_app_code_completes_a_sign_in() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let secret = totp::new_secret();
    app.kratos.set_totp(ADA_EMAIL, &secret);
    let second = sign_in(&app, ADA_PASSWORD).await;
    let code = visible_input(&second.html, "totp_code");
    assert_eq!(
        attribute(&code, "autocomplete").as_deref(),
        Some("one-time-code")
    );
    assert_eq!(attribute(&code, "inputmode").as_deref(), Some("numeric"));
    let wrong = app
        .press(&second, ("method", "totp"), &[("totp_code", "123456")])
        .await;
    assert!(
        wrong.text().contains("That code is not right."),
        "{}",
        wrong.text()
    );
    let done = app
        .press(
            &wrong,
            ("method", "totp"),
            &[("totp_code", &totp::code_now(&secret))],
        )
        .await;
    done.assert_at("/");
    assert!(done.text().contains("Signed in as ada@example.com"));
}

#[tokio::test]
async fn a_second_factor_page_without_any_factor_says_what_to_do() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    sign_in(&app, ADA_PASSWORD).await;
    let page = app.navigate("/login?aal=aal2").await;
    page.assert_at("/login");
    assert!(page.forms().is_empty(), "{}", page.html);
    assert!(
        page.text()
            .contains("Your account has no second factor to confirm with."),
        "{}",
        page.text()
    );
    assert!(page.html.contains("href=\"/\""));
}

#[tokio::test]
async fn backup_codes_are_generated_confirmed_and_revealed_in_settings() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    app.kratos.configure(|c| c.lookup_secret = true);
    sign_in(&app, ADA_PASSWORD).await;
    let settings = app.navigate("/settings").await;
    assert!(settings.html.contains(">Backup codes</h2>"));
    let shown = app
        .press(&settings, ("lookup_secret_regenerate", "true"), &[])
        .await;
    let codes: Vec<String> = shown
        .html
        .match_indices("<li><code>")
        .map(|(at, _)| {
            let rest = &shown.html[at + "<li><code>".len()..];
            rest[..rest.find('<').unwrap()].to_owned()
        })
        .collect();
    assert_eq!(codes.len(), 12, "{}", shown.html);
    assert!(shown.text().contains("Keep them somewhere safe"));
    let confirmed = app
        .press(&shown, ("lookup_secret_confirm", "true"), &[])
        .await;
    assert!(
        confirmed.text().contains("Your changes have been saved."),
        "{:#?} {}",
        confirmed.trail,
        confirmed.text()
    );
    let saved: Vec<String> = app
        .kratos
        .user(ADA_EMAIL)
        .unwrap()
        .lookup
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert_eq!(saved, codes);
    let revealed = app
        .press(&confirmed, ("lookup_secret_reveal", "true"), &[])
        .await;
    assert!(revealed
        .html
        .contains(&format!("<code>{}</code>", codes[0])));
}

#[tokio::test]
async fn a_privileged_settings_change_after_a_while_asks_to_confirm_and_then_saves_it() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    sign_in(&app, ADA_PASSWORD).await;
    app.kratos
        .configure(|c| c.privileged_for = std::time::Duration::ZERO);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let settings = app.navigate("/settings").await;
    let refresh = app
        .press(
            &settings,
            ("method", "password"),
            &[("password", NEW_PASSWORD)],
        )
        .await;
    // Kratos parks the change and asks for a fresh sign-in, on Hera's page.
    refresh.assert_at("/login");
    assert!(
        refresh.text().contains("Confirm it is you"),
        "{}",
        refresh.text()
    );
    let form = refresh.form("method", "password");
    assert_eq!(form.input("identifier").unwrap().kind, "hidden");
    app.kratos
        .configure(|c| c.privileged_for = std::time::Duration::from_secs(3600));
    let saved = app
        .submit(&form, ("method", "password"), &[("password", ADA_PASSWORD)])
        .await;
    saved.assert_at("/settings");
    assert!(
        saved.text().contains("Your changes have been saved."),
        "{}",
        saved.text()
    );
    assert_eq!(
        app.kratos.user(ADA_EMAIL).unwrap().password.as_deref(),
        Some(NEW_PASSWORD)
    );
}

#[tokio::test]
async fn settings_after_a_recovery_of_an_account_with_a_second_factor_ask_for_it_first() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    let secret = totp::new_secret();
    app.kratos.set_totp(ADA_EMAIL, &secret);
    let page = app.navigate("/recovery").await;
    let sent = app
        .press(&page, ("method", "code"), &[("email", ADA_EMAIL)])
        .await;
    let code = app.kratos.last_code(ADA_EMAIL).unwrap();
    // The settings flow needs aal2: Hera sends the browser to the second step, then back.
    let second = app
        .press(&sent, ("method", "code"), &[("code", &code)])
        .await;
    second.assert_at("/login");
    assert!(
        second.text().contains("Confirm with your second factor"),
        "{}",
        second.text()
    );
    let settings = app
        .press(
            &second,
            ("method", "totp"),
            &[("totp_code", &totp::code_now(&secret))],
        )
        .await;
    settings.assert_at("/settings");
    assert!(settings.text().contains("Account settings"));
}

// --- codes, social sign-in, identifier first, security keys --------------------------------

#[tokio::test]
async fn identifier_first_sign_in_asks_for_the_address_then_offers_a_password_or_a_code() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    app.kratos.configure(|c| {
        c.identifier_first = true;
        c.code_login = true;
    });
    let step1 = app.navigate("/login").await;
    let identifier = visible_input(&step1.html, "identifier");
    assert_eq!(
        attribute(&identifier, "autocomplete").as_deref(),
        Some("username webauthn")
    );
    let unknown = app
        .press(
            &step1,
            ("method", "identifier_first"),
            &[("identifier", "nobody@example.com")],
        )
        .await;
    assert!(
        unknown
            .text()
            .contains("There is no account with this address."),
        "{}",
        unknown.text()
    );
    let step2 = app
        .press(
            &unknown,
            ("method", "identifier_first"),
            &[("identifier", ADA_EMAIL)],
        )
        .await;
    // Each method's form carries the hidden identifier.
    let password = step2.form("method", "password");
    let code = step2.form("method", "code");
    assert_eq!(password.input("identifier").unwrap().value, ADA_EMAIL);
    assert_eq!(code.input("identifier").unwrap().value, ADA_EMAIL);
    assert!(
        step2.text().contains("Email me a sign-in code"),
        "{}",
        step2.text()
    );

    let sent = app.submit(&code, ("method", "code"), &[]).await;
    assert!(
        sent.text()
            .contains("A code was sent to the address you entered."),
        "{}",
        sent.text()
    );
    assert!(has_attribute(
        &button(&sent.html, "resend", "code"),
        "formnovalidate"
    ));
    let login_code = app.kratos.last_code(ADA_EMAIL).unwrap();
    let done = app
        .press(&sent, ("method", "code"), &[("code", &login_code)])
        .await;
    done.assert_at("/");
    assert!(done.text().contains("Signed in as ada@example.com"));
}

#[tokio::test]
async fn social_sign_in_buttons_are_a_form_of_their_own_that_posts_to_kratos() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    app.kratos
        .configure(|c| c.oidc = vec![("github".into(), "GitHub".into())]);
    let page = app.navigate("/login").await;
    let social = page.form("provider", "github");
    assert_eq!(social.section, "section-oidc");
    assert!(
        social.input("identifier").is_none(),
        "social sign-in takes no identifier"
    );
    assert!(social.input("csrf_token").is_some());
    assert!(page.text().contains("Sign in with GitHub"));
    assert!(
        page.html.contains("class=\"flow-or\""),
        "set apart by an \"or\""
    );
    let provider = app.submit(&social, ("provider", "github"), &[]).await;
    assert!(
        provider.url.starts_with("https://provider.example/"),
        "{}",
        provider.url
    );
    // In settings the same provider is linked.
    sign_in(&app, ADA_PASSWORD).await;
    let settings = app.navigate("/settings").await;
    assert!(
        settings.text().contains("Link GitHub"),
        "{}",
        settings.text()
    );
}

#[tokio::test]
async fn security_keys_use_kratoss_script_allowed_by_the_csp_and_wired_without_inline_script() {
    let app = TestApp::spawn_for_flows_with_ada().await;
    app.kratos.configure(|c| c.webauthn = true);
    sign_in(&app, ADA_PASSWORD).await;
    let settings = app.navigate("/settings").await;
    settings.assert_at("/settings");
    let script_src = format!("{}/.well-known/ory/webauthn.js", app.kratos.public_url);
    let (_, integrity) = app.kratos.webauthn_script();
    let script = tags(&settings.html, "<script")
        .into_iter()
        .find(|t| attribute(t, "src").as_deref() == Some(script_src.as_str()))
        .unwrap_or_else(|| panic!("no Kratos script in:\n{}", settings.html));
    assert_eq!(attribute(&script, "integrity"), Some(integrity));
    assert_eq!(
        attribute(&script, "crossorigin").as_deref(),
        Some("anonymous")
    );
    assert_eq!(
        attribute(&script, "referrerpolicy").as_deref(),
        Some("no-referrer")
    );
    let hera_script = tags(&settings.html, "<script")
        .into_iter()
        .find_map(|t| attribute(&t, "src").filter(|s| s.starts_with("/static/hera.")))
        .unwrap();
    let csp = settings.header("content-security-policy");
    assert!(
        csp.contains(&format!(
            "script-src {script_src} {}{hera_script};",
            app.address
        )),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("'self' 'unsafe"),
        "{csp}"
    );
    // No inline handlers: the button names the function, Hera's script wires it.
    assert!(!settings.html.contains("onclick"), "{}", settings.html);
    let trigger = button(&settings.html, "webauthn_register_trigger", &{
        let tag = tags(&settings.html, "<button")
            .into_iter()
            .find(|t| attribute(t, "name").as_deref() == Some("webauthn_register_trigger"))
            .unwrap();
        attribute(&tag, "value").unwrap()
    });
    assert_eq!(attribute(&trigger, "type").as_deref(), Some("button"));
    assert_eq!(
        attribute(&trigger, "data-hera-trigger").as_deref(),
        Some("oryWebAuthnRegistration")
    );
    assert!(
        has_attribute(&trigger, "hidden"),
        "shown once the script runs: {trigger}"
    );
    assert!(settings.html.contains("data-hera-needs-script"));
    let script = app.get(&hera_script).await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(script.text().await.unwrap().contains("data-hera-trigger"));

    // What Kratos's script does after a ceremony: fill in the result and submit the form.
    let form = settings.form(
        "webauthn_register_trigger",
        &attribute(&trigger, "value").unwrap(),
    );
    let body = [
        (
            "csrf_token",
            form.input("csrf_token").unwrap().value.clone(),
        ),
        ("webauthn_register_displayname", "Yubi".to_owned()),
        (
            "webauthn_register",
            json!({"fake": "registration"}).to_string(),
        ),
    ];
    let response = app
        .browser
        .post(&form.action)
        .form(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.kratos.user(ADA_EMAIL).unwrap().keys, ["Yubi"]);
    let page = app.navigate(&crate::support::location_of(&response)).await;
    assert!(
        page.text().contains("Remove security key “Yubi”"),
        "{}",
        page.text()
    );
    let _ = Duration::ZERO;
}
