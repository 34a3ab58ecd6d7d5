//! The scope catalogue: what each standard OAuth 2.0 / OIDC scope means, in words an end user
//! can act on.
//!
//! The consent page is only useful if people understand what they are agreeing to, so raw scope
//! strings are never the whole story. Scopes Hera does not know get no description on purpose:
//! the page then warns the user instead of guessing what a client-defined scope does.

use super::i18n::Texts;

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
}
