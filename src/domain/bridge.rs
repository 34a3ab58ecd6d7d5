//! The session bridge's checks on a client and a request, before anything reaches Hydra.
//!
//! A bridge turns a Kratos session into an authorization code without a consent page, so it is
//! only for the operator's own applications that opted in: first-party (`metadata.first_party`
//! or `skip_consent`, both admin-only: Hydra refuses them in dynamic client registration) **and**
//! `metadata.session_bridge: true`.

use crate::model::Client;

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
    /// `/session/token` with a `grant_type` other than `session`.
    UnsupportedGrantType,
    /// `/session/token` while no bridge client is configured.
    GrantNotConfigured,
    /// The bridge client has no redirect URI to run the flow with.
    NoRedirectUri,
}

impl Refusal {
    /// `(error, description)`: the OAuth2-style error code the app branches on, and words for
    /// its developers.
    pub fn answer(&self) -> (&'static str, String) {
        match self {
            Refusal::UnknownClient => ("invalid_client", "The client is unknown.".into()),
            Refusal::NotFirstParty => (
                "unauthorized_client",
                "The client is not a first-party client.".into(),
            ),
            Refusal::NotOptedIn => (
                "unauthorized_client",
                "The client has not opted in to the session bridge (metadata.session_bridge)."
                    .into(),
            ),
            Refusal::RedirectUriNotRegistered => (
                "invalid_request",
                "The redirect_uri is not registered for the client.".into(),
            ),
            Refusal::AudienceNotAllowed(audience) => (
                "invalid_request",
                format!("The client may not request the audience {audience}."),
            ),
            Refusal::PkceRequired => (
                "invalid_request",
                "A public client must send a code_challenge (PKCE).".into(),
            ),
            Refusal::PkceMethodNotS256 => (
                "invalid_request",
                "code_challenge_method must be S256.".into(),
            ),
            Refusal::StateTooShort => (
                "invalid_request",
                "state must be at least 8 characters.".into(),
            ),
            Refusal::MissingField(field) => ("invalid_request", format!("{field} is required.")),
            Refusal::UnsupportedGrantType => (
                "unsupported_grant_type",
                "Only grant_type=session is supported here.".into(),
            ),
            Refusal::GrantNotConfigured => (
                "unsupported_grant_type",
                "The session grant is not configured (HERA_BRIDGE_CLIENT_ID).".into(),
            ),
            Refusal::NoRedirectUri => (
                "bridge_failed",
                "The bridge client has no redirect URI.".into(),
            ),
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
/// Kratos session is the refresh. Defaults to `openid`.
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

/// A `/session/token` request (the session grant).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionGrantRequest {
    pub grant_type: Option<String>,
    pub audience: Vec<String>,
    pub scope: Vec<String>,
}

/// What can be checked before asking anyone: `grant_type=session`, at least one audience, and
/// a configured bridge client, whose id is returned.
pub fn check_session_grant<'a>(
    grant: &SessionGrantRequest,
    configured_client: Option<&'a str>,
) -> Result<&'a str, Refusal> {
    if grant.grant_type.as_deref() != Some("session") {
        return Err(Refusal::UnsupportedGrantType);
    }
    if grant.audience.is_empty() {
        return Err(Refusal::MissingField("audience"));
    }
    configured_client.ok_or(Refusal::GrantNotConfigured)
}

/// The authorization request the session grant runs for the bridge client: its allowed
/// audiences only, its first redirect URI, no offline scopes, and PKCE when Hera has no secret
/// for it (`pkce_challenge`, S256).
pub fn session_grant_request(
    grant: &SessionGrantRequest,
    client: &Client,
    pkce_challenge: Option<String>,
) -> Result<BridgeRequest, Refusal> {
    check_audience(&grant.audience, client)?;
    let redirect_uri = client
        .redirect_uris
        .first()
        .cloned()
        .ok_or(Refusal::NoRedirectUri)?;
    Ok(BridgeRequest {
        client_id: client.id.clone(),
        redirect_uri,
        scope: session_grant_scopes(&grant.scope),
        audience: grant.audience.clone(),
        state: None,
        code_challenge_method: pkce_challenge.is_some().then(|| "S256".to_owned()),
        code_challenge: pkce_challenge,
    })
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

    #[test]
    fn the_session_grant_needs_its_grant_type_an_audience_and_a_configured_client() {
        let grant = |grant_type: &str, audience: &[&str]| SessionGrantRequest {
            grant_type: Some(grant_type.to_owned()),
            audience: audience.iter().map(|a| (*a).to_owned()).collect(),
            scope: vec![],
        };
        assert_eq!(
            check_session_grant(&grant("password", &["api"]), Some("own")),
            Err(Refusal::UnsupportedGrantType)
        );
        assert_eq!(
            check_session_grant(&grant("session", &[]), Some("own")),
            Err(Refusal::MissingField("audience"))
        );
        assert_eq!(
            check_session_grant(&grant("session", &["api"]), None),
            Err(Refusal::GrantNotConfigured)
        );
        assert_eq!(
            check_session_grant(&grant("session", &["api"]), Some("own")),
            Ok("own")
        );
    }

    #[test]
    fn the_session_grant_runs_on_the_clients_first_redirect_with_pkce_when_it_has_no_secret() {
        let grant = SessionGrantRequest {
            grant_type: Some("session".into()),
            audience: vec!["https://api.example.com".into()],
            scope: vec!["openid".into(), "offline".into()],
        };
        let request = session_grant_request(&grant, &spa(), Some("challenge".into())).unwrap();
        assert_eq!(request.redirect_uri, spa().redirect_uris[0]);
        assert_eq!(request.scope, ["openid"]);
        assert_eq!(request.code_challenge_method.as_deref(), Some("S256"));
        let confidential = session_grant_request(&grant, &spa(), None).unwrap();
        assert_eq!(confidential.code_challenge, None);
        assert_eq!(confidential.code_challenge_method, None);
        let no_redirect = Client {
            redirect_uris: vec![],
            ..spa()
        };
        assert_eq!(
            session_grant_request(&grant, &no_redirect, None),
            Err(Refusal::NoRedirectUri)
        );
        let foreign = SessionGrantRequest {
            audience: vec!["https://other.example.com".into()],
            ..grant
        };
        assert_eq!(
            session_grant_request(&foreign, &spa(), None),
            Err(Refusal::AudienceNotAllowed(
                "https://other.example.com".into()
            ))
        );
    }
}
