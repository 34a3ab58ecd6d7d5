//! RFC 8693 token exchange for native apps: a Kratos session token in, an access token out.
//!
//! Native and mobile apps that sign in through Kratos's API flows hold a session token, not a
//! cookie, and Hydra has no token-exchange grant. Hera takes the standard request
//! (`grant_type=urn:ietf:params:oauth:grant-type:token-exchange`, the session token as
//! `subject_token` of type [`KRATOS_SESSION`]) and mints the token through Hydra's own
//! authorization code flow with PKCE, so it is a normal Hydra token. These are the checks
//! before anything is minted; the answers are the error codes of RFC 8693 §2.2.2 and RFC 6749
//! §5.2.

use super::bridge::{is_offline, BridgeRequest};
use crate::model::{Client, Session};

/// `grant_type` of a token exchange (RFC 8693 §2.1).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// `subject_token_type` of a Kratos session token (a URN Hera defines; RFC 8693 §3 allows
/// types beyond its own).
pub const KRATOS_SESSION: &str = "urn:ory:params:oauth:token-type:kratos-session";
/// The one `requested_token_type` (and `issued_token_type`): an access token (RFC 8693 §3).
pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A token-exchange request as the form said it (empty values count as absent, RFC 6749 §3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExchangeRequest {
    pub grant_type: Option<String>,
    pub subject_token: Option<String>,
    pub subject_token_type: Option<String>,
    pub requested_token_type: Option<String>,
    /// An `actor_token` was sent (delegation, RFC 8693 §1.1), which Hera does not do.
    pub actor_token: bool,
    /// `resource` values (RFC 8693 §2.1, RFC 8707).
    pub resource: Vec<String>,
    /// `audience` values; the parameter may repeat, and each may hold several space-separated.
    pub audience: Vec<String>,
    pub scope: Vec<String>,
}

/// How the caller authenticated as the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented {
    /// `client_id` only: a public client.
    Nothing,
    /// A secret by HTTP Basic (`client_secret_basic`).
    Basic,
    /// A secret in the form (`client_secret_post`).
    Post,
}

