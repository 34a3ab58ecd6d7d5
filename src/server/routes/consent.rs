//! `GET /consent?consent_challenge=…` (Hydra's `urls.consent`) and the form's `POST /consent`.

use actix_session::Session;
use actix_web::http::header::ContentType;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;
use time::OffsetDateTime;
use tracing::Span;
use url::Url;

use super::{challenge, check_csrf, follow, loaded, logo, render, see_other, texts, viewer};
use crate::domain::claims;
use crate::domain::consent::{self, ConsentDecision};
use crate::model::challenge::Challenge;
use crate::model::{ConsentAccept, ConsentRequest, Identity, OAuthRejection};
use crate::server::error::HeraError;
use crate::server::i18n::Texts;
use crate::server::session::{FormPurpose, TypedSession};
use crate::server::theme::Theme;
use crate::server::views::{ClientCard, ConsentPage, Layout, ScopeItem};
use crate::server::State;
use crate::server::{claims_preview, scopes};

#[derive(Debug, Deserialize)]
pub struct ConsentQuery {
    consent_challenge: Option<String>,
}

#[get("/consent")]
pub async fn consent_page(
    http: HttpRequest,
    query: web::Query<ConsentQuery>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    let challenge = challenge("consent_challenge", query.consent_challenge.as_deref())?;
    let request = match loaded(state.hydra.consent_request(&challenge).await)? {
        Ok(request) => request,
        Err(redirect) => return Ok(redirect),
    };
    record(&request);
    let identity = subject_identity(&state, &request).await?;
    let remembered_audiences = if consent::needs_remembered_audiences(&request) {
        let sessions = state.hydra.consent_sessions(&request.subject).await?;
        consent::remembered_audiences(&sessions, &request.client.id)
    } else {
        Vec::new()
    };

    match consent::decide(
        &request,
        &state.settings.trusted_client_ids,
        &remembered_audiences,
    ) {
        ConsentDecision::AutoAccept(reason) => {
            let remember = consent::remember_auto_accept(&request, reason);
            let accept = ConsentAccept {
                grant_scope: request.requested_scope.clone(),
                grant_audience: request.requested_audience.clone(),
                remember,
                remember_for: if remember {
                    seconds(state.settings.auto_consent_remember_for)
                } else {
                    0
                },
                id_token_claims: claims::id_token_claims(&identity, &request.requested_scope),
            };
            let response = follow(state.hydra.accept_consent(&challenge, accept).await)?;
            audit_granted(
                &request,
                &request.requested_scope,
                &request.requested_audience,
                "auto",
                reason.as_str(),
            );
            state
                .metrics
                .decision("consent", "granted_automatically", reason.as_str());
            Ok(response)
        }
        ConsentDecision::AskUser => {
            let csrf_token =
                TypedSession::new(&session).csrf_token(FormPurpose::Consent, &challenge)?;
            let t = texts(&http, &state, &request.oidc_context.ui_locales);
            // The subject's email, name and other values are shown only to a browser signed in
            // as the subject: a consent link opened anywhere else shows no personal data. A
            // Kratos that cannot say shows none either; the page still works.
            let shown = match viewer(&http, &state).await {
                Ok(viewer) => viewer.is_some_and(|viewer| viewer.id == request.subject),
                Err(error) => {
                    tracing::warn!(error = %error, "could not tell who is signed in; the consent page shows no personal data");
                    false
                }
            };
            let page = page(
                &request,
                shown.then_some(&identity),
                &challenge,
                csrf_token,
                &state,
                &t,
            );
            Ok(render(StatusCode::OK, &page))
        }
    }
}

