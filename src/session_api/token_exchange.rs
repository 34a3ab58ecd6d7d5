//! `POST /oauth2/token-exchange`: RFC 8693 token exchange for native and mobile apps that sign
//! in through Kratos's API flows and so hold a Kratos session token rather than a cookie.
//!
//! ```text
//! POST /oauth2/token-exchange            (application/x-www-form-urlencoded)
//!   grant_type=urn:ietf:params:oauth:grant-type:token-exchange
//!   subject_token=<Kratos session token>
//!   subject_token_type=urn:ory:params:oauth:token-type:kratos-session
//!   client_id=…  [+ client_secret, or HTTP Basic, for a confidential client]
//!   [audience=…] [scope=…] [requested_token_type=urn:ietf:params:oauth:token-type:access_token]
//! → 200 {access_token, issued_token_type, token_type: "Bearer", expires_in, scope}
//! ```
//!
//! The token is minted exactly as `/session/token` mints one: through Hydra's own authorization
//! code flow with PKCE, run server-side ([`super::bridge::authorize`]), so it is a normal Hydra
//! token that introspects and revokes as usual. There is never a refresh token: the session is
//! the refresh. Errors are RFC 8693 §2.2.2 / RFC 6749 §5.2 JSON. The session token travels in the
//! body only (a URL ends up in logs and histories), is never logged, and every exchange is
//! limited per client and per client address before anything upstream is asked.

use std::time::Instant;

use actix_web::http::header::{self, HeaderMap};
use actix_web::{post, web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;
use tracing::Span;

use super::bridge as flow;
use super::routes::failed;
use super::{ApiError, State};
use crate::domain::token_exchange::{self as rules, ExchangeError, ExchangeRequest, Presented};
use crate::metrics::Metrics;
use crate::model::{Client, Session, SessionCredentials, Whoami};
use crate::ory::hydra_public::{pkce_challenge, random_token, ClientCredentials, TokenError};
use crate::secrets::ClientSecret;
use crate::telemetry::escape_for_log;
use crate::web::rate_limit::{request_address_key, Attempt, Key};

/// Where the endpoint is.
pub const PATH: &str = "/oauth2/token-exchange";

/// Parameters a URL must never carry: they are credentials.
const SECRET_PARAMETERS: [&str; 3] = ["subject_token", "actor_token", "client_secret"];

/// The form, read once.
#[derive(Default)]
struct Form {
    request: ExchangeRequest,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The client as the caller presented it.
struct Caller {
    id: String,
    secret: Option<ClientSecret>,
    presented: Presented,
}

#[post("/oauth2/token-exchange")]
pub async fn exchange(
    http: HttpRequest,
    body: web::Bytes,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let mut client_id = None;
    let outcome = run(&http, &body, &state, &mut client_id).await;
    let metrics = http.app_data::<web::Data<Metrics>>();
    if let Err(error) = &outcome {
        let code = match error {
            ApiError::Refused { error, .. } => error.as_str(),
            ApiError::TooSoon { .. } => "too_many_requests",
            ApiError::Upstream(_) | ApiError::Unexpected(_) => "server_error",
        };
        if let Some(metrics) = metrics {
            match error {
                ApiError::TooSoon { .. } => metrics.rate_limited("token_exchange"),
                _ => metrics.decision("token_exchange", "refused", refusal_reason(code)),
            }
        }
        tracing::info!(
            target: "hera::audit",
            event = "token_exchange.refused",
            client_id = %escape_for_log(client_id.as_deref().unwrap_or_default()),
            error = code,
        );
    } else if let Some(metrics) = metrics {
        metrics.decision("token_exchange", "issued", "kratos_session");
    }
    outcome
}

/// The error code as a metric label (a fixed set, whatever Hydra answered).
fn refusal_reason(code: &str) -> &'static str {
    match code {
        "invalid_request" => "invalid_request",
        "unsupported_grant_type" => "unsupported_grant_type",
        "invalid_client" => "invalid_client",
        "unauthorized_client" => "unauthorized_client",
        "invalid_grant" => "invalid_grant",
        "invalid_scope" => "invalid_scope",
        "invalid_target" => "invalid_target",
        "server_error" => "server_error",
        _ => "other",
    }
}

async fn run(
    http: &HttpRequest,
    body: &[u8],
    state: &State,
    client_id: &mut Option<String>,
) -> Result<HttpResponse, ApiError> {
    let form = read_form(http, body)?;
    rules::check_request(&form.request)?;
    let caller = caller(http.headers(), &form)?;
    *client_id = Some(caller.id.clone());
    limit(http, state, &caller.id)?;

    let Some(client) = state.hydra.client(&caller.id).await? else {
        return Err(ExchangeError::InvalidClient("The client is unknown.").into());
    };
    Span::current().record("client_id", &client.id);
    rules::check_authentication(&client, caller.presented)?;
    let credentials = ClientCredentials {
        id: client.id.clone(),
        secret: caller.secret,
        post: caller.presented == Presented::Post,
    };
    if credentials.secret.is_some() && !state.hydra_public.authenticates(&credentials).await? {
        return Err(ExchangeError::InvalidClient("Client authentication failed.").into());
    }
    rules::check_enabled(&client)?;
    let verifier = random_token(32);
    let authorization = rules::authorization(&form.request, &client, pkce_challenge(&verifier))?;

    let session = session(state, form.request.subject_token.unwrap_or_default()).await?;
    Span::current().record("subject", &session.identity.id);
    rules::check_session(&session, &client)?;

    let authorized = flow::authorize(state, &session, &client, &authorization)
        .await
        .map_err(failed)?;
    let tokens = match state
        .hydra_public
        .exchange_code(
            &credentials,
            &authorized.code,
            &authorization.redirect_uri,
            Some(&verifier),
        )
        .await
    {
        Ok(tokens) => tokens,
        Err(TokenError::Upstream(error)) => return Err(error.into()),
        Err(TokenError::Refused { status, error }) => {
            tracing::error!(status, error, "Hydra refused the code of a token exchange");
            return Err(ApiError::refused(
                actix_web::http::StatusCode::BAD_GATEWAY,
                "bridge_failed",
                "The token could not be issued.",
            ));
        }
    };
    audit_issued(
        &session,
        &client,
        &authorization.scope,
        &authorization.audience,
    );
    // RFC 8693 §2.2.1. The ID and refresh tokens Hydra may have issued with it stay here.
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(json!({
            "access_token": tokens.access_token.expose(),
            "issued_token_type": rules::ACCESS_TOKEN,
            "token_type": "Bearer",
            "expires_in": tokens.expires_in,
            "scope": tokens.scope.unwrap_or_default(),
        })))
}

