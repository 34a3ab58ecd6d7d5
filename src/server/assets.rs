//! The stylesheet and the script, compiled into the binary so Hera ships as one file, and the
//! content-hashed paths they are served at ([`STYLESHEET_PATH`], [`SCRIPT_PATH`], computed by
//! `build.rs`).

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Hera's one stylesheet.
pub const STYLESHEET: &str = include_str!("../../static/hera.css");

/// Hera's one script: wires Kratos's WebAuthn and passkey buttons (see the file's header).
pub const SCRIPT: &str = include_str!("../../static/hera.js");
