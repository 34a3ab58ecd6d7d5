//! The scope catalogue: what each standard OAuth 2.0 / OIDC scope means, in words an end user
//! can act on.
//!
//! The consent page is only useful if people understand what they are agreeing to, so raw scope
//! strings are never the whole story. Hera describes the standard OIDC scopes itself; the
//! operator describes their own API scopes in `HERA_SCOPES_FILE` ([`OperatorScopes`]). Scopes
//! nobody describes get no description on purpose: the page then warns the user instead of
//! guessing what a client-defined scope does.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::i18n::{Texts, DEFAULT_LANGUAGE};

/// A known scope's plain-language description, as message keys of the catalogue
/// (`locales/*.ftl`), so each language words it its own way.
#[derive(Debug, PartialEq, Eq)]
pub struct ScopeInfo {
    /// Key of the short heading for the checkbox ("See your email address").
    pub title: &'static str,
    /// Key of one sentence on what the app can do with it.
    pub description: &'static str,
}

impl ScopeInfo {
    /// Title and description in the language of `texts`.
    pub fn words(&self, texts: &Texts) -> (String, String) {
        (
            texts.text(self.title).to_owned(),
            texts.text(self.description).to_owned(),
        )
    }
}

const OPENID: ScopeInfo = ScopeInfo {
    title: "scope-openid-title",
    description: "scope-openid-description",
};

const OFFLINE_ACCESS: ScopeInfo = ScopeInfo {
    title: "scope-offline-access-title",
    description: "scope-offline-access-description",
};

const EMAIL: ScopeInfo = ScopeInfo {
    title: "scope-email-title",
    description: "scope-email-description",
};

const PROFILE: ScopeInfo = ScopeInfo {
    title: "scope-profile-title",
    description: "scope-profile-description",
};

const ADDRESS: ScopeInfo = ScopeInfo {
    title: "scope-address-title",
    description: "scope-address-description",
};

const PHONE: ScopeInfo = ScopeInfo {
    title: "scope-phone-title",
    description: "scope-phone-description",
};

/// Built-in descriptions for the standard OIDC scopes; `None` for a scope Hera does not know.
///
/// Covers the scopes of OIDC Core §5.4
/// (<https://openid.net/specs/openid-connect-core-1_0.html#ScopeClaims>) plus `openid` and
/// `offline_access` (§11). `offline` is Hydra's older spelling of `offline_access` and means the
/// same, so it gets the same words. Matching is exact: scope strings are case-sensitive
/// (RFC 6749 §3.3).
pub fn describe(scope: &str) -> Option<&'static ScopeInfo> {
    match scope {
        "openid" => Some(&OPENID),
        "offline_access" | "offline" => Some(&OFFLINE_ACCESS),
        "email" => Some(&EMAIL),
        "profile" => Some(&PROFILE),
        "address" => Some(&ADDRESS),
        "phone" => Some(&PHONE),
        _ => None,
    }
}

pub use crate::domain::consent::is_locked;

/// One scope's words in one language, as the operator wrote them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeWords {
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// The operator's descriptions of their own scopes (`HERA_SCOPES_FILE`): per scope, per
/// language tag, a title and a description. JSON or TOML, by the file's extension:
///
/// ```toml
/// ["photos.read".en]
/// title = "See your photos"
/// description = "The app can list and open the photos in your library."
///
/// ["photos.read".de]
/// title = "Ihre Fotos sehen"
/// ```
///
/// They win over Hera's own words for the same scope and language. A language the file lacks
/// reads in Hera's own words when Hera has any, else in the file's English.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperatorScopes(BTreeMap<String, BTreeMap<String, ScopeWords>>);

/// An unusable scopes file.
#[derive(Debug, thiserror::Error)]
#[error("HERA_SCOPES_FILE {file}: {problem}")]
pub struct ScopesFileError {
    file: String,
    problem: String,
}

