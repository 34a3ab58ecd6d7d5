//! `hera bff`, the backend-for-frontend. An SPA signs in through Hydra (the public
//! fake) and Hera, calls an API through the proxy across a token expiry and signs out; the
//! browser never holds a token. Refreshes are single-flight, on one instance and on two
//! instances sharing a real Redis.

use std::time::Duration;

use futures_util::future::join_all;
use hera::bff::config::{BffSettings, StoreSettings};
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

use crate::support::bff::{TestBff, CLIENT_ID};
use crate::support::fake_hydra_tokens::{Tamper, DEFAULT_ACCESS_TTL};
use crate::support::logs;
use crate::support::redis_server::RedisServer;
use crate::support::{query, ADA, ADA_EMAIL};

/// The last access token Hydra issued.
fn last_access_token(bff: &TestBff) -> String {
    let tokens = bff.app.public.tokens();
    tokens.last().unwrap().0["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn last_refresh_token(bff: &TestBff) -> String {
    let tokens = bff.app.public.tokens();
    tokens.last().unwrap().0["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn cookie_named<'a>(set_cookies: &'a [String], name: &str) -> Option<&'a String> {
    set_cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
}

#[tokio::test]
async fn an_spa_signs_in_calls_an_api_across_a_token_expiry_and_signs_out_without_seeing_a_token() {
    let spa = spa_folder();
    let static_dir = spa.clone();
    let bff = TestBff::start_with(1, StoreSettings::Memory, move |s| {
        s.static_dir = Some(static_dir.clone());
    })
    .await;
    let issuer = bff.app.public.issuer();

    let page = bff.get(0, "/").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<title>SPA</title>"));

    let anonymous = bff.whoami(0).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json(), json!({"authenticated": false}));

    // Sign in: /api/login → Hydra → Hera → Hydra → /api/callback → back to the app.
    issuer.set_access_ttl(36);
    let start = bff.get(0, "/api/login?return_to=%2Forders").await;
    assert_eq!(start.status, 303);
    let authorize = query(start.location());
    assert!(start
        .location()
        .starts_with(&format!("{}/oauth2/auth?", bff.app.public.url)));
    assert_eq!(authorize["client_id"], CLIENT_ID);
    assert_eq!(
        authorize["redirect_uri"],
        format!("{}/api/callback", bff.origin)
    );
    assert_eq!(authorize["scope"], "openid offline_access profile email");
    assert_eq!(authorize["code_challenge_method"], "S256");
    assert_eq!(authorize["code_challenge"].len(), 43);
    assert!(authorize["state"].len() >= 43 && authorize["nonce"].len() >= 43);
    let login_cookie = cookie_named(&start.set_cookies(), "hera_bff_login")
        .unwrap()
        .clone();
    assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Lax"));
    assert!(login_cookie.contains("Path=/api/callback") && login_cookie.contains("Max-Age=600"));
    let callback = bff
        .app
        .follow_until(start.location(), &format!("{}/api/callback", bff.origin))
        .await
        .unwrap();
    let signed_in = bff.send(bff.app.browser.get(callback)).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.location(), "/orders");
    let cookies = signed_in.set_cookies();
    let session_cookie = cookie_named(&cookies, "hera_bff").unwrap();
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(
        !session_cookie.contains("Secure"),
        "plain-http development: {session_cookie}"
    );
    assert!(cookie_named(&cookies, "hera_bff_login")
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        bff.session_cookie().unwrap().len(),
        43,
        "a random 256-bit id"
    );
    let first_token = last_access_token(&bff);
    issuer.set_access_ttl(DEFAULT_ACCESS_TTL);

    let me = bff.whoami(0).await;
    assert_eq!(me.status, 200);
    assert_eq!(
        me.json(),
        json!({"authenticated": true, "user": {"id": ADA, "email": ADA_EMAIL, "name": "Ada Lovelace"}})
    );
    assert_eq!(me.header("cache-control"), Some("no-store"));

    // The access token has 36 s left: used as it is.
    let orders = bff.proxy(0, Method::GET, "orders/items?page=2").await;
    assert_eq!(orders.status, 200, "{}", orders.body);
    assert_eq!(orders.json()["path"], "/v1/items");
    assert_eq!(orders.json()["query"], "page=2");
    let calls = bff.api_calls();
    assert_eq!(calls[0].bearer(), Some(first_token.as_str()));
    assert_eq!(issuer.refresh_grants(), 0);

    // Six seconds later it expires within 30 s: refreshed first, once.
    tokio::time::sleep(Duration::from_millis(6100)).await;
    let again = bff.proxy(0, Method::GET, "orders/items").await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(issuer.refresh_grants(), 1);
    let refreshed = last_access_token(&bff);
    assert_ne!(refreshed, first_token);
    assert_eq!(bff.api_calls()[1].bearer(), Some(refreshed.as_str()));
    let third = bff.proxy(0, Method::GET, "orders/items").await;
    assert_eq!(third.status, 200);
    assert_eq!(
        issuer.refresh_grants(),
        1,
        "a fresh token is not refreshed again"
    );
    assert_eq!(issuer.reuse_detected(), 0);

    // Sign out: the refresh token is revoked, the session gone, the cookie cleared, and the
    // app gets Hydra's RP-initiated logout URL.
    let out = bff.logout(0).await;
    assert_eq!(out.status, 200, "{}", out.body);
    let logout_url = out.json()["logout_url"].as_str().unwrap().to_owned();
    assert!(logout_url.starts_with(&format!("{}/oauth2/sessions/logout?", bff.app.public.url)));
    let logout = query(&logout_url);
    assert_eq!(
        logout["post_logout_redirect_uri"],
        format!("{}/", bff.origin)
    );
    assert_eq!(
        &logout["id_token_hint"],
        bff.issued_id_tokens().last().unwrap()
    );
    assert!(cookie_named(&out.set_cookies(), "hera_bff")
        .unwrap()
        .contains("Max-Age=0"));
    assert!(
        !issuer.access_token_is_active(&refreshed),
        "revoked at Hydra"
    );
    assert!(issuer.chain_revoked(&refreshed));
    assert_eq!(bff.whoami(0).await.status, 401);
    assert_eq!(bff.proxy(0, Method::GET, "orders/items").await.status, 401);

    bff.assert_browser_never_saw_a_token();
    let logged = logs::captured();
    for token in bff.issued_tokens() {
        assert!(!logged.contains(&token), "a token reached the logs");
    }
    std::fs::remove_dir_all(spa).unwrap();
}

