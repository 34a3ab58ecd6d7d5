//! Kratos's browser self-service API as Hera's pages use it: reading a flow with the browser's
//! cookies (`GET /self-service/<kind>/flows?id=`), reading a recorded error
//! (`GET /self-service/errors?id=`), the browser URLs that start a flow, and the signed-in
//! person's sessions (`GET /sessions`, `DELETE /sessions/{id}`, `DELETE /sessions`).
//!
//! Plain reqwest into Hera's own [`crate::model::flow`] types: the SDK's node attribute types
//! are a closed `oneOf` that rejects node types Kratos adds, and a page must render them (or at
//! least their messages). Only the browser's `Cookie` header is forwarded, and only to the
//! public API. JSON errors never quote values: flows carry CSRF tokens and secrets.

use reqwest::header::{HeaderValue, ACCEPT, COOKIE};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::Kratos;
use crate::model::flow::{Flow, FlowAnswer, FlowProblem, FlowStart, SelfServiceError};
use crate::model::{KratosFlow, Session};
use crate::ory::{Service, UpstreamError};

const SERVICE: Service = Service::KratosPublic;

/// What `DELETE /sessions/{id}` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedSession {
    /// The session is ended (204).
    Ended,
    /// Kratos refused: the browser's own session (use the logout flow), or a malformed id (400),
    /// or no such session of this identity (404).
    Refused,
    /// The browser's cookies carry no session (401).
    NotSignedIn,
}

impl Kratos {
    /// Kratos's public URL as browsers reach it: the origin a flow's form may post to.
    pub fn browser_base(&self) -> &Url {
        &self.browser_url
    }

    /// The browser URL that starts a `kind` flow (`/self-service/<kind>/browser`), with only
    /// the parameters asked for. Hera never passes `login_challenge`: the browser comes back to
    /// Hera, which decides.
    pub fn flow_start_url(&self, kind: KratosFlow, start: &FlowStart) -> String {
        let mut url = self.browser_url.clone();
        url.path_segments_mut()
            .map(|mut segments| {
                segments
                    .pop_if_empty()
                    .extend(["self-service", kind.name(), "browser"]);
            })
            .ok();
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if start.aal2 {
            pairs.push(("aal", "aal2"));
        }
        if start.refresh {
            pairs.push(("refresh", "true"));
        }
        if let Some(return_to) = start.return_to.as_deref() {
            pairs.push(("return_to", return_to));
        }
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        url.into()
    }

    /// `GET /self-service/<kind>/flows?id=<id>` with the browser's cookies (Kratos checks the
    /// CSRF cookie on read, and the session cookie for settings). A 4xx is Kratos explaining
    /// why there is no flow; a 5xx is an upstream failure.
    #[tracing::instrument(name = "kratos.flow", skip_all, fields(kind = kind.name()))]
    pub async fn flow(
        &self,
        kind: KratosFlow,
        id: &str,
        cookie: Option<&str>,
    ) -> Result<FlowAnswer, UpstreamError> {
        let url = self.public_path(&["self-service", kind.name(), "flows"])?;
        let request = with_cookie(
            self.public
                .http()
                .get(url)
                .query(&[("id", id)])
                .header(ACCEPT, "application/json"),
            cookie,
        );
        let response = self.public.send("flow", request).await?;
        match response.status() {
            StatusCode::OK => {
                let flow: Flow = self.public.json(response).await?;
                Ok(FlowAnswer::Flow(Box::new(flow)))
            }
            status if status.is_client_error() => {
                Ok(FlowAnswer::Problem(problem(status, response).await?))
            }
            status => Err(UpstreamError::status(SERVICE, status)),
        }
    }

    /// `GET /self-service/errors?id=<id>`: the error Kratos recorded when it sent a browser to
    /// the error page; `None` for an id Kratos does not know (404). No cookie is needed, so
    /// none is sent.
    #[tracing::instrument(name = "kratos.self_service_error", skip_all)]
    pub async fn self_service_error(
        &self,
        id: &str,
    ) -> Result<Option<SelfServiceError>, UpstreamError> {
        #[derive(Deserialize)]
        struct Record {
            id: String,
            error: Value,
        }
        let url = self.public_path(&["self-service", "errors"])?;
        let request = self
            .public
            .http()
            .get(url)
            .query(&[("id", id)])
            .header(ACCEPT, "application/json");
        let response = self.public.send("self_service_error", request).await?;
        match response.status() {
            StatusCode::OK => {
                let record: Record = self.public.json(response).await?;
                let status = record
                    .error
                    .get("code")
                    .and_then(Value::as_u64)
                    .and_then(|code| u16::try_from(code).ok())
                    .unwrap_or(500);
                Ok(Some(SelfServiceError {
                    id: record.id,
                    problem: problem_of(status, &serde_json::json!({ "error": record.error })),
                }))
            }
            // 404 for an unknown id; 400 for one that is not even an id.
            StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST => Ok(None),
            status => Err(UpstreamError::status(SERVICE, status)),
        }
    }

    /// `GET /sessions`: the browser's identity's other active sessions (Kratos leaves the
    /// current one out); `None` when the cookies carry no usable session (401, or 403 when a
    /// second factor is missing).
    #[tracing::instrument(name = "kratos.other_sessions", skip_all)]
    pub async fn other_sessions(
        &self,
        cookie: Option<&str>,
    ) -> Result<Option<Vec<Session>>, UpstreamError> {
        let url = self.public_path(&["sessions"])?;
        let request = with_cookie(
            self.public
                .http()
                .get(url)
                .header(ACCEPT, "application/json"),
            cookie,
        );
        let response = self.public.send("other_sessions", request).await?;
        match response.status() {
            StatusCode::OK => self.public.json(response).await.map(Some),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Ok(None),
            status => Err(UpstreamError::status(SERVICE, status)),
        }
    }

