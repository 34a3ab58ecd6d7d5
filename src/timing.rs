//! Where a request's time goes: waiting on Hydra and Kratos, or in Hera itself.
//!
//! Every upstream call is wrapped in [`upstream`]. When `HERA_SERVER_TIMING` is on, the
//! [`server_timing`] middleware gives each request a task-local clock and answers with
//! `Server-Timing: upstream;dur=…, hera;dur=…` (milliseconds). Overlapping calls (Hera asks
//! Kratos twice at once for a remembered login) count once: the clock runs while at least one
//! call is outstanding. Off by default, since it tells clients how long Hera's upstreams take.

use std::cell::RefCell;
use std::future::Future;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;

#[derive(Debug, Default)]
struct Clock {
    in_flight: u32,
    since: Option<Instant>,
    total: Duration,
}

tokio::task_local! {
    static CLOCK: RefCell<Clock>;
}

/// Runs one upstream call, counting its time when the request is being timed.
pub async fn upstream<F: Future>(call: F) -> F::Output {
    let started = CLOCK
        .try_with(|clock| {
            let mut clock = clock.borrow_mut();
            if clock.in_flight == 0 {
                clock.since = Some(Instant::now());
            }
            clock.in_flight += 1;
        })
        .is_ok();
    let output = call.await;
    if started {
        let _ = CLOCK.try_with(|clock| {
            let mut clock = clock.borrow_mut();
            clock.in_flight = clock.in_flight.saturating_sub(1);
            if clock.in_flight == 0 {
                if let Some(since) = clock.since.take() {
                    clock.total += since.elapsed();
                }
            }
        });
    }
    output
}

/// Times the request and adds `Server-Timing`.
pub async fn server_timing(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let (result, upstream) = CLOCK
        .scope(RefCell::new(Clock::default()), async {
            let result = next.call(request).await;
            let upstream = CLOCK.with(|clock| clock.borrow().total);
            (result, upstream)
        })
        .await;
    let mut response = result?;
    let total = started.elapsed();
    let own = total.saturating_sub(upstream);
    let value = format!(
        "upstream;dur={:.3}, hera;dur={:.3}",
        upstream.as_secs_f64() * 1000.0,
        own.as_secs_f64() * 1000.0
    );
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("server-timing"), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn overlapping_calls_count_once_and_untimed_calls_are_free() {
        let sleep = |ms| actix_web::rt::time::sleep(Duration::from_millis(ms));
        // Outside a timed request nothing is recorded and nothing fails.
        upstream(sleep(1)).await;
        let total = CLOCK
            .scope(RefCell::new(Clock::default()), async {
                upstream(sleep(20)).await;
                futures_util::future::join(upstream(sleep(30)), upstream(sleep(30))).await;
                CLOCK.with(|clock| clock.borrow().total)
            })
            .await;
        assert!(total >= Duration::from_millis(50), "{total:?}");
        assert!(
            total < Duration::from_millis(75),
            "parallel calls counted twice: {total:?}"
        );
    }
}
