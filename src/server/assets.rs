//! The stylesheet, compiled into the binary so Hera ships as one file, and the content-hashed
//! path it is served at ([`STYLESHEET_PATH`], computed by `build.rs`).

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Hera's one stylesheet.
pub const STYLESHEET: &str = include_str!("../../static/hera.css");