    /// `DELETE /sessions/{id}`: ends one of the browser's identity's other sessions.
    #[tracing::instrument(name = "kratos.end_session", skip_all)]
    pub async fn end_session(
        &self,
        cookie: Option<&str>,
        id: &str,
    ) -> Result<EndedSession, UpstreamError> {
        let url = self.public_path(&["sessions", id])?;
        let request = with_cookie(
            self.public
                .http()
                .delete(url)
                .header(ACCEPT, "application/json"),
            cookie,
        );
        let response = self.public.send("end_session", request).await?;
        match response.status() {
            StatusCode::NO_CONTENT | StatusCode::OK => Ok(EndedSession::Ended),
            StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND => Ok(EndedSession::Refused),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Ok(EndedSession::NotSignedIn),
            status => Err(UpstreamError::status(SERVICE, status)),
        }
    }

    /// `DELETE /sessions`: ends every session of the browser's identity but the browser's own;
    /// how many, or `None` when the cookies carry no session.
    #[tracing::instrument(name = "kratos.end_other_sessions", skip_all)]
    pub async fn end_other_sessions(
        &self,
        cookie: Option<&str>,
    ) -> Result<Option<u64>, UpstreamError> {
        #[derive(Deserialize)]
        struct Count {
            #[serde(default)]
            count: u64,
        }
        let url = self.public_path(&["sessions"])?;
        let request = with_cookie(
            self.public
                .http()
                .delete(url)
                .header(ACCEPT, "application/json"),
            cookie,
        );
        let response = self.public.send("end_other_sessions", request).await?;
        match response.status() {
            StatusCode::OK => self
                .public
                .json::<Count>(response)
                .await
                .map(|c| Some(c.count)),
            StatusCode::NO_CONTENT => Ok(Some(0)),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Ok(None),
            status => Err(UpstreamError::status(SERVICE, status)),
        }
    }

    /// `<public>/<segments…>`, each segment percent-encoded.
    fn public_path(&self, segments: &[&str]) -> Result<Url, UpstreamError> {
        super::super::endpoint(SERVICE, &self.public_url, segments)
    }
}

fn with_cookie(request: reqwest::RequestBuilder, cookie: Option<&str>) -> reqwest::RequestBuilder {
    match cookie.and_then(|c| HeaderValue::from_str(c).ok()) {
        Some(cookie) => request.header(COOKIE, cookie),
        None => request,
    }
}

/// Kratos's explanation of a 4xx: its nested error body, or just the status when the body is
/// not one.
async fn problem(
    status: StatusCode,
    response: reqwest::Response,
) -> Result<FlowProblem, UpstreamError> {
    let body = crate::timing::upstream(response.bytes())
        .await
        .map_err(|e| UpstreamError::from_reqwest(SERVICE, e))?;
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok(problem_of(status.as_u16(), &value))
}

/// Reads `{"error": {"id", "reason", "details": {…}}, "redirect_browser_to", "use_flow_id"}`.
fn problem_of(status: u16, body: &Value) -> FlowProblem {
    let error = body.get("error").unwrap_or(&Value::Null);
    let details = error.get("details").unwrap_or(&Value::Null);
    let text = |value: Option<&Value>| {
        value
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    FlowProblem {
        status,
        id: text(error.get("id")),
        redirect_browser_to: text(body.get("redirect_browser_to"))
            .or_else(|| text(details.get("redirect_browser_to"))),
        restart_at: text(details.get("redirect_to")),
        return_to: text(details.get("return_to")),
        use_flow_id: text(body.get("use_flow_id")),
        reason: text(error.get("reason")).or_else(|| text(error.get("message"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ory::kratos::tests::kratos;
    use serde_json::json;

    #[test]
    fn a_flow_starts_with_only_the_parameters_asked_for() {
        let k = kratos("https://id.example/.ory");
        assert_eq!(
            k.flow_start_url(KratosFlow::Recovery, &FlowStart::default()),
            "https://id.example/.ory/self-service/recovery/browser"
        );
        let start = FlowStart {
            return_to: Some("https://hera.example/login?login_challenge=a+b".into()),
            refresh: true,
            aal2: true,
        };
        assert_eq!(
            k.flow_start_url(KratosFlow::Login, &start),
            "https://id.example/.ory/self-service/login/browser?aal=aal2&refresh=true&return_to=https%3A%2F%2Fhera.example%2Flogin%3Flogin_challenge%3Da%2Bb"
        );
    }

    #[test]
    fn problems_are_read_from_every_place_kratos_puts_them() {
        let expired = problem_of(
            410,
            &json!({"error": {"id": "self_service_flow_expired", "code": 410, "reason": "gone",
                "details": {"redirect_to": "http://k/self-service/login/browser", "return_to": ""}}}),
        );
        assert_eq!(expired.id.as_deref(), Some("self_service_flow_expired"));
        assert_eq!(
            expired.restart_at.as_deref(),
            Some("http://k/self-service/login/browser")
        );
        assert_eq!(expired.return_to, None, "an empty return_to is none");
        let aal2 = problem_of(
            403,
            &json!({"error": {"id": "session_aal2_required", "details": {"redirect_browser_to": "http://k/a"}}}),
        );
        assert_eq!(aal2.redirect_browser_to.as_deref(), Some("http://k/a"));
        let replaced = problem_of(410, &json!({"error": {"code": 410}, "use_flow_id": "f"}));
        assert_eq!(replaced.use_flow_id.as_deref(), Some("f"));
        let bare = problem_of(404, &Value::Null);
        assert_eq!(
            bare,
            FlowProblem {
                status: 404,
                ..FlowProblem::default()
            }
        );
    }
}
