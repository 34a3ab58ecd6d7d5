//! Pure decisions: no HTTP, no I/O, no page texts, table-tested. Each takes `model` values and
//! returns an outcome; the roles execute it and map it to HTTP.

pub mod amr;
pub mod auth_request;
pub mod bridge;
pub mod claims;
pub mod connected_apps;
pub mod consent;
pub mod login;
pub mod logout;
pub mod selfservice;
pub mod token_exchange;
