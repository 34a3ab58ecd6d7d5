//! The consent decision: which clients are accepted without asking, and which scopes a user's
//! answer may grant.

use std::net::IpAddr;

use url::{Host, Url};

use crate::model::{Client, ConsentRequest, ConsentSession};

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
    /// Hydra remembers a consent that covers every requested scope, and remembered consents of
    /// this subject for this client already cover every requested audience.
    HydraSkip,
    /// The admin set `skip_consent` on the client.
    SkipConsent,
    /// The admin set `metadata.first_party: true` on a client no local app can impersonate
    /// (see [`local_apps_could_impersonate`]).
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

/// Auto-accepts remembered consents and first-party clients.
///
/// - A device-authorization request (RFC 8628) is always asked: the consent screen is the last
///   point where a person who was talked into typing someone else's code sees which app gets
///   the grant (RFC 8628 §5.4). Hydra itself never skips consent for device flows.
/// - Hydra's `skip` compares scopes only, so a remembered consent for API A would also let the
///   client get API B without a page. A skip is honoured only when `remembered_audiences`, the
///   audiences remembered consents of this subject for this client granted
///   ([`remembered_audiences`]), cover every requested audience; otherwise the other rules
///   decide, and without one of them the person is asked.
/// - First-party clients: every signal is admin-controlled (Hydra refuses `skip_consent` and
///   `metadata` in dynamic client registration), and first-party status is never derived from
///   client-chosen fields such as its name or URIs. `metadata.first_party` alone is not enough
///   for a public client that a local app could impersonate: `skip_consent` and
///   `TRUSTED_CLIENT_IDS` still are, because an admin set them for that client knowing what it
///   is.
pub fn decide(
    request: &ConsentRequest,
    trusted_client_ids: &[String],
    remembered_audiences: &[String],
) -> ConsentDecision {
    let client = &request.client;
    if request.is_device_flow() {
        return ConsentDecision::AskUser;
    }
    let covered = request
        .requested_audience
        .iter()
        .all(|audience| remembered_audiences.contains(audience));
    let reason = if request.skip && covered {
        AutoAcceptReason::HydraSkip
    } else if client.skip_consent {
        AutoAcceptReason::SkipConsent
    } else if client.metadata_flag("first_party") && !local_apps_could_impersonate(client) {
        AutoAcceptReason::FirstParty
    } else if trusted_client_ids.contains(&client.id) {
        AutoAcceptReason::TrustedClientId
    } else {
        return ConsentDecision::AskUser;
    };
    ConsentDecision::AutoAccept(reason)
}

/// True when [`decide`] needs the audiences of the subject's remembered consents: Hydra says
/// `skip` for a request that names audiences. Other requests are decided without them (and
/// without asking Hydra for the subject's consents).
pub fn needs_remembered_audiences(request: &ConsentRequest) -> bool {
    request.skip && !request.requested_audience.is_empty() && !request.is_device_flow()
}

/// Every audience that remembered consents of the subject for `client_id` granted, in the
/// order first seen. Only consents Hydra lists count (it lists neither expired consents nor
/// skipped ones), and among them only remembered ones: a consent the person did not ask to
/// remember says nothing about later requests.
pub fn remembered_audiences(sessions: &[ConsentSession], client_id: &str) -> Vec<String> {
    let mut audiences: Vec<String> = Vec::new();
    for session in sessions
        .iter()
        .filter(|session| session.client.id == client_id && session.remembered)
    {
        for audience in &session.granted_audience {
            if !audiences.contains(audience) {
                audiences.push(audience.clone());
            }
        }
    }
    audiences
}

