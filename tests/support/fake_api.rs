//! A fake upstream API behind the BFF. It records every request it receives (method, path,
//! query, headers, body) and answers:
//! - `GET /large?bytes=N`: N bytes, with a `Content-Length`;
//! - `GET /stream`: three chunks without a `Content-Length`;
//! - anything else: `200` JSON `{"method", "path", "query", "body"}`, with a `Set-Cookie` (which
//!   the BFF must drop) and `X-Upstream: fake`.
//!
//! With a token check, requests without an active bearer token get `401`, as a real API that
//! introspects or verifies tokens would answer.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::fake_hydra::{bind_local, lock, spawn_servers, Configure, ServerGuard};

/// Decides whether an access token is active.
pub type TokenCheck = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// One request as the API saw it.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Lower-case names, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The token of `Authorization: Bearer …`.
    pub fn bearer(&self) -> Option<&str> {
        self.header("authorization")?.strip_prefix("Bearer ")
    }
}

struct ApiShared {
    requests: Mutex<Vec<ApiRequest>>,
    check: Option<TokenCheck>,
    latency: Mutex<Duration>,
}

/// The fake API. Dropping it stops the server.
pub struct FakeApi {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    shared: Arc<ApiShared>,
    _server: ServerGuard,
}

impl FakeApi {
    pub async fn start(check: Option<TokenCheck>) -> FakeApi {
        let (listener, url) = bind_local();
        let shared = Arc::new(ApiShared {
            requests: Mutex::new(Vec::new()),
            check,
            latency: Mutex::new(Duration::ZERO),
        });
        let app_shared = shared.clone();
        let configure: Configure = Arc::new(move |cfg: &mut web::ServiceConfig| {
            cfg.app_data(web::Data::from(app_shared.clone()))
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .default_service(web::to(handle));
        });
        let server = spawn_servers("fake-api", vec![(listener, configure)]).await;
        FakeApi {
            url,
            shared,
            _server: server,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<ApiRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Makes every answer wait this long.
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.shared.latency) = latency;
    }
}

async fn handle(req: HttpRequest, body: web::Bytes, shared: web::Data<ApiShared>) -> HttpResponse {
    let recorded = ApiRequest {
        method: req.method().as_str().to_owned(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    };
    lock(&shared.requests).push(recorded.clone());
    let latency = *lock(&shared.latency);
    if !latency.is_zero() {
        actix_web::rt::time::sleep(latency).await;
    }
    if let Some(check) = &shared.check {
        if !recorded.bearer().is_some_and(|token| check(token)) {
            return HttpResponse::Unauthorized()
                .insert_header(("www-authenticate", "Bearer error=\"invalid_token\""))
                .json(json!({"error": "invalid_token"}));
        }
    }
    match req.path() {
        "/large" => {
            let bytes: usize = url::form_urlencoded::parse(req.query_string().as_bytes())
                .find(|(k, _)| k == "bytes")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(1024);
            HttpResponse::Ok()
                .content_type("application/octet-stream")
                .body(vec![b'x'; bytes])
        }
        "/page" => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header(("content-security-policy", "default-src 'self'"))
            .body("<!doctype html><script>fetch('/api/whoami')</script>"),
        "/stream" => {
            let chunks =
                futures_util::stream::iter(["one,", "two,", "three"].map(|chunk| {
                    Ok::<_, std::io::Error>(web::Bytes::from_static(chunk.as_bytes()))
                }));
            HttpResponse::Ok()
                .content_type("text/plain")
                .streaming(chunks)
        }
        _ => HttpResponse::Ok()
            .insert_header(("set-cookie", "upstream_session=leak; Path=/"))
            .insert_header(("x-upstream", "fake"))
            .insert_header(("etag", "\"v1\""))
            .json(json!({
                "method": recorded.method,
                "path": recorded.path,
                "query": recorded.query,
                "body": String::from_utf8_lossy(&recorded.body),
            })),
    }
}
