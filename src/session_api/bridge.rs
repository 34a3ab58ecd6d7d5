//! The session bridge: Hydra's authorization code flow, run server-side for a Kratos session.
//!
//! Hydra has no "token from a session" endpoint and no token-exchange grant, so Hera plays the
//! browser. It starts at Hydra's `/oauth2/auth` with its own cookie jar and
//! follows Hydra's redirects one hop at a time. The hops to Hera's own `/login` and `/consent`
//! are handled here, in-process: the login is accepted for the session's identity (not
//! remembered), and consent is given for exactly the requested scopes and audiences. Hera stops
//! at the client's `redirect_uri` and returns the code **without following it**. Every request
//! goes to Hydra's own origin; any other redirect ends the flow.

use rand::distr::{Alphanumeric, SampleString};
use url::Url;

use super::State;
use crate::domain::bridge::BridgeRequest;
use crate::domain::{claims, login};
use crate::model::challenge::Challenge;
use crate::model::{Client, ConsentAccept, RedirectTo, Session};
use crate::ory::hydra_public::CookieJar;
use crate::ory::{HydraError, UpstreamError};

/// Redirects Hera follows at most (auth → login → auth → consent → auth → client is 5).
const MAX_HOPS: usize = 10;

/// The code the client will exchange, and the `state` it was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized {
    pub code: String,
    pub state: String,
}

/// Why the bridge could not produce a code.
#[derive(Debug, thiserror::Error)]
pub enum BridgeFailure {
    /// Hydra refused the request and said why, at the client's redirect URI or its error page.
    #[error("Hydra refused the authorization request: {error}")]
    Refused { error: String, description: String },
    /// The flow led somewhere Hera does not expect: Hydra's `urls.login`/`urls.consent` do not
    /// point at `HERA_PUBLIC_URL`, or a hop belonged to another client or subject.
    #[error("the authorization flow went astray: {0}")]
    Misrouted(&'static str),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

impl From<HydraError> for BridgeFailure {
    fn from(error: HydraError) -> Self {
        match error {
            HydraError::Upstream(error) => BridgeFailure::Upstream(error),
            HydraError::NotFound | HydraError::Expired | HydraError::AlreadyHandled { .. } => {
                BridgeFailure::Misrouted("Hydra no longer knows the challenge it just issued")
            }
        }
    }
}

/// Runs the flow for `session` and returns the code for `request.redirect_uri`.
#[tracing::instrument(name = "bridge.authorize", skip_all, fields(client_id = %client.id))]
pub async fn authorize(
    state: &State,
    session: &Session,
    client: &Client,
    request: &BridgeRequest,
) -> Result<Authorized, BridgeFailure> {
    let flow_state = request
        .state
        .clone()
        .unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::rng(), 24));
    let scope = request.scope.join(" ");
    let audience = request.audience.join(" ");
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", request.redirect_uri.as_str()),
        ("scope", scope.as_str()),
        ("state", flow_state.as_str()),
    ];
    if !audience.is_empty() {
        params.push(("audience", audience.as_str()));
    }
    if let (Some(challenge), Some(method)) =
        (&request.code_challenge, &request.code_challenge_method)
    {
        params.push(("code_challenge", challenge));
        params.push(("code_challenge_method", method));
    }
    let redirect_uri = Url::parse(&request.redirect_uri)
        .map_err(|_| BridgeFailure::Misrouted("the redirect URI is not a URL"))?;

    let mut jar = CookieJar::default();
    let mut url = state.hydra_public.authorize_url(&params);
    for _ in 0..MAX_HOPS {
        let location = state.hydra_public.hop(&url, &mut jar).await?;
        url = if lands_on(&location, &redirect_uri) {
            return arrived(&location, &flow_state);
        } else if let Some(challenge) = hera_page(state, &location, "login", "login_challenge") {
            next(login_hop(state, session, client, &challenge).await?)?
        } else if let Some(challenge) = hera_page(state, &location, "consent", "consent_challenge")
        {
            next(consent_hop(state, session, client, request, &challenge).await?)?
        } else if is_hera_page(state, &location, "error") {
            return Err(refused(&location));
        } else if state.hydra_public.owns(&location) {
            location
        } else {
            return Err(BridgeFailure::Misrouted(
                "a redirect to an unexpected place",
            ));
        };
    }
    Err(BridgeFailure::Misrouted("too many redirects"))
}

async fn login_hop(
    state: &State,
    session: &Session,
    client: &Client,
    challenge: &Challenge,
) -> Result<RedirectTo, BridgeFailure> {
    let request = state.hydra.login_request(challenge).await?;
    if request.client.id != client.id {
        return Err(BridgeFailure::Misrouted(
            "the login request is for another client",
        ));
    }
    let accept = login::accept_for_session(session, &state.login_policy);
    Ok(state.hydra.accept_login(challenge, accept).await?)
}