#[post("/consent")]
pub async fn consent_submit(
    http: HttpRequest,
    body: web::Bytes,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    let form = ConsentForm::parse(&http, &body)?;
    let challenge = challenge("consent_challenge", form.consent_challenge.as_deref())?;
    let shown_at = check_csrf(
        &http,
        &session,
        FormPurpose::Consent,
        challenge.as_str(),
        form.csrf_token.as_deref(),
    )?;
    let min_delay = time::Duration::try_from(state.settings.consent_min_delay)
        .unwrap_or(time::Duration::SECOND);
    if consent::answered_too_soon(shown_at, OffsetDateTime::now_utc(), min_delay) {
        // Nothing is sent to Hydra; the page is shown again with a new token.
        tracing::info!(
            target: "hera::audit",
            event = "consent.answered_too_soon",
        );
        return Ok(see_other(&state.consent_url(&challenge)));
    }
    let request = match loaded(state.hydra.consent_request(&challenge).await)? {
        Ok(request) => request,
        Err(redirect) => return Ok(redirect),
    };
    record(&request);

    if form.action == Action::Reject {
        let response = follow(
            state
                .hydra
                .reject_consent(&challenge, OAuthRejection::access_denied())
                .await,
        )?;
        tracing::info!(
            target: "hera::audit",
            event = "consent.rejected",
            subject = %request.subject,
            client_id = %request.client.id,
        );
        state.metrics.decision("consent", "rejected", "user_denied");
        return Ok(response);
    }

    let grant = consent::grant(&request.requested_scope, &form.grant_scope);
    if !grant.dropped.is_empty() {
        tracing::warn!(dropped = ?grant.dropped, "consent form posted scopes that were never requested; dropped");
    }
    let identity = subject_identity(&state, &request).await?;
    let accept = ConsentAccept {
        id_token_claims: claims::id_token_claims(&identity, &grant.scopes),
        grant_scope: grant.scopes.clone(),
        grant_audience: request.requested_audience.clone(),
        remember: form.remember,
        remember_for: seconds(state.settings.remember_consent_for),
    };
    let response = follow(state.hydra.accept_consent(&challenge, accept).await)?;
    audit_granted(
        &request,
        &grant.scopes,
        &request.requested_audience,
        "user",
        "user_allowed",
    );
    state.metrics.decision("consent", "granted", "user_allowed");
    Ok(response)
}

