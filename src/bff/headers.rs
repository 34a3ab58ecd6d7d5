//! Headers the BFF never forwards to an upstream API, whatever the operator configures.

use actix_web::http::header::HeaderName;

/// Hop-by-hop headers (RFC 9110 §7.6.1) and headers that only make sense on one connection.
pub const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Headers that may never be forwarded, whatever the operator configures.
pub fn never_forwarded(name: &HeaderName) -> bool {
    let name = name.as_str();
    HOP_BY_HOP.contains(&name)
        || matches!(
            name,
            "authorization" | "cookie" | "host" | "content-length" | "forwarded" | "x-request-id"
        )
        || name.starts_with("x-forwarded-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_hop_by_hop_headers_are_never_forwarded() {
        for name in [
            "cookie",
            "authorization",
            "host",
            "connection",
            "transfer-encoding",
            "x-forwarded-for",
        ] {
            assert!(never_forwarded(&HeaderName::from_static(name)), "{name}");
        }
        assert!(!never_forwarded(&HeaderName::from_static(
            "idempotency-key"
        )));
    }
}
