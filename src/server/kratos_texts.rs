//! Kratos's labels and messages in the page's language.
//!
//! Kratos sends every text with a numeric id and the values it filled in (`context`). Hera keys
//! its own wording on the id (`kratos-<id>` in `locales/*.ftl`) and fills its `{ $name }`
//! variables from the context. An id Hera does not know, or a context without a value the
//! wording needs (older Kratos versions send fewer), shows Kratos's own English text.
//!
//! Field labels generated from the identity schema (id 1070002, "the schema's title") are
//! worded by the field: a well-known trait (`traits.email`, `traits.name.first`) has a
//! `trait-…` message; any other shows the schema's title.

use serde_json::Value;

use super::i18n::{variables, Texts};
use crate::model::flow::Text;

/// Kratos's id of labels generated from the identity schema (`context: {name?, title}`).
const SCHEMA_LABEL: u64 = 1070002;

/// `text` in the page's language, or Kratos's own text.
pub fn translate(t: &Texts, text: &Text) -> String {
    if text.id == SCHEMA_LABEL {
        return schema_label(t, text, None);
    }
    let Some(wording) = t.get(&format!("kratos-{}", text.id)) else {
        return text.text.clone();
    };
    let names = variables(wording);
    let values: Option<Vec<(String, String)>> = names
        .into_iter()
        .map(|name| context_value(&text.context, &name).map(|value| (name, value)))
        .collect();
    match values {
        Some(values) => {
            let args: Vec<(&str, &dyn std::fmt::Display)> = values
                .iter()
                .map(|(name, value)| (name.as_str(), value as &dyn std::fmt::Display))
                .collect();
            t.text_with(&format!("kratos-{}", text.id), &args)
        }
        None => text.text.clone(),
    }
}

/// A node's label: like [`translate`], but a label generated from the identity schema is
/// worded by the field it labels (`input_name` when Kratos's context does not name it).
pub fn label(t: &Texts, text: &Text, input_name: Option<&str>) -> String {
    if text.id == SCHEMA_LABEL {
        schema_label(t, text, input_name)
    } else {
        translate(t, text)
    }
}

fn schema_label(t: &Texts, text: &Text, input_name: Option<&str>) -> String {
    let field = text
        .context
        .get("name")
        .and_then(Value::as_str)
        .or(input_name)
        .and_then(|name| name.strip_prefix("traits."));
    if let Some(wording) = field.and_then(|field| {
        let key = format!("trait-{}", field.replace(['.', '_'], "-"));
        t.get(&key).map(str::to_owned)
    }) {
        return wording;
    }
    text.context
        .get("title")
        .and_then(Value::as_str)
        .filter(|title| !title.is_empty())
        .map_or_else(|| text.text.clone(), str::to_owned)
}

/// A context value as text: strings as they are, numbers written out; anything else (lists,
/// objects, null) is not a value a sentence can carry.
fn context_value(context: &Value, name: &str) -> Option<String> {
    match context.get(name)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::flow::TextKind;
    use crate::server::i18n::Catalogue;
    use serde_json::json;

    fn text(id: u64, english: &str, context: Value) -> Text {
        Text {
            id,
            text: english.into(),
            kind: TextKind::Info,
            context,
        }
    }

    fn languages() -> (Texts, Texts) {
        let catalogue = Catalogue::load().unwrap();
        (
            catalogue.default_texts(),
            catalogue.negotiate(&["de".into()], None),
        )
    }

    #[test]
    fn known_ids_are_worded_by_hera_with_kratoss_values_filled_in() {
        let (en, de) = languages();
        let short = text(
            4000032,
            "The password must be at least 8 characters long, but got 5.",
            json!({"min_length": 8, "actual_length": 5}),
        );
        assert_eq!(
            translate(&en, &short),
            "The password must have at least 8 characters."
        );
        assert_eq!(
            translate(&de, &short),
            "Das Passwort muss mindestens 8 Zeichen haben."
        );
        let provider = text(
            1010002,
            "Sign in with GitHub",
            json!({"provider": "GitHub"}),
        );
        assert_eq!(translate(&de, &provider), "Mit GitHub anmelden");
    }

    #[test]
    fn unknown_ids_and_missing_values_show_kratoss_own_text() {
        let (en, de) = languages();
        assert_eq!(
            translate(&de, &text(9_999_001, "Something new", Value::Null)),
            "Something new"
        );
        // A context without the value Hera's wording needs.
        assert_eq!(
            translate(&en, &text(1010002, "Sign in with GitHub", json!({}))),
            "Sign in with GitHub"
        );
        // A context value that is not a scalar.
        assert_eq!(
            translate(
                &en,
                &text(1010002, "Sign in with X", json!({"provider": ["X"]}))
            ),
            "Sign in with X"
        );
    }

    #[test]
    fn every_kratos_wording_has_an_id_as_its_key() {
        let (en, _) = languages();
        for key in en.keys().filter(|k| k.starts_with("kratos-")) {
            let id = &key["kratos-".len()..];
            assert!(id.parse::<u64>().is_ok(), "{key}");
        }
    }

    #[test]
    fn schema_labels_name_well_known_fields_and_keep_other_titles() {
        let (en, de) = languages();
        let email = text(
            SCHEMA_LABEL,
            "E-Mail",
            json!({"name": "traits.email", "title": "E-Mail"}),
        );
        assert_eq!(translate(&en, &email), "Email");
        assert_eq!(translate(&de, &email), "E-Mail-Adresse");
        let first = text(SCHEMA_LABEL, "First Name", json!({"title": "First Name"}));
        assert_eq!(label(&de, &first, Some("traits.name.first")), "Vorname");
        let custom = text(
            SCHEMA_LABEL,
            "Team",
            json!({"name": "traits.team", "title": "Team"}),
        );
        assert_eq!(label(&de, &custom, None), "Team");
        let untitled = text(SCHEMA_LABEL, "ID", json!({}));
        assert_eq!(label(&en, &untitled, Some("identifier")), "ID");
    }
}