fn seconds(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

fn record(request: &ConsentRequest) {
    Span::current().record("client_id", &request.client.id);
    Span::current().record("subject", &request.subject);
}

fn audit_granted(
    request: &ConsentRequest,
    scopes: &[String],
    audiences: &[String],
    by: &str,
    reason: &str,
) {
    tracing::info!(
        target: "hera::audit",
        event = "consent.granted",
        subject = %request.subject,
        client_id = %request.client.id,
        scopes = %scopes.join(" "),
        audiences = %audiences.join(" "),
        by,
        reason,
    );
}

/// The identity of the consent **subject**, loaded from the Kratos admin API: claims never come
/// from whatever session the browser carries.
async fn subject_identity(state: &State, request: &ConsentRequest) -> Result<Identity, HeraError> {
    match state.kratos.identity(&request.subject).await? {
        Some(identity) if identity.is_active() => Ok(identity),
        _ => Err(HeraError::AccountUnavailable),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Accept,
    Reject,
}

/// The consent form. Parsed by hand because `grant_scope` repeats, which serde's urlencoded
/// deserialiser cannot collect.
#[derive(Debug)]
struct ConsentForm {
    consent_challenge: Option<String>,
    csrf_token: Option<String>,
    grant_scope: Vec<String>,
    remember: bool,
    action: Action,
}

impl ConsentForm {
    fn parse(http: &HttpRequest, body: &[u8]) -> Result<ConsentForm, HeraError> {
        if http.content_type() != ContentType::form_url_encoded().essence_str() {
            return Err(HeraError::BadForm(
                "not application/x-www-form-urlencoded".into(),
            ));
        }
        let mut form = ConsentForm {
            consent_challenge: None,
            csrf_token: None,
            grant_scope: Vec::new(),
            remember: false,
            action: Action::Reject,
        };
        let mut action = None;
        for (key, value) in url::form_urlencoded::parse(body) {
            match key.as_ref() {
                "consent_challenge" => form.consent_challenge = Some(value.into_owned()),
                "csrf_token" => form.csrf_token = Some(value.into_owned()),
                "grant_scope" => form.grant_scope.push(value.into_owned()),
                "remember" => form.remember = matches!(value.as_ref(), "true" | "on" | "1"),
                "action" => action = Some(value.into_owned()),
                _ => {}
            }
        }
        form.action = match action.as_deref() {
            Some("accept") => Action::Accept,
            Some("reject") => Action::Reject,
            _ => return Err(HeraError::BadForm("action must be accept or reject".into())),
        };
        Ok(form)
    }
}

/// The consent page; `identity` is the subject's, given only when its personal data may be shown
/// (the account line and each scope's values).
fn page(
    request: &ConsentRequest,
    identity: Option<&Identity>,
    challenge: &Challenge,
    csrf_token: String,
    state: &State,
    t: &Texts,
) -> ConsentPage {
    let client = &request.client;
    let mut seen = Vec::new();
    let scopes = request
        .requested_scope
        .iter()
        .filter(|scope| {
            let first = !seen.contains(scope);
            seen.push(*scope);
            first
        })
        .map(|scope| {
            let words = scopes::words(&state.scopes, scope, t);
            ScopeItem {
                name: scope.clone(),
                title: words
                    .as_ref()
                    .map_or_else(|| scope.clone(), |(title, _)| title.clone()),
                description: words.map(|(_, description)| description),
                locked: scopes::is_locked(scope),
                claims: identity
                    .map(|identity| claims_preview::preview(identity, scope, t))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let name = client.display_name();
    ConsentPage {
        layout: Layout::new(t, t.text1("consent-title", "client", name))
            .themed(&Theme::from_metadata(&client.metadata)),
        client: ClientCard {
            name: name.to_owned(),
            logo_uri: logo(client),
            client_uri: client
                .client_uri
                .clone()
                .filter(|uri| has_scheme(uri, &["https", "http"])),
            policy_uri: client
                .policy_uri
                .clone()
                .filter(|uri| has_scheme(uri, &["https", "http"])),
            tos_uri: client
                .tos_uri
                .clone()
                .filter(|uri| has_scheme(uri, &["https", "http"])),
            redirect_host: request.redirect_host(),
        },
        account: identity.map(|identity| {
            identity
                .trait_str("email")
                .map_or_else(|| identity.id.clone(), str::to_owned)
        }),
        scopes,
        audiences: request.requested_audience.clone(),
        consent_challenge: challenge.as_str().to_owned(),
        csrf_token,
        remember_label: t.text1(
            "consent-remember",
            "duration",
            for_duration(t, state.settings.remember_consent_for.as_secs()),
        ),
    }
}

/// Only absolute URLs with these schemes are linked (never `javascript:` and the like).
fn has_scheme(uri: &str, schemes: &[&str]) -> bool {
    Url::parse(uri).is_ok_and(|url| schemes.contains(&url.scheme()))
}

/// "for 1 hour", "for 30 days", "for 90 minutes", in the page's language.
fn for_duration(t: &Texts, seconds: u64) -> String {
    let (count, unit) = match seconds {
        s if s % 86_400 == 0 => (s / 86_400, "days"),
        s if s % 3_600 == 0 => (s / 3_600, "hours"),
        s if s % 60 == 0 => (s / 60, "minutes"),
        s => (s, "seconds"),
    };
    t.count(&format!("remember-for-{unit}"), count)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Any body, urlencoded or not: a clean refusal or a form whose scopes are exactly the
        /// posted `grant_scope` values, in order.
        #[test]
        fn any_consent_body_parses_or_is_refused_without_panicking(
            pairs in prop::collection::vec((prop_oneof![Just("grant_scope".to_owned()), Just("action".to_owned()), Just("remember".to_owned()), "[a-z_]{1,20}"], ".{0,30}"), 0..10),
            raw in prop::collection::vec(any::<u8>(), 0..200),
        ) {
            let http = TestRequest::post()
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .to_http_request();
            let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
            if let Ok(form) = ConsentForm::parse(&http, body.as_bytes()) {
                let posted: Vec<&str> = pairs.iter().filter(|(k, _)| k == "grant_scope").map(|(_, v)| v.as_str()).collect();
                prop_assert_eq!(form.grant_scope.iter().map(String::as_str).collect::<Vec<_>>(), posted);
            }
            let _ = ConsentForm::parse(&http, &raw);
        }
    }

    use super::*;

    #[test]
    fn remember_periods_read_naturally() {
        let catalogue = crate::server::i18n::Catalogue::load().unwrap();
        let en = catalogue.default_texts();
        assert_eq!(for_duration(&en, 3600), "for 1 hour");
        assert_eq!(for_duration(&en, 86_400 * 30), "for 30 days");
        assert_eq!(for_duration(&en, 5400), "for 90 minutes");
        assert_eq!(for_duration(&en, 61), "for 61 seconds");
        let de = catalogue.negotiate(&["de".into()], None);
        assert_eq!(for_duration(&de, 86_400), "für 1 Tag");
    }

    #[test]
    fn only_web_urls_are_linked() {
        assert!(has_scheme(
            "https://app.example/privacy",
            &["https", "http"]
        ));
        assert!(!has_scheme("javascript:alert(1)", &["https", "http"]));
        assert!(!has_scheme("http://app.example/logo.png", &["https"]));
        assert!(!has_scheme("/relative", &["https"]));
    }
}
