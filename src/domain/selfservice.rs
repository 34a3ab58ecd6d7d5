//! Kratos's browser self-service flows, decided: how a flow's nodes become forms, what to do
//! when Kratos gives no flow, which addresses a page may post to or send a browser to, and
//! what a signed-in device is.
//!
//! The page renders [`layout`]'s sections generically, so a method Kratos adds needs no code:
//! its group becomes one more form. Kratos's own rules are described in
//! <https://www.ory.sh/docs/kratos/concepts/ui-user-interface> and
//! <https://www.ory.sh/docs/kratos/self-service>.

use url::Url;

use crate::model::flow::{Attributes, Flow, FlowProblem, FlowStart, Node};
use crate::model::KratosFlow;

/// The group of nodes every form needs (`csrf_token`, the login identifier, traits).
pub const DEFAULT_GROUP: &str = "default";
/// Identifier-first sign-in: its hidden identifier is shared once the first step is done.
pub const IDENTIFIER_FIRST_GROUP: &str = "identifier_first";

/// One part of the page: the nodes of one method group, in Kratos's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The method group (`password`, `code`, `oidc`, …, or one Hera does not know).
    pub group: String,
    /// Indices into the flow's nodes: the group's own nodes, and the visible default fields
    /// (identifier, traits) when the method needs them.
    pub nodes: Vec<usize>,
    /// A `<form>` posting to the flow's action, carrying [`Layout::shared`]; false for a
    /// section without inputs (a "continue" link, a text).
    pub is_form: bool,
}

/// How a flow is laid out on the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// In the order they are shown.
    pub sections: Vec<Section>,
    /// Hidden inputs every form carries (`csrf_token`, hidden traits, the hidden identifier).
    pub shared: Vec<usize>,
    /// `script` nodes (Kratos's WebAuthn script), loaded once for the page.
    pub scripts: Vec<usize>,
}

/// The forms of a flow: one per method group, in a stable order (identifier first, then the
/// profile, password and codes; social sign-in apart; second factors each on their own), each
/// with its own submit buttons. Visible default fields (the login identifier, registration
/// traits) go into every method that submits them; hidden ones into every form.
pub fn layout(kind: KratosFlow, flow: &Flow) -> Layout {
    let nodes = &flow.ui.nodes;
    let mut layout = Layout::default();
    let identifier_first_done = !nodes.iter().any(|node| {
        node.group == IDENTIFIER_FIRST_GROUP && node.input().is_some_and(|i| !i.is_hidden())
    });
    let mut visible_defaults = Vec::new();
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        if matches!(node.attributes, Attributes::Script(_)) {
            layout.scripts.push(index);
            continue;
        }
        let hidden = node.input().is_some_and(|input| input.is_hidden());
        let shared_group = node.group == DEFAULT_GROUP
            || (node.group == IDENTIFIER_FIRST_GROUP && identifier_first_done);
        if shared_group && hidden {
            layout.shared.push(index);
            continue;
        }
        if node.group == DEFAULT_GROUP {
            visible_defaults.push(index);
            continue;
        }
        match groups.iter_mut().find(|(group, _)| *group == node.group) {
            Some((_, members)) => members.push(index),
            None => groups.push((node.group.clone(), vec![index])),
        }
    }
    let takes_defaults = |group: &str| needs_identity_fields(kind, group);
    if !visible_defaults.is_empty() && !groups.iter().any(|(group, _)| takes_defaults(group)) {
        // Nothing submits them: they stand on their own (their messages must still show).
        groups.insert(0, (DEFAULT_GROUP.to_owned(), Vec::new()));
    }
    let mut sections: Vec<(u8, usize, Section)> = groups
        .into_iter()
        .enumerate()
        .map(|(appearance, (group, own))| {
            let mut members = if group == DEFAULT_GROUP || takes_defaults(&group) {
                visible_defaults.clone()
            } else {
                Vec::new()
            };
            members.extend(own);
            members.sort_unstable();
            let is_form = members
                .iter()
                .any(|&i| matches!(nodes[i].attributes, Attributes::Input(_)));
            let rank = if is_back_only(nodes, &members) {
                u8::MAX
            } else {
                rank(kind, &group)
            };
            let section = Section {
                group,
                nodes: members,
                is_form,
            };
            (rank, appearance, section)
        })
        .collect();
    sections.sort_by_key(|(rank, appearance, _)| (*rank, *appearance));
    layout.sections = sections.into_iter().map(|(_, _, s)| s).collect();
    layout
}

