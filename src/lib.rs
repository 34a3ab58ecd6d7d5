//! Hera: the login, consent, logout and device-verification provider for Ory Hydra, backed by
//! Ory Kratos sessions.
//!
//! A request flows: [`routes`] (thin handlers) → [`domain`] (pure decisions, no I/O) →
//! [`ory`] (Hydra and Kratos clients in Hera's terms) → a redirect or a page ([`views`]).
//! [`startup`] wires the server; [`config`] is the one typed settings value; [`error`] turns
//! every failure into a friendly page with a request id; [`session`] holds Hera's own cookie
//! and the CSRF tokens bound to it; [`rate_limit`] counts device-code attempts; [`telemetry`]
//! sets up logs that never carry challenges, cookies or tokens; [`i18n`] holds every text a page
//! shows, per language, and picks the language of each request. [`clients`] is the
//! `hera clients plan|apply` admin command, which keeps Hydra's OAuth2 clients in step with the
//! files in `hydra-clients/`. [`bff`] is `hera bff`, the backend-for-frontend server role that
//! keeps a single-page app's tokens server-side.

pub mod bff;
pub mod bridge;
pub mod clients;
pub mod config;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod limits;
pub mod ory;
pub mod rate_limit;
pub mod routes;
pub mod session;
pub mod startup;
pub mod telemetry;
pub mod timing;
pub mod views;

#[cfg(test)]
mod properties;
