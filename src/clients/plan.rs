//! What it takes to make Hydra match the files: a pure comparison, table-tested.

use serde_json::{Map, Value};

use super::fields::{self, Kind, FIELDS};
use super::validate::{ClientSpec, MANAGED_BY};

/// One field that differs, with both sides ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: &'static str,
    /// What Hydra has now.
    pub before: String,
    /// What the file asks for.
    pub after: String,
}

/// What to do with one client of the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Hydra does not have it: `POST`, with the secret.
    Create,
    /// Hydra has it with other values (or the secret is to be replaced): `PUT`.
    Update(Vec<Change>),
    /// Hydra already matches the file.
    Unchanged,
}

/// A client of the files and what to do with it.
#[derive(Debug, Clone)]
pub struct Step {
    pub spec: ClientSpec,
    pub action: Action,
    /// Whether the request carries `client_secret`. A `PUT` without it keeps Hydra's secret; one
    /// with it replaces the secret and drops any rotated ones.
    pub send_secret: bool,
}

/// Everything `apply` would do, in order: the clients by id, then the deletions by id.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Ids of Hera-managed clients that no file defines any more (`--prune` only).
    pub deletions: Vec<String>,
}

/// Compares a client of the files with what Hydra has (`None` when Hydra answered 404).
/// Secrets cannot be compared, since Hydra never returns them, so an existing client's secret is
/// only sent when `replace_secrets` asks for it.
pub fn step(
    spec: ClientSpec,
    in_hydra: Option<&Map<String, Value>>,
    replace_secrets: bool,
) -> Step {
    let Some(actual) = in_hydra else {
        let send_secret = spec.secret.is_some();
        return Step {
            spec,
            action: Action::Create,
            send_secret,
        };
    };
    let changes = changes(&spec.body, actual);
    let send_secret = replace_secrets && spec.secret.is_some();
    let action = if changes.is_empty() && !send_secret {
        Action::Unchanged
    } else {
        Action::Update(changes)
    };
    Step {
        spec,
        action,
        send_secret,
    }
}

/// The fields whose canonical values differ, in report order. Fields Hydra returns that
/// `OAuth2Client` does not define (a newer Hydra) are not compared.
pub fn changes(desired: &Map<String, Value>, actual: &Map<String, Value>) -> Vec<Change> {
    FIELDS
        .iter()
        .filter(|field| field.is_compared())
        .filter_map(|field| {
            let (wanted, found) = (desired.get(field.name), actual.get(field.name));
            (fields::canonical(field, wanted) != fields::canonical(field, found)).then(|| Change {
                field: field.name,
                before: display(field.name, found),
                after: display(field.name, wanted),
            })
        })
        .collect()
}

/// A field's value as reports print it: compact JSON with Hydra's default filled in, and
/// lifespans as written.
pub fn display(name: &str, value: Option<&Value>) -> String {
    let Some(field) = fields::lookup(name) else {
        return value.map_or_else(|| "null".to_owned(), Value::to_string);
    };
    match field.kind {
        Kind::Lifespan => match value {
            Some(Value::String(text)) if !text.is_empty() => format!("{text:?}"),
            _ => "(Hydra's default)".to_owned(),
        },
        Kind::Secret => "****".to_owned(),
        _ => fields::canonical(field, value).to_string(),
    }
}

