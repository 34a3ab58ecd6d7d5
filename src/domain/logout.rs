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
}

/// Signs out without asking only when both hold: the admin marked the client
/// `skip_logout_consent` (Hydra refuses that field in dynamic registration), **and** the request
/// is RP-initiated, so the client itself asked with an `id_token_hint`. Anything else is
/// confirmed: without the question any web page could sign users out by linking to Hydra's
/// `/oauth2/sessions/logout`.
pub fn decide(request: &LogoutRequest) -> LogoutDecision {
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
                decide(&request(rp_initiated, client)),
                expected,
                "rp_initiated={rp_initiated} skip_logout_consent={skip:?}"
            );
        }
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
