//! The real-Ory tier: Hera against real Ory Hydra v2.3.0 and Ory Kratos v1.3.1, built by
//! `scripts/ory-install` and started in memory for each test with the configs of the local
//! stack (`deploy/local/`). Browser flows run in headless Chromium through Hera's own pages; the
//! session API, `hera bff` and `hera clients` are driven over HTTP, and every token is checked
//! at Hydra.
//!
//! `cargo test --test real` runs this tier alone (the first run on a machine builds Hydra and
//! Kratos, several minutes); `./scripts/test` runs it with everything else. The device flow
//! needs Hydra v25.4 or newer and is tested against the fakes only.

// Helpers outside #[test] functions may unwrap: a failed assumption in a test should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bff;
#[path = "../browser/client_app.rs"]
mod client_app;
mod clients;
#[path = "../browser/driver.rs"]
mod driver;
mod flows;
mod kratos_pages;
#[path = "../../examples/demo/mail.rs"]
mod mail;
mod ory;
mod session_api;
mod stack;
#[path = "../support/mod.rs"]
mod support;
mod versions;
