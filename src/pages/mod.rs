//! One module per page.

mod auth;
mod not_found;
mod organizations;

pub use auth::{LoginPage, RegisterPage};
pub use not_found::NotFound;
pub use organizations::OrganizationsPage;