/// A folder with a tiny SPA: `index.html` and `assets/app.js`.
fn spa_folder() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hera-bff-spa-{}",
        crate::support::fake_hydra::random_hex(6)
    ));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>SPA</title>").unwrap();
    std::fs::write(dir.join("assets/app.js"), "console.log('spa')").unwrap();
    dir
}

#[tokio::test]
async fn twenty_concurrent_requests_with_an_expiring_token_cause_exactly_one_refresh() {
    let bff = TestBff::start().await;
    let issuer = bff.app.public.issuer();
    issuer.set_access_ttl(10);
    bff.signed_in().await;
    issuer.set_access_ttl(DEFAULT_ACCESS_TTL);
    issuer.set_refresh_latency(Duration::from_millis(300));

    let bff = &bff;
    let answers = join_all((0..20).map(|i| async move {
        bff.proxy(0, Method::GET, &format!("orders/items/{i}"))
            .await
    }))
    .await;

    assert!(answers.iter().all(|a| a.status == 200), "{answers:?}");
    assert_eq!(issuer.refresh_grants(), 1);
    assert_eq!(issuer.reuse_detected(), 0);
    let refreshed = last_access_token(bff);
    let calls = bff.api_calls();
    assert_eq!(calls.len(), 20);
    assert!(calls.iter().all(|c| c.bearer() == Some(refreshed.as_str())));
    bff.assert_browser_never_saw_a_token();
}

#[tokio::test]
async fn two_instances_sharing_redis_share_sessions_and_still_refresh_once() {
    let redis = RedisServer::start();
    let bff = TestBff::start_with(
        2,
        StoreSettings::Redis(hera::bff::config::RedisUrl::new(&redis.url)),
        |_| {},
    )
    .await;
    let issuer = bff.app.public.issuer();
    issuer.set_access_ttl(10);
    bff.signed_in().await;
    issuer.set_access_ttl(DEFAULT_ACCESS_TTL);

    // Signed in on the first instance, known to the second.
    let me = bff.whoami(1).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["user"]["id"], ADA);

    issuer.set_refresh_latency(Duration::from_millis(300));
    let bff = &bff;
    let answers = join_all((0..20).map(|i| async move {
        bff.proxy(i % 2, Method::GET, &format!("orders/items/{i}"))
            .await
    }))
    .await;

    assert!(answers.iter().all(|a| a.status == 200), "{answers:?}");
    assert_eq!(
        issuer.refresh_grants(),
        1,
        "one refresh across both instances"
    );
    assert_eq!(issuer.reuse_detected(), 0);
    let refreshed = last_access_token(bff);
    assert!(bff
        .api_calls()
        .iter()
        .all(|c| c.bearer() == Some(refreshed.as_str())));

    // Signing out on one instance signs out on both.
    assert_eq!(bff.logout(1).await.status, 200);
    assert_eq!(bff.whoami(0).await.status, 401);
    bff.assert_browser_never_saw_a_token();
}

