//! Property tests for every parser of outside input: whatever a browser, an app, Hydra
//! or a `hydra-clients` file sends, parsing never panics and what it accepts keeps its promises.
//! Run with the unit tests; each property tries a bounded number of random inputs.

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::domain::auth_request::{AuthRequest, MaxAge};
use crate::domain::{claims, consent};
use crate::model::challenge::Challenge;
use crate::model::user_code::UserCode;
use crate::model::{Identity, OidcContext, VerifiableAddress};
use crate::server::{claims_preview, scopes};

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Strings that look like what real inputs contain, plus anything at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,64}", "[A-Za-z0-9_.~=+/-]{0,200}", "[ -~]{0,100}"]
}

fn scope_list() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            Just("openid".to_owned()),
            Just("email".to_owned()),
            Just("profile".to_owned()),
            Just("offline_access".to_owned()),
            "[a-z:._]{1,12}",
        ],
        0..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_challenge_is_accepted_only_when_printable_and_kept_verbatim(raw in text()) {
        if let Ok(challenge) = Challenge::parse(Some(&raw)) {
            prop_assert_eq!(challenge.as_str(), raw.as_str());
            prop_assert!(!raw.is_empty() && raw.bytes().all(|b| b.is_ascii_graphic()));
            let debug = format!("{:?}", challenge);
            prop_assert!(!debug.contains(&raw) || raw.len() < 4);
        }
    }

    #[test]
    fn any_request_url_and_context_parse_without_panicking(
        url in text(),
        query in prop::collection::vec(("[a-z_]{1,10}", text()), 0..8),
        acr in prop::collection::vec(text(), 0..3),
        hint in prop::option::of(text()),
    ) {
        let base = format!("http://127.0.0.1:4444/oauth2/auth?{}", url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&query).finish());
        let context = OidcContext { acr_values: acr, login_hint: hint, ..OidcContext::default() };
        for candidate in [url.as_str(), base.as_str()] {
            let parsed = AuthRequest::parse(candidate, &context);
            if let Some(MaxAge::Seconds(seconds)) = parsed.max_age {
                prop_assert!(candidate.contains(&seconds.to_string()));
            }
            prop_assert!(parsed.login_hint.as_deref().is_none_or(|h| !h.trim().is_empty()));
        }
    }

    #[test]
    fn a_grant_is_always_within_the_requested_scopes(requested in scope_list(), posted in scope_list()) {
        let grant = consent::grant(&requested, &posted);
        for scope in &grant.scopes {
            prop_assert!(requested.contains(scope));
            prop_assert!(posted.contains(scope) || scopes::is_locked(scope));
        }
        let mut unique = grant.scopes.clone();
        unique.dedup();
        prop_assert_eq!(unique.len(), grant.scopes.len());
        if requested.iter().any(|s| s == "openid") {
            prop_assert!(grant.scopes.iter().any(|s| s == "openid"));
        }
        for dropped in &grant.dropped {
            prop_assert!(!requested.contains(dropped));
        }
    }

    #[test]
    fn claims_never_carry_sub_or_anything_for_scopes_not_granted(
        traits in json(),
        addresses in prop::collection::vec((text(), any::<bool>(), prop_oneof![Just("email".to_owned()), Just("sms".to_owned()), text()]), 0..3),
        granted in scope_list(),
    ) {
        let identity = Identity {
            id: "id".into(),
            state: None,
            traits,
            verifiable_addresses: addresses.into_iter().map(|(value, verified, via)| VerifiableAddress { value, verified, via }).collect(),
            updated_at: None,
        };
        let released: Map<String, Value> = claims::id_token_claims(&identity, &granted);
        prop_assert!(!released.contains_key("sub"));
        let has = |scope: &str| granted.iter().any(|s| s == scope);
        for key in released.keys() {
            let allowed = match key.as_str() {
                "email" | "email_verified" => has("email"),
                "phone_number" | "phone_number_verified" => has("phone"),
                "address" => has("address"),
                _ => has("profile"),
            };
            prop_assert!(allowed, "{} released without its scope", key);
        }
        let catalogue = crate::server::i18n::Catalogue::load().map_err(|e| TestCaseError::fail(e.to_string()))?;
        for texts in catalogue.tags().into_iter().map(|tag| catalogue.negotiate(&[tag.to_owned()], None)) {
            for scope in &granted {
                let _ = claims_preview::preview(&identity, scope, &texts);
                let _ = scopes::describe(scope);
            }
        }
    }

    #[test]
    fn a_user_code_is_the_typed_letters_and_digits_in_their_case(raw in text()) {
        if let Ok(code) = UserCode::normalise(&raw) {
            prop_assert!(!code.as_str().is_empty());
            prop_assert!(code.as_str().chars().all(|c| c.is_ascii_alphanumeric()));
            let typed: String = raw.chars().filter(char::is_ascii_alphanumeric).collect();
            prop_assert_eq!(code.as_str(), typed.as_str());
        }
    }

    #[test]
    fn any_hydra_clients_file_is_parsed_and_validated_without_panicking(text in text(), object in json()) {
        for candidate in [text, object.to_string(), Value::Array(vec![object.clone()]).to_string()] {
            if let Ok(definitions) = crate::clients::files::parse("fuzz.json", &candidate) {
                let _ = crate::clients::validate::validate_all(definitions, &|_| None);
            }
        }
    }
}
