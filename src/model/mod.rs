//! Hera's own types for what Hydra and Kratos tell it, and for the values browsers hand it
//! (challenges, device user codes). Plain data with small helpers: no I/O, no HTTP. The `ory`
//! layer maps the upstream APIs into these; decisions (`domain`) and the roles read them.

pub mod challenge;
pub mod flow;
pub mod hydra;
pub mod kratos;
pub mod user_code;

pub use challenge::{Challenge, ChallengeError};
pub use hydra::{
    Client, ConsentAccept, ConsentRequest, ConsentSession, LoginAccept, LoginRequest,
    LogoutRequest, OAuthRejection, OidcContext, RedirectTo,
};
pub use kratos::{
    AuthenticationMethod, BrowserFlow, Device, Identity, KratosFlow, Session, SessionCredentials,
    VerifiableAddress, Whoami,
};
pub use user_code::{UserCode, UserCodeError};

use sha2::{Digest, Sha256};

/// The first 12 hex digits of SHA-256: enough to correlate log lines, useless to an attacker.
pub fn short_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    digest
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