/// The form body: `application/x-www-form-urlencoded` (RFC 6749 §3.2), every parameter once
/// (§3.1) except `audience` and `resource` (RFC 8693 §2.1), and no credential in the URL.
fn read_form(http: &HttpRequest, body: &[u8]) -> Result<Form, ExchangeError> {
    let in_url = url::form_urlencoded::parse(http.query_string().as_bytes())
        .any(|(name, _)| SECRET_PARAMETERS.contains(&name.as_ref()));
    if in_url {
        return Err(ExchangeError::InvalidRequest(
            "Tokens and secrets go in the request body, never in the URL.",
        ));
    }
    let is_form = http
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(ExchangeError::InvalidRequest(
            "The body must be application/x-www-form-urlencoded.",
        ));
    }
    let mut form = Form::default();
    for (name, value) in url::form_urlencoded::parse(body) {
        // Parameters sent without a value are treated as omitted (RFC 6749 §3.1).
        if value.is_empty() {
            continue;
        }
        let value = value.into_owned();
        let request = &mut form.request;
        let slot = match name.as_ref() {
            "audience" => {
                request
                    .audience
                    .extend(value.split_whitespace().map(str::to_owned));
                continue;
            }
            "resource" => {
                request.resource.push(value);
                continue;
            }
            "actor_token" => {
                request.actor_token = true;
                continue;
            }
            "scope" => {
                if !request.scope.is_empty() {
                    return Err(once());
                }
                request.scope = value.split_whitespace().map(str::to_owned).collect();
                continue;
            }
            "grant_type" => &mut request.grant_type,
            "subject_token" => &mut request.subject_token,
            "subject_token_type" => &mut request.subject_token_type,
            "requested_token_type" => &mut request.requested_token_type,
            "client_id" => &mut form.client_id,
            "client_secret" => &mut form.client_secret,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(once());
        }
    }
    Ok(form)
}

fn once() -> ExchangeError {
    ExchangeError::InvalidRequest("Each parameter but audience and resource may be sent once.")
}