/// Whether Hydra should remember an automatic accept, so that later `prompt=none` requests of
/// the same client go through: Hydra lets `prompt=none` pass only when a consent that was granted
/// with `remember: true` (and was not itself a skipped one) covers the requested scopes.
///
/// Never remembered:
/// - a Hydra skip: a remembered consent already exists, and Hydra never counts a skipped
///   consent as the remembered one;
/// - a device flow: the person must approve each device explicitly;
/// - a public client that a local app could impersonate ([`local_apps_could_impersonate`]):
///   remembering would let any app on the device reuse the grant silently.
pub fn remember_auto_accept(request: &ConsentRequest, reason: AutoAcceptReason) -> bool {
    reason != AutoAcceptReason::HydraSkip
        && !request.is_device_flow()
        && !local_apps_could_impersonate(&request.client)
}

/// True for a public client (`token_endpoint_auth_method: none`, so no secret proves who is
/// asking) with a redirect URI that any app on the user's device can receive. Such a client's
/// identity rests on nothing but its `client_id`, which is public: a malicious local app can start
/// the flow with it, listen on the loopback port or register the custom scheme, and collect the
/// code (RFC 8252 §8.6, §8.7). Only the user's explicit consent stops it.
pub fn local_apps_could_impersonate(client: &Client) -> bool {
    client.token_endpoint_auth_method.as_deref() == Some("none")
        && client
            .redirect_uris
            .iter()
            .any(|uri| redirect_reaches_local_apps(uri))
}

