//! A small validator for the subset of OpenAPI 3.0 that the Ory Hydra and
//! Kratos specs (`tests/contract/*-api.json`) use for the endpoints our fakes
//! serve. The fakes check every body they receive and every body they serve
//! against it, so a fake cannot drift away from what the real servers
//! document.
//!
//! Supported schema keywords: `$ref` (local `#/components/schemas/...`),
//! `type`, `nullable`, `properties`, `required`, `items`, `enum`,
//! `additionalProperties` (bool or schema), `format` (`date-time` must be
//! RFC 3339, `uuid`/`uuid4` must have the 8-4-4-4-12 hex shape, everything
//! else such as `int64` is ignored), `oneOf`, `allOf`, `anyOf`, `minimum`
//! and `maximum`.
//!
//! Deliberately ignored: `pattern` (no regex engine among our
//! dependencies; the only patterns in these specs are on Hydra's
//! `NullDuration` lifespans, which the fakes send as `null`), and purely
//! descriptive keywords such as `description`, `example`, `title`,
//! `default`, `x-*`.
//!
//! Errors carry a JSON pointer to the failing spot, for example
//! `/client/skip_consent: expected boolean, got string`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Which spec a validator was loaded from; spec gaps are keyed by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Service {
    Hydra,
    Kratos,
    /// A hand-written spec (unit tests); no gaps apply.
    Custom,
}

/// Places where the published v26.2.0 spec is stricter than what the real
/// servers emit (each entry says what they send). This is the ONLY
/// allow-list: every status code the fakes answer with is documented in the
/// spec for its operation (Hydra: 200/410 + `default` errorOAuth2 on the
/// login/consent endpoints, 200/503 on `/health/ready`; Kratos: 200/401/403 +
/// `default` errorGeneric on whoami, 200/404 + `default` on
/// `/admin/identities/{id}`, 200/503 on `/health/ready`; Hydra clients:
/// 201/409 on POST, 200/404 on GET and PUT, 204/404 on DELETE, all under
/// documented codes or `default`), so no status-level exception is needed.
/// Only these value-level gaps are (`FlatErrors` swaps the error schema of one
/// operation, not its status codes).
enum Gap {
    /// A `null` value is accepted wherever the named schema is referenced.
    NullableSchema {
        service: Service,
        schema: &'static str,
    },
    /// A `null` value is accepted for this property of the named schema.
    NullableProperty {
        service: Service,
        schema: &'static str,
        property: &'static str,
    },
    /// The property's `enum` is not enforced (its other keywords are).
    OpenEnumProperty {
        service: Service,
        schema: &'static str,
        property: &'static str,
    },
    /// Any JSON object is accepted for this property of the named schema.
    FreeFormProperty {
        service: Service,
        schema: &'static str,
        property: &'static str,
    },
    /// Error answers (4xx/5xx) of this operation are flat `errorOAuth2` bodies, whatever
    /// schema the spec names for them.
    FlatErrors {
        service: Service,
        method: &'static str,
        template: &'static str,
    },
}

