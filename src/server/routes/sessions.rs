//! `GET /sessions`: where the signed-in person is signed in (their Kratos sessions: this
//! device, then the others, each with its browser, system, address, place and time of
//! sign-in), with a "sign out" button per other device and one for all of them
//! (`POST /sessions/end`, `POST /sessions/end-others`).
//!
//! Kratos does not check CSRF on `DELETE /sessions…` (an API for the session's owner), so Hera
//! does: each button's form carries a token bound to this browser and to what it ends. Kratos
//! itself only ends sessions of the identity whose cookie Hera forwards, and never the
//! browser's own (that is the sign-out link).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use time::OffsetDateTime;
use tracing::Span;

use super::{check_csrf, forwarded_cookies, render, see_other, texts};
use crate::domain::selfservice::{device_kind, is_session_id};
use crate::model::flow::FlowStart;
use crate::model::{KratosFlow, Session as KratosSession, Whoami};
use crate::ory::EndedSession;
use crate::server::error::HeraError;
use crate::server::i18n::Texts;
use crate::server::session::{FormPurpose, TypedSession};
use crate::server::views::{Layout, SessionItem, SessionsPage};
use crate::server::State;

const PATH: &str = "/sessions";

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Set by Hera's own redirect after a form: `one`, `others` or `refused`.
    ended: Option<String>,
    /// With `ended=one`: the session that was ended.
    session: Option<String>,
    /// With `ended=others`: how many.
    count: Option<u64>,
}

#[get("/sessions")]
pub async fn list(
    http: HttpRequest,
    query: web::Query<ListQuery>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    let cookies = forwarded_cookies(&http);
    let current = match signed_in(cookies.as_deref(), &state).await? {
        Ok(current) => current,
        Err(redirect) => return Ok(redirect),
    };
    let Some(others) = state.kratos.other_sessions(cookies.as_deref()).await? else {
        return Ok(sign_in(&state, false));
    };
    let t = texts(&http, &state, &[]);
    // The query can be crafted: a confirmation is only shown for what is really gone.
    let confirmation = match query.ended.as_deref() {
        Some("one")
            if query
                .session
                .as_deref()
                .is_some_and(|id| !others.iter().any(|s| s.id == id)) =>
        {
            Some(t.text("sessions-ended").to_owned())
        }
        Some("others") if others.is_empty() => Some(t.count(
            "sessions-ended-others",
            query.count.unwrap_or(0).min(10_000),
        )),
        _ => None,
    };
    let problem =
        (query.ended.as_deref() == Some("refused")).then(|| t.text("sessions-refused").to_owned());
    let csrf = TypedSession::new(&session);
    let mut items = Vec::new();
    for other in &others {
        let token = csrf.csrf_token_for(FormPurpose::EndSession, &other.id)?;
        items.push(item(&t, other, Some((other.id.clone(), token))));
    }
    let end_others_token = if others.is_empty() {
        None
    } else {
        Some(csrf.csrf_token_for(FormPurpose::EndSession, &others_subject(&current))?)
    };
    let sign_out_url = state
        .kratos
        .browser_logout_url(cookies.as_deref(), &state.page_url("/"))
        .await?;
    let page = SessionsPage {
        layout: Layout::new(&t, t.text("sessions-title")),
        account: current.identity.account_label(),
        current: item(&t, &current, None),
        others: items,
        end_others_token,
        sign_out_url,
        confirmation,
        problem,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Debug, Deserialize)]
pub struct EndForm {
    session_id: Option<String>,
    csrf_token: Option<String>,
}

#[post("/sessions/end")]
pub async fn end(
    http: HttpRequest,
    form: web::Form<EndForm>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    let id = form
        .session_id
        .as_deref()
        .filter(|id| is_session_id(id))
        .ok_or_else(|| HeraError::BadForm("session_id is missing or malformed".into()))?;
    check_csrf(
        &http,
        &session,
        FormPurpose::EndSession,
        id,
        form.csrf_token.as_deref(),
    )?;
    let cookies = forwarded_cookies(&http);
    let ended = state.kratos.end_session(cookies.as_deref(), id).await?;
    let query: Vec<(&str, String)> = match ended {
        EndedSession::Ended => vec![("ended", "one".into()), ("session", id.to_owned())],
        EndedSession::Refused => vec![("ended", "refused".into())],
        EndedSession::NotSignedIn => return Ok(sign_in(&state, false)),
    };
    tracing::info!(
        target: "hera::audit",
        event = "session.ended",
        session_id = %id,
        ended = ended == EndedSession::Ended,
    );
    Ok(see_other(&back(&state, &query)))
}