impl OperatorScopes {
    /// Reads `HERA_SCOPES_FILE`; nothing when unset.
    pub fn load(path: Option<&Path>) -> Result<OperatorScopes, ScopesFileError> {
        let Some(path) = path else {
            return Ok(OperatorScopes::default());
        };
        let error = |problem: String| ScopesFileError {
            file: path.display().to_string(),
            problem,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let is_toml = path.extension().is_some_and(|e| e == "toml");
        OperatorScopes::parse(&text, is_toml).map_err(error)
    }

    /// Parses the file's text (TOML or JSON) and checks it.
    pub fn parse(text: &str, is_toml: bool) -> Result<OperatorScopes, String> {
        let parsed: BTreeMap<String, BTreeMap<String, ScopeWords>> = if is_toml {
            toml::from_str(text).map_err(|e| e.to_string())?
        } else {
            serde_json::from_str(text).map_err(|e| e.to_string())?
        };
        let mut scopes = BTreeMap::new();
        for (scope, languages) in parsed {
            if scope.is_empty() || scope.contains(char::is_whitespace) {
                return Err(format!("{scope:?} is not a scope"));
            }
            let mut by_tag = BTreeMap::new();
            for (tag, words) in languages {
                let well_formed = !tag.is_empty()
                    && tag
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !well_formed {
                    return Err(format!("{scope}: {tag:?} is not a language tag"));
                }
                if words.title.trim().is_empty() {
                    return Err(format!("{scope}.{tag}: the title is empty"));
                }
                by_tag.insert(tag.to_ascii_lowercase().replace('_', "-"), words);
            }
            scopes.insert(scope, by_tag);
        }
        Ok(OperatorScopes(scopes))
    }

    /// The operator's words for `scope` in one of `tags`, the first that has them.
    fn words(&self, scope: &str, tags: &[&str]) -> Option<&ScopeWords> {
        let languages = self.0.get(scope)?;
        tags.iter().find_map(|tag| languages.get(*tag))
    }
}

/// Title and description of `scope` for a page in the language of `texts`: the operator's
/// words in that language, else Hera's own, else the operator's English; `None` when nobody
/// describes it.
pub fn words(operator: &OperatorScopes, scope: &str, texts: &Texts) -> Option<(String, String)> {
    let lang = texts.lang();
    let primary = lang.split('-').next().unwrap_or(lang);
    let own = |words: &ScopeWords| (words.title.clone(), words.description.clone());
    operator
        .words(scope, &[lang, primary])
        .map(own)
        .or_else(|| describe(scope).map(|info| info.words(texts)))
        .or_else(|| operator.words(scope, &[DEFAULT_LANGUAGE]).map(own))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::server::i18n::Catalogue;

    #[test]
    fn every_standard_scope_has_a_title_and_a_description_in_every_language() {
        let catalogue = Catalogue::load().unwrap();
        for lang in catalogue.tags() {
            let texts = catalogue.negotiate(&[lang.to_owned()], None);
            for scope in [
                "openid",
                "offline_access",
                "offline",
                "email",
                "profile",
                "address",
                "phone",
            ] {
                let (title, description) = describe(scope).unwrap().words(&texts);
                assert!(
                    !title.starts_with("scope-") && !description.starts_with("scope-"),
                    "{scope} is not described in {lang}"
                );
            }
        }
    }

    #[test]
    fn offline_and_offline_access_mean_the_same() {
        assert_eq!(describe("offline"), describe("offline_access"));
    }

    #[test]
    fn unknown_scopes_are_not_described() {
        for scope in ["", "read:repo", "admin", "photos.read"] {
            assert_eq!(describe(scope), None, "{scope:?}");
        }
    }

    #[test]
    fn scope_matching_is_case_sensitive() {
        assert_eq!(describe("Email"), None);
        assert!(!is_locked("OpenID"));
    }

    #[test]
    fn only_openid_is_locked() {
        assert!(is_locked("openid"));
        for scope in [
            "offline_access",
            "offline",
            "email",
            "profile",
            "address",
            "phone",
            "x",
        ] {
            assert!(!is_locked(scope), "{scope}");
        }
    }

    #[test]
    fn titles_are_distinct_so_users_can_tell_scopes_apart() {
        let catalogue = Catalogue::load().unwrap();
        for lang in catalogue.tags() {
            let texts = catalogue.negotiate(&[lang.to_owned()], None);
            let titles = [
                "openid",
                "offline_access",
                "email",
                "profile",
                "address",
                "phone",
            ]
            .map(|s| describe(s).unwrap().words(&texts).0);
            for (i, a) in titles.iter().enumerate() {
                for b in &titles[i + 1..] {
                    assert_ne!(a, b, "{lang}");
                }
            }
        }
    }

    #[test]
    fn the_operator_describes_their_own_scopes_per_language_in_toml_or_json() {
        let toml = r#"
            ["photos.read".en]
            title = "See your photos"
            description = "The app can list and open the photos in your library."

            ["photos.read".de]
            title = "Ihre Fotos sehen"

            [email.en]
            title = "Your work email"
        "#;
        let json = r#"{"photos.read": {"en": {"title": "See your photos", "description": "The app can list and open the photos in your library."}, "de": {"title": "Ihre Fotos sehen"}}, "email": {"en": {"title": "Your work email"}}}"#;
        for (text, is_toml) in [(toml, true), (json, false)] {
            let operator = OperatorScopes::parse(text, is_toml).unwrap();
            let catalogue = Catalogue::load().unwrap();
            let en = catalogue.default_texts();
            let de = catalogue.negotiate(&["de-CH".into()], None);
            let fr = catalogue.negotiate(&["fr".into()], None);
            assert_eq!(
                words(&operator, "photos.read", &en).unwrap().0,
                "See your photos"
            );
            assert_eq!(
                words(&operator, "photos.read", &de).unwrap().0,
                "Ihre Fotos sehen"
            );
            assert_eq!(
                words(&operator, "photos.read", &fr).unwrap().0,
                "See your photos",
                "a language the file lacks reads in English"
            );
            assert_eq!(
                words(&operator, "email", &en).unwrap().0,
                "Your work email",
                "the operator's words win"
            );
            assert_ne!(
                words(&operator, "email", &de).unwrap().0,
                "Your work email",
                "German has Hera's own words for email"
            );
            assert_eq!(words(&operator, "admin", &en), None);
        }
    }

    #[test]
    fn a_scopes_file_that_makes_no_sense_is_refused_with_the_reason() {
        for (text, says) in [
            (r#"{"a b": {"en": {"title": "x"}}}"#, "is not a scope"),
            (r#"{"x": {"e n": {"title": "x"}}}"#, "is not a language tag"),
            (r#"{"x": {"en": {"title": " "}}}"#, "the title is empty"),
            (
                r#"{"x": {"en": {"title": "t", "colour": "red"}}}"#,
                "unknown field",
            ),
            ("not json", "expected"),
        ] {
            let error = OperatorScopes::parse(text, false).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