#[tokio::test]
async fn a_state_mismatch_is_refused_and_nothing_is_exchanged() {
    let bff = TestBff::start().await;
    let callback = bff.callback_url("/").await;
    let mut forged = Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = forged
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "another-state-123".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);

    let answer = bff.send(bff.app.browser.get(forged.as_str())).await;

    assert_eq!(answer.status, 400);
    assert!(answer
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(
        answer.body.contains("This sign-in is not valid"),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("Request ID: "), "{}", answer.body);
    assert!(cookie_named(&answer.set_cookies(), "hera_bff").is_none());
    assert!(
        bff.app.public.tokens().is_empty(),
        "the code was never exchanged"
    );
    // The sign-in state was used up: the genuine callback no longer works either.
    assert_eq!(bff.send(bff.app.browser.get(callback)).await.status, 400);
}

#[tokio::test]
async fn a_sign_in_hydra_refused_ends_on_a_page_saying_so() {
    let bff = TestBff::start().await;
    let callback = bff.callback_url("/").await;
    let state = query(&callback)["state"].clone();
    let refused = format!(
        "{}/api/callback?error=access_denied&error_description=%3Cscript%3E&state={}",
        bff.origin,
        crate::support::encode(&state)
    );

    let answer = bff.send(bff.app.browser.get(refused)).await;

    assert_eq!(answer.status, 400);
    assert!(
        answer.body.contains("Sign-in did not complete"),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("<script>"));
    assert!(bff.app.public.tokens().is_empty());
}

#[tokio::test]
async fn a_callback_without_a_sign_in_in_this_browser_is_refused() {
    let bff = TestBff::start().await;
    let callback = bff.callback_url("/").await;
    let other_browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let answer = bff.send(other_browser.get(callback)).await;

    assert_eq!(answer.status, 400);
    assert!(
        answer.body.contains("This sign-in has expired"),
        "{}",
        answer.body
    );
    assert!(bff.app.public.tokens().is_empty());
}

#[tokio::test]
async fn id_tokens_that_fail_validation_are_refused_and_their_tokens_revoked() {
    for tamper in [
        Tamper::Nonce("another-nonce".into()),
        Tamper::Signature,
        Tamper::UnpublishedKey,
        Tamper::Audience("someone-else".into()),
        Tamper::Issuer("https://evil.example.com".into()),
        Tamper::Expired,
    ] {
        let bff = TestBff::start().await;
        bff.app.public.issuer().set_tamper(tamper.clone());

        let answer = bff.sign_in().await;

        assert_eq!(answer.status, 400, "{tamper:?}: {}", answer.body);
        assert!(
            answer.body.contains("Sign-in could not be verified"),
            "{tamper:?}"
        );
        assert!(
            cookie_named(&answer.set_cookies(), "hera_bff").is_none(),
            "{tamper:?}"
        );
        assert!(
            bff.app
                .public
                .issuer()
                .chain_revoked(&last_refresh_token(&bff)),
            "{tamper:?}"
        );
        assert_eq!(bff.whoami(0).await.status, 401, "{tamper:?}");
        bff.assert_browser_never_saw_a_token();
    }
}

#[tokio::test]
async fn return_to_must_be_a_path_on_the_apps_origin() {
    let bff = TestBff::start().await;
    for bad in [
        "https://evil.example.com/",
        "//evil.example.com",
        "/\\evil.example.com",
        "orders",
        // Dot segments a URL parser removes, leaving `//evil.example` behind.
        "/.//evil.example",
        "/%2e//evil.example",
        "/%2E%2e//evil.example",
    ] {
        let answer = bff
            .get(
                0,
                &format!("/api/login?return_to={}", crate::support::encode(bad)),
            )
            .await;
        assert_eq!(answer.status, 400, "{bad}");
        assert!(
            answer.body.contains("must be part of this application"),
            "{bad}"
        );
    }
    let callback = bff.callback_url("/orders/42?tab=items").await;
    let answer = bff.send(bff.app.browser.get(callback)).await;
    assert_eq!(answer.location(), "/orders/42?tab=items");
    // The value is sent back exactly as it was validated.
    let callback = bff.callback_url("/files/a%20b?q=/../x").await;
    let answer = bff.send(bff.app.browser.get(callback)).await;
    assert_eq!(answer.location(), "/files/a%20b?q=/../x");
}

