//! `GET /connected-apps`: the applications the signed-in user allowed, and
//! `POST /connected-apps/revoke` to take that access back.
//!
//! The subject is always the identity of the browser's Kratos session, never a parameter
//! (hydra#3134): a posted `client_id` only selects among that identity's own grants, and one
//! that is not among them is refused without calling Hydra.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use time::OffsetDateTime;
use tracing::Span;

use super::{
    app_badge, check_csrf, forwarded_cookies, plausible_client_id, render, see_other, texts,
};
use crate::domain::connected_apps::{self, ConnectedApp};
use crate::model::{Session as KratosSession, Whoami};
use crate::server::error::HeraError;
use crate::server::i18n::Texts;
use crate::server::scopes::{self, OperatorScopes};
use crate::server::session::{FormPurpose, TypedSession};
use crate::server::views::{ConnectedAppItem, ConnectedAppsPage, GrantedScope, Layout};
use crate::server::State;

const PATH: &str = "/connected-apps";

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Set by Hera's own redirect after a removal.
    revoked: Option<String>,
}

#[get("/connected-apps")]
pub async fn list(
    http: HttpRequest,
    query: web::Query<ListQuery>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    let kratos_session = match signed_in(&http, &state).await? {
        SignedIn::Yes(kratos_session) => kratos_session,
        SignedIn::No(redirect) => return Ok(redirect),
    };
    let subject = &kratos_session.identity.id;
    let apps = connected_apps::group(state.hydra.consent_sessions(subject).await?);
    let t = texts(&http, &state, &[]);
    // The confirmation names the app from Hydra's data, and only once it is really gone: the
    // query can be crafted, so it may not claim a removal that did not happen.
    let confirmation = match query
        .revoked
        .as_deref()
        .filter(|id| plausible_client_id(id))
    {
        Some(id) if connected_apps::find(&apps, id).is_none() => {
            Some(match revoked_name(&state, id).await {
                Some(name) => t.text1("apps-revoked", "app", name),
                None => t.text("apps-revoked-generic").to_owned(),
            })
        }
        _ => None,
    };
    let page = page(
        &t,
        &state.scopes,
        &session,
        &kratos_session,
        &apps,
        confirmation,
        None,
    )?;
    Ok(render(StatusCode::OK, &page))
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    client_id: Option<String>,
    csrf_token: Option<String>,
}

#[post("/connected-apps/revoke")]
pub async fn revoke(
    http: HttpRequest,
    form: web::Form<RevokeForm>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    let client_id = form
        .client_id
        .as_deref()
        .filter(|id| plausible_client_id(id))
        .ok_or_else(|| HeraError::BadForm("client_id is missing or malformed".into()))?;
    check_csrf(
        &http,
        &session,
        FormPurpose::Revoke,
        client_id,
        form.csrf_token.as_deref(),
    )?;
    let kratos_session = match signed_in(&http, &state).await? {
        SignedIn::Yes(kratos_session) => kratos_session,
        SignedIn::No(redirect) => return Ok(redirect),
    };
    let subject = &kratos_session.identity.id;
    let apps = connected_apps::group(state.hydra.consent_sessions(subject).await?);
    let Some(app) = connected_apps::find(&apps, client_id) else {
        tracing::warn!(
            client_id = %client_id,
            "removal asked for a client this subject has no grant for; nothing sent to Hydra"
        );
        let t = texts(&http, &state, &[]);
        let problem = t.text("apps-not-granted").to_owned();
        let page = page(
            &t,
            &state.scopes,
            &session,
            &kratos_session,
            &apps,
            None,
            Some(problem),
        )?;
        return Ok(render(StatusCode::BAD_REQUEST, &page));
    };
    state.hydra.revoke_consent(subject, &app.client.id).await?;
    tracing::info!(
        target: "hera::audit",
        event = "consent.revoked",
        subject = %subject,
        client_id = %app.client.id,
    );
    // Post/redirect/get: a reload shows the list instead of posting again.
    let mut back = url::Url::parse(&state.page_url(PATH))
        .map_err(|e| HeraError::Unexpected(anyhow::anyhow!("HERA_PUBLIC_URL: {e}")))?;
    back.query_pairs_mut()
        .append_pair("revoked", &app.client.id);
    Ok(see_other(back.as_str()))
}