/// True when a redirect URI can be received by any app on the user's device: a loopback or
/// unspecified host (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`, `0.0.0.0`), or a
/// custom scheme (anything but `http` and `https`), which any app may register. A URI that does
/// not parse counts as reachable: the policy fails closed.
pub fn redirect_reaches_local_apps(uri: &str) -> bool {
    let Ok(url) = Url::parse(uri) else {
        return true;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return true;
    }
    match url.host() {
        None => true,
        Some(Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            domain == "localhost" || domain.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => is_local_ip(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_local_ip(IpAddr::V6(ip)),
    }
}

fn is_local_ip(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    ip.is_loopback() || ip.is_unspecified()
}

/// True when an answer to the consent page came sooner than `min_delay` after the page was
/// shown, or dated before it (clocks of several instances out of step count as too soon).
///
/// Double-clickjacking: a page asks for a double click, and between the two clicks swaps
/// itself for the consent page in the window under the pointer, so the second click lands on
/// "Allow" before the person could read anything. Frame-busting headers cannot stop it, because
/// the consent page is a top-level window. A person needs longer than that to read a page, so
/// an answer this fast is shown the page again.
pub fn answered_too_soon(
    shown_at: time::OffsetDateTime,
    now: time::OffsetDateTime,
    min_delay: time::Duration,
) -> bool {
    now - shown_at < min_delay
}

/// Scopes that are always granted when requested and cannot be unticked.
///
/// Only `openid`: without it an OIDC client receives no ID token and the sign-in it asked for
/// cannot happen, so letting the user untick it would only produce a confusing failure.
pub fn is_locked(scope: &str) -> bool {
    scope == "openid"
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
/// and a scope the client never asked for.
pub fn grant(requested: &[String], posted: &[String]) -> Grant {
    let mut scopes = Vec::new();
    for scope in requested {
        let wanted = posted.contains(scope) || is_locked(scope);
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
                decide(&request, &trusted, &[]),
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
                decide(&request, &[], &[]),
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
            decide(&request(false, impostor), &strings(&["trusted-app"]), &[]),
            ConsentDecision::AskUser
        );
    }

    fn public_first_party(redirect_uri: &str) -> Client {
        Client {
            token_endpoint_auth_method: Some("none".into()),
            redirect_uris: vec![redirect_uri.into()],
            metadata: json!({"first_party": true}),
            ..client("own-native-app")
        }
    }

    #[test]
    fn first_party_alone_does_not_skip_consent_for_a_public_client_a_local_app_could_impersonate() {
        for redirect_uri in [
            "http://localhost:8080/callback",
            "http://127.0.0.1:53682/",
            "http://[::1]:8080/cb",
            "https://localhost/cb",
            "http://app.localhost/cb",
            "http://127.8.9.10/cb",
            "http://0.0.0.0:9000/cb",
            "http://[::ffff:127.0.0.1]/cb",
            "com.example.app:/oauth2redirect",
            "myapp://callback",
            "not a uri",
        ] {
            assert_eq!(
                decide(&request(false, public_first_party(redirect_uri)), &[], &[]),
                ConsentDecision::AskUser,
                "{redirect_uri}"
            );
        }
    }

    #[test]
    fn one_local_redirect_among_https_ones_is_enough_to_ask() {
        let client = Client {
            redirect_uris: vec![
                "https://app.example.com/cb".into(),
                "http://127.0.0.1:8080/cb".into(),
            ],
            ..public_first_party("https://app.example.com/cb")
        };
        assert_eq!(
            decide(&request(false, client), &[], &[]),
            ConsentDecision::AskUser
        );
    }

    #[test]
    fn first_party_still_skips_consent_when_no_local_app_can_impersonate_the_client() {
        let cases = [
            (
                "a public client whose redirects are all https on real hosts",
                public_first_party("https://app.example.com/callback"),
            ),
            (
                "a confidential client with a loopback redirect (its secret proves who asks)",
                Client {
                    token_endpoint_auth_method: Some("client_secret_basic".into()),
                    ..public_first_party("http://127.0.0.1:8080/cb")
                },
            ),
            (
                "a client with the default auth method (client_secret_basic)",
                Client {
                    token_endpoint_auth_method: None,
                    ..public_first_party("myapp://callback")
                },
            ),
        ];
        for (case, client) in cases {
            assert_eq!(
                decide(&request(false, client), &[], &[]),
                ConsentDecision::AutoAccept(AutoAcceptReason::FirstParty),
                "{case}"
            );
        }
    }

    #[test]
    fn skip_consent_trusted_ids_and_hydra_skip_still_accept_a_local_public_client() {
        let local = public_first_party("http://127.0.0.1:8080/cb");
        let cases = [
            (
                request(
                    false,
                    Client {
                        skip_consent: true,
                        ..local.clone()
                    },
                ),
                vec![],
                AutoAcceptReason::SkipConsent,
            ),
            (
                request(false, local.clone()),
                strings(&["own-native-app"]),
                AutoAcceptReason::TrustedClientId,
            ),
            (
                request(true, local.clone()),
                vec![],
                AutoAcceptReason::HydraSkip,
            ),
        ];
        for (request, trusted, reason) in cases {
            assert_eq!(
                decide(&request, &trusted, &[]),
                ConsentDecision::AutoAccept(reason),
                "{reason:?}"
            );
        }
    }

    #[test]
    fn automatic_accepts_are_remembered_except_skips_device_flows_and_impersonable_clients() {
        let own = client("own-web");
        assert!(remember_auto_accept(
            &request(false, own.clone()),
            AutoAcceptReason::FirstParty
        ));
        assert!(
            !remember_auto_accept(&request(true, own.clone()), AutoAcceptReason::HydraSkip),
            "a skip already has a remembered consent"
        );
        let device = ConsentRequest {
            request_url: "http://hydra/oauth2/device/verify?client_id=own-web".into(),
            ..request(false, own)
        };
        assert!(!remember_auto_accept(
            &device,
            AutoAcceptReason::SkipConsent
        ));
        let local = request(false, public_first_party("http://127.0.0.1:8080/cb"));
        assert!(!remember_auto_accept(
            &local,
            AutoAcceptReason::TrustedClientId
        ));
    }

    fn with_audience(skip: bool, client: Client, audience: &[&str]) -> ConsentRequest {
        ConsentRequest {
            requested_audience: strings(audience),
            ..request(skip, client)
        }
    }

    #[test]
    fn a_skip_is_honoured_only_for_audiences_remembered_consents_already_cover() {
        let api_a = "https://a.example";
        let api_b = "https://b.example";
        let asked = with_audience(true, client("x"), &[api_a, api_b]);
        assert_eq!(
            decide(&asked, &[], &strings(&[api_a])),
            ConsentDecision::AskUser,
            "API B is new: the person is asked"
        );
        assert_eq!(
            decide(&asked, &[], &strings(&[api_b, api_a])),
            ConsentDecision::AutoAccept(AutoAcceptReason::HydraSkip)
        );
        assert_eq!(
            decide(&with_audience(true, client("x"), &[]), &[], &[]),
            ConsentDecision::AutoAccept(AutoAcceptReason::HydraSkip),
            "no audience, nothing to cover"
        );
        let own = Client {
            skip_consent: true,
            ..client("own")
        };
        assert_eq!(
            decide(&with_audience(true, own, &[api_b]), &[], &[]),
            ConsentDecision::AutoAccept(AutoAcceptReason::SkipConsent),
            "an uncovered skip falls through to the first-party rules"
        );
    }

    #[test]
    fn remembered_audiences_are_read_only_when_a_skip_names_audiences() {
        assert!(needs_remembered_audiences(&with_audience(
            true,
            client("x"),
            &["https://a.example"]
        )));
        assert!(!needs_remembered_audiences(&with_audience(
            false,
            client("x"),
            &["https://a.example"]
        )));
        assert!(!needs_remembered_audiences(&with_audience(
            true,
            client("x"),
            &[]
        )));
    }

    #[test]
    fn only_remembered_consents_of_the_same_client_cover_audiences() {
        let session = |client_id: &str, audience: &[&str], remembered: bool| ConsentSession {
            client: client(client_id),
            granted_scope: strings(&["openid"]),
            granted_audience: strings(audience),
            remembered,
            handled_at: None,
        };
        let sessions = [
            session("app", &["https://a.example"], true),
            session("app", &["https://b.example", "https://a.example"], true),
            session("app", &["https://c.example"], false),
            session("other", &["https://d.example"], true),
        ];
        assert_eq!(
            remembered_audiences(&sessions, "app"),
            ["https://a.example", "https://b.example"]
        );
        assert!(remembered_audiences(&sessions, "nobody").is_empty());
    }

    #[test]
    fn a_device_flow_is_never_accepted_without_asking() {
        let device = |client: Client, skip: bool| ConsentRequest {
            request_url: "http://hydra/oauth2/device/verify?client_id=tv".into(),
            ..request(skip, client)
        };
        let cases = [
            (
                "skip_consent",
                device(
                    Client {
                        skip_consent: true,
                        ..client("tv")
                    },
                    false,
                ),
            ),
            (
                "first_party",
                device(
                    Client {
                        metadata: json!({"first_party": true}),
                        ..client("tv")
                    },
                    false,
                ),
            ),
            ("TRUSTED_CLIENT_IDS", device(client("tv"), false)),
            ("a Hydra skip", device(client("tv"), true)),
        ];
        for (case, request) in cases {
            assert_eq!(
                decide(&request, &strings(&["tv"]), &[]),
                ConsentDecision::AskUser,
                "{case}"
            );
            assert!(!needs_remembered_audiences(&request), "{case}");
        }
    }

    #[test]
    fn an_answer_within_the_minimum_delay_is_too_soon() {
        use time::macros::datetime;
        use time::Duration;
        let shown = datetime!(2026-01-02 03:04:05 UTC);
        let second = Duration::SECOND;
        assert!(answered_too_soon(shown, shown, second));
        assert!(answered_too_soon(
            shown,
            shown + Duration::milliseconds(999),
            second
        ));
        assert!(!answered_too_soon(shown, shown + second, second));
        assert!(
            answered_too_soon(shown, shown - Duration::seconds(5), second),
            "an answer dated before the page"
        );
        assert!(!answered_too_soon(shown, shown, Duration::ZERO));
    }

    #[test]
    fn only_loopback_hosts_and_custom_schemes_reach_local_apps() {
        for uri in [
            "https://app.example.com/cb",
            "http://app.example.com/cb",
            "https://localhost.example.com/cb",
            "https://192.168.1.10/cb",
            "https://[2001:db8::1]/cb",
        ] {
            assert!(!redirect_reaches_local_apps(uri), "{uri}");
        }
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