#[tokio::test]
async fn the_proxy_forwards_method_query_body_and_safe_headers_and_nothing_else() {
    let bff = TestBff::start().await;
    bff.signed_in().await;
    let token = last_access_token(&bff);

    let answer = bff
        .send(
            bff.app_request(
                0,
                Method::PATCH,
                "/api/proxy/orders/items/7?dry_run=1&tag=a%20b",
            )
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .header("If-Match", "\"v0\"")
            .header(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )
            .header("Authorization", "Bearer forged-by-the-page")
            .header("X-Secret-Internal", "1")
            .header(
                "Cookie",
                format!("extra=1; hera_bff={}", bff.session_cookie().unwrap()),
            )
            .body(r#"{"quantity":3}"#),
        )
        .await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    let call = &bff.api_calls()[0];
    assert_eq!(call.method, "PATCH");
    assert_eq!(call.path, "/v1/items/7");
    assert_eq!(call.query, "dry_run=1&tag=a%20b");
    assert_eq!(call.body, br#"{"quantity":3}"#);
    assert_eq!(
        call.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(call.header("content-type"), Some("application/json"));
    assert_eq!(call.header("accept"), Some("application/json"));
    assert_eq!(call.header("if-match"), Some("\"v0\""));
    assert_eq!(call.header("x-request-id"), answer.header("x-request-id"));
    assert_eq!(
        call.header("traceparent"),
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        "the caller's trace goes on to the API"
    );
    for dropped in ["cookie", "x-secret-internal", "origin", "x-requested-with"] {
        assert_eq!(call.header(dropped), None, "{dropped} was forwarded");
    }
    // The answer: the upstream's own headers, but no cookies.
    assert_eq!(answer.header("x-upstream"), Some("fake"));
    assert_eq!(answer.header("etag"), Some("\"v1\""));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert!(answer
        .set_cookies()
        .iter()
        .all(|c| !c.contains("upstream_session")));
    bff.assert_browser_never_saw_a_token();
}

#[tokio::test]
async fn large_and_chunked_answers_stream_through() {
    let bff = TestBff::start().await;
    bff.signed_in().await;

    let large = bff.proxy(0, Method::GET, "files/large?bytes=3000000").await;
    assert_eq!(large.status, 200);
    assert_eq!(large.body.len(), 3_000_000);
    assert_eq!(large.header("content-length"), Some("3000000"));

    let chunked = bff.proxy(0, Method::GET, "files/stream").await;
    assert_eq!(chunked.status, 200);
    assert_eq!(chunked.body, "one,two,three");
}

#[tokio::test]
async fn a_request_body_over_the_limit_is_refused() {
    let bff = TestBff::start_with(1, StoreSettings::Memory, |s| s.max_body_bytes = 1024).await;
    bff.signed_in().await;

    let declared = bff
        .send(
            bff.app_request(0, Method::POST, "/api/proxy/orders/upload")
                .body(vec![b'x'; 2048]),
        )
        .await;
    assert_eq!(declared.status, 413);
    assert_eq!(declared.json()["error"], "payload_too_large");

    let chunks =
        futures_util::stream::iter((0..4).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 600])));
    let streamed = bff
        .send(
            bff.app_request(0, Method::POST, "/api/proxy/orders/upload")
                .body(reqwest::Body::wrap_stream(chunks)),
        )
        .await;
    assert_eq!(streamed.status, 413);
    assert!(bff.api_calls().iter().all(|c| c.body.len() <= 1024));

    let small = bff
        .send(
            bff.app_request(0, Method::POST, "/api/proxy/orders/upload")
                .body("ok"),
        )
        .await;
    assert_eq!(small.status, 200);
}

#[tokio::test]
async fn an_unknown_upstream_or_an_escaping_path_is_refused() {
    let bff = TestBff::start().await;
    bff.signed_in().await;

    let unknown = bff.proxy(0, Method::GET, "billing/invoices").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"], "unknown_upstream");
    assert!(unknown.json()["request_id"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));

    // Browsers and reqwest resolve `..` themselves; a hand-made request does not.
    for path in [
        "orders/%2e%2e/admin",
        "orders/..%2Fadmin",
        "orders/a/../../admin",
    ] {
        let raw = raw_get(&bff, &format!("/api/proxy/{path}"));
        assert!(raw.starts_with("HTTP/1.1 400"), "{path}: {raw}");
        assert!(raw.contains("invalid_path"), "{path}: {raw}");
    }
    let backslash = bff.proxy(0, Method::GET, "orders/a%5c..%5cadmin").await;
    assert_eq!(backslash.status, 400);
    assert_eq!(backslash.json()["error"], "invalid_path");

    let nowhere = bff.get(0, "/api/nothing-here").await;
    assert_eq!(nowhere.status, 404);
    assert_eq!(nowhere.json()["error"], "not_found");
    assert!(bff.api_calls().is_empty());
}

