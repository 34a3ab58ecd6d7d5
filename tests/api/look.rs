//! What pages look like and speak: languages, per-client themes, the content-hashed stylesheet,
//! and the weight of every page. (The browser suite, `browser/`, checks the same pages rendered.)

use hera::server::assets::STYLESHEET_PATH;
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::Duration;

use crate::support::fake_hydra::{client, with, ConsentSessionSpec, ConsentSpec, LogoutSpec};

use crate::support::{sign_in_ada, TestApp, ADA};

/// Largest page Hera may send, uncompressed (the budget is 30 KB transferred).
const PAGE_BUDGET: usize = 30 * 1024;

fn consent_with(app: &TestApp, client: Value, ui_locales: &[&str]) -> String {
    sign_in_ada(app, Duration::ZERO);
    app.hydra.add_consent(ConsentSpec {
        subject: ADA.into(),
        client,
        requested_scope: ["openid", "email", "profile", "photos.read"]
            .map(str::to_owned)
            .to_vec(),
        requested_audience: vec!["https://api.example.com".into()],
        oidc_context: json!({"acr_values": [], "ui_locales": ui_locales, "id_token_hint_claims": {}}),
        ..ConsentSpec::default()
    })
}

async fn page(app: &TestApp, path: &str, accept_language: Option<&str>) -> (StatusCode, String) {
    let mut request = app.browser.get(app.url(path));
    if let Some(language) = accept_language {
        request = request.header("accept-language", language);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_german_browser_gets_the_consent_page_in_german() {
    let app = TestApp::spawn().await;
    let challenge = consent_with(&app, client("photos"), &[]);
    let (status, html) = page(
        &app,
        &format!("/consent?consent_challenge={challenge}"),
        Some("de-AT, de;q=0.9, en;q=0.5"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"de\">"), "{html}");
    for german in [
        "photos app Zugriff auf Ihr Konto erlauben?",
        "Ihre E-Mail-Adresse sehen",
        "Diese Berechtigung kann Hera nicht beschreiben",
        "E-Mail bestätigt: Ja",
        "Diese Entscheidung für 1 Stunde merken",
        ">Erlauben<",
        ">Ablehnen<",
    ] {
        assert!(html.contains(german), "missing {german:?}:\n{html}");
    }
    // The form's contract does not change with the language.
    assert!(html.contains("name=\"grant_scope\" value=\"email\""));
    assert!(html.contains("name=\"action\" value=\"accept\""));
}

#[tokio::test]
async fn the_requests_ui_locales_win_over_the_browsers_language() {
    let app = TestApp::spawn().await;
    let challenge = consent_with(&app, client("photos"), &["fr-CA", "de"]);
    let (_, html) = page(
        &app,
        &format!("/consent?consent_challenge={challenge}"),
        Some("en-GB"),
    )
    .await;
    assert!(html.contains("<html lang=\"de\">"), "{html}");
    assert!(html.contains(">Erlauben<"));
}

#[tokio::test]
async fn an_unsupported_language_falls_back_to_english() {
    let app = TestApp::spawn().await;
    let challenge = consent_with(&app, client("photos"), &["tlh"]);
    let (_, html) = page(
        &app,
        &format!("/consent?consent_challenge={challenge}"),
        Some("fr-FR, ja;q=0.8"),
    )
    .await;
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains(">Allow<"));
}

#[tokio::test]
async fn error_pages_speak_the_browsers_language() {
    let app = TestApp::spawn().await;
    let (status, html) = page(&app, "/consent", Some("de")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("<html lang=\"de\">"));
    assert!(html.contains("Dieser Link ist unvollständig"), "{html}");
    assert!(html.contains("Anfrage-ID: "), "{html}");

    let (_, html) = page(&app, "/error?error=access_denied", Some("de")).await;
    assert!(html.contains("Der Zugriff wurde abgelehnt"), "{html}");
    assert!(html.contains("Fehlercode: access_denied"), "{html}");
}

#[tokio::test]
async fn connected_apps_dates_and_scopes_are_in_german_for_a_german_browser() {
    let app = TestApp::spawn().await;
    sign_in_ada(&app, Duration::ZERO);
    app.hydra.add_consent_session(ConsentSessionSpec {
        subject: ADA.into(),
        client: client("photos"),
        grant_scope: vec!["openid".into(), "email".into()],
        handled_at: "2026-03-04T05:06:07Z".into(),
        ..ConsentSessionSpec::default()
    });
    let (_, html) = page(&app, "/connected-apps", Some("de")).await;
    assert!(html.contains("Erlaubt am 4. März 2026"), "{html}");
    assert!(html.contains("Ihre E-Mail-Adresse sehen"), "{html}");
    assert!(html.contains(">Zugriff entfernen<"), "{html}");
}

#[tokio::test]
async fn a_clients_theme_colours_its_pages_through_a_stylesheet_hera_serves() {
    let app = TestApp::spawn().await;
    let themed = with(
        client("photos"),
        json!({"metadata": {"theme": {"accent": "#0A7F3F", "logo_uri": "https://cdn.example.com/photos.png"}}}),
    );
    let challenge = consent_with(&app, themed, &[]);
    let (_, html) = page(
        &app,
        &format!("/consent?consent_challenge={challenge}"),
        None,
    )
    .await;
    assert!(
        html.contains("<link rel=\"stylesheet\" href=\"/theme/0a7f3f.css\">"),
        "{html}"
    );
    assert!(html.contains("src=\"https://cdn.example.com/photos.png\""));
    assert!(!html.contains("style="), "no inline style: {html}");

    let css = app.get("/theme/0a7f3f.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        css.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(css.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let body = css.text().await.unwrap();
    assert!(body.contains("--hera-primary:#0a7f3f"), "{body}");
    assert!(body.contains("--hera-on-primary:#ffffff"), "{body}");
}

#[tokio::test]
async fn a_malformed_theme_is_ignored_and_theme_urls_accept_only_a_colour() {
    let app = TestApp::spawn().await;
    let themed = with(
        client("photos"),
        json!({"metadata": {"theme": {"accent": "red;}body{display:none", "logo_uri": "http://cdn.example.com/x.png"}}}),
    );
    let challenge = consent_with(&app, themed, &[]);
    let (_, html) = page(
        &app,
        &format!("/consent?consent_challenge={challenge}"),
        None,
    )
    .await;
    assert!(!html.contains("/theme/"), "{html}");
    assert!(!html.contains("cdn.example.com"), "{html}");
    for path in [
        "/theme/red.css",
        "/theme/0A7F3F.css",
        "/theme/0a7f3f",
        "/theme/0a7f3f0.css",
        "/theme/..%2Fhera.css",
    ] {
        assert_eq!(
            app.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_logout_and_device_pages_take_the_clients_theme_too() {
    let app = TestApp::spawn().await;
    let themed = with(
        client("tv-app"),
        json!({"metadata": {"theme": {"accent": "#ffd400"}}}),
    );
    app.hydra.add_client(themed.clone());
    let logout = app.hydra.add_logout(LogoutSpec {
        client: Some(themed),
        ..LogoutSpec::default()
    });
    let (_, html) = page(&app, &format!("/logout?logout_challenge={logout}"), None).await;
    assert!(html.contains("href=\"/theme/ffd400.css\""), "{html}");
    let (_, html) = page(&app, "/device/success?client_id=tv-app", None).await;
    assert!(html.contains("href=\"/theme/ffd400.css\""), "{html}");
    let css = app.get("/theme/ffd400.css").await.text().await.unwrap();
    assert!(
        css.contains("--hera-on-primary:#000000"),
        "dark text on yellow: {css}"
    );
}

#[tokio::test]
async fn the_stylesheet_has_a_content_hashed_name_and_is_cached_for_a_year() {
    let app = TestApp::spawn().await;
    assert!(
        STYLESHEET_PATH.starts_with("/static/hera.") && STYLESHEET_PATH.ends_with(".css"),
        "{STYLESHEET_PATH}"
    );
    assert_ne!(STYLESHEET_PATH, "/static/hera.css");
    let hashed = app.get(STYLESHEET_PATH).await;
    assert_eq!(hashed.status(), StatusCode::OK);
    assert_eq!(
        hashed.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let css = hashed.text().await.unwrap();
    assert_eq!(css, include_str!("../../static/hera.css"));
    for forbidden in ["@import", "url(", "@font-face", "http:", "https:"] {
        assert!(
            !css.contains(forbidden),
            "the stylesheet loads nothing: {forbidden}"
        );
    }
    assert!(css.contains("prefers-color-scheme: dark"));
    let plain = app.get("/static/hera.css").await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(plain.headers()["cache-control"], "public, max-age=3600");
    assert_eq!(
        app.get("/static/other.css").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn every_page_weighs_less_than_30_kb_with_its_stylesheet() {
    let app = TestApp::spawn().await;
    sign_in_ada(&app, Duration::ZERO);
    // Ten applications with five scopes each; the list grows by about 1.7 KB per application.
    for n in 0..10 {
        app.hydra.add_consent_session(ConsentSessionSpec {
            subject: ADA.into(),
            client: client(&format!("app-number-{n}")),
            grant_scope: [
                "openid",
                "offline_access",
                "email",
                "profile",
                "photos.read",
            ]
            .map(str::to_owned)
            .to_vec(),
            grant_audience: vec!["https://api.example.com".into()],
            ..ConsentSessionSpec::default()
        });
    }
    let consent = consent_with(&app, client("photos"), &[]);
    let logout = app.hydra.add_logout(LogoutSpec {
        subject: ADA.into(),
        ..LogoutSpec::default()
    });
    let device = app.hydra.add_device_challenge();
    let stylesheet = app.get(STYLESHEET_PATH).await.bytes().await.unwrap().len();
    for path in [
        format!("/consent?consent_challenge={consent}"),
        format!("/logout?logout_challenge={logout}"),
        format!("/device/verify?device_challenge={device}"),
        "/device/success".to_owned(),
        "/connected-apps".to_owned(),
        "/".to_owned(),
        "/error?error=access_denied".to_owned(),
        "/nowhere".to_owned(),
    ] {
        for language in ["en", "de"] {
            let response = app
                .browser
                .get(app.url(&path))
                .header("accept-language", language)
                .send()
                .await
                .unwrap();
            let html = response.bytes().await.unwrap().len();
            assert!(
                html + stylesheet < PAGE_BUDGET,
                "{path} ({language}): {html} B of HTML + {stylesheet} B of CSS"
            );
        }
    }
}

/// The `href` of the tab icon `<link rel="icon">` of a page.
fn icon_href(html: &str) -> String {
    let at = html
        .find("<link rel=\"icon\" href=\"")
        .expect("an icon link")
        + 23;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn without_a_brand_pages_use_heras_icon_and_show_no_header() {
    let app = TestApp::spawn().await;
    let (status, html) = page(&app, "/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("class=\"brand\""), "{html}");
    assert!(html.contains(" · Hera</title>"));
    let icon = icon_href(&html);
    assert!(
        icon.starts_with("/brand/") && icon.ends_with(".svg"),
        "{icon}"
    );
    for path in [icon.as_str(), "/favicon.ico"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], "image/svg+xml");
        assert!(response.text().await.unwrap().starts_with("<svg"));
    }
    assert_eq!(
        app.get("/brand/nothing.svg").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_operators_name_logo_and_icon_are_on_every_page_in_every_language() {
    let dir = std::env::temp_dir().join(format!("hera-look-brand-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("logo.png"), b"\x89PNG acme logo").unwrap();
    std::fs::write(dir.join("icon.png"), b"\x89PNG acme icon").unwrap();
    let (logo, icon) = (dir.join("logo.png"), dir.join("icon.png"));
    let app = TestApp::spawn_with(|s| {
        s.product_name = Some("Acme Accounts".into());
        s.logo_file = Some(logo.clone());
        s.favicon_file = Some(icon.clone());
    })
    .await;
    for language in [None, Some("de")] {
        let (_, html) = page(&app, "/", language).await;
        assert!(html.contains("<header class=\"brand\">"), "{html}");
        assert!(html.contains("<span class=\"brand-name\">Acme Accounts</span>"));
        assert!(html.contains(" · Acme Accounts</title>"));
        assert!(!html.contains("Hera"), "{html}");
        let at = html.find("class=\"brand-logo\" src=\"").unwrap() + 24;
        let logo_path = &html[at..at + html[at..].find('"').unwrap()];
        let served = app.get(logo_path).await;
        assert_eq!(served.headers()["content-type"], "image/png");
        assert!(served.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable"));
        assert_eq!(served.bytes().await.unwrap().as_ref(), b"\x89PNG acme logo");
        let icon_path = icon_href(&html);
        assert_eq!(
            app.get(&icon_path).await.bytes().await.unwrap().as_ref(),
            b"\x89PNG acme icon"
        );
    }
    let favicon = app.get("/favicon.ico").await;
    assert_eq!(favicon.headers()["content-type"], "image/png");
    std::fs::remove_dir_all(&dir).unwrap();
}
