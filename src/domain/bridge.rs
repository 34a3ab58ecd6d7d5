//! The session bridge's checks on a client and a request, before anything reaches Hydra.
//!
//! A bridge turns a Kratos session into an authorization code without a consent page, so it is
//! only for the operator's own applications that opted in: first-party (`metadata.first_party`
//! or `skip_consent`, both admin-only: Hydra refuses them in dynamic client registration) **and**
//! `metadata.session_bridge: true`.
//!
//! The code comes back in the answer to a script, so the request is bound to the caller:
//! - the script's `Origin` must be one the client is bound to (its `allowed_cors_origins`, or
//!   the origin of one of its `redirect_uris`), so one allowed app cannot ask for another's
//!   client;
//! - every client must send a PKCE S256 challenge, confidential ones too, so a code taken from
//!   the answer is useless without the verifier the caller kept (RFC 9700 §2.1.1);
//! - `offline`/`offline_access` is never granted: a script cannot mint refresh tokens;
//! - a client with `metadata.min_aal: "aal2"` needs a session with a second factor, as on the
//!   login page.

use crate::model::{Client, Session};

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
    /// The caller's `Origin` is not one the client is bound to.
    OriginNotBound,
    /// `offline` or `offline_access` was asked for.
    OfflineScope,
    /// The client demands a second factor the session does not have.
    Aal2Required,
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
                "A code_challenge (PKCE, S256) is required.".into(),
            ),
            Refusal::OriginNotBound => (
                "origin_not_allowed",
                "This origin may not ask for this client: it is neither one of the client's \
                 allowed_cors_origins nor the origin of one of its redirect_uris."
                    .into(),
            ),
            Refusal::OfflineScope => (
                "invalid_scope",
                "offline and offline_access are never granted here: the Kratos session is the \
                 refresh."
                    .into(),
            ),
            Refusal::Aal2Required => (
                "session_aal2_required",
                "The client requires a second factor.".into(),
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
    if !client.is_first_party() {
        return Err(Refusal::NotFirstParty);
    }
    if !client.metadata_flag("session_bridge") {
        return Err(Refusal::NotOptedIn);
    }
    Ok(())
}

