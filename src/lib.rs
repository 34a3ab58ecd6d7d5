//! Hera: the one UI of an Ory Hydra + Ory Kratos deployment. The code is laid out by layer and
//! by role, and dependencies run one way (`tests/layers.rs` checks it):
//!
//! - [`model`]: Hera's own types for what Hydra and Kratos say, and for challenges and device
//!   codes. Plain data.
//! - [`domain`]: pure decisions over `model` (login, consent, claims, logout, bridge…).
//! - [`ory`]: the Hydra and Kratos clients, mapping their APIs into `model`.
//! - Shared pieces: [`telemetry`] (logs), [`metrics`] (Prometheus), [`timing`] (Server-Timing),
//!   [`secrets`], [`urls`], and
//!   [`web`] (the HTTP edge every server role uses: error responses, headers, size and attempt
//!   limits).
//! - The roles, which never import each other: [`server`] (the login, consent, logout and
//!   device pages), [`session_api`] (`/session/*` for first-party apps), [`bff`] (`hera bff`)
//!   and [`clients`] (`hera clients plan|apply`).
//! - [`app`] composes `hera serve` from the server and the session API; [`cli`] is the command
//!   line.

pub mod app;
pub mod bff;
pub mod cli;
pub mod clients;
pub mod domain;
pub mod metrics;
pub mod model;
pub mod ory;
pub mod secrets;
pub mod server;
pub mod session_api;
pub mod telemetry;
pub mod timing;
pub mod urls;
pub mod web;

#[cfg(test)]
mod properties;

/// The git commit this binary was built from (`unknown` when built without the repository).
pub const GIT_COMMIT: &str = env!("HERA_GIT_COMMIT");

/// `0.1.0 (commit 1a2b3c4d5e6f)`: what `hera --version` and `/health/alive` say.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("HERA_GIT_COMMIT"),
    ")"
);
