//! The OIDC authorization request behind a login challenge, parsed once into a typed value.
//!
//! Hydra hands Hera the original `/oauth2/auth?…` URL (`request_url`) and an `oidc_context`.
//! `prompt` and `max_age` exist only in the URL; `acr_values`, `login_hint` and `ui_locales`
//! are in both (the context wins). When the client sent a signed request object (`request=`,
//! OIDC Core §6.1), Hydra has already verified it; its claims override the query, so a
//! `prompt=login` inside a request object is honoured too. `request_uri` objects are not fetched.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use url::Url;

use crate::model::OidcContext;

/// The `prompt` values of OIDC Core §3.1.2.1 (plus `registration`, which Hydra routes to the
/// registration URL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
    pub registration: bool,
}

impl Prompt {
    fn parse(value: &str) -> Prompt {
        let mut prompt = Prompt::default();
        for word in value.split_whitespace() {
            match word {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => prompt.select_account = true,
                // `create` is the later OIDC spelling of the same request.
                "registration" | "create" => prompt.registration = true,
                _ => {}
            }
        }
        prompt
    }
}

/// `max_age` (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxAge {
    /// Seconds since the last active authentication.
    Seconds(u64),
    /// Present but not a non-negative integer. Treated as `0`: the strictest reading.
    Malformed,
}

impl MaxAge {
    fn parse(value: &str) -> MaxAge {
        value
            .trim()
            .parse()
            .map_or(MaxAge::Malformed, MaxAge::Seconds)
    }

    /// The allowed age in seconds.
    pub fn seconds(self) -> u64 {
        match self {
            MaxAge::Seconds(seconds) => seconds,
            MaxAge::Malformed => 0,
        }
    }
}

/// What the client asked for, as far as the login decision cares.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthRequest {
    pub prompt: Prompt,
    pub max_age: Option<MaxAge>,
    pub acr_values: Vec<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Vec<String>,
    pub id_token_hint_claims: Map<String, Value>,
    /// `request_url` could not be parsed, so `prompt` and `max_age` are unknown. The decision
    /// treats this like `prompt=login`: never silently reuse a session the client may have
    /// asked not to reuse.
    pub unreadable: bool,
    /// What identifies this authorization request across Hydra's restarts: the URL's path and
    /// its query pairs in sorted order, without `prompt`. When Hydra refuses a different subject
    /// on a remembered login, it restarts the same request with `prompt=login` added and a new
    /// challenge; this key stays the same. `None` when `request_url` is unreadable.
    pub request_key: Option<String>,
}

impl AuthRequest {
    /// Parses Hydra's `request_url` and `oidc_context`. Never fails: unreadable parts are
    /// flagged, not panicked on.
    pub fn parse(request_url: &str, context: &OidcContext) -> AuthRequest {
        let mut request = AuthRequest::default();
        match Url::parse(request_url) {
            Ok(url) => {
                request.request_key = Some(request_key(&url));
                let mut object = None;
                for (key, value) in url.query_pairs() {
                    match key.as_ref() {
                        "prompt" => request.prompt = Prompt::parse(&value),
                        "max_age" => request.max_age = Some(MaxAge::parse(&value)),
                        "acr_values" => request.acr_values = words(&value),
                        "login_hint" => request.login_hint = non_empty(&value),
                        "ui_locales" => request.ui_locales = words(&value),
                        "request" => object = request_object_claims(&value),
                        _ => {}
                    }
                }
                if let Some(claims) = object {
                    request.apply_request_object(&claims);
                }
            }
            Err(_) => request.unreadable = true,
        }
        if !context.acr_values.is_empty() {
            request.acr_values = context.acr_values.clone();
        }
        if let Some(hint) = context.login_hint.as_deref().and_then(non_empty) {
            request.login_hint = Some(hint);
        }
        if !context.ui_locales.is_empty() {
            request.ui_locales = context.ui_locales.clone();
        }
        request.id_token_hint_claims = context.id_token_hint_claims.clone();
        request
    }

    /// Claims of a request object override the query (OIDC Core §6.3.3).
    fn apply_request_object(&mut self, claims: &Map<String, Value>) {
        if let Some(prompt) = claims.get("prompt").and_then(Value::as_str) {
            self.prompt = Prompt::parse(prompt);
        }
        match claims.get("max_age") {
            Some(Value::Number(n)) => {
                self.max_age = Some(n.as_u64().map_or(MaxAge::Malformed, MaxAge::Seconds));
            }
            Some(Value::String(s)) => self.max_age = Some(MaxAge::parse(s)),
            Some(Value::Null) | None => {}
            Some(_) => self.max_age = Some(MaxAge::Malformed),
        }
        if let Some(acr) = claims.get("acr_values").and_then(Value::as_str) {
            self.acr_values = words(acr);
        }
        if let Some(hint) = claims.get("login_hint").and_then(Value::as_str) {
            self.login_hint = non_empty(hint);
        }
    }

    /// `prompt=login` or `select_account` (Hydra treats both as a request to log in again).
    pub fn wants_fresh_login(&self) -> bool {
        self.prompt.login || self.prompt.select_account
    }
}

fn request_key(url: &Url) -> String {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != "prompt")
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    pairs.sort();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{}?{query}", url.path())
}

