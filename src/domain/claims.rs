//! Identity traits + granted scopes → the standard OIDC claims Hera releases.
//!
//! One function, `scope_claims`, decides what each scope releases. The consent page preview and
//! the claims sent to Hydra are both read from it, so the user is shown exactly what the app will
//! receive. The mapping follows OIDC Core §5.4
//! (<https://openid.net/specs/openid-connect-core-1_0.html#ScopeClaims>) and reads the trait names
//! of the usual Kratos identity schemas; anything else in the traits is never released.

use serde_json::{Map, Value};

use crate::model::Identity;

/// Members of the OIDC address claim (OIDC Core §5.1.1); other keys in `traits.address` stay
/// private.
pub const ADDRESS_MEMBERS: [&str; 6] = [
    "formatted",
    "street_address",
    "locality",
    "region",
    "postal_code",
    "country",
];

/// Claims for `session.id_token` of a consent accept: only for granted scopes (OIDC Core §5.4).
/// Never `sub`.
///
/// Hydra serves these in both the ID token and `/userinfo`. `sub` is never added: Hydra sets it
/// from the login subject, and a second source could only disagree with it.
pub fn id_token_claims(identity: &Identity, granted: &[String]) -> Map<String, Value> {
    granted
        .iter()
        .flat_map(|scope| scope_claims(identity, scope))
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// The claims one scope releases for this identity, in display order.
pub fn scope_claims(identity: &Identity, scope: &str) -> Vec<(&'static str, Value)> {
    match scope {
        "email" => email_claims(identity),
        "profile" => profile_claims(identity),
        "phone" => phone_claims(identity),
        "address" => address_claims(identity),
        _ => Vec::new(),
    }
}

/// `email` and `email_verified`. The verified flag comes only from a Kratos verifiable address
/// for that same email: a trait value alone proves nothing about ownership.
fn email_claims(identity: &Identity) -> Vec<(&'static str, Value)> {
    let email = text(identity.traits.get("email")).or_else(|| {
        identity
            .verifiable_addresses
            .iter()
            .find(|address| address.via == "email")
            .and_then(|address| non_blank(&address.value))
    });
    let Some(email) = email else {
        return Vec::new();
    };
    vec![
        ("email", Value::from(email)),
        (
            "email_verified",
            Value::from(is_verified(identity, "email", email)),
        ),
    ]
}

/// `name` / `given_name` / `family_name`, `preferred_username`, `website` and `updated_at`.
fn profile_claims(identity: &Identity) -> Vec<(&'static str, Value)> {
    let traits = &identity.traits;
    let mut claims = Vec::new();
    match traits.get("name") {
        Some(Value::Object(parts)) => {
            let first = text(parts.get("first"));
            let last = text(parts.get("last"));
            let full = [first, last]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if !full.is_empty() {
                claims.push(("name", Value::from(full)));
            }
            if let Some(first) = first {
                claims.push(("given_name", Value::from(first)));
            }
            if let Some(last) = last {
                claims.push(("family_name", Value::from(last)));
            }
        }
        name => {
            if let Some(name) = text(name) {
                claims.push(("name", Value::from(name)));
            }
        }
    }
    if let Some(username) = text(traits.get("username")) {
        claims.push(("preferred_username", Value::from(username)));
    }
    if let Some(website) = text(traits.get("website")) {
        claims.push(("website", Value::from(website)));
    }
    if let Some(updated_at) = identity.updated_at {
        // OIDC Core §5.1: a JSON number of seconds since the epoch, not an RFC 3339 string.
        claims.push(("updated_at", Value::from(updated_at.unix_timestamp())));
    }
    claims
}

/// `phone_number` and `phone_number_verified`, mirroring [`email_claims`] with `via == "sms"`.
fn phone_claims(identity: &Identity) -> Vec<(&'static str, Value)> {
    let traits = &identity.traits;
    let phone = text(traits.get("phone_number"))
        .or_else(|| text(traits.get("phone")))
        .or_else(|| {
            identity
                .verifiable_addresses
                .iter()
                .find(|address| address.via == "sms")
                .and_then(|address| non_blank(&address.value))
        });
    let Some(phone) = phone else {
        return Vec::new();
    };
    vec![
        ("phone_number", Value::from(phone)),
        (
            "phone_number_verified",
            Value::from(is_verified(identity, "sms", phone)),
        ),
    ]
}

/// `address` as the OIDC address object: a trait object filtered to the standard members, or a
/// plain string trait as `formatted`.
fn address_claims(identity: &Identity) -> Vec<(&'static str, Value)> {
    let address: Map<String, Value> = match identity.traits.get("address") {
        Some(Value::Object(members)) => ADDRESS_MEMBERS
            .iter()
            .filter_map(|&key| Some((key.to_owned(), Value::from(text(members.get(key))?))))
            .collect(),
        other => text(other)
            .map(|formatted| ("formatted".to_owned(), Value::from(formatted)))
            .into_iter()
            .collect(),
    };
    if address.is_empty() {
        Vec::new()
    } else {
        vec![("address", Value::Object(address))]
    }
}

/// Whether Kratos has verified `value` through `via`. Addresses compare case-insensitively
/// because Kratos may store them normalised while the trait keeps the user's spelling.
fn is_verified(identity: &Identity, via: &str, value: &str) -> bool {
    let wanted = value.to_lowercase();
    identity.verifiable_addresses.iter().any(|address| {
        address.verified && address.via == via && address.value.trim().to_lowercase() == wanted
    })
}

/// A trait that is a string with visible content, trimmed; anything else is treated as absent.
fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).and_then(non_blank)
}

