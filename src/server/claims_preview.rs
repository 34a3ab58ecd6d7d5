//! What a scope would release, in words, for the consent page: the claims
//! [`claims::scope_claims`] decides, labelled and formatted in the page's language, so the user
//! is shown exactly what the app will receive.

use serde_json::Value;
use time::OffsetDateTime;

use super::i18n::Texts;
use crate::domain::claims::{self, ADDRESS_MEMBERS};
use crate::model::Identity;

/// Human-readable preview of what one scope would release, for the consent page: (label, value)
/// pairs, e.g. `("Email", "ada@example.com")`.
///
/// Empty when the scope releases nothing, including scopes Hera does not map.
pub fn preview(identity: &Identity, scope: &str, texts: &Texts) -> Vec<(String, String)> {
    claims::scope_claims(identity, scope)
        .into_iter()
        .filter_map(|(name, value)| {
            Some((label(name, texts).to_owned(), display(name, &value, texts)?))
        })
        .collect()
}

/// The consent-page label for a claim name.
fn label<'a>(claim: &'a str, texts: &'a Texts) -> &'a str {
    let key = match claim {
        "email" => "claim-email",
        "email_verified" => "claim-email-verified",
        "name" => "claim-name",
        "given_name" => "claim-given-name",
        "family_name" => "claim-family-name",
        "preferred_username" => "claim-preferred-username",
        "website" => "claim-website",
        "updated_at" => "claim-updated-at",
        "phone_number" => "claim-phone-number",
        "phone_number_verified" => "claim-phone-number-verified",
        "address" => "claim-address",
        other => return other,
    };
    texts.text(key)
}

/// A claim value as a person would read it: yes/no, a date, an address on one line.
fn display(claim: &str, value: &Value, texts: &Texts) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(
            texts
                .text(if *flag { "claim-yes" } else { "claim-no" })
                .to_owned(),
        ),
        Value::Number(seconds) if claim == "updated_at" => {
            let at = OffsetDateTime::from_unix_timestamp(seconds.as_i64()?).ok()?;
            Some(texts.date(at.day(), u8::from(at.month()), at.year()))
        }
        Value::Object(members) => {
            // `formatted` is already the whole address; otherwise join the parts in postal order.
            let parts = match members.get("formatted").and_then(Value::as_str) {
                Some(formatted) => vec![formatted],
                None => ADDRESS_MEMBERS
                    .iter()
                    .filter_map(|&key| members.get(key).and_then(Value::as_str))
                    .collect(),
            };
            Some(parts.join(", "))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::claims::tests::{ada, identity};

    fn english() -> Texts {
        super::super::i18n::Catalogue::load()
            .unwrap()
            .default_texts()
    }

    fn scopes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn unknown_scopes_release_nothing_to_preview() {
        for scope in ["offline", "read:repo", "favourite_colour", "sub", "Email"] {
            assert!(preview(&ada(), scope, &english()).is_empty(), "{scope}");
        }
    }

    #[test]
    fn preview_shows_what_each_scope_releases_in_plain_words() {
        let pairs = |scope| -> Vec<(String, String)> { preview(&ada(), scope, &english()) };
        let owned = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(l, v)| ((*l).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(pairs("openid"), owned(&[]));
        assert_eq!(
            pairs("email"),
            owned(&[("Email", "Ada@Example.com"), ("Email verified", "Yes")])
        );
        assert_eq!(
            pairs("profile"),
            owned(&[
                ("Name", "Ada Lovelace"),
                ("Given name", "Ada"),
                ("Family name", "Lovelace"),
                ("Username", "ada"),
                ("Website", "https://ada.example"),
                ("Profile last updated", "1 May 2024"),
            ])
        );
        assert_eq!(
            pairs("phone"),
            owned(&[
                ("Phone number", "+441234567890"),
                ("Phone number verified", "No")
            ])
        );
        assert_eq!(
            pairs("address"),
            owned(&[("Address", "12 St James's Square, London, SW1Y 4JH, GB")])
        );
    }

    #[test]
    fn preview_of_a_formatted_address_shows_it_as_given() {
        let id = identity(
            json!({ "address": { "formatted": "1 Main St", "country": "US" } }),
            json!([]),
        );
        assert_eq!(
            preview(&id, "address", &english()),
            vec![("Address".to_owned(), "1 Main St".to_owned())]
        );
    }

    #[test]
    fn preview_matches_the_claims_that_would_be_released() {
        for scope in ["openid", "email", "profile", "phone", "address", "unknown"] {
            let released = claims::id_token_claims(&ada(), &scopes(&[scope]));
            assert_eq!(
                preview(&ada(), scope, &english()).len(),
                released.len(),
                "{scope}"
            );
        }
    }
}