#[derive(Debug, Deserialize)]
pub struct EndOthersForm {
    csrf_token: Option<String>,
}

#[post("/sessions/end-others")]
pub async fn end_others(
    http: HttpRequest,
    form: web::Form<EndOthersForm>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    let cookies = forwarded_cookies(&http);
    let current = match signed_in(cookies.as_deref(), &state).await? {
        Ok(current) => current,
        Err(redirect) => return Ok(redirect),
    };
    check_csrf(
        &http,
        &session,
        FormPurpose::EndSession,
        &others_subject(&current),
        form.csrf_token.as_deref(),
    )?;
    let Some(count) = state.kratos.end_other_sessions(cookies.as_deref()).await? else {
        return Ok(sign_in(&state, false));
    };
    tracing::info!(
        target: "hera::audit",
        event = "sessions.ended_others",
        subject = %current.identity.id,
        count,
    );
    Ok(see_other(&back(
        &state,
        &[("ended", "others".into()), ("count", count.to_string())],
    )))
}

/// What the "all other devices" token is bound to: the browser's own session, so a token
/// from another sign-in does not pass.
fn others_subject(current: &KratosSession) -> String {
    format!("others-of:{}", current.id)
}

/// The browser's session, or the redirect that signs it in and comes back here.
async fn signed_in(
    cookies: Option<&str>,
    state: &State,
) -> Result<Result<Box<KratosSession>, HttpResponse>, HeraError> {
    Ok(match state.kratos.whoami(cookies).await? {
        Whoami::Active(current) => {
            Span::current().record("subject", &current.identity.id);
            Ok(current)
        }
        Whoami::Unauthenticated => Err(sign_in(state, false)),
        Whoami::Aal2Required => Err(sign_in(state, true)),
    })
}

/// Kratos's sign-in, back to this page.
fn sign_in(state: &State, aal2: bool) -> HttpResponse {
    let start = FlowStart {
        return_to: Some(state.page_url(PATH)),
        refresh: false,
        aal2,
    };
    see_other(&state.kratos.flow_start_url(KratosFlow::Login, &start))
}

/// This page with a query saying what happened (post/redirect/get: a reload shows the list).
fn back(state: &State, query: &[(&str, String)]) -> String {
    let pairs: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    format!("{}?{pairs}", state.page_url(PATH))
}

fn item(t: &Texts, session: &KratosSession, end_form: Option<(String, String)>) -> SessionItem {
    let device = session.devices.first();
    let kind = device
        .and_then(|d| d.user_agent.as_deref())
        .map(device_kind)
        .unwrap_or_default();
    let name = match (kind.browser, kind.system) {
        (Some(browser), Some(system)) => t.text_with(
            "sessions-device",
            &[("browser", &browser), ("system", &system)],
        ),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => t.text("sessions-unknown-device").to_owned(),
    };
    let present = |value: Option<&String>| value.filter(|v| !v.trim().is_empty()).cloned();
    let signed_in = session.authenticated_at.map(|at| when(t, at));
    let summary = t.text_with(
        "sessions-end-for",
        &[
            ("device", &name),
            ("when", &signed_in.clone().unwrap_or_default()),
        ],
    );
    SessionItem {
        device: name,
        summary,
        signed_in,
        second_factor: session.aal.as_deref() == Some("aal2"),
        ip: present(device.and_then(|d| d.ip_address.as_ref())).map(|ip| without_port(&ip)),
        place: present(device.and_then(|d| d.location.as_ref())),
        end: end_form,
    }
}

/// "2 January 2026, 14:05 UTC".
fn when(t: &Texts, at: OffsetDateTime) -> String {
    let date = t.date(at.day(), u8::from(at.month()), at.year());
    let time = format!("{:02}:{:02}", at.hour(), at.minute());
    t.text_with("sessions-when", &[("date", &date), ("time", &time)])
}

/// Kratos records an IPv4 address with the client's port (`127.0.0.1:59506`): the port says
/// nothing to a person.
fn without_port(ip: &str) -> String {
    match ip.split_once(':') {
        Some((address, port))
            if !port.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            address.to_owned()
        }
        _ => ip.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_address_loses_its_port_and_ipv6_stays_whole() {
        assert_eq!(without_port("127.0.0.1:59506"), "127.0.0.1");
        assert_eq!(without_port("2001:db8::1"), "2001:db8::1");
        assert_eq!(without_port("198.51.100.7"), "198.51.100.7");
    }
}