/// Whether a method's form submits the visible default fields (the login identifier,
/// registration traits): every method but social sign-in, and passkey sign-in, which finds
/// the account by the key itself.
fn needs_identity_fields(kind: KratosFlow, group: &str) -> bool {
    match group {
        "oidc" | "saml" => false,
        "passkey" => kind != KratosFlow::Login,
        _ => true,
    }
}

/// A section whose only button is Kratos's "back" (`screen=previous`): shown last.
fn is_back_only(nodes: &[Node], members: &[usize]) -> bool {
    let buttons: Vec<&str> = members
        .iter()
        .filter_map(|&i| nodes[i].input())
        .filter(|input| input.is_button())
        .map(|input| input.name.as_str())
        .collect();
    !buttons.is_empty() && buttons.iter().all(|name| *name == "screen")
}

/// The place of a method group on the page; unknown groups follow the known ones.
fn rank(kind: KratosFlow, group: &str) -> u8 {
    let order: &[&str] = match kind {
        KratosFlow::Settings => &[
            "profile",
            "password",
            "oidc",
            "saml",
            "totp",
            "lookup_secret",
            "webauthn",
            "passkey",
        ],
        _ => &[
            "default",
            "identifier_first",
            "profile",
            "password",
            "code",
            "link",
            "totp",
            "lookup_secret",
            "webauthn",
            "passkey",
            "oidc",
            "saml",
        ],
    };
    order
        .iter()
        .position(|known| *known == group)
        .and_then(|p| u8::try_from(p).ok())
        .unwrap_or(100)
}

/// Whether a flow's form may post to `action`: only to Kratos as browsers reach it, or to Hera
/// itself, compared by origin after URL normalisation (so `HTTP://ID.EXAMPLE:443` and
/// `https://id.example` are the same place). Anything else would send the CSRF token and what
/// the person typed elsewhere.
pub fn action_allowed(action: &str, kratos_browser: &Url, hera: &Url) -> bool {
    let Ok(action) = Url::parse(action) else {
        return false;
    };
    matches!(action.scheme(), "http" | "https")
        && action.username().is_empty()
        && action.password().is_none()
        && [kratos_browser, hera]
            .iter()
            .any(|allowed| allowed.origin() == action.origin())
}

/// An `http(s)` URL from Kratos (a "continue" link, a `redirect_browser_to`) fit for a link or a
/// redirect: absolute, with a host and no credentials; normalised.
pub fn usable_url(url: &str) -> Option<String> {
    let parsed = Url::parse(url).ok()?;
    let usable = matches!(parsed.scheme(), "http" | "https")
        && parsed.host().is_some()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    usable.then(|| parsed.into())
}

/// The longest `return_to` Hera passes on.
const MAX_RETURN_TO: usize = 2048;

/// A `return_to` from a link into Hera (`/login?return_to=…`), to pass to Kratos, which checks
/// it against `selfservice.allowed_return_urls`: an absolute `http(s)` URL, or a path on Hera
/// (`/connected-apps`), normalised. Protocol-relative (`//evil`), backslashed, credentialed,
/// other-scheme, overlong and control-character values are dropped.
pub fn accept_return_to(raw: &str, hera: &Url) -> Option<String> {
    if raw.is_empty()
        || raw.len() > MAX_RETURN_TO
        || raw
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    if raw.starts_with('/') {
        if raw.starts_with("//") {
            return None;
        }
        let base = hera.as_str().trim_end_matches('/');
        return usable_url(&format!("{base}{raw}"));
    }
    usable_url(raw)
}

