//! Build-time inventory of what Hera embeds:
//! - every `locales/*.ftl` file, so adding a language is adding one file;
//! - the stylesheet's and the script's content hashes, so their URLs change whenever they do
//!   and browsers may cache them forever;
//! - the git commit it is built from (`HERA_GIT_COMMIT` overrides it, for builds without the
//!   repository), for `hera --version`, `/health/alive` and the `hera_build_info` metric.

use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::{env, fs};

/// The short commit of `HEAD`, or `unknown`; asks cargo to run again when `HEAD` moves.
fn git_commit() -> String {
    println!("cargo:rerun-if-env-changed=HERA_GIT_COMMIT");
    if let Ok(commit) = env::var("HERA_GIT_COMMIT") {
        return commit;
    }
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .map(|text| text.trim().to_owned())
    };
    for file in ["HEAD", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", file]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(path) = git(&["rev-parse", "--git-path", &head]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned())
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rustc-env=HERA_GIT_COMMIT={}", git_commit());
    println!("cargo:rerun-if-changed=locales");
    println!("cargo:rerun-if-changed=static/hera.css");
    println!("cargo:rerun-if-changed=static/hera.js");
    let root = env::var("CARGO_MANIFEST_DIR")?;
    let out = env::var("OUT_DIR")?;

    let mut locales: Vec<(String, String)> = Vec::new();
    for entry in fs::read_dir(Path::new(&root).join("locales"))? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("ftl") {
            continue;
        }
        let Some(tag) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let Some(full) = path.to_str() else {
            return Err(format!("{} is not UTF-8", path.display()).into());
        };
        locales.push((tag.to_owned(), full.to_owned()));
    }
    locales.sort();
    let mut code = String::from(
        "/// Every `locales/*.ftl`, as (language tag, file contents), sorted by tag.\n\
         pub const LOCALE_FILES: &[(&str, &str)] = &[\n",
    );
    for (tag, path) in &locales {
        writeln!(code, "    ({tag:?}, include_str!({path:?})),")?;
    }
    code.push_str("];\n");
    fs::write(Path::new(&out).join("locales.rs"), code)?;

    let css = fs::read(Path::new(&root).join("static/hera.css"))?;
    let js = fs::read(Path::new(&root).join("static/hera.js"))?;
    fs::write(
        Path::new(&out).join("assets.rs"),
        format!(
            "/// Where the stylesheet is served: its name carries a hash of its contents.\n\
             pub const STYLESHEET_PATH: &str = \"/static/hera.{css:012x}.css\";\n\
             /// Where Hera's one script (the WebAuthn buttons) is served, named the same way.\n\
             pub const SCRIPT_PATH: &str = \"/static/hera.{js:012x}.js\";\n",
            css = fnv1a64(&css) >> 16,
            js = fnv1a64(&js) >> 16,
        ),
    )?;
    Ok(())
}

/// FNV-1a, 64 bits: a content fingerprint for cache busting, not a security measure.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
