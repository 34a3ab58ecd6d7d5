//! The browser's steps on Kratos's self-service pages: sign-in, sign-up, a second factor,
//! TOTP enrolment, account recovery and email verification.
//!
//! Hera does not render these pages yet. Until it does, Kratos's `ui_url`s point at the
//! interim pages of `examples/demo/kratos_ui.rs` (see `ory.rs`, `kratos_env`), which do what a
//! UI does: fetch the flow JSON with the browser's cookies and render forms that the browser
//! posts, form-encoded, to the flow's `ui.action`. Every step here goes through them in
//! Chromium, so Kratos sets its cookies in the browser as it would for Hera's pages. When
//! Hera's pages land, point the `ui_url`s at Hera and adjust the selectors below (the field
//! names are Kratos's own, `identifier`, `password`, `traits.email`, …, so they should keep
//! working); nothing else in the tier depends on these pages.

use std::time::Duration;

use crate::driver::Browser;
use crate::stack::{Person, Stack};

/// Waits for a Kratos page of `flow` (`login`, `registration`, …).
async fn on_page(browser: &Browser, stack: &Stack, flow: &str) -> String {
    browser
        .wait_for_url(&format!("{}/{flow}?flow=", stack.kratos_pages))
        .await
}

/// Types `text` into the field `css`, replacing what it held.
async fn fill(browser: &Browser, css: &str, text: &str) {
    let field = browser.find(css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn click(browser: &Browser, css: &str) {
    browser.find(css).await.click().await.unwrap();
}

/// Signs in with email and password on Kratos's sign-in page (also a "confirm it is you" page,
/// where the identifier is prefilled and can be changed).
pub async fn sign_in(browser: &Browser, stack: &Stack, person: &Person) {
    on_page(browser, stack, "login").await;
    fill(
        browser,
        "form[data-group=password] input[name=identifier]",
        &person.email,
    )
    .await;
    submit(browser, "password", "password", &person.password).await;
}

/// Types `value` into the field `name` of the form for `method` (`password`, `totp`, `code`)
/// and submits that form with its `method` button.
async fn submit(browser: &Browser, method: &str, name: &str, value: &str) {
    fill(
        browser,
        &format!("form[data-group={method}] input[name={name}]"),
        value,
    )
    .await;
    click(
        browser,
        &format!("form[data-group={method}] button[name=method][value={method}]"),
    )
    .await;
}

/// Signs up on Kratos's registration page: Kratos v1.3 asks for the traits first
/// (`method=profile`), then for a password.
pub async fn sign_up(browser: &Browser, stack: &Stack, person: &Person) {
    on_page(browser, stack, "registration").await;
    let form = "form[data-group=profile]";
    fill(
        browser,
        &format!("{form} input[name='traits.email']"),
        &person.email,
    )
    .await;
    fill(
        browser,
        &format!("{form} input[name='traits.name.first']"),
        &person.first,
    )
    .await;
    fill(
        browser,
        &format!("{form} input[name='traits.name.last']"),
        &person.last,
    )
    .await;
    click(
        browser,
        &format!("{form} button[name=method][value=profile]"),
    )
    .await;
    // The same flow again, now asking for a credential.
    submit(browser, "password", "password", &person.password).await;
}

/// Enters the current TOTP code on Kratos's second-factor page.
pub async fn enter_totp(browser: &Browser, stack: &Stack, secret: &str) {
    on_page(browser, stack, "login").await;
    submit(browser, "totp", "totp_code", &totp(secret)).await;
}

/// Opens Kratos's settings in the signed-in browser, adds an authenticator app with the secret
/// Kratos shows, and returns that secret.
pub async fn enrol_totp(browser: &Browser, stack: &Stack) -> String {
    browser
        .goto(&format!(
            "{}/self-service/settings/browser",
            stack.ory.kratos_public
        ))
        .await;
    on_page(browser, stack, "settings").await;
    let secret = browser.text("code#totp_secret_key").await;
    submit(browser, "totp", "totp_code", &totp(&secret)).await;
    // Kratos comes back to the settings page with "Your changes have been saved!".
    wait_for_message(browser, "1050001").await;
    secret
}

/// Recovers an account with the code Kratos mails, from Kratos's recovery page; ends on the
/// settings page Kratos sends a recovered person to.
pub async fn recover(browser: &Browser, stack: &Stack, email: &str) {
    on_page(browser, stack, "recovery").await;
    let mark = stack.mail.count();
    submit(browser, "code", "email", email).await;
    let code = mailed_code(stack, email, "recovery_code", mark).await;
    submit(browser, "code", "code", &code).await;
    on_page(browser, stack, "settings").await;
}

/// Saves a new password on the settings page the browser shows. Kratos then goes on to the
/// flow's `return_to`, or shows the settings page again with "Your changes have been saved!".
pub async fn set_password(browser: &Browser, stack: &Stack, password: &str) {
    on_page(browser, stack, "settings").await;
    submit(browser, "password", "password", password).await;
}

/// Enters the verification code Kratos mailed to `email` (sent at or after message `mark`)
/// on the verification page the browser shows, and follows "Continue".
pub async fn verify(browser: &Browser, stack: &Stack, email: &str, mark: usize) {
    on_page(browser, stack, "verification").await;
    let code = mailed_code(stack, email, "verification_code", mark).await;
    submit(browser, "code", "code", &code).await;
    wait_for_message(browser, "1080002").await;
    click(browser, "a#continue").await;
}

/// The code of the newest message of `template` to `email` after message `mark`.
pub async fn mailed_code(stack: &Stack, email: &str, template: &str, mark: usize) -> String {
    let message = stack
        .mail
        .wait_for(email, template, mark, Duration::from_secs(15))
        .await
        .unwrap_or_else(|| {
            panic!(
                "no {template} mail to {email} within 15 s; got {:?}",
                stack.mail.messages()
            )
        });
    crate::mail::code(&message)
        .unwrap_or_else(|| panic!("no code in {message}"))
        .to_owned()
}

/// Waits for Kratos's message `id` (a `data-id`) on the page.
async fn wait_for_message(browser: &Browser, id: &str) {
    browser.find(&format!("#messages li[data-id='{id}']")).await;
}

/// The current RFC 6238 code (SHA-1, 30-second steps, 6 digits) for a base32 secret, as an
/// authenticator app shows it.
pub fn totp(secret: &str) -> String {
    let step = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30;
    format!("{:06}", hotp(&base32(secret), step) % 1_000_000)
}

/// RFC 4226 HOTP before the final modulo: the dynamically truncated HMAC-SHA-1 of `counter`.
fn hotp(key: &[u8], counter: u64) -> u32 {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let mac = ring::hmac::sign(&key, &counter.to_be_bytes());
    let mac = mac.as_ref();
    let offset = (mac[mac.len() - 1] & 0x0f) as usize;
    u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ])
}

/// RFC 4648 base32, without padding.
fn base32(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut count, mut out) = (0u64, 0u32, Vec::new());
    for c in text.bytes().filter(|c| *c != b'=') {
        let value = ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .unwrap_or_else(|| panic!("{text} is not base32")) as u64;
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

#[test]
fn totp_codes_match_the_rfc_6238_test_vector() {
    // RFC 6238 appendix B: the SHA-1 key "12345678901234567890" at T = 59 s (step 1) gives
    // 94287082 as an 8-digit code.
    assert_eq!(hotp(b"12345678901234567890", 1) % 100_000_000, 94_287_082);
    assert_eq!(base32("GEZDGNBVGY3TQOJQ"), b"1234567890");
}