const GAPS: &[Gap] = &[
    // `contacts` is a string list or null: Hydra's Go type is a nil-able
    // string slice, and the answer to `POST /admin/clients` for a client
    // created without contacts has `"contacts": null` (reading it back gives
    // `[]`), but the spec types it as a non-nullable array.
    Gap::NullableProperty {
        service: Service::Hydra,
        schema: "oAuth2Client",
        property: "contacts",
    },
    // `skip_logout_consent` is a boolean or null (a NullBool in Go, `null`
    // unless set); the spec types it as a non-nullable boolean.
    Gap::NullableProperty {
        service: Service::Hydra,
        schema: "oAuth2Client",
        property: "skip_logout_consent",
    },
    // The per-grant lifespans (`*_grant_*_lifespan`) are x.NullDuration and
    // are `null` unless set with `PUT /admin/clients/{id}/lifespans`, as every
    // client Hydra serves shows. The spec's `NullDuration` lacks `nullable`.
    Gap::NullableSchema {
        service: Service::Hydra,
        schema: "NullDuration",
    },
    // `response_types` is null in the answer to `POST /admin/clients` for a
    // client created without it (a nil Go slice; it reads back as `[]`).
    Gap::NullableProperty {
        service: Service::Hydra,
        schema: "oAuth2Client",
        property: "response_types",
    },
    // `nullTime` is a nullable timestamp (sqlxx.NullTime): an RP-initiated
    // logout request is served with `expires_at` and `requested_at` null. The
    // spec's `nullTime` lacks `nullable`.
    Gap::NullableSchema {
        service: Service::Hydra,
        schema: "nullTime",
    },
    // A device authorization has no OpenID Connect request: its login and
    // consent requests are served with `oidc_context: null`.
    Gap::NullableProperty {
        service: Service::Hydra,
        schema: "oAuth2LoginRequest",
        property: "oidc_context",
    },
    Gap::NullableProperty {
        service: Service::Hydra,
        schema: "oAuth2ConsentRequest",
        property: "oidc_context",
    },
    // The logout request's `client` is null for an OP-initiated logout (no
    // `id_token_hint`); the spec references `oAuth2Client` without
    // `nullable`.
    Gap::NullableProperty {
        service: Service::Hydra,
        schema: "oAuth2LogoutRequest",
        property: "client",
    },
    // `authentication_methods[].method` is an open set in Kratos (password,
    // oidc, totp, lookup_secret, webauthn, code, passkey, profile, saml,
    // deviceauthn, identifier_first, ...); the v26.2.0 enum lacks
    // `deviceauthn` and `identifier_first`. It must still be a string.
    Gap::OpenEnumProperty {
        service: Service::Kratos,
        schema: "sessionAuthenticationMethod",
        property: "method",
    },
    // A login flow on its identifier-first step 2 says `"active": "identifier_first"`
    // (recorded), a method the v26.2.0 enum of `loginFlow.active` lacks.
    Gap::OpenEnumProperty {
        service: Service::Kratos,
        schema: "loginFlow",
        property: "active",
    },
    // The whoami 403 (`session_aal2_required`) carries
    // `error.details.redirect_browser_to`, but Kratos' spec declares
    // `genericError.details` as an object with `additionalProperties: false`
    // and no properties, i.e. it only allows `{}`.
    Gap::FreeFormProperty {
        service: Service::Kratos,
        schema: "genericError",
        property: "details",
    },
    // Hydra writes every admin error through `x.ErrorEnhancer` as a flat
    // `{error, error_description}`, so `DELETE /admin/clients/{id}` on an unknown id
    // answers 404 `{"error":"Unable to locate the resource",
    // "error_description":""}` like GET and PUT do, but the spec documents
    // that operation's errors as `genericError` (which requires `message`).
    Gap::FlatErrors {
        service: Service::Hydra,
        method: "DELETE",
        template: "/admin/clients/{id}",
    },
];

pub struct OpenApi {
    spec: Value,
    service: Service,
}

static HYDRA: OnceLock<OpenApi> = OnceLock::new();
static KRATOS: OnceLock<OpenApi> = OnceLock::new();

/// The in-repository copies of Ory's specs, stripped of prose by `examples/strip_openapi.rs`
/// (`tests/contract/README.md` says how to regenerate them).
const HYDRA_SPEC: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/contract/hydra-api.json"
));
const KRATOS_SPEC: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/contract/kratos-api.json"
));

fn load(name: &str, text: &str, service: Service) -> OpenApi {
    let spec = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("the OpenAPI spec {name} is not JSON: {e}"));
    OpenApi { spec, service }
}

/// Ory Hydra's v26.2.0 spec (`tests/contract/hydra-api.json`).
pub fn hydra() -> &'static OpenApi {
    HYDRA.get_or_init(|| load("hydra-api.json", HYDRA_SPEC, Service::Hydra))
}

/// Ory Kratos's v26.2.0 spec (`tests/contract/kratos-api.json`).
pub fn kratos() -> &'static OpenApi {
    KRATOS.get_or_init(|| load("kratos-api.json", KRATOS_SPEC, Service::Kratos))
}

impl OpenApi {
    /// A validator over a hand-written spec (used by the unit tests below).
    pub fn from_value(spec: Value) -> OpenApi {
        OpenApi {
            spec,
            service: Service::Custom,
        }
    }

    /// Validates `value` against `#/components/schemas/<schema_name>`.
    pub fn check_schema(&self, schema_name: &str, value: &Value) -> Result<(), String> {
        let schema = json!({ "$ref": format!("#/components/schemas/{schema_name}") });
        finish(self.validate(&schema, value, "", None))
    }

