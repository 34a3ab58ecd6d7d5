//! `hera bff` against real Hydra: a sign-in in headless Chromium through Hera's pages, an API
//! call proxied with the user's access token, and a sign-out that revokes the refresh token at
//! Hydra. The BFF keeps its sessions in a real Redis here, so the test can read the tokens the
//! browser never sees and ask Hydra about them.

use fantoccini::key::Key;
use hera::bff::config::{BffSettings, RedisUrl, StoreSettings};
use hera::bff::Bff;
use serde_json::{json, Value};

use crate::driver::{Browser, Look};
use crate::kratos_pages;
use crate::stack::{cookie_header, send, Person, Stack};
use crate::support::fake_api::FakeApi;
use crate::support::fake_hydra::bind_local;
use crate::support::redis_server::RedisServer;

const SECRET: &str = "spa-bff-secret-0123456789";

/// The refresh token of the one session the BFF keeps in Redis.
async fn stored_refresh_token(redis: &RedisServer) -> String {
    let client = redis::Client::open(redis.url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("hera_bff:*")
        .query_async(&mut connection)
        .await
        .unwrap();
    for key in keys {
        let value: Option<Vec<u8>> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap_or(None);
        let session: Value = value
            .and_then(|v| serde_json::from_slice(&v).ok())
            .unwrap_or(Value::Null);
        if let Some(token) = session["refresh_token"].as_str() {
            return token.to_owned();
        }
    }
    panic!("no session with a refresh token in Redis");
}

#[tokio::test]
async fn a_single_page_app_signs_in_through_the_bff_calls_its_api_and_signs_out() {
    let stack = Stack::start().await;
    let redis = RedisServer::start();
    let api = FakeApi::start(None).await;
    let (listener, origin) = bind_local();
    stack
        .register_client(
            "spa-bff",
            "Shop",
            json!({
                "client_secret": SECRET,
                "redirect_uris": [format!("{origin}/api/callback")],
                "post_logout_redirect_uris": [format!("{origin}/")],
                "metadata": {"first_party": true},
            }),
        )
        .await;
    // Instances sharing Redis seal sign-ins in progress with a shared cookie secret.
    let cookie_secret = "real-tier-bff-cookie-secret-".repeat(3);
    let mut settings = BffSettings::parse_from([
        "hera bff",
        "--client-id",
        "spa-bff",
        "--client-secret",
        SECRET,
        "--cookie-secret",
        &cookie_secret,
        "--public-origin",
        &origin,
        "--hydra-public-url",
        &stack.ory.hydra_public,
        "--upstreams",
        &format!("orders={}/v1", api.url),
    ])
    .unwrap();
    settings.bind = listener.local_addr().unwrap();
    settings.store = StoreSettings::Redis(RedisUrl::new(&redis.url));
    let bff = Bff::build(settings, listener).await.unwrap();
    tokio::spawn(bff.run_until_stopped());
    let ada = Person::ada();
    let ada_id = stack.create_person(&ada).await;

    let browser = Browser::open(Look::default()).await;
    browser
        .goto(&format!("{origin}/api/login?return_to=/orders"))
        .await;
    kratos_pages::sign_in(&browser, &stack, &ada).await;
    browser.wait_for_url(&format!("{origin}/orders")).await;
    // What the app's `fetch` sends: the session cookie, and for changes its origin and header.
    let cookie = cookie_header(&browser).await;
    assert!(cookie.contains("hera_bff="), "{cookie}");
    let get = |path: &str| {
        stack
            .http
            .get(format!("{origin}{path}"))
            .header("cookie", &cookie)
    };

    let (_, whoami) = send(get("/api/whoami")).await;
    assert_eq!(whoami["authenticated"], true, "{whoami}");
    assert_eq!(whoami["user"]["id"], ada_id.as_str());
    assert_eq!(whoami["user"]["email"], ada.email.as_str());

    let (status, _) = send(get("/api/proxy/orders/items?page=1")).await;
    assert_eq!(status, 200);
    let call = api.requests().pop().expect("the API was called");
    assert_eq!(call.path, "/v1/items");
    let access_token = call.bearer().expect("a bearer token").to_owned();
    let introspection = stack.introspect(&access_token).await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["sub"], ada_id.as_str());
    assert_eq!(introspection["client_id"], "spa-bff");
    let refresh_token = stored_refresh_token(&redis).await;
    assert_eq!(stack.introspect(&refresh_token).await["active"], true);

    let (_, logout) = send(
        stack
            .http
            .post(format!("{origin}/api/logout"))
            .header("cookie", &cookie)
            .header("origin", &origin)
            .header("x-requested-with", "XMLHttpRequest"),
    )
    .await;
    let logout_url = logout["logout_url"].as_str().unwrap();
    assert!(
        logout_url.starts_with(&format!(
            "{}/oauth2/sessions/logout?",
            stack.ory.hydra_public
        )),
        "{logout}"
    );
    for token in [&refresh_token, &access_token] {
        let introspection = stack.introspect(token).await;
        assert_eq!(introspection["active"], false, "{introspection}");
    }
    assert_eq!(send(get("/api/whoami")).await.0, 401);

    // The app then sends the browser to Hydra's logout, which Hera confirms.
    browser.goto(logout_url).await;
    browser.wait_for_url(&stack.hera("/logout")).await;
    browser.tab_to("button[value=accept]").await;
    browser.press(Key::Enter).await;
    browser.wait_for_url(&format!("{origin}/")).await;
    browser.close().await;
}
