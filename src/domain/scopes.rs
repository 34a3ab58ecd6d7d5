//! The scope catalogue: what each standard OAuth 2.0 / OIDC scope means, in words an end user
//! can act on.
//!
//! The consent page is only useful if people understand what they are agreeing to, so raw scope
//! strings are never the whole story. Scopes Hera does not know get no description on purpose:
//! the page then warns the user instead of guessing what a client-defined scope does.

/// A known scope's plain-language description.
#[derive(Debug, PartialEq, Eq)]
pub struct ScopeInfo {
    /// Short heading for the checkbox ("See your email address").
    pub title: &'static str,
    /// One sentence on what the app can do with it.
    pub description: &'static str,
}

const OPENID: ScopeInfo = ScopeInfo {
    title: "Sign you in",
    description:
        "Let the app confirm who you are with your account ID. It never sees your password.",
};

const OFFLINE_ACCESS: ScopeInfo = ScopeInfo {
    title: "Stay connected",
    description: "Keep the access you allow here even while you are not using the app, \
                  until you remove it.",
};

const EMAIL: ScopeInfo = ScopeInfo {
    title: "See your email address",
    description: "Your email address and whether you have verified it.",
};

const PROFILE: ScopeInfo = ScopeInfo {
    title: "See your basic profile",
    description: "Your name, username, website and when your profile last changed.",
};

const ADDRESS: ScopeInfo = ScopeInfo {
    title: "See your postal address",
    description: "The postal address saved in your account.",
};

const PHONE: ScopeInfo = ScopeInfo {
    title: "See your phone number",
    description: "Your phone number and whether you have verified it.",
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

/// Scopes that are always granted when requested and cannot be unticked.
///
/// Only `openid`: without it an OIDC client receives no ID token and the sign-in it asked for
/// cannot happen, so letting the user untick it would only produce a confusing failure.
pub fn is_locked(scope: &str) -> bool {
    scope == "openid"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standard_scope_has_a_title_and_a_description() {
        for scope in [
            "openid",
            "offline_access",
            "offline",
            "email",
            "profile",
            "address",
            "phone",
        ] {
            let info = describe(scope);
            assert!(
                info.is_some_and(|i| !i.title.is_empty() && !i.description.is_empty()),
                "{scope} is not described"
            );
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
        let titles = [
            "openid",
            "offline_access",
            "email",
            "profile",
            "address",
            "phone",
        ]
        .map(|s| describe(s).map(|i| i.title));
        for (i, a) in titles.iter().enumerate() {
            for b in &titles[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
