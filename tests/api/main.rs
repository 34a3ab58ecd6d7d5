//! Hera's integration tests: one binary, every module a flow.
//!
//! Each test starts Hera on 127.0.0.1:0 against in-process fakes of Hydra (admin and public)
//! and Kratos (public and admin), which are checked against Ory's OpenAPI specs and against
//! exchanges recorded from the real servers (`tests/contract/`). The browser suite is a target of
//! its own (`tests/browser/`), so this one needs no Chromium.

// Helpers outside #[test] functions may unwrap: a failed assumption in a test should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bff;
mod bridge;
mod chain;
mod cli;
mod clients;
mod connected_apps;
mod consent;
mod contract;
mod device;
mod faults;
mod home;
mod limits;
mod login;
mod login_decisions;
mod logout;
mod logs;
mod look;
mod operations;
mod pages;
mod recorded;
mod recorded_selfservice;
mod scale_out;
mod selfservice;
mod selfservice_methods;
mod selfservice_states;
mod sessions;
#[path = "../support/mod.rs"]
mod support;
mod token_exchange;
mod upstream_tls;
