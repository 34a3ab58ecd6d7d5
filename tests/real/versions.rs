//! The versions this tier runs (Hydra v2.3.0, Kratos v1.3.1), and what Hera relies on in them
//! that the v26.2 contract of the fakes also promises.

use serde_json::json;

use crate::stack::{send, Person, Stack};

/// Follows redirects from `url` with `browser` until one leads to a URL starting with `stop`
/// (returned); every URL passed on the way is collected in `seen`.
async fn follow(
    browser: &reqwest::Client,
    url: &str,
    stop: &str,
    seen: &mut Vec<String>,
) -> String {
    let mut url = url.to_owned();
    for _ in 0..20 {
        seen.push(url.clone());
        if url.starts_with(stop) {
            return url;
        }
        let response = browser.get(&url).send().await.unwrap();
        let status = response.status();
        let Some(location) = response.headers().get("location") else {
            panic!(
                "{url} answered {status} without a redirect: {}",
                response.text().await.unwrap()
            );
        };
        let next = url::Url::parse(&url)
            .unwrap()
            .join(location.to_str().unwrap())
            .unwrap();
        url = next.to_string();
    }
    panic!("more than 20 redirects: {seen:?}");
}

/// The `href` of the link with `id` on a page.
fn link(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\" href=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id}: {page}"))
        + marker.len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].replace("&amp;", "&")
}

#[tokio::test]
async fn the_servers_are_the_versions_this_tier_claims_to_test() {
    let stack = Stack::start().await;
    for (url, version) in [
        (format!("{}/version", stack.ory.hydra_admin), "v2.3.0"),
        (
            format!("{}/admin/version", stack.ory.kratos_admin),
            "v1.3.1",
        ),
    ] {
        let (_, body) = send(stack.http.get(&url)).await;
        assert_eq!(body, json!({"version": version}), "{url}");
    }
}

#[tokio::test]
async fn going_back_to_a_finished_sign_in_never_yields_a_second_code() {
    let stack = Stack::start().await;
    stack.register_apps().await;
    let ada = Person::ada();
    stack.create_person(&ada).await;
    let (browser, _jar) = stack.signed_in_client(&ada).await;
    let start = stack
        .client_app
        .start_url("own-app", &[("scope", "openid")]);
    // The client app's start page links to Hydra; take the link's URL from the page.
    let page = browser
        .get(&start)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let authorize = link(&page, "sign-in");

    let mut seen = Vec::new();
    let callback = stack.client_app.callback_url();
    let first = follow(&browser, &authorize, &callback, &mut seen).await;
    assert!(first.contains("code="), "{first}");
    let finished = |page: &str| {
        seen.iter()
            .find(|url| url.starts_with(&stack.hera(page)))
            .unwrap()
            .clone()
    };

    // Hydra v2.3.0, like v26.2, still answers 200 for a finished login or consent challenge, so
    // Hera accepts it again; Hydra then refuses the consent verifier it already redeemed, and
    // the app gets `access_denied` instead of a second code.
    for page in ["/login?", "/consent?"] {
        let mut again = Vec::new();
        let end = follow(&browser, &finished(page), &callback, &mut again).await;
        let query = crate::support::query(&end);
        assert_eq!(
            query.get("error").map(String::as_str),
            Some("access_denied"),
            "{end}"
        );
        assert!(!query.contains_key("code"), "{end}");
    }
}
