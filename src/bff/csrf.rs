//! CSRF protection for `/api/*`.
//!
//! The session cookie is `SameSite=Lax`, which still lets sibling subdomains (same site) send
//! it with any request, and older browsers send it more widely. So:
//! - every state-changing request (anything but GET, HEAD, OPTIONS) must carry the CSRF header
//!   (`X-Requested-With: XMLHttpRequest` by default) and come from the app's own origin: an
//!   exact `Origin`, or, without one, `Sec-Fetch-Site: same-origin`. A cross-origin page cannot
//!   add a custom header without a CORS preflight, which the BFF never answers.
//! - safe requests are refused when the browser says they come from another site
//!   (`Sec-Fetch-Site: cross-site` or `same-site`), so another page cannot make the BFF spend
//!   the user's token even on a GET.
//!
//! `/api/login` and `/api/callback` are top-level navigations that arrive from other sites by
//! design (the callback from Hydra); the callback's `state` protects it instead.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, ORIGIN};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;

use crate::bff::error::BffError;
use crate::bff::BffState;

const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// What the check needs to know about the deployment.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// The app's origin, as browsers send it in `Origin`.
    pub origin: &'a str,
    pub header: &'a HeaderName,
}

/// Whether a request to `path` may proceed; the reason when it may not.
pub fn check(
    policy: Policy<'_>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<(), &'static str> {
    if path == "/api/login" || path == "/api/callback" {
        return Ok(());
    }
    let fetch_site = headers.get(SEC_FETCH_SITE).map(|value| value.as_bytes());
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return match fetch_site {
            Some(b"cross-site" | b"same-site") => Err("a request from another site"),
            _ => Ok(()),
        };
    }
    let header_ok = headers.get(policy.header).is_some_and(|value| {
        if policy.header == "x-requested-with" {
            value.as_bytes().eq_ignore_ascii_case(b"XMLHttpRequest")
        } else {
            !value.is_empty()
        }
    });
    if !header_ok {
        return Err("the CSRF header is missing");
    }
    match (headers.get(ORIGIN), fetch_site) {
        (Some(origin), site) => {
            if origin.as_bytes() != policy.origin.as_bytes() {
                return Err("the Origin is not this application's");
            }
            if site.is_some_and(|site| site != b"same-origin") {
                return Err("Sec-Fetch-Site is not same-origin");
            }
            Ok(())
        }
        (None, Some(b"same-origin")) => Ok(()),
        (None, Some(_)) => Err("Sec-Fetch-Site is not same-origin"),
        (None, None) => Err("neither Origin nor Sec-Fetch-Site says where the request comes from"),
    }
}

