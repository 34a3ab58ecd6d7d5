//! Hera: the one UI of an Ory Hydra + Ory Kratos deployment. The code is laid out by layer and
//! by role, and dependencies run one way (`tests/layers.rs` checks it):
//!
//! - [`model`]: Hera's own types for what Hydra and Kratos say, and for challenges and device
//!   codes. Plain data.
//! - [`domain`]: pure decisions over `model` (login, consent, claims, logout, bridge…).
//! - [`ory`]: the Hydra and Kratos clients, mapping their APIs into `model`.
//! - Shared pieces: [`telemetry`] (logs), [`timing`] (Server-Timing), [`secrets`], [`urls`], and
//!   [`web`] (the HTTP edge every server role uses: error responses, headers, size limits).
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