/// Who the caller says it is, and how it proves it (RFC 6749 §2.3.1): HTTP Basic, or
/// `client_id` and `client_secret` in the form, never both; a public client sends only its
/// `client_id`.
fn caller(headers: &HeaderMap, form: &Form) -> Result<Caller, ExchangeError> {
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => Some(basic_credentials(value.as_bytes()).ok_or(
            ExchangeError::InvalidClient("Only HTTP Basic client authentication is accepted."),
        )?),
    };
    match (basic, &form.client_secret) {
        (Some(_), Some(_)) => Err(ExchangeError::InvalidRequest(
            "Use one client authentication method: HTTP Basic or client_secret in the form.",
        )),
        (Some((id, secret)), None) => {
            if form
                .client_id
                .as_ref()
                .is_some_and(|form_id| *form_id != id)
            {
                return Err(ExchangeError::InvalidRequest(
                    "client_id differs from the client that authenticated.",
                ));
            }
            Ok(Caller {
                id,
                secret: Some(ClientSecret::new(secret)),
                presented: Presented::Basic,
            })
        }
        (None, secret) => {
            let id = form.client_id.clone().ok_or(ExchangeError::InvalidClient(
                "client_id is required, with the client's authentication.",
            ))?;
            Ok(Caller {
                id,
                secret: secret.clone().map(ClientSecret::new),
                presented: if secret.is_some() {
                    Presented::Post
                } else {
                    Presented::Nothing
                },
            })
        }
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, both parts form-urldecoded.
fn basic_credentials(header: &[u8]) -> Option<(String, String)> {
    let header = std::str::from_utf8(header).ok()?;
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let decode = |part: &str| -> Option<String> {
        url::form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
    };
    let (id, secret) = (decode(id)?, decode(secret)?);
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

/// Counts the exchange against its client and its client's address (an IPv6 one by its /64),
/// before anything upstream is asked.
fn limit(http: &HttpRequest, state: &State, client_id: &str) -> Result<(), ApiError> {
    let now = Instant::now();
    let address = request_address_key(http, state.trusted_proxy_hops);
    let attempts = [
        (&state.exchanges_per_address, Key::new("address", &address)),
        (
            &state.exchanges_per_client,
            Key::new("token_exchange_client", client_id),
        ),
    ];
    for (limiter, key) in attempts {
        if let Attempt::Refused { retry_after } = limiter.attempt(&[key], now) {
            tracing::warn!(
                retry_after_secs = retry_after.as_secs(),
                "too many token exchanges; refused without asking Hydra or Kratos"
            );
            return Err(ApiError::TooSoon {
                retry_after_seconds: retry_after.as_secs(),
                why: "Too many token exchanges. Retry later.",
            });
        }
    }
    Ok(())
}

/// The Kratos session the token names (sent as `X-Session-Token`); a token Kratos does not
/// take, or a session that needs a second factor first, is an `invalid_grant`.
async fn session(state: &State, token: String) -> Result<Session, ApiError> {
    let credentials = SessionCredentials {
        session_token: Some(token),
        ..SessionCredentials::default()
    };
    match state.kratos.whoami_with(&credentials).await? {
        Whoami::Active(session) => Ok(*session),
        Whoami::Unauthenticated => Err(ExchangeError::InvalidGrant(
            "The session token is invalid, expired or revoked.",
        )
        .into()),
        Whoami::Aal2Required => Err(ExchangeError::InvalidGrant(
            "The session needs a second factor before it can be exchanged.",
        )
        .into()),
    }
}

fn audit_issued(session: &Session, client: &Client, scopes: &[String], audiences: &[String]) {
    tracing::info!(
        target: "hera::audit",
        event = "token_exchange.issued",
        subject = %session.identity.id,
        client_id = %client.id,
        scopes = %scopes.join(" "),
        audiences = %audiences.join(" "),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn form(body: &str) -> Result<Form, ExchangeError> {
        let http = TestRequest::post()
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .to_http_request();
        read_form(&http, body.as_bytes())
    }

    #[test]
    fn the_form_is_read_once_per_parameter_with_audiences_repeated() {
        let read = form(
            "grant_type=g&subject_token=t&audience=a&audience=b+c&scope=openid+email&client_id=x&unknown=1&scope_hint=",
        )
        .ok()
        .unwrap();
        assert_eq!(read.request.audience, ["a", "b", "c"]);
        assert_eq!(read.request.scope, ["openid", "email"]);
        assert_eq!(read.client_id.as_deref(), Some("x"));
        assert!(form("subject_token=a&subject_token=b").is_err());
        assert!(form("scope=a&scope=b").is_err());
        let empty = form("client_secret=&subject_token=t").ok().unwrap();
        assert_eq!(empty.client_secret, None, "an empty value counts as absent");
    }

    #[test]
    fn basic_credentials_are_form_urldecoded_after_base64() {
        let header = format!("Basic {}", STANDARD.encode("my+app:s3cr%3At"));
        assert_eq!(
            basic_credentials(header.as_bytes()),
            Some(("my app".to_owned(), "s3cr:t".to_owned()))
        );
        assert_eq!(basic_credentials(b"Bearer abc"), None);
        assert_eq!(basic_credentials(b"Basic !!!"), None);
        let no_secret = format!("Basic {}", STANDARD.encode("app:"));
        assert_eq!(basic_credentials(no_secret.as_bytes()), None);
    }
}