async fn consent_hop(
    state: &State,
    session: &Session,
    client: &Client,
    asked: &BridgeRequest,
    challenge: &Challenge,
) -> Result<RedirectTo, BridgeFailure> {
    let request = state.hydra.consent_request(challenge).await?;
    if request.client.id != client.id || request.subject != session.identity.id {
        return Err(BridgeFailure::Misrouted(
            "the consent request is for another client or subject",
        ));
    }
    // Exactly what the app asked for, and never more than Hydra says was requested.
    let grant_scope: Vec<String> = request
        .requested_scope
        .iter()
        .filter(|scope| asked.scope.contains(scope))
        .cloned()
        .collect();
    let grant_audience: Vec<String> = request
        .requested_audience
        .iter()
        .filter(|audience| asked.audience.contains(audience))
        .cloned()
        .collect();
    let accept = ConsentAccept {
        id_token_claims: claims::id_token_claims(&session.identity, &grant_scope),
        grant_scope: grant_scope.clone(),
        grant_audience,
        remember: false,
        remember_for: 0,
    };
    let redirect_to = state.hydra.accept_consent(challenge, accept).await?;
    tracing::info!(
        target: "hera::audit",
        event = "bridge.consent_granted",
        subject = %session.identity.id,
        client_id = %client.id,
        scopes = %grant_scope.join(" "),
    );
    Ok(redirect_to)
}

/// The next URL after an accept: Hydra's `redirect_to`, which must stay on Hydra's origin.
fn next(redirect_to: RedirectTo) -> Result<Url, BridgeFailure> {
    Url::parse(redirect_to.as_str())
        .map_err(|_| BridgeFailure::Misrouted("Hydra returned an unusable redirect"))
}

/// `location` is the client's redirect URI: same scheme, host, port and path, Hera stops here.
/// Compared part by part rather than by origin, because a native app's custom scheme
/// (`com.example.app:/cb`) has an opaque origin, which equals no other.
fn lands_on(location: &Url, redirect_uri: &Url) -> bool {
    location.scheme() == redirect_uri.scheme()
        && location.host_str() == redirect_uri.host_str()
        && location.port_or_known_default() == redirect_uri.port_or_known_default()
        && location.path() == redirect_uri.path()
}

/// The code (or error) Hydra sent to the client's redirect URI.
fn arrived(location: &Url, expected_state: &str) -> Result<Authorized, BridgeFailure> {
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    if let Some(error) = param("error") {
        return Err(BridgeFailure::Refused {
            error,
            description: param("error_description").unwrap_or_default(),
        });
    }
    let code = param("code").ok_or(BridgeFailure::Misrouted("the redirect carries no code"))?;
    let state = param("state").unwrap_or_default();
    if state != expected_state {
        return Err(BridgeFailure::Misrouted(
            "the redirect carries another state",
        ));
    }
    Ok(Authorized { code, state })
}

fn is_hera_page(state: &State, location: &Url, page: &str) -> bool {
    Url::parse(&state.page_url(&format!("/{page}")))
        .is_ok_and(|own| location.origin() == own.origin() && location.path() == own.path())
}

/// The challenge when `location` is Hera's own login or consent page.
fn hera_page(state: &State, location: &Url, page: &str, parameter: &str) -> Option<Challenge> {
    if !is_hera_page(state, location, page) {
        return None;
    }
    let value = location
        .query_pairs()
        .find(|(key, _)| key == parameter)
        .map(|(_, value)| value.into_owned());
    Challenge::parse(value.as_deref()).ok()
}

fn refused(location: &Url) -> BridgeFailure {
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    BridgeFailure::Refused {
        error: param("error"),
        description: param("error_description"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn the_flow_stops_at_the_redirect_uri_also_for_a_native_apps_custom_scheme() {
        let cases = [
            (
                "https://app.example.com/cb",
                "https://app.example.com/cb?code=x&state=y",
                true,
            ),
            (
                "com.example.app:/cb",
                "com.example.app:/cb?code=x&state=y",
                true,
            ),
            (
                "http://127.0.0.1:8080/cb",
                "http://127.0.0.1:8080/cb?code=x",
                true,
            ),
            (
                "https://app.example.com/cb",
                "https://app.example.com:443/cb?code=x",
                true,
            ),
            ("com.example.app:/cb", "com.example.other:/cb?code=x", false),
            (
                "com.example.app:/cb",
                "com.example.app:/other?code=x",
                false,
            ),
            (
                "http://127.0.0.1:8080/cb",
                "http://127.0.0.1:8081/cb?code=x",
                false,
            ),
            (
                "https://app.example.com/cb",
                "https://evil.example.com/cb?code=x",
                false,
            ),
        ];
        for (redirect_uri, location, stops) in cases {
            assert_eq!(
                lands_on(&url(location), &url(redirect_uri)),
                stops,
                "{redirect_uri} / {location}"
            );
        }
    }
}
