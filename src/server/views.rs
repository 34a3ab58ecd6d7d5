//! Askama view structs: one per page, display-ready data only (no SDK types).
//!
//! Operators may restyle the templates; the form field names are a contract: `consent.html`
//! (`grant_scope`, `remember`, `consent_challenge`, `csrf_token`, `action`), `logout.html`
//! (`logout_challenge`, `csrf_token`, `action`), `device_verify.html` (`device_challenge`,
//! `user_code`, `csrf_token`), `connected_apps.html` (`client_id`, `csrf_token`) and
//! `sessions.html` (`session_id`, `csrf_token`). `flow.html` posts Kratos's own field names
//! straight to Kratos.

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
    /// The id of the error Kratos recorded, when the page explains one, for support.
    pub reference: Option<String>,
    /// Where "Start again" leads (one of Hera's own pages), when starting again helps.
    pub start_again: Option<String>,
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
    /// Hera's sign-in page, returning here (signed out only).
    pub sign_in_url: Option<String>,
    /// Hera's sign-up page (signed out only).
    pub sign_up_url: Option<String>,
    /// Signed in, but a second factor is needed first.
    pub needs_second_factor: bool,
    /// A signed-in person's email address that is not verified yet.
    pub unverified: Option<String>,
}

/// One of Kratos's self-service flows (`/login?flow=`, `/registration`, `/recovery`,
/// `/verification`, `/settings`), rendered from its nodes.
///
/// The form field names are Kratos's own (the forms post straight to Kratos), so this page has
/// no field contract of its own.
#[derive(Template, Debug)]
#[template(path = "flow.html")]
pub struct FlowPage {
    pub layout: Layout,
    /// "Sign in to continue to Acme Notes", when the flow serves an application signing in.
    pub intro: Option<String>,
    /// That application (https logos only).
    pub app: Option<AppBadge>,
    /// Messages about the whole flow, shown on top.
    pub messages: Vec<MessageView>,
    /// A sentence Hera adds (an aal2 flow with nothing to confirm with).
    pub note: Option<String>,
    pub sections: Vec<SectionView>,
    /// The forms' action (Kratos's `ui.action`, checked) and method.
    pub action: String,
    pub method: &'static str,
    /// Hidden fields every form carries (`csrf_token`, hidden traits).
    pub shared: Vec<HiddenField>,
    /// Kratos's scripts (its WebAuthn script), each allowed by the page's CSP.
    pub scripts: Vec<ScriptView>,
    /// Hera's own script, when a section needs Kratos's script.
    pub hera_script: Option<&'static str>,
    /// Links to the neighbouring pages ("Forgot your password?").
    pub links: Vec<LinkView>,
}

/// A message Kratos sent, in the page's language.
#[derive(Debug, Clone)]
pub struct MessageView {
    pub text: String,
    /// `info`, `error` or `success` (a CSS class and the live region's role).
    pub kind: &'static str,
}

/// One method's part of a flow page: a form, or plain content (a "continue" link).
#[derive(Debug, Clone)]
pub struct SectionView {
    /// `section-<group>`: unique on the page.
    pub id: String,
    /// The method's heading (settings pages).
    pub heading: Option<String>,
    /// Shown after an "or" separating it from the section before.
    pub separated: bool,
    pub is_form: bool,
    /// Hidden until Hera's script has wired Kratos's WebAuthn functions to its buttons.
    pub needs_script: bool,
    pub fields: Vec<FieldView>,
}

/// One node of a flow, ready to render.
#[derive(Debug, Clone)]
pub enum FieldView {
    Hidden(HiddenField),
    Input(InputView),
    Checkbox(InputView),
    /// A row of buttons.
    Actions(Vec<ButtonView>),
    Image(ImageView),
    Link(LinkView),
    /// A secret to copy (the TOTP key).
    Secret(SecretView),
    /// Backup codes.
    Codes(CodesView),
    /// A node Hera shows only by its label, text and messages (an unknown node type, a field
    /// Kratos sent only to carry a message).
    Note(NoteView),
    /// A `div` node's container (a captcha's place).
    Container(String),
}

