//! Size limits on what browsers and apps send, generous enough for real challenges (1–2 KB,
//! up to Hera's 16 KiB challenge limit) and far below what could hurt.
//!
//! | input | limit | answer |
//! |---|---|---|
//! | path and query | 32 KiB | 414 page |
//! | all header names and values | 64 KiB | 431 page (actix itself cuts whole heads at 128 KiB) |
//! | a form or JSON body | 64 KiB ([`MAX_FORM_BYTES`]) | 413 page |

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::ResponseError;

/// Largest form or JSON body Hera reads; a consent form with a 16 KiB challenge fits easily.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Longest path and query Hera reads.
pub const MAX_URI_BYTES: usize = 32 * 1024;
/// Most header bytes (names and values) Hera reads.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Refuses oversized requests before any handler runs.
pub async fn limits(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let uri_bytes = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        return Ok(request.error_response(TooLarge::Uri));
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Ok(request.error_response(TooLarge::Headers));
    }
    Ok(next.call(request).await?.map_into_boxed_body())
}

/// Which limit a request exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TooLarge {
    #[error("the path and query are too long")]
    Uri,
    #[error("the headers are too large")]
    Headers,
}

impl ResponseError for TooLarge {
    fn status_code(&self) -> StatusCode {
        match self {
            TooLarge::Uri => StatusCode::URI_TOO_LONG,
            TooLarge::Headers => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        }
    }
}
