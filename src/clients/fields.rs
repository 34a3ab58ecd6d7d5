//! The fields of Hydra's `OAuth2Client` and how each one is compared.
//!
//! Hydra fills in defaults for some fields and reshapes others when it stores a client, so a
//! file and what `GET /admin/clients/{id}` returns can differ without meaning different things.
//! [`canonical`] maps both sides to the same form; a field is changed only when the two
//! canonical values differ, which is what makes a second `apply` a no-op.

use serde_json::{Map, Value};

/// How a field is typed in JSON and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string; absent, `null` and `""` mean the default (`""` when there is none).
    Text,
    /// An array of strings; absent, `null` and `[]` mean the default (`[]` when there is none).
    List,
    /// A boolean; absent and `null` mean `false`.
    Flag,
    /// A JSON object; absent and `null` mean `{}`.
    Object,
    /// A Go duration string (`"1h"`); compared by length of time, absent and `null` mean unset.
    Lifespan,
    /// `client_secret`: write-only, never returned by Hydra, so never compared.
    Secret,
    /// Set by Hydra itself (`created_at` …): ignored in files and in comparisons.
    ServerSet,
}

/// One `OAuth2Client` field.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// What Hydra uses when the field is empty.
    pub default: Default,
}

/// The value Hydra applies to an empty field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Default {
    None,
    Text(&'static str),
    List(&'static str),
}

const fn field(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        default: Default::None,
    }
}

const fn defaulted(name: &'static str, kind: Kind, default: Default) -> Field {
    Field {
        name,
        kind,
        default,
    }
}

/// Every field of Hydra v26.2's `OAuth2Client`, in the order reports print them.
pub const FIELDS: &[Field] = &[
    field("client_id", Kind::Text),
    field("client_name", Kind::Text),
    field("client_secret", Kind::Secret),
    defaulted(
        "token_endpoint_auth_method",
        Kind::Text,
        Default::Text("client_secret_basic"),
    ),
    defaulted(
        "grant_types",
        Kind::List,
        Default::List("authorization_code"),
    ),
    defaulted("response_types", Kind::List, Default::List("code")),
    field("scope", Kind::Text),
    field("audience", Kind::List),
    field("redirect_uris", Kind::List),
    field("post_logout_redirect_uris", Kind::List),
    field("allowed_cors_origins", Kind::List),
    field("skip_consent", Kind::Flag),
    field("skip_logout_consent", Kind::Flag),
    field("metadata", Kind::Object),
    field("owner", Kind::Text),
    field("client_uri", Kind::Text),
    field("logo_uri", Kind::Text),
    field("policy_uri", Kind::Text),
    field("tos_uri", Kind::Text),
    field("contacts", Kind::List),
    defaulted("subject_type", Kind::Text, Default::Text("public")),
    field("sector_identifier_uri", Kind::Text),
    field("jwks", Kind::Object),
    field("jwks_uri", Kind::Text),
    field("token_endpoint_auth_signing_alg", Kind::Text),
    field("request_object_signing_alg", Kind::Text),
    field("request_uris", Kind::List),
    defaulted(
        "userinfo_signed_response_alg",
        Kind::Text,
        Default::Text("none"),
    ),
    field("access_token_strategy", Kind::Text),
    field("frontchannel_logout_uri", Kind::Text),
    field("frontchannel_logout_session_required", Kind::Flag),
    field("backchannel_logout_uri", Kind::Text),
    field("backchannel_logout_session_required", Kind::Flag),
    field(
        "authorization_code_grant_access_token_lifespan",
        Kind::Lifespan,
    ),
    field("authorization_code_grant_id_token_lifespan", Kind::Lifespan),
    field(
        "authorization_code_grant_refresh_token_lifespan",
        Kind::Lifespan,
    ),
    field(
        "client_credentials_grant_access_token_lifespan",
        Kind::Lifespan,
    ),
    field(
        "device_authorization_grant_access_token_lifespan",
        Kind::Lifespan,
    ),
    field(
        "device_authorization_grant_id_token_lifespan",
        Kind::Lifespan,
    ),
    field(
        "device_authorization_grant_refresh_token_lifespan",
        Kind::Lifespan,
    ),
    field("implicit_grant_access_token_lifespan", Kind::Lifespan),
    field("implicit_grant_id_token_lifespan", Kind::Lifespan),
    field("jwt_bearer_grant_access_token_lifespan", Kind::Lifespan),
    field("refresh_token_grant_access_token_lifespan", Kind::Lifespan),
    field("refresh_token_grant_id_token_lifespan", Kind::Lifespan),
    field("refresh_token_grant_refresh_token_lifespan", Kind::Lifespan),
    field("client_secret_expires_at", Kind::ServerSet),
    field("created_at", Kind::ServerSet),
    field("updated_at", Kind::ServerSet),
    field("registration_access_token", Kind::ServerSet),
    field("registration_client_uri", Kind::ServerSet),
];