#[derive(Debug, Clone)]
pub struct HiddenField {
    pub name: String,
    pub value: String,
    /// A function of Kratos's script to run once the page is ready (passkey autofill).
    pub onload: Option<String>,
}

/// A text field, or a checkbox.
#[derive(Debug, Clone)]
pub struct InputView {
    pub id: String,
    pub name: String,
    pub input_type: String,
    /// Never a password.
    pub value: Option<String>,
    pub label: String,
    pub required: bool,
    pub disabled: bool,
    pub autocomplete: Option<String>,
    pub inputmode: Option<&'static str>,
    pub pattern: Option<String>,
    pub maxlength: Option<u64>,
    pub autofocus: bool,
    /// Identifiers, emails and codes: no auto-capitalisation or spell checking.
    pub verbatim: bool,
    /// Checkboxes: ticked.
    pub checked: bool,
    /// Shown under the field and tied to it with `aria-describedby`.
    pub messages: Vec<MessageView>,
    /// An error message is among them (`aria-invalid`).
    pub invalid: bool,
}

#[derive(Debug, Clone)]
pub struct ButtonView {
    pub name: String,
    pub value: String,
    pub label: String,
    /// The method's main action.
    pub primary: bool,
    /// A secondary action ("Back", "Send the code again") skips the browser's checks of the
    /// form's required fields.
    pub formnovalidate: bool,
    /// The function of Kratos's script this button runs (a `type="button"`).
    pub trigger: Option<String>,
    /// A function of Kratos's script to run once the page is ready (passkey autofill).
    pub onload: Option<String>,
    pub disabled: bool,
    pub messages: Vec<MessageView>,
}

/// The TOTP QR code: a `data:` image.
#[derive(Debug, Clone)]
pub struct ImageView {
    pub id: String,
    pub src: String,
    pub alt: String,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone)]
pub struct LinkView {
    pub href: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct SecretView {
    pub id: String,
    pub label: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct CodesView {
    pub id: String,
    pub label: Option<String>,
    /// Each code, and whether it was used.
    pub codes: Vec<(String, bool)>,
}

#[derive(Debug, Clone)]
pub struct NoteView {
    pub label: Option<String>,
    pub text: Option<String>,
    pub messages: Vec<MessageView>,
}

/// Kratos's `script` node, allowed by the page's CSP.
#[derive(Debug, Clone)]
pub struct ScriptView {
    pub src: String,
    pub integrity: String,
    pub crossorigin: String,
    pub referrerpolicy: String,
    pub is_async: bool,
}

/// One of the signed-in person's sessions on `/sessions`.
#[derive(Debug, Clone)]
pub struct SessionItem {
    /// "Firefox on Linux".
    pub device: String,
    /// "(Firefox on Linux, signed in 2 January 2026, 14:05 UTC)": which device a button ends,
    /// for screen readers.
    pub summary: String,
    /// "2 January 2026, 14:05 UTC".
    pub signed_in: Option<String>,
    pub second_factor: bool,
    pub ip: Option<String>,
    pub place: Option<String>,
    /// The "sign out this device" form: the session id and its CSRF token (none for the
    /// browser's own session).
    pub end: Option<(String, String)>,
}

/// `GET /sessions`.
#[derive(Template, Debug)]
#[template(path = "sessions.html")]
pub struct SessionsPage {
    pub layout: Layout,
    pub account: String,
    pub current: SessionItem,
    pub others: Vec<SessionItem>,
    /// The "sign out all other devices" form's CSRF token, when there are others.
    pub end_others_token: Option<String>,
    /// Kratos's logout URL for this browser.
    pub sign_out_url: Option<String>,
    pub confirmation: Option<String>,
    pub problem: Option<String>,
}