/// A GET sent as written, path untouched (as `curl --path-as-is` would), with the session.
fn raw_get(bff: &TestBff, path: &str) -> String {
    use std::io::{Read, Write};
    let address = bff.instances[0].trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nCookie: hera_bff={}\r\nConnection: close\r\n\r\n",
        bff.session_cookie().unwrap()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[tokio::test]
async fn state_changing_requests_without_the_csrf_header_or_from_another_origin_are_refused() {
    let bff = TestBff::start().await;
    bff.signed_in().await;
    let url = |path: &str| bff.url(0, path);

    let no_header = bff
        .send(
            bff.app
                .browser
                .post(url("/api/proxy/orders/items"))
                .header("Origin", &bff.origin),
        )
        .await;
    assert_eq!(no_header.status, 403);
    assert_eq!(no_header.json()["error"], "csrf");

    let cross_site = bff
        .send(
            bff.app
                .browser
                .delete(url("/api/proxy/orders/items/1"))
                .header("Origin", "https://evil.example.com")
                .header("X-Requested-With", "XMLHttpRequest"),
        )
        .await;
    assert_eq!(cross_site.status, 403);

    let no_origin = bff
        .send(
            bff.app
                .browser
                .post(url("/api/logout"))
                .header("X-Requested-With", "XMLHttpRequest"),
        )
        .await;
    assert_eq!(no_origin.status, 403);

    let cross_site_get = bff
        .send(
            bff.app
                .browser
                .get(url("/api/proxy/orders/items"))
                .header("Sec-Fetch-Site", "cross-site"),
        )
        .await;
    assert_eq!(cross_site_get.status, 403);

    assert!(bff.api_calls().is_empty(), "nothing reached the API");
    assert_eq!(
        bff.whoami(0).await.status,
        200,
        "the refused logout did nothing"
    );
}

#[tokio::test]
async fn an_operator_named_csrf_header_replaces_x_requested_with() {
    let bff = TestBff::start_with(1, StoreSettings::Memory, |s| {
        s.csrf_header = actix_web::http::header::HeaderName::from_static("x-csrf");
    })
    .await;
    bff.signed_in().await;
    let refused = bff.proxy(0, Method::POST, "orders/items").await;
    assert_eq!(
        refused.status, 403,
        "X-Requested-With is not the named header"
    );
    let accepted = bff
        .send(
            bff.app
                .browser
                .post(bff.url(0, "/api/proxy/orders/items"))
                .header("Origin", &bff.origin)
                .header("X-CSRF", "1"),
        )
        .await;
    assert_eq!(accepted.status, 200);
}

#[tokio::test]
async fn a_refused_refresh_ends_the_session() {
    let bff = TestBff::start().await;
    let issuer = bff.app.public.issuer();
    issuer.set_access_ttl(10);
    bff.signed_in().await;
    // Hydra no longer honours the refresh token (revoked, say, from the connected-apps page).
    issuer.revoke(CLIENT_ID, &last_refresh_token(&bff));

    let answer = bff.proxy(0, Method::GET, "orders/items").await;

    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["error"], "unauthenticated");
    assert!(cookie_named(&answer.set_cookies(), "hera_bff")
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(bff.whoami(0).await.status, 401);
    assert!(bff.api_calls().is_empty());
}

#[tokio::test]
async fn the_fake_hydra_revokes_the_chain_when_a_refresh_token_is_reused() {
    let bff = TestBff::start().await;
    bff.signed_in().await;
    let issuer = bff.app.public.issuer();
    let first = last_refresh_token(&bff);
    let hydra = reqwest::Client::new();
    let refresh = |token: String| {
        hydra
            .post(format!("{}/oauth2/token", bff.app.public.url))
            .basic_auth(CLIENT_ID, Some(crate::support::bff::CLIENT_SECRET))
            .form(&[
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", token),
            ])
            .send()
    };

    let rotated: Value = refresh(first.clone()).await.unwrap().json().await.unwrap();
    let second = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let reused = refresh(first).await.unwrap();
    assert_eq!(reused.status(), 400);
    assert_eq!(
        reused.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    assert_eq!(issuer.reuse_detected(), 1);
    let after = refresh(second).await.unwrap();
    assert_eq!(after.status(), 400, "the whole chain is revoked");
}

#[tokio::test]
async fn signing_in_again_gives_a_new_session_id_and_ends_the_old_session() {
    let bff = TestBff::start().await;
    bff.signed_in().await;
    let old = bff.session_cookie().unwrap();
    let old_refresh = last_refresh_token(&bff);
    bff.signed_in().await;
    let new = bff.session_cookie().unwrap();
    assert_ne!(old, new);
    assert!(bff.app.public.issuer().chain_revoked(&old_refresh));
    let stale = bff
        .send(
            reqwest::Client::new()
                .get(bff.url(0, "/api/whoami"))
                .header("Cookie", format!("hera_bff={old}")),
        )
        .await;
    assert_eq!(stale.status, 401);
    assert_eq!(bff.whoami(0).await.status, 200);
}

#[tokio::test]
async fn logging_out_without_a_session_only_clears_the_cookie() {
    let bff = TestBff::start().await;
    let answer = bff.logout(0).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"logout_url": null}));
    assert_eq!(bff.app.public.issuer().revocations(), 0);
}

