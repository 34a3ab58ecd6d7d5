//! The fake Hydra's OAuth2 client endpoints, kept apart from the login/consent
//! flows:
//!
//! - `POST /admin/clients`: 201 + `Location` + the client with its secret
//!   (generated when missing, never echoed for public clients); 409 with
//!   Hydra's exact body when the id is taken.
//! - `GET /admin/clients/{id}`: 200 without the secret; 404
//!   `{"error":"Unable to locate the resource","error_description":""}`.
//! - `PUT /admin/clients/{id}`: replaces the client, resetting every field
//!   the body leaves out to Hydra's default; no `client_secret` keeps the
//!   old secret, one replaces it.
//! - `DELETE /admin/clients/{id}`: 204, or 404.
//! - `GET /admin/clients`: keyset pages sorted by id, with the next page in
//!   the `Link` header (`page_size` 1..=1000, default 250).
//!
//! Stored clients are reshaped the way Hydra reshapes them (defaults filled
//! in, lifespans as Go durations, CORS origins without a trailing `/`), so
//! Hera's comparison is tested against what a real Hydra answers.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{
    hydra_error, lock, openapi, random_b64url, random_uuid, FakeHydra, Reply, Shared,
    INVALID_REQUEST_DESCRIPTION,
};

const COLLECTION: &str = "/admin/clients";

/// Hydra's `oidc.dynamic_client_registration.default_scope`.
pub const DEFAULT_SCOPE: &str = "offline_access offline openid";

/// `sqlcon.ErrUniqueViolation` through `x.ErrorEnhancer`: Hydra's 409 for a taken id.
pub const CONFLICT_ERROR: &str =
    "Unable to insert or update resource because a resource with that value exists already";

/// `sqlcon.ErrNoRows` through `x.ErrorEnhancer`: Hydra's 404 for an unknown client.
pub const NOT_FOUND_ERROR: &str = "Unable to locate the resource";

#[derive(Default)]
pub(super) struct ClientStore {
    /// By id: the client as GET serves it, and its secret.
    clients: BTreeMap<String, (Value, Option<String>)>,
    /// Clients "someone else" creates just before the next POST of their id.
    racing: HashMap<String, Value>,
    /// Writes (POST, PUT, DELETE) naming these ids answer this status.
    failing: HashMap<String, u16>,
}

/// True for the requests this module answers.
pub(super) fn serves(method: &str, path: &str) -> bool {
    match member_id(path) {
        Some(_) => matches!(method, "GET" | "PUT" | "DELETE"),
        None => path == COLLECTION && matches!(method, "GET" | "POST"),
    }
}

pub(super) fn route(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &[(String, String)],
    raw: &[u8],
) -> Reply {
    match (method, member_id(path)) {
        ("GET", None) => list(shared, query),
        ("POST", None) => create(shared, path, raw),
        ("GET", Some(id)) => get(shared, &id),
        ("PUT", Some(id)) => set(shared, path, &id, raw),
        ("DELETE", Some(id)) => delete(shared, &id),
        _ => hydra_error(405, "Method Not Allowed", ""),
    }
}

