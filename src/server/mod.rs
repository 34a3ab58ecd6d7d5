//! The provider role: Hydra's login, consent, logout and device-verification pages, the home
//! page and connected apps, with their state, error pages, texts and Hera's own cookie.

pub mod assets;
pub mod brand;
pub mod claims_preview;
pub mod error;
pub mod i18n;
pub mod rate_limit;
pub mod routes;
pub mod scopes;
pub mod session;
pub mod state;
pub mod theme;
pub mod views;

pub use error::ErrorPages;
pub use routes::{configure, not_found};
pub use state::{texts, KratosLogout, Settings, State};
