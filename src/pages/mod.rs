//! One module per page.

mod account;
mod auth;
mod not_found;
mod organizations;

pub use account::{AccountPage, MfaRequiredPage, PasswordRequiredPage};
pub use auth::{LoginPage, MfaStepPage, RegisterPage};
pub use not_found::NotFound;
pub use organizations::OrganizationsPage;
