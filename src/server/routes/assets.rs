//! The stylesheet, Hera's script and per-client theme stylesheets.
//!
//! The stylesheet is served under a name carrying a hash of its contents
//! ([`STYLESHEET_PATH`], computed by `build.rs`), so it can be cached for a year: a new
//! release has a new name. A theme stylesheet's contents are a pure function of its URL, so it
//! is cached the same way.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

use crate::server::error::HeraError;
use crate::server::theme::Accent;

use crate::server::assets::{SCRIPT, SCRIPT_PATH, STYLESHEET, STYLESHEET_PATH};

/// For content-addressed responses: a year, and never revalidated.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `/static/hera.<hash>.css` (and the unhashed `/static/hera.css`, cached briefly, for pages
/// an operator writes by hand).
///
/// Also Hera's script, `/static/hera.<hash>.js`, only under its hashed name.
#[get("/static/{name}")]
pub async fn stylesheet(name: web::Path<String>) -> Result<HttpResponse, HeraError> {
    if SCRIPT_PATH.strip_prefix("/static/") == Some(name.as_str()) {
        return Ok(HttpResponse::Ok()
            .content_type("text/javascript; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, IMMUTABLE))
            .body(SCRIPT));
    }
    let cache = if STYLESHEET_PATH.strip_prefix("/static/") == Some(name.as_str()) {
        IMMUTABLE
    } else if name.as_str() == "hera.css" {
        "public, max-age=3600"
    } else {
        return Err(HeraError::NotFound);
    };
    Ok(HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, cache))
        .body(STYLESHEET))
}

/// `/theme/<rrggbb>.css`: a client's accent colour, with a readable text colour on it.
#[get("/theme/{file}")]
pub async fn theme(file: web::Path<String>) -> Result<HttpResponse, HeraError> {
    let accent = file
        .strip_suffix(".css")
        .filter(|hex| hex.bytes().all(|b| !b.is_ascii_uppercase()))
        .and_then(Accent::from_hex)
        .ok_or(HeraError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, IMMUTABLE))
        .body(accent.stylesheet()))
}

/// The operator's logo and the tab icon, under names carrying their hash.
#[get("/brand/{file}")]
pub async fn brand(
    http: actix_web::HttpRequest,
    state: web::Data<crate::server::State>,
) -> Result<HttpResponse, HeraError> {
    let t = crate::server::texts(&http, &state, &[]);
    let image = t.brand().image(http.path()).ok_or(HeraError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(image.content_type)
        .insert_header((header::CACHE_CONTROL, IMMUTABLE))
        .body(image.bytes.to_vec()))
}

/// `/favicon.ico`, which browsers ask for on their own: the tab icon, cached for a day.
#[get("/favicon.ico")]
pub async fn favicon(
    http: actix_web::HttpRequest,
    state: web::Data<crate::server::State>,
) -> HttpResponse {
    let t = crate::server::texts(&http, &state, &[]);
    let icon = &t.brand().favicon;
    HttpResponse::Ok()
        .content_type(icon.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(icon.bytes.to_vec())
}