/// The middleware around `/api`: refused requests never reach a handler.
pub async fn protect(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let verdict = match request.app_data::<web::Data<BffState>>() {
        Some(state) => {
            let origin = state.settings.origin();
            let policy = Policy {
                origin: &origin,
                header: &state.settings.csrf_header,
            };
            check(policy, request.method(), request.path(), request.headers())
        }
        None => Err("the BFF is not configured"),
    };
    match verdict {
        Ok(()) => Ok(next.call(request).await?.map_into_boxed_body()),
        Err(reason) => Ok(request.error_response(BffError::Csrf(reason))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    const ORIGIN_VALUE: &str = "https://app.example.com";

    fn run(
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        header: &str,
    ) -> Result<(), &'static str> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::try_from(*name).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let header = HeaderName::try_from(header).unwrap();
        check(
            Policy {
                origin: ORIGIN_VALUE,
                header: &header,
            },
            &method,
            path,
            &map,
        )
    }

    fn post(headers: &[(&str, &str)]) -> Result<(), &'static str> {
        run(Method::POST, "/api/logout", headers, "x-requested-with")
    }

    const XHR: (&str, &str) = ("X-Requested-With", "XMLHttpRequest");

    #[test]
    fn a_same_origin_xhr_post_passes() {
        assert_eq!(post(&[XHR, ("Origin", ORIGIN_VALUE)]), Ok(()));
        assert_eq!(
            post(&[
                XHR,
                ("Origin", ORIGIN_VALUE),
                ("Sec-Fetch-Site", "same-origin")
            ]),
            Ok(())
        );
        assert_eq!(post(&[XHR, ("Sec-Fetch-Site", "same-origin")]), Ok(()));
        assert_eq!(
            post(&[
                ("X-Requested-With", "xmlhttprequest"),
                ("Origin", ORIGIN_VALUE)
            ]),
            Ok(())
        );
    }

    #[test]
    fn a_post_without_the_header_is_refused() {
        assert!(post(&[("Origin", ORIGIN_VALUE)]).is_err());
        assert!(post(&[("X-Requested-With", "fetch"), ("Origin", ORIGIN_VALUE)]).is_err());
    }

    #[test]
    fn a_post_from_another_origin_or_of_unknown_origin_is_refused() {
        for origin in [
            "https://evil.example.com",
            "https://app.example.com.evil.test",
            "http://app.example.com",
            "null",
        ] {
            assert!(post(&[XHR, ("Origin", origin)]).is_err(), "{origin}");
        }
        assert!(post(&[
            XHR,
            ("Origin", ORIGIN_VALUE),
            ("Sec-Fetch-Site", "same-site")
        ])
        .is_err());
        assert!(post(&[XHR, ("Sec-Fetch-Site", "cross-site")]).is_err());
        assert!(post(&[XHR]).is_err());
    }

    #[test]
    fn every_unsafe_method_is_checked_on_every_api_route() {
        for method in [Method::PUT, Method::PATCH, Method::DELETE, Method::POST] {
            assert!(run(
                method.clone(),
                "/api/proxy/orders/1",
                &[],
                "x-requested-with"
            )
            .is_err());
            assert!(run(
                method,
                "/api/proxy/orders/1",
                &[XHR, ("Origin", ORIGIN_VALUE)],
                "x-requested-with"
            )
            .is_ok());
        }
    }

    #[test]
    fn an_operator_named_header_needs_only_a_value() {
        assert!(run(
            Method::POST,
            "/api/logout",
            &[("X-CSRF", "1"), ("Origin", ORIGIN_VALUE)],
            "x-csrf"
        )
        .is_ok());
        assert!(run(
            Method::POST,
            "/api/logout",
            &[XHR, ("Origin", ORIGIN_VALUE)],
            "x-csrf"
        )
        .is_err());
    }

    #[test]
    fn safe_requests_pass_unless_another_site_sent_them() {
        assert!(run(Method::GET, "/api/whoami", &[], "x-requested-with").is_ok());
        assert!(run(
            Method::GET,
            "/api/proxy/a/b",
            &[("Sec-Fetch-Site", "same-origin")],
            "x-requested-with"
        )
        .is_ok());
        assert!(run(
            Method::GET,
            "/api/proxy/a/b",
            &[("Sec-Fetch-Site", "none")],
            "x-requested-with"
        )
        .is_ok());
        assert!(run(
            Method::GET,
            "/api/proxy/a/b",
            &[("Sec-Fetch-Site", "cross-site")],
            "x-requested-with"
        )
        .is_err());
        assert!(run(
            Method::GET,
            "/api/proxy/a/b",
            &[("Sec-Fetch-Site", "same-site")],
            "x-requested-with"
        )
        .is_err());
    }

    #[test]
    fn sign_in_navigations_are_not_checked() {
        assert!(run(
            Method::GET,
            "/api/callback",
            &[("Sec-Fetch-Site", "cross-site")],
            "x-requested-with"
        )
        .is_ok());
        assert!(run(
            Method::GET,
            "/api/login",
            &[("Sec-Fetch-Site", "cross-site")],
            "x-requested-with"
        )
        .is_ok());
    }
}
