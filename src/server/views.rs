//! Askama view structs: one per page, display-ready data only (no SDK types).
//!
//! Operators may restyle the templates; the form field names are a contract: `consent.html`
//! (`grant_scope`, `remember`, `consent_challenge`, `csrf_token`, `action`), `logout.html`
//! (`logout_challenge`, `csrf_token`, `action`), `device_verify.html` (`device_challenge`,
//! `user_code`, `csrf_token`) and `connected_apps.html` (`client_id`, `csrf_token`).

//!
//! Every text on a page comes from the message catalogue through `layout.t` (see
//! [`crate::server::i18n`]); templates call `layout.t.text("key")`, `layout.t.text1("key", "name",
//! value)` or `layout.t.count("key", n)`, and a test checks that every key they use exists.

use askama::Template;

use crate::server::assets::STYLESHEET_PATH;
use crate::server::i18n::Texts;
use crate::server::theme::Theme;

/// What every page needs from the layout (`base.html`).
#[derive(Debug, Clone)]
pub struct Layout {
    /// The page's language: `<html lang>` and every message.
    pub t: Texts,
    /// The `<title>` and main heading of the page.
    pub title: String,
    /// Hera's stylesheet, under its content-hashed name.
    pub stylesheet: &'static str,
    /// The client's theme stylesheet (`/theme/<rrggbb>.css`), on pages about one client.
    pub theme: Option<String>,
}

impl Layout {
    pub fn new(t: &Texts, title: impl Into<String>) -> Layout {
        Layout {
            t: t.clone(),
            title: title.into(),
            stylesheet: STYLESHEET_PATH,
            theme: None,
        }
    }

    /// The page about one client takes its accent colour.
    pub fn themed(mut self, theme: &Theme) -> Layout {
        self.theme = theme.stylesheet();
        self
    }
}

/// The client as shown to the user on the consent page.
#[derive(Debug, Clone)]
pub struct ClientCard {
    pub name: String,
    /// Only ever an `https:` URL (Hera drops other schemes before building the card).
    pub logo_uri: Option<String>,
    pub client_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub tos_uri: Option<String>,
    /// Host the browser will be sent back to (`app.example.com`), when known.
    pub redirect_host: Option<String>,
}

/// One requested scope on the consent page.
#[derive(Debug, Clone)]
pub struct ScopeItem {
    /// The raw scope string; the value of the `grant_scope` checkbox.
    pub name: String,
    /// Plain-language title; for an unknown scope this is the raw name.
    pub title: String,
    /// Plain-language description; `None` means "not described" (unknown scope).
    pub description: Option<String>,
    /// Checked and not removable (`openid`).
    pub locked: bool,
    /// Values that would be released for this scope, e.g. `("Email", "a@b.c")`.
    pub claims: Vec<(String, String)>,
}

/// `GET /consent` for a third-party client.
#[derive(Template, Debug)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    pub layout: Layout,
    pub client: ClientCard,
    /// Who is signed in ("ada@example.com"), shown so a user notices the wrong account; `None`
    /// when the browser is not signed in as the consent's subject (no personal data then).
    pub account: Option<String>,
    pub scopes: Vec<ScopeItem>,
    /// Requested access-token audiences (APIs).
    pub audiences: Vec<String>,
    pub consent_challenge: String,
    pub csrf_token: String,
    /// "Remember this decision for 1 hour", the remember checkbox's label.
    pub remember_label: String,
}

/// Every error page: Hera's own failures and Hydra's `urls.error`.
#[derive(Template, Debug)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    /// HTTP status, shown small.
    pub status: u16,
    /// One or two sentences saying what happened and what to do next.
    pub message: String,
    /// OAuth2 error code when the page explains one (`access_denied`), shown as a detail.
    pub code: Option<String>,
    /// The request id from the `X-Request-Id` header, for support.
    pub request_id: String,
}

/// An application as the logout, device and connected-apps pages name it.
#[derive(Debug, Clone)]
pub struct AppBadge {
    pub name: String,
    /// Only ever an `https:` URL.
    pub logo_uri: Option<String>,
}

/// `GET /logout` for a logout this browser may not perform: it would end the sessions of an
/// account that is not signed in here.
#[derive(Template, Debug)]
#[template(path = "logout_not_yours.html")]
pub struct LogoutNotYoursPage {
    pub layout: Layout,
    /// The application that asked.
    pub app: Option<AppBadge>,
    /// Where "Continue" leads: the client's https site, or Hera's home page.
    pub continue_to: String,
}

/// `GET /logout` when the user must confirm.
#[derive(Template, Debug)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    pub layout: Layout,
    /// The application that asked; `None` when the user started the logout at Hydra.
    pub app: Option<AppBadge>,
    /// Who would be signed out ("ada@example.com"), only when this browser is signed in as them.
    pub account: Option<String>,
    pub logout_challenge: String,
    pub csrf_token: String,
}

/// `GET /device/verify` and its re-render after a wrong code.
#[derive(Template, Debug)]
#[template(path = "device_verify.html")]
pub struct DeviceVerifyPage {
    pub layout: Layout,
    pub device_challenge: String,
    pub csrf_token: String,
    /// The code to prefill: from the device's link, or what the user typed.
    pub user_code: String,
    /// Why the last code was not accepted.
    pub problem: Option<String>,
}

/// `GET /device/success`.
#[derive(Template, Debug)]
#[template(path = "device_success.html")]
pub struct DeviceSuccessPage {
    pub layout: Layout,
    /// The device's application, when Hydra knows the client.
    pub app: Option<AppBadge>,
}

/// One scope an application was granted.
#[derive(Debug, Clone)]
pub struct GrantedScope {
    /// The raw scope string.
    pub name: String,
    /// Plain-language title; for an unknown scope this is the raw name.
    pub title: String,
    /// `None` means "not described" (unknown scope).
    pub description: Option<String>,
}

/// One application on the connected-apps page.
#[derive(Debug, Clone)]
pub struct ConnectedAppItem {
    pub app: AppBadge,
    /// The value of the revoke form's `client_id`.
    pub client_id: String,
    /// The revoke form's CSRF token, bound to `client_id`.
    pub csrf_token: String,
    pub scopes: Vec<GrantedScope>,
    pub audiences: Vec<String>,
    /// "2 January 2026", when Hydra recorded the grant's time.
    pub granted_on: Option<String>,
}

/// `GET /connected-apps`.
#[derive(Template, Debug)]
#[template(path = "connected_apps.html")]
pub struct ConnectedAppsPage {
    pub layout: Layout,
    /// Who is signed in.
    pub account: String,
    pub apps: Vec<ConnectedAppItem>,
    /// "Photos no longer has access to your account."
    pub confirmation: Option<String>,
    /// Why a removal was refused.
    pub problem: Option<String>,
}

/// `GET /`.
#[derive(Template, Debug)]
#[template(path = "home.html")]
pub struct HomePage {
    pub layout: Layout,
    /// Who is signed in; `None` when signed out.
    pub account: Option<String>,
    /// Kratos's logout URL for this browser (signed in only).
    pub sign_out_url: Option<String>,
    /// Kratos's sign-in URL, returning here (signed out only).
    pub sign_in_url: Option<String>,
    /// Signed in, but a second factor is needed first.
    pub needs_second_factor: bool,
}