fn cookie_store() -> StoreSettings {
    let secret = "k".repeat(64);
    BffSettings::parse_from([
        "hera bff",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        "unused",
        "--session-store",
        "cookie",
        "--cookie-secret",
        &secret,
    ])
    .unwrap()
    .store
}

#[tokio::test]
async fn the_cookie_store_keeps_the_session_sealed_in_the_cookie_and_refreshes_it() {
    let bff = TestBff::start_with(1, cookie_store(), |_| {}).await;
    let issuer = bff.app.public.issuer();
    issuer.set_access_ttl(10);
    bff.signed_in().await;
    issuer.set_access_ttl(DEFAULT_ACCESS_TTL);
    let sealed = bff.session_cookie().unwrap();
    assert!(sealed.len() > 200, "the state is in the cookie");

    let answers = join_all((0..5).map(|_| bff.proxy(0, Method::GET, "orders/items"))).await;

    assert!(answers.iter().all(|a| a.status == 200));
    assert_eq!(issuer.refresh_grants(), 1);
    assert_eq!(issuer.reuse_detected(), 0);
    assert!(answers
        .iter()
        .all(|a| cookie_named(&a.set_cookies(), "hera_bff").is_some()));
    assert_ne!(
        bff.session_cookie().unwrap(),
        sealed,
        "the refreshed tokens are in a new cookie"
    );
    assert_eq!(bff.whoami(0).await.json()["user"]["name"], "Ada Lovelace");
    assert_eq!(bff.proxy(0, Method::GET, "orders/items").await.status, 200);
    assert_eq!(issuer.refresh_grants(), 1);
    assert_eq!(bff.logout(0).await.status, 200);
    assert!(issuer.chain_revoked(&last_refresh_token(&bff)));
    bff.assert_browser_never_saw_a_token();
}

#[tokio::test]
async fn tokens_too_large_for_the_cookie_store_are_refused_with_a_clear_error() {
    let bff = TestBff::start_with(1, cookie_store(), |_| {}).await;
    let long_name = "Lovelace".repeat(300);
    bff.app
        .kratos
        .add_identity(crate::support::fake_kratos::identity(
            ADA, ADA_EMAIL, "Ada", &long_name,
        ));

    let answer = bff.sign_in().await;

    assert_eq!(answer.status, 500, "{}", answer.body);
    assert!(
        answer.body.contains("too large for this server"),
        "{}",
        answer.body
    );
    assert!(cookie_named(&answer.set_cookies(), "hera_bff").is_none());
    assert!(bff
        .app
        .public
        .issuer()
        .chain_revoked(&last_refresh_token(&bff)));
    assert!(!logs::lines_with("HERA_BFF_SESSION_STORE=memory or redis").is_empty());
}

