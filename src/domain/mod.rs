//! Pure logic: no HTTP, no I/O, table-tested. Handlers execute what these functions decide.

pub mod amr;
pub mod auth_request;
pub mod bridge;
pub mod challenge;
pub mod claims;
pub mod connected_apps;
pub mod consent;
pub mod device;
pub mod login;
pub mod logout;
pub mod scopes;
pub mod theme;
pub mod throttle;
