//! The session bridge's checks on a client and a request, before anything reaches Hydra.
//!
//! A bridge turns a Kratos session into an authorization code without a consent page, so it is
//! only for the operator's own applications that opted in: first-party (`metadata.first_party`
//! or `skip_consent`, both admin-only, CONTRACT.md §2.1) **and** `metadata.session_bridge: true`.

use crate::ory::Client;

/// What an app asked the bridge for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub audience: Vec<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// Why the bridge refuses, with the OAuth2-style error the app receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    UnknownClient,
    NotFirstParty,
    NotOptedIn,
    RedirectUriNotRegistered,
    AudienceNotAllowed(String),
    PkceRequired,
    PkceMethodNotS256,
    StateTooShort,
    MissingField(&'static str),
}

impl Refusal {
    /// `(HTTP status, error, description)`.
    pub fn answer(&self) -> (u16, &'static str, String) {
        match self {
            Refusal::UnknownClient => (400, "invalid_client", "The client is unknown.".into()),
            Refusal::NotFirstParty => (
                403,
                "unauthorized_client",
                "The client is not a first-party client.".into(),
            ),
            Refusal::NotOptedIn => (
                403,
                "unauthorized_client",
                "The client has not opted in to the session bridge (metadata.session_bridge)."
                    .into(),
            ),
            Refusal::RedirectUriNotRegistered => (
                400,
                "invalid_request",
                "The redirect_uri is not registered for the client.".into(),
            ),
            Refusal::AudienceNotAllowed(audience) => (
                400,
                "invalid_request",
                format!("The client may not request the audience {audience}."),
            ),
            Refusal::PkceRequired => (
                400,
                "invalid_request",
                "A public client must send a code_challenge (PKCE).".into(),
            ),
            Refusal::PkceMethodNotS256 => (
                400,
                "invalid_request",
                "code_challenge_method must be S256.".into(),
            ),
            Refusal::StateTooShort => (
                400,
                "invalid_request",
                "state must be at least 8 characters.".into(),
            ),
            Refusal::MissingField(field) => {
                (400, "invalid_request", format!("{field} is required."))
            }
        }
    }
}

/// First-party and opted in.
pub fn check_client(client: &Client) -> Result<(), Refusal> {
    if !(client.skip_consent || client.metadata_flag("first_party")) {
        return Err(Refusal::NotFirstParty);
    }
    if !client.metadata_flag("session_bridge") {
        return Err(Refusal::NotOptedIn);
    }
    Ok(())
}

/// The request fits the client: a registered redirect URI (exact match, RFC 6749 §3.1.2.3),
/// allowed audiences, PKCE S256 for public clients, a `state` Hydra will accept.
pub fn check_request(request: &BridgeRequest, client: &Client) -> Result<(), Refusal> {
    check_client(client)?;
    if request.client_id.is_empty() {
        return Err(Refusal::MissingField("client_id"));
    }
    if !client.redirect_uris.contains(&request.redirect_uri) {
        return Err(Refusal::RedirectUriNotRegistered);
    }
    check_audience(&request.audience, client)?;
    match (
        &request.code_challenge,
        request.code_challenge_method.as_deref(),
    ) {
        (Some(_), Some("S256")) => {}
        (Some(_), _) => return Err(Refusal::PkceMethodNotS256),
        (None, Some(_)) => return Err(Refusal::MissingField("code_challenge")),
        (None, None) if client.token_endpoint_auth_method.as_deref() == Some("none") => {
            return Err(Refusal::PkceRequired)
        }
        (None, None) => {}
    }
    if request
        .state
        .as_deref()
        .is_some_and(|state| state.len() < 8)
    {
        return Err(Refusal::StateTooShort);
    }
    Ok(())
}

/// Every audience must be in the client's `audience` allow-list (exact match, as Hydra does).
pub fn check_audience(audience: &[String], client: &Client) -> Result<(), Refusal> {
    match audience.iter().find(|a| !client.audience.contains(a)) {
        Some(audience) => Err(Refusal::AudienceNotAllowed(audience.clone())),
        None => Ok(()),
    }
}

