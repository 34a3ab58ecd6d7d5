//! The load test, in its own test binary so it runs alone: cargo runs test binaries one after
//! another, and 1,000 concurrent flows on two cores would otherwise slow the timing-sensitive
//! tests of the main suite (and be slowed by them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

#[path = "../support/mod.rs"]
mod support;

mod load;
