//! The stylesheet, compiled into the binary so Hera ships as one file.

use actix_web::http::header;
use actix_web::{get, HttpResponse};

const STYLESHEET: &str = include_str!("../../static/hera.css");

#[get("/static/hera.css")]
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}