    /// Validates a JSON response body for the concrete request `method path`
    /// (for example `GET /admin/identities/abc`) answered with `status`.
    /// Errors if the operation, the status (or `default`), or a JSON schema
    /// for it is not documented.
    pub fn check_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), String> {
        let (template, operation) = self.operation(method, path)?;
        if status >= 400 && self.gap_flat_errors(method, &template) {
            return self
                .check_schema("errorOAuth2", body)
                .map_err(|e| format!("{method} {template} {status}: {e}"));
        }
        let responses = operation
            .get("responses")
            .ok_or_else(|| format!("{method} {template}: the spec lists no responses"))?;
        let response = responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))
            .ok_or_else(|| {
                format!("{method} {template}: status {status} is not documented (and there is no default response)")
            })?;
        let response = self.resolve_component(response, "responses")?;
        let schema = response
            .pointer("/content/application~1json/schema")
            .ok_or_else(|| {
                format!("{method} {template}: the documented {status} response has no application/json schema")
            })?;
        finish(self.validate(schema, body, "", None))
            .map_err(|e| format!("{method} {template} {status}: {e}"))
    }

    /// Checks that `method path` documents `status` as an answer without a body (such as Hydra's
    /// `204 emptyResponse`). Only an explicitly listed status counts: `default` responses carry
    /// an error body.
    pub fn check_empty_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
    ) -> Result<(), String> {
        let (template, operation) = self.operation(method, path)?;
        let response = operation
            .get("responses")
            .and_then(|responses| responses.get(status.to_string()))
            .ok_or_else(|| format!("{method} {template}: status {status} is not documented"))?;
        let response = self.resolve_component(response, "responses")?;
        if response.get("content").is_some() {
            return Err(format!(
                "{method} {template}: the documented {status} response has a body, but none was sent"
            ));
        }
        Ok(())
    }

    /// Validates a JSON request body for the concrete request `method path`.
    pub fn check_request(&self, method: &str, path: &str, body: &Value) -> Result<(), String> {
        let (template, operation) = self.operation(method, path)?;
        let request_body = operation
            .get("requestBody")
            .ok_or_else(|| format!("{method} {template}: the spec documents no request body"))?;
        let request_body = self.resolve_component(request_body, "requestBodies")?;
        let schema = request_body
            .pointer("/content/application~1json/schema")
            .ok_or_else(|| {
                format!("{method} {template}: the request body has no application/json schema")
            })?;
        finish(self.validate(schema, body, "", None))
            .map_err(|e| format!("{method} {template} request body: {e}"))
    }

    /// Finds the operation for a concrete path. Literal segments beat
    /// `{templated}` ones when several templates match.
    fn operation(&self, method: &str, path: &str) -> Result<(String, &Value), String> {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let wanted: Vec<&str> = path.split('/').collect();
        let paths = self
            .spec
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("the spec has no paths")?;
        let mut best: Option<(usize, &String, &Value)> = None;
        for (template, item) in paths {
            let segments: Vec<&str> = template.split('/').collect();
            if segments.len() != wanted.len() {
                continue;
            }
            let mut literal = 0;
            let matches = segments.iter().zip(&wanted).all(|(t, w)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !w.is_empty()
                } else if t == w {
                    literal += 1;
                    true
                } else {
                    false
                }
            });
            if matches && best.is_none_or(|(score, _, _)| literal > score) {
                best = Some((literal, template, item));
            }
        }
        let (_, template, item) =
            best.ok_or_else(|| format!("{method} {path}: no such path in the spec"))?;
        let operation = item
            .get(method.to_ascii_lowercase())
            .ok_or_else(|| format!("{method} {template}: no such operation in the spec"))?;
        Ok((template.clone(), operation))
    }

    /// Follows a `$ref` into `#/components/<kind>/...` if there is one.
    fn resolve_component<'a>(&'a self, value: &'a Value, kind: &str) -> Result<&'a Value, String> {
        match value.get("$ref").and_then(Value::as_str) {
            None => Ok(value),
            Some(reference) => {
                let prefix = format!("#/components/{kind}/");
                let name = reference
                    .strip_prefix(&prefix)
                    .ok_or_else(|| format!("unsupported $ref {reference}"))?;
                self.spec
                    .get("components")
                    .and_then(|c| c.get(kind))
                    .and_then(|c| c.get(name))
                    .ok_or_else(|| format!("dangling $ref {reference}"))
            }
        }
    }

    fn gap_nullable_schema(&self, schema: &str) -> bool {
        GAPS.iter().any(|g| {
            matches!(g, Gap::NullableSchema { service, schema: s }
                if *service == self.service && *s == schema)
        })
    }

    fn gap_nullable_property(&self, schema: Option<&str>, property: &str) -> bool {
        let Some(schema) = schema else { return false };
        GAPS.iter().any(|g| {
            matches!(g, Gap::NullableProperty { service, schema: s, property: p }
                if *service == self.service && *s == schema && *p == property)
        })
    }

    fn gap_open_enum_property(&self, schema: Option<&str>, property: &str) -> bool {
        let Some(schema) = schema else { return false };
        GAPS.iter().any(|g| {
            matches!(g, Gap::OpenEnumProperty { service, schema: s, property: p }
                if *service == self.service && *s == schema && *p == property)
        })
    }

    fn gap_free_form_property(&self, schema: Option<&str>, property: &str) -> bool {
        let Some(schema) = schema else { return false };
        GAPS.iter().any(|g| {
            matches!(g, Gap::FreeFormProperty { service, schema: s, property: p }
                if *service == self.service && *s == schema && *p == property)
        })
    }

    fn gap_flat_errors(&self, method: &str, template: &str) -> bool {
        GAPS.iter().any(|g| {
            matches!(g, Gap::FlatErrors { service, method: m, template: t }
                if *service == self.service && *m == method && *t == template)
        })
    }

    /// Returns every violation found. `name` is the component schema name
    /// when `schema` was reached through a `$ref` (used for gap look-ups).
    fn validate(
        &self,
        schema: &Value,
        value: &Value,
        ptr: &str,
        name: Option<&str>,
    ) -> Vec<String> {
        let here = if ptr.is_empty() { "/" } else { ptr };
        let Some(schema_obj) = schema.as_object() else {
            // `true`/`false` schemas are not used by OpenAPI 3.0; treat a
            // non-object schema as "anything goes" except literal `false`.
            return if schema == &Value::Bool(false) {
                vec![format!("{here}: no value is allowed here")]
            } else {
                Vec::new()
            };
        };

        if let Some(reference) = schema_obj.get("$ref").and_then(Value::as_str) {
            // OpenAPI 3.0: siblings of `$ref` are ignored.
            let Some(target_name) = reference.strip_prefix("#/components/schemas/") else {
                return vec![format!("{here}: unsupported $ref {reference}")];
            };
            let Some(target) = self
                .spec
                .pointer("/components/schemas")
                .and_then(|s| s.get(target_name))
            else {
                return vec![format!("{here}: dangling $ref {reference}")];
            };
            if value.is_null() && self.gap_nullable_schema(target_name) {
                return Vec::new();
            }
            return self.validate(target, value, ptr, Some(target_name));
        }

        let mut errors = Vec::new();

        if value.is_null() {
            if schema_obj.get("nullable") == Some(&Value::Bool(true)) {
                return errors;
            }
            if let Some(expected) = schema_obj.get("type").and_then(Value::as_str) {
                errors.push(format!(
                    "{here}: expected {expected}, got null (the schema is not nullable)"
                ));
                return errors;
            }
        }

        if let Some(expected) = schema_obj.get("type").and_then(Value::as_str) {
            let ok = match expected {
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "object" => value.is_object(),
                "array" => value.is_array(),
                other => {
                    errors.push(format!("{here}: unsupported schema type {other}"));
                    true
                }
            };
            if !ok {
                errors.push(format!("{here}: expected {expected}, got {}", kind(value)));
                // Further keywords would only produce noise.
                return errors;
            }
        }

        if let Some(options) = schema_obj.get("enum").and_then(Value::as_array) {
            if !options.contains(value) {
                errors.push(format!(
                    "{here}: {value} is not one of the allowed values {}",
                    Value::Array(options.clone())
                ));
            }
        }

        if let (Some(format), Some(text)) = (
            schema_obj.get("format").and_then(Value::as_str),
            value.as_str(),
        ) {
            match format {
                "date-time" if OffsetDateTime::parse(text, &Rfc3339).is_err() => {
                    errors.push(format!("{here}: {text:?} is not an RFC 3339 date-time"));
                }
                "uuid" | "uuid4" if !is_uuid(text) => {
                    errors.push(format!("{here}: {text:?} is not a UUID"));
                }
                // int64, int32, email, uri, ... are not checked.
                _ => {}
            }
        }

        if let Some(number) = value.as_f64() {
            if let Some(min) = schema_obj.get("minimum").and_then(Value::as_f64) {
                if number < min {
                    errors.push(format!("{here}: {number} is below the minimum {min}"));
                }
            }
            if let Some(max) = schema_obj.get("maximum").and_then(Value::as_f64) {
                if number > max {
                    errors.push(format!("{here}: {number} is above the maximum {max}"));
                }
            }
        }

        if let Some(object) = value.as_object() {
            let properties = schema_obj.get("properties").and_then(Value::as_object);
            if let Some(required) = schema_obj.get("required").and_then(Value::as_array) {
                for field in required.iter().filter_map(Value::as_str) {
                    if !object.contains_key(field) {
                        errors.push(format!("{here}: missing required property `{field}`"));
                    }
                }
            }
            for (key, child) in object {
                let child_ptr = format!("{ptr}/{}", escape_pointer(key));
                match properties.and_then(|p| p.get(key)) {
                    Some(child_schema) => {
                        if child.is_null() && self.gap_nullable_property(name, key) {
                            continue;
                        }
                        if child.is_object() && self.gap_free_form_property(name, key) {
                            continue;
                        }
                        if self.gap_open_enum_property(name, key) {
                            let mut open = child_schema.clone();
                            if let Some(open) = open.as_object_mut() {
                                open.remove("enum");
                            }
                            errors.extend(self.validate(&open, child, &child_ptr, None));
                            continue;
                        }
                        errors.extend(self.validate(child_schema, child, &child_ptr, None));
                    }
                    None => match schema_obj.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            errors.push(format!("{child_ptr}: property `{key}` is not allowed"));
                        }
                        Some(extra @ Value::Object(_)) => {
                            errors.extend(self.validate(extra, child, &child_ptr, None));
                        }
                        _ => {}
                    },
                }
            }
        }

        if let (Some(items), Some(array)) = (schema_obj.get("items"), value.as_array()) {
            for (index, item) in array.iter().enumerate() {
                errors.extend(self.validate(items, item, &format!("{ptr}/{index}"), None));
            }
        }

        if let Some(all) = schema_obj.get("allOf").and_then(Value::as_array) {
            for sub in all {
                errors.extend(self.validate(sub, value, ptr, None));
            }
        }

        if let Some(any) = schema_obj.get("anyOf").and_then(Value::as_array) {
            let results: Vec<Vec<String>> = any
                .iter()
                .map(|sub| self.validate(sub, value, ptr, None))
                .collect();
            if !results.iter().any(Vec::is_empty) {
                errors.push(format!(
                    "{here}: matches none of the anyOf schemas ({})",
                    results
                        .iter()
                        .map(|r| r.join("; "))
                        .collect::<Vec<_>>()
                        .join(" | ")
                ));
            }
        }

        if let Some(one) = schema_obj.get("oneOf").and_then(Value::as_array) {
            let results: Vec<Vec<String>> = one
                .iter()
                .map(|sub| self.validate(sub, value, ptr, None))
                .collect();
            let matching = results.iter().filter(|r| r.is_empty()).count();
            if matching == 0 {
                errors.push(format!(
                    "{here}: matches none of the oneOf schemas ({})",
                    results
                        .iter()
                        .map(|r| r.join("; "))
                        .collect::<Vec<_>>()
                        .join(" | ")
                ));
            } else if matching > 1 {
                errors.push(format!(
                    "{here}: matches {matching} of the oneOf schemas, exactly one must match"
                ));
            }
        }

        errors
    }
}

