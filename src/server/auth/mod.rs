//! Credentials: password hashing, session tokens, and how a request carries
//! them (cookie or bearer).

pub mod audit_key;
pub mod common_passwords;
pub mod credentials;
pub mod forwarded;
pub mod key_file;
pub mod oidc;
pub mod password;
pub mod secret_box;
pub mod token;
pub mod totp;
