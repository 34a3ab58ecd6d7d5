//! The consent decision: which clients are accepted without asking, and which scopes a user's
//! answer may grant.

use crate::ory::ConsentRequest;

/// What to do with a consent request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentDecision {
    /// Accept every requested scope and audience without showing a page.
    AutoAccept(AutoAcceptReason),
    /// Show the consent page.
    AskUser,
}

/// Why a consent was accepted without asking, written to the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoAcceptReason {
    /// Hydra remembers a consent that covers every requested scope.
    HydraSkip,
    /// The admin set `skip_consent` on the client.
    SkipConsent,
    /// The admin set `metadata.first_party: true` on the client.
    FirstParty,
    /// The client id is in `TRUSTED_CLIENT_IDS`.
    TrustedClientId,
}

impl AutoAcceptReason {
    pub fn as_str(self) -> &'static str {
        match self {
            AutoAcceptReason::HydraSkip => "hydra_skip",
            AutoAcceptReason::SkipConsent => "client_skip_consent",
            AutoAcceptReason::FirstParty => "client_first_party",
            AutoAcceptReason::TrustedClientId => "trusted_client_ids",
        }
    }
}

/// Auto-accepts first-party clients. Every signal is admin-controlled: Hydra refuses
/// `skip_consent` and `metadata` in dynamic client registration (CONTRACT.md §2.1), and
/// first-party status is never derived from client-chosen fields such as its name or URIs.
pub fn decide(request: &ConsentRequest, trusted_client_ids: &[String]) -> ConsentDecision {
    let client = &request.client;
    let reason = if request.skip {
        AutoAcceptReason::HydraSkip
    } else if client.skip_consent {
        AutoAcceptReason::SkipConsent
    } else if client.metadata_flag("first_party") {
        AutoAcceptReason::FirstParty
    } else if trusted_client_ids.contains(&client.id) {
        AutoAcceptReason::TrustedClientId
    } else {
        return ConsentDecision::AskUser;
    };
    ConsentDecision::AutoAccept(reason)
}

/// The scopes a consent grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Granted scopes, in the order they were requested.
    pub scopes: Vec<String>,
    /// Posted values that were never requested; dropped (and logged by the caller).
    pub dropped: Vec<String>,
}

/// Granted = posted ∩ requested, plus the locked scopes (`openid`) when requested. Hydra stores
/// whatever it is sent, so this intersection is the only thing standing between a crafted form
/// and a scope the client never asked for (anchors S1).
pub fn grant(requested: &[String], posted: &[String]) -> Grant {
    let mut scopes = Vec::new();
    for scope in requested {
        let wanted = posted.contains(scope) || super::scopes::is_locked(scope);
        if wanted && !scopes.contains(scope) {
            scopes.push(scope.clone());
        }
    }
    let mut dropped: Vec<String> = Vec::new();
    for value in posted {
        if !requested.contains(value) && !dropped.contains(value) {
            dropped.push(value.clone());
        }
    }
    Grant { scopes, dropped }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ory::Client;
    use serde_json::json;

    fn request(skip: bool, client: Client) -> ConsentRequest {
        ConsentRequest {
            skip,
            subject: "identity-ada".into(),
            client,
            request_url: String::new(),
            requested_scope: vec![],
            requested_audience: vec![],
            oidc_context: Default::default(),
            acr: None,
            amr: vec![],
            login_session_id: None,
        }
    }

    fn client(id: &str) -> Client {
        Client {
            id: id.into(),
            ..Client::default()
        }
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn each_first_party_signal_auto_accepts_with_its_reason() {
        let trusted = strings(&["trusted-app"]);
        let cases = [
            (
                request(true, client("x")),
                Some(AutoAcceptReason::HydraSkip),
            ),
            (
                request(
                    false,
                    Client {
                        skip_consent: true,
                        ..client("x")
                    },
                ),
                Some(AutoAcceptReason::SkipConsent),
            ),
            (
                request(
                    false,
                    Client {
                        metadata: json!({"first_party": true}),
                        ..client("x")
                    },
                ),
                Some(AutoAcceptReason::FirstParty),
            ),
            (
                request(false, client("trusted-app")),
                Some(AutoAcceptReason::TrustedClientId),
            ),
            (request(false, client("third-party")), None),
        ];
        for (request, expected) in cases {
            let expected = expected.map_or(ConsentDecision::AskUser, ConsentDecision::AutoAccept);
            assert_eq!(
                decide(&request, &trusted),
                expected,
                "{}",
                request.client.id
            );
        }
    }

    #[test]
    fn first_party_must_be_a_json_boolean_true() {
        for metadata in [
            json!({"first_party": "true"}),
            json!({"first_party": 1}),
            json!({"first_party": false}),
            json!(null),
            json!({"FIRST_PARTY": true}),
        ] {
            let request = request(
                false,
                Client {
                    metadata: metadata.clone(),
                    ..client("x")
                },
            );
            assert_eq!(
                decide(&request, &[]),
                ConsentDecision::AskUser,
                "{metadata}"
            );
        }
    }

    #[test]
    fn a_client_name_or_uri_never_makes_a_client_first_party() {
        let impostor = Client {
            name: Some("first_party".into()),
            client_uri: Some("https://trusted-app.example".into()),
            ..client("impostor")
        };
        assert_eq!(
            decide(&request(false, impostor), &strings(&["trusted-app"])),
            ConsentDecision::AskUser
        );
    }

    #[test]
    fn a_grant_never_contains_a_scope_that_was_not_requested() {
        let grant = grant(
            &strings(&["openid", "email"]),
            &strings(&["email", "admin", "admin"]),
        );
        assert_eq!(grant.scopes, ["openid", "email"]);
        assert_eq!(grant.dropped, ["admin"]);
    }

    #[test]
    fn openid_cannot_be_unticked_but_other_scopes_can() {
        let grant = grant(
            &strings(&["openid", "email", "profile"]),
            &strings(&["profile"]),
        );
        assert_eq!(grant.scopes, ["openid", "profile"]);
        assert!(grant.dropped.is_empty());
    }

    #[test]
    fn openid_is_not_added_when_it_was_not_requested() {
        let grant = grant(&strings(&["email"]), &strings(&["openid", "email"]));
        assert_eq!(grant.scopes, ["email"]);
        assert_eq!(grant.dropped, ["openid"]);
    }

    #[test]
    fn nothing_posted_grants_only_locked_scopes() {
        assert_eq!(
            grant(&strings(&["openid", "email"]), &[]).scopes,
            ["openid"]
        );
        assert!(grant(&strings(&["email"]), &[]).scopes.is_empty());
    }
}
