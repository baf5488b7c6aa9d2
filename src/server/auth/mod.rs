//! Credentials: password hashing, session tokens, and how a request carries
//! them (cookie or bearer).

pub mod credentials;
pub mod password;
pub mod token;