enum SignedIn {
    Yes(Box<KratosSession>),
    /// Not signed in: the browser goes through Kratos's login and comes back here.
    No(HttpResponse),
}

async fn signed_in(http: &HttpRequest, state: &State) -> Result<SignedIn, HeraError> {
    let whoami = state
        .kratos
        .whoami(forwarded_cookies(http).as_deref())
        .await?;
    let return_to = state.page_url(PATH);
    Ok(match whoami {
        Whoami::Active(kratos_session) => {
            Span::current().record("subject", &kratos_session.identity.id);
            SignedIn::Yes(kratos_session)
        }
        Whoami::Unauthenticated => {
            SignedIn::No(see_other(&state.kratos.login_url(&return_to, false, false)))
        }
        Whoami::Aal2Required => {
            SignedIn::No(see_other(&state.kratos.login_url(&return_to, true, false)))
        }
    })
}

/// The removed app's name from Hydra; `None` when Hydra does not know it.
async fn revoked_name(state: &State, client_id: &str) -> Option<String> {
    match state.hydra.client(client_id).await {
        Ok(client) => client.map(|client| client.display_name().to_owned()),
        Err(error) => {
            tracing::warn!(error = %error, "could not load the removed client");
            None
        }
    }
}

fn page(
    t: &Texts,
    operator_scopes: &OperatorScopes,
    session: &Session,
    kratos_session: &KratosSession,
    apps: &[ConnectedApp],
    confirmation: Option<String>,
    problem: Option<String>,
) -> Result<ConnectedAppsPage, HeraError> {
    let csrf = TypedSession::new(session);
    let items = apps
        .iter()
        .map(|app| {
            Ok(ConnectedAppItem {
                app: app_badge(&app.client),
                client_id: app.client.id.clone(),
                csrf_token: csrf.csrf_token_for(FormPurpose::Revoke, &app.client.id)?,
                scopes: app
                    .scopes
                    .iter()
                    .map(|scope| granted_scope(t, operator_scopes, scope))
                    .collect(),
                audiences: app.audiences.clone(),
                granted_on: app.granted_at.map(|at| date(t, at)),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(ConnectedAppsPage {
        layout: Layout::new(t, t.text("apps-title")),
        account: kratos_session.identity.account_label(),
        apps: items,
        confirmation,
        problem,
    })
}

fn granted_scope(t: &Texts, operator_scopes: &OperatorScopes, scope: &str) -> GrantedScope {
    let words = scopes::words(operator_scopes, scope, t);
    GrantedScope {
        name: scope.to_owned(),
        title: words
            .as_ref()
            .map_or_else(|| scope.to_owned(), |(title, _)| title.clone()),
        description: words.map(|(_, description)| description),
    }
}

/// "2 January 2026" (UTC), in the page's language.
fn date(t: &Texts, at: OffsetDateTime) -> String {
    t.date(at.day(), u8::from(at.month()), at.year())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn english() -> Texts {
        crate::server::i18n::Catalogue::load()
            .unwrap()
            .default_texts()
    }

    #[test]
    fn grant_dates_read_naturally() {
        assert_eq!(
            date(&english(), datetime!(2026-01-02 03:04:05 UTC)),
            "2 January 2026"
        );
    }

    #[test]
    fn unknown_scopes_keep_their_name_and_get_no_description() {
        let known = granted_scope(&english(), &OperatorScopes::default(), "email");
        assert_eq!(known.title, "See your email address");
        assert!(known.description.is_some());
        let unknown = granted_scope(&english(), &OperatorScopes::default(), "photos.read");
        assert_eq!(unknown.title, "photos.read");
        assert_eq!(unknown.description, None);
    }
}
