//! Hera end to end in headless Chromium (Debian's `chromium` and `chromium-driver`, axe-core
//! from `node_modules`), in its own test binary so that `cargo test --test api` needs no browser.
//! `cargo test --test browser` runs this suite alone; `cargo test` runs it with the others.

// Helpers outside #[test] functions may unwrap: a failed assumption in a test should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod client_app;
mod driver;
mod selfservice;
#[path = "../support/mod.rs"]
mod support;