#[tokio::test]
async fn the_spa_is_served_with_client_side_routing() {
    let dir = spa_folder();
    let static_dir = dir.clone();
    let bff = TestBff::start_with(1, StoreSettings::Memory, move |s| {
        s.static_dir = Some(static_dir.clone());
    })
    .await;
    let page = |path: &str| {
        bff.app
            .browser
            .get(bff.url(0, path))
            .header("Accept", "text/html,application/xhtml+xml")
    };

    let index = bff.send(page("/")).await;
    assert_eq!(index.status, 200);
    assert!(index.body.contains("<title>SPA</title>"));
    let script = bff.get(0, "/assets/app.js").await;
    assert_eq!(script.status, 200);
    assert!(script
        .header("content-type")
        .unwrap()
        .contains("javascript"));
    let deep_link = bff.send(page("/orders/42")).await;
    assert_eq!(deep_link.status, 200);
    assert!(deep_link.body.contains("<title>SPA</title>"));
    assert_eq!(bff.get(0, "/assets/missing.js").await.status, 404);
    let api = bff.send(page("/api/unknown")).await;
    assert_eq!(api.status, 404);
    assert_eq!(api.json()["error"], "not_found");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn health_checks_answer() {
    let bff = TestBff::start().await;
    assert_eq!(bff.get(0, "/api/health/alive").await.status, 200);
    assert_eq!(bff.get(0, "/api/health/ready").await.status, 200);
}

#[test]
fn hera_bff_help_documents_its_settings() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hera"))
        .args(["bff", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "HERA_BFF_BIND",
        "HERA_BFF_PUBLIC_ORIGIN",
        "HERA_BFF_CLIENT_ID",
        "HERA_BFF_CLIENT_SECRET",
        "HERA_BFF_SCOPES",
        "openid offline_access profile email",
        "HYDRA_PUBLIC_URL",
        "HERA_BFF_UPSTREAMS",
        "HERA_BFF_SESSION_STORE",
        "HERA_BFF_REDIS_URL",
        "HERA_BFF_STATIC_DIR",
        "HERA_BFF_CSRF_HEADER",
    ] {
        assert!(
            help.contains(needle),
            "`hera bff --help` lacks {needle}:\n{help}"
        );
    }
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_hera"))
        .arg("bff")
        .env_remove("HERA_BFF_CLIENT_ID")
        .env_remove("HERA_BFF_CLIENT_SECRET")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("HERA_BFF_CLIENT_ID"));
}

#[tokio::test]
async fn the_hera_bff_binary_serves_the_bff() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hera"))
        .arg("bff")
        .env("HERA_BFF_BIND", format!("127.0.0.1:{port}"))
        .env("HERA_BFF_PUBLIC_ORIGIN", format!("http://127.0.0.1:{port}"))
        .env("HERA_BFF_CLIENT_ID", CLIENT_ID)
        .env("HERA_BFF_CLIENT_SECRET", "binary-secret")
        .env("HERA_BFF_UPSTREAMS", "orders=http://127.0.0.1:9/v1")
        .env("HERA_BFF_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut alive = None;
    for _ in 0..200 {
        if let Ok(response) = client
            .get(format!("http://127.0.0.1:{port}/api/health/alive"))
            .send()
            .await
        {
            alive = Some(response.status().as_u16());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let login = client
        .get(format!("http://127.0.0.1:{port}/api/login"))
        .send()
        .await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(alive, Some(200));
    let login = login.unwrap();
    assert_eq!(login.status(), 303);
    let location = login.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:4444/oauth2/auth?"),
        "{location}"
    );
}

/// `/api/login` as anonymous traffic sends it: no cookies, redirects not followed.
async fn anonymous_sign_in_starts(bff: &TestBff, count: usize) -> std::time::Duration {
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = bff.url(0, "/api/login");
    let started = std::time::Instant::now();
    for _ in 0..count / 100 {
        let answers = join_all((0..100).map(|_| anonymous.get(&url).send())).await;
        for answer in answers {
            assert_eq!(answer.unwrap().status(), 303);
        }
    }
    started.elapsed()
}

#[tokio::test]
async fn thousands_of_anonymous_sign_in_starts_store_nothing_in_redis_and_block_no_one() {
    let redis = RedisServer::start();
    let bff = TestBff::start_with(
        2,
        StoreSettings::Redis(hera::bff::config::RedisUrl::new(&redis.url)),
        |_| {},
    )
    .await;

    // Each of these used to keep a ten-minute key in Redis, without any bound.
    let took = anonymous_sign_in_starts(&bff, 3_000).await;

    assert_eq!(
        redis.dbsize(),
        0,
        "3,000 anonymous sign-in starts ({took:?}) left keys in Redis"
    );
    // A real sign-in started on one instance completes on the other.
    let callback = bff.callback_url("/orders").await;
    let on_second = callback.replace(&bff.origin, &bff.instances[1]);
    let answer = bff.send(bff.app.browser.get(on_second)).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location(), "/orders");
    assert_eq!(redis.dbsize(), 1, "the session, and nothing else");
    assert_eq!(bff.whoami(0).await.json()["user"]["id"], ADA);
}

#[tokio::test]
async fn thousands_of_anonymous_sign_in_starts_never_fill_the_memory_store() {
    let bff = TestBff::start().await;
    let held = || bff.state.sessions.held_in_memory().unwrap();
    // The memory store refused new sign-ins once 100,000 were in progress (about 170 requests
    // a second for its ten minutes), and then every user got a 503. Sign-ins in progress no
    // longer live in it at all: its size does not move.
    anonymous_sign_in_starts(&bff, 3_000).await;
    assert_eq!(held(), 0, "3,000 anonymous sign-in starts left entries");
    bff.signed_in().await;
    assert_eq!(held(), 1, "the session, and nothing else");
    assert_eq!(bff.whoami(0).await.status, 200);
}

