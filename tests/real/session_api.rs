//! The session API (`/session/*`) against real Kratos sessions, with every token it helps mint
//! introspected at Hydra.

use serde_json::{json, Value};

use crate::stack::{send, Person, Setup, Stack};
use crate::support::fake_hydra_public::s256;

const ORIGIN: &str = "https://app.example.com";
const API: &str = "https://api.example.com";
const SPA_REDIRECT: &str = "https://app.example.com/callback";
const GRANT_SECRET: &str = "session-grant-secret-0123456789";

/// Hera with the bridge open to `ORIGIN` and the session grant for `session-grant`, and the two
/// first-party clients that opted in: a public single-page app and the grant's client.
async fn start() -> Stack {
    let stack = Stack::start_with(Setup {
        hera: Some(Box::new(|settings| {
            settings.bridge.allowed_origins = vec![ORIGIN.into()];
            settings.bridge.client_id = Some("session-grant".into());
            settings.bridge.client_secret = Some(hera::secrets::ClientSecret::new(GRANT_SECRET));
        })),
        ..Setup::default()
    })
    .await;
    let opted_in = json!({"first_party": true, "session_bridge": true});
    stack
        .register_client(
            "own-spa",
            "Our single-page app",
            json!({
                "client_secret": null,
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code"],
                "scope": "openid email",
                "audience": [API],
                "redirect_uris": [SPA_REDIRECT],
                "post_logout_redirect_uris": [],
                "metadata": opted_in,
            }),
        )
        .await;
    stack
        .register_client(
            "session-grant",
            "Session grant",
            json!({
                "client_secret": GRANT_SECRET,
                "grant_types": ["authorization_code"],
                "scope": "openid email",
                "audience": [API],
                "redirect_uris": ["https://app.example.com/session-grant"],
                "post_logout_redirect_uris": [],
                "metadata": opted_in,
            }),
        )
        .await;
    stack
}

/// A request as the app's `fetch` sends it: its origin, the CSRF header and the Kratos cookie.
fn from_app(request: reqwest::RequestBuilder, cookie: &str) -> reqwest::RequestBuilder {
    request
        .header("origin", ORIGIN)
        .header("x-requested-with", "XMLHttpRequest")
        .header("cookie", cookie)
}

#[tokio::test]
async fn whoami_knows_a_session_by_its_cookie_its_token_or_a_bearer_header() {
    let stack = start().await;
    let ada = Person::ada();
    let ada_id = stack.create_person(&ada).await;
    let cookie = stack.session_cookie(&ada).await;
    let token = stack.session_token(&ada).await;
    let url = stack.hera("/session/whoami");

    for (how, request) in [
        ("cookie", stack.http.get(&url).header("cookie", &cookie)),
        (
            "session token",
            stack.http.get(&url).header("x-session-token", &token),
        ),
        ("bearer", stack.http.get(&url).bearer_auth(&token)),
    ] {
        let (status, body) = send(request).await;
        assert_eq!(status, 200, "{how}: {body}");
        assert_eq!(body["authenticated"], true, "{how}");
        assert_eq!(
            body["identity"],
            json!({"id": ada_id, "email": ada.email, "name": "Ada Lovelace"}),
            "{how}"
        );
        assert_eq!(body["session"]["aal"], "aal1", "{how}");
    }
    let (status, body) = send(stack.http.get(&url)).await;
    assert_eq!((status, body), (401, json!({"authenticated": false})));
    let (status, _) = send(
        stack
            .http
            .get(&url)
            .header("x-session-token", "not-a-session"),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_bridge_gives_a_first_party_app_a_code_it_exchanges_at_hydra() {
    let stack = start().await;
    let ada = Person::ada();
    let ada_id = stack.create_person(&ada).await;
    let cookie = stack.session_cookie(&ada).await;
    let verifier = "bridge-pkce-verifier-bridge-pkce-verifier-bridge-0001";

    let (status, body) = send(
        from_app(stack.http.post(stack.hera("/session/bridge")), &cookie).json(&json!({
            "client_id": "own-spa",
            "redirect_uri": SPA_REDIRECT,
            "scope": "openid email",
            "audience": API,
            "state": "app-state-1234",
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "app-state-1234");

    // The app exchanges the code itself, with its verifier.
    let (status, tokens) = send(
        stack
            .http
            .post(format!("{}/oauth2/token", stack.ory.hydra_public))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", body["code"].as_str().unwrap()),
                ("client_id", "own-spa"),
                ("redirect_uri", SPA_REDIRECT),
                ("code_verifier", verifier),
            ]),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "openid email");
    let claims = crate::support::id_token_claims(&tokens);
    assert_eq!(claims["sub"], ada_id.as_str());
    assert_eq!(claims["email"], ada.email.as_str());

    let introspection = stack
        .introspect(tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["sub"], ada_id.as_str());
    assert_eq!(introspection["client_id"], "own-spa");
    assert_eq!(introspection["aud"], json!([API]));
}

#[tokio::test]
async fn the_session_grant_mints_a_short_lived_access_token_hydra_vouches_for() {
    let stack = start().await;
    let ada = Person::ada();
    let ada_id = stack.create_person(&ada).await;
    let cookie = stack.session_cookie(&ada).await;

    let (status, tokens) = send(
        from_app(stack.http.post(stack.hera("/session/token")), &cookie)
            .form(&[("grant_type", "session"), ("audience", API)]),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "bearer");
    assert!(
        tokens.get("refresh_token").is_none(),
        "the session is the refresh: {tokens}"
    );
    let introspection = stack
        .introspect(tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["sub"], ada_id.as_str());
    assert_eq!(introspection["client_id"], "session-grant");
    assert_eq!(introspection["aud"], json!([API]));

    // Without a Kratos session there is nothing to mint from.
    let (status, body) = send(
        from_app(stack.http.post(stack.hera("/session/token")), "")
            .form(&[("grant_type", "session"), ("audience", API)]),
    )
    .await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn extend_pushes_the_kratos_session_expiry_out_at_most_once_a_minute() {
    let stack = start().await;
    let ada = Person::ada();
    stack.create_person(&ada).await;
    let cookie = stack.session_cookie(&ada).await;
    let expires_at = |session: &Value| {
        time::OffsetDateTime::parse(
            session["expires_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let before = expires_at(&stack.whoami(&cookie).await.1);

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, body) = send(from_app(
        stack.http.post(stack.hera("/session/extend")),
        &cookie,
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["extended"], true);
    let after = expires_at(&stack.whoami(&cookie).await.1);
    assert!(after > before, "{before} → {after}");
    assert_eq!(expires_at(&body["session"]), after);

    let again = from_app(stack.http.post(stack.hera("/session/extend")), &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 429);
    assert!(again.headers().contains_key("retry-after"));
}