fn finish(errors: Vec<String>) -> Result<(), String> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The 8-4-4-4-12 hexadecimal shape (any version).
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A login request exactly as Hydra v26.2.0 serves it.
    fn good_login_request() -> Value {
        json!({
            "challenge": "AbCdEf-ghIJ_klm",
            "skip": false,
            "subject": "",
            "client": {
                "client_id": "third-party-app",
                "client_name": "Third party app",
                "redirect_uris": ["https://third-party-app.example.com/callback"],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "scope": "openid offline_access email profile",
                "audience": [],
                "owner": "",
                "policy_uri": "",
                "allowed_cors_origins": [],
                "tos_uri": "",
                "client_uri": "",
                "logo_uri": "",
                "contacts": null,
                "client_secret_expires_at": 0,
                "subject_type": "public",
                "jwks": {},
                "token_endpoint_auth_method": "client_secret_basic",
                "userinfo_signed_response_alg": "none",
                "created_at": "2026-01-02T03:04:05Z",
                "updated_at": "2026-01-02T03:04:05Z",
                "metadata": {},
                "skip_consent": false,
                "skip_logout_consent": null,
                "authorization_code_grant_access_token_lifespan": null
            },
            "request_url": "http://127.0.0.1:4444/oauth2/auth?client_id=third-party-app&response_type=code",
            "requested_scope": ["openid", "offline_access"],
            "requested_access_token_audience": [],
            "session_id": "0123456789abcdef0123456789abcdef",
            "oidc_context": {"acr_values": [], "ui_locales": [], "id_token_hint_claims": {}}
        })
    }

    fn good_session() -> Value {
        json!({
            "id": "5f2a5a43-54d1-4d54-9a7e-07a1c1e2c3d4",
            "active": true,
            "expires_at": "2026-01-03T03:04:05Z",
            "authenticated_at": "2026-01-02T03:04:05Z",
            "issued_at": "2026-01-02T03:04:05Z",
            "authenticator_assurance_level": "aal1",
            "authentication_methods": [
                {"method": "password", "aal": "aal1", "completed_at": "2026-01-02T03:04:05Z"}
            ],
            "identity": {
                "id": "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d",
                "schema_id": "default",
                "schema_url": "http://127.0.0.1:4433/schemas/ZGVmYXVsdA",
                "traits": {"email": "a@example.com"},
                "metadata_public": null,
                "organization_id": null
            }
        })
    }

    #[test]
    fn a_correct_hydra_login_request_passes() {
        hydra()
            .check_schema("oAuth2LoginRequest", &good_login_request())
            .unwrap();
        hydra()
            .check_response(
                "GET",
                "/admin/oauth2/auth/requests/login",
                200,
                &good_login_request(),
            )
            .unwrap();
    }

    #[test]
    fn a_missing_required_field_is_caught() {
        let mut body = good_login_request();
        body.as_object_mut().unwrap().remove("challenge");
        let err = hydra()
            .check_schema("oAuth2LoginRequest", &body)
            .unwrap_err();
        assert!(
            err.contains("/: missing required property `challenge`"),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_type_is_caught() {
        let mut body = good_login_request();
        body["skip"] = json!("yes");
        let err = hydra()
            .check_schema("oAuth2LoginRequest", &body)
            .unwrap_err();
        assert_eq!(err, "/skip: expected boolean, got string");
    }

    #[test]
    fn a_bad_enum_value_is_caught() {
        let mut body = good_session();
        body["authenticator_assurance_level"] = json!("aal9");
        let err = kratos().check_schema("session", &body).unwrap_err();
        assert!(err.starts_with("/authenticator_assurance_level: "), "{err}");
        assert!(err.contains("not one of the allowed values"), "{err}");

        let mut body = good_session();
        body["authentication_methods"][0]["aal"] = json!("aal9");
        let err = kratos().check_schema("session", &body).unwrap_err();
        assert!(err.starts_with("/authentication_methods/0/aal: "), "{err}");
    }

    #[test]
    fn a_date_time_that_is_not_rfc3339_is_caught() {
        let mut body = good_session();
        body["expires_at"] = json!("2026-01-03 03:04:05");
        let err = kratos().check_schema("session", &body).unwrap_err();
        assert!(
            err.starts_with("/expires_at: ") && err.contains("RFC 3339"),
            "{err}"
        );
    }

    #[test]
    fn null_where_the_schema_is_not_nullable_is_caught() {
        let mut body = good_login_request();
        body["subject"] = Value::Null;
        let err = hydra()
            .check_schema("oAuth2LoginRequest", &body)
            .unwrap_err();
        assert!(
            err.starts_with("/subject: expected string, got null"),
            "{err}"
        );

        // A non-nullable `$ref`ed object, not only a plain property.
        let mut body = good_login_request();
        body["requested_scope"] = Value::Null;
        assert!(hydra().check_schema("oAuth2LoginRequest", &body).is_err());
    }

    #[test]
    fn null_is_accepted_where_the_schema_is_nullable() {
        // metadata_public: nullJsonRawMessage {nullable: true};
        // organization_id: NullUUID {type: string, nullable: true}.
        let body = good_session();
        assert!(body["identity"]["metadata_public"].is_null());
        assert!(body["identity"]["organization_id"].is_null());
        kratos().check_schema("session", &body).unwrap();
        // ... and a non-null value there is still type-checked.
        let mut body = good_session();
        body["identity"]["organization_id"] = json!(42);
        assert!(kratos().check_schema("session", &body).is_err());
    }

    #[test]
    fn a_violation_inside_a_nested_ref_is_caught_with_its_pointer() {
        let mut body = good_login_request();
        body["client"]["skip_consent"] = json!("true");
        let err = hydra()
            .check_schema("oAuth2LoginRequest", &body)
            .unwrap_err();
        assert_eq!(err, "/client/skip_consent: expected boolean, got string");

        let mut body = good_session();
        body["identity"]["id"] = json!("not-a-uuid");
        let err = kratos().check_schema("session", &body).unwrap_err();
        assert!(err.starts_with("/identity/id: "), "{err}");
    }

    #[test]
    fn the_spec_gaps_are_narrow() {
        // contacts may be null (gap), but not a string.
        let mut body = good_login_request();
        body["client"]["contacts"] = json!("a@b.c");
        assert!(hydra().check_schema("oAuth2LoginRequest", &body).is_err());
        // The genericError.details gap accepts an object, not a string.
        let bad = json!({"error": {"message": "m", "details": "x"}});
        assert!(kratos().check_schema("errorGeneric", &bad).is_err());
        let good = json!({"error": {"message": "m", "details": {"redirect_browser_to": "x"}}});
        kratos().check_schema("errorGeneric", &good).unwrap();
        // The method enum is open, but a method is a string.
        let mut body = good_session();
        body["authentication_methods"][0]["method"] = json!("deviceauthn");
        kratos().check_schema("session", &body).unwrap();
        body["authentication_methods"][0]["method"] = json!(7);
        assert!(kratos().check_schema("session", &body).is_err());
        // Without the gap, `details` with a property is rejected (the spec
        // says additionalProperties: false), proving the gap is needed.
        let custom = OpenApi::from_value(kratos().spec.clone());
        assert!(custom.check_schema("errorGeneric", &good).is_err());
        let mut body = good_session();
        body["authentication_methods"][0]["method"] = json!("deviceauthn");
        assert!(custom.check_schema("session", &body).is_err());
    }

    #[test]
    fn client_deletion_errors_are_flat_and_its_204_has_no_body() {
        let flat = json!({"error": "Unable to locate the resource", "error_description": ""});
        hydra()
            .check_response("DELETE", "/admin/clients/x", 404, &flat)
            .unwrap();
        // Without the gap the spec's genericError (which requires `message`) applies.
        let custom = OpenApi::from_value(hydra().spec.clone());
        assert!(custom
            .check_response("DELETE", "/admin/clients/x", 404, &flat)
            .is_err());
        // Only that operation: GET's errors were flat in the spec already.
        hydra()
            .check_response("GET", "/admin/clients/x", 404, &flat)
            .unwrap();
        hydra()
            .check_empty_response("DELETE", "/admin/clients/x", 204)
            .unwrap();
        assert!(hydra()
            .check_empty_response("GET", "/admin/clients/x", 200)
            .is_err());
    }

    #[test]
    fn responses_are_matched_by_path_template_and_status() {
        let identity = good_session()["identity"].clone();
        kratos()
            .check_response(
                "GET",
                "/admin/identities/9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d",
                200,
                &identity,
            )
            .unwrap();
        // The 404 schema is errorGeneric, which an identity does not match.
        assert!(kratos()
            .check_response("GET", "/admin/identities/x", 404, &identity)
            .is_err());
        // Undocumented operations and statuses are errors.
        let err = hydra()
            .check_response("GET", "/admin/nope", 200, &json!({}))
            .unwrap_err();
        assert!(err.contains("no such path"), "{err}");
        let err = hydra()
            .check_response("DELETE", "/health/ready", 200, &json!({}))
            .unwrap_err();
        assert!(err.contains("no such operation"), "{err}");
        let err = hydra()
            .check_response("GET", "/health/alive", 503, &json!({}))
            .unwrap_err();
        assert!(err.contains("not documented"), "{err}");
        // Kratos /health/alive's default response is text/plain only.
        let err = kratos()
            .check_response("GET", "/health/alive", 500, &json!({}))
            .unwrap_err();
        assert!(err.contains("no application/json schema"), "{err}");
    }

    #[test]
    fn request_bodies_are_checked() {
        hydra()
            .check_request(
                "PUT",
                "/admin/oauth2/auth/requests/login/accept",
                &json!({"subject": "s", "remember": true, "remember_for": 3600, "amr": ["pwd"]}),
            )
            .unwrap();
        let err = hydra()
            .check_request(
                "PUT",
                "/admin/oauth2/auth/requests/login/accept",
                &json!({"remember": "yes"}),
            )
            .unwrap_err();
        assert!(err.contains("missing required property `subject`"), "{err}");
        assert!(
            err.contains("/remember: expected boolean, got string"),
            "{err}"
        );
        assert!(hydra()
            .check_request("GET", "/admin/oauth2/auth/requests/login", &json!({}))
            .is_err());
    }

    #[test]
    fn empty_answers_must_be_documented_without_a_body() {
        let reject = "/admin/oauth2/auth/requests/logout/reject";
        hydra().check_empty_response("PUT", reject, 204).unwrap();
        // 200 is not listed for a logout reject; `default` (an error body) does not count.
        assert!(hydra()
            .check_empty_response("PUT", reject, 200)
            .unwrap_err()
            .contains("not documented"));
        // A logout accept answers 200 with a body.
        assert!(hydra()
            .check_empty_response("PUT", "/admin/oauth2/auth/requests/logout/accept", 200)
            .unwrap_err()
            .contains("has a body"));
    }

    #[test]
    fn only_the_logout_request_client_may_be_null() {
        let logout = json!({"challenge": "c", "subject": "s", "request_url": "u", "rp_initiated": false, "client": null});
        hydra()
            .check_schema("oAuth2LogoutRequest", &logout)
            .unwrap();
        let mut login = good_login_request();
        login["client"] = Value::Null;
        assert!(hydra().check_schema("oAuth2LoginRequest", &login).is_err());
    }

    #[test]
    fn composition_keywords_work() {
        let api = OpenApi::from_value(json!({
            "paths": {},
            "components": {"schemas": {
                "one": {"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "number"}]},
                "any": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
                "all": {"allOf": [
                    {"type": "object", "required": ["a"]},
                    {"properties": {"a": {"type": "string", "format": "uuid"}}}
                ]},
                "closed": {"type": "object", "properties": {"a": {}}, "additionalProperties": false},
                "map": {"type": "object", "additionalProperties": {"type": "integer"}},
                "list": {"type": "array", "items": {"$ref": "#/components/schemas/closed"}}
            }}
        }));
        api.check_schema("one", &json!("x")).unwrap();
        api.check_schema("one", &json!(1.5)).unwrap();
        // An integer is also a number: two branches match.
        assert!(api
            .check_schema("one", &json!(1))
            .unwrap_err()
            .contains("exactly one"));
        assert!(api.check_schema("one", &json!(true)).is_err());
        api.check_schema("any", &json!(true)).unwrap();
        assert!(api.check_schema("any", &json!(1)).is_err());
        api.check_schema("all", &json!({"a": "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"}))
            .unwrap();
        assert!(api.check_schema("all", &json!({})).is_err());
        assert!(api.check_schema("all", &json!({"a": "nope"})).is_err());
        api.check_schema("closed", &json!({"a": 1})).unwrap();
        assert_eq!(
            api.check_schema("closed", &json!({"a": 1, "b/c": 2}))
                .unwrap_err(),
            "/b~1c: property `b/c` is not allowed"
        );
        api.check_schema("map", &json!({"x": 1})).unwrap();
        assert_eq!(
            api.check_schema("map", &json!({"x": "1"})).unwrap_err(),
            "/x: expected integer, got string"
        );
        assert_eq!(
            api.check_schema("list", &json!([{}, {"z": 1}]))
                .unwrap_err(),
            "/1/z: property `z` is not allowed"
        );
    }
}
