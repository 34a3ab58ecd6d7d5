//! Kratos session and identity as Hera reads them.
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
}