fn non_blank(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|trimmed| !trimmed.is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;

    use super::*;

    /// An identity as Kratos would send it, so the tests exercise the real deserialisation.
    pub(crate) fn identity(traits: Value, addresses: Value) -> Identity {
        serde_json::from_value(json!({
            "id": "6a1d6ab2-0000-4000-8000-000000000001",
            "traits": traits,
            "verifiable_addresses": addresses,
            "updated_at": "2024-05-01T12:00:00Z",
        }))
        .unwrap()
    }

    pub(crate) fn ada() -> Identity {
        identity(
            json!({
                "email": "Ada@Example.com",
                "name": { "first": "Ada", "last": "Lovelace" },
                "username": "ada",
                "website": "https://ada.example",
                "phone_number": "+441234567890",
                "address": {
                    "street_address": "12 St James's Square",
                    "locality": "London",
                    "postal_code": "SW1Y 4JH",
                    "country": "GB",
                    "door_code": "1234"
                },
                "favourite_colour": "green",
                "password_hint": "engine"
            }),
            json!([
                { "value": "ada@example.com", "verified": true, "via": "email" },
                { "value": "+441234567890", "verified": false, "via": "sms" }
            ]),
        )
    }

    fn scopes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn claims(identity: &Identity, granted: &[&str]) -> Value {
        Value::Object(id_token_claims(identity, &scopes(granted)))
    }

    const UPDATED_AT: i64 = 1_714_564_800; // 2024-05-01T12:00:00Z

    #[test]
    fn claims_are_released_only_for_granted_scopes() {
        let cases: [(&[&str], Value); 7] = [
            (&[], json!({})),
            (&["openid"], json!({})),
            (&["openid", "offline_access"], json!({})),
            (
                &["openid", "email"],
                json!({ "email": "Ada@Example.com", "email_verified": true }),
            ),
            (
                &["profile"],
                json!({
                    "name": "Ada Lovelace",
                    "given_name": "Ada",
                    "family_name": "Lovelace",
                    "preferred_username": "ada",
                    "website": "https://ada.example",
                    "updated_at": UPDATED_AT,
                }),
            ),
            (
                &["phone"],
                json!({ "phone_number": "+441234567890", "phone_number_verified": false }),
            ),
            (
                &["address"],
                json!({ "address": {
                    "street_address": "12 St James's Square",
                    "locality": "London",
                    "postal_code": "SW1Y 4JH",
                    "country": "GB",
                }}),
            ),
        ];
        for (granted, expected) in cases {
            assert_eq!(claims(&ada(), granted), expected, "granted {granted:?}");
        }
    }

    #[test]
    fn all_standard_scopes_together_release_the_union_of_their_claims() {
        let all = claims(&ada(), &["openid", "email", "profile", "phone", "address"]);
        let keys: Vec<&str> = all
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "address",
                "email",
                "email_verified",
                "family_name",
                "given_name",
                "name",
                "phone_number",
                "phone_number_verified",
                "preferred_username",
                "updated_at",
                "website",
            ]
        );
    }

    #[test]
    fn sub_is_never_a_claim_even_when_a_trait_is_called_sub() {
        let id = identity(json!({ "sub": "attacker", "email": "a@b.c" }), json!([]));
        let all = id_token_claims(
            &id,
            &scopes(&["openid", "email", "profile", "phone", "address"]),
        );
        assert!(!all.contains_key("sub"));
    }

    #[test]
    fn unknown_scopes_release_nothing() {
        for scope in ["offline", "read:repo", "favourite_colour", "sub", "Email"] {
            assert_eq!(claims(&ada(), &[scope]), json!({}), "{scope}");
        }
    }

    #[test]
    fn unknown_traits_are_never_released() {
        let all = claims(&ada(), &["openid", "email", "profile", "phone", "address"]);
        let text = all.to_string();
        for secret in [
            "favourite_colour",
            "green",
            "password_hint",
            "engine",
            "door_code",
            "\"1234\"",
        ] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
    }

    #[test]
    fn email_verified_comes_from_the_matching_verifiable_address() {
        let cases = [
            // (trait email, verifiable addresses, expected email_verified)
            (
                "ada@example.com",
                json!([{ "value": "ada@example.com", "verified": true, "via": "email" }]),
                true,
            ),
            (
                "ADA@example.com",
                json!([{ "value": "ada@EXAMPLE.com", "verified": true, "via": "email" }]),
                true,
            ),
            (
                "ada@example.com",
                json!([{ "value": "ada@example.com", "verified": false, "via": "email" }]),
                false,
            ),
            (
                "ada@example.com",
                json!([{ "value": "other@example.com", "verified": true, "via": "email" }]),
                false,
            ),
            (
                "ada@example.com",
                json!([{ "value": "ada@example.com", "verified": true, "via": "sms" }]),
                false,
            ),
            ("ada@example.com", json!([]), false),
            (
                "ada@example.com",
                json!([
                    { "value": "old@example.com", "verified": true, "via": "email" },
                    { "value": "ada@example.com", "verified": true, "via": "email" }
                ]),
                true,
            ),
        ];
        for (email, addresses, verified) in cases {
            let id = identity(json!({ "email": email }), addresses.clone());
            assert_eq!(
                claims(&id, &["email"]),
                json!({ "email": email, "email_verified": verified }),
                "{email} with {addresses}"
            );
        }
    }

    #[test]
    fn email_falls_back_to_the_first_email_verifiable_address_when_the_trait_is_not_a_string() {
        let addresses = json!([
            { "value": "+441234567890", "verified": true, "via": "sms" },
            { "value": "first@example.com", "verified": true, "via": "email" },
            { "value": "second@example.com", "verified": false, "via": "email" }
        ]);
        for traits in [
            json!({}),
            json!({ "email": 42 }),
            json!({ "email": ["a@b.c"] }),
            json!({ "email": "  " }),
        ] {
            let id = identity(traits.clone(), addresses.clone());
            assert_eq!(
                claims(&id, &["email"]),
                json!({ "email": "first@example.com", "email_verified": true }),
                "{traits}"
            );
        }
    }

    #[test]
    fn email_scope_releases_nothing_when_there_is_no_email_at_all() {
        let id = identity(
            json!({ "username": "ada" }),
            json!([{ "value": "+44", "verified": true, "via": "sms" }]),
        );
        assert_eq!(claims(&id, &["email"]), json!({}));
    }

    #[test]
    fn name_as_an_object_or_a_string() {
        let cases = [
            (json!("Ada Lovelace"), json!({ "name": "Ada Lovelace" })),
            (
                json!({ "first": "Ada", "last": "Lovelace" }),
                json!({ "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace" }),
            ),
            (
                json!({ "first": "Ada" }),
                json!({ "name": "Ada", "given_name": "Ada" }),
            ),
            (
                json!({ "last": "Lovelace" }),
                json!({ "name": "Lovelace", "family_name": "Lovelace" }),
            ),
            (
                json!({ "first": " Ada ", "last": "" }),
                json!({ "name": "Ada", "given_name": "Ada" }),
            ),
            (json!({ "first": 1, "last": null }), json!({})),
            (json!({}), json!({})),
            (json!(""), json!({})),
            (json!(["Ada"]), json!({})),
            (json!(7), json!({})),
        ];
        for (name, expected) in cases {
            let mut id = identity(json!({ "name": name }), json!([]));
            id.updated_at = None;
            assert_eq!(claims(&id, &["profile"]), expected, "name = {name}");
        }
    }

    #[test]
    fn updated_at_is_an_integer_number_of_seconds() {
        let all = id_token_claims(&ada(), &scopes(&["profile"]));
        let updated_at = all.get("updated_at").unwrap();
        assert!(updated_at.is_i64(), "{updated_at}");
        assert_eq!(updated_at.as_i64(), Some(UPDATED_AT));
    }

    #[test]
    fn profile_without_updated_at_omits_it() {
        let mut id = identity(json!({ "username": "ada" }), json!([]));
        id.updated_at = None;
        assert_eq!(
            claims(&id, &["profile"]),
            json!({ "preferred_username": "ada" })
        );
    }

    #[test]
    fn non_string_traits_are_ignored() {
        let id = identity(
            json!({
                "email": { "primary": "a@b.c" },
                "name": true,
                "username": 42,
                "website": ["https://a.example"],
                "phone_number": 441234567890_u64,
                "phone": null,
                "address": 12
            }),
            json!([]),
        );
        let mut id = id;
        id.updated_at = None;
        assert_eq!(
            claims(&id, &["openid", "email", "profile", "phone", "address"]),
            json!({})
        );
    }

    #[test]
    fn empty_strings_are_treated_as_absent() {
        let mut id = identity(
            json!({
                "email": "",
                "name": " ",
                "username": "",
                "website": "",
                "phone_number": "",
                "address": ""
            }),
            json!([]),
        );
        id.updated_at = None;
        assert_eq!(
            claims(&id, &["email", "profile", "phone", "address"]),
            json!({})
        );
    }

    #[test]
    fn phone_number_comes_from_phone_number_then_phone() {
        let addresses = json!([{ "value": "+15550100", "verified": true, "via": "sms" }]);
        let cases = [
            (
                json!({ "phone_number": "+15550100", "phone": "+15550199" }),
                json!({ "phone_number": "+15550100", "phone_number_verified": true }),
            ),
            (
                json!({ "phone": "+15550100" }),
                json!({ "phone_number": "+15550100", "phone_number_verified": true }),
            ),
            (
                json!({ "phone": "+15550199" }),
                json!({ "phone_number": "+15550199", "phone_number_verified": false }),
            ),
            (
                json!({}),
                json!({ "phone_number": "+15550100", "phone_number_verified": true }),
            ),
        ];
        for (traits, expected) in cases {
            let id = identity(traits.clone(), addresses.clone());
            assert_eq!(claims(&id, &["phone"]), expected, "{traits}");
        }
    }

    #[test]
    fn phone_number_verified_needs_an_sms_address() {
        let id = identity(
            json!({ "phone": "+15550100" }),
            json!([{ "value": "+15550100", "verified": true, "via": "email" }]),
        );
        assert_eq!(
            claims(&id, &["phone"]),
            json!({ "phone_number": "+15550100", "phone_number_verified": false })
        );
    }

    #[test]
    fn address_passes_through_only_oidc_members() {
        let cases = [
            (
                json!("1 Main St, Springfield"),
                json!({ "address": { "formatted": "1 Main St, Springfield" } }),
            ),
            (
                json!({
                    "formatted": "1 Main St",
                    "region": "IL",
                    "country": 1,
                    "gate": "B",
                    "postal_code": ""
                }),
                json!({ "address": { "formatted": "1 Main St", "region": "IL" } }),
            ),
            (json!({ "gate": "B" }), json!({})),
            (json!({}), json!({})),
            (json!(["1 Main St"]), json!({})),
        ];
        for (address, expected) in cases {
            let id = identity(json!({ "address": address }), json!([]));
            assert_eq!(claims(&id, &["address"]), expected, "{address}");
        }
    }
}