/// The login challenge when `return_to` is Hera's own `/login?login_challenge=…`: a flow
/// started for an application signing someone in through Hydra.
pub fn login_challenge_in(return_to: &str, hera: &Url) -> Option<String> {
    let url = Url::parse(return_to).ok()?;
    let login_path = format!("{}/login", hera.path().trim_end_matches('/'));
    if url.origin() != hera.origin() || url.path() != login_path {
        return None;
    }
    url.query_pairs()
        .find(|(name, _)| name == "login_challenge")
        .map(|(_, value)| value.into_owned())
        .filter(|challenge| !challenge.is_empty())
}

/// What to do when Kratos gave no flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// Start a new flow of the same kind (Kratos's browser init) with these parameters.
    Restart(FlowStart),
    /// Render this flow instead (Kratos replaced the flow).
    UseFlow(String),
    /// Send the browser to this address Kratos named (already checked with [`usable_url`]).
    Redirect(String),
    /// Sign in first (`aal2`: with a second factor; `refresh`: again), then come back.
    SignIn { aal2: bool, refresh: bool },
    /// Already signed in: go where the flow would have ended.
    AlreadySignedIn,
    /// Nothing helps; explain.
    Fail(Failure),
}

/// Why a flow cannot be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Unknown or expired, and a new flow failed the same way.
    Gone,
    /// Kratos's CSRF check failed, and a new flow failed the same way.
    Csrf,
    /// Kratos's CSRF check failed and the browser sent no Kratos CSRF cookie: cookies are
    /// blocked, or Hera and Kratos do not share a cookie domain. A new flow cannot help.
    NoCookies,
    /// Anything else Kratos refused, with its status.
    Refused(u16),
}

/// The next step after Kratos answered `problem` for a `kind` flow. `start` is what the new flow
/// would be started with (the page's own `return_to`, `refresh`, `aal`); `retried` says a new
/// flow was started for this page moments ago, so starting another would loop;
/// `sent_csrf_cookie` whether the browser sent Kratos's CSRF cookie at all.
pub fn recover(
    kind: KratosFlow,
    problem: &FlowProblem,
    start: FlowStart,
    retried: bool,
    sent_csrf_cookie: bool,
) -> Recovery {
    let restart = |start: FlowStart, failure: Failure| {
        if retried {
            Recovery::Fail(failure)
        } else {
            Recovery::Restart(start)
        }
    };
    match (problem.status, problem.id.as_deref()) {
        (_, Some("browser_location_change_required")) => {
            match problem.redirect_browser_to.as_deref().and_then(usable_url) {
                Some(to) => Recovery::Redirect(to),
                None => Recovery::Fail(Failure::Refused(problem.status)),
            }
        }
        (_, Some("session_already_available")) => Recovery::AlreadySignedIn,
        (_, Some("session_aal2_required")) => Recovery::SignIn {
            aal2: true,
            refresh: false,
        },
        (_, Some("session_refresh_required")) => Recovery::SignIn {
            aal2: false,
            refresh: true,
        },
        // A second factor was asked for without a session: an ordinary sign-in instead.
        (_, Some("session_aal1_required")) => restart(
            FlowStart {
                aal2: false,
                refresh: false,
                ..start
            },
            Failure::Gone,
        ),
        (403, Some("security_csrf_violation")) if !sent_csrf_cookie => {
            Recovery::Fail(Failure::NoCookies)
        }
        (403, Some("security_csrf_violation")) => restart(start, Failure::Csrf),
        // Another identity's settings flow.
        (403, Some("security_identity_mismatch")) => restart(start, Failure::Gone),
        (410, _) => match &problem.use_flow_id {
            Some(id) => Recovery::UseFlow(id.clone()),
            None => {
                let start = FlowStart {
                    return_to: problem.return_to.clone().or(start.return_to),
                    ..start
                };
                restart(start, Failure::Gone)
            }
        },
        (404, _) => restart(start, Failure::Gone),
        (401, _) if kind == KratosFlow::Settings => Recovery::SignIn {
            aal2: false,
            refresh: false,
        },
        (status, _) => Recovery::Fail(Failure::Refused(status)),
    }
}

