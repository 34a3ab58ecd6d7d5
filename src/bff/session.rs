//! What the BFF remembers: a sign-in in progress ([`LoginState`]) and a signed-in session
//! ([`Session`]) with its tokens; the cookies that point at them; and `return_to` paths.
//!
//! The browser gets two cookies, both `HttpOnly`, `SameSite=Lax` and `Secure` unless the app
//! runs on plain http: `__Host-hera_bff` (the session, on `/`) and `__Secure-hera_bff_login` (a
//! sign-in in progress, only sent to `/api/callback`, ten minutes); over plain http (local
//! development) they are `hera_bff` and `hera_bff_login`, because browsers refuse prefixed
//! cookies without `Secure`. The sign-in cookie always holds the
//! sealed sign-in itself. The session cookie holds a random 256-bit id with the memory and
//! Redis stores, and the sealed session with the cookie store.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::bff::id_token::Identity;
use crate::bff::oidc::Token;

/// The session cookie over plain http, and the name its sealed value is bound to.
pub const SESSION_COOKIE: &str = "hera_bff";
/// The sign-in-in-progress cookie over plain http, and the name its sealed value is bound to.
pub const LOGIN_COOKIE: &str = "hera_bff_login";
/// The session cookie over https: `__Host-` makes browsers accept it only with `Secure`,
/// `Path=/` and no `Domain`, so a sibling subdomain cannot set or shadow it (RFC 6265bis
/// §4.1.3.2).
pub const SECURE_SESSION_COOKIE: &str = "__Host-hera_bff";
/// The sign-in cookie over https: `__Secure-`, because its path is `/api/callback` and
/// `__Host-` requires `/` (RFC 6265bis §4.1.3.1).
pub const SECURE_LOGIN_COOKIE: &str = "__Secure-hera_bff_login";
/// The only path the sign-in cookie is sent to.
pub const CALLBACK_PATH: &str = "/api/callback";
/// How long a sign-in may take, from `/api/login` to `/api/callback`.
pub const LOGIN_TTL_SECONDS: i64 = 600;
/// Access tokens expiring sooner than this are refreshed before a request is proxied.
pub const REFRESH_MARGIN_SECONDS: i64 = 30;

/// A sign-in in progress: what `/api/callback` checks the answer against.
#[derive(Clone, Serialize, Deserialize)]
pub struct LoginState {
    pub state: String,
    pub nonce: String,
    /// The PKCE verifier; only its S256 hash went to the browser.
    pub verifier: Token,
    pub return_to: String,
    /// Unix seconds; the state is refused afterwards even if a store kept it longer.
    pub expires_at: i64,
}

impl std::fmt::Debug for LoginState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginState")
            .field("return_to", &self.return_to)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The signed-in user as `/api/whoami` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

impl From<Identity> for User {
    fn from(identity: Identity) -> Self {
        User {
            id: identity.subject,
            email: identity.email,
            name: identity.name,
        }
    }
}

/// A signed-in session. Its tokens never leave the server (except the ID token, as the
/// `id_token_hint` of the sign-out URL).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub user: User,
    pub access_token: Token,
    /// Unix seconds.
    pub access_expires_at: i64,
    pub refresh_token: Option<Token>,
    pub id_token: Token,
    /// Unix seconds; the session ends then at the latest.
    pub expires_at: i64,
}

impl Session {
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires_at
    }

    /// True when the access token should be refreshed before use.
    pub fn needs_refresh(&self, now: i64) -> bool {
        self.access_expires_at - now <= REFRESH_MARGIN_SECONDS
    }

    /// True while the access token itself is still valid.
    pub fn access_token_valid(&self, now: i64) -> bool {
        self.access_expires_at > now
    }
}

/// A path on the app's own origin to come back to after sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnTo(String);

impl ReturnTo {
    /// Accepts `/path?query#fragment` only: no scheme, no host, no `//` or `\` tricks that
    /// browsers would read as another origin, no control characters, and no dot segments (`.`,
    /// `..`, raw or percent-encoded), which a browser or URL parser would remove and so turn
    /// `/.//evil.example` into `//evil.example`. The value is kept exactly as validated, never
    /// re-serialised.
    pub fn parse(value: Option<&str>, origin: &Url) -> Option<ReturnTo> {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Some(ReturnTo("/".into()));
        };
        let looks_like_path = value.starts_with('/')
            && !value.starts_with("//")
            && !value.contains('\\')
            && !value.chars().any(char::is_control)
            && value.len() <= 2048;
        if !looks_like_path {
            return None;
        }
        let path = value.split(['?', '#']).next().unwrap_or_default();
        if path.split('/').any(is_dot_segment) {
            return None;
        }
        // What a browser would make of it must still be a path on this origin.
        let resolved = origin.join(value).ok()?;
        if resolved.origin() != origin.origin()
            || resolved.path().starts_with("//")
            || resolved.path().starts_with("/\\")
        {
            return None;
        }
        Some(ReturnTo(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `.` or `..`, also when written with percent-encoded dots (`%2e`, `.%2E`).
fn is_dot_segment(segment: &str) -> bool {
    let lowered = segment.to_ascii_lowercase();
    let decoded = lowered.replace("%2e", ".");
    decoded == "." || decoded == ".."
}

/// Builds the BFF's cookies with the same attributes everywhere.
#[derive(Debug, Clone, Copy)]
pub struct Cookies {
    pub secure: bool,
}

impl Cookies {
    /// The session cookie's name: prefixed with `__Host-` when it is `Secure`.
    pub fn session_name(&self) -> &'static str {
        if self.secure {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }

    /// The sign-in cookie's name: prefixed with `__Secure-` when it is `Secure`.
    pub fn login_name(&self) -> &'static str {
        if self.secure {
            SECURE_LOGIN_COOKIE
        } else {
            LOGIN_COOKIE
        }
    }

    pub fn session(&self, value: String, max_age_seconds: i64) -> Cookie<'static> {
        self.build(self.session_name(), value, "/", max_age_seconds)
    }

    pub fn login(&self, value: String) -> Cookie<'static> {
        self.build(self.login_name(), value, CALLBACK_PATH, LOGIN_TTL_SECONDS)
    }