#[tokio::test]
async fn a_sign_in_cookie_is_sealed_and_opens_only_where_it_was_sealed() {
    let bff = TestBff::start().await;
    let start = bff.get(0, "/api/login?return_to=/orders").await;
    assert_eq!(start.status, 303);
    let login = cookie_named(&start.set_cookies(), "hera_bff_login")
        .unwrap()
        .clone();
    let value = login
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("hera_bff_login=")
        .to_owned();
    let state = query(start.location())["state"].clone();
    assert!(!value.contains(&state), "the state is sealed, not in clear");
    assert!(!value.contains("orders"), "so is return_to");
    assert!(login.contains("Path=/api/callback") && login.contains("Max-Age=600"));

    // A forged or tampered sign-in cookie opens nothing: no code is exchanged.
    let mut tampered = value.into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let answer = bff
        .send(
            bff.app
                .browser
                .get(bff.url(0, &format!("/api/callback?code=x&state={state}")))
                .header("Cookie", format!("hera_bff_login={tampered}")),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(bff.app.public.tokens().is_empty());
}

#[tokio::test]
async fn a_return_to_too_long_for_the_sign_in_cookie_is_refused() {
    let bff = TestBff::start().await;
    let long = format!("/{}", "\"".repeat(2_000));
    let answer = bff
        .get(
            0,
            &format!("/api/login?return_to={}", crate::support::encode(&long)),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(cookie_named(&answer.set_cookies(), "hera_bff_login").is_none());
}

#[tokio::test]
async fn over_https_the_bffs_cookies_carry_the_host_and_secure_prefixes() {
    let bff = TestBff::start_with(1, StoreSettings::Memory, |s| {
        s.public_origin = Url::parse("https://shop.example.com").unwrap();
    })
    .await;
    let start = bff.get(0, "/api/login").await;
    assert_eq!(start.status, 303);
    let set_cookies = start.set_cookies();
    let login = cookie_named(&set_cookies, "__Secure-hera_bff_login")
        .unwrap_or_else(|| panic!("{set_cookies:?}"));
    assert!(login.contains("Secure") && login.contains("Path=/api/callback"));
    assert!(cookie_named(&start.set_cookies(), "hera_bff_login").is_none());
    // Signing out without a session clears the prefixed session cookie.
    let out = bff
        .send(
            bff.app
                .browser
                .post(bff.url(0, "/api/logout"))
                .header("Origin", "https://shop.example.com")
                .header("X-Requested-With", "XMLHttpRequest"),
        )
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    let set_cookies = out.set_cookies();
    let cleared = cookie_named(&set_cookies, "__Host-hera_bff").unwrap();
    assert!(cleared.contains("Max-Age=0") && cleared.contains("Path=/"));
}

#[tokio::test]
async fn the_proxy_refuses_path_parameters_and_twice_encoded_segments() {
    let bff = TestBff::start().await;
    bff.signed_in().await;
    for path in [
        "orders/admin;/x",
        "orders/..;/admin",
        "orders/admin%3B/x",
        "orders/%252e%252e/admin",
        "orders/a%2541",
    ] {
        let raw = raw_get(&bff, &format!("/api/proxy/{path}"));
        assert!(raw.starts_with("HTTP/1.1 400"), "{path}: {raw}");
        assert!(raw.contains("invalid_path"), "{path}: {raw}");
    }
    assert!(bff.api_calls().is_empty(), "nothing reached the API");
    // A single encoding is the browser's to choose, and passes.
    assert_eq!(bff.proxy(0, Method::GET, "orders/a%20b").await.status, 200);
}

#[tokio::test]
async fn html_from_an_api_is_sandboxed_and_json_is_left_alone() {
    let bff = TestBff::start().await;
    bff.signed_in().await;

    let page = bff.proxy(0, Method::GET, "files/page").await;

    assert_eq!(page.status, 200);
    let policies: Vec<&str> = page
        .headers
        .get_all("content-security-policy")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(policies.contains(&"sandbox"), "{policies:?}");
    assert!(
        policies.contains(&"default-src 'self'"),
        "the API's own policy still applies: {policies:?}"
    );
    let data = bff.proxy(0, Method::GET, "orders/items").await;
    assert_eq!(data.status, 200);
    assert!(data.headers.get("content-security-policy").is_none());
}