/// Why an exchange is refused, with the error code the client receives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("invalid_client: {0}")]
    InvalidClient(&'static str),
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(&'static str),
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    #[error("invalid_target: {0}")]
    InvalidTarget(String),
}

impl ExchangeError {
    /// `(error, error_description)` of the answer.
    pub fn answer(&self) -> (&'static str, String) {
        match self {
            ExchangeError::InvalidRequest(why) => ("invalid_request", (*why).to_owned()),
            ExchangeError::UnsupportedGrantType => (
                "unsupported_grant_type",
                format!("Only grant_type={GRANT_TYPE} is supported here."),
            ),
            ExchangeError::InvalidClient(why) => ("invalid_client", (*why).to_owned()),
            ExchangeError::UnauthorizedClient(why) => ("unauthorized_client", (*why).to_owned()),
            ExchangeError::InvalidGrant(why) => ("invalid_grant", (*why).to_owned()),
            ExchangeError::InvalidScope(why) => ("invalid_scope", why.clone()),
            ExchangeError::InvalidTarget(why) => ("invalid_target", why.clone()),
        }
    }
}

/// What can be checked in the request alone: the grant, the token types, no delegation, no
/// resource indicators (only `audience` names targets here).
pub fn check_request(request: &ExchangeRequest) -> Result<(), ExchangeError> {
    match request.grant_type.as_deref() {
        None => return Err(ExchangeError::InvalidRequest("grant_type is required.")),
        Some(GRANT_TYPE) => {}
        Some(_) => return Err(ExchangeError::UnsupportedGrantType),
    }
    if request.subject_token.is_none() {
        return Err(ExchangeError::InvalidRequest(
            "subject_token (the Kratos session token) is required.",
        ));
    }
    match request.subject_token_type.as_deref() {
        Some(KRATOS_SESSION) => {}
        None => {
            return Err(ExchangeError::InvalidRequest(
                "subject_token_type is required: urn:ory:params:oauth:token-type:kratos-session.",
            ))
        }
        Some(_) => {
            return Err(ExchangeError::InvalidRequest(
                "The only subject_token_type is urn:ory:params:oauth:token-type:kratos-session.",
            ))
        }
    }
    if request
        .requested_token_type
        .as_deref()
        .is_some_and(|wanted| wanted != ACCESS_TOKEN)
    {
        return Err(ExchangeError::InvalidRequest(
            "The only requested_token_type is urn:ietf:params:oauth:token-type:access_token.",
        ));
    }
    if request.actor_token {
        return Err(ExchangeError::InvalidRequest(
            "Delegation (actor_token) is not supported.",
        ));
    }
    if !request.resource.is_empty() {
        return Err(ExchangeError::InvalidTarget(
            "resource is not supported; name the API with audience.".into(),
        ));
    }
    Ok(())
}

/// The caller authenticated the way the client is registered for: a public client with nothing
/// but its id, a confidential one with its secret by Basic (`client_secret_basic`, Hydra's
/// default) or in the form (`client_secret_post`). Whether the secret is right, Hydra says.
pub fn check_authentication(client: &Client, presented: Presented) -> Result<(), ExchangeError> {
    let method = client
        .token_endpoint_auth_method
        .as_deref()
        .unwrap_or("client_secret_basic");
    match (method, presented) {
        ("none", Presented::Nothing)
        | ("client_secret_basic", Presented::Basic)
        | ("client_secret_post", Presented::Post) => Ok(()),
        ("none", _) => Err(ExchangeError::InvalidClient(
            "The client is public: send its client_id and no secret.",
        )),
        ("client_secret_basic" | "client_secret_post", Presented::Nothing) => Err(
            ExchangeError::InvalidClient("The client must authenticate with its secret."),
        ),
        ("client_secret_basic", _) => Err(ExchangeError::InvalidClient(
            "The client authenticates with HTTP Basic (client_secret_basic).",
        )),
        ("client_secret_post", _) => Err(ExchangeError::InvalidClient(
            "The client authenticates with client_id and client_secret in the form \
             (client_secret_post).",
        )),
        _ => Err(ExchangeError::InvalidClient(
            "Token exchange takes client_secret_basic, client_secret_post or a public client.",
        )),
    }
}

/// The client may exchange at all: the admin made it first-party (`metadata.first_party` or
/// `skip_consent`, both admin-only) **and** enabled it with `metadata.token_exchange: true`.
/// A token minted here skips the consent page, as the session bridge does.
pub fn check_enabled(client: &Client) -> Result<(), ExchangeError> {
    if client.metadata_flag("token_exchange") && client.is_first_party() {
        Ok(())
    } else {
        Err(ExchangeError::UnauthorizedClient(
            "The client may not use token exchange (it must be first-party with \
             metadata.token_exchange: true).",
        ))
    }
}

/// The authorization request Hera runs for the exchange: the client's own scopes and audiences
/// only (each within its registered `scope` and `audience`), never offline access (the Kratos
/// session is the refresh), on its first redirect URI, with PKCE (`pkce_challenge`, S256).
pub fn authorization(
    request: &ExchangeRequest,
    client: &Client,
    pkce_challenge: String,
) -> Result<BridgeRequest, ExchangeError> {
    if let Some(offline) = request.scope.iter().find(|scope| is_offline(scope)) {
        return Err(ExchangeError::InvalidScope(format!(
            "{offline} is never granted here: no refresh token comes from a token exchange."
        )));
    }
    if let Some(scope) = request.scope.iter().find(|s| !client.scope.contains(s)) {
        return Err(ExchangeError::InvalidScope(format!(
            "The client may not request the scope {scope}."
        )));
    }
    if let Some(audience) = request
        .audience
        .iter()
        .find(|a| !client.audience.contains(a))
    {
        return Err(ExchangeError::InvalidTarget(format!(
            "The client may not request the audience {audience}."
        )));
    }
    let redirect_uri =
        client
            .redirect_uris
            .first()
            .cloned()
            .ok_or(ExchangeError::UnauthorizedClient(
                "The client has no redirect URI to mint the token with.",
            ))?;
    Ok(BridgeRequest {
        client_id: client.id.clone(),
        redirect_uri,
        scope: request.scope.clone(),
        audience: request.audience.clone(),
        state: None,
        code_challenge: Some(pkce_challenge),
        code_challenge_method: Some("S256".to_owned()),
    })
}

/// The session meets the client's `metadata.min_aal`: a token for a client that demands a
/// second factor needs a session that has one.
pub fn check_session(session: &Session, client: &Client) -> Result<(), ExchangeError> {
    if client.requires_aal2() && !session.is_aal2() {
        return Err(ExchangeError::InvalidGrant(
            "The client requires a second factor, which the session does not have.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request() -> ExchangeRequest {
        ExchangeRequest {
            grant_type: Some(GRANT_TYPE.into()),
            subject_token: Some("ory_st_x".into()),
            subject_token_type: Some(KRATOS_SESSION.into()),
            ..ExchangeRequest::default()
        }
    }

    fn native() -> Client {
        Client {
            id: "native".into(),
            redirect_uris: vec!["com.example.app:/cb".into()],
            scope: vec!["openid".into(), "email".into()],
            audience: vec!["https://api.example.com".into()],
            token_endpoint_auth_method: Some("none".into()),
            metadata: json!({"first_party": true, "token_exchange": true}),
            ..Client::default()
        }
    }

    #[test]
    fn each_malformed_request_is_refused_with_its_error() {
        let cases = [
            (
                ExchangeRequest {
                    grant_type: None,
                    ..request()
                },
                "invalid_request",
            ),
            (
                ExchangeRequest {
                    grant_type: Some("authorization_code".into()),
                    ..request()
                },
                "unsupported_grant_type",
            ),
            (
                ExchangeRequest {
                    subject_token: None,
                    ..request()
                },
                "invalid_request",
            ),
            (
                ExchangeRequest {
                    subject_token_type: None,
                    ..request()
                },
                "invalid_request",
            ),
            (
                ExchangeRequest {
                    subject_token_type: Some(
                        "urn:ietf:params:oauth:token-type:access_token".into(),
                    ),
                    ..request()
                },
                "invalid_request",
            ),
            (
                ExchangeRequest {
                    requested_token_type: Some(
                        "urn:ietf:params:oauth:token-type:refresh_token".into(),
                    ),
                    ..request()
                },
                "invalid_request",
            ),
            (
                ExchangeRequest {
                    actor_token: true,
                    ..request()
                },
                "invalid_request",
            ),
            (
                ExchangeRequest {
                    resource: vec!["https://api.example.com".into()],
                    ..request()
                },
                "invalid_target",
            ),
        ];
        for (request, error) in cases {
            assert_eq!(
                check_request(&request).map_err(|e| e.answer().0),
                Err(error),
                "{request:?}"
            );
        }
        assert_eq!(check_request(&request()), Ok(()));
        let explicit = ExchangeRequest {
            requested_token_type: Some(ACCESS_TOKEN.into()),
            ..request()
        };
        assert_eq!(check_request(&explicit), Ok(()));
    }

    #[test]
    fn the_caller_must_authenticate_the_way_the_client_is_registered_for() {
        let with_method = |method: Option<&str>| Client {
            token_endpoint_auth_method: method.map(str::to_owned),
            ..native()
        };
        let cases = [
            (Some("none"), Presented::Nothing, true),
            (Some("none"), Presented::Basic, false),
            (Some("none"), Presented::Post, false),
            (None, Presented::Basic, true),
            (Some("client_secret_basic"), Presented::Basic, true),
            (Some("client_secret_basic"), Presented::Post, false),
            (Some("client_secret_basic"), Presented::Nothing, false),
            (Some("client_secret_post"), Presented::Post, true),
            (Some("client_secret_post"), Presented::Basic, false),
            (Some("private_key_jwt"), Presented::Nothing, false),
            (Some("private_key_jwt"), Presented::Basic, false),
        ];
        for (method, presented, accepted) in cases {
            let result = check_authentication(&with_method(method), presented);
            assert_eq!(result.is_ok(), accepted, "{method:?} {presented:?}");
            if let Err(error) = result {
                assert_eq!(error.answer().0, "invalid_client");
            }
        }
    }

    #[test]
    fn only_first_party_clients_that_opted_in_may_exchange() {
        assert_eq!(check_enabled(&native()), Ok(()));
        for metadata in [
            json!({"first_party": true}),
            json!({"token_exchange": true}),
            json!({"first_party": true, "token_exchange": "true"}),
        ] {
            let client = Client {
                metadata: metadata.clone(),
                ..native()
            };
            assert_eq!(
                check_enabled(&client).map_err(|e| e.answer().0),
                Err("unauthorized_client"),
                "{metadata}"
            );
        }
        let skip_consent = Client {
            skip_consent: true,
            metadata: json!({"token_exchange": true}),
            ..native()
        };
        assert_eq!(check_enabled(&skip_consent), Ok(()));
    }

    #[test]
    fn only_the_clients_own_scopes_and_audiences_and_never_offline_access() {
        let asked = |scope: &[&str], audience: &[&str]| ExchangeRequest {
            scope: scope.iter().map(|s| (*s).to_owned()).collect(),
            audience: audience.iter().map(|a| (*a).to_owned()).collect(),
            ..request()
        };
        let code = |request: &ExchangeRequest| {
            authorization(request, &native(), "challenge".into()).map_err(|e| e.answer().0)
        };
        assert_eq!(
            code(&asked(&["openid", "admin"], &[])),
            Err("invalid_scope")
        );
        assert_eq!(code(&asked(&["offline_access"], &[])), Err("invalid_scope"));
        assert_eq!(code(&asked(&["offline"], &[])), Err("invalid_scope"));
        assert_eq!(
            code(&asked(&[], &["https://other.example.com"])),
            Err("invalid_target")
        );
        let minted = authorization(
            &asked(&["email"], &["https://api.example.com"]),
            &native(),
            "challenge".into(),
        )
        .unwrap();
        assert_eq!(minted.redirect_uri, "com.example.app:/cb");
        assert_eq!(minted.scope, ["email"]);
        assert_eq!(minted.audience, ["https://api.example.com"]);
        assert_eq!(minted.code_challenge.as_deref(), Some("challenge"));
        assert_eq!(minted.code_challenge_method.as_deref(), Some("S256"));
        let no_redirect = Client {
            redirect_uris: vec![],
            ..native()
        };
        assert_eq!(
            authorization(&request(), &no_redirect, "c".into()).map_err(|e| e.answer().0),
            Err("unauthorized_client")
        );
    }
}