/// What Kratos's error page should say about a recorded error (`/self-service/errors`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The CSRF check failed.
    Csrf,
    /// The address to return to is not allowed.
    ReturnToForbidden,
    /// This needs a session the browser does not have.
    NotSignedIn,
    /// A second factor was asked for without signing in first.
    SecondFactorWithoutSession,
    /// Already signed in.
    AlreadySignedIn,
    /// The flow expired.
    Expired,
    /// The flow is switched off in Kratos's configuration.
    Disabled,
    /// Another person's flow.
    OtherAccount,
    /// Anything else.
    Other,
}

/// Classifies a recorded error by its id; errors without one (a disabled flow says so only in
/// its reason) by what Kratos's reason says.
pub fn error_kind(problem: &FlowProblem) -> ErrorKind {
    match problem.id.as_deref() {
        Some("security_csrf_violation") => ErrorKind::Csrf,
        Some("self_service_flow_return_to_forbidden") => ErrorKind::ReturnToForbidden,
        Some("session_inactive") => ErrorKind::NotSignedIn,
        Some("session_aal1_required") => ErrorKind::SecondFactorWithoutSession,
        Some("session_already_available") => ErrorKind::AlreadySignedIn,
        Some("self_service_flow_expired") => ErrorKind::Expired,
        Some("self_service_flow_disabled") => ErrorKind::Disabled,
        Some("security_identity_mismatch") => ErrorKind::OtherAccount,
        Some(_) => ErrorKind::Other,
        None if problem
            .reason
            .as_deref()
            .is_some_and(|reason| reason.contains("because it was disabled")) =>
        {
            ErrorKind::Disabled
        }
        None => ErrorKind::Other,
    }
}

/// A browser and operating system, from a `User-Agent`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceKind {
    pub browser: Option<&'static str>,
    pub system: Option<&'static str>,
}

/// Names the browser and system of a `User-Agent` well enough for a person to recognise their
/// own devices; tokens are checked most specific first (Edge and Chrome both say "Safari").
pub fn device_kind(user_agent: &str) -> DeviceKind {
    let has = |token: &str| user_agent.contains(token);
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(token, _)| has(token))
    .map(|(_, name)| name);
    let system = [
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(token, _)| has(token))
    .map(|(_, name)| name);
    DeviceKind { browser, system }
}

