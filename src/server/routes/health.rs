//! `/health/alive` and `/health/ready` for orchestrators.

use std::time::Duration;

use actix_web::rt::time::timeout;
use actix_web::{get, web, HttpResponse};
use futures_util::future::join;
use serde_json::json;

use crate::ory::UpstreamError;
use crate::server::State;

/// How long each dependency may take to answer a readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// 200 while the process serves requests, with the version it runs.
#[get("/health/alive")]
pub async fn alive() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "commit": crate::GIT_COMMIT,
    }))
}

/// 200 only when Hydra admin and Kratos public both answer their own readiness probes within
/// a second; otherwise 503 naming each dependency that failed. The probe is public, so why a
/// dependency failed (addresses, statuses) goes to the log, never into the answer. 503
/// `draining` as soon as a graceful shutdown began, so load balancers stop sending traffic.
#[get("/health/ready")]
pub async fn ready(state: web::Data<State>) -> HttpResponse {
    if state.is_draining() {
        return HttpResponse::ServiceUnavailable().json(json!({"status": "draining"}));
    }
    let (hydra, kratos) = join(
        probe(state.hydra.is_ready()),
        probe(state.kratos.is_ready()),
    )
    .await;
    let mut failed = Vec::new();
    for (name, outcome) in [("hydra_admin", hydra), ("kratos_public", kratos)] {
        if let Err(reason) = outcome {
            tracing::warn!(dependency = name, reason = %reason, "not ready");
            failed.push(name);
        }
    }
    if failed.is_empty() {
        HttpResponse::Ok().json(json!({"status": "ok"}))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable", "failed": failed}))
    }
}

async fn probe(
    check: impl std::future::Future<Output = Result<(), UpstreamError>>,
) -> Result<(), String> {
    match timeout(PROBE_TIMEOUT, check).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("did not answer within 1 s".into()),
    }
}
