//! The provider role: Hydra's login, consent, logout and device-verification pages, Kratos's
//! sign-in, sign-up, recovery, verification and settings pages, the home page, connected apps
//! and signed-in devices, with their state, error pages, texts and Hera's own cookie.

pub mod assets;
pub mod brand;
pub mod claims_preview;
pub mod error;
pub mod i18n;
pub mod kratos_texts;
pub mod routes;
pub mod scopes;
pub mod session;
pub mod state;
pub mod theme;
pub mod views;

pub use error::ErrorPages;
pub use routes::{configure, not_found};
pub use state::{texts, KratosLogout, Settings, State};