/// A Kratos session id fit for a path: a UUID (8-4-4-4-12 hex digits).
pub fn is_session_id(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::flow::Ui;
    use serde_json::json;

    fn flow(nodes: serde_json::Value) -> Flow {
        Flow {
            id: "f".into(),
            ui: Ui {
                action: "https://id.example/self-service/login?flow=f".into(),
                method: "POST".into(),
                nodes: serde_json::from_value(nodes).unwrap(),
                messages: vec![],
            },
            return_to: None,
            state: None,
            refresh: false,
            requested_aal: None,
            request_url: None,
        }
    }

    fn input(group: &str, name: &str, input_type: &str) -> serde_json::Value {
        json!({"type": "input", "group": group, "attributes": {"name": name, "type": input_type, "disabled": false, "node_type": "input"}, "messages": [], "meta": {"label": {"id": 1, "text": name, "type": "info"}}})
    }

    fn names(flow: &Flow, layout: &Layout) -> Vec<(String, Vec<String>)> {
        layout
            .sections
            .iter()
            .map(|s| {
                (
                    s.group.clone(),
                    s.nodes
                        .iter()
                        .map(|&i| {
                            flow.ui.nodes[i]
                                .input()
                                .map_or("?".into(), |n| n.name.clone())
                        })
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn unified_sign_in_gives_each_method_its_form_with_the_identifier_and_social_apart() {
        let f = flow(json!([
            input("oidc", "provider", "submit"),
            input("default", "csrf_token", "hidden"),
            input("default", "identifier", "text"),
            input("code", "method", "submit"),
            input("password", "password", "password"),
            input("password", "method", "submit"),
            input("passkey", "passkey_login_trigger", "button"),
        ]));
        let layout = layout(KratosFlow::Login, &f);
        assert_eq!(layout.shared, vec![1]);
        assert_eq!(
            names(&f, &layout),
            vec![
                (
                    "password".into(),
                    vec!["identifier".into(), "password".into(), "method".into()]
                ),
                ("code".into(), vec!["identifier".into(), "method".into()]),
                ("passkey".into(), vec!["passkey_login_trigger".into()]),
                ("oidc".into(), vec!["provider".into()]),
            ]
        );
        assert!(layout.sections.iter().all(|s| s.is_form));
    }

    #[test]
    fn identifier_first_shares_its_hidden_identifier_once_the_first_step_is_done() {
        let step1 = flow(json!([
            input("identifier_first", "identifier", "text"),
            input("identifier_first", "method", "submit"),
            input("default", "csrf_token", "hidden"),
        ]));
        let l = layout(KratosFlow::Login, &step1);
        assert_eq!(names(&step1, &l)[0].0, "identifier_first");
        let step2 = flow(json!([
            input("identifier_first", "identifier", "hidden"),
            input("default", "csrf_token", "hidden"),
            input("password", "password", "password"),
            input("password", "method", "submit"),
            input("code", "method", "submit"),
        ]));
        let l = layout(KratosFlow::Login, &step2);
        assert_eq!(l.shared, vec![0, 1]);
        assert_eq!(names(&step2, &l).len(), 2);
    }

    #[test]
    fn the_second_registration_step_puts_back_last_and_every_form_carries_the_hidden_traits() {
        let f = flow(json!([
            input("default", "csrf_token", "hidden"),
            input("default", "traits.email", "hidden"),
            input("profile", "screen", "submit"),
            input("password", "password", "password"),
            input("password", "method", "submit"),
            input("oidc", "provider", "submit"),
        ]));
        let l = layout(KratosFlow::Registration, &f);
        assert_eq!(l.shared, vec![0, 1]);
        let groups: Vec<String> = l.sections.iter().map(|s| s.group.clone()).collect();
        assert_eq!(groups, ["password", "oidc", "profile"]);
    }

    #[test]
    fn settings_keep_their_order_and_scripts_are_set_apart() {
        let f = flow(json!([
            input("default", "csrf_token", "hidden"),
            input("totp", "totp_code", "text"),
            {"type": "script", "group": "webauthn", "attributes": {"src": "https://id.example/w.js", "node_type": "script"}, "messages": [], "meta": {}},
            input("webauthn", "webauthn_register_trigger", "button"),
            input("password", "password", "password"),
            input("future", "thing", "submit"),
            input("profile", "traits.email", "email"),
        ]));
        let l = layout(KratosFlow::Settings, &f);
        let groups: Vec<String> = l.sections.iter().map(|s| s.group.clone()).collect();
        assert_eq!(
            groups,
            ["profile", "password", "totp", "webauthn", "future"]
        );
        assert_eq!(l.scripts, vec![2]);
    }

    #[test]
    fn a_section_without_inputs_is_no_form() {
        let f = flow(json!([
            input("default", "csrf_token", "hidden"),
            {"type": "a", "group": "code", "attributes": {"href": "https://app.example/", "title": {"id": 1070009, "text": "Continue", "type": "info"}, "id": "continue", "node_type": "a"}, "messages": [], "meta": {}},
        ]));
        let l = layout(KratosFlow::Verification, &f);
        assert_eq!(l.sections.len(), 1);
        assert!(!l.sections[0].is_form);
    }

    #[test]
    fn visible_defaults_nobody_submits_still_get_a_section() {
        let f = flow(json!([
            input("default", "csrf_token", "hidden"),
            input("default", "password", "text"),
            input("oidc", "provider", "submit"),
        ]));
        let l = layout(KratosFlow::Registration, &f);
        assert_eq!(l.sections[0].group, "default");
        assert_eq!(l.sections[0].nodes, vec![1]);
    }

    #[test]
    fn forms_post_only_to_kratos_or_hera_by_normalised_origin() {
        let kratos = Url::parse("https://id.example").unwrap();
        let hera = Url::parse("https://hera.example").unwrap();
        for good in [
            "https://id.example/self-service/login?flow=1",
            "HTTPS://ID.EXAMPLE:443/self-service/login?flow=1",
            "https://hera.example/verified",
        ] {
            assert!(action_allowed(good, &kratos, &hera), "{good}");
        }
        for bad in [
            "https://evil.example/self-service/login",
            "http://id.example/self-service/login",
            "https://id.example:8443/self-service/login",
            "https://user@id.example/",
            "javascript:alert(1)",
            "/self-service/login",
            "",
        ] {
            assert!(!action_allowed(bad, &kratos, &hera), "{bad}");
        }
    }

    #[test]
    fn return_to_values_are_absolute_http_urls_or_heras_own_paths() {
        let hera = Url::parse("https://hera.example/auth").unwrap();
        assert_eq!(
            accept_return_to("/connected-apps", &hera).as_deref(),
            Some("https://hera.example/auth/connected-apps")
        );
        assert_eq!(
            accept_return_to("https://app.example/x?y=1", &hera).as_deref(),
            Some("https://app.example/x?y=1")
        );
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "https://a@evil.example/",
            "data:text/html,x",
            "https://app.example/\nx",
            "relative/path",
            "",
        ] {
            assert_eq!(accept_return_to(bad, &hera), None, "{bad:?}");
        }
        assert_eq!(
            accept_return_to(&format!("/{}", "a".repeat(3000)), &hera),
            None
        );
    }

    #[test]
    fn a_return_to_of_heras_login_names_the_challenge() {
        let hera = Url::parse("https://hera.example").unwrap();
        assert_eq!(
            login_challenge_in("https://hera.example/login?login_challenge=abc%2B1", &hera)
                .as_deref(),
            Some("abc+1")
        );
        for other in [
            "https://other.example/login?login_challenge=abc",
            "https://hera.example/consent?login_challenge=abc",
            "https://hera.example/login?login_challenge=",
            "https://hera.example/login",
            "not a url",
        ] {
            assert_eq!(login_challenge_in(other, &hera), None, "{other}");
        }
    }

    fn problem(status: u16, id: Option<&str>) -> FlowProblem {
        FlowProblem {
            status,
            id: id.map(str::to_owned),
            ..FlowProblem::default()
        }
    }

    #[test]
    fn a_flow_kratos_does_not_have_is_started_anew_once_and_then_explained() {
        let start = FlowStart {
            return_to: Some("https://hera.example/x".into()),
            refresh: true,
            aal2: false,
        };
        let cases = [
            (problem(404, None), Failure::Gone),
            (
                problem(410, Some("self_service_flow_expired")),
                Failure::Gone,
            ),
            (problem(410, None), Failure::Gone),
            (problem(403, Some("security_csrf_violation")), Failure::Csrf),
        ];
        for (p, failure) in cases {
            assert_eq!(
                recover(KratosFlow::Login, &p, start.clone(), false, true),
                Recovery::Restart(start.clone()),
                "{p:?}"
            );
            assert_eq!(
                recover(KratosFlow::Login, &p, start.clone(), true, true),
                Recovery::Fail(failure),
                "{p:?}"
            );
        }
    }

    #[test]
    fn an_expired_flow_keeps_its_return_to_and_a_replaced_one_is_followed() {
        let expired = FlowProblem {
            return_to: Some("https://hera.example/login?login_challenge=c".into()),
            ..problem(410, Some("self_service_flow_expired"))
        };
        assert_eq!(
            recover(
                KratosFlow::Login,
                &expired,
                FlowStart::default(),
                false,
                true
            ),
            Recovery::Restart(FlowStart {
                return_to: Some("https://hera.example/login?login_challenge=c".into()),
                ..FlowStart::default()
            })
        );
        let replaced = FlowProblem {
            use_flow_id: Some("new".into()),
            ..problem(410, Some("self_service_flow_replaced"))
        };
        assert_eq!(
            recover(
                KratosFlow::Login,
                &replaced,
                FlowStart::default(),
                true,
                true
            ),
            Recovery::UseFlow("new".into())
        );
    }

    #[test]
    fn a_csrf_failure_without_kratoss_cookie_is_explained_at_once() {
        assert_eq!(
            recover(
                KratosFlow::Registration,
                &problem(403, Some("security_csrf_violation")),
                FlowStart::default(),
                false,
                false
            ),
            Recovery::Fail(Failure::NoCookies)
        );
    }

    #[test]
    fn session_problems_send_the_browser_to_sign_in_as_needed() {
        let start = FlowStart::default();
        let go = |p: FlowProblem, kind| recover(kind, &p, start.clone(), false, true);
        assert_eq!(
            go(
                problem(403, Some("session_aal2_required")),
                KratosFlow::Settings
            ),
            Recovery::SignIn {
                aal2: true,
                refresh: false
            }
        );
        assert_eq!(
            go(
                problem(403, Some("session_refresh_required")),
                KratosFlow::Settings
            ),
            Recovery::SignIn {
                aal2: false,
                refresh: true
            }
        );
        assert_eq!(
            go(problem(401, None), KratosFlow::Settings),
            Recovery::SignIn {
                aal2: false,
                refresh: false
            }
        );
        assert_eq!(
            go(problem(401, None), KratosFlow::Login),
            Recovery::Fail(Failure::Refused(401))
        );
        assert_eq!(
            go(
                problem(400, Some("session_already_available")),
                KratosFlow::Login
            ),
            Recovery::AlreadySignedIn
        );
        assert_eq!(
            go(
                problem(401, Some("session_aal1_required")),
                KratosFlow::Login
            ),
            Recovery::Restart(FlowStart::default())
        );
        assert_eq!(
            go(
                problem(403, Some("security_identity_mismatch")),
                KratosFlow::Settings
            ),
            Recovery::Restart(FlowStart::default())
        );
        assert_eq!(
            go(problem(400, None), KratosFlow::Recovery),
            Recovery::Fail(Failure::Refused(400))
        );
    }

    #[test]
    fn a_location_change_goes_only_to_a_usable_url() {
        let change = |to: &str| FlowProblem {
            redirect_browser_to: Some(to.into()),
            ..problem(422, Some("browser_location_change_required"))
        };
        assert_eq!(
            recover(
                KratosFlow::Login,
                &change("https://id.example/self-service/settings?flow=1"),
                FlowStart::default(),
                false,
                true
            ),
            Recovery::Redirect("https://id.example/self-service/settings?flow=1".into())
        );
        assert_eq!(
            recover(
                KratosFlow::Login,
                &change("javascript:alert(1)"),
                FlowStart::default(),
                false,
                true
            ),
            Recovery::Fail(Failure::Refused(422))
        );
    }

    #[test]
    fn recorded_errors_are_classified_by_id_or_by_a_disabled_flows_reason() {
        assert_eq!(
            error_kind(&problem(403, Some("security_csrf_violation"))),
            ErrorKind::Csrf
        );
        assert_eq!(
            error_kind(&problem(400, Some("self_service_flow_return_to_forbidden"))),
            ErrorKind::ReturnToForbidden
        );
        let disabled = FlowProblem {
            reason: Some("Recovery is not allowed because it was disabled.".into()),
            ..problem(400, None)
        };
        assert_eq!(error_kind(&disabled), ErrorKind::Disabled);
        assert_eq!(error_kind(&problem(500, None)), ErrorKind::Other);
        assert_eq!(
            error_kind(&problem(500, Some("new_thing"))),
            ErrorKind::Other
        );
    }

    #[test]
    fn devices_are_named_by_browser_and_system() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(
            device_kind(firefox),
            DeviceKind {
                browser: Some("Firefox"),
                system: Some("Linux")
            }
        );
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0";
        assert_eq!(device_kind(edge).browser, Some("Edge"));
        assert_eq!(device_kind(edge).system, Some("Windows"));
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(
            device_kind(iphone),
            DeviceKind {
                browser: Some("Safari"),
                system: Some("iOS")
            }
        );
        assert_eq!(device_kind("curl/8.0"), DeviceKind::default());
    }

    #[test]
    fn session_ids_are_uuids() {
        assert!(is_session_id("5e550000-0000-4000-8000-00000000ada0"));
        for bad in [
            "",
            "x",
            "../admin",
            "5e550000-0000-4000-8000-00000000ada0/x",
            "5e550000000040008000000000000ada0",
        ] {
            assert!(!is_session_id(bad), "{bad}");
        }
    }
}