/// The decoded `{id}` of `/admin/clients/{id}`.
fn member_id(path: &str) -> Option<String> {
    let rest = path.strip_prefix(COLLECTION)?.strip_prefix('/')?;
    (!rest.is_empty() && !rest.contains('/')).then(|| percent_decode(rest))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn not_found() -> Reply {
    hydra_error(404, NOT_FOUND_ERROR, "")
}

fn invalid_metadata(hint: &str) -> Reply {
    hydra_error(
        400,
        "invalid_client_metadata",
        &format!("The value of one of the Client Metadata fields is invalid and the server has rejected this request. Note that an Authorization Server MAY choose to substitute a valid value for any requested parameter of a Client's Metadata. {hint}"),
    )
}

/// Decodes and schema-checks a client body; violations are recorded.
fn decode(
    shared: &Shared,
    method: &str,
    path: &str,
    raw: &[u8],
) -> Result<Map<String, Value>, Reply> {
    let bad = |message: String| {
        lock(&shared.violations).push(message);
        hydra_error(
            400,
            "invalid_request",
            &format!("{INVALID_REQUEST_DESCRIPTION} Unable to decode the request body."),
        )
    };
    let body: Value = serde_json::from_slice(raw)
        .map_err(|e| bad(format!("{method} {path}: request body is not JSON: {e}")))?;
    openapi::hydra()
        .check_request(method, path, &body)
        .map_err(|e| bad(format!("received body: {e}")))?;
    match body {
        Value::Object(object) => Ok(object),
        _ => Err(bad(format!(
            "{method} {path}: request body is not an object"
        ))),
    }
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap()
}

/// The client as Hydra stores and serves it after a POST or PUT of `body`:
/// every field present, defaults filled in (`client/validator.go`), no
/// secret. Errors are Hydra's 400s.
fn stored(body: &Map<String, Value>, id: &str, created_at: &str) -> Result<Value, Reply> {
    let mut client = json!({
        "client_id": id,
        "client_name": "",
        "redirect_uris": [],
        "grant_types": [],
        "response_types": [],
        "scope": "",
        "audience": [],
        "owner": "",
        "policy_uri": "",
        "allowed_cors_origins": [],
        "tos_uri": "",
        "client_uri": "",
        "logo_uri": "",
        "contacts": [],
        "client_secret_expires_at": 0,
        "subject_type": "",
        "jwks": {},
        "token_endpoint_auth_method": "",
        "userinfo_signed_response_alg": "",
        "created_at": created_at,
        "updated_at": now(),
        "metadata": {},
        "skip_consent": false,
        "skip_logout_consent": null,
    });
    for (key, value) in body {
        let ignored = matches!(
            key.as_str(),
            "client_id"
                | "client_secret"
                | "client_secret_expires_at"
                | "created_at"
                | "updated_at"
                | "registration_access_token"
                | "registration_client_uri"
        );
        if !ignored && !value.is_null() {
            client[key] = value.clone();
        }
    }
    for lifespan in LIFESPANS {
        client[lifespan] = match body.get(lifespan).and_then(Value::as_str) {
            None => Value::Null,
            Some(text) => match go_duration(text) {
                Some(formatted) => Value::String(formatted),
                None => {
                    return Err(invalid_metadata(&format!(
                        "Field {lifespan} is not a valid duration."
                    )))
                }
            },
        };
    }
    let fill = |client: &mut Value, key: &str, default: &str| {
        if client[key].as_str().is_none_or(str::is_empty) {
            client[key] = json!(default);
        }
    };
    fill(
        &mut client,
        "token_endpoint_auth_method",
        "client_secret_basic",
    );
    fill(&mut client, "scope", DEFAULT_SCOPE);
    fill(&mut client, "subject_type", "public");
    fill(&mut client, "userinfo_signed_response_alg", "none");
    if let Some(origins) = client["allowed_cors_origins"].as_array_mut() {
        for origin in origins {
            if let Some(text) = origin.as_str() {
                *origin = json!(text.trim_end_matches('/'));
            }
        }
    }
    for uri in ["client_uri", "logo_uri", "policy_uri", "tos_uri"] {
        let text = client[uri].as_str().unwrap_or_default();
        if !(text.is_empty() || text.starts_with("https://") || text.starts_with("http://")) {
            return Err(invalid_metadata(&format!(
                "Field {uri} must be a valid URI."
            )));
        }
    }
    let redirects = client["redirect_uris"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if redirects
        .iter()
        .any(|r| r.as_str().unwrap_or_default().contains('#'))
    {
        return Err(hydra_error(
            400,
            "invalid_redirect_uri",
            "The value of one or more redirect_uris is invalid. Redirect URIs must not contain fragments (#).",
        ));
    }
    // A post-logout redirect URI needs a redirect URI with its scheme, host and port.
    let origin = |uri: &str| {
        url::Url::parse(uri).ok().map(|u| {
            (
                u.scheme().to_owned(),
                u.host_str().map(str::to_owned),
                u.port(),
            )
        })
    };
    let origins: Vec<_> = redirects
        .iter()
        .filter_map(|r| origin(r.as_str().unwrap_or_default()))
        .collect();
    let logouts = client["post_logout_redirect_uris"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for logout in logouts {
        let text = logout.as_str().unwrap_or_default();
        match origin(text) {
            None => {
                return Err(invalid_metadata(&format!(
                    "Unable to parse post_logout_redirect_uri: {text}"
                )))
            }
            Some(own) if !origins.contains(&own) => {
                return Err(invalid_metadata(&format!(
                    "post_logout_redirect_uri {text:?} must match the domain, port, scheme of at least one of the registered redirect URIs but did not"
                )))
            }
            Some(_) => {}
        }
    }
    Ok(client)
}

const LIFESPANS: [&str; 13] = [
    "authorization_code_grant_access_token_lifespan",
    "authorization_code_grant_id_token_lifespan",
    "authorization_code_grant_refresh_token_lifespan",
    "client_credentials_grant_access_token_lifespan",
    "device_authorization_grant_access_token_lifespan",
    "device_authorization_grant_id_token_lifespan",
    "device_authorization_grant_refresh_token_lifespan",
    "implicit_grant_access_token_lifespan",
    "implicit_grant_id_token_lifespan",
    "jwt_bearer_grant_access_token_lifespan",
    "refresh_token_grant_id_token_lifespan",
    "refresh_token_grant_access_token_lifespan",
    "refresh_token_grant_refresh_token_lifespan",
];

/// A duration in whole units (`"90m"`) as Go's `time.Duration.String()`
/// writes it back (`"1h30m0s"`); `None` if it does not parse.
fn go_duration(text: &str) -> Option<String> {
    let mut nanos: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let value: u128 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit: u128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        nanos += value * unit;
        rest = &rest[unit_len..];
    }
    const SECOND: u128 = 1_000_000_000;
    Some(if nanos == 0 {
        "0s".to_owned()
    } else if nanos < SECOND {
        match nanos {
            n if n.is_multiple_of(1_000_000) => format!("{}ms", n / 1_000_000),
            n if n.is_multiple_of(1_000) => format!("{}µs", n / 1_000),
            n => format!("{n}ns"),
        }
    } else {
        let hours = nanos / (3600 * SECOND);
        let minutes = nanos / (60 * SECOND) % 60;
        let seconds = nanos % (60 * SECOND);
        let seconds = if seconds.is_multiple_of(SECOND) {
            format!("{}s", seconds / SECOND)
        } else {
            let fraction = format!("{:09}", seconds % SECOND);
            format!("{}.{}s", seconds / SECOND, fraction.trim_end_matches('0'))
        };
        match (hours, minutes) {
            (0, 0) => seconds,
            (0, m) => format!("{m}m{seconds}"),
            (h, m) => format!("{h}h{m}m{seconds}"),
        }
    })
}

/// The client as Hydra answers the POST or PUT that wrote it: the lists the body left out are
/// still `null` there (they read back as `[]`).
fn as_written(client: &Value, body: &Map<String, Value>) -> Value {
    let mut served = client.clone();
    for list in ["contacts", "response_types"] {
        if body.get(list).is_none_or(Value::is_null) {
            served[list] = Value::Null;
        }
    }
    served
}

fn is_public(client: &Value) -> bool {
    client["token_endpoint_auth_method"] == "none"
}

/// Hydra checks `client_secret` length before storing (`client/validator.go`).
fn check_secret(body: &Map<String, Value>) -> Result<Option<String>, Reply> {
    match body.get("client_secret").and_then(Value::as_str) {
        None | Some("") => Ok(None),
        Some(secret) if secret.chars().count() < 6 => Err(invalid_metadata(
            "Field client_secret must contain a secret that is at least 6 characters long.",
        )),
        Some(secret) => Ok(Some(secret.to_owned())),
    }
}

fn failing(shared: &Shared, id: &str) -> Option<Reply> {
    let status = *lock(&shared.state).clients.failing.get(id)?;
    Some(super::hydra_error_for_status(status))
}

fn create(shared: &Shared, path: &str, raw: &[u8]) -> Reply {
    let body = match decode(shared, "POST", path, raw) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let id = match body.get("client_id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => random_uuid(),
    };
    if let Some(reply) = failing(shared, &id) {
        return reply;
    }
    let secret = match check_secret(&body) {
        Ok(secret) => secret,
        Err(reply) => return reply,
    };
    let client = match stored(&body, &id, &now()) {
        Ok(client) => client,
        Err(reply) => return reply,
    };
    let mut state = lock(&shared.state);
    let store = &mut state.clients;
    if let Some(earlier) = store.racing.remove(&id) {
        store
            .clients
            .insert(id.clone(), stored_with_secret(&earlier, &id));
    }
    if store.clients.contains_key(&id) {
        return hydra_error(409, CONFLICT_ERROR, "");
    }
    // Hydra generates a secret when none is given (26 characters), and never
    // returns one for public clients.
    let secret = secret.unwrap_or_else(|| random_b64url(20).chars().take(26).collect());
    let mut served = as_written(&client, &body);
    if !is_public(&client) {
        served["client_secret"] = json!(secret);
    }
    // Only the answer to the POST carries the dynamic-registration credentials.
    served["registration_access_token"] = json!(format!("ory_at_{}", random_b64url(32)));
    served["registration_client_uri"] = json!(format!(
        "{}/oauth2/register/{}",
        state.public_base(),
        encode_segment(&id)
    ));
    let store = &mut state.clients;
    store.clients.insert(id.clone(), (client, Some(secret)));
    let mut reply = Reply::json(201, served);
    reply
        .headers
        .push(("location", format!("{COLLECTION}/{}", encode_segment(&id))));
    reply
}

/// A client stored from `body` directly, as if an earlier POST had created it.
fn stored_with_secret(body: &Value, id: &str) -> (Value, Option<String>) {
    let object = body.as_object().cloned().unwrap_or_default();
    let secret = object
        .get("client_secret")
        .and_then(Value::as_str)
        .map(str::to_owned);
    (stored(&object, id, &now()).map_err(|_| ()).unwrap(), secret)
}

fn encode_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn get(shared: &Shared, id: &str) -> Reply {
    match lock(&shared.state).clients.clients.get(id) {
        Some((client, _)) => Reply::json(200, client.clone()),
        None => not_found(),
    }
}

fn set(shared: &Shared, path: &str, id: &str, raw: &[u8]) -> Reply {
    let body = match decode(shared, "PUT", path, raw) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    if let Some(reply) = failing(shared, id) {
        return reply;
    }
    let secret = match check_secret(&body) {
        Ok(secret) => secret,
        Err(reply) => return reply,
    };
    let mut state = lock(&shared.state);
    let Some((old, old_secret)) = state.clients.clients.get(id).cloned() else {
        return not_found();
    };
    let created_at = old["created_at"].as_str().unwrap_or_default().to_owned();
    let client = match stored(&body, id, &created_at) {
        Ok(client) => client,
        Err(reply) => return reply,
    };
    // A PUT without a secret keeps the old one; a new one replaces it and is
    // echoed once.
    let mut served = as_written(&client, &body);
    if let Some(secret) = &secret {
        served["client_secret"] = json!(secret);
    }
    state
        .clients
        .clients
        .insert(id.to_owned(), (client, secret.or(old_secret)));
    Reply::json(200, served)
}

fn delete(shared: &Shared, id: &str) -> Reply {
    if let Some(reply) = failing(shared, id) {
        return reply;
    }
    match lock(&shared.state).clients.clients.remove(id) {
        Some(_) => Reply::json(204, Value::Null),
        None => not_found(),
    }
}

/// The opaque page token naming the page after `last_id`.
fn token_after(last_id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("after:{last_id}"))
}

fn id_after(token: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("after:")
        .map(str::to_owned)
}

/// The token of the first page (Hydra's encrypted "default token").
const FIRST_PAGE_TOKEN: &str = "Zmlyc3QtcGFnZQ";

fn list(shared: &Shared, query: &[(String, String)]) -> Reply {
    let param = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let size: usize = match param("page_size").map(str::parse::<usize>) {
        None => 250,
        Some(Ok(size)) if (1..=1000).contains(&size) => size,
        Some(_) => {
            return hydra_error(
                400,
                "invalid_request",
                &format!("{INVALID_REQUEST_DESCRIPTION} Unable to parse pagination parameters: invalid page size"),
            )
        }
    };
    let after = match param("page_token").filter(|t| !t.is_empty() && *t != FIRST_PAGE_TOKEN) {
        None => None,
        Some(token) => match id_after(token) {
            Some(id) => Some(id),
            None => {
                return hydra_error(
                    400,
                    "invalid_request",
                    &format!("{INVALID_REQUEST_DESCRIPTION} Unable to parse pagination parameters: invalid page token"),
                )
            }
        },
    };
    let state = lock(&shared.state);
    let matching: Vec<&Value> = state
        .clients
        .clients
        .iter()
        .filter(|(id, _)| after.as_ref().is_none_or(|after| *id > after))
        .map(|(_, (client, _))| client)
        .filter(|client| param("client_name").is_none_or(|name| client["client_name"] == name))
        .filter(|client| param("owner").is_none_or(|owner| client["owner"] == owner))
        .collect();
    let page: Vec<Value> = matching.iter().take(size).map(|c| (*c).clone()).collect();
    let link = |token: &str| format!("{COLLECTION}?page_size={size}&page_token={token}");
    let mut header = format!("<{}>; rel=\"first\"", link(FIRST_PAGE_TOKEN));
    if matching.len() > size {
        let last = page
            .last()
            .and_then(|c| c["client_id"].as_str())
            .unwrap_or_default();
        header.push_str(&format!(",<{}>; rel=\"next\"", link(&token_after(last))));
    }
    let mut reply = Reply::json(200, Value::Array(page));
    reply.headers.push(("link", header));
    reply
}

/// Test controls and inspection of the fake's clients.
impl FakeHydra {
    /// Stores a client as if it had been created with this body (its
    /// `client_secret`, if any, is kept for `oauth2_client_secret`).
    pub fn add_oauth2_client(&self, body: Value) {
        let id = body["client_id"].as_str().expect("a client_id").to_owned();
        let stored = stored_with_secret(&body, &id);
        self.state().clients.clients.insert(id, stored);
    }

    /// The client as `GET /admin/clients/{id}` serves it.
    pub fn oauth2_client(&self, id: &str) -> Option<Value> {
        self.state().clients.clients.get(id).map(|(c, _)| c.clone())
    }

    /// The secret Hydra holds for the client.
    pub fn oauth2_client_secret(&self, id: &str) -> Option<String> {
        self.state()
            .clients
            .clients
            .get(id)
            .and_then(|(_, s)| s.clone())
    }

    /// Every stored client id, sorted.
    pub fn oauth2_client_ids(&self) -> Vec<String> {
        self.state().clients.clients.keys().cloned().collect()
    }

    /// Makes "someone else" create `body` just before the next POST for its
    /// id arrives, so that POST gets a 409 (a race between plan and apply).
    pub fn create_client_before_next_post(&self, body: Value) {
        let id = body["client_id"].as_str().expect("a client_id").to_owned();
        self.state().clients.racing.insert(id, body);
    }

    /// From now on POST, PUT and DELETE naming `id` answer `status`.
    pub fn fail_client_writes(&self, id: &str, status: u16) {
        self.state().clients.failing.insert(id.to_owned(), status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_back_the_way_go_writes_them() {
        let cases = [
            ("1h", "1h0m0s"),
            ("90m", "1h30m0s"),
            ("30m", "30m0s"),
            ("45s", "45s"),
            ("1500ms", "1.5s"),
            ("500ms", "500ms"),
            ("0s", "0s"),
            ("720h", "720h0m0s"),
        ];
        for (written, served) in cases {
            assert_eq!(go_duration(written).as_deref(), Some(served), "{written}");
        }
        assert_eq!(go_duration("1d"), None);
    }

    #[test]
    fn client_ids_in_paths_are_percent_decoded() {
        assert_eq!(
            member_id("/admin/clients/a%2Fb%20c").as_deref(),
            Some("a/b c")
        );
        assert_eq!(member_id("/admin/clients/x/lifespans"), None);
        assert_eq!(member_id("/admin/clients"), None);
    }
}