    /// An expired session cookie, which makes the browser drop it.
    pub fn clear_session(&self) -> Cookie<'static> {
        self.build(self.session_name(), String::new(), "/", 0)
    }

    pub fn clear_login(&self) -> Cookie<'static> {
        self.build(self.login_name(), String::new(), CALLBACK_PATH, 0)
    }

    fn build(
        &self,
        name: &'static str,
        value: String,
        path: &'static str,
        max_age_seconds: i64,
    ) -> Cookie<'static> {
        // Lax, not Strict: the callback and the first page after it are top-level navigations
        // that come from Hydra's origin.
        Cookie::build(name, value)
            .path(path)
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .max_age(CookieDuration::seconds(max_age_seconds.max(0)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Url {
        Url::parse("https://app.example.com").unwrap()
    }

    #[test]
    fn return_to_accepts_paths_on_this_origin() {
        let parse = |v| ReturnTo::parse(Some(v), &origin()).map(|r| r.0);
        assert_eq!(ReturnTo::parse(None, &origin()).unwrap().as_str(), "/");
        assert_eq!(ReturnTo::parse(Some(""), &origin()).unwrap().as_str(), "/");
        assert_eq!(parse("/orders?page=2#top").unwrap(), "/orders?page=2#top");
        assert_eq!(parse("/a.b/..c/.d").unwrap(), "/a.b/..c/.d");
        assert_eq!(
            parse("/search?q=/../x#/./y").unwrap(),
            "/search?q=/../x#/./y",
            "dots after the path are data"
        );
        assert_eq!(parse("/a%20b").unwrap(), "/a%20b", "kept as given");
    }

    #[test]
    fn return_to_refuses_dot_segments_that_would_turn_into_another_origin() {
        for bad in [
            "/.//evil.example",
            "/%2e//evil.example",
            "/%2E//evil.example",
            "/.%2e//evil.example",
            "/%2e%2e//evil.example",
            "/..//evil.example",
            "/a/../b",
            "/a/./b",
            "/a/%2e%2E/b",
            "/.",
        ] {
            assert!(ReturnTo::parse(Some(bad), &origin()).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn return_to_refuses_everything_else() {
        for bad in [
            "https://evil.example.com/",
            "//evil.example.com/",
            "/\\evil.example.com",
            "\\\\evil.example.com",
            "/ok\\..\\",
            "javascript:alert(1)",
            "orders",
            "/x\n/y",
            "/x\t",
        ] {
            assert!(ReturnTo::parse(Some(bad), &origin()).is_none(), "{bad:?}");
        }
        let long = format!("/{}", "a".repeat(3000));
        assert!(ReturnTo::parse(Some(&long), &origin()).is_none());
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_with_prefixed_names_unless_plain_http() {
        let cookie = Cookies { secure: true }
            .session("id".into(), 3600)
            .to_string();
        assert_eq!(
            cookie,
            "__Host-hera_bff=id; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=3600"
        );
        let login = Cookies { secure: true }.login("l".into()).to_string();
        assert_eq!(
            login,
            "__Secure-hera_bff_login=l; HttpOnly; SameSite=Lax; Secure; Path=/api/callback; Max-Age=600"
        );
        let login = Cookies { secure: false }.login("l".into()).to_string();
        assert_eq!(
            login,
            "hera_bff_login=l; HttpOnly; SameSite=Lax; Path=/api/callback; Max-Age=600"
        );
        let cleared = Cookies { secure: true }.clear_session().to_string();
        assert!(cleared.starts_with("__Host-hera_bff=;"), "{cleared}");
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
    }

    #[test]
    fn the_access_token_is_refreshed_thirty_seconds_before_it_expires() {
        let session = Session {
            user: User {
                id: "ada".into(),
                email: None,
                name: None,
            },
            access_token: Token::new("at"),
            access_expires_at: 1_000,
            refresh_token: None,
            id_token: Token::new("id"),
            expires_at: 5_000,
        };
        assert!(!session.needs_refresh(969));
        assert!(session.needs_refresh(970));
        assert!(session.access_token_valid(999));
        assert!(!session.access_token_valid(1_000));
        assert!(!session.is_expired(4_999));
        assert!(session.is_expired(5_000));
        assert!(!format!("{session:?}").contains("\"at\""));
    }
}