/// The request fits the client and its caller: `origin` (the request's `Origin`) is one the
/// client is bound to, a registered redirect URI (exact match, RFC 6749 §3.1.2.3), allowed
/// audiences, no offline scope, PKCE S256, a `state` Hydra will accept.
pub fn check_request(
    request: &BridgeRequest,
    client: &Client,
    origin: &str,
) -> Result<(), Refusal> {
    check_client(client)?;
    if request.client_id.is_empty() {
        return Err(Refusal::MissingField("client_id"));
    }
    if !client.web_origins().iter().any(|bound| bound == origin) {
        return Err(Refusal::OriginNotBound);
    }
    if !client.redirect_uris.contains(&request.redirect_uri) {
        return Err(Refusal::RedirectUriNotRegistered);
    }
    check_audience(&request.audience, client)?;
    if request.scope.iter().any(|scope| is_offline(scope)) {
        return Err(Refusal::OfflineScope);
    }
    match (
        &request.code_challenge,
        request.code_challenge_method.as_deref(),
    ) {
        (Some(_), Some("S256")) => {}
        (Some(_), _) => return Err(Refusal::PkceMethodNotS256),
        (None, Some(_)) => return Err(Refusal::MissingField("code_challenge")),
        (None, None) => return Err(Refusal::PkceRequired),
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

/// The session meets the client's `metadata.min_aal` (checked after the session is known).
pub fn check_session(session: &Session, client: &Client) -> Result<(), Refusal> {
    if client.requires_aal2() && !session.is_aal2() {
        return Err(Refusal::Aal2Required);
    }
    Ok(())
}

/// `offline` (Hydra's older name) or `offline_access` (OIDC Core §11): a refresh token.
pub fn is_offline(scope: &str) -> bool {
    scope == "offline" || scope == "offline_access"
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
        .filter(|s| !is_offline(s))
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
/// audiences only, its first redirect URI, no offline scopes, and PKCE (`pkce_challenge`,
/// S256), also when Hera authenticates with a secret.
pub fn session_grant_request(
    grant: &SessionGrantRequest,
    client: &Client,
    pkce_challenge: String,
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
        code_challenge_method: Some("S256".to_owned()),
        code_challenge: Some(pkce_challenge),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ORIGIN: &str = "https://app.example.com";

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
        assert_eq!(check_request(&request(), &spa(), ORIGIN), Ok(()));
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
                "a confidential client without PKCE",
                BridgeRequest {
                    code_challenge: None,
                    code_challenge_method: None,
                    ..request()
                },
                Client {
                    token_endpoint_auth_method: Some("client_secret_basic".into()),
                    ..spa()
                },
                Refusal::PkceRequired,
            ),
            (
                "offline_access",
                BridgeRequest {
                    scope: vec!["openid".into(), "offline_access".into()],
                    ..request()
                },
                spa(),
                Refusal::OfflineScope,
            ),
            (
                "offline",
                BridgeRequest {
                    scope: vec!["offline".into()],
                    ..request()
                },
                spa(),
                Refusal::OfflineScope,
            ),
            (
                "another app's origin",
                BridgeRequest {
                    client_id: "other".into(),
                    redirect_uri: "https://other.example.com/cb".into(),
                    ..request()
                },
                Client {
                    id: "other".into(),
                    redirect_uris: vec!["https://other.example.com/cb".into()],
                    allowed_cors_origins: vec!["https://other.example.com".into()],
                    ..spa()
                },
                Refusal::OriginNotBound,
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
            assert_eq!(
                check_request(&request, &client, ORIGIN),
                Err(expected),
                "{name}"
            );
        }
    }

    #[test]
    fn the_origin_must_be_a_cors_origin_or_a_redirect_origin_of_the_client() {
        let by_cors = Client {
            redirect_uris: vec![
                "https://app.example.com/callback".into(),
                "com.example.app:/cb".into(),
            ],
            allowed_cors_origins: vec!["https://www.example.com/".into()],
            ..spa()
        };
        assert_eq!(
            check_request(&request(), &by_cors, "https://www.example.com"),
            Ok(()),
            "a registered CORS origin, trailing slash and all"
        );
        assert_eq!(
            check_request(&request(), &by_cors, ORIGIN),
            Ok(()),
            "the origin of a redirect URI"
        );
        for origin in [
            "https://app.example.com.evil.test",
            "http://app.example.com",
            "https://app.example.com:444",
            "null",
            "",
        ] {
            assert_eq!(
                check_request(&request(), &by_cors, origin),
                Err(Refusal::OriginNotBound),
                "{origin:?}"
            );
        }
    }

    #[test]
    fn a_client_that_requires_a_second_factor_needs_an_aal2_session() {
        let session = |aal: &str| Session {
            id: "s".into(),
            active: true,
            expires_at: None,
            authenticated_at: None,
            issued_at: None,
            devices: vec![],
            aal: Some(aal.into()),
            authentication_methods: vec![],
            identity: crate::model::Identity {
                id: "ada".into(),
                state: None,
                traits: serde_json::Value::Null,
                verifiable_addresses: vec![],
                updated_at: None,
            },
        };
        let strict = Client {
            metadata: json!({"first_party": true, "session_bridge": true, "min_aal": "aal2"}),
            ..spa()
        };
        assert_eq!(
            check_session(&session("aal1"), &strict),
            Err(Refusal::Aal2Required)
        );
        assert_eq!(check_session(&session("aal2"), &strict), Ok(()));
        assert_eq!(check_session(&session("aal1"), &spa()), Ok(()));
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
    fn the_session_grant_runs_on_the_clients_first_redirect_with_pkce() {
        let grant = SessionGrantRequest {
            grant_type: Some("session".into()),
            audience: vec!["https://api.example.com".into()],
            scope: vec!["openid".into(), "offline".into()],
        };
        let request = session_grant_request(&grant, &spa(), "challenge".into()).unwrap();
        assert_eq!(request.redirect_uri, spa().redirect_uris[0]);
        assert_eq!(request.scope, ["openid"]);
        assert_eq!(request.code_challenge.as_deref(), Some("challenge"));
        assert_eq!(request.code_challenge_method.as_deref(), Some("S256"));
        let no_redirect = Client {
            redirect_uris: vec![],
            ..spa()
        };
        assert_eq!(
            session_grant_request(&grant, &no_redirect, "challenge".into()),
            Err(Refusal::NoRedirectUri)
        );
        let foreign = SessionGrantRequest {
            audience: vec!["https://other.example.com".into()],
            ..grant
        };
        assert_eq!(
            session_grant_request(&foreign, &spa(), "challenge".into()),
            Err(Refusal::AudienceNotAllowed(
                "https://other.example.com".into()
            ))
        );
    }
}