/// The payload of a compact JWS/JWT, unverified: Hydra has verified it before issuing the
/// challenge, and Hera only ever uses it to be stricter.
fn request_object_claims(jwt: &str) -> Option<Map<String, Value>> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

fn words(value: &str) -> Vec<String> {
    value.split_whitespace().map(str::to_owned).collect()
}

fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BASE: &str = "http://127.0.0.1:4444/oauth2/auth?client_id=app&response_type=code";

    fn parse(query: &str) -> AuthRequest {
        AuthRequest::parse(&format!("{BASE}&{query}"), &OidcContext::default())
    }

    fn jwt(claims: Value) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    #[test]
    fn prompt_is_a_set_of_space_separated_values() {
        let request = parse("prompt=login%20consent");
        assert!(request.prompt.login && request.prompt.consent);
        assert!(!request.prompt.none && !request.prompt.select_account);
        assert!(parse("prompt=select_account").wants_fresh_login());
        assert!(parse("prompt=create").prompt.registration);
        assert_eq!(parse("prompt=bogus").prompt, Prompt::default());
        assert_eq!(parse("").prompt, Prompt::default());
    }

    #[test]
    fn max_age_is_seconds_and_anything_else_is_malformed_and_strictest() {
        assert_eq!(parse("max_age=300").max_age, Some(MaxAge::Seconds(300)));
        assert_eq!(parse("max_age=0").max_age, Some(MaxAge::Seconds(0)));
        assert_eq!(parse("").max_age, None);
        for bad in ["max_age=soon", "max_age=-1", "max_age=1.5", "max_age="] {
            let max_age = parse(bad).max_age;
            assert_eq!(max_age, Some(MaxAge::Malformed), "{bad}");
            assert_eq!(max_age.map(MaxAge::seconds), Some(0));
        }
    }

    #[test]
    fn oidc_context_wins_over_the_query_for_hints_acr_and_locales() {
        let context = OidcContext {
            acr_values: vec!["aal2".into()],
            ui_locales: vec!["de".into()],
            login_hint: Some("ctx@example.com".into()),
            ..OidcContext::default()
        };
        let request = AuthRequest::parse(
            &format!("{BASE}&acr_values=aal1&login_hint=query%40example.com&ui_locales=fr"),
            &context,
        );
        assert_eq!(request.acr_values, ["aal2"]);
        assert_eq!(request.login_hint.as_deref(), Some("ctx@example.com"));
        assert_eq!(request.ui_locales, ["de"]);
        let from_query = parse("acr_values=aal2%20urn:mfa&login_hint=q%40example.com");
        assert_eq!(from_query.acr_values, ["aal2", "urn:mfa"]);
        assert_eq!(from_query.login_hint.as_deref(), Some("q@example.com"));
    }

    #[test]
    fn an_unparsable_request_url_is_flagged_not_panicked_on() {
        let request = AuthRequest::parse("::not a url::", &OidcContext::default());
        assert!(request.unreadable);
        assert_eq!(request.max_age, None);
        assert!(!AuthRequest::parse(BASE, &OidcContext::default()).unreadable);
    }

    #[test]
    fn a_request_object_overrides_prompt_and_max_age() {
        let object = jwt(json!({"prompt": "login", "max_age": 60, "acr_values": "aal2"}));
        let request = parse(&format!("prompt=none&request={object}"));
        assert!(request.prompt.login && !request.prompt.none);
        assert_eq!(request.max_age, Some(MaxAge::Seconds(60)));
        assert_eq!(request.acr_values, ["aal2"]);
        let negative = parse(&format!("request={}", jwt(json!({"max_age": -5}))));
        assert_eq!(negative.max_age, Some(MaxAge::Malformed));
    }

    #[test]
    fn a_garbage_request_object_is_ignored() {
        for garbage in ["abc", "a.%%%.c", "a.bm90IGpzb24.c"] {
            let request = parse(&format!("prompt=login&request={garbage}"));
            assert!(request.prompt.login, "{garbage}");
        }
    }

    #[test]
    fn id_token_hint_claims_come_from_the_context() {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!("someone"));
        let context = OidcContext {
            id_token_hint_claims: claims.clone(),
            ..OidcContext::default()
        };
        assert_eq!(
            AuthRequest::parse(BASE, &context).id_token_hint_claims,
            claims
        );
    }

    #[test]
    fn hydras_restart_with_prompt_login_keeps_the_request_key() {
        let original = AuthRequest::parse(
            "http://127.0.0.1:4444/oauth2/auth?state=abcdefgh&client_id=app&scope=openid+email",
            &OidcContext::default(),
        );
        // Hydra re-encodes the query (keys sorted) and sets prompt=login.
        let restarted = AuthRequest::parse(
            "http://127.0.0.1:4444/oauth2/auth?client_id=app&prompt=login&scope=openid%20email&state=abcdefgh",
            &OidcContext::default(),
        );
        assert!(original.request_key.is_some());
        assert_eq!(original.request_key, restarted.request_key);
        let other = parse("state=another1");
        assert_ne!(other.request_key, original.request_key);
        assert_eq!(
            AuthRequest::parse("::not a url::", &OidcContext::default()).request_key,
            None
        );
    }
}