/// Scopes for a token minted from the session: never `offline`/`offline_access`, because the
/// Kratos session is the refresh (seed 003). Defaults to `openid`.
pub fn session_grant_scopes(requested: &[String]) -> Vec<String> {
    let scopes: Vec<String> = requested
        .iter()
        .filter(|s| *s != "offline" && *s != "offline_access")
        .cloned()
        .collect();
    if scopes.is_empty() {
        vec!["openid".to_owned()]
    } else {
        scopes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spa() -> Client {
        Client {
            id: "own-spa".into(),
            redirect_uris: vec!["https://app.example.com/callback".into()],
            audience: vec!["https://api.example.com".into()],
            token_endpoint_auth_method: Some("none".into()),
            metadata: json!({"first_party": true, "session_bridge": true}),
            ..Client::default()
        }
    }

    fn request() -> BridgeRequest {
        BridgeRequest {
            client_id: "own-spa".into(),
            redirect_uri: "https://app.example.com/callback".into(),
            scope: vec!["openid".into()],
            audience: vec!["https://api.example.com".into()],
            state: Some("state-123456".into()),
            code_challenge: Some("challenge".into()),
            code_challenge_method: Some("S256".into()),
        }
    }

    #[test]
    fn a_first_party_opted_in_client_with_a_good_request_passes() {
        assert_eq!(check_request(&request(), &spa()), Ok(()));
        let web = Client {
            skip_consent: true,
            metadata: json!({"session_bridge": true}),
            ..spa()
        };
        assert_eq!(check_client(&web), Ok(()));
    }

    #[test]
    fn each_refusal() {
        let cases: Vec<(&str, BridgeRequest, Client, Refusal)> = vec![
            (
                "third party",
                request(),
                Client {
                    metadata: json!({"session_bridge": true}),
                    ..spa()
                },
                Refusal::NotFirstParty,
            ),
            (
                "not opted in",
                request(),
                Client {
                    metadata: json!({"first_party": true}),
                    ..spa()
                },
                Refusal::NotOptedIn,
            ),
            (
                "opted in as a string",
                request(),
                Client {
                    metadata: json!({"first_party": true, "session_bridge": "true"}),
                    ..spa()
                },
                Refusal::NotOptedIn,
            ),
            (
                "unregistered redirect",
                BridgeRequest {
                    redirect_uri: "https://app.example.com/callback/../evil".into(),
                    ..request()
                },
                spa(),
                Refusal::RedirectUriNotRegistered,
            ),
            (
                "foreign audience",
                BridgeRequest {
                    audience: vec!["https://other.example.com".into()],
                    ..request()
                },
                spa(),
                Refusal::AudienceNotAllowed("https://other.example.com".into()),
            ),
            (
                "public client without PKCE",
                BridgeRequest {
                    code_challenge: None,
                    code_challenge_method: None,
                    ..request()
                },
                spa(),
                Refusal::PkceRequired,
            ),
            (
                "plain PKCE",
                BridgeRequest {
                    code_challenge_method: Some("plain".into()),
                    ..request()
                },
                spa(),
                Refusal::PkceMethodNotS256,
            ),
            (
                "short state",
                BridgeRequest {
                    state: Some("short".into()),
                    ..request()
                },
                spa(),
                Refusal::StateTooShort,
            ),
        ];
        for (name, request, client, expected) in cases {
            assert_eq!(check_request(&request, &client), Err(expected), "{name}");
        }
    }

    #[test]
    fn session_grants_never_carry_offline_scopes() {
        let scopes = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            session_grant_scopes(&scopes(&["openid", "offline_access", "api"])),
            ["openid", "api"]
        );
        assert_eq!(session_grant_scopes(&scopes(&["offline"])), ["openid"]);
        assert_eq!(session_grant_scopes(&[]), ["openid"]);
    }
}
