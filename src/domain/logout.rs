//! The logout decision: sign out straight away or ask first, and where "No" leads.

use url::Url;

use crate::model::{Client, LogoutRequest};

/// What to do with a logout request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutDecision {
    /// Accept without asking.
    Accept,
    /// Show the confirmation page.
    AskUser,
    /// End nothing: the request would end the sessions of someone this browser is not signed in
    /// as. Say so, and offer a way on.
    NotThisPerson,
}

/// Whether the browser's own Kratos session is the logout's subject: `viewer` is the identity
/// the browser is signed in as, if any.
pub fn is_subject(request: &LogoutRequest, viewer: Option<&str>) -> bool {
    !request.subject.is_empty() && viewer == Some(request.subject.as_str())
}

/// The decision, for a browser signed in as `viewer` (if anyone).
///
/// - An RP-initiated logout names its session by the `id_token_hint`, not by the browser's
///   cookie: Hydra ends the sessions of whoever the hint is for. Anyone holding a person's ID
///   token could open the logout URL in their own browser and end that person's sessions, so
///   Hera accepts an RP-initiated logout only in a browser signed in as its subject.
/// - Otherwise it signs out without asking only when both hold: the admin marked the client
///   `skip_logout_consent` (Hydra refuses that field in dynamic registration), **and** the
///   request is RP-initiated, so the client itself asked with an `id_token_hint`.
/// - Anything else is confirmed: without the question any web page could sign users out by
///   linking to Hydra's `/oauth2/sessions/logout`. An OP-initiated logout ends the session of
///   Hydra's own cookie in this very browser, so it needs no binding beyond that.
pub fn decide(request: &LogoutRequest, viewer: Option<&str>) -> LogoutDecision {
    if request.rp_initiated && !is_subject(request, viewer) {
        return LogoutDecision::NotThisPerson;
    }
    let client_may_skip = request
        .client
        .as_ref()
        .is_some_and(|client| client.skip_logout_consent);
    if client_may_skip && request.rp_initiated {
        LogoutDecision::Accept
    } else {
        LogoutDecision::AskUser
    }
}

/// Where someone who chose to stay signed in goes: the client's own site when its `client_uri`
/// is an https URL (Hydra validated it as an absolute URI when the client was registered);
/// `None` means Hera's home page. Never a fixed external site.
pub fn after_staying_signed_in(client: Option<&Client>) -> Option<Url> {
    let uri = client?.client_uri.as_deref()?;
    Url::parse(uri)
        .ok()
        .filter(|url| url.scheme() == "https" && url.host().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(rp_initiated: bool, client: Option<Client>) -> LogoutRequest {
        LogoutRequest {
            subject: "identity-ada".into(),
            rp_initiated,
            client,
        }
    }

    fn client(skip_logout_consent: bool) -> Client {
        Client {
            id: "app".into(),
            skip_logout_consent,
            ..Client::default()
        }
    }

    #[test]
    fn only_an_rp_initiated_logout_of_a_skip_logout_consent_client_skips_the_question() {
        let cases = [
            (true, Some(client(true)), LogoutDecision::Accept),
            (false, Some(client(true)), LogoutDecision::AskUser),
            (true, Some(client(false)), LogoutDecision::AskUser),
            (false, Some(client(false)), LogoutDecision::AskUser),
            (true, None, LogoutDecision::AskUser),
            (false, None, LogoutDecision::AskUser),
        ];
        for (rp_initiated, client, expected) in cases {
            let skip = client.as_ref().map(|c| c.skip_logout_consent);
            assert_eq!(
                decide(&request(rp_initiated, client), Some("identity-ada")),
                expected,
                "rp_initiated={rp_initiated} skip_logout_consent={skip:?}"
            );
        }
    }

    #[test]
    fn an_rp_initiated_logout_ends_nothing_in_a_browser_not_signed_in_as_its_subject() {
        for viewer in [None, Some("identity-bob")] {
            for client in [Some(client(true)), Some(client(false)), None] {
                assert_eq!(
                    decide(&request(true, client), viewer),
                    LogoutDecision::NotThisPerson,
                    "{viewer:?}"
                );
            }
            assert_eq!(
                decide(&request(false, Some(client(true))), viewer),
                LogoutDecision::AskUser,
                "an OP-initiated logout ends this browser's own Hydra session: {viewer:?}"
            );
        }
        let nobody = LogoutRequest {
            subject: String::new(),
            ..request(true, None)
        };
        assert_eq!(decide(&nobody, Some("")), LogoutDecision::NotThisPerson);
    }

    #[test]
    fn staying_signed_in_returns_to_an_https_client_uri_only() {
        let with_uri = |uri: &str| Client {
            client_uri: Some(uri.into()),
            ..client(false)
        };
        assert_eq!(
            after_staying_signed_in(Some(&with_uri("https://app.example/home"))).map(String::from),
            Some("https://app.example/home".to_owned())
        );
        for uri in [
            "http://app.example/",
            "javascript:alert(1)",
            "//evil.example",
            "/relative",
            "https:",
            "data:text/html,hi",
        ] {
            assert_eq!(after_staying_signed_in(Some(&with_uri(uri))), None, "{uri}");
        }
        assert_eq!(after_staying_signed_in(Some(&client(false))), None);
        assert_eq!(after_staying_signed_in(None), None);
    }
}
