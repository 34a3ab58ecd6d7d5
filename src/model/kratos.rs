//! What Kratos tells Hera, in Hera's own terms: sessions, identities, what `whoami` said about
//! a browser, and the browser flows Hera sends people through.
//!
//! These are Hera's own types, deserialised straight from Kratos JSON instead of through
//! `ory-kratos-client` models: the generated models use closed enums
//! (`SessionAuthenticationMethod.method`, `IdentityCredentials.type`) that reject methods and
//! credential types Kratos already emits (`deviceauthn`, `identifier_first`, …), which would turn a
//! valid session into an upstream error. Unknown values are kept as strings here.

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

/// A Kratos identity (`GET /admin/identities/{id}` or `session.identity`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Identity {
    pub id: String,
    /// `active` or `inactive`; absent on very old Kratos versions.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub traits: Value,
    #[serde(default)]
    pub verifiable_addresses: Vec<VerifiableAddress>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

impl Identity {
    /// True unless Kratos says the identity is not `active`.
    pub fn is_active(&self) -> bool {
        self.state.as_deref().is_none_or(|state| state == "active")
    }

    /// The trait `name` as a string, when it is one.
    pub fn trait_str(&self, key: &str) -> Option<&str> {
        self.traits.get(key).and_then(Value::as_str)
    }

    /// What people know their account by: the `email` trait, or the identity id.
    pub fn account_label(&self) -> String {
        self.trait_str("email")
            .filter(|email| !email.trim().is_empty())
            .map_or_else(|| self.id.clone(), str::to_owned)
    }
}

/// One entry of `identity.verifiable_addresses`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct VerifiableAddress {
    pub value: String,
    #[serde(default)]
    pub verified: bool,
    /// `email` or `sms`.
    #[serde(default)]
    pub via: String,
}

/// One entry of `session.authentication_methods`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AuthenticationMethod {
    /// `password`, `oidc`, `totp`, `webauthn`, … (kept open: Kratos adds methods over time).
    pub method: String,
    #[serde(default)]
    pub aal: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
}

/// A Kratos session (`GET /sessions/whoami`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Session {
    pub id: String,
    #[serde(default)]
    pub active: bool,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub authenticated_at: Option<OffsetDateTime>,
    /// `aal0` … `aal3`, kept open.
    #[serde(default, rename = "authenticator_assurance_level")]
    pub aal: Option<String>,
    #[serde(default)]
    pub authentication_methods: Vec<AuthenticationMethod>,
    pub identity: Identity,
    /// When the session was issued (`issued_at`).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub issued_at: Option<OffsetDateTime>,
    /// The browsers and devices that used the session (whoami and `GET /sessions` expand them).
    #[serde(default)]
    pub devices: Vec<Device>,
}

/// A browser or device that used a session (`session.devices[]`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Device {
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Where the request came from, as Kratos's `location` header setting names it; often empty.
    #[serde(default)]
    pub location: Option<String>,
}

impl Session {
    /// True when the session was authenticated with a second factor (`aal2`, or above).
    pub fn is_aal2(&self) -> bool {
        matches!(self.aal.as_deref(), Some("aal2" | "aal3"))
    }
}

/// What `GET /sessions/whoami` said about the browser.
#[derive(Debug, Clone, PartialEq)]
pub enum Whoami {
    /// An active session.
    Active(Box<Session>),
    /// 401 (no, invalid, expired or inactive session), or a 200 whose session is not active.
    Unauthenticated,
    /// 403 `session_aal2_required`: signed in, but a second factor is needed.
    Aal2Required,
}

/// The credentials a caller presented, forwarded to Kratos unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionCredentials {
    /// The raw `Cookie` header (Hera's own cookie removed).
    pub cookie: Option<String>,
    /// `X-Session-Token`.
    pub session_token: Option<String>,
    /// The raw `Authorization` header (`Bearer <token>`).
    pub authorization: Option<String>,
}

impl SessionCredentials {
    pub fn is_empty(&self) -> bool {
        self.cookie.is_none() && self.session_token.is_none() && self.authorization.is_none()
    }
}

/// One of Kratos's browser self-service flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KratosFlow {
    Login,
    Registration,
    Recovery,
    Verification,
    Settings,
}

impl KratosFlow {
    /// Every kind, in the order Kratos documents them.
    pub const ALL: [KratosFlow; 5] = [
        KratosFlow::Login,
        KratosFlow::Registration,
        KratosFlow::Recovery,
        KratosFlow::Verification,
        KratosFlow::Settings,
    ];

    /// The flow's name in Kratos's paths (`/self-service/<name>/browser`) and in Hera's
    /// (`/<name>`).
    pub fn name(self) -> &'static str {
        match self {
            KratosFlow::Login => "login",
            KratosFlow::Registration => "registration",
            KratosFlow::Recovery => "recovery",
            KratosFlow::Verification => "verification",
            KratosFlow::Settings => "settings",
        }
    }
}

/// A trip through one of Kratos's browser flows, back to Hera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrowserFlow {
    pub kind: KratosFlow,
    /// Force re-authentication even with a session.
    pub refresh: bool,
    /// Ask for a second factor.
    pub aal2: bool,
}

impl BrowserFlow {
    /// A plain sign-in.
    pub fn login() -> Self {
        BrowserFlow {
            kind: KratosFlow::Login,
            refresh: false,
            aal2: false,
        }
    }

    /// Account creation.
    pub fn registration() -> Self {
        BrowserFlow {
            kind: KratosFlow::Registration,
            ..BrowserFlow::login()
        }
    }
}