/// The field called `name`, if `OAuth2Client` has one.
pub fn lookup(name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|field| field.name == name)
}

impl Field {
    /// True for fields a file's value is compared on.
    pub fn is_compared(&self) -> bool {
        !matches!(self.kind, Kind::Secret | Kind::ServerSet)
    }
}

/// The form of a field's value that both sides are compared in: defaults applied, empty values
/// unified, CORS origins without a trailing `/` (Hydra strips it) and lifespans as nanoseconds
/// (Hydra answers `"1h0m0s"` for `"1h"`). A value of the wrong type is kept as is, so it
/// compares unequal to everything well-formed.
pub fn canonical(field: &Field, value: Option<&Value>) -> Value {
    let value = value.unwrap_or(&Value::Null);
    match field.kind {
        Kind::Text => match value {
            Value::Null => default_text(field),
            Value::String(text) if text.is_empty() => default_text(field),
            other => other.clone(),
        },
        Kind::List => match value {
            Value::Null => default_list(field),
            Value::Array(items) if items.is_empty() => default_list(field),
            Value::Array(items) if field.name == "allowed_cors_origins" => Value::Array(
                items
                    .iter()
                    .map(|item| match item.as_str() {
                        Some(origin) => Value::String(origin.trim_end_matches('/').to_owned()),
                        None => item.clone(),
                    })
                    .collect(),
            ),
            other => other.clone(),
        },
        Kind::Flag => match value {
            Value::Null => Value::Bool(false),
            other => other.clone(),
        },
        Kind::Object => match value {
            Value::Null => Value::Object(Map::new()),
            other => other.clone(),
        },
        Kind::Lifespan => match value {
            Value::String(text) if text.is_empty() => Value::Null,
            Value::String(text) => match duration_nanos(text) {
                Some(nanos) => Value::from(nanos),
                None => value.clone(),
            },
            other => other.clone(),
        },
        Kind::Secret | Kind::ServerSet => Value::Null,
    }
}

fn default_text(field: &Field) -> Value {
    match field.default {
        Default::Text(text) => Value::String(text.to_owned()),
        _ => Value::String(String::new()),
    }
}

fn default_list(field: &Field) -> Value {
    match field.default {
        Default::List(item) => Value::Array(vec![Value::String(item.to_owned())]),
        _ => Value::Array(Vec::new()),
    }
}

/// True when `text` is a lifespan as Hydra's spec writes it: whole numbers with units, such as
/// `"1h"` or `"1h30m"` (the `NullDuration` pattern `^([0-9]+(ns|us|ms|s|m|h))*$`).
pub fn is_lifespan(text: &str) -> bool {
    !text.is_empty()
        && text.contains(|c: char| c.is_ascii_digit())
        && parse_duration(text, false).is_some()
}

/// The length of a Go duration string in nanoseconds. Accepts what Hydra writes back, such as
/// `"1h0m0s"` or `"1.5s"`.
pub fn duration_nanos(text: &str) -> Option<u64> {
    parse_duration(text, true)
}