/// Ids of clients Hydra lists that carry `metadata.managed_by: "hera"` and that no file defines
/// any more, sorted. Clients anyone else created are never candidates.
pub fn prunable(listed: &[Map<String, Value>], specs: &[ClientSpec]) -> Vec<String> {
    let (key, value) = MANAGED_BY;
    let mut ids: Vec<String> = listed
        .iter()
        .filter(|client| {
            client
                .get("metadata")
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                == Some(value)
        })
        .filter_map(|client| client.get("client_id").and_then(Value::as_str))
        .filter(|id| !specs.iter().any(|spec| spec.id == *id))
        .map(str::to_owned)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::files::Source;
    use crate::clients::validate::Secret;
    use serde_json::json;

    fn spec(body: Value, secret: bool) -> ClientSpec {
        ClientSpec {
            id: body["client_id"].as_str().unwrap().to_owned(),
            source: Source {
                file: "app.json".into(),
                index: None,
            },
            body: body.as_object().unwrap().clone(),
            secret: secret.then(|| Secret::new("APP_SECRET", "s3cret-value")),
            warnings: vec![],
        }
    }

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    /// What `validate` makes of a minimal confidential client file.
    fn desired() -> Value {
        json!({
            "client_id": "web",
            "client_name": "Web",
            "scope": "openid email",
            "redirect_uris": ["https://app.example.com/cb"],
            "metadata": {"managed_by": "hera"},
        })
    }

    /// The same client as Hydra v26.2 serves it after a `PUT` of `desired()`.
    fn as_hydra_serves_it() -> Value {
        json!({
            "client_id": "web",
            "client_name": "Web",
            "redirect_uris": ["https://app.example.com/cb"],
            "grant_types": [],
            "response_types": null,
            "scope": "openid email",
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
            "metadata": {"managed_by": "hera"},
            "skip_consent": false,
            "skip_logout_consent": null,
            "authorization_code_grant_access_token_lifespan": null,
            "some_field_of_a_newer_hydra": "x"
        })
    }

    #[test]
    fn a_client_hydra_does_not_have_is_created_with_its_secret() {
        let step = step(spec(desired(), true), None, false);
        assert_eq!(step.action, Action::Create);
        assert!(step.send_secret);
    }

    #[test]
    fn what_hydra_fills_in_or_adds_is_no_change() {
        let step = step(
            spec(desired(), true),
            Some(&object(as_hydra_serves_it())),
            false,
        );
        assert_eq!(step.action, Action::Unchanged);
        assert!(!step.send_secret);
    }

    #[test]
    fn each_changed_field_is_reported_with_both_sides() {
        let cases = [
            (
                json!({"client_name": "Old"}),
                "client_name",
                "\"Old\"",
                "\"Web\"",
            ),
            (
                json!({"skip_consent": true}),
                "skip_consent",
                "true",
                "false",
            ),
            (
                json!({"redirect_uris": ["https://old.example/cb"]}),
                "redirect_uris",
                "[\"https://old.example/cb\"]",
                "[\"https://app.example.com/cb\"]",
            ),
            (
                json!({"grant_types": ["client_credentials"]}),
                "grant_types",
                "[\"client_credentials\"]",
                "[\"authorization_code\"]",
            ),
            (
                json!({"metadata": {}}),
                "metadata",
                "{}",
                "{\"managed_by\":\"hera\"}",
            ),
            (
                json!({"refresh_token_grant_refresh_token_lifespan": "720h0m0s"}),
                "refresh_token_grant_refresh_token_lifespan",
                "\"720h0m0s\"",
                "(Hydra's default)",
            ),
        ];
        for (patch, field, before, after) in cases {
            let mut actual = object(as_hydra_serves_it());
            for (key, value) in patch.as_object().unwrap() {
                actual.insert(key.clone(), value.clone());
            }
            let step = step(spec(desired(), false), Some(&actual), false);
            assert_eq!(
                step.action,
                Action::Update(vec![Change {
                    field: fields::lookup(field).unwrap().name,
                    before: before.into(),
                    after: after.into(),
                }]),
                "{field}"
            );
        }
    }

    #[test]
    fn secrets_are_sent_to_an_existing_client_only_when_asked() {
        let hydra = object(as_hydra_serves_it());
        let kept = step(spec(desired(), true), Some(&hydra), false);
        assert_eq!(kept.action, Action::Unchanged);
        let replaced = step(spec(desired(), true), Some(&hydra), true);
        assert_eq!(replaced.action, Action::Update(vec![]));
        assert!(replaced.send_secret);
        let public = step(spec(desired(), false), Some(&hydra), true);
        assert_eq!(public.action, Action::Unchanged);
    }

    #[test]
    fn only_hera_managed_clients_without_a_file_can_be_pruned() {
        let listed: Vec<Map<String, Value>> = [
            json!({"client_id": "web", "metadata": {"managed_by": "hera"}}),
            json!({"client_id": "gone-b", "metadata": {"managed_by": "hera"}}),
            json!({"client_id": "gone-a", "metadata": {"managed_by": "hera", "x": 1}}),
            json!({"client_id": "someone-elses", "metadata": {"managed_by": "terraform"}}),
            json!({"client_id": "unmarked", "metadata": {}}),
            json!({"client_id": "no-metadata"}),
            json!({"client_id": "string-metadata", "metadata": "managed_by"}),
        ]
        .into_iter()
        .map(object)
        .collect();
        assert_eq!(
            prunable(&listed, &[spec(desired(), false)]),
            ["gone-a", "gone-b"]
        );
    }
}
