//! The browser's steps on Kratos's self-service pages, which Hera renders (Kratos's `ui_url`s
//! point at Hera, see `ory.rs`, `kratos_env`): sign-in, sign-up, a second factor, TOTP
//! enrolment in settings, account recovery and email verification, in Chromium as a person
//! goes through them. Hera's forms post straight to Kratos, so Kratos sets its cookies in the
//! browser and answers with redirects back to Hera's pages.
//!
//! Fields are found by Kratos's own names (`identifier`, `password`, `traits.email`, `code`,
//! `totp_code`) and buttons by `name=method value=<method>`, inside the section Hera renders for
//! that method (`#section-<method>`): a sign-in page with codes by email carries the identifier
//! in both the password and the code form.

use std::time::Duration;

use crate::driver::Browser;
use crate::stack::{Person, Stack};
use crate::support::totp;

/// Waits for Hera's page of a Kratos flow of `flow` (`login`, `registration`, …).
async fn on_page(browser: &Browser, stack: &Stack, flow: &str) -> String {
    browser
        .wait_for_url(&stack.hera(&format!("/{flow}?flow=")))
        .await
}

/// The field `name` of the form for `method`.
fn field(method: &str, name: &str) -> String {
    format!("#section-{method} input[name='{name}']")
}

/// Types each `(name, value)` into the form for `method` and submits it with its
/// `method=<method>` button.
async fn submit(browser: &Browser, method: &str, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        browser.fill(&field(method, name), value).await;
    }
    browser
        .click(&format!(
            "#section-{method} button[name=method][value={method}]"
        ))
        .await;
}

/// Signs in with email and password on Hera's sign-in page (also its "Confirm it is you" page,
/// where the identifier is filled in and can be changed).
pub async fn sign_in(browser: &Browser, stack: &Stack, person: &Person) {
    on_page(browser, stack, "login").await;
    submit(
        browser,
        "password",
        &[
            ("identifier", &person.email),
            ("password", &person.password),
        ],
    )
    .await;
}

/// Signs up on Hera's sign-up page: Kratos v1.3.1 asks for the traits first
/// (`method=profile`), then, on the same flow, for a password.
pub async fn sign_up(browser: &Browser, stack: &Stack, person: &Person) {
    on_page(browser, stack, "registration").await;
    submit(
        browser,
        "profile",
        &[
            ("traits.email", &person.email),
            ("traits.name.first", &person.first),
            ("traits.name.last", &person.last),
        ],
    )
    .await;
    browser
        .wait_for_text("Choose how you want to sign in from now on.")
        .await;
    submit(browser, "password", &[("password", &person.password)]).await;
}

/// Enters the authenticator app's current code on Hera's second-factor page.
pub async fn enter_totp(browser: &Browser, stack: &Stack, secret: &str) {
    on_page(browser, stack, "login").await;
    browser
        .wait_for_text("Confirm with your second factor")
        .await;
    submit(browser, "totp", &[("totp_code", &totp::code_now(secret))]).await;
}

/// Opens Hera's settings in the signed-in browser, adds an authenticator app with the secret
/// the page shows as text (for typing it into the app by hand), and returns that secret.
pub async fn enrol_totp(browser: &Browser, stack: &Stack) -> String {
    browser.goto(&stack.hera("/settings")).await;
    on_page(browser, stack, "settings").await;
    let secret = browser.text("#section-totp code.secret").await;
    assert!(
        totp::from_base32(&secret).is_some_and(|key| key.len() >= 10),
        "not a base32 secret: {secret}"
    );
    submit(browser, "totp", &[("totp_code", &totp::code_now(&secret))]).await;
    // Kratos comes back to the settings page, which now offers to remove the app.
    browser.wait_for_text("Your changes have been saved.").await;
    browser.wait_for_text("Remove the authenticator app").await;
    secret
}

/// Recovers an account with the code Kratos mails, from Hera's recovery page; ends on the
/// settings page Kratos sends a recovered person to.
pub async fn recover(browser: &Browser, stack: &Stack, email: &str) {
    on_page(browser, stack, "recovery").await;
    let mark = stack.mail.count();
    submit(browser, "code", &[("email", email)]).await;
    browser.wait_for_text("we sent it a recovery code").await;
    let code = mailed_code(stack, email, "recovery_code", mark).await;
    submit(browser, "code", &[("code", &code)]).await;
    on_page(browser, stack, "settings").await;
}

/// Saves a new password on the settings page the browser shows, for a settings flow that goes
/// on to its `return_to` once saved (no page of its own afterwards).
pub async fn set_password(browser: &Browser, stack: &Stack, password: &str) {
    on_page(browser, stack, "settings").await;
    submit(browser, "password", &[("password", password)]).await;
}

/// Enters the verification code Kratos mailed to `email` (sent at or after message `mark`) on
/// the verification page the browser shows, and follows "Continue".
pub async fn verify(browser: &Browser, stack: &Stack, email: &str, mark: usize) {
    on_page(browser, stack, "verification").await;
    let code = mailed_code(stack, email, "verification_code", mark).await;
    submit(browser, "code", &[("code", &code)]).await;
    browser
        .wait_for_text("Your email address is verified.")
        .await;
    browser.click(".flow-section a.button").await;
}

/// The code of the newest message of `template` to `email` after message `mark`.
pub async fn mailed_code(stack: &Stack, email: &str, template: &str, mark: usize) -> String {
    let message = stack
        .mail
        .wait_for(email, template, mark, Duration::from_secs(15))
        .await
        .unwrap_or_else(|| {
            let received: Vec<_> = stack
                .mail
                .messages()
                .iter()
                .map(|m| format!("{} to {}", m["template_type"], m["recipient"]))
                .collect();
            panic!("no {template} mail to {email} within 15 s; received {received:?}")
        });
    crate::mail::code(&message)
        .unwrap_or_else(|| panic!("the {template} mail to {email} carries no code"))
        .to_owned()
}