fn parse_duration(text: &str, allow_fractions: bool) -> Option<u64> {
    let mut rest = text;
    let mut total: u64 = 0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let whole_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let whole = &rest[..whole_len];
        rest = &rest[whole_len..];
        let mut fraction = "";
        if allow_fractions {
            if let Some(after_dot) = rest.strip_prefix('.') {
                let len = after_dot
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(after_dot.len());
                fraction = &after_dot[..len];
                rest = &after_dot[len..];
            }
        }
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit: u64 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let mut part = whole.checked_mul(unit)?;
        if !fraction.is_empty() {
            // Go keeps at most nanosecond precision; so do we.
            let digits = &fraction[..fraction.len().min(18)];
            let scale = 10u64.checked_pow(u32::try_from(digits.len()).ok()?)?;
            let numerator: u128 = u128::from(digits.parse::<u64>().ok()?) * u128::from(unit);
            part = part.checked_add(u64::try_from(numerator / u128::from(scale)).ok()?)?;
        }
        total = total.checked_add(part)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(name: &str, value: Value) -> Value {
        canonical(lookup(name).unwrap(), Some(&value))
    }

    fn absent(name: &str) -> Value {
        canonical(lookup(name).unwrap(), None)
    }

    #[test]
    fn empty_values_mean_what_hydra_uses_instead() {
        let cases = [
            ("grant_types", json!(["authorization_code"])),
            ("response_types", json!(["code"])),
            ("token_endpoint_auth_method", json!("client_secret_basic")),
            ("subject_type", json!("public")),
            ("userinfo_signed_response_alg", json!("none")),
            ("client_name", json!("")),
            ("redirect_uris", json!([])),
            ("skip_consent", json!(false)),
            ("skip_logout_consent", json!(false)),
            ("metadata", json!({})),
            ("jwks", json!({})),
            ("refresh_token_grant_refresh_token_lifespan", json!(null)),
        ];
        for (name, expected) in cases {
            assert_eq!(absent(name), expected, "{name} absent");
            assert_eq!(canon(name, Value::Null), expected, "{name}: null");
        }
        assert_eq!(
            canon("grant_types", json!([])),
            json!(["authorization_code"])
        );
        assert_eq!(
            canon("token_endpoint_auth_method", json!("")),
            json!("client_secret_basic")
        );
        assert_eq!(canon("contacts", json!([])), json!([]));
    }

    #[test]
    fn values_that_are_set_are_kept() {
        assert_eq!(
            canon("grant_types", json!(["refresh_token"])),
            json!(["refresh_token"])
        );
        assert_eq!(
            canon("token_endpoint_auth_method", json!("none")),
            json!("none")
        );
        assert_eq!(canon("skip_consent", json!(true)), json!(true));
        assert_eq!(canon("metadata", json!({"a": 1})), json!({"a": 1}));
    }

    #[test]
    fn cors_origins_compare_without_the_trailing_slash_hydra_strips() {
        assert_eq!(
            canon(
                "allowed_cors_origins",
                json!(["https://a.example/", "https://b.example"])
            ),
            json!(["https://a.example", "https://b.example"])
        );
    }

    #[test]
    fn lifespans_compare_by_length_of_time() {
        let name = "authorization_code_grant_access_token_lifespan";
        assert_eq!(canon(name, json!("1h")), canon(name, json!("1h0m0s")));
        assert_eq!(canon(name, json!("90m")), canon(name, json!("1h30m0s")));
        assert_eq!(canon(name, json!("1500ms")), canon(name, json!("1.5s")));
        assert_ne!(canon(name, json!("1h")), canon(name, json!("2h")));
        assert_eq!(canon(name, json!("")), Value::Null);
    }

    #[test]
    fn secrets_and_server_set_fields_are_never_compared() {
        for name in [
            "client_secret",
            "created_at",
            "updated_at",
            "client_secret_expires_at",
        ] {
            assert!(!lookup(name).unwrap().is_compared(), "{name}");
            assert_eq!(canon(name, json!("x")), Value::Null);
        }
        assert!(lookup("scope").unwrap().is_compared());
    }

    #[test]
    fn a_value_of_the_wrong_type_never_equals_a_well_formed_one() {
        assert_ne!(
            canon("skip_consent", json!("true")),
            canon("skip_consent", json!(true))
        );
        assert_ne!(
            canon("grant_types", json!("code")),
            canon("grant_types", json!(["code"]))
        );
    }

    #[test]
    fn lifespans_in_files_use_the_spec_pattern() {
        for good in ["1h", "30m", "1h30m", "500ms", "10s", "0s"] {
            assert!(is_lifespan(good), "{good}");
        }
        for bad in ["", "1", "h", "1d", "1.5h", "-1h", "1 h", "1h "] {
            assert!(!is_lifespan(bad), "{bad}");
        }
    }

    #[test]
    fn go_durations_parse_to_nanoseconds() {
        assert_eq!(duration_nanos("1h0m0s"), Some(3_600_000_000_000));
        assert_eq!(duration_nanos("1.5s"), Some(1_500_000_000));
        assert_eq!(duration_nanos("2µs"), Some(2_000));
        assert_eq!(duration_nanos("100ns"), Some(100));
        assert_eq!(duration_nanos("99999999999999999999h"), None);
        assert_eq!(duration_nanos("abc"), None);
    }

    #[test]
    fn the_table_lists_exactly_the_fields_of_hydras_spec() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contract/hydra-api.json");
        let spec: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut in_spec: Vec<&str> = spec["components"]["schemas"]["oAuth2Client"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        in_spec.sort_unstable();
        let mut in_table: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        in_table.sort_unstable();
        assert_eq!(in_table, in_spec);
    }
}
