//! Askama view structs: one per page, display-ready data only (no SDK types).
//!
//! Operators may restyle the templates; the form field names used by `consent.html`
//! (`grant_scope`, `remember`, `consent_challenge`, `csrf_token`, `action`) are a contract.

use askama::Template;

/// What every page needs from the layout (`base.html`).
#[derive(Debug, Clone)]
pub struct Layout {
    /// BCP 47 tag for `<html lang>`.
    pub lang: String,
    /// The `<title>` and main heading of the page.
    pub title: String,
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
    /// Who is signed in ("ada@example.com"), shown so a user notices the wrong account.
    pub account: String,
    pub scopes: Vec<ScopeItem>,
    /// Requested access-token audiences (APIs).
    pub audiences: Vec<String>,
    pub consent_challenge: String,
    pub csrf_token: String,
    /// "for 1 hour", shown next to the remember checkbox.
    pub remember_for: String,
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
