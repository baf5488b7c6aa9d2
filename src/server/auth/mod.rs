//! Credentials: password hashing, session tokens, and how a request carries
//! them (cookie or bearer).

pub mod common_passwords;
pub mod credentials;
pub mod forwarded;
pub mod oidc;
pub mod password;
pub mod token;
pub mod totp;
