//! Kratos authentication methods as RFC 8176 `amr` values, and `mfa` when factors combine.
//!
//! | Kratos method | `amr` | why |
//! |---|---|---|
//! | `password` | `pwd` | a password |
//! | `totp`, `lookup_secret`, `code`, `code_recovery`, `link_recovery` | `otp` | a one-time code or link |
//! | `webauthn`, `passkey` | `hwk` | a proof of possession of a (hardware-backed) key |
//! | `oidc`, `saml` | `fed` | signed in at another identity provider (not registered in RFC 8176, but widely used) |
//! | `profile`, `identifier_first` | — | steps of a flow, not authentication factors |
//! | anything else | unchanged | RFC 8176 §1 allows unregistered values; Kratos adds methods over time |
//!
//! `mfa` is added when two or more different factor values were used (for example `pwd` and
//! `otp`), never for two methods of the same kind.

use crate::model::AuthenticationMethod;

/// The `amr` claim for a Kratos session's authentication methods, in the order they were used.
pub fn amr(methods: &[AuthenticationMethod]) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    let mut factors = 0;
    for method in methods {
        let Some((value, is_factor)) = map(&method.method) else {
            continue;
        };
        if !values.iter().any(|v| v == value) {
            values.push(value.to_owned());
            if is_factor {
                factors += 1;
            }
        }
    }
    if factors >= 2 {
        values.push("mfa".to_owned());
    }
    values
}

/// `(amr value, counts as a factor)`, or `None` for flow steps that prove nothing.
fn map(method: &str) -> Option<(&str, bool)> {
    Some(match method {
        "password" => ("pwd", true),
        "totp" | "lookup_secret" | "code" | "code_recovery" | "link_recovery" => ("otp", true),
        "webauthn" | "passkey" => ("hwk", true),
        "oidc" | "saml" => ("fed", true),
        "profile" | "identifier_first" => return None,
        other => (other, false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amr_of(methods: &[&str]) -> Vec<String> {
        let methods: Vec<AuthenticationMethod> = methods
            .iter()
            .map(|m| AuthenticationMethod {
                method: (*m).into(),
                aal: None,
                completed_at: None,
            })
            .collect();
        amr(&methods)
    }

    #[test]
    fn kratos_methods_map_to_rfc_8176_values() {
        let cases: &[(&[&str], &[&str])] = &[
            (&["password"], &["pwd"]),
            (&["totp"], &["otp"]),
            (&["lookup_secret"], &["otp"]),
            (&["code"], &["otp"]),
            (&["webauthn"], &["hwk"]),
            (&["passkey"], &["hwk"]),
            (&["oidc"], &["fed"]),
            (&["saml"], &["fed"]),
            (&["deviceauthn"], &["deviceauthn"]),
            (&["identifier_first", "password"], &["pwd"]),
            (&["profile"], &[]),
            (&[], &[]),
        ];
        for (methods, expected) in cases {
            assert_eq!(amr_of(methods), *expected, "{methods:?}");
        }
    }

    #[test]
    fn two_different_factors_add_mfa() {
        assert_eq!(amr_of(&["password", "totp"]), ["pwd", "otp", "mfa"]);
        assert_eq!(amr_of(&["oidc", "webauthn"]), ["fed", "hwk", "mfa"]);
        assert_eq!(
            amr_of(&["password", "password", "totp"]),
            ["pwd", "otp", "mfa"]
        );
    }

    #[test]
    fn two_methods_of_the_same_kind_are_not_mfa() {
        assert_eq!(amr_of(&["totp", "lookup_secret"]), ["otp"]);
        assert_eq!(amr_of(&["webauthn", "passkey"]), ["hwk"]);
    }

    #[test]
    fn unknown_methods_never_count_towards_mfa() {
        assert_eq!(amr_of(&["password", "deviceauthn"]), ["pwd", "deviceauthn"]);
    }
}
